//! Reading events: `log` (one row each), `show` (one in full) and `history`
//! (a party's or a proposition's statements as they stand, with their sources).

use super::args::{Cli, HistoryArgs, LogArgs, Output};
use super::failure::{Failure, Result};
use super::flags::{
    check_predicate, check_stance, event_named, family, parse_date_flag, resolve_flag, since_flag,
    Since,
};
use super::open::open;
use super::terminal::{Columns, Row};
use demarche::dates;
use demarche::event::{Event, QuoteKind, Recorded, Speaker, Statement, StatementFields};
use demarche::json::view;
use demarche::ledger::Ledger;
use demarche::vocab::{Actors, Vocabulary};
use std::io::Write;

fn describe(s: &Statement) -> String {
    let p = &s.proposition;
    let mut d = proposition_words(
        &p.predicate,
        p.document.as_deref(),
        &p.subjects.join(", "),
        p.qualifier.as_deref(),
        p.location.as_deref(),
    );
    if let Some(dl) = &s.deadline {
        d.push_str(&format!(" by {dl}"));
    }
    if let Some(c) = &s.condition {
        d.push_str(&format!(" ({c})"));
    }
    d
}

/// A proposition as a reader says it, with the words its predicate takes:
/// "withdrawal of RUS, TUR [mercenaries] from LBY", "occupation by RUS of GEO",
/// "sanctions on IRN".
pub(super) fn proposition_words(
    predicate: &str,
    document: Option<&str>,
    subjects: &str,
    qualifier: Option<&str>,
    location: Option<&str>,
) -> String {
    let mut d = String::new();
    push_proposition_words(&mut d, predicate, document, subjects, qualifier, location);
    d
}

/// Appends [`proposition_words`] to `d`.
pub(super) fn push_proposition_words(
    d: &mut String,
    predicate: &str,
    document: Option<&str>,
    subjects: &str,
    qualifier: Option<&str>,
    location: Option<&str>,
) {
    let (of, at) = Vocabulary::builtin().words(predicate);
    d.push_str(predicate);
    if let Some(doc) = document {
        d.push(' ');
        d.push_str(doc);
    }
    if !subjects.is_empty() {
        d.extend([" ", of, " ", subjects]);
    }
    if let Some(q) = qualifier {
        d.extend([" [", q, "]"]);
    }
    if let Some(l) = location {
        d.extend([" ", at, " ", l]);
    }
}

/// The parties of a statement: "BFA", or "BFA+MLI+NER" for a joint one.
fn parties_text(s: &Statement) -> String {
    s.parties()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("+")
}

/// Who spoke: "name, role", or the name alone.
fn speaker_text(sp: &Speaker) -> String {
    match &sp.role {
        Some(role) => format!("{}, {role}", sp.name),
        None => sp.name.clone(),
    }
}

/// Whether `person` (a canonical id) spoke the statement: named as its
/// speaker's actor, or by a name that resolves to them.
fn spoken_by(s: &Statement, person: &str, actors: &Actors) -> bool {
    s.speaker.as_ref().is_some_and(|sp| match &sp.actor {
        Some(a) => a == person,
        None => actors.resolve(&sp.name).is_ok_and(|id| id == person),
    })
}

/// Resolves `--speaker`: a person the registry knows.
fn resolve_speaker(actors: &Actors, name: Option<&str>) -> Result<Option<String>> {
    let Some(id) = resolve_flag(actors, name, "speaker")? else {
        return Ok(None);
    };
    let kind = actors.get(&id).map_or("", |a| a.def.kind.as_str());
    if kind != "person" {
        return Err(
            Failure::usage(format!("--speaker: {id} is a {kind}, not a person"))
                .hint(format!("to find what {id} said, use --party {id}")),
        );
    }
    Ok(Some(id))
}

/// `s` on one line (line breaks and tabs as spaces), cut to `n` characters.
fn clip(s: &str, n: usize) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().count() <= n {
        s
    } else {
        let mut c: String = s.chars().take(n - 1).collect();
        c.push('…');
        c
    }
}

