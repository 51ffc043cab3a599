//! Who may call: the `Host` check (DNS rebinding), the `Origin` check (no permissive CORS), the
//! bearer token, and the wallet page's session cookie ([`crate::session`]).

use http::{HeaderMap, StatusCode, header};

use crate::config::ApiConfig;
use crate::error::{ApiError, code};
use crate::session::{COOKIE, PAGE_HEADER, Sessions, constant_time_eq};

/// Refuses a request with more than one `Host` field (400, RFC 9112 §3.2: which one a proxy
/// in front of the server read cannot be known), and one whose `Host` is not one of the
/// server's own names (403).
pub(crate) fn check_host(config: &ApiConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    if headers.get_all(header::HOST).iter().nth(1).is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            code::DUPLICATE_HEADER,
            "the request has more than one Host header; send exactly one, naming this server",
        ));
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if config.allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        code::HOST_NOT_ALLOWED,
        format!(
            "the Host header {host:?} is not this server's address; call it as {}",
            config.allowed_hosts.first().map_or("its listen address", String::as_str)
        ),
    ))
}

/// The request's `Origin`, if it carries one and it is allowed (CORS answers go to it); the
/// server's own origin (the wallet page, `http://{Host}`) passes without CORS; any other origin
/// is refused (403).
pub(crate) fn check_origin<'a>(
    config: &ApiConfig,
    headers: &'a HeaderMap,
) -> Result<Option<&'a str>, ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(None) };
    let origin = origin.to_str().unwrap_or("");
    if is_own_origin(origin, headers) {
        return Ok(None);
    }
    if config.allowed_origins.iter().any(|o| o == origin) {
        return Ok(Some(origin));
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        code::ORIGIN_NOT_ALLOWED,
        format!(
            "requests from origin {origin:?} are not allowed; the operator can allow it with --allow-origin"
        ),
    ))
}

/// Requires the bearer token, or the wallet page's session: its cookie, the page header, and a
/// same-origin request (see [`crate::session`]). Without a configured token, anyone who passed
/// the `Host` and `Origin` checks may call.
pub(crate) fn check_caller(
    config: &ApiConfig,
    sessions: &Sessions,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if config.auth_token.is_none() || headers.contains_key(header::AUTHORIZATION) {
        return check_token(config, headers);
    }
    if crate::session::cookie(headers, COOKIE).is_none() {
        return check_token(config, headers);
    }
    if !sessions.has_session(headers) {
        return Err(unauthorized(
            "This page's session has ended (the server restarted, or it signed in too long ago)",
        ));
    }
    if headers.get(PAGE_HEADER).is_none_or(|v| v.as_bytes() != b"1") || !same_origin(headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            code::ORIGIN_NOT_ALLOWED,
            "the session cookie is accepted only from the wallet page itself (same origin, with \
             its X-CloudCoin-Page header); other programs send the bearer token",
        ));
    }
    Ok(())
}

/// Whether `origin` is `http://{Host}` (the `Host` having passed [`check_host`]).
fn is_own_origin(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    !host.is_empty()
        && origin.strip_prefix("http://").is_some_and(|rest| rest.eq_ignore_ascii_case(host))
}

/// Whether a browser request comes from a page of this server: an `Origin` of `http://{Host}`,
/// or no `Origin` (browsers send none on a same-origin `GET`) and a `Sec-Fetch-Site` that is
/// absent or `same-origin`.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let fetch_site_ok =
        headers.get("sec-fetch-site").is_none_or(|v| v.as_bytes() == b"same-origin");
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => {
            fetch_site_ok
                && origin
                    .strip_prefix("http://")
                    .is_some_and(|rest| rest.eq_ignore_ascii_case(host) && !host.is_empty())
        }
        None => fetch_site_ok && !headers.contains_key(header::ORIGIN),
    }
}

/// Requires `Authorization: Bearer <token>` when a token is configured (401).
pub(crate) fn check_token(config: &ApiConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &config.auth_token else { return Ok(()) };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim);
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(unauthorized("The bearer token is wrong")),
        None => Err(unauthorized("This server requires a token and the request has none")),
    }
}

