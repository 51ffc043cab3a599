//! File moves: a coin's file moving from one folder of its wallet to another — to `Sent` when
//! its export is published, to `Trash` when it is a second copy, to `Suspect` when its keys are in
//! doubt, to its grade's folder after a claim.
//!
//! # Where a coin's file moves to `Sent`, and what guards it
//!
//! An export moves its coins' files to `Sent` in [`move_coins`], called by `export::finish`
//! (after the output file is linked under its final name and the journal record says
//! `committed`) and called again by recovery at the next start when a crash interrupted it. Each
//! coin's file is renamed from `Bank`/`Fracked` (or wherever its record says) into `Sent` with
//! [`move_one`]: one `renameat2(RENAME_NOREPLACE)` between directory handles, in the order the
//! journal lists the coins — the order the stray-copy search found them in their folders'
//! listings, so each rename touches the blocks the one before did — then `Sent` and each source
//! folder are fsynced once (`export:mid_move` is passed half-way; `export:after_move` after).
//!
//! What guards it:
//!
//! - **The reservation.** The coins are [`Hold::Reserved`](super::Hold::Reserved) from the
//!   moment the export chose them ([`super::Reserved`]): no other export selects them and nothing
//!   else moves their files. They leave the index when the output's link succeeds, and their
//!   files, on their way to `Sent`, are listed in [`WalletState::leaving`] so another export's
//!   search for stray copies leaves them alone.
//! - **The journal.** Coins move only after the record's `committed` is on disk, so a crash at
//!   any point of the moves is rolled forward at the next start (never undone: there is no
//!   `Sent` → wallet rename anywhere).
//! - **No stray copy.** Before the export journals its coins, [`set_aside_copies`] moves to
//!   `Trash` every file in the held folders that holds one of them and is not the file the index
//!   knows, so moving the indexed files leaves no spendable copy behind.
//! - **Never replace, never guess.** A taken name in `Sent` gives the file the next free name
//!   (` (2)`, …); a file that is not where the record says is reported, never taken for moved,
//!   and the export looks it up by id across the held folders ([`move_found_coins`]); a vanished
//!   destination is an error, the coin stays where it was. Where the file system refuses
//!   `RENAME_NOREPLACE` (NFS), the move is `link` then `unlink`
//!   ([`crate::dir::rename_no_replace_at`], the one fallback of the crate): a crash between the two
//!   leaves the coin under both names, which the start-up scan settles as two files of one coin.
//! - **Once.** When recovery runs the moves again, a coin whose file an earlier run already moved
//!   to `Sent` is not moved again (`export::finish` looks in `Sent` first): the user may have
//!   imported the published file back meanwhile, and that file is the coin's only held file.
//!
//! # Rules of every move here
//!
//! - A move is a rename without replace, or link then unlink — never a probe followed by a
//!   replacing rename, never a copy, never a delete.
//! - A second file of a coin is set aside only while the file kept for the coin is there and is
//!   another file ([`move_copy_aside`]); if the kept file moves meanwhile, the second one is moved
//!   back, so a coin always keeps a file in a held folder.
//! - Each folder touched is synced once, after all its moves: a constant number of syncs per
//!   operation, not one per coin.
//! - All of this is blocking file work: callers run it on a blocking thread, never with a
//!   wallet's lock held (the index is read under the lock first, then let go).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::{Arc, Mutex};

use cloudcoin_domain::{Coin, CoinId, WalletName};

use super::index::{Held, KnownFiles, WalletState};
use super::layout::{Folder, Layout, read_single_coin};

/// Renames a wallet's file into another of its folders under its own name or the next free one
/// (never replacing a file there: [`move_one`]), and returns the name used, or `None` when the
/// file is no longer there. The caller syncs both folders.
pub(super) fn move_aside(
    layout: &Layout,
    wallet: &WalletName,
    from: Folder,
    file: &str,
    to: Folder,
) -> io::Result<Option<String>> {
    let dest = layout.folder(wallet, to);
    fs::create_dir_all(&dest)?;
    let (source, dest) = (fs::File::open(layout.folder(wallet, from))?, fs::File::open(&dest)?);
    move_one(&source, file, &dest)
}

