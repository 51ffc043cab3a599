//! The reports of the RAIDA tasks: how many coins a claim, a healing or a reclaim left in each
//! grade, and the change an export made.
//!
//! They are results a task shows ([`crate::TaskOutcome`]), so they live apart from the
//! pipelines that fill them in (`claim`, `heal`, `reclaim`, `change`): the task types and the records depend on
//! them, and they depend on nothing of the crate.

use std::path::PathBuf;

use cloudcoin_domain::{Amount, Coin, CoinId};
use cloudcoin_wire::TaskId;

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
    pub coins: u64,
    /// Their value.
    pub amount: Amount,
}

impl GradeCount {
    /// `coins` coins worth `amount`.
    pub fn new(coins: u64, amount: Amount) -> GradeCount {
        GradeCount { coins, amount }
    }

    /// Counts `coin` in this grade.
    pub(crate) fn add(&mut self, coin: &Coin) {
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

    /// Marks the report claimed, with the note that says what its grades mean.
    pub(crate) fn claimed_note(&mut self) {
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

/// What a healing did: the coins it looked at and the grade each ended in.
///
/// ```
/// use cloudcoin_tasks::HealReport;
/// assert_eq!(HealReport::default().coins, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HealReport {
    /// Coins looked at (every `Limbo` and `Fracked` coin of the wallet).
    pub coins: u64,
    /// Now held with this wallet's key on every RAIDA.
    pub bank: GradeCount,
    /// Still lacking this wallet's key somewhere (a RAIDA down, or fix refused there).
    pub fracked: GradeCount,
    /// Found counterfeit.
    pub counterfeit: GradeCount,
    /// Still unsettled (too few answers): kept with every key.
    pub limbo: GradeCount,
}

/// What a reclaim did, or what a check found, for the coins of one export.
///
/// The check fills `unclaimed`, `received`, `unknown` and `held`; a reclaim moves the unclaimed
/// coins to `returned` (or `limbo`, or `received` when the recipient's claim won the race).
///
/// ```
/// use cloudcoin_tasks::ReclaimReport;
/// let report = ReclaimReport::default();
/// assert_eq!(report.coins, 0);
/// assert!(!report.reclaimed);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReclaimReport {
    /// The export's task id.
    pub export: Option<TaskId>,
    /// The file the export wrote, as its receipt names it.
    pub file: PathBuf,
    /// Whether coins were powned back (`false`: a check, which changes nothing).
    pub reclaimed: bool,
    /// What the outcome means, for a person.
    pub note: String,
    /// The coins the export sent.
    pub coins: u64,
    /// Not claimed by the recipient: the file still spends them (a check only).
    pub unclaimed: GradeCount,
    /// Claimed by the recipient (13 or more RAIDA refuse the keys sent): theirs now.
    pub received: GradeCount,
    /// Too few RAIDA answered to say.
    pub unknown: GradeCount,
    /// Held by this wallet again (imported back, or reclaimed before): not looked at.
    pub held: GradeCount,
    /// Powned back: in `Bank` (or `Fracked`, which healing finishes), with keys only this
    /// wallet knows; the exported file no longer spends them.
    pub returned: GradeCount,
    /// Powned back, but too few answers came to settle them: in `Limbo` with every key, until
    /// healing settles them.
    pub limbo: GradeCount,
    /// The coins reported as received.
    pub received_coins: Vec<CoinId>,
}

impl ReclaimReport {
    /// Sets the note that says what the counts mean.
    pub(crate) fn write_note(&mut self) {
        use crate::words::{agree, coins};
        let mut parts = Vec::new();
        if self.reclaimed {
            let g = &self.returned;
            if g.coins > 0 {
                parts.push(format!(
                    "{} worth {} {} back in the wallet with new keys: the exported file no longer spends {}, it is worthless for {}",
                    coins(g.coins),
                    g.amount,
                    agree(g.coins, "is", "are"),
                    agree(g.coins, "it", "them"),
                    agree(g.coins, "that coin", "those coins")
                ));
            }
            let g = &self.limbo;
            if g.coins > 0 {
                parts.push(format!(
                    "{} worth {} {} powned back but too few RAIDA answered: {} in Limbo with every key, and healing settles {} (POST /api/v1/fix)",
                    coins(g.coins),
                    g.amount,
                    agree(g.coins, "was", "were"),
                    agree(g.coins, "it waits", "they wait"),
                    agree(g.coins, "it", "them")
                ));
            }
        } else if self.unclaimed.coins > 0 {
            let g = &self.unclaimed;
            parts.push(format!(
                "{} worth {} {} not claimed yet: whoever holds the file (you too) can still spend {}; POST /api/v1/reclaim takes {} back",
                coins(g.coins),
                g.amount,
                agree(g.coins, "is", "are"),
                agree(g.coins, "it", "them"),
                agree(g.coins, "it", "them")
            ));
        }
        let g = &self.received;
        if g.coins > 0 {
            parts.push(format!(
                "{} worth {} {} received: the recipient claimed {} ({} record stays in Sent)",
                coins(g.coins),
                g.amount,
                agree(g.coins, "was", "were"),
                agree(g.coins, "it", "them"),
                agree(g.coins, "its", "their")
            ));
        }
        let g = &self.unknown;
        if g.coins > 0 {
            parts.push(format!(
                "{} worth {} could not be checked (too few RAIDA answered, or no copy in Sent); try again later",
                coins(g.coins),
                g.amount
            ));
        }
        let g = &self.held;
        if g.coins > 0 {
            parts.push(format!(
                "{} {} in this wallet again and {} left alone",
                coins(g.coins),
                agree(g.coins, "is", "are"),
                agree(g.coins, "was", "were")
            ));
        }
        self.note =
            if parts.is_empty() { "the export sent no coins".to_owned() } else { parts.join("; ") };
    }
}

/// The change an export made before it chose its coins.
///
/// ```
/// use cloudcoin_tasks::ChangeReport;
/// assert!(ChangeReport::default().broken.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChangeReport {
    /// The coins broken, each into ten coins of the denomination below, in order.
    pub broken: Vec<CoinId>,
    /// What was done, for a person.
    pub note: String,
}

