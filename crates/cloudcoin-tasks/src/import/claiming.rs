//! An import that claims its coins (the RAIDA network on): the record, the pown, and each coin
//! stored once in its grade's folder (the steps are `crate::claim`'s documentation).
//!
//! **The `Bank` files are written while the pown is on the wire.** Nearly every coin of a claim
//! ends in `Bank`, and its file there is known before the answers come: the coin with its PANs
//! as its keys and every RAIDA passed. So while the pown waits for the RAIDA, a second thread
//! writes each claimed coin's `Bank` file as a file with no name (`O_TMPFILE`, as an import
//! does; at most two batches ahead of the linking) and makes each batch durable with one
//! `syncfs`. Once the answers are in, a coin graded `Bank` gets its file linked under its name
//! (nothing replaced); the file of any other coin is dropped, and vanishes — an unnamed file
//! never gets a name unless the answers say that content is the coin's. A crash before the link
//! leaves nothing of it (the record still holds the coin's keys). Where the file system makes
//! no unnamed files, the coins are stored after the pown, folder by folder, as an import stores
//! them.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::sync::Arc;

use cloudcoin_domain::{Coin, CoinId, RAIDA_COUNT};
use cloudcoin_raida::{Answer, Check};

use super::{Claims, ImportJob, store_all, unnamed_batch};
use crate::claim::{ClaimRecord, Settled, after_pown};
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

/// What a claim needs besides the coins: the network, which coins get their new PANs claimed,
/// and their record's bytes if made already.
pub(super) struct Claim<'a> {
    pub(super) net: &'a Network,
    pub(super) to_claim: &'a HashSet<CoinId>,
    pub(super) encoded: Option<crate::claim::Encoded>,
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
    let Claim { net, to_claim, encoded } = claim;
    let (claimed, unkeyed): (Vec<Coin>, Vec<Coin>) =
        fresh.iter().cloned().partition(|c| to_claim.contains(&c.id()));
    let mut report = ClaimReport::default();
    let mut settled: Vec<Settled> = Vec::with_capacity(fresh.len());
    let mut record = None;
    if !claimed.is_empty() {
        // 1. Every PAN on disk before any RAIDA hears of it.
        tracker.advance(job.id, 50, Some("Writing the claim's keys to disk"));
        let written = ClaimRecord::write(layout, &job.wallet, job.id, &claimed, encoded);
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
        let (graded, pown_error, linked) =
            pown_writing_bank(layout, tracker, job, net, &claimed, &mut in_bank);
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

/// The pown of `claimed` (see [`crate::claim::pown_and_grade`]), with each coin's `Bank` file
/// written meanwhile (see the module documentation); the coins graded `Bank` are linked in
/// `Bank` (each with its name, into `stored`) and `Bank` is fsynced. Returns the grades, why the
/// pown could not be made (if so), and whether linking failed. Blocking.
fn pown_writing_bank(
    layout: &Layout,
    tracker: &Tracker,
    job: &ImportJob,
    net: &Network,
    claimed: &[Coin],
    stored: &mut Vec<(CoinId, String)>,
) -> (Vec<Settled>, Option<String>, Result<(), StepError>) {
    let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, e);
    let plain = || {
        let (graded, error) = crate::claim::pown_and_grade(net, claimed);
        let stop = fault::point(FaultPoint::ClaimAfterPown).map_err(io("cannot store a coin"));
        (graded, error, stop)
    };
    // Without a folder to write in, or unnamed files, the pown goes alone.
    let Ok(dir) = Dir::open(&layout.folder(&job.wallet, Folder::Bank)) else {
        return plain();
    };
    let first = match dir.create_unnamed(crate::folder::OUTPUT_MODE) {
        Ok(Some(first)) => first,
        _ => return plain(),
    };
    let all_pass: [Answer<Check>; RAIDA_COUNT] =
        core::array::from_fn(|_| Answer::Said(Check::Pass));
    let batch = unnamed_batch();
    let dir = &dir;
    let all_pass = &all_pass;
    std::thread::scope(|scope| {
        // One batch may wait while the next is written: at most three batches open at once.
        let (to, batches) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<fs::File>>>(1);
        let writer =
            std::thread::Builder::new().name("claim-bank".into()).spawn_scoped(scope, move || {
                let mut first = Some(first);
                for chunk in claimed.chunks(batch) {
                    let files = (|| {
                        let mut files = Vec::with_capacity(chunk.len());
                        for coin in chunk {
                            let mut file = match first.take() {
                                Some(file) => file,
                                None => dir
                                    .create_unnamed(crate::folder::OUTPUT_MODE)?
                                    .ok_or_else(|| {
                                        std::io::Error::other(
                                            "the file system stopped making unnamed files",
                                        )
                                    })?,
                            };
                            let bank = after_pown(coin, all_pass).coin;
                            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&bank))
                                .map_err(|e| std::io::Error::other(error_chain(&e)))?;
                            file.write_all(&bytes)?;
                            files.push(file);
                        }
                        dir.sync_file_system()?;
                        Ok(files)
                    })();
                    let failed = files.is_err();
                    // The linking side gone (it failed, or the pown left nothing to link): stop.
                    if to.send(files).is_err() || failed {
                        break;
                    }
                }
            });
        let (graded, error) = crate::claim::pown_and_grade(net, claimed);
        if let Err(e) = fault::point(FaultPoint::ClaimAfterPown) {
            return (graded, error, Err(StepError::io("cannot store a coin", e)));
        }
        let Ok(writer) = writer else {
            // No thread to be had: the coins are stored after the pown, as by an import.
            return (graded, error, Ok(()));
        };
        let n = claimed.len();
        let linked = (|| {
            if !graded.iter().any(|s| s.folder == Folder::Bank) {
                return Ok(());
            }
            let chunks = graded.chunks(batch).zip(claimed.chunks(batch));
            for (files, (chunk, sent)) in batches.iter().zip(chunks) {
                let files = files.map_err(io("cannot store a coin"))?;
                for ((file, s), sent) in files.iter().zip(chunk).zip(sent) {
                    // Graded Bank: every RAIDA passed, so the file holds exactly this content.
                    if s.folder != Folder::Bank {
                        continue;
                    }
                    debug_assert!(s.coin.id() == sent.id() && Some(&s.coin.ans) == sent.pans());
                    let name = dir
                        .link_unnamed_unique(file, &coin_file_name(&s.coin))
                        .map_err(io("cannot store a coin"))?;
                    stored.push((s.coin.id(), name));
                    if stored.len() == n / 2 + 1 {
                        fault::point(FaultPoint::ImportMidStore)
                            .map_err(io("cannot store a coin"))?;
                    }
                }
                tracker.advance(job.id, 55 + (25 * stored.len() / n.max(1)) as u8, None);
            }
            dir.sync().map_err(io("cannot flush Bank to disk"))?;
            fault::point(FaultPoint::ImportAfterStore).map_err(io("cannot flush Bank to disk"))
        })();
        // Dropping the receiver stops the writer at its next batch; its files vanish.
        drop(batches);
        writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (graded, error, linked)
    })
}
