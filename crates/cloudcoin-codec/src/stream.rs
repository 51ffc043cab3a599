//! Reading a coin file from a reader one coin at a time, in bounded memory.
//!
//! [`read_each`] accepts exactly what [`crate::decode_any`] accepts and hands over the same coins
//! in the same order, but without holding the file or the whole coin list: a format-9 file is read
//! record by record, a PNG chunk by chunk (its coin chunk record by record, every CRC checked), a
//! zip entry by entry, and a stack element by element. Each record or element is checked by the
//! format's own reader, so both paths refuse the same things. A file in a shape the streaming path
//! does not follow (a stack with keys besides `cloudcoin`, a PNG carrying a stack, a zip inside a
//! zip, any error) is read again from its start with the whole-file reader, which then accepts or
//! refuses it as it always does; coins already handed over are not handed over twice.

use std::collections::HashSet;
use std::io::{self, BufRead, Read, Seek, SeekFrom};

use cloudcoin_domain::{Coin, CoinId};

use crate::bin::{FORMAT_9, HEADER_LEN};
use crate::error::CodecError;
use crate::limits::Limits;
use crate::seek::{seek_inner, seek_target};

/// Size of the read buffer: large enough that reading costs few system calls.
const BUFFER: usize = 256 << 10;

/// Reads every coin of the coin file `r` (any supported format, found by content), calling
/// `each(coin)` once per coin in file order. Returns how many coins there were.
///
/// Accepts and refuses exactly what [`crate::decode_any`] does, with the same error, and yields
/// the same coins; memory stays small and fixed for the files this crate writes, whatever their
/// size (a set of coin ids is kept to refuse repeated coins). When `each` fails, reading stops
/// and its error is returned.
///
/// ```
/// use std::io::Cursor;
/// use cloudcoin_codec::{encode_bin, read_each, Limits};
/// use cloudcoin_domain::{Coin, Denomination, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coins: Vec<Coin> = (1..=3)
///     .map(|sn| {
///         let ans = [[sn as u8; 16]; RAIDA_COUNT];
///         Coin::new(Denomination::from_code(0), SerialNumber::new(sn), ans, [Pown::Untried; RAIDA_COUNT])
///     })
///     .collect();
/// let file = Cursor::new(encode_bin(&coins).unwrap());
/// let mut serials = Vec::new();
/// let count = read_each(file, &Limits::default(), &mut |coin| {
///     serials.push(coin.serial.get());
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!((count, serials), (3, vec![1, 2, 3]));
/// ```
pub fn read_each<R: Read + Seek>(
    mut r: R,
    limits: &Limits,
    each: &mut dyn FnMut(Coin) -> Result<(), CodecError>,
) -> Result<usize, CodecError> {
    let start = r.stream_position()?;
    let mut delivered = 0usize;
    let streamed = {
        let mut sink = Sink { each: &mut *each, delivered: &mut delivered, seen: HashSet::new() };
        let mut reader = SeekBuf::new(&mut r, start);
        stream(&mut reader, limits, &mut sink)
    };
    match streamed {
        Ok(()) => Ok(delivered),
        Err(Stop::Sink(e)) => Err(e),
        Err(Stop::Other) => {
            // Read it all again the usual way: it accepts or refuses the file as it always has.
            r.seek(SeekFrom::Start(start))?;
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes)?;
            let coins = crate::sniff::decode_any(&bytes, limits)?;
            drop(bytes);
            let count = coins.len();
            for coin in coins.into_iter().skip(delivered) {
                each(coin)?;
            }
            Ok(count)
        }
    }
}

/// A buffered reader whose seeks within the buffer keep it (the zip reader seeks to every
/// entry, one after the other; `BufReader` would drop its buffer each time).
struct SeekBuf<R> {
    inner: R,
    buf: Vec<u8>,
    /// Offset in `inner` of `buf[0]`.
    base: u64,
    pos: usize,
    filled: usize,
}

impl<R: Read + Seek> SeekBuf<R> {
    fn new(inner: R, at: u64) -> SeekBuf<R> {
        SeekBuf { inner, buf: vec![0; BUFFER], base: at, pos: 0, filled: 0 }
    }
}

