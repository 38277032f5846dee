//! RFC 6962 / RFC 9162 Merkle tree over SHA-256: roots, inclusion and
//! consistency proofs, their verification, and an append-only frontier.
//!
//! # Tree shape
//!
//! The tree over `n` leaves is the one defined by RFC 6962 §2.1 (RFC 9162
//! §2.1.1): `MTH({}) = SHA-256("")`, `MTH({d}) = SHA-256(0x00 || d)`, and for
//! `n > 1`, with `k` the largest power of two strictly below `n`,
//! `MTH(D[0:n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`.
//!
//! Equivalently, lay the leaves under a perfect binary tree and cut it at
//! `n`: every node whose leaf range lies entirely below `n` is *complete* and
//! never changes again, nodes whose range starts at or past `n` do not exist,
//! and the nodes whose range straddles `n` (the *ephemeral* nodes on the right
//! edge) hash the part of their range that is below `n`, a node with a single
//! child being that child. The root of a tree of size `n` is therefore the
//! right-to-left fold, with [`node_hash`], of the complete subtrees that
//! `n` decomposes into: one subtree of `2^b` leaves per set bit `b` of `n`,
//! from the highest bit (leftmost subtree) to the lowest.
//!
//! # Node addressing
//!
//! A complete node is addressed as `(level, index)`: level 0 holds the leaf
//! hashes ([`leaf_hash`] of the entries), and node `(l, i)` covers leaves
//! `[i·2^l, (i+1)·2^l)`; its children are `(l-1, 2i)` and `(l-1, 2i+1)`.
//! Ephemeral nodes have no address: every function here that needs one
//! computes it from complete nodes.
//!
//! # Storage contract
//!
//! Tree nodes are read through [`NodeSource`], which is only ever asked for
//! complete nodes of the tree size in question. Every operation asks for
//! O(log n) nodes: a root needs one node per set bit of the size, a proof at
//! most one node per level plus one right-edge decomposition.
//! [`Frontier`] maintains the right edge while appending and reports every
//! node as it becomes complete, which is when a store should persist it.
//!
//! # Proofs
//!
//! [`inclusion_proof`] and [`consistency_proof`] return the hashes of
//! RFC 9162 §2.1.3.1 `PATH` and §2.1.4.1 `PROOF` in the order the RFC gives
//! (from the leaf side upwards), which is also the order of
//! `github.com/transparency-dev/merkle/proof`. [`verify_inclusion`] and
//! [`verify_consistency`] are the RFC 9162 §2.1.3.2 / §2.1.4.2 algorithms,
//! with the proof length checked first so that a malformed proof is reported
//! apart from a proof that is well-formed but does not match the roots (see
//! [`VerifyError::is_malformed`]).

use std::fmt;

use sha2::{Digest as _, Sha256};

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
pub type Digest = [u8; 32];

