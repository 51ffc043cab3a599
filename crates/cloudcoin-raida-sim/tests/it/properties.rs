//! Whatever bytes arrive, a RAIDA answers with a well-formed response and changes nothing unless
//! the request was well formed (the fuzz target `raida_sim_request` goes deeper).

use cloudcoin_raida_sim::{SimConfig, Simulator, generate_coins};
use proptest::prelude::*;

use crate::req::{Req, c21, c37};

fn check(
    sim: &Simulator,
    coins: &[cloudcoin_domain::Coin],
    raw: &[u8],
) -> Result<(), TestCaseError> {
    let before: Vec<_> = coins.iter().map(|c| sim.an(0, c.id())).collect();
    let logged = sim.log(0).len();
    let reply = sim.answer(0, raw);
    prop_assert!(reply.len() >= 32);
    prop_assert_eq!(reply[0], 0);
    let size = usize::from(reply[9]) << 16 | usize::from(reply[10]) << 8 | usize::from(reply[11]);
    if size == 0 {
        prop_assert_eq!(reply.len(), 32);
    } else {
        prop_assert_eq!(reply.len(), 32 + size);
        prop_assert_eq!(&reply[reply.len() - 2..], &[0x3e, 0x3e]);
    }
    let log = sim.log(0);
    prop_assert_eq!(log.len(), logged + 1);
    let entry = &log[logged];
    prop_assert_eq!(entry.status, Some(reply[2]));
    if !entry.applied {
        let after: Vec<_> = coins.iter().map(|c| sim.an(0, c.id())).collect();
        prop_assert_eq!(before, after);
    }
    Ok(())
}

/// Well-formed requests of every command for `coins` (at RAIDA 0), to mutate.
fn valid_requests(coins: &[cloudcoin_domain::Coin]) -> Vec<Vec<u8>> {
    let an = |i: usize| coins[i].ans[0];
    let sn = |i: usize| coins[i].serial.get();
    let mut fix = vec![1u8];
    fix.extend(sn(0).to_be_bytes());
    fix.extend([0u8; 16 + 100]);
    let mut make_change = c21(1, sn(1), &an(1));
    make_change.extend(40_000u32.to_be_bytes());
    make_change.extend([3u8; 160]);
    let mut brk = vec![0, 0, 0, 1];
    brk.extend(c21(1, sn(0), &an(0)));
    for i in 0..10 {
        brk.extend(c21(0, 16_000_000 + i, &[4; 16]));
    }
    vec![
        Req::new(0, 0, 0, vec![]).bytes(),
        Req::new(0, 1, 10, c21(1, sn(0), &an(0))).bytes(),
        Req::new(0, 1, 20, c37(1, sn(0), &an(0), &[1; 16])).bytes(),
        Req::new(0, 2, 40, c21(1, sn(1), &an(1))).bytes(),
        Req::new(0, 2, 60, c37(1, sn(1), &an(1), &[1; 16])).bytes(),
        Req::new(0, 2, 80, fix).bytes(),
        Req::new(0, 9, 90, make_change).bytes(),
        Req::new(0, 9, 91, vec![0, 0, 0, 1, 1, 1]).bytes(),
        Req::new(0, 9, 92, brk).bytes(),
    ]
}

proptest! {
    #[test]
    fn arbitrary_bytes_get_a_well_formed_answer(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let coins = generate_coins(1, 1, 2);
        let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
        check(&sim, &coins, &raw)?;
    }

    #[test]
    fn mutated_requests_get_a_well_formed_answer(
        which in 0usize..9,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
        truncate in any::<bool>(),
    ) {
        let coins = generate_coins(1, 1, 2);
        let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
        let mut raw = valid_requests(&coins).swap_remove(which);
        for (at, x) in flips {
            let i = at % raw.len();
            raw[i] ^= x;
        }
        if truncate {
            raw.truncate(cut % (raw.len() + 1));
        }
        check(&sim, &coins, &raw)?;
    }
}

#[test]
fn the_valid_requests_are_accepted() {
    let coins = generate_coins(1, 1, 2);
    let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
    let statuses: Vec<u8> =
        valid_requests(&coins).iter().map(|raw| sim.answer(0, raw)[2]).collect();
    // echo, detect, pown, ticket, find (AN), fix (no tickets: fail), make change, change SNs,
    // break (published: 41).
    assert_eq!(statuses, vec![250, 241, 241, 241, 209, 242, 250, 250, 41]);
}
