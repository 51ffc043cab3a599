//! `cloudcoin open`: the wallet page's one-time sign-in link, printed, and opened in a browser
//! when this session has a desktop and `xdg-open`.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use cloudcoin_client::default_data_dir;

use crate::exit::{Failure, Status};

/// Where the server keeps the current sign-in link, beside its token.
fn sign_in_file(data_dir: &Path) -> PathBuf {
    data_dir.join(".cloudcoin").join("sign-in-url")
}

pub(crate) fn open(data_dir: Option<&Path>, print_only: bool) -> Result<(), Failure> {
    let dir = match data_dir {
        Some(dir) => dir.to_owned(),
        None => default_data_dir().map_err(|e| {
            Failure::usage(format!("cannot find the server's data directory: {e}; pass --data-dir"))
        })?,
    };
    let file = sign_in_file(&dir);
    let url = match std::fs::read_to_string(&file) {
        Ok(text) => text.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::new(
                Status::Connection,
                format!(
                    "no sign-in link in {}: start the server first (`cloudcoin-server` in a \
                     terminal of its own), or pass --data-dir if it uses another data directory",
                    dir.display()
                ),
            ));
        }
        Err(e) => {
            return Err(Failure::usage(format!("cannot read {}: {e}", file.display())));
        }
    };
    let Some(host) = url.strip_prefix("http://").and_then(|rest| rest.split('/').next()) else {
        return Err(Failure::usage(format!("{} holds no http:// link", file.display())));
    };
    if !answers(host) {
        return Err(Failure::new(
            Status::Connection,
            format!(
                "no server at http://{host}, which wrote the sign-in link in {}: start it with \
                 `cloudcoin-server` in a terminal of its own",
                dir.display()
            ),
        ));
    }
    let opened = !print_only && has_desktop() && xdg_open(&url);
    let mut out = std::io::stdout().lock();
    let text = if opened {
        format!("Opened the wallet page in your browser. If it did not appear, open:\n  {url}\n")
    } else {
        format!(
            "Open this link in a browser on this computer (it works once; run `cloudcoin open` \
             again for a new one):\n  {url}\n"
        )
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::new(Status::Failed, format!("cannot write the link: {e}")))
}

/// Whether something accepts connections at the address of `server` (`http://127.0.0.1:8006`).
pub(crate) fn server_answers(server: &str) -> bool {
    let rest = server.strip_prefix("http://").or_else(|| server.strip_prefix("https://"));
    let host = rest.unwrap_or(server).split('/').next().unwrap_or("");
    let with_port = if host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        host.to_owned()
    } else if server.starts_with("https://") {
        format!("{host}:443")
    } else {
        format!("{host}:80")
    };
    answers(&with_port)
}

/// Whether something accepts connections at `host` (`127.0.0.1:8006`).
fn answers(host: &str) -> bool {
    let Ok(addrs) = host.to_socket_addrs() else { return false };
    addrs.into_iter().any(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok())
}

fn has_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// Starts `xdg-open url`; whether it could be started.
fn xdg_open(url: &str) -> bool {
    Command::new("xdg-open")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}
