//! The wallet page in a real headless Chromium: signing in through the printed URL, the
//! wallets, import by drag and drop, export with its progress bar and download, the nearest
//! amounts, a backup, the print view; and what another origin cannot do with the cookie.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use cloudcoin_codec::WriteOptions;
use cloudcoin_domain::FileKind;
use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Input;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::browser::{
    Chrome, allow_downloads, child_frames, chromium, downloaded, eval, screenshots, wait_for,
};
use crate::support::{Opts, Server, coins, mixed_coins, put_coins};

const XSS_NAME: &str = "<img src=x onerror=window.__pwned=1>.bin";
/// A tag (and a wallet name) that would run a script if a refusal quoting it became HTML.
const XSS_TAG: &str = "<img src=x onerror=window.__pwned=2>";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The sign-in URL from the server's start-up log.
fn printed_sign_in_url(server: &Server) -> String {
    let line = server.wait_line("wallet page: open ");
    let url = line.split("wallet page: open ").nth(1).expect("url").split(' ').next().expect("url");
    assert!(url.starts_with(&format!("http://{}/sign-in?code=", server.addr)), "{line}");
    url.to_owned()
}

/// Drops `files` on the element matching `selector` the way a person would: the browser's own
/// drag events, carrying files from disk.
fn drop_files(tab: &Tab, selector: &str, files: &[&Path]) {
    let at = eval(
        tab,
        &format!(
            "(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ),
    );
    let (x, y) = (at[0].as_f64().expect("x"), at[1].as_f64().expect("y"));
    let files: Vec<String> = files.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    for kind in ["dragEnter", "dragOver", "drop"] {
        let event: Input::DispatchDragEvent = serde_json::from_value(json!({
            "type": kind, "x": x, "y": y,
            "data": { "items": [], "files": files, "dragOperationsMask": 1 },
        }))
        .expect("drag event");
        tab.call_method(event).expect("drag event");
    }
}

fn show_screen(tab: &Tab, screen: &str) {
    eval(tab, &format!("document.querySelector('.tab[data-screen=\"{screen}\"]').click()"));
    wait_for(tab, &format!("!document.getElementById('screen-{screen}').hidden"), screen);
}

fn set_value(tab: &Tab, id: &str, value: &str) {
    let value = serde_json::to_string(value).expect("json");
    eval(tab, &format!("document.getElementById('{id}').value = {value}"));
}

fn text_of(tab: &Tab, id: &str) -> String {
    eval(tab, &format!("document.getElementById('{id}').textContent")).as_str().unwrap_or("").into()
}

fn balance_shown(tab: &Tab, wallet: &str) -> String {
    eval(
        tab,
        &format!(
            "(document.querySelector('.card[data-wallet=\"{wallet}\"] .amount') || {{}}).textContent"
        ),
    )
    .as_str()
    .unwrap_or("")
    .to_owned()
}

#[test]
fn a_person_signs_in_imports_exports_downloads_and_backs_up_in_the_browser() {
    let Some(binary) = chromium() else { return };
    let data = tempfile::tempdir().expect("data");
    let out = tempfile::tempdir().expect("out");
    let drops = tempfile::tempdir().expect("files to drop");
    let downloads = tempfile::tempdir().expect("downloads");
    put_coins(data.path(), "Default", "Bank", &mixed_coins()); // 147.5 in 26 coins
    let server = Server::start_in(data.path(), Opts::default());
    let url = printed_sign_in_url(&server);

    let chrome = Chrome::launch(&binary);
    let tab = chrome.tab();
    allow_downloads(&tab, downloads.path());
    tab.navigate_to(&url).expect("open the sign-in URL").wait_until_navigated().expect("loaded");
    assert_eq!(tab.get_url(), format!("http://{}/#wallets", server.addr), "the code left the bar");
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
    assert_eq!(balance_shown(&tab, "Default"), "147.5");
    assert_eq!(eval(&tab, "document.cookie"), json!(""), "the session cookie is HttpOnly");
    let coins_text = eval(&tab, "document.querySelector('.card .coin-count').textContent");
    assert_eq!(coins_text, json!("26 coins"));
    let breakdown = eval(&tab, "document.querySelector('.card .breakdown').innerText");
    assert!(breakdown.as_str().expect("text").contains("Bank"), "{breakdown}");
    let denominations = eval(
        &tab,
        "Array.from(document.querySelectorAll('.card .breakdown table:first-child td:first-child'), \
         (td) => td.textContent)",
    );
    assert_eq!(
        denominations,
        json!(["100 CC coins", "10 CC coins", "1 CC coins", "0.1 CC coins"]),
        "largest first"
    );
    screenshots(&tab, "1-wallets");

    // Import: three coin files (one holding a coin the wallet has), a paper wallet picture,
    // and a file that is no coin file; one name would be HTML if it were inserted as such.
    let new_a = coins(1, 7000, 2); // 20
    let new_b = coins(0, 7100, 3); // 3
    let present = mixed_coins()[0..1].to_vec(); // the 100 coin, already in Default
    let paper = coins(-1, 7200, 3); // 0.3: three coins are the most a page carries in its codes
    let write = |name: &str, bytes: Vec<u8>| {
        let p = drops.path().join(name);
        std::fs::write(&p, bytes).expect("write a file to drop");
        p
    };
    let bin = |c: &[cloudcoin_domain::Coin]| cloudcoin_codec::encode_bin(c).expect("encode");
    let mut png = Vec::new();
    let options = WriteOptions::new().with_date("2026-12-01");
    cloudcoin_codec::write_coins(&mut png, FileKind::Png, &paper, &options).expect("png");
    // The paper wallet printed and scanned: a JPEG at half size, a little turned, with noise;
    // only its QR codes carry the coins (no PNG chunk survives a printer).
    let printed = cloudcoin_paper_sim::rasterise(&png).expect("rasterise");
    let scan =
        cloudcoin_paper_sim::print_and_scan(&printed, &cloudcoin_paper_sim::Degradation::scan())
            .expect("print and scan");
    assert!(cloudcoin_codec::decode_bin(&scan).is_err(), "the scan is a picture, not a coin file");
    let files = [
        write("twenty.bin", bin(&new_a)),
        write(XSS_NAME, bin(&new_b)),
        write("hundred again.bin", bin(&present)),
        write("paper wallet scan.jpg", scan),
        write("notes.txt", b"not a coin".to_vec()),
    ];
    show_screen(&tab, "import");
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    drop_files(&tab, "#drop", &paths);
    wait_for(
        &tab,
        "document.querySelectorAll('#import-results li').length === 5 && \
         !document.querySelector('#import-results li[data-state=\"pending\"]')",
        "a result for each dropped file",
    );
    let results = eval(
        &tab,
        "Array.from(document.querySelectorAll('#import-results li'), (li) => \
         [li.querySelector('.name').textContent, li.dataset.state, \
          li.querySelector('.what-happened').textContent])",
    );
    let result_of = |name: &str| -> (String, String) {
        let row = results
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no result for {name}: {results}"));
        (row[1].as_str().expect("state").into(), row[2].as_str().expect("text").into())
    };
    assert_eq!(result_of("twenty.bin").0, "imported", "{results}");
    assert!(result_of("twenty.bin").1.contains("imported 2 coins (20 CC)"), "{results}");
    assert_eq!(result_of(XSS_NAME).0, "imported", "{results}");
    assert_eq!(result_of("hundred again.bin").0, "present", "{results}");
    assert!(result_of("hundred again.bin").1.contains("1 coin already in the wallet"));
    assert_eq!(result_of("paper wallet scan.jpg").0, "imported", "{results}");
    assert!(result_of("paper wallet scan.jpg").1.contains("3 coins (0.3 CC)"), "{results}");
    assert_eq!(result_of("notes.txt").0, "rejected", "{results}");
    // The hostile name is text: no element was made from it and its handler never ran.
    assert_eq!(eval(&tab, "document.querySelectorAll('#import-results img').length"), json!(0));
    assert_eq!(eval(&tab, "window.__pwned === undefined"), json!(true));
    assert_eq!(server.balance("Default"), ("170.8".to_owned(), 34));
    screenshots(&tab, "3-import");

    // A hostile tag and a hostile wallet name: the server refuses both, quoting what it
    // refused, and the page shows its answers as text.
    show_screen(&tab, "export");
    set_value(&tab, "export-amount", "10.5");
    set_value(&tab, "export-folder", &out.path().to_string_lossy());
    set_value(&tab, "export-tag", XSS_TAG);
    eval(&tab, "document.getElementById('export-button').click()");
    let refused = wait_for(
        &tab,
        "document.getElementById('export-status').classList.contains('bad') && \
         document.getElementById('export-status').textContent",
        "the tag refused",
    );
    assert!(refused.as_str().is_some_and(|t| t.contains("tag") && t.contains('<')), "{refused}");
    show_screen(&tab, "wallets");
    set_value(&tab, "create-name", XSS_TAG);
    eval(&tab, "document.getElementById('create-form').requestSubmit()");
    let refused = wait_for(
        &tab,
        "document.getElementById('create-status').classList.contains('bad') && \
         document.getElementById('create-status').textContent",
        "the wallet name refused",
    );
    assert!(refused.as_str().is_some_and(|t| t.contains('<')), "{refused}");
    assert_eq!(
        eval(&tab, "document.querySelectorAll('img[onerror], img[src=\"x\"]').length"),
        json!(0)
    );
    assert_eq!(eval(&tab, "window.__pwned === undefined"), json!(true));

    // Export an exact amount; the bar reaches 100 % and the download is the file.
    show_screen(&tab, "export");
    set_value(&tab, "export-tag", "rent");
    eval(&tab, "document.getElementById('export-button').click()");
    wait_for(&tab, "!document.getElementById('export-result').hidden", "the export's result");
    assert_eq!(eval(&tab, "document.getElementById('export-progress').value"), json!(100));
    assert_eq!(text_of(&tab, "export-percent"), "100 %");
    let file = text_of(&tab, "export-file");
    let sha = text_of(&tab, "export-sha");
    let bytes = std::fs::read(&file).expect("the exported file");
    assert_eq!(sha256_hex(&bytes), sha, "the page shows the file's SHA-256");
    assert_eq!(server.balance("Default"), ("160.3".to_owned(), 28));
    wait_for(
        &tab,
        "document.querySelector('.card[data-wallet=\"Default\"] .amount').textContent === '160.3'",
        "the new balance",
    );
    screenshots(&tab, "2-export-done");
    eval(&tab, "document.getElementById('export-download').click()");
    wait_for(&tab, "document.getElementById('export-download-status').dataset.sha256", "download");
    let saved = downloaded(downloads.path());
    let got = std::fs::read(&saved).expect("downloaded file");
    assert_eq!(sha256_hex(&got), sha, "the downloaded bytes are the exported file's");
    assert_eq!(saved.file_name(), Path::new(&file).file_name());
    std::fs::remove_file(&saved).expect("clear downloads");

    // An amount no set of coins makes: the page offers the nearest amounts.
    set_value(&tab, "export-amount", "10.55");
    eval(&tab, "document.getElementById('export-button').click()");
    wait_for(&tab, "!document.getElementById('nearest').hidden", "the nearest amounts");
    let offers = eval(
        &tab,
        "Array.from(document.querySelectorAll('#nearest-buttons button'), (b) => b.dataset.amount)",
    );
    let offers: Vec<f64> = offers
        .as_array()
        .expect("offers")
        .iter()
        .map(|o| o.as_str().expect("amount text").parse().expect("a number"))
        .collect();
    assert_eq!(offers.len(), 2, "{offers:?}");
    assert!(offers[0] < 10.55 && offers[1] > 10.55, "{offers:?}");
    screenshots(&tab, "2-export-nearest");
    assert_eq!(server.balance("Default"), ("160.3".to_owned(), 28), "nothing moved");

    // A paper wallet: export a png and open its print view.
    set_value(&tab, "export-amount", "1");
    eval(&tab, "document.getElementById('export-type').value = 'png'");
    eval(&tab, "document.getElementById('export-button').click()");
    wait_for(
        &tab,
        "!document.getElementById('export-print').hidden && !document.getElementById('export-result').hidden",
        "png export",
    );
    eval(&tab, "document.getElementById('export-print').click()");
    let width = wait_for(
        &tab,
        "!document.getElementById('screen-print').hidden && document.getElementById('print-image').naturalWidth",
        "the paper wallet picture",
    );
    assert!(width.as_u64().expect("width") > 100, "{width}");
    screenshots(&tab, "5-print");

    // A backup, and its download.
    show_screen(&tab, "backup");
    set_value(&tab, "backup-folder", &out.path().to_string_lossy());
    eval(&tab, "document.getElementById('backup-button').click()");
    wait_for(&tab, "!document.getElementById('backup-result').hidden", "the backup's result");
    let backup = text_of(&tab, "backup-file");
    let backup_sha = text_of(&tab, "backup-sha");
    assert_eq!(sha256_hex(&std::fs::read(&backup).expect("backup zip")), backup_sha);
    eval(&tab, "document.getElementById('backup-download').click()");
    wait_for(&tab, "document.getElementById('backup-download-status').dataset.sha256", "download");
    let saved = downloaded(downloads.path());
    assert_eq!(sha256_hex(&std::fs::read(&saved).expect("downloaded backup")), backup_sha);
    screenshots(&tab, "4-backup");

    // The task list shows every task, finished.
    show_screen(&tab, "tasks");
    wait_for(
        &tab,
        "document.querySelectorAll('#task-list li[data-status=\"completed\"]').length >= 7 && \
         document.querySelectorAll('#task-list li[data-status=\"error\"]').length === 1",
        "the finished tasks",
    );
    let listed = eval(&tab, "document.getElementById('task-list').textContent");
    assert!(listed.as_str().is_some_and(|t| t.contains(XSS_NAME)), "the name as text: {listed}");
    assert_eq!(eval(&tab, "document.querySelectorAll('#task-list img').length"), json!(0));
    assert_eq!(eval(&tab, "window.__pwned === undefined"), json!(true));
    screenshots(&tab, "6-tasks");

    // A file that changed after its task wrote it is not served.
    std::fs::write(&file, b"changed").expect("change the exported file");
    let r = server.get(&format!("/api/v1/tasks/{}/file", first_export_id(&server, &file)));
    r.assert_error(410, 4314);
}

/// The id of the export task that wrote `file`.
fn first_export_id(server: &Server, file: &str) -> String {
    let tasks = server.get("/api/v1/tasks").json()["payload"].clone();
    tasks
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["data"]["file"] == file)
        .and_then(|t| t["id"].as_str())
        .expect("the export's task")
        .to_owned()
}

