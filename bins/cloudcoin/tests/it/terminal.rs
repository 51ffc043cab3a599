//! At a terminal the export shows a progress bar; with `--json` it does not. The terminal is
//! util-linux's `script`, which runs the command on a pseudo-terminal.

use std::io::Write;
use std::process::Command;

use crate::support::{Server, TOKEN};

/// `text` quoted for `sh -c`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs `cloudcoin ARGS` on a pseudo-terminal; its output, or `None` without `script`.
fn at_a_terminal(server: &Server, args: &[&str]) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        let why = "skipped: no `script` (util-linux) here to give the CLI a terminal";
        let _ = writeln!(std::io::stderr(), "{why}");
        return None;
    }
    let mut line =
        vec![env!("CARGO_BIN_EXE_cloudcoin").to_owned(), "--server".into(), server.url()];
    line.extend(["--token".to_owned(), TOKEN.to_owned()]);
    line.extend(args.iter().map(|a| (*a).to_owned()));
    let line: Vec<String> = line.iter().map(|a| quote(a)).collect();
    let out = Command::new("script")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .env_remove("CLOUDCOIN_AUTH_TOKEN")
        .output()
        .expect("run script");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_terminal_gets_a_progress_bar_and_json_does_not() {
    let server = Server::start();
    server.import_test_coins("Default");
    let folder = tempfile::tempdir().expect("temp dir");
    let folder = folder.path().to_str().expect("a UTF-8 path").to_owned();

    let Some(shown) =
        at_a_terminal(&server, &["export", "10.5", "--type", "bin", "--folder", &folder])
    else {
        return;
    };
    assert!(shown.contains("export ["), "a bar: {shown:?}");
    assert!(shown.contains("%"), "a percentage: {shown:?}");
    assert!(
        shown.contains("file:    ") && shown.contains("sha256:  "),
        "then the result: {shown:?}"
    );

    let json =
        at_a_terminal(&server, &["--json", "export", "1", "--type", "bin", "--folder", &folder])
            .expect("script was there a moment ago");
    assert!(!json.contains("export ["), "no bar with --json: {json:?}");
    let doc: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON document");
    assert_eq!(doc["status"], "completed");
}
