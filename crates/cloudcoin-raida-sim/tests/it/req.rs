//! Raw request bytes built by hand for the tests, and one request/answer over a socket.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

pub(crate) fn hex16(s: &str) -> [u8; 16] {
    hex(s).try_into().expect("16 bytes")
}

/// The sheet's challenge: 12 × 0x11 ‖ CRC-32 of them.
pub(crate) const CHALLENGE: &str = "111111111111111111111111d85df38f";

/// A request as a test wants it; `bytes` lays it out per the sheet §2.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub(crate) version: u8,
    pub(crate) raida: u8,
    pub(crate) group: u8,
    pub(crate) command: u8,
    pub(crate) coin_id: u16,
    pub(crate) key: Option<(i8, u32, [u8; 16])>,
    pub(crate) nonce: [u8; 8],
    pub(crate) challenge: [u8; 16],
    pub(crate) payload: Vec<u8>,
    pub(crate) terminator: [u8; 2],
}

impl Req {
    pub(crate) fn new(raida: u8, group: u8, command: u8, payload: Vec<u8>) -> Req {
        Req {
            version: 1,
            raida,
            group,
            command,
            coin_id: 6,
            key: None,
            nonce: [0; 8],
            challenge: hex16(CHALLENGE),
            payload,
            terminator: [0x3e, 0x3e],
        }
    }

    pub(crate) fn bytes(&self) -> Vec<u8> {
        let body_len = 16 + self.payload.len() + 2;
        let mut out = vec![self.version, 0, self.raida, 0, self.group, self.command];
        out.extend_from_slice(&self.coin_id.to_be_bytes());
        out.extend_from_slice(&[0; 8]);
        match self.key {
            Some((dn, sn, _)) => {
                out.push(1);
                out.push(dn as u8);
                out.extend_from_slice(&sn.to_be_bytes());
            }
            None => out.extend_from_slice(&[0; 6]),
        }
        out.extend_from_slice(&u16::try_from(body_len).expect("test bodies fit").to_be_bytes());
        out.extend_from_slice(&self.nonce);
        let mut sealed = self.challenge.to_vec();
        sealed.extend_from_slice(&self.payload);
        if let Some((_, _, an)) = self.key {
            ctr(&an, &self.nonce, 0, &mut sealed);
        }
        out.extend_from_slice(&sealed);
        out.extend_from_slice(&self.terminator);
        out
    }
}

/// AES-128-CTR with IV nonce ‖ 0⁸ from `block`, the test's own copy.
pub(crate) fn ctr(key: &[u8; 16], nonce: &[u8; 8], block: u64, data: &mut [u8]) {
    use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(nonce);
    let mut c = ctr::Ctr128BE::<aes::Aes128>::new(key.into(), (&iv).into());
    c.seek(u128::from(block) * 16);
    c.apply_keystream(data);
}

/// A response, split per the sheet §3.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub(crate) raw: Vec<u8>,
}

impl Resp {
    pub(crate) fn status(&self) -> u8 {
        self.raw[2]
    }
    pub(crate) fn size(&self) -> usize {
        usize::from(self.raw[9]) << 16 | usize::from(self.raw[10]) << 8 | usize::from(self.raw[11])
    }
    /// The body without terminator (empty for a status-only answer).
    pub(crate) fn body(&self) -> &[u8] {
        if self.raw.len() > 34 { &self.raw[32..self.raw.len() - 2] } else { &[] }
    }
    pub(crate) fn bytes_16_31(&self) -> &[u8] {
        &self.raw[16..32]
    }
}

/// Sends `bytes` on a new connection and reads one whole answer.
pub(crate) async fn send(addr: SocketAddr, bytes: &[u8]) -> Resp {
    try_send(addr, bytes).await.expect("an answer")
}

/// Sends `bytes` and reads one answer; `Err` with what was read when the connection ended first.
pub(crate) async fn try_send(addr: SocketAddr, bytes: &[u8]) -> Result<Resp, Vec<u8>> {
    let mut s = TcpStream::connect(addr).await.map_err(|_| Vec::new())?;
    s.write_all(bytes).await.map_err(|_| Vec::new())?;
    read_answer(&mut s).await
}

pub(crate) async fn read_answer(s: &mut TcpStream) -> Result<Resp, Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if raw.len() >= 32 {
            let size = usize::from(raw[9]) << 16 | usize::from(raw[10]) << 8 | usize::from(raw[11]);
            if raw.len() >= 32 + size {
                return Ok(Resp { raw });
            }
        }
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return Err(raw),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

/// A C21 record.
pub(crate) fn c21(dn: i8, sn: u32, an: &[u8; 16]) -> Vec<u8> {
    let mut r = vec![dn as u8];
    r.extend_from_slice(&sn.to_be_bytes());
    r.extend_from_slice(an);
    r
}

/// A C37 record.
pub(crate) fn c37(dn: i8, sn: u32, an: &[u8; 16], pan: &[u8; 16]) -> Vec<u8> {
    let mut r = c21(dn, sn, an);
    r.extend_from_slice(pan);
    r
}
