//! Validation: an event is checked against the vocabulary, the actors and
//! the ledger before it is sealed, and comes out with every actor name
//! replaced by its canonical id.

use super::{Ledger, LedgerError};
use crate::event::{Event, Names, Seq, Statement, StatementRef};
use crate::input::InputError;
use crate::vocab::{ActorError, Actors, Requirement, Vocabulary};
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
            let actor = match actors.find(name) {
                Ok(actor) => actor,
                Err(u) => return Err(InputError::new(field(), format!("unknown actor {u}"))),
            };
            let id = &actor.def.id;
            if let Some(by) = actor.retired {
                return Err(InputError::new(
                    field(),
                    format!("{id} was retired by seq {by}; a retired actor cannot be named in a new event"),
                ));
            }
            if id != name {
                *name = id.clone();
            }
            Ok(())
        }
        // `check_plain` applies the same conditions to a statement's
        // fields borrowed from its line: a change here is a change there.
        let statement = |actors: &Actors,
                         p: &str,
                         s: &mut Statement|
         -> std::result::Result<(), InputError> {
            let vocab = Vocabulary::builtin();
            canon(actors, &mut s.party, || format!("{p}party"))?;
            for i in 0..s.joint_with.len() {
                canon(actors, &mut s.joint_with[i], || {
                    format!("{p}joint_with[{i}]")
                })?;
                let id = &s.joint_with[i];
                if *id == s.party {
                    return Err(InputError::new(
                        format!("{p}joint_with[{i}]"),
                        format!("{id} is the party itself; joint_with names the other parties"),
                    ));
                }
                if s.joint_with[..i].contains(id) {
                    return Err(InputError::new(
                        format!("{p}joint_with[{i}]"),
                        format!("{id} is named twice"),
                    ));
                }
            }
            if let Some(sp) = &mut s.speaker {
                if let Some(actor) = &mut sp.actor {
                    canon(actors, actor, || format!("{p}speaker.actor"))?;
                    let a = actors.get(actor).expect("resolved");
                    if a.def.kind != "person" {
                        return Err(InputError::new(
                            format!("{p}speaker.actor"),
                            format!("{actor} is a {}; a speaker is a person", a.def.kind),
                        ));
                    }
                    if sp.name.is_empty() {
                        sp.name = a.def.name.clone();
                    }
                }
            }
            if !restoring {
                let sp = s.speaker.as_ref();
                let texts = [
                    ("speaker.name", sp.map(|x| x.name.as_str())),
                    ("speaker.role", sp.and_then(|x| x.role.as_deref())),
                    ("hedge", s.hedge.as_deref()),
                    ("proposition.document", s.proposition.document.as_deref()),
                ];
                for (name, v) in texts {
                    if let Some(c) = not_one_line(v) {
                        return Err(not_one_line_error(&format!("{p}{name}"), c));
                    }
                }
                for (i, x) in s.sources().enumerate() {
                    if let Some(c) = not_one_line(x.publisher.as_deref()) {
                        return Err(not_one_line_error(&format!("{p}sources[{i}].publisher"), c));
                    }
                }
            }
            if !restoring && !said_by(&s.said_on, recorded_at) {
                return Err(InputError::new(
                    format!("{p}said_on"),
                    format!(
                        "{} is later than the day it is recorded ({}); only a deadline may lie ahead",
                        crate::dates::format_said_on(&s.said_on),
                        crate::dates::format_recorded_at(recorded_at)
                    ),
                ));
            }
            vocab.check_stance(&s.stance).map_err(|u| {
                InputError::new(format!("{p}stance"), format!("unknown stance {u}"))
            })?;
            let pr = &mut s.proposition;
            let predicate = vocab.check_predicate(&pr.predicate).map_err(|u| {
                InputError::new(
                    format!("{p}proposition.predicate"),
                    format!("unknown predicate {u}"),
                )
            })?;
            // A record restored from an export was valid when it was made.
            let requires = match restoring {
                true => &[][..],
                false => &predicate.requires[..],
            };
            if let (Some(q), false) = (&mut pr.qualifier, restoring) {
                let id = vocab.resolve_qualifier(&pr.predicate, q).map_err(|u| {
                    InputError::new(
                        format!("{p}proposition.qualifier"),
                        format!("unknown qualifier for {}: {u}", pr.predicate),
                    )
                })?;
                if id != q.as_str() {
                    *q = id.to_string();
                }
            }
            for need in requires {
                let (field, missing) = match need {
                    Requirement::Subjects => ("subjects", pr.subjects.is_empty()),
                    Requirement::Location => ("location", pr.location.is_none()),
                    Requirement::Document => ("document", pr.document.is_none()),
                };
                if missing {
                    return Err(InputError::new(
                        format!("{p}proposition.{field}"),
                        format!("{} needs {field}", pr.predicate),
                    ));
                }
            }
            for i in 0..pr.subjects.len() {
                canon(actors, &mut pr.subjects[i], || {
                    format!("{p}proposition.subjects[{i}]")
                })?;
                if pr.subjects[..i].contains(&pr.subjects[i]) {
                    return Err(InputError::new(
                        format!("{p}proposition.subjects[{i}]"),
                        format!("{} is named twice", pr.subjects[i]),
                    ));
                }
            }
            if let Some(loc) = &mut pr.location {
                canon(actors, loc, || format!("{p}proposition.location"))?;
            }
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

impl Ledger {
    /// [`check`](Self::check) of a statement (new, not restored) on its
    /// fields borrowed from a line: `then` is handed the statement as the
    /// check leaves it (every actor given by its id, a speaker named as an
    /// actor given the actor's name where the line gives none, the qualifier
    /// by its id), its strings borrowed from the line or the actors. `None`
    /// when the check would refuse it: it is then checked as an [`Event`],
    /// which names the error.
    ///
    /// Each condition is one the check applies, in the same terms; a change
    /// of the check is a change here (`ledger::tests` holds the two to each
    /// other on statements made to meet or miss each condition).
    pub(super) fn check_plain<R>(
        s: &StatementRef<'_, &str>,
        actors: &Actors,
        recorded_at: i64,
        then: impl FnOnce(&StatementRef<'_, &str>) -> R,
    ) -> Option<R> {
        let vocab = Vocabulary::builtin();
        // An actor's id, for a name of a live actor.
        let canon = |name: &str| match actors.find(name) {
            Ok(a) if a.retired.is_none() => Some(a.def.id.as_str()),
            _ => None,
        };
        let party = canon(s.party)?;
        let mut joint_with = Names::new();
        for name in s.joint_with {
            let id = canon(name)?;
            if id == party || joint_with.as_slice().contains(&id) {
                return None;
            }
            joint_with.push(id);
        }
        let speaker = match s.speaker {
            Some((name, role, Some(actor))) => {
                let a = actors.get(canon(actor)?).expect("resolved");
                if a.def.kind != "person" {
                    return None;
                }
                let name = if name.is_empty() { &a.def.name } else { name };
                Some((name, role, Some(a.def.id.as_str())))
            }
            other => other,
        };
        let texts = [
            speaker.map(|(name, _, _)| name),
            speaker.and_then(|(_, role, _)| role),
            s.hedge,
            s.document,
        ];
        let publishers = std::iter::once(&s.source)
            .chain(&s.more_sources)
            .map(|x| x.publisher);
        if texts
            .into_iter()
            .chain(publishers)
            .any(|v| not_one_line(v).is_some())
            || !said_by(&s.said_on, recorded_at)
            || vocab.check_stance(s.stance).is_err()
        {
            return None;
        }
        let predicate = vocab.check_predicate(s.predicate).ok()?;
        let qualifier = match s.qualifier {
            Some(q) => Some(vocab.resolve_qualifier(s.predicate, q).ok()?),
            None => None,
        };
        let meets = |need: &Requirement| match need {
            Requirement::Subjects => !s.subjects.is_empty(),
            Requirement::Location => s.location.is_some(),
            Requirement::Document => s.document.is_some(),
        };
        if !predicate.requires.iter().all(meets) {
            return None;
        }
        let mut subjects = Names::new();
        for name in s.subjects {
            let id = canon(name)?;
            if subjects.as_slice().contains(&id) {
                return None;
            }
            subjects.push(id);
        }
        let location = match s.location {
            Some(name) => Some(canon(name)?),
            None => None,
        };
        Some(then(&StatementRef {
            party,
            joint_with: joint_with.as_slice(),
            speaker,
            qualifier,
            subjects: subjects.as_slice(),
            location,
            more_sources: s.more_sources.clone(),
            ..*s
        }))
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
