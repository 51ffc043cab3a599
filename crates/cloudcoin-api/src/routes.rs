//! Routing and the handlers. Each handler reads its body (bounded), parses it into the service's
//! request type, makes one call into [`Service`], and renders the answer.

use std::time::Instant;

use bytes::Bytes;
use cloudcoin_tasks::{TaskId, TaskView};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;
use serde::Serialize;

use crate::access;
use crate::config::ApiConfig;
use crate::download;
use crate::error::{ApiError, code, service_error};
use crate::json::{error_body, success_body};
use crate::page;
use crate::parse;
use crate::service::ApiBody;
use crate::session::Sessions;
use crate::wire;

/// The OpenAPI 3.1 document of this API, served at `/api/v1/openapi.json`.
pub(crate) const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) service: cloudcoin_tasks::Service,
    pub(crate) config: ApiConfig,
    /// The wallet page's sign-in code and sessions.
    pub(crate) sessions: Sessions,
}

/// The endpoints of the v1 API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    Health,
    OpenApi,
    Info,
    Export,
    Import,
    Backup,
    Fix,
    Raida,
    Reclaim,
    ReclaimCheck(String),
    Tasks,
    Task(String),
    TaskFile(String),
    Wallets,
    Wallet(String),
}

impl Route {
    /// One of each route, for the tests that compare the router with the document.
    #[cfg(test)]
    pub(crate) fn samples() -> Vec<Route> {
        vec![
            Route::Health,
            Route::OpenApi,
            Route::Info,
            Route::Export,
            Route::Import,
            Route::Backup,
            Route::Fix,
            Route::Raida,
            Route::Reclaim,
            Route::ReclaimCheck("9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a".into()),
            Route::Tasks,
            Route::Task("9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a".into()),
            Route::TaskFile("9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a".into()),
            Route::Wallets,
            Route::Wallet("Default".into()),
        ]
    }

    /// The route for `path`, or `None` for an unknown path. Wallet names arrive percent-decoded.
    pub(crate) fn parse(path: &str) -> Result<Option<Route>, ApiError> {
        let Some(rest) = path.strip_prefix("/api/v1/") else { return Ok(None) };
        let segments: Vec<&str> = rest.split('/').collect();
        Ok(Some(match segments.as_slice() {
            ["health"] => Route::Health,
            ["openapi.json"] => Route::OpenApi,
            ["info"] => Route::Info,
            ["export"] => Route::Export,
            ["import"] => Route::Import,
            ["backup"] => Route::Backup,
            ["fix"] => Route::Fix,
            ["raida"] => Route::Raida,
            ["reclaim"] => Route::Reclaim,
            ["reclaim", id] if !id.is_empty() => Route::ReclaimCheck((*id).to_owned()),
            ["tasks"] => Route::Tasks,
            ["tasks", id] if !id.is_empty() => Route::Task((*id).to_owned()),
            ["tasks", id, "file"] if !id.is_empty() => Route::TaskFile((*id).to_owned()),
            ["wallets"] => Route::Wallets,
            ["wallets", name] if !name.is_empty() => Route::Wallet(percent_decode(name)?),
            _ => return Ok(None),
        }))
    }

    /// The path as the OpenAPI document writes it.
    #[cfg(test)]
    pub(crate) fn template(&self) -> &'static str {
        match self {
            Route::Health => "/api/v1/health",
            Route::OpenApi => "/api/v1/openapi.json",
            Route::Info => "/api/v1/info",
            Route::Export => "/api/v1/export",
            Route::Import => "/api/v1/import",
            Route::Backup => "/api/v1/backup",
            Route::Fix => "/api/v1/fix",
            Route::Raida => "/api/v1/raida",
            Route::Reclaim => "/api/v1/reclaim",
            Route::ReclaimCheck(_) => "/api/v1/reclaim/{id}",
            Route::Tasks => "/api/v1/tasks",
            Route::Task(_) => "/api/v1/tasks/{id}",
            Route::TaskFile(_) => "/api/v1/tasks/{id}/file",
            Route::Wallets => "/api/v1/wallets",
            Route::Wallet(_) => "/api/v1/wallets/{name}",
        }
    }

    /// The methods the route answers, as the `Allow` header lists them.
    pub(crate) fn allow(&self) -> &'static str {
        match self {
            Route::Health => "GET, HEAD",
            Route::OpenApi
            | Route::Info
            | Route::Raida
            | Route::ReclaimCheck(_)
            | Route::Tasks
            | Route::Task(_)
            | Route::TaskFile(_) => "GET",
            Route::Export | Route::Import | Route::Backup | Route::Fix | Route::Reclaim => "POST",
            Route::Wallets => "GET, POST",
            Route::Wallet(_) => "GET, DELETE",
        }
    }

    /// Routes anyone who passes the `Host` and `Origin` checks may call, without a token.
    fn is_public(&self) -> bool {
        matches!(self, Route::Health | Route::OpenApi)
    }
}

