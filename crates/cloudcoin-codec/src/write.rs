//! The writers' one entry point, [`write_coins`], and the options every writer takes.

use std::borrow::Borrow;
use std::fmt;
use std::io::Write;

use cloudcoin_domain::{Coin, FileKind, Tag};

use crate::error::CodecError;
use crate::picture::PngLabel;

/// What a writer needs besides the coins: the tag and date shown on a PNG page, and an optional
/// progress callback.
///
/// `#[non_exhaustive]`: build it with [`WriteOptions::new`] (or [`Default`]) and the `with_*`
/// methods, so that options added later do not break callers.
///
/// ```
/// use cloudcoin_codec::WriteOptions;
/// use cloudcoin_domain::Tag;
/// use std::cell::Cell;
///
/// let written = Cell::new(0);
/// let options = WriteOptions::new()
///     .with_tag(Tag::parse("payment-to-alice").unwrap())
///     .with_date("2026-11-29")
///     .with_progress(|n| written.set(n));
/// assert_eq!(options.tag().as_str(), "payment-to-alice");
/// assert_eq!(options.date(), "2026-11-29");
/// ```
#[non_exhaustive]
#[derive(Default)]
pub struct WriteOptions<'a> {
    tag: Tag,
    date: String,
    paper: crate::sheet::PaperSize,
    progress: Option<Box<dyn Fn(usize) + 'a>>,
}

impl<'a> WriteOptions<'a> {
    /// No tag, no date, no progress reports.
    pub fn new() -> WriteOptions<'a> {
        WriteOptions::default()
    }

    /// The tag printed on a PNG page (nothing is printed for the empty tag). Other kinds of file
    /// do not carry a tag; put it in the file name (see [`cloudcoin_domain::export_file_name`]).
    pub fn with_tag(mut self, tag: Tag) -> WriteOptions<'a> {
        self.tag = tag;
        self
    }

    /// The date printed on a PNG page, already formatted as it should read (for example
    /// `2026-11-29`); empty prints no date. The codec never reads the clock.
    pub fn with_date(mut self, date: impl Into<String>) -> WriteOptions<'a> {
        self.date = date.into();
        self
    }

    /// Calls `progress(coins_written_so_far)` as the file is written: every few hundred coins for
    /// bin and stack, every hundred for zip, once at the end for png, and always once with the
    /// coin count when the file is complete. The count never goes backwards.
    pub fn with_progress(mut self, progress: impl Fn(usize) + 'a) -> WriteOptions<'a> {
        self.progress = Some(Box::new(progress));
        self
    }

    /// The paper a `pdf` paper wallet is laid out for (A4 unless set).
    pub fn with_paper_size(mut self, paper: crate::sheet::PaperSize) -> WriteOptions<'a> {
        self.paper = paper;
        self
    }

    /// The paper set with [`WriteOptions::with_paper_size`].
    pub fn paper_size(&self) -> crate::sheet::PaperSize {
        self.paper
    }

    /// The tag set with [`WriteOptions::with_tag`].
    pub fn tag(&self) -> &Tag {
        &self.tag
    }

    /// The date set with [`WriteOptions::with_date`].
    pub fn date(&self) -> &str {
        &self.date
    }

    /// Reports progress, if a callback was given.
    pub(crate) fn report(&self, coins_written: usize) {
        if let Some(progress) = &self.progress {
            progress(coins_written);
        }
    }
}

impl fmt::Debug for WriteOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteOptions")
            .field("tag", &self.tag)
            .field("date", &self.date)
            .field("paper", &self.paper)
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .finish()
    }
}

/// Writes `coins` to `w` as a file of `kind`: a format-9 `bin`, a JSON `stack` or a `png` page.
///
/// Any [`Write`] will do (a file, a socket, a `Vec<u8>`); the writer is flushed at the end.
/// The coins may be a slice of coins or of references to them (`&[Coin]`, `&[&Coin]`,
/// `&[Arc<Coin>]`): a caller holding shared coins writes them without copying them first.
/// A `zip` archive is refused with [`CodecError::NeedsSeek`] before anything is written: a zip
/// writer goes back to fill in each entry's header once the entry is written, so it needs
/// [`std::io::Seek`] as well; call [`write_zip`](crate::write_zip) for it.
///
/// Refuses a coin set holding the same coin twice ([`CodecError::DuplicateCoin`]) and, for bin
/// and png, more coins than one format-9 file can hold ([`CodecError::TooManyCoins`]).
/// Several-coin bin and png files carry no POWN (see [`decode_bin`](crate::decode_bin)).
///
/// ```
/// use cloudcoin_codec::{decode_any, write_coins, Limits, WriteOptions};
/// use cloudcoin_domain::{Coin, Denomination, FileKind, Pown, SerialNumber, RAIDA_COUNT};
///
/// let coins: Vec<Coin> = (1..=3)
///     .map(|sn| Coin::new(
///         Denomination::from_code(0),
///         SerialNumber::new(sn),
///         [[sn as u8; 16]; RAIDA_COUNT],
///         [Pown::Pass; RAIDA_COUNT],
///     ))
///     .collect();
/// for kind in [FileKind::Bin, FileKind::Stack, FileKind::Png] {
///     let mut file = Vec::new();
///     write_coins(&mut file, kind, &coins, &WriteOptions::new().with_date("2026-11-29")).unwrap();
///     let back = decode_any(&file, &Limits::default()).unwrap();
///     assert_eq!(back.len(), 3);
///     assert_eq!(back[0].ans, coins[0].ans);
/// }
///
/// let refused = write_coins(Vec::new(), FileKind::Zip, &coins, &WriteOptions::new());
/// assert!(matches!(refused, Err(cloudcoin_codec::CodecError::NeedsSeek { kind: FileKind::Zip })));
/// ```
pub fn write_coins<C: Borrow<Coin>>(
    w: impl Write,
    kind: FileKind,
    coins: &[C],
    options: &WriteOptions<'_>,
) -> Result<(), CodecError> {
    let mut progress = |n: usize| options.report(n);
    match kind {
        FileKind::Bin => crate::bin::write_bin_reporting(w, coins, &mut progress),
        FileKind::Stack => crate::stack::write_stack_reporting(w, coins, &mut progress),
        FileKind::Png => {
            let label = PngLabel::new(coins, options.tag().clone(), options.date())?;
            crate::png_file::write_png(w, coins, &label)?;
            options.report(coins.len());
            Ok(())
        }
        FileKind::Pdf => {
            let label = PngLabel::new(coins, options.tag().clone(), options.date())?;
            crate::pdf::write_pdf(w, coins, &label, options.paper)?;
            options.report(coins.len());
            Ok(())
        }
        FileKind::Zip => Err(CodecError::NeedsSeek { kind }),
    }
}
