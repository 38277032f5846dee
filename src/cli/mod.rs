//! The command line: the only code that prints. Data goes to stdout, everything
//! else to stderr.

mod args;
mod output;
mod pictures;
mod progress;
mod proofs;
mod transfer;

use args::{
    ActorCommand, AppendArgs, Cli, Command, DiffArgs, HistoryArgs, LogArgs, Output, PositionsArgs,
    QueryArgs, Selection,
};
use clap::Parser;
use demarche::chain::Problem;
use demarche::dates;
use demarche::event::{Event, Hash, Head, Recorded, Statement};
use demarche::input::InputError;
use demarche::json::{self, view};
use demarche::ledger::{Ledger, LedgerError, VerifyReport};
use demarche::projection::{self, Change, Filter, KnownAt, Position, Query};
use demarche::store::{Engine, OpenOptions, StoreError};
use demarche::vocab::{Actors, Vocabulary};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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

const GREEN: &str = "32";
const RED: &str = "31;1";

/// `text` in an ANSI colour when stdout takes colour.
fn paint(text: &str, code: &str) -> String {
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
struct FitLines<'a, W: Write> {
    inner: &'a mut W,
    line: Vec<u8>,
}

impl<'a, W: Write> FitLines<'a, W> {
    fn new(inner: &'a mut W) -> Self {
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

/// Exit codes scripts rely on.
const INTEGRITY: u8 = 1;
const USAGE: u8 = 2;
const IO: u8 = 3;

/// A failure on its way to stderr and an exit code.
struct Failure {
    code: u8,
    message: String,
    hint: Option<String>,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure {
            code: if e.kind() == io::ErrorKind::BrokenPipe {
                0
            } else {
                IO
            },
            message: if e.kind() == io::ErrorKind::BrokenPipe {
                String::new()
            } else {
                format!("cannot write output: {e}")
            },
            hint: None,
        }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Store(s) => s.into(),
            LedgerError::Rejected { .. } => Failure::usage(format!("event rejected: {e}")).hint(
                "nothing was appended; see `demarche append --help` and schema/event.schema.json",
            ),
            LedgerError::NoSuchSeq { .. } => Failure::usage(e.to_string()),
            LedgerError::Corrupt { .. } | LedgerError::Tampered(_) => Failure {
                code: INTEGRITY,
                message: e.to_string(),
                hint: Some("run `demarche verify` to find the first bad seq".into()),
            },
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Missing(p) => Failure::usage(e.to_string()).hint(format!(
                "create it with `demarche --ledger {} demo` or `append`, or point --ledger (or $DEMARCHE_LEDGER) at an existing ledger",
                p.display()
            )),
            StoreError::NotALedger { .. } => {
                Failure::usage(e.to_string()).hint("point --ledger at a demarche ledger directory, or at a new path")
            }
            StoreError::Locked { .. } => Failure {
                code: IO,
                message: e.to_string(),
                hint: Some("wait for the other demarche command to finish, or raise --wait".into()),
            },
            StoreError::BadHead(_) | StoreError::StrayKey(_) => Failure {
                code: INTEGRITY,
                message: e.to_string(),
                hint: None,
            },
            _ => Failure {
                code: IO,
                message: e.to_string(),
                hint: None,
            },
        }
    }
}

type Result<T> = std::result::Result<T, Failure>;

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if !f.message.is_empty() {
                eprintln!("error: {}", f.message);
                if let Some(h) = f.hint {
                    eprintln!("hint: {h}");
                }
            }
            ExitCode::from(f.code)
        }
    }
}

fn ledger_path(cli: &Cli) -> Result<PathBuf> {
    if let Some(p) = &cli.ledger {
        return Ok(p.clone());
    }
    dirs::data_dir()
        .map(|d| d.join("demarche").join("ledger"))
        .ok_or_else(|| {
            Failure::usage("cannot find the user's data directory").hint("pass --ledger PATH")
        })
}

fn clock() -> Result<Option<i64>> {
    match std::env::var("DEMARCHE_NOW") {
        Ok(s) => s
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_microsecond()))
            .map_err(|e| {
                Failure::usage(format!("DEMARCHE_NOW=\"{s}\" is not an RFC 3339 time: {e}"))
            }),
        Err(_) => Ok(None),
    }
}

/// Opens the ledger: for writing (and creating) with `create`, else only to
/// read, which with redb never waits for a writer.
fn open(cli: &Cli, create: bool) -> Result<Ledger> {
    open_with(cli, create, false)
}

/// Opens the ledger to query positions: read-only, but with redb in the
/// writer's place when it is free, so that the snapshot it builds is saved.
fn open_query(cli: &Cli) -> Result<Ledger> {
    open_with(cli, false, true)
}

fn open_with(cli: &Cli, create: bool, prefer_writer: bool) -> Result<Ledger> {
    if !cli.wait.is_finite() || cli.wait < 0.0 {
        return Err(Failure::usage(
            "--wait takes a number of seconds, 0 or more",
        ));
    }
    let path = ledger_path(cli)?;
    if create {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Failure {
                code: IO,
                message: format!("cannot create {}: {e}", parent.display()),
                hint: None,
            })?;
        }
    }
    let opts = OpenOptions {
        create,
        lock_timeout: Duration::try_from_secs_f64(cli.wait)
            .map_err(|_| Failure::usage("--wait takes a number of seconds, 0 or more"))?,
        engine: cli_engine(cli)?,
        read_only: !create,
        prefer_writer,
    };
    let mut ledger = Ledger::open(&path, &opts)?;
    if let Some(now) = clock()? {
        ledger.set_clock(move || now);
    }
    if !create {
        // Long reads (verify, replays) show a bar on a terminal after a second.
        let total = ledger.head()?.size;
        let (f, guard) = progress::after_a_second(total, "reading");
        ledger.set_progress(f);
        // Cleared when the command's work is done (see `run`).
        BARS.lock().unwrap_or_else(|p| p.into_inner()).push(guard);
    }
    Ok(ledger)
}

/// The engine for a ledger created now: `--engine` where a command has it,
/// else `$DEMARCHE_ENGINE`, else sled.
fn cli_engine(cli: &Cli) -> Result<Engine> {
    let named = match &cli.command {
        Command::Init { engine, .. } | Command::Rebuild { engine, .. } => engine.as_deref(),
        _ => None,
    };
    match named {
        Some(e) => e
            .parse()
            .map_err(|m: String| Failure::usage(format!("--engine: {m}"))),
        None => Ok(Engine::from_env()),
    }
}

