//! Hashing and linking: pure functions over bytes, no I/O.
//!
//! Every record's chain hash is
//! `BLAKE3-derive_key(LINK_CONTEXT, link_input(header, digest))`, where
//! `digest = BLAKE3-derive_key(PAYLOAD_CONTEXT, payload)` is taken over the exact
//! stored payload bytes. The two context strings separate the two uses of the
//! hash function from each other and from every other protocol.

use crate::codec::{self, FormatError, RawRecord, RecordHeader};
use crate::event::{Hash, Head, Seq};
use std::sync::LazyLock;

/// BLAKE3 `derive_key` context of payload digests.
pub const PAYLOAD_CONTEXT: &str = "demarche 2026-11-29 event payload v1";
/// BLAKE3 `derive_key` context of chain hashes.
pub const LINK_CONTEXT: &str = "demarche 2026-11-29 chain link v1";

static PAYLOAD_KEY: LazyLock<blake3::hazmat::ContextKey> =
    LazyLock::new(|| blake3::hazmat::hash_derive_key_context(PAYLOAD_CONTEXT));
static LINK_KEY: LazyLock<blake3::hazmat::ContextKey> =
    LazyLock::new(|| blake3::hazmat::hash_derive_key_context(LINK_CONTEXT));

/// Digest of a payload: the content identity of an event.
pub fn payload_digest(payload: &[u8]) -> Hash {
    crate::lanes::derive(&PAYLOAD_KEY, payload)
}

/// [`payload_digest`] of each of `payloads`, into `out`, side by side.
pub fn payload_digests(payloads: &[&[u8]], out: &mut [Hash]) {
    crate::lanes::derive_many(&PAYLOAD_KEY, payloads, out);
}

/// BLAKE3 `derive_key` context of snapshot checksums.
pub const SNAPSHOT_CONTEXT: &str = "demarche 2026-11-29 projection snapshot v1";

/// Checksum of a stored snapshot: catches damage, not forgery.
pub fn snapshot_digest(bytes: &[u8]) -> Hash {
    Hash(blake3::derive_key(SNAPSHOT_CONTEXT, bytes))
}

/// The digest a stored record stands for: computed from its payload, or read
/// from the record when the payload was redacted.
pub fn body_digest(rec: &RawRecord<'_>) -> Hash {
    if rec.header.is_redacted() {
        Hash(rec.body.try_into().expect("redacted body is 32 bytes"))
    } else {
        payload_digest(rec.body)
    }
}

/// Chain hash of a stored record, from its own bytes.
pub fn record_hash(rec: &RawRecord<'_>) -> Hash {
    link_hash(&rec.header, &body_digest(rec))
}

/// Chain hash of a record from its header and payload digest.
pub fn link_hash(header: &RecordHeader, digest: &Hash) -> Hash {
    crate::lanes::derive(&LINK_KEY, &codec::link_input(header, digest))
}