/// An event as a row of `log`: a statement's columns, or a line of its own.
fn summary_row(r: &Recorded, mark: &str) -> Row {
    let seq = r.seq.to_string();
    let line = |text: String| Row::Line(seq.clone(), text + mark);
    match &r.event {
        None => line("(redacted: payload withheld)".into()),
        Some(e) => match e {
            Event::Statement(s) => statement_row(r.seq, None, s, mark),
            Event::Correction(c) => statement_row(r.seq, Some(c.of), &c.statement, mark),
            Event::Retraction(x) => line(format!("retracts {}: {}", x.of, x.reason)),
            Event::Actor(a) => line(format!("actor {} \"{}\" ({})", a.id, a.name, a.kind)),
            Event::Alias(a) => line(format!("alias \"{}\" for {}", a.alias, a.actor)),
            Event::Role(x) => line(format!(
                "role {}: {}, for {}, from {}{}",
                x.actor,
                x.role,
                x.of,
                x.from,
                x.until.map_or(String::new(), |u| format!(" to {u}"))
            )),
        },
    }
}

fn statement_row(seq: u64, corrects: Option<u64>, s: &Statement, mark: &str) -> Row {
    let mut stance = match &s.hedge {
        Some(_) => format!("{} (hedged)", s.stance),
        None => s.stance.clone(),
    };
    if let Some(of) = corrects {
        stance = format!("corrects {of}: {stance}");
    }
    Row::Cells(vec![
        seq.to_string(),
        dates::format_said_on(&s.said_on),
        parties_text(s),
        stance,
        describe(s),
        format!("\"{}\"{mark}", clip(&s.quote, 60)),
    ])
}

/// The flags given, as ` (--party USA, --from 2021)`, or nothing.
pub(super) fn asked_text(flags: &[(&str, Option<&str>)]) -> String {
    let given: Vec<String> = flags
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("--{k} {v}")))
        .collect();
    if given.is_empty() {
        String::new()
    } else {
        format!(" ({})", given.join(", "))
    }
}

/// The selection flags of the commands that read statements (`log`,
/// `history`, `timeline`), as given.
#[derive(Default)]
pub(super) struct SelectionFlags<'a> {
    pub party: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub location: Option<&'a str>,
    pub speaker: Option<&'a str>,
    pub predicate: Option<&'a str>,
    pub stance: Option<&'a str>,
    pub search: Option<&'a str>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    /// `--no-members`: an actor stands for itself alone.
    pub no_members: bool,
    pub coded_by: Option<&'a str>,
    pub min_mentions: Option<u32>,
}

/// Which statements to show, checked and resolved: an actor stands for
/// itself and the actors that belong to it. Empty fields match anything.
pub(super) struct Selected {
    pub party: Option<Vec<String>>,
    pub subject: Option<Vec<String>>,
    pub location: Option<Vec<String>>,
    speaker: Option<String>,
    predicate: Option<String>,
    stance: Option<String>,
    /// Lower-case.
    search: Option<String>,
    pub from: Option<jiff::civil::Date>,
    pub to: Option<jiff::civil::Date>,
    coded_by: Option<String>,
    min_mentions: Option<u32>,
}

impl SelectionFlags<'_> {
    /// What was asked, as the flags were given: ` (--party USA, --from 2021)`,
    /// or nothing when no flag was.
    pub(super) fn asked(&self) -> String {
        asked_text(&[
            ("party", self.party),
            ("subject", self.subject),
            ("location", self.location),
            ("speaker", self.speaker),
            ("predicate", self.predicate),
            ("stance", self.stance),
            ("search", self.search),
            ("from", self.from),
            ("to", self.to),
        ])
    }

    /// Checks the flags against the vocabulary and resolves their actors.
    pub(super) fn resolve(&self, actors: &Actors) -> Result<Selected> {
        check_predicate(self.predicate)?;
        check_stance(self.stance)?;
        let actor = |v, flag| -> Result<Option<Vec<String>>> {
            Ok(family(
                actors,
                resolve_flag(actors, v, flag)?,
                self.no_members,
            ))
        };
        Ok(Selected {
            party: actor(self.party, "party")?,
            subject: actor(self.subject, "subject")?,
            location: actor(self.location, "location")?,
            speaker: resolve_speaker(actors, self.speaker)?,
            predicate: self.predicate.map(str::to_string),
            stance: self.stance.map(str::to_string),
            search: self.search.map(str::to_lowercase),
            from: parse_date_flag(self.from, "from")?,
            to: parse_date_flag(self.to, "to")?,
            coded_by: self.coded_by.map(str::to_string),
            min_mentions: self.min_mentions,
        })
    }
}

