#!/usr/bin/env bash
# Export an exact amount from a wallet into a file, then poll the task until it ends (curl + jq).
#
# It sends no token, so the server must run with --no-auth (loopback only):
#   cloudcoin-server --no-auth
# Settings (environment): CLOUDCOIN_API (default http://127.0.0.1:8006/api/v1), WALLET (Default),
# AMOUNT (10.5), FOLDER (/tmp/cloudcoin-out, which must exist), TYPE (zip: stack, png, zip or bin).
set -euo pipefail

API=${CLOUDCOIN_API:-http://127.0.0.1:8006/api/v1}
WALLET=${WALLET:-Default}
AMOUNT=${AMOUNT:-10.5}
FOLDER=${FOLDER:-/tmp/cloudcoin-out}
TYPE=${TYPE:-zip}

# The amount goes as a JSON string so it stays exact ("10.5"); a JSON number works too.
request=$(jq -n --arg name "$WALLET" --arg amount "$AMOUNT" --arg folder "$FOLDER" \
  --arg type "$TYPE" '{name: $name, amount: $amount, folder: $folder, type: $type}')
answer=$(curl -sS -H 'Content-Type: application/json' -d "$request" "$API/export")
if [ "$(jq -r '.payload.status // empty' <<<"$answer")" = error ]; then
  echo "Export refused: $(jq -r '.payload.message' <<<"$answer")" >&2
  exit 1
fi
id=$(jq -r '.payload.id' <<<"$answer")
echo "Export task $id started"

while true; do
  task=$(curl -sS "$API/tasks/$id")
  echo "Progress: $(jq -r '.payload.progress' <<<"$task")%"
  case $(jq -r '.payload.status' <<<"$task") in
    completed)
      echo "Export completed: $(jq -r '.payload.data.file' <<<"$task")"
      exit 0
      ;;
    error)
      echo "Export failed: $(jq -r '.payload.message' <<<"$task")" >&2
      exit 1
      ;;
  esac
  sleep 1
done
