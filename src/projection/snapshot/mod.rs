//! Snapshots of the projection's inputs: every (statement, subject) fact and every
//! correction and retraction up to a seq. A query replays the snapshot and then
//! only the events after it. A snapshot is derived data: it names the seq and chain
//! hash it was taken at, and the ledger ignores it unless the chain still has that
//! hash there and its checksums hold.
//!
//! Stored as a *head* and *chunks*. Keys are sorted (party, predicate, subject,
//! location, qualifier) and each chunk holds whole keys, each followed by its
//! facts, so a query filtered by party reads only the chunks whose range of
//! parties holds it, memory holds one chunk at a time, and the head stays small
//! however many positions there are. Little-endian throughout.
//!
//! Head: version `3` (u8), seq (u64), hash (32), strings (u32 count; each u32
//! length + UTF-8), amendments (u32 count; each seq u64, recorded_at i64,
//! payload length u32, payload: the corrections and retractions, and the
//! statements kept whole, see below), chunks (u32 count; each the first and last
//! party as string indexes u32, the number of keys u32 and of facts u32, and the
//! BLAKE3 checksum of the stored chunk, 32 bytes).
//!
//! Chunk (LZ4-sealed): keys in order, each party, predicate, subject+1,
//! location+1, qualifier+1 as u32 string indexes (0 for none) and its number of
//! facts u32, followed by those facts in seq order, [`FACT_LEN`] bytes each:
//! seq u64, date i32 (days since 1970-01-01), seconds u32 (u32::MAX: no time),
//! offset i16 (i16::MIN: none), stance u32 (string index), hedge+1 u32.
//!
//! A statement that carries what a fact cannot hold (joint parties, a
//! document, a condition or a deadline: fields of event format 2; or a machine
//! coder's provenance, event format 3, which ranks it below a hand-recorded
//! statement of the same date and which `--coded-by` and `--min-mentions`
//! select on) is kept whole beside the amendments and folded as an event, so
//! every fact is a hand-recorded statement.

use super::Fold;
use crate::chain;
use crate::codec::{self, FormatError};
use crate::dates;
use crate::event::{Entry, Event, Hash, SaidOn, Seq, StatementFields, StatementRef, TimeOfDay};
use crate::vocab::Modality;
use rustc_hash::FxHashMap as HashMap;
use std::io;
use std::path::{Path, PathBuf};

pub mod check;
mod runs;

const VERSION: u8 = 3;
/// Bytes of one stored fact.
pub const FACT_LEN: usize = 26;
/// Bytes of one stored key: five string indexes and its number of facts.
const KEY_LEN: usize = 24;
/// Bytes of one fact while building: its key's number, then the stored fact.
const HELD_LEN: usize = 4 + FACT_LEN;
/// Facts after which a chunk ends (at the end of a key: a key's facts are
/// never split).
const CHUNK_FACTS: usize = 8192;

/// [`CHUNK_FACTS`]; in the crate's tests, what [`CHUNK_MAX`] says on this
/// thread, so that a small snapshot can be cut into many chunks.
#[cfg(not(test))]
fn chunk_facts() -> usize {
    CHUNK_FACTS
}
#[cfg(test)]
fn chunk_facts() -> usize {
    CHUNK_MAX.with(std::cell::Cell::get)
}
#[cfg(test)]
thread_local! {
    /// [`chunk_facts`] on this thread.
    pub(crate) static CHUNK_MAX: std::cell::Cell<usize> = const { std::cell::Cell::new(CHUNK_FACTS) };
}

/// A stored chunk, as the head describes it.
#[derive(Clone, Debug)]
struct ChunkInfo {
    /// The party of its first key and of its last, as string indexes.
    parties: (u32, u32),
    keys: u32,
    facts: u32,
    sum: Hash,
}

/// The inputs of the positions projection up to one seq.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The last seq it covers.
    pub seq: Seq,
    /// The chain hash at that seq.
    pub hash: Hash,
    strings: Vec<String>,
    /// Keys met while building (after loading a head: none until the facts
    /// are read back). A key read back may come again after them, as met by
    /// an event added since: storing puts the two in one place.
    keys: Vec<[u32; 5]>,
    /// How many of `keys` were read back from the stored chunks (the rest
    /// were met since, each once).
    loaded_keys: usize,
    amendments: Vec<Entry>,
    /// Facts held in memory (while building) and not written out as runs,
    /// in any order, [`HELD_LEN`] bytes each.
    facts: Vec<u8>,
    /// Where facts go once [`runs::held_max`] are held, when set
    /// ([`Snapshot::spill_to`]): a directory, or memory.
    spill: Option<Option<PathBuf>>,
    /// The facts written out of memory, when some were.
    spilled: Option<runs::FactRuns>,
    /// Whether writing a run failed, or its file could not be made: the
    /// facts are then held from there on, as without runs.
    spill_failed: bool,
    /// The stored chunks (after loading a head).
    chunks: Vec<ChunkInfo>,
    string_ids: Option<HashMap<String, u32>>,
    key_ids: Option<HashMap<[u32; 5], u32>>,
}

/// A snapshot in its stored form: the head and the chunks.
pub struct Stored {
    /// The head.
    pub head: Vec<u8>,
    /// The chunks, LZ4-sealed.
    pub chunks: Vec<Vec<u8>>,
}

/// One key of an opened chunk, and its facts.
struct KeyFacts<'c> {
    key: [u32; 5],
    facts: &'c [u8],
}

impl Snapshot {
    /// A snapshot of an empty ledger.
    pub fn new() -> Self {
        Snapshot::default()
    }

    fn string(&mut self, s: &str) -> u32 {
        let strings = &self.strings;
        let ids = self.string_ids.get_or_insert_with(|| {
            strings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect()
        });
        if let Some(i) = ids.get(s) {
            return *i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        ids.insert(s.to_string(), i);
        i
    }

    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(0, |s| self.string(s) + 1)
    }

    /// The number of key `k` among the keys met since the snapshot was
    /// loaded (all of them, for one built afresh), numbered at the end of
    /// `keys` when new. The keys read back are not looked in: a table of
    /// them would cost a query that adds 10,000 events to a snapshot of a
    /// million about as much as the rest of its work, and storing merges a
    /// key met again with the one read back.
    fn key(&mut self, k: [u32; 5]) -> u32 {
        let (keys, from) = (&self.keys, self.loaded_keys);
        let ids = self.key_ids.get_or_insert_with(|| {
            (keys[from..].iter().zip(from as u32..))
                .map(|(k, i)| (*k, i))
                .collect()
        });
        if let Some(i) = ids.get(&k) {
            return *i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k);
        ids.insert(k, i);
        i
    }

    /// Adds the next event of the chain (events must come in seq order). A
    /// loaded snapshot must have its facts read back first ([`Snapshot::load_facts`]).
    pub fn extend(&mut self, r: &Entry) {
        self.seq = r.seq;
        self.hash = Hash::ZERO;
        match &r.event {
            Some(Event::Statement(s)) => {
                let s: StatementRef<'_, String> = s.into();
                if kept_whole(&s) {
                    self.amendments.push(r.clone());
                } else {
                    let mut shared = None;
                    facts_of(r.seq, &s, |f| self.push_fact(&f, &mut shared));
                }
            }
            Some(Event::Correction(_) | Event::Retraction(_)) => self.amendments.push(r.clone()),
            _ => {}
        }
    }

    /// [`Snapshot::extend`] with the next record of the chain as stored: its
    /// seq, recording time and payload (`None` when withheld). A statement is
    /// read in place, as a fold reads it ([`codec::with_fold_view`]), and only
    /// its facts are taken; anything else is decoded
    /// ([`codec::decode_event_for_fold`]) and taken as `extend` takes it. The
    /// snapshot is the one `extend` makes of the decoded events.
    ///
    /// # Errors
    /// A payload that does not decode.
    pub fn extend_stored(
        &mut self,
        seq: Seq,
        recorded_at: i64,
        payload: Option<&[u8]>,
    ) -> Result<(), FormatError> {
        if let Some(payload) = payload.filter(|p| !codec::is_amendment(p)) {
            let viewed = codec::with_fold_view(payload, |v| {
                v.filter(|v| !v.whole()).map(|v| {
                    let mut shared = None;
                    facts_of_fold_view(seq, &v, |f| self.push_fact(&f, &mut shared));
                })
            });
            if viewed.is_some() {
                self.seq = seq;
                self.hash = Hash::ZERO;
                return Ok(());
            }
        }
        let event = payload.map(codec::decode_event_for_fold).transpose()?;
        self.extend(&Entry {
            seq,
            recorded_at,
            event,
        });
        Ok(())
    }

