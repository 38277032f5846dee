//! `positions` and `diff`: positions as tables, as named views and as JSON.

use super::args::{Cli, DiffArgs, PositionsArgs, Selection};
use super::events::{asked_text, push_proposition_words};
use super::failure::{Failure, Result};
use super::flags::{filter_from, parse_date_flag, parse_known_at, query_on};
use super::open::open;
use super::terminal::{align, Columns};
use demarche::dates;
use demarche::json::view;
use demarche::ledger::Ledger;
use demarche::projection::{self, ChangeRef, PositionRef, Query};
use demarche::vocab::{Actors, Modality, Vocabulary};
use std::io::Write;

fn proposition_text(p: &PositionRef<'_>) -> String {
    let mut d = String::new();
    push_proposition(&mut d, p);
    d
}

fn push_proposition(d: &mut String, p: &PositionRef<'_>) {
    push_proposition_words(
        d,
        p.predicate,
        p.document,
        p.subject.unwrap_or(""),
        p.qualifier,
        p.location,
    );
}

/// What the statement that set a position said besides its stance: `  by
/// DEADLINE (CONDITION), jointly with A, B`, or nothing.
fn terms_text(p: &PositionRef<'_>) -> String {
    let mut d = String::new();
    push_terms(&mut d, p);
    d
}

/// Appends [`terms_text`] to `d`.
fn push_terms(d: &mut String, p: &PositionRef<'_>) {
    use std::fmt::Write as _;
    let t = p.terms;
    if let Some(dl) = &t.deadline {
        let _ = write!(d, "  by {dl}");
    }
    if let Some(c) = &t.condition {
        d.extend(["  (", c, ")"]);
    }
    if !t.joint_with.is_empty() {
        d.push_str("  jointly with ");
        for (i, j) in t.joint_with.iter().enumerate() {
            if i > 0 {
                d.push_str(", ");
            }
            d.push_str(j);
        }
    }
}

fn stance_text(p: &PositionRef<'_>) -> String {
    let label = Vocabulary::builtin()
        .stance(p.stance)
        .map_or(p.stance, |s| s.label.as_str())
        .to_string();
    match p.hedge {
        Some(h) => format!("{label} (hedged: {h})"),
        None => label,
    }
}

fn seqs_text(seqs: &[u64]) -> String {
    let mut s = String::with_capacity(seqs.len() * 8);
    push_seqs(&mut s, seqs);
    s
}

/// Appends the seqs, separated by commas.
fn push_seqs(s: &mut String, seqs: &[u64]) {
    for (i, seq) in seqs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(itoa::Buffer::new().format(*seq));
    }
}

fn actor_name(actors: &Actors, id: &str) -> String {
    actors
        .get(id)
        .map_or(id.to_string(), |a| format!("{id} ({})", a.def.name))
}

/// ` [qualifier]`, or nothing.
fn qualifier_text(p: &PositionRef<'_>) -> String {
    p.qualifier.map_or(String::new(), |q| format!(" [{q}]"))
}

