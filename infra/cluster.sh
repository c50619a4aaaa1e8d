#!/usr/bin/env bash
# A 3-node RabbitMQ cluster on loopback, beside the single node of infra/up.sh (whose ports it
# leaves alone): nodes ce-1@localhost … ce-3@localhost, each with its own AMQP, distribution and
# management port and its own state folder under .stack/cluster/, all sharing the rabbitmq user's
# Erlang cookie and the one epmd of the machine, joined into one cluster, with the project's vhost,
# its administrator, the per-role users and the broker policies of infra/up.sh (guest removed).
#
#   bash infra/cluster.sh up                 start (or reuse) the cluster; prints the settings
#   bash infra/cluster.sh down               stop the nodes (state kept; up starts them again)
#   bash infra/cluster.sh status             each node's state and the cluster's members
#   bash infra/cluster.sh stop-node N        stop node N's RabbitMQ application (as in a node loss)
#   bash infra/cluster.sh start-node N       start it again; it rejoins the cluster
#
# Ports and names may be overridden in the environment (the tests start their own cluster on free
# ports): CE_CLUSTER_STATE, CE_CLUSTER_PREFIX, CE_CLUSTER_AMQP_PORTS, CE_CLUSTER_MGMT_PORTS,
# CE_CLUSTER_DIST_PORTS, CE_CLUSTER_PROMETHEUS_PORTS (space-separated, one per node).
# AMQP over TLS as well: CE_CLUSTER_TLS_PORTS (one per node) and CE_CLUSTER_TLS_DIR, a folder the
# rabbitmq user can read holding ca.pem, server.pem and server.key (one certificate for every node,
# naming 127.0.0.1/localhost); a client certificate is verified when a client sends one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

