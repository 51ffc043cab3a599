//! The rest of acceptance 2's matrix: get ticket + fix under type 1, and the commands that carry
//! one coin a request — make change, change SNs + break — on batches of 1, 100 and 5,000 coins
//! (as many calls at once, the client keeping at most its limit open to each RAIDA), under
//! encryption types 0 and 1 and both response counters.

use std::collections::HashSet;

use cloudcoin_domain::{Coin, CoinId, Denomination, RAIDA_COUNT, SerialNumber};
use cloudcoin_raida::{
    Answer, Check, Client, CounterMode, FixCoin, Grade, MakeChange, Page, PageCoin, PageOp,
    RaidaId, RaidaSet, ResponseCounter, Session, Status, fix_an, random_key, random_pans,
};
use cloudcoin_raida_sim::{self as sim, Network, Reservation, SimConfig, generate_coins};
use tokio::task::JoinSet;

use crate::common::{client, config, key_coin, network};

/// The encryption of a round: type 0, or type 1 with the client's counter setting against the
/// simulator's mode at each RAIDA.
#[derive(Clone, Copy)]
struct Crypto {
    modes: [sim::CounterMode; RAIDA_COUNT],
    counter: Option<ResponseCounter>,
}

const TYPE_0: Crypto = Crypto { modes: [sim::CounterMode::Continue; RAIDA_COUNT], counter: None };

/// Type 1, the counter continued everywhere and set so in the client.
const CONTINUED: Crypto = Crypto {
    modes: [sim::CounterMode::Continue; RAIDA_COUNT],
    counter: Some(ResponseCounter::Continue),
};

/// Type 1, the counter restarted everywhere and set so in the client.
const RESTARTED: Crypto = Crypto {
    modes: [sim::CounterMode::Restart; RAIDA_COUNT],
    counter: Some(ResponseCounter::Restart),
};

/// Type 1, even RAIDA restarting and odd ones continuing, the client learning each.
fn learnt_per_raida() -> Crypto {
    Crypto {
        modes: std::array::from_fn(|i| {
            if i % 2 == 0 { sim::CounterMode::Restart } else { sim::CounterMode::Continue }
        }),
        counter: Some(ResponseCounter::Auto),
    }
}

/// A network holding `coins` (and the key coin) with `crypto`'s modes, and a client for it.
async fn setup(crypto: Crypto, config_: SimConfig, coins: &[Coin]) -> (Network, Client) {
    let mut sim_config = config_;
    for (i, mode) in crypto.modes.iter().enumerate() {
        sim_config = sim_config.with_counter_mode(u8::try_from(i).expect("0..25"), *mode);
    }
    let net = network(sim_config, coins).await;
    let mut settings = config(&net);
    if let Some(counter) = crypto.counter {
        settings.key_coin = Some(key_coin());
        settings.response_counter = counter;
    }
    (net, client(settings))
}

/// Every request the network received was of `crypto`'s type; under type 1 none of `secrets`
/// crossed the wire in clear, and an automatic client learnt every RAIDA's counter.
fn check_wire(net: &Network, client: &Client, crypto: Crypto, secrets: &[[u8; 16]]) {
    let log = net.sim().log_all();
    assert!(!log.is_empty());
    let want = u8::from(crypto.counter.is_some());
    assert!(log.iter().all(|l| l.encryption == want), "every request is type {want}");
    if crypto.counter.is_none() {
        return;
    }
    let secrets: HashSet<&[u8]> = secrets.iter().map(|k| &k[..]).collect();
    for l in &log {
        assert!(!l.raw.windows(16).any(|w| secrets.contains(w)), "a key in clear to {}", l.raida);
    }
    for rid in RaidaId::all() {
        let want = match crypto.modes[rid.index()] {
            sim::CounterMode::Restart => CounterMode::Restart,
            _ => CounterMode::Continue,
        };
        assert_eq!(client.counter_mode(rid), Some(want), "the counter at {rid}");
    }
}