/// Moves `file` of `from`, a second file of a coin whose file `kept` (folder, name) stays, into
/// `to` — only while `kept` is there and is another file. Other software sharing the wallet may
/// move the kept file meanwhile (then `file` may be the coin's only file, or the very same file
/// seen under its new name): if `kept` is gone after the move, `file` is moved back to `from`,
/// so the coin keeps a file in a held folder (a second file is settled at the next start; a
/// coin file in `Trash` is lost to the wallet). Returns the name in `to`, or `None` when nothing
/// was set aside.
pub(super) fn move_copy_aside(
    layout: &Layout,
    wallet: &WalletName,
    kept: (Folder, &str),
    from: Folder,
    file: &str,
    to: Folder,
) -> io::Result<Option<String>> {
    use std::os::unix::fs::MetadataExt;
    let kept_path = layout.folder(wallet, kept.0).join(kept.1);
    let same = |a: &fs::Metadata, b: &fs::Metadata| a.dev() == b.dev() && a.ino() == b.ino();
    let (Ok(k), Ok(f)) = (
        fs::symlink_metadata(&kept_path),
        fs::symlink_metadata(layout.folder(wallet, from).join(file)),
    ) else {
        return Ok(None);
    };
    if same(&k, &f) {
        return Ok(None);
    }
    let Some(name) = move_aside(layout, wallet, from, file, to)? else { return Ok(None) };
    if fs::symlink_metadata(&kept_path).is_ok_and(|now| same(&now, &k)) {
        return Ok(Some(name));
    }
    // The kept file moved meanwhile: this one goes back where it was.
    let back = move_aside(layout, wallet, to, &name, from)?;
    tracing::warn!(wallet = %wallet, file = %format!("{}/{file}", from.name()), kept = %kept_path.display(), back = ?back, "the kept file of a coin was moved by other software while a second file was set aside; the second file stays");
    Ok(None)
}

/// Before an export journals its coins: moves to `Trash` every file in the wallet's held folders
/// that holds one of `held`'s coins but is not the file the index knows for it — a copy dropped
/// in by hand or by other software since the start — so that moving the indexed files to `Sent`
/// leaves no spendable copy behind. Only files the index does not know are read. A copy with other
/// keys than the indexed coin is moved too (logged as an error): it is kept, never spendable.
/// Returns how many files were moved, and where the listing found the held coins' own files.
/// Blocking.
///
/// An export of fewer than an eighth of the wallet's coins, in a wallet whose folders are
/// watched, reads only the names that appeared since the last look ([`super::arrivals`]): its
/// cost is its own, not the wallet's. A larger one lists the folders (that costs about what its
/// renames do, and gives the order they run in), as does any export once the watch has lost
/// track of what appeared.
pub(crate) fn set_aside_copies(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    held: &[Held],
) -> io::Result<SetAside> {
    let arrivals = {
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.arrivals.clone().map(|a| (a, held.len().saturating_mul(8) < s.coins.len()))
    };
    let Some((arrivals, small)) = arrivals else {
        return set_aside_listed(layout, wallet, state, held);
    };
    // Held while the names are looked at, so two exports never share a name half-read.
    let mut arrivals = arrivals.lock().unwrap_or_else(|p| p.into_inner());
    let told = arrivals.drain();
    if small && told == super::arrivals::Told::Everything {
        return set_aside_arrived(layout, wallet, state, held, &mut arrivals.names);
    }
    let listed = set_aside_listed(layout, wallet, state, held)?;
    arrivals.listed();
    Ok(listed)
}

