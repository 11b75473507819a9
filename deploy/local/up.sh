#!/usr/bin/env bash
# Runs the whole telemetry pipeline on this machine, in one idempotent command:
#   installs what is missing (PostgreSQL 15, RabbitMQ, jq, openssl), starts PostgreSQL on 127.0.0.1:55432 and
#   RabbitMQ on 127.0.0.1:55672 (management UI :55673), builds the four services and the setup tool
#   (deploy/local/services.slnf), applies migrations and the broker topology, registers the dashboard key
#   (setup dashboard-key), starts the four services (each consumer as many processes as --scale asks), waits for every
#   process's /health/ready, loads the demo catalogue and a current cycle, sends a burst of demo attempts and prints the
#   track statistics once they include that burst.
# A second run reuses whatever is running and brings back what is not, at once: a KILLed PostgreSQL (its stale lock
# is removed once its old backends are gone), a KILLed RabbitMQ node, a KILLed service, replica or supervisor. Each one
# runs under a supervising loop (lib/supervise.sh) that restarts it by itself when it fails (exit 70 from the bus
# watchdog, a crash, a KILL). State, logs and pid files live in .local/ (git-ignored); secrets are generated once into
# .local/credentials.env. Stop with deploy/local/down.sh; deploy/local/selftest-kill.sh is the crash test.
#
# Usage: deploy/local/up.sh [--scale SERVICE=N]... [--with-prometheus]
#   --scale SERVICE=N (or SCALE="SERVICE=N ..."; --scale wins): runs N processes (1..9) of a consumer, event-ingestor
#   or aggregator. Replica k is named SERVICE for k = 1 and SERVICE-k after that: pid files .local/pids/<name>.pid
#   (and <name>.supervisor.pid/.status), log .local/logs/<name>.log, SERVICE_INSTANCE <name>@local (rollup_state,
#   audit rows, logs), port base + 10 × (k − 1) (event-ingestor 5103, 5113, …; aggregator 5104, 5114, …); see
#   lib/local.sh. The scale is kept in .local/scale, so a later up.sh without --scale keeps it, starts any replica that
#   is missing and stops (TERM through its supervisor) the replicas above a smaller scale. The APIs stay at one process
#   each: there is no local load balancer in front of their one fixed port, so asking to scale them is an error.
#   --with-prometheus (or WITH_PROMETHEUS=1): once the services are up, also runs Prometheus (Debian's prometheus
#   package, installed if missing) on http://127.0.0.1:55690 with deploy/observability/prometheus.yml and its alert
#   rules (linked from .local/prometheus-config/, where up.sh writes the consumer replicas' file_sd target lists),
#   data in .local/prometheus, and waits until it scrapes every process (lib/prometheus.sh).
#
# Environment: SCALE (above), DEMO_ATTEMPTS (default 12; 0 skips the burst), READY_TIMEOUT_S (default 90),
# STATS_TIMEOUT_S (default 60), ANSWER_EVENTS_RETENTION_DAYS and OTEL_EXPORTER_OTLP_ENDPOINT (passed to services).
# Every process gets its own environment, exported in a subshell on purpose:
# shellcheck disable=SC2030,SC2031
set -euo pipefail

LOCAL_TAG=up
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib/local.sh
source "$HERE/lib/local.sh"
# shellcheck source=deploy/local/lib/servers.sh
source "$HERE/lib/servers.sh"
# shellcheck source=deploy/local/lib/prometheus.sh
source "$HERE/lib/prometheus.sh"

DEMO_ATTEMPTS="${DEMO_ATTEMPTS:-12}"
READY_TIMEOUT_S="${READY_TIMEOUT_S:-90}"
STATS_TIMEOUT_S="${STATS_TIMEOUT_S:-60}"
CATALOGUE_FILE="$HERE/demo-catalogue.json"
# Only what up.sh runs (and what those projects reference): the tests and benchmarks are not built.
BUILD_TARGET="$HERE/services.slnf"
DASHBOARD_KEY_NAME=local-dashboard
WITH_PROMETHEUS="${WITH_PROMETHEUS:-0}"
STATS_REPLICA="${STATS_REPLICA:-0}"
USAGE="usage: deploy/local/up.sh [--scale SERVICE=N]... [--with-prometheus]
  --scale SERVICE=N   run N processes (1-$MAX_REPLICAS) of a consumer: ${SCALABLE_SERVICES[*]}; kept in .local/scale
                      for later runs (also SCALE=\"aggregator=3 event-ingestor=2\"). The APIs (attempts-api, stats-api)
                      run one process each: there is no local load balancer in front of their fixed ports.
  --with-prometheus   also run Prometheus on http://127.0.0.1:55690 (or WITH_PROMETHEUS=1)
  --stats-replica     run a hot standby of PostgreSQL on 127.0.0.1:$PG_STANDBY_PORT and point the stats API at it
                      (or STATS_REPLICA=1); a stats API already running keeps its database until restarted"
# What --scale and SCALE asked for (SERVICE=N items, in order); applied over .local/scale once the lock is held.
SCALE="${SCALE:-}"
SCALE_ARGS=()

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

trap 'printf "[up] ERROR: unexpected failure at %s:%s: %s\n" "$(basename "${BASH_SOURCE[0]}")" "$LINENO" "$BASH_COMMAND" >&2' ERR

now_ms() { date +%s%3N; }
elapsed() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}
step() { say "── $*"; }

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --with-prometheus) WITH_PROMETHEUS=1 ;;
      --stats-replica) STATS_REPLICA=1 ;;
      --scale)
        [[ $# -ge 2 ]] || die "--scale needs SERVICE=N (e.g. --scale aggregator=3); $USAGE"
        parse_scale_item "$2" --scale >/dev/null || exit 1
        SCALE_ARGS+=("$2")
        shift
        ;;
      --scale=*)
        parse_scale_item "${1#--scale=}" --scale >/dev/null || exit 1
        SCALE_ARGS+=("${1#--scale=}")
        ;;
      -h | --help)
        echo "$USAGE"
        exit 0
        ;;
      *) die "unknown argument '$1'; $USAGE" ;;
    esac
    shift
  done
  [[ "$WITH_PROMETHEUS" =~ ^[01]$ ]] || die "WITH_PROMETHEUS must be 0 or 1"
  [[ "$STATS_REPLICA" =~ ^[01]$ ]] || die "STATS_REPLICA must be 0 or 1"
  # SCALE first, so that --scale wins over it.
  local item env_items=()
  read -r -a env_items <<<"${SCALE//,/ }" || true
  for item in "${env_items[@]}"; do parse_scale_item "$item" SCALE >/dev/null || exit 1; done
  SCALE_ARGS=("${env_items[@]}" "${SCALE_ARGS[@]}")
}

