"""A bundle whose model.keras holds a Lambda layer (arbitrary Python code, run at load) is refused:
bundles load in Keras' safe mode. The bundle is otherwise perfect (right checksum, valid JSON), so
only safe mode stands between the file and the code in it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from instrument_studio.core.config import FeatureConfig
from instrument_studio.core.errors import ModelError
from instrument_studio.core.learn.bundle import load_bundle, save_bundle
from instrument_studio.core.learn.tfthread import import_tensorflow


@pytest.mark.timeout(240)
def test_a_bundle_with_a_lambda_layer_is_refused(tmp_path):
    import_tensorflow()
    import keras

    marker = tmp_path / "the-lambda-ran"

    def payload(x):
        Path(str(marker)).write_text("code from the bundle ran")   # what a malicious bundle would do
        return x * 2.0

    model = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(payload), keras.layers.Dense(2, activation="softmax")])
    save_bundle(tmp_path / "evil", model=model, labels=["a", "b"], feature_config=FeatureConfig(kind="mfcc"),
                mean=np.zeros(4), std=np.ones(4))
    marker.unlink(missing_ok=True)   # building the model above ran it once
    with pytest.raises(ModelError) as info:
        load_bundle(tmp_path / "evil")
    assert "cannot be loaded" in str(info.value) and ("Lambda" in str(info.value) or "safe" in str(info.value))
    assert not marker.exists()
