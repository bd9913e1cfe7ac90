#!/usr/bin/env bash
# Prints the path of promtool, installing Debian's prometheus package when it is missing
# (CI machines run as root with apt). Used by the observability tests.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  command -v promtool
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  # Everything the install prints goes to stderr: stdout carries only the path, as its last line.
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus) >&2
  command -v promtool
  exit 0
fi
echo "promtool is missing: install Debian's prometheus package" >&2
exit 1