/// The RFC 6962 leaf hash `SHA-256(0x00 || data)`.
#[must_use]
pub fn leaf_hash(data: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The RFC 6962 interior node hash `SHA-256(0x01 || left || right)`.
#[must_use]
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
#[must_use]
pub fn empty_root() -> Digest {
    Sha256::digest([]).into()
}

/// Where tree nodes come from.
///
/// Implementations return the hash of the complete node `(level, index)`,
/// which covers leaves `[index·2^level, (index+1)·2^level)` (see the module
/// docs). The functions of this module only ask for nodes whose whole leaf
/// range lies below the tree size they were given, so an implementation may
/// treat any other request as an error.
pub trait NodeSource {
    /// The error a lookup can fail with (I/O, missing data, …).
    type Error;

    /// Returns the hash of the complete node `(level, index)`.
    ///
    /// # Errors
    ///
    /// Whatever the storage reports when it cannot produce the node.
    fn node(&mut self, level: u8, index: u64) -> Result<Digest, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &mut S {
    type Error = S::Error;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, Self::Error> {
        (**self).node(level, index)
    }
}

/// Number of significant bits of `x` (0 for 0).
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Root of the leaf range `[start, start + len)`, where `len > 0` and `start`
/// is a multiple of the highest power of two in `len`, folding the complete
/// subtrees that the range decomposes into from right to left. Asks the source
/// for exactly `len.count_ones()` nodes, lowest level first.
fn fold_range<S: NodeSource + ?Sized>(
    start: u64,
    len: u64,
    src: &mut S,
) -> Result<Digest, S::Error> {
    debug_assert!(len > 0);
    let mut acc: Option<Digest> = None;
    for level in 0..u64::BITS {
        if (len >> level) & 1 == 0 {
            continue;
        }
        // The subtrees for higher bits come first; this one starts after them.
        let before = len & u64::MAX.checked_shl(level + 1).unwrap_or(0);
        let node = src.node(level as u8, (start + before) >> level)?;
        acc = Some(match acc {
            None => node,
            Some(right) => node_hash(&node, &right),
        });
    }
    Ok(acc.unwrap_or_else(empty_root))
}

/// Root (RFC 6962 `MTH`) of the tree made of the first `size` leaves.
///
/// For `size == 0` this is [`empty_root`] and the source is not consulted;
/// otherwise the source is asked for one complete node per set bit of `size`.
///
/// # Errors
///
/// Only errors of the source, passed through unchanged.
pub fn root<S: NodeSource + ?Sized>(size: u64, src: &mut S) -> Result<Digest, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    fold_range(0, size, src)
}

/// Root (RFC 6962 `MTH`) of the leaves `[start, end)` taken as a tree of their
/// own.
///
/// The range must be a subtree of the log: `start < end`, and `start` a
/// multiple of the smallest power of two `>= end - start` (so `start == 0`
/// always qualifies, and `range_root(0, n, src) == root(n, src)`). Such a
/// range is a complete node or the part of an ephemeral right-edge node that
/// a tree of size `end` contains, e.g. a partially filled storage tile. The
/// source is asked for one complete node per set bit of `end - start`.
///
/// # Errors
///
/// [`ProofError::InvalidSubtree`] when the range is not a subtree as above,
/// [`ProofError::Source`] when the source fails.
pub fn range_root<S: NodeSource + ?Sized>(
    start: u64,
    end: u64,
    src: &mut S,
) -> Result<Digest, ProofError<S::Error>> {
    if start >= end {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    let len = end - start;
    // Smallest power of two >= len, as a mask of the bits below it; the
    // power itself may be 2^64, which makes every start but 0 invalid.
    let mask = match len.checked_next_power_of_two() {
        Some(p) => p - 1,
        None => u64::MAX,
    };
    if start & mask != 0 {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    fold_range(start, len, src).map_err(ProofError::Source)
}

/// Root (RFC 6962 `MTH`) of a run of leaf hashes held in memory.
///
/// Meant for a complete power-of-two run, such as the leaves under one storage
/// tile, whose root is then the complete node above them; any other length
/// gives the RFC 6962 root of that many leaves, and an empty slice gives
/// [`empty_root`]. Costs `leaves.len() - 1` node hashes.
#[must_use]
pub fn subtree_root(leaves: &[Digest]) -> Digest {
    let mut frontier = Frontier::new();
    for leaf in leaves {
        frontier.push(*leaf, |_, _, _| {});
    }
    frontier.root()
}

/// Appends to `out` the audit path of the complete node `(level, index)` in
/// the tree of `size` leaves, lowest level first: at each level the sibling of
/// the node on the path, if the sibling exists in this tree. A sibling is
/// either a complete node (asked from the source) or, at most once, the
/// ephemeral right-edge node, folded from complete nodes.
fn audit_path<S: NodeSource + ?Sized>(
    level: u32,
    index: u64,
    size: u64,
    src: &mut S,
    out: &mut Vec<Digest>,
) -> Result<(), S::Error> {
    let last = size - 1;
    let mut level = level;
    let mut index = index;
    while level < u64::BITS && last >> level > 0 {
        let sibling = index ^ 1;
        // The sibling exists iff it starts at or before the last leaf.
        if sibling <= last >> level {
            if sibling < size >> level {
                out.push(src.node(level as u8, sibling)?);
            } else {
                let start = sibling << level;
                out.push(fold_range(start, size - start, src)?);
            }
        }
        index >>= 1;
        level += 1;
    }
    Ok(())
}

/// Inclusion proof (RFC 9162 §2.1.3.1 `PATH(index, D[0:size])`) for leaf
/// `index` in the tree of the first `size` leaves, lowest level first.
///
/// Asks the source for at most `2·⌈log2 size⌉` nodes.
///
/// # Errors
///
/// [`ProofError::IndexBeyondSize`] when `index >= size`,
/// [`ProofError::Source`] when the source fails.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    index: u64,
    size: u64,
    src: &mut S,
) -> Result<Vec<Digest>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    let mut proof = Vec::with_capacity(bit_len(size - 1) as usize);
    audit_path(0, index, size, src, &mut proof).map_err(ProofError::Source)?;
    Ok(proof)
}

/// Consistency proof (RFC 9162 §2.1.4.1 `PROOF(old, D[0:new])`) between the
/// trees of the first `old` and the first `new` leaves.
///
/// The proof is empty when `old == new`. Otherwise it is the root of the
/// largest complete subtree ending at leaf `old` (left out when `old` is a
/// power of two, since that root is the old root itself) followed by that
/// node's audit path in the new tree — the same nodes in the same order as
/// the RFC's recursive `SUBPROOF` and transparency-dev/merkle. Asks the source
/// for at most `2·⌈log2 new⌉ + 1` nodes.
///
/// # Errors
///
/// [`ProofError::BadRange`] when `old > new` or `old == 0` (a proof from the
/// empty tree is meaningless; transparency-dev/merkle refuses it too),
/// [`ProofError::Source`] when the source fails.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    old: u64,
    new: u64,
    src: &mut S,
) -> Result<Vec<Digest>, ProofError<S::Error>> {
    if old == 0 || old > new {
        return Err(ProofError::BadRange { old, new });
    }
    if old == new {
        return Ok(Vec::new());
    }
    let level = old.trailing_zeros();
    let index = (old - 1) >> level;
    let mut proof = Vec::with_capacity(bit_len(new - 1) as usize + 1);
    if index != 0 {
        proof.push(src.node(level as u8, index).map_err(ProofError::Source)?);
    }
    audit_path(level, index, new, src, &mut proof).map_err(ProofError::Source)?;
    Ok(proof)
}

