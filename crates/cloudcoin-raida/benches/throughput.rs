//! Detect and pown of 10,000 coins against the simulator with a 20 ms round trip on every
//! RAIDA, against the floor of that network measured in the same run.
//!
//! The floor: a RAIDA takes at most 3,119 detect or 1,770 pown records a request, so a batch
//! needs `k` requests to each RAIDA; with `c` of them open at once (the client's
//! `requests_per_raida`), the fewest sequential round trips are ⌈k / c⌉. The floor is that
//! count times one round trip, measured as the time of an echo to all 25 in this run (the
//! simulated latency, the connection and the scheduling the batch pays too), and shown beside
//! the bare latency.
//!
//! `cargo bench -p cloudcoin-raida --bench throughput` (optionally `-- ROUNDS`, default 5).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]

use std::time::{Duration, Instant};

use cloudcoin_domain::{Coin, RAIDA_COUNT};
use cloudcoin_raida::{
    AddressList, BODY_OVERHEAD, Client, Command, Config, Grade, MAX_BODY_LEN, RaidaId, Request,
    random_key,
};
use cloudcoin_raida_sim::{Network, SimConfig, generate_coins};

const COINS: u32 = 10_000;
const LATENCY: Duration = Duration::from_millis(20);

/// The process's CPU time so far (user + system), from `/proc/self/stat` where there is one.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every architecture it runs on here.
    Some(Duration::from_millis(ticks * 10))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn client(net: &Network, requests_per_raida: usize) -> Client {
    let addrs: [std::net::SocketAddr; RAIDA_COUNT] =
        net.addresses().try_into().expect("25 addresses");
    let mut config = Config::new(AddressList::from_socket_addrs(addrs));
    config.requests_per_raida = requests_per_raida;
    Client::new(config).expect("valid settings")
}

fn with_pans(coins: &[Coin]) -> Vec<Coin> {
    coins.iter().map(|c| c.clone().with_pans(std::array::from_fn(|_| random_key()))).collect()
}

fn after_pown(coins: &[Coin]) -> Vec<Coin> {
    coins
        .iter()
        .map(|c| {
            let mut next = c.clone().without_pans();
            next.ans = *c.pans().expect("PANs");
            next
        })
        .collect()
}

async fn run(rounds: usize, requests_per_raida: usize, latency: Duration) {
    let coins = generate_coins(1, 1, COINS);
    let net = Network::start(
        SimConfig::default().with_coins(coins.clone()).with_latency(latency).with_log(false),
    )
    .await
    .expect("the simulator starts");
    let client = client(&net, requests_per_raida);
    let per_request = |record: usize| (MAX_BODY_LEN - BODY_OVERHEAD) / record;
    let trips = |record: usize| {
        let k = (COINS as usize).div_ceil(per_request(record));
        (k, k.div_ceil(requests_per_raida))
    };

    let mut echo = Vec::new();
    for _ in 0..rounds.max(5) {
        let start = Instant::now();
        let answers = client.echo().await;
        echo.push(start.elapsed());
        assert_eq!(answers.said_count(), RAIDA_COUNT);
    }
    let echo = median(echo);

    let mut detect = Vec::new();
    let cpu_before = cpu_time();
    for _ in 0..rounds {
        let start = Instant::now();
        let answers = client.detect(&coins).await.expect("sent");
        detect.push(start.elapsed());
        assert!(answers.grades().all(|(_, g)| g == Grade::Bank));
    }
    let detect_cpu =
        cpu_before.zip(cpu_time()).map(|(a, b)| (b - a) / u32::try_from(rounds).expect("few"));
    let detect = median(detect);

    let mut pown = Vec::new();
    let mut current = coins;
    let mut pown_cpu = Some(Duration::ZERO);
    for _ in 0..rounds {
        let pending = with_pans(&current);
        let cpu_before = cpu_time();
        let start = Instant::now();
        let answers = client.pown(&pending).await.expect("sent");
        pown.push(start.elapsed());
        pown_cpu = pown_cpu.zip(cpu_before.zip(cpu_time())).map(|(sum, (a, b))| sum + (b - a));
        assert!(answers.grades().all(|(_, g)| g == Grade::Bank));
        current = after_pown(&pending);
    }
    let pown_cpu = pown_cpu.map(|d| d / u32::try_from(rounds).expect("few"));
    let pown = median(pown);

    println!(
        "latency {}, requests open per RAIDA: {requests_per_raida}; one echo to all 25: {}",
        ms(latency),
        ms(echo)
    );
    for (name, record, took, cpu) in
        [("detect", 21, detect, detect_cpu), ("pown", 37, pown, pown_cpu)]
    {
        let (k, sequential) = trips(record);
        let floor = echo * u32::try_from(sequential).expect("few");
        let bare = latency * u32::try_from(sequential).expect("few");
        println!(
            "  {name} {COINS}: {} (median of {rounds}); {k} requests a RAIDA, {sequential} sequential round trip(s); \
             floor {} ({:.2}x), bare latency floor {} ({:.2}x)",
            ms(took),
            ms(floor),
            took.as_secs_f64() / floor.as_secs_f64(),
            ms(bare),
            took.as_secs_f64() / bare.as_secs_f64(),
        );
        if let Some(cpu) = cpu {
            println!("    CPU time of the process (client and simulator) per call: {}", ms(cpu));
        }
    }
    net.shutdown();
}

/// The simulator's own work for the same batches, in process and one request after another:
/// the CPU time the server side needs, which no client can hide.
fn simulator_cpu(rounds: usize) {
    let coins = generate_coins(1, 1, COINS);
    let net_config = SimConfig::default().with_coins(coins.clone()).with_log(false);
    let sim = cloudcoin_raida_sim::Simulator::new(net_config);
    for (name, command, record) in [("detect", Command::Detect, 21), ("find", Command::Find, 37)] {
        let per_request = (MAX_BODY_LEN - BODY_OVERHEAD) / record;
        let requests = (COINS as usize).div_ceil(per_request);
        let size = (COINS as usize).div_ceil(requests);
        let mut frames = Vec::new();
        for r in RaidaId::all() {
            for chunk in coins.chunks(size) {
                let mut payload = Vec::with_capacity(chunk.len() * record);
                for c in chunk {
                    payload.push(c.denomination.code().to_be_bytes()[0]);
                    payload.extend_from_slice(&c.serial.get().to_be_bytes());
                    payload.extend_from_slice(&c.ans[r.index()]);
                    if record == 37 {
                        payload.extend_from_slice(&[0; 16]);
                    }
                }
                let request = Request::new(r, command, payload);
                frames.push((r.get(), request.encode().expect("within the limit")));
            }
        }
        let mut took = Vec::new();
        for _ in 0..rounds {
            let start = Instant::now();
            for (r, bytes) in &frames {
                let reply = sim.answer(*r, bytes);
                assert!(reply.len() >= 32);
            }
            took.push(start.elapsed());
        }
        println!(
            "simulator alone, {name} {COINS} on all 25 ({} requests, one after another): {}",
            frames.len(),
            ms(median(took))
        );
    }
}

fn main() {
    let rounds = std::env::args().skip(1).find_map(|a| a.parse::<usize>().ok()).unwrap_or(5);
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(async {
        // The client's default (8 requests open per RAIDA), then one at a time for comparison.
        run(rounds, 8, LATENCY).await;
        run(rounds, 1, LATENCY).await;
        // Without latency: what the batch costs in CPU alone, client and simulator together.
        run(rounds, 8, Duration::ZERO).await;
    });
    simulator_cpu(rounds);
}
