//! Validation: an event is checked against the vocabulary, the actors and
//! the ledger before it is sealed, and comes out with every actor name
//! replaced by its canonical id.

use super::{Ledger, LedgerError};
use crate::event::{Event, Names, Seq, Statement, StatementRef};
use crate::input::InputError;
use crate::vocab::{Actor, ActorError, Actors, Requirement, Vocabulary};
use std::collections::HashMap;

/// What is known about an event that a later correction or retraction may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Statement,
    Correction,
    Retraction,
    Reference,
    Redacted,
}

pub(super) fn kind_of(e: &Event) -> Kind {
    match e {
        Event::Statement(_) => Kind::Statement,
        Event::Correction(_) => Kind::Correction,
        Event::Retraction(_) => Kind::Retraction,
        Event::Actor(_) | Event::Alias(_) | Event::Role(_) => Kind::Reference,
    }
}

impl Ledger {
    /// Checks an event against the vocabulary, the actors and the ledger, and
    /// replaces every actor name in it by its canonical id. Checked in place:
    /// an event is some 500 bytes, and copies were a quarter of an import's
    /// main thread, moving it in and out of here among them. On an error the
    /// event is left part canonical, for the caller to drop. An event
    /// `restoring` a record of an export is not held to what its predicate
    /// requires: it was valid by the rules of the release that recorded it.
    pub(super) fn check(
        &self,
        event: &mut Event,
        actors: &mut Actors,
        seq: Seq,
        (batch_start, batch): (Seq, &rustc_hash::FxHashMap<Seq, Kind>),
        restoring: bool,
        recorded_at: i64,
    ) -> std::result::Result<(), InputError> {
        /// Replaces an actor name by its canonical id; `field` names it on error.
        fn canon(
            actors: &Actors,
            name: &mut String,
            field: impl FnOnce() -> String,
        ) -> std::result::Result<(), InputError> {
            let id = &live_actor(actors, name, field)?.def.id;
            if id != name {
                *name = id.clone();
            }
            Ok(())
        }
        let statement =
            |actors: &Actors, p: &str, s: &mut Statement| -> std::result::Result<(), InputError> {
                let view = StatementRef::from(&*s);
                let rewrite =
                    Ledger::check_statement(&view, p, actors, restoring, recorded_at, |c| {
                        Rewrite::between(&view, c)
                    })?;
                rewrite.apply(s);
                Ok(())
            };
        let target = |of: Seq, what: &str| -> std::result::Result<Kind, InputError> {
            if of == seq {
                return Err(InputError::new(
                    "of",
                    format!("a {what} cannot point at itself (seq {seq})"),
                ));
            }
            if of > seq {
                return Err(InputError::new(
                    "of",
                    format!("seq {of} does not exist yet (this event would be seq {seq})"),
                ));
            }
            if of > batch_start {
                return Ok(batch.get(&of).copied().unwrap_or(Kind::Statement));
            }
            match self.get(of) {
                Ok(r) => Ok(r.event.as_ref().map_or(Kind::Redacted, kind_of)),
                Err(e) => Err(InputError::new("of", format!("cannot read seq {of}: {e}"))),
            }
        };
        match event {
            Event::Statement(s) => statement(actors, "", s)?,
            Event::Correction(c) => {
                match target(c.of, "correction")? {
                    Kind::Statement | Kind::Correction => {}
                    k => {
                        return Err(InputError::new(
                            "of",
                            format!(
                                "seq {} is {}; only statements and corrections can be corrected",
                                c.of,
                                kind_name(k)
                            ),
                        ))
                    }
                }
                statement(actors, "statement.", &mut c.statement)?;
            }
            Event::Retraction(r) => {
                match target(r.of, "retraction")? {
                    Kind::Statement | Kind::Correction => {}
                    // Retires an actor, alias or role.
                    Kind::Reference => {
                        actors
                            .retire(r.of, seq)
                            .map_err(|e| actor_error(&e, "of"))?;
                    }
                    k => {
                        return Err(InputError::new(
                            "of",
                            format!(
                                "seq {} is {}; only statements, corrections and actor, alias or role events can be retracted",
                                r.of,
                                kind_name(k)
                            ),
                        ))
                    }
                }
            }
            Event::Actor(a) => {
                if !restoring {
                    one_line("name", Some(&a.name))?;
                    for (i, x) in a.aliases.iter().enumerate() {
                        one_line(&format!("aliases[{i}]"), Some(x))?;
                    }
                }
                if let Some(p) = &mut a.parent {
                    canon(actors, p, || "parent".into())?;
                }
                if !restoring {
                    let names = std::iter::once(("id".to_string(), &a.id))
                        .chain(std::iter::once(("name".to_string(), &a.name)))
                        .chain(
                            a.aliases
                                .iter()
                                .enumerate()
                                .map(|(i, x)| (format!("aliases[{i}]"), x)),
                        );
                    for (field, n) in names {
                        confusable(actors, &field, n, &a.id)?;
                    }
                }
                actors.add(a.clone(), Some(seq)).map_err(|e| {
                    // Name the field the error is about.
                    let field = match &e {
                        ActorError::Invalid(m) if m.contains("kind") => "kind",
                        ActorError::Unknown(_) => "parent",
                        ActorError::NameTaken { name, .. } if *name == a.name => "name",
                        ActorError::NameTaken { .. } => "aliases",
                        _ => "id",
                    };
                    actor_error(&e, field)
                })?;
            }
            Event::Alias(a) => {
                if !restoring {
                    one_line("alias", Some(&a.alias))?;
                }
                canon(actors, &mut a.actor, || "actor".into())?;
                if !restoring {
                    confusable(actors, "alias", &a.alias, &a.actor)?;
                }
                actors
                    .add_alias_at(a, Some(seq))
                    .map_err(|e| actor_error(&e, "alias"))?;
            }
            Event::Role(r) => {
                if !restoring {
                    one_line("role", Some(&r.role))?;
                }
                canon(actors, &mut r.actor, || "actor".into())?;
                canon(actors, &mut r.of, || "party".into())?;
                actors
                    .add_role_at(r, Some(seq))
                    .map_err(|e| actor_error(&e, "actor"))?;
            }
        }
        Ok(())
    }
}

