#!/usr/bin/env bash
# Prints the table of the last run of each target from fuzz/logs/TARGET.log (see run.sh):
# executions, seconds, executions per second, and the crash artifacts left in fuzz/artifacts.
cd "$(dirname "$0")"
printf '| target | executions | seconds | exec/s | crashes left |\n|---|---:|---:|---:|---:|\n'
for f in logs/*.log; do
    t=$(basename "$f" .log)
    [ -f "fuzz_targets/$t.rs" ] || continue
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$f" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$f" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$f" | tail -1)
    if [ -z "$runs" ]; then
        runs="$(grep -ao '^#[0-9]*' "$f" | tail -1 | tr -d '#') (running)"
    fi
    crashes=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
    printf '| %s | %s | %s | %s | %s |\n' "$t" "${runs:-?}" "${secs:--}" "${rate:--}" "$crashes"
done
