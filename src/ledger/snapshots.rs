//! Positions: the ledger as a [`Chain`] that a positions query folds, and
//! positions snapshots, derived data that let a query start part of the way
//! along. A snapshot lives in files beside the store (`cache/positions`, its
//! head, and `cache/positions.SEQ.N`, its chunks), and is used only when its
//! head's MAC under the cache key holds (see `cache`), its chunks match the
//! checksums the head names, and the chain still holds, at its seq, the hash it
//! names. It is written outside any commit and never fsynced. Anything signed,
//! exported or proved is computed from the chain instead.

use super::{Ledger, LedgerError, Result, SNAPSHOT_EVERY};
use crate::chain::Problem;
use crate::codec;
use crate::codec::FormatError;
use crate::event::{Entry, Head, Seq};
use crate::multiset::KeyedSum;
use crate::projection::snapshot::{check, Snapshot};
use crate::projection::{
    self, Amendments, Answer, Chain, KnownAt, Met, Position, Query, StatementSink,
};

/// Cache entry of the snapshot's head; its chunks are `positions.SEQ.N`.
const SNAPSHOT_ENTRY: &str = "positions";

#[cfg(test)]
thread_local! {
    /// Snapshots built on this thread (brought up to the head to be saved).
    pub(super) static BUILDS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Cache entry that binds the snapshot to the store's blocks: its seq and
/// hash, and how many blocks the store held up to that seq when it was taken.
const BLOCKS_ENTRY: &str = "positions-blocks";
/// Cache entry that says when the blocks were last counted: the binding as
/// they were counted, then the store's change mark at the time. Apart from
/// the binding, which earlier releases read whole.
const COUNTED_ENTRY: &str = "positions-blocks-counted";
/// Where earlier releases kept the snapshot: values in the store, removed
/// when a snapshot is saved to the cache.
const OLD_SNAPSHOT_META: &str = "snapshot";

impl Chain for Ledger {
    type Error = LedgerError;

    /// Reads every record's variant tag and decodes only corrections and
    /// retractions.
    fn amendment_entries(&self, from: Seq, known_at: Option<KnownAt>) -> Result<Vec<Entry>> {
        let mut found = Vec::new();
        self.scan(from, Seq::MAX, |rec| {
            let h = &rec.header;
            if known_at.is_some_and(|k| !k.includes(h.seq, h.recorded_at)) {
                return Ok(false);
            }
            if !h.is_redacted() && codec::is_amendment(rec.body) {
                let event = codec::decode_event(rec.body)
                    .map_err(|error| LedgerError::Corrupt { seq: h.seq, error })?;
                found.push(Entry {
                    seq: h.seq,
                    recorded_at: h.recorded_at,
                    event: Some(event),
                });
            }
            Ok(true)
        })?;
        Ok(found)
    }

    fn statements(&self, from: Seq, f: &mut StatementSink<'_>) -> Result<()> {
        Ledger::statements(self, from, f)
    }

    fn statements_in_parts<P: Send>(
        &self,
        part: impl Fn() -> P + Sync,
        add: impl Fn(&mut P, Seq, i64, Met<'_, '_>) -> bool + Sync,
        sink: impl FnMut(P),
    ) -> Result<()> {
        Ledger::statements_in_parts(self, 1, part, add, sink)
    }
}

/// The records a selection may keep among those a positions snapshot
/// covers ([`Ledger::statement_candidates`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// The snapshot's seq: records after it are not covered.
    pub upto: Seq,
    /// The seqs, in order, of the statements whose fields the selection may
    /// keep, of every correction and retraction, and of every event a
    /// correction names (up to the head), from the first seq asked for up
    /// to `upto`.
    pub seqs: Vec<Seq>,
    /// How many records there are from the first seq asked for to `upto`.
    pub span: u64,
    /// Whether the search stopped at more than it was asked to find:
    /// `seqs` then holds only those found first.
    pub(super) more: bool,
}

impl Candidates {
    /// Whether reading only the candidates' blocks is worth it: a
    /// candidate in 20 records or fewer. A read of every block goes on two
    /// threads; read one after another, the candidates' blocks took 2.36 s
    /// at 10M events where every block took 3.61 s with a candidate in 33
    /// records, and 6.52 s where it took 5.57 s with one in 11
    /// (BENCHMARKS.md, "history, log and timeline read only what the
    /// positions snapshot names").
    pub fn few(&self) -> bool {
        !self.more && self.seqs.len() as u64 <= self.span / 20
    }
}

/// The cache entry of chunk `i` of the snapshot taken at `seq`.
fn chunk_name(seq: Seq, i: usize) -> String {
    format!("{SNAPSHOT_ENTRY}.{seq:020}.{i:08}")
}