impl<R: Read + Seek> Read for SeekBuf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read + Seek> BufRead for SeekBuf<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            self.base += self.filled as u64;
            self.pos = 0;
            self.filled = self.inner.read(&mut self.buf)?;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
    }
}

impl<R: Read + Seek> Seek for SeekBuf<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = seek_target(self.base + self.pos as u64, to);
        if let Some(t) = target
            && t >= self.base
            && t <= self.base + self.filled as u64
        {
            self.pos = usize::try_from(t - self.base).expect("within the buffer");
            return Ok(t);
        }
        // Outside the buffer: the inner reader's position is base + filled.
        let at = seek_inner(&mut self.inner, to, target)?;
        self.base = at;
        self.pos = 0;
        self.filled = 0;
        Ok(at)
    }
}

/// Why the streaming path stopped.
enum Stop {
    /// The caller's function failed: that is the answer.
    Sink(CodecError),
    /// Anything else: the whole-file reader decides.
    Other,
}

impl From<io::Error> for Stop {
    fn from(_: io::Error) -> Stop {
        Stop::Other
    }
}

impl From<CodecError> for Stop {
    fn from(_: CodecError) -> Stop {
        Stop::Other
    }
}

/// Hands coins to the caller, refusing a coin seen before (as every reader does).
struct Sink<'a> {
    each: &'a mut dyn FnMut(Coin) -> Result<(), CodecError>,
    delivered: &'a mut usize,
    seen: HashSet<CoinId>,
}

impl Sink<'_> {
    fn coin(&mut self, coin: Coin) -> Result<(), Stop> {
        if !self.seen.insert(coin.id()) {
            return Err(Stop::Other);
        }
        (self.each)(coin).map_err(Stop::Sink)?;
        *self.delivered += 1;
        Ok(())
    }
}

fn stream<R: BufRead + Seek>(r: &mut R, limits: &Limits, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let head = r.fill_buf()?;
    if head.starts_with(crate::png_file::PNG_SIGNATURE) {
        png(r, sink)
    } else if head.starts_with(b"PK\x03\x04") {
        // Without zip support the whole-file reader says so.
        #[cfg(not(feature = "zip"))]
        return {
            let _ = limits;
            Err(Stop::Other)
        };
        #[cfg(feature = "zip")]
        zip(r, limits, sink)
    } else if head.first() == Some(&FORMAT_9) {
        bin(r, sink)?;
        at_end(r)
    } else if crate::stack::looks_like_json(head) {
        stack(r, sink)
    } else {
        Err(Stop::Other)
    }
}

/// Succeeds only if nothing is left to read.
fn at_end<R: BufRead>(r: &mut R) -> Result<(), Stop> {
    if r.fill_buf()?.is_empty() { Ok(()) } else { Err(Stop::Other) }
}

/// A format-9 file: the header, then each record checked by the format-9 reader as a one-coin
/// file with the same header (so the POWN rule and every header check are the reader's own).
fn bin<R: Read>(r: &mut R, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let mut header = [0u8; HEADER_LEN];
    r.read_exact(&mut header)?;
    // The header checks, on an empty file with this header.
    let mut empty = header;
    empty[6..8].copy_from_slice(&0u16.to_be_bytes());
    crate::bin::decode_bin(&empty)?;
    let count = usize::from(u16::from_be_bytes([header[6], header[7]]));
    let record_len = match header[15] {
        0 => crate::bin::RECORD_LEN,
        _ => crate::bin::RECORD_LEN + cloudcoin_domain::RAIDA_COUNT * 16,
    };
    let mut one = vec![0u8; HEADER_LEN + record_len];
    one[..HEADER_LEN].copy_from_slice(&header);
    one[6..8].copy_from_slice(&1u16.to_be_bytes());
    for _ in 0..count {
        r.read_exact(&mut one[HEADER_LEN..])?;
        let mut coins = crate::bin::decode_bin(&one)?;
        let coin = coins.pop().ok_or(Stop::Other)?;
        sink.coin(if count == 1 { coin } else { untried(coin) })?;
    }
    Ok(())
}

