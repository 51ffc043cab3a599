// The wallet page. Plain JavaScript, no framework, no build step. It talks only to /api/v1 on
// the server that served it, and inserts everything the server says as text (textContent,
// text nodes), never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const PAGE_HEADERS = { 'X-CloudCoin-Page': '1' };
// JSON numbers that are amounts keep their exact text (a double would round big amounts).
const AMOUNT_KEYS = new Set(['balance', 'amount', 'below', 'above', 'requested']);

/** An element with text children (strings become text nodes) and plain attributes. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

function parseJson(text) {
  return JSON.parse(text, (key, value, context) => {
    if (AMOUNT_KEYS.has(key) && typeof value === 'number' && context && context.source) {
      return context.source;
    }
    return typeof value === 'number' && AMOUNT_KEYS.has(key) ? String(value) : value;
  });
}

class ApiError extends Error {
  constructor(status, payload) {
    super((payload && payload.message) || `the server answered ${status}`);
    this.status = status;
    this.code = payload && payload.code;
    this.details = (payload && payload.details) || {};
  }
}

/** One call to /api/v1: resolves with the payload, or throws ApiError with the server's message. */
async function api(method, path, body) {
  const init = { method, headers: { ...PAGE_HEADERS }, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch('/api/v1' + path, init);
  } catch (e) {
    throw new ApiError(0, { message: 'the server does not answer: is cloudcoin-server still running?' });
  }
  const text = await response.text();
  let envelope;
  try {
    envelope = parseJson(text);
  } catch (e) {
    throw new ApiError(response.status, { message: `the server answered ${response.status} without JSON` });
  }
  if (envelope.status === 'success') {
    signedIn(true);
    return envelope.payload;
  }
  if (response.status === 401) signedIn(false);
  throw new ApiError(response.status, envelope.payload);
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a task until it finishes, calling onUpdate with each view of it. */
async function follow(id, onUpdate) {
  for (;;) {
    const task = await api('GET', '/tasks/' + encodeURIComponent(id));
    if (onUpdate) onUpdate(task);
    if (task.status !== 'running') {
      refreshWallets();
      return task;
    }
    await delay(200);
  }
}

/** `n` and the noun that agrees with it: plural(1, 'coin', 'coins') is "1 coin". */
function plural(n, one, many) {
  return Number(n) === 1 ? `1 ${one}` : `${n} ${many}`;
}

/** `one` when n is 1, else `many`: the verb or pronoun that agrees with a count. */
function agree(n, one, many) {
  return Number(n) === 1 ? one : many;
}

function coinsText(n) {
  return plural(n, 'coin', 'coins');
}

function setStatus(node, text, kind) {
  node.textContent = text;
  node.className = 'status' + (kind ? ' ' + kind : '');
}

function notice(text, bad) {
  const n = $('notice');
  n.textContent = text;
  n.className = 'notice' + (bad ? ' bad' : '');
  n.hidden = !text;
}

// ---- signing in -------------------------------------------------------------------------

let isSignedIn = null;
function signedIn(yes) {
  if (isSignedIn === yes) return;
  isSignedIn = yes;
  $('signin').hidden = yes;
  $('app').hidden = !yes;
  $('tabs').hidden = !yes;
}

// ---- screens ----------------------------------------------------------------------------

function show(screen) {
  for (const s of document.querySelectorAll('.screen')) s.hidden = s.id !== 'screen-' + screen;
  for (const t of document.querySelectorAll('.tab')) {
    t.classList.toggle('active', t.dataset.screen === screen);
  }
  if (screen !== 'print') history.replaceState(null, '', '#' + screen);
}

// ---- wallets ----------------------------------------------------------------------------

let wallets = [];

function breakdownTable(title, map, label) {
  const entries = Array.isArray(map) ? map : Object.entries(map || {});
  const rows = entries.filter(([, n]) => n > 0);
  const table = el('table', {}, el('caption', {}, title));
  if (rows.length === 0) table.append(el('tr', {}, el('td', { class: 'muted' }, 'none')));
  for (const [k, n] of rows) {
    const name = label(k);
    table.append(el('tr', {}, typeof name === 'string' ? el('td', {}, name) : name, el('td', { class: 'n' }, String(n))));
  }
  return table;
}

/** The denominations, largest first, as [key, count] pairs (an object would put "1", "10",
 *  "100" before "0.1": JavaScript orders integer-like keys first). */
function sortedByValue(map) {
  return Object.entries(map || {}).sort(([a], [b]) => Number(b) - Number(a));
}

/** What each wallet folder (state) means, for the glossary and the breakdown. */
const STATES = [
  ['Bank', 'ready to spend: the RAIDA (the 25 servers that check CloudCoins) agree the coin is this wallet\'s. Counted in the balance.'],
  ['Fracked', 'this wallet\'s coin, but a few RAIDA do not have its key yet; healing repairs it. Counted in the balance.'],
  ['Limbo', 'an answer from the RAIDA went missing, so it is not yet known whether the coin has its new key; healing settles it. Not in the balance until then.'],
  ['Suspect', 'set aside: the wallet found two copies of this coin with different keys, so neither is spent until the coin is looked into. Not in the balance.'],
  ['Counterfeit', 'the RAIDA say it is not this wallet\'s money. Kept apart, never counted.'],
  ['Sent', 'the record of coins sent away in an export: not this wallet\'s money any more.'],
  ['Import', 'files waiting to be picked up into the wallet.'],
];
const STATE_MEANING = new Map(STATES);

/** The few words a card shows beside a state whose coins the balance does not count. */
const STATE_NOTE = { Limbo: 'not in balance yet', Suspect: 'set aside', Counterfeit: 'not money', Sent: 'sent away' };

function stateLabel(folder) {
  const meaning = STATE_MEANING.get(folder);
  const note = STATE_NOTE[folder];
  return el('td', meaning ? { title: `${folder}: ${meaning}` } : {}, el('span', { class: 'state' }, folder),
    note ? el('span', { class: 'muted state-note' }, ` (${note})`) : null);
}

/** Whether the wallet holds coins the balance does not count (Limbo, Suspect, …): then the
 *  card's coin count says it counts the balance's coins only. */
function outsideBalance(detail) {
  const folders = Object.entries((detail && detail.folders) || {});
  return folders.some(([folder, n]) => n > 0 && folder !== 'Bank' && folder !== 'Fracked');
}

function walletCard(w, detail) {
  const card = el('article', { class: 'card', 'data-wallet': w.name },
    el('h3', { class: 'wallet-name' }, w.name),
    el('p', { class: 'balance' }, el('span', { class: 'amount' }, w.balance), ' ', el('span', { class: 'unit' }, 'CC')),
    el('p', { class: 'muted coin-count' }, coinsText(w.coins) + (outsideBalance(detail) ? ' in the balance' : '')));
  if (detail) {
    card.append(el('div', { class: 'breakdown' },
      breakdownTable('By denomination', sortedByValue(detail.denominations), (d) => `${d} CC coins`),
      breakdownTable('By state (folder)', detail.folders, stateLabel)));
  }
  if (w.coins === 0 && !outsideBalance(detail)) {
    // A newcomer's first sight: an empty wallet says how coins come in.
    const receive = el('button', { type: 'button', class: 'secondary go-receive' }, 'Receive coins');
    receive.addEventListener('click', () => {
      $('import-wallet').value = w.name;
      show('import');
    });
    card.append(el('p', { class: 'empty-hint' },
      'No coins yet. Coins come as files (or printed paper wallets) someone sends you: drop them on the Receive screen.'),
    el('div', { class: 'row' }, receive));
  }
  const del = el('button', { type: 'button', class: 'danger' }, 'Delete');
  const status = el('p', { class: 'status' });
  del.addEventListener('click', async () => {
    if (del.dataset.armed !== '1') {
      del.dataset.armed = '1';
      del.textContent = `Really delete ${w.name}?`;
      return;
    }
    del.disabled = true;
    try {
      await api('DELETE', '/wallets/' + encodeURIComponent(w.name));
      notice(`Wallet ${w.name} deleted.`);
      refreshWallets();
    } catch (e) {
      setStatus(status, e.message, 'bad');
      del.disabled = false;
      del.dataset.armed = '';
      del.textContent = 'Delete';
    }
  });
  card.append(el('div', { class: 'row' }, del), status);
  return card;
}

let refreshing = null;
async function refreshWallets() {
  if (refreshing) return refreshing;
  refreshing = (async () => {
    try {
      wallets = await api('GET', '/wallets');
      const details = await Promise.all(wallets.map((w) =>
        api('GET', '/wallets/' + encodeURIComponent(w.name)).catch(() => null)));
      const list = $('wallet-list');
      list.replaceChildren(...wallets.map((w, i) => walletCard(w, details[i])));
      if (wallets.length === 0) list.append(el('p', { class: 'muted' }, 'No wallets yet: create one below.'));
      for (const select of document.querySelectorAll('.wallet-select')) {
        const chosen = select.value;
        select.replaceChildren(...wallets.map((w) =>
          el('option', { value: w.name }, `${w.name} (${w.balance} CC)`)));
        if (wallets.some((w) => w.name === chosen)) select.value = chosen;
      }
    } catch (e) {
      if (e.status !== 401) notice(e.message, true);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

$('create-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('create-name').value.trim();
  try {
    await api('POST', '/wallets', { name });
    setStatus($('create-status'), `Wallet ${name} created.`, 'ok');
    $('create-name').value = '';
    refreshWallets();
  } catch (e) {
    setStatus($('create-status'), e.message, 'bad');
  }
});

// ---- downloads --------------------------------------------------------------------------

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fetches a task's file and checks its SHA-256; resolves with { blob, name, checked }. */
async function fetchTaskFile(taskId, sha256, path) {
  const response = await fetch(`/api/v1/tasks/${encodeURIComponent(taskId)}/file`, {
    headers: PAGE_HEADERS, credentials: 'same-origin', cache: 'no-store',
  });
  if (!response.ok) {
    let message = `the server answered ${response.status}`;
    try { message = parseJson(await response.text()).payload.message; } catch (e) { /* keep it */ }
    throw new Error(message);
  }
  const blob = await response.blob();
  let checked = false;
  if (window.crypto && crypto.subtle) {
    const digest = hex(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    if (digest !== sha256) throw new Error('the downloaded bytes do not match the file\'s SHA-256');
    checked = true;
  }
  const name = String(path).split('/').pop() || 'cloudcoin-file';
  return { blob, name, checked };
}

async function download(taskId, sha256, path, statusNode) {
  setStatus(statusNode, 'Downloading…');
  try {
    const { blob, name, checked } = await fetchTaskFile(taskId, sha256, path);
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    setStatus(statusNode, `Downloaded ${name}: ${blob.size} bytes` +
      (checked ? ', SHA-256 checked.' : '.'), 'ok');
    statusNode.dataset.sha256 = checked ? sha256 : '';
  } catch (e) {
    setStatus(statusNode, 'Download failed: ' + e.message, 'bad');
  }
}

// ---- export -----------------------------------------------------------------------------

// The folders are on the server's computer; the API does not list them (a page must not be
// able to browse the server's disk), so the page remembers the folders that worked.
const FOLDER_KEY = 'cloudcoin.folder';
const RECENT_KEY = 'cloudcoin.folders';
let lastExport = null;

function recentFolders() {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
    return Array.isArray(list) ? list.filter((f) => typeof f === 'string' && f) : [];
  } catch (e) {
    return [];
  }
}

function showRecentFolders() {
  $('recent-folders').replaceChildren(...recentFolders().map((f) => el('option', { value: f })));
}

/** Remembers a folder that the server accepted, for `which` screen and the recent list. */
function rememberFolder(which, folder) {
  try {
    localStorage.setItem(`${FOLDER_KEY}.${which}`, folder);
    const recent = [folder, ...recentFolders().filter((f) => f !== folder)].slice(0, 6);
    localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
  } catch (e) { /* private mode */ }
  showRecentFolders();
}

function restoreFolders() {
  try {
    const old = localStorage.getItem(FOLDER_KEY);
    for (const which of ['export', 'backup']) {
      const folder = localStorage.getItem(`${FOLDER_KEY}.${which}`) || old;
      if (folder && !$(`${which}-folder`).value) $(`${which}-folder`).value = folder;
    }
  } catch (e) { /* private mode */ }
  showRecentFolders();
}

function showNearest(e, amount) {
  const box = $('nearest');
  const buttons = $('nearest-buttons');
  buttons.replaceChildren();
  const offers = [e.details.below, e.details.above].filter((x) => x !== undefined && x !== null && x !== '0');
  $('nearest-text').textContent = offers.length
    ? `No set of coins in this wallet makes exactly ${amount} CC. The nearest amounts it can send:`
    : e.message;
  for (const offer of offers) {
    const b = el('button', { type: 'button', class: 'secondary nearest', 'data-amount': offer }, `${offer} CC`);
    b.addEventListener('click', () => {
      $('export-amount').value = offer;
      box.hidden = true;
      $('export-amount').focus();
    });
    buttons.append(b);
  }
  // With the network, the wallet can break a larger coin into smaller ones with the RAIDA.
  if (networkOnline) {
    const change = el('button', { type: 'button', id: 'make-change' }, `Make change and send exactly ${amount} CC`);
    change.addEventListener('click', () => {
      box.hidden = true;
      startExport(true);
    });
    buttons.append(change);
    $('nearest-text').textContent = `No set of coins in this wallet makes exactly ${amount} CC. ` +
      'Send one of the nearest amounts, or let the wallet break a larger coin into smaller ones ' +
      'with the RAIDA (make change) and send exactly this amount:';
  }
  box.hidden = false;
}

$('export-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  startExport(false);
});

/** Starts the export the form describes; breaks coins into change only when asked to. */
async function startExport(makeChange) {
  const body = {
    name: $('export-wallet').value,
    amount: $('export-amount').value.trim(),
    type: $('export-type').value,
    folder: $('export-folder').value.trim(),
    make_change: makeChange,
  };
  const tag = $('export-tag').value.trim();
  if (tag) body.tag = tag;
  $('nearest').hidden = true;
  $('export-progress-box').hidden = true;
  $('export-progress').value = 0;
  $('export-percent').textContent = '0 %';
  $('export-result').hidden = true;
  $('export-actions').hidden = true;
  setStatus($('export-download-status'), '');
  setStatus($('export-status'), 'Starting…');
  $('export-button').disabled = true;
  try {
    const task = await api('POST', '/export', body);
    rememberFolder('export', body.folder);
    $('export-progress-box').hidden = false;
    const done = await follow(task.id, (t) => {
      $('export-progress').value = t.progress;
      $('export-percent').textContent = `${t.progress} %`;
      $('export-message').textContent = t.message;
    });
    if (done.status === 'completed') {
      const d = done.data;
      lastExport = { id: done.id, sha256: d.sha256, file: d.file, type: body.type };
      $('export-file').textContent = d.file;
      $('export-coins').textContent = `${coinsText(d.coins)}, ${d.amount} CC`;
      $('export-sha').textContent = d.sha256;
      $('export-result').hidden = false;
      $('export-actions').hidden = false;
      $('export-print').hidden = body.type !== 'png';
      setStatus($('export-status'), `Exported ${d.amount} CC. The coins are now in the file, no longer in the wallet.` +
        (networkOnline ? ' Until someone imports the file, the Network screen can take them back.' : ''), 'ok');
    } else {
      setStatus($('export-status'), 'The export failed: ' + ((done.data && done.data.message) || done.message), 'bad');
    }
  } catch (e) {
    setStatus($('export-status'), '');
    if (e.code === 4134) showNearest(e, body.amount);
    else setStatus($('export-status'), e.message, 'bad');
  } finally {
    $('export-button').disabled = false;
  }
}

$('export-download').addEventListener('click', () => {
  if (lastExport) download(lastExport.id, lastExport.sha256, lastExport.file, $('export-download-status'));
});

// ---- print view -------------------------------------------------------------------------

let printUrl = null;
$('export-print').addEventListener('click', async () => {
  if (!lastExport) return;
  try {
    const { blob } = await fetchTaskFile(lastExport.id, lastExport.sha256, lastExport.file);
    if (printUrl) URL.revokeObjectURL(printUrl);
    printUrl = URL.createObjectURL(blob);
    $('print-image').src = printUrl;
    show('print');
  } catch (e) {
    setStatus($('export-download-status'), 'Cannot show the paper wallet: ' + e.message, 'bad');
  }
});
$('print-now').addEventListener('click', () => window.print());
$('print-back').addEventListener('click', () => show('export'));

// ---- import -----------------------------------------------------------------------------

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(new Error('the browser could not read the file'));
    reader.readAsDataURL(file);
  });
}

