//! Zip archives of coin files (`docs/SPEC.md` §4.4): written as one single-coin format-9 `.bin` per coin,
//! stored uncompressed; read whatever coin files (bin, stack, png, nested zip) they hold, within
//! [`Limits`].

use std::collections::HashSet;
use std::io::{Cursor, Read, Seek, Write};

use cloudcoin_domain::{Coin, CoinId, FileKind, Tag, single_coin_file_name};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::CodecError;
use crate::sniff::sniff;
use crate::write::WriteOptions;

/// How many coins are written between progress reports.
const PROGRESS_EVERY: usize = 100;

/// Bounds on what reading an archive may cost, so that a zip bomb or a 2 GB "coin" ends in
/// [`CodecError::TooLarge`] or [`CodecError::TooDeep`] instead of exhausting memory.
///
/// `#[non_exhaustive]`: start from [`Limits::default`] and change what you need with the
/// `with_*` methods (or by assigning a field).
///
/// ```
/// use cloudcoin_codec::Limits;
///
/// let small = Limits::default().with_max_entry_bytes(1 << 20).with_max_depth(1);
/// assert_eq!(small.max_entry_bytes, 1 << 20);
/// assert_eq!(small.max_entries, Limits::default().max_entries);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest size of one entry once decompressed, declared or actual.
    pub max_entry_bytes: u64,
    /// Largest size of all entries together once decompressed, nested archives included.
    pub max_total_bytes: u64,
    /// Most entries (directories not counted), nested archives included.
    pub max_entries: usize,
    /// Deepest nesting of archives: 1 reads a zip but no zip inside it, 2 one zip inside it, …
    pub max_depth: u8,
}

impl Default for Limits {
    /// 64 MiB per entry, 256 MiB in all, 70,000 entries (a full 65,535-coin export and then
    /// some), a zip inside a zip at most.
    fn default() -> Limits {
        Limits {
            max_entry_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_entries: 70_000,
            max_depth: 2,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_entry_bytes`].
    pub fn with_max_entry_bytes(mut self, bytes: u64) -> Limits {
        self.max_entry_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_total_bytes`].
    pub fn with_max_total_bytes(mut self, bytes: u64) -> Limits {
        self.max_total_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_entries`].
    pub fn with_max_entries(mut self, entries: usize) -> Limits {
        self.max_entries = entries;
        self
    }

    /// Sets [`Limits::max_depth`].
    pub fn with_max_depth(mut self, depth: u8) -> Limits {
        self.max_depth = depth;
        self
    }
}

/// Writes `coins` to `w` as a zip archive of single-coin format-9 files, stored uncompressed,
/// each named by the single-coin rule with an empty tag (`10 CloudCoin #7 ''.bin`), and flushes
/// `w`. Progress is reported every hundred coins and at the end; the tag and date of `options`
/// are not used (a zip has no page to print them on).
///
/// Unlike [`write_coins`](crate::write_coins) this needs [`Seek`]: the zip writer goes back to
/// fill in each entry's sizes and checksum once the entry is written. A [`std::fs::File`], a
/// [`std::io::BufWriter`] around one, or a [`Cursor`] will do. Refuses a coin set holding the
/// same coin twice ([`CodecError::DuplicateCoin`]).
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
pub fn write_zip(
    w: impl Write + Seek,
    coins: &[Coin],
    options: &WriteOptions<'_>,
) -> Result<(), CodecError> {
    crate::bin::check_unique(coins)?;
    let entry_options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut zip = ZipWriter::new(w);
    let mut entry = Vec::with_capacity(crate::bin::HEADER_LEN + crate::bin::RECORD_LEN);
    for (i, coin) in coins.iter().enumerate() {
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

/// Reads every coin in a zip archive: each entry (directories skipped, as are the `__MACOSX/`
/// and `.DS_Store` litter of macOS archivers) must be a coin file of any supported format,
/// nested zips included down to [`Limits::max_depth`].
///
/// Fails with [`CodecError::ZipEntryNotCoin`] for an entry that is no coin file,
/// [`CodecError::ZipEntry`] for a coin file that cannot be read, [`CodecError::TooLarge`] when a
/// limit is passed (checked against the declared and the actual sizes), and
/// [`CodecError::DuplicateCoin`] when one coin appears twice anywhere in the archive, and
/// [`CodecError::Zip`] when the archive itself cannot be read.
///
/// ```
/// use cloudcoin_codec::{decode_zip, CodecError, Limits};
///
/// // An empty archive is just its end record.
/// let empty = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
/// assert!(decode_zip(empty, &Limits::default()).unwrap().is_empty());
/// assert!(matches!(decode_zip(b"PK\x03\x04junk", &Limits::default()), Err(CodecError::Zip { .. })));
/// ```
pub fn decode_zip(bytes: &[u8], limits: &Limits) -> Result<Vec<Coin>, CodecError> {
    let mut walk = Walk { limits, entries: 0, total_bytes: 0, seen: HashSet::new(), coins: vec![] };
    walk.archive(bytes, 1)?;
    Ok(walk.coins)
}

/// The state of reading one archive and everything nested in it.
struct Walk<'a> {
    limits: &'a Limits,
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
        let coins = match sniff(data) {
            Err(CodecError::NotACoinFile { looked_like }) => {
                return Err(CodecError::ZipEntryNotCoin {
                    name: name.to_owned(),
                    reason: looked_like,
                });
            }
            Err(other) => return Err(wrap(other)),
            Ok(FileKind::Zip) => return self.archive(data, depth + 1).map_err(wrap),
            Ok(FileKind::Bin) => crate::bin::decode_bin(data).map_err(wrap)?,
            Ok(FileKind::Stack) => crate::stack::decode_stack(data).map_err(wrap)?,
            Ok(FileKind::Png) => crate::png_file::decode_png(data).map_err(wrap)?,
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

    #[test]
    fn default_limits_fit_a_full_export() {
        let limits = Limits::default();
        assert!(limits.max_entries >= crate::bin::MAX_COINS);
        assert_eq!(limits.max_entry_bytes, 64 * 1024 * 1024);
        assert_eq!(limits.max_depth, 2);
    }

    #[test]
    fn mac_litter_is_recognised() {
        assert!(is_archiver_litter("__MACOSX/._a.bin"));
        assert!(is_archiver_litter("coins/.DS_Store"));
        assert!(!is_archiver_litter("a.bin"));
        assert!(!is_archiver_litter("x__MACOSX/a.bin"));
    }
}
