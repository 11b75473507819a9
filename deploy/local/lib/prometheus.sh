# shellcheck shell=bash
# Prometheus for the local stack: `deploy/local/up.sh --with-prometheus` starts Debian's /usr/bin/prometheus with
# deploy/observability/prometheus.yml (and its alert rules) on 127.0.0.1:55690, data in .local/prometheus;
# deploy/local/down.sh stops it by its pid file. Source after lib/local.sh.
#
# Replicas: prometheus.yml scrapes the base ports statically and reads each consumer's further targets from
# replicas/<job>.json next to it (file_sd_configs, paths relative to the config file). Prometheus runs with
# .local/prometheus-config/prometheus.yml, a symbolic link to the repository's file (so the checked config is the one
# that runs), with alerts.yml linked beside it and replicas/<job>.json written there by up.sh: the replicas 2..N of
# that consumer. Prometheus re-reads those files when they change, without a reload.

# shellcheck source=deploy/observability/prometheus-package.sh
source "$LOCAL_REPO_ROOT/deploy/observability/prometheus-package.sh"

PROMETHEUS_BIN=/usr/bin/prometheus
PROMETHEUS_PORT=55690
PROMETHEUS_CONFIG="$LOCAL_REPO_ROOT/deploy/observability/prometheus.yml"
PROMETHEUS_RUN_DIR="$LOCAL_DIR/prometheus-config"
PROMETHEUS_RUN_CONFIG="$PROMETHEUS_RUN_DIR/prometheus.yml"
PROMETHEUS_DATA="$LOCAL_DIR/prometheus"
PROMETHEUS_LOG="$LOCAL_LOGS/prometheus.log"
PROMETHEUS_PID_FILE="$LOCAL_PIDS/prometheus.pid"

# The pid in prometheus.pid if that process is alive and is our Prometheus (never a stranger that reused the pid).
prometheus_pid() {
  local pid cmdline
  pid="$(_live_pid "$PROMETHEUS_PID_FILE")" || return 0
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 0
  if [[ "$cmdline" == "$PROMETHEUS_BIN "*" --storage.tsdb.path=$PROMETHEUS_DATA "* ]]; then echo "$pid"; fi
}

# Links the configuration and its rules into .local/prometheus-config and writes replicas/<job>.json there from the
# JOB=HOST:PORT targets given (one per service process; a job's first target is the static one in prometheus.yml).
# Each file is written whole and renamed into place, so Prometheus never reads half of one.
prometheus_write_config() {
  local target job file tmp
  mkdir -p "$PROMETHEUS_RUN_DIR/replicas"
  ln -sfn "$PROMETHEUS_CONFIG" "$PROMETHEUS_RUN_CONFIG"
  ln -sfn "$(dirname "$PROMETHEUS_CONFIG")/alerts.yml" "$PROMETHEUS_RUN_DIR/alerts.yml"
  for job in "${SCALABLE_SERVICES[@]}"; do
    file="$PROMETHEUS_RUN_DIR/replicas/$job.json"
    tmp="$file.tmp.$$"
    for target in "$@"; do
      if [[ "${target%%=*}" == "$job" ]]; then echo "${target#*=}"; fi
    done | tail -n +2 | jq -R . | jq -s 'if length == 0 then [] else [{targets: .}] end' >"$tmp"
    mv -f "$tmp" "$file"
  done
}

