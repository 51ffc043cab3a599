#!/usr/bin/env bash
# The client examples of examples/clients/ against the real server binary, as a new user runs
# them: with --no-auth each writes its file and prints its success line; without it each stops
# within seconds, printing the server's 401 message.
# Usage: .ci/clients.sh path/to/cloudcoin-server
set -uo pipefail
cd "$(dirname "$0")/.."
server_bin=${1:?usage: .ci/clients.sh path/to/cloudcoin-server}

passed=0
failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAILED: $1"; failed=$((failed + 1)); }

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the server on a free port with the given flags; sets API and server_pid.
start_server() {
  local log=$work/server-$RANDOM.log
  data_dir=$work/data-$RANDOM
  "$server_bin" --listen 127.0.0.1:0 --data-dir "$data_dir" "$@" 2>"$log" &
  server_pid=$!
  for _ in $(seq 1 600); do
    addr=$(sed -n 's/.*listening on http:\/\/\([^,]*\),.*/\1/p' "$log" | head -n1)
    [ -n "$addr" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "${addr:-}" ]; then echo "the server did not start:"; cat "$log"; exit 1; fi
  API=http://$addr/api/v1
}

stop_server() { kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=; addr=; }

# The README's test-coin import, without a token (the server runs with --no-auth) or with $1.
fund() {
  local auth=()
  if [ -n "${1:-}" ]; then auth=(-H "Authorization: Bearer $1"); fi
  local items
  items=$(for f in "$PWD"/examples/test-coins/*.bin; do printf '{"type":"file","data":"%s"},' "$f"; done)
  local id
  id=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"name\":\"Default\",\"items\":[${items%,}]}" "$API/import" | jq -r .payload.id)
  for _ in $(seq 1 300); do
    [ "$(curl -sS "${auth[@]}" "$API/tasks/$id" | jq -r .payload.status)" = completed ] && return 0
    sleep 0.1
  done
  echo "the test-coin import did not complete"; exit 1
}

# run_client NAME EXPECT(success|401) COMMAND... (in an empty HOME, so no token file of the
# machine's own is found; CLIENT_ENV adds variables)
run_client() {
  local name=$1 expect=$2; shift 2
  mkdir -p "$work/home"
  local folder=$work/out-$name-$expect-$RANDOM
  mkdir -p "$folder"
  local out=$work/$name-$expect.out
  local started=$SECONDS
  env -u CLOUDCOIN_TOKEN -u CLOUDCOIN_DATA_DIR -u CLOUDCOIN_SERVER HOME="$work/home" \
    XDG_DATA_HOME="$work/home/share" CLOUDCOIN_API=$API FOLDER=$folder AMOUNT=10.5 TYPE=zip \
    ${CLIENT_ENV:-} timeout 30 "$@" >"$out" 2>&1
  local rc=$? took=$((SECONDS - started))
  if [ "$expect" = success ]; then
    local file="$folder/10.5 CloudCoin #6 ''.zip"
    if [ $rc -eq 0 ] && [ -s "$file" ] && grep -qF "Export completed: $file" "$out"; then
      local how="with --no-auth"
      if [ -n "${CLIENT_ENV:-}" ]; then how="with ${CLIENT_ENV%%=*} set"; fi
      ok "$name ($how) wrote its file and printed its success line"
    else
      fail "$name (${CLIENT_ENV:-with --no-auth}) (exit $rc)"; cat "$out"; ls -l "$folder"
    fi
  else
    if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -le 10 ] && grep -q "requires a token" "$out" \
      && grep -q -- "--no-auth" "$out" && [ -z "$(ls -A "$folder")" ]; then
      ok "$name without --no-auth stopped after ${took}s printing the 401 message"
    else
      fail "$name without --no-auth (exit $rc after ${took}s)"; cat "$out"
    fi
  fi
}

# The README shows the cURL example verbatim.
if python3 - <<'PY'
import sys
readme = open("README.md").read()
block = readme.split("`examples/clients/export.sh`:\n\n```bash\n", 1)[1].split("```\n", 1)[0]
sys.exit(0 if block == open("examples/clients/export.sh").read() else 1)
PY
then ok "the README shows examples/clients/export.sh verbatim"; else fail "the README's copy of export.sh differs"; fi

clients=(curl "bash examples/clients/export.sh" node "node examples/clients/export.mjs")
if command -v go >/dev/null 2>&1; then
  go build -o "$work/export-go" examples/clients/export.go && clients+=(go "$work/export-go")
else
  echo "go is not installed: the Go example is not run"
fi

for ((i = 0; i < ${#clients[@]}; i += 2)); do
  # Each client gets a server of its own, funded with the 126 test units.
  start_server --no-auth
  fund
  run_client "${clients[i]}" success ${clients[i + 1]}
  stop_server
done

start_server
for ((i = 0; i < ${#clients[@]}; i += 2)); do
  run_client "${clients[i]}" 401 ${clients[i + 1]}
done
stop_server

# With a token (the default server), each client sends the one it finds: CLOUDCOIN_TOKEN, or the
# server's token file named by CLOUDCOIN_DATA_DIR.
for ((i = 0; i < ${#clients[@]}; i += 2)); do
  start_server
  token=$(cat "$data_dir/.cloudcoin/api-token")
  fund "$token"
  if [ $((i / 2 % 2)) -eq 0 ]; then
    CLIENT_ENV="CLOUDCOIN_TOKEN=$token" run_client "${clients[i]}" success ${clients[i + 1]}
  else
    CLIENT_ENV="CLOUDCOIN_DATA_DIR=$data_dir" run_client "${clients[i]}" success ${clients[i + 1]}
  fi
  stop_server
done

echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
