"""Prediction with a trained bundle: a whole file with a per-second timeline, a folder, a window.

Every path goes through `features.clip_features` with the bundle's own FeatureConfig and is
standardised with the bundle's own statistics: the code that made the training rows, unchanged.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..audio.audiofile import AUDIO_EXTENSIONS, load, read_audio, resample
from ..audio.levels import SILENCE_DBFS, clipped_share
from ..audio.levels import rms_dbfs as level_db
from ..errors import AudioFormatError, Cancelled, FeatureError, StudioError
from ..events import ranked
from ..fileio import atomic_path
from ..resources import resource_path
from .answer import UNKNOWN, Answer, decide

# Below this RMS (dB re full scale) a window holds no instrument worth naming.
SILENCE_DB = -60.0
# The whole-file answer when every step is below SILENCE_DB (never a class the model guessed).
SILENT = "silent"
# musicnn models answer from as little as this (their 3 s window padded with silence, as the
# 0.25 s notes they were trained on were).
MUSICNN_SHORTEST_S = 0.2
# Clipping is reported when more than this share of a window's samples are clipped.
CLIP_SHARE = 0.001
# Below this top probability the answer is reported as uncertain.
CONFIDENT = 0.5
# Fades applied to the ends of windows cut from a longer signal (timeline steps, live windows).
TAPER_S = 0.02


@dataclass(frozen=True)
class Prediction:
    """A whole file's answer: `probabilities` per class (in bundle label order), and a timeline of
    class probabilities, one row per `step` seconds starting at `times`."""

    labels: tuple[str, ...]
    probabilities: np.ndarray        # (classes,)
    times: np.ndarray                # (steps,) start of each timeline step, seconds
    timeline: np.ndarray             # (steps, classes)
    silent: np.ndarray               # (steps,) bool: the step is below SILENCE_DB
    step: float = 1.0
    duration: float = 0.0
    unknown_threshold: float | None = None   # the bundle's: below it the answer is "unknown"
    warnings: tuple[str, ...] = ()   # what decoding noticed (a truncated file, ...)
    considered: tuple[str, ...] | None = None  # the classes answered among (None: all of them)

    def among(self, classes: Iterable[str] | None) -> Prediction:
        """The same prediction answered among `classes` only (the user knows the recording is one of
        them): the other instruments' probability shared by these (rescaled_among), in the whole-file
        answer and every step. A model's "unknown" class stays, with its own probability, so speech or
        noise can still be turned away. None or every class: this prediction."""
        kept = among_mask(self.labels, classes)
        if kept is None:
            return self
        return replace(self, probabilities=rescaled_among(self.probabilities, kept, self.labels),
                       timeline=rescaled_among(self.timeline, kept, self.labels),
                       considered=kept_labels(self.labels, kept))

    # (cached: a table of a folder's files asks each row's answer several times a fill)
    @functools.cached_property
    def is_silent(self) -> bool:
        """Every step is below SILENCE_DB: there is no instrument to name, and none is named."""
        return bool(len(self.silent)) and bool(np.all(self.silent))

    @functools.cached_property
    def answer(self) -> Answer:
        if self.is_silent:
            return Answer(SILENT, 0.0, SILENT, 0.0)
        return decide(self.probabilities, self.labels, self.unknown_threshold)

    @property
    def label(self) -> str:
        return self.answer.label

    @property
    def probability(self) -> float:
        """The answer's probability (0 for a silent file, which the model never saw)."""
        return self.answer.probability

    def step_answers(self) -> list[Answer]:
        return [Answer(SILENT, 0.0, SILENT, 0.0) if s else decide(row, self.labels, self.unknown_threshold)
                for row, s in zip(self.timeline, self.silent, strict=True)]

    def ranked(self, k: int | None = None) -> list[tuple[str, float]]:
        return [] if self.is_silent else ranked(self.labels, self.probabilities, self.considered, k)

    def to_dict(self, path: str | None = None) -> dict:
        """The JSON shape of `instrument-studio predict --json` (one entry per file)."""
        whole = self.answer
        return {
            "path": path, "label": whole.label, "probability": whole.probability,
            "nearest": whole.nearest, "nearest_probability": whole.nearest_probability,
            "probabilities": {label: float(p) for label, p in self.ranked()},
            "timeline": [{"start": float(t), "end": float(min(t + self.step, self.duration)),
                          "label": a.label, "probability": a.probability, "nearest": a.nearest,
                          "nearest_probability": a.nearest_probability, "silent": bool(s)}
                         for t, a, s in zip(self.times, self.step_answers(), self.silent, strict=True)],
            "warnings": list(self.warnings),
            **({"considered": list(self.considered)} if self.considered is not None else {}),
        }


