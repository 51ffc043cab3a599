//! The export pipeline: reserved coins into a new file, crash-safely.
//!
//! Steps (each a fault point): write an unnamed file in the target folder → fsync → journal the
//! intent → read the file back and check it holds exactly the reserved coins → publish it under
//! its final name without replacing anything → journal "committed" → move the coins' files to
//! `Sent` → transaction row and receipt → remove the journal record. (Where the folder cannot
//! hold unnamed files the intent is journaled first, naming the temporary file.) Before the output
//! is published a failure puts the coins back; after, the export is finished (now, or by recovery
//! at start-up).
//!
//! # Step by step
//!
//! 1. validate the wallet, the folder (absolute, no `.`/`..`, canonical — no symlink on the way —,
//!    an existing writable directory, under an export root if any are set, outside the data
//!    directory — see `crate::folder`) and the amount
//!    (`select_coins`'s choice, made by the wallet's `SpendableSet`), and reserve the coins; if the
//!    file's conventional name in the folder, or a numbered name ` (n)` that the search for a free
//!    name would pass, is a symbolic link, the folder is refused (`ServiceError::Folder`, API code
//!    4193) and the coins are released — a regular file there only moves the output to the next
//!    free name; a refusal here reserved and wrote nothing. The folder is then held open as a
//!    directory handle (see `crate::folder`) for the rest of the task;
//! 2. create the output as an **unnamed file** in the folder (`openat(dir, ".", O_TMPFILE|O_RDWR)`,
//!    mode 0600 before the umask: a coin file is bearer money). Nobody can open it before it is
//!    linked, and it vanishes if the process dies or the export fails. Where the file system cannot
//!    make one (FAT sticks, some network file systems) it is a named temporary file
//!    `.{final name}.{id}.partial` instead, created through the handle
//!    (`O_CREAT|O_EXCL|O_NOFOLLOW`) after the journal names it;
//! 3. write the coins with `write_coins`, advancing the task's progress from 10 to 80 —
//!    `export:after_write`;
//! 4. keep only a read-only handle on it (reopened through `/proc/self/fd`, so no file in the
//!    folder stays open for writing) and fsync it — `export:after_fsync`. Make the journal's
//!    record of the intent (coins and their files, the folder's real path, `unnamed` or the
//!    temporary name) — `export:after_journal`: a named temporary file is journaled (written to
//!    disk) before it is created; an unnamed one needs no record until it gets its final name
//!    (nothing needs removing if the process dies before that: the file vanishes with it, and no
//!    coin has moved), so its record is first written in step 5. This runs on the task's thread
//!    while a second thread fsyncs the file, and the read-back below runs there too; the fault
//!    point `export:after_fsync` is passed once both threads are done, and the file is published
//!    only after both succeeded. While
//!    steps 2–4 run on the task's thread, a second thread moves to Trash any copy of a taken coin
//!    dropped into the wallet since the start (`store::set_aside_copies`: the names that appeared
//!    in the held folders since the last look, or a listing of them — see `store::arrivals`), and
//!    makes the journal's coin list and the coins' digest; the record is made only once that
//!    thread is done. Read the file back and check its coins' digest (progress 90);
//! 5. pick the final name (`unique_file_name`), write it and the file's SHA-256 into the record
//!    (before the link: from here recovery takes the link as possible), and publish the file
//!    without replacing anything, symlinks included: an unnamed file with `linkat(fd, "", dir,
//!    final, AT_EMPTY_PATH)` where the kernel allows it, else `linkat(AT_FDCWD, "/proc/self/fd/N",
//!    dir, final, AT_SYMLINK_FOLLOW)`, a named one with `renameat2(RENAME_NOREPLACE)` (so the
//!    temporary name is gone exactly when the final one exists; link and unlink where the file
//!    system lacks it). fsync the folder handle — `export:after_rename`; record `committed` —
//!    `export:after_commit`. The moment the link succeeds the coins leave the wallet's in-memory
//!    index (they are in the file now): an import of that very file — a person may take it the
//!    moment it appears — stores them as new coins instead of counting them as already present
//!    while the export is moving them to `Sent` (the campaign, `bins/cloudcoin-campaign`, found
//!    that loss);
//! 6. rename each coin's file from Bank/Fracked to `Sent` (`store::move_coins`; what guards it is
//!    told in the store's `moves` module) (one `renameat2(RENAME_NOREPLACE)` between
//!    directory handles per coin, in the order the journal lists them — the order the stray-copy
//!    scan found them in their folders' listings, which is the directories' hash order, so each
//!    rename touches the blocks the one before did), then fsync `Sent` and each source folder once
//!    — `export:mid_move` (half-way), `export:after_move`;
//! 7. append the `transactions.csv` row and write `Receipts/{id}.json` (op id, time, amount, coin
//!    ids, file, sha256), each on a thread of its own while step 6 runs; record the task as
//!    completed; remove the journal record.
//!
//! A failure before the link (the link itself failing included) drops the unnamed file or removes
//! the temporary one, clears `final_name` in the record, makes the coins spendable again, and ends
//! the task in `error` ("…; the coins were returned to the wallet"). If the temporary file cannot
//! be removed (the folder went read-only) or the record cannot be updated, the coins stay reserved,
//! the record stays, and the task says so; the next start finishes the clean-up.
//!
//! **Invariant:** a task that returns the coins leaves no readable copy of them. Kept by
//! `faults::a_folder_gone_read_only_before_publishing_leaves_no_readable_copy_of_returned_coins`
//! (the folder is remounted read-only between the fsync and the link, with an unnamed file and with
//! the named fallback) and
//! `recovery::an_unreachable_temporary_file_keeps_the_coins_until_it_is_removed`.
//!
//! Once the link succeeded the export only goes forward. An fsync error of the folder, or a failure
//! to record `committed`, stops it *before any coin moves* (a power loss could otherwise keep the
//! moves to `Sent` and lose the file's name): the coins stay reserved, the record stays, and the
//! task says "the file … was written, but …; its coins stay reserved until the next start settles
//! the export"; the next start syncs the folder again before it moves anything. If step 6 or 7
//! fails the coins stay reserved, the record (committed) stays, and the next start finishes it.
//! Kept by `faults::an_output_folder_fsync_error_stops_the_export_before_the_coins_move` and
//! `faults::a_full_disk_while_settling_keeps_the_task_message_true_after_a_restart` (disk full at
//! each step after the link; the user then takes the file; the restart never makes its coins
//! spendable). The task then reports the path the file really has: the folder handle's path as the
//! kernel knows it (`/proc/self/fd/N`), so a folder moved or swapped mid-export is reported where
//! the file is
//! (`backup::tests::a_folder_swapped_for_a_link_after_validation_keeps_the_file_inside`). The
//! number of fsyncs is constant per export, not one per coin (see below).
//!
//! **Invariant: before an export commits, its file is reachable by the path the task will report.**
//! Kept by `tests/it/others.rs`: `an_export_into_a_mount_detached_mid_export_loses_nothing` (a real
//! tmpfs, `umount -l` while the export is paused; root). The file is written and linked through the
//! held folder handle, which a detached mount still accepts; before the commit the export looks the
//! reported path up afresh and compares device and inode with the file it linked
//! (`Dir::reaches`). Not the same file, or not known: the export has not published — its coins stay
//! reserved, its record stays, the task says it needs attention; it is not undone either (a bind
//! mount's source may still show the file).
//!
//! **Invariant: a name the export made is removed before its record is.** Kept by
//! `tests/it/others.rs`: `a_temporary_name_whose_removal_failed_is_removed_before_its_record`
//! (`CLOUDCOIN_FAULT_IO=publish:unlink_temp`). A failed `unlink(temp)` after the link is returned,
//! not logged away: the export finishes (coins to `Sent`, receipt), tries the removal once more,
//! and if the temporary name is still there keeps its record, marked `finished`, naming it; each
//! start removes it and only then the record. Backups keep theirs the same way.
//!
//! # What is synced, and which rule each sync serves
//!
//! An export makes the same syncs whatever its size (counted with `strace -f -c -e
//! trace=fsync,fdatasync,syncfs` on 2026-12-07, the service's start-up subtracted: 14 `fsync` and
//! 1 `fdatasync` per export, for 1 coin and for 65,535; 17 and 1 before). Those that do not
//! depend on each other run at the same time on threads of their own, so a 1-coin export waits
//! for eleven in a row (thirteen before). In order:
//!
//! 1. The task's record, `.cloudcoin/tasks/{id}.json`: the file and its folder, while the file is
//!    written (beside the second thread's search for stray copies). It carries the idempotency
//!    key, so it is on disk before the final name is journaled: a retry with the same key after a
//!    restart finds the export instead of making a second one; and a crash at any later step
//!    finds the task. (With the network it is written before the RAIDA is asked anything.)
//! 2. The output file (on a thread of its own, while the file is read back): a name is only ever
//!    given to a complete, durable file.
//! 3. For the named fallback only, the first journal record, file and folder, before the
//!    temporary file is created: recovery must know of a named copy of the coins to remove it.
//!    An unnamed output has no record before step 4: it vanishes with the process.
//! 4. The record with the final name: the file and the journal folder. From here recovery
//!    takes the link as possible, so a link never happens that recovery could undo.
//! 5. The output folder, after the link: the file's name is on disk before any coin moves
//!    (a power cut must not keep the moves and lose the name).
//! 6. The record marked committed: the file and the journal folder. Coins move to `Sent` only
//!    after it is on disk, so a rollback never has coins in `Sent` to bring back, recovery goes
//!    forward even when the file was taken away, and a record a power cut brings back after the
//!    export completed settles to the same outcome.
//! 7. `Sent` and each folder the coins left, once each and all at once (`store::move_coins`);
//!    beside the moves, each on a thread of its own, `transactions.csv` (`fdatasync`) and the
//!    receipt (file and folder at once, `durable::write_redone_until_synced`: a receipt a power
//!    cut tore is written again by recovery): all on disk before the record is removed, since
//!    only the record makes recovery redo them.
//! 8. The task's outcome: the file and its folder, before the outcome is shown (a restart never
//!    changes an outcome a client has seen).
//!
//! The record of a completed export is then removed without a sync of the journal folder
//! (`Journal::remove_completed`): brought back by a power cut, it is committed and settled again
//! to the same outcome (recovery is idempotent), and the next synced journal write makes the
//! removal durable anyway. Copies set aside to `Trash` (rare) add a sync of each folder touched.

