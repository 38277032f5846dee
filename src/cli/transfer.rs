//! Moving events in and out: `import` (JSON Lines, GDELT), `export` (JSON
//! Lines, CSV), `verify --export`, and `rebuild` from an export.

use super::args::{Cli, ExportFormat, ImportFormat, Output};
use super::failure::{unknown_name_hint, Failure, Result, INTEGRITY};
use super::open::{forget_if_new, ledger_path, open, open_for_write};
use super::output::Sink;
use super::progress::Progress;
use super::verify::{head_json, parse_head_token};
use demarche::event::Head;
use demarche::export::{self, ExportChecker, ExportRecord, Linked, MAX_EXPORT_LINE};
use demarche::input::InputError;
use demarche::ledger::{Abort, BatchOptions, BatchSummary, Incoming, Item, LedgerError, Original};
use demarche::lines::{self, Line, LineError};
use serde_json::json;
use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Opens `file` (or stdin for `-`) and says how long it is, when that is known.
fn open_input(file: &Path) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    if file.as_os_str() == "-" {
        return Ok((Box::new(io::stdin()), None));
    }
    let f = std::fs::File::open(file).map_err(|e| {
        Failure::reading(
            e.kind() == io::ErrorKind::NotFound,
            format!("cannot open {}: {e}", file.display()),
        )
    })?;
    let meta = f
        .metadata()
        .map_err(|e| Failure::io(format!("cannot read {}: {e}", file.display())))?;
    if meta.is_dir() {
        return Err(Failure::usage(format!(
            "{} is a directory, not a file",
            file.display()
        )));
    }
    Ok((Box::new(f), Some(meta.len())))
}

/// The line each item of a batch came from, kept as the places where the
/// numbering jumps (blank lines, skipped rows), so it stays small.
#[derive(Default)]
struct LineMap {
    jumps: Vec<(usize, usize)>,
    next: usize,
}

impl LineMap {
    /// Notes that the next item of the batch comes from `line`.
    fn note(&mut self, line: usize) {
        let i = self.next;
        self.next += 1;
        if self.line(i) != Some(line) {
            self.jumps.push((i, line));
        }
    }

    /// The line of item `i`.
    fn line(&self, i: usize) -> Option<usize> {
        let k = self.jumps.partition_point(|&(at, _)| at <= i);
        k.checked_sub(1).map(|k| {
            let (at, line) = self.jumps[k];
            line + (i - at)
        })
    }
}

/// What reading the input left behind besides events.
#[derive(Default)]
struct ReadState {
    line: usize,
    lines: LineMap,
}

fn read_failure(file: &Path, e: io::Error) -> Failure {
    Failure::io(format!("cannot read {}: {e}", file.display())).hint("nothing was appended")
}

/// Turns a line reader's items into batch items, noting lines and read errors.
fn track<'a, T>(
    state: &'a RefCell<ReadState>,
    items: impl Iterator<Item = std::result::Result<(usize, T), LineError>> + 'a,
) -> impl Iterator<Item = std::result::Result<T, Abort>> + 'a {
    items.map(move |item| {
        let mut st = state.borrow_mut();
        match item {
            Ok((n, t)) => {
                st.line = n;
                st.lines.note(n);
                Ok(t)
            }
            Err(LineError::Input { line, error }) => {
                st.line = line;
                Err(Abort::Invalid(error))
            }
            Err(LineError::Io { line, error }) => {
                st.line = line;
                Err(Abort::Unreadable(error))
            }
        }
    })
}

