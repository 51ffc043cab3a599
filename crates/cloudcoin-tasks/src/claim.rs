//! Claiming coins on the RAIDA (pown), and putting a coin's new keys on disk.
//!
//! # An import that claims, step by step
//!
//! 1. **Write ahead.** The import gives each new coin 25 fresh random PANs — coin `k` of the
//!    batch gets blocks `25k` … `25k + 24` of the AES-CTR keystream of one fresh
//!    [`PanSeed`] ([`Keys::give`]) — and writes **one** record for the whole batch,
//!    `.cloudcoin/claim/{wallet}/{task id}.claim`: the seed, then per coin its place in the
//!    keystream, denomination, serial, POWN statuses and current ANs (434 bytes a coin, half
//!    of what the PANs themselves would take); every coin's PANs are checked against the seed
//!    as the record is encoded, and recovery makes them again from it, bit for bit. It is
//!    written and synced under a temporary name while the import still looks for the coins in
//!    the other wallets ([`Draft`]), then renamed and its folder fsynced
//!    ([`ClaimRecord::publish`]). Nothing has been sent yet, and the coins are `Incoming` in
//!    the index (in no folder, not spendable, not exportable). (A record of an older layout —
//!    a format-9 coin file with the PANs, `{task id}.{n}.bin` — is read as well.)
//! 2. **Pown**, to the 25 RAIDA at once. Each coin's answers decide, per RAIDA, its new key
//!    ([`after_pown`]): the PAN where the RAIDA said pass (it holds the PAN now, whatever the
//!    coin's overall grade), the AN where it failed or was not reached; where the request was
//!    sent and no answer came, the RAIDA may hold either, so the coin keeps both.
//! 3. **Store each coin once**, in its grade's folder (`Bank`, `Fracked`, `Counterfeit`, or
//!    `Limbo` with AN and PAN), the way an import stores coins (see `import`: unnamed files, one
//!    `syncfs` per batch, linked without replacing anything, each folder fsynced once).
//! 4. **Remove the record** (and fsync its folder), and only then make the coins free in the
//!    index: while the record exists no coin of it can leave the wallet, so recovery never
//!    meets a record whose coin was exported meanwhile.
//!
//! **Invariant: every PAN is on disk before any RAIDA hears of it, and a missing answer means
//! "maybe applied".** A crash (or a failed store) anywhere after step 1 leaves the record;
//! [`settle_records`] — at start-up before anything is served, and at the start of every
//! healing, which holds the wallet's turn so no claim is under way — puts every coin of it that
//! is not already stored by this claim in `Limbo` with both keys (its ANs before the pown and
//! its PANs), where healing's find settles it, then removes the record. A coin counts as stored
//! by the claim when the wallet holds it with the claim's PANs, or with the claim's PAN as its
//! key on some RAIDA (Bank and Fracked coins hold it on 13 or more). Kept by
//! `bins/cloudcoin-server/tests/it/claim.rs` (`no_pan_reaches_a_raida_before_it_is_on_disk`
//! reads the record from the simulator's log; the `a_server_killed_…` tests crash after the
//! record and after some answers) and the network campaign.
//!
//! # Healing's and reclaim's pown
//!
//! A coin already in a wallet folder that is powned again (healing's step 5, a reclaim) is first
//! rewritten in `Limbo` with its PANs, durably, and [`apply`] then puts the outcome on disk,
//! coin by coin: the new content is written beside the `Limbo` file, made durable with one
//! `syncfs` per batch, renamed over it (the same coin, its new keys), and the file is then moved
//! to its grade's folder without replacing anything. A crash at any point leaves each coin in
//! exactly one file, holding either the keys before the pown (with the PANs) or after it — both
//! of which healing settles.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cloudcoin_domain::{Coin, CoinId, Pown, RAIDA_COUNT, WalletName};
use cloudcoin_raida::{AGREEMENT, Answer, Check, PanSeed, RaidaId};

use crate::durable;
use crate::export::lock;
use crate::network::Network;
use crate::report::ClaimReport;
use crate::store::{Entry, Folder, Hold, Layout, Rewrite, WalletState, read_single_coin};
use crate::task::TaskId;

/// What a coin is after a RAIDA step: its new keys and the folder it belongs in.
#[derive(Debug, Clone)]
pub(crate) struct Settled {
    pub(crate) coin: Coin,
    pub(crate) folder: Folder,
}

/// The coin's keys and grade after a pown that got `answers` (`coin` carries its PANs).
///
/// Per RAIDA: pass → the PAN is the coin's key there now; fail, a status or not sent → the AN
/// still is; no answer → either may be. Authentic with no doubt left: `Bank` when every RAIDA
/// holds the PAN, else `Fracked`, and the PANs are dropped (never needed again). 13 or more
/// fails: `Counterfeit`. Anything else: `Limbo`, keeping both keys.
pub(crate) fn after_pown(coin: &Coin, answers: &[Answer<Check>; RAIDA_COUNT]) -> Settled {
    let Some(pans) = coin.pans().copied() else {
        return Settled { coin: coin.clone(), folder: Folder::Limbo };
    };
    let mut next = coin.clone();
    let (mut pass, mut fail, mut silent) = (0, 0, 0);
    for r in RaidaId::all() {
        let i = r.index();
        next.pown[i] = match &answers[i] {
            Answer::Said(Check::Pass) => {
                next.ans[i] = pans[i];
                pass += 1;
                Pown::Pass
            }
            Answer::Said(_) => {
                fail += 1;
                Pown::Fail
            }
            Answer::NoAnswer(_) => {
                silent += 1;
                Pown::NoReply
            }
            Answer::Status(_) => Pown::Error,
            _ => Pown::Untried,
        };
    }
    let folder = if pass >= AGREEMENT && silent == 0 {
        next = next.without_pans();
        if pass == RAIDA_COUNT { Folder::Bank } else { Folder::Fracked }
    } else if fail >= AGREEMENT {
        Folder::Counterfeit
    } else {
        Folder::Limbo
    };
    Settled { coin: next, folder }
}