/// Opens the ledger for writing; also returns its path when this call created it.
fn open_for_write(cli: &Cli) -> Result<(Ledger, Option<PathBuf>)> {
    let path = ledger_path(cli)?;
    let existed = demarche::store::engine_at(&path).is_some();
    let ledger = open(cli, true)?;
    Ok((ledger, (!existed).then_some(path)))
}

/// Removes a ledger this command created when nothing was appended to it, so
/// that bad input leaves nothing behind.
fn forget_if_new(ledger: Ledger, created: Option<PathBuf>) {
    if let Some(path) = created {
        if ledger.head().is_ok_and(|h| h.size == 0) {
            drop(ledger);
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// Progress bars of long reads, cleared once the command's work is done.
static BARS: std::sync::Mutex<Vec<progress::Guard>> = std::sync::Mutex::new(Vec::new());

fn run(cli: Cli) -> Result<u8> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = run_with(&cli, &mut out);
    BARS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let code = result?;
    out.flush()?;
    Ok(code)
}

fn run_with(cli: &Cli, mut out: &mut impl Write) -> Result<u8> {
    match &cli.command {
        Command::Demo(o) => demo(cli, *o, &mut out),
        Command::Init { .. } => init(cli, &mut out),
        Command::Append(a) => append(cli, a, &mut out),
        Command::Import {
            file,
            format,
            out: o,
        } => transfer::import(cli, file, *format, *o, &mut out),
        Command::Export {
            format,
            output,
            force,
        } => transfer::export(cli, *format, output.as_deref(), *force, &mut out),
        Command::Rebuild { from, out: o, .. } => transfer::rebuild(cli, from, *o, &mut out),
        Command::Verify {
            export: Some(file),
            expect_head,
            out: o,
            ..
        } => transfer::verify_export(file, expect_head.as_deref(), *o, &mut out),
        Command::Verify {
            against: Some(file),
            expect_head,
            key,
            out: o,
            ..
        } => proofs::verify_against(
            cli,
            file,
            key.as_deref(),
            expect_head.as_deref(),
            *o,
            &mut out,
        ),
        Command::Key(k) => proofs::key(k, &mut out),
        Command::Checkpoint { sign, out: o } => {
            proofs::checkpoint(cli, sign.as_deref(), *o, &mut out)
        }
        Command::Prove {
            seq,
            checkpoint,
            key,
            out: o,
        } => proofs::prove(
            cli,
            *seq,
            checkpoint.as_deref(),
            key.as_deref(),
            *o,
            &mut out,
        ),
        Command::Evidence {
            query,
            sign,
            output,
            force,
            ..
        } => proofs::evidence(cli, query, sign, output, *force),
        Command::Status { verify, out: o } => status(cli, *verify, *o, &mut out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let shell: clap_complete::Shell = shell
                .parse()
                .map_err(|e: String| Failure::usage(format!("--shell: {e}")))?;
            clap_complete::generate(shell, &mut Cli::command(), "demarche", &mut out);
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            Ok(0)
        }
        Command::Graph {
            query,
            format,
            output,
            force,
        } => pictures::graph(cli, query, format, output.as_deref(), *force, &mut out),
        Command::Timeline {
            party,
            subject,
            from,
            to,
            lanes,
            output,
            force,
            ..
        } => pictures::timeline(
            cli,
            party,
            subject,
            from,
            to,
            lanes,
            output.as_deref(),
            *force,
            &mut out,
        ),
        Command::CheckEvidence {
            bundle,
            key,
            out: o,
        } => proofs::check_evidence(bundle, key, *o, &mut out),
        Command::Log(a) if !a.out.json => log(cli, a, &mut FitLines::new(&mut out)),
        Command::Log(a) => log(cli, a, &mut out),
        Command::Show { seq, out: o } => {
            let mut ledger = open(cli, false)?;
            let r = ledger.get(*seq)?;
            if o.json {
                writeln!(out, "{}", view::recorded_json(&r))?;
            } else {
                show_text(&mut out, &r, ledger.actors()?)?;
            }
            Ok(0)
        }
        Command::Verify {
            expect_head,
            export: None,
            against: None,
            chain_only,
            out: o,
            ..
        } => {
            let expect = expect_head.as_deref().map(parse_head_token).transpose()?;
            let ledger = open(cli, false)?;
            let report = if *chain_only {
                ledger.verify_chain(expect)?
            } else {
                ledger.verify(expect)?
            };
            print_verify(&mut out, &report, o.json)?;
            Ok(if report.is_intact() { 0 } else { INTEGRITY })
        }
        Command::Head(o) => {
            let ledger = open(cli, false)?;
            let h = ledger.head()?;
            if o.json {
                writeln!(
                    out,
                    "{}",
                    head_json_with_engine(&h, ledger.store().engine())
                )?;
            } else {
                writeln!(out, "{}", h.token())?;
            }
            Ok(0)
        }
        Command::Actor(a) => actor(cli, a, &mut out),
        Command::Positions(a) if !a.out.json => positions_cmd(cli, a, &mut FitLines::new(&mut out)),
        Command::Positions(a) => positions_cmd(cli, a, &mut out),
        Command::Vocab(o) => vocab(*o, &mut out),
        Command::History(a) if !a.out.json => history(cli, a, &mut FitLines::new(&mut out)),
        Command::History(a) => history(cli, a, &mut out),
        Command::Diff(a) if !a.out.json => diff_cmd(cli, a, &mut FitLines::new(&mut out)),
        Command::Diff(a) => diff_cmd(cli, a, &mut out),
    }
}

fn head_json_with_engine(h: &Head, engine: Engine) -> Value {
    let mut v = head_json(h);
    v["engine"] = engine.name().into();
    v
}

fn head_json(h: &Head) -> Value {
    json!({
        "size": h.size,
        "hash": h.hash.to_hex(),
        "recorded_at": (h.size > 0).then(|| dates::format_recorded_at(h.recorded_at)),
    })
}

fn parse_head_token(s: &str) -> Result<(u64, Hash)> {
    let bad = || {
        Failure::usage(format!("\"{s}\" is not a head of the form SIZE:HASH"))
            .hint("use the output of `demarche head`, for example 10:4be1... (64 hex digits)")
    };
    let (size, hash) = s.trim().split_once(':').ok_or_else(bad)?;
    Ok((
        size.parse().map_err(|_| bad())?,
        Hash::from_hex(hash).ok_or_else(bad)?,
    ))
}

fn verify_json(r: &VerifyReport) -> Value {
    json!({
        "intact": r.is_intact(),
        "checked": r.checked,
        "head": head_json(&r.head),
        "computed": r.computed.to_hex(),
        "first_bad_seq": r.problem.as_ref().map(Problem::seq),
        "problem": r.problem.as_ref().map(|p| json!({"kind": p.kind(), "message": p.to_string()})),
        "redacted": r.redacted,
        "staged": r.staged,
        "tree_root": r.tree_root.map(|d| demarche::ledger::b64(&d)),
    })
}

fn print_verify(out: &mut impl Write, r: &VerifyReport, as_json: bool) -> Result<()> {
    if as_json {
        writeln!(out, "{}", verify_json(r))?;
    } else {
        match &r.problem {
            None => writeln!(
                out,
                "{}: {} events verified, head {}",
                paint("intact", GREEN),
                r.checked,
                r.head.token()
            )?,
            Some(p) => {
                writeln!(out, "{}: first bad seq {}", paint("TAMPERED", RED), p.seq())?;
                writeln!(out, "  {p}")?;
                writeln!(out, "  {} events verified before it", r.checked)?;
            }
        }
        if !r.redacted.is_empty() {
            writeln!(
                out,
                "redacted (payload withheld, hash intact): seqs {:?}",
                r.redacted
            )?;
        }
    }
    if r.staged > 0 {
        eprintln!(
            "note: {} events past the head, left by an interrupted batch, were never acknowledged and are ignored",
            r.staged
        );
    }
    Ok(())
}

fn status(cli: &Cli, verify: bool, o: Output, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    let mut ledger = open(cli, false)?;
    let head = ledger.head()?;
    let engine = ledger.store().engine();
    let bytes = ledger.store().disk_bytes();
    let snapshot = ledger.snapshot_seq()?;
    let (tree_size, root) = ledger.tree_head()?;
    let checkpoint = ledger
        .store()
        .meta("checkpoint")?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| {
            let body = demarche::evidence::note_text(&t).unwrap_or(&t).to_string();
            demarche::note::Checkpoint::parse(&body)
                .ok()
                .map(|c| (c, t.contains("\n\n")))
        });
    let report = if verify {
        Some(ledger.verify(None)?)
    } else {
        None
    };
    if o.json {
        writeln!(
            out,
            "{}",
            json!({
                "ledger": path.display().to_string(),
                "engine": engine.name(),
                "events": head.size,
                "bytes": bytes,
                "head": head_json(&head),
                "tree": {"size": tree_size, "root": demarche::ledger::b64(&root)},
                "snapshot_seq": snapshot,
                "last_checkpoint": checkpoint.as_ref().map(|(c, signed)| json!({"size": c.size, "root": demarche::ledger::b64(&c.root), "signed": signed})),
                "verify": report.as_ref().map(verify_json),
            })
        )?;
    } else {
        writeln!(out, "ledger      {} ({})", path.display(), engine.name())?;
        writeln!(
            out,
            "events      {} ({:.1} MB on disk)",
            head.size,
            bytes as f64 / 1e6
        )?;
        writeln!(out, "head        {}", head.token())?;
        if head.size > 0 {
            writeln!(
                out,
                "last        recorded {}",
                dates::format_recorded_at(head.recorded_at)
            )?;
        }
        writeln!(
            out,
            "tree        {} leaves, root {}",
            tree_size,
            demarche::ledger::b64(&root)
        )?;
        match &checkpoint {
            Some((c, signed)) => writeln!(
                out,
                "checkpoint  last made at {} records{}",
                c.size,
                if *signed { ", signed" } else { "" }
            )?,
            None => writeln!(
                out,
                "checkpoint  none made here yet (`demarche checkpoint`)"
            )?,
        }
        match snapshot {
            Some(s) => writeln!(
                out,
                "snapshot    positions saved at seq {s} ({} events since)",
                head.size - s
            )?,
            None => writeln!(
                out,
                "snapshot    none (a positions query saves one once 10,000 events are unsaved)"
            )?,
        }
        if let Some(r) = &report {
            match &r.problem {
                None => writeln!(out, "verify      intact: {} events", r.checked)?,
                Some(p) => writeln!(out, "verify      TAMPERED at seq {}: {p}", p.seq())?,
            }
        }
    }
    Ok(match &report {
        Some(r) if !r.is_intact() => INTEGRITY,
        _ => 0,
    })
}

fn init(cli: &Cli, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    if let Some(e) = demarche::store::engine_at(&path) {
        return Err(Failure::usage(format!(
            "{} is already a ledger ({})",
            path.display(),
            e.name()
        )));
    }
    let ledger = open(cli, true)?;
    writeln!(
        out,
        "created an empty {} ledger at {}",
        ledger.store().engine().name(),
        path.display()
    )?;
    Ok(0)
}

fn demo(cli: &Cli, o: Output, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    let mut ledger = open(cli, true)?;
    let done = demarche::example::record(&mut ledger)?;
    let report = ledger.verify(None)?;
    let events: Vec<Recorded> = ledger
        .iter(1, u64::MAX)?
        .collect::<std::result::Result<_, _>>()?;
    let example = demarche::example::digests();
    let shown: Vec<&Recorded> = events
        .iter()
        .filter(|r| example.contains(&r.digest))
        .collect();
    if o.json {
        let v = json!({
            "ledger": path.display().to_string(),
            "appended": done.appended,
            "already": done.already,
            "events": shown.iter().map(|r| view::recorded_json(r)).collect::<Vec<_>>(),
            "verify": verify_json(&report),
        });
        writeln!(out, "{v}")?;
    } else {
        eprintln!(
            "ledger {}: {} example events appended, {} already recorded",
            path.display(),
            done.appended,
            done.already
        );
        writeln!(
            out,
            "The worked example: statements on foreign forces in Libya, 28-29 January 2021,"
        )?;
        writeln!(
            out,
            "and UN Security Council resolution 660 (1990), a formal demand, beside them."
        )?;
        writeln!(out)?;
        log_table(out, shown.iter().copied())?;
        writeln!(out)?;
        print_verify(out, &report, false)?;
        let query = Query {
            as_of: Some(jiff::civil::date(2021, 1, 29)),
            ..Query::default()
        };
        let ps = ledger.positions(&query)?;
        let example_seqs: std::collections::HashSet<u64> = shown.iter().map(|r| r.seq).collect();
        let ps: Vec<Position> = ps
            .into_iter()
            .filter(|p| p.statements.iter().all(|s| example_seqs.contains(s)))
            .collect();
        writeln!(
            out,
            "\nPositions as of 2021-01-29 (demarche positions --as-of 2021-01-29):\n"
        )?;
        print_positions(out, &ps, Some("withdrawal"), ledger.actors()?)?;
        writeln!(out)?;
        print_positions(out, &ps, Some("presence"), ledger.actors()?)?;
    }
    Ok(if report.is_intact() { 0 } else { INTEGRITY })
}

fn input_failure(e: InputError) -> Failure {
    Failure::usage(format!("event rejected: {e}"))
        .hint("nothing was appended; see `demarche append --help` and schema/event.schema.json")
}

fn event_from_flags(a: &AppendArgs) -> Result<Event> {
    if let Some(of) = a.retract {
        let reason = a
            .reason
            .clone()
            .ok_or_else(|| Failure::usage("--retract needs --reason"))?;
        let line = json!({"type": "retraction", "of": of, "reason": reason});
        return json::parse_event(&line.to_string()).map_err(input_failure);
    }
    let need = |v: &Option<String>, flag: &str| {
        v.clone().ok_or_else(|| {
            Failure::usage(format!("a statement needs --{flag}"))
                .hint("see `demarche append --help`")
        })
    };
    let mut st = json!({
        "said_on": need(&a.said_on, "said-on")?,
        "party": need(&a.party, "party")?,
        "stance": need(&a.stance, "stance")?,
        "proposition": {"predicate": need(&a.predicate, "predicate")?, "subjects": a.subjects},
        "quote": need(&a.quote, "quote")?,
        "source": {},
    });
    let m = st.as_object_mut().expect("object");
    if let Some(name) = &a.speaker {
        m.insert("speaker".into(), json!({"name": name}));
        if let Some(role) = &a.speaker_role {
            m["speaker"]["role"] = role.clone().into();
        }
    }
    if let Some(h) = &a.hedge {
        m.insert("hedge".into(), h.clone().into());
    }
    for (k, v) in [("location", &a.location), ("qualifier", &a.qualifier)] {
        if let Some(v) = v {
            m["proposition"][k] = v.clone().into();
        }
    }
    for (k, v) in [
        ("url", &a.url),
        ("publisher", &a.publisher),
        ("published_on", &a.published_on),
    ] {
        if let Some(v) = v {
            m["source"][k] = v.clone().into();
        }
    }
    let line = match a.correct {
        Some(of) => {
            let mut c = json!({"type": "correction", "of": of, "statement": st});
            if let Some(r) = &a.reason {
                c["reason"] = r.clone().into();
            }
            c
        }
        None => {
            m.insert("type".into(), "statement".into());
            st
        }
    };
    json::parse_event(&line.to_string()).map_err(input_failure)
}

fn append(cli: &Cli, a: &AppendArgs, out: &mut impl Write) -> Result<u8> {
    let event = match &a.json {
        Some(line) => json::parse_event(line.trim_end()).map_err(input_failure)?,
        None => event_from_flags(a)?,
    };
    let (mut ledger, created) = open_for_write(cli)?;
    let r = match ledger.append(event) {
        Ok(r) => r,
        Err(e) => {
            forget_if_new(ledger, created);
            return Err(e.into());
        }
    };
    if a.json.is_some() {
        writeln!(out, "{}", view::recorded_json(&r))?;
    } else {
        writeln!(out, "appended seq {} hash {}", r.seq, r.hash)?;
    }
    Ok(0)
}

fn describe(s: &Statement) -> String {
    let p = &s.proposition;
    let mut d = p.predicate.clone();
    if !p.subjects.is_empty() {
        d.push_str(" of ");
        d.push_str(&p.subjects.join(", "));
    }
    if let Some(q) = &p.qualifier {
        d.push_str(&format!(" [{q}]"));
    }
    if let Some(l) = &p.location {
        d.push_str(" in ");
        d.push_str(l);
    }
    d
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(n - 1).collect();
        c.push('…');
        c
    }
}

