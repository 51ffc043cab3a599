//! An import that claims its coins (the RAIDA network on): the record, the pown, and each coin
//! stored once in its grade's folder (the steps are `crate::claim`'s documentation).
//!
//! **Ahead of the pown.** While the import still looks for its coins in the other wallets
//! (`not_elsewhere_on_disk`, a walk of the file system), two threads work for the claim:
//!
//! - one encodes the claim's record (the PAN seed and each coin's place, id and ANs, see
//!   `crate::claim`) and writes and syncs it under a temporary name. Once the look is over,
//!   if the claim keeps exactly those coins, naming it (a rename and an fsync of its folder)
//!   is all that stands between the look and the pown; otherwise the record is written again
//!   for the coins kept. A temporary name is no record: recovery removes it (nothing was sent).
//! - the other writes each claimed coin's `Bank` file as a file with no name (`O_TMPFILE`, as
//!   an import does; at most two batches ahead of the linking) and makes each batch durable
//!   with one `syncfs`: nearly every coin of a claim ends in `Bank`, and its file there is
//!   known before the answers come — the coin with its PANs as its keys and every RAIDA
//!   passed. Once the answers are in, a coin graded `Bank` gets its file linked under its name
//!   (nothing replaced); the file of any other coin (or of a coin the look set aside) is
//!   dropped, and vanishes — an unnamed file never gets a name unless the answers say that
//!   content is the coin's. A crash before the link leaves nothing of it (the record still
//!   holds the coin's keys).
//!
//! Where the file system makes no unnamed files, or no thread is to be had, the coins are
//! stored after the pown, folder by folder, as an import stores them, and the record is
//! written after the look.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use cloudcoin_domain::{Coin, CoinId, RAIDA_COUNT};
use cloudcoin_raida::{Answer, Check};

use super::{Claims, ImportJob, store_all, unnamed_batch};
use crate::claim::{ClaimRecord, Draft, Keys, Settled, after_pown};
use crate::dir::Dir;
use crate::durable::error_chain;
use crate::export::lock;
use crate::fault::{self, FaultPoint};
use crate::network::Network;
use crate::report::ClaimReport;
use crate::step::StepError;
use crate::store::{Folder, Layout, coin_file_name};
use crate::task::FailureKind;
use crate::tracker::Tracker;

/// What a claim needs besides the coins: the network, the PANs given (which coins to claim),
/// and the work done ahead of the pown, if started.
pub(super) struct Claim<'a> {
    pub(super) net: &'a Network,
    pub(super) keys: &'a Keys,
    pub(super) ahead: Option<Ahead>,
}

