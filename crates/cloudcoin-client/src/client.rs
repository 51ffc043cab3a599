//! [`Client`]: one method per endpoint of the v1 API.

use std::time::Duration;

use cloudcoin_domain::WalletName;
use cloudcoin_wire::TaskId;
use cloudcoin_wire::{
    BackupRequest, CreateWalletRequest, Deleted, ExportRequest, FixRequest, Health, ImportRequest,
    Info, RaidaStatus, ReclaimData, ReclaimRequest, Task, WalletDetail, WalletSummary,
};
use http::Method;
use serde::Serialize;

use crate::error::Error;
use crate::transport::{Call, Transport};
use crate::wait::{Backoff, Wait};

/// How long a client waits for each answer unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times [`Client::export`] sends its request when no answer comes back.
pub const DEFAULT_EXPORT_ATTEMPTS: u32 = 3;

/// A client of one CloudCoin wallet server. Cheap to clone; clones share connections.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    export_attempts: u32,
    backoff: Backoff,
}

/// Settings for a [`Client`]; made by [`Client::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    url: String,
    token: Option<String>,
    timeout: Duration,
    export_attempts: u32,
    backoff: Backoff,
}

impl ClientBuilder {
    /// The bearer token the server requires (its `--auth-token`, or its token file's content).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// How long to wait for each answer, connecting included (default 30 s). A request that
    /// gets no answer in time fails with [`Error::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times [`Client::export`] sends its request, with the same `Idempotency-Key`,
    /// when an attempt times out or loses its connection (default 3, at least 1).
    pub fn export_attempts(mut self, attempts: u32) -> Self {
        self.export_attempts = attempts.max(1);
        self
    }

    /// How [`Client::wait`] spaces its polls.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The client. Fails only if the URL is not an `http://host[:port][/prefix]` URL or the
    /// token is not visible ASCII.
    pub fn build(self) -> Result<Client, Error> {
        Ok(Client {
            transport: Transport::new(&self.url, self.token.as_deref(), self.timeout)?,
            export_attempts: self.export_attempts,
            backoff: self.backoff,
        })
    }
}

