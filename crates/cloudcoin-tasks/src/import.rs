//! The import pipeline: coins read from files or inline data, stored durably in `Bank`.
//!
//! Each item is read and decoded on its own, so one bad item never stops the others. Coins the
//! wallet holds already (Bank, Fracked, Limbo, Suspect) are counted, not stored twice; a coin in
//! two items is stored once. New coins are claimed in the index first (so a racing import cannot
//! store them too; it waits for this one instead of counting them as present), then all written
//! as files with no name in `Bank` (named temporary files where the file system cannot make
//! those), made durable by one `syncfs` of `Bank`'s own file system per batch,
//! published under their single-coin names without replacing anything, and `Bank` is synced once:
//! a few syncs per import (one per batch of up to 4,096 coins), never one per coin.
//!
//! **Memory: one copy of each coin.** A file named by its path is read coin by coin
//! (`read_each`; a picture is read whole, to scan), so its bytes and its coins are never held
//! at once; an item found broken half-way gives back the coins taken from it. A new coin is
//! claimed in the index as the same allocation the import goes on with (`Arc`), and the look
//! at the other folders borrows the coins. A 65,535-coin stack (62 MB of text) is imported in
//! about the memory of its coins.
//!
//! # Storing, step by step
//!
//! Import writes a record `{op:"import", id, wallet}` first (`import:after_journal`), claims the
//! new coins in the index as `Incoming(task)` (a racing import of the same coins waits for this
//! one, see `crate::store`'s `index`), and stores each new coin in `Bank` through a handle on
//! `Bank`:
//!
//! - **unnamed files** (the usual way): each coin is written to a file with no name
//!   (`openat(bank, ".", O_TMPFILE)`, mode 0600), batch by batch (at most an eighth of the
//!   process's open-file limit, 64 to 4,096 files; two batches are open at a time); **one**
//!   `syncfs` of `Bank`'s file system per batch makes the batch durable; then each file is linked
//!   under its coin's name (`linkat` of the descriptor itself, `AT_EMPTY_PATH`, where the kernel
//!   allows it — with `CAP_DAC_READ_SEARCH`, and on recent kernels for the process that opened the
//!   file —; once refused, from `/proc/self/fd/N` with
//!   `AT_SYMLINK_FOLLOW`; a taken name fails with `EEXIST` and the next free name ` (2)`… is tried
//!   — nothing is replaced) and closed (`import:mid_store` half-way). A second thread writes the
//!   next batch while the task's thread links the one before (linking holds `Bank`'s lock, writing
//!   unnamed files does not); a failure on either side stops both, and the coins linked by then are
//!   the ones stored. One name
//!   is created per coin, and only for a complete, durable file; a crash or an error before a link
//!   leaves nothing behind, since an unnamed file vanishes with its last handle. There is no
//!   temporary name, so no `import:unlink_temp` on this path.
//! - **named temporary files**, where the file system cannot make unnamed files (the fallback, also
//!   taken with `CLOUDCOIN_FAULT_NO_TMPFILE`): every new coin to its own `.{name}.{id}.partial`
//!   (`create_new`, no fsync yet), **one** `syncfs`, then each published without replacing — a hard
//!   link, then the temporary name removed (`import:unlink_temp` after each link,
//!   `import:mid_store` half-way).
//!
//! Then one fsync of `Bank` (`import:after_store`), the transaction row, the task outcome, and the
//! record is removed. **Invariant:** a coin's file gets its name in `Bank` only once its bytes are
//! durable, so a name in `Bank` is never a partial coin. Kept by
//! `faults::a_crash_at_any_import_step_leaves_whole_coins_and_a_retry_finishes` (every step, both
//! ways) and `import_faults::a_failed_cleanup_after_a_coin_is_published_is_not_a_failure` (the
//! fallback's `import:unlink_temp`).
//!
//!
//! **Rule: a constant number of syncs per operation, never one per coin.** Many files are written
//! first, then made durable together (one `syncfs` of the file system of the folder they are in —
//! for an import, called on a handle of `Bank` itself, so a `Bank` that is a mount of its own, or a
//! symbolic link to another disk, is covered; an import's files are all in `Bank`; an import of
//! more coins than one batch of unnamed files holds makes one `syncfs` per batch, 16 for 65,535
//! coins at an open-file limit of 32,768 or more (measured: the syncs of 16 batches take as long as
//! one of all the files, about 0.9 s for 65,535 coins here, since they write the same data) — or
//! one fsync of a single output file),
//! then renamed or linked, then each directory touched is fsynced once. The journal record and the
//! task record add a fixed number of syncs each (`write_atomic`: file and folder). A file gets its
//! final name only after its bytes are durable, so a crash never leaves a partial file under a
//! final name, only unnamed files, which vanish, or temporary files, which recovery removes. Backup
//! refuses a folder with a symbolic link on its name's way as an export does, writes a record like
//! an export's (no coins to move) and follows the same unnamed-file, fsync, verify, publish steps.
//!
//! With the RAIDA network on, the import claims its new coins (`crate::claim` has the steps): one
//! write-ahead record of the batch with every coin's ANs and PANs, the pown (each coin's `Bank`
//! file written meanwhile, unnamed, see `claiming`), then each coin stored once, in its grade's
//! folder, the same way as above, and the record removed before the coins are free.
//!
//! # Claims, and "already present"
//!
//! **Invariant: "Already present" means durably stored in this wallet.** Kept by
//! `tests/it/import_faults.rs`: `a_coin_another_import_is_storing_is_never_already_present` (import
//! A paused half-way, then ENOSPC; import B of the same file started meanwhile). A coin claimed by
//! a running import is `Incoming(that task)` in the index, which is not "in the wallet": an import
//! that meets such a coin waits (its message says "Waiting for import …") until the other import
//! settles its claims — stored coins become `Free`, the rest leave the index — and the wallet's
//! condition variable wakes it. Claims are taken all at once and only when none of the coins is
//! busy, so two imports never wait for each other. A coin counted as present is `Free`,
//! `Healing` or `Blocked`: its file is published and synced, and it stays. A coin `Reserved` by an
//! export of the wallet is refused (the file kept): the export may have published it already, so
//! it may be on its way to `Sent`. If the held coin has other keys than the file
//! being imported (other ANs, or PANs the held one lacks), the coin is not counted as present but
//! rejected, with a message telling the user to keep the file. With the network, a coin the
//! wallet holds settled (`Bank`, `Fracked`) counts as present whatever keys the file carries (the
//! wallet's are the ones it claimed from them); one still in `Limbo` does not (the file's keys
//! may be the live ones: the file is kept and imported again once the coin settles), and a coin
//! graded counterfeit is not held at all: arriving again, it is claimed like a new one. Kept by
//! `bins/cloudcoin-server/tests/it/claim.rs` (`a_coin_counterfeit_once_is_claimed_…`,
//! `a_file_with_other_keys_for_a_coin_in_limbo_…`) and the network campaign.
//!
//! **Invariant: A step that already took effect is never reported as failed.** Kept (for imports)
//! by `tests/it/import_faults.rs`: `a_failed_cleanup_after_a_coin_is_published_is_not_a_failure`
//! (`CLOUDCOIN_FAULT_IO=import:unlink_temp`). Publishing a coin is its link (of the unnamed file,
//! or — on the fallback — of the temporary file); once it exists the coin is stored, whatever the
//! removal of the temporary name does next: a failed removal is logged and tried once more at the
//! end of the import; a name still left is removed at the next start
//! (`import::remove_stale_temporaries`, before anything is served: a `.{name}.{task id}.partial` in
//! `Bank` whose coin is held with the same ANs is removed, anything else there under such a name
//! goes to `Trash`). The index and the task result always count the linked coin as stored.
//!
//! # The start-up pick-up of `Import`
//!
//! Coin files dropped into `Import` are stored in `Bank` at start-up (coins already held are
//! skipped; per dropped file one `syncfs` before the coins are published and one sync of each
//! folder touched, as for an import) and the file then moves to `Imported`;
//! a file leaves `Import` only after all its coins are stored, so an interrupted pick-up is simply
//! repeated. Files in `Import` that are not coin files stay where they are.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io::{Read as _, Seek as _, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use cloudcoin_codec::{
    Limits, PaperScan, decode_any, is_picture_to_scan, read_each, read_pages, scan_picture,
};
use cloudcoin_domain::{Amount, Coin, CoinId, Tag, WalletName, total_value};

