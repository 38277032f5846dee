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
    let by = match (coded_by, coded) {
        (None, _) => true,
        (Some(want), None) => want == CODED_BY_HUMAN,
        (Some(want), Some(c)) => want == c.coder,
    };
    let mentions = match (min_mentions, coded) {
        (Some(n), Some(c)) => c.mentions >= n,
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

impl Terms {
    /// A statement's terms as `party` holds them; `None` when it has none.
    fn of(s: &Statement, party: &str) -> Option<Terms> {
        if s.condition.is_none() && s.deadline.is_none() && s.joint_with.is_empty() {
            return None;
        }
        Some(Terms {
            condition: s.condition.clone(),
            deadline: s.deadline,
            joint_with: s.parties().filter(|p| *p != party).cloned().collect(),
        })
    }
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
        events: impl IntoIterator<Item = &'a Entry>,
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
    /// Whether the winner was recorded by hand (it has no coder's provenance).
    hand: bool,
    stance: u16,
    hedge: Option<Box<str>>,
    terms: Option<Box<Terms>>,
    by_stance: Vec<(u16, Vec<Seq>)>,
}

impl Slot {
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        seq: Seq,
        said_on: SaidOn,
        hand: bool,
        stance: u16,
        hedge: Option<&str>,
        terms: Option<Terms>,
    ) {
        let at = (said_on, seq);
        // The later date wins; on one date, a hand-recorded statement before a
        // machine-coded one, then the later time and seq.
        let wins = match said_on.date.cmp(&self.winner.0.date) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => (hand, at) >= (self.hand, self.winner),
        };
        if wins {
            self.winner = at;
            self.hand = hand;
            self.stance = stance;
            if self.hedge.as_deref() != hedge {
                self.hedge = hedge.map(Box::from);
            }
            self.terms = terms.map(Box::new);
        }
        match self.by_stance.iter_mut().find(|(st, _)| *st == stance) {
            Some((_, seqs)) => seqs.push(seq),
            None => self.by_stance.push((stance, vec![seq])),
        }
    }
}

/// Folds statements into positions.
#[derive(Debug)]
pub struct Fold<'q> {
    query: &'q Query,
    amendments: Amendments,
    /// Each key is held once, in the index; slots are addressed by number.
    slots: Vec<Slot>,
    /// Keys come from the ledger, so a fast hash without flood resistance does.
    index: HashMap<PositionKey, usize, rustc_hash::FxBuildHasher>,
    /// The stances met so far, by number, with their modalities.
    stances: Vec<(String, Modality)>,
    /// Whether positions are kept apart by modality (always, but for checking
    /// what was derived before modalities existed).
    by_modality: bool,
}

/// The key of a statement's position about `subject`, in `modality` (the
/// vocabulary's modality of its stance, unless a fold keys without them).
pub fn key_of_statement(
    s: &Statement,
    party: &str,
    subject: Option<&String>,
    modality: Modality,
) -> PositionKey {
    PositionKey {
        party: party.to_string(),
        predicate: s.proposition.predicate.clone(),
        subject: subject.cloned(),
        location: s.proposition.location.clone(),
        qualifier: s.proposition.qualifier.clone(),
        document: s.proposition.document.clone(),
        modality,
    }
}

impl<'q> Fold<'q> {
    /// A fold answering `query`, with the chain's amendments already resolved.
    pub fn new(query: &'q Query, amendments: Amendments) -> Self {
        Fold {
            query,
            amendments,
            slots: Vec::new(),
            index: HashMap::default(),
            stances: Vec::new(),
            by_modality: true,
        }
    }

    /// Whether the query's filter keeps positions with these key fields.
    pub(crate) fn keeps(
        &self,
        party: &str,
        predicate: &str,
        subject: Option<&str>,
        location: Option<&str>,
    ) -> bool {
        let f = &self.query.filter;
        let inc = &f.includes;
        f.party
            .as_deref()
            .is_none_or(|x| is_or_in(x, &inc.party, party))
            && f.predicate.as_deref().is_none_or(|x| x == predicate)
            && f.subject
                .as_deref()
                .is_none_or(|x| subject.is_some_and(|s| is_or_in(x, &inc.subject, s)))
            && f.location
                .as_deref()
                .is_none_or(|x| location.is_some_and(|l| is_or_in(x, &inc.location, l)))
    }

    /// The slot of a key the filter keeps, created when new.
    pub(crate) fn slot(&mut self, key: PositionKey) -> usize {
        let next = self.slots.len();
        let i = *self.index.entry(key).or_insert(next);
        if i == next {
            self.slots.push(Slot {
                winner: (
                    SaidOn {
                        date: jiff::civil::Date::MIN,
                        time: None,
                    },
                    0,
                ),
                hand: false,
                stance: 0,
                hedge: None,
                terms: None,
                by_stance: Vec::new(),
            });
        }
        i
    }

    /// The same fold with one position per proposition whatever the modality,
    /// as positions were derived before modalities existed: for checking what
    /// was derived then (evidence bundles of format 1). Every key then says
    /// normative.
    pub fn without_modalities(mut self) -> Self {
        self.by_modality = false;
        self
    }

