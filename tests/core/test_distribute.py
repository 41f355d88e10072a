"""MultiWorkerMirroredStrategy from the CLI: two worker processes on 127.0.0.1 give the loss
curves of a one-worker run with the same global batch; the chief alone saves the bundle."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from instrument_studio.core.errors import ConfigError
from instrument_studio.core.learn.distribute import cluster_spec, configure_workers, parse_workers
from tests.training_data import blobs

REPO = Path(__file__).resolve().parents[2]


def _ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _train(features: Path, out: Path, workers: str, index: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "instrument_studio", "train", "--dataset", str(features), "--model", "mlp",
           "--param", "units=16", "--epochs", "3", "--batch-size", "32", "--lr", "0.01", "--seed", "2",
           "--workers", workers, "--worker-index", str(index), "--out", str(out), "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "CUDA_VISIBLE_DEVICES": ""}
    env.pop("TF_CONFIG", None)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.timeout(1800)   # three TensorFlow processes on a shared 2-core machine
def test_two_loopback_workers_follow_the_one_worker_curves(tmp_path):
    features = blobs(n_train=320).save(tmp_path / "features")
    one = _train(features, tmp_path / "one", f"127.0.0.1:{_ports(1)[0]}", 0)
    out_one, err_one = one.communicate(timeout=900)
    assert one.returncode == 0, err_one[-2000:]
    p0, p1 = _ports(2)
    hosts = f"127.0.0.1:{p0},127.0.0.1:{p1}"
    chief, other = _train(features, tmp_path / "two", hosts, 0), _train(features, tmp_path / "other", hosts, 1)
    out_chief, err_chief = chief.communicate(timeout=900)
    out_other, err_other = other.communicate(timeout=900)
    assert chief.returncode == 0, err_chief[-2000:]
    assert other.returncode == 0, err_other[-2000:]
    single, double = json.loads(out_one.splitlines()[-1]), json.loads(out_chief.splitlines()[-1])
    assert "2 replicas" in double["device"] and "1 replicas" in single["device"]
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(double["history"][key], single["history"][key], rtol=1e-4, atol=1e-5)
    assert single["history"]["loss"][-1] < single["history"]["loss"][0]
    assert (tmp_path / "two" / "bundle.json").is_file() or any((tmp_path / "two").iterdir())
    assert not (tmp_path / "other").exists()                      # only the chief saves
    assert "chief saves" in out_other


def test_worker_lists_and_tf_config(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "")      # restored (removed) after the test: no later run sees a cluster
    assert cluster_spec() == (1, 0)
    workers = parse_workers("10.0.0.1:2222, 10.0.0.2:2222")
    config = configure_workers(workers, 1)
    assert config["cluster"]["worker"] == ["10.0.0.1:2222", "10.0.0.2:2222"]
    assert cluster_spec() == (2, 1)
    with pytest.raises(ConfigError):
        parse_workers("10.0.0.1")
    with pytest.raises(ConfigError):
        configure_workers(workers, 2)
