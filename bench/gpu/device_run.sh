#!/usr/bin/env bash
# `vigil bench cameras --gpu` on a GPU machine, from the repository root.
#
#   bench/gpu/device_run.sh receive     one call per part: keeps the carried part (.gpu-carry/*)
#   bench/gpu/device_run.sh run         installs the wheels, makes the sub-streams, runs the
#                                       benchmark, writes the results under $OUT
#   bench/gpu/device_run.sh smoke       here, without a GPU: the same steps, reduced (local
#                                       venv, 8 cameras, a fake detector), to prove the script
#
# The sequence of device calls is in bench/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-run}
STAGE=${STAGE:-/tmp/vigil-gpu}   # outlives a call while the machine is kept warm
OUT=${OUT:-$PWD/artifacts/gpu-bench}
mkdir -p "$STAGE" "$OUT"
export PYTHONUNBUFFERED=1

case "$mode" in
receive)
  cp .gpu-carry/part-*/chunk-* "$STAGE"/
  ls "$STAGE"
  exit 0
  ;;
run)
  PY=python3
  cat "$STAGE"/chunk-* > "$STAGE/wheels.tar"
  tar -C "$STAGE" -xf "$STAGE/wheels.tar"
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$STAGE/site" "$STAGE"/wheels/*.whl
  export PYTHONPATH="$PWD/src:$STAGE/site"
  FILES=32; SECONDS_OF_VIDEO=60; CAMERAS="--cameras 500 --cameras 1000"
  # A long warm-up: each camera opens its NVDEC decoder on its first frame.
  RUN="--seconds 15 --warmup 15 --decode-threads 16 --detector model --gpu"
  ;;
smoke)
  PY=${PY:-.venv/bin/python}
  FILES=2; SECONDS_OF_VIDEO=20; CAMERAS="--cameras 8"
  RUN="--seconds 4 --warmup 2 --decode-threads 2 --detector fake --detector-fps 400"
  ;;
*)
  echo "usage: $0 receive|run|smoke" >&2
  exit 2
  ;;
esac

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null \
    || echo "no nvidia-smi: no GPU"
  $PY -c "import sys; print(sys.version)"
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
    2>/dev/null || echo "no torch"
} | tee "$OUT/machine.txt"

$PY bench/gpu/substreams.py "$STAGE/substreams" --files "$FILES" --seconds "$SECONDS_OF_VIDEO"
# shellcheck disable=SC2086  # the option lists are meant to split
$PY -m vigil bench cameras $CAMERAS $RUN --videos "$STAGE/substreams" --json \
  > "$OUT/cameras.json" 2> "$OUT/cameras.log" || { tail -40 "$OUT/cameras.log"; exit 1; }
$PY bench/gpu/summarise.py "$OUT/cameras.json" | tee "$OUT/summary.md"
# The device paths on CUDA after the figures (they must not eat the benchmark's time): the
# letterbox, face redaction, torch detector and device-frame pipeline tests, whose "cuda" cases
# are skipped elsewhere.
$PY -m pytest -q -rs --noconftest -p no:cacheprovider tests/vision/test_tensor_frames.py \
  tests/vision/test_tensor_redaction.py tests/vision/test_torch_detector.py \
  tests/pipeline/test_device_frames.py \
  > "$OUT/device_tests.txt" 2>&1 || true
tail -5 "$OUT/device_tests.txt"
