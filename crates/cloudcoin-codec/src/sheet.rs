//! The printed paper wallet: how coins are cut into pages and where everything stands on a page,
//! in PDF points (1/72 inch), for the `pdf` writer.
//!
//! Each page carries a format-9 file of its own coins in bound QR codes
//! ([`crate::framing`]), so every sheet of paper imports on its own and a lost sheet loses only
//! its coins. The QR setup (version, error correction level, module size, quiet zone) was chosen
//! with the print-and-scan campaign (`tools/paper-campaign`), see `docs/SPEC.md` §4.6.

use std::borrow::Borrow;
use std::ops::Range;

use cloudcoin_domain::Coin;
use qrcode::bits::Bits;
use qrcode::types::{EcLevel, Version};

/// Points in a millimetre.
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;

/// The paper a `pdf` paper wallet is laid out for.
///
/// ```
/// use cloudcoin_codec::PaperSize;
///
/// assert_eq!(PaperSize::default(), PaperSize::A4);
/// assert_eq!(PaperSize::from_name("letter"), Some(PaperSize::Letter));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum PaperSize {
    /// ISO A4, 210 × 297 mm (the default).
    #[default]
    A4,
    /// US Letter, 8.5 × 11 inches (215.9 × 279.4 mm).
    Letter,
}

impl PaperSize {
    /// The size named `a4` or `letter` (any case).
    pub fn from_name(name: &str) -> Option<PaperSize> {
        match name.to_ascii_lowercase().as_str() {
            "a4" => Some(PaperSize::A4),
            "letter" => Some(PaperSize::Letter),
            _ => None,
        }
    }

    /// Width and height in points.
    pub(crate) fn points(self) -> (f32, f32) {
        match self {
            PaperSize::A4 => (210.0 * PT_PER_MM, 297.0 * PT_PER_MM),
            PaperSize::Letter => (612.0, 792.0),
        }
    }
}

/// The QR codes of a paper page: symbol version and error correction level, the size of a
/// module, and each code's own quiet zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PaperQr {
    /// The QR version (1 to 40): `17 + 4·version` modules across.
    pub(crate) version: i16,
    /// The error correction level.
    pub(crate) ec: EcLevel,
    /// A module's side in hundredths of a millimetre.
    pub(crate) module_hmm: u32,
    /// The white border every code keeps for itself, in modules (never shared with a neighbour).
    pub(crate) quiet: u32,
}

/// The setup the writer uses: version 14 at level M, 0.85 mm modules, each code with its own
/// 4-module quiet zone: 2 × 2 codes (three coins) on the first page, under the certificate's
/// header, and 2 × 3 codes (four coins) on each page after it, under a slim header, on A4 and on
/// Letter. Chosen with the print-and-scan campaign (`tools/paper-campaign`, its `sweep.py`): zbar
/// reads pages scanned at 150 dpi reliably only from 0.8 mm modules (4.7 pixels; 0.7 mm: 4 to 7
/// pages of 10, 0.75 mm: 8 of 10), while zxing-cpp reads them all from 0.7 mm. Of the setups with
/// modules of at least 0.8 mm, four codes of version 14 or 15 carry the most coins that fit both
/// papers (three); version 14 has room for 0.85 mm modules, and three rows of it fit under the
/// slim header. Level Q reads no better per module and carries less; smaller versions give more,
/// smaller codes, which zbar reads worse. zbar's remaining misses (a found code that fails its
/// error correction, and reads once the picture moves by a pixel) are its own, about 1 code in
/// 500, more often on regular codes than on the random-looking bytes of real coins.
pub(crate) const PAPER_QR: PaperQr =
    PaperQr { version: 14, ec: EcLevel::M, module_hmm: 85, quiet: 4 };

/// The most coins one paper wallet may hold. At three coins on the first page and four on each
/// page after it, 500 coins are 126 sheets: a quarter of a ream, two loads of an office
/// scanner's 100-sheet feeder, or about twenty minutes of photographing a page every ten
/// seconds. A person keeping more than that is better served by a file backup (a `bin`, `png` or
/// `zip` export) or several paper wallets; above it the export is refused, saying so.
pub const MAX_PAPER_COINS: usize = 500;

/// Margin of blank paper around the page, in millimetres (inside any printer's border).
pub(crate) const MARGIN_MM: f32 = 12.0;
/// Height of the first page's header (title, amount, tag, warning, instructions), in millimetres.
pub(crate) const HEADER_MM: f32 = 74.0;
/// Height of the first page's footer (coin list, page line), in millimetres.
pub(crate) const FOOTER_MM: f32 = 30.0;
/// Height of a continuation page's header: two lines (the wallet, page *k* of *n*; this page's
/// coins, amount and page code, and the warning), in millimetres.
pub(crate) const SLIM_HEADER_MM: f32 = 14.0;
/// Height of a continuation page's footer (the coin list in two lines, the page line), in mm.
pub(crate) const SLIM_FOOTER_MM: f32 = 20.0;

