//! The README's walkthrough through the CLI: import the test coins, export 10.5 in each file
//! type, back up, list wallets and tasks — checked against the files on disk.

use std::path::PathBuf;

use crate::support::{Server, bare_cli, decode, field, file_names, json, sha256_hex, text};

const TYPES: [&str; 4] = ["stack", "png", "zip", "bin"];

fn total(coins: &[cloudcoin_domain::Coin]) -> String {
    cloudcoin_domain::total_value(coins).expect("money coins").to_string()
}

/// A folder in `base` holding the test coins with their serial numbers moved up by `nth`
/// thousand (other coins of the same denominations), and the README the CLI skips.
fn renumbered_test_coins(base: &std::path::Path, nth: u32) -> PathBuf {
    let dir = base.join(format!("coins-{nth}"));
    std::fs::create_dir(&dir).expect("mkdir");
    for entry in std::fs::read_dir(crate::support::test_coins()).expect("test coins") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_owned();
        if path.extension().is_none_or(|e| e != "bin") {
            std::fs::copy(&path, dir.join(name)).expect("copy");
            continue;
        }
        let coins: Vec<_> = decode(&path)
            .into_iter()
            .map(|c| {
                let serial = cloudcoin_domain::SerialNumber::new(c.serial.get() + 1_000 * nth);
                cloudcoin_domain::Coin::new(c.denomination, serial, c.ans, c.pown)
            })
            .collect();
        let bytes = cloudcoin_codec::encode_bin(&coins).expect("encode");
        std::fs::write(dir.join(name), bytes).expect("write");
    }
    dir
}

