//! Each failure: a one-line message on stderr, its own exit status, and nothing exported.

use std::path::Path;

use crate::support::{ClosedPort, Server, TOKEN, bare_cli, file_names, json, text};

/// Asserts one `error: …` line on stderr containing each of `words`, nothing on stdout, and
/// the exit status; returns the line.
fn refused(assert: assert_cmd::assert::Assert, status: i32, words: &[&str]) -> String {
    let assert = assert.code(status);
    let out = assert.get_output();
    assert_eq!(text(&out.stdout), "", "nothing on stdout");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "{w:?} in {stderr}");
    }
    stderr
}

fn export(server_cli: &mut assert_cmd::Command, amount: &str, folder: &Path) {
    server_cli.args(["export", amount, "--type", "zip", "--folder"]).arg(folder);
}

#[test]
fn refusals_have_their_own_status_and_export_nothing() {
    let server = Server::start();
    server.import_test_coins("Default");
    let folder = tempfile::tempdir().expect("temp dir");

    // Not enough coins: 6.
    let mut cmd = server.cli();
    export(&mut cmd, "1000", folder.path());
    refused(cmd.assert(), 6, &["not enough coins", "126", "(code 4135)"]);

    // No exact change: 7, naming the nearest amounts.
    let mut cmd = server.cli();
    export(&mut cmd, "0.05", folder.path());
    refused(cmd.assert(), 7, &["no exact", "0.1", "(code 4134)"]);

    // Unknown wallet: 3.
    let mut cmd = server.cli();
    export(&mut cmd, "1", folder.path());
    refused(cmd.arg("--wallet").arg("Nobody").assert(), 3, &["Nobody", "(code 4115)"]);
    refused(server.cli().args(["wallet", "show", "Nobody"]).assert(), 3, &["Nobody"]);

    // A folder the server refuses: 4.
    let mut cmd = server.cli();
    export(&mut cmd, "1", &folder.path().join("missing"));
    refused(cmd.assert(), 4, &["(code 4193)"]);

    // Deleting a wallet that holds coins: 4; an empty one goes.
    // The refusal names commands that exist, with every argument they need.
    refused(
        server.cli().args(["wallet", "delete", "Default"]).assert(),
        4,
        &["(code 4116)", "--folder DIR", "--allow-sent"],
    );
    server.cli().args(["wallet", "create", "Temp"]).assert().success();
    let deleted = server.cli().args(["wallet", "delete", "Temp"]).assert().success();
    assert_eq!(text(&deleted.get_output().stdout), "deleted wallet Temp\n");
    refused(server.cli().args(["wallet", "show", "Temp"]).assert(), 3, &["Temp"]);

    // An import that takes nothing: 1, with the reason for each file.
    let readme = crate::support::test_coins().join("README.md");
    let out = server.cli().arg("import").arg(&readme).assert().code(1);
    let stderr = text(&out.get_output().stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "the failure and one rejection: {stderr}");
    assert!(lines[0].starts_with("error: nothing was imported"), "{stderr}");
    assert!(lines[1].contains("README.md"), "{stderr}");
    // A path that does not exist: 3, nothing sent.
    refused(
        server.cli().args(["import", "/no/such/coins.bin"]).assert(),
        3,
        &["/no/such/coins.bin"],
    );

    // A bad amount never leaves the command line: 2.
    let mut cmd = server.cli();
    export(&mut cmd, "1.123456789", folder.path());
    refused(cmd.assert(), 2, &["AMOUNT"]);

    // Wrong token: 8.
    let mut cmd = bare_cli();
    cmd.args(["--server", &server.url(), "--token", "not-the-token-at-all"]);
    export(&mut cmd, "1", folder.path());
    refused(cmd.assert(), 8, &["token", "(code 4308)"]);

    // With --json the failure is also one JSON document on stdout.
    let mut cmd = server.cli();
    cmd.arg("--json");
    export(&mut cmd, "1000", folder.path());
    let out = cmd.assert().code(6);
    let doc = json(&out.get_output().stdout);
    assert_eq!(doc["error"]["exit"], 6, "{doc}");
    assert_eq!(doc["error"]["kind"], "not-enough-coins");
    assert_eq!(doc["error"]["code"], 4135);
    assert_eq!(doc["error"]["details"]["balance"].to_string(), "126");

    assert_eq!(file_names(folder.path()), Vec::<String>::new(), "nothing exported");
    assert_eq!(server.balance("Default"), ("126".to_owned(), 18));
}

