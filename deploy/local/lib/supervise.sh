#!/usr/bin/env bash
# Keeps one service running; deploy/local/up.sh starts each of the four services through it.
#
#   supervise.sh NAME PID_DIR -- COMMAND [ARGS...]
#
# Runs COMMAND as its child and writes the child's pid to PID_DIR/NAME.pid (so `kill -9 $(cat .local/pids/NAME.pid)`
# hits the service itself, as an operator expects), its own pid to PID_DIR/NAME.supervisor.pid and its restart count
# and the last exit to PID_DIR/NAME.supervisor.status. When the child exits, the same rule as systemd's
# Restart=on-failure (deploy/systemd) decides:
#   - exit code 0, or killed by HUP, INT, TERM or PIPE (a stop, e.g. `kill $(cat .local/pids/NAME.pid)`): the loop
#     ends; deploy/local/up.sh starts the service again;
#   - anything else (70 = the bus watchdog's "restart me", a crash, a SIGKILL): the child is started again after a
#     backoff of SUPERVISE_BACKOFF_MIN_S (1 s), doubling up to SUPERVISE_BACKOFF_MAX_S (30 s), back to the minimum after
#     a run of SUPERVISE_HEALTHY_RUN_S (60 s). It never gives up: a broken world is waited out, not given up on.
# TERM to this loop stops the child (TERM, then waits for it however long it drains) and ends the loop: that is how
# down.sh stops a service. USR1 cuts a backoff short (up.sh sends it, so a single up.sh run does not wait 30 s).
# The child gets TERM if this loop dies (PR_SET_PDEATHSIG), so a service never runs unsupervised. Log lines are JSON in
# the services' own console format, on this loop's stdout (the service's log).
set -euo pipefail

usage() {
  echo "usage: $0 NAME PID_DIR -- COMMAND [ARGS...]" >&2
  exit 2
}
[[ $# -ge 4 && "$3" == -- ]] || usage
NAME="$1" PID_DIR="$2"
shift 3

BACKOFF_MIN_S="${SUPERVISE_BACKOFF_MIN_S:-1}"
BACKOFF_MAX_S="${SUPERVISE_BACKOFF_MAX_S:-30}"
HEALTHY_RUN_S="${SUPERVISE_HEALTHY_RUN_S:-60}"
for v in BACKOFF_MIN_S BACKOFF_MAX_S HEALTHY_RUN_S; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -gt 0 ]] || { echo "$0: SUPERVISE_$v must be a positive number of seconds" >&2; exit 2; }
done

CHILD_PID_FILE="$PID_DIR/$NAME.pid"
SELF_PID_FILE="$PID_DIR/$NAME.supervisor.pid"
STATUS_FILE="$PID_DIR/$NAME.supervisor.status"

child="" sleeper="" stopping=0 restarts=0 last_exit="" last_exit_at=""

log() {
  local level="$1" message="$2"
  # The services' own line format (compact JSON, CLEF). Messages are ours (no quotes or backslashes), so plain printf
  # makes valid JSON.
  printf '{"@t":"%s","@l":"%s","@m":"%s","SourceContext":"supervise","service":"%s","SupervisorPid":%d,"Restarts":%d}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$level" "$NAME: $message" "$NAME" "$$" "$restarts"
}

# Written to a temporary file and renamed, so a reader never sees half a file.
write_file() {
  local file="$1" tmp="$1.tmp.$$"
  shift
  printf '%s\n' "$@" >"$tmp"
  mv -f "$tmp" "$file"
}

write_status() {
  write_file "$STATUS_FILE" "supervisor_pid=$$" "restarts=$restarts" "last_exit=$last_exit" "last_exit_at=$last_exit_at"
}

# Removes FILE only while it still names PID (a newer supervisor may own it already).
remove_if_names() {
  if [[ -f "$1" && "$(head -n 1 "$1" 2>/dev/null)" == "$2" ]]; then rm -f "$1"; fi
}

on_term() {
  stopping=1
  if [[ -n "$child" ]]; then kill -TERM "$child" 2>/dev/null || true; fi
  if [[ -n "$sleeper" ]]; then kill "$sleeper" 2>/dev/null || true; fi
}
on_usr1() {
  if [[ -n "$sleeper" ]]; then kill "$sleeper" 2>/dev/null || true; fi
}
on_exit() {
  if [[ -n "$child" ]]; then remove_if_names "$CHILD_PID_FILE" "$child"; fi
  remove_if_names "$SELF_PID_FILE" "$$"
}
trap on_term TERM
trap on_usr1 USR1
trap on_exit EXIT

# What an exit code means, for the log.
describe() {
  if (($1 == 70)); then
    echo "code 70 (the bus watchdog asks for a new process)"
  elif (($1 > 128 && $1 < 128 + 65)); then
    echo "signal $(kill -l "$(($1 - 128))" 2>/dev/null || echo "$(($1 - 128))")"
  else
    echo "code $1"
  fi
}

# systemd's Restart=on-failure: a clean exit code or one of the clean signals is a stop, not a failure.
clean_exit() {
  case "$1" in 0 | 129 | 130 | 141 | 143) return 0 ;; *) return 1 ;; esac
}

deathsig=()
if command -v setpriv >/dev/null && setpriv --help 2>&1 | grep -q -- --pdeathsig; then
  deathsig=(setpriv --pdeathsig TERM --)
fi

mkdir -p "$PID_DIR"
write_file "$SELF_PID_FILE" "$$"
write_status
delay="$BACKOFF_MIN_S"

while ((!stopping)); do
  started="$(date +%s)"
  "${deathsig[@]}" "$@" &
  child=$!
  write_file "$CHILD_PID_FILE" "$child"
  if ((stopping)); then kill -TERM "$child" 2>/dev/null || true; fi
  log Information "started pid $child"

  # A trapped signal interrupts `wait` (status > 128) while the child still runs: wait again.
  while :; do
    rc=0
    wait "$child" 2>/dev/null || rc=$?
    if ((rc > 128)) && kill -0 "$child" 2>/dev/null; then continue; fi
    break
  done
  ran=$(($(date +%s) - started))
  remove_if_names "$CHILD_PID_FILE" "$child"
  child=""
  last_exit="$rc" last_exit_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

  if ((stopping)); then
    write_status
    log Information "stopped (exit $(describe "$rc")) after ${ran} s"
    break
  fi
  if clean_exit "$rc"; then
    write_status
    log Information "exited with $(describe "$rc") after ${ran} s: a stop, not restarted (deploy/local/up.sh starts it again)"
    break
  fi

  if ((ran >= HEALTHY_RUN_S)); then delay="$BACKOFF_MIN_S"; fi
  restarts=$((restarts + 1))
  write_status
  log Warning "exited with $(describe "$rc") after ${ran} s; restarting in ${delay} s (restart $restarts)"
  sleep "$delay" &
  sleeper=$!
  wait "$sleeper" 2>/dev/null || true
  sleeper=""
  if ((stopping)); then log Information "stopped while waiting to restart"; fi
  delay=$((delay * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : delay * 2))
done
