//! Import and backup: round trips, re-imports, bad items, racing an export.

use base64::Engine;
use cloudcoin_domain::FileKind;
use cloudcoin_tasks::{BackupRequest, ImportItem, ImportRequest, Service, TaskOutcome, TaskStatus};

use crate::support::*;

async fn import(
    service: &Service,
    name: &str,
    items: Vec<ImportItem>,
) -> cloudcoin_tasks::ImportResult {
    import_request(service, ImportRequest::new(wallet(name), items)).await
}

async fn import_request(service: &Service, req: ImportRequest) -> cloudcoin_tasks::ImportResult {
    let task = service.start_import(req).await.expect("import started");
    let done = finished(service, task.id).await;
    assert_eq!(done.status, TaskStatus::Completed, "{}", done.message);
    match done.outcome {
        Some(TaskOutcome::Import(r)) => r,
        other => panic!("not an import result: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_into_an_empty_wallet() {
    for kind in FileKind::ALL {
        let env = Env::with_bank(&mixed_coins());
        let service = env.open().await;
        let task = service.start_export(env.export_request("10.5", kind)).await.expect("export");
        let Some(TaskOutcome::Export(out)) = finished(&service, task.id).await.outcome else {
            panic!("export failed")
        };
        let exported = coins_in(&env.out);
        service.create_wallet(&wallet("B")).await.expect("create B");

        // Coins this server sent away: another wallet stores them only when allowed to.
        let refused = service
            .start_import(ImportRequest::new(wallet("B"), vec![ImportItem::File(out.file.clone())]))
            .await
            .expect("import started");
        let refused = finished(&service, refused.id).await;
        assert_eq!(refused.status, TaskStatus::Error, "{kind}: {}", refused.message);
        let req = ImportRequest::new(wallet("B"), vec![ImportItem::File(out.file.clone())])
            .with_sent_coins_allowed();
        let r = import_request(&service, req).await;
        assert_eq!((r.imported, r.already_present, r.amount), (6, 0, amount("10.5")), "{kind}");
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        let in_b = coins_in(&env.folder("B", "Bank"));
        assert_eq!(ids(&in_b), ids(&exported));
        for c in &exported {
            assert!(in_b.contains(c), "same ANs and POWN for {}", c.id());
        }
        let b = service.wallet(&wallet("B")).await.expect("B");
        assert_eq!(b.balance, amount("10.5"));
        assert!(out.file.exists(), "the source file is left where it is");

        let again = import(&service, "B", vec![ImportItem::File(out.file.clone())]).await;
        assert_eq!((again.imported, again.already_present), (0, 6), "{kind}");
        assert_eq!(coins_in(&env.folder("B", "Bank")).len(), 6, "nothing stored twice");
        let csv =
            std::fs::read_to_string(env.data.join("Wallets/B/transactions.csv")).expect("csv");
        assert_eq!(csv.lines().filter(|l| l.contains(",import,")).count(), 1, "{csv}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_the_same_coins() {
    let mut start = Vec::new();
    for (i, code) in [-3i8, -2, -1, 0, 1, 2].iter().enumerate() {
        start.extend((0..166 + i as u32).map(|sn| coin(*code, 1_000 + sn)));
    }
    assert!(start.len() >= 1_000);
    let env = Env::with_bank(&start);
    let service = env.open().await;
    let before = service.wallet(&wallet("Default")).await.expect("wallet");
    let task = service
        .start_backup(BackupRequest::new(wallet("Default"), env.out.clone()))
        .await
        .expect("backup");
    let done = finished(&service, task.id).await;
    assert_eq!(done.message, "Backup completed successfully");
    let Some(TaskOutcome::Backup(r)) = done.outcome else { panic!("{}", done.message) };
    assert_eq!((r.coins, r.amount), (start.len() as u64, before.balance));
    let name = r.file.file_name().expect("name").to_string_lossy().into_owned();
    assert!(name.contains(&format!("CloudCoin #{} 'backup 20", start.len())), "{name}");
    assert!(name.ends_with(".zip"));
    assert_eq!(service.wallet(&wallet("Default")).await.expect("wallet"), before, "coins stay");

    // The backup restores on another server (the machine that replaces a lost one); on this
    // one, Default still holds the coins, which no other wallet may then store.
    let other = Env::with_bank(&[]);
    let elsewhere = other.open().await;
    elsewhere.create_wallet(&wallet("Restored")).await.expect("create");
    let imported = import(&elsewhere, "Restored", vec![ImportItem::File(r.file.clone())]).await;
    assert_eq!(imported.imported, start.len() as u64);
    assert_eq!(ids(&coins_in(&other.folder("Restored", "Bank"))), ids(&start));
    let restored = elsewhere.wallet(&wallet("Restored")).await.expect("restored");
    assert_eq!(restored.balance, before.balance);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_items_are_each_rejected_and_good_ones_imported() {
    let env = Env::with_bank(&[]);
    let service = env.open().await;
    let good = vec![coin(0, 1), coin(0, 2)];
    let good_file = env.out.join("good.stack");
    let mut stack = Vec::new();
    cloudcoin_codec::write_coins(
        &mut stack,
        FileKind::Stack,
        &good,
        &cloudcoin_codec::WriteOptions::new(),
    )
    .expect("stack");
    std::fs::write(&good_file, &stack).expect("write");
    let truncated = env.out.join("truncated.bin");
    let bin = cloudcoin_codec::encode_bin(&[coin(0, 3)]).expect("encode");
    std::fs::write(&truncated, &bin[..200]).expect("write");
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let items = vec![
        ImportItem::File(good_file.clone()),
        ImportItem::File(truncated),
        ImportItem::File(env.out.join("missing.bin")),
        ImportItem::File("relative.bin".into()),
        ImportItem::File(env.out.clone()),
        ImportItem::InlineBase64("not base64 at all!".into()),
        ImportItem::InlineBase64(b64(br#"{"cloudcoin":[{"nn":"1","sn":"5","an":[],"pown":""}]}"#)),
        ImportItem::InlineBase64(b64(
            &cloudcoin_codec::encode_bin(&[coin(1, 4), coin(11, 5)]).expect("encode")
        )),
    ];
    let r = import(&service, "Default", items).await;
    assert_eq!(r.imported, 3, "{:?}", r.rejected);
    assert_eq!(r.amount, amount("12"));
    let rejected: Vec<u64> = r.rejected.iter().map(|x| x.item).collect();
    assert_eq!(rejected, vec![1, 2, 3, 4, 5, 6, 7]);
    for x in &r.rejected {
        assert!(!x.reason.is_empty());
    }
    assert!(r.rejected[1].reason.contains("cannot read"), "{:?}", r.rejected[1]);
    assert!(r.rejected[2].reason.contains("absolute"), "{:?}", r.rejected[2]);
    assert!(r.rejected[3].reason.contains("not a regular file"), "{:?}", r.rejected[3]);
    assert!(r.rejected[4].reason.contains("base64"), "{:?}", r.rejected[4]);
    assert_eq!(r.rejected[4].source, "inline #5");
    assert!(r.rejected[6].reason.contains("not money"), "{:?}", r.rejected[6]);
    let stored = coins_in(&env.folder("Default", "Bank"));
    assert_eq!(ids(&stored), ids(&[coin(0, 1), coin(0, 2), coin(1, 4)]));
    assert!(good_file.exists());
}

/// A file read coin by coin that turns out broken after some of its coins (a stack whose end
/// is cut off, a binary file whose last record is cut short) is refused whole: none of its
/// coins is stored, nor a rejection of one of them given, and a coin it held that another item
/// holds too is stored from that item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_broken_after_its_first_coins_is_refused_whole() {
    let mut coins: Vec<_> = (1..=40).map(|sn| coin(0, sn)).collect();
    coins.push(coin(11, 41)); // not money: a rejection, were the file read
    coins.push(coin(0, 42));
    for kind in [FileKind::Stack, FileKind::Bin] {
        let env = Env::with_bank(&[]);
        let service = env.open().await;
        let mut bytes = Vec::new();
        let options = cloudcoin_codec::WriteOptions::new();
        cloudcoin_codec::write_coins(&mut bytes, kind, &coins, &options).expect("written");
        let broken = env.out.join("broken");
        std::fs::write(&broken, &bytes[..bytes.len() - 20]).expect("write");
        let again = env.out.join("again.bin");
        std::fs::write(&again, cloudcoin_codec::encode_bin(&[coin(0, 7)]).expect("encode"))
            .expect("write");
        let items = vec![ImportItem::File(broken), ImportItem::File(again)];
        let r = import(&service, "Default", items).await;
        assert_eq!(r.imported, 1, "{kind:?}: {:?}", r.rejected);
        let rejected: Vec<u64> = r.rejected.iter().map(|x| x.item).collect();
        assert_eq!(rejected, vec![0], "{kind:?}: {:?}", r.rejected);
        assert!(!r.rejected[0].reason.contains("not money"), "{:?}", r.rejected[0]);
        assert_eq!(ids(&coins_in(&env.folder("Default", "Bank"))), ids(&[coin(0, 7)]));
        let held = service.wallet(&wallet("Default")).await.expect("wallet");
        assert_eq!(held.coins, 1, "{kind:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_items_are_refused_up_front() {
    let env = Env::with_bank(&[]);
    let service = env.open().await;
    let many = vec![ImportItem::File("/x".into()); 1_001];
    let e = service
        .start_import(ImportRequest::new(wallet("Default"), many))
        .await
        .expect_err("too many");
    assert!(matches!(e, cloudcoin_tasks::ServiceError::TooManyItems { .. }), "{e}");
    assert!(service.tasks().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_racing_an_export_leaves_each_coin_once() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let service = env.open().await;
    // A file holding every coin of the wallet, as a backup would.
    let all = env.out.join("..").join("all.bin");
    std::fs::write(&all, cloudcoin_codec::encode_bin(&start).expect("encode")).expect("write");
    let all = std::fs::canonicalize(all).expect("canonical");
    let export = service.start_export(env.export_request("20", FileKind::Zip));
    let import =
        service.start_import(ImportRequest::new(wallet("Default"), vec![ImportItem::File(all)]));
    let (e, i) = tokio::join!(export, import);
    let (e, i) = (e.expect("export"), i.expect("import"));
    service.shutdown().await;
    assert_eq!(service.task(e.id).map(|t| t.status), Some(TaskStatus::Completed));
    let Some(TaskOutcome::Import(r)) = service.task(i.id).and_then(|t| t.outcome) else { panic!() };
    // A coin the export moved to Sent before the import looked is refused as sent away (the
    // recipient may hold it), one it still had reserved as being exported (it may be on its way
    // to Sent: never counted present); every other coin is stored or found present. Which coins
    // land on which side is the race's; that each coin lands on exactly one is the rule.
    let refused = r
        .rejected
        .iter()
        .filter(|x| x.reason.contains("was sent away") || x.reason.contains("being exported"))
        .count();
    assert_eq!(r.rejected.len(), refused, "only exported coins are refused: {:?}", r.rejected);
    assert_eq!(r.imported + r.already_present + refused as u64, start.len() as u64);
    // Re-imported coins that had been exported are back in Bank; the rest never left.
    let bank = coins_in(&env.folder("Default", "Bank"));
    assert_eq!(ids(&bank).len(), bank.len(), "no coin twice in Bank");
    let exported = ids(&coins_in(&env.out));
    let back: std::collections::BTreeSet<_> = ids(&bank).intersection(&exported).copied().collect();
    assert_eq!(back.len() as u64, r.imported, "only exported coins can be imported again");
    let everywhere: std::collections::BTreeSet<_> = ids(&bank).union(&exported).copied().collect();
    assert_eq!(everywhere, ids(&start), "every coin is in Bank or in the export");
}

/// `coin(code, serial)` carrying PANs that differ from its ANs in every byte, as a coin left in
/// Limbo by an interrupted authentication would.
fn pending(code: i8, serial: u32) -> cloudcoin_domain::Coin {
    let c = coin(code, serial);
    let mut pans = c.ans;
    for pan in &mut pans {
        pan.iter_mut().for_each(|b| *b = !*b);
    }
    c.with_pans(pans)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pans_survive_import_restart_export_and_backup_byte_for_byte() {
    let env = Env::with_bank(&[]);
    let src = env.data.parent().expect("base").join("src");
    std::fs::create_dir_all(&src).expect("src");
    let one = pending(1, 501);
    let one_bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&one)).expect("encode");
    assert_eq!((one_bytes.len(), one_bytes[15]), (839, 1), "a state-flag-1 coin file");
    std::fs::write(src.join("one.bin"), &one_bytes).expect("write");
    let several = vec![pending(0, 601), pending(0, 602), coin(0, 603)];
    let mut zip = std::io::Cursor::new(Vec::new());
    cloudcoin_codec::write_zip(&mut zip, &several, &cloudcoin_codec::WriteOptions::new())
        .expect("zip");
    std::fs::write(src.join("several.zip"), zip.into_inner()).expect("write");

    let service = env.open().await;
    let r = import(
        &service,
        "Default",
        vec![ImportItem::File(src.join("one.bin")), ImportItem::File(src.join("several.zip"))],
    )
    .await;
    assert_eq!(r.imported, 4, "{:?}", r.rejected);
    let bank = env.folder("Default", "Bank");
    let stored = std::fs::read(bank.join("10 CloudCoin #501 ''.bin")).expect("stored file");
    assert_eq!(stored, one_bytes, "stored with its PANs, byte for byte");
    service.shutdown().await;
    drop(service);

    // After a restart (the wallet is read from disk again) the PANs are still there.
    let service = env.open().await;
    let task = service.start_export(env.export_request("10", FileKind::Bin)).await.expect("bin");
    let Some(TaskOutcome::Export(out)) = finished(&service, task.id).await.outcome else {
        panic!("bin export failed")
    };
    assert_eq!(std::fs::read(&out.file).expect("exported"), one_bytes, "bin: byte for byte");

    let backup = service
        .start_backup(BackupRequest::new(wallet("Default"), env.out.clone()))
        .await
        .expect("backup");
    let Some(TaskOutcome::Backup(b)) = finished(&service, backup.id).await.outcome else {
        panic!("backup failed")
    };
    let backed_up = cloudcoin_codec::decode_zip(
        &std::fs::read(&b.file).expect("backup"),
        &cloudcoin_codec::Limits::default(),
    )
    .expect("a zip");
    let mut expected = several.clone();
    expected.sort_by_key(|c| c.id());
    let mut backed_up_sorted = backed_up.clone();
    backed_up_sorted.sort_by_key(|c| c.id());
    assert_eq!(backed_up_sorted, expected, "backup: every coin with exactly its PANs");

    let task = service.start_export(env.export_request("3", FileKind::Zip)).await.expect("zip");
    let Some(TaskOutcome::Export(out)) = finished(&service, task.id).await.outcome else {
        panic!("zip export failed")
    };
    let exported = cloudcoin_codec::decode_zip(
        &std::fs::read(&out.file).expect("exported"),
        &cloudcoin_codec::Limits::default(),
    )
    .expect("a zip");
    assert_eq!(exported.len(), 3);
    for c in &several {
        let e = exported.iter().find(|e| e.id() == c.id()).expect("exported");
        assert_eq!(e.pans(), c.pans(), "zip: {} keeps exactly its PANs (or none)", c.id());
        assert_eq!(e.ans, c.ans);
        assert_eq!(
            cloudcoin_codec::encode_bin(std::slice::from_ref(e)).expect("encode"),
            cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("encode"),
            "zip entry of {} byte for byte",
            c.id()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_says_what_a_file_is_not_never_what_it_contains() {
    let env = Env::with_bank(&[]);
    let service = env.open().await;
    let dir = env.data.parent().expect("base").join("private");
    std::fs::create_dir_all(&dir).expect("dir");
    // Files the server can read but the client cannot: their bytes must not come back.
    let files: Vec<(&str, &[u8])> = vec![
        ("shadow", b"root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"),
        ("key", b"\x7fELF\x02\x01\x01SECRETBYTES-0123456789"),
        ("config.json", br#"{"cloudcoin": "hunter2-password"}"#),
        ("token.json", br#"{"cloudcoin": [{"nn": "6", "sn": "TOPSECRET", "dn": "1"}]}"#),
        ("keys.json", br#"{"cloudcoin": [{"nn": 6, "sn": 1, "dn": 1, "an": ["zzSECRETzz"]}]}"#),
    ];
    // One good coin too, so the import completes and lists each rejection.
    std::fs::write(dir.join("good.bin"), cloudcoin_codec::encode_bin(&[coin(0, 1)]).expect("bin"))
        .expect("write");
    let mut items = vec![ImportItem::File(dir.join("good.bin"))];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).expect("write");
        items.push(ImportItem::File(dir.join(name)));
    }
    let r = import(&service, "Default", items).await;
    assert_eq!(r.rejected.len(), files.len(), "{:?}", r.rejected);
    for (x, secret) in
        r.rejected.iter().zip(["root", "SECRETBYTES", "hunter2", "TOPSECRET", "SECRET"])
    {
        assert!(!x.reason.contains(secret), "item {} quotes its contents: {}", x.item, x.reason);
        assert!(
            !x.reason.contains("7f 45 4c 46"),
            "item {} quotes its bytes: {}",
            x.item,
            x.reason
        );
        assert!(!x.reason.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_of_a_path_inside_the_data_directory_is_refused_and_changes_nothing() {
    let env = Env::with_bank(&mixed_coins());
    // A coin no wallet holds, in files inside the data directory: in a wallet's Trash and in a
    // folder of the data directory's own; then reached through links and a bind mount from
    // outside. None of them may be stored: files there are the server's, never an import.
    let stray = coin(2, 9_001);
    let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&stray)).expect("encode");
    let trash = env.folder("Default", "Trash");
    std::fs::create_dir_all(&trash).expect("mkdir");
    std::fs::write(trash.join("stray.bin"), &bytes).expect("write");
    std::fs::create_dir(env.data.join("notes")).expect("mkdir");
    std::fs::write(env.data.join("notes/stray.bin"), &bytes).expect("write");
    std::os::unix::fs::symlink(trash.join("stray.bin"), env.out.join("link.bin")).expect("link");
    std::os::unix::fs::symlink(&trash, env.out.join("trash-link")).expect("link");
    let mut items = vec![
        ImportItem::File(trash.join("stray.bin")),
        ImportItem::File(env.data.join("notes/stray.bin")),
        ImportItem::File(
            env.folder("Default", "Bank").join(
                std::fs::read_dir(env.folder("Default", "Bank"))
                    .expect("list")
                    .next()
                    .expect("a coin file")
                    .expect("entry")
                    .file_name(),
            ),
        ),
        ImportItem::File(env.out.join("link.bin")),
        ImportItem::File(env.out.join("trash-link/stray.bin")),
    ];
    let mounted = env.out.join("mounted");
    std::fs::create_dir(&mounted).expect("mkdir");
    let mount = BindMount::new(&trash, &mounted);
    if mount.is_some() {
        items.push(ImportItem::File(mounted.join("stray.bin")));
    }
    let service = env.open().await;
    let bank_before = all_names(&env.folder("Default", "Bank"));
    let refused = items.len();
    // One good coin from outside too, so the import completes and lists each rejection.
    let good = coin(2, 9_002);
    std::fs::write(
        env.out.join("good.bin"),
        cloudcoin_codec::encode_bin(std::slice::from_ref(&good)).expect("encode"),
    )
    .expect("write");
    items.push(ImportItem::File(env.out.join("good.bin")));
    let r = import(&service, "Default", items).await;
    assert_eq!((r.imported, r.already_present), (1, 0), "{:?}", r.rejected);
    assert_eq!(r.rejected.len(), refused, "{:?}", r.rejected);
    for rejection in &r.rejected {
        assert!(
            rejection.reason.contains("inside the server's data directory"),
            "{}: {}",
            rejection.source,
            rejection.reason
        );
    }
    let mut expected = bank_before;
    expected.push(cloudcoin_domain::single_coin_file_name(&good, &tag(""), FileKind::Bin));
    expected.sort();
    assert_eq!(all_names(&env.folder("Default", "Bank")), expected, "only the good coin stored");
    drop(mount);
    // The same file outside the data directory is an ordinary import.
    std::fs::write(env.out.join("copy.bin"), &bytes).expect("write");
    let r = import(&service, "Default", vec![ImportItem::File(env.out.join("copy.bin"))]).await;
    assert_eq!(r.imported, 1, "{:?}", r.rejected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_imports_of_the_same_coins_into_two_wallets_at_once_store_each_coin_once() {
    let env = Env::with_bank(&[]);
    let service = env.open().await;
    for name in ["A", "B"] {
        service.create_wallet(&wallet(name)).await.expect("create");
    }
    for round in 0..8u32 {
        let coins: Vec<_> = (0..300).map(|sn| coin(0, round * 1_000 + sn)).collect();
        let bytes = cloudcoin_codec::encode_bin(&coins).expect("encode");
        let start = |name: &str| {
            let req = ImportRequest::new(wallet(name), vec![ImportItem::Bytes(bytes.clone())]);
            service.start_import(req)
        };
        let (a, b) = tokio::join!(start("A"), start("B"));
        let (a, b) = (a.expect("started"), b.expect("started"));
        let (a, b) = tokio::join!(service.wait(a.id), service.wait(b.id));
        let result = |view: Option<cloudcoin_tasks::TaskView>| match view.and_then(|v| v.outcome) {
            // (An import whose every coin went to the other wallet ends in error, with the
            // same result.)
            Some(TaskOutcome::Import(r)) => (r.imported, r.rejected),
            other => panic!("not an import: {other:?}"),
        };
        let ((in_a, rejected_a), (in_b, rejected_b)) = (result(a), result(b));
        assert_eq!(in_a + in_b, coins.len() as u64, "round {round}: each coin stored exactly once");
        for r in rejected_a.iter().chain(&rejected_b) {
            assert!(r.reason.contains("wallet A") || r.reason.contains("wallet B"), "{}", r.reason);
        }
        let (held_a, held_b) =
            (ids(&coins_in(&env.folder("A", "Bank"))), ids(&coins_in(&env.folder("B", "Bank"))));
        assert!(held_a.is_disjoint(&held_b), "round {round}: a coin is in both wallets");
        let mut all = held_a;
        all.extend(held_b);
        assert!(ids(&coins).is_subset(&all), "round {round}: a coin was lost");
    }
}
