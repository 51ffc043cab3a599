//! Claiming imported coins against the RAIDA simulator over loopback (`--raida-list`), and the
//! same import without a network.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cloudcoin_domain::{Coin, CoinId};
use cloudcoin_raida_sim::{
    Calls, Command, Fault, FaultPlan, FaultRule, LoggedRequest, Network, SimConfig, generate_coins,
};
use cloudcoin_tasks::testing::claim_records;
use serde_json::{Value, json};

use crate::support::{Opts, Server, wallet_dir};

/// The simulator's 25 RAIDA, running on their own runtime, and their address list on disk.
pub(crate) struct Sim {
    pub(crate) net: Network,
    pub(crate) list: PathBuf,
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    pub(crate) fn start(config: SimConfig) -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let net = rt.block_on(Network::start(config)).expect("simulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("raida.txt");
        net.write_address_list(&list).expect("address list");
        Sim { net, list, _dir: dir, rt }
    }

    pub(crate) fn offline(&self, raida: u8) {
        self.rt.block_on(self.net.set_offline(raida));
    }

    pub(crate) fn online(&self, raida: u8) {
        self.rt.block_on(self.net.set_online(raida)).expect("back online");
    }

    /// A server on `data` that claims through this network.
    pub(crate) fn server(&self, data: &Path) -> Server {
        self.server_with(data, Vec::new())
    }

    /// [`Sim::server`] with these environment variables.
    pub(crate) fn server_with(&self, data: &Path, envs: Vec<(String, String)>) -> Server {
        let opts = Opts {
            args: vec![
                "--raida-list".into(),
                self.list.to_string_lossy().into_owned(),
                "--raida-timeout-ms".into(),
                "3000".into(),
            ],
            envs,
            ..Opts::default()
        };
        Server::start_in(data, opts)
    }
}

/// Writes `coins` as one format-9 file and returns its path.
pub(crate) fn coin_file(dir: &Path, name: &str, coins: &[Coin]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, cloudcoin_codec::encode_bin(coins).expect("encode")).expect("write");
    path
}

pub(crate) fn import(server: &Server, wallet: &str, file: &Path, extra: Value) -> Value {
    let mut body = json!({"name": wallet, "items": [{"type": "file", "data": file}]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = server.post("/api/v1/import", &body);
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&id).1
}

/// Every coin (with its PANs) in one folder of a wallet.
pub(crate) fn folder_coins(data: &Path, wallet: &str, folder: &str) -> Vec<Coin> {
    let dir = wallet_dir(data, wallet).join(folder);
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            continue;
        }
        let bytes = std::fs::read(&path).expect("coin file");
        all.extend(cloudcoin_codec::decode_bin(&bytes).expect("a coin file"));
    }
    all
}

pub(crate) fn ids(coins: &[Coin]) -> HashSet<CoinId> {
    coins.iter().map(Coin::id).collect()
}

#[test]
fn claims_of_1_100_and_5000_coins_give_keys_only_the_wallet_knows() {
    let coins = generate_coins(0, 1, 5101);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()).with_log(false));
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let mut held = 0;
    for (n, batch) in [(1, &coins[..1]), (100, &coins[1..101]), (5000, &coins[101..])] {
        let file = coin_file(files.path(), &format!("{n}.bin"), batch);
        let task = import(&server, "Default", &file, json!({}));
        assert_eq!(task["status"], "completed", "{task}");
        let claim = &task["data"]["claim"];
        assert_eq!(claim["claimed"], true, "{task}");
        assert_eq!(claim["bank"]["coins"], n, "{claim}");
        assert_eq!(claim["limbo"]["coins"], 0, "{claim}");
        held += n;
        let bank = folder_coins(data.path(), "Default", "Bank");
        assert_eq!(bank.len(), held);
        for c in bank.iter().filter(|c| ids(batch).contains(&c.id())) {
            assert!(c.pans().is_none(), "a claimed coin keeps no PANs");
            assert_eq!(sim.net.sim().agreeing(c), 25, "every RAIDA holds the wallet's keys");
        }
        for c in batch.iter().take(5) {
            assert_eq!(sim.net.sim().agreeing(c), 0, "the sender's keys are worthless now");
        }
    }
    assert_eq!(server.balance("Default"), ("5101".to_owned(), 5101));
}

