//! Checking a folder a client asks the server to write into.
//!
//! # Output folders
//!
//! A folder a client names (export, backup) is checked by path — absolute, canonical, a directory,
//! under an export root — and then opened **once**, one component at a time from `/` with
//! `openat(…, O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)`, so no component may be a symbolic link; `fstat`
//! of the handle must give the device and inode that the check saw. From then on every operation
//! names files relative to that handle (`crate::dir::Dir`, built on `rustix`, no `unsafe`): the
//! write probe, the temporary file (`O_CREAT|O_EXCL|O_NOFOLLOW`), reading it back (`O_NOFOLLOW`),
//! probing names (`statat(AT_SYMLINK_NOFOLLOW)`), publishing (`linkat` then `unlinkat`) and the
//! folder's fsync. A path component swapped for a symbolic link after the check cannot redirect a
//! handle, so no file leaves the validated folder; a file is never written through a link and never
//! replaces anything.
//!
//! **Invariant:** the data directory and everything under it is never an export or backup target.
//! `folder::OwnTree::refuse` checks the folder's real path against the data directory's, and the
//! identity (device and inode) of the opened directory and of every directory above it — walked
//! with `..` from the handle — against every directory in the data directory's tree, so a symbolic
//! link, a bind mount or a second mount of the same file system cannot lead into it unseen. A
//! refused folder is `ServiceError::Folder` (API code 4193) with a message saying why, and is
//! refused before anything (the write probe included) is written. Kept by
//! `export::the_data_directory_and_everything_under_it_is_refused` (crate tests, bind mounts of
//! `Import` and `Wallets`) and `paths::the_data_directory_is_never_an_export_or_backup_target`
//! (server, a bind mount of `Bank`).
//!
//! **Architecture invariant:** after validation, export and backup never touch the target folder by
//! path. Recovery works from the paths in the journal, but opens the folder the same way (no link
//! on the way) before it removes a temporary file or reads a published one.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::dir::{Dir, Identity};

/// Mode of the files written into a client's folder (before the umask). A coin file is bearer
/// money: whoever can read it can spend it, so only its owner may.
pub(crate) const OUTPUT_MODE: u32 = 0o600;

/// Checks that `path` is an absolute, canonical (no `.`/`..`, no symlink on the way), existing,
/// writable directory beneath one of `roots` (when any are set) and outside the data directory
/// `own` (see [`OwnTree::refuse`]), and opens it: the returned
/// handle is the directory checked, and every later file operation goes through it. Returns the
/// problem otherwise, worded for the person who gave the path.
pub(crate) fn validate(
    path: &Path,
    roots: &[PathBuf],
    own: Option<&OwnTree>,
) -> Result<Dir, String> {
    if !path.is_absolute() {
        return Err("it is not an absolute path".to_owned());
    }
    if path.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir)) {
        return Err("it contains . or .. segments; give the plain absolute path".to_owned());
    }
    let canonical = match fs::canonicalize(path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("it does not exist".to_owned());
        }
        Err(e) => return Err(format!("it cannot be resolved ({e})")),
    };
    if canonical.as_path() != path {
        return Err(format!(
            "it passes through a symbolic link (it resolves to {}); give the real path",
            canonical.display()
        ));
    }
    let meta = fs::metadata(&canonical).map_err(|e| format!("it cannot be read ({e})"))?;
    if !meta.is_dir() {
        return Err("it is not a directory".to_owned());
    }
    if !roots.is_empty() && !roots.iter().any(|r| canonical.starts_with(r)) {
        return Err("it is outside the folders this server may write to (--export-root)".to_owned());
    }
    let changed = || "it changed while it was being checked; try again".to_owned();
    let dir = match Dir::open_nofollow(&canonical) {
        Ok(dir) => dir,
        // ELOOP, ENOTDIR: a component became a symbolic link since it was resolved.
        Err(e) if matches!(e.raw_os_error(), Some(40 | 20)) => return Err(changed()),
        Err(e) => return Err(format!("it cannot be opened ({e})")),
    };
    if !dir.is(&meta).map_err(|e| format!("it cannot be read ({e})"))? {
        return Err(changed());
    }
    if let Some(own) = own {
        own.refuse(&canonical, &dir)?;
    }
    // The write probe: a file with no name where the file system can make one (nothing to
    // remove afterwards, no entry in the folder), else a named one, removed at once.
    // A probe that fails with "not found" in a folder that exists means a file system that
    // takes no new files at all (/proc, /sys): say that, not the kernel's confusing words.
    let not_writable = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => {
            "no file can be created in it (a system folder such as /proc or /sys?); choose a \
             folder of yours, such as your home or Downloads folder"
                .to_owned()
        }
        std::io::ErrorKind::PermissionDenied => {
            "the server may not write in it (permission denied); choose a folder the user \
             running the server owns"
                .to_owned()
        }
        _ => format!("it is not writable ({e})"),
    };
    match dir.create_unnamed(OUTPUT_MODE) {
        Ok(Some(_probe)) => Ok(dir),
        Ok(None) => {
            let probe = format!(".cloudcoin-write-test-{}", uuid::Uuid::new_v4().simple());
            dir.create_new(&probe, OUTPUT_MODE).map_err(not_writable)?;
            dir.remove_if_exists(&probe);
            Ok(dir)
        }
        Err(e) => Err(not_writable(e)),
    }
}

