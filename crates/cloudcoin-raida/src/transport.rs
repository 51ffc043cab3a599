//! One request to one RAIDA over TCP: connect, send, read one response, close.
//!
//! A connection carries one request, as the reference client does. Everything that goes wrong
//! after the first byte was written is a [`Silence`] (maybe applied); a connection that never
//! opened is [`NotSent::Unreachable`].

use std::io::IoSlice;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

use crate::answer::{NotSent, Silence};
use crate::wire::{HEADER_LEN, MAX_BODY_LEN, Response};

/// The largest size field the client reads.
const MAX_RESPONSE_BODY: usize = MAX_BODY_LEN + 2;

/// Why an exchange gave no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    NotSent(NotSent),
    Silent(Silence),
}

/// A response and how long the exchange took.
#[derive(Debug)]
pub(crate) struct Exchanged {
    pub(crate) response: Response,
    pub(crate) elapsed: Duration,
}

/// Sends the request `frame` (its parts one after the other, in as few writes as the system
/// takes) to `address` and reads one response within `timeout` (connecting within
/// `connect_timeout`, which counts towards `timeout` too).
pub(crate) async fn exchange(
    address: &str,
    frame: &[&[u8]],
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Exchanged, Failure> {
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + timeout);
    let connect_deadline = tokio::time::Instant::from_std(start + connect_timeout.min(timeout));
    let mut stream = match timeout_at(connect_deadline, TcpStream::connect(address)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(_)) | Err(_) => return Err(Failure::NotSent(NotSent::Unreachable)),
    };
    // Requests are written whole; without Nagle a small one leaves at once.
    let _ = stream.set_nodelay(true);
    let read = async {
        write_all_parts(&mut stream, frame).await.map_err(|_| Silence::Closed)?;
        let mut header = [0u8; HEADER_LEN];
        stream.read_exact(&mut header).await.map_err(|_| Silence::Closed)?;
        let size = Response::body_len(&header).map_err(|_| Silence::Garbled)?;
        // No answer of the protocol is longer than a request body (a find's byte a coin is the
        // longest); a bigger size field is not read, so a broken RAIDA cannot make the client
        // allocate 16 MiB a request.
        if size > MAX_RESPONSE_BODY {
            return Err(Silence::Garbled);
        }
        let mut all = Vec::with_capacity(HEADER_LEN + size);
        all.extend_from_slice(&header);
        all.resize(HEADER_LEN + size, 0);
        stream.read_exact(&mut all[HEADER_LEN..]).await.map_err(|_| Silence::Closed)?;
        Response::parse(&all).map_err(|_| Silence::Garbled)
    };
    match timeout_at(deadline, read).await {
        Ok(Ok(response)) => Ok(Exchanged { response, elapsed: start.elapsed() }),
        Ok(Err(silence)) => Err(Failure::Silent(silence)),
        Err(_) => Err(Failure::Silent(Silence::Timeout)),
    }
}

/// Writes every part of `frame` with gathering writes (one `writev` for a whole request, as a
/// rule), without joining the parts into one buffer first.
async fn write_all_parts(stream: &mut TcpStream, frame: &[&[u8]]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = frame.iter().map(|part| IoSlice::new(part)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        let written = stream.write_vectored(rest).await?;
        if written == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, written);
    }
    Ok(())
}
