//! Throughput of every writer and reader on a full file (65,535 coins, the format-9 maximum) and
//! on a typical one (6 coins). Run with `cargo bench -p cloudcoin-codec`; prints the median of
//! several runs per case. A benchmark, not a test: it asserts nothing about speed.
//!
//! An argument picks the cases whose kind starts with it: `cargo bench -p cloudcoin-codec --
//! png` measures the png files and the pages only.

#![allow(clippy::print_stdout, reason = "a benchmark reports on standard output")]

use std::hint::black_box;
use std::io::Cursor;
use std::time::{Duration, Instant};

use cloudcoin_codec::{FileKind, Limits, WriteOptions, decode_any, write_coins, write_zip};
use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};

const RUNS: usize = 5;

fn coins(count: u32) -> Vec<Coin> {
    (0..count)
        .map(|sn| {
            Coin::new(
                Denomination::from_code(-8 + (sn % 15) as i8),
                SerialNumber::new(sn),
                [[(sn % 251) as u8; 16]; RAIDA_COUNT],
                [Pown::Pass; RAIDA_COUNT],
            )
        })
        .collect()
}

fn median(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[RUNS / 2]
}

fn main() {
    // Cargo passes `--bench`; any other argument is the filter.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_default();
    let wanted = |kind: &str| kind.starts_with(filter.as_str());
    println!("{:<6} {:>7} {:>12} {:>12} {:>12}", "kind", "coins", "bytes", "write", "read");
    for count in [6u32, 65_535] {
        let coins = coins(count);
        let options = WriteOptions::new().with_date("2026-11-29");
        for kind in FileKind::ALL {
            // A paper wallet holds at most MAX_PAPER_COINS: it is measured below.
            if kind == FileKind::Pdf && coins.len() > cloudcoin_codec::MAX_PAPER_COINS
                || !wanted(kind.extension())
            {
                continue;
            }
            let encode = || {
                let mut out = Cursor::new(Vec::new());
                match kind {
                    FileKind::Zip => write_zip(&mut out, &coins, &options),
                    _ => write_coins(&mut out, kind, &coins, &options),
                }
                .expect("write");
                out.into_inner()
            };
            let bytes = encode();
            let write = median(|| {
                black_box(encode());
            });
            let read = median(|| {
                black_box(decode_any(&bytes, &Limits::default()).expect("read"));
            });
            println!(
                "{:<6} {:>7} {:>12} {:>10.1?} {:>10.1?}",
                kind.extension(),
                count,
                bytes.len(),
                write,
                read
            );
        }
    }
    // The largest paper wallet: 500 coins on 167 pages, and its attachment read back.
    let most = coins(u32::try_from(cloudcoin_codec::MAX_PAPER_COINS).expect("small"));
    let options = WriteOptions::new().with_date("2026-11-29");
    let pdf = || {
        let mut out = Cursor::new(Vec::new());
        write_coins(&mut out, FileKind::Pdf, &most, &options).expect("write");
        out.into_inner()
    };
    if wanted("pdf") {
        let bytes = pdf();
        let write = median(|| {
            black_box(pdf());
        });
        let read = median(|| {
            black_box(decode_any(&bytes, &Limits::default()).expect("read"));
        });
        println!(
            "{:<6} {:>7} {:>12} {:>10.1?} {:>10.1?}",
            "pdf",
            most.len(),
            bytes.len(),
            write,
            read
        );
    }
    if wanted("png") {
        pages();
    }
}

/// One page drawn: the png of 1 coin (2 QR codes), 2 (3 codes), 3 (4 codes, the most a page
/// carries) and 4 (too many: a page without codes, as the 65,535-coin png draws it). The cost
/// of the 65,535-coin png over the bin file is about one such page.
fn pages() {
    for count in [1u32, 2, 3, 4] {
        let coins = coins(count);
        let options = WriteOptions::new().with_date("2026-11-29");
        let encode = || {
            let mut out = Cursor::new(Vec::new());
            write_coins(&mut out, FileKind::Png, &coins, &options).expect("write");
            out.into_inner()
        };
        let bytes = encode().len();
        let write = median(|| {
            black_box(encode());
        });
        println!("{:<6} {:>7} {:>12} {:>10.1?}", "page", count, bytes, write);
    }
}
