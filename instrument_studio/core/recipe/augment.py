"""Realistic, deterministic augmentation of a mono float32 signal: the recording chain, simulated.

Every function takes the signal, its rate and a `numpy.random.Generator` (all randomness comes
from it, so a seed reproduces the output exactly) and returns a new float32 array:

    room(y, sr, rng)          convolve with a generated impulse response (RT60 0.2-1.5 s, wet/dry)
    mic_eq(y, sr, rng)        microphone/EQ colour: low shelf, high shelf, one peak (RBJ biquads)
    add_noise(y, sr, rng)     pink/brown/white/babble-like noise at 20-40 dB SNR
    mix_under(y, other, rng)  another item quietly underneath (-14..-26 dB)
    gain(y, rng)              -12..+6 dB, never clipping
    pitch_shift(y, sr, rng)   +/-50 cents by resampling (varispeed: length changes a little too)
    tempo(y, sr, rng)         0.9-1.1x without changing pitch (phase vocoder)
    codec(y, sr, rng)         lossy round trip (OGG Vorbis, or MP3 where libsndfile has it), in memory

`augment(y, sr, rng, other=None)` applies a random chain in the order of a real recording:
performance (pitch, tempo) -> room -> microphone -> other sounds -> gain -> codec.
"""

from __future__ import annotations

import io

import numpy as np
from scipy import signal

from ..audio.audiofile import resample


