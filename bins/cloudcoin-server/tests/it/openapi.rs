//! The served OpenAPI document tells the truth: real answers of the server (successes and
//! errors, every task shape) validate against the document's schemas for their path, method
//! and status, with the headers it promises.

use cloudcoin_api::codes;
use jsonschema::Validator;
use serde_json::{Value, json};

use crate::support::{Resp, Server, TOKEN, coins, put_coins, raw_request};

/// The document, read from the crate that serves it (not from the repository).
fn document() -> Value {
    serde_json::from_str(cloudcoin_api::OPENAPI_JSON).expect("the document is JSON")
}

/// Follows a local `$ref` (`#/components/…`) once.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("no {r}")),
        None => v,
    }
}

/// Checks one answer against the document: the status is documented for this operation, the
/// body validates against its schema, and its required headers are present and valid.
#[track_caller]
fn conforms(doc: &Value, template: &str, method: &str, r: &Resp) {
    let what = format!("{method} {template} → {}", r.status);
    let operation = &doc["paths"][template][method.to_lowercase()];
    assert!(operation.is_object(), "{what}: the operation is not in the document");
    let status = r.status.to_string();
    let response = operation["responses"]
        .get(&status)
        .unwrap_or_else(|| panic!("{what}: status not documented; body {}", r.text()));
    let response = resolve(doc, response);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"), "{what}");
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{what}: no JSON schema");
    let mut root = doc.clone();
    root["$ref"] = Value::String(format!("#/components/x-check/{}", sanitize(&what)));
    root["components"]["x-check"][sanitize(&what)] = schema.clone();
    let validator: Validator = jsonschema::validator_for(&root).expect("the schema compiles");
    let body = r.json();
    if let Err(e) = validator.validate(&body) {
        panic!("{what}: the answer does not match the document: {e}\n{body:#}");
    }
    if let Some(headers) = response.get("headers").and_then(Value::as_object) {
        for (name, h) in headers {
            let value = r.header(name);
            if h["required"] == true {
                assert!(value.is_some(), "{what}: header {name} missing");
            }
            if let Some(value) = value {
                let mut root = doc.clone();
                root["$ref"] = json!("#/components/x-header");
                root["components"]["x-header"] = h["schema"].clone();
                let validator = jsonschema::validator_for(&root).expect("compiles");
                assert!(validator.is_valid(&json!(value)), "{what}: header {name}: {value:?}");
            }
        }
    }
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect()
}

/// Polls a task, checking every answer against the document; returns the final task.
fn poll(server: &Server, doc: &Value, id: &str) -> Value {
    loop {
        let r = server.get(&format!("/api/v1/tasks/{id}"));
        conforms(doc, "/api/v1/tasks/{id}", "GET", &r);
        let task = r.json()["payload"].clone();
        if task["status"] != "running" {
            return task;
        }
        std::thread::yield_now();
    }
}

/// Starts a task, checks the 202 and its Location, and polls it to the end.
fn task(server: &Server, doc: &Value, template: &str, body: &Value) -> Value {
    let r = server.post(template, body);
    conforms(doc, template, "POST", &r);
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    assert_eq!(r.header("location"), Some(format!("/api/v1/tasks/{id}")));
    poll(server, doc, &id)
}

