"""What a dropout's author declares beside the dropout itself: whether it works in place, and
its mask structure. The declared ones are requirements; the others are reported as facts, as
the weight-decay form is for optimizers."""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from sgdbench.conformance._impl import DropoutUnderTest
from sgdbench.conformance._runner import Check, Variant
from sgdbench.conformance.dropout._harness import Case, _activations, _check, _x, seeds
from sgdbench.conformance.dropout._masks import LEAST_RANK, STRUCTURES
from sgdbench.conformance.dropout.independence import assert_structure


@_check(
    "inplace",
    'torch.nn.Dropout, torch.nn.functional.dropout: "inplace: If set to True, will do this '
    'operation in-place. Default: False": declared in-place, the output is written into the '
    "input; not declared, the input is left unchanged (reported as a fact)",
    cases=lambda impl, v: st.builds(
        lambda case, p: {**case, "p": p},
        _activations(impl, v, nonzero=True, batched=True),
        st.floats(0.1, 0.9),
    ),
    fact_only=lambda impl: not impl.inplace,
)
def inplace(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
    """One training-mode call on x itself (every other check calls on a fresh copy).

    Declared in-place: afterwards x holds the output (the returned tensor is x, shares its
    storage, or equals it). Not declared: x is left unchanged. An undeclared mutation is a
    *fact*, not a failure: the output is still judged right or wrong by the other checks, on
    copies; what the caller needs to know is that the tensor it passed was overwritten, so
    the report says where and how, and a user who means it declares ``inplace``.

    Exact: x has no zeros and p ∈ [0.1, 0.9], so the output differs from x at every unit
    (kept: x/(1 − p); dropped: 0), and an input left unchanged never equals the output.
    """
    x, p = _x(case, variant), case["p"]
    before = x.clone()
    torch.manual_seed(case["seed"])
    out = impl.apply_to(x, p, True).detach()
    call = f"{impl.name}(x, p={p}, training=True) {variant}"
    if impl.inplace:
        if not torch.equal(x, out):
            i = tuple((x != out).nonzero()[0].tolist())
            raise AssertionError(
                f"declared in-place, but after the call the input is {x[i].item()!r} at "
                f"{list(i)} and the output {out[i].item()!r} (the input before: "
                f"{before[i].item()!r}): the output was not written into the input [{call}]"
            )
        return
    changed = x != before
    if changed.any():
        i = tuple(changed.nonzero()[0].tolist())
        raise AssertionError(
            f"the input was changed in place: x{list(i)} was {before[i].item()!r} before the "
            f"call and {x[i].item()!r} after it ({int(changed.sum())} of {x.numel()} units "
            f"changed; the output there: {out[i].item()!r}), but it is not declared in-place "
            f"[{call}]"
        )


CITES = {
    "element": 'Algorithm 12: "sample u ~ U([0, 1])^d": one independent draw per unit',
    "channel": 'torch.nn.Dropout1d/2d/3d: "Randomly zero out entire channels … Each channel '
    'will be zeroed out independently on every forward call": one draw per sample and '
    "channel (dim 1), constant over the spatial dims",
    "sample": 'Stochastic depth (torchvision.ops.stochastic_depth, mode="row": "zeroes '
    'randomly selected rows from the batch"): one draw per sample (dim 0)',
}


def _structure_check(structure: str) -> Check:
    def not_applicable(impl: DropoutUnderTest) -> str | None:
        if impl.structure == structure:
            return "the declared structure: dropout.independent_units checks it"
        if impl.rank < LEAST_RANK[structure]:
            return f"at rank {impl.rank} the {structure} structure is the element structure"
        return None

    def body(impl: DropoutUnderTest, case: Case, variant: Variant) -> None:
        """The mask has this structure (:func:`.independence.assert_structure`); reported as
        a fact, since it is not the declared one (that is independent_units')."""
        assert_structure(impl, structure, case, variant)

    return _check(
        f"structure_{structure}",
        CITES[structure] + " (reported as a fact unless declared)",
        cases=lambda impl, v: st.fixed_dictionaries({"p": st.floats(0.1, 0.9), "seed": seeds}),
        applicable=not_applicable,
        # A fact where it applies; n/a (declared, or the rank too low) reads as n/a.
        fact_only=lambda impl: not_applicable(impl) is None,
    )(body)


STRUCTURE_CHECKS = [_structure_check(s) for s in STRUCTURES]
