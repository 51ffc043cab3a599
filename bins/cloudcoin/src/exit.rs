//! Failures and their exit statuses (listed in `--help` and the README).

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use cloudcoin_client::RefusalKind;
use cloudcoin_client::wire::{ErrorPayload, Rejection, Task, TaskData};
use cloudcoin_client::{Error, codes};
use serde::Serialize;

/// The exit statuses; `--help` lists them (`cli::AFTER_HELP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Status {
    /// A task ran and failed, or the answer made no sense.
    Failed = 1,
    /// A bad command line, or no API token.
    Usage = 2,
    /// No such wallet, task or file.
    NotFound = 3,
    /// Refused by the server.
    Refused = 4,
    /// Nothing listens, or no answer in time.
    Connection = 5,
    /// Refused: not enough coins.
    NotEnoughCoins = 6,
    /// Refused: no exact set of coins.
    NoExactChange = 7,
    /// Refused: wrong or missing token.
    Token = 8,
}

/// Why a command failed: the status, a one-line message, and the server's code if it gave one.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: Status,
    pub(crate) message: String,
    /// Lines printed after the message (an import's rejections).
    pub(crate) notes: Vec<String>,
    pub(crate) payload: Option<Box<ErrorPayload>>,
    pub(crate) task: Option<Box<Task>>,
}

impl Failure {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into(), notes: Vec::new(), payload: None, task: None }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Status::Usage, message)
    }

    /// The status for a server's numeric code.
    fn status_for(code: u16) -> Status {
        match code {
            codes::WALLET_NOT_FOUND | codes::TASK_NOT_FOUND | codes::NO_SUCH_ENDPOINT => {
                Status::NotFound
            }
            codes::NOT_ENOUGH_COINS => Status::NotEnoughCoins,
            codes::NO_EXACT_CHANGE => Status::NoExactChange,
            codes::UNAUTHORIZED => Status::Token,
            codes::INTERNAL => Status::Failed,
            _ => Status::Refused,
        }
    }

    /// A failed call, with what the client was doing.
    pub(crate) fn client(e: Error, server: &str) -> Failure {
        match e {
            Error::Api(api) => {
                let status = Failure::status_for(api.code());
                // The server's words for a refused token speak to every client (headers, the
                // browser's sign-in link); the CLI says what to do with the CLI.
                let message = if status == Status::Token {
                    format!(
                        "the server refused the API token (code {}); pass the right one with \
                         --token or --token-file, or none and --data-dir naming the server's \
                         data directory (the CLI then reads the token the server keeps there, in \
                         .cloudcoin/api-token)",
                        api.code()
                    )
                } else {
                    format!("{} (code {})", api.message(), api.code())
                };
                let mut f = Failure::new(status, message);
                f.payload = Some(api.payload);
                f
            }
            Error::Connect { .. } => Failure::new(
                Status::Connection,
                format!(
                    "cannot connect to the server at {server} ({}); is cloudcoin-server \
                     running? --server names another address",
                    root_cause(&e)
                ),
            ),
            Error::ExportUnconfirmed { ref key, attempts, ref last } => Failure::new(
                Status::Connection,
                format!(
                    "no answer to the export after {attempts} attempts ({}); it may have \
                     started: run the same command with --idempotency-key {key} to find out \
                     without exporting twice",
                    root_cause(last)
                ),
            ),
            Error::Timeout { .. } | Error::Connection { .. } => {
                let cause = root_cause(&e);
                let mut message = e.to_string();
                if !message.ends_with(&cause) {
                    message = format!("{message} ({cause})");
                }
                Failure::new(Status::Connection, message)
            }
            Error::InvalidUrl { .. } | Error::Request { .. } => Failure::usage(e.to_string()),
            _ => Failure::new(Status::Failed, e.to_string()),
        }
    }

    /// A task that ended in error.
    pub(crate) fn task(task: Task) -> Failure {
        let mut f = match &task.data {
            Some(TaskData::Error(payload)) => {
                let mut f = Failure::new(
                    Status::Failed,
                    format!(
                        "the {} task failed: {} (code {})",
                        task.kind.as_str(),
                        payload.message,
                        payload.code
                    ),
                );
                f.payload = Some(Box::new(payload.clone()));
                f
            }
            Some(TaskData::Import(import)) => {
                let mut f = Failure::new(
                    Status::Failed,
                    format!("nothing was imported: {}", refusals(&import.rejected)),
                );
                f.notes = rejection_notes(&import.rejected);
                f
            }
            _ => Failure::new(
                Status::Failed,
                format!("the {} task failed: {}", task.kind.as_str(), task.message),
            ),
        };
        f.task = Some(Box::new(task));
        f
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.status as u8)
    }
}

/// `n` and the noun that agrees with it: `counted(1, "file", "files")` is "1 file". The one
/// helper every command's output counts with (here, the leaf the commands stand on).
pub(crate) fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// [`counted`] of `usize` things.
fn counted_len(n: usize, one: &str, many: &str) -> String {
    counted(u64::try_from(n).unwrap_or(u64::MAX), one, many)
}

/// "1 refusal", "6 refusals from 2 files".
fn refusals(rejected: &[Rejection]) -> String {
    let files = rejected.iter().map(|r| r.source.as_str()).collect::<BTreeSet<_>>().len();
    let what = counted_len(rejected.len(), "refusal", "refusals");
    match files {
        0 | 1 => what,
        n => format!("{what} from {n} files"),
    }
}

/// How many refusals of one file are printed; the rest are counted (`--json` has them all).
const REFUSALS_SHOWN_PER_FILE: usize = 3;

