//! The seam where a second store could plug in: [`WalletStore`], the operations the pipelines
//! (export, import, claim, heal) and the start-up need from a store, and the conformance checks
//! every store must pass (`conformance`, run here against the filesystem store).
//!
//! Today there is one store, the wallet folders of the data directory ([`Layout`]), and the
//! pipelines call its functions directly; the trait names exactly those operations, so a second
//! store — a custodian's database, say — would implement it, pass the same checks, and the
//! pipelines would be made generic over it.
//!
//! What is behind the seam and what is not:
//!
//! - Behind it: where coins are and their content — listing wallets, loading a wallet into an
//!   index (reconciling several records of one coin), storing new coins, moving coins between
//!   folders (to `Sent` on export), setting copies aside, finding coins not where they were
//!   recorded, rewriting a coin's keys after a claim or a fix.
//! - Not behind it: the in-memory index ([`WalletState`]: the same for every store), the journal
//!   and task records (`.cloudcoin/`, written by `journal`, `tracker` and `heal` on paths of the
//!   layout), output folders (export and backup write files a person takes away, whatever the
//!   store), and the start-up pick-up of files dropped into `Import`. The import pipeline stores
//!   its coins with the same steps as [`WalletStore::store_coins`] but in batches on two threads
//!   with progress and fault points (`import::store_all`); moving it behind the seam is the next
//!   step before a second store.
//!
//! The promises every store keeps (each checked by `conformance`):
//!
//! - A stored coin is durable before it has a name; nothing is ever replaced (a taken name gives
//!   the next free one); nothing is deleted.
//! - A coin id recorded twice is one coin when loaded; two sets of keys for one id are never both
//!   spendable.
//! - A move reports the coins that were not where the caller said, never takes them for moved.
//! - Copies of reserved coins the index does not know are set aside before an export moves them;
//!   coins moved by others are found by id; a record of the same id with other keys stays.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use cloudcoin_domain::{Coin, CoinId, WalletName};

use super::index::{Held, WalletState};
use super::layout::{Folder, Layout, coin_file_name, count_files, read_single_coin, wallet_names};
use super::moves::{
    Rewrite, SetAside, move_coins_with, move_found_coins, rewrite_coins, set_aside_copies,
};
use crate::dir::{Dir, Staged};

/// The operations the pipelines need from a store of wallets. Every method is blocking (file or
/// network IO): callers run it on a blocking thread, never holding a wallet's lock.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the seam: the pipelines call the filesystem store's functions directly until a second store exists"
    )
)]
pub(crate) trait WalletStore {
    /// The wallets the store holds, by name.
    fn wallets(&self) -> io::Result<Vec<WalletName>>;

    /// Makes the wallet `wallet` (nothing changes if it exists).
    fn create_wallet(&self, wallet: &WalletName) -> io::Result<()>;

    /// The wallet's held coins as a fresh index, several records of one coin reconciled to one
    /// (start-up).
    fn load(&self, wallet: &WalletName) -> io::Result<WalletState>;

    /// How many coin records each folder of the wallet holds, by folder name.
    fn count(&self, wallet: &WalletName) -> io::Result<BTreeMap<String, usize>>;

    /// The coin recorded as `file` in `folder` (export recovery looks in `Sent`).
    fn read_coin(&self, wallet: &WalletName, folder: Folder, file: &str) -> Result<Coin, String>;

    /// Stores `coins` in `folder` durably, each under its conventional name or the next free one,
    /// and returns the names, in order (import).
    fn store_coins(
        &self,
        wallet: &WalletName,
        folder: Folder,
        coins: &[Coin],
    ) -> io::Result<Vec<String>>;

    /// Sets aside every record of the coins `held` the index `state` does not know (export,
    /// before it journals them).
    fn set_aside_copies(
        &self,
        wallet: &WalletName,
        state: &Mutex<WalletState>,
        held: &[Held],
    ) -> io::Result<SetAside>;

    /// Moves the coins recorded as `files` (folder, name) to `to`, calling `halfway` once half
    /// are moved; returns the places of those that were not there (export, to `Sent`).
    fn move_coins(
        &self,
        wallet: &WalletName,
        files: &[(Folder, String)],
        to: Folder,
        halfway: &mut dyn FnMut() -> io::Result<()>,
    ) -> io::Result<Vec<usize>>;

