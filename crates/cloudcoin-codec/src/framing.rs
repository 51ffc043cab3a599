//! Bound pages: the QR framing in which every code names its page (`docs/SPEC.md` §4.3.1).
//!
//! `CC9P:{page}:{i}/{n}:{base45(chunk i)}`, where `{page}` is twelve hexadecimal digits, the
//! first six bytes of the SHA-256 of the page's whole payload. A reader groups the codes it reads
//! by page ([`Pages`]), so codes of two pages never combine into coins that exist nowhere, and
//! checks each reassembled payload against the digest its codes name. Codes of the older framing
//! (`CC9:{i}/{n}:…`, pages printed before) form one group of their own, read as before.

use std::collections::BTreeMap;

use crate::base45;
pub(crate) use crate::page_id::{ID_BYTES, PageId, PageKey};
use crate::paper_error::PaperError;
use crate::qr_text::{Assembly, Part};

/// What every bound code's text starts with.
pub(crate) const PREFIX: &str = "CC9P:";
/// The texts of the bound codes carrying `payload`, `chunk` bytes per code (the last may hold
/// fewer).
pub(crate) fn frame(payload: &[u8], chunk: usize) -> Vec<String> {
    let id = PageId::of(payload);
    let chunks: Vec<&[u8]> = payload.chunks(chunk.max(1)).collect();
    let total = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, data)| format!("{PREFIX}{id}:{}/{total}:{}", i + 1, base45::encode(data)))
        .collect()
}

/// Length of the longest text [`frame`] writes for `chunk`-byte chunks in a set of `total` codes.
pub(crate) fn framed_len(chunk: usize, total: u32) -> usize {
    let digits = total.to_string().len();
    PREFIX.len() + 2 * ID_BYTES + 1 + 2 * digits + 2 + base45::encoded_len(chunk)
}

/// Reads the text of one QR code, in either framing: `None` when it is not a CloudCoin code at
/// all (some other QR code in the picture), an error when it starts like one and is malformed.
pub(crate) fn parse_code(text: &str) -> Result<Option<Part>, PaperError> {
    match parse(text)? {
        Some(bound) => Ok(Some(bound)),
        None => crate::qr_text::parse(text),
    }
}

/// Reads a bound code's text: `None` when it does not start with [`PREFIX`].
pub(crate) fn parse(text: &str) -> Result<Option<Part>, PaperError> {
    let Some(rest) = text.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let (id, rest) = rest.split_once(':').ok_or_else(|| PaperError::BadCode {
        reason: "no ':' after the page identity".to_owned(),
    })?;
    let page = PageId::parse(id).ok_or_else(|| PaperError::BadCode {
        reason: "the page identity is not twelve hexadecimal digits".to_owned(),
    })?;
    let part = crate::qr_text::parse_counted(rest)?;
    Ok(Some(Part { page: Some(page), ..part }))
}

/// The codes read from pictures, grouped by the page they name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pages {
    groups: BTreeMap<PageKey, Assembly>,
}

impl Pages {
    /// Adds a code to the group of its page.
    pub(crate) fn add(&mut self, part: Part) {
        let key = part.page.map_or(PageKey::Unbound, PageKey::Bound);
        self.groups.entry(key).or_default().add(part);
    }

    /// Adds every code of `other`.
    pub(crate) fn merge(&mut self, other: &Pages) {
        for (key, codes) in &other.groups {
            self.groups.entry(*key).or_default().merge(codes);
        }
    }

    /// Whether every page seen has all its codes (and at least one page was seen).
    pub(crate) fn is_complete(&self) -> bool {
        !self.groups.is_empty() && self.groups.values().all(Assembly::is_complete)
    }

