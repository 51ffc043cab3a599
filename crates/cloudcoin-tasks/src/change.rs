//! Making change: breaking a coin into ten of the denomination below, so that an export the
//! wallet's coins cannot make exactly can be made.
//!
//! [`plan`] says which coins to break: the fewest, found by taking coins largest first (as the
//! selection does) and, while something is left over, breaking the smallest coin the walk did
//! not take. Each break then runs under the wallet's turn (no claim or healing at the same time),
//! in this order, every step durable before the next:
//!
//! 1. The parent is held (no export takes it) and its file moves to `Limbo`: from here, and
//!    after any crash, it is not spendable until the change is settled.
//! 2. The children's serial numbers are chosen (make change: a random start, as the reference
//!    client does; change SNs + break: the serials most RAIDA offered), with 25 fresh PANs for
//!    each of the ten, and the whole change — parent, serials, all 250 PANs — is written to
//!    `.cloudcoin/change/{id}.json` **before anything is sent** (the write-ahead record).
//! 3. Make change (9/90), or break (9/92), goes to the 25 RAIDA.
//! 4. The answers decide: 13 or more RAIDA made the children and every RAIDA answered → the
//!    children are written (`Bank`, or `Fracked` where a RAIDA did not make them) and the parent
//!    goes to `Trash`; fewer than 13 could have made them (passes plus silences) → the parent
//!    returns (where a RAIDA made the children the parent is gone there, and healing fixes it);
//!    anything else → [`settle_record`] asks the RAIDA: find for the children with their PANs,
//!    detect for the parent with its ANs, and whichever side 13 or more RAIDA hold is the coin.
//!    If neither is known yet, the record stays and healing settles it later (its first step;
//!    also at every start with a network).
//! 5. A settled record moves to `.cloudcoin/change/done/`, never deleted: the wallet never
//!    forgets a key it gave a RAIDA.
//!
//! Since every RAIDA either made the children (and dropped the parent) or did not, the parent
//! and the children can never both be held by 13 or more RAIDA: the wallet owns one or the other.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::sync::Mutex;

use cloudcoin_domain::{
    Amount, Coin, CoinId, Denomination, Pown, RAIDA_COUNT, SerialNumber, WalletName,
};
use cloudcoin_raida::{AGREEMENT, Answer, Check, Found, Key, RaidaId};
use serde::{Deserialize, Serialize};

use crate::claim::{Settled, apply};
use crate::durable::RecordFolder;
use crate::export::lock;
use crate::network::Network;
use crate::report::ChangeReport;
use crate::store::{Entry, Folder, Hold, Layout, WalletState};

/// How the wallet asks the RAIDA to break a coin.
///
/// ```
/// use cloudcoin_tasks::ChangeMethod;
/// assert_eq!(ChangeMethod::default(), ChangeMethod::MakeChange);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChangeMethod {
    /// Make change (9/90): the wallet picks the children's serial numbers. What the reference
    /// client uses on the live network.
    #[default]
    MakeChange,
    /// Change SNs (9/91) for free serial numbers, then break (9/92). The published server build
    /// never reserves the serial numbers, so there every break is refused (41).
    Break,
}

/// A change about to be sent: everything needed to learn, later, which coin the wallet owns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeRecord {
    /// The record's name in `.cloudcoin/change/`.
    id: String,
    wallet: String,
    /// The parent's denomination code and serial number.
    dn: i8,
    sn: u32,
    /// The parent's key at each RAIDA when the change was sent.
    parent_ans: [Key; RAIDA_COUNT],
    /// The ten children's serial numbers (denomination code `dn − 1`).
    serials: Vec<u32>,
    /// `pans[c][r]`: child `c`'s key at RAIDA `r`.
    pans: Vec<[Key; RAIDA_COUNT]>,
    /// The change SNs session of a break.
    #[serde(default)]
    session: Option<[u8; 4]>,
}

impl ChangeRecord {
    fn parent_id(&self) -> CoinId {
        CoinId {
            denomination: Denomination::from_code(self.dn),
            serial: SerialNumber::new(self.sn),
        }
    }