/// Claims the coins `ids`, held in `Limbo` with their PANs, and moves each to its grade's
/// folder. Blocking; the caller holds the wallet's turn.
pub(crate) fn claim_stored(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    ids: &[CoinId],
) -> Result<ClaimReport, String> {
    let coins: Vec<Coin> = {
        let s = lock(state);
        ids.iter()
            .filter_map(|id| s.coins.get(id))
            .filter(|e| e.folder == Folder::Limbo && e.coin.pans().is_some())
            .map(|e| (*e.coin).clone())
            .collect()
    };
    let mut report = ClaimReport::default();
    if coins.is_empty() {
        report.claimed_note();
        return Ok(report);
    }
    let answers = net
        .block_on(net.client().pown(&coins))
        .map_err(|e| format!("cannot claim the coins: {e}"))?;
    let settled: Vec<Settled> =
        coins.iter().zip(answers.iter()).map(|(c, (_, a))| after_pown(c, a)).collect();
    count_grades(&mut report, &settled);
    apply(layout, wallet, state, settled)
        .map_err(|e| format!("cannot store the claimed coins: {e}"))?;
    report.claimed_note();
    Ok(report)
}

/// Adds each coin to its grade's count (and names the counterfeit ones).
pub(crate) fn count_grades(report: &mut ClaimReport, settled: &[Settled]) {
    for s in settled {
        match s.folder {
            Folder::Bank => report.bank.add(&s.coin),
            Folder::Fracked => report.fracked.add(&s.coin),
            Folder::Counterfeit => {
                report.counterfeit.add(&s.coin);
                report.counterfeit_coins.push(s.coin.id());
            }
            _ => report.limbo.add(&s.coin),
        }
    }
}

/// Sends one pown for `coins` (each with its PANs, all in a durable [`ClaimRecord`]) and grades
/// each coin by its answers ([`after_pown`]). A pown that could not be made at all leaves every
/// coin in `Limbo` with both keys (it may have reached some RAIDA), and says why. Blocking.
pub(crate) fn pown_and_grade(net: &Network, coins: &[Coin]) -> (Vec<Settled>, Option<String>) {
    let limbo = |c: &Coin| Settled { coin: c.clone(), folder: Folder::Limbo };
    match net.block_on(net.client().pown(coins)) {
        Ok(answers) => {
            // The answers come in request order; a coin without its own (never expected) keeps
            // both keys.
            let mut answers = answers.iter();
            let settled = coins
                .iter()
                .map(|c| match answers.next() {
                    Some((id, a)) if id == c.id() => after_pown(c, a),
                    _ => limbo(c),
                })
                .collect();
            (settled, None)
        }
        Err(e) => (coins.iter().map(limbo).collect(), Some(format!("cannot claim the coins: {e}"))),
    }
}

/// The folder of `wallet`'s claim records.
fn record_folder(layout: &Layout, wallet: &WalletName) -> PathBuf {
    layout.own().join("claim").join(wallet.as_str())
}

/// Creates `dir` (and its parents up to `.cloudcoin/claim`) if needed, durably: a new folder's
/// name is fsynced in its parent.
fn create_durable(layout: &Layout, dir: &Path) -> io::Result<()> {
    if fs::symlink_metadata(dir).is_ok() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    durable::sync_dir(&layout.own().join("claim"))?;
    durable::sync_dir(&layout.own())
}

/// The PANs of a claim: the seed they are made from, and each claimed coin's place in the
/// seed's keystream (coin `k` of the batch has PANs `seed.pans(k, 1)`). The record keeps the
/// seed and the places, not the 400 bytes of PANs a coin.
#[derive(Debug)]
pub(crate) struct Keys {
    pub(crate) seed: PanSeed,
    pub(crate) places: HashMap<CoinId, u32>,
}

impl Keys {
    /// Gives every coin of `coins` that has no PANs 25 fresh ones from one new seed, in order;
    /// coins that came with PANs keep theirs and are not in the keys (they are not claimed).
    pub(crate) fn give<'a>(coins: impl IntoIterator<Item = &'a mut Coin>) -> std::sync::Arc<Keys> {
        let seed = PanSeed::random();
        let mut unkeyed: Vec<&mut Coin> =
            coins.into_iter().filter(|c| c.pans().is_none()).collect();
        let pans = seed.pans(0, unkeyed.len());
        let mut places = HashMap::with_capacity(unkeyed.len());
        for ((coin, set), place) in unkeyed.iter_mut().zip(pans).zip(0u32..) {
            places.insert(coin.id(), place);
            let taken = std::mem::replace(&mut **coin, placeholder());
            **coin = taken.with_pans(set);
        }
        std::sync::Arc::new(Keys { seed, places })
    }

    /// Whether `id` is a coin these keys gave PANs to (a coin to claim).
    pub(crate) fn contains(&self, id: &CoinId) -> bool {
        self.places.contains_key(id)
    }
}

