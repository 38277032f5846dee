//! Reading JSON Lines: one event per line, read with a bounded line length, so
//! that memory stays bounded whatever the input.

use crate::event::Event;
use crate::input::InputError;
use crate::json::{self, PlainLine, PlainLines};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

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
pub type Parsed = Result<(usize, Box<Event>), LineError>;

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
        // A read interrupted by a signal is tried again, as `read_line` does
        // and the threads of `parse_lines_apart` do.
        let chunk = match r.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
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
                    error: too_long(len),
                }),
                Ok(Some(Ok(()))) => match parse_line(line, &self.buf) {
                    Some(item) => item,
                    None => continue,
                },
            };
            self.done = item.is_err();
            return Some(item);
        }
    }
}

/// Events handed back, once used, to the thread that parsed them, to be freed
/// where they were allocated (see [`parse_lines_apart`]); their boxes too,
/// which the parsing thread allocated.
#[allow(clippy::vec_box)]
pub struct Returns {
    /// One way back to each parsing thread.
    tx: Vec<std::sync::mpsc::Sender<Vec<Box<Event>>>>,
    /// The number of events of each batch handed over and not yet all given
    /// back, with the thread that parsed it, in order.
    batches: Rc<RefCell<VecDeque<(usize, usize)>>>,
    held: Vec<Box<Event>>,
    /// The thread `held` goes back to.
    to: usize,
}

impl Returns {
    /// Hands `event` back; batches go back when full. Events are expected in
    /// the order they were parsed; any other order only costs the allocator
    /// more. Once a parsing thread has ended they are dropped here.
    pub fn give(&mut self, event: Box<Event>) {
        let to = {
            let mut batches = self.batches.borrow_mut();
            match batches.front_mut() {
                Some((thread, left)) => {
                    let to = *thread;
                    *left -= 1;
                    if *left == 0 {
                        batches.pop_front();
                    }
                    to
                }
                None => self.to,
            }
        };
        if to != self.to || self.held.len() == RETURN_BATCH {
            self.send();
            self.to = to;
        }
        self.held.push(event);
    }

    fn send(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.held, Vec::with_capacity(RETURN_BATCH));
        drop(self.tx[self.to].send(batch));
    }
}

const RETURN_BATCH: usize = 256;

/// Lines cut from the input for one parsing thread: whole lines, and what
/// ended the input there, if anything did.
struct Chunk {
    /// The 1-based number of the first line of `text`.
    first_line: usize,
    /// Whole lines, each ended by `\n` except perhaps the input's last.
    text: Vec<u8>,
    end: Option<ChunkEnd>,
}

/// What stopped the reading after a chunk's lines.
enum ChunkEnd {
    /// A line longer than the limit (its length), skipped to its end.
    TooLong(usize),
    /// Reading failed.
    Io(io::Error),
}

/// Reads the input into [`Chunk`]s of whole lines, counting lines, keeping no
/// more than one line of at most [`json::MAX_LINE`] bytes beyond whole lines.
struct Chunker<R> {
    reader: R,
    /// Lines handed out so far.
    lines: usize,
    /// The start of a line read with the chunk before.
    carry: Vec<u8>,
    /// Room made for a chunk: what one read brings, and some.
    room: usize,
    done: bool,
}

