//! The JSON stack (`.stack`, `docs/SPEC.md` §4.2): the v1 stack shape with a `dn` field.
//!
//! What the parser accepts ([`WireStack`]) and what is a valid coin ([`Coin`]) are kept apart:
//! serde reads the wire structs, `TryFrom` turns each into a coin.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::io::Write;

use cloudcoin_domain::{
    AuthenticityNumber, CLOUDCOIN_ID, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber,
};
use serde::Deserialize;
#[cfg(test)]
use serde::Serialize;

use crate::error::CodecError;

/// The UTF-8 byte order mark some editors put in front of text files.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether the first byte after an optional byte order mark and white space is `{`: how a stack
/// file starts.
pub(crate) fn looks_like_json(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// A field that may be a JSON number or a string holding one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(serde_json::Number),
    Text(String),
}

impl NumberOrText {
    /// The text of the number, trimmed.
    fn text(&self) -> String {
        match self {
            NumberOrText::Number(n) => n.to_string(),
            NumberOrText::Text(s) => s.trim().to_owned(),
        }
    }

    fn parse<T: std::str::FromStr>(&self, index: usize, field: &str) -> Result<T, CodecError> {
        let text = self.text();
        text.parse().map_err(|_| CodecError::BadRecord {
            index,
            reason: format!("{field} is not a valid number for this field"),
        })
    }
}

/// A stack file as read.
#[derive(Debug, Deserialize)]
struct WireStack {
    cloudcoin: Vec<WireCoin>,
}

/// One coin of a stack as read; unknown keys (v1's `ed`, `aoid`, …) are ignored.
#[derive(Debug, Deserialize)]
struct WireCoin {
    nn: Option<NumberOrText>,
    sn: Option<NumberOrText>,
    dn: Option<NumberOrText>,
    an: Option<Vec<String>>,
    pown: Option<String>,
}

/// One coin of a stack as written: every value a string, as in v1 stacks. The writer
/// ([`write_coin_line`]) prints this shape directly; the tests check it prints what serde would.
#[cfg(test)]
#[derive(Debug, Serialize)]
struct WireCoinOut {
    nn: String,
    sn: String,
    dn: String,
    an: Vec<String>,
    pown: String,
}

#[cfg(test)]
impl From<&Coin> for WireCoinOut {
    fn from(coin: &Coin) -> WireCoinOut {
        WireCoinOut {
            nn: CLOUDCOIN_ID.to_string(),
            sn: coin.serial.to_string(),
            dn: coin.denomination.code().to_string(),
            an: coin.ans.iter().map(hex::encode).collect(),
            pown: coin.pown_string(),
        }
    }
}

/// A wire coin together with its position in the file, for error messages.
struct Positioned(usize, WireCoin);

impl TryFrom<Positioned> for Coin {
    type Error = CodecError;

    fn try_from(Positioned(index, wire): Positioned) -> Result<Coin, CodecError> {
        let sn = wire.sn.ok_or_else(|| CodecError::BadRecord {
            index,
            reason: "the serial number (sn) is missing".into(),
        })?;
        // A coin without `dn` is a v1 coin (whose nn is usually 1): say that, not "wrong id".
        let Some(dn) = wire.dn else {
            // Its serial number is quoted only when it is one (a number), never other text.
            let sn =
                sn.text().parse::<u64>().map_or_else(|_| format!("#{index}"), |n| n.to_string());
            return Err(CodecError::LegacyCoin { sn });
        };
        let nn = wire.nn.ok_or_else(|| CodecError::BadRecord {
            index,
            reason: "the coin id (nn) is missing".into(),
        })?;
        let nn: u16 = nn.parse(index, "nn")?;
        if nn != CLOUDCOIN_ID {
            return Err(CodecError::WrongCoinId { found: nn });
        }
        let serial: u32 = sn.parse(index, "sn")?;
        let code: i8 = dn.parse(index, "dn")?;
        let an = wire.an.ok_or_else(|| CodecError::BadRecord {
            index,
            reason: "the authenticity numbers (an) are missing".into(),
        })?;
        if an.len() != RAIDA_COUNT {
            return Err(CodecError::AnCount { found: an.len() });
        }
        let mut ans = [AuthenticityNumber::default(); RAIDA_COUNT];
        for (i, (slot, text)) in ans.iter_mut().zip(&an).enumerate() {
            *slot = parse_an(text).map_err(|reason| CodecError::BadAn {
                coin: index,
                index: i,
                reason,
            })?;
        }
        let pown = match wire.pown {
            None => [Pown::Untried; RAIDA_COUNT],
            Some(text) => Coin::parse_pown(text.trim())
                .map_err(|source| CodecError::BadPown { coin: index, source })?,
        };
        Ok(Coin::new(Denomination::from_code(code), SerialNumber::new(serial), ans, pown))
    }
}