    /// The parent as it was when the change was sent.
    fn parent(&self) -> Coin {
        let id = self.parent_id();
        Coin::new(id.denomination, id.serial, self.parent_ans, [Pown::Untried; RAIDA_COUNT])
    }

    /// The children, each with its PANs as both its keys and its PANs (the only keys it has).
    fn children(&self) -> Vec<Coin> {
        let dn = Denomination::from_code(self.dn - 1);
        self.serials
            .iter()
            .zip(&self.pans)
            .map(|(sn, pans)| {
                Coin::new(dn, SerialNumber::new(*sn), *pans, [Pown::Untried; RAIDA_COUNT])
                    .with_pans(*pans)
            })
            .collect()
    }
}

fn records(layout: &Layout) -> RecordFolder<ChangeRecord> {
    RecordFolder::new(layout.own().join("change"))
}

/// Whether a change waits to be settled (for the start-up's healing).
pub(crate) fn any_pending(layout: &Layout) -> bool {
    records(layout).list().is_ok_and(|all| !all.is_empty())
}

/// The coins to break for `target`, given how many spendable coins of each denomination the
/// wallet holds, in the order to break them; empty when the coins make `target` already.
/// `None` when no breaking makes it (too little money).
pub(crate) fn plan(
    target: Amount,
    counts: &BTreeMap<Denomination, usize>,
) -> Option<Vec<Denomination>> {
    let mut counts: BTreeMap<i8, u64> =
        counts.iter().filter(|(d, _)| d.is_money()).map(|(d, n)| (d.code(), *n as u64)).collect();
    let value = |code: i8| Denomination::from_code(code).value().map_or(0, Amount::units);
    let balance: u64 = counts.iter().map(|(c, n)| value(*c).saturating_mul(*n)).sum();
    if target.units() > balance {
        return None;
    }
    let mut breaks = Vec::new();
    // Each break moves value one denomination down; 14 steps reach the smallest from the
    // largest, so a few times that is always enough.
    for _ in 0..64 {
        let mut rest = target.units();
        let mut untaken = Vec::new();
        for (&code, &n) in counts.iter().rev() {
            let v = value(code);
            let take = n.min(rest / v);
            rest -= take * v;
            if take < n {
                untaken.push(code);
            }
        }
        if rest == 0 {
            return Some(breaks);
        }
        // The smallest coin left over that can be broken: every such coin is worth more than
        // what is missing (the walk would have taken it otherwise).
        let code = untaken.into_iter().filter(|&c| c > -8).min()?;
        *counts.get_mut(&code).expect("a denomination the walk met") -= 1;
        *counts.entry(code - 1).or_insert(0) += 10;
        breaks.push(Denomination::from_code(code));
    }
    None
}

/// The spendable coins of each denomination: free, in Bank or Fracked.
fn spendable_counts(state: &WalletState) -> BTreeMap<Denomination, usize> {
    let mut counts = BTreeMap::new();
    for e in state.coins.values() {
        if e.hold == Hold::Free
            && matches!(e.folder, Folder::Bank | Folder::Fracked)
            && e.coin.denomination.is_money()
        {
            *counts.entry(e.coin.denomination).or_insert(0) += 1;
        }
    }
    counts
}

