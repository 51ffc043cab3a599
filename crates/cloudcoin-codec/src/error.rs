//! The codec's one error type, and the opaque wrapper for errors of the libraries it uses.

use std::fmt;

use cloudcoin_domain::{CoinError, CoinId, FileKind};

/// Why bytes could not be read as coins, or coins could not be written.
///
/// The enum is `#[non_exhaustive]`: new formats and checks add variants, so a `match` on it needs
/// a wildcard arm. No variant carries a type of the libraries the codec uses (JSON, PNG, zip);
/// where one of them failed, the variant holds a [`LibraryError`], readable through
/// [`Display`](std::fmt::Display) and [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The data ends before the layout says it should.
    #[error("file is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the layout needs.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// A format-9 file is longer than its coin count allows.
    #[error("coin count {count} does not match the file length {len}")]
    CountMismatch {
        /// The coin count in the header.
        count: usize,
        /// The file length in bytes.
        len: usize,
    },
    /// The first byte names a file format other than format 9.
    #[error("unknown coin file format {found}; only format 9 is supported")]
    UnknownFormat {
        /// The format byte found.
        found: u8,
    },
    /// The coin id is not CloudCoin's (6).
    #[error("coin id {found} is not cloudcoin (6)")]
    WrongCoinId {
        /// The coin id found.
        found: u16,
    },
    /// The file is encrypted; encrypted coin files are not supported.
    #[error("the file is encrypted (type {kind}); decrypt it with the software that wrote it")]
    Encrypted {
        /// The encryption type byte.
        kind: u8,
    },
    /// The state flag is neither 0 (no PANs) nor 1 (PANs follow each record).
    #[error("unknown state flag {found} in the file header")]
    StateFlag {
        /// The flag found.
        found: u8,
    },
    /// The same coin (denomination and serial number) appears twice.
    #[error("coin {id} appears more than once")]
    DuplicateCoin {
        /// The repeated coin.
        id: CoinId,
    },
    /// A coin record or stack entry is malformed.
    #[error("coin {index} is malformed: {reason}")]
    BadRecord {
        /// The coin's position in the file, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A legacy (v1) stack coin without a denomination.
    #[error("coin {sn} is a legacy coin without a denomination; upgrade it to a v3 coin first")]
    LegacyCoin {
        /// The serial number as written in the stack when it is a number, else `#` and the coin's
        /// position in the file (other text is never quoted).
        sn: String,
    },
    /// An authenticity number that is not 32 hex digits.
    #[error("coin {coin}, an {index}: {reason}")]
    BadAn {
        /// The coin's position in the file, from 0.
        coin: usize,
        /// The AN's position, from 0.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A stack coin without exactly 25 authenticity numbers.
    #[error("a coin has {found} authenticity numbers; it needs 25")]
    AnCount {
        /// ANs found.
        found: usize,
    },
    /// A stack coin whose POWN string is not 25 POWN letters.
    #[error("coin {coin} has a bad pown string")]
    BadPown {
        /// The coin's position in the file, from 0.
        coin: usize,
        /// What is wrong with it.
        #[source]
        source: CoinError,
    },
    /// The stack is not valid JSON of the stack shape (`{"cloudcoin":[…]}`).
    #[error("invalid stack json at line {line}, column {column}")]
    Json {
        /// The line where reading stopped, from 1 (0 when the JSON ended early).
        line: usize,
        /// The column where reading stopped, from 1 (0 when the JSON ended early).
        column: usize,
        /// What the JSON reader said.
        #[source]
        source: LibraryError,
    },
    /// A PNG chunk whose CRC does not match its contents.
    #[error("png chunk {chunk} has a bad crc")]
    PngCrc {
        /// The chunk type.
        chunk: String,
    },
    /// A PNG without a `cLDc` chunk.
    #[error("the png holds no coins (no cLDc chunk)")]
    NoCoinChunk,
    /// The data does not start with the PNG signature.
    #[error("not a png file")]
    NotPng,
    /// A picture (PNG or JPEG) that cannot be decoded.
    #[error("cannot decode the picture: {reason}")]
    Picture {
        /// What the image decoder said.
        reason: String,
    },
    /// A PDF that cannot be read.
    #[error("cannot read the pdf: {reason}")]
    Pdf {
        /// What the PDF reader said.
        reason: String,
    },
    /// More coins than a printed paper wallet may hold.
    #[error(
        "{count} coins are more than a paper wallet may hold ({max} coins, 126 printed \
         pages: 3 coins on the first page, 4 on each page after it); export them as several \
         smaller pdf files, or as a png, bin or zip file"
    )]
    TooManyForPaper {
        /// The number of coins asked for.
        count: usize,
        /// The most a paper wallet holds.
        max: usize,
    },
    /// The QR codes of a paper wallet do not give its coins.
    #[error(transparent)]
    Paper(#[from] crate::paper_error::PaperError),
    /// The PNG encoder failed for a reason other than writing (an i/o failure is [`CodecError::Io`]).
    #[error("cannot encode the png")]
    PngEncode {
        /// What the PNG encoder said.
        #[source]
        source: LibraryError,
    },
    /// A zip entry that is not a coin file.
    #[error("zip entry {name:?} is not a coin file: {reason}")]
    ZipEntryNotCoin {
        /// The entry's name.
        name: String,
        /// What it looked like.
        reason: String,
    },
    /// A zip entry that is a coin file but cannot be read.
    #[error("zip entry {name:?}")]
    ZipEntry {
        /// The entry's name.
        name: String,
        /// Why it cannot be read.
        #[source]
        source: Box<CodecError>,
    },
    /// A picture with more pixels, or a longer side, than a picture that is read may have.
    #[error(
        "the picture is {width} × {height} pixels ({} in all); a picture that is read may have at most {max_pixels} pixels and sides of at most {max_side}: scan the page at 300 to 600 dpi",
        u64::from(*width) * u64::from(*height)
    )]
    PictureTooLarge {
        /// Its width in pixels.
        width: u32,
        /// Its height in pixels.
        height: u32,
        /// The most pixels a picture may have.
        max_pixels: u64,
        /// The longest side a picture may have.
        max_side: u32,
    },
    /// Something exceeds a size or count limit.
    #[error("{what} exceeds the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// Zip archives nested deeper than allowed.
    #[error("zip archives are nested deeper than {limit} levels")]
    TooDeep {
        /// The deepest nesting allowed.
        limit: u8,
    },
    /// The zip archive is malformed or uses an unsupported feature (encryption, a compression
    /// method other than stored or deflate, …).
    #[error("cannot read the zip archive")]
    Zip {
        /// What the zip reader said.
        #[source]
        source: LibraryError,
    },
    /// The zip writer failed for a reason other than writing (an i/o failure is
    /// [`CodecError::Io`]).
    #[error("cannot write the zip archive")]
    ZipWrite {
        /// What the zip writer said.
        #[source]
        source: LibraryError,
    },
    /// The file needs a part of the codec this build left out (a cargo feature of
    /// `cloudcoin-codec`).
    #[error("{what} is not built into this program (the codec's feature {feature:?})")]
    NotBuiltIn {
        /// What was asked.
        what: &'static str,
        /// The cargo feature that brings it.
        feature: &'static str,
    },
    /// Reading or writing failed.
    #[error("i/o error")]
    Io(#[from] std::io::Error),
    /// The bytes are none of the coin file formats.
    #[error("not a coin file: {looked_like}")]
    NotACoinFile {
        /// A short description of what the bytes look like.
        looked_like: String,
    },
    /// A coin with PANs was to be written in a format that cannot carry them (a stack). Writing it
    /// without them could lose the coin's only live keys, so it is refused.
    #[error(
        "coin {id} carries PANs (pending authenticity numbers), which a stack file cannot hold; write it as bin, png or zip"
    )]
    PansNotCarried {
        /// The coin.
        id: CoinId,
    },
    /// [`write_coins`](crate::write_coins) was asked for a kind it cannot write to a plain
    /// [`std::io::Write`]: a zip archive, whose writer goes back to fill in each entry's header
    /// and so needs [`std::io::Seek`]. Nothing was written; use [`write_zip`](crate::write_zip)
    /// with a file or a [`std::io::Cursor`].
    #[error(
        "a {kind} file cannot be written to a stream that cannot seek; write it with write_zip to a file or a cursor"
    )]
    NeedsSeek {
        /// The kind asked for.
        kind: FileKind,
    },
    /// More coins than one file of this kind can hold.
    #[error("{count} coins do not fit in one file; the most is 65535")]
    TooManyCoins {
        /// The number of coins.
        count: usize,
    },
}

