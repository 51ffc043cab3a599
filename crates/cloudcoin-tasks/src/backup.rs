//! The backup pipeline: a zip of every coin the wallet holds, written with the export's care
//! (temporary file, fsync, verify, publish without replacing). The coins stay where they are.
//!
//! # Step by step
//!
//! 1. `Service::start_backup` checks the wallet and the folder (as an export's, `crate::folder`),
//!    takes a snapshot of every coin the wallet holds, whatever its hold (key coins too), refuses
//!    the folder if the backup's name or a numbered ` (n)` name is a symbolic link, records the
//!    task, and runs the rest on a blocking thread. Nothing is reserved: the coins stay where
//!    they are and may be spent meanwhile; the backup holds them as they were.
//! 2. Open the output in the folder held open by handle: an unnamed file (`O_TMPFILE`), or where
//!    the file system cannot make one the named temporary file `.{name}.{id}.partial`.
//! 3. Write the journal record (the coins' digest, the folder's real path, the temporary name if
//!    any, the amount and count) — `backup:after_journal`.
//! 4. Write the zip (`write_zip`, progress 10 to 80) — `backup:after_write`; fsync it and keep only
//!    a read-only handle — `backup:after_fsync`; read it back and check it holds exactly the
//!    snapshot's coins (the same `Output` step as an export's, `export::Output::write_verified`).
//! 5. Pick the final name ([`file_name`], or ` (n)` when it is taken), write it into
//!    the journal record before the link, and publish the file without replacing anything
//!    (`Dir::publish_unique`); fsync the folder.
//! 6. The service records the task's outcome, then removes the journal record.
//!
//! # What a failure leaves
//!
//! Before the publish, a failure removes the temporary file (an unnamed one vanishes by itself)
//! and ends the task in `error`; no coin has moved, so there is nothing to give back. If the
//! temporary file, which holds a copy of the coins, cannot be removed, the task says where it is
//! and the journal record stays, so the next start removes it (`recovery`). A temporary name left
//! after the publish is removed the same way. At start-up, a backup record whose published file
//! verifies makes the task `completed`; anything else is `error`, `Interrupted`, and the backup is
//! started again by the user.

use std::path::PathBuf;

use cloudcoin_codec::WriteOptions;
use cloudcoin_domain::{
    Amount, Coin, FileKind, Tag, WalletName, multi_coin_file_name, total_value,
};

use crate::dir::Dir;
use crate::export::Output;
use crate::fault::{self, OutputFaults};
use crate::journal::{Journal, Op, Record, coins_digest};
use crate::step::StepError;
use crate::task::{BackupResult, TaskFailure, TaskId, TaskOutcome, count};
use crate::tracker::Tracker;

