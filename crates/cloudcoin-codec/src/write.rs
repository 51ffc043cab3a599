//! The writers' one entry point, [`write_coins`]: a dispatcher over the formats' writers.

use std::borrow::Borrow;
use std::io::Write;

use cloudcoin_domain::{Coin, FileKind};

use crate::error::CodecError;
use crate::options::WriteOptions;
#[cfg(feature = "png")]
use crate::picture::PngLabel;

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
/// # // Png pages need the `png` feature.
/// # let kinds = if cfg!(feature = "png") { &[FileKind::Bin, FileKind::Stack, FileKind::Png][..] } else { &[FileKind::Bin, FileKind::Stack][..] };
/// # /*
/// for kind in [FileKind::Bin, FileKind::Stack, FileKind::Png] {
/// # */
/// # for &kind in kinds {
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
        #[cfg(feature = "png")]
        FileKind::Png => {
            let label = PngLabel::new(coins, options.tag().clone(), options.date())?;
            crate::png_write::write_png(w, coins, &label)?;
            options.report(coins.len());
            Ok(())
        }
        #[cfg(not(feature = "png"))]
        FileKind::Png => Err(CodecError::NotBuiltIn { what: "writing png pages", feature: "png" }),
        #[cfg(feature = "pdf")]
        FileKind::Pdf => {
            let label = PngLabel::new(coins, options.tag().clone(), options.date())?;
            crate::pdf::write_pdf(w, coins, &label, options.paper_size())?;
            options.report(coins.len());
            Ok(())
        }
        #[cfg(not(feature = "pdf"))]
        FileKind::Pdf => {
            Err(CodecError::NotBuiltIn { what: "writing pdf paper wallets", feature: "pdf" })
        }
        FileKind::Zip => Err(CodecError::NeedsSeek { kind }),
    }
}
