#!/usr/bin/env bash
# The main job: installs missing Debian packages, builds biornn (release) and runs it.
# Arguments are passed to biornn; with none, it runs the main job: `biornn reproduce --quick`,
# the study in small (a few minutes on 2 cores), written to results/quick/ (report.md, results.csv,
# figures/). Rerunning resumes an interrupted study.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift build -c release --product biornn >&2
bin="$(swift build -c release --show-bin-path)/biornn"
if (($#)); then exec "$bin" "$@"; fi
exec "$bin" reproduce --quick --out results/quick
