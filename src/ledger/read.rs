//! Reading the chain: the one walk over stored blocks that every read shares.
//!
//! [`Ledger::walk`] reads blocks in key order from one thread of its own, turns
//! each into a value with `map` (on two threads for long reads), and hands the
//! values back in key order. On it stand the record scan (`scan`), the
//! hashed reads ([`Ledger::get`], [`Ledger::iter`]), the unhashed entries a
//! fold reads, `verify` and the export.

use super::{Candidates, Ledger, LedgerError, Result};
use crate::chain;
use crate::codec::{self, RawRecord};
use crate::event::{Entry, Event, EventRef, Recorded, Seq, StatementFields};
use crate::projection::Met;
use crate::store::StoreError;

/// Stored bytes handed to one `map` call at most in a parallel walk, and to
/// one group of [`Ledger::walk_groups`].
const GROUP_BYTES: usize = 192 * 1024;
/// Blocks handed to one `map` call at most in a parallel walk, and to one
/// group of [`Ledger::walk_groups`].
const GROUP_BLOCKS: usize = 32;
/// Candidates read by one thread at a time in [`Ledger::each_kept_among`]
/// (two such pieces are read side by side).
const CANDIDATES_A_PIECE: usize = 512;

/// [`CANDIDATES_A_PIECE`]; in the crate's tests, what [`PIECE_MAX`] says on
/// this thread, so that a few candidates make many pieces.
#[cfg(not(test))]
fn candidates_a_piece() -> usize {
    CANDIDATES_A_PIECE
}
#[cfg(test)]
fn candidates_a_piece() -> usize {
    PIECE_MAX.with(std::cell::Cell::get)
}
#[cfg(test)]
thread_local! {
    /// [`candidates_a_piece`] on this thread.
    pub(super) static PIECE_MAX: std::cell::Cell<usize> = const { std::cell::Cell::new(CANDIDATES_A_PIECE) };
}
/// A walk over fewer blocks than this stays on the calling thread.
pub(super) const PARALLEL_FROM: u64 = 2048;

/// Which blocks a walk reads, and how.
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    /// The first seq wanted: the walk starts at the block that holds it.
    pub from: Seq,
    /// The last seq wanted: blocks whose first seq is past it are not read,
    /// unless `past_head`.
    pub to: Seq,
    /// Read every block to the end of the store, past the head too (`verify`).
    pub past_head: bool,
    /// Map blocks on two threads.
    pub parallel: bool,
}

impl Span {
    /// Seqs `from..=to` (`to` already bounded by the head), on two threads
    /// when the span is long.
    pub fn of(from: Seq, to: Seq) -> Span {
        let from = from.max(1);
        Span {
            from,
            to,
            past_head: false,
            parallel: to.saturating_sub(from) >= PARALLEL_FROM,
        }
    }
}

/// One block's keys and stored bytes.
type Stored = (Seq, Vec<u8>);

