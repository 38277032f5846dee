//! `demarche import --format gdelt`: GDELT 2.0 event exports (files, the
//! `*.export.CSV` files of directories, or standard input) read as one batch,
//! all or nothing, with duplicates by event id skipped and a summary per CAMEO
//! root.

use super::args::{Cli, Output};
use super::failure::{Failure, Result};
use super::open::{forget_if_new, open_for_write};
use super::progress::Progress;
use super::verify::head_json;
use demarche::event::{ActorDef, Event, CODER_GDELT};
use demarche::gdelt::{self, ActorCodes, CameoTable, Skip, SkipKind, Summary};
use demarche::ledger::{Abort, BatchOptions, BatchSummary, Incoming, LedgerError};
use demarche::lines::LineError;
use demarche::vocab::Actors;
use rustc_hash::FxHashSet;
use serde_json::json;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The inputs: each file named, the `*.export.CSV` files of each directory
/// named (sorted by name), and `-` for standard input.
fn expand(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files {
        if f.as_os_str() != "-" && f.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(f)
                .map_err(|e| Failure::io(format!("cannot read {}: {e}", f.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".export.csv"))
                })
                .collect();
            if found.is_empty() {
                return Err(Failure::usage(format!(
                    "{} holds no GDELT event export (a file named *.export.CSV)",
                    f.display()
                ))
                .hint("name the files themselves to read files with other names"));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(f.clone());
        }
    }
    if out.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Failure::usage("standard input (-) can be read only once"));
    }
    Ok(out)
}

fn open(path: &Path) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(io::stdin()), None));
    }
    let f = std::fs::File::open(path).map_err(|e| {
        Failure::reading(
            e.kind() == io::ErrorKind::NotFound,
            format!("cannot open {}: {e}", path.display()),
        )
    })?;
    let len = f.metadata().ok().map(|m| m.len());
    Ok((Box::new(f), len))
}

/// The party codes of the inputs that the registry lacks, with their counts:
/// Actor1 of the rows that would otherwise be statements, and their Actor2.
fn unknown_codes(inputs: &[PathBuf], codes: &ActorCodes) -> Result<BTreeMap<String, usize>> {
    let mut unknown = BTreeMap::new();
    for path in inputs {
        let (r, _) = open(path)?;
        for row in gdelt::read_rows(BufReader::with_capacity(1 << 16, r), codes.clone()) {
            // A bad row is reported by the import itself.
            let Ok(row) = row else { break };
            if let Err(Skip::UnknownActor(code)) = row.result {
                *unknown.entry(code).or_insert(0) += 1;
            }
        }
    }
    Ok(unknown)
}

/// The actor event that records a GDELT party code: a state by its
/// three-letter code (named as the FIPS table names it), an organisation by its
/// whole code, under the known organisation its code starts with (the World
/// Bank's `IGOUNODEVWBK` under the UN's `IGOUNO`).
fn actor_for(code: &str, codes: &ActorCodes) -> ActorDef {
    let state = gdelt::FipsTable::builtin()
        .countries
        .iter()
        .find(|c| c.actor == code);
    ActorDef {
        id: code.to_string(),
        name: match state {
            Some(c) => c.name.clone(),
            None => format!("GDELT actor {code}"),
        },
        kind: if state.is_some() {
            "state"
        } else {
            "organisation"
        }
        .into(),
        aliases: Vec::new(),
        parent: codes.known_prefix(code).map(str::to_string),
        cameo: Some(code.to_string()),
    }
}

/// Where reading stands: which input and line.
#[derive(Default, Clone, Copy)]
struct At {
    input: usize,
    line: usize,
}

/// Where the last items read came from, by their index in the batch: the
/// ledger reads a few items ahead of the one it may refuse.
#[derive(Default)]
struct Recent {
    places: std::collections::VecDeque<(usize, At)>,
}

impl Recent {
    /// Items the ledger may read ahead of the one it refuses, and more.
    const KEPT: usize = 64;

    fn note(&mut self, index: usize, at: At) {
        if self.places.len() == Self::KEPT {
            self.places.pop_front();
        }
        self.places.push_back((index, at));
    }

    /// Where item `index` was read, else where the last item was.
    fn of(&self, index: Option<usize>) -> At {
        index
            .and_then(|i| self.places.iter().find(|(at, _)| *at == i))
            .or(self.places.back())
            .map(|(_, at)| *at)
            .unwrap_or_default()
    }
}

/// An item for the ledger with where it was read: input and line.
type Placed = (usize, usize, std::result::Result<Incoming, Abort>);

/// Statements sent over at a time.
const BATCH: usize = 256;

