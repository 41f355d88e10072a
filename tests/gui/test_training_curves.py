"""The training curves' epoch axes while a run trains: they grow by doubling up to the planned
epochs, so the curves keep at least half the width and the plots re-lay out a few times a run,
not at every epoch (each re-layout stalled the window 100-150 ms on a 2-core laptop)."""

from __future__ import annotations

import numpy as np

from instrument_studio.gui.widgets.curves import TrainingCurves


def test_epoch_axes_double_up_to_the_planned_epochs(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.resize(1200, 400)
    curves.show()
    curves.add_run("live", "run 1", epochs=20)
    rights = []
    for epoch in range(20):
        b = np.arange(10)
        curves.add_batches("live", epoch + (b + 1) / 10, 2.0 / (epoch + 1) + 0 * b)
        curves.add_epoch("live", epoch + 1, loss=1.0 / (epoch + 1), accuracy=0.5, val_loss=1.0, val_accuracy=0.5)
        curves.refresh(force=True)
        x0, x1 = curves.batch_plot.viewRange()[0]
        assert x0 <= 0.0 and x1 >= epoch + 1, (epoch, x0, x1)
        for plot in (curves.loss_plot, curves.acc_plot):     # one x range for the three plots
            assert np.allclose(plot.viewRange()[0], (x0, x1)), epoch
        rights.append(round(x0 + x1, 1))      # the range without pyqtgraph's 2 % padding on each side
    # Whole epochs 1, 2, 4, 8, 16, then the planned 20: six ranges in twenty epochs.
    changes = [r for i, r in enumerate(rights) if i == 0 or r != rights[i - 1]]
    assert changes == [1.0, 2.0, 4.0, 8.0, 16.0, 20.0], rights


def test_finished_runs_span_their_own_epochs(qtbot):
    """A run listed from an earlier session (no planned epochs) is drawn over exactly its epochs."""
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.add_run(1, "run 1")
    curves.set_history(1, {"loss": [1.0, 0.8, 0.6, 0.5, 0.45], "accuracy": [0.5, 0.6, 0.7, 0.75, 0.8],
                           "val_loss": [1.1, 0.9, 0.7, 0.6, 0.55], "val_accuracy": [0.45, 0.55, 0.65, 0.7, 0.72]})
    curves.set_visible_runs([1])
    curves.refresh(force=True)
    x0, x1 = curves.loss_plot.viewRange()[0]
    assert abs(x0 + x1 - 5.0) < 0.05, (x0, x1)   # 0...5 and 2 % padding each side