    /// Finds the coins `wanted` in the held folders, wherever they are, and moves them to `to`;
    /// records `known` holds for other coins are not touched, and a record with other keys than
    /// `keys` gives stays. Returns the coins moved (export, for coins not where recorded).
    fn move_found_coins(
        &self,
        wallet: &WalletName,
        wanted: &HashSet<CoinId>,
        known: Option<&Mutex<WalletState>>,
        keys: &HashMap<CoinId, Arc<Coin>>,
        to: Folder,
    ) -> io::Result<HashSet<CoinId>>;

    /// Gives coins new content (their keys after a claim or a fix) and moves them to their
    /// folder; returns their new names (claim, heal).
    fn rewrite_coins(
        &self,
        wallet: &WalletName,
        rewrites: &[Rewrite<'_>],
    ) -> io::Result<Vec<Option<String>>>;
}

/// The filesystem store: the wallet folders of a data directory.
impl WalletStore for Layout {
    fn wallets(&self) -> io::Result<Vec<WalletName>> {
        wallet_names(self)
    }

    fn create_wallet(&self, wallet: &WalletName) -> io::Result<()> {
        self.create_wallet_dirs(wallet)
    }

    fn load(&self, wallet: &WalletName) -> io::Result<WalletState> {
        super::scan::scan_wallet(self, wallet)
    }

    fn count(&self, wallet: &WalletName) -> io::Result<BTreeMap<String, usize>> {
        count_files(self, wallet)
    }

    fn read_coin(&self, wallet: &WalletName, folder: Folder, file: &str) -> Result<Coin, String> {
        read_single_coin(&self.folder(wallet, folder).join(file))
    }

    /// Each coin is written to a file with no name (or, where the file system cannot make one,
    /// a `.…partial` temporary name), one `syncfs` makes them all durable, then each is published
    /// under its name without replacing anything and the folder is synced once.
    fn store_coins(
        &self,
        wallet: &WalletName,
        folder: Folder,
        coins: &[Coin],
    ) -> io::Result<Vec<String>> {
        let dir = Dir::open(&self.folder(wallet, folder))?;
        let mut staged = Vec::with_capacity(coins.len());
        for coin in coins {
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(coin))
                .map_err(io::Error::other)?;
            match dir.create_unnamed(0o600)? {
                Some(mut file) => {
                    file.write_all(&bytes)?;
                    staged.push(Staged::Unnamed(file));
                }
                None => {
                    let unique = uuid::Uuid::new_v4().simple();
                    let temp = format!(".{}.{unique}.partial", coin_file_name(coin));
                    dir.create_new(&temp, 0o600)?.write_all(&bytes)?;
                    staged.push(Staged::Named(temp));
                }
            }
        }
        dir.sync_file_system()?;
        let mut names = Vec::with_capacity(coins.len());
        for (coin, staged) in coins.iter().zip(&staged) {
            let published = dir.publish_unique(staged, &coin_file_name(coin), |_, _| Ok(()))?;
            if let Some(e) = published.temp_left {
                tracing::warn!(folder = %dir.path().display(), file = %published.name, error = %e, "stored, but the temporary name cannot be removed yet; the next start removes it");
            }
            names.push(published.name);
        }
        dir.sync()?;
        Ok(names)
    }

    fn set_aside_copies(
        &self,
        wallet: &WalletName,
        state: &Mutex<WalletState>,
        held: &[Held],
    ) -> io::Result<SetAside> {
        set_aside_copies(self, wallet, state, held)
    }

    fn move_coins(
        &self,
        wallet: &WalletName,
        files: &[(Folder, String)],
        to: Folder,
        halfway: &mut dyn FnMut() -> io::Result<()>,
    ) -> io::Result<Vec<usize>> {
        move_coins_with(self, wallet, files.iter().map(|(f, n)| (*f, n.as_str())), to, halfway)
    }

    fn move_found_coins(
        &self,
        wallet: &WalletName,
        wanted: &HashSet<CoinId>,
        known: Option<&Mutex<WalletState>>,
        keys: &HashMap<CoinId, Arc<Coin>>,
        to: Folder,
    ) -> io::Result<HashSet<CoinId>> {
        move_found_coins(self, wallet, wanted, known, keys, to)
    }

