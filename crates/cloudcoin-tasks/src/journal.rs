//! The intent journal: one JSON record per unfinished coin-moving operation, in
//! `.cloudcoin/journal/{op id}.json`, written atomically and synced before the first change the
//! operation makes, updated when its output is published, and removed when it is done.
//! Recovery at start-up reads what is left (see `recovery`).
//!
//! # The record
//!
//! A record is JSON, written atomically (temporary sibling, fsync, rename, fsync of the folder)
//! before the operation's first change, and removed only after the task's outcome is on disk:
//!
//! ```json
//! {"version":1, "op":"export", "id":"<task uuid>", "wallet":"Default",
//!  "coins":[{"dn":1,"sn":7998}, {"dn":0,"sn":12,"folder":"Fracked"},
//!           {"dn":1,"sn":31,"file":"10 CloudCoin #31 '' (2).bin"}, ...],
//!  "coins_digest":"<hex>", "target_dir":"/abs/folder",
//!  "temp":null, "unnamed":true,
//!  "final_name":"10.5 CloudCoin #6 'trade'.zip", "sha256":"<hex>", "committed":true,
//!  "amount_units":1050000000, "tag":"trade", "coin_count":0}
//! ```
//!
//! A coin's `folder` is written only when it is not `Bank`, and its `file` only when it is not the
//! coin's conventional name (`store::id_file_name`, which depends on the denomination and serial
//! alone): a whole-balance export's record is written three times, and most coins are then
//! `{"dn":…,"sn":…}`, a quarter of the size. A record that spells both out reads the same.
//! **Invariant:** the short form names the same folder and file as the long one. Kept by
//! `journal::tests::a_coin_in_bank_under_its_usual_name_is_written_short_and_reads_back_whole`
//! (every denomination code, other ANs and POWN, a numbered name, another folder, an older record).
//!
//! An export's record passes through three states, and recovery reads them so (see
//! `crate::recovery`): **written, not linked** (`final_name` null: the output is an unnamed file,
//! or the temporary file `temp`), **final name recorded** (`final_name` is written *before* the
//! link, so the link may or may not have happened), and **committed** (the link happened and the
//! folder was synced).
//!
//! `coins_digest` fingerprints the exact coin set an output must hold: SHA-256 over the coin count
//! (u64, big-endian) followed by the sorted, distinct records `denomination code (i8) ‖ serial
//! (u32, big-endian) ‖ AN 0…AN 24`. POWN is left out (a multi-coin format-9 file does not carry
//! it).

use std::io;
use std::path::PathBuf;

use cloudcoin_domain::{Coin, CoinId, Denomination, SerialNumber};
use serde::{Deserialize, Serialize};

use crate::durable::{RecordFolder, Unreadable};
use crate::store::{Folder, Held, id_file_name};

/// Format version of journal records.
const VERSION: u32 = 1;

/// What kind of operation a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Op {
    Export,
    Import,
    Backup,
}

/// A coin an export takes, and where its wallet file was when the export began.
///
/// The folder and the file name are written only when they are not the usual ones: a coin in
/// `Bank` under its conventional name is `{"dn":1,"sn":7998}` (a whole-balance export's record is
/// written three times, and this keeps it a quarter of the size). Records that spell them out
/// (older ones) read the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JournalCoin {
    pub(crate) dn: i8,
    pub(crate) sn: u32,
    /// The folder's name; absent for `Bank`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) folder: Option<String>,
    /// The file's name; absent for the coin's conventional name ([`id_file_name`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<String>,
}

impl JournalCoin {
    pub(crate) fn id(&self) -> CoinId {
        CoinId {
            denomination: Denomination::from_code(self.dn),
            serial: SerialNumber::new(self.sn),
        }
    }

    /// The folder the coin's file was in (`Bank` when absent or unknown, as it always was).
    pub(crate) fn folder(&self) -> Folder {
        self.folder.as_deref().and_then(Folder::parse).unwrap_or(Folder::Bank)
    }

    /// The name of the coin's file in its folder.
    pub(crate) fn file_name(&self) -> String {
        match &self.file {
            Some(name) => name.clone(),
            None => id_file_name(self.id()),
        }
    }
}

