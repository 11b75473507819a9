# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this file
# What deploy/local/up.sh, down.sh, selftest-kill.sh and the operator scripts share: where the local state lives, the
# fixed ports, the four services and how their replicas are named. Source it; it defines variables and functions only.

LOCAL_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
LOCAL_DIR="$LOCAL_REPO_ROOT/.local"
LOCAL_LOGS="$LOCAL_DIR/logs"
LOCAL_PIDS="$LOCAL_DIR/pids"
CREDENTIALS_FILE="$LOCAL_DIR/credentials.env"
PG_DATA_DIR="$LOCAL_DIR/postgres/data"
# up.sh --stats-replica: a hot standby of it, which the stats API reads from.
PG_STANDBY_DATA_DIR="$LOCAL_DIR/postgres-standby/data"
PG_STANDBY_SLOT=local_stats
RABBIT_DIR="$LOCAL_DIR/rabbitmq"
RABBIT_NODE="telemetry-local"

# The fixed local ports (see BRIEF.md, "Fixed names"); the management UI port is ours to choose.
PG_PORT=55432
PG_STANDBY_PORT=55433
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

# Replicas (`up.sh --scale aggregator=3`). The two consumers may run as several processes; the APIs run one each, since
# there is no local load balancer in front of their one fixed port. This is the one place that knows the naming:
#   replica k of SERVICE is named SERVICE for k = 1 and SERVICE-k for k = 2..MAX_REPLICAS (aggregator, aggregator-2, …);
#   that name is its pid files (.local/pids/<name>.pid, <name>.supervisor.pid, <name>.supervisor.status), its log
#   (.local/logs/<name>.log) and, as <name>@local, its instance name (SERVICE_INSTANCE: rollup_state, audit rows, logs);
#   its port is the service's port + 10 × (k − 1): event-ingestor 5103, 5113, …, 5183 and aggregator 5104, 5114, …, 5184,
#   which never meets another fixed port (5101, 5102, 55432, 55672, 55673, 55690) nor each other.
# The scale last asked for is kept in .local/scale (SERVICE=N lines), so a later up.sh keeps it.
SCALABLE_SERVICES=(event-ingestor aggregator)
MAX_REPLICAS=9
REPLICA_PORT_STEP=10
SCALE_FILE="$LOCAL_DIR/scale"
declare -A SERVICE_SCALE=()

is_scalable() { [[ " ${SCALABLE_SERVICES[*]} " == *" $1 "* ]]; }

# replica_name SERVICE K: aggregator 1 → aggregator, aggregator 3 → aggregator-3.
replica_name() {
  if (($2 == 1)); then printf '%s' "$1"; else printf '%s-%d' "$1" "$2"; fi
}

# Splits a replica NAME into "SERVICE K" (aggregator-3 → "aggregator 3", stats-api → "stats-api 1"); fails for a name
# that is no replica of the four services.
_replica_parse() {
  local name="$1" service k
  for service in "${SERVICES[@]}"; do
    if [[ "$name" == "$service" ]]; then
      echo "$service 1"
      return 0
    fi
    if is_scalable "$service" && [[ "$name" =~ ^${service}-([0-9]+)$ ]]; then
      k="${BASH_REMATCH[1]}"
      if [[ "$k" != 0* ]] && ((k >= 2 && k <= MAX_REPLICAS)); then
        echo "$service $k"
        return 0
      fi
    fi
  done
  return 1
}
is_replica_name() { _replica_parse "$1" >/dev/null; }
# The service a replica NAME belongs to (aggregator-3 → aggregator), and its number (→ 3).
replica_service() {
  local parsed
  parsed="$(_replica_parse "$1")" || die "'$1' is not a service or a replica of one"
  printf '%s' "${parsed% *}"
}
replica_index() {
  local parsed
  parsed="$(_replica_parse "$1")" || die "'$1' is not a service or a replica of one"
  printf '%s' "${parsed#* }"
}
# The port replica NAME listens on.
service_port() {
  printf '%d' $((SERVICE_PORT[$(replica_service "$1")] + REPLICA_PORT_STEP * ($(replica_index "$1") - 1)))
}

