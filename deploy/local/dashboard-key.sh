#!/usr/bin/env bash
# Dashboard API keys of the local pipeline (started by deploy/local/up.sh), managed with the setup tool:
#   deploy/local/dashboard-key.sh list
#   deploy/local/dashboard-key.sh add NAME       prints the new key once (stdout); only its SHA-256 is stored
#   deploy/local/dashboard-key.sh revoke NAME    the stats API answers 403 for it within 5 s
# up.sh registers the key in STATS_API_KEY (.local/credentials.env) under STATS_API_KEY_NAME (local-dashboard at
# first), and makes and records a new one if that one was revoked.
set -euo pipefail

LOCAL_TAG=dashboard-key
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib/local.sh
source "$HERE/lib/local.sh"

require_local_setup_tool
export ConnectionStrings__Admin
ConnectionStrings__Admin="$(npgsql "$PG_SUPERUSER" "$PG_SUPERUSER_PASSWORD")"
exec_setup_tool dashboard-key "$@"
