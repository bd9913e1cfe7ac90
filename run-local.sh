#!/usr/bin/env bash
# Builds Citadel and runs the whole platform on this machine: real PostgreSQL, Redis and Kafka,
# then every service in its own JVM. Ctrl-C stops everything and leaves nothing running.
# Options: --free-ports (infrastructure on free ports), --exit-when-healthy (start, check, stop),
# --loadtest (match-service bulk endpoint on, gateway rate limits raised for load tests).
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -B -q -DskipTests -Dspotless.check.skip=true install
exec java -Dcitadel.root="$PWD" -jar infra/target/infra-*-exec.jar "$@"
