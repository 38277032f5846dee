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

/// A row of a [`Columns`] table: cells, or a line of its own (an event that
/// is no statement) after the first cell.
pub(super) enum Row {
    /// One text per column; the last is not padded.
    Cells(Vec<String>),
    /// The first column's cell, then free text.
    Line(String, String),
}

/// Rows written with their columns aligned to the widest cell. Rows are held
/// until [`Columns::HOLD`] have come, and the widths taken from them; a wider
/// cell later widens its column from there on, so a long listing streams.
pub(super) struct Columns {
    header: Vec<String>,
    /// Columns aligned to the right (numbers).
    right: Vec<bool>,
    widths: Vec<usize>,
    held: Vec<Row>,
    streaming: bool,
}

impl Columns {
    /// Rows held back to measure the columns before the first is written.
    const HOLD: usize = 1000;

    /// A table under `header`; `right` marks the columns aligned right.
    pub(super) fn new(header: &[&str], right: &[bool]) -> Self {
        Columns {
            header: header.iter().map(|h| h.to_string()).collect(),
            right: right.to_vec(),
            widths: header.iter().map(|h| h.chars().count()).collect(),
            held: Vec::new(),
            streaming: false,
        }
    }

    fn measure(&mut self, row: &Row) {
        let cells: &[String] = match row {
            Row::Cells(c) => c,
            Row::Line(first, _) => std::slice::from_ref(first),
        };
        let last = self.widths.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate().take(last) {
            self.widths[i] = self.widths[i].max(width(c));
        }
    }

    fn write_cells(&self, out: &mut impl Write, cells: &[String]) -> io::Result<()> {
        let mut line = String::with_capacity(160);
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if i == last {
                line.push_str(c);
                continue;
            }
            let pad = self.widths.get(i).map_or(0, |w| w.saturating_sub(width(c)));
            if self.right.get(i).copied().unwrap_or(false) {
                spaces(&mut line, pad);
                line.push_str(c);
            } else {
                line.push_str(c);
                spaces(&mut line, pad);
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        out.write_all(line.as_bytes())
    }

    fn write_row(&self, out: &mut impl Write, row: &Row) -> io::Result<()> {
        match row {
            Row::Cells(c) => self.write_cells(out, c),
            Row::Line(first, text) => self.write_cells(out, &[first.clone(), text.clone()]),
        }
    }

    fn start(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.streaming = true;
        let header = self.header.clone();
        self.write_cells(out, &header)?;
        for row in std::mem::take(&mut self.held) {
            self.write_row(out, &row)?;
        }
        Ok(())
    }

    /// Adds a row.
    pub(super) fn push(&mut self, out: &mut impl Write, row: Row) -> io::Result<()> {
        self.measure(&row);
        if self.streaming {
            return self.write_row(out, &row);
        }
        self.held.push(row);
        if self.held.len() >= Self::HOLD {
            self.start(out)?;
        }
        Ok(())
    }

    /// Writes what is held; nothing at all, not even the header, when no row came.
    pub(super) fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.streaming && !self.held.is_empty() {
            self.start(out)?;
        }
        Ok(())
    }
}

/// How many characters `s` takes.
fn width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Appends `n` spaces.
fn spaces(line: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        line.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// Rows whose cells are padded to the widest cell of their column (the last
/// cell is not), joined by two spaces, each after `indent`: for tables held
/// whole, whose rows are written between headings of their own.
pub(super) fn align(rows: &[Vec<String>], indent: &str) -> Vec<String> {
    let mut widths: Vec<usize> = Vec::new();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(r.len().saturating_sub(1)) {
            if widths.len() <= i {
                widths.resize(i + 1, 0);
            }
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = indent.to_string();
            for (i, c) in r.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$}", w = widths[i]));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}
