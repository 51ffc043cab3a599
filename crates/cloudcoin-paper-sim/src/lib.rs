//! Printing and scanning, simulated: what a paper wallet page looks like after it was printed and
//! scanned or photographed, for tests and measurements of paper wallet import. Test equipment of
//! this repository (never published); it knows the codec only through the pictures it writes,
//! and finds a page's QR codes with its own reading (rxing, as the codec's reader does).
//!
//! ```
//! use cloudcoin_paper_sim::{Degradation, print_and_scan};
//! use cloudcoin_codec::{FileKind, Limits, WriteOptions, decode_any, write_coins};
//! use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};
//!
//! let coin = Coin::new(
//!     Denomination::from_code(0),
//!     SerialNumber::new(7),
//!     [[7; 16]; RAIDA_COUNT],
//!     [Pown::Untried; RAIDA_COUNT],
//! );
//! let mut png = Vec::new();
//! write_coins(&mut png, FileKind::Png, std::slice::from_ref(&coin), &WriteOptions::new()).unwrap();
//! // A JPEG of the page at half size, turned by 2°, with noise: no PNG chunk survives.
//! let scan = print_and_scan(&png, &Degradation::scan()).unwrap();
//! assert_eq!(decode_any(&scan, &Limits::default()).unwrap()[0].ans, coin.ans);
//! ```

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, RgbImage, imageops};

use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

/// A picture that cannot be read or written, or a code to cover that the page does not show.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The picture is no PNG or JPEG the image crate reads, or cannot be encoded.
    #[error("picture: {0}")]
    Picture(#[from] image::ImageError),
    /// [`Degradation::covered_code`] names a code the page does not show.
    #[error("the page shows no code {0}")]
    NoSuchCode(u32),
}

/// How a page is degraded on its way through a printer and a scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Degradation {
    /// The scan's size, in percent of the page's.
    pub scale_percent: u32,
    /// How far the page is turned, in thousandths of a degree (positive is clockwise).
    pub rotate_millidegrees: i32,
    /// The largest change noise makes to a colour channel (0 for none).
    pub noise: u8,
    /// The JPEG quality of the scan (1 to 100).
    pub jpeg_quality: u8,
    /// The seed of the noise.
    pub seed: u64,
    /// A QR code (numbered from 1) covered over before the scan, as if torn off or stained.
    pub covered_code: Option<u32>,
}

impl Degradation {
    /// A typical office scan: half size, turned by 2°, noise of ±16, JPEG quality 70.
    pub fn scan() -> Degradation {
        Degradation {
            scale_percent: 50,
            rotate_millidegrees: 2_000,
            noise: 16,
            jpeg_quality: 70,
            seed: 1,
            covered_code: None,
        }
    }

    /// A random degradation near [`Degradation::scan`]: 45 to 55 % size, turned by up to 2.5°
    /// either way, noise of ±8 to ±24, JPEG quality 60 to 80.
    pub fn random(seed: u64) -> Degradation {
        let mut rng = Rng::new(seed);
        let mut pick = |low: u64, high: u64| low + rng.next() % (high - low + 1);
        Degradation {
            scale_percent: u32::try_from(pick(45, 55)).expect("small"),
            rotate_millidegrees: i32::try_from(pick(0, 5_000)).expect("small") - 2_500,
            noise: u8::try_from(pick(8, 24)).expect("small"),
            jpeg_quality: u8::try_from(pick(60, 80)).expect("small"),
            seed,
            covered_code: None,
        }
    }

    /// The same degradation with QR code `code` covered.
    pub fn covering(self, code: u32) -> Degradation {
        Degradation { covered_code: Some(code), ..self }
    }
}

/// The pixels of a PNG or JPEG picture, re-encoded as a PNG with no other chunk: what is left of
/// a coin PNG once it is printed perfectly.
pub fn rasterise(picture: &[u8]) -> Result<Vec<u8>, SimError> {
    let rgb = image::load_from_memory(picture)?.into_rgb8();
    encode(&rgb, ImageFormat::Png, 0)
}

