//! The fold itself: statements in, positions out.
//!
//! A fold holds every string it meets once, numbered ([`Names`]), and a
//! position's key as seven numbers, so that folding a statement compares and
//! copies numbers, not strings. Each (statement, position) pair met is a
//! [`Fact`] in one flat list, written one after another while folding and
//! sorted by key once at the end, where each key's facts make a position.
//! Strings are only built again for the positions the query asks for.

use super::{admits_coder, is_or_in, Amendments, Position, PositionRef, Query, Terms, NO_TERMS};
use crate::event::{Entry, Event, SaidOn, Seq, StatementRef};
use crate::vocab::{Modality, Vocabulary};
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;

/// The strings of a fold, each held once and numbered in the order met.
/// Strings come from the ledger, so a fast hash without flood resistance does.
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<Box<str>, u32, FxBuildHasher>,
    names: Vec<Box<str>>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.ids.get(s) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(s.into());
        self.ids.insert(s.into(), i);
        i
    }

    /// `0` for none, else the string's number + 1.
    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(0, |s| self.id(s) + 1)
    }

    fn get(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    fn get_opt(&self, i: u32) -> Option<&str> {
        i.checked_sub(1).map(|i| self.get(i))
    }

    /// Each string's place among all of them in sorted order, by number;
    /// and the number of the string at each place.
    fn ranks(&self) -> (Vec<u32>, Vec<u32>) {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.get(*a).cmp(self.get(*b)));
        let mut rank = vec![0; order.len()];
        for (r, i) in order.iter().enumerate() {
            rank[*i as usize] = r as u32;
        }
        (rank, order)
    }
}

/// A position's key as numbers: party, predicate, subject, location,
/// qualifier, document (the optional ones `0` for none, else number + 1), and
/// the modality's index.
pub(crate) type Key = [u32; 7];

/// One (statement, position) pair met: which statement said which stance
/// about the position keyed `key`, when, and how.
#[derive(Debug, Clone, Copy)]
struct Fact {
    key: Key,
    seq: Seq,
    said_on: SaidOn,
    /// `0` for none, else the hedge's number + 1.
    hedge: u32,
    /// `0` for none, else the number + 1 of its terms in the fold's list.
    terms: u32,
    stance: u16,
    /// Whether the statement was recorded by hand (it has no coder's provenance).
    hand: bool,
}

impl Fact {
    /// The order in which facts on one position set its stance: the later
    /// date wins; on one date, a hand-recorded statement before a
    /// machine-coded one, then the later time and seq.
    fn standing(&self) -> (jiff::civil::Date, bool, SaidOn, Seq) {
        (self.said_on.date, self.hand, self.said_on, self.seq)
    }
}

/// A set of seqs, one bit each.
#[derive(Debug)]
pub(crate) struct SeqSet(Vec<u64>);

impl SeqSet {
    /// Whether it holds `seq`.
    pub(crate) fn contains(&self, seq: Seq) -> bool {
        usize::try_from(seq / 64)
            .ok()
            .and_then(|i| self.0.get(i))
            .is_some_and(|w| w >> (seq % 64) & 1 == 1)
    }

    /// The set of these seqs.
    fn of<'a>(seqs: impl IntoIterator<Item = &'a Seq>) -> SeqSet {
        let mut set = SeqSet(Vec::new());
        for s in seqs {
            let Ok(word) = usize::try_from(*s / 64) else {
                continue;
            };
            if set.0.len() <= word {
                set.0.resize(word + 1, 0);
            }
            set.0[word] |= 1 << (*s % 64);
        }
        set
    }
}

/// Folds statements into positions.
///
/// Folding a statement only notes its facts, one per position it speaks to,
/// one after another: no position is looked up while folding. The answer
/// sorts the facts by key once, and each run of one key is a position, whose
/// stance is that of its standing fact.
#[derive(Debug)]
pub struct Fold<'q> {
    query: &'q Query,
    amendments: Amendments,
    names: Names,
    facts: Vec<Fact>,
    /// The terms of the facts that have any.
    terms: Vec<Terms>,
    /// Facts from a snapshot, which come in key order: where they start and
    /// end, and the key of the last.
    run: std::ops::Range<usize>,
    run_key: Option<Key>,
    /// The stances met so far, by number, with their modalities.
    stances: Vec<(String, Modality)>,
    /// Whether positions are kept apart by modality (always, but for checking
    /// what was derived before modalities existed).
    by_modality: bool,
}

