//! The simulator's own reading of the request bytes and writing of the response bytes.
//!
//! Written from the protocol sheet (header §2, response §3, records §4) without the protocol
//! crate, so that the client and the simulator are checked against the sheet independently.

use aes::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use md5::{Digest, Md5};

/// A request or response header is 32 bytes.
pub(crate) const HEADER_LEN: usize = 32;
/// Challenge (16) + terminator (2): the smallest body.
pub(crate) const BODY_OVERHEAD: usize = 18;
/// The body terminator.
pub(crate) const TERMINATOR: [u8; 2] = [0x3e, 0x3e];

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// The commands the simulator knows, by their group and command bytes (request bytes 4 and 5).
///
/// Used to name a command in a [`crate::FaultRule`] and in the [`crate::LoggedRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// 0/0.
    Echo,
    /// 1/10.
    Detect,
    /// 1/20.
    Pown,
    /// 2/40.
    GetTicket,
    /// 2/50 (server to server; the simulator confirms tickets in process and answers 6 to it).
    ValidateTicket,
    /// 2/60.
    Find,
    /// 2/80.
    Fix,
    /// 9/90.
    MakeChange,
    /// 9/91.
    ChangeSns,
    /// 9/92.
    Break,
    /// 9/93.
    Join,
    /// Any other group/command pair.
    Other {
        /// Request byte 4.
        group: u8,
        /// Request byte 5.
        command: u8,
    },
}

impl Command {
    /// The command named by request bytes 4 (group) and 5 (command).
    ///
    /// ```
    /// use cloudcoin_raida_sim::Command;
    /// assert_eq!(Command::from_bytes(1, 10), Command::Detect);
    /// assert_eq!(Command::from_bytes(9, 92), Command::Break);
    /// assert_eq!(Command::from_bytes(7, 7), Command::Other { group: 7, command: 7 });
    /// ```
    pub const fn from_bytes(group: u8, command: u8) -> Command {
        match (group, command) {
            (0, 0) => Command::Echo,
            (1, 10) => Command::Detect,
            (1, 20) => Command::Pown,
            (2, 40) => Command::GetTicket,
            (2, 50) => Command::ValidateTicket,
            (2, 60) => Command::Find,
            (2, 80) => Command::Fix,
            (9, 90) => Command::MakeChange,
            (9, 91) => Command::ChangeSns,
            (9, 92) => Command::Break,
            (9, 93) => Command::Join,
            (group, command) => Command::Other { group, command },
        }
    }

    /// The (group, command) bytes of this command.
    ///
    /// ```
    /// use cloudcoin_raida_sim::Command;
    /// assert_eq!(Command::Fix.bytes(), (2, 80));
    /// ```
    pub const fn bytes(self) -> (u8, u8) {
        match self {
            Command::Echo => (0, 0),
            Command::Detect => (1, 10),
            Command::Pown => (1, 20),
            Command::GetTicket => (2, 40),
            Command::ValidateTicket => (2, 50),
            Command::Find => (2, 60),
            Command::Fix => (2, 80),
            Command::MakeChange => (9, 90),
            Command::ChangeSns => (9, 91),
            Command::Break => (9, 92),
            Command::Join => (9, 93),
            Command::Other { group, command } => (group, command),
        }
    }
}

/// The CRC-32 (zlib/IEEE) of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Whether the 16-byte challenge ends with the big-endian CRC-32 of its first 12 bytes.
pub(crate) fn challenge_ok(challenge: &[u8]) -> bool {
    challenge.len() == 16 && crc32(&challenge[..12]).to_be_bytes() == challenge[12..16]
}

/// Applies the AES-128-CTR keystream of `key` with IV `nonce ‖ 0⁸`, starting `block` 16-byte
/// blocks past the IV, to `data` in place.
pub(crate) fn ctr_apply(key: &[u8; 16], nonce: &[u8; 8], block: u64, data: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(nonce);
    let mut cipher = Aes128Ctr::new(key.into(), (&iv).into());
    cipher.seek(u128::from(block) * 16);
    cipher.apply_keystream(data);
}

/// The AN a RAIDA gives a coin after a successful fix: MD5(raida ‖ DN ‖ SN ‖ PG).
pub(crate) fn fix_an(raida: u8, dn: i8, sn: u32, pg: &[u8; 16]) -> [u8; 16] {
    let mut h = Md5::new();
    h.update([raida, dn.to_be_bytes()[0]]);
    h.update(sn.to_be_bytes());
    h.update(pg);
    h.finalize().into()
}

/// The seed AN rule of the public server: the same AN on every RAIDA of a fresh network.
pub(crate) fn public_seed_an(dn: i8, sn: u32) -> [u8; 16] {
    // `dn & 0xffffffff` of a negative code is its 32-bit two's complement.
    let dn32 = i32::from(dn) as u32;
    let text = format!("{:04x}{:02x}{:04x}{:02x}", 0x4567, dn32, sn / 1024, sn % 1024);
    Md5::digest(text.as_bytes()).into()
}

