//! `cloudcoin history`: a wallet's `transactions.csv` (every export and import, one row each),
//! read from the server's data directory on this machine.

use std::io::Write;
use std::path::Path;

use cloudcoin_client::default_data_dir;

use crate::exit::{Failure, Status};
use crate::output::table;

/// One row of `transactions.csv` (`time,type,amount,coins,tag,file,id`).
#[derive(Debug, serde::Serialize)]
struct Row {
    time: String,
    #[serde(rename = "type")]
    kind: String,
    amount: String,
    coins: String,
    tag: String,
    file: String,
    id: String,
}

pub(crate) fn history(data_dir: Option<&Path>, wallet: &str, json: bool) -> Result<(), Failure> {
    let dir = match data_dir {
        Some(dir) => dir.to_owned(),
        None => default_data_dir().map_err(|e| {
            Failure::usage(format!("cannot find the server's data directory: {e}; pass --data-dir"))
        })?,
    };
    if wallet.is_empty() || wallet.contains(['/', '\0']) || wallet.starts_with('.') {
        return Err(Failure::usage(format!("--wallet «{wallet}» is not a wallet name")));
    }
    let wallet_dir = dir.join("Wallets").join(wallet);
    let path = wallet_dir.join("transactions.csv");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let what = if wallet_dir.is_dir() {
                format!("wallet {wallet} has no history yet")
            } else {
                format!(
                    "no wallet {wallet} in the data directory {} (--data-dir names another)",
                    dir.display()
                )
            };
            return if wallet_dir.is_dir() && !json {
                write_out(&format!("{what}\n"))
            } else if wallet_dir.is_dir() {
                write_out("[]\n")
            } else {
                Err(Failure::new(Status::NotFound, what))
            };
        }
        Err(e) => return Err(Failure::usage(format!("cannot read {}: {e}", path.display()))),
    };
    let rows: Vec<Row> = text.lines().skip(1).filter(|l| !l.is_empty()).map(parse_row).collect();
    if json {
        let doc = serde_json::to_string(&rows)
            .map_err(|e| Failure::new(Status::Failed, format!("cannot write JSON: {e}")))?;
        return write_out(&format!("{doc}\n"));
    }
    if rows.is_empty() {
        return write_out(&format!("wallet {wallet} has no history yet\n"));
    }
    let mut lines =
        vec![["TIME (UTC)", "TYPE", "AMOUNT", "COINS", "TAG", "FILE"].map(String::from).to_vec()];
    for r in rows.iter().rev() {
        let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { s.to_owned() };
        lines.push(vec![
            r.time.replace('T', " ").trim_end_matches('Z').to_owned(),
            r.kind.clone(),
            r.amount.clone(),
            r.coins.clone(),
            dash(&r.tag),
            dash(&r.file),
        ]);
    }
    let mut out = Vec::new();
    table(&mut out, &lines)
        .map_err(|e| Failure::new(Status::Failed, format!("cannot write the table: {e}")))?;
    write_out(&String::from_utf8_lossy(&out))
}

fn write_out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(Status::Failed, format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
}

/// Splits one CSV line (fields quoted with `"` where they hold a comma or a quote).
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

fn parse_row(line: &str) -> Row {
    let mut f = fields(line).into_iter();
    let mut next = || f.next().unwrap_or_default();
    Row {
        time: next(),
        kind: next(),
        amount: next(),
        coins: next(),
        tag: next(),
        file: next(),
        id: next(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_quotes_and_commas() {
        assert_eq!(fields("a,,\"b,c\",\"say \"\"hi\"\"\",d"), ["a", "", "b,c", "say \"hi\"", "d"]);
        let r = parse_row(
            "2026-12-07T15:26:06Z,export,10.5,6,rent,\"/o/10.5 CloudCoin #6 'rent'.zip\",x",
        );
        assert_eq!(
            (r.kind.as_str(), r.amount.as_str(), r.tag.as_str()),
            ("export", "10.5", "rent")
        );
        assert_eq!(r.file, "/o/10.5 CloudCoin #6 'rent'.zip");
    }
}