/// [`set_aside_copies`] over the names that appeared (`names`), which it leaves holding only
/// those still to be looked at by the next export: files the index does not know.
fn set_aside_arrived(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    held: &[Held],
    names: &mut HashSet<(Folder, Box<str>)>,
) -> io::Result<SetAside> {
    use super::index::ConventionalNames;
    let wanted: HashMap<CoinId, &Held> = held.iter().map(|h| (h.coin.id(), h)).collect();
    let conventional = ConventionalNames::new();
    // Hidden names are temporary files (the listing skips them too); a conventional name the
    // index holds is its coin's own file. A file on its way to `Sent` is another export's.
    names.retain(|(_, name)| !name.starts_with('.'));
    let candidates: Vec<(Folder, Box<str>)> = {
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        names.retain(|(folder, name)| {
            conventional.id_of(name).is_none_or(|id| !s.holds_file(id, *folder, name))
        });
        names.iter().filter(|k| !s.leaving.contains(*k)).cloned().collect()
    };
    let mut read = Vec::new();
    for (folder, name) in candidates {
        let path = layout.folder(wallet, folder).join(&*name);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            // Gone, or not a file (the listing skips those): nothing to look at again.
            _ => {
                names.remove(&(folder, name));
                continue;
            }
        }
        // Not a coin (yet: a copy may still be being written): looked at again next time.
        let Ok(coin) = read_single_coin(&path) else { continue };
        read.push((folder, name, coin));
    }
    {
        // A file the index holds under a name of its own is its coin's.
        let s = state.lock().unwrap_or_else(|p| p.into_inner());
        read.retain(|(folder, name, coin)| {
            let own = s.holds_file(coin.id(), *folder, name);
            if own {
                names.remove(&(*folder, name.clone()));
            }
            !own
        });
    }
    let mut moved = 0;
    let mut touched = std::collections::BTreeSet::new();
    for (folder, name, coin) in read {
        let Some(h) = wanted.get(&coin.id()) else { continue };
        let own = h.file.get(&h.coin);
        let Some(to) =
            move_copy_aside(layout, wallet, (h.folder, &own), folder, &name, Folder::Trash)?
        else {
            continue;
        };
        names.remove(&(folder, name.clone()));
        touched.extend([folder, Folder::Trash]);
        moved += 1;
        log_set_aside(wallet, &coin, h, folder, &name, &to);
    }
    for folder in touched {
        crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    }
    Ok(SetAside { moved, listed: HashMap::new() })
}

/// Logs a copy of an exported coin moved to `Trash`: a warning for the same keys, an error for
/// other keys.
fn log_set_aside(wallet: &WalletName, coin: &Coin, h: &Held, folder: Folder, name: &str, to: &str) {
    if coin.ans == h.coin.ans {
        tracing::warn!(wallet = %wallet, coin = %coin.id(), from = %format!("{}/{name}", folder.name()), to = %format!("Trash/{to}"), "a second copy of a coin being exported was moved to Trash");
    } else {
        tracing::error!(wallet = %wallet, coin = %coin.id(), from = %format!("{}/{name}", folder.name()), to = %format!("Trash/{to}"), "a file with this coin id but other keys was moved to Trash; check it with the RAIDA");
    }
}

/// [`set_aside_copies`] by listing every held folder and reading each file the index does not
/// know.
fn set_aside_listed(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    held: &[Held],
) -> io::Result<SetAside> {
    let wanted: HashMap<CoinId, &Held> = held.iter().map(|h| (h.coin.id(), h)).collect();
    let known = KnownFiles::of(&state.lock().unwrap_or_else(|p| p.into_inner()));
    let mut moved = 0;
    let mut listed = HashMap::with_capacity(held.len());
    let mut touched = std::collections::BTreeSet::new();
    for (nth, folder) in Folder::HELD.into_iter().enumerate() {
        let dir = layout.folder(wallet, folder);
        let mut names = Vec::new();
        for (at, entry) in (0u32..).zip(fs::read_dir(&dir)?) {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            match known.which(folder, &name) {
                None => names.push(name),
                Some(Some(id)) if wanted.contains_key(&id) => {
                    listed.insert(id, (nth, at));
                }
                Some(_) => {}
            }
        }
        for name in names {
            let Ok(coin) = read_single_coin(&dir.join(&name)) else { continue };
            let Some(h) = wanted.get(&coin.id()) else { continue };
            // Gone since the listing (another export's file on its way to Sent, or moved by
            // other software), or the coin's own file moved here by other software: nothing to
            // set aside.
            let own = h.file.get(&h.coin);
            let Some(to) =
                move_copy_aside(layout, wallet, (h.folder, &own), folder, &name, Folder::Trash)?
            else {
                continue;
            };
            touched.extend([folder, Folder::Trash]);
            moved += 1;
            log_set_aside(wallet, &coin, h, folder, &name, &to);
        }
    }
    for folder in touched {
        crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    }
    Ok(SetAside { moved, listed })
}

