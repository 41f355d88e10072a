"""--backend: accepted before the command (as for the app) or among its options; train's GPU options."""

from __future__ import annotations

import pytest

from instrument_studio.cli import parse_args
from instrument_studio.cli.train_cmd import train_config_from_args


@pytest.mark.parametrize("argv", [
    ["--backend", "jax", "train", "--dataset", "d", "--model", "mlp", "--out", "o"],
    ["train", "--dataset", "d", "--backend=jax", "--model", "mlp", "--out", "o"],
])
def test_backend_anywhere(argv):
    args = parse_args(argv)
    assert args.command == "train" and args.backend == "jax" and args.model == "mlp"


def test_backend_for_the_app_and_default():
    args = parse_args(["--backend", "torch", "song.flac"])
    assert args.command is None and args.files == ["song.flac"] and args.backend == "torch"
    assert parse_args(["song.flac"]).backend is None


def test_bad_backend_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--backend", "theano", "train"])
    assert "invalid choice" in capsys.readouterr().err


def test_train_performance_options():
    base = ["train", "--dataset", "d", "--model", "han2017", "--out", "o"]
    cfg = train_config_from_args(parse_args(base))
    assert cfg.reproducible is None and cfg.mixed_precision == "off" and cfg.steps_per_execution == 1
    cfg = train_config_from_args(parse_args(base + ["--no-reproducible", "--mixed-precision", "bfloat16",
                                                    "--steps-per-execution", "8"]))
    assert cfg.reproducible is False and cfg.mixed_precision == "bfloat16" and cfg.steps_per_execution == 8
    assert train_config_from_args(parse_args(base + ["--reproducible"])).reproducible is True
