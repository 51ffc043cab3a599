//! `cloudcoin-bench`: how close the wallet server's big exports and imports come to what the disk
//! allows, measured as a ratio against floor operations timed on the same disk in the same run.
//!
//! Run it from the repository root (release build; it creates and removes its own folders):
//!
//! ```sh
//! cargo run --release -p cloudcoin-bench                       # 65,535 coins, 3 rounds
//! cargo run --release -p cloudcoin-bench -- --coins 1000 --runs 5 --startup-coins 0
//! cargo run --release -p cloudcoin-bench -- --startup-only     # only Service::open, 200,000 coins
//! cargo run --release -p cloudcoin-bench -- --acceptance-only  # start_export timings only
//! cargo run --release -p cloudcoin-bench -- --tmpfs            # the same on a RAM disk
//! cargo run --release -p cloudcoin-bench -- --dir /mnt/stick/bench  # another disk
//! ```
//!
//! Two disks give two floors. On the data disk (`--dir`, default the temporary folder) the
//! floors are mostly the disk's flushes; on a RAM disk (`--tmpfs`: `/dev/shm`, or `--dir` on any
//! tmpfs) a rename or an fsync costs only its system call, so the ratio there is the share of
//! the work that is the service's own, the same on every machine.
//!
//! Each round builds a wallet of N coins by importing one stack file into an empty data
//! directory, then exports the whole balance once as each file type, putting the coins back
//! between exports. Every measured job runs in a child process (this binary, re-run with a hidden
//! sub-command) so its peak resident memory (`VmHWM`) is its own. The floors, timed between the
//! service's jobs so both see the same disk and cache:
//!
//! - import: creating N files of 439 bytes in one folder, then one `syncfs`;
//! - export: N renames from one folder to another on directory handles plus an fsync of both
//!   folders, plus writing a file as large as the service's output and fsyncing it — timed anew
//!   beside each export;
//! - a 1-coin export (`--one-coin-exports` of them per round, each from the request to its
//!   outcome on disk, from a wallet of `--one-coin-wallet` coins): what a minimal durable export
//!   needs — a 1-coin file written unnamed, fsynced and linked, its folder fsynced, one coin
//!   file renamed to another folder and both folders fsynced (four fsyncs) — timed as many times
//!   in the same round; the p50s are compared.
//!
//! Every job starts on a settled disk (`sync` first), and no file is removed until the run ends
//! (each round has folders of its own): on a file system without a journal, files created soon
//! after many were removed are slow to allocate, which would burden the next job. A 65,535-coin
//! run of 3 rounds keeps about 3 GB until it ends.
//!
//! It also times `Service::open` over a wallet of `--startup-coins` coins (with a few foreign
//! files beside them), and how long `start_export` takes to accept a small and a whole-balance
//! export. Medians of the rounds are printed. It asserts nothing: it is a measuring tool.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use cloudcoin_domain::{
    Amount, Coin, Denomination, FileKind, Pown, RAIDA_COUNT, SerialNumber, Tag, WalletName,
    single_coin_file_name, total_value,
};
use cloudcoin_tasks::{
    ExportRequest, ImportItem, ImportRequest, Service, ServiceConfig, TaskOutcome, TaskStatus,
};
use rustix::fs::{Mode, OFlags};
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
#[command(about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    job: Option<Job>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Coins in the wallet that is imported and exported.
    #[arg(long, default_value_t = 65_535)]
    coins: u32,
    /// Rounds; the medians are printed.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Folder on the disk to measure (default: the system's temporary folder); created if it
    /// does not exist.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Measure on a RAM disk (`/dev/shm`, which must be a tmpfs) instead of `--dir`: there a
    /// rename or an fsync costs only its system call, so the ratios show the work that is ours.
    #[arg(long, conflicts_with = "dir")]
    tmpfs: bool,
    /// Sequential 1-coin exports per round, each timed from the request to its recorded
    /// outcome, against as many minimal durable exports timed in the same round; 0 skips them.
    #[arg(long, default_value_t = 40)]
    one_coin_exports: usize,
    /// Coins of the wallet the 1-coin exports draw from.
    #[arg(long, default_value_t = 1_000)]
    one_coin_wallet: u32,
    /// Coins of the wallet whose start-up is timed; 0 skips it.
    #[arg(long, default_value_t = 200_000)]
    startup_coins: u32,
    /// Small exports whose acceptance is timed per round.
    #[arg(long, default_value_t = 20)]
    small_exports: usize,
    /// Time only the start-up (`--runs` opens of the `--startup-coins` wallet): no import,
    /// exports or floors.
    #[arg(long)]
    startup_only: bool,
    /// Time only the acceptance of exports: no floor jobs, one whole-balance export per round
    /// (as `bin`) instead of one per file type, and no start-up timing. Quicker, for iterating
    /// on `start_export`; the ratio columns are left empty.
    #[arg(long, conflicts_with = "startup_only")]
    acceptance_only: bool,
}