// The browser sends each file's bytes, so the server names the file "inline #0"; the page knows
// the file's own name and puts it back wherever the person reads about that file.
const IMPORT_NAMES_KEY = 'cloudcoin.importNames';
const importNames = new Map();
try {
  for (const [id, name] of JSON.parse(sessionStorage.getItem(IMPORT_NAMES_KEY) || '[]')) importNames.set(id, name);
} catch (e) { /* private mode, or nothing kept */ }

function rememberImportName(taskId, name) {
  importNames.set(taskId, name);
  while (importNames.size > 200) importNames.delete(importNames.keys().next().value);
  try { sessionStorage.setItem(IMPORT_NAMES_KEY, JSON.stringify([...importNames])); } catch (e) { /* private mode */ }
}

/** The server's text about an uploaded file, with the file's own name for the source
 *  "inline #0" the page's upload is called by. (Sent-away refusals, whose reason names the
 *  command line's and the API's way to store them, are shown in the page's own words.) */
function named(text, fileName) {
  const t = String(text === undefined || text === null ? '' : text);
  return fileName ? t.replace(/\binline #0\b/g, `"${fileName}"`) : t;
}

/** The code of the refusal of a coin this server sent away, which the import's allow_sent
 *  stores (a rejection's `code`; the API document's x-error-codes list every kind). */
const REFUSED_SENT_AWAY = 4328;

function describeImport(task, fileName) {
  const d = task.data || {};
  if (d.code !== undefined) return { state: 'rejected', text: named(d.message || task.message, fileName), sent: [] };
  const rejected = d.rejected || [];
  const sent = rejected.filter((r) => r.code === REFUSED_SENT_AWAY);
  const reasons = rejected.filter((r) => r.code !== REFUSED_SENT_AWAY).map((r) => named(r.reason, fileName));
  const parts = [];
  if (d.imported > 0) parts.push(`imported ${coinsText(d.imported)} (${d.amount} CC)`);
  if (d.already_present > 0) parts.push(`${coinsText(d.already_present)} already in the wallet`);
  if (sent.length) {
    parts.push(`${coinsText(sent.length)} not stored: this server sent ${agree(sent.length, 'it', 'them')} away earlier`);
  }
  if (reasons.length) parts.push('rejected: ' + reasons.join('; '));
  if (parts.length === 0) parts.push(named(task.message, fileName));
  const state = d.imported > 0 ? 'imported' : (d.already_present > 0 ? 'present' : 'rejected');
  return { state, text: parts.join(', '), sent };
}

/** Says what storing sent-away coins means and offers it, only once the person confirms. */
function sentChoice(sent, onAllow) {
  const n = sent.length;
  // Which refusals these are comes from their code; only the words shown are taken from the
  // first one's reason ("coin … was sent away from wallet W of this server in the file F
  // (export E); whoever …"): the part that says where from, or a plain "from this server".
  const first = String(sent[0].reason).split('; whoever holds')[0];
  const at = first.indexOf(' was sent away ');
  const where = at < 0 ? 'from this server in an export' : first.slice(at + ' was sent away '.length);
  const box = el('div', { class: 'sent-choice' },
    el('p', {}, n === 1 ? `1 coin in this file was sent away ${where}.` :
      `${coinsText(n)} in this file were sent away from this server; the first ${where}.`),
    el('p', {}, `Whoever holds that exported file can spend ${agree(n, 'this coin', 'these coins')} too, so the wallet ` +
      'did not store ' + agree(n, 'it', 'them') + ' again on its own. Import ' + agree(n, 'it', 'them') +
      ' only if the file is yours and no one else has a copy (an export you made and never gave away). ' +
      'If someone sent you this file, ask them for a new one instead.' +
      (networkOnline ? ' With the RAIDA network, this import claims the coins: afterwards only this wallet can spend them.' : '')));
  const tick = el('input', { type: 'checkbox', class: 'sent-confirm' });
  const button = el('button', { type: 'button', class: 'secondary sent-allow', disabled: '' },
    `Import the sent-away ${agree(n, 'coin', 'coins')} again`);
  tick.addEventListener('change', () => { button.disabled = !tick.checked; });
  button.addEventListener('click', () => {
    if (!tick.checked) return;
    button.disabled = true;
    tick.disabled = true;
    onAllow();
  });
  box.append(el('label', {}, tick, 'This file is mine and no one else has a copy of it'), el('div', { class: 'row' }, button));
  return box;
}

const GRADES = [
  ['bank', 'in Bank (claimed, ready to spend)'],
  ['fracked', 'Fracked (claimed; a few RAIDA lack the new key, healing repairs them)'],
  ['limbo', 'in Limbo (too few answers; healing settles them, not in the balance meanwhile)'],
  ['counterfeit', 'counterfeit (not money, kept apart)'],
];

/** What the import's claim did with the RAIDA: the grades, or why nothing was claimed. */
function describeClaim(task) {
  const c = (task.data || {}).claim;
  if (!c) return '';
  // Offline, every import says the same: a short line, the Network screen says the rest.
  if (!c.claimed && networkOnline === false) {
    return 'not claimed (offline mode): whoever sent these coins can still spend them until they are claimed; see the Network screen.';
  }
  if (!c.claimed) return c.note;
  const grades = GRADES.filter(([k]) => c[k] && c[k].coins > 0)
    .map(([k, words]) => `${coinsText(c[k].coins)} (${c[k].amount} CC) ${words}`);
  return 'Claimed with the RAIDA: ' + (grades.length ? grades.join('; ') : 'no new coins') + '.';
}

/** Imports one file into `wallet`, showing what happened in its row. */
async function importOne(wallet, file, li, status, allowSent) {
  for (const old of li.querySelectorAll('.claim, .sent-choice')) old.remove();
  li.dataset.state = 'pending';
  try {
    status.textContent = 'reading…';
    const data = await readBase64(file);
    status.textContent = 'importing…';
    const body = { name: wallet, items: [{ type: 'inline', data }] };
    // Only ever after the person's confirmation in sentChoice, never by default.
    if (allowSent) body.allow_sent = true;
    const task = await api('POST', '/import', body);
    rememberImportName(task.id, file.name);
    const done = await follow(task.id);
    const { state, text, sent } = describeImport(done, file.name);
    li.dataset.state = state;
    status.textContent = text;
    const claim = describeClaim(done);
    if (claim && (done.data.imported > 0)) li.append(el('span', { class: 'claim' }, claim));
    if (sent.length && !allowSent) li.append(sentChoice(sent, () => importOne(wallet, file, li, status, true)));
  } catch (e) {
    li.dataset.state = 'rejected';
    status.textContent = named(e.message, file.name);
  }
}

async function importFiles(files) {
  const wallet = $('import-wallet').value;
  const rows = Array.from(files, (file) => {
    const status = el('span', { class: 'what-happened' }, 'waiting…');
    const li = el('li', { 'data-state': 'pending' }, el('div', { class: 'name' }, file.name), status);
    $('import-results').prepend(li);
    return { file, li, status };
  });
  for (const { file, li, status } of rows) await importOne(wallet, file, li, status, false);
}

const drop = $('drop');
drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  drop.classList.remove('over');
  if (ev.dataTransfer && ev.dataTransfer.files.length) importFiles(ev.dataTransfer.files);
});
$('import-files').addEventListener('change', (ev) => {
  const files = Array.from(ev.target.files);
  ev.target.value = '';
  if (files.length) importFiles(files);
});
// A file dropped anywhere else must not make the browser leave the page.
window.addEventListener('dragover', (ev) => ev.preventDefault());
window.addEventListener('drop', (ev) => ev.preventDefault());

