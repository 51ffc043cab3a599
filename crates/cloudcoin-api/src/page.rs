//! The wallet page: static HTML, CSS and JavaScript compiled into the binary (no build step, no
//! CDN, nothing fetched from the network), served at `/`, and the sign-in URL that gives it a
//! session ([`crate::session`]). The page talks only to `/api/v1`.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, header};

use crate::body::ApiBody;
use crate::session::{COOKIE, code_param, write_url_file};
use crate::state::AppState;

const INDEX_HTML: &str = include_str!("../page/index.html");
const APP_JS: &str = include_str!("../page/app.js");
const STYLE_CSS: &str = include_str!("../page/style.css");
const ICON_SVG: &str = include_str!("../page/icon.svg");

/// The page's own policy: scripts, styles and everything else from this origin only (no inline
/// script or style), pictures also from `blob:` (a downloaded paper wallet shown for printing),
/// and no framing by anyone.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' blob:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The answer for the page's paths (`/`, `/page/…`, `/sign-in`), or `None` for any other path.
pub(crate) async fn respond(
    state: &AppState,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Option<Response<ApiBody>> {
    let (content_type, body) = match path {
        "/" | "/index.html" => ("text/html; charset=utf-8", INDEX_HTML),
        "/page/app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "/page/style.css" => ("text/css; charset=utf-8", STYLE_CSS),
        "/favicon.ico" | "/page/icon.svg" => ("image/svg+xml", ICON_SVG),
        "/sign-in" => return Some(sign_in(state, method, query).await),
        _ => return None,
    };
    if method != Method::GET && method != Method::HEAD {
        return Some(text(StatusCode::METHOD_NOT_ALLOWED, "this page answers GET only\n"));
    }
    let body =
        if method == Method::HEAD { Bytes::new() } else { Bytes::from_static(body.as_bytes()) };
    let mut r = ApiBody::response(StatusCode::OK, body);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Some(r)
}

/// `GET /sign-in?code=…`: a current code becomes a session cookie and a redirect to `/`; the
/// next code replaces it (and is written to the sign-in file).
async fn sign_in(state: &AppState, method: &Method, query: Option<&str>) -> Response<ApiBody> {
    if method != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "open the sign-in link in a browser\n");
    }
    let Some(session) = code_param(query).and_then(|code| state.sessions.redeem(code)) else {
        tracing::warn!("a sign-in link with a wrong or used code was opened");
        return text(
            StatusCode::FORBIDDEN,
            "This sign-in link has been used already or is not valid: each link works once.\n\
             Run `cloudcoin open` for a new one, or open the newest link the server printed.\n",
        );
    };
    publish_sign_in_url(state).await;
    let mut r = ApiBody::response(StatusCode::SEE_OTHER, Bytes::new());
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/"));
    if let Ok(cookie) =
        HeaderValue::from_str(&format!("{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/"))
    {
        h.insert(header::SET_COOKIE, cookie);
    }
    tracing::info!("a browser signed in to the wallet page");
    r
}

/// Writes the current sign-in URL to the sign-in file, if the server keeps one (on a blocking
/// thread). A failure is logged: the printed URL still works.
pub(crate) async fn publish_sign_in_url(state: &AppState) {
    let (Some(path), Some(url)) = (state.sessions.file.clone(), state.sessions.sign_in_url())
    else {
        return;
    };
    let shown = path.clone();
    match tokio::task::spawn_blocking(move || write_url_file(&path, &url)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, file = %shown.display(), "cannot write the sign-in URL file");
        }
        Err(e) => tracing::warn!(error = %e, "the sign-in file thread failed"),
    }
}

fn text(status: StatusCode, message: &'static str) -> Response<ApiBody> {
    let mut r = ApiBody::response(status, Bytes::from_static(message.as_bytes()));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// The headers every answer carries, page or API: the page's policy, no framing, no sniffing,
/// no referrer (a sign-in URL never leaks), no caching.
pub(crate) fn harden(headers: &mut HeaderMap) {
    headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `html` has an attribute such as ` onclick=`.
    fn has_event_attribute(html: &str) -> bool {
        html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].trim_start().starts_with('=')
        })
    }

    #[test]
    fn event_attributes_are_found() {
        assert!(has_event_attribute("<img src=x onerror=alert(1)>"));
        assert!(has_event_attribute("<b onclick = \"x\">"));
        assert!(!has_event_attribute("<p>files on this computer</p>"));
    }

    #[test]
    fn the_page_has_no_inline_script_or_style_and_loads_nothing_from_elsewhere() {
        let lower = INDEX_HTML.to_ascii_lowercase();
        assert!(!lower.contains("<style"), "inline style element");
        assert!(!lower.contains(" style="), "inline style attribute");
        assert!(!has_event_attribute(&lower), "an inline event handler attribute");
        for tag in lower.split("<script").skip(1) {
            let head = tag.split('>').next().unwrap_or("");
            assert!(head.contains("src=\"/page/"), "inline script: <script{head}>");
        }
        for link in lower.split(" src=\"").skip(1).chain(lower.split(" href=\"").skip(1)) {
            assert!(
                link.starts_with('/'),
                "a link off this server: {}",
                &link[..link.len().min(40)]
            );
        }
        for text in [APP_JS, STYLE_CSS] {
            assert!(!text.contains("://"), "an outside address");
        }
        assert!(!APP_JS.contains("innerHTML"), "the page inserts text, never HTML");
        assert!(!APP_JS.contains("insertAdjacentHTML") && !APP_JS.contains("outerHTML"));
        assert!(!APP_JS.contains("document.write"));
    }
}
