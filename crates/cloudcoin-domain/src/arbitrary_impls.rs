//! [`arbitrary::Arbitrary`] for the domain's values (feature `arbitrary`), for fuzz targets that
//! build coins and amounts out of raw fuzzer bytes.
//!
//! Every value the type can hold is reachable: any number of units for an [`Amount`] (zero
//! included), any code for a [`Denomination`] (money or not), and coins with or without PANs.

use arbitrary::{Arbitrary, Result, Unstructured};

use crate::amount::Amount;
use crate::coin::{AuthenticityNumber, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

impl<'a> Arbitrary<'a> for Amount {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Amount> {
        Ok(Amount::from_units(u64::arbitrary(u)?))
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        u64::size_hint(depth)
    }
}

impl<'a> Arbitrary<'a> for Denomination {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Denomination> {
        Ok(Denomination::from_code(i8::arbitrary(u)?))
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        i8::size_hint(depth)
    }
}

impl<'a> Arbitrary<'a> for SerialNumber {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<SerialNumber> {
        Ok(SerialNumber::new(u32::arbitrary(u)?))
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        u32::size_hint(depth)
    }
}

impl<'a> Arbitrary<'a> for Pown {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Pown> {
        Ok(*u.choose(&Pown::ALL)?)
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        u32::size_hint(depth)
    }
}

impl<'a> Arbitrary<'a> for Coin {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Coin> {
        let coin = Coin::new(
            Denomination::arbitrary(u)?,
            SerialNumber::arbitrary(u)?,
            <[AuthenticityNumber; RAIDA_COUNT]>::arbitrary(u)?,
            <[Pown; RAIDA_COUNT]>::arbitrary(u)?,
        );
        Ok(match Option::<[AuthenticityNumber; RAIDA_COUNT]>::arbitrary(u)? {
            Some(pans) => coin.with_pans(pans),
            None => coin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzer_bytes_reach_coins_with_and_without_pans() {
        // Bytes that look random (a multiplicative hash of the position).
        let bytes: Vec<u8> =
            (0..40_000u32).map(|i| i.wrapping_mul(2_654_435_761).to_be_bytes()[1]).collect();
        let mut u = Unstructured::new(&bytes);
        let coins: Vec<Coin> = (0..30).map_while(|_| Coin::arbitrary(&mut u).ok()).collect();
        assert!(coins.len() >= 20, "{} coins", coins.len());
        assert!(coins.iter().any(|c| c.pans().is_some()), "PANs are reachable");
        assert!(coins.iter().any(|c| c.pans().is_none()), "plain coins are reachable");
        let codes: std::collections::HashSet<i8> =
            coins.iter().map(|c| c.denomination.code()).collect();
        assert!(codes.len() > 5, "{codes:?}");
        assert!(Amount::arbitrary(&mut u).is_ok());
    }
}
