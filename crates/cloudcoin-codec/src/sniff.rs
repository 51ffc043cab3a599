//! The dispatcher above the formats: telling them apart by content (never by name), and reading
//! any of them. The format modules (`bin`, `stack`, `png_file`, `zip_file`, `scan`) never call
//! back into it: a zip archive's entries are read through the function this module hands it.

use cloudcoin_domain::{Coin, FileKind};

use crate::error::CodecError;
use crate::limits::Limits;
#[cfg(feature = "zip")]
use crate::zip_file::{self, Entry};

/// Says which format `bytes` are in, from their content alone: the PNG signature, a zip local
/// file header (or the end record of an empty archive), a format-9 byte with room for a header,
/// or JSON starting with `{` (after an optional byte order mark and white space).
///
/// Anything else is [`CodecError::NotACoinFile`], saying what kind of bytes it holds (empty,
/// text, binary data, its length) but never any of them: the bytes may be a file the caller may
/// not read (an import names files by path). Sniffing looks at the first bytes only: a file of the
/// kind returned may still fail to read.
///
/// ```
/// use cloudcoin_codec::{sniff, CodecError};
/// use cloudcoin_domain::FileKind;
///
/// assert_eq!(sniff(b"\xEF\xBB\xBF {\"cloudcoin\":[]}").unwrap(), FileKind::Stack);
/// assert_eq!(sniff(b"PK\x03\x04").unwrap(), FileKind::Zip);
/// match sniff(b"Dear Alice") {
///     Err(CodecError::NotACoinFile { looked_like }) => {
///         assert_eq!(looked_like, "10 bytes of text, which is no coin file format")
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn sniff(bytes: &[u8]) -> Result<FileKind, CodecError> {
    if bytes.starts_with(crate::png_file::PNG_SIGNATURE) {
        Ok(FileKind::Png)
    } else if bytes.starts_with(b"%PDF-") {
        Ok(FileKind::Pdf)
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Ok(FileKind::Zip)
    } else if bytes.first() == Some(&crate::bin::FORMAT_9) && bytes.len() >= crate::bin::HEADER_LEN
    {
        Ok(FileKind::Bin)
    } else if crate::stack::looks_like_json(bytes) {
        Ok(FileKind::Stack)
    } else {
        Err(CodecError::NotACoinFile { looked_like: describe(bytes) })
    }
}

/// How every JPEG file starts: the start-of-image marker and the next marker's first byte.
const JPEG_START: &[u8] = &[0xFF, 0xD8, 0xFF];

/// Whether `bytes` are a picture to read QR codes from rather than a coin file: a JPEG, or a PNG
/// without a `cLDc` chunk — a photo or scan of a printed paper wallet (`docs/SPEC.md` §4.3.1).
/// Such a picture is read with [`scan_picture`](crate::scan_picture); [`decode_any`] does that
/// for a picture that shows every code of its page.
///
/// ```
/// use cloudcoin_codec::is_picture_to_scan;
///
/// assert!(is_picture_to_scan(b"\xFF\xD8\xFF\xE0 a jpeg photo"));
/// // A PNG whose first chunk after IHDR is not cLDc, and that has no other: a scan.
/// let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
/// png.extend_from_slice(&[0; 17]);
/// png.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
/// assert!(is_picture_to_scan(&png));
/// assert!(!is_picture_to_scan(b"{\"cloudcoin\":[]}"));
/// ```
pub fn is_picture_to_scan(bytes: &[u8]) -> bool {
    bytes.starts_with(JPEG_START)
        || (bytes.starts_with(crate::png_file::PNG_SIGNATURE)
            && !crate::png_file::has_coin_chunk(bytes))
}

/// A short description of bytes that are no coin file, for error messages: what they are not,
/// never what they contain.
fn describe(bytes: &[u8]) -> String {
    const LOOKED_AT: usize = 64;
    if bytes.is_empty() {
        return "empty".to_owned();
    }
    if bytes[0] == crate::bin::FORMAT_9 {
        return format!(
            "{} bytes, too short for the {}-byte header of a coin file",
            bytes.len(),
            crate::bin::HEADER_LEN
        );
    }
    let head = &bytes[..bytes.len().min(LOOKED_AT)];
    // A multi-byte character cut at the end of `head` still counts as text.
    let text = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let kind = match text {
        Some(t) if t.chars().all(|c| !c.is_control() || c.is_ascii_whitespace()) => "text",
        _ => "binary data",
    };
    format!("{} bytes of {kind}, which is no coin file format", bytes.len())
}

