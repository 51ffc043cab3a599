//! Healing: settling `Limbo` coins and repairing `Fracked` ones with the RAIDA, so that every
//! RAIDA holds a key only this wallet knows.
//!
//! One healing runs per wallet at a time (it holds the wallet's turn, as a claim does), and the
//! coins it works on are held (`Hold::Healing`: still in the balance) meanwhile, so an export
//! never takes a coin whose keys are changing. In order:
//!
//! 1. **Pending fixes** a crash interrupted are settled first (step 4's record).
//! 2. **Find** for `Limbo` coins with PANs: per RAIDA, the PAN found → it is the key there; the
//!    AN found → it still is; neither → that RAIDA fails the coin. When every RAIDA answered,
//!    the PANs are no longer needed; while some did not, the coin stays in `Limbo` with both.
//! 3. **Detect** for `Fracked` coins (and `Limbo` coins without PANs): where each passes.
//! 4. **Fix** where an authentic coin fails: tickets from the RAIDA where it passes, a random PG
//!    written durably in `.cloudcoin/heal/` **before** the fix is sent, the fix, then a detect
//!    with the ANs the fix rule gives (so a fix whose answer was lost is still seen); the record
//!    goes once the coins' files hold the outcome.
//! 5. **Pown again** where a RAIDA still holds a key this wallet did not make (a RAIDA that was
//!    offline during the claim): fresh PANs there, the coin moved to `Limbo` with them (durable)
//!    before the pown, then graded as a claim is.

use std::collections::HashMap;
use std::sync::Mutex;

use cloudcoin_domain::{Coin, CoinId, Denomination, Pown, RAIDA_COUNT, SerialNumber, WalletName};
use cloudcoin_raida::{AGREEMENT, Answer, FixCoin, Found, RaidaId, RaidaSet, fix_an};
use serde::{Deserialize, Serialize};

use crate::claim::{Settled, apply, claim_stored};
use crate::durable::RecordFolder;
use crate::export::lock;
use crate::network::Network;
use crate::report::HealReport;
use crate::store::{Folder, Hold, Layout, WalletState};
use crate::task::count;

/// A fix about to be sent: the PG and the coins it is for, with the RAIDA each is fixed at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FixRecord {
    /// The record's name in `.cloudcoin/heal/`.
    id: String,
    wallet: String,
    pg: [u8; 16],
    /// (denomination code, serial, bit set of the RAIDA the coin is fixed at).
    coins: Vec<(i8, u32, u32)>,
}

fn records(layout: &Layout) -> RecordFolder<FixRecord> {
    RecordFolder::new(layout.own().join("heal"))
}

fn id_of(dn: i8, sn: u32) -> CoinId {
    CoinId { denomination: Denomination::from_code(dn), serial: SerialNumber::new(sn) }
}

fn set_of(bits: u32) -> RaidaSet {
    RaidaId::all().filter(|r| bits & (1 << r.index()) != 0).collect()
}

fn bits_of(set: RaidaSet) -> u32 {
    set.iter().fold(0, |b, r| b | (1 << r.index()))
}

/// The folder an authentic coin belongs in: `Bank` when every RAIDA holds this wallet's key.
fn owned_folder(coin: &Coin) -> Folder {
    if coin.pown.iter().all(|p| *p == Pown::Pass) { Folder::Bank } else { Folder::Fracked }
}

