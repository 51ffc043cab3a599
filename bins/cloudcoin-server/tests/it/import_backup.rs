//! Import and backup round trips through the HTTP API (issue 4, server side).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use cloudcoin_api::codes;
use cloudcoin_codec::WriteOptions;
use cloudcoin_domain::{Coin, CoinId, FileKind};
use serde_json::{Value, json};

use crate::support::{Server, coins, decode_file, folder_ids, ids, mixed_coins, put_coins};

fn run_task(server: &Server, path: &str, body: &Value) -> Value {
    let r = server.post(path, body);
    assert_eq!(r.status, 202, "{path}: {}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&id).1
}

type CoinAns = BTreeSet<(CoinId, Vec<[u8; 16]>)>;

fn ans_of(coins: &[Coin]) -> CoinAns {
    coins.iter().map(|c| (c.id(), c.ans.to_vec())).collect()
}

/// Every coin in a wallet's Bank with its ANs.
fn bank_ans(data: &Path, wallet: &str) -> CoinAns {
    let bank = crate::support::wallet_dir(data, wallet).join("Bank");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(bank).expect("bank") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("coin file");
        all.extend(cloudcoin_codec::decode_bin(&bytes).expect("coin file decodes"));
    }
    ans_of(&all)
}

#[test]
fn an_export_of_each_type_imports_into_another_wallet_once() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let mut start = mixed_coins();
    start.extend(coins(-1, 5000, 10)); // enough 0.1 coins for four exports of 10.5
    put_coins(data.path(), "Default", "Bank", &start);
    let server = Server::start_in(data.path(), Default::default());
    for kind in ["stack", "png", "zip", "bin"] {
        let wallet = format!("to {kind}");
        assert_eq!(server.post("/api/v1/wallets", &json!({"name": wallet})).status, 201);
        let task = server.export(
            &json!({"name":"Default","amount":"10.5","folder":out.path(),"type":kind,"tag":kind}),
        );
        assert_eq!(task["status"], "completed", "{task}");
        let file = task["data"]["file"].as_str().expect("file").to_owned();
        let exported_coins = decode_file(Path::new(&file));
        let exported = ids(&exported_coins);

        // Coins this server sent away: stored again only when the request allows it.
        let body =
            json!({"name": wallet, "items": [{"type":"file","data": file}], "allow_sent": true});
        let first = run_task(&server, "/api/v1/import", &body);
        assert_eq!(first["status"], "completed", "{first}");
        assert_eq!(first["type"], "import");
        assert_eq!(first["data"]["imported"], 6, "{first}");
        assert_eq!(first["data"]["already_present"], 0);
        assert_eq!(first["data"]["amount"].to_string(), "10.5");
        assert_eq!(folder_ids(data.path(), &wallet, "Bank"), exported);
        assert_eq!(bank_ans(data.path(), &wallet), ans_of(&exported_coins), "same ANs");
        assert_eq!(server.balance(&wallet), ("10.5".to_owned(), 6));
        assert!(Path::new(&file).exists(), "the source file is left where it is");

        let again = run_task(&server, "/api/v1/import", &body);
        assert_eq!(again["data"]["imported"], 0, "{again}");
        assert_eq!(again["data"]["already_present"], 6, "{again}");
        assert_eq!(server.balance(&wallet), ("10.5".to_owned(), 6));
    }
}

/// A PNG carrying `coins`, as the codec writes it.
fn png_of(coins: &[Coin]) -> Vec<u8> {
    let mut bytes = Vec::new();
    let options = WriteOptions::new().with_date("2026-11-29");
    cloudcoin_codec::write_coins(&mut bytes, FileKind::Png, coins, &options).expect("png");
    bytes
}

/// A zip holding `entries` (name, bytes), deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, bytes) in entries {
        w.start_file(*name, options).expect("zip entry");
        w.write_all(bytes).expect("zip data");
    }
    w.finish().expect("zip").into_inner()
}

/// A stack of one coin of denomination 1 with `an_count` ANs, with or without `dn`.
fn stack_of(serial: u32, an_count: usize, with_dn: bool) -> Vec<u8> {
    let ans: Vec<String> = (0..an_count).map(|i| format!("{i:032x}")).collect();
    let mut coin = json!({"nn":"6","sn":serial.to_string(),"an":ans,"pown":"p".repeat(25)});
    if with_dn {
        coin["dn"] = json!("1");
    }
    serde_json::to_vec(&json!({"cloudcoin":[coin]})).expect("json")
}