/// Reads coins from bytes in any supported format, found by [`sniff`]; zips are read within
/// `limits`. Fails as the reader of that format fails. A photo or scan of a printed paper wallet
/// ([`is_picture_to_scan`]) is read from its QR codes, which must all be in it; pictures that each
/// show part of a page are combined with [`decode_paper`](crate::decode_paper).
///
/// ```
/// use cloudcoin_codec::{decode_any, encode_bin, Limits};
/// use cloudcoin_domain::{Coin, Denomination, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coin = Coin::new(
///     Denomination::from_code(2),
///     SerialNumber::new(41),
///     [[9; 16]; RAIDA_COUNT],
///     [Pown::Pass; RAIDA_COUNT],
/// );
/// let file = encode_bin(std::slice::from_ref(&coin)).unwrap();
/// assert_eq!(decode_any(&file, &Limits::default()).unwrap(), [coin]);
/// assert!(decode_any(b"hello", &Limits::default()).is_err());
/// ```
pub fn decode_any(bytes: &[u8], limits: &Limits) -> Result<Vec<Coin>, CodecError> {
    if is_picture_to_scan(bytes) {
        #[cfg(feature = "paper-scan")]
        return crate::scan::decode_paper([&crate::scan::scan_picture(bytes)?]);
        #[cfg(not(feature = "paper-scan"))]
        return Err(CodecError::NotBuiltIn {
            what: "reading the QR codes of a photo or scan",
            feature: "paper-scan",
        });
    }
    match sniff(bytes)? {
        FileKind::Bin => crate::bin::decode_bin(bytes),
        FileKind::Stack => crate::stack::decode_stack(bytes),
        FileKind::Png => crate::png_file::decode_png(bytes),
        #[cfg(feature = "zip")]
        FileKind::Zip => decode_zip(bytes, limits),
        #[cfg(not(feature = "zip"))]
        FileKind::Zip => {
            let _ = limits;
            Err(CodecError::NotBuiltIn { what: "reading zip archives", feature: "zip" })
        }
        #[cfg(feature = "pdf")]
        FileKind::Pdf => crate::pdf::decode_pdf(bytes),
        #[cfg(not(feature = "pdf"))]
        FileKind::Pdf => {
            Err(CodecError::NotBuiltIn { what: "reading pdf paper wallets", feature: "pdf" })
        }
    }
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
#[cfg(feature = "zip")]
pub fn decode_zip(bytes: &[u8], limits: &Limits) -> Result<Vec<Coin>, CodecError> {
    zip_file::read(bytes, limits, &zip_entry)
}

/// One entry of a zip archive, by [`sniff`]: a coin file read by its format's reader, or an
/// archive for the zip reader to walk into.
#[cfg(feature = "zip")]
fn zip_entry(data: &[u8]) -> Result<Entry, CodecError> {
    Ok(Entry::Coins(match sniff(data)? {
        FileKind::Zip => return Ok(Entry::Archive),
        FileKind::Bin => crate::bin::decode_bin(data)?,
        FileKind::Stack => crate::stack::decode_stack(data)?,
        FileKind::Png => crate::png_file::decode_png(data)?,
        #[cfg(feature = "pdf")]
        FileKind::Pdf => crate::pdf::decode_pdf(data)?,
        #[cfg(not(feature = "pdf"))]
        FileKind::Pdf => {
            return Err(CodecError::NotBuiltIn {
                what: "reading pdf paper wallets",
                feature: "pdf",
            });
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").ok(), Some(FileKind::Png));
        assert_eq!(sniff(b"PK\x03\x04").ok(), Some(FileKind::Zip));
        assert_eq!(sniff(b"PK\x05\x06").ok(), Some(FileKind::Zip));
        assert_eq!(sniff(&[9u8; 32]).ok(), Some(FileKind::Bin));
        assert_eq!(sniff(b"\xEF\xBB\xBF \n {\"cloudcoin\":[]}").ok(), Some(FileKind::Stack));
    }

    #[test]
    fn says_what_other_bytes_look_like() {
        let looked_like = |bytes: &[u8]| match sniff(bytes) {
            Err(CodecError::NotACoinFile { looked_like }) => looked_like,
            other => panic!("expected not a coin file, got {other:?}"),
        };
        assert_eq!(looked_like(b""), "empty");
        assert_eq!(looked_like(b"hello world\n"), "12 bytes of text, which is no coin file format");
        assert_eq!(
            looked_like(&[9u8; 10]),
            "10 bytes, too short for the 32-byte header of a coin file"
        );
        assert_eq!(
            looked_like(b"\x7fELF\x02"),
            "5 bytes of binary data, which is no coin file format"
        );
        assert_eq!(looked_like(b"[1,2]"), "5 bytes of text, which is no coin file format");
        // Never the contents: a file named by path may be one the client cannot read.
        let shadow = looked_like(b"root:*:19000:0:99999:7:::\n");
        assert!(!shadow.contains("root"), "{shadow}");
    }
}
