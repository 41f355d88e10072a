"""The model registry: every model builds for its feature kind and describes itself as data."""

from __future__ import annotations

import pytest

from instrument_studio.core.errors import ModelError
from instrument_studio.core.learn.models import MODEL_NAMES, MODELS, build_model, model_summary

SHAPES = {"mfcc": (120,), "sequence": (40, 21), "mel-patches": (32, 16)}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_model_builds_and_summarises(name):
    spec = MODELS[name]
    summary = model_summary(name, SHAPES[spec.feature_kind], 5)
    assert summary.layers[0].output_shape == (None, *SHAPES[spec.feature_kind])
    assert summary.layers[-1].output_shape == (None, 5)
    assert summary.total_params == sum(layer.params for layer in summary.layers) > 0
    assert "total" in summary.as_text()


def test_mlp_is_the_labs_network():
    s = model_summary("mlp", (120,), 10)
    dense = [layer for layer in s.layers if layer.kind == "Dense"]
    assert [d.output_shape for d in dense] == [(None, 256), (None, 10)]
    assert s.total_params == 120 * 256 + 256 + 256 * 10 + 10
    model = build_model("mlp", (120,), 10)
    assert model.layers[1].activation.__name__ == "sigmoid"
    assert model.layers[-1].activation.__name__ == "softmax"


def test_mlp_hyper_parameters_change_the_network():
    s = model_summary("mlp", (20,), 3, units=32, depth=3, dropout=0.2, activation="relu", l2=1e-4)
    assert [layer.kind for layer in s.layers].count("Dense") == 4
    assert [layer.kind for layer in s.layers].count("Dropout") == 3


def test_han2017_leaky_uses_leaky_relu_033():
    model = build_model("han2017-leaky", (128, 43), 11)
    leaky = [layer for layer in model.layers if type(layer).__name__ == "LeakyReLU"]
    assert len(leaky) == 9 and all(abs(layer.negative_slope - 0.33) < 1e-9 for layer in leaky)
    plain = build_model("han2017", (128, 43), 11)
    assert not any(type(layer).__name__ == "LeakyReLU" for layer in plain.layers)
    convs = [layer.filters for layer in plain.layers if type(layer).__name__ == "Conv2D"]
    assert convs == [32, 32, 64, 64, 128, 128, 256, 256]


def test_cnn_options():
    with_bn = model_summary("cnn", (32, 16), 4, batch_norm=True)
    without = model_summary("cnn", (32, 16), 4, batch_norm=False, dropout=0.0, pooling="global-average")
    assert any(layer.kind == "BatchNormalization" for layer in with_bn.layers)
    assert not any(layer.kind in ("BatchNormalization", "Dropout") for layer in without.layers)


@pytest.mark.parametrize("name, shape, hp, words", [
    ("mlp", (40, 21), {}, "one feature vector"),
    ("lstm", (120,), {}, "frame sequences"),
    ("mlp", (120,), {"colour": "red"}, "unknown parameter"),
    ("nope", (120,), {}, "unknown model"),
])
def test_mismatches_are_model_errors(name, shape, hp, words):
    with pytest.raises(ModelError, match=words):
        build_model(name, shape, 3, **hp)
