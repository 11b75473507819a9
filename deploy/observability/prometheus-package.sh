# shellcheck shell=bash
# Sourced by check.sh and deploy/local/up.sh: installs Debian's prometheus package (promtool, /usr/bin/prometheus) when
# it is missing, as root or with sudo. Returns non-zero if apt-get fails; the caller reports it.

ensure_prometheus_package() {
  if command -v promtool >/dev/null && [[ -x /usr/bin/prometheus ]]; then return 0; fi
  local sudo=() policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
  if [[ $EUID -ne 0 ]]; then sudo=(sudo); fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
  # The package would start a system-wide Prometheus on :9090: a policy-rc.d that denies every start prevents that.
  if [[ ! -e "$policy" ]]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy" && added_policy=1
  fi
  "${apt[@]}" install -y -qq --no-install-recommends prometheus >/dev/null ||
    { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends prometheus >/dev/null; } || rc=$?
  if [[ $added_policy -eq 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
  return "$rc"
}
