#!/usr/bin/env bash
# Installs what `make bench` needs beyond the test dependencies, only when missing: wrk (Debian) and the
# FastAPI baseline of the API benchmark (PyPI, into .tools/bench-python, never system-wide).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get install -y -q --no-install-recommends wrk || { $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends wrk; }
fi
target="$PWD/.tools/bench-python"
if ! PYTHONPATH="$target" /usr/bin/python3 -c "import fastapi, uvicorn, asyncpg, jwt" 2>/dev/null; then
  echo "install-bench-tools: installing the FastAPI baseline into $target"
  mkdir -p "$target"
  /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location --target "$target" \
    -r Benchmarks/fastapi-baseline/requirements.txt
fi