def _f32(y: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(y, dtype=np.float32)


def _power(y: np.ndarray) -> float:
    return float(np.mean(np.square(y, dtype=np.float64))) if len(y) else 0.0


def _no_clip(y: np.ndarray, peak: float = 0.99) -> np.ndarray:
    top = float(np.max(np.abs(y))) if len(y) else 0.0
    return y * (peak / top) if top > peak else y


# --- room -----------------------------------------------------------------------------------
def impulse_response(sr: int, rng: np.random.Generator, *, rt60: float | None = None) -> np.ndarray:
    """A room: direct sound, a few early reflections (3-40 ms) and an exponentially decaying
    noise tail whose high frequencies die faster (air and wall absorption)."""
    rt60 = float(rng.uniform(0.2, 1.5)) if rt60 is None else float(rt60)
    n = int(sr * min(rt60 * 1.2, 2.0)) + 1
    t = np.arange(n) / sr
    decay = np.exp(-6.908 * t / rt60)  # -60 dB at rt60
    tail = rng.standard_normal(n) * decay
    # brighter early, darker late: blend a low-passed copy in as time goes on
    sos = signal.butter(2, min(0.45 * sr, rng.uniform(2500, 7000)), fs=sr, output="sos")
    dark = signal.sosfilt(sos, tail)
    w = np.clip(t / max(rt60 * 0.5, 1e-3), 0, 1)
    tail = (1 - w) * tail + w * dark
    predelay = int(sr * rng.uniform(0.003, 0.02))
    tail[:predelay] = 0.0
    ir = 0.3 * tail / (np.sqrt(np.sum(tail**2)) + 1e-12)
    for _ in range(int(rng.integers(3, 9))):
        at = int(sr * rng.uniform(0.003, 0.04))
        ir[at] += rng.uniform(0.15, 0.6) * rng.choice([-1.0, 1.0])
    ir[0] = 1.0
    return ir.astype(np.float32)


def room(y: np.ndarray, sr: int, rng: np.random.Generator, *, rt60: float | None = None,
         wet: float | None = None) -> np.ndarray:
    """Reverberate with a generated impulse response; same length and RMS as the input."""
    y = _f32(y)
    if len(y) == 0:
        return y
    ir = impulse_response(sr, rng, rt60=rt60)
    wet = float(rng.uniform(0.2, 0.8)) if wet is None else float(wet)
    rev = signal.oaconvolve(y, ir)[: len(y)]
    rev *= np.sqrt(_power(y) / (_power(rev) + 1e-20))
    out = (1 - wet) * y + wet * rev
    out *= np.sqrt(_power(y) / (_power(out) + 1e-20))
    return _f32(_no_clip(out))


# --- microphone / EQ --------------------------------------------------------------------------
def _biquad(kind: str, f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """RBJ cookbook biquad as one SOS row."""
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * min(f0, 0.45 * sr) / sr
    cw, sw = np.cos(w0), np.sin(w0)
    alpha = sw / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a, -2 * cw, 1 - alpha * a]
        den = [1 + alpha / a, -2 * cw, 1 - alpha / a]
    else:
        sq = 2 * np.sqrt(a) * alpha
        if kind == "low":
            b = [a * ((a + 1) - (a - 1) * cw + sq), 2 * a * ((a - 1) - (a + 1) * cw), a * ((a + 1) - (a - 1) * cw - sq)]
            den = [(a + 1) + (a - 1) * cw + sq, -2 * ((a - 1) + (a + 1) * cw), (a + 1) + (a - 1) * cw - sq]
        else:  # high shelf
            b = [a * ((a + 1) + (a - 1) * cw + sq), -2 * a * ((a - 1) + (a + 1) * cw), a * ((a + 1) + (a - 1) * cw - sq)]
            den = [(a + 1) - (a - 1) * cw + sq, 2 * ((a - 1) - (a + 1) * cw), (a + 1) - (a - 1) * cw - sq]
    b, den = np.asarray(b) / den[0], np.asarray(den) / den[0]
    return np.concatenate([b, den])[None, :]


def mic_eq(y: np.ndarray, sr: int, rng: np.random.Generator, *, max_db: float = 8.0) -> np.ndarray:
    """Colour of a microphone and a room's placement: random low/high shelves and a peak,
    sometimes the band limit of a small device (high-pass 100-300 Hz, low-pass 5-9 kHz)."""
    y = _f32(y)
    if len(y) == 0:
        return y
    sos = [
        _biquad("low", rng.uniform(80, 400), rng.uniform(-max_db, max_db), 0.707, sr),
        _biquad("high", rng.uniform(2000, 8000), rng.uniform(-max_db, max_db), 0.707, sr),
        _biquad("peak", np.exp(rng.uniform(np.log(300), np.log(5000))), rng.uniform(-max_db, max_db),
                rng.uniform(0.7, 2.5), sr),
    ]
    if rng.random() < 0.25:  # phone / laptop microphone
        sos.append(signal.butter(2, rng.uniform(100, 300), "highpass", fs=sr, output="sos"))
        sos.append(signal.butter(4, min(rng.uniform(5000, 9000), 0.45 * sr), "lowpass", fs=sr, output="sos"))
    out = signal.sosfilt(np.concatenate(sos), y)
    out *= np.sqrt(_power(y) / (_power(out) + 1e-20))
    return _f32(_no_clip(out))


# --- noise and other sounds -------------------------------------------------------------------
def noise(n: int, sr: int, rng: np.random.Generator, *, colour: str | None = None) -> np.ndarray:
    """Unit-power background noise: white, pink (1/f), brown (1/f^2) or babble-like (several
    band-passed noises with 2-6 Hz syllable-rate envelopes, like a murmuring room)."""
    colour = colour or str(rng.choice(["pink", "brown", "white", "babble"]))
    if n == 0:
        return np.zeros(0, np.float32)
    if colour == "babble":
        t = np.arange(n) / sr
        out = np.zeros(n)
        for _ in range(int(rng.integers(3, 7))):
            lo = rng.uniform(150, 600)
            sos = signal.butter(2, [lo, min(lo * rng.uniform(3, 8), 0.45 * sr)], "bandpass", fs=sr, output="sos")
            env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 6) * t + rng.uniform(0, 2 * np.pi))
            out += signal.sosfilt(sos, rng.standard_normal(n)) * env**2
    else:
        white = rng.standard_normal(n)
        if colour == "white":
            out = white
        else:
            spec = np.fft.rfft(white)
            f = np.fft.rfftfreq(n, 1 / sr)
            f[0] = f[1] if n > 1 else 1.0
            spec /= f ** (0.5 if colour == "pink" else 1.0)
            out = np.fft.irfft(spec, n)
    out = out - out.mean()
    return _f32(out / (np.sqrt(_power(out)) + 1e-20))


