#!/usr/bin/env bash
# Export an exact amount from a wallet into a file, then poll the task until it ends (curl + jq).
#
# Settings (environment): CLOUDCOIN_SERVER (default http://127.0.0.1:8006, as for the CLI; or
# CLOUDCOIN_API, the /api/v1 address), WALLET (Default), AMOUNT (10.5), FOLDER (/tmp/cloudcoin-out,
# which must exist), TYPE (zip: stack, png, zip or bin).
# The token: CLOUDCOIN_TOKEN, else the server's token file (in CLOUDCOIN_DATA_DIR, else its default
# data directory); with none, the server must run with --no-auth (loopback only).
set -euo pipefail

API=${CLOUDCOIN_API:-${CLOUDCOIN_SERVER:-http://127.0.0.1:8006}/api/v1}
WALLET=${WALLET:-Default}
AMOUNT=${AMOUNT:-10.5}
FOLDER=${FOLDER:-/tmp/cloudcoin-out}
TYPE=${TYPE:-zip}
TOKEN=${CLOUDCOIN_TOKEN:-}
token_file=${CLOUDCOIN_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/cloudcoin-server}/.cloudcoin/api-token
if [ -z "$TOKEN" ] && [ -r "$token_file" ]; then TOKEN=$(cat "$token_file"); fi
auth=()
if [ -n "$TOKEN" ]; then auth=(-H "Authorization: Bearer $TOKEN"); fi

# The amount goes as a JSON string so it stays exact ("10.5"); a JSON number works too.
request=$(jq -n --arg name "$WALLET" --arg amount "$AMOUNT" --arg folder "$FOLDER" \
  --arg type "$TYPE" '{name: $name, amount: $amount, folder: $folder, type: $type}')
answer=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' -d "$request" "$API/export")
if [ "$(jq -r '.payload.status // empty' <<<"$answer")" = error ]; then
  echo "Export refused: $(jq -r '.payload.message' <<<"$answer")" >&2
  exit 1
fi
id=$(jq -r '.payload.id' <<<"$answer")
echo "Export task $id started"

while true; do
  task=$(curl -sS "${auth[@]}" "$API/tasks/$id")
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
