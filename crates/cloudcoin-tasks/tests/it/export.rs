//! Export: every kind, the whole balance, taken names, concurrency, refusals.

use cloudcoin_domain::{Amount, FileKind, SelectError, total_value};
use cloudcoin_tasks::{FolderProblem, ServiceError, TaskOutcome, TaskStatus};
use proptest::prelude::*;

use crate::support::*;

async fn export_and_check(amount_text: &str, kind: FileKind, expected_name: &str, count: usize) {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let service = env.open().await;
    let task = service.start_export(env.export_request(amount_text, kind)).await.expect("started");
    assert_eq!(task.status, TaskStatus::Running);
    let done = finished(&service, task.id).await;
    assert_eq!(done.status, TaskStatus::Completed, "{kind}: {}", done.message);
    assert_eq!(done.message, "Export completed successfully");
    assert_eq!(done.progress, 100);
    assert!(done.finished.is_some_and(|at| at >= done.started && at > 0));
    let Some(TaskOutcome::Export(result)) = done.outcome else { panic!("no export result") };

    let file = env.out.join(expected_name);
    assert_eq!(result.file, file, "{kind}");
    assert_eq!(all_names(&env.out), vec![expected_name.to_owned()], "nothing else in the folder");
    let bytes = std::fs::read(&file).expect("the file exists");
    let coins = cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default())
        .expect("it decodes");
    assert_eq!(coins.len(), count);
    assert_eq!(result.coins, count as u64);
    assert_eq!(total_value(&coins), Some(amount(amount_text)));
    assert_eq!(result.amount, amount(amount_text));
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(result.sha256, digest);

    // The coins left the wallet for Sent; the balance dropped by exactly the amount.
    assert_eq!(ids(&coins_in(&env.folder("Default", "Sent"))), ids(&coins));
    assert_each_coin_once(&env, &start);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    let expected = amount("36").checked_sub(amount(amount_text)).expect("within balance");
    assert_eq!(w.balance, expected);
    assert_eq!(w.folders["Sent"], count as u64);
    assert_eq!(w.folders["Bank"], (start.len() - count) as u64);

    let csv = std::fs::read_to_string(env.data.join("Wallets/Default/transactions.csv"))
        .expect("transactions.csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[1].contains(",export,") && rows[1].contains(&task.id.to_string()), "{csv}");
    let receipt = env.folder("Default", "Receipts").join(format!("{}.json", task.id));
    let receipt = std::fs::read_to_string(receipt).expect("a receipt");
    assert!(receipt.contains(&result.sha256));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_10_5_in_every_kind() {
    for kind in FileKind::ALL {
        let name = format!("10.5 CloudCoin #6 'trade'.{}", kind.extension());
        export_and_check("10.5", kind, &name, 6).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_the_whole_balance_in_every_kind() {
    for kind in FileKind::ALL {
        let name = format!("36 CloudCoin #18 'trade'.{}", kind.extension());
        export_and_check("36", kind, &name, 18).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_coin_gets_the_single_coin_name() {
    let env = Env::with_bank(&[coin(3, 7998)]);
    let service = env.open().await;
    let task =
        service.start_export(env.export_request("1000", FileKind::Bin)).await.expect("start");
    let done = finished(&service, task.id).await;
    let Some(TaskOutcome::Export(result)) = done.outcome else { panic!("{}", done.message) };
    assert_eq!(result.file, env.out.join("1,000 CloudCoin #7998 'trade'.bin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_gets_a_number_and_the_old_file_stays() {
    let env = Env::with_bank(&mixed_coins());
    let taken = env.out.join("10.5 CloudCoin #6 'trade'.zip");
    std::fs::write(&taken, b"someone else's file").expect("write");
    let service = env.open().await;
    let task =
        service.start_export(env.export_request("10.5", FileKind::Zip)).await.expect("start");
    let done = finished(&service, task.id).await;
    let Some(TaskOutcome::Export(result)) = done.outcome else { panic!("{}", done.message) };
    assert_eq!(result.file, env.out.join("10.5 CloudCoin #6 'trade' (2).zip"));
    assert_eq!(std::fs::read(&taken).expect("still there"), b"someone else's file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_under_the_name_or_a_numbered_name_is_refused_and_nothing_reserved() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let target = env.out.join("elsewhere");
    let service = env.open().await;
    // A link under the name itself, then (with a regular file under the name) under ` (2)`.
    for (regular, link) in [
        (None, "10.5 CloudCoin #6 'trade'.bin"),
        (Some("10.5 CloudCoin #6 'trade'.bin"), "10.5 CloudCoin #6 'trade' (2).bin"),
    ] {
        for name in all_names(&env.out) {
            std::fs::remove_file(env.out.join(name)).expect("clean");
        }
        if let Some(regular) = regular {
            std::fs::write(env.out.join(regular), b"someone else's file").expect("write");
        }
        std::os::unix::fs::symlink(&target, env.out.join(link)).expect("symlink");
        let before = all_names(&env.out);
        let e = service
            .start_export(env.export_request("10.5", FileKind::Bin))
            .await
            .expect_err("refused");
        let ServiceError::Folder { problem, .. } = &e else { panic!("{e}") };
        assert!(
            matches!(problem, FolderProblem::LinkedName { name } if name.as_str() == link),
            "{problem:?}"
        );
        let problem = problem.to_string();
        assert!(problem.contains(&format!("symbolic link named '{link}'")), "{problem}");
        assert!(problem.contains("remove it or choose another folder"), "{problem}");
        assert_eq!(all_names(&env.out), before, "nothing written");
        assert!(!target.exists(), "nothing written through the link");
        assert!(service.tasks().is_empty(), "no task");
        let w = service.wallet(&wallet("Default")).await.expect("wallet");
        assert_eq!(w.balance, amount("36"), "nothing stays reserved");
    }
    for name in all_names(&env.out) {
        std::fs::remove_file(env.out.join(name)).expect("clean");
    }
    assert_each_coin_once(&env, &start);

    // The same for a backup's name.
    let backup = service
        .start_backup(
            cloudcoin_tasks::BackupRequest::new(wallet("Default"), env.out.clone())
                .with_tag(tag("b")),
        )
        .await;
    assert!(backup.is_ok(), "no link yet");
    service.shutdown().await;
    let zip = "36 CloudCoin #18 'b'.zip";
    std::fs::remove_file(env.out.join(zip)).expect("the backup was written");
    std::os::unix::fs::symlink(&target, env.out.join(zip)).expect("symlink");
    let e = service
        .start_backup(
            cloudcoin_tasks::BackupRequest::new(wallet("Default"), env.out.clone())
                .with_tag(tag("b")),
        )
        .await
        .expect_err("refused");
    assert!(e.to_string().contains(&format!("symbolic link named '{zip}'")), "{e}");
    assert!(!target.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_exports_never_share_a_coin() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let service = env.open().await;
    let mut started = Vec::new();
    let mut refused = 0;
    let requests: Vec<_> = (0..8)
        .map(|i| {
            let mut r = env.export_request("10", FileKind::ALL[i % 4]);
            r.tag = tag(&format!("client {i}"));
            let s = service.clone();
            tokio::spawn(async move { s.start_export(r).await })
        })
        .collect();
    for r in requests {
        match r.await.expect("join") {
            Ok(task) => started.push(task.id),
            Err(ServiceError::Select(_)) => refused += 1,
            Err(e) => panic!("unexpected refusal: {e}"),
        }
    }
    service.shutdown().await;
    let mut exported = Amount::ZERO;
    for id in &started {
        let v = service.task(*id).expect("known");
        assert_eq!(v.status, TaskStatus::Completed, "{}", v.message);
        if let Some(TaskOutcome::Export(r)) = v.outcome {
            exported = exported.checked_add(r.amount).expect("sum");
        }
    }
    assert_eq!(started.len(), 3, "36 (3 × 10, 5 × 1, 10 × 0.1) holds three exports of 10");
    assert_eq!(refused, 5);
    assert_each_coin_once(&env, &start);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance.checked_add(exported), Some(amount("36")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_reserve_and_write_nothing() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let service = env.open().await;
    let cases: Vec<(cloudcoin_tasks::ExportRequest, &str)> = vec![
        (env.export_request("37", FileKind::Bin), "not enough"),
        (env.export_request("0.05", FileKind::Bin), "no exact"),
        (
            {
                let mut r = env.export_request("1", FileKind::Bin);
                r.folder = "relative".into();
                r
            },
            "folder",
        ),
        (
            {
                let mut r = env.export_request("1", FileKind::Bin);
                r.folder = env.out.join("missing");
                r
            },
            "folder",
        ),
        (
            {
                let mut r = env.export_request("1", FileKind::Bin);
                r.wallet = wallet("Nobody");
                r
            },
            "wallet",
        ),
    ];
    for (req, what) in cases {
        let e = service.start_export(req).await.expect_err(what);
        let text = e.to_string();
        match what {
            "not enough" => assert!(
                matches!(e, ServiceError::Select(SelectError::NotEnoughCoins { .. })),
                "{text}"
            ),
            "no exact" => assert!(
                matches!(e, ServiceError::Select(SelectError::NoExactChange { .. })),
                "{text}"
            ),
            "folder" => assert!(matches!(e, ServiceError::Folder { .. }), "{text}"),
            _ => assert!(matches!(e, ServiceError::WalletNotFound { .. }), "{text}"),
        }
    }
    assert!(service.tasks().is_empty());
    assert!(all_names(&env.out).is_empty());
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!((w.balance, w.coins), (amount("36"), 18));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_roots_confine_the_folder() {
    let env = Env::with_bank(&mixed_coins());
    let allowed = env.out.join("exports");
    let evil = env.out.join("exports-evil");
    std::fs::create_dir(&allowed).expect("mkdir");
    std::fs::create_dir(&evil).expect("mkdir");
    let mut config = env.config();
    config.export_roots = vec![allowed.clone()];
    let service = tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config))
        .await
        .expect("join")
        .expect("open");
    let mut req = env.export_request("1", FileKind::Bin);
    req.folder = evil.clone();
    let e = service.start_export(req.clone()).await.expect_err("outside the root");
    assert!(matches!(e, ServiceError::Folder { .. }), "{e}");
    req.folder = allowed.clone();
    let task = service.start_export(req).await.expect("inside the root");
    assert_eq!(finished(&service, task.id).await.status, TaskStatus::Completed);
    assert_eq!(files_in(&allowed).len(), 1);
    assert!(all_names(&evil).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_moves_and_never_goes_back() {
    let start: Vec<_> = (1..=2_000).map(|sn| coin(-2, sn)).collect();
    let env = Env::with_bank(&start);
    let service = env.open().await;
    let task = service.start_export(env.export_request("20", FileKind::Zip)).await.expect("start");
    let mut seen = vec![task.progress];
    loop {
        let v = service.task(task.id).expect("known");
        assert!(v.progress >= *seen.last().expect("one"), "progress went back: {seen:?}");
        seen.push(v.progress);
        if v.status != TaskStatus::Running {
            assert_eq!(v.status, TaskStatus::Completed, "{}", v.message);
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(seen.last(), Some(&100));
    service.shutdown().await;
    assert_each_coin_once(&env, &start);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any sequence of export amounts keeps every coin in exactly one place.
    #[test]
    fn random_exports_keep_every_coin_once(
        units in proptest::collection::vec(1u64..=400, 1..5),
        kinds in proptest::collection::vec(0usize..4, 5),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
        rt.block_on(async {
            let start = mixed_coins();
            let env = Env::with_bank(&start);
            let service = env.open().await;
            let mut exported = Amount::ZERO;
            for (i, u) in units.iter().enumerate() {
                let a = Amount::from_units(u * 10_000_000); // multiples of 0.1
                let mut req = env.export_request("1", FileKind::ALL[kinds[i]]);
                req.amount = a;
                if let Ok(task) = service.start_export(req).await {
                    let done = finished(&service, task.id).await;
                    prop_assert_eq!(done.status, TaskStatus::Completed);
                    exported = exported.checked_add(a).expect("sum");
                }
            }
            assert_each_coin_once(&env, &start);
            let w = service.wallet(&wallet("Default")).await.expect("wallet");
            prop_assert_eq!(w.balance.checked_add(exported), Some(amount("36")));
            Ok(())
        })?;
    }
}

/// The data directory and everything under it is never an export or backup target: not by its
/// path, not through a bind mount of one of its folders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_directory_and_everything_under_it_is_refused() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let service = env.open().await;
    std::fs::create_dir(env.folder("Default", "Bank").join("sub")).expect("mkdir");
    let mut targets = vec![
        env.data.clone(),
        env.data.join("Wallets"),
        env.data.join("Wallets/Default"),
        env.data.join(".cloudcoin"),
        env.data.join(".cloudcoin/journal"),
        env.folder("Default", "Bank").join("sub"),
    ];
    for f in ["Bank", "Fracked", "Import", "Imported", "Sent", "Limbo", "Suspect", "Trash"] {
        targets.push(env.folder("Default", f));
    }
    // The same folders reached through bind mounts outside the data directory.
    let views = env.out.join("views");
    let mut mounts = Vec::new();
    for (i, from) in [env.folder("Default", "Import"), env.data.join("Wallets")].iter().enumerate()
    {
        let to = views.join(format!("view{i}"));
        std::fs::create_dir_all(&to).expect("mkdir");
        if let Some(m) = BindMount::new(from, &to) {
            mounts.push(m);
            targets.push(if i == 0 { to } else { to.join("Default/Bank") });
        }
    }
    for folder in &targets {
        let mut req = env.export_request("10.5", FileKind::Bin);
        req.folder = folder.clone();
        let e = service.start_export(req).await.expect_err("an export into the data directory");
        let ServiceError::Folder { problem, .. } = &e else { panic!("{}: {e}", folder.display()) };
        assert!(
            matches!(
                problem,
                FolderProblem::InDataDir { .. } | FolderProblem::ReachesDataDir { .. }
            ),
            "{}: {problem:?}",
            folder.display()
        );
        assert!(problem.to_string().contains("data directory"), "{}: {problem}", folder.display());
        let backup = cloudcoin_tasks::BackupRequest::new(wallet("Default"), folder.clone())
            .with_tag(tag("b"));
        let e = service.start_backup(backup).await.expect_err("a backup into the data directory");
        assert!(matches!(e, ServiceError::Folder { .. }), "{}: {e}", folder.display());
        assert!(e.to_string().contains("data directory"), "{e}");
    }
    assert!(service.tasks().is_empty(), "no task started");
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("36"), "nothing reserved");
    drop(mounts);
    drop(service);
    let service = env.open().await;
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("36"), "nothing written into the wallet's folders");
    assert_each_coin_once(&env, &start);
    // A folder beside the data directory is still fine.
    let task = service.start_export(env.export_request("1", FileKind::Bin)).await.expect("ok");
    assert_eq!(finished(&service, task.id).await.status, TaskStatus::Completed);
}
