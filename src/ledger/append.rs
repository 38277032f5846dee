//! Appending: events are checked, sealed into records, packed into blocks,
//! staged, and committed with the head and the derived data in one durable
//! step. A batch is all or nothing.

use super::actors::{ActorState, ACTORS_META, REWRITE_AFTER};
use super::check::{kind_of, too_large, Amended, Kind};
use super::digests::{BUCKET_PREFIX, RECENT_PREFIX};
use super::{Ledger, LedgerError, Result, BLOCK_TARGET};
use crate::chain::{self, Problem};
use crate::codec::{self, FormatError, RecordHeader};
use crate::event::{Event, Hash, Head, Recorded, Seq};
use crate::input::InputError;
use crate::store::StoreError;
use crate::tree;
use crate::vocab::Actors;
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;

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
    /// nothing the second time. Found through the digest index (each entry
    /// found checked against the event it names), not a scan of the chain:
    /// an entry missing from a damaged index lets an event be appended
    /// again, which `verify` reports. Wins over `refuse_known`.
    pub skip_known: bool,
    /// Refuse any event whose payload digest the ledger already holds
    /// ([`LedgerError::Duplicate`], naming the seq that holds it), as a single
    /// [`Ledger::append`] does. Found through the digest index, not a scan.
    pub refuse_known: bool,
}

