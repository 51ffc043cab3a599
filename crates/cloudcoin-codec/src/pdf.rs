//! The `pdf` paper wallet (`docs/SPEC.md` §4.6): a print-ready PDF of one or more pages whose
//! vector QR codes carry the coins page by page, with the format-9 bytes of all the coins
//! attached as an embedded file, so that the PDF itself imports without rasterising.
//!
//! Written with `pdf-writer` (a small, pure-Rust writer of the PDF object model, kept by the
//! Typst project); read with `lopdf` (pure Rust, parses the object and cross-reference streams
//! and filters that office scanners write).

use std::borrow::Borrow;
use std::io::Write;

use cloudcoin_domain::{Amount, Coin};
use pdf_writer::{Content, Filter, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::error::CodecError;
use crate::picture::PngLabel;
use crate::sheet::{
    GAP_MM, MARGIN_MM, MAX_PAPER_COINS, PAPER_QR, PT_PER_MM, PaperQr, PaperSize, Sheet, page_texts,
    plan,
};

/// The most bytes an attached coin file may inflate to: a format-9 file of 65,535 coins with
/// PANs is 52.9 MB.
const MAX_ATTACHMENT: usize = 64 << 20;
/// The resource name of the border every page shows.
const BORDER: &[u8] = b"Border";
/// The name of the attached file that carries the coins.
pub(crate) const ATTACHMENT: &str = "coins.bin";
/// DejaVu Sans, for the body text (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`).
const SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Serif Bold, for the amount and the title.
const SERIF_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSerif-Bold.ttf");

/// One embedded font: its resource name and the advance widths of WinAnsi codes 32 to 255.
struct Font {
    resource: &'static [u8],
    widths: Vec<f32>,
}

impl Font {
    fn load(bytes: &[u8], resource: &'static [u8]) -> Font {
        let face = ttf_parser::Face::parse(bytes, 0).expect("the embedded fonts parse");
        let scale = 1000.0 / f32::from(face.units_per_em());
        let widths = (32u8..=255)
            .map(|code| {
                face.glyph_index(char::from(code))
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0.0, |w| f32::from(w) * scale)
            })
            .collect();
        Font { resource, widths }
    }

    /// Width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        latin1(text).iter().map(|&b| self.widths[usize::from(b.max(32) - 32)]).sum::<f32>() * size
            / 1000.0
    }
}

/// `text` as WinAnsi bytes: Latin-1 characters as they are, anything else as `?`.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match u8::try_from(u32::from(c)) {
            Ok(b) if (32..127).contains(&b) || b >= 160 => b,
            _ => b'?',
        })
        .collect()
}

/// Colours as RGB fractions.
type Rgb = (f32, f32, f32);
const INK: Rgb = (0.08, 0.08, 0.1);
const GREEN: Rgb = (0.05, 0.3, 0.18);
const DEEP: Rgb = (0.1, 0.18, 0.36);
const RED: Rgb = (0.6, 0.08, 0.08);
const GREY: Rgb = (0.35, 0.35, 0.38);
const GOLD: Rgb = (0.62, 0.48, 0.16);

/// A page's drawing, with the fonts to measure text.
struct Painter<'f> {
    content: Content,
    sans: &'f Font,
    serif: &'f Font,
}

#[derive(Clone, Copy)]
enum Face {
    Sans,
    Serif,
}

