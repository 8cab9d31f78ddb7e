#!/usr/bin/env bash
# Builds the reference documentation (Sources/BioRNN/BioRNN.docc) with swift-docc-plugin and fails on
# any warning: an unresolved symbol or article link, a missing heading, a malformed directive.
# The static site lands in .build/docs (open .build/docs/documentation/biornn/index.html through any
# static web server).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift package --disable-sandbox --allow-writing-to-directory .build/docs \
  generate-documentation --target BioRNN --warnings-as-errors \
  --transform-for-static-hosting --hosting-base-path biornn --output-path .build/docs >&2
echo "docs: Sources/BioRNN/BioRNN.docc builds without warnings (.build/docs)"
