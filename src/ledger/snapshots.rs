//! Positions: the ledger as a [`Chain`] that a positions query folds, and
//! positions snapshots, derived data that let a query start part of the way
//! along. A snapshot is used only when the chain still holds, at its seq, the
//! hash it names; it is written outside any commit and never fsynced.

use super::{Ledger, LedgerError, Result, SNAPSHOT_EVERY};
use crate::chain;
use crate::codec;
use crate::event::{Entry, Head, Seq};
use crate::projection::snapshot::Snapshot;
use crate::projection::{self, Amendments, Chain, KnownAt, Position, Query};

/// Meta key of the snapshot's header; its chunks follow under `snapshot/N`.
const SNAPSHOT_META: &str = "snapshot";

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

    fn entries(&self, from: Seq, f: &mut dyn FnMut(Entry) -> bool) -> Result<()> {
        Ledger::entries(self, from, f)
    }
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

    /// The positions the ledger supports for `query`, from a full replay of the chain.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn positions_replay(&self, query: &Query) -> Result<Vec<Position>> {
        projection::replay(self, query)
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
    pub fn positions(&self, query: &Query) -> Result<Vec<Position>> {
        let head = self.store.head()?;
        let mut snap = self.load_snapshot(&head)?;
        if query.known_at.is_none() && head.size >= SNAPSHOT_EVERY {
            let behind = snap.as_ref().map_or(head.size, |s| head.size - s.seq);
            if behind >= SNAPSHOT_EVERY {
                // A snapshot is only a speed-up: if it cannot be written (a full
                // disk, say), the query goes on without it.
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
            let found =
                projection::from_snapshot(self, &snap, &mut |i| self.snapshot_chunk(i), query)?;
            if let Some(positions) = found {
                return Ok(positions);
            }
            // A damaged chunk: the snapshot is never trusted, the chain is.
        }
        self.positions_replay(query)
    }

    /// Builds a snapshot of the whole chain and saves it.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn snapshot_now(&self) -> Result<Snapshot> {
        let mut snap = Snapshot::new();
        self.entries(1, |e| {
            snap.extend(&e);
            true
        })?;
        if snap.seq > 0 {
            snap.set_hash(self.get(snap.seq)?.hash);
        }
        self.save_snapshot(&snap)?;
        Ok(snap)
    }

    /// Brings a snapshot (or a new one) up to the head and saves it.
    fn refresh_snapshot(&self, old: Option<Snapshot>) -> Result<()> {
        let mut snap = old.unwrap_or_default();
        if snap.load_facts(&mut |i| self.snapshot_chunk(i)).is_err() {
            snap = Snapshot::new();
        }
        self.entries(snap.seq + 1, |e| {
            snap.extend(&e);
            true
        })?;
        if snap.seq > 0 {
            snap.set_hash(self.get(snap.seq)?.hash);
        }
        self.save_snapshot(&snap)
    }

    fn snapshot_chunk(&self, i: usize) -> Option<Vec<u8>> {
        self.store
            .meta(&format!("{SNAPSHOT_META}/{i:08}"))
            .ok()
            .flatten()
    }

    fn save_snapshot(&self, snap: &Snapshot) -> Result<()> {
        let stored = snap.store();
        let mut head = chain::snapshot_digest(&stored.head).0.to_vec();
        head.extend_from_slice(&stored.head);
        let names: Vec<String> = (0..stored.chunks.len())
            .map(|i| format!("{SNAPSHOT_META}/{i:08}"))
            .collect();
        let mut entries: Vec<(&str, &[u8])> = names
            .iter()
            .map(String::as_str)
            .zip(stored.chunks.iter().map(Vec::as_slice))
            .collect();
        entries.push((SNAPSHOT_META, &head));
        Ok(self.store.put_meta(&entries)?)
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

    /// The saved snapshot's head, if there is one that is whole and matches
    /// the chain.
    pub(super) fn load_snapshot(&self, head: &Head) -> Result<Option<Snapshot>> {
        let Some(value) = self.store.meta(SNAPSHOT_META)? else {
            return Ok(None);
        };
        if value.len() < 32 || chain::snapshot_digest(&value[32..]).0[..] != value[..32] {
            return Ok(None); // damaged
        }
        let Ok(snap) = Snapshot::from_head(&value[32..]) else {
            return Ok(None);
        };
        // Only a snapshot of this very chain counts: its seq must hold its hash.
        if snap.seq == 0
            || snap.seq > head.size
            || self.get(snap.seq).map(|r| r.hash).ok() != Some(snap.hash)
        {
            return Ok(None);
        }
        Ok(Some(snap))
    }
}
