//! The accept loop: hyper's HTTP/1 connection per socket, a cap on concurrent connections,
//! header-read timeout with hyper's timer, and graceful shutdown.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use cloudcoin_tasks::Service;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::config::ApiConfig;
use crate::routes::{AppState, handle};

/// Serves the API on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish, closes idle connections, and waits for running tasks
/// ([`Service::shutdown`]).
///
/// Accept errors (a full file table, say) are logged and retried; the function returns an error
/// only if it cannot continue at all.
pub async fn serve(
    listener: TcpListener,
    service: Service,
    config: ApiConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let state = Arc::new(AppState { service: service.clone(), config });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut running = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => {
                permit.expect("the connection semaphore is never closed")
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; retrying");
                    // Back off so that a full file table does not become a busy loop.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while running.try_join_next().is_some() {}
        tracing::debug!(%peer, "connection accepted");
        let conn = serve_connection(stream, builder.clone(), Arc::clone(&state), stop_rx.clone());
        running.spawn(async move {
            conn.await;
            drop(permit);
        });
    }

    drop(listener);
    tracing::info!(connections = running.len(), "shutting down: no longer accepting connections");
    stop_tx.send_replace(true);
    while running.join_next().await.is_some() {}
    tracing::info!("connections closed; waiting for running tasks");
    service.shutdown().await;
    tracing::info!("shutdown complete");
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    builder: http1::Builder,
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) {
    let svc = service_fn(move |req| {
        let state = Arc::clone(&state);
        async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = async { drop(stop.wait_for(|stopping| *stopping).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Header timeouts and clients that hang up land here; they are not server faults.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
