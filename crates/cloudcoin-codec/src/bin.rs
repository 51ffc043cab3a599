//! Format 9 (`.bin`), the canonical CloudCoin v3 coin file (`docs/SPEC.md` §4.1).
//!
//! A 32-byte header, then one 407-byte record per coin, or 807 bytes when the state flag (header
//! byte 15) is 1: then each record's ANs are followed by the coin's 25 PANs, which are read into
//! [`Coin::pans`] and written back.
//!
//! A file has one state flag for all its coins. The writer sets it when any coin carries PANs:
//! each coin with PANs gets its own, and a coin without PANs gets its ANs in the PAN slots (a PAN
//! equal to the AN proposes no change, so no key is lost or invented). Such a coin reads back
//! with PANs equal to its ANs. A set where no coin carries PANs is written with state flag 0,
//! 407-byte records, exactly as before.

use std::borrow::Borrow;
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
pub(crate) const PAN_LEN: usize = RAIDA_COUNT * 16;
/// The state flag of a file whose records carry PANs.
const STATE_PANS: u8 = 0x01;
/// The format byte.
pub(crate) const FORMAT_9: u8 = 0x09;
/// The most coins the two-byte count field can hold.
pub(crate) const MAX_COINS: usize = u16::MAX as usize;
/// Header bytes 16..32 of a file with several coins.
const SEVERAL_COINS_MARK: &[u8; 16] = b"Live Free Or Die";
/// How many coins the bin and stack writers write between progress reports (the zip writer,
/// slower per coin, reports more often).
pub(crate) const PROGRESS_EVERY: usize = 500;

/// The format-9 bytes of `coins`: [`write_coins`](crate::write_coins) with [`FileKind::Bin`]
/// into a `Vec`, for the common case of a file built in memory.
///
/// One coin carries its POWN in the header; several coins do not (their header holds
/// `Live Free Or Die`), so their POWN reads back as untried. Refuses the same coin twice and more
/// than 65,535 coins.
///
/// # Coins with PANs
///
/// A file has one state flag for all its coins. When any coin carries PANs ([`Coin::pans`]) the
/// file has state flag 1 and 807-byte records, each coin's ANs followed by 25 PANs; then **every
/// other coin of the file is given PANs equal to its ANs** (a PAN equal to the AN proposes no
/// change, so no key is lost or invented) and reads back with [`Coin::pans`] set to its ANs.
/// A set where no coin carries PANs is written with state flag 0 and 407-byte records.
///
/// ```
/// use cloudcoin_codec::{decode_bin, encode_bin};
/// use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};
///
/// let coin = Coin::new(
///     Denomination::from_code(0),
///     SerialNumber::new(12),
///     [[0x11; 16]; RAIDA_COUNT],
///     [Pown::Pass; RAIDA_COUNT],
/// )
/// .with_pans([[0x22; 16]; RAIDA_COUNT]);
/// let bytes = encode_bin(std::slice::from_ref(&coin)).unwrap();
/// assert_eq!((bytes.len(), bytes[15]), (839, 1));
/// assert_eq!(decode_bin(&bytes).unwrap(), vec![coin.clone()]);
///
/// // Beside a coin with PANs, a coin without any reads back with PAN = AN.
/// let plain = Coin::new(
///     Denomination::from_code(0),
///     SerialNumber::new(13),
///     [[0x33; 16]; RAIDA_COUNT],
///     [Pown::Pass; RAIDA_COUNT],
/// );
/// let read = decode_bin(&encode_bin(&[coin, plain.clone()]).unwrap()).unwrap();
/// assert_eq!(read[1].pans(), Some(&plain.ans));
/// ```
///
/// [`FileKind::Bin`]: cloudcoin_domain::FileKind::Bin
pub fn encode_bin(coins: &[Coin]) -> Result<Vec<u8>, CodecError> {
    encode_borrowed(coins)
}

/// [`encode_bin`] of coins or references to them.
pub(crate) fn encode_borrowed<C: Borrow<Coin>>(coins: &[C]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(file_len(coins));
    write_bin(&mut out, coins)?;
    Ok(out)
}

/// Writes `coins` as a format-9 file to `w`.
pub(crate) fn write_bin<W: Write, C: Borrow<Coin>>(w: W, coins: &[C]) -> Result<(), CodecError> {
    write_bin_reporting(w, coins, &mut |_| {})
}

/// [`write_bin`], calling `progress(coins_written)` every few hundred coins and at the end.
pub(crate) fn write_bin_reporting<W: Write, C: Borrow<Coin>>(
    mut w: W,
    coins: &[C],
    progress: &mut dyn FnMut(usize),
) -> Result<(), CodecError> {
    let count = check_writable(coins)?;
    write_checked(&mut w, coins, count, progress)?;
    w.flush()?;
    Ok(())
}

