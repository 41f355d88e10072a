#!/usr/bin/env bash
# The GPU check of docs/benchmarks.md#gpu-training, for a lent GPU machine that has Python 3.12,
# JAX and PyTorch with CUDA, numpy/scipy/scikit-learn/h5py/nvidia-ml-py, but no TensorFlow and no
# network. Two steps:
#
#   bash bench/gpu_device.sh fetch        # HERE, with network: Keras and the few pure-Python wheels
#                                         # the core needs, for CPython 3.12 x86-64, into .gpu-wheels/
#   bash bench/gpu_device.sh run [OUT]    # THERE (the project copied, .gpu-wheels/ carried along):
#                                         # installs them into /tmp/site, runs bench/gpu_train.py on
#                                         # JAX and on PyTorch, writes OUT/gpu_<backend>.json (+ .txt)
#
# Nothing from TensorFlow is imported on that machine (gpu_train.py checks and says so).
set -uo pipefail
cd "$(dirname "$0")/.."
WHEELS=.gpu-wheels

case "${1:-}" in
fetch)
  mkdir -p "$WHEELS"
  # keras + its pure-Python dependencies (absl-py, rich and its markdown-it/mdurl/pygments, namex,
  # packaging), optree (a compiled wheel: hence the platform), soundfile/cffi/pycparser for the
  # audio modules the core imports.
  "${PYTHON:-python3}" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 -d "$WHEELS" \
    "keras>=3.10" namex optree absl-py rich markdown-it-py mdurl pygments packaging soundfile cffi pycparser
  ls -1 "$WHEELS"
  ;;
run)
  OUT=${2:-${OUT:-/tmp/gpu-check}}
  mkdir -p "$OUT"
  PY=${PYTHON:-python3}
  # Only what the machine lacks (never shadow its own numpy/packaging...), and always our Keras.
  for whl in "$WHEELS"/*.whl; do
    dist=$(basename "$whl" | cut -d- -f1)
    module=$(case "$dist" in absl_py) echo absl;; markdown_it_py) echo markdown_it;; *) echo "$dist";; esac)
    if [ "$dist" = keras ] || ! "$PY" -c "import $module" 2>/dev/null; then
      "$PY" -m pip install -q --no-index --no-deps --target /tmp/site "$whl" || exit 1
    fi
  done
  export PYTHONPATH="/tmp/site:$PWD"
  nvidia-smi --query-gpu=index,name,uuid,power.draw --format=csv,noheader | tee "$OUT/nvidia-smi.txt"
  rc=0
  for backend in jax torch; do
    echo "== $backend"
    KERAS_BACKEND=$backend "$PY" bench/gpu_train.py --backend "$backend" --json "$OUT/gpu_$backend.json" \
      ${GPU_TRAIN_ARGS:-} 2>&1 | grep -v "^WARNING: All log messages\|^I0000\|^W0000" | tee "$OUT/gpu_$backend.txt" || rc=1
  done
  # The NVML meter follows CUDA_VISIBLE_DEVICES given as a UUID, as a scheduler sets it.
  uuid=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1)
  echo "== jax, CUDA_VISIBLE_DEVICES=$uuid"
  CUDA_VISIBLE_DEVICES=$uuid KERAS_BACKEND=jax "$PY" bench/gpu_train.py --backend jax --models mlp --repeats 1 \
    --epochs 2 --json "$OUT/gpu_jax_uuid.json" 2>&1 | grep -v "^I0000\|^W0000" | tee "$OUT/gpu_jax_uuid.txt" || rc=1
  exit $rc
  ;;
*)
  sed -n '2,14p' "$0"
  exit 2
  ;;
esac
