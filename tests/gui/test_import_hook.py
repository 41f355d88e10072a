"""After create_app, PySide6's per-import feature check reads each module's file once instead of
calling inspect.getsource (a scan of sys.modules per import: quadratic over TensorFlow's imports),
and still tells modules that mention PySide6 from those that do not."""

from __future__ import annotations

import inspect
import sys

from instrument_studio.gui import import_hook
from instrument_studio.gui.app import create_app


def test_feature_check_is_a_file_read_with_the_same_answers(qapp, tmp_path, monkeypatch):
    create_app()
    feature = sys.modules["shibokensupport.feature"]
    assert getattr(feature._mod_uses_pyside, import_hook._MARK, False)
    assert import_hook.install() is False          # installed once

    def no_getsource(*_a, **_k):
        raise AssertionError("inspect.getsource called on import")

    monkeypatch.setattr(inspect, "getsource", no_getsource)
    (tmp_path / "hook_probe_qt.py").write_text("from PySide6 import QtCore  # uses PySide6\n")
    (tmp_path / "hook_probe_plain.py").write_text("import math\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # An import statement goes through builtins.__import__, where the hook sits.
    exec("import hook_probe_qt, hook_probe_plain", {})
    assert feature.pyside_feature_dict["hook_probe_qt"] == 0        # may switch features
    assert feature.pyside_feature_dict["hook_probe_plain"] == -1    # ignored, as before