# The scale: what .local/scale kept from the last run, with SCALE and --scale applied over it; saved for the next run.
resolve_scale() {
  local item parsed previous
  load_scale
  previous="$(for s in "${SCALABLE_SERVICES[@]}"; do printf '%s=%s ' "$s" "${SERVICE_SCALE[$s]}"; done)"
  for item in "${SCALE_ARGS[@]}"; do
    [[ -n "$item" ]] || continue
    parsed="$(parse_scale_item "$item" --scale)" || exit 1
    SERVICE_SCALE[${parsed% *}]="${parsed#* }"
  done
  save_scale
  local now
  now="$(for s in "${SCALABLE_SERVICES[@]}"; do printf '%s=%s ' "$s" "${SERVICE_SCALE[$s]}"; done)"
  if [[ "$now" != "$previous" ]]; then
    say "scale: ${now% } (was ${previous% }; kept in $(rel "$SCALE_FILE"))"
  else
    say "scale: ${now% } (from $(rel "$SCALE_FILE"); change it with --scale SERVICE=N)"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Tools

ensure_tools() {
  command -v dotnet >/dev/null || die "dotnet is not installed: the .NET 10 SDK is needed (https://dot.net)"
  ensure_server_packages || die "could not install PostgreSQL 15 / RabbitMQ (see the apt output above)"
  local missing=()
  command -v jq >/dev/null || missing+=(jq)
  command -v openssl >/dev/null || missing+=(openssl)
  if [[ ${#missing[@]} -gt 0 ]]; then
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
    if [[ $EUID -ne 0 ]]; then apt=(sudo "${apt[@]}"); fi
    say "installing ${missing[*]}"
    "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
      die "apt-get install ${missing[*]} failed"
  fi
  if [[ $WITH_PROMETHEUS -eq 1 ]] && ! ensure_prometheus_package; then
    die "apt-get install prometheus failed (needed by --with-prometheus)"
  fi
  [[ -x "$PG_BIN/psql" ]] || die "psql not found in $PG_BIN"
}

# ---------------------------------------------------------------------------------------------------------------
# Credentials: generated once, reused on every later run.

create_credentials() {
  if [[ -e "$PG_DATA_DIR/PG_VERSION" || -d "$RABBIT_DIR/mnesia" ]]; then
    die "$(rel "$CREDENTIALS_FILE") is missing but $(rel "$LOCAL_DIR") holds data created with it; reset with: deploy/local/down.sh && rm -rf .local"
  fi
  local pg_password rabbit_password
  pg_password="$(random_hex 16)"
  rabbit_password="$(random_hex 16)"
  (
    umask 077
    cat >"$CREDENTIALS_FILE" <<EOF
# Written once by deploy/local/up.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); later runs reuse it. Local development only.
# Load into a shell with: set -a; . .local/credentials.env; set +a
ATTEMPTS_URL=http://127.0.0.1:${SERVICE_PORT[attempts-api]}
STATS_URL=http://127.0.0.1:${SERVICE_PORT[stats-api]}
EVENT_INGESTOR_URL=http://127.0.0.1:${SERVICE_PORT[event-ingestor]}
AGGREGATOR_URL=http://127.0.0.1:${SERVICE_PORT[aggregator]}
# X-Admin-Key for PUT /api/admin/... on the attempts API
ADMIN_KEY=$(random_hex 24)
# PostgreSQL superuser on database telemetry: may read every table
DATABASE_URL=postgresql://postgres:$pg_password@127.0.0.1:$PG_PORT/telemetry
PG_HOST=127.0.0.1
PG_PORT=$PG_PORT
PG_DATABASE=telemetry
PG_SUPERUSER=postgres
PG_SUPERUSER_PASSWORD=$pg_password
RABBITMQ_URL=amqp://telemetry:$rabbit_password@127.0.0.1:$RABBIT_PORT/
RABBITMQ_MANAGEMENT_URL=http://127.0.0.1:$RABBIT_MGMT_PORT/
RABBITMQ_USER=telemetry
RABBITMQ_PASSWORD=$rabbit_password
# Login passwords of the services' database roles
ROLE_PASSWORD_ATTEMPTS_API=$(random_hex 16)
ROLE_PASSWORD_EVENT_INGESTOR=$(random_hex 16)
ROLE_PASSWORD_AGGREGATOR=$(random_hex 16)
ROLE_PASSWORD_STATS_API=$(random_hex 16)
# Learners' bearer tokens (HS256); deploy/local/token.sh WALLET signs one
JWT_ISSUER=telemetry-local
JWT_AUDIENCE=telemetry-attempts-api
JWT_SIGNING_KEY=$(random_hex 32)
JWT_WALLET_CLAIM=wallet
EOF
  )
  say "generated secrets into $(rel "$CREDENTIALS_FILE") (chmod 600)"
}

ensure_credentials() {
  if [[ -f "$CREDENTIALS_FILE" ]]; then
    say "reusing secrets from $(rel "$CREDENTIALS_FILE")"
  else
    create_credentials
  fi
  chmod 600 "$CREDENTIALS_FILE"
  load_credentials
  local var
  for var in ATTEMPTS_URL STATS_URL ADMIN_KEY DATABASE_URL PG_SUPERUSER PG_SUPERUSER_PASSWORD \
    RABBITMQ_URL RABBITMQ_USER RABBITMQ_PASSWORD ROLE_PASSWORD_ATTEMPTS_API ROLE_PASSWORD_EVENT_INGESTOR \
    ROLE_PASSWORD_AGGREGATOR ROLE_PASSWORD_STATS_API JWT_ISSUER JWT_AUDIENCE JWT_SIGNING_KEY JWT_WALLET_CLAIM; do
    [[ -n "${!var:-}" ]] || die "$var is missing from $(rel "$CREDENTIALS_FILE"); reset with: deploy/local/down.sh && rm -rf .local"
  done
}

# Sets STATS_API_KEY=KEY and STATS_API_KEY_NAME=NAME in the credentials file (replacing earlier lines), keeping it private.
record_stats_api_key() {
  local key="$1" name="$2" tmp
  tmp="$(mktemp "$LOCAL_DIR/.credentials.XXXXXX")"
  {
    grep -v -e '^STATS_API_KEY=' -e '^STATS_API_KEY_NAME=' -e '^# X-Api-Key for the stats API' "$CREDENTIALS_FILE" || true
    echo "# X-Api-Key for the stats API and its name (the database keeps only its SHA-256; see deploy/local/dashboard-key.sh list)"
    echo "STATS_API_KEY=$key"
    echo "STATS_API_KEY_NAME=$name"
  } >"$tmp"
  chmod 600 "$tmp"
  mv -f "$tmp" "$CREDENTIALS_FILE"
}

# ---------------------------------------------------------------------------------------------------------------
# Servers

# psql as the superuser; the password travels in the environment, never on a command line.
psql_admin() {
  local db="$1"
  shift
  PGPASSWORD="$PG_SUPERUSER_PASSWORD" PGCONNECT_TIMEOUT=10 \
    "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d "$db" -X -q -t -A -v ON_ERROR_STOP=1 "$@"
}

start_postgres() {
  local started
  started=$(now_ms)
  pg_start "$PG_DATA_DIR" "$PG_PORT" "$PG_SUPERUSER_PASSWORD" "$LOCAL_LOGS/postgres.log" "$LOCAL_PIDS/postgres.pid" durable 9>&- ||
    die "PostgreSQL did not start (log: $(rel "$LOCAL_LOGS/postgres.log"))"
  if [[ "$(psql_admin postgres -c "SELECT 1 FROM pg_database WHERE datname = 'telemetry'")" != 1 ]]; then
    psql_admin postgres -c 'CREATE DATABASE telemetry' || die "could not create database telemetry"
    say "created database telemetry"
  fi
  say "PostgreSQL ready on 127.0.0.1:$PG_PORT, pid $(cat "$LOCAL_PIDS/postgres.pid") ($(elapsed "$started"))"
}

# The stats API's read replica: streaming replication through its own slot (which keeps WAL on the primary for it;
# after deleting .local/postgres-standby, drop it: SELECT pg_drop_replication_slot('local_stats')).
start_stats_standby() {
  local started
  started=$(now_ms)
  pg_start_standby "$PG_PORT" "$PG_SUPERUSER_PASSWORD" "$PG_STANDBY_DATA_DIR" "$PG_STANDBY_PORT" \
    "$LOCAL_LOGS/postgres-standby.log" "$LOCAL_PIDS/postgres-standby.pid" "$PG_STANDBY_SLOT" durable 9>&- ||
    die "the PostgreSQL standby did not start (log: $(rel "$LOCAL_LOGS/postgres-standby.log"))"
  say "PostgreSQL standby streaming on 127.0.0.1:$PG_STANDBY_PORT, pid $(cat "$LOCAL_PIDS/postgres-standby.pid") ($(elapsed "$started"))"
}

start_rabbitmq() {
  local started
  started=$(now_ms)
  rabbit_start "$RABBIT_DIR" "$RABBIT_PORT" "$RABBIT_MGMT_PORT" "$RABBIT_NODE" "$RABBITMQ_USER" "$RABBITMQ_PASSWORD" \
    "$LOCAL_LOGS/rabbitmq.log" "$LOCAL_PIDS/rabbitmq.pid" 9>&- ||
    die "RabbitMQ did not start (logs: $(rel "$LOCAL_LOGS/rabbitmq.log"), $(rel "$RABBIT_DIR/log"))"
  say "RabbitMQ ready on 127.0.0.1:$RABBIT_PORT (management http://127.0.0.1:$RABBIT_MGMT_PORT), pid $(cat "$LOCAL_PIDS/rabbitmq.pid") ($(elapsed "$started"))"
}

# ---------------------------------------------------------------------------------------------------------------
# Build and setup

build() {
  local started log="$LOCAL_LOGS/build.log"
  started=$(now_ms)
  say "dotnet build -c Release $(rel "$BUILD_TARGET") (log: $(rel "$log"))"
  if ! dotnet build "$BUILD_TARGET" -c Release -nologo -v:q -clp:NoSummary >"$log" 2>&1 9>&-; then
    grep -E ': (error|warning) [A-Z]+[0-9]+' "$log" | sed -E 's/ \[[^]]*\]$//' | sort -u | head -n 25 >&2 || tail -n 30 "$log" >&2
    die "the build failed (full log: $(rel "$log"))"
  fi
  say "build ok ($(elapsed "$started"))"
}

# Runs the setup tool with ARGS and the admin connection; stdout and stderr are the tool's own.
setup_tool() {
  [[ -f "$SETUP_DLL" ]] || die "$(rel "$SETUP_DLL") is missing after the build"
  (
    exec 9>&-
    export ConnectionStrings__Admin
    ConnectionStrings__Admin="$(npgsql "$PG_SUPERUSER" "$PG_SUPERUSER_PASSWORD")"
    exec_setup_tool "$@"
  )
}

run_setup() {
  local started log="$LOCAL_LOGS/setup.log"
  started=$(now_ms)
  if ! (
    export ConnectionStrings__RabbitMq="$RABBITMQ_URL"
    export RolePasswords__AttemptsApi="$ROLE_PASSWORD_ATTEMPTS_API"
    export RolePasswords__EventIngestor="$ROLE_PASSWORD_EVENT_INGESTOR"
    export RolePasswords__Aggregator="$ROLE_PASSWORD_AGGREGATOR"
    export RolePasswords__StatsApi="$ROLE_PASSWORD_STATS_API"
    setup_tool all
  ) >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    die "setup (migrations + broker topology) failed (log: $(rel "$log"))"
  fi
  sed 's/^/       /' "$log"
  say "migrations and broker topology in place ($(elapsed "$started"))"
}

# The stats API knows dashboard keys only by their SHA-256, in the database. Reuses STATS_API_KEY from the credentials
# file (registering it if the database does not hold it yet); creates a new key with the setup tool when there is
# none, or when the recorded one was revoked (an operator's `dashboard-key.sh revoke`).
ensure_dashboard_key() {
  local log="$LOCAL_LOGS/setup.log" rc=0 name key
  # The name the recorded key was registered under (a replacement key has a new name; older files have none).
  DASHBOARD_KEY_NAME="${STATS_API_KEY_NAME:-$DASHBOARD_KEY_NAME}"
  if [[ -n "${STATS_API_KEY:-}" ]]; then
    DASHBOARD_API_KEY="$STATS_API_KEY" setup_tool dashboard-key ensure "$DASHBOARD_KEY_NAME" >>"$log" 2>&1 || rc=$?
    case "$rc" in
      0)
        say "dashboard key '$DASHBOARD_KEY_NAME' registered (STATS_API_KEY in $(rel "$CREDENTIALS_FILE"))"
        return 0
        ;;
      3) warn "the recorded STATS_API_KEY is no longer usable ($(tail -n 1 "$log")); creating a new key" ;;
      *)
        tail -n 5 "$log" >&2
        die "setup dashboard-key ensure failed (log: $(rel "$log"))"
        ;;
    esac
  fi
  for name in "$DASHBOARD_KEY_NAME" "local-dashboard-$(date -u +%Y%m%d%H%M%S)"; do
    # Only the key itself is on stdout; the tool's messages go to the log.
    if key="$(setup_tool dashboard-key add "$name" 2>>"$log")"; then
      record_stats_api_key "$key" "$name"
      STATS_API_KEY="$key"
      DASHBOARD_KEY_NAME="$name"
      say "dashboard key '$name' created with the setup tool; STATS_API_KEY recorded in $(rel "$CREDENTIALS_FILE")"
      return 0
    fi
  done
  tail -n 5 "$log" >&2
  die "setup dashboard-key add failed (log: $(rel "$log"))"
}

# ---------------------------------------------------------------------------------------------------------------
# Services

# Exports what replica NAME (a service, or aggregator-2 and the like) reads from its environment; runs inside its
# subshell. Its instance name is NAME@local: stable across restarts, and each replica's own.
export_service_env() {
  export ASPNETCORE_URLS
  ASPNETCORE_URLS="http://127.0.0.1:$(service_port "$1")"
  export ConnectionStrings__RabbitMq="$RABBITMQ_URL"
  export SERVICE_INSTANCE="$1@local"
  case "$(replica_service "$1")" in
    attempts-api)
      export ConnectionStrings__Telemetry
      ConnectionStrings__Telemetry="$(npgsql telemetry_attempts "$ROLE_PASSWORD_ATTEMPTS_API")"
      export Jwt__Issuer="$JWT_ISSUER" Jwt__Audience="$JWT_AUDIENCE" Jwt__SigningKey="$JWT_SIGNING_KEY"
      export Jwt__WalletClaim="$JWT_WALLET_CLAIM" AdminAuth__Key="$ADMIN_KEY"
      ;;
    event-ingestor)
      export ConnectionStrings__Telemetry
      ConnectionStrings__Telemetry="$(npgsql telemetry_ingestor "$ROLE_PASSWORD_EVENT_INGESTOR")"
      ;;
    aggregator)
      export ConnectionStrings__Telemetry
      ConnectionStrings__Telemetry="$(npgsql telemetry_aggregator "$ROLE_PASSWORD_AGGREGATOR")"
      ;;
    stats-api)
      export ConnectionStrings__Telemetry
      if ((STATS_REPLICA)); then
        ConnectionStrings__Telemetry="$(PG_PORT=$PG_STANDBY_PORT npgsql telemetry_stats "$ROLE_PASSWORD_STATS_API")"
      else
        ConnectionStrings__Telemetry="$(npgsql telemetry_stats "$ROLE_PASSWORD_STATS_API")"
      fi
      ;;
    *) die "unknown service $1" ;;
  esac
}