use crate::dir::Dir;
use crate::durable::{self, error_chain, now_unix};
use crate::export::lock;
use crate::fault::{self, FaultPoint};
use crate::journal::{Journal, Op, Record};
use crate::records::{self, Transaction};
use crate::step::StepError;
use crate::store::{
    Entry, Folder, Hold, Layout, WalletState, coin_file_name, read_single_coin, write_temps,
};
use crate::task::{
    FailureKind, ImportResult, RefusalKind, Rejection, TaskFailure, TaskId, TaskOutcome, count,
};
use crate::tracker::Tracker;
use cloudcoin_wire::ImportItem;

mod claiming;

/// Most items one import request may hold.
pub(crate) const MAX_ITEMS: usize = 1_000;
/// Largest inline item, as base64 text (32 MiB of data). It stays below the API's import body
/// limit so that an oversized item is rejected on its own while the other items are imported;
/// larger files are imported by path.
pub(crate) const MAX_INLINE_BASE64: usize = (32 << 20) / 3 * 4 + 4;
/// Largest file an item may name.
pub(crate) const MAX_FILE_BYTES: u64 = 256 << 20;

/// Everything an import task needs.
#[derive(Debug)]
pub(crate) struct ImportJob {
    pub(crate) id: TaskId,
    pub(crate) wallet: WalletName,
    pub(crate) state: Arc<Mutex<WalletState>>,
    pub(crate) items: Vec<ImportItem>,
    pub(crate) tag: Tag,
    /// The data directory: no item is read from it.
    pub(crate) own_tree: crate::folder::OwnTree,
    /// The other wallets, which must not hold a coin this import stores.
    pub(crate) owners: crate::owners::Owners,
    /// Whether coins this server sent away are stored again.
    pub(crate) allow_sent: bool,
    /// The RAIDA network, when this import claims its coins.
    pub(crate) network: Option<crate::network::Network>,
    /// The claim report when the coins are not claimed (no network, or `"claim": false`).
    pub(crate) claim: crate::report::ClaimReport,
}

/// The bytes of one item, or why it cannot be read. A file is refused when it lies in the data
/// directory `own` (when given; the start-up pick-up reads the wallets' `Import` folders, which
/// are in it): see [`crate::folder::OwnTree::open_import_source`].
fn load(item: &ImportItem, own: Option<&crate::folder::OwnTree>) -> Result<Vec<u8>, String> {
    match item {
        ImportItem::File(path) => {
            let (file, len) = open_item_file(path, own)?;
            read_whole(file, len)
        }
        ImportItem::Bytes(bytes) => {
            if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
                return Err(format!("the data is larger than {MAX_FILE_BYTES} bytes"));
            }
            Ok(bytes.clone())
        }
        ImportItem::InlineBase64(text) => {
            if text.len() > MAX_INLINE_BASE64 {
                return Err(format!(
                    "the inline data is longer than {MAX_INLINE_BASE64} base64 characters (32 MiB); give the file by its path instead"
                ));
            }
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|e| format!("the inline data is not valid base64: {e}"))
        }
        _ => Err("this server does not read this kind of import item".to_owned()),
    }
}

/// Opens the file an import item names, with its length: an absolute path to a regular file
/// of at most [`MAX_FILE_BYTES`], outside `own` when given.
fn open_item_file(
    path: &Path,
    own: Option<&crate::folder::OwnTree>,
) -> Result<(fs::File, u64), String> {
    if !path.is_absolute() {
        return Err("the path is not absolute".to_owned());
    }
    let file = match own {
        Some(own) => own.open_import_source(path)?,
        None => {
            let meta = fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
            if !meta.is_file() {
                return Err("it is not a regular file".to_owned());
            }
            fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?
        }
    };
    let meta = file.metadata().map_err(|e| format!("cannot read the file: {e}"))?;
    if !meta.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("the file is larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok((file, meta.len()))
}

/// All of an opened item file of `len` bytes; one that grew past [`MAX_FILE_BYTES`] since it
/// was opened is refused.
fn read_whole(file: fs::File, len: u64) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(format!("the file is larger than {MAX_FILE_BYTES} bytes"));
    }
    Ok(bytes)
}

