//! The network campaign: the RAIDA simulator is the oracle.
//!
//! The campaign's own process runs a simulated network of 25 RAIDA on loopback (it survives every
//! kill, so it remembers what was applied) and a recipient that claims exported files with keys
//! of its own. A worker process — the wallet — claims arriving files, heals (`fix`), exports with
//! verification (breaking coins for change where the wallet cannot make the amount), takes its
//! own outputs back and reclaims exports, with a few concurrent clients, and is killed with
//! SIGKILL at a random moment. Each round the simulator drops replies after applying them,
//! applies a command on some RAIDA only (split state) and takes RAIDA offline, at random.
//!
//! After every round the data directory is opened again with the network (recovery and healing
//! run to their end), and the checker asks the simulator, for every coin that was authentic when
//! it reached the wallet:
//!
//! - the wallet holds keys for it (every AN and PAN in `Bank`, `Fracked`, `Limbo` and in a
//!   change record not yet settled) of which 13 or more RAIDA accept one, or it is in an output
//!   file (or on its way in) whose keys 13 or more accept, or the recipient claimed it (13 or
//!   more accept the keys the recipient knows), or it was broken into change and each child
//!   passes the same test;
//! - it is never spendable (in `Bank` or `Fracked`, not held back by an export record) while an
//!   exported file's keys still spend it, or while 13 or more RAIDA hold the recipient's own
//!   keys; it is spendable in one place at most, and two output files never both spend it;
//!
//! and that a coin counterfeit on arrival is never spendable, and that each wallet's balance is
//! exactly its spendable files.
//!
//! ```text
//! cloudcoin-campaign --network [--rounds N] [--clients C] [--seed X] [--dir D]
//! ```
//!
//! Every choice (coins, faults, operations, kill delays) comes from `--seed`; what the wall clock
//! decides (where a kill lands) varies from run to run, as in the store campaign.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudcoin_domain::{
    Amount, Coin, CoinId, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, WalletName,
};
use cloudcoin_raida::{AddressList, Answer, Check};
use cloudcoin_raida_sim::{
    Calls, Command as RaidaCommand, Fault, FaultPlan, FaultRule, LoggedRequest, Network, SimConfig,
    generate_coins,
};
use cloudcoin_tasks::{
    ExportRequest, ImportItem, ImportRequest, Service, ServiceConfig, TaskId, TaskKind,
    TaskOutcome, TaskStatus, TaskView,
};

use crate::{Rng, decode, mkdir, visible_files};

type Key = [u8; 16];

const WALLETS: [&str; 2] = ["Default", "Alice"];
const OUTS: [&str; 2] = ["out0", "out1"];
/// Amounts to export; with coins of 1, 10 and 100 several need change once the small coins run
/// out.
const AMOUNTS: [&str; 10] = ["1", "2", "3", "5", "7", "10", "12", "25", "40", "100"];
/// The wallet folders whose coins the wallet holds (their keys are its own).
const HELD: [&str; 3] = ["Bank", "Fracked", "Limbo"];
/// Of those, the ones in the balance.
const SPENDABLE: [&str; 2] = ["Bank", "Fracked"];
/// The commands a fault hits.
const COMMANDS: [RaidaCommand; 8] = [
    RaidaCommand::Pown,
    RaidaCommand::Find,
    RaidaCommand::Detect,
    RaidaCommand::GetTicket,
    RaidaCommand::Fix,
    RaidaCommand::MakeChange,
    RaidaCommand::Break,
    RaidaCommand::ChangeSns,
];

pub(crate) struct Options {
    rounds: u64,
    clients: u64,
    seed: u64,
    dir: Option<PathBuf>,
}

pub(crate) fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options { rounds: 200, clients: 3, seed: 0, dir: None };
    o.seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number =
            |v: &String| v.parse::<u64>().map_err(|_| format!("{flag}: {v:?} is not a number"));
        match flag.as_str() {
            "--network" => {}
            "--rounds" => o.rounds = number(value()?)?,
            "--clients" => o.clients = number(value()?)?.max(1),
            "--seed" => o.seed = number(value()?)?,
            "--dir" => o.dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?} for --network")),
        }
    }
    Ok(o)
}

/// The campaign's folders under one base folder.
#[derive(Clone)]
struct Place {
    base: PathBuf,
}

impl Place {
    fn data(&self) -> PathBuf {
        self.base.join("data")
    }
    fn list(&self) -> PathBuf {
        self.base.join("raida.txt")
    }
    /// Files sent to the wallet, not yet taken by it.
    fn arrivals(&self) -> PathBuf {
        self.base.join("arrivals")
    }
    /// Files the wallet took and is importing (a killed worker's are finished by the next).
    fn inbox(&self) -> PathBuf {
        self.base.join("inbox")
    }
    fn consumed(&self) -> PathBuf {
        self.base.join("consumed")
    }
    /// Exported files the recipient took.
    fn recipient(&self) -> PathBuf {
        self.base.join("recipient")
    }
    fn out(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }
    fn wallet(&self, wallet: &str) -> PathBuf {
        self.data().join("Wallets").join(wallet)
    }
    fn config(&self, network: cloudcoin_raida::Config) -> ServiceConfig {
        ServiceConfig::new(self.data())
            .with_task_retention(Duration::from_secs(24 * 3600))
            .with_network(network)
    }
}

