//! Reclaiming an export against the RAIDA simulator over loopback: an unclaimed export, a
//! half-claimed one, the race with the recipient's claim (split state), a crash mid-reclaim,
//! and the key coin (no AN or PAN in clear on the wire).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cloudcoin_domain::{Coin, CoinId};
use cloudcoin_raida_sim::{
    Calls, Command, Fault, FaultPlan, FaultRule, LoggedRequest, SimConfig, generate_coins,
};
use serde_json::{Value, json};

use crate::claim::{
    Sim, coin_file, fix, folder_coins, folder_coins_at, ids, import, wait_healings,
};
use crate::support::{Server, decode_file, wallet_dir};

/// A sender's wallet holding `coins`, claimed (every RAIDA holds its keys).
fn sender(sim: &Sim, data: &Path, files: &Path, coins: &[Coin]) -> Server {
    let server = sim.server(data);
    let task = import(&server, "Default", &coin_file(files, "in.bin", coins), json!({}));
    assert_eq!(task["data"]["claim"]["bank"]["coins"], coins.len(), "{task}");
    server
}

/// Exports `amount` into `out`; returns the task id and the file.
fn export(server: &Server, amount: &str, out: &Path) -> (String, PathBuf) {
    let task = server.export(&json!({"name":"Default","amount":amount,"folder":out,"type":"bin"}));
    assert_eq!(task["status"], "completed", "{task}");
    let file = PathBuf::from(task["data"]["file"].as_str().expect("file"));
    (task["id"].as_str().expect("id").to_owned(), file)
}

fn check(server: &Server, export: &str) -> Value {
    let r = server.get(&format!("/api/v1/reclaim/{export}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["payload"].clone()
}

fn reclaim(server: &Server, export: &str) -> Value {
    let r = server.post("/api/v1/reclaim", &json!({ "task": export }));
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&id).1
}

/// How many RAIDA accept the keys of a coin.
fn agreeing(sim: &Sim, coin: &Coin) -> usize {
    sim.net.sim().agreeing(coin)
}

fn received_ids(data: &Value) -> HashSet<u64> {
    data["received_coins"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["sn"].as_u64().expect("sn"))
        .collect()
}

#[test]
fn an_unclaimed_export_comes_back_whole_and_its_file_is_worthless() {
    let coins = generate_coins(0, 1, 5);
    let data = tempfile::tempdir().expect("temp dir");
    let limbo = wallet_dir(data.path(), "Default").join("Limbo");
    // Once armed, every PAN a pown carries must be in a Limbo file at the moment it arrives.
    let armed = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new((0usize, Vec::<String>::new())));
    let (record, on) = (seen.clone(), armed.clone());
    let observer = Arc::new(move |req: &LoggedRequest| {
        if req.command != Command::Pown || !on.load(Ordering::SeqCst) {
            return;
        }
        let on_disk: HashSet<[u8; 16]> = folder_coins_at(&limbo)
            .iter()
            .filter_map(Coin::pans)
            .map(|p| p[usize::from(req.raida)])
            .collect();
        let mut s = record.lock().expect("lock");
        for c in &req.coins {
            s.0 += 1;
            if let Some(pan) = c.pan
                && !on_disk.contains(&pan)
            {
                s.1.push(format!(
                    "RAIDA {} got #{}'s PAN before it was on disk",
                    req.raida, c.serial
                ));
            }
        }
    });
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()).with_observer(observer));
    let files = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = sender(&sim, data.path(), files.path(), &coins);
    let (export_id, file) = export(&server, "3", out.path());
    let sent = decode_file(&file);
    assert_eq!(sent.len(), 3);
    assert_eq!(server.balance("Default"), ("2".to_owned(), 2));

    // The check sees three unclaimed coins and changes nothing.
    let looked = check(&server, &export_id);
    assert_eq!(looked["reclaimed"], false, "{looked}");
    assert_eq!(looked["unclaimed"]["coins"], 3, "{looked}");
    assert_eq!(looked["received"]["coins"], 0, "{looked}");
    for c in &sent {
        assert_eq!(agreeing(&sim, c), 25, "the check changed nothing");
    }

    armed.store(true, Ordering::SeqCst);
    let task = reclaim(&server, &export_id);
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(task["type"], "reclaim", "{task}");
    let result = &task["data"];
    assert_eq!(result["reclaimed"], true, "{result}");
    assert_eq!(result["returned"]["coins"], 3, "{result}");
    assert_eq!(result["returned"]["amount"].to_string(), "3", "{result}");
    assert_eq!(result["received"]["coins"], 0, "{result}");
    assert!(result["note"].as_str().expect("note").contains("worthless"), "{result}");
    assert_eq!(server.balance("Default"), ("5".to_owned(), 5));
    // The file is worthless: fewer than 13 RAIDA accept its keys (none do).
    for c in &sent {
        assert_eq!(agreeing(&sim, c), 0, "coin {} still spendable with the file", c.id());
    }
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(ids(&bank), ids(&coins));
    for c in &bank {
        assert!(c.pans().is_none());
        assert_eq!(agreeing(&sim, c), 25, "every RAIDA holds the wallet's new key");
    }
    // Sent keeps the record of what was sent.
    assert_eq!(ids(&folder_coins(data.path(), "Default", "Sent")), ids(&sent));
    let (checked, violations) = seen.lock().expect("lock").clone();
    assert_eq!(checked, 3 * 25, "every PAN the reclaim sent was checked");
    assert!(violations.is_empty(), "{violations:?}");
    let record = data.path().join(".cloudcoin/reclaim");
    assert_eq!(std::fs::read_dir(&record).map(Iterator::count).unwrap_or(0), 0, "record removed");

    // Afterwards the check says they are in the wallet again; a second reclaim takes nothing.
    assert_eq!(check(&server, &export_id)["held"]["coins"], 3);
    let again = reclaim(&server, &export_id);
    assert_eq!(again["data"]["held"]["coins"], 3, "{again}");
    assert_eq!(again["data"]["returned"]["coins"], 0, "{again}");
    assert_eq!(server.balance("Default"), ("5".to_owned(), 5));
}