/// Whether the directory `meta` describes, on the file system `fs_type` (`statfs`), surely has
/// no subdirectory: its link count is 2 (its name and its own `.`), on a file system known to
/// count one more link for each subdirectory's `..` (ext2/3/4, XFS, tmpfs). A count of 1 —
/// btrfs, overlay, or ext4 past 65,000 subdirectories — says nothing, nor does any other file
/// system: those are read.
fn surely_a_leaf(meta: &fs::Metadata, fs_type: i64) -> bool {
    use std::os::unix::fs::MetadataExt;
    const EXT: i64 = 0xEF53;
    const XFS: i64 = 0x5846_5342;
    const TMPFS: i64 = 0x0102_1994;
    meta.nlink() == 2 && matches!(fs_type, EXT | XFS | TMPFS)
}

/// The `statfs` type of the file system holding `path`, or 0 when it cannot be told.
fn fs_type(path: &Path) -> i64 {
    #[allow(clippy::unnecessary_cast, reason = "the field's type differs between targets")]
    rustix::fs::statfs(path).map_or(0, |s| s.f_type as i64)
}

/// Refuses a folder where the file name `base` — or one of the numbered names ` (2)`, ` (3)`, …
/// that the search for a free name would pass — is a symbolic link: the output is never written
/// through a link, and a link where the file is expected is a sign of mischief. Regular files
/// are passed (the output gets the next free name).
pub(crate) fn refuse_linked_name(dir: &Dir, base: &str) -> Result<(), String> {
    let mut link = None;
    let mut problem = None;
    cloudcoin_domain::unique_file_name(base, |name| match dir.entry_type(name) {
        Ok(Some(rustix::fs::FileType::Symlink)) => {
            link = Some(name.to_owned());
            false
        }
        Ok(Some(_)) => true,
        Ok(None) => false,
        Err(e) => {
            problem = Some(format!("it cannot be read ({e})"));
            false
        }
    });
    if let Some(problem) = problem {
        return Err(problem);
    }
    match link {
        Some(name) => Err(format!(
            "it contains a symbolic link named '{name}'; remove it or choose another folder"
        )),
        None => Ok(()),
    }
}

/// The server's data directory, which is never an export or backup target: a file written
/// anywhere under it could be taken for one of the wallet's own coins (or picked up from
/// `Import`) and spent a second time, or mix with the server's records.
#[derive(Debug, Clone)]
pub(crate) struct OwnTree {
    /// The data directory's real path.
    root: PathBuf,
}

impl OwnTree {
    /// The tree rooted at the (existing) data directory `root`.
    pub(crate) fn new(root: &Path) -> std::io::Result<OwnTree> {
        Ok(OwnTree { root: fs::canonicalize(root)? })
    }

    /// The identity of every directory in the tree, its root included (symbolic links are not
    /// followed; mounts inside the tree are entered). A directory that surely has no
    /// subdirectory ([`surely_a_leaf`]) is not listed: a wallet's `Bank` or `Sent` may hold
    /// tens of thousands of coin files and no folder, and this runs for every export request.
    fn identities(&self) -> std::io::Result<HashSet<Identity>> {
        let mut found = HashSet::new();
        let root = fs::symlink_metadata(&self.root)?;
        found.insert(Identity::of(&root));
        let mut pending = vec![(self.root.clone(), root)];
        while let Some((dir, meta)) = pending.pop() {
            if surely_a_leaf(&meta, fs_type(&dir)) {
                continue;
            }
            let Ok(entries) = fs::read_dir(&dir) else { continue };
            for entry in entries.filter_map(Result::ok) {
                if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                if let Ok(meta) = fs::symlink_metadata(entry.path())
                    && found.insert(Identity::of(&meta))
                {
                    pending.push((entry.path(), meta));
                }
            }
        }
        Ok(found)
    }

