//! Starting the real server binary on 127.0.0.1:0 with a temporary data directory, a tiny
//! HTTP/1.1 client, test coins, and readers for what the server writes.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use cloudcoin_domain::{
    Coin, CoinId, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, Tag,
    single_coin_file_name,
};
use serde_json::Value;

pub(crate) const TOKEN: &str = "test-token";

/// A test coin with deterministic ANs (not real money).
pub(crate) fn coin(code: i8, serial: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (raida, an) in ans.iter_mut().enumerate() {
        for (i, byte) in an.iter_mut().enumerate() {
            *byte = (serial as usize * 31 + raida * 7 + i + (code as u8) as usize) as u8;
        }
    }
    Coin::new(
        Denomination::from_code(code),
        SerialNumber::new(serial),
        ans,
        [Pown::Pass; RAIDA_COUNT],
    )
}

/// `count` coins of denomination `code`, serials from `first`.
pub(crate) fn coins(code: i8, first: u32, count: u32) -> Vec<Coin> {
    (first..first + count).map(|sn| coin(code, sn)).collect()
}

/// A mixed wallet worth 147.5: 1×100, 4×10, 6×1, 15×0.1.
pub(crate) fn mixed_coins() -> Vec<Coin> {
    let mut all = coins(2, 1000, 1);
    all.extend(coins(1, 2000, 4));
    all.extend(coins(0, 3000, 6));
    all.extend(coins(-1, 4000, 15));
    all
}

pub(crate) fn wallet_dir(data: &Path, wallet: &str) -> PathBuf {
    data.join("Wallets").join(wallet)
}

/// Writes each coin as a single-coin format-9 file in `{wallet}/{folder}`.
pub(crate) fn put_coins(data: &Path, wallet: &str, folder: &str, coins: &[Coin]) {
    let dir = wallet_dir(data, wallet).join(folder);
    std::fs::create_dir_all(&dir).expect("create wallet folder");
    for c in coins {
        let name = single_coin_file_name(c, &Tag::empty(), FileKind::Bin);
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(c)).expect("encode coin");
        std::fs::write(dir.join(name), bytes).expect("write coin file");
    }
}

/// The identities of the coins in a wallet folder (every file read as format 9).
pub(crate) fn folder_ids(data: &Path, wallet: &str, folder: &str) -> BTreeSet<CoinId> {
    let dir = wallet_dir(data, wallet).join(folder);
    let mut ids = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(&dir) else { return ids };
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "bin") {
            let bytes = std::fs::read(&path).expect("read coin file");
            for c in cloudcoin_codec::decode_bin(&bytes).expect("coin file decodes") {
                assert!(ids.insert(c.id()), "coin {} twice in {folder}", c.id());
            }
        }
    }
    ids
}

pub(crate) fn ids(coins: &[Coin]) -> BTreeSet<CoinId> {
    coins.iter().map(Coin::id).collect()
}

/// Every file name in `dir`, sorted.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Decodes an exported file of any kind into its coins.
pub(crate) fn decode_file(path: &Path) -> Vec<Coin> {
    let bytes = std::fs::read(path).expect("read exported file");
    cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default())
        .expect("exported file decodes")
}

/// How to start a server.
#[derive(Clone)]
pub(crate) struct Opts {
    pub(crate) args: Vec<String>,
    pub(crate) envs: Vec<(String, String)>,
    pub(crate) token: Option<String>,
    /// The `--listen` value.
    pub(crate) listen: String,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            args: Vec::new(),
            envs: Vec::new(),
            token: Some(TOKEN.to_owned()),
            listen: "127.0.0.1:0".to_owned(),
        }
    }
}

/// A running server process; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) data: PathBuf,
    pub(crate) token: Option<String>,
    lines: Mutex<mpsc::Receiver<String>>,
    /// What the server logged before its "listening on" line.
    pub(crate) startup: Vec<String>,
}