fn summary_row(r: &Recorded) -> String {
    match &r.event {
        None => format!("{:>6}  (redacted: payload withheld)", r.seq),
        Some(e) => match e {
            Event::Statement(s) => statement_row(r.seq, "", s),
            Event::Correction(c) => {
                statement_row(r.seq, &format!("corrects {}: ", c.of), &c.statement)
            }
            Event::Retraction(x) => format!("{:>6}  retracts {}: {}", r.seq, x.of, x.reason),
            Event::Actor(a) => format!("{:>6}  actor {} \"{}\" ({})", r.seq, a.id, a.name, a.kind),
            Event::Alias(a) => format!("{:>6}  alias \"{}\" for {}", r.seq, a.alias, a.actor),
        },
    }
}

fn statement_row(seq: u64, prefix: &str, s: &Statement) -> String {
    let stance = match &s.hedge {
        Some(_) => format!("{} (hedged)", s.stance),
        None => s.stance.clone(),
    };
    format!(
        "{:>6}  {}{:<10}  {:<5}  {:<22}  {:<40}  \"{}\"",
        seq,
        prefix,
        dates::format_said_on(&s.said_on),
        s.party,
        stance,
        describe(s),
        clip(&s.quote, 60)
    )
}

fn log_table<'a>(out: &mut impl Write, rows: impl Iterator<Item = &'a Recorded>) -> Result<usize> {
    let mut n = 0;
    for r in rows {
        if n == 0 {
            writeln!(
                out,
                "{:>6}  {:<10}  {:<5}  {:<22}  {:<40}  quote",
                "seq", "said on", "party", "stance", "proposition"
            )?;
        }
        writeln!(out, "{}", summary_row(r))?;
        n += 1;
    }
    Ok(n)
}

