//! Zip archives of coin files (`docs/SPEC.md` §4.4): written as one single-coin format-9 `.bin` per coin,
//! stored uncompressed; read whatever coin files (bin, stack, png, nested zip) they hold, within
//! [`Limits`].
//!
//! # How an archive is written
//!
//! The bytes are exactly those the `zip` crate's writer makes for the same entries; only the way
//! they reach the writer differs.
//!
//! - **Up to 65,535 coins** (no zip64 needed) the entries are written here, front to back: each
//!   coin is encoded first, so its size and CRC-32 are known before its local header is written,
//!   and nothing is ever written twice. The writer is asked its position once, at the start (the
//!   offsets count from there), and never seeks.
//! - **Past that** (a backup of a bigger wallet) the archive needs zip64 records, and the `zip`
//!   crate writes it. That crate seeks back to each entry's header to fill in its size once the
//!   entry is written; it writes through `SeekWindow`, which keeps the last megabyte in memory,
//!   so those seeks land in the buffer and cost no system call, and the writer under it sees its
//!   bytes once, in order.
//!
//! Every writer takes a slice of coins or of references to them (`Borrow<Coin>`), so an export
//! writes the wallet's own coins, not a copy of them.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use cloudcoin_domain::{Coin, CoinId, FileKind, Tag, single_coin_file_name};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::CodecError;
use crate::limits::Limits;
use crate::options::WriteOptions;

/// How many coins are written between progress reports.
const PROGRESS_EVERY: usize = 100;

/// Writes `coins` to `w` as a zip archive of single-coin format-9 files, stored uncompressed,
/// each named by the single-coin rule with an empty tag (`10 CloudCoin #7 ''.bin`), and flushes
/// `w`. Progress is reported every hundred coins and at the end; the tag and date of `options`
/// are not used (a zip has no page to print them on).
///
/// Unlike [`write_coins`](crate::write_coins) this takes a [`Seek`] writer, for its position:
/// the archive's offsets count from where `w` stands. Up to 65,535 coins the archive is written
/// front to back, each entry's size and checksum known before its header, without seeking back.
/// A larger set needs zip64 records and is written by the `zip` crate, whose seeks back to an
/// entry's header stay within a buffer of the last megabyte, so `w` still sees its bytes once,
/// in order. A [`std::fs::File`], a [`std::io::BufWriter`] around one, or a [`Cursor`] will do.
/// Refuses a coin set holding the
/// same coin twice ([`CodecError::DuplicateCoin`]). As with `write_coins`, the coins may be a
/// slice of coins or of references to them.
///
/// ```
/// use std::io::Cursor;
/// use cloudcoin_codec::{decode_zip, write_zip, Limits, WriteOptions};
/// use cloudcoin_domain::{Coin, Denomination, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coins: Vec<Coin> = (1..=3)
///     .map(|sn| Coin::new(
///         Denomination::from_code(-1),
///         SerialNumber::new(sn),
///         [[7; 16]; RAIDA_COUNT],
///         [Pown::Pass; RAIDA_COUNT],
///     ))
///     .collect();
/// let mut file = Cursor::new(Vec::new());
/// write_zip(&mut file, &coins, &WriteOptions::new()).unwrap();
/// assert_eq!(decode_zip(file.get_ref(), &Limits::default()).unwrap(), coins);
/// ```
pub fn write_zip<C: Borrow<Coin>>(
    w: impl Write + Seek,
    coins: &[C],
    options: &WriteOptions<'_>,
) -> Result<(), CodecError> {
    crate::bin::check_unique(coins)?;
    if coins.len() <= STORED_MOST {
        write_stored(w, coins, options)
    } else {
        write_with_crate(w, coins, options)
    }
}

