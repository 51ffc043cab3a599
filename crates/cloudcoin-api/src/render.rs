//! The service's task snapshots as the wire shows them.

use cloudcoin_tasks::{ClaimReport, GradeCount, RaidaHealth, ReclaimReport, TaskOutcome, TaskView};
use cloudcoin_wire::{
    BackupData, ChangeData, ClaimData, CoinRef, ErrorPayload, ExportData, FixData, GradeData,
    ImportData, Info, RaidaEcho, RaidaStatus, ReclaimData, Rejection, Task, TaskData,
};

/// `GET /api/v1/tasks/{id}`'s payload for `view`.
pub(crate) fn task(view: &TaskView) -> Task {
    let mut task = Task::new(view.id, view.kind, view.started);
    task.status = view.status;
    task.progress = view.progress;
    task.message = view.message.clone();
    task.finished = view.finished;
    task.wallet = view.wallet.clone();
    task.amount = view.amount();
    task.data = view.outcome.as_ref().map(data);
    task
}

fn data(outcome: &TaskOutcome) -> TaskData {
    match outcome {
        TaskOutcome::Export(r) => TaskData::Export(
            ExportData::new(r.file.clone(), r.amount, r.coins, r.sha256.clone()).with_change(
                r.change.as_ref().map(|c| {
                    let broken = c
                        .broken
                        .iter()
                        .map(|id| CoinRef::new(id.denomination.code(), id.serial.get()))
                        .collect();
                    ChangeData::new(broken, c.note.clone())
                }),
            ),
        ),
        TaskOutcome::Import(r) => TaskData::Import(
            ImportData::new(
                r.imported,
                r.already_present,
                r.rejected
                    .iter()
                    .map(|x| Rejection::new(x.item, &x.source, x.kind, &x.reason))
                    .collect(),
                r.amount,
            )
            .with_claim(claim(&r.claim)),
        ),
        TaskOutcome::Backup(r) => {
            TaskData::Backup(BackupData::new(r.file.clone(), r.coins, r.amount, r.sha256.clone()))
        }
        TaskOutcome::Fix(r) => {
            let mut fix = FixData::new(r.coins, grade(&r.bank));
            fix.fracked = grade(&r.fracked);
            fix.counterfeit = grade(&r.counterfeit);
            fix.limbo = grade(&r.limbo);
            TaskData::Fix(fix)
        }
        TaskOutcome::Reclaim(r) => TaskData::Reclaim(reclaim(r)),
        TaskOutcome::Failed(f) => TaskData::Error(crate::error::task_failure(f).payload()),
        _ => TaskData::Error(ErrorPayload::new(
            crate::codes::INTERNAL,
            "the task ended in a way this server version cannot describe",
        )),
    }
}

/// How many coins, and how much, ended in one grade.
fn grade(c: &GradeCount) -> GradeData {
    GradeData::new(c.coins, c.amount)
}

/// `data.claim` of a finished import.
fn claim(r: &ClaimReport) -> ClaimData {
    let mut claim = ClaimData::new(r.claimed, r.note.clone(), grade(&r.bank));
    claim.fracked = grade(&r.fracked);
    claim.counterfeit = grade(&r.counterfeit);
    claim.limbo = grade(&r.limbo);
    claim.counterfeit_coins = r
        .counterfeit_coins
        .iter()
        .map(|id| CoinRef::new(id.denomination.code(), id.serial.get()))
        .collect();
    claim
}

/// `data` of a finished reclaim, and `GET /api/v1/reclaim/{id}`'s payload.
pub(crate) fn reclaim(r: &ReclaimReport) -> ReclaimData {
    let export = r.export.unwrap_or_default();
    let mut data = ReclaimData::new(export, r.reclaimed, r.note.clone(), grade(&r.unclaimed));
    data.file = r.file.clone();
    data.coins = r.coins;
    data.received = grade(&r.received);
    data.unknown = grade(&r.unknown);
    data.held = grade(&r.held);
    data.returned = grade(&r.returned);
    data.limbo = grade(&r.limbo);
    data.received_coins = r
        .received_coins
        .iter()
        .map(|id| CoinRef::new(id.denomination.code(), id.serial.get()))
        .collect();
    data
}

/// `GET /api/v1/raida`'s payload: every RAIDA's echo.
pub(crate) fn raida(all: &[RaidaHealth]) -> RaidaStatus {
    RaidaStatus::new(
        all.iter()
            .map(|r| {
                let latency =
                    r.round_trip.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                let mut echo =
                    RaidaEcho::new(r.id, r.address.clone(), latency, r.counter.map(str::to_owned));
                echo.up = r.up;
                echo
            })
            .collect(),
    )
}

/// `GET /api/v1/info`'s payload.
pub(crate) fn info() -> Info {
    Info::new("cloudcoin-server", env!("CARGO_PKG_VERSION"))
}
