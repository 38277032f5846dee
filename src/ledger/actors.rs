//! The actor index: derived data that lists the actor, alias and role events
//! of the chain, so that opening a ledger does not read the whole chain to
//! know its actors.
//!
//! The index is believed only when it is *bound*: it names the seq it covers
//! and the chain hash there, under a MAC with the cache key (see `cache`), so
//! that an entry dropped or an older index put back is not believed (a dropped
//! alias entry would let a contradicting alias into the chain). A bound index
//! is completed from the records after the seq it covers; an index that is
//! missing, unbound (written without a key, or by an earlier release), forged
//! or stale is rebuilt from the chain. Every entry is also checked against the
//! event at its seq. `verify` compares the index with the chain.

use super::{ActorIndexError, Ledger, Result};
use crate::chain::{self, Problem};
use crate::codec;
use crate::event::{Event, Hash, Head, Seq};
use crate::vocab::Actors;
use std::sync::OnceLock;

/// Meta key of the derived actor index: covered seq (u64), the chain hash
/// there, the MAC, then the index (`codec::encode_index`).
pub(super) const ACTORS_META: &str = "actor-index";
/// Where earlier releases kept an unbound index: no longer read.
const OLD_ACTORS_META: &str = "actors";
/// Records after the covered seq past which a commit writes the index again.
/// Every process that loads the actors reads the records the index does not
/// cover (a block each, for single appends), so this stays small: at 4,096 a
/// single `append` on a 1M ledger grew from 8.3 to 9.7 ms after 32 appends.
pub(super) const REWRITE_AFTER: u64 = 32;

/// The actors as loaded, with the index entries they came from.
#[derive(Debug, Clone)]
pub(super) struct ActorState {
    /// The starter set and every actor, alias and role event of the chain.
    pub actors: Actors,
    /// Each actor, alias or role event's seq and payload.
    pub index: Vec<(Seq, Vec<u8>)>,
    /// The seq up to which the stored index is bound to the chain (0: none).
    pub covered: Seq,
}

/// An entry of the index: the event's seq, its payload, and the event.
type IndexEntry = (Seq, Vec<u8>, Event);

/// The ledger's actors, loaded on first use.
pub(super) type ActorCache = OnceLock<ActorState>;

impl Ledger {
    /// The actors and their index, loaded on first use.
    pub(super) fn actor_state(&self) -> Result<&ActorState> {
        if let Some(s) = self.actors.get() {
            return Ok(s);
        }
        let loaded = self.load_actors()?;
        Ok(self.actors.get_or_init(|| loaded))
    }

    /// The actors and their index, taken out of the ledger for a batch to
    /// grow. The batch puts them back once it is committed, or however it
    /// ended when none of its events changed them; one that changed them and
    /// appended nothing (it failed, or every event was held) leaves none, and
    /// the next use loads them again, without what it had added.
    pub(super) fn take_actor_state(&mut self) -> Result<ActorState> {
        match self.actors.take() {
            Some(state) => Ok(state),
            None => self.load_actors(),
        }
    }

    fn load_actors(&self) -> Result<ActorState> {
        let head = self.store.head()?;
        let (mut entries, covered) = self.bound_index(&head)?.unwrap_or_default();
        // The records the index does not cover (all of them without one).
        // Retractions are kept when they retire one of these events.
        let mut tail: Vec<(Seq, Vec<u8>)> = Vec::new();
        if covered < head.size {
            self.scan(covered + 1, head.size, |rec| {
                // A withheld payload might be an actor, alias or role event:
                // the names it defines would be missing, and a contradicting
                // one accepted. No event records a redaction yet: it is damage.
                if rec.header.is_redacted() {
                    return Err(super::LedgerError::Tampered(
                        crate::chain::Problem::UnrecordedRedaction {
                            seq: rec.header.seq,
                        },
                    ));
                }
                if codec::is_reference(rec.body) || codec::is_retraction(rec.body) {
                    tail.push((rec.header.seq, rec.body.to_vec()));
                }
                Ok(true)
            })?;
        }
        let mut reference: std::collections::HashSet<Seq> =
            entries.iter().map(|(seq, _, _)| *seq).collect();
        for (seq, payload) in tail {
            let event = codec::decode_event(&payload)
                .map_err(|error| super::LedgerError::Corrupt { seq, error })?;
            match &event {
                Event::Retraction(r) if !reference.contains(&r.of) => continue,
                Event::Retraction(_) => {}
                _ => {
                    reference.insert(seq);
                }
            }
            entries.push((seq, payload, event));
        }
        let mut actors = Actors::starter();
        let mut index = Vec::with_capacity(entries.len());
        for (seq, payload, event) in entries {
            match &event {
                Event::Actor(a) => actors.add(a.clone(), Some(seq)),
                Event::Alias(a) => actors.add_alias_at(a, Some(seq)),
                Event::Role(r) => actors.add_role_at(r, Some(seq)),
                Event::Retraction(r) => actors.retire(r.of, seq).map(|_| ()),
                _ => Ok(()),
            }
            .map_err(|error| ActorIndexError::Conflict { seq, error })?;
            index.push((seq, payload));
        }
        let mut state = ActorState {
            actors,
            index,
            covered,
        };
        // Saved for the next process when it was rebuilt or is far behind (a
        // read-only store, or a ledger without a cache key, leaves it).
        if head.size > 0 && (covered == 0 || head.size - covered > REWRITE_AFTER) {
            if let Some(bytes) = self.seal_actor_index(&state.index, &head) {
                if self.store.put_meta(&[(ACTORS_META, &bytes)]).is_ok() {
                    state.covered = head.size;
                    let _ = self.store.forget_meta(OLD_ACTORS_META);
                }
            }
        }
        Ok(state)
    }