fn log(cli: &Cli, a: &LogArgs, out: &mut impl Write) -> Result<u8> {
    let mut ledger = open(cli, false)?;
    let party = match &a.party {
        Some(p) => Some(
            ledger
                .actors()?
                .resolve(p)
                .map(str::to_string)
                .map_err(|u| Failure::usage(format!("--party: unknown actor {u}")))?,
        ),
        None => None,
    };
    if let Some(s) = &a.stance {
        Vocabulary::builtin()
            .check_stance(s)
            .map_err(|u| Failure::usage(format!("--stance: unknown stance {u}")))?;
    }
    if let Some(k) = &a.kind {
        if !["statement", "correction", "retraction", "actor", "alias"].contains(&k.as_str()) {
            return Err(Failure::usage(format!(
                "--type: \"{k}\" is not one of statement, correction, retraction, actor, alias"
            )));
        }
    }
    let date = |v: &Option<String>, flag: &str| {
        v.as_deref()
            .map(dates::parse_date)
            .transpose()
            .map_err(|m| Failure::usage(format!("--{flag}: {m}")))
    };
    let (from, to) = (date(&a.from, "from")?, date(&a.to, "to")?);
    let keep = |r: &Recorded| -> bool {
        let Some(e) = &r.event else {
            return party.is_none()
                && a.stance.is_none()
                && a.kind.is_none()
                && from.is_none()
                && to.is_none();
        };
        if a.kind.as_deref().is_some_and(|k| k != e.kind()) {
            return false;
        }
        let filtered = party.is_some() || a.stance.is_some() || from.is_some() || to.is_some();
        match e.statement() {
            None => !filtered,
            Some(s) => {
                party.as_ref().is_none_or(|p| &s.party == p)
                    && a.stance.as_ref().is_none_or(|x| &s.stance == x)
                    && from.is_none_or(|d| s.said_on.date >= d)
                    && to.is_none_or(|d| s.said_on.date <= d)
            }
        }
    };
    let limit = a.limit.unwrap_or(usize::MAX);
    let mut shown = 0usize;
    let mut header = false;
    for r in ledger.iter(a.since, u64::MAX)? {
        if shown >= limit {
            break;
        }
        let r = r?;
        if !keep(&r) {
            continue;
        }
        if a.out.json {
            writeln!(out, "{}", view::recorded_json(&r))?;
        } else {
            if !header {
                writeln!(
                    out,
                    "{:>6}  {:<10}  {:<5}  {:<22}  {:<40}  quote",
                    "seq", "said on", "party", "stance", "proposition"
                )?;
                header = true;
            }
            writeln!(out, "{}", summary_row(&r))?;
        }
        shown += 1;
    }
    if shown == 0 && !a.out.json {
        eprintln!("no events match");
    }
    Ok(0)
}

