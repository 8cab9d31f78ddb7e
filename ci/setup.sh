#!/usr/bin/env bash
# Installs what BioRNN needs from Debian when it is missing (idempotent; quiet when all is there).
#   libopenblas-dev  BLAS and LAPACK for the production path
#   libgsl-dev       the GNU Scientific Library, the tests' independent oracle
#   pkg-config       how SwiftPM finds GSL
#   gnuplot-nox      renders the study report's figures (PNG via cairo, SVG)
set -euo pipefail

# ensure_packages NAME...: apt-get installs the ones dpkg does not have.
ensure_packages() {
  local missing=() p sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "setup: installing ${missing[*]}" >&2
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}
ensure_packages libopenblas-dev libgsl-dev pkg-config gnuplot-nox

command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
command -v swift >/dev/null 2>&1 || { echo "setup: no Swift toolchain on PATH or in /opt/swift" >&2; exit 1; }

# OpenBLAS 0.3.21 (Debian 12) does not recognise some recent Xeons and falls back to its Prescott
# (SSE3) kernels — dgemm 7× slower on this machine. biornn restarts itself with the right
# OPENBLAS_CORETYPE (BLAS.betterCoreType); this does the same for the test processes.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && command -v python3 >/dev/null 2>&1; then
  core=$(OPENBLAS_VERBOSE=2 python3 -c 'import ctypes; ctypes.CDLL("libopenblas.so.0")' 2>&1 | sed -n 's/^Core: //p')
  if [ "$core" = "Prescott" ]; then
    if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell
    fi
  fi
fi
