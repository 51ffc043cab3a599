//! Idle connections do not starve working ones: connections that have not sent a byte wait on
//! a budget of their own, and the oldest is closed when that budget is full.

use std::time::Duration;

use cloudcoin_api::{ApiConfig, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_do_not_hold_the_slots_of_a_real_request() {
    let (_data, service) = crate::open_service().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    // Timers far longer than the test may take: only the budgets can let the request through.
    let api = ApiConfig::default()
        .with_allowed_hosts(ApiConfig::hosts_for(addr))
        .with_max_connections(4)
        .with_pending_connections(4)
        .with_header_read_timeout(Duration::from_secs(600))
        .with_first_byte_timeout(Duration::from_secs(600));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, service, api, async {
        let _ = stopped.await;
    }));

    // Ten times the serving slots in silent connections, as an attacker (or a leaky client
    // pool) would hold them.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET /api/v1/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    // Without the separate budget this waits for the 600 s timers; the bound only keeps a
    // failing run from hanging.
    tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut answer))
        .await
        .expect("the request was answered while 40 silent connections were open")
        .expect("read");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // The oldest silent connections were closed to make room; the newest are still open.
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(60), idle[0].read(&mut buf))
        .await
        .expect("the oldest idle connection was closed");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");

    stop.send(()).expect("server running");
    tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("serve returns")
        .expect("serve task")
        .expect("serve ends cleanly");
}
