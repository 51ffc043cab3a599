//! The paper wallet page: what the picture of a PNG coin file shows, laid out for printing.
//!
//! The page is 2480 × 3300 pixels at 300 dpi: 210 × 279.4 mm, the width of A4 and the height of
//! Letter, so it prints unscaled on either. It is set like a certificate, inside a guilloche
//! border ([`crate::ornament`]), in DejaVu type ([`crate::lettering`]). From top to bottom: the
//! words CloudCoin paper wallet, the amount large, CloudCoin, the tag, the coin count and date, a
//! warning that whoever holds the paper or the file can spend the coins, how to redeem them, the
//! QR codes that carry the coins (each numbered `i / n`), the list of the coins, and the name of
//! the software. When the coins are too many for QR codes on one page, the place of the codes
//! says to export them as `pdf` for paper.

use std::borrow::Borrow;
use std::sync::OnceLock;

use cloudcoin_domain::{Amount, Coin};
use qrcode::types::{Color, EcLevel, Version};
use qrcode::{QrCode, bits::Bits};

use crate::lettering::{Face, Letters, Style};
use crate::picture::{Canvas, Ink, Layer, PngLabel};
use crate::{framing, ornament, qr_text};

/// Page width in pixels (210 mm at 300 dpi).
pub(crate) const WIDTH: u32 = 2480;
/// Page height in pixels (279.4 mm at 300 dpi).
pub(crate) const HEIGHT: u32 = 3300;
/// Pixels per metre at 300 dpi, for the PNG's physical size.
pub(crate) const PIXELS_PER_METRE: u32 = 11_811;

/// Blank paper around everything (about 12.7 mm, inside any printer's unprintable border).
const MARGIN: u32 = 150;
/// Left and right ends of the content.
const LEFT: u32 = MARGIN;
const RIGHT: u32 = WIDTH - MARGIN;
/// Bottom of the content.
const BOTTOM: u32 = HEIGHT - MARGIN;
/// Top of the place for the QR codes (or for the notice that there are none).
const CODES_TOP: u32 = 980;
/// Room kept below the codes for the coin list and the footer.
const LIST_ROOM: u32 = 330;
/// Height of the number under each code, with its spacing.
const CODE_LABEL: u32 = 36;
/// The guilloche border's band, in pixels from the page's edges: inside the margin, so it never
/// comes near the codes and their quiet zones.
const BORDER: (u32, u32) = (48, 124);
/// The code numbers, the coin list and the footer.
const SMALL: Style = Style::new(Face::Sans, 30, Ink::Grey);
/// The instructions.
const BODY: Style = Style::new(Face::Sans, 35, Ink::Black);

/// How the coins are drawn as QR codes: the symbol version, the error correction level and the
/// size of a module in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QrSetup {
    /// The QR version (1 to 40): the symbol is `17 + 4·version` modules wide.
    pub(crate) version: i16,
    /// The error correction level.
    pub(crate) ec: EcLevel,
    /// Pixels per module at 300 dpi.
    pub(crate) module: u32,
}

/// The setup written, chosen with the print-and-scan campaign (`tools/paper-campaign`, see
/// `docs/SPEC.md` §4.3.1): version 14 at level M with 10-pixel modules (0.85 mm), as the `pdf`
/// pages ([`crate::sheet`]): zbar reads 150 dpi office scans reliably only from 0.8 mm modules.
/// Four codes, three coins, a page. Pages of fewer codes draw them larger
/// ([`QrSetup::for_codes`]).
pub(crate) const SETUP: QrSetup = QrSetup { version: 14, ec: EcLevel::M, module: 10 };

/// The largest module drawn, in pixels (1.02 mm): a page of one code.
const LARGEST_MODULE: u32 = 12;

/// The white border every code keeps for itself on each side, in modules (never shared with a
/// neighbour: a detector that sees a neighbour's modules in a code's quiet zone may not find it).
const QUIET: u32 = 4;

/// Blank paper between the quiet zones of neighbouring codes, in pixels (2 mm).
const CODE_GAP: u32 = 24;

