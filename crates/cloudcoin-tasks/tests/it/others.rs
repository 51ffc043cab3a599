//! Other file systems, other mounts, other programs sharing the wallet: the link-then-unlink
//! publication of file systems without `RENAME_NOREPLACE`, an output folder that is its own
//! mount and is detached mid-export, coin files moved between held folders by other software,
//! and a second server after the lock file is deleted (feature `fault-injection`; the mount
//! tests need root and say so when they cannot run).
#![cfg(feature = "fault-injection")]

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use cloudcoin_domain::{Coin, FileKind, Tag, single_coin_file_name};
use cloudcoin_tasks::{FaultPoint, OpenError, TaskStatus};

use crate::faults::{
    OUTPUT, assert_never_returned, beside, child_command, only_task, readable_coin_files,
};
use crate::support::*;

/// The child's environment for the link-then-unlink publication of a named temporary file.
const FALLBACK: [(&str, &str); 2] =
    [("CLOUDCOIN_FAULT_NO_TMPFILE", "1"), ("CLOUDCOIN_FAULT_NO_RENAME2", "1")];

/// The journal records left, as JSON.
fn journal_records(env: &Env) -> Vec<serde_json::Value> {
    let dir = env.data.join(".cloudcoin/journal");
    all_names(&dir)
        .into_iter()
        .filter(|n| n.ends_with(".json"))
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(n)).expect("record");
            serde_json::from_str(&text).expect("json")
        })
        .collect()
}

/// The coins of the journal's only export record, as `start` holds them.
fn journaled_coins(env: &Env, start: &[Coin]) -> Vec<Coin> {
    let records = journal_records(env);
    assert_eq!(records.len(), 1, "one export record");
    records[0]["coins"]
        .as_array()
        .expect("coins")
        .iter()
        .map(|c| {
            let (dn, sn) = (c["dn"].as_i64().expect("dn"), c["sn"].as_u64().expect("sn"));
            start
                .iter()
                .find(|s| i64::from(s.denomination.code()) == dn && u64::from(s.serial.get()) == sn)
                .expect("a coin of the wallet")
                .clone()
        })
        .collect()
}

fn file_name(coin: &Coin) -> String {
    single_coin_file_name(coin, &Tag::empty(), FileKind::Bin)
}

/// Moves the files of seven of the ten 0.1 coins to `Fracked` (the child's export of 10.5 then
/// takes coins from there), and returns the coins moved.
fn frack_some(env: &Env, start: &[Coin]) -> Vec<Coin> {
    let (bank, fracked) = (env.folder("Default", "Bank"), env.folder("Default", "Fracked"));
    std::fs::create_dir_all(&fracked).expect("Fracked");
    let moved: Vec<Coin> =
        start.iter().filter(|c| c.denomination.code() == -1).take(7).cloned().collect();
    for c in &moved {
        std::fs::rename(bank.join(file_name(c)), fracked.join(file_name(c))).expect("to Fracked");
    }
    moved
}

/// What a wallet that fixes fracked coins does: moves every file in `Fracked` to `Bank`.
fn unfrack_all(env: &Env) -> usize {
    let (bank, fracked) = (env.folder("Default", "Bank"), env.folder("Default", "Fracked"));
    let names = all_names(&fracked);
    for n in &names {
        std::fs::rename(fracked.join(n), bank.join(n)).expect("Fracked to Bank");
    }
    names.len()
}

/// Starts the child's export held at `step` until the returned flag file is removed; waits
/// until it is there.
fn paused_export(
    env: &Env,
    step: FaultPoint,
    extra: &[(&str, &str)],
) -> (std::process::Child, PathBuf) {
    let flag = beside(env, "pause-flag");
    let flag_text = flag.to_string_lossy().into_owned();
    let mut vars =
        vec![("CLOUDCOIN_PAUSE", step.as_str()), ("CLOUDCOIN_PAUSE_FILE", flag_text.as_str())];
    vars.extend_from_slice(extra);
    let mut child = child_command(env, "export", &vars).spawn().expect("child");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !flag.exists() {
        assert!(child.try_wait().expect("wait").is_none(), "the child ended before the pause");
        assert!(std::time::Instant::now() < deadline, "the pause was never reached");
        std::thread::yield_now();
    }
    (child, flag)
}

