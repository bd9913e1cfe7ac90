#!/usr/bin/env bash
# The chaos run: the whole local platform (three Kafka brokers, services supervised) while players
# queue, play, give gold and befriend, and parts of it die one at a time (a game-state instance,
# match-service, a Kafka broker stopped and started again, PostgreSQL killed and started again,
# PostgreSQL frozen for 10 s, the other game-state instance). Then
# it checks that gold is conserved, everyone is back in the lobby, no room is in use without a live
# match and the dead-letter topics are empty, and prints what it tried and injected. About 8
# minutes; the services' logs end up in target/chaos-logs. Options: -Dcitadel.chaos.seconds=150
# -Dcitadel.chaos.players=40.
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -B -q -DskipTests -Dspotless.check.skip=true install
exec ./mvnw -B -pl acceptance verify -Dspotless.check.skip=true -Dcitadel.chaos=true \
  -Dit.test=ChaosIT "$@"