/// Which page of a paper wallet: the first carries the certificate's header (amount, name, tag,
/// warning, how to redeem); the pages after it a slim header, and so room for more codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sheet {
    /// Page 1.
    First,
    /// Pages 2 to *n*.
    Continuation,
}

impl Sheet {
    /// The sheet of page `index` (from 0).
    pub(crate) fn of(index: usize) -> Sheet {
        if index == 0 { Sheet::First } else { Sheet::Continuation }
    }

    /// Room above the codes, in millimetres inside the margin.
    pub(crate) fn header_mm(self) -> f32 {
        match self {
            Sheet::First => HEADER_MM,
            Sheet::Continuation => SLIM_HEADER_MM,
        }
    }

    /// Room below the codes, in millimetres inside the margin.
    pub(crate) fn footer_mm(self) -> f32 {
        match self {
            Sheet::First => FOOTER_MM,
            Sheet::Continuation => SLIM_FOOTER_MM,
        }
    }
}
/// Room between the codes of a row and between rows, besides their own quiet zones (mm).
pub(crate) const GAP_MM: f32 = 2.0;
/// Room under each code for its number `i / n` (mm).
pub(crate) const LABEL_MM: f32 = 3.5;
/// How far every second row of codes is moved right, as a share of the distance between rows.
pub(crate) const BRICK: f32 = 0.0;

impl PaperQr {
    /// Modules across a symbol, without its quiet zone.
    pub(crate) fn modules(self) -> u32 {
        17 + 4 * u32::try_from(self.version).expect("versions are 1 to 40")
    }

    /// A module's side in points.
    pub(crate) fn module_pt(self) -> f32 {
        self.module_hmm as f32 / 100.0 * PT_PER_MM
    }

    /// The side of a symbol with its quiet zone, in points.
    pub(crate) fn cell_pt(self) -> f32 {
        (self.modules() + 2 * self.quiet) as f32 * self.module_pt()
    }

    /// Distance between the tops of two rows of codes, in points: a code with its quiet zone,
    /// its number, the gap.
    pub(crate) fn row_pt(self) -> f32 {
        self.cell_pt() + (LABEL_MM + GAP_MM) * PT_PER_MM
    }

    /// How far every second row is moved right, in points (none on a page of one row).
    pub(crate) fn shift_pt(self, rows: u32) -> f32 {
        if rows > 1 { self.row_pt() * BRICK } else { 0.0 }
    }

    /// Columns and rows of codes on `sheet` of `size`.
    pub(crate) fn grid(self, size: PaperSize, sheet: Sheet) -> (u32, u32) {
        let (w, h) = size.points();
        let gap = GAP_MM * PT_PER_MM;
        let room_w = w - 2.0 * (MARGIN_MM + 4.0) * PT_PER_MM;
        let room_h = h - (2.0 * MARGIN_MM + sheet.header_mm() + sheet.footer_mm()) * PT_PER_MM;
        let rows = ((room_h + gap) / self.row_pt()) as u32;
        let columns = ((room_w + gap - self.shift_pt(rows)) / (self.cell_pt() + gap)) as u32;
        (columns, rows)
    }

    /// How many codes one page of `sheet` holds.
    pub(crate) fn codes_per_page(self, size: PaperSize, sheet: Sheet) -> usize {
        let (c, r) = self.grid(size, sheet);
        (c * r) as usize
    }

    /// Whether `text` fits in one symbol.
    pub(crate) fn fits(self, text: &str) -> bool {
        let mut bits = Bits::new(Version::Normal(self.version));
        bits.push_alphanumeric_data(text.as_bytes()).is_ok()
            && bits.push_terminator(self.ec).is_ok()
    }

    /// The most payload bytes one code carries (even, so base45 uses whole groups), in a set of
    /// up to `total` codes.
    pub(crate) fn chunk_bytes(self, total: usize) -> usize {
        let total = u32::try_from(total).unwrap_or(crate::qr_text::MAX_CODES);
        let longest = |chunk: usize| "0".repeat(crate::framing::framed_len(chunk, total));
        let (mut low, mut high) = (0usize, 4096usize);
        while low + 1 < high {
            let mid = (low + high) / 2;
            if self.fits(&longest(mid)) { low = mid } else { high = mid }
        }
        low & !1
    }

    /// The most payload bytes one page of `sheet` carries.
    pub(crate) fn page_bytes(self, size: PaperSize, sheet: Sheet) -> usize {
        let n = self.codes_per_page(size, sheet);
        n * self.chunk_bytes(n)
    }

    /// The dark modules of the symbol of `text`, row by row (`width` × `width`).
    pub(crate) fn symbol(self, text: &str) -> (usize, Vec<bool>) {
        let mut bits = Bits::new(Version::Normal(self.version));
        let code = bits
            .push_alphanumeric_data(text.as_bytes())
            .and_then(|()| bits.push_terminator(self.ec))
            .and_then(|()| qrcode::QrCode::with_bits(bits, self.ec))
            .expect("texts are framed to fit one symbol");
        let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        (code.width(), dark)
    }
}