/// The coin as a several-coin file reads it: no POWN.
fn untried(mut coin: Coin) -> Coin {
    coin.pown = [cloudcoin_domain::Pown::Untried; cloudcoin_domain::RAIDA_COUNT];
    coin
}

/// A PNG: every chunk's CRC checked up to IEND; the first `cLDc` chunk read as format 9 while its
/// CRC is computed.
fn png<R: Read>(r: &mut R, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let mut signature = [0u8; 8];
    r.read_exact(&mut signature)?;
    let mut found = false;
    loop {
        let mut head = [0u8; 8];
        r.read_exact(&mut head)?;
        let len = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = [head[4], head[5], head[6], head[7]];
        let mut data =
            Crc32Reader { inner: (&mut *r).take(len), crc: crate::png_file::crc_update(!0, &kind) };
        if &kind == b"cLDc" && !found {
            found = true;
            let mut first = [0u8; 1];
            let peeked = data.read(&mut first)?;
            if peeked == 0 || first[0] != FORMAT_9 {
                return Err(Stop::Other); // an empty or stack payload: the whole-file reader
            }
            let mut payload = (&first[..]).chain(&mut data);
            bin(&mut payload, sink)?;
            if data.inner.limit() != 0 {
                return Err(Stop::Other); // bytes after the last record
            }
        }
        io::copy(&mut data, &mut io::sink())?;
        if data.inner.limit() != 0 {
            return Err(Stop::Other);
        }
        let crc = !data.crc;
        let mut stored = [0u8; 4];
        r.read_exact(&mut stored)?;
        if u32::from_be_bytes(stored) != crc {
            return Err(Stop::Other);
        }
        if &kind == b"IEND" {
            return if found { Ok(()) } else { Err(Stop::Other) };
        }
    }
}

/// A reader that computes the PNG CRC-32 of what passes through it.
struct Crc32Reader<R> {
    inner: io::Take<R>,
    crc: u32,
}

impl<R: Read> Read for Crc32Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc = crate::png_file::crc_update(self.crc, &buf[..n]);
        Ok(n)
    }
}

/// A zip: entry by entry within `limits`, each entry read by the reader of its format. An entry
/// that is itself a zip is left to the whole-file reader.
#[cfg(feature = "zip")]
fn zip<R: Read + Seek>(r: &mut R, limits: &Limits, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let start = r.stream_position()?;
    if start == 0 && plain_zip(r, limits, sink)? {
        return Ok(());
    }
    r.seek(SeekFrom::Start(start))?;
    let mut archive = zip::ZipArchive::new(r).map_err(|_| Stop::Other)?;
    if archive.len() > limits.max_entries {
        return Err(Stop::Other);
    }
    let (mut entries, mut total) = (0usize, 0u64);
    let mut data = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|_| Stop::Other)?;
        let name = String::from_utf8_lossy(file.name_raw()).into_owned();
        if file.is_dir()
            || name.starts_with("__MACOSX/")
            || name.rsplit('/').next() == Some(".DS_Store")
        {
            continue;
        }
        entries += 1;
        let declared = file.size();
        if entries > limits.max_entries
            || declared > limits.max_entry_bytes
            || declared > limits.max_total_bytes.saturating_sub(total)
        {
            return Err(Stop::Other);
        }
        data.clear();
        (&mut file).take(declared.saturating_add(1)).read_to_end(&mut data)?;
        let actual = data.len() as u64;
        if actual != declared {
            return Err(Stop::Other);
        }
        total += actual;
        drop(file);
        if data.starts_with(b"PK") {
            return Err(Stop::Other); // a nested archive
        }
        for coin in crate::sniff::decode_any(&data, limits)? {
            sink.coin(coin)?;
        }
    }
    Ok(())
}

/// Most bytes of a zip's central directory [`plain_zip`] holds at a time.
#[cfg(feature = "zip")]
const DIRECTORY_PART: usize = 1 << 20;

