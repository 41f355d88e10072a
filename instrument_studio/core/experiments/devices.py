"""Sweeps across devices: one training per GPU at a time, in parallel, each with its own energy.

The design (docs/scale.md, "Sweeps across devices"):
  - A Device is a slot that runs one training at a time: a local GPU (its index), the CPU (a slot
    of its own: on a many-core machine several small trainings at once), or a Dask worker that
    advertises a GPU resource (`dask worker ... --resources "GPU=1"`).
  - Runs wait in one queue; a free device takes the next one (slow runs do not hold up the rest,
    as a fixed round-robin split would).
  - A local run is a child process started with CUDA_VISIBLE_DEVICES=<index> ("-1" for the CPU):
    TensorFlow picks its devices once per process, so one process cannot train on GPU 0 and then
    on GPU 1 in parallel threads. The child runs the sweep's own `train_run` and measures its
    training window itself: its NVML meter sees only the GPUs CUDA_VISIBLE_DEVICES gives it, so
    energies never mix.
  - A Dask run is submitted with resources={"GPU": 1}; the worker measures its own GPU and sends
    the reading back with the history.

run_on_devices() is that scheduler, with the runner and the meters injected (tests drive it with
fake devices and trainers: tests/core/test_device_sweep.py); sweep_on_devices() runs a sweep's runs
with it in child processes (`sweep --devices`). Tested here with two CPU slots; not on GPUs: this
machine has none, and the one GPU of a loaned test machine cannot show two trainings at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Device:
    """One slot: `env` is what its runs' processes get (CUDA_VISIBLE_DEVICES); `meters`, where given,
    makes meters of this device alone that run_on_devices reads around each run (a sweep's runs
    measure themselves in their own process and have none)."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    meters: Callable[[], list] | None = None
    dask_resources: dict[str, float] | None = None
    scheduler: str | None = None          # a Dask slot: the scheduler its runs are submitted to


@dataclass
class DeviceRun:
    """A job on a device: as it starts (`finished` 0, with report_starts) and as it finished."""

    job: Any
    device: str
    result: Any = None
    error: BaseException | None = None
    readings: list = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def local_gpus() -> list[Device]:
    """One Device per NVIDIA GPU that NVML sees; [] without any. Its runs measure themselves."""
    from .energy import _load_nvml

    try:
        nvml = _load_nvml()
        nvml.nvmlInit()
        count = nvml.nvmlDeviceGetCount()
    except Exception:  # noqa: BLE001 - no driver, no library, no GPU: all mean "none"
        return []
    return [gpu_device(i) for i in range(count)]


def gpu_device(index: int) -> Device:
    return Device(name=f"GPU {index}", env={"CUDA_VISIBLE_DEVICES": str(index)})


def cpu_device(number: int = 0) -> Device:
    # "-1" hides every GPU from CUDA (TensorFlow, JAX and PyTorch alike).
    return Device(name=f"CPU {number}", env={"CUDA_VISIBLE_DEVICES": "-1"})


def dask_gpus(address: str) -> list[Device]:
    """One slot per GPU that the workers of the Dask cluster at `address` advertise
    (`dask worker ... --resources "GPU=1"`); the scheduler places each run on a free one."""
    from ..cluster import check_address, client
    from ..errors import ConfigError

    address = check_address(address)
    workers = client(address).scheduler_info().get("workers", {})
    count = sum(int(w.get("resources", {}).get("GPU", 0)) for w in workers.values())
    if not count:
        raise ConfigError(f"no worker of the Dask cluster at {address} offers a GPU: start them with "
                          "dask worker ADDRESS --resources \"GPU=1\" (one per GPU)")
    return [Device(name=f"Dask GPU {i}", dask_resources={"GPU": 1}, scheduler=address) for i in range(count)]


def parse_devices(text: str) -> list[Device]:
    """`sweep --devices`: "gpus" (every local GPU), "dask:tcp://host:8786" (every GPU the cluster's
    workers offer), or a comma list of "gpu:N" and "cpu" slots ("cpu,cpu": two trainings at a time
    on the CPU)."""
    from ..errors import ConfigError

    text = text.strip()
    if text.lower().startswith("dask:"):
        return dask_gpus(text[len("dask:"):])
    text = text.lower()
    if text in ("gpus", "all-gpus"):
        devices = local_gpus()
        if not devices:
            raise ConfigError("--devices gpus: no NVIDIA GPU found (NVML sees none); "
                              "list slots instead, e.g. --devices cpu,cpu")
        return devices
    devices, cpus = [], 0
    for item in (t.strip() for t in text.split(",")):
        if item == "cpu":
            devices.append(cpu_device(cpus))
            cpus += 1
        elif item.startswith("gpu:") and item[4:].isdigit():
            devices.append(gpu_device(int(item[4:])))
        else:
            raise ConfigError(f"--devices: {item!r} is not a device (gpus, dask:ADDRESS, or gpu:N and cpu, "
                              "comma-separated)")
    if len({d.name for d in devices}) != len(devices):
        raise ConfigError("--devices: a GPU is listed twice (one training at a time per GPU)")
    return devices


