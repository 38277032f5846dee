//! Writing events: `init`, `demo` and `append`.

use super::args::{AppendArgs, Cli, Output};
use super::events::log_table;
use super::failure::{Failure, Result, INTEGRITY};
use super::open::{forget_if_new, ledger_path, open, open_for_write};
use super::positions::print_positions;
use super::verify::{print_verify, verify_json};
use demarche::event::{Event, Recorded};
use demarche::json::{self, view};
use demarche::projection::{Position, Query};
use serde_json::json;
use std::io::Write;

/// `demarche init`.
pub(super) fn init(cli: &Cli, out: &mut impl Write) -> Result<u8> {
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

/// `demarche demo`.
pub(super) fn demo(cli: &Cli, o: Output, out: &mut impl Write) -> Result<u8> {
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

fn event_from_flags(a: &AppendArgs) -> Result<Event> {
    if let Some(of) = a.retract {
        let reason = a
            .reason
            .clone()
            .ok_or_else(|| Failure::usage("--retract needs --reason"))?;
        let line = json!({"type": "retraction", "of": of, "reason": reason});
        return json::parse_event(&line.to_string()).map_err(Failure::rejected);
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
    if a.speaker.is_some() || a.speaker_actor.is_some() {
        let mut sp = serde_json::Map::new();
        for (k, v) in [
            ("name", &a.speaker),
            ("role", &a.speaker_role),
            ("actor", &a.speaker_actor),
        ] {
            if let Some(v) = v {
                sp.insert(k.into(), v.clone().into());
            }
        }
        m.insert("speaker".into(), sp.into());
    } else if a.speaker_role.is_some() {
        return Err(Failure::usage(
            "--speaker-role needs --speaker or --speaker-actor",
        ));
    }
    if !a.joint_with.is_empty() {
        m.insert("joint_with".into(), a.joint_with.clone().into());
    }
    for (k, v) in [
        ("hedge", &a.hedge),
        ("condition", &a.condition),
        ("deadline", &a.deadline),
        ("quote_kind", &a.quote_kind),
        ("language", &a.language),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), v.clone().into());
        }
    }
    for (k, v) in [
        ("location", &a.location),
        ("qualifier", &a.qualifier),
        ("document", &a.document),
    ] {
        if let Some(v) = v {
            m["proposition"][k] = v.clone().into();
        }
    }
    // The i-th --url, --publisher and --published-on make the i-th source.
    let n = a.url.len().max(a.publisher.len()).max(a.published_on.len());
    let mut sources: Vec<serde_json::Value> = vec![json!({}); n.max(1)];
    for (k, vs) in [
        ("url", &a.url),
        ("publisher", &a.publisher),
        ("published_on", &a.published_on),
    ] {
        for (i, v) in vs.iter().enumerate() {
            sources[i][k] = v.clone().into();
        }
    }
    match sources.len() {
        1 => m.insert("source".into(), sources.remove(0)),
        _ => {
            m.remove("source");
            m.insert("sources".into(), sources.into())
        }
    };
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
    json::parse_event(&line.to_string()).map_err(Failure::rejected)
}

/// `demarche append`.
pub(super) fn append(cli: &Cli, a: &AppendArgs, out: &mut impl Write) -> Result<u8> {
    let event = match &a.json {
        Some(line) => json::parse_event(line.trim_end()).map_err(Failure::rejected)?,
        None => event_from_flags(a)?,
    };
    append_one(cli, event, a.json.is_some(), out)
}

/// Appends one event, to a ledger made now if there is none (and removed again
/// if the event is refused), and prints it: as JSON, or its seq and hash.
pub(super) fn append_one(
    cli: &Cli,
    event: Event,
    as_json: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let (mut ledger, created) = open_for_write(cli)?;
    let r = match ledger.append(event) {
        Ok(r) => r,
        Err(e) => {
            forget_if_new(ledger, created);
            return Err(e.into());
        }
    };
    if as_json {
        writeln!(out, "{}", view::recorded_json(&r))?;
    } else {
        writeln!(out, "appended seq {} hash {}", r.seq, r.hash)?;
    }
    Ok(0)
}
