//! Claiming coins on the RAIDA (pown), and putting a coin's new keys on disk.
//!
//! An import that claims stores each new coin in `Limbo` with 25 fresh random PANs beside its
//! ANs (format 9, state flag 1), durably, before the first pown is sent (see `import`): `Limbo`
//! is the claim's write-ahead record. Then one pown goes to the 25 RAIDA, and each coin's
//! answers decide, per RAIDA, its new key ([`after_pown`]): the PAN where the RAIDA said pass
//! (it holds the PAN now, whatever the coin's overall grade), the AN where it failed or was not
//! reached; where the request was sent and no answer came, the RAIDA may hold either, so the
//! coin stays in `Limbo` with both until healing's find settles it.
//!
//! [`apply`] puts the outcome on disk, coin by coin: the new content is written beside the
//! `Limbo` file, made durable with one `syncfs` per batch, renamed over it (the same coin, its
//! new keys), and the file is then moved to its grade's folder without replacing anything. A
//! crash at any point leaves each coin in exactly one file, holding either the keys before the
//! pown (with the PANs) or after it — both of which healing settles.

use std::sync::Mutex;

use cloudcoin_domain::{Amount, Coin, CoinId, Pown, RAIDA_COUNT, WalletName};
use cloudcoin_raida::{AGREEMENT, Answer, Check, RaidaId};

use crate::export::lock;
use crate::network::Network;
use crate::store::{Folder, Layout, Rewrite, WalletState};

/// How many coins and how much money ended in one grade.
///
/// ```
/// use cloudcoin_tasks::GradeCount;
/// assert_eq!(GradeCount::default().coins, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GradeCount {
    /// Coins.
    pub coins: usize,
    /// Their value.
    pub amount: Amount,
}

impl GradeCount {
    /// `coins` coins worth `amount`.
    pub fn new(coins: usize, amount: Amount) -> GradeCount {
        GradeCount { coins, amount }
    }

    fn add(&mut self, coin: &Coin) {
        self.coins += 1;
        self.amount =
            self.amount.checked_add(coin.value().unwrap_or(Amount::ZERO)).unwrap_or(Amount::MAX);
    }
}

/// Whether an import claimed its coins on the RAIDA, and how they were graded.
///
/// ```
/// use cloudcoin_tasks::ClaimReport;
/// let report = ClaimReport::offline();
/// assert!(!report.claimed);
/// assert!(report.note.contains("not claimed"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimReport {
    /// Whether the new coins were claimed (powned to keys only this wallet knows).
    pub claimed: bool,
    /// What the outcome means, for a person.
    pub note: String,
    /// Claimed, and every RAIDA holds this wallet's key.
    pub bank: GradeCount,
    /// Authentic (13 or more RAIDA hold this wallet's key), some RAIDA not yet: healing
    /// finishes them.
    pub fracked: GradeCount,
    /// 13 or more RAIDA said the keys the file carried are wrong: not money.
    pub counterfeit: GradeCount,
    /// Not settled (too many RAIDA gave no answer): kept with both keys until healing settles
    /// them; not in the balance meanwhile.
    pub limbo: GradeCount,
    /// The counterfeit coins.
    pub counterfeit_coins: Vec<CoinId>,
}

impl ClaimReport {
    /// The report of an import with no RAIDA network configured.
    pub fn offline() -> ClaimReport {
        ClaimReport {
            note: "not claimed: this server has no RAIDA network configured (--raida-list), so \
                   the coins were stored with the keys they came with. Whoever sent them still \
                   knows those keys and can spend them until they are claimed; import them on \
                   a server with the network to claim them."
                .to_owned(),
            ..ClaimReport::default()
        }
    }

    /// The report of an import asked not to claim.
    pub fn declined() -> ClaimReport {
        ClaimReport {
            note: "not claimed: the request said \"claim\": false, so the coins were stored \
                   with the keys they came with. Whoever sent them still knows those keys and \
                   can spend them until they are claimed."
                .to_owned(),
            ..ClaimReport::default()
        }
    }

