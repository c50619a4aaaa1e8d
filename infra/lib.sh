# Functions shared by infra/up.sh and infra/down.sh. Not meant to be run on its own.
repo="$(cd "$here/.." && pwd)"
source "$here/stack.conf"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts servers as their own users)"; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

ensure_packages() {
  local missing=()
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/pg_ctl" ] || missing+=(postgresql postgresql-contrib)
  command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root
  log "installing ${missing[*]} from Debian's packages"
  # The packages would start their own system-wide servers on the default ports; ours run
  # from .stack/ instead, so forbid service starts during the install (policy-rc.d, exit 101).
  local policy=/usr/sbin/policy-rc.d placed=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; placed=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$placed" -eq 1 ] && rm -f "$policy"
  # Stop any system-wide instance a package started anyway, so our ports are free.
  command -v pg_ctlcluster >/dev/null 2>&1 && pg_ctlcluster --force "$(basename "$(dirname "$(pg_bin)")")" main stop >/dev/null 2>&1 || true
  log "installed"
}

# State lives in .stack/ of the repo. The servers run as the postgres and rabbitmq users,
# who may not be able to enter the folder the clone lies in (CI clones under /root): then
# .stack is a link to a folder under /var/lib/campaign-events that they can reach.
ensure_state_dir() {
  local link="$repo/.stack"
  if [ ! -e "$link" ]; then
    mkdir -p "$link"
    chmod 755 "$link"
    if ! runuser -u postgres -- test -x "$link" 2>/dev/null || ! runuser -u rabbitmq -- test -x "$link" 2>/dev/null; then
      rmdir "$link"
      local target="/var/lib/campaign-events/$(printf '%s' "$repo" | md5sum | cut -c1-12)"
      mkdir -p "$target"; chmod 755 /var/lib/campaign-events "$target"
      ln -s "$target" "$link"
      log "state in $target (linked from .stack, the clone's folder is closed to the server users)"
    fi
  fi
  state="$(readlink -f "$link")"
  mkdir -p "$state/pg" "$state/rabbitmq"
  chown postgres:postgres "$state/pg"; chmod 700 "$state/pg"
  chown rabbitmq:rabbitmq "$state/rabbitmq"; chmod 750 "$state/rabbitmq"
}

state_dir() { state="$(readlink -f "$repo/.stack" 2>/dev/null || true)"; }

