//! Counts in the words people read: "1 coin", "3 coins", never "1 coin(s)".

/// A count of things: the integer types the tasks count coins and files in.
pub(crate) trait Count: Copy {
    /// The count as a `u64`.
    fn get(self) -> u64;
}

impl Count for u64 {
    fn get(self) -> u64 {
        self
    }
}

impl Count for u32 {
    fn get(self) -> u64 {
        u64::from(self)
    }
}

impl Count for usize {
    fn get(self) -> u64 {
        // A usize is at most 64 bits on every target the server builds for.
        u64::try_from(self).unwrap_or(u64::MAX)
    }
}

/// `count` followed by the noun in its singular or plural form.
pub(crate) fn counted(count: impl Count, singular: &str, plural: &str) -> String {
    let count = count.get();
    if count == 1 { format!("1 {singular}") } else { format!("{count} {plural}") }
}

/// `one` for a count of 1, `many` for any other: the verb or pronoun that agrees with a count.
pub(crate) fn agree<'a>(count: impl Count, one: &'a str, many: &'a str) -> &'a str {
    if count.get() == 1 { one } else { many }
}

/// "1 coin", "3 coins", "0 coins".
pub(crate) fn coins(count: impl Count) -> String {
    counted(count, "coin", "coins")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(coins(1u64), "1 coin");
        assert_eq!(coins(0u64), "0 coins");
        assert_eq!(coins(2u64), "2 coins");
        assert_eq!(coins(65_535usize), "65535 coins");
        assert_eq!(counted(1u32, "coin file", "coin files"), "1 coin file");
        assert_eq!(counted(11u32, "coin file", "coin files"), "11 coin files");
        assert_eq!(agree(1u64, "is", "are"), "is");
        assert_eq!(agree(0u64, "is", "are"), "are");
    }
}
