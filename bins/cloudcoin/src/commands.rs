//! One function per command: build the request from the arguments, make the calls through
//! [`cloudcoin_client::Client`], follow the task, print the result.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cloudcoin_client::wire::{
    BackupRequest, ExportRequest, ImportItem, ImportRequest, Task, TaskData, WalletDetail,
};
use cloudcoin_client::{Amount, FileKind, Tag, TaskId, TaskStatus};

use crate::cli::{BackupArgs, Command, ExportArgs, FileType, ImportArgs, TaskWait, WalletCommand};
use crate::context::{Context, wallet_name};
use crate::exit::{Failure, Status};
use crate::output::table;

pub(crate) async fn run(cx: &Context, command: Command) -> Result<(), Failure> {
    match command {
        Command::Export(args) => export(cx, args).await,
        Command::Import(args) => import(cx, args).await,
        Command::Backup(args) => backup(cx, args).await,
        Command::Wallets => wallets(cx).await,
        Command::Wallet(WalletCommand::Create { name }) => {
            let name = wallet_name("NAME", &name)?;
            let w = cx.client.create_wallet(&name).await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&w, |o| writeln!(o, "created wallet {}", w.name.as_str()))
        }
        Command::Wallet(WalletCommand::Show { name }) => {
            let name = wallet_name("NAME", &name)?;
            let w = cx.client.wallet(&name).await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&w, |o| print_wallet(o, &w))
        }
        Command::Wallet(WalletCommand::Delete { name }) => {
            let name = wallet_name("NAME", &name)?;
            let d = cx.client.delete_wallet(&name).await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&d, |o| writeln!(o, "deleted wallet {}", d.deleted))
        }
        Command::Tasks => {
            let tasks = cx.client.tasks().await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&tasks, |o| print_tasks(o, &tasks))
        }
        Command::Task(args) => match (args.id, args.wait) {
            (_, Some(TaskWait::Wait { id })) => {
                let id = task_id(&id)?;
                let task = follow(cx, id, "task").await?;
                finished(cx, task)
            }
            // One rendering and one exit rule with `task wait`: a finished task prints its
            // result (or fails with its error, exit 1); a running one prints where it is.
            (Some(id), None) => {
                let task = cx.client.task(task_id(&id)?).await.map_err(|e| cx.call_failed(e))?;
                if task.status == TaskStatus::Running {
                    cx.out.emit(&task, |o| print_task(o, &task))
                } else {
                    finished(cx, task)
                }
            }
            (None, None) => {
                Err(Failure::usage("give a task id: cloudcoin task ID, or task wait ID"))
            }
        },
        Command::Fix { wallet } => {
            let wallet = wallet_name("--wallet", &wallet)?;
            let request = cloudcoin_client::wire::FixRequest::new(wallet);
            let task = cx.client.fix(&request).await.map_err(|e| cx.call_failed(e))?;
            let task = follow(cx, task.id, "fix").await?;
            finished(cx, task)
        }
        Command::Reclaim { task, check: true } => {
            let export = task_id(&task)?;
            let data = cx.client.reclaim_check(export).await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&data, |o| print_reclaim(o, &data))
        }
        Command::Reclaim { task, check: false } => {
            let request = cloudcoin_client::wire::ReclaimRequest::new(task_id(&task)?);
            let task = cx.client.reclaim(&request).await.map_err(|e| cx.call_failed(e))?;
            let task = follow(cx, task.id, "reclaim").await?;
            finished(cx, task)
        }
        Command::Raida => {
            let status = cx.client.raida().await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&status, |o| {
                writeln!(o, "{} of 25 RAIDA up", status.up)?;
                let mut rows = vec![["ID", "ADDRESS", "UP", "MS"].map(String::from).to_vec()];
                rows.extend(status.raida.iter().map(|r| {
                    vec![
                        r.id.to_string(),
                        r.address.clone(),
                        if r.up { "yes" } else { "no" }.to_owned(),
                        r.latency_ms.map_or_else(|| "-".to_owned(), |ms| ms.to_string()),
                    ]
                }));
                table(o, &rows)
            })
        }
        Command::Info => {
            let info = cx.client.info().await.map_err(|e| cx.call_failed(e))?;
            cx.out.emit(&info, |o| {
                writeln!(
                    o,
                    "{} {} (API {}) at {}: {}",
                    info.name, info.version, info.api, cx.server, info.status
                )
            })
        }
        Command::Completions { shell } => crate::completions(shell),
        Command::Open { print } => crate::open::open(None, print),
        Command::History { wallet, limit, offset } => {
            crate::history::history(cx, &wallet, offset, limit).await
        }
    }
}