impl Painter<'_> {
    fn font(&self, face: Face) -> &Font {
        match face {
            Face::Sans => self.sans,
            Face::Serif => self.serif,
        }
    }

    fn text(&mut self, x: f32, y: f32, face: Face, size: f32, colour: Rgb, text: &str) {
        let resource = self.font(face).resource;
        self.content.set_fill_rgb(colour.0, colour.1, colour.2);
        self.content.begin_text();
        self.content.set_font(Name(resource), size);
        self.content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
        self.content.show(Str(&latin1(text)));
        self.content.end_text();
    }

    /// `text` centred on `cx`, shrunk to fit in `room` points.
    #[allow(
        clippy::too_many_arguments,
        reason = "a drawing call: position, room, font, size, colour, text"
    )]
    fn centred(
        &mut self,
        cx: f32,
        y: f32,
        room: f32,
        face: Face,
        size: f32,
        colour: Rgb,
        text: &str,
    ) {
        let natural = self.font(face).width(text, size);
        let size = if natural > room { size * room / natural } else { size };
        let w = self.font(face).width(text, size);
        self.text(cx - w / 2.0, y, face, size, colour, text);
    }

    fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Rgb) {
        self.content.set_fill_rgb(colour.0, colour.1, colour.2);
        self.content.rect(x, y, w, h);
        self.content.fill_nonzero();
    }

    fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, line: f32, colour: Rgb) {
        self.content.set_stroke_rgb(colour.0, colour.1, colour.2);
        self.content.set_line_width(line);
        self.content.rect(x, y, w, h);
        self.content.stroke();
    }

    /// The fine border: two interlaced waves between two rules, around the page, as on
    /// banknotes and certificates (hard to copy cleanly, easy to see).
    fn border(&mut self, width: f32, height: f32) {
        let m = MARGIN_MM * PT_PER_MM;
        let band = 3.2 * PT_PER_MM;
        self.frame(m, m, width - 2.0 * m, height - 2.0 * m, 1.1, GREEN);
        self.frame(
            m + band,
            m + band,
            width - 2.0 * (m + band),
            height - 2.0 * (m + band),
            0.4,
            GREEN,
        );
        let mid = m + band / 2.0;
        let amplitude = band * 0.36;
        let period = 3.0 * PT_PER_MM;
        self.content.set_stroke_rgb(GOLD.0, GOLD.1, GOLD.2);
        self.content.set_line_width(0.3);
        // Each side: along `t` from `a` to `b`, the wave offset across it.
        let sides: [(f32, f32, bool, f32); 4] = [
            (mid, width - mid, true, mid),
            (mid, width - mid, true, height - mid),
            (mid, height - mid, false, mid),
            (mid, height - mid, false, width - mid),
        ];
        for (a, b, horizontal, across) in sides {
            for phase in [0.0f32, std::f32::consts::PI] {
                let steps = ((b - a) / 0.8) as u32;
                for i in 0..=steps {
                    let t = a + (b - a) * i as f32 / steps as f32;
                    let off = amplitude * (t / period * std::f32::consts::TAU + phase).sin();
                    let (x, y) = if horizontal { (t, across + off) } else { (across + off, t) };
                    if i == 0 {
                        self.content.move_to(x, y);
                    } else {
                        self.content.line_to(x, y);
                    }
                }
                self.content.stroke();
            }
        }
    }

    /// A QR symbol of `text` with its top left module at `(x, top)` (PDF y grows upwards):
    /// runs of dark modules of a row as one rectangle each.
    fn symbol(&mut self, x: f32, top: f32, text: &str, qr: PaperQr) {
        let (width, dark) = qr.symbol(text);
        let m = qr.module_pt();
        self.content.set_fill_rgb(0.0, 0.0, 0.0);
        for (row, modules) in dark.chunks(width).enumerate() {
            let y = top - (row + 1) as f32 * m;
            let mut col = 0;
            while col < width {
                if modules[col] {
                    let start = col;
                    while col < width && modules[col] {
                        col += 1;
                    }
                    self.content.rect(x + start as f32 * m, y, (col - start) as f32 * m, m);
                } else {
                    col += 1;
                }
            }
        }
        self.content.fill_nonzero();
    }
}

/// What one page shows.
struct PageText<'a> {
    label: &'a PngLabel,
    page_label: PngLabel,
    number: usize,
    pages: usize,
    page_code: String,
}

