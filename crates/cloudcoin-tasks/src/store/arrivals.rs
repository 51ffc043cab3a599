//! The names that appeared in a wallet's held folders since the service last looked: what an
//! export's search for stray copies of its coins reads instead of every file of the wallet.
//!
//! # Why an export looks for copies, and what it must see
//!
//! A coin is one id: a second file of a coin the wallet holds — dropped into a held folder by a
//! person or by other software sharing the wallet folders while the service runs — would stay in
//! the wallet after the export moved the indexed file to `Sent`, and become spendable at the next
//! start while the coin is in the exported file too: a duplicated coin. So before an export
//! journals its coins it moves every such copy to `Trash` (`super::set_aside_copies`). At start-up
//! the scan has settled every copy (`super::scan`), and every file the service itself names in a
//! held folder is in its index; what the search must see is each name that **appeared** in a held
//! folder since the start, under any name — not only a coin's conventional one.
//!
//! # How it is seen without listing the wallet
//!
//! Each wallet's held folders are watched with inotify from before the start-up scan lists them
//! (`IN_CREATE`, `IN_MOVED_TO`: every way a name appears), so no name that appears after the scan
//! read a folder is missed. An export drains the events and reads only the names that appeared
//! and that the index does not know; names known to the index, gone, or set aside are forgotten,
//! the others (a foreign file, a coin dropped in by hand) are kept and read again by the next
//! export, as the listing read every unknown file each time. The cost is the names that appeared
//! since the last export, not the wallet's size.
//!
//! When the events cannot tell everything — the kernel's queue overflowed (after a large import,
//! say), or a watched folder was moved, deleted or unmounted — the export lists every held folder
//! as before and the watch starts afresh from that listing (or, for a folder no longer watched,
//! the wallet is listed by every export from then on). Where inotify cannot be had (a limit, an
//! unsupported file system), every export lists the folders.
//!
//! **Invariant: an export leaves no second file of its coins in the wallet, under any name.**
//! Kept by `arrivals::tests::a_copy_dropped_under_any_name_is_set_aside_without_a_listing` and
//! `arrivals::tests::an_overflowed_queue_falls_back_to_the_listing`, beside the listing's own
//! tests (`export::tests`).

use std::collections::HashSet;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;

use cloudcoin_domain::WalletName;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use super::layout::{Folder, Layout};

/// The names that appeared in one wallet's held folders since they were last looked at.
#[derive(Debug)]
pub(crate) struct Arrivals {
    fd: OwnedFd,
    /// Each watched folder's watch descriptor.
    watches: Vec<(i32, Folder)>,
    /// Names that appeared and are not known to be a held coin's own file, gone, or set aside.
    pub(super) names: HashSet<(Folder, Box<str>)>,
    /// The queue overflowed since the last listing: names may have been missed.
    lost_track: bool,
    /// A watched folder was moved, deleted or unmounted: its names can no longer be seen.
    blind: bool,
}

/// What the events told since the last look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Told {
    /// Every name that appeared is in [`Arrivals::names`].
    Everything,
    /// Names may have been missed: the folders must be listed.
    NotEverything,
}

impl Arrivals {
    /// Starts watching `wallet`'s held folders for names that appear; `None` where inotify cannot
    /// be had (then every export lists the folders). Call it before the folders are scanned.
    pub(crate) fn watch(layout: &Layout, wallet: &WalletName) -> Option<Arrivals> {
        let started = (|| -> io::Result<Arrivals> {
            let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
            let mut watches = Vec::with_capacity(Folder::HELD.len());
            for folder in Folder::HELD {
                let flags = WatchFlags::CREATE | WatchFlags::MOVED_TO | WatchFlags::ONLYDIR;
                let flags = flags | WatchFlags::DELETE_SELF | WatchFlags::MOVE_SELF;
                let wd = inotify::add_watch(&fd, layout.folder(wallet, folder), flags)?;
                watches.push((wd, folder));
            }
            Ok(Arrivals { fd, watches, names: HashSet::new(), lost_track: false, blind: false })
        })();
        match started {
            Ok(arrivals) => Some(arrivals),
            Err(e) => {
                tracing::warn!(wallet = %wallet, error = %e, "cannot watch the wallet's folders; each export lists them instead");
                None
            }
        }
    }

