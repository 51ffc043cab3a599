//! A random campaign against the wallet store: rounds of mixed exports, imports and backups by
//! concurrent clients in a worker process that is killed with SIGKILL at a random moment
//! (sometimes while it is still recovering from the previous kill), with output folders
//! unplugged and files taken away between rounds; then a storm of many concurrent clients over
//! several wallets. Three more weapons, with the `fault-injection` feature and as root:
//!
//! - some workers publish named outputs by `link` then `unlink` and move coin files the same way,
//!   as on a file system whose `renameat2` refuses `RENAME_NOREPLACE` (NFS);
//! - one output folder is its own mount (a bind mount of a "stick" folder), lazily detached
//!   (`umount -l`) at a random moment of some rounds and plugged in again after the kill;
//! - a "foreign mover" — another program sharing the wallet — moves coin files between `Bank`,
//!   `Fracked` and `Limbo` while the clients run and while the server is down, and drops copies
//!   of coin files while it is down;
//! - some round workers are aimed at one of the pipelines' named fault points
//!   (`cloudcoin_tasks::FaultPoint::ALL`, or those given by `--fault-points`): they abort, or fail
//!   with an i/o error, exactly there.
//!
//! After every round the data directory is opened again (crash recovery runs) and a checker that
//! reads the files itself verifies that
//!
//! - every coin is in exactly one of {a wallet's held folders, a published output file} (a coin
//!   whose export needs attention may also be in its output, but is not spendable);
//! - `Sent` holds only coins that were exported;
//! - no readable coin file is left under a temporary (hidden) name that no journal record names;
//! - each wallet's balance is exactly its spendable coin files;
//! - a completed export reports a file in an output folder (not the path of a detached mount).
//!
//! ```text
//! cloudcoin-campaign [--rounds N] [--storm-secs S] [--clients C] [--seed X] [--dir D] [--no-mounts]
//!                    [--fault-points export:after_rename,import:mid_store,...]
//! ```
//!
//! Prints its figures and exits non-zero if it found any violation.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool reports on its output"
)]

mod network;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use cloudcoin_domain::{
    Amount, Coin, CoinId, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, Tag, WalletName,
    single_coin_file_name,
};
use cloudcoin_tasks::{
    BackupRequest, ExportRequest, ImportItem, ImportRequest, Service, ServiceConfig, TaskId,
    TaskOutcome, TaskStatus, TaskView,
};

const WALLETS: [&str; 3] = ["Default", "Alice", "Bob"];
const OUTS: [&str; 3] = ["out0", "out1", "out2"];
/// The output folder that is its own mount (where mounting is allowed).
const MOUNTED: &str = "out2";
/// The held folders the foreign mover moves coin files between.
const MOVER_FOLDERS: [&str; 3] = ["Bank", "Fracked", "Limbo"];
const AMOUNTS: [&str; 9] = ["0.1", "1", "1.5", "2", "10", "11.1", "3.3", "20", "0.5"];
const HELD: [&str; 4] = ["Bank", "Fracked", "Limbo", "Suspect"];
const ALL_FOLDERS: [&str; 10] = [
    "Bank",
    "Fracked",
    "Counterfeit",
    "Limbo",
    "Import",
    "Imported",
    "Sent",
    "Suspect",
    "Trash",
    "Receipts",
];

/// A small deterministic generator (xorshift64*), so a run can be repeated from its seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}

struct Options {
    rounds: u64,
    storm_secs: u64,
    clients: u64,
    seed: u64,
    dir: Option<PathBuf>,
    mounts: bool,
    /// The fault points round workers may be aimed at.
    #[cfg(feature = "fault-injection")]
    points: Vec<cloudcoin_tasks::FaultPoint>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        rounds: 200,
        storm_secs: 20,
        clients: 24,
        seed: 0,
        dir: None,
        mounts: true,
        #[cfg(feature = "fault-injection")]
        points: cloudcoin_tasks::FaultPoint::ALL.to_vec(),
    };
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
            "--rounds" => o.rounds = number(value()?)?,
            "--storm-secs" => o.storm_secs = number(value()?)?,
            "--clients" => o.clients = number(value()?)?,
            "--seed" => o.seed = number(value()?)?,
            "--dir" => o.dir = Some(PathBuf::from(value()?)),
            "--no-mounts" => o.mounts = false,
            "--fault-points" => fault_points(&mut o, value()?)?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// `--fault-points`: the points, comma-separated, spelled as `CLOUDCOIN_FAULT` names them; an