/// Parses 32 hex digits (either case) into an AN.
fn parse_an(text: &str) -> Result<AuthenticityNumber, String> {
    let digits = text.as_bytes();
    if digits.len() != 32 {
        return Err(format!("{} characters where 32 hex digits are needed", text.chars().count()));
    }
    let mut an = AuthenticityNumber::default();
    // The position of a bad character is named, never the character (see `sniff`).
    hex::decode_to_slice(digits, &mut an).map_err(|e| match e {
        hex::FromHexError::InvalidHexCharacter { index, .. } => {
            format!("character {} is not a hex digit", index + 1)
        }
        hex::FromHexError::OddLength | hex::FromHexError::InvalidStringLength => {
            "32 hex digits are needed".to_owned()
        }
    })?;
    Ok(an)
}

/// Each byte's value as a hex digit (either case); `NOT_HEX` for a byte that is not one.
const HEX_DIGIT: [u8; 256] = {
    let mut values = [NOT_HEX; 256];
    let mut v = 0;
    while v < 16 {
        values[b"0123456789abcdef"[v] as usize] = v as u8;
        values[b"0123456789ABCDEF"[v] as usize] = v as u8;
        v += 1;
    }
    values
};
/// The mark of a byte that is no hex digit: its high bit survives any or'ing of digit values.
const NOT_HEX: u8 = 0x80;

/// The AN of exactly 32 hex digits (either case), or `None`.
///
/// One table lookup per digit and one check for the whole AN: a 65,535-coin stack holds
/// 1.6 million ANs, and a check per digit pair was an eighth of reading it.
fn hex_an(digits: &[u8]) -> Option<AuthenticityNumber> {
    let digits: &[u8; 32] = digits.try_into().ok()?;
    let mut an = AuthenticityNumber::default();
    let mut marks = 0u8;
    for (byte, pair) in an.iter_mut().zip(digits.chunks_exact(2)) {
        let high = HEX_DIGIT[usize::from(pair[0])];
        let low = HEX_DIGIT[usize::from(pair[1])];
        marks |= high | low;
        *byte = (high << 4) | (low & 0x0F);
    }
    (marks & NOT_HEX == 0).then_some(an)
}

