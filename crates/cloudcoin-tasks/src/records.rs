//! What the wallet writes down: `transactions.csv` rows, export receipts, and the durable task
//! records in `.cloudcoin/tasks/{id}.json`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cloudcoin_domain::Amount;
use serde::{Deserialize, Serialize};

use crate::durable::RecordFolder;
use crate::store::ensure_transactions_file;
use crate::task::{
    BackupResult, ExportResult, FailureKind, ImportResult, RefusalKind, Rejection, TaskFailure,
    TaskId, TaskKind, TaskOutcome, TaskStatus, TaskView,
};

/// One row of `transactions.csv`.
#[derive(Debug, Clone)]
pub(crate) struct Transaction<'a> {
    pub(crate) time: u64,
    pub(crate) kind: &'a str,
    pub(crate) amount: Amount,
    pub(crate) coins: usize,
    pub(crate) tag: &'a str,
    pub(crate) file: &'a str,
    pub(crate) id: &'a str,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Appends a row to the wallet's `transactions.csv` (created with its header if missing) and
/// syncs it.
pub(crate) fn append_transaction(wallet_dir: &Path, t: &Transaction<'_>) -> io::Result<()> {
    let path = wallet_dir.join("transactions.csv");
    ensure_transactions_file(&path)?;
    let row = format!(
        "{},{},{},{},{},{},{}\n",
        rfc3339(t.time),
        t.kind,
        t.amount,
        t.coins,
        csv_field(t.tag),
        csv_field(t.file),
        t.id
    );
    let mut f = OpenOptions::new().append(true).open(&path)?;
    f.write_all(row.as_bytes())?;
    f.sync_data()
}

/// Whether `transactions.csv` already has a row for operation `id` (used by recovery, so that
/// rolling forward twice writes one row).
pub(crate) fn has_transaction(wallet_dir: &Path, id: &str) -> io::Result<bool> {
    match fs::read_to_string(wallet_dir.join("transactions.csv")) {
        Ok(text) => Ok(text.lines().any(|l| l.ends_with(id))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// An export receipt, `Receipts/{id}.json`.
#[derive(Debug, Serialize)]
pub(crate) struct Receipt<'a> {
    pub(crate) id: &'a str,
    pub(crate) time: String,
    pub(crate) amount: String,
    pub(crate) coins: Vec<String>,
    pub(crate) file: &'a str,
    pub(crate) sha256: &'a str,
}

/// The text of a receipt.
pub(crate) fn receipt_bytes(r: &Receipt<'_>) -> io::Result<Vec<u8>> {
    serde_json::to_vec_pretty(r).map_err(io::Error::other)
}

/// Writes the receipt text `bytes` of operation `id` atomically, its file and folder synced at
/// once: the export's journal record, removed only after this returns, has recovery write the
/// receipt again (`durable::write_redone_until_synced`).
pub(crate) fn write_receipt_bytes(receipts_dir: &Path, id: &str, bytes: &[u8]) -> io::Result<()> {
    crate::durable::write_redone_until_synced(&receipts_dir.join(format!("{id}.json")), bytes)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
pub(crate) fn rfc3339(secs: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap_or_default()
}

/// A task as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskRecord {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) status: String,
    pub(crate) progress: u8,
    pub(crate) message: String,
    pub(crate) started: u64,
    pub(crate) finished: u64,
    /// Creation time in nanoseconds: orders tasks started in the same second.
    #[serde(default)]
    pub(crate) order: u64,
    #[serde(default)]
    pub(crate) outcome: Option<OutcomeRecord>,
    #[serde(default)]
    pub(crate) idempotency: Option<IdempotencyRecord>,
    /// The wallet the task works on (absent in records written before tasks kept it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) wallet: Option<String>,
    /// The amount asked for, in units (an export's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) requested_units: Option<u64>,
}

/// A task's idempotency key and the fingerprint of the request that used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdempotencyRecord {
    pub(crate) key: String,
    pub(crate) fingerprint: String,
}

/// A task outcome as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum OutcomeRecord {
    Export {
        file: PathBuf,
        amount_units: u64,
        coins: u64,
        sha256: String,
        /// The coins broken first (denomination code, serial) and what was done.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<(Vec<(i8, u32)>, String)>,
    },
    Import {
        imported: u64,
        already_present: u64,
        rejected: Vec<RejectionRecord>,
        amount_units: u64,
        #[serde(default)]
        claim: Option<ClaimRecord>,
    },
    Backup {
        file: PathBuf,
        coins: u64,
        amount_units: u64,
        /// Absent in records written before backups kept it.
        #[serde(default)]
        sha256: String,
    },
    Failed {
        kind: String,
        message: String,
    },
    Fix {
        coins: u64,
        /// Coins and amount units of Bank, Fracked, Counterfeit and Limbo.
        grades: [(u64, u64); 4],
    },
    Reclaim(ReportRecord),
}

