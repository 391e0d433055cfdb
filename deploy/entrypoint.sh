#!/bin/sh
# The container's command names the role; everything else comes from the environment (docs/configuration.md).
set -eu
role="${1:-server}"
[ "$#" -gt 0 ] && shift
case "$role" in
  server) exec node scripts/start.ts "$@" ;;
  worker) exec node scripts/worker.ts "$@" ;;
  migrate) exec node scripts/migrate.ts "$@" ;;
  deploy) exec node scripts/deploy.ts "$@" ;;
  audit) exec node scripts/audit.ts "$@" ;;
  *) echo "usage: hallmark server|worker|migrate|deploy|audit [args]" >&2; exit 64 ;;
esac