#[test]
fn every_kind_of_answer_matches_the_served_document() {
    let doc = document();
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &coins(0, 100, 20));
    let server = Server::start_in(data.path(), Default::default());
    let host = server.addr.to_string();
    let anonymous = |method: &str, path: &str| {
        raw_request(server.addr, method, path, &[("Host", host.as_str())], None)
    };

    // No token needed for these two; the served document is the crate's.
    let r = anonymous("GET", "/api/v1/health");
    conforms(&doc, "/api/v1/health", "GET", &r);
    assert_eq!(r.text(), r#"{"status":"success","payload":{"status":"ok"}}"#);
    let r = anonymous("GET", "/api/v1/openapi.json");
    conforms(&doc, "/api/v1/openapi.json", "GET", &r);
    assert_eq!(r.json(), doc);

    // The token is still needed for everything else, /info included.
    let r = anonymous("GET", "/api/v1/info");
    conforms(&doc, "/api/v1/info", "GET", &r);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    let v = r.json();
    assert_eq!(v["payload"]["status"], "error", "a poller reading payload.status stops: {v}");
    let message = v["payload"]["message"].as_str().expect("message");
    assert!(message.contains("api-token") && message.contains("--no-auth"), "{message}");
    let wrong = raw_request(
        server.addr,
        "GET",
        "/api/v1/wallets",
        &[("Host", &host), ("Authorization", "Bearer not-the-token")],
        None,
    );
    conforms(&doc, "/api/v1/wallets", "GET", &wrong);
    assert_eq!(wrong.header("www-authenticate").as_deref(), Some("Bearer"));
    assert_ne!(TOKEN, "not-the-token");

    let r = server.get("/api/v1/info");
    conforms(&doc, "/api/v1/info", "GET", &r);
    let r = server.get("/api/v1/wallets");
    conforms(&doc, "/api/v1/wallets", "GET", &r);
    let r = server.request("GET", "/api/v1/health", &[("Host", "evil.example")], None);
    conforms(&doc, "/api/v1/health", "GET", &r);
    assert_eq!(r.status, 403);

    // Wallets: 201 with Location, 409, 200, 404, 400, and delete.
    let r = server.post("/api/v1/wallets", &json!({"name": "My Wallet"}));
    conforms(&doc, "/api/v1/wallets", "POST", &r);
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("location").as_deref(), Some("/api/v1/wallets/My%20Wallet"));
    let r = server.post("/api/v1/wallets", &json!({"name": "My Wallet"}));
    conforms(&doc, "/api/v1/wallets", "POST", &r);
    let message = r.assert_error(409, 4114);
    assert!(message.contains("\"My Wallet\"") && !message.contains("WalletName("), "{message}");
    let r = server.post("/api/v1/wallets", &json!({"name": "../up"}));
    conforms(&doc, "/api/v1/wallets", "POST", &r);
    r.assert_error(400, 4121);
    let r = server.get("/api/v1/wallets/My%20Wallet");
    conforms(&doc, "/api/v1/wallets/{name}", "GET", &r);
    let r = server.get("/api/v1/wallets/Nobody");
    conforms(&doc, "/api/v1/wallets/{name}", "GET", &r);
    let message = r.assert_error(404, 4115);
    assert!(message.contains("\"Nobody\"") && !message.contains("WalletName("), "{message}");
    let r = server.request("DELETE", "/api/v1/wallets/Default", &[], None);
    conforms(&doc, "/api/v1/wallets/{name}", "DELETE", &r);
    let message = r.assert_error(409, 4116);
    assert!(message.contains("\"Default\"") && !message.contains("WalletName("), "{message}");
    let r = server.request("DELETE", "/api/v1/wallets/My%20Wallet", &[], None);
    conforms(&doc, "/api/v1/wallets/{name}", "DELETE", &r);
    assert_eq!(r.status, 200);

    // Export: refusals of each kind, then a completed task.
    let folder = out.path().to_str().expect("utf-8 path");
    for (body, status) in [
        (json!({"name":"Default","amount":"1000","folder":folder,"type":"bin"}), 422),
        (json!({"name":"Default","amount":"1.5","folder":folder,"type":"bin"}), 422),
        (json!({"name":"Default","amount":"1","folder":"relative","type":"bin"}), 422),
        (json!({"name":"Default","amount":"1","folder":folder,"type":"gif"}), 400),
        (json!({"name":"Nobody","amount":"1","folder":folder,"type":"bin"}), 404),
        (json!({"amount":"1"}), 400),
    ] {
        let r = server.post("/api/v1/export", &body);
        conforms(&doc, "/api/v1/export", "POST", &r);
        assert_eq!(r.status, status, "{body}: {}", r.text());
    }
    let r = server.request("POST", "/api/v1/export", &[], Some(b"not json"));
    conforms(&doc, "/api/v1/export", "POST", &r);
    r.assert_error(400, 4110);
    let big = vec![b' '; 2 * 1024 * 1024];
    let r = server.request("POST", "/api/v1/export", &[], Some(&big));
    conforms(&doc, "/api/v1/export", "POST", &r);
    r.assert_error(413, 4307);
    let done = task(
        &server,
        &doc,
        "/api/v1/export",
        &json!({"name":"Default","amount":3,"folder":folder,"type":"zip","tag":"t"}),
    );
    assert_eq!(done["status"], "completed", "{done}");

    // Import: one that took something completes; one that took nothing ends in error and
    // still lists every rejection.
    let file = done["data"]["file"].as_str().expect("file").to_owned();
    let partly = task(
        &server,
        &doc,
        "/api/v1/import",
        &json!({"name":"Default","items":[{"type":"file","data":file},{"type":"inline","data":"AAAA"}],"allow_sent":true}),
    );
    assert_eq!(partly["status"], "completed", "{partly}");
    let taken = partly["data"]["imported"].as_u64().zip(partly["data"]["already_present"].as_u64());
    assert_eq!(taken.map(|(a, b)| a + b), Some(3), "{partly}");
    assert_eq!(partly["data"]["rejected"].as_array().map(Vec::len), Some(1), "{partly}");
    let nothing = task(
        &server,
        &doc,
        "/api/v1/import",
        &json!({"name":"Default","items":[
            {"type":"inline","data":"bm90IGEgY29pbiBmaWxl"},
            {"type":"file","data":"/nonexistent/coins.bin"}]}),
    );
    assert_eq!(nothing["status"], "error", "{nothing}");
    let rejected = nothing["data"]["rejected"].as_array().expect("rejections");
    assert_eq!(rejected.len(), 2, "{nothing}");
    assert_eq!((rejected[0]["item"].as_u64(), rejected[1]["item"].as_u64()), (Some(0), Some(1)));
    let kinds = (rejected[0]["code"].as_u64(), rejected[1]["code"].as_u64());
    let want = (codes::REFUSED_NOT_COINS, codes::REFUSED_UNREADABLE);
    assert_eq!(kinds, (Some(u64::from(want.0)), Some(u64::from(want.1))), "{nothing}");
    assert!(nothing["message"].as_str().is_some_and(|m| m.contains("nothing could be imported")));
    let r = server.post("/api/v1/import", &json!({"name":"Default","items":[]}));
    conforms(&doc, "/api/v1/import", "POST", &r);
    r.assert_error(400, 4121);

    // Backup, the task list, an unknown task.
    let backup = task(&server, &doc, "/api/v1/backup", &json!({"name":"Default","folder":folder}));
    assert_eq!(backup["status"], "completed", "{backup}");
    let r = server.post("/api/v1/backup", &json!({"name":"Default","folder":"/nonexistent"}));
    conforms(&doc, "/api/v1/backup", "POST", &r);
    r.assert_error(422, 4193);
    let r = server.get("/api/v1/tasks");
    conforms(&doc, "/api/v1/tasks", "GET", &r);
    assert!(r.json()["payload"].as_array().is_some_and(|t| t.len() == 4));
    let r = server.get("/api/v1/tasks/9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a");
    conforms(&doc, "/api/v1/tasks/{id}", "GET", &r);
    r.assert_error(404, 4105);

    // The history: the export and the import that took something, newest first, the export
    // with its receipt's SHA-256; a page of one; refusals.
    let history = "/api/v1/wallets/{name}/transactions";
    let r = server.get("/api/v1/wallets/Default/transactions");
    conforms(&doc, history, "GET", &r);
    let page = r.json()["payload"].clone();
    let kinds: Vec<&str> = page["transactions"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|t| t["type"].as_str().expect("type"))
        .collect();
    assert_eq!(kinds, ["import", "export"], "{page}");
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["transactions"][1]["sha256"], done["data"]["sha256"], "{page}");
    assert_eq!(page["transactions"][1]["id"], done["id"], "{page}");
    assert_eq!(page["transactions"][0]["sha256"], Value::Null, "{page}");
    let r = server.get("/api/v1/wallets/Default/transactions?offset=1&limit=1");
    conforms(&doc, history, "GET", &r);
    assert_eq!(r.json()["payload"]["transactions"][0]["type"], "export");
    for bad in ["?limit=0", "?limit=501", "?offset=-1", "?offset=x"] {
        let r = server.get(&format!("/api/v1/wallets/Default/transactions{bad}"));
        conforms(&doc, history, "GET", &r);
        r.assert_error(400, 4121);
    }
    let r = server.get("/api/v1/wallets/Nobody/transactions");
    conforms(&doc, history, "GET", &r);
    r.assert_error(404, 4115);
    let r = anonymous("GET", "/api/v1/wallets/Default/transactions");
    conforms(&doc, history, "GET", &r);
    assert_eq!(r.status, 401);

    // Every task names its wallet and its amount.
    let r = server.get("/api/v1/tasks");
    for t in r.json()["payload"].as_array().expect("tasks") {
        assert_eq!(t["wallet"], "Default", "{t}");
    }
    assert_eq!(done["amount"].to_string(), "3", "{done}");
    assert_eq!(backup["amount"], backup["data"]["amount"], "{backup}");
}

/// The document's `x-error-codes` are exactly the codes the server sends (`codes::ALL`), in the
/// same order, each with an HTTP status or, for codes that only appear inside a task's data (a
/// failed task's error, an import's refusals), none.
#[test]
fn the_documented_error_codes_are_the_servers_codes() {
    let doc = document();
    let listed = doc["x-error-codes"].as_array().expect("x-error-codes");
    let documented: Vec<u64> = listed.iter().map(|c| c["code"].as_u64().expect("code")).collect();
    let sent: Vec<u64> = codes::ALL.iter().map(|(c, _)| u64::from(*c)).collect();
    assert_eq!(documented, sent);
    let refusal = &doc["components"]["schemas"]["Rejection"]["properties"]["code"]["enum"];
    let kinds: Vec<u64> =
        cloudcoin_tasks::RefusalKind::ALL.iter().map(|k| u64::from(k.code())).collect();
    assert_eq!(refusal, &json!(kinds), "every refusal kind is in the Rejection schema");
    for c in listed {
        let code = c["code"].as_u64().expect("code");
        let in_data = kinds.contains(&code) || (4302..=4304).contains(&code);
        assert_eq!(c["http"].is_null(), in_data, "{c}");
    }
}