/// What [`set_aside_copies`] did, and what it saw.
#[derive(Debug)]
pub(crate) struct SetAside {
    /// Copies moved to `Trash`.
    pub(crate) moved: usize,
    /// For each held coin whose file has its conventional name: the folder (its place in
    /// [`Folder::HELD`]) and the place in that folder's listing where the file was found. Moving
    /// the files in that order touches the folders' blocks one after the other, as the listing
    /// does (measured: about a tenth faster than in coin order for 65,535 coins on ext4).
    pub(crate) listed: HashMap<CoinId, (usize, u32)>,
}

/// Moves coin files (folder, file name) of a wallet into `to`, under their own name or the next
/// free one, then syncs each directory touched once. Returns the places (in `files`' order) of
/// the files no longer in their folder: a crash may have interrupted the move before, or other
/// software sharing the wallet may have moved the file to another folder — the caller looks the
/// coin up ([`move_found_coins`]), it never takes a missing file for moved.
///
/// Each coin costs one `renameat2(RENAME_NOREPLACE)` between directory handles, which fails
/// rather than replace anything; only a taken name (then the next free one is looked for) or a
/// missing source (then the source is checked, so a vanished destination is an error, not a
/// move) costs more.
pub(crate) fn move_coins<N: AsRef<str>>(
    layout: &Layout,
    wallet: &WalletName,
    files: impl ExactSizeIterator<Item = (Folder, N)>,
    to: Folder,
    mid_step: crate::fault::FaultPoint,
) -> io::Result<Vec<usize>> {
    move_coins_with(layout, wallet, files, to, || crate::fault::point(mid_step))
}

/// [`move_coins`], calling `halfway` once half the files are moved (the pipeline's own fault
/// point: the store knows none).
pub(crate) fn move_coins_with<N: AsRef<str>>(
    layout: &Layout,
    wallet: &WalletName,
    files: impl ExactSizeIterator<Item = (Folder, N)>,
    to: Folder,
    halfway: impl FnOnce() -> io::Result<()>,
) -> io::Result<Vec<usize>> {
    let mut halfway = Some(halfway);
    let dest = fs::File::open(layout.folder(wallet, to))?;
    let mut sources: BTreeMap<Folder, fs::File> = BTreeMap::new();
    let mut touched = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    let half = files.len() / 2;
    for (i, (folder, file)) in files.enumerate() {
        let file = file.as_ref();
        let source = match sources.entry(folder) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(fs::File::open(layout.folder(wallet, folder))?)
            }
        };
        if move_one(source, file, &dest)?.is_none() {
            missing.push(i);
            continue;
        }
        touched.insert(folder);
        if i == half
            && let Some(halfway) = halfway.take()
        {
            halfway()?;
        }
    }
    // The destination and each source folder at once: one flush of the disk can then serve
    // them all, where one after the other each waits for its own.
    sync_all_at_once(std::iter::once(&dest).chain(touched.iter().filter_map(|f| sources.get(f))))?;
    Ok(missing)
}

/// Fsyncs every one of `dirs`, each on a thread of its own but the first (here, one after the
/// other, where no thread can be started); returns the first error.
fn sync_all_at_once<'a>(dirs: impl Iterator<Item = &'a fs::File>) -> io::Result<()> {
    let dirs: Vec<&fs::File> = dirs.collect();
    let Some((first, others)) = dirs.split_first() else { return Ok(()) };
    std::thread::scope(|scope| {
        let spawned: Vec<_> = others
            .iter()
            .map(|dir| {
                std::thread::Builder::new()
                    .name("folder-fsync".into())
                    .spawn_scoped(scope, || dir.sync_all())
                    .map_err(|_| *dir)
            })
            .collect();
        let mut result = first.sync_all();
        for handle in spawned {
            let synced = match handle {
                Ok(h) => h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(dir) => dir.sync_all(),
            };
            result = result.and(synced);
        }
        result
    })
}