/// Reads every input's rows in order, skipping the event ids in `seen` (and
/// adding those read), and sends the ledger each statement, or the first
/// error, with where it was read; stops there, or when the ledger stops
/// taking them. What was read, counted.
fn read_all(
    inputs: Vec<Box<dyn Read + Send>>,
    codes: &ActorCodes,
    mut seen: FxHashSet<u64>,
    bar: &Progress,
    tx: &std::sync::mpsc::SyncSender<Vec<Placed>>,
) -> Summary {
    let mut summary = Summary::default();
    let mut batch = Vec::with_capacity(BATCH);
    'inputs: for (i, r) in inputs.into_iter().enumerate() {
        let reader = BufReader::with_capacity(1 << 16, bar.reader(r));
        for row in gdelt::read_rows(reader, codes.clone()) {
            match row {
                Ok(row) => {
                    if !seen.insert(row.event_id) {
                        summary.add_duplicate();
                        continue;
                    }
                    summary.add(&row);
                    let Ok(event) = row.result else { continue };
                    let event = Incoming {
                        event: Box::new(event),
                        original: None,
                    };
                    batch.push((i, row.line, Ok(event)));
                }
                Err(LineError::Input { line, error }) => {
                    batch.push((i, line, Err(Abort::Invalid(error))));
                    break 'inputs;
                }
                Err(LineError::Io { line, error }) => {
                    batch.push((i, line, Err(Abort::Unreadable(error))));
                    break 'inputs;
                }
            }
            if batch.len() == BATCH
                && tx
                    .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_err()
            {
                return summary;
            }
        }
    }
    if !batch.is_empty() {
        // The ledger may have stopped taking them already.
        let _ = tx.send(batch);
    }
    summary
}

/// `demarche import --format gdelt FILE...`.
pub(super) fn import(
    cli: &Cli,
    files: &[PathBuf],
    add_actors: bool,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let inputs = expand(files)?;
    if add_actors && inputs.iter().any(|p| p.as_os_str() == "-") {
        return Err(Failure::usage(
            "--add-actors reads its input twice, which standard input cannot be",
        )
        .hint("save the rows to a file and name the file"));
    }
    let mut opened = Vec::with_capacity(inputs.len());
    let mut total_len = Some(0u64);
    for path in &inputs {
        let (r, len) = open(path)?;
        total_len = total_len.zip(len).map(|(a, b)| a + b);
        opened.push(r);
    }
    let (mut ledger, created) = open_for_write(cli)?;
    let started = Instant::now();
    let prepared = (|| -> Result<(Actors, Vec<ActorDef>, FxHashSet<u64>)> {
        let mut actors = ledger.actors()?.clone();
        let mut added = Vec::new();
        if add_actors {
            let codes = ActorCodes::new(&actors);
            for code in unknown_codes(&inputs, &codes)?.into_keys() {
                let def = actor_for(&code, &codes);
                actors
                    .add(def.clone(), None)
                    .map_err(|e| Failure::usage(format!("cannot add actor {code}: {e}")))?;
                added.push(def);
            }
        }
        let seen = ledger.coded_event_ids(CODER_GDELT)?.into_iter().collect();
        Ok((actors, added, seen))
    })();
    let (actors, added, seen) = match prepared {
        Ok(p) => p,
        Err(f) => {
            forget_if_new(ledger, created);
            return Err(f);
        }
    };
    let codes = ActorCodes::new(&actors);
    let bar = Progress::bytes(total_len, "importing");
    let recent = RefCell::new(Recent::default());
    // Rows are read, classified and counted on a thread of their own, beside
    // the ledger's work on the statements they make; the statements come
    // over in batches, each with where it was read.
    let (result, summary) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Placed>>(4);
        let bar = &bar;
        let reader = scope.spawn(move || read_all(opened, &codes, seen, bar, &tx));
        let first = added.len();
        let items = rx
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, (input, line, item))| {
                recent.borrow_mut().note(first + i, At { input, line });
                item
            });
        let actor_events = added.iter().cloned().map(|def| {
            Ok(Incoming {
                event: Box::new(Event::Actor(def)),
                original: None,
            })
        });
        let result = ledger.import_batch(
            actor_events.chain(items),
            BatchOptions {
                skip_known: true,
                ..BatchOptions::default()
            },
        );
        let summary = match reader.join() {
            Ok(summary) => summary,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (result, summary)
    });
    bar.finish();
    if result.is_err() {
        forget_if_new(ledger, created);
    }
    let recent = recent.into_inner();
    let index = match &result {
        Err(LedgerError::Rejected { index, .. }) => *index,
        _ => None,
    };
    let at = recent.of(index);
    let place = || inputs[at.input].display().to_string();
    let batch = match result {
        Ok(s) => s,
        Err(LedgerError::Unreadable { error, .. }) => {
            return Err(Failure::io(format!("cannot read {}: {error}", place()))
                .hint("nothing was appended"))
        }
        Err(LedgerError::Rejected { error, .. }) => {
            return Err(
                Failure::usage(format!("{}: line {}: {error}", place(), at.line)).hint(format!(
                    "nothing was appended: the import of {} is all or nothing",
                    match inputs.len() {
                        1 => "a file".to_string(),
                        n => format!("all {n} files"),
                    }
                )),
            );
        }
        Err(e) => return Err(e.into()),
    };
    report(out, &batch, &summary, &added, add_actors, started, o)
}

