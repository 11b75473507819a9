#!/usr/bin/env bash
# Checks the Prometheus and Grafana assets in this folder with the real tools (tests/run.sh runs it first):
#   promtool check config / check rules / test rules (Debian's prometheus package, installed when missing),
#   and jq: the dashboard is valid JSON, its queries parse as PromQL and name only metrics the services export.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
# shellcheck source=deploy/observability/prometheus-package.sh
source "$HERE/prometheus-package.sh"

say() { printf '[observability] %s\n' "$*"; }
die() {
  printf '[observability] ERROR: %s\n' "$*" >&2
  exit 1
}

# What the services expose at /metrics (histograms also as _bucket/_sum/_count), plus Prometheus' own `up`.
METRICS=(
  up
  telemetry_attempts_accepted_total telemetry_outbox_published_total telemetry_outbox_publish_failures_total
  telemetry_outbox_backlog telemetry_outbox_oldest_unsent_age_seconds
  telemetry_consumer_events_total telemetry_dead_letters_total telemetry_consumer_lag_seconds
  telemetry_consumer_last_commit_age_seconds telemetry_retention_last_run_age_seconds
  telemetry_retention_partitions_dropped_total telemetry_queue_messages telemetry_reconciliation_differences_total
  http_server_request_duration_seconds dotnet_process_cpu_time_seconds_total dotnet_gc_collections_total
  db_client_operation_duration_seconds messaging_masstransit_consume_duration_milliseconds
)
DASHBOARD=grafana-dashboard.json

if ! command -v promtool >/dev/null; then
  say "installing Debian's prometheus package (for promtool)"
  ensure_prometheus_package || die "apt-get install prometheus failed (see the apt output above)"
fi
command -v jq >/dev/null || die "jq is not installed (apt-get install jq)"

say "promtool check config --lint-fatal prometheus.yml"
promtool check config --lint-fatal prometheus.yml || die "prometheus.yml is invalid"
say "promtool check rules --lint-fatal alerts.yml"
promtool check rules --lint-fatal alerts.yml || die "alerts.yml is invalid"
say "promtool test rules alerts.test.yml"
promtool test rules alerts.test.yml || die "an alert rule unit test failed"

say "jq empty $DASHBOARD"
jq empty "$DASHBOARD" || die "$DASHBOARD is not valid JSON"

# Every query, as a recording rule, so that promtool parses it (Grafana's $__ variables become a fixed range).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
jq -e '[.. | objects | select(has("expr")) | .expr] | length > 0' "$DASHBOARD" >/dev/null || die "$DASHBOARD has no queries"
jq '{groups: [{name: "dashboard", rules: [[.. | objects | select(has("expr")) | .expr] | to_entries[]
          | {record: "dashboard:query_\(.key)", expr: (.value | gsub("\\$__(rate_interval|interval|range)"; "5m"))}]}]}' \
  "$DASHBOARD" >"$tmp/dashboard-rules.json"
say "promtool check rules: the dashboard's queries"
promtool check rules --lint-fatal "$tmp/dashboard-rules.json" >"$tmp/out" 2>&1 || {
  cat "$tmp/out" >&2
  die "a query in $DASHBOARD is not valid PromQL"
}

# Metric names: drop label matchers, ranges and by/on(...) clauses, then any identifier that is not a function call,
# a keyword or a known metric is an unknown name.
unknown="$(jq -r '
  ($ARGS.positional | map(., . + "_bucket", . + "_sum", . + "_count")) as $known
  | ["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"] as $keywords
  | [.. | objects | select(has("expr")) | .expr
     | gsub("\\{[^}]*\\}|\\[[^\\]]*\\]"; "")
     | gsub("\\b(by|without|on|ignoring|group_left|group_right) *\\([^)]*\\)"; "")
     | gsub("\\s+\\("; "(")
     | [scan("\\b[a-zA-Z_:][a-zA-Z0-9_:]*\\b(?!\\()")] | .[]]
  | unique - $known - $keywords | .[]' "$DASHBOARD" --args "${METRICS[@]}" </dev/null)"
[[ -z "$unknown" ]] || die "$DASHBOARD queries metrics the services do not export: $(tr '\n' ' ' <<<"$unknown")"
# Every panel with queries reads from the dashboard's datasource variable, not a fixed datasource.
jq -e '[.. | objects | select(has("targets")) | .datasource.uid == "${DS_PROMETHEUS}"] | all' "$DASHBOARD" >/dev/null ||
  die "a panel of $DASHBOARD does not use the \${DS_PROMETHEUS} datasource"
say "$DASHBOARD: $(jq '[.. | objects | select(has("targets"))] | length' "$DASHBOARD") panels, $(jq '[.. | objects | select(has("expr"))] | length' "$DASHBOARD") queries, all on known metrics"
say "all checks passed"
