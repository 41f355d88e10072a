"""Bad audio, handled: headers that lie, files cut short, NaN samples, pipes, corrupt MP3s.

Every bad file is made here, by patching the bytes of a good one."""

from __future__ import annotations

import os
import struct
import tracemalloc

import numpy as np
import pytest

from instrument_studio.core.audio.audiofile import (
    BlockDecoder,
    inspect_file,
    probe,
    read_audio,
)
from instrument_studio.core.config import MelConfig
from instrument_studio.core.errors import AudioFormatError
from instrument_studio.core.events import AudioOpened, AudioReady
from instrument_studio.core.features.analysis import analyse_file
from instrument_studio.core.quiet import quiet_stderr
from tests.audio_factory import tone, write


def flac_claiming(tmp_path, total_frames: int):
    """A 1 s FLAC whose STREAMINFO says it holds `total_frames` frames."""
    path = write(tmp_path / "liar.flac", tone(440, 1.0, 22050), 22050)
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC"
    # STREAMINFO from byte 8: 10 bytes of block/frame sizes, then 64 bits holding
    # sample rate (20) | channels - 1 (3) | bits - 1 (5) | total samples (36).
    word = int.from_bytes(data[18:26], "big")
    word = (word & ~((1 << 36) - 1)) | total_frames
    data[18:26] = word.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path


