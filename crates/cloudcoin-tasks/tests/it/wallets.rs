//! Opening the data directory, wallets, the lock, idempotency and durable tasks.

use cloudcoin_domain::{Denomination, FileKind};
use cloudcoin_tasks::{OpenError, Service, ServiceError, TaskStatus};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_creates_the_layout_and_default() {
    let env = Env::with_bank(&[]);
    std::fs::remove_dir_all(&env.data).expect("start from nothing");
    let service = env.open().await;
    for f in [
        "Bank",
        "Fracked",
        "Counterfeit",
        "Limbo",
        "Import",
        "Imported",
        "Sent",
        "Suspect",
        "Trash",
        "Receipts",
    ] {
        assert!(env.folder("Default", f).is_dir(), "{f}");
    }
    assert!(env.data.join("Wallets/Default/transactions.csv").is_file());
    let list = service.list_wallets().await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].name.as_str(), list[0].coins), ("Default", 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_owner_is_refused_until_the_first_closes() {
    let env = Env::with_bank(&[]);
    let first = env.open().await;
    let config = env.config();
    let second = tokio::task::spawn_blocking(move || Service::open(config)).await.expect("join");
    let e = second.expect_err("locked");
    assert!(matches!(&e, OpenError::Locked { data_dir } if data_dir == &env.data), "{e}");
    assert!(e.to_string().contains(&env.data.display().to_string()));
    drop(first);
    let _third = env.open().await;
}

/// A process that starts other programs lends each child a copy of its open files between the
/// fork and the exec, the lock file included. A service closed and opened again in that instant
/// is not "locked by another owner": the open waits the instant out.
#[test]
fn a_service_reopened_while_the_process_starts_programs_is_not_locked() {
    let env = Env::with_bank(&[]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spawners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::process::Command::new("true").status();
                }
            })
        })
        .collect();
    let mut locked = 0;
    for _ in 0..300 {
        match Service::open(env.config()) {
            Ok(service) => drop(service),
            Err(OpenError::Locked { .. }) => locked += 1,
            Err(e) => panic!("open: {e}"),
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in spawners {
        s.join().expect("spawner");
    }
    assert_eq!(locked, 0, "{locked} of 300 opens were refused as locked by nobody");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_dropped_coins_count_and_foreign_files_stay() {
    let mut start = mixed_coins();
    let env = Env::with_bank(&start);
    let fracked = env.folder("Default", "Fracked");
    std::fs::create_dir_all(&fracked).expect("mkdir");
    let extra = coin(2, 9);
    std::fs::write(
        fracked.join("whatever name.bin"),
        cloudcoin_codec::encode_bin(std::slice::from_ref(&extra)).expect("encode"),
    )
    .expect("write");
    start.push(extra);
    let notes = env.folder("Default", "Bank").join("notes.txt");
    std::fs::write(&notes, b"not a coin").expect("write");
    let key = coin(11, 1); // not money: held but never counted or spent
    std::fs::write(
        env.folder("Default", "Bank").join("key.bin"),
        cloudcoin_codec::encode_bin(std::slice::from_ref(&key)).expect("encode"),
    )
    .expect("write");

    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("136"));
    assert_eq!(w.coins, 19);
    assert_eq!(w.denominations[&Denomination::from_code(2)], 1);
    assert_eq!(w.denominations[&Denomination::from_code(-1)], 10);
    assert!(!w.denominations.contains_key(&Denomination::from_code(11)));
    assert_eq!(w.folders["Fracked"], 1);
    let task = service
        .start_export(env.export_request("100", FileKind::Bin))
        .await
        .expect("fracked coins spend");
    assert_eq!(finished(&service, task.id).await.status, TaskStatus::Completed);
    assert!(notes.exists(), "foreign files are left alone");
    assert!(env.folder("Default", "Bank").join("key.bin").exists());
    let e = service.delete_wallet(&wallet("Default")).await.expect_err("still holds coins");
    assert!(matches!(e, ServiceError::WalletNotEmpty { .. }), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_are_created_listed_and_deleted_when_empty() {
    let env = Env::with_bank(&mixed_coins());
    let service = env.open().await;
    let b = wallet("Savings 2");
    let created = service.create_wallet(&b).await.expect("create");
    assert_eq!(created.coins, 0);
    assert!(created.balance.is_zero());
    assert!(matches!(service.create_wallet(&b).await, Err(ServiceError::WalletExists { .. })));
    let names: Vec<String> =
        service.list_wallets().await.expect("list").iter().map(|w| w.name.to_string()).collect();
    assert_eq!(names, vec!["Default".to_owned(), "Savings 2".to_owned()]);
    service.delete_wallet(&b).await.expect("empty wallet deleted");
    assert!(!env.data.join("Wallets/Savings 2").exists());
    assert!(matches!(service.wallet(&b).await, Err(ServiceError::WalletNotFound { .. })));
    assert!(matches!(service.delete_wallet(&b).await, Err(ServiceError::WalletNotFound { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_gives_the_same_task_even_after_a_restart() {
    let env = Env::with_bank(&mixed_coins());
    let service = env.open().await;
    let mut req = env.export_request("10.5", FileKind::Png);
    req.idempotency_key = Some("order-17".to_owned());
    let first = service.start_export(req.clone()).await.expect("first");
    let again = service.start_export(req.clone()).await.expect("retry");
    assert_eq!(first.id, again.id);
    let mut other = req.clone();
    other.amount = amount("1");
    let e = service.start_export(other.clone()).await.expect_err("different request");
    assert!(matches!(e, ServiceError::IdempotencyConflict { ref key } if key == "order-17"), "{e}");
    finished(&service, first.id).await;
    drop(service);

    let service = env.open().await;
    let after = service.start_export(req).await.expect("retry after restart");
    assert_eq!(after.id, first.id);
    assert_eq!(after.status, TaskStatus::Completed);
    assert!(service.start_export(other).await.is_err());
    assert_eq!(files_in(&env.out).len(), 1, "one file written");
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("25.5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_survive_a_restart_newest_first() {
    let env = Env::with_bank(&mixed_coins());
    let service = env.open().await;
    let a = service.start_export(env.export_request("1", FileKind::Bin)).await.expect("a");
    finished(&service, a.id).await;
    let b = service.start_export(env.export_request("2", FileKind::Stack)).await.expect("b");
    finished(&service, b.id).await;
    drop(service);
    let service = env.open().await;
    let ids: Vec<_> = service.tasks().iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![b.id, a.id]);
    assert_eq!(service.task(a.id).map(|t| t.status), Some(TaskStatus::Completed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_dropped_in_import_are_stored_at_start() {
    let env = Env::with_bank(&[coin(0, 1)]);
    let import_dir = env.folder("Default", "Import");
    std::fs::create_dir_all(&import_dir).expect("mkdir");
    // A file holding one coin the wallet has and two it does not.
    let dropped = vec![coin(0, 1), coin(1, 2), coin(-1, 3)];
    std::fs::write(
        import_dir.join("gift.bin"),
        cloudcoin_codec::encode_bin(&dropped).expect("encode"),
    )
    .expect("write");
    std::fs::write(import_dir.join("readme.txt"), b"not coins").expect("write");

    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("11.1"));
    assert_eq!(ids(&coins_in(&env.folder("Default", "Bank"))), ids(&dropped));
    assert_eq!(all_names(&import_dir), vec!["readme.txt".to_owned()], "foreign files stay");
    assert_eq!(all_names(&env.folder("Default", "Imported")), vec!["gift.bin".to_owned()]);
    drop(service);
    let service = env.open().await;
    let again = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!((again.balance, again.coins), (amount("11.1"), 3), "nothing picked up twice");
}

/// A Bank large enough to be read by several threads, with what other software or a person may
/// leave beside the coins: the start-up indexes exactly the files holding one coin, leaves every
/// other file where it is, and cleans up only its own temporary names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_bank_with_foreign_and_temporary_files_is_read_whole() {
    let coins: Vec<_> = (1..=300).map(|sn| coin(0, sn)).collect();
    let env = Env::with_bank(&coins);
    let bank = env.folder("Default", "Bank");
    let before = all_names(&bank);
    let put = |name: &str, bytes: &[u8]| std::fs::write(bank.join(name), bytes).expect("write");
    let bin = |c: &[cloudcoin_domain::Coin]| cloudcoin_codec::encode_bin(c).expect("encode");
    let task = "0f5d1a52-4c3e-4b8e-9a77-2f1e0c3b6a11";
    let foreign = [
        ("notes.txt", b"not a coin".to_vec()),
        ("two coins.bin", bin(&[coin(1, 900), coin(1, 901)])),
        ("empty.bin", Vec::new()),
        ("my ten.bin", bin(&[coin(1, 902)])),
        (".hidden ten.bin", bin(&[coin(1, 903)])),
    ];
    for (name, bytes) in &foreign {
        put(name, bytes);
    }
    // Left by an interrupted pick-up; left by an import, of a coin held; and of one not held.
    put(".gift.bin.pickup.partial", &bin(&[coin(1, 905)]));
    put(&format!(".1 CloudCoin #1 ''.bin.{task}.partial"), &bin(&[coins[0].clone()]));
    put(&format!(".stray.bin.{task}.partial"), &bin(&[coin(1, 904)]));
    std::fs::create_dir(bank.join("folder.bin")).expect("mkdir");
    std::os::unix::fs::symlink(bank.join("my ten.bin"), bank.join("link.bin")).expect("symlink");

    for _ in 0..2 {
        let service = env.open().await;
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        assert_eq!((w.balance, w.coins), (amount("310"), 301), "the single coins, once each");
        let mut expected = before.clone();
        expected.extend(foreign.iter().map(|(name, _)| (*name).to_owned()));
        expected.extend(["folder.bin".to_owned(), "link.bin".to_owned()]);
        expected.sort();
        assert_eq!(all_names(&bank), expected, "foreign files stay, temporary names go");
        let trash = all_names(&env.folder("Default", "Trash"));
        assert_eq!(trash, vec![format!("stray.bin.{task}.partial")], "not a coin held: kept");
    }
}

/// A coin file put in `Bank` by hand or by other software under a name that is not UTF-8: the
/// wallet cannot name it again, so spending it would leave the file in `Bank` while the coin is in
/// the output — spendable again at the next start. Whatever the wallet does with it, the coin ends
/// up in exactly one place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coin_file_whose_name_is_not_utf8_is_never_in_two_places() {
    use std::os::unix::ffi::OsStrExt;
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let odd = coin(2, 500);
    let name = std::ffi::OsStr::from_bytes(b"100 CloudCoin #500 \xff.bin");
    let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&odd)).expect("encode");
    std::fs::write(env.folder("Default", "Bank").join(name), bytes).expect("write");
    let mut all = start.clone();
    all.push(odd);

    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    if let Ok(view) = service.start_export(env.export_request("100", FileKind::Bin)).await {
        finished(&service, view.id).await;
    }
    drop(service);
    let service = env.open().await;
    assert_each_coin_once(&env, &all);
    let again = service.wallet(&wallet("Default")).await.expect("wallet");
    let exported = !all_names(&env.out).is_empty();
    let spent = if exported { amount("100") } else { cloudcoin_domain::Amount::ZERO };
    assert_eq!(again.balance.checked_add(spent), Some(w.balance), "no coin counted after it left");
}

fn put_coin(dir: &std::path::Path, name: &str, coin: &cloudcoin_domain::Coin) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin)).expect("encode");
    std::fs::write(dir.join(name), bytes).expect("write coin");
}

/// Every coin file in the wallet's held folders, as (folder, coin).
fn held_copies(env: &Env) -> Vec<(&'static str, cloudcoin_domain::Coin)> {
    let mut all = Vec::new();
    for f in ["Bank", "Fracked", "Limbo", "Suspect"] {
        all.extend(coins_in(&env.folder("Default", f)).into_iter().map(|c| (f, c)));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coin_held_in_two_files_is_one_coin() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    // The same 10 in Fracked too, as other software sharing the folders might leave it, with a
    // worse POWN than the Bank copy.
    let mut copy = start[0].clone();
    copy.pown[3] = cloudcoin_domain::Pown::Fail;
    put_coin(&env.folder("Default", "Fracked"), "copy of a ten.bin", &copy);

    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!((w.balance, w.coins), (amount("36"), 18), "counted once");
    let held = held_copies(&env);
    let where_: Vec<String> = held.iter().map(|(f, c)| format!("{f}/{}", c.id())).collect();
    assert_eq!(held.len(), 18, "one file per coin in the held folders: {where_:?}");
    assert!(held.iter().any(|(f, c)| *f == "Bank" && *c == start[0]), "the best POWN is kept");
    assert_eq!(
        coins_in(&env.folder("Default", "Trash")),
        vec![copy],
        "the other copy is kept, in Trash, not deleted"
    );

    // Spend everything; after a restart nothing is spendable again.
    let task = service.start_export(env.export_request("36", FileKind::Zip)).await.expect("export");
    assert_eq!(finished(&service, task.id).await.status, TaskStatus::Completed);
    drop(service);
    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(
        (w.balance, w.coins),
        (cloudcoin_domain::Amount::ZERO, 0),
        "a copy became spendable again"
    );
    assert!(held_copies(&env).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_coin_id_in_two_files_with_different_ans_is_never_spendable_twice() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let mut other = start[0].clone();
    other.ans[7] = [0x77; 16];
    put_coin(&env.folder("Default", "Fracked"), "same id other keys.bin", &other);

    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(
        (w.balance, w.coins),
        (amount("26"), 17),
        "which keys are live is unknown: neither version is spendable"
    );
    let suspect = coins_in(&env.folder("Default", "Suspect"));
    let trash = coins_in(&env.folder("Default", "Trash"));
    let mut kept: Vec<_> = suspect.iter().chain(&trash).cloned().collect();
    kept.sort_by_key(|c| c.ans);
    let mut both = vec![start[0].clone(), other.clone()];
    both.sort_by_key(|c| c.ans);
    assert_eq!(kept, both, "both versions are kept (one held in Suspect), none deleted");
    assert_eq!(suspect.len(), 1);
    assert!(held_copies(&env).iter().filter(|(_, c)| c.id() == other.id()).count() == 1);
    let e = service.start_export(env.export_request("36", FileKind::Bin)).await;
    assert!(e.is_err(), "the conflicting coin cannot be spent");
    drop(service);
    let service = env.open().await;
    let again = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!((again.balance, again.coins), (amount("26"), 17), "stable across restarts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_dropped_in_while_running_leaves_with_the_export() {
    let start = vec![coin(1, 1), coin(0, 2)];
    let env = Env::with_bank(&start);
    let service = env.open().await;
    put_coin(&env.folder("Default", "Fracked"), "dropped copy.bin", &start[0]);
    let task = service.start_export(env.export_request("10", FileKind::Bin)).await.expect("export");
    assert_eq!(finished(&service, task.id).await.status, TaskStatus::Completed);
    drop(service);
    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!((w.balance, w.coins), (amount("1"), 1), "the exported coin came back");
}

/// Child side of the create/delete race (feature `fault-injection`): a delete is held just before
/// it moves the wallet's folder away; a create of the same name runs meanwhile; then the delete
/// goes on. Writes what it sees to `CHILD_OUT/seen`: whether the wallet is listed, and whether
/// its folder is there.
#[cfg(feature = "fault-injection")]
#[test]
fn create_during_delete_child() {
    let Ok(data) = std::env::var("WALLET_RACE_DATA") else { return };
    let out = std::path::PathBuf::from(std::env::var("WALLET_RACE_OUT").expect("out"));
    let flag = std::path::PathBuf::from(std::env::var("CLOUDCOIN_PAUSE_FILE").expect("flag"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let config = cloudcoin_tasks::ServiceConfig::new(data)
            .with_task_retention(std::time::Duration::from_secs(3600));
        let service = Service::open(config).expect("open");
        let name = wallet("Racy");
        service.create_wallet(&name).await.expect("created");
        let (s, n) = (service.clone(), name.clone());
        let delete = tokio::spawn(async move { s.delete_wallet(&n).await });
        while !flag.exists() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        // The delete is held before its move. A create that completes now, before the delete
        // goes on, is the race; a create that waits for the delete is the fix (2 s is ample for a
        // create that does not wait, and the check below holds either way).
        let (s, n) = (service.clone(), name.clone());
        let mut create = tokio::spawn(async move { s.create_wallet(&n).await.map(|_| ()) });
        let early = tokio::time::timeout(std::time::Duration::from_secs(2), &mut create).await;
        std::fs::remove_file(&flag).expect("let the delete go on");
        let _ = delete.await.expect("join");
        if early.is_err() {
            let _ = create.await.expect("join");
        }
        let listed = service.list_wallets().await.expect("list").iter().any(|w| w.name == name);
        let folder = service.data_dir().join("Wallets/Racy/Bank").is_dir();
        std::fs::write(out.join("seen"), format!("listed {listed} folder {folder}")).expect("seen");
    });
}

#[cfg(feature = "fault-injection")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_racing_a_delete_never_leaves_a_listed_wallet_without_its_folder() {
    let env = Env::with_bank(&[]);
    let flag = env.out.join("paused");
    let status = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "wallets::create_during_delete_child", "--test-threads=1", "--quiet"])
        .env("WALLET_RACE_DATA", &env.data)
        .env("WALLET_RACE_OUT", &env.out)
        .env("CLOUDCOIN_PAUSE", cloudcoin_tasks::FaultPoint::WalletDeleteMove.as_str())
        .env("CLOUDCOIN_PAUSE_FILE", &flag)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("child runs");
    assert!(status.success(), "the child failed: {status}");
    let seen = std::fs::read_to_string(env.out.join("seen")).expect("the child reports");
    assert!(
        seen == "listed true folder true" || seen == "listed false folder false",
        "a listed wallet must have its folder and an unlisted one none: {seen}"
    );
    // A listed wallet works after the race: it can be deleted (no 500).
    let service = env.open().await;
    if seen == "listed true folder true" {
        service.delete_wallet(&wallet("Racy")).await.expect("deletes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_create_and_delete_never_leave_a_listed_wallet_without_its_folder() {
    let env = Env::with_bank(&[]);
    let service = env.open().await;
    let name = wallet("Racy");
    let folder = env.data.join("Wallets/Racy");
    for round in 0..20 {
        let (a, b) = (service.clone(), service.clone());
        let (n1, n2) = (name.clone(), name.clone());
        let delete = tokio::spawn(async move { b.delete_wallet(&n2).await });
        let create = tokio::spawn(async move { a.create_wallet(&n1).await.map(|_| ()) });
        let _ = (create.await.expect("join"), delete.await.expect("join"));
        let listed = service.list_wallets().await.expect("list").iter().any(|w| w.name == name);
        assert_eq!(
            listed,
            folder.join("Bank").is_dir(),
            "round {round}: listed {listed}, folder present {}",
            folder.join("Bank").is_dir()
        );
        if listed && round % 2 == 0 {
            service.delete_wallet(&name).await.expect("a listed empty wallet deletes");
        }
    }
}
