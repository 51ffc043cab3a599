//! Reading the QR codes of a paper wallet from a photo or scan (PNG or JPEG).

use std::io::Cursor;

use image::{GrayImage, ImageFormat, ImageReader};

use crate::error::CodecError;
use crate::framing::{PageKey, Pages};
use crate::qr_text::{self, Part};

/// Longest side, in pixels, of a picture that is read (a 600 dpi scan of a Letter page is
/// 6,600 pixels high); larger pictures are refused before they are decoded.
pub(crate) const MAX_SIDE: u32 = 12_000;
/// Most memory the image decoder may use for one picture.
const MAX_DECODE_BYTES: u64 = 512 << 20;
/// Pictures whose longer side exceeds this are also read at half size, where noise and blur of a
/// high-resolution scan shrink below what the QR detector minds.
const HALVE_ABOVE: u32 = 2_000;

/// Whether `bytes` start like a JPEG file.
pub(crate) fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Decodes a PNG or JPEG picture, within the size limits.
pub(crate) fn decode_picture(bytes: &[u8]) -> Result<image::DynamicImage, CodecError> {
    let format = if is_jpeg(bytes) { ImageFormat::Jpeg } else { ImageFormat::Png };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => CodecError::TooLarge {
            what: "the picture's width or height in pixels",
            limit: u64::from(MAX_SIDE),
        },
        other => CodecError::Picture { reason: other.to_string() },
    })
}

/// The QR codes of paper wallet pages read from one picture (a photo or scan of printed pages,
/// or the PNG itself), grouped by the page each code names, to be combined with those of other
/// pictures by [`decode_paper`] or [`read_pages`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaperScan {
    codes: Pages,
}

impl PaperScan {
    /// The numbers of the codes read of the first page seen, ascending (the first code is 1).
    pub fn codes_read(&self) -> Vec<u32> {
        self.first().map(|a| a.found().0).unwrap_or_default()
    }

    /// How many codes the first page seen has, if any code was read.
    pub fn code_count(&self) -> Option<u32> {
        self.first().and_then(|a| a.found().1)
    }

    /// The page codes of the pages whose codes were read (pages printed in the older framing,
    /// whose codes name no page, are not listed).
    pub fn page_codes(&self) -> Vec<String> {
        self.codes
            .keys()
            .filter_map(|k| match k {
                PageKey::Bound(id) => Some(id.to_string()),
                PageKey::Unbound => None,
            })
            .collect()
    }

    /// Whether every code of every page seen was read, so the picture gives its coins on its own.
    pub fn is_complete(&self) -> bool {
        self.codes.is_complete()
    }

    fn first(&self) -> Option<&crate::qr_text::Assembly> {
        self.codes.keys().next().and_then(|k| self.codes.page(k))
    }
}

/// The coins of one page of a paper wallet, read from the codes of one or more pictures: what
/// [`read_pages`] gives for each page it saw.
#[derive(Debug)]
#[non_exhaustive]
pub struct PaperPage {
    page: Option<String>,
    scans: Vec<usize>,
    coins: Result<Vec<cloudcoin_domain::Coin>, CodecError>,
}

impl PaperPage {
    /// The page code (twelve hexadecimal digits printed on the page), or `None` for a page
    /// printed in the older framing, whose codes name no page.
    pub fn page_code(&self) -> Option<&str> {
        self.page.as_deref()
    }

    /// The positions, among the scans given, of those that show a code of this page.
    pub fn scans(&self) -> &[usize] {
        &self.scans
    }

    /// The page's coins, or why its codes do not give them (a code missing, names what is
    /// missing; nothing of the page is given then).
    pub fn coins(&self) -> Result<&[cloudcoin_domain::Coin], &CodecError> {
        self.coins.as_deref()
    }

    /// The page's coins, or why its codes do not give them.
    pub fn into_coins(self) -> Result<Vec<cloudcoin_domain::Coin>, CodecError> {
        self.coins
    }
}

/// Reads every page whose codes are in `scans`, each on its own: the codes are grouped by the
/// page they name, so pictures of several pages may be given together in any order, and a page
/// with a code missing gives nothing while the others give their coins.
///
/// ```
/// use cloudcoin_codec::{read_pages, PaperScan};
///
/// // No scan, no page.
/// assert!(read_pages(std::iter::empty::<&PaperScan>()).is_empty());
/// ```
pub fn read_pages<'a, I>(scans: I) -> Vec<PaperPage>
where
    I: IntoIterator<Item = &'a PaperScan>,
{
    let scans: Vec<&PaperScan> = scans.into_iter().collect();
    let mut all = Pages::default();
    for scan in &scans {
        all.merge(&scan.codes);
    }
    all.keys()
        .map(|key| PaperPage {
            page: match key {
                PageKey::Bound(id) => Some(id.to_string()),
                PageKey::Unbound => None,
            },
            scans: (0..scans.len()).filter(|&i| scans[i].codes.page(key).is_some()).collect(),
            coins: all
                .finish(key)
                .map_err(CodecError::from)
                .and_then(|payload| crate::bin::decode_bin(&payload)),
        })
        .collect()
}

