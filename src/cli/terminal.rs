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
    /// The line being written, kept from row to row.
    line: String,
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
            line: String::with_capacity(160),
        }
    }

    fn measure(&mut self, row: &Row) {
        match row {
            Row::Cells(c) => self.measure_cells(c),
            Row::Line(first, _) => self.measure_cells(std::slice::from_ref(first)),
        }
    }

    fn measure_cells(&mut self, cells: &[impl AsRef<str>]) {
        let last = self.widths.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate().take(last) {
            self.widths[i] = self.widths[i].max(width(c.as_ref()));
        }
    }

    fn write_cells(&mut self, out: &mut impl Write, cells: &[impl AsRef<str>]) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        let last = cells.len().saturating_sub(1);
        for (i, c) in cells.iter().enumerate() {
            let c = c.as_ref();
            if i > 0 {
                line.push_str("  ");
            }
            if i == last {
                line.push_str(c);
                continue;
            }
            let pad = self.widths.get(i).map_or(0, |w| w.saturating_sub(width(c)));
            if self.right.get(i).copied().unwrap_or(false) {
                spaces(line, pad);
                line.push_str(c);
            } else {
                line.push_str(c);
                spaces(line, pad);
            }
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        out.write_all(line.as_bytes())
    }

    fn write_row(&mut self, out: &mut impl Write, row: &Row) -> io::Result<()> {
        match row {
            Row::Cells(c) => self.write_cells(out, c),
            Row::Line(first, text) => self.write_cells(out, &[first, text]),
        }
    }

    fn start(&mut self, out: &mut impl Write) -> io::Result<()> {
        self.streaming = true;
        let header = std::mem::take(&mut self.header);
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

    /// Adds a row of cells lent for the call: once the columns are measured,
    /// written without a copy (a long listing makes no string per cell).
    pub(super) fn push_cells(&mut self, out: &mut impl Write, cells: &[&str]) -> io::Result<()> {
        if !self.streaming {
            let row = Row::Cells(cells.iter().map(|c| c.to_string()).collect());
            return self.push(out, row);
        }
        self.measure_cells(cells);
        self.write_cells(out, cells)
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

/// How long something took, as a person reads it: milliseconds under a
/// second ("40 ms", where "0.0 s" said nothing), seconds to a tenth above.
pub(super) fn took(elapsed: std::time::Duration) -> String {
    match elapsed.as_millis() {
        ms @ 0..=999 => format!("{ms} ms"),
        _ => format!("{:.1} s", elapsed.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(i: usize, wide: bool) -> Vec<String> {
        let party = match (wide, i % 100) {
            (true, _) => "A-PARTY-WITH-A-LONG-ID",
            // Six bytes, four characters wide.
            (false, 1) => "ÉTAT",
            _ => "USA",
        };
        vec![
            party.into(),
            format!("{i}"),
            "last cell, never padded".into(),
        ]
    }

    /// Rows lent and rows given make the same table: measured on the rows
    /// held, widened from where a wider cell comes, the header written once.
    #[test]
    fn a_long_table_reads_the_same_whether_its_cells_are_lent_or_given() {
        let n = Columns::HOLD + 500;
        let wide_at = Columns::HOLD + 200;
        let (mut given, mut lent) = (Vec::new(), Vec::new());
        let mut a = Columns::new(&["party", "n", "what"], &[false, true]);
        let mut b = Columns::new(&["party", "n", "what"], &[false, true]);
        for i in 0..n {
            let c = cells(i, i == wide_at);
            a.push(&mut given, Row::Cells(c.clone())).expect("write");
            let refs: Vec<&str> = c.iter().map(String::as_str).collect();
            b.push_cells(&mut lent, &refs).expect("write");
        }
        a.finish(&mut given).expect("write");
        b.finish(&mut lent).expect("write");
        assert_eq!(given, lent);
        let text = String::from_utf8(lent).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), n + 1);
        // Measured on the rows held: "party" and "999" are the widest.
        assert_eq!(lines[0], "party    n  what");
        assert_eq!(lines[1], "USA      0  last cell, never padded");
        // Wider cells widen their column from there on.
        assert_eq!(
            lines[Columns::HOLD + 1],
            format!("USA    {}  last cell, never padded", Columns::HOLD)
        );
        assert_eq!(
            lines[wide_at + 1],
            format!("A-PARTY-WITH-A-LONG-ID  {wide_at}  last cell, never padded")
        );
        assert_eq!(
            lines[n],
            format!("{:<22}  {}  last cell, never padded", "USA", n - 1)
        );
        // Padded by characters, not bytes, before and after the rows held.
        assert_eq!(lines[2], "ÉTAT     1  last cell, never padded");
        assert_eq!(
            lines[Columns::HOLD + 302],
            format!(
                "{:<22}  {}  last cell, never padded",
                "ÉTAT",
                Columns::HOLD + 301
            )
        );
    }

    #[test]
    fn a_table_with_no_rows_writes_nothing() {
        let mut out = Vec::new();
        Columns::new(&["a", "b"], &[])
            .finish(&mut out)
            .expect("write");
        assert!(out.is_empty());
    }

    #[test]
    fn took_reads_in_milliseconds_under_a_second() {
        use std::time::Duration;
        assert_eq!(super::took(Duration::from_micros(40_400)), "40 ms");
        assert_eq!(super::took(Duration::from_millis(999)), "999 ms");
        assert_eq!(super::took(Duration::from_millis(1_000)), "1.0 s");
        assert_eq!(super::took(Duration::from_millis(12_345)), "12.3 s");
    }
}