impl Selected {
    /// Whether nothing is selected by.
    pub(super) fn is_empty(&self) -> bool {
        self.party.is_none()
            && self.subject.is_none()
            && self.location.is_none()
            && self.speaker.is_none()
            && self.predicate.is_none()
            && self.stance.is_none()
            && self.search.is_none()
            && self.from.is_none()
            && self.to.is_none()
            && self.coded_by.is_none()
            && self.min_mentions.is_none()
    }

    /// Whether a statement with these fields may be selected: `false` only
    /// when [`Selected::keeps`] would refuse it (its speaker, quote and
    /// coder are not among the fields, and are left to `keeps`).
    pub(super) fn might_keep(&self, f: &StatementFields<'_>) -> bool {
        self.selects_fields(
            f.parties(),
            f.subjects.iter().copied(),
            f.location,
            f.predicate,
            f.stance,
            f.said_on,
        )
    }

    /// Whether the statement is selected (a joint statement by any of its parties).
    pub(super) fn keeps(&self, s: &Statement, actors: &Actors) -> bool {
        let p = &s.proposition;
        self.selects_fields(
            s.parties().map(String::as_str),
            p.subjects.iter().map(String::as_str),
            p.location.as_deref(),
            &p.predicate,
            &s.stance,
            s.said_on.date,
        ) && self
            .speaker
            .as_ref()
            .is_none_or(|x| spoken_by(s, x, actors))
            && self
                .search
                .as_ref()
                .is_none_or(|t| s.quote.to_lowercase().contains(t.as_str()))
            && demarche::projection::coder_admits(
                self.coded_by.as_deref(),
                self.min_mentions,
                s.coded.as_deref(),
            )
    }

    /// The tests of [`Selected::keeps`] on the fields a statement's stored
    /// bytes give before it is decoded ([`StatementFields`]): one test for
    /// both, so that [`Selected::might_keep`] never refuses what `keeps`
    /// keeps.
    fn selects_fields<'a>(
        &self,
        parties: impl Iterator<Item = &'a str>,
        subjects: impl Iterator<Item = &'a str>,
        location: Option<&'a str>,
        predicate: &str,
        stance: &str,
        said_on: jiff::civil::Date,
    ) -> bool {
        fn among<'a>(set: &Option<Vec<String>>, mut ids: impl Iterator<Item = &'a str>) -> bool {
            set.as_ref()
                .is_none_or(|set| ids.any(|x| set.iter().any(|s| s == x)))
        }
        among(&self.party, parties)
            && among(&self.subject, subjects)
            && among(&self.location, location.into_iter())
            && self.predicate.as_ref().is_none_or(|x| predicate == x)
            && self.stance.as_ref().is_none_or(|x| stance == x)
            && self.from.is_none_or(|d| said_on >= d)
            && self.to.is_none_or(|d| said_on <= d)
    }
}