use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use cloudcoin_codec::{Limits, WriteOptions, decode_any, write_coins, write_zip};
use cloudcoin_domain::{Amount, Coin, CoinId, FileKind, Tag, WalletName, export_file_name};

use crate::dir::{Dir, Publication, Staged};
use crate::durable::{error_chain, now_unix};
use crate::fault::{self, FaultPoint, OutputFaults};
use crate::journal::{Journal, Op, Record, coins_digest};
use crate::records::{self, Receipt, Transaction};
use crate::store::{Folder, Held, Hold, Layout, WalletState};
use crate::task::{ExportResult, FailureKind, TaskFailure, TaskId, TaskOutcome, count};
use crate::tracker::Tracker;
// The pipelines name it `export::StepError` too; it lives in `step`, which `verify` can use
// without depending on the export pipeline.
pub(crate) use crate::step::StepError;

/// Everything an export task needs; the coins are already reserved.
#[derive(Debug)]
pub(crate) struct ExportJob {
    pub(crate) id: TaskId,
    pub(crate) wallet: WalletName,
    pub(crate) state: Arc<Mutex<WalletState>>,
    pub(crate) coins: Vec<Held>,
    pub(crate) amount: Amount,
    /// The validated target folder, held open: the output is written through this handle.
    pub(crate) folder: Dir,
    pub(crate) kind: FileKind,
    pub(crate) tag: Tag,
    /// The task's record is on disk already (else the export writes it while the file is
    /// written, before anything it publishes).
    pub(crate) task_recorded: bool,
}

