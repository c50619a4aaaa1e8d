#!/usr/bin/env bash
# The main job on a fresh machine: brings the local stack up, builds the campaign-events
# command, applies the migrations, then runs the demo sync (campaign-events demo).
# Extra arguments go to the demo command (see: campaign-events demo --help).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bash "$here/up.sh"
# published for this machine and ahead-of-time compiled (ReadyToRun), as the image is: a command
# starts without JIT-compiling most of its code first (docs/adr/0021)
dotnet publish "$repo/src/CampaignEvents.Cli" -c Release --use-current-runtime --self-contained false \
  -p:PublishReadyToRun=true -o "$repo/bin" -v quiet -nologo -clp:NoSummary
cli="$repo/bin/campaign-events"
# as the owner and the broker's administrator: the schema with its grants, the whole topology
source "$here/env.sh" owner
"$cli" migrate --topology
# the demo's world (its reset, the source's rows) as the tables' owner; the pipeline as its own
# logins (README: Identities and permissions)
export ConnectionStrings__ContactsOwner="$ConnectionStrings__Contacts" ConnectionStrings__SourceOwner="$ConnectionStrings__Source"
source "$here/env.sh" pipeline
"$cli" demo "$@"
