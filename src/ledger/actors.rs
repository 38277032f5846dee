//! The actor index: derived data that lists the actor, alias and role events
//! of the chain, so that opening a ledger does not read the whole chain to know its
//! actors. Every entry is checked against the event at its seq when loaded;
//! a missing index is rebuilt from the chain.

use super::{ActorIndexError, Ledger, Result};
use crate::chain;
use crate::codec;
use crate::event::{Event, Seq};
use crate::vocab::Actors;
use std::sync::OnceLock;

/// Meta key of the derived actor index.
pub(super) const ACTORS_META: &str = "actors";

/// The actors as loaded, with the index entries they came from.
#[derive(Debug, Clone)]
pub(super) struct ActorState {
    /// The starter set and every actor and alias event of the chain.
    pub actors: Actors,
    /// Each actor or alias event's seq and payload.
    pub index: Vec<(Seq, Vec<u8>)>,
    /// Whether the store holds the index (a read-only store may not).
    pub stored: bool,
}

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

    fn load_actors(&self) -> Result<ActorState> {
        let mut actors = Actors::starter();
        let mut index = Vec::new();
        let stored = match self.store.meta(ACTORS_META)? {
            Some(bytes) => Some(bytes),
            None => self.rebuild_actor_index()?,
        };
        let is_stored = stored.is_some();
        if let Some(bytes) = stored {
            let entries = codec::decode_index(&bytes).map_err(ActorIndexError::Unreadable)?;
            for (seq, payload, event) in entries {
                // Each entry must be the very event the chain holds at its seq:
                // the index is derived data and is never trusted on its own.
                let held = self.get(seq).map(|r| r.digest).ok();
                if held != Some(chain::payload_digest(&payload)) {
                    return Err(ActorIndexError::Mismatch { seq }.into());
                }
                match &event {
                    Event::Actor(a) => actors.add(a.clone(), Some(seq)),
                    Event::Alias(a) => actors.add_alias(a),
                    Event::Role(r) => actors.add_role(r),
                    _ => Ok(()),
                }
                .map_err(|error| ActorIndexError::Conflict { seq, error })?;
                index.push((seq, payload));
            }
        }
        Ok(ActorState {
            actors,
            index,
            stored: is_stored,
        })
    }

    /// Rebuilds the actor index from the chain when it is missing: reads every
    /// record's variant tag, decodes only actor and alias events, and writes the
    /// index back. `None` for an empty ledger.
    fn rebuild_actor_index(&self) -> Result<Option<Vec<u8>>> {
        let head = self.store.head()?;
        if head.size == 0 {
            return Ok(None);
        }
        let mut entries: Vec<(Seq, Vec<u8>)> = Vec::new();
        self.scan(1, head.size, |rec| {
            if !rec.header.is_redacted() && codec::is_reference(rec.body) {
                entries.push((rec.header.seq, rec.body.to_vec()));
            }
            Ok(true)
        })?;
        let bytes = codec::encode_index(&entries);
        self.store.put_meta(&[(ACTORS_META, &bytes)])?;
        Ok(Some(bytes))
    }

    /// The actors known to this ledger: the starter set and every actor and
    /// alias event in the chain.
    ///
    /// # Errors
    /// Store failures, or an actor index that does not agree with the chain.
    pub fn actors(&self) -> Result<&Actors> {
        Ok(&self.actor_state()?.actors)
    }
}