def add_noise(y: np.ndarray, sr: int, rng: np.random.Generator, *, snr_db: float | None = None,
              colour: str | None = None) -> np.ndarray:
    """Add background noise at `snr_db` (20-40 dB when not given) relative to the signal's power."""
    y = _f32(y)
    snr_db = float(rng.uniform(20, 40)) if snr_db is None else float(snr_db)
    p = _power(y)
    if p == 0.0:
        return y
    nz = noise(len(y), sr, rng, colour=colour) * np.sqrt(p / 10 ** (snr_db / 10))
    return _f32(y + nz)


def mix_under(y: np.ndarray, other: np.ndarray, rng: np.random.Generator, *,
              level_db: float | None = None) -> np.ndarray:
    """Another sound quietly underneath (level_db below the signal; -14..-26 dB when not given),
    looped or cut to length and started at a random offset."""
    y, other = _f32(y), _f32(other)
    if len(y) == 0 or len(other) == 0 or _power(other) == 0.0:
        return y
    level_db = float(rng.uniform(-26, -14)) if level_db is None else float(level_db)
    reps = int(np.ceil(2 * len(y) / len(other)))
    long = np.tile(other, max(reps, 1))
    start = int(rng.integers(0, len(long) - len(y) + 1))
    under = long[start:start + len(y)]
    under = under * np.sqrt(_power(y) / (_power(under) + 1e-20) * 10 ** (level_db / 10))
    return _f32(_no_clip(y + under))


# --- level, pitch, tempo, codec ---------------------------------------------------------------
def gain(y: np.ndarray, rng: np.random.Generator, *, db: float | None = None) -> np.ndarray:
    """Scale by `db` (-12..+6 when not given); never clips (scaled down to a 0.99 peak instead)."""
    db = float(rng.uniform(-12, 6)) if db is None else float(db)
    return _f32(_no_clip(_f32(y) * 10 ** (db / 20)))


def pitch_shift(y: np.ndarray, sr: int, rng: np.random.Generator, *, cents: float | None = None) -> np.ndarray:
    """Shift by `cents` (+/-50 when not given) by resampling, as a tape running a little fast/slow."""
    cents = float(rng.uniform(-50, 50)) if cents is None else float(cents)
    ratio = 2 ** (cents / 1200)
    # read the samples as if recorded at sr*ratio, play them back at sr: pitch up by `ratio`
    return resample(_f32(y), sr * ratio, sr) if len(y) else _f32(y)


