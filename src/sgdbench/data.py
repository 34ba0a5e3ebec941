"""The chapter's data: two moons, a second real data set (digits), and Algorithm 11's batches.

Chapter, "Training with SGD in Pytorch": the data are ``make_moons(n_samples=1000, noise=0.2,
random_state=42)``, standardised on *all* points, then split 80/20 with ``random_state=42``;
"the DataLoader takes care of dividing the data in batches for every epoch".

:class:`Batches` is that DataLoader without its per-sample Python work: it yields the same
batches, bit for bit, in the same order, and draws the same random numbers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from sgdbench._checks import check_int, check_range

__all__ = ["DIGITS_TRAIN", "Batches", "Split", "digits", "two_moons"]

#: The digits regime (issue "a second, real dataset"): 200 training images, 20 per class, the
#: other 1,597 for testing. Fixed before any claim was judged on digits, from a pilot that
#: looked only at whether overfitting is real there (docs/claims.md, "Digits").
DIGITS_TRAIN = 200

# For checking the benchmark regression gate only: SGDBENCH_INJECT_SLOWDOWN_US=50 makes every
# batch Batches yields cost 50 µs more (a busy wait). Read once, at import; 0 adds nothing.
_SLOWDOWN_S = float(os.environ.get("SGDBENCH_INJECT_SLOWDOWN_US", "0")) * 1e-6


def _slowed(batches: Iterator[tuple[Tensor, Tensor]]) -> Iterator[tuple[Tensor, Tensor]]:
    for batch in batches:
        end = time.perf_counter() + _SLOWDOWN_S
        while time.perf_counter() < end:
            pass
        yield batch


@dataclass(frozen=True)
class Split:
    """Train and test tensors of one data set: float32 features, int64 labels."""

    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    y_test: Tensor

    def to(self, device: torch.device | str) -> Split:
        """The same split with every tensor on ``device``."""
        return Split(
            *(t.to(device) for t in (self.X_train, self.y_train, self.X_test, self.y_test))
        )

    @property
    def device(self) -> torch.device:
        return self.X_train.device

    @property
    def classes(self) -> int:
        """Number of classes: one more than the largest label in either set."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def features(self) -> int:
        return int(self.X_train.shape[1])


def two_moons(
    n_samples: int = 1000,
    noise: float = 0.2,
    test_size: float = 0.2,
    random_state: int = 42,
) -> Split:
    """The chapter's two-moons pipeline, exactly as the seed code writes it.

    ``make_moons`` → ``StandardScaler().fit_transform`` on all points (before the split, as the
    chapter does) → ``train_test_split(test_size, random_state)`` → float32 / int64 tensors.
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    check_int("n_samples", n_samples, minimum=4)
    check_range("noise", noise, low=0.0)
    check_range("test_size", test_size, low=0.0, high=1.0, low_open=True, high_open=True)
    check_int("random_state", random_state, minimum=0)

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state
    )
    return Split(
        X_train=torch.tensor(X_train, dtype=torch.float32),
        y_train=torch.tensor(y_train, dtype=torch.long),
        X_test=torch.tensor(X_test, dtype=torch.float32),
        y_test=torch.tensor(y_test, dtype=torch.long),
    )


def digits(n_train: int = DIGITS_TRAIN, random_state: int = 42) -> Split:
    """scikit-learn's 8×8 handwritten digits (1,797 images, 10 classes, no download) through
    the chapter's pipeline: ``StandardScaler`` on all images (before the split, as the chapter
    scales two moons), then a stratified ``train_test_split`` with ``n_train`` training images.

    Features are the 64 pixel intensities (0–16); pixels that are 0 in every image keep 0
    (``StandardScaler`` leaves a zero variance unscaled).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    check_int("n_train", n_train, minimum=10)
    check_int("random_state", random_state, minimum=0)
    data = load_digits()
    if n_train > len(data.target) - 10:
        raise ValueError(
            f"`n_train` must leave at least 10 test images of the {len(data.target)}, but got "
            f"{n_train}"
        )
    X = StandardScaler().fit_transform(data.data)
    X_train, X_test, y_train, y_test = train_test_split(
        X, data.target, train_size=n_train, stratify=data.target, random_state=random_state
    )
    return Split(
        X_train=torch.tensor(X_train, dtype=torch.float32),
        y_train=torch.tensor(y_train, dtype=torch.long),
        X_test=torch.tensor(X_test, dtype=torch.float32),
        y_test=torch.tensor(y_test, dtype=torch.long),
    )


