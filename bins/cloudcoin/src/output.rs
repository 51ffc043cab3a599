//! What a command prints on standard output: words for a person, or one JSON document with
//! `--json`; and the progress bar, drawn only for a person at a terminal.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use cloudcoin_client::wire::Task;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::exit::{Failure, Status};

/// Where results go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    /// Prints `value` as one JSON document with `--json`, else what `human` writes.
    pub(crate) fn emit<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), Failure> {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        let written = if self.json {
            serde_json::to_writer(&mut out, value)
                .map_err(io::Error::other)
                .and_then(|()| writeln!(out))
        } else {
            human(&mut out)
        };
        match written.and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            // A reader that went away (`| head`) is not a failure of the command.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => {
                Err(Failure::new(Status::Failed, format!("cannot write to standard output: {e}")))
            }
        }
    }

    /// A progress bar for a task, or nothing: none with `--json` or when standard output is
    /// not a terminal.
    pub(crate) fn progress(&self, what: &str) -> Progress {
        if self.json || !io::stdout().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
        // The message goes last and is cut to the terminal's width, so the bar stays one line.
        let style = ProgressStyle::with_template(
            "{spinner} {prefix} [{bar:30}] {pos:>3}%  {elapsed:>4}  {wide_msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }
}

/// A task's progress bar (or none).
#[derive(Debug)]
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    /// Shows a task's latest state.
    pub(crate) fn show(&self, task: &Task) {
        if let Some(bar) = &self.0 {
            bar.set_position(u64::from(task.progress));
            bar.set_message(task.message.clone());
        }
    }

    /// Removes the bar before the result is printed.
    pub(crate) fn clear(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Writes rows as columns padded to the widest cell (the last column unpadded).
pub(crate) fn table(out: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_their_columns() {
        let rows = vec![
            vec!["NAME".into(), "BALANCE".into(), "COINS".into()],
            vec!["Default".into(), "115.5".into(), "12".into()],
            vec!["A".into(), "0".into(), "0".into()],
        ];
        let mut out = Vec::new();
        table(&mut out, &rows).expect("written");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "NAME     BALANCE  COINS\nDefault  115.5    12\nA        0        0\n"
        );
    }
}