/// The archive written by the `zip` crate: needed past [`STORED_MOST`] coins.
fn write_with_crate<C: Borrow<Coin>>(
    w: impl Write + Seek,
    coins: &[C],
    options: &WriteOptions<'_>,
) -> Result<(), CodecError> {
    let entry_options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut zip = ZipWriter::new(SeekWindow::new(w, WINDOW)?);
    let mut entry = Vec::with_capacity(crate::bin::HEADER_LEN + crate::bin::RECORD_LEN);
    for (i, coin) in coins.iter().map(Borrow::borrow).enumerate() {
        entry.clear();
        crate::bin::write_bin(&mut entry, std::slice::from_ref(coin))?;
        zip.start_file(single_coin_file_name(coin, &Tag::empty(), FileKind::Bin), entry_options)
            .map_err(CodecError::zip_write)?;
        zip.write_all(&entry)?;
        if (i + 1) % PROGRESS_EVERY == 0 {
            options.report(i + 1);
        }
    }
    let mut w = zip.finish().map_err(CodecError::zip_write)?;
    w.flush()?;
    options.report(coins.len());
    Ok(())
}

/// Most entries [`write_stored`] writes: what the end record counts without zip64. A larger set
/// (a backup of a big wallet) is written by the `zip` crate, which adds the zip64 records.
const STORED_MOST: usize = u16::MAX as usize;

