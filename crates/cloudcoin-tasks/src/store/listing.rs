//! The file work of the start-up scan ([`super::scan_wallet`]): each held folder is
//! listed once through its handle (`getdents64` into one reused buffer, no allocation per name),
//! and its coin files are read by a few threads while the listing goes on, each file with one
//! `openat` on the folder's handle and its reads into a buffer reused from file to file.
//!
//! What counts as a coin file, and what is done with every other file, is exactly what the scan
//! always did: a name starting with `.` or anything that is not a regular file (as the listing
//! says, or `lstat` where the file system does not say) is no coin file; a regular file is read
//! whole (up to [`MAX_COIN_FILE_BYTES`]) and must decode as exactly one coin
//! ([`super::one_coin`]); anything else, and a file whose name is not UTF-8 (the index
//! could not name it to move it), is reported back, to be logged and left alone.

use std::ffi::{CStr, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Arc, Mutex, mpsc};

use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir};

use super::index::{Entry, Hold};
use super::layout::{Folder, MAX_COIN_FILE_BYTES, coin_file_name, one_coin};

/// Names listed before they are handed to a reader (a bound on what the scan keeps at once).
const BATCH: usize = 4096;

/// Below this many files in a folder, the scan reads them itself rather than start threads.
const PARALLEL_MIN: usize = 64;

/// Bytes of the `getdents64` buffer: a few hundred entries per call.
const LISTING_BUFFER: usize = 64 * 1024;

/// Bytes of the reading buffer first made for each reader: a single coin is 439 or 839 bytes;
/// a larger file makes the buffer grow (up to [`MAX_COIN_FILE_BYTES`] and one byte).
const READ_BUFFER: usize = 4096;

/// Threads that read a folder's coin files: file reads cost mostly system time, which the cores
/// share out.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(4)
}

/// File names from one listing, each kept with its NUL in one buffer: no allocation per name.
#[derive(Debug, Default)]
pub(crate) struct Names {
    bytes: Vec<u8>,
    /// Where each name ends (after its NUL) in `bytes`.
    ends: Vec<usize>,
}

impl Names {
    fn with_capacity(names: usize) -> Names {
        Names { bytes: Vec::with_capacity(names * 32), ends: Vec::with_capacity(names) }
    }