/// Writes `coins` as a PDF paper wallet on paper of `size`, showing `label`'s amount, tag and
/// date. Refuses more than [`MAX_PAPER_COINS`] coins.
pub(crate) fn write_pdf<W: Write, C: Borrow<Coin>>(
    mut w: W,
    coins: &[C],
    label: &PngLabel,
    size: PaperSize,
) -> Result<(), CodecError> {
    if coins.len() > MAX_PAPER_COINS {
        return Err(CodecError::TooManyForPaper { count: coins.len(), max: MAX_PAPER_COINS });
    }
    crate::bin::check_writable(coins)?;
    let all = crate::bin::encode_borrowed(coins)?;
    let ranges = plan(coins, PAPER_QR, size).expect("a coin always fits a page");
    // No coin at all still makes one page (saying 0 coins), as the other writers write a file.
    let ranges = if ranges.is_empty() { std::iter::once(0..0).collect() } else { ranges };
    let sans = Font::load(SANS, b"F1");
    let serif = Font::load(SERIF_BOLD, b"F2");
    let (width, height) = size.points();

    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let mut alloc = || next.bump();
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let (sans_ref, sans_desc, sans_file) = (alloc(), alloc(), alloc());
    let (serif_ref, serif_desc, serif_file) = (alloc(), alloc(), alloc());
    let (spec, embedded) = (alloc(), alloc());
    let border_ref = alloc();
    let page_refs: Vec<(Ref, Ref)> = ranges.iter().map(|_| (alloc(), alloc())).collect();

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree);
        cat.names().embedded_files().names().insert(Str(ATTACHMENT.as_bytes()), spec);
    }
    pdf.pages(tree).kids(page_refs.iter().map(|(p, _)| *p)).count(page_refs.len() as i32);
    pdf.document_info(info)
        .title(TextStr(&format!("CloudCoin paper wallet: {}", label.amount().display_grouped())))
        .producer(TextStr(concat!("cloudcoin-server ", env!("CARGO_PKG_VERSION"))));
    {
        let mut file_spec = pdf.file_spec(spec);
        file_spec.path(Str(ATTACHMENT.as_bytes()));
        file_spec.unic_file(TextStr(ATTACHMENT));
        file_spec.description(TextStr("The coins of this paper wallet, CloudCoin format 9"));
        file_spec.embedded_file(embedded);
    }
    {
        let mut file = pdf.embedded_file(embedded, &all);
        file.subtype(Name(b"application/octet-stream"));
        file.params().size(all.len() as i32);
    }
    embed_font(&mut pdf, SANS, &sans, (sans_ref, sans_desc, sans_file), b"DejaVuSans", false);
    embed_font(
        &mut pdf,
        SERIF_BOLD,
        &serif,
        (serif_ref, serif_desc, serif_file),
        b"DejaVuSerif-Bold",
        true,
    );

    // The border is the same on every page: drawn once, as a form every page shows (drawn on
    // each page it was half of a 126-page PDF's bytes).
    {
        let mut border = Painter { content: Content::new(), sans: &sans, serif: &serif };
        border.border(width, height);
        let content = miniz_oxide::deflate::compress_to_vec_zlib(&border.content.finish(), 6);
        let mut form = pdf.form_xobject(border_ref, &content);
        form.filter(Filter::FlateDecode);
        form.bbox(Rect::new(0.0, 0.0, width, height));
    }
    for (k, (range, (page_ref, content_ref))) in ranges.iter().zip(&page_refs).enumerate() {
        let page_coins = &coins[range.clone()];
        let payload = crate::bin::encode_borrowed(page_coins)?;
        let texts = if page_coins.is_empty() {
            Vec::new()
        } else {
            page_texts(&payload, PAPER_QR, size, Sheet::of(k))
        };
        let page_label = PngLabel::new(page_coins, label.tag().clone(), label.date())?;
        let text = PageText {
            label,
            page_label,
            number: k + 1,
            pages: ranges.len(),
            page_code: crate::framing::PageId::of(&payload).to_string(),
        };
        let mut painter = Painter { content: Content::new(), sans: &sans, serif: &serif };
        draw_page(&mut painter, size, &text, &texts, page_coins);
        let content = miniz_oxide::deflate::compress_to_vec_zlib(&painter.content.finish(), 6);
        pdf.stream(*content_ref, &content).filter(Filter::FlateDecode);
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, width, height));
        page.parent(tree);
        page.contents(*content_ref);
        let mut resources = page.resources();
        resources.x_objects().pair(Name(BORDER), border_ref);
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), sans_ref);
        fonts.pair(Name(b"F2"), serif_ref);
    }
    w.write_all(&pdf.finish())?;
    w.flush()?;
    Ok(())
}

