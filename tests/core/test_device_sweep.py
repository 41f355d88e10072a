"""Sweeps across devices, scheduled on fake devices (no GPU needed): one run at a time per device,
all devices at once, every run exactly once, and each run's energy from its own device only."""

from __future__ import annotations

import threading
import time

import pytest

from instrument_studio.core.experiments.devices import Device, run_on_devices
from instrument_studio.core.experiments.energy import GPU, Meter


class FakeGpuMeter(Meter):
    """A GPU drawing `watts` only while its own device is busy (the busy flag of that device)."""

    kind, available = GPU, True

    def __init__(self, name: str, watts: float, busy: dict):
        self.label, self.watts, self.busy = f"fake {name}", watts, busy
        self.name = name

    def start(self) -> None:
        self.t0 = time.perf_counter()

    def stop(self) -> float:
        return self.watts * (time.perf_counter() - self.t0)


def test_runs_spread_over_devices_in_parallel_each_with_its_own_energy():
    busy: dict[str, int] = {"GPU 0": 0, "GPU 1": 0}
    watts = {"GPU 0": 100.0, "GPU 1": 300.0}
    lock = threading.Lock()
    devices = [Device(name=n, env={"CUDA_VISIBLE_DEVICES": n[-1]},
                      meters=lambda n=n: [FakeGpuMeter(n, watts[n], busy)]) for n in busy]
    overlaps = []

    def runner(job, device):
        with lock:
            busy[device.name] += 1
            assert busy[device.name] == 1, "two runs at once on one device"
            overlaps.append(sum(busy.values()))
        time.sleep(0.05 + 0.05 * (job % 3))   # uneven runs: the queue keeps both devices busy
        with lock:
            busy[device.name] -= 1
        return {"job": job, "env": dict(device.env)}

    runs = list(run_on_devices(list(range(8)), devices, runner))
    assert sorted(r.job for r in runs) == list(range(8))
    assert {r.device for r in runs} == {"GPU 0", "GPU 1"}
    assert max(overlaps) == 2                                   # both devices trained at the same time
    for r in runs:
        assert r.error is None and r.result["env"]["CUDA_VISIBLE_DEVICES"] == r.device[-1]
        (reading,) = r.readings
        assert reading.source == f"fake {r.device}"             # its own device's meter, no other
        assert reading.joules == pytest.approx(watts[r.device] * (r.finished - r.started), rel=0.3)
    # runs in parallel: the whole sweep takes about half the sum of the runs
    total = sum(r.finished - r.started for r in runs)
    span = max(r.finished for r in runs) - min(r.started for r in runs)
    assert span < 0.8 * total


def test_a_failing_run_is_reported_and_the_others_go_on():
    def runner(job, device):
        if job == 1:
            raise RuntimeError("out of memory")
        return job

    runs = list(run_on_devices([0, 1, 2], [Device("GPU 0"), Device("GPU 1")], runner))
    assert sorted(r.job for r in runs) == [0, 1, 2]
    assert [str(r.error) for r in runs if r.error] == ["out of memory"]


def test_a_stop_drops_the_runs_not_started():
    started = []

    def runner(job, device):
        started.append(job)
        time.sleep(0.05)
        return job

    runs = list(run_on_devices(list(range(20)), [Device("GPU 0")], runner, should_stop=lambda: len(started) >= 2))
    assert 2 <= len(runs) < 20


def _tiny_sweep_and_features(tmp_path):
    from instrument_studio.core.experiments.sweep import SweepConfig
    from instrument_studio.core.features.extraction import load_feature_set
    from instrument_studio.core.learn.training import TrainConfig
    from tests.sweep_fakes import tiny_npy_dataset

    features = load_feature_set(tiny_npy_dataset(tmp_path / "d"), save=False)
    sweep = SweepConfig(base=TrainConfig(model="mlp", batch_size=16, seed=3), param="lr", values=(0.01, 0.001),
                        repeats=2, epochs=3)
    return sweep, features