/// Locks a wallet state, recovering it from a poisoned lock (its data stays consistent: every
/// change under the lock is a single map update).
pub(crate) fn lock(state: &Mutex<WalletState>) -> std::sync::MutexGuard<'_, WalletState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The name the export of `count` coins chosen for `amount` gets (before ` (n)` for a taken
/// name); `single` is the coin when there is one.
///
/// As `export_file_name`, without reading every coin: the chosen coins are money and sum to
/// `amount` exactly, which is the total the name shows.
pub(crate) fn file_name(
    count: usize,
    single: Option<&Coin>,
    amount: Amount,
    tag: &Tag,
    kind: FileKind,
) -> String {
    match single {
        Some(one) if count == 1 => export_file_name(std::slice::from_ref(one), tag, kind),
        _ => cloudcoin_domain::multi_coin_file_name(amount, count, tag, kind),
    }
}

/// Runs an export to its end. Blocking. Returns the outcome and whether the journal record may be
/// removed once the outcome is recorded (not when the file is out but the coins are not settled,
/// nor while a temporary copy of the coins could not be removed).
pub(crate) fn run(
    layout: &Layout,
    journal: &Journal,
    tracker: &Tracker,
    job: &ExportJob,
) -> (TaskOutcome, bool) {
    tracker.advance(job.id, 5, Some("Coins reserved"));
    // The coins themselves, not copies of them, in the digest's order, so that checking the
    // file needs no second pass.
    let mut coins: Vec<&Coin> = job.coins.iter().map(|h| &*h.coin).collect();
    crate::verify::digest_order(&mut coins);
    let mut record = Record::new(Op::Export, job.id.to_string(), job.wallet.as_str().to_owned());
    record.target_dir = Some(job.folder.journal_path());
    record.amount_units = job.amount.units();
    job.tag.as_str().clone_into(&mut record.tag);
    let single = coins.first().copied().filter(|_| coins.len() == 1);
    let base_name = file_name(coins.len(), single, job.amount, &job.tag, job.kind);
    let temp_name = format!(".{base_name}.{}.partial", job.id);
    let output =
        Output { dir: &job.folder, temp: &temp_name, kind: job.kind, faults: OutputFaults::EXPORT };

    // While this thread writes the file, a second one moves to Trash any copy of a taken coin
    // dropped into the wallet since the start (it must not stay spendable), and makes the
    // journal's list of the coins and their digest. The journal record is written only once
    // that is done, and the file is published only after the record. The two threads share
    // nothing but the coins, which neither changes.
    let published = std::thread::scope(|scope| {
        let side = || {
            let set_aside =
                crate::store::set_aside_copies(layout, &job.wallet, &job.state, &job.coins);
            let mut journal_coins = Record::coins_of(&job.coins);
            // In the order their folders list them, which is the order they move in.
            if let Ok(seen) = &set_aside {
                journal_coins.sort_by_cached_key(|c| {
                    seen.listed.get(&c.id()).copied().unwrap_or((usize::MAX, 0))
                });
            }
            Prepared {
                set_aside: set_aside.map(|s| s.moved),
                coins: journal_coins,
                digest: coins_digest(&coins),
            }
        };
        let beside =
            std::thread::Builder::new().name("export-aside".into()).spawn_scoped(scope, side);
        let prepared = move || match beside {
            // A panic there goes on here, as it would have without the thread.
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had: the same work, here.
            Err(_) => side(),
        };
        // The task's record, which carries the idempotency key, is on disk before the file is
        // written (so every fault point of the export finds it there), while the second thread
        // works.
        if !job.task_recorded {
            tracker.persist(job.id).map_err(|e| StepError::io("cannot record the task", e))?;
        }
        write_and_publish(journal, tracker, job, &coins, &mut record, &output, prepared, &base_name)
    });
    let (final_name, sha256, temp_left) = match published {
        Ok(done) => done,
        Err(e) => return give_back(journal, job, &mut record, e),
    };
    let final_path = job.folder.real_path().join(&final_name);
    // The path the task reports must reach the file written: a folder that is its own mount,
    // detached meanwhile (`umount -l`), still takes files through the held handle, and they
    // vanish with it. Not reached (or not known): not published as far as anyone can tell, and
    // not undone either (a bind mount's source may still show the file): the coins stay
    // reserved and the record stays, for the next start.
    match job.folder.reaches(&final_name, &final_path) {
        Ok(true) => {}
        reached => {
            let why = match reached {
                Err(e) => error_chain(&e),
                Ok(_) => "another file or none is there".to_owned(),
            };
            tracing::error!(task = %job.id, file = %final_path.display(), reason = %why, "export written, but its path does not reach the file; coins held back");
            let message = format!(
                "needs attention: the file was written, but {} does not reach it ({why}): the folder was probably unmounted or moved during the export. The balance leaves out its {} so that nothing is spent twice; the next start finishes the export if the file is there, and keeps holding back otherwise",
                final_path.display(),
                crate::words::coins(job.coins.len())
            );
            return (TaskOutcome::Failed(TaskFailure { kind: FailureKind::Io, message }), false);
        }
    }
    // A test holds the export here, its file published and its coins still reserved.
    fault::pause_point(fault::FaultPoint::ExportPublished);
    // The coins are in the published file now: they leave the wallet's index at once, so an
    // import of that very file (a person may take it the moment it appears) stores them as new
    // coins instead of counting them as already present while they are on their way to Sent.
    forget(&mut lock(&job.state), &job.coins);

    // The output carries its final name: from here the export is never undone. The coins move
    // only once the folder's new entry is durable and the journal says so.
    let io = |what: &'static str| move |e: io::Error| StepError::io(what, e);
    let settled = job
        .folder
        .sync()
        .and_then(|()| fault::point(FaultPoint::ExportAfterRename))
        .map_err(io("the folder cannot be flushed to disk"))
        .and_then(|()| {
            record.committed = true;
            journal
                .write(&record)
                .and_then(|()| fault::point(FaultPoint::ExportAfterCommit))
                .map_err(io("the journal cannot record it"))
        });
    if let Err(e) = settled {
        return not_settled(
            job,
            &final_path,
            &e,
            "stay reserved until the next start settles the export",
        );
    }
    tracker.advance(job.id, 90, Some("Moving coins to Sent"));
    let keys = || job.coins.iter().map(|h| (h.coin.id(), h.coin.clone())).collect();
    let finished = finish(layout, &record, &final_path, &sha256, Some(&job.state), None, &keys);
    if finished.is_ok() {
        gone(&mut lock(&job.state), &job.coins);
    }
    // A name the export made is removed before its record is: a temporary name the fallback
    // could not remove after the link is tried once more, and if it is still there the record
    // stays, marked finished, for the next start to remove it.
    let temp_gone = match (temp_left, &record.temp) {
        (Some(e), Some(temp)) if finished.is_ok() => match job.folder.remove_checked(temp) {
            Ok(()) => true,
            Err(again) => {
                tracing::error!(task = %job.id, temp = %temp, error = %e, again = %again, "export completed, but its temporary name cannot be removed; the next start removes it");
                record.finished = true;
                if let Err(e) = journal.write(&record) {
                    tracing::error!(task = %job.id, error = %e, "cannot mark the export finished in the journal; the next start settles it again");
                }
                false
            }
        },
        (Some(_), _) => false,
        (None, _) => true,
    };
    // The coins' journal list is freed off this thread: the task is done.
    free_later(record);
    match finished {
        Ok(result) => {
            tracing::info!(task = %job.id, file = %final_path.display(), amount = %job.amount, coins = job.coins.len(), "export completed");
            (TaskOutcome::Export(result), temp_gone)
        }
        Err(e) => not_settled(
            job,
            &final_path,
            &e,
            "stay reserved and are moved to Sent at the next start",
        ),
    }
}

