#!/usr/bin/env bash
# Ingest throughput: bus → store sink → PostgreSQL against raw binary COPY of the same rows,
# on throwaway NATS and PostgreSQL servers, repeated (the machine is shared: compare ratios).
# Usage: bench/ingest.sh [runs] [events]   (default: 3 runs of 300000 events)
set -euo pipefail
cd "$(dirname "$0")/.."
for _ in $(seq "${1:-3}"); do
  .venv/bin/vigil bench ingest --events "${2:-300000}" --json
done
