//! Format 9 (`.bin`), the canonical CloudCoin v3 coin file (SPEC §4.1).
//!
//! A 32-byte header, then one 407-byte record per coin (807 bytes when the state flag says that
//! 400 bytes of PANs follow each record's ANs; those are read and dropped).

use std::collections::HashSet;
use std::io::Write;

use cloudcoin_domain::{
    AuthenticityNumber, CLOUDCOIN_ID, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber,
};

use crate::error::CodecError;

/// Header length.
pub(crate) const HEADER_LEN: usize = 32;
/// Record length without PANs.
pub(crate) const RECORD_LEN: usize = 7 + RAIDA_COUNT * 16;
/// Extra bytes per record when the state flag is 1.
const PAN_LEN: usize = RAIDA_COUNT * 16;
/// The format byte.
pub(crate) const FORMAT_9: u8 = 0x09;
/// The most coins the two-byte count field can hold.
pub(crate) const MAX_COINS: usize = u16::MAX as usize;
/// Header bytes 16..32 of a file with several coins.
const SEVERAL_COINS_MARK: &[u8; 16] = b"Live Free Or Die";
/// How many coins the bin and stack writers write between progress reports (the zip writer,
/// slower per coin, reports more often).
pub(crate) const PROGRESS_EVERY: usize = 500;

/// The format-9 bytes of `coins`.
///
/// One coin carries its POWN in the header; several coins do not (their header holds
/// `Live Free Or Die`), so their POWN reads back as untried.
pub fn encode_bin(coins: &[Coin]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(HEADER_LEN + RECORD_LEN * coins.len());
    write_bin(&mut out, coins)?;
    Ok(out)
}

/// Writes `coins` as a format-9 file to `w`.
pub fn write_bin<W: Write>(w: W, coins: &[Coin]) -> Result<(), CodecError> {
    write_bin_reporting(w, coins, &mut |_| {})
}

/// [`write_bin`], calling `progress(coins_written)` every few hundred coins and at the end.
pub(crate) fn write_bin_reporting<W: Write>(
    mut w: W,
    coins: &[Coin],
    progress: &mut dyn FnMut(usize),
) -> Result<(), CodecError> {
    let count = check_writable(coins)?;
    w.write_all(&header(coins, count))?;
    let mut record = [0u8; RECORD_LEN];
    for (i, coin) in coins.iter().enumerate() {
        encode_record(coin, &mut record);
        w.write_all(&record)?;
        if (i + 1) % PROGRESS_EVERY == 0 {
            progress(i + 1);
        }
    }
    w.flush()?;
    progress(coins.len());
    Ok(())
}

/// The coin count as the header stores it, after checking that the coins fit in one file and that
/// none is repeated (a repeated coin in a file would be a duplicated coin).
pub(crate) fn check_writable(coins: &[Coin]) -> Result<u16, CodecError> {
    if coins.len() > MAX_COINS {
        return Err(CodecError::TooManyCoins { count: coins.len() });
    }
    check_unique(coins)?;
    Ok(u16::try_from(coins.len()).expect("checked against MAX_COINS"))
}

/// Fails on the first coin whose identity was already seen.
pub(crate) fn check_unique(coins: &[Coin]) -> Result<(), CodecError> {
    let mut seen = HashSet::with_capacity(coins.len());
    for coin in coins {
        if !seen.insert(coin.id()) {
            return Err(CodecError::DuplicateCoin { id: coin.id() });
        }
    }
    Ok(())
}

fn header(coins: &[Coin], count: u16) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0] = FORMAT_9;
    h[1] = 0x01; // cloud id
    h[2..4].copy_from_slice(&CLOUDCOIN_ID.to_be_bytes());
    // 4: experimental, 5: encryption (none), 8..15: password hash, 15: state flag: all zero.
    h[6..8].copy_from_slice(&count.to_be_bytes());
    match coins {
        [one] => {
            // 25 POWN nibbles, RAIDA 0 in the high nibble of byte 16, then the nibble 0x9.
            let mut nibbles = [0x9u8; 26];
            for (slot, p) in nibbles.iter_mut().zip(one.pown) {
                *slot = p.nibble();
            }
            for (byte, pair) in h[16..29].iter_mut().zip(nibbles.chunks_exact(2)) {
                *byte = (pair[0] << 4) | pair[1];
            }
            h[29..32].copy_from_slice(&[0x99, 0x99, 0x99]);
        }
        _ => h[16..32].copy_from_slice(SEVERAL_COINS_MARK),
    }
    h
}

