"""Screenshots of presentation mode (View > Presentation Mode) in every panel with plots, at 1280x720.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_presentation.py STARTER_DIR OUT_DIR [light|dark]

STARTER_DIR: a rendered starter set (`instrument-studio starter --out DIR`): the Audio panel opens one
of its phrases, the Dataset panel the set. The Training curves are two runs' histories as the panel
draws them (a learning-rate comparison, fed directly, so the picture does not wait for training);
Evaluation shows a report of generated predictions; Experiments a two-value sweep's curves; Predict
the default model's answers for six starter phrases.
Writes OUT_DIR/presentation-<panel>-<theme>.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# A run list of its own: the user's stored runs shared the ids of the two runs drawn here, and a
# stored run's colour then painted both curves the same.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="presentation-shots-")

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from instrument_studio.gui.app import create_app  # noqa: E402
from instrument_studio.gui.context import AppContext  # noqa: E402
from instrument_studio.gui.main_window import MainWindow  # noqa: E402
from instrument_studio.gui.settings import Settings  # noqa: E402


def pump(app, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until and until()):
        app.processEvents()
        time.sleep(0.01)


def curves_of(lr: float, epochs: int = 10, batches: int = 12):
    rng = np.random.default_rng(int(lr * 1e4))
    speed = 0.25 if lr < 0.005 else 0.6
    t = np.arange(1, epochs * batches + 1) / batches
    batch = 2.3 * np.exp(-speed * t) + 0.25 + 0.05 * rng.standard_normal(len(t))
    e = np.arange(1, epochs + 1)
    loss = 2.3 * np.exp(-speed * e) + 0.25
    acc = 1 - 0.9 * np.exp(-speed * e * 0.9)
    return t, batch, e, loss, loss * 1.15 + 0.05, acc, acc - 0.06


def main() -> int:
    starter_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    theme = sys.argv[3] if len(sys.argv) > 3 else "light"
    app = create_app()
    tmp = Path(tempfile.mkdtemp())
    ctx = AppContext(Settings(QSettings(str(tmp / "s.ini"), QSettings.IniFormat)))
    win = MainWindow(ctx)
    win.resize(1280, 720)
    win.show()
    win.set_theme(theme)
    win.presentation_action.setChecked(True)

    # Audio: a violin phrase of the starter set.
    audio = win.audio_panel
    clip = sorted((starter_dir / "violin").glob("violin_phrase*.wav"))[0]
    loaded = []
    audio.loaded.connect(loaded.append)
    win.open_file(clip)
    pump(app, 60, lambda: loaded)

    # Predict: the default model's answers for one phrase of each of six starter classes (really
    # predicted here, the rows the panel's worker would add).
    from instrument_studio.core.predict.inference import load_predictor, predict_files

    phrases = [sorted((starter_dir / c).glob(f"{c}_phrase*.wav"))[0]
               for c in ("violin", "flute", "trumpet", "piano", "cello", "clarinet")
               if any((starter_dir / c).glob(f"{c}_phrase*.wav"))]
    predict = win.panels["PredictPanel"]
    predict._roots = [starter_dir]        # paths shown below the set's folder, as for "Predict folder..."
    for result in predict_files(load_predictor(), phrases):
        predict._add_row(result)

    # Dataset: the starter set.
    dataset = win.panels["DatasetPanel"]
    win.tabs.setCurrentWidget(dataset)
    dataset.open_folder(starter_dir)
    pump(app, 90, lambda: dataset.dataset is not None and dataset.dataset.layout == "starter")

    # Training: two runs that differ in the learning rate.
    from instrument_studio.core.learn.training import TrainConfig
    from instrument_studio.gui.widgets.run_names import run_labels, run_settings

    training = win.panels["TrainingPanel"]
    settings = {}
    for key, lr in ((1, 0.001), (2, 0.01)):
        training.curves.add_run(key, f"run {key}")
        t, batch, e, loss, vloss, acc, vacc = curves_of(lr)
        training.curves.add_batches(key, t, batch)
        for i, ep in enumerate(e):
            training.curves.add_epoch(key, int(ep), loss=loss[i], accuracy=acc[i], val_loss=vloss[i],
                                      val_accuracy=vacc[i])
        settings[key] = run_settings(TrainConfig(learning_rate=lr), "mfcc", "starter set")
    training.curves.set_run_labels(run_labels(settings))
    training.curves.refresh(force=True)

    # Evaluation: a report of generated predictions over the starter classes.
    from instrument_studio.core.evaluation.report import make_report

    labels = ["piano", "acoustic-guitar", "violin", "cello", "trumpet", "trombone", "saxophone", "oboe",
              "clarinet", "flute"]
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(10), 48)
    scores = np.eye(10)[y] * 2.5 + rng.random((len(y), 10))
    evaluation = win.panels["EvaluationPanel"]
    report = make_report(labels, y, scores)
    evaluation.confusion.set_matrix(report.labels, report.confusion, report.confusion_normalised)
    evaluation.tabs.show_report(report)
    evaluation._set_results_visible(True)

    # Experiments: a learning-rate sweep's overlaid curves.
    from instrument_studio.core.experiments.sweep_results import SweepRun

    runs = []
    for lr in (0.001, 0.01):
        _t, _b, e, loss, vloss, acc, vacc = curves_of(lr)
        runs.append(SweepRun(value=lr, repeat=0, seed=0, epochs=10, train_seconds=8.0, energy_joules=None,
                             energy_source="unavailable", test_accuracy=float(vacc[-1]),
                             history={"loss": list(loss), "val_loss": list(vloss), "accuracy": list(acc),
                                      "val_accuracy": list(vacc)}))
    experiments = win.panels["ExperimentsPanel"]
    experiments.curves.show_runs(runs, [0.001, 0.01], param_label="lr")

    # Live: the Audio panel's playback as the source (no microphone on the machine that takes these).
    live = win.panels["LivePanel"]
    live.source_combo.setCurrentIndex(1)

    out_dir.mkdir(parents=True, exist_ok=True)
    for name, key in (("audio", "AudioPanel"), ("live", "LivePanel"), ("predict", "PredictPanel"), ("dataset", "DatasetPanel"),
                      ("training", "TrainingPanel"), ("evaluation", "EvaluationPanel"),
                      ("experiments", "ExperimentsPanel")):
        win.tabs.setCurrentWidget(win.panels[key])
        pump(app, 1.5)
        win.grab().save(str(out_dir / f"presentation-{name}-{theme}.png"))
    win.presentation_action.setChecked(False)
    for panel in win.panels.values():
        panel.shutdown()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