// ---- backup -----------------------------------------------------------------------------

let lastBackup = null;
$('backup-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = { name: $('backup-wallet').value, folder: $('backup-folder').value.trim() };
  $('backup-result').hidden = true;
  $('backup-progress-box').hidden = true;
  $('backup-download').hidden = true;
  setStatus($('backup-download-status'), '');
  setStatus($('backup-status'), 'Starting…');
  $('backup-button').disabled = true;
  try {
    const task = await api('POST', '/backup', body);
    rememberFolder('backup', body.folder);
    $('backup-progress-box').hidden = false;
    const done = await follow(task.id, (t) => { $('backup-progress').value = t.progress; });
    if (done.status === 'completed') {
      const d = done.data;
      lastBackup = { id: done.id, sha256: d.sha256, file: d.file };
      $('backup-file').textContent = d.file;
      $('backup-coins').textContent = `${coinsText(d.coins)}, ${d.amount} CC`;
      $('backup-sha').textContent = d.sha256;
      $('backup-result').hidden = false;
      $('backup-download').hidden = false;
      setStatus($('backup-status'), 'Backup written. The coins are still in the wallet.', 'ok');
    } else {
      setStatus($('backup-status'), 'The backup failed: ' + ((done.data && done.data.message) || done.message), 'bad');
    }
  } catch (e) {
    setStatus($('backup-status'), e.message, 'bad');
  } finally {
    $('backup-button').disabled = false;
  }
});
$('backup-download').addEventListener('click', () => {
  if (lastBackup) download(lastBackup.id, lastBackup.sha256, lastBackup.file, $('backup-download-status'));
});

