//! The service: the one handle the api layer holds.
//!
//! # One owner
//!
//! `Service::open` takes an exclusive `try_lock` on `.cloudcoin/lock` and keeps the file open for
//! the life of the `Service`; a second process (or a second `open` in one process) gets
//! `OpenError::Locked`, whose message names the directory. The lock dies with the process, so a
//! crash never leaves a stale lock behind.
//!
//! A lock on an open file is shared with every child the process forks, until the child's exec
//! closes it: in a program that starts other programs (a test harness, an embedder), a `Service`
//! dropped and opened again can find its own lock held for that instant by a child on its way to
//! exec. `open` therefore tries the lock again for up to two seconds before it says `Locked`; a
//! real second owner holds it far longer.
//!
//! **Invariant:** a data directory whose only holder of the lock is a child between fork and exec
//! is not locked — `wallets::a_service_reopened_while_the_process_starts_programs_is_not_locked`
//! (300 opens while two threads start programs; before the wait, 289 of them were refused).
//!
//! **Invariant: one service per data directory, even when the lock file is deleted.** Kept by
//! `tests/it/others.rs`: `a_second_service_is_refused_after_the_lock_file_is_deleted`. The service
//! flocks the data directory itself as well as `.cloudcoin/lock` (kept for servers of earlier
//! versions): deleting the file cannot let a second owner in.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudcoin_domain::{FileKind, SelectionPolicy, WalletName};
use tokio::task::JoinHandle;

use crate::backup::{self, BackupJob};
use crate::error::{InternalError, NotReclaimable, OpenError, ServiceError};
use crate::export::{self, ExportJob, lock};
use crate::import::{self, ImportJob};
use crate::journal::Journal;
use crate::records::{IdempotencyRecord, TaskStore};
use crate::store::{self, Layout, Reserved, WalletState};
use crate::task::{FailureKind, TaskFailure, TaskId, TaskKind, TaskOutcome, TaskView};
use crate::tracker::{Subject, Tracker};

pub use cloudcoin_wire::{
    BackupRequest, ExportRequest, ImportItem, ImportRequest, TransactionPage, WalletDetail,
    WalletSummary,
};

/// A count of coins or files as the wire carries it (a `usize` always fits in 64 bits here).
fn as_u64(n: usize) -> u64 {
    u64::try_from(n).expect("counts fit in 64 bits")
}

/// How the service is set up.
///
/// `#[non_exhaustive]`: build it with [`ServiceConfig::new`] and the `with_*` methods.
///
/// ```
/// use std::time::Duration;
/// use cloudcoin_tasks::ServiceConfig;
///
/// let config = ServiceConfig::new("/var/lib/cloudcoin")
///     .with_export_roots(["/home/me/exports"])
///     .with_task_retention(Duration::from_secs(24 * 3600));
/// assert_eq!(config.export_roots.len(), 1);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServiceConfig {
    /// The data directory (created if missing).
    pub data_dir: PathBuf,
    /// Folders exports and backups must lie beneath; empty: any absolute, existing, writable
    /// folder.
    pub export_roots: Vec<PathBuf>,
    /// Finished tasks older than this are forgotten.
    pub task_retention: Duration,
    /// The RAIDA network; `None` (the default): the server works offline and claims nothing.
    pub network: Option<cloudcoin_raida::Config>,
    /// How an export that needs change asks the RAIDA for it (with a network).
    pub change_method: crate::change::ChangeMethod,
}

impl ServiceConfig {
    /// How long finished tasks are remembered unless told otherwise: a week.
    pub const DEFAULT_TASK_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

    /// A service on `data_dir` (created if missing) that may write exports and backups in any
    /// absolute, existing, writable folder outside it, and remembers finished tasks for
    /// [`ServiceConfig::DEFAULT_TASK_RETENTION`].
    pub fn new(data_dir: impl Into<PathBuf>) -> ServiceConfig {
        ServiceConfig {
            data_dir: data_dir.into(),
            export_roots: Vec::new(),
            task_retention: Self::DEFAULT_TASK_RETENTION,
            network: None,
            change_method: crate::change::ChangeMethod::default(),
        }
    }

    /// Sets [`ServiceConfig::change_method`].
    ///
    /// ```
    /// use cloudcoin_tasks::{ChangeMethod, ServiceConfig};
    /// let config = ServiceConfig::new("/var/lib/cloudcoin").with_change_method(ChangeMethod::Break);
    /// assert_eq!(config.change_method, ChangeMethod::Break);
    /// ```
    pub fn with_change_method(mut self, method: crate::change::ChangeMethod) -> ServiceConfig {
        self.change_method = method;
        self
    }

    /// Turns the RAIDA network on: imports claim their coins, and healing settles Limbo and
    /// repairs Fracked coins.
    ///
    /// ```
    /// use cloudcoin_raida::{AddressList, Config};
    /// use cloudcoin_tasks::ServiceConfig;
    ///
    /// let list: String = (0..25).map(|i| format!("127.0.0.1:{}\n", 50000 + i)).collect();
    /// let config = ServiceConfig::new("/var/lib/cloudcoin")
    ///     .with_network(Config::new(AddressList::parse(&list).unwrap()));
    /// assert!(config.network.is_some());
    /// ```
    pub fn with_network(mut self, network: cloudcoin_raida::Config) -> ServiceConfig {
        self.network = Some(network);
        self
    }

    /// Confines exports and backups to folders beneath `roots`.
    pub fn with_export_roots<P: Into<PathBuf>>(
        mut self,
        roots: impl IntoIterator<Item = P>,
    ) -> ServiceConfig {
        self.export_roots = roots.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`ServiceConfig::task_retention`].
    pub fn with_task_retention(mut self, retention: Duration) -> ServiceConfig {
        self.task_retention = retention;
        self
    }
}

