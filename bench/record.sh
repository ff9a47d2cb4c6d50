#!/usr/bin/env bash
# Recording cost against decoding, blurred playback against real time, and export time, on the
# bundled clip, in one run (vigil bench record). Usage: bench/record.sh [extra options]
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/vigil bench record --json "$@"