// ---- network ----------------------------------------------------------------------------

const NO_NETWORK = 4315;
let networkOnline = null;

async function refreshNetwork() {
  const box = $('network-box');
  const summary = $('network-summary');
  $('network-check').disabled = true;
  summary.textContent = 'Asking each RAIDA…';
  try {
    const status = await api('GET', '/raida');
    networkOnline = true;
    box.className = 'panel';
    $('network-actions').hidden = false;
    $('network-state').hidden = true;
    const quorum = status.up >= 13 ? 'enough to claim and heal coins (13 are needed)' :
      'too few to claim or heal coins now (13 are needed); try again later';
    summary.textContent = `${status.up} of ${status.raida.length} RAIDA answer: ${quorum}.`;
    $('raida-rows').replaceChildren(...status.raida.map((r) => el('tr', { 'data-up': r.up ? 'yes' : 'no' },
      el('td', { class: 'n' }, String(r.id)),
      el('td', { class: 'mono' }, r.address),
      el('td', {}, r.up ? 'yes' : 'no answer'),
      el('td', { class: 'n' }, r.latency_ms === null || r.latency_ms === undefined ? '–' : `${r.latency_ms} ms`))));
    $('raida-table').hidden = false;
    $('heal-button').disabled = false;
    $('reclaim-check').disabled = false;
    $('reclaim-button').disabled = false;
  } catch (e) {
    $('raida-table').hidden = true;
    if (e.code === NO_NETWORK) {
      networkOnline = false;
      box.className = 'panel offline';
      $('network-state').textContent = 'offline';
      $('network-state').hidden = false;
      summary.replaceChildren('Offline mode: this server has no RAIDA network configured. ' +
        'It keeps, sends and receives the coins it holds, but it cannot claim received coins ' +
        '(the sender could still spend them), heal coins, or take back an export. To use the ' +
        'network, start cloudcoin-server with ', el('code', {}, '--raida-list'),
        ' and a file of the 25 RAIDA addresses.');
      $('network-actions').hidden = true;
      $('heal-button').disabled = true;
      $('reclaim-check').disabled = true;
      $('reclaim-button').disabled = true;
    } else {
      summary.textContent = 'Cannot ask the RAIDA: ' + e.message;
    }
  } finally {
    $('network-check').disabled = false;
  }
}

