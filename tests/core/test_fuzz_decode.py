"""Decoder fuzz: a few hundred mutated WAV/FLAC/OGG/MP3 files (seeded) through the decode path of
`info` and `predict`. Nothing but StudioError may come out: no other exception, no hang (10 s a
file), no numpy RuntimeWarning, no memory growth from a header's promise. bench/fuzz.py runs thousands."""

from __future__ import annotations

from tests.fuzzing import SEED_FORMATS, max_rss_mib, run

PER_SEED = 70   # x 5 seed files = 350 mutants, about 5-10 s


def test_mutated_files_give_studio_errors_or_audio_and_nothing_else(tmp_path):
    before = max_rss_mib()
    report = run(tmp_path, per_seed=PER_SEED, seed=20240601, time_limit=10.0)
    grown = max_rss_mib() - before
    assert report.files == PER_SEED * len(SEED_FORMATS)
    assert report.findings == [], "\n".join(f"{o}: {f}: {d}" for f, o, d in report.findings)
    # Both kinds of answer occur: the mutations are neither all harmless nor all fatal.
    assert report.outcomes["refused: StudioError"] > 20 and report.outcomes["decoded"] > 20
    assert grown < 512, f"peak memory grew by {grown:.0f} MiB"
