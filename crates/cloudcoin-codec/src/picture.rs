//! The page of a PNG coin file: what it says about its coins ([`PngLabel`]), and the drawing
//! primitives (a canvas of a few inks, text in the 8×8 bitmap font, filled boxes) that `page`
//! lays the paper wallet out with.

use std::borrow::Borrow;

use cloudcoin_domain::{Amount, Coin, Tag, total_value};
use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};

use crate::error::CodecError;

/// What the page of a PNG coin file says about its coins: their total value and count, worked
/// out from the coins themselves, and the caller's tag and date.
///
/// [`write_coins`](crate::write_coins) builds it from the coins and the
/// [`WriteOptions`](crate::WriteOptions); it is public so that a caller can see what a page will
/// say. Only the tag and the date are the caller's, so the page can never contradict the coins.
///
/// ```
/// use cloudcoin_codec::PngLabel;
/// use cloudcoin_domain::{Amount, Coin, Denomination, Pown, SerialNumber, Tag, RAIDA_COUNT};
///
/// let coin = |code, sn| Coin::new(
///     Denomination::from_code(code),
///     SerialNumber::new(sn),
///     [[0; 16]; RAIDA_COUNT],
///     [Pown::Pass; RAIDA_COUNT],
/// );
/// let label = PngLabel::new(&[coin(1, 1), coin(-1, 2)], Tag::empty(), "2026-11-29").unwrap();
/// assert_eq!(label.amount(), Amount::parse_request("10.1").unwrap());
/// assert_eq!(label.coin_count(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngLabel {
    amount: Amount,
    coin_count: usize,
    tag: Tag,
    date: String,
}

impl PngLabel {
    /// The label of a page holding `coins`, showing `tag` and `date` (already formatted, e.g.
    /// `2026-11-29`; empty shows no date). Coins whose denomination is not money count as coins
    /// but add nothing to the amount.
    ///
    /// Fails with [`CodecError::TooManyCoins`] for more coins than one PNG file can hold.
    pub fn new<C: Borrow<Coin>>(
        coins: &[C],
        tag: Tag,
        date: impl Into<String>,
    ) -> Result<PngLabel, CodecError> {
        if coins.len() > crate::bin::MAX_COINS {
            return Err(CodecError::TooManyCoins { count: coins.len() });
        }
        let amount = total_value(coins.iter().map(Borrow::borrow))
            .expect("65,535 coins of the largest denomination fit in an amount");
        Ok(PngLabel { amount, coin_count: coins.len(), tag, date: date.into() })
    }

    /// The total value of the coins, shown large with thousands separators.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// How many coins the file holds.
    pub fn coin_count(&self) -> usize {
        self.coin_count
    }

    /// The tag, shown under the amount (nothing when empty).
    pub fn tag(&self) -> &Tag {
        &self.tag
    }

    /// The date shown at the bottom (nothing when empty).
    pub fn date(&self) -> &str {
        &self.date
    }
}

/// The inks of the page, as RGB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Ink {
    /// The paper.
    Paper = 0,
    /// Black, for QR codes and the main text.
    Black,
    /// Dark blue, for headings.
    Blue,
    /// Dark green, for the amount.
    Green,
    /// Dark red, for warnings.
    Red,
    /// Grey, for secondary text.
    Grey,
    /// Gold, for the frame.
    Gold,
    /// A pale tint, for boxes behind text.
    Tint,
}

impl Ink {
    const ALL: [Ink; 8] =
        [Ink::Paper, Ink::Black, Ink::Blue, Ink::Green, Ink::Red, Ink::Grey, Ink::Gold, Ink::Tint];

    /// The colour of the ink.
    pub(crate) const fn rgb(self) -> [u8; 3] {
        match self {
            Ink::Paper => [255, 255, 255],
            Ink::Black => [0, 0, 0],
            Ink::Blue => [20, 40, 100],
            Ink::Green => [10, 90, 40],
            Ink::Red => [160, 20, 20],
            Ink::Grey => [90, 90, 90],
            Ink::Gold => [184, 134, 11],
            Ink::Tint => [255, 246, 222],
        }
    }