/// What an item was, once read.
enum ItemRead {
    /// A coin file: its coins went to the caller one by one.
    Coins,
    /// A photo or scan of printed coins: its bytes, for the QR codes to be read.
    Picture(Vec<u8>),
}

/// Reads the item `item`, giving each of its coins to `each` in file order, or returns the
/// bytes of a picture to scan.
///
/// A file named by its path is read coin by coin ([`read_each`], which accepts and refuses
/// exactly what `decode_any` does), so the import never holds a file's bytes and its coins at
/// once (a 65,535-coin stack is 62 MB of text). A file that starts as a picture does (JPEG, or
/// PNG, which holds coins only in a chunk of its own) is read whole, as inline items are. When
/// this fails, coins given to `each` before the error came from an item that is refused: the
/// caller drops them.
fn read_item(
    item: &ImportItem,
    own: Option<&crate::folder::OwnTree>,
    each: &mut dyn FnMut(Coin),
) -> Result<ItemRead, (RefusalKind, String)> {
    let unreadable = |reason: String| (RefusalKind::Unreadable, reason);
    let whole = |bytes: Vec<u8>, each: &mut dyn FnMut(Coin)| {
        if is_picture_to_scan(&bytes) {
            return Ok(ItemRead::Picture(bytes));
        }
        let coins = decode_any(&bytes, &Limits::default()).map_err(|e| codec_refusal(&e))?;
        drop(bytes);
        coins.into_iter().for_each(each);
        Ok(ItemRead::Coins)
    };
    let ImportItem::File(path) = item else {
        return whole(load(item, own).map_err(unreadable)?, each);
    };
    let (mut file, len) = open_item_file(path, own).map_err(unreadable)?;
    let cannot = |e: std::io::Error| unreadable(format!("cannot read the file: {e}"));
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]).map_err(cannot)? {
            0 => break,
            n => got += n,
        }
    }
    file.rewind().map_err(cannot)?;
    if is_picture_to_scan(&head[..got]) || head[..got].starts_with(PNG_START) {
        return whole(read_whole(file, len).map_err(unreadable)?, each);
    }
    let file = AtMost { file, read: 0 };
    read_each(file, &Limits::default(), &mut |coin| {
        each(coin);
        Ok(())
    })
    .map_err(|e| codec_refusal(&e))?;
    Ok(ItemRead::Coins)
}

/// The refusal of an item the codec could not read: unreadable when reading the bytes failed
/// (the file vanished or grew past the limit), else not coins.
fn codec_refusal(e: &cloudcoin_codec::CodecError) -> (RefusalKind, String) {
    let kind = match e {
        cloudcoin_codec::CodecError::Io(_) => RefusalKind::Unreadable,
        _ => RefusalKind::NotCoins,
    };
    (kind, reason_of(e))
}

/// The first bytes of every PNG file.
const PNG_START: &[u8] = b"\x89PNG\r\n\x1a\n";

/// An item file read no further than [`MAX_FILE_BYTES`]: one that grew past it since it was
/// opened fails to read, as [`load`] refuses it, instead of filling memory.
struct AtMost {
    file: fs::File,
    /// Where in the file the next read starts.
    read: u64,
}

impl std::io::Read for AtMost {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.read > MAX_FILE_BYTES {
            let larger = format!("the file is larger than {MAX_FILE_BYTES} bytes");
            return Err(std::io::Error::other(larger));
        }
        let n = self.file.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for AtMost {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.read = self.file.seek(to)?;
        Ok(self.read)
    }
}

/// The coins an import read, each with the item it came from: the first copy of each coin.
#[derive(Default)]
struct Found {
    ids: HashSet<CoinId>,
    coins: Vec<(usize, Coin)>,
}

impl Found {
    /// Takes `coin` of item `i` (named `source`): a rejection (in `rejected`) when it is not
    /// money, kept when it is the first copy, left when it is another.
    fn take(&mut self, i: usize, coin: Coin, source: &str, rejected: &mut Vec<Rejection>) {
        if !coin.denomination.is_money() {
            rejected.push(Rejection {
                item: count(i),
                source: source.to_owned(),
                kind: RefusalKind::NotMoney,
                reason: format!(
                    "coin #{} has denomination code {}, which is not money; it was not imported",
                    coin.serial,
                    coin.denomination.code()
                ),
            });
        } else if self.ids.insert(coin.id()) {
            self.coins.push((i, coin));
        }
    }

    /// Drops the coins taken since there were `kept`: those of an item refused after all.
    fn drop_from(&mut self, kept: usize) {
        for (_, coin) in self.coins.drain(kept..) {
            self.ids.remove(&coin.id());
        }
    }
}

/// Why an item's bytes are no coins, for the client: the codec's error and its causes, but only
/// the causes that are the codec's own (or a coin or i/o error). A library's message (the JSON
/// reader's, say) can quote the bytes it stopped at, and an item may be a file the client could
/// not read itself: a rejection says what the file is not, never what it contains.
fn reason_of(e: &cloudcoin_codec::CodecError) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let ours = s.is::<cloudcoin_codec::CodecError>()
            || s.is::<cloudcoin_domain::CoinError>()
            || s.is::<std::io::Error>();
        if !ours {
            break;
        }
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn source_of(index: usize, item: &ImportItem) -> String {
    match item {
        ImportItem::File(p) => p.to_string_lossy().into_owned(),
        ImportItem::InlineBase64(_) => format!("inline #{index}"),
        ImportItem::Bytes(_) => format!("bytes #{index}"),
        _ => format!("item #{index}"),
    }
}

