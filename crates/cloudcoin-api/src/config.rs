//! What the operator configures about the HTTP side.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// HTTP settings for [`Api`](crate::Api) and [`serve`](crate::serve).
///
/// Start from [`ApiConfig::default`] and set what differs with the `with_…` methods (the
/// fields are public to read; more may be added, so the struct cannot be built literally).
///
/// ```
/// use cloudcoin_api::ApiConfig;
/// let addr = "127.0.0.1:8006".parse().expect("an address");
/// let config = ApiConfig::default()
///     .with_allowed_hosts(ApiConfig::hosts_for(addr))
///     .with_auth_token("a long random token")
///     .with_max_connections(64);
/// assert_eq!(config.max_connections, 64);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiConfig {
    /// When set, every request must carry `Authorization: Bearer <token>` (except
    /// `GET /api/v1/health` and `GET /api/v1/openapi.json`). `None` accepts requests without
    /// a token: only for a server that loopback clients alone can reach.
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
    /// Most connections served at once (each has sent at least one byte); further ones wait.
    pub max_connections: usize,
    /// Most accepted connections that hold no serving slot yet (silent, or waiting for a
    /// slot), counted apart so that idle connections cannot take the slots of working ones.
    /// When it is full, the longest-waiting one is closed to make room for the newest.
    pub pending_connections: usize,
    /// A new connection must send its first byte within this time, or it is closed.
    pub first_byte_timeout: Duration,
    /// `http://host:port` as a browser on this machine reaches the server: the start of the
    /// wallet page's sign-in URL ([`ApiConfig::with_sign_in`]). `None`: no sign-in URL.
    pub sign_in_base_url: Option<String>,
    /// Where the current sign-in URL is kept (mode 0600), rewritten each time a code is used.
    pub sign_in_file: Option<PathBuf>,
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
            .field("pending_connections", &self.pending_connections)
            .field("first_byte_timeout", &self.first_byte_timeout)
            .field("sign_in_base_url", &self.sign_in_base_url)
            .field("sign_in_file", &self.sign_in_file)
            .finish()
    }
}

impl Default for ApiConfig {
    /// No token, no hosts (set them with [`ApiConfig::hosts_for`]), no origins, 1 MiB bodies
    /// (64 MiB for import), 10 s to send a request head (and keep-alive idle time), 60 s for a
    /// body, 256 connections served and 256 more pending, 5 s for a first byte.
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
            pending_connections: 256,
            first_byte_timeout: Duration::from_secs(5),
            sign_in_base_url: None,
            sign_in_file: None,
        }
    }
}

impl ApiConfig {
    /// Requires `Authorization: Bearer {token}`.
    pub fn with_auth_token(mut self, token: impl Into<String>) -> ApiConfig {
        self.auth_token = Some(token.into());
        self
    }

    /// Accepts requests without a token (see [`ApiConfig::auth_token`]).
    pub fn without_auth(mut self) -> ApiConfig {
        self.auth_token = None;
        self
    }

    /// The `Host` values accepted.
    pub fn with_allowed_hosts(mut self, hosts: Vec<String>) -> ApiConfig {
        self.allowed_hosts = hosts;
        self
    }

    /// The browser origins accepted.
    pub fn with_allowed_origins(mut self, origins: Vec<String>) -> ApiConfig {
        self.allowed_origins = origins;
        self
    }

    /// The body limit of every route but import, and of import.
    pub fn with_body_limits(mut self, body: usize, import: usize) -> ApiConfig {
        self.body_limit = body;
        self.import_body_limit = import;
        self
    }

    /// The time to send a request head (also the keep-alive idle time).
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> ApiConfig {
        self.header_read_timeout = timeout;
        self
    }

    /// The time to send a request body.
    pub fn with_body_timeout(mut self, timeout: Duration) -> ApiConfig {
        self.body_timeout = timeout;
        self
    }

    /// The time a new connection has to send its first byte.
    pub fn with_first_byte_timeout(mut self, timeout: Duration) -> ApiConfig {
        self.first_byte_timeout = timeout;
        self
    }

    /// The most connections served at once.
    pub fn with_max_connections(mut self, n: usize) -> ApiConfig {
        self.max_connections = n;
        self
    }

    /// The most connections waiting for a first byte or a slot.
    pub fn with_pending_connections(mut self, n: usize) -> ApiConfig {
        self.pending_connections = n;
        self
    }

    /// Gives the wallet page a sign-in URL: `{base_url}/sign-in?code=…` with a one-time code
    /// ([`Api::sign_in_url`](crate::Api::sign_in_url)), also written to `file` when given (mode
    /// 0600) and rewritten there whenever a code is used, so the file always holds one that works.
    ///
    /// ```
    /// use cloudcoin_api::ApiConfig;
    /// let config = ApiConfig::default()
    ///     .with_sign_in("http://127.0.0.1:8006", Some("/tmp/sign-in-url".into()));
    /// assert_eq!(config.sign_in_base_url.as_deref(), Some("http://127.0.0.1:8006"));
    /// ```
    pub fn with_sign_in(mut self, base_url: impl Into<String>, file: Option<PathBuf>) -> ApiConfig {
        self.sign_in_base_url = Some(base_url.into());
        self.sign_in_file = file;
        self
    }

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
        let c = ApiConfig::default().with_auth_token("secret");
        assert!(!format!("{c:?}").contains("secret"));
    }
}
