//! Positions: a fold of the chain into what each party holds on each proposition,
//! as of any date (valid time) and as known at any point of the chain
//! (transaction time). Pure: tested without a store; the ledger feeds it.
//!
//! A position is keyed by (party, predicate, subject, location, qualifier); a
//! statement with several subjects yields one position per subject. The latest
//! statement by said date wins, ties by seq. A correction replaces the statement
//! it names (a correction of a correction replaces the same statement again); a
//! retraction removes the statement, or voids the correction, it names.

use crate::event::{Event, Recorded, SaidOn, Seq, Statement};
use crate::vocab::Vocabulary;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Up to which point of the chain to look: transaction time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownAt {
    /// Events up to and including this seq.
    Seq(Seq),
    /// Events recorded at or before this time (microseconds since 1970 UTC).
    Time(i64),
}

impl KnownAt {
    /// Whether the ledger knew an event at this point.
    pub fn includes(&self, seq: Seq, recorded_at: i64) -> bool {
        match *self {
            KnownAt::Seq(s) => seq <= s,
            KnownAt::Time(t) => recorded_at <= t,
        }
    }
}

/// Which positions to keep. Empty fields match anything; actor fields hold
/// canonical ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The party holding the position.
    pub party: Option<String>,
    /// The party's current stance.
    pub stance: Option<String>,
    /// The predicate.
    pub predicate: Option<String>,
    /// The subject.
    pub subject: Option<String>,
    /// The location.
    pub location: Option<String>,
}

/// A question to the projection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only statements said on or before this date.
    pub as_of: Option<jiff::civil::Date>,
    /// Only what the ledger held at this point.
    pub known_at: Option<KnownAt>,
    /// Which positions to keep.
    pub filter: Filter,
}

/// What a position is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PositionKey {
    /// Who holds it.
    pub party: String,
    /// The predicate.
    pub predicate: String,
    /// The subject, when the proposition names any.
    pub subject: Option<String>,
    /// The place.
    pub location: Option<String>,
    /// What exactly (`military-personnel`, `mercenaries`).
    pub qualifier: Option<String>,
}

/// What a party currently holds on one proposition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// What it is about.
    pub key: PositionKey,
    /// The current stance.
    pub stance: String,
    /// The hedge of the statement that set it, if hedged.
    pub hedge: Option<String>,
    /// When the current stance was last said.
    pub said_on: SaidOn,
    /// The seq of that statement.
    pub seq: Seq,
    /// Every statement that supports the current stance, in seq order.
    pub statements: Vec<Seq>,
}

/// Corrections and retractions, resolved to the statements they change.
#[derive(Clone, Debug, Default)]
pub struct Amendments {
    /// Statements removed by a retraction.
    pub retracted: HashSet<Seq>,
    /// Statements replaced: the seq of the newest correction and its statement.
    pub corrected: HashMap<Seq, (Seq, Statement)>,
    /// Seq → the statement a correction ultimately corrects.
    pub roots: HashMap<Seq, Seq>,
}

impl Amendments {
    /// Resolves the corrections and retractions among `events` (in seq order)
    /// that the ledger knew at `known_at`.
    pub fn collect<'a>(
        events: impl IntoIterator<Item = &'a Recorded>,
        known_at: Option<KnownAt>,
    ) -> Amendments {
        let mut corrections: Vec<(Seq, Seq, Statement)> = Vec::new();
        let mut retracted: HashSet<Seq> = HashSet::new();
        for r in events {
            if known_at.is_some_and(|k| !k.includes(r.seq, r.recorded_at)) {
                break;
            }
            match &r.event {
                Some(Event::Correction(c)) => corrections.push((r.seq, c.of, c.statement.clone())),
                Some(Event::Retraction(x)) => {
                    retracted.insert(x.of);
                }
                _ => {}
            }
        }
        let mut a = Amendments::default();
        for (seq, of, _) in &corrections {
            let root = a.roots.get(of).copied().unwrap_or(*of);
            a.roots.insert(*seq, root);
        }
        for (seq, _, statement) in corrections {
            if retracted.contains(&seq) {
                continue; // a retracted correction is void
            }
            let root = a.roots[&seq];
            match a.corrected.get(&root) {
                Some((newer, _)) if *newer > seq => {}
                _ => {
                    a.corrected.insert(root, (seq, statement));
                }
            }
        }
        a.retracted = retracted
            .into_iter()
            .filter(|s| !a.roots.contains_key(s))
            .collect();
        a
    }

    /// The statement as it stands for the statement event at `seq`: `None` if retracted.
    pub fn effective<'a>(&'a self, seq: Seq, original: &'a Statement) -> Option<&'a Statement> {
        if self.retracted.contains(&seq) {
            return None;
        }
        Some(self.corrected.get(&seq).map_or(original, |(_, s)| s))
    }
}

