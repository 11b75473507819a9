#!/usr/bin/env bash
# Runs every test: `dotnet test` on the solution against disposable PostgreSQL and RabbitMQ servers that
# tests/with-servers.sh starts and always stops. Extra arguments go to `dotnet test` (e.g. --filter ...).
# Exit code = dotnet test's; the last line is a plain "N passed, N failed, N skipped" summary.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

command -v dotnet >/dev/null || { echo "[tests] ERROR: dotnet is not installed (the .NET 10 SDK is needed to run the tests)" >&2; exit 1; }
[[ -f Telemetry.sln ]] || { echo "[tests] ERROR: no Telemetry.sln in $REPO_ROOT" >&2; exit 1; }

# Sums the per-project VSTest results (either output format) into one plain line.
summarize() {
  sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" | awk '
    match($0, /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/) {
      counts = substr($0, RSTART, RLENGTH)
      sub(/^[A-Za-z]+! +- +/, "", counts)
      gsub(/[^0-9,]/, "", counts)
      split(counts, n, ",")
      mf += n[1]; mp += n[2]; ms += n[3]; minimal = 1
      next
    }
    /^ *Passed: +[0-9]+ *$/  { p += $2; block = 1 }
    /^ *Failed: +[0-9]+ *$/  { f += $2; block = 1 }
    /^ *Skipped: +[0-9]+ *$/ { s += $2; block = 1 }
    END {
      if (!block && minimal) { p = mp; f = mf; s = ms }
      printf "%d passed, %d failed, %d skipped\n", p, f, s
    }'
}

log="$(mktemp -t telemetry-test-log.XXXXXX)"
trap 'rm -f "$log"' EXIT
export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}" DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
# The Prometheus config, alert rules (with their unit tests) and the Grafana dashboard, checked with promtool and jq.
bash deploy/observability/check.sh ||
  { echo "[tests] ERROR: deploy/observability/check.sh failed (see above); dotnet test was not run" >&2; exit 1; }
# The compose file and the Kubernetes manifests, offline: docker-compose config, kubectl kustomize, a schema check.
bash deploy/validate-manifests.sh ||
  { echo "[tests] ERROR: deploy/validate-manifests.sh failed (see above); dotnet test was not run" >&2; exit 1; }
set +e
bash tests/with-servers.sh dotnet test Telemetry.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# The summary goes last: CI reads the closing line.
summarize "$log"
exit "$rc"
