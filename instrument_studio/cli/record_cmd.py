"""`record`: record a take from an input device into `<dataset>/<label>/<timestamp>.wav`."""

from __future__ import annotations

import sys
import time

import numpy as np

from ..core.audio.capture import Capture
from ..core.errors import AudioDeviceError, StudioError
from ..core.live.pipeline import dbfs
from ..core.live.takes import TakeWriter, recover_parts


def add_parser(sub) -> None:
    p = sub.add_parser("record", help="record a take from the microphone into a dataset's class folder",
                       description="Record from an input device into DATASET/LABEL/<timestamp>.wav "
                                   "(written as it records: stopping early or losing the device keeps "
                                   "what was recorded). Prints the path of the take.")
    p.add_argument("--seconds", type=float, default=None, metavar="N",
                   help="length of the take (default: until Ctrl+C)")
    p.add_argument("--label", metavar="L", help="class label: the take goes into DATASET/L/")
    p.add_argument("--dataset", metavar="DIR", help="dataset folder (created if missing)")
    p.add_argument("--device", default=None, metavar="D",
                   help="input device: number or (part of) its name (default: the system default)")
    p.add_argument("--list-devices", action="store_true", help="list input devices and exit")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.list_devices:
        from ..core.audio.devices import input_devices

        devices = input_devices()
        if not devices:
            raise StudioError("no audio input device found",
                              hint="connect a microphone, or check that the sound server is running")
        for d in devices:
            mark = "*" if d.is_default else " "
            print(f"{mark} {d.index:3d}  {d.label}  ({d.max_input_channels} ch, {d.default_samplerate:g} Hz)")
        return 0
    if not args.label or not args.dataset:
        raise StudioError("record needs --label and --dataset", hint="e.g. --label violin --dataset my-data")
    if args.seconds is not None and args.seconds <= 0:
        raise StudioError(f"--seconds must be positive, not {args.seconds:g}")
    for take in recover_parts(args.dataset):
        print(f"recovered an unfinished take: {take.path}", file=sys.stderr)

    capture = Capture(device=args.device)
    capture.start()
    try:
        writer = TakeWriter(dataset=args.dataset, label=args.label, samplerate=capture.samplerate,
                            max_seconds=args.seconds)
    except StudioError:
        capture.stop()
        raise
    tty = sys.stderr.isatty()
    failure: StudioError | None = None
    interrupted = False
    try:
        _record(capture, writer, tty=tty, seconds=args.seconds)
    except KeyboardInterrupt:
        interrupted = True
    except (AudioDeviceError, StudioError) as exc:
        failure = exc
    finally:
        capture.stop()
        if tty:
            print("\r\033[K", end="", file=sys.stderr)
    if not writer.error:
        try:
            # The blocks between the last read and stop() belong in the take too.
            chunk = capture.ring.read()
            if len(chunk.data):
                writer.write(_mono(chunk.data))
        except StudioError as exc:
            failure = failure or exc
    take = writer.close()
    if take is not None:
        print(take.path)
    if failure is not None:
        kept = f" ({take.seconds:.1f} s kept in {take.path})" if take is not None else ""
        raise StudioError(f"{failure}{kept}") from failure
    if take is None:
        raise StudioError("nothing was recorded", hint="was the recording stopped at once?")
    if interrupted:
        print(f"stopped early: {take.seconds:.1f} s recorded", file=sys.stderr)
    return 0


def _mono(data: np.ndarray) -> np.ndarray:
    return data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)


def _record(capture: Capture, writer: TakeWriter, *, tty: bool, seconds: float | None) -> None:
    last_print = 0.0
    while True:
        time.sleep(0.02)
        capture.check()
        chunk = capture.ring.read()
        if len(chunk.data) == 0:
            continue
        mono = _mono(chunk.data)
        more = writer.write(mono)
        now = time.monotonic()
        if tty and now - last_print > 0.1:
            last_print = now
            total = f"/{seconds:.1f}" if seconds else ""
            peak = dbfs(float(np.max(np.abs(mono))))
            print(f"\rrecording {writer.seconds:5.1f}{total} s   peak {peak:6.1f} dBFS"
                  f"{'   CLIPPING' if peak >= -0.01 else ''}  (Ctrl+C stops and keeps the take)",
                  end="", file=sys.stderr, flush=True)
        if not more:
            return
