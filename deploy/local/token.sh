#!/usr/bin/env bash
# Prints a bearer token the local attempts API accepts for WALLET: an HS256 JWT with iss, aud, sub and the wallet
# claim, signed with the key deploy/local/up.sh generated in .local/credentials.env. Valid for TTL_SECONDS
# (default 12 hours).
#
#   curl -H "Authorization: Bearer $(deploy/local/token.sh 0xabc…)" …
set -euo pipefail

LOCAL_TAG=token
# shellcheck source=deploy/local/lib/local.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/local.sh"

usage() {
  echo "usage: $0 WALLET [TTL_SECONDS]" >&2
  exit 2
}

wallet="${1:-}"
ttl="${2:-43200}"
[[ -n "$wallet" && $# -le 2 ]] || usage
# Kept to characters that need no JSON escaping.
[[ "$wallet" =~ ^[A-Za-z0-9._:@-]{1,200}$ ]] || die "WALLET may contain only letters, digits and . _ : @ - (at most 200)"
[[ "$ttl" =~ ^[0-9]{1,7}$ && "$ttl" -gt 0 ]] || die "TTL_SECONDS must be a positive number of seconds"
[[ -r "$CREDENTIALS_FILE" ]] || die "$(rel "$CREDENTIALS_FILE") not found: run deploy/local/up.sh first"
command -v openssl >/dev/null || die "openssl is needed (apt-get install -y openssl)"

load_credentials
for var in JWT_ISSUER JWT_AUDIENCE JWT_SIGNING_KEY JWT_WALLET_CLAIM; do
  [[ -n "${!var:-}" ]] || die "$var is missing from $(rel "$CREDENTIALS_FILE")"
done

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

now="$(date +%s)"
header='{"alg":"HS256","typ":"JWT"}'
payload="$(printf '{"iss":"%s","aud":"%s","sub":"%s","%s":"%s","iat":%d,"nbf":%d,"exp":%d}' \
  "$JWT_ISSUER" "$JWT_AUDIENCE" "$wallet" "$JWT_WALLET_CLAIM" "$wallet" "$now" "$now" "$((now + ttl))")"
signing_input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
# The key is the UTF-8 text of JWT_SIGNING_KEY, as the API reads it.
signature="$(printf '%s' "$signing_input" | openssl dgst -sha256 -hmac "$JWT_SIGNING_KEY" -binary | b64url)"
printf '%s.%s\n' "$signing_input" "$signature"