impl ChangeReport {
    /// A report of the coins `broken`, described by `note`.
    pub fn new(broken: impl IntoIterator<Item = CoinId>, note: String) -> ChangeReport {
        ChangeReport { broken: broken.into_iter().collect(), note }
    }

    /// The report of the coins `broken`, with the note that names each.
    pub(crate) fn noted(broken: Vec<CoinId>) -> ChangeReport {
        let parts: Vec<String> = broken
            .iter()
            .map(|id| {
                let below = cloudcoin_domain::Denomination::from_code(id.denomination.code() - 1);
                format!("{} #{} into ten of {}", id.denomination, id.serial, below)
            })
            .collect();
        let note = format!("made change: broke {}", parts.join(", then "));
        ChangeReport { broken, note }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grade(coins: u64, amount: &str) -> GradeCount {
        GradeCount::new(coins, Amount::parse_request(amount).expect("amount"))
    }

    #[test]
    fn the_reclaim_note_says_one_coin_and_many_coins_in_proper_words() {
        let mut one =
            ReclaimReport { reclaimed: true, returned: grade(1, "10"), ..Default::default() };
        one.held = grade(1, "1");
        one.write_note();
        assert!(one.note.starts_with("1 coin worth 10 is back in the wallet"), "{}", one.note);
        assert!(
            one.note.contains("no longer spends it, it is worthless for that coin"),
            "{}",
            one.note
        );
        assert!(
            one.note.contains("1 coin is in this wallet again and was left alone"),
            "{}",
            one.note
        );
        let mut many = ReclaimReport { unclaimed: grade(3, "30"), ..Default::default() };
        many.write_note();
        assert!(many.note.starts_with("3 coins worth 30 are not claimed yet"), "{}", many.note);
        assert!(!many.note.contains("(s)"), "{}", many.note);
    }
}
