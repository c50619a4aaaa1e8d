#!/usr/bin/env bash
# The whole test suite on a fresh machine: brings the local stack up (installing PostgreSQL and
# RabbitMQ if missing), then runs every test against it and prints the totals on the last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

bash "$here/up.sh"
source "$here/env.sh" owner   # the harness is the administrator (its arguments are dotnet test's)

# docker-compose.yml is validated by a test with Debian's docker-compose (no Docker engine needed)
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "[infra] installing docker-compose (used to validate docker-compose.yml)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; } \
    || echo "[infra] warning: docker-compose could not be installed; its test fails under CI=true" >&2
fi

# the contract and workflow checks run checkers from npm (installed by the tests into .stack/npm)
if ! command -v npm >/dev/null 2>&1; then
  echo "[infra] installing nodejs and npm (the AsyncAPI CLI and the workflow validator run on them)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; } \
    || echo "[infra] warning: npm could not be installed; the contract and workflow checks fail" >&2
fi

# the alert rules (infra/compose/observability) are checked with promtool, from Debian's prometheus
# package; like infra/lib.sh's installs, service starts are forbidden (policy-rc.d), so no
# system-wide Prometheus starts
if ! command -v promtool >/dev/null 2>&1; then
  echo "[infra] installing prometheus (its promtool checks the alert rules)" >&2
  policy=/usr/sbin/policy-rc.d placed=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; placed=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; } \
    || echo "[infra] warning: prometheus could not be installed; the alert rule check fails under CI=true" >&2
  if [ "$placed" -eq 1 ]; then rm -f "$policy"; fi
fi

results="$repo/TestResults"
rm -rf "$results"
status=0
dotnet test "$repo/CampaignEvents.sln" --logger "trx" --logger "console;verbosity=normal" \
  --results-directory "$results" "$@" || status=$?

# the fault matrix's table, when it ran (README "Reliability")
if [ -f "$results/fault-matrix.md" ]; then cat "$results/fault-matrix.md"; fi

# Totals read from the TRX files, so a run that executed no test shows as such.
python3 - "$results" <<'PY' || status=1
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(f"{sys.argv[1]}/*.trx"):
    c = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    passed += int(c.get("passed", 0))
    failed += int(c.get("failed", 0)) + int(c.get("error", 0)) + int(c.get("timeout", 0)) + int(c.get("aborted", 0))
    # VSTest counts a skipped test in total but not in executed (notExecuted stays 0)
    skipped += int(c.get("total", 0)) - int(c.get("executed", 0))
# Each failed test by name with the start of its message, last, where a log's tail shows it.
for path in glob.glob(f"{sys.argv[1]}/*.trx"):
    for r in ET.parse(path).getroot().iter(f"{{{ns['t']}}}UnitTestResult"):
        if r.get("outcome") in ("Passed", "NotExecuted"):
            continue
        message = r.find("t:Output/t:ErrorInfo/t:Message", ns)
        text = (message.text or "").strip() if message is not None else "(no message)"
        lines = text.splitlines()
        print(f"FAILED {r.get('testName')} ({r.get('duration')})")
        for l in lines[:6]:
            print(f"    {l[:300]}")
        if len(lines) > 6:
            print(f"    ... {len(lines) - 6} more lines in {path}")
line = f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
print(line)
sys.exit(1 if failed or passed == 0 else 0)
PY
exit $status