/// The wallet's RAIDA settings: the simulator's addresses, short timeouts (a stalled RAIDA is
/// not among the faults; an offline one refuses at once).
fn raida_config(list: &str) -> Result<cloudcoin_raida::Config, String> {
    let addresses = AddressList::parse(list).map_err(|e| e.to_string())?;
    let mut config = cloudcoin_raida::Config::new(addresses);
    config.timeout = Duration::from_secs(3);
    config.connect_timeout = Duration::from_secs(1);
    Ok(config)
}

/// A coin's keys per RAIDA: every key some holder knows for it there.
type KeySet = [Vec<Key>; RAIDA_COUNT];

fn empty_keys() -> KeySet {
    std::array::from_fn(|_| Vec::new())
}

fn add_coin_keys(set: &mut KeySet, coin: &Coin) {
    for r in 0..RAIDA_COUNT {
        set[r].push(coin.ans[r]);
        if let Some(pans) = coin.pans() {
            set[r].push(pans[r]);
        }
    }
}

/// The recipient: what it claimed, with every key it made (kept before the pown went out).
#[derive(Default)]
struct Recipient {
    /// Per coin: every key it knows (the files' ANs and its PANs, of every claim of the coin:
    /// two exported files may carry the same coin with the same keys).
    keys: BTreeMap<CoinId, KeySet>,
    /// Per coin: its own PANs, of every claim.
    own: BTreeMap<CoinId, KeySet>,
    /// Per coin: its latest claim (the coin and its PANs), to pay on when clean.
    latest: BTreeMap<CoinId, (Coin, Key25)>,
    /// Coins every RAIDA said passed for: the recipient can pay them on with its PANs.
    clean: BTreeSet<CoinId>,
    claims: u64,
    paid_back: u64,
}

type Key25 = [Key; RAIDA_COUNT];

type Lineage = BTreeMap<CoinId, BTreeSet<BTreeSet<CoinId>>>;

/// What the simulator saw, from its observer.
#[derive(Default)]
struct Seen {
    /// Parent → the children a make change or break named.
    /// Parent → the sets of children its make change or break requests named (one set per
    /// attempt: an attempt no RAIDA applied names children that never existed).
    lineage: Mutex<Lineage>,
    /// Requests the fault plan hit.
    faults: AtomicU64,
}

#[derive(Default)]
struct Figures {
    rounds: u64,
    kills: u64,
    authentic: BTreeSet<CoinId>,
    counterfeit: BTreeSet<CoinId>,
    claims: BTreeSet<String>,
    heals: BTreeSet<String>,
    exports: BTreeSet<String>,
    reclaims: BTreeSet<String>,
    offline: u64,
    rules: u64,
    violations: u64,
    stuck_limbo: usize,
}

