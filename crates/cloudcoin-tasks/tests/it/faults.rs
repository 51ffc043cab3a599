//! Crash and i/o-fault tests (feature `fault-injection`). The test binary runs itself again as a
//! child process (the `child` test below, which does its work only when the parent sets
//! `CLOUDCOIN_TEST_CHILD`) with `CLOUDCOIN_FAULT` or `CLOUDCOIN_FAULT_IO` naming a step; the child
//! aborts (or fails) there, and the parent reopens the data directory and checks every coin.
#![cfg(feature = "fault-injection")]

use std::path::Path;
use std::process::Command;

use cloudcoin_domain::{FileKind, Tag};
use cloudcoin_tasks::{BACKUP_FAULT_STEPS, EXPORT_FAULT_STEPS, IMPORT_FAULT_STEPS};
use cloudcoin_tasks::{FailureKind, ImportItem, ImportRequest, TaskOutcome, TaskStatus};

use crate::support::*;

/// Child side: one export, backup or import on the given directories, then exit.
#[test]
fn child() {
    let Ok(op) = std::env::var("CLOUDCOIN_TEST_CHILD") else { return };
    let data = std::env::var("CHILD_DATA").expect("CHILD_DATA");
    let out = std::env::var("CHILD_OUT").expect("CHILD_OUT");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("rt");
    rt.block_on(async {
        let config = cloudcoin_tasks::ServiceConfig {
            data_dir: data.into(),
            export_roots: Vec::new(),
            task_retention: std::time::Duration::from_secs(3600),
        };
        let service = cloudcoin_tasks::Service::open(config).expect("open");
        if op == "export" {
            let req = cloudcoin_tasks::ExportRequest {
                wallet: wallet("Default"),
                amount: amount("10.5"),
                folder: out.into(),
                kind: FileKind::Zip,
                tag: tag("trade"),
                idempotency_key: None,
            };
            service.start_export(req).await.expect("export started");
        } else if op == "backup" {
            let req = cloudcoin_tasks::BackupRequest {
                wallet: wallet("Default"),
                folder: out.into(),
                tag: Some(tag("nightly")),
            };
            service.start_backup(req).await.expect("backup started");
        } else {
            let req = ImportRequest {
                wallet: wallet("B"),
                items: vec![ImportItem::File(Path::new(&out).join("source.bin"))],
                tag: Tag::empty(),
            };
            service.start_import(req).await.expect("import started");
        }
        service.shutdown().await;
    });
}

/// Runs the child; returns whether it was killed by the injected abort.
fn run_child(env: &Env, op: &str, var: &str, step: &str) -> bool {
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "faults::child", "--test-threads=1", "--quiet"])
        .env("CLOUDCOIN_TEST_CHILD", op)
        .env("CHILD_DATA", &env.data)
        .env("CHILD_OUT", &env.out)
        .env(var, step)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("child runs");
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(6)
}

fn only_task(service: &cloudcoin_tasks::Service) -> cloudcoin_tasks::TaskView {
    let tasks = service.tasks();
    assert_eq!(tasks.len(), 1);
    tasks.into_iter().next().expect("one")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_export_step_loses_and_duplicates_nothing() {
    for step in EXPORT_FAULT_STEPS {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        assert!(run_child(&env, "export", "CLOUDCOIN_FAULT", step), "{step} was not reached");
        let service = env.open().await;
        assert_each_coin_once(&env, &start);
        let names = all_names(&env.out);
        assert!(names.iter().all(|n| !n.starts_with('.')), "{step}: temp left: {names:?}");
        let task = only_task(&service);
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        match names.as_slice() {
            [] => {
                assert_eq!(task.status, TaskStatus::Error, "{step}");
                assert!(
                    matches!(task.outcome, Some(TaskOutcome::Failed(ref f)) if f.kind == FailureKind::Interrupted)
                );
                assert_eq!(w.balance, amount("36"), "{step}");
            }
            [one] => {
                assert_eq!(one, "10.5 CloudCoin #6 'trade'.zip", "{step}");
                assert_eq!(task.status, TaskStatus::Completed, "{step}: {}", task.message);
                assert_eq!(w.balance, amount("25.5"), "{step}");
            }
            more => panic!("{step}: {more:?}"),
        }
        assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty(), "{step}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_backup_step_leaves_the_wallet_and_no_partial_file() {
    for step in BACKUP_FAULT_STEPS {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        assert!(run_child(&env, "backup", "CLOUDCOIN_FAULT", step), "{step} was not reached");
        let service = env.open().await;
        assert_each_coin_once(&env, &start);
        assert_eq!(
            ids(&coins_in(&env.folder("Default", "Bank"))),
            ids(&start),
            "{step}: a backup never moves coins"
        );
        assert!(all_names(&env.out).is_empty(), "{step}: {:?}", all_names(&env.out));
        let task = only_task(&service);
        assert_eq!(task.status, TaskStatus::Error, "{step}");
        assert!(
            matches!(task.outcome, Some(TaskOutcome::Failed(ref f)) if f.kind == FailureKind::Interrupted),
            "{step}: {:?}",
            task.outcome
        );
        assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty(), "{step}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_or_fsync_failure_returns_the_coins() {
    for step in ["export:after_journal", "export:after_write", "export:after_fsync"] {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        assert!(!run_child(&env, "export", "CLOUDCOIN_FAULT_IO", step), "{step} aborted");
        let service = env.open().await;
        let task = only_task(&service);
        assert_eq!(task.status, TaskStatus::Error, "{step}");
        assert!(task.message.contains("No space left on device"), "{step}: {}", task.message);
        assert!(
            matches!(task.outcome, Some(TaskOutcome::Failed(ref f)) if f.kind == FailureKind::Io)
        );
        assert!(all_names(&env.out).is_empty(), "{step}: nothing left in the folder");
        assert_each_coin_once(&env, &start);
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        assert_eq!(w.balance, amount("36"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_import_step_leaves_whole_coins_and_a_retry_finishes() {
    for step in IMPORT_FAULT_STEPS {
        let source = mixed_coins();
        let env = Env::with_bank(&[]);
        std::fs::create_dir_all(env.folder("B", "Bank")).expect("wallet B");
        std::fs::write(
            env.out.join("source.bin"),
            cloudcoin_codec::encode_bin(&source).expect("encode"),
        )
        .expect("source");
        assert!(run_child(&env, "import", "CLOUDCOIN_FAULT", step), "{step} was not reached");
        let service = env.open().await;
        let task = only_task(&service);
        assert_eq!(task.status, TaskStatus::Error, "{step}");
        assert!(task.message.contains("interrupted"), "{}", task.message);
        let bank = env.folder("B", "Bank");
        assert!(all_names(&bank).iter().all(|n| !n.starts_with('.')), "{step}: temp left");
        let stored = coins_in(&bank);
        assert_eq!(ids(&stored).len(), stored.len(), "{step}: a coin stored twice");
        assert!(ids(&stored).is_subset(&ids(&source)));

        let req = ImportRequest {
            wallet: wallet("B"),
            items: vec![ImportItem::File(env.out.join("source.bin"))],
            tag: Tag::empty(),
        };
        let retry = service.start_import(req).await.expect("retry");
        let done = finished(&service, retry.id).await;
        let Some(TaskOutcome::Import(r)) = done.outcome else { panic!("{}", done.message) };
        assert_eq!(r.imported + r.already_present, source.len(), "{step}");
        assert_eq!(r.already_present, stored.len(), "{step}");
        assert_eq!(ids(&coins_in(&bank)), ids(&source), "{step}");
    }
}
