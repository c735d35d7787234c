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
    awk '/^✘|recorded an issue|Fatal error|Precondition failed|Assertion failed|crashed|[Ss]ignal [0-9]/ { print; after = 1; next }
         after && /^↳/ { print; next }
         { after = 0 }' "$log" | head -60
    # A crash ends the process: name the tests that had started and not ended, and show what the runtime said
    # before its trap (an access conflict or a trap in the standard library says no "Fatal error") and the top
    # of the crashed thread's backtrace, which is otherwise far above the tail behind the list of images.
    if grep -q '^\*\*\* Program crashed' "$log"; then
        echo
        echo "=== tests running when the process crashed ==="
        awk '/◇ Test .* started\./ { name = $0; sub(/.*◇ Test /, "", name); sub(/ started\..*/, "", name); running[name] = 1 }
             /[✔✘] Test .* (passed|failed)/ { name = $0; sub(/.*[✔✘] Test /, "", name); sub(/ (passed|failed).*/, "", name); delete running[name] }
             END { for (name in running) print name }' "$log"
        echo "=== the crash ==="
        awk '/^\*\*\* Signal [0-9]+: Backtracing/ { for (i = 0; i < 12; i++) if (n - 12 + i >= 0) print before[(n - 12 + i) % 12]; crash = 1 }
             { before[n % 12] = $0; n++ }
             crash && /crashed:$/ { frames = 60 }
             frames > 0 { print; frames-- }' "$log"
    fi
fi
exit "$status"