def run_on_devices(jobs: Sequence[Any], devices: Sequence[Device], runner: Callable[[Any, Device], Any], *,
                   should_stop: Callable[[], bool] | None = None,
                   report_starts: bool = False) -> Iterator[DeviceRun]:
    """runner(job, device) for every job, one at a time per device, all devices at once; DeviceRun
    per job as each finishes (and, with report_starts, one with `finished` 0 as each starts). Each
    run's readings are its own device's meters over its own run."""
    import dataclasses

    from .energy import EnergyMonitor

    if not devices:
        raise ValueError("no devices to run on")
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    done: queue.Queue = queue.Queue()
    stop = should_stop or (lambda: False)

    def slot(device: Device) -> None:
        while not stop():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            monitor = EnergyMonitor(device.meters() if device.meters else [])
            run = DeviceRun(job=job, device=device.name, started=time.perf_counter())
            if report_starts:
                done.put(dataclasses.replace(run))
            monitor.start()
            try:
                run.result = runner(job, device)
            except BaseException as exc:  # noqa: BLE001 - reported with its run; the others go on
                run.error = exc
            run.readings = monitor.stop()
            run.finished = time.perf_counter()
            done.put(run)

    threads = [threading.Thread(target=slot, args=(d,), name=f"sweep-{d.name}", daemon=True) for d in devices]
    for t in threads:
        t.start()
    remaining = len(jobs)
    while remaining:
        try:
            run = done.get(timeout=0.1)
        except queue.Empty:
            if not any(t.is_alive() for t in threads) and done.empty():
                return   # stopped: the runs not started are dropped
            continue
        remaining -= bool(run.finished)
        yield run
    for t in threads:
        t.join()


def sweep_on_devices(sweep, features, devices: Sequence[Device], *,
                     should_stop: Callable[[], bool] | None = None,
                     stop_after_run: Callable[[], bool] | None = None,
                     python: str | None = None) -> Iterator[object]:
    """The sweep's runs spread over `devices`, each in a child process pinned to its device; yields
    SweepRunStarted when a device takes a run and SweepRunFinished as each finishes (index: the run's
    place in run_sweep's order, so a record reads the same either way), SweepRunFailed for a run
    whose process failed (the others go on). should_stop(): the runs going on are ended, the others
    dropped; Cancelled is raised after the finished ones. stop_after_run(): no new run starts, those
    going on finish. Each run's events stay in its process: the curves come with each finished run."""
    import json
    import tempfile

    from ..errors import Cancelled, ConfigError
    from ..events import SweepRunFailed, SweepRunFinished, SweepRunStarted

    if features.n("test") == 0:
        raise ConfigError("the feature set has no test split: a sweep reports test accuracy")
    stop = should_stop or (lambda: False)
    no_more = stop_after_run or (lambda: False)
    jobs = [(index, value_index, repeat) for index, (value_index, repeat) in enumerate(sweep.order())]
    with tempfile.TemporaryDirectory(prefix="sweep-runs-") as tmp:
        sweep_file = Path(tmp) / "sweep.json"
        sweep_file.write_text(json.dumps(sweep.to_dict()))
        features_dir = features.save(Path(tmp) / "features")
        in_child = _child_runner(sweep_file, features_dir, should_stop=stop, python=python)
        on_dask = _dask_runner(sweep, features, should_stop=stop)

        def run(job, device):
            return (on_dask if device.scheduler else in_child)(job, device)

        for done in run_on_devices(jobs, devices, run, should_stop=lambda: stop() or no_more(), report_starts=True):
            index, value_index, repeat = done.job
            if not done.finished:
                yield SweepRunStarted(index=index, total=len(jobs), value=sweep.values[value_index], repeat=repeat)
            elif done.error is None:
                yield SweepRunFinished(index=index, total=len(jobs), run=done.result)
            elif not isinstance(done.error, Cancelled):
                yield SweepRunFailed(index=index, total=len(jobs), device=done.device, message=str(done.error))
    if stop():
        raise Cancelled("sweep cancelled: the runs going on were ended")


