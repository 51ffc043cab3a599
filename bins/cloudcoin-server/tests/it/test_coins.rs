//! The committed synthetic test coins decode and add up to what their README says.

use std::path::Path;

use cloudcoin_domain::{Amount, FileKind, Tag, single_coin_file_name, total_value};

#[test]
fn the_committed_test_coins_decode_to_126() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/test-coins");
    let mut coins = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("examples/test-coins exists") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let decoded = cloudcoin_codec::decode_bin(&bytes).expect("a test coin decodes");
        assert_eq!(decoded.len(), 1, "{}", path.display());
        let name = single_coin_file_name(&decoded[0], &Tag::empty(), FileKind::Bin);
        assert_eq!(path.file_name().expect("name").to_string_lossy(), name);
        assert_eq!(&decoded[0].ans[0][..8], b"TESTCOIN", "clearly a test coin");
        coins.extend(decoded);
    }
    assert_eq!(coins.len(), 18);
    assert_eq!(total_value(&coins), Some(Amount::from_units(126 * 100_000_000)));
}