/// Breaks the fewest coins needed for `amount` to be made exactly, one at a time. Blocking;
/// takes the wallet's turn. On an error, the change made so far stays made (the coins are the
/// wallet's either way) and the message says what was done.
pub(crate) fn make_change(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    amount: Amount,
    method: ChangeMethod,
) -> Result<ChangeReport, String> {
    let turn = net.turn(wallet);
    let _turn = turn.hold();
    let mut broken = Vec::new();
    let done_so_far = |broken: &[CoinId]| match broken {
        [] => String::new(),
        some => format!(" ({})", ChangeReport::noted(some.to_vec()).note),
    };
    loop {
        let counts = spendable_counts(&lock(state));
        let Some(order) = plan(amount, &counts) else {
            return Err(format!(
                "no change can make {amount} from the coins left{}",
                done_so_far(&broken)
            ));
        };
        let Some(denomination) = order.first().copied() else { break };
        if broken.len() >= 64 {
            return Err(format!("change did not converge{}", done_so_far(&broken)));
        }
        let Some(parent) = pick_parent(&lock(state), denomination) else {
            return Err(format!("no free coin of {denomination} to break{}", done_so_far(&broken)));
        };
        match break_one(net, layout, wallet, state, parent, method) {
            Ok(Broke::Made) => broken.push(parent),
            Ok(Broke::NotMade(why)) => {
                return Err(format!(
                    "the RAIDA did not make change for {} #{}: {why}; the coin stays in the wallet{}",
                    parent.denomination,
                    parent.serial,
                    done_so_far(&broken)
                ));
            }
            Ok(Broke::Unsettled) => {
                return Err(format!(
                    "change for {} #{} was sent, but too few RAIDA answered to tell whether it was made; the coin and every key of its change are kept (the coin waits in Limbo), and healing (POST /api/v1/fix, or the next start) settles it{}",
                    parent.denomination,
                    parent.serial,
                    done_so_far(&broken)
                ));
            }
            Err(e) => return Err(format!("{e}{}", done_so_far(&broken))),
        }
    }
    Ok(ChangeReport::noted(broken))
}

/// A free coin of `denomination` to break, a Bank one before a Fracked one.
fn pick_parent(state: &WalletState, denomination: Denomination) -> Option<CoinId> {
    let mut best: Option<(u8, CoinId)> = None;
    for (id, e) in state.coins.iter() {
        if id.denomination != denomination || e.hold != Hold::Free {
            continue;
        }
        let rank = match e.folder {
            Folder::Bank => 0,
            Folder::Fracked => 1,
            _ => continue,
        };
        if best.is_none_or(|(r, b)| (rank, *id) < (r, b)) {
            best = Some((rank, *id));
        }
    }
    best.map(|(_, id)| id)
}

/// How one break ended.
#[derive(Debug)]
enum Broke {
    /// The children are the wallet's, the parent is retired.
    Made,
    /// Not made; the parent is back (the reason, for a person).
    NotMade(String),
    /// Not known yet: the parent waits in Limbo and the record stays.
    Unsettled,
}

