//! A directory held open by handle. Every file operation in it names the file relative to the
//! handle, never by path, so a path component swapped for a symbolic link after the directory was
//! opened cannot send a file anywhere else. No operation here follows a symbolic link in the name
//! it is given, and none replaces an existing name.

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};

/// An open directory and the path it was opened at (for messages and the journal).
#[derive(Debug)]
pub(crate) struct Dir {
    path: PathBuf,
    handle: File,
}

impl Dir {
    /// Opens the directory at the absolute `path` one component at a time, none of them followed
    /// if it is a symbolic link (`ELOOP`/`ENOTDIR`): the handle is the directory that `path`
    /// names without any link.
    pub(crate) fn open_nofollow(path: &Path) -> io::Result<Dir> {
        let not_plain = || {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a plain absolute path", path.display()),
            )
        };
        if !path.is_absolute() {
            return Err(not_plain());
        }
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY;
        let mut fd = rustix::fs::openat(CWD, "/", flags, Mode::empty())?;
        for component in path.components() {
            match component {
                Component::RootDir => {}
                Component::Normal(name) => {
                    fd = rustix::fs::openat(&fd, name, flags, Mode::empty())?;
                }
                _ => return Err(not_plain()),
            }
        }
        Ok(Dir { path: path.to_path_buf(), handle: File::from(fd) })
    }

    /// Opens the directory at `path` as it is reached (a symbolic link is followed): for the
    /// wallet's own folders, which may be links to another disk.
    pub(crate) fn open(path: &Path) -> io::Result<Dir> {
        let flags = OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::RDONLY;
        let fd = rustix::fs::open(path, flags, Mode::empty())?;
        Ok(Dir { path: path.to_path_buf(), handle: File::from(fd) })
    }

    /// The path the directory was opened at.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the open directory is the one `meta` describes (same device and inode).
    pub(crate) fn is(&self, meta: &Metadata) -> io::Result<bool> {
        let own = self.handle.metadata()?;
        Ok(own.dev() == meta.dev() && own.ino() == meta.ino())
    }

    /// The device and inode of the open directory.
    pub(crate) fn identity(&self) -> io::Result<Identity> {
        Ok(Identity::of(&self.handle.metadata()?))
    }

    /// The identities of the open directory and of each directory above it, walking `..` from
    /// the handle (not the path) up to the root: where the directory really is, whatever path
    /// or mount it was reached through.
    pub(crate) fn ancestry(&self) -> io::Result<Vec<Identity>> {
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY;
        let mut chain = vec![self.identity()?];
        let mut dir = File::from(rustix::fs::openat(&self.handle, "..", flags, Mode::empty())?);
        // A bound on the depth, in case a file system reports a cycle.
        for _ in 0..4096 {
            let id = Identity::of(&dir.metadata()?);
            if chain.last() == Some(&id) {
                break; // `..` of the root is the root
            }
            chain.push(id);
            dir = File::from(rustix::fs::openat(&dir, "..", flags, Mode::empty())?);
        }
        Ok(chain)
    }

    /// Creates `name` for writing; fails if anything (a symbolic link included) has that name.
    pub(crate) fn create_new(&self, name: &str, mode: u32) -> io::Result<File> {
        let flags =
            OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.handle, name, flags, Mode::from_raw_mode(mode))?;
        Ok(File::from(fd))
    }

    /// Opens the file `name` for reading, refusing a symbolic link.
    pub(crate) fn open_read(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.handle, name, flags, Mode::empty())?;
        Ok(File::from(fd))
    }

    /// The type of what is called `name` (a symbolic link is not followed), or `None` if
    /// nothing is.
    pub(crate) fn entry_type(&self, name: &str) -> io::Result<Option<FileType>> {
        match rustix::fs::statat(&self.handle, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(FileType::from_raw_mode(stat.st_mode))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// How many names the file `name` has (a symbolic link is not followed), or `None` if
    /// nothing is called `name`.
    pub(crate) fn link_count(&self, name: &str) -> io::Result<Option<u64>> {
        match rustix::fs::statat(&self.handle, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(stat.st_nlink)),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the file `from` the second name `to`; fails if `to` exists, even as a symbolic
    /// link.
    #[cfg(test)]
    pub(crate) fn link(&self, from: &str, to: &str) -> io::Result<()> {
        Ok(rustix::fs::linkat(&self.handle, from, &self.handle, to, AtFlags::empty())?)
    }

    /// Removes the name `name` (a symbolic link itself, never its target).
    pub(crate) fn remove(&self, name: &str) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.handle, name, AtFlags::empty())?)
    }

    /// Removes `name`; that it is not there counts as removed.
    pub(crate) fn remove_checked(&self, name: &str) -> io::Result<()> {
        match self.remove(name) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes `name` if it is there; failures are logged, not returned (used when cleaning up).
    pub(crate) fn remove_if_exists(&self, name: &str) {
        match self.remove(name) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(folder = %self.path.display(), file = name, error = %e, "cannot remove a temporary file");
            }
        }
    }

    /// Publishes the complete, synced file `staged` under `base`, or `base (2)`, `base (3)`, … —
    /// the first free name — calling `before_link(name, how)` before each attempt (to journal
    /// it). Nothing is ever replaced. A named temporary file is renamed (`RENAME_NOREPLACE`), so
    /// it is gone exactly when the final name exists; where the file system lacks that (NFS
    /// answers `EINVAL`), `before_link` is called again with [`Publication::LinkThenUnlink`]
    /// before the file is linked under the final name and its temporary name removed. That
    /// removal can fail after the link: the file is published, and [`Published::temp_left`]
    /// says why its temporary name is still there (the caller must not forget it).
    pub(crate) fn publish_unique(
        &self,
        staged: &Staged,
        base: &str,
        mut before_link: impl FnMut(&str, Publication) -> io::Result<()>,
    ) -> io::Result<Published> {
        loop {
            // A name that cannot be probed counts as free: the link then reports the real error.
            let name = cloudcoin_domain::unique_file_name(base, |n| {
                self.entry_type(n).is_ok_and(|t| t.is_some())
            });
            before_link(&name, Publication::Atomic)?;
            let published = match staged {
                Staged::Unnamed(file) => self.link_unnamed(file, &name).map(|()| None),
                Staged::Named(temp) => self.rename_no_replace(temp, &name, &mut before_link),
            };
            match published {
                Ok(temp_left) => return Ok(Published { name, temp_left }),
                // Taken between the check and the link: try the next name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Renames `from` to `to` in this directory, failing if `to` exists; where the file system
    /// cannot rename without replacing, links `to` (after `before_link(to, LinkThenUnlink)`) and
    /// removes `from`. Returns why `from` is still there after a link, if it is.
    fn rename_no_replace(
        &self,
        from: &str,
        to: &str,
        before_link: &mut impl FnMut(&str, Publication) -> io::Result<()>,
    ) -> io::Result<Option<io::Error>> {
        let handle = self.handle.as_fd();
        let renamed = rename_no_replace_at(
            handle,
            from,
            handle,
            to,
            // From the link on, both names may exist: the journal must say so first, since
            // the temporary name being there then proves nothing about the final one.
            || before_link(to, Publication::LinkThenUnlink),
            || {
                // A crash point only: nothing between the two calls can fail.
                let _ = crate::fault::point("publish:after_link");
                crate::fault::point("publish:unlink_temp")
            },
        )?;
        Ok(match renamed {
            Renamed::Atomic => None,
            Renamed::Linked(removed) => removed,
        })
    }

    /// Creates a file with no name in this directory (`O_TMPFILE`), open for reading and
    /// writing: until [`Dir::publish_unique`] links it, nobody can open it, and if the process
    /// dies or the file is dropped first, it is gone. `None` where the file system cannot do
    /// it (FAT sticks, some network file systems): the caller falls back to a named temporary.
    pub(crate) fn create_unnamed(&self, mode: u32) -> io::Result<Option<File>> {
        if crate::fault::no_unnamed_files() {
            return Ok(None);
        }
        let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.handle, ".", flags, Mode::from_raw_mode(mode)) {
            Ok(fd) => Ok(Some(File::from(fd))),
            Err(
                rustix::io::Errno::OPNOTSUPP
                | rustix::io::Errno::ISDIR
                | rustix::io::Errno::INVAL
                | rustix::io::Errno::NOENT,
            ) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the complete, durable unnamed file `file` the name `base`, or `base (2)`, … — the
    /// first free one (tried by linking: a taken name fails the link, nothing is replaced).
    /// Returns the name.
    pub(crate) fn link_unnamed_unique(&self, file: &File, base: &str) -> io::Result<String> {
        let mut name = base.to_owned();
        loop {
            match self.link_unnamed(file, &name) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    name = cloudcoin_domain::unique_file_name(base, |n| {
                        self.entry_type(n).is_ok_and(|t| t.is_some())
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Gives the unnamed file `file` (from [`Dir::create_unnamed`], or a read-only reopening of
    /// it) the name `name`; fails if the name exists.
    fn link_unnamed(&self, file: &File, name: &str) -> io::Result<()> {
        use rustix::io::Errno;
        use std::sync::atomic::{AtomicBool, Ordering};
        // The descriptor itself, where the kernel allows it (with CAP_DAC_READ_SEARCH, and on
        // recent kernels for the process that opened the file): no path to look up. Refused
        // once, it is not tried again.
        static DESCRIPTOR_REFUSED: AtomicBool = AtomicBool::new(false);
        if !DESCRIPTOR_REFUSED.load(Ordering::Relaxed) {
            match rustix::fs::linkat(file, "", &self.handle, name, AtFlags::EMPTY_PATH) {
                Err(Errno::NOENT | Errno::PERM) => {
                    DESCRIPTOR_REFUSED.store(true, Ordering::Relaxed)
                }
                other => return Ok(other?),
            }
        }
        let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
        Ok(rustix::fs::linkat(CWD, &proc_path, &self.handle, name, AtFlags::SYMLINK_FOLLOW)?)
    }

    /// Where the open directory is now, as the kernel knows it (`/proc/self/fd`): the path a
    /// file made through the handle really has, even if the folder was moved or a path
    /// component swapped since it was opened. The path it was opened at where that cannot be
    /// told (no `/proc`, or the folder was deleted).
    pub(crate) fn real_path(&self) -> PathBuf {
        match std::fs::read_link(format!("/proc/self/fd/{}", self.handle.as_raw_fd())) {
            Ok(p) if p.is_absolute() && !p.to_string_lossy().ends_with(" (deleted)") => p,
            _ => self.path.clone(),
        }
    }

    /// Whether `path`, looked up afresh (its last component not followed), is the file `name` of
    /// this directory (same device and inode). Not so when the folder was moved or its mount
    /// detached (`umount -l`) since the path was taken: then whatever is at `path`, or nothing,
    /// is not the file made here.
    pub(crate) fn reaches(&self, name: &str, path: &Path) -> io::Result<bool> {
        let made = rustix::fs::statat(&self.handle, name, AtFlags::SYMLINK_NOFOLLOW)?;
        match std::fs::symlink_metadata(path) {
            Ok(seen) => Ok(seen.dev() == made.st_dev && seen.ino() == made.st_ino),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The path to record for a later start to find the folder again: where it is now
    /// ([`Dir::real_path`]) while that path reaches it; else the path it was opened at. A mount
    /// lazily detached (`umount -l`) is known to the kernel as `/`, which reaches nothing of it;
    /// the path the user gave is where it comes back when it is mounted again.
    pub(crate) fn journal_path(&self) -> PathBuf {
        let real = self.real_path();
        match std::fs::metadata(&real) {
            Ok(meta) if self.is(&meta).unwrap_or(false) => real,
            _ => self.path.clone(),
        }
    }

    /// Flushes the directory's entries (new names, removals) to disk.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.handle.sync_all()
    }

    /// Flushes everything written to the file system holding the directory (`syncfs`).
    pub(crate) fn sync_file_system(&self) -> io::Result<()> {
        Ok(rustix::fs::syncfs(&self.handle)?)
    }
}

/// How [`rename_no_replace_at`] gave a file its new name.
#[derive(Debug)]
pub(crate) enum Renamed {
    /// In one step, `renameat2(RENAME_NOREPLACE)`: the old name is gone.
    Atomic,
    /// By `link` then `unlink`, where the file system refuses `RENAME_NOREPLACE`; why the old
    /// name is still there, if its removal failed (the file then has both names).
    Linked(Option<io::Error>),
}

/// Gives the file `from` of the directory `source` the name `to` in the directory `dest`,
/// failing (`AlreadyExists`) rather than replace anything there, a symbolic link included. The
/// one rename fallback of the crate: where the file system refuses `RENAME_NOREPLACE` (NFS
/// answers `EINVAL`; `CLOUDCOIN_FAULT_NO_RENAME2` in tests), `before_link` is called, the file
/// is linked under `to` (a link never replaces), `after_link` is called, and `from` is removed
/// — unless `after_link` failed; a name `from` already gone counts as removed. Between the link
/// and the removal the file has both names, so a crash there leaves both: the caller says what
/// that means for it (`before_link` journals it; a wallet's scan settles two files of one coin).
pub(crate) fn rename_no_replace_at(
    source: BorrowedFd<'_>,
    from: &str,
    dest: BorrowedFd<'_>,
    to: &str,
    before_link: impl FnOnce() -> io::Result<()>,
    after_link: impl FnOnce() -> io::Result<()>,
) -> io::Result<Renamed> {
    use rustix::io::Errno;
    let renamed = if crate::fault::no_rename_noreplace() {
        Err(Errno::INVAL)
    } else {
        rustix::fs::renameat_with(source, from, dest, to, rustix::fs::RenameFlags::NOREPLACE)
    };
    match renamed {
        Ok(()) => Ok(Renamed::Atomic),
        Err(Errno::INVAL | Errno::NOSYS) => {
            before_link()?;
            rustix::fs::linkat(source, from, dest, to, AtFlags::empty())?;
            let removed = after_link().and_then(|()| {
                match rustix::fs::unlinkat(source, from, AtFlags::empty()) {
                    // Removed by someone else meanwhile: moved all the same.
                    Ok(()) | Err(Errno::NOENT) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            });
            Ok(Renamed::Linked(removed.err()))
        }
        Err(e) => Err(e.into()),
    }
}

/// How [`Dir::publish_unique`] is about to give a file its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Publication {
    /// In one step: an unnamed file linked, or a named one renamed without replacing. A named
    /// temporary file still there afterwards was never published.
    Atomic,
    /// `link(temp, final)` then `unlink(temp)`, where the file system cannot rename without
    /// replacing: between the two, both names exist.
    LinkThenUnlink,
}

/// A file [`Dir::publish_unique`] published.
#[derive(Debug)]
pub(crate) struct Published {
    /// The final name.
    pub(crate) name: String,
    /// Why the temporary name is still there after a link (the file is published).
    pub(crate) temp_left: Option<io::Error>,
}

/// A complete output file waiting for its final name.
#[derive(Debug)]
pub(crate) enum Staged {
    /// A file with no name (`O_TMPFILE`), held open.
    Unnamed(File),
    /// A file under this temporary name in the folder.
    Named(String),
}

/// A second, read-only handle on the open file `file` (through `/proc/self/fd`), so the
/// writable one can be closed.
pub(crate) fn reopen_read_only(file: &File) -> io::Result<File> {
    let path = format!("/proc/self/fd/{}", file.as_raw_fd());
    let fd = rustix::fs::openat(CWD, &path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    Ok(File::from(fd))
}

/// The whole content of `file`, read from its start whatever its offset.
#[cfg(test)]
pub(crate) fn read_all(file: &File) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let len = usize::try_from(file.metadata()?.len()).map_err(io::Error::other)?;
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, 0)?;
    Ok(bytes)
}

/// A directory's device and inode: the same directory has the same identity through every path
/// and every mount (a bind mount included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Identity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl Identity {
    /// The identity of what `meta` describes.
    pub(crate) fn of(meta: &Metadata) -> Identity {
        Identity { dev: meta.dev(), ino: meta.ino() }
    }
}

/// Flushes everything written to the file system that holds `dir` (`syncfs`): one call makes
/// any number of files written there durable.
pub(crate) fn sync_file_system(dir: &Path) -> io::Result<()> {
    let handle = File::open(dir)?;
    Ok(rustix::fs::syncfs(&handle)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::{Read, Write};
    use std::os::unix::fs::symlink;

    fn base() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let base = fs::canonicalize(tmp.path()).expect("canonical");
        (tmp, base)
    }

    #[test]
    fn a_link_anywhere_on_the_path_is_not_followed() {
        let (_tmp, base) = base();
        fs::create_dir_all(base.join("real/sub")).expect("mkdir");
        symlink(base.join("real"), base.join("link")).expect("symlink");
        assert!(Dir::open_nofollow(&base.join("real/sub")).is_ok());
        for path in [base.join("link"), base.join("link/sub")] {
            let e = Dir::open_nofollow(&path).expect_err("a link on the way");
            assert!(matches!(e.raw_os_error(), Some(40 | 20)), "{e}"); // ELOOP or ENOTDIR
        }
        for path in [Path::new("real"), &base.join("real/../real")] {
            let e = Dir::open_nofollow(path).expect_err("not a plain absolute path");
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{}", path.display());
        }
    }

    #[test]
    fn a_folder_swapped_after_opening_keeps_its_files() {
        let (_tmp, base) = base();
        let out = base.join("out");
        let outside = base.join("outside");
        fs::create_dir(&out).expect("mkdir");
        fs::create_dir(&outside).expect("mkdir");
        let dir = Dir::open_nofollow(&out).expect("open");
        assert!(dir.is(&fs::metadata(&out).expect("meta")).expect("stat"));
        // The folder is moved away and a link to elsewhere takes its place.
        fs::rename(&out, base.join("moved")).expect("rename");
        symlink(&outside, &out).expect("symlink");
        assert!(!dir.is(&fs::metadata(&out).expect("meta")).expect("stat"));

        let mut f = dir.create_new(".t.partial", 0o644).expect("create");
        f.write_all(b"coins").expect("write");
        f.sync_all().expect("sync");
        assert_eq!(
            dir.publish_unique(&Staged::Named(".t.partial".into()), "a.bin", |_, _| Ok(()))
                .expect("publish")
                .name,
            "a.bin"
        );
        // An unnamed file, linked through the same handle.
        let mut f = dir.create_unnamed(0o600).expect("create").expect("O_TMPFILE works here");
        f.write_all(b"more coins").expect("write");
        f.sync_all().expect("sync");
        let reader = reopen_read_only(&f).expect("reopen");
        drop(f);
        assert_eq!(read_all(&reader).expect("read"), b"more coins");
        assert_eq!(fs::read_dir(base.join("moved")).expect("list").count(), 1, "no name yet");
        let staged = Staged::Unnamed(reader);
        assert_eq!(
            dir.publish_unique(&staged, "a.bin", |_, _| Ok(())).expect("publish").name,
            "a (2).bin"
        );
        dir.sync().expect("sync dir");
        assert_eq!(fs::read(base.join("moved/a.bin")).expect("in the real folder"), b"coins");
        assert_eq!(fs::read(base.join("moved/a (2).bin")).expect("linked"), b"more coins");
        assert_eq!(fs::read_dir(&outside).expect("list").count(), 0, "nothing escaped");
        assert_eq!(fs::read_dir(base.join("moved")).expect("list").count(), 2, "temp renamed");
        // The handle knows where the folder really is now.
        assert_eq!(dir.real_path(), base.join("moved"));
        assert_eq!(dir.path(), out);
    }

    #[test]
    fn an_unnamed_file_dropped_before_its_link_leaves_nothing() {
        let (_tmp, base) = base();
        let dir = Dir::open_nofollow(&base).expect("open");
        let mut f = dir.create_unnamed(0o600).expect("create").expect("O_TMPFILE works here");
        f.write_all(b"coins").expect("write");
        f.sync_all().expect("sync");
        drop(f);
        assert_eq!(fs::read_dir(&base).expect("list").count(), 0);
        assert_eq!(dir.ancestry().expect("ancestry").first(), Some(&dir.identity().expect("id")));
        assert!(dir.ancestry().expect("ancestry").len() >= 2, "the root is reached");
    }

    #[test]
    fn nothing_is_replaced_or_written_through_a_link() {
        let (_tmp, base) = base();
        let victim = base.join("victim");
        fs::write(&victim, b"keep").expect("write");
        let dir = Dir::open_nofollow(&base).expect("open");
        symlink(&victim, base.join("a.bin")).expect("symlink");
        fs::write(base.join("a (2).bin"), b"other").expect("write");

        let e = dir.create_new("a.bin", 0o644).expect_err("a link has the name");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(dir.open_read("a.bin").is_err(), "a link is not opened");
        assert_eq!(dir.entry_type("a.bin").expect("stat"), Some(FileType::Symlink));
        assert_eq!(dir.entry_type("a (2).bin").expect("stat"), Some(FileType::RegularFile));
        assert_eq!(dir.entry_type("none").expect("stat"), None);

        dir.create_new(".t", 0o600).expect("create");
        let e = dir.link(".t", "a.bin").expect_err("taken by a link");
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        let mut tried = Vec::new();
        let name = dir
            .publish_unique(&Staged::Named(".t".into()), "a.bin", |n, _| {
                tried.push(n.to_owned());
                Ok(())
            })
            .expect("publish")
            .name;
        assert_eq!(name, "a (3).bin");
        assert_eq!(tried, vec!["a (3).bin"]);
        assert_eq!(fs::read(&victim).expect("victim"), b"keep");
        let mut text = String::new();
        dir.open_read("a (2).bin").expect("open").read_to_string(&mut text).expect("read");
        assert_eq!(text, "other");
        dir.remove_if_exists("missing");
        dir.remove("a.bin").expect("the link itself is removed");
        assert!(victim.exists());
        sync_file_system(&base).expect("syncfs");
    }
}
