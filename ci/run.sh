#!/usr/bin/env bash
# The main job: installs missing Debian packages, builds biornn (release) and runs it.
# Arguments are passed to biornn; with none, it shows the command-line help.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift build -c release --product biornn >&2
bin="$(swift build -c release --show-bin-path)/biornn"
if (($#)); then exec "$bin" "$@"; else exec "$bin" --help; fi
