#!/usr/bin/env bash
# Builds, from Debian 12's mirror, every base image the generated production stack names, for a machine that
# reaches no container registry (the test machines: podman 4.3 rootful, docker-compose 1.29.2 over podman's
# Docker API; see ../shared/docs/containers.md). An admin's Docker host never runs this: it pulls the official
# images. Nothing here is shipped.
#
#   scripts/build-base-images.sh            build what is missing or out of date, print one line per image
#   scripts/build-base-images.sh --force    rebuild everything (a fresh Debian base from today's mirror)
#
# Images, each under exactly the name(s) deploy/generated/docker-compose.*.yml and
# deploy/generated/docker/*.Dockerfile use (a short name such as postgres:15 resolves to docker.io/library/...):
#   debian:bookworm-slim             mmdebstrap --variant=minbase bookworm, imported (localhost/ and docker.io/library/)
#   postgres:15-bookworm, :15        Debian's postgresql-15 with a docker-entrypoint.sh like the official one
#   nginx:1.27-alpine                Debian's nginx 1.22 (+ wget for the health check)
#   redis:7-alpine                   Debian's redis-server 7.0
#   rabbitmq:3-management            Debian's rabbitmq-server 3.10 (management and prometheus plugins)
#   quay.io/coreos/etcd:v3.5.17      Debian's etcd 3.4
#   prom/prometheus:v2.55.1          Debian's prometheus 2.42
#   oliver006/redis_exporter:v1.66.0 Debian's prometheus-redis-exporter 1.45
#   nginx/nginx-prometheus-exporter:1.3.0  Debian's prometheus-nginx-exporter 0.11
#   swift:6.3-bookworm               the official image's toolchain dependencies; the toolchain itself is lent
#                                    by the host at build time (-v /opt/swift:/opt/swift:ro), never copied
# Not built: grafana/grafana:11.3.1. Grafana is packaged in neither Debian nor PyPI, so there is no stand-in;
# a stack started here runs without it (or with a compose override that leaves it out).
#
# The stand-ins' Dockerfiles and entrypoints are in deploy/local-images/<short-name>/ (hand-written). Each
# image carries a label stam.inputs=<sha256 of its inputs>: for the base, the mmdebstrap parameters and the
# files it copies in (deploy/local-images/debian/); for a stand-in, its directory's files, its names and the
# base image's id. An image is rebuilt only when it is missing or its label differs, so a second run takes a
# few seconds; a rebuilt base rebuilds every stand-in. Runs as root; installs and configures the engine first
# (scripts/install-container-engine.sh, idempotent).
set -euo pipefail

project=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
images_dir=$project/deploy/local-images
label_key=stam.inputs

say() { printf 'build-base-images: %s\n' "$*"; }
die() { printf 'build-base-images: error: %s\n' "$*" >&2; exit 1; }

force=false
case "${1:-}" in
  "") ;;
  --force) force=true ;;
  -h | --help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac
[[ $(id -u) -eq 0 ]] || die "run as root (rootful podman, mmdebstrap in root mode)"
[[ -d $images_dir ]] || die "$images_dir is missing"

"$project/scripts/install-container-engine.sh" || die "scripts/install-container-engine.sh failed"
for tool in podman mmdebstrap sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