#[test]
fn a_half_claimed_export_reports_the_claimed_coins_received_and_takes_the_rest_back() {
    let coins = generate_coins(1, 1, 4);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let files = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = sender(&sim, a.path(), files.path(), &coins);
    let (export_id, file) = export(&server, "40", out.path());
    let sent = decode_file(&file);
    assert_eq!(sent.len(), 4);
    // The recipient claims two of the four coins.
    let recipient = sim.server(b.path());
    let part = coin_file(files.path(), "part.bin", &sent[..2]);
    let claimed = import(&recipient, "Default", &part, json!({}));
    assert_eq!(claimed["data"]["claim"]["bank"]["coins"], 2, "{claimed}");
    let theirs: HashSet<u64> = sent[..2].iter().map(|c| u64::from(c.serial.get())).collect();

    let looked = check(&server, &export_id);
    assert_eq!(looked["unclaimed"]["coins"], 2, "{looked}");
    assert_eq!(looked["received"]["coins"], 2, "{looked}");
    assert_eq!(received_ids(&looked), theirs);

    let task = reclaim(&server, &export_id);
    let result = &task["data"];
    assert_eq!(result["returned"]["coins"], 2, "{task}");
    assert_eq!(result["received"]["coins"], 2, "{task}");
    assert_eq!(result["received"]["amount"].to_string(), "20", "{task}");
    assert_eq!(received_ids(result), theirs);
    assert_eq!(server.balance("Default"), ("20".to_owned(), 2));
    assert_eq!(recipient.balance("Default"), ("20".to_owned(), 2));
    for c in folder_coins(b.path(), "Default", "Bank") {
        assert_eq!(agreeing(&sim, &c), 25, "the recipient's coins are untouched");
    }
    for c in folder_coins(a.path(), "Default", "Bank") {
        assert_eq!(agreeing(&sim, &c), 25);
    }
    for c in &sent[2..] {
        assert_eq!(agreeing(&sim, c), 0, "the file no longer spends the coins taken back");
    }
}

