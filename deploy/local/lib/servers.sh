# shellcheck shell=bash
# Disposable PostgreSQL 15 and RabbitMQ 3.10 servers for the local runner and the test runner.
# Source this file; every function works under `set -euo pipefail`.
#
#   ensure_server_packages
#   pg_start DATA_DIR PORT SUPERUSER_PASSWORD LOG_FILE PID_FILE [durable|fast]
#   pg_stop DATA_DIR PID_FILE
#   pg_kill DATA_DIR PID_FILE
#   rabbit_start BASE_DIR AMQP_PORT MGMT_PORT NODENAME USER PASSWORD LOG_FILE PID_FILE
#   rabbit_stop BASE_DIR PID_FILE
#   rabbit_kill BASE_DIR PID_FILE
#   free_port [COUNT]
#   wait_for_tcp HOST PORT TIMEOUT_S
#
# Both servers bind to 127.0.0.1 only and keep all their state under the folders they are given. PID_FILE names the
# server proper once it runs (PostgreSQL's postmaster, RabbitMQ's Erlang VM), so KILL of that pid is a crash and TERM a
# clean stop. Each *_start is idempotent and recovers a server that was KILLed: PostgreSQL's stale lock is removed once
# its old backends are gone, a RabbitMQ node still booting is waited for, a dead one is started again on its data.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

_srv_log() { printf '[servers] %s\n' "$*" >&2; }
_srv_die() { printf '[servers] ERROR: %s\n' "$*" >&2; return 1; }

# Prints the last lines of each existing file, for error reports.
_srv_tail() {
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 30 "$f" >&2 || true
  done
}

# True if PID names a running process (zombies count as gone).
_srv_pid_alive() {
  local stat
  [[ "$1" =~ ^[0-9]+$ ]] || return 1
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$stat" && "$stat" != Z* ]]
}

# Prints the pid on the first line of a pid file, or nothing.
_srv_read_pid() {
  local pid=""
  if [[ -s "$1" ]]; then pid="$(head -n 1 "$1" | tr -dc '0-9')"; fi
  if [[ -n "$pid" ]]; then echo "$pid"; fi
}

_srv_now() { date +%s; }

# ---------------------------------------------------------------------------------------------
# Packages

_srv_apt_updated=0

