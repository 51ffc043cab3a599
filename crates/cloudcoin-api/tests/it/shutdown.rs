//! Graceful shutdown: a request in flight when shutdown begins still gets its answer; idle
//! connections are closed; `serve` returns.

use std::time::Duration;

use cloudcoin_api::{ApiConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

async fn start() -> (
    std::net::SocketAddr,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
    tempfile::TempDir,
) {
    let (data, service) = crate::open_service().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let api = ApiConfig::default().with_allowed_hosts(ApiConfig::hosts_for(addr));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, service, api, async {
        let _ = stopped.await;
    }));
    (addr, stop, server, data)
}

/// Reads until `needle` has arrived (or the peer closes); returns everything read.
async fn read_until(stream: &mut BufReader<TcpStream>, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = stream.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_is_answered_before_serve_returns() {
    let (addr, stop, server, _data) = start().await;
    let body = b"{\"amount\":1}";
    let mut conn = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    let head = format!(
        "POST /api/v1/export HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    conn.get_mut().write_all(head.as_bytes()).await.expect("send head");
    // hyper sends 100 Continue once the handler reads the body: the request is in flight.
    let interim = read_until(&mut conn, "\r\n\r\n").await;
    assert!(interim.starts_with("HTTP/1.1 100"), "{interim}");

    // An idle second connection, to be closed by the shutdown.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    let info = format!("GET /api/v1/info HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    idle.write_all(info.as_bytes()).await.expect("send");
    let mut idle = BufReader::new(idle);
    let first = read_until(&mut idle, "\"status\":\"ok\"").await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");

    stop.send(()).expect("server still running");
    conn.get_mut().write_all(body).await.expect("send body");
    let answer = read_until(&mut conn, "}}").await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"code\":4121") && answer.contains("name"), "{answer}");

    let result = tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve returns after shutdown")
        .expect("serve task");
    result.expect("serve ends without error");
    let mut rest = Vec::new();
    let n = idle.read_to_end(&mut rest).await.expect("idle connection closed");
    assert_eq!(n, 0, "nothing more on the idle connection");
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}