    /// Adds one fact. `shared` holds the strings of the statement's facts
    /// but the subject, and their numbers, from its fact before (`None` for
    /// its first): they are looked up once a statement.
    fn push_fact<'a>(&mut self, f: &FactRef<'a>, shared: &mut Option<Shared<'a>>) {
        let strings = (
            f.stance,
            f.hedge,
            f.party,
            f.predicate,
            f.location,
            f.qualifier,
        );
        let ids = match shared {
            Some((held, ids)) if *held == strings => *ids,
            _ => {
                let ids = [
                    self.string(f.stance),
                    self.opt(f.hedge),
                    self.string(f.party),
                    self.string(f.predicate),
                    self.opt(f.location),
                    self.opt(f.qualifier),
                ];
                *shared = Some((strings, ids));
                ids
            }
        };
        let [stance, hedge, party, predicate, location, qualifier] = ids;
        let subject = self.opt(f.subject);
        let key = self.key([party, predicate, subject, location, qualifier]);
        self.facts.extend_from_slice(&key.to_le_bytes());
        push_fact(&mut self.facts, f.seq, f.days, f.secs, f.off, stance, hedge);
        self.spill_when_full();
    }

    /// Lets the facts, once [`runs::held_max`] of them are held while
    /// building, go out of memory as runs: to scratch space in `dir`'s
    /// `cache/` directory, or to memory without one. Storing the snapshot
    /// then merges them; what is stored is the same.
    pub fn spill_to(&mut self, dir: Option<&Path>) {
        self.spill = Some(dir.map(Path::to_path_buf));
    }

    /// How many runs of facts were written while it was built.
    #[cfg(test)]
    pub(crate) fn runs_written(&self) -> usize {
        self.spilled.as_ref().map_or(0, runs::FactRuns::len)
    }

    /// Writes the held facts out as a run when there are [`runs::held_max`]
    /// of them and somewhere to write them. A run that cannot be written
    /// (a full disk), or a file for the runs that cannot be made where a
    /// directory was given, leaves them held, and every fact after them.
    fn spill_when_full(&mut self) {
        if self.facts.len() < runs::held_max() * HELD_LEN || self.spill_failed {
            return;
        }
        let Some(dir) = &self.spill else { return };
        let spilled = self
            .spilled
            .get_or_insert_with(|| runs::FactRuns::new(dir.as_deref()));
        // Runs meant for a file that could not be made would only copy the
        // facts into memory: they stay held instead.
        if dir.is_some() && !spilled.in_file() {
            self.spill_failed = true;
            return;
        }
        let order = self.run_order();
        let spilled = self.spilled.as_mut().expect("made above");
        match spilled.push(&self.facts, &order) {
            Ok(()) => self.facts.clear(),
            Err(_) => self.spill_failed = true,
        }
    }

    /// The numbers of the held facts in the order of a run: by their keys'
    /// strings as [`Snapshot::key_places`] orders them, then by seq, ties
    /// in the order held. The keys of the held facts alone are sorted.
    fn run_order(&self) -> Vec<u32> {
        let rank = self.string_ranks();
        // For each key, its place among those of the held facts; first the
        // keys met, each once.
        let mut place = vec![u32::MAX; self.keys.len()];
        let mut met = Vec::new();
        for f in self.facts.chunks_exact(HELD_LEN) {
            let k = held_key(f);
            if place[k as usize] == u32::MAX {
                place[k as usize] = 0;
                met.push((key_ranks(&rank, &self.keys[k as usize]), k));
            }
        }
        met.sort_unstable();
        let mut places = 0;
        for (j, (ranks, k)) in met.iter().enumerate() {
            if j > 0 && met[j - 1].0 != *ranks {
                places += 1;
            }
            place[*k as usize] = places;
        }
        let (order, _) = by_key_then_seq(&self.facts, met.len(), |f| place[held_key(f) as usize]);
        order
    }

    /// Frees what extending holds to find the numbers of strings and keys
    /// (made again if it is extended later), so that storing it does not
    /// hold them too: a third of the memory of a million statements' facts.
    pub fn release_lookups(&mut self) {
        self.string_ids = None;
        self.key_ids = None;
    }

    /// Sets the chain hash at its seq (when it was extended with events read
    /// without their hashes).
    pub fn set_hash(&mut self, hash: Hash) {
        self.hash = hash;
    }

    /// Its corrections and retractions (and the statements it keeps whole),
    /// for [`super::Amendments::collect`].
    pub fn amendments(&self) -> &[Entry] {
        &self.amendments
    }

    fn str_of(&self, i: u32) -> &str {
        &self.strings[i as usize]
    }

    fn opt_str(&self, i: u32) -> Option<&str> {
        i.checked_sub(1).map(|i| self.str_of(i))
    }

    #[cfg(test)]
    fn sort_key(&self, k: &[u32; 5]) -> (&str, &str, Option<&str>, Option<&str>, Option<&str>) {
        (
            self.str_of(k[0]),
            self.str_of(k[1]),
            self.opt_str(k[2]),
            self.opt_str(k[3]),
            self.opt_str(k[4]),
        )
    }

    /// The keys in the order they are stored: by party, predicate, subject,
    /// location and qualifier, each compared as a string (none first). For
    /// each key its place, keys whose strings are all equal sharing one (a
    /// key read back and met again since); for each place the first of its
    /// keys as they were met. Each string is compared once, for its rank
    /// among the strings; the keys are then sorted by their strings' ranks,
    /// which order them as the strings do.
    fn key_places(&self) -> (Vec<u32>, Vec<u32>) {
        let rank = self.string_ranks();
        // Each key's ranks beside its number, sorted: no two pairs are
        // equal, and the sort finds the runs already in order (a snapshot's
        // own keys, read back, make one).
        let mut ranked: Vec<([u32; 5], u32)> = (self.keys.iter().zip(0u32..))
            .map(|(k, i)| (key_ranks(&rank, k), i))
            .collect();
        ranked.sort();
        let mut place = vec![0u32; self.keys.len()];
        let mut first = Vec::with_capacity(self.keys.len());
        for (j, (ranks, i)) in ranked.iter().enumerate() {
            if j == 0 || ranked[j - 1].0 != *ranks {
                first.push(*i);
            }
            place[*i as usize] = first.len() as u32 - 1;
        }
        (place, first)
    }

    /// The rank + 1 of each string among them all in string order; equal
    /// strings share one.
    fn string_ranks(&self) -> Vec<u32> {
        let mut by_text: Vec<u32> = (0..self.strings.len() as u32).collect();
        by_text.sort_unstable_by(|a, b| self.str_of(*a).cmp(self.str_of(*b)));
        let mut rank = vec![0u32; self.strings.len()];
        let mut r = 0;
        for (i, s) in by_text.iter().enumerate() {
            if i == 0 || self.str_of(by_text[i - 1]) != self.str_of(*s) {
                r += 1;
            }
            rank[*s as usize] = r;
        }
        rank
    }

    /// The stored form: keys sorted, each with its facts, cut into chunks at
    /// key boundaries.
    ///
    /// # Panics
    /// When runs of facts written out while it was built
    /// ([`Snapshot::spill_to`]) cannot be read back: [`Snapshot::store_into`]
    /// returns that error.
    pub fn store(&self) -> Stored {
        let mut chunks = Vec::new();
        let head = self
            .store_into(&mut |_, chunk| {
                chunks.push(chunk);
                Ok(())
            })
            .expect("chunks kept in memory");
        Stored { head, chunks }
    }

    /// [`store`](Self::store), each chunk handed to `put` with its number as
    /// soon as it is sealed, in order, so that the chunks are never all held;
    /// returns the head, which names them all.
    ///
    /// # Errors
    /// The first error of `put`, after which no chunk is handed to it.
    pub fn store_into(
        &self,
        put: &mut dyn FnMut(usize, Vec<u8>) -> std::io::Result<()>,
    ) -> std::io::Result<Vec<u8>> {
        let (place, first) = self.key_places();
        let key_of = |f: &[u8]| place[held_key(f) as usize];
        let (sorted, start) = by_key_then_seq(&self.facts, first.len(), key_of);
        let spilled = self.spilled.as_ref().filter(|r| r.len() > 0);
        let all = sorted.len() as u64 + spilled.map_or(0, runs::FactRuns::facts);
        let mut merge = Merge {
            runs: spilled,
            cursors: spilled.map(runs::FactRuns::cursors).unwrap_or_default(),
            held: &self.facts,
            sorted,
            start,
            place: &place,
            first: &first,
            next: 0,
        };
        let mut table = Vec::new();
        let mut sums = Vec::new();
        let mut failed = None;
        // Chunks are sealed on two threads as they are made, when there are
        // more than two, and each goes out as soon as it is sealed.
        let chunk_facts = chunk_facts();
        let threads = if all > 2 * chunk_facts as u64 { 2 } else { 0 };
        let mut deliver = |sealed: Vec<u8>, sum: Hash| {
            if failed.is_none() {
                if let Err(e) = put(sums.len(), sealed) {
                    failed = Some(e);
                }
            }
            sums.push(sum);
        };
        // The facts of the key next stored, when taken from the merge.
        let mut facts = Vec::new();
        let mut pending = None;
        let mut unread = None;
        let mut next = |facts: &mut Vec<u8>| match unread {
            Some(_) => None,
            None => merge.next(facts).unwrap_or_else(|e| {
                unread = Some(e);
                None
            }),
        };
        seal_in_turn(
            threads,
            |seal| loop {
                if pending.is_none() {
                    pending = next(&mut facts);
                }
                let Some(key) = pending else { break };
                let first_party = self.keys[key as usize][0];
                let (mut keys, mut n, mut last_party) = (0u32, 0usize, first_party);
                let mut raw = Vec::with_capacity(chunk_facts * FACT_LEN);
                while n < chunk_facts {
                    if pending.is_none() {
                        pending = next(&mut facts);
                    }
                    let Some(key) = pending.take() else { break };
                    let key = self.keys[key as usize];
                    for x in key {
                        raw.extend_from_slice(&x.to_le_bytes());
                    }
                    let count = facts.len() / FACT_LEN;
                    raw.extend_from_slice(&(count as u32).to_le_bytes());
                    raw.extend_from_slice(&facts);
                    keys += 1;
                    n += count;
                    last_party = key[0];
                }
                table.push(ChunkInfo {
                    parties: (first_party, last_party),
                    keys,
                    facts: n as u32,
                    sum: Hash::ZERO,
                });
                seal(raw);
            },
            &mut deliver,
        );
        if let Some(e) = unread {
            return Err(e);
        }
        if let Some(e) = failed {
            return Err(e);
        }
        for (c, sum) in table.iter_mut().zip(sums) {
            c.sum = sum;
        }
        let mut h = Vec::new();
        h.push(VERSION);
        h.extend_from_slice(&self.seq.to_le_bytes());
        h.extend_from_slice(&self.hash.0);
        h.extend_from_slice(&(self.strings.len() as u32).to_le_bytes());
        for s in &self.strings {
            h.extend_from_slice(&(s.len() as u32).to_le_bytes());
            h.extend_from_slice(s.as_bytes());
        }
        h.extend_from_slice(&(self.amendments.len() as u32).to_le_bytes());
        for r in &self.amendments {
            let payload = codec::encode_event(r.event.as_ref().expect("amendments are decoded"))
                .expect("it was stored");
            h.extend_from_slice(&r.seq.to_le_bytes());
            h.extend_from_slice(&r.recorded_at.to_le_bytes());
            h.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            h.extend_from_slice(&payload);
        }
        h.extend_from_slice(&(table.len() as u32).to_le_bytes());
        for c in &table {
            for x in [c.parties.0, c.parties.1, c.keys, c.facts] {
                h.extend_from_slice(&x.to_le_bytes());
            }
            h.extend_from_slice(&c.sum.0);
        }
        Ok(h)
    }

    /// Reads a stored head (the keys and facts stay in their chunks).
    ///
    /// # Errors
    /// [`FormatError`] for bytes that are not a snapshot head of this version.
    pub fn from_head(bytes: &[u8]) -> Result<Snapshot, FormatError> {
        let mut r = Reader { b: bytes, at: 0 };
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(FormatError::Unknown {
                what: "snapshot version",
                value: version,
            });
        }
        let mut snap = Snapshot {
            seq: r.u64()?,
            ..Snapshot::default()
        };
        snap.hash = Hash(r.take(32)?.try_into().expect("32 bytes"));
        let n = r.u32()? as usize;
        for _ in 0..n {
            let len = r.u32()? as usize;
            let s = std::str::from_utf8(r.take(len)?).map_err(|_| bad("string"))?;
            snap.strings.push(s.to_string());
        }
        let strings = snap.strings.len() as u32;
        let n = r.u32()? as usize;
        for _ in 0..n {
            let seq = r.u64()?;
            let recorded_at = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
            let len = r.u32()? as usize;
            let event = codec::decode_event(r.take(len)?)?;
            snap.amendments.push(Entry {
                seq,
                recorded_at,
                event: Some(event),
            });
        }
        let n = r.u32()? as usize;
        for _ in 0..n {
            let parties = (r.u32()?, r.u32()?);
            let (keys, facts) = (r.u32()?, r.u32()?);
            let sum = Hash(r.take(32)?.try_into().expect("32 bytes"));
            if parties.0 >= strings || parties.1 >= strings || keys == 0 || facts < keys {
                return Err(bad("chunk table"));
            }
            snap.chunks.push(ChunkInfo {
                parties,
                keys,
                facts,
                sum,
            });
        }
        if r.at != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(snap)
    }

    /// Opens stored chunk `i`, checking its checksum, its size and every index in it.
    fn open_chunk(&self, i: usize, stored: &[u8]) -> Result<Vec<u8>, FormatError> {
        let c = &self.chunks[i];
        if chain::snapshot_digest(stored) != c.sum {
            return Err(bad("chunk checksum"));
        }
        let raw = codec::open_block(stored)?.into_owned();
        if raw.len() != c.keys as usize * KEY_LEN + c.facts as usize * FACT_LEN {
            return Err(bad("chunk length"));
        }
        Ok(raw)
    }

    /// The keys of an opened chunk with their facts, each index checked.
    fn keys_of<'c>(&self, i: usize, raw: &'c [u8]) -> Result<Vec<KeyFacts<'c>>, FormatError> {
        let strings = self.strings.len() as u32;
        let mut out = Vec::with_capacity(self.chunks[i].keys as usize);
        let mut r = Reader { b: raw, at: 0 };
        while r.at < raw.len() {
            let key = [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?];
            if key[0] >= strings || key[1] >= strings || key[2..].iter().any(|x| *x > strings) {
                return Err(bad("key"));
            }
            let n = r.u32()? as usize;
            let facts = r.take(n.checked_mul(FACT_LEN).ok_or_else(|| bad("key"))?)?;
            for f in facts.chunks_exact(FACT_LEN) {
                let stance = u32::from_le_bytes(f[18..22].try_into().expect("4 bytes"));
                let hedge = u32::from_le_bytes(f[22..26].try_into().expect("4 bytes"));
                if stance >= strings || hedge > strings {
                    return Err(bad("fact"));
                }
            }
            out.push(KeyFacts { key, facts });
        }
        if out.len() != self.chunks[i].keys as usize {
            return Err(bad("chunk keys"));
        }
        Ok(out)
    }

    /// Reads every key and fact back from the stored chunks, so the snapshot
    /// can be extended and stored again.
    ///
    /// # Errors
    /// A chunk that is missing or damaged. What was read before it is held
    /// (and may have been written out as runs) until the snapshot is
    /// dropped or its facts are loaded again after the failure, which starts
    /// afresh. (Once they are loaded, the snapshot names no chunks: loading
    /// again leaves it without facts.)
    pub fn load_facts(
        &mut self,
        read: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
    ) -> Result<(), FormatError> {
        self.keys.clear();
        self.key_ids = None;
        self.facts.clear();
        self.spilled = None;
        self.spill_failed = false;
        for i in 0..self.chunks.len() {
            let stored = read(i).ok_or_else(|| bad("missing chunk"))?;
            let raw = self.open_chunk(i, &stored)?;
            for k in self.keys_of(i, &raw)? {
                let id = self.keys.len() as u32;
                self.keys.push(k.key);
                for f in k.facts.chunks_exact(FACT_LEN) {
                    self.facts.extend_from_slice(&id.to_le_bytes());
                    self.facts.extend_from_slice(f);
                }
            }
            // A chunk holds whole keys, ending at the first key that takes it
            // past 8,192 facts: the facts held go out once they are as many as
            // building holds, so at most a chunk more are held here.
            self.spill_when_full();
        }
        self.loaded_keys = self.keys.len();
        self.chunks.clear();
        Ok(())
    }

    /// Whether chunk `i` may hold a key of one of these parties (its keys run
    /// from its first party to its last, in string order).
    fn may_hold(&self, i: usize, parties: &[String]) -> bool {
        let (first, last) = self.chunks[i].parties;
        let (first, last) = (self.str_of(first), self.str_of(last));
        parties
            .iter()
            .any(|p| first <= p.as_str() && p.as_str() <= last)
    }

    /// The fold's number + 1 of string `i` - 1 of this snapshot (`0` for
    /// `0`: none), remembered in `cache`.
    fn name_in(&self, fold: &mut Fold<'_>, cache: &mut [Option<u32>], i: u32) -> u32 {
        match i.checked_sub(1) {
            None => 0,
            Some(i) => *cache[i as usize].get_or_insert_with(|| fold.name_id(self.str_of(i))) + 1,
        }
    }

    /// Replays the stored facts into a fold: the standing statements it holds
    /// (corrected ones are folded from their corrections, by the caller).
    /// Chunks that cannot hold a party the query's filter asks for are not read.
    ///
    /// # Errors
    /// A chunk that is missing or damaged; the fold is then unusable.
    pub fn replay(
        &self,
        fold: &mut Fold<'_>,
        read: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
    ) -> Result<(), FormatError> {
        // Facts are hand-recorded statements: a query for machine-coded ones
        // alone reads none of them.
        let hand = fold.admits_hand_recorded();
        let parties = fold.parties();
        // Facts said after the as-of date count for nothing: they are passed
        // over before anything else is read of them.
        let last_day = fold.last_day();
        let not_standing = fold.not_standing_upto(self.seq);
        let read_chunk = |i: usize| hand && parties.as_ref().is_none_or(|p| self.may_hold(i, p));
        // Room for every fact of the chunks to be read, made once.
        let facts: usize = (0..self.chunks.len())
            .filter(|i| read_chunk(*i))
            .map(|i| self.chunks[i].facts as usize)
            .sum();
        fold.reserve(facts);
        // The fold's number and modality of each stance string, and the fold's
        // number of each string, once met.
        let mut stances: Vec<Option<(u16, Modality)>> = vec![None; self.strings.len()];
        let mut names: Vec<Option<u32>> = vec![None; self.strings.len()];
        fold.start_run();
        for i in 0..self.chunks.len() {
            if !read_chunk(i) {
                continue;
            }
            let stored = read(i).ok_or_else(|| bad("missing chunk"))?;
            let raw = self.open_chunk(i, &stored)?;
            for KeyFacts { key: k, facts } in self.keys_of(i, &raw)? {
                if !fold.keeps(
                    self.str_of(k[0]),
                    self.str_of(k[1]),
                    self.opt_str(k[2]),
                    self.opt_str(k[3]),
                ) {
                    continue;
                }
                // The modalities its facts have: one position each, whose
                // facts are folded in modality order, so that the fold's
                // keys come in key order.
                let mut modalities = [false; Modality::ALL.len()];
                for f in facts.chunks_exact(FACT_LEN) {
                    if days_of(f) > last_day {
                        continue;
                    }
                    let stance = u32::from_le_bytes(f[18..22].try_into().expect("4 bytes"));
                    let (_, modality) = *stances[stance as usize]
                        .get_or_insert_with(|| fold.stance_id(self.str_of(stance)));
                    modalities[modality.index()] = true;
                }
                let n = &mut names;
                let mut key = [
                    self.name_in(fold, n, k[0] + 1) - 1,
                    self.name_in(fold, n, k[1] + 1) - 1,
                    self.name_in(fold, n, k[2]),
                    self.name_in(fold, n, k[3]),
                    self.name_in(fold, n, k[4]),
                    0,
                    0,
                ];
                for (m, _) in modalities.iter().enumerate().filter(|(_, has)| **has) {
                    key[6] = m as u32;
                    if !fold.ordered_key(key) {
                        return Err(bad("keys out of order"));
                    }
                    for f in facts.chunks_exact(FACT_LEN) {
                        let days = days_of(f);
                        let seq = u64::from_le_bytes(f[0..8].try_into().expect("8 bytes"));
                        if days > last_day || not_standing.contains(seq) {
                            continue;
                        }
                        let stance = u32::from_le_bytes(f[18..22].try_into().expect("4 bytes"));
                        let (stance, modality) =
                            stances[stance as usize].expect("met in the first pass");
                        if modality.index() != m {
                            continue;
                        }
                        let date = dates::date_from_days(days).ok_or_else(|| bad("date"))?;
                        let secs = u32::from_le_bytes(f[12..16].try_into().expect("4 bytes"));
                        let off = i16::from_le_bytes(f[16..18].try_into().expect("2 bytes"));
                        let hedge = u32::from_le_bytes(f[22..26].try_into().expect("4 bytes"));
                        let time = (secs != u32::MAX).then_some(TimeOfDay {
                            seconds: secs,
                            offset_minutes: (off != i16::MIN).then_some(off),
                        });
                        let hedge = self.name_in(fold, &mut names, hedge);
                        let said_on = SaidOn { date, time };
                        fold.put_id(key, seq, said_on, true, stance, hedge, None);
                        fold.end_run();
                    }
                }
            }
        }
        for e in &self.amendments {
            if matches!(e.event, Some(Event::Statement(_))) && fold.is_standing(e.seq) {
                fold.add(e);
            }
        }
        Ok(())
    }
}

