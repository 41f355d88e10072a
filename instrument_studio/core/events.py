"""Event dataclasses: the ONLY objects that cross threads.

Background work (decoding, feature extraction, training, capture) reports through these; the
GUI turns them into drawing on its frame clock, the CLI into progress bars, tests into asserts.
Events are immutable; arrays inside them are handed over, never written again by the producer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .audio.info import AudioInfo


@dataclass(frozen=True)
class Progress:
    """Long work advancing: `done` of `total` (total None: unknown)."""

    stage: str
    done: float
    total: float | None = None
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


@dataclass(frozen=True)
class AudioOpened:
    """A file's header has been read: its facts, and how many spectrogram columns will come."""

    info: AudioInfo
    analysis_sr: int
    total_frames: int


@dataclass(frozen=True)
class MelFrames:
    """Spectrogram columns [first, first + db.shape[1]) in dB re full scale."""

    first: int
    db: np.ndarray


@dataclass(frozen=True)
class AudioReady:
    """Decoding finished: samples for playback, the analysis signal and its waveform envelope."""

    info: AudioInfo
    samples: np.ndarray          # (frames, channels) float32 at info.samplerate
    analysis: np.ndarray         # mono float32 at analysis_sr
    analysis_sr: int
    envelope: object             # core.audio.envelope.EnvelopePyramid of `analysis`
    warnings: list[str] = field(default_factory=list)


# --- live input (core/live/pipeline.py) ----------------------------------------------------------------

@dataclass(frozen=True)
class LiveStarted:
    """The live pipeline runs: where its audio comes from and at what rate it arrives."""

    source: str                  # "microphone" or "playback"
    device: str                  # device name (or the file being played)
    samplerate: int              # rate the source delivers; analysis runs at analysis_sr
    analysis_sr: int


@dataclass(frozen=True)
class LiveFrames:
    """Live spectrogram columns [first, first + db.shape[1]) in dB re full scale.

    arrival[i]: time.monotonic() at which the newest sample column i depends on reached the
    audio callback (NaN if unknown): drawing time minus this is the audio-to-pixel latency.
    """

    first: int
    db: np.ndarray
    arrival: np.ndarray


@dataclass(frozen=True)
class Level:
    """Input level over the last few milliseconds, in dB re full scale."""

    peak_dbfs: float
    rms_dbfs: float
    clipped: bool


@dataclass(frozen=True)
class LiveStopped:
    """The pipeline stopped; `error` says why when it was not asked to (device lost...)."""

    error: str = ""


@dataclass(frozen=True)
class TakeStarted:
    path: str                    # where the take will be once finished
    label: str
    max_seconds: float | None


@dataclass(frozen=True)
class TakeSaved:
    """A take was finalised (normally, on close, or after a failure: see `note`)."""

    path: str
    label: str
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class TakeFailed:
    """A take could not be started or continued; what was recorded before is kept (TakeSaved)."""

    message: str


@dataclass(frozen=True)
class LiveError:
    """Something in live analysis failed but the pipeline goes on (e.g. a listener was removed)."""

    message: str


# --- feature extraction (core/features/extraction.py) ------------------------------------------------

@dataclass(frozen=True)
class FeatureProgress(Progress):
    """Feature extraction advancing, file by file: a Progress with an ETA and what was reused."""

    eta_s: float | None = None
    elapsed_s: float = 0.0
    cached: int = 0
    failed: int = 0


@dataclass(frozen=True)
class FileSkipped:
    """A file that could not be decoded or featurised: listed in the report, never fatal."""

    path: str
    reason: str


@dataclass(frozen=True)
class ExtractionFinished:
    """Feature extraction done: the report (core.features.extraction.ExtractionReport)."""

    report: object


# --- training (core/learn/training.py's KerasBridge emits these; the GUI draws them, the CLI prints them) ---
@dataclass(frozen=True)
class TrainStarted:
    """A run begins: the sizes that progress and the epoch axis are computed from."""

    model: str
    n_train: int
    n_val: int
    batch_size: int
    batches_per_epoch: int
    epochs: int
    device: str
    n_params: int
    config: dict = field(default_factory=dict)   # TrainConfig.to_dict()
    backend: str = ""                            # the Keras backend: tensorflow, jax or torch
    reproducible: bool = True                    # deterministic kernels (TrainConfig.reproducible resolved)


