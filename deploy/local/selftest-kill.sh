#!/usr/bin/env bash
# Crash test of the local stack: for each CASE, KILLs (SIGKILL, by the pid files in .local/pids) what the case names,
# runs deploy/local/up.sh exactly once right away and checks that it exits 0 with every service's /health/ready
# answering 200 (up.sh itself checks that a burst of demo attempts reaches the statistics exactly). Prints one line per
# case with up.sh's exit code and duration. Not part of tests/run.sh (minutes, and it needs the fixed local ports).
#
#   deploy/local/selftest-kill.sh [CASE...]        (no CASE: all of them, in this order)
#
# Cases:
#   postgres  rabbitmq  event-ingestor  aggregator  stats-api  attempts-api      one process KILLed
#   postgres+rabbitmq  postgres+aggregator                                        two at once
#   supervisor   the aggregator's supervising loop KILLed (its service gets TERM and drains; up.sh starts both again)
#   replica      replica aggregator-2 and its supervising loop KILLed at once, so that only the next up.sh (which keeps
#                the scale from .local/scale) can bring it back; checks it runs again under a new pid with its own
#                port, instance and pid files. When the aggregator runs as one process, the case first scales it to 2
#                (up.sh with SCALE=aggregator=2) and scales it back to 1 afterwards.
#   unattended   the aggregator KILLed and no up.sh: its supervisor must bring it back alone (within 60 s)
#   watchdog-event-ingestor, watchdog-aggregator
#                a real exit 70: the consumer runs with a 5 s bus watchdog and MaxRestarts=0, RabbitMQ refuses it its
#                queue until the watchdog exits with 70; its supervisor must restart it, and once the queue is allowed
#                again it must become ready alone (no up.sh). It is then restarted with its normal settings.
#
# Every case checks every process of the scale in .local/scale (up.sh --scale), replicas included.
# The stack is started first if it is not running, and stopped at the end (down.sh) only if it was not running before.
# Exit code: 0 if every case passed. Logs: .local/logs/selftest-kill/ (one per up.sh run, replaced by the next test).
set -euo pipefail

LOCAL_TAG=selftest
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib/local.sh
source "$HERE/lib/local.sh"
# shellcheck source=deploy/local/lib/servers.sh
source "$HERE/lib/servers.sh"

ALL_CASES=(postgres rabbitmq event-ingestor aggregator stats-api attempts-api postgres+rabbitmq postgres+aggregator
  supervisor replica unattended watchdog-event-ingestor watchdog-aggregator)
LOGS="$LOCAL_LOGS/selftest-kill"
RESULTS=()
FAILED=0
CASE_NO=0

now_ms() { date +%s%3N; }
seconds_since() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# Every process of the scale up.sh keeps (.local/scale): the four services and the consumers' replicas.
processes() {
  load_scale
  wanted_replicas
}

all_ready() {
  local name
  for name in $(processes); do
    curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$(service_port "$name")/health/ready" 2>/dev/null || return 1
  done
}

# Every pid file names a live process (PostgreSQL's postmaster, RabbitMQ's VM, each service process and its supervisor).
pids_live() {
  local name
  for name in $(processes); do
    [[ -n "$(service_pid "$name")" && -n "$(supervisor_pid "$name")" ]] || { echo "$name has no live pid or supervisor"; return 1; }
  done
  _srv_pid_alive "$(_srv_read_pid "$LOCAL_PIDS/postgres.pid")" || { echo "postgres.pid names no live process"; return 1; }
  _srv_pid_alive "$(_srv_read_pid "$LOCAL_PIDS/rabbitmq.pid")" || { echo "rabbitmq.pid names no live process"; return 1; }
}

# The pid file of a thing a case kills.
pid_file_of() {
  case "$1" in
    postgres | rabbitmq) echo "$LOCAL_PIDS/$1.pid" ;;
    supervisor) supervisor_pid_file aggregator ;;
    supervisor-*) supervisor_pid_file "${1#supervisor-}" ;;
    *) service_pid_file "$1" ;;
  esac
}

# KILLs the process in each named pid file and waits until it is gone (a zombie counts as gone).
kill_all() {
  local what pid pids=()
  for what in "$@"; do
    pid="$(_srv_read_pid "$(pid_file_of "$what")")"
    _srv_pid_alive "$pid" || die "$what is not running (pid file $(rel "$(pid_file_of "$what")"))"
    pids+=("$pid")
  done
  say "kill -9 ${pids[*]} ($*)"
  kill -KILL "${pids[@]}"
  for pid in "${pids[@]}"; do
    while _srv_pid_alive "$pid"; do sleep 0.05; done
  done
}

record() {
  local case="$1" verdict="$2" detail="$3"
  RESULTS+=("$(printf '%-24s %-4s %s' "$case" "$verdict" "$detail")")
  if [[ "$verdict" != ok ]]; then FAILED=1; fi
  say "$case: $verdict — $detail"
}