    fn rewrite_coins(
        &self,
        wallet: &WalletName,
        rewrites: &[Rewrite<'_>],
    ) -> io::Result<Vec<Option<String>>> {
        rewrite_coins(self, wallet, rewrites)
    }
}

/// The checks every [`WalletStore`] must pass, each a function of a fresh, empty store; a store's
/// tests run them all with [`conformance_tests!`] (as the filesystem store's do below).
#[cfg(test)]
pub(crate) mod conformance {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use cloudcoin_domain::{Amount, Coin, SelectionPolicy, WalletName};

    use super::WalletStore;
    use crate::fixtures::coin;
    use crate::store::{Entry, Folder, Hold, Rewrite, WalletState};
    use crate::task::TaskId;

    fn wallet(store: &impl WalletStore) -> WalletName {
        let w = WalletName::parse("W").expect("name");
        store.create_wallet(&w).expect("create");
        w
    }

    fn count(store: &impl WalletStore, w: &WalletName, folder: Folder) -> usize {
        store.count(w).expect("count")[folder.name()]
    }

    /// `c` with other keys at one RAIDA.
    fn other_keys(c: &Coin) -> Coin {
        let mut other = c.clone();
        other.ans[0] = [0xee; 16];
        other
    }

    pub(crate) fn a_created_wallet_is_listed_and_empty(store: impl WalletStore) {
        assert!(store.wallets().expect("list").is_empty());
        let w = wallet(&store);
        store.create_wallet(&w).expect("a second create changes nothing");
        assert_eq!(store.wallets().expect("list"), vec![w.clone()]);
        assert_eq!(store.load(&w).expect("load").coins.len(), 0);
        let counts = store.count(&w).expect("count");
        assert_eq!(counts.len(), Folder::ALL.len());
        assert!(counts.values().all(|n| *n == 0));
    }

    pub(crate) fn stored_coins_are_held_and_never_replace_a_record(store: impl WalletStore) {
        let w = wallet(&store);
        let (a, b) = (coin(0, 1), coin(1, 2));
        let names = store.store_coins(&w, Folder::Bank, &[a.clone(), b.clone()]).expect("store");
        assert_eq!(store.read_coin(&w, Folder::Bank, &names[0]).map(|c| c.id()), Ok(a.id()));
        let again = store.store_coins(&w, Folder::Bank, std::slice::from_ref(&a)).expect("store");
        assert_ne!(again[0], names[0], "a taken name gives the next free one");
        assert_eq!(count(&store, &w, Folder::Bank), 3, "nothing replaced");
        let state = store.load(&w).expect("load");
        assert_eq!(state.coins.len(), 2, "one coin recorded twice is one coin");
        assert_eq!(state.balance(), (Amount::parse_request("11").expect("amount"), 2));
        assert_eq!(count(&store, &w, Folder::Bank) + count(&store, &w, Folder::Trash), 3);
        assert!(store.read_coin(&w, Folder::Bank, "no such coin").is_err());
    }

    pub(crate) fn two_sets_of_keys_for_one_coin_are_never_spendable(store: impl WalletStore) {
        let w = wallet(&store);
        let a = coin(0, 1);
        store.store_coins(&w, Folder::Bank, std::slice::from_ref(&a)).expect("store");
        store.store_coins(&w, Folder::Fracked, &[other_keys(&a)]).expect("store");
        let state = store.load(&w).expect("load");
        let entry = state.coins.get(&a.id()).expect("held");
        assert_eq!(entry.folder, Folder::Suspect, "kept, never spendable");
        assert_eq!(state.balance().1, 0);
        assert_eq!(count(&store, &w, Folder::Trash), 1, "the other record set aside, kept");
    }

