//! The 25 RAIDA on loopback TCP ports, with the fault plan applied per request.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudcoin_domain::RAIDA_COUNT;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::SimConfig;
use crate::fault::{Fault, FaultPlan, FaultRule};
use crate::raida::lock;
use crate::sim::{Apply, Simulator};
use crate::wire::{Command, HEADER_LEN};

/// How long a connection may take to deliver a request body it announced.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Node {
    addr: SocketAddr,
    offline: AtomicBool,
    accept: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    sim: Simulator,
    faults: Mutex<FaultPlan>,
    nodes: Vec<Node>,
    stop: watch::Sender<bool>,
}

/// A running simulated network: 25 RAIDA, each listening on its own TCP port.
///
/// Dropping it (or [`Network::shutdown`]) stops the listeners and ends open connections.
///
/// ```
/// use cloudcoin_raida_sim::{generate_coins, Network, SimConfig};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let coins = generate_coins(1, 1, 100);
/// let net = Network::start(SimConfig::default().with_coins(coins.clone())).await.unwrap();
/// assert_eq!(net.addresses().len(), 25);
/// assert_eq!(net.address_list().lines().count(), 25);
/// assert_eq!(net.sim().agreeing(&coins[0]), 25);
/// # });
/// ```
#[derive(Debug)]
pub struct Network {
    shared: Arc<Shared>,
}

impl Network {
    /// Binds the 25 listeners (to the configured address and ports; port 0 lets the system
    /// choose) and starts serving. Needs a tokio runtime.
    ///
    /// ```
    /// use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// assert!(net.addresses().iter().all(|a| a.ip().is_loopback() && a.port() != 0));
    /// # });
    /// ```
    pub async fn start(config: SimConfig) -> io::Result<Network> {
        let mut listeners = Vec::with_capacity(RAIDA_COUNT);
        for port in config.ports {
            listeners.push(TcpListener::bind((config.bind, port)).await?);
        }
        let mut nodes = Vec::with_capacity(RAIDA_COUNT);
        for l in &listeners {
            nodes.push(Node {
                addr: l.local_addr()?,
                offline: AtomicBool::new(false),
                accept: Mutex::new(None),
            });
        }
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            sim: Simulator::new(config),
            faults: Mutex::new(FaultPlan::new()),
            nodes,
            stop,
        });
        for (r, listener) in listeners.into_iter().enumerate() {
            let task = tokio::spawn(accept_loop(Arc::clone(&shared), r as u8, listener));
            *lock(&shared.nodes[r].accept) = Some(task);
        }
        Ok(Network { shared })
    }

    /// The address of RAIDA 0 … 24.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// assert_ne!(net.addresses()[0], net.addresses()[1]);
    /// # });
    /// ```
    pub fn addresses(&self) -> Vec<SocketAddr> {
        self.shared.nodes.iter().map(|n| n.addr).collect()
    }

    /// The address list file's text: `host:port` a line, line number = RAIDA id.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// let first = net.address_list().lines().next().unwrap().to_owned();
    /// assert_eq!(first, net.addresses()[0].to_string());
    /// # });
    /// ```
    pub fn address_list(&self) -> String {
        self.shared.nodes.iter().map(|n| format!("{}\n", n.addr)).collect()
    }

    /// Writes [`Network::address_list`] to `path` (blocking file IO: from async code, call it in
    /// `spawn_blocking`).
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// let path = std::env::temp_dir().join(format!("raida-list-{}.txt", std::process::id()));
    /// let text = net.address_list();
    /// let p = path.clone();
    /// tokio::task::spawn_blocking(move || net.write_address_list(&p)).await.unwrap().unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    /// # std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    pub fn write_address_list(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.address_list())
    }

    /// The RAIDA's state and logs: inspect and set ANs, read what crossed the wire.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// assert!(net.sim().log_all().is_empty());
    /// # });
    /// ```
    pub fn sim(&self) -> &Simulator {
        &self.shared.sim
    }

    /// Adds a rule to the fault plan; it counts calls from now on.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Fault, FaultRule, Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// net.add_fault(FaultRule::new(5, Fault::DropBeforeApply));
    /// # });
    /// ```
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.shared.faults).add(rule);
    }

    /// Replaces the whole fault plan.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{FaultPlan, Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// net.set_faults(FaultPlan::new());
    /// # });
    /// ```
    pub fn set_faults(&self, plan: FaultPlan) {
        *lock(&self.shared.faults) = plan;
    }

    /// Takes RAIDA `raida` offline: its listener is closed when this returns (connections are
    /// refused) and open connections end without an answer, until [`Network::set_online`].
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// net.set_offline(3).await;
    /// assert!(!net.is_online(3));
    /// assert!(tokio::net::TcpStream::connect(net.addresses()[3]).await.is_err());
    /// net.set_online(3).await.unwrap();
    /// assert!(tokio::net::TcpStream::connect(net.addresses()[3]).await.is_ok());
    /// # });
    /// ```
    pub async fn set_offline(&self, raida: u8) {
        go_offline(&self.shared, raida).await;
    }

    /// Brings RAIDA `raida` back on its old address.
    ///
    /// # Errors
    ///
    /// The bind error when the old port is no longer free.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// net.set_online(0).await.unwrap(); // already online: nothing to do
    /// assert!(net.is_online(0));
    /// # });
    /// ```
    pub async fn set_online(&self, raida: u8) -> io::Result<()> {
        let Some(node) = self.shared.nodes.get(usize::from(raida)) else { return Ok(()) };
        if !node.offline.load(Ordering::SeqCst) {
            return Ok(());
        }
        let listener = TcpListener::bind(node.addr).await?;
        let task = tokio::spawn(accept_loop(Arc::clone(&self.shared), raida, listener));
        *lock(&node.accept) = Some(task);
        node.offline.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Whether RAIDA `raida` is online.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// assert!(net.is_online(24));
    /// # });
    /// ```
    pub fn is_online(&self, raida: u8) -> bool {
        self.shared.nodes.get(usize::from(raida)).is_some_and(|n| !n.offline.load(Ordering::SeqCst))
    }

    /// Stops the listeners and ends open connections, without waiting: the ports close moments
    /// later (as when the network is dropped). See [`Network::shutdown_and_wait`].
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// net.shutdown();
    /// # });
    /// ```
    pub fn shutdown(self) {
        drop(self);
    }

    /// Stops the listeners and ends open connections; the ports are closed when this returns.
    ///
    /// ```
    /// # use cloudcoin_raida_sim::{Network, SimConfig};
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let net = Network::start(SimConfig::default()).await.unwrap();
    /// let addr = net.addresses()[0];
    /// net.shutdown_and_wait().await;
    /// assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    /// # });
    /// ```
    pub async fn shutdown_and_wait(self) {
        self.shared.stop.send_replace(true);
        for r in 0..RAIDA_COUNT as u8 {
            go_offline(&self.shared, r).await;
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
        for node in &self.shared.nodes {
            if let Some(task) = lock(&node.accept).take() {
                task.abort();
            }
        }
    }
}

/// Marks RAIDA `raida` offline and closes its listener; returns once the listener is closed.
async fn go_offline(shared: &Shared, raida: u8) {
    let Some(node) = shared.nodes.get(usize::from(raida)) else { return };
    node.offline.store(true, Ordering::SeqCst);
    let task = lock(&node.accept).take();
    if let Some(task) = task {
        task.abort();
        // An aborted task's future (and so its listener) is dropped before its handle completes.
        let _ = task.await;
    }
}

async fn accept_loop(shared: Arc<Shared>, raida: u8, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or similar: give the system a moment instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if shared.nodes[usize::from(raida)].offline.load(Ordering::SeqCst) {
            continue;
        }
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(Arc::clone(&shared), raida, stream));
    }
}