# Runs up.sh once with a log; prints its exit code.
run_up() {
  local log="$1" rc=0
  shift
  env "$@" "$HERE/up.sh" >"$log" 2>&1 || rc=$?
  echo "$rc"
}

ensure_up() {
  all_ready && pids_live >/dev/null && return 0
  say "bringing the stack up first (log $(rel "$LOGS/initial-up.log"))"
  [[ "$(run_up "$LOGS/initial-up.log")" == 0 ]] || die "deploy/local/up.sh failed before any kill (log $(rel "$LOGS/initial-up.log"))"
}

# One up.sh right after the kill: exit 0, everything ready, the pid files name live processes.
case_kill_then_up() {
  local case="$1" started rc problem=""
  shift
  ensure_up
  kill_all "$@"
  started=$(now_ms)
  local log="$LOGS/$CASE_NO-$case.log"
  rc="$(run_up "$log")"
  local took
  took="$(seconds_since "$started")"
  if [[ "$rc" != 0 ]]; then
    problem="up.sh exited $rc"
  elif ! all_ready; then
    problem="up.sh exited 0 but a service is not ready"
  else
    problem="$(pids_live)" || true
  fi
  if [[ -z "$problem" ]]; then
    record "$case" ok "one up.sh: exit 0 in $took s, all $(processes | wc -l) service processes /health/ready 200 (log $(rel "$log"))"
  else
    record "$case" FAIL "$problem ($took s; log $(rel "$log"))"
  fi
}

case_unattended() {
  local started old deadline
  ensure_up
  old="$(service_pid aggregator)"
  kill_all aggregator
  started=$(now_ms)
  deadline=$(($(date +%s) + 60))
  until [[ -n "$(service_pid aggregator)" && "$(service_pid aggregator)" != "$old" ]] &&
    curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$(service_port aggregator)/health/ready" 2>/dev/null; do
    if (($(date +%s) >= deadline)); then
      record unattended FAIL "the aggregator was not back within 60 s without up.sh"
      return
    fi
    sleep 0.2
  done
  record unattended ok "no up.sh: the supervisor restarted the aggregator (pid $old → $(service_pid aggregator)), ready in $(seconds_since "$started") s"
}

# rabbitmqctl on the local node (env.sh names it), quietly.
rabbitmqctl_local() {
  (
    # shellcheck source=/dev/null
    . "$RABBIT_DIR/env.sh"
    rabbitmqctl -q "$@"
  ) </dev/null
}

allow_all_queues() {
  rabbitmqctl_local set_permissions -p / "$RABBITMQ_USER" '.*' '.*' '.*' >/dev/null
}

# Restarts SERVICE through up.sh with the environment given (up.sh passes its environment on).
restart_with() {
  local name="$1" log="$2" rc
  shift 2
  stop_services 45 "$name" >/dev/null
  rc="$(run_up "$log" DEMO_ATTEMPTS=0 "$@")"
  [[ "$rc" == 0 ]] || die "up.sh failed restarting the $name (log $(rel "$log"))"
}

# A replica KILLed with its loop: nothing but the next up.sh can bring it back. Needs the aggregator at scale 2 or more.
case_replica() {
  local name=aggregator-2 old old_sup scaled=0 log="$LOGS/$CASE_NO-replica.log" started rc took problem="" port instance
  ensure_up
  load_scale
  if ((SERVICE_SCALE[aggregator] < 2)); then
    say "scaling the aggregator to 2 for this case (log $(rel "$LOGS/$CASE_NO-replica-scale-up.log"))"
    [[ "$(run_up "$LOGS/$CASE_NO-replica-scale-up.log" DEMO_ATTEMPTS=0 SCALE=aggregator=2)" == 0 ]] ||
      die "up.sh with SCALE=aggregator=2 failed (log $(rel "$LOGS/$CASE_NO-replica-scale-up.log"))"
    scaled=1
  fi
  old="$(service_pid "$name")" old_sup="$(supervisor_pid "$name")"
  kill_all "$name" "supervisor-$name"
  started=$(now_ms)
  rc="$(run_up "$log")"
  took="$(seconds_since "$started")"
  port="$(service_port "$name")"
  if [[ "$rc" != 0 ]]; then
    problem="up.sh exited $rc"
  elif [[ -z "$(service_pid "$name")" || "$(service_pid "$name")" == "$old" || -z "$(supervisor_pid "$name")" || "$(supervisor_pid "$name")" == "$old_sup" ]]; then
    problem="$name was not started again under a new pid and supervisor (pid $old → $(service_pid "$name"), supervisor $old_sup → $(supervisor_pid "$name"))"
  elif ! all_ready; then
    problem="up.sh exited 0 but a service is not ready"
  else
    problem="$(pids_live)" || true
  fi
  if [[ -z "$problem" ]]; then
    instance="$(tr '\0' '\n' 2>/dev/null <"/proc/$(service_pid "$name")/environ" | sed -n 's/^SERVICE_INSTANCE=//p')"
    record replica ok "one up.sh: exit 0 in $took s, $name back (pid $old → $(service_pid "$name"), port $port, instance ${instance:-?}), all $(processes | wc -l) service processes ready (log $(rel "$log"))"
  else
    record replica FAIL "$problem ($took s; log $(rel "$log"))"
  fi
  if ((scaled)); then
    say "scaling the aggregator back to 1 (log $(rel "$LOGS/$CASE_NO-replica-scale-down.log"))"
    [[ "$(run_up "$LOGS/$CASE_NO-replica-scale-down.log" DEMO_ATTEMPTS=0 SCALE=aggregator=1)" == 0 ]] ||
      die "up.sh with SCALE=aggregator=1 failed (log $(rel "$LOGS/$CASE_NO-replica-scale-down.log"))"
  fi
}

