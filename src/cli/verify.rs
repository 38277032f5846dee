//! `verify`, `head` and `status`: the head as a token and as JSON, and verify
//! reports as text and JSON.

use super::args::{Cli, Output};
use super::failure::{Failure, Result, INTEGRITY};
use super::open::{ledger_path, open};
use super::terminal::{paint, GREEN, RED};
use demarche::chain::Problem;
use demarche::dates;
use demarche::event::{Hash, Head};
use demarche::ledger::VerifyReport;
use demarche::store::Engine;
use serde_json::{json, Value};
use std::io::Write;

fn head_json_with_engine(h: &Head, engine: Engine) -> Value {
    let mut v = head_json(h);
    v["engine"] = engine.name().into();
    v
}

pub(super) fn head_json(h: &Head) -> Value {
    json!({
        "size": h.size,
        "hash": h.hash.to_hex(),
        "recorded_at": (h.size > 0).then(|| dates::format_recorded_at(h.recorded_at)),
    })
}

pub(super) fn parse_head_token(s: &str) -> Result<(u64, Hash)> {
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

pub(super) fn verify_json(r: &VerifyReport) -> Value {
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
        "snapshot_checked": r.snapshot_checked,
    })
}

pub(super) fn print_verify(out: &mut impl Write, r: &VerifyReport, as_json: bool) -> Result<()> {
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
            Some(p) if p.seq() == 0 => {
                // Damage that no seq names (a stray key among the blocks).
                writeln!(
                    out,
                    "{}: the store holds what no ledger does",
                    paint("TAMPERED", RED)
                )?;
                writeln!(out, "  {p}")?;
                writeln!(out, "  {} events verified", r.checked)?;
            }
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
    if let Some(Problem::SnapshotMismatch { .. }) = &r.problem {
        eprintln!(
            "hint: the snapshot is derived data; the chain may still be whole (`demarche verify --chain-only`). \
             Remove the ledger's `cache` directory and the next query rebuilds it from the chain. \
             It was sealed under your cache key ($DEMARCHE_CACHE_KEY, or demarche/cache.key in your data directory): \
             whoever wrote it holds that key, so replace it too"
        );
    }
    if r.staged > 0 {
        eprintln!(
            "note: {} events past the head, left by an interrupted batch, were never acknowledged and are ignored",
            r.staged
        );
    }
    Ok(())
}

/// `demarche status`.
pub(super) fn status(cli: &Cli, verify: bool, o: Output, out: &mut impl Write) -> Result<u8> {
    let path = ledger_path(cli)?;
    let ledger = open(cli, false)?;
    let head = ledger.head()?;
    let engine = ledger.store().engine();
    let bytes = ledger.store().disk_bytes();
    let snapshot = ledger.snapshot_seq()?;
    let saving = ledger.snapshots_can_be_saved();
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
                "snapshot_can_be_saved": saving,
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
        // Why no snapshot can be saved, when none can.
        const CANNOT: &str = "`cache/` beside the ledger cannot be written (a read-only file \
                              system?), or there is no cache key";
        match (snapshot, saving) {
            (Some(s), true) => writeln!(
                out,
                "snapshot    positions saved at seq {s} ({} events since)",
                head.size - s
            )?,
            (Some(s), false) => writeln!(
                out,
                "snapshot    positions saved at seq {s} ({} events since); no newer one can be saved: {CANNOT}",
                head.size - s
            )?,
            (None, true) => writeln!(
                out,
                "snapshot    none (a positions query saves one once 10,000 events are unsaved)"
            )?,
            (None, false) => writeln!(
                out,
                "snapshot    none, and none can be saved: {CANNOT}; every positions query reads the chain"
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

/// `demarche verify` of the ledger itself.
pub(super) fn verify(
    cli: &Cli,
    expect_head: Option<&str>,
    chain_only: bool,
    o: Output,
    out: &mut impl Write,
) -> Result<u8> {
    let expect = expect_head.map(parse_head_token).transpose()?;
    let ledger = open(cli, false)?;
    let report = if chain_only {
        ledger.verify_chain(expect)?
    } else {
        ledger.verify(expect)?
    };
    print_verify(out, &report, o.json)?;
    Ok(if report.is_intact() { 0 } else { INTEGRITY })
}

/// `demarche head`.
pub(super) fn head(cli: &Cli, o: Output, out: &mut impl Write) -> Result<u8> {
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
