//! Readers and writers for CloudCoin coin files: format-9 `bin`, JSON `stack`, `png` pictures
//! carrying coins, and `zip` archives of coin files (SPEC §4).
//!
//! Everything is synchronous and works over [`std::io::Write`] or byte slices, so async callers
//! run it on a blocking thread. Readers identify files by content ([`sniff`], [`decode_any`]),
//! never by name, and refuse malformed, encrypted, legacy and duplicated coins with a
//! [`CodecError`] that says which. Writers refuse a coin set with the same coin twice.
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

mod bin;
mod error;
mod picture;
mod png_file;
mod sniff;
mod stack;
mod zip_file;

pub use crate::bin::{decode_bin, encode_bin, write_bin};
pub use crate::error::CodecError;
pub use crate::picture::PngLabel;
pub use crate::png_file::{decode_png, write_png};
pub use crate::sniff::{Format, decode_any, sniff, write_coins};
pub use crate::stack::{decode_stack, write_stack};
pub use crate::zip_file::{Limits, decode_zip, write_zip};
pub use cloudcoin_domain::FileKind;