#[test]
fn three_raida_offline_leave_the_coins_fracked_and_counted() {
    let coins = generate_coins(1, 1, 10);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    for r in 0..3 {
        sim.offline(r);
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    let claim = &task["data"]["claim"];
    assert_eq!(claim["fracked"]["coins"], 10, "{task}");
    assert_eq!(claim["fracked"]["amount"].to_string(), "100", "{claim}");
    // The healing the claim starts cannot reach the three RAIDA either.
    for heal in wait_healings(&server) {
        assert_eq!(heal["data"]["fracked"]["coins"], 10, "{heal}");
    }
    let fracked = folder_coins(data.path(), "Default", "Fracked");
    assert_eq!(ids(&fracked), ids(&coins));
    for c in &fracked {
        assert_eq!(
            sim.net.sim().agreeing(c),
            25,
            "the old key where not claimed, the new elsewhere"
        );
        assert_ne!(c.ans[3], coins.iter().find(|o| o.id() == c.id()).expect("same").ans[3]);
    }
    assert_eq!(server.balance("Default"), ("100".to_owned(), 10));
    for r in 0..3 {
        sim.online(r);
    }
}

#[test]
fn replies_dropped_after_apply_on_13_raida_keep_both_keys_in_limbo() {
    let coins = generate_coins(0, 1, 5);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    for r in 0..13 {
        sim.net.add_fault(FaultRule::new(r, Fault::DropReplyAfterApply).command(Command::Pown));
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    // Find answers only "busy" here, so the healing the claim starts cannot settle them yet.
    for r in 0..25 {
        sim.net.add_fault(FaultRule::new(r, Fault::ForceStatus(254)).command(Command::Find));
    }
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["limbo"]["coins"], 5, "{task}");
    let heals = wait_healings(&server);
    assert_eq!(heals[0]["data"]["limbo"]["coins"], 5, "{}", heals[0]);
    let limbo = folder_coins(data.path(), "Default", "Limbo");
    assert_eq!(ids(&limbo), ids(&coins));
    for c in &limbo {
        let pans = c.pans().expect("a Limbo coin keeps its PANs");
        for r in 0..25u8 {
            let there = sim.net.sim().an(r, c.id()).expect("known");
            let i = usize::from(r);
            assert!(there == c.ans[i] || there == pans[i], "RAIDA {r}: the wallet knows the key");
        }
    }
    assert_eq!(server.balance("Default"), ("0".to_owned(), 0), "Limbo is not spendable");
}

#[test]
fn counterfeit_coins_are_named_and_never_spendable() {
    let good = generate_coins(0, 1, 3);
    let sim = Sim::start(SimConfig::default().with_coins(good.clone()));
    let mut fake = generate_coins(0, 4, 2); // serials the RAIDA hold with other ANs
    for c in &mut fake {
        c.ans = [[0x5a; 16]; 25];
    }
    let mut all = good.clone();
    all.extend(fake.iter().cloned());
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &all), json!({}));
    let claim = &task["data"]["claim"];
    assert_eq!(claim["counterfeit"]["coins"], 2, "{task}");
    let named: HashSet<u64> = claim["counterfeit_coins"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["sn"].as_u64().expect("sn"))
        .collect();
    assert_eq!(named, HashSet::from([4, 5]));
    assert_eq!(ids(&folder_coins(data.path(), "Default", "Counterfeit")), ids(&fake));
    assert_eq!(server.balance("Default"), ("3".to_owned(), 3));
}