/// What a request header says, read without judging it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) version: u8,
    pub(crate) raida: u8,
    pub(crate) group: u8,
    pub(crate) command: u8,
    pub(crate) coin_id: u16,
    pub(crate) encryption: u8,
    pub(crate) key_dn: i8,
    pub(crate) key_sn: u32,
    pub(crate) body_len: usize,
    pub(crate) nonce: [u8; 8],
}

impl Header {
    /// Reads the 32 header bytes. `None` when fewer than 32 bytes were given.
    pub(crate) fn read(raw: &[u8]) -> Option<Header> {
        let h: &[u8; HEADER_LEN] = raw.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Header {
            version: h[0],
            raida: h[2],
            group: h[4],
            command: h[5],
            coin_id: u16::from_be_bytes([h[6], h[7]]),
            encryption: h[16],
            key_dn: i8::from_be_bytes([h[17]]),
            key_sn: u32::from_be_bytes([h[18], h[19], h[20], h[21]]),
            body_len: usize::from(u16::from_be_bytes([h[22], h[23]])),
            nonce: [h[24], h[25], h[26], h[27], h[28], h[29], h[30], h[31]],
        })
    }

    /// Request bytes 30–31, echoed in response bytes 6–7.
    pub(crate) fn echo(&self) -> [u8; 2] {
        [self.nonce[6], self.nonce[7]]
    }
}

/// The parts of a response the simulator fills in.
#[derive(Debug, Clone)]
pub(crate) struct ResponseParts {
    pub(crate) raida: u8,
    pub(crate) status: u8,
    pub(crate) group: u8,
    /// Response bytes 6–7.
    pub(crate) echo: [u8; 2],
    pub(crate) exec_micros: u32,
    /// Response bytes 16–31.
    pub(crate) challenge: [u8; 16],
    /// The body without terminator (already encrypted when the request was type 1); empty for a
    /// status-only answer.
    pub(crate) body: Vec<u8>,
}

impl ResponseParts {
    /// The response bytes: 32 header bytes, then body ‖ terminator when there is a body.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.body.len() + 2);
        out.extend_from_slice(&[self.raida, 0, self.status, self.group, 0, 1]);
        out.extend_from_slice(&self.echo);
        let size = if self.body.is_empty() { 0 } else { self.body.len() + 2 };
        let size = u32::try_from(size).unwrap_or(u32::MAX).to_be_bytes();
        out.extend_from_slice(&[0, size[1], size[2], size[3]]);
        out.extend_from_slice(&self.exec_micros.to_be_bytes());
        out.extend_from_slice(&self.challenge);
        if !self.body.is_empty() {
            out.extend_from_slice(&self.body);
            out.extend_from_slice(&TERMINATOR);
        }
        out
    }
}

/// The LSB-first bitfield of `bits`: coin i is bit i % 8 of byte i / 8.
pub(crate) fn bitfield(bits: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
        out[i / 8] |= 1 << (i % 8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn crc_vectors() {
        assert_eq!(crc32(&[0x11; 12]), 0xd85d_f38f);
        assert_eq!(crc32(&[0; 12]), 0x7bd5_c66f);
        assert_eq!(crc32(&hex("000102030405060708090a0b")), 0x9270_c965);
    }

    #[test]
    fn fix_an_vectors() {
        let pg: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(fix_an(0, 1, 5, &pg).to_vec(), hex("4296c41a384960381715a4bd1491597d"));
        assert_eq!(fix_an(13, 1, 5, &pg).to_vec(), hex("2666ed844c7ee3cd0abdbd2aeef51bd2"));
        assert_eq!(
            fix_an(24, -8, 1_023_999, &[0xff; 16]).to_vec(),
            hex("6e96f9ebd9d881d051bf0db1bdf0a4bd")
        );
    }

    #[test]
    fn public_seed_rule_vector() {
        assert_eq!(public_seed_an(1, 5).to_vec(), hex("820a3fc6f7d59a62c6d90384853adac9"));
    }

    #[test]
    fn bitfield_is_lsb_first() {
        assert_eq!(bitfield(&[true, false]), vec![0x01]);
        assert_eq!(bitfield(&[false; 9]), vec![0, 0]);
        let mut bits = [false; 10];
        bits[1] = true;
        bits[9] = true;
        assert_eq!(bitfield(&bits), vec![0x02, 0x02]);
    }

    #[test]
    fn ctr_continues_at_a_block() {
        let key = [7u8; 16];
        let nonce = [1u8; 8];
        let mut whole = vec![0u8; 80];
        ctr_apply(&key, &nonce, 0, &mut whole);
        let mut tail = vec![0u8; 16];
        ctr_apply(&key, &nonce, 4, &mut tail);
        assert_eq!(tail, whole[64..]);
    }
}