/// An actor by a name of it, refused when no live actor has the name:
/// unknown, or retired. `field` names the name on error.
fn live_actor<'a>(
    actors: &'a Actors,
    name: &str,
    field: impl FnOnce() -> String,
) -> std::result::Result<&'a Actor, InputError> {
    let actor = match actors.find(name) {
        Ok(actor) => actor,
        Err(u) => return Err(InputError::new(field(), format!("unknown actor {u}"))),
    };
    if let Some(by) = actor.retired {
        return Err(InputError::new(
            field(),
            format!(
                "{} was retired by seq {by}; a retired actor cannot be named in a new event",
                actor.def.id
            ),
        ));
    }
    Ok(actor)
}

impl Ledger {
    /// The check of a statement, on its fields however they are held (an
    /// owned [`Statement`], or a line's strings, borrowed): `then` is handed
    /// the statement as the check leaves it, every actor given by its id, a
    /// speaker named as an actor given the actor's name where none is given,
    /// the qualifier by its id, its strings borrowed from `s` or the actors.
    /// `p` prefixes the field an error names (`statement.` in a correction).
    /// A statement `restoring` a record of an export is held only to what
    /// names actors and the vocabulary.
    ///
    /// # Errors
    /// The first condition the statement fails, naming its field.
    pub(super) fn check_statement<S: AsRef<str>, R>(
        s: &StatementRef<'_, S>,
        p: &str,
        actors: &Actors,
        restoring: bool,
        recorded_at: i64,
        then: impl FnOnce(&StatementRef<'_, &str>) -> R,
    ) -> std::result::Result<R, InputError> {
        let vocab = Vocabulary::builtin();
        let party = live_actor(actors, s.party, || format!("{p}party"))?;
        let party = party.def.id.as_str();
        let mut joint_with = Names::new();
        for (i, name) in s.joint_with.iter().enumerate() {
            let field = || format!("{p}joint_with[{i}]");
            let id = live_actor(actors, name.as_ref(), field)?.def.id.as_str();
            if id == party {
                return Err(InputError::new(
                    field(),
                    format!("{id} is the party itself; joint_with names the other parties"),
                ));
            }
            if joint_with.as_slice().contains(&id) {
                return Err(InputError::new(field(), format!("{id} is named twice")));
            }
            joint_with.push(id);
        }
        let speaker = match s.speaker {
            Some((name, role, Some(actor))) => {
                let a = live_actor(actors, actor, || format!("{p}speaker.actor"))?;
                if a.def.kind != "person" {
                    return Err(InputError::new(
                        format!("{p}speaker.actor"),
                        format!("{} is a {}; a speaker is a person", a.def.id, a.def.kind),
                    ));
                }
                let name = if name.is_empty() { &a.def.name } else { name };
                Some((name, role, Some(a.def.id.as_str())))
            }
            other => other,
        };
        if !restoring {
            let texts = [
                ("speaker.name", speaker.map(|(name, _, _)| name)),
                ("speaker.role", speaker.and_then(|(_, role, _)| role)),
                ("hedge", s.hedge),
                ("proposition.document", s.document),
            ];
            for (name, v) in texts {
                if let Some(c) = not_one_line(v) {
                    return Err(not_one_line_error(&format!("{p}{name}"), c));
                }
            }
            let sources = std::iter::once(&s.source).chain(&s.more_sources);
            for (i, x) in sources.enumerate() {
                if let Some(c) = not_one_line(x.publisher) {
                    return Err(not_one_line_error(&format!("{p}sources[{i}].publisher"), c));
                }
            }
            if !said_by(&s.said_on, recorded_at) {
                return Err(InputError::new(
                    format!("{p}said_on"),
                    format!(
                        "{} is later than the day it is recorded ({}); only a deadline may lie ahead",
                        crate::dates::format_said_on(&s.said_on),
                        crate::dates::format_recorded_at(recorded_at)
                    ),
                ));
            }
        }
        vocab
            .check_stance(s.stance)
            .map_err(|u| InputError::new(format!("{p}stance"), format!("unknown stance {u}")))?;
        let predicate = vocab.check_predicate(s.predicate).map_err(|u| {
            InputError::new(
                format!("{p}proposition.predicate"),
                format!("unknown predicate {u}"),
            )
        })?;
        // A record restored from an export was valid when it was made.
        let (requires, qualifier) = match (restoring, s.qualifier) {
            (true, q) => (&[][..], q),
            (false, None) => (&predicate.requires[..], None),
            (false, Some(q)) => {
                let id = vocab.resolve_qualifier(s.predicate, q).map_err(|u| {
                    InputError::new(
                        format!("{p}proposition.qualifier"),
                        format!("unknown qualifier for {}: {u}", s.predicate),
                    )
                })?;
                (&predicate.requires[..], Some(id))
            }
        };
        for need in requires {
            let (field, missing) = match need {
                Requirement::Subjects => ("subjects", s.subjects.is_empty()),
                Requirement::Location => ("location", s.location.is_none()),
                Requirement::Document => ("document", s.document.is_none()),
            };
            if missing {
                return Err(InputError::new(
                    format!("{p}proposition.{field}"),
                    format!("{} needs {field}", s.predicate),
                ));
            }
        }
        let mut subjects = Names::new();
        for (i, name) in s.subjects.iter().enumerate() {
            let field = || format!("{p}proposition.subjects[{i}]");
            let id = live_actor(actors, name.as_ref(), field)?.def.id.as_str();
            if subjects.as_slice().contains(&id) {
                return Err(InputError::new(field(), format!("{id} is named twice")));
            }
            subjects.push(id);
        }
        let location = match s.location {
            Some(name) => {
                let field = || format!("{p}proposition.location");
                Some(live_actor(actors, name, field)?.def.id.as_str())
            }
            None => None,
        };
        Ok(then(&StatementRef {
            said_on: s.said_on,
            party,
            joint_with: joint_with.as_slice(),
            speaker,
            stance: s.stance,
            hedge: s.hedge,
            condition: s.condition,
            deadline: s.deadline,
            predicate: s.predicate,
            subjects: subjects.as_slice(),
            location,
            qualifier,
            document: s.document,
            quote: s.quote,
            quote_kind: s.quote_kind,
            language: s.language,
            source: s.source,
            more_sources: s.more_sources.clone(),
            coded: s.coded,
        }))
    }
}

/// What the check changes in an owned statement: each name it gives by
/// another string (an actor's id, a speaker's name, a qualifier's id).
/// Owned strings are made only for those.
#[derive(Default)]
struct Rewrite {
    party: Option<String>,
    joint_with: Vec<(usize, String)>,
    speaker_name: Option<String>,
    speaker_actor: Option<String>,
    qualifier: Option<String>,
    subjects: Vec<(usize, String)>,
    location: Option<String>,
}

impl Rewrite {
    /// What differs between `s` and `checked`, `s` as the check leaves it.
    fn between(s: &StatementRef<'_, String>, checked: &StatementRef<'_, &str>) -> Self {
        let changed = |from: &str, to: &str| (from != to).then(|| to.to_string());
        let each = |from: &[String], to: &[&str]| -> Vec<(usize, String)> {
            from.iter()
                .zip(to)
                .enumerate()
                .filter(|(_, (a, b))| a.as_str() != **b)
                .map(|(i, (_, b))| (i, b.to_string()))
                .collect()
        };
        let (speaker_name, speaker_actor) = match (s.speaker, checked.speaker) {
            (Some((name, _, actor)), Some((to_name, _, to_actor))) => (
                changed(name, to_name),
                actor.zip(to_actor).and_then(|(a, b)| changed(a, b)),
            ),
            _ => (None, None),
        };
        Rewrite {
            party: changed(s.party, checked.party),
            joint_with: each(s.joint_with, checked.joint_with),
            speaker_name,
            speaker_actor,
            qualifier: s
                .qualifier
                .zip(checked.qualifier)
                .and_then(|(a, b)| changed(a, b)),
            subjects: each(s.subjects, checked.subjects),
            location: s
                .location
                .zip(checked.location)
                .and_then(|(a, b)| changed(a, b)),
        }
    }

