"""Live answers of a musicnn model from a stream: each new spectrogram frame goes through the costly
part of the network once, not once per window it falls in.

A live answer is the model's output on the newest 3 s of the microphone: 187 log-mel frames. Answers
come every fraction of a second, so consecutive windows share nearly all their frames, and the two
timbral convolutions of musicnn's front end (7 frames x 38 and x 67 bands, 204 filters each: 37 of
its ~45 ms a window on a 2-core laptop) see the same 7-frame neighbourhoods again and again. Here:

* the audio is resampled and turned into mel frames as a stream (the same mel code as every
  feature: `features.mel`, musicnn's log10(1 + 10000 x) as in `features.clip`), so a window is a
  slice of the stream's spectrogram, as the model's training windows were slices of a whole clip's;
  a clip is brought to one level first (`features.clip.level_gain`), the stream by the level of its
  last 10 s as each frame is made;
* each frame's timbral features are computed once, when its 3 frames of right-hand context have
  arrived, and kept for as long as a window can hold it;
* an answer assembles the window: the cached timbral features of its inner frames, those of its 3
  first and 3 last frames recomputed with the zero padding the model gives a window's edges, and
  runs the rest of the network (the temporal filters, mid end, pooling and head: a few ms).

Given the same mel window, the answer is the model's own (tests: within float rounding). What differs
from the windowed path (`Predictor.predict_window`) is only the window's spectrogram at its edges:
frames of the continuous signal here, frames of a cut-out, faded window there.

Only for bundles whose model is the musicnn embedding built by `core.learn.musicnn` (the default
model and the personal models taught on it); `StreamingMusicnn.supports(bundle)` says.
"""

from __future__ import annotations

import numpy as np

from ..audio.levels import LEVEL_FRAME_S, frame_mean_squares, frame_samples
from ..features.clip import level_gain, musicnn_log
from ..features.mel import StreamingMel

CONTEXT = 3          # frames on each side that a timbral feature sees (7-frame kernels)
# The timbral call's input is padded to a multiple of this many frames. TensorFlow's oneDNN kernels
# keep a compiled primitive per input shape in a cache of TensorFlow's own; the number of frames due
# varies with every answer, so unpadded lengths made a new entry now and then for hours: the app's
# memory grew ~5 KB an answer (measured: +3.1 MB per 600 answers, none with oneDNN off). Padding
# leaves a couple of dozen shapes; the zeros after the input only reach outputs that are cut off.
LENGTH_STEP = 8
# A file is brought to one level as a whole; the stream by the level of its last LEVEL_SECONDS. Longer
# than a window: after a pause the frames before a new note were made at the pause's level (its
# noise brought up to the playing level) where in a file they keep the level the playing sets.
LEVEL_SECONDS = 10.0
_TIMBRAL = (("conv2d", "batch_normalization_1", "timbral0_freq_max", "timbral0_squeeze"),
            ("conv2d_1", "batch_normalization_2", "timbral1_freq_max", "timbral1_squeeze"))
_INPUT_BN = "batch_normalization"


def _any_length_call(model, n_mels: int):
    """model's forward pass for inputs of any number of frames: on TensorFlow one graph for every
    length (a graph per length retraced for hundreds of ms at new lengths)."""
    import keras

    from ..learn.models import inference_call

    if keras.backend.backend() != "tensorflow":
        return inference_call(model)
    import tensorflow as tf

    return tf.function(lambda x: model(x, training=False),
                       input_signature=[tf.TensorSpec([1, None, n_mels], tf.float32)])


def _layer(model, name):
    try:
        return model.get_layer(name)
    except ValueError:
        return None


