//! The simulator is checked against the protocol sheet on its own: it must never use the protocol
//! crate, not even for its tests, or the client and the simulator could share a mistake.

#[test]
fn the_simulator_does_not_depend_on_the_protocol_crate() {
    let manifest = include_str!("../../Cargo.toml");
    let keys: Vec<&str> = manifest
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .map(|k| k.split('.').next().unwrap_or(k))
        .collect();
    assert!(keys.contains(&"cloudcoin-domain"), "the reader sees dependencies: {keys:?}");
    assert!(!keys.contains(&"cloudcoin-raida"), "no dependency on cloudcoin-raida: {keys:?}");
}