/// Reads the QR codes of a paper wallet page from a PNG or JPEG picture: a photo or scan of the
/// printed page. Codes that are not CloudCoin codes are ignored. Blocking and CPU-heavy (about
/// a second for a page scanned at 300 dpi): run it off any async runtime's worker threads.
///
/// ```
/// use cloudcoin_codec::{decode_paper, scan_picture};
///
/// // A picture without QR codes gives an empty scan, which decodes to no coins.
/// let mut png = Vec::new();
/// image::RgbImage::new(64, 64).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
/// let scan = scan_picture(&png).unwrap();
/// assert_eq!(scan.code_count(), None);
/// assert!(decode_paper([&scan]).is_err());
/// ```
pub fn scan_picture(bytes: &[u8]) -> Result<PaperScan, CodecError> {
    scan_grey(&decode_picture(bytes)?.into_luma8())
}

/// The codes of a picture already decoded to grey.
pub(crate) fn scan_grey(grey: &GrayImage) -> Result<PaperScan, CodecError> {
    Ok(PaperScan { codes: read_codes(grey)? })
}

/// The coins of paper wallet pages, from the scans of one or more pictures of them (for example
/// a page's front and back, two photos that each show part of it, or photos of several pages in
/// any order). Every code of every page seen must be among them; if one is missing the error
/// names the page, the codes read and the codes missing, and no coin is given. Use
/// [`read_pages`] to take the whole pages and leave the others.
pub fn decode_paper<'a, I>(scans: I) -> Result<Vec<cloudcoin_domain::Coin>, CodecError>
where
    I: IntoIterator<Item = &'a PaperScan>,
{
    let pages = read_pages(scans);
    if pages.is_empty() {
        return Err(qr_text::PaperError::NoCodes.into());
    }
    if pages.len() == 1 {
        return pages.into_iter().next().expect("one page").into_coins();
    }
    let names: Vec<String> = pages
        .iter()
        .map(|p| p.page_code().map_or_else(|| "one without a page code".to_owned(), str::to_owned))
        .collect();
    let mut coins = Vec::new();
    let mut problems = Vec::new();
    for page in pages {
        match page.into_coins() {
            Ok(c) => coins.extend(c),
            Err(CodecError::Paper(e)) => problems.push(e),
            Err(other) => return Err(other),
        }
    }
    if problems.is_empty() {
        Ok(coins)
    } else {
        Err(qr_text::PaperError::SomePagesIncomplete { pages: names, problems }.into())
    }
}

/// Where a picture is read again, moved by these pixels, while codes are missing. The binarizer
/// thresholds a picture in blocks of 8 × 8 pixels; in a scan whose modules are about 2 pixels
/// wide, a code that falls badly on that grid can fail where the same code moved by a few pixels
/// reads (measured: of 50 random scans of a 20-coin page, 5 lost one code at the first reading
/// and every one was read once moved).
const OFFSETS: [(u32, u32); 5] = [(0, 0), (4, 4), (4, 0), (0, 4), (2, 6)];
/// Pictures whose longer side is at most this are, as a last resort, also read at twice their
/// size, where the binarizer's blocks are half as large in modules (when some code of the page
/// was read: a picture of something else is not worth the second or two this takes).
const DOUBLE_UP_TO: u32 = 2_000;

/// Reads every CloudCoin code in `grey`: at full size, moved by the [`OFFSETS`] while codes are
/// missing, then, while still missing, at twice the size (small pictures) or at half the size
/// (large ones).
pub(crate) fn read_codes(grey: &GrayImage) -> Result<Pages, CodecError> {
    let mut found = Pages::default();
    read_moved(grey, &mut found)?;
    let longer = grey.width().max(grey.height());
    if !found.is_complete() && found.keys().next().is_some() && longer <= DOUBLE_UP_TO {
        let double = image::imageops::resize(
            grey,
            grey.width() * 2,
            grey.height() * 2,
            image::imageops::FilterType::Triangle,
        );
        add_codes(&double, &mut found)?;
    }
    if !found.is_complete() && longer > HALVE_ABOVE {
        read_moved(&halve(grey), &mut found)?;
    }
    Ok(found)
}

