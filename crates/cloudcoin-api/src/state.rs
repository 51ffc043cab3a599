//! What every request handler shares: a leaf the routes, the page and the service use.

use crate::config::ApiConfig;
use crate::session::Sessions;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) service: cloudcoin_tasks::Service,
    pub(crate) config: ApiConfig,
    /// The wallet page's sign-in code and sessions.
    pub(crate) sessions: Sessions,
}
