#!/usr/bin/env bash
# `make bench`: every benchmark of the project in release mode, each printing a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
# The benchmarks and the fuzzer are part of the package only when asked (Package.swift).
export STAM_BENCHMARKS=1

echo "## Generator"
swift build -c release --product stamgen >/dev/null
swift build -c release --product GeneratorBench >/dev/null
.build/release/GeneratorBench "$PWD" "$PWD/.build/release/stamgen"

echo
echo "## SATEL protocol"
swift build -c release --product SatelBench >/dev/null
.build/release/SatelBench

echo
echo "## Transactional outbox"
# Starts its own PostgreSQL 15 and RabbitMQ under /tmp/stam-bench (stopped at the end); OUTBOX_BENCH_EVENTS,
# OUTBOX_BENCH_AGGREGATES and OUTBOX_BENCH_BATCH_SIZE change the load.
swift build -c release --product OutboxBench >/dev/null
.build/release/OutboxBench --migrations "$PWD/migrations"

echo
echo "## Operator API"
# List 50 alarms at 64 connections (API_BENCH_CONNECTIONS): the backend with and without its list cache (and without it, prepared), FastAPI +
# asyncpg beside it, then PostgreSQL alone on the statement the backend sent (pgbench: unnamed vs named prepared, and
# the page as json_agg). API_BENCH_PROFILE=1 adds a machine-wide perf profile of the uncached row.
scripts/install-bench-tools.sh
swift build -c release --product stam >/dev/null
swift build -c release --product ApiBench >/dev/null
.build/release/ApiBench "$PWD" "$PWD/.build/release/stam" "${API_BENCH_SECONDS:-10}"

echo
echo "## SATEL worker"
# Starts its own PostgreSQL 15, Redis and RabbitMQ under /tmp/stam-bench, `stam simulator` processes (5,000 panels
# each) and `stam worker` processes (release), stopped by PID at the end: WORKER_BENCH_PANELS (2000) polled, then
# pushing (WORKER_BENCH_MODES poll,push), WORKER_BENCH_SCALE_PANELS (10000) pushing on one worker, and a takeover run
# (WORKER_BENCH_TAKEOVER_PANELS 10000 over WORKER_BENCH_TAKEOVER_WORKERS 3, the busiest killed with SIGKILL);
# WORKER_BENCH_POLL_MS (1000), WORKER_BENCH_SECONDS (30), WORKER_BENCH_IDLE_SECONDS (20) and WORKER_BENCH_RATE
# (changes/s, default panels/10) change the load.
swift build -c release --product stam >/dev/null
swift build -c release --product WorkerBench >/dev/null
.build/release/WorkerBench --stam "$PWD/.build/release/stam" --migrations "$PWD/migrations"

echo
echo "## DC-09 receiver"
# Starts its own PostgreSQL 15 and a `stam receiver` (release) under /tmp/stam-bench, stopped by PID at the end:
# DC09_BENCH_ACCOUNTS (1000) accounts on a TCP connection each, each a link test every 10 s, plus
# DC09_BENCH_EVENT_RATE (200) Contact ID events/s, for DC09_BENCH_SECONDS (60); a baseline pass from unknown accounts
# (NAK), then the station's (ACK after commit), then PostgreSQL checked against the ACKs. DC09_BENCH_VERBOSE=1 prints
# progress, DC09_BENCH_KEEP_LOGS=1 keeps the receiver's and PostgreSQL's logs, DC09_BENCH_DIAGNOSE=1 makes PostgreSQL
# log slow statements and lock waits.
swift build -c release --product stam >/dev/null
swift build -c release --product DC09Bench >/dev/null
.build/release/DC09Bench --stam "$PWD/.build/release/stam" --migrations "$PWD/migrations"

echo
echo "## Production stack"
# `stam up --env prod` (release) under /tmp/stam-bench for each of STACK_BENCH_PANELS (200,2000) panels, pushing, then
# polled every STACK_BENCH_POLL_MS (500); STACK_BENCH_SAMPLES (100) zone violations one at a time each, then (first
# stack only) the primary killed.
# The images first: `stam up` rebuilds them after a change in Sources/ (minutes), inside the bench's wait for the stack.
scripts/build-images.sh >/dev/null
swift build -c release --product stam >/dev/null
swift build -c release --product StackBench >/dev/null
.build/release/StackBench --stam "$PWD/.build/release/stam"
