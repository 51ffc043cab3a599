//! The CLI talks to the server only through `cloudcoin-client`'s public API: its manifest names
//! no HTTP crate and neither the api nor the tasks crate.

#[test]
fn the_cli_uses_only_the_client_crate_to_reach_the_server() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("read the manifest");
    let mut in_deps = false;
    let mut deps = Vec::new();
    // Both manifest shapes: ours (`name = …` lines under `[dependencies]`) and the one
    // `cargo package` writes (a `[dependencies.name]` table per dependency).
    for line in manifest.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[') {
            let header = header.trim_end_matches(']');
            in_deps = header == "dependencies";
            if let Some(name) = header.strip_prefix("dependencies.") {
                deps.push(name.trim_matches('"').to_owned());
            }
        } else if in_deps && let Some((name, _)) = line.split_once(['=', '.']) {
            deps.push(name.trim().to_owned());
        }
    }
    assert!(deps.iter().any(|d| d == "cloudcoin-client"), "{deps:?}");
    for forbidden in
        ["hyper", "hyper-util", "http", "http-body-util", "cloudcoin-api", "cloudcoin-tasks"]
    {
        assert!(!deps.iter().any(|d| d == forbidden), "the CLI must not depend on {forbidden}");
    }
}
