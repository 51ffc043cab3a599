//! Claim (an import with the RAIDA network on) of 10,000 coins against the simulator with a
//! 20 ms round trip on every RAIDA, against the same import offline plus the network's floor,
//! all measured in the same run.
//!
//! The goal: claim ≤ offline import + 1.5 × floor. The floor is the fewest sequential round
//! trips the claim's pown needs (a RAIDA takes at most 1,770 pown records a request, and the
//! client keeps 8 requests open to each: ⌈⌈n / 1,770⌉ / 8⌉, 1 for 10,000 coins) times one
//! round trip, measured as an echo to all 25 right before each claim.
//!
//! Each round imports a fresh set of coins twice through the real `Service`, each into an
//! empty data directory: once offline (a service without a network: the coins go to Bank with
//! the keys they came with) and once with the network (25 fresh PANs a coin from one seed, the
//! batch's record — the seed and every coin's ANs — written durably and each coin's Bank file
//! written unnamed while the import looks for the coins in the other wallets, then the pown,
//! then each coin stored once in its grade's folder with its new keys). The
//! order of the two alternates between rounds, and the medians are printed beside the
//! machine's load average. The simulator runs on a runtime of its own, as the RAIDA would on
//! machines of their own.
//!
//! `cargo bench -p cloudcoin-tasks --bench claim` (optionally `-- COINS ROUNDS [FOLDER]`,
//! default 10000 5 and the system's temporary folder; a folder on a tmpfs such as `/dev/shm`
//! takes the disk out and leaves the software's own work). On a shared machine the disk's
//! fsyncs and inode allocations follow what others write and remove: compare the figures of
//! one run. Each round also gives the CPU time the process spent on each import (the
//! simulator's included, as it runs in the process): unlike the wall times it hardly moves
//! with the machine's load, and the claim's extra CPU time is what a loaded machine turns into
//! wall time.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloudcoin_domain::{Coin, RAIDA_COUNT, WalletName};
use cloudcoin_raida::{AddressList, BODY_OVERHEAD, Client, Config, MAX_BODY_LEN};
use cloudcoin_raida_sim::measure::{cpu_time, load, median, ms};
use cloudcoin_raida_sim::{Network, SimConfig, generate_coins};
use cloudcoin_tasks::{ImportItem, ImportRequest, Service, ServiceConfig, TaskOutcome};

const LATENCY: Duration = Duration::from_millis(20);

/// Imports the coin file `file` into the Default wallet of a new service on `data`; returns
/// the time from asking to the task's end, the process's CPU time meanwhile, and the outcome.
async fn import(config: ServiceConfig, file: &Path) -> (Duration, Option<Duration>, TaskOutcome) {
    let service = tokio::task::spawn_blocking(move || Service::open(config))
        .await
        .expect("the open does not panic")
        .expect("the service opens");
    let wallet = WalletName::parse("Default").expect("a valid name");
    let request = ImportRequest::new(wallet, vec![ImportItem::File(file.to_path_buf())]);
    let (start, cpu) = (Instant::now(), cpu_time());
    let task = service.start_import(request).await.expect("the import is accepted");
    let view = service.wait(task.id).await.expect("the task is known");
    let took = start.elapsed();
    let cpu = cpu.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
    service.shutdown().await;
    (took, cpu, view.outcome.expect("a finished task has an outcome"))
}

fn check(outcome: &TaskOutcome, coins: usize, claimed: bool) {
    let TaskOutcome::Import(result) = outcome else { panic!("the import failed: {outcome:?}") };
    assert_eq!(result.imported, coins as u64, "{result:?}");
    assert_eq!(result.claim.claimed, claimed, "{result:?}");
    if claimed {
        assert_eq!(result.claim.bank.coins, coins as u64, "every coin claimed: {result:?}");
    }
}

