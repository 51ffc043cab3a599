//! The fine lines of the png page, drawn procedurally: a guilloche border (interlaced waves
//! whose swing itself swells and shrinks, as on banknotes and certificates: easy to see, hard
//! to copy cleanly) with a rosette in each corner, and thin rules. All of it lies in the page's
//! margin or between blocks of text, never where the codes and their quiet zones are.
//!
//! The lines are crisp, in flat inks: a pixel is the line's ink or untouched, never a blend.
//! At 300 dpi a line two pixels wide prints as finely either way, and a flat line's rows
//! compress to a few bytes at each crossing where blended edges cost a byte a pixel (an
//! anti-aliased border compressed to two and a half times the bytes of this one).

use std::f32::consts::TAU;

use crate::picture::{Canvas, Ink};

/// Lays a round dot of `radius` pixels centred on `(x, y)`: every pixel whose centre is in it.
fn dot(page: &mut Canvas, x: f32, y: f32, radius: f32, ink: Ink) {
    let reach = radius + 1.0;
    let (x0, x1) = ((x - reach).floor().max(0.0) as u32, (x + reach).ceil().max(0.0) as u32);
    let (y0, y1) = ((y - reach).floor().max(0.0) as u32, (y + reach).ceil().max(0.0) as u32);
    for py in y0..=y1 {
        for px in x0..=x1 {
            let (dx, dy) = (px as f32 + 0.5 - x, py as f32 + 0.5 - y);
            if dx * dx + dy * dy <= radius * radius {
                page.cover(px, py, u8::MAX, ink);
            }
        }
    }
}

/// Traces the curve `at(s)` for `s` from 0 to 1 as a line `radius` pixels wide, in steps of at
/// most half a pixel of its length (`length` is a bound on it).
fn trace(page: &mut Canvas, length: f32, radius: f32, ink: Ink, at: impl Fn(f32) -> (f32, f32)) {
    let steps = (length * 2.0).ceil().max(1.0) as u32;
    for i in 0..=steps {
        let (x, y) = at(i as f32 / steps as f32);
        dot(page, x, y, radius, ink);
    }
}

/// The guilloche border of a `width` × `height` page in the band from `outer` to `inner`
/// pixels from each edge, between two rules.
pub(crate) fn border(page: &mut Canvas, outer: u32, inner: u32) {
    let (w, h) = (page.width() as f32, page.height() as f32);
    let (o, i) = (outer as f32, inner as f32);
    page.frame(
        outer - 4,
        outer - 4,
        page.width() - 2 * (outer - 4),
        page.height() - 2 * (outer - 4),
        3,
        Ink::Gold,
    );
    let rule = inner + 3;
    page.frame(rule, rule, page.width() - 2 * rule, page.height() - 2 * rule, 2, Ink::Gold);

    let mid = (o + i) / 2.0;
    let swing = (i - o) / 2.0 - 3.0;
    // Each side: from its start to its end (between the corners), and the line across it.
    let sides = [
        ((i, mid), (w - i, mid)),
        ((i, h - mid), (w - i, h - mid)),
        ((mid, i), (mid, h - i)),
        ((w - mid, i), (w - mid, h - i)),
    ];
    for ((ax, ay), (bx, by)) in sides {
        let length = (bx - ax).abs() + (by - ay).abs();
        // Whole waves from end to end, so the pattern meets the corners the same way on every side.
        let period = length / (length / 96.0).round();
        let swell = length / (length / 480.0).round();
        let across = |s: f32, off: f32| {
            let (x, y) = (ax + (bx - ax) * s, ay + (by - ay) * s);
            if ay == by { (x, y + off) } else { (x + off, y) }
        };
        for k in 0..5 {
            let phase = TAU * k as f32 / 5.0;
            trace(page, length * 2.2, 1.3, Ink::Line, |s| {
                let t = s * length;
                let amplitude = swing * (0.62 + 0.38 * (TAU * t / swell).cos());
                across(s, amplitude * (TAU * t / period + phase).sin())
            });
        }
        for k in 0..2 {
            let phase = TAU * k as f32 / 2.0;
            trace(page, length * 1.6, 1.1, Ink::LineGold, |s| {
                let t = s * length;
                across(s, swing * (TAU * t / (2.0 * period) + phase).sin())
            });
        }
    }
    for (cx, cy) in [(mid, mid), (w - mid, mid), (mid, h - mid), (w - mid, h - mid)] {
        rosette(page, cx, cy, swing + 2.0);
    }
}

/// A small rosette of radius `r` centred on `(cx, cy)`: rose curves turned against each other.
pub(crate) fn rosette(page: &mut Canvas, cx: f32, cy: f32, r: f32) {
    for k in 0..4 {
        let turn = TAU * k as f32 / 24.0;
        trace(page, TAU * r * 2.5, 1.0, Ink::Line, |s| {
            let a = TAU * s;
            let radius = r * (0.55 + 0.45 * (6.0 * a).cos());
            (cx + radius * (a + turn).cos(), cy + radius * (a + turn).sin())
        });
    }
    trace(page, TAU * r, 1.1, Ink::LineGold, |s| {
        let a = TAU * s;
        (cx + r * a.cos(), cy + r * a.sin())
    });
}

/// A thin gold rule from `left` to `right` at `y`, ending in small diamonds.
pub(crate) fn rule(page: &mut Canvas, left: u32, right: u32, y: u32) {
    if right <= left + 20 {
        return;
    }
    page.fill(left + 10, y, right - left - 20, 2, Ink::Gold);
    for x in [left + 5, right - 5] {
        let (x, y) = (x as f32, y as f32 + 1.0);
        trace(page, 40.0, 1.0, Ink::Gold, |s| {
            let a = TAU * s;
            let (c, d) = (a.cos(), a.sin());
            // A diamond: |dx| + |dy| = 6.
            let scale = 6.0 / (c.abs() + d.abs());
            (x + c * scale, y + d * scale)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_border_stays_in_its_band_and_reaches_every_side() {
        let mut page = Canvas::new(600, 800);
        border(&mut page, 40, 110);
        for y in 0..800 {
            for x in 0..600 {
                let ink = page.ink(x, y);
                assert!(!page.is_partial(x, y), "a blend at {x},{y}: the lines are flat inks");
                let edge = x.min(y).min(599 - x).min(799 - y);
                if ink != Ink::Paper {
                    assert!((36..=115).contains(&edge), "{ink:?} at {x},{y}");
                }
            }
        }
        let lines = |x0: u32, x1: u32, y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| matches!(page.ink(x, y), Ink::Line | Ink::LineGold))
                .count()
        };
        for (x0, x1, y0, y1) in
            [(200, 400, 40, 110), (200, 400, 690, 760), (40, 110, 300, 500), (490, 560, 300, 500)]
        {
            assert!(lines(x0, x1, y0, y1) > 2_000, "{x0},{y0}");
        }
    }
}