/// A PNG of the horizontal band of `picture` (a PNG or JPEG) from `top` to `bottom`, in
/// thousandths of its height: a photo of part of a page.
pub fn band(picture: &[u8], top: u32, bottom: u32) -> Result<Vec<u8>, SimError> {
    let page = image::load_from_memory(picture)?.into_rgb8();
    let (w, h) = page.dimensions();
    let at = |permille: u32| {
        u32::try_from(u64::from(h) * u64::from(permille.min(1000)) / 1000).unwrap_or(h)
    };
    let (y0, y1) = (at(top), at(bottom).max(at(top) + 1).min(h));
    let part = imageops::crop_imm(&page, 0, y0, w, y1 - y0).to_image();
    encode(&part, ImageFormat::Png, 0)
}

/// The JPEG bytes of a scan of the printed `picture` (a PNG or JPEG) after `degradation`.
pub fn print_and_scan(picture: &[u8], degradation: &Degradation) -> Result<Vec<u8>, SimError> {
    let mut page = image::load_from_memory(picture)?.into_rgb8();
    if let Some(code) = degradation.covered_code {
        cover(&mut page, code)?;
    }
    let (w, h) = page.dimensions();
    let scale = |v: u32| (u64::from(v) * u64::from(degradation.scale_percent) / 100).max(1);
    let small = imageops::resize(
        &page,
        u32::try_from(scale(w)).unwrap_or(w),
        u32::try_from(scale(h)).unwrap_or(h),
        imageops::FilterType::Triangle,
    );
    let mut turned = rotate(&small, degradation.rotate_millidegrees);
    add_noise(&mut turned, degradation.noise, degradation.seed);
    encode(&turned, ImageFormat::Jpeg, degradation.jpeg_quality)
}

fn encode(rgb: &RgbImage, format: ImageFormat, quality: u8) -> Result<Vec<u8>, SimError> {
    let mut out = Cursor::new(Vec::new());
    let result = match format {
        ImageFormat::Jpeg => {
            rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        }
        other => rgb.write_to(&mut out, other),
    };
    result?;
    Ok(out.into_inner())
}

/// Paints white over the QR code numbered `code` and its surroundings.
fn cover(page: &mut RgbImage, code: u32) -> Result<(), SimError> {
    let grey = image::DynamicImage::ImageRgb8(page.clone()).into_luma8();
    let bounds = codes_in(&grey)
        .into_iter()
        .find(|(index, _)| *index == code)
        .map(|(_, b)| b)
        .ok_or(SimError::NoSuchCode(code))?;
    let xs = bounds.iter().map(|p| p.0);
    let ys = bounds.iter().map(|p| p.1);
    let (x0, x1) = (xs.clone().min().unwrap_or(0), xs.max().unwrap_or(0));
    let (y0, y1) = (ys.clone().min().unwrap_or(0), ys.max().unwrap_or(0));
    // A little beyond the code's own modules, but inside its quiet zone (4 of its 97+ modules),
    // so that one code is covered and its neighbours are not.
    let pad = (x1 - x0) / 50;
    for y in y0.saturating_sub(pad)..(y1 + pad).min(page.height()) {
        for x in x0.saturating_sub(pad)..(x1 + pad).min(page.width()) {
            page.put_pixel(x, y, image::Rgb([255, 255, 255]));
        }
    }
    Ok(())
}

/// How many CloudCoin QR codes one reading of `picture` (a PNG or JPEG) finds, as the codec's
/// reader first reads a picture: the whole picture at its own pixel grid, once, before it tries
/// it moved or resized. A test compares it with what the codec's reader finds in the end.
pub fn codes_at_first_reading(picture: &[u8]) -> Result<usize, SimError> {
    Ok(codes_in(&image::load_from_memory(picture)?.into_luma8()).len())
}

/// The corners of a code in a picture, in pixels.
type Corners = [(u32, u32); 4];

/// Every CloudCoin code (`CC9P:{page}:{i}/{n}:…` or `CC9:{i}/{n}:…`, SPEC §4.3.1) that rxing's
/// multi-code QR reader finds in `grey`, by its number `i`, with its corners.
fn codes_in(grey: &GrayImage) -> Vec<(u32, Corners)> {
    use rxing::multi::MultipleBarcodeReader;
    let Ok(source) = rxing::Luma8Source::new_with_slice(grey.as_raw(), grey.width(), grey.height())
    else {
        return Vec::new();
    };
    let mut bitmap = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    let hints = rxing::DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(true)).with(
        rxing::DecodeHintValue::PossibleFormats(
            [rxing::BarcodeFormat::QR_CODE].into_iter().collect(),
        ),
    );
    let results = rxing::qrcode::cpp_port::QrReader
        .decode_multiple_with_hints(&mut bitmap, &hints)
        .unwrap_or_default();
    results
        .iter()
        .filter_map(|result| {
            let index = code_index(result.getText())?;
            let corner = |i: usize| {
                let p = result.getPoints().get(i).copied().unwrap_or_default();
                (p.x.max(0.0) as u32, p.y.max(0.0) as u32)
            };
            Some((index, [corner(0), corner(1), corner(2), corner(3)]))
        })
        .collect()
}

