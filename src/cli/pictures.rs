//! `graph` and `timeline`: positions and statements drawn.

use super::args::{Cli, LabelsArg, QueryArgs};
use super::failure::Result;
use super::flags::query_on;
use super::open::open;
use super::output::Sink;
use demarche::draw::{self, Caption, Labels, Lanes};
use demarche::event::{Event, Recorded};
use demarche::ledger::Ledger;
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

/// How a picture is drawn and where it goes.
pub struct Look<'a> {
    /// How actors are named.
    pub labels: LabelsArg,
    /// The most actors a graph draws (0: no limit).
    pub max_nodes: usize,
    /// The file to write (`None`: stdout).
    pub output: Option<&'a Path>,
    /// Overwrite the file.
    pub force: bool,
}

impl Look<'_> {
    fn labels(&self) -> Labels {
        match self.labels {
            LabelsArg::Name => Labels::Name,
            LabelsArg::Id => Labels::Id,
            LabelsArg::Full => Labels::Full,
        }
    }
}

/// `demarche graph`.
pub fn graph(
    cli: &Cli,
    q: &QueryArgs,
    view: Option<&str>,
    format: &str,
    look: &Look<'_>,
    out: &mut impl Write,
) -> Result<u8> {
    let mut notes = Vec::new();
    let text = graph_on(&open(cli, false)?, q, view, format, look, &mut notes);
    for n in notes {
        eprintln!("{n}");
    }
    write(look.output, look.force, out, &text?)?;
    Ok(0)
}

/// The graph `demarche graph` draws, from an open ledger, in `format`;
/// what stderr should say about it is pushed to `notes`.
pub(super) fn graph_on(
    ledger: &Ledger,
    q: &QueryArgs,
    view: Option<&str>,
    format: &str,
    look: &Look<'_>,
    notes: &mut Vec<String>,
) -> Result<String> {
    let query = query_on(ledger, q)?;
    let filter = &query.filter;
    // Only the positions shown are built.
    let positions: Vec<_> = ledger
        .answer(&query)?
        .iter()
        .filter(|p| view.is_none_or(|v| p.in_view(v)))
        .map(|p| p.to_position())
        .collect();
    if positions.is_empty() {
        notes.push("no positions match; the picture says so".into());
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
    let g = draw::graph_with(&positions, ledger.actors()?, &caption, look.labels());
    let g = match look.max_nodes {
        0 => g,
        n => {
            let actors = g.nodes.len();
            let (g, folded) = draw::fold(g, n);
            if folded.positions > 0 {
                notes.push(format!(
                    "{actors} actors are more than --max-nodes {n}: the {} parties and {} subjects or places with the fewest positions are joined, and {} of the {} positions drawn as {} joined arrows",
                    folded.parties,
                    folded.targets,
                    folded.positions,
                    folded.edges.0,
                    folded.edges.1 - (folded.edges.0 - folded.positions)
                ));
                notes.push("hint: narrow the selection (--party, --location, --predicate, --view), or raise --max-nodes (0: no limit)".into());
            }
            g
        }
    };
    Ok(match format {
        "dot" => draw::graph_dot(&g),
        "json" => format!("{}\n", draw::graph_json(&g)),
        _ => draw::graph_svg(&g),
    })
}

/// `demarche timeline`: the statements `flags` select.
pub fn timeline(
    cli: &Cli,
    flags: &super::events::SelectionFlags<'_>,
    lanes: &str,
    look: &Look<'_>,
    out: &mut impl Write,
) -> Result<u8> {
    let mut notes = Vec::new();
    let svg = timeline_on(&open(cli, false)?, flags, lanes, look, &mut notes);
    for n in notes {
        eprintln!("{n}");
    }
    write(look.output, look.force, out, &svg?)?;
    Ok(0)
}

/// The timeline `demarche timeline` draws, from an open ledger, as SVG;
/// what stderr should say about it is pushed to `notes`.
pub(super) fn timeline_on(
    ledger: &Ledger,
    flags: &super::events::SelectionFlags<'_>,
    lanes: &str,
    look: &Look<'_>,
    notes: &mut Vec<String>,
) -> Result<String> {
    let actors = ledger.actors()?.clone();
    let sel = flags.resolve(&actors)?;
    // Only what the picture shows is kept: the statements that match, and the
    // corrections and retractions (which say what became of them). A joint
    // statement is a statement of each of its parties.
    let wanted = |s: &demarche::event::Statement| sel.keeps(s, &actors);
    let mut records: Vec<Recorded> = Vec::new();
    let keep = |_, _, e: Option<&Event>| match e {
        Some(Event::Statement(s)) => wanted(s),
        Some(Event::Correction(_) | Event::Retraction(_)) => true,
        _ => false,
    };
    // A statement is tested first as stored, before it is decoded (the
    // picture shows statements as recorded).
    let might_keep = |_, f: &demarche::event::StatementFields<'_>| sel.might_keep(f);
    // Where a positions snapshot says which statements may match, only
    // those (and the corrections and retractions) are read.
    let parties = sel.party.as_deref();
    ledger.each_kept_by_selection(1, parties, might_keep, keep, |r| {
        records.push(r);
        Ok(true)
    })?;
    let events: Vec<draw::TimelineEvent> = draw::timeline_events(&records)
        .into_iter()
        .filter(|e| {
            sel.party.as_ref().is_none_or(|f| {
                f.contains(&e.party) || e.terms.joint_with.iter().any(|p| f.contains(p))
            })
        })
        .filter(|e| {
            sel.subject
                .as_ref()
                .is_none_or(|f| e.subjects.iter().any(|s| f.contains(s)))
        })
        .collect();
    if events.is_empty() {
        notes.push("no statements match; the picture says so".into());
    }
    // The caption names each actor by its id, the rest as given.
    let id = |f: &Option<Vec<String>>| f.as_ref().and_then(|v| v.first().cloned());
    let given = |v: Option<&str>| v.map(str::to_string);
    let caption = Caption {
        as_of: sel.to,
        known_at: None,
        head: ledger.head()?,
        filters: filters_text(&[
            ("party", &id(&sel.party)),
            ("subject", &id(&sel.subject)),
            ("location", &id(&sel.location)),
            ("predicate", &given(flags.predicate)),
            ("stance", &given(flags.stance)),
            ("from", &given(flags.from)),
            ("to", &given(flags.to)),
        ]),
    };
    let lanes = if lanes == "proposition" {
        Lanes::ByProposition
    } else {
        Lanes::ByParty
    };
    Ok(draw::timeline_svg_with(
        &events,
        lanes,
        sel.from,
        sel.to,
        &actors,
        &caption,
        look.labels(),
    ))
}