# Starts Prometheus unless it runs (then it re-reads its configuration: SIGHUP), and waits for /-/ready. One that runs
# with another configuration file (started by an older up.sh) is stopped and started with this one.
prometheus_start() {
  local pid deadline url="http://127.0.0.1:$PROMETHEUS_PORT"
  pid="$(prometheus_pid)"
  if [[ -n "$pid" && "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" != *" --config.file=$PROMETHEUS_RUN_CONFIG "* ]]; then
    say "Prometheus (pid $pid) runs with another configuration file: restarting it with $(rel "$PROMETHEUS_RUN_CONFIG")"
    prometheus_stop 30
    pid=""
  fi
  if [[ -n "$pid" ]]; then
    say "Prometheus already running (pid $pid), reusing it; reloading $(rel "$PROMETHEUS_RUN_CONFIG") (→ $(rel "$PROMETHEUS_CONFIG"))"
    kill -HUP "$pid"
  else
    if port_open "$PROMETHEUS_PORT"; then
      die "port $PROMETHEUS_PORT (for Prometheus) is taken by a process up.sh did not start; find it with: ss -ltnp 'sport = :$PROMETHEUS_PORT'"
    fi
    mkdir -p "$PROMETHEUS_DATA" "$LOCAL_LOGS" "$LOCAL_PIDS"
    (
      exec 9>&-
      exec setsid nohup "$PROMETHEUS_BIN" --config.file="$PROMETHEUS_RUN_CONFIG" --storage.tsdb.path="$PROMETHEUS_DATA" \
        --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" </dev/null >>"$PROMETHEUS_LOG" 2>&1
    ) &
    pid=$!
    echo "$pid" >"$PROMETHEUS_PID_FILE"
    say "Prometheus started (pid $pid, $url, log $(rel "$PROMETHEUS_LOG"))"
  fi
  deadline=$(($(date +%s) + 60))
  until curl -fsS -o /dev/null --max-time 2 "$url/-/ready" 2>/dev/null; do
    # Alive at all, not "is Prometheus": until its exec the child is still a copy of this shell.
    if ! _live_pid "$PROMETHEUS_PID_FILE" >/dev/null || (($(date +%s) >= deadline)); then
      tail -n 20 "$PROMETHEUS_LOG" >&2 || true
      die "Prometheus did not become ready on $url/-/ready (log: $(rel "$PROMETHEUS_LOG"))"
    fi
    sleep 0.3
  done
}

# Waits up to TIMEOUT_S until Prometheus scrapes exactly the JOB=HOST:PORT targets given, each one up (for every job
# named: no target missing, none left over from a larger scale); prints the targets.
prometheus_wait_targets() {
  local timeout_s="$1" deadline targets ok
  shift
  deadline=$(($(date +%s) + timeout_s))
  while :; do
    targets="$(curl -fsS --max-time 3 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/targets?state=active" 2>/dev/null)" || targets='{}'
    ok="$(jq -r '(.data.activeTargets // []) as $t
      | [$ARGS.positional[] | capture("^(?<job>[^=]+)=(?<instance>.+)$")] as $want
      | [$want | map(.job) | unique[] as $job
         | ($t | map(select(.labels.job == $job))) as $have
         | ($have | map(.labels.instance) | sort) == ($want | map(select(.job == $job) | .instance) | sort)
           and ($have | all(.health == "up"))] | all' \
      --args "$@" <<<"$targets")" || ok=false
    if [[ "$ok" == true ]] || (($(date +%s) >= deadline)); then break; fi
    sleep 1
  done
  jq -r '.data.activeTargets // [] | sort_by(.labels.job)[] | [.labels.job, .scrapeUrl, .health, .lastError] | @tsv' <<<"$targets" |
    while IFS=$'\t' read -r job scrape_url health error; do
      printf '       %-15s %-32s %-7s %s\n' "$job" "$scrape_url" "$health" "$error"
    done
  [[ "$ok" == true ]] || die "Prometheus does not scrape exactly $* within ${timeout_s}s (targets: http://127.0.0.1:$PROMETHEUS_PORT/targets)"
}

# TERM, then KILL after GRACE_S; only the process the pid file names, if it is our Prometheus.
prometheus_stop() {
  local grace_s="$1" pid deadline
  pid="$(prometheus_pid)"
  if [[ -z "$pid" ]]; then
    if [[ -e "$PROMETHEUS_PID_FILE" ]]; then say "Prometheus was not running"; fi
    rm -f "$PROMETHEUS_PID_FILE"
    return 0
  fi
  say "stopping Prometheus (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(($(date +%s) + grace_s))
  while [[ -n "$(prometheus_pid)" ]] && (($(date +%s) < deadline)); do sleep 0.2; done
  if [[ -n "$(prometheus_pid)" ]]; then
    warn "Prometheus (pid $pid) still running after ${grace_s}s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PROMETHEUS_PID_FILE"
  say "Prometheus stopped"
}