/// Length of a valid inclusion proof for `index < size`.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    // Levels below the point where the paths to `index` and to the last leaf
    // part, each with a sibling, then one left sibling per set bit above it.
    let inner = bit_len(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Length of a valid consistency proof for `0 < old < new`.
fn consistency_proof_len(old: u64, new: u64) -> usize {
    let shift = old.trailing_zeros();
    let inner = bit_len((old - 1) ^ (new - 1));
    let border = (old - 1).checked_shr(inner).unwrap_or(0).count_ones();
    let seed = usize::from(!old.is_power_of_two());
    seed + (inner - shift + border) as usize
}

/// Right-shifts `fn_` and `sn` together while `fn_` is even and non-zero.
fn shift_to_odd(fn_: &mut u64, sn: &mut u64) {
    while *fn_ & 1 == 0 && *fn_ != 0 {
        *fn_ >>= 1;
        *sn >>= 1;
    }
}

/// Verifies that `leaf` (a leaf *hash*, see [`leaf_hash`]) is leaf `index` of
/// the tree of `size` leaves whose root is `root`, following RFC 9162
/// §2.1.3.2.
///
/// # Errors
///
/// Malformed input, whatever the hashes: [`VerifyError::IndexBeyondSize`]
/// when `index >= size` (which covers `size == 0`),
/// [`VerifyError::WrongProofLength`] when the proof does not have exactly the
/// length that `index` and `size` imply. A well-formed proof that does not
/// lead to `root`: [`VerifyError::RootMismatch`].
pub fn verify_inclusion(
    leaf: &Digest,
    index: u64,
    size: u64,
    proof: &[Digest],
    root: &Digest,
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexBeyondSize { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(VerifyError::WrongProofLength {
            expected,
            found: proof.len(),
        });
    }
    let wrong_length = VerifyError::WrongProofLength {
        expected,
        found: proof.len(),
    };
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            shift_to_odd(&mut fn_, &mut sn);
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with root `new_root` extends
/// the tree of `old_size` leaves with root `old_root`, following RFC 9162
/// §2.1.4.2.
///
/// Edge cases, as in transparency-dev/merkle `proof.VerifyConsistency` (the
/// current, subtree-aware version): `old_size == 0` is rejected even when
/// `new_size` is 0 too (every tree extends the empty one, so such a proof
/// proves nothing and a caller asking for it has a bug); `old_size ==
/// new_size` requires an empty proof and `old_root == new_root`. Earlier
/// (2022–2024) versions of that library accepted `0 → n` with an empty proof;
/// this function does not.
///
/// # Errors
///
/// Malformed input, whatever the hashes: [`VerifyError::BadRange`] when
/// `old_size > new_size`, [`VerifyError::EmptyOldTree`] when `old_size == 0`,
/// [`VerifyError::WrongProofLength`] when the proof does not have exactly the
/// length the sizes imply (0 for equal sizes). A well-formed proof that does
/// not match: [`VerifyError::OldRootMismatch`] when it does not lead to
/// `old_root`, [`VerifyError::RootMismatch`] when it does not lead to
/// `new_root` (or equal sizes have different roots).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Digest,
    new_root: &Digest,
    proof: &[Digest],
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::BadRange {
            old: old_size,
            new: new_size,
        });
    }
    if old_size == 0 {
        return Err(VerifyError::EmptyOldTree { new: new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::WrongProofLength {
                expected: 0,
                found: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(VerifyError::RootMismatch);
        }
        return Ok(());
    }
    let expected = consistency_proof_len(old_size, new_size);
    let wrong_length = VerifyError::WrongProofLength {
        expected,
        found: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_length);
    }
    // Step 2: a power-of-two old tree is itself the first node of the path.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    let mut fn_ = old_size - 1;
    let mut sn = new_size - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let mut fr = seed;
    let mut sr = seed;
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            shift_to_odd(&mut fn_, &mut sn);
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(VerifyError::RootMismatch);
    }
    Ok(())
}

