//! What changes on a terminal: colour, and tables cut to its width. Output to
//! a pipe or a file is the same whatever the terminal.

use std::io::{self, Write};

/// Whether stdout takes colour: a terminal, `NO_COLOR` unset (or empty), and
/// `TERM` not `dumb`. Output reads the same without it.
fn colour() -> bool {
    use std::io::IsTerminal;
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| {
        io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb")
    })
}

pub(super) const GREEN: &str = "32";
pub(super) const RED: &str = "31;1";

/// `text` in an ANSI colour when stdout takes colour.
pub(super) fn paint(text: &str, code: &str) -> String {
    if colour() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A table row cut to the terminal's width (with an ellipsis), when stdout is
/// a terminal; whole otherwise, for pipes and files.
fn fit(row: &str) -> std::borrow::Cow<'_, str> {
    match term_width() {
        Some(w) if w > 20 && row.chars().count() > w => {
            let mut s: String = row.chars().take(w - 1).collect();
            s.push('…');
            std::borrow::Cow::Owned(s)
        }
        _ => std::borrow::Cow::Borrowed(row),
    }
}

/// The terminal's width, when stdout is one.
fn term_width() -> Option<usize> {
    static WIDTH: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *WIDTH.get_or_init(|| {
        console::Term::stdout()
            .size_checked()
            .map(|(_, cols)| usize::from(cols))
    })
}

/// Writes lines through [`fit`]: the tables of a command cut to the terminal's
/// width (and passed whole to a pipe or a file).
pub(super) struct FitLines<'a, W: Write> {
    inner: &'a mut W,
    line: Vec<u8>,
}

impl<'a, W: Write> FitLines<'a, W> {
    pub(super) fn new(inner: &'a mut W) -> Self {
        FitLines {
            inner,
            line: Vec::new(),
        }
    }
}

impl<W: Write> Write for FitLines<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if term_width().is_none() {
            self.inner.write_all(buf)?;
            return Ok(buf.len());
        }
        for &b in buf {
            if b == b'\n' {
                let text = String::from_utf8_lossy(&self.line);
                self.inner.write_all(fit(&text).as_bytes())?;
                self.inner.write_all(b"\n")?;
                self.line.clear();
            } else {
                self.line.push(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            let text = String::from_utf8_lossy(&self.line).into_owned();
            self.inner.write_all(fit(&text).as_bytes())?;
            self.line.clear();
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for FitLines<'_, W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