/// A coin with nothing in it, to move a coin out of a `&mut` for a moment.
fn placeholder() -> Coin {
    Coin::new(
        cloudcoin_domain::Denomination::from_code(0),
        cloudcoin_domain::SerialNumber::new(0),
        [[0; 16]; RAIDA_COUNT],
        [Pown::Untried; RAIDA_COUNT],
    )
}

/// The first bytes of a claim record (layout 2: the PAN seed and the coins' places, not their
/// PANs). A record without them is a coin file in format 9 holding the PANs (layout 1).
const RECORD_MAGIC: &[u8; 8] = b"CCCLAIM2";
/// Bytes of a record's head: the magic, the seed, the coin count (u32, little-endian).
const RECORD_HEAD: usize = RECORD_MAGIC.len() + PanSeed::LEN + 4;
/// Bytes of one coin in a record: its place in the keystream (u32 LE), denomination code,
/// serial (u32 LE), 25 POWN nibbles (a byte each), 25 ANs.
const RECORD_COIN: usize = 4 + 1 + 4 + RAIDA_COUNT + 16 * RAIDA_COUNT;
/// Coins a record checks against its seed at a time.
const RECORD_CHUNK: usize = 1024;

/// The record bytes of `coins` (each with the PANs `keys` gave it): the seed and, per coin, its
/// place, id, POWN statuses and ANs. Every coin's PANs are checked to be the seed's at its
/// place, so what the record makes again is exactly what will be sent; a coin whose are not
/// (never expected) is an error, and nothing is written.
fn encode_record(keys: &Keys, coins: &[Coin]) -> io::Result<Vec<u8>> {
    let count = u32::try_from(coins.len())
        .map_err(|_| io::Error::other("too many coins for one claim record"))?;
    let mut bytes = Vec::with_capacity(RECORD_HEAD + coins.len() * RECORD_COIN);
    bytes.extend_from_slice(RECORD_MAGIC);
    bytes.extend_from_slice(&keys.seed.to_bytes());
    bytes.extend_from_slice(&count.to_le_bytes());
    for chunk in coins.chunks(RECORD_CHUNK) {
        let places: Vec<u32> = chunk
            .iter()
            .map(|c| keys.places.get(&c.id()).copied())
            .collect::<Option<_>>()
            .ok_or_else(|| io::Error::other("a coin of the claim has no place in its keys"))?;
        // Places rise through a claim: one run of the keystream covers the chunk.
        let first = places.first().copied().unwrap_or(0);
        let last = places.last().copied().unwrap_or(0);
        let span = usize::try_from(last.saturating_sub(first)).unwrap_or(usize::MAX);
        let made = if last >= first && span < 2 * RECORD_CHUNK {
            keys.seed.pans(first as usize, span + 1)
        } else {
            Vec::new()
        };
        for (coin, place) in chunk.iter().zip(places) {
            let from_seed = match place.checked_sub(first).and_then(|d| made.get(d as usize)) {
                Some(set) => Some(*set),
                None => keys.seed.pans(place as usize, 1).pop(),
            };
            if coin.pans() != from_seed.as_ref() {
                return Err(io::Error::other(format!(
                    "coin {} does not carry the PANs of its claim's seed",
                    coin.id()
                )));
            }
            bytes.extend_from_slice(&place.to_le_bytes());
            bytes.push(coin.denomination.code().to_le_bytes()[0]);
            bytes.extend_from_slice(&coin.serial.get().to_le_bytes());
            bytes.extend(coin.pown.iter().map(|p| p.nibble()));
            for an in &coin.ans {
                bytes.extend_from_slice(an);
            }
        }
    }
    Ok(bytes)
}