/// What became of a statement or correction: `standing`, `corrected` (with
/// the seq of the correction that stands) or `retracted` (with the seq of the
/// retraction, when one names it); `None` for others.
pub(super) type Status = Option<(&'static str, Option<u64>)>;

/// Whether a statement or correction still stands: `standing`,
/// `retracted`, or `corrected` (with the seq of the correction that stands),
/// from the chain's amendments. `None` for other events.
pub(super) fn status_of(r: &Recorded, am: &demarche::projection::Amendments) -> Status {
    match &r.event {
        Some(Event::Statement(_)) => Some(if am.retracted.contains(&r.seq) {
            ("retracted", am.retracted_by.get(&r.seq).copied())
        } else if let Some((by, _)) = am.corrected.get(&r.seq) {
            ("corrected", Some(*by))
        } else {
            ("standing", None)
        }),
        Some(Event::Correction(_)) => {
            let root = am.roots.get(&r.seq).copied();
            // A correction of a retracted statement is retracted with it.
            if let Some(root) = root.filter(|x| am.retracted.contains(x)) {
                return Some(("retracted", am.retracted_by.get(&root).copied()));
            }
            let newest = root
                .and_then(|root| am.corrected.get(&root))
                .map(|(by, _)| *by);
            Some(if newest == Some(r.seq) {
                ("standing", None)
            } else if newest.is_none() {
                // A retracted correction, or one of a retracted statement.
                let by = am.retracted_by.get(&r.seq);
                (
                    "retracted",
                    by.or(root.and_then(|x| am.retracted_by.get(&x))).copied(),
                )
            } else {
                ("corrected", newest)
            })
        }
        _ => None,
    }
}

/// A row's mark of its status: nothing for a standing statement.
fn status_mark(status: Status) -> String {
    match status {
        Some(("retracted", Some(by))) => format!("  [retracted by seq {by}]"),
        Some(("retracted", None)) => "  [retracted]".into(),
        Some(("corrected", Some(by))) => format!("  [as corrected by seq {by}]"),
        _ => String::new(),
    }
}

/// A recorded event as JSON, with its `status`, `corrected_by` and
/// `retracted_by` when it is a statement or correction.
pub(super) fn json_with_status(r: &Recorded, status: Status) -> serde_json::Value {
    let mut v = view::recorded_json(r);
    if let Some((st, by)) = status {
        v["status"] = st.into();
        v["corrected_by"] = by.filter(|_| st == "corrected").into();
        v["retracted_by"] = by.filter(|_| st == "retracted").into();
    }
    v
}

/// The table `log` writes, columns aligned to their widest cell.
fn log_columns() -> Columns {
    Columns::new(
        &["seq", "said on", "party", "stance", "proposition", "quote"],
        &[true],
    )
}

/// Events as rows under a header (no header when there are none).
pub(super) fn log_table<'a>(
    out: &mut impl Write,
    rows: impl Iterator<Item = &'a Recorded>,
) -> Result<usize> {
    let mut n = 0;
    let mut table = log_columns();
    for r in rows {
        table.push(out, summary_row(r, ""))?;
        n += 1;
    }
    table.finish(out)?;
    Ok(n)
}

/// `demarche log`.
pub(super) fn log(cli: &Cli, a: &LogArgs, out: &mut impl Write) -> Result<u8> {
    log_on(&open(cli, false)?, a, out)
}

/// `demarche log` on an open ledger.
pub(super) fn log_on(ledger: &Ledger, a: &LogArgs, out: &mut impl Write) -> Result<u8> {
    let actors = ledger.actors()?;
    let flags = SelectionFlags {
        party: a.party.as_deref(),
        subject: a.subject.as_deref(),
        location: a.location.as_deref(),
        speaker: a.speaker.as_deref(),
        predicate: a.predicate.as_deref(),
        stance: a.stance.as_deref(),
        search: a.search.as_deref(),
        coded_by: a.coder.coded_by.as_deref(),
        min_mentions: a.coder.min_mentions,
        from: a.from.as_deref(),
        to: a.to.as_deref(),
        no_members: a.members.no_members,
    };
    let sel = flags.resolve(actors)?;
    if let Some(k) = &a.kind {
        let kinds = [
            "statement",
            "correction",
            "retraction",
            "actor",
            "alias",
            "role",
        ];
        if !kinds.contains(&k.as_str()) {
            return Err(Failure::usage(format!(
                "--type: \"{k}\" is not one of {}",
                kinds.join(", ")
            )));
        }
    }
    // Events that are no statements (and redacted ones) show only when no
    // statement selection is given.
    let keep = |event: Option<&Event>| -> bool {
        let Some(e) = event else {
            return sel.is_empty() && a.kind.is_none();
        };
        if a.kind.as_deref().is_some_and(|k| k != e.kind()) {
            return false;
        }
        match e.statement() {
            None => sel.is_empty(),
            Some(s) => sel.keeps(s, actors),
        }
    };
    let limit = a.limit.unwrap_or(usize::MAX);
    let mut shown = 0usize;
    let mut table = log_columns();
    let am = ledger.amendments_now()?;
    let (first, recorded_from) = match since_flag(ledger, a.since.as_deref())? {
        Since::Seq(seq) => (seq, i64::MIN),
        Since::RecordedFrom(t) => (1, t),
    };
    if limit > 0 {
        // A failed write (a closed pipe) stops the reading and is the error.
        let mut written = Ok(());
        let mut line = Vec::with_capacity(1024);
        {
            let mut print = |r: Recorded| {
                let status = status_of(&r, &am);
                written = match a.out.json {
                    true => {
                        line.clear();
                        view::write_recorded_line(&r, status, &mut line);
                        out.write_all(&line)
                    }
                    false => table.push(out, summary_row(&r, &status_mark(status))),
                };
                shown += 1;
                written.is_ok() && shown < limit
            };
            if a.out.json
                && sel.is_empty()
                && a.kind.is_none()
                && recorded_from == i64::MIN
                && first <= 1
                && a.limit.is_none()
            {
                // Every event as JSON: each line made where the event is
                // decoded, on two threads, and written in order.
                let line_of = |r: Recorded| {
                    let mut line = Vec::with_capacity(768);
                    view::write_recorded_line(&r, status_of(&r, &am), &mut line);
                    Some(line)
                };
                ledger.each_mapped(first, line_of, |line| {
                    written = out.write_all(&line);
                    shown += 1;
                    Ok(written.is_ok())
                })?;
            } else if sel.is_empty() && a.kind.is_none() && recorded_from == i64::MIN {
                // Every event is shown: read in order on this thread, since
                // handing each one over from another costs more than it saves.
                for r in ledger.iter(first, u64::MAX)? {
                    if !print(r?) {
                        break;
                    }
                }
            } else {
                let keep = |_, at: i64, e: Option<&Event>| at >= recorded_from && keep(e);
                // A statement is first tested as stored, before it is
                // decoded, when the selection or the kind can refuse it.
                let statements = a.kind.as_deref().is_none_or(|k| k == "statement");
                if sel.is_empty() && statements {
                    ledger.each_kept_by_event(first, keep, |r| Ok(print(r)))?;
                } else if sel.is_empty() {
                    let might_keep = |_, f: &StatementFields<'_>| statements && sel.might_keep(f);
                    ledger.each_kept_by_statement(first, might_keep, keep, |r| Ok(print(r)))?;
                } else {
                    // A selection keeps only statements and corrections:
                    // where a positions snapshot says which may be kept,
                    // only those are read.
                    let might_keep = |_, f: &StatementFields<'_>| statements && sel.might_keep(f);
                    let parties = sel.party.as_deref();
                    ledger.each_kept_by_selection(first, parties, might_keep, keep, |r| {
                        Ok(print(r))
                    })?;
                }
            }
        }
        written?;
    }
    table.finish(out)?;
    if shown == 0 && !a.out.json {
        eprintln!("no events match{}", flags.asked());
    }
    Ok(0)
}

