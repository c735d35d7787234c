#!/usr/bin/env bash
# Installs and configures the container engine `make run ENV=prod` and the production tests use: Debian's
# podman 4.3 (rootful) with docker-compose 1.29.2 over podman's Docker-compatible API. Idempotent: only what is
# missing is installed, the settings are written only when they differ. Facts behind each setting:
# ../shared/docs/containers.md and docs/DEPLOYMENT.md section 12.
#
# The API socket itself is started by `stam up --env prod` (ContainerEngine), not here: it is a process, and
# this script only installs.
set -euo pipefail

packages=(podman runc mmdebstrap docker-compose uidmap)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-container-engine: needs root (or sudo)" >&2; exit 1; }
  sudo="sudo"
fi
if ((${#missing[@]} > 0)); then
  echo "install-container-engine: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q "${missing[@]}"
fi

# runc, not crun: crun 1.8 fails on this kernel's cgroup v1 hybrid mode ("cgroups in hybrid mode not supported").
# default_ulimits: the machine's hard nofile limit is 20000 and root lacks CAP_SYS_RESOURCE, so podman's default
# (1048576) fails with "setrlimit RLIMIT_NOFILE: Operation not permitted". Both are harmless on a normal host.
conf=/etc/containers/containers.conf
wanted='# Written by stam scripts/install-container-engine.sh.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
if [[ ! -f $conf ]] || [[ "$(cat "$conf")" != "$wanted" ]]; then
  $sudo mkdir -p /etc/containers
  printf '%s\n' "$wanted" | $sudo tee "$conf" >/dev/null
  echo "install-container-engine: wrote $conf"
fi
