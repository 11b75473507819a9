#!/usr/bin/env bash
# Replicas, measured (issue 14, item 6): runs 1, 2 and 3 replicas of each consumer on the local stack and reports
# drain rate, exactness, PostgreSQL deadlocks and lock waits, rollup_state per instance and the CPU split.
#   bench/replicas.sh [--counts "1 2 3"] [--rate 60] [--duration 45s] [--warmup 20s|0]
# For each N: deploy/local/up.sh --scale event-ingestor=N --scale aggregator=N (it builds and starts everything on a
# fresh machine), then tools/loadgen/run.sh --rate R --duration D --bare none, which checks exactness and reports
# rates and CPU (before the first count, one unreported --warmup run of the load generator warms the stack, so the
# first count does not pay the JIT and first connections). Meanwhile pg_locks / pg_stat_activity are sampled every second for lock waits, and
# pg_stat_database.deadlocks of database telemetry is read before and after. The report is printed and saved as
# results/replicas-<timestamp>.md. At the end (also on failure or Ctrl-C) the stack is scaled back to 1 and
# deploy/local/down.sh stops it. Exit code 1 when a run is not exact, a deadlock happened or a step failed.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=deploy/local/lib/local.sh
source deploy/local/lib/local.sh
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

counts="1 2 3" rate=60 duration=45s warmup=20s
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --counts) counts="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "[replicas] unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in $counts; do [[ "$n" =~ ^[1-9]$ ]] || { echo "[replicas] --counts takes numbers 1-9, got: $n" >&2; exit 2; }; done

stamp="$(date -u +%Y%m%d-%H%M%S)"
work="$(mktemp -d "${TMPDIR:-/tmp}/replicas-bench.XXXXXX")"
mkdir -p results
report="results/replicas-$stamp.md"
log() { printf '[replicas %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

sampler_pid=""
started=0
failed=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$sampler_pid" ]]; then kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; fi
  if ((started)); then
    log "scaling back to 1 (deploy/local/up.sh --scale event-ingestor=1 --scale aggregator=1)"
    deploy/local/up.sh --scale event-ingestor=1 --scale aggregator=1 >"$work/up-final.log" 2>&1 ||
      log "WARNING: scaling back to 1 failed (see $work/up-final.log); stopping anyway"
    log "stopping the stack (deploy/local/down.sh)"
    deploy/local/down.sh >"$work/down.log" 2>&1 || log "WARNING: down.sh failed (see $work/down.log)"
  fi
  log "logs of this run: $work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql_su() {
  PGPASSWORD="$PG_SUPERUSER_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_SUPERUSER" -d telemetry \
    -X -q -t -A -F '|' -v ON_ERROR_STOP=1 -c "$1"
}
deadlocks() { psql_su "SELECT deadlocks FROM pg_stat_database WHERE datname = 'telemetry'"; }
rollup_state() { psql_su "SELECT instance, events_applied FROM rollup_state" | LC_ALL=C sort; }

# Every second: the number of ungranted locks (any database) into "$1", and each session of database telemetry that
# waits on a lock (sample time, application name, wait event, the statement's first words) into "$1.who".
sample_locks() {
  while :; do
    psql_su "SELECT count(*) FROM pg_locks WHERE NOT granted" 2>/dev/null >>"$1" || true
    psql_su "SELECT extract(epoch FROM now())::bigint, application_name, wait_event,
                    left(regexp_replace(query, '\s+', ' ', 'g'), 60)
               FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'telemetry'" 2>/dev/null >>"$1.who" || true
    sleep 1
  done
}

# A row of the load generator's Markdown report whose first cell starts with $2: the first number of cell $3.
report_cell() {
  awk -F'|' -v key="$2" -v col="$3" '
    { c = $2; sub(/^ +/, "", c) }
    index(c, key) == 1 { v = $(col + 2); gsub(/[^0-9.]/, " ", v); split(v, a, " "); print a[1]; exit }' "$1"
}
# CPU seconds of a service in the report, summed over its replicas ("aggregator, 3 replicas" when there are several).
cpu_of() {
  awk -F'|' -v s="$2" '
    /^\| CPU seconds/ { t = 1; next }
    t && !/^\|/ { exit }
    t { c = $2; gsub(/^ +| +$/, "", c); v = $3; sub(/^ +/, "", v); split(v, a, " ")
        if (c ~ ("^" s ", [0-9]+ replicas$")) sum = a[1]; else if (c == s && sum == "") one = a[1] }
    END { print (sum != "" ? sum : (one != "" ? one : "?")) }' "$1"
}

services=(postgres rabbitmq attempts-api event-ingestor aggregator stats-api loadgen)
summary_rows=()
sections=()
declare -A CPU_AT_1=()
events_at_1=""
consumer_waits_all=0

