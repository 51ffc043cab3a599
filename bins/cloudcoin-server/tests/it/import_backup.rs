//! Import and backup round trips through the HTTP API (issue 4, server side).

use std::path::Path;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{Server, coins, decode_file, folder_ids, ids, mixed_coins, put_coins};

fn run_task(server: &Server, path: &str, body: &Value) -> Value {
    let r = server.post(path, body);
    assert_eq!(r.status, 202, "{path}: {}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&id).1
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
        let exported = ids(&decode_file(Path::new(&file)));

        let body = json!({"name": wallet, "items": [{"type":"file","data": file}]});
        let first = run_task(&server, "/api/v1/import", &body);
        assert_eq!(first["status"], "completed", "{first}");
        assert_eq!(first["type"], "import");
        assert_eq!(first["data"]["imported"], 6, "{first}");
        assert_eq!(first["data"]["already_present"], 0);
        assert_eq!(first["data"]["amount"].to_string(), "10.5");
        assert_eq!(folder_ids(data.path(), &wallet, "Bank"), exported);
        assert_eq!(server.balance(&wallet), ("10.5".to_owned(), 6));
        assert!(Path::new(&file).exists(), "the source file is left where it is");

        let again = run_task(&server, "/api/v1/import", &body);
        assert_eq!(again["data"]["imported"], 0, "{again}");
        assert_eq!(again["data"]["already_present"], 6, "{again}");
        assert_eq!(server.balance(&wallet), ("10.5".to_owned(), 6));
    }
}

#[test]
fn bad_items_are_rejected_one_by_one_and_good_ones_imported() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Default::default());
    let good = coins(0, 77, 3);
    let good_file = dir.path().join("good.bin");
    std::fs::write(&good_file, cloudcoin_codec::encode_bin(&good).expect("encode")).expect("write");
    let b64 = base64::engine::general_purpose::STANDARD;
    let inline_good = b64.encode(cloudcoin_codec::encode_bin(&coins(-1, 5, 2)).expect("encode"));
    let truncated = cloudcoin_codec::encode_bin(&coins(1, 9, 1)).expect("encode");
    let truncated = b64.encode(&truncated[..truncated.len() - 10]);
    let body = json!({"name":"Default","items":[
        {"type":"file","data": good_file},
        {"type":"file","data": dir.path().join("missing.bin")},
        {"type":"file","data": "relative/coin.bin"},
        {"type":"file","data": dir.path()},
        {"type":"inline","data": "***not base64***"},
        {"type":"inline","data": truncated},
        {"type":"inline","data": inline_good},
    ]});
    let task = run_task(&server, "/api/v1/import", &body);
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(task["data"]["imported"], 5, "{task}");
    let rejected = task["data"]["rejected"].as_array().expect("rejections");
    let items: Vec<u64> = rejected.iter().filter_map(|r| r["item"].as_u64()).collect();
    assert_eq!(items, vec![1, 2, 3, 4, 5], "{task}");
    assert!(rejected.iter().all(|r| !r["reason"].as_str().unwrap_or("").is_empty()));
    let mut want = ids(&good);
    want.extend(ids(&coins(-1, 5, 2)));
    assert_eq!(folder_ids(data.path(), "Default", "Bank"), want);
    assert_eq!(server.balance("Default"), ("3.2".to_owned(), 5));
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

    assert_eq!(server.post("/api/v1/wallets", &json!({"name":"Restored"})).status, 201);
    let restored = run_task(
        &server,
        "/api/v1/import",
        &json!({"name":"Restored","items":[{"type":"file","data":file}]}),
    );
    assert_eq!(restored["data"]["imported"], 1000, "{restored}");
    assert_eq!(server.balance("Restored"), before);
    assert_eq!(folder_ids(data.path(), "Restored", "Bank"), ids(&all));
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