fn encode_record(coin: &Coin, record: &mut [u8; RECORD_LEN]) {
    record[0] = 0; // split
    record[1] = 0; // shard
    record[2] = coin.denomination.code().to_be_bytes()[0];
    record[3..7].copy_from_slice(&coin.serial.get().to_be_bytes());
    for (dst, an) in record[7..].chunks_exact_mut(16).zip(&coin.ans) {
        dst.copy_from_slice(an);
    }
}

/// Reads a format-9 file.
///
/// Rejects, each with its own error: a file shorter than its header or its coin count says
/// ([`CodecError::Truncated`]), longer than its coin count allows ([`CodecError::CountMismatch`]),
/// another format, another coin id, an encrypted file, an unknown state flag, a record that is a
/// split or shard piece, and the same coin twice. Denomination codes outside -8..6 are read and
/// kept as they are: they are not money, and the layers that count or spend coins refuse them.
///
/// The POWN of a one-coin file comes from its header. A nibble that is no POWN code reads as
/// untried (`u`) rather than failing: the POWN is only what a RAIDA last said and the next check
/// rewrites it, while refusing the file would keep a good coin from its owner. Several-coin files
/// carry no POWN, so their coins read as untried.
pub fn decode_bin(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
    if bytes.len() < HEADER_LEN {
        return Err(CodecError::Truncated { expected: HEADER_LEN, found: bytes.len() });
    }
    if bytes[0] != FORMAT_9 {
        return Err(CodecError::UnknownFormat { found: bytes[0] });
    }
    let coin_id = u16::from_be_bytes([bytes[2], bytes[3]]);
    if coin_id != CLOUDCOIN_ID {
        return Err(CodecError::WrongCoinId { found: coin_id });
    }
    if bytes[5] != 0 {
        return Err(CodecError::Encrypted { kind: bytes[5] });
    }
    let record_len = match bytes[15] {
        0 => RECORD_LEN,
        1 => RECORD_LEN + PAN_LEN,
        found => return Err(CodecError::StateFlag { found }),
    };
    let count = usize::from(u16::from_be_bytes([bytes[6], bytes[7]]));
    let expected = HEADER_LEN + count * record_len;
    if bytes.len() < expected {
        return Err(CodecError::Truncated { expected, found: bytes.len() });
    }
    if bytes.len() > expected {
        return Err(CodecError::CountMismatch { count, len: bytes.len() });
    }

    let pown = if count == 1 { header_pown(&bytes[16..32]) } else { [Pown::Untried; RAIDA_COUNT] };
    let mut seen = HashSet::with_capacity(count);
    let mut coins = Vec::with_capacity(count);
    for (index, record) in bytes[HEADER_LEN..].chunks_exact(record_len).enumerate() {
        let coin = decode_record(index, record, pown)?;
        if !seen.insert(coin.id()) {
            return Err(CodecError::DuplicateCoin { id: coin.id() });
        }
        coins.push(coin);
    }
    Ok(coins)
}

/// The POWN of a one-coin header; unknown nibbles read as untried (see [`decode_bin`]).
fn header_pown(field: &[u8]) -> [Pown; RAIDA_COUNT] {
    let mut pown = [Pown::Untried; RAIDA_COUNT];
    if field == SEVERAL_COINS_MARK {
        return pown;
    }
    let nibbles = field.iter().flat_map(|b| [b >> 4, b & 0x0F]);
    for (slot, nibble) in pown.iter_mut().zip(nibbles) {
        *slot = Pown::from_nibble(nibble).unwrap_or(Pown::Untried);
    }
    pown
}

