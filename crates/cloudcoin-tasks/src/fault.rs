//! Named fault points in the pipelines, for crash and disk-full tests.
//!
//! With the cargo feature `fault-injection`, reaching the step named by the environment variable
//! `CLOUDCOIN_FAULT` aborts the process, reaching the step named by `CLOUDCOIN_FAULT_IO` fails with
//! "no space left on device", `CLOUDCOIN_SLOW_WRITE_MS=n` sleeps n ms per 100 coins written, and
//! `CLOUDCOIN_PAUSE=<step>` with `CLOUDCOIN_PAUSE_FILE=<path>` holds the step until the test
//! removes the file the pipeline created there; `CLOUDCOIN_FAULT_NO_TMPFILE` makes outputs use a
//! named temporary file, as on a file system without `O_TMPFILE`, and `CLOUDCOIN_FAULT_NO_RENAME2`
//! makes a named temporary file be published by `link` then `unlink`, as on a file system whose
//! `renameat2` refuses `RENAME_NOREPLACE` (NFS).
//! Without the feature every function here is empty and compiles away.

use std::io;

/// The fault points of an export, in the order the pipeline passes them.
///
/// With an unnamed output (the usual way) the journal record is written once the file is
/// written, while it is synced; with a named temporary file, before the file is created
/// (`export:after_journal` comes first).
#[cfg(feature = "fault-injection")]
pub const EXPORT_FAULT_STEPS: [&str; 7] = [
    "export:after_write",
    "export:after_journal",
    "export:after_fsync",
    "export:after_rename",
    "export:after_commit",
    "export:mid_move",
    "export:after_move",
];

/// The fault points of an import, in order.
#[cfg(feature = "fault-injection")]
pub const IMPORT_FAULT_STEPS: [&str; 4] =
    ["import:after_journal", "import:unlink_temp", "import:mid_store", "import:after_store"];

/// The fault points of a backup, in order.
#[cfg(feature = "fault-injection")]
pub const BACKUP_FAULT_STEPS: [&str; 3] =
    ["backup:after_journal", "backup:after_write", "backup:after_fsync"];

/// The fault points of publishing a named temporary file by `link` then `unlink` (the fallback
/// where `RENAME_NOREPLACE` is refused): after the link, and the removal of the temporary name.
pub const PUBLISH_FAULT_STEPS: [&str; 2] = ["publish:after_link", "publish:unlink_temp"];

/// The fault points of the task tracker: writing a finished task's outcome.
pub const TASK_FAULT_STEPS: [&str; 1] = ["task:record_outcome"];

/// The fault points of creating and deleting wallets.
#[cfg(feature = "fault-injection")]
pub const WALLET_FAULT_STEPS: [&str; 1] = ["wallet:delete_move"];

/// Passes the named step: may abort or fail when fault injection is compiled in and asks for it.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(step: &str) -> io::Result<()> {
    debug_assert!(
        EXPORT_FAULT_STEPS
            .iter()
            .chain(&IMPORT_FAULT_STEPS)
            .chain(&BACKUP_FAULT_STEPS)
            .chain(&WALLET_FAULT_STEPS)
            .chain(&PUBLISH_FAULT_STEPS)
            .chain(&TASK_FAULT_STEPS)
            .any(|s| *s == step),
        "fault point {step} is not listed, so no crash test covers it"
    );
    if std::env::var("CLOUDCOIN_PAUSE").is_ok_and(|s| s == step)
        && let Ok(flag) = std::env::var("CLOUDCOIN_PAUSE_FILE")
    {
        pause(step, std::path::Path::new(&flag));
    }
    if std::env::var("CLOUDCOIN_FAULT").is_ok_and(|s| s == step) {
        tracing::error!(step, "fault injection: aborting the process");
        std::process::abort();
    }
    if std::env::var("CLOUDCOIN_FAULT_IO").is_ok_and(|s| s == step) {
        tracing::warn!(step, "fault injection: failing with an i/o error");
        return Err(io::Error::from_raw_os_error(28));
    }
    Ok(())
}

/// Holds the pipeline at `step`: creates the file `flag`, then waits until the test removes it
/// (having changed the world meanwhile — made a folder read-only, say).
#[cfg(feature = "fault-injection")]
fn pause(step: &str, flag: &std::path::Path) {
    tracing::warn!(step, flag = %flag.display(), "fault injection: paused until the flag file is removed");
    if let Err(e) = std::fs::write(flag, step) {
        tracing::error!(error = %e, "fault injection: cannot create the pause flag; not pausing");
        return;
    }
    while flag.exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Passes the named step (fault injection is not compiled in).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_step: &str) -> io::Result<()> {
    Ok(())
}

/// Slows writing down by `CLOUDCOIN_SLOW_WRITE_MS` per hundred coins (from `before` to `after`
/// coins written), so tests can watch progress move.
#[cfg(feature = "fault-injection")]
pub(crate) fn slow_write(before: usize, after: usize) {
    let Some(ms) =
        std::env::var("CLOUDCOIN_SLOW_WRITE_MS").ok().and_then(|s| s.parse::<u64>().ok())
    else {
        return;
    };
    let hundreds = (after / 100).saturating_sub(before / 100) as u64;
    if hundreds > 0 {
        std::thread::sleep(std::time::Duration::from_millis(ms.saturating_mul(hundreds)));
    }
}

/// Does nothing (fault injection is not compiled in).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn slow_write(_before: usize, _after: usize) {}

/// Whether the tests ask for the named-temporary fallback (`CLOUDCOIN_FAULT_NO_TMPFILE`), as on
/// a file system without `O_TMPFILE`.
#[cfg(feature = "fault-injection")]
pub(crate) fn no_unnamed_files() -> bool {
    std::env::var_os("CLOUDCOIN_FAULT_NO_TMPFILE").is_some()
}

/// Unnamed files are used wherever the file system has them (fault injection is not compiled in).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn no_unnamed_files() -> bool {
    false
}

/// Whether the tests ask for the `link`-then-`unlink` publication (`CLOUDCOIN_FAULT_NO_RENAME2`),
/// as on a file system whose `renameat2` refuses `RENAME_NOREPLACE`.
#[cfg(feature = "fault-injection")]
pub(crate) fn no_rename_noreplace() -> bool {
    std::env::var_os("CLOUDCOIN_FAULT_NO_RENAME2").is_some()
}

/// `RENAME_NOREPLACE` is used wherever the file system has it (fault injection is not compiled
/// in).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn no_rename_noreplace() -> bool {
    false
}
