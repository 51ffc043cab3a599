//! The real `cloudcoin-server` binary on 127.0.0.1:0 with a temporary data directory, and the
//! real `cloudcoin` binary pointed at it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A loopback port that refuses every connection for as long as this lives: a socket bound to
/// it that never listens. Holding the port keeps it from the servers other tests start (which
/// bind port 0) and from being chosen as a connection's own source port (a connection to a
/// closed port on the same machine can otherwise connect to itself), either of which once made
/// "nothing listens here" answer.
pub(crate) struct ClosedPort {
    _socket: socket2::Socket,
    pub(crate) port: u16,
}

impl ClosedPort {
    pub(crate) fn new() -> ClosedPort {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("an address");
        socket.bind(&any.into()).expect("bind a loopback port");
        let port =
            socket.local_addr().expect("its address").as_socket().expect("an IP address").port();
        ClosedPort { _socket: socket, port }
    }
}

/// The token the test servers are started with.
pub(crate) const TOKEN: &str = "cli-test-token-0123456789abcdef";

/// The server binary: `CLOUDCOIN_SERVER_BIN`, else the one cargo built beside `cloudcoin`.
fn server_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("CLOUDCOIN_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let path = Path::new(env!("CARGO_BIN_EXE_cloudcoin")).with_file_name("cloudcoin-server");
    assert!(
        path.exists(),
        "these tests run the real server binary, {}, which is not built: run \
         `cargo build -p cloudcoin-server` first (`cargo test --workspace` builds it), or set \
         CLOUDCOIN_SERVER_BIN",
        path.display()
    );
    path
}

/// A running server; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    pub(crate) data: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// A server on a fresh data directory with [`TOKEN`].
    pub(crate) fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let mut server = Server::spawn(
            &["--data-dir".as_ref(), data.as_os_str(), "--auth-token".as_ref(), TOKEN.as_ref()],
            &[],
        );
        server._dir = Some(dir);
        server
    }

    /// A server started with `args` and `envs` (and `--listen 127.0.0.1:0`); waits for its
    /// "listening on" line.
    pub(crate) fn spawn(args: &[&std::ffi::OsStr], envs: &[(&str, &Path)]) -> Server {
        let mut cmd = StdCommand::new(server_bin());
        cmd.arg("--listen").arg("127.0.0.1:0").args(args);
        for var in ["CLOUDCOIN_AUTH_TOKEN", "CLOUDCOIN_DATA_DIR", "CLOUDCOIN_EXPORT_ROOTS"] {
            cmd.env_remove(var);
        }
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start cloudcoin-server");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let (addr, data) = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let (addr, data) =
                            rest.split_once(", data dir ").expect("address, data dir");
                        break (addr.to_owned(), PathBuf::from(data.trim()));
                    }
                    seen.push(line);
                }
                Err(_) => panic!("the server did not start; it said:\n{}", seen.join("\n")),
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Server { child, addr, data, _dir: None }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `cloudcoin --server URL --token TOKEN`, in an environment that names no other token.
    pub(crate) fn cli(&self) -> Command {
        let mut cmd = bare_cli();
        cmd.arg("--server").arg(self.url()).arg("--token").arg(TOKEN);
        cmd
    }

    /// Imports the 18 test coins (worth 126) into `wallet`.
    pub(crate) fn import_test_coins(&self, wallet: &str) {
        let out = self
            .cli()
            .arg("--json")
            .arg("import")
            .arg(test_coins())
            .arg("--wallet")
            .arg(wallet)
            .assert()
            .success();
        let task = json(&out.get_output().stdout);
        assert_eq!(task["data"]["imported"], 18, "{task}");
    }

    /// A wallet's balance (as JSON text) and coin count, read through the CLI.
    pub(crate) fn balance(&self, wallet: &str) -> (String, u64) {
        let out = self.cli().args(["--json", "wallet", "show", wallet]).assert().success();
        let w = json(&out.get_output().stdout);
        (w["balance"].to_string(), w["coins"].as_u64().expect("coin count"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cloudcoin` with no server, token or data directory from the environment: `HOME` and
/// `XDG_DATA_HOME` point at an empty folder, so nothing of the machine's own is read.
pub(crate) fn bare_cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudcoin"));
    for var in ["CLOUDCOIN_AUTH_TOKEN", "CLOUDCOIN_DATA_DIR", "CLOUDCOIN_SERVER"] {
        cmd.env_remove(var);
    }
    let empty = empty_home();
    cmd.env("HOME", &empty).env("XDG_DATA_HOME", empty.join("share"));
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// An empty folder that lives as long as the test process.
fn empty_home() -> PathBuf {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| tempfile::tempdir().expect("temp dir")).path().to_owned()
}

/// The repository's synthetic test coins: a copy of `examples/test-coins` inside this crate, so
/// its tests also run from the packaged crate.
pub(crate) fn test_coins() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/test-coins")
}

pub(crate) fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!("not one JSON document ({e}): {}", String::from_utf8_lossy(bytes))
    })
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The value of a `key:  value` line of the human output.
pub(crate) fn field(output: &str, key: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key}: line in\n{output}"))
        .trim()
        .to_owned()
}

pub(crate) fn sha256_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file name in `dir`, sorted.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The coins in an exported file, through the codec.
pub(crate) fn decode(path: &Path) -> Vec<cloudcoin_domain::Coin> {
    let bytes = std::fs::read(path).expect("read the exported file");
    cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default()).expect("it decodes")
}
