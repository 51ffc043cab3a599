//! Every endpoint through the client, against the api crate's server in this process on
//! 127.0.0.1:0 with a temporary data directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use cloudcoin_client::wire::{ExportRequest, ImportItem, ImportRequest, TaskData};
use cloudcoin_client::{Client, Error, FileKind, TaskId, TaskStatus, WalletName, codes};

const TOKEN: &str = "client-test-token-0123456789";

struct Running {
    url: String,
    _data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Running {
    let data = tempfile::tempdir().expect("temp dir");
    let config = cloudcoin_tasks::ServiceConfig::new(data.path().join("data"))
        .with_task_retention(Duration::from_secs(3600));
    let service = tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config))
        .await
        .expect("the open thread")
        .expect("the service opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let config = cloudcoin_api::ApiConfig::default()
        .with_allowed_hosts(cloudcoin_api::ApiConfig::hosts_for(addr))
        .with_auth_token(TOKEN);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(cloudcoin_api::serve(listener, service, config, async {
        let _ = stopped.await;
    }));
    Running { url: format!("http://{addr}"), _data: data, stop: Some(stop), served }
}

impl Running {
    fn client(&self) -> Client {
        Client::builder(&self.url).token(TOKEN).build().expect("a client")
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.served).await.expect("the server task").expect("served");
    }
}

fn test_coin_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-coins");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the test coins")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 18);
    files
}

fn name(text: &str) -> WalletName {
    WalletName::parse(text).expect("a wallet name")
}

fn code(result: Result<impl std::fmt::Debug, Error>) -> (u16, u16) {
    let e = result.expect_err("refused");
    let api = e.api().unwrap_or_else(|| panic!("an API refusal, not {e:?}"));
    (api.status, api.code())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint() {
    let server = start().await;
    let client = server.client();

    assert_eq!(client.health().await.expect("health").status, "ok");
    let info = client.info().await.expect("info");
    assert_eq!((info.name.as_str(), info.api.as_str()), ("cloudcoin-server", "v1"));

    // Wallets: create, refuse a second, list, show, delete.
    let bob = client.create_wallet(&name("Bob Smith")).await.expect("created");
    assert_eq!((bob.name.as_str(), bob.balance.to_string().as_str()), ("Bob Smith", "0"));
    assert_eq!(code(client.create_wallet(&name("Bob Smith")).await), (409, codes::WALLET_EXISTS));
    let names: Vec<String> =
        client.wallets().await.expect("list").iter().map(|w| w.name.as_str().to_owned()).collect();
    assert_eq!(names, ["Bob Smith", "Default"]);
    assert_eq!(code(client.wallet(&name("Nobody")).await), (404, codes::WALLET_NOT_FOUND));

    // An import, followed with `wait`: progress never goes back, the last state is finished.
    let items = test_coin_files().into_iter().map(ImportItem::File).collect();
    let task = client.import(&ImportRequest::new(name("Bob Smith"), items)).await.expect("import");
    let mut wait = client.wait(task.id);
    let mut seen = Vec::new();
    while let Some(state) = wait.next().await {
        seen.push(state.expect("a poll"));
    }
    assert!(seen.windows(2).all(|w| w[0].progress <= w[1].progress), "{seen:?}");
    let done = seen.last().expect("at least the finished task");
    assert_eq!(done.status, TaskStatus::Completed, "{done:?}");
    let Some(TaskData::Import(imported)) = &done.data else { panic!("import data: {done:?}") };
    assert_eq!((imported.imported, imported.amount.to_string().as_str()), (18, "126"));
    assert!(wait.next().await.is_none(), "nothing after the finished task");

    let detail = client.wallet(&name("Bob Smith")).await.expect("detail");
    assert_eq!((detail.balance.to_string().as_str(), detail.coins), ("126", 18));

    // Refusals carry the code and the details.
    let out = tempfile::tempdir().expect("temp dir");
    let too_much = ExportRequest::new(
        name("Bob Smith"),
        "500".parse().expect("amount"),
        out.path(),
        FileKind::Bin,
    );
    let e = client.export(&too_much).await.expect_err("not enough");
    assert_eq!(e.code(), Some(codes::NOT_ENOUGH_COINS));
    let details = e.api().and_then(|a| a.payload.details.clone()).expect("details");
    assert_eq!(details.balance.map(|b| b.to_string()).as_deref(), Some("126"));

    // An export, and the same key again: the same task, one file.
    let request = ExportRequest::new(
        name("Bob Smith"),
        "10.5".parse().expect("amount"),
        out.path(),
        FileKind::Stack,
    );
    let task = client.export_with_key(&request, "key-1").await.expect("export");
    let again = client.export_with_key(&request, "key-1").await.expect("the same export");
    assert_eq!(again.id, task.id);
    let done = client.wait(task.id).finish(|_| {}).await.expect("finished");
    let Some(TaskData::Export(file)) = &done.data else { panic!("export data: {done:?}") };
    assert_eq!((file.coins, file.amount.to_string().as_str()), (6, "10.5"));
    assert!(file.file.starts_with(out.path()) && file.file.exists(), "{file:?}");
    assert_eq!(std::fs::read_dir(out.path()).expect("dir").count(), 1);
    // Without a key, each call is its own export.
    let other = client.export(&request).await.expect("a second export");
    assert_ne!(other.id, task.id);
    client.wait(other.id).finish(|_| {}).await.expect("finished");

    // Tasks: listed newest first, one by id, an unknown id refused.
    let tasks = client.tasks().await.expect("tasks");
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[0].id, other.id);
    assert_eq!(client.task(task.id).await.expect("task").id, task.id);
    assert_eq!(code(client.task(TaskId::new()).await), (404, codes::TASK_NOT_FOUND));

    // Delete: an empty wallet goes, a wallet with coins stays.
    assert_eq!(
        code(client.delete_wallet(&name("Bob Smith")).await),
        (409, codes::WALLET_NOT_EMPTY)
    );
    client.create_wallet(&name("Empty")).await.expect("created");
    assert_eq!(client.delete_wallet(&name("Empty")).await.expect("deleted").deleted, "Empty");

    // A wrong token is refused with its code; a closed port fails to connect.
    let wrong =
        Client::builder(&server.url).token("wrong-token-wrong-token").build().expect("client");
    assert_eq!(code(wrong.wallets().await), (401, codes::UNAUTHORIZED));
    let url = server.url.clone();
    server.stop().await;
    let gone = Client::builder(url).token(TOKEN).build().expect("client");
    let e = gone.info().await.expect_err("nothing listens");
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    assert!(e.is_transport() && !e.is_unanswered());
}