/// The wallet server's core: wallets on disk, and the export, import and backup tasks.
/// Cloning is cheap and shares the same state.
#[derive(Clone, Debug)]
pub struct Service {
    inner: Arc<Inner>,
}

use crate::owners::{Owners, Wallets};

#[derive(Debug)]
struct Inner {
    data_dir: PathBuf,
    layout: Layout,
    roots: Vec<PathBuf>,
    /// The data directory, never an export or backup target.
    own_tree: crate::folder::OwnTree,
    journal: Journal,
    tracker: Tracker,
    /// The wallets, and the lock imports claim coins under.
    owners: Owners,
    /// The RAIDA network, when configured.
    network: Option<crate::network::Network>,
    /// How exports make change (with the network).
    change_method: crate::change::ChangeMethod,
    /// The healing task of each wallet that has one running: at most one per wallet.
    healing: Mutex<BTreeMap<WalletName, TaskId>>,
    handles: Mutex<Vec<JoinHandle<()>>>,
    /// Tasks whose pipeline is still running (or still recording its end).
    in_flight: Mutex<std::collections::HashSet<TaskId>>,
    /// Bumped each time a task leaves `in_flight`, for [`Service::wait`].
    settled: tokio::sync::watch::Sender<u64>,
    /// Serialises exports that carry an idempotency key, from the key check to the task's birth.
    keyed_exports: tokio::sync::Mutex<()>,
    /// Serialises creating and deleting wallets, from the name check to the folder's last move, so
    /// a delete can never move away the folder of a wallet a racing create has just listed.
    wallet_changes: tokio::sync::Mutex<()>,
    /// Held (locked) for the service's lifetime: one owner per data directory.
    _lock: File,
    /// The data directory, held (locked) for the service's lifetime: the lock no one can delete.
    _dir_lock: File,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OpenError + '_ {
    move |source| OpenError::Io { path: path.to_path_buf(), source }
}

fn internal(e: std::io::Error) -> ServiceError {
    ServiceError::Internal(InternalError::Io(e))
}

/// Work on another thread that ended without an answer.
fn stopped(e: tokio::task::JoinError) -> ServiceError {
    ServiceError::Internal(InternalError::Background(Box::new(e)))
}

/// Runs blocking work off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f).await.map_err(stopped)?
}

/// What identifies an export request for its idempotency key.
fn fingerprint(req: &ExportRequest) -> String {
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
        req.wallet.as_str(),
        req.amount.units(),
        req.folder.to_string_lossy(),
        req.kind.extension(),
        req.tag.as_str()
    )
}

/// How long [`Service::open`] waits for a lock held by someone else before it says
/// [`OpenError::Locked`].
///
/// A program that starts other programs lends each child a copy of its open files between the
/// fork and the exec, the lock file included: a service closed and opened again in that instant
/// would otherwise be refused as locked by nobody. A real second owner keeps the lock far longer.
const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// Takes the one-owner lock, trying again every few milliseconds for up to `patience`.
fn take_lock(file: &File, patience: Duration) -> Result<(), TryLockError> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            done => return done,
        }
    }
}

