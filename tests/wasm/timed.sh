#!/bin/sh
# timed.sh MAX_MS COUNT TEXT COMMAND...: runs COMMAND; passes when it exits
# with 0 within MAX_MS milliseconds of wall time and TEXT occurs in its
# output COUNT times. Prints the output and the time it took.
max=$1 count=$2 text=$3
shift 3
start=$(date +%s%N)
output=$("$@" 2>&1)
status=$?
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf '%s\n' "$output"
echo "timed.sh: exit status ${status}, ${ms} ms (limit ${max} ms)"
found=$(printf '%s\n' "$output" | grep -c -F "$text")
[ "$status" -eq 0 ] || exit 1
[ "$found" -eq "$count" ] || { echo "timed.sh: '$text' occurs $found times, expected $count"; exit 1; }
[ "$ms" -lt "$max" ]