/// empty list aims no worker.
#[cfg(feature = "fault-injection")]
fn fault_points(o: &mut Options, list: &str) -> Result<(), String> {
    o.points = list
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let point: cloudcoin_tasks::FaultPoint =
                s.parse().map_err(|e| format!("--fault-points: {s:?}: {e}"))?;
            // A pause-only point holds a window open for a test; it never aborts or fails, so a
            // worker aimed at it would test nothing while the figures said it had.
            if cloudcoin_tasks::FaultPoint::PAUSE_ONLY.contains(&point) {
                return Err(format!(
                    "--fault-points: {s:?} only pauses (it never aborts or fails); name one of \
                     the points that do, such as export:after_rename"
                ));
            }
            Ok(point)
        })
        .collect::<Result<_, String>>()?;
    Ok(())
}

#[cfg(not(feature = "fault-injection"))]
fn fault_points(_o: &mut Options, _list: &str) -> Result<(), String> {
    Err("--fault-points needs the campaign built with the fault-injection feature".to_owned())
}

/// With the fault-injection feature, sometimes aims a round's worker at one fault point: the
/// environment variable that makes it abort (or, less often, fail with an i/o error) there.
#[cfg(feature = "fault-injection")]
fn aim(o: &Options, rng: &mut Rng, f: &mut Figures) -> Vec<(&'static str, String)> {
    if o.points.is_empty() || !rng.chance(30) {
        return Vec::new();
    }
    let point = rng.pick(&o.points);
    f.aimed += 1;
    let var = if rng.chance(75) { "CLOUDCOIN_FAULT" } else { "CLOUDCOIN_FAULT_IO" };
    vec![(var, point.to_string())]
}

#[cfg(not(feature = "fault-injection"))]
fn aim(_o: &Options, _rng: &mut Rng, _f: &mut Figures) -> Vec<(&'static str, String)> {
    Vec::new()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return worker(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("net-worker") {
        return network::worker(&args[1..]);
    }
    if args.iter().any(|a| a == "--network") {
        let outcome = network::parse(&args).and_then(|o| network::campaign(&o));
        return match outcome {
            Ok(0) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("cloudcoin-campaign: {e}");
                ExitCode::from(2)
            }
        };
    }
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cloudcoin-campaign: {e}");
            return ExitCode::from(2);
        }
    };
    match campaign(&options) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("cloudcoin-campaign: {e}");
            ExitCode::from(2)
        }
    }
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
    fn out(&self, name: &str) -> PathBuf {
        self.base.join(name)
    }
    fn away(&self) -> PathBuf {
        self.base.join("away")
    }
    fn inbox(&self) -> PathBuf {
        self.base.join("inbox")
    }
    fn consumed(&self) -> PathBuf {
        self.base.join("consumed")
    }
    fn taken(&self) -> PathBuf {
        self.base.join("taken")
    }
    fn backups(&self) -> PathBuf {
        self.base.join("backups")
    }
    /// The folder bind-mounted on the mounted output folder: what a stick holds.
    fn stick(&self) -> PathBuf {
        self.base.join("stick")
    }
    fn held(&self, wallet: &str, folder: &str) -> PathBuf {
        self.data().join("Wallets").join(wallet).join(folder)
    }
    fn config(&self) -> ServiceConfig {
        ServiceConfig::new(self.data()).with_task_retention(Duration::from_secs(3600))
    }
}

fn coin(code: i8, serial: u32) -> Coin {
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for (r, an) in ans.iter_mut().enumerate() {
        an[..4].copy_from_slice(&serial.to_be_bytes());
        an[4] = code as u8;
        an[5] = r as u8;
        an[6..].copy_from_slice(b"CAMPAIGN!!");
    }
    Coin::new(
        Denomination::from_code(code),
        SerialNumber::new(serial),
        ans,
        [Pown::Pass; RAIDA_COUNT],
    )
}

/// Lays out the folders and fills each wallet's Bank; returns every coin id.
fn setup(place: &Place) -> Result<BTreeSet<CoinId>, String> {
    let mut universe = BTreeSet::new();
    let dirs = [place.away(), place.inbox(), place.consumed(), place.taken(), place.backups()];
    for dir in dirs.into_iter().chain([place.stick()]) {
        mkdir(&dir)?;
    }
    for out in OUTS {
        mkdir(&place.out(out))?;
    }
    for (w, wallet) in WALLETS.iter().enumerate() {
        for folder in MOVER_FOLDERS {
            mkdir(&place.held(wallet, folder))?;
        }
        let bank = place.held(wallet, "Bank");
        let base = (w as u32 + 1) * 100_000;
        let mut coins: Vec<Coin> = (0..50).map(|i| coin(-1, base + i)).collect();
        coins.extend((0..70).map(|i| coin(0, base + 1_000 + i)));
        coins.extend((0..30).map(|i| coin(1, base + 2_000 + i)));
        for c in coins {
            let bytes =
                cloudcoin_codec::encode_bin(std::slice::from_ref(&c)).map_err(|e| e.to_string())?;
            let name = single_coin_file_name(&c, &Tag::empty(), FileKind::Bin);
            std::fs::write(bank.join(name), bytes).map_err(|e| e.to_string())?;
            universe.insert(c.id());
        }
    }
    Ok(universe)
}