/// Writes a TrueType font, whole and compressed, as a simple font with WinAnsi encoding.
fn embed_font(
    pdf: &mut Pdf,
    bytes: &[u8],
    font: &Font,
    refs: (Ref, Ref, Ref),
    name: &[u8],
    bold: bool,
) {
    let (font_ref, desc_ref, file_ref) = refs;
    let face = ttf_parser::Face::parse(bytes, 0).expect("the embedded fonts parse");
    let scale = 1000.0 / f32::from(face.units_per_em());
    {
        let mut dict = pdf.indirect(font_ref).dict();
        dict.pair(Name(b"Type"), Name(b"Font"));
        dict.pair(Name(b"Subtype"), Name(b"TrueType"));
        dict.pair(Name(b"BaseFont"), Name(name));
        dict.pair(Name(b"FirstChar"), 32);
        dict.pair(Name(b"LastChar"), 255);
        dict.insert(Name(b"Widths")).array().items(font.widths.iter().copied());
        dict.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
        dict.pair(Name(b"FontDescriptor"), desc_ref);
    }
    let b = face.global_bounding_box();
    let s = |v: i16| f32::from(v) * scale;
    pdf.font_descriptor(desc_ref)
        .name(Name(name))
        .flags(pdf_writer::types::FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(s(b.x_min), s(b.y_min), s(b.x_max), s(b.y_max)))
        .italic_angle(0.0)
        .ascent(s(face.ascender()))
        .descent(s(face.descender()))
        .cap_height(s(face.capital_height().unwrap_or(face.ascender())))
        .stem_v(if bold { 140.0 } else { 80.0 })
        .font_file2(file_ref);
    let compressed = miniz_oxide::deflate::compress_to_vec_zlib(bytes, 6);
    pdf.stream(file_ref, &compressed)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), bytes.len() as i32);
}

/// `1 coin`, `9 coins`.
fn coins_text(n: usize) -> String {
    if n == 1 { "1 coin".to_owned() } else { format!("{n} coins") }
}

/// Lays out one page: border, header, codes, coin list, footer.
fn draw_page<C: Borrow<Coin>>(
    p: &mut Painter<'_>,
    size: PaperSize,
    t: &PageText<'_>,
    texts: &[String],
    coins: &[C],
) {
    let sheet = Sheet::of(t.number - 1);
    p.content.x_object(Name(BORDER));
    match sheet {
        Sheet::First => first_header(p, size, t),
        Sheet::Continuation => slim_header(p, size, t),
    }
    draw_codes(p, size, sheet, texts);
    coin_list(p, size, sheet, t, coins);
}

