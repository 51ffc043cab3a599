//! The API token file, in the manner of Bitcoin Core's cookie: a random token the server creates
//! in its data directory, readable only by its owner, that local clients read to authenticate.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Where the token file lives in a data directory.
pub(crate) fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join(".cloudcoin").join("api-token")
}

/// Where the wallet page's current sign-in URL is kept, beside the token (mode 0600).
pub(crate) fn sign_in_path(data_dir: &Path) -> PathBuf {
    data_dir.join(".cloudcoin").join("sign-in-url")
}

/// Writes `text` and a newline to `path`, readable by its owner only, through a temporary file
/// and a rename (a reader sees the old text or the new).
pub(crate) fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().context("the file has a parent folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path))
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads the token file, creating it with a fresh random token (mode 0600) if it is missing.
pub(crate) fn read_or_create(path: &Path) -> anyhow::Result<String> {
    match fs::read_to_string(path) {
        Ok(text) => return check(path, text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("reading the token file {}", path.display()));
        }
    }
    let dir = path.parent().context("the token file has a parent folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let token = random_token()?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating the token file {}", path.display()))?;
    file.write_all(token.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the token file {}", path.display()))?;
    Ok(token)
}

fn check(path: &Path, text: String) -> anyhow::Result<String> {
    let token = text.trim().to_owned();
    if token.len() < 16 {
        bail!(
            "the token file {} holds fewer than 16 characters; delete it to get a new one",
            path.display()
        );
    }
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the token file is readable by others; chmod 600 it");
    }
    Ok(token)
}

/// 32 random bytes from the kernel, as 64 hex digits.
fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading random bytes from /dev/urandom")?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = token_path(dir.path());
        let first = read_or_create(&path).expect("created");
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        let mode = fs::metadata(&path).expect("exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(read_or_create(&path).expect("read back"), first);
        let other = read_or_create(&token_path(&dir.path().join("x"))).expect("second");
        assert_ne!(other, first);
    }

    #[test]
    fn a_short_token_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("api-token");
        fs::write(&path, "short\n").expect("write");
        assert!(read_or_create(&path).is_err());
    }
}
