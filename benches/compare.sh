#!/usr/bin/env bash
# Times `vhdlint check` against `qemu-img info -f vpc` on the same 30 GiB image, in one run,
# and prints how many bytes vhdlint read from the image.
#
#   bash benches/compare.sh [RUNS] [IMAGE]   (default 20 runs of each; default image: the
#                                            populated 30 GiB ext4 fixture)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-20}
cd "$root"
cargo build --release -q -p vhdlint
img=${2:-$(bash fixtures/build.sh ext4-30g-populated target/bench-fixtures | tail -n 1)}
bin=target/release/vhdlint

# Mean wall time of a command over $runs runs, in milliseconds.
mean_ms() {
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
    end=$(date +%s%N)
    python3 -c "print(f\"{($end - $start) / 1e6 / $runs:.2f}\")"
}

echo "image: $img ($(du -h "$img" | cut -f1) on disk, $(stat -c %s "$img") bytes)"
echo "runs:  $runs each, warm page cache"
"$bin" check -q "$img" >/dev/null || true
printf '%-52s %10s ms\n' "qemu-img info -f vpc" "$(mean_ms qemu-img info -f vpc "$img")"
printf '%-52s %10s ms\n' "vhdlint check (all checks but disk/sparse)" "$(mean_ms "$bin" check -q --ignore disk/sparse "$img")"
printf '%-52s %10s ms\n' "vhdlint check (every check, surface scan included)" "$(mean_ms "$bin" check -q "$img")"
read_bytes=$("$bin" check -q --format json --ignore disk/sparse "$img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["facts"]["bytes_read"])')
echo "bytes vhdlint read from the image (all checks but disk/sparse): $read_bytes"
