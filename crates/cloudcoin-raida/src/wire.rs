//! The byte layout of requests and responses (RAIDA.md §2–§4).
//!
//! Request: a 32-byte header, then the body = challenge (16) ‖ payload ‖ `3E 3E`; under type 1
//! the challenge and payload are encrypted with AES-128-CTR, key = the key coin's AN at that
//! RAIDA, IV = nonce ‖ 8 zero bytes. Response: a 32-byte header, then — when its size field is
//! not 0 — `size − 2` bytes of body and the terminator.

use cloudcoin_domain::{Denomination, SerialNumber};

use crate::crypto::apply_keystream;
use crate::error::WireError;
use crate::{Key, RaidaId, Status};

/// Length of a request or response header.
pub const HEADER_LEN: usize = 32;
/// The largest request body (its length field has 2 bytes).
pub const MAX_BODY_LEN: usize = 65_535;
/// The header and the challenge: what precedes the payload in a request.
pub(crate) const HEAD_LEN: usize = HEADER_LEN + CHALLENGE_LEN;
/// The two bytes that end every body.
pub const TERMINATOR: [u8; 2] = [0x3e, 0x3e];
/// Length of the challenge that starts every request body.
pub const CHALLENGE_LEN: usize = 16;
/// What a body holds besides its payload: the challenge and the terminator.
pub const BODY_OVERHEAD: usize = CHALLENGE_LEN + TERMINATOR.len();
/// The coin id of the C server's configuration and of the reference client (RAIDA.md §2:
/// unsettled, so it is a setting).
pub const DEFAULT_COIN_ID: u16 = 6;

/// A command: its group (request byte 4) and code (byte 5).
///
/// ```
/// use cloudcoin_raida::Command;
///
/// assert_eq!((Command::Detect.group(), Command::Detect.code()), (1, 10));
/// assert_eq!(Command::from_codes(9, 91), Some(Command::ChangeSerials));
/// assert!(!Command::Pown.is_read_only());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Command {
    /// 0/0: is the RAIDA there.
    Echo,
    /// 1/10: are these ANs right.
    Detect,
    /// 1/20: where the AN is right, replace it with the PAN.
    Pown,
    /// 2/40: a ticket for the coins that pass, to show other RAIDA in a fix.
    GetTicket,
    /// 2/60: does the RAIDA hold the AN, the PAN or neither.
    Find,
    /// 2/80: set the coin's AN by the fix rule, on tickets from other RAIDA.
    Fix,
    /// 9/90: break a coin into 10 of the next lower denomination at a chosen start SN.
    MakeChange,
    /// 9/91: free serial numbers of a denomination, for a break or a join.
    ChangeSerials,
    /// 9/92: break a coin into 10 at serial numbers from change SNs.
    Break,
    /// 9/93: join 10 coins into one.
    Join,
}

impl Command {
    const ALL: [Command; 10] = [
        Command::Echo,
        Command::Detect,
        Command::Pown,
        Command::GetTicket,
        Command::Find,
        Command::Fix,
        Command::MakeChange,
        Command::ChangeSerials,
        Command::Break,
        Command::Join,
    ];

    /// The command group (request byte 4).
    pub fn group(self) -> u8 {
        self.codes().0
    }

    /// The command code (request byte 5).
    pub fn code(self) -> u8 {
        self.codes().1
    }

    fn codes(self) -> (u8, u8) {
        match self {
            Command::Echo => (0, 0),
            Command::Detect => (1, 10),
            Command::Pown => (1, 20),
            Command::GetTicket => (2, 40),
            Command::Find => (2, 60),
            Command::Fix => (2, 80),
            Command::MakeChange => (9, 90),
            Command::ChangeSerials => (9, 91),
            Command::Break => (9, 92),
            Command::Join => (9, 93),
        }
    }

    /// The command with this group and code, when it is one of the above.
    pub fn from_codes(group: u8, code: u8) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.codes() == (group, code))
    }

    /// Whether sending the command twice changes nothing a second time, so that the client
    /// may resend it when no answer came (echo, detect, find). A get ticket is not: each
    /// one takes a ticket slot.
    pub fn is_read_only(self) -> bool {
        matches!(self, Command::Echo | Command::Detect | Command::Find)
    }
}

/// A request challenge: 12 random bytes and their CRC-32 (big-endian).
///
/// ```
/// use cloudcoin_raida::Challenge;
///
/// let c = Challenge::from_prefix([0x11; 12]);
/// assert_eq!(c.bytes()[12..], [0xd8, 0x5d, 0xf3, 0x8f]);
/// assert!(Challenge::random().is_valid());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Challenge([u8; CHALLENGE_LEN]);