/// One journal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) version: u32,
    pub(crate) op: Op,
    /// The operation id, which is also its task id.
    pub(crate) id: String,
    pub(crate) wallet: String,
    /// Export: the coins leaving the wallet.
    #[serde(default)]
    pub(crate) coins: Vec<JournalCoin>,
    /// SHA-256 over the sorted (denomination, serial, ANs) of the coins the output must hold.
    #[serde(default)]
    pub(crate) coins_digest: String,
    /// Export and backup: the folder written to, and the temporary file name in it.
    #[serde(default)]
    pub(crate) target_dir: Option<PathBuf>,
    /// The temporary name is absent when the output is written as an unnamed file (`unnamed`),
    /// which nothing can open before it is linked and which vanishes if the process dies.
    #[serde(default)]
    pub(crate) temp: Option<String>,
    /// The output is an unnamed (`O_TMPFILE`) file until it is linked under `final_name`.
    #[serde(default)]
    pub(crate) unnamed: bool,
    /// The final name about to be, or already, given to the output: recorded before the link,
    /// so a record with it means "the link may have happened".
    #[serde(default)]
    pub(crate) final_name: Option<String>,
    /// The named temporary file is about to be, or was, given its final name by `link` then
    /// `unlink` (a file system without `RENAME_NOREPLACE`): the temporary name being there then
    /// proves nothing about the final one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) link_then_unlink: bool,
    /// Export: finished (coins in `Sent`, receipt written); the record stays only because the
    /// temporary name is still to be removed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) finished: bool,
    /// The SHA-256 of the verified output, recorded with `final_name`.
    #[serde(default)]
    pub(crate) sha256: String,
    /// The output is linked under `final_name`, and its folder synced: from here the export is
    /// never undone.
    #[serde(default)]
    pub(crate) committed: bool,
    /// Export: amount in units of 1e-8.
    #[serde(default)]
    pub(crate) amount_units: u64,
    #[serde(default)]
    pub(crate) tag: String,
    /// Backup: how many coins the output holds.
    #[serde(default)]
    pub(crate) coin_count: usize,
}

impl Record {
    /// A fresh record for operation `id` on `wallet`.
    pub(crate) fn new(op: Op, id: String, wallet: String) -> Record {
        Record {
            version: VERSION,
            op,
            id,
            wallet,
            coins: Vec::new(),
            coins_digest: String::new(),
            target_dir: None,
            temp: None,
            unnamed: false,
            final_name: None,
            link_then_unlink: false,
            finished: false,
            sha256: String::new(),
            committed: false,
            amount_units: 0,
            tag: String::new(),
            coin_count: 0,
        }
    }

    /// The journal coins of held coins.
    pub(crate) fn coins_of(held: &[Held]) -> Vec<JournalCoin> {
        held.iter()
            .map(|h| JournalCoin {
                dn: h.coin.denomination.code(),
                sn: h.coin.serial.get(),
                folder: (h.folder != Folder::Bank).then(|| h.folder.name().to_owned()),
                file: h.file.other().map(str::to_owned),
            })
            .collect()
    }
}

/// A fingerprint of a coin set that a file must hold exactly: ids and ANs, order-free.
pub(crate) fn coins_digest<C: std::borrow::Borrow<Coin>>(coins: &[C]) -> String {
    use crate::verify::{ITEM_LEN, item};
    use sha2::Digest;
    let mut sha = sha2::Sha256::new();
    sha.update((coins.len() as u64).to_be_bytes());
    // SHA-256 over the count, then the sorted, distinct records. Coins already in that order (an
    // export's) are hashed as they are; others are sorted in one buffer of records.
    let key = |c: &C| (c.borrow().denomination.code() as u8, c.borrow().serial.get());
    if coins.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
        coins.iter().for_each(|c| sha.update(item(c.borrow())));
    } else {
        let mut items: Vec<[u8; ITEM_LEN]> = coins.iter().map(|c| item(c.borrow())).collect();
        items.sort_unstable();
        items.dedup();
        items.iter().for_each(|i| sha.update(i));
    }
    hex::encode(sha.finalize())
}

/// The journal folder.
#[derive(Debug, Clone)]
pub(crate) struct Journal(RecordFolder<Record>);

impl Journal {
    pub(crate) fn new(dir: PathBuf) -> Journal {
        Journal(RecordFolder::new(dir))
    }

    /// Writes (or replaces) a record durably.
    pub(crate) fn write(&self, record: &Record) -> io::Result<()> {
        self.0.write(&record.id, record)
    }

    /// Removes a finished operation's record (and syncs the folder).
    pub(crate) fn remove(&self, id: &str) -> io::Result<()> {
        self.0.remove(id)
    }

    /// Removes the record of an export that completed, without syncing the folder. Brought back
    /// by a power cut (until the next synced write of the journal), the record is committed and
    /// settled again the same way: recovery is idempotent, and the task's outcome stays.
    pub(crate) fn remove_completed(&self, id: &str) -> io::Result<()> {
        self.0.remove_unsynced(id)
    }

