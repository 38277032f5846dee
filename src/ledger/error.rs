//! What can go wrong in a ledger operation, one variant per kind of failure,
//! each carrying what its message needs. Integrity findings of `verify` are
//! data ([`super::VerifyReport`]), not errors.

use crate::chain::Problem;
use crate::codec::FormatError;
use crate::event::Seq;
use crate::input::InputError;
use crate::store::StoreError;

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
    /// The event is one the ledger already holds (the same payload digest);
    /// `index` is its 0-based place in a batch.
    #[error("{}the ledger already holds this event, as seq {seq}", index.map(|i| format!("event {}: ", i + 1)).unwrap_or_default())]
    Duplicate {
        /// Place in the batch, when appending several.
        index: Option<usize>,
        /// The event that holds the same content.
        seq: Seq,
    },
    /// The source of a batch could not be read; nothing was appended.
    #[error("event {}: cannot read the input: {error}", index + 1)]
    Unreadable {
        /// Place in the batch of the item that could not be read.
        index: usize,
        /// What failed.
        error: std::io::Error,
    },
    /// Stored bytes that do not decode (run `verify`).
    #[error("seq {seq}: stored event is unreadable: {error}")]
    Corrupt {
        /// The event.
        seq: Seq,
        /// What is wrong.
        error: FormatError,
    },
    /// A seq within the head that no stored block holds (run `verify`).
    #[error("seq {seq}: stored event is missing: {detail}")]
    Missing {
        /// The event.
        seq: Seq,
        /// Where it was looked for.
        detail: &'static str,
    },
    /// The stored blocks end before the head says they do (run `verify`).
    #[error("the chain ends at seq {ends_at}, before its head ({head})")]
    ChainShort {
        /// The last seq the blocks hold.
        ends_at: Seq,
        /// The size the head claims.
        head: u64,
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
    /// A Merkle proof that cannot exist was asked for.
    #[error("{0}")]
    Proof(crate::merkle::ProofError<std::convert::Infallible>),
    /// The derived actor index does not agree with the chain.
    #[error(transparent)]
    ActorIndex(#[from] ActorIndexError),
    /// The stored Merkle tree (derived data) is damaged.
    #[error("the stored Merkle tree is damaged: tile {level}/{index} {problem}")]
    TreeDamaged {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
        /// What is wrong.
        problem: &'static str,
    },
}

/// The actor index (derived from actor and alias events) disagrees with the chain.
#[derive(Debug, thiserror::Error)]
pub enum ActorIndexError {
    /// The index's bytes do not decode.
    #[error("the actor index is unreadable: {0}")]
    Unreadable(FormatError),
    /// An entry is not the event the chain holds at its seq.
    #[error("seq {seq}: the actor index does not match the event at this seq")]
    Mismatch {
        /// The entry's seq.
        seq: Seq,
    },
    /// An entry contradicts an earlier one.
    #[error("seq {seq}: actor index: {error}")]
    Conflict {
        /// The entry's seq.
        seq: Seq,
        /// What it contradicts.
        error: crate::vocab::ActorError,
    },
}