/// The coin after a find that got `answers` (step 2).
pub(crate) fn after_find(coin: &Coin, answers: &[Answer<Found>; RAIDA_COUNT]) -> Settled {
    let Some(pans) = coin.pans().copied() else {
        return Settled { coin: coin.clone(), folder: Folder::Limbo };
    };
    let mut next = coin.clone();
    let (mut known, mut neither, mut unknown) = (0, 0, 0);
    for r in 0..RAIDA_COUNT {
        match &answers[r] {
            Answer::Said(Found::Pan) => {
                next.ans[r] = pans[r];
                next.pown[r] = Pown::Pass;
                known += 1;
            }
            Answer::Said(Found::An) => {
                // The AN is the key there: this wallet's own when it equals the PAN.
                next.pown[r] = if next.ans[r] == pans[r] { Pown::Pass } else { Pown::Untried };
                known += 1;
            }
            Answer::Said(_) => {
                next.pown[r] = Pown::Fail;
                neither += 1;
            }
            _ => unknown += 1,
        }
    }
    let folder = if neither >= AGREEMENT {
        Folder::Counterfeit
    } else if unknown == 0 && known >= AGREEMENT {
        next = next.without_pans();
        owned_folder(&next)
    } else {
        Folder::Limbo
    };
    Settled { coin: next, folder }
}