# Supervision: each service runs under deploy/local/lib/supervise.sh, a small loop that restarts it when it exits with
# anything but a stop (70, the bus watchdog's "restart me", a crash, a KILL) with capped backoff, writes the service's
# own pid to .local/pids/<service>.pid and TERMs it if the loop dies. Chosen over Debian's supervisor package because
# it needs nothing installed, keeps the pid files naming the services themselves (kill -9 of one means what an
# operator expects), keeps each service's supervision independent (no single daemon whose death orphans all four) and
# follows the same rule as the systemd units in deploy/systemd (Restart=on-failure).
#
# Starts replica NAME (see lib/local.sh) unless its supervising loop still runs (a loop waiting out a backoff is told to restart at once).
# One that was rebuilt since it started (a newer assembly in its output folder) is restarted so it runs the code just
# built; one that runs without its loop (the loop was KILLed, or an older up.sh started it) is restarted under one.
start_service() {
  local name="$1" dll pid sup pid_file log port
  dll="$(service_dll "$name")"
  pid_file="$(service_pid_file "$name")"
  log="$(service_log "$name")"
  port="$(service_port "$name")"
  [[ -f "$dll" ]] || die "$(rel "$dll") is missing after the build"

  sup="$(supervisor_pid "$name")"
  pid="$(service_pid "$name")"
  if [[ -n "$sup" ]]; then
    if [[ -z "$pid" ]]; then
      say "$name is being restarted by its supervisor (pid $sup, last exit $(supervisor_status "$name" last_exit unknown)): restarting it now"
      kill -USR1 "$sup" 2>/dev/null || true
      return 0
    fi
    if [[ -z "$(find "$(dirname "$dll")" -maxdepth 1 -name '*.dll' -newer "$pid_file" -print -quit)" ]]; then
      say "$name already running (pid $pid, supervisor $sup), reusing it"
      return 0
    fi
    say "$name was rebuilt since it started: restarting pid $pid"
    stop_services 45 "$name"
  elif [[ -n "$pid" ]]; then
    say "$name (pid $pid) runs without its supervisor: restarting it under one"
    stop_services 45 "$name"
  fi

  if port_open "$port"; then
    die "port $port (for $name) is taken by a process up.sh did not start; find it with: ss -ltnp 'sport = :$port'"
  fi
  rm -f "$LOCAL_PIDS/$name.supervisor.status"
  (
    exec 9>&-
    export_service_env "$name"
    cd "$(dirname "$dll")"
    exec setsid nohup "$SUPERVISE_SH" "$name" "$LOCAL_PIDS" -- dotnet "$dll" </dev/null >>"$log" 2>&1
  ) &
  sup=$!
  echo "$sup" >"$(supervisor_pid_file "$name")"
  say "$name started (supervisor pid $sup, http://127.0.0.1:$port, log $(rel "$log"))"
}