/// A second local server, on another port (another origin, the same site), serving `page`.
fn serve_page(page: String) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{page}",
                page.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    addr
}

#[test]
fn another_origin_cannot_use_the_cookie_and_a_code_works_once() {
    let Some(binary) = chromium() else { return };
    let data = tempfile::tempdir().expect("data");
    let out = tempfile::tempdir().expect("out");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let server = Server::start_in(data.path(), Opts::default());
    let url = printed_sign_in_url(&server);
    let victim = format!("http://{}", server.addr);

    let chrome = Chrome::launch(&binary);
    let tab = chrome.tab();
    tab.navigate_to(&url).expect("sign in").wait_until_navigated().expect("loaded");
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");

    // The hostile page: reads and writes with the victim's cookie, by fetch (simple and with
    // the page header), by form posts, and frames the wallet page.
    let folder = serde_json::to_string(&out.path().to_string_lossy()).expect("json");
    let attacker = format!(
        r#"<!doctype html><html><body>
<form id="create" method="POST" action="{victim}/api/v1/wallets" enctype="text/plain" target="sink">
<input name='{{"name":"Pwned","x":"' value='"}}'></form>
<form id="export" method="POST" action="{victim}/api/v1/export" enctype="text/plain" target="sink2">
<input name='{{"name":"Default","amount":"100","type":"zip","folder":{folder},"x":"' value='"}}'></form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<iframe id="framed" src="{victim}/"></iframe>
<script>
window.results = (async () => {{
  const out = {{}};
  const attempt = async (name, init) => {{
    try {{
      const r = await fetch('{victim}/api/v1/wallets', init);
      out[name] = 'read:' + r.status + ':' + (await r.text());
    }} catch (e) {{ out[name] = 'refused'; }}
  }};
  await attempt('simple', {{ credentials: 'include' }});
  await attempt('with_header', {{ credentials: 'include', headers: {{ 'X-CloudCoin-Page': '1' }} }});
  await attempt('post', {{ method: 'POST', credentials: 'include', mode: 'no-cors',
    headers: {{ 'Content-Type': 'text/plain' }}, body: '{{"name":"Pwned2"}}' }});
  document.getElementById('create').submit();
  document.getElementById('export').submit();
  return out;
}})();
</script></body></html>"#
    );
    let evil = serve_page(attacker);
    let evil_tab = chrome.tab();
    evil_tab
        .navigate_to(&format!("http://{evil}/"))
        .expect("open the other origin's page")
        .wait_until_navigated()
        .expect("loaded");
    let results = eval(&evil_tab, "window.results");
    assert_eq!(results["simple"], "refused", "{results}");
    assert_eq!(results["with_header"], "refused", "{results}");
    // A no-cors post gives an opaque answer; what matters is that nothing happened (below).
    assert!(results["post"].as_str().is_some_and(|s| !s.contains("Default")), "{results}");
    // The posts (the fetch and two forms) reached the server and were refused.
    let posts = server.wait_lines(&[
        "method=POST path=/api/v1/wallets",
        "method=POST path=/api/v1/wallets",
        "method=POST path=/api/v1/export",
    ]);
    for line in &posts {
        assert!(line.contains("status=403"), "a post from another origin was not refused: {line}");
    }
    // The frame of / was blocked (X-Frame-Options and frame-ancestors 'none').
    let frames = child_frames(&evil_tab);
    let page = format!("{victim}/");
    let framed = frames
        .iter()
        .find(|(url, unreachable)| *url == page || unreachable.as_deref() == Some(page.as_str()))
        .unwrap_or_else(|| panic!("no frame of the wallet page: {frames:?}"));
    assert!(
        framed.0.starts_with("chrome-error://") || framed.1.is_some(),
        "the wallet page rendered inside another origin's frame: {frames:?}"
    );
    // Nothing was changed: no wallet made, no coins moved, no task started.
    let wallets = server.get("/api/v1/wallets").json()["payload"].clone();
    assert_eq!(wallets.as_array().expect("wallets").len(), 1, "{wallets}");
    assert_eq!(server.balance("Default"), ("147.5".to_owned(), 26));
    assert_eq!(server.get("/api/v1/tasks").json()["payload"], json!([]));
    assert!(std::fs::read_dir(out.path()).expect("out").next().is_none(), "no file exported");

    // The code used above does not work again, not even in a fresh browser profile.
    let second = Chrome::launch(&binary);
    let other = second.tab();
    other.navigate_to(&url).expect("reuse the code").wait_until_navigated().expect("loaded");
    let body = eval(&other, "document.body.innerText");
    assert!(body.as_str().expect("text").contains("used already"), "{body}");
    other
        .navigate_to(&format!("{victim}/"))
        .expect("open the page")
        .wait_until_navigated()
        .expect("loaded");
    wait_for(&other, "!document.getElementById('signin').hidden", "the sign-in advice");
    screenshots(&other, "0-signed-out");
    assert_eq!(eval(&other, "document.querySelectorAll('.card').length"), json!(0));
    // ... while a fresh code, from the sign-in file, does.
    let fresh =
        std::fs::read_to_string(data.path().join(".cloudcoin/sign-in-url")).expect("sign-in file");
    assert_ne!(fresh.trim(), url);
    other.navigate_to(fresh.trim()).expect("fresh code").wait_until_navigated().expect("loaded");
    wait_for(&other, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
}

#[test]
fn with_no_auth_the_page_works_without_signing_in() {
    let Some(binary) = chromium() else { return };
    let data = tempfile::tempdir().expect("data");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let opts = Opts { token: None, args: vec!["--no-auth".into()], ..Opts::default() };
    let server = Server::start_in(data.path(), opts);
    let chrome = Chrome::launch(&binary);
    let tab = chrome.tab();
    let page = format!("http://{}/", server.addr);
    tab.navigate_to(&page).expect("open").wait_until_navigated().expect("loaded");
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
    assert_eq!(balance_shown(&tab, "Default"), "147.5");
    assert_eq!(eval(&tab, "document.getElementById('signin').hidden"), Value::Bool(true));
}

/// A new user's first sight, a fresh server with an empty Default wallet: the card says how
/// coins come in, and its button opens the Receive screen for that wallet.
#[test]
fn a_new_users_empty_wallet_says_how_coins_come_in() {
    let Some(binary) = chromium() else { return };
    let data = tempfile::tempdir().expect("data");
    let server = Server::start_in(data.path(), Opts::default());
    let chrome = Chrome::launch(&binary);
    let tab = signed_in_tab(&chrome, &server);
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
    assert_eq!(balance_shown(&tab, "Default"), "0");
    let hint = eval(
        &tab,
        "document.querySelector('.card[data-wallet=\"Default\"] .empty-hint').textContent",
    );
    assert!(hint.as_str().is_some_and(|t| t.contains("Receive screen")), "{hint}");
    screenshots(&tab, "0-first-visit");
    eval(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .go-receive').click()");
    assert_eq!(eval(&tab, "document.getElementById('screen-import').hidden"), json!(false));
    assert_eq!(eval(&tab, "document.getElementById('import-wallet').value"), json!("Default"));
    assert_eq!(eval(&tab, "location.hash"), json!("#import"));
}

/// The download, without a browser: only to an authenticated caller, only a completed export's
/// or backup's file, only while its SHA-256 is the task's; and the page's headers.
#[test]
fn the_download_serves_only_the_unchanged_file_to_an_authenticated_caller() {
    let data = tempfile::tempdir().expect("data");
    let out = tempfile::tempdir().expect("out");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let server = Server::start_in(data.path(), Opts::default());
    let task =
        server.export(&json!({"name":"Default","amount":"10.5","folder":out.path(),"type":"bin"}));
    let id = task["id"].as_str().expect("id").to_owned();
    let file = task["data"]["file"].as_str().expect("file").to_owned();
    let path = format!("/api/v1/tasks/{id}/file");

    let r = server.get(&path);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sha256_hex(&r.body), task["data"]["sha256"].as_str().expect("sha"));
    assert_eq!(r.body, std::fs::read(&file).expect("the file"));
    assert_eq!(r.header("content-type").as_deref(), Some("application/octet-stream"));
    assert!(r.header("content-disposition").is_some_and(|d| d.starts_with("attachment;")));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));

    // No token, a forged cookie, the cookie's header without a session: refused.
    let host = server.addr.to_string();
    let anonymous =
        crate::support::raw_request(server.addr, "GET", &path, &[("Host", &host)], None);
    anonymous.assert_error(401, 4308);
    let forged = crate::support::raw_request(
        server.addr,
        "GET",
        &path,
        &[("Host", &host), ("Cookie", "cloudcoin_session=forged"), ("X-CloudCoin-Page", "1")],
        None,
    );
    forged.assert_error(401, 4308);

    // An import has no file; an unknown task is not found.
    let coin_file = out.path().join("one.bin");
    std::fs::write(&coin_file, cloudcoin_codec::encode_bin(&coins(0, 9000, 1)).expect("bin"))
        .expect("write");
    let r = server.post(
        "/api/v1/import",
        &json!({"name":"Default","items":[{"type":"file","data":coin_file}]}),
    );
    let import = r.json()["payload"]["id"].as_str().expect("id").to_owned();
    server.wait_task(&import);
    server.get(&format!("/api/v1/tasks/{import}/file")).assert_error(409, 4313);
    server.get("/api/v1/tasks/9b2f1c1e-8a57-4d0e-9a55-0f1e2d3c4b5a/file").assert_error(404, 4105);

    // Changed or removed: gone.
    let mut bytes = std::fs::read(&file).expect("the file");
    bytes[0] ^= 1;
    std::fs::write(&file, &bytes).expect("change one bit");
    server.get(&path).assert_error(410, 4314);
    std::fs::remove_file(&file).expect("remove");
    server.get(&path).assert_error(410, 4314);

    // The page and every answer carry the hardening headers.
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").is_some_and(|t| t.starts_with("text/html")));
    let csp = page.header("content-security-policy").expect("a policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(server.get("/api/v1/wallets").header("cache-control").as_deref(), Some("no-store"));
}

