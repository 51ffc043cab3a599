//! Reads the rustdoc JSON of the workspace's library crates and fails when a public item's
//! signature names a type of a library the crates use internally (zip, png, image, serde_json,
//! and hyper's internals outside the api crate, whose hyper service is the point).
//!
//! Run by `.ci/run`:
//! `RUSTC_BOOTSTRAP=1 cargo rustdoc -p CRATE --lib --all-features -- -Zunstable-options --output-format json`
//! for each library, then `cargo run -p cloudcoin-tests --bin check-public-api -- target/doc/*.json`.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line check reports on the terminal"
)]

use std::collections::BTreeSet;
use std::process::ExitCode;

use serde_json::Value;

/// Crates whose types no public signature of ours may name.
const FORBIDDEN: &[&str] =
    &["zip", "png", "image", "serde_json", "hyper_util", "h2", "ab_glyph", "fdeflate"];
/// Forbidden too, except in the api crate (which is a hyper service).
const FORBIDDEN_OUTSIDE_API: &[&str] = &["hyper", "http_body_util"];

/// The foreign crates named by the public items of one rustdoc JSON document, with the item
/// that names them.
fn foreign_names(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    let Some(index) = doc["index"].as_object() else { return found };
    for item in index.values() {
        if item["crate_id"].as_u64() != Some(0) {
            continue;
        }
        let name = item["name"].as_str().unwrap_or("(impl)").to_owned();
        let mut ids = Vec::new();
        collect_paths(&item["inner"], &mut ids);
        for id in ids {
            let Some(crate_id) = doc["paths"][id.as_str()]["crate_id"].as_u64() else { continue };
            if crate_id == 0 {
                continue;
            }
            if let Some(krate) = doc["external_crates"][crate_id.to_string()]["name"].as_str() {
                found.insert((krate.to_owned(), name.clone()));
            }
        }
    }
    found
}

/// Every id of a `resolved_path` below `value`.
fn collect_paths(value: &Value, ids: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(id) = map.get("resolved_path").and_then(|p| p.get("id")) {
                ids.push(id.to_string());
            }
            map.values().for_each(|v| collect_paths(v, ids));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_paths(v, ids)),
        _ => {}
    }
}

/// The only crates the RAIDA protocol crate's public signatures may name: it promises a
/// surface of its own and the domain's types (its crypto, CRC, randomness and tokio stay inside).
const ALLOWED_IN_RAIDA: &[&str] = &["std", "core", "alloc", "cloudcoin_domain"];

/// The offending (crate, item) pairs of the document of crate `krate`.
fn violations(krate: &str, doc: &Value) -> Vec<(String, String)> {
    foreign_names(doc)
        .into_iter()
        .filter(|(dep, _)| {
            (krate == "cloudcoin_raida" && !ALLOWED_IN_RAIDA.contains(&dep.as_str()))
                || FORBIDDEN.contains(&dep.as_str())
                || (krate != "cloudcoin_api" && FORBIDDEN_OUTSIDE_API.contains(&dep.as_str()))
        })
        .collect()
}

fn main() -> ExitCode {
    let mut failed = false;
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: check-public-api target/doc/CRATE.json …");
        return ExitCode::FAILURE;
    }
    for file in files {
        let doc: Value = match std::fs::read(&file).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(doc)) => doc,
            Ok(Err(e)) => {
                eprintln!("{file}: not rustdoc JSON: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let krate = std::path::Path::new(&file).file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let bad = violations(krate, &doc);
        for (dep, item) in &bad {
            eprintln!("{krate}: public item `{item}` names a type of `{dep}`");
        }
        failed |= !bad.is_empty();
        println!("{krate}: {}", if bad.is_empty() { "ok" } else { "FAILED" });
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rustdoc JSON document with one public function whose signature names `dep::Error`.
    fn doc_naming(dep: &str) -> Value {
        serde_json::json!({
            "index": {
                "1": {"crate_id": 0, "name": "decode", "inner": {"function": {"sig": {"output":
                    {"resolved_path": {"path": "Error", "id": 7, "args": null}}}}}},
                "2": {"crate_id": 0, "name": "fine", "inner": {"function": {"sig": {"output":
                    {"resolved_path": {"path": "Ours", "id": 8, "args": null}}}}}}
            },
            "paths": {"7": {"crate_id": 3, "path": [dep, "Error"]}, "8": {"crate_id": 0, "path": ["ours", "Ours"]}},
            "external_crates": {"3": {"name": dep}}
        })
    }

    #[test]
    fn a_signature_naming_a_forbidden_crate_is_caught() {
        let bad = violations("cloudcoin_codec", &doc_naming("zip"));
        assert_eq!(bad, [("zip".to_owned(), "decode".to_owned())]);
        assert!(violations("cloudcoin_codec", &doc_naming("std")).is_empty());
    }

    #[test]
    fn the_raida_crate_names_only_std_and_the_domain() {
        assert_eq!(violations("cloudcoin_raida", &doc_naming("tokio")).len(), 1);
        assert_eq!(violations("cloudcoin_raida", &doc_naming("aes")).len(), 1);
        assert!(violations("cloudcoin_raida", &doc_naming("cloudcoin_domain")).is_empty());
        assert!(violations("cloudcoin_codec", &doc_naming("tokio")).is_empty());
    }

    #[test]
    fn hyper_is_allowed_in_the_api_crate_only() {
        assert!(violations("cloudcoin_api", &doc_naming("hyper")).is_empty());
        assert_eq!(violations("cloudcoin_tasks", &doc_naming("hyper")).len(), 1);
    }
}
