//! The options every writer takes.

use std::fmt;

use cloudcoin_domain::Tag;

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
    #[cfg(feature = "pdf")]
    paper: crate::sheet::PaperSize,
    date: String,
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
    #[cfg(feature = "pdf")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pdf")))]
    pub fn with_paper_size(mut self, paper: crate::sheet::PaperSize) -> WriteOptions<'a> {
        self.paper = paper;
        self
    }

    /// The paper set with [`WriteOptions::with_paper_size`].
    #[cfg(feature = "pdf")]
    #[cfg_attr(docsrs, doc(cfg(feature = "pdf")))]
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
        let mut out = f.debug_struct("WriteOptions");
        out.field("tag", &self.tag).field("date", &self.date);
        #[cfg(feature = "pdf")]
        out.field("paper", &self.paper);
        out.field("progress", &self.progress.as_ref().map(|_| "callback")).finish()
    }
}
