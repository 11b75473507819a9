#!/usr/bin/env bash
# Dead letters of the local pipeline (started by deploy/local/up.sh), with the setup tool over AMQP:
#   deploy/local/dead-letters.sh list [QUEUE]                               counts per error queue and reason; consumes nothing
#   deploy/local/dead-letters.sh replay QUEUE [--reason TEXT] [--limit N]   back to the queue they came from (safe: consumers deduplicate)
#   deploy/local/dead-letters.sh purge QUEUE --older-than 7d               delete the old ones, with the count printed first
# QUEUE is event-ingestor_error or aggregator_error. Dead letters are bad input only: fix the cause before a replay.
set -euo pipefail

LOCAL_TAG=dead-letters
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib/local.sh
source "$HERE/lib/local.sh"

[[ -f "$CREDENTIALS_FILE" ]] || die "$(rel "$CREDENTIALS_FILE") is missing: run deploy/local/up.sh first"
[[ -f "$SETUP_DLL" ]] || die "$(rel "$SETUP_DLL") is missing: run deploy/local/up.sh first (it builds the setup tool)"
load_credentials
export ConnectionStrings__RabbitMq="$RABBITMQ_URL"
cd "$(dirname "$SETUP_DLL")"
exec dotnet "$SETUP_DLL" dead-letters "$@"