/// Every key the sender's wallet knows for `id`, per RAIDA: ANs and PANs of every file of the
/// coin in its folders.
fn known_keys(data: &Path, id: CoinId) -> Vec<HashSet<[u8; 16]>> {
    let mut keys = vec![HashSet::new(); 25];
    for folder in ["Bank", "Fracked", "Limbo", "Counterfeit", "Sent"] {
        for c in folder_coins(data, "Default", folder).iter().filter(|c| c.id() == id) {
            for r in 0..25 {
                keys[r].insert(c.ans[r]);
                if let Some(p) = c.pans() {
                    keys[r].insert(p[r]);
                }
            }
        }
    }
    keys
}

/// The split: the reclaim's pown is lost before it applies on `lost` RAIDA (no answer: maybe
/// applied), and find answers only "busy", so the coins wait in Limbo; then the recipient
/// claims the file, and its pown applies where the reclaim's did not.
fn split(sim: &Sim, server: &Server, export_id: &str, lost: std::ops::Range<u8>) -> Value {
    for r in lost {
        sim.net.add_fault(
            FaultRule::new(r, Fault::DropBeforeApply).command(Command::Pown).calls(Calls::Nth(1)),
        );
    }
    for r in 0..25 {
        sim.net.add_fault(FaultRule::new(r, Fault::ForceStatus(254)).command(Command::Find));
    }
    let task = reclaim(server, export_id);
    assert_eq!(task["status"], "completed", "{task}");
    wait_healings(server);
    task
}

#[test]
fn a_split_with_the_wallet_holding_13_or_more_heals_toward_the_wallet() {
    let coins = generate_coins(0, 1, 3);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let files = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = sender(&sim, a.path(), files.path(), &coins);
    let (export_id, file) = export(&server, "3", out.path());
    let sent = decode_file(&file);
    // The reclaim applies on RAIDA 0–14 only; the other ten never answered.
    let task = split(&sim, &server, &export_id, 15..25);
    assert_eq!(task["data"]["limbo"]["coins"], 3, "{task}");
    // The recipient's claim lands on the ten: 10 pass, 15 fail — not theirs.
    let recipient = sim.server(b.path());
    let theirs = import(&recipient, "Default", &file, json!({}));
    assert_eq!(theirs["data"]["claim"]["counterfeit"]["coins"], 3, "{theirs}");
    // Every key the wallet sent is on disk: each RAIDA holds one the wallet knows or the
    // recipient's.
    for c in &sent {
        let known = known_keys(a.path(), c.id());
        let mine = (0..25u8)
            .filter(|&r| {
                known[usize::from(r)].contains(&sim.net.sim().an(r, c.id()).expect("held"))
            })
            .count();
        assert_eq!(mine, 15, "coin {}: the wallet knows the key on its 15 RAIDA", c.id());
    }
    // The network answers again: healing settles the coins and fixes the ten.
    sim.net.set_faults(FaultPlan::new());
    let healed = fix(&server, "Default");
    assert_eq!(healed["status"], "completed", "{healed}");
    let bank = folder_coins(a.path(), "Default", "Bank");
    assert_eq!(ids(&bank), ids(&sent), "{healed}");
    for c in &bank {
        assert_eq!(agreeing(&sim, c), 25, "the wallet won every RAIDA back");
    }
    assert_eq!(server.balance("Default"), ("3".to_owned(), 3));
    assert_eq!(recipient.balance("Default"), ("0".to_owned(), 0));
    let record = a.path().join(".cloudcoin/reclaim");
    assert_eq!(std::fs::read_dir(&record).map(Iterator::count).unwrap_or(0), 0, "record removed");
}

