//! POST /api/v1/export end to end (issue 3, acceptance 1, 3 and 4).

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use cloudcoin_domain::{Amount, CoinId, total_value};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{self, Server, decode_file, folder_ids, ids, mixed_coins, put_coins};

fn transaction_rows(data: &Path) -> usize {
    let path = support::wallet_dir(data, "Default").join("transactions.csv");
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

/// Exports `amount` of `kind` and checks everything SPEC §5–§6 promise about the result.
fn export_and_check(
    server: &Server,
    out: &Path,
    kind: &str,
    amount: &str,
    tag: &str,
    coins: usize,
) {
    let data = &server.data;
    let bank_before: BTreeSet<CoinId> = folder_ids(data, "Default", "Bank");
    let sent_before = folder_ids(data, "Default", "Sent");
    let rows_before = transaction_rows(data);
    let (balance_before, _) = server.balance("Default");
    let amount_value: Amount = amount.parse().expect("test amount");

    let body = json!({"name": "Default", "amount": serde_json::from_str::<Value>(amount).expect("number"),
        "folder": out, "type": kind, "tag": tag});
    let task = server.export(&body);
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(task["type"], "export");
    assert_eq!(task["progress"], 100);
    assert_eq!(task["message"], "Export completed successfully");
    assert!(
        task["finished"].as_u64().expect("finished") >= task["started"].as_u64().expect("started")
    );
    let result = &task["data"];
    assert_eq!(result["result"], Value::Null);
    assert_eq!(result["amount"].to_string(), amount, "amount written as the exact number");
    assert_eq!(result["coins"].as_u64(), Some(coins as u64), "{task}");

    // The file: the SPEC name, in the folder, decoding to exactly the coins that left.
    let file = Path::new(result["file"].as_str().expect("file"));
    let expected_name =
        format!("{} CloudCoin #{coins} '{tag}'.{kind}", amount_value.file_name_format());
    let expected_name = if coins == 1 {
        file.file_name().expect("name").to_string_lossy().into_owned()
    } else {
        expected_name
    };
    assert_eq!(file.parent(), Some(out));
    assert_eq!(file.file_name().expect("name").to_string_lossy(), expected_name);
    let bytes = std::fs::read(file).expect("exported file exists");
    let mode = std::fs::metadata(file).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o077, 0, "a coin file is readable by its owner only, not {mode:o}");
    assert_eq!(result["sha256"], hex(&Sha256::digest(&bytes)));
    let exported = decode_file(file);
    assert_eq!(exported.len(), coins);
    assert_eq!(total_value(&exported), Some(amount_value));
    let exported_ids = ids(&exported);
    assert!(exported_ids.is_subset(&bank_before), "exported coins came from the Bank");

    // The wallet: coins moved to Sent, balance down by exactly the amount, one more row.
    let bank_after = folder_ids(data, "Default", "Bank");
    let sent_after = folder_ids(data, "Default", "Sent");
    assert_eq!(bank_after, bank_before.difference(&exported_ids).copied().collect());
    assert_eq!(sent_after, sent_before.union(&exported_ids).copied().collect());
    let (balance_after, _) = server.balance("Default");
    let before: Amount = balance_before.parse().expect("balance");
    let after: Amount = balance_after.parse().expect("balance");
    assert_eq!(before.checked_sub(after), Some(amount_value));
    assert_eq!(transaction_rows(data), rows_before + 1, "one transaction row per export");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn each_type_exports_10_5_and_then_the_whole_balance() {
    for kind in ["stack", "png", "zip", "bin"] {
        let data = tempfile::tempdir().expect("temp dir");
        let out = tempfile::tempdir().expect("temp dir");
        put_coins(data.path(), "Default", "Bank", &mixed_coins());
        let server = Server::start_in(data.path(), Default::default());
        assert_eq!(server.balance("Default"), ("147.5".to_owned(), 26));

        // 10.5 = 10 + 5 × 0.1: the fewest coins.
        export_and_check(&server, out.path(), kind, "10.5", "payment-to-alice", 6);
        // The rest: 100 + 3 × 10 + 6 × 1 + 10 × 0.1.
        export_and_check(&server, out.path(), kind, "137", "all", 20);
        assert_eq!(server.balance("Default"), ("0".to_owned(), 0));
        assert_eq!(support::file_names(out.path()).len(), 2, "{kind}: exactly two files written");
        server.stop();
    }
}

#[test]
fn a_taken_name_gets_a_number_and_the_old_file_stays() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let taken = out.path().join("10.5 CloudCoin #6 'dup'.bin");
    std::fs::write(&taken, b"someone else's file").expect("write");
    let server = Server::start_in(data.path(), Default::default());
    let task = server.export(
        &json!({"name":"Default","amount":"10.5","folder":out.path(),"type":"bin","tag":"dup"}),
    );
    assert_eq!(task["status"], "completed", "{task}");
    let written = out.path().join("10.5 CloudCoin #6 'dup' (2).bin");
    assert_eq!(task["data"]["file"].as_str(), Some(written.to_str().expect("utf-8")));
    assert_eq!(decode_file(&written).len(), 6);
    assert_eq!(std::fs::read(&taken).expect("still there"), b"someone else's file");
}

