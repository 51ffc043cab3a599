//! Access control and HTTP limits (issue 6, acceptance 1 and 3).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Opts, Server, raw_request};

#[test]
fn the_token_is_required_when_configured() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Opts::default());
    assert_eq!(server.get("/api/v1/info").status, 200);
    let host = server.addr.to_string();
    let none = raw_request(server.addr, "GET", "/api/v1/wallets", &[("Host", &host)], None);
    let message = none.assert_error(401, 4308);
    assert!(message.contains("Authorization"), "{message}");
    assert_eq!(none.header("www-authenticate").as_deref(), Some("Bearer"));
    assert!(message.contains("api-token") && message.contains("--no-auth"), "{message}");
    assert_eq!(none.json()["payload"]["status"], "error");
    // Liveness and the document need no token; /info still does.
    let health = raw_request(server.addr, "GET", "/api/v1/health", &[("Host", &host)], None);
    assert_eq!(health.status, 200, "{}", health.text());
    assert_eq!(health.text(), r#"{"status":"success","payload":{"status":"ok"}}"#);
    let doc = raw_request(server.addr, "GET", "/api/v1/openapi.json", &[("Host", &host)], None);
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json()["openapi"], "3.1.0");
    let info = raw_request(server.addr, "GET", "/api/v1/info", &[("Host", &host)], None);
    info.assert_error(401, 4308);
    for wrong in ["Bearer test-tokeN", "Bearer test-token-2", "Basic dGVzdA=="] {
        let r = raw_request(
            server.addr,
            "GET",
            "/api/v1/wallets",
            &[("Host", &host), ("Authorization", wrong)],
            None,
        );
        r.assert_error(401, 4308);
    }
}

#[test]
fn without_a_token_flag_the_server_makes_an_owner_only_token_file() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start_in(data.path(), Opts { token: None, ..Opts::default() });
    let path = data.path().join(".cloudcoin").join("api-token");
    let mode = std::fs::metadata(&path).expect("token file exists").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&path).expect("read token").trim().to_owned();
    assert!(token.len() >= 32);
    server.get("/api/v1/info").assert_error(401, 4308);
    server.token = Some(token);
    assert_eq!(server.get("/api/v1/info").status, 200);
}

#[test]
fn foreign_hosts_and_origins_are_refused() {
    let data = tempfile::tempdir().expect("temp dir");
    let opts =
        Opts { args: vec!["--allow-origin".into(), "http://ok.example".into()], ..Opts::default() };
    let server = Server::start_in(data.path(), opts);
    for host in ["evil.example", "evil.example:80", "localhost:1"] {
        let r = server.request("GET", "/api/v1/info", &[("Host", host)], None);
        r.assert_error(403, 4309);
    }
    let port = server.addr.port().to_string();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        assert_eq!(server.request("GET", "/api/v1/info", &[("Host", &host)], None).status, 200);
    }
    let evil = server.request("GET", "/api/v1/info", &[("Origin", "http://evil.example")], None);
    evil.assert_error(403, 4310);
    assert_eq!(evil.header("access-control-allow-origin"), None);
    let ok = server.request("GET", "/api/v1/info", &[("Origin", "http://ok.example")], None);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("access-control-allow-origin").as_deref(), Some("http://ok.example"));
    let plain = server.get("/api/v1/info");
    assert_eq!(plain.header("access-control-allow-origin"), None, "no CORS without an Origin");
}

#[test]
fn a_non_loopback_address_without_a_token_refuses_to_start() {
    let data = tempfile::tempdir().expect("temp dir");
    let stderr = refused_start(&["--listen", "0.0.0.0:0"], data.path());
    assert!(
        stderr.contains("not a loopback address") && stderr.contains("--auth-token"),
        "{stderr}"
    );
    assert!(!data.path().join("Wallets").exists(), "nothing was created");
}