    fn claimed_note(&mut self) {
        let mut note = String::from(
            "claimed: the coins in Bank and Fracked now have keys only this wallet knows",
        );
        if self.fracked.coins > 0 {
            note.push_str(
                "; Fracked coins lack this wallet's key on a few RAIDA, and healing repairs them",
            );
        }
        if self.limbo.coins > 0 {
            note.push_str("; Limbo coins got too few answers to be settled, they keep both keys and healing settles them (they are not in the balance meanwhile)");
        }
        if self.counterfeit.coins > 0 {
            note.push_str("; counterfeit coins are not money and are kept in Counterfeit");
        }
        self.note = note;
        self.claimed = true;
    }
}

/// What a coin is after a RAIDA step: its new keys and the folder it belongs in.
#[derive(Debug, Clone)]
pub(crate) struct Settled {
    pub(crate) coin: Coin,
    pub(crate) folder: Folder,
}

/// The coin's keys and grade after a pown that got `answers` (`coin` carries its PANs).
///
/// Per RAIDA: pass → the PAN is the coin's key there now; fail, a status or not sent → the AN
/// still is; no answer → either may be. Authentic with no doubt left: `Bank` when every RAIDA
/// holds the PAN, else `Fracked`, and the PANs are dropped (never needed again). 13 or more
/// fails: `Counterfeit`. Anything else: `Limbo`, keeping both keys.
pub(crate) fn after_pown(coin: &Coin, answers: &[Answer<Check>; RAIDA_COUNT]) -> Settled {
    let Some(pans) = coin.pans().copied() else {
        return Settled { coin: coin.clone(), folder: Folder::Limbo };
    };
    let mut next = coin.clone();
    let (mut pass, mut fail, mut silent) = (0, 0, 0);
    for r in RaidaId::all() {
        let i = r.index();
        next.pown[i] = match &answers[i] {
            Answer::Said(Check::Pass) => {
                next.ans[i] = pans[i];
                pass += 1;
                Pown::Pass
            }
            Answer::Said(_) => {
                fail += 1;
                Pown::Fail
            }
            Answer::NoAnswer(_) => {
                silent += 1;
                Pown::NoReply
            }
            Answer::Status(_) => Pown::Error,
            _ => Pown::Untried,
        };
    }
    let folder = if pass >= AGREEMENT && silent == 0 {
        next = next.without_pans();
        if pass == RAIDA_COUNT { Folder::Bank } else { Folder::Fracked }
    } else if fail >= AGREEMENT {
        Folder::Counterfeit
    } else {
        Folder::Limbo
    };
    Settled { coin: next, folder }
}

/// Claims the coins `ids`, held in `Limbo` with their PANs, and moves each to its grade's
/// folder. Blocking; the caller holds the wallet's turn.
pub(crate) fn claim_stored(
    net: &Network,
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    ids: &[CoinId],
) -> Result<ClaimReport, String> {
    let coins: Vec<Coin> = {
        let s = lock(state);
        ids.iter()
            .filter_map(|id| s.coins.get(id))
            .filter(|e| e.folder == Folder::Limbo && e.coin.pans().is_some())
            .map(|e| (*e.coin).clone())
            .collect()
    };
    let mut report = ClaimReport::default();
    if coins.is_empty() {
        report.claimed_note();
        return Ok(report);
    }
    let answers = net
        .block_on(net.client().pown(&coins))
        .map_err(|e| format!("cannot claim the coins: {e}"))?;
    let settled: Vec<Settled> =
        coins.iter().zip(answers.iter()).map(|(c, (_, a))| after_pown(c, a)).collect();
    for s in &settled {
        match s.folder {
            Folder::Bank => report.bank.add(&s.coin),
            Folder::Fracked => report.fracked.add(&s.coin),
            Folder::Counterfeit => {
                report.counterfeit.add(&s.coin);
                report.counterfeit_coins.push(s.coin.id());
            }
            _ => report.limbo.add(&s.coin),
        }
    }
    apply(layout, wallet, state, settled)
        .map_err(|e| format!("cannot store the claimed coins: {e}"))?;
    report.claimed_note();
    Ok(report)
}