# The server users may not enter the clone (CI clones under /root): run them from a folder they can.
as_pg() { (cd / && runuser -u postgres -- "$@"); }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_postgres() {
  local bin data="$state/pg/data"
  bin="$(pg_bin)"
  if [ ! -s "$data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    mkdir -p "$state/pg/run"; chown postgres:postgres "$state/pg/run"
    cat >> "$data/postgresql.conf" <<CONF

# campaign-events local stack
listen_addresses = '127.0.0.1'
port = $CE_PG_PORT
unix_socket_directories = '$state/pg/run'
wal_level = logical
max_replication_slots = 200
max_wal_senders = 200
max_connections = 400
shared_buffers = 512MB
CONF
    cat > "$data/pg_hba.conf" <<CONF
local   all          postgres                  trust
local   all          all                       scram-sha-256
host    all          all          127.0.0.1/32 scram-sha-256
host    replication  all          127.0.0.1/32 scram-sha-256
CONF
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$CE_PG_PORT"
  else
    port_in_use "$CE_PG_PORT" && die "port $CE_PG_PORT is taken by another program; set CE_PG_PORT to a free port"
    log "starting PostgreSQL on 127.0.0.1:$CE_PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$state/pg/postgresql.log" -w -t 60 start >/dev/null \
      || die "PostgreSQL did not start; see $state/pg/postgresql.log"
  fi
}

psql_admin() { as_pg psql -h "$state/pg/run" -p "$CE_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

provision_postgres() {
  psql_admin -d postgres <<SQL >/dev/null
SELECT format('CREATE ROLE %I LOGIN CREATEDB CREATEROLE REPLICATION PASSWORD %L', '$CE_PG_USER', '$CE_PG_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$CE_PG_USER')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$CE_PG_LOCAL_DB', '$CE_PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$CE_PG_LOCAL_DB')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$CE_PG_SOURCE_DB', '$CE_PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$CE_PG_SOURCE_DB')\gexec
SQL
  provision_postgres_roles
}

# The login of each job (docs/adr/0015), created with its password here and granted by the files
# of database/roles/ (local.sql: `campaign-events migrate` applies it; source.sql: the source's
# admin runs it once, the demo after it creates its source tables). Where the tables already exist
# (a stack in use) the files are applied now too, as the tables' owner.
provision_postgres_roles() {
  local role
  for role in $CE_PG_ROLES; do
    psql_admin -d postgres <<SQL >/dev/null
SELECT format('CREATE ROLE %I LOGIN', '$role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role')\gexec
ALTER ROLE "$role" LOGIN PASSWORD '$(ce_role_password "$role")';
SQL
  done
  # what takes a superuser (or CREATEROLE), here rather than in the files the tables' owner runs:
  # REPLICATION, and the memberships those files grant only when missing
  psql_admin -d postgres -c "SET client_min_messages = warning" -c "ALTER ROLE campaign_events_source REPLICATION" \
    -c "GRANT campaign_events_sync, campaign_events_adapter, campaign_events_reconcile TO campaign_events_pipeline" \
    -c "GRANT pg_read_all_stats TO campaign_events_reader" >/dev/null
  # a database not migrated yet gets its grants from `campaign-events migrate`
  { echo "SET ROLE \"$CE_PG_USER\";"; cat "$repo/database/roles/local.sql"; } | psql_admin -d "$CE_PG_LOCAL_DB" >/dev/null 2>&1 \
    || log "grants of database/roles/local.sql: at the next campaign-events migrate (the tables are not all there yet)"
  { echo "SET ROLE \"$CE_PG_USER\";"; cat "$repo/database/roles/source.sql"; } | psql_admin -d "$CE_PG_SOURCE_DB" >/dev/null 2>&1 \
    || log "grants of database/roles/source.sql: once the source tables exist (the demo creates them)"
}

stop_postgres() {
  state_dir
  local data="$state/pg/data"
  [ -n "$state" ] && [ -s "$data/PG_VERSION" ] || { log "no PostgreSQL of ours to stop"; return 0; }
  if as_pg "$(pg_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null && log "PostgreSQL stopped"
  else
    log "PostgreSQL was not running"
  fi
}

rabbit_env() {
  export RABBITMQ_NODENAME="campaign-events@localhost"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$CE_RABBIT_PORT"
  export RABBITMQ_DIST_PORT="$CE_RABBIT_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$state/rabbitmq/mnesia"
  export RABBITMQ_LOG_BASE="$state/rabbitmq/log"
  export RABBITMQ_PID_FILE="$state/rabbitmq/rabbitmq.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$state/rabbitmq/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$state/rabbitmq/rabbitmq"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export HOME=/var/lib/rabbitmq
}

# Debian's wrappers in /usr/sbin switch to the rabbitmq user and drop our environment,
# so the scripts behind them are run directly as that user.
as_rabbit() { (cd /var/lib/rabbitmq && runuser -u rabbitmq -p -- "/usr/lib/rabbitmq/bin/$1" "${@:2}"); }

rabbit_answers() { as_rabbit rabbitmq-diagnostics -q check_running >/dev/null 2>&1; }

start_rabbitmq() {
  rabbit_env
  mkdir -p "$RABBITMQ_LOG_BASE" "$RABBITMQ_MNESIA_BASE"
  chown -R rabbitmq:rabbitmq "$state/rabbitmq"
  if rabbit_answers; then
    log "RabbitMQ already running on 127.0.0.1:$CE_RABBIT_PORT"
    return 0
  fi
  port_in_use "$CE_RABBIT_PORT" && die "port $CE_RABBIT_PORT is taken by another program; set CE_RABBIT_PORT to a free port"
  cat > "$state/rabbitmq/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$CE_RABBIT_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $CE_RABBIT_MGMT_PORT
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $CE_RABBIT_PROMETHEUS_PORT
log.console = false
CONF
  # rabbitmq_prometheus: queue depths for Prometheus (infra/compose/observability's Prometheus scrapes it, README: Operating it)
  echo '[rabbitmq_management,rabbitmq_prometheus].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  chown -R rabbitmq:rabbitmq "$state/rabbitmq"
  log "starting RabbitMQ on 127.0.0.1:$CE_RABBIT_PORT (dashboard on 127.0.0.1:$CE_RABBIT_MGMT_PORT); it takes 15-20 s"
  # every descriptor redirected, so nothing that reads this script's output waits on the server
  (cd /var/lib/rabbitmq && exec setsid runuser -u rabbitmq -p -- /usr/lib/rabbitmq/bin/rabbitmq-server) \
    > "$state/rabbitmq/server.out" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 120))
  until rabbit_answers; do
    [ $SECONDS -lt $deadline ] || die "RabbitMQ did not answer within 120 s; see $state/rabbitmq/server.out and $RABBITMQ_LOG_BASE"
    sleep 1
  done
  until curl -fs -o /dev/null "http://127.0.0.1:$CE_RABBIT_MGMT_PORT/"; do
    [ $SECONDS -lt $deadline ] || die "the RabbitMQ dashboard did not answer within 120 s"
    sleep 1
  done
}

