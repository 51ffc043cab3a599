//! Coins to seed a simulated network with.

use cloudcoin_domain::{AuthenticityNumber, Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};
use md5::{Digest, Md5};

/// `count` coins of denomination code `dn` with serial numbers `first_sn …`, each with 25
/// distinct, reproducible ANs (a different AN on every RAIDA, so a client that sends one RAIDA's
/// AN to another fails there).
///
/// Serial numbers that would pass `u32::MAX` are left out.
///
/// ```
/// use cloudcoin_raida_sim::generate_coins;
///
/// let coins = generate_coins(1, 100, 3);
/// assert_eq!(coins.len(), 3);
/// assert_eq!(coins[2].serial.get(), 102);
/// assert_ne!(coins[0].ans[0], coins[0].ans[1]);
/// assert_eq!(coins, generate_coins(1, 100, 3), "the same every time");
/// ```
pub fn generate_coins(dn: i8, first_sn: u32, count: u32) -> Vec<Coin> {
    (0..count)
        .filter_map(|i| first_sn.checked_add(i))
        .map(|sn| {
            let ans: [AuthenticityNumber; RAIDA_COUNT] = core::array::from_fn(|r| {
                let mut h = Md5::new();
                h.update(b"cloudcoin-raida-sim generated AN");
                h.update([r as u8, dn.to_be_bytes()[0]]);
                h.update(sn.to_be_bytes());
                h.finalize().into()
            });
            Coin::new(
                Denomination::from_code(dn),
                SerialNumber::new(sn),
                ans,
                [Pown::Pass; RAIDA_COUNT],
            )
        })
        .collect()
}

/// The AN the public server seeds a fresh network with, the same on every RAIDA:
/// `MD5(ascii("%04x%02x%04x%02x" % (0x4567, dn, sn / 1024, sn % 1024)))`, a negative `dn` as its
/// 32-bit two's complement.
///
/// ```
/// use cloudcoin_raida_sim::public_seed_an;
/// assert_eq!(
///     public_seed_an(1, 5),
///     [0x82, 0x0a, 0x3f, 0xc6, 0xf7, 0xd5, 0x9a, 0x62, 0xc6, 0xd9, 0x03, 0x84, 0x85, 0x3a, 0xda, 0xc9]
/// );
/// ```
pub fn public_seed_an(dn: i8, sn: u32) -> AuthenticityNumber {
    crate::wire::public_seed_an(dn, sn)
}

/// A coin holding the public server's seed AN (see [`public_seed_an`]) on every RAIDA.
///
/// ```
/// use cloudcoin_raida_sim::{public_seed_an, public_seed_coin};
/// let coin = public_seed_coin(1, 5);
/// assert_eq!(coin.ans[24], public_seed_an(1, 5));
/// ```
pub fn public_seed_coin(dn: i8, sn: u32) -> Coin {
    let an = public_seed_an(dn, sn);
    Coin::new(
        Denomination::from_code(dn),
        SerialNumber::new(sn),
        [an; RAIDA_COUNT],
        [Pown::Pass; RAIDA_COUNT],
    )
}