/// `bytes` as lower-case hex digits.
#[cfg(test)]
fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Appends the decimal digits of `n`, as `Display` prints it.
fn push_decimal(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends one coin as the writer prints it:
/// `{"nn":"6","sn":"…","dn":"…","an":["…", …25…],"pown":"…"}` — every value a string of
/// digits, hex digits or POWN letters, none of which JSON escapes. Printed piece by piece, the
/// same bytes as `write!` with `Display` would (a test compares the two).
fn write_coin_line(out: &mut Vec<u8>, coin: &Coin) {
    out.extend_from_slice(b"{\"nn\":\"");
    push_decimal(out, u32::from(CLOUDCOIN_ID));
    out.extend_from_slice(b"\",\"sn\":\"");
    push_decimal(out, coin.serial.get());
    out.extend_from_slice(b"\",\"dn\":\"");
    let code = coin.denomination.code();
    if code < 0 {
        out.push(b'-');
    }
    push_decimal(out, u32::from(code.unsigned_abs()));
    out.extend_from_slice(b"\",\"an\":[");
    for (i, an) in coin.ans.iter().enumerate() {
        // `,"` (the first without its comma), 32 hex digits, `"`.
        let mut quoted = [b'"'; 35];
        quoted[0] = b',';
        hex::encode_to_slice(an, &mut quoted[2..34]).expect("16 bytes fill 32 hex digits");
        out.extend_from_slice(if i == 0 { &quoted[1..] } else { &quoted[..] });
    }
    out.extend_from_slice(b"],\"pown\":\"");
    for p in &coin.pown {
        // POWN letters are ASCII.
        out.push(p.letter() as u8);
    }
    out.extend_from_slice(b"\"}");
}

/// The coin line as the writer printed it with `write!` and `Display`, which
/// [`write_coin_line`] must match byte for byte.
#[cfg(test)]
fn write_coin_line_formatted(out: &mut Vec<u8>, coin: &Coin) {
    use std::io::Write as _;
    let _ = write!(
        out,
        "{{\"nn\":\"{CLOUDCOIN_ID}\",\"sn\":\"{}\",\"dn\":\"{}\",\"an\":[",
        coin.serial.get(),
        coin.denomination.code()
    );
    for (i, an) in coin.ans.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\"" } else { b",\"" });
        out.extend_from_slice(hex::encode(an).as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"],\"pown\":\"");
    for p in &coin.pown {
        out.push(p.letter() as u8);
    }
    out.extend_from_slice(b"\"}");
}

/// Reads one coin printed exactly as [`write_coin_line`] prints it (hex in either case), with
/// every value checked as the stack reader checks it. `None` for anything else — another key
/// order, white space, escapes, a value the reader would refuse — which the caller then gives to
/// the stack reader, so what is accepted, and every error, stays the reader's own. Returns the
/// coin and the bytes after it.
pub(crate) fn read_coin_line(bytes: &[u8]) -> Option<(Coin, &[u8])> {
    /// The text up to the next `"`, which must hold no escape, and the rest after the quote.
    fn string(bytes: &[u8]) -> Option<(&str, &[u8])> {
        let end = bytes.iter().position(|&b| b == b'"')?;
        let text = &bytes[..end];
        if text.iter().any(|&b| b == b'\\' || b < 0x20) {
            return None;
        }
        Some((std::str::from_utf8(text).ok()?, &bytes[end + 1..]))
    }
    fn number<T: std::str::FromStr>(text: &str, sign: bool) -> Option<T> {
        let digits = if sign { text.strip_prefix('-').unwrap_or(text) } else { text };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }
    let rest = bytes.strip_prefix(b"{\"nn\":\"")?;
    let (nn, rest) = string(rest)?;
    if number::<u16>(nn, false)? != CLOUDCOIN_ID {
        return None;
    }
    let rest = rest.strip_prefix(b",\"sn\":\"")?;
    let (sn, rest) = string(rest)?;
    let serial: u32 = number(sn, false)?;
    let rest = rest.strip_prefix(b",\"dn\":\"")?;
    let (dn, rest) = string(rest)?;
    let code: i8 = number(dn, true)?;
    let mut rest = rest.strip_prefix(b",\"an\":[")?;
    let mut ans = [AuthenticityNumber::default(); RAIDA_COUNT];
    for (i, slot) in ans.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(b",")?;
        }
        let quoted = rest.strip_prefix(b"\"")?;
        // 32 hex digits and the closing quote, as written: decoded in one pass. Anything else
        // goes through the string and AN checks, which accept nothing more.
        if let Some((digits, after)) = quoted.split_at_checked(32)
            && let Some(after) = after.strip_prefix(b"\"")
            && let Some(an) = hex_an(digits)
        {
            *slot = an;
            rest = after;
            continue;
        }
        let (text, after) = string(quoted)?;
        *slot = parse_an(text).ok()?;
        rest = after;
    }
    let rest = rest.strip_prefix(b"],\"pown\":\"")?;
    let (pown, rest) = string(rest)?;
    let pown = Coin::parse_pown(pown).ok()?;
    let rest = rest.strip_prefix(b"}")?;
    let coin = Coin::new(Denomination::from_code(code), SerialNumber::new(serial), ans, pown);
    Some((coin, rest))
}

