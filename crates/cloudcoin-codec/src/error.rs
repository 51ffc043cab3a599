//! The codec's one error type.

use cloudcoin_domain::{CoinError, CoinId};

/// Why bytes could not be read as coins, or coins could not be written.
#[derive(Debug, thiserror::Error)]
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
        /// The serial number as written in the stack.
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
    /// The stack is not valid JSON of the expected shape.
    #[error("invalid stack json")]
    Json(#[source] serde_json::Error),
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
    /// The PNG encoder failed.
    #[error("cannot encode the png")]
    PngEncode(#[source] png::EncodingError),
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
    /// The zip archive is malformed or uses an unsupported feature.
    #[error("cannot read the zip archive")]
    Zip(#[from] zip::result::ZipError),
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
    /// More coins than one file of this kind can hold.
    #[error("{count} coins do not fit in one file; the most is 65535")]
    TooManyCoins {
        /// The number of coins.
        count: usize,
    },
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
    fn messages_are_lowercase_and_carry_context() {
        let e = CodecError::Truncated { expected: 439, found: 100 };
        assert_eq!(e.to_string(), "file is truncated: expected 439 bytes, found 100");
        let e = CodecError::ZipEntryNotCoin { name: "a.txt".into(), reason: "text".into() };
        assert_eq!(e.to_string(), "zip entry \"a.txt\" is not a coin file: text");
    }
}
