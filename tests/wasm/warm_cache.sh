#!/bin/sh
# warm_cache.sh HOST MODULE...: translates and compiles each module for
# --engine aot once (the test fixture every aot test depends on), so the
# aot tests do not compile the same module in parallel and timed tests do
# not time the compiler. Runs each module's quick "switching" case; fails
# only if a module does not load (exit status 2).
host=$1
shift
for module in "$@"; do
  "$host" --engine aot "$module" switching >/dev/null 2>&1
  if [ $? -eq 2 ]; then
    "$host" --engine aot "$module" switching
    exit 1
  fi
done
echo "translated and compiled $# modules"