    fn push(&mut self, name: &CStr) {
        self.bytes.extend_from_slice(name.to_bytes_with_nul());
        self.ends.push(self.bytes.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th name, as the kernel gave it (with its NUL).
    fn c_name(&self, i: usize) -> &CStr {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        CStr::from_bytes_with_nul(&self.bytes[start..self.ends[i]]).unwrap_or_default()
    }

    /// The `i`-th name.
    pub(crate) fn name(&self, i: usize) -> &OsStr {
        OsStr::from_bytes(self.c_name(i).to_bytes())
    }
}

/// What a reader made of one listed file.
#[derive(Debug)]
pub(crate) enum Read {
    /// The file holds exactly one coin: its index entry (free, in the folder read).
    Coin(Entry),
    /// The `index`-th file of the batch is not a single coin, and why.
    NotACoin { index: usize, reason: String },
}

/// Lists the folder `dir` once and reads every coin file in it, `threads` at a time, handing each
/// batch of names and what was read from them to `take`, on the calling thread (so the caller
/// builds its index and logs as it goes, while the listing and the reading go on). Returns the
/// names starting with `.` (other than `.` and `..`) when `hidden` is set: what the start-up's
/// clean-ups of temporary files look for, so that they need not list the folder again.
pub(crate) fn scan_folder(
    dir: &File,
    folder: Folder,
    threads: usize,
    hidden: bool,
    mut take: impl FnMut(&Names, Vec<Read>),
) -> io::Result<Vec<OsString>> {
    let conventional = Conventional::new();
    let mut buffer = Vec::with_capacity(LISTING_BUFFER);
    let mut lister = Lister {
        dir: dir.as_fd(),
        raw: RawDir::new(dir.as_fd(), buffer.spare_capacity_mut()),
        done: false,
        hidden: hidden.then(Vec::new),
    };
    let first = lister.next_batch()?;
    if threads <= 1 || (lister.done && first.len() < PARALLEL_MIN) {
        // Nothing to share out: one reader, this thread.
        let mut buf = vec![0; READ_BUFFER];
        let mut batch = first;
        while !batch.is_empty() {
            let read = read_batch(dir.as_fd(), &batch, folder, &conventional, &mut buf);
            take(&batch, read);
            batch = lister.next_batch()?;
        }
        return Ok(lister.hidden.unwrap_or_default());
    }
    let conventional = &conventional;
    std::thread::scope(|scope| {
        // Batches waiting for a reader (a few, so the listing stays just ahead of the reading),
        // and batches read, coming back. The readers alone hold the receiving end of the work:
        // if every one of them stops, sending more fails rather than waits.
        let (work, work_rx) = mpsc::sync_channel::<Names>(threads);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done) = mpsc::channel::<(Names, Vec<Read>)>();
        for _ in 0..threads {
            let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
            scope.spawn(move || {
                let mut buf = vec![0; READ_BUFFER];
                loop {
                    let next = work_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(batch) = next else { break };
                    let read = read_batch(dir.as_fd(), &batch, folder, conventional, &mut buf);
                    if done_tx.send((batch, read)).is_err() {
                        break;
                    }
                }
            });
        }
        drop((work_rx, done_tx));
        let stopped = || io::Error::other("the threads reading the coin files stopped");
        let mut batch = first;
        let listed = loop {
            if batch.is_empty() {
                break Ok(());
            }
            if work.send(batch).is_err() {
                break Err(stopped());
            }
            while let Ok((names, read)) = done.try_recv() {
                take(&names, read);
            }
            batch = match lister.next_batch() {
                Ok(next) => next,
                Err(e) => break Err(e),
            };
        };
        drop(work);
        // Every reader ends once the work is gone; then the results end.
        for (names, read) in done {
            take(&names, read);
        }
        listed.map(|()| lister.hidden.unwrap_or_default())
    })
}

/// A folder's listing, handed out in batches of regular files whose names do not start with `.`.
struct Lister<'a> {
    dir: BorrowedFd<'a>,
    raw: RawDir<'a, BorrowedFd<'a>>,
    done: bool,
    /// The names starting with `.`, when they are wanted.
    hidden: Option<Vec<OsString>>,
}

impl Lister<'_> {
    /// The next names to read; empty once the listing is over.
    fn next_batch(&mut self) -> io::Result<Names> {
        let mut names = Names::with_capacity(if self.done { 0 } else { BATCH });
        while !self.done && names.len() < BATCH {
            let Some(entry) = self.raw.next() else {
                self.done = true;
                break;
            };
            let entry = entry?;
            let name = entry.file_name();
            let bytes = name.to_bytes();
            if bytes.starts_with(b".") {
                if bytes != b"."
                    && bytes != b".."
                    && let Some(hidden) = &mut self.hidden
                {
                    hidden.push(OsStr::from_bytes(bytes).to_owned());
                }
                continue;
            }
            let kind = match entry.file_type() {
                // The file system does not say: look, without following a link.
                FileType::Unknown => {
                    let stat = rustix::fs::statat(self.dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
                    FileType::from_raw_mode(stat.st_mode)
                }
                kind => kind,
            };
            if kind == FileType::RegularFile {
                names.push(name);
            }
        }
        Ok(names)
    }
}

/// Reads the files `names` of the folder `dir` as single coins, into index entries.
fn read_batch(
    dir: BorrowedFd<'_>,
    names: &Names,
    folder: Folder,
    conventional: &Conventional,
    buf: &mut Vec<u8>,
) -> Vec<Read> {
    (0..names.len())
        .map(|index| {
            let name = names.c_name(index);
            // The index names a coin's file by a `String`, and moving the file (to `Sent` when it
            // is exported) uses that name: a name that is not UTF-8 would be a different name, the
            // move would find nothing, and the file would stay spendable while the coin is out.
            let Ok(file) = std::str::from_utf8(name.to_bytes()) else {
                let reason = "its name is not valid UTF-8, so the wallet cannot move it; rename it";
                return Read::NotACoin { index, reason: reason.to_owned() };
            };
            match read_coin_at(dir, name, buf) {
                Ok(coin) => {
                    let plain = conventional.is_name_of(&coin, file);
                    Read::Coin(Entry::scanned(folder, file, plain, coin, Hold::Free))
                }
                Err(reason) => Read::NotACoin { index, reason },
            }
        })
        .collect()
}