log "counts: $counts; load per count: tools/loadgen/run.sh --rate $rate --duration $duration --bare none"
log "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $counts; do
  log "N=$n: deploy/local/up.sh --scale event-ingestor=$n --scale aggregator=$n"
  started=1
  t0=$SECONDS
  if ! deploy/local/up.sh --scale "event-ingestor=$n" --scale "aggregator=$n" >"$work/up-$n.log" 2>&1; then
    log "ERROR: up.sh failed for N=$n; last lines of $work/up-$n.log:"
    tail -n 20 "$work/up-$n.log" >&2
    exit 1
  fi
  log "N=$n: stack up in $((SECONDS - t0)) s ($(find "$LOCAL_PIDS" -maxdepth 1 \( -name 'event-ingestor*.pid' -o -name 'aggregator*.pid' \) ! -name '*supervisor*' | wc -l) consumer processes)"
  load_credentials
  if [[ "$warmup" != 0 && -z "$events_at_1" ]]; then
    log "N=$n: warm-up, not reported: tools/loadgen/run.sh --rate $rate --duration $warmup --bare none"
    tools/loadgen/run.sh --rate "$rate" --duration "$warmup" --bare none --results "$work" >"$work/loadgen-warmup.log" 2>&1 ||
      log "WARNING: the warm-up run exited non-zero (see $work/loadgen-warmup.log)"
  fi

  dl_before="$(deadlocks)"
  rollup_state >"$work/rollup-before-$n.txt"
  : >"$work/locks-$n.txt"
  : >"$work/locks-$n.txt.who"
  sample_locks "$work/locks-$n.txt" &
  sampler_pid=$!
  marker="$work/marker-$n"
  touch "$marker"
  log "N=$n: load generator running (progress in $work/loadgen-$n.log)"
  t0=$SECONDS
  set +e
  tools/loadgen/run.sh --rate "$rate" --duration "$duration" --bare none >"$work/loadgen-$n.log" 2>&1
  lg_rc=$?
  set -e
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
  dl_after="$(deadlocks)"
  rollup_state >"$work/rollup-after-$n.txt"
  lg_report="$(find results -maxdepth 1 -name 'loadtest-*.md' -newer "$marker" | sort | tail -n 1)"
  log "N=$n: load generator exit $lg_rc after $((SECONDS - t0)) s; report ${lg_report:-none}"
  if [[ -z "$lg_report" ]]; then
    log "ERROR: no load generator report for N=$n; last lines of $work/loadgen-$n.log:"
    tail -n 20 "$work/loadgen-$n.log" >&2
    exit 1
  fi

  samples="$(wc -l <"$work/locks-$n.txt")"
  read -r lock_nonzero lock_max < <(awk '{ if ($1 > 0) n++; if ($1 > m) m = $1 } END { print n + 0, m + 0 }' "$work/locks-$n.txt")
  read -r act_nonzero act_max < <(awk -F'|' '{ k[$1]++ } END { for (t in k) { n++; if (k[t] > m) m = k[t] }; print n + 0, m + 0 }' "$work/locks-$n.txt.who")
  dl_delta=$((dl_after - dl_before))
  missing_line="$(grep -m1 '^| answer_events rows, compared column by column' "$lg_report" || true)"
  if ((lg_rc == 0)) && [[ "$missing_line" == *"0 missing, 0 unexpected, 0 duplicate ids"* ]]; then exact=yes; else exact=no; failed=1; fi
  ((dl_delta == 0)) || failed=1
  accepted="$(report_cell "$lg_report" 'accepted events/s' 1)"
  e2e_rows="$(report_cell "$lg_report" 'end to end: submit → answer_events' 1)"
  e2e_aggs="$(report_cell "$lg_report" 'end to end: submit → aggregates' 1)"
  events="$(awk -F'|' '{ c = $2; sub(/^ +/, "", c) } index(c, "attempts / events accepted") == 1 { v = $3; split(v, a, "/"); gsub(/[^0-9]/, "", a[2]); print a[2]; exit }' "$lg_report")"
  caught="$(report_cell "$lg_report" 'aggregates caught up after the last submit' 1)"
  phase_s="$(grep -m1 '^| CPU seconds' "$lg_report" | sed -n 's/.*phase 1 (\([0-9]*\) s).*/\1/p')"
  declare -A cpu=()
  cpu_total=0
  for s in "${services[@]}"; do
    cpu[$s]="$(cpu_of "$lg_report" "$s")"
    [[ "${cpu[$s]}" == "?" || "$s" == loadgen ]] || cpu_total=$((cpu_total + ${cpu[$s]}))
  done
  if [[ -z "$events_at_1" ]]; then
    events_at_1="$events"
    for s in "${services[@]}"; do CPU_AT_1[$s]="${cpu[$s]}"; done
  fi

  rollup_table="$(LC_ALL=C join -t '|' -a 2 -e 0 -o 0,1.2,2.2 "$work/rollup-before-$n.txt" "$work/rollup-after-$n.txt" |
    awk -F'|' '{ printf "| %s | %s | %s | %d |\n", $1, $2, $3, $3 - $2 }')"
  applied_here="$(LC_ALL=C join -t '|' -a 2 -e 0 -o 0,1.2,2.2 "$work/rollup-before-$n.txt" "$work/rollup-after-$n.txt" |
    awk -F'|' '$1 ~ /^aggregator/ && $3 > $2 { k++ } END { print k + 0 }')"

  consumer_waits="$(awk -F'|' '$2 ~ /^(event-ingestor|aggregator)/ { t[$1] = 1 } END { print length(t) }' "$work/locks-$n.txt.who")"
  api_waits="$(awk -F'|' '$2 !~ /^(event-ingestor|aggregator)/ { t[$1] = 1 } END { print length(t) }' "$work/locks-$n.txt.who")"
  consumer_waits_all=$((consumer_waits_all + consumer_waits))
  who_rows="$(cut -d'|' -f2- "$work/locks-$n.txt.who" | sort | uniq -c | sort -rn | head -n 8 |
    awk '{ c = $1; sub(/^ *[0-9]+ /, ""); split($0, f, "|"); printf "| %s | %s | `%s` | %d |\n", f[1], f[2], f[3], c }')"
  [[ -n "$who_rows" ]] || who_rows="| (none) | | | 0 |"

  cpu_rows=""
  for s in "${services[@]}"; do
    label="$s"
    [[ "$s" == event-ingestor || "$s" == aggregator ]] && ((n > 1)) && label="$s ×$n"
    per_event="?"
    [[ "${cpu[$s]}" == "?" || -z "$events" || "$events" == 0 ]] || per_event="$(awk -v c="${cpu[$s]}" -v e="$events" 'BEGIN { printf "%.3f", 1000 * c / e }')"
    cpu_rows+="| $label | ${cpu[$s]} | $per_event |"$'\n'
  done

  sections+=("$(cat <<EOF
### N = $n: event-ingestor ×$n, aggregator ×$n

Load generator report: [\`$lg_report\`]($(basename "$lg_report")) (exit code $lg_rc).

| measurement | N = $n |
|---|---:|
| exact (answer_events row for row, every aggregate key for key, stats API) | **$exact** |
| events accepted in the phase | ${events:-?} |
| accepted events/s | ${accepted:-?} |
| end to end: submit → answer_events, events/s | ${e2e_rows:-?} |
| end to end: submit → aggregates, events/s | ${e2e_aggs:-?} |
| aggregates caught up after the last submit, s | ${caught:-?} |
| \`pg_stat_database.deadlocks\` (telemetry), before → after | $dl_before → $dl_after (**Δ $dl_delta**) |
| lock-wait samples, 1 per second: \`pg_locks WHERE NOT granted\` — samples > 0 / max | $lock_nonzero of $samples / $lock_max |
| lock-wait samples: \`pg_stat_activity WHERE wait_event_type = 'Lock'\` — samples > 0 / max | $act_nonzero of $samples / $act_max |
| samples with a consumer (event-ingestor, aggregator) session waiting on a lock / with only other sessions waiting | $consumer_waits / $api_waits |
| aggregator instances that applied events in this run | $applied_here of $n |

| CPU seconds over the phase (${phase_s:-?} s), summed over replicas | CPU s | ms of CPU per event |
|---|---:|---:|
${cpu_rows%$'\n'}

| sessions seen waiting on a lock: application | wait event | statement | sessions × samples |
|---|---|---|---:|
$who_rows

| \`rollup_state\` instance | events_applied before | after | applied in this run |
|---|---:|---:|---:|
$rollup_table
EOF
)")
  summary_rows+=("| $n | **$exact** | ${events:-?} | ${e2e_rows:-?} | ${e2e_aggs:-?} | $dl_delta | $lock_nonzero / $samples, max $lock_max | $act_nonzero / $samples, max $act_max | $consumer_waits | ${cpu[postgres]} | ${cpu[rabbitmq]} | ${cpu[attempts-api]} | ${cpu[event-ingestor]} | ${cpu[aggregator]} | $cpu_total |")
  log "N=$n: exact=$exact e2e answer_events=${e2e_rows:-?}/s aggregates=${e2e_aggs:-?}/s deadlocks Δ$dl_delta lock waits ${lock_nonzero}/${samples} (max $lock_max) CPU pg=${cpu[postgres]} rmq=${cpu[rabbitmq]} api=${cpu[attempts-api]} ing=${cpu[event-ingestor]} agg=${cpu[aggregator]}"
done

# What scale-out buys, from the first count's CPU split (ms of CPU per event per process).
scale_text="$(awk -v e="$events_at_1" -v pg="${CPU_AT_1[postgres]}" -v rmq="${CPU_AT_1[rabbitmq]}" \
  -v api="${CPU_AT_1[attempts-api]}" -v ing="${CPU_AT_1[event-ingestor]}" -v agg="${CPU_AT_1[aggregator]}" \
  -v st="${CPU_AT_1[stats-api]}" -v first="${counts%% *}" 'BEGIN {
  if (e <= 0) { print "(no events measured)"; exit }
  f = 1000 / e; p = pg * f; r = rmq * f; a = api * f; i = ing * f; g = agg * f; s = st * f
  tot = p + r + a + i + g + s
  printf "From the N = %d run (CPU seconds over the phase per event accepted): PostgreSQL %.3f ms, RabbitMQ %.3f ms," \
         " attempts-api %.3f ms, event-ingestor %.3f ms, aggregator %.3f ms, stats-api %.3f ms: %.2f ms of CPU per" \
         " event, of which the two consumers take %.0f %% and PostgreSQL %.0f %%. ", first, p, r, a, i, g, s, tot,
         100 * (i + g) / tot, 100 * p / tot
  printf "On these 2 cores every process competes for the same CPU, so more replicas only split the share of the" \
         " consumers between more processes and cannot raise the rate. "
  printf "On a machine with C cores the whole pipeline can reach about C ÷ %.2f ms ≈ %d events/s per core, but" \
         " only if no single process is the limit: an aggregator applies one batch at a time and an ingestor two," \
         " so one replica cannot use many cores, and each core of aggregator replicas is worth about %d events/s" \
         " (ingestor: %d). Replicas are what lets the consumers take their %.0f %% of the cores; keeping the" \
         " consumers at that share means roughly C × %.2f aggregator and C × %.2f ingestor cores, e.g. on 8 cores" \
         " about %.1f and %.1f, so two of each. ", tot, 1000 / tot, 1000 / g, 1000 / i, 100 * (i + g) / tot,
         g / tot, i / tot, 8 * g / tot, 8 * i / tot
  printf "The rest of the path is paid once per event whatever the replica count: PostgreSQL (%.0f %%: the answer_events" \
         " insert, the ledger and the upserts of every replica land on the one primary), RabbitMQ (%.0f %%) and the" \
         " one attempts API (%.0f %%). Adding consumer replicas beyond that leaves these shares where they are, so" \
         " PostgreSQL becomes the cap: at %.3f ms per event it needs a whole core per %d events/s, and" \
         " it cannot be scaled out for writes. These are CPU-second estimates (whole seconds, a low rate, a shared" \
         " machine), not measurements on a bigger one.\n", 100 * p / tot, 100 * r / tot, 100 * a / tot, p, 1000 / p
}')"

{
  echo "# Replicas, measured $stamp"
  echo
  echo "\`bench/replicas.sh --counts \"$counts\" --rate $rate --duration $duration\` — for each N: \`deploy/local/up.sh --scale event-ingestor=N --scale aggregator=N\`, then \`tools/loadgen/run.sh --rate $rate --duration $duration --bare none\`; PostgreSQL sampled every second (\`pg_locks WHERE NOT granted\`, \`pg_stat_activity WHERE wait_event_type = 'Lock'\`) and \`pg_stat_database.deadlocks\` read before and after. Finished $(date -u '+%Y-%m-%d %H:%M:%S') UTC on $(nproc) cores; load average at the end \`$(cut -d' ' -f1-3 /proc/loadavg)\`."
  echo
  echo "| N (each consumer) | exact | events | e2e → answer_events, events/s | e2e → aggregates, events/s | deadlocks Δ | samples with ungranted locks, max | samples with Lock waits, max | of which a consumer waited | CPU s postgres | rabbitmq | attempts-api | event-ingestor (sum) | aggregator (sum) | stack total (without loadgen) |"
  echo "|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${summary_rows[@]}"
  echo
  echo "## What scale-out buys with more cores"
  echo
  echo "$scale_text"
  echo
  if ((consumer_waits_all == 0)); then
    echo "Contention: in no sample did a consumer session wait on a lock; the waits in the table are the attempts API's (listed per N below)."
  else
    echo "Contention: a consumer session waited on a lock in $consumer_waits_all of the one-second samples of all runs (the statements are listed per N below; a \`transactionid\` wait is a row that another transaction wrote and has not committed yet). Other waits are the attempts API's."
  fi
  echo
  for s in "${sections[@]}"; do echo "$s"; echo; done
} >"$report"
cat "$report"
log "report: $report"
((failed == 0)) || { log "FAILED: a run was not exact or a deadlock happened"; exit 1; }