/// Runs an import to its end. Blocking.
pub(crate) fn run(
    layout: &Layout,
    journal: &Journal,
    tracker: &Tracker,
    job: &ImportJob,
) -> TaskOutcome {
    tracker.advance(job.id, 5, Some("Reading items"));
    let record = Record::new(Op::Import, job.id.to_string(), job.wallet.as_str().to_owned());
    if let Err(e) =
        journal.write(&record).and_then(|()| fault::point(FaultPoint::ImportAfterJournal))
    {
        return failed(FailureKind::Io, format!("cannot write the journal: {}", error_chain(&e)));
    }

    // Read every item; keep the first copy of each coin, with the item it came from. A file's
    // coins come one by one (see `read_item`); those of an item refused half-way go again.
    let mut rejected = Vec::new();
    let mut found = Found::default();
    // Photos and scans of printed pages: read their QR codes now, combine them below.
    let mut pictures: Vec<(usize, String, PaperScan)> = Vec::new();
    let n = job.items.len().max(1);
    for (i, item) in job.items.iter().enumerate() {
        let source = source_of(i, item);
        let (kept, mut not_money) = (found.coins.len(), Vec::new());
        let read = read_item(item, Some(&job.own_tree), &mut |coin| {
            found.take(i, coin, &source, &mut not_money);
        })
        .and_then(|read| match read {
            ItemRead::Coins => Ok(()),
            ItemRead::Picture(bytes) => {
                let scan =
                    scan_picture(&bytes).map_err(|e| (RefusalKind::PaperUnread, reason_of(&e)))?;
                pictures.push((i, source.clone(), scan));
                Ok(())
            }
        });
        match read {
            Ok(()) => rejected.append(&mut not_money),
            Err((kind, reason)) => {
                found.drop_from(kept);
                rejected.push(Rejection { item: count(i), source, kind, reason });
            }
        }
        tracker.advance(job.id, 5 + (45 * (i + 1) / n) as u8, None);
    }
    // The codes of all the pictures are grouped by the page they name (pictures of several pages
    // may come in any order, a page's halves in two pictures): a whole page gives its coins, a
    // page with a code missing gives nothing and every picture showing part of it is refused,
    // naming the page, what is missing and the other pages the picture shows. Pages printed
    // before codes named their page form one group, as they always did. A picture with no code
    // at all is refused on its own.
    let scans: Vec<&PaperScan> = pictures.iter().map(|(_, _, scan)| scan).collect();
    let pages = read_pages(scans.iter().copied());
    for (i, source, scan) in &pictures {
        if scan.code_count().is_none() {
            let reason = reason_of(&cloudcoin_codec::PaperError::NoCodes.into());
            let kind = RefusalKind::PaperUnread;
            rejected.push(Rejection { item: count(*i), source: source.clone(), kind, reason });
        }
    }
    for page in &pages {
        let Some(&first) = page.scans().first() else { continue };
        match page.coins() {
            Ok(coins) => {
                let (i, source, _) = &pictures[first];
                for coin in coins {
                    found.take(*i, coin.clone(), source, &mut rejected);
                }
            }
            Err(e) => {
                for &k in page.scans() {
                    let (i, source, scan) = &pictures[k];
                    let others: Vec<String> = scan
                        .page_codes()
                        .into_iter()
                        .filter(|code| Some(code.as_str()) != page.page_code())
                        .collect();
                    let mut reason = reason_of(e);
                    if !others.is_empty() {
                        reason.push_str(&format!(
                            "; this picture also shows codes of page {}: pictures of different \
                             pages are read page by page, and nothing of page {} was imported",
                            others.join(", page "),
                            page.page_code().unwrap_or("without a page code")
                        ));
                    }
                    let kind = RefusalKind::PaperUnread;
                    rejected.push(Rejection {
                        item: count(*i),
                        source: source.clone(),
                        kind,
                        reason,
                    });
                }
            }
        }
    }

    let Found { coins: mut found, ids } = found;
    drop(ids);
    // With the network, each new coin gets 25 fresh PANs, written in the claim's record before
    // any RAIDA hears of them, and is stored once, in its grade's folder, after the pown (see
    // `claim`). A coin that came with PANs keeps its own (they may be its only live keys): it
    // goes to Limbo unclaimed, for healing to settle.
    let turn = job.network.as_ref().map(|net| net.turn(&job.wallet));
    let _turn = turn.as_ref().map(crate::network::WalletTurn::hold);
    let into = if job.network.is_some() { Folder::Limbo } else { Folder::Bank };
    let keys =
        job.network.as_ref().map(|_| crate::claim::Keys::give(found.iter_mut().map(|(_, c)| c)));
    // Claim the new coins in the index (see `claim`).
    let (fresh, already_present) = match claim(job, tracker, found, into, &mut rejected) {
        Ok(claimed) => claimed,
        Err(outcome) => return *outcome,
    };
    let mut claims =
        Claims { state: &job.state, task: job.id, stored: Vec::new(), record_left: false };
    // Claimed, the coins cannot leave for an export: now look for their files in the other
    // folders of the server. Those left unstored leave the index with the claims. Meanwhile,
    // with the network, the claim's record is written under a temporary name and the coins'
    // `Bank` files are written unnamed (see `claiming`).
    let ahead = keys.as_ref().map(|keys| claiming::Ahead::start(layout, job, keys, &fresh));
    let kept = not_elsewhere_on_disk(layout, job, fresh, &mut rejected);
    let fresh: Vec<Arc<Coin>> = match kept {
        Ok(fresh) => fresh.into_iter().map(|(_, coin)| coin).collect(),
        Err(e) => {
            return failed(
                FailureKind::Io,
                format!("cannot look for the coins in the other wallets: {}", error_chain(&e)),
            );
        }
    };

    let outcome = match &job.network {
        None => {
            tracker.advance(job.id, 50, Some("Storing coins"));
            let bank = layout.folder(&job.wallet, Folder::Bank);
            store_all(tracker, job, &bank, &fresh, &mut claims.stored)
                .map(|()| job.claim.clone())
                .map_err(|e| {
                    let message = e.message();
                    (e.kind, message, "import the items again to store the rest")
                })
        }
        Some(net) => {
            let keys = keys.as_ref().expect("keys are given with the network");
            let claim = claiming::Claim { net, keys, ahead };
            // The claim takes the coins themselves (a copy: a claim is of far fewer coins than
            // the index shares with a plain import).
            let coins: Vec<Coin> = fresh.iter().map(|c| Coin::clone(c)).collect();
            claiming::claim_and_store(layout, tracker, job, claim, &coins, &mut claims)
        }
    };
    // Whatever happened, the index must say what is on disk: the stored coins become free (or
    // blocked, see `claim_and_store`), the others leave the index, and imports waiting for them
    // look again.
    let stored = claims.settle();

    let by_id: std::collections::HashMap<CoinId, &Coin> =
        fresh.iter().map(|c| (c.id(), &**c)).collect();
    let stored_coins: Vec<&Coin> =
        stored.iter().filter_map(|(id, _)| by_id.get(id).copied()).collect();
    let amount = total_value(stored_coins).unwrap_or(Amount::MAX);
    let claim = match outcome {
        Ok(claim) => claim,
        Err((kind, message, then)) => {
            return failed(
                kind,
                format!(
                    "{message}; {} of {} {} stored; {then}",
                    stored.len(),
                    crate::words::counted(fresh.len(), "new coin", "new coins"),
                    crate::words::agree(stored.len(), "was", "were")
                ),
            );
        }
    };
    if !stored.is_empty() {
        let row = records::append_transaction(
            &layout.wallet(&job.wallet),
            &Transaction {
                time: now_unix(),
                kind: "import",
                amount,
                coins: stored.len(),
                tag: job.tag.as_str(),
                file: "",
                id: &record.id,
            },
        );
        if let Err(e) = row {
            tracing::warn!(task = %job.id, error = %e, "cannot write the transaction row");
        }
    }
    tracing::info!(task = %job.id, imported = stored.len(), already_present, rejected = rejected.len(), claimed = claim.claimed, "import completed");
    TaskOutcome::Import(ImportResult {
        imported: count(stored.len()),
        already_present: count(already_present),
        rejected,
        amount,
        claim,
    })
}

