//! The fault plan over real sockets: what a client sees and what the RAIDA's state became.

use std::time::{Duration, Instant};

use cloudcoin_raida_sim::{
    Calls, Command, Fault, FaultPlan, FaultRule, Network, SimConfig, generate_coins,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::req::{Req, c37, read_answer, send, try_send};

const PAN: [u8; 16] = [0x42; 16];

async fn net_with_coin() -> (Network, cloudcoin_domain::Coin) {
    let coins = generate_coins(0, 1, 1);
    let net = Network::start(SimConfig::default().with_coins(coins.clone())).await.expect("bind");
    (net, coins[0].clone())
}

fn pown(coin: &cloudcoin_domain::Coin, r: u8) -> Vec<u8> {
    Req::new(r, 1, 20, c37(0, 1, &coin.ans[usize::from(r)], &PAN)).bytes()
}

#[tokio::test]
async fn a_reply_dropped_after_applying_leaves_the_raida_changed() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(2, Fault::DropReplyAfterApply).command(Command::Pown));
    let got = try_send(net.addresses()[2], &pown(&coin, 2)).await;
    assert_eq!(got.map_err(|partial| partial.len()).err(), Some(0), "no answer at all");
    assert_eq!(net.sim().an(2, coin.id()), Some(PAN), "but the pown was applied");
    let log = net.sim().log(2);
    assert_eq!((log[0].applied, log[0].fault), (true, Some(Fault::DropReplyAfterApply)));
}

#[tokio::test]
async fn a_request_dropped_before_applying_changes_nothing() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(2, Fault::DropBeforeApply));
    assert!(try_send(net.addresses()[2], &pown(&coin, 2)).await.is_err());
    assert_eq!(net.sim().an(2, coin.id()), Some(coin.ans[2]));
    let log = net.sim().log(2);
    assert_eq!((log[0].applied, log[0].status), (false, None));
    assert_eq!(log[0].coins[0].pan, Some(PAN), "what crossed the wire is still logged");
}

#[tokio::test]
async fn a_forced_status_is_answered_without_applying() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(2, Fault::ForceStatus(160)));
    let mut req = Req::new(2, 1, 20, c37(0, 1, &coin.ans[2], &PAN));
    req.nonce[7] = 0x33;
    let resp = send(net.addresses()[2], &req.bytes()).await;
    assert_eq!((resp.status(), resp.raw.len(), resp.raw[7]), (160, 32, 0x33));
    assert_eq!(net.sim().an(2, coin.id()), Some(coin.ans[2]));
}

#[tokio::test]
async fn a_reply_cut_midway_was_applied() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(2, Fault::CutMidReply));
    let partial = try_send(net.addresses()[2], &pown(&coin, 2)).await.expect_err("cut");
    assert_eq!(partial.len(), 16, "half of a 32-byte answer, then the connection closed");
    assert_eq!(partial[2], 241);
    assert_eq!(net.sim().an(2, coin.id()), Some(PAN));
}

#[tokio::test]
async fn a_stalled_reply_never_comes_but_the_request_was_applied() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(2, Fault::StallAfterApply));
    let mut s = TcpStream::connect(net.addresses()[2]).await.expect("connect");
    s.write_all(&pown(&coin, 2)).await.expect("write");
    // The client's own timeout decides; the simulator applied the request and stays silent.
    let waited = tokio::time::timeout(Duration::from_millis(300), read_answer(&mut s)).await;
    assert!(waited.is_err(), "no answer within the client's timeout");
    assert_eq!(net.sim().an(2, coin.id()), Some(PAN));
}

#[tokio::test]
async fn a_delay_holds_the_reply_back_at_least_that_long() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(2, Fault::Delay(Duration::from_millis(150))));
    let started = Instant::now();
    let resp = send(net.addresses()[2], &pown(&coin, 2)).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(resp.status(), 241);
}

#[tokio::test]
async fn the_latency_applies_to_every_reply() {
    let net = Network::start(SimConfig::default().with_latency(Duration::from_millis(40)))
        .await
        .expect("bind");
    for r in [0u8, 24] {
        let started = Instant::now();
        let resp = send(net.addresses()[usize::from(r)], &Req::new(r, 0, 0, vec![]).bytes()).await;
        assert!(started.elapsed() >= Duration::from_millis(40));
        assert_eq!(resp.status(), 250);
    }
}

