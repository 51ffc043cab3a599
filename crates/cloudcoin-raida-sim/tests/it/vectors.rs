//! Every vector of the protocol sheet §7 that a RAIDA answers, as raw bytes over a socket.

use cloudcoin_domain::{CoinId, Denomination, SerialNumber};
use cloudcoin_raida_sim::{
    CounterMode, MakeChange, Network, SimConfig, generate_coins, public_seed_an, public_seed_coin,
};

use crate::req::{CHALLENGE, Req, c21, hex, hex16, send};

fn id(dn: i8, sn: u32) -> CoinId {
    CoinId { denomination: Denomination::from_code(dn), serial: SerialNumber::new(sn) }
}

async fn start(config: SimConfig) -> Network {
    Network::start(config).await.expect("the 25 listeners bind")
}

#[tokio::test]
async fn echo_request_and_response_bytes() {
    let net = start(SimConfig::default()).await;
    let mut request = hex("0100000000000006000000000000000000000000000000120000000000000000");
    request.extend(hex("111111111111111111111111d85df38f3e3e"));
    assert_eq!(request, Req::new(0, 0, 0, vec![]).bytes(), "the test's builder agrees");
    let resp = send(net.addresses()[0], &request).await;
    assert_eq!(resp.raw.len(), 32, "status-only: exactly 32 bytes");
    assert_eq!(resp.raw[..12], hex("0000fa00 0001 0000 00 000000")[..]);
    assert_eq!(resp.bytes_16_31(), hex(CHALLENGE));
}

#[tokio::test]
async fn the_crc_vectors_are_the_challenges_a_raida_accepts() {
    let net = start(SimConfig::default()).await;
    // The sheet's three CRC-32 vectors, each as the challenge of an echo; a flipped CRC bit or
    // a changed prefix byte is refused with 37.
    for challenge in [
        "111111111111111111111111d85df38f",
        "0000000000000000000000007bd5c66f",
        "000102030405060708090a0b9270c965",
    ] {
        let mut req = Req::new(2, 0, 0, vec![]);
        req.challenge = hex16(challenge);
        let resp = send(net.addresses()[2], &req.bytes()).await;
        assert_eq!(resp.status(), 250, "{challenge}");
        assert_eq!(resp.bytes_16_31(), hex(challenge), "the challenge comes back");
        for flip in [15, 0] {
            let mut bad = req.clone();
            bad.challenge[flip] ^= 0x01;
            let resp = send(net.addresses()[2], &bad.bytes()).await;
            assert_eq!(resp.status(), 37, "{challenge} with byte {flip} changed");
        }
    }
}

#[tokio::test]
async fn echo_bytes_30_31_come_back_in_6_7() {
    let net = start(SimConfig::default()).await;
    let mut req = Req::new(4, 0, 0, vec![]);
    req.nonce = hex("0001020304050607").try_into().expect("8");
    let resp = send(net.addresses()[4], &req.bytes()).await;
    assert_eq!((resp.raw[0], resp.status()), (4, 250));
    assert_eq!(resp.raw[6..8], [0x06, 0x07]);
}

#[tokio::test]
async fn detect_mixed_answers_243_with_bitfield_01() {
    let net =
        start(SimConfig::default().with_coins([public_seed_coin(1, 5), public_seed_coin(1, 6)]))
            .await;
    let mut payload = c21(1, 5, &public_seed_an(1, 5));
    payload.extend(c21(1, 6, &[0; 16]));
    let resp = send(net.addresses()[0], &Req::new(0, 1, 10, payload).bytes()).await;
    assert_eq!((resp.status(), resp.size()), (243, 3));
    assert_eq!(resp.raw[32..], [0x01, 0x3e, 0x3e]);
    assert_eq!(resp.raw[3], 1, "byte 3 is the command group");
}