fn tag(text: Option<&str>) -> Result<Option<Tag>, Failure> {
    text.map(|t| Tag::parse(t).map_err(|e| Failure::usage(format!("--tag «{t}»: {e}")))).transpose()
}

pub(crate) use crate::exit::counted;

/// "1 coin", "3 coins".
pub(crate) fn coins(n: u64) -> String {
    counted(n, "coin", "coins")
}

fn task_id(text: &str) -> Result<TaskId, Failure> {
    text.parse().map_err(|_| Failure::usage(format!("{text:?} is not a task id (a UUID)")))
}

/// `folder` made absolute against the current directory (the server needs absolute paths;
/// links are left for the server to judge).
fn absolute(what: &str, path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path).map_err(|e| Failure::usage(format!("{what} {}: {e}", path.display())))
}

async fn export(cx: &Context, args: ExportArgs) -> Result<(), Failure> {
    let wallet = wallet_name("--wallet", &args.wallet)?;
    let amount = Amount::parse_request(&args.amount)
        .map_err(|e| Failure::usage(format!("AMOUNT {:?}: {e}", args.amount)))?;
    let folder = absolute("--folder", &args.folder)?;
    let kind = match args.kind {
        FileType::Stack => FileKind::Stack,
        FileType::Png => FileKind::Png,
        FileType::Zip => FileKind::Zip,
        FileType::Bin => FileKind::Bin,
        FileType::Pdf => FileKind::Pdf,
    };
    let mut request =
        ExportRequest::new(wallet, amount, folder, kind).with_make_change(!args.no_change);
    if let Some(t) = tag(args.tag.as_deref())? {
        request = request.with_tag(t);
    }
    let started = match &args.idempotency_key {
        Some(key) => cx.client.export_with_key(&request, key).await,
        None => cx.client.export(&request).await,
    };
    let task = started.map_err(|e| cx.call_failed(e))?;
    let task = follow(cx, task.id, "export").await?;
    finished(cx, task)
}

/// The extensions of the files a folder import takes: coin files, and the pictures and scans
/// of printed paper wallets.
const COIN_EXTENSIONS: [&str; 7] = ["bin", "stack", "png", "zip", "pdf", "jpg", "jpeg"];

async fn import(cx: &Context, args: ImportArgs) -> Result<(), Failure> {
    let wallet = wallet_name("--wallet", &args.wallet)?;
    let (paths, skipped) = coin_files(&args.paths)?;
    let upload = args.upload;
    let items = tokio::task::spawn_blocking(move || import_items(&paths, upload))
        .await
        .map_err(|e| Failure::new(Status::Failed, format!("reading the files failed: {e}")))??;
    if !cx.out.json {
        for path in &skipped {
            eprintln_note(&format!(
                "skipped {} (not a .bin, .stack, .png, .zip, .pdf, .jpg or .jpeg file)",
                path.display()
            ));
        }
    }
    let request = ImportRequest::new(wallet, items);
    let request = if args.allow_sent { request.with_sent_coins_allowed() } else { request };
    let task = cx.client.import(&request).await.map_err(|e| cx.call_failed(e))?;
    let task = follow(cx, task.id, "import").await?;
    finished(cx, task)
}