impl<'q> Fold<'q> {
    /// A fold answering `query`, with the chain's amendments already resolved.
    pub fn new(query: &'q Query, amendments: Amendments) -> Self {
        Fold {
            query,
            amendments,
            names: Names::default(),
            facts: Vec::new(),
            terms: Vec::new(),
            run: 0..0,
            run_key: None,
            stances: Vec::new(),
            by_modality: true,
        }
    }

    /// The same fold with one position per proposition whatever the modality,
    /// as positions were derived before modalities existed: for checking what
    /// was derived then (evidence bundles of format 1). Every key then says
    /// normative.
    pub fn without_modalities(mut self) -> Self {
        self.by_modality = false;
        self
    }

    /// The parties the query's filter keeps (its party and the actors that
    /// belong to it); `None` when it keeps every party.
    pub(crate) fn parties(&self) -> Option<Vec<String>> {
        let f = &self.query.filter;
        f.party.as_ref().map(|p| {
            std::iter::once(p)
                .chain(&f.includes.party)
                .cloned()
                .collect()
        })
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

    /// Whether a statement said then is past the query's as-of date.
    fn too_late(&self, said_on: &SaidOn) -> bool {
        self.query.as_of.is_some_and(|d| said_on.date > d)
    }

    /// The key of a position, as numbers.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn key(
        &mut self,
        party: &str,
        predicate: &str,
        subject: Option<&str>,
        location: Option<&str>,
        qualifier: Option<&str>,
        document: Option<&str>,
        modality: Modality,
    ) -> Key {
        [
            self.names.id(party),
            self.names.id(predicate),
            self.names.opt(subject),
            self.names.opt(location),
            self.names.opt(qualifier),
            self.names.opt(document),
            modality.index() as u32,
        ]
    }

    /// The number of a string in this fold (for the keys and hedges given to
    /// [`Fold::put_id`]).
    pub(crate) fn name_id(&mut self, s: &str) -> u32 {
        self.names.id(s)
    }

    /// Starts a run of facts from a snapshot, whose keys come in key order,
    /// each once, given to [`Fold::ordered_key`] before their facts.
    pub(crate) fn start_run(&mut self) {
        self.run = self.facts.len()..self.facts.len();
        self.run_key = None;
    }

    /// The next key of the run: `false` when it does not come after the
    /// run's last key, or facts of another source came between them (the
    /// snapshot is not to be believed).
    pub(crate) fn ordered_key(&mut self, key: Key) -> bool {
        if self.run.end != self.facts.len() {
            return false;
        }
        if let Some(last) = &self.run_key {
            if self.key_order(last, &key) != std::cmp::Ordering::Less {
                return false;
            }
        }
        self.run_key = Some(key);
        true
    }

    /// Ends the run of facts begun by [`Fold::start_run`].
    pub(crate) fn end_run(&mut self) {
        self.run.end = self.facts.len();
    }