    pub(crate) fn a_move_reports_what_was_not_there_and_never_replaces(store: impl WalletStore) {
        let w = wallet(&store);
        let (a, b) = (coin(0, 1), coin(0, 2));
        let names = store.store_coins(&w, Folder::Bank, &[a.clone(), b.clone()]).expect("store");
        let in_sent = store.store_coins(&w, Folder::Sent, &[coin(0, 1)]).expect("store");
        assert_eq!(in_sent[0], names[0], "Sent holds a record under a's name");
        let files = vec![
            (Folder::Bank, names[0].clone()),
            (Folder::Bank, names[1].clone()),
            (Folder::Bank, "gone".to_owned()),
        ];
        let mut halfway = 0;
        let mut hook = || {
            halfway += 1;
            Ok(())
        };
        let missing = store.move_coins(&w, &files, Folder::Sent, &mut hook).expect("move");
        assert_eq!((missing, halfway), (vec![2], 1), "a missing record is reported");
        assert_eq!(count(&store, &w, Folder::Sent), 3, "nothing replaced in Sent");
        assert_eq!(store.load(&w).expect("load").coins.len(), 0);
        let missing = store.move_coins(&w, &files, Folder::Sent, &mut || Ok(())).expect("move");
        assert_eq!(missing, vec![0, 1, 2], "moved already: reported, not moved again");
    }

    pub(crate) fn copies_of_reserved_coins_are_set_aside(store: impl WalletStore) {
        let w = wallet(&store);
        let a = coin(0, 1);
        let names = store.store_coins(&w, Folder::Bank, std::slice::from_ref(&a)).expect("store");
        let state = Mutex::new(store.load(&w).expect("load"));
        let held = {
            let mut s = state.lock().expect("lock");
            let one = Amount::parse_request("1").expect("amount");
            let ids = s.reserve_amount(one, &SelectionPolicy::default()).expect("reserve");
            s.held(&ids).expect("reserved")
        };
        // A copy dropped in after the wallet was loaded, under another name.
        store.store_coins(&w, Folder::Fracked, std::slice::from_ref(&a)).expect("store");
        let aside = store.set_aside_copies(&w, &state, &held).expect("set aside");
        assert_eq!(aside.moved, 1);
        assert_eq!(count(&store, &w, Folder::Fracked), 0);
        assert_eq!(count(&store, &w, Folder::Trash), 1);
        assert!(store.read_coin(&w, Folder::Bank, &names[0]).is_ok(), "the indexed record stays");
        assert_eq!(
            state.lock().expect("lock").coins.get(&a.id()).map(|e| e.hold),
            Some(Hold::Reserved)
        );
    }

    pub(crate) fn coins_moved_by_others_are_found_by_id(store: impl WalletStore) {
        let w = wallet(&store);
        let a = coin(0, 1);
        let names = store.store_coins(&w, Folder::Bank, std::slice::from_ref(&a)).expect("store");
        // Other software moves the coin to Fracked; a record of its id with other keys is in
        // Limbo.
        let moved = [(Folder::Bank, names[0].clone())];
        store.move_coins(&w, &moved, Folder::Fracked, &mut || Ok(())).expect("move");
        store.store_coins(&w, Folder::Limbo, &[other_keys(&a)]).expect("store");
        let wanted = HashSet::from([a.id()]);
        let keys = HashMap::from([(a.id(), Arc::new(a.clone()))]);
        let found = store.move_found_coins(&w, &wanted, None, &keys, Folder::Sent).expect("found");
        assert_eq!(found, wanted);
        assert_eq!(count(&store, &w, Folder::Sent), 1);
        assert_eq!(count(&store, &w, Folder::Limbo), 1, "other keys: left where it is");
        // Records the index holds are not touched.
        let b = coin(0, 2);
        store.store_coins(&w, Folder::Bank, std::slice::from_ref(&b)).expect("store");
        let known = Mutex::new(store.load(&w).expect("load"));
        let wanted = HashSet::from([b.id()]);
        let found =
            store.move_found_coins(&w, &wanted, Some(&known), &keys, Folder::Sent).expect("found");
        assert!(found.is_empty());
        assert_eq!(count(&store, &w, Folder::Bank), 1);
    }