fn percent(n: usize, of: usize) -> String {
    match of {
        0 => "-".into(),
        _ => format!("{:.1}%", n as f64 * 100.0 / of as f64),
    }
}

fn report(
    out: &mut impl Write,
    batch: &BatchSummary,
    s: &Summary,
    added: &[ActorDef],
    add_actors: bool,
    started: Instant,
    o: Output,
) -> Result<u8> {
    let total = s.total();
    if o.json {
        let kinds = |m: &BTreeMap<SkipKind, usize>| -> serde_json::Map<String, serde_json::Value> {
            m.iter()
                .map(|(k, n)| (k.key().to_string(), (*n).into()))
                .collect()
        };
        let by_root: serde_json::Map<String, serde_json::Value> = s
            .roots
            .iter()
            .map(|(r, c)| {
                (
                    r.clone(),
                    json!({
                        "label": gdelt::root_label(r),
                        "rows": c.rows,
                        "eligible": c.eligible,
                        "statements": c.statements,
                        "skipped": kinds(&c.skipped),
                    }),
                )
            })
            .collect();
        let by_reason: serde_json::Map<String, serde_json::Value> = s
            .skipped
            .by_kind()
            .into_iter()
            .map(|(k, n)| (k.to_string(), n.into()))
            .collect();
        let v = json!({
            "appended": batch.appended,
            "skipped": batch.skipped + s.duplicates as u64,
            "first": batch.first,
            "head": head_json(&batch.head),
            "rows_skipped": {"total": s.skipped.total(), "by_reason": by_reason},
            "gdelt": {
                "rows": total.rows + s.duplicates,
                "eligible": total.eligible,
                "statements": total.statements,
                "duplicates": s.duplicates,
                "skipped": kinds(&total.skipped),
                "by_root": by_root,
                "unknown_actors": s.unknown_actors,
                "actors_added": added.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            },
        });
        writeln!(out, "{v}")?;
        return Ok(0);
    }
    writeln!(
        out,
        "imported {} in {}; head {}",
        plural(batch.appended, "event"),
        super::terminal::took(started.elapsed()),
        batch.head.token()
    )?;
    if !added.is_empty() {
        let ids: Vec<&str> = added.iter().map(|a| a.id.as_str()).collect();
        writeln!(
            out,
            "recorded {} first: {}",
            plural(added.len() as u64, "actor"),
            ids.join(", ")
        )?;
    }
    writeln!(
        out,
        "GDELT rows: {} read, {} eligible (a state or an organisation of states under a root of things said), {} statements ({} of eligible)",
        total.rows + s.duplicates,
        total.eligible,
        total.statements,
        percent(total.statements, total.eligible)
    )?;
    let table = CameoTable::builtin();
    writeln!(
        out,
        "  {:<46} {:>6} {:>9} {:>11}  not made, why",
        "CAMEO root", "rows", "eligible", "statements"
    )?;
    for (root, c) in &s.roots {
        let mut why: Vec<(SkipKind, usize)> = c.skipped.iter().map(|(k, n)| (*k, *n)).collect();
        why.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let why: Vec<String> = why.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let name = format!("{root} {}", gdelt::root_label(root).to_lowercase());
        let name = match table.is_listed_root(root) {
            true => name,
            false => format!("{name} (left out)"),
        };
        writeln!(
            out,
            "  {:<46} {:>6} {:>9} {:>11}  {}",
            name,
            c.rows,
            c.eligible,
            c.statements,
            why.join(", ")
        )?;
    }
    if batch.skipped > 0 {
        writeln!(
            out,
            "skipped {} already recorded",
            plural(batch.skipped, "statement")
        )?;
    }
    if s.duplicates > 0 {
        writeln!(
            out,
            "skipped {} whose GDELT event id is already in the ledger or earlier in the input",
            plural(s.duplicates as u64, "row")
        )?;
    }
    if s.skipped.total() > 0 {
        writeln!(
            out,
            "skipped {} GDELT rows that make no statement:",
            s.skipped.total()
        )?;
        for line in s.skipped.to_string().lines() {
            writeln!(out, "  {line}")?;
        }
    }
    if !s.unknown_actors.is_empty() {
        let mut codes: Vec<(&String, &usize)> = s.unknown_actors.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = codes
            .iter()
            .take(20)
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        let more = if codes.len() > 20 { ", ..." } else { "" };
        writeln!(
            out,
            "party codes the registry lacks, with their rows: {}{more}",
            shown.join(", ")
        )?;
        if !add_actors {
            eprintln!(
                "hint: `--add-actors` records them as actors first, and their rows as statements"
            );
        }
    }
    Ok(0)
}

/// `1 event`, `2 events`.
fn plural(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