fn show_text(out: &mut impl Write, r: &Recorded, actors: &Actors) -> Result<()> {
    let name = |id: &str| match actors.get(id) {
        Some(a) => format!("{id} ({})", a.def.name),
        None => id.to_string(),
    };
    let line = |out: &mut dyn Write, k: &str, v: &str| writeln!(out, "{k:<13}{v}");
    line(out, "seq", &r.seq.to_string())?;
    match &r.event {
        None => line(
            out,
            "type",
            "redacted (payload withheld; its digest keeps the chain intact)",
        )?,
        Some(e) => {
            line(out, "type", e.kind())?;
            match e {
                Event::Retraction(x) => {
                    line(out, "retracts", &x.of.to_string())?;
                    line(out, "reason", &x.reason)?;
                }
                Event::Actor(a) => {
                    line(out, "id", &a.id)?;
                    line(out, "name", &a.name)?;
                    line(out, "kind", &a.kind)?;
                    line(out, "aliases", &a.aliases.join(", "))?;
                    if let Some(p) = &a.parent {
                        line(out, "parent", &name(p))?;
                    }
                    if let Some(c) = &a.cameo {
                        line(out, "cameo", c)?;
                    }
                }
                Event::Alias(a) => {
                    line(out, "actor", &name(&a.actor))?;
                    line(out, "alias", &a.alias)?;
                }
                Event::Statement(_) | Event::Correction(_) => {
                    if let Event::Correction(c) = e {
                        line(out, "corrects", &c.of.to_string())?;
                        if let Some(reason) = &c.reason {
                            line(out, "reason", reason)?;
                        }
                    }
                    let s = e.statement().expect("statement or correction");
                    line(out, "said on", &dates::format_said_on(&s.said_on))?;
                    line(out, "party", &name(&s.party))?;
                    if let Some(sp) = &s.speaker {
                        let who = match &sp.role {
                            Some(role) => format!("{}, {role}", sp.name),
                            None => sp.name.clone(),
                        };
                        line(out, "speaker", &who)?;
                    }
                    let vocab = Vocabulary::builtin();
                    let mut stance = vocab
                        .stance(&s.stance)
                        .map_or(s.stance.clone(), |d| d.label.clone());
                    if let Some(m) = vocab.mapping(&s.stance, &s.proposition.predicate) {
                        let label = vocab
                            .cameo_labels
                            .get(&m.cameo)
                            .map(String::as_str)
                            .unwrap_or("");
                        stance.push_str(&format!("  [CAMEO {} {label}]", m.cameo));
                    }
                    line(out, "stance", &stance)?;
                    if let Some(h) = &s.hedge {
                        line(out, "hedge", h)?;
                    }
                    line(out, "proposition", &describe(s))?;
                    line(out, "quote", &format!("\"{}\"", s.quote))?;
                    let src = &s.source;
                    let parts: Vec<String> = [
                        src.publisher.clone(),
                        src.published_on.map(|d| d.to_string()),
                        src.url.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    line(out, "source", &parts.join(", "))?;
                }
            }
        }
    }
    line(
        out,
        "recorded at",
        &dates::format_recorded_at(r.recorded_at),
    )?;
    line(out, "prev", &r.prev.to_hex())?;
    line(out, "hash", &r.hash.to_hex())?;
    line(out, "digest", &r.digest.to_hex())?;
    Ok(())
}

fn actor_json(a: &demarche::vocab::Actor) -> Value {
    let mut m = view::event_json(&Event::Actor(a.def.clone()));
    m.remove("type");
    m.insert("defined_at".into(), a.defined_at.into());
    Value::Object(m)
}

/// The ledger, or, where there is none yet, an empty one that knows the starter actors.
fn open_or_starter(cli: &Cli) -> Result<Ledger> {
    let path = ledger_path(cli)?;
    if !path.exists() {
        return Ok(Ledger::in_memory());
    }
    open(cli, false)
}

fn actor(cli: &Cli, a: &ActorCommand, out: &mut impl Write) -> Result<u8> {
    let (event, o) = match a {
        ActorCommand::Add {
            id,
            name,
            kind,
            aliases,
            parent,
            cameo,
            out: o,
        } => {
            let mut v =
                json!({"type": "actor", "id": id, "name": name, "kind": kind, "aliases": aliases});
            if let Some(p) = parent {
                v["parent"] = p.clone().into();
            }
            if let Some(c) = cameo {
                v["cameo"] = c.clone().into();
            }
            (v, o)
        }
        ActorCommand::Alias {
            actor,
            alias,
            out: o,
        } => (json!({"type": "alias", "actor": actor, "alias": alias}), o),
        ActorCommand::List { kind, out: o } => {
            let mut ledger = open_or_starter(cli)?;
            for act in ledger.actors()?.iter() {
                if kind.as_ref().is_some_and(|k| &act.def.kind != k) {
                    continue;
                }
                if o.json {
                    writeln!(out, "{}", actor_json(act))?;
                } else {
                    writeln!(
                        out,
                        "{:<14} {:<13} {}",
                        act.def.id, act.def.kind, act.def.name
                    )?;
                }
            }
            return Ok(0);
        }
        ActorCommand::Show { name, out: o } => {
            let mut ledger = open_or_starter(cli)?;
            let actors = ledger.actors()?;
            let id = actors
                .resolve(name)
                .map_err(|u| Failure::usage(format!("unknown actor {u}")))?;
            let act = actors.get(id).expect("resolved");
            if o.json {
                writeln!(out, "{}", actor_json(act))?;
            } else {
                writeln!(out, "{:<9}{}", "id", act.def.id)?;
                writeln!(out, "{:<9}{}", "name", act.def.name)?;
                writeln!(out, "{:<9}{}", "kind", act.def.kind)?;
                writeln!(out, "{:<9}{}", "aliases", act.def.aliases.join(", "))?;
                if let Some(p) = &act.def.parent {
                    writeln!(out, "{:<9}{}", "parent", p)?;
                }
                if let Some(c) = &act.def.cameo {
                    writeln!(out, "{:<9}{}", "cameo", c)?;
                }
                let at = act
                    .defined_at
                    .map_or("starter set".to_string(), |s| format!("seq {s}"));
                writeln!(out, "{:<9}{}", "defined", at)?;
            }
            return Ok(0);
        }
    };
    let event = json::parse_event(&event.to_string()).map_err(input_failure)?;
    let (mut ledger, created) = open_for_write(cli)?;
    let r = match ledger.append(event) {
        Ok(r) => r,
        Err(e) => {
            forget_if_new(ledger, created);
            return Err(e.into());
        }
    };
    if o.json {
        writeln!(out, "{}", view::recorded_json(&r))?;
    } else {
        writeln!(out, "appended seq {} hash {}", r.seq, r.hash)?;
    }
    Ok(0)
}

// ---------------------------------------------------------------------------
// positions, history, diff

fn parse_date_flag(v: &Option<String>, flag: &str) -> Result<Option<jiff::civil::Date>> {
    v.as_deref()
        .map(dates::parse_date)
        .transpose()
        .map_err(|m| Failure::usage(format!("--{flag}: {m}")))
}

fn parse_known_at(v: &Option<String>, ledger: &Ledger) -> Result<Option<KnownAt>> {
    let Some(v) = v else { return Ok(None) };
    let head = ledger.head()?;
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let seq: u64 = v
            .parse()
            .map_err(|_| Failure::usage(format!("--known-at: \"{v}\" is too large")))?;
        if seq > head.size {
            return Err(Failure::usage(format!(
                "--known-at: seq {seq} is beyond the head; the ledger holds {} events",
                head.size
            )));
        }
        return Ok(Some(KnownAt::Seq(seq)));
    }
    let t: jiff::Timestamp = v.parse().map_err(|_| {
        Failure::usage(format!(
            "--known-at: \"{v}\" is neither a seq nor an RFC 3339 time"
        ))
        .hint("for example --known-at 8 or --known-at 2026-03-01T00:00:00Z")
    })?;
    Ok(Some(KnownAt::Time(t.as_microsecond())))
}