/// `demarche show`.
pub(super) fn show(cli: &Cli, which: &str, o: Output, out: &mut impl Write) -> Result<u8> {
    show_on(&open(cli, false)?, which, o, out)
}

/// `demarche show` on an open ledger.
pub(super) fn show_on(ledger: &Ledger, which: &str, o: Output, out: &mut impl Write) -> Result<u8> {
    let seq = event_named(ledger, which)?;
    let r = ledger.get(seq)?;
    let status = match &r.event {
        Some(Event::Statement(_) | Event::Correction(_)) => {
            status_of(&r, &ledger.amendments_shown_for(seq)?)
        }
        _ => None,
    };
    // An actor, alias or role event may have been retired.
    let retired = match &r.event {
        Some(Event::Actor(_) | Event::Alias(_) | Event::Role(_)) => {
            Some(ledger.actors()?.retired_by(r.seq))
        }
        _ => None,
    };
    if o.json {
        let mut v = json_with_status(&r, status);
        if let Some(by) = retired {
            v["status"] = if by.is_some() { "retired" } else { "standing" }.into();
            v["retired_by"] = by.into();
        }
        writeln!(out, "{v}")?;
    } else {
        show_text(out, &r, ledger.actors()?)?;
        if let Some(Some(by)) = retired {
            writeln!(
                out,
                "{:<13}retired by seq {by}: it no longer counts",
                "status"
            )?;
        }
        if let Some((st, by)) = status {
            let text = match (st, by) {
                ("corrected", Some(by)) => format!("corrected: as it stands now, see seq {by}"),
                ("retracted", Some(by)) => {
                    let reason = match ledger.get(by)?.event {
                        Some(Event::Retraction(x)) => format!(": {}", x.reason),
                        _ => String::new(),
                    };
                    format!("retracted by seq {by}{reason}; it no longer counts")
                }
                ("retracted", None) => "retracted: it no longer counts".into(),
                _ => "standing".into(),
            };
            writeln!(out, "{:<13}{text}", "status")?;
        }
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
                Event::Role(x) => {
                    line(out, "actor", &name(&x.actor))?;
                    line(out, "party", &name(&x.of))?;
                    line(out, "role", &x.role)?;
                    line(out, "from", &x.from.to_string())?;
                    if let Some(u) = x.until {
                        line(out, "until", &u.to_string())?;
                    }
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
                    if !s.joint_with.is_empty() {
                        let others: Vec<String> = s.joint_with.iter().map(|p| name(p)).collect();
                        line(out, "jointly with", &others.join(", "))?;
                    }
                    if let Some(sp) = &s.speaker {
                        let mut who = speaker_text(sp);
                        if let Some(id) = &sp.actor {
                            who.push_str(&format!("  [{id}]"));
                            if sp.role.is_none() {
                                let roles: Vec<String> = actors
                                    .get(id)
                                    .into_iter()
                                    .flat_map(|a| a.roles_on(s.said_on.date))
                                    .map(|r| format!("{}, for {}", r.role, r.of))
                                    .collect();
                                if !roles.is_empty() {
                                    who.push_str(&format!(" ({})", roles.join("; ")));
                                }
                            }
                        }
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
                    if let Some(c) = &s.condition {
                        line(out, "condition", c)?;
                    }
                    if let Some(d) = &s.deadline {
                        line(out, "deadline", &d.to_string())?;
                    }
                    line(out, "proposition", &describe(s))?;
                    line(out, "quote", &format!("\"{}\"", s.quote))?;
                    if s.quote_kind != QuoteKind::Verbatim || s.language.is_some() {
                        let mut kind = s.quote_kind.as_str().to_string();
                        if let Some(l) = &s.language {
                            kind.push_str(&format!(" (said in {l})"));
                        }
                        line(out, "quote is", &kind)?;
                    }
                    for src in s.sources() {
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
                    if let Some(c) = &s.coded {
                        line(
                            out,
                            "coded by",
                            &format!(
                                "{} (event {}, CAMEO {}; {} in {}; Goldstein {}, tone {})",
                                c.coder,
                                c.event_id,
                                c.cameo,
                                counted(c.mentions, "mention"),
                                counted(c.sources, "source"),
                                demarche::event::fixed(c.goldstein_tenths, 1),
                                demarche::event::fixed(c.tone_thousandths, 3)
                            ),
                        )?;
                    }
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

/// A statement event's statement as it stands: corrected, or as recorded
/// (also when retracted); `None` for other events.
fn as_it_stands<'a>(
    seq: demarche::event::Seq,
    event: Option<&'a Event>,
    amendments: &'a demarche::projection::Amendments,
) -> Option<&'a demarche::event::Statement> {
    match event {
        Some(Event::Statement(original)) => {
            Some(amendments.effective(seq, original).unwrap_or(original))
        }
        _ => None,
    }
}

/// `demarche history`.
pub(super) fn history(cli: &Cli, a: &HistoryArgs, out: &mut impl Write) -> Result<u8> {
    history_on(&open(cli, false)?, a, out)
}

/// `demarche history` on an open ledger.
pub(super) fn history_on(ledger: &Ledger, a: &HistoryArgs, out: &mut impl Write) -> Result<u8> {
    let actors = ledger.actors()?.clone();
    let flags = SelectionFlags {
        party: a.party.as_deref(),
        subject: a.subject.as_deref(),
        location: a.location.as_deref(),
        speaker: a.speaker.as_deref(),
        predicate: a.predicate.as_deref(),
        from: a.from.as_deref(),
        to: a.to.as_deref(),
        no_members: a.members.no_members,
        ..SelectionFlags::default()
    };
    let sel = flags.resolve(&actors)?;
    let amendments = ledger.amendments_now()?;
    type Row = (demarche::event::SaidOn, u64, Recorded, Status);
    let mut rows: Vec<Row> = Vec::new();
    let keep = |seq, _, e: Option<&Event>| {
        as_it_stands(seq, e, &amendments).is_some_and(|s| sel.keeps(s, &actors))
    };
    // A statement is first tested as stored, before it is decoded, unless a
    // correction stands in its place.
    let might_keep =
        |seq, f: &StatementFields<'_>| amendments.corrected.contains_key(&seq) || sel.might_keep(f);
    // Only statements are kept: where a positions snapshot says which may
    // be, only those are read.
    let parties = sel.party.as_deref();
    ledger.each_kept_by_selection(1, parties, might_keep, keep, |mut r| {
        let s = as_it_stands(r.seq, r.event.as_ref(), &amendments)
            .expect("kept: a statement")
            .clone();
        let status = status_of(&r, &amendments);
        let said_on = s.said_on;
        r.event = Some(Event::Statement(s));
        rows.push((said_on, r.seq, r, status));
        Ok(true)
    })?;
    rows.sort_by_key(|x| (x.0, x.1));
    // Dates with a time of day, long ids and joint parties widen their columns.
    let (mut w_date, mut w_seq, mut w_party) = (10, 5, 0);
    for (said_on, seq, r, _) in &rows {
        w_date = w_date.max(dates::format_said_on(said_on).len());
        w_seq = w_seq.max(seq.to_string().len());
        if let Some(Event::Statement(s)) = &r.event {
            w_party = w_party.max(parties_text(s).chars().count());
        }
    }
    let mut line = Vec::with_capacity(1024);
    for (_, seq, r, status) in &rows {
        if a.out.json {
            line.clear();
            view::write_recorded_line(r, *status, &mut line);
            out.write_all(&line)?;
        } else {
            let Some(Event::Statement(s)) = &r.event else {
                continue;
            };
            let note = status_mark(*status);
            let stance = match &s.hedge {
                Some(h) => format!("{} (hedged: {h})", s.stance),
                None => s.stance.clone(),
            };
            writeln!(
                out,
                "{:<w_date$}  seq {:<w_seq$} {:<w_party$} {} {}{note}",
                dates::format_said_on(&s.said_on),
                seq,
                parties_text(s),
                stance,
                describe(s)
            )?;
            let kind = match (s.quote_kind, &s.language) {
                (QuoteKind::Verbatim, None) => String::new(),
                (QuoteKind::Verbatim, Some(l)) => format!(" [in {l}]"),
                (k, None) => format!(" [{}]", k.as_str()),
                (k, Some(l)) => format!(" [{} from {l}]", k.as_str()),
            };
            writeln!(out, "      \"{}\"{kind}", s.quote)?;
            // Who spoke, then each source as "publisher, date, url".
            let mut src: Vec<String> = Vec::new();
            src.extend(s.speaker.as_ref().map(speaker_text));
            for source in s.sources() {
                let one: Vec<String> = [
                    source.publisher.clone(),
                    source.published_on.map(|d| d.to_string()),
                    source.url.clone(),
                ]
                .into_iter()
                .flatten()
                .collect();
                src.push(one.join(", "));
            }
            writeln!(out, "      -- {}", src.join("; "))?;
        }
    }
    if rows.is_empty() && !a.out.json {
        eprintln!("no statements match{}", flags.asked());
    }
    Ok(0)
}

/// `1 source`, `2 sources`.
fn counted(n: u32, what: &str) -> String {
    match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use demarche::event::Hash;

    /// The line `view::write_recorded_line` writes reads byte for byte as the
    /// value [`json_with_status`] makes, for every status an event can have,
    /// on the worked example's events (quotes with apostrophes, a hedge) and
    /// a redacted one.
    #[test]
    fn a_line_written_straight_is_the_value_written() {
        let mut records: Vec<Recorded> = demarche::example::events()
            .into_iter()
            .enumerate()
            .map(|(i, event)| Recorded {
                seq: i as u64 + 1,
                recorded_at: 1_611_900_000_123_456 + i as i64,
                prev: Hash([i as u8; 32]),
                hash: Hash([0xab; 32]),
                digest: Hash([0x5c; 32]),
                event: Some(event),
                payload_len: 300,
                encoding: 2,
            })
            .collect();
        let mut redacted = records[0].clone();
        redacted.event = None;
        records.push(redacted);
        let statuses: [Status; 5] = [
            None,
            Some(("standing", None)),
            Some(("corrected", Some(11))),
            Some(("retracted", Some(12))),
            Some(("retracted", None)),
        ];
        let mut line = Vec::new();
        for r in &records {
            for status in statuses {
                line.clear();
                view::write_recorded_line(r, status, &mut line);
                let value = format!("{}\n", json_with_status(r, status));
                assert_eq!(String::from_utf8(line.clone()).expect("UTF-8"), value);
            }
        }
    }
}