impl Snapshot {
    /// The seqs, from `from` on, of the statements this snapshot holds whose
    /// fields (as recorded) `might_keep` passes, of every correction and
    /// retraction it holds, and of every event one of its corrections
    /// names, pushed to `out` in no order and possibly more than once. A
    /// statement held as facts is passed once per subject, with that
    /// subject alone, so it is pushed when one of them passes; a statement
    /// kept whole is passed whole. Chunks that cannot hold one of
    /// `parties`, when given, are not read: `might_keep` must then refuse
    /// every statement of another party that no correction names. `false`
    /// when it stopped after finding more than `most` seqs.
    ///
    /// # Errors
    /// A chunk that is missing or damaged.
    pub fn statements_of(
        &self,
        read: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
        parties: Option<&[String]>,
        from: Seq,
        mut might_keep: impl FnMut(Seq, &StatementFields<'_>) -> bool,
        out: &mut Vec<Seq>,
        most: usize,
    ) -> Result<bool, FormatError> {
        let start = out.len();
        // More than `most` pushed: counted again without the seqs pushed
        // twice (a statement of several subjects passes once per subject),
        // then again only once twice as many are pushed, so that a search
        // near the limit does not sort them at every chunk.
        let mut again_at = most;
        let mut over = |out: &mut Vec<Seq>, now: bool| {
            let n = out.len() - start;
            if n <= most || (!now && n <= again_at) {
                return false;
            }
            let mut found = out.split_off(start);
            found.sort_unstable();
            found.dedup();
            out.extend(found);
            let n = out.len() - start;
            again_at = n.saturating_mul(2).max(most);
            n > most
        };
        for i in 0..self.chunks.len() {
            if over(out, false) {
                return Ok(false);
            }
            if parties.is_some_and(|p| !self.may_hold(i, p)) {
                continue;
            }
            let stored = read(i).ok_or_else(|| bad("missing chunk"))?;
            let raw = self.open_chunk(i, &stored)?;
            for KeyFacts { key: k, facts } in self.keys_of(i, &raw)? {
                let subject = self.opt_str(k[2]);
                let subjects: &[&str] = match &subject {
                    Some(s) => std::slice::from_ref(s),
                    None => &[],
                };
                for f in facts.chunks_exact(FACT_LEN) {
                    let seq = u64::from_le_bytes(f[0..8].try_into().expect("8 bytes"));
                    if seq < from {
                        continue;
                    }
                    let stance = u32::from_le_bytes(f[18..22].try_into().expect("4 bytes"));
                    let fields = StatementFields {
                        said_on: dates::date_from_days(days_of(f)).ok_or_else(|| bad("date"))?,
                        party: self.str_of(k[0]),
                        joint_with: &[],
                        stance: self.str_of(stance),
                        predicate: self.str_of(k[1]),
                        subjects,
                        location: self.opt_str(k[3]),
                    };
                    if might_keep(seq, &fields) {
                        out.push(seq);
                    }
                }
            }
        }
        for e in self.amendments.iter().filter(|e| e.seq >= from) {
            match &e.event {
                Some(Event::Statement(s)) => {
                    let joint: Vec<&str> = s.joint_with.iter().map(String::as_str).collect();
                    let subjects: Vec<&str> =
                        s.proposition.subjects.iter().map(String::as_str).collect();
                    let fields = StatementFields {
                        said_on: s.said_on.date,
                        party: &s.party,
                        joint_with: &joint,
                        stance: &s.stance,
                        predicate: &s.proposition.predicate,
                        subjects: &subjects,
                        location: s.proposition.location.as_deref(),
                    };
                    if might_keep(e.seq, &fields) {
                        out.push(e.seq);
                    }
                }
                Some(Event::Correction(c)) => {
                    out.push(e.seq);
                    if c.of >= from {
                        out.push(c.of);
                    }
                }
                Some(Event::Retraction(_)) => out.push(e.seq),
                _ => {}
            }
        }
        Ok(!over(out, true))
    }
}

/// Whether a statement is kept whole rather than as facts.
fn kept_whole<S>(s: &StatementRef<'_, S>) -> bool {
    s.coded.is_some()
        || !s.joint_with.is_empty()
        || s.document.is_some()
        || s.condition.is_some()
        || s.deadline.is_some()
}

/// The strings a statement's facts share (stance, hedge, party, predicate,
/// location, qualifier), and their numbers in a snapshot being built.
type Shared<'a> = (
    (
        &'a str,
        Option<&'a str>,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
    ),
    [u32; 6],
);