$('network-check').addEventListener('click', refreshNetwork);

function gradeText(g) {
  return g ? `${coinsText(g.coins)} (${g.amount} CC)` : '–';
}

$('heal-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('heal-wallet').value;
  $('heal-result').hidden = true;
  $('heal-progress-box').hidden = true;
  setStatus($('heal-status'), 'Starting…');
  $('heal-button').disabled = true;
  try {
    const task = await api('POST', '/fix', { name });
    $('heal-progress-box').hidden = false;
    const done = await follow(task.id, (t) => {
      $('heal-progress').value = t.progress;
      $('heal-message').textContent = t.message;
    });
    $('heal-progress-box').hidden = true;
    if (done.status === 'completed') {
      const d = done.data;
      $('heal-coins').textContent = coinsText(d.coins);
      $('heal-bank').textContent = gradeText(d.bank);
      $('heal-fracked').textContent = gradeText(d.fracked);
      $('heal-limbo').textContent = gradeText(d.limbo);
      $('heal-counterfeit').textContent = gradeText(d.counterfeit);
      $('heal-result').hidden = false;
      const left = d.fracked.coins + d.limbo.coins;
      setStatus($('heal-status'), d.coins === 0 ? `Nothing to heal in ${name}: every coin is settled.` :
        (left === 0 ? `Healed: every coin of ${name} is settled.` :
          `Healing done for now; ${coinsText(left)} still ${agree(left, 'needs', 'need')} the RAIDA: heal again later.`), left === 0 ? 'ok' : '');
    } else {
      setStatus($('heal-status'), 'Healing failed: ' + ((done.data && done.data.message) || done.message), 'bad');
    }
  } catch (e) {
    $('heal-progress-box').hidden = true;
    setStatus($('heal-status'), e.code === NO_NETWORK ?
      'Offline mode: healing needs the RAIDA network, and this server has none configured.' : e.message, 'bad');
  } finally {
    $('heal-button').disabled = networkOnline === false;
  }
});