impl Server {
    /// Starts the binary on `data` and waits for its "listening on" line.
    pub(crate) fn start_in(data: &Path, opts: Opts) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudcoin-server"));
        cmd.arg("--listen").arg(&opts.listen).arg("--data-dir").arg(data);
        if let Some(t) = &opts.token {
            cmd.arg("--auth-token").arg(t);
        }
        cmd.args(&opts.args)
            .env_remove("CLOUDCOIN_AUTH_TOKEN")
            .env_remove("CLOUDCOIN_EXPORT_ROOTS")
            .env_remove("CLOUDCOIN_NO_AUTH")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &opts.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start cloudcoin-server");
        let stderr = child.stderr.take().expect("piped stderr");
        let stdout = child.stdout.take().expect("piped stdout");
        let (out_tx, out_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if out_tx.send(line).is_err() {
                    break;
                }
            }
        });
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
        let addr: SocketAddr = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split(',').next().expect("address before the comma");
                        break addr.parse().expect("a socket address");
                    }
                    seen.push(line);
                }
                Err(_) => panic!("the server did not start; it said:\n{}", seen.join("\n")),
            }
        };
        // Standard output carries the bound address alone on its first line, for supervisors.
        let left = deadline.saturating_duration_since(Instant::now());
        let printed = out_rx.recv_timeout(left).expect("the bound address on stdout");
        assert_eq!(printed, addr.to_string(), "stdout's first line is the bound address");
        Server {
            child,
            addr,
            data: data.to_owned(),
            token: opts.token,
            lines: Mutex::new(rx),
            startup: seen,
        }
    }

    /// Waits for the next log line holding `needle` (skipping others) and returns it.
    pub(crate) fn wait_line(&self, needle: &str) -> String {
        self.wait_lines(&[needle]).remove(0)
    }

    /// Waits until a line holding each of `needles` has been logged (one line per needle, a
    /// needle given twice needs two lines), skipping others; returns them in `needles`' order.
    pub(crate) fn wait_lines(&self, needles: &[&str]) -> Vec<String> {
        let rx = self.lines.lock().expect("log lines");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut found: Vec<Option<String>> = vec![None; needles.len()];
        while found.iter().any(Option::is_none) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| {
                panic!("the server never logged all of {needles:?}; found {found:?}")
            });
            if let Some(slot) = needles
                .iter()
                .zip(found.iter_mut())
                .find(|(needle, slot)| slot.is_none() && line.contains(*needle))
                .map(|(_, slot)| slot)
            {
                *slot = Some(line);
            }
        }
        found.into_iter().map(|l| l.expect("found")).collect()
    }

    /// Sends SIGTERM and waits for a clean exit; returns what the server logged meanwhile.
    pub(crate) fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        let status = self.child.wait().expect("wait for the server");
        assert!(status.success(), "the server exited with {status}");
        self.lines.lock().expect("log lines").try_iter().collect()
    }

    /// SIGKILLs the process and waits for it.
    pub(crate) fn kill(mut self) {
        self.child.kill().expect("kill the server");
        self.child.wait().expect("wait for the server");
    }

    /// Waits for the process to end by itself (a fault-injection abort) and returns how.
    #[cfg(feature = "fault-injection")]
    pub(crate) fn wait_exit(mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for the server")
    }

    pub(crate) fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Resp {
        self.request("POST", path, &[], Some(body.to_string().as_bytes()))
    }

    /// [`Server::post`] to a server that may die before it answers: `None` when the connection
    /// closed before a whole response head arrived.
    pub(crate) fn try_post(&self, path: &str, body: &Value) -> Option<Resp> {
        let host = self.addr.to_string();
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = vec![("Host", &host)];
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        let raw = exchange(self.addr, "POST", path, &all, Some(body.to_string().as_bytes()));
        try_parse_response(&raw)
    }

    /// A request with the token and the server's own Host, plus `headers`.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let host = self.addr.to_string();
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = vec![("Host", &host)];
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        for (k, v) in headers {
            all.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            all.push((k, v));
        }
        raw_request(self.addr, method, path, &all, body)
    }

    /// Polls a task until it is no longer running; returns every progress value seen and the
    /// final task.
    pub(crate) fn wait_task(&self, id: &str) -> (Vec<u64>, Value) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut progress = Vec::new();
        loop {
            let r = self.get(&format!("/api/v1/tasks/{id}"));
            assert_eq!(r.status, 200, "task poll: {}", r.text());
            let task = r.json()["payload"].clone();
            progress.push(task["progress"].as_u64().expect("progress"));
            if task["status"] != "running" {
                return (progress, task);
            }
            assert!(Instant::now() < deadline, "task {id} still running: {task}");
            std::thread::yield_now();
        }
    }

    /// Starts an export and waits for it; asserts the 202 and returns the finished task.
    pub(crate) fn export(&self, body: &Value) -> Value {
        let r = self.post("/api/v1/export", body);
        assert_eq!(r.status, 202, "export refused: {}", r.text());
        let id = r.json()["payload"]["id"].as_str().expect("task id").to_owned();
        assert_eq!(r.header("location").as_deref(), Some(format!("/api/v1/tasks/{id}").as_str()));
        self.wait_task(&id).1
    }

    /// The wallet's balance as exact text and its coin count.
    pub(crate) fn balance(&self, wallet: &str) -> (String, u64) {
        let r = self.get(&format!("/api/v1/wallets/{}", wallet.replace(' ', "%20")));
        assert_eq!(r.status, 200, "{}", r.text());
        let w = r.json()["payload"].clone();
        (w["balance"].to_string(), w["coins"].as_u64().expect("coin count"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A parsed HTTP response.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.text()))
    }

    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    }

    /// Asserts an error envelope with this status and code; returns the message.
    pub(crate) fn assert_error(&self, status: u16, code: u64) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        let v = self.json();
        assert_eq!(v["status"], "error", "{v}");
        assert_eq!(v["payload"]["code"].as_u64(), Some(code), "{v}");
        v["payload"]["message"].as_str().expect("message").to_owned()
    }
}

/// One HTTP/1.1 request with `Connection: close`, read to the end.
pub(crate) fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    parse_response(&exchange(addr, method, path, headers, body))
}

/// [`raw_request`]'s bytes as they came, whole or not.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("send head");
    if let Some(b) = body {
        // A server that refuses early may close before reading everything.
        let _ = s.write_all(b);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    raw
}

fn parse_response(raw: &[u8]) -> Resp {
    try_parse_response(raw).expect("a complete response head")
}

/// The response in `raw`, or `None` when the connection closed before a whole head arrived.
fn try_parse_response(raw: &[u8]) -> Option<Resp> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).expect("status code").parse().expect("number");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if let Some(len) = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Some(Resp { status, headers, body })
}