/// The coins of a record, each with its PANs made again from the seed. Layout 1 (a coin file)
/// is read as one.
fn decode_record(bytes: &[u8]) -> Result<Vec<Coin>, String> {
    let Some(body) = bytes.strip_prefix(RECORD_MAGIC) else {
        return cloudcoin_codec::decode_bin(bytes).map_err(|e| durable::error_chain(&e));
    };
    let short = || "the claim record is cut short".to_owned();
    let seed: [u8; PanSeed::LEN] =
        body.get(..PanSeed::LEN).ok_or_else(short)?.try_into().map_err(|_| short())?;
    let seed = PanSeed::from_bytes(seed);
    let count: [u8; 4] = body
        .get(PanSeed::LEN..PanSeed::LEN + 4)
        .ok_or_else(short)?
        .try_into()
        .map_err(|_| short())?;
    let count = u32::from_le_bytes(count) as usize;
    let rest = &body[PanSeed::LEN + 4..];
    if rest.len() != count.checked_mul(RECORD_COIN).ok_or_else(short)? {
        return Err(format!(
            "the claim record says {count} coins but holds {} bytes of coins",
            rest.len()
        ));
    }
    let mut coins = Vec::with_capacity(count);
    for raw in rest.chunks_exact(RECORD_COIN) {
        let u32_at = |at: usize| u32::from_le_bytes(raw[at..at + 4].try_into().expect("4 bytes"));
        let place = u32_at(0) as usize;
        let denomination = cloudcoin_domain::Denomination::from_code(i8::from_le_bytes([raw[4]]));
        let serial = cloudcoin_domain::SerialNumber::new(u32_at(5));
        let mut pown = [Pown::Untried; RAIDA_COUNT];
        for (p, &n) in pown.iter_mut().zip(&raw[9..9 + RAIDA_COUNT]) {
            *p = Pown::from_nibble(n)
                .ok_or_else(|| format!("coin #{serial} has an unknown POWN status {n:#x}"))?;
        }
        let ans = core::array::from_fn(|r| {
            let at = 9 + RAIDA_COUNT + 16 * r;
            raw[at..at + 16].try_into().expect("16 bytes")
        });
        let pans = seed.pans(place, 1).pop().ok_or_else(short)?;
        coins.push(Coin::new(denomination, serial, ans, pown).with_pans(pans));
    }
    Ok(coins)
}

/// A claim record written and synced under a temporary name while the import still looks for
/// its coins in the other wallets; [`ClaimRecord::publish`] names it. A draft is no record: a
/// crash leaves a temporary name, which recovery removes (no pown was sent on it). Dropped
/// unpublished, it is removed.
#[derive(Debug)]
pub(crate) struct Draft {
    temp: PathBuf,
    ids: Vec<CoinId>,
}

impl Draft {
    /// Encodes the record of claim `task` for `coins` and writes it, synced, under a
    /// temporary name in `wallet`'s record folder. Blocking.
    pub(crate) fn write(
        layout: &Layout,
        wallet: &WalletName,
        task: TaskId,
        keys: &Keys,
        coins: &[Coin],
    ) -> io::Result<Draft> {
        let bytes = encode_record(keys, coins)?;
        let dir = record_folder(layout, wallet);
        create_durable(layout, &dir)?;
        let temp = dir.join(format!(".{task}.{}.draft", uuid::Uuid::new_v4().simple()));
        let draft = Draft { temp, ids: coins.iter().map(Coin::id).collect() };
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&draft.temp)?;
        io::Write::write_all(&mut file, &bytes)?;
        file.sync_all()?;
        Ok(draft)
    }
}

impl Drop for Draft {
    fn drop(&mut self) {
        durable::remove_if_exists(&self.temp);
    }
}

/// A claim's write-ahead record: every coin of the claim with its ANs and (through the seed)
/// the PANs about to be sent, on disk before the first pown (see the module documentation).
#[derive(Debug)]
pub(crate) struct ClaimRecord {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl ClaimRecord {
    /// Writes the record of claim `task` for `coins` (each with the PANs `keys` gave it)
    /// durably: written beside its name, fsynced and renamed, then the folder fsynced. On
    /// failure nothing of it is left. Blocking.
    pub(crate) fn write(
        layout: &Layout,
        wallet: &WalletName,
        task: TaskId,
        keys: &Keys,
        coins: &[Coin],
    ) -> io::Result<ClaimRecord> {
        let draft = Draft::write(layout, wallet, task, keys, coins)?;
        ClaimRecord::name(draft, task)
    }

    /// The record of `coins` from `draft` if it was written for exactly these coins in this
    /// order (named, and its folder fsynced), else written again for them.
    pub(crate) fn publish(
        draft: Option<Draft>,
        layout: &Layout,
        wallet: &WalletName,
        task: TaskId,
        keys: &Keys,
        coins: &[Coin],
    ) -> io::Result<ClaimRecord> {
        match draft {
            Some(draft)
                if draft.ids.len() == coins.len()
                    && draft.ids.iter().zip(coins).all(|(id, c)| *id == c.id()) =>
            {
                ClaimRecord::name(draft, task)
            }
            _ => ClaimRecord::write(layout, wallet, task, keys, coins),
        }
    }

    /// Gives the synced `draft` its record name, durably.
    fn name(draft: Draft, task: TaskId) -> io::Result<ClaimRecord> {
        let dir = durable::parent(&draft.temp)?.to_path_buf();
        let path = dir.join(format!("{task}.claim"));
        fs::rename(&draft.temp, &path)?;
        let record = ClaimRecord { dir, files: vec![path] };
        if let Err(e) = durable::sync_dir(&record.dir) {
            // Never sent: nothing of it stays.
            let _ = record.remove();
            return Err(e);
        }
        Ok(record)
    }

    /// Removes the record, durably (its folder fsynced). Call it only once every coin of it is
    /// stored durably in its grade's folder.
    pub(crate) fn remove(&self) -> io::Result<()> {
        for file in &self.files {
            match fs::remove_file(file) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        durable::sync_dir(&self.dir)
    }
}

/// The coins of every record in the record folder `dir` (none if there is no folder), each
/// with its PANs; records being written (temporary names) are not read. Blocking.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn read_records(dir: &Path) -> io::Result<Vec<Coin>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut coins = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let bytes = fs::read(entry.path())?;
        coins.extend(decode_record(&bytes).map_err(io::Error::other)?);
    }
    Ok(coins)
}

