#!/usr/bin/env bash
# Schemathesis against the live server and the document it serves: every check on, a fixed seed
# and a bounded number of examples per operation, so it finishes in a few minutes.
# Usage: .ci/schemathesis.sh path/to/cloudcoin-server
set -euo pipefail
cd "$(dirname "$0")/.."
server_bin=${1:?usage: .ci/schemathesis.sh path/to/cloudcoin-server}
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data" "$work/exports"
# Exports and backups stay under a folder of the run; every request needs the token, so the
# ignored_auth check can see that it is enforced.
"$server_bin" --listen 127.0.0.1:0 --data-dir "$work/data" --auth-token schemathesis-token \
  --export-root "$work/exports" 2>"$work/server.log" &
server_pid=$!
addr=
for _ in $(seq 1 600); do
  addr=$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*/\1/p' "$work/server.log" | head -n1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start:"; cat "$work/server.log"; exit 1; }

# positive_data_acceptance also expects 422 for schema-valid requests: a well-formed export of a
# wallet without that much money, or to a folder that does not exist, is refused with 422 by
# design (the SPEC's codes 4134, 4135 and 4193), which no schema can foresee.
cat >"$work/schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
TOML
status=0
(cd "$work" && st run "http://$addr/api/v1/openapi.json" --checks all \
  -H "Authorization: Bearer schemathesis-token" --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
  --generation-codec ascii --seed 1 --no-color --report har --report-dir "$work/report") || status=$?
requests=$(python3 -c 'import json,sys,glob; print(sum(len(json.load(open(f))["log"]["entries"]) for f in glob.glob(sys.argv[1] + "/har-*.json")))' "$work/report")
echo "schemathesis made $requests requests"
if [ $status -ne 0 ]; then
  echo "server log (last lines):"; tail -n 40 "$work/server.log"
fi
exit $status
