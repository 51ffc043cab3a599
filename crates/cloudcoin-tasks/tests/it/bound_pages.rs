//! Pages are bound: the codes of two paper wallet pages, imported together, never combine into
//! coins of neither page. The pictures here are the pages' own pixels (no `cLDc` chunk), so the
//! coins can only come from the QR codes.

use std::io::Cursor;

use cloudcoin_codec::scan_picture;
use cloudcoin_domain::{Coin, FileKind};

use crate::support::ids_and_ans;
use cloudcoin_tasks::{ImportItem, ImportResult, Service, TaskOutcome, TaskStatus};
use image::RgbImage;

use crate::support::*;

/// Exports `count` coins of 1 from Default as a png; returns its picture and the coins sent.
async fn export_page(env: &Env, service: &Service, count: usize) -> (RgbImage, Vec<Coin>) {
    let before = coins_in(&env.folder("Default", "Sent"));
    let request = env.export_request(&count.to_string(), FileKind::Png);
    let task = service.start_export(request).await.expect("export started");
    let Some(TaskOutcome::Export(out)) = finished(service, task.id).await.outcome else {
        panic!("export failed")
    };
    let png = std::fs::read(&out.file).expect("the png");
    let sent: Vec<Coin> = coins_in(&env.folder("Default", "Sent"))
        .into_iter()
        .filter(|c| !before.contains(c))
        .collect();
    assert_eq!(sent.len(), count);
    let picture = image::load_from_memory(&png).expect("a picture").to_rgb8();
    (picture, sent)
}

/// `picture` as a PNG of pixels only: what a screenshot or a re-saved copy is.
fn pixels_only(picture: &RgbImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).expect("encodes");
    out.into_inner()
}

/// The upper part of `top` above the lower part of `bottom`, cut between the two rows of codes.
fn spliced(top: &RgbImage, bottom: &RgbImage) -> RgbImage {
    let half = top.height() * 17 / 30;
    RgbImage::from_fn(top.width(), top.height(), |x, y| {
        if y < half { *top.get_pixel(x, y) } else { *bottom.get_pixel(x, y) }
    })
}

async fn import(service: &Service, items: Vec<Vec<u8>>) -> (TaskStatus, ImportResult) {
    let items = items.into_iter().map(ImportItem::Bytes).collect();
    crate::support::import_exported_pages(service, "Paper", items).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_of_two_pages_are_refused_naming_both_and_the_whole_pages_then_import() {
    let bank: Vec<Coin> = (1..=6).map(|sn| coin(0, 6_100 + sn)).collect();
    let env = Env::with_bank(&bank);
    let service = env.open().await;
    service.create_wallet(&wallet("Paper")).await.expect("create");
    let (a, sent_a) = export_page(&env, &service, 3).await;
    let (b, sent_b) = export_page(&env, &service, 3).await;
    let page_of = |picture: &RgbImage| {
        let scan = scan_picture(&pixels_only(picture)).expect("reads");
        assert!(scan.is_complete(), "the whole page reads");
        let codes = scan.page_codes();
        assert_eq!(codes.len(), 1, "{codes:?}");
        codes[0].clone()
    };
    let (page_a, page_b) = (page_of(&a), page_of(&b));
    assert_ne!(page_a, page_b);

    // The premise: each half shows some codes of its page and not all of them.
    let mixed = pixels_only(&spliced(&a, &b));
    let scan = scan_picture(&mixed).expect("reads");
    assert_eq!(scan.page_codes().len(), 2, "codes of both pages are read");
    assert!(!scan.is_complete());

    let before = service.wallet(&wallet("Paper")).await.expect("wallet");
    let (status, r) = import(&service, vec![mixed]).await;
    assert_eq!(status, TaskStatus::Error, "{r:?}");
    assert_eq!((r.imported, r.already_present), (0, 0), "{:?}", r.rejected);
    let reasons: Vec<&str> = r.rejected.iter().map(|x| x.reason.as_str()).collect();
    assert!(!reasons.is_empty());
    for reason in &reasons {
        assert!(reason.contains(&page_a) && reason.contains(&page_b), "{reason}");
        assert!(reason.contains("missing"), "{reason}");
    }
    assert!(coins_in(&env.folder("Paper", "Bank")).is_empty(), "nothing stored");
    assert_eq!(service.wallet(&wallet("Paper")).await.expect("wallet"), before);

    // The genuine pages, in one import and in either order, give exactly their coins.
    let (status, r) = import(&service, vec![pixels_only(&b), pixels_only(&a)]).await;
    assert_eq!(status, TaskStatus::Completed, "{:?}", r.rejected);
    assert_eq!((r.imported, r.already_present), (6, 0), "{:?}", r.rejected);
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let mut sent = sent_a;
    sent.extend(sent_b);
    assert_eq!(ids_and_ans(&coins_in(&env.folder("Paper", "Bank"))), ids_and_ans(&sent));
}
