#!/usr/bin/env bash
# Installs the Python tools the deployment tests need, from PyPI, into .tools/python (never system-wide), only
# when they are missing or of another version, so running it again does nothing. (Patroni runs in the stam-patroni
# image, which installs it from PyPI itself: deploy/generated/docker/patroni.Dockerfile.)
# Run them as: PYTHONPATH=.tools/python /usr/bin/python3 -m openapi_spec_validator ...
set -euo pipefail
cd "$(dirname "$0")/.."
target="$PWD/.tools/python"
python=/usr/bin/python3            # Debian's; a pyenv Python under /root is not executable by postgres
requirements=("openapi-spec-validator==0.7.1")                  # validates the generated api/openapi.json

installed() {
  PYTHONPATH="$target" "$python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
import openapi_spec_validator  # noqa: F401
sys.exit(0 if version("openapi-spec-validator") == "0.7.1" else 1)
PY
}

if installed; then exit 0; fi
[[ -x $python ]] || scripts/install-deps.sh
if ! "$python" -m pip --version >/dev/null 2>&1; then scripts/install-deps.sh; fi
echo "install-python-tools: installing ${requirements[*]} into $target"
mkdir -p "$target"
"$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location --upgrade \
  --target "$target" "${requirements[@]}"
chmod -R a+rX "$PWD/.tools"
installed || { echo "install-python-tools: installed, but openapi-spec-validator 0.7.1 still does not import" >&2; exit 1; }