    /// Every record left, oldest name first; unreadable records are returned as errors by path.
    pub(crate) fn list(&self) -> io::Result<Vec<Result<Record, Unreadable>>> {
        self.0.list()
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::store::coin_file_name;
    use cloudcoin_domain::{Pown, RAIDA_COUNT};

    fn coin(code: i8, sn: u32, an: u8) -> Coin {
        Coin::new(
            Denomination::from_code(code),
            SerialNumber::new(sn),
            [[an; 16]; RAIDA_COUNT],
            [Pown::Pass; RAIDA_COUNT],
        )
    }

    #[test]
    fn digest_ignores_order_and_pown_but_not_ans() {
        let a = vec![coin(1, 1, 1), coin(0, 2, 2)];
        let mut b = vec![coin(0, 2, 2), coin(1, 1, 1)];
        assert_eq!(coins_digest(&a), coins_digest(&b));
        b[0].pown = [Pown::Fail; RAIDA_COUNT];
        assert_eq!(coins_digest(&a), coins_digest(&b));
        b[0].ans[3][0] ^= 1;
        assert_ne!(coins_digest(&a), coins_digest(&b));
        assert_ne!(coins_digest(&a), coins_digest(&a[..1]));
    }

    #[test]
    fn records_round_trip_and_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = Journal::new(dir.path().to_path_buf());
        let mut r = Record::new(Op::Export, "op1".into(), "Default".into());
        r.coins = vec![JournalCoin {
            dn: 1,
            sn: 7,
            folder: Some("Fracked".into()),
            file: Some("x.bin".into()),
        }];
        r.target_dir = Some(PathBuf::from("/tmp/out"));
        journal.write(&r).expect("write");
        r.committed = true;
        journal.write(&r).expect("rewrite");
        let listed = journal.list().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].as_ref().ok(), Some(&r));
        journal.remove("op1").expect("remove");
        assert!(journal.list().expect("list").is_empty());
        journal.remove("op1").expect("removing twice is fine");
    }

    #[test]
    fn a_coin_in_bank_under_its_usual_name_is_written_short_and_reads_back_whole() {
        use crate::store::FileName;
        let held = |coin: Coin, folder, name: Option<&str>| {
            let file = match name {
                Some(n) => FileName::of(&coin, n.to_owned()),
                None => FileName::of(&coin, coin_file_name(&coin)),
            };
            Held { coin: std::sync::Arc::new(coin), folder, file }
        };
        let mut held_coins = Vec::new();
        for code in -8..=8 {
            for sn in [1, 77, 16_777_215] {
                // Other ANs and POWN: the name depends on the denomination and serial alone.
                let mut c = coin(code, sn, (sn % 200) as u8);
                c.pown = [Pown::Fail; RAIDA_COUNT];
                held_coins.push(held(c, Folder::Bank, None));
            }
        }
        held_coins.push(held(coin(1, 5, 1), Folder::Fracked, None));
        held_coins.push(held(coin(1, 6, 1), Folder::Bank, Some("1 CloudCoin #6 '' (2).bin")));
        held_coins.push(held(coin(1, 8, 1), Folder::Limbo, Some("kept by hand.bin")));
        let coins = Record::coins_of(&held_coins);
        for (c, h) in coins.iter().zip(&held_coins) {
            assert_eq!(c.id(), h.coin.id());
            assert_eq!(c.folder(), h.folder);
            assert_eq!(c.file_name(), h.file().into_owned(), "{:?}", h.coin.id());
        }
        let text = serde_json::to_string(&coins[0]).expect("json");
        assert_eq!(text, r#"{"dn":-8,"sn":1}"#);
        let text = serde_json::to_string(&coins[coins.len() - 1]).expect("json");
        assert_eq!(text, r#"{"dn":1,"sn":8,"folder":"Limbo","file":"kept by hand.bin"}"#);
        // A record of an older version, with every field spelled out, reads the same.
        let old: JournalCoin = serde_json::from_str(
            r#"{"dn":2,"sn":9,"folder":"Bank","file":"100 CloudCoin #9 ''.bin"}"#,
        )
        .expect("old record");
        let short: JournalCoin = serde_json::from_str(r#"{"dn":2,"sn":9}"#).expect("short");
        assert_eq!((old.folder(), old.file_name()), (short.folder(), short.file_name()));
        assert_eq!(old.file_name(), "100 CloudCoin #9 ''.bin");
    }

    #[test]
    fn a_damaged_record_is_reported_not_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("bad.json"), b"{not json").expect("write");
        let journal = Journal::new(dir.path().to_path_buf());
        let listed = journal.list().expect("list");
        assert!(matches!(&listed[..], [Err(_)]));
    }
}