impl Challenge {
    /// The challenge that starts with `prefix`.
    pub fn from_prefix(prefix: [u8; 12]) -> Challenge {
        let mut bytes = [0u8; CHALLENGE_LEN];
        bytes[..12].copy_from_slice(&prefix);
        bytes[12..].copy_from_slice(&crc32fast::hash(&prefix).to_be_bytes());
        Challenge(bytes)
    }

    /// A challenge with 12 fresh random bytes.
    pub fn random() -> Challenge {
        Challenge::from_prefix(random_bytes())
    }

    /// The 16 bytes.
    pub fn bytes(&self) -> &[u8; CHALLENGE_LEN] {
        &self.0
    }

    /// Whether the last 4 bytes are the CRC-32 of the first 12 (what a RAIDA checks).
    pub fn is_valid(&self) -> bool {
        Challenge::from_prefix(self.0[..12].try_into().expect("12 bytes")).0 == self.0
    }
}

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

/// Fills `bytes` from the operating system's random source.
pub(crate) fn fill_random(bytes: &mut [u8]) {
    getrandom::fill(bytes).expect("the operating system's random source is available");
}

/// The key coin of an encryption type-1 request, at one RAIDA.
///
/// ```
/// use cloudcoin_domain::{Denomination, SerialNumber};
/// use cloudcoin_raida::RequestKey;
///
/// let key = RequestKey::new(Denomination::from_code(1), SerialNumber::new(7), [0x87; 16]);
/// assert_eq!(key.serial.get(), 7);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RequestKey {
    /// The key coin's denomination (request byte 17).
    pub denomination: Denomination,
    /// The key coin's serial number (request bytes 18–21).
    pub serial: SerialNumber,
    /// The key coin's AN at the RAIDA the request goes to: the AES key.
    pub an: Key,
}

impl std::fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The AN is a secret: never in a log line.
        f.debug_struct("RequestKey")
            .field("denomination", &self.denomination)
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

impl RequestKey {
    /// The key coin `denomination`/`serial` with AN `an` at the RAIDA concerned.
    pub fn new(denomination: Denomination, serial: SerialNumber, an: Key) -> RequestKey {
        RequestKey { denomination, serial, an }
    }
}

/// Where the keystream of a type-1 response starts (RAIDA.md §3: unsettled, so a setting).
///
/// ```
/// use cloudcoin_raida::CounterMode;
///
/// // A 60-byte request body (58 encrypted bytes): the response continues at block 4.
/// assert_eq!(CounterMode::Continue.start_block(60), 4);
/// assert_eq!(CounterMode::Restart.start_block(60), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterMode {
    /// The response's keystream starts again at counter 0 (the C server's software path and
    /// the reference Python client).
    Restart,
    /// The response continues the request's counter (the C server on AES-NI hardware).
    Continue,
}

impl CounterMode {
    /// The block the response keystream starts at, for a request body of `request_body_len`
    /// bytes (terminator included): 0, or ⌈(body − 2) / 16⌉.
    pub fn start_block(self, request_body_len: usize) -> u64 {
        match self {
            CounterMode::Restart => 0,
            CounterMode::Continue => {
                let encrypted = request_body_len.saturating_sub(TERMINATOR.len());
                u64::try_from(encrypted.div_ceil(16)).expect("a body length fits u64")
            }
        }
    }
}

