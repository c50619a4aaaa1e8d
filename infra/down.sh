#!/usr/bin/env bash
# Stops exactly the servers infra/up.sh started (found by their pid files in .stack/).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
stop_rabbitmq
stop_postgres
