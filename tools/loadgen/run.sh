#!/usr/bin/env bash
# Whole-pipeline load test against the stack deploy/local/up.sh runs (see README "Whole-pipeline load test"):
#   deploy/local/up.sh && tools/loadgen/run.sh --rate 100 --duration 5m --half-rate-duration 2m
# Builds the load generator, then runs it from the repository root; `--help` lists the options. The Markdown report
# is printed and saved as results/loadtest-<timestamp>.md; the exit code is 1 when any count is not exact.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
if [[ "${1:-}" == --help || "${1:-}" == -h ]]; then
  dotnet build -c Release tools/loadgen -v quiet -nologo >/dev/null
  exec dotnet tools/loadgen/bin/Release/net10.0/Telemetry.LoadGen.dll --help
fi
[[ -f .local/credentials.env ]] || { echo "[loadgen] ERROR: .local/credentials.env not found: run deploy/local/up.sh first" >&2; exit 1; }
dotnet build -c Release tools/loadgen -v quiet -nologo -clp:NoSummary >&2
exec dotnet tools/loadgen/bin/Release/net10.0/Telemetry.LoadGen.dll --local .local --results results "$@"