/// One measured job, run in a child process.
#[derive(Subcommand, Debug)]
enum Job {
    /// Floor: create `coins` files of 439 bytes in `dir`, then one syncfs.
    #[command(hide = true)]
    FloorCreate { dir: PathBuf, coins: u32 },
    /// Floor: rename every file of `from` into `to` on directory handles, fsync both.
    #[command(hide = true)]
    FloorMove { from: PathBuf, to: PathBuf },
    /// Floor: `count` minimal durable 1-coin exports: a 1-coin file written unnamed in `out`,
    /// fsynced, linked, `out` fsynced; then one coin file renamed from `from` to `to` and both
    /// fsynced.
    #[command(hide = true)]
    FloorOneCoin { out: PathBuf, from: PathBuf, to: PathBuf, count: usize },
    /// The service: `count` sequential 1-coin exports, each timed to its recorded outcome.
    #[command(hide = true)]
    OneCoin { data: PathBuf, out: PathBuf, count: usize },
    /// Floor: write `bytes` bytes to the new file `file` and fsync it.
    #[command(hide = true)]
    FloorWrite { file: PathBuf, bytes: u64 },
    /// The service: import the stack `file` into the Default wallet of `data`.
    #[command(hide = true)]
    Import { data: PathBuf, file: PathBuf },
    /// The service: export the whole balance of Default in `data` as `kind` into `out`.
    #[command(hide = true)]
    Export { data: PathBuf, out: PathBuf, kind: String },
    /// The service: `count` small exports, one after the other, timing their acceptance.
    #[command(hide = true)]
    Accept { data: PathBuf, out: PathBuf, count: usize },
    /// The service: open the data directory.
    #[command(hide = true)]
    Open { data: PathBuf },
    /// Not measured: make the start-up wallet of `coins` coins in `data` (to profile `open`).
    #[command(hide = true)]
    Wallet { data: PathBuf, coins: u32 },
}

/// What a child reports on its last line of output.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Report {
    /// Seconds the job took.
    secs: f64,
    /// Acceptance latencies (start_export returning), in milliseconds.
    accept_ms: Vec<f64>,
    /// Whole-operation latencies of a job of many small ones, in milliseconds.
    each_ms: Vec<f64>,
    /// The longest `Service::task` call while the job ran, in milliseconds.
    poll_max_ms: f64,
    /// Size of the file written.
    bytes: u64,
    /// Peak resident memory of the child process, in KiB.
    vmhwm_kb: u64,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.job {
        Some(job) => {
            let mut report = run_job(job)?;
            report.vmhwm_kb = peak_rss_kb()?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        None => run_all(&cli.run),
    }
}

// ---------------------------------------------------------------- the coins