/// Claims the coins an import found, under the wallet's lock: a coin the wallet holds is counted
/// as already present (it is durably stored and stays: `Free`, `Healing` or `Blocked`; one `Reserved`
/// by an export is refused, see below) —
/// unless this file holds other keys for it, which is a rejection that tells the user to keep the
/// file; a new coin becomes `Incoming(job.id)`. While any of the coins is `Incoming` for another
/// running import, this one waits for that import to settle its claims (and says so in its
/// progress message), since those coins are not stored yet and may never be. Claims are taken all
/// at once and only when none is busy, so two imports never wait for each other.
/// The coins an import claimed, each with the item it came from, and how many were already
/// present.
type Claimed = (Vec<(usize, Arc<Coin>)>, usize);

fn claim(
    job: &ImportJob,
    tracker: &Tracker,
    found: Vec<(usize, Coin)>,
    into: Folder,
    rejected: &mut Vec<Rejection>,
) -> Result<Claimed, Box<TaskOutcome>> {
    let mut announced = false;
    let ids: Vec<CoinId> = found.iter().map(|(_, c)| c.id()).collect();
    let (_claiming, elsewhere, mut state) = loop {
        // Under the service-wide claim lock, held until the claims are taken: what the other
        // wallets hold, then this wallet (see `crate::owners`).
        let claiming = job.owners.claiming();
        let elsewhere = job.owners.held_elsewhere(&job.wallet, &ids);
        let state = lock(&job.state);
        if state.deleted {
            return Err(Box::new(failed(
                FailureKind::Io,
                "the wallet was deleted while the import ran".to_owned(),
            )));
        }
        let busy = found.iter().find_map(|(_, c)| match state.coins.get(&c.id())?.hold {
            Hold::Incoming(other) if other != job.id => Some(other),
            _ => None,
        });
        let Some(other) = busy else { break (claiming, elsewhere, state) };
        drop(claiming);
        if !announced {
            announced = true;
            tracing::info!(task = %job.id, other = %other, "waiting for a running import of the same coins");
            tracker.advance(
                job.id,
                50,
                Some(&format!(
                    "Waiting for import {other}, which is storing some of the same coins"
                )),
            );
        }
        drop(WalletState::wait_for_claims(state));
    };
    let mut fresh = Vec::new();
    let mut present = 0;
    for (item, coin) in found {
        // A coin graded counterfeit is not held: its file stays in `Counterfeit` (as a record,
        // out of the index after a restart), and the same coin arriving again — with keys the
        // RAIDA may accept — is claimed like a new one, its entry taking the old one's place.
        let own = state.coins.get(&coin.id()).filter(|e| e.folder != Folder::Counterfeit);
        if own.is_none()
            && let Some(held) = elsewhere.get(&coin.id())
        {
            rejected.push(Rejection {
                item: count(item),
                source: source_of(item, &job.items[item]),
                kind: RefusalKind::HeldByOtherWallet,
                reason: crate::owners::held_reason(coin.id(), held),
            });
            continue;
        }
        match own {
            // Reserved by an export of this wallet: the export may have published its file
            // already (the coin leaves the index only just after) or be held back for attention.
            // Counted present, the coin would end in `Sent` while the user, told the wallet holds
            // it, lets go of the file that holds it (it may be that very export's file): refused,
            // the file kept, to be imported again once the export has ended.
            Some(entry) if entry.hold == Hold::Reserved => rejected.push(Rejection {
                item: count(item),
                source: source_of(item, &job.items[item]),
                kind: RefusalKind::BeingExported,
                reason: format!(
                    "coin {} is being exported from this wallet (or held back by an export that needs attention); it was not stored and is not counted as present — keep the file and import it again once the export has ended",
                    coin.id()
                ),
            }),
            Some(entry) => {
                let held = &entry.coin;
                let more_keys = coin.pans().is_some_and(|p| held.pans() != Some(p));
                // With the network the wallet's keys for a coin it holds settled (`Bank`,
                // `Fracked`: 13 or more RAIDA held them when last asked) are the ones it claimed
                // (the file's are the keys it claimed from): the coin is present. A coin still in
                // `Limbo` (a claim, a reclaim or a change not settled) may have lost to the keys
                // this file carries: the file is kept, and imported again once the coin settles.
                let settled = matches!(entry.folder, Folder::Bank | Folder::Fracked);
                if (into == Folder::Limbo && settled) || (held.ans == coin.ans && !more_keys) {
                    present += 1;
                } else {
                    rejected.push(Rejection {
                        item: count(item),
                        source: source_of(item, &job.items[item]),
                        kind: RefusalKind::OtherKeys,
                        reason: format!(
                            "the wallet already holds coin {} with other keys (authenticity numbers or PANs) than this file; this copy was not stored — keep the file, it may hold the coin's live keys",
                            coin.id()
                        ),
                    });
                }
            }
            None => {
                // One copy of the coin, shared by the index and the import.
                let coin = Arc::new(coin);
                let claim = Entry::shared(into, String::new(), Arc::clone(&coin), Hold::Incoming(job.id));
                state.coins.insert(coin.id(), claim);
                fresh.push((item, coin));
            }
        }
    }
    Ok((fresh, present))
}