/// A zip as [`crate::write_zip`] writes up to 65,535 coins, read without holding its central
/// directory (the `zip` crate's reader keeps every entry of it, about 260 bytes a coin): the
/// directory is read a part at a time and each of its entries checked against its local header
/// and its bytes (stored, CRC) before the entry's coins are handed over, in the directory's
/// order. Only the layout `write_zip` writes is followed: no comment, no zip64 records (65,535
/// entries, the count's largest value, are read as that count when none follow), entries back to
/// back from the start of the file, each a stored regular file of version 1.0 made by Unix, with
/// no flags but the UTF-8 name, no extra field and no comment, none a folder or an archiver's
/// litter, the directory right after the last entry.
/// Returns `false`, having handed over nothing, when the end record is not of that layout; stops
/// with [`Stop::Other`] when an entry is not, so the `zip` crate's reader decides on the file as
/// it always has (the entries handed over by then are those it reads first).
#[cfg(feature = "zip")]
fn plain_zip<R: Read + Seek>(
    r: &mut R,
    limits: &Limits,
    sink: &mut Sink<'_>,
) -> Result<bool, Stop> {
    const END_LEN: u64 = 22;
    const LOCAL_LEN: usize = 30;
    const CENTRAL_LEN: usize = 46;
    // As `write_zip` writes them: version 1.0, made by Unix, a regular file of mode 0644.
    const VERSION: u16 = 10;
    const MADE_BY: u16 = (3 << 8) | VERSION;
    const REGULAR_0644: u32 = 0o100_644 << 16;
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let len = r.seek(SeekFrom::End(0))?;
    if len < END_LEN + 20 {
        return Ok(false);
    }
    // The end record, and the 20 bytes before it: where a zip64 locator would be.
    let mut end = [0u8; 20 + END_LEN as usize];
    r.seek(SeekFrom::Start(len - end.len() as u64))?;
    r.read_exact(&mut end)?;
    let (locator, end) = end.split_at(20);
    let entries = u16_at(end, 10);
    let (directory_len, directory_at) = (u64::from(u32_at(end, 12)), u64::from(u32_at(end, 16)));
    let plain = u32_at(end, 0) == 0x0605_4b50
        && u32_at(locator, 0) != 0x0706_4b50
        && u16_at(end, 4) == 0
        && u16_at(end, 6) == 0
        && u16_at(end, 8) == entries
        && u16_at(end, 20) == 0
        && directory_at.checked_add(directory_len) == Some(len - END_LEN);
    if !plain {
        return Ok(false);
    }
    if usize::from(entries) > limits.max_entries {
        return Err(Stop::Other);
    }
    let (mut local_at, mut directory_read, mut total) = (0u64, 0u64, 0u64);
    let (mut part, mut data, mut header) = (Vec::new(), Vec::new(), Vec::new());
    let mut used = 0usize;
    for _ in 0..entries {
        // The next central entry: whole in `part`, else the next part of the directory is read.
        let whole_in_part = |part: &[u8], used: usize| {
            part.len() >= used + CENTRAL_LEN
                && part.len() >= used + CENTRAL_LEN + usize::from(u16_at(part, used + 28))
        };
        if !whole_in_part(&part, used) {
            let left = directory_len - directory_read;
            let step = left.min(DIRECTORY_PART as u64);
            part.drain(..used);
            used = 0;
            let kept = part.len();
            part.resize(kept + usize::try_from(step).map_err(|_| Stop::Other)?, 0);
            r.seek(SeekFrom::Start(directory_at + directory_read))?;
            r.read_exact(&mut part[kept..])?;
            directory_read += step;
            if !whole_in_part(&part, used) {
                return Err(Stop::Other);
            }
        }
        let c = &part[used..];
        let flags = u16_at(c, 8);
        let (crc, size) = (u32_at(c, 16), u32_at(c, 20));
        let name_len = usize::from(u16_at(c, 28));
        let name = &c[CENTRAL_LEN..CENTRAL_LEN + name_len];
        let name_text = String::from_utf8_lossy(name);
        let entry_plain = u32_at(c, 0) == 0x0201_4b50
            && u16_at(c, 4) == MADE_BY
            && u16_at(c, 6) == VERSION
            && u32_at(c, 38) == REGULAR_0644
            && flags & !(1 << 11) == 0
            && u16_at(c, 10) == 0
            && u32_at(c, 24) == size
            && u16_at(c, 30) == 0
            && u16_at(c, 32) == 0
            && u16_at(c, 34) == 0
            && u64::from(u32_at(c, 42)) == local_at
            && !name.ends_with(b"/")
            && !name.ends_with(b"\\")
            && !name_text.starts_with("__MACOSX/")
            && name_text.rsplit('/').next() != Some(".DS_Store");
        if !entry_plain {
            return Err(Stop::Other);
        }
        let declared = u64::from(size);
        if declared > limits.max_entry_bytes
            || declared > limits.max_total_bytes.saturating_sub(total)
        {
            return Err(Stop::Other);
        }
        // Its local header says the same, and its bytes are what the directory says.
        header.resize(LOCAL_LEN + name_len, 0);
        r.seek(SeekFrom::Start(local_at))?;
        r.read_exact(&mut header)?;
        let local_plain = u32_at(&header, 0) == 0x0403_4b50
            && u16_at(&header, 4) == VERSION
            && u16_at(&header, 6) == flags
            && u16_at(&header, 8) == 0
            && u32_at(&header, 14) == crc
            && u32_at(&header, 18) == size
            && u32_at(&header, 22) == size
            && usize::from(u16_at(&header, 26)) == name_len
            && u16_at(&header, 28) == 0
            && &header[LOCAL_LEN..] == name;
        if !local_plain {
            return Err(Stop::Other);
        }
        data.resize(usize::try_from(declared).map_err(|_| Stop::Other)?, 0);
        r.read_exact(&mut data)?;
        if crc32fast::hash(&data) != crc || data.starts_with(b"PK") {
            return Err(Stop::Other); // a damaged entry, or a nested archive
        }
        total += declared;
        local_at += (LOCAL_LEN + name_len) as u64 + declared;
        used += CENTRAL_LEN + name_len;
        for coin in crate::sniff::decode_any(&data, limits)? {
            sink.coin(coin)?;
        }
    }
    if local_at != directory_at || used != part.len() || directory_read != directory_len {
        return Err(Stop::Other);
    }
    Ok(true)
}