/// Why a proof could not be produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofError<E> {
    /// An inclusion proof was asked for a leaf the tree does not have.
    IndexBeyondSize {
        /// The leaf index asked for.
        index: u64,
        /// The tree size it was asked in.
        size: u64,
    },
    /// A consistency proof was asked with `old > new` or `old == 0`.
    BadRange {
        /// The older tree size.
        old: u64,
        /// The newer tree size.
        new: u64,
    },
    /// [`range_root`] was given a range that is not a subtree.
    InvalidSubtree {
        /// First leaf of the range.
        start: u64,
        /// One past the last leaf of the range.
        end: u64,
    },
    /// The [`NodeSource`] failed.
    Source(E),
}

impl<E: fmt::Display> fmt::Display for ProofError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IndexBeyondSize { index, size } => {
                write!(f, "leaf index {index} is beyond tree size {size}")
            }
            Self::BadRange { old, new } => write!(
                f,
                "no consistency proof from tree size {old} to {new}: need 0 < old <= new"
            ),
            Self::InvalidSubtree { start, end } => {
                write!(f, "leaf range [{start}, {end}) is not a subtree")
            }
            Self::Source(e) => write!(f, "node source failed: {e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for ProofError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Source(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a proof did not verify.
///
/// The variants fall in two groups, told apart by [`Self::is_malformed`] and
/// [`Self::is_mismatch`]: the request or proof is malformed (decided from
/// sizes, index and proof length alone, before any hashing), or it is
/// well-formed but the hashes do not lead to the given roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    /// Malformed: the leaf index is not below the tree size.
    IndexBeyondSize {
        /// The leaf index given.
        index: u64,
        /// The tree size given.
        size: u64,
    },
    /// Malformed: the old tree size is larger than the new one.
    BadRange {
        /// The older tree size given.
        old: u64,
        /// The newer tree size given.
        new: u64,
    },
    /// Malformed: a consistency proof from the empty tree.
    EmptyOldTree {
        /// The newer tree size given.
        new: u64,
    },
    /// Malformed: the proof does not have the length the sizes imply.
    WrongProofLength {
        /// The length a valid proof has.
        expected: usize,
        /// The length of the proof given.
        found: usize,
    },
    /// Mismatch: the proof leads to a different (new) root than the one given.
    RootMismatch,
    /// Mismatch: a consistency proof leads to a different old root than the
    /// one given.
    OldRootMismatch,
}

