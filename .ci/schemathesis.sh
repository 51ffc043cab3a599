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
  exit $status
fi

# The RAIDA routes again, with a network: the simulator (built beside the server) holding coins
# the server's wallet claims, and one export whose id the reclaim routes are given (and the
# wallet's name the fix route), so that the check answers its ReclaimData and the reclaim and
# the healing run for real.
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
sim_bin="$(dirname "$server_bin")/cloudcoin-raida-sim"
"$sim_bin" --generate 40 --write-generated "$work/coins.bin" --address-list "$work/raida.txt" \
  2>"$work/sim.log" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 600); do [ -s "$work/raida.txt" ] && break; sleep 0.1; done
[ -s "$work/raida.txt" ] || { echo "the simulator did not start:"; cat "$work/sim.log"; exit 1; }
mkdir -p "$work/data2"
"$server_bin" --listen 127.0.0.1:0 --data-dir "$work/data2" --auth-token schemathesis-token \
  --export-root "$work/exports" --raida-list "$work/raida.txt" 2>"$work/server2.log" &
server_pid=$!
addr=
for _ in $(seq 1 600); do
  addr=$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*/\1/p' "$work/server2.log" | head -n1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start:"; cat "$work/server2.log"; exit 1; }
export_id=$(python3 - "$addr" "$work" <<'PY'
import json, sys, time, urllib.request
addr, work = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(f"http://{addr}/api/v1{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer schemathesis-token", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)["payload"]
def finished(task):
    while task["status"] == "running":
        time.sleep(0.1)
        task = call("GET", f"/tasks/{task['id']}")
    assert task["status"] == "completed", task
    return task
finished(call("POST", "/import", {"name": "Default", "items": [{"type": "file", "data": f"{work}/coins.bin"}]}))
task = finished(call("POST", "/export", {"name": "Default", "amount": "5", "folder": f"{work}/exports", "type": "bin"}))
print(task["id"])
PY
)
echo "a claimed wallet and export $export_id for the RAIDA routes"
mkdir -p "$work/net"
cat >"$work/net/schemathesis.toml" <<TOML
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[dictionaries]
exports = { values = ["$export_id"] }
wallets = { values = ["Default"] }

[[operations]]
include-name = "POST /api/v1/fix"
parameters = { "body.name" = { dictionary = "wallets", probability = 0.5 } }

[[operations]]
include-name = "GET /api/v1/reclaim/{id}"
parameters = { "path.id" = "$export_id" }

[[operations]]
include-name = "POST /api/v1/reclaim"
parameters = { "body.task" = { dictionary = "exports", probability = 0.5 } }
TOML
(cd "$work/net" && st run "http://$addr/api/v1/openapi.json" --checks all \
  --include-path-regex '^/api/v1/(fix|raida|reclaim)' \
  -H "Authorization: Bearer schemathesis-token" --max-examples "${SCHEMATHESIS_EXAMPLES:-30}" \
  --generation-codec ascii --seed 1 --no-color --report har --report-dir "$work/report2") || status=$?
requests=$(python3 -c 'import json,sys,glob; print(sum(len(json.load(open(f))["log"]["entries"]) for f in glob.glob(sys.argv[1] + "/har-*.json")))' "$work/report2")
echo "schemathesis made $requests requests to the RAIDA routes with the network on"
if [ $status -ne 0 ]; then
  echo "server log (last lines):"; tail -n 40 "$work/server2.log"
fi
exit $status