pub(crate) fn campaign(o: &Options) -> Result<u64, String> {
    let base = match &o.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("cloudcoin-network-campaign-{}", o.seed)),
    };
    mkdir(&base)?;
    let base = std::fs::canonicalize(&base).map_err(|e| e.to_string())?;
    let place = Place { base: base.clone() };
    if place.data().exists() {
        return Err(format!(
            "{} already holds a data directory; give an empty --dir",
            base.display()
        ));
    }
    for dir in [place.arrivals(), place.inbox(), place.consumed(), place.recipient()] {
        mkdir(&dir)?;
    }
    for out in OUTS {
        mkdir(&place.out(out))?;
    }
    for w in WALLETS {
        mkdir(&place.wallet(w).join("Bank"))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(o.seed);

    // The money: coins of 1, 10 and 100 the network holds; and coins whose files will carry
    // wrong keys (counterfeit on arrival).
    let mut pool: Vec<Coin> = generate_coins(0, 1, 90);
    pool.extend(generate_coins(1, 1_000, 30));
    pool.extend(generate_coins(2, 2_000, 8));
    let fakes = generate_coins(0, 5_000, 24);
    let seen = Arc::new(Seen::default());
    let observer = {
        let seen = seen.clone();
        Arc::new(move |req: &LoggedRequest| {
            if req.fault.is_some() {
                seen.faults.fetch_add(1, Ordering::Relaxed);
            }
            if matches!(req.command, RaidaCommand::MakeChange | RaidaCommand::Break)
                && let Some((parent, children)) = req.coins.split_first()
            {
                let id = |dn: i8, sn: u32| CoinId {
                    denomination: Denomination::from_code(dn),
                    serial: SerialNumber::new(sn),
                };
                let mut lineage = seen.lineage.lock().unwrap_or_else(|p| p.into_inner());
                lineage
                    .entry(id(parent.denomination, parent.serial))
                    .or_default()
                    .insert(children.iter().map(|c| id(c.denomination, c.serial)).collect());
            }
        })
    };
    let config = SimConfig::default()
        .with_coins(pool.iter().cloned().chain(fakes.iter().cloned()))
        .with_observer(observer)
        .with_log(std::env::var_os("CAMPAIGN_TRACE").is_some());
    let net = rt.block_on(Network::start(config)).map_err(|e| format!("simulator: {e}"))?;
    std::fs::write(place.list(), net.address_list()).map_err(|e| e.to_string())?;
    let list = net.address_list();
    let recipient = Arc::new(Mutex::new(Recipient::default()));
    let mut f = Figures::default();
    let started = Instant::now();
    println!(
        "network campaign: seed {}, {} rounds, {} clients, {} coins on the simulated RAIDA, in {}",
        o.seed,
        o.rounds,
        o.clients,
        pool.len() + fakes.len(),
        base.display()
    );
    rng_shuffle(&mut pool, &mut rng);
    let mut fakes = fakes;
    let mut files = 0u64;
    // Every wallet starts with something to claim.
    for w in WALLETS {
        let coins: Vec<Coin> = pool.drain(..8.min(pool.len())).collect();
        arrive(&place, &net, w, &coins, &mut files, &mut f)?;
    }

    for round in 0..o.rounds {
        // New money arrives now and then: fresh coins, counterfeit ones, or the recipient
        // paying on what it claimed.
        if rng.chance(45) && !pool.is_empty() {
            let n = 1 + rng.index(5);
            let coins: Vec<Coin> = pool.drain(..n.min(pool.len())).collect();
            arrive(&place, &net, rng.pick(&WALLETS), &coins, &mut files, &mut f)?;
        }
        if rng.chance(10) && !fakes.is_empty() {
            let mut coins: Vec<Coin> = fakes.drain(..1.min(fakes.len())).collect();
            for c in &mut coins {
                for an in &mut c.ans {
                    an[0] ^= 0x5a;
                }
            }
            if rng.chance(50) && !pool.is_empty() {
                coins.push(pool.remove(0));
            }
            arrive(&place, &net, rng.pick(&WALLETS), &coins, &mut files, &mut f)?;
        }
        if rng.chance(20) {
            pay_back(&place, &net, &recipient, &mut rng, &mut files, &mut f)?;
        }

        // This round's faults.
        let offline = plan_faults(&rt, &net, &mut rng, &mut f);
        let mut child = spawn_worker(&place, rng.next(), o.clients)?;
        let delay = 150 + rng.below(2_500);
        let deadline = Instant::now() + Duration::from_millis(delay);
        let claiming = rt.spawn(recipient_round(
            place.clone(),
            list.clone(),
            recipient.clone(),
            rng.next(),
            deadline,
        ));
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        f.kills += 1;
        let _ = rt.block_on(claiming);

        // The network mends (mostly): healing during the check can settle what the round left.
        net.set_faults(FaultPlan::new());
        let keep = if rng.chance(15) { rng.below(3) as usize } else { 0 };
        for (i, r) in offline.iter().enumerate() {
            if i >= keep {
                bring_online(&rt, &net, *r)?;
            }
        }
        let found = rt.block_on(check(&place, &list, &net, &seen, &recipient, &mut f));
        for v in &found {
            println!("VIOLATION after round {round}: {v}");
        }
        f.violations += found.len() as u64;
        f.rounds += 1;
        for r in 0..RAIDA_COUNT as u8 {
            bring_online(&rt, &net, r)?;
        }
    }

    let secs = started.elapsed().as_secs_f64();
    let (claims, paid) = {
        let r = recipient.lock().unwrap_or_else(|p| p.into_inner());
        (r.claims, r.paid_back)
    };
    let lineage = seen.lineage.lock().unwrap_or_else(|p| p.into_inner()).len();
    println!(
        "network campaign: {} rounds, {} kills, {} authentic coins arrived and {} counterfeit, {} claims, {} heals, {} exports, {} coins sent to make change, {} reclaims completed; the recipient claimed {} files and paid {} coins back; faults: {} requests hit by the plan ({} rules), {} RAIDA taken offline; {} coins left in Limbo at the end; {:.0} s",
        f.rounds,
        f.kills,
        f.authentic.len(),
        f.counterfeit.len(),
        f.claims.len(),
        f.heals.len(),
        f.exports.len(),
        lineage,
        f.reclaims.len(),
        claims,
        paid,
        seen.faults.load(Ordering::Relaxed),
        f.rules,
        f.offline,
        f.stuck_limbo,
        secs
    );
    println!("network campaign: {} violations", f.violations);
    rt.block_on(net.shutdown_and_wait());
    Ok(f.violations)
}

fn rng_shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.index(i + 1));
    }
}

/// Writes `coins` as one file in the arrivals for `wallet`, noting each coin as authentic or
/// counterfeit by what the network holds now.
fn arrive(
    place: &Place,
    net: &Network,
    wallet: &str,
    coins: &[Coin],
    files: &mut u64,
    f: &mut Figures,
) -> Result<(), String> {
    if coins.is_empty() {
        return Ok(());
    }
    for c in coins {
        if net.sim().agreeing(c) >= 13 {
            f.authentic.insert(c.id());
        } else if !f.authentic.contains(&c.id()) {
            f.counterfeit.insert(c.id());
        }
    }
    *files += 1;
    let bytes = cloudcoin_codec::encode_bin(coins).map_err(|e| e.to_string())?;
    let name = format!("{wallet}__arrival-{files}.bin");
    let temp = place.base.join(format!(".{name}"));
    std::fs::write(&temp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&temp, place.arrivals().join(name)).map_err(|e| e.to_string())
}

