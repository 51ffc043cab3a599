//! The commands' agreement rules over real sockets: pown per RAIDA, find, tickets and fix, make
//! change, change SNs with reservation, break and join.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudcoin_domain::{CoinId, Denomination, SerialNumber};
use cloudcoin_raida_sim::{
    Command, FixBetweenServers, ManualClock, Network, Reservation, SimConfig, generate_coins,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::req::{Req, c21, c37, read_answer, send};

fn id(dn: i8, sn: u32) -> CoinId {
    CoinId { denomination: Denomination::from_code(dn), serial: SerialNumber::new(sn) }
}

async fn start(config: SimConfig) -> Network {
    Network::start(config).await.expect("the 25 listeners bind")
}

#[tokio::test]
async fn pown_applies_per_raida_and_per_coin() {
    let coins = generate_coins(0, 1, 3);
    let net = start(SimConfig::default().with_coins(coins.clone())).await;
    let pan = [0x42; 16];
    // RAIDA 3: coins 0 and 2 carry their AN, coin 1 a wrong one.
    let mut payload = c37(0, 1, &coins[0].ans[3], &pan);
    payload.extend(c37(0, 2, &[0; 16], &pan));
    payload.extend(c37(0, 3, &coins[2].ans[3], &pan));
    let resp = send(net.addresses()[3], &Req::new(3, 1, 20, payload).bytes()).await;
    assert_eq!((resp.status(), resp.body().to_vec()), (243, vec![0b101]));
    assert_eq!(net.sim().an(3, coins[0].id()), Some(pan));
    assert_eq!(
        net.sim().an(3, coins[1].id()),
        Some(coins[1].ans[3]),
        "a failing coin keeps its AN"
    );
    assert_eq!(net.sim().an(3, coins[2].id()), Some(pan));
    assert_eq!(net.sim().an(4, coins[0].id()), Some(coins[0].ans[4]), "other RAIDA untouched");
    assert!(net.sim().log(3)[0].applied);
    // The same pown again: the ANs are now the PANs, so it fails everywhere.
    let again = c37(0, 1, &coins[0].ans[3], &pan);
    let resp = send(net.addresses()[3], &Req::new(3, 1, 20, again).bytes()).await;
    assert_eq!((resp.status(), resp.raw.len()), (242, 32));
}

#[tokio::test]
async fn find_tells_an_from_pan_and_refuses_unknown_coins() {
    let coins = generate_coins(2, 10, 2);
    let net = start(SimConfig::default().with_coins(coins.clone()).with_serial_limit(1000)).await;
    let addr = net.addresses()[9];
    let (an0, an1, pan) = (coins[0].ans[9], coins[1].ans[9], [0x77; 16]);
    let status =
        |payload: Vec<u8>| async move { send(addr, &Req::new(9, 2, 60, payload).bytes()).await };
    assert_eq!(status(c37(2, 10, &an0, &pan)).await.status(), 209);
    net.sim().set_an(9, coins[0].id(), Some(pan));
    assert_eq!(status(c37(2, 10, &an0, &pan)).await.status(), 210);
    assert_eq!(status(c37(2, 10, &[1; 16], &[2; 16])).await.status(), 208);
    let mut mixed = c37(2, 10, &an0, &pan);
    mixed.extend(c37(2, 11, &an1, &pan));
    mixed.extend(c37(2, 12, &an1, &pan));
    let resp = status(mixed).await;
    assert_eq!((resp.status(), resp.body().to_vec()), (211, vec![2, 1, 0]));
    assert_eq!(status(c37(2, 1000, &an0, &pan)).await.status(), 40, "SN past the table");
    assert_eq!(status(c37(7, 10, &an0, &pan)).await.status(), 40, "DN outside -8..6");
    // Detect answers the same unknown coin as an ordinary fail.
    let resp = send(addr, &Req::new(9, 1, 10, c21(2, 1000, &an0)).bytes()).await;
    assert_eq!(resp.status(), 242);
}

/// Tickets for `coin` (DN 1, SN 1 of `generate_coins`) from RAIDA `from`.
async fn tickets(net: &Network, coin: &cloudcoin_domain::Coin, from: &[u8]) -> [u32; 25] {
    let mut out = [0u32; 25];
    for &r in from {
        let payload = c21(1, coin.serial.get(), &coin.ans[usize::from(r)]);
        let resp =
            send(net.addresses()[usize::from(r)], &Req::new(r, 2, 40, payload).bytes()).await;
        assert_eq!(resp.status(), 241);
        out[usize::from(r)] = u32::from_be_bytes(resp.body().try_into().expect("a 4-byte ticket"));
    }
    out
}

async fn fix(net: &Network, at: u8, sn: u32, tickets: &[u32; 25]) -> u8 {
    let mut payload = vec![1u8];
    payload.extend(sn.to_be_bytes());
    payload.extend([0xab; 16]);
    payload.extend(tickets.iter().flat_map(|t| t.to_be_bytes()));
    send(net.addresses()[usize::from(at)], &Req::new(at, 2, 80, payload).bytes()).await.status()
}

#[tokio::test]
async fn tickets_are_used_up_by_a_failed_fix_and_claimed_once_per_raida() {
    let coins = generate_coins(1, 1, 1);
    let coin = &coins[0];
    let net = start(SimConfig::default().with_coins(coins.clone())).await;
    net.sim().set_an(0, coin.id(), None);
    net.sim().set_an(24, coin.id(), None);
    let twelve = tickets(&net, coin, &(1..=12).collect::<Vec<_>>()).await;
    assert_eq!(fix(&net, 0, 1, &twelve).await, 242);
    // The 12 are used up for RAIDA 0: with one fresh ticket more there are still too few votes.
    let mut thirteen = twelve;
    thirteen[13] = tickets(&net, coin, &[13]).await[13];
    assert_eq!(fix(&net, 0, 1, &thirteen).await, 242);
    // RAIDA 24 has not claimed any of them yet: the same 13 fix the coin there.
    assert_eq!(fix(&net, 24, 1, &thirteen).await, 241);
    assert!(net.sim().an(24, coin.id()).is_some(), "fix makes the coin exist at 24 again");
    assert_eq!(net.sim().an(0, coin.id()), None);
}

#[tokio::test]
async fn tickets_expire_after_300_seconds_of_the_injected_clock() {
    let coins = generate_coins(1, 1, 1);
    let clock = ManualClock::new();
    let net =
        start(SimConfig::default().with_coins(coins.clone()).with_clock(Arc::new(clock.clone())))
            .await;
    net.sim().set_an(0, coins[0].id(), Some([0; 16]));
    let t = tickets(&net, &coins[0], &(1..=13).collect::<Vec<_>>()).await;
    assert_eq!(net.sim().live_tickets(5), 1);
    clock.advance(Duration::from_secs(300));
    assert_eq!(net.sim().live_tickets(5), 0);
    assert_eq!(fix(&net, 0, 1, &t).await, 242);
    let t = tickets(&net, &coins[0], &(1..=13).collect::<Vec<_>>()).await;
    clock.advance(Duration::from_secs(299));
    assert_eq!(fix(&net, 0, 1, &t).await, 241);
}

#[tokio::test]
async fn fix_never_works_between_servers_as_published() {
    let coins = generate_coins(1, 1, 1);
    let net =
        start(SimConfig::default().with_coins(coins.clone()).with_fix(FixBetweenServers::Never))
            .await;
    net.sim().set_an(0, coins[0].id(), Some([0; 16]));
    let t = tickets(&net, &coins[0], &(1..=24).collect::<Vec<_>>()).await;
    assert_eq!(fix(&net, 0, 1, &t).await, 242);
    assert_eq!(net.sim().an(0, coins[0].id()), Some([0; 16]));
}

fn make_change_payload(parent: &cloudcoin_domain::Coin, r: usize, start: u32) -> Vec<u8> {
    let mut p = c21(parent.denomination.code(), parent.serial.get(), &parent.ans[r]);
    p.extend(start.to_be_bytes());
    for i in 0..10u8 {
        p.extend([i; 16]);
    }
    p
}

#[tokio::test]
async fn make_change_retires_the_parent_and_makes_ten_children() {
    let coins = generate_coins(1, 1, 2);
    let net = start(SimConfig::default().with_coins(coins.clone())).await;
    let addr = net.addresses()[2];
    let resp =
        send(addr, &Req::new(2, 9, 90, make_change_payload(&coins[0], 2, 40_000)).bytes()).await;
    assert_eq!((resp.status(), resp.raw.len()), (250, 32));
    assert_eq!(net.sim().an(2, coins[0].id()), None, "the parent is gone");
    for i in 0..10u8 {
        assert_eq!(net.sim().an(2, id(0, 40_000 + u32::from(i))), Some([i; 16]));
    }
    // The range is taken now; a wrong AN is a fail.
    let resp =
        send(addr, &Req::new(2, 9, 90, make_change_payload(&coins[1], 2, 40_005)).bytes()).await;
    assert_eq!(resp.status(), 40);
    let resp =
        send(addr, &Req::new(2, 9, 90, make_change_payload(&coins[1], 3, 50_000)).bytes()).await;
    assert_eq!(resp.status(), 242);
    assert_eq!(net.sim().an(2, coins[1].id()), Some(coins[1].ans[2]));
}

#[tokio::test]
async fn with_reservation_break_and_join_use_the_reserved_sns() {
    let coins = generate_coins(1, 1, 1);
    let net = start(
        SimConfig::default().with_coins(coins.clone()).with_reservation(Reservation::Reserve),
    )
    .await;
    let addr = net.addresses()[0];
    let an = coins[0].ans[0];
    let resp = send(addr, &Req::new(0, 9, 91, vec![0, 0, 0, 9, 1, 1]).bytes()).await;
    let sns: Vec<u32> = resp.body()[1..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("4")))
        .collect();
    // A SN outside the reservation: 41.
    let mut bad = vec![0, 0, 0, 9];
    bad.extend(c21(1, 1, &an));
    for sn in 0..10 {
        bad.extend(c21(0, sn + 1, &[3; 16]));
    }
    assert_eq!(send(addr, &Req::new(0, 9, 92, bad).bytes()).await.status(), 41);
    let mut brk = vec![0, 0, 0, 9];
    brk.extend(c21(1, 1, &an));
    for (i, sn) in sns[..10].iter().enumerate() {
        brk.extend(c21(0, *sn, &[i as u8 + 1; 16]));
    }
    assert_eq!(send(addr, &Req::new(0, 9, 92, brk).bytes()).await.status(), 250);
    assert_eq!(net.sim().an(0, coins[0].id()), None);
    assert_eq!(net.sim().an(0, id(0, sns[9])), Some([10; 16]));

    // Join the ten back into a new coin of DN 1.
    let resp = send(addr, &Req::new(0, 9, 91, vec![0, 0, 0, 10, 2, 0]).bytes()).await;
    assert_eq!((resp.status(), resp.body()[0]), (250, 1));
    let new_sn = u32::from_be_bytes(resp.body()[1..5].try_into().expect("4"));
    let mut join = vec![0, 0, 0, 10];
    join.extend(c21(1, new_sn, &[0x99; 16]));
    for (i, sn) in sns[..10].iter().enumerate() {
        join.extend(c21(0, *sn, &[i as u8 + 1; 16]));
    }
    assert_eq!(send(addr, &Req::new(0, 9, 93, join).bytes()).await.status(), 250);
    assert_eq!(net.sim().an(0, id(1, new_sn)), Some([0x99; 16]));
    assert_eq!(net.sim().an(0, id(0, sns[0])), None);
}

#[tokio::test]
async fn one_connection_carries_several_requests() {
    let net = start(SimConfig::default()).await;
    let mut s = TcpStream::connect(net.addresses()[1]).await.expect("connect");
    for _ in 0..3 {
        s.write_all(&Req::new(1, 0, 0, vec![]).bytes()).await.expect("write");
        assert_eq!(read_answer(&mut s).await.expect("an answer").status(), 250);
    }
}

#[tokio::test]
async fn the_observer_sees_a_request_before_it_is_applied() {
    let coins = generate_coins(0, 1, 1);
    type Seen = Vec<(u8, Command, Option<u8>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s = Arc::clone(&seen);
    let net =
        start(SimConfig::default().with_coins(coins.clone()).with_observer(Arc::new(move |r| {
            s.lock().expect("not poisoned").push((r.raida, r.command, r.status))
        })))
        .await;
    let payload = c37(0, 1, &coins[0].ans[6], &[1; 16]);
    send(net.addresses()[6], &Req::new(6, 1, 20, payload).bytes()).await;
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(seen, vec![(6, Command::Pown, None)], "seen before the RAIDA answered");
    let log = net.sim().log(6);
    assert_eq!((log[0].status, log[0].coins[0].pan), (Some(241), Some([1; 16])));
}
