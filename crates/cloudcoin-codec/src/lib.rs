//! Readers and writers for CloudCoin coin files: format-9 `bin`, JSON `stack`, `png` pictures
//! carrying coins, and `zip` archives of coin files. The byte layouts are specified in the
//! repository's [`docs/SPEC.md`](https://github.com/cloudcoin-wallet/cloudcoin-server/blob/main/docs/SPEC.md)
//! (§4, "Coin files").
//!
//! Everything is synchronous and works over [`std::io::Write`] or byte slices, so async callers
//! run it on a blocking thread.
//!
//! - **Reading**: [`decode_any`] identifies a file by its content ([`sniff`]), never by its name,
//!   and calls the reader of that kind ([`decode_bin`], [`decode_stack`], [`decode_png`],
//!   [`decode_zip`]). Malformed, encrypted, legacy and duplicated coins are refused with a
//!   [`CodecError`] that says which; zip archives are read within [`Limits`].
//! - **Writing**: [`write_coins`] writes bin, stack and png files to any [`std::io::Write`];
//!   [`write_zip`] writes zip archives, which need [`std::io::Seek`] too. Both take
//!   [`WriteOptions`] (the tag and date a PNG page shows, an optional progress callback) and
//!   refuse a coin set with the same coin twice. [`encode_bin`] returns a format-9 file as bytes.
//!
//! The kind of file is [`FileKind`], re-exported from `cloudcoin-domain`.
//!
//! ```
//! use cloudcoin_codec::{decode_any, encode_bin, Limits};
//! use cloudcoin_domain::{Coin, Denomination, Pown, SerialNumber, RAIDA_COUNT};
//!
//! let coin = Coin::new(
//!     Denomination::from_code(1),
//!     SerialNumber::new(7998),
//!     [[0x5A; 16]; RAIDA_COUNT],
//!     [Pown::Pass; RAIDA_COUNT],
//! );
//! let bytes = encode_bin(std::slice::from_ref(&coin)).unwrap();
//! assert_eq!(bytes.len(), 439);
//! assert_eq!(decode_any(&bytes, &Limits::default()).unwrap(), vec![coin]);
//! ```
//!
//! # Features
//!
//! The heavy parts are cargo features, all on by default. Without any of them the crate reads
//! and writes `bin` and `stack`, reads the coins of a png's `cLDc` chunk, and needs 18 crates
//! (the default set needs 112).
//!
//! - `png`: writing png pages (the page drawn with its QR codes and lettering).
//! - `paper-scan`: reading the QR codes of photos and scans of printed pages (JPEG, or PNG
//!   without a `cLDc` chunk): [`scan_picture`], [`decode_paper`].
//! - `zip`: reading and writing zip archives ([`decode_zip`], [`write_zip`]).
//! - `pdf`: writing and reading pdf paper wallets; it turns on `png` and `paper-scan`.
//!
//! Asked for a kind of file whose feature is off (by [`write_coins`], or a file [`decode_any`]
//! recognises), the crate answers [`CodecError::NotBuiltIn`], naming the feature.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The QR text framing: written on png pages, read from scans (its error, `paper_error`, is
// public either way). With one of the two features, the other half is unused.
#[cfg(any(feature = "png", feature = "paper-scan"))]
#[cfg_attr(not(all(feature = "png", feature = "paper-scan")), allow(dead_code))]
mod base45;
mod bin;
mod error;
#[cfg(any(feature = "png", feature = "paper-scan"))]
#[cfg_attr(not(all(feature = "png", feature = "paper-scan")), allow(dead_code))]
mod framing;
#[cfg(feature = "png")]
mod lettering;
mod limits;
mod options;
#[cfg(feature = "png")]
mod ornament;
#[cfg(feature = "png")]
mod page;
#[cfg(any(feature = "png", feature = "paper-scan"))]
#[cfg_attr(not(all(feature = "png", feature = "paper-scan")), allow(dead_code))]
mod page_id;
mod paper_error;
#[cfg(feature = "pdf")]
mod pdf;
#[cfg(feature = "png")]
mod picture;
mod png_file;
#[cfg(feature = "png")]
mod png_write;
#[cfg(any(feature = "png", feature = "paper-scan"))]
#[cfg_attr(not(all(feature = "png", feature = "paper-scan")), allow(dead_code))]
mod qr_text;
#[cfg(feature = "paper-scan")]
mod scan;
mod seek;
#[cfg(feature = "pdf")]
mod sheet;
mod sniff;
mod stack;
mod stream;
mod write;
#[cfg(feature = "zip")]
mod zip_file;

pub use crate::bin::{decode_bin, encode_bin};
pub use crate::error::{CodecError, LibraryError};
pub use crate::limits::Limits;
pub use crate::options::WriteOptions;
pub use crate::paper_error::PaperError;
#[cfg(feature = "pdf")]
#[cfg_attr(docsrs, doc(cfg(feature = "pdf")))]
pub use crate::pdf::decode_pdf;
#[cfg(feature = "png")]
#[cfg_attr(docsrs, doc(cfg(feature = "png")))]
pub use crate::picture::PngLabel;
pub use crate::png_file::decode_png;
#[cfg(feature = "paper-scan")]
#[cfg_attr(docsrs, doc(cfg(feature = "paper-scan")))]
pub use crate::scan::{PaperPage, PaperScan, decode_paper, read_pages, scan_picture};
#[cfg(feature = "pdf")]
#[cfg_attr(docsrs, doc(cfg(feature = "pdf")))]
pub use crate::sheet::{MAX_PAPER_COINS, PaperSize};
#[cfg(feature = "zip")]
#[cfg_attr(docsrs, doc(cfg(feature = "zip")))]
pub use crate::sniff::decode_zip;
pub use crate::sniff::{decode_any, is_picture_to_scan, sniff};
pub use crate::stack::decode_stack;
pub use crate::stream::read_each;
pub use crate::write::write_coins;
#[cfg(feature = "zip")]
#[cfg_attr(docsrs, doc(cfg(feature = "zip")))]
pub use crate::zip_file::write_zip;
pub use cloudcoin_domain::FileKind;