impl QrSetup {
    /// Modules across a symbol, without its quiet zone.
    fn modules(self) -> u32 {
        17 + 4 * u32::try_from(self.version).expect("versions are 1 to 40")
    }

    /// A symbol with its own quiet zone on both sides, in pixels.
    fn cell(self) -> u32 {
        (self.modules() + 2 * QUIET) * self.module
    }

    /// Horizontal distance between the symbols of one row: a symbol with its own quiet zone and
    /// the gap to the next one's.
    fn pitch_x(self) -> u32 {
        self.cell() + CODE_GAP
    }

    /// Vertical distance between rows: a symbol with its quiet zones, its number, the gap.
    fn pitch_y(self) -> u32 {
        self.cell() + CODE_LABEL + CODE_GAP
    }

    /// How far every second row is moved to the right: by more than a fifth of the distance
    /// between rows, so that no finder pattern lines up with one of the code below it, which
    /// would let a detector pair the finder patterns of different codes (a brick layout).
    fn shift(self) -> u32 {
        self.pitch_y() * 3 / 10
    }

    /// Columns and rows of codes that fit on the page.
    pub(crate) fn grid(self) -> (u32, u32) {
        let room = (RIGHT - LEFT + CODE_GAP).saturating_sub(self.shift());
        let columns = room / self.pitch_x();
        let height = BOTTOM - LIST_ROOM - CODES_TOP;
        let rows = height / self.pitch_y();
        (columns, rows)
    }

    /// Where the top left module of code `i` (from 0) of `n` is drawn: the rows of codes are
    /// centred across the page and in the height kept for them.
    fn position(self, i: u32, n: u32) -> (u32, u32) {
        let (columns, _) = self.grid();
        let rows = n.div_ceil(columns);
        let shift = if rows > 1 { self.shift() } else { 0 };
        let width = n.min(columns) * self.pitch_x() - CODE_GAP + shift;
        let left = LEFT + (RIGHT - LEFT).saturating_sub(width) / 2 + QUIET * self.module;
        let height = rows * self.pitch_y();
        let top = CODES_TOP + (BOTTOM - LIST_ROOM - CODES_TOP).saturating_sub(height) / 2;
        let (row, column) = (i / columns, i % columns);
        let x = left + column * self.pitch_x() + (row % 2) * self.shift();
        let y = top + QUIET * self.module + row * self.pitch_y();
        (x, y)
    }

    /// The setup a page of `n` codes is drawn with: the same symbols, at the largest module size
    /// up to [`LARGEST_MODULE`] at which all `n` fit. A page of few codes draws them larger, so
    /// that they fill the page and a scan or photo of it has more pixels per module.
    pub(crate) fn for_codes(self, n: usize) -> QrSetup {
        (self.module..=LARGEST_MODULE.max(self.module))
            .rev()
            .map(|module| QrSetup { module, ..self })
            .find(|larger| larger.codes_per_page() >= n)
            .unwrap_or(self)
    }

    /// How many codes fit on the page.
    pub(crate) fn codes_per_page(self) -> usize {
        let (columns, rows) = self.grid();
        (columns * rows) as usize
    }

    /// Whether `text` fits in one symbol of this setup.
    fn fits(self, text: &str) -> bool {
        let mut bits = Bits::new(Version::Normal(self.version));
        bits.push_alphanumeric_data(text.as_bytes()).is_ok()
            && bits.push_terminator(self.ec).is_ok()
    }

    /// The most payload bytes one code carries (an even number, so that base45 uses whole
    /// groups), for a set of at most `codes_per_page` codes.
    pub(crate) fn chunk_bytes(self) -> usize {
        let total = u32::try_from(self.codes_per_page()).unwrap_or(qr_text::MAX_CODES);
        let longest = |chunk: usize| "0".repeat(framing::framed_len(chunk, total));
        let (mut low, mut high) = (0usize, 4096usize);
        while low + 1 < high {
            let mid = (low + high) / 2;
            if self.fits(&longest(mid)) { low = mid } else { high = mid }
        }
        low & !1
    }

    /// Whether the codes of a format-9 file of `len` bytes fit on one page.
    pub(crate) fn carries(self, len: usize) -> bool {
        let chunk = self.chunk_bytes();
        chunk != 0 && len.div_ceil(chunk) <= self.codes_per_page()
    }

