//! Crash recovery, run by `Service::open` before anything is served.
//!
//! Every journal record left is settled. An export goes forward (coins to `Sent`) once it is
//! certain its file got its final name — the journal says committed, or the file is there and
//! holds exactly its coins; it is undone only when it is certain no name was linked and no
//! temporary copy of the coins is left; anything else keeps the coins out of the balance, the
//! record in the journal, and the task in error saying it needs attention, to be looked at again
//! at every start. The task of each record then gets its real outcome, and a settled record is
//! removed last, so running recovery twice does the same thing once.
//!
//! # Each kind of record, oldest first
//!
//! For each journal record, oldest first:
//!
//! - **export** — decided by what is *certain*, never by what merely cannot be seen:
//!   - **linked for sure** — the record is `committed`, or the file under `final_name` is there and
//!     its coins match `coins_digest`: **rolled forward**. If not yet committed, the folder is
//!     fsynced first (if that fails the coins are held back, below). Then steps 6–7 of the export
//!     (`crate::export`) again (files already in `Sent` are skipped; the csv row is written only if
//!     no row carries the op id), task `completed` with the file, amount, count and sha256 (from
//!     the file, or from the record when a committed export's folder is unreachable: unplugged,
//!     renamed, the file taken away).
//!   - **never linked for sure** — no `final_name` was recorded, or the named temporary file is
//!     still there (it is renamed, never copied, to its final name): the temporary file is removed
//!     and the export **rolled back**: the coins never left their folders, the task ends `error`,
//!     kind `Interrupted`: "interrupted by a restart; the coins were returned to the wallet". If
//!     the temporary file cannot be removed or its folder cannot be reached, the coins are held
//!     back instead (it may hold a readable copy of them).
//!   - **cannot tell** — a `final_name` was recorded, the record is not committed, and the file is
//!     not there, does not verify, or its folder cannot be opened: the coins are **held back**.
//!
//!   Held back means: the record stays in the journal, its coins are marked reserved when the
//!   wallets are read (out of the balance, never selected), and the task ends `error`, kind
//!   `Interrupted`, with a message that starts "needs attention:", names the file's path and the
//!   journal record, and says what to do: bring the folder or the file back and restart (the export
//!   is then finished), or — only if sure the file was never made — move the record out of the
//!   journal folder and restart to return the coins. Every start looks again.
//!   A rollback never moves coins out of `Sent`: coins move there only after `committed` is on
//!   disk, and a committed export is never rolled back. So there is no `Sent` → wallet rename, and
//!   no folder to sync for one, before a record is removed.
//!
//!   **Invariant:** once a final name was linked, an export is never undone. Kept by
//!   `faults::a_published_export_is_never_undone_when_its_output_is_unreachable_at_restart` (a
//!   crash at each step after the link, then the folder renamed away or the file moved away; the
//!   coins are never spendable, and the export finishes when the output comes back),
//!   `recovery::a_committed_export_goes_forward_even_when_its_file_is_gone` and
//!   `recovery::a_final_file_that_does_not_verify_holds_the_coins_back_until_it_does`.
//! - **import** — temporary files of that import (named fallback only; unnamed files vanish by
//!   themselves) are removed; coins already published in `Bank` are
//!   whole (the file system was synced before the first publish) and stay; the task ends `error`,
//!   `Interrupted`, telling the user to import again (stored coins then count as already present).
//! - **backup** — the temporary file (named fallback only) is removed — if it cannot be, the record
//!   stays and the next start tries again —; a verified published zip makes the task `completed`,
//!   anything else `error`, `Interrupted`.
//!
//! The task record is written before the journal record is removed, so recovery interrupted by a
//! second crash simply runs again with the same result (idempotent). A task whose record outlived
//! it — an export that ended in `error` with its coins unsettled, or one held back at an earlier
//! start — gets the outcome recovery settles on, replacing the interim one; that is the only way a
//! finished task changes. A record that cannot be read
//! stops the start with `OpenError::Recovery` naming the file: guessing could lose a coin. What
//! recovery does is logged with `tracing` (`recovery: export rolled forward/back`, …).
//!
//! **Invariant: the presence of the temporary name proves nothing about the final name.** Kept by
//! `tests/it/others.rs`: `a_crash_between_link_and_unlink_never_returns_the_coins_the_user_took`.
//! Where `renameat2` refuses `RENAME_NOREPLACE`, a named output is published by `link(temp, final)`
//! then `unlink(temp)`; the journal says so (`link_then_unlink`) before the link. Recovery then
//! looks for the final name: a file there with the export's coins goes forward; a temporary file
//! with a second name was linked (the final file renamed since) and goes forward; a temporary file
//! with one name and no final file cannot be told apart from a file the user took, and is held back
//! (needs attention) — never rolled back. An atomic rename keeps the old rule: temporary still
//! there means never published.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cloudcoin_domain::{Amount, Coin, CoinId, WalletName};

