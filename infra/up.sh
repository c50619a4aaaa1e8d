#!/usr/bin/env bash
# Brings up the local stack on loopback: PostgreSQL (wal_level=logical) and RabbitMQ with
# the management plugin, installed from Debian's packages when missing, state in .stack/.
# Safe to run again: it reuses what is there. Prints the connection settings at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

ensure_packages
ensure_state_dir
start_postgres
start_rabbitmq
provision_postgres
provision_rabbitmq
print_settings