    /// The texts of the codes for `payload`, or `None` when they do not fit on one page.
    pub(crate) fn texts(self, payload: &[u8]) -> Option<Vec<String>> {
        self.carries(payload.len()).then(|| framing::frame(payload, self.chunk_bytes()))
    }
}

/// Draws the page for `coins`, whose amount, count, tag and date `label` gives, with the QR
/// codes of `texts` ([`QrSetup::texts`] of the coins' format-9 bytes) drawn with `setup`, or,
/// when `texts` is `None` (the coins do not fit), the notice to export them as `pdf` for paper.
pub(crate) fn draw<C: Borrow<Coin>>(
    coins: &[C],
    texts: Option<&[String]>,
    label: &PngLabel,
    setup: QrSetup,
) -> Canvas {
    let mut page = Canvas::new(WIDTH, HEIGHT);
    let mut letters = Letters::new();
    page.lay(template());
    header(&mut page, &mut letters, label, texts.map(<[String]>::len));
    match texts {
        Some(texts) => codes(&mut page, &mut letters, texts, setup.for_codes(texts.len())),
        None => {
            page.lay(notice_template());
            no_codes(&mut page, &mut letters, label.coin_count(), setup);
        }
    }
    coin_list(&mut page, &mut letters, coins);
    footer(&mut page, &mut letters, label);
    page
}

/// What every page shows the same: the guilloche border, the heading and its rules,
/// CloudCoin, the warning, the last line of the instructions and the heading of the coin list.
/// Drawn once (the border alone is a few million dots) and laid on each page as
/// runs of pixels.
fn template() -> &'static Layer {
    static TEMPLATE: OnceLock<Layer> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let mut page = Canvas::new(WIDTH, HEIGHT);
        let mut letters = Letters::new();
        ornament::border(&mut page, BORDER.0, BORDER.1);
        fixed_header(&mut page, &mut letters);
        coin_list_heading(&mut page, &mut letters);
        page.layer_over(Ink::Paper)
    })
}

/// The panel of a page without codes and its fixed lettering ([`no_codes`] adds the count),
/// drawn once like [`template`].
fn notice_template() -> &'static Layer {
    static NOTICE: OnceLock<Layer> = OnceLock::new();
    NOTICE.get_or_init(|| {
        let mut page = Canvas::new(WIDTH, HEIGHT);
        notice(&mut page, &mut Letters::new());
        page.layer_over(Ink::Paper)
    })
}

/// `1 coin`, `6 coins`, `65,535 coins`.
fn count_text(n: usize) -> String {
    if n == 1 {
        return "1 coin".to_owned();
    }
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped} coins")
}

/// The last line of the instructions, the same on every page.
const KEEP_UNEDITED: &str =
    "Keep the file unedited: apps that recompress pictures (editors, chat apps) remove the coins.";
/// Baselines of the lines of instructions.
const INSTRUCTIONS: [u32; 3] = [872, 918, 964];

/// The parts of the header every page shows: the heading and its rules, CloudCoin, the
/// warning, and the last line of the instructions.
fn fixed_header(page: &mut Canvas, letters: &mut Letters) {
    let span = (LEFT, RIGHT);
    let heading = Style::new(Face::Serif, 40, Ink::Gold).spaced(14);
    let title = "CLOUDCOIN  PAPER  WALLET";
    letters.centred(page, span, 215, title, heading);
    let half = letters.width(title, heading) / 2 + 40;
    let middle = WIDTH / 2;
    ornament::rule(page, LEFT + 140, middle - half, 200);
    ornament::rule(page, middle + half, RIGHT - 140, 200);
    letters.centred(page, span, 600, "CloudCoin", Style::new(Face::Serif, 104, Ink::Blue));

    // The warning, in a tinted band ruled in red.
    let band = 752;
    page.fill(LEFT, band, RIGHT - LEFT, 70, Ink::Tint);
    page.fill(LEFT, band, RIGHT - LEFT, 3, Ink::Red);
    page.fill(LEFT, band + 67, RIGHT - LEFT, 3, Ink::Red);
    let warning = "WHOEVER HOLDS THIS PAPER OR THIS FILE CAN SPEND THE COINS.  KEEP IT LIKE CASH.";
    letters.centred(
        page,
        (LEFT + 30, RIGHT - 30),
        band + 49,
        warning,
        Style::new(Face::Serif, 36, Ink::Red),
    );
    letters.centred(page, span, INSTRUCTIONS[2], KEEP_UNEDITED, BODY);
}

