//! The two pieces of cryptography the protocol uses: the AES-128-CTR keystream of encryption
//! type 1 and the MD5 fix rule. Only this module names the RustCrypto crates.

use aes::Aes128;
use ctr::cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use md5::{Digest, Md5};

use crate::{Key, RaidaId};

/// XORs `data` with the AES-128-CTR keystream of `key`, IV = `nonce` ‖ 8 zero bytes (a 128-bit
/// big-endian counter), starting `start_block` blocks after the IV.
pub(crate) fn apply_keystream(key: &Key, nonce: &[u8; 8], start_block: u64, data: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(nonce);
    let mut cipher = ctr::Ctr128BE::<Aes128>::new(&(*key).into(), &iv.into());
    cipher.seek(u128::from(start_block) * 16);
    cipher.apply_keystream(data);
}

/// The AN a RAIDA gives a coin after a successful fix: `MD5(raida ‖ dn ‖ sn ‖ pg)`
/// (RAIDA.md §4, "Fix rule").
///
/// The wallet chooses `pg` at random and stores it before it sends the fix: this is how it
/// learns the coin's new ANs.
///
/// ```
/// use cloudcoin_domain::{Denomination, SerialNumber};
/// use cloudcoin_raida::{fix_an, RaidaId};
///
/// let pg: [u8; 16] = core::array::from_fn(|i| i as u8);
/// let raida = RaidaId::new(0).unwrap();
/// let an = fix_an(raida, Denomination::from_code(1), SerialNumber::new(5), &pg);
/// assert_eq!(an[..4], [0x42, 0x96, 0xc4, 0x1a]);
/// ```
pub fn fix_an(
    raida: RaidaId,
    denomination: cloudcoin_domain::Denomination,
    serial: cloudcoin_domain::SerialNumber,
    pg: &Key,
) -> Key {
    let mut input = [0u8; 22];
    input[0] = raida.get();
    input[1] = denomination.code().to_be_bytes()[0];
    input[2..6].copy_from_slice(&serial.get().to_be_bytes());
    input[6..].copy_from_slice(pg);
    Md5::digest(input).into()
}

#[cfg(test)]
mod tests {
    use cloudcoin_domain::{Denomination, SerialNumber};

    use super::*;
    use crate::test_hex::{hex, hex16};

    fn pg_0_to_f() -> Key {
        core::array::from_fn(|i| u8::try_from(i).expect("0..16"))
    }

    #[test]
    fn fix_rule_vectors_of_section_7() {
        let cases: [(u8, i8, u32, Key, &str); 3] = [
            (0, 1, 5, pg_0_to_f(), "4296c41a384960381715a4bd1491597d"),
            (13, 1, 5, pg_0_to_f(), "2666ed844c7ee3cd0abdbd2aeef51bd2"),
            (24, -8, 1_023_999, [0xff; 16], "6e96f9ebd9d881d051bf0db1bdf0a4bd"),
        ];
        for (raida, dn, sn, pg, want) in cases {
            let raida = RaidaId::new(raida).expect("a RAIDA id");
            let got = fix_an(raida, Denomination::from_code(dn), SerialNumber::new(sn), &pg);
            assert_eq!(got, hex16(want), "RAIDA {raida}");
        }
    }

    #[test]
    fn fix_rule_hashes_the_documented_input() {
        // RAIDA.md §7 gives the MD5 input of the first case.
        let input = hex("000100000005000102030405060708090a0b0c0d0e0f");
        let direct: Key = Md5::digest(&input).into();
        let raida = RaidaId::new(0).expect("a RAIDA id");
        let pg = pg_0_to_f();
        assert_eq!(fix_an(raida, Denomination::from_code(1), SerialNumber::new(5), &pg), direct);
    }

    #[test]
    fn keystream_is_its_own_inverse_and_seeks_by_blocks() {
        let key = [7u8; 16];
        let nonce = [1, 2, 3, 4, 5, 6, 7, 8];
        let mut long = [0u8; 80];
        apply_keystream(&key, &nonce, 0, &mut long);
        let mut tail = [0u8; 16];
        apply_keystream(&key, &nonce, 4, &mut tail);
        assert_eq!(tail, long[64..80], "block 4 of the stream");
        let mut back = long;
        apply_keystream(&key, &nonce, 0, &mut back);
        assert_eq!(back, [0u8; 80]);
    }
}
