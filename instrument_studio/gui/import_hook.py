"""PySide6's import hook, made cheap.

Once PySide6 is imported, every later import goes through shiboken's feature hook, which asks of
each new module whether its source mentions "PySide6" (modules that do may switch on
`from __feature__ import snake_case`). It asks with inspect.getsource, which, for every module,
scans all of sys.modules (inspect.getmodule) and splits the file into lines: with the ~4,000
modules of TensorFlow, Keras and JAX imported after Qt, that scan is quadratic. Measured on the
2-core machine: importing TensorFlow took 10.3 s of CPU after PySide6 against 8.5 s without it (the
same "__feature__ startup tax" is reported in napari/napari#8584);
with this check, 8.5-9.1 s. The answer is the same: the module's file is read once and searched.
"""

from __future__ import annotations

import sys

_MARK = "_instrument_studio_fast"


def install() -> bool:
    """Replace the hook's source test by a plain file read; False when there is nothing to replace
    (PySide6 not imported yet, a PySide6 without this hook, or already installed)."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if original is None or getattr(original, _MARK, False):
        return False

    def uses_pyside(module) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return False   # no source to read: what inspect.getsource's OSError/TypeError meant too
        try:
            with open(path, "rb") as fh:
                return b"PySide6" in fh.read()
        except OSError:
            return False

    setattr(uses_pyside, _MARK, True)
    feature._mod_uses_pyside = uses_pyside
    return True