    /// Refuses the folder `dir` (opened at the canonical path `path`) if it is the data
    /// directory or lies anywhere under it — by its path, or by the identity (device and inode)
    /// of the opened directory and of every directory above it, so that no symbolic link, bind
    /// mount or second mount of the same file system leads into the tree unseen.
    pub(crate) fn refuse(&self, path: &Path, dir: &Dir) -> Result<(), String> {
        let why = "coins written there would be taken for the wallet's own and could be spent twice; choose a folder outside it";
        if path.starts_with(&self.root) {
            return Err(format!(
                "it is inside the server's data directory ({}); {why}",
                self.root.display()
            ));
        }
        let cannot = |e: std::io::Error| {
            format!("it cannot be checked against the server's data directory ({e})")
        };
        let ancestry = dir.ancestry().map_err(cannot)?;
        let own = self.identities().map_err(cannot)?;
        if ancestry.iter().any(|id| own.contains(id)) {
            return Err(format!(
                "it is the server's data directory ({}) or a folder in it, reached another way (a bind mount or a second mount); {why}",
                self.root.display()
            ));
        }
        Ok(())
    }
}

impl OwnTree {
    /// Opens the file at the absolute `path` for reading an import from it, refusing a file
    /// in the data directory or anywhere under it — by its real path, or by the identity of its
    /// folder and of every folder above it (a link, a bind mount or a second mount leading in).
    /// The folder is opened once, without following a link, and the file is opened through that
    /// handle (never through a link), so the file read is the one checked. Nothing of the file
    /// is read here, and a refusal never says what it holds.
    pub(crate) fn open_import_source(&self, path: &Path) -> Result<fs::File, String> {
        let cannot = |e: std::io::Error| format!("cannot read the file: {e}");
        let real = fs::canonicalize(path).map_err(cannot)?;
        let (Some(folder), Some(name)) = (real.parent(), real.file_name()) else {
            return Err("it is not a regular file".to_owned());
        };
        let why = "the server reads its own files itself, and a coin file there is a wallet's \
                   coin (importing it would store it a second time); nothing was read";
        if real.starts_with(&self.root) {
            return Err(format!(
                "it is inside the server's data directory ({}); {why}",
                self.root.display()
            ));
        }
        let dir = Dir::open_nofollow(folder).map_err(cannot)?;
        let ancestry = dir.ancestry().map_err(cannot)?;
        let own = self.identities().map_err(cannot)?;
        if ancestry.iter().any(|id| own.contains(id)) {
            return Err(format!(
                "it is inside the server's data directory ({}), reached another way (a bind \
                 mount or a second mount); {why}",
                self.root.display()
            ));
        }
        let name = name.to_string_lossy();
        // A FIFO or a device would block or never end: only a regular file is opened.
        match dir.entry_type(&name).map_err(cannot)? {
            Some(rustix::fs::FileType::RegularFile) => {}
            Some(_) => return Err("it is not a regular file".to_owned()),
            None => return Err("cannot read the file: it does not exist".to_owned()),
        }
        dir.open_read(&name).map_err(cannot)
    }
}