#[derive(Debug)]
struct Slot {
    winner: (SaidOn, Seq),
    stance: String,
    hedge: Option<String>,
    by_stance: Vec<(String, Vec<Seq>)>,
}

/// Folds statements into positions.
#[derive(Debug)]
pub struct Fold<'q> {
    query: &'q Query,
    amendments: Amendments,
    slots: BTreeMap<PositionKey, Slot>,
    replaced: HashSet<Seq>,
}

/// The key of a statement's position about `subject`.
pub fn key_of_statement(s: &Statement, subject: Option<&String>) -> PositionKey {
    PositionKey {
        party: s.party.clone(),
        predicate: s.proposition.predicate.clone(),
        subject: subject.cloned(),
        location: s.proposition.location.clone(),
        qualifier: s.proposition.qualifier.clone(),
    }
}

/// Folds one (statement, subject) into the slots, if the query keeps it.
fn put(
    query: &Query,
    slots: &mut BTreeMap<PositionKey, Slot>,
    key: PositionKey,
    seq: Seq,
    said_on: SaidOn,
    stance: &str,
    hedge: Option<&str>,
) {
    if query.as_of.is_some_and(|d| said_on.date > d) {
        return;
    }
    let f = &query.filter;
    if f.party.as_ref().is_some_and(|x| *x != key.party)
        || f.predicate.as_ref().is_some_and(|x| *x != key.predicate)
        || f.location.is_some() && f.location != key.location
        || f.subject.is_some() && f.subject != key.subject
    {
        return;
    }
    let at = (said_on, seq);
    let slot = slots.entry(key).or_insert_with(|| Slot {
        winner: at,
        stance: stance.to_string(),
        hedge: hedge.map(str::to_string),
        by_stance: Vec::new(),
    });
    if at >= slot.winner {
        slot.winner = at;
        if slot.stance != stance {
            slot.stance = stance.to_string();
        }
        slot.hedge = hedge.map(str::to_string);
    }
    match slot.by_stance.iter_mut().find(|(st, _)| st == stance) {
        Some((_, seqs)) => seqs.push(seq),
        None => slot.by_stance.push((stance.to_string(), vec![seq])),
    }
}

impl<'q> Fold<'q> {
    /// A fold answering `query`, with the chain's amendments already resolved.
    pub fn new(query: &'q Query, amendments: Amendments) -> Self {
        Fold {
            query,
            amendments,
            slots: BTreeMap::new(),
            replaced: HashSet::new(),
        }
    }

    /// Adds one event (events must come in seq order).
    pub fn add(&mut self, r: &Recorded) {
        if self
            .query
            .known_at
            .is_some_and(|k| !k.includes(r.seq, r.recorded_at))
        {
            return;
        }
        let Some(Event::Statement(original)) = &r.event else {
            return;
        };
        let Fold {
            query,
            amendments,
            slots,
            ..
        } = self;
        let Some(s) = amendments.effective(r.seq, original) else {
            return;
        };
        let p = &s.proposition;
        if p.subjects.is_empty() {
            put(
                query,
                slots,
                key_of_statement(s, None),
                r.seq,
                s.said_on,
                &s.stance,
                s.hedge.as_deref(),
            );
        }
        for subject in &p.subjects {
            put(
                query,
                slots,
                key_of_statement(s, Some(subject)),
                r.seq,
                s.said_on,
                &s.stance,
                s.hedge.as_deref(),
            );
        }
    }

