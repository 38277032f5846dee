//! The fold itself: statements in, positions out.
//!
//! A fold holds every string it meets once, numbered ([`Names`]), and a
//! position's key as seven numbers, so that folding a statement compares and
//! copies numbers, not strings. What each position holds (the statement that
//! set it) sits in a [`Slot`]; which statements support which stance is one flat
//! list of facts for the whole fold, sorted out once at the end. Strings are
//! only built again for the positions the query asks for.

use super::{admits_coder, is_or_in, Amendments, Position, PositionRef, Query, Terms, NO_TERMS};
use crate::event::{Entry, Event, SaidOn, Seq, StatementRef};
use crate::vocab::{Modality, Vocabulary};
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::collections::HashMap;
use std::hash::BuildHasher;

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

    /// Each string's place among all of them in sorted order, by number.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|a, b| self.get(*a).cmp(self.get(*b)));
        let mut rank = vec![0; order.len()];
        for (r, i) in order.into_iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        rank
    }
}

/// A position's key as numbers: party, predicate, subject, location,
/// qualifier, document (the optional ones `0` for none, else number + 1), and
/// the modality's index.
pub(crate) type Key = [u32; 7];

/// What one position holds while folding.
#[derive(Debug)]
struct Slot {
    /// When and by which statement its stance was last said (seq 0: never).
    winner: (SaidOn, Seq),
    /// Whether that statement was recorded by hand (it has no coder's provenance).
    hand: bool,
    stance: u16,
    /// `0` for none, else the hedge's number + 1.
    hedge: u32,
    terms: Option<Box<Terms>>,
}

/// One (statement, position) pair met: which statement said which stance
/// about the position in slot `slot`.
#[derive(Debug, Clone, Copy)]
struct Fact {
    seq: Seq,
    slot: u32,
    stance: u16,
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
}

