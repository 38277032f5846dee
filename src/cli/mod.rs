//! The command line: the only code that prints. Data goes to stdout, everything
//! else to stderr.
//!
//! One module per concept; this one parses, hands each command to its module
//! and turns the outcome into an exit code.
//!
//! | module | what it holds |
//! |---|---|
//! | `args` | the clap definitions: commands, flags, `--help` text |
//! | `failure` | exit codes, `Failure`, and every error's code, message and hint |
//! | `flags` | reading flag values: dates, `--known-at`, actors, stances, predicates, queries |
//! | `open` | the ledger's default place, the pinned clock, opening for reading or writing |
//! | `terminal` | colour and tables cut to the terminal's width |
//! | `progress` | progress bars on stderr, on a terminal only |
//! | `output` | new files written whole or not at all, `-o` |
//! | `record` | `init`, `demo`, `append` |
//! | `events` | `log`, `show`, `history` |
//! | `verify` | `verify`, `head`, `status` |
//! | `positions` | `positions`, `diff` |
//! | `vocab` | `vocab`, `actor` |
//! | `pictures` | `graph`, `timeline` |
//! | `transfer` | `import`, `export`, `verify --export`, `rebuild` |
//! | `proofs` | `key`, `checkpoint`, `prove` (and `--from`), `verify --against` (and `--witness`), `evidence`, `check-evidence` |
//! | `witness` | `witness vkey`, `witness cosign`, `witness serve` (its state directory; `witness/http.rs`: the HTTP server) |
//! | `manual` | `completions`, `man` |
//! | `serve` | `serve`: the ledger over HTTP (tiles, a JSON API, a page) |

mod args;
mod events;
mod failure;
mod flags;
mod gdelt;
mod manual;
mod open;
mod output;
mod pictures;
mod positions;
mod progress;
mod proofs;
mod record;
mod serve;
mod terminal;
mod tlog;
mod transfer;
mod verify;
mod vocab;
mod witness;

use args::{
    AmendArgs, CheckEvidenceArgs, CheckpointArgs, Cli, Command, CompletionsArgs, Deferred,
    EvidenceArgs, ExportArgs, GraphArgs, ImportArgs, ProveArgs, RebuildArgs, ShowArgs, StatusArgs,
    TimelineArgs, VerifyArgs,
};
use clap::Parser;
use failure::{Result, USAGE};
use std::io::{self, Write};
use std::process::ExitCode;
use terminal::FitLines;
// `proofs` paints through `super::`.
use terminal::{paint, GREEN, RED};

/// Runs the command line and returns the exit code.
/// The message of the last panic, for the exit it makes.
static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // A panic (an engine that meets damaged files, a write to a full device)
    // ends the command with exit 3 and a message, never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        // The first panic says what happened; a thread scope that re-panics
        // on joining it says only that a thread did.
        PANIC
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(format!("{what}{at}"));
    }));
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli)));
    let result = match ran {
        Ok(r) => r,
        Err(_) => {
            let what = PANIC
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_default();
            let engine = what.contains("/sled-") || what.contains("/redb-");
            Err(match engine {
                true => failure::Failure::io(format!(
                    "the storage engine failed, which damaged files can make it do: {what}"
                ))
                .hint("the ledger's files are damaged below the chain: restore it from an export (`demarche rebuild`) or a backup"),
                false => failure::Failure::io(format!("the command failed: {what}")),
            })
        }
    };
    match result {
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

fn run(cli: Cli) -> Result<u8> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = run_with(&cli, &mut out);
    open::finish_reads();
    let code = result?;
    out.flush()?;
    Ok(code)
}