# Waits until SERVICE answers /health/ready. Its supervisor restarts it if it exits, but a service that keeps exiting
# while it starts (a bad setting, say) will not get better by itself: after two such exits it is stopped and up.sh fails.
wait_ready() {
  local name="$1" port deadline restarts0 restarts
  port="$(service_port "$name")"
  deadline=$(($(date +%s) + READY_TIMEOUT_S))
  restarts0="$(supervisor_status "$name" restarts 0)"
  until curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$port/health/ready" 2>/dev/null; do
    restarts="$(supervisor_status "$name" restarts 0)"
    if [[ -z "$(supervisor_pid "$name")$(service_pid "$name")" ]] || ((restarts - restarts0 >= 2)); then
      printf -- '----- last lines of %s -----\n' "$(rel "$(service_log "$name")")" >&2
      tail -n 30 "$(service_log "$name")" >&2 || true
      stop_services 10 "$name" >/dev/null
      die "$name exited during start-up (last exit $(supervisor_status "$name" last_exit unknown), log: $(rel "$(service_log "$name")"))"
    fi
    if (($(date +%s) >= deadline)); then
      printf -- '----- last lines of %s -----\n' "$(rel "$(service_log "$name")")" >&2
      tail -n 30 "$(service_log "$name")" >&2 || true
      die "$name not ready on http://127.0.0.1:$port/health/ready within ${READY_TIMEOUT_S}s"
    fi
    sleep 0.3
  done
}