/// The length of the format-9 file of `coins`, once [`check_writable`] has passed.
pub(crate) fn file_len<C: Borrow<Coin>>(coins: &[C]) -> usize {
    HEADER_LEN + record_len(coins) * coins.len()
}

/// The format-9 bytes of `coins`, which [`check_writable`] has accepted with `count`, into `w`
/// (not flushed), calling `progress` as [`write_bin_reporting`] does.
pub(crate) fn write_checked<W: Write, C: Borrow<Coin>>(
    mut w: W,
    coins: &[C],
    count: u16,
    progress: &mut dyn FnMut(usize),
) -> std::io::Result<()> {
    let with_pans = carries_pans(coins);
    w.write_all(&header(coins, count, with_pans))?;
    let mut record = [0u8; RECORD_LEN + PAN_LEN];
    let len = record_len(coins);
    for (i, coin) in coins.iter().enumerate() {
        encode_record(coin.borrow(), with_pans, &mut record);
        w.write_all(&record[..len])?;
        if (i + 1) % PROGRESS_EVERY == 0 {
            progress(i + 1);
        }
    }
    progress(coins.len());
    Ok(())
}

/// The coin count as the header stores it, after checking that the coins fit in one file and that
/// none is repeated (a repeated coin in a file would be a duplicated coin).
pub(crate) fn check_writable<C: Borrow<Coin>>(coins: &[C]) -> Result<u16, CodecError> {
    if coins.len() > MAX_COINS {
        return Err(CodecError::TooManyCoins { count: coins.len() });
    }
    check_unique(coins)?;
    Ok(u16::try_from(coins.len()).expect("checked against MAX_COINS"))
}

/// Fails on the first coin whose identity was already seen.
pub(crate) fn check_unique<C: Borrow<Coin>>(coins: &[C]) -> Result<(), CodecError> {
    let mut seen = HashSet::with_capacity(coins.len());
    for coin in coins.iter().map(Borrow::borrow) {
        if !seen.insert(coin.id()) {
            return Err(CodecError::DuplicateCoin { id: coin.id() });
        }
    }
    Ok(())
}

/// Whether a file of `coins` has state flag 1: when any of them carries PANs.
fn carries_pans<C: Borrow<Coin>>(coins: &[C]) -> bool {
    coins.iter().any(|c| c.borrow().pans().is_some())
}

/// The record length a file of `coins` uses.
pub(crate) fn record_len<C: Borrow<Coin>>(coins: &[C]) -> usize {
    if carries_pans(coins) { RECORD_LEN + PAN_LEN } else { RECORD_LEN }
}

