//! One test per fault of the simulator's plan: what the client reports, and what the RAIDA
//! holds afterwards (acceptance 3). A missing answer is never a fail.

use std::time::Duration;

use cloudcoin_domain::Coin;
use cloudcoin_raida::{
    Answer, Check, CoinAnswers, Found, Grade, NotSent, RaidaSet, Silence, Status,
};
use cloudcoin_raida_sim::{Calls, Command, Fault, FaultRule, Network, SimConfig, generate_coins};

use crate::common::{client, config, network, r, with_pans};

const FAULTY: u8 = 7;

/// Pown of 10 coins with `fault` on RAIDA 7's first pown; `timeout` per request.
async fn pown_with(fault: Fault, timeout: Duration) -> (Network, Vec<Coin>, CoinAnswers<Check>) {
    let coins = with_pans(&generate_coins(1, 1, 10));
    let net = network(SimConfig::default(), &coins).await;
    net.add_fault(FaultRule::new(FAULTY, fault).command(Command::Pown).calls(Calls::Nth(1)));
    let mut settings = config(&net);
    settings.timeout = timeout;
    let answers = client(settings).pown(&coins).await.expect("sent");
    for (id, a) in answers.iter() {
        for rid in cloudcoin_raida::RaidaId::all().filter(|x| x.get() != FAULTY) {
            assert!(a[rid.index()].is_pass(), "{id} at {rid}: {:?}", a[rid.index()]);
        }
    }
    (net, coins, answers)
}

/// What RAIDA 7 said about every coin, all the same.
fn at_faulty(answers: &CoinAnswers<Check>) -> Answer<Check> {
    let first = answers.coin(0).1[usize::from(FAULTY)].clone();
    assert!(answers.iter().all(|(_, a)| a[usize::from(FAULTY)] == first));
    first
}

/// Whether RAIDA 7 holds every coin's PAN (else it must still hold the AN).
fn applied_at_faulty(net: &Network, coins: &[Coin]) -> bool {
    let f = usize::from(FAULTY);
    let pans =
        coins.iter().all(|c| net.sim().an(FAULTY, c.id()) == Some(c.pans().expect("PANs")[f]));
    let ans = coins.iter().all(|c| net.sim().an(FAULTY, c.id()) == Some(c.ans[f]));
    assert!(pans != ans, "each coin holds its PAN or its AN");
    pans
}

fn pown_requests_at(net: &Network, raida: u8) -> usize {
    net.sim().log(raida).iter().filter(|l| l.command == Command::Pown).count()
}

