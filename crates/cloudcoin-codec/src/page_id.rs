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
        hex::decode_to_slice(text, &mut id).ok()?;
        Some(PageId(id))
    }
}

impl fmt::Display for PageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode_upper(self.0))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_twelve_upper_case_digits_of_the_digest_and_reads_back() {
        let id = PageId::of(b"abc");
        // SHA-256("abc") starts ba7816bf8f01.
        assert_eq!(id.to_string(), "BA7816BF8F01");
        assert_eq!(PageId::parse("BA7816BF8F01"), Some(id));
        for bad in ["ba7816bf8f01", "BA7816BF8F0", "BA7816BF8F011", "BA7816BF8F0G", "+A7816BF8F01"]
        {
            assert_eq!(PageId::parse(bad), None, "{bad}");
        }
    }
}
