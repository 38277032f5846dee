//! The ledger: validates and appends events, reads them back, verifies the
//! chain, and keeps the data derived from it. It stands on a [`Store`] and
//! never touches an engine directly.
//!
//! One room per concern:
//! - [`append`](Ledger::append) and batches: `check` (validation against the
//!   vocabulary, the actors and the ledger) and `append` (packing records into
//!   blocks, staging them, the one commit);
//! - `read`: the one walk over stored blocks that every read shares
//!   ([`get`](Ledger::get), [`iter`](Ledger::iter), replays, scans, `verify`);
//! - `verify`: re-hashing the chain and checking the derived data against it;
//! - derived data, each with its own state: `actors` (the actor index),
//!   `proofs` (the Merkle tree and its proofs), `snapshots` (positions
//!   snapshots, and the record stream a positions query folds).

mod actors;
mod append;
mod cache;
mod check;
mod digests;
mod error;
mod proofs;
mod read;
mod runs;
mod snapshots;
mod verify;

#[cfg(test)]
mod tests;

pub use append::{Abort, BatchOptions, BatchSummary, Incoming, Item, Original, MAX_SKIPPED_LISTED};
pub use cache::CACHE_KEY_LEN;
pub use error::{ActorIndexError, LedgerError};
pub use snapshots::Candidates;
pub use verify::{b64, VerifyReport};

use crate::event::{Head, Seq};
use crate::store::{MemStore, OpenOptions, Store};
use std::path::Path;

/// Records per block are packed until a block reaches this many bytes. Small
/// enough that a sled leaf of 16 blocks stays under sled's blob threshold
/// (segment size / 4), large enough that batch appends write few keys.
pub const BLOCK_TARGET: usize = 6 * 1024;
/// Events after the saved snapshot that make a query save a new one.
pub const SNAPSHOT_EVERY: u64 = 10_000;

type Result<T> = std::result::Result<T, LedgerError>;

/// The system clock, microseconds since 1970-01-01 UTC.
pub fn system_clock() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// A ledger of events over a store. Reads take `&self`; the caches of derived
/// data fill themselves on first use.
pub struct Ledger {
    store: Box<dyn Store>,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
    actors: actors::ActorCache,
    tree: proofs::TreeCache,
    keep_tree: bool,
    progress: Option<Progress>,
    cache: cache::Cache,
}

/// A callback told how far a long read has come (the seq reached).
pub type Progress = std::sync::Arc<dyn Fn(Seq) + Send + Sync>;

impl Ledger {
    /// A ledger over any store.
    pub fn with_store(store: Box<dyn Store>) -> Ledger {
        let cache = cache::Cache::new(store.dir().map(Path::to_path_buf));
        Ledger {
            cache,
            store,
            clock: Box::new(system_clock),
            actors: actors::ActorCache::default(),
            tree: proofs::TreeCache::default(),
            keep_tree: true,
            progress: None,
        }
    }

    /// A ledger in memory (for tests and trials).
    pub fn in_memory() -> Ledger {
        Ledger::with_store(Box::new(MemStore::default()))
    }

    /// Opens the ledger at `path` in whichever engine holds it (creating one
    /// in `opts.engine` when `opts.create`).
    ///
    /// # Errors
    /// See [`crate::store::open`].
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<Ledger> {
        Ok(Ledger::with_store(crate::store::open(path, opts)?))
    }

    /// Sets the cache key: the secret under whose MAC files of derived data
    /// beside the store (the positions snapshot) are written and believed.
    /// Keep it outside the ledger; without one, a ledger on disk writes no such
    /// files and answers every positions query from the chain.
    pub fn set_cache_key(&mut self, key: [u8; CACHE_KEY_LEN]) {
        self.cache.set_key(key);
    }

    /// The names of the entries of derived data beside the store (`cache/`).
    pub fn cache_names(&self) -> Vec<String> {
        self.cache.names()
    }

    /// The bytes of one entry of derived data as stored (a sealed entry with
    /// its MAC first): what anyone with the ledger's files can read.
    pub fn cache_entry_raw(&self, name: &str) -> Option<Vec<u8>> {
        self.cache.read(name)
    }

    /// Overwrites one entry of derived data with `bytes` as they are: what
    /// anyone with the ledger's files can do, and what must never make the
    /// ledger answer otherwise than its chain (for tests of exactly that).
    ///
    /// # Errors
    /// File-system failures.
    pub fn set_cache_entry_raw(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.cache.write_raw(name, bytes)
    }

    /// Replaces the clock that stamps `recorded_at` (microseconds since 1970 UTC).
    pub fn set_clock(&mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) {
        self.clock = Box::new(clock);
    }

    /// Calls `f` with the seq reached, now and then, during long reads: verify,
    /// replays, scans.
    pub fn set_progress(&mut self, f: impl Fn(Seq) + Send + Sync + 'static) {
        self.progress = Some(std::sync::Arc::new(f));
    }

    /// Stops (or resumes) keeping the Merkle tree on append, to measure what
    /// keeping it costs. A ledger appended to without it rebuilds its tree from
    /// the chain the next time the tree is needed.
    pub fn keep_tree(&mut self, on: bool) {
        self.keep_tree = on;
        if !on {
            self.tree = proofs::TreeCache::default();
        }
    }

    /// The store underneath.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The committed head.
    ///
    /// # Errors
    /// Store failures.
    pub fn head(&self) -> Result<Head> {
        Ok(self.store.head()?)
    }

    fn report_progress(&self, seq: Seq) {
        if let Some(p) = &self.progress {
            p(seq);
        }
    }
}