/// The body digest and chain hash of each record, as [`body_digest`] and
/// [`link_hash`] give them one at a time, hashed side by side
/// ([`crate::lanes`]): `digests` and `hashes` are cleared and filled in
/// the records' order.
pub fn record_hashes(recs: &[RawRecord<'_>], digests: &mut Vec<Hash>, hashes: &mut Vec<Hash>) {
    digests.clear();
    digests.resize(recs.len(), Hash::ZERO);
    hashes.clear();
    hashes.resize(recs.len(), Hash::ZERO);
    let bodies: Vec<&[u8]> = recs
        .iter()
        .map(|r| match r.header.is_redacted() {
            true => &[][..],
            false => r.body,
        })
        .collect();
    crate::lanes::derive_many(&PAYLOAD_KEY, &bodies, digests);
    for (r, d) in recs.iter().zip(digests.iter_mut()) {
        if r.header.is_redacted() {
            *d = body_digest(r);
        }
    }
    let links: Vec<[u8; 87]> = recs
        .iter()
        .zip(digests.iter())
        .map(|(r, d)| codec::link_input(&r.header, d))
        .collect();
    let links: Vec<&[u8]> = links.iter().map(|l| &l[..]).collect();
    crate::lanes::derive_many(&LINK_KEY, &links, hashes);
}

/// Why a chain does not verify. Each names the first seq found bad.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The stored bytes of `seq` do not hash to the hash the chain records for it
    /// (in the next event's previous-hash field, or in the stored head).
    #[error("seq {seq}: stored bytes hash to {computed} but {recorded_in} records {recorded}")]
    HashMismatch {
        /// The event whose bytes changed (or whose successor's link changed).
        seq: Seq,
        /// What its bytes hash to now.
        computed: Hash,
        /// What the chain says it hashed to.
        recorded: Hash,
        /// Where that was recorded (`seq N` or `the stored head`).
        recorded_in: String,
    },
    /// The first event does not link to the zero hash.
    #[error("seq 1: previous hash is {found}, not zero")]
    BadGenesis {
        /// What it links to.
        found: Hash,
    },
    /// An event is missing or out of place: the chain expected `expected` here.
    #[error("seq {expected}: missing; found seq {found} in its place")]
    OutOfPlace {
        /// The seq that should come next.
        expected: Seq,
        /// The seq found instead.
        found: Seq,
    },
    /// A block is stored under a key that does not match its first event.
    #[error("seq {seq}: stored under key {key}")]
    KeyMismatch {
        /// First seq inside the block.
        seq: Seq,
        /// The key it is stored under.
        key: Seq,
    },
    /// Bytes that are not a well-formed record.
    #[error("seq {seq}: malformed record: {error}")]
    Malformed {
        /// The seq expected at that place.
        seq: Seq,
        /// What is wrong.
        error: FormatError,
    },
    /// Transaction time went backwards.
    #[error("seq {seq}: recorded_at goes back in time")]
    TimeReversed {
        /// The event.
        seq: Seq,
    },
    /// The store holds fewer events than its head says.
    #[error("seq {seq}: missing; the stored head says the ledger holds {head_size} events")]
    Truncated {
        /// The first missing seq.
        seq: Seq,
        /// Events the head claims.
        head_size: u64,
    },
    /// A committed block holds an event past the stored head.
    #[error("seq {seq}: stored past the head, which says the ledger holds {head_size} events")]
    BeyondHead {
        /// The first event past the head.
        seq: Seq,
        /// Events the head claims.
        head_size: u64,
    },
    /// The stored head's time is not the last event's.
    #[error("seq {seq}: the stored head says it was recorded at {head_micros} µs, the event says {event_micros} µs")]
    HeadTime {
        /// The last event.
        seq: Seq,
        /// What the head says.
        head_micros: i64,
        /// What the event says.
        event_micros: i64,
    },
    /// A block with no records in it.
    #[error("seq {seq}: an empty block is stored under key {key}")]
    EmptyBlock {
        /// The seq expected next.
        seq: Seq,
        /// Its key.
        key: Seq,
    },
    /// A record's payload is withheld, and no redaction event records why.
    #[error("seq {seq}: payload withheld (flagged as redacted) but no redaction was recorded")]
    UnrecordedRedaction {
        /// The event.
        seq: Seq,
    },
    /// Data under a key the format does not know, among the blocks.
    #[error("unexpected data in the store: {what}")]
    StrayData {
        /// What was found.
        what: String,
    },
    /// The stored Merkle tree (derived data) is not the tree of the chain.
    #[error("the stored Merkle tree does not match the chain: its root is {stored}, the chain's is {computed}")]
    TreeMismatch {
        /// Records in the chain.
        size: u64,
        /// Root the store holds (base64).
        stored: String,
        /// Root computed from the chain (base64).
        computed: String,
    },
    /// The stored actor index (derived data) is not the one the chain makes.
    #[error("the stored actor index does not match the chain: {detail}")]
    ActorIndexMismatch {
        /// The first seq where they differ.
        seq: Seq,
        /// How they differ.
        detail: String,
    },
    /// The stored digest index (derived data) is not the one the chain makes.
    #[error("the stored digest index does not match the chain: {detail}")]
    DigestIndexMismatch {
        /// The first seq where they differ (0 when none can be named).
        seq: Seq,
        /// How they differ.
        detail: String,
    },
    /// The positions snapshot a query would start from (derived data) is not
    /// what the chain makes up to its seq.
    #[error("the positions snapshot does not match the chain: {detail}")]
    SnapshotMismatch {
        /// The first seq where they differ.
        seq: Seq,
        /// How they differ.
        detail: String,
    },
    /// The ledger does not match a head saved earlier.
    #[error("seq {seq}: ledger differs from the expected head {expected_size}:{expected_hash} (it has {actual_size} events, head {actual_hash})")]
    ExpectedHead {
        /// The first seq that differs (or is missing).
        seq: Seq,
        /// Size of the expected head.
        expected_size: u64,
        /// Hash of the expected head.
        expected_hash: Hash,
        /// Size of the ledger.
        actual_size: u64,
        /// Hash at the expected size, or the head hash when the ledger is shorter.
        actual_hash: Hash,
    },
}

