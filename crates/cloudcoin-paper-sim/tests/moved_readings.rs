//! The codec's reader against office scans of a full page.
//!
//! The reader reads a picture again, moved by a few pixels, when a reading at the picture's own
//! pixel grid misses codes. The dense pages this was built for (0.34 mm modules) are no longer
//! written: on the page of today (0.85 mm modules) no random scan tried (80 seeds, and 32 more at
//! 18–30 % size) lost a code at the first reading, so this checks the whole reader on such scans.

use cloudcoin_codec::{FileKind, WriteOptions, scan_picture, write_coins};
use cloudcoin_domain::Tag;
use cloudcoin_paper_sim::{Degradation, print_and_scan, rasterise, sample_coins};

#[test]
fn random_office_scans_of_a_full_page_read_every_code() {
    let coins = sample_coins(3);
    let options =
        WriteOptions::new().with_tag(Tag::parse("campaign").expect("tag")).with_date("2026-11-29");
    let mut png = Vec::new();
    write_coins(&mut png, FileKind::Png, &coins, &options).expect("writes");
    let printed = rasterise(&png).expect("rasterises");
    for seed in [6, 12, 14] {
        let scan = print_and_scan(&printed, &Degradation::random(seed)).expect("scans");
        let read = scan_picture(&scan).expect("reads");
        assert!(read.is_complete(), "seed {seed}: only codes {:?} were read", read.codes_read());
    }
}