/// Drops `value` on a short-lived thread of its own (here, when none can be started): freeing a
/// whole wallet's coins one allocation at a time is work the task's outcome need not wait for.
pub(crate) fn free_later<T: Send + 'static>(value: T) {
    // Where no thread can be started, the closure is dropped here, and the value with it.
    let spawned = std::thread::Builder::new().name("export-free".into()).spawn(move || drop(value));
    drop(spawned);
}

/// Runs `side` on a second thread named `name` while `here` runs on this one, and returns both
/// results. Where no thread can be started, both run here, `side` first. A panic on the second
/// thread goes on here, as it would have without the thread.
fn alongside<A: Send, B>(
    name: &str,
    side: impl Fn() -> A + Sync,
    here: impl FnOnce() -> B,
) -> (A, B) {
    std::thread::scope(|scope| {
        match std::thread::Builder::new().name(name.to_owned()).spawn_scoped(scope, &side) {
            Ok(handle) => {
                let here = here();
                (handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), here)
            }
            Err(_) => (side(), here()),
        }
    })
}

/// What the export's second thread makes while the file is written.
struct Prepared {
    /// How many copies of the taken coins were moved to Trash.
    set_aside: io::Result<usize>,
    /// The journal's list of the coins.
    coins: Vec<crate::journal::JournalCoin>,
    /// The coins' digest.
    digest: String,
}

/// Removes an export's coins from the wallet's index — only the entries it reserved (an import
/// may have stored the same coins again since) — and marks their files as leaving.
fn forget(state: &mut WalletState, coins: &[Held]) {
    for h in coins {
        state.coins.remove_if(&h.coin.id(), |e| e.hold == Hold::Reserved && e.is_at(h));
        state.leaving.insert((h.folder, h.file.get(&h.coin).into()));
    }
}

/// The export's files have gone to `Sent`: they are no longer leaving.
fn gone(state: &mut WalletState, coins: &[Held]) {
    for h in coins {
        state.leaving.remove(&(h.folder, h.file.get(&h.coin).into()));
    }
}

/// The outcome of an export whose file is out but whose coins could not be settled: they are out
/// of the index (never spendable again), the journal record stays, and recovery finishes the
/// export.
fn not_settled(
    job: &ExportJob,
    final_path: &Path,
    e: &StepError,
    then: &str,
) -> (TaskOutcome, bool) {
    tracing::error!(task = %job.id, file = %final_path.display(), error = %e.message(), "export written but not settled");
    let message = format!(
        "the file {} was written, but {}; its coins {then}",
        final_path.display(),
        e.message()
    );
    (TaskOutcome::Failed(TaskFailure { kind: e.kind, message }), false)
}

/// Undoes an export that failed before its file got a final name (the link failed or was never
/// tried). The coins return to the wallet only once no copy of them is left readable and the
/// journal says no name was linked; otherwise they stay reserved and the record stays, for the
/// next start to finish the clean-up.
fn give_back(
    journal: &Journal,
    job: &ExportJob,
    record: &mut Record,
    e: StepError,
) -> (TaskOutcome, bool) {
    let keep = |why: String| {
        tracing::error!(task = %job.id, error = %e.message(), problem = %why, "export failed; coins kept reserved");
        let message = format!("{}; {why}", e.message());
        (TaskOutcome::Failed(TaskFailure { kind: e.kind, message }), false)
    };
    // An unnamed file went with the error. A named one must be removed.
    if let Some(temp) = &record.temp
        && let Err(err) = job.folder.remove_checked(temp)
    {
        return keep(format!(
            "the temporary file {} holds the coins and cannot be removed ({}), so they stay reserved until the next start removes it",
            job.folder.real_path().join(temp).display(),
            error_chain(&err)
        ));
    }
    if record.final_name.take().is_some()
        && let Err(err) = journal.write(record)
    {
        return keep(format!(
            "no file was published, but the journal cannot record that ({}), so the coins stay reserved until the next start",
            error_chain(&err)
        ));
    }
    lock(&job.state).release(&job.coins);
    tracing::warn!(task = %job.id, error = %e.message(), "export failed; coins returned");
    let message = format!("{}; the coins were returned to the wallet", e.message());
    (TaskOutcome::Failed(TaskFailure { kind: e.kind, message }), true)
}

