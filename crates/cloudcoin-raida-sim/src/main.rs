//! `cloudcoin-raida-sim`: runs 25 simulated RAIDA beside a wallet server until Ctrl-C.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use cloudcoin_raida_sim::{
    CounterMode, FixBetweenServers, MakeChange, Network, Reservation, SimConfig, generate_coins,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Counter {
    Continue,
    Restart,
}

/// Runs a simulated RAIDA network (25 servers on loopback) and writes its address list.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Coin files (format 9 bin, stack JSON, PNG, zip) whose coins the RAIDA hold.
    coins: Vec<PathBuf>,
    /// Also hold this many generated coins (denomination code --generate-dn, SNs from 1).
    #[arg(long, default_value_t = 0)]
    generate: u32,
    /// Denomination code of the generated coins.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    generate_dn: i8,
    /// Also write the generated coins into this file (format 9), for a wallet to import.
    #[arg(long)]
    write_generated: Option<PathBuf>,
    /// Where to write the address list (`host:port` a line, line = RAIDA id).
    #[arg(long, default_value = "raida-addresses.txt")]
    address_list: PathBuf,
    /// The first port; RAIDA i listens on first-port + i (0: ports chosen by the system).
    #[arg(long, default_value_t = 0)]
    first_port: u16,
    /// Coin id the RAIDA expect in request bytes 6–7.
    #[arg(long, default_value_t = 6)]
    coin_id: u16,
    /// Type-1 response counter of every RAIDA.
    #[arg(long, value_enum, default_value_t = Counter::Continue)]
    counter: Counter,
    /// Answer 6 to make change (9/90), as the published server.
    #[arg(long)]
    no_make_change: bool,
    /// Change SNs (9/91) reserves pages, so break and join can succeed.
    #[arg(long)]
    reserve_pages: bool,
    /// Fix never works between servers (always 242), as the published server build.
    #[arg(long)]
    fix_never: bool,
    /// Delay before every reply, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

fn read_coins(paths: &[PathBuf]) -> Result<Vec<cloudcoin_domain::Coin>> {
    let mut coins = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let limits = cloudcoin_codec::Limits::default();
        let found = cloudcoin_codec::decode_any(&bytes, &limits)
            .with_context(|| format!("{} is not a coin file", path.display()))?;
        coins.extend(found);
    }
    Ok(coins)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let paths = args.coins.clone();
    let mut coins = tokio::task::spawn_blocking(move || read_coins(&paths)).await??;
    let generated = generate_coins(args.generate_dn, 1, args.generate);
    if let Some(path) = args.write_generated.clone() {
        let bytes = cloudcoin_codec::encode_bin(&generated).context("encoding the coins")?;
        let shown = path.display().to_string();
        tokio::task::spawn_blocking(move || std::fs::write(path, bytes))
            .await?
            .with_context(|| format!("writing the generated coins to {shown}"))?;
    }
    coins.extend(generated);
    let ports: [u16; 25] = core::array::from_fn(|i| {
        if args.first_port == 0 { 0 } else { args.first_port.saturating_add(i as u16) }
    });
    let config = SimConfig::default()
        .with_coins(coins)
        .with_ports(ports)
        .with_coin_id(args.coin_id)
        .with_counter_modes(match args.counter {
            Counter::Continue => CounterMode::Continue,
            Counter::Restart => CounterMode::Restart,
        })
        .with_make_change(if args.no_make_change { MakeChange::Off } else { MakeChange::On })
        .with_reservation(if args.reserve_pages {
            Reservation::Reserve
        } else {
            Reservation::Published
        })
        .with_fix(if args.fix_never {
            FixBetweenServers::Never
        } else {
            FixBetweenServers::Working
        })
        .with_latency(Duration::from_millis(args.latency_ms))
        .with_log(false);
    let count = config.coin_count();
    let net = Network::start(config).await.context("starting the 25 RAIDA")?;
    let list = net.address_list();
    let path = args.address_list.clone();
    let written = path.clone();
    tokio::task::spawn_blocking(move || std::fs::write(&written, list))
        .await?
        .with_context(|| format!("writing the address list {}", path.display()))?;
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "25 RAIDA holding {count} coins; address list in {}; Ctrl-C stops them",
            path.display()
        );
    }
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    net.shutdown_and_wait().await;
    Ok(())
}