#[test]
fn a_slow_header_client_neither_delays_others_nor_stays_open() {
    let data = tempfile::tempdir().expect("temp dir");
    let opts = Opts { args: vec!["--header-timeout-secs".into(), "2".into()], ..Opts::default() };
    let server = Server::start_in(data.path(), opts);
    let head = format!(
        "GET /api/v1/info HTTP/1.1\r\nHost: {}\r\nX-Padding: {}\r\n\r\n",
        server.addr,
        "p".repeat(40)
    );
    let mut slow = TcpStream::connect(server.addr).expect("connect");
    // The slow client's pace: one byte, then up to a second waiting for the server to answer.
    slow.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    let started = Instant::now();
    let mut sent = 0;
    let mut checked_normal = false;
    let closed_after = loop {
        if slow.write_all(&head.as_bytes()[sent..=sent]).is_err() {
            break started.elapsed();
        }
        sent += 1;
        if !checked_normal {
            // A normal request while the slow one dribbles in.
            let t = Instant::now();
            assert_eq!(server.get("/api/v1/info").status, 200);
            assert!(t.elapsed() < Duration::from_secs(1), "normal request took {:?}", t.elapsed());
            checked_normal = true;
        }
        let mut buf = [0u8; 256];
        match slow.read(&mut buf) {
            Ok(0) => break started.elapsed(),
            Ok(_) => panic!("the slow client got an answer before sending its head"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break started.elapsed(),
        }
        assert!(sent < head.len(), "the server never closed the slow connection");
    };
    assert!(sent < head.len() / 2, "closed only after {sent} of {} bytes", head.len());
    assert!(closed_after < Duration::from_secs(8), "closed after {closed_after:?}");
    assert!(closed_after >= Duration::from_secs(1), "closed too early: {closed_after:?}");
}

#[test]
fn sigterm_shuts_down_cleanly() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Opts::default());
    assert_eq!(server.get("/api/v1/info").status, 200);
    let lines = server.stop();
    assert!(lines.iter().any(|l| l.contains("shutdown complete")), "{lines:?}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_by_the_header_timer() {
    let data = tempfile::tempdir().expect("temp dir");
    let opts = Opts { args: vec!["--header-timeout-secs".into(), "2".into()], ..Opts::default() };
    let server = Server::start_in(data.path(), opts);
    let mut conn = TcpStream::connect(server.addr).expect("connect");
    let req = format!(
        "GET /api/v1/info HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer test-token\r\n\r\n",
        server.addr
    );
    conn.write_all(req.as_bytes()).expect("send");
    conn.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e) => panic!("the idle connection stayed open: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.matches("HTTP/1.1").count() == 1, "{text}");
    let idle = started.elapsed();
    assert!(
        idle >= Duration::from_secs(1) && idle < Duration::from_secs(8),
        "closed after {idle:?}"
    );
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let data = tempfile::tempdir().expect("temp dir");
    let opts = Opts {
        args: vec![
            "--max-connections".into(),
            "1".into(),
            "--header-timeout-secs".into(),
            "60".into(),
        ],
        ..Opts::default()
    };
    let server = Server::start_in(data.path(), opts);
    let req = format!(
        "GET /api/v1/info HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer test-token\r\n\r\n",
        server.addr
    );
    let mut first = TcpStream::connect(server.addr).expect("connect");
    first.write_all(req.as_bytes()).expect("send");
    let mut buf = [0u8; 2048];
    let n = first.read(&mut buf).expect("first answered");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // `first` stays open (keep-alive) and holds the only slot.
    let mut second = TcpStream::connect(server.addr).expect("the kernel queues the connection");
    second.write_all(req.as_bytes()).expect("send");
    second.set_read_timeout(Some(Duration::from_millis(500))).expect("timeout");
    match second.read(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("the second connection was served past the cap: {other:?}"),
    }
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let n = second.read(&mut buf).expect("second answered once the slot is free");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&buf[..n]));
}

#[test]
fn no_auth_accepts_requests_without_a_token_and_keeps_the_host_and_origin_checks() {
    for (args, envs) in [
        (vec!["--no-auth".to_owned()], vec![]),
        (vec![], vec![("CLOUDCOIN_NO_AUTH".to_owned(), "true".to_owned())]),
    ] {
        let data = tempfile::tempdir().expect("temp dir");
        let server =
            Server::start_in(data.path(), Opts { args, envs, token: None, ..Opts::default() });
        assert!(
            server.startup.iter().any(|l| l.contains("WARN") && l.contains("--no-auth")),
            "a start-up warning: {:?}",
            server.startup
        );
        let r = server.get("/api/v1/wallets");
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(server.post("/api/v1/wallets", &serde_json::json!({"name":"A"})).status, 201);
        server
            .request("GET", "/api/v1/info", &[("Host", "evil.example")], None)
            .assert_error(403, 4309);
        server
            .request("GET", "/api/v1/info", &[("Origin", "http://evil.example")], None)
            .assert_error(403, 4310);
        assert!(!data.path().join(".cloudcoin").join("api-token").exists(), "no token file made");
    }
}

