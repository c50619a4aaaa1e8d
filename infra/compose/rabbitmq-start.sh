#!/usr/bin/env bash
# The rabbitmq service's start: the image's own entrypoint, then, once the node runs, the password
# of each user of the definitions (which carry none: infra/compose/rabbitmq-definitions.json) from
# CE_ROLE_PASSWORD_<NAME> (default: the name), as infra/lib.sh does for the local stack.
set -euo pipefail
password_of() {
  local var
  var="CE_ROLE_PASSWORD_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')"
  printf '%s' "${!var:-$1}"
}
rm -f /tmp/campaign-events-users-ready
docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server"; wait "$server"' TERM INT
rabbitmqctl -q await_startup --timeout 300
for user in $(rabbitmqctl -q list_users | awk 'NR > 1 || $1 != "user" {print $1}'); do
  [ "$user" = guest ] && { rabbitmqctl -q delete_user guest; continue; }
  rabbitmqctl -q change_password "$user" "$(password_of "$user")"
done
touch /tmp/campaign-events-users-ready
wait "$server"