/// Reads a stack laid out exactly as [`write_stack_reporting`] writes it (white space allowed
/// after it), or `None` for any other text, for the general reader to read.
fn read_written_stack(bytes: &[u8]) -> Option<Vec<Coin>> {
    let mut rest = bytes.strip_prefix(b"{\"cloudcoin\":[")?;
    let mut coins = Vec::new();
    let mut seen = HashSet::new();
    loop {
        let separator: &[u8] = if coins.is_empty() { b"\n" } else { b",\n" };
        let Some(next) = rest.strip_prefix(separator) else { break };
        let Some((coin, after)) = read_coin_line(next) else {
            // `\n]}` after the last coin (or of an empty stack) ends it; anything else is not
            // this layout.
            break;
        };
        if !seen.insert(coin.id()) {
            return None;
        }
        coins.push(coin);
        rest = after;
    }
    let rest = rest.strip_prefix(b"\n]}")?;
    rest.iter().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')).then_some(coins)
}

/// Writes `coins` as a stack, one coin per line:
/// `{"cloudcoin":[{"nn":"6","sn":"…","dn":"…","an":[…25…],"pown":"…"}, …]}`.
///
/// A stack has no place for PANs: a coin that carries them ([`Coin::pans`]) is refused with
/// [`CodecError::PansNotCarried`] before anything is written, since dropping them could lose the
/// coin's only live keys.
#[cfg(test)]
pub(crate) fn write_stack<W: Write>(w: W, coins: &[Coin]) -> Result<(), CodecError> {
    write_stack_reporting(w, coins, &mut |_| {})
}

/// [`write_stack`], calling `progress(coins_written)` every few hundred coins and at the end.
pub(crate) fn write_stack_reporting<W: Write, C: Borrow<Coin>>(
    mut w: W,
    coins: &[C],
    progress: &mut dyn FnMut(usize),
) -> Result<(), CodecError> {
    crate::bin::check_unique(coins)?;
    if let Some(coin) = coins.iter().map(Borrow::borrow).find(|c: &&Coin| c.pans().is_some()) {
        return Err(CodecError::PansNotCarried { id: coin.id() });
    }
    w.write_all(b"{\"cloudcoin\":[")?;
    let mut line = Vec::with_capacity(1024);
    for (i, coin) in coins.iter().enumerate() {
        line.clear();
        line.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        write_coin_line(&mut line, coin.borrow());
        w.write_all(&line)?;
        if (i + 1) % crate::bin::PROGRESS_EVERY == 0 {
            progress(i + 1);
        }
    }
    w.write_all(b"\n]}\n")?;
    w.flush()?;
    progress(coins.len());
    Ok(())
}

/// Reads a stack: `nn`, `sn` and `dn` as numbers or strings, hex in either case, unknown keys
/// ignored, an optional UTF-8 byte order mark skipped. A coin without `pown` reads as untried.
///
/// Refuses a coin without `dn` ([`CodecError::LegacyCoin`]), another coin id, a coin without
/// exactly 25 ANs, an AN that is not 32 hex digits, a bad POWN string and a repeated coin.
///
/// ```
/// use cloudcoin_codec::decode_stack;
///
/// let an = "00112233445566778899aabbccddeeff";
/// let ans = vec![format!("\"{an}\""); 25].join(",");
/// let stack = format!(r#"{{"cloudcoin":[{{"nn":6,"sn":"42","dn":1,"an":[{ans}],"pown":"ppppppppppppppppppppppppp"}}]}}"#);
/// let coins = decode_stack(stack.as_bytes()).unwrap();
/// assert_eq!((coins.len(), coins[0].serial.get(), coins[0].ans[3][15]), (1, 42, 0xff));
/// // Not a stack: refused with an error of our own.
/// assert!(decode_stack(b"{\"cloudcoin\": 3}").is_err());
/// ```
pub fn decode_stack(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // A stack as this crate writes it is read straight; any other text by the general reader.
    if let Some(coins) = read_written_stack(bytes) {
        return Ok(coins);
    }
    decode_general(bytes)
}

