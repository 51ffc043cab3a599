//! Finding a local server's API token the way the server stores it: the file
//! `{data dir}/.cloudcoin/api-token`, in the server's default data directory unless told
//! otherwise.

use std::path::{Path, PathBuf};

/// The shortest token the server accepts in its token file.
const MIN_TOKEN_LEN: usize = 16;

/// Why no token could be read from a token file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Neither `XDG_DATA_HOME` nor `HOME` is set, so there is no default data directory.
    #[error("no default data directory: neither XDG_DATA_HOME nor HOME is set")]
    NoDataDir,
    /// The token file could not be read.
    #[error("cannot read the API token file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The token file holds no usable token.
    #[error(
        "the API token file {} holds fewer than {MIN_TOKEN_LEN} characters",
        path.display()
    )]
    TooShort {
        /// The file.
        path: PathBuf,
    },
}

/// The server's default data directory: `$XDG_DATA_HOME/cloudcoin-server`, else
/// `$HOME/.local/share/cloudcoin-server` (the server's `--data-dir` default). Empty variables
/// count as unset.
///
/// ```
/// if let Ok(dir) = cloudcoin_client::default_data_dir() {
///     assert!(dir.ends_with("cloudcoin-server"));
/// }
/// ```
pub fn default_data_dir() -> Result<PathBuf, TokenError> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(xdg).join("cloudcoin-server"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/cloudcoin-server")),
        None => Err(TokenError::NoDataDir),
    }
}

/// Where a server keeps its generated API token in `data_dir`.
///
/// ```
/// use std::path::Path;
/// let file = cloudcoin_client::token_file(Path::new("/srv/cloudcoin"));
/// assert_eq!(file, Path::new("/srv/cloudcoin/.cloudcoin/api-token"));
/// ```
pub fn token_file(data_dir: &Path) -> PathBuf {
    data_dir.join(".cloudcoin").join("api-token")
}

/// Reads a token file (surrounding whitespace trimmed). A blocking read of a small file.
///
/// ```no_run
/// let dir = cloudcoin_client::default_data_dir()?;
/// let token = cloudcoin_client::read_token_file(&cloudcoin_client::token_file(&dir))?;
/// # Ok::<(), cloudcoin_client::TokenError>(())
/// ```
pub fn read_token_file(path: &Path) -> Result<String, TokenError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| TokenError::Read { path: path.to_owned(), source })?;
    let token = text.trim();
    if token.len() < MIN_TOKEN_LEN {
        return Err(TokenError::TooShort { path: path.to_owned() });
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_is_read_trimmed_and_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = token_file(dir.path());
        let e = read_token_file(&file).expect_err("missing");
        assert!(matches!(&e, TokenError::Read { path, .. } if path == &file), "{e}");
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, "0123456789abcdef0123\n").expect("write");
        assert_eq!(read_token_file(&file).expect("read"), "0123456789abcdef0123");
        std::fs::write(&file, "short\n").expect("write");
        assert!(matches!(read_token_file(&file), Err(TokenError::TooShort { .. })));
    }
}
