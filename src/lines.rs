//! Reading JSON Lines: one event per line, read with a bounded line length, so
//! that memory stays bounded whatever the input.

use crate::event::Event;
use crate::input::InputError;
use crate::json;
use std::io::{self, BufRead, BufReader, Read};

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
        let (part, done) = match memchr::memchr(b'\n', chunk) {
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
pub fn parse_lines(reader: impl BufRead) -> impl Iterator<Item = Parsed> {
    Lines::new(reader)
}

/// The iterator of [`parse_lines`].
struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    line: usize,
    done: bool,
}

impl<R> Lines<R> {
    fn new(reader: R) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            line: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        loop {
            if self.done {
                return None;
            }
            let read = read_line_bounded(&mut self.reader, &mut self.buf, json::MAX_LINE);
            self.line += 1;
            let line = self.line;
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
                Ok(Some(Ok(()))) => match std::str::from_utf8(&self.buf) {
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
            self.done = item.is_err();
            return Some(item);
        }
    }
}

/// Events handed back, once used, to the thread that parsed them, to be freed
/// where they were allocated (see [`parse_lines_apart`]).
pub struct Returns {
    tx: std::sync::mpsc::Sender<Vec<Event>>,
    held: Vec<Event>,
}

impl Returns {
    /// Hands `event` back; batches go back when full. Once the parsing thread
    /// has ended they are dropped here.
    pub fn give(&mut self, event: Event) {
        self.held.push(event);
        if self.held.len() == RETURN_BATCH {
            let batch = std::mem::replace(&mut self.held, Vec::with_capacity(RETURN_BATCH));
            drop(self.tx.send(batch));
        }
    }
}

const RETURN_BATCH: usize = 256;

/// [`parse_lines`] on a thread of its own, handing the events over in batches:
/// reading and parsing the input overlaps with what is done with the events.
/// The thread stops after the first error, or once the iterator is dropped and
/// it next hands a batch over. It is not waited for: a caller that stops early
/// (a rejected event) does not wait on an input that is slow to come.
///
/// Events given back through the [`Returns`] are freed on the parsing thread:
/// freed on another thread than the one that allocated them, they cost the
/// allocator more than the parsing thread saves (measured at 100k lines, and
/// earlier at 1M).
pub fn parse_lines_apart(
    reader: BufReader<impl Read + Send + 'static>,
) -> (impl Iterator<Item = Parsed>, Returns) {
    const BATCH: usize = 256;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(4);
    let (back, returned) = std::sync::mpsc::channel::<Vec<Event>>();
    std::thread::spawn(move || {
        let mut lines = Lines::new(reader);
        let mut batch: Vec<Parsed> = Vec::with_capacity(BATCH);
        loop {
            let item = lines.next();
            let end = item.is_none();
            batch.extend(item);
            // A batch goes when full, at the end, and whenever what was read
            // is used up: a slow input's lines are not held back.
            if batch.len() == BATCH || end || lines.reader.buffer().is_empty() {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if (!full.is_empty() && tx.send(full).is_err()) || end {
                    break;
                }
                returned.try_iter().for_each(drop);
            }
        }
    });
    let returns = Returns {
        tx: back,
        held: Vec::with_capacity(RETURN_BATCH),
    };
    (rx.into_iter().flatten(), returns)
}