/// Moves `file` from the folder `source` into `dest` under its name or the next free one, never
/// replacing anything. Returns the name it got there, or `None` when it is no longer in
/// `source`.
///
/// `renameat2(RENAME_NOREPLACE)`; where the file system refuses that flag, `link` (which never
/// replaces) then `unlink` of the source name ([`crate::dir::rename_no_replace_at`]) — a crash
/// between the two leaves the coin under both names, which the start-up scan settles as two
/// files of one coin.
pub(crate) fn move_one(
    source: &fs::File,
    file: &str,
    dest: &fs::File,
) -> io::Result<Option<String>> {
    use crate::dir::{Renamed, rename_no_replace_at};
    use rustix::fs::{AtFlags, statat};
    use rustix::io::Errno;
    use std::os::fd::AsFd;
    let mut name = file.to_owned();
    loop {
        let moved = rename_no_replace_at(
            source.as_fd(),
            file,
            dest.as_fd(),
            name.as_str(),
            || Ok(()),
            || Ok(()),
        );
        let errno = match moved {
            Ok(Renamed::Atomic | Renamed::Linked(None)) => return Ok(Some(name)),
            // Under both names now: an error, so the move is tried again (by recovery).
            Ok(Renamed::Linked(Some(e))) => return Err(e),
            Err(e) => match Errno::from_io_error(&e) {
                Some(errno) => errno,
                None => return Err(e),
            },
        };
        match errno {
            Errno::EXIST => {
                // Taken in the destination: the next free name (a name that cannot be probed
                // counts as free; the rename then says why).
                let next = cloudcoin_domain::unique_file_name(file, |n| {
                    statat(dest, n, AtFlags::SYMLINK_NOFOLLOW).is_ok()
                });
                if next == name {
                    return Err(Errno::EXIST.into());
                }
                name = next;
            }
            Errno::NOENT => {
                return match statat(source, file, AtFlags::SYMLINK_NOFOLLOW) {
                    Err(Errno::NOENT) => Ok(None),
                    // The source is there: the destination is what is missing.
                    Ok(_) => Err(Errno::NOENT.into()),
                    Err(e) => Err(e.into()),
                };
            }
            e => return Err(e.into()),
        }
    }
}

/// A coin whose file `file` in `from` gets new content `coin` (its new keys after a claim or a
/// fix) and then moves to `to` (its grade's folder; `from` again when it stays).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rewrite<'a> {
    pub(crate) coin: &'a Coin,
    pub(crate) from: Folder,
    pub(crate) file: &'a str,
    pub(crate) to: Folder,
}

/// Puts each coin's new content on disk in place of its file, then moves the file to its
/// folder, never replacing anything there. Returns each coin's name in its new folder, in
/// `rewrites`' order (`None` when its file was no longer in `from`). Blocking.
///
/// 1. The new contents are written beside the files they replace (`.keys-{uuid}.tmp`), made
///    durable at once (one `syncfs` per folder);
/// 2. each is renamed over its coin's file — the one replacing rename of the store: the same
///    coin, its new keys — and the folders are synced;
/// 3. each file is moved to its folder with [`move_one`], and every folder touched is synced.
///
/// A crash at any point leaves each coin in exactly one file, holding either its keys before or
/// after.
pub(crate) fn rewrite_coins(
    layout: &Layout,
    wallet: &WalletName,
    rewrites: &[Rewrite<'_>],
) -> io::Result<Vec<Option<String>>> {
    use std::io::Write;
    // 1. The new contents, beside the files they replace, made durable at once.
    let mut temps = Vec::with_capacity(rewrites.len());
    let mut touched = std::collections::BTreeSet::new();
    for x in rewrites {
        let dir = layout.folder(wallet, x.from);
        let temp = dir.join(format!(".keys-{}.tmp", uuid::Uuid::new_v4().simple()));
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(x.coin))
            .map_err(std::io::Error::other)?;
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        f.write_all(&bytes)?;
        temps.push(temp);
        touched.insert(x.from);
    }
    for from in &touched {
        crate::dir::sync_file_system(&layout.folder(wallet, *from))?;
    }
    // 2. Each renamed over its coin's file: the coin now has its new keys on disk.
    for (x, temp) in rewrites.iter().zip(&temps) {
        fs::rename(temp, layout.folder(wallet, x.from).join(x.file))?;
    }
    for from in &touched {
        crate::durable::sync_dir(&layout.folder(wallet, *from))?;
    }
    // 3. Each file moved to its grade's folder, never replacing anything (each folder opened
    // once for the batch, not twice a coin).
    let mut names = Vec::with_capacity(rewrites.len());
    let mut dests = std::collections::BTreeSet::new();
    let mut handles: BTreeMap<Folder, fs::File> = BTreeMap::new();
    for x in rewrites {
        if x.to == x.from {
            names.push(Some(x.file.to_owned()));
            continue;
        }
        for folder in [x.from, x.to] {
            if let std::collections::btree_map::Entry::Vacant(slot) = handles.entry(folder) {
                slot.insert(fs::File::open(layout.folder(wallet, folder))?);
            }
        }
        names.push(move_one(&handles[&x.from], x.file, &handles[&x.to])?);
        dests.insert(x.to);
    }
    for folder in dests.iter().chain(&touched) {
        crate::durable::sync_dir(&layout.folder(wallet, *folder))?;
    }
    Ok(names)
}