/// An error reported by one of the libraries the codec uses (the JSON, PNG or zip library),
/// behind a type of our own so that a new major version of such a library changes nothing in the
/// codec's API.
///
/// It displays that library's message; [`std::error::Error::source`] continues with that error's
/// own cause, if any.
pub struct LibraryError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl LibraryError {
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> LibraryError {
        LibraryError(Box::new(e))
    }
}

impl fmt::Debug for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for LibraryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for LibraryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl CodecError {
    /// A JSON reading error, with where it happened.
    pub(crate) fn json(e: serde_json::Error) -> CodecError {
        CodecError::Json { line: e.line(), column: e.column(), source: LibraryError::new(e) }
    }

    /// A zip reading error. Archives are read from memory, so even the zip library's i/o
    /// errors mean a malformed archive (data ending early), not a failing device.
    #[cfg(feature = "zip")]
    pub(crate) fn zip_read(e: zip::result::ZipError) -> CodecError {
        CodecError::Zip { source: LibraryError::new(e) }
    }

    /// A zip writing error; an i/o failure stays an i/o failure.
    #[cfg(feature = "zip")]
    pub(crate) fn zip_write(e: zip::result::ZipError) -> CodecError {
        match e {
            zip::result::ZipError::Io(io) => CodecError::Io(io),
            other => CodecError::ZipWrite { source: LibraryError::new(other) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_can_cross_threads() {
        fn is_send_sync<T: Send + Sync + 'static>() {}
        is_send_sync::<CodecError>();
    }

    #[test]
    fn a_library_error_shows_its_message_and_hides_its_type() {
        let json = serde_json::from_slice::<serde_json::Value>(b"{\"a\":").expect_err("invalid");
        let message = json.to_string();
        let e = CodecError::json(json);
        assert!(matches!(e, CodecError::Json { line: 1, .. }), "{e:?}");
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(source.to_string(), message);
    }

    #[test]
    fn messages_are_lowercase_and_carry_context() {
        let e = CodecError::Truncated { expected: 439, found: 100 };
        assert_eq!(e.to_string(), "file is truncated: expected 439 bytes, found 100");
        let e = CodecError::ZipEntryNotCoin { name: "a.txt".into(), reason: "text".into() };
        assert_eq!(e.to_string(), "zip entry \"a.txt\" is not a coin file: text");
    }
}
