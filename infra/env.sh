#!/usr/bin/env bash
# Source this file to get the connection settings of the local stack in your shell:
#   source infra/env.sh            the administrator: owner of both databases, broker administrator
#                                  (migrate, migrate --topology, errors, the tests' harness)
#   source infra/env.sh <identity> one job's own login (README: Identities and permissions):
#     sync        run --role sync
#     source      run --role source (the adapter and the source side of reconciliation)
#     reconcile   run --role reconcile, reconcile
#     pipeline    run (every role in one process), demo
#     status      status, the dashboard
#     publisher   publish (an upstream system)
#     owner       the same as no argument
_ce_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_ce_here/stack.conf"
_ce_pg() { printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=%s;Password=%s' "$CE_PG_PORT" "$1" "$2" "${3:-$(ce_role_password "$2")}"; }
_ce_identity="${1:-owner}"
case "$_ce_identity" in
  owner)     _ce_local=$CE_PG_USER;                _ce_source=$CE_PG_USER;             _ce_rabbit=$CE_RABBIT_USER ;;
  sync)      _ce_local=campaign_events_sync;       _ce_source=;                        _ce_rabbit=campaign-events-sync ;;
  source)    _ce_local=campaign_events_adapter;    _ce_source=campaign_events_source;  _ce_rabbit=campaign-events-source ;;
  reconcile) _ce_local=campaign_events_reconcile;  _ce_source=;                        _ce_rabbit=campaign-events-reconcile ;;
  pipeline)  _ce_local=campaign_events_pipeline;   _ce_source=campaign_events_source;  _ce_rabbit=campaign-events-pipeline ;;
  status)    _ce_local=campaign_events_reader;     _ce_source=campaign_events_reader;  _ce_rabbit=campaign-events-monitoring ;;
  publisher) _ce_local=;                           _ce_source=;                        _ce_rabbit=campaign-events-publisher ;;
  *) echo "infra/env.sh: unknown identity '$_ce_identity' (owner, sync, source, reconcile, pipeline, status, publisher)" >&2; return 1 2>/dev/null || exit 1 ;;
esac
if [ "$_ce_identity" = owner ]; then
  export ConnectionStrings__Contacts="$(_ce_pg "$CE_PG_LOCAL_DB" "$CE_PG_USER" "$CE_PG_PASSWORD")"
  export ConnectionStrings__Source="$(_ce_pg "$CE_PG_SOURCE_DB" "$CE_PG_USER" "$CE_PG_PASSWORD")"
  export RabbitMq__Username=$CE_RABBIT_USER RabbitMq__Password=$CE_RABBIT_PASSWORD
else
  # a job without a database gets no connection string of it: nothing it could use by mistake
  if [ -n "$_ce_local" ]; then export ConnectionStrings__Contacts="$(_ce_pg "$CE_PG_LOCAL_DB" "$_ce_local")"; else unset ConnectionStrings__Contacts; fi
  if [ -n "$_ce_source" ]; then export ConnectionStrings__Source="$(_ce_pg "$CE_PG_SOURCE_DB" "$_ce_source")"; else unset ConnectionStrings__Source; fi
  export RabbitMq__Username=$_ce_rabbit RabbitMq__Password="$(ce_role_password "$_ce_rabbit")"
fi
export RabbitMq__Host=127.0.0.1
export RabbitMq__Port=$CE_RABBIT_PORT
export RabbitMq__ManagementPort=$CE_RABBIT_MGMT_PORT
export RabbitMq__VirtualHost=$CE_RABBIT_VHOST
unset _ce_here _ce_identity _ce_local _ce_source _ce_rabbit
unset -f _ce_pg