/// The number of the code whose text is `text`: `CC9P:{page}:{i}/{n}:…` (bound pages) or
/// `CC9:{i}/{n}:…` (pages printed before); `None` for any other text.
fn code_index(text: &str) -> Option<u32> {
    let counter = match text.strip_prefix("CC9P:") {
        Some(bound) => bound.split_once(':')?.1,
        None => text.strip_prefix("CC9:")?,
    };
    counter.split('/').next()?.parse().ok()
}

/// `img` turned by `millidegrees` about its centre (bilinear), white where nothing was.
fn rotate(img: &RgbImage, millidegrees: i32) -> RgbImage {
    let angle = f64::from(millidegrees) / 1000.0 * std::f64::consts::PI / 180.0;
    let (sin, cos) = angle.sin_cos();
    let (w, h) = img.dimensions();
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let sample = |x: f64, y: f64, c: usize| -> f64 {
        if x < 0.0 || y < 0.0 || x >= f64::from(w - 1) || y >= f64::from(h - 1) {
            return 255.0;
        }
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (xi, yi) = (x0 as u32, y0 as u32);
        let p = |dx: u32, dy: u32| f64::from(img.get_pixel(xi + dx, yi + dy).0[c]);
        let top = p(0, 0) * (1.0 - fx) + p(1, 0) * fx;
        let bottom = p(0, 1) * (1.0 - fx) + p(1, 1) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    RgbImage::from_fn(w, h, |x, y| {
        // The source of each target pixel: the inverse rotation.
        let (dx, dy) = (f64::from(x) - cx, f64::from(y) - cy);
        let sx = cos * dx + sin * dy + cx;
        let sy = -sin * dx + cos * dy + cy;
        image::Rgb([0, 1, 2].map(|c| sample(sx, sy, c).round().clamp(0.0, 255.0) as u8))
    })
}

/// Adds uniform noise of at most `amount` to every channel.
fn add_noise(img: &mut RgbImage, amount: u8, seed: u64) {
    if amount == 0 {
        return;
    }
    let mut rng = Rng::new(seed ^ 0x9E37_79B9_7F4A_7C15);
    let span = u64::from(amount) * 2 + 1;
    for p in img.pixels_mut() {
        for v in &mut p.0 {
            let delta = i16::try_from(rng.next() % span).expect("small") - i16::from(amount);
            *v = u8::try_from((i16::from(*v) + delta).clamp(0, 255)).expect("clamped to a byte");
        }
    }
}

/// A small deterministic random number generator (xorshift64*), so that runs repeat.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `count` coins with distinct ids and varied, random-looking ANs (the same on every call), of
/// seven denominations from 0.01 to 10,000: the pages of the scan campaign (the `scan_campaign`
/// example) and of the tests that replay its seeds.
///
/// ```
/// use cloudcoin_paper_sim::sample_coins;
///
/// let coins = sample_coins(20);
/// assert_eq!(coins.len(), 20);
/// assert_eq!(coins, sample_coins(20));
/// assert_ne!(coins[0].ans[0], coins[0].ans[1]);
/// ```
pub fn sample_coins(count: u32) -> Vec<Coin> {
    (0..count)
        .map(|i| {
            let mut ans = [[0u8; 16]; RAIDA_COUNT];
            let mut x = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for b in ans.iter_mut().flatten() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x.to_le_bytes()[0];
            }
            Coin::new(
                Denomination::from_code(i8::try_from(i % 7).expect("below 7") - 2),
                SerialNumber::new(1_000_000 + i * 7919),
                ans,
                [Pown::Untried; RAIDA_COUNT],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::code_index;

    #[test]
    fn a_code_is_numbered_in_either_framing() {
        assert_eq!(code_index("CC9P:0123456789AB:3/13:ABC"), Some(3));
        assert_eq!(code_index("CC9:4/13:ABC"), Some(4));
        assert_eq!(code_index("CC9P:0123456789AB"), None);
        assert_eq!(code_index("hello"), None);
    }
}