/// `demarche import`.
pub fn import(
    cli: &Cli,
    files: &[PathBuf],
    format: ImportFormat,
    add_actors: bool,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    if format == ImportFormat::Gdelt {
        return super::gdelt::import(cli, files, add_actors, o, out);
    }
    if add_actors {
        return Err(Failure::usage("--add-actors is for --format gdelt"));
    }
    let [file] = files else {
        return Err(Failure::usage(format!(
            "JSON Lines are imported one file at a time; {} were named",
            files.len()
        ))
        .hint("import each file in turn, or concatenate them: `cat a.jsonl b.jsonl | demarche import -`"));
    };
    let file = file.as_path();
    let (input, len) = open_input(file)?;
    let (mut ledger, created) = open_for_write(cli)?;
    let bar = Progress::bytes(len, "importing");
    // Each read's whole lines go to a parsing thread at once: reads of 256
    // KiB make chunks of about 600 lines.
    let reader = BufReader::with_capacity(1 << 18, bar.reader(input));
    let started = Instant::now();
    let state = RefCell::new(ReadState::default());
    let opts = BatchOptions {
        skip_known: true,
        ..BatchOptions::default()
    };
    // Two parsing threads keep up with the checks, hashing and packing of
    // the main thread; more would wait on it.
    let parsers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    let (parsed, mut returns) = lines::parse_lines_apart(reader, parsers);
    let items = track(&state, parsed).map(|r| {
        r.map(|line| match line {
            Line::Event(event) => Item::Event(Incoming {
                event,
                original: None,
            }),
            Line::Plain(plain) => Item::Plain(plain),
        })
    });
    let result = ledger.import_batch_returning(items, opts, |e| returns.give(e));
    bar.finish();
    if result.is_err() {
        forget_if_new(ledger, created);
    }
    let st = state.into_inner();
    let summary = match result {
        Ok(s) => s,
        Err(LedgerError::Unreadable { error, .. }) => return Err(read_failure(file, error)),
        Err(LedgerError::Rejected { error, index }) => {
            // The ledger reads a few events ahead of the one it refuses: the
            // line is that of the event it names.
            let line = index
                .filter(|&i| i < st.lines.next)
                .and_then(|i| st.lines.line(i))
                .unwrap_or(st.line);
            // An export's lines carry their place in the chain: they are
            // rebuilt, not imported.
            let export = error.message.contains("unknown field `seq`")
                || error.message.contains("unknown field `recorded_at`");
            return Err(
                Failure::usage(format!("{}: line {line}: {error}", file.display())).hint(
                    match export {
                        true => format!(
                            "this looks like an export (its lines carry seq, recorded_at and hashes): make a ledger of it with `demarche --ledger NEW rebuild --from {}`; nothing was appended",
                            file.display()
                        ),
                        false => match unknown_name_hint(&error.message) {
                            Some(h) => format!(
                                "nothing was appended: the import is all or nothing; {h}"
                            ),
                            None => "nothing was appended: the import is all or nothing".into(),
                        },
                    },
                ),
            );
        }
        Err(e) => return Err(e.into()),
    };
    print_import(out, &summary, &st.lines, started, o)
}

fn print_import(
    out: &mut impl Write,
    summary: &BatchSummary,
    lines: &LineMap,
    started: Instant,
    o: Output,
) -> Result<u8> {
    let skipped_lines: Vec<usize> = summary
        .skipped_at
        .iter()
        .filter_map(|&i| lines.line(i))
        .collect();
    if o.json {
        let v = json!({
            "appended": summary.appended,
            "skipped": summary.skipped,
            "skipped_lines": skipped_lines,
            "first": summary.first,
            "head": head_json(&summary.head),
        });
        writeln!(out, "{v}")?;
        return Ok(0);
    }
    writeln!(
        out,
        "imported {} in {}; head {}",
        plural(summary.appended, "event"),
        super::terminal::took(started.elapsed()),
        summary.head.token()
    )?;
    if summary.skipped > 0 {
        let shown: Vec<String> = skipped_lines
            .iter()
            .take(10)
            .map(|l| l.to_string())
            .collect();
        let more = if summary.skipped > shown.len() as u64 {
            ", ..."
        } else {
            ""
        };
        writeln!(
            out,
            "skipped {} already recorded, in the ledger or earlier in the input ({} {}{more})",
            plural(summary.skipped, "event"),
            if shown.len() == 1 { "line" } else { "lines" },
            shown.join(", ")
        )?;
    }
    Ok(0)
}