    /// The bytes of a PNG `PLTE` chunk giving every ink's colour at its index.
    pub(crate) fn palette() -> [u8; 24] {
        let mut out = [0u8; 24];
        for (entry, ink) in out.chunks_exact_mut(3).zip(Ink::ALL) {
            entry.copy_from_slice(&ink.rgb());
        }
        out
    }

    /// The ink stored as `index` on a canvas.
    fn from_index(index: u8) -> Ink {
        Ink::ALL[usize::from(index) % Ink::ALL.len()]
    }
}

/// Side of a font glyph in font pixels.
pub(crate) const GLYPH: u32 = 8;

/// A page being drawn: one ink per pixel, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Canvas {
    width: u32,
    height: u32,
    inks: Vec<u8>,
}

impl Canvas {
    /// A blank page.
    pub(crate) fn new(width: u32, height: u32) -> Canvas {
        let len = usize::try_from(u64::from(width) * u64::from(height))
            .expect("a page's pixel count fits in memory");
        Canvas { width, height, inks: vec![Ink::Paper as u8; len] }
    }

    pub(crate) fn width(&self) -> u32 {
        self.width
    }

    pub(crate) fn height(&self) -> u32 {
        self.height
    }

    /// The ink at `(x, y)`.
    #[cfg(test)]
    pub(crate) fn ink(&self, x: u32, y: u32) -> Ink {
        Ink::from_index(self.inks[self.offset(x, y)])
    }

    fn offset(&self, x: u32, y: u32) -> usize {
        usize::try_from(u64::from(y) * u64::from(self.width) + u64::from(x))
            .expect("a pixel offset fits in memory")
    }

    /// Row `y` as 4-bit indices into [`PALETTE`], into `out`: two pixels a byte, the left one in
    /// the high half, as a PNG of bit depth 4 stores them.
    pub(crate) fn indexed_row(&self, y: u32, out: &mut Vec<u8>) {
        out.clear();
        let start = self.offset(0, y);
        let row = &self.inks[start..start + self.width as usize];
        out.extend(row.chunks(2).map(|pair| {
            let index = |i: Option<&u8>| i.map_or(0, |&i| Ink::from_index(i) as u8);
            (index(pair.first()) << 4) | index(pair.get(1))
        }));
    }

    /// Fills the rectangle of `w`×`h` pixels at `(x, y)`, clipped to the page.
    pub(crate) fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, ink: Ink) {
        let x_end = x.saturating_add(w).min(self.width);
        let y_end = y.saturating_add(h).min(self.height);
        if x >= x_end {
            return;
        }
        for row in y..y_end {
            let start = self.offset(x, row);
            let end = self.offset(x_end, row);
            self.inks[start..end].fill(ink as u8);
        }
    }

    /// A frame `thickness` pixels wide around the rectangle `w`×`h` at `(x, y)`.
    pub(crate) fn frame(&mut self, x: u32, y: u32, w: u32, h: u32, thickness: u32, ink: Ink) {
        self.fill(x, y, w, thickness, ink);
        self.fill(x, (y + h).saturating_sub(thickness), w, thickness, ink);
        self.fill(x, y, thickness, h, ink);
        self.fill((x + w).saturating_sub(thickness), y, thickness, h, ink);
    }

    /// Draws `text` with its top left corner at `(x, y)`, each font pixel a `scale`×`scale`
    /// block. Returns the width drawn.
    pub(crate) fn text(&mut self, x: u32, y: u32, text: &str, scale: u32, ink: Ink) -> u32 {
        let mut left = x;
        for c in text.chars() {
            for (row, bits) in (0u32..).zip(glyph(c)) {
                for col in 0..GLYPH {
                    if bits & (1 << col) != 0 {
                        self.fill(left + col * scale, y + row * scale, scale, scale, ink);
                    }
                }
            }
            left += GLYPH * scale;
        }
        left - x
    }

    /// Draws `text` centred between `left` and `right`, at the largest scale up to `scale` at
    /// which it fits (never below 1). Returns the scale used.
    pub(crate) fn text_centered(
        &mut self,
        left: u32,
        right: u32,
        y: u32,
        text: &str,
        scale: u32,
        ink: Ink,
    ) -> u32 {
        let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX).max(1);
        let room = right.saturating_sub(left);
        let fitting = (room / chars.saturating_mul(GLYPH)).clamp(1, scale.max(1));
        let width = chars.saturating_mul(GLYPH * fitting);
        self.text(left + room.saturating_sub(width) / 2, y, text, fitting, ink);
        fitting
    }
}