/// The recipient pays on coins it claimed cleanly: a file with its own keys, to a wallet.
fn pay_back(
    place: &Place,
    net: &Network,
    recipient: &Mutex<Recipient>,
    rng: &mut Rng,
    files: &mut u64,
    f: &mut Figures,
) -> Result<(), String> {
    let coins: Vec<Coin> = {
        let mut r = recipient.lock().unwrap_or_else(|p| p.into_inner());
        let ids: Vec<CoinId> = r.clean.iter().take(1 + rng.index(3)).copied().collect();
        let mut coins = Vec::new();
        for id in ids {
            r.clean.remove(&id);
            r.keys.remove(&id);
            r.own.remove(&id);
            if let Some((coin, pans)) = r.latest.remove(&id) {
                coins.push(Coin::new(
                    coin.denomination,
                    coin.serial,
                    pans,
                    [Pown::Pass; RAIDA_COUNT],
                ));
            }
        }
        r.paid_back += coins.len() as u64;
        coins
    };
    arrive(place, net, rng.pick(&WALLETS), &coins, files, f)
}

/// Picks this round's faults; returns the RAIDA taken offline.
fn plan_faults(
    rt: &tokio::runtime::Runtime,
    net: &Network,
    rng: &mut Rng,
    f: &mut Figures,
) -> Vec<u8> {
    let mut plan = FaultPlan::new();
    let mut add = |plan: &mut FaultPlan, rule: FaultRule| {
        plan.add(rule);
        f.rules += 1;
    };
    // Replies dropped after the RAIDA applied the request: on a few RAIDA, or on 13.
    if rng.chance(50) {
        let command = rng.pick(&COMMANDS);
        let many = if rng.chance(30) { 13 } else { 1 + rng.index(5) };
        let first = 1 + rng.below(3);
        let calls = if rng.chance(50) { Calls::Nth(first) } else { Calls::From(first) };
        for r in pick_raida(rng, many) {
            add(
                &mut plan,
                FaultRule::new(r, Fault::DropReplyAfterApply).command(command).calls(calls),
            );
        }
    }
    // Split state: a state-changing command applied on some RAIDA only, unanswered elsewhere.
    if rng.chance(35) {
        let command = rng.pick(&[RaidaCommand::Pown, RaidaCommand::MakeChange, RaidaCommand::Fix]);
        let many = 6 + rng.index(8);
        let calls = Calls::Nth(1 + rng.below(3));
        for r in pick_raida(rng, many) {
            add(&mut plan, FaultRule::new(r, Fault::DropBeforeApply).command(command).calls(calls));
        }
    }
    // A RAIDA going offline in the middle of the round, on its n-th request.
    if rng.chance(20) {
        let many = 1 + rng.index(3);
        for r in pick_raida(rng, many) {
            let calls = Calls::Nth(1 + rng.below(6));
            add(&mut plan, FaultRule::new(r, Fault::GoOffline).calls(calls));
        }
    }
    net.set_faults(plan);
    // RAIDA offline for the whole round: a few, or too many to agree.
    let count = match rng.below(100) {
        0..55 => 0,
        55..85 => 1 + rng.index(3),
        85..95 => 4 + rng.index(5),
        _ => 13,
    };
    let offline = pick_raida(rng, count);
    for r in &offline {
        rt.block_on(net.set_offline(*r));
        f.offline += 1;
    }
    offline
}

/// `n` distinct RAIDA ids, at random.
fn pick_raida(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut all: Vec<u8> = (0..RAIDA_COUNT as u8).collect();
    rng_shuffle(&mut all, rng);
    all.truncate(n.min(RAIDA_COUNT));
    all
}

fn bring_online(rt: &tokio::runtime::Runtime, net: &Network, r: u8) -> Result<(), String> {
    if net.is_online(r) {
        return Ok(());
    }
    rt.block_on(net.set_online(r)).map_err(|e| format!("RAIDA {r} cannot come back: {e}"))
}

