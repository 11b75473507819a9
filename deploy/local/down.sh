#!/usr/bin/env bash
# Stops exactly what deploy/local/up.sh started, by the pid files in .local/pids: the four services first (TERM,
# then KILL after a grace period), then RabbitMQ and PostgreSQL. Never kills by name. Data, logs and secrets stay
# in .local/; `rm -rf .local` after this resets everything.
#
# Environment: STOP_GRACE_S (default 45), how long a service may take to drain before it is killed.
set -euo pipefail

LOCAL_TAG=down
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib/local.sh
source "$HERE/lib/local.sh"
# shellcheck source=deploy/local/lib/servers.sh
source "$HERE/lib/servers.sh"

STOP_GRACE_S="${STOP_GRACE_S:-45}"

stop_services() {
  local name pid deadline i
  local -A pids=()
  # APIs first, so nothing new is accepted while the consumers drain.
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    name="${SERVICES[i]}"
    pid="$(service_pid "$name")"
    if [[ -n "$pid" ]]; then
      say "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids[$name]="$pid"
    else
      if [[ -e "$(service_pid_file "$name")" ]]; then say "$name was not running"; fi
      rm -f "$(service_pid_file "$name")"
    fi
  done

  deadline=$(($(date +%s) + STOP_GRACE_S))
  for name in "${!pids[@]}"; do
    while [[ -n "$(service_pid "$name")" ]] && (($(date +%s) < deadline)); do sleep 0.2; done
    if [[ -n "$(service_pid "$name")" ]]; then
      warn "$name (pid ${pids[$name]}) still running after ${STOP_GRACE_S}s: KILL"
      kill -KILL "${pids[$name]}" 2>/dev/null || true
      while [[ -n "$(service_pid "$name")" ]]; do sleep 0.1; done
    fi
    rm -f "$(service_pid_file "$name")"
    say "$name stopped"
  done
}

main() {
  [[ -d "$LOCAL_DIR" ]] || {
    say "nothing to stop ($(rel "$LOCAL_DIR") does not exist)"
    exit 0
  }
  take_local_lock
  stop_services

  if [[ -d "$RABBIT_DIR" ]]; then
    if [[ -s "$LOCAL_PIDS/rabbitmq.pid" ]]; then say "stopping RabbitMQ"; else say "RabbitMQ was not running"; fi
    rabbit_stop "$RABBIT_DIR" "$LOCAL_PIDS/rabbitmq.pid" || die "could not stop RabbitMQ (pid file $(rel "$LOCAL_PIDS/rabbitmq.pid"))"
  fi
  if [[ -d "$PG_DATA_DIR" ]]; then
    if [[ -f "$PG_DATA_DIR/postmaster.pid" ]]; then say "stopping PostgreSQL"; else say "PostgreSQL was not running"; fi
    pg_stop "$PG_DATA_DIR" "$LOCAL_PIDS/postgres.pid" || die "could not stop PostgreSQL (data $(rel "$PG_DATA_DIR"))"
  fi
  say "stopped. Data, logs and secrets are kept in $(rel "$LOCAL_DIR"); deploy/local/up.sh starts it all again," \
    "rm -rf .local resets everything."
}

main "$@"