/// An import's claim report as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClaimRecord {
    claimed: bool,
    note: String,
    /// Coins and amount units of Bank, Fracked, Counterfeit and Limbo.
    grades: [(u64, u64); 4],
    counterfeit_coins: Vec<(i8, u32)>,
}

impl ClaimRecord {
    fn of(r: &crate::report::ClaimReport) -> ClaimRecord {
        let g = |c: &crate::report::GradeCount| (c.coins, c.amount.units());
        ClaimRecord {
            claimed: r.claimed,
            note: r.note.clone(),
            grades: [g(&r.bank), g(&r.fracked), g(&r.counterfeit), g(&r.limbo)],
            counterfeit_coins: r
                .counterfeit_coins
                .iter()
                .map(|id| (id.denomination.code(), id.serial.get()))
                .collect(),
        }
    }

    fn report(&self) -> crate::report::ClaimReport {
        let g = |(coins, units): (u64, u64)| {
            crate::report::GradeCount::new(coins, Amount::from_units(units))
        };
        crate::report::ClaimReport {
            claimed: self.claimed,
            note: self.note.clone(),
            bank: g(self.grades[0]),
            fracked: g(self.grades[1]),
            counterfeit: g(self.grades[2]),
            limbo: g(self.grades[3]),
            counterfeit_coins: self
                .counterfeit_coins
                .iter()
                .map(|&(dn, sn)| cloudcoin_domain::CoinId {
                    denomination: cloudcoin_domain::Denomination::from_code(dn),
                    serial: cloudcoin_domain::SerialNumber::new(sn),
                })
                .collect(),
        }
    }
}

/// A rejection as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RejectionRecord {
    item: u64,
    source: String,
    /// The kind's code; absent in a record written before refusals had kinds.
    #[serde(default)]
    code: Option<u16>,
    reason: String,
}

impl TaskRecord {
    pub(crate) fn from_view(
        v: &TaskView,
        order: u64,
        idempotency: Option<IdempotencyRecord>,
    ) -> TaskRecord {
        TaskRecord {
            id: v.id.to_string(),
            kind: v.kind.as_str().to_owned(),
            status: v.status.as_str().to_owned(),
            progress: v.progress,
            message: v.message.clone(),
            started: v.started,
            // On disk 0 stands for "not finished", as on the wire.
            finished: v.finished.unwrap_or(0),
            order,
            outcome: v.outcome.as_ref().map(OutcomeRecord::from_outcome),
            idempotency,
            wallet: v.wallet.as_ref().map(|w| w.as_str().to_owned()),
            requested_units: v.requested.map(Amount::units),
        }
    }

    /// The view, or `None` if the record is not understood.
    pub(crate) fn to_view(&self) -> Option<TaskView> {
        Some(TaskView {
            id: self.id.parse::<TaskId>().ok()?,
            kind: self.kind.parse::<TaskKind>().ok()?,
            status: self.status.parse::<TaskStatus>().ok()?,
            progress: self.progress.min(100),
            message: self.message.clone(),
            started: self.started,
            finished: (self.finished != 0).then_some(self.finished),
            // A name that is no longer valid is shown as unknown rather than dropping the task.
            wallet: self
                .wallet
                .as_deref()
                .and_then(|w| cloudcoin_domain::WalletName::parse(w).ok()),
            requested: self.requested_units.map(Amount::from_units),
            outcome: match &self.outcome {
                Some(o) => Some(o.to_outcome()?),
                None => None,
            },
        })
    }
}

