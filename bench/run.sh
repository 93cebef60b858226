#!/usr/bin/env bash
# Reproduces the results of docs/PERFORMANCE.md, or checks that every
# benchmark runs (CI).
#
#   bench/run.sh --smoke      every benchmark for a very short time, scaling at
#                             1k and 100k live only; fails if one fails (~10 s)
#   bench/run.sh              the full run: repetitions, JSON, callgrind
#                             instruction counts, the tables (medians, ratios)
#                             and the two plots in docs/plots/
#
# Options:
#   --build-dir DIR     build tree to use (default: build-bench). Configured
#                       here (Release, SWITCHYARD_BUILD_BENCH=ON) if it has no
#                       CMakeCache.txt yet; only switchyard_bench is built.
#   --out DIR           where results.json, results.md, *.dat and the PNGs go
#                       (default: docs/plots)
#   --repetitions N     repetitions of every benchmark (default 7)
#   --min-time S        seconds per repetition (default 0.3)
#   --no-huge           leave out the 1,000,000-live-contexts cases
#   --filter REGEX      run only these benchmarks (Google Benchmark's filter)
#   --no-callgrind      skip the instruction counts (valgrind)
#   --backend B         the switch to build with: native (default) or boost
#                       (its own build dir, build-bench-boost, unless given)
# Needs: cmake, a C++20 compiler, Debian's libbenchmark-dev,
# libboost-context-dev, libboost-fiber-dev, libspdlog-dev; python3; gnuplot
# (gnuplot-nox) for the plots; valgrind for the instruction counts.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
out="$root/docs/plots"
smoke=0
repetitions=7
min_time=0.3
huge=1
filter=()
callgrind=1
backend=native
build_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build=$(realpath -m "$2"); build_given=1; shift ;;
    --backend) backend=$2; shift ;;
    --out) out=$(realpath -m "$2"); shift ;;
    --repetitions) repetitions=$2; shift ;;
    --min-time) min_time=$2; shift ;;
    --no-huge) huge=0 ;;
    --filter) filter=(--benchmark_filter="$2"); shift ;;
    --no-callgrind) callgrind=0 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ "$backend" = native ] || [ "$build_given" = 1 ] || build="$root/build-bench-$backend"
# Build. Two jobs at most: the machine is shared.
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSWITCHYARD_BUILD_BENCH=ON \
    -DSWITCHYARD_SWITCH_BACKEND="$backend" -DSWITCHYARD_BUILD_WASM_HOST=OFF \
    -DSWITCHYARD_BUILD_TESTS=OFF -DSWITCHYARD_BUILD_EXAMPLES=OFF >/dev/null
elif ! grep -q '^SWITCHYARD_BUILD_BENCH:BOOL=ON' "$build/CMakeCache.txt"; then
  cmake -S "$root" -B "$build" -DSWITCHYARD_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$build" -j2 --target switchyard_bench >/dev/null
bin="$build/bench/switchyard_bench"

# Fails when the run failed or when a benchmark reported an error.
check_json() {
  python3 - "$1" <<'EOF'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
failed = [b["name"] + ": " + b.get("error_message", "") for b in runs if b.get("error_occurred")]
for f in failed:
    print("FAILED", f, file=sys.stderr)
print(f"{len(runs)} benchmark runs, {len(failed)} failed")
sys.exit(1 if failed or not runs else 0)
EOF
}

if [ "$smoke" = 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$bin" --sy_smoke --benchmark_min_time=0.01 \
    --benchmark_out="$tmp/smoke.json" --benchmark_out_format=json
  check_json "$tmp/smoke.json"
  # The instruction-count mode must run too (without valgrind it only runs).
  "$bin" --sy_instructions='^switch/switchyard$' >/dev/null
  echo "smoke: all benchmarks ran"
  exit 0
fi

mkdir -p "$out"
[ "$huge" = 1 ] || [ ${#filter[@]} -gt 0 ] || filter=(--benchmark_filter='-/1000000/')
# Random interleaving spreads each benchmark's repetitions over the whole
# run, so that a burst of load from other users hits every benchmark alike.
"$bin" --benchmark_repetitions="$repetitions" --benchmark_min_time="$min_time" \
  --benchmark_enable_random_interleaving=true "${filter[@]}" \
  --benchmark_out="$out/results.json" --benchmark_out_format=json
check_json "$out/results.json"

instructions=()
if [ "$callgrind" = 1 ] && command -v valgrind >/dev/null; then
  cg=$(mktemp -d)
  (cd "$cg" && valgrind --tool=callgrind "$bin" --sy_instructions >kernels.txt 2>valgrind.log)
  python3 - "$cg" "$out/instructions.json" <<'EOF'
import glob, json, re, sys
cg, dest = sys.argv[1], sys.argv[2]
iterations = {}
for line in open(f"{cg}/kernels.txt"):
    m = re.match(r"(\S+): (\d+) iterations counted", line)
    if m:
        iterations[m.group(1)] = int(m.group(2))
counts = {}
for path in glob.glob(f"{cg}/callgrind.out.*.*"):
    name = total = None
    for line in open(path):
        if line.startswith("desc: Trigger: Client Request: "):
            name = line.split(": ", 2)[2].split(": ", 1)[1].strip()
        elif line.startswith("totals: "):
            total = int(line.split()[1])
    if name in iterations and total is not None:
        counts[name] = total / iterations[name]
json.dump(counts, open(dest, "w"), indent=1, sort_keys=True)
print(f"instruction counts of {len(counts)} kernels in {dest}")
EOF
  rm -rf "$cg"
  instructions=(--instructions "$out/instructions.json")
fi

python3 "$root/docs/plots/report.py" "$out/results.json" "${instructions[@]}" --out "$out"
if command -v gnuplot >/dev/null; then
  gnuplot -e "dir='$out'" "$root/docs/plots/plots.gp"
  echo "plots: $out/switch.png $out/scaling.png"
else
  echo "gnuplot not found (apt-get install gnuplot-nox): no plots" >&2
fi