/// Moves into `to` every file in the wallet's held folders that holds one of the coins `wanted`
/// — the coins of an export whose recorded files were not where the journal says (other
/// software moved them between held folders, or a crash interrupted the move). Files the index
/// of `known` holds (other coins' files, another export's files on their way out) are not
/// touched. `keys` gives the keys of the exported coins where they are known: a file of the same
/// id with other keys is a different claim and is left where it is (logged). At most one file
/// of each coin is moved: another file of the same coin is a second copy, which is left for the
/// wallet (an import of the export's own file may have stored the coin again). And while the
/// service runs (`known` is its index, from which the export has already dropped its coins) a
/// coin the index holds is the wallet's again — an import stored it, or is storing it and has
/// not named its file yet — so no file of it is taken. Returns the coins found and moved.
/// Blocking; reads every file it does not know, so it is called only when a file was missing.
pub(crate) fn move_found_coins(
    layout: &Layout,
    wallet: &WalletName,
    wanted: &HashSet<CoinId>,
    known: Option<&Mutex<WalletState>>,
    keys: &HashMap<CoinId, Arc<Coin>>,
    to: Folder,
) -> io::Result<HashSet<CoinId>> {
    let (known, held) = match known {
        Some(state) => {
            let state = state.lock().unwrap_or_else(|p| p.into_inner());
            let held: HashSet<CoinId> =
                wanted.iter().filter(|id| state.coins.get(id).is_some()).copied().collect();
            (Some(KnownFiles::of(&state)), held)
        }
        None => (None, HashSet::new()),
    };
    let dest = fs::File::open(layout.folder(wallet, to))?;
    let mut found = HashSet::new();
    let mut touched = Vec::new();
    for folder in Folder::HELD {
        let path = layout.folder(wallet, folder);
        let source = fs::File::open(&path)?;
        let mut moved_here = false;
        for entry in fs::read_dir(&path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !entry.file_type()?.is_file() {
                continue;
            }
            if known.as_ref().is_some_and(|k| k.which(folder, &name).is_some()) {
                continue;
            }
            let Ok(coin) = read_single_coin(&path.join(&name)) else { continue };
            let id = coin.id();
            if !wanted.contains(&id) || found.contains(&id) {
                continue;
            }
            let place = format!("{}/{name}", folder.name());
            if held.contains(&id) {
                tracing::warn!(wallet = %wallet, coin = %id, file = %place, "an exported coin whose file was not where the journal says is in the wallet again (imported since): its file stays");
                continue;
            }
            if keys.get(&id).is_some_and(|exported| exported.ans != coin.ans) {
                tracing::error!(wallet = %wallet, coin = %id, file = %place, "a file with an exported coin's id but other keys is left where it is; check it with the RAIDA");
                continue;
            }
            if let Some(to_name) = move_one(&source, &name, &dest)? {
                tracing::warn!(wallet = %wallet, coin = %id, from = %place, to = %format!("{}/{to_name}", to.name()), "an exported coin's file was not where the journal says (moved by other software?); found and moved");
                found.insert(id);
                moved_here = true;
            }
        }
        if moved_here {
            touched.push(source);
        }
    }
    if !touched.is_empty() {
        dest.sync_all()?;
        for source in touched {
            source.sync_all()?;
        }
    }
    Ok(found)
}

