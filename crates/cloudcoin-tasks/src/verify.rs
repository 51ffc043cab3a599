//! Checking a written coin file against the coin set it must hold, in one streaming pass and
//! bounded memory: the file is read once, coin by coin ([`cloudcoin_codec::read_each`]), while
//! its SHA-256 and the journal's coin-set digest ([`crate::journal::coins_digest`]) are computed.
//!
//! The digest runs over the coins' records in sorted order. Exports write their coins in that
//! order ([`digest_order`]), so the records can be hashed as they arrive; a file in another order
//! (a backup, or one written by an older version) costs a second pass that keeps the records
//! (405 bytes per coin) to sort them.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::mpsc::SyncSender;
use std::thread::ScopedJoinHandle;

use cloudcoin_codec::{CodecError, Limits, read_each};
use cloudcoin_domain::{Coin, RAIDA_COUNT};
use sha2::{Digest, Sha256};

/// Length of one coin's record in the digest: denomination code, serial, 25 ANs.
pub(crate) const ITEM_LEN: usize = 1 + 4 + RAIDA_COUNT * 16;

/// A coin's record in the digest.
pub(crate) fn item(c: &Coin) -> [u8; ITEM_LEN] {
    let mut v = [0u8; ITEM_LEN];
    v[0] = c.denomination.code() as u8;
    v[1..5].copy_from_slice(&c.serial.get().to_be_bytes());
    for (dst, an) in v[5..].chunks_exact_mut(16).zip(&c.ans) {
        dst.copy_from_slice(an);
    }
    v
}

/// Sorts coins in the order of their digest records, the order exports write them in.
pub(crate) fn digest_order<C: std::borrow::Borrow<Coin>>(coins: &mut [C]) {
    coins.sort_unstable_by_key(|c| (c.borrow().denomination.code() as u8, c.borrow().serial.get()));
}

/// Why a file does not check out.
#[derive(Debug)]
pub(crate) enum Mismatch {
    /// It cannot be read.
    Io(io::Error),
    /// It is no coin file the readers accept.
    Unreadable(CodecError),
    /// It reads, but holds other coins than those of the digest.
    OtherCoins,
}

impl From<io::Error> for Mismatch {
    fn from(e: io::Error) -> Mismatch {
        Mismatch::Io(e)
    }
}

impl From<CodecError> for Mismatch {
    fn from(e: CodecError) -> Mismatch {
        match e {
            CodecError::Io(io) => Mismatch::Io(io),
            other => Mismatch::Unreadable(other),
        }
    }
}

/// Checks that `file` holds exactly the `count` coins whose digest is `digest`, with the messages
/// of a failed export step; returns the file's SHA-256.
pub(crate) fn verify_file<F: Read + Seek>(
    file: F,
    digest: &str,
    count: usize,
) -> Result<String, crate::step::StepError> {
    use crate::step::StepError;
    use crate::task::FailureKind;
    check_file(file, digest, count).map_err(|e| match e {
        Mismatch::Io(e) => StepError::io("cannot read the file back", e),
        Mismatch::Unreadable(e) => {
            StepError::new(FailureKind::Verification, "the file written does not read back", e)
        }
        Mismatch::OtherCoins => StepError::check(
            FailureKind::Verification,
            "the file written does not hold exactly the coins meant for it",
        ),
    })
}

