//! Writes and reads paper wallets, for the print-and-scan campaign (`tools/paper-campaign`).
//!
//! - `paper_wallet write COUNT OUT [a4|letter] [plain]`: a paper wallet of COUNT test coins, a
//!   `png` page when OUT ends in `.png`, a `bin` file when it ends in `.bin`, else a `pdf`. The
//!   coins' ANs look like real ones (random-looking bytes, derived from the serial number);
//!   `plain` writes ANs that are mostly zero bytes instead (the campaign's coins until December
//!   2026: their codes are far more regular than any real page's).
//! - `paper_wallet expect COUNT`: the identities of those coins, one `denomination serial` a line.
//! - `paper_wallet read PICTURE...`: reads the pictures together as an import would (grouped by
//!   page) and prints one line per page: `page CODE ok COINS` or `page CODE missing REASON`.

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line tool")]

use cloudcoin_codec::{PaperSize, WriteOptions, read_pages, scan_picture, write_coins};
use cloudcoin_domain::{Coin, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, Tag};

/// `count` coins of mixed denominations whose ANs follow from their serial numbers: the first
/// 16 bytes of SHA-256(serial, RAIDA), as random-looking as a real coin's, or when `plain` the
/// serial and the RAIDA number followed by zero bytes.
fn coins(count: u32, plain: bool) -> Vec<Coin> {
    use sha2::Digest;
    (0..count)
        .map(|i| {
            let sn = 70_000 + i * 7;
            let mut ans = [[0u8; 16]; RAIDA_COUNT];
            for (r, an) in ans.iter_mut().enumerate() {
                if plain {
                    an[..4].copy_from_slice(&sn.to_be_bytes());
                    an[4] = r as u8;
                } else {
                    let digest = sha2::Sha256::new()
                        .chain_update(sn.to_be_bytes())
                        .chain_update([r as u8])
                        .finalize();
                    an.copy_from_slice(&digest[..16]);
                }
            }
            Coin::new(
                Denomination::from_code(i8::try_from(i % 7).expect("small") - 3),
                SerialNumber::new(sn),
                ans,
                [Pown::Pass; RAIDA_COUNT],
            )
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => {
            let count: u32 = args.get(1).ok_or("COUNT")?.parse()?;
            let out = args.get(2).ok_or("OUT")?;
            let size = args.get(3).and_then(|s| PaperSize::from_name(s)).unwrap_or_default();
            let plain = args.get(4).is_some_and(|a| a == "plain");
            let options = WriteOptions::new()
                .with_tag(Tag::parse("print-campaign")?)
                .with_date("2026-12-07")
                .with_paper_size(size);
            let kind = match out.rsplit('.').next() {
                Some("png") => FileKind::Png,
                Some("bin") => FileKind::Bin,
                _ => FileKind::Pdf,
            };
            let mut file = Vec::new();
            write_coins(&mut file, kind, &coins(count, plain), &options)?;
            std::fs::write(out, file)?;
        }
        Some("expect") => {
            let count: u32 = args.get(1).ok_or("COUNT")?.parse()?;
            for c in coins(count, false) {
                println!("{} {}", c.denomination.code(), c.serial.get());
            }
        }
        Some("read") => {
            let mut scans = Vec::new();
            for path in &args[1..] {
                scans.push(scan_picture(&std::fs::read(path)?)?);
            }
            for page in read_pages(scans.iter()) {
                let code = page.page_code().unwrap_or("-").to_owned();
                match page.coins() {
                    Ok(coins) => {
                        let ids: Vec<String> = coins
                            .iter()
                            .map(|c| format!("{}:{}", c.denomination.code(), c.serial.get()))
                            .collect();
                        println!("page {code} ok {}", ids.join(","));
                    }
                    Err(e) => println!("page {code} missing {e}"),
                }
            }
        }
        _ => {
            return Err(
                "usage: paper_wallet write COUNT OUT [a4|letter] [plain] | expect COUNT | read PICTURE..."
                    .into(),
            );
        }
    }
    Ok(())
}