/// A coin graded counterfeit stays in `Counterfeit`; the same coin arriving later with keys the
/// RAIDA accept (its rightful owner pays it) is claimed, not counted as already present (which
/// would consume the file while the wallet holds only dead keys).
#[test]
fn a_coin_counterfeit_once_is_claimed_when_it_comes_again_with_live_keys() {
    let good = generate_coins(0, 1, 1);
    let sim = Sim::start(SimConfig::default().with_coins(good.clone()));
    let mut fake = good.clone();
    fake[0].ans = [[0x5a; 16]; 25];
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "fake.bin", &fake), json!({}));
    assert_eq!(task["data"]["claim"]["counterfeit"]["coins"], 1, "{task}");
    let task = import(&server, "Default", &coin_file(files.path(), "real.bin", &good), json!({}));
    assert_eq!(task["data"]["claim"]["bank"]["coins"], 1, "the live keys are claimed: {task}");
    assert_eq!(server.balance("Default"), ("1".to_owned(), 1));
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(bank.len(), 1);
    assert_eq!(sim.net.sim().agreeing(&bank[0]), 25, "the wallet holds the coin's keys");
}

/// A coin the wallet holds unsettled in `Limbo`, with keys that may be dead, is not "already
/// present" for a file carrying other keys: those may be the live ones, and the file is kept
/// (rejected, not consumed) until the coin settles — then it is claimed.
#[test]
fn a_file_with_other_keys_for_a_coin_in_limbo_is_kept_and_claimed_once_the_coin_settles() {
    let live = generate_coins(0, 1, 1);
    let sim = Sim::start(SimConfig::default().with_coins(live.clone()));
    // Keys the RAIDA no longer hold (the coin was claimed away from them).
    let mut stale = live.clone();
    stale[0].ans = [[0x5a; 16]; 25];
    // The wallet's claim of the stale file gets no answer from 13 RAIDA (12 fail): Limbo; and
    // its healing's find gets none either, so the coin stays in Limbo.
    for r in 0..13 {
        sim.net.add_fault(
            FaultRule::new(r, Fault::DropBeforeApply).command(Command::Pown).calls(Calls::Nth(1)),
        );
        sim.net.add_fault(FaultRule::new(r, Fault::DropBeforeApply).command(Command::Find));
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "stale.bin", &stale), json!({}));
    assert_eq!(task["data"]["claim"]["limbo"]["coins"], 1, "{task}");
    wait_healings(&server);
    assert_eq!(folder_coins(data.path(), "Default", "Limbo").len(), 1);
    // The live keys arrive.
    let task = import(&server, "Default", &coin_file(files.path(), "live.bin", &live), json!({}));
    assert_eq!(task["data"]["already_present"], 0, "not present with dead keys: {task}");
    assert_eq!(task["data"]["rejected"].as_array().map(Vec::len), Some(1), "kept: {task}");
    // The network answers again: healing finds the Limbo coin counterfeit, and the live file
    // is claimed.
    sim.net.set_faults(FaultPlan::new());
    fix(&server, "Default");
    let task = import(&server, "Default", &coin_file(files.path(), "live2.bin", &live), json!({}));
    assert_eq!(task["data"]["claim"]["bank"]["coins"], 1, "{task}");
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(sim.net.sim().agreeing(&bank[0]), 25, "the wallet holds the coin's keys");
}

#[test]
fn no_pan_reaches_a_raida_before_it_is_on_disk() {
    let coins = generate_coins(0, 1, 50);
    let data = tempfile::tempdir().expect("temp dir");
    // The claim's write-ahead record: every coin with its ANs and (through the record's seed)
    // its PANs, one file for the batch.
    let seen = Arc::new(Mutex::new((0usize, Vec::<String>::new())));
    let record = seen.clone();
    let watched = data.path().to_path_buf();
    let observer = Arc::new(move |req: &LoggedRequest| {
        if req.command != Command::Pown {
            return;
        }
        // What the wallet holds on disk at the moment the RAIDA reads the request.
        let on_disk: HashSet<[u8; 16]> = claim_records(&watched, "Default")
            .expect("the record reads")
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
                    "RAIDA {} got coin #{}'s PAN before it was on disk",
                    req.raida, c.serial
                ));
            }
        }
    });
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()).with_observer(observer));
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["bank"]["coins"], 50, "{task}");
    let (checked, violations) = seen.lock().expect("lock").clone();
    assert_eq!(checked, 50 * 25, "every PAN sent was checked");
    assert!(violations.is_empty(), "{violations:?}");
    assert!(claim_record(data.path()).is_empty(), "the record goes once the coins are stored");
}

