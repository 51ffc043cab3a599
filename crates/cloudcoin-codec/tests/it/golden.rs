//! The golden format-9 files decode to exactly the coins their JSON describes and re-encode to
//! the same bytes.

use std::path::PathBuf;

use cloudcoin_codec::{Limits, decode_any, decode_bin, encode_bin};
use cloudcoin_domain::{Coin, Denomination, Pown, RAIDA_COUNT, SerialNumber};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

fn hex_bytes(text: &str) -> Vec<u8> {
    assert_eq!(text.len() % 2, 0, "{text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The coins the JSON describes. A several-coin file carries no POWN, so when `file_has_pown`
/// is false the expected POWN is untried whatever the JSON lists.
fn expected_coins(doc: &Value, file_has_pown: bool) -> Vec<Coin> {
    let coins = doc["coins"].as_array().expect("coins");
    coins
        .iter()
        .map(|c| {
            let code = i8::try_from(c["denomination"].as_i64().expect("dn")).expect("i8");
            let sn = u32::try_from(c["serial_number"].as_u64().expect("sn")).expect("u32");
            let ans_json = c["ans"].as_array().expect("ans");
            assert_eq!(ans_json.len(), RAIDA_COUNT);
            let mut ans = [[0u8; 16]; RAIDA_COUNT];
            for (an, text) in ans.iter_mut().zip(ans_json) {
                an.copy_from_slice(&hex_bytes(text.as_str().expect("an text")));
            }
            let pown = match (file_has_pown, c["pown"].as_str()) {
                (true, Some(p)) => Coin::parse_pown(p).expect("pown"),
                _ => [Pown::Untried; RAIDA_COUNT],
            };
            Coin::new(Denomination::from_code(code), SerialNumber::new(sn), ans, pown)
        })
        .collect()
}

fn check(name: &str) {
    let dir = vectors_dir();
    let bytes = std::fs::read(dir.join(format!("{name}.bin"))).expect("vector file");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).expect("json"))
            .expect("valid json");
    assert_eq!(doc["size"].as_u64(), Some(u64::try_from(bytes.len()).expect("len")));
    let header = &doc["header"];
    let count = usize::try_from(header["token_count"].as_u64().expect("count")).expect("usize");
    assert_eq!(hex_bytes(header["bytes_16_31"].as_str().expect("bytes")), &bytes[16..32]);

    let decoded = decode_bin(&bytes).expect("the golden file decodes");
    let expected = expected_coins(&doc, count == 1);
    assert_eq!(decoded.len(), count);
    assert_eq!(decoded, expected, "{name}: decoded coins");
    assert_eq!(decode_any(&bytes, &Limits::default()).expect("sniffed and decoded"), expected);

    // Re-encoding the coins as the JSON lists them (POWN included) gives the file byte for byte.
    let listed = expected_coins(&doc, true);
    assert_eq!(encode_bin(&listed).expect("encodes"), bytes, "{name}: re-encoded bytes");
}

#[test]
fn single_10() {
    check("single-10");
}

#[test]
fn single_smallest() {
    check("single-smallest");
}

#[test]
fn single_largest() {
    check("single-largest");
}

#[test]
fn multi_10_5() {
    check("multi-10.5");
}

#[test]
fn every_vector_is_checked() {
    let mut names: Vec<String> = std::fs::read_dir(vectors_dir())
        .expect("vectors dir")
        .filter_map(|e| {
            let name = e.expect("entry").file_name().into_string().expect("utf-8");
            name.strip_suffix(".bin").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(names, ["multi-10.5", "single-10", "single-largest", "single-smallest"]);
}
