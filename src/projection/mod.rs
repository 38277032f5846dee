//! Positions: a fold of the chain into what each party holds on each proposition,
//! as of any date (valid time) and as known at any point of the chain
//! (transaction time). Pure: tested without a store; the ledger feeds it.
//!
//! A position is keyed by (party, predicate, subject, location, qualifier,
//! document, modality); a statement with several subjects yields one position
//! per subject, and a joint statement one per party. The latest
//! statement by said date wins; on the same date a hand-recorded statement
//! outranks a machine-coded one (GDELT's), then the later time, then seq. A correction replaces the statement
//! it names (a correction of a correction replaces the same statement again); a
//! retraction removes the statement, or voids the correction, it names.

use crate::event::{Entry, Event, SaidOn, Seq, Statement};
use crate::vocab::{Modality, Vocabulary};
use std::collections::{HashMap, HashSet};

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
    /// The actors that count as the filter's party, subject or location
    /// besides itself: those that belong to it (their parent, or its parent,
    /// is it), such as a ministry of a state or a region of it.
    pub includes: Includes,
    /// Only statements of this coder (`gdelt`), or only hand-recorded ones
    /// ([`CODED_BY_HUMAN`]).
    pub coded_by: Option<String>,
    /// Only machine-coded statements with at least this many mentions;
    /// hand-recorded ones have no count and are kept.
    pub min_mentions: Option<u32>,
}

/// The `coded_by` filter value that keeps hand-recorded statements.
pub const CODED_BY_HUMAN: &str = "human";

impl Filter {
    /// Whether the coder filters (`coded_by`, `min_mentions`) keep a statement
    /// with this provenance (`None`: recorded by hand).
    pub fn admits(&self, coded: Option<&crate::event::Coded>) -> bool {
        coder_admits(self.coded_by.as_deref(), self.min_mentions, coded)
    }
}

/// Whether `--coded-by` (a coder, or [`CODED_BY_HUMAN`]) and `--min-mentions`
/// keep a statement with this provenance (`None`: recorded by hand, which
/// `--min-mentions` keeps, having no count).
pub fn coder_admits(
    coded_by: Option<&str>,
    min_mentions: Option<u32>,
    coded: Option<&crate::event::Coded>,
) -> bool {
    admits_coder(
        coded_by,
        min_mentions,
        coded.map(|c| (c.coder.as_str(), c.mentions)),
    )
}

/// [`coder_admits`] given the coder and the number of mentions alone.
fn admits_coder(
    coded_by: Option<&str>,
    min_mentions: Option<u32>,
    coded: Option<(&str, u32)>,
) -> bool {
    let by = match (coded_by, coded) {
        (None, _) => true,
        (Some(want), None) => want == CODED_BY_HUMAN,
        (Some(want), Some((coder, _))) => want == coder,
    };
    let mentions = match (min_mentions, coded) {
        (Some(n), Some((_, m))) => m >= n,
        _ => true,
    };
    by && mentions
}

/// The members of each filtered actor (see [`Filter::includes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Includes {
    /// Members of the party.
    pub party: Vec<String>,
    /// Members of the subject.
    pub subject: Vec<String>,
    /// Members of the location.
    pub location: Vec<String>,
}

/// Whether `have` is the `want` of a filter, or one of its `members`.
fn is_or_in(want: &str, members: &[String], have: &str) -> bool {
    want == have || members.iter().any(|m| m == have)
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
    /// The document (the resolution voted on).
    pub document: Option<String>,
    /// What the stance is about: a statement replaces an earlier one only
    /// within its modality.
    pub modality: Modality,
}

/// What the statement that set a position said besides its stance: its
/// condition, its deadline, and the other parties it was made jointly with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Terms {
    /// What the stance depends on.
    pub condition: Option<String>,
    /// The date by which it is to happen.
    pub deadline: Option<jiff::civil::Date>,
    /// The other parties of a joint statement.
    pub joint_with: Vec<String>,
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
    /// The condition, deadline and joint parties of the statement that set it.
    pub terms: Terms,
}

/// The terms of a statement that had none.
pub(crate) static NO_TERMS: Terms = Terms {
    condition: None,
    deadline: None,
    joint_with: Vec::new(),
};

impl Position {
    /// The position borrowed, as [`Answer::iter`] gives positions.
    pub fn view(&self) -> PositionRef<'_> {
        let k = &self.key;
        PositionRef {
            party: &k.party,
            predicate: &k.predicate,
            subject: k.subject.as_deref(),
            location: k.location.as_deref(),
            qualifier: k.qualifier.as_deref(),
            document: k.document.as_deref(),
            modality: k.modality,
            stance: &self.stance,
            hedge: self.hedge.as_deref(),
            said_on: self.said_on,
            seq: self.seq,
            statements: &self.statements,
            terms: &self.terms,
        }
    }
}