def test_a_sweep_on_two_cpu_slots_gives_the_runs_of_the_sweep_in_one_process(tmp_path):
    """sweep_on_devices: each run a child process on its device, two at a time; every run once, with
    the index run_sweep gives it and the same curves (the CPU is reproducible: same seed, same run)."""
    from instrument_studio.core.events import SweepRunFinished
    from instrument_studio.core.experiments.devices import cpu_device, sweep_on_devices
    from instrument_studio.core.experiments.sweep import run_sweep

    sweep, features = _tiny_sweep_and_features(tmp_path)
    events = list(sweep_on_devices(sweep, features, [cpu_device(0), cpu_device(1)]))
    finished = {e.index: e.run for e in events if isinstance(e, SweepRunFinished)}
    order = [(type(e).__name__, e.index) for e in events]
    assert sorted(finished) == sorted(i for kind, i in order if kind == "SweepRunStarted") == [0, 1, 2, 3]
    for at, (kind, index) in enumerate(order):        # a run is started before it finishes
        if kind == "SweepRunFinished":
            assert ("SweepRunStarted", index) in order[:at]
    first_done = next(at for at, (kind, _) in enumerate(order) if kind == "SweepRunFinished")
    assert sum(kind == "SweepRunStarted" for kind, _ in order[:first_done]) == 2   # both slots busy at once
    here = {e.index: e.run for e in run_sweep(sweep, features) if isinstance(e, SweepRunFinished)}
    for index, run in here.items():
        other = finished[index]
        assert (other.value, other.repeat, other.seed, other.epochs) == (run.value, run.repeat, run.seed, run.epochs)
        assert other.history["loss"] == pytest.approx(run.history["loss"], rel=1e-5)
        assert other.test_accuracy == pytest.approx(run.test_accuracy)
        assert other.device == "CPU" and other.energy_joules is None


def test_a_failing_run_on_a_device_is_reported_and_the_others_finish(tmp_path):
    import dataclasses

    from instrument_studio.core.events import SweepRunFailed, SweepRunFinished
    from instrument_studio.core.experiments.devices import cpu_device, sweep_on_devices

    sweep, features = _tiny_sweep_and_features(tmp_path)
    # A setting that fails in the child's training (a batch of 0 rows), for one value only.
    sweep = dataclasses.replace(sweep, param="batch_size", values=(16, 0), repeats=1)
    events = list(sweep_on_devices(sweep, features, [cpu_device(0), cpu_device(1)]))
    failed = [e for e in events if isinstance(e, SweepRunFailed)]
    assert [e.index for e in events if isinstance(e, SweepRunFinished)] == [0]
    assert [e.index for e in failed] == [1] and failed[0].device.startswith("CPU") and failed[0].message


def test_devices_are_parsed_and_bad_ones_refused():
    from instrument_studio.core.errors import ConfigError
    from instrument_studio.core.experiments.devices import local_gpus, parse_devices

    devices = parse_devices("cpu, gpu:1,cpu")
    assert [d.name for d in devices] == ["CPU 0", "GPU 1", "CPU 1"]
    assert [d.env["CUDA_VISIBLE_DEVICES"] for d in devices] == ["-1", "1", "-1"]
    for bad in ("gpu:x", "tpu", "gpu:0,gpu:0"):
        with pytest.raises(ConfigError):
            parse_devices(bad)
    if not local_gpus():
        with pytest.raises(ConfigError, match="no NVIDIA GPU"):
            parse_devices("gpus")


@pytest.mark.timeout(600)   # worker processes import TensorFlow on their first run
def test_a_sweep_on_the_gpu_slots_of_a_dask_cluster(tmp_path):
    """`--devices dask:ADDRESS`: one slot per GPU resource the workers offer; the scheduler runs each
    run on a worker with a free one (two workers advertising GPU=1 here, training on the CPU)."""
    pytest.importorskip("distributed", reason="dask.distributed is not installed (extra [dask])")
    from distributed import LocalCluster

    from instrument_studio.core.errors import ConfigError
    from instrument_studio.core.events import SweepRunFinished
    from instrument_studio.core.experiments.devices import parse_devices, sweep_on_devices
    from instrument_studio.core.experiments.sweep import run_sweep

    sweep, features = _tiny_sweep_and_features(tmp_path)
    here = {e.index: e.run for e in run_sweep(sweep, features) if isinstance(e, SweepRunFinished)}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      resources={"GPU": 1}) as cluster:
        devices = parse_devices(f"dask:{cluster.scheduler_address}")
        assert [d.name for d in devices] == ["Dask GPU 0", "Dask GPU 1"]
        for _sweep_again in range(2):            # the same features sent again: runs of their own
            events = list(sweep_on_devices(sweep, features, devices))
            finished = {e.index: e.run for e in events if isinstance(e, SweepRunFinished)}
            assert sorted(finished) == [0, 1, 2, 3], events
            for index, run in here.items():
                assert finished[index].history["loss"] == pytest.approx(run.history["loss"], rel=1e-5)
                assert finished[index].test_accuracy == pytest.approx(run.test_accuracy)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as bare:
        with pytest.raises(ConfigError, match="offers a GPU"):
            parse_devices(f"dask:{bare.scheduler_address}")