/// One line per refusal, in the order given, at most [`REFUSALS_SHOWN_PER_FILE`] per file and
/// then how many more; the coins this server sent away (by the refusal's code) in one line per
/// file that says what `--allow-sent` does.
pub(crate) fn rejection_notes(rejected: &[Rejection]) -> Vec<String> {
    let mut shown: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sent: BTreeMap<&str, usize> = BTreeMap::new();
    let mut notes = Vec::new();
    for r in rejected {
        if r.kind() == Some(RefusalKind::SentAway) {
            *sent.entry(r.source.as_str()).or_default() += 1;
            continue;
        }
        let n = shown.entry(r.source.as_str()).or_default();
        *n += 1;
        if *n <= REFUSALS_SHOWN_PER_FILE {
            notes.push(format!("  rejected {}: {}", r.source, r.reason));
        }
    }
    for (source, n) in sent {
        let (them, were) = if n == 1 { ("it", "was") } else { ("them", "were") };
        notes.push(format!(
            "  rejected {source}: {} this server sent away earlier {were} not stored again: \
             whoever holds the exported file can spend {them} too; if this file is yours and no \
             one else has a copy, import it again with --allow-sent",
            counted_len(n, "coin", "coins")
        ));
    }
    for (source, n) in shown.into_iter().filter(|(_, n)| *n > REFUSALS_SHOWN_PER_FILE) {
        notes.push(format!(
            "  … and {} of {source} (--json lists every one)",
            counted_len(n - REFUSALS_SHOWN_PER_FILE, "more refusal", "more refusals")
        ));
    }
    notes
}

/// The innermost cause's text ("Connection refused (os error 111)").
fn root_cause(e: &Error) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The `--json` document of a failure.
#[derive(Serialize)]
pub(crate) struct FailureJson<'a> {
    error: FailureBody<'a>,
}

#[derive(Serialize)]
struct FailureBody<'a> {
    exit: u8,
    kind: Status,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a cloudcoin_client::wire::ErrorDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<&'a Task>,
}

impl Failure {
    pub(crate) fn json(&self) -> FailureJson<'_> {
        FailureJson {
            error: FailureBody {
                exit: self.status as u8,
                kind: self.status,
                message: &self.message,
                code: self.payload.as_ref().map(|p| p.code),
                details: self.payload.as_ref().and_then(|p| p.details.as_deref()),
                task: self.task.as_deref(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_refusals_are_in_proper_words() {
        let four: Vec<Rejection> = (0..4)
            .map(|i| Rejection::new(i, "a.stack", RefusalKind::NotCoins, "not a coin"))
            .collect();
        let notes = rejection_notes(&four);
        assert_eq!(
            notes.last().map(String::as_str),
            Some("  … and 1 more refusal of a.stack (--json lists every one)")
        );
        assert_eq!(refusals(&four[..1]), "1 refusal");
        assert_eq!(refusals(&four), "4 refusals");
    }

    /// Coins this server sent away are recognised by their code, whatever the reason says,
    /// and summed up per file in one line that names the flag that stores them.
    #[test]
    fn sent_away_coins_are_one_line_per_file_naming_allow_sent() {
        let sent = |i, source| Rejection::new(i, source, RefusalKind::SentAway, "worded anyhow");
        let rejected = [
            sent(0, "a.zip"),
            Rejection::new(0, "a.zip", RefusalKind::OtherKeys, "other keys"),
            sent(0, "a.zip"),
            sent(1, "b.stack"),
        ];
        let notes = rejection_notes(&rejected);
        assert_eq!(notes.len(), 3, "{notes:#?}");
        assert_eq!(notes[0], "  rejected a.zip: other keys");
        assert!(notes[1].starts_with("  rejected a.zip: 2 coins this server sent away earlier were not stored again: whoever holds the exported file can spend them too"), "{notes:#?}");
        assert!(notes[1].ends_with("import it again with --allow-sent"), "{notes:#?}");
        assert!(
            notes[2].contains("b.stack: 1 coin this server sent away earlier was not stored again")
        );
        assert!(notes.iter().all(|n| !n.contains("worded anyhow")), "{notes:#?}");
    }

    #[test]
    fn each_refusal_has_its_status() {
        assert_eq!(Failure::status_for(codes::WALLET_NOT_FOUND), Status::NotFound);
        assert_eq!(Failure::status_for(codes::TASK_NOT_FOUND), Status::NotFound);
        assert_eq!(Failure::status_for(codes::NOT_ENOUGH_COINS), Status::NotEnoughCoins);
        assert_eq!(Failure::status_for(codes::NO_EXACT_CHANGE), Status::NoExactChange);
        assert_eq!(Failure::status_for(codes::UNAUTHORIZED), Status::Token);
        assert_eq!(Failure::status_for(codes::BAD_FOLDER), Status::Refused);
        assert_eq!(Failure::status_for(codes::WALLET_EXISTS), Status::Refused);
    }

    #[test]
    fn the_statuses_are_the_documented_numbers() {
        let help = crate::cli::AFTER_HELP;
        for (status, line) in [
            (Status::Failed, "  1  a task ran and failed"),
            (Status::Usage, "  2  usage"),
            (Status::NotFound, "  3  not found"),
            (Status::Refused, "  4  refused by the server"),
            (Status::Connection, "  5  connection failed"),
            (Status::NotEnoughCoins, "  6  refused by the server: not enough coins"),
            (Status::NoExactChange, "  7  refused by the server: no exact set"),
            (Status::Token, "  8  refused by the server: wrong or missing API token"),
        ] {
            assert!(help.contains(line), "--help lacks {line:?}");
            assert_eq!(
                line.trim_start().split(' ').next(),
                Some((status as u8).to_string().as_str())
            );
        }
    }
}