/// Violation 1: where the file system has no `RENAME_NOREPLACE`, the output is published by
/// `link(temp, final)` then `unlink(temp)`. A crash between the two leaves both names; the user
/// takes the final file. The temporary name still being there proves nothing: the coins are
/// never given back while the user may hold them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_link_and_unlink_never_returns_the_coins_the_user_took() {
    for how in ["renamed beside it", "copied away and deleted"] {
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        let mut vars = FALLBACK.to_vec();
        vars.push(("CLOUDCOIN_FAULT", FaultPoint::PublishAfterLink.as_str()));
        let status = child_command(&env, "export", &vars).status().expect("child runs");
        assert_eq!(status.signal(), Some(6), "{how}: the point between link and unlink");
        let names = all_names(&env.out);
        assert!(names.iter().any(|n| n == OUTPUT), "{how}: {names:?}");
        assert!(names.iter().any(|n| n.ends_with(".partial")), "{how}: {names:?}");

        // The user takes the file the moment it appears.
        let taken = beside(&env, "taken");
        std::fs::create_dir(&taken).expect("mkdir");
        if how == "renamed beside it" {
            std::fs::rename(env.out.join(OUTPUT), env.out.join("mine.zip")).expect("rename");
        } else {
            std::fs::copy(env.out.join(OUTPUT), taken.join(OUTPUT)).expect("copy");
            std::fs::remove_file(env.out.join(OUTPUT)).expect("remove");
        }
        let service = env.open().await;
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        let task = only_task(&service);
        assert_eq!(w.balance, amount("25.5"), "{how}: coins the user holds are spendable again");
        assert!(!task.message.contains("returned"), "{how}: {}", task.message);
        if how == "renamed beside it" {
            // The temporary name's file has a second name: it was linked. Finished, once.
            assert_eq!(task.status, TaskStatus::Completed, "{how}: {}", task.message);
            assert_each_coin_once(&env, &start);
            assert!(journal_records(&env).is_empty(), "{how}");
            assert!(readable_coin_files(&env.out) == ["mine.zip"], "{how}: temp left");
        } else {
            // Whether the link happened cannot be told: held back, never rolled back.
            assert_eq!(task.status, TaskStatus::Error, "{how}");
            assert!(task.message.contains("needs attention"), "{how}: {}", task.message);
            assert_eq!(journal_records(&env).len(), 1, "{how}: the record stays");
        }
    }
}

/// Violation 4: on the same fallback, the removal of the temporary name after a successful link
/// fails. The hidden complete copy of every exported coin must not outlive the journal record
/// that names it: the next start removes it, then the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_temporary_name_whose_removal_failed_is_removed_before_its_record() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let mut vars = FALLBACK.to_vec();
    vars.push(("CLOUDCOIN_FAULT_IO", FaultPoint::PublishUnlinkTemp.as_str()));
    assert!(child_command(&env, "export", &vars).status().expect("child runs").success());
    let hidden: Vec<String> =
        readable_coin_files(&env.out).into_iter().filter(|n| n.starts_with('.')).collect();
    let records = journal_records(&env);
    for temp in &hidden {
        assert!(
            records.iter().any(|r| r["temp"].as_str() == Some(temp)),
            "the hidden copy {temp} is named by no journal record: it would stay for good"
        );
    }
    let service = env.open().await;
    assert_eq!(readable_coin_files(&env.out), [OUTPUT], "the hidden copy is gone");
    assert!(journal_records(&env).is_empty());
    let task = only_task(&service);
    assert_eq!(task.status, TaskStatus::Completed, "{}", task.message);
    assert_each_coin_once(&env, &start);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("25.5"));
}

/// A tmpfs mounted on `at`, lazily unmounted when dropped if still mounted.
struct Tmpfs {
    at: PathBuf,
}

impl Tmpfs {
    fn new(at: &Path) -> Option<Tmpfs> {
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=16m", "cloudcoin-test"])
            .arg(at)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { at: at.to_path_buf() }),
            Ok(o) => {
                skip(&format!("mount -t tmpfs failed: {}", String::from_utf8_lossy(&o.stderr)));
                None
            }
            Err(e) => {
                skip(&format!("mount cannot run: {e}"));
                None
            }
        }
    }

    /// `umount -l`: the mount leaves the tree now, and its file system goes once nothing holds
    /// it open.
    fn detach(&self) -> bool {
        std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Every coin of `start` is somewhere a person can reach: a held folder of the wallet, or a
/// readable file in `out` (or `Sent` together with one).
fn assert_nothing_lost(env: &Env, start: &[Coin], what: &str) {
    let mut found = Vec::new();
    for f in ["Bank", "Fracked", "Limbo", "Suspect"] {
        found.extend(coins_in(&env.folder("Default", f)));
    }
    if env.out.is_dir() {
        found.extend(coins_in(&env.out));
    }
    let missing: Vec<_> = ids(start).difference(&ids(&found)).copied().collect();
    assert!(missing.is_empty(), "{what}: coins nowhere to be reached: {missing:?}");
}

/// Violation 2: the output folder is its own mount (a stick, a RAM disk) and is lazily
/// unmounted while the export runs. The file linked through the held handle is on a detached
/// file system that vanishes with the handle: the export must not report it and move the coins
/// to Sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_into_a_mount_detached_mid_export_loses_nothing() {
    for (step, named) in
        [(FaultPoint::ExportAfterFsync, false), (FaultPoint::ExportAfterFsync, true)]
    {
        let what = format!("{step}, named {named}");
        let start = mixed_coins();
        let env = Env::with_bank(&start);
        let Some(mount) = Tmpfs::new(&env.out) else { return };
        let extra: &[(&str, &str)] = if named { &FALLBACK[..1] } else { &[] };
        let (mut child, flag) = paused_export(&env, step, extra);
        assert!(mount.detach(), "{what}: umount -l");
        std::fs::remove_file(&flag).expect("resume");
        assert!(child.wait().expect("child").success(), "{what}");
        drop(mount);
        // The detached file system is gone with the child's handle.
        assert_nothing_lost(&env, &start, &what);
        assert!(files_in(&env.folder("Default", "Sent")).is_empty(), "{what}: coins in Sent");

        let service = env.open().await;
        assert_nothing_lost(&env, &start, &what);
        let task = only_task(&service);
        assert_ne!(task.status, TaskStatus::Completed, "{what}: {}", task.message);
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        assert!(w.balance == amount("25.5") || w.balance == amount("36"), "{what}: {}", w.balance);
    }
}