/// The claim's write-ahead record of the wallet `Default` in `data`: the coins with their PANs.
fn claim_record(data: &Path) -> Vec<Coin> {
    claim_records(data, "Default").expect("the record reads")
}

/// Restarts a server killed during a claim of `coins`, whose record held every coin: healing
/// (started by the restart) settles every coin in Bank with keys every RAIDA accepts.
fn restart_and_settle(sim: &Sim, data: &Path, coins: &[Coin]) {
    let record = claim_record(data);
    assert_eq!(ids(&record), ids(coins), "the record holds every coin");
    assert!(record.iter().all(|c| c.pans().is_some()), "with its PANs");
    for folder in ["Bank", "Fracked", "Limbo", "Counterfeit"] {
        assert!(folder_coins(data, "Default", folder).is_empty(), "nothing stored in {folder} yet");
    }
    sim.net.set_faults(FaultPlan::new());
    let server = sim.server(data);
    let heals = wait_healings(&server);
    assert_eq!(heals.len(), 1, "healing resumed at start");
    let bank = folder_coins(data, "Default", "Bank");
    assert_eq!(ids(&bank), ids(coins), "{}", heals[0]);
    for c in &bank {
        assert_eq!(sim.net.sim().agreeing(c), 25, "the wallet kept every key it sent");
    }
    assert!(claim_record(data).is_empty(), "the record is settled");
    assert_eq!(server.balance("Default").1, coins.len() as u64);
}

/// Killed once its record is on disk and some RAIDA answered: 13 applied the pown and answered,
/// 6 applied it and stay silent, 6 never got it applied. The restart puts every coin in Limbo
/// with the ANs it came with and its PANs (a missing answer means "maybe applied"), and find
/// settles each RAIDA's key.
#[test]
fn a_server_killed_after_some_answers_recovers_every_coin_from_its_claim_record() {
    let coins = generate_coins(0, 1, 6);
    let (tx, rx) = std::sync::mpsc::channel::<u8>();
    let tx = Mutex::new(tx);
    let observer = Arc::new(move |req: &LoggedRequest| {
        if req.command == Command::Pown {
            let _ = tx.lock().expect("lock").send(req.raida);
        }
    });
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()).with_observer(observer));
    for r in 13..19 {
        sim.net.add_fault(FaultRule::new(r, Fault::StallAfterApply).command(Command::Pown));
    }
    for r in 19..25 {
        sim.net.add_fault(FaultRule::new(r, Fault::StallBeforeApply).command(Command::Pown));
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let file = coin_file(files.path(), "c.bin", &coins);
    let r = server.post(
        "/api/v1/import",
        &json!({"name": "Default", "items": [{"type": "file", "data": file}]}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    for _ in 0..25 {
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("a pown reaches each RAIDA");
    }
    server.kill();
    restart_and_settle(&sim, data.path(), &coins);
}

/// Killed at the claim's named steps: right after the record is durable (no pown sent), and
/// right after the pown's answers came (nothing stored yet).
#[cfg(feature = "fault-injection")]
#[test]
fn a_server_killed_after_its_claim_record_or_its_answers_recovers_every_coin() {
    use cloudcoin_tasks::FaultPoint;
    for (step, powned) in
        [(FaultPoint::ClaimAfterRecord, false), (FaultPoint::ClaimAfterPown, true)]
    {
        let coins = generate_coins(0, 1, 4);
        let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
        let data = tempfile::tempdir().expect("temp dir");
        let files = tempfile::tempdir().expect("temp dir");
        let envs = vec![("CLOUDCOIN_FAULT".to_owned(), step.to_string())];
        let server = sim.server_with(data.path(), envs);
        let file = coin_file(files.path(), "c.bin", &coins);
        let r = server.post(
            "/api/v1/import",
            &json!({"name": "Default", "items": [{"type": "file", "data": file}]}),
        );
        assert_eq!(r.status, 202, "{step}: {}", r.text());
        let status = server.wait_exit();
        assert!(!status.success(), "{step}: the server should have aborted");
        let held = if powned { 0 } else { 25 };
        assert!(
            coins.iter().all(|c| sim.net.sim().agreeing(c) == held),
            "{step}: the RAIDA hold the PANs only once the pown went out"
        );
        restart_and_settle(&sim, data.path(), &coins);
    }
}

/// The coins in a folder, skipping files being written.
pub(crate) fn folder_coins_at(dir: &Path) -> Vec<Coin> {
    let mut all = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return all };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(coins) = cloudcoin_codec::decode_bin(&bytes)
        {
            all.extend(coins);
        }
    }
    all
}

