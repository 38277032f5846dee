//! The ledger: validates and appends events, reads them back, verifies the chain.
//! It stands on a [`Store`] and never touches an engine directly.

use crate::chain::{self, Problem, Verifier};
use crate::codec::{self, FormatError, RecordHeader};
use crate::event::{Event, Hash, Head, Recorded, Seq, Statement};
use crate::input::InputError;
use crate::projection::snapshot::Snapshot;
use crate::projection::{Amendments, Fold, KnownAt, Position, Query};
use crate::store::{MemStore, OpenOptions, Store, StoreError};
use crate::vocab::{ActorError, Actors, Vocabulary};
use crate::{merkle, tree};
use std::collections::HashMap;
use std::path::Path;

/// Records per block are packed until a block reaches this many bytes. Small
/// enough that a sled leaf of 16 blocks stays under sled's blob threshold
/// (segment size / 4), large enough that batch appends write few keys.
pub const BLOCK_TARGET: usize = 6 * 1024;
/// Events after the saved snapshot that make a query save a new one.
pub const SNAPSHOT_EVERY: u64 = 10_000;
/// Meta key of the snapshot's header; its chunks follow under `snapshot/N`.
const SNAPSHOT_META: &str = "snapshot";
/// Stored bytes read per step of `verify`.
const VERIFY_CHUNK: usize = 512 * 1024;
/// Meta key of the derived actor index.
const ACTORS_META: &str = "actors";

/// Failures of ledger operations.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event was rejected; `index` is its 0-based place in a batch.
    #[error("{}{error}", index.map(|i| format!("event {}: ", i + 1)).unwrap_or_default())]
    Rejected {
        /// Place in the batch, when appending several.
        index: Option<usize>,
        /// What is wrong.
        error: InputError,
    },
    /// Stored bytes that do not decode (run `verify`).
    #[error("seq {seq}: stored event is unreadable: {error}")]
    Corrupt {
        /// The event.
        seq: Seq,
        /// What is wrong.
        error: FormatError,
    },
    /// The store is not as the ledger left it (run `verify`).
    #[error("the ledger has been tampered with: {0}")]
    Tampered(Problem),
    /// A seq beyond the head.
    #[error("seq {seq} does not exist: the ledger holds {size} events")]
    NoSuchSeq {
        /// Asked for.
        seq: Seq,
        /// Head size.
        size: u64,
    },
}

type Result<T> = std::result::Result<T, LedgerError>;

/// What [`Ledger::verify`] found. Integrity failures are data, not errors.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// Events whose hashes were checked.
    pub checked: u64,
    /// The head the store records.
    pub head: Head,
    /// Hash of the last event checked (the head hash when intact).
    pub computed: Hash,
    /// Events whose payload is withheld: intact in the chain, but not readable.
    pub redacted: Vec<Seq>,
    /// Events past the head, left by an interrupted batch (never acknowledged).
    pub staged: u64,
    /// The first problem, if any.
    pub problem: Option<Problem>,
    /// The Merkle tree root computed from the chain itself (not from the
    /// stored tree), when the chain is intact.
    pub tree_root: Option<merkle::Digest>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// What a batch append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    /// Events appended.
    pub appended: u64,
    /// Seq of the first appended event, if any.
    pub first: Option<Seq>,
    /// The new head.
    pub head: Head,
    /// Events left out because the ledger (or the batch) already held an
    /// identical one: see [`BatchOptions::skip_known`].
    pub skipped: u64,
    /// The 0-based places in the batch of the first [`MAX_SKIPPED_LISTED`]
    /// events skipped.
    pub skipped_at: Vec<usize>,
}

/// How many skipped places a [`BatchSummary`] lists.
pub const MAX_SKIPPED_LISTED: usize = 1000;

/// How a batch treats what the ledger already holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOptions {
    /// Leave out any event whose payload digest (its content identity: every
    /// field, after actor names are resolved) the ledger or an earlier event of
    /// the batch already holds. This makes importing the same file twice add
    /// nothing the second time.
    pub skip_known: bool,
}

/// One event of a batch, with, for a rebuild, the record the original ledger
/// made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The event.
    pub event: Event,
    /// When restoring from an export: the original record's seq, transaction
    /// time and hashes, which the new record must reproduce exactly.
    pub original: Option<Original>,
}

/// A record as an export carries it: what a rebuilt record must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Original {
    /// Its seq.
    pub seq: Seq,
    /// Its transaction time (microseconds since 1970 UTC).
    pub recorded_at: i64,
    /// The previous record's hash.
    pub prev: Hash,
    /// Its chain hash.
    pub hash: Hash,
}

/// The system clock, microseconds since 1970-01-01 UTC.
pub fn system_clock() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Seals events into records and packs the records into blocks. Pure: nothing
/// is written until the ledger hands the blocks to the store.
struct Packer {
    head: Head,
    block: Vec<u8>,
    block_first: Seq,
    payload: Vec<u8>,
}

impl Packer {
    fn new(head: Head) -> Self {
        Packer {
            head,
            block: Vec::with_capacity(BLOCK_TARGET + 1024),
            block_first: head.size + 1,
            payload: Vec::with_capacity(1024),
        }
    }

    /// Encodes `event` into the packer's payload buffer and returns its digest.
    fn encode(&mut self, event: &Event) -> std::result::Result<Hash, FormatError> {
        self.payload.clear();
        codec::encode_event_into(event, &mut self.payload)?;
        Ok(chain::payload_digest(&self.payload))
    }

    /// Seals the payload last [`encode`](Self::encode)d, with its `digest`, as
    /// the next record, stamped `recorded_at` (or the previous record's time,
    /// if later). Returns a full block, when this record filled one.
    fn push(&mut self, digest: &Hash, recorded_at: i64) -> Option<(Seq, Vec<u8>)> {
        let seq = self.head.size + 1;
        let recorded_at = recorded_at.max(self.head.recorded_at);
        let header = RecordHeader::v1(seq, recorded_at, self.head.hash, self.payload.len() as u32);
        let hash = chain::link_hash(&header, digest);
        if self.block.is_empty() {
            self.block_first = seq;
        }
        codec::write_record(&header, &self.payload, &mut self.block);
        self.head = Head {
            size: seq,
            hash,
            recorded_at,
        };
        (self.block.len() >= BLOCK_TARGET)
            .then(|| self.cut())
            .flatten()
    }

    /// The block being filled, if it holds anything.
    fn cut(&mut self) -> Option<(Seq, Vec<u8>)> {
        if self.block.is_empty() {
            return None;
        }
        let b = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK_TARGET + 1024));
        Some((self.block_first, b))
    }
}