/// One request, ready to encode.
///
/// ```
/// use cloudcoin_raida::{Challenge, Command, RaidaId, Request};
///
/// let mut request = Request::new(RaidaId::new(0).unwrap(), Command::Echo, Vec::new());
/// request.nonce = [0; 8];
/// request.challenge = Challenge::from_prefix([0x11; 12]);
/// let bytes = request.encode().unwrap();
/// assert_eq!(bytes.len(), 32 + 18);
/// assert_eq!(bytes[..8], [1, 0, 0, 0, 0, 0, 0, 6]);
/// assert_eq!(bytes[22..24], [0, 0x12]);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// The RAIDA it goes to (byte 2).
    pub raida: RaidaId,
    /// The command (bytes 4–5).
    pub command: Command,
    /// The coin id (bytes 6–7).
    pub coin_id: u16,
    /// The nonce (bytes 24–31), the IV's first half under type 1.
    pub nonce: [u8; 8],
    /// The challenge that starts the body.
    pub challenge: Challenge,
    /// `Some` for encryption type 1.
    pub key: Option<RequestKey>,
    /// The command's records, in clear.
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The payload carries ANs and PANs: only its length is shown.
        f.debug_struct("Request")
            .field("raida", &self.raida)
            .field("command", &self.command)
            .field("coin_id", &self.coin_id)
            .field("key", &self.key)
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A type-0 request for coin id 6 with a random nonce and challenge.
    pub fn new(raida: RaidaId, command: Command, payload: Vec<u8>) -> Request {
        Request {
            raida,
            command,
            coin_id: DEFAULT_COIN_ID,
            nonce: random_bytes(),
            challenge: Challenge::random(),
            key: None,
            payload,
        }
    }

    /// The body length: challenge + payload + terminator.
    pub fn body_len(&self) -> usize {
        BODY_OVERHEAD + self.payload.len()
    }

    /// The header and body bytes, or [`WireError::BodyTooLong`] past 65,535 bytes of body.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let head = self.head()?;
        let mut out = Vec::with_capacity(HEADER_LEN + self.body_len());
        out.extend_from_slice(&head);
        out.extend_from_slice(&self.payload);
        self.seal(&mut out[HEAD_LEN..]);
        out.extend_from_slice(&TERMINATOR);
        Ok(out)
    }

    /// The frame in three parts — [`Request::head`], the payload as sent, the terminator — with
    /// the payload sealed in place (encrypted under type 1), so that a large request is written
    /// without copying it. Afterwards `self.payload` holds the bytes the wire carries, not the
    /// records in clear; everything else (and so the checks of the response) is unchanged.
    pub(crate) fn seal_in_place(&mut self) -> Result<[u8; HEAD_LEN], WireError> {
        let head = self.head()?;
        let mut payload = std::mem::take(&mut self.payload);
        self.seal(&mut payload);
        self.payload = payload;
        Ok(head)
    }

    /// The header and the challenge (encrypted under type 1): the frame's first 48 bytes.
    fn head(&self) -> Result<[u8; HEAD_LEN], WireError> {
        let body_len = self.body_len();
        let len16 =
            u16::try_from(body_len).map_err(|_| WireError::BodyTooLong { len: body_len })?;
        let mut head = [0u8; HEAD_LEN];
        head[..4].copy_from_slice(&[1, 0, self.raida.get(), 0]);
        head[4..6].copy_from_slice(&[self.command.group(), self.command.code()]);
        head[6..8].copy_from_slice(&self.coin_id.to_be_bytes());
        // Bytes 8–15 are zero; 16–21 the encryption type and the key coin (zero under type 0).
        if let Some(key) = &self.key {
            head[16..18].copy_from_slice(&[1, key.denomination.code().to_be_bytes()[0]]);
            head[18..22].copy_from_slice(&key.serial.get().to_be_bytes());
        }
        head[22..24].copy_from_slice(&len16.to_be_bytes());
        head[24..32].copy_from_slice(&self.nonce);
        head[HEADER_LEN..].copy_from_slice(self.challenge.bytes());
        if let Some(key) = &self.key {
            apply_keystream(&key.an, &self.nonce, 0, &mut head[HEADER_LEN..]);
        }
        Ok(head)
    }

    /// Encrypts payload bytes as the body carries them under type 1: the keystream goes on from
    /// the challenge's block (the challenge is exactly one block), so the two are one stream.
    fn seal(&self, payload: &mut [u8]) {
        if let Some(key) = &self.key {
            let after_challenge = (CHALLENGE_LEN / 16) as u64;
            apply_keystream(&key.an, &self.nonce, after_challenge, payload);
        }
    }

    /// What the response's bytes 16–31 must be when the RAIDA answers about the coins: the
    /// challenge (type 0) or the challenge XOR the key AN (type 1).
    pub fn expected_challenge_echo(&self) -> [u8; CHALLENGE_LEN] {
        let mut echo = *self.challenge.bytes();
        if let Some(key) = &self.key {
            echo.iter_mut().zip(key.an).for_each(|(b, k)| *b ^= k);
        }
        echo
    }
}

/// The answer to get ticket: the ticket a RAIDA issued for the coins of one request that
/// passed there. Other RAIDA confirm it when a fix presents it; 0 means "no ticket".
///
/// ```
/// use cloudcoin_raida::Ticket;
/// assert_eq!(Ticket::new(0x01020304).get(), 0x01020304);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(u32);

