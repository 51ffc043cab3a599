//! `cloudcoin-server`: parses flags, opens the wallet service (lock, recovery, scan), binds, and
//! serves the HTTP API until Ctrl-C or SIGTERM.

mod cli;
mod listen;
mod token;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use cloudcoin_api::ApiConfig;
use cloudcoin_tasks::{Service, ServiceConfig};
use tracing_subscriber::EnvFilter;

use crate::cli::Args;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let network = raida_config(&args).await?;
    let listen = listen::resolve(&args.listen).await?;
    let loopback = listen.addrs.iter().all(|a| a.ip().is_loopback());
    if args.no_auth && !loopback {
        bail!(
            "--no-auth is allowed only with a loopback --listen address (127.0.0.1, [::1] or \
             localhost), and {} is not one; either listen on 127.0.0.1, or drop --no-auth and \
             send the API token",
            args.listen
        );
    }
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    let token_file = token::token_path(&data_dir);
    if !loopback && args.auth_token.is_none() && !token_file.exists() {
        bail!(
            "refusing to listen on {}, which is not a loopback address, without an API token; \
             pass --auth-token (or CLOUDCOIN_AUTH_TOKEN), or listen on 127.0.0.1",
            args.listen
        );
    }

    let listeners = listen::bind(&listen).await?;
    let addrs: Vec<std::net::SocketAddr> =
        listeners.iter().map(|l| l.local_addr()).collect::<Result<_, _>>()?;

    let mut service_config = ServiceConfig::new(&data_dir)
        .with_export_roots(args.export_roots)
        .with_task_retention(Duration::from_secs(args.task_retention_hours.saturating_mul(3600)));
    match network {
        Some(network) => {
            tracing::info!("RAIDA network on: imports claim their coins");
            service_config = service_config.with_network(network);
        }
        None => tracing::info!(
            "no RAIDA network (--raida-list): imported coins are stored as they come, not claimed"
        ),
    }
    let service = tokio::task::spawn_blocking(move || Service::open(service_config))
        .await
        .context("the start-up thread failed")?
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;

    // Healing a crash interrupted, or coins a claim left Fracked or in Limbo, starts again.
    for task in service.resume_healing().await {
        tracing::info!(task = %task.id, "healing resumed");
    }

    let auth_token = if args.no_auth {
        None
    } else {
        Some(match args.auth_token {
            Some(token) if token.trim().is_empty() => bail!("--auth-token must not be empty"),
            Some(token) => token,
            None => {
                let path = token_file.clone();
                let token = tokio::task::spawn_blocking(move || token::read_or_create(&path))
                    .await
                    .context("the token thread failed")??;
                tracing::info!(
                    "API token in {} (send it as Authorization: Bearer <token>)",
                    token_file.display()
                );
                token
            }
        })
    };
    let mut allowed_hosts: Vec<String> = Vec::new();
    for addr in &addrs {
        for host in ApiConfig::hosts_for(*addr) {
            if !allowed_hosts.contains(&host) {
                allowed_hosts.push(host);
            }
        }
    }
    if let Some(name) = &listen.name {
        allowed_hosts.push(format!("{name}:{}", addrs[0].port()));
    }
    allowed_hosts.extend(args.allowed_hosts);
    let max_connections = args.max_connections.max(1);
    let mut config = ApiConfig::default()
        .with_allowed_hosts(allowed_hosts)
        .with_allowed_origins(args.allowed_origins)
        .with_body_limits(args.body_limit, args.body_limit.saturating_mul(64))
        .with_header_read_timeout(Duration::from_secs(args.header_timeout_secs.max(1)))
        .with_body_timeout(Duration::from_secs(args.body_timeout_secs.max(1)))
        .with_max_connections(max_connections)
        .with_pending_connections(max_connections);
    config = match auth_token {
        Some(token) => config.with_auth_token(token),
        None => {
            tracing::warn!(
                "--no-auth: requests WITHOUT a token are accepted. Any program running on this \
                 machine can move the coins in these wallets; the Host and Origin checks still \
                 refuse web pages. Use it only where you alone run programs."
            );
            config.without_auth()
        }
    };
    let sign_in_file = token::sign_in_path(&data_dir);
    config = config.with_sign_in(page_base_url(addrs[0]), Some(sign_in_file.clone()));
    let data_dir_shown = service.data_dir().display().to_string();
    let api = cloudcoin_api::Api::new(service, config);
    // Written before the address is logged, so whoever sees the log finds the file.
    if let Some(url) = api.sign_in_url() {
        let path = sign_in_file.clone();
        tokio::task::spawn_blocking(move || token::write_private(&path, &url))
            .await
            .context("the sign-in file thread failed")??;
    }
    tracing::info!("listening on http://{}, data dir {data_dir_shown}", addrs[0]);
    let address_file = args.address_file.clone();
    let bound = addrs.clone();
    tokio::task::spawn_blocking(move || announce(&bound, address_file.as_deref()))
        .await
        .context("the start-up thread failed")??;
    for addr in &addrs[1..] {
        tracing::info!("also listening on http://{addr}");
    }
    if let Some(url) = api.sign_in_url() {
        tracing::info!(
            "wallet page: open {url} in a browser on this machine (the link works once; \
             `cloudcoin open` gives a new one; it is also in {})",
            sign_in_file.display()
        );
    }
    api.serve_listeners(listeners, shutdown_signal()).await?;
    Ok(())
}