#[test]
fn bad_items_are_rejected_one_by_one_and_good_ones_imported() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Default::default());
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write item");
        json!({"type":"file","data": path})
    };
    let inline = |bytes: &[u8]| json!({"type":"inline","data": b64(bytes)});

    let good_file = coins(0, 77, 3);
    let good_inline = coins(-1, 5, 2);
    let good_zip = coins(1, 40, 2);
    let truncated = cloudcoin_codec::encode_bin(&coins(1, 9, 1)).expect("encode");
    let mut broken_crc = png_of(&coins(1, 10, 2));
    broken_crc[33 + 8 + 20] ^= 0xFF; // a byte of the cLDc data: its CRC no longer matches
    let with_chunk = png_of(&coins(1, 11, 1));
    let chunk_len = u32::from_be_bytes(with_chunk[33..37].try_into().expect("4 bytes")) as usize;
    let no_chunk = [&with_chunk[..33], &with_chunk[33 + 12 + chunk_len..]].concat();
    let good_zip_bytes =
        zip_of(&[("a.bin", &cloudcoin_codec::encode_bin(&good_zip).expect("encode"))]);
    // 65 MiB of zeros: a few kilobytes deflated, more than the 64 MiB entry limit expanded.
    let bomb = zip_of(&[("bomb.bin", &vec![0u8; 65 << 20])]);
    let oversized = "A".repeat(48 << 20);

    let items = json!([
        file("good.bin", &cloudcoin_codec::encode_bin(&good_file).expect("encode")), // 0
        file("truncated.bin", &truncated[..truncated.len() - 10]),                   // 1
        file("broken-crc.png", &broken_crc),                                         // 2
        inline(&no_chunk), // 3: no cLDc chunk, but its page's QR code carries the coin
        inline(&stack_of(12, 25, false)), // 4: legacy
        inline(&stack_of(13, 24, true)), // 5: 24 ANs
        file("text.zip", &zip_of(&[("notes.txt", b"hello, not a coin")])), // 6
        json!({"type":"file","data": dir.path().join("missing.bin")}), // 7
        json!({"type":"file","data": "relative/coin.bin"}), // 8
        json!({"type":"file","data": dir.path()}), // 9
        json!({"type":"inline","data": "***not base64***"}), // 10
        json!({"type":"inline","data": oversized}), // 11
        file("bomb.zip", &bomb), // 12
        inline(&cloudcoin_codec::encode_bin(&good_inline).expect("encode")), // 13
        inline(&good_zip_bytes), // 14
    ]);
    let task = run_task(&server, "/api/v1/import", &json!({"name":"Default","items":items}));
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(task["data"]["imported"], 8, "{task}");
    let rejected = task["data"]["rejected"].as_array().expect("rejections");
    let reasons: Vec<(u64, String)> = rejected
        .iter()
        .map(|r| {
            let reason = r["reason"].as_str().expect("reason").to_lowercase();
            (r["item"].as_u64().expect("item"), reason)
        })
        .collect();
    let expected: [(u64, &[&str]); 11] = [
        (1, &["length", "truncated", "bytes"]),
        (2, &["crc"]),
        (4, &["legacy"]),
        (5, &["24"]),
        (6, &["notes.txt"]),
        (7, &["cannot read", "no such file"]),
        (8, &["absolute"]),
        (9, &["not a regular file"]),
        (10, &["base64"]),
        (11, &["32 mib", "longer than"]),
        (12, &["limit", "larger", "too large"]),
    ];
    assert_eq!(
        reasons.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [1, 2].into_iter().chain(4..=12).collect::<Vec<u64>>(),
        "{task}"
    );
    for ((item, reason), (want_item, words)) in reasons.iter().zip(&expected) {
        assert_eq!(item, want_item);
        assert!(
            words.iter().any(|w| reason.contains(w)),
            "item {item}: reason {reason:?} names none of {words:?}"
        );
    }
    let mut want = ids(&good_file);
    want.extend(ids(&good_inline));
    want.extend(ids(&good_zip));
    want.extend(ids(&coins(1, 11, 1)));
    assert_eq!(folder_ids(data.path(), "Default", "Bank"), want, "exactly the good coins");
    assert_eq!(server.balance("Default"), ("33.2".to_owned(), 8));
}

