//! Signing the wallet page in: a one-time code in a sign-in URL, exchanged for a session cookie.
//!
//! A page cannot read the token file, so the server hands out a URL carrying a one-time code
//! (printed at start-up and kept in a file beside the token). Opening it:
//!
//! 1. `GET /sign-in?code=…` with the current code consumes it (it never works again), mints a
//!    session id and the next code (written to the sign-in file, so `cloudcoin open` always finds
//!    an unused one), and answers `303 See Other` to `/` with the cookie
//!    `cloudcoin_session=…; HttpOnly; SameSite=Strict; Path=/`: the address bar loses the code.
//! 2. The API accepts that cookie only together with the header `X-CloudCoin-Page: 1` and a
//!    same-origin request (an `Origin` equal to the server's own, or none with `Sec-Fetch-Site`
//!    absent or `same-origin`; browsers leave `Origin` out of same-origin `GET`s). A custom header
//!    cannot be sent cross-origin without a CORS preflight, which the server refuses for any origin
//!    not allowed; a form post or an image cannot send it at all. `SameSite=Strict` alone would not
//!    do: every port of `127.0.0.1` is the same *site*.
//!
//! Session ids live in memory: a restart signs every page out.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use http::HeaderMap;

/// The cookie that carries a page's session id.
pub(crate) const COOKIE: &str = "cloudcoin_session";
/// The header the page sends with every API call; a cross-origin request cannot carry it
/// without a preflight the server refuses.
pub(crate) const PAGE_HEADER: &str = "x-cloudcoin-page";
/// Sessions kept at once; the oldest is signed out when a new one would pass this.
const MAX_SESSIONS: usize = 64;

/// The current one-time code and the live sessions.
#[derive(Debug)]
pub(crate) struct Sessions {
    inner: Mutex<Inner>,
    /// Where the current sign-in URL is written (mode 0600), if anywhere.
    pub(crate) file: Option<PathBuf>,
    /// `http://host:port`, the start of every sign-in URL.
    base_url: Option<String>,
}

#[derive(Debug)]
struct Inner {
    code: String,
    sessions: VecDeque<String>,
}

/// 244 random bits (two version-4 UUIDs) as 64 hex digits.
fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

impl Sessions {
    pub(crate) fn new(base_url: Option<String>, file: Option<PathBuf>) -> Sessions {
        Sessions {
            inner: Mutex::new(Inner { code: random_secret(), sessions: VecDeque::new() }),
            file,
            base_url,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The URL that signs a page in now, when the server knows its own address.
    pub(crate) fn sign_in_url(&self) -> Option<String> {
        let base = self.base_url.as_ref()?;
        Some(format!("{base}/sign-in?code={}", self.lock().code))
    }

    /// Consumes `code` if it is the current one: returns a new session id, and the next code
    /// takes its place. A wrong or spent code changes nothing.
    pub(crate) fn redeem(&self, code: &str) -> Option<String> {
        let mut inner = self.lock();
        if !constant_time_eq(code.as_bytes(), inner.code.as_bytes()) {
            return None;
        }
        inner.code = random_secret();
        let session = random_secret();
        if inner.sessions.len() == MAX_SESSIONS {
            inner.sessions.pop_front();
        }
        inner.sessions.push_back(session.clone());
        Some(session)
    }

    /// Whether the request's cookie names a live session.
    pub(crate) fn has_session(&self, headers: &HeaderMap) -> bool {
        let Some(id) = cookie(headers, COOKIE) else { return false };
        self.lock().sessions.iter().any(|s| constant_time_eq(s.as_bytes(), id.as_bytes()))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `code` query parameter of a sign-in request.
pub(crate) fn code_param(query: Option<&str>) -> Option<&str> {
    query?.split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == "code").map(|(_, v)| v)
}

/// Writes `url` to `path` (mode 0600) through a temporary file and a rename, so a reader sees
/// the old URL or the new one, never half of one. Blocking: call it off the async workers.
pub(crate) fn write_url_file(path: &std::path::Path, url: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".sign-in-url.{}.tmp", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(format!("{url}\n").as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Compares without stopping at the first difference. (The length is not secret.)
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn a_code_works_once_and_the_next_one_replaces_it() {
        let s = Sessions::new(Some("http://127.0.0.1:1".into()), None);
        let url = s.sign_in_url().expect("a url");
        let code = code_param(url.split_once('?').map(|(_, q)| q)).expect("code").to_owned();
        assert_eq!(code.len(), 64);
        assert!(s.redeem("wrong").is_none());
        let session = s.redeem(&code).expect("the first use works");
        assert!(s.redeem(&code).is_none(), "the second use does not");
        assert_ne!(s.sign_in_url().expect("a url"), url, "a new code took its place");
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={session}")).expect("v"),
        );
        assert!(s.has_session(&h));
        h.insert(http::header::COOKIE, HeaderValue::from_static("cloudcoin_session=forged"));
        assert!(!s.has_session(&h));
    }

    #[test]
    fn old_sessions_are_signed_out_past_the_limit() {
        let s = Sessions::new(None, None);
        let first = {
            let code = s.lock().code.clone();
            s.redeem(&code).expect("session")
        };
        for _ in 0..MAX_SESSIONS {
            let code = s.lock().code.clone();
            s.redeem(&code).expect("session");
        }
        let mut h = HeaderMap::new();
        h.insert(
            http::header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={first}")).expect("v"),
        );
        assert!(!s.has_session(&h));
        assert_eq!(s.lock().sessions.len(), MAX_SESSIONS);
    }

    #[test]
    fn query_and_cookie_parsing() {
        assert_eq!(code_param(Some("x=1&code=abc")), Some("abc"));
        assert_eq!(code_param(Some("codes=abc")), None);
        assert_eq!(code_param(None), None);
    }
}
