"""The two regression gates: a run's wall-time ratios, and its instruction counts.

Wall time (:func:`wall_time`) is judged on same-run ratios only (absolute times drift with the
machine's load); instructions (:func:`instructions`) on every case's own count too, and only
against a baseline with the same key. With counts, ``bench-report`` gates on instructions and
the wall-time verdict only warns.
"""

from __future__ import annotations

from typing import Any

from sgdbench.bench import counts as c
from sgdbench.bench.run import Ratio

__all__ = ["GATE", "INSTRUCTION_THRESHOLD", "instructions", "wall_time"]

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

# Relative worsening that fails the instruction gate, for each case's count and each ratio.
# Measured here (docs/instructions.md): over 10 unchanged runs the largest change of any
# count or ratio against the baseline was 0.30 %; 1 % is 3.3 times that, and one injected tensor
# op per training step (+2.5 % on an SGD-32 epoch) is 2.5 times above it.
INSTRUCTION_THRESHOLD = 0.01


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


def instructions(
    run: dict[str, Any], baseline: dict[str, Any], threshold: float = INSTRUCTION_THRESHOLD
) -> tuple[bool | None, list[str]]:
    """(passed, markdown rows): every case's count and every ratio against the baseline.

    passed is None when the keys differ: the changes are shown, not judged.
    """
    differs = c.comparable(run, baseline)
    rows = []
    if differs:
        rows += [f"No comparable baseline: {'; '.join(differs)}. Changes shown, not judged.", ""]
    rows += [
        "| instructions (higher = slower) | baseline | this run | change | verdict |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    passed = True
    items: list[tuple[str, float | None, float | None, str]] = [
        (f"{case} (per epoch)", c.median(baseline, case), c.median(run, case), "M")
        for case in run["cases"]
    ]
    items += [(f"{n} / {d}", c.ratio(baseline, n, d), c.ratio(run, n, d), "x") for n, d in c.RATIOS]
    for name, old, new, unit in items:
        if old is None or new is None:
            rows.append(f"| {name} | {_fmt(old, unit)} | {_fmt(new, unit)} | | not in both |")
            continue
        change = new / old - 1
        bad = change > threshold
        passed &= not bad
        verdict = "changed" if differs else ("**REGRESSION**" if bad else "ok")
        if differs and abs(change) <= threshold:
            verdict = "—"
        rows.append(
            f"| {name} | {_fmt(old, unit)} | {_fmt(new, unit)} | {change:+.2%} | {verdict} |"
        )
    rows += ["", f"Threshold: +{threshold:.0%} on every count and ratio."]
    return (None if differs else passed), rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value / 1e6:.3f} M" if unit == "M" else f"{value:.3f}"
