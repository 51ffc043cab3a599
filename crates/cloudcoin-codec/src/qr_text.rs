//! The text of the QR codes on a paper wallet: `CC9:{i}/{n}:{base45(chunk i)}`.
//!
//! The format-9 bytes of the page's coins (the same bytes as the PNG's `cLDc` chunk) are cut into
//! `n` consecutive chunks; code `i` (from 1) carries chunk `i`. Every character is in the QR
//! alphanumeric set, so any decoder returns the text unchanged. Codes can be read in any order and
//! from several pictures; [`Assembly`] puts them back together and names what is missing.

use std::collections::BTreeMap;

use crate::base45;
pub(crate) use crate::paper_error::PREFIX;
use crate::paper_error::PaperError;

/// The most codes one set may have (the number `n` is at most five digits).
pub(crate) const MAX_CODES: u32 = 65_535;

/// One code read from a picture: chunk `index` of `total` of the page `page` names (`None`: a
/// code of the older framing, which names no page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) page: Option<crate::page_id::PageId>,
    pub(crate) index: u32,
    pub(crate) total: u32,
    pub(crate) data: Vec<u8>,
}

impl PaperError {
    /// This error, said of the page `key` (errors of unbound codes stay as they are).
    pub(crate) fn on_page(self, key: crate::page_id::PageKey) -> PaperError {
        match key {
            crate::page_id::PageKey::Unbound => self,
            crate::page_id::PageKey::Bound(id) => {
                PaperError::Page { page: id.to_string(), problem: Box::new(self) }
            }
        }
    }
}

/// The texts of the codes carrying `payload` in the older framing, which names no page, `chunk`
/// bytes per code (the last may hold fewer). The writer now uses the bound framing (`framing::frame`); this
/// remains to make pages as they were printed before, for the tests that read them.
#[cfg(test)]
pub(crate) fn frame(payload: &[u8], chunk: usize) -> Vec<String> {
    let chunks: Vec<&[u8]> = payload.chunks(chunk.max(1)).collect();
    let total = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, data)| format!("{PREFIX}{}/{total}:{}", i + 1, base45::encode(data)))
        .collect()
}

/// Length of the longest text [`frame`] writes for `chunk`-byte chunks in a set of `total` codes.
#[cfg(test)]
pub(crate) fn framed_len(chunk: usize, total: u32) -> usize {
    let digits = total.to_string().len();
    PREFIX.len() + 2 * digits + 2 + base45::encoded_len(chunk)
}

/// A decimal number from 1 to [`MAX_CODES`] without sign or leading zero.
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 5 || text.starts_with('0') {
        return None;
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (1..=MAX_CODES).contains(n))
}

/// Reads the text of one QR code of the older framing (`CC9:`): `None` when it is not one (a
/// bound code, read by `framing::parse_code`, or some other QR code), an error when it starts
/// like one and is malformed.
pub(crate) fn parse(text: &str) -> Result<Option<Part>, PaperError> {
    let Some(rest) = text.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    parse_counted(rest).map(Some)
}

/// Reads `{i}/{n}:{base45 data}`, the end of a code's text in both framings.
pub(crate) fn parse_counted(rest: &str) -> Result<Part, PaperError> {
    let bad = |reason: &str| PaperError::BadCode { reason: reason.to_owned() };
    let (counter, data) = rest.split_once(':').ok_or_else(|| bad("no ':' after i/n"))?;
    let (index, total) = counter.split_once('/').ok_or_else(|| bad("no i/n after CC9:"))?;
    let index = number(index).ok_or_else(|| bad("the code number is not a number from 1"))?;
    let total = number(total).ok_or_else(|| bad("the code count is not a number from 1"))?;
    if index > total {
        return Err(bad("the code number is larger than the code count"));
    }
    let data = base45::decode(data).map_err(|e| PaperError::BadCode { reason: e.to_string() })?;
    if data.is_empty() {
        return Err(bad("the code carries no data"));
    }
    Ok(Part { page: None, index, total, data })
}

/// Codes gathered from one or more pictures of one page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Assembly {
    total: Option<u32>,
    parts: BTreeMap<u32, Vec<u8>>,
    conflict: Option<String>,
}

impl Assembly {
    /// Adds a code; the same code seen twice (two pictures of one page) counts once.
    pub(crate) fn add(&mut self, part: Part) {
        match self.total {
            Some(total) if total != part.total => {
                self.conflict
                    .get_or_insert_with(|| format!("codes of {total} and of {} codes", part.total));
                return;
            }
            _ => self.total = Some(part.total),
        }
        match self.parts.get(&part.index) {
            Some(data) if *data != part.data => {
                self.conflict.get_or_insert_with(|| {
                    format!("two different codes {} of {}", part.index, part.total)
                });
            }
            Some(_) => {}
            None => {
                self.parts.insert(part.index, part.data);
            }
        }
    }

