#!/usr/bin/env bash
# The whole test suite: installs missing Debian packages, then `swift test` in release mode
# (numerical tests run 10–50× faster optimised; the build costs about a minute more).
# BIORNN_EXTENSIVE=1 adds the long statistical checks.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift test -c release "$@"
