//! A real headless Chromium for the wallet page tests, driven over the DevTools protocol with
//! `headless_chrome` (it starts the browser itself, with no driver process in between, and gives
//! the protocol calls these tests need: downloads, drag and drop of files, frame trees, device
//! sizes for screenshots).

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::{Browser as Cdp, Emulation, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::{Value, json};

/// The Chromium binary: `$CHROMIUM`, else `chromium` or `chromium-browser` on the `PATH`.
/// Without one, the test says so and is skipped; under CI (`CI` set) it fails instead, since CI
/// installs Chromium (`.ci/run`).
pub(crate) fn chromium() -> Option<PathBuf> {
    let from_env = std::env::var_os("CHROMIUM").map(PathBuf::from).filter(|p| p.exists());
    let found = from_env.or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not installed, and CI must run the browser tests (.ci/run installs it)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: chromium is not installed, so the wallet page is not tested in a browser \
             here; `apt-get install chromium` (Debian) to run these tests"
        );
    }
    found
}

/// A browser with a fresh profile; the profile folder goes with it.
pub(crate) struct Chrome {
    pub(crate) browser: Browser,
    _profile: tempfile::TempDir,
}

impl Chrome {
    pub(crate) fn launch(binary: &Path) -> Chrome {
        let profile = tempfile::tempdir().expect("profile dir");
        let args: Vec<&OsStr> = [
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ]
        .iter()
        .map(OsStr::new)
        .collect();
        let options = LaunchOptions::default_builder()
            .path(Some(binary.to_owned()))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1280, 900)))
            .user_data_dir(Some(profile.path().to_owned()))
            .args(args)
            .idle_browser_timeout(Duration::from_secs(300))
            .build()
            .expect("launch options");
        let browser = Browser::new(options).expect("chromium starts");
        Chrome { browser, _profile: profile }
    }

    pub(crate) fn tab(&self) -> Arc<Tab> {
        let tab = self.browser.new_tab().expect("a tab");
        tab.set_default_timeout(Duration::from_secs(60));
        tab
    }
}

/// Evaluates `expression` (which must give a JSON-serialisable value, or a promise of one)
/// and returns that value.
pub(crate) fn eval(tab: &Tab, expression: &str) -> Value {
    let wrapped = format!("Promise.resolve(({expression})).then((v) => JSON.stringify(v ?? null))");
    let result = tab.evaluate(&wrapped, true).expect("evaluate");
    let text = result
        .value
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("{expression} gave no value: {:?}", result.description));
    serde_json::from_str(&text).expect("JSON from the page")
}

/// Waits (in the page, up to 60 s) until `condition` is truthy; returns its value. The page
/// re-checks on every change of the document and every 50 ms.
pub(crate) fn wait_for(tab: &Tab, condition: &str, what: &str) -> Value {
    let script = format!(
        "new Promise((resolve) => {{
            const started = Date.now();
            const check = () => {{
                let v = null;
                try {{ v = ({condition}); }} catch (e) {{ v = null; }}
                if (v) return resolve({{ ok: v }});
                if (Date.now() - started > 60000) return resolve({{ timeout: document.body ? document.body.innerText.slice(0, 3000) : '' }});
                setTimeout(check, 50);
            }};
            check();
        }})"
    );
    let v = eval(tab, &script);
    match v.get("ok") {
        Some(ok) => ok.clone(),
        None => panic!("timed out waiting for {what}; the page said:\n{}", v["timeout"]),
    }
}

/// Lets the browser save downloads in `dir`.
pub(crate) fn allow_downloads(tab: &Tab, dir: &Path) {
    let method: Cdp::SetDownloadBehavior = serde_json::from_value(json!({
        "behavior": "allow",
        "downloadPath": dir.to_string_lossy(),
    }))
    .expect("method");
    tab.call_method(method).expect("set download behaviour");
}

/// Waits for a finished download in `dir` (no `.crdownload` left) and returns its path.
pub(crate) fn downloaded(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("download dir")
            .map(|e| e.expect("entry").path())
            .collect();
        let partial = files.iter().any(|p| p.extension().is_some_and(|e| e == "crdownload"));
        if let [one] = files.as_slice()
            && !partial
        {
            return one.clone();
        }
        assert!(Instant::now() < deadline, "no finished download in {}: {files:?}", dir.display());
        std::thread::yield_now();
    }
}

/// The page's frames: (url, unreachable url) of each child frame of the main frame.
pub(crate) fn child_frames(tab: &Tab) -> Vec<(String, Option<String>)> {
    let method: Page::GetFrameTree = serde_json::from_value(json!(null)).expect("method");
    let tree = tab.call_method(method).expect("frame tree").frame_tree;
    tree.child_frames
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.frame.url, f.frame.unreachable_url))
        .collect()
}

/// Saves a full-page screenshot at `width` CSS pixels to `$CLOUDCOIN_SCREENSHOTS/{name}.png`,
/// when that variable names a folder (for people looking at the page; tests assert nothing on
/// pictures).
pub(crate) fn screenshot(tab: &Tab, name: &str, width: u32) {
    let Some(dir) = std::env::var_os("CLOUDCOIN_SCREENSHOTS").map(PathBuf::from) else { return };
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let metrics = |height: u64| -> Emulation::SetDeviceMetricsOverride {
        serde_json::from_value(json!({
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600,
        }))
        .expect("method")
    };
    tab.call_method(metrics(900)).expect("device size");
    let height =
        eval(tab, "document.documentElement.scrollHeight").as_u64().unwrap_or(900).max(400);
    tab.call_method(metrics(height.min(4000))).expect("device size");
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    std::fs::write(dir.join(format!("{name}-{width}.png")), png).expect("save screenshot");
    let reset: Emulation::ClearDeviceMetricsOverride =
        serde_json::from_value(json!(null)).expect("method");
    tab.call_method(reset).expect("reset device size");
}

/// Screenshots at the desktop and the phone width.
pub(crate) fn screenshots(tab: &Tab, name: &str) {
    screenshot(tab, name, 1280);
    screenshot(tab, name, 390);
}
