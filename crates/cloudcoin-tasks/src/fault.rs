//! Named fault points in the pipelines, for crash and disk-full tests.
//!
//! Every point is a variant of [`FaultPoint`]; the pipelines pass them, and the crash tests and
//! the campaign take their lists from it ([`FaultPoint::ALL`] and one list per pipeline), so a
//! new point is in every list the moment it exists. A few points only pause a pipeline, to hold
//! open a window where nothing is written ([`FaultPoint::PAUSE_ONLY`], not in `ALL`). A point is spelled `pipeline:step`
//! (`export:after_rename`) in the environment variables below and in recorded runs
//! ([`Display`](std::fmt::Display) and [`FromStr`](std::str::FromStr) use that spelling).
//!
//! With the cargo feature `fault-injection`, reaching the point named by the environment variable
//! `CLOUDCOIN_FAULT` aborts the process, reaching the point named by `CLOUDCOIN_FAULT_IO` fails
//! with "no space left on device", `CLOUDCOIN_SLOW_WRITE_MS=n` sleeps n ms per 100 coins written,
//! and `CLOUDCOIN_PAUSE=<point>` with `CLOUDCOIN_PAUSE_FILE=<path>` holds the point until the test
//! removes the file the pipeline created there; `CLOUDCOIN_FAULT_NO_TMPFILE` makes outputs use a
//! named temporary file, as on a file system without `O_TMPFILE`, and `CLOUDCOIN_FAULT_NO_RENAME2`
//! makes a named temporary file be published by `link` then `unlink`, as on a file system whose
//! `renameat2` refuses `RENAME_NOREPLACE` (NFS).
//! Without the feature every function here is empty and compiles away, and [`FaultPoint`] is not
//! part of the crate's public API.

use std::fmt;
use std::io;
use std::str::FromStr;