    /// Adds one (statement, subject) fact of a snapshot: the statement event `seq`
    /// as it was recorded. Corrections and retractions known to this fold apply.
    pub(crate) fn add_fact(
        &mut self,
        seq: Seq,
        key: &PositionKey,
        said_on: SaidOn,
        stance: &str,
        hedge: Option<&str>,
    ) {
        if self.amendments.retracted.contains(&seq) {
            return;
        }
        if let Some((_, s)) = self.amendments.corrected.get(&seq) {
            if self.replaced.insert(seq) {
                let s = s.clone();
                let p = &s.proposition;
                if p.subjects.is_empty() {
                    put(
                        self.query,
                        &mut self.slots,
                        key_of_statement(&s, None),
                        seq,
                        s.said_on,
                        &s.stance,
                        s.hedge.as_deref(),
                    );
                }
                for subject in &p.subjects {
                    put(
                        self.query,
                        &mut self.slots,
                        key_of_statement(&s, Some(subject)),
                        seq,
                        s.said_on,
                        &s.stance,
                        s.hedge.as_deref(),
                    );
                }
            }
            return;
        }
        put(
            self.query,
            &mut self.slots,
            key.clone(),
            seq,
            said_on,
            stance,
            hedge,
        );
    }

    /// The positions, ordered by key.
    pub fn finish(self) -> Vec<Position> {
        let stance = self.query.filter.stance.clone();
        self.slots
            .into_iter()
            .filter(|(_, slot)| stance.as_ref().is_none_or(|s| s == &slot.stance))
            .map(|(key, slot)| {
                let mut statements = slot
                    .by_stance
                    .into_iter()
                    .find(|(st, _)| *st == slot.stance)
                    .map(|(_, v)| v)
                    .unwrap_or_default();
                statements.sort_unstable();
                Position {
                    key,
                    stance: slot.stance,
                    hedge: slot.hedge,
                    said_on: slot.winner.0,
                    seq: slot.winner.1,
                    statements,
                }
            })
            .collect()
    }
}

/// Positions from events in seq order, in one call (two passes over `events`).
pub fn positions(events: &[Recorded], query: &Query) -> Vec<Position> {
    let amendments = Amendments::collect(events, query.known_at);
    let mut fold = Fold::new(query, amendments);
    for r in events {
        fold.add(r);
    }
    fold.finish()
}

/// The kind of a stance (`demand`, `appeal`, `denial`, ...), from the vocabulary.
pub fn stance_kind(stance: &str) -> &'static str {
    match Vocabulary::builtin()
        .stance(stance)
        .map(|s| s.kind.as_str())
    {
        Some("demand") => "demand",
        Some("appeal") => "appeal",
        Some("denial") => "denial",
        Some("assertion") => "assertion",
        Some("support") => "support",
        Some("rejection") => "rejection",
        Some("criticism") => "criticism",
        Some("warning") => "warning",
        _ => "other",
    }
}

/// How one position changed between two dates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Held at the end, not at the start.
    Appeared(Position),
    /// Held at both, with another stance at the end.
    Changed {
        /// At the start.
        from: Box<Position>,
        /// At the end.
        to: Box<Position>,
    },
    /// Held at the start, not at the end.
    Ended(Position),
}

/// What changed between two sets of positions (each ordered by key).
pub fn diff(before: Vec<Position>, after: Vec<Position>) -> Vec<Change> {
    let mut before: BTreeMap<PositionKey, Position> =
        before.into_iter().map(|p| (p.key.clone(), p)).collect();
    let mut out = Vec::new();
    for p in after {
        match before.remove(&p.key) {
            None => out.push(Change::Appeared(p)),
            Some(b) if b.stance != p.stance || b.hedge != p.hedge => out.push(Change::Changed {
                from: Box::new(b),
                to: Box::new(p),
            }),
            Some(_) => {}
        }
    }
    out.extend(before.into_values().map(Change::Ended));
    out.sort_by(|a, b| key_of(a).cmp(key_of(b)));
    out
}

fn key_of(c: &Change) -> &PositionKey {
    match c {
        Change::Appeared(p) | Change::Ended(p) => &p.key,
        Change::Changed { to, .. } => &to.key,
    }
}

pub mod snapshot;

#[cfg(test)]
mod tests;
