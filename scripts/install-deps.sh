#!/usr/bin/env bash
# Installs what stam needs from Debian 12, only what is missing, so running it again does nothing.
# A fresh machine has no package lists yet: `apt-get update` runs once, before the first install.
set -euo pipefail

packages=(
  postgresql-15 postgresql-client-15   # the database (tests and the local stack start private clusters)
  util-linux                           # setpriv: run servers as their system user when we are root
  librabbitmq-dev                      # rabbitmq-c 0.11, the AMQP client (system-library target CRabbitMQ)
  rabbitmq-server                      # the broker (tests and the local stack start private nodes)
  libhiredis-dev                       # hiredis 0.14, the Redis client (system-library target CHiredis)
  redis-server                         # Redis 7 (tests and the local stack start private servers)
  ca-certificates
  # Deployment: the generated files are proven with their own tools (issue 8, docs/DEPLOYMENT.md).
  nginx                                # nginx -t on deploy/generated/nginx/nginx.<env>.conf
  openssl                              # test certificates; stam secrets init's TLS material
  docker-compose                       # docker-compose config -q (1.29.2; no Docker engine needed)
  prometheus                           # promtool check config / check rules
  pgbouncer                            # the primary-following callback against a real PgBouncer 1.18
  etcd-server etcd-client              # Patroni's DCS in the failover test
  rabbitmq-server                      # loading the generated definitions
  redis-server redis-tools             # loading the generated redis.conf
  rsync                                # the backup job's NAS copy
  curl                                 # health checks of the servers the deployment tests start
  wget                                 # nginx's compose health check (make run ENV=prod runs it as written)
  gcc libc6-dev                        # the tests' fake wall clock for child processes (Tests/TestSupport/FakeClock.swift)
  iproute2                             # ip: the prod stack's and the namespace tests' container network
  python3 python3-pip                  # scripts/install-python-tools.sh (Patroni from PyPI)
  # The web console (Sources/Backend/Console) is tested in a real browser (Tests/BackendTests/ConsoleTests).
  chromium                             # headless Chromium driven over the DevTools protocol
  fonts-dejavu-core                    # a font for the screenshot's text (no fonts: empty boxes)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
