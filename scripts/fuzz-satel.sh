#!/usr/bin/env bash
# Builds the SATEL decoder fuzzer with libFuzzer and runs it for a bounded time.
#   scripts/fuzz-satel.sh [seconds]        (default 60)
# New inputs go to a scratch corpus; crashes land in fuzz-artifacts/ (ignored by git). The committed seed
# corpus in Tests/SatelFuzzCorpus is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
# The benchmarks and the fuzzer are part of the package only when asked (Package.swift).
export STAM_BENCHMARKS=1
seconds="${1:-60}"
swift build --sanitize fuzzer -c release --product SatelFuzz --scratch-path .build-fuzz
binary=".build-fuzz/release/SatelFuzz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p fuzz-artifacts
"$binary" "$work" Tests/SatelFuzzCorpus \
    -max_total_time="$seconds" -max_len=512 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=fuzz-artifacts/ -print_final_stats=1