    fn apply(self, s: &mut Statement) {
        if let Some(party) = self.party {
            s.party = party;
        }
        for (i, id) in self.joint_with {
            s.joint_with[i] = id;
        }
        if let Some(sp) = &mut s.speaker {
            if let Some(name) = self.speaker_name {
                sp.name = name;
            }
            if let Some(actor) = self.speaker_actor {
                sp.actor = Some(actor);
            }
        }
        let pr = &mut s.proposition;
        if let Some(q) = self.qualifier {
            pr.qualifier = Some(q);
        }
        for (i, id) in self.subjects {
            pr.subjects[i] = id;
        }
        if let Some(loc) = self.location {
            pr.location = Some(loc);
        }
    }
}

/// Refuses, in a name, role, alias, hedge, publisher or document, what could
/// make a printed row lie: a line break or tab (a fake row in `log` or `actor
/// show`), or a character that reorders text (the bidirectional overrides and
/// isolates, U+202A to U+202E and U+2066 to U+2069). Quotes, reasons and
/// conditions may run over lines.
fn one_line(field: &str, v: Option<&str>) -> std::result::Result<(), InputError> {
    match not_one_line(v) {
        Some(c) => Err(not_one_line_error(field, c)),
        None => Ok(()),
    }
}

/// The first character of `v` that breaks a line or turns the text around.
fn not_one_line(v: Option<&str>) -> Option<char> {
    let v = v?;
    // Tab, newline and carriage return are those bytes; the marks that turn
    // text around all begin with 0xE2. Most text has none, which a check the
    // compiler runs many bytes at a time settles.
    let suspect = |c: u8| matches!(c, b'\t' | b'\n' | b'\r' | 0xe2);
    if !v.bytes().fold(false, |seen, c| seen | suspect(c)) {
        return None;
    }
    v.chars().find(
        |c| matches!(c, '\n' | '\r' | '\t' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'),
    )
}

fn not_one_line_error(field: &str, c: char) -> InputError {
    InputError::new(
        field,
        format!(
            "must be one line of plain text; it holds U+{:04X}",
            c as u32
        ),
    )
}

/// Whether a statement said on `said_on` could have been said by the time
/// `recorded_at` (microseconds since 1970 UTC). A time with an offset is
/// compared as an instant; a day alone (or a time without offset) is allowed up
/// to the day it is in the easternmost time zone, UTC+14, when it is recorded.
fn said_by(said_on: &crate::event::SaidOn, recorded_at: i64) -> bool {
    const EAST_MOST: i64 = 14 * 3600 * 1_000_000;
    if let Some(t) = said_on.time {
        if let Some(off) = t.offset_minutes {
            let days = i64::from(crate::dates::days_from_date(said_on.date));
            let secs = days * 86_400 + i64::from(t.seconds) - i64::from(off) * 60;
            return secs.saturating_mul(1_000_000) <= recorded_at;
        }
    }
    let latest = recorded_at.saturating_add(EAST_MOST);
    let day = latest.div_euclid(86_400 * 1_000_000);
    i64::from(crate::dates::days_from_date(said_on.date)) <= day
}

impl Ledger {
    /// Refuses a correction or retraction of a statement once retracted
    /// (either would be silently void), and records the batch's own. Runs on
    /// an event already checked, after duplicates of held events were skipped.
    pub(super) fn check_amendment(
        &self,
        event: &Event,
        seq: Seq,
        amended: &mut Amended,
    ) -> std::result::Result<(), InputError> {
        let (of, what) = match event {
            Event::Correction(c) => (c.of, "correction"),
            Event::Retraction(r) => (r.of, "retraction"),
            _ => return Ok(()),
        };
        let root = amended.root(self, of)?;
        if amended.is_retracted(root) {
            return Err(InputError::new(
                "of",
                match root == of {
                    true => format!(
                        "seq {of} was retracted; a retracted statement cannot be given a {what}"
                    ),
                    false => format!(
                        "seq {of} corrects seq {root}, which was retracted; a retracted statement cannot be given a {what}"
                    ),
                },
            ));
        }
        match event {
            Event::Correction(_) => amended.corrects(seq, root),
            // Retracting a correction voids it, and leaves its statement.
            _ if root == of => amended.retracts(root),
            _ => {}
        }
        Ok(())
    }
}

/// What a batch needs to know of the chain's corrections and retractions,
/// read from the chain when the batch first corrects or retracts something,
/// and kept up to date with the batch's own. An amendment names an event
/// recorded before it, so what bears on a statement is recorded after it:
/// the chain is read from the statement the batch's first amendment is or
/// ultimately corrects (its root), and once more, from the start, when a
/// later amendment of the batch bears on an earlier statement.
#[derive(Default)]
pub(super) struct Amended {
    /// The seq from which the chain's amendments were read, if they were.
    from: Option<Seq>,
    /// The chain's, from `from` on.
    chain: crate::projection::Amendments,
    /// The batch's own.
    retracted: std::collections::HashSet<Seq>,
    roots: HashMap<Seq, Seq>,
}

impl Amended {
    /// The statement that `of` is, or ultimately corrects.
    fn root(&mut self, ledger: &Ledger, of: Seq) -> std::result::Result<Seq, InputError> {
        if let Some(root) = self.roots.get(&of) {
            return Ok(*root);
        }
        // A chain whose amendments cannot be read cannot say what stands.
        let unread = |e: LedgerError| {
            InputError::new(
                "of",
                format!("cannot read the ledger's corrections and retractions: {e}"),
            )
        };
        let from = match self.from {
            // The first: the chain is read from the statement `of` is or
            // corrects, found by following corrections back. An event of the
            // batch that is not one of its corrections is a statement, its
            // own root.
            None if of > ledger.store.head().map_err(|e| unread(e.into()))?.size => return Ok(of),
            None => ledger.root_of(of).map_err(unread)?,
            // Read from `from`, the chain resolves `of` to its root when that
            // is `from` or later; else once more, from the start, and never
            // again (a batch amending statements from the newest back would
            // otherwise read the chain once for each).
            Some(from) => {
                let root = self.chain.roots.get(&of).copied().unwrap_or(of);
                if root >= from {
                    return Ok(root);
                }
                1
            }
        };
        self.chain = ledger.amendments_from(from).map_err(unread)?;
        self.from = Some(from);
        Ok(self.chain.roots.get(&of).copied().unwrap_or(of))
    }

    fn is_retracted(&self, root: Seq) -> bool {
        self.retracted.contains(&root) || self.chain.retracted.contains(&root)
    }

    fn corrects(&mut self, seq: Seq, root: Seq) {
        self.roots.insert(seq, root);
    }

    fn retracts(&mut self, root: Seq) {
        self.retracted.insert(root);
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Statement => "a statement",
        Kind::Correction => "a correction",
        Kind::Retraction => "a retraction",
        Kind::Reference => "an actor, alias or role event",
        Kind::Redacted => "a redacted event",
    }
}

pub(super) fn too_large(e: crate::codec::FormatError) -> InputError {
    InputError::new("", format!("event too large: {e}"))
}

/// Refuses a new id, name or alias that could be mistaken for a name of
/// another actor (Unicode TR39 skeletons). Names already recorded are left
/// as they are: only new ones are checked.
fn confusable(
    actors: &crate::vocab::Actors,
    field: &str,
    name: &str,
    owner: &str,
) -> std::result::Result<(), InputError> {
    match actors.confusable_with(name, owner) {
        Some((like, actor)) => Err(actor_error(
            &ActorError::Confusable {
                name: name.to_string(),
                like,
                actor,
            },
            field,
        )),
        None => Ok(()),
    }
}

fn actor_error(e: &ActorError, field: &str) -> InputError {
    InputError::new(field, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::not_one_line;

    #[test]
    fn what_breaks_a_line_or_turns_text_around_is_found_wherever_it_is() {
        let breaks = |c: char| matches!(c, '\n' | '\r' | '\t' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            for text in [
                format!("{c}"),
                format!("a plain start {c} and end"),
                format!("é–{c}"),
            ] {
                let want = breaks(c).then_some(c);
                assert_eq!(not_one_line(Some(&text)), want, "U+{:04X}", c as u32);
            }
        }
        // The first one found is the first in the text.
        assert_eq!(not_one_line(Some("a\u{2067}b\nc")), Some('\u{2067}'));
        assert_eq!(not_one_line(Some("plain")), None);
        assert_eq!(not_one_line(None), None);
    }
}