fn decode_record(
    index: usize,
    record: &[u8],
    pown: [Pown; RAIDA_COUNT],
) -> Result<Coin, CodecError> {
    if record[0] != 0 || record[1] != 0 {
        return Err(CodecError::BadRecord {
            index,
            reason: format!(
                "split {} shard {}: only whole coins (split 0, shard 0) are supported",
                record[0], record[1]
            ),
        });
    }
    let code = i8::from_be_bytes([record[2]]);
    let serial = u32::from_be_bytes([record[3], record[4], record[5], record[6]]);
    let mut ans = [AuthenticityNumber::default(); RAIDA_COUNT];
    for (an, src) in ans.iter_mut().zip(record[7..7 + RAIDA_COUNT * 16].chunks_exact(16)) {
        an.copy_from_slice(src);
    }
    Ok(Coin {
        denomination: Denomination::from_code(code),
        serial: SerialNumber::new(serial),
        ans,
        pown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coin(code: i8, sn: u32) -> Coin {
        let mut ans = [[0u8; 16]; RAIDA_COUNT];
        for (i, an) in ans.iter_mut().enumerate() {
            *an = [u8::try_from(i).expect("small") ^ code.to_be_bytes()[0]; 16];
        }
        Coin {
            denomination: Denomination::from_code(code),
            serial: SerialNumber::new(sn),
            ans,
            pown: [Pown::Pass; RAIDA_COUNT],
        }
    }

    #[test]
    fn one_coin_layout() {
        let mut c = coin(1, 0x0102_0304);
        c.pown[0] = Pown::Fail;
        c.pown[24] = Pown::NoReply;
        let bytes = encode_bin(std::slice::from_ref(&c)).expect("encodes");
        assert_eq!(bytes.len(), 439);
        assert_eq!(&bytes[..8], &[9, 1, 0, 6, 0, 0, 0, 1]);
        assert_eq!(bytes[16], 0xFA);
        assert_eq!(bytes[28], 0xC9);
        assert_eq!(&bytes[29..32], &[0x99, 0x99, 0x99]);
        assert_eq!(&bytes[32..39], &[0, 0, 1, 1, 2, 3, 4]);
        assert_eq!(decode_bin(&bytes).expect("decodes"), vec![c]);
    }

    #[test]
    fn several_coins_carry_no_pown() {
        let coins = vec![coin(1, 1), coin(-1, 1), coin(11, 9)];
        let bytes = encode_bin(&coins).expect("encodes");
        assert_eq!(bytes.len(), 32 + 3 * 407);
        assert_eq!(&bytes[16..32], b"Live Free Or Die");
        let back = decode_bin(&bytes).expect("decodes");
        let expected: Vec<Coin> =
            coins.into_iter().map(|c| Coin { pown: [Pown::Untried; RAIDA_COUNT], ..c }).collect();
        assert_eq!(back, expected);
    }

    #[test]
    fn unknown_pown_nibbles_read_as_untried() {
        let mut bytes = encode_bin(&[coin(0, 5)]).expect("encodes");
        bytes[16] = 0x1A; // RAIDA 0: 0x1 is no POWN code; RAIDA 1: pass.
        let back = decode_bin(&bytes).expect("decodes");
        assert_eq!(back[0].pown[0], Pown::Untried);
        assert_eq!(back[0].pown[1], Pown::Pass);
    }

    #[test]
    fn pans_are_read_and_dropped() {
        let c = coin(2, 77);
        let plain = encode_bin(std::slice::from_ref(&c)).expect("encodes");
        let mut with_pans = plain.clone();
        with_pans[15] = 1;
        with_pans.extend_from_slice(&[0xEE; PAN_LEN]);
        assert_eq!(decode_bin(&with_pans).expect("decodes"), vec![c]);
        // The same file without its PANs is short by exactly the PAN bytes.
        let mut short = plain;
        short[15] = 1;
        assert!(matches!(
            decode_bin(&short),
            Err(CodecError::Truncated { expected: 839, found: 439 })
        ));
    }

    #[test]
    fn writers_refuse_duplicates_and_too_many_coins() {
        let dup = [coin(1, 1), coin(1, 1)];
        assert!(matches!(encode_bin(&dup), Err(CodecError::DuplicateCoin { .. })));
        let many: Vec<Coin> = (0..=u32::from(u16::MAX)).map(|sn| coin(0, sn)).collect();
        assert!(matches!(encode_bin(&many), Err(CodecError::TooManyCoins { count: 65536 })));
    }

    #[test]
    fn split_records_are_refused() {
        let mut bytes = encode_bin(&[coin(0, 5)]).expect("encodes");
        bytes[33] = 2;
        assert!(matches!(decode_bin(&bytes), Err(CodecError::BadRecord { index: 0, .. })));
    }

    #[test]
    fn empty_file_round_trips() {
        let bytes = encode_bin(&[]).expect("encodes");
        assert_eq!(bytes.len(), 32);
        assert_eq!(decode_bin(&bytes).expect("decodes"), vec![]);
    }
}
