//! The picture of a PNG coin file: a printable "paper wallet" drawn with the 8×8 bitmap font.

use cloudcoin_domain::{Amount, Coin, Tag, total_value};

use crate::error::CodecError;
use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};
use image::{Rgb, RgbImage};

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
    pub fn new(coins: &[Coin], tag: Tag, date: impl Into<String>) -> Result<PngLabel, CodecError> {
        if coins.len() > crate::bin::MAX_COINS {
            return Err(CodecError::TooManyCoins { count: coins.len() });
        }
        let amount =
            total_value(coins).expect("65,535 coins of the largest denomination fit in an amount");
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

/// Picture width in pixels.
pub(crate) const WIDTH: u32 = 800;
/// Picture height in pixels.
pub(crate) const HEIGHT: u32 = 400;
/// Side of a font glyph in font pixels.
const GLYPH: u32 = 8;
/// Room kept free at the left and right of each text line.
const MARGIN: u32 = 40;

const PAPER_TOP: Rgb<u8> = Rgb([255, 251, 238]);
const PAPER_BOTTOM: Rgb<u8> = Rgb([246, 232, 196]);
const GOLD: Rgb<u8> = Rgb([184, 134, 11]);
const INK: Rgb<u8> = Rgb([20, 40, 90]);
const AMOUNT_INK: Rgb<u8> = Rgb([10, 90, 40]);
const SOFT_INK: Rgb<u8> = Rgb([90, 90, 90]);

/// Draws the picture for `label`.
pub(crate) fn render(label: &PngLabel) -> RgbImage {
    let mut img =
        RgbImage::from_fn(WIDTH, HEIGHT, |_, y| blend(PAPER_TOP, PAPER_BOTTOM, y, HEIGHT));
    frame(&mut img, 0, 10, GOLD);
    frame(&mut img, 16, 2, GOLD);

    text_centered(&mut img, "CloudCoin", 36, 4, INK);
    text_centered(&mut img, &label.amount.display_grouped(), 120, 9, AMOUNT_INK);
    if !label.tag.as_str().is_empty() {
        text_centered(&mut img, label.tag.as_str(), 222, 3, INK);
    }
    let coins = match label.coin_count {
        1 => "1 coin".to_owned(),
        n => format!("{n} coins"),
    };
    text_centered(&mut img, &coins, 272, 3, INK);
    text_centered(&mut img, &label.date, 326, 2, SOFT_INK);
    img
}

/// The colour `y/height` of the way from `a` to `b`.
fn blend(a: Rgb<u8>, b: Rgb<u8>, y: u32, height: u32) -> Rgb<u8> {
    let mix = |x: u8, z: u8| {
        let (x, z) = (u32::from(x), u32::from(z));
        let v = (x * (height - y) + z * y) / height;
        u8::try_from(v).expect("a weighted mean of two bytes is a byte")
    };
    Rgb([mix(a.0[0], b.0[0]), mix(a.0[1], b.0[1]), mix(a.0[2], b.0[2])])
}

/// A rectangular frame `thickness` pixels wide, `inset` pixels in from the edges.
fn frame(img: &mut RgbImage, inset: u32, thickness: u32, colour: Rgb<u8>) {
    let (w, h) = img.dimensions();
    for y in inset..h - inset {
        for x in inset..w - inset {
            let inside = x >= inset + thickness
                && x < w - inset - thickness
                && y >= inset + thickness
                && y < h - inset - thickness;
            if !inside {
                img.put_pixel(x, y, colour);
            }
        }
    }
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

/// Draws `text` centred horizontally with its top at `top`, each font pixel a `scale`×`scale`
/// block, shrinking the scale (to no less than 1) until the line fits between the margins.
fn text_centered(img: &mut RgbImage, text: &str, top: u32, scale: u32, colour: Rgb<u8>) {
    let chars = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
    if chars == 0 {
        return;
    }
    let room = img.width() - 2 * MARGIN;
    let fitting = (room / chars.saturating_mul(GLYPH)).clamp(1, scale.max(1));
    let width = chars.saturating_mul(GLYPH * fitting);
    let left = img.width().saturating_sub(width) / 2;
    for (i, c) in (0u32..).zip(text.chars()) {
        let x0 = left + i * GLYPH * fitting;
        for (row, bits) in (0u32..).zip(glyph(c)) {
            for col in 0..GLYPH {
                if bits & (1 << col) == 0 {
                    continue;
                }
                fill(img, x0 + col * fitting, top + row * fitting, fitting, colour);
            }
        }
    }
}

/// Fills a `side`×`side` square, clipped to the picture.
fn fill(img: &mut RgbImage, x0: u32, y0: u32, side: u32, colour: Rgb<u8>) {
    for y in y0..(y0 + side).min(img.height()) {
        for x in x0..(x0 + side).min(img.width()) {
            img.put_pixel(x, y, colour);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(amount: &str, tag: &str) -> PngLabel {
        PngLabel {
            amount: Amount::parse_request(amount).expect("amount"),
            tag: Tag::parse(tag).expect("tag"),
            coin_count: 6,
            date: "2026-11-29".into(),
        }
    }

    #[test]
    fn the_label_is_worked_out_from_the_coins() {
        use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};
        let coin = |code, sn| {
            Coin::new(
                Denomination::from_code(code),
                SerialNumber::new(sn),
                [[0; 16]; RAIDA_COUNT],
                [Pown::Pass; RAIDA_COUNT],
            )
        };
        let coins = [coin(1, 1), coin(-1, 2), coin(11, 3)];
        let label = PngLabel::new(&coins, Tag::empty(), "today").expect("fits");
        assert_eq!(label.amount(), Amount::parse_request("10.1").expect("amount"));
        assert_eq!(label.coin_count(), 3);
        assert_eq!(label.date(), "today");
        let many: Vec<Coin> = (0..=65_535).map(|sn| coin(6, sn)).collect();
        assert!(matches!(
            PngLabel::new(&many, Tag::empty(), ""),
            Err(CodecError::TooManyCoins { count: 65_536 })
        ));
        assert!(PngLabel::new(&many[..65_535], Tag::empty(), "").is_ok());
    }

    fn ink_pixels(img: &RgbImage, colour: Rgb<u8>) -> usize {
        img.pixels().filter(|p| **p == colour).count()
    }

    #[test]
    fn the_amount_is_drawn_and_changes_the_picture() {
        let a = render(&label("10.5", "payment"));
        let b = render(&label("1000", "payment"));
        assert_eq!(a.dimensions(), (WIDTH, HEIGHT));
        assert!(ink_pixels(&a, AMOUNT_INK) > 1000);
        assert_ne!(a, b);
    }

    #[test]
    fn long_text_is_shrunk_to_fit() {
        // 22 characters at scale 9 would be 1,584 pixels wide; it must stay inside the frame.
        let img = render(&label("99999999999.99999999", &"x".repeat(64)));
        for y in 0..HEIGHT {
            for x in 0..MARGIN / 2 {
                assert_ne!(*img.get_pixel(x + 20, y), AMOUNT_INK);
            }
        }
    }

    #[test]
    fn unknown_characters_draw_a_question_mark() {
        assert_eq!(glyph('€'), BASIC_LEGACY[usize::from(b'?')]);
        assert_eq!(glyph('A'), BASIC_LEGACY[65]);
        assert_ne!(glyph('é'), BASIC_LEGACY[usize::from(b'?')]);
    }
}
