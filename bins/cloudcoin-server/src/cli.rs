//! Command-line flags and their environment variables.

use std::path::PathBuf;

use clap::Parser;

/// A local CloudCoin wallet server: exports exact amounts of coins from wallets on disk into
/// stack, png, zip or bin files, and imports them back, over an HTTP API on /api/v1.
#[derive(Debug, Parser)]
#[command(version, about)]
pub(crate) struct Args {
    /// Address to listen on: an IP address or a host name, and a port (`127.0.0.1:8006`,
    /// `[::1]:8006`, `localhost:8006`). A name is resolved and every address it names is
    /// listened on. Anything but a loopback address needs an explicit token.
    #[arg(long, env = "CLOUDCOIN_LISTEN", default_value = "127.0.0.1:8006")]
    pub(crate) listen: String,

    /// Also write the bound addresses (one `ip:port` a line, as printed on standard output) to
    /// this file once the server accepts connections; useful with a port of 0. The file is
    /// replaced whole, never seen half-written.
    #[arg(long, env = "CLOUDCOIN_ADDRESS_FILE")]
    pub(crate) address_file: Option<PathBuf>,

    /// Data directory holding Wallets/ (created if missing).
    /// [default: $XDG_DATA_HOME/cloudcoin-server or ~/.local/share/cloudcoin-server]
    #[arg(long, env = "CLOUDCOIN_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Folder that exports and backups must stay beneath (repeatable; in the environment,
    /// separate folders with ':'). Without any, every absolute writable folder is allowed.
    #[arg(long = "export-root", env = "CLOUDCOIN_EXPORT_ROOTS", value_delimiter = ':')]
    pub(crate) export_roots: Vec<PathBuf>,

    /// Bearer token clients must send (`Authorization: Bearer …`). Without it the server
    /// creates a random token in {data dir}/.cloudcoin/api-token (mode 0600) and requires that.
    #[arg(long, env = "CLOUDCOIN_AUTH_TOKEN", hide_env_values = true)]
    pub(crate) auth_token: Option<String>,

    /// Accept requests without a token, for local clients that send none (scripts, examples).
    /// Only with a loopback --listen address; the Host and Origin checks stay. Any program
    /// running on this machine can then move coins: use it where only you run programs.
    #[arg(long, env = "CLOUDCOIN_NO_AUTH", conflicts_with = "auth_token")]
    pub(crate) no_auth: bool,

    /// Browser origin allowed to call the API, e.g. http://localhost:3000 (repeatable; in the
    /// environment, separate with ','). No other origin gets CORS headers.
    #[arg(long = "allow-origin", env = "CLOUDCOIN_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub(crate) allowed_origins: Vec<String>,

    /// Extra `Host` header value to accept (repeatable), e.g. a name the server is reached by.
    #[arg(long = "allow-host", env = "CLOUDCOIN_ALLOWED_HOSTS", value_delimiter = ',')]
    pub(crate) allowed_hosts: Vec<String>,

    /// Seconds a client has to send a request head; also the keep-alive idle time.
    #[arg(long, env = "CLOUDCOIN_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub(crate) header_timeout_secs: u64,

    /// Seconds a client has to send a request body.
    #[arg(long, env = "CLOUDCOIN_BODY_TIMEOUT_SECS", default_value_t = 60)]
    pub(crate) body_timeout_secs: u64,

    /// Most connections served at once (and as many more may wait to send their first byte).
    #[arg(long, env = "CLOUDCOIN_MAX_CONNECTIONS", default_value_t = 256)]
    pub(crate) max_connections: usize,

    /// Largest request body in bytes (import allows 64 times more, for inline coin files).
    #[arg(long, env = "CLOUDCOIN_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub(crate) body_limit: usize,

    /// Hours a finished task stays visible at /api/v1/tasks.
    #[arg(long, env = "CLOUDCOIN_TASK_RETENTION_HOURS", default_value_t = 24)]
    pub(crate) task_retention_hours: u64,

    /// The RAIDA address list (one `host:port` a line, line 1 is RAIDA 0; 25 lines). Turns the
    /// network on: imports claim their coins, and healing settles and repairs them. Without
    /// it the server works offline and claims nothing.
    #[arg(long, env = "CLOUDCOIN_RAIDA_LIST")]
    pub(crate) raida_list: Option<PathBuf>,

    /// The coin id sent to the RAIDA in every request. [default: the protocol crate's, 6]
    #[arg(long, env = "CLOUDCOIN_RAIDA_COIN_ID", requires = "raida_list")]
    pub(crate) raida_coin_id: Option<u16>,

    /// Where a type-1 answer's keystream starts: auto (learnt per RAIDA), restart or continue.
    /// [default: the protocol crate's, auto]
    #[arg(long, env = "CLOUDCOIN_RAIDA_RESPONSE_COUNTER", value_enum, requires = "raida_list")]
    pub(crate) raida_response_counter: Option<Counter>,

    /// Milliseconds one request to one RAIDA may take, connection to last byte.
    /// [default: the protocol crate's, 10,000]
    #[arg(long, env = "CLOUDCOIN_RAIDA_TIMEOUT_MS", requires = "raida_list")]
    pub(crate) raida_timeout_ms: Option<u64>,

    /// Milliseconds connecting to one RAIDA may take. [default: the protocol crate's, 5,000]
    #[arg(long, env = "CLOUDCOIN_RAIDA_CONNECT_TIMEOUT_MS", requires = "raida_list")]
    pub(crate) raida_connect_timeout_ms: Option<u64>,

    /// A coin file (one coin, any format the server reads) whose ANs key every request:
    /// encryption type 1 (AES-128-CTR), so no AN or PAN crosses the wire in clear. Keep the
    /// key coin out of the wallets. [default: none; requests go as type 0, keys in clear]
    #[arg(long, env = "CLOUDCOIN_RAIDA_KEY_COIN", requires = "raida_list")]
    pub(crate) raida_key_coin: Option<PathBuf>,
}

/// The type-1 response counter setting.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Counter {
    /// Learn each RAIDA's mode.
    Auto,
    /// Every RAIDA restarts the counter at 0.
    Restart,
    /// Every RAIDA continues the request's counter.
    Continue,
}