/// Writes the output and publishes it: the journal record (once `prepared` is done: the second
/// copies set aside, the coins listed), the file written and synced, read back and checked, then
/// linked under its final name. Returns the final name, the file's SHA-256, and why the temporary
/// name is still there after a link-then-unlink publication, if it is.
///
/// An unnamed file is written before the record, since nothing needs removing if the process
/// dies meanwhile; a named temporary file only after the record names it.
#[allow(clippy::too_many_arguments, reason = "one pipeline step, called once")]
fn write_and_publish(
    journal: &Journal,
    tracker: &Tracker,
    job: &ExportJob,
    coins: &[&Coin],
    record: &mut Record,
    output: &Output<'_>,
    prepared: impl FnOnce() -> Prepared,
    base_name: &str,
) -> Result<(String, String, Option<io::Error>), StepError> {
    let unnamed = output.open_unnamed()?;
    let journaled = |record: &mut Record, temp: Option<&str>| {
        let Prepared { set_aside, coins, digest } = prepared();
        set_aside.map_err(|e| StepError::io("cannot move a second copy of a coin to Trash", e))?;
        record.temp = temp.map(str::to_owned);
        record.coins = coins;
        record.coins_digest = digest;
        // A named temporary file is created only once a durable record names it. An unnamed
        // one vanishes with the process, and no coin has moved: nothing is on disk that
        // recovery would have to undo, so the record is first written with the final name,
        // just before the link.
        if temp.is_some() {
            journal.write(record).map_err(|e| StepError::io("cannot write the journal", e))?;
        }
        fault::point(FaultPoint::ExportAfterJournal)
            .map_err(|e| StepError::io("cannot write the journal", e))
    };
    let options = WriteOptions::new().with_tag(job.tag.clone()).with_date(date_today());
    let (staged, sha256) = match unnamed {
        Some(file) => {
            record.unnamed = true;
            // The file is synced on a second thread while this one journals the intent and
            // reads the file back; it is published only once all three are done.
            output.write_unnamed_then(file, tracker, job.id, coins, options, |written| {
                journaled(record, None)?;
                output.check(tracker, job.id, written, &record.coins_digest, coins.len())
            })?
        }
        None => {
            journaled(record, Some(output.temp))?;
            output.write_verified(None, tracker, job.id, coins, options, &record.coins_digest)?
        }
    };
    record.sha256.clone_from(&sha256);
    let published = job
        .folder
        .publish_unique(&staged, base_name, |name, how| {
            // Before the link: from here on, recovery takes the link as possible.
            record.final_name = Some(name.to_owned());
            record.link_then_unlink = how == Publication::LinkThenUnlink;
            record.target_dir = Some(job.folder.journal_path());
            journal.write(record)
        })
        .map_err(|e| StepError::io("cannot give the file its name", e))?;
    Ok((published.name, sha256, published.temp_left))
}

/// A temporary output file in a client's folder, written the same careful way by exports and
/// backups.
pub(crate) struct Output<'a> {
    /// The validated folder, held open.
    pub(crate) dir: &'a Dir,
    /// The temporary name inside it, used only where the file system cannot make unnamed files.
    pub(crate) temp: &'a str,
    /// The file type to write.
    pub(crate) kind: FileKind,
    /// The pipeline's fault points of writing the file.
    pub(crate) faults: OutputFaults,
}

impl Output<'_> {
    /// An unnamed file in the folder to write the output to, or `None` where the file system
    /// cannot make one (then [`Output::write_verified`] uses the named temporary file). Called
    /// before the journal record is written: an unnamed file needs no clean-up.
    pub(crate) fn open_unnamed(&self) -> Result<Option<File>, StepError> {
        self.dir
            .create_unnamed(crate::folder::OUTPUT_MODE)
            .map_err(|e| StepError::io("cannot create the file", e))
    }

    /// Writes `coins` to the unnamed file `unnamed`, or else to a new temporary file under the
    /// temporary name (never following or replacing anything), with progress from 10 to 80;
    /// fsyncs it; keeps only a read-only handle on it; reads it back and checks it holds
    /// exactly the coins of `digest`. Returns the file, ready for [`Dir::publish_unique`], and
    /// its SHA-256. Fault points: `{step}:after_write`, `{step}:after_fsync`.
    pub(crate) fn write_verified<C: Borrow<Coin>>(
        &self,
        unnamed: Option<File>,
        tracker: &Tracker,
        task: TaskId,
        coins: &[C],
        options: WriteOptions<'_>,
        digest: &str,
    ) -> Result<(Staged, String), StepError> {
        let check = |file: &File| self.check(tracker, task, file, digest, coins.len());
        match unnamed {
            Some(file) => self.write_unnamed_then(file, tracker, task, coins, options, check),
            None => {
                let file = self
                    .dir
                    .create_new(self.temp, crate::folder::OUTPUT_MODE)
                    .map_err(|e| StepError::io("cannot create the file", e))?;
                let file = self.write_file(file, tracker, task, coins, options)?;
                file.sync_all().map_err(|e| StepError::io("cannot flush the file to disk", e))?;
                // Complete and durable: nothing writes to it again, so no handle stays open for
                // writing while it waits for its name.
                drop(file);
                self.after_fsync()?;
                let file = self
                    .dir
                    .open_read(self.temp)
                    .map_err(|e| StepError::io("cannot read the file back", e))?;
                Ok((Staged::Named(self.temp.to_owned()), check(&file)?))
            }
        }
    }

    /// Writes `coins` to the unnamed file `file`, keeps only a read-only handle on it, and
    /// fsyncs it on a second thread while `meanwhile` runs with that handle here (both here,
    /// the fsync first, where no thread can be started). Returns what `meanwhile` returns once
    /// both succeeded; the fsync's error first. Fault points as [`Output::write_verified`]; the
    /// one after the fsync is passed once both are done, so `meanwhile`'s own fault points come
    /// before it.
    pub(crate) fn write_unnamed_then<C: Borrow<Coin>, T>(
        &self,
        file: File,
        tracker: &Tracker,
        task: TaskId,
        coins: &[C],
        options: WriteOptions<'_>,
        meanwhile: impl FnOnce(&File) -> Result<T, StepError>,
    ) -> Result<(Staged, T), StepError> {
        let file = self.write_file(file, tracker, task, coins, options)?;
        // Complete: nothing writes to it again, so no handle stays open for writing while it is
        // synced and waits for its name (an fsync through a read-only handle syncs the file).
        let file = crate::dir::reopen_read_only(&file).unwrap_or(file);
        let (synced, done) = alongside(
            "output-fsync",
            || file.sync_all().map_err(|e| StepError::io("cannot flush the file to disk", e)),
            || meanwhile(&file),
        );
        synced?;
        // Here, once both threads are done: a crash at this point interrupts nothing half-way.
        self.after_fsync()?;
        Ok((Staged::Unnamed(file), done?))
    }

    /// Reads the written `file` back in one streaming pass (progress 85), checks it holds
    /// exactly the `count` coins of `digest`, and returns its SHA-256.
    pub(crate) fn check(
        &self,
        tracker: &Tracker,
        task: TaskId,
        file: &File,
        digest: &str,
        count: usize,
    ) -> Result<String, StepError> {
        tracker.advance(task, 85, Some("Verifying the file"));
        crate::verify::verify_file(file, digest, count)
    }

    /// Encodes `coins` into `file` through a large buffer, with progress from 10 to 80
    /// (`{step}:after_write`). Returns the file, not yet synced.
    fn write_file<C: Borrow<Coin>>(
        &self,
        file: File,
        tracker: &Tracker,
        task: TaskId,
        coins: &[C],
        options: WriteOptions<'_>,
    ) -> Result<File, StepError> {
        tracker.advance(task, 10, Some("Writing coins"));
        // Large writes: a 26 MB file in a few dozen system calls, not a few thousand.
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let total = coins.len().max(1);
        let last = Cell::new(0usize);
        let options = options.with_progress(|written: usize| {
            fault::slow_write(last.replace(written), written);
            tracker.advance(task, 10 + (70 * written.min(total) / total) as u8, None);
        });
        match self.kind {
            FileKind::Zip => write_zip(&mut w, coins, &options),
            kind => write_coins(&mut w, kind, coins, &options),
        }
        .map_err(|e| StepError::new(FailureKind::Io, "cannot write the file", e))?;
        let file =
            w.into_inner().map_err(|e| StepError::io("cannot write the file", e.into_error()))?;
        fault::point(self.faults.after_write)
            .map_err(|e| StepError::io("cannot write the file", e))?;
        Ok(file)
    }

    /// The fault point after the output's fsync.
    fn after_fsync(&self) -> Result<(), StepError> {
        fault::point(self.faults.after_fsync)
            .map_err(|e| StepError::io("cannot flush the file to disk", e))
    }
}