/// Violation 3 (b): the server dies after the export is committed, and while it is down another
/// program sharing the wallet moves the exported coins' files from `Fracked` to `Bank`. The
/// roll-forward must find them there and move them to `Sent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coins_moved_between_held_folders_while_the_server_is_down_still_go_to_sent() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    frack_some(&env, &start);
    let status = child_command(
        &env,
        "export",
        &[("CLOUDCOIN_FAULT", FaultPoint::ExportAfterCommit.as_str())],
    )
    .status()
    .expect("child runs");
    assert_eq!(status.signal(), Some(6));
    assert!(unfrack_all(&env) > 0, "the export took fracked coins");
    let service = env.open().await;
    assert_each_coin_once(&env, &start);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("25.5"));
    assert_eq!(only_task(&service).status, TaskStatus::Completed);
}

/// Violation 3 (c): the same move during a running export, after its scan for stray copies; no
/// crash at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coins_moved_between_held_folders_during_an_export_still_go_to_sent() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    frack_some(&env, &start);
    let (mut child, flag) = paused_export(&env, FaultPoint::ExportAfterFsync, &[]);
    assert!(unfrack_all(&env) > 0, "the export took fracked coins");
    std::fs::remove_file(&flag).expect("resume");
    assert!(child.wait().expect("child").success());
    let service = env.open().await;
    assert_each_coin_once(&env, &start);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("25.5"));
}

/// Violation 3 (a): an export held back for attention (its file cannot be seen at a restart);
/// meanwhile a copy of one of its coins appears in `Bank` under a name the start-up scan keeps,
/// so the export's own file of the coin goes to `Trash`. When the file comes back, the
/// roll-forward must move the copy the wallet holds, not take the missing file for moved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_back_export_moves_the_copy_the_scan_kept() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let status = child_command(
        &env,
        "export",
        &[("CLOUDCOIN_FAULT", FaultPoint::ExportAfterRename.as_str())],
    )
    .status()
    .expect("child runs");
    assert_eq!(status.signal(), Some(6));
    let away = beside(&env, "away");
    std::fs::create_dir(&away).expect("mkdir");
    std::fs::rename(env.out.join(OUTPUT), away.join(OUTPUT)).expect("move the file away");
    let bank = env.folder("Default", "Bank");
    let exported = journaled_coins(&env, &start);
    // "0 copy.bin" sorts before every conventional name: the scan keeps it.
    std::fs::copy(bank.join(file_name(&exported[0])), bank.join("0 copy.bin")).expect("copy");

    let service = env.open().await;
    assert_never_returned(&service, &env, "held");
    assert!(!bank.join(file_name(&exported[0])).exists(), "the scan kept the copy");
    drop(service);

    std::fs::rename(away.join(OUTPUT), env.out.join(OUTPUT)).expect("the file comes back");
    let service = env.open().await;
    assert_eq!(only_task(&service).status, TaskStatus::Completed);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("25.5"), "the copy stayed spendable");
    let held: Vec<Coin> = ["Bank", "Fracked", "Limbo", "Suspect"]
        .iter()
        .flat_map(|f| coins_in(&env.folder("Default", f)))
        .collect();
    assert!(ids(&held).is_disjoint(&ids(&exported)), "an exported coin is still held");
}