/// Breaks `parent` (see the module documentation). Blocking; the caller holds the turn.
fn break_one(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    parent: CoinId,
    method: ChangeMethod,
) -> Result<Broke, String> {
    let io = |what: &'static str| move |e: std::io::Error| format!("{what}: {e}");
    // 1. Held, and moved to Limbo.
    let (coin, home) = {
        let mut s = lock(state);
        let Some(e) = s.coins.get(&parent).filter(|e| e.hold == Hold::Free) else {
            return Err(format!("coin {parent} changed before it could be broken"));
        };
        let found = ((*e.coin).clone(), e.folder);
        s.coins.update(&parent, |e| e.hold = Hold::Healing);
        found
    };
    let release = || {
        lock(state).coins.update(&parent, |e| {
            if e.hold == Hold::Healing {
                e.hold = Hold::Free;
            }
        });
    };
    let back = |why: String| -> Result<Broke, String> {
        let restored =
            apply(layout, wallet, state, vec![Settled { coin: coin.clone(), folder: home }]);
        release();
        restored.map_err(io("cannot put the coin back"))?;
        Ok(Broke::NotMade(why))
    };
    if let Err(e) =
        apply(layout, wallet, state, vec![Settled { coin: coin.clone(), folder: Folder::Limbo }])
    {
        release();
        return Err(format!("cannot set the coin aside for the change: {e}"));
    }
    // 2. The children's serials and keys, on disk before anything is sent.
    let client = net.client();
    let (serials, session) = match method {
        ChangeMethod::MakeChange => {
            let held = |sn: u32| {
                let s = lock(state);
                let dn = Denomination::from_code(parent.denomination.code() - 1);
                s.coins.contains_key(&CoinId { denomination: dn, serial: SerialNumber::new(sn) })
            };
            let start = (0..16)
                .map(|_| cloudcoin_raida::MakeChange::random_start().get())
                .find(|start| (0..10).all(|i| !held(start + i)));
            let Some(start) = start else {
                return back("no free range of serial numbers was found".to_owned());
            };
            ((start..start + 10).collect::<Vec<u32>>(), None)
        }
        ChangeMethod::Break => {
            let session = cloudcoin_raida::Session::random();
            let free = net.block_on(client.change_serials(
                session,
                cloudcoin_raida::PageOp::Break,
                parent.denomination,
            ));
            let mut offered: HashMap<u32, usize> = HashMap::new();
            for (_, answer) in free.iter() {
                if let Some(f) = answer.said() {
                    for sn in &f.serials {
                        *offered.entry(sn.get()).or_insert(0) += 1;
                    }
                }
            }
            let mut best: Vec<(usize, u32)> = offered
                .into_iter()
                .map(|(sn, n)| (n, sn))
                .filter(|(n, _)| *n >= AGREEMENT)
                .collect();
            best.sort_unstable_by(|a, b| b.cmp(a));
            if best.len() < 10 {
                return back(
                    "change SNs gave fewer than ten serial numbers 13 RAIDA agree are free"
                        .to_owned(),
                );
            }
            let mut serials: Vec<u32> = best[..10].iter().map(|(_, sn)| *sn).collect();
            serials.sort_unstable();
            (serials, Some(session.bytes()))
        }
    };
    let pans: Vec<[Key; RAIDA_COUNT]> =
        (0..10).map(|_| std::array::from_fn(|_| cloudcoin_raida::random_key())).collect();
    let record = ChangeRecord {
        id: uuid::Uuid::new_v4().simple().to_string(),
        wallet: wallet.as_str().to_owned(),
        dn: parent.denomination.code(),
        sn: parent.serial.get(),
        parent_ans: coin.ans,
        serials,
        pans,
        session,
    };
    let folder = records(layout);
    let written = fs::create_dir_all(layout.own().join("change"))
        .and_then(|()| folder.write(&record.id, &record));
    if let Err(e) = written {
        return back(format!("the change cannot be recorded ({e})"));
    }
    // 3. Sent.
    let answers: Vec<Answer<Check>> = match method {
        ChangeMethod::MakeChange => {
            let change = cloudcoin_raida::MakeChange::new(
                parent,
                coin.ans,
                SerialNumber::new(record.serials[0]),
                std::array::from_fn(|c| record.pans[c]),
            );
            let answers = net.block_on(client.make_change(&change));
            answers.iter().map(|(_, a)| a.clone()).collect()
        }
        ChangeMethod::Break => {
            let children = record
                .serials
                .iter()
                .zip(&record.pans)
                .map(|(sn, pans)| cloudcoin_raida::PageCoin::new(SerialNumber::new(*sn), *pans))
                .collect();
            let session = cloudcoin_raida::Session::new(session.expect("a break has a session"));
            let page = cloudcoin_raida::Page::new(session, parent, coin.ans, children);
            match net.block_on(client.break_coin(&page)) {
                Ok(answers) => answers.iter().map(|(_, a)| a.clone()).collect(),
                // Refused before anything was sent.
                Err(e) => {
                    let _ = archive(layout, &record);
                    return back(e.to_string());
                }
            }
        }
    };
    // 4. The answers decide.
    let pass = answers.iter().filter(|a| a.is_pass()).count();
    let silent = answers.iter().filter(|a| a.maybe_applied()).count();
    let decided = (|| {
        Ok(if pass >= AGREEMENT && silent == 0 {
            let children = made_children(&record, |_, r| answers[r].is_pass());
            take_children(layout, wallet, state, &record, children)
                .map_err(io("cannot store the change"))?;
            Broke::Made
        } else if pass + silent < AGREEMENT {
            // Not made. Where a RAIDA made the children the parent is gone there: healing
            // fixes it.
            let mut again = coin.clone();
            for (r, a) in answers.iter().enumerate() {
                if a.is_pass() {
                    again.pown[r] = Pown::Fail;
                } else if a.maybe_applied() {
                    again.pown[r] = Pown::NoReply;
                }
            }
            let to = if pass == 0 && silent == 0 { home } else { Folder::Fracked };
            apply(layout, wallet, state, vec![Settled { coin: again, folder: to }])
                .map_err(io("cannot put the coin back"))?;
            archive(layout, &record).map_err(io("cannot archive the change record"))?;
            Broke::NotMade(why_not(&answers))
        } else {
            settle_record(net, layout, wallet, state, &record)?
        })
    })();
    // Whatever happened, the parent (if still held) is no longer being changed: a change left
    // open is settled by healing, which takes it from `Limbo`.
    release();
    decided
}