work=$(mktemp -d /tmp/stam-base-images.XXXXXX)
keep_work=false
cleanup() { if [[ $keep_work == false ]]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# The label of an image, empty when the image is missing.
label_of() { podman image inspect --format "{{index .Labels \"$label_key\"}}" "$1" 2>/dev/null || true; }
id_of() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# True when every name exists with the label wanted.
up_to_date() {
  local wanted=$1 name
  shift
  [[ $force == false ]] || return 1
  for name in "$@"; do
    [[ "$(label_of "$name")" == "$wanted" ]] || return 1
  done
}
# Old images replaced by a rebuild; removed at the end once nothing names them (their children went first).
replaced=()
remember_old() {
  local old
  old=$(id_of "$1")
  if [[ -n $old ]]; then replaced+=("$old"); fi
}
# Runs a build step with its output in a log; on failure shows the end of the log and stops.
run_logged() {
  local log=$1
  shift
  if ! "$@" >"$log" 2>&1; then
    keep_work=true
    echo "---- last lines of $log" >&2
    tail -n 40 "$log" >&2
    die "building failed: $*"
  fi
}

# ---- Base: debian:bookworm-slim ----------------------------------------------------------------------------
# minbase plus the merged-usr hook; usrmerge pinned away (a plain minbase pulls it and perl, 127 MB); no
# recommends; no man pages, docs (copyright kept) or translations, like the official slim image. mmdebstrap
# cleans the apt lists and caches itself; deploy/local-images/debian/ holds the apt and dpkg settings the
# official images carry so that later layers do not keep downloaded packages (docker-clean) either.
mirror=http://deb.debian.org
base_directory=$images_dir/debian
for file in docker-clean docker-no-languages docker-apt-speedup; do
  [[ -f $base_directory/$file ]] || die "$base_directory/$file is missing"
done
mmdebstrap_args=(
  --variant=minbase
  --mode=root
  --format=tar
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --setup-hook='mkdir -p "$1/etc/apt/preferences.d" && printf "Package: usrmerge\nPin: release *\nPin-Priority: -1\n" > "$1/etc/apt/preferences.d/no-usrmerge"'
  --aptopt='APT::Install-Recommends "false"'
  --aptopt='APT::Install-Suggests "false"'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/lintian/*'
  --customize-hook="copy-in $base_directory/docker-clean $base_directory/docker-no-languages /etc/apt/apt.conf.d"
  --customize-hook="copy-in $base_directory/docker-apt-speedup /etc/dpkg/dpkg.cfg.d"
  # With docker-clean's empty Dir::Cache::pkgcache, mmdebstrap's own "apt-get clean" leaves the caches.
  --customize-hook='rm -f "$1"/var/cache/apt/*.bin'
  bookworm
  "$work/rootfs.tar"
  "deb $mirror/debian bookworm main"
  "deb $mirror/debian bookworm-updates main"
  "deb $mirror/debian-security bookworm-security main"
)
base_names=(localhost/debian:bookworm-slim docker.io/library/debian:bookworm-slim)
# Inputs: the parameters (with the temporary directory and the checkout's path left out) and the files copied in.
base_inputs=$(
  {
    printf '%s\n' "base v1" "${mmdebstrap_args[@]}" 'CMD ["bash"]' "${base_names[@]}" |
      sed -e "s|$work|WORK|g" -e "s|$images_dir|IMAGES|g"
    (cd "$base_directory" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
)

built_any=false
if up_to_date "$base_inputs" "${base_names[@]}"; then
  say "${base_names[0]}: cached"
else
  start=$SECONDS
  remember_old "${base_names[0]}"
  run_logged "$work/mmdebstrap.log" mmdebstrap "${mmdebstrap_args[@]}"
  run_logged "$work/import.log" podman import --quiet \
    --change 'CMD ["bash"]' --change "LABEL $label_key=$base_inputs" \
    "$work/rootfs.tar" "${base_names[0]}"
  for name in "${base_names[@]:1}"; do
    podman tag "${base_names[0]}" "$name"
  done
  rm -f "$work/rootfs.tar"
  built_any=true
  say "${base_names[0]}: built in $((SECONDS - start)) s"
fi
base_id=$(id_of "${base_names[0]}")
[[ -n $base_id ]] || die "the base image ${base_names[0]} is missing after its build"

# ---- Stand-ins for the official images ---------------------------------------------------------------------
# <directory under deploy/local-images> <the names it is tagged with>...
standins=(
  "postgres docker.io/library/postgres:15-bookworm docker.io/library/postgres:15"
  "nginx docker.io/library/nginx:1.27-alpine"
  "redis docker.io/library/redis:7-alpine"
  "rabbitmq docker.io/library/rabbitmq:3-management"
  "etcd quay.io/coreos/etcd:v3.5.17"
  "prometheus docker.io/prom/prometheus:v2.55.1"
  "redis-exporter docker.io/oliver006/redis_exporter:v1.66.0"
  "nginx-exporter docker.io/nginx/nginx-prometheus-exporter:1.3.0"
  "swift docker.io/library/swift:6.3-bookworm"
)

# sha256 over a directory's files (names and contents), the image's names and the base image's id.
inputs_of() {
  local directory=$1
  shift
  {
    echo "stand-in v1"
    echo "base $base_id"
    printf 'name %s\n' "$@"
    (cd "$directory" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

all_names=("${base_names[@]}")
for entry in "${standins[@]}"; do
  read -r -a fields <<<"$entry"
  short=${fields[0]}
  names=("${fields[@]:1}")
  all_names+=("${names[@]}")
  directory=$images_dir/$short
  [[ -f $directory/Dockerfile ]] || die "$directory/Dockerfile is missing"
  inputs=$(inputs_of "$directory" "${names[@]}")
  if up_to_date "$inputs" "${names[@]}"; then
    say "${names[0]}: cached"
    continue
  fi
  start=$SECONDS
  remember_old "${names[0]}"
  tags=()
  for name in "${names[@]}"; do tags+=(--tag "$name"); done
  run_logged "$work/$short.log" podman build --layers --pull=never --label "$label_key=$inputs" \
    "${tags[@]}" --file "$directory/Dockerfile" "$directory"
  built_any=true
  say "${names[0]}: built in $((SECONDS - start)) s"
done

# Images replaced by this run, newest first (a stand-in before the base it was built on), once unnamed.
for ((i = ${#replaced[@]} - 1; i >= 0; i--)); do
  old=${replaced[i]}
  if [[ "$(podman image inspect --format '{{len .RepoTags}}' "$old" 2>/dev/null || echo 1)" == 0 ]]; then
    podman rmi "$old" >/dev/null 2>&1 || true
  fi
done

echo
printf '%-62s %-14s %s\n' IMAGE ID SIZE
for name in "${all_names[@]}"; do
  podman images --format '{{.Repository}}:{{.Tag}}|{{.ID}}|{{.Size}}' --filter "reference=$name" |
    awk -F'|' -v want="$name" '$1 == want { printf "%-62s %-14s %s\n", $1, $2, $3 }'
done
if [[ $built_any == true ]]; then
  say "done (built some images)"
else
  say "done (all cached)"
fi