: "${CE_CLUSTER_PREFIX:=ce}"
: "${CE_CLUSTER_AMQP_PORTS:=5681 5682 5683}"
: "${CE_CLUSTER_MGMT_PORTS:=15681 15682 15683}"
: "${CE_CLUSTER_DIST_PORTS:=25681 25682 25683}"
# rabbitmq_prometheus of each node (the single node of infra/up.sh has 15692)
: "${CE_CLUSTER_PROMETHEUS_PORTS:=15791 15792 15793}"
read -r -a amqp_ports <<< "$CE_CLUSTER_AMQP_PORTS"
read -r -a mgmt_ports <<< "$CE_CLUSTER_MGMT_PORTS"
read -r -a dist_ports <<< "$CE_CLUSTER_DIST_PORTS"
read -r -a prometheus_ports <<< "$CE_CLUSTER_PROMETHEUS_PORTS"
read -r -a tls_ports <<< "${CE_CLUSTER_TLS_PORTS:-}"
count=${#amqp_ports[@]}
[ ${#tls_ports[@]} -eq 0 ] || { [ ${#tls_ports[@]} -eq "$count" ] && [ -n "${CE_CLUSTER_TLS_DIR:-}" ]; } \
  || die "CE_CLUSTER_TLS_PORTS needs one port per node and CE_CLUSTER_TLS_DIR the folder of ca.pem, server.pem and server.key"
[ "$count" -ge 1 ] && [ ${#mgmt_ports[@]} -eq "$count" ] && [ ${#dist_ports[@]} -eq "$count" ] && [ ${#prometheus_ports[@]} -eq "$count" ] \
  || die "CE_CLUSTER_AMQP_PORTS, CE_CLUSTER_MGMT_PORTS, CE_CLUSTER_DIST_PORTS and CE_CLUSTER_PROMETHEUS_PORTS need one port per node each"
# Three Erlang VMs booting side by side on 2 cores are slow: generous deadlines.
start_deadline=${CE_CLUSTER_START_DEADLINE:-240}

cluster_state() {
  if [ -n "${CE_CLUSTER_STATE:-}" ]; then
    cstate="$CE_CLUSTER_STATE"
  else
    ensure_state_dir
    cstate="$state/cluster"
  fi
  mkdir -p "$cstate"
  chmod 755 "$cstate"
}

node_name() { printf '%s-%s@localhost' "$CE_CLUSTER_PREFIX" "$1"; }

# The environment of node $1 (1-based), as rabbit_env sets it for the single node.
node_env() {
  local i=$(($1 - 1)) dir="$cstate/$CE_CLUSTER_PREFIX-$1"
  export RABBITMQ_NODENAME; RABBITMQ_NODENAME="$(node_name "$1")"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="${amqp_ports[$i]}"
  export RABBITMQ_DIST_PORT="${dist_ports[$i]}"
  export RABBITMQ_MNESIA_BASE="$dir/mnesia"
  export RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_PID_FILE="$dir/rabbitmq.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$dir/rabbitmq"
  # one epmd for every node (the one of the machine, on loopback); the cookie is the rabbitmq
  # user's ($HOME/.erlang.cookie), so every node and rabbitmqctl share it
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export HOME=/var/lib/rabbitmq
  node_dir="$dir"
}

ctl() { local n=$1; shift; (node_env "$n"; as_rabbit rabbitmqctl -q "$@"); }

node_answers() { (node_env "$1"; as_rabbit rabbitmq-diagnostics -q check_running >/dev/null 2>&1); }
node_vm_answers() { (node_env "$1"; as_rabbit rabbitmq-diagnostics -q ping >/dev/null 2>&1); }

start_node() {
  local n=$1
  (
    node_env "$n"
    mkdir -p "$RABBITMQ_LOG_BASE" "$RABBITMQ_MNESIA_BASE"
    if as_rabbit rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
      exit 0
    fi
    port_in_use "$RABBITMQ_NODE_PORT" && die "port $RABBITMQ_NODE_PORT (AMQP of $RABBITMQ_NODENAME) is taken by another program; set CE_CLUSTER_AMQP_PORTS"
    cat > "$node_dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBITMQ_NODE_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = ${mgmt_ports[$((n - 1))]}
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = ${prometheus_ports[$((n - 1))]}
log.console = false
# a node cut off from the majority pauses instead of going on alone (3 nodes: the usual choice)
cluster_partition_handling = pause_minority
CONF
    if [ ${#tls_ports[@]} -gt 0 ]; then
      cat >> "$node_dir/rabbitmq.conf" <<CONF
listeners.ssl.default = 127.0.0.1:${tls_ports[$((n - 1))]}
ssl_options.cacertfile = $CE_CLUSTER_TLS_DIR/ca.pem
ssl_options.certfile = $CE_CLUSTER_TLS_DIR/server.pem
ssl_options.keyfile = $CE_CLUSTER_TLS_DIR/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
    fi
    echo '[rabbitmq_management,rabbitmq_prometheus].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    chown -R rabbitmq:rabbitmq "$node_dir"
    log "starting $RABBITMQ_NODENAME: AMQP 127.0.0.1:$RABBITMQ_NODE_PORT, dashboard ${mgmt_ports[$((n - 1))]}, distribution $RABBITMQ_DIST_PORT"
    (cd /var/lib/rabbitmq && exec setsid runuser -u rabbitmq -p -- /usr/lib/rabbitmq/bin/rabbitmq-server) \
      > "$node_dir/server.out" 2>&1 < /dev/null &
  )
}

wait_node() {
  local n=$1 deadline=$((SECONDS + start_deadline))
  until node_answers "$n"; do
    [ $SECONDS -lt $deadline ] || die "$(node_name "$n") did not answer within $start_deadline s; see $cstate/$CE_CLUSTER_PREFIX-$n/server.out and log/"
    sleep 1
  done
}

wait_management() {
  local n=$1 deadline=$((SECONDS + start_deadline))
  until curl -fs -o /dev/null "http://127.0.0.1:${mgmt_ports[$((n - 1))]}/"; do
    [ $SECONDS -lt $deadline ] || die "the dashboard of $(node_name "$n") did not answer within $start_deadline s"
    sleep 1
  done
}

# The cluster's members as node $1 sees them, one per line: running ones, or all (no python or jq needed).
cluster_nodes() {
  (node_env "$1"; as_rabbit rabbitmqctl -q eval "rabbit_mnesia:cluster_nodes($2)." 2>/dev/null) \
    | grep -o "[A-Za-z0-9_.-]*@[A-Za-z0-9_.-]*" || true
}
running_members() { cluster_nodes "$1" running; }
members() { cluster_nodes "$1" all; }

join_node() {
  local n=$1 seed
  seed="$(node_name 1)"
  if members "$n" | grep -qx "$seed"; then
    return 0
  fi
  log "joining $(node_name "$n") to $seed"
  local out="$cstate/$CE_CLUSTER_PREFIX-$n/join.out"
  # a fresh node's own empty database is dropped; it takes the cluster's (the tools' chatter goes to join.out)
  { ctl "$n" stop_app && ctl "$n" reset && ctl "$n" join_cluster "$seed" && ctl "$n" start_app; } >"$out" 2>&1 \
    || die "$(node_name "$n") could not join $seed; see $out"
}

wait_cluster() {
  local deadline=$((SECONDS + start_deadline)) running
  until running="$(running_members 1 | wc -l)" && [ "$running" -eq "$count" ]; do
    [ $SECONDS -lt $deadline ] || die "the cluster has $running of $count nodes running after $start_deadline s"
    sleep 1
  done
}

provision() {
  # users, vhosts and permissions live in the cluster's shared database: once, on any node
  local v="$CE_RABBIT_VHOST" u="$CE_RABBIT_USER"
  ctl 1 list_vhosts | grep -qx "$v" || ctl 1 add_vhost "$v"
  if ctl 1 list_users | awk '{print $1}' | grep -qx "$u"; then
    ctl 1 change_password "$u" "$CE_RABBIT_PASSWORD" >/dev/null
  else
    ctl 1 add_user "$u" "$CE_RABBIT_PASSWORD" >/dev/null
  fi
  ctl 1 set_user_tags "$u" administrator
  ctl 1 set_permissions -p "$v" "$u" '.*' '.*' '.*'
  # the per-role users and the broker policies of the single node (infra/lib.sh), here through node 1
  (node_env 1; provision_rabbitmq_users "$v"; apply_policies "$v")
  if ctl 1 list_users | awk '{print $1}' | grep -qx guest; then
    ctl 1 delete_user guest >/dev/null
  fi
}

hosts_setting() {
  local out="" i
  for ((i = 0; i < count; i++)); do out+="${out:+,}127.0.0.1:${amqp_ports[$i]}"; done
  printf '%s' "$out"
}

print_cluster_settings() {
  cat <<OUT
Cluster ready (state in $cstate): $(for ((i = 1; i <= count; i++)); do printf '%s ' "$(node_name "$i")"; done)
  AMQP        $(hosts_setting)  vhost $CE_RABBIT_VHOST, user $CE_RABBIT_USER
  Dashboards  $(for p in "${mgmt_ports[@]}"; do printf 'http://127.0.0.1:%s/ ' "$p"; done)
Connection settings (after source infra/env.sh, which keeps PostgreSQL's):
  export RabbitMq__Hosts=$(hosts_setting)
  export RabbitMq__ManagementHosts=$(IFS=,; m=(); for p in "${mgmt_ports[@]}"; do m+=("127.0.0.1:$p"); done; printf '%s' "${m[*]}")
OUT
}

up() {
  ensure_packages
  cluster_state
  local n
  # the seed first, so the others join a node that is already up; then the others side by side
  start_node 1
  wait_node 1
  for ((n = 2; n <= count; n++)); do start_node "$n"; done
  for ((n = 2; n <= count; n++)); do wait_node "$n"; join_node "$n"; done
  wait_cluster
  for ((n = 1; n <= count; n++)); do wait_management "$n"; done
  provision
  print_cluster_settings
}

stop_node_vm() {
  local n=$1
  (
    node_env "$n"
    if as_rabbit rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
      as_rabbit rabbitmqctl -q stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 && log "$RABBITMQ_NODENAME stopped"
    else
      log "$RABBITMQ_NODENAME was not running"
    fi
  )
}

down() {
  if [ -z "${CE_CLUSTER_STATE:-}" ]; then
    state_dir
    [ -n "$state" ] && [ -d "$state/cluster" ] || { log "no cluster of ours to stop"; return 0; }
    cstate="$state/cluster"
  else
    cstate="$CE_CLUSTER_STATE"
  fi
  local n
  # the last to stop must be the first to start again (it holds the newest cluster state);
  # up starts node 1 first, so node 1 stops last
  for ((n = count; n >= 1; n--)); do stop_node_vm "$n"; done
}

status() {
  cluster_state
  local n
  for ((n = 1; n <= count; n++)); do
    if node_answers "$n"; then
      printf '%s  running   AMQP 127.0.0.1:%s  dashboard %s\n' "$(node_name "$n")" "${amqp_ports[$((n - 1))]}" "${mgmt_ports[$((n - 1))]}"
    elif node_vm_answers "$n"; then
      printf '%s  stopped (application stopped, VM up)\n' "$(node_name "$n")"
    else
      printf '%s  down\n' "$(node_name "$n")"
    fi
  done
  for ((n = 1; n <= count; n++)); do
    if node_answers "$n"; then
      printf 'running members (as %s sees them): %s\n' "$(node_name "$n")" "$(running_members "$n" | tr '\n' ' ')"
      return 0
    fi
  done
  return 1
}

node_arg() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$count" ] || die "give a node number from 1 to $count"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  stop-node) node_arg "${2:-}"; cluster_state; ctl "$2" stop_app >/dev/null 2>&1; log "$(node_name "$2") stopped its RabbitMQ application (the VM stays for start-node)" ;;
  start-node)
    node_arg "${2:-}"; cluster_state
    if node_vm_answers "$2"; then ctl "$2" start_app >/dev/null 2>&1; else start_node "$2"; fi
    wait_node "$2"; wait_cluster; log "$(node_name "$2") is running in the cluster again" ;;
  *) die "usage: bash infra/cluster.sh up|down|status|stop-node N|start-node N" ;;
esac
