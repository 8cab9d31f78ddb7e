#!/usr/bin/env bash
# Mutation evidence for the test suite (the Golden Values article): plants each one-line
# semantic mutation of ci/mutations/mutations.json in a clone of this repository's HEAD, runs the
# whole suite (`swift test -c release`) on it, and prints a table: mutation → the tests that
# failed, and what `biornn golden check` said. A mutation no test catches is a hole to fill with
# a golden entry or a property. Entries marked "rounding" (e.g. every tanh one ulp up) are the
# opposite: nothing may fail, and the golden check shows them within rounding or statistics.
#
#     bash ci/mutations/run.sh [ID ...]        # default: every mutation
#
# The clone lives in $MUTANT_DIR (default /tmp/biornn-mutants) and keeps its build between runs;
# each mutation's full test log is left in $MUTANT_DIR/logs/ID.log.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${MUTANT_DIR:-/tmp/biornn-mutants}"
if [[ ! -d "$work/.git" ]]; then git clone -q "$root" "$work"; fi
git -C "$work" fetch -q "$root" HEAD && git -C "$work" checkout -q --detach FETCH_HEAD && git -C "$work" checkout -q -- .
mkdir -p "$work/logs"
ids=("$@")
if ((${#ids[@]} == 0)); then mapfile -t ids < <(python3 -c 'import json,sys; [print(m["id"]) for m in json.load(open(sys.argv[1]))]' "$root/ci/mutations/mutations.json"); fi
echo "| mutation | what | caught by | golden check |"
echo "|---|---|---|---|"
for id in "${ids[@]}"; do
  python3 - "$root/ci/mutations/mutations.json" "$work" "$id" <<'PY'
import json, sys
mutations, work, wanted = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
m = next(m for m in mutations if m["id"] == wanted)
path = f"{work}/{m['file']}"
text = open(path).read()
assert text.count(m["old"]) == 1, f"{wanted}: the line to mutate is not in {m['file']} exactly once"
open(path, "w").write(text.replace(m["old"], m["new"]))
PY
  (cd "$work" && swift test -c release >"logs/$id.log" 2>&1) || true
  golden=$(cd "$work" && .build/release/biornn golden check 2>/dev/null | tail -1 | sed 's/^[0-9]* entries: //') || true
  git -C "$work" checkout -q -- .
  what=$(python3 -c 'import json,sys; print(next(m["what"] for m in json.load(open(sys.argv[1])) if m["id"] == sys.argv[2]))' "$root/ci/mutations/mutations.json" "$id")
  caught=$(grep -oE '✘ Test "[^"]+"' "$work/logs/$id.log" | sed 's/✘ Test //' | sort -u | paste -sd ';' - | sed 's/;/; /g')
  if grep -q "error:" "$work/logs/$id.log" && ! grep -q "Test run" "$work/logs/$id.log"; then caught="(did not build)"; fi
  rounding=$(python3 -c 'import json,sys; print(next(m.get("rounding", False) for m in json.load(open(sys.argv[1])) if m["id"] == sys.argv[2]))' "$root/ci/mutations/mutations.json" "$id")
  if [[ $rounding == True ]]; then miss="nothing (as it must: rounding only)"; else miss="**MISSED**"; fi
  echo "| $id | $what | ${caught:-$miss} | ${golden:-} |"
done