_srv_apt() {
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || _srv_die "need root (or sudo) to run apt-get $*" || return 1
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

_srv_apt_install() {
  if [[ $_srv_apt_updated -eq 0 ]]; then
    _srv_log "apt-get update"
    _srv_apt update -qq
    _srv_apt_updated=1
  fi
  _srv_log "installing: $*"
  # --no-upgrade: never replace the binaries of servers that may be running on this machine.
  _srv_apt install -y -qq --no-install-recommends --no-upgrade "$@"
}

# Installs what is missing. A policy-rc.d that denies every start is put in place for the duration
# (unless one exists already) so the packages' system-wide services are never started by us.
ensure_server_packages() {
  local missing=()
  [[ -x "$PG_BIN/initdb" ]] || missing+=(postgresql-15)
  dpkg -s rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
  command -v curl >/dev/null || missing+=(curl)
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi

  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=1
  fi
  local rc=0
  _srv_apt_install "${missing[@]}" || rc=$?
  if [[ $added_policy -eq 1 ]]; then rm -f "$policy"; fi
  [[ $rc -eq 0 ]] || _srv_die "apt-get install ${missing[*]} failed (exit $rc)"
}

# ---------------------------------------------------------------------------------------------
# Ports

# Prints COUNT (default 1) distinct TCP ports that are free on 127.0.0.1, one per line.
free_port() {
  local count="${1:-1}"
  if command -v python3 >/dev/null; then
    python3 - "$count" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
PY
    return
  fi
  # Fallback: random ports in a range below the usual ephemeral range that nothing answers on.
  local picked=() port
  while [[ ${#picked[@]} -lt $count ]]; do
    port=$((20000 + RANDOM % 12000))
    [[ " ${picked[*]} " == *" $port "* ]] && continue
    _srv_tcp_open 127.0.0.1 "$port" && continue
    picked+=("$port")
  done
  printf '%s\n' "${picked[@]}"
}

_srv_tcp_open() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Waits until HOST:PORT accepts TCP connections; fails after TIMEOUT_S seconds.
wait_for_tcp() {
  local host="$1" port="$2" timeout_s="$3"
  local deadline=$(( $(_srv_now) + timeout_s ))
  until _srv_tcp_open "$host" "$port"; do
    if (( $(_srv_now) >= deadline )); then
      _srv_die "nothing accepted connections on $host:$port within ${timeout_s}s"
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

# Runs a command as the postgres OS user when we are root (PostgreSQL refuses to run as root).
_pg_as_owner() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

_pg_owner_chown() {
  if [[ $EUID -eq 0 ]]; then chown postgres:postgres "$@"; fi
}

pg_start() {
  local data_dir="$1" port="$2" password="$3" log_file="$4" pid_file="$5" mode="${6:-durable}"
  local home socket_dir
  data_dir="$(realpath -m "$data_dir")"
  home="$(dirname "$data_dir")"
  socket_dir="$home/socket"
  case "$mode" in durable|fast) ;; *) _srv_die "pg_start: mode must be durable or fast, not '$mode'"; return 1 ;; esac

  if _srv_pid_alive "$(_srv_read_pid "$pid_file")" && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    _srv_log "PostgreSQL already running on 127.0.0.1:$port (pid $(_srv_read_pid "$pid_file"))"
    return 0
  fi
  # A postmaster of this data folder that is alive but not ready is recovering or starting: wait for it.
  local running
  running="$(_pg_postmaster_of "$data_dir")"
  if [[ -n "$running" ]]; then
    _srv_log "PostgreSQL (pid $running) is starting or recovering in $data_dir: waiting for it"
    if _pg_wait_ready "$port" 120; then
      echo "$running" >"$pid_file"
      return 0
    fi
    _srv_die "PostgreSQL (pid $running) in $data_dir did not become ready on 127.0.0.1:$port"
    return 1
  fi
  _pg_clear_stale_lock "$data_dir" || return 1

  if _srv_tcp_open 127.0.0.1 "$port"; then
    _srv_die "cannot start PostgreSQL: port $port on 127.0.0.1 is already in use"
    return 1
  fi

  mkdir -p "$data_dir" "$socket_dir" "$(dirname "$log_file")" "$(dirname "$pid_file")"
  chmod 700 "$home" "$data_dir"
  _pg_owner_chown "$home" "$data_dir" "$socket_dir"
  touch "$log_file"
  _pg_owner_chown "$log_file"
  _pg_as_owner test -w "$data_dir" -a -w "$log_file" ||
    _srv_die "the postgres OS user cannot reach $data_dir or $log_file: make the parent folders traversable (chmod o+x)" ||
    return 1

  if [[ ! -f "$data_dir/PG_VERSION" ]]; then
    _pg_initdb "$data_dir" "$password" "$log_file" || return 1
  fi

  local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$socket_dir' -c max_connections=300"
  if [[ "$mode" == fast ]]; then
    # Test data is disposable: trade crash safety for speed.
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  if ! _pg_as_owner "$PG_BIN/pg_ctl" start -D "$data_dir" -l "$log_file" -w -t 60 -o "$opts" >/dev/null ||
    ! _pg_wait_ready "$port" 60; then
    _srv_tail "$log_file"
    pg_stop "$data_dir" "$pid_file" || true
    _srv_die "PostgreSQL did not start on 127.0.0.1:$port (log: $log_file)"
    return 1
  fi
  _srv_read_pid "$data_dir/postmaster.pid" >"$pid_file"
}

# A hot standby of the PostgreSQL on PRIMARY_PORT: a base backup that streams the WAL (-X stream) through its own
# replication slot and writes standby.signal (-R), then started like any server (reads only; a write fails with
# SQLSTATE 25006). A standby that exists already is only started.
pg_start_standby() {
  local primary_port="$1" password="$2" data_dir="$3" port="$4" log_file="$5" pid_file="$6" slot="${7:-standby}" mode="${8:-fast}"
  data_dir="$(realpath -m "$data_dir")"
  if [[ ! -f "$data_dir/PG_VERSION" ]]; then
    local home pwfile
    home="$(dirname "$data_dir")"
    mkdir -p "$home" "$(dirname "$log_file")"
    chmod 700 "$home"
    _pg_owner_chown "$home"
    touch "$log_file"
    _pg_owner_chown "$log_file"
    # The password never shows in `ps` or in the standby's settings: libpq and the WAL receiver read this file.
    pwfile="$home/.pgpass"
    (umask 077 && printf '127.0.0.1:%s:*:postgres:%s\n' "$primary_port" "$password" >"$pwfile")
    _pg_owner_chown "$pwfile"
    if ! _pg_as_owner env PGPASSFILE="$pwfile" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
      -d "passfile=$pwfile" -D "$data_dir" -R -X stream -C -S "$slot" --checkpoint=fast >>"$log_file" 2>&1; then
      _srv_tail "$log_file"
      _srv_die "pg_basebackup from 127.0.0.1:$primary_port failed (log: $log_file)"
      return 1
    fi
  fi
  pg_start "$data_dir" "$port" "$password" "$log_file" "$pid_file" "$mode"
}

_pg_initdb() {
  local data_dir="$1" password="$2" log_file="$3"
  local pwfile
  pwfile="$(dirname "$data_dir")/.pwfile"
  (umask 077 && printf '%s\n' "$password" >"$pwfile")
  _pg_owner_chown "$pwfile"
  local rc=0
  _pg_as_owner "$PG_BIN/initdb" -D "$data_dir" -U postgres --pwfile="$pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C --no-instructions >>"$log_file" 2>&1 || rc=$?
  rm -f "$pwfile"
  if [[ $rc -ne 0 ]]; then
    _srv_tail "$log_file"
    _srv_die "initdb failed for $data_dir (exit $rc)"
    return 1
  fi
}

_pg_wait_ready() {
  local port="$1" timeout_s="$2"
  local deadline=$(( $(_srv_now) + timeout_s ))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; do
    if (( $(_srv_now) >= deadline )); then
      _srv_log "PostgreSQL on 127.0.0.1:$port not ready within ${timeout_s}s"
      return 1
    fi
    sleep 0.2
  done
}

# Pids of the live processes working in DATA_DIR: a PostgreSQL server's postmaster and every backend run there.
_pg_processes_in() {
  local dir="$1" proc
  for proc in /proc/[0-9]*; do
    if [[ "$(readlink "$proc/cwd" 2>/dev/null)" == "$dir" ]]; then echo "${proc#/proc/}"; fi
  done
}

# The pid of the live postmaster of DATA_DIR, or nothing.
_pg_postmaster_of() {
  local dir="$1" pid
  pid="$(_srv_read_pid "$dir/postmaster.pid")"
  if _srv_pid_alive "$pid" && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$dir" ]]; then echo "$pid"; fi
}

# After a SIGKILL the postmaster can linger as a zombie (this machine's init reaps slowly), and PostgreSQL then takes
# its lock file for a running server. The lock is provably stale once no live process works in the data folder (the
# old backends exit by themselves when they notice the postmaster is gone): only then is it removed.
_pg_clear_stale_lock() {
  local dir="$1" lock="$1/postmaster.pid" deadline left
  [[ -f "$lock" ]] || return 0
  deadline=$(( $(_srv_now) + 60 ))
  left="$(_pg_processes_in "$dir")"
  while [[ -n "$left" ]]; do
    if (( $(_srv_now) >= deadline )); then
      _srv_die "processes of a previous PostgreSQL still run in $dir: $(echo "$left" | tr '\n' ' ')"
      return 1
    fi
    sleep 0.2
    left="$(_pg_processes_in "$dir")"
  done
  _srv_log "removing the stale locks of a PostgreSQL that is gone (pid $(_srv_read_pid "$lock"))"
  # The socket folder beside the data folder is this server's alone; its socket lock names the same dead pid.
  rm -f "$lock" "$(dirname "$dir")"/socket/.s.PGSQL.*.lock
}

# A crash: SIGKILL to the postmaster only, as the OOM killer would do; its backends exit on their own.
pg_kill() {
  local data_dir="$1" pid_file="$2" pid
  data_dir="$(realpath -m "$data_dir")"
  pid="$(_pg_postmaster_of "$data_dir")"
  if [[ -n "$pid" ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    while _srv_pid_alive "$pid"; do sleep 0.05; done
  fi
  rm -f "$pid_file"
}

pg_stop() {
  local data_dir="$1" pid_file="$2"
  data_dir="$(realpath -m "$data_dir")"
  if [[ -n "$(_pg_postmaster_of "$data_dir")" ]]; then
    _pg_as_owner "$PG_BIN/pg_ctl" stop -D "$data_dir" -m fast -w -t 60 >/dev/null ||
      _srv_die "pg_ctl stop failed for $data_dir" || return 1
  fi
  rm -f "$pid_file"
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ

# The package's own start script; /usr/sbin/rabbitmq-server switches to the rabbitmq user and
# drops our environment.
_rabbit_sbin() {
  local server
  server="$(dpkg -L rabbitmq-server 2>/dev/null | grep '^/usr/lib/rabbitmq/.*/sbin/rabbitmq-server$' | head -n 1)"
  [[ -x "$server" ]] || _srv_die "rabbitmq-server's lib/.../sbin/rabbitmq-server not found (is the package installed?)" || return 1
  dirname "$server"
}

_rabbit_port_free() { ! _srv_tcp_open 127.0.0.1 "$1"; }

# Prints "DIST_PORT EPMD_PORT", reusing the ones recorded in BASE_DIR so a restarted node keeps them.
_rabbit_aux_ports() {
  local base="$1" amqp="$2"
  local ports_file="$base/ports" dist epmd
  if [[ -s "$ports_file" ]]; then
    cat "$ports_file"
    return
  fi
  dist=$((amqp + 10000))
  if (( dist > 65535 )) || ! _rabbit_port_free "$dist"; then
    dist="$(free_port 1)"
  fi
  # A private epmd per node (per cluster: RABBIT_CLUSTER_EPMD_PORT), so concurrent runs do not share (or kill) each
  # other's port mapper; a cluster's nodes find each other through theirs.
  epmd="${RABBIT_CLUSTER_EPMD_PORT:-$(free_port 1)}"
  while [[ "$epmd" == "$dist" ]]; do dist="$(free_port 1)"; done
  echo "$dist $epmd" | tee "$ports_file"
}

_rabbit_write_config() {
  local base="$1" amqp="$2" mgmt="$3" user="$4" password="$5"
  (umask 077 && cat >"$base/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$amqp
management.tcp.ip = 127.0.0.1
management.tcp.port = $mgmt
default_vhost = /
default_user = $user
default_pass = $password
default_user_tags.administrator = true
loopback_users = none
EOF
  )
  # A cluster node (RABBIT_CLUSTER_NODES="c1 c2 c3", RABBIT_CLUSTER_COOKIE): classic peer discovery, so nodes booted
  # together form one cluster, and a restarted node rejoins it; the shared cookie lets them talk.
  if [[ -n "${RABBIT_CLUSTER_NODES:-}" ]]; then
    local i=1 peer
    {
      echo "cluster_formation.peer_discovery_backend = classic_config"
      for peer in $RABBIT_CLUSTER_NODES; do
        echo "cluster_formation.classic_config.nodes.$i = $peer@localhost"
        i=$((i + 1))
      done
    } >>"$base/rabbitmq.conf"
    rm -f "$base/.erlang.cookie"
    (umask 077 && printf '%s' "$RABBIT_CLUSTER_COOKIE" >"$base/.erlang.cookie")
    chmod 400 "$base/.erlang.cookie"
  fi
  echo '[rabbitmq_management].' >"$base/enabled_plugins"
  : >"$base/rabbitmq-env.conf"
}

# env.sh exports everything the server and the CLI tools (rabbitmqctl) need to find this node.
_rabbit_write_env() {
  local base="$1" amqp="$2" node="$3" dist="$4" epmd="$5" sbin="$6"
  local -a vars=(
    HOME="$base"
    RABBITMQ_NODENAME="$node@localhost"
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
    RABBITMQ_NODE_PORT="$amqp"
    RABBITMQ_DIST_PORT="$dist"
    RABBITMQ_MNESIA_BASE="$base/mnesia"
    RABBITMQ_LOG_BASE="$base/log"
    RABBITMQ_PID_FILE="$base/node.pid"
    RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf"
    RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config"
    RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins"
    RABBITMQ_CONF_ENV_FILE="$base/rabbitmq-env.conf"
    # A cluster node notices a lost peer within about 10 s (net_ticktime; Erlang's default is 60).
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}${RABBIT_CLUSTER_NODES:+ -kernel net_ticktime 10}"
    ERL_CRASH_DUMP="$base/erl_crash.dump"
    ERL_EPMD_ADDRESS=127.0.0.1
    ERL_EPMD_PORT="$epmd"
    RABBITMQ_SBIN="$sbin"
  )
  local kv
  {
    echo "# Generated by deploy/local/lib/servers.sh: source in a subshell to run rabbitmqctl on this node."
    for kv in "${vars[@]}"; do
      printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
    done
    # shellcheck disable=SC2016
    echo 'export PATH="$RABBITMQ_SBIN:$PATH"'
  } >"$base/env.sh"
}

# curl reads the credentials from stdin so the password does not show in `ps`.
_rabbit_mgmt_ok() {
  local mgmt="$1" user="$2" password="$3"
  printf 'user = "%s:%s"\n' "$user" "$password" |
    curl -fsS -o /dev/null --max-time 5 -K - "http://127.0.0.1:$mgmt/api/overview" 2>/dev/null
}

rabbit_start() {
  local base="$1" amqp="$2" mgmt="$3" node="$4" user="$5" password="$6" log_file="$7" pid_file="$8"
  base="$(realpath -m "$base")"

  # A node of this folder that still runs (its launcher may be gone: a KILLed launcher leaves the VM running).
  local running
  running="$(_rabbit_beam_pid "$base")"
  running="${running:-$(_rabbit_launcher_pid "$base" "$pid_file")}"
  if [[ -n "$running" ]]; then
    if _srv_tcp_open 127.0.0.1 "$amqp"; then
      _rabbit_record_pids "$base" "$pid_file"
      _srv_log "RabbitMQ already running on 127.0.0.1:$amqp (pid $(_srv_read_pid "$pid_file"))"
      return 0
    fi
    # Booting (or recovering) and not listening yet: wait for it; one that never gets there is stopped and started anew.
    _srv_log "RabbitMQ (pid $running) in $base is starting: waiting for it"
    if _rabbit_wait_ready "$amqp" "$mgmt" "$user" "$password" "$running" 90 "$log_file" "$base/log/$node@localhost.log" 2>/dev/null; then
      _rabbit_record_pids "$base" "$pid_file"
      _srv_log "RabbitMQ ready on 127.0.0.1:$amqp (pid $(_srv_read_pid "$pid_file"))"
      return 0
    fi
    _srv_log "RabbitMQ (pid $running) did not become ready: stopping it and starting the node again"
    rabbit_stop "$base" "$pid_file"
  fi

  local port
  for port in "$amqp" "$mgmt"; do
    if ! _rabbit_port_free "$port"; then
      _srv_die "cannot start RabbitMQ: port $port on 127.0.0.1 is already in use"
      return 1
    fi
  done

  local sbin dist epmd
  sbin="$(_rabbit_sbin)" || return 1
  mkdir -p "$base/mnesia" "$base/log" "$(dirname "$log_file")" "$(dirname "$pid_file")"
  chmod 700 "$base"
  read -r dist epmd < <(_rabbit_aux_ports "$base" "$amqp")
  _rabbit_write_config "$base" "$amqp" "$mgmt" "$user" "$password"
  _rabbit_write_env "$base" "$amqp" "$node" "$dist" "$epmd" "$sbin"
  # A KILLed node leaves its pid file behind; RabbitMQ writes it anew, and nothing may take the old pid for ours.
  rm -f "$base/node.pid"

  # We start epmd ourselves, detached from our stdout/stderr, so that no daemon of this node ever
  # holds the caller's pipes open (`tests/run.sh | cat` must finish). After a crash the old one is still there and
  # this start is a no-op; the dead node's registration went with its connection.
  (
    # shellcheck source=/dev/null
    . "$base/env.sh"
    epmd -daemon -address 127.0.0.1 -port "$ERL_EPMD_PORT"
  ) </dev/null >/dev/null 2>&1 || true

  local launcher
  (
    # shellcheck source=/dev/null
    . "$base/env.sh"
    cd "$base" || exit
    exec setsid -w "$sbin/rabbitmq-server"
  ) </dev/null >>"$log_file" 2>&1 &
  launcher=$!
  # Recorded at once so that a start interrupted by Ctrl-C can still be stopped.
  echo "$launcher" >"$base/launcher.pid"
  echo "$launcher" >"$pid_file"

  local node_log="$base/log/$node@localhost.log"
  if ! _rabbit_wait_ready "$amqp" "$mgmt" "$user" "$password" "$launcher" 90 "$log_file" "$node_log"; then
    rabbit_stop "$base" "$pid_file"
    return 1
  fi
  _rabbit_record_pids "$base" "$pid_file"
}

# Once the node runs, PID_FILE names its Erlang VM (the broker itself, as postgres.pid names the postmaster), so that
# `kill -9 $(cat PID_FILE)` crashes the broker and `kill $(cat PID_FILE)` stops it cleanly; BASE_DIR/launcher.pid keeps
# the server script that started it.
_rabbit_record_pids() {
  local base="$1" pid_file="$2" beam
  beam="$(_rabbit_beam_pid "$base")"
  if [[ -n "$beam" ]]; then echo "$beam" >"$pid_file"; fi
}

_rabbit_wait_ready() {
  local amqp="$1" mgmt="$2" user="$3" password="$4" launcher="$5" timeout_s="$6" log_file="$7" node_log="$8"
  local deadline=$(( $(_srv_now) + timeout_s ))
  until _srv_tcp_open 127.0.0.1 "$amqp" && _rabbit_mgmt_ok "$mgmt" "$user" "$password"; do
    if ! _srv_pid_alive "$launcher"; then
      _srv_tail "$log_file" "$node_log"
      _srv_die "RabbitMQ exited during start-up (log: $log_file, $node_log)"
      return 1
    fi
    if (( $(_srv_now) >= deadline )); then
      _srv_tail "$log_file" "$node_log"
      _srv_die "RabbitMQ not ready on 127.0.0.1:$amqp / management :$mgmt within ${timeout_s}s"
      return 1
    fi
    sleep 0.5
  done
}

# The launcher is the server script (leader of the node's own session: it waits for the Erlang VM, whose pid RabbitMQ
# writes to BASE_DIR/node.pid). Both helpers print a pid only if that process is still what we started, so a stale pid
# file never makes us signal a stranger (this machine runs other RabbitMQ nodes: the VM must name our folder).
_rabbit_launcher_pid() {
  local base="$1" pid_file="$2" file pid
  for file in "$base/launcher.pid" "$pid_file"; do
    pid="$(_srv_read_pid "$file")"
    if _srv_pid_alive "$pid" && [[ "$(ps -o args= -p "$pid" 2>/dev/null)" == *rabbitmq-server* ]]; then
      echo "$pid"
      return 0
    fi
  done
}

_rabbit_beam_pid() {
  local base="$1" pid args
  pid="$(_srv_read_pid "$base/node.pid")"
  _srv_pid_alive "$pid" && [[ "$(ps -o comm= -p "$pid" 2>/dev/null)" == beam* ]] || return 0
  args="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 0
  if [[ "$args" == *" -home $base "* && "$args" == *" -s rabbit boot"* ]]; then echo "$pid"; fi
}

rabbit_stop() {
  local base="$1" pid_file="$2"
  base="$(realpath -m "$base")"
  local launcher beam pid
  launcher="$(_rabbit_launcher_pid "$base" "$pid_file")"
  beam="$(_rabbit_beam_pid "$base")"

  if [[ -n "$beam" && -f "$base/env.sh" ]]; then
    # `rabbitmqctl stop PID_FILE` returns once the node's OS process has exited.
    (
      # shellcheck source=/dev/null
      . "$base/env.sh"
      timeout 60 rabbitmqctl stop "$RABBITMQ_PID_FILE"
    ) </dev/null >/dev/null 2>&1 || _srv_log "rabbitmqctl stop failed; sending TERM to pid $beam"
  fi
  # The server script traps TERM and stops the VM; this also covers a node still booting.
  for pid in $beam $launcher; do
    if _srv_pid_alive "$pid"; then _srv_kill_group "$pid" 30; fi
  done
  if [[ -f "$base/env.sh" ]]; then
    # Our private epmd: it refuses to die while a node is still registered with it.
    (
      # shellcheck source=/dev/null
      . "$base/env.sh"
      epmd -port "$ERL_EPMD_PORT" -kill
    ) </dev/null >/dev/null 2>&1 || true
  fi
  rm -f "$pid_file" "$base/launcher.pid"
}

# Simulates a broker crash: KILL the node at once (no graceful shutdown); rabbit_start recovers it.
rabbit_kill() {
  local base="$1" pid_file="$2" pid
  base="$(realpath -m "$base")"
  for pid in $(_rabbit_beam_pid "$base") $(_rabbit_launcher_pid "$base" "$pid_file"); do
    _srv_signal_group KILL "$pid"
    while _srv_pid_alive "$pid"; do sleep 0.05; done
  done
  rm -f "$pid_file"
}

# Sends SIGNAL to PID and to its process group (never our own group).
_srv_signal_group() {
  local signal="$1" pid="$2" pgid own
  # A pid that is gone already (KILLed with its group a moment ago) has no group: not an error under pipefail.
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" || pgid=""
  own="$(ps -o pgid= -p $$ | tr -d ' ')" || own=""
  kill "-$signal" "$pid" 2>/dev/null || true
  if [[ -n "$pgid" && "$pgid" != "$own" ]]; then
    kill "-$signal" -- "-$pgid" 2>/dev/null || true
  fi
}

# TERM a pid and its process group, wait up to GRACE_S seconds, then KILL.
_srv_kill_group() {
  local pid="$1" grace_s="$2"
  _srv_signal_group TERM "$pid"
  local deadline=$(( $(_srv_now) + grace_s ))
  while _srv_pid_alive "$pid" && (( $(_srv_now) < deadline )); do sleep 0.5; done
  if _srv_pid_alive "$pid"; then
    _srv_log "pid $pid still alive after ${grace_s}s: KILL"
    _srv_signal_group KILL "$pid"
  fi
}