#[test]
fn a_backup_restores_into_an_empty_wallet() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let mut all = mixed_coins();
    all.extend(coins(-3, 1, 974));
    put_coins(data.path(), "Default", "Bank", &all);
    let server = Server::start_in(data.path(), Default::default());
    let before = server.balance("Default");
    let task = run_task(&server, "/api/v1/backup", &json!({"name":"Default","folder":out.path()}));
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(task["type"], "backup");
    assert_eq!(task["data"]["coins"], 1000, "{task}");
    let file = task["data"]["file"].as_str().expect("file").to_owned();
    let name = Path::new(&file).file_name().expect("name").to_string_lossy().into_owned();
    assert!(
        name.contains("CloudCoin #1,000 'backup ") || name.contains("CloudCoin #1000 'backup "),
        "{name}"
    );
    assert!(name.ends_with(".zip"), "{name}");
    assert_eq!(server.balance("Default"), before, "the coins stay");

    // While Default holds the coins, no other wallet of this server may store them.
    assert_eq!(server.post("/api/v1/wallets", &json!({"name":"Restored"})).status, 201);
    let body = json!({"name":"Restored","items":[{"type":"file","data":file}]});
    let refused = run_task(&server, "/api/v1/import", &body);
    assert_eq!(refused["status"], "error");
    assert_eq!(refused["data"]["rejected"].as_array().map(Vec::len), Some(1000));
    assert!(folder_ids(data.path(), "Restored", "Bank").is_empty());
    drop(server);

    // The backup restores into another server (the machine that replaces a lost one).
    let other = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(other.path(), Default::default());
    assert_eq!(server.post("/api/v1/wallets", &json!({"name":"Restored"})).status, 201);
    let restored = run_task(&server, "/api/v1/import", &body);
    assert_eq!(restored["data"]["imported"], 1000, "{}", restored["message"]);
    assert_eq!(server.balance("Restored"), before);
    assert_eq!(folder_ids(other.path(), "Restored", "Bank"), ids(&all));
}

#[test]
fn an_import_racing_an_export_leaves_every_coin_in_one_place() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let start = mixed_coins();
    put_coins(data.path(), "Default", "Bank", &start);
    let incoming = coins(-1, 7000, 40);
    let b64 = base64::engine::general_purpose::STANDARD;
    let inline = b64.encode(cloudcoin_codec::encode_bin(&incoming).expect("encode"));
    let server = Server::start_in(data.path(), Default::default());
    let (exported, imported) = std::thread::scope(|s| {
        let export = s.spawn(|| {
            server.export(&json!({"name":"Default","amount":11.5,"folder":out.path(),"type":"bin"}))
        });
        let import = s.spawn(|| {
            run_task(
                &server,
                "/api/v1/import",
                &json!({"name":"Default","items":[{"type":"inline","data":inline}]}),
            )
        });
        (export.join().expect("export thread"), import.join().expect("import thread"))
    });
    assert_eq!(exported["status"], "completed", "{exported}");
    assert_eq!(imported["data"]["imported"], 40, "{imported}");
    let file_coins = ids(&decode_file(Path::new(exported["data"]["file"].as_str().expect("file"))));
    let bank = folder_ids(data.path(), "Default", "Bank");
    let sent = folder_ids(data.path(), "Default", "Sent");
    assert_eq!(sent, file_coins);
    assert!(bank.is_disjoint(&sent));
    let mut want = ids(&start);
    want.extend(ids(&incoming));
    let mut have = bank;
    have.extend(sent);
    assert_eq!(have, want, "every coin in exactly one place");
    assert_eq!(server.balance("Default").0, "140", "147.5 + 4 - 11.5");
}

/// Every coin in a wallet's held folders (Bank, Fracked, Limbo, Suspect).
fn held_ids(data: &Path, wallet: &str) -> BTreeSet<CoinId> {
    let mut all = BTreeSet::new();
    for folder in ["Bank", "Fracked", "Limbo", "Suspect"] {
        all.extend(folder_ids(data, wallet, folder));
    }
    all
}