#[test]
fn without_a_network_or_with_claim_false_the_coins_are_stored_unclaimed_and_said_so() {
    let coins = generate_coins(0, 1, 4);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let files = tempfile::tempdir().expect("temp dir");
    let file = coin_file(files.path(), "c.bin", &coins[..2]);

    let offline = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(offline.path(), Opts::default());
    let task = import(&server, "Default", &file, json!({}));
    assert_eq!(task["data"]["imported"], 2, "{task}");
    assert_eq!(task["data"]["claim"]["claimed"], false);
    let note = task["data"]["claim"]["note"].as_str().expect("note");
    assert!(note.contains("not claimed") && note.contains("can spend"), "{note}");
    assert_eq!(server.balance("Default"), ("2".to_owned(), 2));
    drop(server);

    let online = tempfile::tempdir().expect("temp dir");
    let server = sim.server(online.path());
    let file = coin_file(files.path(), "d.bin", &coins[2..]);
    let task = import(&server, "Default", &file, json!({"claim": false}));
    assert_eq!(task["data"]["claim"]["claimed"], false, "{task}");
    assert!(task["data"]["claim"]["note"].as_str().expect("note").contains("\"claim\": false"));
    assert_eq!(ids(&folder_coins(online.path(), "Default", "Bank")), ids(&coins[2..]));
    for c in &coins[2..] {
        assert_eq!(sim.net.sim().agreeing(c), 25, "nothing was sent to the RAIDA");
    }
}

/// Waits for every healing task the server knows and returns the last one's result.
pub(crate) fn wait_healings(server: &Server) -> Vec<Value> {
    let list = server.get("/api/v1/tasks").json();
    let ids: Vec<String> = list["payload"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter(|t| t["type"] == "fix")
        .map(|t| t["id"].as_str().expect("id").to_owned())
        .collect();
    ids.iter().map(|id| server.wait_task(id).1).collect()
}

pub(crate) fn fix(server: &Server, wallet: &str) -> Value {
    let r = server.post("/api/v1/fix", &json!({"name": wallet}));
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&id).1
}