/// Writes `coins` as the archive the `zip` crate writes for them with stored entries, byte for
/// byte (kept by a test), without its per-entry bookkeeping or its seeks back: each entry's size
/// and CRC are known before its header is written, so the archive goes out front to back. Local
/// headers: version 1.0, no flags (the UTF-8 flag for a name that is not ASCII), stored, the DOS
/// date 1980-01-01 00:00, no extra field. Central headers: made by Unix 1.0, external attributes
/// of a regular file with mode 0644, as the crate writes them. At most [`STORED_MOST`] coins,
/// whose archive is far below 4 GiB.
fn write_stored<C: Borrow<Coin>>(
    mut w: impl Write + Seek,
    coins: &[C],
    options: &WriteOptions<'_>,
) -> Result<(), CodecError> {
    const VERSION: u16 = 10;
    const MADE_BY: u16 = (3 << 8) | VERSION;
    const DOS_DATE: u16 = (1 << 5) | 1;
    const UTF8_NAME: u16 = 1 << 11;
    const REGULAR_0644: u32 = 0o100_644 << 16;
    let start = w.stream_position()?;
    let offset32 = |at: u64| {
        u32::try_from(at).map_err(|_| CodecError::Io(io::Error::other("zip offset past 4 GiB")))
    };
    let mut central = Vec::with_capacity(coins.len() * 80);
    let mut entry = Vec::with_capacity(crate::bin::HEADER_LEN + crate::bin::RECORD_LEN * 2);
    let mut header = Vec::with_capacity(128);
    let mut at = start;
    for (i, coin) in coins.iter().map(Borrow::borrow).enumerate() {
        entry.clear();
        crate::bin::write_bin(&mut entry, std::slice::from_ref(coin))?;
        let name = single_coin_file_name(coin, &Tag::empty(), FileKind::Bin);
        let flags = if name.is_ascii() { 0 } else { UTF8_NAME };
        let crc = crc32fast::hash(&entry);
        let size = u32::try_from(entry.len()).expect("one coin's file is small");
        let name_len = u16::try_from(name.len()).expect("a coin's file name is short");
        header.clear();
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        for field in [VERSION, flags, 0, 0, DOS_DATE] {
            header.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, size, size] {
            header.extend_from_slice(&field.to_le_bytes());
        }
        for field in [name_len, 0] {
            header.extend_from_slice(&field.to_le_bytes());
        }
        header.extend_from_slice(name.as_bytes());
        w.write_all(&header)?;
        w.write_all(&entry)?;

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        for field in [MADE_BY, VERSION, flags, 0, 0, DOS_DATE] {
            central.extend_from_slice(&field.to_le_bytes());
        }
        for field in [crc, size, size] {
            central.extend_from_slice(&field.to_le_bytes());
        }
        for field in [name_len, 0, 0, 0, 0] {
            central.extend_from_slice(&field.to_le_bytes());
        }
        central.extend_from_slice(&REGULAR_0644.to_le_bytes());
        central.extend_from_slice(&offset32(at)?.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
        at += (header.len() + entry.len()) as u64;
        if (i + 1) % PROGRESS_EVERY == 0 {
            options.report(i + 1);
        }
    }
    w.write_all(&central)?;
    let count = u16::try_from(coins.len()).expect("checked against STORED_MOST");
    let mut end = Vec::with_capacity(22);
    end.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for field in [0, 0, count, count] {
        end.extend_from_slice(&field.to_le_bytes());
    }
    let central_len = u32::try_from(central.len())
        .map_err(|_| CodecError::Io(io::Error::other("zip directory past 4 GiB")))?;
    end.extend_from_slice(&central_len.to_le_bytes());
    end.extend_from_slice(&offset32(at)?.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    w.write_all(&end)?;
    w.flush()?;
    options.report(coins.len());
    Ok(())
}

/// How many bytes [`SeekWindow`] gathers before it writes them out.
const WINDOW: usize = 1 << 20;

/// A writer that keeps what was written last in memory, so that the zip writer's seek back to
/// each entry's local header (to fill in its CRC and sizes once the entry is written) lands in
/// memory: two seeks and a write per entry on the file become none. The bytes that reach `inner`
/// are exactly those written straight to it would be.
///
/// `buf` holds the bytes of `inner` from offset `base` on, not yet written out; `inner`'s own
/// position is `base`. A seek within `buf` only moves `pos`; any other seek writes `buf` out
/// first. When `buf` passes `window` bytes and the cursor is at its end, all but the last eighth
/// is written out (an entry's header is far nearer than that).
struct SeekWindow<W: Write + Seek> {
    inner: W,
    buf: Vec<u8>,
    base: u64,
    pos: usize,
    window: usize,
}

impl<W: Write + Seek> SeekWindow<W> {
    fn new(mut inner: W, window: usize) -> io::Result<SeekWindow<W>> {
        let base = inner.stream_position()?;
        Ok(SeekWindow { inner, buf: Vec::with_capacity(window + window / 4), base, pos: 0, window })
    }

    /// Writes the first `n` bytes of `buf` out.
    fn write_out(&mut self, n: usize) -> io::Result<()> {
        self.inner.write_all(&self.buf[..n])?;
        self.buf.drain(..n);
        self.base += n as u64;
        self.pos -= n.min(self.pos);
        Ok(())
    }

    /// Writes all of `buf` out and leaves `inner` at the cursor.
    fn write_all_out(&mut self) -> io::Result<()> {
        let cursor = self.base + self.pos as u64;
        let end = self.base + self.buf.len() as u64;
        let n = self.buf.len();
        self.inner.write_all(&self.buf[..n])?;
        self.buf.clear();
        self.pos = 0;
        self.base = end;
        if cursor != end {
            self.base = self.inner.seek(SeekFrom::Start(cursor))?;
        }
        Ok(())
    }
}

impl<W: Write + Seek> Write for SeekWindow<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let end = self.pos + data.len();
        if end > self.buf.len() {
            self.buf.resize(end, 0);
        }
        self.buf[self.pos..end].copy_from_slice(data);
        self.pos = end;
        if self.pos == self.buf.len() && self.buf.len() >= self.window {
            let keep = self.window / 8;
            self.write_out(self.buf.len() - keep)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_all_out()?;
        self.inner.flush()
    }
}

impl<W: Write + Seek> Seek for SeekWindow<W> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = crate::seek::seek_target(self.base + self.pos as u64, to);
        if let Some(t) = target
            && t >= self.base
            && t <= self.base + self.buf.len() as u64
        {
            self.pos = usize::try_from(t - self.base).map_err(io::Error::other)?;
            return Ok(t);
        }
        self.write_all_out()?;
        let at = crate::seek::seek_inner(&mut self.inner, to, target)?;
        self.base = at;
        Ok(at)
    }
}