# SERVICE is a consumer; its queue has its name.
case_watchdog() {
  local name="$1" case="watchdog-$1" deadline started pid peer conn verdict=ok detail
  ensure_up
  load_credentials
  say "restarting the $name with a 5 s bus watchdog (log $(rel "$LOGS/$CASE_NO-$case-up.log"))"
  restart_with "$name" "$LOGS/$CASE_NO-$case-up.log" BusWatchdogOptions__UnhealthyFor=00:00:05 \
    BusWatchdogOptions__CheckInterval=00:00:01 BusWatchdogOptions__MaxRestarts=0
  trap allow_all_queues EXIT

  # Its queue refused (consume needs read permission), and its connections dropped so that it must consume anew.
  rabbitmqctl_local set_permissions -p / "$RABBITMQ_USER" '.*' '.*' "^(?!$name\$).*" >/dev/null
  pid="$(service_pid "$name")"
  for peer in $(ss -Htnp state established "dport = :$RABBIT_PORT" 2>/dev/null | grep "pid=$pid," | awk '{n = split($3, a, ":"); print a[n]}'); do
    conn="$(rabbitmqctl_local list_connections pid peer_port | awk -v p="$peer" '$2 == p { print $1 }')"
    if [[ -n "$conn" ]]; then rabbitmqctl_local close_connection "$conn" "selftest-kill: $case" >/dev/null; fi
  done
  started=$(now_ms)
  deadline=$(($(date +%s) + 60))
  until [[ "$(supervisor_status "$name" last_exit)" == 70 ]]; do
    if [[ -z "$(supervisor_pid "$name")" ]]; then
      verdict=FAIL detail="the $name exited with $(supervisor_status "$name" last_exit none), not 70, so nothing restarts it"
      break
    fi
    if (($(date +%s) >= deadline)); then
      verdict=FAIL detail="no exit 70 within 60 s (last exit: $(supervisor_status "$name" last_exit none))"
      break
    fi
    sleep 0.5
  done
  if [[ "$verdict" == ok ]]; then
    detail="exit 70 after $(seconds_since "$started") s"
    allow_all_queues
    started=$(now_ms)
    deadline=$(($(date +%s) + 90))
    until curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$(service_port "$name")/health/ready" 2>/dev/null; do
      if (($(date +%s) >= deadline)); then
        verdict=FAIL detail+=", then not ready within 90 s of its queue coming back"
        break
      fi
      sleep 0.5
    done
    if [[ "$verdict" == ok ]]; then
      detail+=", restarted by its supervisor ($(supervisor_status "$name" restarts) restarts), ready $(seconds_since "$started") s after its queue came back, no up.sh"
    fi
  fi
  allow_all_queues
  trap - EXIT
  say "restarting the $name with its normal settings"
  restart_with "$name" "$LOGS/$CASE_NO-$case-restore.log"
  record "$case" "$verdict" "$detail"
}

main() {
  local cases=("$@") case was_running=0
  if [[ ${#cases[@]} -eq 0 ]]; then cases=("${ALL_CASES[@]}"); fi
  for case in "${cases[@]}"; do
    [[ " ${ALL_CASES[*]} " == *" $case "* ]] || die "unknown case '$case' (cases: ${ALL_CASES[*]})"
  done
  mkdir -p "$LOGS"
  if [[ -n "$(service_pid attempts-api)" ]] || _srv_pid_alive "$(_srv_read_pid "$LOCAL_PIDS/postgres.pid")"; then was_running=1; fi

  rm -f "$LOGS"/*.log
  for case in "${cases[@]}"; do
    CASE_NO=$((CASE_NO + 1))
    say "── $case"
    case "$case" in
      unattended) case_unattended ;;
      watchdog-*) case_watchdog "${case#watchdog-}" ;;
      supervisor) case_kill_then_up supervisor supervisor ;;
      replica) case_replica ;;
      *+*) case_kill_then_up "$case" "${case%%+*}" "${case#*+}" ;;
      *) case_kill_then_up "$case" "$case" ;;
    esac
  done

  if ((was_running == 0)); then
    say "stopping the stack (it was not running before)"
    "$HERE/down.sh" >"$LOGS/down.log" 2>&1 || warn "down.sh failed (log $(rel "$LOGS/down.log"))"
  fi
  printf '\n'
  printf '%s\n' "${RESULTS[@]}"
  return "$FAILED"
}

main "$@"
