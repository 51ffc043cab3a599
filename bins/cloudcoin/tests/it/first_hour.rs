//! What a new user meets in the first hour: a server not started yet, defaults that match the
//! examples, one number style, plain words, and one way of showing a task.

use crate::support::{ClosedPort, Server, bare_cli, json, test_coins, text};

#[test]
fn with_no_server_ever_started_the_cli_says_to_start_one() {
    let closed = ClosedPort::new();
    let server = format!("http://127.0.0.1:{}", closed.port);
    let out = bare_cli().args(["--server", &server, "wallets"]).assert().code(5);
    let err = text(&out.get_output().stderr);
    assert!(err.contains(&format!("no server at {server}")), "{err}");
    assert!(err.contains("start it with `cloudcoin-server`"), "{err}");
    assert!(!err.contains("token"), "the token is not the first problem: {err}");
}

#[test]
fn defaults_numbers_and_words() {
    let server = Server::start();
    server.import_test_coins("Default"); // 126 in 18 coins
    let out_dir = tempfile::tempdir().expect("temp dir");

    // `wallet show` defaults to Default, like every other command; amounts have no separators.
    let shown = text(&server.cli().args(["wallet", "show"]).assert().success().get_output().stdout);
    assert!(shown.contains("wallet:   Default") && shown.contains("balance:  126\n"), "{shown}");
    assert!(shown.contains("by denomination:  100 × 1, 10 × 2, 1 × 5, 0.1 × 10"), "{shown}");

    // An empty wallet prints words, not blank fields.
    server.cli().args(["wallet", "create", "Empty"]).assert().success();
    let empty = text(
        &server.cli().args(["wallet", "show", "Empty"]).assert().success().get_output().stdout,
    );
    assert!(empty.contains("by denomination:  none") && empty.contains("files per folder: none"));

    // `--type` defaults to zip, as in the examples.
    let export = server
        .cli()
        .args(["--json", "export", "10.5", "--folder"])
        .arg(out_dir.path())
        .assert()
        .success();
    let task = json(&export.get_output().stdout);
    assert!(task["data"]["file"].as_str().is_some_and(|f| f.ends_with(".zip")), "{task}");

    // A negative amount gets the amount's own message, not clap's `-- -1` advice.
    let neg = server.cli().args(["export", "-1", "--folder"]).arg(out_dir.path()).assert().code(2);
    let err = text(&neg.get_output().stderr);
    assert!(err.contains("AMOUNT \"-1\"") && !err.contains("'-- -1'"), "{err}");

    // A tag error quotes the tag as typed, without Rust escapes.
    let bad_tag = server
        .cli()
        .args(["export", "1", "--tag", "it's/bad", "--folder"])
        .arg(out_dir.path())
        .assert()
        .code(2);
    let err = text(&bad_tag.get_output().stderr);
    assert!(err.contains("«it's/bad»") && !err.contains("\\'"), "{err}");

    // "1 coin", not "1 coins".
    let one = test_coins().join("1 CloudCoin #1 ''.bin");
    let again = server.cli().arg("import").arg(&one).assert().success();
    let said = text(&again.get_output().stdout);
    assert!(said.contains("already present:  1 coin\n"), "{said}");

    // A system folder gets words about the folder, not the kernel's "No such file".
    let proc = server.cli().args(["export", "1", "--folder", "/proc"]).assert().code(4);
    let err = text(&proc.get_output().stderr);
    assert!(err.contains("no file can be created in it") && !err.contains("os error"), "{err}");

    // `history` lists the wallet's exports and imports, newest first, from the server: this
    // CLI's HOME has no data directory, so nothing is read from disk here.
    let history = server.cli().arg("history").assert().success();
    let rows = text(&history.get_output().stdout);
    let lines: Vec<&str> = rows.lines().collect();
    assert!(lines[0].starts_with("TIME (UTC)"), "{rows}");
    assert!(lines[1].contains("export") && lines[1].contains("10.5"), "{rows}");
    assert!(lines.last().is_some_and(|l| l.contains("import") && l.contains("126")), "{rows}");
    // A page at a time: the newest entry only, and where the older ones are.
    let first = server.cli().args(["history", "--limit", "1"]).assert().success();
    let first = text(&first.get_output().stdout);
    assert!(first.contains("export") && !first.contains("126"), "{first}");
    assert!(first.contains("cloudcoin history --wallet Default --offset 1"), "{first}");
    let page = json(
        &server
            .cli()
            .args(["--json", "history", "--offset", "1"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(page["offset"], 1, "{page}");
    assert_eq!(page["transactions"][0]["type"], "import", "{page}");
    assert_eq!(page["total"].as_u64(), Some(u64::try_from(lines.len() - 1).expect("rows")));
    let none = server.cli().args(["history", "--wallet", "Nobody"]).assert().code(3);
    assert!(text(&none.get_output().stderr).contains("Nobody"));

    // `tasks` shows each task's wallet, when it started and its amount.
    let tasks = text(&server.cli().arg("tasks").assert().success().get_output().stdout);
    let header = tasks.lines().next().expect("header");
    assert!(
        header.contains("STARTED (UTC)") && header.contains("WALLET") && header.contains("AMOUNT"),
        "{tasks}"
    );
    let export_row = tasks.lines().find(|l| l.contains("export")).expect("the export's row");
    assert!(export_row.contains("Default") && export_row.contains("10.5"), "{tasks}");
    let first_import = tasks.lines().last().expect("the first import's row");
    assert!(first_import.contains("Default") && first_import.contains("126"), "{tasks}");
    let listed =
        json(&server.cli().args(["--json", "tasks"]).assert().success().get_output().stdout);
    assert!(listed.as_array().expect("tasks").iter().all(|t| t["wallet"] == "Default"), "{listed}");
}

#[test]
fn a_failed_task_shows_its_refusals_and_fails_the_same_way_with_or_without_wait() {
    let server = Server::start();
    let junk = tempfile::tempdir().expect("temp dir");
    let file = junk.path().join("notes.bin");
    std::fs::write(&file, b"not a coin").expect("write");
    let failed = server.cli().args(["--json", "import"]).arg(&file).assert().code(1);
    let task = json(&failed.get_output().stdout);
    let id = task["task"]["id"].as_str().or(task["id"].as_str()).map(str::to_owned);
    let id = id.unwrap_or_else(|| {
        // The failure document carries the task.
        let tasks =
            json(&server.cli().args(["--json", "tasks"]).assert().success().get_output().stdout);
        tasks[0]["id"].as_str().expect("id").to_owned()
    });
    for args in [vec!["task", id.as_str()], vec!["task", "wait", id.as_str()]] {
        let out = server.cli().args(&args).assert().code(1);
        let err = text(&out.get_output().stderr);
        assert!(err.contains("nothing was imported"), "{args:?}: {err}");
        assert!(err.contains("rejected") && err.contains("notes.bin"), "{args:?}: {err}");
    }
}

#[test]
fn a_wrong_token_says_where_it_came_from() {
    let server = Server::start();
    let out = bare_cli()
        .args(["--server", &server.url(), "--token", "not-the-token-at-all", "wallets"])
        .assert()
        .code(8);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("the token sent came from --token"), "{err}");
    assert!(err.contains("--token-file") && err.contains("--data-dir"), "what to do: {err}");
    assert!(!err.contains("Bearer") && !err.contains("--no-auth"), "the CLI's own words: {err}");
}

/// A file this server exported, imported back without `--allow-sent`: one line for the file
/// says how many coins were sent away and what the flag does, in the CLI's words (the API's
/// `"allow_sent": true` is not for a CLI user), instead of one long line per coin.
#[test]
fn sent_away_coins_are_refused_in_one_line_that_names_allow_sent() {
    let server = Server::start();
    server.import_test_coins("Default");
    let out_dir = tempfile::tempdir().expect("temp dir");
    let export = server
        .cli()
        .args(["--json", "export", "10.5", "--folder"])
        .arg(out_dir.path())
        .assert()
        .success();
    let task = json(&export.get_output().stdout);
    let file = task["data"]["file"].as_str().expect("file").to_owned();
    server.cli().args(["wallet", "create", "Alice"]).assert().success();
    let refused = server.cli().args(["import", "--wallet", "Alice"]).arg(&file).assert().code(1);
    let err = text(&refused.get_output().stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].contains("nothing was imported: 6 refusals"), "{err}");
    assert!(
        lines[1].contains("6 coins this server sent away earlier were not stored again"),
        "{err}"
    );
    assert!(lines[1].ends_with("import it again with --allow-sent"), "{err}");
    assert!(!err.contains("allow_sent"), "no API words: {err}");
    server
        .cli()
        .args(["import", "--allow-sent", "--wallet", "Alice"])
        .arg(&file)
        .assert()
        .success();
}
