//! `cloudcoin export` against a server with a RAIDA network (the simulator over loopback): the
//! change made is printed, and `--no-change` keeps the refusal.

use cloudcoin_raida_sim::{Network, SimConfig, generate_coins};

use crate::support::{Server, TOKEN, json, text};

#[test]
fn export_prints_the_change_made_and_no_change_keeps_the_refusal() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let tens = generate_coins(1, 1, 1);
    let sim = rt.block_on(Network::start(SimConfig::default().with_coins(tens.clone())));
    let sim = sim.expect("simulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("raida.txt");
    sim.write_address_list(&list).expect("list");
    let data = dir.path().join("data");
    let server = Server::spawn(
        &[
            "--data-dir".as_ref(),
            data.as_os_str(),
            "--auth-token".as_ref(),
            TOKEN.as_ref(),
            "--raida-list".as_ref(),
            list.as_os_str(),
        ],
        &[],
    );
    let coins = dir.path().join("ten.bin");
    std::fs::write(&coins, cloudcoin_codec::encode_bin(&tens).expect("encode")).expect("write");
    server.cli().arg("import").arg(&coins).assert().success();
    assert_eq!(server.balance("Default"), ("10".to_owned(), 1));
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("out");

    let refused = server
        .cli()
        .args(["export", "5", "--type", "bin", "--no-change", "--folder"])
        .arg(&out)
        .assert()
        .failure();
    let said = text(&refused.get_output().stderr);
    assert!(said.contains("nearest above: 10"), "{said}");
    assert_eq!(server.balance("Default"), ("10".to_owned(), 1), "nothing was broken");

    let done = server
        .cli()
        .args(["export", "5", "--type", "bin", "--folder"])
        .arg(&out)
        .assert()
        .success();
    let said = text(&done.get_output().stdout);
    assert!(said.contains("change:  made change: broke 10 #1 into ten of 1"), "{said}");
    assert_eq!(server.balance("Default"), ("5".to_owned(), 5));

    let task = server
        .cli()
        .args(["--json", "export", "2", "--type", "bin", "--folder"])
        .arg(&out)
        .assert()
        .success();
    let task = json(&task.get_output().stdout);
    assert!(task["data"]["change"].is_null(), "no change needed: {task}");
}
