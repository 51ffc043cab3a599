//! The real server killed at every named step of export and import, then restarted on the same
//! data directory (issue 5, acceptance 1; needs the `fault-injection` feature).

use std::collections::BTreeSet;
use std::path::Path;

use cloudcoin_domain::CoinId;
use cloudcoin_tasks::FaultPoint;
use serde_json::{Value, json};

use crate::support::{
    Opts, Server, coins, decode_file, file_names, folder_ids, ids, mixed_coins, put_coins,
};

fn crashing(step: FaultPoint) -> Opts {
    Opts { envs: vec![("CLOUDCOIN_FAULT".into(), step.to_string())], ..Opts::default() }
}

/// Starts a task that makes the server abort; returns the task id once the process is gone.
fn start_and_crash(data: &Path, step: FaultPoint, path: &str, body: &Value) -> String {
    start_and_crash_with(data, step, crashing(step), path, body)
}

/// [`start_and_crash`] with the server's options given.
///
/// The task runs beside the request that started it, so the server may abort at `step` before
/// its 202 is written: a client then sees the connection close. The task is recorded before it
/// starts, so a restarted server lists it, and the id is taken from that list (the only task).
fn start_and_crash_with(
    data: &Path,
    step: FaultPoint,
    opts: Opts,
    path: &str,
    body: &Value,
) -> String {
    let server = Server::start_in(data, opts);
    let answer = server.try_post(path, body);
    let status = server.wait_exit();
    assert!(!status.success(), "{step}: the server should have aborted, it exited with {status}");
    if let Some(r) = answer {
        assert_eq!(r.status, 202, "{step}: {}", r.text());
        return r.json()["payload"]["id"].as_str().expect("id").to_owned();
    }
    let server = Server::start_in(data, Opts::default());
    let tasks = server.get("/api/v1/tasks").json();
    let tasks = tasks["payload"].as_array().expect("tasks").clone();
    assert_eq!(tasks.len(), 1, "{step}: the task died unanswered and the list is {tasks:?}");
    tasks[0]["id"].as_str().expect("id").to_owned()
}

fn spendable(data: &Path, wallet: &str) -> BTreeSet<CoinId> {
    let mut all = folder_ids(data, wallet, "Bank");
    let fracked = folder_ids(data, wallet, "Fracked");
    assert!(all.is_disjoint(&fracked), "a coin in both Bank and Fracked");
    all.extend(fracked);
    all
}

#[test]
fn an_export_killed_at_any_step_leaves_every_coin_in_one_place() {
    let start = mixed_coins();
    for &step in FaultPoint::EXPORT {
        let data = tempfile::tempdir().expect("temp dir");
        let out = tempfile::tempdir().expect("temp dir");
        put_coins(data.path(), "Default", "Bank", &start);
        let body =
            json!({"name":"Default","amount":10.5,"folder":out.path(),"type":"bin","tag":"crash"});
        let id = start_and_crash(data.path(), step, "/api/v1/export", &body);

        let server = Server::start_in(data.path(), Opts::default());
        let (_, task) = server.wait_task(&id);
        let finals: Vec<String> =
            file_names(out.path()).into_iter().filter(|n| !n.starts_with('.')).collect();
        let leftovers: Vec<String> =
            file_names(out.path()).into_iter().filter(|n| n.starts_with('.')).collect();
        assert!(leftovers.is_empty(), "{step}: temporary files left: {leftovers:?}");
        let bank = spendable(data.path(), "Default");
        let sent = folder_ids(data.path(), "Default", "Sent");
        assert!(bank.is_disjoint(&sent), "{step}: a coin both spendable and sent");
        let mut everywhere = bank.clone();
        everywhere.extend(sent.iter().copied());
        assert_eq!(everywhere, ids(&start), "{step}: a coin was lost or invented");
        match task["status"].as_str() {
            Some("completed") => {
                assert_eq!(finals.len(), 1, "{step}: {finals:?}");
                let exported = ids(&decode_file(&out.path().join(&finals[0])));
                assert_eq!(exported, sent, "{step}: the file holds exactly the sent coins");
                assert_eq!(exported.len(), 6, "{step}");
            }
            Some("error") => {
                assert!(finals.is_empty(), "{step}: a failed export left {finals:?}");
                assert!(sent.is_empty(), "{step}: coins in Sent after a failed export");
                assert!(!task["message"].as_str().unwrap_or("").is_empty(), "{step}");
            }
            other => panic!("{step}: task after restart is {other:?}: {task}"),
        }
        // The wallet still works.
        let again =
            server.export(&json!({"name":"Default","amount":1,"folder":out.path(),"type":"stack"}));
        assert_eq!(again["status"], "completed", "{step}: {again}");
    }
}