/// Coins fracked at RAIDA 3 and 17, healed: get ticket where they pass, fix where they fail.
async fn heal_round(n: u32, crypto: Crypto) {
    let coins = generate_coins(0, 10, n);
    let (net, client) = setup(crypto, SimConfig::default(), &coins).await;
    let broken =
        RaidaSet::EMPTY.with(RaidaId::new(3).expect("id")).with(RaidaId::new(17).expect("id"));
    for coin in &coins {
        for bad in broken.iter() {
            net.sim().set_an(bad.get(), coin.id(), Some(random_key()));
        }
    }
    let detect = client.detect(&coins).await.expect("sent");
    assert!(detect.grades().all(|(_, g)| g == Grade::Fracked));
    let at: Vec<RaidaSet> = (0..coins.len()).map(|i| detect.passed_at(i)).collect();
    let tickets = client.get_ticket(&coins, &at).await.expect("sent");
    let fixes: Vec<FixCoin> = (0..coins.len())
        .map(|i| {
            assert_eq!(tickets.tickets(i).iter().flatten().count(), 23, "coin {i}");
            FixCoin::new(coins[i].id(), broken, tickets.tickets(i))
        })
        .collect();
    let pg = random_key();
    let fixed = client.fix(&fixes, &pg).await.expect("sent");
    let mut healed = coins.clone();
    for (i, (id, answers)) in fixed.iter().enumerate() {
        for rid in broken.iter() {
            assert_eq!(answers[rid.index()], Answer::Said(Check::Pass), "{id} at {rid}");
            let an = fix_an(rid, id.denomination, id.serial, &pg);
            assert_eq!(net.sim().an(rid.get(), id), Some(an));
            healed[i].ans[rid.index()] = an;
        }
    }
    assert!(client.detect(&healed).await.expect("sent").grades().all(|(_, g)| g == Grade::Bank));
    check_wire(&net, &client, crypto, &[coins[0].ans[0], coins[0].ans[3], pg]);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_and_fix_type_1_continued_batch_of_1() {
    heal_round(1, CONTINUED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_and_fix_type_1_restarted_batch_of_100() {
    heal_round(100, RESTARTED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_ticket_and_fix_type_1_learnt_per_raida_batch_of_5000() {
    heal_round(5_000, learnt_per_raida()).await;
}

/// The first serial number of parent `i`'s children: ranges of 10 that do not overlap.
fn start_of(i: usize) -> SerialNumber {
    SerialNumber::new(40_000 + 10 * u32::try_from(i).expect("few"))
}

/// `n` coins of 10 made into change at once, each into 10 coins of 1 with fresh PANs.
async fn make_change_round(n: u32, crypto: Crypto) {
    let parents = generate_coins(1, 1, n);
    let (net, client) = setup(crypto, SimConfig::default(), &parents).await;
    let pans = random_pans(10 * parents.len());
    let changes: Vec<MakeChange> = parents
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let child_pans = std::array::from_fn(|c| pans[10 * i + c]);
            MakeChange::new(p.id(), p.ans, start_of(i), child_pans)
        })
        .collect();
    let mut calls = JoinSet::new();
    for (i, change) in changes.iter().cloned().enumerate() {
        let client = client.clone();
        calls.spawn(async move { (i, client.make_change(&change).await) });
    }
    while let Some(done) = calls.join_next().await {
        let (i, answers) = done.expect("a call does not panic");
        assert_eq!(answers.tally().pass, RAIDA_COUNT, "parent {i}: {answers:?}");
    }
    for (i, parent) in parents.iter().enumerate() {
        for rid in RaidaId::all() {
            assert_eq!(net.sim().an(rid.get(), parent.id()), None, "parent {i} is gone at {rid}");
            for c in 0..10u32 {
                let child = CoinId {
                    denomination: Denomination::from_code(0),
                    serial: SerialNumber::new(start_of(i).get() + c),
                };
                let want = pans[10 * i + usize::try_from(c).expect("0..10")][rid.index()];
                assert_eq!(net.sim().an(rid.get(), child), Some(want), "{child} at {rid}");
            }
        }
    }
    let make_changes =
        net.sim().log(5).iter().filter(|l| l.command == sim::Command::MakeChange).count();
    assert_eq!(make_changes, parents.len(), "one request a parent at each RAIDA, none resent");
    check_wire(&net, &client, crypto, &[parents[0].ans[0], pans[0][0], pans[9][24]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn make_change_type_1_restarted_batch_of_1() {
    make_change_round(1, RESTARTED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn make_change_type_0_batch_of_100() {
    make_change_round(100, TYPE_0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn make_change_type_1_continued_batch_of_100() {
    make_change_round(100, CONTINUED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn make_change_type_1_learnt_per_raida_batch_of_5000() {
    make_change_round(5_000, learnt_per_raida()).await;
}

/// `n` coins of 10 broken at once, each after its own change SNs; under the published
/// behaviour every break is refused with 41 and nothing moves, with reservation on each
/// succeeds. With reservation, the change SNs are asked one session after the other, so that
/// every RAIDA offers each session the same serial numbers (asked at once, the 25 would see the
/// sessions in different orders and reserve different ones for each).
async fn break_round(n: u32, reservation: Reservation, crypto: Crypto) {
    let parents = generate_coins(1, 1, n);
    let config_ = SimConfig::default().with_reservation(reservation);
    let (net, client) = setup(crypto, config_, &parents).await;
    let sessions: Vec<Session> = (0..parents.len()).map(|_| Session::random()).collect();
    let mut offers = Vec::with_capacity(parents.len());
    if reservation == Reservation::Reserve {
        for (session, parent) in sessions.iter().zip(&parents) {
            offers.push(client.change_serials(*session, PageOp::Break, parent.denomination).await);
        }
    } else {
        // Nothing is reserved: the sessions may ask at once.
        let mut calls = JoinSet::new();
        for (i, session) in sessions.iter().copied().enumerate() {
            let (client, dn) = (client.clone(), parents[i].denomination);
            calls
                .spawn(async move { (i, client.change_serials(session, PageOp::Break, dn).await) });
        }
        let mut all: Vec<_> = calls.join_all().await;
        all.sort_by_key(|(i, _)| *i);
        offers.extend(all.into_iter().map(|(_, offer)| offer));
    }
    let mut pages = Vec::with_capacity(parents.len());
    for ((parent, session), free) in parents.iter().zip(sessions).zip(offers) {
        let first = free.get(RaidaId::new(0).expect("id")).said().expect("an answer").clone();
        assert_eq!(first.denomination, Denomination::from_code(0));
        assert_eq!(first.serials.len(), 64);
        let serials = &first.serials[..10];
        if reservation == Reservation::Reserve {
            for (rid, answer) in free.iter() {
                let offered = &answer.said().unwrap_or_else(|| panic!("{rid}: {answer:?}")).serials;
                assert!(serials.iter().all(|s| offered.contains(s)), "the same SNs at {rid}");
            }
        }
        let children =
            serials.iter().map(|sn| PageCoin::new(*sn, std::array::from_fn(|_| random_key())));
        pages.push(Page::new(session, parent.id(), parent.ans, children.collect()));
    }
    let mut calls = JoinSet::new();
    for (i, page) in pages.iter().cloned().enumerate() {
        let client = client.clone();
        calls.spawn(async move { (i, client.break_coin(&page).await.expect("sent")) });
    }
    while let Some(done) = calls.join_next().await {
        let (i, answers) = done.expect("a call does not panic");
        match reservation {
            Reservation::Reserve => {
                assert_eq!(answers.tally().pass, RAIDA_COUNT, "page {i}: {answers:?}");
            }
            _ => assert!(
                answers.iter().all(|(_, a)| *a == Answer::Status(Status::PageNotReserved)),
                "page {i}: {answers:?}"
            ),
        }
    }
    for (parent, page) in parents.iter().zip(&pages) {
        for rid in RaidaId::all() {
            let held = net.sim().an(rid.get(), parent.id());
            let child = CoinId {
                denomination: Denomination::from_code(0),
                serial: page.children[9].serial,
            };
            let child_held = net.sim().an(rid.get(), child);
            if reservation == Reservation::Reserve {
                assert_eq!((held, child_held), (None, Some(page.children[9].keys[rid.index()])));
            } else {
                assert_eq!(
                    (held, child_held),
                    (Some(parent.ans[rid.index()]), None),
                    "nothing moved"
                );
            }
        }
    }
    check_wire(&net, &client, crypto, &[parents[0].ans[0], pages[0].children[0].keys[0]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_published_type_1_continued_batch_of_1() {
    break_round(1, Reservation::Published, CONTINUED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_published_type_0_batch_of_100() {
    break_round(100, Reservation::Published, TYPE_0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_published_type_1_learnt_per_raida_batch_of_5000() {
    break_round(5_000, Reservation::Published, learnt_per_raida()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_reserved_type_1_restarted_batch_of_1() {
    break_round(1, Reservation::Reserve, RESTARTED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_reserved_type_0_batch_of_100() {
    break_round(100, Reservation::Reserve, TYPE_0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_reserved_type_1_learnt_per_raida_batch_of_100() {
    break_round(100, Reservation::Reserve, learnt_per_raida()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_sns_and_break_reserved_type_1_learnt_per_raida_batch_of_5000() {
    break_round(5_000, Reservation::Reserve, learnt_per_raida()).await;
}

/// The sheet's fix-threshold vector through the client: a coin failing at RAIDA 13, fixed
/// there on tickets from 12 other RAIDA (a fail, the AN unchanged) and from 13 (a pass, the AN
/// the fix rule gives: the §7 value for DN 1, SN 5 and PG 00..0f at RAIDA 13).
#[tokio::test(flavor = "multi_thread")]
async fn fix_on_12_other_tickets_fails_and_on_13_passes() {
    let coin = generate_coins(1, 5, 1).remove(0);
    let r13 = RaidaId::new(13).expect("id");
    let pg: [u8; 16] = std::array::from_fn(|i| u8::try_from(i).expect("0..16"));
    for (others, want) in [(12, Check::Fail), (13, Check::Pass)] {
        let (net, client) = setup(TYPE_0, SimConfig::default(), std::slice::from_ref(&coin)).await;
        net.sim().set_an(13, coin.id(), Some([0xee; 16]));
        let voters: RaidaSet = RaidaId::all().filter(|r| *r != r13).take(others).collect();
        let tickets =
            client.get_ticket(std::slice::from_ref(&coin), &[voters]).await.expect("sent");
        assert_eq!(tickets.tickets(0).iter().flatten().count(), others);
        let fix = FixCoin::new(coin.id(), RaidaSet::EMPTY.with(r13), tickets.tickets(0));
        let fixed = client.fix(&[fix], &pg).await.expect("sent");
        assert_eq!(fixed.coin(0).1[13], Answer::Said(want), "{others} tickets");
        let held = net.sim().an(13, coin.id());
        if want == Check::Pass {
            let an: [u8; 16] = fix_an(r13, coin.denomination, coin.serial, &pg);
            assert_eq!(held, Some(an));
            assert_eq!(
                an,
                [
                    0x26, 0x66, 0xed, 0x84, 0x4c, 0x7e, 0xe3, 0xcd, 0x0a, 0xbd, 0xbd, 0x2a, 0xee,
                    0xf5, 0x1b, 0xd2
                ]
            );
        } else {
            assert_eq!(held, Some([0xee; 16]), "a failed fix changes nothing");
        }
    }
}