def among_mask(labels: Sequence[str], classes: Iterable[str] | None) -> np.ndarray | None:
    """Which of `labels` an answer among `classes` keeps (the model's "unknown" class always):
    a read-only boolean mask, or None when that is every class (the answer is left as it is)."""
    if classes is None:
        return None
    # (one mask for a whole folder's rows: the same labels and classes each time)
    return _among_mask(tuple(labels), tuple(classes))


@functools.lru_cache(maxsize=64)
def _among_mask(labels: tuple[str, ...], classes: tuple[str, ...]) -> np.ndarray | None:
    keep = set(check_classes(labels, classes)) | ({UNKNOWN} & set(labels))
    if keep >= set(labels):
        return None
    mask = np.array([label in keep for label in labels])
    mask.flags.writeable = False
    return mask


def kept_labels(labels: Sequence[str], kept: np.ndarray | None) -> tuple[str, ...] | None:
    """The labels an `among_mask` keeps (None: every class)."""
    return None if kept is None else tuple(label for label, k in zip(labels, kept, strict=True) if k)


def rescaled_among(p: np.ndarray, kept: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Probabilities (last axis: classes over `labels`) answered among the `kept` classes: the
    instruments not kept set to 0, their probability shared by the kept instruments in proportion;
    the model's unknown class keeps its own. The user's choice says which instrument it may be, not
    whether one plays: rescaled with them, "unknown" took the answer of 17 % of held-out Philharmonia
    notes and 11 % of tonejs notes answered among 4 of their classes (k = 4 accuracy 0.72 / 0.81,
    against 0.79 / 0.87 now), while 55 % of held-out background sounds are still turned away."""
    chosen = np.where(kept, p, 0.0)
    u = _unknown_index(tuple(labels))
    if u is None:
        total = chosen.sum(axis=-1, keepdims=True)
        return np.divide(chosen, total, out=np.zeros_like(chosen), where=total > 0)
    own = p[..., u]
    chosen[..., u] = 0.0
    share = chosen.sum(axis=-1, keepdims=True)
    instruments = p.sum(axis=-1, keepdims=True) - own[..., None]
    chosen *= np.divide(instruments, share, out=np.zeros_like(share), where=share > 0)
    chosen[..., u] = own
    return chosen


@functools.lru_cache(maxsize=64)
def _unknown_index(labels: tuple[str, ...]) -> int | None:
    # (once per model's labels: a folder's rows are re-answered one by one on the GUI thread)
    return labels.index(UNKNOWN) if UNKNOWN in labels else None


def check_classes(labels: Sequence[str], classes: Iterable[str]) -> list[str]:
    """`classes` as a list, each one of the model's `labels` (names compared without case and
    surrounding spaces; "_" and "-" alike); a name the model does not know is refused with the
    classes it does know."""
    def key(name: str) -> str:
        return name.strip().lower().replace("_", "-")

    known = {key(label): label for label in labels if label != UNKNOWN}
    wanted = [name for name in classes if name.strip()]
    missing = [name for name in wanted if key(name) not in known]
    if missing:
        raise StudioError(f"not a class of this model: {', '.join(missing)} (it knows: {', '.join(known.values())})")
    if not wanted:
        raise StudioError("no classes given to answer among")
    return list(dict.fromkeys(known[key(name)] for name in wanted))


def window_starts(n: int, width: int, *, stride: int) -> list[int]:
    """Start samples of the windows that cover n samples: every `stride`, the last one ending at
    the signal's end; a signal shorter than a window is one (padded) window at 0."""
    if n <= width:
        return [0]
    starts = list(range(0, n - width + 1, stride))
    if starts[-1] + width < n:
        starts.append(n - width)
    return starts


