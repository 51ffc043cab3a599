//! Exact money: [`Amount`] counts units of 0.00000001 CloudCoin in a `u64`.

use std::fmt;
use std::str::FromStr;

// `error` uses `Amount` in turn (a meant circle: see there).
use crate::error::AmountError;

/// Number of fraction digits an amount may carry.
pub const FRACTION_DIGITS: u32 = 8;

/// Units in one whole CloudCoin (10^8).
pub const UNITS_PER_COIN: u64 = 100_000_000;

/// An exact, non-negative amount of CloudCoin, in units of 0.00000001.
///
/// There is no floating point anywhere: amounts are parsed from their decimal text and all
/// arithmetic is checked.
///
/// ```
/// use cloudcoin_domain::Amount;
/// let a: Amount = "10.5".parse().unwrap();
/// assert_eq!(a.units(), 1_050_000_000);
/// assert_eq!(a.to_string(), "10.5");
/// assert_eq!(Amount::from_units(123_456_712_345_678).file_name_format(), "1,234,567.1234-5678");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

impl Amount {
    /// The zero amount.
    pub const ZERO: Amount = Amount(0);
    /// The largest representable amount.
    pub const MAX: Amount = Amount(u64::MAX);

    /// An amount of `units` × 0.00000001.
    pub const fn from_units(units: u64) -> Amount {
        Amount(units)
    }

    /// The amount in units of 0.00000001.
    pub const fn units(self) -> u64 {
        self.0
    }

    /// Whether the amount is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// `self - other`, or `None` if `other` is larger.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `self × n`, or `None` on overflow.
    pub fn checked_mul(self, n: u64) -> Option<Amount> {
        self.0.checked_mul(n).map(Amount)
    }

    /// The sum of `amounts`, or `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Amount>>(amounts: I) -> Option<Amount> {
        amounts.into_iter().try_fold(Amount::ZERO, |acc, a| acc.checked_add(a))
    }

    /// Parses a request amount: the decimal text of a JSON number or string, such as `10.5`,
    /// `0.00000001` or `1e1`. Zero is refused, as are negatives, more than 8 fraction digits,
    /// exponents that do not give an exact amount, and values too large to hold.
    pub fn parse_request(text: &str) -> Result<Amount, AmountError> {
        let amount = parse_decimal(text)?;
        if amount.is_zero() {
            return Err(AmountError::Zero);
        }
        Ok(amount)
    }

    /// The whole part and the fraction part (in units) of the amount.
    fn split(self) -> (u64, u64) {
        (self.0 / UNITS_PER_COIN, self.0 % UNITS_PER_COIN)
    }

    /// The amount in the CloudCoin file-name format (`docs/SPEC.md` §4.5): a comma every three digits in
    /// the whole part, a hyphen after every four fraction digits, trailing fraction zeros dropped.
    pub fn file_name_format(self) -> String {
        let (whole, frac) = self.split();
        let mut out = group_thousands(whole);
        let digits = fraction_digits(frac);
        if !digits.is_empty() {
            out.push('.');
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && i.is_multiple_of(4) {
                    out.push('-');
                }
                out.push(ch);
            }
        }
        out
    }

    /// The amount with thousands separators in the whole part and a plain fraction, as shown
    /// to a person (`1,234,567.12345678`).
    pub fn display_grouped(self) -> String {
        let (whole, frac) = self.split();
        let mut out = group_thousands(whole);
        let digits = fraction_digits(frac);
        if !digits.is_empty() {
            out.push('.');
            out.push_str(&digits);
        }
        out
    }
}

/// The fraction digits of `frac` units, trailing zeros dropped (empty for zero).
fn fraction_digits(frac: u64) -> String {
    if frac == 0 {
        return String::new();
    }
    let padded = format!("{frac:08}");
    padded.trim_end_matches('0').to_owned()
}

fn group_thousands(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Plain decimal text: `10.5`, `1000`, `0.00000001`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = self.split();
        write!(f, "{whole}")?;
        let digits = fraction_digits(frac);
        if !digits.is_empty() {
            write!(f, ".{digits}")?;
        }
        Ok(())
    }
}

/// Parses a non-negative decimal; zero is allowed here (see [`Amount::parse_request`]).
impl FromStr for Amount {
    type Err = AmountError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_decimal(s)
    }
}

/// The most digits we look at before deciding a number is absurd; keeps parsing linear and
/// bounded for hostile input like `1e999999999`.
const MAX_TEXT_LEN: usize = 64;

