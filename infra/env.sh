#!/usr/bin/env bash
# Source this file to get the connection settings of the local stack in your shell:
#   source infra/env.sh
_ce_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_ce_here/stack.conf"
export ConnectionStrings__Contacts="Host=127.0.0.1;Port=$CE_PG_PORT;Database=$CE_PG_LOCAL_DB;Username=$CE_PG_USER;Password=$CE_PG_PASSWORD"
export ConnectionStrings__Source="Host=127.0.0.1;Port=$CE_PG_PORT;Database=$CE_PG_SOURCE_DB;Username=$CE_PG_USER;Password=$CE_PG_PASSWORD"
export RabbitMq__Host=127.0.0.1
export RabbitMq__Port=$CE_RABBIT_PORT
export RabbitMq__ManagementPort=$CE_RABBIT_MGMT_PORT
export RabbitMq__VirtualHost=$CE_RABBIT_VHOST
export RabbitMq__Username=$CE_RABBIT_USER
export RabbitMq__Password=$CE_RABBIT_PASSWORD
unset _ce_here
