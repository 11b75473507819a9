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

require_local_setup_tool
export ConnectionStrings__RabbitMq="$RABBITMQ_URL"
exec_setup_tool dead-letters "$@"