# Replicas above the scale (a smaller --scale than before): TERM through their supervisors, all at once, then their
# pid, supervisor and status files go.
scale_down() {
  local service name k extras=()
  for service in "${SCALABLE_SERVICES[@]}"; do
    while IFS= read -r name; do
      k="$(replica_index "$name")"
      if ((k > SERVICE_SCALE[$service])); then extras+=("$name"); fi
    done < <(extra_replicas_on_disk "$service")
  done
  if ((${#extras[@]} > 0)); then
    say "scaling down: stopping ${extras[*]}"
    stop_services 45 "${extras[@]}"
  fi
  # Status files of replicas above the scale (also those down.sh stopped) go too.
  local file
  for file in "$LOCAL_PIDS"/*.supervisor.status; do
    [[ -e "$file" ]] || continue
    name="$(basename "$file" .supervisor.status)"
    is_replica_name "$name" || continue
    service="$(replica_service "$name")"
    if (($(replica_index "$name") > SERVICE_SCALE[$service])); then rm -f "$file"; fi
  done
}

start_services() {
  local started name wanted=()
  started=$(now_ms)
  mapfile -t wanted < <(wanted_replicas)
  scale_down
  for name in "${wanted[@]}"; do start_service "$name"; done
  for name in "${wanted[@]}"; do wait_ready "$name"; done
  say "all ${#wanted[@]} service processes ready: $(for s in "${SERVICES[@]}"; do printf '%s ×%s, ' "$s" "${SERVICE_SCALE[$s]}"; done | sed 's/, $//') ($(elapsed "$started"))"
}

# What Prometheus scrapes: JOB=127.0.0.1:PORT for every service process of the scale.
scrape_targets() {
  local name
  while IFS= read -r name; do echo "$(replica_service "$name")=127.0.0.1:$(service_port "$name")"; done < <(wanted_replicas)
}

# A Prometheus left running by an earlier up.sh --with-prometheus follows the scale too (its replica target files are
# rewritten; it re-reads them by itself), so replicas that were scaled away are not reported down.
update_running_prometheus() {
  local pid targets=()
  pid="$(prometheus_pid)"
  [[ -n "$pid" ]] || return 0
  mapfile -t targets < <(scrape_targets)
  prometheus_write_config "${targets[@]}"
  say "Prometheus (pid $pid) runs: its scrape targets follow the scale (${#targets[@]} service processes)"
}

start_prometheus() {
  local started targets=()
  started=$(now_ms)
  mapfile -t targets < <(scrape_targets)
  prometheus_write_config "${targets[@]}"
  prometheus_start
  say "Prometheus ready on http://127.0.0.1:$PROMETHEUS_PORT; waiting for it to scrape all ${#targets[@]} service processes"
  prometheus_wait_targets 60 "${targets[@]}"
  say "Prometheus scrapes all ${#targets[@]} service processes ($(elapsed "$started")); alerts: http://127.0.0.1:$PROMETHEUS_PORT/alerts"
}

# ---------------------------------------------------------------------------------------------------------------
# HTTP

# http METHOD URL AUTH_HEADER [BODY]: sets HTTP_STATUS and HTTP_BODY. The credential header goes to curl through a
# config on a pipe so it never shows in `ps`.
http() {
  local method="$1" url="$2" auth="$3" body="${4-}" out
  local args=(-sS --max-time 15 -X "$method" -w '\n%{http_code}')
  if [[ -n "$body" ]]; then args+=(-H 'Content-Type: application/json' --data-binary "$body"); fi
  out="$(curl "${args[@]}" -K <(printf 'header = "%s"\n' "$auth") "$url")" ||
    die "$method $url: no answer (curl exit $?)"
  HTTP_STATUS="${out##*$'\n'}"
  HTTP_BODY="${out%$'\n'*}"
}

expect_status() {
  local what="$1"
  shift
  local code
  for code in "$@"; do [[ "$HTTP_STATUS" == "$code" ]] && return 0; done
  die "$what answered HTTP $HTTP_STATUS (expected $*): $HTTP_BODY"
}

# ---------------------------------------------------------------------------------------------------------------
# Demo data

load_catalogue() {
  local count=0 track_id body
  while IFS= read -r track_id; do
    body="$(jq -c --arg id "$track_id" '.tracks[] | select(.trackId == $id)
      | {title, passThresholdPct, reviewBandPct, minSecondsPerQuestion, questions: [.questions[] | {questionId, correctAnswer}]}' "$CATALOGUE_FILE")"
    http PUT "$ATTEMPTS_URL/api/admin/tracks/$track_id" "X-Admin-Key: $ADMIN_KEY" "$body"
    expect_status "PUT /api/admin/tracks/$track_id" 200 201
    count=$((count + 1))
  done < <(jq -r '.tracks[].trackId' "$CATALOGUE_FILE")
  say "demo catalogue loaded: $count tracks, $(jq '[.tracks[].questions[]] | length' "$CATALOGUE_FILE") questions ($(rel "$CATALOGUE_FILE"))"
}

# Leaves a cycle that covers now alone; otherwise adds the next cycle from 7 days ago to 30 days ahead (whole UTC
# days), clipped so it never overlaps an earlier or a later cycle.
ensure_current_cycle() {
  local now lo hi max=0 number starts ends s e
  http GET "$ATTEMPTS_URL/api/admin/cycles" "X-Admin-Key: $ADMIN_KEY"
  expect_status "GET /api/admin/cycles" 200
  now="$(date +%s)"
  lo=$((now - now % 86400 - 7 * 86400))
  hi=$((now - now % 86400 + 30 * 86400))
  while IFS=$'\t' read -r number starts ends; do
    s="$(date -d "$starts" +%s)" || die "GET /api/admin/cycles: unreadable startsAt of cycle $number"
    e="$(date -d "$ends" +%s)" || die "GET /api/admin/cycles: unreadable endsAt of cycle $number"
    if ((s <= now && now < e)); then
      say "cycle $number is current ($starts → $ends), left as it is"
      return
    fi
    if ((number > max)); then max=$number; fi
    if ((e <= now && e > lo)); then lo=$e; fi
    if ((s > now && s < hi)); then hi=$s; fi
  done < <(jq -r '.[] | [.cycleNumber, .startsAt, .endsAt] | @tsv' <<<"$HTTP_BODY")
  number=$((max + 1))
  starts="$(date -u -d "@$lo" +%Y-%m-%dT%H:%M:%SZ)"
  ends="$(date -u -d "@$hi" +%Y-%m-%dT%H:%M:%SZ)"
  http PUT "$ATTEMPTS_URL/api/admin/cycles/$number" "X-Admin-Key: $ADMIN_KEY" \
    "$(jq -cn --arg s "$starts" --arg e "$ends" '{startsAt: $s, endsAt: $e}')"
  expect_status "PUT /api/admin/cycles/$number" 200 201
  say "cycle $number created as the current cycle ($starts → $ends)"
}

stats_tracks() {
  http GET "$STATS_URL/api/stats/tracks" "X-Api-Key: $STATS_API_KEY"
  expect_status "GET /api/stats/tracks" 200
  printf '%s' "$HTTP_BODY"
}

# Sends DEMO_ATTEMPTS attempts (fresh attempt ids) round-robin over the demo wallets and tracks, about 70% of the
# answers right, then waits until the stats API's totals moved by exactly what was sent.
send_demo_attempts() {
  local started before expected='{}' tokens=() wallets=() tracks=() i
  started=$(now_ms)
  mapfile -t wallets < <(jq -r '.wallets[]' "$CATALOGUE_FILE")
  mapfile -t tracks < <(jq -r '.tracks[].trackId' "$CATALOGUE_FILE")
  for i in "${!wallets[@]}"; do tokens[i]="$("$HERE/token.sh" "${wallets[i]}")"; done
  before="$(stats_tracks)"

  local sent_answers=0 sent_correct=0 approved=0 rejected=0 pending=0 events=0
  for ((i = 0; i < DEMO_ATTEMPTS; i++)); do
    local w=$((i % ${#wallets[@]})) track="${tracks[i % ${#tracks[@]}]}" attempt_id body correct count
    attempt_id="$(cat /proc/sys/kernel/random/uuid)"
    # Answer j is right unless (3i + 7j) mod 10 >= 7: a deterministic mix of ~70% right answers.
    body="$(jq -c --arg track "$track" --arg attempt "$attempt_id" --argjson i "$i" '
      .tracks[] | select(.trackId == $track) as $t
      | {attemptId: $attempt, trackId: $track,
         durationSec: (($t.minSecondsPerQuestion * ($t.questions | length)) + (($i * 37) % 90)),
         answers: [$t.questions | to_entries[] | {questionId: .value.questionId,
           selectedAnswer: (if ((3 * $i + 7 * .key) % 10) < 7 then .value.correctAnswer
                            else ({"A":"B","B":"C","C":"D","D":"A"}[.value.correctAnswer]) end)}]}' "$CATALOGUE_FILE")"
    count="$(jq '.answers | length' <<<"$body")"
    correct="$(jq --arg track "$track" --slurpfile cat "$CATALOGUE_FILE" '
      ($cat[0].tracks[] | select(.trackId == $track) | [.questions[] | {key: .questionId, value: .correctAnswer}] | from_entries) as $key
      | [.answers[] | select(.selectedAnswer == $key[.questionId])] | length' <<<"$body")"

    http POST "$ATTEMPTS_URL/api/train-attempts/submit" "Authorization: Bearer ${tokens[w]}" "$body"
    expect_status "POST /api/train-attempts/submit (attempt $attempt_id)" 202
    [[ "$(jq '.correctCount' <<<"$HTTP_BODY")" == "$correct" && "$(jq '.answeredCount' <<<"$HTTP_BODY")" == "$count" ]] ||
      die "the attempts API graded attempt $attempt_id as $HTTP_BODY; expected $correct of $count right"
    case "$(jq -r '.autoDecision' <<<"$HTTP_BODY")" in
      approved) approved=$((approved + 1)) ;;
      rejected) rejected=$((rejected + 1)) ;;
      *) pending=$((pending + 1)) ;;
    esac
    events=$((events + $(jq '.eventsLogged // 0' <<<"$HTTP_BODY")))
    sent_answers=$((sent_answers + count))
    sent_correct=$((sent_correct + correct))
    expected="$(jq -c --arg t "$track" --argjson n "$count" --argjson c "$correct" \
      '.[$t] |= {attempts: ((.attempts // 0) + 1), answers: ((.answers // 0) + $n), correct: ((.correct // 0) + $c)}' <<<"$expected")"
  done
  say "sent $DEMO_ATTEMPTS attempts from ${#wallets[@]} wallets: $sent_answers answers, $sent_correct right," \
    "$events events logged; auto-review: $approved approved, $rejected rejected, $pending pending"

  local deadline after delta_ok
  deadline=$(($(date +%s) + STATS_TIMEOUT_S))
  while :; do
    after="$(stats_tracks)"
    delta_ok="$(jq -n --argjson before "$before" --argjson after "$after" --argjson expected "$expected" '
      def totals(rows): reduce rows[] as $r ({}; .[$r.trackId | ascii_downcase] = $r);
      totals($before) as $b | totals($after) as $a
      | [$expected | to_entries[] | .key as $t
         | (($a[$t].attemptsTotal // 0) - ($b[$t].attemptsTotal // 0)) == .value.attempts
           and (($a[$t].answersTotal // 0) - ($b[$t].answersTotal // 0)) == .value.answers
           and (($a[$t].correctTotal // 0) - ($b[$t].correctTotal // 0)) == .value.correct]
      | all')"
    [[ "$delta_ok" == true ]] && break
    if (($(date +%s) >= deadline)); then
      printf 'expected per-track increase: %s\nbefore: %s\nafter:  %s\n' "$expected" "$before" "$after" >&2
      die "the stats API did not reflect the demo attempts within ${STATS_TIMEOUT_S}s (logs: $(rel "$LOCAL_LOGS"))"
    fi
    sleep 0.5
  done
  say "stats API totals grew by exactly the $DEMO_ATTEMPTS attempts / $sent_answers answers / $sent_correct right answers sent ($(elapsed "$started"))"
  FINAL_STATS="$after"
}

print_stats_table() {
  local stats="$1"
  printf '\n%-36s  %-28s %8s %8s %8s %9s %8s  %s\n' "track" "title" "attempts" "answers" "correct" "accuracy" "avg dur" "last calculated"
  printf '%s\n' "$(printf '%.0s─' {1..134})"
  jq -r --slurpfile cat "$CATALOGUE_FILE" '
    ($cat[0].tracks | map({key: .trackId, value: .title}) | from_entries) as $titles
    | sort_by($titles[.trackId | ascii_downcase] // "~", .trackId)[]
    | [.trackId, ($titles[.trackId | ascii_downcase] // "-"), .attemptsTotal, .answersTotal, .correctTotal,
       ((.accuracyPct * 10 | round) / 10), ((.avgDurationSec * 10 | round) / 10), (.lastCalculatedAt // "-")]
    | @tsv' <<<"$stats" |
    while IFS=$'\t' read -r id title attempts answers correct accuracy duration at; do
      printf '%-36s  %-28.28s %8s %8s %8s %8.1f%% %7.1fs  %s\n' "$id" "$title" "$attempts" "$answers" "$correct" "$accuracy" "$duration" "$at"
    done
  echo
}

print_summary() {
  local service name k
  say "the pipeline is running:"
  for service in attempts-api stats-api event-ingestor aggregator; do
    for ((k = 1; k <= SERVICE_SCALE[$service]; k++)); do
      name="$(replica_name "$service" "$k")"
      printf '       %-17s http://127.0.0.1:%-5s pid %-8s log %s (supervisor pid %s, %s restarts)\n' "$name" "$(service_port "$name")" \
        "$(service_pid "$name")" "$(rel "$(service_log "$name")")" "$(supervisor_pid "$name")" "$(supervisor_status "$name" restarts 0)"
    done
  done
  printf '       %-17s 127.0.0.1:%-11s pid %-8s log %s\n' postgres "$PG_PORT" "$(cat "$LOCAL_PIDS/postgres.pid")" "$(rel "$LOCAL_LOGS/postgres.log")"
  if ((STATS_REPLICA)); then
    printf '       %-17s 127.0.0.1:%-11s pid %-8s log %s (the stats API reads here)\n' postgres-standby "$PG_STANDBY_PORT" \
      "$(cat "$LOCAL_PIDS/postgres-standby.pid")" "$(rel "$LOCAL_LOGS/postgres-standby.log")"
  fi
  printf '       %-17s 127.0.0.1:%-11s pid %-8s log %s (management UI http://127.0.0.1:%s)\n' rabbitmq "$RABBIT_PORT" "$(cat "$LOCAL_PIDS/rabbitmq.pid")" "$(rel "$LOCAL_LOGS/rabbitmq.log")" "$RABBIT_MGMT_PORT"
  if [[ -n "$(prometheus_pid)" ]]; then
    printf '       %-17s http://127.0.0.1:%-5s pid %-8s log %s\n' prometheus "$PROMETHEUS_PORT" "$(prometheus_pid)" "$(rel "$PROMETHEUS_LOG")"
  fi
  say "scale:   $(for s in "${SCALABLE_SERVICES[@]}"; do printf '%s=%s ' "$s" "${SERVICE_SCALE[$s]}"; done)(kept in $(rel "$SCALE_FILE"); deploy/local/up.sh --scale SERVICE=N changes it)"
  say "secrets: $(rel "$CREDENTIALS_FILE")   (set -a; . .local/credentials.env; set +a)"
  say "try:     curl -H \"X-Api-Key: \$STATS_API_KEY\" \$STATS_URL/api/stats/cycle/current"
  say "token:   deploy/local/token.sh WALLET      stop: deploy/local/down.sh"
  say "keys:    deploy/local/dashboard-key.sh list|add NAME|revoke NAME (a revocation takes effect within 5 s)"
}

main() {
  local started
  started=$(now_ms)
  parse_args "$@"
  [[ "$DEMO_ATTEMPTS" =~ ^[0-9]+$ ]] || die "DEMO_ATTEMPTS must be a number"
  take_local_lock
  mkdir -p "$LOCAL_LOGS" "$LOCAL_PIDS"
  resolve_scale
  # The postgres OS user must reach its folder and log inside.
  chmod 711 "$LOCAL_DIR"

  step "tools"
  ensure_tools
  ensure_credentials
  step "servers"
  start_postgres
  if ((STATS_REPLICA)); then start_stats_standby; fi
  start_rabbitmq
  step "build"
  build
  step "setup"
  run_setup
  ensure_dashboard_key
  step "services"
  start_services
  if [[ $WITH_PROMETHEUS -eq 1 ]]; then
    step "prometheus"
    start_prometheus
  else
    update_running_prometheus
  fi
  step "demo data"
  load_catalogue
  ensure_current_cycle
  if ((DEMO_ATTEMPTS > 0)); then
    send_demo_attempts
  else
    FINAL_STATS="$(stats_tracks)"
  fi
  step "track statistics (GET $STATS_URL/api/stats/tracks)"
  print_stats_table "$FINAL_STATS"
  print_summary
  say "done in $(elapsed "$started")"
}

main "$@"
