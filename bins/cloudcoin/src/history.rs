//! `cloudcoin history`: a wallet's history (every export and import, newest first), a page at a
//! time, from the server (`GET /api/v1/wallets/{name}/transactions`), so it works against a
//! server on another machine too.

use std::io::{self, Write};

use cloudcoin_client::wire::TransactionPage;

use crate::commands::{Context, wallet_name};
use crate::exit::Failure;
use crate::output::table;

pub(crate) async fn history(
    cx: &Context,
    wallet: &str,
    offset: u64,
    limit: u64,
) -> Result<(), Failure> {
    let name = wallet_name("--wallet", wallet)?;
    if !(1..=500).contains(&limit) {
        return Err(Failure::usage(format!("--limit {limit}: give a number from 1 to 500")));
    }
    let page = cx.client.transactions(&name, offset, limit).await.map_err(|e| cx.call_failed(e))?;
    cx.out.emit(&page, |o| print_page(o, wallet, &page))
}

fn print_page(o: &mut dyn Write, wallet: &str, page: &TransactionPage) -> io::Result<()> {
    if page.total == 0 {
        writeln!(o, "wallet {wallet} has no history yet")?;
        return note_skipped(o, page);
    }
    if page.transactions.is_empty() {
        writeln!(
            o,
            "wallet {wallet} has {} entries; none after the first {}",
            page.total, page.offset
        )?;
        return note_skipped(o, page);
    }
    let mut rows =
        vec![["TIME (UTC)", "TYPE", "AMOUNT", "COINS", "TAG", "FILE"].map(String::from).to_vec()];
    let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { s.to_owned() };
    rows.extend(page.transactions.iter().map(|t| {
        vec![
            t.time.replace('T', " ").trim_end_matches('Z').to_owned(),
            t.kind.clone(),
            t.amount.to_string(),
            t.coins.to_string(),
            dash(&t.tag),
            dash(&t.file),
        ]
    }));
    table(o, &rows)?;
    let shown = u64::try_from(page.transactions.len()).unwrap_or(u64::MAX);
    let end = page.offset.saturating_add(shown);
    if end < page.total || page.offset > 0 {
        writeln!(o, "entries {} to {end} of {}, newest first", page.offset + 1, page.total)?;
    }
    if end < page.total {
        writeln!(o, "older ones: cloudcoin history --wallet {wallet} --offset {end}")?;
    }
    note_skipped(o, page)
}

fn note_skipped(o: &mut dyn Write, page: &TransactionPage) -> io::Result<()> {
    match page.skipped {
        0 => Ok(()),
        n => writeln!(o, "({n} rows of transactions.csv could not be read and are not shown)"),
    }
}