/// Reads `grey` at each of the [`OFFSETS`] until every code of its page is found.
fn read_moved(grey: &GrayImage, found: &mut Pages) -> Result<(), CodecError> {
    for (dx, dy) in OFFSETS {
        if found.is_complete() || dx >= grey.width() || dy >= grey.height() {
            break;
        }
        if (dx, dy) == (0, 0) {
            add_codes(grey, found)?;
        } else {
            let (w, h) = (grey.width() - dx, grey.height() - dy);
            add_codes(&image::imageops::crop_imm(grey, dx, dy, w, h).to_image(), found)?;
        }
    }
    Ok(())
}

/// Adds the CloudCoin codes that the detector finds in `grey` to `found`.
fn add_codes(grey: &GrayImage, found: &mut Pages) -> Result<(), CodecError> {
    for (part, _) in codes_in(grey)? {
        found.add(part);
    }
    Ok(())
}

/// The corners of a code in a picture, in pixels.
pub(crate) type Corners = [(u32, u32); 4];

/// Every CloudCoin code the detector finds in `grey`, with its corners in pixels.
fn codes_in(grey: &GrayImage) -> Result<Vec<(Part, Corners)>, CodecError> {
    use rxing::multi::MultipleBarcodeReader;
    let Ok(source) = rxing::Luma8Source::new_with_slice(grey.as_raw(), grey.width(), grey.height())
    else {
        return Ok(Vec::new());
    };
    let mut bitmap = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    let hints = rxing::DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(true)).with(
        rxing::DecodeHintValue::PossibleFormats(
            [rxing::BarcodeFormat::QR_CODE].into_iter().collect(),
        ),
    );
    // No code found is an empty list, not an error: the assembly then names what is missing.
    let results = rxing::qrcode::cpp_port::QrReader
        .decode_multiple_with_hints(&mut bitmap, &hints)
        .unwrap_or_default();
    let mut out = Vec::new();
    for result in results {
        if let Some(part) = qr_text::parse(result.getText())? {
            let corner = |i: usize| {
                let p = result.getPoints().get(i).copied().unwrap_or_default();
                (p.x.max(0.0) as u32, p.y.max(0.0) as u32)
            };
            out.push((part, [corner(0), corner(1), corner(2), corner(3)]));
        }
    }
    Ok(out)
}

/// The CloudCoin codes in `grey` with their corners (for the scan simulation).
#[cfg(feature = "simulate")]
pub(crate) fn code_bounds(grey: &GrayImage) -> Vec<(Part, Corners)> {
    codes_in(grey).unwrap_or_default()
}

/// `grey` at half its width and height, each pixel the mean of a 2×2 block.
fn halve(grey: &GrayImage) -> GrayImage {
    let (w, h) = (grey.width() / 2, grey.height() / 2);
    GrayImage::from_fn(w, h, |x, y| {
        let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
            .iter()
            .map(|&(dx, dy)| u32::from(grey.get_pixel(2 * x + dx, 2 * y + dy).0[0]))
            .sum();
        image::Luma([u8::try_from(sum / 4).expect("a mean of bytes is a byte")])
    })
}

#[cfg(all(test, feature = "simulate"))]
mod tests {
    use super::*;
    use crate::simulate::{
        Degradation, QrChoice, print_and_scan, rasterise, sample_coins, write_png_with,
    };
    use cloudcoin_domain::Tag;

    #[test]
    fn codes_the_first_reading_misses_are_read_from_the_picture_moved() {
        let coins = sample_coins(20);
        let label =
            crate::PngLabel::new(&coins, Tag::parse("campaign").expect("tag"), "2026-11-29")
                .expect("label");
        let mut png = Vec::new();
        write_png_with(&mut png, &coins, &label, QrChoice::current()).expect("writes");
        let printed = rasterise(&png).expect("rasterises");
        // Random scans of this page: wherever the first reading, at the picture's own pixel
        // grid, lost a code, the readings moved by a few pixels find it; and some scans among
        // the first twenty do lose one at first, so the moved readings are at work here.
        let mut missed_at_first = 0;
        for seed in 0..20 {
            let scan = print_and_scan(&printed, &Degradation::random(seed)).expect("scans");
            let grey = decode_picture(&scan).expect("decodes").into_luma8();
            let all = read_codes(&grey).expect("reads");
            let total = all.keys().next().and_then(|k| all.page(k)).and_then(|a| a.found().1);
            let first = codes_in(&grey).expect("reads").len();
            if total.is_some_and(|t| (first as u32) < t) {
                missed_at_first += 1;
                assert!(all.is_complete(), "seed {seed}: {all:?} after {first}");
            }
        }
        assert!(missed_at_first > 0, "no scan lost a code at the first reading");
    }
}
