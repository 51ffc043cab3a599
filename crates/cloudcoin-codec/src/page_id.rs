//! The identity of a bound paper page (`docs/SPEC.md` §4.3.1), apart from the framing that
//! writes and reads it, so that the code texts ([`crate::qr_text`]) and the bound framing
//! ([`crate::framing`]) both name it without knowing each other.

use std::fmt;

use sha2::{Digest, Sha256};

/// Bytes of the SHA-256 digest that name a page.
pub(crate) const ID_BYTES: usize = 6;

/// The identity of a bound page: the first six bytes of the SHA-256 of its payload, written as
/// twelve upper-case hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PageId([u8; ID_BYTES]);

impl PageId {
    /// The identity of the page carrying `payload`.
    pub(crate) fn of(payload: &[u8]) -> PageId {
        let digest = Sha256::digest(payload);
        let mut id = [0u8; ID_BYTES];
        id.copy_from_slice(&digest[..ID_BYTES]);
        PageId(id)
    }

    /// Reads twelve upper-case hexadecimal digits.
    pub(crate) fn parse(text: &str) -> Option<PageId> {
        if text.len() != 2 * ID_BYTES
            || !text.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        {
            return None;
        }
        let mut id = [0u8; ID_BYTES];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(PageId(id))
    }
}

impl fmt::Display for PageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02X}"))
    }
}

/// Which page a group of codes belongs to: a bound page, or the codes of the older framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum PageKey {
    /// Codes of the older framing, which name no page.
    Unbound,
    /// Codes naming this page.
    Bound(PageId),
}

impl fmt::Display for PageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageKey::Unbound => f.write_str("without a page code (CC9:)"),
            PageKey::Bound(id) => write!(f, "{id}"),
        }
    }
}
