//! Routing and the handlers. Each handler reads its body (bounded), parses it into the service's
//! request type, makes one call into [`Service`], and renders the answer.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use cloudcoin_tasks::{Service, TaskId, TaskView};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use serde::Serialize;

use crate::access;
use crate::config::ApiConfig;
use crate::error::{ApiError, code, service_error};
use crate::json::{error_body, success_body};
use crate::wire;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) service: Service,
    pub(crate) config: ApiConfig,
}

/// The response body type.
pub(crate) type Body = Full<Bytes>;

/// The endpoints of SPEC §6.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Info,
    Export,
    Import,
    Backup,
    Tasks,
    Task(String),
    Wallets,
    Wallet(String),
}

impl Route {
    /// The route for `path`, or `None` for an unknown path. Wallet names arrive percent-decoded.
    fn parse(path: &str) -> Result<Option<Route>, ApiError> {
        let Some(rest) = path.strip_prefix("/api/v1/") else { return Ok(None) };
        let segments: Vec<&str> = rest.split('/').collect();
        Ok(Some(match segments.as_slice() {
            ["info"] => Route::Info,
            ["export"] => Route::Export,
            ["import"] => Route::Import,
            ["backup"] => Route::Backup,
            ["tasks"] => Route::Tasks,
            ["tasks", id] if !id.is_empty() => Route::Task((*id).to_owned()),
            ["wallets"] => Route::Wallets,
            ["wallets", name] if !name.is_empty() => Route::Wallet(percent_decode(name)?),
            _ => return Ok(None),
        }))
    }

    /// The methods the route answers, as the `Allow` header lists them.
    fn allow(&self) -> &'static str {
        match self {
            Route::Info | Route::Tasks | Route::Task(_) => "GET",
            Route::Export | Route::Import | Route::Backup => "POST",
            Route::Wallets => "GET, POST",
            Route::Wallet(_) => "GET, DELETE",
        }
    }
}

/// Decodes `%XX` escapes in one path segment.
fn percent_decode(segment: &str) -> Result<String, ApiError> {
    let bad = || ApiError::field("wallet name in the path", "has a malformed %-escape");
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

/// Answers one request: access checks, routing, the handler, CORS headers, and one log line.
pub(crate) async fn handle(state: Arc<AppState>, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = respond(&state, req).await;
    tracing::info!(
        %method,
        path = %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

async fn respond(state: &AppState, req: Request<Incoming>) -> Response<Body> {
    let config = &state.config;
    if let Err(e) = access::check_host(config, req.headers()) {
        return error_response(&e);
    }
    let origin = match access::check_origin(config, req.headers()) {
        Ok(origin) => origin.map(str::to_owned),
        Err(e) => return error_response(&e),
    };
    let mut response = if req.method() == Method::OPTIONS && origin.is_some() {
        preflight()
    } else {
        match access::check_token(config, req.headers()) {
            Err(e) => error_response(&e),
            Ok(()) => route(state, req).await.unwrap_or_else(|e| error_response(&e)),
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
    response
}

/// The answer to a CORS preflight from an allowed origin.
fn preflight() -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, DELETE"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, idempotency-key"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    r
}

async fn route(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let Some(route) = Route::parse(req.uri().path())? else {
        return Err(ApiError::not_found_endpoint(req.uri().path()));
    };
    let service = &state.service;
    let method = req.method().clone();
    match (&route, method.clone()) {
        (Route::Info, Method::GET) => success(
            StatusCode::OK,
            &wire::InfoJson {
                name: "cloudcoin-server",
                version: env!("CARGO_PKG_VERSION"),
                status: "ok",
                api: "v1",
            },
        ),
        (Route::Export, Method::POST) => {
            let key = wire::idempotency_key(req.headers().get("idempotency-key"))?;
            let body = read_body(req, state.config.body_limit, state).await?;
            let request = wire::export_request(&body, key)?;
            let task = service.start_export(request).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Import, Method::POST) => {
            let body = read_body(req, state.config.import_body_limit, state).await?;
            let request = wire::import_request(&body)?;
            let task = service.start_import(request).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Backup, Method::POST) => {
            let body = read_body(req, state.config.body_limit, state).await?;
            let request = wire::backup_request(&body)?;
            let task = service.start_backup(request).await.map_err(|e| service_error(&e))?;
            accepted(&task)
        }
        (Route::Tasks, Method::GET) => {
            let tasks: Vec<_> = service.tasks().iter().map(wire::task).collect();
            success(StatusCode::OK, &tasks)
        }
        (Route::Task(id), Method::GET) => {
            let task = id
                .parse::<TaskId>()
                .ok()
                .and_then(|id| service.task(id))
                .ok_or_else(|| ApiError::task_not_found(id))?;
            success(StatusCode::OK, &wire::task(&task))
        }
        (Route::Wallets, Method::GET) => {
            let wallets = service.list_wallets().await.map_err(|e| service_error(&e))?;
            let wallets: Vec<_> = wallets.iter().map(wire::wallet_summary).collect();
            success(StatusCode::OK, &wallets)
        }
        (Route::Wallets, Method::POST) => {
            let body = read_body(req, state.config.body_limit, state).await?;
            let name = wire::create_wallet_request(&body)?;
            let wallet = service.create_wallet(&name).await.map_err(|e| service_error(&e))?;
            success(StatusCode::CREATED, &wire::wallet_summary(&wallet))
        }
        (Route::Wallet(name), Method::GET) => {
            let name = wire::wallet_in_path(name)?;
            let wallet = service.wallet(&name).await.map_err(|e| service_error(&e))?;
            success(StatusCode::OK, &wire::wallet_detail(&wallet))
        }
        (Route::Wallet(name), Method::DELETE) => {
            let name = wire::wallet_in_path(name)?;
            service.delete_wallet(&name).await.map_err(|e| service_error(&e))?;
            #[derive(Serialize)]
            struct Deleted<'a> {
                deleted: &'a str,
            }
            success(StatusCode::OK, &Deleted { deleted: name.as_str() })
        }
        _ => {
            let allow = route.allow();
            let mut r = error_response(&ApiError::method_not_allowed(&method, allow));
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            Ok(r)
        }
    }
}

/// Reads the whole body, refusing more than `limit` bytes (413) or a body that stalls (408).
async fn read_body(
    req: Request<Incoming>,
    limit: usize,
    state: &AppState,
) -> Result<Bytes, ApiError> {
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

fn success(status: StatusCode, payload: &impl Serialize) -> Result<Response<Body>, ApiError> {
    Ok(json_response(status, success_body(payload)?))
}

/// 202 with the task and `Location: /api/v1/tasks/{id}`.
fn accepted(task: &TaskView) -> Result<Response<Body>, ApiError> {
    let mut r = json_response(StatusCode::ACCEPTED, success_body(&wire::task(task))?);
    let location = HeaderValue::from_str(&format!("/api/v1/tasks/{}", task.id))
        .map_err(|e| ApiError::internal(&e))?;
    r.headers_mut().insert(header::LOCATION, location);
    Ok(r)
}

pub(crate) fn error_response(e: &ApiError) -> Response<Body> {
    json_response(e.status, error_body(e))
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
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

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc").expect("ok"), "a b/c");
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%ff").is_err());
    }
}