/// The first page's header: the amount, the word CloudCoin, the tag; then counts, the warning,
/// how to redeem.
fn first_header(p: &mut Painter<'_>, size: PaperSize, t: &PageText<'_>) {
    let (width, height) = size.points();
    let mm = PT_PER_MM;
    let cx = width / 2.0;
    let room = width - 2.0 * (MARGIN_MM + 8.0) * mm;
    let top = height - MARGIN_MM * mm;
    let amount = t.label.amount().display_grouped();
    p.centred(cx, top - 21.0 * mm, room, Face::Serif, 40.0, GREEN, &amount);
    p.centred(cx, top - 31.0 * mm, room, Face::Serif, 20.0, DEEP, "CloudCoin");
    if !t.label.tag().as_str().is_empty() {
        p.centred(cx, top - 38.5 * mm, room, Face::Sans, 12.0, DEEP, t.label.tag().as_str());
    }
    let mut line = coins_text(t.label.coin_count());
    if !t.label.date().is_empty() {
        line = format!("{line}  \u{b7}  {}", t.label.date());
    }
    line = format!("{line}  \u{b7}  page {} of {}", t.number, t.pages);
    p.centred(cx, top - 44.5 * mm, room, Face::Sans, 9.0, GREY, &line);

    let band_top = top - 47.5 * mm;
    p.fill(
        MARGIN_MM * mm + 6.0 * mm,
        band_top - 7.0 * mm,
        width - 2.0 * (MARGIN_MM + 6.0) * mm,
        7.0 * mm,
        (0.99, 0.95, 0.9),
    );
    p.centred(
        cx,
        band_top - 4.9 * mm,
        room,
        Face::Serif,
        9.5,
        RED,
        "WHOEVER HOLDS THIS PAPER OR ITS FILE CAN SPEND THE COINS. KEEP IT LIKE CASH.",
    );
    let lines = [
        "To redeem: import this PDF, or photos or scans of all its pages in any order, into a CloudCoin",
        "wallet that reads these codes (cloudcoin-server: cloudcoin import FILE). A phone's camera app",
        "shows only text. Keep the file unedited: apps that recompress pictures remove the coins.",
    ];
    for (i, l) in lines.iter().enumerate() {
        p.centred(cx, band_top - (12.5 + 4.0 * i as f32) * mm, room, Face::Sans, 8.2, INK, l);
    }
}

/// A continuation page's header, two lines: the wallet it belongs to and page *k* of *n*; this
/// page's coins, their amount and the page code, and the warning.
fn slim_header(p: &mut Painter<'_>, size: PaperSize, t: &PageText<'_>) {
    let (width, height) = size.points();
    let mm = PT_PER_MM;
    let cx = width / 2.0;
    let room = width - 2.0 * (MARGIN_MM + 8.0) * mm;
    let top = height - MARGIN_MM * mm;
    let mut first =
        format!("CloudCoin paper wallet  \u{b7}  {} in all", t.label.amount().display_grouped());
    if !t.label.tag().as_str().is_empty() {
        first = format!("{first}  \u{b7}  {}", t.label.tag().as_str());
    }
    first = format!("{first}  \u{b7}  page {} of {}", t.number, t.pages);
    p.centred(cx, top - 8.2 * mm, room, Face::Serif, 11.0, GREEN, &first);
    let second = format!(
        "This page: {} worth {}  \u{b7}  page code {}  \u{b7}  whoever holds this paper can spend the coins",
        coins_text(t.page_label.coin_count()),
        t.page_label.amount().display_grouped(),
        t.page_code
    );
    p.centred(cx, top - 12.4 * mm, room, Face::Sans, 7.5, RED, &second);
}

/// The codes, centred in the room between header and footer, each with its own quiet zone and
/// its number under it; every second row moved right by [`PaperQr::shift_pt`].
fn draw_codes(p: &mut Painter<'_>, size: PaperSize, sheet: Sheet, texts: &[String]) {
    let (width, height) = size.points();
    let mm = PT_PER_MM;
    let (columns, _) = PAPER_QR.grid(size, sheet);
    let columns = columns.max(1);
    let n = texts.len() as u32;
    let cell = PAPER_QR.cell_pt();
    let gap = GAP_MM * mm;
    let quiet = PAPER_QR.quiet as f32 * PAPER_QR.module_pt();
    let rows = n.div_ceil(columns);
    let shift = PAPER_QR.shift_pt(rows);
    let codes_top = height - (MARGIN_MM + sheet.header_mm()) * mm;
    let codes_bottom = (MARGIN_MM + sheet.footer_mm()) * mm;
    let row_h = PAPER_QR.row_pt();
    let used_h = rows as f32 * row_h - gap;
    let start_y = codes_top - ((codes_top - codes_bottom) - used_h).max(0.0) / 2.0;
    let full_w = n.min(columns) as f32 * (cell + gap) - gap + shift;
    for (i, text) in (0u32..).zip(texts) {
        let (row, col) = (i / columns, i % columns);
        let x = width / 2.0 - full_w / 2.0 + col as f32 * (cell + gap) + (row % 2) as f32 * shift;
        let y = start_y - row as f32 * row_h;
        p.symbol(x + quiet, y - quiet, text, PAPER_QR);
        p.centred(
            x + cell / 2.0,
            y - cell - 2.6 * mm,
            cell,
            Face::Sans,
            6.5,
            GREY,
            &format!("{} / {n}", i + 1),
        );
    }
}

