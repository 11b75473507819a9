#!/usr/bin/env bash
# Runs one benchmark against disposable PostgreSQL and RabbitMQ servers (never part of the test run):
#   bench/run.sh NAME [ARGS...]     NAME is a folder under bench/ holding a console project.
# Each benchmark measures our path and its baseline in the same run and prints medians and their ratio
# (these shared 2-core machines are noisy: compare ratios from one run, never absolute numbers across runs).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

name="${1:-}"
if [[ -z "$name" || ! -d "bench/$name" ]]; then
  echo "usage: bench/run.sh NAME [ARGS...] where NAME is one of: $(find bench -mindepth 1 -maxdepth 1 -type d -printf '%f ' | sort)" >&2
  exit 2
fi
shift
export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}" DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
dotnet build -c Release "bench/$name" -v quiet -nologo
exec bash tests/with-servers.sh dotnet run -c Release --no-build --project "bench/$name" -- "$@"