impl Problem {
    /// The first seq this problem makes untrustworthy.
    pub fn seq(&self) -> Seq {
        match self {
            Problem::HashMismatch { seq, .. }
            | Problem::OutOfPlace { expected: seq, .. }
            | Problem::KeyMismatch { seq, .. }
            | Problem::Malformed { seq, .. }
            | Problem::TimeReversed { seq }
            | Problem::Truncated { seq, .. }
            | Problem::BeyondHead { seq, .. }
            | Problem::HeadTime { seq, .. }
            | Problem::EmptyBlock { seq, .. }
            | Problem::UnrecordedRedaction { seq }
            | Problem::ExpectedHead { seq, .. } => *seq,
            Problem::BadGenesis { .. } => 1,
            Problem::StrayData { .. } => 0,
            Problem::TreeMismatch { size, .. } => *size,
            Problem::ActorIndexMismatch { seq, .. } => *seq,
            Problem::DigestIndexMismatch { seq, .. } => *seq,
            Problem::SnapshotMismatch { seq, .. } => *seq,
        }
    }

    /// A short machine-readable kind: `hash-mismatch`, `out-of-place`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Problem::HashMismatch { .. } => "hash-mismatch",
            Problem::BadGenesis { .. } => "bad-genesis",
            Problem::OutOfPlace { .. } => "out-of-place",
            Problem::KeyMismatch { .. } => "key-mismatch",
            Problem::Malformed { .. } => "malformed",
            Problem::TimeReversed { .. } => "time-reversed",
            Problem::Truncated { .. } => "truncated",
            Problem::BeyondHead { .. } => "beyond-head",
            Problem::HeadTime { .. } => "head-time",
            Problem::EmptyBlock { .. } => "empty-block",
            Problem::UnrecordedRedaction { .. } => "unrecorded-redaction",
            Problem::StrayData { .. } => "stray-data",
            Problem::TreeMismatch { .. } => "tree-mismatch",
            Problem::ActorIndexMismatch { .. } => "actor-index-mismatch",
            Problem::DigestIndexMismatch { .. } => "digest-index-mismatch",
            Problem::SnapshotMismatch { .. } => "snapshot-mismatch",
            Problem::ExpectedHead { .. } => "expected-head",
        }
    }
}

