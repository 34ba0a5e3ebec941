"""sgdbench.plots: the chapter's two figures, with bands over seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.collections import PolyCollection

from sgdbench import plots
from sgdbench.training import History


def _h(offset: float, n: int = 5) -> History:
    xs = [offset + i / 10 for i in range(n)]
    return History(xs, xs, xs[::-1], xs[::-1], [0.01] * n)


def test_single_run_has_lines_no_band(tmp_path: Path) -> None:
    fig = plots.plot_history(_h(0.0), "one")
    ax_acc, ax_loss = fig.axes
    assert [line.get_label() for line in ax_acc.lines] == ["Train Acc", "Test Acc"]
    assert ax_loss.get_ylabel() == "Cross-Entropy Loss"
    assert not [c for c in ax_acc.collections if isinstance(c, PolyCollection)]
    plots.save(fig, tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_several_seeds_draw_mean_and_min_max_band() -> None:
    fig = plots.plot_comparison({"SGD": [_h(0.0), _h(0.2)], "GD": [_h(0.1), _h(0.3)]})
    ax_acc = fig.axes[0]
    labels = [line.get_label() for line in ax_acc.lines]
    assert labels == [
        "Train Acc SGD (mean of 2)",
        "Test Acc SGD (mean of 2)",
        "Train Acc GD (mean of 2)",
        "Test Acc GD (mean of 2)",
    ]
    assert list(ax_acc.lines[0].get_ydata()) == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    bands = [c for c in ax_acc.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 4
    ys = bands[0].get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(0.0) and ys.max() == pytest.approx(0.6)


def test_plot_bad_input() -> None:
    with pytest.raises(ValueError, match="`runs` is empty"):
        plots.plot_history([])
    with pytest.raises(ValueError, match="same number of epochs"):
        plots.plot_history([_h(0, 3), _h(0, 4)])
    with pytest.raises(ValueError, match="`groups` is empty"):
        plots.plot_comparison({})
