//! Shared helpers: test coins, seeded data directories, running tasks to their end.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cloudcoin_domain::{
    Amount, Coin, CoinId, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, Tag, WalletName,
};
use cloudcoin_tasks::testing::TestDataDir;
use cloudcoin_tasks::{
    ExportRequest, ImportItem, ImportRequest, ImportResult, Service, ServiceConfig, TaskId,
    TaskOutcome, TaskStatus, TaskView,
};

/// A synthetic coin whose ANs are derived from its identity.
pub(crate) fn coin(code: i8, serial: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (r, an) in ans.iter_mut().enumerate() {
        an[..4].copy_from_slice(&serial.to_be_bytes());
        an[4] = code as u8;
        an[5] = r as u8;
        an[6..].copy_from_slice(b"TESTCOIN!!");
    }
    Coin::new(
        Denomination::from_code(code),
        SerialNumber::new(serial),
        ans,
        [Pown::Pass; RAIDA_COUNT],
    )
}

/// 3 × 10, 5 × 1, 10 × 0.1: a balance of 36.
pub(crate) fn mixed_coins() -> Vec<Coin> {
    let mut coins = Vec::new();
    coins.extend((1..=3).map(|sn| coin(1, 100 + sn)));
    coins.extend((1..=5).map(|sn| coin(0, 200 + sn)));
    coins.extend((1..=10).map(|sn| coin(-1, 300 + sn)));
    coins
}

pub(crate) fn amount(text: &str) -> Amount {
    Amount::parse_request(text).expect("valid amount")
}

pub(crate) fn wallet(name: &str) -> WalletName {
    WalletName::parse(name).expect("valid wallet name")
}

pub(crate) fn tag(text: &str) -> Tag {
    Tag::parse(text).expect("valid tag")
}

/// A data directory and an export folder, removed at the end of the test: the crate's own
/// `testing::TestDataDir`, with short names for its paths.
pub(crate) struct Env {
    _dir: TestDataDir,
    pub(crate) data: PathBuf,
    pub(crate) out: PathBuf,
}

impl Env {
    /// A fresh data directory whose Default Bank holds `coins`.
    pub(crate) fn with_bank(coins: &[Coin]) -> Env {
        let dir = TestDataDir::with_bank(coins).expect("a data directory with the coins");
        let (data, out) = (dir.data_dir().to_owned(), dir.export_dir().to_owned());
        Env { _dir: dir, data, out }
    }

    pub(crate) fn config(&self) -> ServiceConfig {
        ServiceConfig::new(&self.data).with_task_retention(Duration::from_secs(3600))
    }

    pub(crate) async fn open(&self) -> Service {
        let config = self.config();
        tokio::task::spawn_blocking(move || Service::open(config))
            .await
            .expect("join")
            .expect("open")
    }

    pub(crate) fn folder(&self, wallet: &str, folder: &str) -> PathBuf {
        self.data.join("Wallets").join(wallet).join(folder)
    }

    pub(crate) fn export_request(&self, amount_text: &str, kind: FileKind) -> ExportRequest {
        ExportRequest::new(wallet("Default"), amount(amount_text), &self.out, kind)
            .with_tag(tag("trade"))
    }
}

/// Waits for every running task, then returns `id`'s final view.
pub(crate) async fn finished(service: &Service, id: TaskId) -> TaskView {
    service.shutdown().await;
    service.task(id).expect("the task is known")
}

/// The coins in the files of a folder (non-hidden files only).
pub(crate) fn coins_in(dir: &Path) -> Vec<Coin> {
    let mut coins = Vec::new();
    for path in files_in(dir) {
        let bytes = std::fs::read(&path).expect("read");
        coins.extend(
            cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default())
                .expect("a coin file"),
        );
    }
    coins
}

/// Non-hidden regular files of a folder, sorted.
pub(crate) fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

/// Every file name in a folder, hidden ones included.
pub(crate) fn all_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub(crate) fn ids(coins: &[Coin]) -> BTreeSet<CoinId> {
    coins.iter().map(Coin::id).collect()
}

