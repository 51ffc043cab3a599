//! Property tests over the exported strategies of `cloudcoin_domain::strategies`.

use std::io::Cursor;

use cloudcoin_codec::{Limits, WriteOptions, decode_any, write_coins, write_zip};
use cloudcoin_domain::strategies::{self, Pans};
use cloudcoin_domain::{
    Coin, FileKind, Pocket, SelectionPolicy, select_coins, select_from_pockets,
};
use proptest::prelude::*;

/// What must survive any file: identity, ANs and PANs (a several-coin format-9 file carries no
/// POWN, and gives coins without PANs their ANs as PANs when others have PANs).
fn keys(coins: &[Coin]) -> Vec<(cloudcoin_domain::CoinId, [[u8; 16]; 25])> {
    coins.iter().map(|c| (c.id(), c.ans)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_kind_reads_back_the_coins_written(
        coins in strategies::coins(1..30),
        plain in strategies::coins_with(strategies::denomination(), Pans::Never, 1..30),
    ) {
        for kind in [FileKind::Bin, FileKind::Zip] {
            let mut file = Cursor::new(Vec::new());
            match kind {
                FileKind::Zip => write_zip(&mut file, &coins, &WriteOptions::new()),
                _ => write_coins(&mut file, kind, &coins, &WriteOptions::new()),
            }
            .expect("written");
            let back = decode_any(file.get_ref(), &Limits::default()).expect("read");
            prop_assert_eq!(keys(&back), keys(&coins));
            for (b, c) in back.iter().zip(&coins) {
                if let Some(pans) = c.pans() {
                    prop_assert_eq!(b.pans(), Some(pans), "PANs survive");
                }
            }
        }
        // A stack carries no PANs: coins without them round-trip exactly, POWN included.
        let mut stack = Vec::new();
        write_coins(&mut stack, FileKind::Stack, &plain, &WriteOptions::new()).expect("written");
        prop_assert_eq!(decode_any(&stack, &Limits::default()).expect("read"), plain);
    }

    #[test]
    fn a_wallet_pays_its_amount_exactly_bank_first(w in strategies::wallet()) {
        let chosen = select_from_pockets(w.amount, &w.bank, &w.fracked, &SelectionPolicy::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(chosen.total, w.amount);
        let sum = cloudcoin_domain::total_value(chosen.coins.iter().copied()).expect("fits");
        prop_assert_eq!(sum, w.amount);
        // The same wallet as (coin, pocket) pairs chooses the same coins.
        let pairs: Vec<(&Coin, Pocket)> = w.bank.iter().map(|c| (c, Pocket::Bank))
            .chain(w.fracked.iter().map(|c| (c, Pocket::Fracked)))
            .collect();
        let again = select_coins(w.amount, &pairs, &SelectionPolicy::default())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.ids(), chosen.ids());
    }
}