// ---- reclaim ----------------------------------------------------------------------------

/** Fills the export choice with the completed exports of the task list (newest first). */
function listExports(tasks) {
  const select = $('reclaim-export');
  const chosen = select.value;
  const exports = tasks.filter((t) => t.type === 'export' && t.status === 'completed' && t.data);
  select.replaceChildren(...exports.map((t) => el('option', { value: t.id },
    `${t.data.amount} CC from ${t.wallet || '?'} at ${new Date(t.started * 1000).toLocaleString()}: ` +
    String(t.data.file).split('/').pop())));
  if (exports.length === 0) select.append(el('option', { value: '' }, 'no finished export in the task list'));
  if (exports.some((t) => t.id === chosen)) select.value = chosen;
}

function showReclaim(d) {
  $('reclaim-unclaimed').textContent = gradeText(d.unclaimed);
  $('reclaim-received').textContent = gradeText(d.received);
  $('reclaim-returned').textContent = gradeText(d.returned);
  $('reclaim-held').textContent = gradeText(d.held);
  $('reclaim-unknown').textContent = gradeText(d.unknown);
  $('reclaim-result').hidden = false;
}

async function reclaim(check) {
  const id = $('reclaim-export').value;
  $('reclaim-result').hidden = true;
  if (!id) {
    setStatus($('reclaim-status'), 'Choose an export first (finished exports of the task list show here).', 'bad');
    return;
  }
  setStatus($('reclaim-status'), check ? 'Asking the RAIDA…' : 'Taking the unclaimed coins back…');
  $('reclaim-check').disabled = true;
  $('reclaim-button').disabled = true;
  try {
    if (check) {
      const d = await api('GET', '/reclaim/' + encodeURIComponent(id));
      showReclaim(d);
      setStatus($('reclaim-status'), d.note, 'ok');
    } else {
      const task = await api('POST', '/reclaim', { task: id });
      const done = await follow(task.id);
      if (done.status === 'completed') {
        showReclaim(done.data);
        setStatus($('reclaim-status'), done.data.note, 'ok');
      } else {
        setStatus($('reclaim-status'), 'Taking back failed: ' + ((done.data && done.data.message) || done.message), 'bad');
      }
    }
  } catch (e) {
    setStatus($('reclaim-status'), e.code === NO_NETWORK ?
      'Offline mode: checking and taking back need the RAIDA network, and this server has none configured.' :
      e.message, 'bad');
  } finally {
    $('reclaim-check').disabled = networkOnline === false;
    $('reclaim-button').disabled = networkOnline === false;
  }
}