#[test]
fn fracked_coins_are_healed_when_the_three_raida_return_and_a_failing_raida_is_fixed() {
    let coins = generate_coins(1, 1, 6);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    for r in 0..3 {
        sim.offline(r);
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["fracked"]["coins"], 6, "{task}");
    // The healing the claim started cannot reach the three RAIDA: the coins stay Fracked.
    for heal in wait_healings(&server) {
        assert_eq!(heal["status"], "completed", "{heal}");
    }
    assert_eq!(ids(&folder_coins(data.path(), "Default", "Fracked")), ids(&coins));
    for r in 0..3 {
        sim.online(r);
    }
    // And RAIDA 5 loses one coin's key: only a fix (tickets from the others) brings it back.
    let broken = coins[0].id();
    sim.net.sim().set_an(5, broken, Some([0xee; 16]));
    let heal = fix(&server, "Default");
    assert_eq!(heal["status"], "completed", "{heal}");
    assert_eq!(heal["data"]["bank"]["coins"], 6, "{heal}");
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(ids(&bank), ids(&coins));
    for c in &bank {
        let old = coins.iter().find(|o| o.id() == c.id()).expect("same coin");
        assert_eq!(sim.net.sim().agreeing(c), 25, "every RAIDA holds the wallet's key");
        assert!((0..25).all(|r| c.ans[r] != old.ans[r]), "no key the sender knew is left");
    }
    assert_eq!(server.balance("Default"), ("60".to_owned(), 6));
}

#[test]
fn a_network_where_fix_never_works_keeps_the_coin_fracked_and_its_keys() {
    let coins = generate_coins(0, 1, 2);
    let sim = Sim::start(
        SimConfig::default()
            .with_coins(coins.clone())
            .with_fix(cloudcoin_raida_sim::FixBetweenServers::Never),
    );
    sim.net.sim().set_an(7, coins[0].id(), Some([0xee; 16]));
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["fracked"]["coins"], 1, "{task}");
    assert_eq!(task["data"]["claim"]["bank"]["coins"], 1, "{task}");
    wait_healings(&server);
    let heal = fix(&server, "Default");
    assert_eq!(heal["data"]["fracked"]["coins"], 1, "{heal}");
    let fracked = folder_coins(data.path(), "Default", "Fracked");
    assert_eq!(fracked.len(), 1);
    assert_eq!(sim.net.sim().agreeing(&fracked[0]), 24, "all but the broken RAIDA");
    assert_eq!(server.balance("Default"), ("2".to_owned(), 2));
}

#[test]
fn limbo_coins_are_settled_by_find_in_the_healing_the_claim_starts() {
    let coins = generate_coins(0, 1, 5);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    for r in 0..13 {
        sim.net.add_fault(FaultRule::new(r, Fault::DropReplyAfterApply).command(Command::Pown));
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["limbo"]["coins"], 5, "{task}");
    let heals = wait_healings(&server);
    assert_eq!(heals.len(), 1, "one healing, started by the claim");
    assert_eq!(heals[0]["data"]["bank"]["coins"], 5, "{}", heals[0]);
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(ids(&bank), ids(&coins));
    for c in &bank {
        assert!(c.pans().is_none());
        assert_eq!(sim.net.sim().agreeing(c), 25);
    }
    assert_eq!(server.balance("Default"), ("5".to_owned(), 5));
}

#[test]
fn fix_without_a_network_is_refused_and_says_why() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Opts::default());
    let r = server.post("/api/v1/fix", &json!({"name": "Default"}));
    let message = r.assert_error(409, 4315);
    assert!(message.contains("--raida-list"), "{message}");
}

#[test]
fn the_raida_route_shows_each_echo() {
    let sim = Sim::start(SimConfig::default());
    sim.offline(3);
    sim.offline(17);
    let data = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let r = server.get("/api/v1/raida");
    assert_eq!(r.status, 200, "{}", r.text());
    let payload = &r.json()["payload"];
    assert_eq!(payload["up"], 23, "{payload}");
    let all = payload["raida"].as_array().expect("list");
    assert_eq!(all.len(), 25);
    for (i, echo) in all.iter().enumerate() {
        assert_eq!(echo["id"], i);
        assert_eq!(echo["up"], i != 3 && i != 17, "{echo}");
        assert_eq!(echo["latency_ms"].is_null(), i == 3 || i == 17, "{echo}");
    }
    let offline = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(offline.path(), Opts::default());
    server.get("/api/v1/raida").assert_error(409, 4315);
}