/// The general stack reader (serde), for a stack without its byte order mark.
fn decode_general(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
    let wire: WireStack = serde_json::from_slice(bytes).map_err(CodecError::json)?;
    let mut seen = HashSet::with_capacity(wire.cloudcoin.len());
    let mut coins = Vec::with_capacity(wire.cloudcoin.len());
    for (index, w) in wire.cloudcoin.into_iter().enumerate() {
        let coin = Coin::try_from(Positioned(index, w))?;
        if !seen.insert(coin.id()) {
            return Err(CodecError::DuplicateCoin { id: coin.id() });
        }
        coins.push(coin);
    }
    Ok(coins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn an_list(n: usize) -> String {
        let ans: Vec<String> =
            (0..n).map(|i| format!("\"{}\"", format!("{i:02x}").repeat(16))).collect();
        ans.join(",")
    }

    #[test]
    fn writes_one_coin_per_line_with_string_values() {
        let coin = Coin::new(
            Denomination::from_code(-1),
            SerialNumber::new(2001),
            [[0xAB; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        );
        let mut out = Vec::new();
        let mut second = coin.clone();
        second.serial = SerialNumber::new(2002);
        write_stack(&mut out, &[coin, second]).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "{\"cloudcoin\":[");
        assert!(lines[1].starts_with("{\"nn\":\"6\",\"sn\":\"2001\",\"dn\":\"-1\",\"an\":[\"abab"));
        assert!(lines[1].ends_with("\"pown\":\"ppppppppppppppppppppppppp\"},"));
        assert_eq!(lines[3], "]}");
    }

    #[test]
    fn reads_numbers_upper_case_hex_bom_and_unknown_keys() {
        let json = format!(
            "\u{feff} {{\"cloudcoin\":[{{\"nn\":6,\"sn\":12,\"dn\":\"0\",\"ed\":\"9-2016\",\"an\":[{}]}}],\"x\":1}}",
            an_list(25).to_uppercase()
        );
        let coins = decode_stack(json.as_bytes()).expect("reads");
        assert_eq!(coins.len(), 1);
        assert_eq!(coins[0].serial.get(), 12);
        assert_eq!(coins[0].denomination.code(), 0);
        assert_eq!(coins[0].ans[10], [0x0A; 16]);
        assert_eq!(coins[0].pown, [Pown::Untried; RAIDA_COUNT]);
    }

    #[test]
    fn legacy_coin_is_refused_before_its_coin_id() {
        let json = format!(
            "{{\"cloudcoin\":[{{\"nn\":\"1\",\"sn\":\"16777216\",\"an\":[{}]}}]}}",
            an_list(25)
        );
        match decode_stack(json.as_bytes()) {
            Err(CodecError::LegacyCoin { sn }) => assert_eq!(sn, "16777216"),
            other => panic!("expected a legacy coin error, got {other:?}"),
        }
    }

    #[test]
    fn bad_fields_name_the_problem() {
        /// A stack of one coin with `ans` ANs and `extra` placed after its `an` list.
        fn coin(sn: &str, dn: &str, ans: usize, extra: &str) -> String {
            format!(
                "{{\"cloudcoin\":[{{\"nn\":\"6\",\"sn\":\"{sn}\",\"dn\":\"{dn}\",\"an\":[{}]{extra}}}]}}",
                an_list(ans)
            )
        }
        let negative_serial = coin("-3", "1", 25, "");
        assert!(matches!(
            decode_stack(negative_serial.as_bytes()),
            Err(CodecError::BadRecord { index: 0, .. })
        ));
        let denomination_out_of_range = coin("3", "200", 25, "");
        assert!(matches!(
            decode_stack(denomination_out_of_range.as_bytes()),
            Err(CodecError::BadRecord { index: 0, .. })
        ));
        let short_pown = coin("3", "1", 25, ",\"pown\":\"pp\"");
        assert!(matches!(
            decode_stack(short_pown.as_bytes()),
            Err(CodecError::BadPown { coin: 0, .. })
        ));
        let short_last_an = coin("3", "1", 24, "").replace("]}]}", ", \"00\"]}]}");
        assert!(matches!(
            decode_stack(short_last_an.as_bytes()),
            Err(CodecError::BadAn { coin: 0, index: 24, .. })
        ));
    }

    fn sample(n: u32) -> Vec<Coin> {
        (0..n)
            .map(|i| {
                let ans = core::array::from_fn(|r| {
                    core::array::from_fn(|b| (i as u8).wrapping_mul(31) ^ (r * 16 + b) as u8)
                });
                let pown = core::array::from_fn(|r| match (i as usize + r) % 4 {
                    0 => Pown::Pass,
                    1 => Pown::Fail,
                    2 => Pown::Untried,
                    _ => Pown::Error,
                });
                let code = i8::try_from(i % 9).expect("small") - 4;
                Coin::new(Denomination::from_code(code), SerialNumber::new(i * 7919), ans, pown)
            })
            .collect()
    }

    #[test]
    fn the_writer_prints_what_serde_prints() {
        let coins = sample(50);
        let mut out = Vec::new();
        write_stack(&mut out, &coins).expect("writes");
        let mut expected = b"{\"cloudcoin\":[".to_vec();
        for (i, coin) in coins.iter().enumerate() {
            expected.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
            serde_json::to_writer(&mut expected, &WireCoinOut::from(coin)).expect("json");
        }
        expected.extend_from_slice(b"\n]}\n");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(expected).expect("utf-8")
        );
        let mut empty = Vec::new();
        write_stack(&mut empty, &[]).expect("writes");
        assert_eq!(empty, b"{\"cloudcoin\":[\n]}\n");
    }

    /// The coin line printed piece by piece is the one `write!` printed, for the extreme serial
    /// numbers and denomination codes and for arbitrary coins.
    #[test]
    fn the_line_is_the_formatted_line() {
        let same = |coin: &Coin| {
            let (mut fast, mut formatted) = (Vec::new(), Vec::new());
            write_coin_line(&mut fast, coin);
            write_coin_line_formatted(&mut formatted, coin);
            assert_eq!(String::from_utf8_lossy(&fast), String::from_utf8_lossy(&formatted));
        };
        let mut coins = sample(40);
        for sn in [0, 1, 9, 10, 99, 100, 999_999_999, 1_000_000_000, u32::MAX] {
            for code in [i8::MIN, -10, -9, -1, 0, 1, 9, 10, 99, 100, i8::MAX] {
                let ans = [[sn as u8 ^ code as u8; 16]; RAIDA_COUNT];
                let pown = [Pown::NoReply; RAIDA_COUNT];
                coins.push(Coin::new(
                    Denomination::from_code(code),
                    SerialNumber::new(sn),
                    ans,
                    pown,
                ));
            }
        }
        coins.iter().for_each(same);
        proptest::proptest!(|(sn in proptest::prelude::any::<u32>(),
                               code in proptest::prelude::any::<i8>(),
                               bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 400),
                               letters in proptest::collection::vec(0usize..7, RAIDA_COUNT))| {
            let ans = core::array::from_fn(|r| core::array::from_fn(|b| bytes[r * 16 + b]));
            let all = [Pown::Untried, Pown::Pass, Pown::BrokeKey, Pown::NoReply, Pown::Dropped, Pown::Error, Pown::Fail];
            let pown = core::array::from_fn(|r| all[letters[r]]);
            same(&Coin::new(Denomination::from_code(code), SerialNumber::new(sn), ans, pown));
        });
    }

    /// The straight reader of written stacks gives what the general reader gives — the same
    /// coins, or the same error — for the written text, every cut of it and many changed bytes.
    #[test]
    fn the_straight_reader_agrees_with_the_general_reader() {
        for coins in [sample(0), sample(1), sample(12)] {
            let mut bytes = Vec::new();
            write_stack(&mut bytes, &coins).expect("writes");
            assert!(read_written_stack(&bytes).is_some(), "a written stack is read straight");
            assert_eq!(decode_stack(&bytes).expect("reads"), coins);
            let same = |b: &[u8]| {
                let straight = decode_stack(b);
                let general = decode_general(b.strip_prefix(UTF8_BOM).unwrap_or(b));
                match (&straight, &general) {
                    (Ok(a), Ok(g)) => assert_eq!(a, g),
                    (Err(a), Err(g)) => assert_eq!(a.to_string(), g.to_string()),
                    _ => panic!("{straight:?} against {general:?}"),
                }
            };
            for cut in 0..bytes.len() {
                same(&bytes[..cut]);
                for flip in [0x01u8, 0x20, 0x41, 0x80] {
                    let mut changed = bytes.clone();
                    changed[cut] ^= flip;
                    same(&changed);
                }
            }
            let upper = String::from_utf8(bytes.clone()).expect("utf-8").to_uppercase();
            same(upper.as_bytes());
            same(&[&bytes[..], b" \t\r\n"].concat());
            same(&[&bytes[..], b"x"].concat());
        }
        // A repeated coin is refused as the general reader refuses it.
        let one = sample(1);
        let mut bytes = Vec::new();
        write_stack(&mut bytes, &one).expect("writes");
        let text = String::from_utf8(bytes).expect("utf-8");
        let line = text.lines().nth(1).expect("coin line");
        let twice = format!("{{\"cloudcoin\":[\n{line},\n{line}\n]}}\n");
        assert!(matches!(decode_stack(twice.as_bytes()), Err(CodecError::DuplicateCoin { .. })));
    }

    #[test]
    fn hex_is_lower_case_and_parses_back() {
        let an: AuthenticityNumber = core::array::from_fn(|i| u8::try_from(i * 17).expect("small"));
        assert_eq!(parse_an(&hex(&an)), Ok(an));
        assert_eq!(hex_an(hex(&an).as_bytes()), Some(an));
        assert_eq!(hex_an(hex(&an).to_uppercase().as_bytes()), Some(an));
        // Every byte value in every place: the quick decoder agrees with the checked one.
        let text = hex(&an);
        for at in 0..32 {
            for b in 0..=255u8 {
                let mut digits = text.clone().into_bytes();
                digits[at] = b;
                let checked = std::str::from_utf8(&digits).ok().and_then(|t| parse_an(t).ok());
                assert_eq!(hex_an(&digits), checked, "byte {b} at {at}");
            }
        }
        assert_eq!(hex_an(&text.as_bytes()[..31]), None);
        assert!(hex(&an).chars().all(|c| !c.is_ascii_uppercase()));
        assert!(parse_an("é".repeat(16).as_str()).is_err());
        // A bad character is named by its position, first or second digit of its byte alike.
        for at in [0, 5, 31] {
            let mut bad = text.clone();
            bad.replace_range(at..=at, "g");
            assert_eq!(parse_an(&bad), Err(format!("character {} is not a hex digit", at + 1)));
        }
    }

    #[test]
    fn a_coin_with_pans_is_refused_before_anything_is_written() {
        let plain = Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(1),
            [[0x01; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        );
        let mut pending = plain.clone().with_pans([[0x02; 16]; RAIDA_COUNT]);
        pending.serial = SerialNumber::new(2);
        let mut out = Vec::new();
        match write_stack(&mut out, &[plain, pending.clone()]) {
            Err(CodecError::PansNotCarried { id }) => assert_eq!(id, pending.id()),
            other => panic!("expected the PAN coin to be refused, got {other:?}"),
        }
        assert!(out.is_empty(), "nothing written");
    }
}