const LONG: Duration = Duration::from_secs(20);
const SHORT: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_dropped_after_apply_is_no_answer_and_the_raida_changed() {
    let (net, coins, answers) = pown_with(Fault::DropReplyAfterApply, LONG).await;
    let answer = at_faulty(&answers);
    assert_eq!(answer, Answer::NoAnswer(Silence::Closed));
    assert!(answer.maybe_applied() && !answer.is_fail());
    assert!(applied_at_faulty(&net, &coins), "the RAIDA holds the PANs");
    assert_eq!(answers.silent_at(0), RaidaSet::EMPTY.with(r(FAULTY)));
    assert!(answers.grades().all(|(_, g)| g == Grade::Bank), "24 passes and no fail");
    assert_eq!(pown_requests_at(&net, FAULTY), 1, "a pown is never resent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_dropped_before_apply_is_no_answer_and_nothing_changed() {
    let (net, coins, answers) = pown_with(Fault::DropBeforeApply, LONG).await;
    assert_eq!(at_faulty(&answers), Answer::NoAnswer(Silence::Closed));
    assert!(!applied_at_faulty(&net, &coins));
    assert_eq!(pown_requests_at(&net, FAULTY), 1, "a pown is never resent");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stall_after_apply_times_out_as_no_answer() {
    let (net, coins, answers) = pown_with(Fault::StallAfterApply, SHORT).await;
    assert_eq!(at_faulty(&answers), Answer::NoAnswer(Silence::Timeout));
    assert!(applied_at_faulty(&net, &coins));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stall_before_apply_times_out_as_no_answer() {
    let (net, coins, answers) = pown_with(Fault::StallBeforeApply, SHORT).await;
    assert_eq!(at_faulty(&answers), Answer::NoAnswer(Silence::Timeout));
    assert!(!applied_at_faulty(&net, &coins));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delay_within_the_timeout_is_an_answer() {
    let (net, coins, answers) = pown_with(Fault::Delay(Duration::from_millis(100)), LONG).await;
    assert_eq!(at_faulty(&answers), Answer::Said(Check::Pass));
    assert!(applied_at_faulty(&net, &coins));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delay_past_the_timeout_is_no_answer_though_applied() {
    let (net, coins, answers) = pown_with(Fault::Delay(Duration::from_secs(3)), SHORT).await;
    assert_eq!(at_faulty(&answers), Answer::NoAnswer(Silence::Timeout));
    assert!(applied_at_faulty(&net, &coins));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forced_transient_status_is_reported_not_resent() {
    for (code, status) in
        [(160, Status::RateLimited), (253, Status::NetworkError), (254, Status::MemoryError)]
    {
        let (net, coins, answers) = pown_with(Fault::ForceStatus(code), LONG).await;
        let answer = at_faulty(&answers);
        assert_eq!(answer, Answer::Status(status));
        assert!(answer.is_transient() && !answer.is_fail() && !answer.maybe_applied());
        assert!(!applied_at_faulty(&net, &coins));
        assert_eq!(pown_requests_at(&net, FAULTY), 1, "the caller decides whether to resend");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forced_error_status_says_nothing_about_the_coins() {
    let (net, coins, answers) = pown_with(Fault::ForceStatus(37), LONG).await;
    assert_eq!(at_faulty(&answers), Answer::Status(Status::BadChallenge));
    assert!(!applied_at_faulty(&net, &coins));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reply_cut_midway_is_no_answer_and_the_raida_changed() {
    let (net, coins, answers) = pown_with(Fault::CutMidReply, LONG).await;
    assert_eq!(at_faulty(&answers), Answer::NoAnswer(Silence::Closed));
    assert!(applied_at_faulty(&net, &coins));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_raida_going_offline_is_no_answer_then_unreachable() {
    let (net, coins, answers) = pown_with(Fault::GoOffline, LONG).await;
    assert_eq!(at_faulty(&answers), Answer::NoAnswer(Silence::Closed), "the request was sent");
    assert!(!applied_at_faulty(&net, &coins));
    assert!(!net.is_online(FAULTY));

    let client = client(config(&net));
    let detect = client.detect(&coins).await.expect("sent");
    assert!(
        detect.iter().all(|(_, a)| a[usize::from(FAULTY)] == Answer::NotSent(NotSent::Unreachable))
    );
    net.set_online(FAULTY).await.expect("the port is still free");
    let detect = client.detect(&coins).await.expect("sent");
    assert!(detect.iter().all(|(_, a)| a[usize::from(FAULTY)].is_pass()), "the old ANs pass there");
}

#[tokio::test(flavor = "multi_thread")]
async fn split_state_13_silent_raida_leave_the_coin_in_limbo_until_find() {
    let coins = with_pans(&generate_coins(1, 1, 5));
    let net = network(SimConfig::default(), &coins).await;
    for raida in 0..13 {
        net.add_fault(FaultRule::new(raida, Fault::DropReplyAfterApply).command(Command::Pown));
    }
    let client = client(config(&net));
    let pown = client.pown(&coins).await.expect("sent");
    for i in 0..coins.len() {
        assert_eq!(pown.silent_at(i).len(), 13);
        assert_eq!(pown.passed_at(i).len(), 12);
    }
    assert!(pown.grades().all(|(_, g)| g == Grade::Limbo), "neither 13 passes nor 13 fails");
    // Every RAIDA applied it: find says PAN on all 25.
    let find = client.find(&coins).await.expect("sent");
    assert!(find.iter().all(|(_, a)| a.iter().all(|x| *x == Answer::Said(Found::Pan))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fault_on_one_of_the_split_requests_touches_only_its_coins() {
    // 2,000 coins: two pown requests per RAIDA; RAIDA 4 applies the first it reads but its
    // answer is lost.
    let coins = with_pans(&generate_coins(0, 1, 2_000));
    let net = network(SimConfig::default(), &coins).await;
    net.add_fault(
        FaultRule::new(4, Fault::DropReplyAfterApply).command(Command::Pown).calls(Calls::Nth(1)),
    );
    let pown = client(config(&net)).pown(&coins).await.expect("sent");
    let silent = pown.iter().filter(|(_, a)| a[4] == Answer::NoAnswer(Silence::Closed)).count();
    let passed = pown.iter().filter(|(_, a)| a[4].is_pass()).count();
    assert_eq!((silent, passed), (1_000, 1_000));
    let applied = coins
        .iter()
        .filter(|c| net.sim().an(4, c.id()) == Some(c.pans().expect("PANs")[4]))
        .count();
    assert_eq!(applied, 2_000, "both requests were applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_request_is_resent_after_no_answer_and_a_pown_is_not() {
    let coins = generate_coins(1, 1, 3);
    let net = network(SimConfig::default(), &coins).await;
    net.add_fault(
        FaultRule::new(5, Fault::DropBeforeApply).command(Command::Detect).calls(Calls::Nth(1)),
    );
    let mut settings = config(&net);
    let detect = client(settings.clone()).detect(&coins).await.expect("sent");
    assert!(detect.iter().all(|(_, a)| a[5].is_pass()), "resent once and answered");
    let detects = net.sim().log(5).iter().filter(|l| l.command == Command::Detect).count();
    assert_eq!(detects, 2);

    net.add_fault(
        FaultRule::new(5, Fault::DropBeforeApply).command(Command::Detect).calls(Calls::Nth(1)),
    );
    settings.read_only_retries = 0;
    let detect = client(settings).detect(&coins).await.expect("sent");
    assert!(detect.iter().all(|(_, a)| a[5] == Answer::NoAnswer(Silence::Closed)));
    assert_eq!(detect.grades().filter(|(_, g)| *g == Grade::Bank).count(), 3);
}
