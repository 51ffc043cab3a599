//! Reclaiming an export its recipient has not claimed, and checking whether they have.
//!
//! An export leaves the wallet's copy of every coin it sent in `Sent`, with the keys the file
//! carries. Until the recipient claims the coins (pown: new keys only they know), whoever holds
//! those keys can spend them — the sender too. So the sender can take them back:
//!
//! 1. **Find the export**: its receipt (`Receipts/{task}.json`) names the coins; every copy of
//!    them in `Sent` gives the keys sent (a coin exported twice may have two).
//! 2. **Detect** with those keys: 13 or more RAIDA pass → not claimed; 13 or more fail → the
//!    recipient claimed it (**received**); else unknown (too few answers). A coin this wallet
//!    holds again (imported back, or reclaimed before) is reported as held and not touched; one
//!    another wallet of this server holds is the recipient's, and counts as received.
//!    The check ([`check`]) stops here and changes nothing.
//! 3. **Write ahead**: a record in `.cloudcoin/reclaim/` names the coins, then each goes to
//!    `Limbo` with the keys sent and 25 fresh PANs (format 9, state flag 1), durably, **before**
//!    any RAIDA hears of a PAN — the claim's rule (see `claim`).
//! 4. **Pown** with the keys sent and the PANs, graded as a claim is: `Bank` or `Fracked` →
//!    back in the wallet (the exported file no longer spends it); `Limbo` → settled by healing;
//!    13 or more fails → the recipient's pown got there first on a majority: the coin is
//!    theirs, reported as received, and its file — every key the wallet sent, PANs included —
//!    goes to `Sent` beside the original copy.
//!
//! **The race.** The recipient's pown and the reclaim's can cross: each RAIDA applies whichever
//! arrives first, so the coin splits between two key sets. The wallet keeps every key it sent
//! (step 3), and healing works toward the side that holds 13 or more: when that is this wallet,
//! fix (tickets from its RAIDA) overwrites the recipient's keys on the others; when it is the
//! recipient, the coin ends as received (their own healing takes the rest). Neither side reaching
//! 13 (RAIDA silent) leaves the coin in `Limbo` until the network answers.
//!
//! **A crash** at any point resumes without loss: the record is written before any file, each
//! file is durable before the pown, healing (started at the next start for `Limbo` coins)
//! settles what the pown did, and at its end [`settle_records`] finishes what a reclaim left:
//! a coin whose recipient won goes to `Sent`, and the record goes once none is in `Limbo`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use cloudcoin_domain::{Amount, Coin, CoinId, Denomination, SerialNumber, WalletName};
use cloudcoin_raida::AGREEMENT;
use serde::{Deserialize, Serialize};

use crate::claim::{Settled, after_pown, apply};
use crate::durable::RecordFolder;
use crate::export::lock;
use crate::network::Network;
use crate::owners::Owners;
use crate::report::{GradeCount, ReclaimReport};
use crate::store::{Entry, Folder, Hold, Layout, WalletState, coin_file_name};
use crate::task::TaskId;

fn add(count: &mut GradeCount, coin: &Coin) {
    count.coins += 1;
    count.amount =
        count.amount.checked_add(coin.value().unwrap_or(Amount::ZERO)).unwrap_or(Amount::MAX);
}

fn add_id(count: &mut GradeCount, id: CoinId) {
    count.coins += 1;
    count.amount = count
        .amount
        .checked_add(id.denomination.value().unwrap_or(Amount::ZERO))
        .unwrap_or(Amount::MAX);
}

/// A reclaim under way: the coins it put in `Limbo` (written before them).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReclaimRecord {
    /// The reclaim task's id, the record's name.
    id: String,
    wallet: String,
    export: String,
    /// (denomination code, serial) of each coin.
    coins: Vec<(i8, u32)>,
}

fn records(layout: &Layout) -> RecordFolder<ReclaimRecord> {
    RecordFolder::new(layout.own().join("reclaim"))
}

/// Whether any reclaim left a record to settle (the next healing settles it).
pub(crate) fn any_records(layout: &Layout) -> bool {
    fs::read_dir(layout.own().join("reclaim")).is_ok_and(|mut d| d.next().is_some())
}

/// An export, as its receipt tells it.
#[derive(Debug, Clone)]
pub(crate) struct Export {
    pub(crate) id: TaskId,
    pub(crate) wallet: WalletName,
    pub(crate) coins: Vec<CoinId>,
    pub(crate) file: PathBuf,
}

/// The part of a receipt a reclaim reads.
#[derive(Debug, Deserialize)]
struct ReceiptText {
    coins: Vec<String>,
    #[serde(default)]
    file: String,
}