/// Everything a backup task needs: a snapshot of the wallet's coins.
#[derive(Debug)]
pub(crate) struct BackupJob {
    pub(crate) id: TaskId,
    pub(crate) wallet: WalletName,
    pub(crate) coins: Vec<Coin>,
    /// The validated target folder, held open: the zip is written through this handle.
    pub(crate) folder: Dir,
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

/// The name a backup of `coins` gets (before ` (n)` for a taken name).
pub(crate) fn file_name(coins: &[Coin], tag: &Tag) -> String {
    multi_coin_file_name(money_total(coins), coins.len(), tag, FileKind::Zip)
}

/// Runs a backup to its end. Blocking. Returns the outcome and whether the journal record may be
/// removed (not while a temporary copy of the coins could not be removed).
pub(crate) fn run(journal: &Journal, tracker: &Tracker, job: &BackupJob) -> (TaskOutcome, bool) {
    let amount = money_total(&job.coins);
    let base = file_name(&job.coins, &job.tag);
    let temp = format!(".{base}.{}.partial", job.id);
    let mut record = Record::new(Op::Backup, job.id.to_string(), job.wallet.as_str().to_owned());
    record.coins_digest = coins_digest(&job.coins);
    record.target_dir = Some(job.folder.journal_path());
    record.amount_units = amount.units();
    record.coin_count = job.coins.len();
    let output =
        Output { dir: &job.folder, temp: &temp, kind: FileKind::Zip, faults: OutputFaults::BACKUP };
    let written = output.open_unnamed().and_then(|unnamed| {
        match unnamed {
            Some(_) => record.unnamed = true,
            None => record.temp = Some(temp.clone()),
        }
        write(journal, tracker, job, &mut record, &output, unnamed, &base)
    });
    match written {
        Ok((path, temp_gone)) => {
            tracing::info!(task = %job.id, file = %path.display(), coins = job.coins.len(), "backup completed");
            let sha256 = record.sha256.clone();
            let result = BackupResult { file: path, coins: count(job.coins.len()), amount, sha256 };
            (TaskOutcome::Backup(result), temp_gone)
        }
        Err(e) => {
            tracing::warn!(task = %job.id, error = %e.message(), "backup failed");
            if let Some(temp) = &record.temp
                && let Err(err) = job.folder.remove_checked(temp)
            {
                let message = format!(
                    "{}; the temporary file {} holds a copy of the coins and cannot be removed ({err}); the next start removes it",
                    e.message(),
                    job.folder.real_path().join(temp).display()
                );
                return (TaskOutcome::Failed(TaskFailure { kind: e.kind, message }), false);
            }
            (TaskOutcome::Failed(TaskFailure { kind: e.kind, message: e.message() }), true)
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "one pipeline step, called once")]
fn write(
    journal: &Journal,
    tracker: &Tracker,
    job: &BackupJob,
    record: &mut Record,
    output: &Output<'_>,
    unnamed: Option<std::fs::File>,
    base: &str,
) -> Result<(PathBuf, bool), StepError> {
    let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, e);
    journal.write(record).map_err(io("cannot write the journal"))?;
    fault::point(fault::FaultPoint::BackupAfterJournal).map_err(io("cannot write the journal"))?;
    let (staged, sha256) = output.write_verified(
        unnamed,
        tracker,
        job.id,
        &job.coins,
        WriteOptions::new(),
        &record.coins_digest,
    )?;
    record.sha256 = sha256;
    let published = job
        .folder
        .publish_unique(&staged, base, |name, _| {
            record.final_name = Some(name.to_owned());
            record.target_dir = Some(job.folder.journal_path());
            journal.write(record)
        })
        .map_err(io("cannot give the file its name"))?;
    if let Some(e) = &published.temp_left {
        // The journal record names it: it stays until the next start has removed the copy.
        tracing::warn!(task = %job.id, error = %e, "backup published, but its temporary name cannot be removed yet; the next start removes it");
    }
    let name = published.name;
    job.folder.sync().map_err(io("cannot flush the folder to disk"))?;
    Ok((job.folder.real_path().join(name), published.temp_left.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tag_is_a_valid_tag_with_the_time() {
        // 2026-11-29 03:10:04 UTC
        assert_eq!(default_tag(1_795_921_804).as_str(), "backup 2026-11-29 03-10-04");
    }

    #[test]
    fn a_folder_swapped_for_a_link_after_validation_keeps_the_file_inside() {
        use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};
        use std::fs;
        let tmp = tempfile::tempdir().expect("tempdir");
        let base = fs::canonicalize(tmp.path()).expect("canonical");
        let (out, moved, outside) = (base.join("out"), base.join("moved"), base.join("outside"));
        for d in [&out, &outside, &base.join("journal"), &base.join("tasks")] {
            fs::create_dir(d).expect("mkdir");
        }
        let folder =
            crate::folder::validate(&out, std::slice::from_ref(&out), None).expect("valid");
        // Between validation and writing, the folder is replaced by a link out of the root.
        fs::rename(&out, &moved).expect("rename");
        std::os::unix::fs::symlink(&outside, &out).expect("symlink");

        let journal = Journal::new(base.join("journal"));
        let store = crate::records::TaskStore::new(base.join("tasks"));
        let tracker = Tracker::load(store, std::time::Duration::from_secs(60)).expect("tracker");
        let coin = Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(7),
            [[7; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        );
        let job = BackupJob {
            id: TaskId::new(),
            wallet: WalletName::parse("Default").expect("name"),
            coins: vec![coin],
            folder,
            tag: Tag::parse("b").expect("tag"),
        };
        let (TaskOutcome::Backup(result), true) = run(&journal, &tracker, &job) else {
            panic!("the backup did not complete")
        };
        let name = "1 CloudCoin #1 'b'.zip";
        assert_eq!(result.file, moved.join(name), "reported where the file really is");
        assert_eq!(fs::read_dir(&outside).expect("list").count(), 0, "nothing escaped");
        let names: Vec<String> = fs::read_dir(&moved)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![name.to_owned()], "written in the validated folder, temp gone");
    }
}