impl OutcomeRecord {
    fn from_outcome(o: &TaskOutcome) -> OutcomeRecord {
        match o {
            TaskOutcome::Export(r) => OutcomeRecord::Export {
                file: r.file.clone(),
                amount_units: r.amount.units(),
                coins: r.coins,
                sha256: r.sha256.clone(),
                change: r.change.as_ref().map(|c| {
                    let broken =
                        c.broken.iter().map(|id| (id.denomination.code(), id.serial.get()));
                    (broken.collect(), c.note.clone())
                }),
            },
            TaskOutcome::Import(r) => OutcomeRecord::Import {
                imported: r.imported,
                already_present: r.already_present,
                rejected: r
                    .rejected
                    .iter()
                    .map(|x| RejectionRecord {
                        item: x.item,
                        source: x.source.clone(),
                        code: Some(x.kind.code()),
                        reason: x.reason.clone(),
                    })
                    .collect(),
                amount_units: r.amount.units(),
                claim: Some(ClaimRecord::of(&r.claim)),
            },
            TaskOutcome::Backup(r) => OutcomeRecord::Backup {
                file: r.file.clone(),
                coins: r.coins,
                amount_units: r.amount.units(),
                sha256: r.sha256.clone(),
            },
            TaskOutcome::Fix(r) => {
                let g = |c: &crate::report::GradeCount| (c.coins, c.amount.units());
                OutcomeRecord::Fix {
                    coins: r.coins,
                    grades: [g(&r.bank), g(&r.fracked), g(&r.counterfeit), g(&r.limbo)],
                }
            }
            TaskOutcome::Reclaim(r) => OutcomeRecord::Reclaim(ReportRecord::of(r)),
            TaskOutcome::Failed(f) => OutcomeRecord::Failed {
                kind: f.kind.as_str().to_owned(),
                message: f.message.clone(),
            },
        }
    }

    fn to_outcome(&self) -> Option<TaskOutcome> {
        Some(match self {
            OutcomeRecord::Export { file, amount_units, coins, sha256, change } => {
                TaskOutcome::Export(ExportResult {
                    file: file.clone(),
                    amount: Amount::from_units(*amount_units),
                    coins: *coins,
                    sha256: sha256.clone(),
                    change: change.as_ref().map(|(broken, note)| {
                        crate::report::ChangeReport::new(
                            broken.iter().map(|&(dn, sn)| cloudcoin_domain::CoinId {
                                denomination: cloudcoin_domain::Denomination::from_code(dn),
                                serial: cloudcoin_domain::SerialNumber::new(sn),
                            }),
                            note.clone(),
                        )
                    }),
                })
            }
            OutcomeRecord::Import { imported, already_present, rejected, amount_units, claim } => {
                TaskOutcome::Import(ImportResult {
                    imported: *imported,
                    already_present: *already_present,
                    rejected: rejected
                        .iter()
                        .map(|x| Rejection {
                            item: x.item,
                            source: x.source.clone(),
                            kind: x
                                .code
                                .and_then(RefusalKind::from_code)
                                .unwrap_or(RefusalKind::Unclassified),
                            reason: x.reason.clone(),
                        })
                        .collect(),
                    amount: Amount::from_units(*amount_units),
                    claim: claim
                        .as_ref()
                        .map_or_else(crate::report::ClaimReport::offline, ClaimRecord::report),
                })
            }
            OutcomeRecord::Backup { file, coins, amount_units, sha256 } => {
                TaskOutcome::Backup(BackupResult {
                    file: file.clone(),
                    coins: *coins,
                    amount: Amount::from_units(*amount_units),
                    sha256: sha256.clone(),
                })
            }
            OutcomeRecord::Fix { coins, grades } => {
                let g = |(coins, units): (u64, u64)| {
                    crate::report::GradeCount::new(coins, Amount::from_units(units))
                };
                TaskOutcome::Fix(crate::report::HealReport {
                    coins: *coins,
                    bank: g(grades[0]),
                    fracked: g(grades[1]),
                    counterfeit: g(grades[2]),
                    limbo: g(grades[3]),
                })
            }
            OutcomeRecord::Reclaim(r) => TaskOutcome::Reclaim(r.report()?),
            OutcomeRecord::Failed { kind, message } => TaskOutcome::Failed(TaskFailure {
                kind: FailureKind::parse(kind)?,
                message: message.clone(),
            }),
        })
    }
}

/// The durable task records folder.
#[derive(Debug, Clone)]
pub(crate) struct TaskStore(RecordFolder<TaskRecord>);