/// What stops a batch from its source's side: an item that is not a valid
/// event, or input that could not be read. Either way nothing is appended.
#[derive(Debug, thiserror::Error)]
pub enum Abort {
    /// The item is not a valid event.
    #[error(transparent)]
    Invalid(#[from] InputError),
    /// The input could not be read.
    #[error("cannot read the input: {0}")]
    Unreadable(#[from] std::io::Error),
}

/// One event of a batch, with, for a rebuild, the record the original ledger
/// made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The event, boxed: a batch passes it from the parsing thread through
    /// its iterators, look-ahead and back to be freed, and an event is about
    /// 500 bytes (moved by value, copying it took 5% of an import's CPU).
    pub event: Box<Event>,
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

/// One item of a batch: an event, or a plain statement still in its line
/// (read by [`PlainLines`](crate::json::PlainLines)), which the batch checks
/// and encodes from its line's strings.
#[derive(Debug, Clone)]
pub enum Item {
    /// An event.
    Event(Incoming),
    /// A plain statement, still in its line.
    Plain(crate::json::PlainLine),
}

impl From<Incoming> for Item {
    fn from(incoming: Incoming) -> Self {
        Item::Event(incoming)
    }
}

/// How many full blocks the writer stages at a time.
const STAGE_BLOCKS: usize = 128;

/// Blocks handed from one thread of an import to the next at a time.
const HAND: usize = 8;

/// Seals events into records and packs the records into blocks. Pure: nothing
/// is written until the ledger hands the blocks to the store.
pub(super) struct Packer {
    head: Head,
    block: Vec<u8>,
    block_first: Seq,
    /// The chain hashes of the block's records, in order.
    hashes: Vec<Hash>,
    payload: Vec<u8>,
}

/// A block of records cut from the packer: its first seq, the records, and
/// their chain hashes (the Merkle tree's leaves).
pub(super) struct Cut {
    pub(super) first: Seq,
    pub(super) records: Vec<u8>,
    pub(super) hashes: Vec<Hash>,
}

impl Packer {
    pub(super) fn new(head: Head) -> Self {
        Packer {
            head,
            block: Vec::with_capacity(BLOCK_TARGET + 1024),
            block_first: head.size + 1,
            hashes: Vec::new(),
            payload: Vec::with_capacity(1024),
        }
    }

    /// Encodes `event` into the packer's payload buffer and returns its digest.
    pub(super) fn encode(&mut self, event: &Event) -> std::result::Result<Hash, FormatError> {
        self.payload.clear();
        codec::encode_event_into(event, &mut self.payload)?;
        Ok(chain::payload_digest(&self.payload))
    }

    /// Seals the payload last [`encode`](Self::encode)d, with its `digest`, as
    /// the next record, stamped `recorded_at` (or the previous record's time,
    /// if later). Returns a full block, when this record filled one.
    pub(super) fn push(&mut self, digest: &Hash, recorded_at: i64) -> Option<Cut> {
        let seq = self.head.size + 1;
        let recorded_at = recorded_at.max(self.head.recorded_at);
        let header = RecordHeader::for_payload(seq, recorded_at, self.head.hash, &self.payload);
        let hash = chain::link_hash(&header, digest);
        if self.block.is_empty() {
            self.block_first = seq;
        }
        codec::write_record(&header, &self.payload, &mut self.block);
        self.hashes.push(hash);
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
    pub(super) fn cut(&mut self) -> Option<Cut> {
        if self.block.is_empty() {
            return None;
        }
        let records = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK_TARGET + 1024));
        Some(Cut {
            first: self.block_first,
            records,
            hashes: std::mem::take(&mut self.hashes),
        })
    }
}

/// Statements of an import checked, encoded and digested ahead of their
/// turn, their digests made side by side (BLAKE3 over many inputs at once is
/// several times cheaper than one at a time). A statement's check reads only
/// the actors and the vocabulary, which the statements before it do not
/// change, so it may run ahead of them; whatever else comes (another kind of
/// event, a record being restored) ends the run and waits for its turn. A
/// statement's check that fails is reported at its turn, after the events
/// before it.
#[derive(Default)]
struct Ahead {
    /// The items, in order, each statement checked ahead with its digest.
    items: VecDeque<Taken>,
    /// The payloads of the statements checked ahead, one after another.
    payloads: Vec<u8>,
}

/// An item taken from a batch's source: its place in the batch; its event, or
/// `None` for a plain statement checked and encoded ahead on its line (which
/// needs none), or what stopped the batch; and for a statement checked ahead,
/// its digest and payload.
struct Taken {
    i: usize,
    item: std::result::Result<Option<Incoming>, Abort>,
    pre: Option<Checked>,
}

/// A statement checked ahead: its payload digest, and where the payload lies
/// in [`Ahead::payloads`].
struct Checked {
    digest: Hash,
    payload: std::ops::Range<usize>,
}

/// Statements checked ahead at most, as many as BLAKE3 hashes side by side.
const AHEAD: usize = 16;

impl Ahead {
    /// Takes the next items from `source`: up to [`AHEAD`] statements, checked
    /// and digested, and then, or else, one item of another kind, unchecked.
    /// A statement refused by its check is taken as refused, and ends them.
    fn fill(
        &mut self,
        source: &mut impl Iterator<Item = (usize, std::result::Result<Item, Abort>)>,
        ledger: &Ledger,
        actors: &mut Actors,
        next_seq: Seq,
        batch: (Seq, &HashMap<Seq, Kind>),
        now: i64,
    ) {
        self.payloads.clear();
        while self.items.len() < AHEAD {
            let Some((i, item)) = source.next() else {
                break;
            };
            let from = self.payloads.len();
            let mut incoming = match item {
                Ok(Item::Plain(line)) => {
                    // Checked and encoded from the line's strings (and the
                    // actors' ids): no event is made of it.
                    let checked = line.with_statement(|s| {
                        Ledger::check_statement(s, "", actors, false, now, |s| {
                            codec::encode_statement_into(s, &mut self.payloads)
                        })
                    });
                    match checked.and_then(|encoded| encoded.map_err(too_large)) {
                        Ok(_) => self.items.push_back(Taken {
                            i,
                            item: Ok(None),
                            pre: Some(Checked {
                                digest: Hash::ZERO,
                                payload: from..self.payloads.len(),
                            }),
                        }),
                        Err(error) => {
                            // Reported at its turn; nothing after it is reached.
                            self.items.push_back(Taken {
                                i,
                                item: Err(Abort::Invalid(error)),
                                pre: None,
                            });
                            break;
                        }
                    }
                    continue;
                }
                Ok(Item::Event(incoming))
                    if incoming.original.is_none()
                        && matches!(*incoming.event, Event::Statement(_)) =>
                {
                    incoming
                }
                other => {
                    // Checked at its turn, against what those before it leave.
                    let item = other.map(|item| match item {
                        Item::Event(incoming) => Some(incoming),
                        Item::Plain(_) => unreachable!("a plain statement is taken above"),
                    });
                    self.items.push_back(Taken { i, item, pre: None });
                    break;
                }
            };
            // A statement's check uses neither its seq nor the batch's
            // other events: the seq it would have if none before it is
            // left out stands in.
            let seq = next_seq + self.items.len() as u64;
            let checked = ledger
                .check(&mut incoming.event, actors, seq, batch, false, now)
                .and_then(|()| {
                    codec::encode_event_into(&incoming.event, &mut self.payloads).map_err(too_large)
                });
            match checked {
                Ok(_) => self.items.push_back(Taken {
                    i,
                    item: Ok(Some(incoming)),
                    pre: Some(Checked {
                        digest: Hash::ZERO,
                        payload: from..self.payloads.len(),
                    }),
                }),
                Err(error) => {
                    // Reported at its turn; nothing after it is reached.
                    self.items.push_back(Taken {
                        i,
                        item: Err(Abort::Invalid(error)),
                        pre: None,
                    });
                    break;
                }
            }
        }
        let inputs: Vec<&[u8]> = self
            .items
            .iter()
            .filter_map(|t| t.pre.as_ref().map(|c| &self.payloads[c.payload.clone()]))
            .collect();
        let mut made = vec![Hash::ZERO; inputs.len()];
        chain::payload_digests(&inputs, &mut made);
        for (c, d) in self
            .items
            .iter_mut()
            .filter_map(|t| t.pre.as_mut())
            .zip(made)
        {
            c.digest = d;
        }
    }
}

/// An actor, alias or role event as its check would store it: the actors it
/// names given by their ids, where the actors know them (a name they do not
/// know is left as it is, and the check refuses it). `None` when no name
/// changes, and for any other event.
fn canonical_reference(actors: &Actors, event: &Event) -> Option<Event> {
    let id = |name: &str| {
        actors
            .resolve(name)
            .ok()
            .filter(|id| *id != name)
            .map(str::to_string)
    };
    match event {
        Event::Actor(a) => {
            let parent = id(a.parent.as_deref()?)?;
            let mut a = a.clone();
            a.parent = Some(parent);
            Some(Event::Actor(a))
        }
        Event::Alias(a) => {
            let actor = id(&a.actor)?;
            let mut a = a.clone();
            a.actor = actor;
            Some(Event::Alias(a))
        }
        Event::Role(r) => {
            let (actor, of) = (id(&r.actor), id(&r.of));
            if actor.is_none() && of.is_none() {
                return None;
            }
            let mut r = r.clone();
            r.actor = actor.unwrap_or(r.actor);
            r.of = of.unwrap_or(r.of);
            Some(Event::Role(r))
        }
        _ => None,
    }
}

impl Ledger {
    /// Checks and appends one event; returns once it is durable. An event
    /// the ledger already holds (the same payload digest) is refused.
    ///
    /// # Errors
    /// [`LedgerError::Rejected`] naming the field; [`LedgerError::Duplicate`]
    /// naming the seq that holds the same event; store failures. Either way
    /// nothing is appended.
    pub fn append(&mut self, event: Event) -> Result<Recorded> {
        self.append_one(event, true)
    }