/// Checks that `file` (read from its start) holds exactly the `count` coins whose digest is
/// `digest`; returns the file's SHA-256 (lowercase hex).
pub(crate) fn check_file<F: Read + Seek>(
    mut file: F,
    digest: &str,
    count: usize,
) -> Result<String, Mismatch> {
    file.seek(SeekFrom::Start(0))?;
    // The file's own hash and the coins' digest are computed on a second thread, from the bytes
    // as they are read and the coins' records as they are decoded, while this one reads the
    // coins (where no thread can be started, here).
    std::thread::scope(|scope| {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Chunk>(8);
        let hasher =
            std::thread::Builder::new().name("verify-sha".into()).spawn_scoped(scope, move || {
                let (mut file, mut records) = (Sha256::new(), Sha256::new());
                received.iter().for_each(|chunk| match chunk {
                    Chunk::File(bytes) => file.update(bytes),
                    Chunk::Records(bytes) => records.update(bytes),
                });
                (file, records)
            });
        let (sha, records) = match hasher {
            Ok(handle) => (FileSha::There(chunks.clone(), handle), Some(chunks)),
            Err(_) => (FileSha::Here(Sha256::new()), None),
        };
        let file = Hashing { inner: file, sha, pos: 0, hashed: 0, lost: false };
        check_hashing(file, records, digest, count)
    })
}

/// How many bytes of digest records are sent to the hashing thread at a time.
const RECORD_BATCH: usize = 256 << 10;

/// The coins' digest records as they are made: hashed here, or sent in batches to the hashing
/// thread.
struct Records {
    /// The hashing thread's channel; `None` to hash here.
    to: Option<SyncSender<Chunk>>,
    /// Records not yet hashed or sent.
    batch: Vec<u8>,
    here: Sha256,
    /// A batch could not be sent (the hashing thread is gone): the digest cannot be had this way.
    lost: bool,
}

impl Records {
    fn add(&mut self, bytes: &[u8]) {
        self.batch.extend_from_slice(bytes);
        if self.batch.len() >= RECORD_BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        match &self.to {
            Some(to) => {
                let full = std::mem::replace(&mut self.batch, Vec::with_capacity(RECORD_BATCH));
                if to.send(Chunk::Records(full)).is_err() {
                    self.lost = true;
                }
            }
            None => {
                self.here.update(&self.batch);
                self.batch.clear();
            }
        }
    }
}

/// [`check_file`] once the hashing reader is set up; `records` is the hashing thread's channel
/// for the coins' digest records, if there is that thread.
fn check_hashing<F: Read + Seek>(
    mut file: Hashing<'_, F>,
    records: Option<SyncSender<Chunk>>,
    digest: &str,
    count: usize,
) -> Result<String, Mismatch> {
    let remote = records.is_some();
    let batch = Vec::with_capacity(RECORD_BATCH);
    let mut coins = Records { to: records, batch, here: Sha256::new(), lost: false };
    coins.add(&(count as u64).to_be_bytes());
    let mut last: Option<[u8; ITEM_LEN]> = None;
    let mut sorted = true;
    let found = read_each(&mut file, &Limits::default(), &mut |coin| {
        if sorted {
            let record = item(&coin);
            if last.is_some_and(|l| l >= record) {
                sorted = false;
            } else {
                coins.add(&record);
                last = Some(record);
            }
        }
        Ok(())
    })?;
    if sorted {
        coins.flush();
    }
    // The hashing thread ends once both its senders are gone.
    let Records { to, here: coins_here, lost, .. } = coins;
    drop(to);
    // What the readers did not read in order from the start (a PNG's bytes after IEND, a zip's
    // central directory, read first) is read now, so the hash covers the whole file.
    file.seek(SeekFrom::Start(file.hashed))?;
    io::copy(&mut file, &mut io::sink())?;
    let Hashing { mut inner, sha, lost: file_lost, .. } = file;
    let hashed = sha.finish();
    let coins_digest = match (&hashed, remote) {
        _ if !sorted => None,
        (_, false) => Some(hex::encode(coins_here.finalize())),
        (Some((_, records)), true) if !lost => Some(hex::encode(records.clone().finalize())),
        (_, true) => None,
    };
    let matches = found == count
        && match coins_digest {
            Some(found_digest) => found_digest == digest,
            // Not in the digest's order (or its hash was lost): the records, read again.
            None => sorted_digest(&mut inner, found)? == digest,
        };
    if !matches {
        return Err(Mismatch::OtherCoins);
    }
    if !file_lost && let Some((sha, _)) = hashed {
        return Ok(hex::encode(sha.finalize()));
    }
    let mut sha = Sha256::new();
    inner.seek(SeekFrom::Start(0))?;
    io::copy(&mut inner, &mut sha)?;
    Ok(hex::encode(sha.finalize()))
}

