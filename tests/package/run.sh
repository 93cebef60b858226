#!/bin/sh
# Installs switchyard from a build directory into a temporary prefix, then
# builds and runs consumers against the installed copy only:
#   1. a CMake project: find_package(switchyard CONFIG REQUIRED)
#   2. the C compiler with `pkg-config --cflags --libs --static switchyard`
# each for a C99 program (C API) and a WASIX-style program (<wasix/context.h>).
#
# Usage: tests/package/run.sh BUILD_DIR
# BUILD_DIR is a configured and built switchyard tree without sanitizers.
# Needs cmake, a C compiler (cc) and pkg-config.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: tests/package/run.sh BUILD_DIR}
work=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
failures=0

fail() {
  echo "package test FAILED: $*" >&2
  failures=$((failures + 1))
}

# expect CODE TEXT PROGRAM [ARGS...]: the program exits with CODE and its
# output (stdout and stderr) contains TEXT.
expect() {
  code=$1 text=$2
  shift 2
  set +e
  output=$("$@" 2>&1)
  got=$?
  set -e
  printf '%s\n' "$output"
  [ "$got" -eq "$code" ] || fail "$* exited with $got, expected $code"
  case $output in
    *"$text"*) ;;
    *) fail "$* did not print \"$text\"" ;;
  esac
}

check_programs() {
  dir=$1
  expect 0 "c99_consumer: ok (total 55)" "$dir/c99_consumer"
  expect 0 "wasix_consumer: ok (100 volleys)" "$dir/wasix_consumer"
  expect 129 "context 3 returned from its entrypoint" "$dir/wasix_consumer" return
}

echo "== installing $build into $prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

echo "== consumer through find_package(switchyard CONFIG REQUIRED)"
cmake -S "$here/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/cmake" -j2 >/dev/null
check_programs "$work/cmake"

echo "== consumer through pkg-config --cflags --libs --static switchyard"
pc=$(find "$prefix" -name switchyard.pc | head -n 1)
[ -n "$pc" ] || { echo "no switchyard.pc under $prefix" >&2; exit 1; }
PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs --static switchyard)
echo "pkg-config: $flags"
mkdir -p "$work/pc"
for program in c99_consumer wasix_consumer; do
  # $flags is split into words on purpose.
  # shellcheck disable=SC2086
  cc -std=c99 -pedantic -Wall -Wextra -Werror "$here/consumer/$program.c" -o "$work/pc/$program" $flags
done
check_programs "$work/pc"

# The installed WebAssembly host (when this build made one), running the
# same WASIX consumer built unchanged as a wasm32-wasi guest against the
# installed header.
if [ -x "$build/src/wasm_host/switchyard-wasm" ]; then
  echo "== installed switchyard-wasm with wasix_consumer.c as a wasm32-wasi guest"
  host=$prefix/bin/switchyard-wasm
  [ -x "$host" ] || fail "switchyard-wasm is not installed in $prefix/bin"
  if command -v clang-14 >/dev/null && [ -f /usr/lib/wasm32-wasi/libc.a ] && [ -x "$host" ]; then
    mkdir -p "$work/wasm"
    clang-14 --target=wasm32-wasi --sysroot=/usr -std=c99 -pedantic -Wall -Wextra -Werror \
      -I"$prefix/include" "$here/consumer/wasix_consumer.c" -o "$work/wasm/wasix_consumer.wasm"
    export SWITCHYARD_WASM_CACHE="$work/wasm/cache"
    for engine in interp aot; do
      expect 0 "wasix_consumer: ok (100 volleys)" "$host" --engine $engine "$work/wasm/wasix_consumer.wasm"
      expect 129 "context 3 returned from its entrypoint" "$host" --engine $engine "$work/wasm/wasix_consumer.wasm" return
    done
  fi
fi

if [ "$failures" -ne 0 ]; then
  echo "package test: $failures failure(s)" >&2
  exit 1
fi
echo "package test: passed"