/// The `i`-th coin of the bench wallet: denominations 0.001 to 1000, ANs from a cheap PRNG.
fn bench_coin(i: u32) -> Coin {
    let mut state = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut ans = [[0u8; 16]; RAIDA_COUNT];
    for an in &mut ans {
        for chunk in an.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
    }
    let code = i8::try_from(i % 7).expect("small") - 3;
    Coin::new(Denomination::from_code(code), SerialNumber::new(i), ans, [Pown::Pass; RAIDA_COUNT])
}

fn coin_name(coin: &Coin) -> String {
    single_coin_file_name(coin, &Tag::empty(), FileKind::Bin)
}

fn default_wallet() -> WalletName {
    WalletName::parse("Default").expect("a valid name")
}

// ---------------------------------------------------------------- the children

fn run_job(job: Job) -> Result<Report> {
    match job {
        Job::FloorCreate { dir, coins } => floor_create(&dir, coins),
        Job::FloorMove { from, to } => floor_move(&from, &to),
        Job::FloorWrite { file, bytes } => floor_write(&file, bytes),
        Job::FloorOneCoin { out, from, to, count } => floor_one_coin(&out, &from, &to, count),
        Job::OneCoin { data, out, count } => runtime()?.block_on(one_coin(data, out, count)),
        Job::Import { data, file } => runtime()?.block_on(import(data, file)),
        Job::Export { data, out, kind } => {
            let kind = FileKind::ALL
                .into_iter()
                .find(|k| k.extension() == kind)
                .with_context(|| format!("unknown file type {kind}"))?;
            runtime()?.block_on(export(data, out, kind))
        }
        Job::Accept { data, out, count } => runtime()?.block_on(accept(data, out, count)),
        Job::Open { data } => {
            let start = Instant::now();
            let service = Service::open(config(&data))?;
            let secs = start.elapsed().as_secs_f64();
            drop(service);
            Ok(Report { secs, ..Report::default() })
        }
        Job::Wallet { data, coins } => {
            build_wallet(&data, coins)?;
            Ok(Report::default())
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn config(data: &Path) -> ServiceConfig {
    ServiceConfig::new(data).with_task_retention(Duration::from_secs(24 * 3600))
}

fn open_dir(path: &Path) -> Result<rustix::fd::OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::open(path, flags, Mode::empty()).with_context(|| path.display().to_string())
}

fn floor_create(dir: &Path, coins: u32) -> Result<Report> {
    let files: Vec<(String, Vec<u8>)> = (0..coins)
        .map(|i| {
            let coin = bench_coin(i);
            let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&coin))?;
            Ok((coin_name(&coin), bytes))
        })
        .collect::<Result<_>>()?;
    let handle = open_dir(dir)?;
    let start = Instant::now();
    let flags = OFlags::CREATE | OFlags::EXCL | OFlags::WRONLY | OFlags::CLOEXEC;
    for (name, bytes) in &files {
        let fd = rustix::fs::openat(&handle, name.as_str(), flags, Mode::from_raw_mode(0o600))?;
        fs::File::from(fd).write_all(bytes)?;
    }
    rustix::fs::syncfs(&handle)?;
    Ok(Report { secs: start.elapsed().as_secs_f64(), ..Report::default() })
}

fn floor_move(from: &Path, to: &Path) -> Result<Report> {
    let names: Vec<String> = fs::read_dir(from)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    let (src, dst) = (open_dir(from)?, open_dir(to)?);
    let start = Instant::now();
    for name in &names {
        rustix::fs::renameat(&src, name.as_str(), &dst, name.as_str())?;
    }
    rustix::fs::fsync(&dst)?;
    rustix::fs::fsync(&src)?;
    Ok(Report { secs: start.elapsed().as_secs_f64(), ..Report::default() })
}

