//! The API as a value: a hyper [`Service`](hyper::service::Service) that answers requests
//! without owning a socket, so it can be embedded in another server or driven by tests.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Body;

// Its path before it had a module of its own.
pub(crate) use crate::body::ApiBody;
use crate::config::ApiConfig;
use crate::routes::handle;
use crate::state::AppState;

/// The v1 API in front of a [`cloudcoin_tasks::Service`]: every route, the access checks, the
/// body limits and the JSON envelope, with no socket of its own.
///
/// Cloning is cheap (the state is shared). [`serve`](crate::serve) runs one on a TCP listener;
/// anything that speaks [`http`] can drive it with [`Api::handle`] or as a hyper service.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use cloudcoin_api::{Api, ApiConfig};
/// use cloudcoin_api::wire::{Envelope, WalletSummary};
/// use cloudcoin_tasks::{Service, ServiceConfig};
/// use http_body_util::{BodyExt, Empty};
///
/// let data = tempfile::tempdir()?;
/// let config = ServiceConfig::new(data.path());
/// let service = tokio::task::spawn_blocking(move || Service::open(config)).await??;
/// let api = Api::new(
///     service,
///     ApiConfig::default()
///         .with_allowed_hosts(vec!["wallet.test".into()])
///         .with_auth_token("s3cret"),
/// );
///
/// let request = http::Request::get("/api/v1/wallets")
///     .header("host", "wallet.test")
///     .header("authorization", "Bearer s3cret")
///     .body(Empty::<bytes::Bytes>::new())?;
/// let response = api.handle(request).await;
/// assert_eq!(response.status(), 200);
/// let body = response.into_body().collect().await?.to_bytes();
/// let wallets: Envelope<Vec<WalletSummary>> = serde_json::from_slice(&body)?;
/// assert_eq!(wallets.into_result()?[0].name.as_str(), "Default");
/// # api.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Api {
    state: Arc<AppState>,
}

impl Api {
    /// The API over `service` with the HTTP settings of `config`.
    pub fn new(service: cloudcoin_tasks::Service, config: ApiConfig) -> Api {
        let sessions = crate::session::Sessions::new(
            config.sign_in_base_url.clone(),
            config.sign_in_file.clone(),
        );
        Api { state: Arc::new(AppState { service, config, sessions }) }
    }

    /// The URL that signs a browser in to the wallet page now: `{base}/sign-in?code=…` with a
    /// one-time code, or `None` when the configuration has no
    /// [`ApiConfig::with_sign_in`]. Opening it once gives the browser a session; the code then
    /// stops working and a new one takes its place (in the sign-in file, if there is one).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use cloudcoin_api::{Api, ApiConfig};
    /// let data = tempfile::tempdir()?;
    /// let config = cloudcoin_tasks::ServiceConfig::new(data.path());
    /// let service =
    ///     tokio::task::spawn_blocking(move || cloudcoin_tasks::Service::open(config)).await??;
    /// let api = Api::new(service, ApiConfig::default().with_sign_in("http://127.0.0.1:8006", None));
    /// let url = api.sign_in_url().expect("configured");
    /// assert!(url.starts_with("http://127.0.0.1:8006/sign-in?code="));
    /// # api.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn sign_in_url(&self) -> Option<String> {
        self.state.sessions.sign_in_url()
    }

    /// Writes the current sign-in URL to the configured sign-in file (on a blocking thread).
    pub(crate) async fn publish_sign_in_url(&self) {
        crate::page::publish_sign_in_url(&self.state).await;
    }

    /// Answers one request. Never fails: every refusal is an error envelope with its status.
    ///
    /// The request body is read up to the configured limits (and within the body timeout);
    /// `Host`, `Origin` and the bearer token are checked as for a request from a socket.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<ApiBody>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        handle(&self.state, req).await
    }

    /// The HTTP settings.
    pub fn config(&self) -> &ApiConfig {
        &self.state.config
    }

    /// The wallet service behind the API.
    pub fn service(&self) -> &cloudcoin_tasks::Service {
        &self.state.service
    }

    /// Waits for the service's running tasks ([`cloudcoin_tasks::Service::shutdown`]).
    pub async fn shutdown(&self) {
        self.state.service.shutdown().await;
    }
}

impl<B> hyper::service::Service<Request<B>> for Api
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ApiBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ApiBody>, Infallible>> + Send>>;

    fn call(&self, req: Request<B>) -> Self::Future {
        let api = self.clone();
        Box::pin(async move { Ok(api.handle(req).await) })
    }
}