/// The coins of this page (four lines of them on the first page, two on the others), then the
/// page line.
fn coin_list<C: Borrow<Coin>>(
    p: &mut Painter<'_>,
    size: PaperSize,
    sheet: Sheet,
    t: &PageText<'_>,
    coins: &[C],
) {
    let (width, _) = size.points();
    let mm = PT_PER_MM;
    let cx = width / 2.0;
    let room = width - 2.0 * (MARGIN_MM + 8.0) * mm;
    let list_top = (MARGIN_MM + sheet.footer_mm() - 4.0) * mm;
    let left = (MARGIN_MM + 8.0) * mm;
    p.text(
        left,
        list_top,
        Face::Sans,
        7.0,
        INK,
        &format!(
            "This page carries {} worth {} (value #serial):",
            coins_text(coins.len()),
            t.page_label.amount().display_grouped()
        ),
    );
    let entries: Vec<String> = coins
        .iter()
        .map(|c| {
            let c: &Coin = c.borrow();
            let value = c
                .value()
                .map_or_else(|| format!("code {}", c.denomination.code()), Amount::display_grouped);
            format!("{value} #{}", c.serial.get())
        })
        .collect();
    let col_w = 42.0 * mm;
    let per_col = match sheet {
        Sheet::First => 4,
        Sheet::Continuation => 2,
    };
    for (i, e) in entries.iter().enumerate() {
        let x = left + (i / per_col) as f32 * col_w;
        let y = list_top - (3.6 + 3.0 * (i % per_col) as f32) * mm;
        p.text(x, y, Face::Sans, 7.0, INK, e);
    }
    let footer = format!(
        "Page {} of {}  \u{b7}  page code {}  \u{b7}  cloudcoin-server {}",
        t.number,
        t.pages,
        t.page_code,
        env!("CARGO_PKG_VERSION")
    );
    p.centred(cx, (MARGIN_MM + 5.6) * mm, room, Face::Sans, 7.5, GREY, &footer);
}

fn pdf_error(e: impl std::fmt::Display) -> CodecError {
    CodecError::Pdf { reason: e.to_string() }
}

/// Reads the coins of a PDF: from its attached `coins.bin` (the PDFs this codec writes), or,
/// when it has none (a PDF an office scanner made of printed pages), from the QR codes of the
/// pictures on its pages, grouped by page: every page seen must be whole. Blocking, and
/// CPU-heavy for a scanned PDF (about a second a page).
///
/// ```
/// use cloudcoin_codec::{decode_pdf, write_coins, WriteOptions};
/// use cloudcoin_domain::{Coin, Denomination, FileKind, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coin = Coin::new(Denomination::from_code(0), SerialNumber::new(5), [[1; 16]; RAIDA_COUNT], [Pown::Pass; RAIDA_COUNT]);
/// let mut pdf = Vec::new();
/// write_coins(&mut pdf, FileKind::Pdf, std::slice::from_ref(&coin), &WriteOptions::new()).unwrap();
/// assert!(pdf.starts_with(b"%PDF-"));
/// assert_eq!(decode_pdf(&pdf).unwrap()[0].ans, coin.ans);
/// ```
pub fn decode_pdf(bytes: &[u8]) -> Result<Vec<Coin>, CodecError> {
    // A PDF ends with `%%EOF` (and perhaps white space): without it the file was cut short, which
    // the lenient parser would otherwise let pass.
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    if !bytes[..end].ends_with(b"%%EOF") {
        return Err(pdf_error("the file is cut short (it does not end with %%EOF)"));
    }
    let doc = lopdf::Document::load_mem(bytes).map_err(pdf_error)?;
    if let Some(payload) = attachment(&doc)? {
        return crate::bin::decode_bin(&payload);
    }
    let scans = scan_pages(&doc)?;
    crate::scan::decode_paper(scans.iter())
}

