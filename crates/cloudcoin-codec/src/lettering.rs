//! The lettering of the png page: text set in the embedded DejaVu fonts (the ones the `pdf`
//! pages embed, Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`), rasterised anti-aliased by
//! `ab_glyph` onto a [`Canvas`].
//!
//! Each glyph is rasterised once per face and size and then copied wherever it stands, and the
//! glyphs rasterised are kept for the pages drawn after (up to [`SHARED_GLYPHS`] of them), so a
//! page's text costs copies of bitmaps, however long its coin list is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};

use crate::picture::{Canvas, Ink};

/// DejaVu Sans, for the body text.
const SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Serif Bold, for the amount, the title and the warnings.
const SERIF_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSerif-Bold.ttf");

/// The typefaces of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Face {
    Sans,
    Serif,
}

/// How a piece of text is set: face, size (the em in pixels), ink, and extra room between
/// letters in pixels (for spaced capitals).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub(crate) face: Face,
    pub(crate) size: u32,
    pub(crate) ink: Ink,
    pub(crate) tracking: u32,
}

impl Style {
    pub(crate) const fn new(face: Face, size: u32, ink: Ink) -> Style {
        Style { face, size, ink, tracking: 0 }
    }

    pub(crate) const fn spaced(self, tracking: u32) -> Style {
        Style { tracking, ..self }
    }

    /// The same style at `size`.
    const fn at(self, size: u32) -> Style {
        Style { size, ..self }
    }
}

/// A glyph rasterised at one size: its coverage (0 to 255) in a box placed relative to the pen
/// position on the baseline.
#[derive(Debug)]
struct Bitmap {
    left: i32,
    top: i32,
    width: u32,
    coverage: Vec<u8>,
}

/// A glyph of a face at a size.
type GlyphKey = (Face, u32, GlyphId);

/// The most glyph bitmaps kept for later pages: those of every size a page uses, in several
/// scripts; a tag in many more glyphs is set all the same, from bitmaps rasterised for its page.
const SHARED_GLYPHS: usize = 4096;

/// The glyphs rasterised for earlier pages, shared by all.
fn shared_glyphs() -> &'static Mutex<HashMap<GlyphKey, Arc<Bitmap>>> {
    static SHARED: OnceLock<Mutex<HashMap<GlyphKey, Arc<Bitmap>>>> = OnceLock::new();
    SHARED.get_or_init(Mutex::default)
}

/// The fonts and the glyphs this page uses.
pub(crate) struct Letters {
    sans: FontRef<'static>,
    serif: FontRef<'static>,
    glyphs: HashMap<GlyphKey, Arc<Bitmap>>,
}

impl std::fmt::Debug for Letters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letters").field("glyphs", &self.glyphs.len()).finish_non_exhaustive()
    }
}

impl Letters {
    pub(crate) fn new() -> Letters {
        let parse = |bytes| FontRef::try_from_slice(bytes).expect("the embedded fonts parse");
        Letters { sans: parse(SANS), serif: parse(SERIF_BOLD), glyphs: HashMap::new() }
    }

