#!/usr/bin/env bash
# One-step set-up on Debian 12 / Ubuntu: system libraries, a virtual environment at .venv/
# in the repository root, and the package (editable) with its test tools.
# Run as root or through sudo, from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# PortAudio (sounddevice), the libraries Qt needs offscreen and under X, Xvfb for screenshots,
# PulseAudio for the virtual microphone used by the recording tests, portaudio19-dev so that
# tinysoundfont's pyaudio requirement builds.
$SUDO apt-get install -y -q --no-install-recommends \
  python3 python3-venv python3-dev build-essential \
  libportaudio2 portaudio19-dev libsndfile1 \
  libgl1 libegl1 libfontconfig1 libglib2.0-0 libxkbcommon0 libdbus-1-3 \
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 \
  libxcb-shape0 libxkbcommon-x11-0 xvfb xauth x11-utils \
  pulseaudio pulseaudio-utils
# FluidR3_GM.sf2 (MIT): the best SoundFont the starter set is rendered from; without it the
# small TimGM6mb.sf2 from the pretty-midi wheel is used.
$SUDO apt-get install -y -q --no-install-recommends fluid-soundfont-gm || \
  echo "fluid-soundfont-gm not installed: the starter set will use TimGM6mb.sf2"
# MuseScore General (MIT), small Ogg-compressed .sf3 that tinysoundfont reads: a second sample set
# for the default-model recipe's renders (instrument_studio/core/recipe/render.py).
$SUDO apt-get install -y -q --no-install-recommends musescore-general-soundfont-small || \
  echo "musescore-general-soundfont-small not installed: the recipe renders from the other SoundFonts"

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# TensorFlow (the default backend) and JAX on the CPU (~90 MB more): CI trains on both, so the core's
# backend independence is tested on every commit (tests/core/test_backends.py, and .ci/run).
# On a GPU machine use ".[cuda,dev]" (TensorFlow) or ".[jax-cuda,dev]" instead of ".[tensorflow,jax,dev]".
.venv/bin/python -m pip install -q -e ".[tensorflow,jax,dev]"
# librosa's first call compiles numba kernels (~20 s); do it once here, not in the first test.
.venv/bin/python -c "import numpy as np, librosa; librosa.feature.melspectrogram(y=np.zeros(22050, dtype=np.float32), sr=22050)"
echo "Instrument Studio installed in $(pwd)/.venv"