/// Heals every `Limbo` and `Fracked` coin of `wallet`. Blocking; takes the wallet's turn.
pub(crate) fn heal(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
) -> Result<HealReport, String> {
    let turn = net.turn(wallet);
    let _turn = turn.hold();
    // What a claim left (a store that failed after its pown): its coins to Limbo, healed below.
    // The wallet's turn is held: no claim is under way.
    if let Err(e) = crate::claim::settle_records(layout, wallet, &mut lock(state)) {
        tracing::warn!(wallet = %wallet, error = %e, "cannot settle a claim record; the next healing tries again");
    }
    // The coins to heal, reserved so no export takes them meanwhile.
    let ids: Vec<CoinId> = {
        let mut s = lock(state);
        let ids: Vec<CoinId> = s
            .coins
            .iter()
            .filter(|(_, e)| {
                matches!(e.folder, Folder::Limbo | Folder::Fracked) && e.hold == Hold::Free
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            s.coins.update(id, |e| e.hold = Hold::Healing);
        }
        ids
    };
    let result = heal_reserved(net, layout, wallet, state, &ids);
    // What reclaims left to settle (their coins healed just now, or a crash).
    if let Err(e) = crate::reclaim::settle_records(layout, wallet, state) {
        tracing::warn!(wallet = %wallet, error = %e, "cannot settle the reclaim records; the next healing tries again");
    }
    let mut s = lock(state);
    for id in &ids {
        s.coins.update(id, |e| {
            if e.hold == Hold::Healing {
                e.hold = Hold::Free;
            }
        });
    }
    let mut report = HealReport { coins: count(ids.len()), ..HealReport::default() };
    for id in &ids {
        let Some(e) = s.coins.get(id) else { continue };
        let grade = match e.folder {
            Folder::Bank => &mut report.bank,
            Folder::Fracked => &mut report.fracked,
            Folder::Counterfeit => &mut report.counterfeit,
            _ => &mut report.limbo,
        };
        grade.coins += 1;
        grade.amount = grade
            .amount
            .checked_add(e.coin.value().unwrap_or_default())
            .unwrap_or(cloudcoin_domain::Amount::MAX);
    }
    result.map(|()| report)
}

fn current(state: &Mutex<WalletState>, ids: &[CoinId], folders: &[Folder]) -> Vec<Coin> {
    let s = lock(state);
    ids.iter()
        .filter_map(|id| s.coins.get(id))
        .filter(|e| folders.contains(&e.folder))
        .map(|e| (*e.coin).clone())
        .collect()
}

fn heal_reserved(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    ids: &[CoinId],
) -> Result<(), String> {
    let io = |what: &str| {
        let what = what.to_owned();
        move |e: std::io::Error| format!("{what}: {e}")
    };
    let client = net.client();
    // 0. Changes a crash or a silent network left open (see `change`).
    crate::change::settle_pending(net, layout, wallet, state)?;
    // 1. Fixes a crash interrupted.
    let folder = records(layout);
    std::fs::create_dir_all(layout.own().join("heal"))
        .map_err(io("cannot create the heal records"))?;
    for record in folder.list().map_err(io("cannot read the heal records"))? {
        let Ok(record) = record else { continue };
        if record.wallet != wallet.as_str() {
            continue;
        }
        settle_fix(net, layout, wallet, state, &record)?;
        folder.remove(&record.id).map_err(io("cannot remove the fix record"))?;
    }
    // 2. Find for Limbo coins with PANs.
    let limbo: Vec<Coin> =
        current(state, ids, &[Folder::Limbo]).into_iter().filter(|c| c.pans().is_some()).collect();
    if !limbo.is_empty() {
        let answers = net.block_on(client.find(&limbo)).map_err(|e| e.to_string())?;
        let settled: Vec<Settled> =
            limbo.iter().zip(answers.iter()).map(|(c, (_, a))| after_find(c, a)).collect();
        apply(layout, wallet, state, settled).map_err(io("cannot store the settled coins"))?;
    }
    // 3. Detect for Fracked coins and Limbo coins without PANs.
    let checked: Vec<Coin> = current(state, ids, &[Folder::Fracked, Folder::Limbo])
        .into_iter()
        .filter(|c| c.pans().is_none())
        .collect();
    if checked.is_empty() {
        return Ok(());
    }
    let answers = net.block_on(client.detect(&checked)).map_err(|e| e.to_string())?;
    let mut graded = Vec::new();
    let mut to_fix = Vec::new();
    for (i, coin) in checked.iter().enumerate() {
        let (pass, fail) = (answers.passed_at(i), answers.failed_at(i));
        let mut next = coin.clone();
        for r in fail.iter() {
            next.pown[r.index()] = Pown::Fail;
        }
        let folder = if pass.len() >= AGREEMENT {
            if !fail.is_empty() {
                to_fix.push((next.clone(), pass, fail));
            }
            owned_folder(&next)
        } else if fail.len() >= AGREEMENT {
            Folder::Counterfeit
        } else {
            coin_folder(state, &coin.id())
        };
        graded.push(Settled { coin: next, folder });
    }
    apply(layout, wallet, state, graded).map_err(io("cannot store the checked coins"))?;
    // 4. Fix where an authentic coin fails.
    if !to_fix.is_empty() {
        let coins: Vec<Coin> = to_fix.iter().map(|(c, _, _)| c.clone()).collect();
        let at: Vec<RaidaSet> = to_fix.iter().map(|(_, pass, _)| *pass).collect();
        let tickets = net.block_on(client.get_ticket(&coins, &at)).map_err(|e| e.to_string())?;
        let pg = cloudcoin_raida::random_key();
        let name = uuid::Uuid::new_v4().simple().to_string();
        let record = FixRecord {
            id: name.clone(),
            wallet: wallet.as_str().to_owned(),
            pg,
            coins: to_fix
                .iter()
                .map(|(c, _, fail)| (c.denomination.code(), c.serial.get(), bits_of(*fail)))
                .collect(),
        };
        // The PG is on disk before any RAIDA hears of it.
        folder.write(&name, &record).map_err(io("cannot record the fix"))?;
        let fixes: Vec<FixCoin> = to_fix
            .iter()
            .enumerate()
            .map(|(i, (c, _, fail))| FixCoin::new(c.id(), *fail, tickets.tickets(i)))
            .collect();
        // Whatever the fix answers, the detect in `settle_fix` says where it applied.
        let _ = net.block_on(client.fix(&fixes, &pg));
        settle_fix(net, layout, wallet, state, &record)?;
        folder.remove(&name).map_err(io("cannot remove the fix record"))?;
    }
    // 5. Pown again where a RAIDA passes with a key this wallet did not make.
    let to_pown: Vec<Coin> = current(state, ids, &[Folder::Fracked])
        .into_iter()
        .filter(|c| c.pown.iter().any(|p| *p != Pown::Pass && *p != Pown::Fail))
        .collect();
    // One read of the system's random source for all the PANs, not one per key.
    let fresh_pans = cloudcoin_raida::random_pans(to_pown.len());
    let unclaimed: Vec<Settled> = to_pown
        .into_iter()
        .zip(fresh_pans)
        .map(|(c, fresh)| {
            let pans =
                std::array::from_fn(|r| if c.pown[r] == Pown::Pass { c.ans[r] } else { fresh[r] });
            Settled { coin: c.with_pans(pans), folder: Folder::Limbo }
        })
        .collect();
    if !unclaimed.is_empty() {
        let again: Vec<CoinId> = unclaimed.iter().map(|s| s.coin.id()).collect();
        apply(layout, wallet, state, unclaimed).map_err(io("cannot store the new PANs"))?;
        claim_stored(net, layout, wallet, state, &again)?;
    }
    Ok(())
}

fn coin_folder(state: &Mutex<WalletState>, id: &CoinId) -> Folder {
    lock(state).coins.get(id).map_or(Folder::Limbo, |e| e.folder)
}

/// Sees where a recorded fix applied — a detect with the ANs the fix rule gives, at the RAIDA
/// it was sent to — and gives those coins their new keys there.
fn settle_fix(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    record: &FixRecord,
) -> Result<(), String> {
    let wanted: HashMap<CoinId, RaidaSet> =
        record.coins.iter().map(|&(dn, sn, bits)| (id_of(dn, sn), set_of(bits))).collect();
    let coins: Vec<Coin> = {
        let s = lock(state);
        wanted.keys().filter_map(|id| s.coins.get(id)).map(|e| (*e.coin).clone()).collect()
    };
    let probes: Vec<Coin> = coins
        .iter()
        .map(|c| {
            let mut p = c.clone().without_pans();
            for r in wanted[&c.id()].iter() {
                p.ans[r.index()] = fix_an(r, c.denomination, c.serial, &record.pg);
            }
            p
        })
        .collect();
    let answers = net.block_on(net.client().detect(&probes)).map_err(|e| e.to_string())?;
    let mut settled = Vec::new();
    for (i, coin) in coins.iter().enumerate() {
        let mut next = coin.clone();
        let passed = answers.passed_at(i);
        let mut changed = false;
        for r in wanted[&coin.id()].iter() {
            if passed.contains(r) {
                next.ans[r.index()] = probes[i].ans[r.index()];
                next.pown[r.index()] = Pown::Pass;
                changed = true;
            }
        }
        if changed {
            let folder = match coin_folder(state, &coin.id()) {
                Folder::Fracked | Folder::Bank => owned_folder(&next),
                other => other,
            };
            settled.push(Settled { coin: next, folder });
        }
    }
    apply(layout, wallet, state, settled).map_err(|e| format!("cannot store the fixed coins: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_find_where_every_raida_holds_the_pan_settles_the_coin_in_bank() {
        let coin = Coin::new(
            Denomination::from_code(0),
            SerialNumber::new(1),
            [[1; 16]; RAIDA_COUNT],
            [Pown::NoReply; RAIDA_COUNT],
        )
        .with_pans([[2; 16]; RAIDA_COUNT]);
        let s = after_find(&coin, &core::array::from_fn(|_| Answer::Said(Found::Pan)));
        assert_eq!(s.folder, Folder::Bank);
        assert_eq!(s.coin.ans, [[2; 16]; RAIDA_COUNT]);
        let mut answers: [Answer<Found>; RAIDA_COUNT] =
            core::array::from_fn(|_| Answer::Said(Found::Pan));
        answers[4] = Answer::NoAnswer(cloudcoin_raida::Silence::Timeout);
        let s = after_find(&coin, &answers);
        assert_eq!(s.folder, Folder::Limbo, "a RAIDA not heard from keeps both keys");
        assert!(s.coin.pans().is_some());
        answers[4] = Answer::Said(Found::An);
        let s = after_find(&coin, &answers);
        assert_eq!(s.folder, Folder::Fracked, "the pown did not apply there");
        assert_eq!(s.coin.ans[4], [1; 16]);
    }
}