    /// [`append`](Self::append), also of an event the ledger already holds.
    ///
    /// # Errors
    /// [`LedgerError::Rejected`] naming the field; store failures. Either way
    /// nothing is appended.
    pub fn append_duplicate(&mut self, event: Event) -> Result<Recorded> {
        self.append_one(event, false)
    }

    fn append_one(&mut self, event: Event, refuse_known: bool) -> Result<Recorded> {
        let summary = self
            .import_batch(
                std::iter::once(Ok(Incoming {
                    event: Box::new(event),
                    original: None,
                })),
                BatchOptions {
                    refuse_known,
                    ..BatchOptions::default()
                },
            )
            .map_err(|e| match e {
                LedgerError::Rejected { error, .. } => LedgerError::Rejected { index: None, error },
                LedgerError::Duplicate { seq, .. } => LedgerError::Duplicate { index: None, seq },
                other => other,
            })?;
        let seq = summary.first.expect("one event appended");
        self.get(seq)
    }

    /// Checks and appends many events as one durable, all-or-nothing batch.
    /// Items that are `Err` (say, a line that did not parse) abort the batch.
    ///
    /// One thread checks, encodes, hashes and packs the events; a second
    /// compresses full blocks and a third stages them in the store (both
    /// started once there are full blocks). The last block, the head and
    /// derived data are then committed in one atomic, durable step.
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
                e.map_err(Abort::Invalid).map(|event| Incoming {
                    event: Box::new(event),
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
    pub fn import_batch<I: Into<Item>>(
        &mut self,
        events: impl IntoIterator<Item = std::result::Result<I, Abort>>,
        opts: BatchOptions,
    ) -> Result<BatchSummary> {
        self.import_batch_returning(events, opts, drop)
    }

    /// [`import_batch`](Self::import_batch), handing each event it was given
    /// to `done` once it is packed (or skipped as held), instead of dropping
    /// it: events made on another thread can be freed there, where they were
    /// allocated.
    ///
    /// # Errors
    /// As [`import_batch`](Self::import_batch).
    pub fn import_batch_returning<I: Into<Item>>(
        &mut self,
        events: impl IntoIterator<Item = std::result::Result<I, Abort>>,
        opts: BatchOptions,
        done: impl FnMut(Box<Event>),
    ) -> Result<BatchSummary> {
        // The actors are taken for the batch to grow, not copied (a copy took
        // 0.2 ms of an `append`), and put back once it is committed, or
        // however it ended when no event of it changed them.
        let mut state = self.take_actor_state()?;
        let mut changed = false;
        let events = events.into_iter().map(|e| e.map(Into::into));
        let result = self.import_with(&mut state, &mut changed, events, opts, done);
        if matches!(&result, Ok(s) if s.appended > 0) || !changed {
            self.actors = state.into();
        }
        result
    }

    /// [`import_batch_returning`](Self::import_batch_returning) with the
    /// actors taken out of the ledger; `changed` is set once an event of the
    /// batch may have changed them.
    fn import_with(
        &mut self,
        state: &mut ActorState,
        changed: &mut bool,
        events: impl IntoIterator<Item = std::result::Result<Item, Abort>>,
        opts: BatchOptions,
        mut done: impl FnMut(Box<Event>),
    ) -> Result<BatchSummary> {
        let ActorState {
            actors,
            index,
            covered,
        } = state;
        let start = self.store.head()?;
        self.discard_interrupted(&start)?;
        self.check_tail(&start)?;
        let mut digests = self.digest_index(&start)?;
        let tree = if self.keep_tree {
            self.load_tree()?;
            self.tree.growing()
        } else {
            None
        };
        let actors_before = index.len();
        let now = (self.clock)();
        let this = &*self;
        let mut tree = tree;
        let (result, written) = std::thread::scope(|scope| {
            let store = this.store.as_ref();
            // The threads that seal and stage full blocks, started once
            // `HAND` of them are cut, or at the end for fewer: a batch that
            // fills none (an `append`) seals its one block here, and starting
            // them took a tenth of its time.
            let start_pipeline = |mut tree: Option<tree::Growing>| {
                // Room for the blocks packed while the writer stages a group
                // (a durable commit in redb, its time mostly the disk's): with
                // room for half a group, packing waited on it, 4% of an import.
                // Blocks go from thread to thread a handful at a time: one at a
                // time, waking the next thread took a context switch a block.
                let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Cut>>(2 * STAGE_BLOCKS / HAND);
                let (sealed_tx, sealed_rx) =
                    std::sync::mpsc::sync_channel::<Vec<(Seq, Vec<u8>)>>(STAGE_BLOCKS / HAND);
                // Blocks are sealed (compressed) on a thread of their own, apart
                // from the one that stages them: while a group's durable commit
                // waits on the disk, sealing goes on. The sealing thread also
                // grows the Merkle tree by the records of each block, in order;
                // the last block's are added once it is joined.
                let sealer = scope.spawn(move || -> Option<tree::Growing> {
                    for cuts in rx {
                        let mut sealed = Vec::with_capacity(cuts.len());
                        for cut in cuts {
                            if let Some(t) = &mut tree {
                                cut.hashes.iter().for_each(|h| t.push(h));
                            }
                            sealed.push((cut.first, codec::seal_block(&cut.records)));
                        }
                        if sealed_tx.send(sealed).is_err() {
                            break; // the stager failed; its error is reported below
                        }
                    }
                    tree
                });
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
                    for blocks in sealed_rx {
                        pending.extend(blocks);
                        staged = true;
                        // A group staged is a durable transaction in redb:
                        // 128 blocks (about 1,800 events) cost least at 1M
                        // (32: 15% more time; 512: 18% more).
                        if pending.len() >= STAGE_BLOCKS {
                            flush(&mut pending)?;
                        }
                    }
                    if !pending.is_empty() {
                        flush(&mut pending)?;
                    }
                    Ok(staged)
                });
                (tx, sealer, writer)
            };
            let mut pipeline = None;
            let mut batch_kinds: HashMap<Seq, Kind> = HashMap::default();
            let mut amended = Amended::default();
            let mut packer = Packer::new(start);
            let mut n: u64 = 0;
            let mut skipped: u64 = 0;
            let mut skipped_at: Vec<usize> = Vec::new();
            let mut cuts: Vec<Cut> = Vec::with_capacity(HAND);
            let result = (|| -> Result<Packer> {
                let mut source = events.into_iter().enumerate();
                let mut ahead = Ahead::default();
                loop {
                    if ahead.items.is_empty() {
                        ahead.fill(
                            &mut source,
                            this,
                            actors,
                            packer.head.size + 1,
                            (start.size, &batch_kinds),
                            now,
                        );
                    }
                    let Some(Taken { i, item, pre }) = ahead.items.pop_front() else {
                        break;
                    };
                    let reject = |error| LedgerError::Rejected {
                        index: Some(i),
                        error,
                    };
                    // `None` for a plain statement checked ahead on its line.
                    let (mut event, original) = match item.map_err(|e| match e {
                        Abort::Invalid(error) => reject(error),
                        Abort::Unreadable(error) => LedgerError::Unreadable { index: i, error },
                    })? {
                        Some(Incoming { event, original }) => (Some(event), original),
                        None => (None, None),
                    };
                    // An event is handed back once used.
                    let mut done = |event: Option<Box<Event>>| event.map(&mut done);
                    let mut skip = || {
                        skipped += 1;
                        if skipped_at.len() < MAX_SKIPPED_LISTED {
                            skipped_at.push(i);
                        }
                    };
                    // Actor, alias and role events, and retractions, change
                    // the actors as they are checked: one the ledger holds is
                    // found before its check, as the check would store it (a
                    // retraction names no actor: as it is given), or its check
                    // would add it to the actors, at the seq of the next event,
                    // before it is left out, or refuse it (an actor defined, or
                    // an event retired, twice). Statements and corrections are
                    // compared once checked.
                    let reference = matches!(
                        event.as_deref(),
                        Some(
                            Event::Actor(_)
                                | Event::Alias(_)
                                | Event::Role(_)
                                | Event::Retraction(_)
                        )
                    );
                    let mut looked_up = None;
                    if let (true, Some(e)) = (opts.skip_known && reference, &event) {
                        let canonical = canonical_reference(actors, e);
                        let digest = packer
                            .encode(canonical.as_ref().unwrap_or(e))
                            .map_err(|e| reject(too_large(e)))?;
                        if digests.find(this, &digest)?.is_some() {
                            skip();
                            done(event);
                            continue;
                        }
                        looked_up = Some(digest);
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
                    let digest = match pre {
                        Some(Checked { digest, payload }) => {
                            packer.payload.clear();
                            packer.payload.extend_from_slice(&ahead.payloads[payload]);
                            digest
                        }
                        None => {
                            let event = event
                                .as_mut()
                                .expect("an item not checked ahead is an event");
                            // Statements and corrections only read the actors.
                            *changed |=
                                !matches!(**event, Event::Statement(_) | Event::Correction(_));
                            this.check(
                                event,
                                actors,
                                seq,
                                (start.size, &batch_kinds),
                                original.is_some(),
                                now,
                            )
                            .map_err(reject)?;
                            match looked_up {
                                // Encoded for the lookup as the check stores
                                // it (found held after, it would have changed
                                // the actors before being left out): the
                                // packer holds its payload.
                                Some(digest) => {
                                    debug_assert_eq!(
                                        Some(digest),
                                        codec::encode_event(event)
                                            .ok()
                                            .map(|p| chain::payload_digest(&p))
                                    );
                                    digest
                                }
                                None => packer.encode(event).map_err(|e| reject(too_large(e)))?,
                            }
                        }
                    };
                    // (One looked up before its check was not found then.)
                    if (opts.skip_known || opts.refuse_known) && looked_up.is_none() {
                        if let Some(held) = digests.find(this, &digest)? {
                            if opts.skip_known {
                                skip();
                                done(event);
                                continue;
                            }
                            return Err(LedgerError::Duplicate {
                                index: Some(i),
                                seq: held,
                            });
                        }
                    }
                    digests.add_fresh(this, &digest, seq)?;
                    // A record restored from an export was valid when it was made.
                    if let (None, Some(event)) = (&original, &event) {
                        this.check_amendment(event, seq, &mut amended)
                            .map_err(reject)?;
                    }
                    // Events of this batch that are not in the map are statements:
                    // the map stays as small as the number of other events.
                    match event.as_deref() {
                        None | Some(Event::Statement(_)) => {}
                        Some(e @ (Event::Correction(_) | Event::Retraction(_))) => {
                            batch_kinds.insert(seq, kind_of(e));
                            // A retraction that retires an actor, alias or
                            // role belongs to the registry too.
                            if let Event::Retraction(r) = e {
                                if actors.holds_event(r.of) {
                                    index.push((seq, packer.payload.clone()));
                                }
                            }
                        }
                        Some(Event::Actor(_) | Event::Alias(_) | Event::Role(_)) => {
                            batch_kinds.insert(seq, Kind::Reference);
                            index.push((seq, packer.payload.clone()));
                        }
                    }
                    done(event);
                    let full = packer.push(&digest, original.map_or(now, |o| o.recorded_at));
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
                        cuts.push(block);
                        if cuts.len() == HAND {
                            let full = std::mem::replace(&mut cuts, Vec::with_capacity(HAND));
                            let (tx, _, _) =
                                pipeline.get_or_insert_with(|| start_pipeline(tree.take()));
                            if tx.send(full).is_err() {
                                break; // the writer failed; its error is reported below
                            }
                        }
                    }
                }
                Ok(packer)
            })();
            if result.is_ok() && !cuts.is_empty() {
                let (tx, _, _) = pipeline.get_or_insert_with(|| start_pipeline(tree.take()));
                // A failed writer's error is reported below.
                drop(tx.send(cuts));
            }
            let written = match pipeline {
                Some((tx, sealer, writer)) => {
                    drop(tx);
                    let tree = sealer.join().expect("block sealing thread");
                    let written = writer.join().expect("block writer thread");
                    written.map(|staged| (staged, tree))
                }
                None => Ok((false, tree)),
            };
            (result.map(|p| (p, n, skipped, skipped_at)), written)
        });
        // What stopped the batch is what is reported: a discard that fails
        // too (redb refuses every write once one has failed, as on a full
        // disk) leaves its blocks staged, never acknowledged, for the next
        // batch to discard.
        let (staged, mut tree) = match (result.is_ok(), written) {
            (_, Err(e)) => {
                let _ = self.store.discard_staged(start.size);
                return Err(e.into());
            }
            (ok, Ok((staged, tree))) => {
                if !ok && staged {
                    let discarded = self.store.discard_staged(start.size);
                    if result.is_ok() {
                        discarded?;
                    }
                }
                (staged, tree)
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
        let last = packer.cut().map(|cut| {
            if let Some(t) = &mut tree {
                cut.hashes.iter().for_each(|h| t.push(h));
            }
            (cut.first, codec::seal_block(&cut.records))
        });
        let blocks: Vec<(Seq, &[u8])> = last.iter().map(|(k, b)| (*k, b.as_slice())).collect();
        let head = packer.head;
        // The actor index, bound to the new head, when it changed or the
        // records it does not cover grew long (without a cache key, none).
        let index_bytes =
            (index.len() != actors_before || *covered == 0 || head.size - *covered > REWRITE_AFTER)
                .then(|| self.seal_actor_index(index, &head))
                .flatten();
        let mut meta: Vec<(&str, &[u8])> = Vec::new();
        if let Some(bytes) = &index_bytes {
            meta.push((ACTORS_META, bytes));
        }
        let mut stored = digests.stored(self, &head)?;
        meta.extend(stored.meta.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
        if stored.forget_buckets && start.size > 0 {
            // Buckets of an index not bound to this chain: made again below.
            self.store.forget_meta(BUCKET_PREFIX)?;
        }
        if stored.forget_recent_before && start.size > 0 {
            // Recent buckets no header binds: written again below.
            self.store.forget_meta(RECENT_PREFIX)?;
        }
        let tree_changes = tree.as_mut().map(tree::Growing::take_changes);
        meta.extend(
            tree_changes
                .iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_slice())),
        );
        // The buckets, made one at a time as the commit takes them; a
        // failure to make one abandons the commit, and is what is reported.
        // A store that would hold them all until it writes them (sled) is
        // given them ahead, a slice at a time, once they come to more than
        // a slice: their headers unbound first, bound again by the commit.
        let this = &*self;
        let mut ahead = digests
            .write_ahead(this, stored.writing.as_mut())?
            .into_iter()
            .map(Ok);
        let mut failed = None;
        let mut buckets = std::iter::from_fn(|| {
            if let Some(bucket) = ahead.next() {
                return Some(bucket);
            }
            let made = digests.next_stored(this, stored.writing.as_mut()?);
            match made.transpose()? {
                Ok(bucket) => Some(Ok(bucket)),
                Err(LedgerError::Store(e)) => Some(Err(e)),
                Err(e) => {
                    let abandoned = StoreError::Io {
                        context: "cannot write the digest index".into(),
                        source: std::io::Error::other(e.to_string()),
                    };
                    failed = Some(e);
                    Some(Err(abandoned))
                }
            }
        });
        let committed = self
            .store
            .commit(&head, &blocks, &meta, &mut buckets, staged);
        if let Some(e) = failed {
            return Err(e);
        }
        committed?;
        self.tree.set(tree);
        if index_bytes.is_some() {
            *covered = head.size;
        }
        if stored.forget_recent_after {
            // Merged into the buckets, and bound by no header since the
            // commit: what a failure here leaves is removed before the next
            // recent buckets are written. The batch is in either way.
            let _ = self.store.forget_meta(RECENT_PREFIX);
        }
        if let Some(bits) = stored.forget_buckets_past {
            // Fewer buckets written than were stored: those past them are
            // read by nothing, and what a failure here leaves is only space.
            let _ = super::digests::forget_buckets_past(self, bits);
        }
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

    /// Checks what the next record links to: the block that holds the head
    /// must end at it, with the head's hash, its records must follow each
    /// other, and the block before it must end where it starts, linking to
    /// it. Two block reads; damage further back is `verify`'s to find.
    fn check_tail(&self, head: &Head) -> Result<()> {
        if head.size == 0 {
            return Ok(());
        }
        let missing = |seq, detail| LedgerError::Missing { seq, detail };
        let Some((key, stored)) = self.store.block_holding(head.size)? else {
            return Err(missing(head.size, "no block holds the head"));
        };
        let records = super::read::open(key, stored)?;
        let mut last: Option<(Seq, Hash)> = None;
        let mut first_prev = None;
        for rec in codec::records(&records) {
            let rec = rec.map_err(|error| LedgerError::Corrupt { seq: key, error })?;
            let h = &rec.header;
            if h.seq > head.size {
                return Err(LedgerError::Tampered(Problem::BeyondHead {
                    seq: h.seq,
                    head_size: head.size,
                }));
            }
            let expected = last.map_or(key, |(seq, _)| seq + 1);
            if h.seq != expected {
                return Err(missing(
                    expected,
                    "not where the block before the head says",
                ));
            }
            if let Some((seq, hash)) = last {
                if h.prev != hash {
                    return Err(LedgerError::Tampered(Problem::HashMismatch {
                        seq,
                        computed: hash,
                        recorded: h.prev,
                        recorded_in: format!("seq {}", h.seq),
                    }));
                }
            }
            first_prev.get_or_insert(h.prev);
            last = Some((h.seq, chain::record_hash(&rec)));
        }
        match last {
            Some((seq, hash)) if seq == head.size && hash == head.hash => {}
            Some((seq, hash)) if seq == head.size => {
                return Err(LedgerError::Tampered(Problem::HashMismatch {
                    seq,
                    computed: hash,
                    recorded: head.hash,
                    recorded_in: "the stored head".into(),
                }))
            }
            _ => {
                return Err(missing(
                    head.size,
                    "the block that should end at the head does not",
                ))
            }
        }
        if key > 1 {
            let Some((before, stored)) = self.store.block_holding(key - 1)? else {
                return Err(missing(key - 1, "no block holds it"));
            };
            let records = super::read::open(before, stored)?;
            let mut tail = None;
            for rec in codec::records(&records) {
                let rec = rec.map_err(|error| LedgerError::Corrupt { seq: before, error })?;
                tail = Some((rec.header.seq, chain::record_hash(&rec)));
            }
            match tail {
                Some((seq, hash)) if seq == key - 1 => {
                    if first_prev != Some(hash) {
                        return Err(LedgerError::Tampered(Problem::HashMismatch {
                            seq,
                            computed: hash,
                            recorded: first_prev.unwrap_or(Hash::ZERO),
                            recorded_in: format!("seq {key}"),
                        }));
                    }
                }
                _ => {
                    return Err(missing(
                        key - 1,
                        "no block ends where the head's block starts",
                    ))
                }
            }
        }
        Ok(())
    }
}