/// A coin as a receipt writes it: its value, ` #`, its serial (`"10 #7"`).
fn parse_coin(text: &str) -> Option<CoinId> {
    let (value, serial) = text.split_once(" #")?;
    let value = Amount::parse_request(value).ok()?;
    let denomination = Denomination::all_money_desc().find(|d| d.value() == Some(value))?;
    Some(CoinId { denomination, serial: SerialNumber::new(serial.parse().ok()?) })
}

/// The export `id` of one of `wallets`, if a receipt of it exists. Blocking.
pub(crate) fn find_export(
    layout: &Layout,
    wallets: &[WalletName],
    id: TaskId,
) -> io::Result<Option<Export>> {
    for wallet in wallets {
        let path = layout.folder(wallet, Folder::Receipts).join(format!("{id}.json"));
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let receipt: ReceiptText = serde_json::from_slice(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let coins = receipt
            .coins
            .iter()
            .map(|c| {
                parse_coin(c).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("receipt names coin {c:?}"))
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        return Ok(Some(Export {
            id,
            wallet: wallet.clone(),
            coins,
            file: PathBuf::from(receipt.file),
        }));
    }
    Ok(None)
}

/// Every copy of the coins `wanted` in the wallet's `Sent`, each with the keys it was sent
/// with (distinct keys only). Blocking; reads the whole folder.
fn sent_copies(
    layout: &Layout,
    wallet: &WalletName,
    wanted: &HashSet<CoinId>,
) -> io::Result<HashMap<CoinId, Vec<Coin>>> {
    let dir = layout.folder(wallet, Folder::Sent);
    let mut found: HashMap<CoinId, Vec<Coin>> = HashMap::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || !entry.file_type()?.is_file() {
            continue;
        }
        let Ok(coin) = crate::store::read_single_coin(&entry.path()) else { continue };
        if !wanted.contains(&coin.id()) {
            continue;
        }
        let copies = found.entry(coin.id()).or_default();
        if !copies.iter().any(|c| c.ans == coin.ans) {
            copies.push(coin);
        }
    }
    Ok(found)
}

/// What the RAIDA say of a coin's sent keys.
#[derive(Debug, Clone)]
enum Verdict {
    /// 13 or more pass these keys: not claimed.
    Unclaimed(Box<Coin>),
    /// 13 or more refuse every copy's keys.
    Received,
    /// Too few answers, or no copy.
    Unknown,
}

/// Detects every sent copy of `coins` and judges each coin. Blocking.
fn judge(
    net: &Network,
    copies: &HashMap<CoinId, Vec<Coin>>,
    coins: &[CoinId],
) -> Result<HashMap<CoinId, Verdict>, String> {
    let probes: Vec<Coin> = coins
        .iter()
        .filter_map(|id| copies.get(id))
        .flatten()
        .map(|c| c.clone().without_pans())
        .collect();
    let mut verdicts: HashMap<CoinId, Verdict> =
        coins.iter().map(|id| (*id, Verdict::Unknown)).collect();
    if probes.is_empty() {
        return Ok(verdicts);
    }
    let answers = net
        .block_on(net.client().detect(&probes))
        .map_err(|e| format!("cannot check the coins with the RAIDA: {e}"))?;
    let mut refused: HashMap<CoinId, (usize, usize)> = HashMap::new();
    for (i, probe) in probes.iter().enumerate() {
        let id = probe.id();
        let tally = refused.entry(id).or_default();
        tally.0 += 1;
        if answers.failed_at(i).len() >= AGREEMENT {
            tally.1 += 1;
        }
        if answers.passed_at(i).len() >= AGREEMENT {
            verdicts.insert(id, Verdict::Unclaimed(Box::new(probe.clone())));
        }
    }
    for (id, (copies, refused)) in refused {
        if copies == refused {
            verdicts.insert(id, Verdict::Received);
        }
    }
    Ok(verdicts)
}

/// Whether the wallet holds the coin `id` again. A coin it graded counterfeit is not held:
/// its entry stays in the running index (with the folder `Counterfeit`, which a restart does not
/// index) only as the record of that grade.
fn holds_again(s: &WalletState, id: &CoinId) -> bool {
    s.coins.get(id).is_some_and(|e| e.folder != Folder::Counterfeit)
}

/// The coins of `export` this wallet holds again, and the others.
fn split_held(state: &Mutex<WalletState>, export: &Export) -> (Vec<CoinId>, Vec<CoinId>) {
    let s = lock(state);
    export.coins.iter().partition(|id| holds_again(&s, id))
}

/// Looks, without changing anything: which coins of `export` the recipient has claimed.
/// Blocking.
pub(crate) fn check(
    net: &Network,
    layout: &Layout,
    state: &Mutex<WalletState>,
    export: &Export,
) -> Result<ReclaimReport, String> {
    let mut report = base_report(export);
    let (held, out) = split_held(state, export);
    for id in held {
        add_id(&mut report.held, id);
    }
    let wanted: HashSet<CoinId> = out.iter().copied().collect();
    let copies = sent_copies(layout, &export.wallet, &wanted)
        .map_err(|e| format!("cannot read Sent: {e}"))?;
    for (id, verdict) in judge(net, &copies, &out)? {
        match verdict {
            Verdict::Unclaimed(coin) => add(&mut report.unclaimed, &coin),
            Verdict::Received => {
                add_id(&mut report.received, id);
                report.received_coins.push(id);
            }
            Verdict::Unknown => add_id(&mut report.unknown, id),
        }
    }
    report.received_coins.sort();
    report.write_note();
    Ok(report)
}

fn base_report(export: &Export) -> ReclaimReport {
    ReclaimReport {
        export: Some(export.id),
        file: export.file.clone(),
        coins: crate::task::count(export.coins.len()),
        ..ReclaimReport::default()
    }
}

/// Reclaims the coins of `export` the recipient has not claimed (see the module documentation).
/// Blocking; holds the wallet's turn, so no claim or healing of the wallet runs meanwhile.
pub(crate) fn reclaim(
    net: &Network,
    layout: &Layout,
    owners: &Owners,
    state: &Mutex<WalletState>,
    export: &Export,
    task: TaskId,
) -> Result<ReclaimReport, String> {
    let wallet = &export.wallet;
    let turn = net.turn(wallet);
    let _turn = turn.hold();
    let mut report = base_report(export);
    report.reclaimed = true;
    let (held, out) = split_held(state, export);
    for id in held {
        add_id(&mut report.held, id);
    }
    let wanted: HashSet<CoinId> = out.iter().copied().collect();
    let copies =
        sent_copies(layout, wallet, &wanted).map_err(|e| format!("cannot read Sent: {e}"))?;
    let mut unclaimed = Vec::new();
    for (id, verdict) in judge(net, &copies, &out)? {
        match verdict {
            Verdict::Unclaimed(coin) => unclaimed.push(*coin),
            Verdict::Received => {
                add_id(&mut report.received, id);
                report.received_coins.push(id);
            }
            Verdict::Unknown => add_id(&mut report.unknown, id),
        }
    }
    // The coins go back into this wallet's index first (not spendable: Limbo, held), so that no
    // import — here or in another wallet of this server — stores them meanwhile.
    let limbo_dir = layout.folder(wallet, Folder::Limbo);
    // One read of the system's random source for all the PANs, not one per key.
    let mut fresh_pans = cloudcoin_raida::random_pans(unclaimed.len()).into_iter();
    let taken: Vec<(Coin, String)> = {
        let _claiming = owners.claiming();
        let ids: Vec<CoinId> = unclaimed.iter().map(Coin::id).collect();
        let elsewhere = owners.held_elsewhere(wallet, &ids);
        let mut s = lock(state);
        let mut taken = Vec::new();
        for coin in unclaimed {
            let id = coin.id();
            if holds_again(&s, &id) {
                add(&mut report.held, &coin);
                continue;
            }
            if elsewhere.contains_key(&id) {
                // Another wallet of this server holds it: it was received there.
                add(&mut report.received, &coin);
                report.received_coins.push(id);
                continue;
            }
            let pans = fresh_pans.next().expect("one set of PANs per coin to reclaim");
            let coin = coin.without_pans().with_pans(pans);
            let name = cloudcoin_domain::unique_file_name(&coin_file_name(&coin), |n| {
                fs::symlink_metadata(limbo_dir.join(n)).is_ok()
            });
            s.coins
                .insert(id, Entry::new(Folder::Limbo, name.clone(), coin.clone(), Hold::Healing));
            taken.push((coin, name));
        }
        taken
    };
    let ids: Vec<CoinId> = taken.iter().map(|(c, _)| c.id()).collect();
    let result = reclaim_taken(net, layout, state, export, task, &taken, &mut report);
    // Whatever happened, the coins still indexed are free; those never written leave the index.
    {
        let mut s = lock(state);
        for id in &ids {
            s.coins.update(id, |e| {
                if e.hold == Hold::Healing {
                    e.hold = Hold::Free;
                }
            });
        }
    }
    result?;
    report.received_coins.sort();
    report.write_note();
    Ok(report)
}

/// Steps 3 and 4 for the coins `taken` (indexed in `Limbo`, held, not yet on disk).
fn reclaim_taken(
    net: &Network,
    layout: &Layout,
    state: &Mutex<WalletState>,
    export: &Export,
    task: TaskId,
    taken: &[(Coin, String)],
    report: &mut ReclaimReport,
) -> Result<(), String> {
    if taken.is_empty() {
        return Ok(());
    }
    let wallet = &export.wallet;
    let folder = records(layout);
    let record = ReclaimRecord {
        id: task.to_string(),
        wallet: wallet.as_str().to_owned(),
        export: export.id.to_string(),
        coins: taken.iter().map(|(c, _)| (c.denomination.code(), c.serial.get())).collect(),
    };
    let written = fs::create_dir_all(layout.own().join("reclaim"))
        .and_then(|()| folder.write(&record.id, &record))
        .and_then(|()| write_limbo(layout, wallet, taken));
    if let Err(e) = written {
        let mut s = lock(state);
        for (c, _) in taken {
            s.coins.remove_if(&c.id(), |e| e.hold == Hold::Healing && e.folder == Folder::Limbo);
        }
        drop(s);
        // Files written before the failure are found again by the next start's scan (Limbo,
        // with their PANs, never sent): healing settles them, the record tells how.
        return Err(format!("cannot store the new keys; nothing was sent to the RAIDA: {e}"));
    }
    // Every PAN is on disk: now the RAIDA may hear of them.
    let coins: Vec<Coin> = taken.iter().map(|(c, _)| c.clone()).collect();
    let answers = net.block_on(net.client().pown(&coins)).map_err(|e| {
        format!("cannot pown the coins back: {e}; they wait in Limbo with every key")
    })?;
    let settled: Vec<Settled> =
        coins.iter().zip(answers.iter()).map(|(c, (_, a))| after_pown(c, a)).collect();
    let mut lost = Vec::new();
    for s in &settled {
        match s.folder {
            Folder::Bank | Folder::Fracked => add(&mut report.returned, &s.coin),
            Folder::Counterfeit => {
                add(&mut report.received, &s.coin);
                report.received_coins.push(s.coin.id());
                lost.push(s.coin.id());
            }
            _ => add(&mut report.limbo, &s.coin),
        }
    }
    apply(layout, wallet, state, settled)
        .map_err(|e| format!("cannot store the reclaimed coins' keys: {e}"))?;
    to_sent(layout, wallet, state, &lost).map_err(|e| format!("cannot move to Sent: {e}"))?;
    if report.limbo.coins == 0 {
        folder.remove(&record.id).map_err(|e| format!("cannot remove the reclaim record: {e}"))?;
    }
    Ok(())
}

/// Writes each coin into `Limbo` under its name, durably, never replacing a file. Blocking.
///
/// On an error nothing of it is left: the files it made are removed (no PAN in them was sent).
fn write_limbo(layout: &Layout, wallet: &WalletName, coins: &[(Coin, String)]) -> io::Result<()> {
    let dir = layout.folder(wallet, Folder::Limbo);
    let mut made = Vec::with_capacity(coins.len());
    let written = (|| {
        let mut temps = Vec::with_capacity(coins.len());
        for (coin, _) in coins {
            let temp = dir.join(format!(".reclaim-{}.tmp", uuid::Uuid::new_v4().simple()));
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin))
                .map_err(io::Error::other)?;
            let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
            made.push(temp.clone());
            f.write_all(&bytes)?;
            temps.push(temp);
        }
        crate::dir::sync_file_system(&dir)?;
        for ((_, name), temp) in coins.iter().zip(&temps) {
            let path = dir.join(name);
            crate::durable::publish_no_replace(temp, &path)?;
            made.push(path);
        }
        crate::durable::sync_dir(&dir)
    })();
    if written.is_err() {
        for path in &made {
            crate::durable::remove_if_exists(path);
        }
    }
    written
}