/// A stack in the shape `{"cloudcoin":[ … ]}` (byte order mark and white space allowed): each
/// element found by matching braces outside strings, then read by the stack reader.
fn stack<R: BufRead>(r: &mut R, sink: &mut Sink<'_>) -> Result<(), Stop> {
    let mut scan = Scanner { r };
    scan.skip_bom()?;
    scan.expect_after_space(b"{")?;
    scan.expect_after_space(b"\"cloudcoin\"")?;
    scan.expect_after_space(b":")?;
    scan.expect_after_space(b"[")?;
    let mut element = Vec::with_capacity(2048);
    let mut wrapped = Vec::with_capacity(2048);
    if scan.next_non_space()? == Some(b']') {
        scan.bump()?;
    } else {
        loop {
            if scan.next_non_space()? != Some(b'{') {
                return Err(Stop::Other);
            }
            // A coin as this crate writes it, whole in the buffer, is read where it lies: the
            // line reader accepts only digits, hex digits and POWN letters inside its strings, so
            // the coin it reads ends at the brace that `object` would match.
            let buf = scan.r.fill_buf()?;
            let straight = crate::stack::read_coin_line(buf)
                .map(|(coin, rest)| (coin, buf.len() - rest.len()));
            if let Some((coin, used)) = straight {
                scan.r.consume(used);
                sink.coin(coin)?;
                match scan.bump_non_space()? {
                    Some(b',') => continue,
                    Some(b']') => break,
                    _ => return Err(Stop::Other),
                }
            }
            element.clear();
            scan.object(&mut element)?;
            // A coin as this crate writes it is read straight; any other by the stack reader.
            if let Some((coin, [])) = crate::stack::read_coin_line(&element) {
                sink.coin(coin)?;
                match scan.bump_non_space()? {
                    Some(b',') => continue,
                    Some(b']') => break,
                    _ => return Err(Stop::Other),
                }
            }
            wrapped.clear();
            wrapped.extend_from_slice(b"{\"cloudcoin\":[");
            wrapped.extend_from_slice(&element);
            wrapped.extend_from_slice(b"]}");
            let mut coins = crate::stack::decode_stack(&wrapped)?;
            sink.coin(coins.pop().ok_or(Stop::Other)?)?;
            match scan.bump_non_space()? {
                Some(b',') => {}
                Some(b']') => break,
                _ => return Err(Stop::Other),
            }
        }
    }
    scan.expect_after_space(b"}")?;
    match scan.next_non_space()? {
        None => Ok(()),
        Some(_) => Err(Stop::Other),
    }
}

