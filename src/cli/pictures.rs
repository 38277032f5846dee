//! `graph` and `timeline`: positions and statements drawn.

use super::args::{Cli, QueryArgs};
use super::failure::Result;
use super::flags::{parse_date_flag, query_from, resolve_flag};
use super::open::{open, open_query};
use super::output::Sink;
use demarche::draw::{self, Caption, Lanes};
use demarche::event::{Event, Recorded};
use std::io::Write;
use std::path::Path;

/// Filters in words, for a caption.
fn filters_text(parts: &[(&str, &Option<String>)]) -> String {
    parts
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write(output: Option<&Path>, force: bool, out: &mut impl Write, text: &str) -> Result<()> {
    let mut sink = Sink::new(output, force, out)?;
    if let Err(e) = sink.writer().write_all(text.as_bytes()) {
        sink.abandon();
        return Err(e.into());
    }
    if let Some(path) = sink.finish()? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// `demarche graph`.
pub fn graph(
    cli: &Cli,
    q: &QueryArgs,
    view: Option<&str>,
    format: &str,
    output: Option<&Path>,
    force: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let mut ledger = open_query(cli)?;
    let query = query_from(&mut ledger, q)?;
    let filter = &query.filter;
    let mut positions = ledger.positions(&query)?;
    positions.retain(|p| super::positions::in_view(p, view));
    if positions.is_empty() {
        eprintln!("no positions match; the picture says so");
    }
    let caption = Caption {
        as_of: query.as_of,
        known_at: q.known_at.clone(),
        head: ledger.head()?,
        filters: filters_text(&[
            ("party", &filter.party),
            ("stance", &filter.stance),
            ("predicate", &filter.predicate),
            ("subject", &filter.subject),
            ("location", &filter.location),
            ("view", &view.map(str::to_string)),
        ]),
    };
    let g = draw::graph(&positions, ledger.actors()?, &caption);
    let text = match format {
        "dot" => draw::graph_dot(&g),
        "json" => format!("{}\n", draw::graph_json(&g)),
        _ => draw::graph_svg(&g),
    };
    write(output, force, out, &text)?;
    Ok(0)
}

/// Which statements `timeline` draws (the flags as given).
pub struct TimelineSelection<'a> {
    pub party: &'a Option<String>,
    pub subject: &'a Option<String>,
    pub location: &'a Option<String>,
    pub predicate: &'a Option<String>,
    pub stance: &'a Option<String>,
    pub from: &'a Option<String>,
    pub to: &'a Option<String>,
}

/// `demarche timeline`.
pub fn timeline(
    cli: &Cli,
    sel: &TimelineSelection<'_>,
    lanes: &str,
    output: Option<&Path>,
    force: bool,
    out: &mut impl Write,
) -> Result<u8> {
    let (from, to) = (sel.from, sel.to);
    let from_date = parse_date_flag(from.as_deref(), "from")?;
    let to_date = parse_date_flag(to.as_deref(), "to")?;
    super::flags::check_predicate(sel.predicate.as_deref())?;
    super::flags::check_stance(sel.stance.as_deref())?;
    let ledger = open(cli, false)?;
    let actors = ledger.actors()?.clone();
    let party = resolve_flag(&actors, sel.party.as_deref(), "party")?;
    let subject = resolve_flag(&actors, sel.subject.as_deref(), "subject")?;
    let location = resolve_flag(&actors, sel.location.as_deref(), "location")?;
    // An actor stands for itself and the actors that belong to it.
    let (parties, subjects, locations) = (
        super::flags::family(&actors, party.clone()),
        super::flags::family(&actors, subject.clone()),
        super::flags::family(&actors, location.clone()),
    );
    let (predicate, stance) = (sel.predicate, sel.stance);
    // Only what the picture shows is kept: the statements that match, and the
    // corrections and retractions (which say what became of them). A joint
    // statement is a statement of each of its parties.
    let wanted = |s: &demarche::event::Statement| {
        parties
            .as_ref()
            .is_none_or(|f| s.parties().any(|x| f.contains(x)))
            && subjects
                .as_ref()
                .is_none_or(|f| s.proposition.subjects.iter().any(|x| f.contains(x)))
            && locations.as_ref().is_none_or(|f| {
                s.proposition
                    .location
                    .as_ref()
                    .is_some_and(|l| f.contains(l))
            })
            && predicate
                .as_ref()
                .is_none_or(|x| &s.proposition.predicate == x)
            && stance.as_ref().is_none_or(|x| &s.stance == x)
            && from_date.is_none_or(|d| s.said_on.date >= d)
            && to_date.is_none_or(|d| s.said_on.date <= d)
    };
    let mut records: Vec<Recorded> = Vec::new();
    for r in ledger.iter(1, u64::MAX)? {
        let r = r?;
        let keep = match &r.event {
            Some(Event::Statement(s)) => wanted(s),
            Some(Event::Correction(_) | Event::Retraction(_)) => true,
            _ => false,
        };
        if keep {
            records.push(r);
        }
    }
    let events: Vec<draw::TimelineEvent> = draw::timeline_events(&records)
        .into_iter()
        .filter(|e| {
            parties.as_ref().is_none_or(|f| {
                f.contains(&e.party) || e.terms.joint_with.iter().any(|p| f.contains(p))
            })
        })
        .filter(|e| {
            subjects
                .as_ref()
                .is_none_or(|f| e.subjects.iter().any(|s| f.contains(s)))
        })
        .collect();
    if events.is_empty() {
        eprintln!("no statements match; the picture says so");
    }
    let caption = Caption {
        as_of: to_date,
        known_at: None,
        head: ledger.head()?,
        filters: filters_text(&[
            ("party", &party),
            ("subject", &subject),
            ("location", &location),
            ("predicate", predicate),
            ("stance", stance),
            ("from", from),
            ("to", to),
        ]),
    };
    let lanes = if lanes == "proposition" {
        Lanes::ByProposition
    } else {
        Lanes::ByParty
    };
    let svg = draw::timeline_svg(&events, lanes, from_date, to_date, &actors, &caption);
    write(output, force, out, &svg)?;
    Ok(0)
}
