"""Corrupt model bundles: each refused with one line naming the field at fault, never a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from instrument_studio.core.errors import ModelError
from instrument_studio.core.learn import bundle as bundle_mod
from instrument_studio.core.learn.bundle import BUNDLE_SCHEMA, load_bundle, read_bundle_meta


@pytest.fixture
def bundle_path(tmp_path, synth_model):
    """A copy of a real MFCC-MLP bundle with standardisation statistics (the session's test model;
    the shipped default model standardises inside its Keras model and stores no mean/std)."""
    return shutil.copytree(synth_model[0], tmp_path / "model")


def edit(path, change):
    meta = json.loads((path / "bundle.json").read_text())
    change(meta)
    (path / "bundle.json").write_text(json.dumps(meta))


def refused(path) -> str:
    with pytest.raises(ModelError) as info:
        load_bundle(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(str(path))
    return message


def set_stats(name, **values):
    def change(meta):
        meta[name].update(values)
    return change


@pytest.mark.parametrize("change, words", [
    (lambda m: m.update(versions="keras 3"), "field 'versions' must be an object, not a string"),
    (lambda m: m.update(mean=[1.0, 2.0]),
     "field 'mean' must be null or an object with 'shape' and 'values', not a list"),
    (set_stats("mean", shape=[7]), "malformed (120 values for shape (7,))"),
    (set_stats("mean", shape=[60, 2]), "mean of shape (60, 2) does not fit the model input (120,)"),
    (set_stats("mean", shape="120"), "field 'mean.shape' must be a list, not a string"),
    (lambda m: m["feature_config"].update(mel=None), "field 'feature_config.mel' must be an object, not null"),
    (lambda m: m.update(feature_config={}), "field 'feature_config' lacks 'kind'"),
    (lambda m: m.update(labels=["piano", *m["labels"][1:-1], "piano"]),
     "field 'labels' names \"piano\" more than once"),
    (lambda m: m.update(labels="piano"), "field 'labels' must be a list, not a string"),
    (lambda m: m.update(mean=None), "gives a standardisation std but no mean"),
    (lambda m: m["std"]["values"].__setitem__(3, 0.0), "1 value(s) of zero or less"),
    (lambda m: m["std"]["values"].__setitem__(5, -2.0), "1 value(s) of zero or less"),
    (lambda m: m["model_file"].update(bytes="many"), "field 'model_file.bytes' must be a whole number"),
    (lambda m: m.update(unknown_threshold=1.5), "field 'unknown_threshold' must be at most 1"),
    (lambda m: m.update(format_version="1"), "format version missing"),
])
def test_malformed_descriptions_are_refused_in_one_line(bundle_path, change, words):
    edit(bundle_path, change)
    assert words in refused(bundle_path)


def test_what_the_default_model_branch_adds_is_allowed(bundle_path):
    # An optional open-set threshold, an "unknown" class name and the musicnn feature kind.
    edit(bundle_path, lambda m: m.update(unknown_threshold=0.4))
    assert read_bundle_meta(bundle_path)["unknown_threshold"] == 0.4
    edit(bundle_path, lambda m: m.update(unknown_threshold=None))
    read_bundle_meta(bundle_path)
    meta = json.loads((bundle_path / "bundle.json").read_text())
    meta["labels"][-1] = "unknown"
    meta["feature_config"]["kind"] = "musicnn"
    assert bundle_mod.schema_problem(meta, BUNDLE_SCHEMA, what="bundle.json") is None


def test_a_100k_deep_json_is_refused_not_a_recursion_error(bundle_path):
    (bundle_path / "bundle.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "nests too deeply" in refused(bundle_path)


def test_deep_nesting_inside_an_open_field_is_refused_too(bundle_path):
    text = (bundle_path / "bundle.json").read_text()
    deep = "{\"a\":" * 5000 + "1" + "}" * 5000
    (bundle_path / "bundle.json").write_text(text.rstrip()[:-1] + f', "history": {deep}}}')
    assert "nests too deeply" in refused(bundle_path)


@pytest.mark.parametrize("content, words", [
    (b"[]", "not an Instrument Studio bundle description"),
    (b"null", "not an Instrument Studio bundle description"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"format": "instrument-studio-bundle", ', "not valid JSON"),
])
def test_unreadable_json(bundle_path, content, words):
    (bundle_path / "bundle.json").write_bytes(content)
    assert words in refused(bundle_path)


def test_a_truncated_keras_archive_is_not_called_missing(bundle_path):
    data = (bundle_path / "model.keras").read_bytes()[:5000]
    (bundle_path / "model.keras").write_bytes(data)
    edit(bundle_path, lambda m: m["model_file"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest()))
    message = refused(bundle_path)
    assert "not a .keras (zip) archive (truncated or corrupt)" in message
    assert "not found" not in message.lower()


def test_an_unreadable_model_file(bundle_path, monkeypatch):
    def denied(path):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(bundle_mod, "_sha256", denied)
    assert "model.keras cannot be read: Permission denied" in refused(bundle_path)


def test_keras_multi_line_messages_are_folded(bundle_path, monkeypatch):
    import keras

    def fail(*args, **kwargs):
        raise ValueError("Layer 'dense' expected 2 variables,\nbut received 0 variables during loading.\n"
                         "Expected: ['kernel', 'bias']")
    monkeypatch.setattr(keras.saving, "load_model", fail)
    message = refused(bundle_path)
    assert "expected 2 variables, but received 0 variables during loading. Expected:" in message


def test_a_fifo_as_bundle_json_does_not_hang(bundle_path):
    import os

    (bundle_path / "bundle.json").unlink()
    os.mkfifo(bundle_path / "bundle.json")
    assert "not a model bundle" in refused(bundle_path)