/// Positions in a named view (`withdrawal`, `presence`): grouped under
/// headings of their own, every group's columns lined up.
pub(super) fn print_view(
    out: &mut impl Write,
    ps: &[PositionRef<'_>],
    view: &str,
    actors: &Actors,
) -> Result<()> {
    let since = |p: &PositionRef<'_>| format!("since {}", dates::format_said_on(&p.said_on));
    let seqs = |p: &PositionRef<'_>| format!("(seq {}){}", seqs_text(p.statements), terms_text(p));
    match view {
        "withdrawal" => {
            writeln!(out, "Who demands withdrawal from whom")?;
            let mut by_subject: std::collections::BTreeMap<
                (Option<&str>, Option<&str>),
                Vec<&PositionRef<'_>>,
            > = std::collections::BTreeMap::new();
            for p in ps.iter().filter(|p| {
                p.predicate == "withdrawal"
                    && matches!(projection::stance_kind(p.stance), "demand" | "appeal")
            }) {
                by_subject
                    .entry((p.subject, p.location))
                    .or_default()
                    .push(p);
            }
            // One set of columns for every group, so that they line up.
            let rows: Vec<Vec<String>> = by_subject
                .values()
                .flatten()
                .map(|p| {
                    let kind = if projection::stance_kind(p.stance) == "demand" {
                        "DEMAND"
                    } else {
                        "call"
                    };
                    vec![
                        p.party.to_string(),
                        stance_text(p),
                        format!("{kind}{}", qualifier_text(p)),
                        since(p),
                        seqs(p),
                    ]
                })
                .collect();
            let mut lines = align(&rows, "  ").into_iter();
            for ((subject, location), list) in &by_subject {
                let who = subject.map_or("(no subject)".to_string(), |s| actor_name(actors, s));
                let from = location.map_or(String::new(), |l| {
                    format!(" to leave {}", actor_name(actors, l))
                });
                writeln!(out, "\n{who}, asked{from}:")?;
                for line in lines.by_ref().take(list.len()) {
                    writeln!(out, "{line}")?;
                }
            }
            // What the parties themselves say they will (or will not) do: a
            // commitment stands beside the demands, it does not answer them.
            let commitments: Vec<Vec<String>> = ps
                .iter()
                .filter(|p| p.predicate == "withdrawal" && p.modality == Modality::Commissive)
                .map(|p| {
                    vec![
                        p.party.to_string(),
                        stance_text(p),
                        proposition_text(p),
                        since(p),
                        seqs(p),
                    ]
                })
                .collect();
            if !commitments.is_empty() {
                writeln!(out, "\nWho says it will withdraw, or will not")?;
                for line in align(&commitments, "  ") {
                    writeln!(out, "{line}")?;
                }
            }
        }
        "presence" => {
            writeln!(
                out,
                "Who asserts, denies, acknowledges or accuses presence where"
            )?;
            let mut by_place: std::collections::BTreeMap<Option<&str>, Vec<&PositionRef<'_>>> =
                std::collections::BTreeMap::new();
            for p in ps
                .iter()
                .filter(|p| p.predicate == "presence" && p.modality == Modality::Epistemic)
            {
                by_place.entry(p.location).or_default().push(p);
            }
            let rows: Vec<Vec<String>> = by_place
                .values()
                .flatten()
                .map(|p| {
                    let what = p.subject.unwrap_or("(unnamed)");
                    vec![
                        p.party.to_string(),
                        format!("{} presence of {what}{}", stance_text(p), qualifier_text(p)),
                        since(p),
                        seqs(p),
                    ]
                })
                .collect();
            let mut lines = align(&rows, "  ").into_iter();
            for (place, list) in &by_place {
                let place = place.map_or("(no place)".to_string(), |l| actor_name(actors, l));
                writeln!(out, "\nin {place}:")?;
                for line in lines.by_ref().take(list.len()) {
                    writeln!(out, "{line}")?;
                }
            }
        }
        other => unreachable!("no view is named {other}"),
    }
    Ok(())
}

/// Positions as one table, written as they come (see [`Columns`]).
fn print_table<'a>(out: &mut impl Write, ps: impl Iterator<Item = PositionRef<'a>>) -> Result<()> {
    let mut table = Columns::new(
        &["party", "stance", "proposition", "since", "statements"],
        &[],
    );
    // A ledger names few stances and hedges: each is looked up once.
    let mut stances: rustc_hash::FxHashMap<(&str, Option<&str>), String> =
        rustc_hash::FxHashMap::default();
    // The cells made for each row, kept from row to row.
    let (mut proposition, mut since, mut statements) = (String::new(), Vec::new(), String::new());
    for p in ps {
        let stance = stances
            .entry((p.stance, p.hedge))
            .or_insert_with(|| stance_text(&p));
        proposition.clear();
        push_proposition(&mut proposition, &p);
        since.clear();
        dates::push_said_on(&mut since, &p.said_on);
        statements.clear();
        push_seqs(&mut statements, p.statements);
        push_terms(&mut statements, &p);
        table.push_cells(
            out,
            &[
                p.party,
                stance,
                &proposition,
                std::str::from_utf8(&since).expect("a date is ASCII"),
                &statements,
            ],
        )?;
    }
    table.finish(out)?;
    Ok(())
}

/// What a positions question asked, as its flags were given.
fn query_asked(as_of: Option<&str>, known_at: Option<&str>, s: &Selection) -> String {
    asked_text(&[
        ("as-of", as_of),
        ("known-at", known_at),
        ("party", s.party.as_deref()),
        ("stance", s.stance.as_deref()),
        ("predicate", s.predicate.as_deref()),
        ("subject", s.subject.as_deref()),
        ("location", s.location.as_deref()),
    ])
}

/// `demarche positions`.
pub(super) fn positions(cli: &Cli, a: &PositionsArgs, out: &mut impl Write) -> Result<u8> {
    positions_on(&open(cli, false)?, a, out)
}

