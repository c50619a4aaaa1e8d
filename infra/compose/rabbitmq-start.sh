#!/usr/bin/env bash
# The rabbitmq service's start: the image's own entrypoint, then, once the node runs, the password
# of each user of the definitions (which carry none: infra/compose/rabbitmq-definitions.json) from
# its compose secret (/run/secrets/<name>), as infra/lib.sh does for the local stack.
set -euo pipefail
password_of() {
  # the compose secret of the job, /run/secrets/<name with - for _> (docker-compose.yml `secrets:`)
  local file="/run/secrets/$(printf '%s' "$1" | tr '_' '-')"
  [ -r "$file" ] || { echo "campaign-events: no secret $file for $1 (docker-compose.yml secrets:)" >&2; exit 1; }
  cat "$file"
}
rm -f /tmp/campaign-events-users-ready
docker-entrypoint.sh rabbitmq-server &
server=$!
trap 'kill -TERM "$server"; wait "$server"' TERM INT
rabbitmqctl -q await_startup --timeout 300
for user in $(rabbitmqctl -q list_users | awk 'NR > 1 || $1 != "user" {print $1}'); do
  [ "$user" = guest ] && { rabbitmqctl -q delete_user guest; continue; }
  password="$(password_of "$user")"   # an assignment, so a missing secret stops the start (set -e)
  rabbitmqctl -q change_password "$user" "$password"
done
touch /tmp/campaign-events-users-ready
wait "$server"