impl Client {
    /// Settings for a client of the server at `url`, e.g. `http://127.0.0.1:8006`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = cloudcoin_client::Client::builder("http://127.0.0.1:8006")
    ///     .token("the token from the server's api-token file")
    ///     .timeout(Duration::from_secs(10))
    ///     .build()?;
    /// # let _ = client;
    /// # Ok::<(), cloudcoin_client::Error>(())
    /// ```
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            token: None,
            timeout: DEFAULT_TIMEOUT,
            export_attempts: DEFAULT_EXPORT_ATTEMPTS,
            backoff: Backoff::default(),
        }
    }

    /// `GET /api/v1/info`: the server's name and version.
    pub async fn info(&self) -> Result<Info, Error> {
        self.transport.send(Call::get("/info".into())).await
    }

    /// `GET /api/v1/health`: liveness (needs no token).
    pub async fn health(&self) -> Result<Health, Error> {
        self.transport.send(Call::get("/health".into())).await
    }

    /// `POST /api/v1/export` with the request's `Idempotency-Key`
    /// ([`ExportRequest::with_idempotency_key`]), or a fresh random one: the server checks the
    /// request, reserves the coins and answers with the running task (follow it with
    /// [`Client::wait`]).
    ///
    /// When an attempt gets no answer (a timeout, or a connection broken after sending), the
    /// same request is sent again with the same key, up to [`ClientBuilder::export_attempts`]
    /// times: the server answers a repeated key with the first task, so a retry never exports
    /// twice. If no attempt is answered the error is [`Error::ExportUnconfirmed`], which names
    /// the key for [`Client::export_with_key`].
    pub async fn export(&self, request: &ExportRequest) -> Result<Task, Error> {
        match &request.idempotency_key {
            Some(key) => self.export_with_key(request, key).await,
            None => self.export_with_key(request, &new_idempotency_key()).await,
        }
    }

    /// [`Client::export`] with a given `Idempotency-Key` (1 to 200 visible ASCII characters):
    /// sending a request again with the key of an earlier one returns that export's task.
    ///
    /// ```no_run
    /// # async fn again(client: cloudcoin_client::Client,
    /// #     request: cloudcoin_client::wire::ExportRequest) -> Result<(), cloudcoin_client::Error> {
    /// let task = match client.export(&request).await {
    ///     Err(cloudcoin_client::Error::ExportUnconfirmed { key, .. }) => {
    ///         // Later: the same key finds the export if it started, or starts it once.
    ///         client.export_with_key(&request, &key).await?
    ///     }
    ///     other => other?,
    /// };
    /// # let _ = task; Ok(()) }
    /// ```
    pub async fn export_with_key(&self, request: &ExportRequest, key: &str) -> Result<Task, Error> {
        let body = json(request)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let call = Call {
                method: Method::POST,
                path: "/export".into(),
                body: Some(body.clone()),
                idempotency_key: Some(key),
            };
            let e = match self.transport.send(call).await {
                Ok(task) => return Ok(task),
                Err(e) => e,
            };
            let unconfirmed = |e| Error::ExportUnconfirmed {
                key: key.to_owned(),
                attempts: attempt,
                last: Box::new(e),
            };
            if !e.is_unanswered() {
                // A refusal is the server's word on this key. A failure to connect after an
                // attempt that may have reached the server leaves the outcome unknown.
                return Err(if attempt > 1 && e.is_transport() { unconfirmed(e) } else { e });
            }
            if attempt >= self.export_attempts {
                return Err(unconfirmed(e));
            }
            tokio::time::sleep(Duration::from_millis(200) * attempt).await;
        }
    }

    /// `POST /api/v1/import`: reads coin files into a wallet; answers with the running task.
    pub async fn import(&self, request: &ImportRequest) -> Result<Task, Error> {
        self.transport.send(post("/import", request)?).await
    }

    /// `POST /api/v1/backup`: a zip of every coin of a wallet; answers with the running task.
    pub async fn backup(&self, request: &BackupRequest) -> Result<Task, Error> {
        self.transport.send(post("/backup", request)?).await
    }

    /// `POST /api/v1/fix`: heals a wallet's Limbo and Fracked coins with the RAIDA; answers
    /// with the running task (the one already running for the wallet, if any).
    pub async fn fix(&self, request: &FixRequest) -> Result<Task, Error> {
        self.transport.send(post("/fix", request)?).await
    }

    /// `GET /api/v1/raida`: every RAIDA's echo.
    pub async fn raida(&self) -> Result<RaidaStatus, Error> {
        self.transport.send(Call::get("/raida".into())).await
    }

    /// `POST /api/v1/reclaim`: takes back the coins of an export its recipient has not
    /// claimed; answers with the running task, whose `data` is a
    /// [`ReclaimData`](cloudcoin_wire::ReclaimData) when it completes.
    ///
    /// ```no_run
    /// # async fn run(client: cloudcoin_client::Client, export: cloudcoin_wire::TaskId)
    /// # -> Result<(), cloudcoin_client::Error> {
    /// let task = client.reclaim(&cloudcoin_wire::ReclaimRequest::new(export)).await?;
    /// let done = client.wait(task.id).finish(|_| {}).await?;
    /// println!("{}", done.message);
    /// # Ok(()) }
    /// ```
    pub async fn reclaim(&self, request: &ReclaimRequest) -> Result<Task, Error> {
        self.transport.send(post("/reclaim", request)?).await
    }

    /// `GET /api/v1/reclaim/{id}`: which coins of export `export` its recipient has claimed,
    /// changing nothing.
    ///
    /// ```no_run
    /// # async fn run(client: cloudcoin_client::Client, export: cloudcoin_wire::TaskId)
    /// # -> Result<(), cloudcoin_client::Error> {
    /// let check = client.reclaim_check(export).await?;
    /// println!("{} of {} coins not claimed yet", check.unclaimed.coins, check.coins);
    /// # Ok(()) }
    /// ```
    pub async fn reclaim_check(&self, export: TaskId) -> Result<ReclaimData, Error> {
        self.transport.send(Call::get(format!("/reclaim/{export}"))).await
    }

    /// `GET /api/v1/tasks/{id}`.
    pub async fn task(&self, id: TaskId) -> Result<Task, Error> {
        self.transport.send(Call::get(format!("/tasks/{id}"))).await
    }

    /// `GET /api/v1/tasks`: recent tasks, newest first.
    pub async fn tasks(&self) -> Result<Vec<Task>, Error> {
        self.transport.send(Call::get("/tasks".into())).await
    }

    /// Follows a task until it finishes, polling with the client's [`Backoff`]; see [`Wait`].
    pub fn wait(&self, id: TaskId) -> Wait<'_> {
        Wait::new(self, id, self.backoff)
    }

    /// `GET /api/v1/wallets`: every wallet with its balance.
    pub async fn wallets(&self) -> Result<Vec<WalletSummary>, Error> {
        self.transport.send(Call::get("/wallets".into())).await
    }

    /// `GET /api/v1/wallets/{name}`: one wallet in detail.
    pub async fn wallet(&self, name: &WalletName) -> Result<WalletDetail, Error> {
        self.transport.send(Call::get(cloudcoin_wire::wallet_path(name))).await
    }

    /// `POST /api/v1/wallets`: creates an empty wallet.
    pub async fn create_wallet(&self, name: &WalletName) -> Result<WalletSummary, Error> {
        self.transport.send(post("/wallets", &CreateWalletRequest::new(name.clone()))?).await
    }

    /// `DELETE /api/v1/wallets/{name}`: deletes an empty wallet.
    pub async fn delete_wallet(&self, name: &WalletName) -> Result<Deleted, Error> {
        let call = Call {
            method: Method::DELETE,
            path: cloudcoin_wire::wallet_path(name),
            body: None,
            idempotency_key: None,
        };
        self.transport.send(call).await
    }
}

/// A fresh random `Idempotency-Key` (a UUID v4), as [`Client::export`] makes for each call.
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The JSON body of a request; fails only for a path that is not UTF-8.
fn json(body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| Error::Request { problem: e.to_string() })
}

fn post(path: &str, body: &impl Serialize) -> Result<Call<'static>, Error> {
    Ok(Call {
        method: Method::POST,
        path: path.to_owned(),
        body: Some(json(body)?),
        idempotency_key: None,
    })
}