/// Checks a chain record by record: a pure state machine fed with the records in
/// store order. It re-hashes what it is given and trusts nothing else.
#[derive(Debug, Clone)]
pub struct Verifier {
    next_seq: Seq,
    prev: Hash,
    prev_recorded_at: i64,
    expect: Option<(u64, Hash)>,
    expected_hash_seen: bool,
    stored: Option<Head>,
    /// Seqs whose payload is redacted.
    pub redacted: Vec<Seq>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier for a chain starting at seq 1.
    pub fn new() -> Self {
        Verifier {
            next_seq: 1,
            prev: Hash::ZERO,
            prev_recorded_at: i64::MIN,
            expect: None,
            expected_hash_seen: false,
            stored: None,
            redacted: Vec::new(),
        }
    }

    /// A verifier that takes the chain up after a record already checked:
    /// `next_seq` comes next, after a record of chain hash `prev` recorded at
    /// `prev_recorded_at` (microseconds).
    pub fn resume(next_seq: Seq, prev: Hash, prev_recorded_at: i64) -> Self {
        Verifier {
            next_seq,
            prev,
            prev_recorded_at,
            ..Verifier::new()
        }
    }

    /// Also check that the chain passes through a head saved earlier.
    pub fn expecting(mut self, size: u64, hash: Hash) -> Self {
        self.expect = Some((size, hash));
        self
    }

    /// Check each record against the head the store records as it is fed: an
    /// event past it, or a last event that does not match it, is a problem even
    /// when more records follow.
    pub fn against_stored(mut self, head: Head) -> Self {
        self.stored = Some(head);
        self
    }

    /// Number of events checked so far.
    pub fn checked(&self) -> u64 {
        self.next_seq - 1
    }

    /// Hash of the last event checked.
    pub fn last_hash(&self) -> Hash {
        self.prev
    }

    /// Feeds one block stored under `key`. `hashes`, when given, are the chain
    /// hashes of the block's records in order, computed from the same bytes
    /// elsewhere (in parallel: a record's hash depends only on its own bytes).
    ///
    /// # Errors
    /// The first [`Problem`] found.
    pub fn feed_block(
        &mut self,
        key: Seq,
        block: &[u8],
        hashes: Option<&[Hash]>,
    ) -> Result<(), Problem> {
        if block.is_empty() {
            return Err(Problem::EmptyBlock {
                seq: self.next_seq,
                key,
            });
        }
        for (i, rec) in codec::records(block).enumerate() {
            let rec = rec.map_err(|error| Problem::Malformed {
                seq: self.next_seq,
                error,
            })?;
            let hash = match hashes {
                Some(h) => h[i],
                None => record_hash(&rec),
            };
            self.feed_hashed(&rec, hash)?;
            if i == 0 && rec.header.seq != key {
                return Err(Problem::KeyMismatch {
                    seq: rec.header.seq,
                    key,
                });
            }
        }
        Ok(())
    }

    /// Feeds one record with its payload digest.
    ///
    /// # Errors
    /// The first [`Problem`] found.
    pub fn feed(&mut self, rec: &RawRecord<'_>, digest: &Hash) -> Result<(), Problem> {
        self.feed_hashed(rec, link_hash(&rec.header, digest))
    }

    /// Feeds one record with its chain hash, computed from its stored bytes.
    ///
    /// # Errors
    /// The first [`Problem`] found.
    pub fn feed_hashed(&mut self, rec: &RawRecord<'_>, hash: Hash) -> Result<(), Problem> {
        self.feed_header(&rec.header, hash)
    }

    /// [`Verifier::feed_block`] of a block whose records were read elsewhere
    /// (in parallel): the header and chain hash of each record that parses,
    /// in order, and what stopped the read, if a record did not parse.
    /// `empty`: the block held no bytes of records.
    ///
    /// # Errors
    /// The first [`Problem`] found.
    pub fn feed_read_block(
        &mut self,
        key: Seq,
        empty: bool,
        heads: &[(RecordHeader, Hash)],
        malformed: Option<FormatError>,
    ) -> Result<(), Problem> {
        if empty {
            return Err(Problem::EmptyBlock {
                seq: self.next_seq,
                key,
            });
        }
        for (i, (header, hash)) in heads.iter().enumerate() {
            self.feed_header(header, *hash)?;
            if i == 0 && header.seq != key {
                return Err(Problem::KeyMismatch {
                    seq: header.seq,
                    key,
                });
            }
        }
        match malformed {
            Some(error) => Err(Problem::Malformed {
                seq: self.next_seq,
                error,
            }),
            None => Ok(()),
        }
    }