    /// Reads every event queued into [`Arrivals::names`], and says whether they tell everything.
    pub(super) fn drain(&mut self) -> Told {
        let mut buf = [MaybeUninit::<u8>::uninit(); 16 << 10];
        let mut reader = inotify::Reader::new(&self.fd, &mut buf);
        loop {
            let event = match reader.next() {
                Ok(event) => event,
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the wallet folders' events; the folders are listed");
                    self.lost_track = true;
                    break;
                }
            };
            let flags = event.events();
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                self.lost_track = true;
                continue;
            }
            let gone = ReadFlags::IGNORED
                | ReadFlags::DELETE_SELF
                | ReadFlags::MOVE_SELF
                | ReadFlags::UNMOUNT;
            if flags.intersects(gone) {
                self.blind = true;
                continue;
            }
            let folder = self.watches.iter().find(|(wd, _)| *wd == event.wd()).map(|(_, f)| *f);
            match (folder, event.file_name()) {
                // The index names files by UTF-8 strings, and the listing skips the others
                // too (`super::listing`).
                (Some(folder), Some(name)) => {
                    if let Ok(name) = name.to_str() {
                        self.names.insert((folder, name.into()));
                    }
                }
                _ => self.lost_track = true,
            }
        }
        if self.lost_track || self.blind { Told::NotEverything } else { Told::Everything }
    }

    /// The folders were listed after the last [`Arrivals::drain`]: what appeared before is
    /// covered, and the events queued since tell the rest.
    pub(super) fn listed(&mut self) {
        self.names.clear();
        self.lost_track = false;
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::sync::Mutex;

    use super::*;
    use crate::fixtures::coin;
    use crate::store::fixtures::{layout_with_wallet, put};
    use crate::store::{coin_file_name, scan_wallet, set_aside_copies};

    /// A wallet of `n` coins in `Bank` (so a 1-coin export is small beside it), watched from
    /// before its scan, with coin 0 #1 reserved by an export.
    fn watched_wallet(
        n: u32,
    ) -> (
        tempfile::TempDir,
        Layout,
        WalletName,
        Mutex<super::super::WalletState>,
        Vec<super::super::Held>,
    ) {
        let (tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        for sn in 1..=n {
            put(&bank, &coin_file_name(&coin(0, sn)), &[coin(0, sn)]);
        }
        let arrivals = Arrivals::watch(&layout, &name).expect("inotify");
        let mut state = scan_wallet(&layout, &name).expect("scan");
        state.arrivals = Some(std::sync::Arc::new(Mutex::new(arrivals)));
        let id = coin(0, 1).id();
        state.coins.update(&id, |e| e.hold = super::super::Hold::Reserved);
        let held = state.held(&[id]).expect("reserved");
        (tmp, layout, name, Mutex::new(state), held)
    }

    /// Copies of the reserved coin dropped in while the service runs, under a name of their own
    /// and under the next conventional one, in `Bank` and `Fracked`, are set aside; another
    /// coin's copy and a foreign file stay, and are still looked at by the next export; the
    /// coin's own file stays. No folder is listed for it.
    #[test]
    fn a_copy_dropped_under_any_name_is_set_aside_without_a_listing() {
        let (_tmp, layout, name, state, held) = watched_wallet(64);
        let (bank, fracked) =
            (layout.folder(&name, Folder::Bank), layout.folder(&name, Folder::Fracked));
        let own = coin_file_name(&coin(0, 1));
        put(&bank, "copy 1234.bin", &[coin(0, 1)]);
        put(&fracked, &own, &[coin(0, 1)]);
        put(&bank, "other.bin", &[coin(0, 2)]);
        fs::write(bank.join("notes.txt"), b"not a coin").expect("write");
        let aside = set_aside_copies(&layout, &name, &state, &held).expect("set aside");
        assert_eq!(aside.moved, 2, "both copies set aside");
        assert!(aside.listed.is_empty(), "found by the events, not by a listing");
        assert!(bank.join(&own).exists(), "the coin's own file stays");
        assert!(!bank.join("copy 1234.bin").exists() && !fracked.join(&own).exists());
        assert_eq!(fs::read_dir(layout.folder(&name, Folder::Trash)).expect("Trash").count(), 2);
        let s = state.lock().expect("state");
        let arrivals = s.arrivals.as_ref().expect("watched").lock().expect("arrivals");
        let kept: HashSet<&str> = arrivals.names.iter().map(|(_, n)| &**n).collect();
        assert_eq!(kept, HashSet::from(["other.bin", "notes.txt"]), "unknown files stay in view");
    }

    /// Events lost to an overflowing queue (or a folder no longer watched) make the export list
    /// the folders, as without a watch: a copy dropped in then is still set aside.
    #[test]
    fn an_overflowed_queue_falls_back_to_the_listing() {
        let (_tmp, layout, name, state, held) = watched_wallet(64);
        let bank = layout.folder(&name, Folder::Bank);
        put(&bank, "copy.bin", &[coin(0, 1)]);
        {
            let s = state.lock().expect("state");
            let mut arrivals = s.arrivals.as_ref().expect("watched").lock().expect("arrivals");
            arrivals.drain();
            // What an overflow leaves: the name is not among those seen.
            arrivals.names.clear();
            arrivals.lost_track = true;
        }
        let aside = set_aside_copies(&layout, &name, &state, &held).expect("set aside");
        assert_eq!(aside.moved, 1, "found by the listing");
        assert!(!aside.listed.is_empty(), "the folders were listed");
        let s = state.lock().expect("state");
        let arrivals = s.arrivals.as_ref().expect("watched").lock().expect("arrivals");
        assert!(!arrivals.lost_track, "the watch starts afresh from the listing");
    }
}
