//! The backup pipeline: a zip of every coin the wallet holds, written with the export's care
//! (temporary file, fsync, verify, publish without replacing). The coins stay where they are.

use std::fs::{self, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use cloudcoin_codec::{PngLabel, write_coins};
use cloudcoin_domain::{
    Amount, Coin, FileKind, Tag, WalletName, multi_coin_file_name, total_value,
};

use crate::durable::{self, error_chain};
use crate::export::{StepError, verify};
use crate::fault;
use crate::journal::{Journal, Op, Record, coins_digest};
use crate::task::{BackupResult, FailureKind, TaskFailure, TaskId, TaskOutcome};
use crate::tracker::Tracker;

/// Everything a backup task needs: a snapshot of the wallet's coins.
#[derive(Debug)]
pub(crate) struct BackupJob {
    pub(crate) id: TaskId,
    pub(crate) wallet: WalletName,
    pub(crate) coins: Vec<Coin>,
    pub(crate) folder: PathBuf,
    pub(crate) tag: Tag,
}

/// The tag of a backup without one: `backup YYYY-MM-DD HH-MM-SS` (UTC).
pub(crate) fn default_tag(now: u64) -> Tag {
    let t = crate::records::rfc3339(now); // YYYY-MM-DDTHH:MM:SSZ
    let text = format!("backup {} {}", &t[..10], t[11..19].replace(':', "-"));
    Tag::parse(&text).expect("digits, spaces and hyphens make a valid tag")
}

/// The value of the money coins among `coins`.
pub(crate) fn money_total(coins: &[Coin]) -> Amount {
    let money: Vec<&Coin> = coins.iter().filter(|c| c.denomination.is_money()).collect();
    total_value(money).unwrap_or(Amount::MAX)
}

/// Runs a backup to its end. Blocking.
pub(crate) fn run(journal: &Journal, tracker: &Tracker, job: &BackupJob) -> TaskOutcome {
    let amount = money_total(&job.coins);
    let base = multi_coin_file_name(amount, job.coins.len(), &job.tag, FileKind::Zip);
    let temp = job.folder.join(format!(".{base}.{}.partial", job.id));
    let mut record = Record::new(Op::Backup, job.id.to_string(), job.wallet.as_str().to_owned());
    record.coins_digest = coins_digest(&job.coins);
    record.target_dir = Some(job.folder.clone());
    record.temp = temp.file_name().map(|n| n.to_string_lossy().into_owned());
    record.amount_units = amount.units();
    record.coin_count = job.coins.len();
    match write(journal, tracker, job, &mut record, &temp, &base, amount) {
        Ok(path) => {
            tracing::info!(task = %job.id, file = %path.display(), coins = job.coins.len(), "backup completed");
            TaskOutcome::Backup(BackupResult { file: path, coins: job.coins.len(), amount })
        }
        Err(e) => {
            durable::remove_if_exists(&temp);
            tracing::warn!(task = %job.id, error = %e.message, "backup failed");
            TaskOutcome::Failed(TaskFailure { kind: e.kind, message: e.message })
        }
    }
}

fn write(
    journal: &Journal,
    tracker: &Tracker,
    job: &BackupJob,
    record: &mut Record,
    temp: &Path,
    base: &str,
    amount: Amount,
) -> Result<PathBuf, StepError> {
    let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, &e);
    journal.write(record).map_err(io("cannot write the journal"))?;
    fault::point("backup:after_journal").map_err(io("cannot write the journal"))?;
    tracker.advance(job.id, 5, Some("Writing coins"));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io("cannot create the file"))?;
    crate::export::check_created_in(&file, temp, &job.folder)?;
    let mut w = BufWriter::new(file);
    let label =
        PngLabel { amount, tag: job.tag.clone(), coin_count: job.coins.len(), date: String::new() };
    let total = job.coins.len().max(1);
    let mut last = 0;
    let mut progress = |written: usize| {
        fault::slow_write(last, written);
        last = written;
        tracker.advance(job.id, 5 + (80 * written.min(total) / total) as u8, None);
    };
    write_coins(&mut w, FileKind::Zip, &job.coins, &label, &mut progress).map_err(|e| {
        StepError {
            kind: FailureKind::Io,
            message: format!("cannot write the file: {}", error_chain(&e)),
        }
    })?;
    let file = w.into_inner().map_err(|e| StepError::io("cannot write the file", e.error()))?;
    file.sync_all().map_err(io("cannot flush the file to disk"))?;
    drop(file);
    fault::point("backup:after_fsync").map_err(io("cannot flush the file to disk"))?;
    tracker.advance(job.id, 90, Some("Verifying the file"));
    let bytes = fs::read(temp).map_err(io("cannot read the file back"))?;
    verify(&bytes, &record.coins_digest)?;
    drop(bytes);
    let path = durable::publish_unique(temp, &job.folder, base, |name| {
        record.final_name = Some(name.to_owned());
        journal.write(record)
    })
    .map_err(io("cannot give the file its name"))?;
    durable::sync_dir(&job.folder).map_err(io("cannot flush the folder to disk"))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tag_is_a_valid_tag_with_the_time() {
        // 2026-11-29 03:10:04 UTC
        assert_eq!(default_tag(1_795_921_804).as_str(), "backup 2026-11-29 03-10-04");
    }
}
