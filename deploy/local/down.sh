#!/usr/bin/env bash
# Stops exactly what deploy/local/up.sh started, by the pid files in .local/pids: Prometheus if up.sh --with-prometheus
# started it, the four services and every replica of the consumers that has a pid file (aggregator-2, … from
# up.sh --scale; TERM to each one's supervising loop, which stops its service and does not restart it; all drain at
# once; KILL after a grace period), then RabbitMQ and PostgreSQL. Never kills by name. Data, logs, secrets and the
# scale (.local/scale: the next up.sh starts as many replicas again) stay in .local/; `rm -rf .local` after this resets
# everything.
#
# Environment: STOP_GRACE_S (default 45), how long a service may take to drain before it is killed.
set -euo pipefail

LOCAL_TAG=down
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib/local.sh
source "$HERE/lib/local.sh"
# shellcheck source=deploy/local/lib/servers.sh
source "$HERE/lib/servers.sh"
# shellcheck source=deploy/local/lib/prometheus.sh
source "$HERE/lib/prometheus.sh"

STOP_GRACE_S="${STOP_GRACE_S:-45}"

main() {
  [[ -d "$LOCAL_DIR" ]] || {
    say "nothing to stop ($(rel "$LOCAL_DIR") does not exist)"
    exit 0
  }
  take_local_lock
  # Prometheus (up.sh --with-prometheus) first: it would only record the others going away.
  prometheus_stop 30
  # APIs first, so nothing new is accepted while the consumers drain. Every replica on disk, whatever the scale says.
  local i name names=()
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    names+=("${SERVICES[i]}")
    while IFS= read -r name; do names+=("$name"); done < <(extra_replicas_on_disk "${SERVICES[i]}")
  done
  stop_services "$STOP_GRACE_S" "${names[@]}"

  if [[ -d "$RABBIT_DIR" ]]; then
    if [[ -n "$(_rabbit_beam_pid "$(realpath -m "$RABBIT_DIR")")$(_rabbit_launcher_pid "$(realpath -m "$RABBIT_DIR")" "$LOCAL_PIDS/rabbitmq.pid")" ]]; then
      say "stopping RabbitMQ"
    else
      say "RabbitMQ was not running"
    fi
    rabbit_stop "$RABBIT_DIR" "$LOCAL_PIDS/rabbitmq.pid" || die "could not stop RabbitMQ (pid file $(rel "$LOCAL_PIDS/rabbitmq.pid"))"
  fi
  if [[ -d "$PG_STANDBY_DATA_DIR" ]]; then
    if [[ -n "$(_pg_postmaster_of "$(realpath -m "$PG_STANDBY_DATA_DIR")")" ]]; then say "stopping the PostgreSQL standby"; fi
    pg_stop "$PG_STANDBY_DATA_DIR" "$LOCAL_PIDS/postgres-standby.pid" || die "could not stop the PostgreSQL standby (data $(rel "$PG_STANDBY_DATA_DIR"))"
  fi
  if [[ -d "$PG_DATA_DIR" ]]; then
    if [[ -n "$(_pg_postmaster_of "$(realpath -m "$PG_DATA_DIR")")" ]]; then say "stopping PostgreSQL"; else say "PostgreSQL was not running"; fi
    pg_stop "$PG_DATA_DIR" "$LOCAL_PIDS/postgres.pid" || die "could not stop PostgreSQL (data $(rel "$PG_DATA_DIR"))"
  fi
  say "stopped. Data, logs, secrets and the scale are kept in $(rel "$LOCAL_DIR"); deploy/local/up.sh starts it all again," \
    "rm -rf .local resets everything."
}

main "$@"