def _child_runner(sweep_file: Path, features_dir: Path, *, should_stop: Callable[[], bool], python: str | None):
    """runner(job, device) for run_on_devices: one run in a child process with the device's
    environment (`_run_in_child`)."""
    from .sweep_results import SweepRun

    def run(job: Any, device: Device) -> SweepRun:
        _index, value_index, repeat = job
        return SweepRun.from_dict(_run_in_child(sweep_file, features_dir, value_index, repeat, env=device.env,
                                                name=device.name, should_stop=should_stop, python=python))

    return run


def _run_in_child(sweep_file: Path, features_dir: Path, value_index: int, repeat: int, *, env: dict[str, str],
                  name: str, should_stop: Callable[[], bool] = lambda: False, python: str | None = None) -> dict:
    """`python -m instrument_studio.core.experiments.devices` for one run, in a process of its own (a
    fresh process: the run is the one a sweep in one process gives, to the bit on the CPU); the run's
    dict it prints last."""
    import json
    import os
    import subprocess
    import sys

    from ..errors import Cancelled

    cmd = [python or sys.executable, "-m", "instrument_studio.core.experiments.devices",
           "--sweep", str(sweep_file), "--features", str(features_dir),
           "--value-index", str(value_index), "--repeat", str(repeat)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, **env}) as proc:
        while True:
            try:
                out, err = proc.communicate(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if should_stop():
                    proc.terminate()
                    proc.communicate()
                    raise Cancelled(f"{name}: run ended by Stop") from None
    if proc.returncode:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        raise RuntimeError(f"{name}: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    return json.loads(out.strip().splitlines()[-1])


def _dask_runner(sweep, features, *, should_stop: Callable[[], bool]):
    """runner(job, device) for a Dask slot: `_dask_train_run` on a worker holding a free GPU
    resource; the features go to the cluster once (scattered), not with every run."""
    from ..errors import Cancelled
    from .sweep_results import SweepRun

    scattered: dict[str, Any] = {}
    lock = threading.Lock()

    def run(job: Any, device: Device) -> SweepRun:
        from ..cluster import client

        _index, value_index, repeat = job
        c = client(device.scheduler)
        with lock:
            if device.scheduler not in scattered:
                # hash=False: a key of its own. The same features scattered by an earlier sweep share
                # a content key that the cluster may be releasing: its runs were "lost dependencies".
                scattered[device.scheduler] = c.scatter(features, broadcast=False, hash=False)
        future = c.submit(_dask_train_run, sweep.to_dict(), scattered[device.scheduler], value_index, repeat,
                          resources=device.dask_resources, pure=False)
        while not future.done():
            if should_stop():
                future.cancel()
                raise Cancelled(f"{device.name}: run ended by Stop")
            time.sleep(0.1)
        out = future.result()
        return SweepRun.from_dict(out)

    return run


def _dask_train_run(sweep_dict: dict, features, value_index: int, repeat: int) -> dict:
    """On a Dask worker: one run of the sweep in a process of its own there (a worker that trained
    in its own process, one run after another, gave now and then other losses for the same seed:
    up to a third apart), with the worker's environment (its GPU) and its own meters."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sweep-run-") as tmp:
        sweep_file = Path(tmp) / "sweep.json"
        sweep_file.write_text(json.dumps(sweep_dict))
        features_dir = features.save(Path(tmp) / "features")
        return _run_in_child(sweep_file, features_dir, value_index, repeat, env={}, name="Dask worker")


def _child_main(argv: Sequence[str] | None = None) -> int:
    """One run of a sweep, in the process sweep_on_devices started on a device: the run's JSON last."""
    import argparse
    import json

    from ..features.featureset import FeatureSet
    from .sweep import SweepConfig, train_run, training_data

    p = argparse.ArgumentParser(prog="instrument_studio.core.experiments.devices")
    p.add_argument("--sweep", required=True)
    p.add_argument("--features", required=True)
    p.add_argument("--value-index", type=int, required=True)
    p.add_argument("--repeat", type=int, required=True)
    args = p.parse_args(argv)
    sweep = SweepConfig.from_dict(json.loads(Path(args.sweep).read_text()))
    features = FeatureSet.load(args.features)
    run = train_run(sweep, training_data(sweep, features), features,
                    value=sweep.values[args.value_index], repeat=args.repeat)
    print(json.dumps(run.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main())