/// Asserts that every one of `start` is in exactly one place: the wallet's held folders, or
/// Sent plus exactly one output file in `out` — and nowhere else.
pub(crate) fn assert_each_coin_once(env: &Env, start: &[Coin]) {
    let mut wallet = Vec::new();
    for f in ["Bank", "Fracked", "Limbo", "Suspect"] {
        wallet.extend(coins_in(&env.folder("Default", f)));
    }
    let sent = coins_in(&env.folder("Default", "Sent"));
    let exported = coins_in(&env.out);
    let wallet_ids = ids(&wallet);
    assert_eq!(wallet_ids.len(), wallet.len(), "a coin twice in the wallet");
    assert_eq!(ids(&exported).len(), exported.len(), "a coin in two output files");
    assert_eq!(ids(&sent), ids(&exported), "Sent and the output files disagree");
    assert!(wallet_ids.is_disjoint(&ids(&exported)), "a coin both in the wallet and exported");
    let mut all = wallet_ids;
    all.extend(ids(&exported));
    assert_eq!(all, ids(start), "a coin was lost or appeared");
    for c in &exported {
        let original = start.iter().find(|s| s.id() == c.id()).expect("from the wallet");
        assert_eq!(original.ans, c.ans, "exported coin {} changed", c.id());
    }
}

/// The journal's fingerprint of a coin set (documented in the `journal` module): SHA-256
/// over the coin count (u64, big-endian) then the sorted, distinct records of denomination code,
/// serial (u32, big-endian) and the 25 ANs.
pub(crate) fn journal_digest(coins: &[Coin]) -> String {
    use sha2::Digest;
    let mut items: Vec<Vec<u8>> = coins
        .iter()
        .map(|c| {
            let mut v = vec![c.denomination.code() as u8];
            v.extend_from_slice(&c.serial.get().to_be_bytes());
            c.ans.iter().for_each(|an| v.extend_from_slice(an));
            v
        })
        .collect();
    items.sort();
    items.dedup();
    let mut all = (coins.len() as u64).to_be_bytes().to_vec();
    items.iter().for_each(|i| all.extend_from_slice(i));
    sha2::Sha256::digest(&all).iter().map(|b| format!("{b:02x}")).collect()
}

/// A bind mount of `from` on `to` (which must exist), undone when dropped. `None`, with the
/// reason printed, where the machine does not allow mounting (the test then skips that part).
pub(crate) struct BindMount {
    to: PathBuf,
}

impl BindMount {
    pub(crate) fn new(from: &Path, to: &Path) -> Option<BindMount> {
        let out = std::process::Command::new("mount").arg("--bind").arg(from).arg(to).output();
        match out {
            Ok(o) if o.status.success() => Some(BindMount { to: to.to_path_buf() }),
            Ok(o) => {
                skip(&format!("mount --bind failed: {}", String::from_utf8_lossy(&o.stderr)));
                None
            }
            Err(e) => {
                skip(&format!("mount cannot run: {e}"));
                None
            }
        }
    }
}

impl BindMount {
    /// Remounts the bind mount read-only (`true`) or read-write; whether it worked.
    pub(crate) fn set_read_only(&self, read_only: bool) -> bool {
        let opts = if read_only { "remount,bind,ro" } else { "remount,bind,rw" };
        std::process::Command::new("mount")
            .args(["-o", opts])
            .arg(&self.to)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for BindMount {
    fn drop(&mut self) {
        // Unmounted before the temporary directories are removed, so that removing them never
        // reaches through the mount.
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.to).status();
    }
}

/// Says why part of a test does not run here.
#[allow(clippy::print_stderr, reason = "a skipped check says why on the test's output")]
pub(crate) fn skip(reason: &str) {
    eprintln!("SKIPPED (part of the test): {reason}");
}

/// Imports into `name` paper pages this server exported, returning the task's status and
/// result. The pages' coins are in the exporting wallet's `Sent` folder, so the import says it
/// knows (`allow_sent`), leaving the pages' own checks to decide.
pub(crate) async fn import_exported_pages(
    service: &Service,
    name: &str,
    items: Vec<ImportItem>,
) -> (TaskStatus, ImportResult) {
    let req = ImportRequest::new(wallet(name), items).with_sent_coins_allowed();
    let task = service.start_import(req).await.expect("import started");
    let done = finished(service, task.id).await;
    match done.outcome {
        Some(TaskOutcome::Import(r)) => (done.status, r),
        other => panic!("not an import result: {other:?}"),
    }
}

/// The coins' identities with their ANs, in order: what two sets of the same coins share.
pub(crate) fn ids_and_ans(coins: &[Coin]) -> Vec<(CoinId, [[u8; 16]; RAIDA_COUNT])> {
    let mut v: Vec<_> = coins.iter().map(|c| (c.id(), c.ans)).collect();
    v.sort();
    v
}