#[test]
fn a_split_with_the_recipient_holding_13_or_more_is_reported_received_with_every_key_kept() {
    let coins = generate_coins(0, 1, 3);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let files = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = sender(&sim, a.path(), files.path(), &coins);
    let (export_id, file) = export(&server, "3", out.path());
    let sent = decode_file(&file);
    // The reclaim applies on RAIDA 15–24 only; RAIDA 0–14 never heard of it.
    let task = split(&sim, &server, &export_id, 0..15);
    assert_eq!(task["data"]["limbo"]["coins"], 3, "{task}");
    let pans_sent: Vec<Coin> = folder_coins(a.path(), "Default", "Limbo");
    assert_eq!(ids(&pans_sent), ids(&sent));
    // The recipient claims on the fifteen, and its healing fixes the other ten.
    let recipient = sim.server(b.path());
    let theirs = import(&recipient, "Default", &file, json!({}));
    assert_eq!(theirs["data"]["claim"]["fracked"]["coins"], 3, "{theirs}");
    for heal in wait_healings(&recipient) {
        assert_eq!(heal["status"], "completed", "{heal}");
    }
    sim.net.set_faults(FaultPlan::new());
    let healed = fix(&server, "Default");
    assert_eq!(healed["status"], "completed", "{healed}");
    // Nothing of it is in the wallet any more; the reclaim's keys are kept in Sent.
    for folder in ["Bank", "Fracked", "Limbo", "Counterfeit"] {
        assert!(folder_coins(a.path(), "Default", folder).is_empty(), "{folder} is empty");
    }
    let record = folder_coins(a.path(), "Default", "Sent");
    for c in &pans_sent {
        let kept = record
            .iter()
            .filter(|s| s.id() == c.id())
            .any(|s| s.pans() == c.pans() && s.ans == c.ans);
        assert!(kept, "coin {}: every PAN the reclaim sent is kept in Sent", c.id());
    }
    let looked = check(&server, &export_id);
    assert_eq!(looked["received"]["coins"], 3, "{looked}");
    assert_eq!(server.balance("Default"), ("0".to_owned(), 0));
    assert_eq!(recipient.balance("Default"), ("3".to_owned(), 3));
    for c in folder_coins(b.path(), "Default", "Bank") {
        assert_eq!(agreeing(&sim, &c), 25, "the recipient holds the coin on every RAIDA");
    }
}

#[test]
fn a_server_killed_while_its_reclaim_pown_is_on_the_wire_finishes_it_after_restart() {
    let coins = generate_coins(0, 1, 4);
    let (tx, rx) = std::sync::mpsc::channel::<u8>();
    let tx = Mutex::new(tx);
    let armed = Arc::new(AtomicBool::new(false));
    let on = armed.clone();
    let observer = Arc::new(move |req: &LoggedRequest| {
        if req.command == Command::Pown && on.load(Ordering::SeqCst) {
            let _ = tx.lock().expect("lock").send(req.raida);
        }
    });
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()).with_observer(observer));
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = sender(&sim, data.path(), files.path(), &coins);
    let (export_id, file) = export(&server, "2", out.path());
    let sent = decode_file(&file);
    // Every RAIDA applies the reclaim's pown and never answers.
    for r in 0..25 {
        sim.net.add_fault(FaultRule::new(r, Fault::StallAfterApply).command(Command::Pown));
    }
    armed.store(true, Ordering::SeqCst);
    let r = server.post("/api/v1/reclaim", &json!({ "task": export_id }));
    assert_eq!(r.status, 202, "{}", r.text());
    let task_id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    for _ in 0..25 {
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("a pown reaches each RAIDA");
    }
    server.kill();
    sim.net.set_faults(FaultPlan::new());
    let server = sim.server(data.path());
    let heals = wait_healings(&server);
    assert_eq!(heals.len(), 1, "healing resumed at start");
    assert_eq!(heals[0]["data"]["bank"]["coins"], 2, "{}", heals[0]);
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(ids(&bank), ids(&coins), "every coin is in the wallet again");
    for c in &bank {
        assert_eq!(agreeing(&sim, c), 25, "the wallet kept every key it sent");
    }
    for c in &sent {
        assert_eq!(agreeing(&sim, c), 0, "the file is worthless");
    }
    assert_eq!(server.balance("Default"), ("4".to_owned(), 4));
    let (_, task) = server.wait_task(&task_id);
    assert_eq!(task["status"], "error", "the interrupted reclaim says so: {task}");
    let record = data.path().join(".cloudcoin/reclaim");
    assert_eq!(std::fs::read_dir(&record).map(Iterator::count).unwrap_or(0), 0, "record settled");
    assert_eq!(check(&server, &export_id)["held"]["coins"], 2);
}

