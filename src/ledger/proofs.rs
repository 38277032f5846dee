//! The Merkle tree as derived data: loaded from the store (or rebuilt from the
//! chain when missing or stale), grown by appends, and read for proofs.

use super::{Ledger, LedgerError, Result};
use crate::chain;
use crate::event::Seq;
use crate::{merkle, tree};
use std::collections::HashMap;
use std::sync::Mutex;

/// The tree this process holds: grown as it appends, or loaded on first use.
#[derive(Default)]
pub(super) struct TreeCache(Mutex<TreeState>);

#[derive(Default)]
struct TreeState {
    /// The frontier and partial tiles at the head, once loaded.
    tree: Option<tree::Growing>,
    /// Tiles of a tree rebuilt in this process, for proofs when the store
    /// could not save them (a read-only redb handle).
    overlay: HashMap<String, Vec<u8>>,
}

impl TreeCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, TreeState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tree at the head, for a batch to grow (a copy: the batch may fail).
    pub fn growing(&self) -> Option<tree::Growing> {
        self.lock().tree.clone()
    }

    /// The tree a committed batch grew.
    pub fn set(&mut self, grown: Option<tree::Growing>) {
        let state = self.0.get_mut().unwrap_or_else(|p| p.into_inner());
        state.tree = grown;
        state.overlay.clear();
    }
}

impl Ledger {
    /// Loads the Merkle tree's frontier and partial tiles, or rebuilds them from
    /// the chain (and stores them) when they are missing or do not match the
    /// head: a ledger written before the tree existed gets one this way.
    pub(super) fn load_tree(&self) -> Result<()> {
        let head = self.store.head()?;
        let mut state = self.tree.lock();
        if state.tree.as_ref().is_some_and(|t| t.size() == head.size) {
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
                self.scan(1, head.size, |rec| {
                    t.push(&chain::record_hash(rec));
                    Ok(true)
                })?;
                if t.size() != head.size {
                    return Err(LedgerError::ChainShort {
                        ends_at: t.size(),
                        head: head.size,
                    });
                }
                if head.size == 0 {
                    // A tree of nothing: the first commit stores the tree it
                    // grows (storing this one was a durable write of its own
                    // before every first import or append).
                    state.overlay.clear();
                    state.tree = Some(t);
                    return Ok(());
                }
                let changes = t.take_changes();
                let entries: Vec<(&str, &[u8])> = changes
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice()))
                    .collect();
                self.store.put_meta(&entries)?;
                // A read-only store does not keep them: proofs read them here.
                state.overlay = changes
                    .into_iter()
                    .filter(|(k, _)| k != tree::FRONTIER_META)
                    .collect();
                t
            }
        };
        state.tree = Some(grown);
        Ok(())
    }

    /// The Merkle tree's size and root now (RFC 6962, SHA-256, over the
    /// records' chain hashes): what a checkpoint states.
    ///
    /// # Errors
    /// Store failures; a chain that ends before its head.
    pub fn tree_head(&self) -> Result<(u64, merkle::Digest)> {
        self.load_tree()?;
        let state = self.tree.lock();
        let t = state.tree.as_ref().expect("loaded");
        Ok((t.size(), t.root()))
    }

    /// Runs `f` over the tree's nodes (stored tiles, chain hashes below them).
    fn with_nodes<R>(
        &self,
        f: impl FnOnce(&mut dyn merkle::NodeSource<Error = tree::NodeError<LedgerError>>) -> R,
    ) -> Result<R> {
        self.load_tree()?;
        let overlay = self.tree.lock().overlay.clone();
        let mut nodes = tree::Nodes::new(
            |tl, i| {
                let key = tree::tile_key(tl, i);
                match overlay.get(&key) {
                    Some(v) => Ok(Some(v.clone())),
                    None => Ok(self.store.meta(&key)?),
                }
            },
            |first, count| {
                let mut hashes = Vec::with_capacity(count as usize);
                self.scan(first + 1, first + count, |rec| {
                    hashes.push(chain::record_hash(rec));
                    Ok(true)
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
    pub fn tree_root(&self, size: u64) -> Result<merkle::Digest> {
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

    /// The hashes of the `count` complete nodes at tree level `level` from
    /// node `first`: leaf hashes at level 0. What a hash tile holds.
    ///
    /// # Errors
    /// Nodes beyond the tree; store failures; a damaged tree.
    pub fn tree_nodes(&self, level: u8, first: u64, count: u64) -> Result<Vec<merkle::Digest>> {
        let (now, _) = self.tree_head()?;
        let complete = now.checked_shr(u32::from(level)).unwrap_or(0);
        if first.saturating_add(count) > complete {
            return Err(LedgerError::NoSuchSeq {
                seq: first.saturating_add(count),
                size: complete,
            });
        }
        self.with_nodes(|n| {
            (first..first + count)
                .map(|i| n.node(level, i))
                .collect::<std::result::Result<Vec<_>, _>>()
        })?
        .map_err(tree_error)
    }

    /// The inclusion proof of record `seq` in the tree of the first `size`
    /// records (RFC 9162 section 2.1.3), leaf index `seq - 1`.
    ///
    /// # Errors
    /// A seq beyond `size` or a size beyond the head; store failures; a damaged
    /// tree.
    pub fn inclusion_proof(&self, seq: Seq, size: u64) -> Result<Vec<merkle::Digest>> {
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
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<merkle::Digest>> {
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
}

fn tree_error(e: tree::NodeError<LedgerError>) -> LedgerError {
    match e {
        tree::NodeError::Read(e) => e,
        tree::NodeError::Damaged {
            level,
            index,
            problem,
        } => LedgerError::TreeDamaged {
            level,
            index,
            problem,
        },
    }
}

fn proof_error(e: merkle::ProofError<tree::NodeError<LedgerError>>) -> LedgerError {
    use merkle::ProofError as P;
    LedgerError::Proof(match e {
        P::Source(e) => return tree_error(e),
        P::IndexBeyondSize { index, size } => P::IndexBeyondSize { index, size },
        P::BadRange { old, new } => P::BadRange { old, new },
        P::InvalidSubtree { start, end } => P::InvalidSubtree { start, end },
    })
}