@dataclass(frozen=True)
class BatchEnd:
    """After training step `step` (0-based, counted across epochs).

    epoch_float = step * batch_size / n_train + (samples of this batch) / n_train, i.e. how many
    epochs' worth of samples have been seen, the x axis the course lab plots batch loss on.
    loss/accuracy are what Keras logs at a batch end: the running mean over the epoch so far.
    """

    step: int
    epoch: int                   # 0-based epoch this batch belongs to
    batch: int                   # 0-based batch within the epoch
    epoch_float: float
    loss: float
    accuracy: float
    samples_seen: int
    elapsed: float               # seconds since training started
    # Events are throttled to the frame rate (core/learn/callbacks.py KerasBridge): the batches since
    # the previous BatchEnd, this one last, as (epoch_float, loss) columns. Empty: this batch only.
    block_x: tuple[float, ...] = ()
    block_loss: tuple[float, ...] = ()


@dataclass(frozen=True)
class EpochEnd:
    """Epoch `epoch` (1-based) finished, with its validation scores."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float               # this epoch's duration (training and validation)
    elapsed: float               # seconds since training started
    best_epoch: int              # 1-based epoch with the best validation accuracy so far


@dataclass(frozen=True)
class TrainFinished:
    """The run ended (finished, stopped by a rule, or stopped by the user)."""

    epochs_run: int
    stop_reason: str
    best_epoch: int | None
    train_seconds: float
    device: str
    history: dict = field(default_factory=dict)  # loss, accuracy, val_loss, val_accuracy lists


# --- sweeps (core/experiments/sweep.py's run_sweep yields these) ---
@dataclass(frozen=True)
class SweepRunStarted:
    """A sweep begins run `index` (0-based) of `total`: the swept value and which repeat."""

    index: int
    total: int
    value: object
    repeat: int


@dataclass(frozen=True)
class SweepRunFinished:
    """A sweep run finished; `run` is a core.experiments.sweep.SweepRun (never written again)."""

    index: int
    total: int
    run: object


@dataclass(frozen=True)
class SweepRunFailed:
    """A sweep run on a device failed (its process ended with an error); the other runs go on."""

    index: int
    total: int
    device: str
    message: str


# --- prediction (core/predict/live_predict.py) --------------------------------------------------------
def ranked(labels, probabilities: np.ndarray, considered=None, k: int | None = None) -> list[tuple[str, float]]:
    """(label, probability), likeliest first, of the classes `considered` (None: every class), at
    most `k`: what a file's answer (core.predict.inference) and a live answer list."""
    order = [i for i in np.argsort(-probabilities, kind="stable") if considered is None or labels[i] in considered]
    return [(labels[i], float(probabilities[i])) for i in order[:k]]


@dataclass(frozen=True)
class LivePrediction:
    """What the model says about the most recent live window.

    state is "confident" or "uncertain" (reason: silent input, clipping, low confidence);
    probabilities is None when the window was silent and not sent to the model. window_time is
    the time.monotonic() at which the window's newest sample reached the predictor, result_time
    when the answer was ready: drawing time minus window_time is the latency a user sees.
    """

    labels: tuple[str, ...]
    probabilities: np.ndarray | None
    state: str
    reason: str
    level_db: float
    window_time: float
    result_time: float
    window_seconds: float
    spacing: float = 0.0    # seconds from this answer's start to the next one's (its CPU budget)
    considered: tuple[str, ...] | None = None   # the classes answered among (None: all of them)

    @property
    def latency(self) -> float:
        return self.result_time - self.window_time

    def ranked(self, k: int | None = None) -> list[tuple[str, float]]:
        return [] if self.probabilities is None else ranked(self.labels, self.probabilities, self.considered, k)


@dataclass(frozen=True)
class LivePredictionFailed:
    """A live window could not be predicted; the predictor carries on with the next one."""

    message: str