#[test]
fn reclaim_refuses_what_is_not_a_completed_export_and_works_only_with_a_network() {
    let coins = generate_coins(0, 1, 2);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let r = server.post(
        "/api/v1/import",
        &json!({"name": "Default", "items": [{"type": "file", "data": coin_file(files.path(), "c.bin", &coins)}]}),
    );
    let import_id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&import_id);
    let message =
        server.post("/api/v1/reclaim", &json!({ "task": import_id })).assert_error(409, 4316);
    assert!(message.contains("import"), "{message}");
    server.get(&format!("/api/v1/reclaim/{import_id}")).assert_error(409, 4316);
    let unknown = "9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a";
    server.get(&format!("/api/v1/reclaim/{unknown}")).assert_error(404, 4105);
    server.post("/api/v1/reclaim", &json!({ "task": unknown })).assert_error(404, 4105);
    let message =
        server.post("/api/v1/reclaim", &json!({ "task": "nope" })).assert_error(400, 4121);
    assert!(message.starts_with("task"), "{message}");
    let offline = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(offline.path(), crate::support::Opts::default());
    server.post("/api/v1/reclaim", &json!({ "task": unknown })).assert_error(409, 4315);
    server.get(&format!("/api/v1/reclaim/{unknown}")).assert_error(409, 4315);
}

#[test]
fn with_a_key_coin_no_an_or_pan_crosses_the_wire_in_clear() {
    let coins = generate_coins(0, 1, 3);
    let key = generate_coins(2, 9000, 1);
    let mut all = coins.clone();
    all.extend(key.iter().cloned());
    let sim = Sim::start(SimConfig::default().with_coins(all));
    let files = tempfile::tempdir().expect("temp dir");
    let key_file = coin_file(files.path(), "key.bin", &key);
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let opts = crate::support::Opts {
        args: vec![
            "--raida-list".into(),
            sim.list.to_string_lossy().into_owned(),
            "--raida-key-coin".into(),
            key_file.to_string_lossy().into_owned(),
        ],
        ..crate::support::Opts::default()
    };
    let server = Server::start_in(data.path(), opts);
    // Claim, verify-before-send, check and reclaim: detect, pown and find all travel.
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["bank"]["coins"], 3, "{task}");
    let (export_id, _) = export(&server, "2", out.path());
    assert_eq!(check(&server, &export_id)["unclaimed"]["coins"], 2);
    assert_eq!(reclaim(&server, &export_id)["data"]["returned"]["coins"], 2);
    let log = sim.net.sim().log_all();
    let with_keys: Vec<&LoggedRequest> =
        log.iter().filter(|r| r.secrets().next().is_some()).collect();
    assert!(with_keys.len() >= 4 * 25, "the requests carrying keys were logged");
    for r in &log {
        assert_eq!(r.encryption, 1, "RAIDA {} got a {:?} request under type 0", r.raida, r.command);
        assert_eq!(r.key_coin, Some((2, 9000)));
    }
    // And no key appears in the bytes as they crossed the wire.
    for r in &with_keys {
        for secret in r.secrets() {
            assert!(!r.raw.windows(16).any(|w| w == secret), "a key in clear to RAIDA {}", r.raida);
        }
    }
    assert_eq!(server.balance("Default"), ("3".to_owned(), 3));
}
