//! Arbitrary bytes as a request to a simulated RAIDA: it must answer with a well-formed response
//! and must not change its table unless the request was well formed and said so.
#![no_main]

use cloudcoin_raida_sim::{public_seed_coin, SimConfig, Simulator};
use libfuzzer_sys::fuzz_target;

const KEY_AN: [u8; 16] = [
    0x87, 0xd7, 0x6f, 0x0a, 0x20, 0x02, 0x4b, 0xa1, 0xeb, 0xd0, 0x77, 0xdd, 0xf9, 0x79, 0xf6, 0x82,
];

fuzz_target!(|data: &[u8]| {
    // The coins of the protocol sheet's vectors: DN 1 SN 5 and 6 with the public seed AN, and
    // the key coin DN 1 SN 7 with the type-1 vector's AN, so the seeds (see
    // make-raida-sim-seeds.py) reach every command, type 1 included.
    let mut key = public_seed_coin(1, 7);
    key.ans = [KEY_AN; 25];
    let coins = vec![public_seed_coin(1, 5), public_seed_coin(1, 6), key, public_seed_coin(0, 1)];
    let sim = Simulator::new(SimConfig::default().with_coins(coins.clone()));
    let before: Vec<_> = coins.iter().map(|c| sim.an(0, c.id())).collect();
    let reply = sim.answer(0, data);
    assert!(reply.len() >= 32, "every answer has a 32-byte header");
    assert_eq!(reply[0], 0, "byte 0 is the RAIDA id");
    let size = usize::from(reply[9]) << 16 | usize::from(reply[10]) << 8 | usize::from(reply[11]);
    if size == 0 {
        assert_eq!(reply.len(), 32, "a status-only answer is exactly 32 bytes");
    } else {
        assert_eq!(reply.len(), 32 + size, "size counts the body and terminator");
        assert_eq!(reply[reply.len() - 2..], [0x3e, 0x3e]);
    }
    let log = sim.log(0);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, Some(reply[2]));
    if !log[0].applied {
        let after: Vec<_> = coins.iter().map(|c| sim.an(0, c.id())).collect();
        assert_eq!(before, after, "a request not applied changed nothing");
        assert_eq!(sim.coin_count(0), coins.len());
    }
});