    /// Adds every code of `other`.
    pub(crate) fn merge(&mut self, other: &Assembly) {
        if let Some(reason) = &other.conflict {
            self.conflict.get_or_insert_with(|| reason.clone());
        }
        if let Some(total) = other.total {
            for (&index, data) in &other.parts {
                self.add(Part { page: None, index, total, data: data.clone() });
            }
        }
    }

    /// Whether every code of the set is here and nothing disagrees.
    pub(crate) fn is_complete(&self) -> bool {
        self.conflict.is_none()
            && self.total.is_some_and(|t| usize::try_from(t).ok() == Some(self.parts.len()))
    }

    /// The numbers of the codes present and the size of the set, if any code was added.
    pub(crate) fn found(&self) -> (Vec<u32>, Option<u32>) {
        (self.parts.keys().copied().collect(), self.total)
    }

    /// The payload: every chunk in order, or why it cannot be had.
    pub(crate) fn finish(&self) -> Result<Vec<u8>, PaperError> {
        if let Some(reason) = &self.conflict {
            return Err(PaperError::MixedPages { reason: reason.clone() });
        }
        let total = self.total.ok_or(PaperError::NoCodes)?;
        if !self.is_complete() {
            let found: Vec<u32> = self.parts.keys().copied().collect();
            let missing = (1..=total).filter(|i| !self.parts.contains_key(i)).collect();
            return Err(PaperError::Missing { total, found, missing });
        }
        Ok(self.parts.values().flatten().copied().collect())
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
        let texts = frame(b"Hello!!AB", 7);
        assert_eq!(texts, ["CC9:1/2:%69 VD92EX0", "CC9:2/2:BB8"]);
        assert_eq!(frame(b"AB", 100), ["CC9:1/1:BB8"]);
        assert!(texts.iter().all(|t| t.len() <= framed_len(7, 2)));
        assert_eq!(framed_len(7, 2), texts[0].len());
    }

    #[test]
    fn codes_in_any_order_and_twice_give_the_payload() {
        let payload: Vec<u8> = (0..=255).collect();
        let mut all = parts(&payload, 40);
        assert_eq!(all.len(), 7);
        all.reverse();
        let mut a = Assembly::default();
        for p in all.iter().chain(&all[2..4]) {
            a.add(p.clone());
        }
        assert!(a.is_complete());
        assert_eq!(a.finish(), Ok(payload));
    }

    #[test]
    fn missing_codes_are_named() {
        let payload: Vec<u8> = (0..200).collect();
        let mut a = Assembly::default();
        for p in parts(&payload, 20).into_iter().filter(|p| ![3, 4, 5, 9].contains(&p.index)) {
            a.add(p);
        }
        let e = a.finish().expect_err("incomplete");
        assert_eq!(
            e,
            PaperError::Missing {
                total: 10,
                found: vec![1, 2, 6, 7, 8, 10],
                missing: vec![3, 4, 5, 9]
            }
        );
        let message = e.to_string();
        assert!(message.contains("found 1, 2, 6-8, 10; missing 3-5, 9"), "{message}");
        assert!(message.contains("has 10 qr codes and only 6"), "{message}");
    }

    #[test]
    fn codes_of_two_pages_are_refused() {
        let mut a = Assembly::default();
        a.add(parts(b"first page", 5)[0].clone());
        a.add(parts(b"other page", 5)[0].clone());
        assert!(matches!(a.finish(), Err(PaperError::MixedPages { .. })));

        let mut b = Assembly::default();
        b.add(parts(b"first page", 5)[0].clone());
        b.add(parts(b"first page", 2)[1].clone());
        assert!(matches!(b.finish(), Err(PaperError::MixedPages { .. })));

        let mut c = Assembly::default();
        c.merge(&b);
        assert!(!c.is_complete());
        assert!(matches!(c.finish(), Err(PaperError::MixedPages { .. })));
    }

    #[test]
    fn other_qr_codes_are_ignored_and_bad_ones_refused() {
        assert_eq!(parse("https://example.com/"), Ok(None));
        assert_eq!(parse("cc9:1/1:BB8"), Ok(None));
        for bad in [
            "CC9:1/1",
            "CC9:1:BB8",
            "CC9:0/1:BB8",
            "CC9:01/2:BB8",
            "CC9:2/1:BB8",
            "CC9:1/65536:BB8",
            "CC9:+1/2:BB8",
            "CC9:1/1:",
            "CC9:1/1:BB",
            "CC9:1/1:bb8",
        ] {
            assert!(matches!(parse(bad), Err(PaperError::BadCode { .. })), "{bad}");
        }
        assert_eq!(parse("CC9:65535/65535:BB8").expect("ok").map(|p| p.index), Some(65_535));
    }

    #[test]
    fn nothing_added_is_no_codes() {
        let a = Assembly::default();
        assert_eq!(a.found(), (vec![], None));
        assert_eq!(a.finish(), Err(PaperError::NoCodes));
    }
}
