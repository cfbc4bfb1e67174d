#!/usr/bin/env bash
# Runs fuzz targets with cargo-fuzz (nightly libFuzzer, debug assertions and overflow checks on),
# each until RUNS executions or SECONDS of fuzzing, whichever comes first, and prints one summary
# line per target:
#
#   TARGET  EXECUTIONS  SECONDS  EXEC/S  CORPUS  CRASHES
#
#   bash fuzz/run.sh [-r RUNS] [-t SECONDS] [-B] [TARGET...]  (default: every target, 10M / 1800 s)
#
# The targets are built once first (cargo fuzz build -O -a) and the binaries run directly, so a
# source edit during a long run does not rebuild anything; -B skips that build. vhdlint's crates
# forbid unsafe code, so the targets run without AddressSanitizer (twice the executions), except
# those whose dependencies carry unsafe code (the decompressors behind initramfs, zlib-rs among them, and btrfs, the object crate's
# resource directory reader behind exe_version), built with it
# into target-asan/.
#
# The working corpus grows in fuzz/corpus/TARGET (not committed), starting from fuzz/seeds.
# A crash, leak, timeout (an input taking over 10 s) or allocation over 2 GiB stops the target
# and leaves the input in fuzz/artifacts/TARGET; once fixed, copy it to
# fuzz/regressions/TARGET/ so that `cargo test` replays it.
set -uo pipefail
cd "$(dirname "$0")"
RUNS=10000000
SECS=1800
BUILD=1
while getopts r:t:B o; do
    case $o in
        r) RUNS=$OPTARG ;;
        t) SECS=$OPTARG ;;
        B) BUILD=0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
mkdir -p logs
ASAN="initramfs fs_btrfs exe_version"
if [ "$BUILD" = 1 ]; then
    { cargo +nightly fuzz build -O -a -s none &&
        for t in $ASAN; do cargo +nightly fuzz build -O -a --target-dir target-asan "$t"; done; } \
        >logs/build.log 2>&1 || { cat logs/build.log; exit 1; }
fi
for t in "${targets[@]}"; do
    BIN=target/x86_64-unknown-linux-gnu/release
    case " $ASAN " in *" $t "*) BIN=target-asan/x86_64-unknown-linux-gnu/release ;; esac
    mkdir -p "corpus/$t" "artifacts/$t"
    "$BIN/$t" "corpus/$t" "seeds/$t" -artifact_prefix="artifacts/$t/" \
        -runs="$RUNS" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 >"logs/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "logs/$t.log" | tail -1)
    [ -n "$secs" ] || secs=$(sed -n 's/^#[0-9]*.*time: *\([0-9]*\)s.*//p' "logs/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "logs/$t.log" | tail -1)
    crashes=$(find "artifacts/$t" -type f | wc -l)
    printf '%-16s %12s %6ss %8s/s %6s corpus %3s crashes (exit %s)\n' \
        "$t" "${runs:-?}" "${secs:-?}" "${rate:-?}" "$(ls "corpus/$t" | wc -l)" "$crashes" "$rc"
done