impl<R: BufRead> Chunker<R> {
    fn next_chunk(&mut self) -> Option<Chunk> {
        if self.done {
            return None;
        }
        // The last line of the chunk before, cut short there.
        let mut text = std::mem::take(&mut self.carry);
        text.reserve(self.room);
        // Bytes of the last line of `text`, not yet ended by a newline.
        let mut tail = text.len();
        let mut end = None;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    text.truncate(text.len() - tail);
                    tail = 0;
                    end = Some(ChunkEnd::Io(e));
                    self.done = true;
                    break;
                }
            };
            if buf.is_empty() {
                self.done = true;
                break;
            }
            let read = buf.len();
            tail = match memchr::memrchr(b'\n', buf) {
                Some(i) => read - i - 1,
                None => tail + read,
            };
            text.extend_from_slice(buf);
            self.reader.consume(read);
            if tail > json::MAX_LINE {
                // Skipped to its end, so that memory stays bounded.
                text.truncate(text.len() - tail);
                end = Some(match self.skip_line(tail) {
                    Ok(len) => ChunkEnd::TooLong(len),
                    Err(e) => ChunkEnd::Io(e),
                });
                tail = 0;
                self.done = true;
                break;
            }
            // A chunk goes as soon as a read brought whole lines: a slow
            // input's lines are not held back. Its last line, if cut short,
            // is carried over to the next.
            if text.len() > tail {
                self.carry.extend_from_slice(&text[text.len() - tail..]);
                text.truncate(text.len() - tail);
                tail = 0;
                break;
            }
        }
        let first_line = self.lines + 1;
        // A last line without a newline is a line.
        self.lines += memchr::memchr_iter(b'\n', &text).count() + usize::from(tail > 0);
        if text.is_empty() && end.is_none() {
            return None;
        }
        Some(Chunk {
            first_line,
            text,
            end,
        })
    }

    /// Reads on to the end of a line of which `len` bytes were read; returns
    /// its whole length.
    fn skip_line(&mut self, mut len: usize) -> io::Result<usize> {
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(len);
            }
            match memchr::memchr(b'\n', buf) {
                Some(i) => {
                    self.reader.consume(i + 1);
                    return Ok(len + i);
                }
                None => {
                    len += buf.len();
                    let n = buf.len();
                    self.reader.consume(n);
                }
            }
        }
    }
}

/// Parses the lines of `chunk`, stopping at the first error (then `true`). A
/// plain statement is kept in its line ([`PlainLines`]) when the chunk is
/// all UTF-8; a line that is not ends the input, and such a chunk's lines are
/// read as events.
fn parse_chunk(chunk: Chunk) -> (Batch, bool) {
    let Chunk {
        first_line,
        text,
        end,
    } = chunk;
    let mut items = Vec::with_capacity(text.len() / 256 + 2);
    let (mut plains, raw) = match String::from_utf8(text) {
        Ok(text) => (PlainLines::new(text), None),
        Err(e) => (PlainLines::new(String::new()), Some(e.into_bytes())),
    };
    let len = raw.as_ref().map_or(plains.text().len(), Vec::len);
    let mut line = first_line;
    let mut at = 0;
    let failed = loop {
        if at >= len {
            break false;
        }
        let rest = match &raw {
            Some(raw) => &raw[at..],
            None => &plains.text().as_bytes()[at..],
        };
        let (n, ended) = match memchr::memchr(b'\n', rest) {
            Some(i) => (i, true),
            None => (rest.len(), false),
        };
        // As one thread reads it: a line's length counts a final CR.
        if n > json::MAX_LINE {
            items.push(Err(LineError::Input {
                line,
                error: too_long(n),
            }));
            break true;
        }
        // A CR goes with the newline after it; the input's last line keeps it.
        let cr = usize::from(ended && rest[..n].ends_with(b"\r"));
        let range = at..at + n - cr;
        at += n + usize::from(ended);
        let item = match &raw {
            Some(raw) => parse_line(line, &raw[range]).map(|p| p.map(|(l, e)| (l, Kept::Event(e)))),
            None if plains.text()[range.clone()].trim().is_empty() => None,
            None => Some(match plains.read(range.clone()) {
                Some(Ok(k)) => Ok((line, Kept::Plain(k))),
                Some(Err(error)) => Err(LineError::Input { line, error }),
                None => json::parse_event(&plains.text()[range])
                    .map(|e| (line, Kept::Event(Box::new(e))))
                    .map_err(|error| LineError::Input { line, error }),
            }),
        };
        let Some(item) = item else {
            line += 1;
            continue;
        };
        let failed = item.is_err();
        items.push(item);
        if failed {
            break true;
        }
        line += 1;
    };
    let failed = failed
        || match end {
            None => false,
            Some(ChunkEnd::TooLong(len)) => {
                items.push(Err(LineError::Input {
                    line,
                    error: too_long(len),
                }));
                true
            }
            Some(ChunkEnd::Io(error)) => {
                items.push(Err(LineError::Io { line, error }));
                true
            }
        };
    (Batch { plains, items }, failed)
}

