#!/usr/bin/env bash
# How BioRNN's cost grows with the network size N and the trial length T, as a table, a figure and
# fitted exponents (time ∝ N^a, ∝ T^b by least squares on log-log axes):
#
#   bash benchmarks/scaling.sh [OUT]     # default OUT: docs/performance
#
# Workloads (biornn bench): one BPTT and one e-prop training step (T = 100, B = 32), the first 32
# Lyapunov exponents over T = 1000 steps, and the full spectrum (k = N) over T = 100 steps — N from
# 64 to 2048 (the full spectrum to 1024: at 2048 one run takes minutes), then T from 50 to 400 at
# N = 256 (the spectra from 250 to 2000 steps). Each point is the median of 3 runs after 1 warm-up.
# OPENBLAS_NUM_THREADS (BioRNN's thread count) is pinned to 2 unless set. Writes OUT/scaling.csv,
# OUT/scaling.md (the table and the exponents) and OUT/scaling.png and .svg (gnuplot).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/setup.sh
swift build -c release --product biornn >&2
biornn="$(swift build -c release --show-bin-path)/biornn"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
out="${1:-docs/performance}"
mkdir -p "$out"
csv="$out/scaling.csv"
echo "workload,n,t,k,ms,gflops" > "$csv.partial"
run() {   # workload what n t k
  local json
  json=$("$biornn" bench --what "$2" --units "$3" --steps "$4" --trials 32 --k "$5" --repeats 3 --warmup 1 --json)
  python3 -c "import json, sys; d = json.loads(sys.argv[1]); print(f\"$1,$3,$4,$5,{d['ms_median']},{d['gflops']}\")" "$json" >> "$csv.partial"
  echo "$1 N = $3, T = $4: $(tail -1 "$csv.partial" | cut -d, -f5) ms" >&2
}
for n in 64 128 256 512 1024 2048; do
  run bptt bptt "$n" 100 1
  run eprop eprop "$n" 100 1
  run lyapunov-k32 lyapunov "$n" 1000 32
  if ((n <= 1024)); then run full-spectrum lyapunov "$n" 100 "$n"; fi
done
for t in 50 200 400; do
  run bptt bptt 256 "$t" 1
  run eprop eprop 256 "$t" 1
done
for t in 250 500 2000; do run lyapunov-k32 lyapunov 256 "$t" 32; done
for t in 25 50 200; do run full-spectrum lyapunov 256 "$t" 256; done
mv "$csv.partial" "$csv"

python3 - "$csv" "$out" "$OPENBLAS_NUM_THREADS" <<'FIT'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out, threads = sys.argv[2], sys.argv[3]
def slope(points):
    xs, ys = [math.log(x) for x, _ in points], [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
base_t = {"bptt": "100", "eprop": "100", "lyapunov-k32": "1000", "full-spectrum": "100"}
md = [f"Median of 3 runs after 1 warm-up, OPENBLAS_NUM_THREADS={threads}. Time ∝ N^a fitted for N ≥ 256, ∝ T^b at N = 256.", "",
      "| workload | " + " | ".join(f"N = {n}" for n in (64, 128, 256, 512, 1024, 2048)) + " | a (N) | b (T) |",
      "|---|" + "---|" * 8]
for w, t0 in base_t.items():
    byN = {int(r["n"]): float(r["ms"]) for r in rows if r["workload"] == w and r["t"] == t0}
    byT = [(int(r["t"]), float(r["ms"])) for r in rows if r["workload"] == w and r["n"] == "256"]
    a = slope([(n, ms) for n, ms in byN.items() if n >= 256])
    b = slope(byT)
    cells = [f"{byN[n]:.1f} ms" if n in byN else "–" for n in (64, 128, 256, 512, 1024, 2048)]
    md.append(f"| {w} (T = {t0}) | " + " | ".join(cells) + f" | {a:.2f} | {b:.2f} |")
    with open(f"{out}/scaling-{w}.dat", "w") as f:
        for n in sorted(byN): f.write(f"{n} {byN[n]}\n")
open(f"{out}/scaling.md", "w").write("\n".join(md) + "\n")
print("\n".join(md))
FIT

cat > "$out/scaling.gp" <<GP
set logscale xy
set xlabel 'units N'
set ylabel 'wall time (ms, median of 3)'
set key top left
set grid
set xrange [50:3000]
set title 'BioRNN: wall time against the number of units N' noenhanced
set terminal pngcairo size 1000,650
set output '$out/scaling.png'
plot '$out/scaling-bptt.dat' with linespoints title 'BPTT step (T = 100, B = 32)', '$out/scaling-eprop.dat' with linespoints title 'e-prop step (T = 100, B = 32)', \
     '$out/scaling-lyapunov-k32.dat' with linespoints title 'λ_1…32, 1000 steps' noenhanced, '$out/scaling-full-spectrum.dat' with linespoints title 'full spectrum, 100 steps'
set terminal svg size 1000,650
set output '$out/scaling.svg'
replot
GP
gnuplot "$out/scaling.gp"
echo "$out/scaling.png" >&2