/// The roots as real paths; a root that cannot be resolved is kept as given (and so matches
/// nothing that resolves) and logged.
pub(crate) fn canonical_roots(roots: &[PathBuf]) -> Vec<PathBuf> {
    roots
        .iter()
        .map(|r| match fs::canonicalize(r) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(root = %r.display(), error = %e, "export root cannot be resolved");
                r.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_should() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = fs::canonicalize(dir.path()).expect("canonical");
        let good = base.join("exports");
        let evil = base.join("exports-evil");
        fs::create_dir(&good).expect("mkdir");
        fs::create_dir(&evil).expect("mkdir");
        fs::write(base.join("file"), b"x").expect("write");
        std::os::unix::fs::symlink("/", base.join("root-link")).expect("symlink");
        let roots = vec![good.clone()];

        let opened =
            |roots: &[PathBuf]| validate(&good, roots, None).map(|d| d.path().to_path_buf());
        assert_eq!(opened(&roots), Ok(good.clone()));
        assert_eq!(opened(&[]), Ok(good.clone()));
        let problem =
            |p: PathBuf, roots: &[PathBuf]| validate(&p, roots, None).expect_err("refused");
        assert!(problem(PathBuf::from("relative"), &[]).contains("absolute"));
        assert!(problem(good.join("../exports"), &[]).contains(".."));
        assert!(problem(base.join("missing"), &[]).contains("does not exist"));
        assert!(problem(base.join("file"), &[]).contains("not a directory"));
        assert!(problem(base.join("root-link"), &[]).contains("symbolic link"));
        assert!(problem(evil.clone(), &roots).contains("outside"));
        assert_eq!(fs::read_dir(&good).expect("list").count(), 0, "the probe is removed");
    }

    #[test]
    fn the_data_directory_is_refused_and_its_neighbours_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = fs::canonicalize(dir.path()).expect("canonical");
        let data = base.join("data");
        for d in ["data/Wallets/W/Bank/deep/er", "data-evil", "out"] {
            fs::create_dir_all(base.join(d)).expect("mkdir");
        }
        let own = OwnTree::new(&data).expect("tree");
        for inside in ["data", "data/Wallets", "data/Wallets/W/Bank", "data/Wallets/W/Bank/deep/er"]
        {
            let problem = validate(&base.join(inside), &[], Some(&own)).expect_err(inside);
            assert!(problem.contains("inside the server's data directory"), "{problem}");
            let names = fs::read_dir(base.join(inside)).expect("list").count();
            assert!(names <= 1, "{inside}: no probe was written");
        }
        for outside in ["", "data-evil", "out"] {
            assert!(validate(&base.join(outside), &[], Some(&own)).is_ok(), "{outside}");
        }
    }

    #[test]
    fn every_directory_of_the_tree_is_known_the_leaves_without_listing_them() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let data = fs::canonicalize(dir.path()).expect("canonical");
        for d in
            ["Wallets/W/Bank", "Wallets/W/Sent/kept/deeper", "Wallets/V/Bank", ".cloudcoin/journal"]
        {
            fs::create_dir_all(data.join(d)).expect("mkdir");
        }
        for i in 0..50 {
            fs::write(data.join(format!("Wallets/W/Bank/{i}.bin")), b"x").expect("file");
        }
        let mut expected = HashSet::new();
        let mut pending = vec![data.clone()];
        while let Some(d) = pending.pop() {
            expected.insert(Identity::of(&fs::symlink_metadata(&d).expect("meta")));
            for e in fs::read_dir(&d).expect("list") {
                let e = e.expect("entry");
                if e.file_type().expect("type").is_dir() {
                    pending.push(e.path());
                }
            }
        }
        let tree = OwnTree::new(&data).expect("tree");
        assert_eq!(tree.identities().expect("walk"), expected);
        let bank = fs::symlink_metadata(data.join("Wallets/W/Bank")).expect("meta");
        let sent = fs::symlink_metadata(data.join("Wallets/W/Sent")).expect("meta");
        if fs_type(&data) == 0xEF53 || fs_type(&data) == 0x0102_1994 {
            assert!(surely_a_leaf(&bank, fs_type(&data)), "nlink {}", bank.nlink());
            assert!(!surely_a_leaf(&sent, fs_type(&data)), "Sent has a folder in it");
        }
        assert!(!surely_a_leaf(&bank, 0x6969), "an NFS count is not trusted");
        // A folder made later inside a leaf is found at the next walk.
        fs::create_dir(data.join("Wallets/W/Bank/later")).expect("mkdir");
        let later =
            Identity::of(&fs::symlink_metadata(data.join("Wallets/W/Bank/later")).expect("meta"));
        assert!(tree.identities().expect("walk").contains(&later));
    }

    #[test]
    fn a_symbolic_link_under_the_name_or_a_numbered_name_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = fs::canonicalize(dir.path()).expect("canonical");
        let opened = validate(&base, &[], None).expect("valid");
        assert_eq!(refuse_linked_name(&opened, "a.bin"), Ok(()));
        fs::write(base.join("a.bin"), b"x").expect("write");
        fs::write(base.join("a (2).bin"), b"x").expect("write");
        assert_eq!(refuse_linked_name(&opened, "a.bin"), Ok(()), "regular files are passed");
        std::os::unix::fs::symlink("/nowhere", base.join("a (3).bin")).expect("symlink");
        let problem = refuse_linked_name(&opened, "a.bin").expect_err("a link on the way");
        assert!(problem.contains("symbolic link named 'a (3).bin'"), "{problem}");
        std::os::unix::fs::symlink("/nowhere", base.join("b.zip")).expect("symlink");
        let problem = refuse_linked_name(&opened, "b.zip").expect_err("a link under the name");
        assert!(problem.contains("'b.zip'; remove it or choose another folder"), "{problem}");
        // A link past the first free name is not on the way.
        std::os::unix::fs::symlink("/nowhere", base.join("c (2).bin")).expect("symlink");
        assert_eq!(refuse_linked_name(&opened, "c.bin"), Ok(()));
    }
}
