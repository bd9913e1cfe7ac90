#!/usr/bin/env bash
# Citadel from its container images, on this machine, without a registry: builds the jars, the
# base image from Debian's packages and the four service images (deploy/images/build-images.sh),
# then starts PostgreSQL, Redis and Kafka as ./run-local.sh does and every service from its image
# with Podman (host network on 127.0.0.1, the manifests' environment variable names, user 1000,
# read-only root file system), waits on the manifests' readiness path, runs the README's
# walkthrough against them (ImagesIT) and prints the answers, each image's size and each service's
# start-to-ready time. Stops everything it started; no container is left. Images stay in Podman
# (podman rmi to remove them). About 5 minutes.
set -euo pipefail
cd "$(dirname "$0")"
export CONTAINERS_CONF="$PWD/deploy/images/containers.conf"
leftovers() {
  command -v podman >/dev/null 2>&1 || return 0
  podman ps -a --format '{{.Names}}' | { grep '^citadel-' || true; } |
    xargs -r podman rm --force >/dev/null
}
trap 'status=$?; leftovers; exit $status' EXIT
mkdir -p target
./mvnw -B -q -DskipTests -Dspotless.check.skip=true install
deploy/images/build-images.sh
./mvnw -B -pl acceptance verify -Dspotless.check.skip=true -Dcitadel.images=true \
  -Dit.test=ImagesIT "$@" | tee target/images-run.log |
  grep -E '^(== |POST|GET|socket:|\(|\| |\|---|\[INFO\] Tests run|\[ERROR\]|BUILD)'