fn run_with(cli: &Cli, mut out: &mut impl Write) -> Result<u8> {
    match &cli.command {
        Command::Demo(o) => record::demo(cli, o.0, &mut out),
        Command::Init(_) => record::init(cli, &mut out),
        Command::Append(a) => record::append(cli, a, &mut out),
        Command::Import(Deferred(ImportArgs {
            files,
            format,
            add_actors,
            out: o,
        })) => transfer::import(cli, files, *format, *add_actors, *o, &mut out),
        Command::Export(Deferred(ExportArgs {
            format,
            output,
            force,
        })) => transfer::export(cli, *format, output.as_deref(), *force, &mut out),
        Command::Rebuild(Deferred(RebuildArgs {
            from,
            expect_head,
            out: o,
            ..
        })) => transfer::rebuild(cli, from, expect_head.as_deref(), *o, &mut out),
        Command::Verify(Deferred(VerifyArgs {
            export: Some(file),
            expect_head,
            out: o,
            ..
        })) => transfer::verify_export(file, expect_head.as_deref(), *o, &mut out),
        Command::Verify(Deferred(VerifyArgs {
            against: Some(file),
            expect_head,
            key,
            witnesses,
            out: o,
            ..
        })) => proofs::verify_against(
            cli,
            file,
            proofs::Against {
                key: key.as_deref(),
                witnesses,
                expect_head: expect_head.as_deref(),
            },
            *o,
            &mut out,
        ),
        Command::Key(k) => proofs::key(k, &mut out),
        Command::Publish(a) => tlog::publish(cli, a, &mut out),
        Command::Follow(a) => tlog::follow(cli, a, &mut out),
        Command::Clone(a) => tlog::clone(cli, a, &mut out),
        Command::Checkpoint(Deferred(CheckpointArgs { sign, out: o })) => {
            proofs::checkpoint(cli, sign.as_deref(), *o, &mut out)
        }
        Command::Prove(Deferred(ProveArgs {
            from: Some(from),
            key,
            out: o,
            ..
        })) => proofs::prove_from(cli, from, key.as_deref(), *o, &mut out),
        Command::Prove(Deferred(ProveArgs {
            seq,
            checkpoint,
            key,
            out: o,
            ..
        })) => proofs::prove(
            cli,
            seq.expect("clap requires a seq without --from"),
            checkpoint.as_deref(),
            key.as_deref(),
            *o,
            &mut out,
        ),
        Command::Witness(w) => witness::run(w, &mut out),
        Command::Evidence(Deferred(EvidenceArgs {
            query,
            view,
            sign,
            output,
            force,
        })) => proofs::evidence(cli, query, view.as_deref(), sign, output, *force),
        Command::Status(Deferred(StatusArgs {
            verify: check,
            out: o,
        })) => verify::status(cli, *check, *o, &mut out),
        Command::Completions(Deferred(CompletionsArgs { shell })) => {
            manual::completions(shell, &mut out)
        }
        Command::Man => manual::man(&mut out),
        Command::Graph(Deferred(GraphArgs {
            query,
            view,
            format,
            labels,
            max_nodes,
            output,
            force,
        })) => pictures::graph(
            cli,
            query,
            view.as_deref(),
            format,
            &pictures::Look {
                labels: *labels,
                max_nodes: *max_nodes,
                output: output.as_deref(),
                force: *force,
            },
            &mut out,
        ),
        Command::Timeline(Deferred(TimelineArgs {
            party,
            subject,
            location,
            predicate,
            stance,
            coder,
            from,
            to,
            as_of,
            lanes,
            labels,
            output,
            force,
            members,
            ..
        })) => pictures::timeline(
            cli,
            &events::SelectionFlags {
                party: party.as_deref(),
                subject: subject.as_deref(),
                location: location.as_deref(),
                predicate: predicate.as_deref(),
                stance: stance.as_deref(),
                from: from.as_deref(),
                to: as_of.as_deref().or(to.as_deref()),
                no_members: members.no_members,
                coded_by: coder.coded_by.as_deref(),
                min_mentions: coder.min_mentions,
                ..events::SelectionFlags::default()
            },
            lanes,
            &pictures::Look {
                labels: *labels,
                max_nodes: 0,
                output: output.as_deref(),
                force: *force,
            },
            &mut out,
        ),
        Command::CheckEvidence(Deferred(CheckEvidenceArgs {
            bundle,
            key,
            out: o,
        })) => proofs::check_evidence(bundle, key, *o, &mut out),
        Command::Log(a) if !a.out.json => events::log(cli, a, &mut FitLines::new(&mut out)),
        Command::Log(a) => events::log(cli, a, &mut out),
        Command::Show(Deferred(ShowArgs { seq, out: o })) => events::show(cli, seq, *o, &mut out),
        Command::Amend(Deferred(AmendArgs {
            event,
            reason,
            file,
            allow_duplicate,
            out: o,
        })) => record::amend(
            cli,
            record::Amend {
                which: event,
                reason: reason.as_deref(),
                file: file.as_deref(),
                allow_duplicate: *allow_duplicate,
                json: o.json,
            },
            &mut out,
        ),
        Command::Verify(Deferred(VerifyArgs {
            expect_head,
            export: None,
            against: None,
            chain_only,
            out: o,
            ..
        })) => verify::verify(cli, expect_head.as_deref(), *chain_only, *o, &mut out),
        Command::Head(o) => verify::head(cli, o.0, &mut out),
        Command::Actor(a) => vocab::actor(cli, a, &mut out),
        Command::Positions(a) if !a.out.json => {
            positions::positions(cli, a, &mut FitLines::new(&mut out))
        }
        Command::Positions(a) => positions::positions(cli, a, &mut out),
        Command::Vocab(o) => vocab::vocab(o.0, &mut out),
        Command::History(a) if !a.out.json => events::history(cli, a, &mut FitLines::new(&mut out)),
        Command::History(a) => events::history(cli, a, &mut out),
        Command::Diff(a) if !a.out.json => positions::diff(cli, a, &mut FitLines::new(&mut out)),
        Command::Diff(a) => positions::diff(cli, a, &mut out),
        Command::Serve(a) => serve::serve(cli, a),
    }
}