    /// The pages seen, in order of their keys.
    pub(crate) fn keys(&self) -> impl Iterator<Item = PageKey> + '_ {
        self.groups.keys().copied()
    }

    /// The codes read of the page `key`.
    pub(crate) fn page(&self, key: PageKey) -> Option<&Assembly> {
        self.groups.get(&key)
    }

    /// The payload of page `key`: its chunks in order, checked against the digest its codes
    /// name; or why it cannot be had.
    pub(crate) fn finish(&self, key: PageKey) -> Result<Vec<u8>, PaperError> {
        let codes = self.groups.get(&key).ok_or(PaperError::NoCodes)?;
        let payload = codes.finish().map_err(|e| e.on_page(key))?;
        if let PageKey::Bound(id) = key {
            let found = PageId::of(&payload);
            if found != id {
                return Err(PaperError::WrongDigest {
                    page: id.to_string(),
                    found: found.to_string(),
                });
            }
        }
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(payload: &[u8], chunk: usize) -> Vec<Part> {
        frame(payload, chunk)
            .iter()
            .map(|t| parse(t).expect("well formed").expect("ours"))
            .collect()
    }

    #[test]
    fn texts_follow_the_framing() {
        let id = PageId::of(b"Hello!!AB");
        let texts = frame(b"Hello!!AB", 7);
        assert_eq!(texts, [format!("CC9P:{id}:1/2:%69 VD92EX0"), format!("CC9P:{id}:2/2:BB8")]);
        assert_eq!(id.to_string().len(), 12);
        assert_eq!(PageId::parse(&id.to_string()), Some(id));
        assert_eq!(framed_len(7, 2), texts[0].len());
    }

    #[test]
    fn the_example_of_the_spec() {
        assert_eq!(frame(b"abc", 2), ["CC9P:BA7816BF8F01:1/2:0EC", "CC9P:BA7816BF8F01:2/2:92"]);
    }

    #[test]
    fn the_page_identity_is_the_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(PageId::of(b"abc").to_string(), "BA7816BF8F01");
    }

    #[test]
    fn codes_of_two_pages_are_grouped_apart_and_each_checked() {
        let a: Vec<u8> = (0..200).collect();
        let b: Vec<u8> = (0..200).map(|i: u8| i.wrapping_mul(7)).collect();
        let mut pages = Pages::default();
        // The first half of a and the second half of b: the same code numbers, other pages.
        for p in parts(&a, 20).into_iter().take(5).chain(parts(&b, 20).into_iter().skip(5)) {
            pages.add(p);
        }
        let keys: Vec<PageKey> = pages.keys().collect();
        assert_eq!(keys.len(), 2);
        assert!(!pages.is_complete());
        for key in keys {
            let e = pages.finish(key).expect_err("half a page");
            assert!(e.to_string().contains(&format!("page {key}")), "{e}");
        }
        for p in parts(&a, 20).into_iter().chain(parts(&b, 20)) {
            pages.add(p);
        }
        assert!(pages.is_complete());
        let payloads: Vec<Vec<u8>> =
            pages.keys().map(|k| pages.finish(k).expect("whole")).collect();
        assert!(payloads.contains(&a) && payloads.contains(&b));
    }

    #[test]
    fn a_payload_that_does_not_match_its_digest_is_refused() {
        let payload: Vec<u8> = (0..40).collect();
        let mut forged = parts(&payload, 20);
        forged[1].data[0] ^= 1;
        let mut pages = Pages::default();
        for p in forged {
            pages.add(p);
        }
        let key = pages.keys().next().expect("a page");
        let e = pages.finish(key).expect_err("altered");
        assert!(matches!(e, PaperError::WrongDigest { .. }), "{e:?}");
    }

    #[test]
    fn malformed_bound_codes_are_refused_and_old_codes_are_not_ours() {
        assert_eq!(parse("CC9:1/1:BB8"), Ok(None));
        for bad in [
            "CC9P:1/1:BB8",
            "CC9P:BA7816BF8F0:1/1:BB8",
            "CC9P:ba7816bf8f01:1/1:BB8",
            "CC9P:BA7816BF8F01:2/1:BB8",
            "CC9P:BA7816BF8F01:1/1:",
            "CC9P:BA7816BF8F01",
        ] {
            assert!(matches!(parse(bad), Err(PaperError::BadCode { .. })), "{bad}");
        }
    }
}