/// What the RAIDA said when change was not made, for a person.
fn why_not(answers: &[Answer<Check>]) -> String {
    let mut said: BTreeMap<String, usize> = BTreeMap::new();
    for a in answers {
        let what = match a {
            Answer::Said(Check::Pass) => "made it".to_owned(),
            Answer::Said(_) => "refused the coin's keys".to_owned(),
            Answer::Status(s) => format!("answered {s}"),
            Answer::NoAnswer(_) => "gave no answer".to_owned(),
            _ => "were not reached".to_owned(),
        };
        *said.entry(what).or_insert(0) += 1;
    }
    let parts: Vec<String> = said.into_iter().map(|(what, n)| format!("{n} {what}")).collect();
    parts.join(", ")
}

/// The children of `record`, their keys the PANs, graded by `made(child, raida)`.
fn made_children(record: &ChangeRecord, made: impl Fn(usize, usize) -> bool) -> Vec<Settled> {
    record
        .children()
        .into_iter()
        .enumerate()
        .map(|(c, child)| {
            let mut child = child.without_pans();
            for r in 0..RAIDA_COUNT {
                child.pown[r] = if made(c, r) { Pown::Pass } else { Pown::Fail };
            }
            let folder = if child.pown.iter().all(|p| *p == Pown::Pass) {
                Folder::Bank
            } else {
                Folder::Fracked
            };
            Settled { coin: child, folder }
        })
        .collect()
}

/// The children become the wallet's and the parent is retired to `Trash`; then the record is
/// archived. Each step is safe to repeat.
fn take_children(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    record: &ChangeRecord,
    children: Vec<Settled>,
) -> std::io::Result<()> {
    let (known, new): (Vec<Settled>, Vec<Settled>) =
        children.into_iter().partition(|s| lock(state).coins.contains_key(&s.coin.id()));
    apply(layout, wallet, state, known)?;
    store_new(layout, wallet, state, new)?;
    retire(layout, wallet, state, record.parent_id())?;
    archive(layout, record)
}

/// Writes coins the wallet does not hold yet into their folders, each durable before it gets
/// its name (never replacing a file), and adds them to the index.
fn store_new(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    coins: Vec<Settled>,
) -> std::io::Result<()> {
    let mut stored = Vec::with_capacity(coins.len());
    let mut touched = std::collections::BTreeSet::new();
    for s in coins {
        let dir = layout.folder(wallet, s.folder);
        let temp = dir.join(format!(".keys-{}.tmp", uuid::Uuid::new_v4().simple()));
        let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&s.coin))
            .map_err(std::io::Error::other)?;
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        let path = crate::durable::publish_unique(
            &temp,
            &dir,
            &crate::store::coin_file_name(&s.coin),
            |_| Ok(()),
        )?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        touched.insert(s.folder);
        stored.push((s, name));
    }
    for folder in touched {
        crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    }
    let mut st = lock(state);
    for (s, name) in stored {
        st.coins.insert(s.coin.id(), Entry::new(s.folder, name, s.coin, Hold::Free));
    }
    Ok(())
}

/// Moves a coin the RAIDA no longer hold (a broken parent, or children never made) to `Trash`
/// and out of the index. Its keys stay in the change record as well.
fn retire(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    id: CoinId,
) -> std::io::Result<()> {
    let Some((folder, file)) =
        lock(state).coins.get(&id).map(|e| (e.folder, e.file().into_owned()))
    else {
        return Ok(());
    };
    let source = fs::File::open(layout.folder(wallet, folder))?;
    let trash = fs::File::open(layout.folder(wallet, Folder::Trash))?;
    crate::store::move_one(&source, &file, &trash)?;
    crate::durable::sync_dir(&layout.folder(wallet, Folder::Trash))?;
    crate::durable::sync_dir(&layout.folder(wallet, folder))?;
    lock(state).coins.remove_if(&id, |_| true);
    Ok(())
}