/// Decodes `%XX` escapes in one path segment. Strict where the crate is lenient: a `%` not
/// followed by two hex digits is refused, not kept as it is, and so are bytes that are no UTF-8.
fn percent_decode(segment: &str) -> Result<String, ApiError> {
    let bad = || ApiError::field("wallet name in the path", "has a malformed %-escape");
    let bytes = segment.as_bytes();
    let well_formed = bytes.iter().enumerate().filter(|(_, b)| **b == b'%').all(|(i, _)| {
        bytes.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return Err(bad());
    }
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| bad())
}

/// Answers one request: access checks, routing, the handler, CORS headers, and one log line.
pub(crate) async fn handle<B>(state: &AppState, req: Request<B>) -> Response<ApiBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = respond(state, req).await;
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn respond<B>(state: &AppState, req: Request<B>) -> Response<ApiBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let head = req.method() == Method::HEAD;
    let response = respond_with_body(state, req).await;
    if head { without_body(response) } else { response }
}

/// The answer to a `HEAD` request: the headers the `GET` answer would carry, its length among
/// them, and no body (RFC 9110 §9.3.2).
fn without_body(response: Response<ApiBody>) -> Response<ApiBody> {
    let (mut parts, body) = response.into_parts();
    let length = body.into_bytes().len();
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Response::from_parts(parts, ApiBody::response(StatusCode::OK, Bytes::new()).into_body())
}

async fn respond_with_body<B>(state: &AppState, req: Request<B>) -> Response<ApiBody>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let config = &state.config;
    if let Err(e) = access::check_host(config, req.headers()) {
        return error_response(&e);
    }
    let origin = match access::check_origin(config, req.headers()) {
        Ok(origin) => origin.map(str::to_owned),
        Err(e) => return error_response(&e),
    };
    let page = page::respond(state, req.method(), req.uri().path(), req.uri().query()).await;
    let mut response = if let Some(page) = page {
        page
    } else if req.method() == Method::OPTIONS && origin.is_some() {
        preflight()
    } else {
        match Route::parse(req.uri().path()) {
            Err(e) => error_response(&e),
            Ok(None) => error_response(&ApiError::not_found_endpoint(req.uri().path())),
            Ok(Some(route)) => {
                let checked = if route.is_public() {
                    Ok(())
                } else {
                    access::check_caller(config, &state.sessions, req.headers())
                };
                match checked {
                    Err(e) => error_response(&e),
                    Ok(()) => {
                        dispatch(state, route, req).await.unwrap_or_else(|e| error_response(&e))
                    }
                }
            }
        }
    };
    if let Some(origin) = origin
        && let Ok(value) = HeaderValue::from_str(&origin)
    {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Location"));
    }
    page::harden(response.headers_mut());
    response
}

/// The answer to a CORS preflight from an allowed origin.
fn preflight() -> Response<ApiBody> {
    let mut r = ApiBody::response(StatusCode::NO_CONTENT, Bytes::new());
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, DELETE"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, idempotency-key"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    r
}

