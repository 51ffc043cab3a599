//! Crash and i/o-fault tests (feature `fault-injection`). The test binary runs itself again as a
//! child process (the `child` test below, which does its work only when the parent sets
//! `CLOUDCOIN_TEST_CHILD`) with `CLOUDCOIN_FAULT` or `CLOUDCOIN_FAULT_IO` naming a step; the child
//! aborts (or fails) there, and the parent reopens the data directory and checks every coin.
#![cfg(feature = "fault-injection")]

use std::path::Path;
use std::process::Command;

use cloudcoin_domain::FileKind;
use cloudcoin_tasks::FaultPoint;
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
        let config = cloudcoin_tasks::ServiceConfig::new(data)
            .with_task_retention(std::time::Duration::from_secs(3600));
        let service = cloudcoin_tasks::Service::open(config).expect("open");
        if op == "export" {
            let req = cloudcoin_tasks::ExportRequest::new(
                wallet("Default"),
                amount("10.5"),
                out.as_str(),
                FileKind::Zip,
            )
            .with_tag(tag("trade"));
            service.start_export(req).await.expect("export started");
        } else if op == "backup" {
            let req = cloudcoin_tasks::BackupRequest::new(wallet("Default"), out.as_str())
                .with_tag(tag("nightly"));
            service.start_backup(req).await.expect("backup started");
        } else {
            let req = ImportRequest::new(
                wallet("B"),
                vec![ImportItem::File(Path::new(&out).join("source.bin"))],
            );
            let view = service.start_import(req).await.expect("import started");
            if op == "import-watch" {
                // What a client polling the task sees once it has ended: status, then message.
                let seen = service.wait(view.id).await.expect("known");
                let text = format!("{:?}\n{}", seen.status, seen.message);
                std::fs::write(Path::new(&out).join("seen.txt"), text).expect("seen.txt");
            }
        }
        service.shutdown().await;
    });
}