/// The parts of the header that depend on the coins, over [`fixed_header`]'s: the amount, the
/// tag, count and date, and how to redeem the coins from a page of `codes` QR codes (`None`:
/// the coins do not fit and the page has none).
fn header(page: &mut Canvas, letters: &mut Letters, label: &PngLabel, codes: Option<usize>) {
    let span = (LEFT, RIGHT);
    let amount = label.amount().display_grouped();
    letters.centred(
        page,
        (LEFT + 60, RIGHT - 60),
        470,
        &amount,
        Style::new(Face::Serif, 250, Ink::Green),
    );
    let mut line = count_text(label.coin_count());
    if !label.date().is_empty() {
        line = format!("{line}  \u{b7}  {}", label.date());
    }
    let mut y = 672;
    if !label.tag().as_str().is_empty() {
        letters.centred(page, span, y, label.tag().as_str(), Style::new(Face::Sans, 56, Ink::Blue));
        y += 58;
    }
    letters.centred(page, span, y, &line, Style::new(Face::Sans, 40, Ink::Grey));

    let instructions = match codes {
        Some(n) => [
            "To redeem: import this PNG file, or a photo or scan of this whole page, into a CloudCoin",
            if n == 1 {
                "wallet that reads this code. A phone's camera app shows only text, not the coins."
            } else {
                "wallet that reads these codes (all of them, in any order). A phone's camera app shows only text."
            },
        ],
        None => [
            "To redeem: import this PNG file into a CloudCoin wallet. The coins are in the file only:",
            "a photo or scan of this page does not carry them, and a phone's camera app shows nothing.",
        ],
    };
    for (&y, line) in INSTRUCTIONS.iter().zip(instructions) {
        letters.centred(page, span, y, line, BODY);
    }
}

/// Draws the codes in rows under the header, each numbered under it.
fn codes(page: &mut Canvas, letters: &mut Letters, texts: &[String], setup: QrSetup) {
    let n = u32::try_from(texts.len()).expect("a page holds few codes");
    let side = setup.modules() * setup.module;
    for (i, text) in (0u32..).zip(texts) {
        let (x, y) = setup.position(i, n);
        symbol(page, x, y, text, setup);
        let label = format!("{} / {n}", i + 1);
        let label_top = y + side + QUIET * setup.module;
        letters.centred(page, (x, x + side), label_top + 27, &label, SMALL);
    }
}

/// Draws the QR symbol of `text` with its top left module at `(x, y)`.
fn symbol(page: &mut Canvas, x: u32, y: u32, text: &str, setup: QrSetup) {
    let mut bits = Bits::new(Version::Normal(setup.version));
    let code = bits
        .push_alphanumeric_data(text.as_bytes())
        .and_then(|()| bits.push_terminator(setup.ec))
        .and_then(|()| QrCode::with_bits(bits, setup.ec))
        .expect("texts are framed to fit one symbol");
    let width = u32::try_from(code.width()).expect("a symbol is at most 177 modules wide");
    let m = setup.module;
    for (i, colour) in (0u32..).zip(code.to_colors()) {
        if colour == Color::Dark {
            page.fill(x + (i % width) * m, y + (i / width) * m, m, m, Ink::Black);
        }
    }
}

/// The panel where the codes would be on a page whose coins are too many for them.
struct Panel {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

impl Panel {
    const fn new() -> Panel {
        let top = CODES_TOP + 60;
        Panel {
            left: LEFT + 60,
            top,
            width: RIGHT - LEFT - 120,
            height: BOTTOM - LIST_ROOM - top - 60,
        }
    }

    /// The span of its lines of text.
    const fn span(&self) -> (u32, u32) {
        (self.left + 60, self.left + self.width - 60)
    }

