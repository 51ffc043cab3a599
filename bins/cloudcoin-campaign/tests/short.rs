//! The campaign's short version, in the default test run: a few kill -9 rounds and a short
//! storm, checked by the campaign's own file checker. The full run is
//! `cargo run --release -p cloudcoin-campaign --features fault-injection -- --rounds 200`.

use std::process::Command;

#[test]
fn a_short_campaign_finds_no_violation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_cloudcoin-campaign"))
        .args(["--rounds", "6", "--storm-secs", "2", "--clients", "8", "--seed", "7"])
        .arg("--dir")
        .arg(dir.path())
        .output()
        .expect("the campaign runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("campaign: 0 violations"), "{stdout}");
    assert!(
        stdout.contains("6 rounds, 7 kills"),
        "every round and the storm were killed: {stdout}"
    );
    assert!(!stdout.contains("VIOLATION"), "{stdout}");
    // The foreign mover always runs; the link-then-unlink workers need the fault-injection
    // feature, the detached mount needs root.
    assert!(stdout.contains("campaign: weapons:"), "{stdout}");
    assert!(!stdout.contains(" 0 coin files moved by a foreign program while"), "{stdout}");
}
