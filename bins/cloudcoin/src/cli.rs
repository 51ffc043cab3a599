//! The command line: global options, the commands, and the exit statuses `--help` documents.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What `--help` says after the commands: the exit statuses and where the token comes from.
pub(crate) const AFTER_HELP: &str = "\
API token: --token, else --token-file, else CLOUDCOIN_AUTH_TOKEN, else the file the server
writes in its data directory, {data dir}/.cloudcoin/api-token, where the data directory is
--data-dir, CLOUDCOIN_DATA_DIR, $XDG_DATA_HOME/cloudcoin-server or
~/.local/share/cloudcoin-server (the server's own default).

Exit status:
  0  success
  1  a task ran and failed, or the server's answer made no sense (the message says which)
  2  usage: a bad command line, or no API token found
  3  not found: no such wallet, task or file
  4  refused by the server (a field, a folder, a wallet that exists or is not empty, ...)
  5  connection failed: nothing listens at --server, or it did not answer in time
  6  refused by the server: not enough coins
  7  refused by the server: no exact set of coins for the amount
  8  refused by the server: wrong or missing API token";

/// A command-line wallet for the CloudCoin wallet server: export exact amounts into coin
/// files, import coin files, back up and manage wallets, follow tasks.
#[derive(Debug, Parser)]
#[command(name = "cloudcoin", version, about, after_long_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// The server's address.
    #[arg(long, env = "CLOUDCOIN_SERVER", default_value = "http://127.0.0.1:8006", global = true)]
    pub(crate) server: String,

    /// The API token (see "API token" in --help for where it is found otherwise).
    #[arg(long, global = true, conflicts_with_all = ["token_file", "no_token"])]
    pub(crate) token: Option<String>,

    /// Send no token at all: for a server started with `--no-auth` (which writes no token file).
    #[arg(long, global = true, conflicts_with = "token_file")]
    pub(crate) no_token: bool,

    /// A file holding the API token.
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,

    /// The server's data directory, to find its token file when no token is given.
    #[arg(long, env = "CLOUDCOIN_DATA_DIR", global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Print one JSON document per command on standard output, and no progress bar.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Seconds to wait for each answer from the server.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) timeout: u64,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The export file types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FileType {
    /// JSON stack file.
    Stack,
    /// PNG picture carrying the coins.
    Png,
    /// Zip of single-coin files.
    Zip,
    /// Binary format-9 coin file.
    Bin,
    /// Printable paper wallet: pages of QR codes, with the coins attached (at most 500 coins).
    Pdf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Export an exact amount from a wallet into a new coin file in a folder, wait for it,
    /// and print the file's path, amount, coin count and SHA-256.
    Export(ExportArgs),
    /// Import coin files (bin, stack, png, zip, pdf) into a wallet; pictures and scans of
    /// printed paper wallets work too (photos as .jpg/.jpeg/.png, an office scanner's .pdf; give
    /// every page, in any order). A folder imports the .bin, .stack, .png, .zip, .pdf, .jpg and
    /// .jpeg files directly in it.
    Import(ImportArgs),
    /// Write a zip of every coin in a wallet into a folder (the coins stay in the wallet).
    Backup(BackupArgs),
    /// Heal a wallet's Limbo and Fracked coins with the RAIDA (the server needs --raida-list),
    /// wait for it, and print the grade each coin ended in.
    Fix {
        /// The wallet to heal.
        #[arg(long, default_value = "Default")]
        wallet: String,
    },
    /// Show every RAIDA's echo: up or not, and the round trip.
    Raida,
    /// Take back the coins of an export its recipient has not claimed (the server needs
    /// --raida-list): they return to the wallet with new keys and the exported file becomes
    /// worthless for them; coins already claimed are reported as received. A recipient
    /// claiming at the same moment can win some coins (see the API document). `--check` only
    /// looks, changing nothing.
    Reclaim {
        /// The export's task id (as `cloudcoin export` printed it, or `cloudcoin tasks`).
        task: String,
        /// Only check whether the recipient has claimed the coins; change nothing.
        #[arg(long)]
        check: bool,
    },
    /// List the wallets with their balances.
    Wallets,
    /// Create, show or delete one wallet.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// List the recent tasks, newest first.
    Tasks,
    /// Show a task, or wait for it to finish (`task wait ID`).
    Task(TaskArgs),
    /// Show the server's name, version and API version.
    Info,
    /// Show a wallet's history: every export and import, newest first (its transactions.csv,
    /// read from the server's data directory on this machine).
    History {
        /// The wallet.
        #[arg(long, default_value = "Default")]
        wallet: String,
    },
    /// Open the wallet page in a browser: prints the server's one-time sign-in link (from
    /// {data dir}/.cloudcoin/sign-in-url), and opens it with xdg-open when a desktop is there.
    Open {
        /// Only print the link; do not start a browser.
        #[arg(long)]
        print: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The exact amount, e.g. 10.5 (at most 8 fraction digits).
    #[arg(allow_negative_numbers = true)]
    pub(crate) amount: String,
    /// The file type.
    #[arg(long = "type", value_enum, default_value = "zip")]
    pub(crate) kind: FileType,
    /// The folder to write the file in (made absolute against the current directory).
    #[arg(long)]
    pub(crate) folder: PathBuf,
    /// The wallet to take the coins from.
    #[arg(long, default_value = "Default")]
    pub(crate) wallet: String,
    /// The tag in the file's name.
    #[arg(long)]
    pub(crate) tag: Option<String>,
    /// Reuse the key of an export that got no answer: the server then answers with that
    /// export's task instead of starting a second one. A fresh key is made otherwise.
    #[arg(long, value_name = "KEY")]
    pub(crate) idempotency_key: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// Coin files or folders of coin files.
    #[arg(required = true)]
    pub(crate) paths: Vec<PathBuf>,
    /// The wallet to store the coins in.
    #[arg(long, default_value = "Default")]
    pub(crate) wallet: String,
    /// Send the files' contents instead of their paths (for a server on another machine).
    #[arg(long)]
    pub(crate) upload: bool,
    /// Store coins this server sent away too (a file that came back to you, or coins moved
    /// between two wallets of the server). Whoever else holds such a file can spend its coins
    /// too; only claiming them with the RAIDA settles who owns them.
    #[arg(long)]
    pub(crate) allow_sent: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The folder to write the zip in (made absolute against the current directory).
    #[arg(long)]
    pub(crate) folder: PathBuf,
    /// The wallet to back up.
    #[arg(long, default_value = "Default")]
    pub(crate) wallet: String,
    /// The tag in the file's name (default: "backup" and the date and time).
    #[arg(long)]
    pub(crate) tag: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create an empty wallet.
    Create {
        /// Its name.
        name: String,
    },
    /// Show a wallet's balance, coins per denomination and files per folder.
    Show {
        /// Its name.
        #[arg(default_value = "Default")]
        name: String,
    },
    /// Delete an empty wallet.
    Delete {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct TaskArgs {
    /// The task's id.
    pub(crate) id: Option<String>,
    #[command(subcommand)]
    pub(crate) wait: Option<TaskWait>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TaskWait {
    /// Wait for a task to finish, with a progress bar, and print it.
    Wait {
        /// The task's id.
        id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn task_takes_an_id_or_wait_id() {
        let show = Cli::try_parse_from(["cloudcoin", "task", "abc"]).expect("task ID");
        assert!(
            matches!(show.command, Command::Task(TaskArgs { id: Some(ref i), wait: None }) if i == "abc")
        );
        let wait = Cli::try_parse_from(["cloudcoin", "task", "wait", "abc"]).expect("task wait ID");
        assert!(matches!(
            wait.command,
            Command::Task(TaskArgs { id: None, wait: Some(TaskWait::Wait { ref id }) }) if id == "abc"
        ));
    }
}
