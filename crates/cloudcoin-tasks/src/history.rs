//! A wallet's history read back: the rows `records` appends to `transactions.csv`, newest first,
//! a page at a time, each export with the SHA-256 of its receipt.

use std::io;
use std::path::Path;

use cloudcoin_domain::Amount;
use cloudcoin_wire::{TaskId, Transaction, TransactionPage};

use crate::store::Folder;

/// The most rows one page holds.
pub(crate) const MAX_PAGE: u64 = 500;

/// Rows `offset..offset + limit` of the wallet's history counted from the newest, with the
/// counts of the whole. A wallet without a `transactions.csv` has an empty history. Blocking.
pub(crate) fn page(wallet_dir: &Path, offset: u64, limit: u64) -> io::Result<TransactionPage> {
    let text = match std::fs::read(wallet_dir.join("transactions.csv")) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    // A row being appended right now has no line end yet: it is not read until it has one.
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let mut skipped = 0u64;
    let mut rows = Vec::new();
    for line in complete.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        match parse_row(line) {
            Some(row) => rows.push(row),
            None => skipped += 1,
        }
    }
    let total = u64::try_from(rows.len()).expect("counts fit in 64 bits");
    let receipts = wallet_dir.join(Folder::Receipts.name());
    let start = usize::try_from(offset).unwrap_or(usize::MAX);
    let count = usize::try_from(limit.min(MAX_PAGE)).expect("a page fits in usize");
    let transactions = rows
        .into_iter()
        .rev()
        .skip(start)
        .take(count)
        .map(|mut row| {
            if row.kind == "export" {
                row.sha256 = receipt_sha256(&receipts, &row.id);
            }
            row
        })
        .collect();
    let mut page = TransactionPage::new(total, offset, transactions);
    page.skipped = skipped;
    Ok(page)
}

/// The `sha256` of the receipt of operation `id`, if it has a readable one. The id comes from
/// a file other software may write: only a task id (a UUID) names a receipt.
fn receipt_sha256(receipts: &Path, id: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Receipt {
        sha256: String,
    }
    let id: TaskId = id.parse().ok()?;
    let bytes = std::fs::read(receipts.join(format!("{id}.json"))).ok()?;
    let receipt: Receipt = serde_json::from_slice(&bytes).ok()?;
    let hex = receipt.sha256.len() == 64 && receipt.sha256.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then_some(receipt.sha256)
}

/// One row, `time,type,amount,coins,tag,file,id`; `None` when its amount or count cannot be
/// read.
fn parse_row(line: &str) -> Option<Transaction> {
    let mut f = fields(line).into_iter();
    let mut next = || f.next().unwrap_or_default();
    let (time, kind, amount, coins) = (next(), next(), next(), next());
    let amount: Amount = amount.trim().parse().ok()?;
    let coins: u64 = coins.trim().parse().ok()?;
    let mut row = Transaction::new(time, kind, amount, coins);
    row.tag = next();
    row.file = next();
    row.id = next();
    Some(row)
}

/// Splits one CSV line: fields quoted with `"` where they hold a comma or a quote, a quote
/// inside doubled (the way `records::append_transaction` writes them).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Transaction as Row, append_transaction};

    #[test]
    fn csv_fields_with_quotes_and_commas() {
        assert_eq!(fields("a,,\"b,c\",\"say \"\"hi\"\"\",d"), ["a", "", "b,c", "say \"hi\"", "d"]);
    }

    #[test]
    fn rows_written_are_read_back_newest_first_a_page_at_a_time() {
        let dir = tempfile::tempdir().expect("dir");
        let receipts = dir.path().join("Receipts");
        std::fs::create_dir(&receipts).expect("receipts");
        let id = TaskId::new().to_string();
        let sha = "ab".repeat(32);
        std::fs::write(receipts.join(format!("{id}.json")), format!(r#"{{"sha256":"{sha}"}}"#))
            .expect("receipt");
        let amount = |s: &str| s.parse::<Amount>().expect("amount");
        let rows = [
            ("import", "126", 18, "", "/in/test-coins", "i-1"),
            ("export", "10.5", 6, "rent, \"May\"", "/o/10.5 CloudCoin #6 'rent'.zip", id.as_str()),
            ("export", "1", 1, "", "/o/1 CloudCoin #7 ''.bin", "../../etc/passwd"),
        ];
        for (i, (kind, a, coins, tag, file, id)) in rows.iter().enumerate() {
            let row = Row {
                time: 1_764_339_000 + i as u64,
                kind,
                amount: amount(a),
                coins: *coins,
                tag,
                file,
                id,
            };
            append_transaction(dir.path(), &row).expect("append");
        }
        // A row other software wrote, and one being appended (no line end yet).
        let csv = dir.path().join("transactions.csv");
        let mut text = std::fs::read_to_string(&csv).expect("csv");
        text.push_str("yesterday,export,lots,3,,,x\n2026-12-07T00:00:00Z,import,5,");
        std::fs::write(&csv, text).expect("write");

        let all = page(dir.path(), 0, 10).expect("page");
        assert_eq!((all.total, all.offset, all.skipped), (3, 0, 1));
        let kinds: Vec<(&str, String)> =
            all.transactions.iter().map(|t| (t.kind.as_str(), t.amount.to_string())).collect();
        assert_eq!(
            kinds,
            [("export", "1".into()), ("export", "10.5".into()), ("import", "126".into())]
        );
        assert_eq!(all.transactions[1].tag, "rent, \"May\"");
        assert_eq!(all.transactions[1].time, "2025-11-28T14:10:01Z");
        assert_eq!(all.transactions[1].sha256.as_deref(), Some(sha.as_str()), "from its receipt");
        assert_eq!(all.transactions[0].sha256, None, "an id that is no task id names no receipt");
        assert_eq!(all.transactions[2].sha256, None, "imports have no receipt");

        let second = page(dir.path(), 1, 1).expect("page");
        assert_eq!(second.transactions.len(), 1);
        assert_eq!(second.transactions[0].amount.to_string(), "10.5");
        assert!(page(dir.path(), 3, 10).expect("page").transactions.is_empty());

        let empty = tempfile::tempdir().expect("dir");
        let none = page(empty.path(), 0, 10).expect("no file is no history");
        assert_eq!((none.total, none.transactions.len()), (0, 0));
    }
}