async fn backup(cx: &Context, args: BackupArgs) -> Result<(), Failure> {
    let wallet = wallet_name("--wallet", &args.wallet)?;
    let mut request = BackupRequest::new(wallet, absolute("--folder", &args.folder)?);
    if let Some(t) = tag(args.tag.as_deref())? {
        request = request.with_tag(t);
    }
    let task = cx.client.backup(&request).await.map_err(|e| cx.call_failed(e))?;
    let task = follow(cx, task.id, "backup").await?;
    finished(cx, task)
}

async fn wallets(cx: &Context) -> Result<(), Failure> {
    let wallets = cx.client.wallets().await.map_err(|e| cx.call_failed(e))?;
    cx.out.emit(&wallets, |o| {
        let mut rows = vec![vec!["NAME".to_owned(), "BALANCE".to_owned(), "COINS".to_owned()]];
        rows.extend(
            wallets.iter().map(|w| {
                vec![w.name.as_str().to_owned(), w.balance.to_string(), w.coins.to_string()]
            }),
        );
        table(o, &rows)
    })
}

/// How many polls in a row may go unanswered before following a task gives up.
const POLL_MISSES: u32 = 3;

/// Follows a task to its end with a progress bar. A poll that gets no answer is tried again
/// (up to [`POLL_MISSES`] in a row); when following fails, the message says how to resume.
async fn follow(cx: &Context, id: TaskId, what: &str) -> Result<Task, Failure> {
    let progress = cx.out.progress(what);
    let mut wait = cx.client.wait(id);
    let mut misses = 0;
    let result = loop {
        match wait.next().await {
            Some(Ok(task)) => {
                misses = 0;
                progress.show(&task);
                if task.status != TaskStatus::Running {
                    break Ok(task);
                }
            }
            Some(Err(e)) if e.is_transport() && misses + 1 < POLL_MISSES => misses += 1,
            Some(Err(e)) => break Err(e),
            None => break cx.client.task(id).await,
        }
    };
    progress.clear();
    result.map_err(|e| {
        let mut f = cx.call_failed(e);
        f.message.push_str(&format!(
            "; the {what} task {id} was started: follow it with `cloudcoin task wait {id}`"
        ));
        f
    })
}

/// Prints a finished task's result, or fails with its error.
fn finished(cx: &Context, task: Task) -> Result<(), Failure> {
    if task.status != TaskStatus::Completed {
        return Err(Failure::task(task));
    }
    cx.out.emit(&task, |o| print_result(o, &task))
}

/// The files to import: each path given, and the coin files directly in each folder given;
/// also what was skipped in folders.
fn coin_files(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for given in paths {
        let path = absolute("PATH", given)?;
        let meta = std::fs::metadata(&path).map_err(|e| {
            let status =
                if e.kind() == io::ErrorKind::NotFound { Status::NotFound } else { Status::Usage };
            Failure::new(status, format!("{}: {e}", given.display()))
        })?;
        if !meta.is_dir() {
            files.push(path);
            continue;
        }
        let entries = std::fs::read_dir(&path)
            .map_err(|e| Failure::usage(format!("{}: {e}", given.display())))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Failure::usage(format!("{}: {e}", given.display())))?;
            let file = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()) || !file.is_file() {
                continue;
            }
            let coin_ext = file
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| COIN_EXTENSIONS.iter().any(|k| e.eq_ignore_ascii_case(k)));
            if coin_ext { found.push(file) } else { skipped.push(file) }
        }
        if found.is_empty() {
            return Err(Failure::new(
                Status::NotFound,
                format!(
                    "{}: no .bin, .stack, .png, .zip, .pdf, .jpg or .jpeg file in this folder",
                    given.display()
                ),
            ));
        }
        found.sort();
        files.extend(found);
    }
    Ok((files, skipped))
}