/// The digest of the coins of `file`, read again and sorted in memory.
fn sorted_digest<F: Read + Seek>(file: &mut F, count: usize) -> Result<String, Mismatch> {
    file.seek(SeekFrom::Start(0))?;
    let mut records: Vec<[u8; ITEM_LEN]> = Vec::with_capacity(count);
    read_each(&mut *file, &Limits::default(), &mut |coin| {
        records.push(item(&coin));
        Ok(())
    })?;
    records.sort_unstable();
    records.dedup();
    let mut sha = Sha256::new();
    sha.update((count as u64).to_be_bytes());
    for r in &records {
        sha.update(r);
    }
    Ok(hex::encode(sha.finalize()))
}

/// What the hashing thread is sent.
enum Chunk {
    /// The next bytes of the file.
    File(Vec<u8>),
    /// The next bytes of the coins' digest records.
    Records(Vec<u8>),
}

/// Where the file's hash is computed.
enum FileSha<'scope> {
    /// On this thread.
    Here(Sha256),
    /// On a thread that hashes the chunks sent to it, and returns the file's hasher and the
    /// records' hasher when they end.
    There(SyncSender<Chunk>, ScopedJoinHandle<'scope, (Sha256, Sha256)>),
}

impl FileSha<'_> {
    /// Hashes `bytes`; false if the hashing thread is gone (then the hash cannot be had this way).
    fn update(&mut self, bytes: &[u8]) -> bool {
        match self {
            FileSha::Here(sha) => {
                sha.update(bytes);
                true
            }
            FileSha::There(chunks, _) => chunks.send(Chunk::File(bytes.to_vec())).is_ok(),
        }
    }

    /// The hasher of every byte given and that of the records sent (empty here), or `None` if
    /// the hashing thread failed. Every other sender to the thread must be gone.
    fn finish(self) -> Option<(Sha256, Sha256)> {
        match self {
            FileSha::Here(sha) => Some((sha, Sha256::new())),
            FileSha::There(chunks, handle) => {
                drop(chunks);
                handle.join().ok()
            }
        }
    }
}

/// A reader that hashes the bytes it reads that extend the part of the file hashed so far, which
/// always starts at offset 0: a reader that goes straight on from the start gets the file hashed
/// as it reads it; one that reads some part first (a zip reader its central directory, at the
/// end) gets the rest hashed as it reads on from the start, and what it never read in that
/// order is read at the end.
struct Hashing<'scope, F> {
    inner: F,
    sha: FileSha<'scope>,
    pos: u64,
    /// `sha` is the hash of bytes `0..hashed`.
    hashed: u64,
    /// The hashing thread is gone: the file's hash cannot be had this way.
    lost: bool,
}