/// Signs in through the printed URL and waits for the wallets.
fn signed_in_tab(chrome: &Chrome, server: &Server) -> std::sync::Arc<Tab> {
    let tab = chrome.tab();
    let url = printed_sign_in_url(server);
    tab.navigate_to(&url).expect("sign in").wait_until_navigated().expect("loaded");
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
    tab
}

#[test]
fn the_network_screen_shows_each_raida_heals_and_the_import_shows_its_claim() {
    use cloudcoin_raida_sim::{SimConfig, generate_coins};
    let Some(binary) = chromium() else { return };
    let coins = generate_coins(1, 1, 10); // 100 CC
    let sim = crate::claim::Sim::start(SimConfig::default().with_coins(coins.clone()));
    for r in 0..3 {
        sim.offline(r);
    }
    let data = tempfile::tempdir().expect("data");
    let drops = tempfile::tempdir().expect("files to drop");
    let server = sim.server(data.path());
    let chrome = Chrome::launch(&binary);
    let tab = signed_in_tab(&chrome, &server);

    // Health: 22 answer, the three offline are marked, and no offline-mode words.
    show_screen(&tab, "network");
    wait_for(
        &tab,
        "document.getElementById('network-summary').textContent.startsWith('22 of 25 RAIDA answer')",
        "the network's health",
    );
    let down = eval(
        &tab,
        "Array.from(document.querySelectorAll('#raida-rows tr[data-up=\"no\"] td:first-child'), \
         (td) => td.textContent)",
    );
    assert_eq!(down, json!(["0", "1", "2"]));
    let up_times = eval(
        &tab,
        "Array.from(document.querySelectorAll('#raida-rows tr[data-up=\"yes\"] td:last-child'), \
         (td) => td.textContent).filter((t) => / ms$/.test(t)).length",
    );
    assert_eq!(up_times, json!(22), "each RAIDA that answers shows its time");
    assert_eq!(eval(&tab, "document.getElementById('network-state').hidden"), json!(true));

    // A drop of the ten coins: imported, and the claim's grades (three RAIDA lack the new key).
    let file = drops.path().join("ten tens.bin");
    std::fs::write(&file, cloudcoin_codec::encode_bin(&coins).expect("bin")).expect("write");
    show_screen(&tab, "import");
    drop_files(&tab, "#drop", &[file.as_path()]);
    let claim = wait_for(
        &tab,
        "(document.querySelector('#import-results li[data-state=\"imported\"] .claim') || {}).textContent",
        "the claim's grades",
    );
    let claim = claim.as_str().expect("text");
    assert!(claim.contains("Claimed with the RAIDA: 10 coins (100 CC) Fracked"), "{claim}");
    screenshots(&tab, "3-import-claimed");
    crate::claim::wait_healings(&server);

    // The three come back; healing from the page repairs the ten.
    for r in 0..3 {
        sim.online(r);
    }
    show_screen(&tab, "network");
    eval(&tab, "document.getElementById('heal-button').click()");
    wait_for(&tab, "!document.getElementById('heal-result').hidden", "the healing's result");
    assert_eq!(text_of(&tab, "heal-bank"), "10 coins (100 CC)");
    assert_eq!(text_of(&tab, "heal-fracked"), "0 coins (0 CC)");
    assert_eq!(
        eval(&tab, "document.getElementById('heal-progress-box').hidden"),
        json!(true),
        "the bar goes once healing is over"
    );
    assert!(text_of(&tab, "heal-status").contains("every coin of Default is settled"));
    eval(&tab, "document.getElementById('network-check').click()");
    wait_for(
        &tab,
        "document.getElementById('network-summary').textContent.startsWith('25 of 25')",
        "all 25 up",
    );
    assert_eq!(server.balance("Default"), ("100".to_owned(), 10));

    // An export nobody claims: the check says so and changes nothing; taking back returns it.
    let out = tempfile::tempdir().expect("out");
    show_screen(&tab, "export");
    set_value(&tab, "export-amount", "10");
    set_value(&tab, "export-folder", &out.path().to_string_lossy());
    eval(&tab, "document.getElementById('export-button').click()");
    wait_for(&tab, "!document.getElementById('export-result').hidden", "the export's result");
    assert!(text_of(&tab, "export-status").contains("the Network screen can take them back"));
    assert_eq!(server.balance("Default"), ("90".to_owned(), 9));
    show_screen(&tab, "network");
    wait_for(
        &tab,
        "document.getElementById('reclaim-export').selectedOptions[0].textContent.startsWith('10 CC from Default')",
        "the export offered",
    );
    eval(&tab, "document.getElementById('reclaim-check').click()");
    wait_for(&tab, "!document.getElementById('reclaim-result').hidden", "the check");
    assert_eq!(text_of(&tab, "reclaim-unclaimed"), "1 coin (10 CC)");
    assert_eq!(text_of(&tab, "reclaim-returned"), "0 coins (0 CC)");
    assert_eq!(server.balance("Default"), ("90".to_owned(), 9), "a check changes nothing");
    eval(&tab, "document.getElementById('reclaim-button').click()");
    wait_for(
        &tab,
        "!document.getElementById('reclaim-result').hidden &&          document.getElementById('reclaim-returned').textContent === '1 coin (10 CC)'",
        "the coin taken back",
    );
    let note = text_of(&tab, "reclaim-status");
    assert!(note.starts_with("1 coin worth 10 is back in the wallet"), "{note}");
    assert_eq!(server.balance("Default"), ("100".to_owned(), 10));
    screenshots(&tab, "7-network");

    // No exact set for 5 (only tens): the page offers the nearest amounts and, with the
    // network, to make change; nothing moves until asked.
    show_screen(&tab, "export");
    set_value(&tab, "export-amount", "5");
    eval(&tab, "document.getElementById('export-button').click()");
    wait_for(&tab, "!document.getElementById('nearest').hidden", "the offers");
    assert!(text_of(&tab, "nearest-text").contains("make change"));
    assert_eq!(server.balance("Default"), ("100".to_owned(), 10), "nothing moved yet");
    screenshots(&tab, "2-export-change-offer");
    eval(&tab, "document.getElementById('make-change').click()");
    wait_for(&tab, "!document.getElementById('export-result').hidden", "the export with change");
    assert!(text_of(&tab, "export-coins").ends_with(", 5 CC"), "{}", text_of(&tab, "export-coins"));
    assert_eq!(server.balance("Default").0, "95");

    // The task list names the healing, its wallet, and the import's amount.
    show_screen(&tab, "tasks");
    let subjects = wait_for(
        &tab,
        "Array.from(document.querySelectorAll('#task-list li .subject'), (s) => s.textContent)",
        "the tasks' wallets",
    );
    assert!(subjects.as_array().is_some_and(|s| s.contains(&json!("wallet Default, 100 CC"))));
}