/// Keeps of the claimed coins `fresh` those no other folder of the server holds with the same
/// keys ([`crate::owners::find_on_disk`]); the others are rejected: a file in another wallet's
/// held folder always, a file in a `Sent` folder unless the request allows sent coins. Blocking.
fn not_elsewhere_on_disk(
    layout: &Layout,
    job: &ImportJob,
    fresh: Vec<(usize, Arc<Coin>)>,
    rejected: &mut Vec<Rejection>,
) -> std::io::Result<Vec<(usize, Arc<Coin>)>> {
    use crate::owners::OnDisk;
    let coins: Vec<&Coin> = fresh.iter().map(|(_, c)| &**c).collect();
    // After the claims (see `Owners::leaving`), before the folders are looked at: a file its
    // export is moving to `Sent` is found as sent away wherever the move has come to.
    let ids: Vec<_> = coins.iter().map(|c| c.id()).collect();
    let leaving = job.owners.leaving(&ids);
    let found = crate::owners::find_on_disk(layout, &coins, &leaving)?;
    drop(coins);
    let mut kept = Vec::with_capacity(fresh.len());
    for (item, coin) in fresh {
        match found.get(&coin.id()) {
            Some(OnDisk::Sent { .. } | OnDisk::Leaving { .. }) if job.allow_sent => {
                kept.push((item, coin))
            }
            Some(place) => rejected.push(Rejection {
                item: count(item),
                source: source_of(item, &job.items[item]),
                kind: crate::owners::on_disk_kind(place),
                reason: crate::owners::on_disk_reason(coin.id(), place),
            }),
            None => kept.push((item, coin)),
        }
    }
    Ok(kept)
}

/// An import's `Incoming` claims. [`Claims::settle`] — or, if the pipeline panics, dropping —
/// makes the stored coins free (blocked, while a claim record of them may be left), removes the
/// others from the index, and wakes imports waiting for them.
struct Claims<'a> {
    state: &'a Mutex<WalletState>,
    task: TaskId,
    /// Coins durably stored, with their file names, in order.
    stored: Vec<(CoinId, String)>,
    /// A claim record of these coins may still be on disk: the stored coins are never
    /// spendable (`Hold::Blocked`) until a start settles the record, so none of them can leave
    /// the wallet while recovery could still put it in `Limbo` (see `crate::claim`).
    record_left: bool,
}

impl Claims<'_> {
    fn settle(&mut self) -> Vec<(CoinId, String)> {
        let stored = std::mem::take(&mut self.stored);
        let hold = if self.record_left { Hold::Blocked } else { Hold::Free };
        let mut state = lock(self.state);
        for (id, file) in &stored {
            state.coins.update(id, |e| {
                if e.hold == Hold::Incoming(self.task) {
                    e.set_file(file.clone());
                    e.hold = hold;
                }
            });
        }
        state.coins.retain(|_, e| e.hold != Hold::Incoming(self.task));
        state.claims_settled();
        stored
    }
}

impl Drop for Claims<'_> {
    fn drop(&mut self) {
        self.settle();
    }
}

/// Writes each coin durably into Bank, recording what was stored (in order of `fresh`): as
/// unnamed files where the file system makes them ([`store_unnamed`]), else through named
/// temporary files ([`store_named`]); then one fsync of Bank.
fn store_all<C: Borrow<Coin> + Sync>(
    tracker: &Tracker,
    job: &ImportJob,
    bank: &Path,
    fresh: &[C],
    stored: &mut Vec<(CoinId, String)>,
) -> Result<(), StepError> {
    let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, e);
    if fresh.is_empty() {
        return Ok(());
    }
    let dir = Dir::open(bank).map_err(io("cannot open Bank"))?;
    match dir.create_unnamed(crate::folder::OUTPUT_MODE).map_err(io("cannot store a coin"))? {
        Some(first) => store_unnamed(tracker, job, &dir, fresh, first, stored)
            .map_err(io("cannot store a coin"))?,
        None => store_named(tracker, job, bank, fresh, stored)?,
    }
    dir.sync().map_err(io("cannot flush Bank to disk"))?;
    fault::point(FaultPoint::ImportAfterStore).map_err(io("cannot flush Bank to disk"))?;
    Ok(())
}

/// Most unnamed files in one batch: an eighth of the open-file limit, at least 64 and at most
/// 4,096. Each batch costs one `syncfs`; two batches are open at a time (one being written, one
/// being linked).
fn unnamed_batch() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let eighth = soft.map_or(usize::MAX, |n| usize::try_from(n / 8).unwrap_or(usize::MAX));
    eighth.clamp(64, 4096)
}

/// Takes a written, durable batch of unnamed files with their coins; says whether to go on.
type Deliver<'a, C> = dyn FnMut(Vec<fs::File>, &[C]) -> std::io::Result<bool> + 'a;