impl Ledger {
    /// Reads the blocks of `span` in key order; `map` turns each (its key and
    /// stored bytes) into a `T`, `sink` takes them in key order on this thread
    /// and returns `false` to stop.
    ///
    /// # Errors
    /// Store failures, and the errors of `map` and `sink`.
    pub(super) fn walk<T: Send>(
        &self,
        span: Span,
        map: impl Fn(Seq, Vec<u8>) -> Result<T> + Sync,
        mut sink: impl FnMut(Seq, T) -> Result<bool>,
    ) -> Result<()> {
        if !span.parallel {
            for b in self.blocks_of(span) {
                let (key, stored) = b?;
                self.report_progress(key);
                let t = map(key, stored)?;
                if !sink(key, t)? {
                    break;
                }
            }
            return Ok(());
        }
        self.walk_groups(
            span,
            |blocks| {
                // Mapped up to the first failure, which the sink meets after
                // the blocks before it, as a walk on one thread would.
                let mut out = Vec::with_capacity(blocks.len());
                for (key, stored) in blocks {
                    let t = map(key, stored);
                    let failed = t.is_err();
                    out.push((key, t));
                    if failed {
                        break;
                    }
                }
                Ok(out)
            },
            |out| {
                for (key, t) in out {
                    if !sink(key, t?)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )
    }

    /// The stored blocks of `span`, in key order.
    fn blocks_of(
        &self,
        span: Span,
    ) -> impl Iterator<Item = std::result::Result<Stored, StoreError>> + Send + '_ {
        self.store
            .blocks_from(span.from)
            .take_while(move |b| span.past_head || !matches!(b, Ok((k, _)) if *k > span.to))
    }

    /// [`Ledger::walk`] a group of blocks at a time (up to [`GROUP_BLOCKS`]
    /// blocks or [`GROUP_BYTES`] bytes): `map` turns each group into a `T`
    /// (on two threads when `span` says so), and `sink` takes them in key
    /// order on this thread, until it returns `false`.
    ///
    /// # Errors
    /// Store failures (after every group read before them), and the errors of
    /// `map` and `sink`.
    pub(super) fn walk_groups<T: Send>(
        &self,
        span: Span,
        map: impl Fn(Vec<Stored>) -> Result<T> + Sync,
        mut sink: impl FnMut(T) -> Result<bool>,
    ) -> Result<()> {
        let mut blocks = self.blocks_of(span);
        if !span.parallel {
            // One group at a time on this thread; the blocks read before a
            // store failure are mapped and sunk before it is met.
            let mut group = Vec::new();
            let mut bytes = 0;
            let mut on = |group: Vec<Stored>| -> Result<bool> {
                if group.is_empty() {
                    return Ok(true);
                }
                self.report_progress(group.last().map_or(0, |(key, _)| *key));
                sink(map(group)?)
            };
            for b in blocks {
                match b {
                    Ok(b) => {
                        bytes += b.1.len();
                        group.push(b);
                    }
                    Err(e) => {
                        return match on(group)? {
                            true => Err(e.into()),
                            false => Ok(()),
                        };
                    }
                }
                if group.len() == GROUP_BLOCKS || bytes >= GROUP_BYTES {
                    if !on(std::mem::take(&mut group))? {
                        return Ok(());
                    }
                    bytes = 0;
                }
            }
            on(group)?;
            return Ok(());
        }
        type Group = (usize, Vec<Stored>);
        type Done<T> = (usize, Result<(Seq, T)>);
        std::thread::scope(|scope| {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<std::result::Result<Group, StoreError>>(4);
            // Shared by the workers only: when they stop (the sink stopped or
            // failed), the reader's next send fails and it stops too.
            let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Done<T>>(8);
            scope.spawn(move || {
                let mut group = Vec::new();
                let mut bytes = 0;
                let mut n = 0;
                for b in blocks.by_ref() {
                    match b {
                        Ok(b) => {
                            bytes += b.1.len();
                            group.push(b);
                        }
                        Err(e) => {
                            // The blocks read before the failure come first.
                            if !group.is_empty() {
                                let _ = tx.send(Ok((n, std::mem::take(&mut group))));
                            }
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                    if group.len() == GROUP_BLOCKS || bytes >= GROUP_BYTES {
                        if tx.send(Ok((n, std::mem::take(&mut group)))).is_err() {
                            return;
                        }
                        bytes = 0;
                        n += 1;
                    }
                }
                if !group.is_empty() {
                    let _ = tx.send(Ok((n, group)));
                }
            });
            for _ in 0..2 {
                let (rx, done_tx, map) = (rx.clone(), done_tx.clone(), &map);
                scope.spawn(move || loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(group) = next else { return };
                    let (n, out) = match group {
                        Ok((n, blocks)) => {
                            let last = blocks.last().map_or(0, |(key, _)| *key);
                            (n, map(blocks).map(|t| (last, t)))
                        }
                        // Store errors come after every group sent before them.
                        Err(e) => (usize::MAX, Err(e.into())),
                    };
                    if done_tx.send((n, out)).is_err() {
                        return;
                    }
                });
            }
            drop((done_tx, rx));
            let mut waiting = std::collections::BTreeMap::new();
            let mut failed = None;
            let mut next = 0usize;
            for (n, out) in done_rx {
                if n == usize::MAX {
                    failed = Some(out);
                    continue;
                }
                waiting.insert(n, out);
                while let Some(out) = waiting.remove(&next) {
                    let (last, t) = out?;
                    self.report_progress(last);
                    if !sink(t)? {
                        return Ok(());
                    }
                    next += 1;
                }
            }
            match failed {
                Some(Err(e)) => Err(e),
                _ => Ok(()),
            }
        })
    }

    /// Calls `f` with every stored record of seqs `from..=to` (bounded by
    /// the head), raw, in seq order, until it returns `false`.
    ///
    /// # Errors
    /// Store failures, a block or record that does not parse, `f`'s own errors.
    pub(super) fn scan(
        &self,
        from: Seq,
        to: Seq,
        mut f: impl FnMut(&RawRecord<'_>) -> Result<bool>,
    ) -> Result<()> {
        let head = self.store.head()?;
        let to = to.min(head.size);
        if from > to {
            return Ok(());
        }
        let mut next = Continuity::new(from);
        let mut stopped = false;
        self.walk(Span::of(from, to), open, |key, records| {
            for rec in codec::records(&records) {
                let rec = rec.map_err(|error| LedgerError::Corrupt { seq: key, error })?;
                if rec.header.seq < from {
                    continue;
                }
                if rec.header.seq > to {
                    return Ok(false);
                }
                next.record(rec.header.seq)?;
                if !f(&rec)? {
                    stopped = true;
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        if !stopped {
            next.reached(to)?;
        }
        Ok(())
    }

    /// Maps every stored block up to the head with `map` (given the block's
    /// first seq and its records' bytes, split with [`codec::records`]) on two
    /// threads, and hands the results to `sink` in seq order on this thread,
    /// until it returns `false`.
    ///
    /// # Errors
    /// Store failures, a block that does not open, the errors of `map` and `sink`.
    pub(crate) fn map_blocks<T: Send>(
        &self,
        map: impl Fn(Seq, &[u8]) -> Result<T> + Sync,
        mut sink: impl FnMut(T) -> Result<bool>,
    ) -> Result<()> {
        let head = self.store.head()?;
        let span = Span {
            parallel: true,
            ..Span::of(1, head.size)
        };
        let mut next = Continuity::new(1);
        let mut stopped = false;
        self.walk(
            span,
            |key, stored| {
                let records = open(key, stored)?;
                // The block's seqs, which must follow those of the block before.
                let mut seqs: Option<(Seq, Seq)> = None;
                for rec in codec::records(&records) {
                    let rec = rec.map_err(|error| LedgerError::Corrupt { seq: key, error })?;
                    let seq = rec.header.seq;
                    seqs = match seqs {
                        None => Some((seq, seq)),
                        Some((first, last)) if seq == last + 1 => Some((first, seq)),
                        Some((_, last)) => {
                            return Err(LedgerError::Missing {
                                seq: last + 1,
                                detail: "not in the block that should hold it",
                            })
                        }
                    };
                }
                Ok((seqs, map(key, &records)?))
            },
            |key, (seqs, t)| {
                let Some((first, last)) = seqs.filter(|(first, _)| *first == key) else {
                    return Err(LedgerError::Missing {
                        seq: next.next,
                        detail: "a stored block holds no record of its own key",
                    });
                };
                if last > head.size {
                    return Err(LedgerError::Tampered(crate::chain::Problem::BeyondHead {
                        seq: head.size + 1,
                        head_size: head.size,
                    }));
                }
                next.record(first)?;
                next.next = last + 1;
                if !sink(t)? {
                    stopped = true;
                    return Ok(false);
                }
                Ok(true)
            },
        )?;
        if !stopped {
            next.reached(head.size)?;
        }
        Ok(())
    }

    /// The event ids of the machine-coded statements of one coder (`gdelt`) in
    /// the chain, so that an import can skip events it already holds. For
    /// `gdelt`, also those of statements earlier releases made from GDELT rows,
    /// without provenance (see [`crate::gdelt::legacy_event_id`]).
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn coded_event_ids(&self, coder: &str) -> Result<std::collections::HashSet<u64>> {
        let mut ids = std::collections::HashSet::new();
        self.scan(1, Seq::MAX, |rec| {
            if !rec.header.is_redacted() {
                if let Some((c, id)) = codec::coded_event_id(rec.body) {
                    if c == coder {
                        ids.insert(id);
                    }
                } else if coder == crate::event::CODER_GDELT && codec::is_plain_statement(rec.body)
                {
                    if let Ok(crate::event::Event::Statement(s)) = codec::decode_event(rec.body) {
                        ids.extend(crate::gdelt::legacy_event_id(&s));
                    }
                }
            }
            Ok(true)
        })?;
        Ok(ids)
    }

    /// Calls `f` with every stored record from seq `from` to the head, raw
    /// (blocks opened, records split, nothing decoded or hashed), in seq
    /// order, until it returns `false`: for tools that measure or inspect the
    /// stored bytes.
    ///
    /// # Errors
    /// Store failures, a block or record that does not parse, `f`'s own errors.
    pub fn for_each_record(
        &self,
        from: Seq,
        f: impl FnMut(&RawRecord<'_>) -> Result<bool>,
    ) -> Result<()> {
        self.scan(from, Seq::MAX, f)
    }

    /// Calls `f` with the seq and recording time of every event from seq
    /// `from` to the head, in seq order, and with each statement borrowed
    /// from the stored bytes, or each correction and retraction whole, until
    /// it returns `false`. Every payload is checked as [`codec::decode_event`]
    /// checks it; only corrections and retractions are built.
    ///
    /// # Errors
    /// Store failures; stored bytes that do not decode.
    pub(super) fn statements(
        &self,
        from: Seq,
        mut f: impl FnMut(Seq, i64, Met<'_, '_>) -> bool,
    ) -> Result<()> {
        self.scan(from, Seq::MAX, |rec| met(rec, &mut f))
    }

    /// [`Ledger::statements`] in parts read side by side: the events of each
    /// group of blocks go to `add` with a part of their own (made by `part`,
    /// on two threads for long reads), until `add` returns `false`, and
    /// `sink` takes the parts in seq order on this thread. A gap, a block
    /// that does not open or a record that does not decode stops the read
    /// where a read in order stops, with the same error, after the parts of
    /// every event before it.
    ///
    /// # Errors
    /// As [`Ledger::statements`].
    pub(super) fn statements_in_parts<P: Send>(
        &self,
        from: Seq,
        part: impl Fn() -> P + Sync,
        add: impl Fn(&mut P, Seq, i64, Met<'_, '_>) -> bool + Sync,
        mut sink: impl FnMut(P),
    ) -> Result<()> {
        let Some((span, mut read)) = self.span_read(from)? else {
            return Ok(());
        };
        let (from, to) = (span.from, span.to);
        self.walk_groups(
            span,
            |blocks| {
                let mut out = PartOfGroup {
                    runs: Vec::new(),
                    part: part(),
                    end: BlockEnd::Read,
                };
                for (key, stored) in blocks {
                    out.end = read_block(key, stored, from, to, |rec| {
                        let seq = rec.header.seq;
                        match out.runs.last_mut() {
                            Some((_, last)) if *last + 1 == seq => *last = seq,
                            _ => out.runs.push((seq, seq)),
                        }
                        let part = &mut out.part;
                        met(rec, &mut |seq, at, m| add(part, seq, at, m))
                    });
                    if !matches!(out.end, BlockEnd::Read) {
                        break;
                    }
                }
                Ok(out)
            },
            |group| {
                for (first, last) in group.runs {
                    read.record_run(first, last)?;
                }
                sink(group.part);
                read.go_on(group.end)
            },
        )?;
        read.finish()
    }

    /// The chain hash of the record at `seq` (at most `size`, the head's),
    /// computed from its stored bytes as [`get`](Self::get) computes it, without
    /// decoding its event: what binds derived data to the chain is checked
    /// with it in every process that loads that data.
    ///
    /// # Errors
    /// As [`get`](Self::get)'s, but for the event's decoding.
    pub(super) fn hash_at(&self, seq: Seq, size: Seq) -> Result<crate::event::Hash> {
        self.with_record(seq, size, |rec| Ok(chain::record_hash(rec)))
    }

    /// Reads one event.
    ///
    /// # Errors
    /// [`LedgerError::NoSuchSeq`] past the head; store failures; undecodable bytes.
    pub fn get(&self, seq: Seq) -> Result<Recorded> {
        let size = self.store.head()?.size;
        self.with_record(seq, size, decode_recorded)
    }

    /// `f` of the stored record at `seq`, when `seq` is within `size`.
    fn with_record<T>(
        &self,
        seq: Seq,
        size: Seq,
        f: impl FnOnce(&RawRecord<'_>) -> Result<T>,
    ) -> Result<T> {
        if seq == 0 || seq > size {
            return Err(LedgerError::NoSuchSeq { seq, size });
        }
        let Some((key, block)) = self.store.block_holding(seq)? else {
            return Err(LedgerError::Missing {
                seq,
                detail: "no block holds it",
            });
        };
        let records = open(key, block).map_err(|e| match e {
            LedgerError::Corrupt { error, .. } => LedgerError::Corrupt { seq, error },
            other => other,
        })?;
        for rec in codec::records(&records) {
            let rec = rec.map_err(|error| LedgerError::Corrupt { seq, error })?;
            if rec.header.seq == seq {
                return f(&rec);
            }
        }
        Err(LedgerError::Missing {
            seq,
            detail: "not in the block that should hold it",
        })
    }

    /// Iterates over events `from..=to` (bounded by the head), in seq order.
    ///
    /// # Errors
    /// Store failures (the iterator's items carry read and decode failures).
    pub fn iter(&self, from: Seq, to: Seq) -> Result<impl Iterator<Item = Result<Recorded>> + '_> {
        let head = self.store.head()?;
        let span = Span::of(from, to.min(head.size));
        let (from, to) = (span.from, span.to);
        let mut blocks = self
            .store
            .blocks_from(from)
            .take_while(move |b| !matches!(b, Ok((k, _)) if *k > to));
        let mut pending: std::vec::IntoIter<Result<Recorded>> = Vec::new().into_iter();
        let mut done = from > to;
        let mut next = Continuity::new(from);
        Ok(std::iter::from_fn(move || loop {
            if let Some(r) = pending.next() {
                return Some(r);
            }
            if done {
                return None;
            }
            let Some(block) = blocks.next() else {
                // The blocks ended: they must have reached `to`.
                done = true;
                return next.reached(to).err().map(Err);
            };
            let records = match block {
                Err(e) => Err(e.into()),
                Ok((key, stored)) => {
                    self.report_progress(key);
                    open(key, stored).map(|r| (key, r))
                }
            };
            let (key, records) = match records {
                Ok(r) => r,
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            };
            let mut out = Vec::new();
            for rec in codec::records(&records) {
                match rec {
                    Err(error) => {
                        out.push(Err(LedgerError::Corrupt { seq: key, error }));
                        done = true;
                        break;
                    }
                    Ok(rec) if rec.header.seq < from => {}
                    Ok(rec) if rec.header.seq > to => {
                        // Past the end: the seqs before it must all have come.
                        if let Err(e) = next.reached(to) {
                            out.push(Err(e));
                        }
                        done = true;
                        break;
                    }
                    Ok(rec) => match next.record(rec.header.seq) {
                        Ok(()) => out.push(decode_recorded(&rec)),
                        Err(e) => {
                            out.push(Err(e));
                            done = true;
                            break;
                        }
                    },
                }
            }
            pending = out.into_iter();
        }))
    }
}

/// Hands `f` one record as [`Ledger::statements`] does: its seq, recording
/// time, and the statement borrowed, a correction or retraction whole, or
/// neither; what `f` returns.
///
/// # Errors
/// [`LedgerError::Corrupt`] when the payload does not decode.
fn met(rec: &RawRecord<'_>, f: &mut impl FnMut(Seq, i64, Met<'_, '_>) -> bool) -> Result<bool> {
    let h = &rec.header;
    if h.is_redacted() {
        return Ok(f(h.seq, h.recorded_at, Met::Other));
    }
    // Most statements are read in place, as a fold reads them; the decoder
    // reads the rest, and answers for anything the view leaves to it.
    let viewed = codec::with_fold_view(rec.body, |v| {
        v.map(|v| f(h.seq, h.recorded_at, Met::Statement(&v.for_fold())))
    });
    if let Some(kept) = viewed {
        return Ok(kept);
    }
    let corrupt = |error| LedgerError::Corrupt { seq: h.seq, error };
    let wire = codec::decode_wire(rec.body).map_err(corrupt)?;
    Ok(match codec::event_ref(&wire).map_err(corrupt)? {
        EventRef::Statement(s) => f(h.seq, h.recorded_at, Met::Statement(&s)),
        EventRef::Correction { .. } | EventRef::Retraction { .. } => {
            let event = codec::decode_event(rec.body).map_err(corrupt)?;
            let entry = Entry {
                seq: h.seq,
                recorded_at: h.recorded_at,
                event: Some(event),
            };
            f(h.seq, h.recorded_at, Met::Amendment(Box::new(entry)))
        }
        _ => f(h.seq, h.recorded_at, Met::Other),
    })
}

/// What one group of blocks gave [`Ledger::statements_in_parts`]: the runs
/// of consecutive seqs read, the part their events went to, and what stopped
/// the reading, if anything (after the seqs listed).
struct PartOfGroup<P> {
    runs: Vec<(Seq, Seq)>,
    part: P,
    end: BlockEnd,
}

/// How the reading of a block's records within a span ended.
enum BlockEnd {
    /// Every record was read.
    Read,
    /// The reader said to stop, at the last record read.
    Stopped,
    /// A record past the span's end was met.
    Past,
    /// The block does not open, a record does not parse, or the reader failed.
    Failed(LedgerError),
}

/// A read of a span of seqs that hands on every one of them or fails: the
/// seq it expects next, and whether it stopped of itself (no record is then
/// missing after it).
struct SpanRead {
    next: Continuity,
    to: Seq,
    ended: bool,
}

impl SpanRead {
    /// The records `first..=last` were read, in order.
    fn record_run(&mut self, first: Seq, last: Seq) -> Result<()> {
        self.next.record(first)?;
        self.next.next = last + 1;
        Ok(())
    }

    /// The reader stopped of itself: the read does not go on.
    fn stop(&mut self) -> bool {
        self.ended = true;
        false
    }

    /// After the seqs read before `end` were recorded: whether the read goes
    /// on past a block that ended so.
    fn go_on(&mut self, end: BlockEnd) -> Result<bool> {
        match end {
            BlockEnd::Read => Ok(true),
            // A gap before the failure was named first, as a read in order
            // would meet it.
            BlockEnd::Failed(e) => Err(e),
            BlockEnd::Stopped => Ok(self.stop()),
            BlockEnd::Past => {
                self.next.reached(self.to)?;
                Ok(self.stop())
            }
        }
    }

    /// The read is over: unless it stopped of itself, it must have reached
    /// the end of its span.
    fn finish(self) -> Result<()> {
        match self.ended {
            true => Ok(()),
            false => self.next.reached(self.to),
        }
    }
}

/// Opens the block stored at `key` and hands `f` each of its records whose
/// seq is in `from..=to`, in order, until it returns `false`; how that ended.
///
/// The records are decompressed into a buffer kept on the thread from block to
/// block (a fresh one when `f` itself reads a block), so that reading a long
/// stretch reuses the same memory instead of touching new memory for each.
fn read_block(
    key: Seq,
    stored: Vec<u8>,
    from: Seq,
    to: Seq,
    f: impl FnMut(&RawRecord<'_>) -> Result<bool>,
) -> BlockEnd {
    thread_local! {
        static RECORDS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    RECORDS.with(|kept| match kept.try_borrow_mut() {
        Ok(mut buf) => read_records(key, &stored, &mut buf, from, to, f),
        Err(_) => read_records(key, &stored, &mut Vec::new(), from, to, f),
    })
}

/// [`read_block`] with the records decompressed into `buf`.
fn read_records(
    key: Seq,
    stored: &[u8],
    buf: &mut Vec<u8>,
    from: Seq,
    to: Seq,
    mut f: impl FnMut(&RawRecord<'_>) -> Result<bool>,
) -> BlockEnd {
    let records = match codec::open_block_into(stored, buf) {
        Ok(r) => r,
        Err(error) => return BlockEnd::Failed(LedgerError::Corrupt { seq: key, error }),
    };
    for rec in codec::records(records) {
        let rec = match rec {
            Ok(rec) => rec,
            Err(error) => return BlockEnd::Failed(LedgerError::Corrupt { seq: key, error }),
        };
        let seq = rec.header.seq;
        if seq < from {
            continue;
        }
        if seq > to {
            return BlockEnd::Past;
        }
        match f(&rec) {
            Ok(true) => {}
            Ok(false) => return BlockEnd::Stopped,
            Err(e) => return BlockEnd::Failed(e),
        }
    }
    BlockEnd::Read
}

/// What one block gave [`Ledger::each_mapped`]: the seqs of its records in
/// the span, what `map` made of those it took, and what stopped its reading,
/// if anything (after the seqs listed).
struct MappedOfBlock<T> {
    seqs: Vec<Seq>,
    mapped: Vec<(Seq, T)>,
    end: BlockEnd,
}

impl Ledger {
    /// Hands `sink`, in seq order, every event of seqs `from` to the head
    /// that `keep` accepts, until `sink` returns `false`: what a loop over
    /// [`Ledger::iter`] that skips what `keep` refuses would see, with the
    /// events decoded, hashed and tested on two threads for long reads. An
    /// error comes after every event kept before it.
    ///
    /// # Errors
    /// As [`Ledger::iter`]'s items, and `sink`'s own.
    pub fn each_kept(
        &self,
        from: Seq,
        keep: impl Fn(&Recorded) -> bool + Sync,
        sink: impl FnMut(Recorded) -> Result<bool>,
    ) -> Result<()> {
        self.each_mapped(from, |r| keep(&r).then_some(r), sink)
    }

    /// [`Ledger::each_kept`], with each event turned by `map` into what
    /// `sink` takes (`None`: left out) where it is decoded: on two threads
    /// for long reads, so that the work of `map` (formatting a line, say) is
    /// shared too. `sink` sees what a loop over [`Ledger::iter`] would, and
    /// meets its errors after the same events.
    ///
    /// # Errors
    /// As [`Ledger::iter`]'s items, and `sink`'s own.
    pub fn each_mapped<T: Send>(
        &self,
        from: Seq,
        map: impl Fn(Recorded) -> Option<T> + Sync,
        sink: impl FnMut(T) -> Result<bool>,
    ) -> Result<()> {
        self.each_read(from, |rec| Ok(map(decode_recorded(rec)?)), sink)
    }

    /// [`Ledger::each_kept`] for a test that looks only at an event's seq,
    /// time and content (`None`: redacted): each event is tested once decoded
    /// and hashed only when kept, so that a read that keeps a few events of
    /// many does not hash them all.
    ///
    /// # Errors
    /// As [`Ledger::each_kept`].
    pub fn each_kept_by_event(
        &self,
        from: Seq,
        keep: impl Fn(Seq, i64, Option<&Event>) -> bool + Sync,
        sink: impl FnMut(Recorded) -> Result<bool>,
    ) -> Result<()> {
        self.each_read(from, |rec| kept_by_event(rec, &keep), sink)
    }

    /// [`Ledger::each_kept_by_event`] with a first test of each statement
    /// read in place, before it is decoded: `might_keep` is given the fields
    /// of a statement of event format 1 or 2 (the others, and every other
    /// kind of event, go straight to `keep`) and returns `false` only for a
    /// statement `keep` would not keep. What it passes is decoded and tested
    /// by `keep`, as `each_kept_by_event` tests every event; a statement it
    /// refuses is neither decoded nor hashed (the view checks what the
    /// decoder checks, so no damage goes unmet).
    ///
    /// # Errors
    /// As [`Ledger::each_kept`].
    pub fn each_kept_by_statement(
        &self,
        from: Seq,
        might_keep: impl Fn(Seq, &StatementFields<'_>) -> bool + Sync,
        keep: impl Fn(Seq, i64, Option<&Event>) -> bool + Sync,
        sink: impl FnMut(Recorded) -> Result<bool>,
    ) -> Result<()> {
        self.each_read(from, |rec| kept_by_statement(rec, &might_keep, &keep), sink)
    }

    /// [`Ledger::each_kept_by_statement`] for a selection whose `keep`
    /// keeps nothing but statements, corrections and retractions, and
    /// whose `might_keep` refuses every statement of a party not among
    /// `parties`, when given, that no correction names. Where a positions
    /// snapshot is believed (as a positions query believes it) and its
    /// candidates up to its seq ([`Ledger::statement_candidates`]) are few,
    /// only those records are read (from the blocks that hold them), then
    /// every record after it; otherwise every record from `from` on. What
    /// `sink` is given is the same either way, on a chain the snapshot is
    /// true to (`verify` checks it); damage in a record up to the snapshot
    /// that is not a candidate is not met, even in a block read.
    ///
    /// # Errors
    /// As [`Ledger::each_kept`].
    pub fn each_kept_by_selection(
        &self,
        from: Seq,
        parties: Option<&[String]>,
        might_keep: impl Fn(Seq, &StatementFields<'_>) -> bool + Sync,
        keep: impl Fn(Seq, i64, Option<&Event>) -> bool + Sync,
        sink: impl FnMut(Recorded) -> Result<bool>,
    ) -> Result<()> {
        match self.candidates(from, parties, &might_keep, true)? {
            Some(c) if c.few() => self.each_kept_among(&c, from, might_keep, keep, sink),
            _ => self.each_kept_by_statement(from, might_keep, keep, sink),
        }
    }

    /// [`Ledger::each_kept_by_statement`] over the records of `candidates`
    /// up to its seq, read where they are stored (a block once for all of
    /// its candidates; two pieces of candidates at a time, side by side),
    /// then over every record after it.
    ///
    /// # Errors
    /// As [`Ledger::each_kept`]; a candidate not stored is
    /// [`LedgerError::Missing`].
    pub fn each_kept_among(
        &self,
        candidates: &Candidates,
        from: Seq,
        might_keep: impl Fn(Seq, &StatementFields<'_>) -> bool + Sync,
        keep: impl Fn(Seq, i64, Option<&Event>) -> bool + Sync,
        mut sink: impl FnMut(Recorded) -> Result<bool>,
    ) -> Result<()> {
        debug_assert!(!candidates.more, "candidates found in part");
        let size = self.store.head()?.size;
        let wanted: Vec<Seq> = candidates
            .seqs
            .iter()
            .copied()
            .filter(|s| *s >= from && *s <= candidates.upto.min(size))
            .collect();
        // Pieces of the candidates read two at a time, each on a thread of
        // its own (one at a time where the store's reads side by side cost
        // more than they save), and handed on in order: what a piece kept
        // before a failure in it first, then the failure.
        // The first pieces small, so that the first records go out soon
        // (`log --limit`, a reader that stops), then growing to full size.
        let mut pieces: Vec<&[Seq]> = Vec::new();
        let (mut rest, mut size) = (&wanted[..], 16);
        while !rest.is_empty() {
            let (piece, after) = rest.split_at(size.min(candidates_a_piece()).min(rest.len()));
            pieces.push(piece);
            rest = after;
            size = size.saturating_mul(2);
        }
        // Each piece stops where the next begins: one that read on past its
        // last candidate into damage in a block it shares with the next
        // would fail before the next handed on what it keeps there.
        let read = |i: usize| {
            let next = pieces.get(i + 1).map(|p| p[0]);
            self.kept_among(pieces[i], next, &might_keep, &keep)
        };
        let side_by_side = if self.store.point_reads_side_by_side() {
            2
        } else {
            1
        };
        let mut first = 0;
        while first < pieces.len() {
            let two = side_by_side == 2 && first + 1 < pieces.len();
            let done = match two {
                true => std::thread::scope(|s| {
                    let second = s.spawn(|| read(first + 1));
                    let one = read(first);
                    [Some(one), Some(second.join().expect("a reading thread"))]
                }),
                false => [Some(read(first)), None],
            };
            first += if two { 2 } else { 1 };
            for (kept, failed) in done.into_iter().flatten() {
                for r in kept {
                    if !sink(r)? {
                        return Ok(());
                    }
                }
                if let Some(e) = failed {
                    return Err(e);
                }
            }
        }
        let tail = from.max(candidates.upto.saturating_add(1));
        self.each_kept_by_statement(tail, might_keep, keep, sink)
    }

    /// The records of `wanted` (seqs in order) that `keep` keeps, read from
    /// the blocks that hold them, a block once for all of its own (see
    /// [`Ledger::each_kept_among`]), up to the first failure, and not past
    /// `next`, where the next piece begins; and that failure.
    fn kept_among(
        &self,
        wanted: &[Seq],
        next: Option<Seq>,
        might_keep: &impl Fn(Seq, &StatementFields<'_>) -> bool,
        keep: &impl Fn(Seq, i64, Option<&Event>) -> bool,
    ) -> (Vec<Recorded>, Option<LedgerError>) {
        let mut kept = Vec::new();
        let mut at = 0;
        while at < wanted.len() {
            let seq = wanted[at];
            let (key, block) = match self.store.block_holding(seq) {
                Ok(Some(found)) => found,
                Ok(None) => {
                    let e = LedgerError::Missing {
                        seq,
                        detail: "no block holds it",
                    };
                    return (kept, Some(e));
                }
                Err(e) => return (kept, Some(e.into())),
            };
            // Up to where the next piece begins, which reads on from there.
            let to = next.map_or(Seq::MAX, |n| n - 1);
            let end = read_block(key, block, seq, to, |rec| {
                let s = rec.header.seq;
                if at < wanted.len() && wanted[at] < s {
                    return Ok(false);
                }
                if at < wanted.len() && wanted[at] == s {
                    at += 1;
                    kept.extend(kept_by_statement(rec, might_keep, keep)?);
                }
                Ok(true)
            });
            if let BlockEnd::Failed(e) = end {
                return (kept, Some(e));
            }
            // The candidate looked for is not where it should be (one
            // passed over within the block is looked for again, and met
            // here).
            if at < wanted.len() && wanted[at] == seq {
                let e = LedgerError::Missing {
                    seq,
                    detail: "not in the block that should hold it",
                };
                return (kept, Some(e));
            }
        }
        (kept, None)
    }

    /// [`Ledger::each_mapped`] with each stored record turned by `step`
    /// into what `sink` takes (`None`: left out).
    fn each_read<T: Send>(
        &self,
        from: Seq,
        step: impl Fn(&RawRecord<'_>) -> Result<Option<T>> + Sync,
        mut sink: impl FnMut(T) -> Result<bool>,
    ) -> Result<()> {
        let Some((span, mut read)) = self.span_read(from)? else {
            return Ok(());
        };
        let (from, to) = (span.from, span.to);
        self.walk(
            span,
            |key, stored| {
                let (mut seqs, mut mapped) = (Vec::new(), Vec::new());
                let end = read_block(key, stored, from, to, |rec| {
                    let seq = rec.header.seq;
                    seqs.push(seq);
                    if let Some(t) = step(rec)? {
                        mapped.push((seq, t));
                    }
                    Ok(true)
                });
                Ok(MappedOfBlock { seqs, mapped, end })
            },
            |_, block| {
                let mut mapped = block.mapped.into_iter().peekable();
                for seq in block.seqs {
                    read.record_run(seq, seq)?;
                    if let Some((_, t)) = mapped.next_if(|(s, _)| *s == seq) {
                        if !sink(t)? {
                            return Ok(read.stop());
                        }
                    }
                }
                read.go_on(block.end)
            },
        )?;
        read.finish()
    }

    /// The span of seqs from `from` to the head, read on two threads when it
    /// is long, and a [`SpanRead`] of it; `None` when it holds no seq.
    fn span_read(&self, from: Seq) -> Result<Option<(Span, SpanRead)>> {
        let head = self.store.head()?;
        let span = Span::of(from, head.size);
        if span.from > span.to {
            return Ok(None);
        }
        let read = SpanRead {
            next: Continuity::new(span.from),
            to: span.to,
            ended: false,
        };
        Ok(Some((span, read)))
    }
}

/// The seq a read expects next: a read that meets a gap, or ends before the
/// head, stops with [`LedgerError::Missing`] or [`LedgerError::ChainShort`]
/// instead of handing on a chain with a hole in it.
pub(super) struct Continuity {
    next: Seq,
}

impl Continuity {
    pub(super) fn new(from: Seq) -> Self {
        Continuity { next: from.max(1) }
    }

    /// The next record read has `seq`.
    pub(super) fn record(&mut self, seq: Seq) -> Result<()> {
        if seq != self.next {
            return Err(LedgerError::Missing {
                seq: self.next.min(seq),
                detail: "no stored block holds it",
            });
        }
        self.next = seq + 1;
        Ok(())
    }

    /// The read is over: it must have reached `to`.
    pub(super) fn reached(&self, to: Seq) -> Result<()> {
        if self.next <= to {
            return Err(LedgerError::ChainShort {
                ends_at: self.next - 1,
                head: to,
            });
        }
        Ok(())
    }
}

/// Opens (decompresses) a stored block: its records' bytes.
///
/// # Errors
/// [`LedgerError::Corrupt`] naming the block's first seq.
pub(super) fn open(key: Seq, stored: Vec<u8>) -> Result<Vec<u8>> {
    codec::open_block_owned(stored).map_err(|error| LedgerError::Corrupt { seq: key, error })
}

/// A stored record decoded, with its hashes computed from its bytes.
///
/// # Errors
/// [`LedgerError::Corrupt`] when the payload does not decode.
pub(super) fn decode_recorded(rec: &RawRecord<'_>) -> Result<Recorded> {
    Ok(recorded_of(rec, decode_event_of(rec)?))
}

/// The event a stored record holds (`None`: redacted).
///
/// # Errors
/// [`LedgerError::Corrupt`] when its payload does not decode.
fn decode_event_of(rec: &RawRecord<'_>) -> Result<Option<Event>> {
    if rec.header.is_redacted() {
        return Ok(None);
    }
    codec::decode_event(rec.body)
        .map(Some)
        .map_err(|error| LedgerError::Corrupt {
            seq: rec.header.seq,
            error,
        })
}

/// A record decoded and, when `keep` keeps its event, hashed; a statement
/// is first tested as stored, by `might_keep`, and not decoded when refused.
fn kept_by_statement(
    rec: &RawRecord<'_>,
    might_keep: &impl Fn(Seq, &StatementFields<'_>) -> bool,
    keep: &impl Fn(Seq, i64, Option<&Event>) -> bool,
) -> Result<Option<Recorded>> {
    let h = &rec.header;
    if !h.is_redacted() {
        let tested = codec::with_fold_view(rec.body, |v| v.map(|v| might_keep(h.seq, &v.fields())));
        if tested == Some(false) {
            return Ok(None);
        }
    }
    kept_by_event(rec, keep)
}

/// A record decoded and, when `keep` keeps its event, hashed.
fn kept_by_event(
    rec: &RawRecord<'_>,
    keep: &impl Fn(Seq, i64, Option<&Event>) -> bool,
) -> Result<Option<Recorded>> {
    let h = &rec.header;
    let event = decode_event_of(rec)?;
    Ok(keep(h.seq, h.recorded_at, event.as_ref()).then(|| recorded_of(rec, event)))
}

/// A stored record with its event, and its hashes computed from its bytes.
fn recorded_of(rec: &RawRecord<'_>, event: Option<Event>) -> Recorded {
    let h = &rec.header;
    let digest = chain::body_digest(rec);
    Recorded {
        seq: h.seq,
        recorded_at: h.recorded_at,
        prev: h.prev,
        hash: chain::link_hash(h, &digest),
        digest,
        event,
        payload_len: h.payload_len,
        encoding: h.encoding,
    }
}