#[test]
fn without_a_network_the_page_says_offline_mode_and_does_not_offer_healing() {
    let Some(binary) = chromium() else { return };
    let data = tempfile::tempdir().expect("data");
    let drops = tempfile::tempdir().expect("files to drop");
    put_coins(data.path(), "Default", "Bank", &mixed_coins());
    let server = Server::start_in(data.path(), Opts::default());
    let chrome = Chrome::launch(&binary);
    let tab = signed_in_tab(&chrome, &server);
    wait_for(&tab, "!document.getElementById('network-state').hidden", "the offline badge");
    assert_eq!(text_of(&tab, "network-state"), "offline");
    show_screen(&tab, "network");
    let summary = wait_for(
        &tab,
        "document.getElementById('network-summary').textContent.startsWith('Offline mode') && \
         document.getElementById('network-summary').textContent",
        "the offline words",
    );
    assert!(summary.as_str().expect("text").contains("cannot claim received coins"), "{summary}");
    assert_eq!(eval(&tab, "document.getElementById('raida-table').hidden"), json!(true));
    assert_eq!(eval(&tab, "document.getElementById('heal-button').disabled"), json!(true));
    assert_eq!(eval(&tab, "document.getElementById('network-actions').hidden"), json!(true));
    screenshots(&tab, "7-network-offline");

    // An import says plainly that its coins were not claimed.
    let file = drops.path().join("one.bin");
    std::fs::write(&file, cloudcoin_codec::encode_bin(&coins(0, 9100, 1)).expect("bin"))
        .expect("write");
    show_screen(&tab, "import");
    drop_files(&tab, "#drop", &[file.as_path()]);
    let claim = wait_for(
        &tab,
        "(document.querySelector('#import-results li[data-state=\"imported\"] .claim') || {}).textContent",
        "the claim note",
    );
    assert!(claim.as_str().expect("text").starts_with("not claimed"), "{claim}");
}