/// Stores each coin as a file with no name (`O_TMPFILE`) in Bank, batch by batch: every file of
/// the batch is written, one `syncfs` of Bank's file system makes them durable, then each is
/// linked under its coin's name (the first free one; nothing is replaced). One name is made per
/// coin, and it is made only for a complete, durable file; a crash or an error before the link
/// leaves nothing behind (an unnamed file vanishes with its last handle). `first` is the first
/// coin's file, already created.
///
/// The batches are written on a second thread while this one links the batch before (the
/// links hold Bank's lock; writing unnamed files does not), so the import costs about the
/// larger of the two, not their sum. A failure on either side stops both; the coins linked by
/// then are stored.
fn store_unnamed<C: Borrow<Coin> + Sync>(
    tracker: &Tracker,
    job: &ImportJob,
    dir: &Dir,
    fresh: &[C],
    first: fs::File,
    stored: &mut Vec<(CoinId, String)>,
) -> std::io::Result<()> {
    let batch = unnamed_batch();
    // Writes the batches in order (the first coin to `first`, when given), handing each,
    // durable, to `deliver`, which says whether to go on.
    let write = |mut first: Option<fs::File>, deliver: &mut Deliver<'_, C>| {
        for chunk in fresh.chunks(batch) {
            let mut files = Vec::with_capacity(chunk.len());
            for coin in chunk {
                let mut file = match first.take() {
                    Some(file) => file,
                    None => dir.create_unnamed(crate::folder::OUTPUT_MODE)?.ok_or_else(|| {
                        std::io::Error::other("the file system stopped making unnamed files")
                    })?,
                };
                let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin.borrow()))
                    .map_err(|e| std::io::Error::other(error_chain(&e)))?;
                file.write_all(&bytes)?;
                files.push(file);
            }
            // The file system Bank is on, whatever the wallet folder's is.
            dir.sync_file_system()?;
            if !deliver(files, chunk)? {
                break;
            }
        }
        Ok(())
    };
    let n = fresh.len();
    let mut link = |files: Vec<fs::File>, chunk: &[C]| -> std::io::Result<()> {
        for (file, coin) in files.iter().zip(chunk) {
            let coin: &Coin = coin.borrow();
            let name = dir.link_unnamed_unique(file, &coin_file_name(coin))?;
            stored.push((coin.id(), name));
            if stored.len() == n / 2 + 1 {
                fault::point(FaultPoint::ImportMidStore)?;
            }
            tracker.advance(job.id, 50 + (45 * stored.len() / n) as u8, None);
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let (to, batches) = std::sync::mpsc::sync_channel::<Vec<fs::File>>(0);
        let writer = std::thread::Builder::new()
            .name("import-write".into())
            // The linking side gone (it failed): this one stops too.
            .spawn_scoped(scope, move || {
                write(Some(first), &mut |files, _| Ok(to.send(files).is_ok()))
            });
        let writer = match writer {
            Ok(handle) => handle,
            // No thread to be had (the first file went with the attempt): write and link each
            // batch here.
            Err(_) => return write(None, &mut |files, chunk| link(files, chunk).map(|()| true)),
        };
        let mut linked = Ok(());
        for (files, chunk) in batches.iter().zip(fresh.chunks(batch)) {
            linked = link(files, chunk);
            if linked.is_err() {
                break;
            }
        }
        // Dropping the receiver stops the writer at its next batch.
        drop(batches);
        let written = writer.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        linked.and(written)
    })
}

/// Stores the coins through named temporary files `.{name}.{task id}.partial` in Bank (where
/// the file system cannot make unnamed files): all written, one `syncfs`, then each published
/// by a hard link and the temporary name removed (`import:unlink_temp`).
fn store_named<C: Borrow<Coin>>(
    tracker: &Tracker,
    job: &ImportJob,
    bank: &Path,
    fresh: &[C],
    stored: &mut Vec<(CoinId, String)>,
) -> Result<(), StepError> {
    let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, e);
    let suffix = format!(".{}.partial", job.id);
    let temps = write_temps(bank, fresh, &suffix).map_err(io("cannot store a coin"))?;
    tracker.advance(job.id, 70, None);
    let n = temps.len().max(1);
    let published = (|| {
        if !temps.is_empty() {
            // The file system Bank is on, whatever the wallet folder's is.
            crate::dir::sync_file_system(bank)?;
        }
        for (i, ((temp, base), coin)) in temps.iter().zip(fresh).enumerate() {
            let path = durable::publish_unique(temp, bank, base, |_| Ok(()))?;
            let name =
                path.file_name().map_or_else(|| base.clone(), |s| s.to_string_lossy().into_owned());
            stored.push((coin.borrow().id(), name));
            if i == temps.len() / 2 {
                fault::point(FaultPoint::ImportMidStore)?;
            }
            tracker.advance(job.id, 70 + (25 * (i + 1) / n) as u8, None);
        }
        Ok(())
    })();
    // A published coin's temporary name that could not be removed is tried once more; if it
    // stays, start-up removes it (`remove_stale_temporaries`). Either way the coin is stored.
    for (temp, _) in &temps[..stored.len()] {
        if fs::symlink_metadata(temp).is_ok() {
            durable::remove_if_exists(temp);
        }
    }
    if let Err(e) = published {
        for (temp, _) in &temps[stored.len()..] {
            durable::remove_if_exists(temp);
        }
        return Err(StepError::io("cannot store a coin", e));
    }
    Ok(())
}

fn failed(kind: FailureKind, message: String) -> TaskOutcome {
    TaskOutcome::Failed(TaskFailure { kind, message })
}

/// At start-up (nothing runs yet): removes the temporary files imports left in `Bank` after
/// publishing their coins — a temporary name whose removal failed after the link. Such a file is
/// a second name of a coin already stored; if the coin it holds is not held with the same keys
/// (it never should be), it is moved to `Trash` instead of removed, and logged. Temporaries of an
/// import that was interrupted are the journal's, and recovery has removed them already.
/// `bank_hidden` is what the start-up scan listed in `Bank` with a name starting with `.`
/// ([`crate::store::Scanned`]): every such temporary file is among them, so `Bank` is not
/// listed again. Returns how many files were cleaned up. Blocking.
pub(crate) fn remove_stale_temporaries(
    layout: &Layout,
    wallet: &WalletName,
    state: &WalletState,
    bank_hidden: &[OsString],
) -> std::io::Result<usize> {
    let bank = layout.folder(wallet, Folder::Bank);
    let trash = layout.folder(wallet, Folder::Trash);
    let mut cleaned = 0;
    for raw in bank_hidden {
        let name = raw.to_string_lossy().into_owned();
        if !is_import_temporary(&name) {
            continue;
        }
        let path = bank.join(raw);
        let same = read_single_coin(&path)
            .is_ok_and(|coin| state.coins.get(&coin.id()).is_some_and(|e| e.coin.ans == coin.ans));
        if same {
            fs::remove_file(&path)?;
            tracing::info!(wallet = %wallet, file = %name, "removed the temporary name of a coin stored earlier");
        } else {
            let kept = cloudcoin_domain::unique_file_name(name.trim_start_matches('.'), |n| {
                fs::symlink_metadata(trash.join(n)).is_ok()
            });
            fs::rename(&path, trash.join(&kept))?;
            durable::sync_dir(&trash)?;
            tracing::warn!(wallet = %wallet, file = %name, to = %format!("Trash/{kept}"), "an import's temporary file that is not a stored coin was moved to Trash");
        }
        cleaned += 1;
    }
    if cleaned > 0 {
        durable::sync_dir(&bank)?;
    }
    Ok(cleaned)
}

