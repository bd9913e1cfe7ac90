#!/usr/bin/env bash
# Builds Citadel's images with no registry: a JRE 17 base image assembled from Debian's packages
# (mmdebstrap, about a minute), imported into Podman, and each service's image built onto it with
# Jib (jib:buildTar with the base as tar://, then podman load). Images: citadel/jre17:bookworm and
# citadel/MODULE:VERSION, the names k8s/base uses. Where a registry is reachable the same Jib build
# takes eclipse-temurin:17-jre (the root POM's jib.base-image) with ./mvnw package jib:dockerBuild.
# Installs podman, runc and mmdebstrap from Debian's packages when missing (as root).
# Options: --keep (keep the build directory, printed at the end). Expects the modules' jars built
# (./mvnw install -DskipTests); run-images.sh does that first.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
KEEP=false
[ "${1:-}" = "--keep" ] && KEEP=true
export CONTAINERS_CONF="$ROOT/deploy/images/containers.conf"

missing=()
for tool in podman runc mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${missing[*]} from Debian's packages ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc \
      mmdebstrap uidmap) >/dev/null
  else
    echo "Missing ${missing[*]}: install them (Debian: apt-get install podman runc mmdebstrap)" >&2
    exit 1
  fi
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/citadel-images.XXXXXX")
cleanup() {
  if $KEEP; then
    echo "Build directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  for module in member-service match-service game-state-service gateway; do
    rm -f "$ROOT/$module/target/jib-image.tar" "$ROOT/$module/target/jib-image.digest" \
      "$ROOT/$module/target/jib-image.id"
  done
}
trap cleanup EXIT

BASE=citadel/jre17:bookworm
# The same packages give the same file system: file dates are clamped to SOURCE_DATE_EPOCH.
export SOURCE_DATE_EPOCH=1764547200
echo "Base image $BASE: Debian bookworm (minbase) + openjdk-17-jre-headless ..."
mmdebstrap --quiet --variant=minbase --include=openjdk-17-jre-headless \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --essential-hook='mkdir -p "$1"/usr/share/man/man1' \
  --customize-hook='chroot "$1" groupadd --gid 1000 citadel' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin citadel' \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
  bookworm "$WORK/rootfs.tar"
podman import --quiet --change 'ENV=JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
  --change 'USER=1000:1000' "$WORK/rootfs.tar" "$BASE" >/dev/null
podman save --quiet --format docker-archive -o "$WORK/base.tar" "$BASE"

echo "Service images with Jib onto tar://$WORK/base.tar ..."
./mvnw -B -q -o -Dspotless.check.skip=true \
  -pl member-service,match-service,game-state-service,gateway \
  jib:buildTar "-Djib.base-image=tar://$WORK/base.tar" 2>/dev/null ||
  ./mvnw -B -q -Dspotless.check.skip=true \
    -pl member-service,match-service,game-state-service,gateway \
    jib:buildTar "-Djib.base-image=tar://$WORK/base.tar"
for module in member-service match-service game-state-service gateway; do
  podman load --quiet -i "$module/target/jib-image.tar" >/dev/null
done
# The images this run replaced (the base is imported anew each time) are left untagged: removed.
podman image prune --force >/dev/null
podman images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep citadel/