/// Moves a settled record to `.cloudcoin/change/done/`, where its keys stay.
fn archive(layout: &Layout, record: &ChangeRecord) -> std::io::Result<()> {
    let done = RecordFolder::<ChangeRecord>::new(layout.own().join("change").join("done"));
    fs::create_dir_all(layout.own().join("change").join("done"))?;
    done.write(&record.id, record)?;
    records(layout).remove(&record.id)
}

/// Asks the RAIDA which side of a recorded change they hold — find for the children with their
/// PANs, detect for the parent with its ANs — and settles it when 13 or more agree on one side.
fn settle_record(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    record: &ChangeRecord,
) -> Result<Broke, String> {
    let io = |what: &'static str| move |e: std::io::Error| format!("{what}: {e}");
    let client = net.client();
    let children = record.children();
    let found = net
        .block_on(client.find(&children))
        .map_err(|e| format!("cannot ask the RAIDA about the change: {e}"))?;
    let found: Vec<[Answer<Found>; RAIDA_COUNT]> = found.iter().map(|(_, a)| a.clone()).collect();
    let holds = |c: usize, r: usize| matches!(found[c][r], Answer::Said(Found::An | Found::Pan));
    let made =
        (0..children.len()).all(|c| (0..RAIDA_COUNT).filter(|&r| holds(c, r)).count() >= AGREEMENT);
    if made {
        let settled = made_children(record, holds);
        take_children(layout, wallet, state, record, settled)
            .map_err(io("cannot store the change"))?;
        tracing::info!(wallet = %wallet, parent = %record.parent_id(), "a change was settled: the children are the wallet's");
        return Ok(Broke::Made);
    }
    let parent = record.parent();
    let detected = net
        .block_on(client.detect(std::slice::from_ref(&parent)))
        .map_err(|e| format!("cannot ask the RAIDA about the change: {e}"))?;
    let passed = detected.passed_at(0);
    if passed.len() >= AGREEMENT {
        let mut again = parent;
        for r in RaidaId::all() {
            again.pown[r.index()] = if passed.contains(r) { Pown::Pass } else { Pown::Fail };
        }
        let folder = if passed.len() == RAIDA_COUNT { Folder::Bank } else { Folder::Fracked };
        if lock(state).coins.contains_key(&again.id()) {
            apply(layout, wallet, state, vec![Settled { coin: again, folder }])
        } else {
            store_new(layout, wallet, state, vec![Settled { coin: again, folder }])
        }
        .map_err(io("cannot put the coin back"))?;
        for child in &children {
            retire(layout, wallet, state, child.id()).map_err(io("cannot retire a child"))?;
        }
        archive(layout, record).map_err(io("cannot archive the change record"))?;
        tracing::info!(wallet = %wallet, parent = %record.parent_id(), "a change was settled: it was not made, the coin is the wallet's");
        return Ok(Broke::NotMade(format!("{} RAIDA still hold the coin itself", passed.len())));
    }
    tracing::warn!(wallet = %wallet, parent = %record.parent_id(), "a change cannot be settled yet: too few RAIDA answered");
    Ok(Broke::Unsettled)
}