impl Ledger {
    /// The corrections and retractions the ledger held at `known_at`, resolved.
    /// Reads every record's variant tag and decodes only these.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn amendments(&self, known_at: Option<KnownAt>) -> Result<Amendments> {
        Ok(Amendments::collect(
            &self.amendment_entries(1, known_at)?,
            known_at,
        ))
    }

    /// The corrections and retractions the ledger holds, resolved, for what
    /// is shown rather than signed or exported: those up to the positions
    /// snapshot's seq from the snapshot, when it is believed as
    /// [`Ledger::answer`] believes it (it holds every correction and
    /// retraction up to its seq), and the rest from the chain past it. What
    /// [`Ledger::amendments`] gives for the head, without reading the whole
    /// chain once a snapshot is near it.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn amendments_now(&self) -> Result<Amendments> {
        match self.amendments_from_snapshot()? {
            Some(a) => Ok(a),
            None => self.amendments(None),
        }
    }

    /// What [`Ledger::amendments_now`] says of the event at `seq`: from the
    /// snapshot and the chain past it when a snapshot is believed, else
    /// [`Ledger::amendments_bearing_on`] `seq` (the chain past the
    /// statement it is or corrects).
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn amendments_shown_for(&self, seq: Seq) -> Result<Amendments> {
        match self.amendments_from_snapshot()? {
            Some(a) => Ok(a),
            None => self.amendments_bearing_on(seq),
        }
    }

    /// The amendments of the believed positions snapshot and of the chain
    /// past it, resolved; `None` without a snapshot to believe.
    fn amendments_from_snapshot(&self) -> Result<Option<Amendments>> {
        if !self.cache.usable() {
            return Ok(None);
        }
        let Some(snap) = self.load_snapshot(&self.store.head()?)? else {
            return Ok(None);
        };
        let tail = self.amendment_entries(snap.seq + 1, None)?;
        Ok(Some(Amendments::collect(
            snap.amendments().iter().chain(&tail),
            None,
        )))
    }

    /// The corrections and retractions that bear on the event at `seq`,
    /// resolved: those recorded after the statement it is or ultimately
    /// corrects (its root, found through the `of` of each correction). An
    /// amendment names an event recorded before it, so for the root and
    /// every correction of it, `seq` among them, these say what
    /// [`Ledger::amendments`] says, from a read of the chain past the root
    /// alone: the later the event, the less is read.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn amendments_bearing_on(&self, seq: Seq) -> Result<Amendments> {
        self.amendments_from(self.root_of(seq)?)
    }

    /// The statement that the event at `seq` is or ultimately corrects: the
    /// `of` of each correction followed back (an event not a correction is
    /// its own).
    pub(crate) fn root_of(&self, seq: Seq) -> Result<Seq> {
        let mut root = seq;
        loop {
            match self.get(root)?.event {
                // A correction names an earlier event; one that does not
                // (a damaged chain) ends the walk.
                Some(crate::event::Event::Correction(c)) if (1..root).contains(&c.of) => {
                    root = c.of
                }
                _ => return Ok(root),
            }
        }
    }

    /// The corrections and retractions recorded from `from` on, resolved.
    pub(crate) fn amendments_from(&self, from: Seq) -> Result<Amendments> {
        Ok(Amendments::collect(
            &self.amendment_entries(from, None)?,
            None,
        ))
    }

    /// The positions the ledger supports for `query`, from a full replay of the chain.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn positions_replay(&self, query: &Query) -> Result<Vec<Position>> {
        Ok(self.answer_replay(query)?.into_positions())
    }

    /// [`Ledger::positions_replay`] as the fold holds them, to be read
    /// borrowed.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn answer_replay(&self, query: &Query) -> Result<Answer> {
        projection::replay(self, query)
    }

    /// The positions the ledger supports for `query`: [`Ledger::answer`], owned.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn positions(&self, query: &Query) -> Result<Vec<Position>> {
        Ok(self.answer(query)?.into_positions())
    }

    /// The positions the ledger supports for `query`. Starts from the saved
    /// snapshot when it is valid (it matches the chain at its seq and its
    /// checksums hold) and the query looks at least as far as it, replaying only
    /// the events after it; brings the snapshot up to the head first when
    /// [`SNAPSHOT_EVERY`] events have come since. The answer is always the one
    /// [`Ledger::positions_replay`] gives.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn answer(&self, query: &Query) -> Result<Answer> {
        if !self.cache.usable() {
            return self.answer_replay(query);
        }
        let head = self.store.head()?;
        let mut snap = self.load_snapshot(&head)?;
        if query.known_at.is_none() && head.size >= SNAPSHOT_EVERY {
            let behind = snap.as_ref().map_or(head.size, |s| head.size - s.seq);
            // A snapshot is only a speed-up: if it cannot be written (a full
            // disk, say), the query goes on without it, from the one there
            // is, if any. Where nothing can be written there (a ledger on a
            // read-only file system), none is built only to be thrown away:
            // that cost every query the build's time as well as its own.
            if behind >= SNAPSHOT_EVERY && self.cache.writable() {
                let _ = self.refresh_snapshot(snap.take());
                snap = self.load_snapshot(&head)?;
            }
        }
        let usable = snap.filter(|s| match query.known_at {
            None => true,
            Some(KnownAt::Seq(k)) => k >= s.seq,
            Some(KnownAt::Time(t)) => self.get(s.seq).is_ok_and(|r| t >= r.recorded_at),
        });
        if let Some(snap) = usable {
            let found = projection::from_snapshot(
                self,
                &snap,
                &mut |i| self.snapshot_chunk(snap.seq, i),
                query,
            )?;
            if let Some(positions) = found {
                return Ok(positions);
            }
            // A damaged chunk: the snapshot is never trusted, the chain is.
        }
        self.answer_replay(query)
    }

    /// The records from `from` on, up to the believed positions snapshot's
    /// seq, that a selection may keep: the statements whose fields (as
    /// recorded) `might_keep` passes, every correction and retraction
    /// ([`Snapshot::statements_of`]), and every event that a correction up
    /// to the head names, whatever its party: a statement corrected is kept
    /// or not as it stands, which its fields as recorded do not say.
    /// `parties`, when given, are the only parties `might_keep` passes
    /// among statements no correction names: the snapshot's chunks of others
    /// are not read. `None` where no snapshot is believed, or one cannot be
    /// read whole: every record is then to be read.
    ///
    /// # Errors
    /// Store failures.
    pub fn statement_candidates(
        &self,
        from: Seq,
        parties: Option<&[String]>,
        might_keep: impl Fn(Seq, &crate::event::StatementFields<'_>) -> bool,
    ) -> Result<Option<Candidates>> {
        self.candidates(from, parties, might_keep, false)
    }

    /// [`Ledger::statement_candidates`]; with `few`, the search stops once
    /// the candidates found are too many to be [`Candidates::few`], rather
    /// than read every chunk and gather every seq for nothing.
    pub(super) fn candidates(
        &self,
        from: Seq,
        parties: Option<&[String]>,
        might_keep: impl Fn(Seq, &crate::event::StatementFields<'_>) -> bool,
        few: bool,
    ) -> Result<Option<Candidates>> {
        if !self.cache.usable() {
            return Ok(None);
        }
        let Some(snap) = self.load_snapshot(&self.store.head()?)? else {
            return Ok(None);
        };
        let from = from.max(1);
        let span = (snap.seq + 1).saturating_sub(from);
        // Seqs pushed, some more than once (a statement of several subjects
        // may pass for each).
        let most = match few {
            true => usize::try_from(span / 20).unwrap_or(usize::MAX),
            false => usize::MAX,
        };
        let mut seqs = Vec::new();
        let mut more = false;
        if from <= snap.seq {
            let read = &mut |i| self.snapshot_chunk(snap.seq, i);
            match snap.statements_of(read, parties, from, might_keep, &mut seqs, most) {
                Ok(all) => more = !all,
                Err(_) => return Ok(None),
            }
        }
        // The statements that corrections past the snapshot name (those
        // up to it are named by its own).
        if from <= snap.seq && !more {
            for e in self.amendment_entries(snap.seq + 1, None)? {
                if let Some(crate::event::Event::Correction(c)) = &e.event {
                    if (from..=snap.seq).contains(&c.of) {
                        seqs.push(c.of);
                    }
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        Ok(Some(Candidates {
            upto: snap.seq,
            seqs,
            span,
            more,
        }))
    }

    /// Builds a snapshot of the whole chain and saves it.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn snapshot_now(&self) -> Result<Snapshot> {
        let mut snap = self.snapshot_to_build(None);
        self.save_up_to_head(&mut snap)?;
        Ok(snap)
    }

    /// Brings a snapshot (or a new one) up to the head and saves it.
    fn refresh_snapshot(&self, old: Option<Snapshot>) -> Result<()> {
        let mut snap = self.snapshot_to_build(old);
        let seq = snap.seq;
        if snap
            .load_facts(&mut |i| self.snapshot_chunk(seq, i))
            .is_err()
        {
            snap = self.snapshot_to_build(None);
        }
        self.save_up_to_head(&mut snap)
    }

    /// `old`, or a new snapshot, to be built: its facts go out of memory
    /// as runs, to scratch space beside the store, when it has a directory.
    fn snapshot_to_build(&self, old: Option<Snapshot>) -> Snapshot {
        let mut snap = old.unwrap_or_default();
        if let Some(dir) = self.store.dir() {
            snap.spill_to(Some(dir));
        }
        snap
    }

    /// Extends `snap` with the records after it up to the head, read as
    /// stored ([`Snapshot::extend_stored`]), binds it to the chain hash there
    /// and saves it.
    fn save_up_to_head(&self, snap: &mut Snapshot) -> Result<()> {
        #[cfg(test)]
        BUILDS.with(|b| b.set(b.get() + 1));
        self.scan(snap.seq + 1, Seq::MAX, |rec| {
            let h = &rec.header;
            let payload = (!h.is_redacted()).then_some(rec.body);
            snap.extend_stored(h.seq, h.recorded_at, payload)
                .map_err(|error| LedgerError::Corrupt { seq: h.seq, error })?;
            Ok(true)
        })?;
        if snap.seq > 0 {
            let size = self.store.head()?.size;
            snap.set_hash(self.hash_at(snap.seq, size)?);
        }
        snap.release_lookups();
        self.save_snapshot(snap)
    }

    pub(super) fn snapshot_chunk(&self, seq: Seq, i: usize) -> Option<Vec<u8>> {
        self.cache.read(&chunk_name(seq, i))
    }

    fn save_snapshot(&self, snap: &Snapshot) -> Result<()> {
        let cannot = |source| {
            LedgerError::Store(crate::store::StoreError::Io {
                context: "cannot write the positions snapshot".into(),
                source,
            })
        };
        // The chunks go as they are made, before the head that names them.
        let mut n = 0;
        let head = snap
            .store_into(&mut |i, chunk| {
                n = i + 1;
                self.cache.put(&[(chunk_name(snap.seq, i), chunk, false)])
            })
            .map_err(cannot)?;
        let mut entries: Vec<(String, Vec<u8>, bool)> = Vec::new();
        // The mark before the count: a write between them shows as a change.
        let mark = self.store.change_mark()?;
        if let Some(blocks) = self.store.blocks_through(snap.seq)? {
            let binding = blocks_binding(snap, blocks);
            if let Some(mark) = mark {
                let counted = [&binding[..], &mark].concat();
                entries.push((COUNTED_ENTRY.to_string(), counted, true));
            }
            entries.push((BLOCKS_ENTRY.to_string(), binding, true));
        }
        entries.push((SNAPSHOT_ENTRY.to_string(), head, true));
        self.cache.put(&entries).map_err(cannot)?;
        // Chunks of earlier snapshots, and snapshots kept in the store by
        // earlier releases (large values that slowed sled down), go.
        let prefix = format!("{SNAPSHOT_ENTRY}.{:020}.", snap.seq);
        self.cache.forget(&format!("{SNAPSHOT_ENTRY}."), |name| {
            name.strip_prefix(&prefix)
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < n)
        });
        let _ = self.store.forget_meta(OLD_SNAPSHOT_META);
        Ok(())
    }

    /// The seq the saved positions snapshot covers, when there is one that
    /// checks against the chain.
    ///
    /// # Errors
    /// Store failures.
    pub fn snapshot_seq(&self) -> Result<Option<Seq>> {
        let head = self.store.head()?;
        Ok(self.load_snapshot(&head)?.map(|s| s.seq))
    }

    /// Whether a positions query could save a snapshot here now: there is a
    /// cache key, and a file can be made beside the store (`cache/`). Where
    /// it cannot (a ledger on a read-only file system), queries answer from
    /// the snapshot there is, or from the chain.
    pub fn snapshots_can_be_saved(&self) -> bool {
        self.cache.writable()
    }

    /// The saved snapshot's head, if there is one that is whole and matches
    /// the chain.
    pub(super) fn load_snapshot(&self, head: &Head) -> Result<Option<Snapshot>> {
        // Absent, damaged, forged, or made under another key: not believed.
        let Some(value) = self.cache.get(SNAPSHOT_ENTRY) else {
            return Ok(None);
        };
        let Ok(snap) = Snapshot::from_head(&value) else {
            return Ok(None);
        };
        // Only a snapshot of this very chain counts: its seq must hold its hash.
        if snap.seq == 0
            || snap.seq > head.size
            || self.get(snap.seq).map(|r| r.hash).ok() != Some(snap.hash)
        {
            return Ok(None);
        }
        // A block deleted below its seq leaves the snapshot's answer as the
        // chain was, not as it is: where the store can count its blocks
        // without reading them, the count must be the one the snapshot was
        // taken with. Otherwise the query replays, and meets the hole.
        // Counting reads every key that is not a block (on redb, the 4,096
        // buckets of the digest index: ~20 MB at 1M events), so the count is
        // kept with the store's change mark and taken again only when the
        // store has been written since.
        let mark = self.store.change_mark()?;
        let held = self.cache.get(BLOCKS_ENTRY);
        if let (Some(held), Some(mark)) = (&held, &mark) {
            let counted = self.cache.get(COUNTED_ENTRY);
            if held.len() == BINDING_LEN
                && held[..8] == snap.seq.to_le_bytes()
                && held[8..40] == snap.hash.0
                && counted.is_some_and(|c| c == [&held[..], mark].concat())
            {
                return Ok(Some(snap));
            }
        }
        if let Some(blocks) = self.store.blocks_through(snap.seq)? {
            let binding = blocks_binding(&snap, blocks);
            if held.as_ref() != Some(&binding) {
                return Ok(None);
            }
            if let Some(mark) = mark {
                // Derived data: if it cannot be written, the next query counts again.
                let counted = [&binding[..], &mark].concat();
                let _ = self
                    .cache
                    .put(&[(COUNTED_ENTRY.to_string(), counted, true)]);
            }
        }
        Ok(Some(snap))
    }
}

impl Ledger {
    /// Compares the positions snapshot a query would believe with what the
    /// chain makes up to its seq (`chain`, summed by `verify` as it walked
    /// the blocks; `held`, the snapshot's own sum under the same key). A
    /// snapshot whose chunks cannot be read is not used by any query, and is
    /// not reported.
    pub(super) fn check_snapshot(
        &self,
        snap: &Snapshot,
        chain: std::result::Result<KeyedSum, (Seq, FormatError)>,
        held: std::result::Result<KeyedSum, FormatError>,
    ) -> Result<Option<Problem>> {
        let mismatch =
            |seq: Seq, detail: String| Ok(Some(Problem::SnapshotMismatch { seq, detail }));
        let chain = match chain {
            Ok(sum) => sum,
            Err((seq, e)) => {
                return mismatch(
                    seq,
                    format!(
                        "seq {seq} does not decode ({e}), so no snapshot of the chain can hold it"
                    ),
                )
            }
        };
        let key = chain.key();
        let read = &mut |i| self.snapshot_chunk(snap.seq, i);
        match held.map(KeyedSum::total) {
            Ok(held) if held == chain.total() => return Ok(None),
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
        // They differ: find the first seq where, item by item.
        let Ok(mut held) = snap.fact_sum(KeyedSum::itemised(key), read) else {
            return Ok(None);
        };
        let mut made = KeyedSum::itemised(key);
        self.scan(1, snap.seq, |rec| {
            if !rec.header.is_redacted() {
                made.add_record(rec.header.seq, rec.header.recorded_at, rec.body)
                    .map_err(|error| LedgerError::Corrupt {
                        seq: rec.header.seq,
                        error,
                    })?;
            }
            Ok(true)
        })?;
        let seq = held.first_difference(&mut made).unwrap_or(snap.seq);
        let mut says = snap.describe_seq(seq, read).unwrap_or_default();
        says.sort();
        let mut makes = Vec::new();
        self.scan(seq, seq, |rec| {
            if !rec.header.is_redacted() {
                makes = check::describe_record(seq, rec.body)
                    .map_err(|error| LedgerError::Corrupt { seq, error })?;
            }
            Ok(false)
        })?;
        makes.sort();
        let list = |v: &[String]| match v.is_empty() {
            true => "nothing".to_string(),
            false => v.join("; "),
        };
        let unseen = match says == makes {
            true => " (they differ in what is not shown: the recording time, or a field of a record kept whole)",
            false => "",
        };
        mismatch(
            seq,
            format!(
                "the snapshot taken at seq {} holds, for seq {seq}, {}; the chain makes {}{unseen}",
                snap.seq,
                list(&says),
                list(&makes)
            ),
        )
    }
}

/// Bytes of a binding.
const BINDING_LEN: usize = 48;

/// The binding of a snapshot to the number of blocks up to its seq: seq
/// (u64 LE), chain hash (32), blocks (u64 LE).
fn blocks_binding(snap: &Snapshot, blocks: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(BINDING_LEN);
    out.extend_from_slice(&snap.seq.to_le_bytes());
    out.extend_from_slice(&snap.hash.0);
    out.extend_from_slice(&blocks.to_le_bytes());
    out
}
