#!/usr/bin/env bash
# The load test, one command: builds Citadel, starts the local platform with the load-test
# profile, queues 100,000 players in bulk and follows them into rooms, runs 200 virtual players
# through the gateway with Gatling, writes loadtest-reports/<time>/report.md (+ PNG charts) and
# stops everything. Options: --players N, --http-players M, --out DIR, --attach, --stall-seconds S,
# --bulk-warm-up-players B (a bulk round before the measured one; default as many as --players).
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -B -q -DskipTests -Dspotless.check.skip=true install
exec java -Xmx2g -Dcitadel.root="$PWD" -Dlogback.configurationFile=logback-loadtest.xml \
  -cp "$(ls loadtest/target/loadtest-*.jar | grep -v -- '-tests.jar' | head -1):loadtest/target/lib/*" \
  dev.citadel.loadtest.LoadTest "$@"
