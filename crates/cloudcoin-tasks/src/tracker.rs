//! The task tracker: every task's live state in memory, its start and end written to disk.
//!
//! # Durable tasks
//!
//! Each task has `.cloudcoin/tasks/{id}.json` (written atomically) at its start and at its end; its
//! progress lives in memory only. At start-up the records are loaded; a task still `running` whose
//! record has no journal record changed nothing and ends `error`, "interrupted by a restart before
//! it changed anything". Finished tasks older than `ServiceConfig::task_retention` are deleted at
//! start-up and whenever a task ends. Progress only moves forward and a finished task never changes
//! again, except that recovery settles a task whose journal record outlived it (see
//! `crate::recovery`).
//!
//! # Idempotency
//!
//! An export may carry an idempotency key. The key and a fingerprint of the request (wallet,
//! amount, folder, type, tag) are stored in the task record, so they survive restarts: the same key
//! with the same request returns the existing task (no second export); the same key with a
//! different request is `IdempotencyConflict`. Keyed exports are serialised from the key check to
//! the task's creation, so two concurrent retries cannot both start. A refused request stores
//! nothing, so a retry after a refusal is checked afresh.
//!
//! # An outcome is shown once it is on disk
//!
//! **Invariant: a task's outcome is shown only once it is on disk.** Kept by `tests/it/others.rs`:
//! `a_task_shows_no_outcome_a_restart_would_change` (`CLOUDCOIN_FAULT_IO=task:record_outcome`).
//! `Tracker::finish_durably` writes the finished record first; if it cannot, the task stays running
//! with a message saying so, and a restart reports what the wallet's files say.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;
use std::time::Duration;

use cloudcoin_domain::{Amount, WalletName};

use crate::durable::now_unix;
use crate::records::{IdempotencyRecord, TaskRecord, TaskStore};
use crate::task::{TaskId, TaskKind, TaskOutcome, TaskStatus, TaskView};

#[derive(Debug)]
struct Tracked {
    seq: u64,
    /// Creation time in nanoseconds, stored so that the order survives a restart.
    order: u64,
    view: TaskView,
    idempotency: Option<IdempotencyRecord>,
}

#[derive(Debug, Default)]
struct Tasks {
    next_seq: u64,
    by_id: HashMap<TaskId, Tracked>,
}

/// What a task works on, as its list shows it: the wallet, and the amount asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subject {
    pub(crate) wallet: Option<WalletName>,
    pub(crate) requested: Option<Amount>,
}

impl Subject {
    /// A task on `wallet`, for `requested` when the request names an amount.
    pub(crate) fn new(wallet: &WalletName, requested: Option<Amount>) -> Subject {
        Subject { wallet: Some(wallet.clone()), requested }
    }
}

/// Live tasks, and the durable records behind them.
#[derive(Debug)]
pub(crate) struct Tracker {
    tasks: Mutex<Tasks>,
    store: TaskStore,
    retention: Duration,
}

/// The message of a completed task.
fn completed_message(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Export => "Export completed successfully",
        TaskKind::Import => "Import completed successfully",
        TaskKind::Backup => "Backup completed successfully",
        TaskKind::Fix => "Healing completed",
        TaskKind::Reclaim => "Reclaim completed",
        _ => "Completed successfully",
    }
}