/// The wallets with a claim record left (their folder may be gone: recovery makes it again).
pub(crate) fn record_wallets(layout: &Layout) -> Vec<WalletName> {
    let Ok(entries) = fs::read_dir(layout.own().join("claim")) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some()))
        .filter_map(|e| WalletName::parse(&e.file_name().to_string_lossy()).ok())
        .collect()
}

/// Whether `held` holds keys this claim's record coin `sent` (with its PANs) gave it: its PANs,
/// or one of them as its key on some RAIDA. PANs are random 128-bit keys: no other coin has
/// them.
fn from_this_claim(held: &Coin, sent: &Coin) -> bool {
    let Some(pans) = sent.pans() else { return false };
    held.id() == sent.id()
        && (held.pans() == Some(pans) || (0..RAIDA_COUNT).any(|r| held.ans[r] == pans[r]))
}

/// Settles the claim records an interrupted claim (a crash, or a store that failed after the
/// pown) left for `wallet`: every coin of a record that the wallet does not hold from that
/// claim (in a held folder, or in `Counterfeit`) is stored in `Limbo` with the keys of the
/// record — its ANs before the pown and its PANs, "maybe applied" — for healing's find to
/// settle; then the record is removed. A record coin the wallet holds with other keys (a later
/// claim of the same coin while the record waited) keeps its record for the next try and is
/// logged: no key is ever dropped. Call it only when no claim runs on the wallet (start-up, or
/// under the wallet's turn). Returns how many coins were put in `Limbo`. Blocking.
pub(crate) fn settle_records(
    layout: &Layout,
    wallet: &WalletName,
    state: &mut WalletState,
) -> io::Result<usize> {
    let dir = record_folder(layout, wallet);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            // A record file never renamed to its name: no pown was sent on it.
            durable::remove_if_exists(&entry.path());
        } else {
            files.push(entry.path());
        }
    }
    files.sort();
    let mut counterfeit: Option<HashMap<CoinId, Vec<Coin>>> = None;
    let mut put = 0;
    for path in files {
        let coins = match fs::read(&path).map_err(|e| e.to_string()).and_then(|b| decode_record(&b))
        {
            Ok(coins) => coins,
            Err(e) => {
                // Renamed only once complete and synced: it is damaged. Kept, never guessed.
                tracing::error!(wallet = %wallet, file = %path.display(), error = %e, "a claim record cannot be read; it is kept, and its coins' keys may be in it");
                continue;
            }
        };
        let mut missing = Vec::new();
        let mut conflict = false;
        for coin in coins {
            let held = state.coins.get(&coin.id());
            match held {
                Some(e) if e.folder != Folder::Counterfeit && from_this_claim(&e.coin, &coin) => {}
                Some(e) if e.folder != Folder::Counterfeit => {
                    tracing::warn!(wallet = %wallet, coin = %coin.id(), file = %path.display(), "a coin of a claim record is held with other keys; the record is kept");
                    conflict = true;
                }
                _ => {
                    let graded = counterfeit
                        .get_or_insert_with(|| read_folder(layout, wallet, Folder::Counterfeit))
                        .get(&coin.id())
                        .is_some_and(|cs| cs.iter().any(|c| from_this_claim(c, &coin)))
                        || held.is_some_and(|e| from_this_claim(&e.coin, &coin));
                    if !graded {
                        missing.push(coin);
                    }
                }
            }
        }
        put += store_in_limbo(layout, wallet, state, &missing)?;
        if !conflict {
            fs::remove_file(&path)?;
            durable::sync_dir(&dir)?;
        }
        tracing::info!(wallet = %wallet, file = %path.display(), limbo = missing.len(), "recovery: an interrupted claim's coins are in Limbo with both keys");
    }
    Ok(put)
}

/// Every coin file of one of `wallet`'s folders, by coin (unreadable files skipped).
fn read_folder(layout: &Layout, wallet: &WalletName, folder: Folder) -> HashMap<CoinId, Vec<Coin>> {
    let mut coins: HashMap<CoinId, Vec<Coin>> = HashMap::new();
    let Ok(entries) = fs::read_dir(layout.folder(wallet, folder)) else { return coins };
    for entry in entries.filter_map(Result::ok) {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if let Ok(coin) = read_single_coin(&entry.path()) {
            coins.entry(coin.id()).or_default().push(coin);
        }
    }
    coins
}

