#!/usr/bin/env bash
# The main job: installs missing Debian packages, builds biornn (release) and runs it.
# Arguments are passed to biornn; with none, it runs the demo: a 2AF network trained with BPTT
# from g = 1, written to results/demo (summary on stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift build -c release --product biornn >&2
bin="$(swift build -c release --show-bin-path)/biornn"
if (($#)); then exec "$bin" "$@"; fi
exec "$bin" train --task perceptual-decision --rule bptt --gain 1.0 --seed 1 --iterations 200 --out results/demo --json