#[tokio::test]
async fn header_errors_answer_their_status_codes() {
    let coins = generate_coins(1, 7, 1);
    let net = start(SimConfig::default().with_coins(coins.clone())).await;
    let addr = net.addresses()[0];
    let good = Req::new(0, 1, 10, c21(1, 7, &coins[0].ans[0]));
    let mut echo_nonce = good.clone();
    echo_nonce.nonce = [0, 0, 0, 0, 0, 0, 0xab, 0xcd];

    let mut r = echo_nonce.clone();
    r.coin_id = 1;
    let resp = send(addr, &r.bytes()).await;
    assert_eq!((resp.status(), resp.raw.len()), (7, 32), "coin id 1");
    assert_eq!(resp.raw[6..8], [0, 0], "no echo on 7");
    assert_eq!(resp.bytes_16_31(), [0; 16]);

    let mut r = echo_nonce.clone();
    r.version = 0;
    let resp = send(addr, &r.bytes()).await;
    assert_eq!((resp.status(), resp.raw.len()), (255, 32), "version 0");
    assert_eq!(resp.bytes_16_31(), [0; 16], "bytes 16-31 zero");
    assert_eq!(resp.raw[6..8], [0, 0]);

    let mut r = echo_nonce.clone();
    r.challenge[15] ^= 1;
    assert_eq!(send(addr, &r.bytes()).await.status(), 37, "bad challenge CRC");

    let mut r = echo_nonce.clone();
    r.raida = 1;
    let resp = send(addr, &r.bytes()).await;
    assert_eq!(resp.status(), 3, "RAIDA id 1 sent to RAIDA 0");
    assert_eq!(resp.raw[6..8], [0, 0]);

    let mut r = echo_nonce.clone();
    r.terminator = [0x3e, 0x3f];
    let resp = send(addr, &r.bytes()).await;
    assert_eq!(resp.status(), 33, "wrong terminator");
    assert_eq!(resp.raw[6..8], [0xab, 0xcd], "33 echoes bytes 30-31");

    let mut r = echo_nonce.clone();
    r.payload.push(0);
    assert_eq!(send(addr, &r.bytes()).await.status(), 39, "not a whole number of records");

    let mut r = echo_nonce.clone();
    r.key = Some((1, 8, [9; 16]));
    assert_eq!(send(addr, &r.bytes()).await.status(), 34, "type 1, key coin unknown there");

    let mut r = echo_nonce.clone();
    r.key = Some((1, 7, [9; 16]));
    assert_eq!(send(addr, &r.bytes()).await.status(), 37, "type 1, key coin's AN changed there");
    let mut r = echo_nonce.clone();
    r.key = Some((1, 7, coins[0].ans[0]));
    assert_eq!(send(addr, &r.bytes()).await.status(), 241, "type 1 with the right key passes");

    let resp = send(addr, &Req::new(0, 7, 1, vec![]).bytes()).await;
    assert_eq!(resp.status(), 5, "unknown group");
    let resp = send(addr, &Req::new(0, 1, 99, vec![]).bytes()).await;
    assert_eq!((resp.status(), resp.raw[6..8].to_vec()), (6, vec![0, 0]), "unknown command");

    // A body length under 18 (challenge + terminator).
    let mut raw = Req::new(0, 0, 0, vec![]).bytes();
    raw.truncate(32 + 2);
    raw[22..24].copy_from_slice(&2u16.to_be_bytes());
    raw[32..34].copy_from_slice(&[0x3e, 0x3e]);
    assert_eq!(send(addr, &raw).await.status(), 16, "body length");

    let log = net.sim().log(0);
    assert!(log.iter().all(|e| !e.applied), "no refused request changed anything");
    assert_eq!(net.sim().an(0, coins[0].id()), Some(coins[0].ans[0]));
}

#[tokio::test]
async fn change_sns_answers_250_with_64_free_sns_and_break_41() {
    let net = start(SimConfig::default().with_coins([public_seed_coin(1, 5)])).await;
    let addr = net.addresses()[0];
    let resp = send(addr, &Req::new(0, 9, 91, hex("a1b2c3d4 01 01")).bytes()).await;
    assert_eq!((resp.status(), resp.size()), (250, 259));
    assert_eq!(resp.body()[0], 0, "DN − 1");
    let sns: Vec<u32> = resp.body()[1..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("4")))
        .collect();
    assert_eq!(sns.len(), 64);
    // Break with those SNs, in the same session: the published server never reserved them.
    let mut payload = hex("a1b2c3d4");
    payload.extend(c21(1, 5, &public_seed_an(1, 5)));
    for sn in &sns[..10] {
        payload.extend(c21(0, *sn, &[7; 16]));
    }
    let resp = send(addr, &Req::new(0, 9, 92, payload).bytes()).await;
    assert_eq!((resp.status(), resp.raw.len()), (41, 32));
    assert_eq!(net.sim().an(0, id(1, 5)), Some(public_seed_an(1, 5)), "nothing moved");
    assert_eq!(net.sim().an(0, id(0, sns[0])), None);
}

#[tokio::test]
async fn make_change_off_answers_6_in_32_bytes() {
    let net = start(
        SimConfig::default().with_make_change(MakeChange::Off).with_coins([public_seed_coin(1, 5)]),
    )
    .await;
    let mut payload = c21(1, 5, &public_seed_an(1, 5));
    payload.extend(40_000u32.to_be_bytes());
    payload.extend([5u8; 160]);
    let resp = send(net.addresses()[0], &Req::new(0, 9, 90, payload).bytes()).await;
    assert_eq!((resp.status(), resp.raw.len()), (6, 32));
    assert_eq!(net.sim().an(0, id(1, 5)), Some(public_seed_an(1, 5)));
}

