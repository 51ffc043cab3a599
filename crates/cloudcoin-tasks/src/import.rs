//! The import pipeline: coins read from files or inline data, stored durably in `Bank`.
//!
//! Each item is read and decoded on its own, so one bad item never stops the others. Coins the
//! wallet holds already (Bank, Fracked, Limbo, Suspect) are counted, not stored twice; a coin in
//! two items is stored once. New coins are claimed in the index first (so a racing import cannot
//! store them too), then all written as temporary files, made durable by one `syncfs` of the
//! wallet's file system, published under their single-coin names without replacing anything, and
//! `Bank` is synced once: a constant number of syncs per import, not one per coin.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use cloudcoin_codec::{Limits, decode_any};
use cloudcoin_domain::{Amount, Coin, CoinId, Tag, WalletName, total_value};

use crate::durable::{self, error_chain, now_unix};
use crate::export::{StepError, lock};
use crate::fault;
use crate::journal::{Journal, Op, Record};
use crate::records::{self, Transaction};
use crate::service::ImportItem;
use crate::store::{Entry, Folder, Hold, Layout, WalletState, coin_file_name};
use crate::task::{FailureKind, ImportResult, Rejection, TaskFailure, TaskId, TaskOutcome};
use crate::tracker::Tracker;

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
}

/// The bytes of one item, or why it cannot be read.
fn load(item: &ImportItem) -> Result<Vec<u8>, String> {
    match item {
        ImportItem::File(path) => {
            if !path.is_absolute() {
                return Err("the path is not absolute".to_owned());
            }
            let meta = fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
            if !meta.is_file() {
                return Err("it is not a regular file".to_owned());
            }
            if meta.len() > MAX_FILE_BYTES {
                return Err(format!("the file is larger than {MAX_FILE_BYTES} bytes"));
            }
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            fs::File::open(path)
                .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
                .map_err(|e| format!("cannot read the file: {e}"))?;
            Ok(bytes)
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
    }
}

fn source_of(index: usize, item: &ImportItem) -> String {
    match item {
        ImportItem::File(p) => p.to_string_lossy().into_owned(),
        ImportItem::InlineBase64(_) => format!("inline #{index}"),
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
    if let Err(e) = journal.write(&record).and_then(|()| fault::point("import:after_journal")) {
        return failed(FailureKind::Io, format!("cannot write the journal: {}", error_chain(&e)));
    }

    // Read every item; keep the first copy of each coin.
    let mut rejected = Vec::new();
    let mut seen = HashSet::new();
    let mut found: Vec<Coin> = Vec::new();
    let n = job.items.len().max(1);
    for (i, item) in job.items.iter().enumerate() {
        let source = source_of(i, item);
        let decoded = load(item)
            .and_then(|bytes| decode_any(&bytes, &Limits::default()).map_err(|e| error_chain(&e)));
        match decoded {
            Ok(coins) => {
                for coin in coins {
                    if !coin.denomination.is_money() {
                        rejected.push(Rejection {
                            item: i,
                            source: source.clone(),
                            reason: format!(
                                "coin #{} has denomination code {}, which is not money; it was not imported",
                                coin.serial,
                                coin.denomination.code()
                            ),
                        });
                    } else if seen.insert(coin.id()) {
                        found.push(coin);
                    }
                }
            }
            Err(reason) => rejected.push(Rejection { item: i, source, reason }),
        }
        tracker.advance(job.id, 5 + (45 * (i + 1) / n) as u8, None);
    }

    // Claim the new coins in the index: present ones are counted, new ones become Incoming.
    let (fresh, already_present) = {
        let mut state = lock(&job.state);
        if state.deleted {
            return failed(
                FailureKind::Io,
                "the wallet was deleted while the import ran".to_owned(),
            );
        }
        let mut fresh = Vec::new();
        let mut present = 0;
        for coin in found {
            match state.coins.entry(coin.id()) {
                std::collections::hash_map::Entry::Occupied(_) => present += 1,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(Entry {
                        folder: Folder::Bank,
                        file: String::new(),
                        coin: coin.clone(),
                        hold: Hold::Incoming,
                    });
                    fresh.push(coin);
                }
            }
        }
        (fresh, present)
    };

    tracker.advance(job.id, 50, Some("Storing coins"));
    let bank = layout.folder(&job.wallet, Folder::Bank);
    let mut stored: Vec<(CoinId, String)> = Vec::with_capacity(fresh.len());
    let outcome = store_all(layout, tracker, job, &bank, &fresh, &mut stored);

    // Whatever happened, the index must say what is on disk.
    {
        let mut state = lock(&job.state);
        let stored_ids: HashSet<CoinId> = stored.iter().map(|(id, _)| *id).collect();
        for (id, file) in &stored {
            if let Some(e) = state.coins.get_mut(id) {
                e.file.clone_from(file);
                e.hold = Hold::Free;
            }
        }
        for coin in &fresh {
            if !stored_ids.contains(&coin.id()) {
                state.coins.remove(&coin.id());
            }
        }
    }

    let stored_coins: Vec<&Coin> = fresh.iter().take(stored.len()).collect();
    let amount = total_value(stored_coins).unwrap_or(Amount::MAX);
    if let Err(e) = outcome {
        return failed(
            e.kind,
            format!(
                "{}; {} of {} new coins were stored in Bank; import the items again to store the rest",
                e.message,
                stored.len(),
                fresh.len()
            ),
        );
    }
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
    tracing::info!(task = %job.id, imported = stored.len(), already_present, rejected = rejected.len(), "import completed");
    TaskOutcome::Import(ImportResult { imported: stored.len(), already_present, rejected, amount })
}

/// Writes each coin durably into Bank, recording what was stored (in order of `fresh`).
fn store_all(
    layout: &Layout,
    tracker: &Tracker,
    job: &ImportJob,
    bank: &Path,
    fresh: &[Coin],
    stored: &mut Vec<(CoinId, String)>,
) -> Result<(), StepError> {
    let io = |what: &'static str| move |e: std::io::Error| StepError::io(what, &e);
    let suffix = format!(".{}.partial", job.id);
    let temps = write_temps(bank, fresh, &suffix).map_err(io("cannot store a coin"))?;
    tracker.advance(job.id, 70, None);
    let n = temps.len().max(1);
    let published = (|| {
        if !temps.is_empty() {
            crate::dir::sync_file_system(&layout.wallet(&job.wallet))?;
        }
        for (i, ((temp, base), coin)) in temps.iter().zip(fresh).enumerate() {
            let path = durable::publish_unique(temp, bank, base, |_| Ok(()))?;
            let name =
                path.file_name().map_or_else(|| base.clone(), |s| s.to_string_lossy().into_owned());
            stored.push((coin.id(), name));
            if i == temps.len() / 2 {
                fault::point("import:mid_store")?;
            }
            tracker.advance(job.id, 70 + (25 * (i + 1) / n) as u8, None);
        }
        Ok(())
    })();
    if let Err(e) = published {
        for (temp, _) in &temps[stored.len()..] {
            durable::remove_if_exists(temp);
        }
        return Err(StepError::io("cannot store a coin", &e));
    }
    durable::sync_dir(bank).map_err(io("cannot flush Bank to disk"))?;
    fault::point("import:after_store").map_err(io("cannot flush Bank to disk"))?;
    Ok(())
}

/// Writes each coin into its own temporary file `.{coin file name}{suffix}` in `bank`, not yet
/// synced (the caller syncs the file system once for all of them). Returns each temporary path
/// with the coin's file name; on failure the files already written are removed.
fn write_temps(
    bank: &Path,
    coins: &[Coin],
    suffix: &str,
) -> std::io::Result<Vec<(PathBuf, String)>> {
    let mut temps: Vec<(PathBuf, String)> = Vec::with_capacity(coins.len());
    let written = coins.iter().try_for_each(|coin| {
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin))
            .map_err(|e| std::io::Error::other(error_chain(&e)))?;
        let base = coin_file_name(coin);
        let temp = bank.join(format!(".{base}{suffix}"));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(crate::folder::OUTPUT_MODE)
            .open(&temp)?;
        temps.push((temp, base));
        f.write_all(&bytes)
    });
    if let Err(e) = written {
        for (temp, _) in &temps {
            durable::remove_if_exists(temp);
        }
        return Err(e);
    }
    Ok(temps)
}