/// The recipient, while the worker runs: now and then takes an exported file and claims its
/// coins with keys of its own, written down (here, in memory: this process is not killed)
/// before the pown goes out.
async fn recipient_round(
    place: Place,
    list: String,
    recipient: Arc<Mutex<Recipient>>,
    seed: u64,
    deadline: Instant,
) {
    let mut rng = Rng::new(seed);
    let Ok(config) = raida_config(&list) else { return };
    let Ok(client) = cloudcoin_raida::Client::new(config) else { return };
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50 + rng.below(600))).await;
        if !rng.chance(35) {
            continue;
        }
        let out = rng.pick(&OUTS);
        let files = tokio::task::spawn_blocking({
            let dir = place.out(out);
            move || visible_files(&dir)
        })
        .await
        .unwrap_or_default();
        if files.is_empty() {
            continue;
        }
        let file = files[rng.index(files.len())].clone();
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let taken = place.recipient().join(format!("{}-{name}", rng.next()));
        // The recipient takes the file; the wallet's own clients may have been first.
        if std::fs::rename(&file, &taken).is_err() {
            continue;
        }
        let Some(coins) = decode(&taken) else { continue };
        let claimed: Vec<Coin> = coins
            .iter()
            .map(|c| {
                let pans: Key25 = std::array::from_fn(|_| cloudcoin_raida::random_key());
                c.clone().without_pans().with_pans(pans)
            })
            .collect();
        {
            let mut r = recipient.lock().unwrap_or_else(|p| p.into_inner());
            for c in &claimed {
                let pans = *c.pans().expect("just given");
                add_coin_keys(r.keys.entry(c.id()).or_insert_with(empty_keys), c);
                let own = r.own.entry(c.id()).or_insert_with(empty_keys);
                for (at, pan) in own.iter_mut().zip(pans) {
                    at.push(pan);
                }
                r.latest.insert(c.id(), (c.clone().without_pans(), pans));
                r.clean.remove(&c.id());
            }
            r.claims += 1;
        }
        let Ok(answers) = client.pown(&claimed).await else { continue };
        let mut r = recipient.lock().unwrap_or_else(|p| p.into_inner());
        for (id, a) in answers.iter() {
            if a.iter().all(|x| matches!(x, Answer::Said(Check::Pass))) {
                r.clean.insert(id);
            }
        }
    }
}

