//! Writes the synthetic test coins of `examples/test-coins/`: 1 × 100, 2 × 10, 5 × 1 and
//! 10 × 0.1 (126 in all), one single-coin format-9 `.bin` each, named per the CloudCoin
//! convention. They are NOT money: their authenticity numbers are a fixed pattern that no RAIDA
//! would pass. Run from the repository root:
//!
//! ```sh
//! cargo run -p cloudcoin-server --example make_test_coins
//! ```

use std::path::Path;

use cloudcoin_domain::{
    Coin, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, Tag, single_coin_file_name,
};

/// (denomination code, how many); serial numbers start at 1 per denomination.
const COINS: [(i8, u32); 4] = [(2, 1), (1, 2), (0, 5), (-1, 10)];

/// A test coin: every AN is the ASCII text "TESTCOIN" followed by the denomination, the
/// serial and the RAIDA number, so the files are recognisably fake.
fn test_coin(code: i8, serial: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (raida, an) in ans.iter_mut().enumerate() {
        an[..8].copy_from_slice(b"TESTCOIN");
        an[8] = code.to_be_bytes()[0];
        an[9..13].copy_from_slice(&serial.to_be_bytes());
        an[13] = u8::try_from(raida).expect("25 RAIDAs fit in a byte");
    }
    Coin::new(
        Denomination::from_code(code),
        SerialNumber::new(serial),
        ans,
        [Pown::Untried; RAIDA_COUNT],
    )
}

fn main() -> anyhow::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/test-coins");
    std::fs::create_dir_all(&dir)?;
    for (code, count) in COINS {
        for serial in 1..=count {
            let coin = test_coin(code, serial);
            let name = single_coin_file_name(&coin, &Tag::empty(), FileKind::Bin);
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&coin))?;
            std::fs::write(dir.join(name), bytes)?;
        }
    }
    Ok(())
}