    const fn middle(&self) -> u32 {
        self.top + self.height / 2
    }
}

/// Baselines of the lines under the panel's headings, from its middle.
const NOTICE_LINES: [u32; 3] = [20, 84, 148];

/// The panel saying that the coins are too many for the codes of one page and are to be
/// exported as `pdf` for paper, without the line that counts them ([`no_codes`]).
fn notice(page: &mut Canvas, letters: &mut Letters) {
    let Panel { left, top, width, height } = Panel::new();
    page.fill(left, top, width, height, Ink::Tint);
    page.frame(left, top, width, height, 6, Ink::Gold);
    page.frame(left + 16, top + 16, width - 32, height - 32, 2, Ink::Gold);
    let (cx, cy) = ((left + width / 2) as f32, (top + 150) as f32);
    ornament::rosette(page, cx, cy, 70.0);

    let span = Panel::new().span();
    let middle = Panel::new().middle();
    letters.centred(
        page,
        span,
        middle - 250,
        "For paper, export as pdf",
        Style::new(Face::Serif, 120, Ink::Blue),
    );
    letters.centred(
        page,
        span,
        middle - 120,
        "THIS PICTURE CARRIES NO QR CODES",
        Style::new(Face::Serif, 56, Ink::Red).spaced(6),
    );
    let lines = [
        "A pdf export prints them on as many pages as they need, each page scannable on its own.",
        "The coins are in this PNG file: keep it unedited and import the file itself.",
    ];
    for (&y, line) in NOTICE_LINES[1..].iter().zip(lines) {
        letters.centred(page, span, middle + y, line, NOTICE_BODY);
    }
    ornament::rule(page, left + width / 2 - 300, left + width / 2 + 300, middle + 260);
}

/// The lines of text in the panel.
const NOTICE_BODY: Style = Style::new(Face::Sans, 42, Ink::Black);

/// Says, in the panel [`notice_template`] lays where the codes would be, how many coins there
/// are and how many a page carries with `setup`.
fn no_codes(page: &mut Canvas, letters: &mut Letters, count: usize, setup: QrSetup) {
    let capacity = setup.codes_per_page() * setup.chunk_bytes();
    let fit = capacity.saturating_sub(crate::bin::HEADER_LEN) / crate::bin::RECORD_LEN;
    let line = format!(
        "{} are too many for the QR codes of one page (a page carries at most {fit}).",
        count_text(count)
    );
    let panel = Panel::new();
    letters.centred(page, panel.span(), panel.middle() + NOTICE_LINES[0], &line, NOTICE_BODY);
}

/// Where the coin list starts.
const LIST_TOP: u32 = BOTTOM - LIST_ROOM + 10;

/// The rule above the coin list and its heading, the same on every page.
fn coin_list_heading(page: &mut Canvas, letters: &mut Letters) {
    ornament::rule(page, LEFT, RIGHT, LIST_TOP);
    let heading = Style::new(Face::Sans, 30, Ink::Black);
    letters.draw(page, LEFT, LIST_TOP + 44, "The coins (value #serial):", heading);
}

/// Lists the coins (denomination and serial number) in columns at the bottom of the page, as
/// many as fit, then how many more there are.
fn coin_list<C: Borrow<Coin>>(page: &mut Canvas, letters: &mut Letters, coins: &[C]) {
    let top = LIST_TOP;
    let line = 38;
    // More entries than the list has room for are never drawn.
    const MOST: usize = 200;
    let entries: Vec<String> = coins
        .iter()
        .take(MOST)
        .map(|c| {
            let c: &Coin = c.borrow();
            let value = c
                .value()
                .map_or_else(|| format!("code {}", c.denomination.code()), Amount::display_grouped);
            format!("{value} #{}", c.serial.get())
        })
        .collect();
    let widest = entries.iter().map(|e| letters.width(e, SMALL)).max().unwrap_or(0);
    let column = widest + 56;
    let columns = ((RIGHT - LEFT + 56) / column.max(1)).max(1) as usize;
    let rows = 5;
    let shown = if coins.len() <= columns * rows { coins.len() } else { columns * rows - 1 };
    let place = |i: usize| {
        let (col, row) = (i / rows, i % rows);
        let x = LEFT + u32::try_from(col).expect("few columns") * column;
        let y = top + 44 + line + u32::try_from(row).expect("few rows") * line;
        (x, y)
    };
    let ink = Style { ink: Ink::Black, ..SMALL };
    for (i, entry) in entries.iter().take(shown).enumerate() {
        let (x, y) = place(i);
        letters.draw(page, x, y, entry, ink);
    }
    if shown < coins.len() {
        let (x, y) = place(shown);
        letters.draw(page, x, y, &format!("and {} more", coins.len() - shown), SMALL);
    }
}

/// The name of the software that made the page, at the foot of it.
fn footer(page: &mut Canvas, letters: &mut Letters, label: &PngLabel) {
    let mut line = concat!("Made by cloudcoin-server ", env!("CARGO_PKG_VERSION")).to_owned();
    if !label.date().is_empty() {
        line = format!("{line} on {}", label.date());
    }
    line.push_str("  \u{b7}  a CloudCoin paper wallet (format 9)");
    letters.centred(page, (LEFT, RIGHT), BOTTOM - 6, &line, Style::new(Face::Sans, 26, Ink::Grey));
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber, Tag};

