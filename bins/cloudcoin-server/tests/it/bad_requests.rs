//! Refused requests: status, numeric code, a message naming the problem, and no change to the
//! wallet or the folder (issue 3, acceptance 2).

use serde_json::json;

use crate::support::{Opts, Server, file_names, folder_ids, mixed_coins, put_coins};

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let opts = Opts { args: vec!["--body-limit".into(), "2048".into()], ..Default::default() };
    let server = Server::start_in(data.path(), opts);
    let bank_before = folder_ids(data.path(), "Default", "Bank");
    let balance_before = server.balance("Default");
    let a_file = out.path().join("not-a-folder.txt");
    std::fs::write(&a_file, b"x").expect("write");
    let folder = out.path().to_str().expect("utf-8").to_owned();
    let ok = json!({"name":"Default","amount":10.5,"folder":folder,"type":"bin"});
    let with = |key: &str, value: serde_json::Value| {
        let mut v = ok.clone();
        v[key] = value;
        v.to_string()
    };
    let without = |key: &str| {
        let mut v = ok.clone();
        v.as_object_mut().expect("object").remove(key);
        v.to_string()
    };
    let long_tag = "t".repeat(65);
    let huge = format!(
        r#"{{"name":"Default","amount":1,"folder":"{folder}","type":"bin","tag":"{}"}}"#,
        "x".repeat(4000)
    );
    let cases: Vec<(&str, &str, &str, String, u16, u64, &str)> = vec![
        ("not JSON", "POST", "/api/v1/export", "{not json".into(), 400, 4110, "JSON"),
        ("an array", "POST", "/api/v1/export", "[1]".into(), 400, 4110, "JSON"),
        ("missing name", "POST", "/api/v1/export", without("name"), 400, 4121, "name"),
        ("missing amount", "POST", "/api/v1/export", without("amount"), 400, 4121, "amount"),
        ("missing folder", "POST", "/api/v1/export", without("folder"), 400, 4121, "folder"),
        ("missing type", "POST", "/api/v1/export", without("type"), 400, 4121, "type"),
        ("amount 0", "POST", "/api/v1/export", with("amount", json!(0)), 400, 4121, "amount"),
        ("amount -1", "POST", "/api/v1/export", with("amount", json!(-1)), 400, 4121, "amount"),
        (
            "amount 9 decimals",
            "POST",
            "/api/v1/export",
            ok.to_string().replace("10.5", "0.000000001"),
            400,
            4121,
            "amount",
        ),
        ("amount abc", "POST", "/api/v1/export", with("amount", json!("abc")), 400, 4121, "amount"),
        (
            "amount 1e400",
            "POST",
            "/api/v1/export",
            ok.to_string().replace("10.5", "1e400"),
            400,
            4121,
            "amount",
        ),
        ("amount NaN", "POST", "/api/v1/export", with("amount", json!("NaN")), 400, 4121, "amount"),
        ("type gif", "POST", "/api/v1/export", with("type", json!("gif")), 400, 4162, "gif"),
        (
            "relative folder",
            "POST",
            "/api/v1/export",
            with("folder", json!("exports")),
            422,
            4193,
            "exports",
        ),
        (
            "missing folder",
            "POST",
            "/api/v1/export",
            with("folder", json!(out.path().join("nope"))),
            422,
            4193,
            "nope",
        ),
        (
            "a file as folder",
            "POST",
            "/api/v1/export",
            with("folder", json!(a_file)),
            422,
            4193,
            "not-a-folder.txt",
        ),
        ("tag with /", "POST", "/api/v1/export", with("tag", json!("a/b")), 400, 4121, "tag"),
        ("tag with '", "POST", "/api/v1/export", with("tag", json!("it's")), 400, 4121, "tag"),
        ("tag of 65", "POST", "/api/v1/export", with("tag", json!(long_tag)), 400, 4121, "tag"),
        ("wallet ../x", "POST", "/api/v1/export", with("name", json!("../x")), 400, 4121, "name"),
        (
            "unknown wallet",
            "POST",
            "/api/v1/export",
            with("name", json!("Nobody")),
            404,
            4115,
            "Nobody",
        ),
        (
            "above balance",
            "POST",
            "/api/v1/export",
            with("amount", json!(1000)),
            422,
            4135,
            "147.5",
        ),
        ("no exact set", "POST", "/api/v1/export", with("amount", json!(0.05)), 422, 4134, "0.05"),
        ("too large", "POST", "/api/v1/export", huge, 413, 4307, "limit"),
        ("unknown path", "GET", "/api/v1/nothing", String::new(), 404, 4154, "/api/v1/nothing"),
        ("GET export", "GET", "/api/v1/export", String::new(), 405, 4306, "POST"),
        (
            "unknown task",
            "GET",
            "/api/v1/tasks/00000000-0000-0000-0000-000000000000",
            String::new(),
            404,
            4105,
            "task",
        ),
        ("malformed task id", "GET", "/api/v1/tasks/xyz", String::new(), 404, 4105, "xyz"),
        (
            "bad wallet in path",
            "GET",
            "/api/v1/wallets/..%2Fx",
            String::new(),
            400,
            4121,
            "wallet name",
        ),
    ];
    for (what, method, path, body, status, code, needle) in &cases {
        let body = (!body.is_empty()).then_some(body.as_bytes());
        let r = server.request(method, path, &[], body);
        assert_eq!(r.status, *status, "{what}: {}", r.text());
        let message = r.assert_error(*status, *code);
        assert!(message.contains(needle), "{what}: message {message:?} should mention {needle:?}");
        if *status == 405 {
            assert_eq!(r.header("allow").as_deref(), Some("POST"), "{what}");
        }
    }
    assert_eq!(folder_ids(data.path(), "Default", "Bank"), bank_before, "the wallet is unchanged");
    assert_eq!(server.balance("Default"), balance_before);
    assert_eq!(file_names(out.path()), vec!["not-a-folder.txt".to_owned()], "nothing was written");
    let tasks = server.get("/api/v1/tasks").json();
    assert_eq!(tasks["payload"].as_array().map(Vec::len), Some(0), "no task was started");
}

