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
    assert_eq!(w.per_denomination[&Denomination::from_code(2)], 1);
    assert_eq!(w.per_denomination[&Denomination::from_code(-1)], 10);
    assert!(!w.per_denomination.contains_key(&Denomination::from_code(11)));
    assert_eq!(w.per_folder["Fracked"], 1);
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