class Batches:
    """Mini-batches of ``(X, y)``: Algorithm 11, "divide the data into mini-batches".

    Iterating yields one epoch. The batches, their order and every random draw are those of
    ``DataLoader(TensorDataset(X, y), batch_size, shuffle=shuffle, drop_last=drop_last,
    generator=generator)`` with ``num_workers=0`` (checked bit for bit in tests/ and
    properties/). Per epoch DataLoader draws, in this order (torch/utils/data/dataloader.py,
    ``_BaseDataLoaderIter.__init__``, and sampler.py, ``RandomSampler.__iter__``):

    1. at ``iter()``: a base seed for workers, ``random_()`` on an int64 scalar from
       ``generator`` (the global CPU RNG when ``generator`` is None), used or not;
    2. at the first batch, with ``shuffle=True`` and ``generator=None``: one more int64 from the
       global RNG, which seeds a private ``torch.Generator``;
    3. ``randperm(n)`` from that generator, the epoch's order;
    4. when the epoch is exhausted, a second ``randperm(n)`` (RandomSampler computes it for
       ``num_samples % n == 0`` leftover samples and discards it). With a user generator this
       advances the generator, so it is drawn here too; with a private one it is invisible and
       skipped.

    The work per epoch is one gather (``X[perm]``) on the tensors' own device and views of it;
    without shuffling, batches are views of ``X`` and ``y`` themselves.
    """

    def __init__(
        self,
        X: Tensor,
        y: Tensor,
        batch_size: int,
        *,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if not isinstance(X, Tensor) or not isinstance(y, Tensor):
            raise TypeError(
                f"`X` and `y` must be torch.Tensor, but got {type(X).__name__} "
                f"and {type(y).__name__}"
            )
        if X.dim() == 0 or y.dim() == 0:
            raise ValueError("`X` and `y` must have a first (sample) dimension, but one is 0-d")
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"`X` and `y` must have the same length, but got {X.shape[0]} and {y.shape[0]}"
            )
        if X.shape[0] == 0:
            raise ValueError("`X` and `y` are empty: a data set needs at least one sample")
        check_int("batch_size", batch_size, minimum=1)
        if not isinstance(shuffle, bool) or not isinstance(drop_last, bool):
            raise TypeError("`shuffle` and `drop_last` must be bool")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator or None, but got {type(generator).__name__}"
            )
        if generator is not None and generator.device.type != "cpu":
            raise ValueError(
                f"`generator` must be a CPU generator (DataLoader shuffles on the CPU), "
                f"but got one on {generator.device}"
            )
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        n = X.shape[0]
        self._n = n
        # Batch boundaries are fixed for the life of the object: compute them once.
        stop = n - n % batch_size if drop_last else n
        self._bounds = [(i, min(i + batch_size, n)) for i in range(0, stop, batch_size)]

    def __len__(self) -> int:
        """Batches per epoch, as ``len(DataLoader)``."""
        return len(self._bounds)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        # (1) DataLoader draws its base seed when the iterator is created, not at first batch.
        torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        return _slowed(self._epoch()) if _SLOWDOWN_S else self._epoch()

    def _epoch(self) -> Iterator[tuple[Tensor, Tensor]]:
        X, y = self.X, self.y
        if self.shuffle:
            generator = self.generator
            if generator is None:  # (2) RandomSampler seeds a private generator
                seed = int(torch.empty((), dtype=torch.int64).random_().item())
                generator = torch.Generator().manual_seed(seed)
            perm = torch.randperm(self._n, generator=generator)  # (3)
            perm = perm.to(X.device, non_blocking=True)
            X, y = X[perm], y[perm]
        # (4) The discarded randperm happens when the sampler runs dry: while the last batch
        # is gathered if it is a partial one DataLoader keeps, else at the next() after it.
        late_draw = self.shuffle and self.generator is not None
        early = late_draw and not self.drop_last and self._n % self.batch_size != 0
        if self._bounds:  # empty only with drop_last and n < batch_size, as in DataLoader
            *head, (i, j) = self._bounds
            for h, k in head:
                yield X[h:k], y[h:k]
            if early:
                torch.randperm(self._n, generator=self.generator)
            yield X[i:j], y[i:j]
        if late_draw and not early:
            torch.randperm(self._n, generator=self.generator)

    def __repr__(self) -> str:
        return (
            f"Batches(n={self._n}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, generator={'given' if self.generator else None})"
        )
