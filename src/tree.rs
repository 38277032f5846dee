//! The Merkle tree over the chain as the store keeps it: the tree's right edge
//! (a [`Frontier`]) and *tiles* of the nodes at levels 8, 16, 24… Nodes below
//! a stored level are recomputed on demand from the nodes (or, at the bottom,
//! from the chain hashes) beneath them, at most 255 hashes each.
//!
//! Leaf *i* (from 0) is `SHA-256(0x00 ‖ chain hash of seq i + 1)`: the tree is
//! RFC 6962's, over the records' BLAKE3 chain hashes, so that its checkpoints
//! are C2SP checkpoints any transparency-log tool can check.
//!
//! Stored, as derived data beside the chain (see `schema/FORMAT.md`):
//! - meta `merkle`: the frontier's bytes ([`Frontier::to_bytes`]), committed
//!   in the same atomic step as the head it matches;
//! - meta `tile/L/NNNNNNNNNNNN`: tile `N` of tile level `L ≥ 1`, the hashes of
//!   the complete nodes `(8L, 256N) … (8L, 256N + 255)` laid end to end (a
//!   partial tile is shorter and is rewritten as it fills).

use crate::event::Hash;
use crate::merkle::{self, Digest, Frontier, NodeSource};
use std::collections::BTreeMap;

/// Meta key of the frontier.
pub const FRONTIER_META: &str = "merkle";
/// Levels per tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;

/// Meta key of a tile.
pub fn tile_key(tile_level: u8, index: u64) -> String {
    format!("tile/{tile_level}/{index:012}")
}

/// The leaf hash of a record's chain hash.
pub fn leaf(chain_hash: &Hash) -> Digest {
    merkle::leaf_hash(&chain_hash.0)
}

/// The tree as an append sees it: the frontier and the tiles still filling.
#[derive(Debug, Clone)]
pub struct Growing {
    frontier: Frontier,
    /// Tiles touched since the last commit, and the partial tiles (which the
    /// next leaves extend).
    tiles: BTreeMap<(u8, u64), Vec<u8>>,
    dirty: std::collections::BTreeSet<(u8, u64)>,
}

impl Growing {
    /// The tree of an empty ledger.
    pub fn new() -> Self {
        Growing {
            frontier: Frontier::new(),
            tiles: BTreeMap::new(),
            dirty: Default::default(),
        }
    }