#[test]
fn an_export_sets_aside_a_coin_gone_counterfeit_and_sends_only_good_coins() {
    let coins = generate_coins(0, 1, 5);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let task = import(&server, "Default", &coin_file(files.path(), "c.bin", &coins), json!({}));
    assert_eq!(task["data"]["claim"]["bank"]["coins"], 5, "{task}");
    // Coin #1 (the first the selection takes) goes counterfeit: 13 RAIDA hold other keys.
    let bad = coins[0].id();
    for r in 0..13 {
        sim.net.sim().set_an(r, bad, Some([0xdd; 16]));
    }
    let task =
        server.export(&json!({"name":"Default","amount":"4","folder":out.path(),"type":"bin"}));
    assert_eq!(task["status"], "completed", "{task}");
    let sent = crate::support::decode_file(Path::new(task["data"]["file"].as_str().expect("file")));
    assert_eq!(sent.len(), 4);
    assert!(!ids(&sent).contains(&bad), "the counterfeit coin was not sent");
    for c in &sent {
        assert_eq!(sim.net.sim().agreeing(c), 25, "every coin sent is good");
    }
    assert_eq!(ids(&folder_coins(data.path(), "Default", "Counterfeit")), HashSet::from([bad]));
    assert_eq!(server.balance("Default"), ("0".to_owned(), 0));
}

#[test]
fn a_server_killed_while_its_pown_is_on_the_wire_settles_the_coins_after_restart() {
    let coins = generate_coins(0, 1, 5);
    let (tx, rx) = std::sync::mpsc::channel::<u8>();
    let tx = Mutex::new(tx);
    let observer = Arc::new(move |req: &LoggedRequest| {
        if req.command == Command::Pown {
            let _ = tx.lock().expect("lock").send(req.raida);
        }
    });
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()).with_observer(observer));
    // Every RAIDA applies the pown and never answers: the wallet cannot know what happened.
    for r in 0..25 {
        sim.net.add_fault(FaultRule::new(r, Fault::StallAfterApply).command(Command::Pown));
    }
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let file = coin_file(files.path(), "c.bin", &coins);
    let r = server.post(
        "/api/v1/import",
        &json!({"name": "Default", "items": [{"type": "file", "data": file}]}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    // Once every RAIDA holds the new keys, the server dies before any answer.
    for _ in 0..25 {
        rx.recv_timeout(std::time::Duration::from_secs(60)).expect("a pown reaches each RAIDA");
    }
    server.kill();
    sim.net.set_faults(cloudcoin_raida_sim::FaultPlan::new());
    // The restarted server finds the coins in Limbo with their PANs and settles them.
    let server = sim.server(data.path());
    let heals = wait_healings(&server);
    assert_eq!(heals.len(), 1, "healing resumed at start");
    assert_eq!(heals[0]["data"]["bank"]["coins"], 5, "{}", heals[0]);
    let bank = folder_coins(data.path(), "Default", "Bank");
    assert_eq!(ids(&bank), ids(&coins));
    for c in &bank {
        assert_eq!(sim.net.sim().agreeing(c), 25, "the wallet kept every key it sent");
    }
}

#[test]
fn importing_a_claimed_file_again_counts_its_coins_as_present() {
    let coins = generate_coins(0, 1, 3);
    let sim = Sim::start(SimConfig::default().with_coins(coins.clone()));
    let data = tempfile::tempdir().expect("temp dir");
    let files = tempfile::tempdir().expect("temp dir");
    let server = sim.server(data.path());
    let file = coin_file(files.path(), "c.bin", &coins);
    let first = import(&server, "Default", &file, json!({}));
    assert_eq!(first["data"]["claim"]["bank"]["coins"], 3, "{first}");
    let again = import(&server, "Default", &file, json!({}));
    assert_eq!(again["data"]["already_present"], 3, "{again}");
    assert_eq!(again["data"]["rejected"].as_array().map(Vec::len), Some(0), "{again}");
    assert_eq!(server.balance("Default"), ("3".to_owned(), 3));
}