class StreamingMusicnn:
    """Feed audio with push(); probabilities() answers for the newest window."""

    @staticmethod
    def supports(bundle) -> bool:
        cfg = getattr(bundle, "feature_config", None)
        model = getattr(bundle, "model", None)
        if cfg is None or cfg.kind != "musicnn" or model is None or getattr(bundle, "mean", None) is not None:
            return False
        names = [_INPUT_BN, *(n for layers in _TIMBRAL for n in layers)]
        return all(_layer(model, n) is not None for n in names)

    def __init__(self, bundle, in_sr: int):
        import keras

        from ..learn.models import inference_call

        self.cfg = bundle.feature_config
        self.sr = self.cfg.mel.sr
        self.in_sr = int(in_sr)
        self.width = self.cfg.patch_frames
        model = bundle.model
        bn = model.get_layer(_INPUT_BN)
        gamma, beta, mean, var = (np.asarray(w, dtype=np.float32).reshape(()) for w in bn.get_weights())
        # The input BatchNormalization has one channel: an affine map of every value. The model pads
        # a window's time axis with zeros after it, which is what the edges get here too.
        self._scale = np.float32(gamma / np.sqrt(var + np.float32(bn.epsilon)))
        self._shift = np.float32(beta - mean * self._scale)

        # Timbral features of any number of frames (given CONTEXT more on each side), with the
        # model's own layers: conv, batch norm, max over frequency.
        frames_in = keras.Input((None, self.cfg.mel.n_mels), name="normalised_frames")
        x = keras.layers.Reshape((-1, self.cfg.mel.n_mels, 1))(frames_in)
        outs = []
        for conv, norm, fmax, _squeeze in _TIMBRAL:
            t = model.get_layer(fmax)(model.get_layer(norm)(model.get_layer(conv)(x)))
            outs.append(keras.layers.Reshape((-1, int(t.shape[-1])))(t))
        self.n_timbral = [int(o.shape[-1]) for o in outs]
        self._frames = _any_length_call(keras.Model(frames_in, keras.layers.Concatenate()(outs)),
                                        self.cfg.mel.n_mels)
        # The rest of the network, from the timbral features and the normalised window.
        rest = keras.Model([model.get_layer(_TIMBRAL[0][3]).output, model.get_layer(_TIMBRAL[1][3]).output,
                            bn.output], model.output)
        self._rest = inference_call(rest)
        self.reset()

    def reset(self) -> None:
        """Forget the stream (a new Start, a gap in the audio)."""
        import soxr

        self._resampler = (soxr.ResampleStream(self.in_sr, self.sr, 1, dtype="float32", quality="HQ")
                           if self.in_sr != self.sr else None)
        self._mel = StreamingMel(self.cfg.mel, to_values=lambda power: power)
        n_mels = self.cfg.mel.n_mels
        self._values = np.zeros((0, n_mels), dtype=np.float32)   # musicnn input frames, newest last
        # A clip is brought to one level before the model (features.clip.level_gain); the stream is
        # brought there by the level of its last LEVEL_SECONDS, as each frame is made.
        self._gains = np.zeros(0, dtype=np.float32)              # the power gain of each of _values
        self._level_hop = frame_samples(self.sr)
        self._level_frames = int(round(LEVEL_SECONDS / LEVEL_FRAME_S))
        self._level_tail = np.zeros(0, dtype=np.float32)         # audio short of a whole level frame
        self._mean_squares = np.zeros(0)                         # level frames of the last LEVEL_SECONDS
        self._first = 0                                           # stream index of _values[0]
        # Timbral features of stream frames [_done - len(_timbral), _done).
        self._timbral = np.zeros((0, sum(self.n_timbral)), dtype=np.float32)
        self._done = CONTEXT
        self._keep = self.width + 2 * CONTEXT

    @property
    def ready(self) -> bool:
        """A whole window has arrived since the last reset."""
        return self.frames >= self.width

    @property
    def frames(self) -> int:
        """Frames of the stream so far."""
        return self._first + len(self._values)

    def push(self, y: np.ndarray) -> None:
        """Audio at in_sr, continuing what came before."""
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if self._resampler is not None:
            y = self._resampler.resample_chunk(y)
        if not len(y):
            return
        self._track_level(y)
        power = self._mel.push(y)                  # (n_mels, new frames)
        if not power.shape[1]:
            return
        gain = np.float32(level_gain(self._mean_squares) ** 2)
        self._values = np.concatenate([self._values, musicnn_log(power * gain).T])
        self._gains = np.concatenate([self._gains, np.full(power.shape[1], gain, dtype=np.float32)])
        drop = len(self._values) - self._keep       # a long silence asks for no answer: keep a window
        if drop > 0:
            self._values = self._values[drop:]
            self._gains = self._gains[drop:]
            self._first += drop
            oldest = self._first + CONTEXT          # the oldest frame whose features can still be made
            if self._done < oldest:
                self._timbral, self._done = self._timbral[:0], oldest
            else:
                self._timbral = self._timbral[max(0, len(self._timbral) - (self._done - oldest)):]

    def _track_level(self, y: np.ndarray) -> None:
        """Take y's whole level frames into those of the last LEVEL_SECONDS."""
        if len(self._level_tail):
            y = np.concatenate([self._level_tail, y])
        whole = len(y) // self._level_hop * self._level_hop
        self._level_tail = y[whole:].copy()
        new = frame_mean_squares(y[:whole], self.sr)
        self._mean_squares = np.concatenate([self._mean_squares, new])[-self._level_frames:]

    def _normalised(self, a: int, b: int) -> np.ndarray:
        """Stream frames [a, b) through the input batch normalisation."""
        return self._values[a - self._first:b - self._first] * self._scale + self._shift

    def _timbral_of(self, frames: np.ndarray) -> np.ndarray:
        """Timbral features of frames[CONTEXT:-CONTEXT] (valid convolution over `frames`)."""
        n = len(frames)
        padded = -(-n // LENGTH_STEP) * LENGTH_STEP
        if padded != n:
            frames = np.concatenate([frames, np.zeros((padded - n, frames.shape[1]), dtype=frames.dtype)])
        out = self._frames(frames[None])
        return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype=np.float32)[0, :n - 2 * CONTEXT]

    def window(self) -> np.ndarray | None:
        """The newest window's musicnn input (width x n_mels), or None before a whole window."""
        if not self.ready:
            return None
        return self._values[len(self._values) - self.width:].copy()

    def advance(self) -> None:
        """Make the timbral features of every frame that has both sides' context (an answer does
        what is left of it; calling this between answers makes answers quicker)."""
        due = self._due()
        if due is not None:
            self._keep_timbral(self._timbral_of(due), self.frames - CONTEXT)

    def _due(self) -> np.ndarray | None:
        """The normalised frames, context included, of those whose timbral features are due now
        (both sides' context arrived), or None when there are none."""
        end = self.frames - CONTEXT
        return self._normalised(self._done - CONTEXT, end + CONTEXT) if end > self._done else None

    def _keep_timbral(self, new: np.ndarray, end: int) -> None:
        self._timbral = np.concatenate([self._timbral, new])
        self._done = end

    def probabilities(self) -> np.ndarray | None:
        """Class probabilities of the newest whole window (None before one has arrived)."""
        if not self.ready:
            return None
        w, c = self.width, CONTEXT
        a = self.frames - w                         # the window: stream frames [a, a + w)
        norm = self._normalised(a, a + w)
        zeros = np.zeros((c, norm.shape[1]), dtype=np.float32)
        # One call for everything due (a call costs ~3 ms before its first frame): the frames that
        # now have both sides' context, and the window's first and last 3 frames as the model sees
        # them, with zero padding beyond the window. Valid convolution over the segments laid end to
        # end: each segment's own outputs are the first len - 2c positions from its start.
        end = self.frames - c
        segments = [np.concatenate([zeros, norm[:2 * c]]), np.concatenate([norm[-2 * c:], zeros])]
        due = self._due()
        if due is not None:
            segments.append(due)
        out = self._timbral_of(np.concatenate(segments))
        starts = np.cumsum([0, *(len(seg) for seg in segments)])
        left, right = out[starts[0]:starts[0] + c], out[starts[1]:starts[1] + c]
        if due is not None:
            self._keep_timbral(out[starts[2]:starts[2] + end - self._done], end)
        base = self._done - len(self._timbral)      # stream frame of _timbral[0]
        timbral = np.concatenate([left, self._timbral[a + c - base:a + w - c - base], right])
        n0 = self.n_timbral[0]
        result = self._rest([timbral[None, :, :n0], timbral[None, :, n0:], norm[None, :, :, None]])
        return np.asarray(result.numpy() if hasattr(result, "numpy") else result, dtype=np.float64)[0]