#[test]
fn concurrent_exports_never_share_a_coin() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let start = mixed_coins();
    put_coins(data.path(), "Default", "Bank", &start);
    let server = Server::start_in(data.path(), Default::default());
    // Eight clients ask for 40 each: 320 in all, more than twice the 147.5 balance.
    let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let server = &server;
                let out = out.path();
                s.spawn(move || {
                    let body = json!({"name":"Default","amount":40,"folder":out,"type":"bin","tag":format!("c{i}")});
                    let r = server.post("/api/v1/export", &body);
                    (r.status, r.json())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("client thread")).collect()
    });
    let mut exported: BTreeSet<CoinId> = BTreeSet::new();
    let mut total = Amount::ZERO;
    for (status, body) in &answers {
        match status {
            202 => {
                let id = body["payload"]["id"].as_str().expect("id");
                let (_, task) = server.wait_task(id);
                if task["status"] == "completed" {
                    let coins =
                        decode_file(Path::new(task["data"]["file"].as_str().expect("file")));
                    for c in &coins {
                        assert!(exported.insert(c.id()), "coin {} exported twice", c.id());
                    }
                    total = total.checked_add(total_value(&coins).expect("sum")).expect("sum");
                } else {
                    assert_eq!(task["status"], "error", "{task}");
                }
            }
            422 => {
                let code = body["payload"]["code"].as_u64();
                assert!(matches!(code, Some(4134 | 4135)), "{body}");
            }
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    assert!(answers.iter().any(|(s, _)| *s == 202), "at least one export ran");
    assert!(answers.iter().any(|(s, _)| *s == 422), "at least one export was refused");
    let balance: Amount = server.balance("Default").0.parse().expect("balance");
    assert_eq!(balance.checked_add(total), Some(Amount::from_units(14_750_000_000)));
    let bank = folder_ids(&server.data, "Default", "Bank");
    let sent = folder_ids(&server.data, "Default", "Sent");
    assert!(bank.is_disjoint(&sent));
    assert_eq!(sent, exported);
    assert_eq!(bank.union(&sent).copied().collect::<BTreeSet<_>>(), ids(&start));
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_2000_coin_export_reports_progress_between_0_and_100() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &support::coins(-2, 1, 2000));
    let opts = support::Opts {
        envs: vec![("CLOUDCOIN_SLOW_WRITE_MS".into(), "20".into())],
        ..Default::default()
    };
    let server = Server::start_in(data.path(), opts);
    let r = server.post(
        "/api/v1/export",
        &json!({"name":"Default","amount":20,"folder":out.path(),"type":"stack"}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    let (progress, task) = server.wait_task(&id);
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(task["data"]["coins"], 2000);
    assert!(progress.iter().any(|p| *p > 0 && *p < 100), "progress seen: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress went backwards: {progress:?}");
}