fn spawn_worker(place: &Place, seed: u64, clients: u64) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    Command::new(exe)
        .arg("net-worker")
        .arg(&place.base)
        .arg(seed.to_string())
        .arg(clients.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start a worker: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The checker.

/// Where a coin is, as the files say.
#[derive(Default)]
struct Places {
    /// The keys the wallet holds for it (held folders and unsettled change records).
    held: KeySet,
    /// Its spendable files (wallet folder paths).
    spendable: Vec<String>,
    /// Exported files holding it, with the keys each carries.
    outputs: Vec<(String, Coin)>,
    /// Files on their way into a wallet (arrivals, inbox), with their keys.
    incoming: Vec<Coin>,
    /// Whether a wallet holds it in `Limbo`.
    in_limbo: bool,
    /// Its files in the wallets' other folders (`Counterfeit`, `Sent`, `Trash`, …): not held,
    /// named in a violation's report.
    other: Vec<(String, Coin)>,
}

/// Opens the data directory with the network (recovery runs, then healing to its end), then
/// checks every coin against the simulator.
async fn check(
    place: &Place,
    list: &str,
    net: &Network,
    seen: &Seen,
    recipient: &Mutex<Recipient>,
    f: &mut Figures,
) -> Vec<String> {
    let mut v = Vec::new();
    let config = match raida_config(list) {
        Ok(c) => place.config(c),
        Err(e) => return vec![e],
    };
    let service = match tokio::task::spawn_blocking(move || Service::open(config)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return vec![format!("the data directory cannot be opened: {e}")],
        Err(e) => return vec![format!("open panicked: {e}")],
    };
    for t in service.resume_healing().await {
        service.wait(t.id).await;
    }
    // Anything else recovery started.
    for t in service.tasks() {
        if t.status == TaskStatus::Running {
            service.wait(t.id).await;
        }
    }
    for t in service.tasks() {
        count_task(&t, f);
    }
    let mut balances = BTreeMap::new();
    for w in WALLETS {
        let name = WalletName::parse(w).expect("a valid wallet name");
        match service.wallet(&name).await {
            Ok(d) => {
                balances.insert(w, (d.balance, d.coins));
            }
            Err(e) => v.push(format!("wallet {w} cannot be read: {e}")),
        }
    }
    service.shutdown().await;
    drop(service);

    let (places, mut found) = scan(place, &balances);
    v.append(&mut found);
    let lineage = seen.lineage.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let recipient = recipient.lock().unwrap_or_else(|p| p.into_inner());
    let sim = net.sim();
    let accepted = |id: CoinId, keys: &KeySet| {
        (0..RAIDA_COUNT as u8)
            .filter(|&r| sim.an(r, id).is_some_and(|an| keys[usize::from(r)].contains(&an)))
            .count()
    };
    let coin_keys = |c: &Coin| {
        let mut k = empty_keys();
        add_coin_keys(&mut k, c);
        k
    };
    let none = Places::default();
    // Whether a coin's value is still somewhere: its keys (the wallet's, an output's or on its
    // way in, the recipient's), or its children's when it was broken.
    fn alive(id: CoinId, depth: u32, ok: &dyn Fn(CoinId) -> bool, lineage: &Lineage) -> bool {
        ok(id)
            || (depth < 8
                && lineage.get(&id).is_some_and(|attempts| {
                    attempts
                        .iter()
                        .any(|kids| kids.iter().all(|k| alive(*k, depth + 1, ok, lineage)))
                }))
    }
    let ok = |id: CoinId| {
        let p = places.get(&id).unwrap_or(&none);
        accepted(id, &p.held) >= 13
            || p.outputs.iter().any(|(_, c)| accepted(id, &coin_keys(c)) >= 13)
            || p.incoming.iter().any(|c| accepted(id, &coin_keys(c)) >= 13)
            || recipient.keys.get(&id).is_some_and(|k| accepted(id, k) >= 13)
    };
    let mut stuck = 0;
    for id in &f.authentic {
        if !alive(*id, 0, &ok, &lineage) {
            let p = places.get(id).unwrap_or(&none);
            let mut seen: Vec<String> = vec![format!("held keys: {}", accepted(*id, &p.held))];
            for (at, c) in p.outputs.iter().chain(&p.other) {
                seen.push(format!("{at}: {}", accepted(*id, &coin_keys(c))));
            }
            if let (Some(all), Some(own)) = (recipient.keys.get(id), recipient.own.get(id)) {
                seen.push(format!(
                    "the recipient: {} with its PANs, {} with every key it knows",
                    accepted(*id, own),
                    accepted(*id, all)
                ));
            }
            if let Some(attempts) = lineage.get(id) {
                let kids: BTreeSet<CoinId> = attempts.iter().flatten().copied().collect();
                let dead: Vec<String> = kids
                    .iter()
                    .filter(|k| !alive(**k, 1, &ok, &lineage))
                    .map(|k| {
                        let p = places.get(k).unwrap_or(&none);
                        let mut at: Vec<String> = p.other.iter().map(|(a, _)| a.clone()).collect();
                        at.extend(p.outputs.iter().map(|(a, _)| a.clone()));
                        format!("{k} (held keys {}; files {at:?})", accepted(*k, &p.held))
                    })
                    .collect();
                seen.push(format!(
                    "broken for change ({} attempts) into {} children, lost: {}",
                    attempts.len(),
                    kids.len(),
                    dead.join(", ")
                ));
            }
            if std::env::var_os("CAMPAIGN_TRACE").is_some() && v.is_empty() {
                trace(sim, *id, p);
            }
            v.push(format!(
                "coin {id} is lost: no keys the wallet, an output or the recipient holds are accepted by 13 RAIDA (RAIDA accepting each: {})",
                seen.join("; ")
            ));
        }
    }
    for (id, p) in &places {
        if p.spendable.len() > 1 {
            v.push(format!("coin {id} is spendable twice: {:?}", p.spendable));
        }
        let valid_outputs: Vec<&String> = p
            .outputs
            .iter()
            .filter(|(_, c)| accepted(*id, &coin_keys(c)) >= 13)
            .map(|(path, _)| path)
            .collect();
        if valid_outputs.len() > 1 {
            v.push(format!("coin {id} is spent by two output files: {valid_outputs:?}"));
        }
        if !p.spendable.is_empty() {
            if let Some(out) = valid_outputs.first() {
                v.push(format!(
                    "coin {id} is both spendable ({:?}) and exported in {out}, whose keys 13 or more RAIDA accept",
                    p.spendable
                ));
            }
            if let Some(own) = recipient.own.get(id) {
                let theirs = accepted(*id, own);
                if theirs >= 13 {
                    v.push(format!(
                        "coin {id} is spendable ({:?}) while {theirs} RAIDA hold the recipient's own keys",
                        p.spendable
                    ));
                }
            }
            if f.counterfeit.contains(id) {
                v.push(format!(
                    "coin {id}, counterfeit on arrival, is spendable: {:?}",
                    p.spendable
                ));
            }
        }
        if p.in_limbo {
            stuck += 1;
        }
    }
    f.stuck_limbo = stuck;
    v
}

/// Prints what RAIDA 0 saw of a coin, and the coin's keys there in every file (debugging aid,
/// with `CAMPAIGN_TRACE` set).
fn trace(sim: &cloudcoin_raida_sim::Simulator, id: CoinId, p: &Places) {
    let hex = |k: &Key| k[..3].iter().map(|b| format!("{b:02x}")).collect::<String>();
    for r in sim.log(0) {
        for c in &r.coins {
            if c.denomination == id.denomination.code() && c.serial == id.serial.get() {
                println!(
                    "TRACE {id} {:?} an {} pan {} status {:?} applied {} fault {:?}",
                    r.command,
                    c.an.as_ref().map(hex).unwrap_or_default(),
                    c.pan.as_ref().map(hex).unwrap_or_default(),
                    r.status,
                    r.applied,
                    r.fault
                );
            }
        }
    }
    println!("TRACE {id} now at RAIDA 0: {}", sim.an(0, id).as_ref().map(hex).unwrap_or_default());
    for (at, c) in p.outputs.iter().chain(&p.other) {
        println!(
            "TRACE {id} file {at}: an {} pan {}",
            hex(&c.ans[0]),
            c.pans().map(|k| hex(&k[0])).unwrap_or_default()
        );
    }
}

fn count_task(t: &TaskView, f: &mut Figures) {
    if t.status != TaskStatus::Completed {
        return;
    }
    let id = t.id.to_string();
    match (&t.kind, &t.outcome) {
        (TaskKind::Import, Some(TaskOutcome::Import(r))) if r.claim.claimed => {
            f.claims.insert(id);
        }
        (TaskKind::Fix, _) => {
            f.heals.insert(id);
        }
        (TaskKind::Export, _) => {
            f.exports.insert(id);
        }
        (TaskKind::Reclaim, _) => {
            f.reclaims.insert(id);
        }
        _ => {}
    }
}

/// Reads every file: where each coin is, and what breaks the file rules (balances).
fn scan(
    place: &Place,
    balances: &BTreeMap<&str, (Amount, u64)>,
) -> (BTreeMap<CoinId, Places>, Vec<String>) {
    let mut v = Vec::new();
    let mut places: BTreeMap<CoinId, Places> = BTreeMap::new();
    let held_back = held_back(place);
    for w in WALLETS {
        let mut total = (Amount::ZERO, 0u64);
        for folder in HELD {
            for path in visible_files(&place.wallet(w).join(folder)) {
                let Some(coins) = decode(&path) else { continue };
                for c in coins {
                    let p = places.entry(c.id()).or_default();
                    add_coin_keys(&mut p.held, &c);
                    p.in_limbo |= folder == "Limbo";
                    let back = held_back.get(w).is_some_and(|ids| ids.contains(&c.id()));
                    if SPENDABLE.contains(&folder) && !back {
                        p.spendable.push(format!("{w}/{folder}"));
                        total.0 = total
                            .0
                            .checked_add(c.value().unwrap_or_default())
                            .unwrap_or(Amount::MAX);
                        total.1 += 1;
                    }
                }
            }
        }
        for folder in folders(&place.wallet(w)) {
            if HELD.contains(&folder.as_str()) {
                continue;
            }
            for path in visible_files(&place.wallet(w).join(&folder)) {
                for c in decode(&path).unwrap_or_default() {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    let at = format!("{w}/{folder}/{}", name.unwrap_or_default());
                    places.entry(c.id()).or_default().other.push((at, c));
                }
            }
        }
        if let Some((balance, count)) = balances.get(w)
            && (*balance, *count) != total
        {
            v.push(format!(
                "wallet {w}: the service says {balance} in {count} coins, its spendable files hold {} in {}",
                total.0, total.1
            ));
        }
    }
    // Change records not yet settled hold the parent's keys and the children's PANs.
    for path in visible_files(&place.data().join(".cloudcoin/change")) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        let (Some(dn), Some(sn)) = (record["dn"].as_i64(), record["sn"].as_u64()) else { continue };
        let id = |dn: i64, sn: u64| CoinId {
            denomination: Denomination::from_code(dn as i8),
            serial: SerialNumber::new(sn as u32),
        };
        if let Some(ans) = keys_of(&record["parent_ans"]) {
            let p = places.entry(id(dn, sn)).or_default();
            for (r, an) in ans.iter().enumerate() {
                p.held[r].push(*an);
            }
        }
        let serials = record["serials"].as_array().cloned().unwrap_or_default();
        let pans = record["pans"].as_array().cloned().unwrap_or_default();
        for (s, k) in serials.iter().zip(&pans) {
            let (Some(s), Some(keys)) = (s.as_u64(), keys_of(k)) else { continue };
            let p = places.entry(id(dn - 1, s)).or_default();
            for (r, key) in keys.iter().enumerate() {
                p.held[r].push(*key);
            }
        }
    }
    for out in OUTS {
        for path in visible_files(&place.out(out)) {
            for c in decode(&path).unwrap_or_default() {
                places.entry(c.id()).or_default().outputs.push((path.display().to_string(), c));
            }
        }
    }
    // Imported files: named in a violation's report only (the wallet took their coins).
    for path in visible_files(&place.consumed()).iter().chain(&visible_files(&place.recipient())) {
        for c in decode(path).unwrap_or_default() {
            let at = path.strip_prefix(&place.base).unwrap_or(path).display().to_string();
            places.entry(c.id()).or_default().other.push((at, c));
        }
    }
    for dir in [place.arrivals(), place.inbox()] {
        for path in visible_files(&dir) {
            for c in decode(&path).unwrap_or_default() {
                places.entry(c.id()).or_default().incoming.push(c);
            }
        }
    }
    (places, v)
}

