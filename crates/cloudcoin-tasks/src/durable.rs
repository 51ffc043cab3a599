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
    write_whole(path, bytes)?;
    sync_dir(parent(path)?)
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it and renames it over `path`.
fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        remove_if_exists(&tmp);
    }
    result
}

/// Writes `bytes` to `path` as [`write_atomic`] does (readers see the old or the new content,
/// never a mix), but syncs the file and its folder at the same time, after the rename, rather
/// than one after the other: once it returns both are on disk, and until then a power cut may
/// leave the name with a torn content. Only for a file that a journal record, removed after
/// this returns, makes recovery write again (an export's receipt): a torn one is rewritten.
pub(crate) fn write_redone_until_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        fs::rename(&tmp, path)?;
        Ok(f)
    })();
    let file = match written {
        Ok(file) => file,
        Err(e) => {
            remove_if_exists(&tmp);
            return Err(e);
        }
    };
    let folder = File::open(dir)?;
    std::thread::scope(|scope| {
        let synced = std::thread::Builder::new()
            .name("folder-fsync".into())
            .spawn_scoped(scope, || folder.sync_all());
        let here = file.sync_all();
        let there = match synced {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => folder.sync_all(),
        };
        here.and(there)
    })
}

/// Gives the complete, synced file `temp` the name `final_path` without replacing anything there
/// (a hard link, which fails if the name exists, then the temporary name is removed).
///
/// Once the link exists the file is published, and that is never reported as a failure: if the
/// temporary name cannot be removed, that is logged and left for the caller's clean-up (the
/// import retries it, and start-up removes what is left).
pub(crate) fn publish_no_replace(temp: &Path, final_path: &Path) -> io::Result<()> {
    fs::hard_link(temp, final_path)?;
    let removed = crate::fault::point(crate::fault::FaultPoint::ImportUnlinkTemp)
        .and_then(|()| fs::remove_file(temp));
    match removed {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(
            temp = %temp.display(), published = %final_path.display(), error = %e,
            "published, but the temporary name cannot be removed yet; it is removed later"
        ),
    }
    Ok(())
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
    hex::encode(digest)
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

/// A folder of small JSON records, one file `{id}.json` each, every write atomic
/// ([`write_atomic`]). The journal and the task records are both kept this way.
#[derive(Debug, Clone)]
pub(crate) struct RecordFolder<T> {
    dir: PathBuf,
    records: std::marker::PhantomData<fn() -> T>,
}

/// A record file that could not be read, and why.
pub(crate) type Unreadable = (PathBuf, io::Error);

impl<T: serde::Serialize + serde::de::DeserializeOwned> RecordFolder<T> {
    pub(crate) fn new(dir: PathBuf) -> RecordFolder<T> {
        RecordFolder { dir, records: std::marker::PhantomData }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes (or replaces) the record `id` durably.
    pub(crate) fn write(&self, id: &str, record: &T) -> io::Result<()> {
        let bytes = serde_json::to_vec(record).map_err(io::Error::other)?;
        write_atomic(&self.path(id), &bytes)
    }

    /// Removes the record `id` (gone already is fine) without syncing the folder: after a power
    /// cut the record may be back, until the next synced write in the folder.
    pub(crate) fn remove_unsynced(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reads the record `id`, if it is there and readable.
    #[cfg(test)]
    pub(crate) fn read(&self, id: &str) -> Option<T> {
        let bytes = fs::read(self.path(id)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Removes the record `id` (gone already is fine) and syncs the folder.
    pub(crate) fn remove(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.path(id)) {
            Ok(()) => sync_dir(&self.dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every record, in file-name order; one that cannot be read comes back as its path and why.
    /// Hidden files (the temporaries of [`write_atomic`]) are skipped.
    pub(crate) fn list(&self) -> io::Result<Vec<Result<T, Unreadable>>> {
        let mut paths: Vec<PathBuf> = fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| {
                fs::read(&p)
                    .and_then(|b| serde_json::from_slice::<T>(&b).map_err(io::Error::from))
                    .map_err(|e| (p, e))
            })
            .collect())
    }
}
