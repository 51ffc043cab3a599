//! The public v3 wallet layout, so that a CloudCoin client following it recognises our wallets.
//!
//! That layout (the CloudCoin client specifications' "wallet folder structure") names, in each
//! wallet folder: `transactions.csv`, `config.toml`, and the folders `Bank`, `Corrupted`,
//! `Counterfeit`, `Duplicates`, `Encryption_Failed`, `Errored`, `Export`, `Fracked`, `Grade`,
//! `Import`, `Imported`, `Limbo`, `Lockered`, `Pending`, `Receipts`, `Sent`, `Suspect`, `Trash`
//! and `Withdrawn`; a folder is recognised as a wallet when it holds `transactions.csv`,
//! `config.toml`, `Bank` and `Fracked`. The wallet's own folders ([`Folder::ALL`]) are made with
//! the wallet; this module adds the folders of the layout the server does not use, and a
//! `config.toml`, at every start and at every wallet's creation. Both are idempotent: a folder
//! or a `config.toml` that exists is left as it is (a person may have edited the file).
//!
//! The server reads nothing from these folders or from `config.toml`: coins put there are not
//! in the wallet (see docs/SPEC.md §5).
//!
//! [`Folder::ALL`]: crate::store::Folder

use std::fs;
use std::io::{self, Write};

use cloudcoin_domain::WalletName;

use crate::store::Layout;

/// The folders of the v3 layout the server makes but does not use.
pub(crate) const UNUSED_FOLDERS: [&str; 9] = [
    "Corrupted",
    "Duplicates",
    "Encryption_Failed",
    "Errored",
    "Export",
    "Grade",
    "Lockered",
    "Pending",
    "Withdrawn",
];

/// The file name of a wallet's settings in the v3 layout.
pub(crate) const CONFIG_FILE: &str = "config.toml";

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `config.toml` written for `wallet`.
fn config_text(wallet: &WalletName) -> String {
    format!(
        "# CloudCoin wallet settings (the v3 wallet layout's config.toml).\n\
         # Written once by cloudcoin-server, which never rewrites it and reads nothing from it.\n\
         [wallet]\n\
         name = {}\n",
        toml_string(wallet.as_str())
    )
}

/// Makes the v3 layout's folders the server does not use and `config.toml` in `wallet`'s
/// folder, where missing. Blocking.
pub(crate) fn ensure(layout: &Layout, wallet: &WalletName) -> io::Result<()> {
    let dir = layout.wallet(wallet);
    let mut made = false;
    for name in UNUSED_FOLDERS {
        match fs::create_dir(dir.join(name)) {
            Ok(()) => made = true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    let config = dir.join(CONFIG_FILE);
    match fs::OpenOptions::new().write(true).create_new(true).open(&config) {
        Ok(mut f) => {
            f.write_all(config_text(wallet).as_bytes())?;
            f.sync_all()?;
            made = true;
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if made {
        crate::durable::sync_dir(&dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wallet_gets_the_layouts_folders_and_config_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout { root: tmp.path().to_path_buf() };
        let name = WalletName::parse("Savings").expect("name");
        layout.create_wallet_dirs(&name).expect("dirs");
        ensure(&layout, &name).expect("ensure");
        let dir = layout.wallet(&name);
        for f in UNUSED_FOLDERS.iter().chain(&["Bank", "Fracked", "Limbo", "Import", "Receipts"]) {
            assert!(dir.join(f).is_dir(), "{f}");
        }
        assert!(dir.join("transactions.csv").is_file());
        let text = fs::read_to_string(dir.join(CONFIG_FILE)).expect("config");
        assert!(text.contains("[wallet]\nname = \"Savings\"\n"), "{text}");
        // A person's edit survives the next start.
        fs::write(dir.join(CONFIG_FILE), "# mine\n").expect("edit");
        ensure(&layout, &name).expect("again");
        assert_eq!(fs::read_to_string(dir.join(CONFIG_FILE)).expect("config"), "# mine\n");
    }

    #[test]
    fn names_are_toml_strings() {
        assert_eq!(toml_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_string("x\u{7}"), "\"x\\u0007\"");
    }
}
