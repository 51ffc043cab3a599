//! `--listen`: an address or a name with a port, resolved to the addresses to bind.

use std::io::ErrorKind;
use std::net::SocketAddr;

use anyhow::{Context, bail};
use tokio::net::TcpListener;

/// What `--listen` named.
#[derive(Debug)]
pub(crate) struct Listen {
    /// The text given.
    text: String,
    /// The host name, when a name (not an address) was given.
    pub(crate) name: Option<String>,
    /// Every address to bind, without repeats, in the resolver's order.
    pub(crate) addrs: Vec<SocketAddr>,
}

/// Resolves `text` (`127.0.0.1:8006`, `[::1]:8006`, `localhost:8006`).
pub(crate) async fn resolve(text: &str) -> anyhow::Result<Listen> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(Listen { text: text.to_owned(), name: None, addrs: vec![addr] });
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        bail!("--listen {text:?} has no port; write it as host:port, e.g. 127.0.0.1:8006");
    };
    if port.parse::<u16>().is_err() || host.is_empty() {
        bail!(
            "--listen {text:?} is not host:port; write it as e.g. 127.0.0.1:8006 or localhost:8006"
        );
    }
    let found = tokio::net::lookup_host(text)
        .await
        .with_context(|| format!("--listen {text:?}: cannot resolve the name {host:?}"))?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for addr in found {
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    if addrs.is_empty() {
        bail!("--listen {text:?}: the name {host:?} resolves to no address");
    }
    Ok(Listen { text: text.to_owned(), name: Some(host.to_owned()), addrs })
}

/// Binds every address. With port 0 the first address picks the port and the others use it, so
/// one port serves every address. A name's address the machine does not have (`::1` with IPv6
/// off) is skipped with a warning, as long as one address binds.
pub(crate) async fn bind(listen: &Listen) -> anyhow::Result<Vec<TcpListener>> {
    let mut listeners: Vec<TcpListener> = Vec::new();
    for addr in &listen.addrs {
        let mut addr = *addr;
        if let Some(first) = listeners.first() {
            addr.set_port(first.local_addr().context("reading the bound address")?.port());
        }
        match TcpListener::bind(addr).await {
            Ok(l) => listeners.push(l),
            Err(e) if e.kind() == ErrorKind::AddrInUse => bail!(
                "cannot listen on {addr}: the port is already in use (is another server running?); \
                 choose a free port with --listen (or CLOUDCOIN_LISTEN), e.g. --listen 127.0.0.1:{}",
                addr.port().wrapping_add(1).max(1)
            ),
            Err(e)
                if listen.addrs.len() > 1
                    && matches!(e.kind(), ErrorKind::AddrNotAvailable | ErrorKind::Unsupported) =>
            {
                tracing::warn!(%addr, error = %e, "skipping an address of {}", listen.text);
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot listen on {addr} (--listen)"));
            }
        }
    }
    if listeners.is_empty() {
        bail!("--listen {}: none of its addresses could be bound", listen.text);
    }
    Ok(listeners)
}
