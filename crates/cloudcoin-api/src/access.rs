//! Who may call: the `Host` check (DNS rebinding), the `Origin` check (no permissive CORS) and
//! the bearer token.

use http::{HeaderMap, StatusCode, header};

use crate::config::ApiConfig;
use crate::error::{ApiError, code};

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

/// The request's `Origin`, if it carries one and it is allowed; a foreign origin is refused (403).
pub(crate) fn check_origin<'a>(
    config: &ApiConfig,
    headers: &'a HeaderMap,
) -> Result<Option<&'a str>, ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(None) };
    let origin = origin.to_str().unwrap_or("");
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
             file the server names at start-up (or its --auth-token value), or, for local clients \
             that send no token, restart the server with --no-auth (loopback addresses only)"
        ),
    )
}

/// Compares without stopping at the first difference, so timing does not reveal the prefix
/// that matched. (The length is not secret.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