fn parse_decimal(text: &str) -> Result<Amount, AmountError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    if s.len() > MAX_TEXT_LEN {
        return Err(AmountError::TooLarge);
    }
    let (sign_negative, s) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => {
            let exp_text = &s[i + 1..];
            let exp: i64 =
                parse_exponent(exp_text).ok_or_else(|| AmountError::NotANumber(text.to_owned()))?;
            (&s[..i], exp)
        }
        None => (s, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    // Significant digits and the power of ten that scales them to whole coins.
    let digits: String = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    // value = digits × 10^(exponent - frac_len); in units: × 10^(exponent - frac_len + 8)
    let frac_len = i64::try_from(frac_part.len()).map_err(|_| AmountError::TooLarge)?;
    let mut scale = exponent - frac_len + i64::from(FRACTION_DIGITS);
    let mut digits = digits.to_owned();
    // Drop trailing zeros while the scale is negative: they do not change the value.
    while scale < 0 && digits.ends_with('0') {
        digits.pop();
        scale += 1;
    }
    if digits.is_empty() {
        // Zero, whatever its sign.
        return Ok(Amount::ZERO);
    }
    if sign_negative {
        return Err(AmountError::Negative);
    }
    if scale < 0 {
        return Err(AmountError::TooManyDecimals);
    }
    if scale > 20 || digits.len() > 20 {
        return Err(AmountError::TooLarge);
    }
    let base: u64 = digits.parse().map_err(|_| AmountError::TooLarge)?;
    let factor = 10u64
        .checked_pow(u32::try_from(scale).map_err(|_| AmountError::TooLarge)?)
        .ok_or(AmountError::TooLarge)?;
    base.checked_mul(factor).map(Amount).ok_or(AmountError::TooLarge)
}

/// Parses an exponent like `1`, `+3`, `-8`; absurd exponents are clamped so they still fail
/// cleanly as "too large" or "too many decimals" rather than overflow.
fn parse_exponent(text: &str) -> Option<i64> {
    let (neg, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let magnitude: i64 = if trimmed.len() > 6 {
        1_000_000
    } else if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    Some(if neg { -magnitude } else { magnitude })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(s: &str) -> u64 {
        Amount::parse_request(s).expect("valid amount").units()
    }

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(units("10.5"), 1_050_000_000);
        assert_eq!(units("0.00000001"), 1);
        assert_eq!(units("1e1"), 1_000_000_000);
        assert_eq!(units("1E-8"), 1);
        assert_eq!(units("2.5e-1"), 25_000_000);
        assert_eq!(units("1000000"), 100_000_000_000_000);
        assert_eq!(units("10.50000000000"), 1_050_000_000);
        assert_eq!(units(".5"), 50_000_000);
        assert_eq!(units("5."), 500_000_000);
        assert_eq!(units("0.1e-7"), 1);
    }

    #[test]
    fn refuses_what_is_not_money() {
        assert_eq!(Amount::parse_request("0"), Err(AmountError::Zero));
        assert_eq!(Amount::parse_request("0.0e5"), Err(AmountError::Zero));
        assert_eq!(Amount::parse_request("-1"), Err(AmountError::Negative));
        assert_eq!(Amount::parse_request("0.000000001"), Err(AmountError::TooManyDecimals));
        assert_eq!(Amount::parse_request("1e-9"), Err(AmountError::TooManyDecimals));
        assert_eq!(Amount::parse_request("1e400"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse_request("1e999999999999"), Err(AmountError::TooLarge));
        assert_eq!(Amount::parse_request("184467440737.09551616"), Err(AmountError::TooLarge));
        assert!(matches!(Amount::parse_request("abc"), Err(AmountError::NotANumber(_))));
        assert!(matches!(Amount::parse_request("NaN"), Err(AmountError::NotANumber(_))));
        assert!(matches!(Amount::parse_request("1.2.3"), Err(AmountError::NotANumber(_))));
        assert!(matches!(Amount::parse_request(""), Err(AmountError::NotANumber(_))));
        assert!(matches!(Amount::parse_request("1e"), Err(AmountError::NotANumber(_))));
        assert!(matches!(Amount::parse_request("."), Err(AmountError::NotANumber(_))));
    }

    #[test]
    fn largest_amount_parses() {
        assert_eq!(units("184467440737.09551615"), u64::MAX);
    }

    #[test]
    fn displays_plain_and_file_name_formats() {
        let cases = [
            ("10.5", "10.5", "10.5"),
            ("1000", "1000", "1,000"),
            ("0.00000001", "0.00000001", "0.0000-0001"),
            ("0.083001", "0.083001", "0.0830-01"),
            ("1234567.12345678", "1234567.12345678", "1,234,567.1234-5678"),
            ("100", "100", "100"),
            ("0.1", "0.1", "0.1"),
        ];
        for (input, plain, file) in cases {
            let a: Amount = input.parse().expect("valid");
            assert_eq!(a.to_string(), plain, "display of {input}");
            assert_eq!(a.file_name_format(), file, "file name format of {input}");
        }
        assert_eq!(Amount::from_units(123_456_712_345_678).display_grouped(), "1,234,567.12345678");
    }

    proptest::proptest! {
        #[test]
        fn display_round_trips(units in proptest::num::u64::ANY) {
            let a = Amount::from_units(units);
            let back: Amount = a.to_string().parse().expect("display output parses");
            proptest::prop_assert_eq!(back, a);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,40}") {
            let _ = Amount::parse_request(&s);
        }
    }
}
