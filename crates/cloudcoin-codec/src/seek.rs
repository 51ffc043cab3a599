//! Seeking through a buffering wrapper, for the zip writer's window and the streaming reader.

use std::io::{self, Seek, SeekFrom};

/// Where a seek `to` from the absolute position `here` lands, when that can be told without the
/// stream's length: `None` for [`SeekFrom::End`] and for a position before the start.
pub(crate) fn seek_target(here: u64, to: SeekFrom) -> Option<u64> {
    match to {
        SeekFrom::Start(n) => Some(n),
        SeekFrom::Current(d) => here.checked_add_signed(d),
        SeekFrom::End(_) => None,
    }
}

/// Seeks `inner` for a buffering wrapper whose logical position is not `inner`'s own: a seek from
/// the current position goes to its absolute `target` ([`seek_target`]); the others as asked.
pub(crate) fn seek_inner<S: Seek>(
    inner: &mut S,
    to: SeekFrom,
    target: Option<u64>,
) -> io::Result<u64> {
    match to {
        SeekFrom::Current(_) => {
            let t = target.ok_or_else(|| io::Error::other("seek before the start"))?;
            inner.seek(SeekFrom::Start(t))
        }
        other => inner.seek(other),
    }
}
