//! `serve` in-process: graceful shutdown and the envelope for failures the service reports.

mod connections;
mod shutdown;

/// A service on a fresh data directory (kept alive by the returned `TempDir`).
pub(crate) async fn open_service() -> (tempfile::TempDir, cloudcoin_tasks::Service) {
    let data = tempfile::tempdir().expect("temp dir");
    let config = cloudcoin_tasks::ServiceConfig::new(data.path())
        .with_task_retention(std::time::Duration::from_secs(3600));
    let service = tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config))
        .await
        .expect("open thread")
        .expect("service opens");
    (data, service)
}
