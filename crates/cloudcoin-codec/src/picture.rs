//! The page of a PNG coin file: what it says about its coins ([`PngLabel`]), and the drawing
//! primitives (a canvas of a few inks and their anti-aliased blends, filled boxes) that `page`
//! lays the paper wallet out with; the lettering is [`crate::lettering`]'s.

use std::borrow::Borrow;

use cloudcoin_domain::{Amount, Coin, Tag, total_value};

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

/// The inks of the page. A pixel holds one of them, or the edge of a letter or a line: a blend of
/// a drawing ink over the paper or the tint, in [`LEVELS`] steps (see [`Canvas::cover`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Ink {
    /// The paper.
    Paper = 0,
    /// The light green of the guilloche border.
    Line,
    /// The light gold of the guilloche border.
    LineGold,
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
    /// Gold, for rules and ornaments.
    Gold,
    /// A pale tint, for boxes behind text.
    Tint,
}

/// Steps of coverage of an edge pixel, from nothing to full ink.
const LEVELS: u32 = 16;

/// The inks that blend (everything drawn over the paper or the tint).
const DRAWING: [Ink; 8] =
    [Ink::Black, Ink::Blue, Ink::Green, Ink::Red, Ink::Grey, Ink::Gold, Ink::Line, Ink::LineGold];
/// The grounds they blend over.
const GROUNDS: [Ink; 2] = [Ink::Paper, Ink::Tint];
/// Palette entries of the plain inks; the blends follow them.
const PLAIN: u8 = 10;
/// Entries of the whole palette.
const ENTRIES: usize = PLAIN as usize + DRAWING.len() * GROUNDS.len() * (LEVELS as usize - 1);

/// What a pixel of the canvas holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pixel {
    Plain(Ink),
    /// `drawing` (an index in [`DRAWING`]) over `ground` (in [`GROUNDS`]) at `level` of
    /// [`LEVELS`] (1 to `LEVELS - 1`).
    Blend {
        drawing: u8,
        ground: u8,
        level: u8,
    },
}

impl Pixel {
    fn index(self) -> u8 {
        match self {
            Pixel::Plain(ink) => ink as u8,
            Pixel::Blend { drawing, ground, level } => {
                let steps = LEVELS as u8 - 1;
                PLAIN + (drawing * GROUNDS.len() as u8 + ground) * steps + level - 1
            }
        }
    }

    fn of(index: u8) -> Pixel {
        if index < PLAIN {
            return Pixel::Plain(Ink::ALL[usize::from(index)]);
        }
        let steps = LEVELS as u8 - 1;
        let i = index - PLAIN;
        let (pair, level) = (i / steps, i % steps + 1);
        let grounds = GROUNDS.len() as u8;
        Pixel::Blend { drawing: pair / grounds, ground: pair % grounds, level }
    }

    fn rgb(self) -> [u8; 3] {
        match self {
            Pixel::Plain(ink) => ink.rgb(),
            Pixel::Blend { drawing, ground, level } => {
                let (top, under) =
                    (DRAWING[usize::from(drawing)].rgb(), GROUNDS[usize::from(ground)].rgb());
                let mix = |a: u8, b: u8| {
                    let (a, b, l) = (u32::from(a), u32::from(b), u32::from(level));
                    u8::try_from((a * l + b * (LEVELS - l) + LEVELS / 2) / LEVELS)
                        .expect("a mix of two bytes")
                };
                [mix(top[0], under[0]), mix(top[1], under[1]), mix(top[2], under[2])]
            }
        }
    }
}

impl Ink {
    const ALL: [Ink; PLAIN as usize] = [
        Ink::Paper,
        Ink::Line,
        Ink::LineGold,
        Ink::Black,
        Ink::Blue,
        Ink::Green,
        Ink::Red,
        Ink::Grey,
        Ink::Gold,
        Ink::Tint,
    ];

    /// The colour of the ink.
    pub(crate) const fn rgb(self) -> [u8; 3] {
        match self {
            Ink::Paper => [255, 255, 255],
            Ink::Black => [0, 0, 0],
            Ink::Blue => [22, 42, 92],
            Ink::Green => [12, 82, 48],
            Ink::Red => [150, 22, 22],
            Ink::Grey => [88, 90, 96],
            Ink::Gold => [160, 118, 30],
            Ink::Tint => [252, 246, 230],
            Ink::Line => [146, 188, 160],
            Ink::LineGold => [214, 184, 118],
        }
    }