    pub(crate) fn an_exported_coin_back_in_the_wallet_keeps_its_file(store: impl WalletStore) {
        let w = wallet(&store);
        let a = coin(0, 1);
        let keys = HashMap::from([(a.id(), Arc::new(a.clone()))]);
        let wanted = HashSet::from([a.id()]);
        // Other software moved the exported coin's file to Fracked, and an import of the export's
        // own file stored the coin again in Bank under another name.
        let names =
            store.store_coins(&w, Folder::Fracked, std::slice::from_ref(&a)).expect("store");
        let again = store.store_coins(&w, Folder::Bank, std::slice::from_ref(&a)).expect("store");
        assert_ne!((Folder::Fracked, &names[0]), (Folder::Bank, &again[0]));
        // At start-up (no index) one file of the coin goes to Sent, never both.
        let found = store.move_found_coins(&w, &wanted, None, &keys, Folder::Sent).expect("found");
        assert_eq!(found, wanted);
        assert_eq!(count(&store, &w, Folder::Sent), 1);
        assert_eq!(count(&store, &w, Folder::Bank) + count(&store, &w, Folder::Fracked), 1);
        // While the service runs, a coin the index holds again (an import is storing it, its file
        // not named yet) is the wallet's: none of its files is taken.
        let b = coin(0, 2);
        store.store_coins(&w, Folder::Bank, std::slice::from_ref(&b)).expect("store");
        let mut index = WalletState::default();
        index.coins.insert(
            b.id(),
            Entry::new(Folder::Bank, String::new(), b.clone(), Hold::Incoming(TaskId::new())),
        );
        let known = Mutex::new(index);
        let wanted = HashSet::from([b.id()]);
        let keys = HashMap::from([(b.id(), Arc::new(b.clone()))]);
        let found =
            store.move_found_coins(&w, &wanted, Some(&known), &keys, Folder::Sent).expect("found");
        assert!(found.is_empty(), "a coin the wallet holds again was taken");
        assert_eq!(count(&store, &w, Folder::Sent), 1);
    }

    pub(crate) fn rewritten_coins_hold_their_new_keys_in_their_folder(store: impl WalletStore) {
        let w = wallet(&store);
        let (a, b) = (coin(0, 1), coin(0, 2));
        let names = store.store_coins(&w, Folder::Limbo, &[a.clone(), b.clone()]).expect("store");
        let (new_a, new_b) = (other_keys(&a), other_keys(&b));
        let rewrites = [
            Rewrite { coin: &new_a, from: Folder::Limbo, file: &names[0], to: Folder::Bank },
            Rewrite { coin: &new_b, from: Folder::Limbo, file: &names[1], to: Folder::Limbo },
        ];
        let renamed = store.rewrite_coins(&w, &rewrites).expect("rewrite");
        assert_eq!(renamed, vec![Some(names[0].clone()), Some(names[1].clone())]);
        let state: WalletState = store.load(&w).expect("load");
        let held = |c: &Coin| state.coins.get(&c.id()).map(|e| (e.folder, e.coin.ans));
        assert_eq!(held(&a), Some((Folder::Bank, new_a.ans)));
        assert_eq!(held(&b), Some((Folder::Limbo, new_b.ans)));
        assert_eq!(count(&store, &w, Folder::Limbo), 1);
        assert_eq!(count(&store, &w, Folder::Bank), 1);
    }

    /// One test per check of [`self`](crate::store::seam::conformance) for the store
    /// `$fresh` makes (an expression giving a fresh, empty store and what keeps it alive).
    macro_rules! conformance_tests {
        ($fresh:expr, $($check:ident),+ $(,)?) => {
            $(
                #[test]
                fn $check() {
                    let (_keep, store) = $fresh;
                    crate::store::seam::conformance::$check(store);
                }
            )+
        };
    }
    pub(crate) use conformance_tests;
}

/// The filesystem store passes every conformance check.
#[cfg(test)]
mod filesystem_conforms {
    use super::conformance::conformance_tests;
    use crate::store::Layout;

    fn fresh() -> (tempfile::TempDir, Layout) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        std::fs::create_dir_all(layout.wallets()).expect("Wallets");
        (tmp, layout)
    }

    conformance_tests!(
        fresh(),
        a_created_wallet_is_listed_and_empty,
        stored_coins_are_held_and_never_replace_a_record,
        two_sets_of_keys_for_one_coin_are_never_spendable,
        a_move_reports_what_was_not_there_and_never_replaces,
        copies_of_reserved_coins_are_set_aside,
        coins_moved_by_others_are_found_by_id,
        an_exported_coin_back_in_the_wallet_keeps_its_file,
        rewritten_coins_hold_their_new_keys_in_their_folder,
    );
}