/// Puts each coin's new content on disk in place of its file, then moves the file to the coin's
/// folder, and updates the index. Blocking. See the module documentation for the order.
pub(crate) fn apply(
    layout: &Layout,
    wallet: &WalletName,
    state: &Mutex<WalletState>,
    settled: Vec<Settled>,
) -> std::io::Result<()> {
    // Where each coin's file is now.
    let placed: Vec<(Settled, Folder, String)> = {
        let s = lock(state);
        settled
            .into_iter()
            .filter_map(|x| {
                let e = s.coins.get(&x.coin.id())?;
                Some((x, e.folder, e.file().into_owned()))
            })
            .collect()
    };
    // 1.–3. The new contents on disk, then each file moved to its grade's folder.
    let rewrites: Vec<Rewrite<'_>> = placed
        .iter()
        .map(|(x, from, file)| Rewrite { coin: &x.coin, from: *from, file, to: x.folder })
        .collect();
    let names = crate::store::rewrite_coins(layout, wallet, &rewrites)?;
    // 4. The index says the same.
    let mut s = lock(state);
    for ((x, from, _), name) in placed.into_iter().zip(names) {
        let Some(name) = name else { continue };
        let id = x.coin.id();
        let _ = from;
        s.coins.update(&id, |e| {
            e.coin = std::sync::Arc::new(x.coin);
            e.folder = x.folder;
            e.set_file(name);
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::{Denomination, SerialNumber};
    use cloudcoin_raida::Silence;

    fn coin() -> Coin {
        Coin::new(
            Denomination::from_code(1),
            SerialNumber::new(5),
            [[1; 16]; RAIDA_COUNT],
            [Pown::Untried; RAIDA_COUNT],
        )
        .with_pans([[2; 16]; RAIDA_COUNT])
    }

    fn answers(f: impl Fn(usize) -> Answer<Check>) -> [Answer<Check>; RAIDA_COUNT] {
        core::array::from_fn(f)
    }

    #[test]
    fn every_pass_is_bank_with_the_pans_as_keys() {
        let s = after_pown(&coin(), &answers(|_| Answer::Said(Check::Pass)));
        assert_eq!(s.folder, Folder::Bank);
        assert_eq!(s.coin.ans, [[2; 16]; RAIDA_COUNT]);
        assert!(s.coin.pans().is_none());
    }

    #[test]
    fn raida_not_reached_leave_the_coin_fracked_with_the_old_key_there() {
        let s = after_pown(
            &coin(),
            &answers(|r| {
                if r < 3 {
                    Answer::NotSent(cloudcoin_raida::NotSent::Unreachable)
                } else {
                    Answer::Said(Check::Pass)
                }
            }),
        );
        assert_eq!(s.folder, Folder::Fracked);
        assert_eq!(s.coin.ans[0], [1; 16]);
        assert_eq!(s.coin.ans[3], [2; 16]);
    }

    #[test]
    fn a_silent_raida_keeps_both_keys_even_with_a_majority() {
        let s = after_pown(
            &coin(),
            &answers(|r| {
                if r == 0 { Answer::NoAnswer(Silence::Timeout) } else { Answer::Said(Check::Pass) }
            }),
        );
        assert_eq!(s.folder, Folder::Limbo);
        assert_eq!(s.coin.pans(), Some(&[[2; 16]; RAIDA_COUNT]));
        assert_eq!(s.coin.ans[1], [2; 16], "a passing RAIDA holds the PAN");
        assert_eq!(s.coin.ans[0], [1; 16]);
    }

    #[test]
    fn thirteen_fails_are_counterfeit_and_twelve_passes_with_silence_limbo() {
        let s = after_pown(
            &coin(),
            &answers(
                |r| if r < 13 { Answer::Said(Check::Fail) } else { Answer::Said(Check::Pass) },
            ),
        );
        assert_eq!(s.folder, Folder::Counterfeit);
        let s = after_pown(
            &coin(),
            &answers(|r| {
                if r < 13 { Answer::NoAnswer(Silence::Closed) } else { Answer::Said(Check::Pass) }
            }),
        );
        assert_eq!(s.folder, Folder::Limbo);
    }
}
