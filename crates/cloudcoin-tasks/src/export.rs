//! The export pipeline: reserved coins into a new file, crash-safely.
//!
//! Steps (each a fault point): journal the intent → write a temporary file in the target folder →
//! fsync → read it back and check it holds exactly the reserved coins → publish it under its final
//! name without replacing anything → journal "committed" → move the coins' files to `Sent` →
//! transaction row and receipt → remove the journal record. Before the output is published a
//! failure puts the coins back; after, the export is finished (now, or by recovery at start-up).

use std::cell::Cell;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudcoin_codec::{Limits, WriteOptions, decode_any, write_coins, write_zip};
use cloudcoin_domain::{Amount, Coin, FileKind, Tag, WalletName, export_file_name};

use crate::dir::Dir;
use crate::durable::{self, error_chain, now_unix};
use crate::fault;
use crate::journal::{Journal, Op, Record, coins_digest};
use crate::records::{self, Receipt, Transaction};
use crate::store::{Folder, Held, Layout, WalletState};
use crate::task::{ExportResult, FailureKind, TaskFailure, TaskId, TaskOutcome};
use crate::tracker::Tracker;

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
}

/// Why a step failed, and whether the output was already published.
#[derive(Debug)]
pub(crate) struct StepError {
    pub(crate) kind: FailureKind,
    pub(crate) message: String,
}

impl StepError {
    pub(crate) fn io(what: &str, e: &io::Error) -> StepError {
        StepError { kind: FailureKind::Io, message: format!("{what}: {}", error_chain(e)) }
    }
}

/// Locks a wallet state, recovering it from a poisoned lock (its data stays consistent: every
/// change under the lock is a single map update).
pub(crate) fn lock(state: &Mutex<WalletState>) -> std::sync::MutexGuard<'_, WalletState> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The name the export of `coins` gets (before ` (n)` for a taken name).
pub(crate) fn file_name(coins: &[Held], tag: &Tag, kind: FileKind) -> String {
    let coins: Vec<Coin> = coins.iter().map(|h| h.coin.clone()).collect();
    export_file_name(&coins, tag, kind)
}

/// Runs an export to its end. Blocking. Returns the outcome and whether the journal record may be
/// removed once the outcome is recorded (not when the file is out but the coins are not settled).
pub(crate) fn run(
    layout: &Layout,
    journal: &Journal,
    tracker: &Tracker,
    job: &ExportJob,
) -> (TaskOutcome, bool) {
    tracker.advance(job.id, 5, Some("Coins reserved"));
    let coins: Vec<Coin> = job.coins.iter().map(|h| h.coin.clone()).collect();
    let mut record = Record::new(Op::Export, job.id.to_string(), job.wallet.as_str().to_owned());
    record.coins = Record::coins_of(&job.coins);
    record.coins_digest = coins_digest(&coins);
    record.target_dir = Some(job.folder.path().to_path_buf());
    let base_name = export_file_name(&coins, &job.tag, job.kind);
    let temp_name = format!(".{base_name}.{}.partial", job.id);
    record.temp = Some(temp_name.clone());
    record.amount_units = job.amount.units();
    job.tag.as_str().clone_into(&mut record.tag);

    let published =
        write_and_publish(journal, tracker, job, &coins, &mut record, &temp_name, &base_name);
    let (final_path, sha256) = match published {
        Ok(done) => done,
        Err(e) => {
            // Nothing carries a final name: undo.
            job.folder.remove_if_exists(&temp_name);
            lock(&job.state).release(&job.coins);
            tracing::warn!(task = %job.id, error = %e.message, "export failed; coins returned");
            let failure = TaskFailure {
                kind: e.kind,
                message: format!("{}; the coins were returned to the wallet", e.message),
            };
            return (TaskOutcome::Failed(failure), true);
        }
    };
    tracker.advance(job.id, 90, Some("Moving coins to Sent"));
    match finish(layout, &record, &final_path, &sha256) {
        Ok(result) => {
            lock(&job.state).remove(&job.coins);
            tracing::info!(task = %job.id, file = %final_path.display(), amount = %job.amount, coins = job.coins.len(), "export completed");
            (TaskOutcome::Export(result), true)
        }
        Err(e) => {
            // The file is out; the coins must not be spent again. They stay reserved, and
            // recovery at the next start finishes moving them.
            tracing::error!(task = %job.id, error = %e.message, "export written but not settled");
            let failure = TaskFailure {
                kind: e.kind,
                message: format!(
                    "the file {} was written, but {}; its coins stay reserved and are moved to Sent at the next start",
                    final_path.display(),
                    e.message
                ),
            };
            (TaskOutcome::Failed(failure), false)
        }
    }
}

/// Journal, write, sync, verify, publish. Returns the final path and the file's SHA-256.
fn write_and_publish(
    journal: &Journal,
    tracker: &Tracker,
    job: &ExportJob,
    coins: &[Coin],
    record: &mut Record,
    temp: &str,
    base_name: &str,
) -> Result<(PathBuf, String), StepError> {
    journal.write(record).map_err(|e| StepError::io("cannot write the journal", &e))?;
    fault::point("export:after_journal")
        .map_err(|e| StepError::io("cannot write the journal", &e))?;

    let options = WriteOptions::new().with_tag(job.tag.clone()).with_date(date_today());
    let output = Output { dir: &job.folder, temp, kind: job.kind, step: "export" };
    let sha256 = output.write_verified(tracker, job.id, coins, options, &record.coins_digest)?;

    let final_name = job
        .folder
        .publish_unique(temp, base_name, |name| {
            record.final_name = Some(name.to_owned());
            journal.write(record)
        })
        .map_err(|e| StepError::io("cannot give the file its name", &e))?;
    let final_path = job.folder.path().join(final_name);
    // From here the output exists under its final name: the export goes forward.
    let committed = job
        .folder
        .sync()
        .and_then(|()| fault::point("export:after_rename"))
        .and_then(|()| {
            record.committed = true;
            journal.write(record)
        })
        .and_then(|()| fault::point("export:after_commit"));
    if let Err(e) = committed {
        tracing::warn!(task = %job.id, error = %e, "cannot record the commit; finishing anyway");
    }
    Ok((final_path, sha256))
}

