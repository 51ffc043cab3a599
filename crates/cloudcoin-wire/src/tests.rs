use std::fmt;

use cloudcoin_domain::{Amount, FileKind, Tag, WalletName};
use serde::Serialize;

use crate::*;

fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug>(v: &T) {
    let text = serde_json::to_string(v).expect("serializes");
    let back: T = serde_json::from_str(&text).expect("reads back");
    assert_eq!(&back, v, "{text}");
}

#[test]
fn requests_round_trip_and_use_the_wire_names() {
    let name = WalletName::parse("Default").expect("name");
    let amount: Amount = "10.5".parse().expect("amount");
    let export = ExportRequest::new(name.clone(), amount, "/tmp/out", FileKind::Zip)
        .with_tag(Tag::parse("trade").expect("tag"));
    assert_eq!(
        serde_json::to_string(&export).expect("json"),
        r#"{"name":"Default","amount":10.5,"folder":"/tmp/out","type":"zip","tag":"trade"}"#
    );
    round_trip(&export);
    // The idempotency key is a header, never part of the body.
    let keyed = export.clone().with_idempotency_key("k-1");
    assert_eq!(
        serde_json::to_string(&keyed).expect("json"),
        serde_json::to_string(&export).expect("json")
    );
    let untagged = ExportRequest::new(name.clone(), amount, "/tmp/out", FileKind::Bin);
    assert_eq!(
        serde_json::to_string(&untagged).expect("json"),
        r#"{"name":"Default","amount":10.5,"folder":"/tmp/out","type":"bin"}"#
    );
    round_trip(&untagged);
    let import = ImportRequest::new(
        name.clone(),
        vec![ImportItem::File("/x.bin".into()), ImportItem::InlineBase64("AAA=".into())],
    );
    assert_eq!(
        serde_json::to_string(&import).expect("json"),
        r#"{"name":"Default","items":[{"type":"file","data":"/x.bin"},{"type":"inline","data":"AAA="}]}"#
    );
    round_trip(&import);
    round_trip(&BackupRequest::new(name.clone(), "/b"));
    round_trip(&BackupRequest::new(name.clone(), "/b").with_tag(Tag::parse("t").expect("tag")));
    round_trip(&CreateWalletRequest::new(name));
}

#[test]
fn bytes_travel_as_standard_base64_and_arrive_undecoded() {
    let bytes: Vec<u8> = (0..=255).collect();
    let text = serde_json::to_string(&ImportItem::Bytes(bytes.clone())).expect("json");
    let read: ImportItem = serde_json::from_str(&text).expect("reads");
    let ImportItem::InlineBase64(b64) = read else { panic!("inline: {text}") };
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD.decode(b64).expect("base64");
    assert_eq!(decoded, bytes);
}