/// Checks that `bytes` decode to exactly the coins of `digest`.
pub(crate) fn verify(bytes: &[u8], digest: &str) -> Result<(), StepError> {
    let decoded = decode_any(bytes, &Limits::default()).map_err(|e| {
        StepError::new(FailureKind::Verification, "the file written does not read back", e)
    })?;
    if coins_digest(&decoded) != digest {
        return Err(StepError::check(
            FailureKind::Verification,
            "the file written does not hold exactly the coins meant for it",
        ));
    }
    Ok(())
}

/// Reads the temporary file `temp` of `dir` back (never through a symbolic link).
pub(crate) fn read_back(dir: &Dir, temp: &str) -> Result<Vec<u8>, StepError> {
    let mut bytes = Vec::new();
    dir.open_read(temp)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| StepError::io("cannot read the file back", e))?;
    Ok(bytes)
}

/// Finishes a published export: coins to `Sent`, transaction row, receipt. Idempotent, so
/// recovery can run it again after a crash. The journal record is removed by the caller once the
/// task's outcome is recorded.
///
/// A coin the journal says is exported is moved to `Sent` wherever the wallet holds it: a file
/// not where the record says is looked up by id across the held folders (skipping the files the
/// index `known` holds, when there is one) and moved; one found nowhere is reported, never taken
/// for moved. `keys` gives the exported coins' keys, where they are known (an empty map where
/// they are not), called only when a file is missing.
///
/// When finish runs again (recovery: `moved_since` is when the record was last written, before
/// any coin moved), a coin whose file an earlier run already moved to `Sent` is not moved again:
/// the recorded file is found in `Sent` (under its name or the next free one, moved there since
/// the record was written, holding the coin). The user may have imported the published file back
/// meanwhile — the wallet then holds the same coin, with the same keys, maybe under the very name
/// the record names — and that file must stay: it is the coin's only held file.
pub(crate) fn finish(
    layout: &Layout,
    record: &Record,
    final_path: &Path,
    sha256: &str,
    known: Option<&Mutex<WalletState>>,
    moved_since: Option<std::time::SystemTime>,
    keys: &(dyn Fn() -> HashMap<CoinId, Arc<Coin>> + Sync),
) -> Result<ExportResult, StepError> {
    let wallet = WalletName::parse(&record.wallet)
        .map_err(|e| StepError::new(FailureKind::Internal, "journal names a bad wallet", e))?;
    let io = |what: &'static str| move |e: io::Error| StepError::io(what, e);
    let amount = Amount::from_units(record.amount_units);
    let file_text = final_path.to_string_lossy();
    let wallet_dir = layout.wallet(&wallet);
    // The transaction row and the receipt are written on two more threads while the coins move
    // (the export is committed: whatever of the three a crash cuts short, recovery finishes), so
    // the export waits for the longest of the three, not for their sum.
    // A live export's id is new, so only a second run (recovery) looks for its row first.
    let write_row = || {
        let seen = match moved_since {
            Some(_) => records::has_transaction(&wallet_dir, &record.id)
                .map_err(io("cannot read transactions.csv"))?,
            None => false,
        };
        if !seen {
            records::append_transaction(
                &wallet_dir,
                &Transaction {
                    time: now_unix(),
                    kind: "export",
                    amount,
                    coins: record.coins.len(),
                    tag: &record.tag,
                    file: &file_text,
                    id: &record.id,
                },
            )
            .map_err(io("cannot write transactions.csv"))?;
        }
        Ok(())
    };
    let write_receipt = || {
        let receipt = Receipt {
            id: &record.id,
            time: records::rfc3339(now_unix()),
            amount: amount.to_string(),
            coins: record.coins.iter().map(|c| c.id().to_string()).collect(),
            file: &file_text,
            sha256,
        };
        records::receipt_bytes(&receipt)
            .and_then(|bytes| {
                records::write_receipt_bytes(
                    &layout.folder(&wallet, Folder::Receipts),
                    &record.id,
                    &bytes,
                )
            })
            .map_err(io("cannot write the receipt"))
    };
    let move_them = || {
        let pending: Vec<usize> = match moved_since {
            Some(since) => not_yet_in_sent(layout, &wallet, record, since, keys)
                .map_err(io("cannot look in Sent for the coins moved already"))?,
            None => (0..record.coins.len()).collect(),
        };
        let files =
            pending.iter().map(|&i| (record.coins[i].folder(), record.coins[i].file_name()));
        crate::store::move_coins(layout, &wallet, files, Folder::Sent, FaultPoint::ExportMidMove)
            .map(|missing| missing.into_iter().map(|at| pending[at]).collect::<Vec<_>>())
            .and_then(|missing| move_missing(layout, &wallet, record, &missing, known, keys))
            .and_then(|()| fault::point(FaultPoint::ExportAfterMove))
            .map_err(io("cannot move the coins to Sent"))
    };
    let (row, (receipt, moved)) = alongside("export-row", write_row, || {
        alongside("export-receipt", write_receipt, move_them)
    });
    moved?;
    row?;
    receipt?;
    Ok(ExportResult {
        file: final_path.to_path_buf(),
        amount,
        coins: count(record.coins.len()),
        sha256: sha256.to_owned(),
        change: None,
    })
}

