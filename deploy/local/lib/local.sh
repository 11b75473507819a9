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
  local pid cmdline
  pid="$(_live_pid "$(service_pid_file "$1")")" || return 0
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 0
  # Not the supervising loop (its command line names the assembly too), nor its fork before the exec.
  if [[ "$cmdline" == *"${SERVICE_ASSEMBLY[$1]}.dll"* && "$cmdline" != *supervise.sh* ]]; then
    echo "$pid"
  fi
}

# Each service runs under its own supervising loop (lib/supervise.sh), which restarts it when it fails.
SUPERVISE_SH="$LOCAL_REPO_ROOT/deploy/local/lib/supervise.sh"
supervisor_pid_file() { printf '%s/%s.supervisor.pid' "$LOCAL_PIDS" "$1"; }

# Prints the pid of SERVICE's supervising loop if it is alive and is that loop.
supervisor_pid() {
  local pid cmdline
  pid="$(_live_pid "$(supervisor_pid_file "$1")")" || return 0
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 0
  if [[ "$cmdline" == *"supervise.sh $1 "* ]]; then echo "$pid"; fi
}

# Prints KEY (restarts, last_exit, last_exit_at) from SERVICE's supervisor status file, or DEFAULT.
supervisor_status() {
  local value
  value="$(sed -n "s/^$2=//p" "$LOCAL_PIDS/$1.supervisor.status" 2>/dev/null | head -n 1)"
  printf '%s' "${value:-${3:-}}"
}

# The pid on the first line of FILE if it names a live (not zombie) process; fails otherwise.
_live_pid() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(head -n 1 "$1" | tr -dc '0-9')"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]] || return 1
  echo "$pid"
}

# Stops SERVICE...: TERM to each one's supervising loop (which passes it on and does not restart what it stops), or
# to the service itself when it runs without one; waits up to GRACE_S seconds for them to drain, then KILLs what is
# left, by pid. All of them drain at once.
stop_services() {
  local grace_s="$1" name pid sup deadline
  shift
  local -a names=()
  for name in "$@"; do
    sup="$(supervisor_pid "$name")"
    pid="$(service_pid "$name")"
    if [[ -n "$sup" ]]; then
      say "stopping $name (pid ${pid:-none}, supervisor $sup)"
      kill -TERM "$sup" 2>/dev/null || true
    elif [[ -n "$pid" ]]; then
      say "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    else
      if [[ -e "$(service_pid_file "$name")" ]]; then say "$name was not running"; fi
      rm -f "$(service_pid_file "$name")" "$(supervisor_pid_file "$name")"
      continue
    fi
    names+=("$name")
  done

  deadline=$(($(date +%s) + grace_s))
  for name in "${names[@]}"; do
    while [[ -n "$(service_pid "$name")$(supervisor_pid "$name")" ]] && (($(date +%s) < deadline)); do sleep 0.2; done
    pid="$(service_pid "$name")"
    if [[ -n "$pid" ]]; then
      warn "$name (pid $pid) still running after ${grace_s}s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
      while [[ -n "$(service_pid "$name")" ]]; do sleep 0.1; done
    fi
    # The loop ends once its child is gone; give it a moment, then make sure.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      [[ -n "$(supervisor_pid "$name")" ]] || break
      sleep 0.2
    done
    sup="$(supervisor_pid "$name")"
    if [[ -n "$sup" ]]; then
      warn "$name's supervisor (pid $sup) still running: KILL"
      kill -KILL "$sup" 2>/dev/null || true
    fi
    rm -f "$(service_pid_file "$name")" "$(supervisor_pid_file "$name")"
    say "$name stopped"
  done
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

# For the operator scripts that run the setup tool against the local stack: up.sh must have run (credentials written,
# the tool built). Loads the credentials.
require_local_setup_tool() {
  [[ -f "$CREDENTIALS_FILE" ]] || die "$(rel "$CREDENTIALS_FILE") is missing: run deploy/local/up.sh first"
  [[ -f "$SETUP_DLL" ]] || die "$(rel "$SETUP_DLL") is missing: run deploy/local/up.sh first (it builds the setup tool)"
  load_credentials
}

# Replaces this process with the setup tool, run from its own folder.
exec_setup_tool() {
  cd "$(dirname "$SETUP_DLL")" || exit
  exec dotnet "$SETUP_DLL" "$@"
}

# An Npgsql connection string to the local telemetry database for ROLE with PASSWORD.
npgsql() { printf 'Host=127.0.0.1;Port=%s;Database=telemetry;Username=%s;Password=%s' "$PG_PORT" "$1" "$2"; }
