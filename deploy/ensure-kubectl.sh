#!/usr/bin/env bash
# Prints the path of a kubectl, installing Debian's kubernetes-client when none is on the PATH
# (CI machines run as root with apt). Used by the manifest tests.
set -euo pipefail
if command -v kubectl >/dev/null 2>&1; then
  command -v kubectl
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubernetes-client) >&2
  command -v kubectl
  exit 0
fi
echo "kubectl is missing: install it (Debian: apt-get install kubernetes-client)" >&2
exit 1