/// Settles every change of `wallet` a crash or a silent network left open (healing's first
/// step). Returns how many are still open. Blocking; the caller holds the wallet's turn.
pub(crate) fn settle_pending(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
) -> Result<usize, String> {
    let folder = records(layout);
    let Ok(all) = folder.list() else { return Ok(0) };
    let mut open = 0;
    for record in all.into_iter().flatten().filter(|r| r.wallet == wallet.as_str()) {
        // The parent may be held again by now (a start-up scan, or healing): it stays in the
        // wallet's hands until the record says which coin the wallet owns.
        if let Broke::Unsettled = settle_record(net, layout, wallet, state, &record)? {
            open += 1;
        }
    }
    Ok(open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::SelectionPolicy;

    fn counts(pairs: &[(i8, usize)]) -> BTreeMap<Denomination, usize> {
        pairs.iter().map(|&(c, n)| (Denomination::from_code(c), n)).collect()
    }

    fn amount(s: &str) -> Amount {
        Amount::parse_request(s).expect("amount")
    }

    fn codes(plan: Option<Vec<Denomination>>) -> Option<Vec<i8>> {
        plan.map(|p| p.into_iter().map(Denomination::code).collect())
    }

    #[test]
    fn an_exact_amount_needs_no_change() {
        assert_eq!(codes(plan(amount("11"), &counts(&[(1, 1), (0, 1)]))), Some(vec![]));
    }

    #[test]
    fn the_smallest_coin_left_over_is_broken_as_far_down_as_needed() {
        // 5 from one 10: break the 10.
        assert_eq!(codes(plan(amount("5"), &counts(&[(1, 1)]))), Some(vec![1]));
        // 0.5 from a 1 and a 100: the 1, not the 100.
        assert_eq!(codes(plan(amount("0.5"), &counts(&[(0, 1), (2, 1)]))), Some(vec![0]));
        // 0.5 from a 100 alone: 100 → 10 → 1 → 0.1.
        assert_eq!(codes(plan(amount("0.5"), &counts(&[(2, 1)]))), Some(vec![2, 1, 0]));
        // 15 from two 10s: one is taken, the other broken.
        assert_eq!(codes(plan(amount("15"), &counts(&[(1, 2)]))), Some(vec![1]));
        // Three 1s cover part of 5; one 10 is still broken.
        assert_eq!(codes(plan(amount("5"), &counts(&[(1, 1), (0, 3)]))), Some(vec![1]));
    }

    #[test]
    fn too_little_money_cannot_be_changed() {
        assert_eq!(plan(amount("11"), &counts(&[(1, 1)])), None);
    }

    /// After the planned breaks, the largest-first walk makes the amount exactly.
    #[test]
    fn every_plan_leads_to_an_exact_set() {
        for (target, wallet) in [
            ("0.37", vec![(3, 1)]),
            ("123.45", vec![(3, 1), (0, 2)]),
            ("9.99", vec![(1, 1), (-2, 5)]),
            ("1000", vec![(3, 1)]),
        ] {
            let mut c: BTreeMap<Denomination, usize> = counts(&wallet);
            let order = plan(amount(target), &c).expect("enough money");
            for d in order {
                *c.get_mut(&d).expect("a coin to break") -= 1;
                *c.entry(Denomination::from_code(d.code() - 1)).or_insert(0) += 10;
            }
            let sizes: Vec<(Denomination, usize)> = c.into_iter().collect();
            let coins: Vec<Coin> = sizes
                .iter()
                .flat_map(|&(d, n)| {
                    (0..n).map(move |i| {
                        Coin::new(
                            d,
                            SerialNumber::new(i as u32 + 1),
                            [[0; 16]; RAIDA_COUNT],
                            [Pown::Pass; RAIDA_COUNT],
                        )
                    })
                })
                .collect();
            let chosen =
                cloudcoin_domain::select_coins(amount(target), &coins, &SelectionPolicy::default());
            assert!(chosen.is_ok(), "{target}: {chosen:?}");
        }
    }

    #[test]
    fn the_record_round_trips_and_makes_the_children_with_their_pans() {
        let record = ChangeRecord {
            id: "x".into(),
            wallet: "W".into(),
            dn: 1,
            sn: 5,
            parent_ans: [[1; 16]; RAIDA_COUNT],
            serials: (100..110).collect(),
            pans: (0..10).map(|c| [[c as u8 + 2; 16]; RAIDA_COUNT]).collect(),
            session: None,
        };
        let text = serde_json::to_string(&record).expect("json");
        let back: ChangeRecord = serde_json::from_str(&text).expect("read back");
        let children = back.children();
        assert_eq!(children.len(), 10);
        assert_eq!(children[3].denomination, Denomination::from_code(0));
        assert_eq!(children[3].serial, SerialNumber::new(103));
        assert_eq!(children[3].pans(), Some(&[[5; 16]; RAIDA_COUNT]));
        assert_eq!(children[3].ans, [[5; 16]; RAIDA_COUNT]);
        assert_eq!(back.parent().ans, [[1; 16]; RAIDA_COUNT]);
    }
}