#[test]
fn wallets_can_be_created_listed_and_deleted() {
    let data = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let server = Server::start_in(data.path(), Default::default());
    let info = server.get("/api/v1/info").json();
    assert_eq!(info["status"], "success");
    assert_eq!(info["payload"]["status"], "ok");
    assert_eq!(info["payload"]["version"], env!("CARGO_PKG_VERSION"));

    let r = server.post("/api/v1/wallets", &json!({"name":"Savings 2"}));
    assert_eq!(r.status, 201, "{}", r.text());
    server.post("/api/v1/wallets", &json!({"name":"Savings 2"})).assert_error(409, 4114);
    let list = server.get("/api/v1/wallets").json();
    let names: Vec<&str> = list["payload"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|w| w["name"].as_str())
        .collect();
    assert!(names.contains(&"Default") && names.contains(&"Savings 2"), "{list}");
    assert_eq!(server.balance("Savings 2"), ("0".to_owned(), 0));

    let detail = server.get("/api/v1/wallets/Default").json();
    assert_eq!(detail["payload"]["balance"].to_string(), "147.5");
    assert_eq!(detail["payload"]["denominations"]["0.1"], 15, "{detail}");
    assert_eq!(detail["payload"]["denominations"]["100"], 1, "{detail}");
    assert_eq!(detail["payload"]["folders"]["Bank"], 26, "{detail}");

    server.request("DELETE", "/api/v1/wallets/Default", &[], None).assert_error(409, 4116);
    let r = server.request("DELETE", "/api/v1/wallets/Savings%202", &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    server.get("/api/v1/wallets/Savings%202").assert_error(404, 4115);
    server.request("PUT", "/api/v1/wallets", &[], None).assert_error(405, 4306);
}

#[test]
fn an_object_of_80000_keys_is_refused_at_the_key_limit_and_others_are_served_meanwhile() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start_in(data.path(), Opts::default());
    // The audit's body: 869 KB, 80,000 distinct keys, once took 11 s on an async worker.
    let keys: Vec<String> = (0..80_000).map(|i| format!("\"k{i:05}\":0")).collect();
    let body = format!("{{{}}}", keys.join(","));
    assert!(body.len() > 800 * 1024 && body.len() < 1024 * 1024, "{}", body.len());
    std::thread::scope(|s| {
        let big = s.spawn(|| server.request("POST", "/api/v1/wallets", &[], Some(body.as_bytes())));
        for _ in 0..20 {
            assert_eq!(server.get("/api/v1/health").status, 200);
        }
        let r = big.join().expect("request thread");
        let message = r.assert_error(400, 4110);
        assert!(message.contains("more than 64 keys"), "{message}");
    });
}