fn header<C: Borrow<Coin>>(coins: &[C], count: u16, with_pans: bool) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0] = FORMAT_9;
    h[1] = 0x01; // cloud id
    h[2..4].copy_from_slice(&CLOUDCOIN_ID.to_be_bytes());
    // 4: experimental, 5: encryption (none), 8..15: password hash: all zero.
    h[6..8].copy_from_slice(&count.to_be_bytes());
    if with_pans {
        h[15] = STATE_PANS;
    }
    match coins {
        [one] => {
            // 25 POWN nibbles, RAIDA 0 in the high nibble of byte 16, then the nibble 0x9.
            let mut nibbles = [0x9u8; 26];
            for (slot, p) in nibbles.iter_mut().zip(one.borrow().pown) {
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

/// Fills `record` with the coin's record: its first 407 bytes, and with `with_pans` all 807 (the
/// coin's PANs, or its ANs when it has none).
fn encode_record(coin: &Coin, with_pans: bool, record: &mut [u8; RECORD_LEN + PAN_LEN]) {
    record[0] = 0; // split
    record[1] = 0; // shard
    record[2] = coin.denomination.code().to_be_bytes()[0];
    record[3..7].copy_from_slice(&coin.serial.get().to_be_bytes());
    for (dst, an) in record[7..RECORD_LEN].chunks_exact_mut(16).zip(&coin.ans) {
        dst.copy_from_slice(an);
    }
    if with_pans {
        let pans = coin.pans().unwrap_or(&coin.ans);
        for (dst, pan) in record[RECORD_LEN..].chunks_exact_mut(16).zip(pans) {
            dst.copy_from_slice(pan);
        }
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
/// carry no POWN, so their coins read as untried. With state flag 1 every coin keeps the PANs its
/// record carries ([`Coin::pans`]).
///
/// ```
/// use cloudcoin_codec::{CodecError, decode_bin, encode_bin};
/// use cloudcoin_domain::{Coin, Denomination, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coins: Vec<Coin> = (1..=2)
///     .map(|sn| Coin::new(Denomination::from_code(1), SerialNumber::new(sn), [[7; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT]))
///     .collect();
/// let bytes = encode_bin(&coins).unwrap();
/// let back = decode_bin(&bytes).unwrap();
/// assert_eq!(back.iter().map(Coin::id).collect::<Vec<_>>(), coins.iter().map(Coin::id).collect::<Vec<_>>());
/// // A file cut short is refused, never read as fewer coins.
/// assert!(matches!(decode_bin(&bytes[..bytes.len() - 1]), Err(CodecError::Truncated { .. })));
/// ```
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
    for (an, src) in ans.iter_mut().zip(record[7..RECORD_LEN].chunks_exact(16)) {
        an.copy_from_slice(src);
    }
    let coin = Coin::new(Denomination::from_code(code), SerialNumber::new(serial), ans, pown);
    if record.len() == RECORD_LEN {
        return Ok(coin);
    }
    let mut pans = [AuthenticityNumber::default(); RAIDA_COUNT];
    for (pan, src) in pans.iter_mut().zip(record[RECORD_LEN..].chunks_exact(16)) {
        pan.copy_from_slice(src);
    }
    Ok(coin.with_pans(pans))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coin(code: i8, sn: u32) -> Coin {
        let mut ans = [[0u8; 16]; RAIDA_COUNT];
        for (i, an) in ans.iter_mut().enumerate() {
            *an = [u8::try_from(i).expect("small") ^ code.to_be_bytes()[0]; 16];
        }
        Coin::new(
            Denomination::from_code(code),
            SerialNumber::new(sn),
            ans,
            [Pown::Pass; RAIDA_COUNT],
        )
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
        let expected: Vec<Coin> = coins
            .into_iter()
            .map(|c| Coin::new(c.denomination, c.serial, c.ans, [Pown::Untried; RAIDA_COUNT]))
            .collect();
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

    fn pans_of(coin: &Coin) -> [AuthenticityNumber; RAIDA_COUNT] {
        let mut pans = coin.ans;
        for pan in &mut pans {
            pan.iter_mut().for_each(|b| *b ^= 0xEE);
        }
        pans
    }

    #[test]
    fn pans_are_read_and_kept() {
        let c = coin(2, 77);
        let plain = encode_bin(std::slice::from_ref(&c)).expect("encodes");
        let mut with_pans = plain.clone();
        with_pans[15] = 1;
        with_pans.extend_from_slice(&[0xEE; PAN_LEN]);
        let read = decode_bin(&with_pans).expect("decodes");
        assert_eq!(read, vec![c.clone().with_pans([[0xEE; 16]; RAIDA_COUNT])]);
        // And written back byte for byte.
        assert_eq!(encode_bin(&read).expect("encodes"), with_pans);
        // The same file without its PANs is short by exactly the PAN bytes.
        let mut short = plain;
        short[15] = 1;
        assert!(matches!(
            decode_bin(&short),
            Err(CodecError::Truncated { expected: 839, found: 439 })
        ));
    }

    #[test]
    fn several_coins_with_pans_keep_each_coins_pans() {
        let coins: Vec<Coin> = [coin(1, 1), coin(-1, 2), coin(0, 3)]
            .into_iter()
            .map(|c| {
                let pans = pans_of(&c);
                c.with_pans(pans)
            })
            .collect();
        let bytes = encode_bin(&coins).expect("encodes");
        assert_eq!(bytes.len(), 32 + 3 * 807);
        assert_eq!(bytes[15], 1);
        assert_eq!(&bytes[32 + 407..32 + 807], coins[0].pans().expect("pans").as_flattened());
        let back = decode_bin(&bytes).expect("decodes");
        for (b, c) in back.iter().zip(&coins) {
            assert_eq!((b.id(), b.ans, b.pans()), (c.id(), c.ans, c.pans()));
        }
        assert_eq!(encode_bin(&back).expect("encodes"), bytes, "read and written back unchanged");
    }

    #[test]
    fn a_mixed_set_writes_the_ans_of_coins_without_pans_as_their_pans() {
        let with = coin(1, 1);
        let pans = pans_of(&with);
        let coins = vec![with.with_pans(pans), coin(1, 2)];
        let bytes = encode_bin(&coins).expect("encodes");
        assert_eq!((bytes.len(), bytes[15]), (32 + 2 * 807, 1));
        let back = decode_bin(&bytes).expect("decodes");
        assert_eq!(back[0].pans(), Some(&pans), "a coin's own PANs are kept");
        assert_eq!(back[1].pans(), Some(&coins[1].ans), "no PANs: its ANs stand in");
        assert_eq!(back[1].ans, coins[1].ans);
    }

    #[test]
    fn coins_without_pans_are_written_as_before() {
        let bytes = encode_bin(&[coin(1, 1), coin(1, 2)]).expect("encodes");
        assert_eq!((bytes.len(), bytes[15]), (32 + 2 * 407, 0));
        assert!(decode_bin(&bytes).expect("decodes").iter().all(|c| c.pans().is_none()));
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
