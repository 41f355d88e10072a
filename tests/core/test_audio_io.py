from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from instrument_studio.core.audio.audiofile import load, load_bytes, probe, read_audio, save_wav, to_mono
from instrument_studio.core.errors import AudioFormatError
from tests.audio_factory import FORMATS, make_bad_files, make_format_file, tone


@pytest.mark.parametrize("name,fmt,subtype,sr,channels", FORMATS)
def test_every_format_decodes_with_its_facts(tmp_path, name, fmt, subtype, sr, channels):
    path = make_format_file(tmp_path, name, fmt, subtype, sr, channels, freq=1000.0, seconds=1.0)
    info = probe(path)
    assert info.samplerate == sr
    assert info.channels == channels
    assert info.format == fmt
    assert info.subtype == subtype
    assert abs(info.duration - 1.0) < 0.06  # MP3 frames pad a little
    decoded = read_audio(path)
    assert decoded.samples.shape[1] == channels
    assert decoded.samples.dtype == np.float32
    y, out_sr = load(path, sr=22050)
    assert out_sr == 22050 and y.ndim == 1
    # The tone survives decoding, mix-down and resampling: spectral peak at 1 kHz.
    spec = np.abs(np.fft.rfft(y[2000:20000] * np.hanning(18000)))
    peak_hz = np.argmax(spec) * 22050 / 18000
    assert abs(peak_hz - 1000) < 5


def test_bit_depths_reported(tmp_path):
    assert probe(make_format_file(tmp_path, "a.wav", "WAV", "PCM_24", 48000, 2)).bit_depth == 24
    assert probe(make_format_file(tmp_path, "b.wav", "WAV", "FLOAT", 48000, 1)).bit_depth == 32
    assert probe(make_format_file(tmp_path, "c.mp3", "MP3", "MPEG_LAYER_III", 44100, 1)).bit_depth is None


def test_mono_mixdown_is_the_channel_mean():
    stereo = tone(440, 0.1, 8000, channels=2)
    assert np.allclose(to_mono(stereo), stereo.mean(axis=1))


@pytest.mark.parametrize("channels", [2, 3, 6])
def test_mono_mixdown_has_the_bits_of_librosa_s(channels):
    """Training files and live input are mixed down by to_mono, librosa.load by np.mean: the
    features of one file must not depend on which path decoded it."""
    import librosa

    y = np.random.default_rng(channels).normal(0, 0.3, (20000, channels)).astype(np.float32)
    mono = to_mono(y)
    assert mono.dtype == np.float32
    assert np.array_equal(mono, librosa.to_mono(np.ascontiguousarray(y.T)))


@pytest.mark.parametrize("kind,reason", [
    ("empty", "empty"),
    ("text", "not an audio file"),
    ("header_only", "no audio"),
    ("corrupt", ""),
    ("missing", "not found"),
    ("folder", "folder"),
])
def test_bad_input_names_file_and_reason(tmp_path, kind, reason):
    path = make_bad_files(tmp_path / "bad")[kind]
    with pytest.raises(AudioFormatError) as info:
        read_audio(path)
    message = str(info.value)
    assert str(path) in message
    assert reason in message


def test_truncated_file_keeps_what_decodes_with_a_warning(tmp_path):
    path = make_bad_files(tmp_path)["truncated"]
    decoded = read_audio(path)
    assert 0.4 < decoded.info.duration < 0.6
    assert decoded.warnings and "truncated" in decoded.warnings[0]


def test_unreadable_file_is_explained(tmp_path):
    """A real chmod 000 file, as a user without root's capabilities sees it (tests/privileges.py)."""
    from tests.privileges import run_python_unprivileged

    path = make_format_file(tmp_path, "locked.wav", "WAV", "PCM_16", 8000, 1)
    code = ("import sys\n"
            "from instrument_studio.core.errors import AudioFormatError\n"
            f"from {probe.__module__} import probe\n"
            "try:\n"
            "    probe(sys.argv[1])\n"
            "except AudioFormatError as exc:\n"
            "    print(exc)\n")
    path.chmod(0)
    try:
        proc = run_python_unprivileged(code, str(path))
    finally:
        path.chmod(0o644)
    assert proc.returncode == 0, proc.stderr
    assert "no permission" in proc.stdout


def test_save_wav_is_atomic_and_round_trips(tmp_path):
    y = tone(440, 0.5, 16000)
    out = save_wav(tmp_path / "sub" / "take.wav", y, 16000)
    back, sr = load(out, sr=None)
    assert sr == 16000 and np.allclose(back, y, atol=1e-4)
    assert not list((tmp_path / "sub").glob("*.part"))


@pytest.mark.parametrize("fmt, subtype, expected", [
    ("FLAC", "PCM_16", "16-bit PCM"), ("WAV", "PCM_24", "24-bit PCM"), ("WAV", "FLOAT", "32-bit float"),
])
def test_the_format_line_names_the_sample_format_once(tmp_path, fmt, subtype, expected):
    # libsndfile's "Signed 16 bit PCM" after our "16-bit " read "16-bit Signed 16 bit PCM" (issue 11 #15).
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(str(path), np.zeros(4410, dtype=np.float32), 44100, format=fmt, subtype=subtype)
    text = probe(path).describe()
    assert f", {expected}, 44,100 Hz, mono" in text
    assert "bit" not in text.replace(expected, "")


@pytest.mark.parametrize("channels, sr", [(1, 22050), (2, 44100)])
def test_bytes_just_written_load_as_the_file_does(tmp_path, channels, sr):
    """The starter pass decodes the bytes it has just written instead of reading the file back:
    the samples must be the file's, to the bit, at the file's rate and resampled."""
    y = np.stack([tone(440 * (k + 1), 0.7, sr, amp=0.6) for k in range(channels)], axis=1)
    path = tmp_path / "clip.wav"
    sf.write(path, y, sr, subtype="PCM_16")
    data = path.read_bytes()
    for rate in (None, 16000, sr):
        a, ra = load(path, sr=rate)
        b, rb = load_bytes(data, sr=rate)
        assert ra == rb and a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
