//! The committed synthetic test coins decode and add up to what their README says, and the copies
//! that crates keep for their own tests (so they test themselves from a package) are the same coins.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cloudcoin_domain::{Amount, FileKind, Tag, single_coin_file_name, total_value};

/// The workspace root (this crate lives in `tests/`).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root")
}

/// The `.bin` files of a folder, by name.
fn coin_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    entries
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "bin"))
        .map(|path: PathBuf| {
            let name = path.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect()
}

#[test]
fn the_committed_test_coins_decode_to_126() {
    let files = coin_files(&root().join("examples/test-coins"));
    let mut coins = Vec::new();
    for (name, bytes) in &files {
        let decoded = cloudcoin_codec::decode_bin(bytes).expect("a test coin decodes");
        assert_eq!(decoded.len(), 1, "{name}");
        assert_eq!(*name, single_coin_file_name(&decoded[0], &Tag::empty(), FileKind::Bin));
        assert_eq!(&decoded[0].ans[0][..8], b"TESTCOIN", "clearly a test coin");
        coins.extend(decoded);
    }
    assert_eq!(coins.len(), 18);
    assert_eq!(total_value(&coins), Some(Amount::from_units(126 * 100_000_000)));
}

#[test]
fn the_crates_copies_of_the_test_coins_are_the_same_coins() {
    let committed = coin_files(&root().join("examples/test-coins"));
    for copy in
        ["crates/cloudcoin-client/tests/data/test-coins", "bins/cloudcoin/tests/data/test-coins"]
    {
        assert_eq!(coin_files(&root().join(copy)), committed, "{copy}");
    }
}