/// What is known about an event that a later correction or retraction may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Statement,
    Correction,
    Retraction,
    Reference,
    Redacted,
}

fn kind_of(e: &Event) -> Kind {
    match e {
        Event::Statement(_) => Kind::Statement,
        Event::Correction(_) => Kind::Correction,
        Event::Retraction(_) => Kind::Retraction,
        Event::Actor(_) | Event::Alias(_) => Kind::Reference,
    }
}

/// A ledger of events over a store.
pub struct Ledger {
    store: Box<dyn Store>,
    clock: Box<dyn Fn() -> i64 + Send + Sync>,
    actors: Option<Actors>,
    actor_index: Option<Vec<(Seq, Vec<u8>)>>,
    actor_index_stored: bool,
    tree: Option<tree::Growing>,
    keep_tree: bool,
    progress: Option<Progress>,
    /// Tiles of a tree rebuilt in this process, for proofs when the store
    /// could not save them (a read-only redb handle).
    tile_overlay: HashMap<String, Vec<u8>>,
}

/// A callback told how far a long read has come (the seq reached).
pub type Progress = std::sync::Arc<dyn Fn(Seq) + Send + Sync>;

impl Ledger {
    /// A ledger over any store.
    pub fn with_store(store: Box<dyn Store>) -> Ledger {
        Ledger {
            store,
            clock: Box::new(system_clock),
            actors: None,
            actor_index: None,
            actor_index_stored: false,
            tree: None,
            keep_tree: true,
            progress: None,
            tile_overlay: HashMap::new(),
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
            self.tree = None;
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

    fn load_actors(&mut self) -> Result<()> {
        if self.actors.is_some() {
            return Ok(());
        }
        let mut actors = Actors::starter();
        let mut index = Vec::new();
        let stored = match self.store.meta(ACTORS_META)? {
            Some(bytes) => Some(bytes),
            None => self.rebuild_actor_index()?,
        };
        self.actor_index_stored = stored.is_some();
        if let Some(bytes) = stored {
            let entries = codec::decode_index(&bytes)
                .map_err(|error| LedgerError::Corrupt { seq: 0, error })?;
            for (seq, payload, event) in entries {
                // Each entry must be the very event the chain holds at its seq:
                // the index is derived data and is never trusted on its own.
                let held = self.get(seq).map(|r| r.digest).ok();
                if held != Some(chain::payload_digest(&payload)) {
                    return Err(LedgerError::Corrupt {
                        seq,
                        error: FormatError::Payload(
                            "the actor index does not match the event at this seq".into(),
                        ),
                    });
                }
                match &event {
                    Event::Actor(a) => actors.add(a.clone(), Some(seq)),
                    Event::Alias(a) => actors.add_alias(a),
                    _ => Ok(()),
                }
                .map_err(|e| LedgerError::Corrupt {
                    seq,
                    error: FormatError::Payload(format!("actor index: {e}")),
                })?;
                index.push((seq, payload));
            }
        }
        self.actors = Some(actors);
        self.actor_index = Some(index);
        Ok(())
    }

    /// Calls `f` with every committed record from seq `from` on, in seq order,
    /// until it returns false: the one walk over stored blocks that the scans
    /// below share. A block or record that does not parse is an error.
    /// Calls `f` with every stored record from seq `from` to the head, raw:
    /// blocks opened, records split, nothing decoded or hashed. `f` returns
    /// `false` to stop.
    ///
    /// # Errors
    /// Store failures, a block that does not open, and `f`'s own errors.
    pub fn for_each_record(
        &self,
        from: Seq,
        f: impl FnMut(&codec::RawRecord<'_>) -> Result<bool>,
    ) -> Result<()> {
        self.scan_records(from, f)
    }

    /// Reads every stored block up to the head and maps each on one of two
    /// threads with `map(records)` (the block's records, decompressed), handing
    /// the results to `sink` in seq order on this thread.
    ///
    /// # Errors
    /// Store failures, a block that does not open, and the errors of `map`
    /// and `sink`.
    pub fn map_blocks<T: Send>(
        &self,
        map: impl Fn(&[u8]) -> Result<T> + Sync,
        mut sink: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        type Group = (usize, Vec<(Seq, Vec<u8>)>);
        type Done<T> = (usize, Result<Vec<T>>, Seq);
        let head = self.store.head()?;
        std::thread::scope(|scope| {
            let (tx, rx) =
                std::sync::mpsc::sync_channel::<std::result::Result<Group, StoreError>>(4);
            // Shared by the workers only: when they stop (the sink failed), the
            // reader's next send fails and it stops too.
            let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Done<T>>(8);
            let store = self.store.as_ref();
            scope.spawn(move || {
                let mut group = Vec::new();
                let mut n = 0;
                for b in store.blocks_from(1) {
                    match b {
                        Ok((key, _)) if key > head.size => break,
                        Ok(b) => group.push(b),
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                    if group.len() == 32 {
                        if tx.send(Ok((n, std::mem::take(&mut group)))).is_err() {
                            return;
                        }
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
                    let (n, out, last) = match group {
                        Ok((n, blocks)) => (
                            n,
                            blocks
                                .iter()
                                .map(|(key, stored)| {
                                    let records = codec::open_block(stored).map_err(|error| {
                                        LedgerError::Corrupt { seq: *key, error }
                                    })?;
                                    map(&records)
                                })
                                .collect::<Result<Vec<T>>>(),
                            blocks.last().map_or(0, |(k, _)| *k),
                        ),
                        Err(e) => (usize::MAX, Err(e.into()), 0),
                    };
                    if done_tx.send((n, out, last)).is_err() {
                        return;
                    }
                });
            }
            drop((done_tx, rx));
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0usize;
            for (n, out, last) in done_rx {
                if n == usize::MAX {
                    out?;
                    continue;
                }
                waiting.insert(n, (out, last));
                while let Some((out, last)) = waiting.remove(&next) {
                    for t in out? {
                        sink(t)?;
                    }
                    if let Some(p) = &self.progress {
                        // The first seq of the group's last block: near enough.
                        p(last);
                    }
                    next += 1;
                }
            }
            Ok(())
        })
    }

    fn scan_records(
        &self,
        from: Seq,
        mut f: impl FnMut(&codec::RawRecord<'_>) -> Result<bool>,
    ) -> Result<()> {
        let head = self.store.head()?;
        for b in self.store.blocks_from(from.max(1)) {
            let (key, block) = b?;
            if key > head.size {
                break;
            }
            let records = codec::open_block(&block)
                .map_err(|error| LedgerError::Corrupt { seq: key, error })?;
            if let Some(p) = &self.progress {
                p(key);
            }
            for rec in codec::records(&records) {
                let rec = rec.map_err(|error| LedgerError::Corrupt { seq: key, error })?;
                if rec.header.seq < from {
                    continue;
                }
                if rec.header.seq > head.size || !f(&rec)? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Loads the Merkle tree's frontier and partial tiles, or rebuilds them from
    /// the chain (and stores them) when they are missing or do not match the
    /// head: a ledger written before the tree existed gets one this way.
    fn load_tree(&mut self) -> Result<()> {
        let head = self.store.head()?;
        if self.tree.as_ref().is_some_and(|t| t.size() == head.size) {
            return Ok(());
        }
        let stored = self
            .store
            .meta(tree::FRONTIER_META)?
            .and_then(|b| merkle::Frontier::from_bytes(&b).ok())
            .filter(|f| f.size() == head.size);
        let resumed = match stored {
            Some(f) => tree::Growing::resume(f, |tl, i| self.store.meta(&tree::tile_key(tl, i)))?,
            None => None,
        };
        let grown = match resumed {
            Some(t) => t,
            None => {
                let mut t = tree::Growing::new();
                self.scan_records(1, |rec| {
                    t.push(&chain::record_hash(rec));
                    Ok(true)
                })?;
                if t.size() != head.size {
                    return Err(LedgerError::Corrupt {
                        seq: t.size() + 1,
                        error: FormatError::Payload("the chain ends before the head".into()),
                    });
                }
                let changes = t.take_changes();
                let entries: Vec<(&str, &[u8])> = changes
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice()))
                    .collect();
                self.store.put_meta(&entries)?;
                // A read-only store does not keep them: proofs read them here.
                self.tile_overlay = changes
                    .into_iter()
                    .filter(|(k, _)| k != tree::FRONTIER_META)
                    .collect();
                t
            }
        };
        self.tree = Some(grown);
        Ok(())
    }

    /// The Merkle tree's size and root now (RFC 6962, SHA-256, over the
    /// records' chain hashes): what a checkpoint states.
    ///
    /// # Errors
    /// Store failures; a chain that ends before its head.
    pub fn tree_head(&mut self) -> Result<(u64, merkle::Digest)> {
        self.load_tree()?;
        let t = self.tree.as_ref().expect("loaded");
        Ok((t.size(), t.root()))
    }

    /// Runs `f` over the tree's nodes (stored tiles, chain hashes below them).
    fn with_nodes<R>(
        &mut self,
        f: impl FnOnce(&mut dyn merkle::NodeSource<Error = tree::NodeError<LedgerError>>) -> R,
    ) -> Result<R> {
        self.load_tree()?;
        let this = &*self;
        let mut nodes = tree::Nodes::new(
            |tl, i| {
                let key = tree::tile_key(tl, i);
                match this.tile_overlay.get(&key) {
                    Some(v) => Ok(Some(v.clone())),
                    None => Ok(this.store.meta(&key)?),
                }
            },
            |first, count| {
                let mut hashes = Vec::with_capacity(count as usize);
                this.scan_records(first + 1, |rec| {
                    hashes.push(chain::record_hash(rec));
                    Ok((hashes.len() as u64) < count)
                })?;
                Ok(hashes)
            },
        );
        Ok(f(&mut nodes))
    }

    /// The root of the tree of the first `size` records.
    ///
    /// # Errors
    /// A size beyond the head; store failures; a damaged tree.
    pub fn tree_root(&mut self, size: u64) -> Result<merkle::Digest> {
        let (now, root) = self.tree_head()?;
        if size > now {
            return Err(LedgerError::NoSuchSeq {
                seq: size,
                size: now,
            });
        }
        if size == now {
            return Ok(root);
        }
        self.with_nodes(|n| merkle::root(size, n))?
            .map_err(tree_error)
    }

    /// The inclusion proof of record `seq` in the tree of the first `size`
    /// records (RFC 9162 section 2.1.3), leaf index `seq - 1`.
    ///
    /// # Errors
    /// A seq beyond `size` or a size beyond the head; store failures; a damaged
    /// tree.
    pub fn inclusion_proof(&mut self, seq: Seq, size: u64) -> Result<Vec<merkle::Digest>> {
        let (now, _) = self.tree_head()?;
        if size > now || seq == 0 || seq > size {
            return Err(LedgerError::NoSuchSeq {
                seq: if size > now { size } else { seq },
                size: size.min(now),
            });
        }
        self.with_nodes(|n| merkle::inclusion_proof(seq - 1, size, n))?
            .map_err(proof_error)
    }

    /// The consistency proof from the tree of the first `old` records to that
    /// of the first `new` (RFC 9162 section 2.1.4).
    ///
    /// # Errors
    /// `old` of 0 or above `new`, `new` beyond the head; store failures; a
    /// damaged tree.
    pub fn consistency_proof(&mut self, old: u64, new: u64) -> Result<Vec<merkle::Digest>> {
        let (now, _) = self.tree_head()?;
        if new > now {
            return Err(LedgerError::NoSuchSeq {
                seq: new,
                size: now,
            });
        }
        self.with_nodes(|n| merkle::consistency_proof(old, new, n))?
            .map_err(proof_error)
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
        self.scan_records(1, |rec| {
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
    /// Store failures, or an unreadable actor index.
    pub fn actors(&mut self) -> Result<&Actors> {
        self.load_actors()?;
        Ok(self.actors.as_ref().expect("loaded"))
    }

    /// Reads one event.
    ///
    /// # Errors
    /// [`LedgerError::NoSuchSeq`] past the head; store failures; undecodable bytes.
    pub fn get(&self, seq: Seq) -> Result<Recorded> {
        let head = self.store.head()?;
        if seq == 0 || seq > head.size {
            return Err(LedgerError::NoSuchSeq {
                seq,
                size: head.size,
            });
        }
        let Some((_, block)) = self.store.block_holding(seq)? else {
            return Err(LedgerError::Corrupt {
                seq,
                error: FormatError::Payload("no block holds it".into()),
            });
        };
        let records =
            codec::open_block(&block).map_err(|error| LedgerError::Corrupt { seq, error })?;
        for rec in codec::records(&records) {
            let rec = rec.map_err(|error| LedgerError::Corrupt { seq, error })?;
            if rec.header.seq == seq {
                return decode_recorded(&rec);
            }
        }
        Err(LedgerError::Corrupt {
            seq,
            error: FormatError::Payload("not in the block that should hold it".into()),
        })
    }

    /// Iterates over events `from..=to` (bounded by the head), in seq order.
    ///
    /// # Errors
    /// Store failures (the iterator's items carry read and decode failures).
    pub fn iter(&self, from: Seq, to: Seq) -> Result<impl Iterator<Item = Result<Recorded>> + '_> {
        let head = self.store.head()?;
        let to = to.min(head.size);
        let from = from.max(1);
        let mut blocks = self
            .store
            .blocks_from(from)
            .take_while(move |b| !matches!(b, Ok((k, _)) if *k > to));
        let mut pending: std::vec::IntoIter<Result<Recorded>> = Vec::new().into_iter();
        let mut done = from > to;
        Ok(std::iter::from_fn(move || loop {
            if let Some(r) = pending.next() {
                return Some(r);
            }
            if done {
                return None;
            }
            let (key, block) = match blocks.next()? {
                Err(e) => {
                    done = true;
                    return Some(Err(e.into()));
                }
                Ok(b) => b,
            };
            let records = match codec::open_block(&block) {
                Ok(r) => r,
                Err(error) => {
                    done = true;
                    return Some(Err(LedgerError::Corrupt { seq: key, error }));
                }
            };
            if let Some(p) = &self.progress {
                p(key);
            }
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
                        done = true;
                        break;
                    }
                    Ok(rec) => out.push(decode_recorded(&rec)),
                }
            }
            pending = out.into_iter();
        }))
    }

    /// Checks an event against the vocabulary, the actors and the ledger, and
    /// returns it with every actor name replaced by its canonical id.
    fn check(
        &self,
        event: Event,
        actors: &mut Actors,
        seq: Seq,
        (batch_start, batch): (Seq, &HashMap<Seq, Kind>),
    ) -> std::result::Result<Event, InputError> {
        /// Replaces an actor name by its canonical id; `field` names it on error.
        fn canon(
            actors: &Actors,
            name: &mut String,
            field: impl FnOnce() -> String,
        ) -> std::result::Result<(), InputError> {
            match actors.resolve(name) {
                Ok(id) if id == name.as_str() => Ok(()),
                Ok(id) => {
                    *name = id.to_string();
                    Ok(())
                }
                Err(u) => Err(InputError::new(field(), format!("unknown actor {u}"))),
            }
        }
        let statement = |actors: &Actors,
                         p: &str,
                         mut s: Statement|
         -> std::result::Result<Statement, InputError> {
            let vocab = Vocabulary::builtin();
            canon(actors, &mut s.party, || format!("{p}party"))?;
            vocab.check_stance(&s.stance).map_err(|u| {
                InputError::new(format!("{p}stance"), format!("unknown stance {u}"))
            })?;
            let pr = &mut s.proposition;
            vocab.check_predicate(&pr.predicate).map_err(|u| {
                InputError::new(
                    format!("{p}proposition.predicate"),
                    format!("unknown predicate {u}"),
                )
            })?;
            for i in 0..pr.subjects.len() {
                canon(actors, &mut pr.subjects[i], || {
                    format!("{p}proposition.subjects[{i}]")
                })?;
                if pr.subjects[..i].contains(&pr.subjects[i]) {
                    return Err(InputError::new(
                        format!("{p}proposition.subjects[{i}]"),
                        format!("{} is named twice", pr.subjects[i]),
                    ));
                }
            }
            if let Some(loc) = &mut pr.location {
                canon(actors, loc, || format!("{p}proposition.location"))?;
            }
            Ok(s)
        };
        let target = |of: Seq, what: &str| -> std::result::Result<Kind, InputError> {
            if of == seq {
                return Err(InputError::new(
                    "of",
                    format!("a {what} cannot point at itself (seq {seq})"),
                ));
            }
            if of > seq {
                return Err(InputError::new(
                    "of",
                    format!("seq {of} does not exist yet (this event would be seq {seq})"),
                ));
            }
            if of > batch_start {
                return Ok(batch.get(&of).copied().unwrap_or(Kind::Statement));
            }
            match self.get(of) {
                Ok(r) => Ok(r.event.as_ref().map_or(Kind::Redacted, kind_of)),
                Err(e) => Err(InputError::new("of", format!("cannot read seq {of}: {e}"))),
            }
        };
        Ok(match event {
            Event::Statement(s) => Event::Statement(statement(actors, "", s)?),
            Event::Correction(mut c) => {
                match target(c.of, "correction")? {
                    Kind::Statement | Kind::Correction => {}
                    k => {
                        return Err(InputError::new(
                            "of",
                            format!(
                                "seq {} is a {}; only statements and corrections can be corrected",
                                c.of,
                                kind_name(k)
                            ),
                        ))
                    }
                }
                c.statement = statement(actors, "statement.", c.statement)?;
                Event::Correction(c)
            }
            Event::Retraction(r) => {
                match target(r.of, "retraction")? {
                    Kind::Statement | Kind::Correction => {}
                    k => {
                        return Err(InputError::new(
                            "of",
                            format!(
                                "seq {} is a {}; only statements and corrections can be retracted",
                                r.of,
                                kind_name(k)
                            ),
                        ))
                    }
                }
                Event::Retraction(r)
            }
            Event::Actor(mut a) => {
                if let Some(p) = &mut a.parent {
                    canon(actors, p, || "parent".into())?;
                }
                actors
                    .add(a.clone(), Some(seq))
                    .map_err(|e| actor_error(&e, "id"))?;
                Event::Actor(a)
            }
            Event::Alias(mut a) => {
                canon(actors, &mut a.actor, || "actor".into())?;
                actors.add_alias(&a).map_err(|e| actor_error(&e, "alias"))?;
                Event::Alias(a)
            }
        })
    }

    /// Checks and appends one event; returns once it is durable.
    ///
    /// # Errors
    /// [`LedgerError::Rejected`] naming the field; store failures. Either way
    /// nothing is appended.
    pub fn append(&mut self, event: Event) -> Result<Recorded> {
        let summary = self
            .append_batch(std::iter::once(Ok(event)))
            .map_err(|e| match e {
                LedgerError::Rejected { error, .. } => LedgerError::Rejected { index: None, error },
                other => other,
            })?;
        let seq = summary.first.expect("one event appended");
        self.get(seq)
    }

    /// Checks and appends many events as one durable, all-or-nothing batch.
    /// Items that are `Err` (say, a line that did not parse) abort the batch.
    ///
    /// One thread checks, encodes, hashes and packs the events; another
    /// compresses full blocks and stages them in the store. The last block, the
    /// head and derived data are then committed in one atomic, durable step.
    ///
    /// # Errors
    /// The first rejected event, with its place in the batch; store failures.
    /// Either way nothing is appended.
    pub fn append_batch(
        &mut self,
        events: impl IntoIterator<Item = std::result::Result<Event, InputError>>,
    ) -> Result<BatchSummary> {
        self.import_batch(
            events.into_iter().map(|e| {
                e.map(|event| Incoming {
                    event,
                    original: None,
                })
            }),
            BatchOptions::default(),
        )
    }

    /// [`append_batch`](Self::append_batch) with options, for imports and
    /// rebuilds: events already held can be skipped (`opts.skip_known`), and an
    /// event that carries its [`Original`] record is sealed with the original
    /// transaction time and must reproduce the original seq, previous hash and
    /// hash, or the batch is rejected.
    ///
    /// # Errors
    /// The first rejected event, with its place in the batch; store failures.
    /// Either way nothing is appended.
    pub fn import_batch(
        &mut self,
        events: impl IntoIterator<Item = std::result::Result<Incoming, InputError>>,
        opts: BatchOptions,
    ) -> Result<BatchSummary> {
        self.load_actors()?;
        let mut known = if opts.skip_known {
            Some(self.known_digests()?)
        } else {
            None
        };
        let start = self.store.head()?;
        self.discard_interrupted(&start)?;
        let mut actors = self.actors.clone().expect("loaded");
        let mut index = self.actor_index.clone().expect("loaded");
        let mut tree = if self.keep_tree {
            self.load_tree()?;
            self.tree.clone()
        } else {
            None
        };
        let actors_before = index.len();
        let now = (self.clock)();
        let this = &*self;
        let (result, staged) = std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(Seq, Vec<u8>)>(64);
            let store = this.store.as_ref();
            let writer = scope.spawn(move || -> std::result::Result<bool, StoreError> {
                let mut staged = false;
                let mut pending: Vec<(Seq, Vec<u8>)> = Vec::new();
                let flush =
                    |pending: &mut Vec<(Seq, Vec<u8>)>| -> std::result::Result<(), StoreError> {
                        let refs: Vec<(Seq, &[u8])> =
                            pending.iter().map(|(k, b)| (*k, b.as_slice())).collect();
                        store.stage(&refs)?;
                        pending.clear();
                        Ok(())
                    };
                for (key, records) in rx {
                    pending.push((key, codec::seal_block(&records)));
                    staged = true;
                    if pending.len() >= 32 {
                        flush(&mut pending)?;
                    }
                }
                if !pending.is_empty() {
                    flush(&mut pending)?;
                }
                Ok(staged)
            });
            let mut batch_kinds: HashMap<Seq, Kind> = HashMap::new();
            let mut packer = Packer::new(start);
            let mut n: u64 = 0;
            let mut skipped: u64 = 0;
            let mut skipped_at: Vec<usize> = Vec::new();
            let result = (|| -> Result<Packer> {
                for (i, item) in events.into_iter().enumerate() {
                    let reject = |error| LedgerError::Rejected {
                        index: Some(i),
                        error,
                    };
                    let Incoming { event, original } = item.map_err(reject)?;
                    let mut skip = || {
                        skipped += 1;
                        if skipped_at.len() < MAX_SKIPPED_LISTED {
                            skipped_at.push(i);
                        }
                    };
                    // Actor and alias events are canonical as given, and the check
                    // would refuse to define an actor twice: their duplicates are
                    // caught before it. Other events are compared once checked.
                    let reference = matches!(event, Event::Actor(_) | Event::Alias(_));
                    if let (Some(known), true) = (&known, reference) {
                        // As the check would store it: a parent named by its id.
                        let canonical = match &event {
                            Event::Actor(a) => a.parent.as_deref().and_then(|p| {
                                let id = actors.resolve(p).ok()?;
                                (id != p).then(|| {
                                    let mut a = a.clone();
                                    a.parent = Some(id.to_string());
                                    Event::Actor(a)
                                })
                            }),
                            _ => None,
                        };
                        let digest = packer
                            .encode(canonical.as_ref().unwrap_or(&event))
                            .map_err(|e| reject(too_large(e)))?;
                        if known.contains(&digest_key(&digest)) {
                            skip();
                            continue;
                        }
                    }
                    let seq = packer.head.size + 1;
                    if let Some(o) = &original {
                        if o.seq != seq || o.prev != packer.head.hash {
                            return Err(reject(InputError::new(
                                "prev",
                                format!(
                                    "seq {} does not follow seq {} (hash {}) of the ledger being rebuilt",
                                    o.seq,
                                    packer.head.size,
                                    packer.head.hash.to_hex()
                                ),
                            )));
                        }
                    }
                    let event = this
                        .check(event, &mut actors, seq, (start.size, &batch_kinds))
                        .map_err(reject)?;
                    let digest = packer.encode(&event).map_err(|e| reject(too_large(e)))?;
                    if let Some(known) = &mut known {
                        if !known.insert(digest_key(&digest)) {
                            skip();
                            continue;
                        }
                    }
                    // Events of this batch that are not in the map are statements:
                    // the map stays as small as the number of other events.
                    match &event {
                        Event::Statement(_) => {}
                        Event::Correction(_) | Event::Retraction(_) => {
                            batch_kinds.insert(seq, kind_of(&event));
                        }
                        Event::Actor(_) | Event::Alias(_) => {
                            batch_kinds.insert(seq, Kind::Reference);
                            index.push((seq, packer.payload.clone()));
                        }
                    }
                    let full = packer.push(&digest, original.map_or(now, |o| o.recorded_at));
                    if let Some(t) = &mut tree {
                        t.push(&packer.head.hash);
                    }
                    if let Some(o) = &original {
                        if packer.head.hash != o.hash || packer.head.recorded_at != o.recorded_at {
                            return Err(reject(InputError::new(
                                "hash",
                                format!(
                                    "seq {seq}: the event's fields hash to {}, not to the {} its record carries",
                                    packer.head.hash.to_hex(),
                                    o.hash.to_hex()
                                ),
                            )));
                        }
                    }
                    n += 1;
                    if let Some(block) = full {
                        if tx.send(block).is_err() {
                            break; // the writer failed; its error is reported below
                        }
                    }
                }
                Ok(packer)
            })();
            drop(tx);
            let staged = writer.join().expect("block writer thread");
            (result.map(|p| (p, n, skipped, skipped_at)), staged)
        });
        let staged = match (result.is_ok(), staged) {
            (_, Err(e)) => {
                self.store.discard_staged(start.size)?;
                return Err(e.into());
            }
            (ok, Ok(staged)) => {
                if !ok && staged {
                    self.store.discard_staged(start.size)?;
                }
                staged
            }
        };
        let (mut packer, n, skipped, skipped_at) = result?;
        if n == 0 {
            return Ok(BatchSummary {
                appended: 0,
                first: None,
                head: start,
                skipped,
                skipped_at,
            });
        }
        let last = packer
            .cut()
            .map(|(k, records)| (k, codec::seal_block(&records)));
        let blocks: Vec<(Seq, &[u8])> = last.iter().map(|(k, b)| (*k, b.as_slice())).collect();
        let index_bytes;
        let mut meta: Vec<(&str, &[u8])> = Vec::new();
        if index.len() != actors_before || !self.actor_index_stored {
            index_bytes = codec::encode_index(&index);
            meta.push((ACTORS_META, &index_bytes));
        }
        let tree_changes = tree.as_mut().map(tree::Growing::take_changes);
        meta.extend(
            tree_changes
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_slice())),
        );
        let head = packer.head;
        self.store.commit(&head, &blocks, &meta, staged)?;
        self.tree = tree;
        self.tile_overlay.clear();
        self.actors = Some(actors);
        self.actor_index = Some(index);
        self.actor_index_stored = true;
        Ok(BatchSummary {
            appended: n,
            first: Some(start.size + 1),
            head,
            skipped,
            skipped_at,
        })
    }

    /// Removes the blocks an interrupted batch left past the head. Blocks past
    /// the head with no batch in progress were not written by a batch: they are
    /// left alone, and nothing is appended until `verify` has been looked at.
    fn discard_interrupted(&self, head: &Head) -> Result<()> {
        let past = match self.store.block_holding(Seq::MAX)? {
            Some((key, _)) => key > head.size,
            None => false,
        };
        if past || self.store.staging()? {
            if !self.store.staging()? {
                return Err(LedgerError::Tampered(Problem::BeyondHead {
                    seq: head.size + 1,
                    head_size: head.size,
                }));
            }
            self.store.discard_staged(head.size)?;
        }
        Ok(())
    }

    /// Re-hashes every stored event and checks every link, the stored head and,
    /// when given, a head saved earlier (`SIZE`, `HASH`): a ledger that does not
    /// pass through it was truncated or rewritten. Also rebuilds the Merkle
    /// tree from the chain and compares it with the stored one, and reports its
    /// root.
    ///
    /// # Errors
    /// Only store failures; integrity problems are in the report.
    pub fn verify(&self, expect: Option<(u64, Hash)>) -> Result<VerifyReport> {
        self.verify_with(expect, true)
    }

    /// [`verify`](Self::verify) of the chain alone: the Merkle tree (derived
    /// data, from which proofs are made) is neither rebuilt nor compared, which
    /// saves about a third of the time. `tree_root` is then `None`.
    ///
    /// # Errors
    /// Only store failures; integrity problems are in the report.
    pub fn verify_chain(&self, expect: Option<(u64, Hash)>) -> Result<VerifyReport> {
        self.verify_with(expect, false)
    }

    fn verify_with(&self, expect: Option<(u64, Hash)>, with_tree: bool) -> Result<VerifyReport> {
        let head = self.store.head()?;
        let mut v = Verifier::new().against_stored(head);
        if let Some((size, hash)) = expect {
            v = v.expecting(size, hash);
        }
        let staging = self.store.staging()?;
        let mut staged = 0u64;
        let mut problem = None;
        let mut frontier = merkle::Frontier::new();
        // The tree's stored nodes, as the chain makes them.
        let mut tiles: std::collections::BTreeMap<(u8, u64), Vec<u8>> = Default::default();
        // One thread reads blocks from the store while this one (with a helper)
        // decompresses, digests and links the previous chunk.
        std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<
                std::result::Result<Vec<(Seq, Vec<u8>)>, StoreError>,
            >(2);
            let mut blocks = self.store.blocks_from(1);
            scope.spawn(move || loop {
                let mut chunk = Vec::new();
                let mut bytes = 0;
                let mut end = false;
                while bytes < VERIFY_CHUNK {
                    match blocks.next() {
                        None => {
                            end = true;
                            break;
                        }
                        Some(Ok(b)) => {
                            bytes += b.1.len();
                            chunk.push(b);
                        }
                        Some(Err(e)) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                if tx.send(Ok(chunk)).is_err() || end {
                    return;
                }
            });
            'outer: for chunk in rx {
                if let Some(p) = &self.progress {
                    p(v.checked());
                }
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(StoreError::StrayKey(key)) => {
                        problem = Some(Problem::StrayData {
                            what: format!("key {key} among the blocks"),
                        });
                        break 'outer;
                    }
                    Err(e) => return Err(e.into()),
                };
                let opened = open_blocks(&chunk, with_tree);
                for ((key, _), opened) in chunk.iter().zip(&opened) {
                    let (records, hashes, leaves) = match opened {
                        Ok(o) => o,
                        Err(error) if *key <= head.size => {
                            problem = Some(Problem::Malformed {
                                seq: v.checked() + 1,
                                error: error.clone(),
                            });
                            break 'outer;
                        }
                        Err(_) => continue,
                    };
                    if *key > head.size {
                        if !staging {
                            problem = Some(Problem::BeyondHead {
                                seq: *key,
                                head_size: head.size,
                            });
                            break 'outer;
                        }
                        staged += codec::records(records).count() as u64;
                        continue;
                    }
                    if let Err(p) = v.feed_block(*key, records, hashes.as_deref()) {
                        problem = Some(p);
                        break 'outer;
                    }
                    for leaf in leaves.iter() {
                        frontier.push(*leaf, |level, index, node| {
                            if level > 0 && level % tree::TILE_HEIGHT == 0 {
                                tiles
                                    .entry((level / tree::TILE_HEIGHT, index / tree::TILE_WIDTH))
                                    .or_default()
                                    .extend_from_slice(node);
                            }
                        });
                    }
                }
            }
            Ok(())
        })?;
        if problem.is_none() {
            problem = v.finish(&head).err();
        }
        if problem.is_none() {
            // No event type records a redaction yet: a withheld payload is damage.
            if let Some(seq) = v.redacted.first() {
                problem = Some(Problem::UnrecordedRedaction { seq: *seq });
            }
        }
        let tree_root = (with_tree && problem.is_none()).then(|| frontier.root());
        if let (None, Some(computed)) = (&problem, tree_root) {
            // The stored tree is derived data, but proofs are made from it.
            let stored = self
                .store
                .meta(tree::FRONTIER_META)?
                .and_then(|b| merkle::Frontier::from_bytes(&b).ok());
            if let Some(stored) = stored.filter(|f| f.size() == head.size) {
                if stored.root() != computed {
                    problem = Some(Problem::TreeMismatch {
                        size: head.size,
                        stored: b64(&stored.root()),
                        computed: b64(&computed),
                    });
                } else {
                    for ((tl, index), expected) in &tiles {
                        let held = self.store.meta(&tree::tile_key(*tl, *index))?;
                        if held.as_deref() != Some(expected.as_slice()) {
                            problem = Some(Problem::TreeMismatch {
                                size: head.size,
                                stored: format!("a tile ({tl}/{index}) that differs"),
                                computed: b64(&computed),
                            });
                            break;
                        }
                    }
                }
            }
        }
        Ok(VerifyReport {
            checked: v.checked(),
            head,
            computed: v.last_hash(),
            redacted: v.redacted.clone(),
            staged,
            problem,
            tree_root,
        })
    }

