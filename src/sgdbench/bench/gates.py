"""The two regression gates: a run's wall-time ratios, and its instruction counts.

Wall time (:func:`wall_time`) is judged on same-run ratios only (absolute times drift with the
machine's load); instructions (:func:`instructions`) on every case's own count too, against a
reference with the same fingerprint (the committed baseline, or the base commit counted in the
same job). With counts, ``bench-report`` gates on instructions and the wall-time verdict only
warns (docs/gate.md says why, with the figures).
"""

from __future__ import annotations

from typing import Any

from sgdbench.bench import counts as c
from sgdbench.bench.run import Ratio

__all__ = ["AA_FACTOR", "GATE", "INSTRUCTION_THRESHOLD", "instructions", "threshold", "wall_time"]

# The figures the gate tracks: each is sgdbench's code over torch's doing the same work (or SGD
# over GD, both through Batches), timed in the same rounds, so "higher" always means "got slower".
# Thresholds: max(15 %, 5 × CV), CV measured over 6 default runs on the 2-core CI machine
# (docs/gate.md): a change between two runs has sd ≈ √2·CV, so 5·CV is 3.5 sd.
GATE = (
    Ratio("test_iteration_cost[cpu-n800]", "Batches", "DataLoader", 0.22),  # CV 4.4 %
    Ratio("test_epoch_cost[cpu-n800]", "SGD-32 Batches", "SGD-32 DataLoader", 0.15),  # 1.4 %
    Ratio("test_epoch_cost[cpu-n800]", "GD Batches", "GD DataLoader", 0.15),  # 2.0 %
    Ratio("test_epoch_cost[cpu-n800]", "SGD-32 Batches", "GD Batches", 0.22),  # 4.4 %
    Ratio("test_train_test_overhead", "train_test", "bare loop", 0.15),  # 1.8 %
    Ratio("test_reference_sgd_cost", "reference.SGD", "torch.optim.SGD", 0.15),  # 2.1 %
)

# The floor of the instruction gate's threshold: the gate fails on a relative worsening above
# max(1 %, 3 × the run's A/A spread) of any case's count or same-run ratio. Measured here
# (docs/instructions.md): two counts of the same code in separate processes differ by at most
# 0.0x % (the A/A spread), a baseline from another day by ≤ 0.30 %; one injected tensor op per
# training step (+2.5 % on an SGD-32 epoch) is 2.5 times above the floor.
INSTRUCTION_THRESHOLD = 0.01
AA_FACTOR = 3


def wall_time(
    run: dict[str, Any], baseline: dict[str, Any], threshold: float | None = None
) -> tuple[bool, list[str]]:
    """(passed, markdown table rows) comparing ``run``'s tracked ratios with ``baseline``'s.

    ``threshold`` overrides every ratio's own threshold when given.
    """
    rows = [
        "| tracked ratio (higher = slower) | baseline | this run | change | threshold | verdict |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    passed, compared = True, 0
    for ratio in GATE:
        new, old = ratio.measure(run), ratio.measure(baseline)
        if new is None or old is None:
            rows.append(
                f"| {ratio} | {'—' if old is None else f'{old[0]:.3f}'} | "
                f"{'—' if new is None else f'{new[0]:.3f}'} | | not in both runs |"
            )
            continue
        compared += 1
        limit = ratio.threshold if threshold is None else threshold
        change = new[0] / old[0] - 1
        bad = change > limit
        passed &= not bad
        verdict = "**REGRESSION**" if bad else "ok"
        rows.append(
            f"| {ratio} | {old[0]:.3f} | {new[0]:.3f} | {change:+.1%} | +{limit:.0%} | {verdict} |"
        )
    if compared == 0:
        raise ValueError("the run and the baseline share no tracked ratio: nothing to compare")
    return passed, rows


def threshold(run: dict[str, Any]) -> tuple[float, float | None]:
    """(threshold, A/A spread): max(1 %, 3 × the spread between the run's two counts of the
    same code); the floor alone, and None, when the run carries no second count."""
    aa = run.get("aa")
    if not isinstance(aa, dict) or not isinstance(aa.get("cases"), dict):
        return INSTRUCTION_THRESHOLD, None
    spread = c.aa_spread(run, aa)
    return max(INSTRUCTION_THRESHOLD, AA_FACTOR * spread), spread


def instructions(
    run: dict[str, Any], reference: dict[str, Any], limit: float | None = None
) -> tuple[bool, list[str]]:
    """(passed, markdown rows): every case's count and every ratio against the reference.

    The reference is the committed baseline or a paired base commit (``benchmarks/gate.py``
    says which in its ``"reference"``). ``limit`` defaults to :func:`threshold`. Counts whose
    fingerprints differ are not comparable: the changes are shown and the gate *fails*, saying
    so; it never passes unjudged.
    """
    differs = c.comparable(run, reference)
    about = reference.get("reference") or {}
    label = about.get("label", "the baseline")
    auto, spread = threshold(run)
    given = limit is not None and limit != auto
    limit = auto if limit is None else limit
    if differs:
        rows = [
            f"**Cannot judge** against {label}: the fingerprints differ ({'; '.join(differs)}). "
            "The gate fails; `python -m benchmarks.gate` pairs with the base commit instead.",
            "",
        ]
    else:
        why = f" ({about['why']})" if about.get("why") else ""
        rows = [f"Judged against {label}{why}.", ""]
    rows += [
        "| instructions (higher = slower) | reference | this run | change | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    passed = not differs
    items: list[tuple[str, float | None, float | None, str]] = [
        (f"{case} (per epoch)", c.median(reference, case), c.median(run, case), "M")
        for case in run["cases"]
    ]
    items += [
        (f"{n} / {d}", c.ratio(reference, n, d), c.ratio(run, n, d), "x") for n, d in c.RATIOS
    ]
    judged = 0
    for name, old, new, unit in items:
        if old is None or new is None:
            rows.append(f"| {name} | {_fmt(old, unit)} | {_fmt(new, unit)} | | not in both |")
            continue
        judged += 1
        change = new / old - 1
        bad = change > limit
        passed &= not bad
        verdict = "—" if differs else ("**REGRESSION**" if bad else "ok")
        rows.append(
            f"| {name} | {_fmt(old, unit)} | {_fmt(new, unit)} | {change:+.2%} | {verdict} |"
        )
    if judged == 0:
        passed = False
        rows.append(f"No case is in both the run and {label}: nothing judged; the gate fails.")
    aa = (
        f"{AA_FACTOR} × A/A spread {spread:.3%} (two counts of this code)"
        if spread is not None
        else "A/A spread not measured (one count)"
    )
    rule = "given" if given else f"max(1 %, {aa})"
    rows += ["", f"Threshold: +{limit:.2%} on every count and ratio = {rule}."]
    return passed, rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value / 1e6:.3f} M" if unit == "M" else f"{value:.3f}"