/// `1 event`, `2 events`.
fn plural(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// `demarche export`.
pub fn export(
    cli: &Cli,
    format: ExportFormat,
    output: Option<&Path>,
    force: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let ledger = open(cli, false)?;
    let head = ledger.head()?;
    let mut sink = Sink::new(output, force, out)?;
    let bar = Progress::events(head.size, "exporting");
    let written = (|| -> Result<u64> {
        let w = sink.writer();
        let mut n = 0u64;
        match format {
            ExportFormat::Jsonl => {
                let mut shown = 0u64;
                n = export::write_jsonl(&ledger, w, |written| {
                    bar.advance(written - shown);
                    shown = written;
                })?;
            }
            ExportFormat::Csv => {
                let amendments = ledger.amendments(None)?;
                w.write_all(export::csv_header().as_bytes())?;
                // Each event's rows made where it is decoded, on two threads
                // for a long ledger, and written in seq order.
                let rows_of = |r: demarche::event::Recorded| {
                    let mut rows = String::with_capacity(512);
                    export::csv_rows(&r, &amendments, &mut rows);
                    Some(rows)
                };
                let mut written = Ok(());
                ledger.each_mapped(1, rows_of, |rows| {
                    written = w.write_all(rows.as_bytes());
                    n += 1;
                    if n.is_multiple_of(4096) {
                        bar.advance(4096);
                    }
                    Ok(written.is_ok())
                })?;
                written?;
            }
        }
        Ok(n)
    })();
    bar.finish();
    let n = match written {
        Ok(n) => n,
        Err(f) => {
            sink.abandon();
            return Err(f);
        }
    };
    if let Some(path) = sink.finish()? {
        eprintln!(
            "exported {n} events to {} (head {})",
            path.display(),
            head.token()
        );
    }
    Ok(0)
}

/// Reads an export line by line and checks its chain. Stops at the first
/// problem.
///
/// A line that is not an export line at all is bad input (exit 2, naming the
/// line); a line that parses but does not check is a broken chain (in the
/// checker's report).
fn check_export(
    file: &Path,
    expect: Option<(u64, demarche::event::Hash)>,
) -> Result<ExportChecker> {
    let (input, len) = open_input(file)?;
    let bar = Progress::bytes(len, "checking");
    let reader = BufReader::with_capacity(1 << 16, bar.reader(input));
    let mut checker = ExportChecker::new();
    if let Some((size, hash)) = expect {
        checker = checker.expecting(size, hash);
    }
    let mut result = Ok(());
    for item in linked_records(reader, CHECKING_THREADS) {
        let (line, rec) = match item {
            Ok(r) => r,
            Err(LineError::Io { error, .. }) => {
                result = Err(read_failure(file, error));
                break;
            }
            Err(LineError::Input { line, error }) => {
                result = Err(
                    Failure::usage(format!("{}: line {line}: {error}", file.display()))
                        .hint("this is not a line of `demarche export`"),
                );
                break;
            }
        };
        if !checker.feed_linked(line, &rec) {
            break;
        }
    }
    bar.finish();
    result?;
    checker.finish();
    Ok(checker)
}

fn export_report_json(c: &ExportChecker) -> serde_json::Value {
    let head: Head = c.head();
    json!({
        "intact": c.problem().is_none(),
        "checked": head.size,
        "head": head_json(&head),
        "first_bad_seq": c.problem().map(|p| p.seq),
        "line": c.problem().map(|p| p.line),
        "problem": c.problem().map(|p| p.message.clone()),
    })
}

/// `demarche verify --export FILE`.
pub fn verify_export(
    file: &Path,
    expect_head: Option<&str>,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let expect = expect_head.map(parse_head_token).transpose()?;
    let checker = check_export(file, expect)?;
    if o.json {
        writeln!(out, "{}", export_report_json(&checker))?;
    } else {
        match checker.problem() {
            None => writeln!(
                out,
                "intact: {} events verified in the export, head {}",
                checker.head().size,
                checker.head().token()
            )?,
            Some(p) => {
                writeln!(out, "TAMPERED: first bad seq {} (line {})", p.seq, p.line)?;
                writeln!(out, "  {}", p.message)?;
                writeln!(out, "  {} events verified before it", checker.head().size)?;
            }
        }
    }
    Ok(if checker.problem().is_none() {
        0
    } else {
        INTEGRITY
    })
}

/// `demarche rebuild --from EXPORT`.
///
/// One reading: each record is checked in the export's chain (as `verify
/// --export` checks it) before the batch takes it, and the batch's one commit
/// comes after the last, so a broken chain, a line that is not an export's or
/// an event the new ledger refuses leaves nothing behind.
pub fn rebuild(
    cli: &Cli,
    from: &Path,
    expect_head: Option<&str>,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let expect = expect_head.map(parse_head_token).transpose()?;
    // An export piped from a command that fails part way reads as a shorter
    // export, consistent as far as it goes: without the head it must reach,
    // a shorter ledger would be rebuilt from it, and nothing would say so.
    let stdin = from.as_os_str() == "-";
    if expect.is_none() {
        let hint = "save the export to a file first (`demarche export -o all.jsonl`), or give --expect-head with the head of the ledger it comes from (`demarche head` there)";
        if stdin {
            return Err(Failure::usage(
                "rebuild needs a file, not standard input: an export piped from a command that stops part way would rebuild a shorter ledger without a word",
            )
            .hint(hint));
        }
        if std::fs::metadata(from).is_ok_and(|m| !m.is_file()) {
            return Err(Failure::usage(format!(
                "{} is not a regular file: an export piped from a command that stops part way would rebuild a shorter ledger without a word",
                from.display()
            ))
            .hint(hint));
        }
    }
    let path = ledger_path(cli)?;
    if path.exists() {
        // A rebuild stopped part way (killed, or the machine went down)
        // leaves its ledger with no events: say so, rather than only that it
        // is there.
        let empty = demarche::store::engine_at(&path).is_some()
            && open(cli, false).is_ok_and(|l| l.head().is_ok_and(|h| h.size == 0));
        let hint = if empty {
            format!(
                "it holds no events, as a rebuild stopped part way leaves it: remove it (`rm -r {}`) and run the rebuild again",
                path.display()
            )
        } else {
            "point --ledger at a path that does not exist yet".into()
        };
        return Err(Failure::usage(format!(
            "{} already exists: rebuild makes a new ledger",
            path.display()
        ))
        .hint(hint));
    }
    let started = Instant::now();
    let name = if stdin {
        "standard input".to_string()
    } else {
        from.display().to_string()
    };
    let (input, len) = open_input(from)?;
    let (mut ledger, created) = open_for_write(cli)?;
    let bar = Progress::bytes(len, "rebuilding");
    let reader = BufReader::with_capacity(1 << 16, bar.reader(input));
    let checker = RefCell::new(match expect {
        Some((size, hash)) => ExportChecker::new().expecting(size, hash),
        None => ExportChecker::new(),
    });
    // Why the export itself stopped the batch, when it did.
    let refused: RefCell<Option<Failure>> = RefCell::new(None);
    let state = RefCell::new(ReadState::default());
    let stop = |failure: Failure| {
        *refused.borrow_mut() = Some(failure);
        Err(Abort::Invalid(InputError::new("", "the export is refused")))
    };
    let broken = |p: &export::ExportProblem| {
        Failure::integrity(format!(
            "{name}: the export's chain is broken at seq {} (line {}): {}",
            p.seq, p.line, p.message
        ))
        .hint(format!(
            "nothing was written; `demarche verify --export {}{}` shows the same",
            if stdin { "FILE" } else { &name },
            expect_head.map_or(String::new(), |h| format!(" --expect-head {h}")),
        ))
    };
    let items = export_records(reader).map(|item| {
        let (line, rec) = match item {
            Ok(r) => r,
            Err(LineError::Io { line, error }) => {
                state.borrow_mut().line = line;
                return Err(Abort::Unreadable(error));
            }
            Err(LineError::Input { line, error }) => {
                return stop(
                    Failure::usage(format!("{name}: line {line}: {error}"))
                        .hint("this is not a line of `demarche export`; nothing was written"),
                );
            }
        };
        {
            let mut st = state.borrow_mut();
            st.line = line;
            st.lines.note(line);
        }
        let mut checker = checker.borrow_mut();
        if !checker.feed(line, &rec) {
            let p = checker.problem().expect("a record refused names its problem");
            return stop(broken(p));
        }
        let original = Some(Original {
            seq: rec.seq,
            recorded_at: rec.recorded_at,
            prev: rec.prev,
            hash: rec.hash,
        });
        match rec.event {
            Some(event) => Ok(Incoming {
                event: Box::new(event),
                original,
            }),
            None => stop(Failure::usage(format!(
                "{name}: line {line}: seq {} is redacted in the export; a rebuild needs every payload",
                rec.seq
            ))),
        }
    });
    // At the end of the export, before the batch is committed: one that
    // stops before the head it must reach is refused.
    let end = std::iter::once_with(|| {
        let mut checker = checker.borrow_mut();
        checker.finish();
        checker.problem().map(|p| stop(broken(p)))
    })
    .flatten();
    let mut items = items.chain(end);
    let result = ledger.import_batch(&mut items, BatchOptions::default());
    if matches!(result, Err(LedgerError::Rejected { .. })) && refused.borrow().is_none() {
        // An event the ledger refuses, in an export whose chain breaks
        // further on: the break is what is reported (exit 1), as `verify
        // --export` reports it, and as when the chain was checked whole first.
        for item in items.by_ref() {
            // A read that fails would fail again at every turn.
            if refused.borrow().is_some() || matches!(item, Err(Abort::Unreadable(_))) {
                break;
            }
        }
    }
    bar.finish();
    let st = state.into_inner();
    let summary = match result {
        Ok(s) if s.appended > 0 => s,
        Ok(_) => {
            forget_if_new(ledger, created);
            return Err(Failure::usage(format!(
                "{name} holds no events: there is nothing to rebuild"
            )));
        }
        Err(e) => {
            forget_if_new(ledger, created);
            if let Some(failure) = refused.into_inner() {
                return Err(failure);
            }
            return Err(match e {
                LedgerError::Unreadable { error, .. } => {
                    Failure::io(format!("cannot read {name}: {error}"))
                        .hint("nothing was written: the rebuild is all or nothing")
                }
                LedgerError::Rejected { error, index } => {
                    // The event the ledger names (it takes a rebuild's events
                    // one at a time, each after its check in the chain).
                    let line = index
                        .filter(|&i| i < st.lines.next)
                        .and_then(|i| st.lines.line(i))
                        .unwrap_or(st.line);
                    Failure::usage(format!("{name}: line {line}: {error}"))
                        .hint("nothing was written: the rebuild is all or nothing")
                }
                e => e.into(),
            });
        }
    };
    let expected = checker.borrow().head();
    if summary.head != expected {
        // Every record was checked in the export's chain and hashed again as
        // it says, so the two cannot part; if they did, the ledger is not the
        // export's, and is removed.
        drop(ledger);
        if let Some(created) = &created {
            let _ = std::fs::remove_dir_all(created);
        }
        return Err(Failure::integrity(format!(
            "the rebuilt head {} differs from the export's {}",
            summary.head.token(),
            expected.token()
        )));
    }
    if o.json {
        writeln!(
            out,
            "{}",
            json!({"rebuilt": summary.appended, "ledger": path.display().to_string(), "head": head_json(&summary.head)})
        )?;
    } else {
        writeln!(
            out,
            "rebuilt {} events into {} in {}; head {} (the export's)",
            summary.appended,
            path.display(),
            super::terminal::took(started.elapsed()),
            summary.head.token()
        )?;
    }
    Ok(0)
}

/// Threads that parse export lines and check their hashes for `verify
/// --export`, beside the one that reads them.
const CHECKING_THREADS: usize = 2;

/// Bytes of lines read before they are handed to a checking thread.
const LINES_HANDED: usize = 1 << 18;

/// Lines read for a checking thread: the text of whole lines, each line's
/// number and place in it, then what stopped the reading there, if anything
/// did.
struct ReadLines {
    text: Vec<u8>,
    lines: Vec<(usize, std::ops::Range<usize>)>,
    end: Option<LineError>,
}

/// Export lines as records in the chain, numbered, their hashes checked
/// ([`ExportRecord::linked`]), blank lines skipped, as [`export_records`]
/// reads them: read on a thread of its own and checked on `threads` more,
/// each taking the lines read in turn, so that they come back in order.
/// After the first error no more items follow; the threads stop after it, or
/// once the iterator is dropped. Without threads (none could be started),
/// read and checked here.
fn linked_records(
    mut reader: impl BufRead + Send + 'static,
    threads: usize,
) -> Box<dyn Iterator<Item = std::result::Result<(usize, Linked), LineError>>> {
    type Checked = Vec<std::result::Result<(usize, Linked), LineError>>;
    let mut to_check = Vec::with_capacity(threads);
    let mut checked = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads + 1);
    for _ in 0..threads {
        let (lines_tx, lines_rx) = std::sync::mpsc::sync_channel::<ReadLines>(1);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Checked>(2);
        let spawned = std::thread::Builder::new().spawn(move || {
            let mut payload = Vec::new();
            for read in lines_rx {
                let mut out = Vec::with_capacity(read.lines.len() + 1);
                for (line, range) in read.lines {
                    let Some(item) = export_record(line, &read.text[range]) else {
                        continue;
                    };
                    out.push(item.map(|(line, rec)| (line, rec.linked(&mut payload))));
                    if out.last().is_some_and(|i| i.is_err()) {
                        break;
                    }
                }
                if !out.last().is_some_and(|i| i.is_err()) {
                    out.extend(read.end.map(Err));
                }
                let failed = out.last().is_some_and(|i| i.is_err());
                if tx.send(out).is_err() || failed {
                    break;
                }
            }
        });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(_) => break,
        }
        to_check.push(lines_tx);
        checked.push(rx);
    }
    if to_check.is_empty() {
        return Box::new(export_records(reader).map(|item| {
            item.map(|(line, rec)| {
                let linked = rec.linked(&mut Vec::new());
                (line, linked)
            })
        }));
    }
    let spawned = std::thread::Builder::new().spawn(move || {
        let mut buf = Vec::with_capacity(4096);
        let mut line = 0usize;
        let mut to = to_check.iter().cycle();
        let mut done = false;
        while !done {
            let mut read = ReadLines {
                text: Vec::with_capacity(LINES_HANDED + 4096),
                lines: Vec::new(),
                end: None,
            };
            while read.text.len() < LINES_HANDED {
                line += 1;
                // The end of the input, or what stops the reading.
                read.end = match lines::read_line_bounded(&mut reader, &mut buf, MAX_EXPORT_LINE) {
                    Ok(Some(Ok(()))) => {
                        let at = read.text.len();
                        read.text.extend_from_slice(&buf);
                        read.lines.push((line, at..read.text.len()));
                        continue;
                    }
                    Ok(None) => None,
                    Err(error) => Some(LineError::Io { line, error }),
                    Ok(Some(Err(n))) => Some(LineError::Input {
                        line,
                        error: too_long(n),
                    }),
                };
                done = true;
                break;
            }
            if read.lines.is_empty() && read.end.is_none() {
                break;
            }
            // A checking thread that stopped (an error, or the records no
            // longer wanted) stops the reading.
            if to.next().is_some_and(|tx| tx.send(read).is_err()) {
                break;
            }
        }
    });
    // Without the reading thread the input is gone with it: that is a failure
    // to read, never an export that ends at once (which would check as an
    // empty, intact chain).
    match spawned {
        Ok(handle) => handles.push(handle),
        Err(error) => {
            return Box::new(std::iter::once(Err(LineError::Io {
                line: 1,
                error: std::io::Error::new(
                    error.kind(),
                    format!("cannot start a thread to read it: {error}"),
                ),
            })))
        }
    }
    let mut next = 0;
    let mut batch: std::vec::IntoIter<std::result::Result<(usize, Linked), LineError>> =
        Vec::new().into_iter();
    let mut failed = false;
    let mut handles = Some(handles);
    Box::new(std::iter::from_fn(move || loop {
        if let Some(item) = batch.next() {
            failed = item.is_err();
            return Some(item);
        }
        if failed {
            return None;
        }
        // A thread that has ended has handed over all it checked: the
        // reading has ended, and with it every thread, unless one panicked.
        let Ok(b) = checked[next].recv() else {
            for handle in handles.take().into_iter().flatten() {
                if let Err(panic) = handle.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            return None;
        };
        next = (next + 1) % checked.len();
        batch = b.into_iter();
    }))
}

