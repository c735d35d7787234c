#!/usr/bin/env bash
# Installs the Python tools the deployment and API tests need, from PyPI, into .tools/python (never system-wide),
# only when they are missing or too old, so running it again does nothing.
#   Patroni 4.1.5 (>= 3.0.3 is required: Debian 12's 3.0.2 can lose acknowledged writes with etcd3, see
#   docs/DEPLOYMENT.md), the version the stam-patroni image installs.
# Run them as: PYTHONPATH=.tools/python /usr/bin/python3 -m patroni ...   (readable by the postgres user)
set -euo pipefail
cd "$(dirname "$0")/.."
target="$PWD/.tools/python"
python=/usr/bin/python3            # Debian's; a pyenv Python under /root is not executable by postgres
requirements=("patroni[etcd3]==4.1.5" "psycopg2-binary>=2.9,<3"   # the version of deploy/generated/docker/patroni.Dockerfile
              "openapi-spec-validator==0.7.1")                  # validates the generated api/openapi.json

installed() {
  PYTHONPATH="$target" "$python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
def parse(text): return tuple(int(p) for p in text.split(".")[:3] if p.isdigit())
ok = parse(version("patroni")) == (4, 1, 5)
import psycopg2, etcd, patroni.dcs.etcd3, openapi_spec_validator  # noqa: F401
sys.exit(0 if ok else 1)
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
installed || { echo "install-python-tools: installed, but Patroni >= 3.0.3 still does not import" >&2; exit 1; }