fn write_coins(dir: &Path, name: &str, coins: &[Coin]) -> PathBuf {
    let path = dir.join(name);
    let bytes = cloudcoin_codec::encode_bin(coins).expect("the coins encode");
    std::fs::write(&path, bytes).expect("the coin file is written");
    path
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let mut numbers = args.iter().filter_map(|a| a.parse::<u32>().ok());
    let coins = numbers.next().unwrap_or(10_000);
    let rounds = usize::try_from(numbers.next().unwrap_or(5)).expect("few rounds").max(1);
    let folder = args.iter().find(|a| a.parse::<u32>().is_err()).map(PathBuf::from);
    let count = usize::try_from(coins).expect("fits");
    let sets: Vec<Vec<Coin>> = (0..rounds)
        .map(|r| generate_coins(1, 1 + coins * u32::try_from(r).expect("few"), coins))
        .collect();

    let sim_runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let config = SimConfig::default()
        .with_coins(sets.iter().flatten().cloned().collect::<Vec<_>>())
        .with_latency(LATENCY)
        .with_log(false);
    let net = sim_runtime.block_on(Network::start(config)).expect("the simulator starts");
    let addrs: [std::net::SocketAddr; RAIDA_COUNT] =
        net.addresses().try_into().expect("25 addresses");
    let network = Config::new(AddressList::from_socket_addrs(addrs));
    let per_request = (MAX_BODY_LEN - BODY_OVERHEAD) / 37;
    let trips = count.div_ceil(per_request).div_ceil(network.requests_per_raida);
    let trips = u32::try_from(trips).expect("few");

    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let work = match &folder {
        Some(folder) => tempfile::tempdir_in(folder),
        None => tempfile::tempdir(),
    }
    .expect("a temporary folder");
    println!("measuring in {}", work.path().display());
    let (mut offline, mut claim, mut floor, mut margins) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut cpu_extra: Vec<f64> = Vec::new();
    let load_before = load();
    runtime.block_on(async {
        let client = Client::new(network.clone()).expect("valid settings");
        for (round, set) in sets.iter().enumerate() {
            let dir = work.path().join(format!("round-{round}"));
            std::fs::create_dir_all(&dir).expect("a round folder");
            let file = write_coins(&dir, "coins.bin", set);
            let offline_config = ServiceConfig::new(dir.join("offline"));
            let claim_config = ServiceConfig::new(dir.join("claim")).with_network(network.clone());
            let measure_offline = async {
                let (took, cpu, outcome) = import(offline_config.clone(), &file).await;
                check(&outcome, count, false);
                (took, cpu)
            };
            let measure_claim = async {
                let start = Instant::now();
                let echo = client.echo().await;
                let echo_took = start.elapsed();
                assert_eq!(echo.said_count(), RAIDA_COUNT, "every RAIDA answers");
                let (took, cpu, outcome) = import(claim_config.clone(), &file).await;
                check(&outcome, count, true);
                (took, cpu, echo_took * trips)
            };
            let ((off, off_cpu), (on, on_cpu, fl)) = if round % 2 == 0 {
                let off = measure_offline.await;
                (off, measure_claim.await)
            } else {
                let on = measure_claim.await;
                (measure_offline.await, on)
            };
            let cpu = match off_cpu.zip(on_cpu) {
                Some((off_cpu, on_cpu)) => {
                    cpu_extra.push(on_cpu.as_secs_f64() - off_cpu.as_secs_f64());
                    format!("; CPU time offline {}, claim {}", ms(off_cpu), ms(on_cpu))
                }
                None => String::new(),
            };
            println!(
                "  round {round}: offline import {}, claim {}, floor {}: claim − offline = {} = {:.2}x the floor{cpu} (load average {})",
                ms(off),
                ms(on),
                ms(fl),
                ms(on.saturating_sub(off)),
                on.saturating_sub(off).as_secs_f64() / fl.as_secs_f64(),
                load()
            );
            offline.push(off);
            claim.push(on);
            floor.push(fl);
            margins.push(Duration::from_secs_f64(
                on.saturating_sub(off).as_secs_f64() / fl.as_secs_f64(),
            ));
        }
    });
    let (off, on, fl) = (median(offline), median(claim), median(floor));
    let margin = median(margins).as_secs_f64();
    println!(
        "claim of {coins} coins, {} round trip, medians of {rounds} (load average {load_before} before, {} after):",
        ms(LATENCY),
        load()
    );
    println!(
        "  offline import {}; claim {}; network floor {} ({trips} round trip(s) of an echo to all 25)",
        ms(off),
        ms(on),
        ms(fl)
    );
    println!(
        "  claim − offline = {:.2}x the floor (median of the rounds' own: {margin:.2}x); goal ≤ 1.50x: {}",
        on.saturating_sub(off).as_secs_f64() / fl.as_secs_f64(),
        if margin <= 1.5 { "met" } else { "not met" }
    );
    if !cpu_extra.is_empty() {
        cpu_extra.sort_by(f64::total_cmp);
        println!(
            "  the claim's CPU time beyond the offline import's (simulator included): median {:.0} ms",
            cpu_extra[cpu_extra.len() / 2] * 1000.0
        );
    }
    drop(net);
    sim_runtime.shutdown_background();
}
