#!/usr/bin/env bash
# Type-checks every dashboard in infra/grafana/dashboards against Grafana's own dashboard schema
# (the Dashboard type of @grafana/schema, from the npm registry) with tsc: each dashboard becomes
# an object literal of that type, so a misspelt or misplaced field is a compile error.
# Usage: check-dashboards.sh WORK_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:?work directory}"
mkdir -p "$work"
cd "$work"
if [ ! -d node_modules/@grafana/schema ] || [ ! -d node_modules/typescript ]; then
  [ -f package.json ] || echo '{"name":"citadel-dashboard-check","private":true}' > package.json
  npm install --no-audit --no-fund --silent @grafana/schema@13.2.3 typescript@5.9.3 >&2
fi
rm -f ./*.ts
for dashboard in "$here"/dashboards/*.json; do
  name="$(basename "$dashboard" .json | tr -c 'a-zA-Z0-9\n' '_')"
  {
    echo "import type { Dashboard } from '@grafana/schema';"
    printf 'export const %s: Dashboard = ' "$name"
    cat "$dashboard"
    echo ";"
  } > "$name.ts"
done
npx --no-install tsc --noEmit --strict --skipLibCheck --moduleResolution node --target es2020 ./*.ts
echo "dashboards match Grafana's schema"