    fn feed_header(&mut self, h: &RecordHeader, hash: Hash) -> Result<(), Problem> {
        if let Some(stored) = self.stored {
            if h.seq > stored.size && h.seq == self.next_seq {
                return Err(Problem::BeyondHead {
                    seq: h.seq,
                    head_size: stored.size,
                });
            }
        }
        if h.seq != self.next_seq {
            return Err(Problem::OutOfPlace {
                expected: self.next_seq,
                found: h.seq,
            });
        }
        if h.prev != self.prev {
            return Err(if h.seq == 1 {
                Problem::BadGenesis { found: h.prev }
            } else {
                Problem::HashMismatch {
                    seq: h.seq - 1,
                    computed: self.prev,
                    recorded: h.prev,
                    recorded_in: format!("seq {}", h.seq),
                }
            });
        }
        if h.recorded_at < self.prev_recorded_at {
            return Err(Problem::TimeReversed { seq: h.seq });
        }
        if h.is_redacted() {
            self.redacted.push(h.seq);
        }
        self.prev = hash;
        self.prev_recorded_at = h.recorded_at;
        if let Some(stored) = self.stored {
            if h.seq == stored.size {
                self.check_head(&stored)?;
            }
        }
        if let Some((size, hash)) = self.expect {
            if size == h.seq {
                if hash != self.prev {
                    return Err(self.expected_head_problem(h.seq));
                }
                self.expected_hash_seen = true;
            }
        }
        self.next_seq += 1;
        Ok(())
    }

    fn expected_head_problem(&self, seq: Seq) -> Problem {
        let (expected_size, expected_hash) = self.expect.expect("only called with an expectation");
        Problem::ExpectedHead {
            seq,
            expected_size,
            expected_hash,
            actual_size: self.checked().max(seq.min(expected_size)),
            actual_hash: self.prev,
        }
    }

    fn check_head(&self, stored: &Head) -> Result<(), Problem> {
        let seq = stored.size;
        if stored.hash != self.prev {
            return Err(Problem::HashMismatch {
                seq,
                computed: self.prev,
                recorded: stored.hash,
                recorded_in: "the stored head".into(),
            });
        }
        if stored.recorded_at != self.prev_recorded_at {
            return Err(Problem::HeadTime {
                seq,
                head_micros: stored.recorded_at,
                event_micros: self.prev_recorded_at,
            });
        }
        Ok(())
    }

    /// Ends the check against the head the store records.
    ///
    /// # Errors
    /// [`Problem::Truncated`] or [`Problem::HashMismatch`] when the store's head
    /// does not match the chain; [`Problem::ExpectedHead`] when a head expected
    /// by the caller was not passed through.
    pub fn finish(&self, stored: &Head) -> Result<(), Problem> {
        let checked = self.checked();
        if checked < stored.size {
            return Err(Problem::Truncated {
                seq: checked + 1,
                head_size: stored.size,
            });
        }
        if checked > stored.size {
            return Err(Problem::BeyondHead {
                seq: stored.size + 1,
                head_size: stored.size,
            });
        }
        if stored.size > 0 && self.stored.is_none() {
            self.check_head(stored)?;
        }
        if let Some((size, hash)) = self.expect {
            if (size == 0 && hash != Hash::ZERO) || (size > 0 && !self.expected_hash_seen) {
                return Err(self.expected_head_problem(checked + 1));
            }
        }
        Ok(())
    }
}