/// Whether a file name is an import's temporary name: `.{coin file name}.{task id}.partial`.
fn is_import_temporary(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".partial")) else {
        return false;
    };
    rest.rsplit_once('.').is_some_and(|(_, id)| id.parse::<TaskId>().is_ok())
}

/// Suffix of the temporary files of [`pick_up_dropped`].
const PICKUP_SUFFIX: &str = ".pickup.partial";

/// At start-up: stores the coins of files dropped by hand into the wallet's `Import` folder in
/// `Bank` (coins already held are skipped), then moves each such file to `Imported`. A file that is
/// not a coin file is logged and left where it is. Safe to interrupt: a file leaves `Import` only
/// after all its coins are stored and synced, and stored coins are skipped the next time. Blocking;
/// runs under the data-directory lock before anything is served. The temporary files an earlier
/// pick-up left in `Bank` are removed first: they are among `bank_hidden`, the names starting
/// with `.` that the start-up scan listed there ([`crate::store::Scanned`]).
pub(crate) fn pick_up_dropped(
    layout: &Layout,
    wallet: &WalletName,
    state: &mut WalletState,
    bank_hidden: &[OsString],
) -> std::io::Result<usize> {
    let bank = layout.folder(wallet, Folder::Bank);
    let import_dir = layout.folder(wallet, Folder::Import);
    let imported_dir = layout.folder(wallet, Folder::Imported);
    for raw in bank_hidden {
        let name = raw.to_string_lossy();
        if name.starts_with('.') && name.ends_with(PICKUP_SUFFIX) {
            durable::remove_if_exists(&bank.join(raw));
        }
    }
    let mut files: Vec<PathBuf> = fs::read_dir(&import_dir)?
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut total = 0;
    for path in files {
        let coins = match load(&ImportItem::File(path.clone()), None)
            .and_then(|bytes| decode_any(&bytes, &Limits::default()).map_err(|e| error_chain(&e)))
        {
            Ok(coins) => coins,
            Err(reason) => {
                tracing::warn!(wallet = %wallet, file = %path.display(), %reason, "file in Import left alone: not a coin file");
                continue;
            }
        };
        // A coin held already, or met twice in the file, is stored once.
        let mut seen = HashSet::new();
        let stored: Vec<Coin> = coins
            .into_iter()
            .filter(|c| !state.coins.contains_key(&c.id()) && seen.insert(c.id()))
            .collect();
        // Same rule as an import: every temporary file, one sync of the file system, every
        // publish, one sync of each folder touched.
        let temps = write_temps(&bank, &stored, PICKUP_SUFFIX)?;
        if !temps.is_empty() {
            crate::dir::sync_file_system(&bank)?;
        }
        for ((temp, base), coin) in temps.iter().zip(&stored) {
            let final_path = durable::publish_unique(temp, &bank, base, |_| Ok(()))?;
            let file = final_path
                .file_name()
                .map_or_else(|| base.clone(), |s| s.to_string_lossy().into_owned());
            let entry = Entry::new(Folder::Bank, file, coin.clone(), Hold::Free);
            state.coins.insert(coin.id(), entry);
        }
        durable::sync_dir(&bank)?;
        let source_name =
            path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let moved_name = cloudcoin_domain::unique_file_name(&source_name, |n| {
            fs::symlink_metadata(imported_dir.join(n)).is_ok()
        });
        fs::rename(&path, imported_dir.join(&moved_name))?;
        durable::sync_dir(&imported_dir)?;
        durable::sync_dir(&import_dir)?;
        if !stored.is_empty() {
            let money: Vec<&Coin> = stored.iter().filter(|c| c.denomination.is_money()).collect();
            let id = format!("pickup-{}", uuid::Uuid::new_v4());
            records::append_transaction(
                &layout.wallet(wallet),
                &Transaction {
                    time: now_unix(),
                    kind: "import",
                    amount: total_value(money).unwrap_or(Amount::MAX),
                    coins: stored.len(),
                    tag: "",
                    file: &source_name,
                    id: &id,
                },
            )?;
        }
        tracing::info!(wallet = %wallet, file = %source_name, stored = stored.len(), "coins picked up from Import");
        total += stored.len();
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, Pown, RAIDA_COUNT, SerialNumber};

    fn coin(sn: u32) -> Coin {
        Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(sn),
            [[sn as u8; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn temporary_files_hold_one_coin_each_and_a_failure_leaves_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let bank = tmp.path();
        let coins = [coin(1), coin(2), coin(3)];
        let temps = write_temps(bank, &coins, ".t.partial").expect("written");
        assert_eq!(temps.len(), 3);
        for ((temp, base), coin) in temps.iter().zip(&coins) {
            assert_eq!(base, &coin_file_name(coin));
            assert_eq!(temp, &bank.join(format!(".{base}.t.partial")));
            let read = crate::store::read_single_coin(temp).expect("one coin");
            assert_eq!(read.id(), coin.id());
        }
        // The third coin's temporary name is taken: the first two are removed again.
        let before = names(bank);
        let e = write_temps(bank, &[coin(4), coin(5), coin(3)], ".t.partial")
            .expect_err("a name is taken");
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(names(bank), before, "nothing left behind");
    }
}
