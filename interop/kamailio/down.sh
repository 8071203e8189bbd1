#!/usr/bin/env bash
# Stop the sipws interop Kamailio started by up.sh: the main process and any
# worker of its process group still running sipws.cfg.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${SIPWS_KAM_DIR:-/tmp/sipws-kamailio}"
pidfile="$dir/kamailio.pid"
[ -s "$pidfile" ] || { echo "down.sh: not running"; exit 0; }
pgid="$(cat "$pidfile")"
ours() { ps -eo pid=,pgid=,stat=,args= | awk -v g="$pgid" -v c="-f $here/sipws.cfg" '$2 == g && $3 !~ /^Z/ && index($0, c) { print $1 }'; }
gone() { for _ in $(seq 1 "$1"); do [ -z "$(ours)" ] && return 0; sleep 0.1; done; return 1; }
kill -TERM "$pgid" 2>/dev/null; gone 50 || { for p in $(ours); do kill -TERM "$p" 2>/dev/null; done; gone 20 || for p in $(ours); do kill -KILL "$p" 2>/dev/null; done; gone 20; }
rm -f "$pidfile"
echo "down.sh: stopped"