#[test]
fn import_export_each_type_back_up_and_list() {
    let server = Server::start();
    let out_root = tempfile::tempdir().expect("temp dir");

    // One wallet per type, each holding 18 coins (126): the test coins, and for the other
    // wallets the same denominations under other serial numbers (a coin is never in two
    // wallets of one server).
    for (nth, kind) in (0u32..).zip(TYPES) {
        let wallet = format!("W-{kind}");
        let created = server.cli().args(["wallet", "create", &wallet]).assert().success();
        assert_eq!(text(&created.get_output().stdout), format!("created wallet {wallet}\n"));
        let coins = if nth == 0 {
            crate::support::test_coins()
        } else {
            renumbered_test_coins(out_root.path(), nth)
        };
        let imported =
            server.cli().arg("import").arg(&coins).args(["--wallet", &wallet]).assert().success();
        let stdout = text(&imported.get_output().stdout);
        assert_eq!(field(&stdout, "imported"), "18 coins worth 126", "{stdout}");
        assert_eq!(field(&stdout, "rejected"), "0");
        // The folder's README is not a coin file: said on stderr, not sent.
        let stderr = text(&imported.get_output().stderr);
        assert!(stderr.contains("skipped") && stderr.contains("README.md"), "{stderr}");
        assert_eq!(server.balance(&wallet), ("126".to_owned(), 18));
    }
    // The test coins once more, into another wallet: refused, naming the wallet that holds them.
    let refused = server
        .cli()
        .args(["--json", "import", "--wallet", "W-png"])
        .arg(crate::support::test_coins())
        .assert()
        .failure();
    let said =
        format!("{}{}", text(&refused.get_output().stdout), text(&refused.get_output().stderr));
    assert!(said.contains("held by wallet W-stack"), "{said}");
    assert_eq!(server.balance("W-png"), ("126".to_owned(), 18));

    let mut exported: Vec<PathBuf> = Vec::new();
    for kind in TYPES {
        let wallet = format!("W-{kind}");
        let folder = out_root.path().join(kind);
        std::fs::create_dir(&folder).expect("mkdir");

        // Words for a person: the path, amount, coin count and SHA-256 of the file.
        let done = server
            .cli()
            .args(["export", "10.5", "--type", kind, "--wallet", &wallet, "--tag", "walk"])
            .arg("--folder")
            .arg(&folder)
            .assert()
            .success();
        let stdout = text(&done.get_output().stdout);
        let file = PathBuf::from(field(&stdout, "file"));
        assert_eq!(file.parent(), Some(folder.as_path()), "{stdout}");
        assert_eq!(
            file.file_name().and_then(|n| n.to_str()),
            Some(format!("10.5 CloudCoin #6 'walk'.{kind}").as_str())
        );
        assert_eq!(field(&stdout, "amount"), "10.5");
        assert_eq!(field(&stdout, "coins"), "6");
        assert_eq!(field(&stdout, "sha256"), sha256_hex(&file));
        let coins = decode(&file);
        assert_eq!((coins.len(), total(&coins)), (6, "10.5".to_owned()));
        // Standard output is not a terminal here: no progress bar on stderr.
        assert_eq!(text(&done.get_output().stderr), "", "no progress bar when piped");

        // One JSON document for a program.
        let done = server
            .cli()
            .args(["--json", "export", "10.5", "--type", kind, "--wallet", &wallet])
            .arg("--folder")
            .arg(&folder)
            .assert()
            .success();
        let task = json(&done.get_output().stdout);
        assert_eq!(task["status"], "completed", "{task}");
        assert_eq!(task["type"], "export");
        assert_eq!(task["data"]["amount"].to_string(), "10.5");
        assert_eq!(task["data"]["coins"], 6);
        let json_file = PathBuf::from(task["data"]["file"].as_str().expect("file"));
        assert_eq!(task["data"]["sha256"].as_str(), Some(sha256_hex(&json_file).as_str()));
        assert_eq!(total(&decode(&json_file)), "10.5");
        assert_eq!(text(&done.get_output().stderr), "");

        assert_eq!(
            file_names(&folder),
            [format!("10.5 CloudCoin #6 ''.{kind}"), format!("10.5 CloudCoin #6 'walk'.{kind}")]
        );
        assert_eq!(server.balance(&wallet), ("105".to_owned(), 6));
        exported.push(folder);
    }

    // A backup of one wallet: the six coins left, worth 105, and they stay.
    let backups = out_root.path().join("backups");
    std::fs::create_dir(&backups).expect("mkdir");
    let done = server
        .cli()
        .args(["backup", "--wallet", "W-zip", "--folder"])
        .arg(&backups)
        .assert()
        .success();
    let stdout = text(&done.get_output().stdout);
    let zip = PathBuf::from(field(&stdout, "file"));
    assert!(zip.starts_with(&backups) && zip.extension().is_some_and(|e| e == "zip"), "{stdout}");
    assert_eq!((field(&stdout, "amount"), field(&stdout, "coins")), ("105".into(), "6".into()));
    assert_eq!(total(&decode(&zip)), "105");
    assert_eq!(server.balance("W-zip"), ("105".to_owned(), 6));

    // Every exported file imports back: the four folders into a new wallet — coins this
    // server sent away, so only with --allow-sent. 8 exports of 10.5: 48 coins, 84.
    server.cli().args(["wallet", "create", "Alice"]).assert().success();
    let refused =
        server.cli().args(["import", "--wallet", "Alice"]).args(&exported).assert().failure();
    let said = text(&refused.get_output().stderr);
    assert!(said.contains("nothing was imported"), "{said}");
    let done = server
        .cli()
        .args(["--json", "import", "--allow-sent", "--wallet", "Alice"])
        .args(&exported)
        .assert()
        .success();
    let task = json(&done.get_output().stdout);
    assert_eq!(task["data"]["imported"], 48, "{task}");
    assert_eq!(task["data"]["amount"].to_string(), "84");
    assert_eq!(server.balance("Alice"), ("84".to_owned(), 48));

    // The wallet list, in words and in JSON.
    let listed = server.cli().arg("wallets").assert().success();
    let stdout = text(&listed.get_output().stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["NAME", "BALANCE", "COINS"]);
    for kind in TYPES {
        let row = format!("W-{kind} 105 6");
        assert!(
            lines.iter().any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == row),
            "{row:?} in\n{stdout}"
        );
    }
    let listed = server.cli().args(["--json", "wallets"]).assert().success();
    let wallets = json(&listed.get_output().stdout);
    let wallets = wallets.as_array().expect("an array");
    assert_eq!(wallets.len(), 6, "Default, Alice and four more: {wallets:?}");
    let alice = wallets.iter().find(|w| w["name"] == "Alice").expect("Alice listed");
    assert_eq!(alice["balance"].to_string(), "84");

    // The tasks: 4 imports, 8 exports, 1 backup, 3 imports after them (2 refused).
    let listed = server.cli().args(["--json", "tasks"]).assert().success();
    let tasks = json(&listed.get_output().stdout);
    let tasks = tasks.as_array().expect("an array");
    assert_eq!(tasks.len(), 16);
    assert_eq!(tasks.iter().filter(|t| t["status"] == "completed").count(), 14, "{tasks:?}");
    let count = |kind: &str| tasks.iter().filter(|t| t["type"] == kind).count();
    assert_eq!((count("import"), count("export"), count("backup")), (7, 8, 1));
    let listed = server.cli().arg("tasks").assert().success();
    assert_eq!(text(&listed.get_output().stdout).lines().count(), 17, "a header and 16 rows");

    // One task, shown and waited for, is the same task the list holds.
    let id = tasks[0]["id"].as_str().expect("id");
    let shown = server.cli().args(["--json", "task", id]).assert().success();
    assert_eq!(json(&shown.get_output().stdout), tasks[0]);
    let waited = server.cli().args(["--json", "task", "wait", id]).assert().success();
    assert_eq!(json(&waited.get_output().stdout), tasks[0]);
}

