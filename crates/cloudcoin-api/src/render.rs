//! The service's task snapshots as the wire shows them.

use cloudcoin_tasks::{TaskOutcome, TaskView};
use cloudcoin_wire::{
    BackupData, ErrorPayload, ExportData, ImportData, Info, Rejection, Task, TaskData,
};

/// A count as the wire carries it (a `usize` always fits in 64 bits here).
fn count(n: usize) -> u64 {
    u64::try_from(n).expect("counts fit in 64 bits")
}

/// `GET /api/v1/tasks/{id}`'s payload for `view`.
pub(crate) fn task(view: &TaskView) -> Task {
    let mut task = Task::new(view.id, view.kind, view.started);
    task.status = view.status;
    task.progress = view.progress;
    task.message = view.message.clone();
    task.finished = view.finished;
    task.data = view.outcome.as_ref().map(data);
    task
}

fn data(outcome: &TaskOutcome) -> TaskData {
    match outcome {
        TaskOutcome::Export(r) => TaskData::Export(ExportData::new(
            r.file.clone(),
            r.amount,
            count(r.coins),
            r.sha256.clone(),
        )),
        TaskOutcome::Import(r) => TaskData::Import(ImportData::new(
            count(r.imported),
            count(r.already_present),
            r.rejected
                .iter()
                .map(|x| Rejection::new(count(x.item), &x.source, &x.reason))
                .collect(),
            r.amount,
        )),
        TaskOutcome::Backup(r) => {
            TaskData::Backup(BackupData::new(r.file.clone(), count(r.coins), r.amount))
        }
        TaskOutcome::Failed(f) => TaskData::Error(crate::error::task_failure(f).payload()),
        _ => TaskData::Error(ErrorPayload::new(
            crate::codes::INTERNAL,
            "the task ended in a way this server version cannot describe",
        )),
    }
}

/// `GET /api/v1/info`'s payload.
pub(crate) fn info() -> Info {
    Info::new("cloudcoin-server", env!("CARGO_PKG_VERSION"))
}