fn mkdir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

#[derive(Default)]
struct Figures {
    rounds: u64,
    kills: u64,
    kills_early: u64,
    unplugged: u64,
    taken: u64,
    checks: u64,
    violations: u64,
    held_back_now: u64,
    outputs: usize,
    consumed: usize,
    /// Workers that published by link then unlink.
    fallback_workers: u64,
    /// Round workers aimed at a fault point, and those that aborted there.
    aimed: u64,
    aborted_at_point: u64,
    /// Rounds in which the mounted output folder was detached.
    detached: u64,
    /// Coin files the foreign mover moved between held folders, while the clients ran and while
    /// the server was down.
    moved_live: u64,
    moved_down: u64,
    /// Copies of coin files it dropped while the server was down.
    copies: u64,
    /// Distinct export tasks seen completed.
    exports: BTreeSet<String>,
}

fn campaign(o: &Options) -> Result<u64, String> {
    let kept;
    let base = match &o.dir {
        Some(d) => {
            mkdir(d)?;
            d.clone()
        }
        None => {
            kept = std::env::temp_dir().join(format!("cloudcoin-campaign-{}", o.seed));
            mkdir(&kept)?;
            kept
        }
    };
    let base = std::fs::canonicalize(&base).map_err(|e| e.to_string())?;
    let place = Place { base: base.clone() };
    if place.data().exists() {
        return Err(format!(
            "{} already holds a data directory; give an empty --dir",
            base.display()
        ));
    }
    let universe = setup(&place)?;
    let mounted = o.mounts && bind(&place.stick(), &place.out(MOUNTED));
    if !mounted {
        println!(
            "campaign: the detached-mount weapon is off (--no-mounts, or mounting is refused)"
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(o.seed);
    let mut f = Figures::default();
    let started = Instant::now();
    println!(
        "campaign: seed {}, {} rounds, storm {} s with {} clients, {} coins in {} wallets, in {}",
        o.seed,
        o.rounds,
        o.storm_secs,
        o.clients,
        universe.len(),
        WALLETS.len(),
        base.display()
    );

    for round in 0..o.rounds {
        disrupt(&place, &mut rng, &mut f, mounted)?;
        let copies = 1 + rng.below(4);
        f.moved_down += foreign_mover(&place, &mut rng, copies, &mut f.copies);
        let aimed = aim(o, &mut rng, &mut f);
        let mut child = spawn_worker(&place, rng.next(), 4, 0, &aimed, &mut rng, &mut f)?;
        let early = rng.chance(15);
        let delay = if early { rng.below(40) } else { 50 + rng.below(1_500) };
        let detach_at = (mounted && rng.chance(30)).then(|| rng.below(delay + 1));
        let mover_seed = rng.next();
        // The foreign mover works while the clients run, until the kill.
        let stop = std::sync::atomic::AtomicBool::new(false);
        let moved = std::thread::scope(|scope| {
            let mover = scope.spawn(|| {
                let mut rng = Rng::new(mover_seed);
                let mut moved = 0;
                let mut no_copies = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    moved += foreign_mover(&place, &mut rng, 0, &mut no_copies);
                    std::thread::sleep(Duration::from_millis(1 + rng.below(20)));
                }
                moved
            });
            match detach_at {
                Some(at) => {
                    std::thread::sleep(Duration::from_millis(at));
                    detach(&place.out(MOUNTED));
                    std::thread::sleep(Duration::from_millis(delay - at));
                }
                None => std::thread::sleep(Duration::from_millis(delay)),
            }
            let _ = child.kill();
            if let Ok(status) = child.wait() {
                use std::os::unix::process::ExitStatusExt;
                // SIGABRT: the worker reached the fault point it was aimed at.
                f.aborted_at_point += u64::from(status.signal() == Some(6));
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            mover.join().unwrap_or(0)
        });
        f.moved_live += moved;
        if detach_at.is_some() {
            f.detached += 1;
            // Exports started after the detach wrote into the folder under the mount point: the
            // user puts those files on the stick, so they stay where their path says once it is
            // plugged in again (a mount would hide them).
            for_each_entry(&place.out(MOUNTED), |from, name| {
                let on_stick = place.stick().join(name);
                let to = if on_stick.exists() { place.taken().join(name) } else { on_stick };
                move_file(from, &to)
            })?;
            if !bind(&place.stick(), &place.out(MOUNTED)) {
                return Err("the stick cannot be mounted again".to_owned());
            }
        }
        f.kills += 1;
        f.kills_early += u64::from(early);
        if rng.chance(30) {
            plug_in_all(&place)?;
        }
        let found = rt.block_on(check(&place, &universe, &mut f));
        report(round, &found);
        f.violations += found.len() as u64;
        f.rounds += 1;
    }

    if o.storm_secs > 0 {
        plug_in_all(&place)?;
        let mut child = spawn_worker(
            &place,
            rng.next(),
            o.clients,
            o.storm_secs * 1_000,
            &[],
            &mut rng,
            &mut f,
        )?;
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            eprintln!("storm: the worker ended with {status}");
            f.violations += 1;
        }
        let found = rt.block_on(check(&place, &universe, &mut f));
        report(o.rounds, &found);
        f.violations += found.len() as u64;
        // And a storm killed in the middle.
        let mut child = spawn_worker(&place, rng.next(), o.clients, 0, &[], &mut rng, &mut f)?;
        std::thread::sleep(Duration::from_millis(500 + (o.storm_secs * 1_000) / 2));
        let _ = child.kill();
        let _ = child.wait();
        f.kills += 1;
        let found = rt.block_on(check(&place, &universe, &mut f));
        report(o.rounds + 1, &found);
        f.violations += found.len() as u64;
    }

    let secs = started.elapsed().as_secs_f64();
    if mounted {
        detach(&place.out(MOUNTED));
    }
    println!(
        "campaign: weapons: {} workers aimed at a fault point ({} aborted there), {} workers on the link-then-unlink fallback, the mounted output folder detached in {} rounds, {} coin files moved by a foreign program while the server ran and {} while it was down, {} copies dropped; {} exports completed",
        f.aimed,
        f.aborted_at_point,
        f.fallback_workers,
        f.detached,
        f.moved_live,
        f.moved_down,
        f.copies,
        f.exports.len()
    );
    println!(
        "campaign: {} rounds, {} kills ({} during start-up recovery), {} folders unplugged, {} files taken, {} checks, {} exports held back for attention at the end, {} output files left, {} imported files, {:.0} s",
        f.rounds,
        f.kills,
        f.kills_early,
        f.unplugged,
        f.taken,
        f.checks,
        f.held_back_now,
        f.outputs,
        f.consumed,
        secs
    );
    println!("campaign: {} violations", f.violations);
    Ok(f.violations)
}

fn report(round: u64, found: &[String]) {
    for v in found {
        println!("VIOLATION after round {round}: {v}");
    }
}

/// Between rounds: unplug an output folder, plug one back, or take a published file away. The
/// mounted folder is unplugged by detaching it, during rounds, not by renaming it.
fn disrupt(place: &Place, rng: &mut Rng, f: &mut Figures, mounted: bool) -> Result<(), String> {
    let out = rng.pick(&OUTS);
    let away = place.away().join(out);
    if rng.chance(8) && place.out(out).exists() && !(mounted && out == MOUNTED) {
        std::fs::rename(place.out(out), &away).map_err(|e| e.to_string())?;
        f.unplugged += 1;
    } else if rng.chance(15) && away.exists() {
        std::fs::rename(&away, place.out(out)).map_err(|e| e.to_string())?;
    }
    // The clients take files by renaming them, which cannot leave a mount: a person takes the
    // mounted folder's files to import them while the server is down.
    if mounted && rng.chance(50) {
        for file in visible_files(&place.out(MOUNTED)) {
            let name =
                file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let wallet = rng.pick(&WALLETS);
            move_file(&file, &place.inbox().join(format!("{wallet}__{}-{name}", rng.next())))?;
        }
    }
    if rng.chance(5) {
        let files = visible_files(&place.out(out));
        if !files.is_empty() {
            let file = &files[rng.index(files.len())];
            let name =
                file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let to = place.taken().join(format!("{}-{name}", rng.next()));
            move_file(file, &to)?;
            f.taken += 1;
        }
    }
    Ok(())
}

/// Moves a file, by copying it where it is on another mount (the server is down: nobody else
/// takes it meanwhile).
fn move_file(from: &Path, to: &Path) -> Result<(), String> {
    let err =
        |e: std::io::Error| format!("cannot move {} to {}: {e}", from.display(), to.display());
    match std::fs::rename(from, to) {
        Err(e) if e.raw_os_error() == Some(18) => {
            std::fs::copy(from, to).map_err(err)?;
            std::fs::remove_file(from).map_err(err)
        }
        other => other.map_err(err),
    }
}

/// Calls `each(path, name)` for every entry of `dir`, hidden ones included.
fn for_each_entry(
    dir: &Path,
    mut each: impl FnMut(&Path, &str) -> Result<(), String>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
    for e in entries.filter_map(Result::ok) {
        each(&e.path(), &e.file_name().to_string_lossy())?;
    }
    Ok(())
}

/// `mount --bind from to`; whether it worked.
fn bind(from: &Path, to: &Path) -> bool {
    Command::new("mount")
        .arg("--bind")
        .arg(from)
        .arg(to)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `umount -l at`: the mount leaves the tree now; a process holding the folder open keeps
/// writing into it through its handle.
fn detach(at: &Path) {
    let _ = Command::new("umount").arg("-l").arg(at).stderr(Stdio::null()).status();
}

/// Another program sharing the wallet: moves a few coin files between `Bank`, `Fracked` and
/// `Limbo` of random wallets (never over an existing name), and drops `copies` copies of coin
/// files under new names. Returns how many files it moved; adds the copies to `copied`.
fn foreign_mover(place: &Place, rng: &mut Rng, copies: u64, copied: &mut u64) -> u64 {
    let mut moved = 0;
    for _ in 0..1 + rng.below(4) {
        let wallet = rng.pick(&WALLETS);
        let (from, to) = (rng.pick(&MOVER_FOLDERS), rng.pick(&MOVER_FOLDERS));
        let files = visible_files(&place.held(wallet, from));
        if from == to || files.is_empty() {
            continue;
        }
        let file = &files[rng.index(files.len())];
        let Some(name) = file.file_name() else { continue };
        let target = place.held(wallet, to).join(name);
        // A plain rename, as other software does, but not over a file it can see.
        if !target.exists() && std::fs::rename(file, &target).is_ok() {
            moved += 1;
        }
    }
    for _ in 0..copies {
        let wallet = rng.pick(&WALLETS);
        let (from, to) = (rng.pick(&MOVER_FOLDERS), rng.pick(&MOVER_FOLDERS));
        let files = visible_files(&place.held(wallet, from));
        if files.is_empty() {
            continue;
        }
        let file = &files[rng.index(files.len())];
        let target = place.held(wallet, to).join(format!("copy {}.bin", rng.next()));
        if std::fs::copy(file, target).is_ok() {
            *copied += 1;
        }
    }
    moved
}

fn plug_in_all(place: &Place) -> Result<(), String> {
    for out in OUTS {
        let away = place.away().join(out);
        if away.exists() && !place.out(out).exists() {
            std::fs::rename(&away, place.out(out)).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn spawn_worker(
    place: &Place,
    seed: u64,
    clients: u64,
    duration_ms: u64,
    aimed: &[(&str, String)],
    rng: &mut Rng,
    f: &mut Figures,
) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.arg("worker")
        .arg(&place.base)
        .arg(seed.to_string())
        .arg(clients.to_string())
        .arg(duration_ms.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // With the fault-injection feature: wider windows, and the named-temporary fallback.
    if rng.chance(50) {
        cmd.env("CLOUDCOIN_SLOW_WRITE_MS", (1 + rng.below(3)).to_string());
    }
    if rng.chance(25) {
        cmd.env("CLOUDCOIN_FAULT_NO_TMPFILE", "1");
    }
    // Named outputs published, and coin files moved, by link then unlink.
    if rng.chance(25) {
        cmd.env("CLOUDCOIN_FAULT_NO_RENAME2", "1");
        if rng.chance(70) {
            cmd.env("CLOUDCOIN_FAULT_NO_TMPFILE", "1");
        }
        f.fallback_workers += 1;
    }
    cmd.envs(aimed.iter().map(|(k, v)| (k, v)));
    cmd.spawn().map_err(|e| format!("cannot start a worker: {e}"))
}

/// Non-hidden regular files of a folder.
fn visible_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

fn decode(path: &Path) -> Option<Vec<Coin>> {
    let bytes = std::fs::read(path).ok()?;
    cloudcoin_codec::decode_any(&bytes, &cloudcoin_codec::Limits::default()).ok()
}

/// Opens the data directory (recovery runs), reads the balances, closes it, then reads every
/// file and returns what breaks the rules.
async fn check(place: &Place, universe: &BTreeSet<CoinId>, f: &mut Figures) -> Vec<String> {
    f.checks += 1;
    let mut v = Vec::new();
    let config = place.config();
    let service = match tokio::task::spawn_blocking(move || Service::open(config)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return vec![format!("the data directory cannot be opened: {e}")],
        Err(e) => return vec![format!("open panicked: {e}")],
    };
    for task in service.tasks() {
        if let Some(TaskOutcome::Export(r)) = &task.outcome {
            f.exports.insert(task.id.to_string());
            let parent = r.file.parent().map(Path::to_path_buf).unwrap_or_default();
            let asked =
                OUTS.iter().any(|o| parent == place.out(o) || parent == place.away().join(o));
            if !asked {
                v.push(format!(
                    "export {} completed with the file {}, which is in no output folder",
                    task.id,
                    r.file.display()
                ));
            }
        }
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
    drop(service);

    // Held back: export records left in the journal after recovery.
    f.held_back_now = 0;
    let mut held: BTreeMap<String, BTreeSet<CoinId>> = BTreeMap::new();
    let mut named: BTreeSet<String> = BTreeSet::new();
    let journal = place.data().join(".cloudcoin/journal");
    for path in visible_files(&journal) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
            v.push(format!("journal record {} is not JSON", path.display()));
            continue;
        };
        // A temporary name a record still names is the record's to remove: after a
        // link-then-unlink publication that cannot be told apart from a taken file, it stays with
        // its coins held back (in its folder, wherever that was unplugged to; the name holds the
        // task id).
        if let Some(temp) = record["temp"].as_str() {
            named.insert(temp.to_owned());
        }
        if record["op"] != "export" {
            continue;
        }
        f.held_back_now += 1;
        let wallet = record["wallet"].as_str().unwrap_or("").to_owned();
        let ids = held.entry(wallet).or_default();
        for c in record["coins"].as_array().into_iter().flatten() {
            let dn = c["dn"].as_i64().unwrap_or(0) as i8;
            let sn = c["sn"].as_u64().unwrap_or(0) as u32;
            ids.insert(CoinId {
                denomination: Denomination::from_code(dn),
                serial: SerialNumber::new(sn),
            });
        }
    }
    let all_held: BTreeSet<CoinId> = held.values().flatten().copied().collect();

    // Where each coin is.
    let mut in_wallets: BTreeMap<CoinId, Vec<String>> = BTreeMap::new();
    let mut spendable: BTreeMap<&str, (Amount, usize)> = BTreeMap::new();
    let mut sent: Vec<(String, CoinId)> = Vec::new();
    for w in WALLETS {
        let wallet_dir = place.data().join("Wallets").join(w);
        let mut total = (Amount::ZERO, 0usize);
        for folder in HELD {
            for path in visible_files(&wallet_dir.join(folder)) {
                let Some(coins) = decode(&path) else { continue };
                if coins.len() != 1 {
                    continue;
                }
                let c = &coins[0];
                in_wallets.entry(c.id()).or_default().push(path.display().to_string());
                let not_held = !held.get(w).is_some_and(|h| h.contains(&c.id()));
                if (folder == "Bank" || folder == "Fracked")
                    && not_held
                    && let Some(value) = c.value()
                {
                    total.0 = total.0.checked_add(value).unwrap_or(Amount::MAX);
                    total.1 += 1;
                }
            }
        }
        spendable.insert(w, total);
        for path in visible_files(&wallet_dir.join("Sent")) {
            for c in decode(&path).unwrap_or_default() {
                sent.push((w.to_owned(), c.id()));
            }
        }
        for folder in ALL_FOLDERS {
            readable_temporaries(&wallet_dir.join(folder), &named, &mut v);
        }
    }

    let mut output_dirs: Vec<PathBuf> = OUTS.iter().map(|o| place.out(o)).collect();
    output_dirs.extend(OUTS.iter().map(|o| place.away().join(o)));
    output_dirs.push(place.taken());
    let mut in_outputs: BTreeMap<CoinId, Vec<String>> = BTreeMap::new();
    let mut outputs = 0;
    for dir in &output_dirs {
        readable_temporaries(dir, &named, &mut v);
        for path in visible_files(dir) {
            outputs += 1;
            for c in decode(&path).unwrap_or_default() {
                in_outputs.entry(c.id()).or_default().push(path.display().to_string());
            }
        }
    }
    readable_temporaries(&place.backups(), &named, &mut v);
    f.outputs = outputs;
    let mut in_transit = BTreeSet::new();
    for path in visible_files(&place.inbox()) {
        in_transit.extend(decode(&path).unwrap_or_default().iter().map(Coin::id));
    }
    let mut ever_exported: BTreeSet<CoinId> = in_outputs.keys().copied().collect();
    ever_exported.extend(in_transit.iter().copied());
    let consumed = visible_files(&place.consumed());
    f.consumed = consumed.len();
    for path in consumed {
        ever_exported.extend(decode(&path).unwrap_or_default().iter().map(Coin::id));
    }

    for id in universe {
        let all_w = in_wallets.get(id).map_or(&[][..], Vec::as_slice);
        // A coin held back for attention stays in its wallet's folder, out of the balance; its
        // file there does not count as a second place.
        let w: Vec<&String> = all_w
            .iter()
            .filter(|p| {
                !held.iter().any(|(wallet, ids)| {
                    ids.contains(id) && p.contains(&format!("/Wallets/{wallet}/"))
                })
            })
            .collect();
        let o = in_outputs.get(id).map_or(&[][..], Vec::as_slice);
        if all_w.is_empty() && o.is_empty() && !in_transit.contains(id) {
            v.push(format!("coin {id} is lost: in no wallet and no output"));
        }
        if w.len() > 1 {
            v.push(format!("coin {id} is held twice: {w:?}"));
        }
        if o.len() > 1 {
            v.push(format!("coin {id} is in two output files: {o:?}"));
        }
        if !w.is_empty() && !o.is_empty() && !all_held.contains(id) {
            v.push(format!("coin {id} is both in a wallet ({w:?}) and in an output ({o:?})"));
        }
    }
    for (w, id) in &sent {
        if !ever_exported.contains(id) {
            v.push(format!("{w}/Sent holds coin {id}, which no output ever held"));
        }
    }
    for (w, (amount, count)) in &spendable {
        match balances.get(w) {
            Some((b, n)) if b == amount && *n as usize == *count => {}
            Some((b, n)) => v.push(format!(
                "wallet {w}: the service says {b} in {n} coins, its spendable files hold {amount} in {count}"
            )),
            None => {}
        }
    }
    v
}

/// Hidden files in `dir` that read as coins, but for those a journal record still names.
fn readable_temporaries(dir: &Path, named: &BTreeSet<String>, v: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.')
            && !named.contains(&name)
            && e.file_type().is_ok_and(|t| t.is_file())
            && decode(&e.path()).is_some_and(|c| !c.is_empty())
        {
            v.push(format!("readable coin file under a temporary name: {}", e.path().display()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The worker: one server process's worth of clients.

fn worker(args: &[String]) -> ExitCode {
    let (Some(base), Some(seed), Some(clients), Some(duration)) = (
        args.first().map(PathBuf::from),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
        args.get(3).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("worker: usage: worker BASE SEED CLIENTS DURATION_MS");
        return ExitCode::from(2);
    };
    let place = Place { base };
    let service = match Service::open(place.config()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("worker: cannot open: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("worker: {e}");
                return ExitCode::FAILURE;
            }
        };
    rt.block_on(async move {
        finish_inbox(&service, &place).await;
        let deadline = (duration > 0).then(|| Instant::now() + Duration::from_millis(duration));
        let mut handles = Vec::new();
        for c in 0..clients {
            let service = service.clone();
            let place = place.clone();
            handles.push(tokio::spawn(client(
                service,
                place,
                seed ^ (c + 1).wrapping_mul(0x5851_F42D),
                c,
                deadline,
            )));
        }
        for h in handles {
            let _ = h.await;
        }
        service.shutdown().await;
    });
    ExitCode::SUCCESS
}

async fn wait(service: &Service, id: TaskId) -> Option<TaskView> {
    loop {
        let v = service.task(id)?;
        if v.status != TaskStatus::Running {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The prefix of an inbox file whose import was started: once the client has asked for it, the
/// import may have stored the file's coins, and other clients may have exported them since.
const STARTED: &str = "started__";

/// Imports files left in the inbox by a killed worker into the wallet their name names, then
/// moves them on.
async fn finish_inbox(service: &Service, place: &Place) {
    for path in visible_files(&place.inbox()) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bare = name.strip_prefix(STARTED).unwrap_or(&name);
        let Some(wallet) = bare.split("__").next().and_then(|w| WalletName::parse(w).ok()) else {
            continue;
        };
        import_file(service, place, &wallet, &path, &name).await;
    }
}

/// Imports an inbox file into `wallet` and, once each of its coins is stored or present, moves
/// it to `consumed`.
///
/// Every inbox file is an output of this server, so its coins are in a `Sent` folder and the
/// import needs the request's say-so (`with_sent_coins_allowed`). The campaign gives it only for
/// a file it never asked to import: then the coins in `Sent` are this file's own, sent away when
/// it was exported. A file whose import was asked for before (its name starts with [`STARTED`],
/// set before the request) may have been imported already, the worker killed before the client
/// saw the answer: its coins may have been exported again since, into newer output files, and
/// the same file imported with the say-so would put them in the wallet a second time (the server
/// cannot tell a stale copy from the newer file coming back: both carry the same keys). Such a
/// file is imported without the say-so: coins still held count as present, coins sent away are
/// refused and the file stays in the inbox (its coins in transit), as a careful user keeps a
/// file they cannot vouch for.
async fn import_file(
    service: &Service,
    place: &Place,
    wallet: &WalletName,
    path: &Path,
    name: &str,
) {
    let Some(coins) = decode(path) else { return };
    let (path, name, vouched) = if name.starts_with(STARTED) {
        (path.to_path_buf(), name.to_owned(), false)
    } else {
        let started = format!("{STARTED}{name}");
        let to = place.inbox().join(&started);
        if std::fs::rename(path, &to).is_err() {
            return;
        }
        (to, started, true)
    };
    let mut req = ImportRequest::new(wallet.clone(), vec![ImportItem::File(path.clone())]);
    if vouched {
        req = req.with_sent_coins_allowed();
    }
    let Ok(task) = service.start_import(req).await else { return };
    if let Some(TaskView { outcome: Some(TaskOutcome::Import(r)), .. }) =
        wait(service, task.id).await
        && r.imported + r.already_present == coins.len() as u64
    {
        let _ = std::fs::rename(&path, place.consumed().join(name));
    }
}

async fn client(service: Service, place: Place, seed: u64, me: u64, deadline: Option<Instant>) {
    let mut rng = Rng::new(seed);
    let mut n = 0u64;
    while deadline.is_none_or(|d| Instant::now() < d) {
        n += 1;
        let wallet = WalletName::parse(rng.pick(&WALLETS)).expect("a valid wallet name");
        match rng.below(100) {
            0..45 => {
                let req = ExportRequest::new(
                    wallet,
                    Amount::parse_request(rng.pick(&AMOUNTS)).expect("a valid amount"),
                    place.out(rng.pick(&OUTS)),
                    rng.pick(&FileKind::ALL),
                )
                .with_tag(Tag::parse(&format!("c{me} n{n}")).expect("a valid tag"));
                if let Ok(task) = service.start_export(req).await {
                    wait(&service, task.id).await;
                }
            }
            45..85 => {
                let files = visible_files(&place.out(rng.pick(&OUTS)));
                if files.is_empty() {
                    continue;
                }
                let file = &files[rng.index(files.len())];
                let base =
                    file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let name = format!("{}__{}-{base}", wallet.as_str(), rng.next());
                let to = place.inbox().join(&name);
                // The user takes the file to import it; a concurrent client may have been first.
                if std::fs::rename(file, &to).is_err() {
                    continue;
                }
                import_file(&service, &place, &wallet, &to, &name).await;
            }
            85..95 => {
                let req = BackupRequest::new(wallet, place.backups());
                if let Ok(task) = service.start_backup(req).await
                    && let Some(TaskView { outcome: Some(TaskOutcome::Backup(r)), .. }) =
                        wait(&service, task.id).await
                {
                    let _ = std::fs::remove_file(r.file);
                }
            }
            _ => {
                let _ = service.list_wallets().await;
            }
        }
    }
}

#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use super::parse;

    fn points(list: &str) -> Result<Vec<cloudcoin_tasks::FaultPoint>, String> {
        parse(&["--fault-points".to_owned(), list.to_owned()]).map(|o| o.points)
    }

    #[test]
    fn fault_points_are_the_ones_that_fire() {
        let chosen = points("export:after_rename").expect("a point that aborts");
        assert_eq!(chosen.len(), 1);
        for &point in cloudcoin_tasks::FaultPoint::PAUSE_ONLY {
            let e = points(&point.to_string()).expect_err("a pause-only point is refused");
            assert!(e.contains("only pauses"), "{e}");
        }
        assert!(points("no:such_point").expect_err("unknown").contains("not a fault point"));
    }
}
