#!/usr/bin/env bash
# Builds every image `make run ENV=prod` and the production tests run, on this machine's podman: the engine
# (scripts/install-container-engine.sh), the base images and stand-ins for the official images
# (scripts/build-base-images.sh, cached by their inputs), then the schema's own images with the generated
# deploy/generated/build-images.sh, the script an admin's or CI's Docker host runs, unchanged.
#
# What differs here is lent to the builds, not baked into the images: no registry and no GitHub, so the Swift
# toolchain (/opt/swift) and the package mirror that /etc/gitconfig maps https://github.com/ to
# (/opt/swift-packages) are read-only build-time mounts. Builds are layered (unchanged steps are cached) and
# the Swift build directory is the Dockerfile's cache mount, so a rebuild after a change in Sources/ is
# incremental. Tags: localhost/<image>:latest (STAM_IMAGE_REGISTRY=localhost).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-container-engine.sh
scripts/build-base-images.sh
if [[ ! -f Package.resolved ]]; then
  swift package resolve   # the versions `swift build` and the tests use; git maps GitHub to the local mirror
fi
# PyPI (Patroni) is reached through this machine's TLS-intercepting proxy, whose CA only the host's bundle holds:
# the bundle and a pip.conf naming it are lent to the builds too.
lend=$(mktemp -d)
trap 'rm -rf "$lend"' EXIT
printf '[global]\ncert = /etc/ssl/host-ca-certificates.crt\n' > "$lend/pip.conf"
started=$SECONDS
STAM_IMAGE_REGISTRY=localhost STAM_IMAGE_TAG=latest STAM_CONTAINER_ENGINE=podman \
  sh deploy/generated/build-images.sh --layers --pull=never \
    -v /opt/swift:/opt/swift:ro -v /opt/swift-packages:/opt/swift-packages:ro -v /etc/gitconfig:/etc/gitconfig:ro \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/host-ca-certificates.crt:ro -v "$lend/pip.conf:/etc/pip.conf:ro"
echo "build-images: the schema's images are current ($((SECONDS - started)) s)"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^localhost/stam' || true
