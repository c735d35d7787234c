# The two commands of the README: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
ENV ?= dev
BUILD_DIR ?= .build

.PHONY: run test images bench fuzz deps build generate check down clean-state

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/debug/stamgen: deps
	swift build --product stamgen

# Generate, build, start the local stack (dev by default; `make run ENV=prod` for the full topology).
run: deps
	swift build --product stamgen
	$(BUILD_DIR)/debug/stamgen generate
	swift build --product stam
	$(BUILD_DIR)/debug/stam up --env $(ENV)

# Generated outputs current, migrations cover the schema, every target imports only what it declares, then
# every test.
# Tests run one at a time: most suites start real servers (PostgreSQL, RabbitMQ, Redis, Patroni, simulators)
# and on 2 cores running them all at once starves timing-sensitive ones (leases, timeouts, readiness probes).
TEST_PARALLELISM ?= 1
# The production suite runs on the images: they are built first (podman; cached, so a warm run takes seconds).
test: deps
	swift build --product stamgen
	$(BUILD_DIR)/debug/stamgen check
	scripts/build-images.sh
	swift build --build-tests --explicit-target-dependency-import-check error
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_PARALLELISM) BUILD_DIR=$(BUILD_DIR) scripts/run-tests.sh

# The images of the schema on this machine's podman (base images and stand-ins first); `make run ENV=prod` and
# `make test` do this themselves.
images: deps
	scripts/build-images.sh

# Benchmarks, printed as tables (release builds).
bench: deps
	scripts/bench.sh

# libFuzzer on the SATEL frame decoder for a bounded time (FUZZ_SECONDS), corpus in Tests/SatelFuzzCorpus.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz-satel.sh $(FUZZ_SECONDS)

generate: deps
	swift build --product stamgen
	$(BUILD_DIR)/debug/stamgen generate

check: deps
	swift build --product stamgen
	$(BUILD_DIR)/debug/stamgen check

down:
	$(BUILD_DIR)/debug/stam down

# Removes the local stack's data (databases, secrets, logs) after it was stopped.
clean-state:
	rm -rf .stam
