#!/usr/bin/env bash
# Here, before a GPU session: the wheels the GPU machine lacks, in parts that each fit one call.
#
# The device tool sends the working tree (about 54 MiB, most of it the bundled models) plus the
# paths a call carries, 64 MiB in all; the wheels (PyAV, PyNvVideoCodec, Vigil's dependencies)
# are about 75 MiB. So they travel as a tar cut into 8 MiB parts, one part per call, into a
# folder of the machine that stays while the machine is kept warm (see bench/gpu/README.md).
#
#   bench/gpu/prepare.sh           → .gpu-carry/part-00 … part-NN (ignored by git)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
# The versions tested here, from this machine's environment; two found only on GPU workers.
pins=$($PY - <<'PYEOF'
import importlib.metadata as metadata
names = ["alembic", "annotated-doc", "annotated-types", "argon2-cffi", "argon2-cffi-bindings",
         "av", "cffi", "cryptography", "defusedxml", "fastapi", "mako", "nats-py", "orjson",
         "paho-mqtt", "pycparser", "pydantic", "pydantic-core", "pydeprecate",
         "python-multipart", "sqlalchemy", "starlette", "supervision", "trackers",
         "typing-inspection", "uvicorn",
         # The device-path tests run after the benchmark (device_run.sh).
         "pytest", "pluggy", "iniconfig", "packaging", "pygments"]
print(" ".join(f"{name}=={metadata.version(name)}" for name in names))
PYEOF
)
pins="$pins pynvvideocodec==2.2.4 onnx2torch==1.5.15"
rm -rf .gpu-carry
mkdir -p .gpu-carry/wheels
# The GPU machine runs Python 3.12 on x86-64 (see /work/shared/ENVIRONMENT.md).
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  --platform any -d .gpu-carry/wheels $pins
tar -C .gpu-carry -cf .gpu-carry/wheels.tar wheels
split -b 8M -d -a 2 .gpu-carry/wheels.tar .gpu-carry/chunk-
for chunk in .gpu-carry/chunk-*; do
  part=.gpu-carry/part-${chunk##*-}
  mkdir -p "$part" && mv "$chunk" "$part/"
done
rm -rf .gpu-carry/wheels .gpu-carry/wheels.tar
ls .gpu-carry
