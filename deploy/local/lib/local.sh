# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this file
# What deploy/local/up.sh, down.sh and token.sh share: where the local state lives, the fixed ports and the four
# services. Source it; it defines variables and functions only.

LOCAL_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
LOCAL_DIR="$LOCAL_REPO_ROOT/.local"
LOCAL_LOGS="$LOCAL_DIR/logs"
LOCAL_PIDS="$LOCAL_DIR/pids"
CREDENTIALS_FILE="$LOCAL_DIR/credentials.env"
PG_DATA_DIR="$LOCAL_DIR/postgres/data"
RABBIT_DIR="$LOCAL_DIR/rabbitmq"
RABBIT_NODE="telemetry-local"

# The fixed local ports (see BRIEF.md, "Fixed names"); the management UI port is ours to choose.
PG_PORT=55432
RABBIT_PORT=55672
RABBIT_MGMT_PORT=55673

# Start order: consumers first, then the APIs. down.sh stops them in reverse.
SERVICES=(event-ingestor aggregator stats-api attempts-api)
declare -A SERVICE_PROJECT_DIR=(
  [attempts-api]=services/attempts-api
  [stats-api]=services/stats-api
  [event-ingestor]=services/event-ingestor
  [aggregator]=services/aggregator
)
declare -A SERVICE_ASSEMBLY=(
  [attempts-api]=Telemetry.AttemptsApi
  [stats-api]=Telemetry.StatsApi
  [event-ingestor]=Telemetry.EventIngestor
  [aggregator]=Telemetry.Aggregator
)
declare -A SERVICE_PORT=(
  [attempts-api]=5101
  [stats-api]=5102
  [event-ingestor]=5103
  [aggregator]=5104
)
SETUP_DLL="$LOCAL_REPO_ROOT/tools/setup/bin/Release/net10.0/Telemetry.Setup.dll"

LOCAL_TAG="${LOCAL_TAG:-local}"
say() { printf '[%s] %s\n' "$LOCAL_TAG" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$LOCAL_TAG" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$LOCAL_TAG" "$*" >&2
  exit 1
}

# Shows a path relative to the repository root in messages.
rel() { printf '%s' "${1#"$LOCAL_REPO_ROOT"/}"; }

service_dll() { printf '%s/%s/bin/Release/net10.0/%s.dll' "$LOCAL_REPO_ROOT" "${SERVICE_PROJECT_DIR[$1]}" "${SERVICE_ASSEMBLY[$1]}"; }
service_pid_file() { printf '%s/%s.pid' "$LOCAL_PIDS" "$1"; }
service_log() { printf '%s/%s.log' "$LOCAL_LOGS" "$1"; }

# Prints the pid recorded for SERVICE if that process is alive and still runs that service's assembly, so a stale
# pid file (the pid reused by something else) never makes us signal an unrelated process.
service_pid() {
  local pid_file pid cmdline
  pid_file="$(service_pid_file "$1")"
  [[ -s "$pid_file" ]] || return 0
  pid="$(head -n 1 "$pid_file" | tr -dc '0-9')"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 0
  [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]] || return 0
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 0
  if [[ "$cmdline" == *"${SERVICE_ASSEMBLY[$1]}.dll"* ]]; then
    echo "$pid"
  fi
}

# True if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# One up.sh or down.sh at a time. The lock is fd 9: every long-lived process the scripts start gets it closed
# (`9>&-`), or it would hold the lock for as long as it runs.
take_local_lock() {
  mkdir -p "$LOCAL_DIR"
  exec 9>"$LOCAL_DIR/.lock"
  flock -n 9 || die "another deploy/local/up.sh or down.sh is running (lock: $(rel "$LOCAL_DIR/.lock"))"
}

# Reads .local/credentials.env into shell variables (not exported: each process gets only what it needs).
load_credentials() {
  # shellcheck source=/dev/null
  source "$CREDENTIALS_FILE"
}

# An Npgsql connection string to the local telemetry database for ROLE with PASSWORD.
npgsql() { printf 'Host=127.0.0.1;Port=%s;Database=telemetry;Username=%s;Password=%s' "$PG_PORT" "$1" "$2"; }
