"""Model bundles: same predictions after reload; damaged or foreign bundles are refused, never half-loaded."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from instrument_studio.core.errors import ModelError
from instrument_studio.core.fileio import current_umask
from instrument_studio.core.learn.bundle import FORMAT_VERSION, load_bundle, read_bundle_meta, save_bundle
from instrument_studio.core.learn.training import TrainConfig, evaluate_split, train
from tests.training_data import blobs


@pytest.fixture(scope="module")
def trained():
    data = blobs()
    result = train(TrainConfig(epochs=3, batch_size=32, learning_rate=0.01, model_params={"units": 16}), data)
    return result, data


def save(result, data, path):
    return save_bundle(path, model=result.model, labels=result.labels, feature_config=result.feature_config,
                       mean=result.mean, std=result.std, train_config=result.config, history=result.history,
                       metrics=evaluate_split(result, data))


def test_round_trip_gives_the_same_predictions(trained, tmp_path):
    result, data = trained
    path = save(result, data, tmp_path / "model")
    bundle = load_bundle(path)
    x = data.x["test"]
    np.testing.assert_array_equal(bundle.predict_proba(x), result.predict_proba(x))
    assert bundle.labels == result.labels and bundle.feature_config == result.feature_config
    assert TrainConfig.from_dict(bundle.train_config) == result.config
    assert bundle.history == result.history and bundle.metrics["test_accuracy"] > 0.5
    assert {"keras", "numpy", "instrument-studio"} <= set(bundle.versions)
    with pytest.raises(ModelError, match="do not fit"):
        bundle.predict_proba(x[:, :5])


def test_saving_over_a_bundle_replaces_it_and_leaves_no_temporary_files(trained, tmp_path):
    result, data = trained
    path = save(result, data, tmp_path / "model")
    save(result, data, path)
    assert sorted(os.listdir(tmp_path)) == ["model"]
    assert sorted(os.listdir(path)) == ["bundle.json", "model.keras"]
    # A saved bundle folder is as private as the user's umask says, not mkdtemp's 0700 (issue 11 #17).
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o777 & ~current_umask()


def test_failed_save_keeps_the_old_bundle(trained, tmp_path, monkeypatch):
    result, data = trained
    path = save(result, data, tmp_path / "model")
    before = (path / "bundle.json").read_text()
    monkeypatch.setattr(result.model, "save", lambda p: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(ModelError, match="cannot save"):
        save(result, data, path)
    assert (path / "bundle.json").read_text() == before and sorted(os.listdir(tmp_path)) == ["model"]
    load_bundle(path)


def test_refuses_to_overwrite_something_that_is_not_a_bundle(trained, tmp_path):
    result, data = trained
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.txt").write_text("keep")
    with pytest.raises(ModelError, match="not a model bundle"):
        save(result, data, tmp_path / "docs")
    assert (tmp_path / "docs" / "thesis.txt").read_text() == "keep"


def test_an_empty_folder_made_for_the_model_is_used(trained, tmp_path):
    """`mkdir out` then `--out out` (the recipe once ran 46 minutes and then refused such a folder)."""
    result, data = trained
    (tmp_path / "out").mkdir()
    path = save(result, data, tmp_path / "out")
    assert load_bundle(path).labels == result.labels


@pytest.fixture
def bundle_path(trained, tmp_path):
    result, data = trained
    return save(result, data, tmp_path / "model")


def edit_meta(path, change):
    meta = json.loads((path / "bundle.json").read_text())
    change(meta)
    (path / "bundle.json").write_text(json.dumps(meta))


def test_truncated_model_file(bundle_path):
    data = (bundle_path / "model.keras").read_bytes()
    (bundle_path / "model.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        load_bundle(bundle_path)


def test_corrupt_model_file(bundle_path):
    data = bytearray((bundle_path / "model.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bundle_path / "model.keras").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="corrupt"):
        load_bundle(bundle_path)


def test_garbage_model_with_matching_checksum_is_a_keras_load_error(bundle_path):
    import hashlib

    garbage = b"this is not a zip archive" * 10
    (bundle_path / "model.keras").write_bytes(garbage)
    edit_meta(bundle_path, lambda m: m["model_file"].update(bytes=len(garbage),
                                                            sha256=hashlib.sha256(garbage).hexdigest()))
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_bundle(bundle_path)


def test_newer_format_version(bundle_path):
    edit_meta(bundle_path, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ModelError, match="newer Instrument Studio"):
        read_bundle_meta(bundle_path)


def test_corrupt_or_missing_json(bundle_path, tmp_path):
    text = (bundle_path / "bundle.json").read_text()
    (bundle_path / "bundle.json").write_text(text[: len(text) // 3])
    with pytest.raises(ModelError, match="corrupt"):
        load_bundle(bundle_path)
    (bundle_path / "bundle.json").unlink()
    with pytest.raises(ModelError, match="not a model bundle"):
        load_bundle(bundle_path)
    with pytest.raises(ModelError, match="no such"):
        load_bundle(tmp_path / "absent")


@pytest.mark.parametrize("change, words", [
    (lambda m: m.update(format="something-else"), "not an Instrument Studio bundle"),
    (lambda m: m.update(labels=["a", "b", "c", "d", "e"]), "predicts 3 classes"),
    (lambda m: m["feature_config"].update(kind="wavelets"), "feature config"),
    (lambda m: m["mean"].update(shape=[7]), "malformed"),
    (lambda m: m.pop("labels"), "lacks 'labels'"),
])
def test_inconsistent_descriptions(bundle_path, change, words):
    edit_meta(bundle_path, change)
    with pytest.raises(ModelError, match=words):
        load_bundle(bundle_path)


def test_models_with_large_inputs_are_given_few_rows_at_once(trained, tmp_path):
    """A model's activations grow with its input: a musicnn window (187 x 96) brings ~20 MB, so 256
    of them at once (Keras' default batch) took 5.5 GB for 10 min of audio. Batches are bounded by
    their input bytes; small feature rows still go 256 at a time."""
    from instrument_studio.core.learn.bundle import rows_per_call

    assert rows_per_call((187, 96)) == 8 and rows_per_call((60,)) == 256 and rows_per_call((10**7,)) == 1
    result, data = trained
    bundle = load_bundle(save(result, data, tmp_path / "model"))
    batches = []

    class Recording:
        input_shape = (None, 187, 96)

        def predict(self, x, batch_size, verbose=0):
            batches.append(batch_size)
            return np.zeros((len(x), 2), np.float32)

    bundle.model, bundle.mean, bundle.std = Recording(), None, None
    bundle.predict_proba(np.zeros((40, 187, 96), np.float32))
    assert batches == [8]