/// The items of an import of every coin file of `examples/test-coins`.
fn test_coin_items() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/test-coins");
    let mut items: Vec<Value> = std::fs::read_dir(&dir)
        .expect("examples/test-coins")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| json!({"type":"file","data": std::fs::canonicalize(p).expect("real path")}))
        .collect();
    items.sort_by_key(Value::to_string);
    items
}

#[test]
fn a_coin_is_never_stored_in_two_wallets_nor_again_after_it_was_sent() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Default::default());
    let test_coins = json!({"name":"Default","items": test_coin_items()});
    let first = run_task(&server, "/api/v1/import", &test_coins);
    assert_eq!(first["data"]["imported"], 18, "{first}");

    // As a new user tried it: 10.5 from Default into a file, the file into Alice (a coin this
    // server sent away: only with allow_sent), then examples/test-coins into Default again.
    let task = server
        .export(&json!({"name":"Default","amount":"10.5","folder":out.path(),"type":"stack"}));
    assert_eq!(task["status"], "completed", "{task}");
    let file = task["data"]["file"].as_str().expect("file").to_owned();
    let sent = ids(&decode_file(Path::new(&file)));
    assert_eq!(server.post("/api/v1/wallets", &json!({"name":"Alice"})).status, 201);
    let to_alice = json!({"name":"Alice","items":[{"type":"file","data": file}]});
    let refused = run_task(&server, "/api/v1/import", &to_alice);
    assert_eq!(
        refused["status"], "error",
        "sent coins are not stored without allow_sent: {refused}"
    );
    let reasons = refused["data"].to_string();
    assert!(reasons.contains("allow_sent") && reasons.contains("RAIDA"), "{reasons}");
    // The kind is a code a client can act on, not a sentence it has to match.
    let kinds: Vec<&Value> = refused["data"]["rejected"]
        .as_array()
        .expect("rejections")
        .iter()
        .map(|r| &r["code"])
        .collect();
    assert_eq!(kinds, vec![&json!(codes::REFUSED_SENT_AWAY); 6], "{refused}");
    assert!(
        reasons.contains(Path::new(&file).file_name().expect("name").to_str().expect("utf-8")),
        "names the file the coins left in: {reasons}"
    );
    assert!(held_ids(data.path(), "Alice").is_empty());
    let mut allowed = to_alice.clone();
    allowed["allow_sent"] = json!(true);
    let moved = run_task(&server, "/api/v1/import", &allowed);
    assert_eq!(moved["data"]["imported"], 6, "{moved}");
    assert_eq!(held_ids(data.path(), "Alice"), sent);

    let again = run_task(&server, "/api/v1/import", &test_coins);
    assert_eq!(again["status"], "completed", "{again}");
    let in_default = held_ids(data.path(), "Default");
    assert!(
        in_default.is_disjoint(&sent),
        "a coin is spendable in Default and in Alice: {:?}; the import said {again}",
        in_default.intersection(&sent).collect::<Vec<_>>()
    );
    assert_eq!(again["data"]["imported"], 0, "{again}");
    assert_eq!(again["data"]["already_present"], 12, "{again}");
    let rejected = again["data"]["rejected"].as_array().expect("rejections");
    assert_eq!(rejected.len(), 6, "{again}");
    for r in rejected {
        let reason = r["reason"].as_str().expect("reason");
        assert!(reason.contains("wallet Alice"), "names the wallet that holds it: {reason}");
        assert_eq!(r["code"], codes::REFUSED_HELD_BY_OTHER_WALLET, "{r}");
    }
    // allow_sent never lets a coin into a second wallet.
    let mut forced = test_coins.clone();
    forced["allow_sent"] = json!(true);
    let forced = run_task(&server, "/api/v1/import", &forced);
    assert_eq!(forced["data"]["imported"], 0, "{forced}");
    assert!(held_ids(data.path(), "Default").is_disjoint(&sent));
    assert_eq!(server.balance("Alice"), ("10.5".to_owned(), 6));
    assert_eq!(server.balance("Default"), ("115.5".to_owned(), 12));
}
