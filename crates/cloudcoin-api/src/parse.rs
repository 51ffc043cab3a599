//! One parser per endpoint from the request body to the service's request type. Each field is
//! checked, and named in the refusal, by the parser that reads it; the public request types of
//! [`wire`](crate::wire) serialize to exactly what these accept (a test keeps them together).

use std::path::PathBuf;

use cloudcoin_domain::{FileKind, Tag, WalletName};
use cloudcoin_tasks::{BackupRequest, ExportRequest, ImportItem, ImportRequest, TaskId};
use http::StatusCode;

use crate::error::{ApiError, code, name_error};
use crate::json::Fields;

/// The longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

fn wallet_field(f: &Fields, key: &str) -> Result<WalletName, ApiError> {
    let text = f.string(key)?;
    WalletName::parse(&text).map_err(|e| name_error(&f.name(key), &e))
}

/// A wallet name taken from the URL path (already percent-decoded).
pub(crate) fn wallet_in_path(text: &str) -> Result<WalletName, ApiError> {
    WalletName::parse(text).map_err(|e| name_error("wallet name in the path", &e))
}

fn tag_field(f: &Fields, key: &str) -> Result<Option<Tag>, ApiError> {
    match f.opt_string(key)? {
        None => Ok(None),
        Some(text) => Tag::parse(&text).map(Some).map_err(|e| name_error(&f.name(key), &e)),
    }
}

fn folder_field(f: &Fields, key: &str) -> Result<PathBuf, ApiError> {
    let text = f.string(key)?;
    if text.is_empty() {
        return Err(ApiError::field(&f.name(key), "must not be empty; give an absolute path"));
    }
    if text.contains('\0') {
        return Err(ApiError::field(&f.name(key), "must not contain a NUL character"));
    }
    Ok(PathBuf::from(text))
}

fn kind_field(f: &Fields, key: &str) -> Result<FileKind, ApiError> {
    let text = f.string(key)?;
    FileKind::from_name(&text).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code::UNKNOWN_TYPE,
            format!(
                "{}: unknown export type {text:?}; use stack, png, zip, bin or pdf",
                f.name(key)
            ),
        )
    })
}

/// Checks an `Idempotency-Key` header value.
pub(crate) fn idempotency_key(
    value: Option<&http::HeaderValue>,
) -> Result<Option<String>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    let field = "Idempotency-Key header";
    let text = value.to_str().map_err(|_| ApiError::field(field, "must be visible ASCII"))?;
    if text.is_empty() || text.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(ApiError::field(
            field,
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters long"),
        ));
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(field, "must be visible ASCII without spaces"));
    }
    Ok(Some(text.to_owned()))
}

/// `POST /api/v1/export`: `{name, amount, folder, type, tag?}`.
pub(crate) fn export_request(body: &[u8], key: Option<String>) -> Result<ExportRequest, ApiError> {
    let f = Fields::parse_body(body)?;
    let mut request = ExportRequest::new(
        wallet_field(&f, "name")?,
        f.amount("amount")?,
        folder_field(&f, "folder")?,
        kind_field(&f, "type")?,
    )
    .with_tag(tag_field(&f, "tag")?.unwrap_or_else(Tag::empty))
    .with_verify(f.opt_bool("verify")?.unwrap_or(true));
    if let Some(key) = key {
        request = request.with_idempotency_key(key);
    }
    Ok(request)
}

/// `POST /api/v1/import`: `{name, items:[{type:"file"|"inline", data}], tag?}`.
pub(crate) fn import_request(body: &[u8]) -> Result<ImportRequest, ApiError> {
    let f = Fields::parse_body(body)?;
    let wallet = wallet_field(&f, "name")?;
    let raw_items = f.array("items")?;
    if raw_items.is_empty() {
        return Err(ApiError::field("items", "must hold at least one item"));
    }
    let mut items = Vec::with_capacity(raw_items.len());
    for (i, raw) in raw_items.iter().enumerate() {
        let item = Fields::parse_nested(raw, &format!("items[{i}]"))?;
        let kind = item.string("type")?;
        let data = item.string("data")?;
        items.push(match kind.as_str() {
            "file" => ImportItem::File(PathBuf::from(data)),
            "inline" => ImportItem::InlineBase64(data),
            other => {
                return Err(ApiError::field(
                    &item.name("type"),
                    format!("unknown item type {other:?}; use \"file\" or \"inline\""),
                ));
            }
        });
    }
    let claim = f.opt_bool("claim")?.unwrap_or(true);
    let request = ImportRequest::new(wallet, items)
        .with_tag(tag_field(&f, "tag")?.unwrap_or_else(Tag::empty))
        .with_claim(claim);
    Ok(if f.flag("allow_sent")? { request.with_sent_coins_allowed() } else { request })
}

/// `POST /api/v1/fix`: `{name}`.
pub(crate) fn fix_request(body: &[u8]) -> Result<WalletName, ApiError> {
    let f = Fields::parse_body(body)?;
    wallet_field(&f, "name")
}

/// `POST /api/v1/reclaim`: `{task}`, an export's task id.
pub(crate) fn reclaim_request(body: &[u8]) -> Result<TaskId, ApiError> {
    let f = Fields::parse_body(body)?;
    let text = f.string("task")?;
    text.parse::<TaskId>().map_err(|e| {
        ApiError::field("task", format!("{e}; give the id of the export task to reclaim"))
    })
}

