//! `GET /api/v1/tasks/{id}/file`: the file a completed export or backup wrote, served only while
//! it is still that file (its SHA-256 equals the one the task recorded). The file is read and
//! hashed on a blocking thread.

use std::io::Read;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use cloudcoin_tasks::{TaskOutcome, TaskView};
use http::{HeaderValue, Response, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::body::ApiBody;
use crate::error::{ApiError, code};

/// The answer to a download of `task`'s file.
pub(crate) async fn task_file(task: &TaskView) -> Result<Response<ApiBody>, ApiError> {
    let (file, sha256) = match &task.outcome {
        Some(TaskOutcome::Export(r)) => (r.file.clone(), r.sha256.clone()),
        Some(TaskOutcome::Backup(r)) if !r.sha256.is_empty() => (r.file.clone(), r.sha256.clone()),
        _ => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                code::TASK_HAS_NO_FILE,
                format!(
                    "task {} has no file to download: only a completed export or backup has one",
                    task.id
                ),
            ));
        }
    };
    let path = file.clone();
    let bytes = tokio::task::spawn_blocking(move || read_if_same(&path, &sha256))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let Some(bytes) = bytes else {
        return Err(ApiError::new(
            StatusCode::GONE,
            code::FILE_CHANGED,
            format!(
                "{} is no longer the file task {} wrote (it was moved, removed or changed), so \
                 it is not served; export again for a new file",
                file.display(),
                task.id
            ),
        ));
    };
    let mut r = ApiBody::response(StatusCode::OK, bytes);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&file)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// The file's bytes if its SHA-256 is `sha256`; `None` if it is missing, unreadable or differs.
fn read_if_same(path: &PathBuf, sha256: &str) -> Option<Bytes> {
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).ok()?;
    let hex = hex::encode(Sha256::digest(&bytes));
    crate::session::constant_time_eq(hex.as_bytes(), sha256.to_ascii_lowercase().as_bytes())
        .then(|| Bytes::from(bytes))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => "image/png",
        Some("zip") => "application/zip",
        Some("pdf") => "application/pdf",
        Some("stack" | "json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The bytes `filename*` writes as they are (RFC 8187's `attr-char`, narrowed to the unreserved
/// characters of a URI): letters, digits and `-._~`; every other byte is percent-encoded.
const ATTR_CHAR: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `attachment` with the file's name: plain ASCII in `filename`, the exact name (UTF-8,
/// percent-encoded) in `filename*`.
fn content_disposition(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(&name, ATTR_CHAR);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_served_only_while_its_hash_matches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.stack");
        std::fs::write(&path, b"abc").expect("write");
        let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(read_if_same(&path, sha).as_deref(), Some(&b"abc"[..]));
        assert_eq!(read_if_same(&path, &sha.to_ascii_uppercase()).as_deref(), Some(&b"abc"[..]));
        std::fs::write(&path, b"abd").expect("change it");
        assert_eq!(read_if_same(&path, sha), None);
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(read_if_same(&path, sha), None);
    }

    #[test]
    fn names_in_the_disposition_header_are_quoted_safely() {
        let d = content_disposition(Path::new("/x/10 CC \"a\"é.png"));
        assert!(d.starts_with("attachment; filename=\"10 CC _a__.png\""), "{d}");
        assert!(d.ends_with("filename*=UTF-8''10%20CC%20%22a%22%C3%A9.png"), "{d}");
        // A percent sign, a quote, a separator and a star are encoded; the unreserved marks are not.
        let d = content_disposition(Path::new("/x/a%b'c;d*~e_f-g.zip"));
        assert!(d.ends_with("filename*=UTF-8''a%25b%27c%3Bd%2A~e_f-g.zip"), "{d}");
        assert_eq!(content_type(Path::new("a.PNG")), "image/png");
        assert_eq!(content_type(Path::new("a.bin")), "application/octet-stream");
    }
}