/// A [`Position`] borrowed from where it is held (an [`Answer`], or a
/// [`Position`]): the same fields, its key's flattened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PositionRef<'a> {
    /// Who holds it.
    pub party: &'a str,
    /// The predicate.
    pub predicate: &'a str,
    /// The subject, when the proposition names any.
    pub subject: Option<&'a str>,
    /// The place.
    pub location: Option<&'a str>,
    /// What exactly.
    pub qualifier: Option<&'a str>,
    /// The document.
    pub document: Option<&'a str>,
    /// What the stance is about.
    pub modality: Modality,
    /// The current stance.
    pub stance: &'a str,
    /// The hedge of the statement that set it, if hedged.
    pub hedge: Option<&'a str>,
    /// When the current stance was last said.
    pub said_on: SaidOn,
    /// The seq of that statement.
    pub seq: Seq,
    /// Every statement that supports the current stance, in seq order.
    pub statements: &'a [Seq],
    /// The condition, deadline and joint parties of the statement that set it.
    pub terms: &'a Terms,
}

impl PositionRef<'_> {
    /// The position, owned.
    pub fn to_position(&self) -> Position {
        let owned = |s: Option<&str>| s.map(str::to_string);
        Position {
            key: PositionKey {
                party: self.party.to_string(),
                predicate: self.predicate.to_string(),
                subject: owned(self.subject),
                location: owned(self.location),
                qualifier: owned(self.qualifier),
                document: owned(self.document),
                modality: self.modality,
            },
            stance: self.stance.to_string(),
            hedge: owned(self.hedge),
            said_on: self.said_on,
            seq: self.seq,
            statements: self.statements.to_vec(),
            terms: self.terms.clone(),
        }
    }

    /// Whether it belongs to the named view `view` (see [`in_view`]).
    pub fn in_view(&self, view: &str) -> bool {
        view_holds(self.predicate, self.modality, view)
    }
}

/// Corrections and retractions, resolved to the statements they change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Amendments {
    /// Statements removed by a retraction.
    pub retracted: HashSet<Seq>,
    /// Statements replaced: the seq of the newest correction and its statement.
    pub corrected: HashMap<Seq, (Seq, Statement)>,
    /// Seq → the statement a correction ultimately corrects.
    pub roots: HashMap<Seq, Seq>,
    /// The retraction of each statement or correction retracted: of → the
    /// retraction's seq.
    pub retracted_by: HashMap<Seq, Seq>,
}