/// The sub-folders of a folder.
fn folders(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// 25 keys of 16 bytes from a JSON array of arrays.
fn keys_of(value: &serde_json::Value) -> Option<Key25> {
    let rows = value.as_array()?;
    if rows.len() != RAIDA_COUNT {
        return None;
    }
    let mut keys = [[0u8; 16]; RAIDA_COUNT];
    for (r, row) in rows.iter().enumerate() {
        let bytes = row.as_array()?;
        if bytes.len() != 16 {
            return None;
        }
        for (i, b) in bytes.iter().enumerate() {
            keys[r][i] = u8::try_from(b.as_u64()?).ok()?;
        }
    }
    Some(keys)
}

/// The coins export records left in the journal hold back, per wallet (in their folder, out of
/// the balance).
fn held_back(place: &Place) -> BTreeMap<String, BTreeSet<CoinId>> {
    let mut held: BTreeMap<String, BTreeSet<CoinId>> = BTreeMap::new();
    for path in visible_files(&place.data().join(".cloudcoin/journal")) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        if record["op"] != "export" {
            continue;
        }
        let wallet = record["wallet"].as_str().unwrap_or("").to_owned();
        let ids = held.entry(wallet).or_default();
        for c in record["coins"].as_array().into_iter().flatten() {
            ids.insert(CoinId {
                denomination: Denomination::from_code(c["dn"].as_i64().unwrap_or(0) as i8),
                serial: SerialNumber::new(c["sn"].as_u64().unwrap_or(0) as u32),
            });
        }
    }
    held
}