def covering(starts: Sequence[int], width: int, at: int, *, stride: int) -> list[int]:
    """Indices of the windows that hold sample `at`: those on the stride grid where any does,
    else the window shifted to end at the signal's end, else the nearest window."""
    # starts is sorted: the windows holding `at` are one run of it (a binary search, not a scan per
    # step: an hour-long file has thousands of steps and windows).
    arr = np.asarray(starts)
    inside = list(range(int(np.searchsorted(arr, at - width, side="right")), int(np.searchsorted(arr, at, side="right"))))
    on_grid = [k for k in inside if starts[k] % stride == 0]
    return on_grid or inside or [int(np.argmin(np.abs(arr + width // 2 - at)))]


def taper(y: np.ndarray, sr: int, *, seconds: float = TAPER_S) -> np.ndarray:
    """A copy with short half-Hann fades at both ends. A window cut out of a longer signal starts
    and stops abruptly, which the first and last frames see as a broadband click that no training
    clip (a recording, with its own onset and decay) has."""
    y = np.array(y, dtype=np.float32)
    n = min(int(seconds * sr), len(y) // 4)
    if n > 1:
        ramp = np.sin(np.linspace(0.0, np.pi / 2, n, dtype=np.float32)) ** 2
        y[:n] *= ramp
        y[-n:] *= ramp[::-1]
    return y


def whole_from_timeline(timeline: np.ndarray, silent: np.ndarray, *, step: float, duration: float,
                        power: np.ndarray | None = None) -> np.ndarray:
    """The whole file's answer from its timeline: the mean of the steps, each weighted by the
    seconds of the file it covers (a short last step counts for its fraction) and by its `power`
    (mean square), quiet steps left out unless every step is quiet. Not a separate window over
    everything: a summary of a mix can name a class that no second of it shows.

    Power: a note's decay, a breath or a room's tail says less about the instrument than the
    playing around it. Measured on 1,414 recordings of held-out sources (the default model's
    recipe, windows weighted by their power): 995 named right against 978 with equal weights,
    no source worse (Freesound 0.714 -> 0.726, CMMSD 0.841 -> 0.857, tonejs notes 0.612 -> 0.638)."""
    n = len(timeline)
    weights = np.minimum(step, duration - np.arange(n) * step).clip(min=1e-6)
    if not np.all(silent):
        weights = np.where(silent, 0.0, weights)
        if power is not None:
            weights = weights * np.asarray(power, dtype=np.float64) / max(float(np.max(power)), 1e-30)
            if weights.sum() <= 0:
                weights = np.where(silent, 0.0, 1.0)
    return (timeline * weights[:, None]).sum(axis=0) / weights.sum()


class Predictor:
    """A loaded bundle ready to predict (thread-safe for one caller at a time)."""

    def __init__(self, bundle, *, runner=None):
        self.bundle = bundle
        self.config = bundle.feature_config
        self.labels = tuple(bundle.labels)
        self.unknown_threshold = getattr(bundle, "unknown_threshold", None)
        self.confident = getattr(bundle, "confident_threshold", None) or CONFIDENT
        self.sr = self.config.mel.sr
        # runner(fn, *args) runs the model call somewhere else: the GUI passes
        # core.learn.tfthread.run_in_tf_thread so TensorFlow never runs on a reused pool thread.
        self.runner = runner

    @property
    def window_seconds(self) -> float:
        """The shortest audio that gives the model a full input (one patch, or one second)."""
        if self.config.kind in ("mel-patches", "musicnn"):
            return max(1.0, self.config.patch_seconds)
        return 1.0

    @property
    def shortest_seconds(self) -> float:
        """The least audio worth an answer. musicnn windows are padded with silence, as its
        training notes were, so a short note is a whole input; other kinds need a window."""
        return MUSICNN_SHORTEST_S if self.config.kind == "musicnn" else self.window_seconds

    # --- the single path from samples to probabilities -------------------------------------
    def rows(self, y: np.ndarray) -> np.ndarray:
        from ..features.clip import clip_features

        return clip_features(np.asarray(y, dtype=np.float32), self.config)

    def proba_of_rows(self, rows: np.ndarray) -> np.ndarray:
        if self.runner is not None:
            return self.runner(self._proba_of_rows, rows)
        return self._proba_of_rows(rows)

    def _proba_of_rows(self, rows: np.ndarray) -> np.ndarray:
        from ..learn.bundle import rows_per_call

        rows = np.asarray(rows, dtype=np.float32)
        model = getattr(self.bundle, "model", None)
        if model is None or not hasattr(self.bundle, "standardise"):
            return np.asarray(self.bundle.predict_proba(rows), dtype=np.float64)
        if tuple(rows.shape[1:]) != tuple(self.bundle.input_shape):
            raise FeatureError(f"features of shape {tuple(rows.shape[1:])} do not fit this model's "
                               f"input {tuple(self.bundle.input_shape)}")
        # Keras' predict() builds a data pipeline per call (tens of ms, and for a long file it held
        # more memory than the batches themselves); calling the compiled model directly takes a few
        # ms: what keeps live prediction under 50 ms. A batch is bounded by its input's size.
        forward, n = self._forward(model), rows_per_call(rows.shape[1:])
        out = []
        for i in range(0, len(rows), n):
            p = forward(self.bundle.standardise(rows[i:i + n]))
            out.append(np.asarray(p.numpy() if hasattr(p, "numpy") else p, dtype=np.float64))
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)))

    def _forward(self, model):
        """The bundle model's compiled forward pass, made once per model."""
        from ..learn.models import inference_call

        fn = getattr(self, "_forward_fn", None)
        if fn is None or fn[0] is not model:
            self._forward_fn = fn = (model, inference_call(model))
        return fn[1]

    @property
    def learnt_from_cut_windows(self) -> bool:
        """musicnn models learnt from windows cut out of longer recordings' spectrograms (abrupt ends
        and all), as the live stream gives them; other models from whole clips."""
        return self.config.kind == "musicnn"

    def window_audio(self, y: np.ndarray) -> np.ndarray:
        """A stretch cut out of a longer signal, as the model should hear it: its ends faded for
        models trained on whole clips (an abrupt cut is a click none of their clips had); as is for
        the others (learnt_from_cut_windows)."""
        return np.asarray(y, dtype=np.float32) if self.learnt_from_cut_windows else taper(y, self.sr)

    def predict_window(self, y: np.ndarray) -> np.ndarray:
        """Class probabilities of one stretch of audio at self.sr: the mean over its rows
        (patches), the same as the mean aggregation of evaluation."""
        return self.proba_of_rows(self.rows(y)).mean(axis=0)

    def predict(self, y: np.ndarray, sr: int, *, step: float = 1.0, warnings: Sequence[str] = ()) -> Prediction:
        """Probabilities for each `step` seconds of the signal (a timeline) and for the whole
        signal, from the same windows (whole_from_timeline).

        Refused (FeatureError): no audio, audio shorter than the model's window (a truncated file
        must not be named with confidence from a few samples), NaN/Inf samples. A signal that is
        silent throughout is answered "silent" without asking the model.
        """
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if len(y) == 0:
            raise FeatureError("no audio to predict from (0 samples)")
        if not np.all(np.isfinite(y)):
            raise FeatureError("the audio holds NaN or infinite samples: not predicted")
        if len(y) / sr < self.shortest_seconds - 1e-6:
            raise FeatureError(f"only {len(y) / sr:.2f} s of audio, shorter than the "
                               f"{self.shortest_seconds:.2f} s this model needs: not predicted")
        y = resample(y, int(sr), self.sr)
        duration = len(y) / self.sr
        n_steps = max(1, math.ceil(duration / step - 1e-9))
        hop = int(round(step * self.sr))
        levels = np.array([level_db(y[i * hop:(i + 1) * hop]) for i in range(n_steps)])
        silent = levels < SILENCE_DB
        if silent.all():
            zeros = np.zeros(len(self.labels))
            return Prediction(labels=self.labels, probabilities=zeros, times=np.arange(n_steps) * step,
                              timeline=np.zeros((n_steps, len(self.labels))), silent=silent, step=step,
                              duration=duration, warnings=tuple(warnings))
        starts, width, stride, rows, counts = self._windows(y, step)
        proba = self.proba_of_rows(rows) if sum(counts) else np.zeros((0, len(self.labels)))
        bounds = np.cumsum([0, *counts])
        per_window = np.stack([proba[bounds[k]:bounds[k + 1]].mean(axis=0) for k in range(len(starts))])
        # A step is what the windows around its centre say. Windows longer than a step overlap by
        # half (as in training), not one per step: a 3 s window a second cost three times the work.
        timeline = np.stack([per_window[covering(starts, width, i * hop + hop // 2, stride=stride)].mean(axis=0)
                             for i in range(n_steps)])
        whole = whole_from_timeline(timeline, silent, step=step, duration=duration, power=10 ** (levels / 10))
        return Prediction(labels=self.labels, probabilities=whole, times=np.arange(n_steps) * step,
                          timeline=timeline, silent=silent, step=step, duration=duration,
                          unknown_threshold=self.unknown_threshold, warnings=tuple(warnings))

    def _windows(self, y: np.ndarray, step: float) -> tuple[np.ndarray, int, int, np.ndarray, list[int]]:
        """The windows a signal is answered from: their start samples, width and stride (samples),
        model input rows, and how many rows each window gave."""
        if self.learnt_from_cut_windows:
            # Cut from the whole signal's spectrogram, as the model's training windows and the live
            # stream's windows are: a window cut from the audio and faded at its ends (below) is
            # not what the model learnt from; on held-out Freesound phrases it was 4 points worse.
            from ..features.clip import musicnn_windows

            rows, frames = musicnn_windows(y, self.config)
            frame = self.config.mel.hop_length
            return (np.asarray(frames) * frame, self.config.patch_frames * frame,
                    self.config.patch_hop_frames * frame, rows, [1] * len(rows))
        width = int(round(max(step, self.window_seconds) * self.sr))
        stride = max(int(round(step * self.sr)), width // 2)
        starts = np.asarray(window_starts(len(y), width, stride=stride))
        windows = [self.rows(self.window_audio(y[a:a + width])) for a in starts]
        return starts, width, stride, np.concatenate(windows), [len(w) for w in windows]

    def predict_file(self, path: str | Path, **kwargs) -> Prediction:
        """A file's prediction, carrying what decoding noticed; a file with NaN/Inf samples or
        shorter than the model's window is refused with the reason (and any truncation)."""
        decoded = read_audio(path)
        if decoded.nonfinite:
            raise AudioFormatError(f"{decoded.nonfinite:,} samples are not numbers (NaN or infinite) or lie far "
                                   "beyond full scale: the file is corrupt, not predicted", path=path)
        try:
            return self.predict(decoded.mono(), decoded.samplerate, warnings=decoded.warnings, **kwargs)
        except FeatureError as exc:
            truncated = [w for w in decoded.warnings if "truncated" in w]
            raise FeatureError("; ".join([exc.reason, *truncated]), path=path) from None


# --- folders ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileResult:
    """One row of a folder prediction: a prediction, or the reason there is none."""

    path: str
    index: int                       # 0-based position in the list of files
    total: int
    prediction: Prediction | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.prediction is not None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        return self.prediction.ranked(k) if self.prediction is not None else []


def audio_files(paths: Iterable[str | Path]) -> list[Path]:
    """The audio files named, and those inside named folders (recursively, sorted). An empty name is
    refused: as a path it means the current folder, and everything below it would be predicted."""
    out: list[Path] = []
    paths = list(paths)
    if any(not str(p).strip() for p in paths):
        raise StudioError("an empty path was given: name a file or a folder")
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS))
        else:
            out.append(p)
    return out


def predict_files(predictor: Predictor, paths: Sequence[str | Path], *,
                  should_stop: Callable[[], bool] | None = None) -> Iterator[FileResult]:
    """One FileResult per file, as each finishes. A file that cannot be read or predicted gives an
    error row and the rest carry on."""
    files = audio_files(paths)
    for i, path in enumerate(files):
        if should_stop is not None and should_stop():
            raise Cancelled(f"prediction cancelled after {i} of {len(files)} files")
        try:
            pred = predictor.predict_file(path)
        except StudioError as exc:
            yield FileResult(path=str(path), index=i, total=len(files), error=exc.reason)
        except Exception as exc:  # noqa: BLE001 - one odd file must not end a folder's run
            yield FileResult(path=str(path), index=i, total=len(files),
                             error=f"unexpected error ({type(exc).__name__}: {exc})")
        else:
            yield FileResult(path=str(path), index=i, total=len(files), prediction=pred)


# "among" last, so that scripts reading the columns by position keep working.
CSV_COLUMNS = ("path", "label", "probability", "top3", "error", "among")


def write_predictions_csv(path: str | Path, results: Iterable[FileResult]) -> Path:
    """file, top class, probability, the top three as 'label:prob; ...', any error, and the
    classes it was answered among as 'label; ...' (empty: every class)."""
    path = Path(path)
    with atomic_path(path, suffix=".csv.part") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in results:
                if r.prediction is None:
                    writer.writerow([r.path, "", "", "", r.error, ""])
                else:
                    top3 = "; ".join(f"{label}:{p:.4f}" for label, p in r.top(3))
                    among = "; ".join(c for c in r.prediction.considered or () if c != UNKNOWN)
                    writer.writerow([r.path, r.prediction.label, f"{r.prediction.probability:.4f}", top3, "", among])
    return path


@dataclass
class WindowVerdict:
    """What a single live window says, honestly: `state` is "confident" or "uncertain", and
    `reason` says why an uncertain answer is uncertain."""

    probabilities: np.ndarray | None
    state: str
    reason: str = ""
    level_db: float = SILENCE_DBFS
    clipped: float = 0.0
    extra: dict = field(default_factory=dict)


def judge_window(predictor: Predictor, y: np.ndarray, *, confident: float | None = None,
                 streamed: Callable[[], np.ndarray | None] | None = None,
                 among: np.ndarray | None = None) -> WindowVerdict:
    """Predict one live window, saying "uncertain" when it is silent, clips, or the top class
    falls below `confident` (None: the bundle's own confident threshold). Silence is not sent to
    the model at all. streamed: the model's answer for this window from a stream
    (core.predict.streaming), None while it has none: the window is then predicted here.
    among: an `among_mask` of the classes to answer among (None: every class); confidence and
    "unknown" are then judged on the rescaled answer, as for a file answered among them."""
    confident = predictor.confident if confident is None else confident
    db = level_db(y)
    share = clipped_share(y)
    if db < SILENCE_DB:
        return WindowVerdict(None, "uncertain", "silent input", db, share)
    proba = streamed() if streamed is not None else None
    if proba is None:
        proba = predictor.predict_window(predictor.window_audio(y))
    if among is not None:
        proba = rescaled_among(proba, among, predictor.labels)
    if share > CLIP_SHARE:
        return WindowVerdict(proba, "uncertain", f"input clips ({share:.1%} of samples)", db, share)
    answer = decide(proba, predictor.labels, predictor.unknown_threshold)
    if answer.unknown:
        return WindowVerdict(proba, "uncertain", f"not an instrument it knows ({answer.nearest_said})", db, share)
    if answer.probability < confident:
        return WindowVerdict(proba, "uncertain", f"low confidence (top {answer.probability:.0%})", db, share)
    return WindowVerdict(proba, "confident", "", db, share)


# --- the model the app ships ------------------------------------------------------------------
# Found through core.resources, not this file's own path, so it stays right wherever the module sits.
DEFAULT_MODEL = resource_path("default_model")


def default_model_path() -> Path:
    """The bundle shipped with the app (trained on the starter set; see its MODEL_CARD.md)."""
    if not (DEFAULT_MODEL / "bundle.json").is_file():
        from ..errors import ModelError

        raise ModelError("the default model is missing from this installation", path=DEFAULT_MODEL,
                         hint="pass --model BUNDLE, or regenerate it with packaging/make_default_model.py")
    return DEFAULT_MODEL


def model_path(path: str | Path | None = None) -> Path:
    """The bundle folder a command means: `path`, or the shipped default model when None
    (`predict` and `evaluate` without --model, the panels before a model is chosen)."""
    return default_model_path() if path is None else Path(path)


def load_predictor(path: str | Path | None = None) -> Predictor:
    """A Predictor for the bundle at `path` (None: the default model). Imports TensorFlow."""
    from ..learn.bundle import load_bundle

    return Predictor(load_bundle(model_path(path)))


def clip_audio(clip: str, mel) -> tuple[np.ndarray, int, np.ndarray]:
    """A data set clip for listening and looking: (mono samples, rate, log-mel in dB) at mel.sr.
    Rows of feature arrays ("file.npy#row") have no audio and say so."""
    from ..errors import AudioFormatError
    from ..features.mel import log_mel

    if "#" in clip and clip.split("#", 1)[0].endswith(".npy"):
        raise AudioFormatError("this item is a row of a feature array: it has no audio to play", path=clip)
    y, sr = load(clip, sr=mel.sr)
    return y, sr, log_mel(y, mel)
