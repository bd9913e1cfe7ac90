#!/usr/bin/env bash
# Lists (default) or replays the dead letters of the running local platform's Kafka:
#   ./dead-letters.sh list [topic]      what is waiting, with the error that put it there
#   ./dead-letters.sh replay [topic]    back to the topic it came from, once
#   ./dead-letters.sh --bootstrap host:port list    any other cluster
# Only messages that can never be handled (unparseable, invalid) are dead-lettered; replay them
# after the fix is deployed. Exit status 3 from list: letters are waiting.
set -euo pipefail
cd "$(dirname "$0")"
jar=$(ls infra/target/infra-*-exec.jar 2>/dev/null | head -1 || true)
if [ -z "$jar" ]; then
  ./mvnw -B -q -DskipTests -Dspotless.check.skip=true -pl infra -am install
  jar=$(ls infra/target/infra-*-exec.jar | head -1)
fi
exec java -Dcitadel.root="$PWD" -jar "$jar" dead-letters "$@"