impl Service {
    /// Blocking. Creates the data directory, takes the one-owner lock (a second owner gets
    /// [`OpenError::Locked`] after a wait of two seconds for it to let go), runs crash recovery, scans the wallets into memory and creates
    /// `Default`. Call it from a plain thread, `spawn_blocking`, or before serving.
    pub fn open(config: ServiceConfig) -> Result<Service, OpenError> {
        let layout = Layout { root: config.data_dir.clone() };
        for dir in [layout.own(), layout.journal(), layout.tasks(), layout.wallets()] {
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        let lock_path = layout.lock_file();
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        take_lock(&lock_file, LOCK_PATIENCE).map_err(|e| match e {
            TryLockError::WouldBlock => OpenError::Locked { data_dir: config.data_dir.clone() },
            TryLockError::Error(e) => OpenError::Io { path: lock_path, source: e },
        })?;
        // The lock file can be deleted from under a running service (by a person or a clean-up
        // tool), and a second service would then lock a new file of that name: the data
        // directory itself is locked too, which nothing can unlink while it is in use. The file
        // stays locked for servers of earlier versions, which lock only it.
        let dir_lock = File::open(&config.data_dir).map_err(io_err(&config.data_dir))?;
        take_lock(&dir_lock, LOCK_PATIENCE).map_err(|e| match e {
            TryLockError::WouldBlock => OpenError::Locked { data_dir: config.data_dir.clone() },
            TryLockError::Error(e) => OpenError::Io { path: config.data_dir.clone(), source: e },
        })?;

        let default = WalletName::parse("Default").expect("Default is a valid wallet name");
        let mut names = store::wallet_names(&layout).map_err(io_err(&layout.wallets()))?;
        if !names.contains(&default) {
            names.push(default);
        }
        // A claim record names its wallet: its coins are settled there even if the folder went.
        for name in crate::claim::record_wallets(&layout) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for name in &names {
            layout.create_wallet_dirs(name).map_err(io_err(&layout.wallet(name)))?;
            crate::v3_layout::ensure(&layout, name).map_err(io_err(&layout.wallet(name)))?;
        }

        let tracker = Tracker::load(TaskStore::new(layout.tasks()), config.task_retention)
            .map_err(io_err(&layout.tasks()))?;
        let journal = Journal::new(layout.journal());
        let held_back = crate::recovery::recover(&layout, &journal, &tracker)?;

        let mut wallets = Wallets::new();
        for name in names {
            let dir = layout.wallet(&name);
            // Watched from before the scan lists the folders, so no name that appears after it
            // is missed (see `store::arrivals`).
            let arrivals = store::Arrivals::watch(&layout, &name);
            let store::Scanned { mut state, bank_hidden } =
                store::scan_wallet_listed(&layout, &name).map_err(io_err(&dir))?;
            state.arrivals = arrivals.map(|a| Arc::new(Mutex::new(a)));
            hold_back(&mut state, &name, &held_back);
            // An interrupted claim's coins go to Limbo with both keys (healing settles them).
            crate::claim::settle_records(&layout, &name, &mut state).map_err(io_err(&dir))?;
            import::pick_up_dropped(&layout, &name, &mut state, &bank_hidden)
                .map_err(io_err(&dir))?;
            import::remove_stale_temporaries(&layout, &name, &state, &bank_hidden)
                .map_err(io_err(&dir))?;
            crate::leftovers::clean(&layout, &name, &state, &bank_hidden).map_err(io_err(&dir))?;
            let (balance, coins) = state.balance();
            tracing::info!(wallet = %name, %balance, coins, held = state.coins.len(), "wallet loaded");
            wallets.insert(name, Arc::new(Mutex::new(state)));
        }
        let roots = crate::folder::canonical_roots(&config.export_roots);
        let own_tree = crate::folder::OwnTree::new(&layout.root).map_err(io_err(&layout.root))?;
        let network = match config.network {
            Some(c) => Some(crate::network::Network::new(c).map_err(OpenError::Network)?),
            None => None,
        };
        Ok(Service {
            inner: Arc::new(Inner {
                data_dir: config.data_dir,
                layout,
                roots,
                own_tree,
                journal,
                tracker,
                owners: Owners::new(wallets),
                network,
                change_method: config.change_method,
                healing: Mutex::new(BTreeMap::new()),
                handles: Mutex::new(Vec::new()),
                in_flight: Mutex::new(std::collections::HashSet::new()),
                settled: tokio::sync::watch::Sender::new(0),
                keyed_exports: tokio::sync::Mutex::new(()),
                wallet_changes: tokio::sync::Mutex::new(()),
                _lock: lock_file,
                _dir_lock: dir_lock,
            }),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    fn wallets(&self) -> std::sync::MutexGuard<'_, Wallets> {
        self.inner.owners.wallets()
    }

    fn wallet_state(&self, name: &WalletName) -> Result<Arc<Mutex<WalletState>>, ServiceError> {
        self.wallets()
            .get(name)
            .cloned()
            .ok_or_else(|| ServiceError::WalletNotFound { name: name.clone() })
    }

    /// A page of `wallet`'s history (`transactions.csv`), newest first: `limit` rows (at most
    /// 500) after the `offset` newest, each export with the SHA-256 of its receipt.
    pub async fn transactions(
        &self,
        wallet: &WalletName,
        offset: u64,
        limit: u64,
    ) -> Result<TransactionPage, ServiceError> {
        self.wallet_state(wallet)?;
        let dir = self.inner.layout.wallet(wallet);
        blocking(move || crate::history::page(&dir, offset, limit).map_err(internal)).await
    }

    /// Every wallet with its balance, by name.
    pub async fn list_wallets(&self) -> Result<Vec<WalletSummary>, ServiceError> {
        let wallets: Vec<(WalletName, Arc<Mutex<WalletState>>)> =
            self.wallets().iter().map(|(n, s)| (n.clone(), s.clone())).collect();
        Ok(wallets
            .into_iter()
            .map(|(name, state)| {
                let (balance, coins) = lock(&state).balance();
                WalletSummary::new(name, balance, as_u64(coins))
            })
            .collect())
    }

    /// One wallet in detail.
    pub async fn wallet(&self, name: &WalletName) -> Result<WalletDetail, ServiceError> {
        let state = self.wallet_state(name)?;
        let (balance, coins, per_denomination) = {
            let s = lock(&state);
            let (balance, coins) = s.balance();
            (balance, coins, s.per_denomination())
        };
        let layout = self.inner.layout.clone();
        let wallet = name.clone();
        let per_folder =
            blocking(move || store::count_files(&layout, &wallet).map_err(internal)).await?;
        let mut detail = WalletDetail::new(name.clone(), balance, as_u64(coins));
        detail.denominations = per_denomination.into_iter().map(|(d, n)| (d, as_u64(n))).collect();
        detail.folders = per_folder.into_iter().map(|(f, n)| (f, as_u64(n))).collect();
        Ok(detail)
    }

    /// Creates an empty wallet (or adopts a wallet folder made by hand since the start).
    ///
    /// Creates and deletes of wallets run one at a time, each to its end even if the caller stops
    /// waiting, so a racing delete never moves away the folder of a wallet this lists.
    pub async fn create_wallet(&self, name: &WalletName) -> Result<WalletSummary, ServiceError> {
        let this = self.clone();
        let name = name.clone();
        tokio::spawn(async move { this.create_wallet_now(&name).await }).await.map_err(stopped)?
    }

    async fn create_wallet_now(&self, name: &WalletName) -> Result<WalletSummary, ServiceError> {
        let _changing = self.inner.wallet_changes.lock().await;
        if self.wallets().contains_key(name) {
            return Err(ServiceError::WalletExists { name: name.clone() });
        }
        let layout = self.inner.layout.clone();
        let wallet = name.clone();
        let state = blocking(move || {
            layout.create_wallet_dirs(&wallet).map_err(internal)?;
            crate::v3_layout::ensure(&layout, &wallet).map_err(internal)?;
            let arrivals = store::Arrivals::watch(&layout, &wallet);
            let mut state = store::scan_wallet(&layout, &wallet).map_err(internal)?;
            state.arrivals = arrivals.map(|a| Arc::new(Mutex::new(a)));
            Ok(state)
        })
        .await?;
        let (balance, coins) = state.balance();
        let mut wallets = self.wallets();
        if wallets.contains_key(name) {
            return Err(ServiceError::WalletExists { name: name.clone() });
        }
        wallets.insert(name.clone(), Arc::new(Mutex::new(state)));
        tracing::info!(wallet = %name, "wallet created");
        Ok(WalletSummary::new(name.clone(), balance, as_u64(coins)))
    }

    /// Deletes a wallet that holds no coins. Its folder (with its `Sent` records and
    /// transactions) is moved to `.cloudcoin/deleted/`, not erased. Runs to its end even if the
    /// caller stops waiting (see [`Service::create_wallet`]).
    pub async fn delete_wallet(&self, name: &WalletName) -> Result<(), ServiceError> {
        let this = self.clone();
        let name = name.clone();
        tokio::spawn(async move { this.delete_wallet_now(&name).await }).await.map_err(stopped)?
    }

    async fn delete_wallet_now(&self, name: &WalletName) -> Result<(), ServiceError> {
        let _changing = self.inner.wallet_changes.lock().await;
        let state = {
            let mut wallets = self.wallets();
            let state = wallets
                .get(name)
                .cloned()
                .ok_or_else(|| ServiceError::WalletNotFound { name: name.clone() })?;
            let mut s = lock(&state);
            if !s.coins.is_empty() {
                return Err(ServiceError::WalletNotEmpty {
                    name: name.clone(),
                    coins: s.coins.len(),
                });
            }
            s.deleted = true;
            drop(s);
            wallets.remove(name);
            state
        };
        let layout = self.inner.layout.clone();
        let wallet = name.clone();
        let moved = blocking(move || {
            let held: usize = store::count_files(&layout, &wallet)
                .map_err(internal)?
                .iter()
                .filter(|(folder, _)| {
                    store::Folder::HELD.iter().any(|h| h.name() == folder.as_str())
                })
                .map(|(_, n)| n)
                .sum();
            if held > 0 {
                return Ok(Some(held));
            }
            let deleted = layout.deleted();
            fs::create_dir_all(&deleted).map_err(internal)?;
            crate::fault::point(crate::fault::FaultPoint::WalletDeleteMove).map_err(internal)?;
            let to = deleted.join(format!("{} {}", wallet.as_str(), uuid::Uuid::new_v4().simple()));
            fs::rename(layout.wallet(&wallet), &to).map_err(internal)?;
            crate::durable::sync_dir(&layout.wallets()).map_err(internal)?;
            Ok(None)
        })
        .await;
        match moved {
            Ok(None) => {
                tracing::info!(wallet = %name, "wallet deleted");
                Ok(())
            }
            other => {
                lock(&state).deleted = false;
                self.wallets().insert(name.clone(), state);
                match other {
                    Ok(Some(coins)) => {
                        Err(ServiceError::WalletNotEmpty { name: name.clone(), coins })
                    }
                    Err(e) => Err(e),
                    Ok(None) => unreachable!("handled above"),
                }
            }
        }
    }

    /// Checks a folder for an export or backup — never the data directory or anything under it
    /// — off the async workers.
    async fn check_folder(&self, folder: &Path) -> Result<crate::dir::Dir, ServiceError> {
        let roots = self.inner.roots.clone();
        let own_tree = self.inner.own_tree.clone();
        let path = folder.to_path_buf();
        blocking(move || {
            crate::folder::validate(&path, &roots, Some(&own_tree))
                .map_err(|problem| ServiceError::Folder { path: path.clone(), problem })
        })
        .await
    }

    /// Refuses a folder where the output's name, or a numbered name before the first free one, is
    /// a symbolic link; off the async workers.
    async fn check_name(
        &self,
        folder: crate::dir::Dir,
        base: String,
    ) -> Result<crate::dir::Dir, ServiceError> {
        blocking(move || match crate::folder::refuse_linked_name(&folder, &base) {
            Ok(()) => Ok(folder),
            Err(problem) => {
                Err(ServiceError::Folder { path: folder.path().to_path_buf(), problem })
            }
        })
        .await
    }

    /// Validates wallet, folder, funds and exact change, reserves the coins, spawns the task and
    /// returns it (status running). Errors here mean nothing was reserved or written.
    pub async fn start_export(&self, req: ExportRequest) -> Result<TaskView, ServiceError> {
        let _keyed = match &req.idempotency_key {
            Some(key) => {
                let guard = self.inner.keyed_exports.lock().await;
                if let Some((print, view)) = self.inner.tracker.by_key(key) {
                    if print == fingerprint(&req) {
                        return Ok(view);
                    }
                    return Err(ServiceError::IdempotencyConflict { key: key.clone() });
                }
                Some(guard)
            }
            None => None,
        };
        let state = self.wallet_state(&req.wallet)?;
        let folder = self.check_folder(&req.folder).await?;
        // Reserving a whole wallet is CPU work: off the async workers. The coins come back as
        // `Reserved`, so a request dropped meanwhile still gives them back. Only their ids are
        // taken here; the task looks up their files (nothing else changes a reserved coin).
        // With the network, an amount the coins cannot make exactly is made after change
        // (see `change`): nothing is reserved here, and the task breaks coins first.
        let may_change = req.make_change && self.inner.network.is_some();
        let (reserved, base) = {
            let (state, amount, tag, kind) = (state.clone(), req.amount, req.tag.clone(), req.kind);
            blocking(move || {
                let policy = selection_policy(kind);
                let reserved = match Reserved::choose(&state, amount, &policy) {
                    Ok(reserved) => Some(reserved),
                    Err(cloudcoin_domain::SelectError::NoExactChange { .. }) if may_change => None,
                    Err(e) => return Err(e.into()),
                };
                let ids = reserved.as_ref().map_or(&[][..], Reserved::ids);
                // Nothing else changes a reserved coin: it is read again under a second lock.
                let single = match ids {
                    [one] => lock(&state).coins.get(one).map(|e| e.coin.clone()),
                    _ => None,
                };
                let count = ids.len();
                let base = export::file_name(count, single.as_deref(), amount, &tag, kind);
                Ok((reserved, base))
            })
            .await?
        };
        // From here every early return — and a dropped request future, when the client hangs
        // up — gives the coins back through `reserved`'s Drop.
        let folder = self.check_name(folder, base).await?;
        let id = TaskId::new();
        let idempotency = req
            .idempotency_key
            .as_ref()
            .map(|key| IdempotencyRecord { key: key.clone(), fingerprint: fingerprint(&req) });
        let view = self.inner.tracker.create_for(
            id,
            TaskKind::Export,
            Subject::new(&req.wallet, Some(req.amount)),
            "Starting",
            idempotency,
        );
        let ids = reserved.map(Reserved::hand_over).unwrap_or_default();
        tracing::info!(task = %id, wallet = %req.wallet, amount = %req.amount, kind = %req.kind, coins = ids.len(), "export started");
        let (wallet, amount, kind, tag) =
            (req.wallet.clone(), req.amount, req.kind, req.tag.clone());
        let check = if req.verify { self.inner.network.clone() } else { None };
        let change = match (ids.is_empty(), &self.inner.network) {
            (true, Some(net)) => Some((net.clone(), self.inner.change_method)),
            _ => None,
        };
        self.spawn(id, move |inner| {
            // The task's record is written here, off the request's path, before the export's
            // journal record: until both exist the export has changed nothing, so a crash before
            // it only forgets a task that never started (and its idempotency key with it).
            // Without the network (no check, no change) the export writes it while its second
            // thread starts (`export::run`); with it, here, before the RAIDA is asked anything.
            let task_recorded = check.is_some() || change.is_some();
            if task_recorded && let Err(e) = inner.tracker.persist(id) {
                lock(&state).release_ids(ids);
                tracing::warn!(task = %id, error = %e, "cannot record the task; coins returned");
                let message = "cannot record the task; the coins were returned to the wallet";
                return (failed(FailureKind::Io, message), true);
            }
            // Change first, when the coins cannot make the amount exactly (see `change`).
            let mut made = None;
            let ids = match &change {
                None => ids,
                Some((net, method)) => {
                    inner.tracker.advance(id, 1, Some("Making change with the RAIDA"));
                    let policy = selection_policy(kind);
                    let report = crate::change::make_change(
                        net,
                        &inner.layout,
                        &wallet,
                        &state,
                        amount,
                        *method,
                    );
                    let report = match report {
                        Ok(report) => report,
                        Err(message) => {
                            tracing::warn!(task = %id, %message, "export stopped: no change made");
                            let message = format!("cannot make change: {message}");
                            return (failed(FailureKind::Io, &message), true);
                        }
                    };
                    tracing::info!(task = %id, change = %report.note, "change made for an export");
                    inner.tracker.advance(id, 2, Some(&report.note));
                    let reserved = lock(&state).reserve_amount(amount, &policy);
                    let ids = match reserved {
                        Ok(ids) => ids,
                        Err(e) => {
                            let message = format!("{}, but the export still cannot be made: {e}", report.note);
                            return (failed(FailureKind::Io, &message), true);
                        }
                    };
                    let single = match ids.as_slice() {
                        [one] => lock(&state).coins.get(one).map(|e| e.coin.clone()),
                        _ => None,
                    };
                    let base = export::file_name(ids.len(), single.as_deref(), amount, &tag, kind);
                    if let Err(problem) = crate::folder::refuse_linked_name(&folder, &base) {
                        lock(&state).release_ids(ids);
                        let message = format!("{}, but {}: {problem}", report.note, folder.path().display());
                        return (failed(FailureKind::Io, &message), true);
                    }
                    made = Some(report);
                    ids
                }
            };
            let with_change = |outcome: TaskOutcome| match (outcome, &made) {
                (TaskOutcome::Export(mut r), Some(c)) => {
                    r.change = Some(c.clone());
                    TaskOutcome::Export(r)
                }
                (TaskOutcome::Failed(mut f), Some(c)) => {
                    f.message = format!("{}; then the export failed: {}", c.note, f.message);
                    TaskOutcome::Failed(f)
                }
                (outcome, _) => outcome,
            };
            // With the network, the chosen coins are checked first (see `precheck`).
            let ids = match &check {
                None => ids,
                Some(net) => {
                    inner.tracker.advance(id, 2, Some("Checking the coins with the RAIDA"));
                    match crate::precheck::verified(net, &inner.layout, &wallet, &state, ids, amount)
                    {
                        Ok(checked) => {
                            for (coin, to) in &checked.set_aside {
                                tracing::warn!(task = %id, coin = %coin, folder = to.name(), "a chosen coin failed the check and was set aside");
                            }
                            checked.ids
                        }
                        Err(message) => {
                            tracing::warn!(task = %id, %message, "export stopped by the check");
                            return (with_change(failed(FailureKind::Verification, &message)), true);
                        }
                    }
                }
            };
            // The reserved coins with their files, looked up here, off the request's path.
            let Some(coins) = lock(&state).held(&ids) else {
                tracing::error!(task = %id, "a reserved coin changed before its export started; the coins stay reserved until the next start");
                return (failed(FailureKind::Internal, "internal error; see the server log"), true);
            };
            let job =
                ExportJob { id, wallet, state, coins, amount, folder, kind, tag, task_recorded };
            let (outcome, journal_done) =
                export::run(&inner.layout, &inner.journal, &inner.tracker, &job);
            export::free_later(job.coins);
            (with_change(outcome), journal_done)
        });
        Ok(view)
    }

    /// Validates the wallet and the request's shape and spawns the import task.
    pub async fn start_import(&self, req: ImportRequest) -> Result<TaskView, ServiceError> {
        if req.items.len() > import::MAX_ITEMS {
            return Err(ServiceError::TooManyItems {
                count: req.items.len(),
                max: import::MAX_ITEMS,
            });
        }
        let state = self.wallet_state(&req.wallet)?;
        let id = TaskId::new();
        let view = self.inner.tracker.create_for(
            id,
            TaskKind::Import,
            Subject::new(&req.wallet, None),
            "Starting",
            None,
        );
        let inner = self.inner.clone();
        blocking(move || inner.tracker.persist(id).map_err(internal)).await?;
        tracing::info!(task = %id, wallet = %req.wallet, items = req.items.len(), "import started");
        let network = if req.claim { self.inner.network.clone() } else { None };
        let claim = match (&self.inner.network, req.claim) {
            (None, _) => crate::report::ClaimReport::offline(),
            (Some(_), false) => crate::report::ClaimReport::declined(),
            (Some(_), true) => crate::report::ClaimReport::default(),
        };
        let job = ImportJob {
            id,
            wallet: req.wallet,
            state,
            items: req.items,
            tag: req.tag,
            own_tree: self.inner.own_tree.clone(),
            owners: self.inner.owners.clone(),
            allow_sent: req.allow_sent,
            network,
            claim,
        };
        let this = self.clone();
        self.spawn(id, move |inner| {
            let outcome = import::run(&inner.layout, &inner.journal, &inner.tracker, &job);
            // Coins the claim left Fracked or in Limbo are healed at once, by a task of its own.
            if let TaskOutcome::Import(r) = &outcome
                && r.claim.claimed
                && r.claim.fracked.coins + r.claim.limbo.coins > 0
            {
                match this.start_fix_now(&job.wallet) {
                    Ok(heal) => tracing::info!(task = %job.id, heal = %heal.id, "healing started after the claim"),
                    Err(e) => tracing::warn!(task = %job.id, error = %e, "cannot start healing after the claim"),
                }
            }
            (outcome, true)
        });
        Ok(view)
    }

    /// Starts healing `wallet` with the RAIDA (`POST /api/v1/fix`): Limbo coins settled with
    /// find, Fracked coins repaired with get ticket and fix, and pown again where a RAIDA
    /// still holds a key this wallet did not make. At most one healing runs per wallet: while
    /// one runs, its task is returned. Refused without a network.
    pub async fn start_fix(&self, wallet: &WalletName) -> Result<TaskView, ServiceError> {
        let this = self.clone();
        let wallet = wallet.clone();
        blocking(move || this.start_fix_now(&wallet)).await
    }

    /// Starts healing every wallet holding Limbo or Fracked coins, or a fix a crash
    /// interrupted (after a start, with a network). Returns the tasks started.
    pub async fn resume_healing(&self) -> Vec<TaskView> {
        if self.inner.network.is_none() {
            return Vec::new();
        }
        let pending_fixes = self.inner.layout.own().join("heal");
        let any_fix = std::fs::read_dir(&pending_fixes).is_ok_and(|mut d| d.next().is_some())
            || crate::change::any_pending(&self.inner.layout)
            || crate::reclaim::any_records(&self.inner.layout)
            || !crate::claim::record_wallets(&self.inner.layout).is_empty();
        let names: Vec<(WalletName, Arc<Mutex<WalletState>>)> =
            self.wallets().iter().map(|(n, s)| (n.clone(), s.clone())).collect();
        let mut started = Vec::new();
        for (name, state) in names {
            let needs = any_fix
                || lock(&state)
                    .coins
                    .values()
                    .any(|e| matches!(e.folder, store::Folder::Limbo | store::Folder::Fracked));
            if needs && let Ok(view) = self.start_fix(&name).await {
                started.push(view);
            }
        }
        started
    }

    /// Every RAIDA's echo: up or not, and how long it took. Refused without a network.
    pub async fn raida_health(&self) -> Result<Vec<crate::network::RaidaHealth>, ServiceError> {
        match &self.inner.network {
            Some(net) => Ok(net.health().await),
            None => Err(ServiceError::NoNetwork),
        }
    }

    /// Checks, changing nothing, which coins of export `export` its recipient has claimed
    /// (`GET /api/v1/reclaim/{id}`): a detect with the keys the file carries (the wallet's copies
    /// in `Sent`). Refused without a network, or for a task that is not a completed export.
    pub async fn check_reclaim(
        &self,
        export: TaskId,
    ) -> Result<crate::report::ReclaimReport, ServiceError> {
        let net = self.network()?;
        let this = self.clone();
        blocking(move || {
            let found = this.locate_export(export)?;
            let state = this.wallet_state(&found.wallet)?;
            crate::reclaim::check(&net, &this.inner.layout, &state, &found)
                .map_err(|e| ServiceError::Internal(InternalError::ReclaimCheck(e.into())))
        })
        .await
    }

    /// Starts reclaiming export `export` (`POST /api/v1/reclaim`): its coins the recipient has
    /// not claimed are powned back to new keys (written to disk first) and return to the
    /// wallet — the exported file is then worthless for them; those claimed are reported as
    /// received. See the `reclaim` module for the race with the recipient's own claim. Refused
    /// without a network, or for a task that is not a completed export.
    pub async fn start_reclaim(&self, export: TaskId) -> Result<TaskView, ServiceError> {
        let net = self.network()?;
        let this = self.clone();
        blocking(move || {
            let found = this.locate_export(export)?;
            let state = this.wallet_state(&found.wallet)?;
            let id = TaskId::new();
            let view = this.inner.tracker.create_for(
                id,
                TaskKind::Reclaim,
                Subject::new(&found.wallet, None),
                "Checking the exported coins with the RAIDA",
                None,
            );
            this.inner.tracker.persist(id).map_err(internal)?;
            tracing::info!(task = %id, export = %export, wallet = %found.wallet, coins = found.coins.len(), "reclaim started");
            let service = this.clone();
            this.spawn(id, move |inner| {
                let done = crate::reclaim::reclaim(
                    &net,
                    &inner.layout,
                    &inner.owners,
                    &state,
                    &found,
                    id,
                );
                // Coins left Fracked or in Limbo are healed at once, by a task of its own.
                let unsettled = lock(&state)
                    .coins
                    .values()
                    .any(|e| matches!(e.folder, store::Folder::Limbo | store::Folder::Fracked));
                if unsettled {
                    match service.start_fix_now(&found.wallet) {
                        Ok(heal) => tracing::info!(task = %id, heal = %heal.id, "healing started after the reclaim"),
                        Err(e) => tracing::warn!(task = %id, error = %e, "cannot start healing after the reclaim"),
                    }
                }
                let outcome = match done {
                    Ok(report) => TaskOutcome::Reclaim(report),
                    Err(e) => {
                        tracing::warn!(task = %id, error = %e, "reclaim stopped");
                        failed(
                            FailureKind::Io,
                            &format!("reclaim stopped: {e}; every key stays on disk, and healing settles the coins"),
                        )
                    }
                };
                (outcome, false)
            });
            Ok(view)
        })
        .await
    }

    /// The export `id`, from its receipt; or why it cannot be reclaimed.
    fn locate_export(&self, id: TaskId) -> Result<crate::reclaim::Export, ServiceError> {
        let names: Vec<WalletName> = self.wallets().keys().cloned().collect();
        let view = self.task(id);
        if let Some(view) = &view
            && view.kind != TaskKind::Export
        {
            let reason = NotReclaimable::OtherKind(view.kind);
            return Err(ServiceError::NotAnExport { id, reason });
        }
        match crate::reclaim::find_export(&self.inner.layout, &names, id) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(task = %id, error = %e, "cannot read the export's receipt");
                return Err(internal(e));
            }
        }
        let reason = match view {
            Some(v) if v.status == crate::task::TaskStatus::Running => NotReclaimable::Running,
            Some(_) => NotReclaimable::NotCompleted,
            None => return Err(ServiceError::ExportNotFound { id }),
        };
        Err(ServiceError::NotAnExport { id, reason })
    }

    /// The RAIDA network, for the work that needs it; refused without one.
    fn network(&self) -> Result<crate::network::Network, ServiceError> {
        self.inner.network.clone().ok_or(ServiceError::NoNetwork)
    }

    /// [`Service::start_fix`], from a blocking thread.
    fn start_fix_now(&self, wallet: &WalletName) -> Result<TaskView, ServiceError> {
        let network = self.network()?;
        let state = self.wallet_state(wallet)?;
        let mut healing = lock_any(&self.inner.healing);
        if let Some(view) = healing.get(wallet).and_then(|id| self.task(*id))
            && view.status == crate::task::TaskStatus::Running
        {
            return Ok(view);
        }
        let id = TaskId::new();
        let view = self.inner.tracker.create_for(
            id,
            TaskKind::Fix,
            Subject::new(wallet, None),
            "Healing coins with the RAIDA",
            None,
        );
        self.inner.tracker.persist(id).map_err(internal)?;
        healing.insert(wallet.clone(), id);
        drop(healing);
        tracing::info!(task = %id, wallet = %wallet, "healing started");
        let wallet = wallet.clone();
        self.spawn(id, move |inner| {
            let done = crate::heal::heal(&network, &inner.layout, &wallet, &state);
            let outcome = match done {
                Ok(report) => TaskOutcome::Fix(report),
                Err(e) => {
                    tracing::warn!(task = %id, error = %e, "healing stopped");
                    failed(
                        FailureKind::Io,
                        &format!(
                            "healing stopped: {e}; every key stays on disk, start it again later"
                        ),
                    )
                }
            };
            (outcome, false)
        });
        Ok(view)
    }

    /// Validates the wallet and the folder and spawns the backup task.
    pub async fn start_backup(&self, req: BackupRequest) -> Result<TaskView, ServiceError> {
        let state = self.wallet_state(&req.wallet)?;
        let folder = self.check_folder(&req.folder).await?;
        let coins = lock(&state).all_coins();
        let tag =
            req.tag.clone().unwrap_or_else(|| backup::default_tag(crate::durable::now_unix()));
        let folder = self.check_name(folder, backup::file_name(&coins, &tag)).await?;
        let id = TaskId::new();
        let view = self.inner.tracker.create_for(
            id,
            TaskKind::Backup,
            Subject::new(&req.wallet, None),
            "Starting",
            None,
        );
        let inner = self.inner.clone();
        blocking(move || inner.tracker.persist(id).map_err(internal)).await?;
        tracing::info!(task = %id, wallet = %req.wallet, coins = coins.len(), "backup started");
        let job = BackupJob { id, wallet: req.wallet, coins, folder, tag };
        self.spawn(id, move |inner| backup::run(&inner.journal, &inner.tracker, &job));
        Ok(view)
    }

    /// Runs a task's pipeline on a blocking thread, then records its outcome and, when the
    /// pipeline says so, removes its journal record (in that order: see `recovery`).
    fn spawn(&self, id: TaskId, work: impl FnOnce(&Inner) -> (TaskOutcome, bool) + Send + 'static) {
        let inner = self.inner.clone();
        lock_any(&inner.in_flight).insert(id);
        let handle = tokio::task::spawn_blocking(move || {
            // However the closure ends, the task leaves `in_flight` and waiters are woken.
            let _settle = Settle { inner: &inner, id };
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&inner)));
            let (outcome, journal_done) = match run {
                Ok(done) => done,
                Err(_) => {
                    tracing::error!(task = %id, "task panicked; its coins stay reserved until the next start");
                    (failed(FailureKind::Internal, "internal error; see the server log"), false)
                }
            };
            let completed_export = matches!(outcome, TaskOutcome::Export(_));
            // Shown only once on disk: a restart never changes an outcome a client has seen.
            if let Err(e) = inner.tracker.finish_durably(id, outcome) {
                tracing::error!(task = %id, error = %e, "cannot record the task's outcome");
                return;
            }
            // A completed export's record, back after a power cut, is settled again to the same
            // outcome: its removal need not be synced (see `Journal::remove_completed`).
            let removed = match (journal_done, completed_export) {
                (false, _) => Ok(()),
                (true, true) => inner.journal.remove_completed(&id.to_string()),
                (true, false) => inner.journal.remove(&id.to_string()),
            };
            if let Err(e) = removed {
                tracing::warn!(task = %id, error = %e, "cannot remove the journal record; recovery will settle it");
            }
            if let Err(e) = inner.tracker.prune() {
                tracing::warn!(error = %e, "cannot delete expired task records");
            }
        });
        let mut handles = self.inner.handles.lock().unwrap_or_else(|p| p.into_inner());
        handles.retain(|h| !h.is_finished());
        handles.push(handle);
    }

    /// Waits until task `id` has finished and its outcome is recorded, and returns it; `None`
    /// when no such task is known. Returns at once for a finished task. Cancel-safe: dropping the
    /// future stops the waiting, never the task.
    ///
    /// ```
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use cloudcoin_domain::{Amount, FileKind, WalletName};
    /// use cloudcoin_tasks::{ExportRequest, ServiceConfig, Service, TaskOutcome, TaskStatus};
    ///
    /// let data = tempfile::tempdir()?;
    /// let out = tempfile::tempdir()?;
    /// let config = ServiceConfig::new(data.path().join("data"));
    /// let service = tokio::task::spawn_blocking(move || Service::open(config)).await??;
    /// // The new Default wallet is empty: the export is refused before any task starts.
    /// let wallet = WalletName::parse("Default")?;
    /// let request = ExportRequest::new(wallet, Amount::parse_request("1")?, out.path(), FileKind::Bin);
    /// assert!(service.start_export(request).await.is_err());
    /// assert!(service.wait(cloudcoin_tasks::TaskId::new()).await.is_none(), "no such task");
    /// # Ok(()) }
    /// ```
    pub async fn wait(&self, id: TaskId) -> Option<TaskView> {
        let mut settled = self.inner.settled.subscribe();
        loop {
            if !lock_any(&self.inner.in_flight).contains(&id) {
                return self.task(id);
            }
            if settled.changed().await.is_err() {
                // The sender lives as long as the service, which `self` keeps alive.
                return self.task(id);
            }
        }
    }

    /// A task, if it is known.
    pub fn task(&self, id: TaskId) -> Option<TaskView> {
        self.inner.tracker.get(id)
    }

    /// Every known task, newest first.
    pub fn tasks(&self) -> Vec<TaskView> {
        self.inner.tracker.list()
    }

    /// Waits for running tasks to finish (used on graceful shutdown).
    pub async fn shutdown(&self) {
        loop {
            let pending: Vec<JoinHandle<()>> = {
                let mut handles = self.inner.handles.lock().unwrap_or_else(|p| p.into_inner());
                std::mem::take(&mut *handles)
            };
            if pending.is_empty() {
                return;
            }
            for handle in pending {
                if let Err(e) = handle.await {
                    tracing::error!(error = %e, "a task ended abnormally");
                }
            }
        }
    }
}