def _stretch(y: np.ndarray, rate: float, n_fft: int = 1024, hop: int = 256) -> np.ndarray:
    """Phase-vocoder time stretch (numpy only): `rate` > 1 is faster, pitch unchanged."""
    win = np.hanning(n_fft + 1)[:-1]
    pad = np.pad(y.astype(np.float64), (n_fft // 2, n_fft // 2 + n_fft))
    frames = np.lib.stride_tricks.sliding_window_view(pad, n_fft)[::hop]
    spec = np.fft.rfft(frames * win, axis=1)
    steps = np.arange(0, len(spec) - 1, rate)
    omega = 2 * np.pi * hop * np.arange(spec.shape[1]) / n_fft
    phase = np.angle(spec[0])
    out_spec = np.empty((len(steps), spec.shape[1]), dtype=np.complex128)
    for k, st in enumerate(steps):
        i, frac = int(st), st - int(st)
        a, b = spec[i], spec[i + 1]
        out_spec[k] = ((1 - frac) * np.abs(a) + frac * np.abs(b)) * np.exp(1j * phase)
        dphi = np.angle(b) - np.angle(a) - omega
        phase += omega + (dphi - 2 * np.pi * np.round(dphi / (2 * np.pi)))
    frames_out = np.fft.irfft(out_spec, n_fft, axis=1) * win
    n = hop * (len(steps) - 1) + n_fft
    out, norm = np.zeros(n), np.zeros(n)
    for k, fr in enumerate(frames_out):
        out[k * hop:k * hop + n_fft] += fr
        norm[k * hop:k * hop + n_fft] += win**2
    out = out / np.maximum(norm, 1e-3)
    return out[n_fft // 2:n_fft // 2 + int(round(len(y) / rate))]


def tempo(y: np.ndarray, sr: int, rng: np.random.Generator, *, rate: float | None = None) -> np.ndarray:
    """Play `rate` times faster (0.9-1.1 when not given) at the same pitch (phase vocoder)."""
    rate = float(rng.uniform(0.9, 1.1)) if rate is None else float(rate)
    y = _f32(y)
    if len(y) < 2048 or abs(rate - 1.0) < 1e-3:
        return y
    return _f32(_no_clip(_stretch(y, rate)))


def _has_mp3() -> bool:
    import soundfile as sf

    return "MP3" in sf.available_formats()


CODEC_ONE_WRITE = 2_000_000  # frames the lossy encoders take in one write (see codec)
CODEC_BLOCK = 1 << 16


def codec(y: np.ndarray, sr: int, rng: np.random.Generator, *, fmt: str | None = None,
          quality: float | None = None) -> np.ndarray:
    """Lossy round trip in memory: OGG Vorbis or MP3 at a random quality (0 worst .. 1 best here),
    same length as the input."""
    import soundfile as sf

    y = _f32(y)
    if len(y) == 0:
        return y
    fmt = fmt or str(rng.choice(["OGG", "MP3"] if _has_mp3() else ["OGG"]))
    quality = float(rng.uniform(0.1, 0.7)) if quality is None else float(quality)
    buf = io.BytesIO()
    peak = max(1.0, float(np.max(np.abs(y))))
    subtype = "VORBIS" if fmt == "OGG" else "MPEG_LAYER_III"
    # soundfile's compression_level: 0 = best quality, 1 = smallest file. One long write makes
    # libsndfile's Vorbis encoder overflow the stack (a segfault past ~2.1 M frames: 160 s at 16 kHz
    # ended the recipe; python-soundfile issue #233), so a long signal is written in blocks. Shorter
    # ones keep the single write: Vorbis encodes blocks a little differently, and the recipe's cached
    # augmented embeddings were made with it (MP3 comes out the same either way).
    x = y / peak
    with sf.SoundFile(buf, "w", sr, 1, format=fmt, subtype=subtype, compression_level=1.0 - quality) as f:
        step = len(x) if len(x) <= CODEC_ONE_WRITE else CODEC_BLOCK
        for a in range(0, len(x), step):
            f.write(x[a:a + step])
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    if out.ndim > 1:
        out = out.mean(axis=1)
    # MP3 encoders add a delay; align by cross-correlation over the first second, then trim/pad.
    if fmt == "MP3" and len(out) > len(y):
        m = min(len(y), sr)
        lag = int(np.argmax(signal.correlate(out[: m + 2400], y[:m], mode="valid", method="fft")))
        out = out[lag:]
    out = out[: len(y)]
    if len(out) < len(y):
        out = np.pad(out, (0, len(y) - len(out)))
    return _f32(out * peak)


def augment(y: np.ndarray, sr: int, rng: np.random.Generator, *, other: np.ndarray | None = None,
            strength: float = 1.0) -> np.ndarray:
    """A random chain of the pieces above; `strength` in [0, 1] scales each piece's probability.

    Order of a real recording: performance (pitch, tempo) -> room -> microphone -> other sounds and
    noise -> gain -> codec. Deterministic given the generator's state.
    """
    p = float(np.clip(strength, 0.0, 1.0))
    out = _f32(y)
    if rng.random() < 0.5 * p:
        out = pitch_shift(out, sr, rng)
    if rng.random() < 0.3 * p:
        out = tempo(out, sr, rng)
    if rng.random() < 0.7 * p:
        out = room(out, sr, rng)
    if rng.random() < 0.7 * p:
        out = mic_eq(out, sr, rng)
    if other is not None and rng.random() < 0.4 * p:
        out = mix_under(out, other, rng)
    if rng.random() < 0.6 * p:
        out = add_noise(out, sr, rng)
    out = gain(out, rng)
    if rng.random() < 0.4 * p:
        out = codec(out, sr, rng)
    return _f32(np.nan_to_num(out))