/// What the reader of a whole file made of one entry's bytes.
pub(crate) enum Entry {
    /// A coin file, read.
    Coins(Vec<Coin>),
    /// A zip archive, to be read in turn.
    Archive,
}

/// How [`read`] reads one entry: the caller's dispatcher over the formats, so that this module
/// knows zip archives and no other format. It answers [`CodecError::NotACoinFile`] for an entry
/// that is no coin file.
pub(crate) type ReadEntry<'a> = &'a dyn Fn(&[u8]) -> Result<Entry, CodecError>;

/// Reads every coin in a zip archive (see [`decode_zip`](crate::decode_zip)), each entry by
/// `read_entry`.
pub(crate) fn read(
    bytes: &[u8],
    limits: &Limits,
    read_entry: ReadEntry<'_>,
) -> Result<Vec<Coin>, CodecError> {
    let mut walk = Walk {
        limits,
        read_entry,
        entries: 0,
        total_bytes: 0,
        seen: HashSet::new(),
        coins: vec![],
    };
    walk.archive(bytes, 1)?;
    Ok(walk.coins)
}

/// The state of reading one archive and everything nested in it.
struct Walk<'a> {
    limits: &'a Limits,
    read_entry: ReadEntry<'a>,
    entries: usize,
    total_bytes: u64,
    seen: HashSet<CoinId>,
    coins: Vec<Coin>,
}

impl Walk<'_> {
    fn archive(&mut self, bytes: &[u8], depth: u8) -> Result<(), CodecError> {
        if depth > self.limits.max_depth {
            return Err(CodecError::TooDeep { limit: self.limits.max_depth });
        }
        let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(CodecError::zip_read)?;
        if archive.len() > self.limits.max_entries {
            return Err(self.too_many_entries());
        }
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).map_err(CodecError::zip_read)?;
            let name = match file.name() {
                Ok(name) => name.into_owned(),
                Err(_) => String::from_utf8_lossy(file.name_raw()).into_owned(),
            };
            if file.is_dir() || is_archiver_litter(&name) {
                continue;
            }
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(self.too_many_entries());
            }
            let data = self.read_entry(&mut file, &name)?;
            drop(file);
            self.entry(&name, &data, depth)?;
        }
        Ok(())
    }

    fn too_many_entries(&self) -> CodecError {
        CodecError::TooLarge {
            what: "the number of zip entries",
            limit: u64::try_from(self.limits.max_entries).unwrap_or(u64::MAX),
        }
    }

    /// The entry's bytes, read no further than the limits allow.
    fn read_entry<R: Read>(
        &mut self,
        file: &mut zip::read::ZipFile<'_, R>,
        name: &str,
    ) -> Result<Vec<u8>, CodecError> {
        let entry_limit = self.limits.max_entry_bytes;
        let entry_too_large = || CodecError::TooLarge { what: "a zip entry", limit: entry_limit };
        let total_too_large = || CodecError::TooLarge {
            what: "the zip contents",
            limit: self.limits.max_total_bytes,
        };
        let declared = file.size();
        if declared > entry_limit {
            return Err(entry_too_large());
        }
        let room = self.limits.max_total_bytes.saturating_sub(self.total_bytes);
        if declared > room {
            return Err(total_too_large());
        }
        let mut data = Vec::new();
        file.take(entry_limit.min(room).saturating_add(1)).read_to_end(&mut data).map_err(|e| {
            CodecError::ZipEntry { name: name.to_owned(), source: Box::new(e.into()) }
        })?;
        let actual = u64::try_from(data.len()).unwrap_or(u64::MAX);
        if actual > entry_limit {
            return Err(entry_too_large());
        }
        if actual > room {
            return Err(total_too_large());
        }
        self.total_bytes += actual;
        Ok(data)
    }

    fn entry(&mut self, name: &str, data: &[u8], depth: u8) -> Result<(), CodecError> {
        let wrap =
            |e: CodecError| CodecError::ZipEntry { name: name.to_owned(), source: Box::new(e) };
        let coins = match (self.read_entry)(data) {
            Err(CodecError::NotACoinFile { looked_like }) => {
                return Err(CodecError::ZipEntryNotCoin {
                    name: name.to_owned(),
                    reason: looked_like,
                });
            }
            Err(other) => return Err(wrap(other)),
            Ok(Entry::Archive) => return self.archive(data, depth + 1).map_err(wrap),
            Ok(Entry::Coins(coins)) => coins,
        };
        for coin in coins {
            if !self.seen.insert(coin.id()) {
                return Err(CodecError::DuplicateCoin { id: coin.id() });
            }
            self.coins.push(coin);
        }
        Ok(())
    }
}