    /// Resumes from a stored frontier, loading the partial tiles with `tile`.
    ///
    /// # Errors
    /// Whatever `tile` returns; a stored tile of the wrong length is reported
    /// as `Ok(None)` by the caller's choice of error.
    pub fn resume<E>(
        frontier: Frontier,
        mut tile: impl FnMut(u8, u64) -> Result<Option<Vec<u8>>, E>,
    ) -> Result<Option<Self>, E> {
        let mut tiles = BTreeMap::new();
        let size = frontier.size();
        let mut tl = 1u8;
        while u32::from(tl) * u32::from(TILE_HEIGHT) < 64 {
            let count = size >> (u32::from(tl) * u32::from(TILE_HEIGHT));
            if count == 0 {
                break;
            }
            let partial = count % TILE_WIDTH;
            if partial != 0 {
                let index = count / TILE_WIDTH;
                match tile(tl, index)? {
                    Some(bytes) if bytes.len() as u64 == partial * 32 => {
                        tiles.insert((tl, index), bytes);
                    }
                    _ => return Ok(None),
                }
            }
            tl += 1;
        }
        Ok(Some(Growing {
            frontier,
            tiles,
            dirty: Default::default(),
        }))
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Digest {
        self.frontier.root()
    }

    /// The frontier.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// Adds the next record's chain hash as a leaf.
    pub fn push(&mut self, chain_hash: &Hash) {
        let tiles = &mut self.tiles;
        let dirty = &mut self.dirty;
        self.frontier
            .push(leaf(chain_hash), |level, index, hash: &Digest| {
                if level == 0 || level % TILE_HEIGHT != 0 {
                    return;
                }
                let key = (level / TILE_HEIGHT, index / TILE_WIDTH);
                tiles
                    .entry(key)
                    .or_insert_with(|| Vec::with_capacity(32 * TILE_WIDTH as usize))
                    .extend_from_slice(hash);
                dirty.insert(key);
            });
    }

    /// What to store with the head this tree matches: the frontier and every
    /// tile changed since the last call. Full tiles are then forgotten.
    pub fn take_changes(&mut self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![(FRONTIER_META.to_string(), self.frontier.to_bytes())];
        for key in std::mem::take(&mut self.dirty) {
            out.push((tile_key(key.0, key.1), self.tiles[&key].clone()));
        }
        self.tiles.retain(|_, t| (t.len() as u64) < 32 * TILE_WIDTH);
        out
    }
}

impl Default for Growing {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads nodes of the tree of a ledger: stored tiles for levels 8, 16…, chain
/// hashes for the leaves, and hashing for the levels between. Caches what it
/// reads, so that one proof reads each tile once.
pub struct Nodes<T, L> {
    tile: T,
    leaves: L,
    tiles: BTreeMap<(u8, u64), Vec<Digest>>,
}

/// A tree read failed: the store failed, or what it holds is not a tree.
#[derive(Debug, thiserror::Error)]
pub enum NodeError<E> {
    /// Reading failed.
    #[error(transparent)]
    Read(E),
    /// A tile is missing or the wrong length.
    #[error("the stored Merkle tree is damaged: tile {level}/{index} {problem}")]
    Damaged {
        /// Tile level.
        level: u8,
        /// Tile index.
        index: u64,
        /// What is wrong.
        problem: &'static str,
    },
}

impl<E, T, L> Nodes<T, L>
where
    T: FnMut(u8, u64) -> Result<Option<Vec<u8>>, E>,
    L: FnMut(u64, u64) -> Result<Vec<Hash>, E>,
{
    /// Nodes from `tile(level, index)` (a stored tile's bytes) and
    /// `leaves(first, count)` (the chain hashes of at most `count` leaves from
    /// `first`, counted from 0; fewer where the ledger ends).
    pub fn new(tile: T, leaves: L) -> Self {
        Nodes {
            tile,
            leaves,
            tiles: BTreeMap::new(),
        }
    }

    /// The `width` hashes at tile level `tl` starting at `first` (all in one
    /// tile): stored nodes for `tl ≥ 1`, leaf hashes for `tl = 0`.
    fn base(&mut self, tl: u8, first: u64, width: u64) -> Result<&[Digest], NodeError<E>> {
        let index = first / TILE_WIDTH;
        if !self.tiles.contains_key(&(tl, index)) {
            let hashes = if tl == 0 {
                (self.leaves)(index * TILE_WIDTH, TILE_WIDTH)
                    .map_err(NodeError::Read)?
                    .iter()
                    .map(leaf)
                    .collect()
            } else {
                let bytes =
                    (self.tile)(tl, index)
                        .map_err(NodeError::Read)?
                        .ok_or(NodeError::Damaged {
                            level: tl,
                            index,
                            problem: "is missing",
                        })?;
                if bytes.len() % 32 != 0 || bytes.len() as u64 > 32 * TILE_WIDTH {
                    return Err(NodeError::Damaged {
                        level: tl,
                        index,
                        problem: "has a wrong length",
                    });
                }
                bytes
                    .chunks_exact(32)
                    .map(|c| c.try_into().expect("32 bytes"))
                    .collect::<Vec<Digest>>()
            };
            self.tiles.insert((tl, index), hashes);
        }
        let tile = &self.tiles[&(tl, index)];
        let from = (first % TILE_WIDTH) as usize;
        tile.get(from..from + width as usize)
            .ok_or(NodeError::Damaged {
                level: tl,
                index,
                problem: "is shorter than the tree needs",
            })
    }
}

impl<E, T, L> NodeSource for Nodes<T, L>
where
    T: FnMut(u8, u64) -> Result<Option<Vec<u8>>, E>,
    L: FnMut(u64, u64) -> Result<Vec<Hash>, E>,
{
    type Error = NodeError<E>;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, Self::Error> {
        let tl = level / TILE_HEIGHT;
        let rest = u32::from(level % TILE_HEIGHT);
        let width = 1u64 << rest;
        let first = index << rest;
        let base = self.base(tl, first, width)?;
        Ok(merkle::subtree_root(base))
    }
}
