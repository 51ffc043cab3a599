//! One HTTP exchange with the server: the request with the token, a timeout over the whole
//! exchange, a bounded body, and the v1 envelope taken apart into a payload or an [`ApiError`].

use std::time::Duration;

use bytes::Bytes;
use cloudcoin_wire::Envelope;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error};

/// The largest answer read (a long task list is the biggest the API sends).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// How long a pooled connection may sit idle: below the server's keep-alive idle time (10 s by
/// default), so the client never sends on a connection the server is about to close.
const POOL_IDLE: Duration = Duration::from_secs(5);

/// The HTTP side of a client: where the server is, the token, and the connection pool.
#[derive(Clone)]
pub(crate) struct Transport {
    /// `http://host:port` plus any path prefix, without a trailing `/`.
    base: String,
    token: Option<HeaderValue>,
    http: HyperClient<HttpConnector, Full<Bytes>>,
    pub(crate) timeout: Duration,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A request to send: method, path under `/api/v1`, optional JSON body and `Idempotency-Key`.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) body: Option<Vec<u8>>,
    pub(crate) idempotency_key: Option<&'a str>,
}

impl Call<'_> {
    pub(crate) fn get(path: String) -> Call<'static> {
        Call { method: Method::GET, path, body: None, idempotency_key: None }
    }
}

impl Transport {
    pub(crate) fn new(url: &str, token: Option<&str>, timeout: Duration) -> Result<Self, Error> {
        let invalid = |problem| Error::InvalidUrl { url: url.to_owned(), problem };
        let uri: http::Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(invalid("https is not supported: the server speaks plain HTTP"));
            }
            _ => return Err(invalid("give it as http://host:port")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?;
        if uri.query().is_some() {
            return Err(invalid("it must not have a query"));
        }
        let prefix = uri.path().trim_end_matches('/');
        let base = format!("http://{authority}{prefix}");
        let token =
            match token {
                None => None,
                Some(t) => {
                    let mut value = HeaderValue::from_str(&format!("Bearer {}", t.trim()))
                        .map_err(|_| Error::InvalidUrl {
                            url: url.to_owned(),
                            problem: "the token is not visible ASCII",
                        })?;
                    value.set_sensitive(true);
                    Some(value)
                }
            };
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let http = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(connector);
        Ok(Transport { base, token, http, timeout })
    }

    /// The absolute URL of a path under `/api/v1`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Sends `call` and decodes a success payload into `T`, or the error envelope into
    /// [`Error::Api`].
    pub(crate) async fn send<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, Error> {
        let url = self.url(&call.path);
        let (status, body) = self.exchange(&url, call).await?;
        decode(&url, status, &body)
    }

    async fn exchange(&self, url: &str, call: Call<'_>) -> Result<(StatusCode, Bytes), Error> {
        let mut req = Request::builder().method(call.method).uri(url);
        if let Some(token) = &self.token {
            req = req.header(header::AUTHORIZATION, token.clone());
        }
        req = req.header(header::ACCEPT, "application/json");
        if call.body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        if let Some(key) = call.idempotency_key {
            req = req.header("idempotency-key", key);
        }
        let req = req
            .body(Full::new(Bytes::from(call.body.unwrap_or_default())))
            .map_err(|_| Error::InvalidUrl { url: url.to_owned(), problem: "not a valid URI" })?;
        let exchange = async {
            let response = self.http.request(req).await.map_err(|e| {
                if e.is_connect() {
                    Error::Connect { url: url.to_owned(), source: Box::new(e) }
                } else {
                    Error::Connection { url: url.to_owned(), source: Box::new(e) }
                }
            })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| Error::Connection { url: url.to_owned(), source: e })?
                .to_bytes();
            Ok((status, body))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout { url: url.to_owned(), after: self.timeout }),
        }
    }
}

/// Takes the v1 envelope apart.
fn decode<T: DeserializeOwned>(url: &str, status: StatusCode, body: &[u8]) -> Result<T, Error> {
    let envelope: Envelope<T> = serde_json::from_slice(body).map_err(|e| Error::Protocol {
        url: url.to_owned(),
        status: status.as_u16(),
        error: Box::new(e),
    })?;
    envelope.into_result().map_err(|payload| {
        Error::Api(ApiError { status: status.as_u16(), payload: Box::new(payload) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_a_prefix_and_drop_a_trailing_slash() {
        let t =
            Transport::new("http://127.0.0.1:8006/", None, Duration::from_secs(1)).expect("valid");
        assert_eq!(t.url("/info"), "http://127.0.0.1:8006/api/v1/info");
        let t =
            Transport::new("http://wallet.local/cc/", None, Duration::from_secs(1)).expect("valid");
        assert_eq!(t.url("/tasks"), "http://wallet.local/cc/api/v1/tasks");
    }

    #[test]
    fn unusable_urls_are_refused_with_the_reason() {
        for (url, why) in [
            ("https://x", "https"),
            ("127.0.0.1:8006", "http://"),
            ("http://x/?a=1", "query"),
            ("not a url", "not a URL"),
        ] {
            let e = Transport::new(url, None, Duration::from_secs(1)).expect_err(url);
            assert!(e.to_string().contains(why), "{url}: {e}");
        }
    }

    #[test]
    fn the_envelope_gives_a_payload_or_a_typed_refusal() {
        let ok: Vec<u8> =
            decode("u", StatusCode::OK, br#"{"status":"success","payload":[1,2]}"#).expect("ok");
        assert_eq!(ok, [1, 2]);
        let body = br#"{"status":"error","payload":{"status":"error","code":4115,"message":"wallet X was not found","details":null}}"#;
        let e = decode::<Vec<u8>>("u", StatusCode::NOT_FOUND, body).expect_err("refused");
        let api = e.api().expect("an api error");
        assert_eq!((api.status, api.code()), (404, 4115));
        assert_eq!(e.to_string(), "wallet X was not found");
        let e = decode::<Vec<u8>>("u", StatusCode::BAD_GATEWAY, b"<html>").expect_err("html");
        assert!(matches!(e, Error::Protocol { status: 502, .. }), "{e}");
        let mismatch = br#"{"status":"success","payload":"one"}"#;
        let e = decode::<u8>("u", StatusCode::OK, mismatch).expect_err("mismatch");
        assert!(matches!(e, Error::Protocol { .. }), "{e}");
    }
}
