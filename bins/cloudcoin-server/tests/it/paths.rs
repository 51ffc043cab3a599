//! Export destinations confined to the allowed roots (issue 6, acceptance 2).

use std::collections::BTreeSet;
use std::os::unix::fs::symlink;
use std::path::Path;

use cloudcoin_domain::CoinId;

use serde_json::json;

use crate::support::{Opts, Server, file_names, folder_ids, mixed_coins, put_coins};

/// A server whose exports are confined to `root`, with a mixed wallet; returns the server and the
/// Bank's coins before any request.
fn start_confined(data: &Path, root: &Path) -> (Server, BTreeSet<CoinId>) {
    put_coins(data, "Default", "Bank", &mixed_coins());
    let opts = Opts {
        args: vec!["--export-root".into(), root.to_str().expect("utf-8").into()],
        ..Opts::default()
    };
    let server = Server::start_in(data, opts);
    let bank = folder_ids(data, "Default", "Bank");
    (server, bank)
}

#[test]
fn folders_outside_the_roots_are_refused_and_nothing_is_written() {
    let data = tempfile::tempdir().expect("temp dir");
    let base = tempfile::tempdir().expect("temp dir");
    let root = base.path().join("exports");
    let evil = base.path().join("exports-evil");
    let outside = base.path().join("outside");
    for d in [&root, &evil, &outside] {
        std::fs::create_dir(d).expect("mkdir");
    }
    symlink(&outside, root.join("link-out")).expect("symlink");
    symlink("/", root.join("slash")).expect("symlink");
    std::fs::create_dir(root.join("sub")).expect("mkdir");
    let (server, bank) = start_confined(data.path(), &root);

    let cases = [
        ("../ segments", format!("{}/sub/../../outside", root.display())),
        ("../ to a sibling", format!("{}/../exports-evil", root.display())),
        ("symlink out of the root", root.join("link-out").display().to_string()),
        ("symlink to /", root.join("slash").display().to_string()),
        ("shared-prefix sibling", evil.display().to_string()),
        ("outside entirely", outside.display().to_string()),
    ];
    for (what, folder) in &cases {
        for path in ["/api/v1/export", "/api/v1/backup"] {
            let body = json!({"name":"Default","amount":1,"folder":folder,"type":"bin"});
            let r = server.post(path, &body);
            let message = r.assert_error(422, 4193);
            assert!(!message.is_empty(), "{what}");
        }
    }
    for d in [&evil, &outside] {
        assert!(file_names(d).is_empty(), "nothing written in {}", d.display());
    }
    assert_eq!(file_names(&root), vec!["link-out", "slash", "sub"]);
    assert_eq!(folder_ids(data.path(), "Default", "Bank"), bank);

    // Inside the root is fine.
    let task =
        server.export(&json!({"name":"Default","amount":1,"folder":root.join("sub"),"type":"bin"}));
    assert_eq!(task["status"], "completed", "{task}");
}

#[test]
fn a_target_name_taken_by_a_symlink_is_refused_and_nothing_is_written() {
    let data = tempfile::tempdir().expect("temp dir");
    let base = tempfile::tempdir().expect("temp dir");
    let root = base.path().join("exports");
    let outside = base.path().join("outside");
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::create_dir(&outside).expect("mkdir");
    let victim = outside.join("victim.bin");
    std::fs::write(&victim, b"do not touch").expect("write");
    let name = "10.5 CloudCoin #6 'x'.bin";
    symlink(&victim, root.join(name)).expect("symlink");
    let (server, bank) = start_confined(data.path(), &root);
    let r = server.post(
        "/api/v1/export",
        &json!({"name":"Default","amount":10.5,"folder":root,"type":"bin","tag":"x"}),
    );
    let message = r.assert_error(422, 4193);
    assert!(message.contains("symbolic link"), "{message}");
    assert_eq!(std::fs::read(&victim).expect("victim"), b"do not touch");
    assert!(
        std::fs::symlink_metadata(root.join(name)).expect("still there").file_type().is_symlink()
    );
    assert_eq!(file_names(&root), vec![name], "nothing written");
    assert_eq!(file_names(&outside), vec!["victim.bin"]);
    assert_eq!(folder_ids(data.path(), "Default", "Bank"), bank, "no coin moved");
}

#[test]
fn the_data_directory_is_never_an_export_or_backup_target() {
    let data = tempfile::tempdir().expect("temp dir");
    let base = tempfile::tempdir().expect("temp dir");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let server = Server::start_in(data.path(), Opts::default());
    let bank = folder_ids(data.path(), "Default", "Bank");
    let balance = server.balance("Default");
    let wallet = std::fs::canonicalize(data.path().join("Wallets/Default")).expect("wallet");
    let mut folders = vec![
        wallet.join("Bank"),
        wallet.join("Import"),
        wallet.join("Fracked"),
        wallet.parent().and_then(Path::parent).expect("data dir").to_path_buf(),
        wallet.join("../../.cloudcoin").canonicalize().expect("own folder"),
    ];
    // Bank seen through a bind mount outside the data directory.
    let view = base.path().join("view");
    std::fs::create_dir(&view).expect("mkdir");
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .arg(wallet.join("Bank"))
        .arg(&view)
        .output()
        .expect("mount runs");
    let _unmount = Unmount(view.clone());
    if mounted.status.success() {
        folders.push(view.canonicalize().expect("view"));
    } else {
        skip(&format!("bind mount: {}", String::from_utf8_lossy(&mounted.stderr)));
    }
    for folder in &folders {
        for path in ["/api/v1/export", "/api/v1/backup"] {
            let body = json!({"name":"Default","amount":1,"folder":folder,"type":"bin"});
            let message = server.post(path, &body).assert_error(422, 4193);
            assert!(message.contains("data directory"), "{}: {message}", folder.display());
        }
    }
    assert_eq!(server.balance("Default"), balance, "nothing reserved");
    drop(server);
    assert_eq!(folder_ids(data.path(), "Default", "Bank"), bank, "nothing written or moved");
}

/// Unmounts (lazily) when dropped, before the temporary folders are removed.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[allow(clippy::print_stderr, reason = "a skipped check says why on the test's output")]
fn skip(reason: &str) {
    eprintln!("SKIPPED (part of the test): {reason}");
}