#[test]
fn a_server_that_is_not_running() {
    let closed = ClosedPort::new();
    let port = closed.port;
    let folder = tempfile::tempdir().expect("temp dir");
    let mut cmd = bare_cli();
    cmd.args(["--server", &format!("http://127.0.0.1:{port}"), "--token", TOKEN]);
    export(&mut cmd, "1", folder.path());
    refused(cmd.assert(), 5, &["cannot connect", &format!("127.0.0.1:{port}"), "running"]);
    assert_eq!(file_names(folder.path()), Vec::<String>::new());
}

#[test]
fn the_token_is_found_where_the_server_keeps_it() {
    // The server's default data directory under XDG_DATA_HOME, and its generated token.
    let home = tempfile::tempdir().expect("temp dir");
    let xdg = home.path().join("share");
    let server = Server::spawn(&[], &[("XDG_DATA_HOME", &xdg), ("HOME", home.path())]);
    assert_eq!(server.data, xdg.join("cloudcoin-server"));

    // The CLI with the same environment and no token finds it.
    let mut cmd = bare_cli();
    cmd.env("XDG_DATA_HOME", &xdg).env("HOME", home.path()).args(["--server", &server.url()]);
    let out = cmd.args(["--json", "wallets"]).assert().success();
    assert_eq!(json(&out.get_output().stdout)[0]["name"], "Default");

    // --data-dir names it too.
    let out = bare_cli()
        .args(["--server", &server.url(), "--data-dir"])
        .arg(&server.data)
        .arg("wallets")
        .assert()
        .success();
    assert!(text(&out.get_output().stdout).contains("Default"));

    // Elsewhere: usage (2), and the message says where it looked.
    let nowhere = home.path().join("elsewhere");
    let line = refused(
        bare_cli()
            .args(["--server", &server.url(), "--data-dir"])
            .arg(&nowhere)
            .arg("wallets")
            .assert(),
        2,
        &["no API token", "--token"],
    );
    let looked = nowhere.join(".cloudcoin").join("api-token");
    assert!(line.contains(&looked.display().to_string()), "{line}");
    refused(
        bare_cli().args(["--server", &server.url(), "wallets"]).assert(),
        2,
        &["cloudcoin-server/.cloudcoin/api-token"],
    );
}

#[test]
fn no_token_talks_to_a_server_started_with_no_auth() {
    let home = tempfile::tempdir().expect("temp dir");
    let data = home.path().join("data");
    let server =
        Server::spawn(&["--data-dir".as_ref(), data.as_os_str(), "--no-auth".as_ref()], &[]);

    // Such a server writes no token file, so the CLI's search fails and names the way out.
    let line = refused(
        bare_cli()
            .args(["--server", &server.url(), "--data-dir"])
            .arg(&data)
            .arg("wallets")
            .assert(),
        2,
        &["no API token", "--no-token"],
    );
    assert!(line.contains("--no-auth"), "{line}");

    // With --no-token it sends none and the server answers.
    let out = bare_cli()
        .args(["--server", &server.url(), "--no-token", "--json", "wallets"])
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout)[0]["name"], "Default");

    // A server that wants a token still refuses a request without one (8).
    let guarded = Server::start();
    refused(
        bare_cli().args(["--server", &guarded.url(), "--no-token", "wallets"]).assert(),
        8,
        &["token"],
    );
}