#[test]
fn no_auth_on_a_non_loopback_address_refuses_to_start_naming_both_flags() {
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let data = tempfile::tempdir().expect("temp dir");
        let stderr = refused_start(&["--no-auth", "--listen", listen], data.path());
        assert!(stderr.contains("--no-auth") && stderr.contains("--listen"), "{stderr}");
        assert!(!data.path().join("Wallets").exists(), "nothing was created");
    }
}

#[test]
fn a_localhost_listen_answers_on_every_loopback_address_it_names() {
    let data = tempfile::tempdir().expect("temp dir");
    let server =
        Server::start_in(data.path(), Opts { listen: "localhost:0".into(), ..Opts::default() });
    let port = server.addr.port();
    assert!(server.addr.ip().is_loopback(), "{}", server.addr);
    let resolved: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port)).expect("resolve").collect();
    assert!(!resolved.is_empty());
    for addr in resolved {
        let host = format!("localhost:{port}");
        let r = raw_request(
            addr,
            "GET",
            "/api/v1/info",
            &[("Host", &host), ("Authorization", "Bearer test-token")],
            None,
        );
        assert_eq!(r.status, 200, "{addr}: {}", r.text());
    }
}

#[test]
fn a_second_server_on_a_taken_port_says_which_flag_to_change() {
    let data = tempfile::tempdir().expect("temp dir");
    let first = Server::start_in(data.path(), Opts::default());
    let other = tempfile::tempdir().expect("temp dir");
    let stderr =
        refused_start(&["--auth-token", "t", "--listen", &first.addr.to_string()], other.path());
    assert!(stderr.contains("already in use") && stderr.contains("--listen"), "{stderr}");
    assert_eq!(first.get("/api/v1/info").status, 200, "the first server is untouched");
}

/// Runs the server with `args` on `data` (no token in the environment), expects it to refuse to
/// start, and returns what it printed on stderr.
fn refused_start(args: &[&str], data: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_cloudcoin-server"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("CLOUDCOIN_AUTH_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run the server");
    assert!(!out.status.success(), "the server started with {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_request_with_two_host_headers_is_refused_with_400() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Opts::default());
    let host = server.addr.to_string();
    let auth = format!("Bearer {}", server.token.as_deref().expect("a token"));
    // RFC 9112 §3.2: a request with more than one Host field line is answered with 400, even
    // when both name this server.
    for second in [host.as_str(), "evil.example"] {
        let r = raw_request(
            server.addr,
            "GET",
            "/api/v1/info",
            &[("Host", &host), ("Host", second), ("Authorization", &auth)],
            None,
        );
        let message = r.assert_error(400, 4312);
        assert!(message.contains("Host"), "{message}");
    }
    let one = raw_request(
        server.addr,
        "GET",
        "/api/v1/info",
        &[("Host", &host), ("Authorization", &auth)],
        None,
    );
    assert_eq!(one.status, 200, "{}", one.text());
}

#[test]
fn head_of_health_answers_like_get_without_a_body() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Opts::default());
    let host = server.addr.to_string();
    let get = raw_request(server.addr, "GET", "/api/v1/health", &[("Host", &host)], None);
    assert_eq!(get.status, 200, "{}", get.text());
    let head = raw_request(server.addr, "HEAD", "/api/v1/health", &[("Host", &host)], None);
    assert_eq!(head.status, 200, "{}", head.text());
    assert!(head.body.is_empty(), "a HEAD answer has no body: {}", head.text());
    assert_eq!(head.header("content-type"), get.header("content-type"));
    assert_eq!(head.header("content-length"), get.header("content-length"));
    // The other methods are still refused, and the refusal lists HEAD among the allowed ones.
    let post = server.request("POST", "/api/v1/health", &[], Some(b"{}"));
    post.assert_error(405, 4306);
    assert_eq!(post.header("allow").as_deref(), Some("GET, HEAD"));
}