/// The event on line number `line` (its bytes, without the line break), or
/// `None` for a blank line.
fn parse_line(line: usize, bytes: &[u8]) -> Option<Parsed> {
    Some(match std::str::from_utf8(bytes) {
        Err(e) => Err(LineError::Input {
            line,
            error: InputError::new(
                "",
                format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
            ),
        }),
        Ok(text) if text.trim().is_empty() => return None,
        Ok(text) => json::parse_event(text)
            .map(|e| (line, Box::new(e)))
            .map_err(|error| LineError::Input { line, error }),
    })
}

fn too_long(len: usize) -> InputError {
    InputError::new(
        "",
        format!("line is {len} bytes long; the limit is {}", json::MAX_LINE),
    )
}

/// A line of [`parse_lines_apart`]: an event, or a plain statement still in
/// its line.
#[derive(Debug)]
pub enum Line {
    /// The line's event.
    Event(Box<Event>),
    /// A plain statement, read straight and checked as
    /// [`json::parse_event`] checks it, its strings left in the line.
    Plain(PlainLine),
}

/// One line of [`parse_lines_apart`]: its 1-based number and what it holds.
pub type ParsedLine = Result<(usize, Line), LineError>;

/// What a parsing thread keeps of a line: its event, or the number of its
/// plain statement in the batch's [`PlainLines`].
enum Kept {
    Event(Box<Event>),
    Plain(usize),
}

/// A batch of parsed lines, from the parsing thread that parsed it, with
/// the text its plain statements lie in.
struct Batch {
    plains: PlainLines,
    items: Vec<Result<(usize, Kept), LineError>>,
}

/// The iterator of [`parse_lines_apart`]: the batches of the parsing threads,
/// taken from each in turn, as the chunks were handed out.
struct Apart {
    from: Vec<std::sync::mpsc::Receiver<Batch>>,
    /// The thread whose batch comes next.
    next: usize,
    batch: std::vec::IntoIter<Result<(usize, Kept), LineError>>,
    /// The text of the batch's plain statements.
    plains: Rc<PlainLines>,
    batches: Rc<RefCell<VecDeque<(usize, usize)>>>,
    failed: bool,
    /// The parsing threads, then the reading thread: joined once the lines
    /// end, so that a thread's panic is not taken for the end of the input.
    threads: Vec<Option<std::thread::JoinHandle<()>>>,
}

impl Apart {
    /// The end of the lines, or, if a thread panicked, its panic.
    fn end(&mut self) -> Option<ParsedLine> {
        for handle in self.threads.iter_mut().filter_map(Option::take) {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        None
    }
}

impl Iterator for Apart {
    type Item = ParsedLine;

