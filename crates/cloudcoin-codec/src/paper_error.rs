//! Why the codes of a paper wallet do not give its coins: [`PaperError`], public whatever the
//! features, since [`CodecError`](crate::CodecError) carries it. The framing that makes these
//! errors (`qr_text`, `framing`) is built only with `png` or `paper-scan`.

use std::fmt::Write as _;

/// What every code's text starts with.
pub(crate) const PREFIX: &str = "CC9:";

/// Why the codes of a paper wallet do not give its coins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaperError {
    /// No CloudCoin QR code could be read in the pictures.
    #[error(
        "no cloudcoin qr code could be read in the picture; scan or photograph the whole page, flat, \
         sharp and well lit, or import the png file itself"
    )]
    NoCodes,
    /// Some codes of the set were not found.
    #[error(
        "the page has {total} qr codes and only {} could be read (found {}; missing {}); take a \
         picture that shows the missing codes clearly and import it together with the others",
        found.len(), list(found), list(missing)
    )]
    Missing {
        /// How many codes the page has.
        total: u32,
        /// The numbers of the codes found, ascending.
        found: Vec<u32>,
        /// The numbers of the codes not found, ascending.
        missing: Vec<u32>,
    },
    /// Two codes with the same number and different contents, or codes of sets of different
    /// sizes: the pictures show more than one page.
    #[error(
        "the pictures show qr codes of more than one page ({reason}); import each page's \
         pictures on their own"
    )]
    MixedPages {
        /// What did not agree.
        reason: String,
    },
    /// A code that starts like a CloudCoin code and is not one.
    #[error("a qr code starting {PREFIX} is malformed: {reason}")]
    BadCode {
        /// What is wrong with it.
        reason: String,
    },
    /// What is wrong with the codes of one bound page, named by its page code (the twelve
    /// hexadecimal digits printed on the page and carried by each of its QR codes).
    #[error("page {page}: {problem}")]
    Page {
        /// The page code.
        page: String,
        /// What is wrong with its codes.
        problem: Box<PaperError>,
    },
    /// Every code of a bound page was read, and the bytes they give are not the page's: their
    /// digest differs from the page code. A code was misread or altered.
    #[error(
        "the qr codes of page {page} give bytes whose digest is {found}, not {page}: a code was \
         misread or altered; scan the page again, flat and sharp"
    )]
    WrongDigest {
        /// The page code the codes carry.
        page: String,
        /// The digest of the bytes they give.
        found: String,
    },
    /// The pictures show codes of several pages and some of those pages are not whole: no page's
    /// coins are given.
    #[error(
        "the pictures show qr codes of {} pages ({}) and not every page is whole: {}; nothing was \
         read from them; add pictures that show every code of each page",
        pages.len(), pages.join(", "), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    SomePagesIncomplete {
        /// The page codes of every page seen.
        pages: Vec<String>,
        /// What is wrong with each page that is not whole.
        problems: Vec<PaperError>,
    },
}

/// `1, 2, 4-7`: ascending numbers with runs shortened.
fn list(numbers: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        match end - start {
            0 => write!(out, "{start}"),
            1 => write!(out, "{start}, {end}"),
            _ => write!(out, "{start}-{end}"),
        }
        .expect("writing to a string cannot fail");
        i += 1;
    }
    if out.is_empty() { "none".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_listed_with_runs_shortened() {
        assert_eq!(list(&[]), "none");
        assert_eq!(list(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7, 8");
    }
}