async fn dispatch<B>(
    state: &AppState,
    route: Route,
    req: Request<B>,
) -> Result<Response<ApiBody>, ApiError>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = &state.service;
    let limit = state.config.body_limit;
    let method = req.method().clone();
    match (&route, method.clone()) {
        // HEAD answers as GET does; `respond` drops the body.
        (Route::Health, Method::GET | Method::HEAD) => success(StatusCode::OK, wire::Health::ok()),
        (Route::OpenApi, Method::GET) => {
            Ok(json_response(StatusCode::OK, Bytes::from_static(OPENAPI_JSON.as_bytes())))
        }
        (Route::Info, Method::GET) => success(StatusCode::OK, crate::render::info()),
        (Route::Export, Method::POST) => {
            let key = parse::idempotency_key(req.headers().get("idempotency-key"))?;
            let body = read_body(req, limit, state).await?;
            let request = off_worker(body, move |b| parse::export_request(b, key)).await?;
            let task = service.start_export(request).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Import, Method::POST) => {
            let body = read_body(req, state.config.import_body_limit, state).await?;
            let request = off_worker(body, parse::import_request).await?;
            let task = service.start_import(request).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Backup, Method::POST) => {
            let body = read_body(req, limit, state).await?;
            let request = off_worker(body, parse::backup_request).await?;
            let task = service.start_backup(request).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Fix, Method::POST) => {
            let body = read_body(req, limit, state).await?;
            let wallet = off_worker(body, parse::fix_request).await?;
            let task = service.start_fix(&wallet).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Raida, Method::GET) => {
            let all = service.raida_health().await.map_err(|e| service_error(&e))?;
            success(StatusCode::OK, crate::render::raida(&all))
        }
        (Route::Reclaim, Method::POST) => {
            let body = read_body(req, limit, state).await?;
            let export = off_worker(body, parse::reclaim_request).await?;
            let task = service.start_reclaim(export).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::ReclaimCheck(id), Method::GET) => {
            let export = id.parse::<TaskId>().map_err(|_| ApiError::task_not_found(id))?;
            let report = service.check_reclaim(export).await.map_err(|e| service_error(&e))?;
            success(StatusCode::OK, crate::render::reclaim(&report))
        }
        (Route::Tasks, Method::GET) => {
            let tasks: Vec<_> = service.tasks().iter().map(crate::render::task).collect();
            success(StatusCode::OK, tasks)
        }
        (Route::Task(id), Method::GET) => {
            let task = id
                .parse::<TaskId>()
                .ok()
                .and_then(|id| service.task(id))
                .ok_or_else(|| ApiError::task_not_found(id))?;
            success(StatusCode::OK, crate::render::task(&task))
        }
        (Route::TaskFile(id), Method::GET) => {
            let task = id
                .parse::<TaskId>()
                .ok()
                .and_then(|id| service.task(id))
                .ok_or_else(|| ApiError::task_not_found(id))?;
            download::task_file(&task).await
        }
        (Route::Wallets, Method::GET) => {
            let wallets = service.list_wallets().await.map_err(|e| service_error(&e))?;
            success(StatusCode::OK, wallets)
        }
        (Route::Wallets, Method::POST) => {
            let body = read_body(req, limit, state).await?;
            let name = off_worker(body, parse::create_wallet_request).await?;
            let wallet = service.create_wallet(&name).await.map_err(|e| service_error(&e))?;
            let location = HeaderValue::from_str(&format!(
                "/api/v1{}",
                cloudcoin_wire::wallet_path(&wallet.name)
            ))
            .map_err(|e| ApiError::internal(&e))?;
            let mut r = success(StatusCode::CREATED, wallet)?;
            r.headers_mut().insert(header::LOCATION, location);
            Ok(r)
        }
        (Route::Wallet(name), Method::GET) => {
            let name = parse::wallet_in_path(name)?;
            let wallet = service.wallet(&name).await.map_err(|e| service_error(&e))?;
            success(StatusCode::OK, wallet)
        }
        (Route::Wallet(name), Method::DELETE) => {
            let name = parse::wallet_in_path(name)?;
            service.delete_wallet(&name).await.map_err(|e| service_error(&e))?;
            success(StatusCode::OK, wire::Deleted::wallet(&name))
        }
        _ => {
            let allow = route.allow();
            let mut r = error_response(&ApiError::method_not_allowed(&method, allow));
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            Ok(r)
        }
    }
}

/// Bodies up to this size are parsed where they are; larger ones on a blocking thread.
const INLINE_PARSE_LIMIT: usize = 16 * 1024;

/// Runs `parse` on `body`: inline for a small body, on a blocking thread for a large one, so a
/// large JSON body never occupies an async worker.
pub(crate) async fn off_worker<T, F>(body: Bytes, parse: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&[u8]) -> Result<T, ApiError> + Send + 'static,
{
    if body.len() <= INLINE_PARSE_LIMIT {
        return parse(&body);
    }
    tokio::task::spawn_blocking(move || parse(&body)).await.map_err(|e| ApiError::internal(&e))?
}

/// Reads the whole body, refusing more than `limit` bytes (413) or a body that stalls (408).
async fn read_body<B>(req: Request<B>, limit: usize, state: &AppState) -> Result<Bytes, ApiError>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::body_too_large(limit));
    }
    let body = Limited::new(req.into_body(), limit);
    match tokio::time::timeout(state.config.body_timeout, body.collect()).await {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            code::BODY_TIMEOUT,
            "the request body did not arrive in time",
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::body_too_large(limit))
        }
        Ok(Err(e)) => Err(ApiError::bad_json(format!("the body could not be read: {e}"))),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn success(status: StatusCode, payload: impl Serialize) -> Result<Response<ApiBody>, ApiError> {
    Ok(json_response(status, success_body(payload)?))
}

/// 202 with the task and `Location: /api/v1/tasks/{id}`.
fn accepted(task: &TaskView) -> Result<Response<ApiBody>, ApiError> {
    let mut r = json_response(StatusCode::ACCEPTED, success_body(crate::render::task(task))?);
    let location = HeaderValue::from_str(&format!("/api/v1/tasks/{}", task.id))
        .map_err(|e| ApiError::internal(&e))?;
    r.headers_mut().insert(header::LOCATION, location);
    Ok(r)
}