/// Folds statements into positions.
#[derive(Debug)]
pub struct Fold<'q> {
    query: &'q Query,
    amendments: Amendments,
    names: Names,
    /// The key of each slot.
    keys: Vec<Key>,
    slots: Vec<Slot>,
    /// Slot numbers, found by their key in `keys`: four bytes a slot. The
    /// slots of `run` are not in it.
    index: HashTable<u32>,
    /// Slots made from a snapshot's keys, which come in key order: found by
    /// a binary search over their keys instead of through `index`.
    run: std::ops::Range<u32>,
    facts: Vec<Fact>,
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
            keys: Vec::new(),
            slots: Vec::new(),
            index: HashTable::new(),
            run: 0..0,
            facts: Vec::new(),
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

    /// The slot of a position, created when new.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn slot(
        &mut self,
        party: &str,
        predicate: &str,
        subject: Option<&str>,
        location: Option<&str>,
        qualifier: Option<&str>,
        document: Option<&str>,
        modality: Modality,
    ) -> usize {
        let key = [
            self.names.id(party),
            self.names.id(predicate),
            self.names.opt(subject),
            self.names.opt(location),
            self.names.opt(qualifier),
            self.names.opt(document),
            modality.index() as u32,
        ];
        self.slot_of_key(key)
    }

    /// The number of a string in this fold (for [`Fold::slot_of_key`] and
    /// [`Fold::put_id`]).
    pub(crate) fn name_id(&mut self, s: &str) -> u32 {
        self.names.id(s)
    }

    /// The slot of a position whose key is given as numbers from
    /// [`Fold::name_id`] (optional parts `0` for none, else number + 1), and
    /// its modality's index; created when new.
    #[inline(never)]
    pub(crate) fn slot_of_key(&mut self, key: Key) -> usize {
        let hash = FxBuildHasher.hash_one(key);
        let keys = &self.keys;
        if self.run.is_empty() {
            // No run (a replay of the chain): one probe finds or places it.
            let next = self.slots.len() as u32;
            let i = *self
                .index
                .entry(
                    hash,
                    |i| keys[*i as usize] == key,
                    |i| FxBuildHasher.hash_one(keys[*i as usize]),
                )
                .or_insert(next)
                .get();
            if i == next {
                self.new_slot(key);
            }
            return i as usize;
        }
        if let Some(i) = self.index.find(hash, |i| keys[*i as usize] == key) {
            return *i as usize;
        }
        if let Some(i) = self.in_run(&key) {
            return i;
        }
        let i = self.new_slot(key);
        let keys = &self.keys;
        self.index.insert_unique(hash, i as u32, |i| {
            FxBuildHasher.hash_one(keys[*i as usize])
        });
        i
    }

    /// [`Fold::slot_of_key`] for the keys of a snapshot, which come in key
    /// order, each once: a new one joins the run of slots found by binary
    /// search, without a place in the index. `None` when the key does not
    /// come after the run's last (the snapshot is not to be believed).
    pub(crate) fn slot_of_ordered_key(&mut self, key: Key) -> Option<usize> {
        let hash = FxBuildHasher.hash_one(key);
        let keys = &self.keys;
        if let Some(i) = self.index.find(hash, |i| keys[*i as usize] == key) {
            return Some(*i as usize);
        }
        let next = self.slots.len() as u32;
        if self.run.is_empty() {
            self.run = next..next;
        } else if self.run.end != next
            || self.key_order(&self.keys[next as usize - 1], &key) != std::cmp::Ordering::Less
        {
            return None;
        }
        self.run.end += 1;
        Some(self.new_slot(key))
    }

    /// The slot of the run holding `key`.
    fn in_run(&self, key: &Key) -> Option<usize> {
        let run = &self.keys[self.run.start as usize..self.run.end as usize];
        run.binary_search_by(|k| self.key_order(k, key))
            .ok()
            .map(|i| self.run.start as usize + i)
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

    /// A new slot for `key`.
    fn new_slot(&mut self, key: Key) -> usize {
        self.keys.push(key);
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
            hedge: 0,
            terms: None,
        });
        self.slots.len() - 1
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

    /// Folds one (statement, position) pair into slot `i`, if said by the
    /// as-of date; `stance` is a number from [`Fold::stance_id`].
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
        if self.too_late(&said_on) {
            return;
        }
        let hedge = self.names.opt(hedge);
        self.put_id(i, seq, said_on, hand, stance, hedge, terms);
    }

    /// [`Fold::put`] with the hedge as `0` for none, else its number from
    /// [`Fold::name_id`] + 1.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn put_id(
        &mut self,
        i: usize,
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
        let slot = &mut self.slots[i];
        let at = (said_on, seq);
        // The later date wins; on one date, a hand-recorded statement before a
        // machine-coded one, then the later time and seq.
        let wins = match said_on.date.cmp(&slot.winner.0.date) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => (hand, at) >= (slot.hand, slot.winner),
        };
        if wins {
            slot.winner = at;
            slot.hand = hand;
            slot.stance = stance;
            slot.hedge = hedge;
            slot.terms = terms.map(Box::new);
        }
        self.facts.push(Fact {
            seq,
            slot: i as u32,
            stance,
        });
    }

    /// Makes room for about `keys` more positions and `facts` more statements.
    pub(crate) fn reserve(&mut self, keys: usize, facts: usize) {
        self.keys.reserve(keys);
        self.slots.reserve(keys);
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
        let mut set = SeqSet(Vec::new());
        for s in a.retracted.iter().chain(a.corrected.keys()) {
            if *s <= seq {
                let word = (*s / 64) as usize;
                if set.0.len() <= word {
                    set.0.resize(word + 1, 0);
                }
                set.0[word] |= 1 << (*s % 64);
            }
        }
        set
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
        let i = self.slot(
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
        self.put(i, seq, s.said_on, hand, stance, s.hedge, terms);
    }

    /// Whether the ledger knew the event at this point of the query.
    fn known(&self, seq: Seq, recorded_at: i64) -> bool {
        self.query
            .known_at
            .is_none_or(|k| k.includes(seq, recorded_at))
    }

    /// Adds one event (events must come in seq order).
    pub fn add(&mut self, r: &Entry) {
        if let Some(Event::Statement(original)) = &r.event {
            self.add_recorded(r.seq, r.recorded_at, &original.into());
        }
    }

    /// Adds the statement recorded at `seq` (statements must come in seq
    /// order), as it stands: not if retracted, as corrected if corrected.
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
        let mut corrected: Vec<(Seq, crate::event::Statement)> = self
            .amendments
            .corrected
            .iter()
            .filter(|(root, _)| **root <= seq && !self.amendments.retracted.contains(root))
            .map(|(root, (_, s))| (*root, s.clone()))
            .collect();
        corrected.sort_by_key(|(root, _)| *root);
        for (root, s) in corrected {
            self.add_statement(root, &(&s).into());
        }
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
            keys,
            slots,
            facts,
            stances,
            ..
        } = self;
        let wanted = query
            .filter
            .stance
            .as_ref()
            .map(|w| stances.iter().position(|(s, _)| s == w).map(|i| i as u16));
        let shown =
            |slot: &Slot| slot.winner.1 != 0 && wanted.is_none_or(|w| w == Some(slot.stance));
        // The statements of each shown slot that support its stance, laid out
        // slot after slot: count, then place.
        let mut start = vec![0u32; slots.len() + 1];
        for f in &facts {
            let slot = &slots[f.slot as usize];
            if f.stance == slot.stance && shown(slot) {
                start[f.slot as usize + 1] += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut seqs = vec![0; start[slots.len()] as usize];
        let mut next = start.clone();
        for f in &facts {
            let slot = &slots[f.slot as usize];
            if f.stance == slot.stance && shown(slot) {
                seqs[next[f.slot as usize] as usize] = f.seq;
                next[f.slot as usize] += 1;
            }
        }
        drop(facts);
        drop(next);
        for w in start.windows(2) {
            let statements = &mut seqs[w[0] as usize..w[1] as usize];
            if !statements.is_sorted() {
                statements.sort_unstable();
            }
        }
        let rank = names.ranks();
        let ranked = |k: &Key| -> Key {
            let opt = |x: u32| x.checked_sub(1).map_or(0, |x| rank[x as usize] + 1);
            [
                rank[k[0] as usize],
                rank[k[1] as usize],
                opt(k[2]),
                opt(k[3]),
                opt(k[4]),
                opt(k[5]),
                k[6],
            ]
        };
        let mut order: Vec<(Key, u32)> = slots
            .iter()
            .enumerate()
            .filter(|(_, s)| shown(s))
            .map(|(i, _)| (ranked(&keys[i]), i as u32))
            .collect();
        // Slots that came from a snapshot are made in key order already.
        if !order.is_sorted() {
            order.sort();
        }
        Answer {
            names,
            keys,
            slots,
            stances,
            order: order.into_iter().map(|(_, i)| i).collect(),
            start,
            seqs,
        }
    }
}