/// One fact: what a snapshot keeps of a statement for one of its subjects.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FactRef<'a> {
    pub(crate) party: &'a str,
    pub(crate) predicate: &'a str,
    pub(crate) subject: Option<&'a str>,
    pub(crate) location: Option<&'a str>,
    pub(crate) qualifier: Option<&'a str>,
    pub(crate) seq: Seq,
    /// Days since 1970-01-01.
    pub(crate) days: i32,
    /// Seconds into the day (`u32::MAX`: no time).
    pub(crate) secs: u32,
    /// Minutes from UTC (`i16::MIN`: none).
    pub(crate) off: i16,
    pub(crate) stance: &'a str,
    pub(crate) hedge: Option<&'a str>,
}

/// The chunks `make` hands to its `seal`, each sealed ([`codec::seal_block`])
/// and handed to `deliver` with its checksum, in the order handed. With
/// `threads` above 0, they are sealed on that many threads while `make` goes
/// on (at most two waiting to be sealed), and each is delivered as soon as it
/// and those before it are sealed; else each is sealed and delivered when
/// handed.
/// Chunks made at most ahead of the last one [`seal_in_turn`] delivered.
const BEHIND: usize = 8;

fn seal_in_turn(
    threads: usize,
    make: impl FnOnce(&mut dyn FnMut(Vec<u8>)),
    deliver: &mut dyn FnMut(Vec<u8>, Hash),
) {
    let seal = |raw: &[u8]| {
        let sealed = codec::seal_block(raw);
        let sum = chain::snapshot_digest(&sealed);
        (sealed, sum)
    };
    if threads == 0 {
        make(&mut |raw| {
            let (sealed, sum) = seal(&raw);
            deliver(sealed, sum);
        });
        return;
    }
    let (to_seal, raws) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(2);
    // Held by the threads alone: once they have all ended, a chunk handed
    // finds no one to take it, rather than waiting for them.
    let raws = std::sync::Arc::new(std::sync::Mutex::new(raws));
    let (done, sealed) = std::sync::mpsc::channel();
    // Chunks sealed ahead of one before them, by number, and the number of
    // the next to deliver.
    let mut early = std::collections::BTreeMap::new();
    let mut next = 0usize;
    let mut take = |i: usize, chunk: (Vec<u8>, Hash)| {
        early.insert(i, chunk);
        while let Some((sealed, sum)) = early.remove(&next) {
            deliver(sealed, sum);
            next += 1;
        }
        next
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..threads {
            let (raws, done) = (std::sync::Arc::clone(&raws), done.clone());
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || loop {
                // The lock is held only to take the next chunk.
                let next = raws.lock().map(|r| r.recv());
                let Ok(Ok((i, raw))) = next else { break };
                if done.send((i, seal(&raw))).is_err() {
                    break;
                }
            });
            started += usize::from(spawned.is_ok());
        }
        drop(raws);
        // The threads hold the only senders: if they all end, nothing is
        // waited for.
        drop(done);
        let (mut n, mut delivered) = (0, 0);
        make(&mut |raw| {
            if started == 0 {
                // No thread could be started (the system's limit): each
                // chunk is sealed here, as without threads.
                delivered = take(n, seal(&raw));
            } else {
                // The threads stop when this sender is dropped, or if one
                // panics, which the scope then raises here.
                let _ = to_seal.send((n, raw));
                while let Ok((i, chunk)) = sealed.try_recv() {
                    delivered = take(i, chunk);
                }
                // A thread held up on one chunk while the other seals those
                // after it: they wait here rather than pile up.
                while n + 1 - delivered > BEHIND {
                    let Ok((i, chunk)) = sealed.recv() else { break };
                    delivered = take(i, chunk);
                }
            }
            n += 1;
        });
        drop(to_seal);
        // Every thread ends once the chunks are taken, and its sender with it.
        for (i, chunk) in sealed.iter() {
            take(i, chunk);
        }
    });
}

