//! Recovery at open: journal records left by a crash are rolled back or forward, once.

use cloudcoin_domain::{FileKind, Tag, single_coin_file_name};
use cloudcoin_tasks::{FailureKind, TaskId, TaskOutcome, TaskStatus};

use crate::support::*;

/// Writes the journal record and the running task record an export leaves when it dies.
fn leave_export_record(
    env: &Env,
    id: TaskId,
    coins: &[cloudcoin_domain::Coin],
    temp: &str,
    final_name: Option<&str>,
    committed: bool,
) {
    let journal_coins: Vec<serde_json::Value> = coins
        .iter()
        .map(|c| {
            serde_json::json!({
                "dn": c.denomination.code(), "sn": c.serial.get(), "folder": "Bank",
                "file": single_coin_file_name(c, &Tag::empty(), FileKind::Bin),
            })
        })
        .collect();
    let units: u64 = coins.iter().map(|c| c.value().expect("money").units()).sum();
    let record = serde_json::json!({
        "version": 1, "op": "export", "id": id.to_string(), "wallet": "Default",
        "coins": journal_coins, "coins_digest": journal_digest(coins),
        "target_dir": env.out, "temp": (!temp.is_empty()).then_some(temp), "final_name": final_name,
        "committed": committed, "amount_units": units, "tag": "trade",
    });
    let own = env.data.join(".cloudcoin");
    std::fs::create_dir_all(own.join("journal")).expect("journal dir");
    std::fs::create_dir_all(own.join("tasks")).expect("tasks dir");
    std::fs::write(own.join(format!("journal/{id}.json")), record.to_string()).expect("journal");
    let task = serde_json::json!({
        "id": id.to_string(), "kind": "export", "status": "running", "progress": 40,
        "message": "Writing coins", "started": 1_700_000_000u64, "finished": 0,
    });
    std::fs::write(own.join(format!("tasks/{id}.json")), task.to_string()).expect("task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpublished_export_is_rolled_back() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let id = TaskId::new();
    let taken = &start[..3];
    let temp = format!(".30 CloudCoin #3 'trade'.bin.{id}.partial");
    std::fs::write(env.out.join(&temp), b"half a file").expect("partial");
    leave_export_record(&env, id, taken, &temp, None, false);

    let service = env.open().await;
    assert!(all_names(&env.out).is_empty(), "the partial file is removed");
    assert_each_coin_once(&env, &start);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("36"));
    let v = service.task(id).expect("the task survives the restart");
    assert_eq!(v.status, TaskStatus::Error);
    assert_eq!(v.message, "interrupted by a restart; the coins were returned to the wallet");
    assert!(
        matches!(v.outcome, Some(TaskOutcome::Failed(ref f)) if f.kind == FailureKind::Interrupted)
    );
    assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_export_is_rolled_forward_once() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let id = TaskId::new();
    let taken = start[..3].to_vec();
    let final_name = "30 CloudCoin #3 'trade'.bin";
    std::fs::write(env.out.join(final_name), cloudcoin_codec::encode_bin(&taken).expect("encode"))
        .expect("final file");
    leave_export_record(&env, id, &taken, "", Some(final_name), true);

    let service = env.open().await;
    assert_each_coin_once(&env, &start);
    assert_eq!(ids(&coins_in(&env.folder("Default", "Sent"))), ids(&taken));
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("6"));
    let v = service.task(id).expect("known");
    assert_eq!(v.status, TaskStatus::Completed);
    assert_eq!(v.message, "Export completed successfully");
    let Some(TaskOutcome::Export(r)) = v.outcome else { panic!("no result") };
    assert_eq!((r.file, r.coins, r.amount), (env.out.join(final_name), 3, amount("30")));
    drop(service);

    // Again, as if recovery itself had been interrupted: nothing changes, one transaction row.
    leave_export_record(&env, id, &taken, "", Some(final_name), true);
    let service = env.open().await;
    assert_each_coin_once(&env, &start);
    assert_eq!(service.task(id).map(|v| v.status), Some(TaskStatus::Completed));
    let csv =
        std::fs::read_to_string(env.data.join("Wallets/Default/transactions.csv")).expect("csv");
    assert_eq!(csv.lines().filter(|l| l.contains(&id.to_string())).count(), 1, "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_final_file_that_does_not_verify_holds_the_coins_back_until_it_does() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let id = TaskId::new();
    let taken = start[..3].to_vec();
    let final_name = "30 CloudCoin #3 'trade'.bin";
    // A file under the name that holds two of the three coins only: the export may have been
    // linked there and replaced since, so its coins are neither spent again nor taken as sent.
    let wrong = cloudcoin_codec::encode_bin(&start[..2]).expect("encode");
    std::fs::write(env.out.join(final_name), &wrong).expect("file");
    leave_export_record(&env, id, &taken, "", Some(final_name), false);
    let service = env.open().await;
    let v = service.task(id).expect("known");
    assert_eq!(v.status, TaskStatus::Error);
    assert!(v.message.starts_with("needs attention"), "{}", v.message);
    assert!(v.message.contains("does not hold the export's coins"), "{}", v.message);
    assert!(v.message.contains(&format!("{id}.json")), "says which record to move: {}", v.message);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("6"), "the coins are held back, not spendable");
    assert!(files_in(&env.folder("Default", "Sent")).is_empty(), "nor sent");
    assert_eq!(ids(&coins_in(&env.folder("Default", "Bank"))), ids(&start), "files stay");
    drop(service);

    // The real file comes back: the export is finished at the next start.
    std::fs::write(env.out.join(final_name), cloudcoin_codec::encode_bin(&taken).expect("encode"))
        .expect("file");
    let service = env.open().await;
    assert_each_coin_once(&env, &start);
    let v = service.task(id).expect("known");
    assert_eq!(v.status, TaskStatus::Completed, "{}", v.message);
    assert!(all_names(&env.data.join(".cloudcoin/journal")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_export_goes_forward_even_when_its_file_is_gone() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let id = TaskId::new();
    let taken = start[..3].to_vec();
    leave_export_record(&env, id, &taken, "", Some("30 CloudCoin #3 'trade'.bin"), true);
    std::fs::remove_dir(&env.out).expect("the folder is gone");
    let service = env.open().await;
    let v = service.task(id).expect("known");
    assert_eq!(v.status, TaskStatus::Completed, "{}", v.message);
    assert_eq!(ids(&coins_in(&env.folder("Default", "Sent"))), ids(&taken));
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("6"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_temporary_file_keeps_the_coins_until_it_is_removed() {
    let start = mixed_coins();
    let env = Env::with_bank(&start);
    let id = TaskId::new();
    let taken = &start[..3];
    let temp = format!(".30 CloudCoin #3 'trade'.bin.{id}.partial");
    std::fs::write(env.out.join(&temp), cloudcoin_codec::encode_bin(taken).expect("encode"))
        .expect("a complete temporary file");
    leave_export_record(&env, id, taken, &temp, None, false);
    let away = env.out.with_file_name("away");
    std::fs::rename(&env.out, &away).expect("the folder is unplugged");
    let service = env.open().await;
    let v = service.task(id).expect("known");
    assert!(v.message.starts_with("needs attention") && v.message.contains(&temp), "{}", v.message);
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("6"), "a readable copy may exist: the coins stay reserved");
    drop(service);
    std::fs::rename(&away, &env.out).expect("plugged in again");
    let service = env.open().await;
    assert!(all_names(&env.out).is_empty(), "the copy is removed");
    let v = service.task(id).expect("known");
    assert_eq!(v.message, "interrupted by a restart; the coins were returned to the wallet");
    let w = service.wallet(&wallet("Default")).await.expect("wallet");
    assert_eq!(w.balance, amount("36"));
    assert_each_coin_once(&env, &start);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_task_without_a_journal_ends_as_interrupted() {
    let env = Env::with_bank(&mixed_coins());
    let id = TaskId::new();
    leave_export_record(&env, id, &mixed_coins()[..1], "x", None, false);
    std::fs::remove_file(env.data.join(format!(".cloudcoin/journal/{id}.json"))).expect("rm");
    let service = env.open().await;
    let v = service.task(id).expect("known");
    assert_eq!(v.status, TaskStatus::Error);
    assert!(v.message.contains("interrupted"), "{}", v.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_record_stops_the_start() {
    let env = Env::with_bank(&mixed_coins());
    let journal = env.data.join(".cloudcoin/journal");
    std::fs::create_dir_all(&journal).expect("dir");
    std::fs::write(journal.join("broken.json"), b"{").expect("write");
    let config = env.config();
    let e = tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config))
        .await
        .expect("join")
        .expect_err("refused");
    assert!(matches!(e, cloudcoin_tasks::OpenError::Recovery(_)), "{e}");
    assert!(e.to_string().contains("broken.json"), "{e}");
}