    /// The bytes of a PNG `PLTE` chunk giving the colour of every index a canvas holds.
    pub(crate) fn palette() -> Vec<u8> {
        let index = u8::try_from(ENTRIES).expect("the palette has at most 256 entries");
        (0..index).flat_map(|i| Pixel::of(i).rgb()).collect()
    }

    /// This ink's place in [`DRAWING`], if it blends.
    fn drawing(self) -> Option<u8> {
        DRAWING.iter().position(|&d| d == self).map(|i| i as u8)
    }
}

/// Pixels drawn once and laid on many pages ([`Canvas::layer_over`], [`Canvas::lay`]): runs of
/// one palette index along the rows, so a box of tint or a fine line costs a run, not a pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layer {
    width: u32,
    height: u32,
    runs: Vec<Run>,
}

/// `len` pixels of `index` from pixel `offset` (counted row by row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    offset: u32,
    len: u16,
    index: u8,
}

/// A page being drawn: one palette index per pixel, row by row.
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

    /// The ink that shows at `(x, y)`: a blend counts as its drawing ink from half coverage on,
    /// as its ground below.
    #[cfg(test)]
    pub(crate) fn ink(&self, x: u32, y: u32) -> Ink {
        match Pixel::of(self.inks[self.offset(x, y)]) {
            Pixel::Plain(ink) => ink,
            Pixel::Blend { drawing, ground, level } => {
                if u32::from(level) * 2 >= LEVELS {
                    DRAWING[usize::from(drawing)]
                } else {
                    GROUNDS[usize::from(ground)]
                }
            }
        }
    }

    /// Whether `(x, y)` is the edge of something drawn (a blend).
    #[cfg(test)]
    pub(crate) fn is_partial(&self, x: u32, y: u32) -> bool {
        matches!(Pixel::of(self.inks[self.offset(x, y)]), Pixel::Blend { .. })
    }

    fn offset(&self, x: u32, y: u32) -> usize {
        usize::try_from(u64::from(y) * u64::from(self.width) + u64::from(x))
            .expect("a pixel offset fits in memory")
    }

    /// Row `y`: one palette index a pixel, as a PNG of bit depth 8 stores them.
    pub(crate) fn row(&self, y: u32) -> &[u8] {
        let start = self.offset(0, y);
        &self.inks[start..start + self.width as usize]
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

    /// What is drawn on this canvas over `ground` (the ink of every pixel that is not
    /// `ground`), as a [`Layer`] to lay on other canvases of the same size.
    pub(crate) fn layer_over(&self, ground: Ink) -> Layer {
        let ground = ground as u8;
        let mut runs: Vec<Run> = Vec::new();
        for (offset, &index) in (0u32..).zip(&self.inks) {
            if index == ground {
                continue;
            }
            match runs.last_mut() {
                Some(run)
                    if run.index == index
                        && run.len < u16::MAX
                        && run.offset + u32::from(run.len) == offset =>
                {
                    run.len += 1;
                }
                _ => runs.push(Run { offset, len: 1, index }),
            }
        }
        Layer { width: self.width, height: self.height, runs }
    }

    /// Lays `layer` (made by [`Canvas::layer_over`] from a canvas of the same size) over this
    /// canvas: its pixels replace what is under them.
    pub(crate) fn lay(&mut self, layer: &Layer) {
        debug_assert_eq!((layer.width, layer.height), (self.width, self.height));
        for run in &layer.runs {
            let start = run.offset as usize;
            if let Some(pixels) = self.inks.get_mut(start..start + usize::from(run.len)) {
                pixels.fill(run.index);
            }
        }
    }

    /// Lays `ink` over `(x, y)` at `coverage` (0: none, 255: all), anti-aliasing the edges of
    /// letters and lines: a partly covered pixel of the paper or the tint becomes a blend; where
    /// the same ink already lies the more covering wins; over another ink the new one shows
    /// from half coverage on. Outside the page nothing is drawn.
    pub(crate) fn cover(&mut self, x: u32, y: u32, coverage: u8, ink: Ink) {
        if x >= self.width || y >= self.height {
            return;
        }
        let level = (u32::from(coverage) * LEVELS + 128) / 256;
        if level == 0 {
            return;
        }
        let offset = self.offset(x, y);
        let Some(drawing) = ink.drawing().filter(|_| level < LEVELS) else {
            self.inks[offset] = ink as u8;
            return;
        };
        let level = level as u8;
        let blend = |ground: u8, level: u8| Pixel::Blend { drawing, ground, level }.index();
        self.inks[offset] = match Pixel::of(self.inks[offset]) {
            Pixel::Plain(Ink::Paper) => blend(0, level),
            Pixel::Plain(Ink::Tint) => blend(1, level),
            Pixel::Blend { drawing: d, ground, level: l } if d == drawing => {
                blend(ground, l.max(level))
            }
            _ if u32::from(level) * 2 >= LEVELS => ink as u8,
            _ => return,
        };
    }
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
        c.cover(10, 3, 255, Ink::Red);
        assert_eq!(count(&c, Ink::Red), 1);
    }

    #[test]
    fn partial_cover_blends_over_the_ground_and_keeps_the_most() {
        let mut c = Canvas::new(4, 1);
        c.fill(1, 0, 1, 1, Ink::Tint);
        c.fill(2, 0, 1, 1, Ink::Black);
        for x in 0..4 {
            c.cover(x, 0, 64, Ink::Blue);
        }
        assert!(c.is_partial(0, 0) && c.is_partial(1, 0) && c.is_partial(3, 0));
        assert_eq!(c.ink(2, 0), Ink::Black, "a quarter of blue leaves another ink alone");
        // A quarter of blue over the tint is between the two.
        let blend = Pixel::of(c.row(0)[1]).rgb();
        let (tint, blue) = (Ink::Tint.rgb(), Ink::Blue.rgb());
        assert!(
            (0..3).all(|i| blue[i].min(tint[i]) <= blend[i] && blend[i] <= blue[i].max(tint[i]))
        );
        assert_ne!(blend, tint);
        c.cover(0, 0, 200, Ink::Blue);
        c.cover(0, 0, 30, Ink::Blue);
        assert_eq!(c.ink(0, 0), Ink::Blue, "the more covering wins");
        c.cover(3, 0, 255, Ink::Blue);
        assert!(!c.is_partial(3, 0));
        c.cover(2, 0, 200, Ink::Gold);
        assert_eq!(c.ink(2, 0), Ink::Gold);
        c.cover(1, 0, 0, Ink::Red);
        assert_eq!(c.ink(1, 0), Ink::Tint);
    }

    #[test]
    fn a_layer_lays_what_was_drawn_over_its_ground_and_nothing_else() {
        let mut drawn = Canvas::new(40, 30);
        drawn.fill(0, 0, 40, 30, Ink::Tint);
        drawn.fill(5, 5, 30, 3, Ink::Red);
        drawn.frame(0, 0, 40, 30, 1, Ink::Gold);
        for x in 0..40 {
            drawn.cover(x, 20, 100, Ink::Blue);
        }
        let layer = drawn.layer_over(Ink::Tint);
        // Runs, not pixels: the red bar and the frame's rows are one run each.
        assert!(layer.runs.len() < 40 + 3 + 2 * 28, "{}", layer.runs.len());
        let mut page = Canvas::new(40, 30);
        page.fill(0, 10, 40, 20, Ink::Green);
        page.lay(&layer);
        for y in 0..30 {
            let under = if y >= 10 { Ink::Green } else { Ink::Paper } as u8;
            for (x, (&laid, &was)) in page.row(y).iter().zip(drawn.row(y)).enumerate() {
                let expected = if was == Ink::Tint as u8 { under } else { was };
                assert_eq!(laid, expected, "{x},{y}");
            }
        }
        assert!(page.is_partial(3, 20), "the blends are laid as they were drawn");
    }

    #[test]
    fn every_index_round_trips_and_the_palette_gives_each_its_colour() {
        let palette = Ink::palette();
        assert_eq!(palette.len(), 3 * ENTRIES);
        const { assert!(ENTRIES <= 256) };
        for i in 0..u8::try_from(ENTRIES).expect("fits") {
            let pixel = Pixel::of(i);
            assert_eq!(pixel.index(), i);
            assert_eq!(palette[3 * usize::from(i)..][..3], pixel.rgb());
        }
        for ink in Ink::ALL {
            assert_eq!(Pixel::of(ink as u8), Pixel::Plain(ink));
        }
    }
}
