//! `Idempotency-Key` on POST /api/v1/export (issue 5, acceptance 5).

use serde_json::json;

use crate::support::{Server, file_names, mixed_coins, put_coins};

#[test]
fn a_retried_export_with_the_same_key_is_the_same_task() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let server = Server::start_in(data.path(), Default::default());
    let body =
        json!({"name":"Default","amount":10.5,"folder":out.path(),"type":"png","tag":"once"})
            .to_string();
    let key = [("Idempotency-Key", "order-42")];
    let first = server.request("POST", "/api/v1/export", &key, Some(body.as_bytes()));
    assert_eq!(first.status, 202, "{}", first.text());
    let id = first.json()["payload"]["id"].as_str().expect("id").to_owned();
    let (_, task) = server.wait_task(&id);
    assert_eq!(task["status"], "completed", "{task}");

    let retry = server.request("POST", "/api/v1/export", &key, Some(body.as_bytes()));
    assert!(retry.status == 202 || retry.status == 200, "{}", retry.text());
    assert_eq!(retry.json()["payload"]["id"].as_str(), Some(id.as_str()));
    assert_eq!(file_names(out.path()).len(), 1, "one file only");
    assert_eq!(server.balance("Default").0, "137");

    let other = json!({"name":"Default","amount":1,"folder":out.path(),"type":"png"}).to_string();
    let conflict = server.request("POST", "/api/v1/export", &key, Some(other.as_bytes()));
    let message = conflict.assert_error(422, 4301);
    assert!(message.contains("order-42"), "{message}");
    assert_eq!(file_names(out.path()).len(), 1);
    assert_eq!(server.balance("Default").0, "137");
}