    /// Keys compared as the positions they key are ordered: by their strings.
    fn key_order(&self, a: &Key, b: &Key) -> std::cmp::Ordering {
        if a == b {
            return std::cmp::Ordering::Equal;
        }
        let n = &self.names;
        (n.get(a[0]), n.get(a[1]))
            .cmp(&(n.get(b[0]), n.get(b[1])))
            .then_with(|| {
                (2..6)
                    .map(|i| n.get_opt(a[i]).cmp(&n.get_opt(b[i])))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then(a[6].cmp(&b[6]))
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

    /// Notes one (statement, position) pair, if said by the as-of date;
    /// `stance` is a number from [`Fold::stance_id`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put(
        &mut self,
        key: Key,
        seq: Seq,
        said_on: SaidOn,
        hand: bool,
        stance: u16,
        hedge: Option<&str>,
        terms: Option<Terms>,
    ) {
        if self.too_late(&said_on) {
            return;
        }
        let hedge = self.names.opt(hedge);
        self.put_id(key, seq, said_on, hand, stance, hedge, terms);
    }

    /// [`Fold::put`] with the hedge as `0` for none, else its number from
    /// [`Fold::name_id`] + 1.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_id(
        &mut self,
        key: Key,
        seq: Seq,
        said_on: SaidOn,
        hand: bool,
        stance: u16,
        hedge: u32,
        terms: Option<Terms>,
    ) {
        if self.too_late(&said_on) {
            return;
        }
        let terms = match terms {
            None => 0,
            Some(t) => {
                self.terms.push(t);
                self.terms.len() as u32
            }
        };
        self.facts.push(Fact {
            key,
            seq,
            said_on,
            hedge,
            terms,
            stance,
            hand,
        });
    }

    /// Makes room for about `facts` more statements' facts.
    pub(crate) fn reserve(&mut self, facts: usize) {
        self.facts.reserve(facts);
    }

    /// The query's as-of date, as days since 1970-01-01 (`i32::MAX`: none).
    pub(crate) fn last_day(&self) -> i32 {
        self.query
            .as_of
            .map_or(i32::MAX, crate::dates::days_from_date)
    }

    /// The statement events up to `seq` that do not count as they were
    /// recorded (retracted or corrected, see [`Fold::is_standing`]), as a set
    /// that answers in one step.
    pub(crate) fn not_standing_upto(&self, seq: Seq) -> SeqSet {
        let a = &self.amendments;
        SeqSet::of(
            a.retracted
                .iter()
                .chain(a.corrected.keys())
                .filter(|s| **s <= seq),
        )
    }

    /// Whether the query keeps hand-recorded statements (`--coded-by`).
    pub(crate) fn admits_hand_recorded(&self) -> bool {
        self.query.filter.admits(None)
    }

    fn add_statement<S: AsRef<str>>(&mut self, seq: Seq, s: &StatementRef<'_, S>) {
        let f = &self.query.filter;
        let coder = s.coded.as_ref().map(|c| (c.coder, c.mentions));
        if self.too_late(&s.said_on) || !admits_coder(f.coded_by.as_deref(), f.min_mentions, coder)
        {
            return;
        }
        let (stance, modality) = self.stance_id(s.stance);
        let parties = std::iter::once(s.party).chain(s.joint_with.iter().map(AsRef::as_ref));
        for party in parties {
            if s.subjects.is_empty() {
                self.add_one(seq, s, stance, modality, party, None);
            }
            for subject in s.subjects {
                self.add_one(seq, s, stance, modality, party, Some(subject.as_ref()));
            }
        }
    }

    fn add_one<S: AsRef<str>>(
        &mut self,
        seq: Seq,
        s: &StatementRef<'_, S>,
        stance: u16,
        modality: Modality,
        party: &str,
        subject: Option<&str>,
    ) {
        if !self.keeps(party, s.predicate, subject, s.location) {
            return;
        }
        let key = self.key(
            party,
            s.predicate,
            subject,
            s.location,
            s.qualifier,
            s.document,
            modality,
        );
        let terms = terms_of(s, party);
        let hand = s.coded.is_none();
        self.put(key, seq, s.said_on, hand, stance, s.hedge, terms);
    }

    /// Whether the ledger knew the event at this point of the query.
    fn known(&self, seq: Seq, recorded_at: i64) -> bool {
        self.query
            .known_at
            .is_none_or(|k| k.includes(seq, recorded_at))
    }

    /// Adds one event.
    pub fn add(&mut self, r: &Entry) {
        if let Some(Event::Statement(original)) = &r.event {
            self.add_recorded(r.seq, r.recorded_at, &original.into());
        }
    }

    /// Adds the statement recorded at `seq`, as it stands: not if
    /// retracted, as corrected if corrected.
    pub(crate) fn add_recorded<S: AsRef<str>>(
        &mut self,
        seq: Seq,
        recorded_at: i64,
        s: &StatementRef<'_, S>,
    ) {
        if !self.known(seq, recorded_at) || self.amendments.retracted.contains(&seq) {
            return;
        }
        match self.amendments.corrected.get(&seq) {
            Some((_, c)) => {
                let c = c.clone();
                self.add_statement(seq, &(&c).into());
            }
            None => self.add_statement(seq, s),
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
        self.add_corrections(|root| root <= seq);
    }

    /// Folds the corrected versions of the statements `keep` accepts.
    fn add_corrections(&mut self, keep: impl Fn(Seq) -> bool) {
        let mut corrected: Vec<(Seq, crate::event::Statement)> = self
            .amendments
            .corrected
            .iter()
            .filter(|(root, _)| keep(**root) && !self.amendments.retracted.contains(root))
            .map(|(root, (_, s))| (*root, s.clone()))
            .collect();
        corrected.sort_by_key(|(root, _)| *root);
        for (root, s) in corrected {
            self.add_statement(root, &(&s).into());
        }
    }

    /// Takes in the facts of `part`, a fold of the same query over the events
    /// that come next (made with no amendments), as if they had been folded
    /// here.
    pub(crate) fn absorb(&mut self, part: Fold<'_>) {
        let names: Vec<u32> = part.names.names.iter().map(|s| self.names.id(s)).collect();
        let stances: Vec<u16> = part
            .stances
            .iter()
            .map(|(s, _)| self.stance_id(s).0)
            .collect();
        let opt = |x: u32| x.checked_sub(1).map_or(0, |x| names[x as usize] + 1);
        let terms = self.terms.len() as u32;
        self.terms.extend(part.terms);
        self.facts.reserve(part.facts.len());
        for f in part.facts {
            self.facts.push(Fact {
                key: renumbered(&f.key, &names),
                hedge: opt(f.hedge),
                terms: match f.terms {
                    0 => 0,
                    t => t + terms,
                },
                stance: stances[f.stance as usize],
                ..f
            });
        }
    }

    /// Takes the chain's amendments, met after the statements they amend were
    /// folded as recorded (the fold was made with none), from a read of seqs
    /// up to `last`: the facts of the statements retracted or corrected are
    /// dropped, and the corrected statements folded as they stand, those
    /// that `was_statement` says were met as statements (not withheld, not
    /// another kind of event), as a fold that knew the amendments first would.
    pub(crate) fn amend(
        &mut self,
        amendments: Amendments,
        last: Seq,
        was_statement: impl Fn(Seq) -> bool,
    ) {
        self.amendments = amendments;
        let gone = self.not_standing_upto(last);
        if gone.0.is_empty() {
            return;
        }
        self.facts.retain(|f| !gone.contains(f.seq));
        self.add_corrections(|root| (1..=last).contains(&root) && was_statement(root));
    }

    /// The positions, ordered by key.
    pub fn finish(self) -> Vec<Position> {
        self.answer().into_positions()
    }

    /// The positions, ordered by key, as the fold holds them.
    pub fn answer(self) -> Answer {
        let Fold {
            query,
            names,
            mut facts,
            terms,
            run,
            stances,
            ..
        } = self;
        // Keys by each string's place in string order, so that numbers
        // compare as the strings do.
        let (rank, by_rank) = names.ranks();
        for f in &mut facts {
            f.key = renumbered(&f.key, &rank);
        }
        sort_facts(&mut facts, run);
        let wanted = query
            .filter
            .stance
            .as_ref()
            .map(|w| stances.iter().position(|(s, _)| s == w).map(|i| i as u16));
        // Each run of one key is a position: its standing fact sets the
        // stance, and the facts of that stance are its statements.
        let mut order = Vec::new();
        let mut start = vec![0u32];
        let mut seqs = Vec::new();
        let mut first = 0;
        while first < facts.len() {
            let key = facts[first].key;
            let end = facts[first..]
                .iter()
                .position(|f| f.key != key)
                .map_or(facts.len(), |n| first + n);
            let mut standing = first;
            for i in first + 1..end {
                if facts[i].standing() >= facts[standing].standing() {
                    standing = i;
                }
            }
            let stance = facts[standing].stance;
            if wanted.is_none_or(|w| w == Some(stance)) {
                let from = seqs.len();
                seqs.extend(
                    facts[first..end]
                        .iter()
                        .filter(|f| f.stance == stance)
                        .map(|f| f.seq),
                );
                let these = &mut seqs[from..];
                if !these.is_sorted() {
                    these.sort_unstable();
                }
                start.push(seqs.len() as u32);
                order.push(standing as u32);
            }
            first = end;
        }
        // When few are shown, only their standing facts are kept.
        if order.len() < facts.len() / 2 {
            facts = order.iter().map(|i| facts[*i as usize]).collect();
            order = (0..facts.len() as u32).collect();
        }
        Answer {
            names,
            by_rank,
            facts,
            terms,
            stances,
            order,
            start,
            seqs,
        }
    }
}

/// A key with its strings' numbers `n` made `to[n]` (the optional ones kept
/// `0` for none, else number + 1).
fn renumbered(k: &Key, to: &[u32]) -> Key {
    let opt = |x: u32| x.checked_sub(1).map_or(0, |x| to[x as usize] + 1);
    [
        to[k[0] as usize],
        to[k[1] as usize],
        opt(k[2]),
        opt(k[3]),
        opt(k[4]),
        opt(k[5]),
        k[6],
    ]
}

/// Sorts facts by key, then seq. Facts of a run (from a snapshot) that are
/// in that order already are merged with the others, which are sorted alone.
fn sort_facts(facts: &mut [Fact], run: std::ops::Range<usize>) {
    let by = |a: &Fact, b: &Fact| (a.key, a.seq).cmp(&(b.key, b.seq));
    let in_order = |f: &[Fact]| f.is_sorted_by(|a, b| by(a, b).is_le());
    if run.len() > 1 && in_order(&facts[run.clone()]) {
        facts[..run.end].rotate_left(run.start);
        let n = run.len();
        facts[n..].sort_unstable_by(by);
        // Merged from the back, with the others set aside.
        let others = facts[n..].to_vec();
        let (mut i, mut j, mut w) = (n, others.len(), facts.len());
        while j > 0 {
            w -= 1;
            if i > 0 && by(&facts[i - 1], &others[j - 1]).is_gt() {
                facts[w] = facts[i - 1];
                i -= 1;
            } else {
                facts[w] = others[j - 1];
                j -= 1;
            }
        }
    } else if !in_order(facts) {
        sort_on_two_threads(facts, by);
    }
}

/// Sorts `facts` by `by`: a long list is split about its middle element and
/// its halves sorted side by side.
fn sort_on_two_threads(
    facts: &mut [Fact],
    by: impl Fn(&Fact, &Fact) -> std::cmp::Ordering + Copy + Send,
) {
    if facts.len() < PARALLEL_SORT_FROM {
        facts.sort_unstable_by(by);
        return;
    }
    let mid = facts.len() / 2;
    facts.select_nth_unstable_by(mid, by);
    let (low, high) = facts.split_at_mut(mid);
    std::thread::scope(|scope| {
        scope.spawn(move || low.sort_unstable_by(by));
        high[1..].sort_unstable_by(by);
    });
}

/// How many facts make a list long enough to sort on two threads.
const PARALLEL_SORT_FROM: usize = 1 << 16;

/// The positions a fold found, ordered by key, as the fold holds them: each
/// string once, each position's key as numbers, and the statements that
/// support each position laid out one position after another. Read them
/// borrowed ([`Answer::iter`]), which builds nothing, or owned
/// ([`Answer::into_positions`]).
#[derive(Debug)]
pub struct Answer {
    names: Names,
    /// The number of the string at each place in string order.
    by_rank: Vec<u32>,
    /// Facts whose keys are numbered by the strings' places.
    facts: Vec<Fact>,
    terms: Vec<Terms>,
    stances: Vec<(String, Modality)>,
    /// The standing fact of each position shown, in key order.
    order: Vec<u32>,
    /// Where the statements of each position start in `seqs` (and, one on, end).
    start: Vec<u32>,
    seqs: Vec<Seq>,
}

impl Answer {
    /// How many positions it holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The positions, borrowed, in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = PositionRef<'_>> + '_ {
        (0..self.order.len()).map(|n| self.position(n))
    }

    /// The positions, owned, in key order.
    pub fn into_positions(self) -> Vec<Position> {
        self.iter().map(|p| p.to_position()).collect()
    }

    fn position(&self, n: usize) -> PositionRef<'_> {
        let f = &self.facts[self.order[n] as usize];
        let (k, names) = (&f.key, &self.names);
        let name = |r: u32| names.get(self.by_rank[r as usize]);
        let opt = |r: u32| r.checked_sub(1).map(name);
        PositionRef {
            party: name(k[0]),
            predicate: name(k[1]),
            subject: opt(k[2]),
            location: opt(k[3]),
            qualifier: opt(k[4]),
            document: opt(k[5]),
            modality: Modality::ALL[k[6] as usize],
            stance: &self.stances[f.stance as usize].0,
            hedge: names.get_opt(f.hedge),
            said_on: f.said_on,
            seq: f.seq,
            statements: &self.seqs[self.start[n] as usize..self.start[n + 1] as usize],
            terms: f
                .terms
                .checked_sub(1)
                .map_or(&NO_TERMS, |t| &self.terms[t as usize]),
        }
    }
}

/// A statement's terms as `party` holds them; `None` when it has none.
fn terms_of<S: AsRef<str>>(s: &StatementRef<'_, S>, party: &str) -> Option<Terms> {
    if s.condition.is_none() && s.deadline.is_none() && s.joint_with.is_empty() {
        return None;
    }
    let parties = std::iter::once(s.party).chain(s.joint_with.iter().map(AsRef::as_ref));
    Some(Terms {
        condition: s.condition.map(str::to_string),
        deadline: s.deadline,
        joint_with: parties
            .filter(|p| *p != party)
            .map(str::to_string)
            .collect(),
    })
}
