//! Measures how often a printed-and-scanned paper wallet page gives its coins back: writes the
//! page of `COINS` coins (default 20), degrades it `RUNS` times at random (default 50), and
//! imports each scan. Run with
//! `cargo run --release -p cloudcoin-paper-sim --example scan_campaign -- [COINS] [RUNS]`.
//!
//! It measures the page as the codec writes it. To compare another QR version, level or module
//! size, change the page's setup in the codec (`page.rs`) and run it again.

#![allow(clippy::print_stdout, reason = "a measuring tool reports on standard output")]

use std::time::Instant;

use cloudcoin_codec::{FileKind, Limits, WriteOptions, decode_any, write_coins};
use cloudcoin_domain::Tag;
use cloudcoin_paper_sim::{
    Degradation, codes_at_first_reading, print_and_scan, rasterise, sample_coins,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u32 = args.next().map_or(20, |a| a.parse().expect("COINS is a number"));
    let runs: u64 = args.next().map_or(50, |a| a.parse().expect("RUNS is a number"));
    let coins = sample_coins(count);
    let options =
        WriteOptions::new().with_tag(Tag::parse("campaign").expect("tag")).with_date("2026-11-29");
    let mut png = Vec::new();
    let start = Instant::now();
    write_coins(&mut png, FileKind::Png, &coins, &options).expect("writes");
    println!("page written in {:?}, {} bytes", start.elapsed(), png.len());
    let printed = rasterise(&png).expect("rasterises");
    let codes = codes_at_first_reading(&printed).expect("reads");
    println!("one reading of the clean page finds {codes} codes");
    if let Ok(dir) = std::env::var("CAMPAIGN_SAVE") {
        std::fs::write(format!("{dir}/page-{count}.png"), &png).expect("saved");
        let scan = print_and_scan(&printed, &Degradation::scan()).expect("scans");
        std::fs::write(format!("{dir}/scan-{count}.jpg"), &scan).expect("saved");
    }
    let start = Instant::now();
    let clean = decode_any(&printed, &Limits::default()).map(|c| c.len());
    println!("the undegraded page: {clean:?} in {:?}", start.elapsed());
    let mut ok = 0;
    for seed in 1..=runs {
        let d = Degradation::random(seed);
        let scan = print_and_scan(&printed, &d).expect("scans");
        let start = Instant::now();
        let result = decode_any(&scan, &Limits::default());
        let took = start.elapsed();
        let good = matches!(&result, Ok(read) if read.iter().map(|c| (c.id(), c.ans)).eq(coins.iter().map(|c| (c.id(), c.ans))));
        ok += usize::from(good);
        let outcome = match &result {
            Ok(_) if good => "ok".to_owned(),
            Ok(_) => "WRONG COINS".to_owned(),
            Err(e) => format!("failed: {e}"),
        };
        if !good || std::env::var_os("CAMPAIGN_VERBOSE").is_some() {
            println!("{seed:>3} {d:?} {took:>8.1?} {outcome}");
        }
    }
    println!("{count} coins: {ok} of {runs} degraded scans read back");
}
