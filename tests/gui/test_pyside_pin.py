"""PySide6 6.12.0 aborts the process (bool_dealloc / none_dealloc) under ordinary pyqtgraph updates.

pyproject pins PySide6 below 6.12. This runs the loop that shows the crash, in a subprocess so a
crash fails the test rather than killing pytest: lift the pin only when a release passes it.
"""

from __future__ import annotations

import subprocess
import sys

LOOP = r"""
import time, numpy as np, pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
w = pg.GraphicsLayoutWidget(); w.show()
img = pg.ImageItem(); w.addPlot(row=0, col=0).addItem(img)
curve = w.addPlot(row=1, col=0).plot()
rng = np.random.default_rng(0)
n = [0]
t0 = time.monotonic()
def step():
    img.setImage(rng.random((128, 300), dtype=np.float32), autoLevels=False, levels=(0, 1))
    curve.setData(rng.random(2000))
    n[0] += 1
    if time.monotonic() - t0 > 3.0:
        print("updates", n[0]); app.quit()
timer = QTimer(); timer.timeout.connect(step); timer.start(0)
app.exec()
"""


def test_plot_update_loop_survives():
    result = subprocess.run([sys.executable, "-c", LOOP], capture_output=True, text=True, timeout=60,
                            env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) > 50
