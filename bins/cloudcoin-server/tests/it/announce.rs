//! The bound address, for supervisors that start the server with a port of 0.

use crate::support::{Opts, Server};

#[test]
fn a_port_of_zero_is_announced_on_stdout_and_in_the_address_file() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("address");
    let opts = Opts {
        args: vec!["--address-file".into(), file.to_str().expect("utf-8").into()],
        ..Opts::default()
    };
    // `start_in` reads the address from the first line of stdout and checks it against the log.
    let server = Server::start_in(data.path(), opts);
    assert_ne!(server.addr.port(), 0, "the kernel's port, not the 0 asked for");
    let written = std::fs::read_to_string(&file).expect("the address file exists once serving");
    assert_eq!(written, format!("{}\n", server.addr));
    // The address written is where the server answers.
    let health = server.get("/api/v1/health");
    assert_eq!(health.status, 200, "{}", health.text());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("address")], "no temporary file left");
    server.stop();
}

#[test]
fn an_address_file_that_cannot_be_written_stops_the_start() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cloudcoin-server"))
        .args(["--listen", "127.0.0.1:0", "--auth-token", "t", "--data-dir"])
        .arg(data.path())
        .args(["--address-file", "/nonexistent-dir/address"])
        .env_remove("CLOUDCOIN_AUTH_TOKEN")
        .output()
        .expect("run the server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write the address file /nonexistent-dir/address"), "{stderr}");
    assert!(output.stdout.is_empty(), "no address announced: {:?}", output.stdout);
}