/// The numbers of the held facts (`HELD_LEN` bytes each, numbered from 0)
/// ordered by their key's number (`key_of`, below `keys`) and, within a
/// key, by seq, facts of the same key and seq in the order held: a sort by
/// (key, seq) that keeps ties in place. Facts are counted into their keys'
/// places in one pass; within a key they are held in seq order (a
/// snapshot's own, then the events after it), which is checked, and a key
/// whose facts are not is sorted. With them, where each key's facts start
/// (and, last, where the last one's end). Numbers of 4 bytes: a snapshot of
/// 2^32 facts would hold 120 GiB of them here first.
fn by_key_then_seq(
    held: &[u8],
    keys: usize,
    key_of: impl Fn(&[u8]) -> u32,
) -> (Vec<u32>, Vec<u32>) {
    let fact = |i: u32| held_fact(held, i);
    let seq_of = |i: u32| u64::from_le_bytes(fact(i)[4..12].try_into().expect("8 bytes"));
    let n = u32::try_from(held.len() / HELD_LEN).expect("fewer than 2^32 facts");
    let mut start = vec![0u32; keys + 1];
    for f in held.chunks_exact(HELD_LEN) {
        start[key_of(f) as usize + 1] += 1;
    }
    for k in 0..keys {
        start[k + 1] += start[k];
    }
    let mut order = vec![0u32; n as usize];
    let mut at = start.clone();
    for i in 0..n {
        let k = key_of(fact(i)) as usize;
        order[at[k] as usize] = i;
        at[k] += 1;
    }
    for k in 0..keys {
        let run = &mut order[start[k] as usize..start[k + 1] as usize];
        if !run.windows(2).all(|w| seq_of(w[0]) <= seq_of(w[1])) {
            run.sort_by_key(|i| seq_of(*i));
        }
    }
    (order, start)
}

/// Held fact `i` (numbered from 0).
fn held_fact(held: &[u8], i: u32) -> &[u8] {
    &held[i as usize * HELD_LEN..][..HELD_LEN]
}

/// The number of a held fact's key.
fn held_key(f: &[u8]) -> u32 {
    u32::from_le_bytes(f[0..4].try_into().expect("4 bytes"))
}

/// A key's strings' ranks ([`Snapshot::string_ranks`]; 0 for none), which
/// order keys as their strings do.
fn key_ranks(rank: &[u32], k: &[u32; 5]) -> [u32; 5] {
    let opt = |i: u32| i.checked_sub(1).map_or(0, |i| rank[i as usize]);
    [
        rank[k[0] as usize],
        rank[k[1] as usize],
        opt(k[2]),
        opt(k[3]),
        opt(k[4]),
    ]
}

/// The seq of a stored fact.
fn fact_seq(f: &[u8]) -> Seq {
    u64::from_le_bytes(f[0..8].try_into().expect("8 bytes"))
}

/// The facts of each stored key in turn, from the runs written while
/// building and the facts still held, in the order of the keys' places.
struct Merge<'s> {
    runs: Option<&'s runs::FactRuns>,
    cursors: Vec<runs::Cursor>,
    held: &'s [u8],
    /// The held facts' numbers by place, and where each place's start.
    sorted: Vec<u32>,
    start: Vec<u32>,
    /// Each key's place, and each place's first key.
    place: &'s [u32],
    first: &'s [u32],
    /// The next place.
    next: usize,
}

impl Merge<'_> {
    /// The key of the next place that has facts, with its facts
    /// ([`FACT_LEN`] bytes each, in seq order, ties in the order held) in
    /// `out`; `None` after the last.
    ///
    /// # Errors
    /// A run that cannot be read back, or that is not in the order of the
    /// places (which no run written here is): its facts would be lost.
    fn next(&mut self, out: &mut Vec<u8>) -> io::Result<Option<u32>> {
        while self.next < self.first.len() {
            let p = self.next as u32;
            self.next += 1;
            out.clear();
            if let Some(runs) = self.runs {
                for c in &mut self.cursors {
                    while let Some(f) = runs.peek(c)? {
                        match self.place[held_key(f) as usize].cmp(&p) {
                            std::cmp::Ordering::Greater => break,
                            std::cmp::Ordering::Less => return Err(out_of_order()),
                            std::cmp::Ordering::Equal => out.extend_from_slice(&f[4..]),
                        }
                        c.advance();
                    }
                }
            }
            let (from, to) = (self.start[p as usize], self.start[p as usize + 1]);
            for &i in &self.sorted[from as usize..to as usize] {
                out.extend_from_slice(&held_fact(self.held, i)[4..]);
            }
            if out.is_empty() {
                // A key read back without facts is not stored again.
                continue;
            }
            let seqs = out.chunks_exact(FACT_LEN).map(fact_seq);
            if !seqs.clone().zip(seqs.skip(1)).all(|(a, b)| a <= b) {
                let mut facts: Vec<&[u8]> = out.chunks_exact(FACT_LEN).collect();
                facts.sort_by_key(|f| fact_seq(f));
                *out = facts.concat();
            }
            return Ok(Some(self.first[p as usize]));
        }
        if let Some(runs) = self.runs {
            for c in &mut self.cursors {
                if runs.peek(c)?.is_some() {
                    return Err(out_of_order());
                }
            }
        }
        Ok(None)
    }
}

fn out_of_order() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a run of the positions snapshot's facts is out of order",
    )
}

/// The facts a statement that is not kept whole makes, one per subject (one
/// with no subject when it has none). The one rule both the snapshot and the
/// check of a snapshot against the chain follow.
fn facts_of<'a, S: AsRef<str>>(
    seq: Seq,
    s: &'a StatementRef<'a, S>,
    mut f: impl FnMut(FactRef<'a>),
) {
    let (secs, off) = match s.said_on.time {
        Some(t) => (t.seconds, t.offset_minutes.unwrap_or(i16::MIN)),
        None => (u32::MAX, i16::MIN),
    };
    let fact = |subject| FactRef {
        party: s.party,
        predicate: s.predicate,
        subject,
        location: s.location,
        qualifier: s.qualifier,
        seq,
        days: dates::days_from_date(s.said_on.date),
        secs,
        off,
        stance: s.stance,
        hedge: s.hedge,
    };
    if s.subjects.is_empty() {
        f(fact(None));
    }
    for subject in s.subjects {
        f(fact(Some(subject.as_ref())));
    }
}

/// [`facts_of`] a statement read by [`codec::fold_view`].
fn facts_of_fold_view<'a>(seq: Seq, v: &codec::FoldView<'a>, mut f: impl FnMut(FactRef<'a>)) {
    let (secs, off) = match v.said_at {
        Some((seconds, offset)) => (seconds, offset.unwrap_or(i16::MIN)),
        None => (u32::MAX, i16::MIN),
    };
    let fact = |subject| FactRef {
        party: v.party,
        predicate: v.predicate,
        subject,
        location: v.location,
        qualifier: v.qualifier,
        seq,
        days: v.said_on,
        secs,
        off,
        stance: v.stance,
        hedge: v.hedge,
    };
    if v.subjects().is_empty() {
        f(fact(None));
    }
    for subject in v.subjects() {
        f(fact(Some(subject)));
    }
}

/// The date of a stored fact, in days since 1970-01-01.
fn days_of(f: &[u8]) -> i32 {
    i32::from_le_bytes(f[8..12].try_into().expect("4 bytes"))
}

fn push_fact(f: &mut Vec<u8>, seq: Seq, days: i32, secs: u32, off: i16, stance: u32, hedge: u32) {
    f.extend_from_slice(&seq.to_le_bytes());
    f.extend_from_slice(&days.to_le_bytes());
    f.extend_from_slice(&secs.to_le_bytes());
    f.extend_from_slice(&off.to_le_bytes());
    f.extend_from_slice(&stance.to_le_bytes());
    f.extend_from_slice(&hedge.to_le_bytes());
}