/// The frictions a newcomer met: remembered folders, the states explained where they show, the
/// uploaded file's own name in results and tasks, the sent-away refusal with a deliberate choice.
#[test]
fn the_page_names_uploaded_files_explains_states_and_offers_sent_coins_only_when_asked() {
    let Some(binary) = chromium() else { return };
    let data = tempfile::tempdir().expect("data");
    let out = tempfile::tempdir().expect("out");
    let drops = tempfile::tempdir().expect("files to drop");
    put_coins(data.path(), "Default", "Bank", &mixed_coins()); // 147.5 in 26 coins
    put_coins(data.path(), "Default", "Limbo", &coins(0, 5000, 1)); // not in the balance
    let server = Server::start_in(data.path(), Opts::default());
    let chrome = Chrome::launch(&binary);
    let tab = signed_in_tab(&chrome, &server);

    // The states are explained on the wallets screen, and each state in a card says what it is.
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
    let glossary = eval(&tab, "document.getElementById('state-glossary').textContent");
    let glossary = glossary.as_str().expect("text");
    assert!(glossary.contains("Fracked") && glossary.contains("healing repairs it"), "{glossary}");
    assert!(glossary.contains("Limbo") && glossary.contains("Not in the balance"), "{glossary}");
    let bank_title = eval(&tab, "document.querySelector('.breakdown td[title^=\"Bank:\"]').title");
    assert!(bank_title.as_str().expect("title").contains("ready to spend"), "{bank_title}");
    let limbo =
        eval(&tab, "document.querySelector('.breakdown td[title^=\"Limbo:\"]').textContent");
    assert_eq!(limbo, json!("Limbo (not in balance yet)"));
    eval(&tab, "document.querySelector('details.states').open = true");
    screenshots(&tab, "8-wallets-states");

    // An export; the folder it used is remembered for the next visit and offered in a list.
    let folder = out.path().to_string_lossy().into_owned();
    show_screen(&tab, "export");
    set_value(&tab, "export-amount", "100");
    set_value(&tab, "export-type", "stack");
    set_value(&tab, "export-folder", &folder);
    eval(&tab, "document.getElementById('export-button').click()");
    wait_for(&tab, "!document.getElementById('export-result').hidden", "the export's result");
    let exported = text_of(&tab, "export-file");
    assert_eq!(server.balance("Default"), ("47.5".to_owned(), 25));
    tab.reload(false, None).expect("reload").wait_until_navigated().expect("reloaded");
    wait_for(&tab, "document.querySelector('.card[data-wallet=\"Default\"] .amount')", "wallets");
    assert_eq!(eval(&tab, "document.getElementById('export-folder').value"), json!(folder));
    let offered = eval(
        &tab,
        "Array.from(document.querySelectorAll('#recent-folders option'), (o) => o.value)",
    );
    assert_eq!(offered, json!([folder]));
    show_screen(&tab, "export");
    screenshots(&tab, "2-export-folder-help");

    // The exported file dropped back: refused as sent away, named by its own name, and the
    // choice to store it anyway is there but does nothing until the person confirms it.
    let mine = drops.path().join("my own export.stack");
    std::fs::copy(&exported, &mine).expect("copy the export");
    let junk = drops.path().join("notes.txt");
    std::fs::write(&junk, b"not a coin").expect("write");
    show_screen(&tab, "import");
    drop_files(&tab, "#drop", &[mine.as_path(), junk.as_path()]);
    wait_for(
        &tab,
        "document.querySelectorAll('#import-results li').length === 2 && \
         !document.querySelector('#import-results li[data-state=\"pending\"]')",
        "a result for each file",
    );
    let row = "Array.from(document.querySelectorAll('#import-results li')).find((li) => \
               li.querySelector('.name').textContent === 'my own export.stack')";
    let said = eval(&tab, &format!("{row}.querySelector('.what-happened').textContent"));
    assert_eq!(said, json!("1 coin not stored: this server sent it away earlier"));
    let choice = eval(&tab, &format!("{row}.querySelector('.sent-choice').textContent"));
    let choice = choice.as_str().expect("text");
    assert!(
        choice.contains("1 coin in this file was sent away from wallet Default of this server"),
        "{choice}"
    );
    assert!(choice.contains("only if the file is yours and no one else has a copy"), "{choice}");
    assert_eq!(eval(&tab, &format!("{row}.querySelector('.sent-allow').disabled")), json!(true));
    eval(&tab, &format!("{row}.querySelector('.sent-allow').click()"));
    assert_eq!(server.balance("Default"), ("47.5".to_owned(), 25), "nothing without the tick");
    let everything = eval(&tab, "document.getElementById('import-results').textContent");
    assert!(!everything.as_str().expect("text").contains("inline #"), "{everything}");
    screenshots(&tab, "3-import-sent-away");

    // Confirmed: the coin is stored again, and the choice is gone.
    eval(&tab, &format!("{row}.querySelector('.sent-confirm').click()"));
    eval(&tab, &format!("{row}.querySelector('.sent-allow').click()"));
    wait_for(&tab, &format!("{row}.dataset.state === 'imported'"), "the sent coin imported");
    assert_eq!(server.balance("Default"), ("147.5".to_owned(), 26));
    assert_eq!(eval(&tab, &format!("{row}.querySelector('.sent-choice') === null")), json!(true));

    // The task list names the files too, never "inline #0".
    show_screen(&tab, "tasks");
    let tasks = wait_for(
        &tab,
        "document.querySelectorAll('#task-list li .file').length === 3 && \
         document.getElementById('task-list').textContent",
        "the imports named in the task list",
    );
    let tasks = tasks.as_str().expect("text");
    assert!(tasks.contains("notes.txt") && tasks.contains("my own export.stack"), "{tasks}");
    assert!(!tasks.contains("inline #"), "{tasks}");
    assert!(tasks.contains("drop the file on the Receive screen again"), "{tasks}");
    assert!(
        !tasks.contains("--allow-sent"),
        "the page's own words, not the command line's: {tasks}"
    );
    screenshots(&tab, "6-tasks-named");
}