/// `demarche positions` on an open ledger.
pub(super) fn positions_on(ledger: &Ledger, a: &PositionsArgs, out: &mut impl Write) -> Result<u8> {
    let query = query_on(ledger, &a.query)?;
    // Written from the fold's own strings: no position is built.
    let answer = if a.replay {
        ledger.answer_replay(&query)?
    } else {
        ledger.answer(&query)?
    };
    let shown = |p: &PositionRef<'_>| a.view.as_deref().is_none_or(|v| p.in_view(v));
    if a.out.json {
        // Each line is made in memory and written whole: cheaper than many
        // small writes through the output's buffer.
        let mut line = Vec::with_capacity(512);
        let mut writer = view::PositionWriter::default();
        for p in answer.iter().filter(shown) {
            line.clear();
            writer.write(&p, &mut line);
            line.push(b'\n');
            out.write_all(&line)?;
        }
        return Ok(0);
    }
    if !answer.iter().any(|p| shown(&p)) {
        let q = &a.query;
        let mut asked = query_asked(q.as_of.as_deref(), q.known_at.as_deref(), &q.selection);
        if let Some(v) = &a.view {
            asked = match asked.strip_prefix(" (") {
                Some(rest) => format!(" (--view {v}, {rest}"),
                None => format!(" (--view {v})"),
            };
        }
        eprintln!("no positions match{asked}");
        return Ok(0);
    }
    match a.view.as_deref() {
        Some(v) => {
            let ps: Vec<PositionRef<'_>> = answer.iter().filter(shown).collect();
            print_view(out, &ps, v, ledger.actors()?)?;
        }
        None => print_table(out, answer.iter())?,
    }
    Ok(0)
}

/// `demarche diff`.
pub(super) fn diff(cli: &Cli, a: &DiffArgs, out: &mut impl Write) -> Result<u8> {
    // Bad dates are refused before the ledger is opened.
    diff_dates(a)?;
    diff_on(&open(cli, false)?, a, out)
}

/// The two dates of `diff`, in order.
fn diff_dates(a: &DiffArgs) -> Result<(Option<jiff::civil::Date>, Option<jiff::civil::Date>)> {
    let from = parse_date_flag(Some(&a.from), "from")?;
    let to = parse_date_flag(Some(&a.to), "to")?;
    if from > to {
        return Err(Failure::usage("--from must not be after --to"));
    }
    Ok((from, to))
}

/// `demarche diff` on an open ledger.
pub(super) fn diff_on(ledger: &Ledger, a: &DiffArgs, out: &mut impl Write) -> Result<u8> {
    let (from, to) = diff_dates(a)?;
    let known_at = parse_known_at(a.known_at.as_deref(), ledger)?;
    let filter = filter_from(ledger, &a.selection)?;
    let at = |d| Query {
        as_of: d,
        known_at,
        filter: filter.clone(),
    };
    // Both answers are read borrowed, in key order, side by side.
    let (before, after) = (ledger.answer(&at(from))?, ledger.answer(&at(to))?);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut line = Vec::with_capacity(1024);
    let mut writer = view::PositionWriter::default();
    let mut any = false;
    for c in projection::changes(before.iter(), after.iter()) {
        any = true;
        if a.out.json {
            line.clear();
            let (change, from, to) = match c {
                ChangeRef::Appeared(p) => ("appeared", None, p),
                ChangeRef::Ended(p) => ("ended", None, p),
                ChangeRef::Changed { from, to } => ("changed", Some(from), to),
            };
            line.extend_from_slice(b"{\"change\":\"");
            line.extend_from_slice(change.as_bytes());
            line.extend_from_slice(b"\"");
            if let Some(from) = from {
                line.extend_from_slice(b",\"from\":");
                writer.write(&from, &mut line);
            }
            line.extend_from_slice(b",\"position\":");
            writer.write(&to, &mut line);
            line.extend_from_slice(b"}\n");
            out.write_all(&line)?;
            continue;
        }
        rows.push(match c {
            ChangeRef::Appeared(p) => vec![
                format!("+ {}", p.party),
                format!(
                    "{} {}  (since {}){}",
                    stance_text(&p),
                    proposition_text(&p),
                    dates::format_said_on(&p.said_on),
                    terms_text(&p)
                ),
            ],
            ChangeRef::Ended(p) => vec![
                format!("- {}", p.party),
                format!("{} {}", stance_text(&p), proposition_text(&p)),
            ],
            ChangeRef::Changed { from, to } => vec![
                format!("~ {}", to.party),
                format!(
                    "{}: {}{} -> {}  (since {}){}",
                    proposition_text(&to),
                    stance_text(&from),
                    terms_text(&from),
                    stance_text(&to),
                    dates::format_said_on(&to.said_on),
                    terms_text(&to)
                ),
            ],
        });
    }
    for line in align(&rows, "") {
        writeln!(out, "{line}")?;
    }
    if !any && !a.out.json {
        eprintln!(
            "no position changed between {} and {}{}",
            a.from,
            a.to,
            query_asked(None, a.known_at.as_deref(), &a.selection)
        );
    }
    Ok(0)
}
