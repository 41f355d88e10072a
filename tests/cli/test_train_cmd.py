"""`instrument-studio train`: arguments, the JSON report, the bundle it writes, and its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from instrument_studio.cli import main, parse_args
from instrument_studio.cli.train_cmd import parse_params, train_config_from_args
from instrument_studio.core.errors import ConfigError
from instrument_studio.core.learn.bundle import load_bundle
from tests.training_data import blobs

REPO = Path(__file__).resolve().parents[2]
BASE = ["train", "--dataset", "data", "--model", "mlp", "--out", "bundle"]


def test_defaults_match_the_issue():
    args = parse_args(BASE)
    cfg = train_config_from_args(args)
    assert args.command == "train" and args.json is False
    assert (cfg.optimizer, cfg.learning_rate, cfg.batch_size, cfg.epochs) == ("adam", 0.001, 128, 10)
    assert cfg.stop_rule == "none" and cfg.restore_best


def test_stopping_rules_and_params():
    cfg = train_config_from_args(parse_args(BASE + ["--target-accuracy", "0.98", "--patience", "3"]))
    assert (cfg.stop_rule, cfg.threshold, cfg.patience) == ("target-accuracy", 0.98, 3)
    cfg = train_config_from_args(parse_args(BASE + ["--early-stopping", "5", "--optimizer", "sgd", "--lr", "0.01"]))
    assert (cfg.stop_rule, cfg.patience, cfg.optimizer) == ("early-stopping", 5, "sgd")
    with pytest.raises(SystemExit):
        parse_args(BASE + ["--target-accuracy", "0.9", "--early-stopping", "3"])
    assert parse_params(["units=64", "activation=relu", "units2=[64, 32]"]) == \
        {"units": 64, "activation": "relu", "units2": [64, 32]}
    with pytest.raises(ConfigError):
        parse_params(["units"])


def test_json_report_and_bundle_in_a_subprocess(tmp_path):
    blobs(n_train=300).save(tmp_path / "features")
    # The user's environment: no TF_CPP_MIN_LOG_LEVEL of the test run's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")} | {"PYTHONPATH": str(REPO)}
    out = tmp_path / "model"
    result = subprocess.run(
        [sys.executable, "-m", "instrument_studio", "train", "--dataset", str(tmp_path / "features"),
         "--model", "mlp", "--epochs", "3", "--batch-size", "32", "--lr", "0.01", "--seed", "5",
         "--param", "units=32", "--out", str(out), "--json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert {"epochs_run", "history", "train_seconds", "device", "bundle"} <= set(report)
    assert report["epochs_run"] == 3 and report["device"] == "CPU" and report["bundle"] == str(out)
    assert set(report["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in report["history"].values())
    assert report["metrics"]["test_accuracy"] > 0.8
    assert "epoch 3/3" in result.stderr          # per-epoch progress on stderr when not a terminal
    # Nothing of TensorFlow's C++ log (tf.data's "E0000 ... NodeDef mentions attribute" line ended
    # every run at the CLI's old level 2).
    assert "NodeDef" not in result.stderr and "E0000" not in result.stderr, result.stderr[-2000:]
    bundle = load_bundle(out)
    assert bundle.train_config["seed"] == 5 and bundle.train_config["model_params"] == {"units": 32}
    assert bundle.history["loss"] == report["history"]["loss"]


def test_course_lab_arrays_through_the_npy_importer(tmp_path, capsys):
    data = blobs(n_train=300, n_classes=4)
    for split in ("train", "test"):
        np.save(tmp_path / f"lab_{split}_data.npy", data.x[split])
        np.save(tmp_path / f"lab_{split}_labels.npy", data.y[split])
    code = main(["train", "--dataset", str(tmp_path), "--model", "mlp", "--epochs", "2", "--batch-size", "32",
                 "--target-accuracy", "0.5", "--patience", "1", "--lr", "0.01", "--out", str(tmp_path / "m")])
    out = capsys.readouterr().out
    assert code == 0
    assert "test accuracy" in out and f"saved {tmp_path / 'm'}" in out
    assert load_bundle(tmp_path / "m").labels == ("0", "1", "2", "3")


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "--dataset", str(tmp_path / "absent"), "--model", "mlp", "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "no such dataset folder" in err and "Traceback" not in err
    blobs().save(tmp_path / "features")
    assert main(["train", "--dataset", str(tmp_path / "features"), "--model", "lstm", "--epochs", "1",
                 "--out", str(tmp_path / "m")]) == 1
    assert "lstm needs frame sequences" in capsys.readouterr().err