impl VerifyError {
    /// True when the input was rejected before hashing: bad sizes, index or
    /// proof length.
    #[must_use]
    pub fn is_malformed(&self) -> bool {
        !self.is_mismatch()
    }

    /// True when a well-formed proof did not lead to the given root(s).
    #[must_use]
    pub fn is_mismatch(&self) -> bool {
        matches!(self, Self::RootMismatch | Self::OldRootMismatch)
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IndexBeyondSize { index, size } => {
                write!(f, "leaf index {index} is beyond tree size {size}")
            }
            Self::BadRange { old, new } => {
                write!(f, "old tree size {old} is larger than new tree size {new}")
            }
            Self::EmptyOldTree { new } => write!(
                f,
                "consistency proof from the empty tree (to size {new}) is meaningless"
            ),
            Self::WrongProofLength { expected, found } => {
                write!(f, "proof has {found} hashes, expected {expected}")
            }
            Self::RootMismatch => write!(f, "proof does not lead to the given root"),
            Self::OldRootMismatch => write!(f, "proof does not lead to the given old root"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// The right edge of a tree being appended to (a *compact range* of
/// `[0, size)`): the roots of the complete subtrees the size decomposes into,
/// one per set bit of `size`, at most 64 hashes.
///
/// # Byte format
///
/// [`Frontier::to_bytes`] writes the size as a big-endian `u64`, then the
/// `size.count_ones()` 32-byte hashes from the highest level (leftmost
/// subtree) to the lowest; nothing else, so the length is always
/// `8 + 32·popcount(size)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Highest level first.
    hashes: Vec<Digest>,
}

impl Frontier {
    /// The frontier of the empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The right-edge hashes, highest level first (the byte-format order).
    #[must_use]
    pub fn hashes(&self) -> &[Digest] {
        &self.hashes
    }

    /// The right-edge node at `level`, if the size has bit `level` set: its
    /// index at that level and its hash. This is the complete node
    /// `(level, index)`, covering the `2^level` leaves just before the
    /// lower-level right-edge nodes.
    #[must_use]
    pub fn at_level(&self, level: u8) -> Option<(u64, &Digest)> {
        let level = u32::from(level);
        if level >= u64::BITS || (self.size >> level) & 1 == 0 {
            return None;
        }
        let higher = self.size.checked_shr(level + 1).unwrap_or(0).count_ones();
        Some(((self.size >> level) - 1, &self.hashes[higher as usize]))
    }

    /// The hash of the complete node `(level, index)` if it is on the right
    /// edge, so that a store can answer [`NodeSource::node`] for nodes that
    /// are complete at the current size but that it has not persisted yet.
    #[must_use]
    pub fn get(&self, level: u8, index: u64) -> Option<&Digest> {
        match self.at_level(level) {
            Some((i, hash)) if i == index => Some(hash),
            _ => None,
        }
    }

    /// Appends the leaf hash `leaf` as leaf number `self.size()`.
    ///
    /// Calls `on_complete(level, index, hash)` for every node that this push
    /// completes, bottom-up: the leaf itself as `(0, old size)`, then each
    /// parent that it fills, `(l, old size >> l)`. Together these calls report
    /// every complete node of the tree exactly once, each as soon as it exists.
    ///
    /// # Panics
    ///
    /// If the tree already has `u64::MAX` leaves.
    pub fn push(&mut self, leaf: Digest, mut on_complete: impl FnMut(u8, u64, &Digest)) {
        let index = self.size;
        assert!(index != u64::MAX, "Merkle tree is full");
        on_complete(0, index, &leaf);
        let mut hash = leaf;
        let mut level = 0u32;
        while (index >> level) & 1 == 1 {
            let left = self
                .hashes
                .pop()
                .expect("frontier holds one hash per set bit of its size");
            hash = node_hash(&left, &hash);
            level += 1;
            on_complete(level as u8, index >> level, &hash);
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// Root of the tree of `self.size()` leaves; [`empty_root`] for size 0.
    #[must_use]
    pub fn root(&self) -> Digest {
        let mut iter = self.hashes.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |right, left| node_hash(left, &right))
    }

    /// Serializes the frontier in the byte format described on [`Frontier`].
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.hashes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for hash in &self.hashes {
            out.extend_from_slice(hash);
        }
        out
    }

    /// The frontier of a tree of `size` leaves from its right-edge hashes,
    /// highest level first; `None` unless there is one hash per set bit of
    /// `size`. As with [`Frontier::from_bytes`], compare [`Frontier::root`]
    /// with a trusted root before believing it.
    #[must_use]
    pub fn from_parts(size: u64, hashes: Vec<Digest>) -> Option<Self> {
        (hashes.len() == size.count_ones() as usize).then_some(Self { size, hashes })
    }

    /// Parses the byte format described on [`Frontier`].
    ///
    /// The hashes cannot be checked against anything here; compare
    /// [`Frontier::root`] with a trusted root to do that.
    ///
    /// # Errors
    ///
    /// [`FrontierError::TooShort`] when there are fewer than 8 bytes,
    /// [`FrontierError::WrongLength`] when the length is not
    /// `8 + 32·popcount(size)`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FrontierError> {
        let Some((size_bytes, rest)) = bytes.split_first_chunk::<8>() else {
            return Err(FrontierError::TooShort { found: bytes.len() });
        };
        let size = u64::from_be_bytes(*size_bytes);
        let expected = 8 + 32 * size.count_ones() as usize;
        if bytes.len() != expected {
            return Err(FrontierError::WrongLength {
                size,
                expected,
                found: bytes.len(),
            });
        }
        let hashes = rest
            .chunks_exact(32)
            .map(|c| {
                let mut d = [0u8; 32];
                d.copy_from_slice(c);
                d
            })
            .collect();
        Ok(Self { size, hashes })
    }
}

/// Why [`Frontier::from_bytes`] rejected its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontierError {
    /// Fewer than the 8 bytes of the size.
    TooShort {
        /// The input length.
        found: usize,
    },
    /// The length does not match the size's number of hashes.
    WrongLength {
        /// The size read from the first 8 bytes.
        size: u64,
        /// `8 + 32·popcount(size)`.
        expected: usize,
        /// The input length.
        found: usize,
    },
}

