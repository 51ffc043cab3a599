// Export an exact amount from a wallet into a file, then poll the task until it ends
// (Node 18 or later: the global fetch).
//
// It sends no token, so the server must run with --no-auth (loopback only):
//   cloudcoin-server --no-auth
// Settings (environment): CLOUDCOIN_API (default http://127.0.0.1:8006/api/v1), WALLET (Default),
// AMOUNT (10.5), FOLDER (/tmp/cloudcoin-out, which must exist), TYPE (zip: stack, png, zip or bin).
//
//   node examples/clients/export.mjs

const api = process.env.CLOUDCOIN_API ?? "http://127.0.0.1:8006/api/v1";
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
  headers: { "Content-Type": "application/json" },
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
  const task = await (await fetch(`${api}/tasks/${id}`)).json();
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