/// A temporary output file in a client's folder, written the same careful way by exports and
/// backups.
pub(crate) struct Output<'a> {
    /// The validated folder, held open.
    pub(crate) dir: &'a Dir,
    /// The temporary name inside it.
    pub(crate) temp: &'a str,
    /// The file type to write.
    pub(crate) kind: FileKind,
    /// The pipeline's name, which prefixes its fault points (`export`, `backup`).
    pub(crate) step: &'static str,
}

impl Output<'_> {
    /// Creates the temporary file (never following or replacing anything), writes `coins` with
    /// `options` and progress from 10 to 80, fsyncs it, reads it back and checks it holds exactly the coins of
    /// `digest`. Returns the file's SHA-256. Fault points: `{step}:after_write`,
    /// `{step}:after_fsync`.
    pub(crate) fn write_verified(
        &self,
        tracker: &Tracker,
        task: TaskId,
        coins: &[Coin],
        options: WriteOptions<'_>,
        digest: &str,
    ) -> Result<String, StepError> {
        let io = |what: &'static str| move |e: io::Error| StepError::io(what, &e);
        tracker.advance(task, 10, Some("Writing coins"));
        let file = self
            .dir
            .create_new(self.temp, crate::folder::OUTPUT_MODE)
            .map_err(io("cannot create the file"))?;
        let mut w = BufWriter::new(file);
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
        .map_err(|e| StepError {
            kind: FailureKind::Io,
            message: format!("cannot write the file: {}", error_chain(&e)),
        })?;
        let file = w.into_inner().map_err(|e| StepError::io("cannot write the file", e.error()))?;
        fault::point(&format!("{}:after_write", self.step)).map_err(io("cannot write the file"))?;
        file.sync_all().map_err(io("cannot flush the file to disk"))?;
        drop(file);
        fault::point(&format!("{}:after_fsync", self.step))
            .map_err(io("cannot flush the file to disk"))?;

        tracker.advance(task, 85, Some("Verifying the file"));
        let bytes = read_back(self.dir, self.temp)?;
        verify(&bytes, digest)?;
        Ok(durable::sha256_hex(&bytes))
    }
}

/// Checks that `bytes` decode to exactly the coins of `digest`.
pub(crate) fn verify(bytes: &[u8], digest: &str) -> Result<(), StepError> {
    let decoded = decode_any(bytes, &Limits::default()).map_err(|e| StepError {
        kind: FailureKind::Verification,
        message: format!("the file written does not read back: {}", error_chain(&e)),
    })?;
    if coins_digest(&decoded) != digest {
        return Err(StepError {
            kind: FailureKind::Verification,
            message: "the file written does not hold exactly the coins meant for it".to_owned(),
        });
    }
    Ok(())
}

/// Reads the temporary file `temp` of `dir` back (never through a symbolic link).
pub(crate) fn read_back(dir: &Dir, temp: &str) -> Result<Vec<u8>, StepError> {
    let mut bytes = Vec::new();
    dir.open_read(temp)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| StepError::io("cannot read the file back", &e))?;
    Ok(bytes)
}

/// Finishes a published export: coins to `Sent`, transaction row, receipt. Idempotent, so
/// recovery can run it again after a crash. The journal record is removed by the caller once the
/// task's outcome is recorded.
pub(crate) fn finish(
    layout: &Layout,
    record: &Record,
    final_path: &Path,
    sha256: &str,
) -> Result<ExportResult, StepError> {
    let wallet = WalletName::parse(&record.wallet).map_err(|e| StepError {
        kind: FailureKind::Internal,
        message: format!("journal names a bad wallet: {e}"),
    })?;
    let files: Vec<(Folder, String)> = record
        .coins
        .iter()
        .map(|c| (Folder::parse(&c.folder).unwrap_or(Folder::Bank), c.file.clone()))
        .collect();
    let io = |what: &'static str| move |e: io::Error| StepError::io(what, &e);
    crate::store::move_coins(layout, &wallet, &files, Folder::Sent, "export:mid_move")
        .map_err(io("cannot move the coins to Sent"))?;
    fault::point("export:after_move").map_err(io("cannot move the coins to Sent"))?;

    let amount = Amount::from_units(record.amount_units);
    let file_text = final_path.to_string_lossy();
    let wallet_dir = layout.wallet(&wallet);
    let seen = records::has_transaction(&wallet_dir, &record.id)
        .map_err(io("cannot read transactions.csv"))?;
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
    records::write_receipt(
        &layout.folder(&wallet, Folder::Receipts),
        &Receipt {
            id: &record.id,
            time: records::rfc3339(now_unix()),
            amount: amount.to_string(),
            coins: record.coins.iter().map(|c| c.id().to_string()).collect(),
            file: &file_text,
            sha256,
        },
    )
    .map_err(io("cannot write the receipt"))?;
    Ok(ExportResult {
        file: final_path.to_path_buf(),
        amount,
        coins: record.coins.len(),
        sha256: sha256.to_owned(),
    })
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
        assert!(e.message.contains("does not read back"), "{}", e.message);
    }
}