/// Byte-wise reading over a buffered reader, with one byte of push-back.
struct Scanner<'a, R> {
    r: &'a mut R,
}

impl<R: BufRead> Scanner<'_, R> {
    fn peek(&mut self) -> Result<Option<u8>, Stop> {
        Ok(self.r.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> Result<Option<u8>, Stop> {
        let b = self.peek()?;
        if b.is_some() {
            self.r.consume(1);
        }
        Ok(b)
    }

    /// The next byte that is not JSON white space, consumed.
    fn bump_non_space(&mut self) -> Result<Option<u8>, Stop> {
        self.next_non_space()?;
        self.bump()
    }

    fn skip_bom(&mut self) -> Result<(), Stop> {
        let head = self.r.fill_buf()?;
        if head.starts_with(crate::stack::UTF8_BOM) {
            self.r.consume(crate::stack::UTF8_BOM.len());
        }
        Ok(())
    }

    /// The next byte that is not JSON white space, left unread.
    fn next_non_space(&mut self) -> Result<Option<u8>, Stop> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.r.consume(1),
                other => return Ok(other),
            }
        }
    }

    /// Skips white space, then consumes exactly `text`.
    fn expect_after_space(&mut self, text: &[u8]) -> Result<(), Stop> {
        self.next_non_space()?;
        for &want in text {
            if self.bump()? != Some(want) {
                return Err(Stop::Other);
            }
        }
        Ok(())
    }

    /// Consumes one JSON object (the next byte must be `{`) into `out`, braces matched outside
    /// strings. Its content is checked by the stack reader afterwards.
    fn object(&mut self, out: &mut Vec<u8>) -> Result<(), Stop> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Err(Stop::Other);
            }
            let mut used = 0;
            let mut done = false;
            for &b in buf {
                used += 1;
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1).ok_or(Stop::Other)?;
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            out.extend_from_slice(&buf[..used]);
            self.r.consume(used);
            if done {
                return if out.first() == Some(&b'{') { Ok(()) } else { Err(Stop::Other) };
            }
            if out.len() > 1 << 20 {
                return Err(Stop::Other); // no coin is that long: let the whole-file reader say why
            }
        }
    }
}

