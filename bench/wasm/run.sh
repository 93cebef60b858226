#!/usr/bin/env bash
# The WASIX round trip (context_switch there and back) natively and as a
# wasm guest on both engines of switchyard-wasm: bench/wasm/round_trip.c,
# built three ways. Prints a Markdown table (docs/PERFORMANCE.md, "WebAssembly
# guests"). Median of REPEAT runs (default 5) of ROUNDS round trips each
# (defaults: 2,000,000 native and aot, 200,000 interp).
#   bench/wasm/run.sh [--build-dir DIR] [--repeat N]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build repeat=5
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "usage: bench/wasm/run.sh [--build-dir DIR] [--repeat N]" >&2; exit 2 ;;
  esac
done
cmake -S . -B "$build" -DSWITCHYARD_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target switchyard switchyard-wasm >/dev/null
out=$build/bench-wasm
mkdir -p "$out"
cc -O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude bench/wasm/round_trip.c -o "$out/round_trip_native" \
  "$build/libswitchyard.a" -lboost_context -lspdlog -lfmt -lstdc++ -lm -pthread
clang-14 --target=wasm32-wasi --sysroot=/usr -O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Iinclude \
  bench/wasm/round_trip.c -o "$out/round_trip.wasm"
export SWITCHYARD_WASM_CACHE=$PWD/$build/wasm-cache
host=$build/src/wasm_host/switchyard-wasm
"$host" --engine aot "$out/round_trip.wasm" 1000 >/dev/null  # translate and compile once, outside the timing

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
measure() {  # rounds command...
  local rounds=$1
  shift
  for ((i = 0; i < repeat; ++i)); do "$@" "$rounds"; done | median
}
native=$(measure 2000000 "$out/round_trip_native")
aot=$(measure 2000000 "$host" --engine aot "$out/round_trip.wasm")
interp=$(measure 200000 "$host" --engine interp "$out/round_trip.wasm")
echo "| program (bench/wasm/round_trip.c) | ns per round trip (median of $repeat) |"
echo "|---|---:|"
echo "| native C through <wasix/context.h> | $native |"
echo "| wasm guest, switchyard-wasm --engine aot (wasm2c) | $aot |"
echo "| wasm guest, switchyard-wasm --engine interp (wabt) | $interp |"