#[test]
fn an_import_killed_at_any_step_stores_each_coin_at_most_once() {
    let incoming = coins(0, 9000, 6);
    // Each step with unnamed files (the usual way) and with the named temporary files of file
    // systems that cannot make them; only the latter has a temporary name to remove.
    let cases = FaultPoint::IMPORT.iter().flat_map(|&step| {
        let named_only = step == FaultPoint::ImportUnlinkTemp;
        [(step, true)].into_iter().chain((!named_only).then_some((step, false)))
    });
    for (step, named) in cases {
        let data = tempfile::tempdir().expect("temp dir");
        let src = tempfile::tempdir().expect("temp dir");
        let file = src.path().join("incoming.bin");
        let bytes = cloudcoin_codec::encode_bin(&incoming).expect("encode");
        std::fs::write(&file, &bytes).expect("write");
        put_coins(data.path(), "Default", "Bank", &mixed_coins());
        let body = json!({"name":"Default","items":[{"type":"file","data":file}]});
        let mut opts = crashing(step);
        if named {
            opts.envs.push(("CLOUDCOIN_FAULT_NO_TMPFILE".into(), "1".into()));
        }
        let id = start_and_crash_with(data.path(), step, opts, "/api/v1/import", &body);

        let server = Server::start_in(data.path(), Opts::default());
        let (_, task) = server.wait_task(&id);
        let bank = spendable(data.path(), "Default");
        let arrived: BTreeSet<CoinId> = bank.intersection(&ids(&incoming)).copied().collect();
        assert!(ids(&mixed_coins()).is_subset(&bank), "{step}: an existing coin vanished");
        match task["status"].as_str() {
            Some("completed") => assert_eq!(arrived, ids(&incoming), "{step}: {task}"),
            Some("error") => {
                assert!(!task["message"].as_str().unwrap_or("").is_empty(), "{step}");
            }
            other => panic!("{step}: task after restart is {other:?}: {task}"),
        }
        assert_eq!(std::fs::read(&file).expect("source"), bytes, "{step}: the source is untouched");
        // Importing again completes the set, with nothing stored twice.
        let r = server.post("/api/v1/import", &body);
        assert_eq!(r.status, 202, "{}", r.text());
        let again_id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
        let (_, again) = server.wait_task(&again_id);
        assert_eq!(again["status"], "completed", "{step}: {again}");
        assert_eq!(
            again["data"]["imported"].as_u64(),
            Some((6 - arrived.len()) as u64),
            "{step}: {again}"
        );
        assert!(ids(&incoming).is_subset(&spendable(data.path(), "Default")), "{step}");
    }
}

#[test]
fn an_io_error_at_any_export_step_fails_the_task_and_returns_the_coins() {
    let start = mixed_coins();
    // Disk full while writing, fsync failing. (After the rename the file is final and complete,
    // so the tasks crate rolls an error there forward instead.)
    for step in [FaultPoint::ExportAfterWrite, FaultPoint::ExportAfterFsync] {
        let data = tempfile::tempdir().expect("temp dir");
        let out = tempfile::tempdir().expect("temp dir");
        put_coins(data.path(), "Default", "Bank", &start);
        let opts =
            Opts { envs: vec![("CLOUDCOIN_FAULT_IO".into(), step.to_string())], ..Opts::default() };
        let server = Server::start_in(data.path(), opts);
        let task = server
            .export(&json!({"name":"Default","amount":10.5,"folder":out.path(),"type":"zip"}));
        assert_eq!(task["status"], "error", "{step}: {task}");
        assert!(task["data"]["code"].as_u64().is_some_and(|c| c >= 4300), "{step}: {task}");
        assert!(!task["data"]["message"].as_str().unwrap_or("").is_empty(), "{step}: {task}");
        assert!(file_names(out.path()).is_empty(), "{step}: {:?}", file_names(out.path()));
        assert_eq!(spendable(data.path(), "Default"), ids(&start), "{step}: coins are back");
        assert!(folder_ids(data.path(), "Default", "Sent").is_empty(), "{step}");
        assert_eq!(server.balance("Default").0, "147.5", "{step}");
    }
}