/// Declares [`FaultPoint`] from one table: each pipeline's list, in the order the pipeline passes
/// its points, and each point's variant and spelling. The enum, its lists and its spelling all
/// come from this table, so none of them can miss a point.
macro_rules! fault_points {
    ($(
        $(#[$list_doc:meta])*
        $list:ident {
            $( $(#[$doc:meta])* $variant:ident = $name:literal, )*
        }
    )*
    @pause_only
        $(#[$pause_doc:meta])*
        $pause_list:ident {
            $( $(#[$pdoc:meta])* $pvariant:ident = $pname:literal, )*
        }
    ) => {
        /// A named point in a pipeline where a crash test can abort the process, fail with an
        /// i/o error, or pause (see the crate's `fault-injection` feature).
        ///
        /// It is spelled `pipeline:step` in the environment variables that aim at it:
        ///
        /// ```
        /// # #[cfg(feature = "fault-injection")]
        /// # fn main() -> Result<(), cloudcoin_tasks::UnknownFaultPoint> {
        /// use cloudcoin_tasks::FaultPoint;
        ///
        /// let point: FaultPoint = "export:after_rename".parse()?;
        /// assert_eq!(point, FaultPoint::ExportAfterRename);
        /// assert_eq!(point.to_string(), "export:after_rename");
        /// assert!(FaultPoint::EXPORT.contains(&point));
        /// assert!(FaultPoint::ALL.iter().all(|p| p.to_string().parse() == Ok(*p)));
        /// assert!(!FaultPoint::ALL.contains(&FaultPoint::ExportPublished)); // pause-only
        /// # Ok(()) }
        /// # #[cfg(not(feature = "fault-injection"))]
        /// # fn main() {}
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[cfg_attr(
            not(feature = "fault-injection"),
            expect(unreachable_pub, reason = "public only with the fault-injection feature")
        )]
        pub enum FaultPoint {
            $($( $(#[$doc])* $variant, )*)*
            $( $(#[$pdoc])* $pvariant, )*
        }

        impl FaultPoint {
            /// Every fault point a crash or an i/o error can be aimed at, pipeline by pipeline,
            /// each pipeline's in the order it passes them (the pause-only points are
            /// [`FaultPoint::PAUSE_ONLY`]).
            #[cfg(feature = "fault-injection")]
            pub const ALL: &'static [FaultPoint] = &[$($(FaultPoint::$variant,)*)*];

            $(#[$pause_doc])*
            #[cfg(feature = "fault-injection")]
            pub const $pause_list: &'static [FaultPoint] = &[$(FaultPoint::$pvariant,)*];

            $(
                $(#[$list_doc])*
                #[cfg(feature = "fault-injection")]
                pub const $list: &'static [FaultPoint] = &[$(FaultPoint::$variant,)*];
            )*

            /// The point's spelling, `pipeline:step`, as the environment variables name it.
            #[cfg_attr(
                not(feature = "fault-injection"),
                expect(unreachable_pub, reason = "public only with the fault-injection feature")
            )]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($(FaultPoint::$variant => $name,)*)*
                    $(FaultPoint::$pvariant => $pname,)*
                }
            }
        }

        impl FromStr for FaultPoint {
            type Err = UnknownFaultPoint;

            fn from_str(s: &str) -> Result<FaultPoint, UnknownFaultPoint> {
                match s {
                    $($($name => Ok(FaultPoint::$variant),)*)*
                    $($pname => Ok(FaultPoint::$pvariant),)*
                    _ => Err(UnknownFaultPoint(())),
                }
            }
        }
    };
}

fault_points! {
    /// The fault points of an export, in the order the pipeline passes them.
    ///
    /// With an unnamed output (the usual way) the journal record is written once the file is
    /// written, while it is synced; with a named temporary file, before the file is created
    /// (`export:after_journal` comes first).
    EXPORT {
        /// The output's coins are written, not yet synced (`export:after_write`).
        ExportAfterWrite = "export:after_write",
        /// The journal record of the export is durable (`export:after_journal`).
        ExportAfterJournal = "export:after_journal",
        /// The output is synced under its temporary name (`export:after_fsync`).
        ExportAfterFsync = "export:after_fsync",
        /// The output has its final name (`export:after_rename`).
        ExportAfterRename = "export:after_rename",
        /// The journal records that the output is published (`export:after_commit`).
        ExportAfterCommit = "export:after_commit",
        /// Some of the exported coins' files are in `Sent`, others not yet (`export:mid_move`).
        ExportMidMove = "export:mid_move",
        /// Every exported coin's file is in `Sent` (`export:after_move`).
        ExportAfterMove = "export:after_move",
    }
    /// The fault points of an import, in order.
    IMPORT {
        /// The journal record of the import is durable (`import:after_journal`).
        ImportAfterJournal = "import:after_journal",
        /// Removing a coin file's temporary name (`import:unlink_temp`).
        ImportUnlinkTemp = "import:unlink_temp",
        /// Some of the imported coins are stored, others not yet (`import:mid_store`).
        ImportMidStore = "import:mid_store",
        /// Every imported coin is stored, before `Bank` is synced (`import:after_store`).
        ImportAfterStore = "import:after_store",
    }
    /// The fault points of a backup, in order.
    BACKUP {
        /// The journal record of the backup is durable (`backup:after_journal`).
        BackupAfterJournal = "backup:after_journal",
        /// The archive is written, not yet synced (`backup:after_write`).
        BackupAfterWrite = "backup:after_write",
        /// The archive is synced under its temporary name (`backup:after_fsync`).
        BackupAfterFsync = "backup:after_fsync",
    }
    /// The fault points of publishing a named temporary file by `link` then `unlink` (the
    /// fallback where `RENAME_NOREPLACE` is refused): after the link, and the removal of the
    /// temporary name.
    PUBLISH {
        /// The file has both names (`publish:after_link`).
        PublishAfterLink = "publish:after_link",
        /// Removing the temporary name (`publish:unlink_temp`).
        PublishUnlinkTemp = "publish:unlink_temp",
    }
    /// The fault points of an import that claims its coins (with the RAIDA network on), in the
    /// order it passes them (see `claim`).
    CLAIM {
        /// The claim's write-ahead record is durable; no pown is sent yet
        /// (`claim:after_record`).
        ClaimAfterRecord = "claim:after_record",
        /// The pown's answers are in; no coin is stored yet (`claim:after_pown`).
        ClaimAfterPown = "claim:after_pown",
    }
    /// The fault points of the task tracker: writing a finished task's outcome.
    TASK {
        /// Writing a finished task's outcome (`task:record_outcome`).
        TaskRecordOutcome = "task:record_outcome",
    }
    /// The fault points of creating and deleting wallets.
    WALLET {
        /// Moving a deleted wallet's folder away (`wallet:delete_move`).
        WalletDeleteMove = "wallet:delete_move",
    }
@pause_only
    /// The points where a test can only pause a pipeline (`CLOUDCOIN_PAUSE`), to hold a window
    /// open where nothing is written, so no crash or i/o error is aimed there; not in
    /// [`FaultPoint::ALL`].
    PAUSE_ONLY {
        /// An export's file is published under its final name and its coins are still reserved,
        /// before they leave the wallet's index (`export:published`).
        ExportPublished = "export:published",
    }
}

impl fmt::Display for FaultPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a fault point's (see [`FaultPoint`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a fault point; fault points are spelled like \"export:after_rename\"")]
#[cfg_attr(
    not(feature = "fault-injection"),
    expect(unreachable_pub, reason = "public only with the fault-injection feature")
)]
pub struct UnknownFaultPoint(());

/// The two fault points of writing an output file (an export's or a backup's).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputFaults {
    /// The file is written, not yet synced.
    pub(crate) after_write: FaultPoint,
    /// The file is synced under its temporary name.
    pub(crate) after_fsync: FaultPoint,
}

impl OutputFaults {
    /// An export's output.
    pub(crate) const EXPORT: OutputFaults = OutputFaults {
        after_write: FaultPoint::ExportAfterWrite,
        after_fsync: FaultPoint::ExportAfterFsync,
    };
    /// A backup's archive.
    pub(crate) const BACKUP: OutputFaults = OutputFaults {
        after_write: FaultPoint::BackupAfterWrite,
        after_fsync: FaultPoint::BackupAfterFsync,
    };
}

/// Passes the named point: may abort or fail when fault injection is compiled in and asks for it.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(point: FaultPoint) -> io::Result<()> {
    let step = point.as_str();
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

/// A pause-only point (one of [`FaultPoint::PAUSE_ONLY`]), for a window a test must hold open
/// but where nothing is written: with fault injection compiled in, holds the pipeline while
/// `CLOUDCOIN_PAUSE` names it (see [`point`]'s pause).
#[cfg(feature = "fault-injection")]
pub(crate) fn pause_point(point: FaultPoint) {
    let step = point.as_str();
    if std::env::var("CLOUDCOIN_PAUSE").is_ok_and(|s| s == step)
        && let Ok(flag) = std::env::var("CLOUDCOIN_PAUSE_FILE")
    {
        pause(step, std::path::Path::new(&flag));
    }
}

/// A pause-only point (fault injection is not compiled in).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn pause_point(_point: FaultPoint) {}

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

/// Passes the named point (fault injection is not compiled in).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_point: FaultPoint) -> io::Result<()> {
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

#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use std::collections::BTreeSet;

    use super::FaultPoint;

    #[test]
    fn every_point_is_listed_once_and_reads_back_from_its_spelling() {
        let lists = [
            ("export", FaultPoint::EXPORT),
            ("import", FaultPoint::IMPORT),
            ("backup", FaultPoint::BACKUP),
            ("publish", FaultPoint::PUBLISH),
            ("claim", FaultPoint::CLAIM),
            ("task", FaultPoint::TASK),
            ("wallet", FaultPoint::WALLET),
        ];
        let listed: Vec<FaultPoint> = lists.iter().flat_map(|(_, l)| l.iter().copied()).collect();
        assert_eq!(listed, FaultPoint::ALL, "ALL is the pipelines' lists, in order");
        let names: BTreeSet<String> = FaultPoint::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(names.len(), FaultPoint::ALL.len(), "two points share a spelling");
        for (pipeline, list) in lists {
            for &point in list {
                let name = point.to_string();
                assert!(name.starts_with(&format!("{pipeline}:")), "{name} in {pipeline}'s list");
                assert_eq!(name.parse(), Ok(point));
            }
        }
        // The pause-only points read back too, but no crash or i/o error is aimed at them.
        for &point in FaultPoint::PAUSE_ONLY {
            assert!(!FaultPoint::ALL.contains(&point), "{point} is pause-only");
            assert!(!names.contains(point.as_str()), "{point} shares a spelling");
            assert_eq!(point.to_string().parse(), Ok(point));
        }
        assert_eq!("export:published".parse(), Ok(FaultPoint::ExportPublished));
        assert!("export:after_nothing".parse::<FaultPoint>().is_err());
        assert!("".parse::<FaultPoint>().is_err());
    }

    #[test]
    fn the_spellings_recorded_runs_and_tests_use_still_parse() {
        for name in ["export:after_rename", "import:unlink_temp", "publish:after_link"] {
            let point: FaultPoint = name.parse().expect("a known point");
            assert_eq!(point.as_str(), name);
        }
    }
}
