"""`instrument-studio sweep` end to end: the real importer, feature loader and trainer on tiny arrays."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from instrument_studio.cli import parse_args
from instrument_studio.core.experiments.sweep_io import SweepRecord
from tests.conftest import REPO
from tests.sweep_fakes import tiny_npy_dataset


def test_parse_args_modes():
    args = parse_args(["sweep", "--dataset", "d", "--vary", "lr", "--values", "0.1,0.01", "--epochs", "5"])
    assert (args.command, args.vary, args.values, args.epochs, args.target_accuracy) == ("sweep", "lr", "0.1,0.01", 5, None)
    args = parse_args(["sweep", "--dataset", "d", "--vary", "batch_size", "--target-accuracy", "0.98",
                       "--patience", "3", "--max-epochs", "500", "--repeats", "2"])
    assert (args.target_accuracy, args.patience, args.max_epochs, args.repeats) == (0.98, 3, 500, 2)


def test_param_means_a_model_setting_as_in_train_and_the_old_spelling_still_works(capsys):
    from instrument_studio.cli.sweep_cmd import swept_setting
    from instrument_studio.core.errors import ConfigError

    args = parse_args(["sweep", "--dataset", "d", "--vary", "lr", "--param", "units=[64, 32]", "--param", "x=a"])
    assert swept_setting(args) == ("lr", {"units": [64, 32], "x": "a"})
    args = parse_args(["sweep", "--dataset", "d", "--param", "batch_size", "--param", "units=8"])
    assert swept_setting(args) == ("batch_size", {"units": 8})
    assert "deprecated, use '--vary batch_size'" in capsys.readouterr().err
    for argv in (["--vary", "lr", "--param", "lr"], []):
        try:
            swept_setting(parse_args(["sweep", "--dataset", "d", *argv]))
        except ConfigError as exc:
            assert "--vary" in str(exc)
        else:
            raise AssertionError(argv)


def _cli(*argv, timeout=240):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "instrument_studio", *argv], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_tiny_train_to_accuracy_sweep_prints_runs_and_writes_files(tmp_path):
    data = tiny_npy_dataset(tmp_path / "data")
    out = tmp_path / "out"
    proc = _cli("sweep", "--dataset", str(data), "--model", "mlp", "--vary", "batch_size", "--values", "16,64",
                "--target-accuracy", "0.9", "--patience", "2", "--max-epochs", "12", "--lr", "0.01",
                "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = json.loads(proc.stdout)
    assert [r["value"] for r in runs] == [16, 64]
    for r in runs:
        assert {"value", "repeat", "epochs", "train_seconds", "energy_joules", "energy_source",
                "test_accuracy"} <= set(r)
        assert 1 <= r["epochs"] <= 12 and r["train_seconds"] > 0 and 0.0 <= r["test_accuracy"] <= 1.0
        if r["reached_target"]:       # TrainToAccuracy fired: the last epoch was above the target
            assert r["final_val_accuracy"] > 0.9
        else:                          # it never did: the run went to --max-epochs
            assert r["epochs"] == 12
        if r["energy_joules"] is None:                # no GPU here: null with the reason, never 0
            assert r["energy_source"].startswith("unavailable:")
    assert "run 2/2" in proc.stderr
    record = SweepRecord.load(out / "sweep.json")
    assert record.status == "finished" and record.config.mode == "train-to-accuracy"
    assert [r.epochs for r in record.runs] == [r["epochs"] for r in runs]
    assert (out / "runs.csv").read_text().startswith("batch_size,repeat,seed,epochs,train_seconds,energy_joules")


def test_bad_values_are_one_line_errors(tmp_path):
    data = tiny_npy_dataset(tmp_path / "data")
    proc = _cli("sweep", "--dataset", str(data), "--vary", "batch_size", "--values", "64,big", "--epochs", "1")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("instrument-studio: error: batch size value 'big'")
    proc = _cli("sweep", "--dataset", str(tmp_path / "nowhere"), "--vary", "lr", "--epochs", "1")
    assert proc.returncode == 1 and "no such dataset folder" in proc.stderr


def test_a_sweep_on_two_cpu_slots_runs_every_run_once_in_the_sweeps_order(tmp_path):
    data = tiny_npy_dataset(tmp_path / "data")
    out = tmp_path / "out"
    proc = _cli("sweep", "--dataset", str(data), "--model", "mlp", "--vary", "lr", "--values", "0.01,0.001",
                "--repeats", "2", "--epochs", "2", "--devices", "cpu,cpu", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "on 2 device(s) at once: CPU 0, CPU 1" in proc.stderr
    runs = json.loads(proc.stdout)
    assert [(r["value"], r["repeat"]) for r in runs] == [(0.01, 0), (0.001, 0), (0.01, 1), (0.001, 1)]
    assert all(r["epochs"] == 2 and r["device"] == "CPU" for r in runs)
    assert SweepRecord.load(out / "sweep.json").status == "finished"
    proc = _cli("sweep", "--dataset", str(data), "--vary", "lr", "--epochs", "1", "--devices", "tpu:0")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("instrument-studio: error: --devices: 'tpu:0' is not a device")
