//! The codec's reader against scans of a page where one plain reading misses codes.

use cloudcoin_codec::{FileKind, WriteOptions, scan_picture, write_coins};
use cloudcoin_domain::Tag;
use cloudcoin_paper_sim::{
    Degradation, codes_at_first_reading, print_and_scan, rasterise, sample_coins,
};

#[test]
fn codes_the_first_reading_misses_are_read_from_the_picture_moved() {
    let coins = sample_coins(20);
    let options =
        WriteOptions::new().with_tag(Tag::parse("campaign").expect("tag")).with_date("2026-11-29");
    let mut png = Vec::new();
    write_coins(&mut png, FileKind::Png, &coins, &options).expect("writes");
    let printed = rasterise(&png).expect("rasterises");
    // Random scans of this page in which a reading at the picture's own pixel grid lost one code
    // or more (found with the `scan_campaign` example's degradations).
    for seed in [6, 12, 14] {
        let scan = print_and_scan(&printed, &Degradation::random(seed)).expect("scans");
        let first = codes_at_first_reading(&scan).expect("reads");
        assert!(
            first < 13,
            "seed {seed}: the first reading found all 13 codes, so this seed no longer shows the \
             moved readings at work; pick seeds whose first reading misses a code"
        );
        let read = scan_picture(&scan).expect("reads");
        assert!(read.is_complete(), "seed {seed}: {:?} of 13 after {first}", read.codes_read());
    }
}
