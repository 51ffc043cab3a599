//! Printing and scanning, simulated: what a paper wallet page looks like after it was printed and
//! scanned or photographed, for tests of paper wallet import (feature `simulate`).
//!
//! ```
//! use cloudcoin_codec::simulate::{Degradation, print_and_scan};
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
use image::{ImageFormat, RgbImage, imageops};

use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

use crate::error::CodecError;

/// A choice of QR symbol for the page, to compare candidates with the degraded-scan measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QrChoice {
    /// The QR version, 1 to 40.
    pub version: i16,
    /// The error correction level: `'L'`, `'M'`, `'Q'` or `'H'`.
    pub level: char,
    /// Pixels per module on the 300 dpi page.
    pub module_pixels: u32,
}

impl QrChoice {
    /// The choice a `png` written by [`write_coins`](crate::write_coins) uses.
    pub fn current() -> QrChoice {
        let s = crate::page::SETUP;
        let level = match s.ec {
            qrcode::EcLevel::L => 'L',
            qrcode::EcLevel::M => 'M',
            qrcode::EcLevel::Q => 'Q',
            qrcode::EcLevel::H => 'H',
        };
        QrChoice { version: s.version, level, module_pixels: s.module }
    }

    /// A choice of version, level and module size.
    pub fn new(version: i16, level: char, module_pixels: u32) -> QrChoice {
        QrChoice { version, level, module_pixels }
    }

    fn setup(self) -> crate::page::QrSetup {
        let ec = match self.level {
            'L' => qrcode::EcLevel::L,
            'Q' => qrcode::EcLevel::Q,
            'H' => qrcode::EcLevel::H,
            _ => qrcode::EcLevel::M,
        };
        crate::page::QrSetup {
            version: self.version.clamp(1, 40),
            ec,
            module: self.module_pixels.max(1),
        }
    }

    /// How many codes fit on a page, and how many coins they carry.
    pub fn capacity(self) -> (usize, usize) {
        let s = self.setup();
        let bytes = s.codes_per_page() * s.chunk_bytes();
        (s.codes_per_page(), bytes.saturating_sub(crate::bin::HEADER_LEN) / crate::bin::RECORD_LEN)
    }
}

/// Writes a PNG coin file as [`write_coins`](crate::write_coins) does, with the QR codes of
/// `choice`.
pub fn write_png_with(
    w: impl std::io::Write,
    coins: &[cloudcoin_domain::Coin],
    label: &crate::PngLabel,
    choice: QrChoice,
) -> Result<(), CodecError> {
    crate::png_file::write_png_setup(w, coins, label, choice.setup())
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
pub fn rasterise(picture: &[u8]) -> Result<Vec<u8>, CodecError> {
    let rgb = crate::scan::decode_picture(picture)?.into_rgb8();
    encode(&rgb, ImageFormat::Png, 0)
}

/// A PNG of the horizontal band of `picture` (a PNG or JPEG) from `top` to `bottom`, in
/// thousandths of its height: a photo of part of a page.
pub fn band(picture: &[u8], top: u32, bottom: u32) -> Result<Vec<u8>, CodecError> {
    let page = crate::scan::decode_picture(picture)?.into_rgb8();
    let (w, h) = page.dimensions();
    let at = |permille: u32| {
        u32::try_from(u64::from(h) * u64::from(permille.min(1000)) / 1000).unwrap_or(h)
    };
    let (y0, y1) = (at(top), at(bottom).max(at(top) + 1).min(h));
    let part = imageops::crop_imm(&page, 0, y0, w, y1 - y0).to_image();
    encode(&part, ImageFormat::Png, 0)
}

/// The JPEG bytes of a scan of the printed `picture` (a PNG or JPEG) after `degradation`.
pub fn print_and_scan(picture: &[u8], degradation: &Degradation) -> Result<Vec<u8>, CodecError> {
    let mut page = crate::scan::decode_picture(picture)?.into_rgb8();
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

fn encode(rgb: &RgbImage, format: ImageFormat, quality: u8) -> Result<Vec<u8>, CodecError> {
    let mut out = Cursor::new(Vec::new());
    let result = match format {
        ImageFormat::Jpeg => {
            rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        }
        other => rgb.write_to(&mut out, other),
    };
    result.map_err(|e| CodecError::Picture { reason: e.to_string() })?;
    Ok(out.into_inner())
}

/// Paints white over the QR code numbered `code` and its surroundings.
fn cover(page: &mut RgbImage, code: u32) -> Result<(), CodecError> {
    let grey = image::DynamicImage::ImageRgb8(page.clone()).into_luma8();
    let bounds = crate::scan::code_bounds(&grey)
        .into_iter()
        .find(|(part, _)| part.index == code)
        .map(|(_, b)| b)
        .ok_or(CodecError::Picture { reason: format!("the page shows no code {code}") })?;
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
/// use cloudcoin_codec::simulate::sample_coins;
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