/// Why storing (or claiming) failed: the failure's kind, what happened, and what to do.
pub(super) type StoreFailure = (FailureKind, String, &'static str);

/// What to do when a coin of a claim could not be stored after the pown.
const KEPT: &str = "the claim's keys of the coins not stored are kept on disk, and healing (POST /api/v1/fix) or the next start puts them in Limbo; the coins stored stay out of the balance until the next start";

/// The claim of `fresh`'s coins in `to_claim` (each with its new PANs; the others came with
/// PANs of their own and go to `Limbo` unclaimed), each coin then stored once, in its grade's
/// folder: the claim record is written durably, the pown is sent (the `Bank` files written
/// meanwhile), the coins are stored (each entry in the index taking its new keys and folder,
/// still `Incoming`), and the record is removed — before the caller makes the coins free. A
/// failure after the pown keeps the record (the coins not stored have their keys only there;
/// healing or the next start puts them in `Limbo`) and the stored coins blocked until then.
/// Blocking; the caller holds the wallet's turn.
pub(super) fn claim_and_store(
    layout: &Layout,
    tracker: &Tracker,
    job: &ImportJob,
    claim: Claim<'_>,
    fresh: &[Coin],
    claims: &mut Claims<'_>,
) -> Result<ClaimReport, StoreFailure> {
    let Claim { net, keys, ahead } = claim;
    let (draft, bank) = ahead.map_or((None, None), Ahead::into_parts);
    let (claimed, unkeyed): (Vec<Coin>, Vec<Coin>) =
        fresh.iter().cloned().partition(|c| keys.contains(&c.id()));
    let mut report = ClaimReport::default();
    let mut settled: Vec<Settled> = Vec::with_capacity(fresh.len());
    let mut record = None;
    if !claimed.is_empty() {
        // 1. Every PAN on disk before any RAIDA hears of it.
        tracker.advance(job.id, 50, Some("Writing the claim's keys to disk"));
        let written = ClaimRecord::publish(draft, layout, &job.wallet, job.id, keys, &claimed);
        let written = written.and_then(|r| match fault::point(FaultPoint::ClaimAfterRecord) {
            Ok(()) => Ok(r),
            Err(e) => r.remove().and(Err(e)),
        });
        match written {
            Ok(r) => record = Some(r),
            Err(e) => {
                return Err((
                    FailureKind::Io,
                    format!("cannot write the claim's keys to disk: {}", error_chain(&e)),
                    "nothing was sent to the RAIDA; import the items again",
                ));
            }
        }
        claims.record_left = true;
        // 2. The pown and each coin's grade; the Bank files written meanwhile, linked after.
        tracker.advance(job.id, 55, Some("Claiming the coins on the RAIDA"));
        let mut in_bank = Vec::new();
        let (graded, pown_error) = crate::claim::pown_and_grade(net, &claimed);
        let linked = fault::point(FaultPoint::ClaimAfterPown)
            .map_err(|e| StepError::io("cannot store a coin", e))
            .and_then(|()| match bank {
                Some(bank) => bank.link(tracker, job, &graded, &mut in_bank),
                None => Ok(()),
            });
        if let Some(e) = &pown_error {
            tracing::warn!(task = %job.id, error = %e, "claim failed; the coins wait in Limbo");
            report.note = format!(
                "{e}; the coins are kept in Limbo with their keys and new PANs, and healing (POST /api/v1/fix) settles them"
            );
        }
        let linked_ids: HashSet<CoinId> = in_bank.iter().map(|(id, _)| *id).collect();
        take_place(job, claims, &graded, in_bank);
        linked.map_err(|e| (e.kind, e.message(), KEPT))?;
        crate::claim::count_grades(&mut report, &graded);
        settled = graded.into_iter().filter(|s| !linked_ids.contains(&s.coin.id())).collect();
    }
    let unclaimed: Vec<Settled> =
        unkeyed.into_iter().map(|coin| Settled { coin, folder: Folder::Limbo }).collect();
    crate::claim::count_grades(&mut report, &unclaimed);
    settled.extend(unclaimed);
    if report.note.is_empty() {
        report.claimed_note();
    }
    // 3. Every other coin stored once, in its grade's folder.
    tracker.advance(job.id, 80, Some("Storing coins"));
    for folder in [Folder::Bank, Folder::Fracked, Folder::Limbo, Folder::Counterfeit] {
        let group: Vec<Settled> = settled.iter().filter(|s| s.folder == folder).cloned().collect();
        if group.is_empty() {
            continue;
        }
        let coins: Vec<Coin> = group.iter().map(|s| s.coin.clone()).collect();
        let mut stored = Vec::with_capacity(coins.len());
        let result =
            store_all(tracker, job, &layout.folder(&job.wallet, folder), &coins, &mut stored);
        take_place(job, claims, &group, stored);
        if let Err(e) = result {
            let then =
                if record.is_some() { KEPT } else { "import the items again to store the rest" };
            return Err((e.kind, e.message(), then));
        }
    }
    // 4. The record goes once every coin of it is stored; then the coins may be freed.
    if let Some(r) = record {
        match r.remove() {
            Ok(()) => claims.record_left = false,
            Err(e) => {
                tracing::warn!(task = %job.id, error = %e, "cannot remove the claim record; the coins stay out of the balance until the next start settles it");
            }
        }
    }
    Ok(report)
}

/// Gives the index entries of the coins `stored` (from `settled`) their new keys and folder;
/// they stay `Incoming` until the caller settles the claims, which names their files.
fn take_place(
    job: &ImportJob,
    claims: &mut Claims<'_>,
    settled: &[Settled],
    stored: Vec<(CoinId, String)>,
) {
    if stored.is_empty() {
        return;
    }
    let wanted: HashSet<CoinId> = stored.iter().map(|(id, _)| *id).collect();
    {
        let mut state = lock(&job.state);
        for s in settled.iter().filter(|s| wanted.contains(&s.coin.id())) {
            state.coins.update(&s.coin.id(), |e| {
                e.coin = Arc::new(s.coin.clone());
                e.folder = s.folder;
            });
        }
    }
    claims.stored.extend(stored);
}

/// The work a claim does ahead of its pown (see the module documentation): the record's
/// draft and the `Bank` files, each on a thread of its own. Dropped, it stops both and leaves
/// nothing on disk.
pub(super) struct Ahead {
    record: Option<JoinHandle<std::io::Result<Draft>>>,
    bank: Option<BankAhead>,
}

impl Ahead {
    /// Starts the work for the coins of `fresh` that `keys` gave PANs to, in their order.
    pub(super) fn start(
        layout: &Layout,
        job: &ImportJob,
        keys: &Arc<Keys>,
        fresh: &[(usize, Arc<Coin>)],
    ) -> Ahead {
        let coins: Arc<[Coin]> = fresh
            .iter()
            .map(|(_, c)| c)
            .filter(|c| keys.contains(&c.id()))
            .map(|c| Coin::clone(c))
            .collect();
        if coins.is_empty() {
            return Ahead { record: None, bank: None };
        }
        let record = {
            let (layout, wallet, task) = (layout.clone(), job.wallet.clone(), job.id);
            let (keys, coins) = (Arc::clone(keys), Arc::clone(&coins));
            // No thread to be had: the record is written after the look.
            std::thread::Builder::new()
                .name("claim-record".into())
                .spawn(move || Draft::write(&layout, &wallet, task, &keys, &coins))
                .ok()
        };
        let bank = BankAhead::start(layout, job, coins);
        Ahead { record, bank }
    }

    /// The record's draft (once written; none if it could not be) and the `Bank` files.
    fn into_parts(mut self) -> (Option<Draft>, Option<BankAhead>) {
        let draft = self.record.take().and_then(|t| match t.join() {
            Ok(Ok(draft)) => Some(draft),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the claim record could not be written ahead; it is written now");
                None
            }
            Err(panic) => std::panic::resume_unwind(panic),
        });
        (draft, self.bank.take())
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            // Its draft, if any, is removed as it drops.
            let _ = record.join();
        }
    }
}

