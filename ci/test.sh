#!/usr/bin/env bash
# The whole test suite: installs missing Debian packages, then `swift test` in release mode
# (numerical tests run 10–50× faster optimised; the build costs about a minute more).
# BIORNN_EXTENSIVE=1 adds the long statistical checks. Without arguments it then runs the real
# Slurm test (ci/slurm/test.sh: a throwaway single-node cluster runs a sweep as a job array) and
# builds the DocC documentation with warnings as errors (ci/docs.sh); with arguments (e.g.
# --filter X) only `swift test` runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift test -c release "$@"
if (($# == 0)); then
  bash ci/slurm/test.sh
  bash ci/docs.sh
fi