impl Tracker {
    /// Loads the stored records, deleting finished ones older than `retention`. Blocking.
    pub(crate) fn load(store: TaskStore, retention: Duration) -> io::Result<Tracker> {
        let mut records = store.list()?;
        records.sort_by_key(|r| (r.started, r.order));
        let now = now_unix();
        let mut tasks = Tasks::default();
        for record in records {
            let Some(view) = record.to_view() else {
                tracing::warn!(task = %record.id, "task record not understood; left alone");
                continue;
            };
            if expired(view.finished, now, retention) {
                store.remove(&record.id)?;
                tracing::debug!(task = %view.id, "expired task record deleted");
                continue;
            }
            tasks.next_seq += 1;
            tasks.by_id.insert(
                view.id,
                Tracked {
                    seq: tasks.next_seq,
                    order: record.order,
                    view,
                    idempotency: record.idempotency,
                },
            );
        }
        Ok(Tracker { tasks: Mutex::new(tasks), store, retention })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new running task of no known wallet (in memory; call [`Tracker::persist`] to
    /// record it). Tasks started for a request use [`Tracker::create_for`].
    #[allow(dead_code, reason = "the tests' tasks, and kinds of task without a wallet")]
    pub(crate) fn create(
        &self,
        id: TaskId,
        kind: TaskKind,
        message: &str,
        idempotency: Option<IdempotencyRecord>,
    ) -> TaskView {
        self.register(id, kind, Subject::default(), message, idempotency)
    }

    /// Registers a new running task on `subject`'s wallet (in memory; call
    /// [`Tracker::persist`] to record it).
    pub(crate) fn create_for(
        &self,
        id: TaskId,
        kind: TaskKind,
        subject: Subject,
        message: &str,
        idempotency: Option<IdempotencyRecord>,
    ) -> TaskView {
        self.register(id, kind, subject, message, idempotency)
    }

    fn register(
        &self,
        id: TaskId,
        kind: TaskKind,
        subject: Subject,
        message: &str,
        idempotency: Option<IdempotencyRecord>,
    ) -> TaskView {
        let view = TaskView {
            id,
            kind,
            status: TaskStatus::Running,
            progress: 0,
            message: message.to_owned(),
            started: now_unix(),
            finished: None,
            wallet: subject.wallet,
            requested: subject.requested,
            outcome: None,
        };
        let mut tasks = self.lock();
        tasks.next_seq += 1;
        let seq = tasks.next_seq;
        let order = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        tasks.by_id.insert(id, Tracked { seq, order, view: view.clone(), idempotency });
        view
    }

    /// Moves a running task's progress forward (never back) and, if given, sets its message.
    pub(crate) fn advance(&self, id: TaskId, progress: u8, message: Option<&str>) {
        let mut tasks = self.lock();
        if let Some(t) = tasks.by_id.get_mut(&id)
            && t.view.status == TaskStatus::Running
        {
            t.view.progress = t.view.progress.max(progress.min(100));
            if let Some(m) = message {
                m.clone_into(&mut t.view.message);
            }
        }
    }

    /// Ends a running task with its outcome: `Failed`, or an import that took nothing and rejected
    /// something, gives status error; anything else completed.
    /// A task that has already ended is left as it is.
    pub(crate) fn finish(&self, id: TaskId, outcome: TaskOutcome) -> Option<TaskView> {
        let mut tasks = self.lock();
        let t = tasks.by_id.get_mut(&id)?;
        if t.view.status != TaskStatus::Running {
            return Some(t.view.clone());
        }
        end(t, outcome);
        Some(t.view.clone())
    }

    /// Ends a running task with its outcome once that is on disk: the finished record is written
    /// first, and only then shown. Where it cannot be written (a full disk), the task stays
    /// running, its message says why, and the error is returned: a restart then reports what the
    /// files say, and nobody has seen an outcome that the restart would change. A task that has
    /// already ended is left as it is. Blocking.
    pub(crate) fn finish_durably(&self, id: TaskId, outcome: TaskOutcome) -> io::Result<()> {
        let (record, view) = {
            let tasks = self.lock();
            let Some(t) = tasks.by_id.get(&id) else { return Ok(()) };
            if t.view.status != TaskStatus::Running {
                return Ok(());
            }
            let mut ended = Tracked {
                seq: t.seq,
                order: t.order,
                view: t.view.clone(),
                idempotency: t.idempotency.clone(),
            };
            end(&mut ended, outcome);
            (TaskRecord::from_view(&ended.view, ended.order, ended.idempotency), ended.view)
        };
        let written = crate::fault::point(crate::fault::FaultPoint::TaskRecordOutcome)
            .and_then(|()| self.store.write(&record));
        let mut tasks = self.lock();
        let Some(t) = tasks.by_id.get_mut(&id) else { return written };
        if t.view.status != TaskStatus::Running {
            return written;
        }
        match &written {
            Ok(()) => t.view = view,
            Err(e) => {
                t.view.message = format!(
                    "finished, but its outcome cannot be recorded on disk ({e}); it is shown once it is, and a restart reports what the wallet's files say"
                );
            }
        }
        written
    }

    /// Gives a task the outcome crash recovery settled on. Unlike [`Tracker::finish`] this
    /// replaces an interim ending: a task whose journal record outlived it (an export whose file
    /// was out but whose coins were not settled, or one that needed attention at an earlier
    /// start) gets its real outcome now.
    pub(crate) fn settle(&self, id: TaskId, outcome: TaskOutcome) {
        let mut tasks = self.lock();
        if let Some(t) = tasks.by_id.get_mut(&id)
            && t.view.outcome.as_ref() != Some(&outcome)
        {
            end(t, outcome);
        }
    }

    /// Writes a task's record to disk. Blocking.
    pub(crate) fn persist(&self, id: TaskId) -> io::Result<()> {
        let record = {
            let tasks = self.lock();
            let Some(t) = tasks.by_id.get(&id) else { return Ok(()) };
            TaskRecord::from_view(&t.view, t.order, t.idempotency.clone())
        };
        self.store.write(&record)
    }

    /// A task.
    pub(crate) fn get(&self, id: TaskId) -> Option<TaskView> {
        self.lock().by_id.get(&id).map(|t| t.view.clone())
    }

    /// Every task, newest first.
    pub(crate) fn list(&self) -> Vec<TaskView> {
        let tasks = self.lock();
        let mut all: Vec<&Tracked> = tasks.by_id.values().collect();
        all.sort_by_key(|t| std::cmp::Reverse(t.seq));
        all.into_iter().map(|t| t.view.clone()).collect()
    }

    /// Ids of tasks still running.
    pub(crate) fn running(&self) -> Vec<TaskId> {
        let tasks = self.lock();
        let mut ids: Vec<(u64, TaskId)> = tasks
            .by_id
            .values()
            .filter(|t| t.view.status == TaskStatus::Running)
            .map(|t| (t.seq, t.view.id))
            .collect();
        ids.sort_by_key(|(seq, _)| *seq);
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// The task that used idempotency `key`, with the fingerprint of its request.
    pub(crate) fn by_key(&self, key: &str) -> Option<(String, TaskView)> {
        let tasks = self.lock();
        tasks.by_id.values().find_map(|t| match &t.idempotency {
            Some(k) if k.key == key => Some((k.fingerprint.clone(), t.view.clone())),
            _ => None,
        })
    }

    /// Forgets finished tasks older than the retention time, in memory and on disk. Blocking.
    pub(crate) fn prune(&self) -> io::Result<()> {
        let now = now_unix();
        let old: Vec<TaskId> = {
            let mut tasks = self.lock();
            let old: Vec<TaskId> = tasks
                .by_id
                .values()
                .filter(|t| t.view.status != TaskStatus::Running)
                .filter(|t| expired(t.view.finished, now, self.retention))
                .map(|t| t.view.id)
                .collect();
            for id in &old {
                tasks.by_id.remove(id);
            }
            old
        };
        for id in old {
            self.store.remove(&id.to_string())?;
        }
        Ok(())
    }
}

/// Ends a task with `outcome`: `Failed`, or an import that took nothing and rejected something,
/// gives status error; anything else completed.
fn end(t: &mut Tracked, outcome: TaskOutcome) {
    match &outcome {
        TaskOutcome::Failed(f) => {
            t.view.status = TaskStatus::Error;
            t.view.message.clone_from(&f.message);
        }
        // An import of which nothing could be taken did not do what was asked: it ends in
        // error, and its outcome still lists every rejection.
        TaskOutcome::Import(r)
            if r.imported == 0 && r.already_present == 0 && !r.rejected.is_empty() =>
        {
            t.view.status = TaskStatus::Error;
            let first = &r.rejected[0];
            let more = match r.rejected.len() - 1 {
                0 => String::new(),
                n => {
                    format!(" (and {})", crate::words::counted(n, "more refusal", "more refusals"))
                }
            };
            t.view.message = format!(
                "Import failed: nothing could be imported: {}: {}{more}",
                first.source, first.reason
            );
        }
        _ => {
            t.view.status = TaskStatus::Completed;
            t.view.progress = 100;
            t.view.message = completed_message(t.view.kind).to_owned();
            // An export that made change first says what it broke.
            if let TaskOutcome::Export(r) = &outcome
                && let Some(change) = &r.change
            {
                t.view.message = format!("{} ({})", t.view.message, change.note);
            }
        }
    }
    t.view.finished = Some(now_unix().max(t.view.started));
    t.view.outcome = Some(outcome);
}

/// Whether a task that finished at `finished` is past `retention`; a running task never is.
fn expired(finished: Option<u64>, now: u64, retention: Duration) -> bool {
    finished.is_some_and(|finished| now.saturating_sub(finished) > retention.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{FailureKind, TaskFailure};

    fn tracker(dir: &std::path::Path, retention: Duration) -> Tracker {
        Tracker::load(TaskStore::new(dir.to_path_buf()), retention).expect("load")
    }

    #[test]
    fn progress_never_goes_back_and_finish_is_final() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = tracker(dir.path(), Duration::from_secs(3600));
        let id = TaskId::new();
        t.create(id, TaskKind::Export, "Starting", None);
        t.advance(id, 40, Some("Writing coins"));
        t.advance(id, 20, None);
        assert_eq!(t.get(id).map(|v| v.progress), Some(40));
        let failure = TaskFailure { kind: FailureKind::Io, message: "disk full".into() };
        let v = t.finish(id, TaskOutcome::Failed(failure)).expect("known");
        assert_eq!(
            (v.status, v.message.as_str(), v.progress),
            (TaskStatus::Error, "disk full", 40)
        );
        t.advance(id, 90, None);
        assert_eq!(t.get(id).map(|v| v.progress), Some(40));
    }

    #[test]
    fn an_import_that_took_nothing_ends_in_error_with_its_rejections() {
        use crate::task::{ImportResult, Rejection};
        use cloudcoin_domain::Amount;
        let dir = tempfile::tempdir().expect("tempdir");
        let t = tracker(dir.path(), Duration::from_secs(3600));
        let rejection = |item| Rejection {
            item,
            source: format!("inline #{item}"),
            kind: crate::task::RefusalKind::NotCoins,
            reason: "not a coin file".into(),
        };
        let result = |imported, already_present, rejected| ImportResult {
            imported,
            already_present,
            rejected,
            amount: Amount::ZERO,
            claim: crate::report::ClaimReport::offline(),
        };
        let cases = [
            (result(0, 0, vec![rejection(0), rejection(1)]), TaskStatus::Error),
            (result(1, 0, vec![rejection(1)]), TaskStatus::Completed),
            (result(0, 2, vec![rejection(1)]), TaskStatus::Completed),
            (result(0, 0, vec![]), TaskStatus::Completed),
        ];
        for (r, want) in cases {
            let id = TaskId::new();
            t.create(id, TaskKind::Import, "Starting", None);
            let v = t.finish(id, TaskOutcome::Import(r.clone())).expect("known");
            assert_eq!(v.status, want, "{r:?}");
            assert_eq!(v.outcome, Some(TaskOutcome::Import(r.clone())), "rejections kept");
            if want == TaskStatus::Error {
                assert!(v.message.contains("nothing could be imported"), "{}", v.message);
                t.persist(id).expect("persist");
                let again = tracker(dir.path(), Duration::from_secs(3600));
                let back = again.get(id).expect("reloaded");
                assert_eq!(
                    (back.status, back.outcome),
                    (TaskStatus::Error, Some(TaskOutcome::Import(r)))
                );
            }
        }
    }

    #[test]
    fn records_survive_a_reload_and_expire() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = tracker(dir.path(), Duration::from_secs(3600));
        let a = TaskId::new();
        let b = TaskId::new();
        let key = IdempotencyRecord { key: "k".into(), fingerprint: "f".into() };
        t.create(a, TaskKind::Export, "Starting", Some(key.clone()));
        let wallet = WalletName::parse("Savings").expect("name");
        let ten: Amount = "10.5".parse().expect("amount");
        t.create_for(b, TaskKind::Backup, Subject::new(&wallet, Some(ten)), "Starting", None);
        t.finish(
            a,
            TaskOutcome::Failed(TaskFailure { kind: FailureKind::Io, message: "x".into() }),
        );
        t.persist(a).expect("persist");
        t.persist(b).expect("persist");
        assert_eq!(t.list().iter().map(|v| v.id).collect::<Vec<_>>(), vec![b, a]);

        let again = tracker(dir.path(), Duration::from_secs(3600));
        assert_eq!(again.get(a).map(|v| v.status), Some(TaskStatus::Error));
        assert_eq!(again.running(), vec![b]);
        let shown = again.get(b).expect("b");
        assert_eq!((shown.wallet, shown.requested), (Some(wallet), Some(ten)), "its subject");
        assert_eq!(again.get(a).expect("a").wallet, None);
        assert_eq!(again.by_key("k").map(|(f, v)| (f, v.id)), Some(("f".to_owned(), a)));

        // With no retention at all, a finished task is forgotten once a second has passed;
        // make it look old instead of waiting.
        let mut record = TaskStore::new(dir.path().to_path_buf()).read(&a.to_string()).expect("a");
        record.finished = 1;
        TaskStore::new(dir.path().to_path_buf()).write(&record).expect("write");
        let pruned = tracker(dir.path(), Duration::from_secs(3600));
        assert!(pruned.get(a).is_none());
        assert!(pruned.get(b).is_some(), "running tasks never expire");
        assert!(!dir.path().join(format!("{a}.json")).exists());
    }
}