/// Claimed coins' `Bank` files, written unnamed on a thread of their own (see the module
/// documentation), batch by batch, each batch durable before it is handed over.
struct BankAhead {
    dir: Arc<Dir>,
    /// The coins the files are for, in the files' order (each with its PANs).
    coins: Arc<[Coin]>,
    batches: Option<Receiver<std::io::Result<Vec<fs::File>>>>,
    writer: Option<JoinHandle<()>>,
}

impl BankAhead {
    /// Starts writing, or `None` where there is no `Bank` to write in, the file system makes
    /// no unnamed files, or no thread is to be had.
    fn start(layout: &Layout, job: &ImportJob, coins: Arc<[Coin]>) -> Option<BankAhead> {
        let dir = Dir::open(&layout.folder(&job.wallet, Folder::Bank)).ok()?;
        let Ok(Some(first)) = dir.create_unnamed(crate::folder::OUTPUT_MODE) else { return None };
        let dir = Arc::new(dir);
        let batch = unnamed_batch();
        // One batch may wait while the next is written: at most three batches open at once.
        let (to, batches) = sync_channel::<std::io::Result<Vec<fs::File>>>(1);
        let (writes_in, writes) = (Arc::clone(&dir), Arc::clone(&coins));
        let all_pass: [Answer<Check>; RAIDA_COUNT] =
            core::array::from_fn(|_| Answer::Said(Check::Pass));
        let writer = std::thread::Builder::new().name("claim-bank".into()).spawn(move || {
            let mut first = Some(first);
            for chunk in writes.chunks(batch) {
                let files = (|| {
                    let mut files = Vec::with_capacity(chunk.len());
                    for coin in chunk {
                        let mut file = match first.take() {
                            Some(file) => file,
                            None => writes_in
                                .create_unnamed(crate::folder::OUTPUT_MODE)?
                                .ok_or_else(|| {
                                    std::io::Error::other(
                                        "the file system stopped making unnamed files",
                                    )
                                })?,
                        };
                        let bank = after_pown(coin, &all_pass).coin;
                        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&bank))
                            .map_err(|e| std::io::Error::other(error_chain(&e)))?;
                        file.write_all(&bytes)?;
                        files.push(file);
                    }
                    writes_in.sync_file_system()?;
                    Ok(files)
                })();
                let failed = files.is_err();
                // The linking side gone (it failed, or has nothing to link): stop.
                if to.send(files).is_err() || failed {
                    break;
                }
            }
        });
        Some(BankAhead { dir, coins, batches: Some(batches), writer: Some(writer.ok()?) })
    }

    /// Links the file of each coin of `graded` (the claim's coins, a subsequence of the files'
    /// coins in the same order) graded `Bank` under its name (into `stored`), then fsyncs
    /// `Bank`. Every other file is dropped. Blocking.
    fn link(
        mut self,
        tracker: &Tracker,
        job: &ImportJob,
        graded: &[Settled],
        stored: &mut Vec<(CoinId, String)>,
    ) -> Result<(), StepError> {
        let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, e);
        let n = graded.len();
        if !graded.iter().any(|s| s.folder == Folder::Bank) {
            return Ok(());
        }
        let Some(batches) = self.batches.take() else { return Ok(()) };
        // Each linked batch is closed on a thread of its own: a closed file is no more durable
        // or named than it was, and the task need not wait for it.
        let (to_close, closing) = std::sync::mpsc::channel::<Vec<fs::File>>();
        let _closer = std::thread::Builder::new()
            .name("claim-close".into())
            .spawn(move || closing.into_iter().for_each(drop));
        let mut next = graded.iter().peekable();
        let mut index = 0;
        for files in batches.iter() {
            // A batch that could not be written (a full disk, no file descriptors left) ends
            // the work done ahead; its coins and the rest are stored after, as by an import.
            let Ok(files) = files else { break };
            for file in &files {
                let sent = &self.coins[index];
                index += 1;
                let Some(s) = next.next_if(|s| s.coin.id() == sent.id()) else { continue };
                // Graded Bank: every RAIDA passed, so the file holds exactly this content (a
                // coin whose keys are not the file's, never expected, is stored after).
                if s.folder != Folder::Bank || Some(&s.coin.ans) != sent.pans() {
                    continue;
                }
                let name = self
                    .dir
                    .link_unnamed_unique(file, &coin_file_name(&s.coin))
                    .map_err(io("cannot store a coin"))?;
                stored.push((s.coin.id(), name));
                if stored.len() == n / 2 + 1 {
                    fault::point(FaultPoint::ImportMidStore).map_err(io("cannot store a coin"))?;
                }
            }
            // Without the thread, the files come back in the error and close here.
            let _ = to_close.send(files);
            tracker.advance(job.id, 55 + (25 * stored.len() / n.max(1)) as u8, None);
            if next.peek().is_none() {
                break;
            }
        }
        drop(to_close);
        // The writer stops at its next batch; the files not linked vanish.
        drop(batches);
        self.dir.sync().map_err(io("cannot flush Bank to disk"))?;
        fault::point(FaultPoint::ImportAfterStore).map_err(io("cannot flush Bank to disk"))
    }
}

impl Drop for BankAhead {
    fn drop(&mut self) {
        // Dropping the receiver stops the writer at its next batch; its files vanish.
        self.batches.take();
        if let Some(writer) = self.writer.take()
            && let Err(panic) = writer.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}
