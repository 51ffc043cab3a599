//! The network campaign's short version, in the default test run: a few kill -9 rounds of
//! claims, heals, exports and reclaims against the RAIDA simulator, checked against the
//! simulator's tables. The long run is
//! `cargo run --release -p cloudcoin-campaign -- --network --rounds 200`.

use std::process::Command;

#[test]
fn a_short_network_campaign_loses_no_coin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_cloudcoin-campaign"))
        .args(["--network", "--rounds", "12", "--seed", "5"])
        .arg("--dir")
        .arg(dir.path())
        .output()
        .expect("the campaign runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("network campaign: 0 violations"), "{stdout}");
    assert!(stdout.contains("12 rounds, 12 kills"), "every round was killed: {stdout}");
    assert!(!stdout.contains("VIOLATION"), "{stdout}");
    // The wallet did claim coins and the plan did hit requests: the rounds were not idle.
    assert!(!stdout.contains(" 0 claims"), "{stdout}");
    assert!(!stdout.contains("faults: 0 requests"), "{stdout}");
}