$('reclaim-check').addEventListener('click', () => reclaim(true));
$('reclaim-form').addEventListener('submit', (ev) => { ev.preventDefault(); reclaim(false); });

// ---- tasks ------------------------------------------------------------------------------

const KIND = { export: 'Export', import: 'Import', backup: 'Backup', fix: 'Healing', reclaim: 'Take back' };
let taskTimer = null;

function taskItem(t) {
  const when = new Date(t.started * 1000).toLocaleTimeString();
  const bar = el('progress', { max: 100, value: t.progress });
  let outcome = '';
  const d = t.data || {};
  if (t.status === 'completed' && t.type === 'export') outcome = `${d.amount} CC in ${d.file}`;
  else if (t.status === 'completed' && t.type === 'backup') outcome = `${coinsText(d.coins)} in ${d.file}`;
  else if (t.type === 'import' && t.status !== 'running') outcome = describeImport(t, importNames.get(t.id)).text;
  else if (t.status === 'error') outcome = d.message || '';
  if (t.status === 'completed' && t.type === 'fix') outcome = `${coinsText(d.coins)} looked at`;
  const file = t.type === 'import' ? importNames.get(t.id) : undefined;
  let message = named(t.message, file);
  // An import that took nothing: its message repeats its first refusal, which the outcome
  // already says; what the person can do about sent-away coins goes with the outcome.
  if (t.type === 'import' && t.status === 'error' && Array.isArray(d.rejected)) {
    message = 'Nothing could be imported.';
    const sent = d.rejected.filter((r) => r.code === REFUSED_SENT_AWAY).length;
    if (sent > 0) {
      outcome += ` (to store ${agree(sent, 'it', 'them')} anyway, drop the file on the Receive screen again and confirm that it is yours)`;
    }
  }
  const subject = [t.wallet ? `wallet ${t.wallet}` : '', t.amount && t.amount !== '0' ? `${t.amount} CC` : '']
    .filter(Boolean).join(', ');
  return el('li', { 'data-status': t.status, 'data-task': t.id },
    el('div', { class: 'line' },
      el('span', { class: 'what' }, KIND[t.type] || t.type),
      file ? el('span', { class: 'file' }, file) : null,
      subject ? el('span', { class: 'subject' }, subject) : null,
      el('span', { class: 'task-status' }, t.status),
      t.status === 'running' ? bar : null,
      t.status === 'running' ? el('span', {}, `${t.progress} %`) : null,
      el('span', { class: 'muted' }, `started ${when}`)),
    el('div', { class: 'muted' }, message),
    outcome ? el('div', { class: 'outcome' }, outcome) : null);
}