/// Runs `sim.process` off the async workers, as a RAIDA of its own would: on threads that the
/// client's tasks do not share (answering it inline on the two workers of a 2-core machine was
/// less CPU in all but a slower batch, the simulator's work then waiting behind the client's).
async fn process(
    shared: &Arc<Shared>,
    raida: u8,
    raw: Arc<Vec<u8>>,
    apply: Apply,
    fault: Option<Fault>,
) -> Option<Vec<u8>> {
    let s = Arc::clone(shared);
    tokio::task::spawn_blocking(move || s.sim.process(raida, &raw, apply, fault))
        .await
        .unwrap_or_default()
}

/// Answers requests on one connection until it closes, the RAIDA goes offline or the network
/// stops.
async fn serve(shared: Arc<Shared>, raida: u8, mut stream: TcpStream) {
    let mut stop = shared.stop.subscribe();
    tokio::select! {
        _ = serve_requests(&shared, raida, &mut stream) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
}

async fn serve_requests(shared: &Arc<Shared>, raida: u8, stream: &mut TcpStream) {
    let node = &shared.nodes[usize::from(raida)];
    let latency = shared.sim.config.latency;
    loop {
        let mut header = [0u8; HEADER_LEN];
        if stream.read_exact(&mut header).await.is_err() {
            return;
        }
        let body_len = usize::from(u16::from_be_bytes([header[22], header[23]]));
        let mut raw = header.to_vec();
        raw.resize(HEADER_LEN + body_len, 0);
        let read =
            tokio::time::timeout(BODY_READ_TIMEOUT, stream.read_exact(&mut raw[HEADER_LEN..]));
        if !matches!(read.await, Ok(Ok(_))) {
            return;
        }
        if node.offline.load(Ordering::SeqCst) {
            return;
        }
        let raw = Arc::new(raw);
        let command = Command::from_bytes(header[4], header[5]);
        let fault = lock(&shared.faults).next(raida, command);
        let reply = match fault {
            None => process(shared, raida, raw, Apply::Yes, None).await,
            Some(f @ (Fault::DropReplyAfterApply | Fault::StallAfterApply)) => {
                process(shared, raida, raw, Apply::Yes, Some(f)).await;
                None
            }
            Some(f @ (Fault::DropBeforeApply | Fault::StallBeforeApply)) => {
                process(shared, raida, raw, Apply::No(None), Some(f)).await
            }
            Some(f @ Fault::Delay(extra)) => {
                let reply = process(shared, raida, raw, Apply::Yes, Some(f)).await;
                tokio::time::sleep(extra).await;
                reply
            }
            Some(f @ Fault::ForceStatus(s)) => {
                process(shared, raida, raw, Apply::No(Some(s)), Some(f)).await
            }
            Some(f @ Fault::CutMidReply) => {
                if let Some(reply) = process(shared, raida, raw, Apply::Yes, Some(f)).await {
                    tokio::time::sleep(latency).await;
                    let _ = stream.write_all(&reply[..reply.len() / 2]).await;
                    let _ = stream.flush().await;
                }
                return;
            }
            Some(f @ Fault::GoOffline) => {
                shared.sim.log_unread(raida, &raw, f);
                // The listener is closed before this connection ends without an answer.
                go_offline(shared, raida).await;
                return;
            }
        };
        let Some(reply) = reply else {
            if matches!(fault, Some(Fault::StallAfterApply | Fault::StallBeforeApply)) {
                // Hold the connection until the client gives up (or the network stops).
                let mut sink = [0u8; 256];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            }
            return;
        };
        tokio::time::sleep(latency).await;
        if node.offline.load(Ordering::SeqCst) || stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}
