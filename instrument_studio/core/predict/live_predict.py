"""Live prediction: the most recent window of the live pipeline, as often as its CPU budget
allows (less often while the answer holds), in a thread of its own, with an honest "uncertain"
when the input is silent, clips or the model hesitates.

    live = LivePredictor(predictor)
    live.attach(pipeline)          # core.live.pipeline.LivePipeline (or anything with the same listener API)
    ... live.poll() -> [LivePrediction, ...] on the GUI's frame clock ...
    live.detach()
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from ..audio.audiofile import resample
from ..config import ANALYSIS_SR
from ..events import LivePrediction, LivePredictionFailed
from .inference import Predictor, among_mask, judge_window, kept_labels
from .streaming import StreamingMusicnn

# Answers per second at most: what a cheap model gives (a small mel CNN: a few ms an answer).
DEFAULT_RATE_HZ = 6.0
# The share of one core live answers may take: each answer's own time spaces the next one. The
# musicnn default model needs ~0.1 s an answer on a 2-core laptop, so about one a second; at six
# a second it took 60 % of a core by itself, while the musician's own instrument plays on.
# Silent input never reaches the model, costs nothing, and is answered at the full rate, so the
# first answer after a silence comes at once.
DEFAULT_CPU_SHARE = 0.10
# While the answer holds (the same class, confidently, STEADY_AFTER answers running) they come at
# most STEADY_RATE_HZ a second; any other answer (another class, a hesitation, silence) brings back
# the full rate at once. A 3 s window moves little in a fraction of a second, so a steady phrase
# learns nothing from six answers a second, and those answers were a third of the live view's CPU
# (bench/live.py, a cello phrase: 18.8 % of a core at 5.3 answers/s, 13.7 % at 1.9); a change of
# instrument is seen at the next answer, at most 1 / STEADY_RATE_HZ later.
STEADY_RATE_HZ = 2.0
STEADY_AFTER = 3
# However costly the answers, one at least this often (a loaded machine, a first answer that
# compiles the model's graph: seconds).
MAX_SPACING_S = 2.0
# Audio blocks waiting for the predictor thread (the pipeline hands on ~512 samples at a time: ~45 s).
MAX_WAITING_BLOCKS = 2048
# This long before an answer is due, a streaming predictor takes in the audio that came since the
# last one, front-end features included, so that the answer only finishes its window (less latency
# for about the same work). Once per answer: each call of the front end costs ~3 ms before its
# first frame, so taking audio in more often made answers dearer, and under load rarer.
ADVANCE_BEFORE_S = 0.1


class LivePredictor:
    def __init__(self, predictor: Predictor, *, rate_hz: float = DEFAULT_RATE_HZ,
                 steady_rate_hz: float | None = STEADY_RATE_HZ, cpu_share: float = DEFAULT_CPU_SHARE,
                 window_seconds: float | None = None, confident: float | None = None,
                 on_result: Callable[[LivePrediction], None] | None = None, streaming: bool = True):
        # Its own view of the bundle, calling the model directly: this is a plain thread of its
        # own (not a reused pool thread), and it must not queue behind other TensorFlow work.
        self.predictor = Predictor(predictor.bundle)
        self.period = 1.0 / rate_hz
        self.steady_period = 1.0 / steady_rate_hz if steady_rate_hz else self.period
        self._same = 0                                 # confident answers of one class running
        self._last_top: int | None = None
        self.cpu_share = cpu_share
        self.window_seconds = window_seconds or predictor.window_seconds
        self.confident = self.predictor.confident if confident is None else confident
        self.on_result = on_result
        self._pipeline = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._fresh = threading.Event()
        self._newest_time = 0.0       # when the newest audio reached us (monotonic)
        self._samples_seen = 0
        self._results: deque = deque(maxlen=64)
        self.latencies: deque[float] = deque(maxlen=1000)
        self._costs: deque[float] = deque(maxlen=3)   # wall time of the last answers that ran the model
        self._compiled = False                         # the model has answered once (its graph is built)
        self.count = 0
        # A musicnn model answers from a stream (core.predict.streaming): each frame through the
        # costly front end once. Made on this predictor's thread at the first answer. Otherwise
        # (another kind of model, or streaming=False) every answer is a window of its own.
        self.streaming = streaming and StreamingMusicnn.supports(self.predictor.bundle)
        self._stream: StreamingMusicnn | None = None
        self._blocks: deque = deque(maxlen=MAX_WAITING_BLOCKS)
        self._expected: int | None = None              # stream position the next block should start at
        self._between = 0.0                            # time spent on the stream since the last answer
        # (among_mask, the classes kept): set from the GUI thread, read once per answer here, so
        # it is replaced whole, never changed in place.
        self._among: tuple[np.ndarray | None, tuple[str, ...] | None] = (None, None)

    # --- wiring ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def attach(self, pipeline) -> None:
        """Listen to `pipeline` (add_listener / remove_listener / latest_audio) and start."""
        self.detach()
        self._pipeline = pipeline
        self._samples_seen = 0
        self._same, self._last_top = 0, None
        self._blocks.clear()
        if self._stream is not None:
            self._stream.reset()
        self._stop.clear()
        pipeline.add_listener(self._on_block)
        self._thread = threading.Thread(target=self._run, name="live-predictor", daemon=True)
        self._thread.start()

    def detach(self) -> None:
        if self._pipeline is not None:
            self._pipeline.remove_listener(self._on_block)
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            self._fresh.set()
            thread.join(timeout=5)
        self._pipeline = None

    def answer_among(self, classes) -> None:
        """Answer among `classes` only from the next window on (None: every class), as
        `Prediction.among` does for a file; a name the model does not know is refused (StudioError)."""
        mask = among_mask(self.predictor.labels, classes)
        self._among = (mask, kept_labels(self.predictor.labels, mask))

    def poll(self) -> list:
        """Results (LivePrediction, LivePredictionFailed) since the last poll, oldest first."""
        out = []
        while self._results:
            out.append(self._results.popleft())
        return out

    # --- threads ---------------------------------------------------------------------------
    def _on_block(self, block: np.ndarray, sr: int, first: int) -> None:
        # The pipeline's thread: note the arrival and wake the predictor, nothing more.
        if self.streaming:
            self._blocks.append((first, block))
        self._samples_seen = first + len(block)
        self._newest_time = time.monotonic()
        self._fresh.set()

    def _run(self) -> None:
        next_due = time.monotonic()
        advanced = None                         # the answer (its due time) the stream was advanced for
        while not self._stop.is_set():
            now = time.monotonic()
            if now < next_due:
                ahead = next_due - now
                if self._stream is not None and advanced != next_due:
                    if ahead <= ADVANCE_BEFORE_S:
                        advanced = next_due
                        self._advance()
                        continue
                    ahead -= ADVANCE_BEFORE_S
                self._stop.wait(ahead)
                continue
            # Predict as soon as the next block lands, not whenever the timer says: the window
            # then ends with audio that is fresh to the millisecond.
            self._fresh.clear()
            fresh = self._fresh.wait(timeout=0.5)
            if self._stop.is_set():
                return
            if not fresh:
                continue  # no new audio: the last answer stands (the view marks it stale)
            started = time.monotonic()
            try:
                result = self._predict_once()
            except Exception as exc:  # noqa: BLE001 - reported, and the next window is tried
                result = None
                self._same, self._last_top = 0, None
                self._results.append(LivePredictionFailed(
                    message=f"live prediction failed ({type(exc).__name__}: {exc})"))
            spacing = result.spacing if result is not None else self._spacing_after(time.monotonic() - started,
                                                                              ran_model=False)
            next_due = max(next_due + self._pace(), started + spacing)

    def _spacing_after(self, spent: float, *, ran_model: bool = True) -> float:
        """Seconds from the start of one answer to the next, after one that took `spent`.

        An answer's cost is its wall time, not this thread's CPU time, because the network runs
        in TensorFlow's own threads (on the 2-core laptop the two agree: 97 ms of CPU, 96 ms of
        wall a musicnn answer); on a loaded machine answers take longer and so come less often.
        The cheapest of the last three answers that ran the model sets the pace, so one slow
        answer (a pause of the whole process) does not hold the next ones back for seconds; the
        very first one, which compiles the model's graph, is no measure of the cost at all and
        is not counted (it spaced the next answer 2 s away)."""
        # The stream's work between answers belongs to the answers: it counts against the budget.
        spent, self._between = spent + self._between, 0.0
        cost = spent
        if ran_model:
            if self._compiled:
                self._costs.append(spent)
            self._compiled = True
            cost = min(self._costs) if self._costs else 0.0
        return min(MAX_SPACING_S, max(self._pace(), cost / self.cpu_share))

    def _pace(self) -> float:
        """The shortest time between answers now: the full rate until the answer holds."""
        return self.steady_period if self._same >= STEADY_AFTER else self.period

    def _hold(self, verdict) -> None:
        """Count the confident answers of one class running (any other answer ends the count)."""
        top = (int(np.argmax(verdict.probabilities))
               if verdict.state == "confident" and verdict.probabilities is not None else None)
        self._same = 0 if top is None else self._same + 1 if top == self._last_top else 1
        self._last_top = top

    def _advance(self) -> None:
        """Between answers: the stream takes in what arrived, front-end features included."""
        started = time.monotonic()
        try:
            self._feed(self._stream.in_sr)
            self._stream.advance()
        except Exception:  # noqa: BLE001 - the next answer meets the same error and reports it
            pass
        self._between += time.monotonic() - started

    def _stream_probabilities(self, rate: int):
        """Feed the stream what arrived since the last answer; returns its answer, to be called
        only if the window is worth one (None until the stream holds a whole window)."""
        self._feed(rate)
        return self._stream.probabilities

    def _feed(self, rate: int) -> None:
        if self._stream is None or self._stream.in_sr != rate:
            self._stream = StreamingMusicnn(self.predictor.bundle, rate)
            self._expected = None
        run: list[np.ndarray] = []              # blocks that follow each other: pushed at once
        while self._blocks:
            first, block = self._blocks.popleft()
            if first != self._expected:            # a new Start, or blocks lost: start afresh
                run.clear()
                self._stream.reset()
            run.append(block)
            self._expected = first + len(block)
        if run:
            self._stream.push(np.concatenate(run))

    def _predict_once(self) -> LivePrediction | None:
        pipeline = self._pipeline
        if pipeline is None:
            return None
        started = time.monotonic()
        window_time = self._newest_time
        y = pipeline.latest_audio(self.window_seconds)
        rate = int(getattr(pipeline, "sr", ANALYSIS_SR))
        streamed = self._stream_probabilities(rate) if self.streaming else None
        if streamed is None or not self._stream.ready:
            # The window itself goes to the model: at the model's rate (the pipeline keeps audio at
            # its analysis rate; musicnn wants 16 kHz). Level and clipping read the same at any rate.
            if rate != self.predictor.sr:
                y = resample(y, rate, self.predictor.sr)
            rate = self.predictor.sr
        if len(y) < int(0.25 * self.window_seconds * rate):
            return None  # just started: not enough audio for an answer worth showing
        among, considered = self._among
        verdict = judge_window(self.predictor, y, confident=self.confident, streamed=streamed, among=among)
        self._hold(verdict)
        now = time.monotonic()
        result = LivePrediction(labels=self.predictor.labels, probabilities=verdict.probabilities,
                                state=verdict.state, reason=verdict.reason, level_db=verdict.level_db,
                                window_time=window_time, result_time=now,
                                window_seconds=len(y) / rate, considered=considered,
                                spacing=self._spacing_after(now - started,
                                                     ran_model=verdict.probabilities is not None))
        self.count += 1
        self.latencies.append(result.latency)
        self._results.append(result)
        if self.on_result is not None:
            self.on_result(result)
        return result