impl Ticket {
    /// The ticket `n`.
    pub fn new(n: u32) -> Ticket {
        Ticket(n)
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// What one RAIDA said about one coin of a detect, pown, get ticket, fix or break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// The AN was right (after a pown: the RAIDA now holds the PAN; after a fix: the fix rule's
    /// AN).
    Pass,
    /// The AN was wrong, or the coin is unknown there; nothing changed for it.
    Fail,
}

/// What one RAIDA said about one coin of a find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Found {
    /// Neither the AN nor the PAN is the one the RAIDA holds.
    Neither,
    /// The RAIDA holds the AN (a pown did not apply there).
    An,
    /// The RAIDA holds the PAN (a pown applied there).
    Pan,
}

/// The answer to change SNs: serial numbers of a denomination that are free at one RAIDA.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FreeSerials {
    /// The denomination the serial numbers are of (the requested one minus one).
    pub denomination: Denomination,
    /// Up to 64 free serial numbers.
    pub serials: Vec<SerialNumber>,
}

/// One parsed response. Under type 1 its body is still encrypted until
/// [`Response::decrypt`].
///
/// ```
/// use cloudcoin_raida::{Check, Response, Status};
///
/// let mut bytes = vec![0u8; 32];
/// bytes[2] = 243; // mixed
/// bytes[11] = 3; // size: one byte and the terminator
/// bytes.extend_from_slice(&[0x01, 0x3e, 0x3e]);
/// let response = Response::parse(&bytes).unwrap();
/// assert_eq!(response.status, Status::Mixed);
/// assert_eq!(response.checks(2).unwrap(), [Check::Pass, Check::Fail]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The answering RAIDA's id (byte 0).
    pub raida: u8,
    /// The status (byte 2).
    pub status: Status,
    /// The command group (byte 3).
    pub group: u8,
    /// The echo of request bytes 30–31 (bytes 6–7).
    pub nonce_echo: [u8; 2],
    /// The execution time in microseconds (bytes 12–15).
    pub exec_micros: u32,
    /// The challenge echo (bytes 16–31).
    pub challenge_echo: [u8; CHALLENGE_LEN],
    /// The body without its terminator; empty for a status-only answer.
    pub body: Vec<u8>,
}

impl Response {
    /// How many bytes follow a response header: its size field, which counts the body and the
    /// terminator (0 for a status-only answer).
    ///
    /// ```
    /// use cloudcoin_raida::Response;
    /// let mut header = [0u8; 32];
    /// header[9..12].copy_from_slice(&[0, 1, 3]);
    /// assert_eq!(Response::body_len(&header).unwrap(), 259);
    /// ```
    pub fn body_len(header: &[u8; HEADER_LEN]) -> Result<usize, WireError> {
        let size =
            usize::from(header[9]) << 16 | usize::from(header[10]) << 8 | usize::from(header[11]);
        if size == 1 {
            return Err(WireError::SizeTooSmall { size });
        }
        Ok(size)
    }

    /// Parses a whole response: header, body and terminator, nothing more.
    pub fn parse(bytes: &[u8]) -> Result<Response, WireError> {
        let header: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(WireError::Truncated { len: bytes.len() })?;
        let size = Response::body_len(header)?;
        let rest = &bytes[HEADER_LEN..];
        if rest.len() != size {
            return Err(WireError::SizeMismatch { declared: size, actual: rest.len() });
        }
        let body = match rest.split_last_chunk::<2>() {
            None => Vec::new(),
            Some((body, end)) if *end == TERMINATOR => body.to_vec(),
            Some(_) => return Err(WireError::MissingTerminator),
        };
        Ok(Response {
            raida: header[0],
            status: Status::from_code(header[2]),
            group: header[3],
            nonce_echo: [header[6], header[7]],
            exec_micros: u32::from_be_bytes(header[12..16].try_into().expect("4 bytes")),
            challenge_echo: header[16..32].try_into().expect("16 bytes"),
            body,
        })
    }

    /// Decrypts the body of the answer to a type-1 `request` whose response keystream starts
    /// where `mode` says.
    pub fn decrypt(&mut self, request: &Request, mode: CounterMode) {
        if let Some(key) = &request.key {
            let start = mode.start_block(request.body_len());
            apply_keystream(&key.an, &request.nonce, start, &mut self.body);
        }
    }

