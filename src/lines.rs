//! Reading JSON Lines: one event per line, read with a bounded line length, so
//! that memory stays bounded whatever the input.

use crate::event::Event;
use crate::input::InputError;
use crate::json;
use std::io::{self, BufRead};

/// A line that could not be read or parsed.
#[derive(Debug)]
pub enum LineError {
    /// The line is not a valid event.
    Input {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        error: InputError,
    },
    /// Reading failed.
    Io {
        /// The line being read.
        line: usize,
        /// The error.
        error: io::Error,
    },
}

/// One parsed line: its 1-based number and its event.
pub type Parsed = Result<(usize, Event), LineError>;

/// Reads one line of at most `max` bytes (without its newline). `Ok(None)` at the
/// end; `Err` with the line's length when it is longer than `max`, having skipped it.
pub fn read_line_bounded(
    r: &mut impl io::BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<std::result::Result<(), usize>>> {
    buf.clear();
    let mut len = 0usize;
    let mut too_long = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(if len == 0 && buf.is_empty() && !too_long {
                None
            } else if too_long {
                Some(Err(len))
            } else {
                Some(Ok(()))
            });
        }
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        len += part.len();
        if !too_long {
            if buf.len() + part.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(part.len());
        r.consume(used);
        if done.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(if too_long { Err(len) } else { Ok(()) }));
        }
    }
}

/// Parses a JSON Lines stream lazily, line by line. Blank lines are skipped.
/// After the first error no more items follow.
///
/// (Parsing on a thread of its own was measured slower at 1M lines: the events
/// are then freed on another thread than the one that allocated them.)
pub fn parse_lines(reader: impl BufRead) -> impl Iterator<Item = Parsed> {
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut line = 0usize;
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let read = read_line_bounded(&mut reader, &mut buf, json::MAX_LINE);
        line += 1;
        let item = match read {
            Ok(None) => return None,
            Err(error) => Err(LineError::Io { line, error }),
            Ok(Some(Err(len))) => Err(LineError::Input {
                line,
                error: InputError::new(
                    "",
                    format!("line is {len} bytes long; the limit is {}", json::MAX_LINE),
                ),
            }),
            Ok(Some(Ok(()))) => match std::str::from_utf8(&buf) {
                Err(e) => Err(LineError::Input {
                    line,
                    error: InputError::new(
                        "",
                        format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
                    ),
                }),
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => json::parse_event(text)
                    .map(|e| (line, e))
                    .map_err(|error| LineError::Input { line, error }),
            },
        };
        done = item.is_err();
        return Some(item);
    })
}