fn unauthorized(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        code::UNAUTHORIZED,
        format!(
            "{why}. Either send Authorization: Bearer <token> with the token from the api-token \
             file the server names at start-up (or its --auth-token value); in a browser, open \
             the sign-in link the server prints (or run `cloudcoin open`); or, for local clients \
             that send no token, restart the server with --no-auth (loopback addresses only)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn config() -> ApiConfig {
        ApiConfig::default()
            .with_auth_token("s3cret")
            .with_allowed_hosts(ApiConfig::hosts_for("127.0.0.1:8006".parse().expect("addr")))
            .with_allowed_origins(vec!["http://localhost:3000".into()])
    }

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn hosts() {
        let c = config();
        assert!(check_host(&c, &headers(&[(header::HOST, "127.0.0.1:8006")])).is_ok());
        assert!(check_host(&c, &headers(&[(header::HOST, "LOCALHOST:8006")])).is_ok());
        for bad in ["evil.example:8006", "localhost:9999", "localhost"] {
            let e = check_host(&c, &headers(&[(header::HOST, bad)])).expect_err(bad);
            assert_eq!(e.status, StatusCode::FORBIDDEN);
        }
        assert!(check_host(&c, &HeaderMap::new()).is_err());
        let mut twice = headers(&[(header::HOST, "127.0.0.1:8006")]);
        twice.append(header::HOST, HeaderValue::from_static("127.0.0.1:8006"));
        let e = check_host(&c, &twice).expect_err("two Host headers");
        assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, code::DUPLICATE_HEADER));
    }

    #[test]
    fn origins() {
        let c = config();
        assert_eq!(check_origin(&c, &HeaderMap::new()).expect("none"), None);
        let ok = headers(&[(header::ORIGIN, "http://localhost:3000")]);
        assert_eq!(check_origin(&c, &ok).expect("allowed"), Some("http://localhost:3000"));
        let bad = headers(&[(header::ORIGIN, "http://evil.example")]);
        assert_eq!(check_origin(&c, &bad).expect_err("foreign").code, code::ORIGIN_NOT_ALLOWED);
    }

    #[test]
    fn tokens() {
        let c = config();
        assert!(check_token(&c, &headers(&[(header::AUTHORIZATION, "Bearer s3cret")])).is_ok());
        for bad in ["Bearer s3creT", "Bearer s3cret2", "Basic s3cret", "s3cret", "Bearer "] {
            let e = check_token(&c, &headers(&[(header::AUTHORIZATION, bad)])).expect_err(bad);
            assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        }
        assert!(check_token(&c, &HeaderMap::new()).is_err());
        let open = config().without_auth();
        assert!(check_token(&open, &HeaderMap::new()).is_ok());
    }

    #[test]
    fn the_page_cookie_counts_only_with_the_page_header_from_the_same_origin() {
        let c = config();
        let sessions = Sessions::new(Some("http://127.0.0.1:8006".into()), None);
        let url = sessions.sign_in_url().expect("url");
        let code = url.split("code=").nth(1).expect("code");
        let id = sessions.redeem(code).expect("session");
        let cookie = format!("{COOKIE}={id}");
        let with = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8006"));
            for (k, v) in pairs {
                h.insert(
                    header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    HeaderValue::from_str(v).expect("value"),
                );
            }
            check_caller(&c, &sessions, &h)
        };
        // The page: its header, and its own origin or (a same-origin GET) none.
        assert!(with(&[("cookie", &cookie), (PAGE_HEADER, "1")]).is_ok());
        assert!(
            with(&[("cookie", &cookie), (PAGE_HEADER, "1"), ("origin", "http://127.0.0.1:8006")])
                .is_ok()
        );
        assert!(
            with(&[("cookie", &cookie), (PAGE_HEADER, "1"), ("sec-fetch-site", "same-origin")])
                .is_ok()
        );
        // Without the header, from another origin or site, or with a forged cookie: refused.
        let refused = [
            vec![("cookie", cookie.as_str())],
            vec![("cookie", &cookie), ("origin", "http://127.0.0.1:8006")],
            vec![("cookie", &cookie), (PAGE_HEADER, "1"), ("origin", "http://127.0.0.1:9999")],
            vec![("cookie", &cookie), (PAGE_HEADER, "1"), ("origin", "null")],
            vec![("cookie", &cookie), (PAGE_HEADER, "1"), ("sec-fetch-site", "same-site")],
            vec![("cookie", "cloudcoin_session=forged"), (PAGE_HEADER, "1")],
            vec![(PAGE_HEADER, "1")],
        ];
        for pairs in refused {
            assert!(with(&pairs).is_err(), "{pairs:?}");
        }
        // The bearer token works as before, and a wrong one is not rescued by the cookie.
        assert!(with(&[("authorization", "Bearer s3cret")]).is_ok());
        assert!(
            with(&[("authorization", "Bearer nope"), ("cookie", &cookie), (PAGE_HEADER, "1")])
                .is_err()
        );
    }

    #[test]
    fn the_servers_own_origin_passes_without_cors() {
        let c = config();
        let mut h = headers(&[(header::HOST, "127.0.0.1:8006")]);
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8006"));
        assert_eq!(check_origin(&c, &h).expect("own origin"), None);
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8007"));
        assert!(check_origin(&c, &h).is_err());
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
