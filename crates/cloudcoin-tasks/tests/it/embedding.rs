//! What an embedder uses: coin bytes imported without a file, and waiting for one task.

use cloudcoin_domain::FileKind;
use cloudcoin_tasks::{ImportItem, ImportRequest, TaskId, TaskOutcome, TaskStatus};

use crate::support::{Env, amount, coin, wallet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_are_imported_like_a_file() {
    let env = Env::with_bank(&[]);
    let service = env.open().await;
    let bytes = cloudcoin_codec::encode_bin(&[coin(0, 1), coin(-1, 2)]).expect("encode");
    let items = vec![ImportItem::Bytes(bytes), ImportItem::Bytes(b"not coins".to_vec())];
    let task =
        service.start_import(ImportRequest::new(wallet("Default"), items)).await.expect("start");
    let done = service.wait(task.id).await.expect("known");
    assert_eq!(done.status, TaskStatus::Completed, "{}", done.message);
    let Some(TaskOutcome::Import(r)) = done.outcome else { panic!("{}", done.message) };
    assert_eq!((r.imported, r.amount), (2, amount("1.1")));
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].source, "bytes #1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_returns_the_finished_task_while_the_service_keeps_running() {
    let env = Env::with_bank(&[coin(1, 1), coin(0, 2)]);
    let service = env.open().await;
    let first = service.start_export(env.export_request("10", FileKind::Zip)).await.expect("start");
    let done = service.wait(first.id).await.expect("known");
    assert_eq!(done.status, TaskStatus::Completed, "{}", done.message);
    assert_eq!(done.progress, 100);
    assert!(matches!(done.outcome, Some(TaskOutcome::Export(_))));
    // Waiting again answers at once with the same view, and the service still takes work.
    let again = service.wait(first.id).await.expect("known");
    assert_eq!(
        (again.status, again.finished, again.message),
        (done.status, done.finished, done.message)
    );
    let second = service.start_export(env.export_request("1", FileKind::Bin)).await.expect("start");
    let done = service.wait(second.id).await.expect("known");
    assert_eq!(done.status, TaskStatus::Completed, "{}", done.message);
    assert!(service.wait(TaskId::new()).await.is_none(), "an unknown task");
}