async function refreshTasks() {
  clearTimeout(taskTimer);
  let running = 0;
  try {
    const tasks = await api('GET', '/tasks');
    tasks.sort((a, b) => b.started - a.started);
    running = tasks.filter((t) => t.status === 'running').length;
    listExports(tasks);
    const list = $('task-list');
    if (tasks.length === 0) list.replaceChildren(el('li', { class: 'muted' }, 'No tasks yet.'));
    else list.replaceChildren(...tasks.map(taskItem));
    const badge = $('running-count');
    badge.textContent = String(running);
    badge.hidden = running === 0;
  } catch (e) {
    // The notice or the sign-in panel says what is wrong.
  }
  taskTimer = setTimeout(refreshTasks, running > 0 ? 500 : 2000);
}

// ---- start ------------------------------------------------------------------------------

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => {
    show(tab.dataset.screen);
    if (tab.dataset.screen === 'network') refreshNetwork();
  });
}
restoreFolders();
$('state-glossary').replaceChildren(...STATES.flatMap(([name, meaning]) => [el('dt', {}, name), el('dd', {}, meaning)]));
const first = location.hash.replace('#', '');
show(['wallets', 'export', 'import', 'backup', 'network', 'tasks'].includes(first) ? first : 'wallets');
api('GET', '/info').then((info) => {
  $('server-info').textContent = `${info.name} ${info.version}.`;
}).catch(() => {});
refreshWallets();
refreshTasks();
refreshNetwork();
