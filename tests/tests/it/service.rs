//! A Service driven in-process: export, wait, import the file back elsewhere.

use cloudcoin_domain::{Amount, FileKind, Pocket, Tag, WalletName};
use cloudcoin_tasks::testing::TestDataDir;
use cloudcoin_tasks::{ExportRequest, ImportItem, ImportRequest, TaskOutcome, TaskStatus};

use crate::coin;

fn amount(text: &str) -> Amount {
    Amount::parse_request(text).expect("an amount")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_wait_and_import_the_file_into_another_wallet() {
    let dir = TestDataDir::with_bank(&[coin(1, 1), coin(0, 2), coin(-1, 3)]).expect("data dir");
    dir.add_coins("Other", Pocket::Bank, &[]).expect("an empty wallet");
    let service = dir.open().await.expect("opens");
    let default = WalletName::parse("Default").expect("name");
    let request =
        ExportRequest::new(default.clone(), amount("11"), dir.export_dir(), FileKind::Png)
            .with_tag(Tag::parse("gift").expect("tag"));
    let task = service.start_export(request).await.expect("started");
    let done = service.wait(task.id).await.expect("known");
    assert_eq!(done.status, TaskStatus::Completed, "{}", done.message);
    let Some(TaskOutcome::Export(out)) = done.outcome else { panic!("{}", done.message) };
    assert_eq!(out.coins, 2);
    let left = service.wallet(&default).await.expect("wallet");
    assert_eq!(left.balance, amount("0.1"));

    let bytes = std::fs::read(&out.file).expect("the exported file");
    let other = WalletName::parse("Other").expect("name");
    // Coins this server sent away: another wallet stores them only when the request allows it.
    let import =
        ImportRequest::new(other.clone(), vec![ImportItem::Bytes(bytes)]).with_sent_coins_allowed();
    let task = service.start_import(import).await.expect("started");
    let done = service.wait(task.id).await.expect("known");
    let Some(TaskOutcome::Import(r)) = done.outcome else { panic!("{}", done.message) };
    assert_eq!((r.imported, r.amount), (2, amount("11")));
    assert_eq!(service.wallet(&other).await.expect("wallet").balance, amount("11"));
    service.shutdown().await;
}
