"""`dataset import|stats|features` and `starter` through cli.main, as a user types them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from instrument_studio.cli import main, parse_args
from tests.core import dataset_fixtures as fx

REPO = Path(__file__).resolve().parents[2]


def test_parse_args_dataset_import():
    args = parse_args(["dataset", "import", "SRC", "--layout", "medley", "--out", "OUT"])
    assert (args.command, args.dataset_command, args.source, args.layout, args.out) == \
        ("dataset", "import", "SRC", "medley", "OUT")
    args = parse_args(["dataset", "features", "D", "--kind", "mel-patches", "--hpss", "--patch-hop", "0.25"])
    assert args.kind == "mel-patches" and args.hpss and args.patch_hop == 0.25


def test_import_then_stats_json(tmp_path, capsys):
    src = fx.philharmonia(tmp_path / "phil")
    assert main(["dataset", "import", str(src), "--out", str(tmp_path / "proj")]) == 0
    out = capsys.readouterr().out
    assert "philharmonia" in out and "wrote" in out
    assert main(["dataset", "stats", str(tmp_path / "proj"), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["classes"] == ["cello", "flute", "oboe", "percussion"]
    assert set(stats["counts"]) == {"train", "val", "test"}
    assert stats["n_train"] + stats["n_val"] + stats["n_test"] == 39


def test_unknown_layout_is_one_line_error(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    assert main(["dataset", "import", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "Tried: npy:" in err and "folders:" in err and "Traceback" not in err


def test_features_reports_failures_and_saves(tmp_path, capsys):
    src = fx.folders(tmp_path / "mine", per_class=4)
    (src / "cello" / "broken.wav").write_bytes(b"garbage" * 50)
    assert main(["dataset", "import", str(src)]) == 0
    capsys.readouterr()
    assert main(["dataset", "features", str(src), "--kind", "mfcc", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "1 file(s) skipped" in out and "broken.wav" in out
    assert list((src / "features").glob("mfcc-*/features.npz"))
    assert main(["dataset", "features", str(src), "--kind", "mfcc", "--workers", "1"]) == 0
    assert "12 from the cache" in capsys.readouterr().out


def test_starter_command_in_a_subprocess(tmp_path):
    pretty_midi = pytest.importorskip("pretty_midi")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
           "INSTRUMENT_STUDIO_SOUNDFONT": str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    from instrument_studio.core.datasets.starter import load_recipe

    recipe = load_recipe()   # the built-in one, smaller: the full set is 2,400 clips
    recipe.update(notes_per_instrument=3, phrases_per_instrument=3)
    (tmp_path / "recipe.json").write_text(json.dumps(recipe))
    proc = subprocess.run([sys.executable, "-m", "instrument_studio", "starter", "--out", str(tmp_path / "s"),
                           "--recipe", str(tmp_path / "recipe.json")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "TimGM6mb" in proc.stderr
    assert (tmp_path / "s" / "instrument-studio.json").is_file()
    assert "10 classes, 60 clips" in proc.stdout


def test_stats_of_the_starter_set_by_name(tmp_path, capsys, monkeypatch):
    pretty_midi = pytest.importorskip("pretty_midi")
    from instrument_studio.core.datasets import starter

    monkeypatch.setenv(starter.SOUNDFONT_ENV, str(Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"))
    monkeypatch.setattr(starter, "starter_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.chdir(tmp_path)
    assert main(["dataset", "stats", "starter", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert len(stats["classes"]) == 10 and stats["n_train"] > stats["n_test"] > 0


def test_features_into_a_store_and_training_streams_it(tmp_path, capsys):
    src = fx.folders(tmp_path / "mine", per_class=4)
    assert main(["dataset", "import", str(src)]) == 0
    capsys.readouterr()
    store = tmp_path / "store"
    assert main(["dataset", "features", str(src), "--kind", "mfcc", "--workers", "1", "--store", "disk",
                 "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {store}" in out and (store / "store.json").is_file() and list(store.glob("train-*-x.npy"))
    code = main(["train", "--dataset", str(store), "--model", "mlp", "--epochs", "2", "--inputs", "stream",
                 "--batch-size", "4", "--out", str(tmp_path / "bundle"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["epochs_run"] == 2 and len(result["history"]["loss"]) == 2
    assert main(["train", "--dataset", str(store), "--model", "mlp", "--workers", "many",
                 "--out", str(tmp_path / "b2")]) == 1
    assert "--workers takes a number or host:port" in capsys.readouterr().err