/// A coin failing at RAIDA `at`; tickets from `others` other RAIDA; the fix's status.
async fn fix_with_tickets(at: u8, others: usize) -> (u8, Network) {
    let coin = public_seed_coin(1, 5);
    let net = start(SimConfig::default().with_coins([coin.clone()])).await;
    net.sim().set_an(at, coin.id(), Some([0xee; 16]));
    let mut tickets = [0u32; 25];
    for r in (0..25u8).filter(|r| *r != at).take(others) {
        let resp = send(
            net.addresses()[usize::from(r)],
            &Req::new(r, 2, 40, c21(1, 5, &coin.ans[usize::from(r)])).bytes(),
        )
        .await;
        assert_eq!((resp.status(), resp.size()), (241, 6), "a ticket from RAIDA {r}");
        tickets[usize::from(r)] = u32::from_be_bytes(resp.body().try_into().expect("4"));
    }
    let mut payload = vec![1u8, 0, 0, 0, 5];
    payload.extend(hex("000102030405060708090a0b0c0d0e0f"));
    payload.extend(tickets.iter().flat_map(|t| t.to_be_bytes()));
    let resp = send(net.addresses()[usize::from(at)], &Req::new(at, 2, 80, payload).bytes()).await;
    (resp.status(), net)
}

#[tokio::test]
async fn fix_needs_13_tickets_of_other_raida_and_follows_the_an_rule() {
    // The sheet's two fix-rule vectors: DN 1, SN 5, PG 00..0f at RAIDA 0 and at RAIDA 13.
    for (at, an) in
        [(0, "4296c41a384960381715a4bd1491597d"), (13, "2666ed844c7ee3cd0abdbd2aeef51bd2")]
    {
        let (status, net) = fix_with_tickets(at, 12).await;
        assert_eq!(status, 242, "own vote + 12 tickets is not enough at {at}");
        assert_eq!(net.sim().an(at, id(1, 5)), Some([0xee; 16]));

        let (status, net) = fix_with_tickets(at, 13).await;
        assert_eq!(status, 241, "own vote + 13 tickets fixes at {at}");
        assert_eq!(net.sim().an(at, id(1, 5)), Some(hex16(an)));
    }
}

const KEY_AN: &str = "87d76f0a20024ba1ebd077ddf979f682";

async fn type1_network(mode: CounterMode) -> Network {
    let mut key = public_seed_coin(1, 7);
    key.ans[0] = hex16(KEY_AN);
    let mut wrong = public_seed_coin(1, 6);
    wrong.ans[0] = [0x5a; 16];
    start(
        SimConfig::default()
            .with_coins([public_seed_coin(1, 5), wrong, key])
            .with_counter_mode(0, mode),
    )
    .await
}

fn type1_request() -> Vec<u8> {
    let mut raw = hex("01000000010a00060000000000000000010100000007003c0001020304050607");
    raw.extend(hex(
        "40f11ee678c5f2a9bff92f2c588f293e8e18a6e8dc554ee6ecac2ee524178c7b9105561efb0522d753142fc8f23748b9301040a36d72b3a3d29b3e3e",
    ));
    raw
}

#[tokio::test]
async fn type1_detect_with_the_counter_continued() {
    let net = type1_network(CounterMode::Continue).await;
    let resp = send(net.addresses()[0], &type1_request()).await;
    assert_eq!((resp.status(), resp.size()), (243, 3));
    assert_eq!(resp.bytes_16_31(), hex("96c67e1b31135ab0fac166cc2124050d"));
    assert_eq!(resp.raw[32..], [0x9e, 0x3e, 0x3e]);
    // The log holds the decrypted records; the raw bytes do not carry the AN in clear.
    let log = net.sim().log(0);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].key_coin, Some((1, 7)));
    assert_eq!(log[0].coins[0].an, Some(public_seed_an(1, 5)));
    assert!(!log[0].raw.windows(16).any(|w| w == public_seed_an(1, 5)));
}

#[tokio::test]
async fn type1_detect_with_the_counter_restarted() {
    let net = type1_network(CounterMode::Restart).await;
    let resp = send(net.addresses()[0], &type1_request()).await;
    assert_eq!(resp.status(), 243);
    // `9e` decrypts to `cf` from counter 0, so keystream byte 0 is 9e ^ cf; 01 encrypts to 01 ^ it.
    assert_eq!(resp.raw[32..], [0x01 ^ 0x9e ^ 0xcf, 0x3e, 0x3e]);
}