pub(crate) fn error_response(e: &ApiError) -> Response<ApiBody> {
    let mut r = json_response(e.status, error_body(e));
    if e.status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

fn json_response(status: StatusCode, body: Bytes) -> Response<ApiBody> {
    let mut r = ApiBody::response(status, body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::parse("/api/v1/info").expect("ok"), Some(Route::Info));
        assert_eq!(
            Route::parse("/api/v1/wallets/My%20Wallet").expect("ok"),
            Some(Route::Wallet("My Wallet".into()))
        );
        assert_eq!(Route::parse("/api/v1/tasks/abc").expect("ok"), Some(Route::Task("abc".into())));
        for unknown in
            ["/", "/api/v1", "/api/v1/", "/api/v2/info", "/api/v1/tasks/", "/api/v1/info/x"]
        {
            assert_eq!(Route::parse(unknown).expect("ok"), None, "{unknown}");
        }
        let e = Route::parse("/api/v1/wallets/a%2").expect_err("bad escape");
        assert_eq!(e.code, code::INVALID_FIELD);
        assert_eq!(Route::Wallets.allow(), "GET, POST");
    }

    /// Every (path, method) of the OpenAPI document.
    fn documented() -> std::collections::BTreeSet<(String, String)> {
        let doc: serde_json::Value =
            serde_json::from_str(OPENAPI_JSON).expect("the document is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut out = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if ["get", "post", "put", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    out.insert((path.clone(), method.to_uppercase()));
                }
            }
        }
        out
    }

    /// A concrete path for a document path template.
    fn concrete(template: &str) -> String {
        template
            .replace("{id}", "9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a")
            .replace("{name}", "Default")
    }

    #[test]
    fn the_router_serves_exactly_the_documented_routes_and_methods() {
        let documented = documented();
        // Router → document: every route and each method it allows is documented.
        let mut routed = std::collections::BTreeSet::new();
        for route in Route::samples() {
            for method in route.allow().split(", ") {
                routed.insert((route.template().to_owned(), method.to_owned()));
            }
        }
        assert_eq!(routed, documented, "router (left) and document (right) differ");
        // Document → router: every documented path parses to the route of that template.
        for (template, _) in &documented {
            let route = Route::parse(&concrete(template)).expect("parses").expect("a route");
            assert_eq!(route.template(), template);
        }
    }

    #[tokio::test]
    async fn dispatch_answers_every_documented_method_and_405_for_the_rest() {
        let data = tempfile::tempdir().expect("tempdir");
        let config = cloudcoin_tasks::ServiceConfig::new(data.path())
            .with_task_retention(std::time::Duration::from_secs(60));
        let service = tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config))
            .await
            .expect("thread")
            .expect("opens");
        let api = crate::Api::new(
            service,
            ApiConfig::default().with_allowed_hosts(vec!["h".into()]).without_auth(),
        );
        let documented = documented();
        let paths: std::collections::BTreeSet<&String> =
            documented.iter().map(|(p, _)| p).collect();
        for path in paths {
            for method in ["GET", "POST", "DELETE", "PUT", "PATCH"] {
                let req = Request::builder()
                    .method(method)
                    .uri(concrete(path))
                    .header("host", "h")
                    .body(http_body_util::Full::new(Bytes::from_static(b"{}")))
                    .expect("request");
                let r = api.handle(req).await;
                let is_documented = documented.contains(&(path.clone(), method.to_owned()));
                assert_eq!(
                    r.status() == StatusCode::METHOD_NOT_ALLOWED,
                    !is_documented,
                    "{method} {path}: {}",
                    r.status()
                );
                if !is_documented {
                    assert!(r.headers().contains_key(header::ALLOW), "{method} {path}");
                }
            }
        }
        api.shutdown().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn large_bodies_are_parsed_off_the_async_worker() {
        let here = std::thread::current().id();
        let small = off_worker(Bytes::from_static(b"{}"), |_| Ok(std::thread::current().id()))
            .await
            .expect("parsed");
        assert_eq!(small, here, "a small body is parsed in place");
        let big = Bytes::from(vec![b' '; INLINE_PARSE_LIMIT + 1]);
        let elsewhere = off_worker(big, |_| Ok(std::thread::current().id())).await.expect("parsed");
        assert_ne!(elsewhere, here, "a large body is parsed on a blocking thread");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc").expect("ok"), "a b/c");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%ff").is_err());
        // A sign is no hex digit (u8::from_str_radix would take "+f"), nor is a lone or short %.
        for bad in ["%+f", "%-1", "a%", "a%2", "%%41"] {
            assert!(percent_decode(bad).is_err(), "{bad}");
        }
        assert_eq!(percent_decode("%41%42").expect("ok"), "AB");
    }
}
