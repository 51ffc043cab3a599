//! The accept loop: hyper's HTTP/1 connection per socket, two connection budgets, the header
//! timeout with hyper's timer, and graceful shutdown.
//!
//! A new connection is *pending* until it has sent a byte and got a serving slot; pending
//! connections have their own budget ([`ApiConfig::pending_connections`]), so silent
//! connections cannot hold the slots ([`ApiConfig::max_connections`]) that working ones need.
//! When the pending budget is full, the longest-waiting pending connection is closed: a client
//! that sends its request right after connecting (every real one) is never the oldest for long.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cloudcoin_tasks::Service;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tokio::task::JoinSet;

use crate::config::ApiConfig;
use crate::service::Api;

/// Serves the API on `listener` until `shutdown` completes, then stops accepting, lets requests
/// in flight finish, closes idle connections, and waits for running tasks
/// ([`Service::shutdown`]). The same as [`Api::new`] then [`Api::serve`].
///
/// Accept errors (a full file table, say) are logged and retried; the function returns an error
/// only if it cannot continue at all.
///
/// ```no_run
/// # async fn run(service: cloudcoin_tasks::Service) -> std::io::Result<()> {
/// use cloudcoin_api::{ApiConfig, serve};
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8006").await?;
/// let config = ApiConfig::default()
///     .with_allowed_hosts(ApiConfig::hosts_for(listener.local_addr()?))
///     .with_auth_token("a long random token");
/// serve(listener, service, config, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
pub async fn serve(
    listener: TcpListener,
    service: Service,
    config: ApiConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    Api::new(service, config).serve(listener, shutdown).await
}

impl Api {
    /// Serves this API on `listener` until `shutdown` completes (see [`serve`]).
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        self.serve_listeners(vec![listener], shutdown).await
    }

    /// Serves this API on every listener in `listeners` (a name such as `localhost` that
    /// resolves to both `127.0.0.1` and `::1`, say) until `shutdown` completes. The connection
    /// budgets are shared by all of them.
    pub async fn serve_listeners(
        self,
        listeners: Vec<TcpListener>,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        self.publish_sign_in_url().await;
        let config = self.config();
        let budget = Budget {
            active: Arc::new(Semaphore::new(config.max_connections.max(1))),
            pending: Arc::new(Mutex::new(Pending::default())),
            pending_max: config.pending_connections.max(1),
            first_byte_timeout: config.first_byte_timeout,
        };
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .keep_alive(true)
            .max_buf_size(64 * 1024);
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut running = JoinSet::new();
        let (accepted_tx, mut accepted_rx) = tokio::sync::mpsc::channel::<TcpStream>(16);
        let mut acceptors = JoinSet::new();
        for listener in listeners {
            let tx = accepted_tx.clone();
            acceptors.spawn(accept_loop(listener, tx));
        }
        drop(accepted_tx);
        tokio::pin!(shutdown);

        loop {
            let stream = tokio::select! {
                () = &mut shutdown => break,
                stream = accepted_rx.recv() => match stream {
                    Some(stream) => stream,
                    None => break,
                },
            };
            while running.try_join_next().is_some() {}
            let evicted = budget.enter();
            running.spawn(serve_connection(
                stream,
                builder.clone(),
                self.clone(),
                budget.clone(),
                evicted,
                stop_rx.clone(),
            ));
        }

        acceptors.shutdown().await;
        drop(accepted_rx);
        tracing::info!(
            connections = running.len(),
            "shutting down: no longer accepting connections"
        );
        stop_tx.send_replace(true);
        while running.join_next().await.is_some() {}
        tracing::info!("connections closed; waiting for running tasks");
        self.shutdown().await;
        tracing::info!("shutdown complete");
        Ok(())
    }
}

/// Accepts connections on one listener and hands them to the serving loop.
async fn accept_loop(listener: TcpListener, tx: tokio::sync::mpsc::Sender<TcpStream>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "connection accepted");
                if tx.send(stream).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; retrying");
                // Back off so that a full file table does not become a busy loop.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The two connection budgets, shared by every connection.
#[derive(Clone)]
struct Budget {
    active: Arc<Semaphore>,
    pending: Arc<Mutex<Pending>>,
    pending_max: usize,
    first_byte_timeout: Duration,
}

/// The pending connections, oldest first, each with the sender that closes it.
#[derive(Default)]
struct Pending {
    next: u64,
    waiting: BTreeMap<u64, oneshot::Sender<()>>,
}

/// A pending connection's place in the budget; leaving it (dropping) frees the place.
struct PendingPlace {
    id: u64,
    evicted: oneshot::Receiver<()>,
    pending: Arc<Mutex<Pending>>,
}

impl Drop for PendingPlace {
    fn drop(&mut self) {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).waiting.remove(&self.id);
    }
}

impl Budget {
    /// Registers a new pending connection, closing the oldest one if the budget is full.
    fn enter(&self) -> PendingPlace {
        let (tx, rx) = oneshot::channel();
        let mut p = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        while p.waiting.len() >= self.pending_max {
            let Some((_, oldest)) = p.waiting.pop_first() else { break };
            let _ = oldest.send(());
        }
        let id = p.next;
        p.next += 1;
        p.waiting.insert(id, tx);
        PendingPlace { id, evicted: rx, pending: Arc::clone(&self.pending) }
    }

    /// Waits, as a pending connection, for the first byte and then a serving slot.
    async fn admit(
        &self,
        stream: &TcpStream,
        mut place: PendingPlace,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<OwnedSemaphorePermit> {
        let wait = async {
            // `peek` waits for a byte that really arrived (`readable` may report a silent
            // socket ready), and leaves it for hyper to read.
            let mut first = [0u8; 1];
            match tokio::time::timeout(self.first_byte_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
            Arc::clone(&self.active).acquire_owned().await.ok()
        };
        tokio::select! {
            permit = wait => permit,
            _ = &mut place.evicted => {
                tracing::debug!("pending connection closed to make room for a newer one");
                None
            }
            _ = stop.wait_for(|stopping| *stopping) => None,
        }
    }
}

async fn serve_connection(
    stream: TcpStream,
    builder: http1::Builder,
    api: Api,
    budget: Budget,
    place: PendingPlace,
    mut stop: watch::Receiver<bool>,
) {
    let Some(permit) = budget.admit(&stream, place, &mut stop).await else { return };
    let conn = builder.serve_connection(TokioIo::new(stream), api);
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = async { drop(stop.wait_for(|stopping| *stopping).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    drop(permit);
    if let Err(e) = result {
        // Header timeouts and clients that hang up land here; they are not server faults.
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