/// Stores `coins` in `wallet`'s `Limbo` durably (all written, one `syncfs`, each published
/// without replacing anything, the folder fsynced) and puts them in the index, each in the
/// place of any entry of it (only a `Counterfeit` one can be there). Blocking.
fn store_in_limbo(
    layout: &Layout,
    wallet: &WalletName,
    state: &mut WalletState,
    coins: &[Coin],
) -> io::Result<usize> {
    if coins.is_empty() {
        return Ok(0);
    }
    let limbo = layout.folder(wallet, Folder::Limbo);
    fs::create_dir_all(&limbo)?;
    // A name of its own each time: a crash here leaves temporaries that the start-up clean-up
    // (`leftovers`, after this) sorts out, and must not stand in the way of the next try.
    let suffix = format!(".claim-{}.partial", uuid::Uuid::new_v4().simple());
    let temps = crate::store::write_temps(&limbo, coins, &suffix)?;
    let published = (|| {
        crate::dir::sync_file_system(&limbo)?;
        let mut names = Vec::with_capacity(temps.len());
        for (temp, base) in &temps {
            let path = durable::publish_unique(temp, &limbo, base, |_| Ok(()))?;
            names.push(
                path.file_name().map_or_else(|| base.clone(), |n| n.to_string_lossy().into_owned()),
            );
        }
        durable::sync_dir(&limbo)?;
        Ok(names)
    })();
    let names = match published {
        Ok(names) => names,
        Err(e) => {
            // Published ones stay (the record is kept, and they are whole); the rest go.
            for (temp, _) in &temps {
                durable::remove_if_exists(temp);
            }
            return Err(e);
        }
    };
    for (coin, name) in coins.iter().zip(names) {
        state.coins.insert(coin.id(), Entry::new(Folder::Limbo, name, coin.clone(), Hold::Free));
    }
    Ok(coins.len())
}

