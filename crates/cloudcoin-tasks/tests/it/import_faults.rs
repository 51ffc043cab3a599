//! Import under injected faults (feature `fault-injection`): a cleanup that fails after a coin is
//! published, and two imports of one file racing on a disk that fills up. As in `faults.rs`, the
//! test binary runs itself again as a child process (`import_faults::child`) with the fault set
//! in its environment; the parent reopens the data directory and checks every coin.
#![cfg(feature = "fault-injection")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cloudcoin_domain::Coin;
use cloudcoin_tasks::{
    FaultPoint, ImportItem, ImportRequest, Service, TaskOutcome, TaskStatus, TaskView,
};

use crate::support::*;

fn source_request(out: &Path) -> ImportRequest {
    ImportRequest::new(wallet("Default"), vec![ImportItem::File(out.join("source.bin"))])
}

/// Polls `service` until `done(task)` holds for the task `id` (a condition, not a fixed wait).
async fn until(service: &Service, id: cloudcoin_tasks::TaskId, done: impl Fn(&TaskView) -> bool) {
    loop {
        if service.task(id).is_some_and(|t| done(&t)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Child side: the scenario named by `IMPORT_CHILD`, then exit.
#[test]
fn child() {
    let Ok(op) = std::env::var("IMPORT_CHILD") else { return };
    let data = PathBuf::from(std::env::var("CHILD_DATA").expect("CHILD_DATA"));
    let out = PathBuf::from(std::env::var("CHILD_OUT").expect("CHILD_OUT"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let config = cloudcoin_tasks::ServiceConfig::new(data.clone())
            .with_task_retention(Duration::from_secs(3600));
        let service = Service::open(config).expect("open");
        match op.as_str() {
            "import twice" => {
                // The same file imported twice, one after the other.
                for _ in 0..2 {
                    let t = service.start_import(source_request(&out)).await.expect("import");
                    until(&service, t.id, |t| t.status != TaskStatus::Running).await;
                }
            }
            "race" => {
                // A is held half-way through storing (then the disk is full); B starts meanwhile.
                let flag = PathBuf::from(std::env::var("CLOUDCOIN_PAUSE_FILE").expect("flag"));
                let a = service.start_import(source_request(&out)).await.expect("A");
                while !flag.exists() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let b = service.start_import(source_request(&out)).await.expect("B");
                until(&service, b.id, |t| {
                    t.status != TaskStatus::Running || t.message.starts_with("Waiting")
                })
                .await;
                if service.task(b.id).is_some_and(|t| t.status == TaskStatus::Running) {
                    std::fs::write(out.join("b waited"), b"").expect("marker");
                }
                // Let every paused step go on until both are done.
                for id in [a.id, b.id] {
                    loop {
                        let _ = std::fs::remove_file(&flag);
                        if service.task(id).is_some_and(|t| t.status != TaskStatus::Running) {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            "import during the moves" => {
                // The export is held once its file is published (its coins have left the index,
                // their files are still in Bank); the import of every coin of the wallet runs
                // to its end meanwhile, then the export goes on.
                let flag = PathBuf::from(std::env::var("CLOUDCOIN_PAUSE_FILE").expect("flag"));
                let request = cloudcoin_tasks::ExportRequest::new(
                    wallet("Default"),
                    amount("20"),
                    &out,
                    cloudcoin_domain::FileKind::Zip,
                );
                let e = service.start_export(request).await.expect("export");
                while !flag.exists() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let all = ImportItem::File(whole_wallet_file(&out));
                let i = service
                    .start_import(ImportRequest::new(wallet("Default"), vec![all]))
                    .await
                    .expect("import");
                until(&service, i.id, |t| t.status != TaskStatus::Running).await;
                std::fs::remove_file(&flag).expect("the export goes on");
                until(&service, e.id, |t| t.status != TaskStatus::Running).await;
            }
            "import the published file" => {
                // The export is held the moment its file is published, its coins still reserved;
                // a person takes that very file and imports it into the same wallet meanwhile.
                let flag = PathBuf::from(std::env::var("CLOUDCOIN_PAUSE_FILE").expect("flag"));
                let request = cloudcoin_tasks::ExportRequest::new(
                    wallet("Default"),
                    amount("20"),
                    &out,
                    cloudcoin_domain::FileKind::Bin,
                );
                let e = service.start_export(request).await.expect("export");
                while !flag.exists() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let published = std::fs::read_dir(&out)
                    .expect("out")
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                    .expect("the published file");
                let taken = taken_file(&out);
                std::fs::rename(&published, &taken).expect("taken away");
                let i = service
                    .start_import(
                        ImportRequest::new(wallet("Default"), vec![ImportItem::File(taken)])
                            .with_sent_coins_allowed(),
                    )
                    .await
                    .expect("import");
                until(&service, i.id, |t| t.status != TaskStatus::Running).await;
                std::fs::remove_file(&flag).expect("the export goes on");
                until(&service, e.id, |t| t.status != TaskStatus::Running).await;
            }
            other => panic!("unknown child scenario {other}"),
        }
        service.shutdown().await;
    });
}

fn run_child(env: &Env, op: &str, vars: &[(&str, &str)]) {
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "import_faults::child", "--test-threads=1", "--quiet"])
        .env("IMPORT_CHILD", op)
        .env("CHILD_DATA", &env.data)
        .env("CHILD_OUT", &env.out)
        .envs(vars.iter().copied())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("child runs");
    assert!(status.success(), "the child failed: {status}");
}

fn with_source(coins: &[Coin]) -> Env {
    let env = Env::with_bank(&[]);
    std::fs::write(env.out.join("source.bin"), cloudcoin_codec::encode_bin(coins).expect("encode"))
        .expect("source");
    env
}

fn import_result(task: &TaskView) -> &cloudcoin_tasks::ImportResult {
    match &task.outcome {
        Some(TaskOutcome::Import(r)) => r,
        other => panic!("not an import result: {} {other:?}", task.message),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_cleanup_after_a_coin_is_published_is_not_a_failure() {
    let source = mixed_coins();
    let env = with_source(&source);
    // Temporary names exist where the file system cannot make unnamed files.
    run_child(
        &env,
        "import twice",
        &[
            ("CLOUDCOIN_FAULT_IO", FaultPoint::ImportUnlinkTemp.as_str()),
            ("CLOUDCOIN_FAULT_NO_TMPFILE", "1"),
        ],
    );
    let service = env.open().await;
    let tasks = service.tasks(); // newest first
    assert_eq!(tasks.len(), 2);
    let (second, first) = (&tasks[0], &tasks[1]);
    assert_eq!(first.status, TaskStatus::Completed, "first import: {}", first.message);
    assert_eq!(import_result(first).imported, source.len() as u64);
    assert_eq!(second.status, TaskStatus::Completed, "second import: {}", second.message);
    assert_eq!(
        (import_result(second).imported, import_result(second).already_present),
        (0, source.len() as u64),
        "the second import stored nothing again"
    );
    let bank = env.folder("Default", "Bank");
    let stored = coins_in(&bank);
    assert_eq!(stored.len(), source.len(), "one file per coin: {:?}", all_names(&bank));
    assert_eq!(ids(&stored), ids(&source));
    let hidden: Vec<String> = all_names(&bank).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(hidden.is_empty(), "the start-up removed the temporary names left: {hidden:?}");
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("36"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coin_another_import_is_storing_is_never_already_present() {
    let source: Vec<Coin> = (0..600).map(|sn| coin(-2, 10_000 + sn)).collect();
    let env = with_source(&source);
    let flag = env.out.join("paused");
    run_child(
        &env,
        "race",
        &[
            ("CLOUDCOIN_PAUSE", FaultPoint::ImportMidStore.as_str()),
            ("CLOUDCOIN_PAUSE_FILE", flag.to_str().expect("utf-8")),
            ("CLOUDCOIN_FAULT_IO", FaultPoint::ImportMidStore.as_str()),
        ],
    );
    let service = env.open().await;
    let bank = ids(&coins_in(&env.folder("Default", "Bank")));
    let held = service.wallet(&wallet("Default")).await.expect("wallet").coins;
    assert_eq!(held, bank.len() as u64);
    for task in service.tasks() {
        if let Some(TaskOutcome::Import(r)) = &task.outcome {
            assert!(
                r.imported + r.already_present <= bank.len() as u64,
                "task {} reported {} imported and {} already present, but the wallet holds {}",
                task.id,
                r.imported,
                r.already_present,
                bank.len()
            );
        }
    }
    assert!(bank.len() < source.len(), "the disk filled up: not every coin could be stored");
    assert!(env.out.join("b waited").exists(), "the second import waited for the first");
}

/// A file holding every coin of the wallet (as a backup would), beside the export folder `out`.
fn whole_wallet_file(out: &Path) -> PathBuf {
    out.parent().expect("the export folder has a parent").join("all.bin")
}

/// An import that runs while an export's coins are on their way to `Sent` (the export's file is
/// published and its coins have left the index, but their files are still in `Bank`) counts
/// those coins as sent away, exactly as it does once they are in `Sent`: refused unless the
/// request allows sent coins, never "in a held folder". Which way an import sees such a coin
/// no longer depends on how far the export's renames have come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_while_an_export_moves_its_coins_counts_them_as_sent() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let all = whole_wallet_file(&env.out);
    std::fs::write(&all, cloudcoin_codec::encode_bin(&start).expect("encode")).expect("write");
    let flag = env.out.parent().expect("base").join("paused");
    run_child(
        &env,
        "import during the moves",
        &[
            ("CLOUDCOIN_PAUSE", FaultPoint::ExportAfterRename.as_str()),
            ("CLOUDCOIN_PAUSE_FILE", flag.to_str().expect("utf-8")),
        ],
    );
    let service = env.open().await;
    let tasks = service.tasks(); // newest first: the import, then the export
    assert_eq!(tasks.len(), 2);
    let (import, export) = (&tasks[0], &tasks[1]);
    assert_eq!(export.status, TaskStatus::Completed, "export: {}", export.message);
    let r = import_result(import);
    let exported = ids(&coins_in(&env.out));
    assert!(!exported.is_empty());
    for x in &r.rejected {
        assert!(x.reason.contains("was sent away"), "refused as not sent: {}", x.reason);
    }
    assert_eq!(r.rejected.len(), exported.len(), "every exported coin refused as sent away");
    assert_eq!(r.imported, 0, "no exported coin stored again");
    assert_eq!(r.already_present as usize, start.len() - exported.len(), "the others held");
    assert_each_coin_once(&env, &start);
}

/// Where the person of "import the published file" puts the file they take.
fn taken_file(out: &Path) -> PathBuf {
    out.parent().expect("the export folder has a parent").join("taken.bin")
}

/// An export's file is published a moment before its coins leave the wallet's index; an import of
/// that very file (a person may take it the moment it appears) into the same wallet meanwhile
/// must not count the still-reserved coins as already present: the export then moves them to
/// `Sent`, and a person told "already present" lets go of the only file that holds them. The
/// import refuses them instead (the file is kept); whatever it reports as stored or present is in
/// the wallet, and every coin is in the wallet or in the person's file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_of_a_just_published_export_never_counts_its_coins_as_present() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let flag = env.out.parent().expect("base").join("paused");
    run_child(
        &env,
        "import the published file",
        &[
            ("CLOUDCOIN_PAUSE", FaultPoint::ExportPublished.as_str()),
            ("CLOUDCOIN_PAUSE_FILE", flag.to_str().expect("utf-8")),
        ],
    );
    let service = env.open().await;
    let tasks = service.tasks(); // newest first: the import, then the export
    assert_eq!(tasks.len(), 2);
    let (import, export) = (&tasks[0], &tasks[1]);
    assert_eq!(export.status, TaskStatus::Completed, "export: {}", export.message);
    let r = import_result(import);
    let bytes = std::fs::read(taken_file(&env.out)).expect("the person's file");
    let in_file =
        ids(&cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default())
            .expect("coins"));
    assert!(!in_file.is_empty());
    let held = ids(&coins_in(&env.folder("Default", "Bank")));
    let still_held: Vec<_> = in_file.intersection(&held).collect();
    assert_eq!(
        r.imported + r.already_present,
        still_held.len() as u64,
        "the import said {} stored and {} present, but the wallet holds {} of the file's coins ({:?})",
        r.imported,
        r.already_present,
        still_held.len(),
        r.rejected
    );
    let everywhere: std::collections::BTreeSet<_> = held.union(&in_file).copied().collect();
    assert_eq!(everywhere, ids(&start), "every coin is in the wallet or in the person's file");
}
