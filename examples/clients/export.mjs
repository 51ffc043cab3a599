// Export an exact amount from a wallet into a file, then poll the task until it ends
// (Node 18 or later: the global fetch).
//
// Settings (environment): CLOUDCOIN_SERVER (default http://127.0.0.1:8006, as for the CLI; or
// CLOUDCOIN_API, the /api/v1 address), WALLET (Default), AMOUNT (10.5), FOLDER
// (/tmp/cloudcoin-out, which must exist), TYPE (zip: stack, png, zip or bin).
// The token: CLOUDCOIN_TOKEN, else the server's token file (in CLOUDCOIN_DATA_DIR, else its
// default data directory); with none, the server must run with --no-auth (loopback only).
//
//   node examples/clients/export.mjs

import { readFileSync } from "node:fs";

const api =
  process.env.CLOUDCOIN_API ?? `${process.env.CLOUDCOIN_SERVER ?? "http://127.0.0.1:8006"}/api/v1`;

function findToken() {
  if (process.env.CLOUDCOIN_TOKEN) return process.env.CLOUDCOIN_TOKEN.trim();
  const home = process.env.HOME ?? "";
  const dataDir =
    process.env.CLOUDCOIN_DATA_DIR ||
    `${process.env.XDG_DATA_HOME || `${home}/.local/share`}/cloudcoin-server`;
  try {
    return readFileSync(`${dataDir}/.cloudcoin/api-token`, "utf8").trim();
  } catch {
    return "";
  }
}
const token = findToken();
const auth = token ? { Authorization: `Bearer ${token}` } : {};
const request = {
  name: process.env.WALLET ?? "Default",
  // Sent as a string so the amount stays exact ("10.5"); a JSON number works too.
  amount: process.env.AMOUNT ?? "10.5",
  folder: process.env.FOLDER ?? "/tmp/cloudcoin-out",
  type: process.env.TYPE ?? "zip",
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const started = await fetch(`${api}/export`, {
  method: "POST",
  headers: { "Content-Type": "application/json", ...auth },
  body: JSON.stringify(request),
});
const answer = await started.json();
if (answer.payload.status === "error") {
  console.error(`Export refused: ${answer.payload.message}`);
  process.exit(1);
}
const id = answer.payload.id;
console.log(`Export task ${id} started`);

for (;;) {
  const task = await (await fetch(`${api}/tasks/${id}`, { headers: auth })).json();
  console.log(`Progress: ${task.payload.progress}%`);
  if (task.payload.status === "completed") {
    console.log(`Export completed: ${task.payload.data.file}`);
    process.exit(0);
  }
  if (task.payload.status === "error") {
    console.error(`Export failed: ${task.payload.message}`);
    process.exit(1);
  }
  await sleep(1000);
}