use crate::dir::Dir;
use crate::durable::{self, error_chain};
use crate::error::{OpenError, RecoveryError};
use crate::export;
use crate::journal::{Journal, Op, Record};
use crate::store::{Folder, Layout};
use crate::task::{
    BackupResult, ExportResult, FailureKind, TaskFailure, TaskId, TaskKind, TaskOutcome, count,
};
use crate::tracker::Tracker;

/// Message of an export rolled back by recovery.
pub(crate) const EXPORT_ROLLED_BACK: &str =
    "interrupted by a restart; the coins were returned to the wallet";

/// What recovery decided for one record: the task's outcome, and whether the record stays in the
/// journal (its coins held out of the balance, or a temporary copy still to remove).
struct Settled {
    outcome: TaskOutcome,
    keep: bool,
}

impl Settled {
    fn done(outcome: TaskOutcome) -> Settled {
        Settled { outcome, keep: false }
    }

    /// Kept for the next start, with the task in error saying why.
    fn held(message: String) -> Settled {
        let failure = TaskFailure { kind: FailureKind::Interrupted, message };
        Settled { outcome: TaskOutcome::Failed(failure), keep: true }
    }
}

/// Settles every journal record, then marks tasks still running (which changed nothing) as
/// interrupted. Returns the export records kept in the journal: their coins stay out of the
/// balance (the caller marks them reserved once the wallets are read).
pub(crate) fn recover(
    layout: &Layout,
    journal: &Journal,
    tracker: &Tracker,
) -> Result<Vec<Record>, OpenError> {
    let records =
        journal.list().map_err(|e| OpenError::Io { path: layout.journal(), source: e })?;
    let mut held = Vec::new();
    for record in records {
        let record = record.map_err(|(path, e)| {
            OpenError::Recovery(RecoveryError::UnreadableRecord { path, error: e })
        })?;
        let settled = match record.op {
            Op::Export => recover_export(layout, journal, &record)?,
            Op::Import => Settled::done(recover_import(layout, &record)),
            Op::Backup => recover_backup(&record),
        };
        let id = record.id.parse::<TaskId>().map_err(|source| {
            OpenError::Recovery(RecoveryError::BadId { id: record.id.clone(), source })
        })?;
        if tracker.get(id).is_none() {
            let kind = match record.op {
                Op::Export => TaskKind::Export,
                Op::Import => TaskKind::Import,
                Op::Backup => TaskKind::Backup,
            };
            let wallet = cloudcoin_domain::WalletName::parse(&record.wallet).ok();
            let subject = crate::tracker::Subject { wallet, requested: None };
            tracker.create_for(id, kind, subject, "Recovered", None);
        }
        tracker.settle(id, settled.outcome);
        tracker.persist(id).map_err(|e| OpenError::Io { path: layout.tasks(), source: e })?;
        if settled.keep {
            // A finished export's coins are in Sent: only its temporary name is left to remove.
            if record.op == Op::Export && !record.finished {
                held.push(record);
            }
        } else {
            journal
                .remove(&record.id)
                .map_err(|e| OpenError::Io { path: layout.journal(), source: e })?;
        }
    }
    for id in tracker.running() {
        tracing::info!(task = %id, "task interrupted before it changed anything");
        tracker.finish(
            id,
            TaskOutcome::Failed(TaskFailure {
                kind: FailureKind::Interrupted,
                message: "interrupted by a restart before it changed anything; start it again"
                    .to_owned(),
            }),
        );
        tracker.persist(id).map_err(|e| OpenError::Io { path: layout.tasks(), source: e })?;
    }
    Ok(held)
}

/// What the output folder of a record shows now.
struct Seen {
    /// The folder, opened without following a link; or why it cannot be.
    dir: Result<Dir, io::Error>,
    /// The SHA-256 of the file under the final name, if it holds exactly the record's coins.
    verified: Option<String>,
    /// Why the output cannot be confirmed, for a person.
    missing: String,
}

fn look(record: &Record) -> Seen {
    let dir = match &record.target_dir {
        Some(path) => Dir::open_nofollow(path),
        None => Err(io::Error::other("the journal names no folder")),
    };
    let (verified, missing) = match (&dir, &record.final_name) {
        (Err(e), _) => (None, format!("the folder cannot be opened: {}", error_chain(e))),
        (Ok(_), None) => (None, "no final name was chosen".to_owned()),
        (Ok(d), Some(name)) => match d.entry_type(name) {
            Ok(None) => (None, "no file of that name is there".to_owned()),
            Err(e) => (None, format!("it cannot be looked at: {}", error_chain(&e))),
            Ok(Some(_)) => match streamed_check(d, name, record).or_else(|_| {
                // Not confirmed in one pass: the whole-file check has the last word.
                export::read_back(d, name)
                    .and_then(|bytes| export::verify(&bytes, &record.coins_digest).map(|()| bytes))
                    .map(|bytes| durable::sha256_hex(&bytes))
            }) {
                Ok(sha256) => (Some(sha256), String::new()),
                Err(_) => (None, "the file there does not hold the export's coins".to_owned()),
            },
        },
    };
    Seen { dir, verified, missing }
}