fn floor_write(file: &Path, bytes: u64) -> Result<Report> {
    let mut chunk = vec![0u8; 1 << 20];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for b in chunk.chunks_exact_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        b.copy_from_slice(&state.to_le_bytes());
    }
    let start = Instant::now();
    let mut f = fs::OpenOptions::new().write(true).create_new(true).open(file)?;
    let mut left = bytes;
    while left > 0 {
        let n = usize::try_from(left.min(chunk.len() as u64)).expect("at most a chunk");
        f.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    f.sync_all()?;
    drop(f);
    Ok(Report { secs: start.elapsed().as_secs_f64(), bytes, ..Report::default() })
}

fn floor_one_coin(out: &Path, from: &Path, to: &Path, count: usize) -> Result<Report> {
    let coin = bench_coin(3);
    let bytes = cloudcoin_codec::encode_bin(std::slice::from_ref(&coin))?;
    let names: Vec<String> = fs::read_dir(from)?
        .map(|e| Ok(e?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    if names.len() < count {
        bail!("{} holds {} files, fewer than {count}", from.display(), names.len());
    }
    let (out_dir, src, dst) = (open_dir(out)?, open_dir(from)?, open_dir(to)?);
    let mut each_ms = Vec::with_capacity(count);
    let start = Instant::now();
    for (i, name) in names.iter().take(count).enumerate() {
        let began = Instant::now();
        let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&out_dir, ".", flags, Mode::from_raw_mode(0o600))?;
        let mut file = fs::File::from(fd);
        file.write_all(&bytes)?;
        file.sync_all()?;
        let target = format!("{i}.bin");
        rustix::fs::linkat(&file, "", &out_dir, target.as_str(), rustix::fs::AtFlags::EMPTY_PATH)?;
        drop(file);
        rustix::fs::fsync(&out_dir)?;
        rustix::fs::renameat(&src, name.as_str(), &dst, name.as_str())?;
        rustix::fs::fsync(&dst)?;
        rustix::fs::fsync(&src)?;
        each_ms.push(ms(began.elapsed()));
    }
    Ok(Report { secs: start.elapsed().as_secs_f64(), each_ms, ..Report::default() })
}

async fn open_service(data: &Path) -> Result<Service> {
    let config = config(data);
    Ok(tokio::task::spawn_blocking(move || Service::open(config)).await??)
}

/// Polls `service.task(id)` every 5 ms until the task finishes; returns the longest call.
async fn watch(service: &Service, id: cloudcoin_tasks::TaskId) -> Result<(Duration, TaskOutcome)> {
    let mut longest = Duration::ZERO;
    loop {
        let start = Instant::now();
        let view = service.task(id).context("the task is known")?;
        longest = longest.max(start.elapsed());
        if view.status != TaskStatus::Running {
            service.shutdown().await;
            let view = service.task(id).context("the task is known")?;
            return Ok((longest, view.outcome.context("a finished task has an outcome")?));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn import(data: PathBuf, file: PathBuf) -> Result<Report> {
    let service = open_service(&data).await?;
    let start = Instant::now();
    let task = service
        .start_import(
            ImportRequest::new(default_wallet(), vec![ImportItem::File(file)])
                .with_tag(Tag::parse("bench")?),
        )
        .await?;
    let (poll, outcome) = watch(&service, task.id).await?;
    let secs = start.elapsed().as_secs_f64();
    match outcome {
        TaskOutcome::Import(r) if r.rejected.is_empty() => {}
        other => bail!("the import did not store every coin: {other:?}"),
    }
    Ok(Report { secs, poll_max_ms: ms(poll), ..Report::default() })
}

async fn export(data: PathBuf, out: PathBuf, kind: FileKind) -> Result<Report> {
    let service = open_service(&data).await?;
    let balance = service.wallet(&default_wallet()).await?.balance;
    let start = Instant::now();
    let task = service.start_export(export_request(balance, &out, kind, "bench")?).await?;
    let accepted = start.elapsed();
    let (poll, outcome) = watch(&service, task.id).await?;
    let secs = start.elapsed().as_secs_f64();
    let TaskOutcome::Export(result) = outcome else {
        bail!("the export failed: {outcome:?}");
    };
    Ok(Report {
        secs,
        accept_ms: vec![ms(accepted)],
        poll_max_ms: ms(poll),
        bytes: fs::metadata(&result.file)?.len(),
        ..Report::default()
    })
}

async fn accept(data: PathBuf, out: PathBuf, count: usize) -> Result<Report> {
    let service = open_service(&data).await?;
    let one = Amount::parse_request("1")?;
    let mut accept_ms = Vec::with_capacity(count);
    let mut each_ms = Vec::with_capacity(count);
    let start = Instant::now();
    for _ in 0..count {
        let asked = Instant::now();
        let task = service.start_export(export_request(one, &out, FileKind::Bin, "small")?).await?;
        accept_ms.push(ms(asked.elapsed()));
        let view = service.wait(task.id).await.context("the task is known")?;
        each_ms.push(ms(asked.elapsed()));
        if !matches!(view.outcome, Some(TaskOutcome::Export(_))) {
            bail!("a small export failed: {:?}", view.outcome);
        }
    }
    service.shutdown().await;
    Ok(Report { secs: start.elapsed().as_secs_f64(), accept_ms, each_ms, ..Report::default() })
}

/// `count` 1-coin exports of 1 CloudCoin, one after the other, each timed from the request to
/// its outcome on disk (`Service::wait`).
async fn one_coin(data: PathBuf, out: PathBuf, count: usize) -> Result<Report> {
    let service = open_service(&data).await?;
    let one = Amount::parse_request("1")?;
    let mut each_ms = Vec::with_capacity(count);
    let start = Instant::now();
    for _ in 0..count {
        let asked = Instant::now();
        let task = service.start_export(export_request(one, &out, FileKind::Bin, "one")?).await?;
        let view = service.wait(task.id).await.context("the task is known")?;
        each_ms.push(ms(asked.elapsed()));
        if !matches!(view.outcome, Some(TaskOutcome::Export(_))) {
            bail!("a 1-coin export failed: {:?}", view.outcome);
        }
    }
    service.shutdown().await;
    Ok(Report { secs: start.elapsed().as_secs_f64(), each_ms, ..Report::default() })
}

fn export_request(amount: Amount, out: &Path, kind: FileKind, tag: &str) -> Result<ExportRequest> {
    Ok(ExportRequest::new(default_wallet(), amount, out, kind).with_tag(Tag::parse(tag)?))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `VmHWM` of this process, in KiB.
fn peak_rss_kb() -> Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM")?;
    Ok(line.split_whitespace().nth(1).context("VmHWM value")?.parse()?)
}

// ---------------------------------------------------------------- the parent

/// Runs one job in a child process and returns its report.
fn child(args: &[&std::ffi::OsStr]) -> Result<Report> {
    let exe = std::env::current_exe()?;
    let output = Command::new(exe).args(args).output()?;
    if !output.status.success() {
        bail!(
            "job {:?} failed: {}",
            args.first(),
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    let text = String::from_utf8(output.stdout)?;
    let last = text.lines().last().context("the job printed nothing")?;
    Ok(serde_json::from_str(last)?)
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

/// Samples of one measured line of the table.
#[derive(Default)]
struct Samples {
    ours: Vec<f64>,
    floor: Vec<f64>,
    rss_kb: Vec<u64>,
    poll_ms: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

fn median_u64(values: &[u64]) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Puts every coin file in Sent back into Bank (renames only: no file is removed while the run
/// measures).
fn restore(data: &Path) -> Result<()> {
    let wallet = data.join("Wallets/Default");
    for entry in fs::read_dir(wallet.join("Sent"))? {
        let entry = entry?;
        fs::rename(entry.path(), wallet.join("Bank").join(entry.file_name()))?;
    }
    Ok(())
}

/// Writes everything the run has changed to the disk before the next measured job starts, so
/// that no job pays for the writes of the one before.
fn settle() {
    rustix::fs::sync();
}

fn fresh_dir(path: &Path) -> Result<()> {
    if path.exists() {
        fs::remove_dir_all(path)?;
    }
    fs::create_dir_all(path)?;
    Ok(())
}

fn run_all(args: &RunArgs) -> Result<()> {
    if args.coins == 0 || usize::try_from(args.coins)? > cloudcoin_domain::MAX_COINS_PER_FILE {
        bail!("--coins must be 1..=65535 (one file holds at most 65,535 coins)");
    }
    let parent = match (&args.dir, args.tmpfs) {
        (_, true) => PathBuf::from("/dev/shm"),
        (Some(d), false) => d.clone(),
        (None, false) => std::env::temp_dir(),
    };
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the folder to measure in, {}", parent.display()))?;
    if args.tmpfs {
        const TMPFS_MAGIC: u64 = 0x0102_1994;
        let kind = rustix::fs::statfs(&parent)?.f_type;
        if u64::try_from(kind).ok() != Some(TMPFS_MAGIC) {
            bail!("{} is not a tmpfs here; name a RAM disk with --dir", parent.display());
        }
    }
    let base_tmp = tempfile::Builder::new().prefix("cloudcoin-bench-").tempdir_in(&parent)?;
    let base = fs::canonicalize(base_tmp.path())?;
    if !args.startup_only {
        eprintln!(
            "measuring in {} with {} coins, {} rounds",
            base.display(),
            args.coins,
            args.runs
        );
        transfers(args, &base)?;
    }
    if args.startup_coins > 0 && !args.acceptance_only {
        startup(args, &base)?;
    }
    Ok(())
}

/// The import, export and acceptance rounds, each against its floor.
fn transfers(args: &RunArgs, base: &Path) -> Result<()> {
    let coins: Vec<Coin> = (0..args.coins).map(bench_coin).collect();
    let stack = base.join("coins.stack");
    let mut w = std::io::BufWriter::new(fs::File::create(&stack)?);
    let options = cloudcoin_codec::WriteOptions::new();
    cloudcoin_codec::write_coins(&mut w, FileKind::Stack, &coins, &options)?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    let balance = total_value(&coins).context("the bench wallet's value fits")?;
    drop(coins);

    let mut import = Samples::default();
    let mut exports: Vec<(FileKind, Samples)> = FileKind::ALL
        .into_iter()
        // Paper pages hold a few hundred coins: a bigger wallet is not exported as pdf.
        .filter(|k| *k != FileKind::Pdf || args.coins as usize <= cloudcoin_codec::MAX_PAPER_COINS)
        .map(|k| (k, Samples::default()))
        .collect();
    let mut accept_small = Vec::new();
    let mut accept_whole = Vec::new();
    let mut small_each = Vec::new();
    let mut one_coin = Samples::default();
    let n = args.coins.to_string();
    for round in 0..args.runs {
        eprintln!("round {} of {}", round + 1, args.runs);
        // Folders of the round's own, kept to the end of the run (see the module's comment).
        let folder = |name: &str| -> Result<PathBuf> {
            let path = base.join(format!("round-{round}")).join(name);
            fs::create_dir_all(&path)?;
            Ok(path)
        };
        let (data, scratch) = (folder("data")?, [folder("floor-a")?, folder("floor-b")?]);
        let floors = !args.acceptance_only;
        let skipped = || Report { secs: f64::NAN, ..Report::default() };
        settle();
        let create =
            if floors { child(&[os("floor-create"), os(&scratch[0]), os(&n)])? } else { skipped() };
        settle();
        let imported = child(&[os("import"), os(&data), os(&stack)])?;
        import.ours.push(imported.secs);
        import.floor.push(create.secs);
        import.rss_kb.push(imported.vmhwm_kb);
        import.poll_ms.push(imported.poll_max_ms);
        eprintln!(
            "  import: {:.3} s, floor {:.3} s, {} MB",
            imported.secs,
            create.secs,
            imported.vmhwm_kb / 1024
        );

        // A different order each round, so no type always runs first (only `bin` without
        // the floors). Each export is timed beside its own floor: the floor's files move from
        // one of its folders to the other, as the wallet's move from Bank to Sent and back.
        let count = if floors { exports.len() } else { 1 };
        for k in 0..count {
            let (kind, samples) = &mut exports[(k + round) % count];
            let out = folder(&format!("out-{}", kind.extension()))?;
            settle();
            let moved = if floors {
                let (from, to) = (&scratch[k % 2], &scratch[(k + 1) % 2]);
                child(&[os("floor-move"), os(from), os(to)])?
            } else {
                skipped()
            };
            settle();
            let done = child(&[os("export"), os(&data), os(&out), os(kind.extension())])?;
            settle();
            let write = if floors {
                let file = folder("floor-out")?.join(format!("{}.out", kind.extension()));
                child(&[os("floor-write"), os(&file), os(&done.bytes.to_string())])?
            } else {
                skipped()
            };
            samples.ours.push(done.secs);
            samples.floor.push(moved.secs + write.secs);
            samples.rss_kb.push(done.vmhwm_kb);
            samples.poll_ms.push(done.poll_max_ms);
            eprintln!(
                "  export {}: {:.3} s, floor {:.3} + {:.3} s, {} MB, accepted in {:.1} ms",
                kind.extension(),
                done.secs,
                moved.secs,
                write.secs,
                done.vmhwm_kb / 1024,
                done.accept_ms.first().copied().unwrap_or(f64::NAN)
            );
            accept_whole.extend(done.accept_ms);
            restore(&data)?;
        }
        if args.small_exports > 0 {
            let small = args.small_exports.to_string();
            settle();
            let done = child(&[os("accept"), os(&data), os(&folder("out-small")?), os(&small)])?;
            eprintln!("  small exports accepted in {:.2?} ms", done.accept_ms);
            accept_small.extend(done.accept_ms);
            small_each.extend(done.each_ms);
            restore(&data)?;
        }
        if args.one_coin_exports > 0 && floors {
            let (ours, floor) = one_coin_round(args, round, &folder)?;
            eprintln!(
                "  1-coin exports: p50 {:.2} ms, floor p50 {:.2} ms",
                median(&ours.each_ms),
                median(&floor.each_ms)
            );
            one_coin.ours.extend(ours.each_ms);
            one_coin.floor.extend(floor.each_ms);
            one_coin.rss_kb.push(ours.vmhwm_kb);
        }
    }

    println!();
    println!(
        "{} coins (balance {}), {} rounds, in {}",
        args.coins,
        balance,
        args.runs,
        base.display()
    );
    println!(
        "{:<14} {:>9} {:>9} {:>7} {:>10} {:>10}   per round (ours/floor)",
        "job", "ours s", "floor s", "ratio", "peak RSS", "poll max"
    );
    let mut lines = vec![("import stack".to_owned(), &import)];
    lines.extend(
        exports
            .iter()
            .filter(|(_, s)| !s.ours.is_empty())
            .map(|(k, s)| (format!("export {}", k.extension()), s)),
    );
    for (name, s) in lines {
        let ratios: Vec<f64> = s.ours.iter().zip(&s.floor).map(|(o, f)| o / f).collect();
        let rounds: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "{:<14} {:>9.3} {:>9.3} {:>6.2}x {:>7} MB {:>7.1} ms   {}",
            name,
            median(&s.ours),
            median(&s.floor),
            median(&ratios),
            median_u64(&s.rss_kb) / 1024,
            median(&s.poll_ms),
            rounds.join(" ")
        );
    }
    println!(
        "export acceptance p50: small {:.2} ms ({} samples), whole balance {:.2} ms ({} samples)",
        median(&accept_small),
        accept_small.len(),
        median(&accept_whole),
        accept_whole.len()
    );
    if !small_each.is_empty() {
        println!(
            "small exports from the {}-coin wallet, request to outcome: p50 {:.2} ms ({} samples)",
            args.coins,
            median(&small_each),
            small_each.len()
        );
    }
    if !one_coin.ours.is_empty() {
        let (ours, floor) = (median(&one_coin.ours), median(&one_coin.floor));
        println!(
            "1-coin exports from a {}-coin wallet, request to outcome: p50 {:.2} ms, floor p50 {:.2} ms, {:.2}x, {} MB ({} samples each)",
            args.one_coin_wallet,
            ours,
            floor,
            ours / floor,
            median_u64(&one_coin.rss_kb) / 1024,
            one_coin.ours.len()
        );
    }

    Ok(())
}

/// One round of 1-coin exports against the same number of minimal durable exports (the floor),
/// in folders of the round's own; which runs first alternates from round to round.
fn one_coin_round(
    args: &RunArgs,
    round: usize,
    folder: &dyn Fn(&str) -> Result<PathBuf>,
) -> Result<(Report, Report)> {
    let count = args.one_coin_exports;
    // Every seventh bench coin is worth 1.
    if usize::try_from(args.one_coin_wallet / 7)? < count {
        bail!("--one-coin-wallet must hold at least 7 coins per 1-coin export");
    }
    let data = folder("one-coin-data")?;
    build_wallet(&data, args.one_coin_wallet)?;
    let (from, to, out) =
        (folder("one-floor-a")?, folder("one-floor-b")?, folder("one-floor-out")?);
    for i in 0..count {
        let coin = bench_coin(u32::try_from(i)?);
        fs::write(from.join(coin_name(&coin)), cloudcoin_codec::encode_bin(&[coin])?)?;
    }
    let n = count.to_string();
    let floor = || {
        settle();
        child(&[os("floor-one-coin"), os(&out), os(&from), os(&to), os(&n)])
    };
    let ours = || {
        settle();
        child(&[os("one-coin"), os(&data), os(&folder("one-coin-out")?), os(&n)])
    };
    Ok(if round.is_multiple_of(2) {
        let f = floor()?;
        (ours()?, f)
    } else {
        let o = ours()?;
        (o, floor()?)
    })
}

/// `Service::open` timed `--runs` times over a wallet of `--startup-coins` coins.
fn startup(args: &RunArgs, base: &Path) -> Result<()> {
    let data = base.join("startup");
    build_wallet(&data, args.startup_coins)?;
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..args.runs {
        let opened = child(&[os("open"), os(&data)])?;
        times.push(opened.secs);
        rss.push(opened.vmhwm_kb);
    }
    println!(
        "start-up with {} coins: {:.3} s, {} MB peak RSS (medians of {}; runs: {})",
        args.startup_coins,
        median(&times),
        median_u64(&rss) / 1024,
        times.len(),
        times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>().join(" ")
    );
    Ok(())
}

/// A data directory whose Default wallet holds `count` coins in Bank (written directly, as the
/// service would), plus foreign files the start-up scan must tolerate.
fn build_wallet(data: &Path, count: u32) -> Result<()> {
    fresh_dir(data)?;
    let bank = data.join("Wallets/Default/Bank");
    fs::create_dir_all(&bank)?;
    for i in 0..count {
        let coin = bench_coin(i);
        fs::write(bank.join(coin_name(&coin)), cloudcoin_codec::encode_bin(&[coin])?)?;
    }
    fs::write(bank.join("notes.txt"), b"not a coin file")?;
    let pair = [bench_coin(count), bench_coin(count + 1)];
    fs::write(bank.join("two coins.bin"), cloudcoin_codec::encode_bin(&pair)?)?;
    fs::write(bank.join("broken.bin"), [9u8; 100])?;
    let dropped = bench_coin(count + 2);
    fs::write(bank.join("dropped by hand.bin"), cloudcoin_codec::encode_bin(&[dropped])?)?;
    Ok(())
}
