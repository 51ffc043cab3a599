//! An export whose answer is lost after the server accepted it: the client retries with the
//! same `Idempotency-Key`, and the server writes one file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::{Server, field, file_names, json, text};

const EXPORT: &str = "POST /api/v1/export ";

/// One request the proxy passed on.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    key: Option<String>,
    status: u16,
    withheld: bool,
}

/// A proxy in front of the server that passes every request on, but keeps the server's answer
/// to the first `withhold` requests whose line starts with `prefix` until the client hangs up.
struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    fn start(upstream: &str, prefix: &'static str, withhold: usize) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let exports = Arc::new(AtomicUsize::new(0));
        let upstream = upstream.to_owned();
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let (upstream, log, exports) =
                    (upstream.clone(), Arc::clone(&log), Arc::clone(&exports));
                std::thread::spawn(move || {
                    relay(conn, &upstream, &log, &exports, prefix, withhold)
                });
            }
        });
        Proxy { addr, seen }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn exports(&self) -> Vec<Seen> {
        let seen = self.seen.lock().expect("log");
        seen.iter().filter(|s| s.line.starts_with("POST /api/v1/export ")).cloned().collect()
    }
}

/// One request from `client`, passed to `upstream` (with its own Host, and `Connection:
/// close` so each connection carries one request), and its answer passed back or withheld.
fn relay(
    client: TcpStream,
    upstream: &str,
    log: &Mutex<Vec<Seen>>,
    matched: &AtomicUsize,
    prefix: &str,
    withhold: usize,
) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the socket"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let line = line.trim_end().to_owned();
    let mut headers = Vec::new();
    let mut length = 0usize;
    let mut key = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end().to_owned();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').expect("a header line");
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
        match name.as_str() {
            "host" | "connection" => continue,
            "content-length" => length = value.parse().expect("a length"),
            "idempotency-key" => key = Some(value.clone()),
            _ => {}
        }
        headers.push(format!("{name}: {value}"));
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("the request body");

    let mut server = TcpStream::connect(upstream).expect("connect to the server");
    let head = format!(
        "{line}\r\nhost: {upstream}\r\nconnection: close\r\n{}\r\n\r\n",
        headers.join("\r\n")
    );
    server.write_all(head.as_bytes()).and_then(|()| server.write_all(&body)).expect("send");
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).expect("the server's answer");
    let status = String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");

    let withheld = line.starts_with(prefix) && matched.fetch_add(1, Ordering::SeqCst) < withhold;
    log.lock().expect("log").push(Seen { line, key, status, withheld });
    let mut client = client;
    if withheld {
        // The server has accepted the export; the client never hears of it. Wait until it
        // gives up on this connection (its timeout), then drop the answer.
        let _ = reader.read(&mut [0u8; 1]);
        return;
    }
    let _ = client.write_all(&answer);
}

#[test]
fn a_lost_answer_is_retried_with_the_same_key_and_one_file_is_written() {
    let server = Server::start();
    server.import_test_coins("Default");
    let proxy = Proxy::start(&server.addr, EXPORT, 1);
    let folder = tempfile::tempdir().expect("temp dir");

    let done = crate::support::bare_cli()
        .args(["--server", &proxy.url(), "--token", crate::support::TOKEN, "--timeout", "2"])
        .args(["export", "10.5", "--type", "bin", "--folder"])
        .arg(folder.path())
        .assert()
        .success();
    let stdout = text(&done.get_output().stdout);

    let exports = proxy.exports();
    // The first attempt and a retry (a second retry only if a loaded machine was slow).
    assert!((2..=3).contains(&exports.len()), "{exports:?}");
    assert!(exports[0].withheld && exports[0].status == 202, "accepted, answer lost: {exports:?}");
    assert!(exports[1..].iter().all(|e| !e.withheld), "{exports:?}");
    assert!(exports[0].key.is_some(), "an Idempotency-Key is sent: {exports:?}");
    assert!(exports.iter().all(|e| e.key == exports[0].key), "retries carry the same key");

    assert_eq!(file_names(folder.path()), ["10.5 CloudCoin #6 ''.bin"], "one file");
    assert_eq!(
        field(&stdout, "file"),
        folder.path().join("10.5 CloudCoin #6 ''.bin").display().to_string()
    );
    assert_eq!(server.balance("Default"), ("115.5".to_owned(), 12));
    let tasks = server.cli().args(["--json", "tasks"]).assert().success();
    let tasks = json(&tasks.get_output().stdout);
    let exports = tasks.as_array().expect("tasks").iter().filter(|t| t["type"] == "export").count();
    assert_eq!(exports, 1, "one export task: {tasks}");
}

#[test]
fn when_no_answer_comes_the_command_names_the_key_to_rerun_with() {
    let server = Server::start();
    server.import_test_coins("Default");
    let proxy = Proxy::start(&server.addr, EXPORT, usize::MAX);
    let folder = tempfile::tempdir().expect("temp dir");

    let failed = crate::support::bare_cli()
        .args(["--server", &proxy.url(), "--token", crate::support::TOKEN, "--timeout", "2"])
        .args(["export", "10.5", "--type", "zip", "--folder"])
        .arg(folder.path())
        .assert()
        .code(5);
    let stderr = text(&failed.get_output().stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let exports = proxy.exports();
    assert!(exports.len() >= 2 && exports.iter().all(|e| e.withheld), "{exports:?}");
    let key = exports[0].key.clone().expect("a key");
    assert!(exports.iter().all(|e| e.key.as_deref() == Some(key.as_str())), "one key: {exports:?}");
    assert!(stderr.contains(&format!("--idempotency-key {key}")), "{stderr}");

    // Running the command again with that key, straight to the server, finds the one export.
    let done = server
        .cli()
        .args(["export", "10.5", "--type", "zip", "--idempotency-key", &key, "--folder"])
        .arg(folder.path())
        .assert()
        .success();
    let file = field(&text(&done.get_output().stdout), "file");
    assert_eq!(file_names(folder.path()), ["10.5 CloudCoin #6 ''.zip"], "one file");
    assert_eq!(file, folder.path().join("10.5 CloudCoin #6 ''.zip").display().to_string());
    assert_eq!(server.balance("Default"), ("115.5".to_owned(), 12));
}

#[test]
fn a_poll_without_an_answer_is_tried_again() {
    let server = Server::start();
    server.import_test_coins("Default");
    let proxy = Proxy::start(&server.addr, "GET /api/v1/tasks/", 1);
    let folder = tempfile::tempdir().expect("temp dir");

    let done = crate::support::bare_cli()
        .args(["--server", &proxy.url(), "--token", crate::support::TOKEN, "--timeout", "2"])
        .args(["export", "1", "--type", "stack", "--folder"])
        .arg(folder.path())
        .assert()
        .success();
    assert!(text(&done.get_output().stdout).contains("coins:   1"));
    let polls: Vec<Seen> = {
        let seen = proxy.seen.lock().expect("log");
        seen.iter().filter(|s| s.line.starts_with("GET /api/v1/tasks/")).cloned().collect()
    };
    assert!(polls[0].withheld && polls.len() >= 2, "a lost poll, then more: {polls:?}");
    let files = file_names(folder.path());
    assert!(files.len() == 1 && files[0].starts_with("1 CloudCoin #"), "one file: {files:?}");
}
