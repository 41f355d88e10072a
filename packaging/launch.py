"""The frozen app's entry script. PyInstaller runs its entry as a top-level script, where
instrument_studio/__main__.py's relative import (`from .cli import main`) has no package to be
relative to; this imports the package by name instead."""

import multiprocessing
import sys

from instrument_studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()   # feature workers are processes: the frozen exe re-enters here
    sys.exit(main())