provision_rabbitmq() {
  rabbit_env
  as_rabbit rabbitmqctl -q list_vhosts | grep -qx "$CE_RABBIT_VHOST" || as_rabbit rabbitmqctl -q add_vhost "$CE_RABBIT_VHOST"
  if as_rabbit rabbitmqctl -q list_users | awk '{print $1}' | grep -qx "$CE_RABBIT_USER"; then
    as_rabbit rabbitmqctl -q change_password "$CE_RABBIT_USER" "$CE_RABBIT_PASSWORD" >/dev/null
  else
    as_rabbit rabbitmqctl -q add_user "$CE_RABBIT_USER" "$CE_RABBIT_PASSWORD" >/dev/null
  fi
  # administrator: the tests create a vhost per test class, `migrate --topology` declares it all;
  # the roles, publishers and status use the users of provision_rabbitmq_users (docs/adr/0015)
  as_rabbit rabbitmqctl -q set_user_tags "$CE_RABBIT_USER" administrator
  as_rabbit rabbitmqctl -q set_permissions -p "$CE_RABBIT_VHOST" "$CE_RABBIT_USER" '.*' '.*' '.*'
  provision_rabbitmq_users
  apply_policies
  if as_rabbit rabbitmqctl -q list_users | awk '{print $1}' | grep -qx guest; then
    as_rabbit rabbitmqctl -q delete_user guest >/dev/null
  fi
}

# The user of each job, its tags and permissions, from the compose definitions (one home:
# infra/compose/rabbitmq-definitions.json); the administrator is provisioned above.
provision_rabbitmq_users() {
  local vhost="${1:-$CE_RABBIT_VHOST}" users
  users="$(as_rabbit rabbitmqctl -q list_users | awk '{print $1}')"
  rabbitmq_roles | while IFS=$'\x1f' read -r user tags configure write read; do
    if printf '%s\n' "$users" | grep -qx "$user"; then
      as_rabbit rabbitmqctl -q change_password "$user" "$(ce_role_password "$user")" >/dev/null </dev/null
    else
      as_rabbit rabbitmqctl -q add_user "$user" "$(ce_role_password "$user")" >/dev/null </dev/null
    fi
    # shellcheck disable=SC2086 # tags: none, one or several words
    as_rabbit rabbitmqctl -q set_user_tags "$user" $tags >/dev/null </dev/null
    as_rabbit rabbitmqctl -q set_permissions -p "$vhost" "$user" "$configure" "$write" "$read" >/dev/null </dev/null
  done
}

# user, tags, configure, write, read: each user of the definitions but the administrator
rabbitmq_roles() {
  python3 - "$repo/infra/compose/rabbitmq-definitions.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tags = {u["name"]: " ".join(u["tags"]) for u in d["users"]}
for p in d["permissions"]:
    if "administrator" not in tags.get(p["user"], ""):
        print("\x1f".join([p["user"], tags.get(p["user"], ""), p["configure"], p["write"], p["read"]]))
PY
}

# The policies of the compose definitions (one home: infra/compose/rabbitmq-definitions.json), so
# both stacks bound their error queues and dead-letter poison messages alike (docs/adr/0011).
apply_policies() {
  local vhost="${1:-$CE_RABBIT_VHOST}"
  python3 - "$repo/infra/compose/rabbitmq-definitions.json" <<'PY' | while IFS=$'\t' read -r name pattern apply priority definition; do
import json, sys
for p in json.load(open(sys.argv[1]))["policies"]:
    print("\t".join([p["name"], p["pattern"], p["apply-to"], str(p["priority"]), json.dumps(p["definition"])]))
PY
    as_rabbit rabbitmqctl -q set_policy -p "$vhost" --apply-to "$apply" --priority "$priority" "$name" "$pattern" "$definition" >/dev/null </dev/null
  done
}

stop_rabbitmq() {
  state_dir
  [ -n "$state" ] && [ -d "$state/rabbitmq" ] || { log "no RabbitMQ of ours to stop"; return 0; }
  rabbit_env
  if rabbit_answers; then
    as_rabbit rabbitmqctl -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 && log "RabbitMQ stopped"
  else
    log "RabbitMQ was not running"
  fi
}

print_settings() {
  cat <<OUT
Stack ready (state in $state):
  PostgreSQL  127.0.0.1:$CE_PG_PORT  databases $CE_PG_LOCAL_DB (local) and $CE_PG_SOURCE_DB (external), user $CE_PG_USER
  RabbitMQ    127.0.0.1:$CE_RABBIT_PORT  vhost $CE_RABBIT_VHOST, user $CE_RABBIT_USER
  Dashboard   http://127.0.0.1:$CE_RABBIT_MGMT_PORT/  (user campaign-events-monitoring)
  Prometheus  http://127.0.0.1:$CE_RABBIT_PROMETHEUS_PORT/metrics  (RabbitMQ's own metrics, queue depths)
  Identities  a login per job (README: Identities and permissions); admin: $CE_PG_USER, $CE_RABBIT_USER
Connection settings for your shell:  source infra/env.sh [owner|sync|source|reconcile|pipeline|status|publisher]
OUT
}