impl Amendments {
    /// Resolves the corrections and retractions among `events` (in seq order)
    /// that the ledger knew at `known_at`.
    pub fn collect<'a>(
        events: impl IntoIterator<Item = &'a Entry>,
        known_at: Option<KnownAt>,
    ) -> Amendments {
        let mut corrections: Vec<(Seq, Seq, Statement)> = Vec::new();
        let mut retracted: HashSet<Seq> = HashSet::new();
        let mut retracted_by: HashMap<Seq, Seq> = HashMap::new();
        for r in events {
            if known_at.is_some_and(|k| !k.includes(r.seq, r.recorded_at)) {
                break;
            }
            match &r.event {
                Some(Event::Correction(c)) => corrections.push((r.seq, c.of, c.statement.clone())),
                Some(Event::Retraction(x)) => {
                    retracted.insert(x.of);
                    retracted_by.entry(x.of).or_insert(r.seq);
                }
                _ => {}
            }
        }
        let mut a = Amendments {
            retracted_by,
            ..Amendments::default()
        };
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

/// The named views of positions, as `--view` takes them.
pub const VIEWS: &[&str] = &["withdrawal", "presence"];

/// Whether a position belongs to the named view `view` (one of [`VIEWS`]):
/// `withdrawal` (the normative and commissive positions on withdrawal),
/// `presence` (the epistemic positions on presence). No other name holds any.
pub fn in_view(p: &Position, view: &str) -> bool {
    view_holds(&p.key.predicate, p.key.modality, view)
}

/// [`in_view`] for a position's predicate and modality.
fn view_holds(predicate: &str, modality: Modality, view: &str) -> bool {
    match view {
        "withdrawal" => {
            predicate == "withdrawal"
                && matches!(modality, Modality::Normative | Modality::Commissive)
        }
        "presence" => predicate == "presence" && modality == Modality::Epistemic,
        _ => false,
    }
}

/// Positions from events in seq order, in one call (two passes over `events`).
pub fn positions(events: &[Entry], query: &Query) -> Vec<Position> {
    fold_all(
        events,
        Fold::new(query, Amendments::collect(events, query.known_at)),
    )
}

/// [`positions`] as they were derived before modalities existed: one per
/// proposition, whatever the modality of its stance (every key says normative).
pub fn positions_without_modalities(events: &[Entry], query: &Query) -> Vec<Position> {
    let amendments = Amendments::collect(events, query.known_at);
    fold_all(events, Fold::new(query, amendments).without_modalities())
}

fn fold_all(events: &[Entry], mut fold: Fold<'_>) -> Vec<Position> {
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
        Some("concern") => "concern",
        Some("commitment") => "commitment",
        Some("refusal") => "refusal",
        Some("threat") => "threat",
        Some("formal-act") => "formal-act",
        Some("vote") => "vote",
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

/// How one position changed between two dates, borrowed from where the
/// positions are held (two [`Answer`]s, or two lists of [`Position`]s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeRef<'a> {
    /// Held at the end, not at the start.
    Appeared(PositionRef<'a>),
    /// Held at both, with another stance at the end.
    Changed {
        /// At the start.
        from: PositionRef<'a>,
        /// At the end.
        to: PositionRef<'a>,
    },
    /// Held at the start, not at the end.
    Ended(PositionRef<'a>),
}

impl ChangeRef<'_> {
    /// The change, owned.
    pub fn to_change(&self) -> Change {
        match self {
            ChangeRef::Appeared(p) => Change::Appeared(p.to_position()),
            ChangeRef::Changed { from, to } => Change::Changed {
                from: Box::new(from.to_position()),
                to: Box::new(to.to_position()),
            },
            ChangeRef::Ended(p) => Change::Ended(p.to_position()),
        }
    }
}

/// Positions compared by their keys, as [`PositionKey`] orders them.
fn key_order(a: &PositionRef<'_>, b: &PositionRef<'_>) -> std::cmp::Ordering {
    (a.party, a.predicate, a.subject, a.location)
        .cmp(&(b.party, b.predicate, b.subject, b.location))
        .then_with(|| (a.qualifier, a.document).cmp(&(b.qualifier, b.document)))
        .then_with(|| a.modality.cmp(&b.modality))
}

/// What changed between two sets of positions, each in key order (as an
/// [`Answer`] gives them), in key order: one pass over both, nothing built.
///
/// # Panics
/// If either set is out of key order.
pub fn changes<'a>(
    before: impl IntoIterator<Item = PositionRef<'a>>,
    after: impl IntoIterator<Item = PositionRef<'a>>,
) -> impl Iterator<Item = ChangeRef<'a>> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let in_order = |mut last: Option<PositionRef<'a>>| {
        move |p: PositionRef<'a>| {
            if let Some(l) = last {
                assert!(key_order(&l, &p) != Greater, "positions out of key order");
            }
            last = Some(p);
            p
        }
    };
    let mut before = before.into_iter().map(in_order(None)).peekable();
    let mut after = after.into_iter().map(in_order(None)).peekable();
    std::iter::from_fn(move || loop {
        let order = match (before.peek(), after.peek()) {
            (None, None) => return None,
            (Some(_), None) => Less,
            (None, Some(_)) => Greater,
            (Some(b), Some(a)) => key_order(b, a),
        };
        match order {
            Less => return before.next().map(ChangeRef::Ended),
            Greater => return after.next().map(ChangeRef::Appeared),
            Equal => {
                let (b, a) = (before.next()?, after.next()?);
                if b.stance != a.stance || b.hedge != a.hedge || b.terms != a.terms {
                    return Some(ChangeRef::Changed { from: b, to: a });
                }
            }
        }
    })
}

/// What changed between two sets of positions, in key order.
pub fn diff(mut before: Vec<Position>, mut after: Vec<Position>) -> Vec<Change> {
    before.sort_by(|a, b| a.key.cmp(&b.key));
    after.sort_by(|a, b| a.key.cmp(&b.key));
    changes(
        before.iter().map(Position::view),
        after.iter().map(Position::view),
    )
    .map(|c| c.to_change())
    .collect()
}

mod fold;
mod replay;
pub mod snapshot;

pub use fold::{Answer, Fold};
pub(crate) use replay::{from_snapshot, replay, Chain, Met, StatementSink};

#[cfg(test)]
mod tests;