/// The places (in `record`'s list) of the coins an earlier run of [`finish`] has not moved to
/// `Sent`. A coin counts as moved when `Sent` holds, under its recorded name or the next free
/// one, a file changed (renamed in) no earlier than `since` that holds the coin (the same id, and
/// the same keys where the exported keys are known). A file in `Sent` from an earlier export of
/// the same coin was put there before the record was written, so it does not count; nor does any
/// file in `Sent` while the recorded file is still where the record says, unchanged since before
/// the record was written (an export held back for attention, whose coin went out and came back
/// by another way meanwhile). Blocking.
fn not_yet_in_sent(
    layout: &Layout,
    wallet: &WalletName,
    record: &Record,
    since: std::time::SystemTime,
    keys: &(dyn Fn() -> HashMap<CoinId, Arc<Coin>> + Sync),
) -> io::Result<Vec<usize>> {
    use std::os::unix::fs::MetadataExt;
    let since = since.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let sent = layout.folder(wallet, Folder::Sent);
    let mut keys_read: Option<HashMap<CoinId, Arc<Coin>>> = None;
    let mut pending = Vec::new();
    let changed = |meta: &std::fs::Metadata| {
        std::time::Duration::new(
            u64::try_from(meta.ctime()).unwrap_or(0),
            u32::try_from(meta.ctime_nsec()).unwrap_or(0),
        )
    };
    for (i, c) in record.coins.iter().enumerate() {
        let recorded = c.file_name();
        // A file where the record says, unchanged since before the record was written, is the
        // export's own file, never moved (a file renamed or made there since has a later change
        // time): it goes to Sent whatever Sent holds.
        let place = layout.folder(wallet, c.folder()).join(&recorded);
        if std::fs::symlink_metadata(&place).is_ok_and(|m| changed(&m) < since) {
            pending.push(i);
            continue;
        }
        let mut moved = false;
        // The recorded name, then "name (2)", "name (3)"… while they exist.
        let mut n = 1u64;
        loop {
            let name = if n == 1 {
                recorded.to_owned()
            } else {
                match recorded.rfind('.') {
                    Some(at) if at > 0 => format!("{} ({n}){}", &recorded[..at], &recorded[at..]),
                    _ => format!("{recorded} ({n})"),
                }
            };
            let path = sent.join(&name);
            let Ok(meta) = std::fs::symlink_metadata(&path) else { break };
            if meta.is_file()
                && changed(&meta) >= since
                && let Ok(coin) = crate::store::read_single_coin(&path)
                && coin.id() == c.id()
            {
                let keys = keys_read.get_or_insert_with(keys);
                if keys.get(&coin.id()).is_none_or(|k| k.ans == coin.ans) {
                    moved = true;
                    break;
                }
            }
            n += 1;
        }
        if !moved {
            pending.push(i);
        }
    }
    Ok(pending)
}

/// Looks up the coins of `record` at the places `missing` (of its list) — files not where the
/// journal says — across the wallet's held folders and moves them to `Sent`.
///
/// Other software may be moving the files at the same time, so the folders are looked through a
/// second time for what the first pass missed. While the service runs (`known` is its index) a
/// coin found in neither pass is an error: the export is not settled, its record stays, and the
/// next start looks again before anything is served. At start-up (no index) a coin found nowhere
/// is reported: other software moved it out of the wallet, and it is in the published file.
fn move_missing(
    layout: &Layout,
    wallet: &WalletName,
    record: &Record,
    missing: &[usize],
    known: Option<&Mutex<WalletState>>,
    keys: &(dyn Fn() -> HashMap<CoinId, Arc<Coin>> + Sync),
) -> io::Result<()> {
    if missing.is_empty() {
        return Ok(());
    }
    let mut wanted: HashSet<CoinId> =
        missing.iter().filter_map(|&i| record.coins.get(i)).map(|c| c.id()).collect();
    let keys = keys();
    // A second pass for what the first missed: other software may move a file from a folder
    // not yet looked through into one already looked through.
    for _ in 0..2 {
        let found =
            crate::store::move_found_coins(layout, wallet, &wanted, known, &keys, Folder::Sent)?;
        wanted.retain(|id| !found.contains(id));
        if wanted.is_empty() {
            return Ok(());
        }
    }
    if known.is_some() {
        return Err(io::Error::other(format!(
            "{} of its coins {} not where the wallet keeps {} and cannot be found in its folders (moved by other software?)",
            wanted.len(),
            crate::words::agree(wanted.len(), "is", "are"),
            crate::words::agree(wanted.len(), "it", "them")
        )));
    }
    let sent = layout.folder(wallet, Folder::Sent);
    for id in &wanted {
        let usual = crate::store::id_file_name(*id);
        if std::fs::symlink_metadata(sent.join(&usual)).is_err() {
            tracing::error!(op = %record.id, wallet = %wallet, coin = %id, "an exported coin is neither in the wallet's held folders nor under its usual name in Sent: other software moved it out of the wallet; it is in the published file");
        }
    }
    Ok(())
}

