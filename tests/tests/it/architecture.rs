//! Keeps the layering of `docs/ARCHITECTURE.md` true by reading the workspace manifests:
//! dependencies point one way, domain ← codec ← tasks ← api ← bins, and the domain crate pulls in
//! no IO, async, HTTP, zip or image crate.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The names in the `[dependencies]` table of a member's manifest (not dev-dependencies, which
/// may use anything for testing).
fn dependencies(member: &str) -> Vec<String> {
    let path = workspace_root().join(member).join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut in_deps = false;
    let mut names = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps
            && let Some((name, _)) = line.split_once('=')
            && !name.trim().is_empty()
            && !line.starts_with('#')
        {
            let name = name.trim();
            names.push(name.split('.').next().unwrap_or(name).to_owned());
        }
    }
    names
}

fn assert_none_of(member: &str, forbidden: &[&str]) {
    let deps = dependencies(member);
    for f in forbidden {
        assert!(!deps.iter().any(|d| d == f), "{member} must not depend on {f}; it has {deps:?}");
    }
}

#[test]
fn the_domain_crate_knows_no_io_http_async_zip_or_image() {
    // proptest and arbitrary are optional, for test harnesses only (features of the same names).
    let deps = dependencies("crates/cloudcoin-domain");
    assert_eq!(
        deps,
        ["arbitrary", "proptest", "thiserror"],
        "the domain crate's dependencies grew; keep it pure"
    );
}

#[test]
fn dependencies_point_one_way() {
    let upper = ["cloudcoin-tasks", "cloudcoin-api", "cloudcoin-server"];
    assert_none_of("crates/cloudcoin-codec", &upper);
    assert_none_of("crates/cloudcoin-codec", &["tokio", "hyper", "tracing"]);
    assert_none_of(
        "crates/cloudcoin-tasks",
        &["cloudcoin-api", "cloudcoin-server", "hyper", "http"],
    );
    assert_none_of("crates/cloudcoin-api", &["cloudcoin-server", "anyhow"]);
}

#[test]
fn the_wire_crate_does_no_io_and_the_client_needs_only_domain_and_wire() {
    let wire = dependencies("crates/cloudcoin-wire");
    for forbidden in ["cloudcoin-codec", "cloudcoin-tasks", "cloudcoin-api", "tokio", "hyper"] {
        assert!(!wire.iter().any(|d| d == forbidden), "cloudcoin-wire depends on {forbidden}");
    }
    let ours: Vec<String> = dependencies("crates/cloudcoin-client")
        .into_iter()
        .filter(|d| d.starts_with("cloudcoin-"))
        .collect();
    assert_eq!(ours, ["cloudcoin-domain", "cloudcoin-wire"], "the client compiles no server part");
    assert!(
        dependencies("crates/cloudcoin-codec").iter().all(|d| d != "cloudcoin-paper-sim"),
        "the simulator is test equipment: a dev-dependency at most"
    );
}

#[test]
fn the_raida_crate_knows_no_wallet_files_or_http() {
    let deps = dependencies("crates/cloudcoin-raida");
    assert!(deps.iter().any(|d| d == "cloudcoin-domain"), "{deps:?}");
    assert_none_of(
        "crates/cloudcoin-raida",
        &[
            "cloudcoin-codec",
            "cloudcoin-tasks",
            "cloudcoin-api",
            "cloudcoin-client",
            "cloudcoin-server",
            "cloudcoin-raida-sim",
            "hyper",
            "http",
            "serde_json",
            "zip",
        ],
    );
}

#[test]
fn the_manifest_reader_sees_dependencies() {
    // Guards the guard: if parsing broke, the tests above would pass vacuously.
    assert!(dependencies("crates/cloudcoin-codec").iter().any(|d| d == "cloudcoin-domain"));
    assert!(dependencies("crates/cloudcoin-api").iter().any(|d| d == "hyper"));
}