def wav_with_rate(tmp_path, rate: int):
    path = write(tmp_path / f"rate{rate}.wav", tone(440, 1.0, 22050), 22050, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"fmt "
    data[24:28] = struct.pack("<I", rate)
    data[28:32] = struct.pack("<I", rate * 2)
    path.write_bytes(bytes(data))
    return path


def test_a_header_promising_2_to_the_32_frames_allocates_nothing_from_it(tmp_path):
    path = flac_claiming(tmp_path, 1 << 32)
    list(analyse_file(write(tmp_path / "warm.wav", tone(440, 0.1, 22050), 22050), MelConfig()))  # imports
    tracemalloc.start()
    try:
        decoded = read_audio(path)
        events = list(analyse_file(path, MelConfig()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.0f} MiB for a 1 s file"
    # What lies before the end of the data is kept (libsndfile fails the read that runs past it).
    assert 21000 < decoded.info.frames <= 22050
    assert decoded.warnings == [f"the file is truncated: its header promises 54:06:23.10, only "
                                f"{decoded.info.duration:.2f} s could be decoded"]
    opened = next(e for e in events if isinstance(e, AudioOpened))
    ready = next(e for e in events if isinstance(e, AudioReady))
    assert opened.total_frames < 10_000   # the display reserves from the file's size, not 2^32 frames
    assert abs(len(ready.samples) - decoded.info.frames) <= 1024 and "header promises" in ready.warnings[0]


@pytest.mark.parametrize("rate", [1, 999, 768_001, 4_000_000])
def test_absurd_sample_rates_are_refused(tmp_path, rate):
    path = wav_with_rate(tmp_path, rate)
    for fn in (probe, read_audio, inspect_file, lambda p: list(analyse_file(p, MelConfig()))):
        with pytest.raises(AudioFormatError, match=f"sample rate of {rate:,} Hz"):
            fn(path)


def test_plausible_sample_rates_still_open(tmp_path):
    assert read_audio(wav_with_rate(tmp_path, 8000)).info.samplerate == 8000


def test_truncation_is_reported_by_the_inspection_behind_info(tmp_path):
    good = write(tmp_path / "good.wav", tone(440, 2.0, 22050), 22050, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[: 44 + 2 * 22050])
    checked = inspect_file(cut)
    assert checked.warnings == ("the file is truncated: its header promises 2.00 s, only 1.00 s could be decoded",)
    assert checked.decoded.frames == 22050


def test_nan_and_inf_samples_are_zeroed_counted_and_warned_about(tmp_path):
    y = tone(440, 1.0, 22050)
    y[100:110] = np.nan
    y[200] = np.inf
    path = write(tmp_path / "nan.wav", y, 22050, subtype="FLOAT")
    with np.errstate(all="raise"):
        decoded = read_audio(path)
    assert decoded.nonfinite == 11
    assert np.all(np.isfinite(decoded.samples))
    assert any("NaN" in w for w in decoded.warnings)


def test_a_fifo_is_named_and_never_opened(tmp_path):
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    # Opening it would block for ever (no writer); the check must come first.
    with pytest.raises(AudioFormatError, match="pipe") as info:
        read_audio(fifo)
    assert "empty" not in str(info.value)


def test_a_corrupt_mp3_is_not_called_missing(tmp_path):
    good = write(tmp_path / "good.mp3", tone(440, 2.0, 44100), 44100, fmt="MP3", subtype="MPEG_LAYER_III")
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(good.read_bytes()[:500])
    with pytest.raises(AudioFormatError) as info:
        read_audio(bad)
    message = str(info.value)
    assert "corrupt" in message
    assert "does not exist" not in message and "pipe" not in message


def test_mpg123_chatter_stays_off_stderr(tmp_path, capfd):
    good = write(tmp_path / "good.mp3", tone(440, 2.0, 44100), 44100, fmt="MP3", subtype="MPEG_LAYER_III")
    data = bytearray(good.read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.integers(1000, len(data), 40):
        data[i] = int(rng.integers(256))
    bad = tmp_path / "garbled.mp3"
    bad.write_bytes(bytes(data))
    capfd.readouterr()
    try:
        read_audio(bad)
    except AudioFormatError:
        pass
    assert capfd.readouterr().err == ""
    # fd 2 works again afterwards.
    os.write(2, b"still here\n")
    assert capfd.readouterr().err == "still here\n"


def test_quiet_stderr_nests():
    with quiet_stderr(), quiet_stderr():
        pass
    assert os.fstat(2)


class _FailingAfter:
    """A libsndfile handle whose reads fail after the first `ok` calls."""

    def __init__(self, real, ok: int):
        self.real, self.ok, self.calls = real, ok, 0

    def read(self, n, **kw):
        self.calls += 1
        if self.calls > self.ok:
            raise RuntimeError("Internal psf_fseek() failed.\nsecond line")
        return self.real.read(n, **kw)

    def seek(self, frame):
        return self.real.seek(frame)

    def close(self):
        self.real.close()


def test_a_failed_read_is_retried_in_smaller_blocks_from_where_it_stopped(tmp_path):
    path = write(tmp_path / "ok.wav", tone(440, 1.0, 22050), 22050, subtype="PCM_16")
    with BlockDecoder(path) as dec:
        dec._file = _FailingAfter(dec._file, ok=1)
        blocks = list(dec.blocks(block_frames=5000))
        info, warnings = dec.finish()
    # The decoder reopened the file at frame 5000 and read on in 1024-frame blocks.
    assert [len(b) for b in blocks[:3]] == [5000, 1024, 1024]
    assert info.frames == 22050 and warnings == []
    assert np.array_equal(np.concatenate(blocks), read_audio(path).samples)


def test_what_decoded_before_an_error_is_kept_with_a_one_line_warning(tmp_path):
    path = write(tmp_path / "ok.wav", tone(440, 1.0, 22050), 22050, subtype="PCM_16")
    with BlockDecoder(path) as dec:
        dec._file = _FailingAfter(dec._file, ok=1)
        dec._seek = lambda frame: False        # the file cannot be reopened either
        got = sum(len(b) for b in dec.blocks(block_frames=2000))
        assert dec.warnings == ["decoding stopped at 0.09 s: Internal psf_fseek() failed. second line"]
        info, warnings = dec.finish()
    assert got == 2000 == info.frames
    assert warnings == ["the file is truncated: its header promises 1.00 s, only 0.09 s could be decoded"]


def test_a_full_disk_while_recording_says_so_not_system_error(tmp_path, monkeypatch):
    """libsndfile reports ENOSPC as "System error."; the errno it leaves behind says the rest."""
    import errno

    import soundfile as sf

    from instrument_studio.core.errors import StudioError
    from instrument_studio.core.live.takes import TakeWriter

    w = TakeWriter(dataset=tmp_path, label="oboe", samplerate=8000)
    w.write(tone(440, 0.5, 8000))

    def full(self, data):
        sf._ffi.errno = errno.ENOSPC
        raise sf.LibsndfileError(2)      # SF_ERR_SYSTEM: "System error."

    monkeypatch.setattr(type(w._file), "write", full)
    with pytest.raises(StudioError) as info:
        w.write(tone(440, 0.5, 8000))
    assert "recording stopped: the disk is full; the first 0.5 s are kept" in str(info.value)
    assert "System error" not in str(info.value)
    monkeypatch.undo()
    w.close()


def test_write_error_reason_falls_back_to_free_space(tmp_path, monkeypatch):
    import soundfile as sf

    from instrument_studio.core.audio import audiofile

    class Full:
        f_bavail = 0

    monkeypatch.setattr(sf._ffi, "errno", 0)
    monkeypatch.setattr(audiofile.os, "statvfs", lambda folder: Full())
    assert audiofile.write_error_reason(sf.LibsndfileError(2), tmp_path) == "the disk is full"
