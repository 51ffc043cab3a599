//! Hex helpers for the unit tests.

pub(crate) fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "even number of hex digits");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

pub(crate) fn hex16(s: &str) -> [u8; 16] {
    hex(s).try_into().expect("16 bytes")
}