fn resolve_flag(actors: &Actors, v: &Option<String>, flag: &str) -> Result<Option<String>> {
    v.as_deref()
        .map(|name| {
            actors
                .resolve(name)
                .map(str::to_string)
                .map_err(|u| Failure::usage(format!("--{flag}: unknown actor {u}")))
        })
        .transpose()
}

fn filter_from(ledger: &mut Ledger, s: &Selection) -> Result<Filter> {
    let vocab = Vocabulary::builtin();
    if let Some(x) = &s.stance {
        vocab
            .check_stance(x)
            .map_err(|u| Failure::usage(format!("--stance: unknown stance {u}")))?;
    }
    if let Some(x) = &s.predicate {
        vocab
            .check_predicate(x)
            .map_err(|u| Failure::usage(format!("--predicate: unknown predicate {u}")))?;
    }
    let actors = ledger.actors()?;
    Ok(Filter {
        party: resolve_flag(actors, &s.party, "party")?,
        stance: s.stance.clone(),
        predicate: s.predicate.clone(),
        subject: resolve_flag(actors, &s.subject, "subject")?,
        location: resolve_flag(actors, &s.location, "location")?,
    })
}

fn position_out(p: &Position) -> view::PositionJson<'_> {
    view::PositionJson(p)
}

fn position_json(p: &Position) -> Value {
    serde_json::to_value(position_out(p)).expect("plain data")
}

fn proposition_text(p: &Position) -> String {
    let mut d = p.key.predicate.clone();
    if let Some(s) = &p.key.subject {
        d.push_str(" of ");
        d.push_str(s);
    }
    if let Some(q) = &p.key.qualifier {
        d.push_str(&format!(" [{q}]"));
    }
    if let Some(l) = &p.key.location {
        d.push_str(" in ");
        d.push_str(l);
    }
    d
}

