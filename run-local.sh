#!/usr/bin/env bash
# Builds Citadel and runs the whole platform on this machine: real PostgreSQL, Redis and Kafka,
# then every service in its own JVM. Ctrl-C stops everything and leaves nothing running.
# Options: --free-ports (infrastructure on free ports), --exit-when-healthy (start, check, stop),
# --loadtest (match-service bulk endpoint on, gateway rate limits raised for load tests),
# --clean (remove the logs in .platform/ on stop). Services that die are restarted with back-off.
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -B -q -DskipTests -Dspotless.check.skip=true install
# A shell starts background jobs with SIGINT ignored, and a JVM keeps an ignored SIGINT ignored:
# reset it (perl is part of every Debian base system) so that kill -INT stops the platform too.
exec perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "cannot run java: $!\n"' \
  java -Dcitadel.root="$PWD" -jar infra/target/infra-*-exec.jar "$@"
