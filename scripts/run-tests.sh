#!/usr/bin/env bash
# Runs every test (`make test`'s last step) and, when any fails, repeats the failing lines at the very end:
# a CI log is often read from its tail only, and the failures of a 25-minute run are thousands of lines up.
set -uo pipefail
log="${BUILD_DIR:-.build}/test-run.log"
mkdir -p "$(dirname "$log")"
swift test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "=== failures (from $log) ==="
    # A failure's `↳` lines (its comments) follow it; the `↳` lines of the run's header do not.
    awk '/^✘|recorded an issue|Fatal error|crashed|[Ss]ignal [0-9]/ { print; after = 1; next }
         after && /^↳/ { print; next }
         { after = 0 }' "$log" | head -60
fi
exit "$status"
