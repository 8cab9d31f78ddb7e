#!/usr/bin/env bash
# BioRNN against the same work in JAX, side by side on this machine, in one go.
#
#   bash benchmarks/compare.sh            # ROUNDS=3 by default; ROUNDS=5 for steadier medians
#
# 1. Checks that both compute the same numbers (BPTT and e-prop gradients, a 64-exponent spectrum,
#    the full and local flossing gradients of a 100-step window) to 1e-9 — a fast wrong answer
#    does not count.
# 2. Measures this machine's dgemm peak (OpenBLAS, N = 1024) in the same run.
# 3. Times each workload ROUNDS times, alternating BioRNN and JAX, each time the median of 5 runs
#    after 2 warm-ups, and prints the median of the rounds, the ratio, and BioRNN's GFLOP/s as a
#    fraction of the dgemm peak.
# 4. Times the parts a workload cannot skip (the forward pass; one re-orthonormalisation and one
#    J·Q product per step) alone, in every round of the workloads they cap, right after them (so
#    that a slow spell of this shared machine lands on both), and prints the ratio to JAX they
#    cap: no BioRNN e-prop step can be faster than its forward pass.
# 5. Times BioRNN's BPTT and e-prop steps and its spectra against N and T, with the fitted growth
#    exponents (benchmarks/scaling.sh, which also draws them).
#
# Threads: OPENBLAS_NUM_THREADS, BioRNN's thread count (OpenBLAS itself runs single-threaded but
# for the dgemm peak), is pinned to 2 (this machine's cores) unless set; JAX/XLA uses its default
# CPU thread pool (all cores). JAX is installed from PyPI when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
python3 -c "import jax" 2>/dev/null || pip install --quiet jax
swift build -c release --product biornn >&2
biornn="$(swift build -c release --show-bin-path)/biornn"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
rounds="${ROUNDS:-3}"
work="$(mktemp -d /tmp/biornn-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
jax="python3 benchmarks/jax_reference.py"
field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
median() { python3 -c "import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

echo "## Same numbers (N = 64, T = 100, B = 8, k = 64)"
"$biornn" bench --what lyapunov --units 64 --steps 100 --trials 8 --save "$work/check" --repeats 1 --warmup 0 > /dev/null
$jax check "$work/check"

peak=$("$biornn" bench --what dgemm --units 1024 --repeats 5 --json | field gflops)
echo
echo "## Side by side (OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS, $rounds alternating rounds, $(nproc) cores)"
echo
printf "dgemm peak (N = 1024): %.2f GFLOP/s\n\n" "$peak"
declare -A jax_ms
# The parts timed in each round of a workload: name:bench arguments, ':' for the spaces within.
declare -A floor_parts=(
  [bptt-1]="forward:--what:forward:--units:256:--steps:100:--trials:32"
  [eprop-1]="forward:--what:forward:--units:256:--steps:100:--trials:32"
  [lyapunov-256]="qr256:--what:qr:--units:256:--k:256 jq256:--what:jacobian:--units:256:--k:256:--repeats:101"
  [lyapunov-32]="qr32:--what:qr:--units:256:--k:32:--repeats:101 jq32:--what:jacobian:--units:256:--k:32:--repeats:101"
)
declare -A floor_ms   # part → the times of all its rounds
echo "| workload | BioRNN ms | JAX ms | JAX / BioRNN | BioRNN GFLOP/s | of dgemm peak |"
echo "|---|---|---|---|---|---|"
while read -r what n t b k label; do
  dir="$work/$what-$n-$t-$b-$k"
  "$biornn" bench --what "$what" --units "$n" --steps "$t" --trials "$b" --k "$k" --save "$dir" --repeats 1 --warmup 0 > /dev/null
  ours=(); theirs=(); gflops=()
  for _ in $(seq "$rounds"); do
    json=$("$biornn" bench --what "$what" --units "$n" --steps "$t" --trials "$b" --k "$k" --repeats 5 --warmup 2 --json)
    ours+=("$(echo "$json" | field ms_median)")
    gflops+=("$(echo "$json" | field gflops)")
    theirs+=("$($jax time "$dir" --what "$what" --k "$k" --repeats 5 --warmup 2 | field ms_median)")
    for part in ${floor_parts["$what-$k"]:-}; do
      name="${part%%:*}" args="${part#*:}"
      floor_ms["$name"]="${floor_ms[$name]:-} $("$biornn" bench ${args//:/ } --json | field ms_median)"
    done
  done
  a=$(median "${ours[@]}"); j=$(median "${theirs[@]}"); g=$(median "${gflops[@]}")
  jax_ms["$what-$k"]=$j
  python3 -c "import sys; a, j, g, p = map(float, sys.argv[2:]); print(f'| {sys.argv[1]} | {a:.1f} | {j:.1f} | {j / a:.2f}× | {g:.2f} | {100 * g / p:.0f}% |')" \
    "$label" "$a" "$j" "$g" "$peak"
done <<'WORKLOADS'
bptt 256 100 32 1 BPTT training step, N = 256, T = 100, B = 32
eprop 256 100 32 1 e-prop training step, N = 256, T = 100, B = 32
lyapunov 256 1000 1 256 Lyapunov spectrum, N = k = 256, 1000 steps
lyapunov 256 1000 1 32 λ_1…32, N = 256, 1000 steps
floss 256 200 1 32 full flossing step, N = 256, window 200, k = 32
floss-local 256 200 1 32 local flossing step, N = 256, window 200, k = 32
WORKLOADS

echo
echo "## Floors: parts every BioRNN run of a workload must do, timed alone after it in each of its rounds (median of the rounds, each a median of 7 after 2 warm-ups)"
echo
echo "| part | BioRNN ms | caps the ratio for | at |"
echo "|---|---|---|---|"
n=256 t=100 b=32   # the training workloads' sizes above
# shellcheck disable=SC2086   # the lists of times are meant to split
{ forward=$(median ${floor_ms[forward]}); qr256=$(median ${floor_ms[qr256]}); qr32=$(median ${floor_ms[qr32]})
  jq256=$(median ${floor_ms[jq256]}); jq32=$(median ${floor_ms[jq32]}); }
python3 - "$forward" "$qr256" "$qr32" "$jq256" "$jq32" "${jax_ms[bptt-1]}" "${jax_ms[eprop-1]}" "${jax_ms[lyapunov-256]}" "${jax_ms[lyapunov-32]}" "$peak" $n $t $b <<'CAP'
import sys
forward, qr256, qr32, jq256, jq32, bptt, eprop, spectrum, first32, peak = map(float, sys.argv[1:11])
n, t, b = map(int, sys.argv[11:])
print(f"| forward pass, N = {n}, T = {t}, B = {b} | {forward:.1f} | e-prop step (JAX {eprop:.1f} ms) | {eprop / forward:.2f}× |")
# e-prop's weight gradient is one more product, Lᵀ·R̄ over all T·B rows: 2·T·B·N² FLOPs, here
# credited at the dgemm peak, which a product of this shape reaches at best.
product = 2 * t * b * n ** 2 / peak / 1e6
print(f"| forward, plus e-prop's weight-gradient product at the dgemm peak | {forward + product:.1f} | e-prop step | {eprop / (forward + product):.2f}× |")
# BPTT adds two such products to the forward pass: δ·W_rec backwards over all T·B rows, and the
# weight gradient Δᵀ·R.
print(f"| forward, plus BPTT's backward and weight-gradient products at the dgemm peak | {forward + 2 * product:.1f} | BPTT step (JAX {bptt:.1f} ms) | {bptt / (forward + 2 * product):.2f}× |")
print(f"| 1000 re-orthonormalisations of 256 × 256 | {1000 * qr256:.1f} | spectrum, k = 256 (JAX {spectrum:.1f} ms) | {spectrum / (1000 * qr256):.2f}× |")
print(f"| 1000 re-orthonormalisations of 256 × 32 | {1000 * qr32:.1f} | λ_1…32 (JAX {first32:.1f} ms) | {first32 / (1000 * qr32):.2f}× |")
print(f"| 1000 J·Q products, N = k = 256 | {1000 * jq256:.1f} | | |")
print(f"| 1000 J·Q products, N = 256, k = 32 | {1000 * jq32:.1f} | | |")
print(f"| both, k = 256 | {1000 * (qr256 + jq256):.1f} | spectrum, k = 256 | {spectrum / (1000 * (qr256 + jq256)):.2f}× |")
print(f"| both, k = 32 | {1000 * (qr32 + jq32):.1f} | λ_1…32 | {first32 / (1000 * (qr32 + jq32)):.2f}× |")
CAP

echo
echo "## BioRNN against size (benchmarks/scaling.sh: N up to 2048, T at N = 256; fitted exponents)"
echo
bash benchmarks/scaling.sh "$work/scaling" 2> /dev/null
