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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(sub)
    return parser


def gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="instrument-studio",
                                     description="Open Instrument Studio (see `instrument-studio --help` for commands).")
    parser.add_argument("files", nargs="*", metavar="FILE", help="audio file(s) to open")
    return parser


def _commands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first in _commands() or any(a in ("-h", "--help", "--version") for a in argv[:1]):
        return build_parser().parse_args(argv)
    args = gui_parser().parse_args(argv)
    args.command = None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    # TensorFlow reads this when it is first imported (lazily, later). A user's own setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = parse_args(argv)
    if args.command is None:
        from ..gui.app import main as gui_main

        return gui_main(args.files)
    # The level alone does not hide TensorFlow's start-up notices (see core/quiet.py): without this,
    # every command that loads a model printed the oneDNN notice twice on stderr.
    quiet_tensorflow_import()
    try:
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