/// The import items: paths for the server to read, or the files' bytes with `--upload`.
fn import_items(paths: &[PathBuf], upload: bool) -> Result<Vec<ImportItem>, Failure> {
    paths
        .iter()
        .map(|p| {
            if !upload {
                return Ok(ImportItem::File(p.clone()));
            }
            let bytes = std::fs::read(p)
                .map_err(|e| Failure::usage(format!("reading {}: {e}", p.display())))?;
            Ok(ImportItem::Bytes(bytes))
        })
        .collect()
}

/// A line on standard error for a person (not part of the result).
fn eprintln_note(line: &str) {
    let _ = writeln!(io::stderr(), "{line}");
}

fn print_result(o: &mut dyn Write, task: &Task) -> io::Result<()> {
    match &task.data {
        Some(TaskData::Export(d)) => {
            writeln!(o, "file:    {}", d.file.display())?;
            writeln!(o, "amount:  {}", d.amount)?;
            writeln!(o, "coins:   {}", d.coins)?;
            writeln!(o, "sha256:  {}", d.sha256)?;
            match &d.change {
                Some(c) => writeln!(o, "change:  {}", c.note),
                None => Ok(()),
            }
        }
        Some(TaskData::Backup(d)) => {
            writeln!(o, "file:    {}", d.file.display())?;
            writeln!(o, "amount:  {}", d.amount)?;
            writeln!(o, "coins:   {}", d.coins)?;
            writeln!(o, "sha256:  {}", d.sha256)
        }
        Some(TaskData::Import(d)) => {
            writeln!(o, "imported:         {} worth {}", coins(d.imported), d.amount)?;
            writeln!(o, "already present:  {}", coins(d.already_present))?;
            writeln!(o, "rejected:         {}", d.rejected.len())?;
            for line in crate::exit::rejection_notes(&d.rejected) {
                writeln!(o, "{line}")?;
            }
            if let Some(c) = &d.claim {
                if c.claimed {
                    let g = |x: &cloudcoin_client::wire::GradeData| {
                        format!("{} ({})", x.coins, x.amount.display_grouped())
                    };
                    writeln!(
                        o,
                        "claimed:          bank {}, fracked {}, limbo {}, counterfeit {}",
                        g(&c.bank),
                        g(&c.fracked),
                        g(&c.limbo),
                        g(&c.counterfeit)
                    )?;
                    for coin in &c.counterfeit_coins {
                        writeln!(o, "  counterfeit: denomination {} #{}", coin.dn, coin.sn)?;
                    }
                }
                writeln!(o, "{}", c.note)?;
            }
            Ok(())
        }
        Some(TaskData::Reclaim(d)) => print_reclaim(o, d),
        Some(TaskData::Fix(d)) => {
            let g = |x: &cloudcoin_client::wire::GradeData| {
                format!("{} ({})", x.coins, x.amount.display_grouped())
            };
            writeln!(o, "coins looked at:  {}", d.coins)?;
            writeln!(o, "bank:             {}", g(&d.bank))?;
            writeln!(o, "fracked:          {}", g(&d.fracked))?;
            writeln!(o, "limbo:            {}", g(&d.limbo))?;
            writeln!(o, "counterfeit:      {}", g(&d.counterfeit))
        }
        _ => writeln!(o, "{}", task.message),
    }
}

/// A reclaim's outcome, or its check's.
fn print_reclaim(o: &mut dyn Write, d: &cloudcoin_client::wire::ReclaimData) -> io::Result<()> {
    let g = |x: &cloudcoin_client::wire::GradeData| {
        format!("{} ({})", x.coins, x.amount.display_grouped())
    };
    writeln!(o, "export:           {}", d.export)?;
    writeln!(o, "file:             {}", d.file.display())?;
    writeln!(o, "coins sent:       {}", d.coins)?;
    if d.reclaimed {
        writeln!(o, "back in wallet:   {}", g(&d.returned))?;
        writeln!(o, "limbo:            {}", g(&d.limbo))?;
    } else {
        writeln!(o, "not claimed yet:  {}", g(&d.unclaimed))?;
    }
    writeln!(o, "received:         {}", g(&d.received))?;
    writeln!(o, "unknown:          {}", g(&d.unknown))?;
    writeln!(o, "in wallet again:  {}", g(&d.held))?;
    for coin in &d.received_coins {
        writeln!(o, "  received: denomination {} #{}", coin.dn, coin.sn)?;
    }
    writeln!(o, "{}", d.note)
}

