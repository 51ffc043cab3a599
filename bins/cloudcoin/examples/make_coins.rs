//! Writes COUNT synthetic coins of one denomination into one format-9 `.bin` file, for trying
//! big wallets out (`cloudcoin import FILE`, then an export of up to 65,535 coins). They are
//! NOT money: every authenticity number is the text `SYNTHETIC` plus the serial and the RAIDA
//! number, which no RAIDA would pass.
//!
//! ```sh
//! cargo run -p cloudcoin --example make_coins -- 65535 /tmp/coins.bin        # 65,535 × 1
//! cargo run -p cloudcoin --example make_coins -- 1000 /tmp/dimes.bin -1 5000 # 0.1 coins from #5000
//! ```
//!
//! Arguments: COUNT PATH [DENOMINATION CODE, default 0 = 1] [FIRST SERIAL, default 1].

use anyhow::{Context, bail};
use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

fn coin(code: i8, serial: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (raida, an) in ans.iter_mut().enumerate() {
        an[..9].copy_from_slice(b"SYNTHETIC");
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, path, rest @ ..] = args.as_slice() else {
        bail!("usage: make_coins COUNT PATH [DENOMINATION CODE] [FIRST SERIAL]");
    };
    let count: u32 = count.parse().context("COUNT")?;
    if count == 0 || count > 65_535 {
        bail!("COUNT must be 1 to 65535 (one format-9 file holds at most 65,535 coins)");
    }
    let code: i8 = rest.first().map_or(Ok(0), |c| c.parse()).context("DENOMINATION CODE")?;
    if Denomination::money(code).is_err() {
        bail!("DENOMINATION CODE must be -8 to 6 (0.00000001 to 1,000,000)");
    }
    let first: u32 = rest.get(1).map_or(Ok(1), |s| s.parse()).context("FIRST SERIAL")?;
    let last = first.checked_add(count - 1).context("the serial numbers run past 2^32")?;
    let coins: Vec<Coin> = (first..=last).map(|sn| coin(code, sn)).collect();
    let bytes = cloudcoin_codec::encode_bin(&coins)?;
    std::fs::write(path, bytes).with_context(|| format!("writing {path}"))?;
    Ok(())
}
