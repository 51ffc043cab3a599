//! Verify before sending: with a RAIDA network, an export first detects the coins it chose, so
//! that no one is ever sent a counterfeit by this wallet.
//!
//! A chosen coin that 13 or more RAIDA refuse is moved to `Counterfeit`; a `Bank` coin that some
//! RAIDA refuse is moved to `Fracked` (healing repairs it); both are set aside and the selection
//! is made again among the coins left, up to [`ROUNDS`] times. A coin too few RAIDA answered
//! about cannot be vouched for: the export stops, its coins stay in the wallet.

use std::sync::Mutex;

use cloudcoin_domain::{Amount, Coin, CoinId, Pown, SelectionPolicy, WalletName};
use cloudcoin_raida::AGREEMENT;

use crate::claim::{Settled, apply};
use crate::export::lock;
use crate::network::Network;
use crate::store::{Folder, Layout, WalletState};

/// How many times the selection is made again before the export gives up.
const ROUNDS: usize = 5;

/// What the check found: the coins to export (reserved), and what was set aside.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) ids: Vec<CoinId>,
    pub(crate) set_aside: Vec<(CoinId, Folder)>,
}

/// Detects the reserved coins `ids`, sets aside those that fail and reserves again, until a
/// selection passes. Blocking. On an error the coins reserved at that point are released.
pub(crate) fn verified(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    mut ids: Vec<CoinId>,
    amount: Amount,
) -> Result<Checked, String> {
    let mut set_aside = Vec::new();
    for _ in 0..ROUNDS {
        let coins: Vec<(Coin, Folder)> = {
            let s = lock(state);
            ids.iter()
                .filter_map(|id| s.coins.get(id))
                .map(|e| ((*e.coin).clone(), e.folder))
                .collect()
        };
        let plain: Vec<Coin> = coins.iter().map(|(c, _)| c.clone().without_pans()).collect();
        let answers = match net.block_on(net.client().detect(&plain)) {
            Ok(a) => a,
            Err(e) => return Err(give_back(state, ids, format!("cannot check the coins: {e}"))),
        };
        let mut aside = Vec::new();
        for (i, (coin, folder)) in coins.iter().enumerate() {
            let (pass, fail) = (answers.passed_at(i), answers.failed_at(i));
            let mut next = coin.clone();
            for r in fail.iter() {
                next.pown[r.index()] = Pown::Fail;
            }
            if fail.len() >= AGREEMENT {
                aside.push(Settled { coin: next, folder: Folder::Counterfeit });
            } else if pass.len() < AGREEMENT {
                let message = format!(
                    "only {} RAIDA vouched for coin {} (13 are needed); the export was not made and the coins stay in the wallet — try again when more RAIDA answer (GET /api/v1/raida)",
                    pass.len(),
                    coin.id()
                );
                return Err(give_back(state, ids, message));
            } else if !fail.is_empty() && *folder == Folder::Bank {
                aside.push(Settled { coin: next, folder: Folder::Fracked });
            }
        }
        if aside.is_empty() {
            return Ok(Checked { ids, set_aside });
        }
        set_aside.extend(aside.iter().map(|s| (s.coin.id(), s.folder)));
        if let Err(e) = apply(layout, wallet, state, aside) {
            return Err(give_back(state, ids, format!("cannot set a failing coin aside: {e}")));
        }
        let mut s = lock(state);
        s.release_ids(ids.iter().copied());
        ids = match s.reserve_amount(amount, &SelectionPolicy::default()) {
            Ok(again) => again,
            Err(e) => {
                return Err(format!(
                    "{} the RAIDA refused {} set aside, and the rest cannot make the amount: {e}",
                    crate::words::coins(set_aside.len()),
                    crate::words::agree(set_aside.len(), "was", "were")
                ));
            }
        };
    }
    Err(give_back(
        state,
        ids,
        format!(
            "{} failed the check in {ROUNDS} selections; the export was not made",
            crate::words::coins(set_aside.len())
        ),
    ))
}

fn give_back(state: &Mutex<WalletState>, ids: Vec<CoinId>, message: String) -> String {
    lock(state).release_ids(ids);
    message
}