/// Writes each coin into its own temporary file `.{coin file name}{suffix}` in `bank`, not yet
/// synced (the caller syncs the file system once for all of them). Returns each temporary path
/// with the coin's file name; on failure the files already written are removed.
pub(crate) fn write_temps<C: std::borrow::Borrow<Coin>>(
    bank: &std::path::Path,
    coins: &[C],
    suffix: &str,
) -> std::io::Result<Vec<(std::path::PathBuf, String)>> {
    let mut temps: Vec<(std::path::PathBuf, String)> = Vec::with_capacity(coins.len());
    let written = coins.iter().try_for_each(|coin| {
        let coin: &Coin = coin.borrow();
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin))
            .map_err(|e| std::io::Error::other(crate::durable::error_chain(&e)))?;
        let base = super::layout::coin_file_name(coin);
        let temp = bank.join(format!(".{base}{suffix}"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(crate::folder::OUTPUT_MODE)
            .open(&temp)?;
        temps.push((temp, base));
        std::io::Write::write_all(&mut f, &bytes)
    });
    if let Err(e) = written {
        for (temp, _) in &temps {
            crate::durable::remove_if_exists(temp);
        }
        return Err(e);
    }
    Ok(temps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::FaultPoint;
    use crate::fixtures::coin;
    use crate::store::fixtures::{layout_with_wallet, put};

    #[test]
    fn moving_coins_skips_files_already_moved_and_never_replaces() {
        let (_tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        let sent = layout.folder(&name, Folder::Sent);
        put(&bank, "a.bin", &[coin(0, 1)]);
        put(&sent, "a.bin", &[coin(0, 9)]);
        let files = [(Folder::Bank, "a.bin".to_owned()), (Folder::Bank, "moved.bin".to_owned())];
        let missing = move_coins(
            &layout,
            &name,
            files.iter().cloned(),
            Folder::Sent,
            FaultPoint::ExportMidMove,
        )
        .expect("move");
        assert_eq!(missing, [1], "a missing file is reported, not taken for moved");
        assert!(!bank.join("a.bin").exists());
        assert!(sent.join("a (2).bin").exists());
        assert_eq!(read_single_coin(&sent.join("a.bin")).map(|c| c.serial.get()), Ok(9));
        let missing = move_coins(
            &layout,
            &name,
            files.iter().cloned(),
            Folder::Sent,
            FaultPoint::ExportMidMove,
        )
        .expect("a second run moves nothing");
        assert_eq!(missing, [0, 1]);
        assert_eq!(fs::read_dir(&sent).expect("sent").count(), 2);
    }

    #[test]
    fn moving_into_a_vanished_folder_fails_and_leaves_the_coin() {
        let (_tmp, layout, name) = layout_with_wallet();
        let bank = layout.folder(&name, Folder::Bank);
        let trash = layout.folder(&name, Folder::Trash);
        put(&bank, "a.bin", &[coin(0, 1)]);
        put(&bank, "b.bin", &[coin(0, 2)]);
        fs::create_dir(trash.join("sub")).expect("mkdir");
        let files = [(Folder::Bank, "a.bin".to_owned()), (Folder::Bank, "b.bin".to_owned())];
        // Trash is opened, then removed: every rename into it fails with "not found".
        let dest = fs::File::open(&trash).expect("open");
        fs::remove_dir(trash.join("sub")).expect("rmdir");
        fs::remove_dir(&trash).expect("rmdir");
        let source = fs::File::open(&bank).expect("open");
        let e = move_one(&source, "a.bin", &dest).expect_err("the destination is gone");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(bank.join("a.bin").exists(), "the coin stays where it was");
        assert!(
            move_coins(
                &layout,
                &name,
                files.iter().cloned(),
                Folder::Trash,
                FaultPoint::ExportMidMove
            )
            .is_err()
        );
        assert!(bank.join("a.bin").exists() && bank.join("b.bin").exists());
        assert!(move_one(&source, "missing.bin", &dest).expect("gone is no error").is_none());
    }
}
