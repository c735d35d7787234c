#!/usr/bin/env bash
# Installs the Python tools the tests need, from PyPI, into .tools/python, .tools/schemathesis, .tools/dc09 and .tools/k8s
# (never system-wide; apart because their dependencies pin different versions), only when they are missing or
# of another version, so running it again does nothing. (Patroni runs in the stam-patroni
# image, which installs it from PyPI itself: deploy/generated/docker/patroni.Dockerfile.)
# Run them as: PYTHONPATH=.tools/python /usr/bin/python3 -m openapi_spec_validator ...
#             PYTHONPATH=.tools/schemathesis /usr/bin/python3 .tools/schemathesis/bin/st run ...
set -euo pipefail
cd "$(dirname "$0")/.."
target="$PWD/.tools/python"
python=/usr/bin/python3            # Debian's; a pyenv Python under /root is not executable by postgres
requirements=("openapi-spec-validator==0.7.1")                  # validates the generated Sources/GeneratedAPI/openapi.json

schemathesis_target="$PWD/.tools/schemathesis"
schemathesis_version="4.32.5"                                   # the contract fuzzer (ContractFuzzTests)

# DC-09 written by others (DC09Tests): dc09-spt, a sender, and pysiaalarm, a receiver. dc09-spt names pycrypto,
# which no longer builds; pycryptodome provides the same `Crypto` package, so all go in without their declared
# dependencies, which are listed here instead.
dc09_target="$PWD/.tools/dc09"
dc09_versions=("dc09-spt==0.0.4" "pysiaalarm==3.2.2" "pycryptodome==4.5.0" "pytz==2026.6")

# The Kubernetes manifests' checks without a cluster (KubernetesToolTests): kubernetes-validate (the API's schemas,
# bundled: offline) and checkov (policies; run with --skip-download so it asks nothing of the network).
k8s_target="$PWD/.tools/k8s"
k8s_versions=("kubernetes-validate==1.37.0" "checkov==3.3.30")

installed() {
  PYTHONPATH="$target" "$python" - <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
import openapi_spec_validator  # noqa: F401
sys.exit(0 if version("openapi-spec-validator") == "0.7.1" else 1)
PY
}

schemathesis_installed() {
  PYTHONPATH="$schemathesis_target" "$python" -c "
import sys
from importlib.metadata import version
sys.exit(0 if version('schemathesis') == '$schemathesis_version' else 1)" 2>/dev/null && [[ -x $schemathesis_target/bin/st ]]
}

dc09_installed() {
  PYTHONPATH="$dc09_target" "$python" -c "
import sys
from importlib.metadata import version
import dc09_spt, pysiaalarm, Crypto.Cipher.AES, pytz
sys.exit(0 if [version(p) for p in ('dc09-spt', 'pysiaalarm', 'pycryptodome', 'pytz')] == ['0.0.4', '3.2.2', '4.5.0', '2026.6'] else 1)" 2>/dev/null
}

k8s_installed() {
  PYTHONPATH="$k8s_target" "$python" -c "
import sys
from importlib.metadata import version
sys.exit(0 if [version(p) for p in ('kubernetes-validate', 'checkov')] == ['1.37.0', '3.3.30'] else 1)" 2>/dev/null \
    && [[ -x $k8s_target/bin/checkov && -x $k8s_target/bin/kubernetes-validate ]]
}

if installed && schemathesis_installed && dc09_installed && k8s_installed; then exit 0; fi
[[ -x $python ]] || scripts/install-deps.sh
if ! "$python" -m pip --version >/dev/null 2>&1; then scripts/install-deps.sh; fi
if ! installed; then
  echo "install-python-tools: installing ${requirements[*]} into $target"
  mkdir -p "$target"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location --upgrade \
    --target "$target" "${requirements[@]}"
fi
if ! schemathesis_installed; then
  echo "install-python-tools: installing schemathesis==$schemathesis_version into $schemathesis_target"
  rm -rf "$schemathesis_target"
  mkdir -p "$schemathesis_target"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$schemathesis_target" "schemathesis==$schemathesis_version"
fi
if ! dc09_installed; then
  echo "install-python-tools: installing ${dc09_versions[*]} into $dc09_target"
  rm -rf "$dc09_target"
  mkdir -p "$dc09_target"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location --no-deps \
    --target "$dc09_target" "${dc09_versions[@]}"
fi
if ! k8s_installed; then
  echo "install-python-tools: installing ${k8s_versions[*]} into $k8s_target"
  rm -rf "$k8s_target"
  mkdir -p "$k8s_target"
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$k8s_target" "${k8s_versions[@]}"
fi
chmod -R a+rX "$PWD/.tools"
installed || { echo "install-python-tools: installed, but openapi-spec-validator 0.7.1 still does not import" >&2; exit 1; }
schemathesis_installed || { echo "install-python-tools: installed, but schemathesis $schemathesis_version still does not run" >&2; exit 1; }
dc09_installed || { echo "install-python-tools: installed, but ${dc09_versions[*]} still do not import" >&2; exit 1; }
k8s_installed || { echo "install-python-tools: installed, but ${k8s_versions[*]} still do not run" >&2; exit 1; }