/// Entries macOS archivers add beside the real files: resource forks and folder settings.
fn is_archiver_litter(name: &str) -> bool {
    name.starts_with("__MACOSX/") || name.rsplit('/').next() == Some(".DS_Store")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The archives of these tests hold bin files only: read them without the dispatcher.
    fn decode_zip(bytes: &[u8], limits: &Limits) -> Result<Vec<Coin>, CodecError> {
        read(bytes, limits, &|data| crate::bin::decode_bin(data).map(Entry::Coins))
    }

    #[test]
    fn default_limits_fit_a_full_export() {
        let limits = Limits::default();
        assert!(limits.max_entries >= crate::bin::MAX_COINS);
        assert_eq!(limits.max_entry_bytes, 64 * 1024 * 1024);
        assert_eq!(limits.max_depth, 2);
    }

    /// A writer that counts the seeks it is asked for.
    struct Counting {
        inner: Cursor<Vec<u8>>,
        seeks: usize,
        writes: usize,
    }

    impl Write for Counting {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            self.inner.write(data)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Seek for Counting {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.seeks += 1;
            self.inner.seek(to)
        }
    }

    fn coins(n: u32) -> Vec<Coin> {
        use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};
        (1..=n)
            .map(|sn| {
                let an = [(sn % 251) as u8; 16];
                let d = Denomination::from_code((sn % 5) as i8 - 2);
                Coin::new(d, SerialNumber::new(sn), [an; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT])
            })
            .collect()
    }

    #[test]
    fn the_window_writes_the_bytes_the_zip_writer_makes_with_few_seeks() {
        let coins = coins(3_000);
        // The zip writer straight on a cursor: a seek back for every entry.
        let mut direct = Counting { inner: Cursor::new(Vec::new()), seeks: 0, writes: 0 };
        let mut zip = ZipWriter::new(&mut direct);
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        for coin in &coins {
            zip.start_file(single_coin_file_name(coin, &Tag::empty(), FileKind::Bin), options)
                .expect("start");
            zip.write_all(&crate::bin::encode_bin(std::slice::from_ref(coin)).expect("bin"))
                .expect("write");
        }
        zip.finish().expect("finish");
        assert!(direct.seeks >= 2 * coins.len(), "{} seeks", direct.seeks);

        let mut windowed = Counting { inner: Cursor::new(Vec::new()), seeks: 0, writes: 0 };
        write_with_crate(&mut windowed, &coins, &WriteOptions::new()).expect("write_zip");
        assert_eq!(windowed.inner.get_ref(), direct.inner.get_ref(), "the same bytes");
        assert!(windowed.seeks <= 4, "{} seeks", windowed.seeks);
        assert!(windowed.writes <= 8, "{} writes", windowed.writes);
        assert_eq!(decode_zip(windowed.inner.get_ref(), &Limits::default()).expect("read"), coins);
    }

    /// The archive the `zip` crate writes for `coins` with stored entries, from `start` on.
    fn crate_archive(coins: &[Coin], start: usize) -> Vec<u8> {
        let mut out = Cursor::new(vec![9u8; start]);
        out.set_position(start as u64);
        let mut zip = ZipWriter::new(&mut out);
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        for coin in coins {
            zip.start_file(single_coin_file_name(coin, &Tag::empty(), FileKind::Bin), options)
                .expect("start");
            zip.write_all(&crate::bin::encode_bin(std::slice::from_ref(coin)).expect("bin"))
                .expect("write");
        }
        zip.finish().expect("finish");
        out.into_inner()
    }

    #[test]
    fn the_direct_writer_makes_the_zip_crates_bytes_front_to_back() {
        use cloudcoin_domain::RAIDA_COUNT;
        let mut with_pans = coins(40);
        with_pans[7] = with_pans[7].clone().with_pans([[0x5A; 16]; RAIDA_COUNT]);
        let sets = [coins(0), coins(1), coins(2), coins(1_000), with_pans];
        for (set, start) in sets.iter().zip([0, 0, 3, 0, 17]) {
            let mut direct = Counting { inner: Cursor::new(vec![9u8; start]), seeks: 0, writes: 0 };
            direct.inner.set_position(start as u64);
            let borrowed: Vec<&Coin> = set.iter().collect();
            write_zip(&mut direct, &borrowed, &WriteOptions::new()).expect("write_zip");
            let expected = crate_archive(set, start);
            assert_eq!(direct.inner.get_ref().len(), expected.len(), "{} coins", set.len());
            assert!(direct.inner.get_ref() == &expected, "{} coins: other bytes", set.len());
            // Only the starting position is asked for: nothing is written twice.
            assert!(direct.seeks <= 1, "{} seeks", direct.seeks);
            if start == 0 {
                let back = decode_zip(direct.inner.get_ref(), &Limits::default()).expect("read");
                assert_eq!(&back, set, "{} coins read back", set.len());
            }
        }
    }

    #[test]
    fn the_window_behaves_as_the_writer_under_it() {
        // Writes and seeks of every kind, in and out of a small window, after a non-zero start.
        let mut plain = Cursor::new(vec![7u8; 5]);
        plain.set_position(5);
        let mut under = Cursor::new(vec![7u8; 5]);
        under.set_position(5);
        let mut window = SeekWindow::new(&mut under, 64).expect("window");
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for step in 0..5_000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (plain.get_ref().len() as u64).max(1);
            let op = match state % 7 {
                0 => SeekFrom::Start(state % len),
                1 => SeekFrom::Current(-((state % 80) as i64).min(plain.position() as i64)),
                2 => SeekFrom::End(-((state % 40) as i64).min(len as i64)),
                3 => SeekFrom::Current(0),
                _ => {
                    let bytes: Vec<u8> =
                        (0..state % 100).map(|i| (i as u32 + step) as u8).collect();
                    plain.write_all(&bytes).expect("write");
                    window.write_all(&bytes).expect("write");
                    continue;
                }
            };
            assert_eq!(window.seek(op).expect("seek"), plain.seek(op).expect("seek"), "{op:?}");
            if step % 1_000 == 999 {
                window.flush().expect("flush");
                assert_eq!(window.inner.get_ref(), plain.get_ref());
            }
        }
        window.flush().expect("flush");
        let at = window.stream_position().expect("position");
        drop(window);
        assert_eq!(under.get_ref(), plain.get_ref());
        assert_eq!((at, under.position()), (plain.position(), plain.position()));
    }

    #[test]
    fn mac_litter_is_recognised() {
        assert!(is_archiver_litter("__MACOSX/._a.bin"));
        assert!(is_archiver_litter("coins/.DS_Store"));
        assert!(!is_archiver_litter("a.bin"));
        assert!(!is_archiver_litter("x__MACOSX/a.bin"));
    }
}