/// Tells a supervisor where the server listens: each bound address (`127.0.0.1:43125`) on a line
/// of its own on standard output, the only thing the server prints there, and the same lines in
/// `address_file` when given. The listeners are bound already, so a client that connects at once
/// waits in the backlog until the server accepts.
fn announce(
    addrs: &[std::net::SocketAddr],
    address_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let text: String = addrs.iter().map(|a| format!("{a}\n")).collect();
    if let Some(path) = address_file {
        write_whole(path, text.as_bytes())
            .with_context(|| format!("cannot write the address file {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("cannot write to stdout")
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so that a reader
/// sees no file or the whole file.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the path names no file"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `http://host:port` as a browser on this machine reaches `addr`: a wildcard address becomes
/// `127.0.0.1` (or `[::1]`).
fn page_base_url(addr: std::net::SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}")
}

/// The RAIDA settings from the flags, when `--raida-list` is given.
async fn raida_config(args: &Args) -> anyhow::Result<Option<cloudcoin_raida::Config>> {
    let Some(path) = args.raida_list.clone() else { return Ok(None) };
    let shown = path.display().to_string();
    let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
        .await
        .context("the start-up thread failed")?
        .with_context(|| format!("cannot read the RAIDA list {shown}"))?;
    let list = cloudcoin_raida::AddressList::parse(&text)
        .with_context(|| format!("the RAIDA list {shown} is not 25 lines of host:port"))?;
    let mut config = cloudcoin_raida::Config::new(list);
    if let Some(id) = args.raida_coin_id {
        config.coin_id = id;
    }
    if let Some(counter) = args.raida_response_counter {
        config.response_counter = match counter {
            cli::Counter::Auto => cloudcoin_raida::ResponseCounter::Auto,
            cli::Counter::Restart => cloudcoin_raida::ResponseCounter::Restart,
            cli::Counter::Continue => cloudcoin_raida::ResponseCounter::Continue,
        };
    }
    if let Some(ms) = args.raida_timeout_ms {
        config.timeout = Duration::from_millis(ms);
    }
    if let Some(ms) = args.raida_connect_timeout_ms {
        config.connect_timeout = Duration::from_millis(ms);
    }
    if let Some(path) = args.raida_key_coin.clone() {
        config.key_coin = Some(key_coin(path).await?);
    }
    config.validate().context("the RAIDA settings are not usable")?;
    Ok(Some(config))
}

/// The key coin of `--raida-key-coin`: the one coin the file holds.
async fn key_coin(path: PathBuf) -> anyhow::Result<cloudcoin_raida::KeyCoin> {
    let shown = path.display().to_string();
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .context("the start-up thread failed")?
        .with_context(|| format!("cannot read the key coin file {shown}"))?;
    let coins = cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default())
        .with_context(|| format!("the key coin file {shown} is not a coin file"))?;
    match coins.as_slice() {
        [coin] => {
            tracing::info!(coin = %coin.id(), "RAIDA requests are encrypted with the key coin (type 1)");
            Ok(cloudcoin_raida::KeyCoin::from_coin(coin))
        }
        other => anyhow::bail!(
            "the key coin file {shown} holds {} coins; give a file holding exactly one",
            other.len()
        ),
    }
}

/// `$XDG_DATA_HOME/cloudcoin-server`, else `~/.local/share/cloudcoin-server`.
fn default_data_dir() -> anyhow::Result<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("cloudcoin-server"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/cloudcoin-server")),
        None => bail!("neither XDG_DATA_HOME nor HOME is set; pass --data-dir"),
    }
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
        () = term => tracing::info!("SIGTERM received; shutting down"),
    }
}