/// Reads the file `name` of the folder `dir`, which should hold exactly one coin. One open, then
/// reads into `buf` (kept from file to file, grown only for a larger file) until the end of the
/// file: no separate look at its size.
fn read_coin_at(dir: BorrowedFd<'_>, name: &CStr, buf: &mut Vec<u8>) -> Result<Coin, String> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty())
        .map_err(|e| io::Error::from(e).to_string())?;
    let limit = usize::try_from(MAX_COIN_FILE_BYTES + 1).unwrap_or(usize::MAX);
    let mut len = 0;
    loop {
        if len == buf.len() {
            if len >= limit {
                break;
            }
            let grown = buf.len().saturating_mul(2).clamp(READ_BUFFER, limit);
            buf.resize(grown, 0);
        }
        let room = buf.len().min(limit);
        match rustix::io::read(&fd, &mut buf[len..room]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(io::Error::from(e).to_string()),
        }
    }
    if len as u64 > MAX_COIN_FILE_BYTES {
        let size = rustix::fs::fstat(&fd).map_or(len as u64, |s| s.st_size.unsigned_abs());
        return Err(format!("{size} bytes is too large for a coin file"));
    }
    one_coin(&buf[..len])
}

/// Tells, without making the name, whether a file name is the conventional name of a coin
/// ([`coin_file_name`]): `{value} CloudCoin #{serial} ''.bin`, whose part before the serial
/// depends on the denomination alone and is made once per denomination here.
#[derive(Debug)]
pub(crate) struct Conventional {
    /// For each denomination code (offset by 128), the name's part before the serial; `None`
    /// where the name of serial 0 does not end as expected (then the name is made and compared).
    before: Vec<Option<String>>,
}

/// What follows the serial in a coin's conventional file name.
const AFTER_SERIAL: &str = " ''.bin";

impl Conventional {
    pub(crate) fn new() -> Conventional {
        let before = (i8::MIN..=i8::MAX)
            .map(|code| {
                let zero = Coin::new(
                    Denomination::from_code(code),
                    SerialNumber::new(0),
                    [[0; 16]; RAIDA_COUNT],
                    [Pown::Untried; RAIDA_COUNT],
                );
                let name = coin_file_name(&zero);
                name.strip_suffix(AFTER_SERIAL).and_then(|n| n.strip_suffix('0')).map(str::to_owned)
            })
            .collect();
        Conventional { before }
    }

    /// Whether `name` is `coin_file_name(coin)`.
    pub(crate) fn is_name_of(&self, coin: &Coin, name: &str) -> bool {
        let code = usize::from(coin.denomination.code().cast_unsigned() ^ 0x80);
        let Some(Some(before)) = self.before.get(code) else {
            return name == coin_file_name(coin);
        };
        name.strip_prefix(before.as_str())
            .and_then(|rest| rest.strip_suffix(AFTER_SERIAL))
            .is_some_and(|digits| is_decimal_of(digits, coin.serial.get()))
    }
}