/// Cuts `coins` into pages: consecutive runs whose format-9 files each fit in one page's codes.
/// `None` when a single coin does not fit a page (it never happens with the setup written).
pub(crate) fn plan<C: Borrow<Coin>>(
    coins: &[C],
    qr: PaperQr,
    size: PaperSize,
) -> Option<Vec<Range<usize>>> {
    let mut pages = Vec::new();
    let mut start = 0;
    while start < coins.len() {
        let capacity = qr.page_bytes(size, Sheet::of(pages.len()));
        let mut end = start;
        while end < coins.len() && crate::bin::file_len(&coins[start..=end]) <= capacity {
            end += 1;
        }
        if end == start {
            return None;
        }
        pages.push(start..end);
        start = end;
    }
    Some(pages)
}

/// The texts of the codes of one page of `sheet` carrying `payload`.
pub(crate) fn page_texts(
    payload: &[u8],
    qr: PaperQr,
    size: PaperSize,
    sheet: Sheet,
) -> Vec<String> {
    let chunk = qr.chunk_bytes(qr.codes_per_page(size, sheet));
    crate::framing::frame(payload, chunk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};

    fn coins(n: u32) -> Vec<Coin> {
        (0..n)
            .map(|sn| {
                Coin::new(
                    Denomination::from_code(0),
                    SerialNumber::new(sn + 1),
                    [[sn as u8; 16]; RAIDA_COUNT],
                    [Pown::Pass; RAIDA_COUNT],
                )
            })
            .collect()
    }

    #[test]
    fn every_page_of_a_plan_fits_and_the_pages_cover_the_coins_in_order() {
        for size in [PaperSize::A4, PaperSize::Letter] {
            let all = coins(500);
            let pages = plan(&all, PAPER_QR, size).expect("plans");
            assert_eq!(pages.first().map(|r| r.start), Some(0));
            assert_eq!(pages.last().map(|r| r.end), Some(500));
            assert!(pages.windows(2).all(|w| w[0].end == w[1].start));
            for (k, page) in pages.iter().enumerate() {
                let sheet = Sheet::of(k);
                let payload = crate::bin::encode_bin(&all[page.clone()]).expect("bin");
                let texts = page_texts(&payload, PAPER_QR, size, sheet);
                assert!(texts.len() <= PAPER_QR.codes_per_page(size, sheet));
                assert!(texts.iter().all(|t| PAPER_QR.fits(t)));
            }
        }
    }

    #[test]
    fn a_page_carries_the_measured_layout_on_both_papers() {
        // The layout the campaign measured: on page 1, 2 × 2 codes of version 14 (three coins);
        // on the pages after it, under the slim header, 2 × 3 codes (four coins).
        for size in [PaperSize::A4, PaperSize::Letter] {
            assert_eq!(PAPER_QR.grid(size, Sheet::First), (2, 2), "{size:?}");
            assert_eq!(PAPER_QR.grid(size, Sheet::Continuation), (2, 3), "{size:?}");
            let pages = plan(&coins(500), PAPER_QR, size).expect("plans");
            assert_eq!(pages[0].len(), 3, "{size:?}");
            assert!(pages[1..].iter().all(|p| p.len() == 4 || p.end == 500), "{size:?}");
            assert_eq!(pages.len(), 126, "{size:?}");
        }
    }

    #[test]
    fn the_codes_stay_between_header_and_footer_and_inside_the_margins() {
        for size in [PaperSize::A4, PaperSize::Letter] {
            let (w, h) = size.points();
            for sheet in [Sheet::First, Sheet::Continuation] {
                let (columns, rows) = PAPER_QR.grid(size, sheet);
                let used_w = columns as f32 * (PAPER_QR.cell_pt() + GAP_MM * PT_PER_MM)
                    - GAP_MM * PT_PER_MM
                    + PAPER_QR.shift_pt(rows);
                let used_h = rows as f32 * PAPER_QR.row_pt() - GAP_MM * PT_PER_MM;
                assert!(used_w <= w - 2.0 * (MARGIN_MM + 4.0) * PT_PER_MM, "{size:?} {sheet:?}");
                let room_h =
                    h - (2.0 * MARGIN_MM + sheet.header_mm() + sheet.footer_mm()) * PT_PER_MM;
                assert!(used_h <= room_h, "{size:?} {sheet:?}");
            }
        }
    }

    #[test]
    fn the_refusal_names_the_pages_the_largest_wallet_prints_on() {
        let most = u32::try_from(MAX_PAPER_COINS).expect("small");
        let message =
            crate::CodecError::TooManyForPaper { count: MAX_PAPER_COINS + 1, max: MAX_PAPER_COINS }
                .to_string();
        for size in [PaperSize::A4, PaperSize::Letter] {
            let pages = plan(&coins(most), PAPER_QR, size).expect("plans").len();
            assert!(message.contains(&format!("{pages} printed pages")), "{size:?}: {message}");
        }
    }

    #[test]
    fn a_code_keeps_at_least_four_modules_of_quiet_zone() {
        const { assert!(PAPER_QR.quiet >= 4) };
        let (c, r) = PAPER_QR.grid(PaperSize::A4, Sheet::First);
        assert!(c >= 1 && r >= 1);
    }
}