#[test]
fn amounts_are_exact_both_ways() {
    let tiny: Amount = "0.00000001".parse().expect("amount");
    let big: Amount = "1234567.12345678".parse().expect("amount");
    for a in [tiny, big, Amount::ZERO] {
        let w = WalletSummary::new(WalletName::parse("W").expect("name"), a, 1);
        let text = serde_json::to_string(&w).expect("json");
        assert!(text.contains(&format!("\"balance\":{a}")), "{text}");
        round_trip(&w);
    }
    let from_string: WalletSummary =
        serde_json::from_str(r#"{"name":"W","balance":"10.5","coins":1}"#).expect("string");
    assert_eq!(from_string.balance.to_string(), "10.5");
}

#[test]
fn wallet_details_key_denominations_by_value() {
    let mut w = WalletDetail::new(WalletName::parse("W").expect("name"), Amount::ZERO, 0);
    for d in cloudcoin_domain::Denomination::all_money_desc() {
        w.denominations.insert(d, u64::from(d.code().unsigned_abs()));
    }
    w.folders.insert("Bank".into(), 3);
    let text = serde_json::to_string(&w).expect("json");
    assert!(text.contains(r#""0.00000001":8"#) && text.contains(r#""1000000":6"#), "{text}");
    round_trip(&w);
    let bad = r#"{"name":"W","balance":0,"coins":0,"denominations":{"0.3":1},"folders":{}}"#;
    let e = serde_json::from_str::<WalletDetail>(bad).expect_err("0.3 is no denomination");
    assert!(e.to_string().contains("\"0.3\""), "{e}");
}

#[test]
fn error_payloads_carry_status_error() {
    let e = ErrorPayload::new(4115, "wallet \"Bob\" does not exist")
        .with_details(ErrorDetails { name: Some("Bob".into()), ..ErrorDetails::default() });
    let text = serde_json::to_string(&Envelope::<()>::Error(e.clone())).expect("json");
    assert_eq!(
        text,
        r#"{"status":"error","payload":{"status":"error","code":4115,"message":"wallet \"Bob\" does not exist","details":{"name":"Bob"}}}"#
    );
    let back: Envelope<WalletSummary> = serde_json::from_str(&text).expect("reads");
    assert_eq!(back, Envelope::Error(e));
}

#[test]
fn tasks_read_back_with_their_data_shape() {
    let id = TaskId::new();
    let base = format!(
        r#"{{"id":"{id}","type":"TYPE","status":"STATUS","progress":100,"message":"m","started":1,"finished":2,"wallet":"Savings","amount":10.5,"data":DATA}}"#
    );
    let cases = [
        (
            "export",
            "completed",
            r#"{"result":null,"file":"/o/x.zip","amount":10.5,"coins":6,"sha256":"ab"}"#,
        ),
        (
            "import",
            "error",
            r#"{"result":null,"imported":0,"already_present":0,"rejected":[{"item":0,"source":"inline #0","code":4328,"reason":"r"}],"amount":0}"#,
        ),
        (
            "backup",
            "completed",
            r#"{"result":null,"file":"/b.zip","coins":3,"amount":1.5,"sha256":"cd"}"#,
        ),
        (
            "export",
            "error",
            r#"{"status":"error","code":4302,"message":"disk full","details":null}"#,
        ),
    ];
    for (kind, status, data) in cases {
        let text = base.replace("TYPE", kind).replace("STATUS", status).replace("DATA", data);
        let task: Task = serde_json::from_str(&text).expect(&text);
        assert_eq!(task.id, id);
        assert_eq!(task.kind.as_str(), kind);
        assert_eq!(task.finished, Some(2));
        assert_eq!(task.wallet.as_ref().map(WalletName::as_str), Some("Savings"));
        assert_eq!(task.amount.map(|a| a.to_string()).as_deref(), Some("10.5"));
        let again = serde_json::to_string(&task).expect("json");
        assert_eq!(again, text);
    }
    let running = base
        .replace("TYPE", "export")
        .replace("STATUS", "running")
        .replace("DATA", "null")
        .replace(r#""finished":2"#, r#""finished":0"#);
    let task: Task = serde_json::from_str(&running).expect("running");
    assert_eq!((task.data, task.finished), (None, None));
    // A server older than the task's wallet and amount: both are absent, and read as None.
    let older = running.replace(r#""wallet":"Savings","amount":10.5,"#, "");
    assert!(!older.contains("wallet"), "{older}");
    let task: Task = serde_json::from_str(&older).expect("older");
    assert_eq!((task.wallet, task.amount), (None, None));
    assert!(serde_json::from_str::<Task>(&running.replace("export", "pown")).is_err());
}

#[test]
fn a_rejection_carries_its_kind_as_a_code_and_one_without_reads_as_unclassified() {
    use crate::{RefusalKind, Rejection};
    let sent: Rejection =
        serde_json::from_str(r#"{"item":2,"source":"/a.stack","code":4328,"reason":"r"}"#)
            .expect("reads");
    assert_eq!(sent.kind(), Some(RefusalKind::SentAway));
    let older: Rejection =
        serde_json::from_str(r#"{"item":2,"source":"/a.stack","reason":"r"}"#).expect("reads");
    assert_eq!(older.kind(), Some(RefusalKind::Unclassified));
    let later: Rejection =
        serde_json::from_str(r#"{"item":2,"source":"/a.stack","code":4399,"reason":"r"}"#)
            .expect("a later server's kind reads");
    assert_eq!((later.code, later.kind()), (4399, None));
}