/// A deterministic pseudo-random sequence (xorshift), so a failing round can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn fifty_random_sigkills_during_exports_lose_and_duplicate_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    let mut start = mixed_coins();
    start.extend(coins(-2, 1, 3000)); // 30 in 0.01 coins, so exports have many coins to write
    put_coins(data.path(), "Default", "Bank", &start);
    let all = ids(&start);
    let slow =
        Opts { envs: vec![("CLOUDCOIN_SLOW_WRITE_MS".into(), "5".into())], ..Opts::default() };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let kinds = ["bin", "stack", "png", "zip"];
    for round in 0..50 {
        let server = Server::start_in(data.path(), slow.clone());
        let kind = kinds[rng.next(4) as usize];
        let units = 1 + rng.next(300); // 0.01 .. 3.00
        let amount = format!("{}.{:02}", units / 100, units % 100);
        let body = json!({"name":"Default","amount":amount,"folder":out.path(),"type":kind,"tag":format!("r{round}")});
        let r = server.post("/api/v1/export", &body);
        assert!(r.status == 202 || r.status == 422, "round {round}: {}", r.text());
        // Kill at a pseudo-random moment: after 0 to 30 status polls.
        if r.status == 202 {
            let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
            for _ in 0..rng.next(30) {
                server.get(&format!("/api/v1/tasks/{id}"));
            }
        }
        server.kill();
        check_invariant(data.path(), out.path(), &all, round);
    }
    let server = Server::start_in(data.path(), Opts::default());
    let tasks = server.get("/api/v1/tasks").json();
    for t in tasks["payload"].as_array().expect("tasks") {
        assert_ne!(t["status"], "running", "a task still running after recovery: {t}");
    }
    drop(server);
    check_invariant(data.path(), out.path(), &all, 50);
}

/// Every coin is spendable, or in Sent and in exactly one complete output file.
fn check_invariant(data: &Path, out: &Path, all: &BTreeSet<CoinId>, round: usize) {
    // Recovery runs at start-up: start the server once so the disk is settled, then read it.
    let server = Server::start_in(data, Opts::default());
    drop(server);
    let bank = spendable(data, "Default");
    let sent = folder_ids(data, "Default", "Sent");
    assert!(bank.is_disjoint(&sent), "round {round}: a coin both spendable and sent");
    let mut in_files: BTreeSet<CoinId> = BTreeSet::new();
    for name in file_names(out) {
        assert!(!name.starts_with('.'), "round {round}: temporary file {name} left after recovery");
        for c in decode_file(&out.join(&name)) {
            assert!(in_files.insert(c.id()), "round {round}: coin {} in two files", c.id());
        }
    }
    assert_eq!(in_files, sent, "round {round}: Sent and the output files disagree");
    let mut everywhere = bank;
    everywhere.extend(sent);
    assert_eq!(&everywhere, all, "round {round}: a coin was lost or invented");
}

#[test]
fn a_published_export_whose_folder_is_unplugged_at_restart_is_held_back_not_returned() {
    let start = mixed_coins();
    let data = tempfile::tempdir().expect("temp dir");
    let base = tempfile::tempdir().expect("temp dir");
    let out = base.path().join("stick");
    let away = base.path().join("stick-unplugged");
    std::fs::create_dir(&out).expect("mkdir");
    put_coins(data.path(), "Default", "Bank", &start);
    // Killed between the link and the commit record: the journal cannot say the link happened.
    let body = json!({"name":"Default","amount":10.5,"folder":out,"type":"bin","tag":"stick"});
    let id = start_and_crash(data.path(), FaultPoint::ExportAfterRename, "/api/v1/export", &body);
    std::fs::rename(&out, &away).expect("unplug");

    let server = Server::start_in(data.path(), Opts::default());
    let (_, task) = server.wait_task(&id);
    assert_eq!(task["status"], "error", "{task}");
    let message = task["data"]["message"].as_str().unwrap_or("").to_owned();
    assert!(message.starts_with("needs attention"), "{task}");
    assert!(message.contains("10.5 CloudCoin #6 'stick'.bin"), "{task}");
    assert_eq!(server.balance("Default").0, "137", "the 10.5 stay out of the balance");
    // Nothing can spend them meanwhile.
    let r = server.post(
        "/api/v1/export",
        &json!({"name":"Default","amount":147.5,"folder":base.path(),"type":"bin"}),
    );
    assert_ne!(r.status, 202, "the held-back coins were spendable: {}", r.text());
    server.stop();

    // Plugged in again: the next start finishes the export.
    std::fs::rename(&away, &out).expect("plug in");
    let server = Server::start_in(data.path(), Opts::default());
    let (_, task) = server.wait_task(&id);
    assert_eq!(task["status"], "completed", "{task}");
    assert_eq!(server.balance("Default").0, "137");
    let sent = folder_ids(data.path(), "Default", "Sent");
    assert_eq!(ids(&decode_file(&out.join("10.5 CloudCoin #6 'stick'.bin"))), sent);
    assert!(spendable(data.path(), "Default").is_disjoint(&sent));
}