fn bad(what: &str) -> FormatError {
    FormatError::Payload(format!("snapshot: bad {what}"))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.b.len() - self.at < n {
            return Err(FormatError::Truncated {
                needed: self.at + n,
                available: self.b.len(),
            });
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventRef;
    use crate::projection::{Amendments, Query};

    fn statement(seq: Seq, party: &str, subject: &str) -> Entry {
        let line = format!(
            r#"{{"type":"statement","said_on":"2021-01-28","party":"{party}","stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["{subject}"]}},"quote":"q","source":{{"publisher":"AFP"}}}}"#
        );
        Entry {
            seq,
            recorded_at: 0,
            event: Some(crate::json::parse_event(&line).expect("a statement")),
        }
    }

    /// Statements of formats 1 and 2 with every field present or absent in
    /// turn: no subject to seven, a time with and without an offset, a
    /// speaker with and without an actor, joint parties, a document, a
    /// condition, a deadline, more sources, a translation; and two that are
    /// machine-coded or corrections, which the view leaves to the decoder.
    fn varied_events() -> Vec<Event> {
        let mut out = Vec::new();
        for k in 0..160u32 {
            let bit = |i: u32| (k >> i) & 1 == 1;
            let subjects: Vec<String> = (0..k % 8).map(|i| format!("\"S{i}\"")).collect();
            let mut extra = String::new();
            if bit(0) {
                extra += r#","speaker":{"name":"Ann Lee","role":"spokesperson"}"#;
            }
            if bit(1) && bit(0) {
                extra += r#","speaker":{"name":"Ann Lee","actor":"USA"}"#;
                extra = extra.replacen(
                    r#","speaker":{"name":"Ann Lee","role":"spokesperson"}"#,
                    "",
                    1,
                );
            }
            if k % 5 == 1 {
                extra += r#","joint_with":["FRA"]"#;
            }
            if k % 7 == 2 {
                extra += r#","condition":"if talks fail""#;
            }
            if k % 9 == 3 {
                extra += r#","deadline":"2021-03-01""#;
            }
            if k % 11 == 4 {
                extra += r#","quote_kind":"translation","language":"fr""#;
            }
            let source = match k % 13 == 5 {
                true => r#""sources":[{"url":"https://example.org/a","publisher":"AFP"},{"publisher":"Reuters","published_on":"2021-01-30"}]"#.to_string(),
                false => format!(r#""source":{{"url":"https://example.org/{k}","publisher":"AFP","published_on":"2021-01-29"}}"#),
            };
            if bit(2) {
                extra += r#","hedge":"if possible""#;
            }
            let said_on = match k % 4 {
                0 => r#""2021-01-28""#,
                1 => r#""2021-01-28T14:05:00""#,
                2 => r#""2021-01-28T14:05:00+02:00""#,
                _ => r#""1850-12-31""#,
            };
            let document = match k % 17 == 6 {
                true => r#","document":"UNSCR 2570""#,
                false => "",
            };
            let location = match bit(3) {
                true => r#","location":"LBY""#,
                false => "",
            };
            let qualifier = match bit(4) {
                true => r#","qualifier":"foreign-fighters""#,
                false => "",
            };
            let line = format!(
                r#"{{"type":"statement","said_on":{said_on},"party":"USA","stance":"calls-for"{extra},"proposition":{{"predicate":"withdrawal","subjects":[{}]{location}{qualifier}{document}}},"quote":"quote number {k} of a statement",{source}}}"#,
                subjects.join(",")
            );
            out.push(crate::json::parse_event(&line).unwrap_or_else(|e| panic!("{line}: {e}")));
        }
        out.push(
            crate::json::parse_event(
                r#"{"type":"correction","of":1,"statement":{"said_on":"2021-01-28","party":"USA","stance":"demands","proposition":{"predicate":"withdrawal","subjects":["RUS"]},"quote":"q","source":{"publisher":"AFP"}}}"#,
            )
            .expect("a correction"),
        );
        out.push(
            crate::json::parse_event(
                r#"{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"]},"quote":"q","source":{"publisher":"AFP"},"coded":{"coder":"gdelt","event_id":7,"cameo":"0251","mentions":3,"sources":1,"goldstein":2.5,"tone":-1.25}}"#,
            )
            .expect("a machine-coded statement"),
        );
        out
    }

    /// What a fold reads of a statement.
    fn fold_fields(s: &StatementRef<'_, &str>) -> String {
        format!(
            "{:?} {:?} {} {:?} {} {:?} {:?} {:?} {} {:?} {:?} {:?} {:?} {:?}",
            s.said_on,
            s.coded.map(|c| (c.coder, c.mentions)),
            s.party,
            s.joint_with,
            s.stance,
            s.hedge,
            s.condition,
            s.deadline,
            s.predicate,
            s.subjects,
            s.location,
            s.qualifier,
            s.document,
            kept_whole(s),
        )
    }

    /// What the decoder makes of a payload: an error, nothing, or a
    /// statement as a fold reads it, kept whole or not, and its facts.
    fn decoded(payload: &[u8]) -> Result<Option<(String, Vec<String>)>, FormatError> {
        let wire = codec::decode_wire(payload)?;
        let EventRef::Statement(s) = codec::event_ref(&wire)? else {
            return Ok(None);
        };
        let mut facts = Vec::new();
        facts_of(9, &s, |f| facts.push(format!("{f:?}")));
        Ok(Some((fold_fields(&s), facts)))
    }

    fn viewed(payload: &[u8]) -> Option<(String, Vec<String>)> {
        codec::with_fold_view(payload, |v| {
            let v = v?;
            let mut facts = Vec::new();
            facts_of_fold_view(9, &v, |f| facts.push(format!("{f:?}")));
            let s = v.for_fold();
            assert_eq!(v.whole(), kept_whole(&s));
            Some((fold_fields(&s), facts))
        })
    }

    /// Numbers below `n`, drawn from a linear congruential generator seeded
    /// with `seed`.
    fn draws(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        }
    }

    /// Strings drawn with repeats (the same string held twice, as a
    /// snapshot read back and extended holds it, and strings that differ
    /// only in case or by a prefix), and `keys` keys drawn over them.
    fn draw_keys(snap: &mut Snapshot, next: &mut impl FnMut(u64) -> u64, keys: u64) {
        let words = ["", "a", "ab", "b", "B", "é", "RUS", "RUSS", "USA", "a"];
        let n = 1 + next(words.len() as u64) as usize;
        snap.strings = (0..n)
            .map(|_| words[next(words.len() as u64) as usize].to_string())
            .collect();
        let n = n as u64;
        let opt = |x: u64| if x == n { 0 } else { x as u32 + 1 };
        for _ in 0..keys {
            let key = [
                next(n) as u32,
                next(n) as u32,
                opt(next(n + 1)),
                opt(next(n + 1)),
                opt(next(n + 1)),
            ];
            snap.keys.push(key);
        }
    }

    /// The record at each seq of a chain of `keys` statements coming again
    /// in a scattered order: 1 withheld, 2 a correction, then statements of
    /// five parties, a subject for each five.
    fn keys_met_again(keys: usize) -> impl Fn(Seq) -> Entry {
        let correction = varied_events()
            .into_iter()
            .find(|e| matches!(e, Event::Correction(_)))
            .expect("a correction");
        let templates: Vec<Event> = (0..keys)
            .map(|i| {
                let party = ["USA", "RUS", "TUR", "FRA", "EGY"][i % 5];
                statement(0, party, &format!("S{}", i / 5))
                    .event
                    .expect("a statement")
            })
            .collect();
        move |seq: Seq| Entry {
            seq,
            recorded_at: 5,
            event: match seq {
                1 => None,
                2 => Some(correction.clone()),
                _ => Some(templates[(seq as usize * 7919) % templates.len()].clone()),
            },
        }
    }

    /// A snapshot stored, then read back from its head and chunks.
    fn read_back(snap: &Snapshot) -> Snapshot {
        let (head, chunks) = stored_bytes(snap);
        let mut back = Snapshot::from_head(&head).expect("a head");
        back.load_facts(&mut |i| chunks.get(i).cloned())
            .expect("its chunks");
        back
    }

    /// A snapshot's stored bytes, head and chunks.
    fn stored_bytes(snap: &Snapshot) -> (Vec<u8>, Vec<Vec<u8>>) {
        let stored = snap.store();
        (stored.head, stored.chunks)
    }

    /// Extending a snapshot with the records as stored makes the snapshot
    /// that extending it with the decoded events makes, byte for byte: on
    /// statements of every shape (some kept whole, one machine-coded), a
    /// correction, records withheld, and a snapshot stored, loaded back and
    /// extended again.
    #[test]
    fn a_snapshot_of_stored_records_is_the_snapshot_of_their_events() {
        let events = varied_events();
        let payloads: Vec<Vec<u8>> = events
            .iter()
            .map(|e| codec::encode_event(e).expect("encodes"))
            .collect();
        // Each event twice, one in seven withheld.
        let records: Vec<(Seq, Option<usize>)> = (0..2 * events.len())
            .map(|i| ((i + 1) as Seq, (i % 7 != 3).then_some(i % events.len())))
            .collect();
        let (mut decoded, mut stored) = (Snapshot::new(), Snapshot::new());
        let half = records.len() / 2;
        let extend =
            |decoded: &mut Snapshot, stored: &mut Snapshot, part: &[(Seq, Option<usize>)]| {
                for (seq, at) in part {
                    let event =
                        at.map(|i| codec::decode_event_for_fold(&payloads[i]).expect("decodes"));
                    decoded.extend(&Entry {
                        seq: *seq,
                        recorded_at: 5,
                        event,
                    });
                    stored
                        .extend_stored(*seq, 5, at.map(|i| &payloads[i][..]))
                        .expect("decodes");
                }
            };
        extend(&mut decoded, &mut stored, &records[..half]);
        assert_eq!(stored_bytes(&decoded), stored_bytes(&stored));
        assert!(!stored.amendments.is_empty() && !stored.facts.is_empty());
        // Stored, loaded back and extended with the rest.
        let (mut decoded, mut stored) = (read_back(&decoded), read_back(&stored));
        extend(&mut decoded, &mut stored, &records[half..]);
        assert_eq!(stored_bytes(&decoded), stored_bytes(&stored));
        // The same as a snapshot of every record made at once: the keys met
        // again after the reload (every statement comes twice) are merged
        // with those read back.
        let (mut whole, mut whole_stored) = (Snapshot::new(), Snapshot::new());
        extend(&mut whole, &mut whole_stored, &records);
        assert_eq!(stored_bytes(&whole), stored_bytes(&stored));
        assert!(stored.keys.len() > stored.loaded_keys);
        // A payload that does not decode is an error, not a record passed over.
        assert!(stored.extend_stored(1_000, 5, Some(&[0xff, 1, 2])).is_err());
    }

    /// A snapshot read back and extended, at any point (after nothing but
    /// amendments, or after thousands of facts), stores what a snapshot of
    /// every record made at once stores: keys met again after the read are
    /// merged with those read back, on either side of the number of facts
    /// at which chunks are sealed on threads, and with the lookups freed
    /// midway.
    #[test]
    fn a_snapshot_read_back_and_extended_is_the_snapshot_made_at_once() {
        // 1,500 keys: each comes again many times.
        let record = keys_met_again(1_500);
        let extend = |snap: &mut Snapshot, from: Seq, to: Seq| {
            for seq in from..=to {
                snap.extend(&record(seq));
                if seq == (from + to) / 2 {
                    snap.release_lookups();
                }
            }
        };
        for n in [
            2 * CHUNK_FACTS as Seq + 2,
            2 * CHUNK_FACTS as Seq + 3,
            3 * CHUNK_FACTS as Seq + 700,
        ] {
            let mut whole = Snapshot::new();
            extend(&mut whole, 1, n);
            let expected = stored_bytes(&whole);
            for cut in [2, 1_000, n / 3, n - 1] {
                let mut first = Snapshot::new();
                extend(&mut first, 1, cut);
                let mut back = read_back(&first);
                extend(&mut back, cut + 1, n);
                assert_eq!(stored_bytes(&back), expected, "{n} cut at {cut}");
                // And once more, read back and stored again.
                assert_eq!(
                    stored_bytes(&read_back(&back)),
                    expected,
                    "{n} cut at {cut}"
                );
            }
        }
    }

    /// Chunks sealed on threads come back in the order they were made, each
    /// with its checksum, as sealed one by one.
    #[test]
    fn chunks_sealed_on_threads_come_back_in_order() {
        let raws: Vec<Vec<u8>> = (0..60usize)
            .map(|i| match i % 3 {
                0 => vec![i as u8; 10_000 + i],
                1 => (0..(i * 37) as u32).flat_map(|x| x.to_le_bytes()).collect(),
                _ => vec![i as u8; i],
            })
            .collect();
        let sealed = |threads| {
            let mut out = Vec::new();
            seal_in_turn(
                threads,
                |seal| {
                    for raw in &raws {
                        seal(raw.clone());
                    }
                },
                &mut |sealed, sum| out.push((sealed, sum)),
            );
            out
        };
        let one_by_one = sealed(0);
        assert_eq!(one_by_one.len(), raws.len());
        for ((s, sum), raw) in one_by_one.iter().zip(&raws) {
            assert_eq!(codec::open_block(s).expect("opens").as_ref(), &raw[..]);
            assert_eq!(*sum, chain::snapshot_digest(s));
        }
        assert_eq!(sealed(2), one_by_one);
    }

    /// Sealed on threads, each chunk goes out while the next are still being
    /// made: never more than [`BEHIND`] behind the last one handed, however
    /// the threads are held up, so that the chunks are never all held.
    #[test]
    fn chunks_sealed_on_threads_go_out_while_the_next_are_made() {
        let delivered = std::cell::Cell::new(0usize);
        let mut behind = Vec::new();
        seal_in_turn(
            2,
            |seal| {
                for n in 0..200usize {
                    // One chunk far longer to seal than the rest holds up
                    // its thread while the other seals those after it.
                    let raw = if n == 10 {
                        (0..8u32 << 20)
                            .map(|x| (x.wrapping_mul(x) >> 7) as u8)
                            .collect()
                    } else {
                        vec![n as u8; 300]
                    };
                    seal(raw);
                    behind.push(n + 1 - delivered.get());
                }
            },
            &mut |_, _| delivered.set(delivered.get() + 1),
        );
        assert_eq!(delivered.get(), 200);
        assert!(behind.iter().all(|&b| b <= BEHIND), "{behind:?}");
    }

    /// A snapshot stored chunk by chunk hands each, numbered and in order, as
    /// [`Snapshot::store`] holds them; the first chunk that cannot be put
    /// stops the rest, and its error is the store's.
    #[test]
    fn a_snapshot_stored_chunk_by_chunk_stops_at_the_first_that_cannot_be_put() {
        let mut snap = Snapshot::new();
        for seq in 1..=(5 * CHUNK_FACTS as u64) {
            let party = ["USA", "RUS", "TUR"][(seq % 3) as usize];
            snap.extend(&statement(seq, party, &format!("S{}", seq % 700)));
        }
        let whole = snap.store();
        assert!(whole.chunks.len() >= 5, "{}", whole.chunks.len());
        let mut handed = Vec::new();
        let head = snap
            .store_into(&mut |i, chunk| {
                handed.push((i, chunk));
                Ok(())
            })
            .expect("stored");
        assert_eq!(head, whole.head);
        let numbered: Vec<(usize, Vec<u8>)> = whole.chunks.into_iter().enumerate().collect();
        assert_eq!(handed, numbered);
        let mut tried = Vec::new();
        let error = snap
            .store_into(&mut |i, _| {
                tried.push(i);
                if i == 2 {
                    Err(std::io::Error::other("the disk is full"))
                } else {
                    Ok(())
                }
            })
            .expect_err("a chunk could not be put");
        assert_eq!(error.to_string(), "the disk is full");
        assert_eq!(tried, [0, 1, 2]);
    }

    /// A snapshot of many chunks (sealed on threads) reads back whole: loaded
    /// and stored again, it is the same bytes.
    #[test]
    fn a_snapshot_of_many_chunks_reads_back_the_same() {
        let mut snap = Snapshot::new();
        let n = 3 * CHUNK_FACTS as u64 + 500;
        for seq in 1..=n {
            let party = ["USA", "RUS", "TUR", "FRA", "EGY"][(seq % 5) as usize];
            snap.extend(&statement(seq, party, &format!("S{}", seq % 1_000)));
        }
        let (head, chunks) = stored_bytes(&snap);
        assert!(chunks.len() > 2, "{} chunks", chunks.len());
        let back = read_back(&snap);
        assert_eq!(back.facts.len(), n as usize * HELD_LEN);
        assert_eq!(stored_bytes(&back), (head, chunks));
    }

    /// The keys are stored in the order of their strings compared as strings
    /// (none first), keys that compare equal in the order met, even when a
    /// snapshot holds the same string twice.
    #[test]
    fn keys_are_stored_in_the_order_of_their_strings() {
        let mut next = draws(7);
        for round in 0..50 {
            let mut snap = Snapshot::new();
            draw_keys(&mut snap, &mut next, round * 7);
            let mut expected: Vec<u32> = (0..snap.keys.len() as u32).collect();
            expected.sort_by(|a, b| {
                snap.sort_key(&snap.keys[*a as usize])
                    .cmp(&snap.sort_key(&snap.keys[*b as usize]))
            });
            // Keys whose strings are equal share a place, the first met
            // standing for it.
            let text = |i: u32| snap.sort_key(&snap.keys[i as usize]);
            let mut first: Vec<u32> = Vec::new();
            let mut place = vec![0u32; snap.keys.len()];
            for i in &expected {
                if first.last().is_none_or(|f| text(*f) != text(*i)) {
                    first.push(*i);
                }
                place[*i as usize] = first.len() as u32 - 1;
            }
            assert_eq!(
                snap.key_places(),
                (place, first),
                "{:?} {:?}",
                snap.strings,
                snap.keys
            );
        }
    }

    /// Facts are put in the order of a sort by key and seq that keeps facts
    /// of the same key and seq in place, whether or not a key's facts come
    /// in seq order.
    #[test]
    fn facts_are_ordered_by_key_then_seq_ties_kept_in_place() {
        let mut next = draws(3);
        for round in 0..40u64 {
            let keys = 1 + next(20) as usize;
            let mut held = Vec::new();
            let mut seq = 0u64;
            for i in 0..(round * 13) {
                // Mostly rising seqs, some repeated, some going back.
                seq = match next(10) {
                    0 => seq.saturating_sub(next(30)),
                    1 => seq,
                    _ => seq + 1 + next(3),
                };
                held.extend_from_slice(&(next(keys as u64) as u32).to_le_bytes());
                held.extend_from_slice(&seq.to_le_bytes());
                // The rest of the fact tells facts of one key and seq apart.
                held.extend_from_slice(&i.to_le_bytes());
                held.resize(held.len() + HELD_LEN - 20, 0);
            }
            // Keys renumbered, as `store` renumbers them.
            let new_id: Vec<u32> = (0..keys as u32).rev().collect();
            let key_of =
                |f: &[u8]| new_id[u32::from_le_bytes(f[0..4].try_into().unwrap()) as usize];
            let seq_of = |f: &[u8]| u64::from_le_bytes(f[4..12].try_into().unwrap());
            let mut expected: Vec<&[u8]> = held.chunks_exact(HELD_LEN).collect();
            expected.sort_by_key(|f| (key_of(f), seq_of(f)));
            let (order, start) = by_key_then_seq(&held, keys, key_of);
            let got: Vec<&[u8]> = order.iter().map(|i| held_fact(&held, *i)).collect();
            assert_eq!(got, expected);
            // Each key's facts start where the keys before it end.
            for k in 0..keys {
                let run = &got[start[k] as usize..start[k + 1] as usize];
                assert!(run.iter().all(|f| key_of(f) == k as u32), "{k}");
            }
            assert_eq!(start[keys] as usize, got.len());
        }
    }

    /// The view of a statement read straight from its bytes gives the facts
    /// and the fields a fold reads that the decoder gives, and reads every
    /// statement of format 1 or 2 with up to six subjects; a payload it reads (of any bytes: each byte of each
    /// payload changed, each payload cut short or lengthened, a character
    /// split between two strings) is one the decoder reads the same.
    #[test]
    fn the_fold_view_reads_what_the_decoder_reads_and_nothing_it_refuses() {
        let events = varied_events();
        let mut read = 0;
        let mut tried = 0;
        for event in &events {
            let payload = codec::encode_event(event).expect("encodes");
            let plain = match event {
                Event::Statement(s) => s.coded.is_none() && s.proposition.subjects.len() <= 6,
                _ => false,
            };
            match viewed(&payload) {
                Some(v) => {
                    assert_eq!(Some(v), decoded(&payload).expect("decodes"));
                    read += 1;
                }
                None => assert!(!plain, "a statement the view should read: {event:?}"),
            }
            let mut check = |bytes: &[u8]| {
                tried += 1;
                if let Some(v) = viewed(bytes) {
                    assert_eq!(Ok(Some(v)), decoded(bytes).map_err(|e| e.to_string()));
                }
            };
            for i in 0..payload.len() {
                for x in [
                    0u8,
                    1,
                    2,
                    0x7f,
                    0x80,
                    0xff,
                    payload[i] ^ 1,
                    payload[i].wrapping_add(1),
                ] {
                    let mut b = payload.clone();
                    b[i] = x;
                    check(&b);
                }
            }
            for cut in 0..payload.len() {
                check(&payload[..cut]);
            }
            check(&[payload.as_slice(), &[0]].concat());
            // A character cut between two strings: the last byte of one,
            // then its neighbour's length (and option tag), then the first
            // byte of the next. Neither string alone is UTF-8.
            for gap in [9, 10] {
                for i in 0..payload.len().saturating_sub(gap) {
                    let mut b = payload.clone();
                    b[i] = 0xc3;
                    b[i + gap] = 0xa9;
                    check(&b);
                }
            }
        }
        assert!(read >= 140, "{read} of {} read by the view", events.len());
        assert!(tried > 100_000);
    }

    /// A snapshot's keys come in key order, each once, and a query finds
    /// them by that order: a chunk whose keys are out of order (with its
    /// checksum made again) is refused, not folded into positions that a
    /// search could not find again.
    #[test]
    fn keys_out_of_order_are_refused() {
        let mut snap = Snapshot::new();
        for (i, (party, subject)) in [("USA", "RUS"), ("FRA", "TUR"), ("GBR", "RUS")]
            .into_iter()
            .enumerate()
        {
            snap.extend(&statement(i as Seq + 1, party, subject));
        }
        snap.set_hash(Hash([1; 32]));
        let stored = snap.store();
        let mut loaded = Snapshot::from_head(&stored.head).expect("head");
        let q = Query::default();
        let mut fold = Fold::new(&q, Amendments::default());
        loaded
            .replay(&mut fold, &mut |i| stored.chunks.get(i).cloned())
            .expect("in order");
        assert_eq!(fold.answer().len(), 3);

        let raw = codec::open_block(&stored.chunks[0])
            .expect("opens")
            .into_owned();
        let one = KEY_LEN + FACT_LEN;
        let mut swapped = raw[one..2 * one].to_vec();
        swapped.extend_from_slice(&raw[..one]);
        swapped.extend_from_slice(&raw[2 * one..]);
        let sealed = codec::seal_block(&swapped);
        loaded.chunks[0].sum = chain::snapshot_digest(&sealed);
        let mut fold = Fold::new(&q, Amendments::default());
        let err = loaded
            .replay(&mut fold, &mut |_| Some(sealed.clone()))
            .expect_err("out of order");
        assert!(err.to_string().contains("out of order"), "{err}");
    }

    /// A snapshot built with at most `held` facts held at a time (none
    /// written out for `None`), to memory or to files in `dir`.
    fn with_held<T>(held: Option<usize>, f: impl FnOnce() -> T) -> T {
        let before = runs::HELD_MAX.with(|h| h.replace(held.unwrap_or(usize::MAX / HELD_LEN)));
        let out = f();
        runs::HELD_MAX.with(|h| h.set(before));
        out
    }

    /// Facts drawn at random over strings drawn with repeats (the same
    /// string held twice, as a snapshot read back and extended holds it),
    /// keys met in any order, seqs mostly rising, some repeated, some going
    /// back: built with the facts written out as runs of every length, to
    /// memory and to a file, the snapshot stores the bytes of one that held
    /// them all.
    #[test]
    fn a_snapshot_built_in_runs_stores_what_one_held_whole_stores() {
        let dir = tempfile::tempdir().expect("dir");
        let build = |round: u64, spill: Option<Option<&Path>>| {
            let mut next = draws(round);
            let mut snap = Snapshot::new();
            if let Some(dir) = spill {
                snap.spill_to(dir);
            }
            let keys = 1 + next(30);
            draw_keys(&mut snap, &mut next, keys);
            let n = snap.strings.len() as u64;
            let opt = |x: u64| if x == n { 0 } else { x as u32 + 1 };
            let mut seq = 0u64;
            for _ in 0..next(400) {
                seq = match next(10) {
                    0 => seq.saturating_sub(next(30)),
                    1 => seq,
                    _ => seq + 1 + next(3),
                };
                let key = next(snap.keys.len() as u64) as u32;
                snap.facts.extend_from_slice(&key.to_le_bytes());
                let (days, stance, hedge) = (next(9) as i32, next(n) as u32, opt(next(n + 1)));
                push_fact(&mut snap.facts, seq, days, 0, 0, stance, hedge);
                snap.spill_when_full();
            }
            snap
        };
        let mut spilled = 0;
        for round in 0..60 {
            let expected = with_held(None, || stored_bytes(&build(round, None)));
            for held in [1, 2, 3, 7, 50] {
                for to in [None, Some(dir.path())] {
                    let snap = with_held(Some(held), || build(round, Some(to)));
                    spilled += snap.runs_written();
                    assert_eq!(
                        with_held(Some(held), || stored_bytes(&snap)),
                        expected,
                        "round {round}, {held} held, to {to:?}"
                    );
                }
            }
        }
        assert!(spilled > 1_000, "{spilled} runs written");
        // Each file was removed as soon as it was made.
        let left = std::fs::read_dir(dir.path().join(crate::store::CACHE_DIR))
            .expect("the cache directory")
            .count();
        assert_eq!(left, 0);
    }

    /// Built from events, read back and extended, with runs written on the
    /// way each time, a snapshot stores what one made at once in memory
    /// stores.
    #[test]
    fn a_snapshot_read_back_and_extended_in_runs_is_the_snapshot_made_at_once() {
        let dir = tempfile::tempdir().expect("dir");
        let record = keys_met_again(300);
        let n = 2 * CHUNK_FACTS as Seq + 300;
        let mut whole = Snapshot::new();
        for seq in 1..=n {
            whole.extend(&record(seq));
        }
        let expected = with_held(None, || stored_bytes(&whole));
        // A read back that fails part way, then is done again: nothing of
        // the first is kept, neither its runs (to memory) nor its failure to
        // make a file for them (a `cache` that is a file, removed before the
        // second).
        let blocked = tempfile::tempdir().expect("dir");
        let cache = blocked.path().join(crate::store::CACHE_DIR);
        for to in [None, Some(blocked.path())] {
            with_held(Some(1_000), || {
                std::fs::write(&cache, b"a file").expect("a file");
                let (head, chunks) = stored_bytes(&whole);
                let mut back = Snapshot::from_head(&head).expect("a head");
                back.spill_to(to);
                let mut reads = 0;
                let failed = back.load_facts(&mut |i| {
                    reads += 1;
                    (reads < 3).then(|| chunks[i].clone())
                });
                assert!(failed.is_err(), "{to:?}");
                assert_eq!(back.runs_written() > 0, to.is_none(), "{to:?}");
                assert_eq!(back.spill_failed, to.is_some(), "{to:?}");
                std::fs::remove_file(&cache).expect("removed");
                back.load_facts(&mut |i| chunks.get(i).cloned())
                    .expect("its chunks");
                assert!(back.runs_written() > 0, "{to:?}");
                assert_eq!(stored_bytes(&back), expected, "loaded again, {to:?}");
            });
        }
        for held in [1_000, 5_000] {
            with_held(Some(held), || {
                for cut in [2, n / 3, n - 1] {
                    let mut first = Snapshot::new();
                    first.spill_to(Some(dir.path()));
                    for seq in 1..=cut {
                        first.extend(&record(seq));
                    }
                    let (head, chunks) = stored_bytes(&first);
                    let mut back = Snapshot::from_head(&head).expect("a head");
                    back.spill_to(None);
                    back.load_facts(&mut |i| chunks.get(i).cloned())
                        .expect("its chunks");
                    for seq in cut + 1..=n {
                        back.extend(&record(seq));
                    }
                    assert!(back.runs_written() > 1, "{held} held, cut at {cut}");
                    assert_eq!(stored_bytes(&back), expected, "{held} held, cut at {cut}");
                }
            });
        }
    }

    /// A run that cannot be written (a disk that fills part way, leaving
    /// half of it) leaves the facts held, and every fact after them; so does
    /// a directory where no file can be made (its `cache` a file), where the
    /// runs would only copy the facts into memory. Either way the snapshot
    /// stores what one that held them all stores.
    #[test]
    fn a_run_that_cannot_be_written_leaves_the_facts_held() {
        let dir = tempfile::tempdir().expect("dir");
        let blocked = tempfile::tempdir().expect("dir");
        std::fs::write(blocked.path().join(crate::store::CACHE_DIR), b"a file").expect("a file");
        let build = |spill: Option<&Path>| {
            let mut snap = Snapshot::new();
            snap.spill_to(spill);
            for seq in 1..=400 {
                let party = ["USA", "RUS", "TUR", "FRA", "EGY"][(seq % 5) as usize];
                snap.extend(&statement(seq, party, &format!("S{}", seq * 7 % 40)));
            }
            snap
        };
        let expected = with_held(None, || stored_bytes(&build(None)));
        for fail in [0, 1, 5] {
            runs::FAIL_PUSH.with(|f| f.set(Some(fail)));
            let snap = with_held(Some(30), || build(Some(dir.path())));
            runs::FAIL_PUSH.with(|f| f.set(None));
            // The hook fails one run only: none is tried after it.
            assert_eq!(
                snap.runs_written(),
                fail,
                "the runs before the one that failed"
            );
            assert_eq!(snap.facts.len(), (400 - fail * 30) * HELD_LEN);
            assert_eq!(stored_bytes(&snap), expected, "run {fail} failed");
        }
        let snap = with_held(Some(30), || build(Some(blocked.path())));
        assert_eq!(snap.runs_written(), 0);
        assert_eq!(stored_bytes(&snap), expected, "no file could be made");
    }

    /// A run whose facts are not in the order of the stored keys is
    /// refused when the snapshot is stored: its facts would not be.
    #[test]
    fn a_run_out_of_order_is_refused_when_stored() {
        let build = || {
            let mut snap = Snapshot::new();
            for seq in 1..=20 {
                let party = ["USA", "RUS", "TUR"][(seq % 3) as usize];
                snap.extend(&statement(seq, party, "LBY"));
            }
            snap
        };
        let expected = stored_bytes(&build());
        // The held facts as one run, in a run's order, then in the order
        // held.
        let run = |in_order: bool| {
            let mut snap = build();
            let order = match in_order {
                true => snap.run_order(),
                false => (0..20).collect(),
            };
            let facts = std::mem::take(&mut snap.facts);
            let mut runs = runs::FactRuns::new(None);
            runs.push(&facts, &order).expect("pushed");
            snap.spilled = Some(runs);
            snap
        };
        assert_eq!(stored_bytes(&run(true)), expected);
        let err = run(false)
            .store_into(&mut |_, _| Ok(()))
            .expect_err("out of order");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    }
}
