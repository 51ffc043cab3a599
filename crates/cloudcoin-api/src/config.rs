//! What the operator configures about the HTTP side.

use std::net::SocketAddr;
use std::time::Duration;

/// HTTP settings for [`serve`](crate::serve).
#[derive(Clone)]
pub struct ApiConfig {
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub auth_token: Option<String>,
    /// The `Host` header values accepted (DNS-rebinding defence), compared case-insensitively.
    /// See [`ApiConfig::hosts_for`] for the usual set.
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`http://localhost:3000`) allowed to call the API; requests carrying any
    /// other `Origin` are refused, and CORS headers are sent only to these.
    pub allowed_origins: Vec<String>,
    /// Largest request body, in bytes, for every route but import.
    pub body_limit: usize,
    /// Largest request body for `POST /api/v1/import`, which may carry inline coin files.
    pub import_body_limit: usize,
    /// A client must send a complete request head within this time (slow-header defence). The
    /// same timer runs while a kept-alive connection waits for its next request, so it is also
    /// the keep-alive idle timeout: an idle connection is closed when it expires.
    pub header_read_timeout: Duration,
    /// A request body must arrive completely within this time (slow-body defence).
    pub body_timeout: Duration,
    /// Most connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<set>"))
            .field("allowed_hosts", &self.allowed_hosts)
            .field("allowed_origins", &self.allowed_origins)
            .field("body_limit", &self.body_limit)
            .field("import_body_limit", &self.import_body_limit)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Default for ApiConfig {
    /// No token, no hosts (set them with [`ApiConfig::hosts_for`]), no origins, 1 MiB bodies
    /// (64 MiB for import), 10 s to send a request head (and keep-alive idle time), 60 s for a body, 256 connections.
    fn default() -> Self {
        ApiConfig {
            auth_token: None,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            body_limit: 1024 * 1024,
            import_body_limit: 64 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            max_connections: 256,
        }
    }
}

impl ApiConfig {
    /// The `Host` values a server bound to `addr` answers to: the address itself and the
    /// loopback names `localhost:port`, `127.0.0.1:port` and `[::1]:port`.
    pub fn hosts_for(addr: SocketAddr) -> Vec<String> {
        let port = addr.port();
        let mut hosts = vec![
            addr.to_string(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        hosts.dedup();
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_for_a_bound_address() {
        let addr: SocketAddr = "192.168.1.5:8006".parse().expect("address");
        let hosts = ApiConfig::hosts_for(addr);
        assert!(hosts.contains(&"192.168.1.5:8006".to_owned()));
        assert!(hosts.contains(&"localhost:8006".to_owned()));
        assert!(hosts.contains(&"[::1]:8006".to_owned()));
        assert!(!hosts.iter().any(|h| h.ends_with(":80")));
    }

    #[test]
    fn debug_hides_the_token() {
        let c = ApiConfig { auth_token: Some("secret".into()), ..ApiConfig::default() };
        assert!(!format!("{c:?}").contains("secret"));
    }
}
