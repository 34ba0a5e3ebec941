"""Which torch releases the matrix covers, how each is named and how each is installed.

A release is named as pip names it: ``2.4.1`` is PyPI's build (on Linux x86-64 a CUDA build,
with about 3 GB of ``nvidia-*`` libraries, run here on the CPU); ``2.13.0+cpu`` is the CPU-only
wheel (only 2.13.0 has one on this machine, in ``/opt/wheels``). The two builds of one release
are different binaries: their instruction counts are labelled by build, and compared as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["DEFAULT_RELEASES", "MINIMUM", "PINS", "Release", "parse_releases"]

# The oldest release pyproject.toml declares (``torch>=2.2``) up to the newest on PyPI when this
# was written (2.15.0), about every second minor release, and 2.13.0 in both builds (the only
# release with a CPU wheel here: the pair shows what the build alone changes).
DEFAULT_RELEASES = ("2.2.2", "2.4.1", "2.6.0", "2.9.1", "2.11.0", "2.13.0", "2.13.0+cpu", "2.15.0")
# sgdbench declares torch>=2.2; an older release would check a torch the package does not
# support (and 2.0/2.1 lack SGD's fused path and parts of torch.compile the suite names).
MINIMUM = (2, 2)
# Extra requirements per minor release, each with its reason.
PINS: dict[tuple[int, int], tuple[str, ...]] = {
    # torch 2.2 was built against NumPy 1.x: with NumPy 2 its import prints "A module that was
    # compiled using NumPy 1.x cannot be run in NumPy 2.0.0 as it may crash" and NumPy interop
    # fails (TorchIO-project/torchio#1183 pins numpy<2 for torch 2.2 for this reason).
    (2, 2): ("numpy<2",),
}
_SPEC = re.compile(r"^(\d+)\.(\d+)\.(\d+)(\+cpu)?$")


@dataclass(frozen=True)
class Release:
    """One torch release in one build: ``version`` (2.4.1) and ``build`` (``cuda`` or ``cpu``)."""

    major: int
    minor: int
    patch: int
    build: str = "cuda"  # PyPI's default Linux build; "cpu" for the +cpu wheel

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def label(self) -> str:
        """How the matrix names the column (and how the command line names the release)."""
        return self.version + ("+cpu" if self.build == "cpu" else "")

    def requirements(self) -> list[str]:
        """What pip installs for this release: torch at exactly this version, and its pins."""
        return [f"torch=={self.label}", *PINS.get((self.major, self.minor), ())]

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        """Release order; the CUDA build of a version before its CPU build."""
        return (self.major, self.minor, self.patch, self.build == "cpu")


def parse_release(text: str) -> Release:
    """``2.4.1`` or ``2.13.0+cpu``, ≥ MINIMUM; ValueError naming the argument otherwise."""
    m = _SPEC.match(text.strip())
    if not m:
        raise ValueError(
            f"release must be MAJOR.MINOR.PATCH or MAJOR.MINOR.PATCH+cpu (e.g. 2.4.1, "
            f"2.13.0+cpu), but got {text!r}"
        )
    major, minor, patch = (int(g) for g in m.groups()[:3])
    if (major, minor) < MINIMUM:
        raise ValueError(
            f"release must be ≥ {MINIMUM[0]}.{MINIMUM[1]} (pyproject.toml: torch>=2.2), "
            f"but got {text!r}"
        )
    return Release(major, minor, patch, "cpu" if m.group(4) else "cuda")


def parse_releases(texts: list[str] | tuple[str, ...]) -> list[Release]:
    """The releases named, in release order; ValueError on a bad one or a repeated one."""
    releases = [parse_release(t) for t in texts]
    labels = [r.label for r in releases]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise ValueError(f"release given more than once: {repeated}")
    return sorted(releases, key=lambda r: r.sort_key)