impl fmt::Display for FrontierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { found } => {
                write!(
                    f,
                    "frontier encoding is {found} bytes, shorter than its 8-byte size"
                )
            }
            Self::WrongLength {
                size,
                expected,
                found,
            } => write!(
                f,
                "frontier encoding for size {size} must be {expected} bytes, found {found}"
            ),
        }
    }
}

impl std::error::Error for FrontierError {}

/// An in-memory tree holding every complete node, for tests and small logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemTree {
    /// `levels[l][i]` is the complete node `(l, i)`; `levels[0]` the leaves.
    levels: Vec<Vec<Digest>>,
}

impl MemTree {
    /// The empty tree.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given leaf hashes, in order.
    #[must_use]
    pub fn from_leaves(leaves: impl IntoIterator<Item = Digest>) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    /// Appends a leaf hash, storing every node it completes.
    pub fn push(&mut self, leaf: Digest) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len() & 1 == 0 {
            let nodes = &self.levels[level];
            let parent = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// Number of leaves.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.leaves().len() as u64
    }

    /// The leaf hashes.
    #[must_use]
    pub fn leaves(&self) -> &[Digest] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// Root of the whole tree.
    #[must_use]
    pub fn root(&self) -> Digest {
        match root(self.size(), &mut &*self) {
            Ok(r) => r,
            Err(e) => unreachable!("MemTree holds every complete node: {e}"),
        }
    }
}

impl NodeSource for MemTree {
    type Error = MissingNode;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, MissingNode> {
        (&*self).node(level, index)
    }
}

impl NodeSource for &MemTree {
    type Error = MissingNode;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, MissingNode> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(level))?.get(i))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

/// [`MemTree`] was asked for a node that is not complete in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode {
    /// Level of the node asked for.
    pub level: u8,
    /// Index of the node asked for.
    pub index: u64,
}

impl fmt::Display for MissingNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "node ({}, {}) is not complete in this tree",
            self.level, self.index
        )
    }
}

impl std::error::Error for MissingNode {}