/// The child's command line, for an operation on `env` with extra environment variables.
pub(crate) fn child_command(env: &Env, op: &str, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary"));
    cmd.args(["--exact", "faults::child", "--test-threads=1", "--quiet"])
        .env("CLOUDCOIN_TEST_CHILD", op)
        .env("CHILD_DATA", &env.data)
        .env("CHILD_OUT", &env.out)
        .stdout(std::process::Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the child; returns whether it was killed by the injected abort.
pub(crate) fn run_child(env: &Env, op: &str, var: &str, step: FaultPoint) -> bool {
    let status = child_command(env, op, &[(var, step.as_str())]).status().expect("child runs");
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(6)
}

pub(crate) fn only_task(service: &cloudcoin_tasks::Service) -> cloudcoin_tasks::TaskView {
    let tasks = service.tasks();
    assert_eq!(tasks.len(), 1);
    tasks.into_iter().next().expect("one")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_export_step_loses_and_duplicates_nothing() {
    for &step in FaultPoint::EXPORT {
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

/// As above, with the export taking coins whose files are in `Fracked` (under the usual name) and
/// in `Bank` under a name given by hand: the journal names only those, and recovery must still
/// find each file, so that no coin stays behind in the wallet once it is in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_export_step_finds_coins_in_fracked_and_under_other_names() {
    for &step in FaultPoint::EXPORT {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        let (bank, fracked) = (env.folder("Default", "Bank"), env.folder("Default", "Fracked"));
        std::fs::create_dir_all(&fracked).expect("Fracked");
        // Seven of the ten 0.1 coins are fracked: the export takes three from Bank, two from
        // Fracked; its 10 is the one under a hand-given name.
        for c in start.iter().filter(|c| c.denomination.code() == -1).take(7) {
            let name = cloudcoin_domain::single_coin_file_name(
                c,
                &cloudcoin_domain::Tag::empty(),
                FileKind::Bin,
            );
            std::fs::rename(bank.join(&name), fracked.join(&name)).expect("to Fracked");
        }
        let ten = &start[0];
        let name = cloudcoin_domain::single_coin_file_name(
            ten,
            &cloudcoin_domain::Tag::empty(),
            FileKind::Bin,
        );
        std::fs::rename(bank.join(&name), bank.join("my ten.bin")).expect("renamed");
        assert!(run_child(&env, "export", "CLOUDCOIN_FAULT", step), "{step} was not reached");
        let service = env.open().await;
        assert_each_coin_once(&env, &start);
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        match all_names(&env.out).as_slice() {
            [] => assert_eq!(w.balance, amount("36"), "{step}"),
            [_] => {
                assert_eq!(w.balance, amount("25.5"), "{step}");
                assert_eq!(coins_in(&env.folder("Default", "Sent")).len(), 6, "{step}");
            }
            more => panic!("{step}: {more:?}"),
        }
        assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty(), "{step}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_backup_step_leaves_the_wallet_and_no_partial_file() {
    for &step in FaultPoint::BACKUP {
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
    for step in
        [FaultPoint::ExportAfterJournal, FaultPoint::ExportAfterWrite, FaultPoint::ExportAfterFsync]
    {
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
    // Every step with unnamed files (the usual way) and with the named temporary files of file
    // systems that cannot make them; the removal of a temporary name exists only in the latter.
    let cases = FaultPoint::IMPORT.iter().flat_map(|&step| {
        let named_only = step == FaultPoint::ImportUnlinkTemp;
        [(step, true)].into_iter().chain((!named_only).then_some((step, false)))
    });
    for (step, named) in cases {
        let source = mixed_coins();
        let env = Env::with_bank(&[]);
        std::fs::create_dir_all(env.folder("B", "Bank")).expect("wallet B");
        std::fs::write(
            env.out.join("source.bin"),
            cloudcoin_codec::encode_bin(&source).expect("encode"),
        )
        .expect("source");
        let mut vars = vec![("CLOUDCOIN_FAULT", step.as_str())];
        if named {
            vars.push(("CLOUDCOIN_FAULT_NO_TMPFILE", "1"));
        }
        let status = child_command(&env, "import", &vars).status().expect("child runs");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(6), "{step} (named {named}) was not reached");
        let service = env.open().await;
        let task = only_task(&service);
        assert_eq!(task.status, TaskStatus::Error, "{step}");
        assert!(task.message.contains("interrupted"), "{}", task.message);
        let bank = env.folder("B", "Bank");
        assert!(all_names(&bank).iter().all(|n| !n.starts_with('.')), "{step}: temp left");
        let stored = coins_in(&bank);
        assert_eq!(ids(&stored).len(), stored.len(), "{step}: a coin stored twice");
        assert!(ids(&stored).is_subset(&ids(&source)));

        let req =
            ImportRequest::new(wallet("B"), vec![ImportItem::File(env.out.join("source.bin"))]);
        let retry = service.start_import(req).await.expect("retry");
        let done = finished(&service, retry.id).await;
        let Some(TaskOutcome::Import(r)) = done.outcome else { panic!("{}", done.message) };
        assert_eq!(r.imported + r.already_present, source.len() as u64, "{step}");
        assert_eq!(r.already_present, stored.len() as u64, "{step}");
        assert_eq!(ids(&coins_in(&bank)), ids(&source), "{step}");
    }
}

/// The steps after the export's file got its final name.
const SETTLING_STEPS: [FaultPoint; 4] = [
    FaultPoint::ExportAfterRename,
    FaultPoint::ExportAfterCommit,
    FaultPoint::ExportMidMove,
    FaultPoint::ExportAfterMove,
];

/// The file the child's export writes.
pub(crate) const OUTPUT: &str = "10.5 CloudCoin #6 'trade'.zip";

/// The status and message of the only task record on disk, read without opening the service.
pub(crate) fn task_on_disk(env: &Env) -> (String, String) {
    let dir = env.data.join(".cloudcoin/tasks");
    let names: Vec<String> = all_names(&dir).into_iter().filter(|n| n.ends_with(".json")).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let text = std::fs::read_to_string(dir.join(&names[0])).expect("task record");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    (v["status"].as_str().unwrap_or("").to_owned(), v["message"].as_str().unwrap_or("").to_owned())
}

/// A folder beside the data directory and the export folder.
pub(crate) fn beside(env: &Env, name: &str) -> std::path::PathBuf {
    env.out.parent().expect("a parent").join(name)
}

/// Each coin of the child's export is either in Sent (completed) or held back from spending
/// with a task that says it needs attention and where the file should be — never spendable.
pub(crate) fn assert_never_returned(service: &cloudcoin_tasks::Service, env: &Env, what: &str) {
    let task = only_task(service);
    assert!(!task.message.contains("returned"), "{what}: {}", task.message);
    match task.status {
        TaskStatus::Completed => {
            assert_eq!(coins_in(&env.folder("Default", "Sent")).len(), 6, "{what}");
        }
        TaskStatus::Error => {
            assert!(task.message.contains("needs attention"), "{what}: {}", task.message);
            assert!(task.message.contains(OUTPUT), "{what}: {}", task.message);
        }
        other => panic!("{what}: {other:?} after recovery"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_export_is_never_undone_when_its_output_is_unreachable_at_restart() {
    for step in SETTLING_STEPS {
        for how in ["folder renamed", "file moved away"] {
            let what = format!("{step}, {how}");
            let start = mixed_coins();
            let env = Env::with_bank(&start);
            assert!(run_child(&env, "export", "CLOUDCOIN_FAULT", step), "{what}: not reached");
            let away = beside(&env, "away");
            if how == "folder renamed" {
                std::fs::rename(&env.out, &away).expect("rename the folder");
            } else {
                std::fs::create_dir(&away).expect("mkdir");
                std::fs::rename(env.out.join(OUTPUT), away.join(OUTPUT)).expect("move the file");
            }
            let service = env.open().await;
            let w = service.wallet(&wallet("Default")).await.expect("wallet");
            assert_eq!(w.balance, amount("25.5"), "{what}: the exported coins became spendable");
            assert_never_returned(&service, &env, &what);
            drop(service);

            // The output comes back: the export is finished, once.
            if how == "folder renamed" {
                std::fs::rename(&away, &env.out).expect("rename back");
            } else {
                std::fs::rename(away.join(OUTPUT), env.out.join(OUTPUT)).expect("move back");
            }
            let service = env.open().await;
            assert_each_coin_once(&env, &start);
            let task = only_task(&service);
            assert_eq!(task.status, TaskStatus::Completed, "{what}: {}", task.message);
            let w = service.wallet(&wallet("Default")).await.expect("wallet");
            assert_eq!(w.balance, amount("25.5"), "{what}");
            assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty(), "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_while_settling_keeps_the_task_message_true_after_a_restart() {
    for step in SETTLING_STEPS {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        assert!(!run_child(&env, "export", "CLOUDCOIN_FAULT_IO", step), "{step} aborted");
        let (status, message) = task_on_disk(&env);
        if status == "error" {
            assert!(message.contains("was written"), "{step}: {message}");
        } else {
            assert_eq!(status, "completed", "{step}: {message}");
        }
        // The user believes the task and takes the file.
        let taken = beside(&env, "taken");
        std::fs::create_dir(&taken).expect("mkdir");
        std::fs::rename(env.out.join(OUTPUT), taken.join(OUTPUT)).expect("take the file");
        let service = env.open().await;
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        assert_eq!(w.balance, amount("25.5"), "{step}: coins in the taken file became spendable");
        assert_never_returned(&service, &env, step.as_str());
        if status == "completed" {
            assert_eq!(only_task(&service).status, TaskStatus::Completed, "{step}");
        }
        drop(service);
        std::fs::rename(taken.join(OUTPUT), env.out.join(OUTPUT)).expect("put it back");
        let service = env.open().await;
        assert_each_coin_once(&env, &start);
        assert_eq!(only_task(&service).status, TaskStatus::Completed, "{step}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_folder_fsync_error_stops_the_export_before_the_coins_move() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    // The fault stands for the folder's fsync failing after the link.
    assert!(!run_child(&env, "export", "CLOUDCOIN_FAULT_IO", FaultPoint::ExportAfterRename));
    assert!(files_in(&env.folder("Default", "Sent")).is_empty(), "coins moved to Sent");
    assert_eq!(all_names(&env.data.join(".cloudcoin/journal")).len(), 1, "record kept");
    let (status, message) = task_on_disk(&env);
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("was written") && message.contains(OUTPUT), "{message}");
    // The next start syncs the folder and finishes the export.
    let service = env.open().await;
    assert_each_coin_once(&env, &start);
    let task = only_task(&service);
    assert_eq!(task.status, TaskStatus::Completed, "{}", task.message);
    assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty());
}

/// Every file in `dir`, hidden ones included, that reads as coins.
pub(crate) fn readable_coin_files(dir: &Path) -> Vec<String> {
    all_names(dir)
        .into_iter()
        .filter(|n| {
            std::fs::read(dir.join(n)).is_ok_and(|b| {
                cloudcoin_codec::decode_any(&b, &cloudcoin_codec::Limits::default())
                    .is_ok_and(|c| !c.is_empty())
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_gone_read_only_before_publishing_leaves_no_readable_copy_of_returned_coins() {
    // Without and with the named-temporary fallback (file systems without O_TMPFILE).
    for named in [false, true] {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        let real = beside(&env, "real-out");
        std::fs::create_dir(&real).expect("mkdir");
        let Some(mount) = BindMount::new(&real, &env.out) else { return };
        let flag = beside(&env, "pause-flag");
        let flag_text = flag.to_string_lossy().into_owned();
        let mut vars = vec![
            ("CLOUDCOIN_PAUSE", FaultPoint::ExportAfterFsync.as_str()),
            ("CLOUDCOIN_PAUSE_FILE", flag_text.as_str()),
        ];
        if named {
            vars.push(("CLOUDCOIN_FAULT_NO_TMPFILE", "1"));
        }
        let mut child = child_command(&env, "export", &vars).spawn().expect("child");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !flag.exists() {
            assert!(child.try_wait().expect("wait").is_none(), "the child ended before the pause");
            assert!(std::time::Instant::now() < deadline, "the pause was never reached");
            std::thread::yield_now();
        }
        assert!(mount.set_read_only(true), "remount read-only");
        std::fs::remove_file(&flag).expect("resume");
        assert!(child.wait().expect("child").success());

        // The folder stays read-only (a failing stick); the server starts again.
        let service = env.open().await;
        let task = only_task(&service);
        let readable = readable_coin_files(&env.out);
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        if readable.is_empty() {
            assert!(task.message.contains("returned"), "named {named}: {}", task.message);
            assert_eq!(w.balance, amount("36"), "named {named}");
        } else {
            // A copy is still readable: its coins must not be spendable meanwhile.
            assert!(
                !task.message.contains("returned"),
                "named {named}: {readable:?}, {}",
                task.message
            );
            assert_eq!(
                w.balance,
                amount("25.5"),
                "named {named}: {readable:?} readable, coins spendable"
            );
        }
        drop(service);

        // Writable again: the copy goes, the coins come back, once.
        assert!(mount.set_read_only(false), "remount read-write");
        let service = env.open().await;
        assert!(readable_coin_files(&env.out).is_empty(), "named {named}");
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        assert_eq!(w.balance, amount("36"), "named {named}");
        assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty(), "named {named}");
        assert_each_coin_once(&env, &start);
        drop(service);
        drop(mount);
    }
}
