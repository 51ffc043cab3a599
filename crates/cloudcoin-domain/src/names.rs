//! Wallet names, tags and the CloudCoin v3 file-naming convention (`docs/SPEC.md` §4.5, §5).

use std::fmt;

use crate::amount::Amount;
use crate::coin::Coin;
use crate::error::NameError;

/// Longest wallet name, in characters.
pub const MAX_WALLET_NAME_LEN: usize = 64;
/// Longest tag, in characters.
pub const MAX_TAG_LEN: usize = 64;

/// A valid wallet name: 1–64 letters, digits, space, `_`, `-`, `.`, not starting with `.`.
/// It can never be a path (no separators, never `.` or `..`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WalletName(String);

impl WalletName {
    /// Checks `name` against the wallet-name rules.
    pub fn parse(name: &str) -> Result<WalletName, NameError> {
        const WHAT: &str = "wallet name";
        if name.is_empty() {
            return Err(NameError::Empty { what: WHAT });
        }
        let len = name.chars().count();
        if len > MAX_WALLET_NAME_LEN {
            return Err(NameError::TooLong { what: WHAT, len, max: MAX_WALLET_NAME_LEN });
        }
        if let Some(ch) =
            name.chars().find(|&c| !(c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.')))
        {
            return Err(NameError::BadCharacter {
                what: WHAT,
                ch,
                allowed: "letters, digits, space, '_', '-' and '.'",
            });
        }
        if name.starts_with('.') {
            return Err(NameError::LeadingDot);
        }
        Ok(WalletName(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WalletName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A valid tag: 0–64 letters, digits, space and `_ ;^+()%$@#&:!-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tag(String);

impl Tag {
    /// Checks `tag` against the tag rules.
    pub fn parse(tag: &str) -> Result<Tag, NameError> {
        const WHAT: &str = "tag";
        let len = tag.chars().count();
        if len > MAX_TAG_LEN {
            return Err(NameError::TooLong { what: WHAT, len, max: MAX_TAG_LEN });
        }
        if let Some(ch) =
            tag.chars().find(|&c| !(c.is_alphanumeric() || " _;^+()%$@#&:!-".contains(c)))
        {
            return Err(NameError::BadCharacter {
                what: WHAT,
                ch,
                allowed: "letters, digits, space and _ ; ^ + ( ) % $ @ # & : ! -",
            });
        }
        Ok(Tag(tag.to_owned()))
    }

    /// The empty tag.
    pub fn empty() -> Tag {
        Tag(String::new())
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of coin file, each with its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Format-9 binary (`.bin`).
    Bin,
    /// JSON stack (`.stack`).
    Stack,
    /// PNG picture with a `cLDc` chunk (`.png`).
    Png,
    /// Zip of single-coin `.bin` files (`.zip`).
    Zip,
    /// A printable paper wallet (`.pdf`): pages of QR codes, with the coins attached.
    Pdf,
}

impl FileKind {
    /// Every kind.
    pub const ALL: [FileKind; 5] =
        [FileKind::Bin, FileKind::Stack, FileKind::Png, FileKind::Zip, FileKind::Pdf];

    /// The extension, without the dot.
    pub const fn extension(self) -> &'static str {
        match self {
            FileKind::Bin => "bin",
            FileKind::Stack => "stack",
            FileKind::Png => "png",
            FileKind::Zip => "zip",
            FileKind::Pdf => "pdf",
        }
    }

    /// The kind named `name` in requests (`"stack"`, `"png"`, `"zip"`, `"bin"`).
    pub fn from_name(name: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.extension() == name)
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// The name of a file holding the one coin `coin`: `{value} CloudCoin #{serial} '{tag}'.{ext}`.
/// A coin whose denomination is not money is named by its code (`code 11 CloudCoin #…`).
pub fn single_coin_file_name(coin: &Coin, tag: &Tag, kind: FileKind) -> String {
    let value = match coin.value() {
        Some(v) => v.file_name_format(),
        None => format!("code {}", coin.denomination.code()),
    };
    format!("{value} CloudCoin #{} '{tag}'.{}", coin.serial, kind.extension())
}

/// The name of a file holding `count` coins worth `total`: `{total} CloudCoin #{count} '{tag}'.{ext}`.
pub fn multi_coin_file_name(total: Amount, count: usize, tag: &Tag, kind: FileKind) -> String {
    format!("{} CloudCoin #{count} '{tag}'.{}", total.file_name_format(), kind.extension())
}

/// The conventional name for a file holding `coins`: the single-coin rule for one coin, the
/// several-coin rule otherwise. Coins that are not money add nothing to the total.
pub fn export_file_name(coins: &[Coin], tag: &Tag, kind: FileKind) -> String {
    match coins {
        [one] => single_coin_file_name(one, tag, kind),
        _ => {
            let total = crate::coin::total_value(coins).unwrap_or(Amount::MAX);
            multi_coin_file_name(total, coins.len(), tag, kind)
        }
    }
}

/// `name` if it is free, else `name` with ` (2)`, ` (3)`, … inserted before the extension:
/// the first one `is_taken` says is free. Never suggests replacing a taken name.
pub fn unique_file_name(name: &str, mut is_taken: impl FnMut(&str) -> bool) -> String {
    if !is_taken(name) {
        return name.to_owned();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (2u64..)
        .map(|n| format!("{stem} ({n}){ext}"))
        .find(|candidate| !is_taken(candidate))
        .expect("an unbounded counter always finds a free name")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coin::{Denomination, Pown, SerialNumber};

    fn coin(code: i8, serial: u32) -> Coin {
        Coin::new(
            Denomination::from_code(code),
            SerialNumber::new(serial),
            [[0; 16]; 25],
            [Pown::Pass; 25],
        )
    }

    #[test]
    fn wallet_names() {
        assert!(WalletName::parse("Default").is_ok());
        assert!(WalletName::parse("my wallet_2-b.old").is_ok());
        assert!(WalletName::parse(&"a".repeat(64)).is_ok());
        assert_eq!(WalletName::parse(""), Err(NameError::Empty { what: "wallet name" }));
        assert!(matches!(
            WalletName::parse(&"a".repeat(65)),
            Err(NameError::TooLong { len: 65, .. })
        ));
        assert_eq!(WalletName::parse(".hidden"), Err(NameError::LeadingDot));
        assert_eq!(WalletName::parse(".."), Err(NameError::LeadingDot));
        assert!(matches!(WalletName::parse("../x"), Err(NameError::BadCharacter { ch: '/', .. })));
        assert!(matches!(WalletName::parse("a\\b"), Err(NameError::BadCharacter { ch: '\\', .. })));
        assert!(matches!(WalletName::parse("a\0b"), Err(NameError::BadCharacter { ch: '\0', .. })));
    }

    #[test]
    fn tags() {
        assert!(Tag::parse("").is_ok());
        assert!(Tag::parse("payment-to-alice (1) ;^+%$@#&:!_").is_ok());
        assert!(Tag::parse(&"t".repeat(64)).is_ok());
        assert!(matches!(Tag::parse(&"t".repeat(65)), Err(NameError::TooLong { len: 65, .. })));
        for bad in ['/', '\\', '\'', '.', ','] {
            let err = Tag::parse(&format!("a{bad}b")).expect_err("bad character");
            assert!(matches!(err, NameError::BadCharacter { ch, .. } if ch == bad));
            assert!(err.to_string().contains(&format!("«{bad}»")), "{err}");
            assert!(!err.to_string().contains("'\\''"), "no Rust escapes: {err}");
        }
        let err = Tag::parse("a\nb").expect_err("a control character");
        assert!(err.to_string().contains("U+000A"), "{err}");
    }

    #[test]
    fn conventional_names() {
        let tag = Tag::parse("From Ron").expect("valid tag");
        assert_eq!(
            single_coin_file_name(&coin(3, 7998), &tag, FileKind::Bin),
            "1,000 CloudCoin #7998 'From Ron'.bin"
        );
        assert_eq!(
            single_coin_file_name(&coin(-8, 1), &Tag::empty(), FileKind::Bin),
            "0.0000-0001 CloudCoin #1 ''.bin"
        );
        let coins: Vec<Coin> =
            std::iter::once(coin(1, 1)).chain((0..5).map(|i| coin(-1, i))).collect();
        assert_eq!(
            export_file_name(
                &coins,
                &Tag::parse("payment-to-alice").expect("valid"),
                FileKind::Png
            ),
            "10.5 CloudCoin #6 'payment-to-alice'.png"
        );
        assert_eq!(
            export_file_name(&coins[..1], &Tag::empty(), FileKind::Zip),
            "10 CloudCoin #1 ''.zip"
        );
    }

    #[test]
    fn unique_names_never_replace() {
        let taken = ["a ''.bin", "a '' (2).bin"];
        let name = unique_file_name("a ''.bin", |n| taken.contains(&n));
        assert_eq!(name, "a '' (3).bin");
        assert_eq!(unique_file_name("free.zip", |_| false), "free.zip");
        assert_eq!(unique_file_name("noext", |n| n == "noext"), "noext (2)");
        // The dot inside an amount is not the extension.
        assert_eq!(
            unique_file_name("10.5 CloudCoin #6 ''.png", |n| n.ends_with("''.png")),
            "10.5 CloudCoin #6 '' (2).png"
        );
    }
}