    fn font(&self, face: Face) -> &FontRef<'static> {
        match face {
            Face::Sans => &self.sans,
            Face::Serif => &self.serif,
        }
    }

    /// The glyphs of `text` and the pen position of each, in pixels from the start (rounded,
    /// so each glyph's bitmap is reused wherever it stands), and the width of the whole.
    fn layout(&self, text: &str, style: Style) -> (Vec<(GlyphId, i32)>, u32) {
        let font = self.font(style.face).as_scaled(PxScale::from(style.size as f32));
        let mut pen = 0.0f32;
        let mut previous = None;
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(before) = previous {
                pen += font.kern(before, id) + style.tracking as f32;
            }
            out.push((id, pen.round() as i32));
            pen += font.h_advance(id);
            previous = Some(id);
        }
        (out, pen.round().max(0.0) as u32)
    }

    /// The width of `text` set in `style`, in pixels.
    pub(crate) fn width(&self, text: &str, style: Style) -> u32 {
        self.layout(text, style).1
    }

    fn bitmap(&mut self, face: Face, size: u32, id: GlyphId) -> Arc<Bitmap> {
        let key = (face, size, id);
        if let Some(bitmap) = self.glyphs.get(&key) {
            return Arc::clone(bitmap);
        }
        // A page's own map first, then the shared one: its lock is taken once per glyph a
        // page uses, not once per letter.
        let shared =
            shared_glyphs().lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        let bitmap = shared.unwrap_or_else(|| {
            let bitmap = Arc::new(self.rasterise(face, size, id));
            let mut shared = shared_glyphs().lock().unwrap_or_else(PoisonError::into_inner);
            if shared.len() < SHARED_GLYPHS {
                shared.insert(key, Arc::clone(&bitmap));
            }
            bitmap
        });
        self.glyphs.insert(key, Arc::clone(&bitmap));
        bitmap
    }

    fn rasterise(&self, face: Face, size: u32, id: GlyphId) -> Bitmap {
        let glyph = id.with_scale_and_position(PxScale::from(size as f32), point(0.0, 0.0));
        let Some(outline) = self.font(face).outline_glyph(glyph) else {
            return Bitmap { left: 0, top: 0, width: 0, coverage: Vec::new() };
        };
        let bounds = outline.px_bounds();
        let width = bounds.width() as u32;
        let height = bounds.height() as u32;
        let mut coverage = vec![0u8; (width * height) as usize];
        outline.draw(|x, y, c| {
            if x < width && y < height {
                coverage[(y * width + x) as usize] = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        });
        Bitmap { left: bounds.min.x as i32, top: bounds.min.y as i32, width, coverage }
    }

    /// Sets `text` with its baseline at `baseline` starting at `x`. Returns the width set.
    pub(crate) fn draw(
        &mut self,
        canvas: &mut Canvas,
        x: u32,
        baseline: u32,
        text: &str,
        style: Style,
    ) -> u32 {
        let (glyphs, width) = self.layout(text, style);
        for (id, pen) in glyphs {
            let bitmap = self.bitmap(style.face, style.size, id);
            if bitmap.width == 0 {
                continue;
            }
            let left = i64::from(x) + i64::from(pen) + i64::from(bitmap.left);
            let top = i64::from(baseline) + i64::from(bitmap.top);
            for (dy, row) in (0i64..).zip(bitmap.coverage.chunks_exact(bitmap.width as usize)) {
                for (dx, &c) in (0i64..).zip(row) {
                    if c != 0
                        && let (Ok(px), Ok(py)) =
                            (u32::try_from(left + dx), u32::try_from(top + dy))
                    {
                        canvas.cover(px, py, c, style.ink);
                    }
                }
            }
        }
        width
    }

    /// Sets `text` centred between `left` and `right`, at `style`'s size or smaller so that it
    /// fits. Returns the size used.
    pub(crate) fn centred(
        &mut self,
        canvas: &mut Canvas,
        (left, right): (u32, u32),
        baseline: u32,
        text: &str,
        style: Style,
    ) -> u32 {
        let room = right.saturating_sub(left);
        let natural = self.width(text, style).max(1);
        let style = if natural > room {
            style.at((u64::from(style.size) * u64::from(room) / u64::from(natural)) as u32)
        } else {
            style
        };
        let width = self.width(text, style);
        self.draw(canvas, left + room.saturating_sub(width) / 2, baseline, text, style);
        style.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_set_anti_aliased_and_shrinks_to_fit() {
        let mut letters = Letters::new();
        let mut canvas = Canvas::new(400, 100);
        let style = Style::new(Face::Sans, 40, Ink::Blue);
        let width = letters.draw(&mut canvas, 10, 60, "CloudCoin", style);
        assert!((150..250).contains(&width), "{width}");
        let (mut full, mut partial) = (0, 0);
        for y in 0..100 {
            for x in 0..400 {
                match canvas.ink(x, y) {
                    Ink::Blue => full += 1,
                    Ink::Paper => {}
                    other => panic!("{other:?} at {x},{y}"),
                }
                partial += usize::from(canvas.is_partial(x, y));
            }
        }
        assert!(full > 500, "{full}");
        assert!(partial > 100, "edges are anti-aliased: {partial}");
        // Nothing above the capitals or below the descenders.
        assert!((0..400).all(|x| canvas.ink(x, 10) == Ink::Paper));
        let size = letters.centred(&mut canvas, (0, 100), 90, "CloudCoin", style);
        assert!(size < 40 && letters.width("CloudCoin", style.at(size)) <= 100, "{size}");
    }
}