/// The selection policy of an export of `kind`: a paper wallet holds fewer coins than a file
/// (pages a person would print).
fn selection_policy(kind: FileKind) -> SelectionPolicy {
    match kind {
        FileKind::Pdf => {
            SelectionPolicy::default().with_max_coins(cloudcoin_codec::MAX_PAPER_COINS)
        }
        _ => SelectionPolicy::default(),
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked.
fn lock_any<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes a task out of `in_flight` and wakes [`Service::wait`]ers when its pipeline ends.
struct Settle<'a> {
    inner: &'a Inner,
    id: TaskId,
}

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        lock_any(&self.inner.in_flight).remove(&self.id);
        self.inner.settled.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Keeps the coins of exports that recovery could not settle out of the balance: reserved, as
/// by a running export, until a later start settles them.
fn hold_back(state: &mut WalletState, wallet: &WalletName, records: &[crate::journal::Record]) {
    for record in records.iter().filter(|r| r.wallet == wallet.as_str()) {
        for c in &record.coins {
            state.coins.update(&c.id(), |entry| entry.hold = store::Hold::Reserved);
        }
        tracing::warn!(wallet = %wallet, op = %record.id, coins = record.coins.len(), "coins held back: their export needs attention");
    }
}

fn failed(kind: FailureKind, message: &str) -> TaskOutcome {
    TaskOutcome::Failed(TaskFailure { kind, message: message.to_owned() })
}