/// Today's date, `YYYY-MM-DD` (UTC), for the picture.
fn date_today() -> String {
    records::rfc3339(now_unix()).chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};

    #[test]
    fn the_file_name_is_the_domain_rule() {
        let coins: Vec<Coin> = [(1, 7), (0, 8), (-1, 9), (11, 10)]
            .into_iter()
            .map(|(code, sn)| {
                let (d, s) = (Denomination::from_code(code), SerialNumber::new(sn));
                Coin::new(d, s, [[3; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT])
            })
            .collect();
        let tag = Tag::parse("trade").expect("tag");
        for n in [0, 1, 2, 4] {
            for kind in FileKind::ALL {
                let expected = export_file_name(&coins[..n], &tag, kind);
                let amount = cloudcoin_domain::total_value(&coins[..n]).expect("small");
                let single = (n == 1).then(|| &coins[0]);
                assert_eq!(file_name(n, single, amount, &tag, kind), expected);
            }
        }
    }

    /// A wallet `W` of one coin file in `Bank`, scanned, with that coin reserved by an export.
    struct ReservedCoin {
        _tmp: tempfile::TempDir,
        layout: crate::store::Layout,
        wallet: WalletName,
        x: Coin,
        bytes: Vec<u8>,
        usual: String,
        state: crate::store::WalletState,
        held: Vec<crate::store::Held>,
    }

    impl ReservedCoin {
        fn new() -> ReservedCoin {
            let _tmp = tempfile::tempdir().expect("tempdir");
            let layout = crate::store::Layout { root: _tmp.path().to_path_buf() };
            let wallet = WalletName::parse("W").expect("name");
            layout.create_wallet_dirs(&wallet).expect("dirs");
            let x = crate::fixtures::coin(0, 7);
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&x)).expect("encode");
            let usual = crate::store::coin_file_name(&x);
            let bank = layout.folder(&wallet, Folder::Bank);
            std::fs::write(bank.join(&usual), &bytes).expect("write");
            let mut state = crate::store::scan_wallet(&layout, &wallet).expect("scan");
            let policy = cloudcoin_domain::SelectionPolicy::default();
            let ids = state.reserve_amount(x.value().expect("money"), &policy).expect("reserve");
            let held = state.held(&ids).expect("reserved");
            ReservedCoin { _tmp, layout, wallet, x, bytes, usual, state, held }
        }
    }

    /// Two exports of one wallet at once. Export A has published its file and its coin's file is
    /// on its way to `Sent`; an import of A's file stored the same coin again (under the next
    /// free name) and export B took it. B's scan for stray copies meets A's file: it is not a
    /// stray. Moving it to `Trash` would put A's exported coin in Trash instead of Sent (and had
    /// A moved it first, B failed with "cannot move a second copy of a coin to Trash").
    #[test]
    fn another_exports_file_on_its_way_to_sent_is_not_a_stray_copy() {
        use crate::store::{Entry, set_aside_copies};
        let ReservedCoin { _tmp, layout, wallet, x, bytes, usual, mut state, held: a } =
            ReservedCoin::new();
        let bank = layout.folder(&wallet, Folder::Bank);
        forget(&mut state, &a);
        // The import of A's file: the same coin, under the next free name, reserved by B.
        let again = cloudcoin_domain::unique_file_name(&usual, |n| bank.join(n).exists());
        std::fs::write(bank.join(&again), &bytes).expect("write");
        state
            .coins
            .insert(x.id(), Entry::new(Folder::Bank, again.clone(), x.clone(), Hold::Reserved));
        let b = state.held(&[x.id()]).expect("reserved by B");
        let state = Mutex::new(state);
        let aside = set_aside_copies(&layout, &wallet, &state, &b).expect("set aside");
        assert_eq!(aside.moved, 0, "A's file was taken for a stray copy");
        assert!(bank.join(&usual).exists(), "A's file is still to be moved to Sent");
        assert!(bank.join(&again).exists());
        let trash = layout.folder(&wallet, Folder::Trash);
        assert_eq!(std::fs::read_dir(trash).expect("Trash").count(), 0);
    }

    /// Other software moves a reserved coin's file from `Bank` to `Fracked` before the export's
    /// scan for stray copies: the file there is the coin's own, not a copy. Put in `Trash`, the
    /// coin would be lost to the wallet if the export then failed and gave its coins back.
    #[test]
    fn a_reserved_coins_own_file_moved_by_other_software_is_not_a_stray_copy() {
        use crate::store::set_aside_copies;
        let ReservedCoin { _tmp, layout, wallet, usual, state, held, .. } = ReservedCoin::new();
        let (bank, fracked) =
            (layout.folder(&wallet, Folder::Bank), layout.folder(&wallet, Folder::Fracked));
        std::fs::rename(bank.join(&usual), fracked.join(&usual)).expect("moved by another program");
        let aside = set_aside_copies(&layout, &wallet, &Mutex::new(state), &held).expect("scan");
        assert_eq!(aside.moved, 0, "the coin's only file was taken for a stray copy");
        assert!(fracked.join(&usual).exists(), "the coin's only file stays held");
    }

    #[test]
    fn verify_accepts_exactly_the_coins() {
        let coin = |sn| {
            Coin::new(
                Denomination::from_code(0),
                SerialNumber::new(sn),
                [[sn as u8; 16]; RAIDA_COUNT],
                [Pown::Pass; RAIDA_COUNT],
            )
        };
        let coins = vec![coin(1), coin(2)];
        let bytes = cloudcoin_codec::encode_bin(&coins).expect("encode");
        assert!(verify(&bytes, &coins_digest(&coins)).is_ok());
        let e = verify(&bytes, &coins_digest(&coins[..1])).expect_err("one coin too many");
        assert_eq!(e.kind, FailureKind::Verification);
        let e = verify(&bytes[..100], &coins_digest(&coins)).expect_err("truncated");
        assert!(e.message().contains("does not read back"), "{}", e.message());
    }
}
