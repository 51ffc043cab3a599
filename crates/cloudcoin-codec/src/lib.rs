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

#![warn(missing_docs)]

mod base45;
mod bin;
mod error;
mod framing;
mod page;
mod pdf;
mod picture;
mod png_file;
mod qr_text;
mod scan;
mod sheet;
#[cfg(feature = "simulate")]
pub mod simulate;
mod sniff;
mod stack;
mod stream;
mod write;
mod zip_file;

pub use crate::bin::{decode_bin, encode_bin};
pub use crate::error::{CodecError, LibraryError};
pub use crate::pdf::decode_pdf;
pub use crate::picture::PngLabel;
pub use crate::png_file::decode_png;
pub use crate::qr_text::PaperError;
pub use crate::scan::{PaperPage, PaperScan, decode_paper, read_pages, scan_picture};
pub use crate::sheet::{MAX_PAPER_COINS, PaperSize};
pub use crate::sniff::{decode_any, is_picture_to_scan, sniff};
pub use crate::stack::decode_stack;
pub use crate::stream::read_each;
pub use crate::write::{WriteOptions, write_coins};
pub use crate::zip_file::{Limits, decode_zip, write_zip};
pub use cloudcoin_domain::FileKind;