    /// The number of a stance in this fold, and the modality it keys.
    pub(crate) fn stance_id(&mut self, stance: &str) -> (u16, Modality) {
        match self.stances.iter().position(|(s, _)| s == stance) {
            Some(i) => (i as u16, self.stances[i].1),
            None => {
                let modality = match self.by_modality {
                    true => Vocabulary::builtin().modality(stance),
                    false => Modality::Normative,
                };
                self.stances.push((stance.to_string(), modality));
                ((self.stances.len() - 1) as u16, modality)
            }
        }
    }

    /// Folds one (statement, subject) into slot `i`, if said by the as-of
    /// date; `stance` is a number from [`Fold::stance_id`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put(
        &mut self,
        i: usize,
        seq: Seq,
        said_on: SaidOn,
        hand: bool,
        stance: u16,
        hedge: Option<&str>,
        terms: Option<Terms>,
    ) {
        if self.query.as_of.is_some_and(|d| said_on.date > d) {
            return;
        }
        self.slots[i].put(seq, said_on, hand, stance, hedge, terms);
    }

    /// Whether the query keeps hand-recorded statements (`--coded-by`).
    pub(crate) fn admits_hand_recorded(&self) -> bool {
        self.query.filter.admits(None)
    }

    fn add_statement(&mut self, seq: Seq, s: &Statement) {
        if !self.query.filter.admits(s.coded.as_deref()) {
            return;
        }
        let hand = s.is_hand_recorded();
        let p = &s.proposition;
        let (stance, modality) = self.stance_id(&s.stance);
        let one = |fold: &mut Self, party: &str, subject: Option<&String>| {
            if fold.keeps(
                party,
                &p.predicate,
                subject.map(String::as_str),
                p.location.as_deref(),
            ) {
                let i = fold.slot(key_of_statement(s, party, subject, modality));
                let terms = Terms::of(s, party);
                fold.put(i, seq, s.said_on, hand, stance, s.hedge.as_deref(), terms);
            }
        };
        for party in s.parties() {
            if p.subjects.is_empty() {
                one(self, party, None);
            }
            for subject in &p.subjects {
                one(self, party, Some(subject));
            }
        }
    }

    /// Adds one event (events must come in seq order).
    pub fn add(&mut self, r: &Entry) {
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
        if self.amendments.retracted.contains(&r.seq) {
            return;
        }
        match self.amendments.corrected.get(&r.seq) {
            Some((_, s)) => {
                let s = s.clone();
                self.add_statement(r.seq, &s);
            }
            None => self.add_statement(r.seq, original),
        }
    }

    /// Whether the statement event at `seq` counts as it was recorded: neither
    /// retracted nor corrected. Snapshots ask this of every statement they hold.
    pub(crate) fn is_standing(&self, seq: Seq) -> bool {
        !self.amendments.retracted.contains(&seq) && !self.amendments.corrected.contains_key(&seq)
    }

    /// Folds the corrected versions of the statements up to `seq` (a snapshot
    /// folds only the standing statements it holds).
    pub(crate) fn add_corrections_upto(&mut self, seq: Seq) {
        let mut corrected: Vec<(Seq, Statement)> = self
            .amendments
            .corrected
            .iter()
            .filter(|(root, _)| **root <= seq && !self.amendments.retracted.contains(root))
            .map(|(root, (_, s))| (*root, s.clone()))
            .collect();
        corrected.sort_by_key(|(root, _)| *root);
        for (root, s) in corrected {
            self.add_statement(root, &s);
        }
    }

    /// The positions, ordered by key.
    pub fn finish(self) -> Vec<Position> {
        let Fold {
            query,
            mut slots,
            index,
            stances,
            ..
        } = self;
        let wanted = query
            .filter
            .stance
            .as_ref()
            .map(|w| stances.iter().position(|(s, _)| s == w).map(|i| i as u16));
        // Slots in the order they were made (a snapshot makes them in key order,
        // which leaves little for the sort below).
        let mut keys: Vec<Option<PositionKey>> = vec![None; slots.len()];
        for (key, i) in index {
            keys[i] = Some(key);
        }
        let mut out: Vec<Position> = Vec::new();
        for (slot, key) in slots.drain(..).zip(keys) {
            let Some(key) = key else { continue };
            if slot.by_stance.is_empty() || wanted.is_some_and(|w| w != Some(slot.stance)) {
                continue;
            }
            let mut statements = slot
                .by_stance
                .into_iter()
                .find(|(st, _)| *st == slot.stance)
                .map(|(_, v)| v)
                .unwrap_or_default();
            statements.sort_unstable();
            out.push(Position {
                key,
                stance: stances[slot.stance as usize].0.clone(),
                hedge: slot.hedge.map(String::from),
                said_on: slot.winner.0,
                seq: slot.winner.1,
                statements,
                terms: slot.terms.map(|t| *t).unwrap_or_default(),
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
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

/// What changed between two sets of positions (each ordered by key).
pub fn diff(before: Vec<Position>, after: Vec<Position>) -> Vec<Change> {
    let mut before: BTreeMap<PositionKey, Position> =
        before.into_iter().map(|p| (p.key.clone(), p)).collect();
    let mut out = Vec::new();
    for p in after {
        match before.remove(&p.key) {
            None => out.push(Change::Appeared(p)),
            Some(b) if b.stance != p.stance || b.hedge != p.hedge || b.terms != p.terms => out
                .push(Change::Changed {
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

mod replay;
pub mod snapshot;

pub use replay::{from_snapshot, replay, Chain};

#[cfg(test)]
mod tests;