    /// Whether this is an answer to `request`: the RAIDA id, the nonce echo and the challenge
    /// echo all match. Header errors (3, 6, 7, 255) carry no echo; check this only for
    /// statuses that answer about coins.
    pub fn answers(&self, request: &Request) -> bool {
        self.raida == request.raida.get()
            && self.nonce_echo == [request.nonce[6], request.nonce[7]]
            && self.challenge_echo == request.expected_challenge_echo()
    }

    /// The per-coin answer of a detect, pown or fix of `n` coins: 241, 242, or 243 with an
    /// LSB-first bitfield (coin `i` is bit `i % 8` of byte `i / 8`).
    pub fn checks(&self, n: usize) -> Result<Vec<Check>, WireError> {
        self.checks_with_trailer(n, 0).map(|(checks, _)| checks)
    }

    /// The answer to a get ticket of `n` coins: the per-coin checks and the ticket, which
    /// comes with 241 and 243 (after the bitfield).
    pub fn ticket(&self, n: usize) -> Result<(Vec<Check>, Option<Ticket>), WireError> {
        if self.status == Status::AllFail {
            return self.checks(n).map(|c| (c, None));
        }
        let (checks, trailer) = self.checks_with_trailer(n, 4)?;
        let ticket = Ticket(u32::from_be_bytes(trailer.try_into().expect("4 bytes")));
        Ok((checks, Some(ticket)))
    }

    fn checks_with_trailer(
        &self,
        n: usize,
        trailer: usize,
    ) -> Result<(Vec<Check>, &[u8]), WireError> {
        let (checks, used) = match self.status {
            Status::AllPass => (vec![Check::Pass; n], 0),
            Status::AllFail => (vec![Check::Fail; n], 0),
            Status::Mixed => {
                let len = n.div_ceil(8);
                let bits = self.body.get(..len).ok_or(self.unexpected_body(len + trailer))?;
                let checks = (0..n)
                    .map(
                        |i| if bits[i / 8] >> (i % 8) & 1 == 1 { Check::Pass } else { Check::Fail },
                    )
                    .collect();
                (checks, len)
            }
            other => return Err(WireError::UnexpectedStatus { status: other }),
        };
        if self.body.len() != used + trailer {
            return Err(self.unexpected_body(used + trailer));
        }
        Ok((checks, &self.body[used..]))
    }

    /// The per-coin answer of a find of `n` coins: 208, 209, 210, or 211 with one byte a coin.
    pub fn found(&self, n: usize) -> Result<Vec<Found>, WireError> {
        let all = |f: Found| -> Result<Vec<Found>, WireError> {
            if self.body.is_empty() { Ok(vec![f; n]) } else { Err(self.unexpected_body(0)) }
        };
        match self.status {
            Status::FindNeither => all(Found::Neither),
            Status::FindAllAn => all(Found::An),
            Status::FindAllPan => all(Found::Pan),
            Status::FindMixed => {
                if self.body.len() != n {
                    return Err(self.unexpected_body(n));
                }
                self.body
                    .iter()
                    .map(|b| match b {
                        0 => Ok(Found::Neither),
                        1 => Ok(Found::An),
                        2 => Ok(Found::Pan),
                        _ => Err(WireError::BadFindByte { byte: *b }),
                    })
                    .collect()
            }
            other => Err(WireError::UnexpectedStatus { status: other }),
        }
    }

    /// The answer to change SNs: 250, then the denomination and up to 64 serial numbers.
    pub fn free_serials(&self) -> Result<FreeSerials, WireError> {
        if self.status != Status::Success {
            return Err(WireError::UnexpectedStatus { status: self.status });
        }
        let (dn, sns) = self.body.split_first().ok_or(self.unexpected_body(1))?;
        if !sns.len().is_multiple_of(4) || sns.len() > 64 * 4 {
            return Err(self.unexpected_body(1 + sns.len() / 4 * 4));
        }
        let serials = sns
            .chunks_exact(4)
            .map(|c| SerialNumber::new(u32::from_be_bytes(c.try_into().expect("4 bytes"))))
            .collect();
        Ok(FreeSerials { denomination: Denomination::from_code(i8::from_be_bytes([*dn])), serials })
    }

    fn unexpected_body(&self, expected: usize) -> WireError {
        WireError::UnexpectedBody { status: self.status, len: self.body.len(), expected }
    }
}

/// Appends a `C5` record (DN ‖ SN).
pub(crate) fn put_c5(out: &mut Vec<u8>, dn: Denomination, sn: SerialNumber) {
    out.push(dn.code().to_be_bytes()[0]);
    out.extend_from_slice(&sn.get().to_be_bytes());
}

#[cfg(test)]
mod tests;
