//! A paper wallet: a png export printed and scanned (pixels only, degraded as a scanner would)
//! imports into another wallet as the same coins; a scan missing a code changes nothing.

use base64::Engine;
use cloudcoin_domain::{Coin, FileKind};

use crate::support::ids_and_ans;
use cloudcoin_paper_sim::{Degradation, band, print_and_scan, rasterise};
use cloudcoin_tasks::{ImportItem, ImportResult, Service, TaskOutcome, TaskStatus};

use crate::support::*;

/// Exports `count` coins of 1 from Default as a png and returns the file's bytes.
async fn export_png(env: &Env, service: &Service, count: u32) -> Vec<u8> {
    let request = env.export_request(&count.to_string(), FileKind::Png);
    let task = service.start_export(request).await.expect("export started");
    let Some(TaskOutcome::Export(out)) = finished(service, task.id).await.outcome else {
        panic!("export failed")
    };
    assert_eq!(out.coins, u64::from(count));
    std::fs::read(&out.file).expect("the png")
}

/// The page of `png` printed and scanned: no chunk survives.
fn scan_of(png: &[u8], degradation: &Degradation) -> Vec<u8> {
    let printed = rasterise(png).expect("rasterises");
    print_and_scan(&printed, degradation).expect("scans")
}

fn inline(bytes: &[u8]) -> ImportItem {
    ImportItem::InlineBase64(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The same picture handed over as bytes, as an embedding program would.
fn bytes_item(bytes: &[u8]) -> ImportItem {
    ImportItem::Bytes(bytes.to_vec())
}

async fn import(
    service: &Service,
    name: &str,
    items: Vec<ImportItem>,
) -> (TaskStatus, ImportResult) {
    crate::support::import_exported_pages(service, name, items).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_and_scanned_pages_of_1_2_and_3_coins_import_as_the_same_coins() {
    // Three coins are the most a png page carries in its codes.
    let bank: Vec<Coin> = (1..=6).map(|sn| coin(0, 9_000 + sn)).collect();
    let env = Env::with_bank(&bank);
    let service = env.open().await;
    service.create_wallet(&wallet("Paper")).await.expect("create");
    let mut expected = Vec::new();
    for count in [1, 2, 3] {
        let before: Vec<Coin> = coins_in(&env.folder("Default", "Sent"));
        let png = export_png(&env, &service, count).await;
        let sent: Vec<Coin> = coins_in(&env.folder("Default", "Sent"))
            .into_iter()
            .filter(|c| !before.contains(c))
            .collect();
        assert_eq!(sent.len(), count as usize);
        let scan = scan_of(&png, &Degradation::scan());
        let item = if count == 2 { bytes_item(&scan) } else { inline(&scan) };
        let (status, r) = import(&service, "Paper", vec![item]).await;
        assert_eq!(status, TaskStatus::Completed, "{count} coins: {:?}", r.rejected);
        assert_eq!((r.imported, r.already_present), (u64::from(count), 0), "{:?}", r.rejected);
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(r.amount, amount(&count.to_string()));
        expected.extend(sent);
        // The same coins, identities and ANs, and nothing else.
        let stored = coins_in(&env.folder("Paper", "Bank"));
        assert_eq!(ids_and_ans(&stored), ids_and_ans(&expected), "{count} coins");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_with_a_code_missing_is_refused_naming_it_and_changes_nothing() {
    let bank: Vec<Coin> = (1..=3).map(|sn| coin(0, 7_000 + sn)).collect();
    let env = Env::with_bank(&bank);
    let service = env.open().await;
    service.create_wallet(&wallet("Paper")).await.expect("create");
    let png = export_png(&env, &service, 3).await;
    let before = service.wallet(&wallet("Paper")).await.expect("wallet");
    let scan = scan_of(&png, &Degradation::scan().covering(2));
    let (status, r) = import(&service, "Paper", vec![inline(&scan)]).await;
    assert_eq!(status, TaskStatus::Error);
    assert_eq!((r.imported, r.already_present, r.rejected.len()), (0, 0, 1));
    let reason = &r.rejected[0].reason;
    assert!(reason.contains("missing 2)") && reason.contains("found 1, 3, 4;"), "{reason}");
    assert!(coins_in(&env.folder("Paper", "Bank")).is_empty(), "nothing stored");
    assert_eq!(service.wallet(&wallet("Paper")).await.expect("wallet"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pictures_of_parts_of_one_page_in_one_import_are_combined() {
    let bank: Vec<Coin> = (1..=3).map(|sn| coin(0, 8_000 + sn)).collect();
    let env = Env::with_bank(&bank);
    let service = env.open().await;
    service.create_wallet(&wallet("Paper")).await.expect("create");
    let png = export_png(&env, &service, 3).await;
    let printed = rasterise(&png).expect("rasterises");
    let part = |top, bottom| {
        let photo = band(&printed, top, bottom).expect("cuts");
        inline(&print_and_scan(&photo, &Degradation::scan()).expect("scans"))
    };
    // Each part alone is refused, naming what it lacks.
    let (status, alone) = import(&service, "Paper", vec![part(0, 580)]).await;
    assert_eq!(status, TaskStatus::Error);
    assert!(alone.rejected[0].reason.contains("missing"), "{:?}", alone.rejected);
    // Together, in one import, they give the page's coins.
    let lower = part(420, 1000);
    let (status, r) = import(&service, "Paper", vec![part(0, 580), lower]).await;
    assert_eq!(status, TaskStatus::Completed, "{:?}", r.rejected);
    assert_eq!((r.imported, r.rejected.len()), (3, 0), "{:?}", r.rejected);
    assert_eq!(ids_and_ans(&coins_in(&env.folder("Paper", "Bank"))), ids_and_ans(&bank));
}
