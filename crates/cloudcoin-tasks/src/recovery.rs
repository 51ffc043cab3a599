//! Crash recovery, run by `Service::open` before anything is served.
//!
//! Every journal record left is settled: an export or backup whose output carries its final name
//! and verifies is rolled forward; anything else is rolled back (temporary files removed, coins
//! left in or returned to the wallet). The task of each record then gets its real outcome, and
//! the record is removed last, so running recovery twice does the same thing once.

use std::fs;
use std::path::Path;

use cloudcoin_domain::{Amount, WalletName};

use crate::durable;
use crate::error::OpenError;
use crate::export;
use crate::journal::{Journal, Op, Record};
use crate::store::{Folder, Layout};
use crate::task::{BackupResult, FailureKind, TaskFailure, TaskId, TaskKind, TaskOutcome};
use crate::tracker::Tracker;

/// Message of an export rolled back by recovery.
pub(crate) const EXPORT_ROLLED_BACK: &str =
    "interrupted by a restart; the coins were returned to the wallet";

/// Settles every journal record, then marks tasks still running (which changed nothing) as
/// interrupted.
pub(crate) fn recover(
    layout: &Layout,
    journal: &Journal,
    tracker: &Tracker,
) -> Result<(), OpenError> {
    let records =
        journal.list().map_err(|e| OpenError::Io { path: layout.journal(), source: e })?;
    for record in records {
        let record = record.map_err(|(path, e)| {
            OpenError::Recovery(format!(
                "journal record {} cannot be read ({e}); check the wallet it names, then move the record out of the journal folder",
                path.display()
            ))
        })?;
        let outcome = match record.op {
            Op::Export => recover_export(layout, &record)?,
            Op::Import => recover_import(layout, &record),
            Op::Backup => recover_backup(&record),
        };
        let Ok(id) = record.id.parse::<TaskId>() else {
            return Err(OpenError::Recovery(format!("journal record {} has a bad id", record.id)));
        };
        if tracker.get(id).is_none() {
            let kind = match record.op {
                Op::Export => TaskKind::Export,
                Op::Import => TaskKind::Import,
                Op::Backup => TaskKind::Backup,
            };
            tracker.create(id, kind, "Recovered", None);
        }
        tracker.finish(id, outcome);
        tracker.persist(id).map_err(|e| OpenError::Io { path: layout.tasks(), source: e })?;
        journal
            .remove(&record.id)
            .map_err(|e| OpenError::Io { path: layout.journal(), source: e })?;
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
    Ok(())
}

/// The verified final output of a record, with its SHA-256, if there is one.
fn verified_output(record: &Record) -> Option<(std::path::PathBuf, String)> {
    let name = record.final_name.as_ref()?;
    // Read without following a symbolic link, in the folder or under the name.
    let dir = crate::dir::Dir::open_nofollow(record.target_dir.as_ref()?).ok()?;
    let bytes = export::read_back(&dir, name).ok()?;
    export::verify(&bytes, &record.coins_digest).ok()?;
    Some((dir.path().join(name), durable::sha256_hex(&bytes)))
}

fn remove_temp(record: &Record) {
    if let (Some(dir), Some(temp)) = (&record.target_dir, &record.temp)
        && let Ok(dir) = crate::dir::Dir::open_nofollow(dir)
    {
        dir.remove_if_exists(temp);
    }
}

fn recover_export(layout: &Layout, record: &Record) -> Result<TaskOutcome, OpenError> {
    remove_temp(record);
    if let Some((path, sha256)) = verified_output(record) {
        let result = export::finish(layout, record, &path, &sha256).map_err(|e| {
            OpenError::Recovery(format!("cannot finish export {}: {}", record.id, e.message))
        })?;
        tracing::info!(op = %record.id, file = %path.display(), coins = result.coins, "recovery: export rolled forward");
        return Ok(TaskOutcome::Export(result));
    }
    // Not published: the coins never left their folders, unless the published file vanished
    // after they were moved; then put them back.
    if let Ok(wallet) = WalletName::parse(&record.wallet) {
        let sent = layout.folder(&wallet, Folder::Sent);
        for c in &record.coins {
            let folder = Folder::parse(&c.folder).unwrap_or(Folder::Bank);
            let home = layout.folder(&wallet, folder).join(&c.file);
            let in_sent = sent.join(&c.file);
            if !home.exists() && in_sent.exists() {
                fs::rename(&in_sent, &home)
                    .map_err(|e| OpenError::Io { path: in_sent.clone(), source: e })?;
            }
        }
    }
    tracing::info!(op = %record.id, coins = record.coins.len(), "recovery: export rolled back");
    Ok(TaskOutcome::Failed(TaskFailure {
        kind: FailureKind::Interrupted,
        message: EXPORT_ROLLED_BACK.to_owned(),
    }))
}

fn recover_import(layout: &Layout, record: &Record) -> TaskOutcome {
    let suffix = format!(".{}.partial", record.id);
    if let Ok(wallet) = WalletName::parse(&record.wallet) {
        remove_matching(&layout.folder(&wallet, Folder::Bank), &suffix);
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

fn recover_backup(record: &Record) -> TaskOutcome {
    remove_temp(record);
    if let Some((path, _)) = verified_output(record) {
        tracing::info!(op = %record.id, file = %path.display(), "recovery: backup was complete");
        return TaskOutcome::Backup(BackupResult {
            file: path,
            coins: record.coin_count,
            amount: Amount::from_units(record.amount_units),
        });
    }
    tracing::info!(op = %record.id, "recovery: unfinished backup removed");
    TaskOutcome::Failed(TaskFailure {
        kind: FailureKind::Interrupted,
        message: "interrupted by a restart; no backup was written; start it again".to_owned(),
    })
}