/// The record on line `line` (its bytes, without the line break), numbered,
/// or `None` for a blank line.
fn export_record(
    line: usize,
    bytes: &[u8],
) -> Option<std::result::Result<(usize, ExportRecord), LineError>> {
    let input = |error| Some(Err(LineError::Input { line, error }));
    let Ok(text) = std::str::from_utf8(bytes) else {
        return input(InputError::new("", "not UTF-8"));
    };
    if text.trim().is_empty() {
        return None;
    }
    Some(
        export::parse_export_line(text)
            .map(|r| (line, r))
            .map_err(|error| LineError::Input { line, error }),
    )
}

fn too_long(n: usize) -> InputError {
    InputError::new(
        "",
        format!("line is {n} bytes long; the limit is {MAX_EXPORT_LINE}"),
    )
}

/// Export lines as records, numbered, skipping blank lines.
fn export_records(
    mut reader: impl BufRead,
) -> impl Iterator<Item = std::result::Result<(usize, ExportRecord), LineError>> {
    let mut buf = Vec::with_capacity(4096);
    let mut line = 0usize;
    std::iter::from_fn(move || loop {
        line += 1;
        match lines::read_line_bounded(&mut reader, &mut buf, MAX_EXPORT_LINE) {
            Err(error) => return Some(Err(LineError::Io { line, error })),
            Ok(None) => return None,
            Ok(Some(Err(n))) => {
                return Some(Err(LineError::Input {
                    line,
                    error: too_long(n),
                }))
            }
            Ok(Some(Ok(()))) => {}
        }
        if let Some(item) = export_record(line, &buf) {
            return Some(item);
        }
    })
}