/// The bytes of the attached file named [`ATTACHMENT`], if there is one.
fn attachment(doc: &lopdf::Document) -> Result<Option<Vec<u8>>, CodecError> {
    let Ok(catalog) = doc.catalog() else { return Ok(None) };
    let Ok(names) = catalog.get_deref(b"Names", doc).and_then(lopdf::Object::as_dict) else {
        return Ok(None);
    };
    let Ok(tree) = names.get_deref(b"EmbeddedFiles", doc).and_then(lopdf::Object::as_dict) else {
        return Ok(None);
    };
    let mut nodes = vec![tree];
    let mut visited = 0;
    while let Some(node) = nodes.pop() {
        visited += 1;
        if visited > 1_000 {
            break;
        }
        if let Ok(kids) = node.get_deref(b"Kids", doc).and_then(lopdf::Object::as_array) {
            for kid in kids {
                if let Ok((_, lopdf::Object::Dictionary(d))) = doc.dereference(kid) {
                    nodes.push(d);
                }
            }
        }
        let Ok(pairs) = node.get_deref(b"Names", doc).and_then(lopdf::Object::as_array) else {
            continue;
        };
        for pair in pairs.chunks(2) {
            let [name, spec] = pair else { continue };
            if name.as_str().ok() != Some(ATTACHMENT.as_bytes()) {
                continue;
            }
            let stream = doc
                .dereference(spec)
                .ok()
                .and_then(|(_, s)| s.as_dict().ok())
                .and_then(|s| s.get_deref(b"EF", doc).ok())
                .and_then(|ef| ef.as_dict().ok())
                .and_then(|ef| ef.get_deref(b"F", doc).ok())
                .and_then(|f| f.as_stream().ok());
            let Some(stream) = stream else { continue };
            let content = if stream.dict.get(b"Filter").is_ok() {
                stream.decompressed_content_with_limit(MAX_ATTACHMENT).map_err(pdf_error)?
            } else {
                stream.content.clone()
            };
            return Ok(Some(content));
        }
    }
    Ok(None)
}

/// The QR codes of the pictures on every page: JPEG pictures as they are, 8-bit grey or RGB
/// pictures compressed with Flate; other kinds of picture are skipped.
fn scan_pages(doc: &lopdf::Document) -> Result<Vec<crate::scan::PaperScan>, CodecError> {
    let mut scans = Vec::new();
    for (_, page) in doc.get_pages() {
        for image in doc.get_page_images(page).unwrap_or_default() {
            let filters = image.filters.clone().unwrap_or_default();
            // Every picture is held to the same pixel budget as a photo an import reads, and
            // waits for its turn under the process-wide gate (`scan::Turn`).
            let (grey, _turn) = if filters.iter().any(|f| f == "DCTDecode") {
                crate::scan::decode_grey(image.content)?
            } else if filters.iter().all(|f| f == "FlateDecode") {
                let (Ok(w), Ok(h)) = (u32::try_from(image.width), u32::try_from(image.height))
                else {
                    continue;
                };
                if image.bits_per_component != Some(8) {
                    continue;
                }
                let turn = crate::scan::Turn::take(crate::scan::pixel_budget(w, h)?);
                let data = if filters.is_empty() {
                    image.content.to_vec()
                } else {
                    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(
                        image.content,
                        (w * h * 3) as usize,
                    )
                    .map_err(|e| pdf_error(format!("a page picture does not inflate: {e:?}")))?
                };
                let grey = match image.color_space.as_deref() {
                    Some("DeviceGray") => match image::GrayImage::from_raw(w, h, data) {
                        Some(g) => g,
                        None => continue,
                    },
                    Some("DeviceRGB") => match image::RgbImage::from_raw(w, h, data) {
                        Some(rgb) => image::DynamicImage::ImageRgb8(rgb).into_luma8(),
                        None => continue,
                    },
                    _ => continue,
                };
                (grey, turn)
            } else {
                continue;
            };
            scans.push(crate::scan::scan_grey(&grey)?);
        }
    }
    Ok(scans)
}