/// Puts each coin's new content on disk in place of its file, then moves the file to the coin's
/// folder, and updates the index. Blocking. See the module documentation for the order.
pub(crate) fn apply(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    settled: Vec<Settled>,
) -> std::io::Result<()> {
    // Where each coin's file is now.
    let placed: Vec<(Settled, Folder, String)> = {
        let s = lock(state);
        settled
            .into_iter()
            .filter_map(|x| {
                let e = s.coins.get(&x.coin.id())?;
                Some((x, e.folder, e.file().into_owned()))
            })
            .collect()
    };
    // 1.–3. The new contents on disk, then each file moved to its grade's folder.
    let rewrites: Vec<Rewrite<'_>> = placed
        .iter()
        .map(|(x, from, file)| Rewrite { coin: &x.coin, from: *from, file, to: x.folder })
        .collect();
    let names = crate::store::rewrite_coins(layout, wallet, &rewrites)?;
    // 4. The index says the same.
    let mut s = lock(state);
    for ((x, from, _), name) in placed.into_iter().zip(names) {
        let Some(name) = name else { continue };
        let id = x.coin.id();
        let _ = from;
        s.coins.update(&id, |e| {
            e.coin = std::sync::Arc::new(x.coin);
            e.folder = x.folder;
            e.set_file(name);
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, SerialNumber};
    use cloudcoin_raida::Silence;

    fn bare(sn: u32) -> Coin {
        Coin::new(
            Denomination::from_code(1),
            SerialNumber::new(sn),
            [[sn as u8; 16]; RAIDA_COUNT],
            [Pown::Untried; RAIDA_COUNT],
        )
    }

    /// Coins `sns`, each with PANs from one fresh seed, and the keys.
    fn keyed(sns: impl IntoIterator<Item = u32>) -> (Vec<Coin>, std::sync::Arc<Keys>) {
        let mut coins: Vec<Coin> = sns.into_iter().map(bare).collect();
        let keys = Keys::give(coins.iter_mut());
        (coins, keys)
    }

    fn put(layout: &Layout, wallet: &WalletName, folder: Folder, coin: &Coin) {
        let path = layout.folder(wallet, folder).join(crate::store::coin_file_name(coin));
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin)).expect("encodes");
        fs::write(path, bytes).expect("written");
    }

    fn folder_coins(layout: &Layout, wallet: &WalletName, folder: Folder) -> Vec<Coin> {
        read_folder(layout, wallet, folder).into_values().flatten().collect()
    }

    /// A crash after the pown, with some coins stored in their grades' folders: recovery puts
    /// exactly the others in `Limbo` with the record's keys, and removes the record.
    #[test]
    fn a_record_left_by_a_crash_puts_every_coin_not_stored_in_limbo_with_both_keys() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let wallet = WalletName::parse("W").expect("name");
        layout.create_wallet_dirs(&wallet).expect("dirs");
        let (coins, keys) = keyed(1..=5);
        let record =
            ClaimRecord::write(&layout, &wallet, TaskId::new(), &keys, &coins).expect("record");
        assert_eq!(record.files.len(), 1);
        // What the claim stored before the crash: #1 in Bank (every RAIDA passed: the PANs are
        // its keys), #2 in Fracked (13 passed), #3 in Counterfeit (it keeps its PANs), #4 in
        // Limbo with both keys. #5 was not stored.
        let all = |_| Answer::Said(Check::Pass);
        let bank = after_pown(&coins[0], &core::array::from_fn(all));
        assert_eq!(bank.folder, Folder::Bank);
        put(&layout, &wallet, Folder::Bank, &bank.coin);
        let fracked = after_pown(
            &coins[1],
            &core::array::from_fn(|r| Answer::Said(if r < 13 { Check::Pass } else { Check::Fail })),
        );
        assert_eq!(fracked.folder, Folder::Fracked);
        put(&layout, &wallet, Folder::Fracked, &fracked.coin);
        let fake = after_pown(&coins[2], &core::array::from_fn(|_| Answer::Said(Check::Fail)));
        assert_eq!(fake.folder, Folder::Counterfeit);
        put(&layout, &wallet, Folder::Counterfeit, &fake.coin);
        let limbo = after_pown(
            &coins[3],
            &core::array::from_fn(|r| {
                if r < 20 { Answer::Said(Check::Pass) } else { Answer::NoAnswer(Silence::Timeout) }
            }),
        );
        assert_eq!(limbo.folder, Folder::Limbo);
        put(&layout, &wallet, Folder::Limbo, &limbo.coin);
        // A record file never renamed to its name (a crash while it was written).
        fs::write(record.dir.join(".half-written.tmp"), b"x").expect("written");
        assert_eq!(record_wallets(&layout), vec![wallet.clone()]);

        let mut state = crate::store::scan_wallet_listed(&layout, &wallet).expect("scan").state;
        let put_back = settle_records(&layout, &wallet, &mut state).expect("settled");
        assert_eq!(put_back, 1, "only #5 was not stored");
        let in_limbo = folder_coins(&layout, &wallet, Folder::Limbo);
        let five = in_limbo.iter().find(|c| c.serial == SerialNumber::new(5)).expect("#5");
        assert_eq!(five.ans, coins[4].ans, "the keys before the pown");
        assert_eq!(five.pans(), coins[4].pans(), "and the PANs sent");
        assert_eq!(in_limbo.len(), 2, "#4 and #5: {in_limbo:?}");
        let entry = state.coins.get(&coins[4].id()).expect("held");
        assert_eq!((entry.folder, entry.hold), (Folder::Limbo, Hold::Free));
        assert_eq!(folder_coins(&layout, &wallet, Folder::Bank).len(), 1);
        assert_eq!(folder_coins(&layout, &wallet, Folder::Fracked).len(), 1);
        assert_eq!(folder_coins(&layout, &wallet, Folder::Counterfeit).len(), 1);
        assert_eq!(fs::read_dir(&record.dir).expect("dir").count(), 0, "the record is gone");
        assert!(record_wallets(&layout).is_empty());
        // A second run finds nothing to do.
        assert_eq!(settle_records(&layout, &wallet, &mut state).expect("settled"), 0);
    }

    /// The PANs recovery makes from a record are the very bits the claim gave and sent, for
    /// coins at any places of the seed's keystream (the look in the other wallets takes some
    /// out); a coin whose PANs are not its seed's is refused, and nothing is written.
    #[test]
    fn a_record_gives_back_every_pan_bit_for_bit() {
        let mut coins: Vec<Coin> = (1..=3000).map(bare).collect();
        let keys = Keys::give(coins.iter_mut());
        // Some coins set aside between the PANs and the record: their places are skipped.
        let kept: Vec<Coin> =
            coins.iter().enumerate().filter(|(i, _)| i % 7 != 3).map(|(_, c)| c.clone()).collect();
        let bytes = encode_record(&keys, &kept).expect("encodes");
        assert_eq!(bytes.len(), RECORD_HEAD + kept.len() * RECORD_COIN);
        let back = decode_record(&bytes).expect("decodes");
        assert_eq!(back.len(), kept.len());
        for (was, is) in kept.iter().zip(&back) {
            assert_eq!(is.id(), was.id());
            assert_eq!(is.ans, was.ans);
            assert_eq!(is.pown, was.pown);
            assert_eq!(is.pans(), was.pans(), "coin {}", was.id());
        }
        // Every coin got PANs of its own.
        let distinct: std::collections::HashSet<_> =
            back.iter().filter_map(|c| c.pans().map(|p| p[0])).collect();
        assert_eq!(distinct.len(), back.len());
        // A coin carrying other PANs (never expected) makes no record.
        let mut wrong = kept.clone();
        wrong[5] = wrong[5].clone().with_pans([[9; 16]; RAIDA_COUNT]);
        assert!(encode_record(&keys, &wrong).is_err());
        // A record cut short is refused, not guessed.
        assert!(decode_record(&bytes[..bytes.len() - 1]).is_err());
    }

    /// A crash while recovery was writing an interrupted claim's coins to `Limbo`: one coin
    /// published there, the temporary files of two others left (one under the name every
    /// recovery used to give it, `.{coin file}.claim.partial`, one under a name of its own), the
    /// last not written. The next start succeeds, and each coin is in `Limbo` exactly once with
    /// the record's keys (its ANs and its PANs); the temporaries and the record are gone.
    /// With the name every recovery used to give a coin's temporary file, this start failed:
    /// the new temporary could not be created where the old one stood.
    #[test]
    fn a_crash_during_recoverys_limbo_write_does_not_stop_the_next_start_nor_lose_a_coin() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let wallet = WalletName::parse("Default").expect("name");
        layout.create_wallet_dirs(&wallet).expect("dirs");
        let (coins, keys) = keyed(1..=4);
        ClaimRecord::write(&layout, &wallet, TaskId::new(), &keys, &coins).expect("record");
        // What the crashed recovery left, read from the record as it reads it.
        let record = read_records(&record_folder(&layout, &wallet)).expect("reads");
        assert_eq!(record, coins);
        let limbo = layout.folder(&wallet, Folder::Limbo);
        put(&layout, &wallet, Folder::Limbo, &coins[0]);
        let temp = |coin: &Coin, suffix: &str| {
            let name = format!(".{}{suffix}", crate::store::coin_file_name(coin));
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin)).expect("encodes");
            fs::write(limbo.join(name), bytes).expect("written");
        };
        temp(&coins[1], ".claim.partial");
        temp(&coins[2], &format!(".claim-{}.partial", uuid::Uuid::new_v4().simple()));

        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let config = crate::service::ServiceConfig::new(tmp.path());
        let service = runtime
            .block_on(async {
                tokio::task::spawn_blocking(move || crate::Service::open(config)).await
            })
            .expect("no panic")
            .expect("the start succeeds");
        runtime.block_on(service.shutdown());

        let mut names: Vec<String> = fs::read_dir(&limbo)
            .expect("Limbo")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert!(names.iter().all(|n| !n.starts_with('.')), "no temporary is left: {names:?}");
        assert_eq!(names.len(), 4, "each coin once: {names:?}");
        let mut held = folder_coins(&layout, &wallet, Folder::Limbo);
        held.sort_by_key(|c| c.serial.get());
        for (is, was) in held.iter().zip(&coins) {
            assert_eq!((is.id(), is.ans, is.pans()), (was.id(), was.ans, was.pans()));
        }
        assert!(folder_coins(&layout, &wallet, Folder::Trash).is_empty(), "nothing set aside");
        assert!(record_wallets(&layout).is_empty(), "the record is settled");
    }

    /// A record coin the wallet holds with keys of another claim: nothing is written for it,
    /// and the record stays (its keys may still be live).
    #[test]
    fn a_record_coin_held_with_other_keys_keeps_the_record() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let wallet = WalletName::parse("W").expect("name");
        layout.create_wallet_dirs(&wallet).expect("dirs");
        let (coins, keys) = keyed([7]);
        let coin = coins[0].clone();
        let record =
            ClaimRecord::write(&layout, &wallet, TaskId::new(), &keys, &coins).expect("record");
        let mut other = coin.clone().without_pans();
        other.ans = [[9; 16]; RAIDA_COUNT];
        put(&layout, &wallet, Folder::Bank, &other);
        let mut state = crate::store::scan_wallet_listed(&layout, &wallet).expect("scan").state;
        assert_eq!(settle_records(&layout, &wallet, &mut state).expect("settled"), 0);
        assert!(folder_coins(&layout, &wallet, Folder::Limbo).is_empty());
        assert_eq!(record.files.iter().filter(|f| f.exists()).count(), 1, "the record stays");
        // Removing it once every coin is stored is durable and final.
        record.remove().expect("removed");
        assert!(record_wallets(&layout).is_empty());
    }

    fn coin() -> Coin {
        Coin::new(
            Denomination::from_code(1),
            SerialNumber::new(5),
            [[1; 16]; RAIDA_COUNT],
            [Pown::Untried; RAIDA_COUNT],
        )
        .with_pans([[2; 16]; RAIDA_COUNT])
    }

    fn answers(f: impl Fn(usize) -> Answer<Check>) -> [Answer<Check>; RAIDA_COUNT] {
        core::array::from_fn(f)
    }

    #[test]
    fn every_pass_is_bank_with_the_pans_as_keys() {
        let s = after_pown(&coin(), &answers(|_| Answer::Said(Check::Pass)));
        assert_eq!(s.folder, Folder::Bank);
        assert_eq!(s.coin.ans, [[2; 16]; RAIDA_COUNT]);
        assert!(s.coin.pans().is_none());
    }

    #[test]
    fn raida_not_reached_leave_the_coin_fracked_with_the_old_key_there() {
        let s = after_pown(
            &coin(),
            &answers(|r| {
                if r < 3 {
                    Answer::NotSent(cloudcoin_raida::NotSent::Unreachable)
                } else {
                    Answer::Said(Check::Pass)
                }
            }),
        );
        assert_eq!(s.folder, Folder::Fracked);
        assert_eq!(s.coin.ans[0], [1; 16]);
        assert_eq!(s.coin.ans[3], [2; 16]);
    }

    #[test]
    fn a_silent_raida_keeps_both_keys_even_with_a_majority() {
        let s = after_pown(
            &coin(),
            &answers(|r| {
                if r == 0 { Answer::NoAnswer(Silence::Timeout) } else { Answer::Said(Check::Pass) }
            }),
        );
        assert_eq!(s.folder, Folder::Limbo);
        assert_eq!(s.coin.pans(), Some(&[[2; 16]; RAIDA_COUNT]));
        assert_eq!(s.coin.ans[1], [2; 16], "a passing RAIDA holds the PAN");
        assert_eq!(s.coin.ans[0], [1; 16]);
    }

    #[test]
    fn thirteen_fails_are_counterfeit_and_twelve_passes_with_silence_limbo() {
        let s = after_pown(
            &coin(),
            &answers(
                |r| if r < 13 { Answer::Said(Check::Fail) } else { Answer::Said(Check::Pass) },
            ),
        );
        assert_eq!(s.folder, Folder::Counterfeit);
        let s = after_pown(
            &coin(),
            &answers(|r| {
                if r < 13 { Answer::NoAnswer(Silence::Closed) } else { Answer::Said(Check::Pass) }
            }),
        );
        assert_eq!(s.folder, Folder::Limbo);
    }
}
