//! The JSON stack (`.stack`, `docs/SPEC.md` §4.2): the v1 stack shape with a `dn` field.
//!
//! What the parser accepts ([`WireStack`]) and what is a valid coin ([`Coin`]) are kept apart:
//! serde reads the wire structs, `TryFrom` turns each into a coin.

use std::collections::HashSet;
use std::io::Write;

use cloudcoin_domain::{
    AuthenticityNumber, CLOUDCOIN_ID, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber,
};
use serde::{Deserialize, Serialize};

use crate::error::CodecError;

/// The UTF-8 byte order mark some editors put in front of text files.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

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

/// One coin of a stack as written: every value a string, as in v1 stacks.
#[derive(Debug, Serialize)]
struct WireCoinOut {
    nn: String,
    sn: String,
    dn: String,
    an: Vec<String>,
    pown: String,
}

impl From<&Coin> for WireCoinOut {
    fn from(coin: &Coin) -> WireCoinOut {
        WireCoinOut {
            nn: CLOUDCOIN_ID.to_string(),
            sn: coin.serial.to_string(),
            dn: coin.denomination.code().to_string(),
            an: coin.ans.iter().map(|an| hex(an)).collect(),
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
    let digit = |at: usize| {
        char::from(digits[at])
            .to_digit(16)
            .ok_or_else(|| format!("character {} is not a hex digit", at + 1))
    };
    for (i, byte) in an.iter_mut().enumerate() {
        let value = digit(2 * i)? * 16 + digit(2 * i + 1)?;
        *byte = u8::try_from(value).expect("two hex digits fit in a byte");
    }
    Ok(an)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    out
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
pub(crate) fn write_stack_reporting<W: Write>(
    mut w: W,
    coins: &[Coin],
    progress: &mut dyn FnMut(usize),
) -> Result<(), CodecError> {
    crate::bin::check_unique(coins)?;
    if let Some(coin) = coins.iter().find(|c| c.pans().is_some()) {
        return Err(CodecError::PansNotCarried { id: coin.id() });
    }
    w.write_all(b"{\"cloudcoin\":[")?;
    for (i, coin) in coins.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        // Our strings always serialise: a failure here can only be the writer's.
        serde_json::to_writer(&mut w, &WireCoinOut::from(coin))
            .map_err(|e| CodecError::Io(e.into()))?;
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
pub fn decode_stack(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
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

    #[test]
    fn hex_is_lower_case_and_parses_back() {
        let an: AuthenticityNumber = core::array::from_fn(|i| u8::try_from(i * 17).expect("small"));
        assert_eq!(parse_an(&hex(&an)), Ok(an));
        assert!(hex(&an).chars().all(|c| !c.is_ascii_uppercase()));
        assert!(parse_an("é".repeat(16).as_str()).is_err());
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
