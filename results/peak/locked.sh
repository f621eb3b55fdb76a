#!/bin/sh
# usage: locked.sh OUT cmd...   (runs cmd under the exclusive machine lock, with load and steal recorded)
out=$1; shift
flock -x /tmp/embgrad-machine.lock sh -c '
out=$1; shift
{ echo "# $(date -u +%FT%TZ) loadavg at start: $(cat /proc/loadavg)"; echo "# steal jiffies at start: $(awk "/^cpu /{print \$9}" /proc/stat)"; echo "# command: $*"; } > "$out"
"$@" >> "$out" 2>&1
{ echo "# loadavg at end: $(cat /proc/loadavg)"; echo "# steal jiffies at end: $(awk "/^cpu /{print \$9}" /proc/stat)"; } >> "$out"
' sh "$out" "$@"