    /// The stored index (its entries' bytes) and the seq it covers, when it
    /// is bound to this chain: its MAC holds under the cache key, and the
    /// chain holds, at the seq it covers, the hash it names. `None` for an
    /// index that is not believed (missing, unbound, forged, or another
    /// chain's).
    fn sealed_index(&self, head: &Head) -> Result<Option<(Seq, Vec<u8>)>> {
        let Some(mut bytes) = self.store.meta(ACTORS_META)? else {
            return Ok(None);
        };
        if bytes.len() < 72 {
            return Ok(None);
        }
        let covered = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let hash = Hash(bytes[8..40].try_into().expect("32 bytes"));
        let signed = [&bytes[..40], &bytes[72..]].concat();
        if self.cache.mac(ACTORS_META, &signed).map(|m| m.0.to_vec())
            != Some(bytes[40..72].to_vec())
            || covered == 0
            || covered > head.size
            || self.hash_at(covered, head.size).ok() != Some(hash)
        {
            return Ok(None);
        }
        Ok(Some((covered, bytes.split_off(72))))
    }

    /// The bound index's entries and the seq it covers. Each entry must be the
    /// very event the chain holds at its seq.
    fn bound_index(&self, head: &Head) -> Result<Option<(Vec<IndexEntry>, Seq)>> {
        let Some((covered, index)) = self.sealed_index(head)? else {
            return Ok(None);
        };
        let entries = codec::decode_index(&index).map_err(ActorIndexError::Unreadable)?;
        for (seq, payload, _) in &entries {
            let held = self.get(*seq).map(|r| r.digest).ok();
            if *seq > covered || held != Some(chain::payload_digest(payload)) {
                return Err(ActorIndexError::Mismatch { seq: *seq }.into());
            }
        }
        Ok(Some((entries, covered)))
    }

    /// The stored form of an index covering the chain up to `head`, bound to
    /// it under the cache key; `None` without a key.
    pub(super) fn seal_actor_index(
        &self,
        index: &[(Seq, Vec<u8>)],
        head: &Head,
    ) -> Option<Vec<u8>> {
        let mut signed = Vec::with_capacity(40);
        signed.extend_from_slice(&head.size.to_le_bytes());
        signed.extend_from_slice(&head.hash.0);
        let entries = codec::encode_index(index);
        signed.extend_from_slice(&entries);
        let mac = self.cache.mac(ACTORS_META, &signed)?;
        let mut out = Vec::with_capacity(signed.len() + 32);
        out.extend_from_slice(&signed[..40]);
        out.extend_from_slice(&mac.0);
        out.extend_from_slice(&entries);
        Some(out)
    }

    /// Compares the stored actor index with `refs`, the seq and payload digest
    /// of every actor, alias and role event the chain holds (`verify`). An
    /// unbound index is not believed and so cannot mislead: it is not a problem.
    pub(super) fn check_actor_index(
        &self,
        head: &Head,
        refs: &[(Seq, Hash, Option<Seq>)],
    ) -> Result<Option<Problem>> {
        // Only an index that would be believed can mislead.
        let Some((covered, index)) = self.sealed_index(head)? else {
            return Ok(None);
        };
        let mismatch = |seq, detail: String| Ok(Some(Problem::ActorIndexMismatch { seq, detail }));
        let Ok(entries) = codec::decode_index(&index) else {
            return mismatch(0, "its entries do not decode".into());
        };
        // Retractions count when they retire an actor, alias or role event.
        let mut reference: std::collections::HashSet<Seq> = std::collections::HashSet::new();
        let mut want: Vec<(Seq, Hash)> = Vec::new();
        for (seq, digest, retracts) in refs.iter().filter(|(s, _, _)| *s <= covered) {
            match retracts {
                Some(of) if !reference.contains(of) => continue,
                Some(_) => {}
                None => {
                    reference.insert(*seq);
                }
            }
            want.push((*seq, *digest));
        }
        for (i, (seq, digest)) in want.iter().enumerate() {
            match entries.get(i) {
                Some((s, payload, _)) if s == seq && chain::payload_digest(payload) == *digest => {}
                Some((s, _, _)) if s == seq => {
                    return mismatch(*seq, format!("its entry for seq {seq} is not the event"))
                }
                _ => return mismatch(*seq, format!("it leaves out seq {seq}")),
            }
        }
        if let Some((s, _, _)) = entries.get(want.len()) {
            return mismatch(
                *s,
                format!("it names seq {s}, which is no actor, alias or role event"),
            );
        }
        Ok(None)
    }

    /// The actors known to this ledger: the starter set and every actor,
    /// alias and role event in the chain.
    ///
    /// # Errors
    /// Store failures, or an actor index that does not agree with the chain.
    pub fn actors(&self) -> Result<&Actors> {
        Ok(&self.actor_state()?.actors)
    }
}