// The tests stream files of every kind, zips and png pages included.
#[cfg(all(test, feature = "png", feature = "zip"))]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};
    use std::io::Cursor;

    fn coin(code: i8, sn: u32) -> Coin {
        let ans = [[sn as u8 ^ 0x5A; 16]; RAIDA_COUNT];
        Coin::new(
            Denomination::from_code(code),
            SerialNumber::new(sn),
            ans,
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    fn streamed(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
        let mut coins = Vec::new();
        read_each(Cursor::new(bytes), &Limits::default(), &mut |c| {
            coins.push(c);
            Ok(())
        })
        .map(|n| {
            assert_eq!(n, coins.len());
            coins
        })
    }

    /// A zip as `write_zip` writes it is read by `plain_zip` itself (not the `zip` crate's
    /// reader, which holds the whole directory), with the coins in their order; the same
    /// archive with a comment is left to the `zip` crate, having handed nothing over.
    #[test]
    fn a_zip_as_written_here_is_read_without_the_zip_crate() {
        let coins: Vec<Coin> = (0..300).map(|i| coin(i as i8 % 7 - 3, 1000 + i)).collect();
        let mut out = Cursor::new(Vec::new());
        crate::write_zip(&mut out, &coins, &crate::WriteOptions::new()).expect("write");
        let mut bytes = out.into_inner();
        let read = |bytes: &[u8]| {
            let (mut got, mut delivered) = (Vec::new(), 0);
            let mut each = |c: Coin| {
                got.push(c);
                Ok(())
            };
            let mut sink =
                Sink { each: &mut each, delivered: &mut delivered, seen: HashSet::new() };
            let plain = plain_zip(&mut Cursor::new(bytes), &Limits::default(), &mut sink);
            (plain.ok(), got)
        };
        assert_eq!(read(&bytes), (Some(true), coins.clone()));
        // A comment on the archive: not the layout written here.
        let n = bytes.len();
        bytes[n - 2] = 3;
        bytes.extend_from_slice(b"abc");
        assert_eq!(read(&bytes), (Some(false), Vec::new()));
        assert_eq!(streamed(&bytes).expect("the zip crate reads it"), coins);
    }

    /// Every file kind, with every prefix of it and with one byte changed at many places: the
    /// streaming reader gives the coins or the error the whole-file reader gives.
    #[test]
    fn agrees_with_the_whole_file_reader() {
        let coins: Vec<Coin> = (0..40).map(|i| coin(i as i8 % 7 - 3, 1000 + i)).collect();
        let options = crate::WriteOptions::new().with_date("2026-12-01");
        for set in [&coins[..], &coins[..1], &[]] {
            for kind in cloudcoin_domain::FileKind::ALL {
                let mut out = Cursor::new(Vec::new());
                match kind {
                    cloudcoin_domain::FileKind::Zip => crate::write_zip(&mut out, set, &options),
                    _ => crate::write_coins(&mut out, kind, set, &options),
                }
                .expect("write");
                let bytes = out.into_inner();
                let same = |bytes: &[u8]| {
                    let whole = crate::decode_any(bytes, &Limits::default());
                    let streamed = streamed(bytes);
                    match (&whole, &streamed) {
                        (Ok(a), Ok(b)) => assert_eq!(a, b, "{kind:?}"),
                        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{kind:?}"),
                        _ => panic!("{kind:?}: {whole:?} against {streamed:?}"),
                    }
                };
                same(&bytes);
                let step = (bytes.len() / 300).max(1);
                for cut in (0..bytes.len()).step_by(step) {
                    same(&bytes[..cut]);
                    let mut changed = bytes.clone();
                    changed[cut] ^= 0x41;
                    same(&changed);
                }
                let mut longer = bytes.clone();
                longer.extend_from_slice(b" x");
                same(&longer);
            }
        }
    }

    /// A zip as `write_zip` writes it with each of its bytes changed in turn, two ways (every
    /// header field, name and CRC included): the streaming reader, which reads that layout
    /// itself, gives the coins or the error the whole-file reader (the `zip` crate) gives.
    #[test]
    fn a_zip_changed_at_any_byte_reads_as_the_zip_crate_reads_it() {
        let coins: Vec<Coin> = (0..3).map(|i| coin(i as i8 - 1, 70_000 + i)).collect();
        let mut out = Cursor::new(Vec::new());
        crate::write_zip(&mut out, &coins, &crate::WriteOptions::new()).expect("write");
        let bytes = out.into_inner();
        for at in 0..bytes.len() {
            for flip in [0x01, 0x80] {
                let mut changed = bytes.clone();
                changed[at] ^= flip;
                let whole = crate::decode_any(&changed, &Limits::default());
                match (whole, streamed(&changed)) {
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "byte {at} ^ {flip:#x}"),
                    (Err(a), Err(b)) => {
                        assert_eq!(a.to_string(), b.to_string(), "byte {at} ^ {flip:#x}")
                    }
                    (a, b) => panic!("byte {at} ^ {flip:#x}: whole {a:?}, streamed {b:?}"),
                }
            }
        }
    }

    /// A file that hands out at most `piece` bytes per read, so coin lines cross the reader's
    /// buffer at every place.
    struct Pieces {
        inner: Cursor<Vec<u8>>,
        piece: usize,
    }

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.piece);
            self.inner.read(&mut out[..n])
        }
    }

    impl Seek for Pieces {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.inner.seek(to)
        }
    }

    #[test]
    fn a_stack_larger_than_the_buffer_or_read_in_pieces_reads_the_same() {
        let coins: Vec<Coin> = (0..700).map(|i| coin(i as i8 % 7 - 3, 50_000 + i)).collect();
        let mut bytes = Vec::new();
        crate::stack::write_stack(&mut bytes, &coins).expect("stack");
        assert!(bytes.len() > 2 * BUFFER, "{} bytes", bytes.len());
        for piece in [usize::MAX, 1, 333, 951, 4096] {
            let mut got = Vec::new();
            let file = Pieces { inner: Cursor::new(bytes.clone()), piece };
            let n = read_each(file, &Limits::default(), &mut |c| {
                got.push(c);
                Ok(())
            })
            .expect("read");
            assert_eq!((n, &got), (coins.len(), &coins), "pieces of {piece}");
        }
        // A byte changed around the buffer's end, or the file cut there: the whole-file answer.
        for at in [BUFFER - 3, BUFFER, BUFFER + 500, 2 * BUFFER + 17] {
            let mut changed = bytes.clone();
            changed[at] ^= 0x41;
            let whole = crate::decode_any(&changed, &Limits::default()).map_err(|e| e.to_string());
            assert_eq!(streamed(&changed).map_err(|e| e.to_string()), whole, "changed at {at}");
            let whole =
                crate::decode_any(&bytes[..at], &Limits::default()).map_err(|e| e.to_string());
            assert_eq!(streamed(&bytes[..at]).map_err(|e| e.to_string()), whole, "cut at {at}");
        }
    }

    #[test]
    fn a_repeated_coin_is_refused() {
        let mut stack = Vec::new();
        crate::stack::write_stack(&mut stack, &[coin(0, 1)]).expect("stack");
        let text = String::from_utf8(stack).expect("utf-8");
        let one = text.lines().nth(1).expect("the coin line");
        let twice = format!("{{\"cloudcoin\":[{one},{one}]}}");
        assert!(matches!(streamed(twice.as_bytes()), Err(CodecError::DuplicateCoin { .. })));
    }

    #[test]
    fn crc_matches_the_whole_file_crc() {
        let data = b"IEND and then some bytes";
        assert_eq!(!crate::png_file::crc_update(!0, data), crate::png_file::crc32(data));
        let split =
            !crate::png_file::crc_update(crate::png_file::crc_update(!0, &data[..5]), &data[5..]);
        assert_eq!(split, crate::png_file::crc32(data));
    }

    #[test]
    fn a_sink_error_is_returned_as_it_is() {
        let bytes = crate::bin::encode_bin(&[coin(0, 1), coin(0, 2)]).expect("encode");
        let mut calls = 0;
        let e = read_each(Cursor::new(bytes), &Limits::default(), &mut |_| {
            calls += 1;
            Err(CodecError::TooManyCoins { count: 7 })
        })
        .expect_err("the sink failed");
        assert!(matches!(e, CodecError::TooManyCoins { count: 7 }));
        assert_eq!(calls, 1);
    }

    #[test]
    fn unusual_stacks_fall_back_and_read_the_same() {
        let an = format!("\"{}\"", "ab".repeat(16));
        let ans = vec![an; 25].join(",");
        let other_key = format!(
            "{{\"x\":[1,{{}}],\"cloudcoin\":[{{\"nn\":6,\"sn\":\"4\",\"dn\":0,\"an\":[{ans}]}}]}}"
        );
        assert_eq!(
            streamed(other_key.as_bytes()).expect("read"),
            crate::decode_stack(other_key.as_bytes()).expect("read")
        );
        let braces_in_strings = format!(
            "\u{feff}{{ \"cloudcoin\" : [ {{\"nn\":6,\"sn\":\"5\",\"dn\":0,\"note\":\"}}{{\\\"\",\"an\":[{ans}]}} ] }}\n"
        );
        let coins = streamed(braces_in_strings.as_bytes()).expect("read");
        assert_eq!(coins.len(), 1);
        assert_eq!(coins, crate::decode_stack(braces_in_strings.as_bytes()).expect("read"));
    }
}
