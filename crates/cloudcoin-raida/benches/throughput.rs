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
//! Each round samples the floor (an echo) right before each call, so a round's ratio compares
//! two things timed under the same load; the medians of the rounds are printed, with the
//! machine's load average, since on a shared machine the wall times follow the load.
//!
//! `cargo bench -p cloudcoin-raida --bench throughput` (optionally `-- ROUNDS`, default 9).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]

use std::time::{Duration, Instant};

use cloudcoin_domain::{Coin, RAIDA_COUNT};
use cloudcoin_raida::{
    AddressList, BODY_OVERHEAD, Client, Command, Config, Grade, MAX_BODY_LEN, RaidaId, Request,
    random_pans,
};
use cloudcoin_raida_sim::measure::{cpu_time, load, median, ms};
use cloudcoin_raida_sim::{Network, SimConfig, generate_coins};

const COINS: u32 = 10_000;
const LATENCY: Duration = Duration::from_millis(20);

fn client(net: &Network, requests_per_raida: usize) -> Client {
    let addrs: [std::net::SocketAddr; RAIDA_COUNT] =
        net.addresses().try_into().expect("25 addresses");
    let mut config = Config::new(AddressList::from_socket_addrs(addrs));
    config.requests_per_raida = requests_per_raida;
    Client::new(config).expect("valid settings")
}

fn with_pans(coins: &[Coin]) -> Vec<Coin> {
    coins.iter().zip(random_pans(coins.len())).map(|(c, pans)| c.clone().with_pans(pans)).collect()
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

/// One command's rounds: its wall times, the floor sampled beside each, and the CPU time.
#[derive(Default)]
struct Series {
    took: Vec<Duration>,
    floor: Vec<Duration>,
    cpu: Option<Duration>,
}

impl Series {
    fn add(&mut self, took: Duration, floor: Duration, cpu: Option<Duration>) {
        self.took.push(took);
        self.floor.push(floor);
        self.cpu = match (self.took.len(), self.cpu, cpu) {
            (1, _, cpu) => cpu,
            (_, Some(sum), Some(cpu)) => Some(sum + cpu),
            _ => None,
        };
    }

    /// Median wall time, median floor, and the median of the rounds' own ratios.
    fn summary(&self) -> (Duration, Duration, f64) {
        let ratios: Vec<Duration> = self
            .took
            .iter()
            .zip(&self.floor)
            .map(|(t, f)| Duration::from_secs_f64(t.as_secs_f64() / f.as_secs_f64()))
            .collect();
        (median(self.took.clone()), median(self.floor.clone()), median(ratios).as_secs_f64())
    }
}

/// One echo to all 25: one round trip with its connection, as the batch pays it.
async fn echo(client: &Client) -> Duration {
    let start = Instant::now();
    let answers = client.echo().await;
    let took = start.elapsed();
    assert_eq!(answers.said_count(), RAIDA_COUNT);
    took
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
    let sequential = |record: usize| u32::try_from(trips(record).1).expect("few");
    let load_before = load();

    // A round not counted: the first connections and the simulator's threads.
    client.detect(&coins).await.expect("sent");
    let mut current = coins.clone();
    let (mut detect, mut pown, mut echoes) = (Series::default(), Series::default(), Vec::new());
    for _ in 0..rounds {
        // The floor is sampled right before each call, so both see the same load.
        let floor = echo(&client).await;
        echoes.push(floor);
        let cpu_before = cpu_time();
        let start = Instant::now();
        let answers = client.detect(&current).await.expect("sent");
        let took = start.elapsed();
        let cpu = cpu_before.zip(cpu_time()).map(|(a, b)| b - a);
        assert!(answers.grades().all(|(_, g)| g == Grade::Bank));
        detect.add(took, floor * sequential(21), cpu);

        let pending = with_pans(&current);
        let floor = echo(&client).await;
        echoes.push(floor);
        let cpu_before = cpu_time();
        let start = Instant::now();
        let answers = client.pown(&pending).await.expect("sent");
        let took = start.elapsed();
        let cpu = cpu_before.zip(cpu_time()).map(|(a, b)| b - a);
        assert!(answers.grades().all(|(_, g)| g == Grade::Bank));
        pown.add(took, floor * sequential(37), cpu);
        current = after_pown(&pending);
    }

    println!(
        "latency {}, requests open per RAIDA: {requests_per_raida}; one echo to all 25: {} \
         (median of {}); load average {load_before} before, {} after",
        ms(latency),
        ms(median(echoes)),
        2 * rounds,
        load(),
    );
    for (name, record, series) in [("detect", 21, &detect), ("pown", 37, &pown)] {
        let (k, sequential) = trips(record);
        let (took, floor, ratio) = series.summary();
        let bare = latency * u32::try_from(sequential).expect("few");
        println!(
            "  {name} {COINS}: {} (median of {rounds}); {k} requests a RAIDA, {sequential} sequential round trip(s); \
             floor {} ({:.2}x; median of the rounds' ratios {ratio:.2}x), bare latency floor {} ({:.2}x)",
            ms(took),
            ms(floor),
            took.as_secs_f64() / floor.as_secs_f64(),
            ms(bare),
            took.as_secs_f64() / bare.as_secs_f64(),
        );
        if let Some(cpu) = series.cpu {
            let per_call = cpu / u32::try_from(rounds).expect("few");
            println!(
                "    CPU time of the process (client and simulator) per call: {}",
                ms(per_call)
            );
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
            "simulator alone, {name} {COINS} on all 25 ({} requests, one after another): {} \
             (load average {})",
            frames.len(),
            ms(median(took)),
            load()
        );
    }
}

fn main() {
    let rounds = std::env::args().skip(1).find_map(|a| a.parse::<usize>().ok()).unwrap_or(9);
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