/// Whether `digits` is exactly how `n` is written in decimal (no sign, no leading zero).
fn is_decimal_of(digits: &str, n: u32) -> bool {
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && digits.parse::<u32>() == Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::coin;
    use std::fs;

    #[test]
    fn a_conventional_name_is_told_exactly_as_the_name_is_made() {
        let conventional = Conventional::new();
        let serials = [0, 1, 7, 9, 10, 99, 100, 12_345, 999_999, 16_777_215, u32::MAX];
        for code in i8::MIN..=i8::MAX {
            for sn in serials {
                let c = coin(code, sn);
                let name = coin_file_name(&c);
                assert!(conventional.is_name_of(&c, &name), "{name}");
                let others = [
                    format!("{name} "),
                    name.replace(&format!("#{sn} "), &format!("#0{sn} ")),
                    name.replace(&format!("#{sn} "), &format!("#+{sn} ")),
                    name.replace(&format!("#{sn} "), &format!("#{} ", u64::from(sn) + 1)),
                    name.replace(&format!("#{sn} "), "# "),
                    name.replace(".bin", ".stack"),
                    name.replace("''", "'x'"),
                    coin_file_name(&coin(code.wrapping_add(1), sn)),
                    format!("x{name}"),
                    name.replace(&format!("#{sn} "), "#4294967296 "),
                ];
                for other in others {
                    assert_eq!(conventional.is_name_of(&c, &other), other == name, "{other}");
                }
            }
        }
        assert!(is_decimal_of("0", 0) && !is_decimal_of("00", 0) && !is_decimal_of("", 0));
        assert!(!is_decimal_of("٣", 3), "only ASCII digits");
    }

    #[test]
    fn the_listing_hands_out_regular_files_and_keeps_the_hidden_names() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let count = BATCH * 2 + 5;
        for i in 0..count {
            let c = coin(0, i as u32);
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&c)).expect("encode");
            fs::write(dir.join(coin_file_name(&c)), bytes).expect("write");
        }
        fs::write(dir.join("notes.txt"), b"hello").expect("write");
        fs::write(dir.join(".a.pickup.partial"), b"temp").expect("write");
        fs::create_dir(dir.join("sub")).expect("mkdir");
        fs::create_dir(dir.join(".hidden dir")).expect("mkdir");
        std::os::unix::fs::symlink("notes.txt", dir.join("link.bin")).expect("symlink");
        let handle = File::open(dir).expect("open");
        for threads in [1, 2, 4] {
            let (mut coins, mut refused) = (0, Vec::new());
            let mut hidden = scan_folder(&handle, Folder::Bank, threads, true, |names, read| {
                for r in read {
                    match r {
                        Read::Coin(e) => {
                            assert!(e.is_conventional(), "{}", e.file());
                            coins += 1;
                        }
                        Read::NotACoin { index, .. } => refused.push(names.name(index).to_owned()),
                    }
                }
            })
            .expect("scan");
            hidden.sort();
            assert_eq!(coins, count, "{threads} threads");
            assert_eq!(refused, vec![OsString::from("notes.txt")]);
            assert_eq!(hidden, vec![OsString::from(".a.pickup.partial"), ".hidden dir".into()]);
            rustix::fs::seek(&handle, rustix::fs::SeekFrom::Start(0)).expect("rewind");
        }
    }

    #[test]
    fn a_file_is_read_to_its_end_and_a_large_one_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let c = coin(1, 5);
        let mut bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&c)).expect("encode");
        fs::write(dir.join("one.bin"), &bytes).expect("write");
        bytes.extend_from_slice(&[0; 20_000]);
        fs::write(dir.join("longer.bin"), &bytes).expect("write");
        fs::write(dir.join("large.bin"), vec![0u8; (MAX_COIN_FILE_BYTES + 10) as usize])
            .expect("write");
        let handle = File::open(dir).expect("open");
        let mut buf = Vec::new();
        let read = |name: &CStr, buf: &mut Vec<u8>| read_coin_at(handle.as_fd(), name, buf);
        assert_eq!(read(c"one.bin", &mut buf).map(|c| c.id()), Ok(c.id()));
        assert!(read(c"longer.bin", &mut buf).is_err(), "a coin and more is no single coin");
        assert_eq!(read(c"one.bin", &mut buf).map(|c| c.id()), Ok(c.id()), "after a larger file");
        let large = read(c"large.bin", &mut buf).expect_err("too large");
        assert_eq!(
            large,
            format!("{} bytes is too large for a coin file", MAX_COIN_FILE_BYTES + 10)
        );
        assert!(read(c"missing.bin", &mut buf).is_err());
    }
}