    fn next(&mut self) -> Option<ParsedLine> {
        loop {
            if let Some(item) = self.batch.next() {
                self.failed = item.is_err();
                return Some(item.map(|(n, kept)| {
                    (
                        n,
                        match kept {
                            Kept::Event(event) => Line::Event(event),
                            Kept::Plain(k) => {
                                Line::Plain(PlainLine::new(Rc::clone(&self.plains), k))
                            }
                        },
                    )
                }));
            }
            if self.failed {
                return None;
            }
            // A thread that has ended has handed over all it parsed: the
            // reading has ended, and with it every thread.
            let Ok(batch) = self.from[self.next].recv() else {
                return self.end();
            };
            let thread = self.next;
            self.next = (self.next + 1) % self.from.len();
            let events = batch
                .items
                .iter()
                .filter(|p| matches!(p, Ok((_, Kept::Event(_)))))
                .count();
            if events > 0 {
                self.batches.borrow_mut().push_back((thread, events));
            }
            self.batch = batch.items.into_iter();
            self.plains = Rc::new(batch.plains);
        }
    }
}

/// [`parse_lines`] on threads of their own: one reads the input into chunks of
/// whole lines (the whole lines of each read: a reader of larger capacity
/// makes fewer, larger chunks), handed in turn to each of `threads` parsing threads, whose
/// lines come back in the input's order. Reading and parsing overlap with
/// what is done with the lines, and with each other. A plain statement comes
/// back still in its line ([`Line::Plain`]), an event of it made only if the
/// line is read again; any other line as its event.
///
/// After the first error no more items follow; the threads stop after it, or
/// once the iterator is dropped and they next hand a batch over. They are not
/// waited for: a caller that stops early (a rejected event) does not wait on an
/// input that is slow to come.
///
/// Events given back through the [`Returns`] are freed on the thread that
/// parsed them: freed on another thread than the one that allocated them,
/// they cost the allocator more than the parsing thread saves (measured at
/// 100k lines, and earlier at 1M). A batch's plain statements and their text
/// are freed together once the last of them is dropped.
pub fn parse_lines_apart(
    reader: BufReader<impl Read + Send + 'static>,
    threads: usize,
) -> (impl Iterator<Item = ParsedLine>, Returns) {
    let threads = threads.max(1);
    let mut chunks = Vec::with_capacity(threads);
    let mut from = Vec::with_capacity(threads);
    let mut back = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads + 1);
    for _ in 0..threads {
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel::<Chunk>(1);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
        let (back_tx, returned) = std::sync::mpsc::channel::<Vec<Box<Event>>>();
        handles.push(Some(std::thread::spawn(move || {
            for chunk in chunk_rx {
                let (batch, failed) = parse_chunk(chunk);
                if tx.send(batch).is_err() || failed {
                    break;
                }
                returned.try_iter().for_each(drop);
            }
        })));
        chunks.push(chunk_tx);
        from.push(rx);
        back.push(back_tx);
    }
    handles.push(Some(std::thread::spawn(move || {
        let mut chunker = Chunker {
            room: reader.capacity() + (1 << 12),
            reader,
            lines: 0,
            carry: Vec::new(),
            done: false,
        };
        // A parsing thread that stopped (an error, or the events no longer
        // wanted) stops the reading.
        let mut to = chunks.iter().cycle();
        while let Some(chunk) = chunker.next_chunk() {
            if to.next().is_some_and(|tx| tx.send(chunk).is_err()) {
                break;
            }
        }
    })));
    let batches = Rc::new(RefCell::new(VecDeque::new()));
    let returns = Returns {
        tx: back,
        batches: Rc::clone(&batches),
        held: Vec::with_capacity(RETURN_BATCH),
        to: 0,
    };
    let apart = Apart {
        from,
        next: 0,
        batch: Vec::new().into_iter(),
        plains: Rc::new(PlainLines::new(String::new())),
        batches,
        failed: false,
        threads: handles,
    };
    (apart, returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input read in pieces of varied sizes (1 byte to 70,000), failing
    /// once `fail_at` bytes have been read, if set.
    struct Pieces {
        data: Vec<u8>,
        pos: usize,
        seed: u64,
        max: usize,
        fail_at: Option<usize>,
    }

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|at| self.pos >= at) {
                return Err(io::Error::other("the disk went away"));
            }
            self.seed = self
                .seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let want = 1 + (self.seed >> 33) as usize % self.max;
            let end = self
                .data
                .len()
                .min(self.pos + want)
                .min(self.pos + out.len());
            let end = self.fail_at.map_or(end, |at| end.min(at));
            let n = end - self.pos;
            out[..n].copy_from_slice(&self.data[self.pos..end]);
            self.pos = end;
            Ok(n)
        }
    }

    /// An input whose every other read is interrupted by a signal.
    struct Interrupts {
        data: Vec<u8>,
        pos: usize,
        now: bool,
    }

    impl Read for Interrupts {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.now = !self.now;
            if self.now {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = out.len().min(100).min(self.data.len() - self.pos);
            out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn an_interrupted_read_is_tried_again_on_one_thread_or_many() {
        let data = many_lines(300);
        let whole = items(parse_lines(&data[..]));
        assert!(
            whole.iter().all(|p| p.contains("Ok")),
            "{:?}",
            whole.first()
        );
        let interrupted = || Interrupts {
            data: data.clone(),
            pos: 0,
            now: false,
        };
        assert_eq!(items(parse_lines(BufReader::new(interrupted()))), whole);
        let (apart, _returns) = parse_lines_apart(BufReader::new(interrupted()), 2);
        assert_eq!(items(events(apart)), whole);
    }

    fn statement(n: usize) -> String {
        serde_json::json!({"type":"statement","said_on":"2021-02-01","party":"USA","stance":"demands","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":format!("statement {n}"),"source":{"publisher":"Example Wire"}}).to_string()
    }

    /// Lines of statements over several chunks, with blank lines, CRLF
    /// endings, and no newline after the last.
    fn many_lines(n: usize) -> Vec<u8> {
        let mut text = String::new();
        for i in 1..=n {
            text.push_str(&statement(i));
            text.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
            if i % 100 == 0 {
                text.push_str("\n   \n");
            }
        }
        text.pop();
        text.into_bytes()
    }

    fn items(it: impl Iterator<Item = Parsed>) -> Vec<String> {
        it.map(|p| format!("{p:?}")).collect()
    }

    /// The lines on threads as events: a plain statement's line read again.
    fn events(it: impl Iterator<Item = ParsedLine>) -> impl Iterator<Item = Parsed> {
        it.map(|p| {
            p.map(|(n, line)| match line {
                Line::Event(event) => (n, event),
                Line::Plain(plain) => (n, Box::new(plain.event().expect("a valid line"))),
            })
        })
    }

    /// What the threads make of `data`, read in pieces of up to `max`
    /// bytes, beside what one thread makes of it read whole.
    fn both(data: &[u8], max: usize, threads: usize, fail_at: Option<usize>) {
        let whole = Pieces {
            data: data.to_vec(),
            pos: 0,
            seed: 1,
            max: usize::MAX / 2,
            fail_at,
        };
        let expected = items(parse_lines(BufReader::with_capacity(1 << 16, whole)));
        for seed in [3, 17] {
            let pieces = Pieces {
                data: data.to_vec(),
                pos: 0,
                seed,
                max,
                fail_at,
            };
            let (apart, mut returns) =
                parse_lines_apart(BufReader::with_capacity(1 << 16, pieces), threads);
            let mut got = Vec::new();
            for item in apart {
                match item {
                    Ok((n, Line::Event(event))) => {
                        got.push(format!("{:?}", Ok::<_, LineError>((n, &event))));
                        returns.give(event);
                    }
                    Ok((n, Line::Plain(plain))) => {
                        let event = Box::new(plain.event().expect("a valid line"));
                        got.push(format!("{:?}", Ok::<_, LineError>((n, &event))));
                    }
                    Err(e) => got.push(format!("{:?}", Err::<(), _>(e))),
                }
            }
            assert_eq!(got.len(), expected.len(), "pieces up to {max}, seed {seed}");
            assert_eq!(got, expected, "pieces up to {max}, seed {seed}");
            assert!(
                returns.batches.borrow().is_empty(),
                "every event given back"
            );
        }
    }

    #[test]
    fn lines_parsed_on_threads_come_back_as_one_thread_reads_them() {
        let data = many_lines(3000);
        let expected = items(parse_lines(&data[..]));
        assert_eq!(expected.len(), 3000);
        assert!(
            expected[2999].starts_with("Ok((3058, "),
            "{}",
            expected[2999]
        );
        for (max, threads) in [(7, 2), (500, 3), (70_000, 2), (70_000, 1)] {
            both(&data, max, threads, None);
        }
        // Plain statements, all kept in their lines; a line that is not
        // read straight (a string with an escape) as its event.
        let mut data = data;
        data.extend_from_slice(b"\n");
        data.extend_from_slice(
            statement(3001)
                .replace("statement 3001", "a \\\"quoted\\\" one")
                .as_bytes(),
        );
        let (apart, _returns) = parse_lines_apart(BufReader::new(io::Cursor::new(data)), 2);
        let kinds: Vec<bool> = apart
            .map(|p| matches!(p, Ok((_, Line::Plain(_)))))
            .collect();
        assert_eq!(kinds.len(), 3001);
        assert!(kinds[..3000].iter().all(|&plain| plain));
        assert!(
            !kinds[3000],
            "an escaped string is read by the typed parser"
        );
    }

    #[test]
    fn the_first_bad_line_ends_the_lines_on_threads_too() {
        let good = many_lines(2500);
        let mut lines: Vec<&[u8]> = good.split(|&b| b == b'\n').collect();
        // Not JSON, not UTF-8, too long: each on line 2000, far into a chunk.
        let too_long = vec![b'x'; json::MAX_LINE + 10];
        // Over the limit by its CR alone.
        let mut crlf = vec![b'x'; json::MAX_LINE];
        crlf.push(b'\r');
        for bad in [
            &b"{\"type\": \"statement\""[..],
            b"\"caf\xe9\"",
            &too_long,
            &crlf,
        ] {
            lines[1999] = bad;
            let data = lines.join(&b'\n');
            let expected = items(parse_lines(&data[..]));
            assert!(expected.last().is_some_and(|e| e.contains("line: 2000")));
            for (max, threads) in [(5, 2), (9_000, 2), (70_000, 2)] {
                both(&data, max, threads, None);
            }
        }
        // A line too long and the last, with no newline after it.
        let mut data = many_lines(10);
        data.push(b'\n');
        data.extend_from_slice(&too_long);
        both(&data, 700, 2, None);
    }

    #[test]
    fn a_last_line_keeps_its_cr_as_one_thread_reads_it() {
        let mut data = many_lines(5);
        data.extend_from_slice(b"\n");
        let mut bad = data.clone();
        data.extend_from_slice(statement(6).as_bytes());
        data.push(b'\r');
        bad.extend_from_slice(b"{\"type\":\"statement\",\"quote\":\"abc\r");
        for input in [data, bad] {
            both(&input, 70_000, 2, None);
            both(&input, 3, 2, None);
        }
    }

    /// Gives `first`, then waits until `more` ends before ending.
    struct Stalls {
        first: Option<Vec<u8>>,
        more: std::sync::mpsc::Receiver<()>,
    }

    impl Read for Stalls {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match self.first.take() {
                Some(first) => {
                    out[..first.len()].copy_from_slice(&first);
                    Ok(first.len())
                }
                None => {
                    let _ = self.more.recv();
                    Ok(0)
                }
            }
        }
    }

    #[test]
    fn a_whole_line_goes_on_while_the_next_is_still_coming() {
        // A read that brings a line and the start of the next: the line is
        // parsed at once, not when the rest of the next comes.
        let mut first = statement(1).into_bytes();
        first.extend_from_slice(b"\n{\"type\":");
        let (hold, more) = std::sync::mpsc::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let stalls = Stalls {
                first: Some(first),
                more,
            };
            let (mut apart, _returns) = parse_lines_apart(BufReader::new(stalls), 2);
            let _ = tx.send(apart.next().map(|p| p.map(|(line, _)| line).ok()));
        });
        let got = rx.recv_timeout(std::time::Duration::from_secs(30));
        drop(hold);
        assert_eq!(got.expect("the first line, without waiting"), Some(Some(1)));
    }

    /// Panics once `at` bytes are read.
    struct Breaks {
        data: Vec<u8>,
        pos: usize,
        at: usize,
    }

    impl Read for Breaks {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            assert!(self.pos < self.at, "the reader broke");
            let end = self.data.len().min(self.pos + 1000).min(self.at);
            let n = end - self.pos;
            out[..n].copy_from_slice(&self.data[self.pos..end]);
            self.pos = end;
            Ok(n)
        }
    }

    #[test]
    fn a_thread_that_panics_is_not_taken_for_the_end_of_the_input() {
        let data = many_lines(500);
        let breaks = Breaks {
            data,
            pos: 0,
            at: 50_000,
        };
        let read = std::panic::catch_unwind(move || {
            let (apart, _returns) = parse_lines_apart(BufReader::new(breaks), 2);
            apart.count()
        });
        assert!(read.is_err(), "the reading thread's panic ends the lines");
    }

    #[test]
    fn a_failed_read_is_named_at_the_line_being_read() {
        let data = many_lines(1500);
        for at in [0, 1, 200_000, data.len() - 3] {
            for (max, threads) in [(11, 2), (70_000, 2)] {
                both(&data, max, threads, Some(at));
            }
        }
    }
}