/// Two owners: the one-owner lock must hold even when the lock file is deleted from under the
/// running service.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_service_is_refused_after_the_lock_file_is_deleted() {
    let env = Env::with_bank(&mixed_coins());
    let first = env.open().await;
    let lock = env.data.join(".cloudcoin/lock");
    if lock.exists() {
        std::fs::remove_file(&lock).expect("delete the lock file");
    }
    let config = env.config();
    let second = tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config))
        .await
        .expect("join");
    assert!(
        matches!(second, Err(OpenError::Locked { .. })),
        "a second owner opened the data directory: {:?}",
        second.as_ref().err()
    );
    drop(first);
}

/// A finished task's outcome is shown only once it is on disk: with the disk refusing the
/// task's record, an import that stored every coin must not read `completed` and then, after a
/// restart, `error: interrupted`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_shows_no_outcome_a_restart_would_change() {
    let source = mixed_coins();
    let env = Env::with_bank(&[]);
    std::fs::create_dir_all(env.folder("B", "Bank")).expect("wallet B");
    let bytes = cloudcoin_codec::encode_bin(&source).expect("encode");
    std::fs::write(env.out.join("source.bin"), bytes).expect("source");
    let vars = [("CLOUDCOIN_FAULT_IO", FaultPoint::TaskRecordOutcome.as_str())];
    assert!(child_command(&env, "import-watch", &vars).status().expect("child").success());
    let seen = std::fs::read_to_string(env.out.join("seen.txt")).expect("seen.txt");
    let (status, message) = seen.split_once('\n').expect("status and message");

    let service = env.open().await;
    let after = only_task(&service);
    assert_eq!(ids(&coins_in(&env.folder("B", "Bank"))), ids(&source), "every coin stored");
    if status == "Running" {
        assert!(message.contains("cannot be recorded"), "{message}");
    } else {
        assert_eq!(
            (format!("{:?}", after.status), after.message.as_str()),
            (status.to_owned(), message),
            "the task read {status} ({message}) before a restart"
        );
    }
}

/// The same detach with a bind mount (a stick whose files stay on it): the export holds its coins
/// back while the file cannot be reached, and once the stick is plugged in again at the same
/// place, the next start finds the file where the journal says and finishes the export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_into_a_detached_bind_mount_finishes_once_it_is_plugged_in_again() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let stick = beside(&env, "stick");
    std::fs::create_dir(&stick).expect("mkdir");
    let Some(mount) = BindMount::new(&stick, &env.out) else { return };
    let (mut child, flag) = paused_export(&env, FaultPoint::ExportAfterFsync, &[]);
    drop(mount); // umount -l
    std::fs::remove_file(&flag).expect("resume");
    assert!(child.wait().expect("child").success());
    assert!(files_in(&env.folder("Default", "Sent")).is_empty(), "coins in Sent");
    assert_eq!(readable_coin_files(&stick), [OUTPUT], "the file is on the stick");

    let Some(_again) = BindMount::new(&stick, &env.out) else { return };
    let service = env.open().await;
    let task = only_task(&service);
    assert_eq!(task.status, TaskStatus::Completed, "{}", task.message);
    assert_each_coin_once(&env, &start);
    assert!(journal_records(&env).is_empty());
}

/// A published export's coins are already in `Sent` when the server dies (after the move, before
/// the record is removed), and the user has imported the published file again meanwhile: the
/// wallet holds the same coins, with the same keys, under their usual names in `Bank`. The
/// roll-forward finds the recorded files in `Sent` — moved already — and must leave the imported
/// coins where they are: moving them to `Sent` too would lose them (they are in no output any
/// more: the user took that file back into the wallet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_forward_export_leaves_its_coins_imported_again_in_the_wallet() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let status =
        child_command(&env, "export", &[("CLOUDCOIN_FAULT", FaultPoint::ExportAfterMove.as_str())])
            .status()
            .expect("child runs");
    assert_eq!(status.signal(), Some(6));
    let sent = env.folder("Default", "Sent");
    let exported = coins_in(&sent);
    assert!(!exported.is_empty(), "the coins were moved to Sent before the crash");
    // The user imports the published file back: each coin is stored under its usual name.
    let bank = env.folder("Default", "Bank");
    for c in &exported {
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("encode");
        std::fs::write(bank.join(file_name(c)), bytes).expect("imported again");
    }
    for f in files_in(&env.out) {
        std::fs::remove_file(f).expect("the user took the file");
    }
    let service = env.open().await;
    let mut held = Vec::new();
    for f in ["Bank", "Fracked", "Limbo", "Suspect"] {
        held.extend(coins_in(&env.folder("Default", f)));
    }
    let lost: Vec<_> = ids(&exported).difference(&ids(&held)).copied().collect();
    assert!(lost.is_empty(), "coins imported again were moved to Sent: {lost:?}");
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("36"));
}
