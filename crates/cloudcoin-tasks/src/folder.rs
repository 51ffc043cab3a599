//! Checking a folder a client asks the server to write into.

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::dir::Dir;

/// Mode of the files written into a client's folder (before the umask). A coin file is bearer
/// money: whoever can read it can spend it, so only its owner may.
pub(crate) const OUTPUT_MODE: u32 = 0o600;

/// Checks that `path` is an absolute, canonical (no `.`/`..`, no symlink on the way), existing,
/// writable directory beneath one of `roots` (when any are set), and opens it: the returned
/// handle is the directory checked, and every later file operation goes through it. Returns the
/// problem otherwise, worded for the person who gave the path.
pub(crate) fn validate(path: &Path, roots: &[PathBuf]) -> Result<Dir, String> {
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
    let probe = format!(".cloudcoin-write-test-{}", uuid::Uuid::new_v4().simple());
    match dir.create_new(&probe, OUTPUT_MODE) {
        Ok(_) => {
            dir.remove_if_exists(&probe);
            Ok(dir)
        }
        Err(e) => Err(format!("it is not writable ({e})")),
    }
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

        let opened = |roots: &[PathBuf]| validate(&good, roots).map(|d| d.path().to_path_buf());
        assert_eq!(opened(&roots), Ok(good.clone()));
        assert_eq!(opened(&[]), Ok(good.clone()));
        let problem = |p: PathBuf, roots: &[PathBuf]| validate(&p, roots).expect_err("refused");
        assert!(problem(PathBuf::from("relative"), &[]).contains("absolute"));
        assert!(problem(good.join("../exports"), &[]).contains(".."));
        assert!(problem(base.join("missing"), &[]).contains("does not exist"));
        assert!(problem(base.join("file"), &[]).contains("not a directory"));
        assert!(problem(base.join("root-link"), &[]).contains("symbolic link"));
        assert!(problem(evil.clone(), &roots).contains("outside"));
        assert_eq!(fs::read_dir(&good).expect("list").count(), 0, "the probe is removed");
    }

    #[test]
    fn a_symbolic_link_under_the_name_or_a_numbered_name_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = fs::canonicalize(dir.path()).expect("canonical");
        let opened = validate(&base, &[]).expect("valid");
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