fn failed(kind: FailureKind, message: String) -> TaskOutcome {
    TaskOutcome::Failed(TaskFailure { kind, message })
}

/// Suffix of the temporary files of [`pick_up_dropped`].
const PICKUP_SUFFIX: &str = ".pickup.partial";

/// At start-up: stores the coins of files dropped by hand into the wallet's `Import` folder in
/// `Bank` (coins already held are skipped), then moves each such file to `Imported`. A file that is
/// not a coin file is logged and left where it is. Safe to interrupt: a file leaves `Import` only
/// after all its coins are stored and synced, and stored coins are skipped the next time. Blocking;
/// runs under the data-directory lock before anything is served.
pub(crate) fn pick_up_dropped(
    layout: &Layout,
    wallet: &WalletName,
    state: &mut WalletState,
) -> std::io::Result<usize> {
    let bank = layout.folder(wallet, Folder::Bank);
    let import_dir = layout.folder(wallet, Folder::Import);
    let imported_dir = layout.folder(wallet, Folder::Imported);
    for entry in fs::read_dir(&bank)?.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(PICKUP_SUFFIX) {
            durable::remove_if_exists(&entry.path());
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
        let coins = match load(&ImportItem::File(path.clone()))
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
            crate::dir::sync_file_system(&layout.wallet(wallet))?;
        }
        for ((temp, base), coin) in temps.iter().zip(&stored) {
            let final_path = durable::publish_unique(temp, &bank, base, |_| Ok(()))?;
            let file = final_path
                .file_name()
                .map_or_else(|| base.clone(), |s| s.to_string_lossy().into_owned());
            let entry = Entry { folder: Folder::Bank, file, coin: coin.clone(), hold: Hold::Free };
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