/// `POST /api/v1/backup`: `{name, folder, tag?}`.
pub(crate) fn backup_request(body: &[u8]) -> Result<BackupRequest, ApiError> {
    let f = Fields::parse_body(body)?;
    let request = BackupRequest::new(wallet_field(&f, "name")?, folder_field(&f, "folder")?);
    Ok(match tag_field(&f, "tag")? {
        Some(tag) => request.with_tag(tag),
        None => request,
    })
}

/// `POST /api/v1/wallets`: `{name}`.
pub(crate) fn create_wallet_request(body: &[u8]) -> Result<WalletName, ApiError> {
    let f = Fields::parse_body(body)?;
    wallet_field(&f, "name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_request_parses_every_field() {
        let body = br#"{"name":"Default","amount":10.5,"folder":"/tmp","type":"zip","tag":"trade","extra":1}"#;
        let r = export_request(body, Some("k1".into())).expect("valid");
        assert_eq!(r.wallet.as_str(), "Default");
        assert_eq!(r.amount.units(), 1_050_000_000);
        assert_eq!(r.folder, PathBuf::from("/tmp"));
        assert_eq!(r.kind, FileKind::Zip);
        assert_eq!(r.tag.as_str(), "trade");
        assert_eq!(r.idempotency_key.as_deref(), Some("k1"));
    }

    #[test]
    fn export_request_refusals_name_the_field() {
        let cases: &[(&[u8], u16, &str)] = &[
            (br#"{"amount":1,"folder":"/t","type":"bin"}"#, code::INVALID_FIELD, "name:"),
            (br#"{"name":"D","folder":"/t","type":"bin"}"#, code::INVALID_FIELD, "amount:"),
            (br#"{"name":"D","amount":1,"type":"bin"}"#, code::INVALID_FIELD, "folder:"),
            (br#"{"name":"D","amount":1,"folder":"/t"}"#, code::INVALID_FIELD, "type:"),
            (br#"{"name":"D","amount":1,"folder":"/t","type":"gif"}"#, code::UNKNOWN_TYPE, "type:"),
            (
                br#"{"name":"../x","amount":1,"folder":"/t","type":"bin"}"#,
                code::INVALID_FIELD,
                "name:",
            ),
            (
                br#"{"name":"D","amount":1,"folder":"/t","type":"bin","tag":"a/b"}"#,
                code::INVALID_FIELD,
                "tag:",
            ),
            (
                br#"{"name":"D","amount":1,"folder":"/t","type":"bin","tag":"it's"}"#,
                code::INVALID_FIELD,
                "tag:",
            ),
            (
                br#"{"name":"D","amount":1,"folder":"","type":"bin"}"#,
                code::INVALID_FIELD,
                "folder:",
            ),
        ];
        for (body, want, prefix) in cases {
            let e = export_request(body, None).expect_err("refused");
            assert_eq!(e.code, *want, "{}", String::from_utf8_lossy(body));
            assert!(
                e.message.starts_with(prefix),
                "{}: {}",
                String::from_utf8_lossy(body),
                e.message
            );
        }
    }

    #[test]
    fn import_items_are_checked_one_by_one() {
        let ok = br#"{"name":"B","items":[{"type":"file","data":"/x.bin"},{"type":"inline","data":"AAA="}]}"#;
        let r = import_request(ok).expect("valid");
        assert_eq!(r.items.len(), 2);
        assert!(matches!(&r.items[0], ImportItem::File(p) if p == &PathBuf::from("/x.bin")));
        assert!(matches!(&r.items[1], ImportItem::InlineBase64(s) if s == "AAA="));
        let bad =
            br#"{"name":"B","items":[{"type":"file","data":"/x"},{"type":"url","data":"x"}]}"#;
        let e = import_request(bad).expect_err("refused");
        assert!(e.message.starts_with("items[1].type:"), "{}", e.message);
        let e = import_request(br#"{"name":"B","items":[{"type":"file"}]}"#).expect_err("no data");
        assert!(e.message.starts_with("items[0].data:"), "{}", e.message);
        let e = import_request(br#"{"name":"B","items":[]}"#).expect_err("empty");
        let item = r#""items":[{"type":"file","data":"/a.bin"}]"#;
        for (flag, allowed) in
            [("", false), (r#","allow_sent":false"#, false), (r#","allow_sent":true"#, true)]
        {
            let body = format!(r#"{{"name":"B",{item}{flag}}}"#);
            assert_eq!(
                import_request(body.as_bytes()).expect("valid").allow_sent,
                allowed,
                "{body}"
            );
        }
        let bad = format!(r#"{{"name":"B",{item},"allow_sent":"yes"}}"#);
        let refused = import_request(bad.as_bytes()).expect_err("not a boolean");
        assert!(refused.message.starts_with("allow_sent"), "{}", refused.message);
        assert!(e.message.starts_with("items:"), "{}", e.message);
    }

    #[test]
    fn idempotency_keys_are_bounded_ascii() {
        let ok = http::HeaderValue::from_static("abc-123");
        assert_eq!(idempotency_key(Some(&ok)).expect("valid").as_deref(), Some("abc-123"));
        assert_eq!(idempotency_key(None).expect("absent"), None);
        let long = http::HeaderValue::from_str(&"k".repeat(201)).expect("header");
        assert!(idempotency_key(Some(&long)).is_err());
        let spaced = http::HeaderValue::from_static("a b");
        assert!(idempotency_key(Some(&spaced)).is_err());
    }
}
