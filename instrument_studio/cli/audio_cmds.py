"""`info` and `mel`: facts about a file and its mel spectrogram as a PNG."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core.audio.audiofile import inspect_file, read_audio, resample
from ..core.config import MelConfig


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="sample rate, channels, duration, format of an audio file")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run_info)

    p = sub.add_parser("mel", help="render the labelled mel spectrogram of a file to a PNG (no screen needed)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", required=True, metavar="PNG", help="where to write the image")
    defaults = MelConfig()
    p.add_argument("--n-mels", type=int, default=defaults.n_mels, help="mel bands (default %(default)s)")
    p.add_argument("--fmax", type=float, default=defaults.fmax, help="highest frequency in Hz (default %(default)g)")
    p.add_argument("--n-fft", type=int, default=defaults.n_fft, help="FFT size (default %(default)s)")
    p.add_argument("--hop", type=int, default=defaults.hop_length, help="hop length in samples (default %(default)s)")
    p.add_argument("--sr", type=int, default=defaults.sr, help="analysis sample rate (default %(default)s)")
    p.set_defaults(run=run_mel)


def _warn(path, warnings) -> None:
    for warning in warnings:
        print(f"instrument-studio: warning: {path}: {warning}", file=sys.stderr)


def run_info(args) -> int:
    # The header's facts, checked by decoding the file once (one block in memory at a time): a
    # truncated or corrupt file is reported here rather than first at prediction.
    checked = inspect_file(args.file)
    info = checked.header
    _warn(args.file, checked.warnings)
    if args.json:
        keys = ("path", "samplerate", "channels", "duration", "frames", "format", "subtype")
        print(json.dumps({k: getattr(info, k) for k in keys}))  # warnings went to stderr
        return 0
    depth = f"{info.bit_depth}-bit" if info.bit_depth else "n/a (compressed)"
    rows = [
        ("path", info.path), ("format", f"{info.format} ({info.format_info})"),
        ("subtype", f"{info.subtype} ({info.subtype_info})"), ("bit depth", depth),
        ("sample rate", f"{info.samplerate} Hz"), ("channels", str(info.channels)),
        ("frames", str(info.frames)), ("duration", f"{info.duration:.3f} s"),
    ]
    if checked.decoded.frames != info.frames:
        rows.append(("decodes to", f"{checked.decoded.frames} frames ({checked.decoded.duration:.3f} s)"))
    for k, v in rows:
        print(f"{k:>12}: {v}")
    return 0


def run_mel(args) -> int:
    from ..core.display.render import mel_png
    from ..core.features.mel import log_mel

    cfg = MelConfig(sr=args.sr, n_fft=args.n_fft, hop_length=args.hop, n_mels=args.n_mels, fmax=args.fmax)
    decoded = read_audio(args.file)
    _warn(args.file, decoded.warnings)
    y = resample(decoded.mono(), decoded.samplerate, cfg.sr)

    out = mel_png(log_mel(y, cfg), cfg, args.out, title=Path(args.file).name)
    print(out)
    return 0