impl TaskStore {
    pub(crate) fn new(dir: PathBuf) -> TaskStore {
        TaskStore(RecordFolder::new(dir))
    }

    /// Writes a record atomically.
    pub(crate) fn write(&self, record: &TaskRecord) -> io::Result<()> {
        self.0.write(&record.id, record)
    }

    /// Reads one record.
    #[cfg(test)]
    pub(crate) fn read(&self, id: &str) -> Option<TaskRecord> {
        self.0.read(id)
    }

    /// Deletes a record.
    pub(crate) fn remove(&self, id: &str) -> io::Result<()> {
        self.0.remove(id)
    }

    /// Every readable record; unreadable ones are logged and left alone.
    pub(crate) fn list(&self) -> io::Result<Vec<TaskRecord>> {
        Ok(self
            .0
            .list()?
            .into_iter()
            .filter_map(|r| {
                r.map_err(|(path, error)| {
                    tracing::warn!(file = %path.display(), %error, "unreadable task record left alone");
                })
                .ok()
            })
            .collect())
    }
}

/// A reclaim's outcome as the task record stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReportRecord {
    export: String,
    file: PathBuf,
    reclaimed: bool,
    note: String,
    coins: u64,
    /// Coins and amount units of unclaimed, received, unknown, held, returned and limbo.
    counts: [(u64, u64); 6],
    received_coins: Vec<(i8, u32)>,
}

impl ReportRecord {
    pub(crate) fn of(r: &crate::report::ReclaimReport) -> ReportRecord {
        let g = |c: &crate::report::GradeCount| (c.coins, c.amount.units());
        ReportRecord {
            export: r.export.map(|id| id.to_string()).unwrap_or_default(),
            file: r.file.clone(),
            reclaimed: r.reclaimed,
            note: r.note.clone(),
            coins: r.coins,
            counts: [
                g(&r.unclaimed),
                g(&r.received),
                g(&r.unknown),
                g(&r.held),
                g(&r.returned),
                g(&r.limbo),
            ],
            received_coins: r
                .received_coins
                .iter()
                .map(|id| (id.denomination.code(), id.serial.get()))
                .collect(),
        }
    }

    pub(crate) fn report(&self) -> Option<crate::report::ReclaimReport> {
        let g = |(coins, units): (u64, u64)| {
            crate::report::GradeCount::new(coins, Amount::from_units(units))
        };
        Some(crate::report::ReclaimReport {
            export: Some(self.export.parse().ok()?),
            file: self.file.clone(),
            reclaimed: self.reclaimed,
            note: self.note.clone(),
            coins: self.coins,
            unclaimed: g(self.counts[0]),
            received: g(self.counts[1]),
            unknown: g(self.counts[2]),
            held: g(self.counts[3]),
            returned: g(self.counts[4]),
            limbo: g(self.counts[5]),
            received_coins: self
                .received_coins
                .iter()
                .map(|&(dn, sn)| cloudcoin_domain::CoinId {
                    denomination: cloudcoin_domain::Denomination::from_code(dn),
                    serial: cloudcoin_domain::SerialNumber::new(sn),
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal keeps its kind through the record; a record written before refusals had kinds
    /// reads back as unclassified rather than failing to load.
    #[test]
    fn a_refusal_keeps_its_kind_on_disk_and_an_older_record_reads_as_unclassified() {
        let outcome = TaskOutcome::Import(ImportResult {
            imported: 0,
            already_present: 0,
            rejected: vec![Rejection {
                item: 0,
                source: "/a.stack".into(),
                kind: RefusalKind::SentAway,
                reason: "sent".into(),
            }],
            amount: Amount::ZERO,
            claim: crate::report::ClaimReport::offline(),
        });
        let text = serde_json::to_string(&OutcomeRecord::from_outcome(&outcome)).expect("json");
        let back: OutcomeRecord = serde_json::from_str(&text).expect("reads");
        assert_eq!(back.to_outcome(), Some(outcome));
        let older = text.replace(r#""code":4328,"#, "");
        assert_ne!(older, text);
        let back: OutcomeRecord = serde_json::from_str(&older).expect("reads");
        let Some(TaskOutcome::Import(r)) = back.to_outcome() else { panic!("an import") };
        assert_eq!(r.rejected[0].kind, RefusalKind::Unclassified);
    }
}
