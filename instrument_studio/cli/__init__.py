"""Command line: `instrument-studio [FILE...]` opens the app; subcommands drive the same core.

Each subcommand lives in its own module with `add_parser(subparsers)` and `run(args) -> int`.
Errors the user can act on (StudioError) print one line and exit non-zero, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..core.errors import Cancelled, StudioError
from ..core.learn.backend import choose_backend
from ..core.quiet import quiet_tensorflow_import
from . import (
    audio_cmds,
    dataset_cmds,
    evaluate_cmd,
    export_cmd,
    predict_cmd,
    record_cmd,
    report_cmd,
    sweep_cmd,
    teach_cmd,
    train_cmd,
)

# Order is the order of `--help`.
COMMAND_MODULES = [audio_cmds, record_cmd, dataset_cmds, train_cmd, teach_cmd, sweep_cmd, evaluate_cmd, predict_cmd,
                   report_cmd, export_cmd]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="instrument-studio",
        description="Recognise which musical instrument is playing. Without a command: open the app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_backend(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="instrument-studio",
                                     description="Open Instrument Studio (see `instrument-studio --help` for commands).")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="an audio file to open; a folder or several files are predicted in the Predict panel")
    _add_backend(parser)
    return parser


BACKEND_CHOICES = ("tensorflow", "jax", "torch")


def _add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKEND_CHOICES, default=None,
                        help="Keras backend for training and prediction (default: KERAS_BACKEND, else the app's "
                             "preference, else TensorFlow when installed); allowed before or after the command")


def _take_backend(argv: list[str]) -> tuple[list[str], str | None]:
    """--backend NAME may stand anywhere (before the command, as for the app, or among its options):
    taken out here so the subcommand parsers need not each know it."""
    rest, backend, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg == "--backend" and i + 1 < len(argv):
            backend, i = argv[i + 1], i + 2
            continue
        if arg.startswith("--backend="):
            backend = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    if backend is not None and backend not in BACKEND_CHOICES:
        gui_parser().error(f"argument --backend: invalid choice: {backend!r} (choose from {', '.join(BACKEND_CHOICES)})")
    return rest, backend


def _commands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    argv, backend = _take_backend(list(sys.argv[1:] if argv is None else argv))
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first in _commands() or any(a in ("-h", "--help", "--version") for a in argv[:1]):
        args = build_parser().parse_args(argv)
    else:
        args = gui_parser().parse_args(argv)
        args.command = None
    args.backend = backend
    return args


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow reads this when it is first imported (lazily, later). A user's own setting wins.
    # 3, as in the app: at 2 every `train` ended with tf.data's "E0000 ... NodeDef mentions attribute
    # use_unbounded_threadpool" (a harmless version note, logged as an error). TensorFlow's real
    # failures reach the user as Python exceptions, which the commands turn into one line.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parse_args(argv)
    if args.command is None:
        from ..gui.app import main as gui_main

        return gui_main(args.files, backend=args.backend)
    # The level alone does not hide TensorFlow's start-up notices (see core/quiet.py): without this,
    # every command that loads a model printed the oneDNN notice twice on stderr.
    quiet_tensorflow_import()
    try:
        choose_backend(args.backend)   # before anything imports Keras
        return int(args.run(args) or 0)
    except Cancelled as exc:
        print(f"instrument-studio: {exc}", file=sys.stderr)
        return 130
    except StudioError as exc:
        # One line, whatever a library put into the reason (Keras and libsndfile use newlines).
        print(f"instrument-studio: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("instrument-studio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `instrument-studio ... | head`: the reader has gone; stop quietly like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