/// Moves the files of `ids` (reclaimed coins the recipient won, in `Counterfeit` after the
/// grading) to `Sent`, keeping every key, and drops them from the index. Blocking.
fn to_sent(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    ids: &[CoinId],
) -> io::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let files: Vec<(CoinId, Folder, String)> = {
        let s = lock(state);
        ids.iter()
            .filter_map(|id| s.coins.get(id).map(|e| (*id, e.folder, e.file().into_owned())))
            .collect()
    };
    let dest = fs::File::open(layout.folder(wallet, Folder::Sent))?;
    let mut touched = HashSet::new();
    for (id, folder, file) in files {
        let source = fs::File::open(layout.folder(wallet, folder))?;
        crate::store::move_one(&source, &file, &dest)?;
        touched.insert(folder);
        lock(state).coins.remove_if(&id, |_| true);
    }
    dest.sync_all()?;
    for folder in touched {
        crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    }
    Ok(())
}

/// Finishes what the reclaims of `wallet` left (after a crash, or coins a reclaim left in
/// `Limbo` that healing has settled since): a reclaimed coin graded counterfeit — the
/// recipient's claim holds 13 or more RAIDA — goes to `Sent` with every key; a record none of
/// whose coins is in `Limbo` any more is removed. Blocking; the caller holds the wallet's turn.
pub(crate) fn settle_records(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
) -> io::Result<()> {
    let folder = records(layout);
    let list = match folder.list() {
        Ok(list) => list,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for record in list {
        let record = match record {
            Ok(r) => r,
            Err((path, why)) => {
                tracing::warn!(record = %path.display(), %why, "reclaim record not understood; left alone");
                continue;
            }
        };
        if record.wallet != wallet.as_str() {
            continue;
        }
        let ids: Vec<CoinId> = record
            .coins
            .iter()
            .map(|&(dn, sn)| CoinId {
                denomination: Denomination::from_code(dn),
                serial: SerialNumber::new(sn),
            })
            .collect();
        let (lost, pending): (Vec<CoinId>, bool) = {
            let s = lock(state);
            let lost = ids
                .iter()
                .filter(|id| s.coins.get(id).is_some_and(|e| e.folder == Folder::Counterfeit))
                .copied()
                .collect();
            let pending =
                ids.iter().any(|id| s.coins.get(id).is_some_and(|e| e.folder == Folder::Limbo));
            (lost, pending)
        };
        for id in &lost {
            tracing::info!(wallet = %wallet, coin = %id, export = %record.export, "the recipient's claim holds the coin: its reclaim keys go to Sent");
        }
        to_sent(layout, wallet, state, &lost)?;
        if !pending {
            folder.remove(&record.id)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_coin_reads_back_as_its_id() {
        let id = CoinId { denomination: Denomination::from_code(1), serial: SerialNumber::new(7) };
        assert_eq!(parse_coin(&id.to_string()), Some(id));
        let small =
            CoinId { denomination: Denomination::from_code(-8), serial: SerialNumber::new(1) };
        assert_eq!(parse_coin(&small.to_string()), Some(small));
        assert_eq!(parse_coin("3 #7"), None, "3 is no denomination");
        assert_eq!(parse_coin("10 7"), None);
    }

    /// A coin this wallet graded counterfeit (it stays in the running index with that folder
    /// until a restart, which does not index `Counterfeit`) is not one the wallet holds again:
    /// a reclaim and its check look at it on the RAIDA, before and after a restart alike.
    #[test]
    fn a_coin_graded_counterfeit_is_not_held_again() {
        let coin = |sn: u32| {
            Coin::new(
                Denomination::from_code(1),
                SerialNumber::new(sn),
                [[sn as u8; 16]; cloudcoin_domain::RAIDA_COUNT],
                [cloudcoin_domain::Pown::Pass; cloudcoin_domain::RAIDA_COUNT],
            )
        };
        let mut state = WalletState::default();
        state
            .coins
            .insert(coin(1).id(), Entry::new(Folder::Bank, String::new(), coin(1), Hold::Free));
        state.coins.insert(
            coin(2).id(),
            Entry::new(Folder::Counterfeit, String::new(), coin(2), Hold::Free),
        );
        let export = Export {
            id: TaskId::new(),
            wallet: WalletName::parse("W").expect("name"),
            coins: vec![coin(1).id(), coin(2).id(), coin(3).id()],
            file: PathBuf::new(),
        };
        let (held, out) = split_held(&Mutex::new(state), &export);
        assert_eq!(held, vec![coin(1).id()]);
        assert_eq!(out, vec![coin(2).id(), coin(3).id()]);
    }

    #[test]
    fn the_note_says_the_file_is_worthless_for_the_coins_taken_back() {
        let mut report = ReclaimReport { reclaimed: true, ..ReclaimReport::default() };
        report.returned = GradeCount::new(2, Amount::from_units(200_000_000));
        report.received = GradeCount::new(1, Amount::from_units(100_000_000));
        report.write_note();
        assert!(report.note.contains("worthless"), "{}", report.note);
        assert!(report.note.contains("received"), "{}", report.note);
        let mut check = ReclaimReport {
            unclaimed: GradeCount::new(1, Amount::from_units(1)),
            ..ReclaimReport::default()
        };
        check.write_note();
        assert!(check.note.contains("can still spend"), "{}", check.note);
    }
}
