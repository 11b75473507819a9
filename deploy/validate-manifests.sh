#!/usr/bin/env bash
# Validates the deployment manifests offline (tests/run.sh runs it; no Docker engine or cluster needed):
#   deploy/compose: docker-compose 1.29 `config` with only the file's defaults and with .env.example; every ${VAR}
#                   of the file has a line in .env.example.
#   deploy/k8s:     `kubectl kustomize` builds base and every overlay; deploy/k8s/schema-check/check.mjs checks each
#                   build against the Kubernetes and KEDA schemas (unknown fields too), the operators' CRD fields,
#                   and the references and settings the services rely on (see the top of check.mjs).
# Installs docker-compose and kubectl (Debian packages) and the checker's npm packages (pinned, outside the
# repository) when missing. Exit code 0 only when everything passes.
#   deploy/validate-manifests.sh [K8S_DIR]     (K8S_DIR defaults to deploy/k8s; another copy can be checked)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_DIR="$(cd "${1:-$REPO_ROOT/deploy/k8s}" && pwd)"
COMPOSE_DIR="$REPO_ROOT/deploy/compose"
CHECKER="$REPO_ROOT/deploy/k8s/schema-check"

say() { printf '[manifests] %s\n' "$*"; }
die() {
  printf '[manifests] ERROR: %s\n' "$*" >&2
  exit 1
}

apt_install() {
  local sudo=() policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
  if [[ $EUID -ne 0 ]]; then sudo=(sudo); fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120)
  # Deny service starts while installing (none of these ships one today; a dependency might).
  if [[ ! -e "$policy" ]]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy" && added_policy=1
  fi
  "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null ||
    { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "$@" >/dev/null; } || rc=$?
  if [[ $added_policy -eq 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
  return "$rc"
}

if ! command -v docker-compose >/dev/null; then
  say "installing Debian's docker-compose (1.29: validates a compose file without an engine)"
  apt_install docker-compose || die "apt-get install docker-compose failed (see the apt output above)"
fi
if ! command -v kubectl >/dev/null; then
  say "installing kubectl"
  apt_install kubectl || apt_install kubernetes-client || die "apt-get install kubectl failed (see the apt output above)"
fi
kustomize_version="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')"
[[ "$kustomize_version" =~ ^v[5-9] ]] ||
  die "kubectl's kustomize is '${kustomize_version:-unknown}'; the manifests need kustomize v5 (kubectl 1.27 or later)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  say "installing Node.js (for the schema check)"
  apt_install nodejs npm || die "apt-get install nodejs npm failed (see the apt output above)"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- compose -------------------------------------------------------------------------------------------------------
# A clean environment and an explicit env file, so neither the caller's variables nor a real deploy/compose/.env count.
compose_config() { env -i PATH="$PATH" HOME="$tmp" docker-compose -f "$COMPOSE_DIR/docker-compose.yml" --env-file "$1" config "${@:2}"; }
: >"$tmp/empty.env"
say "docker-compose config: docker-compose.yml with its defaults only"
compose_config "$tmp/empty.env" -q || die "docker-compose.yml is invalid (defaults only)"
say "docker-compose config: docker-compose.yml with .env.example"
compose_config "$COMPOSE_DIR/.env.example" >"$tmp/compose.yml" || die "docker-compose.yml is invalid with .env.example"
# shellcheck disable=SC2016 # a literal ${ to find
missing="$(comm -23 <(grep -o '\${[A-Za-z_][A-Za-z0-9_]*' "$COMPOSE_DIR/docker-compose.yml" | cut -c3- | sort -u) \
  <(sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$COMPOSE_DIR/.env.example" | sort -u))"
[[ -z "$missing" ]] || die ".env.example lacks variables docker-compose.yml uses: $(tr '\n' ' ' <<<"$missing")"

# --- kustomize -----------------------------------------------------------------------------------------------------
builds=()
for dir in "$K8S_DIR/base" "$K8S_DIR"/overlays/*/; do
  dir="${dir%/}"
  name="$(basename "$dir")"
  say "kubectl kustomize ${dir#"$K8S_DIR"/} (kustomize $kustomize_version)"
  kubectl kustomize "$dir" >"$tmp/$name.yaml" || die "kubectl kustomize ${dir#"$K8S_DIR"/} failed"
  builds+=("$name=$tmp/$name.yaml")
done
[[ -d "$K8S_DIR/overlays/local" && -d "$K8S_DIR/overlays/production" ]] || die "deploy/k8s needs overlays/local and overlays/production"

# --- schema check --------------------------------------------------------------------------------------------------
# The checker's packages, pinned by package-lock.json, go to a cache outside the repository (reused while the lock is
# unchanged; npm ci needs the npm registry only the first time).
cache="${TELEMETRY_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/telemetry}/manifest-check-$(cat "$CHECKER/package.json" "$CHECKER/package-lock.json" | sha256sum | cut -c1-16)"
if [[ ! -d "$cache/node_modules" ]]; then
  say "npm ci: kubernetes-models, @kubernetes-models/keda, yaml (into $cache)"
  mkdir -p "$(dirname "$cache")"
  partial="$(mktemp -d "$cache.partial.XXXXXX")"
  cp "$CHECKER/package.json" "$CHECKER/package-lock.json" "$partial/"
  (cd "$partial" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
    { rm -rf "$partial"; die "npm ci for the schema check failed (see the npm output above)"; }
  mv -T "$partial" "$cache" 2>/dev/null || rm -rf "$partial" # another run may have finished first
fi
mkdir "$tmp/check" && cp "$CHECKER/check.mjs" "$tmp/check/" && ln -s "$cache/node_modules" "$tmp/check/node_modules"
say "schema and consistency check: ${builds[*]%%=*}"
node "$tmp/check/check.mjs" --compose "$tmp/compose.yml" --env-example "$COMPOSE_DIR/.env.example" "${builds[@]}" ||
  die "the schema or consistency check failed (see above)"
say "all checks passed"