impl<F: Read> Read for Hashing<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let end = self.pos + n as u64;
        if !self.lost && (self.pos..end).contains(&self.hashed) {
            let from = usize::try_from(self.hashed - self.pos).expect("within the buffer");
            if self.sha.update(&buf[from..n]) {
                self.hashed = end;
            } else {
                self.lost = true;
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<F: Seek> Seek for Hashing<'_, F> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(to)?;
        self.pos = at;
        Ok(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::coins_digest;
    use cloudcoin_domain::{Denomination, FileKind, Pown, SerialNumber};
    use std::io::Cursor;

    fn coin(code: i8, sn: u32) -> Coin {
        Coin::new(
            Denomination::from_code(code),
            SerialNumber::new(sn),
            [[sn as u8 ^ code as u8; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    fn file(kind: FileKind, coins: &[Coin]) -> Vec<u8> {
        let options = cloudcoin_codec::WriteOptions::new().with_date("2026-12-01");
        let mut out = Cursor::new(Vec::new());
        match kind {
            FileKind::Zip => cloudcoin_codec::write_zip(&mut out, coins, &options),
            _ => cloudcoin_codec::write_coins(&mut out, kind, coins, &options),
        }
        .expect("write");
        out.into_inner()
    }

    #[test]
    fn accepts_exactly_the_coins_in_any_order_and_hashes_the_file() {
        let mut coins: Vec<Coin> = (0..30).map(|i| coin(i as i8 % 9 - 4, 500 - i)).collect();
        let digest = coins_digest(&coins);
        for sorted in [false, true] {
            if sorted {
                digest_order(&mut coins);
            }
            for kind in FileKind::ALL {
                let bytes = file(kind, &coins);
                let sha = check_file(Cursor::new(&bytes), &digest, coins.len())
                    .unwrap_or_else(|e| panic!("{kind:?} sorted {sorted}: {e:?}"));
                assert_eq!(sha, crate::durable::sha256_hex(&bytes), "{kind:?}");
                let fewer = file(kind, &coins[1..]);
                let e = check_file(Cursor::new(&fewer), &digest, coins.len());
                assert!(matches!(e, Err(Mismatch::OtherCoins)), "{kind:?}: {e:?}");
                let mut changed = coins.clone();
                changed[3].ans[7][0] ^= 1;
                let e = check_file(Cursor::new(file(kind, &changed)), &digest, coins.len());
                assert!(matches!(e, Err(Mismatch::OtherCoins)), "{kind:?}: {e:?}");
                let e = check_file(Cursor::new(&bytes[..bytes.len() - 5]), &digest, coins.len());
                assert!(matches!(e, Err(Mismatch::Unreadable(_))), "{kind:?}: {e:?}");
            }
        }
    }

    /// Without a hashing thread the file and the coins are hashed here, with the same answers.
    #[test]
    fn without_the_hashing_thread_the_answers_are_the_same() {
        let here = |bytes: &[u8], digest: &str, count: usize| {
            let sha = FileSha::Here(Sha256::new());
            let file = Hashing { inner: Cursor::new(bytes), sha, pos: 0, hashed: 0, lost: false };
            check_hashing(file, None, digest, count)
        };
        let mut coins: Vec<Coin> = (0..30).map(|i| coin(i as i8 % 9 - 4, 900 - i)).collect();
        let digest = coins_digest(&coins);
        for sorted in [false, true] {
            if sorted {
                digest_order(&mut coins);
            }
            for kind in FileKind::ALL {
                let bytes = file(kind, &coins);
                let sha = here(&bytes, &digest, coins.len())
                    .unwrap_or_else(|e| panic!("{kind:?} sorted {sorted}: {e:?}"));
                assert_eq!(sha, crate::durable::sha256_hex(&bytes), "{kind:?}");
                let mut changed = coins.clone();
                changed[3].ans[7][0] ^= 1;
                let e = here(&file(kind, &changed), &digest, coins.len());
                assert!(matches!(e, Err(Mismatch::OtherCoins)), "{kind:?}: {e:?}");
                let e = here(&file(kind, &coins[1..]), &digest, coins.len());
                assert!(matches!(e, Err(Mismatch::OtherCoins)), "{kind:?}: {e:?}");
            }
        }
    }

    #[test]
    fn the_digest_record_is_the_journal_one() {
        let coins = [coin(-2, 9), coin(3, 1)];
        let mut records: Vec<[u8; ITEM_LEN]> = coins.iter().map(item).collect();
        records.sort();
        let mut all = 2u64.to_be_bytes().to_vec();
        records.iter().for_each(|r| all.extend_from_slice(r));
        assert_eq!(crate::durable::sha256_hex(&all), coins_digest(&coins));
        let mut ordered = coins.to_vec();
        digest_order(&mut ordered);
        assert_eq!(ordered.iter().map(item).collect::<Vec<_>>(), records);
    }
}
