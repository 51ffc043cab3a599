//! Durable file operations: fsync, atomic replace of small records, and publishing a file under a
//! name without ever replacing an existing one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Flushes a directory's entries (new names, renames, removals) to disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `bytes` to `path` atomically: a temporary sibling, fsync, rename over `path`, fsync of
/// the directory. Readers see the old or the new content, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        remove_if_exists(&tmp);
    }
    result
}

/// Gives the complete, synced file `temp` the name `final_path` without replacing anything there
/// (a hard link, which fails if the name exists, then the temporary name is removed).
pub(crate) fn publish_no_replace(temp: &Path, final_path: &Path) -> io::Result<()> {
    fs::hard_link(temp, final_path)?;
    fs::remove_file(temp)
}

/// Publishes `temp` in `dir` under `base`, or `base (2)`, `base (3)`, … — the first free name —
/// calling `before_link(name)` before each attempt (to journal it). Returns the path used.
pub(crate) fn publish_unique(
    temp: &Path,
    dir: &Path,
    base: &str,
    mut before_link: impl FnMut(&str) -> io::Result<()>,
) -> io::Result<PathBuf> {
    loop {
        let name =
            cloudcoin_domain::unique_file_name(base, |n| fs::symlink_metadata(dir.join(n)).is_ok());
        before_link(&name)?;
        let target = dir.join(&name);
        match publish_no_replace(temp, &target) {
            Ok(()) => return Ok(target),
            // Taken between the check and the link: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes a file if it is there; failures are logged, not returned (used when cleaning up).
pub(crate) fn remove_if_exists(path: &Path) {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot remove a temporary file")
        }
    }
}

/// The folder holding `path`.
pub(crate) fn parent(path: &Path) -> io::Result<&Path> {
    path.parent().ok_or_else(|| io::Error::other(format!("{} has no parent", path.display())))
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An error and its sources, joined with `: `.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