/// The positions a fold found, ordered by key, as the fold holds them: each
/// string once, each position's key as numbers, and the statements that
/// support each position laid out one position after another. Read them
/// borrowed ([`Answer::iter`]), which builds nothing, or owned
/// ([`Answer::into_positions`]).
#[derive(Debug)]
pub struct Answer {
    names: Names,
    keys: Vec<Key>,
    slots: Vec<Slot>,
    stances: Vec<(String, Modality)>,
    /// The slots shown, in key order.
    order: Vec<u32>,
    /// Where the statements of each slot start in `seqs` (and, one on, end).
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
        self.order.iter().map(|i| self.position(*i as usize))
    }

    /// The positions, owned, in key order.
    pub fn into_positions(self) -> Vec<Position> {
        self.iter().map(|p| p.to_position()).collect()
    }

    fn position(&self, i: usize) -> PositionRef<'_> {
        let (k, slot, names) = (&self.keys[i], &self.slots[i], &self.names);
        PositionRef {
            party: names.get(k[0]),
            predicate: names.get(k[1]),
            subject: names.get_opt(k[2]),
            location: names.get_opt(k[3]),
            qualifier: names.get_opt(k[4]),
            document: names.get_opt(k[5]),
            modality: Modality::ALL[k[6] as usize],
            stance: &self.stances[slot.stance as usize].0,
            hedge: names.get_opt(slot.hedge),
            said_on: slot.winner.0,
            seq: slot.winner.1,
            statements: &self.seqs[self.start[i] as usize..self.start[i + 1] as usize],
            terms: slot.terms.as_deref().unwrap_or(&NO_TERMS),
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
