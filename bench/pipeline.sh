#!/usr/bin/env bash
# Pipeline vs detector-only throughput on the bundled clip, at several batch sizes.
# Usage: bench/pipeline.sh [batch sizes...]   (default: 1 4 8)
set -euo pipefail
cd "$(dirname "$0")/.."
for batch in "${@:-1 4 8}"; do
  .venv/bin/vigil bench pipeline --batch "$batch" --json
done
