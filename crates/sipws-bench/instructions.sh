#!/usr/bin/env bash
# Instructions per parse for every contender on the five benchmark
# messages, counted by valgrind (callgrind's "I refs") around `parse-loop`
# with N iterations minus the same with 0 iterations (start-up and corpus
# read). Unlike wall time, instruction counts do not move with the load of
# a shared machine (they do not show cache or branch-miss costs, though).
# Needs valgrind.
#
#   bash crates/sipws-bench/instructions.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-2000}
cargo build -q --release -p sipws-bench --bin parse-loop
bin=${CARGO_TARGET_DIR:-target}/release/parse-loop
count() { # contender message iterations -> instructions executed
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 >/dev/null |
    awk '/Collected :/ { print $NF }'
}
contenders=(sipws_full sipws_classify rsipstack rsip memchr_crlf)
echo "| message | sipws full | sipws classify | rsipstack | rsip | memchr CRLF | rsipstack / sipws full | rsip / sipws full | classify / memchr |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for m in register_401 register_200 invite_webrtc notify_dialog info_200; do
  declare -A per=()
  row="| $m.sip"
  for c in "${contenders[@]}"; do
    base=$(count "$c" "$m.sip" 0)
    full=$(count "$c" "$m.sip" "$n")
    per[$c]=$(((full - base) / n))
    row+=" | ${per[$c]}"
  done
  row+=$(awk -v a="${per[rsipstack]}" -v b="${per[rsip]}" -v f="${per[sipws_full]}" \
    -v k="${per[sipws_classify]}" -v m="${per[memchr_crlf]}" \
    'BEGIN { printf " | %.2f× | %.1f× | %.2f× |", a / f, b / f, k / m }')
  echo "$row"
done
