//! The bounds on what reading a file may cost.

/// Bounds on what reading an archive may cost, so that a zip bomb or a 2 GB "coin" ends in
/// [`CodecError::TooLarge`](crate::CodecError::TooLarge) or [`CodecError::TooDeep`](crate::CodecError::TooDeep) instead of exhausting memory.
///
/// `#[non_exhaustive]`: start from [`Limits::default`] and change what you need with the
/// `with_*` methods (or by assigning a field).
///
/// ```
/// use cloudcoin_codec::Limits;
///
/// let small = Limits::default().with_max_entry_bytes(1 << 20).with_max_depth(1);
/// assert_eq!(small.max_entry_bytes, 1 << 20);
/// assert_eq!(small.max_entries, Limits::default().max_entries);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest size of one entry once decompressed, declared or actual.
    pub max_entry_bytes: u64,
    /// Largest size of all entries together once decompressed, nested archives included.
    pub max_total_bytes: u64,
    /// Most entries (directories not counted), nested archives included.
    pub max_entries: usize,
    /// Deepest nesting of archives: 1 reads a zip but no zip inside it, 2 one zip inside it, …
    pub max_depth: u8,
}

impl Default for Limits {
    /// 64 MiB per entry, 256 MiB in all, 70,000 entries (a full 65,535-coin export and then
    /// some), a zip inside a zip at most.
    fn default() -> Limits {
        Limits {
            max_entry_bytes: 64 << 20,
            max_total_bytes: 256 << 20,
            max_entries: 70_000,
            max_depth: 2,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_entry_bytes`].
    pub fn with_max_entry_bytes(mut self, bytes: u64) -> Limits {
        self.max_entry_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_total_bytes`].
    pub fn with_max_total_bytes(mut self, bytes: u64) -> Limits {
        self.max_total_bytes = bytes;
        self
    }

    /// Sets [`Limits::max_entries`].
    pub fn with_max_entries(mut self, entries: usize) -> Limits {
        self.max_entries = entries;
        self
    }

    /// Sets [`Limits::max_depth`].
    pub fn with_max_depth(mut self, depth: u8) -> Limits {
        self.max_depth = depth;
        self
    }
}