// ---------------------------------------------------------------------------------------------
// The worker: the wallet, with a few concurrent clients, until it is killed.

pub(crate) fn worker(args: &[String]) -> ExitCode {
    let (Some(base), Some(seed), Some(clients)) = (
        args.first().map(PathBuf::from),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("net-worker: usage: net-worker BASE SEED CLIENTS");
        return ExitCode::from(2);
    };
    let place = Place { base };
    let config = match std::fs::read_to_string(place.list())
        .map_err(|e| e.to_string())
        .and_then(|l| raida_config(&l))
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("net-worker: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("net-worker: {e}");
                return ExitCode::FAILURE;
            }
        };
    rt.block_on(async move {
        let config = place.config(config);
        let service = match tokio::task::spawn_blocking(move || Service::open(config)).await {
            Ok(Ok(s)) => s,
            _ => return,
        };
        // As the server does at start.
        service.resume_healing().await;
        finish_inbox(&service, &place).await;
        let mut handles = Vec::new();
        for c in 0..clients {
            let (service, place) = (service.clone(), place.clone());
            handles.push(tokio::spawn(client(
                service,
                place,
                seed ^ (c + 1).wrapping_mul(0x5851_F42D),
            )));
        }
        for h in handles {
            let _ = h.await;
        }
    });
    ExitCode::SUCCESS
}

async fn wait(service: &Service, id: TaskId) -> Option<TaskView> {
    service.wait(id).await
}

/// Imports what a killed worker left in the inbox.
async fn finish_inbox(service: &Service, place: &Place) {
    for path in visible_files(&place.inbox()) {
        import_file(service, place, &path).await;
    }
}

/// Imports (claims) a file of the inbox into the wallet its name names, then moves it on.
async fn import_file(service: &Service, place: &Place, path: &Path) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let Some(wallet) = name.split("__").next().and_then(|w| WalletName::parse(w).ok()) else {
        return;
    };
    let Some(coins) = decode(path) else { return };
    let req = ImportRequest::new(wallet, vec![ImportItem::File(path.to_path_buf())])
        .with_sent_coins_allowed();
    let Ok(task) = service.start_import(req).await else { return };
    if let Some(TaskView { outcome: Some(TaskOutcome::Import(r)), .. }) =
        wait(service, task.id).await
        && r.imported + r.already_present == coins.len()
    {
        let _ = std::fs::rename(path, place.consumed().join(name));
    }
}

/// The export task ids of `wallet`'s receipts.
fn receipts(place: &Place, wallet: &str) -> Vec<TaskId> {
    visible_files(&place.wallet(wallet).join("Receipts"))
        .iter()
        .filter_map(|p| p.file_stem()?.to_str()?.parse().ok())
        .collect()
}

async fn client(service: Service, place: Place, seed: u64) {
    let mut rng = Rng::new(seed);
    loop {
        let w = rng.pick(&WALLETS);
        let wallet = WalletName::parse(w).expect("a valid wallet name");
        match rng.below(100) {
            // Claim what arrived.
            0..25 => {
                let files = visible_files(&place.arrivals());
                if files.is_empty() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                let file = &files[rng.index(files.len())];
                let Some(name) = file.file_name() else { continue };
                let to = place.inbox().join(name);
                if std::fs::rename(file, &to).is_err() {
                    continue;
                }
                import_file(&service, &place, &to).await;
            }
            // Export, verified, with change where needed.
            25..55 => {
                let amount = Amount::parse_request(rng.pick(&AMOUNTS)).expect("a valid amount");
                let kind = if rng.chance(50) { FileKind::Bin } else { FileKind::Stack };
                let req = ExportRequest::new(wallet, amount, place.out(rng.pick(&OUTS)), kind);
                if let Ok(task) = service.start_export(req).await {
                    wait(&service, task.id).await;
                }
            }
            // Heal.
            55..65 => {
                if let Ok(task) = service.start_fix(&wallet).await {
                    wait(&service, task.id).await;
                }
            }
            // Reclaim an export, or only check it.
            65..85 => {
                let ids = receipts(&place, w);
                if ids.is_empty() {
                    continue;
                }
                let id = ids[rng.index(ids.len())];
                if rng.chance(75) {
                    if let Ok(task) = service.start_reclaim(id).await {
                        wait(&service, task.id).await;
                    }
                } else {
                    let _ = service.check_reclaim(id).await;
                }
            }
            // Take an output back: the wallet's user imports (claims) a file it exported.
            _ => {
                let files = visible_files(&place.out(rng.pick(&OUTS)));
                if files.is_empty() {
                    continue;
                }
                let file = &files[rng.index(files.len())];
                let base =
                    file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let to = place.inbox().join(format!("{w}__{}-{base}", rng.next()));
                if std::fs::rename(file, &to).is_err() {
                    continue;
                }
                import_file(&service, &place, &to).await;
            }
        }
    }
}