#[test]
fn info_help_and_completions() {
    let server = Server::start();
    let info = server.cli().args(["--json", "info"]).assert().success();
    let info = json(&info.get_output().stdout);
    assert_eq!(
        (info["name"].as_str(), info["api"].as_str()),
        (Some("cloudcoin-server"), Some("v1"))
    );

    let help = crate::support::bare_cli().arg("--help").assert().success();
    let help = text(&help.get_output().stdout);
    for line in [
        "Exit status:",
        "  3  not found",
        "  5  connection failed",
        "{data dir}/.cloudcoin/api-token",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}");
    }
    let script = crate::support::bare_cli().args(["completions", "bash"]).assert().success();
    let script = text(&script.get_output().stdout);
    assert!(script.contains("_cloudcoin") && script.contains("export"), "a bash completion script");
}

/// `cloudcoin open` prints the server's current sign-in link, which signs a browser in once;
/// after that it prints the next one. With no server, it says to start one.
#[test]
fn open_prints_a_working_sign_in_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let server = Server::spawn(
        &[
            "--data-dir".as_ref(),
            data.as_os_str(),
            "--auth-token".as_ref(),
            "a-long-test-token".as_ref(),
        ],
        &[],
    );
    let out = bare_cli().arg("--data-dir").arg(&data).args(["open", "--print"]).assert().success();
    let printed = text(&out.get_output().stdout);
    let url = printed.lines().find_map(|l| l.trim().strip_prefix("http://")).expect("a link");
    let url = format!("http://{url}");
    assert!(url.starts_with(&format!("{}/sign-in?code=", server.url())), "{printed}");
    let (status, headers) = get_head(&url);
    assert_eq!(status, 303, "the link signs in: {headers}");
    assert!(headers.to_ascii_lowercase().contains("set-cookie: cloudcoin_session="), "{headers}");
    assert_eq!(get_head(&url).0, 403, "the same link does not work twice");
    let out = bare_cli().arg("--data-dir").arg(&data).args(["open", "--print"]).assert().success();
    let next = text(&out.get_output().stdout);
    assert!(!next.contains(&url) && next.contains("/sign-in?code="), "a new link: {next}");

    drop(server);
    let out = bare_cli().arg("--data-dir").arg(&data).args(["open", "--print"]).assert().code(5);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("no server at http://") && err.contains("cloudcoin-server"), "{err}");
}

/// The status and head of a GET of `url` (plain HTTP/1.1, `Connection: close`).
fn get_head(url: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http");
    let (host, path) = rest.split_once('/').expect("path");
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").expect("send");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let head = raw.split("\r\n\r\n").next().unwrap_or("").to_owned();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("status");
    (status, head)
}