fn print_wallet(o: &mut dyn Write, w: &WalletDetail) -> io::Result<()> {
    writeln!(o, "wallet:   {}", w.name.as_str())?;
    writeln!(o, "balance:  {}", w.balance)?;
    writeln!(o, "coins:    {}", w.coins)?;
    let mut by_value: Vec<_> = w.denominations.iter().filter(|(_, n)| **n > 0).collect();
    by_value.sort_by_key(|(d, _)| std::cmp::Reverse(d.value().map_or(0, Amount::units)));
    let coins: Vec<String> = by_value.iter().map(|(d, n)| format!("{d} × {n}")).collect();
    let none = || "none".to_owned();
    writeln!(o, "by denomination:  {}", if coins.is_empty() { none() } else { coins.join(", ") })?;
    let files: Vec<String> =
        w.folders.iter().filter(|(_, n)| **n > 0).map(|(f, n)| format!("{f} {n}")).collect();
    writeln!(o, "files per folder: {}", if files.is_empty() { none() } else { files.join(", ") })
}

fn print_tasks(o: &mut dyn Write, tasks: &[Task]) -> io::Result<()> {
    if tasks.is_empty() {
        return writeln!(
            o,
            "no tasks yet (exports, imports and backups show here while they run and for a day after)"
        );
    }
    let mut rows = vec![
        ["ID", "STARTED (UTC)", "TYPE", "WALLET", "STATUS", "PROGRESS", "AMOUNT", "MESSAGE"]
            .map(String::from)
            .to_vec(),
    ];
    rows.extend(tasks.iter().map(|t| {
        vec![
            t.id.to_string(),
            utc_time(t.started),
            t.kind.as_str().to_owned(),
            t.wallet.as_ref().map_or_else(|| "-".to_owned(), |w| w.as_str().to_owned()),
            t.status.as_str().to_owned(),
            format!("{}%", t.progress),
            t.amount.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            one_line(&t.message, 100),
        ]
    }));
    table(o, &rows)
}

/// `text` cut to `max` characters with "…" (the whole of it: `cloudcoin task ID`).
fn one_line(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` in UTC (days to a civil date: Howard Hinnant's method).
pub(crate) fn utc_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn print_task(o: &mut dyn Write, t: &Task) -> io::Result<()> {
    writeln!(o, "task:     {}", t.id)?;
    writeln!(o, "type:     {}", t.kind.as_str())?;
    if let Some(w) = &t.wallet {
        writeln!(o, "wallet:   {}", w.as_str())?;
    }
    if let Some(a) = t.amount {
        writeln!(o, "amount:   {a}")?;
    }
    writeln!(o, "started:  {} UTC", utc_time(t.started))?;
    writeln!(o, "status:   {}", t.status.as_str())?;
    writeln!(o, "progress: {}%", t.progress)?;
    writeln!(o, "message:  {}", t.message)?;
    if t.status == TaskStatus::Completed {
        print_result(o, t)?;
    } else if let Some(TaskData::Error(e)) = &t.data {
        writeln!(o, "error:    {} (code {})", e.message, e.code)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_and_counts() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00");
        assert_eq!(utc_time(1_764_339_000), "2025-11-28 14:10:00");
        assert_eq!(utc_time(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(coins(1), "1 coin");
        assert_eq!(coins(0), "0 coins");
        assert_eq!(one_line("short", 10), "short");
        assert_eq!(one_line("ééééé long text", 6), "ééééé…");
    }
}