# Checks "SERVICE=N" as given WHERE (--scale, SCALE, the scale file) and prints "SERVICE N"; dies with the reason.
parse_scale_item() {
  local item="$1" where="$2" service count
  [[ "$item" == *=* ]] || die "$where: '$item' is not SERVICE=N (e.g. aggregator=3)"
  service="${item%%=*}" count="${item#*=}"
  if [[ " ${SERVICES[*]} " != *" $service "* ]]; then
    die "$where: unknown service '$service' (the consumers that scale: ${SCALABLE_SERVICES[*]})"
  fi
  if ! is_scalable "$service"; then
    die "$where: $service cannot be scaled: the APIs run one process each on their fixed port (there is no local load balancer); the consumers scale: ${SCALABLE_SERVICES[*]}"
  fi
  if ! [[ "$count" =~ ^[1-9][0-9]*$ ]] || ((count > MAX_REPLICAS)); then
    die "$where: $service=$count: the number of replicas is a whole number from 1 to $MAX_REPLICAS"
  fi
  echo "$service $count"
}

# Reads .local/scale into SERVICE_SCALE (1 for every service it does not name).
load_scale() {
  local service count line parsed where
  for service in "${SERVICES[@]}"; do SERVICE_SCALE[$service]=1; done
  [[ -f "$SCALE_FILE" ]] || return 0
  where="$(rel "$SCALE_FILE")"
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    line="${line//[[:space:]]/}"
    [[ -n "$line" ]] || continue
    parsed="$(parse_scale_item "$line" "$where")" || exit 1
    count="${parsed#* }"
    SERVICE_SCALE[${parsed% *}]="$count"
  done <"$SCALE_FILE"
}

# Writes SERVICE_SCALE for the consumers to .local/scale.
save_scale() {
  local service tmp="$SCALE_FILE.tmp.$$"
  {
    echo "# Replicas per consumer, written by deploy/local/up.sh (--scale SERVICE=N or SCALE=\"SERVICE=N ...\"); later runs keep it."
    for service in "${SCALABLE_SERVICES[@]}"; do echo "$service=${SERVICE_SCALE[$service]:-1}"; done
  } >"$tmp"
  mv -f "$tmp" "$SCALE_FILE"
}

# The replica names SERVICE_SCALE asks for, in start order (SERVICES, each one's replicas 1..N).
wanted_replicas() {
  local service k
  for service in "${SERVICES[@]}"; do
    for ((k = 1; k <= ${SERVICE_SCALE[$service]:-1}; k++)); do replica_name "$service" "$k"; echo; done
  done
}

# The replicas 2..N of SERVICE that have a pid or supervisor pid file, whatever the scale says (what down.sh and a
# scale-down stop), by number.
extra_replicas_on_disk() {
  local service="$1" file name k
  is_scalable "$service" || return 0
  for file in "$LOCAL_PIDS/$service"-*.pid; do
    [[ -e "$file" ]] || continue
    name="$(basename "$file" .pid)"
    name="${name%.supervisor}"
    if [[ "$name" != "$service" ]] && is_replica_name "$name"; then echo "${name##*-}"; fi
  done | sort -n -u | while read -r k; do
    replica_name "$service" "$k"
    echo
  done
}

LOCAL_TAG="${LOCAL_TAG:-local}"
say() { printf '[%s] %s\n' "$LOCAL_TAG" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$LOCAL_TAG" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$LOCAL_TAG" "$*" >&2
  exit 1
}

# Shows a path relative to the repository root in messages.
rel() { printf '%s' "${1#"$LOCAL_REPO_ROOT"/}"; }

# SERVICE may be a replica name (aggregator-2) wherever a service is named below.
service_dll() {
  local service
  service="$(replica_service "$1")"
  printf '%s/%s/bin/Release/net10.0/%s.dll' "$LOCAL_REPO_ROOT" "${SERVICE_PROJECT_DIR[$service]}" "${SERVICE_ASSEMBLY[$service]}"
}
service_pid_file() { printf '%s/%s.pid' "$LOCAL_PIDS" "$1"; }
service_log() { printf '%s/%s.log' "$LOCAL_LOGS" "$1"; }

# Prints the pid recorded for SERVICE if that process is alive and still runs that service's assembly, so a stale
# pid file (the pid reused by something else) never makes us signal an unrelated process.
service_pid() {
  local pid cmdline assembly
  assembly="${SERVICE_ASSEMBLY[$(replica_service "$1")]}"
  pid="$(_live_pid "$(service_pid_file "$1")")" || return 0
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 0
  # Not the supervising loop (its command line names the assembly too), nor its fork before the exec.
  if [[ "$cmdline" == *"$assembly.dll"* && "$cmdline" != *supervise.sh* ]]; then
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
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 0
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