#[tokio::test]
async fn going_offline_and_coming_back() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(5, Fault::GoOffline).command(Command::Pown));
    assert!(try_send(net.addresses()[5], &pown(&coin, 5)).await.is_err());
    assert!(!net.is_online(5));
    assert_eq!(net.sim().an(5, coin.id()), Some(coin.ans[5]), "not applied");
    assert!(TcpStream::connect(net.addresses()[5]).await.is_err(), "connections refused");
    net.set_faults(FaultPlan::new());
    net.set_online(5).await.expect("rebind the same port");
    assert_eq!(send(net.addresses()[5], &pown(&coin, 5)).await.status(), 241);
    assert_eq!(net.sim().an(5, coin.id()), Some(PAN));
}

#[tokio::test]
async fn only_the_nth_call_of_the_command_is_hit() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(
        FaultRule::new(8, Fault::ForceStatus(254)).command(Command::Detect).calls(Calls::Nth(2)),
    );
    let detect = Req::new(8, 1, 10, crate::req::c21(0, 1, &coin.ans[8])).bytes();
    let echo = Req::new(8, 0, 0, vec![]).bytes();
    let addr = net.addresses()[8];
    assert_eq!(send(addr, &detect).await.status(), 241);
    assert_eq!(send(addr, &echo).await.status(), 250, "another command does not count");
    assert_eq!(send(addr, &detect).await.status(), 254);
    assert_eq!(send(addr, &detect).await.status(), 241);
}

#[tokio::test]
async fn split_state_a_pown_applied_on_some_raida_only() {
    let (net, coin) = net_with_coin().await;
    let mut plan = FaultPlan::new();
    for r in 12..25 {
        plan.add(FaultRule::new(r, Fault::DropBeforeApply).command(Command::Pown));
    }
    net.set_faults(plan);
    let mut answered = 0;
    for r in 0..25u8 {
        if try_send(net.addresses()[usize::from(r)], &pown(&coin, r)).await.is_ok() {
            answered += 1;
        }
    }
    assert_eq!(answered, 12);
    let mut with_pans = coin.clone();
    with_pans.ans = [PAN; 25];
    assert_eq!(net.sim().agreeing(&with_pans), 12, "12 RAIDA hold the PAN");
    assert_eq!(net.sim().agreeing(&coin), 13, "13 still hold the old AN");
}

#[tokio::test]
async fn faults_are_per_raida_never_global() {
    let (net, coin) = net_with_coin().await;
    net.add_fault(FaultRule::new(0, Fault::DropBeforeApply));
    assert!(try_send(net.addresses()[0], &pown(&coin, 0)).await.is_err());
    for r in 1..25u8 {
        assert_eq!(send(net.addresses()[usize::from(r)], &pown(&coin, r)).await.status(), 241);
    }
}

#[tokio::test]
async fn no_secret_crosses_the_wire_in_clear_under_type_1() {
    let coins = generate_coins(0, 1, 2);
    let net = Network::start(SimConfig::default().with_coins(coins.clone())).await.expect("bind");
    let (key, coin) = (&coins[0], &coins[1]);
    let mut req = Req::new(3, 1, 20, c37(0, 2, &coin.ans[3], &PAN));
    req.key = Some((0, 1, key.ans[3]));
    assert_eq!(send(net.addresses()[3], &req.bytes()).await.status(), 241);
    let log = net.sim().log(3);
    assert_eq!(log[0].encryption, 1);
    assert_eq!(log[0].secrets().count(), 2, "the log reads the AN and PAN after decryption");
    for secret in log[0].secrets() {
        assert!(!log[0].raw.windows(16).any(|w| w == secret), "not in the raw bytes");
    }
    // The same pown under type 0 shows the test can see keys in clear.
    let clear = Req::new(4, 1, 20, c37(0, 2, &coin.ans[4], &PAN)).bytes();
    send(net.addresses()[4], &clear).await;
    let log = net.sim().log(4);
    assert!(log[0].raw.windows(16).any(|w| w == PAN));
}