/// Width in pixels of `text` drawn at `scale`.
pub(crate) fn text_width(text: &str, scale: u32) -> u32 {
    u32::try_from(text.chars().count()).unwrap_or(u32::MAX).saturating_mul(GLYPH * scale)
}

/// The 8×8 glyph for `c` (row by row, least significant bit leftmost); `?` when the font has none.
fn glyph(c: char) -> [u8; 8] {
    let code = u32::from(c);
    let index = |base: u32| usize::try_from(code - base).expect("a char code fits in usize");
    let found = match code {
        0x20..=0x7E => BASIC_LEGACY.get(index(0)),
        0xA0..=0xFF => LATIN_LEGACY.get(index(0xA0)),
        _ => None,
    };
    found.copied().unwrap_or(BASIC_LEGACY[usize::from(b'?')])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(c: &Canvas, ink: Ink) -> usize {
        (0..c.height())
            .flat_map(|y| (0..c.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| c.ink(x, y) == ink)
            .count()
    }

    #[test]
    fn fills_are_clipped_to_the_page() {
        let mut c = Canvas::new(10, 10);
        c.fill(8, 8, 5, 5, Ink::Red);
        assert_eq!(count(&c, Ink::Red), 4);
        c.fill(20, 0, 5, 5, Ink::Red);
        assert_eq!(count(&c, Ink::Red), 4);
        c.frame(0, 0, 10, 10, 1, Ink::Gold);
        // The frame is drawn over three of the red pixels.
        assert_eq!(count(&c, Ink::Gold), 36);
        assert_eq!(count(&c, Ink::Red), 1);
    }

    #[test]
    fn text_is_drawn_and_centred_text_shrinks_to_fit() {
        let mut c = Canvas::new(200, 40);
        assert_eq!(c.text(0, 0, "Hi", 2, Ink::Blue), 32);
        assert!(count(&c, Ink::Blue) > 20);
        // Ten characters at scale 4 would be 320 pixels; only scale 2 fits in 200.
        assert_eq!(c.text_centered(0, 200, 0, "0123456789", 4, Ink::Green), 2);
        assert_eq!(text_width("0123456789", 2), 160);
        let mut row = Vec::new();
        c.indexed_row(0, &mut row);
        assert_eq!(row.len(), 100);
        let mut odd = Canvas::new(3, 1);
        odd.fill(0, 0, 1, 1, Ink::Tint);
        odd.fill(2, 0, 1, 1, Ink::Red);
        odd.indexed_row(0, &mut row);
        assert_eq!(row, [(Ink::Tint as u8) << 4, (Ink::Red as u8) << 4]);
        let palette = Ink::palette();
        for ink in Ink::ALL {
            let i = 3 * usize::from(ink as u8);
            assert_eq!(palette[i..i + 3], ink.rgb());
        }
    }

    #[test]
    fn unknown_characters_draw_a_question_mark() {
        assert_eq!(glyph('€'), BASIC_LEGACY[usize::from(b'?')]);
        assert_eq!(glyph('A'), BASIC_LEGACY[65]);
        assert_ne!(glyph('é'), BASIC_LEGACY[usize::from(b'?')]);
    }
}