/// Checks the output `name` of `dir` against the record in one streaming pass, in bounded memory
/// (see `verify`); returns its SHA-256.
fn streamed_check(
    dir: &Dir,
    name: &str,
    record: &Record,
) -> Result<String, crate::step::StepError> {
    let count = match record.op {
        Op::Backup => record.coin_count,
        Op::Export | Op::Import => record.coins.len(),
    };
    let file =
        dir.open_read(name).map_err(|e| crate::step::StepError::io("cannot read the file", e))?;
    crate::verify::verify_file(file, &record.coins_digest, count)
}

/// The coins of the record's output file, by id, when it is there and holds exactly the
/// record's coins; empty otherwise (their keys are then not known).
fn exported_keys(seen: &Seen, record: &Record) -> HashMap<CoinId, Arc<Coin>> {
    let (Ok(dir), Some(name), Some(_)) = (&seen.dir, &record.final_name, &seen.verified) else {
        return HashMap::new();
    };
    let Ok(bytes) = export::read_back(dir, name) else { return HashMap::new() };
    match cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default()) {
        Ok(coins) => coins.into_iter().map(|c| (c.id(), Arc::new(c))).collect(),
        Err(_) => HashMap::new(),
    }
}

/// Where the record's output is (or was meant to be).
fn output_path(record: &Record) -> PathBuf {
    let dir = record.target_dir.clone().unwrap_or_default();
    match &record.final_name {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// Removes the record's named temporary file; `Err` says why it may still be there.
fn remove_temp(record: &Record, seen: &Seen) -> Result<(), String> {
    let Some(temp) = &record.temp else { return Ok(()) };
    let path = record.target_dir.clone().unwrap_or_default().join(temp);
    let removed = match &seen.dir {
        Ok(dir) => dir.remove_checked(temp),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    };
    removed.map_err(|e| {
        format!(
            "the temporary file {} may hold the coins and cannot be removed ({})",
            path.display(),
            error_chain(&e)
        )
    })
}

fn recover_export(
    layout: &Layout,
    journal: &Journal,
    record: &Record,
) -> Result<Settled, OpenError> {
    let seen = look(record);
    let output = output_path(record);
    let record_file = layout.journal().join(format!("{}.json", record.id));

    let temp_links = match (&record.temp, &seen.dir) {
        (Some(temp), Ok(dir)) => dir.link_count(temp).ok().flatten(),
        _ => None,
    };
    // Published by link then unlink, and the temporary file has a second name: it was linked
    // (the user may have renamed the final file since).
    let linked_elsewhere = record.link_then_unlink && temp_links.is_some_and(|n| n > 1);

    // Certainly linked: go forward, whatever can be seen of the file now.
    if record.finished || record.committed || seen.verified.is_some() || linked_elsewhere {
        if !record.committed
            && let Ok(dir) = &seen.dir
            && let Err(e) = dir.sync()
        {
            // The name may not be durable yet: the coins must not move before it is.
            return Ok(Settled::held(format!(
                "needs attention: the file {} was written, but its folder cannot be flushed to disk ({}); its coins are kept out of the balance, and the next start tries again",
                output.display(),
                error_chain(&e)
            )));
        }
        if seen.verified.is_none() {
            tracing::warn!(op = %record.id, file = %output.display(), reason = %seen.missing, "recovery: the export was published; finishing it without seeing its file");
        }
        let sha256 = seen.verified.clone().unwrap_or_else(|| record.sha256.clone());
        let result = if record.finished {
            ExportResult {
                file: output.clone(),
                amount: Amount::from_units(record.amount_units),
                coins: count(record.coins.len()),
                sha256,
                change: None,
            }
        } else {
            // The exported coins' keys, read from the file where it can be seen.
            let keys = || exported_keys(&seen, record);
            // When the record was last written: before any coin of it moved to Sent.
            let since = std::fs::metadata(&record_file)
                .and_then(|m| m.modified())
                .map_err(|e| OpenError::Io { path: record_file.clone(), source: e })?;
            export::finish(layout, record, &output, &sha256, None, Some(since), &keys).map_err(
                |e| {
                    OpenError::Recovery(RecoveryError::Export {
                        id: record.id.clone(),
                        source: Box::new(e),
                    })
                },
            )?
        };
        tracing::info!(op = %record.id, file = %output.display(), coins = result.coins, "recovery: export rolled forward");
        // A name the export made is removed before its record is.
        if let Err(problem) = remove_temp(record, &seen) {
            tracing::warn!(op = %record.id, %problem, "recovery: a finished export's temporary name is left; the record stays until it is removed");
            if !record.finished {
                let mut marked = record.clone();
                marked.finished = true;
                journal
                    .write(&marked)
                    .map_err(|e| OpenError::Io { path: record_file.clone(), source: e })?;
            }
            return Ok(Settled { outcome: TaskOutcome::Export(result), keep: true });
        }
        return Ok(Settled::done(TaskOutcome::Export(result)));
    }

    // Certainly never linked: no final name was chosen yet, or the named temporary file is
    // still there after an atomic rename was tried (it is renamed, never copied, into its final
    // name). After a link-then-unlink publication the temporary name being there proves
    // nothing: the final name may have been linked and the file taken since.
    let temp_present = temp_links.is_some();
    if record.final_name.is_none() || (temp_present && !record.link_then_unlink) {
        if let Err(problem) = remove_temp(record, &seen) {
            tracing::warn!(op = %record.id, %problem, "recovery: export held back");
            return Ok(Settled::held(format!(
                "needs attention: interrupted by a restart; {problem}, so they are kept out of the balance until a start can remove it"
            )));
        }
        warn_missing_coin_files(layout, record);
        tracing::info!(op = %record.id, coins = record.coins.len(), "recovery: export rolled back");
        return Ok(Settled::done(TaskOutcome::Failed(TaskFailure {
            kind: FailureKind::Interrupted,
            message: EXPORT_ROLLED_BACK.to_owned(),
        })));
    }

    // The link may have happened and the file cannot be seen: never spendable, never undone.
    tracing::warn!(op = %record.id, file = %output.display(), reason = %seen.missing, "recovery: export needs attention; its coins are held back");
    Ok(Settled::held(format!(
        "needs attention: the export was interrupted while its file {} was being published, and that file cannot be confirmed now ({}); its {} coins are kept out of the balance so that they cannot be spent twice. If the folder or the file comes back, the next start finishes the export; if you are sure the file was never made, move {} out of the journal folder and restart to return the coins",
        output.display(),
        seen.missing,
        record.coins.len(),
        record_file.display()
    )))
}

/// A rolled-back export's coins never left their folders (they move to `Sent` only after the
/// export is committed); a coin file missing from its folder was moved by someone else.
fn warn_missing_coin_files(layout: &Layout, record: &Record) {
    let Ok(wallet) = WalletName::parse(&record.wallet) else { return };
    for c in &record.coins {
        let home = layout.folder(&wallet, c.folder()).join(c.file_name());
        if fs::symlink_metadata(&home).is_err() {
            tracing::warn!(op = %record.id, file = %home.display(), "recovery: a coin file of a rolled-back export is not in its folder");
        }
    }
}

fn recover_import(layout: &Layout, record: &Record) -> TaskOutcome {
    let suffix = format!(".{}.partial", record.id);
    if let Ok(wallet) = WalletName::parse(&record.wallet) {
        // An import that claims stores its coins in their grades' folders (`crate::claim`); the
        // keys of any coin not yet published there are in its claim record.
        for folder in [Folder::Bank, Folder::Fracked, Folder::Limbo, Folder::Counterfeit] {
            remove_matching(&layout.folder(&wallet, folder), &suffix);
        }
    }
    tracing::info!(op = %record.id, "recovery: import stopped; coins stored before the stop stay");
    TaskOutcome::Failed(TaskFailure {
        kind: FailureKind::Interrupted,
        message: "interrupted by a restart; coins stored before it stay in the wallet; import the items again to store the rest (coins already stored are reported as already present)".to_owned(),
    })
}

fn remove_matching(dir: &Path, suffix: &str) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(suffix) {
            durable::remove_if_exists(&entry.path());
        }
    }
}

fn recover_backup(record: &Record) -> Settled {
    let seen = look(record);
    if let Err(problem) = remove_temp(record, &seen) {
        tracing::warn!(op = %record.id, %problem, "recovery: a backup's temporary file is left");
        return Settled::held(format!(
            "interrupted by a restart; {problem}; the next start tries again"
        ));
    }
    if let Some(sha256) = seen.verified {
        let path = output_path(record);
        tracing::info!(op = %record.id, file = %path.display(), "recovery: backup was complete");
        return Settled::done(TaskOutcome::Backup(BackupResult {
            file: path,
            coins: count(record.coin_count),
            amount: Amount::from_units(record.amount_units),
            sha256,
        }));
    }
    tracing::info!(op = %record.id, "recovery: unfinished backup removed");
    Settled::done(TaskOutcome::Failed(TaskFailure {
        kind: FailureKind::Interrupted,
        message: "interrupted by a restart; no complete backup was found; start it again"
            .to_owned(),
    }))
}