fn stance_text(p: &Position) -> String {
    let label = Vocabulary::builtin()
        .stance(&p.stance)
        .map_or(p.stance.clone(), |s| s.label.clone());
    match &p.hedge {
        Some(h) => format!("{label} (hedged: {h})"),
        None => label,
    }
}

fn seqs_text(seqs: &[u64]) -> String {
    seqs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn actor_name(actors: &Actors, id: &str) -> String {
    actors
        .get(id)
        .map_or(id.to_string(), |a| format!("{id} ({})", a.def.name))
}

fn print_positions(
    out: &mut impl Write,
    ps: &[Position],
    view: Option<&str>,
    actors: &Actors,
) -> Result<()> {
    match view {
        Some("withdrawal") => {
            writeln!(out, "Who demands withdrawal from whom")?;
            let mut by_subject: std::collections::BTreeMap<
                (Option<String>, Option<String>),
                Vec<&Position>,
            > = std::collections::BTreeMap::new();
            for p in ps.iter().filter(|p| {
                p.key.predicate == "withdrawal"
                    && matches!(projection::stance_kind(&p.stance), "demand" | "appeal")
            }) {
                by_subject
                    .entry((p.key.subject.clone(), p.key.location.clone()))
                    .or_default()
                    .push(p);
            }
            for ((subject, location), list) in by_subject {
                let who = subject
                    .as_deref()
                    .map_or("(no subject)".to_string(), |s| actor_name(actors, s));
                let from = location.as_deref().map_or(String::new(), |l| {
                    format!(" to leave {}", actor_name(actors, l))
                });
                writeln!(out, "\n{who}, asked{from}:")?;
                for p in list {
                    let kind = if projection::stance_kind(&p.stance) == "demand" {
                        "DEMAND"
                    } else {
                        "call"
                    };
                    let q = p
                        .key
                        .qualifier
                        .as_deref()
                        .map_or(String::new(), |q| format!(" [{q}]"));
                    writeln!(
                        out,
                        "  {:<6} {:<10} {:<6}{q}  since {}  (seq {})",
                        p.key.party,
                        stance_text(p),
                        kind,
                        dates::format_said_on(&p.said_on),
                        seqs_text(&p.statements)
                    )?;
                }
            }
        }
        Some("presence") => {
            writeln!(out, "Who denies, acknowledges or asserts presence where")?;
            let mut by_place: std::collections::BTreeMap<Option<String>, Vec<&Position>> =
                std::collections::BTreeMap::new();
            for p in ps.iter().filter(|p| {
                p.key.predicate == "presence"
                    && matches!(p.stance.as_str(), "denies" | "acknowledges" | "asserts")
            }) {
                by_place.entry(p.key.location.clone()).or_default().push(p);
            }
            for (place, list) in by_place {
                let place = place
                    .as_deref()
                    .map_or("(no place)".to_string(), |l| actor_name(actors, l));
                writeln!(out, "\nin {place}:")?;
                for p in list {
                    let what = p.key.subject.as_deref().unwrap_or("(unnamed)");
                    let q = p
                        .key
                        .qualifier
                        .as_deref()
                        .map_or(String::new(), |q| format!(" [{q}]"));
                    writeln!(
                        out,
                        "  {:<6} {} presence of {what}{q}  since {}  (seq {})",
                        p.key.party,
                        stance_text(p),
                        dates::format_said_on(&p.said_on),
                        seqs_text(&p.statements)
                    )?;
                }
            }
        }
        _ => {
            writeln!(
                out,
                "{:<6}  {:<40}  {:<48}  {:<10}  statements",
                "party", "stance", "proposition", "since"
            )?;
            for p in ps {
                writeln!(
                    out,
                    "{:<6}  {:<40}  {:<48}  {:<10}  {}",
                    p.key.party,
                    stance_text(p),
                    proposition_text(p),
                    dates::format_said_on(&p.said_on),
                    seqs_text(&p.statements)
                )?;
            }
        }
    }
    Ok(())
}

/// The query `positions`, `graph` and `evidence` ask of a ledger.
fn query_from(ledger: &mut Ledger, q: &QueryArgs) -> Result<Query> {
    Ok(Query {
        as_of: parse_date_flag(&q.as_of, "as-of")?,
        known_at: parse_known_at(&q.known_at, ledger)?,
        filter: filter_from(ledger, &q.selection)?,
    })
}

fn positions_cmd(cli: &Cli, a: &PositionsArgs, out: &mut impl Write) -> Result<u8> {
    let mut ledger = open_query(cli)?;
    let query = query_from(&mut ledger, &a.query)?;
    let ps = if a.replay {
        ledger.positions_replay(&query)?
    } else {
        ledger.positions(&query)?
    };
    if a.out.json {
        for p in &ps {
            serde_json::to_writer(&mut *out, &position_out(p)).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
        }
    } else {
        if ps.is_empty() {
            eprintln!("no positions match");
            return Ok(0);
        }
        print_positions(out, &ps, a.view.as_deref(), ledger.actors()?)?;
    }
    Ok(0)
}

fn diff_cmd(cli: &Cli, a: &DiffArgs, out: &mut impl Write) -> Result<u8> {
    let from = parse_date_flag(&Some(a.from.clone()), "from")?;
    let to = parse_date_flag(&Some(a.to.clone()), "to")?;
    if from > to {
        return Err(Failure::usage("--from must not be after --to"));
    }
    let mut ledger = open_query(cli)?;
    let known_at = parse_known_at(&a.known_at, &ledger)?;
    let filter = filter_from(&mut ledger, &a.selection)?;
    let at = |d| Query {
        as_of: d,
        known_at,
        filter: filter.clone(),
    };
    let changes = projection::diff(ledger.positions(&at(from))?, ledger.positions(&at(to))?);
    for c in &changes {
        if a.out.json {
            let v = match c {
                Change::Appeared(p) => json!({"change": "appeared", "position": position_json(p)}),
                Change::Ended(p) => json!({"change": "ended", "position": position_json(p)}),
                Change::Changed { from, to } => json!({
                    "change": "changed",
                    "from": position_json(from),
                    "position": position_json(to),
                }),
            };
            writeln!(out, "{v}")?;
        } else {
            match c {
                Change::Appeared(p) => writeln!(
                    out,
                    "+ {:<6} {} {}  (since {})",
                    p.key.party,
                    stance_text(p),
                    proposition_text(p),
                    dates::format_said_on(&p.said_on)
                )?,
                Change::Ended(p) => writeln!(
                    out,
                    "- {:<6} {} {}",
                    p.key.party,
                    stance_text(p),
                    proposition_text(p)
                )?,
                Change::Changed { from, to } => writeln!(
                    out,
                    "~ {:<6} {}: {} -> {}  (since {})",
                    to.key.party,
                    proposition_text(to),
                    stance_text(from),
                    stance_text(to),
                    dates::format_said_on(&to.said_on)
                )?,
            }
        }
    }
    if changes.is_empty() && !a.out.json {
        eprintln!("no position changed between {} and {}", a.from, a.to);
    }
    Ok(0)
}

fn history(cli: &Cli, a: &HistoryArgs, out: &mut impl Write) -> Result<u8> {
    let (from, to) = (
        parse_date_flag(&a.from, "from")?,
        parse_date_flag(&a.to, "to")?,
    );
    let mut ledger = open(cli, false)?;
    if let Some(x) = &a.predicate {
        Vocabulary::builtin()
            .check_predicate(x)
            .map_err(|u| Failure::usage(format!("--predicate: unknown predicate {u}")))?;
    }
    let actors = ledger.actors()?.clone();
    let party = resolve_flag(&actors, &a.party, "party")?;
    let subject = resolve_flag(&actors, &a.subject, "subject")?;
    let location = resolve_flag(&actors, &a.location, "location")?;
    let amendments = ledger.amendments(None)?;
    let mut corrected_by: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    for (root, (seq, _)) in &amendments.corrected {
        corrected_by.insert(*root, *seq);
    }
    let mut rows: Vec<(demarche::event::SaidOn, u64, Recorded, &'static str)> = Vec::new();
    for r in ledger.iter(1, u64::MAX)? {
        let r = r?;
        let Some(Event::Statement(original)) = &r.event else {
            continue;
        };
        let (s, status) = match amendments.effective(r.seq, original) {
            None => (original, "retracted"),
            Some(s) if corrected_by.contains_key(&r.seq) => (s, "corrected"),
            Some(s) => (s, "standing"),
        };
        let p = &s.proposition;
        let keep = party.as_ref().is_none_or(|x| x == &s.party)
            && a.predicate.as_ref().is_none_or(|x| x == &p.predicate)
            && subject.as_ref().is_none_or(|x| p.subjects.contains(x))
            && location
                .as_ref()
                .is_none_or(|x| Some(x) == p.location.as_ref())
            && from.is_none_or(|d| s.said_on.date >= d)
            && to.is_none_or(|d| s.said_on.date <= d);
        if keep {
            let mut shown = r.clone();
            shown.event = Some(Event::Statement(s.clone()));
            rows.push((s.said_on, r.seq, shown, status));
        }
    }
    rows.sort_by_key(|x| (x.0, x.1));
    for (_, seq, r, status) in &rows {
        if a.out.json {
            let mut v = view::recorded_json(r);
            v["status"] = (*status).into();
            v["corrected_by"] = corrected_by.get(seq).copied().into();
            writeln!(out, "{v}")?;
        } else {
            let Some(Event::Statement(s)) = &r.event else {
                continue;
            };
            let note = match *status {
                "retracted" => "  [retracted]".to_string(),
                "corrected" => format!("  [as corrected by seq {}]", corrected_by[seq]),
                _ => String::new(),
            };
            let stance = match &s.hedge {
                Some(h) => format!("{} (hedged: {h})", s.stance),
                None => s.stance.clone(),
            };
            writeln!(
                out,
                "{}  seq {:<5} {} {} {}{note}",
                dates::format_said_on(&s.said_on),
                seq,
                s.party,
                stance,
                describe(s)
            )?;
            writeln!(out, "      \"{}\"", s.quote)?;
            let mut src: Vec<String> = Vec::new();
            if let Some(sp) = &s.speaker {
                src.push(match &sp.role {
                    Some(role) => format!("{}, {role}", sp.name),
                    None => sp.name.clone(),
                });
            }
            src.extend(s.source.publisher.clone());
            src.extend(s.source.published_on.map(|d| d.to_string()));
            src.extend(s.source.url.clone());
            writeln!(out, "      -- {}", src.join("; "))?;
        }
    }
    if rows.is_empty() && !a.out.json {
        eprintln!("no statements match");
    }
    Ok(0)
}

/// Every (stance, predicate) pair with its CAMEO and PLOVER codes.
fn vocab(o: Output, out: &mut impl Write) -> Result<u8> {
    let v = Vocabulary::builtin();
    if !o.json {
        writeln!(
            out,
            "Stances (vocabulary {}, mapping {}):",
            v.version, v.mapping_version
        )?;
        for s in &v.stances {
            writeln!(out, "  {:<13} {:<10} {}", s.id, s.kind, s.description)?;
        }
        writeln!(out, "\nPredicates:")?;
        for p in &v.predicates {
            writeln!(out, "  {:<19} {}", p.id, p.description)?;
        }
        writeln!(
            out,
            "\n{:<13} {:<19} {:<6} {:<52} plover",
            "stance", "predicate", "cameo", "cameo label"
        )?;
    }
    for s in &v.stances {
        for p in &v.predicates {
            let Some(m) = v.mapping(&s.id, &p.id) else {
                continue;
            };
            let label = v
                .cameo_labels
                .get(&m.cameo)
                .map(String::as_str)
                .unwrap_or("");
            if o.json {
                writeln!(
                    out,
                    "{}",
                    json!({
                        "stance": s.id, "predicate": p.id, "cameo": m.cameo, "cameo_label": label,
                        "plover": m.plover, "plover_mode": m.mode, "plover_context": m.context,
                    })
                )?;
            } else {
                let plover = [m.plover.as_deref(), m.mode.as_deref(), m.context.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                writeln!(
                    out,
                    "{:<13} {:<19} {:<6} {:<52} {plover}",
                    s.id, p.id, m.cameo, label
                )?;
            }
        }
    }
    Ok(0)
}