    fn coins(n: u32) -> Vec<Coin> {
        (0..n)
            .map(|sn| {
                Coin::new(
                    Denomination::from_code(0),
                    SerialNumber::new(sn),
                    [[sn as u8; 16]; RAIDA_COUNT],
                    [Pown::Pass; RAIDA_COUNT],
                )
            })
            .collect()
    }

    fn page_of(n: u32) -> Canvas {
        let coins = coins(n);
        let payload = crate::bin::encode_bin(&coins).expect("bin");
        let label = PngLabel::new(&coins, Tag::empty(), "2026-11-29").expect("label");
        draw(&coins, SETUP.texts(&payload).as_deref(), &label, SETUP)
    }

    fn count(page: &Canvas, ink: Ink, top: u32, bottom: u32) -> usize {
        (top..bottom)
            .flat_map(|y| (0..page.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| page.ink(x, y) == ink)
            .count()
    }

    /// The most coins whose format-9 bytes fit in the page's codes.
    fn most_coins(setup: QrSetup) -> usize {
        let bytes = setup.codes_per_page() * setup.chunk_bytes();
        (bytes - crate::bin::HEADER_LEN) / crate::bin::RECORD_LEN
    }

    #[test]
    fn a_page_carries_three_coins() {
        assert_eq!(most_coins(SETUP), 3);
        let n = u32::try_from(most_coins(SETUP)).expect("small");
        for fits in [1, 2, n] {
            let payload = crate::bin::encode_bin(&coins(fits)).expect("bin");
            assert!(SETUP.texts(&payload).is_some(), "{fits} coins fit");
        }
        let payload = crate::bin::encode_bin(&coins(n + 1)).expect("bin");
        assert_eq!(SETUP.texts(&payload), None, "{} coins do not fit", n + 1);
    }

    #[test]
    fn every_code_is_a_full_symbol_of_the_setup_and_inside_the_page() {
        let chunk = SETUP.chunk_bytes();
        let total = u32::try_from(SETUP.codes_per_page()).expect("small");
        assert!(SETUP.fits(&"0".repeat(framing::framed_len(chunk, total))));
        assert!(!SETUP.fits(&"0".repeat(framing::framed_len(chunk + 2, total))));
        for n in 1..=total {
            let setup = SETUP.for_codes(n as usize);
            assert!(setup.module >= SETUP.module && setup.codes_per_page() >= n as usize);
            let side = setup.modules() * setup.module;
            for i in 0..n {
                let (x, y) = setup.position(i, n);
                let quiet = QUIET * setup.module;
                assert!(x >= LEFT + quiet && x + side + quiet <= RIGHT);
                assert!(y >= CODES_TOP + quiet, "{n} codes");
                assert!(y + side + quiet + CODE_LABEL <= BOTTOM - LIST_ROOM);
            }
        }
    }

    #[test]
    fn every_code_keeps_its_own_quiet_zone_of_four_modules() {
        const { assert!(QUIET >= 4) };
        let total = u32::try_from(SETUP.codes_per_page()).expect("small");
        for n in 1..=total {
            let setup = SETUP.for_codes(n as usize);
            let reach = setup.modules() * setup.module + QUIET * setup.module;
            // Each code's symbol grown by its quiet zone, as [left, right) × [top, bottom).
            let zones: Vec<(u32, u32, u32, u32)> = (0..n)
                .map(|i| {
                    let (x, y) = setup.position(i, n);
                    let quiet = QUIET * setup.module;
                    (x - quiet, x + reach, y - quiet, y + reach)
                })
                .collect();
            for (a, za) in zones.iter().enumerate() {
                for zb in &zones[a + 1..] {
                    let apart = za.1 <= zb.0 || zb.1 <= za.0 || za.3 <= zb.2 || zb.3 <= za.2;
                    assert!(apart, "{n} codes: quiet zones {za:?} and {zb:?} overlap");
                }
            }
        }
    }

    #[test]
    fn few_codes_are_drawn_larger_and_a_full_page_at_the_setup() {
        assert_eq!(SETUP.for_codes(1).module, LARGEST_MODULE);
        assert!(SETUP.for_codes(2).module >= SETUP.module, "a 1-coin page");
        assert_eq!(SETUP.for_codes(SETUP.codes_per_page()), SETUP);
        let sizes: Vec<u32> =
            (1..=SETUP.codes_per_page()).map(|n| SETUP.for_codes(n).module).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        // Only the module size changes: the symbols are the setup's.
        let one = SETUP.for_codes(1);
        assert_eq!((one.version, one.ec), (SETUP.version, SETUP.ec));
    }

    #[test]
    fn too_many_coins_draw_no_codes_and_say_so() {
        let n = u32::try_from(most_coins(SETUP)).expect("small");
        let carried = page_of(n);
        let not_carried = page_of(n + 1);
        let codes_area = (CODES_TOP, BOTTOM - LIST_ROOM);
        let modules = count(&carried, Ink::Black, codes_area.0, codes_area.1);
        assert!(modules > 500_000, "{modules}");
        assert_eq!(count(&carried, Ink::Red, codes_area.0, codes_area.1), 0);
        // No QR module where the codes would be, only the notice, set large, and its text.
        assert!(count(&not_carried, Ink::Black, codes_area.0, codes_area.1) < modules / 10);
        assert!(count(&not_carried, Ink::Blue, codes_area.0, codes_area.1) > 20_000);
        assert_eq!(count(&carried, Ink::Blue, codes_area.0, codes_area.1), 0);
    }

    #[test]
    fn the_quiet_zones_are_blank_and_the_codes_pure_black() {
        for coins_on_page in [1, most_coins(SETUP)] {
            let coins_on_page = u32::try_from(coins_on_page).expect("small");
            let payload = crate::bin::encode_bin(&coins(coins_on_page)).expect("bin");
            let n = u32::try_from(SETUP.texts(&payload).expect("fits").len()).expect("small");
            let page = page_of(coins_on_page);
            let setup = SETUP.for_codes(n as usize);
            let quiet = QUIET * setup.module;
            let side = setup.modules() * setup.module;
            for i in 0..n {
                let (x, y) = setup.position(i, n);
                for py in y - quiet..y + side + quiet {
                    for px in x - quiet..x + side + quiet {
                        let inside = (x..x + side).contains(&px) && (y..y + side).contains(&py);
                        let ink = page.ink(px, py);
                        assert!(!page.is_partial(px, py), "a blend at {px},{py}");
                        if inside {
                            assert!(matches!(ink, Ink::Black | Ink::Paper), "{ink:?} at {px},{py}");
                        } else {
                            assert_eq!(
                                ink,
                                Ink::Paper,
                                "the quiet zone of code {i} of {n} at {px},{py}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count_text(1), "1 coin");
        assert_eq!(count_text(999), "999 coins");
        assert_eq!(count_text(65_535), "65,535 coins");
        assert_eq!(count_text(1_000_000), "1,000,000 coins");
    }
}
