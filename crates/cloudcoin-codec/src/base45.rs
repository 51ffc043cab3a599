//! Base45 (RFC 9285): bytes as text in the QR alphanumeric character set.
//!
//! Each pair of bytes `[a, b]` is the number `n = a·256 + b`, written as three characters
//! `c d e` with `n = c + 45·d + 45²·e`; a last odd byte is written as two characters `c d` with
//! `n = c + 45·d`. So `k` bytes take `3·(k / 2) + 2·(k % 2)` characters.

/// The 45 characters, in the order of their values 0 to 44.
const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why text is not base45.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Base45Error {
    /// A character outside the base45 alphabet.
    #[error("character {position} is not a base45 character")]
    BadCharacter {
        /// Its position in the text, from 0.
        position: usize,
    },
    /// The text ends with a single character, which encodes no byte.
    #[error("the text ends with a lone character")]
    DanglingCharacter,
    /// A group of characters whose value does not fit its bytes.
    #[error("the group at character {position} is out of range")]
    OutOfRange {
        /// Position of the group's first character, from 0.
        position: usize,
    },
}

/// How many characters [`encode`] writes for `len` bytes.
pub(crate) const fn encoded_len(len: usize) -> usize {
    3 * (len / 2) + 2 * (len % 2)
}

/// The base45 text of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(bytes.len()));
    let mut push = |v: u32| out.push(char::from(ALPHABET[v as usize]));
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => {
                let n = u32::from(a) << 8 | u32::from(b);
                push(n % 45);
                push(n / 45 % 45);
                push(n / (45 * 45));
            }
            [a] => {
                let n = u32::from(a);
                push(n % 45);
                push(n / 45);
            }
            _ => unreachable!("chunks(2) yields one or two bytes"),
        }
    }
    out
}

/// The bytes of base45 `text`, or why it is not base45.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let text = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
    for (group, chars) in text.chunks(3).enumerate() {
        let position = group * 3;
        let mut n = 0u32;
        let mut weight = 1u32;
        for (offset, &c) in chars.iter().enumerate() {
            let value = ALPHABET
                .iter()
                .position(|&a| a == c)
                .ok_or(Base45Error::BadCharacter { position: position + offset })?;
            n += weight * u32::try_from(value).expect("an alphabet index is below 45");
            weight *= 45;
        }
        match chars.len() {
            3 => {
                let pair = u16::try_from(n).map_err(|_| Base45Error::OutOfRange { position })?;
                out.extend_from_slice(&pair.to_be_bytes());
            }
            2 => out.push(u8::try_from(n).map_err(|_| Base45Error::OutOfRange { position })?),
            _ => return Err(Base45Error::DanglingCharacter),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_rfc_examples() {
        // RFC 9285, sections 4.3 and 4.4.
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").as_deref(), Ok(&b"ietf!"[..]));
        assert_eq!(encode(b""), "");
        assert_eq!(decode("").as_deref(), Ok(&b""[..]));
    }

    #[test]
    fn the_extremes() {
        assert_eq!(encode(&[0xFF, 0xFF]), "FGW");
        assert_eq!(encode(&[0, 0]), "000");
        assert_eq!(encode(&[0xFF]), "U5");
        assert_eq!(decode("FGW").as_deref(), Ok(&[0xFF, 0xFF][..]));
    }

    #[test]
    fn bad_text_is_refused_and_says_where() {
        assert_eq!(decode("GGW"), Err(Base45Error::OutOfRange { position: 0 }));
        assert_eq!(decode("000V6"), Err(Base45Error::OutOfRange { position: 3 }));
        assert_eq!(decode("0000"), Err(Base45Error::DanglingCharacter));
        assert_eq!(decode("00a"), Err(Base45Error::BadCharacter { position: 2 }));
        assert_eq!(decode("0é"), Err(Base45Error::BadCharacter { position: 1 }));
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = encode(&bytes);
            prop_assert_eq!(text.len(), encoded_len(bytes.len()));
            prop_assert!(text.bytes().all(|c| ALPHABET.contains(&c)));
            prop_assert_eq!(decode(&text), Ok(bytes));
        }
    }
}
