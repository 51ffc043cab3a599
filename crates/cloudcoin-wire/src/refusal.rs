//! Why an import refused an item or a coin in it, as a kind a program can act on.

use crate::codes;

/// The kind of an import refusal: each is one numeric code of [`codes`] (from 4320), sent as a
/// rejection's `code`, so that a client acts on the kind and shows the `reason` to a person.
///
/// `#[non_exhaustive]`: later versions add kinds; match with a `_` arm.
///
/// ```
/// use cloudcoin_wire::{RefusalKind, codes};
/// assert_eq!(RefusalKind::SentAway.code(), codes::REFUSED_SENT_AWAY);
/// assert_eq!(RefusalKind::from_code(4328), Some(RefusalKind::SentAway));
/// assert_eq!(RefusalKind::from_code(4115), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalKind {
    /// The item could not be read: no such file, not a regular file, too large, not absolute,
    /// inside the data directory, or inline data that is not base64.
    Unreadable,
    /// The item's bytes are not coins in any format this server reads.
    NotCoins,
    /// A coin whose denomination is not money.
    NotMoney,
    /// A picture with no code this server could read, or a printed page with codes missing.
    PaperUnread,
    /// Another wallet of this server holds the coin, or is importing it right now.
    HeldByOtherWallet,
    /// An export of this wallet holds the coin (or held it back for attention): import the file
    /// again once the export has ended.
    BeingExported,
    /// The wallet holds the coin with other keys than this file: keep the file.
    OtherKeys,
    /// A file of the coin lies in another wallet's held folder (being sent away, or not read
    /// yet): import again once that is settled.
    InOtherWalletFolder,
    /// This server sent the coin away in an export: the same request with `allow_sent` stores
    /// it.
    SentAway,
    /// A refusal recorded by a server version that kept no kind.
    Unclassified,
}

impl RefusalKind {
    /// Every kind, in the order of their codes.
    pub const ALL: [RefusalKind; 10] = [
        RefusalKind::Unreadable,
        RefusalKind::NotCoins,
        RefusalKind::NotMoney,
        RefusalKind::PaperUnread,
        RefusalKind::HeldByOtherWallet,
        RefusalKind::BeingExported,
        RefusalKind::OtherKeys,
        RefusalKind::InOtherWalletFolder,
        RefusalKind::SentAway,
        RefusalKind::Unclassified,
    ];

    /// The numeric code sent as a rejection's `code`.
    pub const fn code(self) -> u16 {
        match self {
            RefusalKind::Unreadable => codes::REFUSED_UNREADABLE,
            RefusalKind::NotCoins => codes::REFUSED_NOT_COINS,
            RefusalKind::NotMoney => codes::REFUSED_NOT_MONEY,
            RefusalKind::PaperUnread => codes::REFUSED_PAPER_UNREAD,
            RefusalKind::HeldByOtherWallet => codes::REFUSED_HELD_BY_OTHER_WALLET,
            RefusalKind::BeingExported => codes::REFUSED_BEING_EXPORTED,
            RefusalKind::OtherKeys => codes::REFUSED_OTHER_KEYS,
            RefusalKind::InOtherWalletFolder => codes::REFUSED_IN_OTHER_WALLET_FOLDER,
            RefusalKind::SentAway => codes::REFUSED_SENT_AWAY,
            RefusalKind::Unclassified => codes::REFUSED_UNCLASSIFIED,
        }
    }

    /// The kind whose code is `code`, or `None` for a code that is no import refusal (or one a
    /// later version added).
    pub fn from_code(code: u16) -> Option<RefusalKind> {
        RefusalKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_listed_code() {
        let mut seen = std::collections::HashSet::new();
        for kind in RefusalKind::ALL {
            assert!(seen.insert(kind.code()), "{kind:?} shares its code");
            assert!(codes::describe(kind.code()).is_some(), "{kind:?}'s code is not listed");
            assert_eq!(RefusalKind::from_code(kind.code()), Some(kind));
        }
        assert!(RefusalKind::ALL.windows(2).all(|w| w[0].code() < w[1].code()));
    }
}