    /// The corrections and retractions the ledger held at `known_at`, resolved.
    /// Reads every record's variant tag and decodes only these.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn amendments(&self, known_at: Option<KnownAt>) -> Result<Amendments> {
        Ok(Amendments::collect(
            &self.amendment_events(1, known_at)?,
            known_at,
        ))
    }

    /// The correction and retraction events from seq `from` on, as far as
    /// `known_at` reaches: every record's variant tag is read, only these decoded.
    pub(crate) fn amendment_events(
        &self,
        from: Seq,
        known_at: Option<KnownAt>,
    ) -> Result<Vec<Recorded>> {
        let mut found = Vec::new();
        self.scan_records(from, |rec| {
            let h = &rec.header;
            if known_at.is_some_and(|k| !k.includes(h.seq, h.recorded_at)) {
                return Ok(false);
            }
            if !h.is_redacted() && codec::is_amendment(rec.body) {
                found.push(decode_recorded(rec)?);
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// The positions the ledger supports for `query`, from a full replay of the chain.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn positions_replay(&self, query: &Query) -> Result<Vec<Position>> {
        let amendments = self.amendments(query.known_at)?;
        let mut fold = Fold::new(query, amendments);
        self.fold_from(&mut fold, 1, query.known_at)?;
        Ok(fold.finish())
    }

    /// Calls `f` with the events from `from` to the head, in seq order, until it
    /// returns false: for folds only, the events come without their hashes (the
    /// `hash`, `prev` and `digest` fields are zero) and statements without
    /// quote, speaker and source, which folds never read. (Decoding on a second
    /// thread was measured slower: the events are then freed on another thread
    /// than the one that allocated them.)
    fn for_each_unhashed(&self, from: Seq, mut f: impl FnMut(&Recorded) -> bool) -> Result<()> {
        self.scan_records(from, |rec| {
            let h = &rec.header;
            let event = if h.is_redacted() {
                None
            } else {
                Some(
                    codec::decode_event_for_fold(rec.body)
                        .map_err(|error| LedgerError::Corrupt { seq: h.seq, error })?,
                )
            };
            Ok(f(&Recorded {
                seq: h.seq,
                recorded_at: h.recorded_at,
                prev: Hash::ZERO,
                hash: Hash::ZERO,
                digest: Hash::ZERO,
                event,
                payload_len: h.payload_len,
            }))
        })
    }

    /// Folds the events from `from` on, as far as `known_at` reaches.
    fn fold_from(&self, fold: &mut Fold<'_>, from: Seq, known_at: Option<KnownAt>) -> Result<()> {
        self.for_each_unhashed(from, |r| {
            if known_at.is_some_and(|k| !k.includes(r.seq, r.recorded_at)) {
                return false;
            }
            fold.add(r);
            true
        })
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
        let Some(snap) = usable else {
            return self.positions_replay(query);
        };
        // The events after the snapshot are read twice, never held: once for their
        // corrections and retractions, once to fold them.
        let tail_amendments = self.amendment_events(snap.seq + 1, query.known_at)?;
        let amendments = Amendments::collect(
            snap.amendments().iter().chain(&tail_amendments),
            query.known_at,
        );
        let mut fold = Fold::new(query, amendments);
        fold.add_corrections_upto(snap.seq);
        if snap
            .replay(&mut fold, &mut |i| self.snapshot_chunk(i))
            .is_err()
        {
            return self.positions_replay(query); // a damaged chunk: never trusted
        }
        self.fold_from(&mut fold, snap.seq + 1, query.known_at)?;
        Ok(fold.finish())
    }

    /// Builds a snapshot of the whole chain and saves it.
    ///
    /// # Errors
    /// Store failures; unreadable stored bytes.
    pub fn snapshot_now(&self) -> Result<Snapshot> {
        let mut snap = Snapshot::new();
        self.for_each_unhashed(1, |r| {
            snap.extend(r);
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
        self.for_each_unhashed(snap.seq + 1, |r| {
            snap.extend(r);
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

    /// The saved snapshot's head, if there is one that is whole and matches the chain.
    /// The seq the saved positions snapshot covers, when there is one that
    /// checks against the chain.
    ///
    /// # Errors
    /// Store failures.
    pub fn snapshot_seq(&self) -> Result<Option<Seq>> {
        let head = self.store.head()?;
        Ok(self.load_snapshot(&head)?.map(|s| s.seq))
    }

    fn load_snapshot(&self, head: &Head) -> Result<Option<Snapshot>> {
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

    /// The content identities of every stored event, for [`BatchOptions::skip_known`]:
    /// the first 128 bits of each payload digest, which is ample to tell
    /// events apart (a chance collision needs about 2^64 events).
    fn known_digests(
        &self,
    ) -> Result<std::collections::HashSet<u128, crate::projection::FastHash>> {
        let mut known = std::collections::HashSet::with_hasher(crate::projection::FastHash);
        self.scan_records(1, |rec| {
            known.insert(digest_key(&chain::body_digest(rec)));
            Ok(true)
        })?;
        Ok(known)
    }
}

/// A Merkle hash as the checkpoints write it: standard base64.
pub fn b64(d: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(d)
}

fn tree_error(e: tree::NodeError<LedgerError>) -> LedgerError {
    match e {
        tree::NodeError::Read(e) => e,
        damaged @ tree::NodeError::Damaged { .. } => LedgerError::Corrupt {
            seq: 0,
            error: FormatError::Payload(damaged.to_string()),
        },
    }
}

fn proof_error(e: merkle::ProofError<tree::NodeError<LedgerError>>) -> LedgerError {
    match e {
        merkle::ProofError::Source(e) => tree_error(e),
        other => LedgerError::Rejected {
            index: None,
            error: InputError::new("", other.to_string()),
        },
    }
}

/// The part of a payload digest that [`Ledger::known_digests`] keeps.
fn digest_key(d: &Hash) -> u128 {
    u128::from_le_bytes(d.0[..16].try_into().expect("16 bytes"))
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Statement => "statement",
        Kind::Correction => "correction",
        Kind::Retraction => "retraction",
        Kind::Reference => "actor or alias event",
        Kind::Redacted => "redacted event",
    }
}

fn too_large(e: FormatError) -> InputError {
    InputError::new("", format!("event too large: {e}"))
}

fn actor_error(e: &ActorError, field: &str) -> InputError {
    InputError::new(field, e.to_string())
}

/// A stored block opened: its records, their chain hashes (`None` when a
/// record does not parse; the verifier then reports it), and the Merkle leaf
/// hashes of those.
type Opened<'a> = std::result::Result<
    (
        std::borrow::Cow<'a, [u8]>,
        Option<Vec<Hash>>,
        Vec<merkle::Digest>,
    ),
    FormatError,
>;

/// Opens (decompresses) blocks and computes the chain hashes of their records,
/// on two threads.
fn open_blocks(chunk: &[(Seq, Vec<u8>)], with_tree: bool) -> Vec<Opened<'_>> {
    let open = |stored| open_block_hashed(stored, with_tree);
    if chunk.len() < 4 {
        return chunk.iter().map(|(_, b)| open(b)).collect();
    }
    let mid = chunk.len() / 2;
    std::thread::scope(|s| {
        let other = s.spawn(|| {
            chunk[mid..]
                .iter()
                .map(|(_, b)| open(b))
                .collect::<Vec<_>>()
        });
        let mut first: Vec<_> = chunk[..mid].iter().map(|(_, b)| open(b)).collect();
        first.extend(other.join().expect("digest thread"));
        first
    })
}

/// Opens one stored block: its records, their chain hashes and, `with_tree`,
/// their Merkle leaf hashes.
fn open_block_hashed(stored: &[u8], with_tree: bool) -> Opened<'_> {
    let records = codec::open_block(stored)?;
    let digests: Option<Vec<Hash>> = codec::records(&records)
        .map(|r| r.ok().map(|r| chain::record_hash(&r)))
        .collect();
    let leaves = if with_tree {
        digests.iter().flatten().map(tree::leaf).collect()
    } else {
        Vec::new()
    };
    Ok((records, digests, leaves))
}

fn decode_recorded(rec: &codec::RawRecord<'_>) -> Result<Recorded> {
    let h = &rec.header;
    let digest = chain::body_digest(rec);
    let event = if h.is_redacted() {
        None
    } else {
        Some(
            codec::decode_event(rec.body)
                .map_err(|error| LedgerError::Corrupt { seq: h.seq, error })?,
        )
    };
    Ok(Recorded {
        seq: h.seq,
        recorded_at: h.recorded_at,
        prev: h.prev,
        hash: chain::link_hash(h, &digest),
        digest,
        event,
        payload_len: h.payload_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_event;

    fn statement(i: u64) -> Event {
        parse_event(&format!(
            r#"{{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"}},"quote":"statement {i} with enough words to look like a quote from a real report","source":{{"publisher":"AFP"}}}}"#
        ))
        .expect("parses")
    }

    #[test]
    fn blocks_past_the_head_are_ignored_then_discarded() {
        let mut l = Ledger::in_memory();
        l.append_batch((0..30).map(|i| Ok(statement(i))))
            .expect("batch");
        let head = l.head().expect("head");
        // An interrupted batch: a block staged past the head, never committed.
        let mut block = Vec::new();
        let payload = codec::encode_event(&statement(99)).expect("encode");
        let h = RecordHeader::v1(31, 0, head.hash, payload.len() as u32);
        codec::write_record(&h, &payload, &mut block);
        l.store
            .stage(&[(31, &codec::seal_block(&block))])
            .expect("stage");
        let r = l.verify(None).expect("verify");
        assert!(r.is_intact(), "{:?}", r.problem);
        assert_eq!((r.checked, r.staged), (30, 1));
        assert_eq!(l.iter(1, u64::MAX).expect("iter").count(), 30);
        assert!(matches!(l.get(31), Err(LedgerError::NoSuchSeq { .. })));
        let rec = l.append(statement(100)).expect("append");
        assert_eq!(rec.seq, 31);
        let r = l.verify(None).expect("verify");
        assert!(r.is_intact());
        assert_eq!((r.checked, r.staged), (31, 0));
    }

    #[test]
    fn a_failing_long_batch_leaves_nothing_behind() {
        let mut l = Ledger::in_memory();
        l.append(statement(0)).expect("append");
        let before = l.head().expect("head");
        let n = 20_000u64;
        let events = (0..n).map(|i| {
            if i == n - 1 {
                Err(InputError::new("party", "bad"))
            } else {
                Ok(statement(i))
            }
        });
        let err = l.append_batch(events).expect_err("the last event is bad");
        assert!(matches!(err, LedgerError::Rejected { index: Some(i), .. } if i == n as usize - 1));
        assert_eq!(l.head().expect("head"), before);
        let r = l.verify(None).expect("verify");
        assert_eq!((r.checked, r.staged), (1, 0), "staged blocks were removed");
    }

    #[test]
    fn corrections_and_retractions_may_point_into_their_own_batch() {
        let mut l = Ledger::in_memory();
        let retract = |of: u64| {
            parse_event(&format!(
                r#"{{"type":"retraction","of":{of},"reason":"wrong"}}"#
            ))
            .expect("parses")
        };
        let summary = l
            .append_batch([Ok(statement(1)), Ok(retract(1))])
            .expect("retraction of a statement of the same batch");
        assert_eq!(summary.head.size, 2);
        let err = l
            .append_batch([Ok(statement(2)), Ok(retract(2))])
            .expect_err("retracting a retraction");
        assert!(err.to_string().contains("seq 2 is a retraction"), "{err}");
        assert_eq!(l.head().expect("head").size, 2);
    }

    #[test]
    fn recorded_at_never_goes_back() {
        let mut l = Ledger::in_memory();
        l.set_clock(|| 2_000_000);
        let a = l.append(statement(1)).expect("append");
        l.set_clock(|| 1_000_000);
        let b = l.append(statement(2)).expect("append");
        assert_eq!(a.recorded_at, 2_000_000);
        assert_eq!(
            b.recorded_at, 2_000_000,
            "a clock that went back does not reorder transaction time"
        );
    }
}

#[cfg(test)]
mod snapshot_tests {
    use super::*;

    #[test]
    fn a_saved_snapshot_loads_back() {
        let mut l = Ledger::in_memory();
        let line = r#"{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"},"quote":"q","source":{"publisher":"p"}}"#;
        l.append_batch((0..50).map(|_| crate::json::parse_event(line)))
            .expect("batch");
        let snap = l.snapshot_now().expect("snapshot");
        let head = l.head().expect("head");
        let loaded = l
            .load_snapshot(&head)
            .expect("load")
            .expect("a valid snapshot");
        assert_eq!((loaded.seq, loaded.hash), (snap.seq, snap.hash));
    }
}
