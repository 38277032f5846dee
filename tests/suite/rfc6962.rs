//! Tests of the RFC 6962 / RFC 9162 Merkle tree module.
//!
//! Part 1 checks published vectors from transparency-dev/merkle, transcribed
//! under `tests/data/rfc6962/` (see the README there). Part 2 compares the
//! module with a direct transcription of the RFC 9162 recursive definitions
//! on random trees, including through a source that stores only every eighth
//! level, as tiles do. Part 3 checks that verification rejects what it must.

use std::collections::BTreeMap;

use demarche::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, node_hash, range_root, root,
    subtree_root, verify_consistency, verify_inclusion, Digest, Frontier, FrontierError, MemTree,
    MissingNode, NodeSource, ProofError, VerifyError,
};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn load<T: DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/data/rfc6962/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn d(hex_str: &str) -> Digest {
    let bytes = hex::decode(hex_str).expect("hex");
    bytes.try_into().expect("32-byte hash")
}

fn ds(hexes: &[String]) -> Vec<Digest> {
    hexes.iter().map(|h| d(h)).collect()
}

/// Leaves for trees whose content does not matter.
fn synthetic_leaves(n: u64) -> Vec<Digest> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// A source that answers only complete nodes of a given tree size, and counts
/// how often it is asked.
struct Strict<'a> {
    tree: &'a MemTree,
    limit: u64,
    calls: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum StrictError {
    NotComplete { level: u8, index: u64, limit: u64 },
    Missing(MissingNode),
}

impl<'a> Strict<'a> {
    fn new(tree: &'a MemTree, limit: u64) -> Self {
        Self {
            tree,
            limit,
            calls: 0,
        }
    }
}

impl NodeSource for Strict<'_> {
    type Error = StrictError;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, StrictError> {
        self.calls += 1;
        let end = (u128::from(index) + 1) << level;
        if end > u128::from(self.limit) {
            return Err(StrictError::NotComplete {
                level,
                index,
                limit: self.limit,
            });
        }
        let mut tree = self.tree;
        tree.node(level, index).map_err(StrictError::Missing)
    }
}

/// A source that mimics tile storage: it holds only levels 0, 8, 16, … and
/// computes the levels in between by hashing down to the stored level below.
/// It also refuses nodes that are not complete at `limit`.
struct Tiles<'a> {
    tree: &'a MemTree,
    limit: u64,
    calls: usize,
}

impl Tiles<'_> {
    fn lookup(&self, level: u8, index: u64) -> Result<Digest, StrictError> {
        if level.is_multiple_of(8) {
            let mut tree = self.tree;
            return tree.node(level, index).map_err(StrictError::Missing);
        }
        let left = self.lookup(level - 1, 2 * index)?;
        let right = self.lookup(level - 1, 2 * index + 1)?;
        Ok(node_hash(&left, &right))
    }
}

impl NodeSource for Tiles<'_> {
    type Error = StrictError;

    fn node(&mut self, level: u8, index: u64) -> Result<Digest, StrictError> {
        self.calls += 1;
        let end = (u128::from(index) + 1) << level;
        if end > u128::from(self.limit) {
            return Err(StrictError::NotComplete {
                level,
                index,
                limit: self.limit,
            });
        }
        self.lookup(level, index)
    }
}

/// Upper bound on source calls for a proof or root in a tree of `size`.
fn call_bound(size: u64) -> usize {
    2 * (64 - size.leading_zeros() as usize) + 1
}

// The RFC 9162 §2.1 recursive definitions, transcribed literally, as an
// independent reference for the property tests.

fn largest_pow2_below(n: usize) -> usize {
    debug_assert!(n > 1);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn ref_mth(d: &[Digest]) -> Digest {
    match d.len() {
        0 => Sha256::digest([]).into(),
        1 => d[0],
        n => {
            let k = largest_pow2_below(n);
            node_hash(&ref_mth(&d[..k]), &ref_mth(&d[k..]))
        }
    }
}

fn ref_path(m: usize, d: &[Digest]) -> Vec<Digest> {
    let n = d.len();
    if n == 1 {
        return Vec::new();
    }
    let k = largest_pow2_below(n);
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(ref_mth(&d[..k]));
        p
    }
}

fn ref_subproof(m: usize, d: &[Digest], b: bool) -> Vec<Digest> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![ref_mth(d)] };
    }
    let k = largest_pow2_below(n);
    if m <= k {
        let mut p = ref_subproof(m, &d[..k], b);
        p.push(ref_mth(&d[k..]));
        p
    } else {
        let mut p = ref_subproof(m - k, &d[k..], false);
        p.push(ref_mth(&d[..k]));
        p
    }
}

fn ref_consistency(m: usize, d: &[Digest]) -> Vec<Digest> {
    ref_subproof(m, d, true)
}

fn flip(proof: &[Digest], i: usize, byte: usize, mask: u8) -> Vec<Digest> {
    let mut p = proof.to_vec();
    p[i][byte] ^= mask;
    p
}

fn with_front(front: Digest, proof: &[Digest]) -> Vec<Digest> {
    let mut p = vec![front];
    p.extend_from_slice(proof);
    p
}

fn with_back(proof: &[Digest], back: Digest) -> Vec<Digest> {
    let mut p = proof.to_vec();
    p.push(back);
    p
}

// ---------------------------------------------------------------------------
// Part 1: published vectors
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct HasherVectors {
    empty_root: String,
    leaves: Vec<HasherLeaf>,
}

#[derive(Deserialize)]
struct HasherLeaf {
    desc: String,
    data_hex: String,
    hash: String,
}

#[derive(Deserialize)]
struct ReferenceTree {
    leaf_inputs_hex: Vec<String>,
    node_hashes_by_level: Vec<Vec<String>>,
    root_hashes_by_size: Vec<String>,
    compact_trees_by_size: Vec<Vec<(u8, u64)>>,
}

impl ReferenceTree {
    fn leaves(&self) -> Vec<Digest> {
        self.leaf_inputs_hex
            .iter()
            .map(|h| leaf_hash(&hex::decode(h).unwrap()))
            .collect()
    }

    fn node(&self, level: u8, index: u64) -> Digest {
        d(&self.node_hashes_by_level[usize::from(level)][index as usize])
    }

    fn root(&self, size: u64) -> Digest {
        d(&self.root_hashes_by_size[size as usize])
    }
}

#[derive(Deserialize)]
struct ProofVectors {
    inclusion: Vec<InclusionVector>,
    consistency: Vec<ConsistencyVector>,
    some_hash: String,
    empty_tree_hash: String,
}

#[derive(Deserialize)]
struct InclusionVector {
    leaf: u64,
    size: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct ProofShapes {
    inclusion: Vec<InclusionShape>,
    consistency: Vec<ConsistencyShape>,
}

#[derive(Deserialize)]
struct InclusionShape {
    size: u64,
    index: u64,
    #[serde(default)]
    error: bool,
    #[serde(default)]
    rehash: Option<(usize, usize)>,
    #[serde(default)]
    nodes: Vec<(u8, u64)>,
}

#[derive(Deserialize)]
struct ConsistencyShape {
    size1: u64,
    size2: u64,
    #[serde(default)]
    error: bool,
    #[serde(default)]
    rehash: Option<(usize, usize)>,
    #[serde(default)]
    nodes: Vec<(u8, u64)>,
}

#[derive(Deserialize)]
struct SubtreeVectors {
    max_size: u64,
    subtree_hash_digest: String,
    subtree_inclusion_proof_digest: String,
}

#[test]
fn published_hasher_vectors() {
    let v: HasherVectors = load("hasher.json");
    assert_eq!(empty_root(), d(&v.empty_root));
    for leaf in &v.leaves {
        let data = hex::decode(&leaf.data_hex).unwrap();
        assert_eq!(leaf_hash(&data), d(&leaf.hash), "{}", leaf.desc);
    }
}

#[test]
fn published_roots_for_every_size() {
    let v: ReferenceTree = load("reference_tree.json");
    let leaves = v.leaves();
    assert_eq!(leaves.len(), 8);
    assert_eq!(v.root_hashes_by_size.len(), 9);
    let full = MemTree::from_leaves(leaves.iter().copied());
    let mut frontier = Frontier::new();
    for size in 0..=8u64 {
        let want = v.root(size);
        let mut src = Strict::new(&full, size);
        assert_eq!(root(size, &mut src).unwrap(), want, "root({size})");
        assert!(src.calls <= size.count_ones() as usize);
        let prefix = MemTree::from_leaves(leaves[..size as usize].iter().copied());
        assert_eq!(prefix.root(), want, "MemTree root {size}");
        assert_eq!(
            subtree_root(&leaves[..size as usize]),
            want,
            "subtree_root {size}"
        );
        assert_eq!(frontier.size(), size);
        assert_eq!(frontier.root(), want, "Frontier root {size}");
        if size > 0 {
            let mut src = Strict::new(&full, size);
            assert_eq!(range_root(0, size, &mut src).unwrap(), want);
        }
        if size < 8 {
            frontier.push(leaves[size as usize], |_, _, _| {});
        }
    }
}

#[test]
fn published_complete_nodes() {
    let v: ReferenceTree = load("reference_tree.json");
    let leaves = v.leaves();
    let full = MemTree::from_leaves(leaves.iter().copied());
    let mut want = BTreeMap::new();
    for (level, hashes) in v.node_hashes_by_level.iter().enumerate() {
        for (index, h) in hashes.iter().enumerate() {
            want.insert((level as u8, index as u64), d(h));
        }
    }
    assert_eq!(want.len(), 15);
    for (&(level, index), hash) in &want {
        let mut t = &full;
        assert_eq!(
            t.node(level, index).unwrap(),
            *hash,
            "MemTree ({level}, {index})"
        );
        let start = (index as usize) << level;
        let run = &leaves[start..start + (1 << level)];
        assert_eq!(subtree_root(run), *hash, "subtree_root ({level}, {index})");
        let mut src = Strict::new(&full, 8);
        let end = (index + 1) << level;
        assert_eq!(range_root(index << level, end, &mut src).unwrap(), *hash);
    }
    // The frontier reports each complete node exactly once, with its hash.
    let mut reported = BTreeMap::new();
    let mut frontier = Frontier::new();
    for leaf in &leaves {
        frontier.push(*leaf, |level, index, hash| {
            assert!(reported.insert((level, index), *hash).is_none());
        });
    }
    assert_eq!(reported, want);
}

#[test]
fn published_compact_ranges() {
    let v: ReferenceTree = load("reference_tree.json");
    let leaves = v.leaves();
    let mut frontier = Frontier::new();
    assert_eq!(v.compact_trees_by_size.len(), leaves.len() + 1);
    for (size, ids) in v.compact_trees_by_size.iter().enumerate() {
        let want: Vec<Digest> = ids.iter().map(|&(l, i)| v.node(l, i)).collect();
        assert_eq!(frontier.hashes(), want.as_slice(), "size {size}");
        for &(level, index) in ids {
            assert_eq!(
                frontier.at_level(level),
                Some((index, &v.node(level, index)))
            );
            assert_eq!(frontier.get(level, index), Some(&v.node(level, index)));
        }
        let back = Frontier::from_bytes(&frontier.to_bytes()).unwrap();
        assert_eq!(back, frontier);
        if let Some(leaf) = leaves.get(size) {
            frontier.push(*leaf, |_, _, _| {});
        }
    }
}

/// (description, index, size, proof, root, leaf hash)
type InclusionProbe = (&'static str, u64, u64, Vec<Digest>, Digest, Digest);

/// The probes of transparency-dev/merkle's `invalidInclusionProof`; garbage
/// entries (empty byte strings there) become all-zero hashes here, and the
/// wrong leaf (the string "WrongLeaf" there) is the source's "some hash".
fn inclusion_probes(
    index: u64,
    size: u64,
    proof: &[Digest],
    root: Digest,
    leaf: Digest,
    some_hash: Digest,
    empty_hash: Digest,
) -> Vec<InclusionProbe> {
    let p = proof.to_vec();
    let garbage = [0u8; 32];
    let mut probes = vec![
        (
            "leafIdx sub 1",
            index.wrapping_sub(1),
            size,
            p.clone(),
            root,
            leaf,
        ),
        ("leafIdx plus 1", index + 1, size, p.clone(), root, leaf),
        ("leafIdx XOR 2", index ^ 2, size, p.clone(), root, leaf),
        ("treeSize mul 2", index, size * 2, p.clone(), root, leaf),
        ("treeSize div 2", index, size / 2, p.clone(), root, leaf),
        ("wrong leaf", index, size, p.clone(), root, some_hash),
        ("empty root", index, size, p.clone(), empty_hash, leaf),
        ("random root", index, size, p.clone(), some_hash, leaf),
        (
            "trailing garbage",
            index,
            size,
            with_back(proof, garbage),
            root,
            leaf,
        ),
        (
            "trailing root",
            index,
            size,
            with_back(proof, root),
            root,
            leaf,
        ),
        (
            "preceding garbage",
            index,
            size,
            with_front(garbage, proof),
            root,
            leaf,
        ),
        (
            "preceding root",
            index,
            size,
            with_front(root, proof),
            root,
            leaf,
        ),
    ];
    for i in 0..proof.len() {
        probes.push((
            "modified proof bit 3",
            index,
            size,
            flip(proof, i, 0, 8),
            root,
            leaf,
        ));
    }
    if !proof.is_empty() {
        let removed = proof[..proof.len() - 1].to_vec();
        probes.push(("removed component", index, size, removed, root, leaf));
    }
    if proof.len() > 1 {
        let mut inserted = vec![proof[0], some_hash];
        inserted.extend_from_slice(&proof[1..]);
        probes.push(("inserted component", index, size, inserted, root, leaf));
    }
    probes
}

#[test]
fn published_inclusion_proofs() {
    let tree: ReferenceTree = load("reference_tree.json");
    let v: ProofVectors = load("proofs.json");
    let some_hash = d(&v.some_hash);
    let empty_hash = d(&v.empty_tree_hash);
    let full = MemTree::from_leaves(tree.leaves());
    let mut checked = 0;
    for vector in &v.inclusion {
        let want = ds(&vector.proof);
        let Some(index) = vector.leaf.checked_sub(1) else {
            // The source's invalid entry: leaf 0 (no such leaf) in the empty tree.
            assert_eq!(vector.size, 0);
            let mut src = Strict::new(&full, 0);
            assert_eq!(
                inclusion_proof(0, 0, &mut src),
                Err(ProofError::IndexBeyondSize { index: 0, size: 0 })
            );
            assert_eq!(
                verify_inclusion(&some_hash, 0, 0, &want, &empty_hash),
                Err(VerifyError::IndexBeyondSize { index: 0, size: 0 })
            );
            continue;
        };
        let size = vector.size;
        let mut src = Strict::new(&full, size);
        let proof = inclusion_proof(index, size, &mut src).unwrap();
        assert_eq!(proof, want, "inclusion_proof({index}, {size})");
        let mut tiles = Tiles {
            tree: &full,
            limit: size,
            calls: 0,
        };
        assert_eq!(inclusion_proof(index, size, &mut tiles).unwrap(), want);

        let leaf = leaf_hash(&hex::decode(&tree.leaf_inputs_hex[index as usize]).unwrap());
        let root = tree.root(size);
        verify_inclusion(&leaf, index, size, &want, &root).unwrap();
        for (desc, i, s, p, r, l) in
            inclusion_probes(index, size, &want, root, leaf, some_hash, empty_hash)
        {
            assert!(
                verify_inclusion(&l, i, s, &p, &r).is_err(),
                "probe '{desc}' of ({index}, {size}) verified"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 5);
}

/// (description, size1, size2, root1, root2, proof)
type ConsistencyProbe = (&'static str, u64, u64, Digest, Digest, Vec<Digest>);

/// The probes of transparency-dev/merkle's `invalidConsistencyProof`, with the
/// same adaptations as [`inclusion_probes`].
fn consistency_probes(
    size1: u64,
    size2: u64,
    root1: Digest,
    root2: Digest,
    proof: &[Digest],
    some_hash: Digest,
) -> Vec<ConsistencyProbe> {
    let p = proof.to_vec();
    let garbage = [0u8; 32];
    let mut probes = vec![
        ("size1 sub 1", size1 - 1, size2, root1, root2, p.clone()),
        ("size1 plus 1", size1 + 1, size2, root1, root2, p.clone()),
        ("size1 XOR 2", size1 ^ 2, size2, root1, root2, p.clone()),
        ("size2 mul 2", size1, size2 * 2, root1, root2, p.clone()),
        ("size2 div 2", size1, size2 / 2, root1, root2, p.clone()),
        ("wrong root1", size1, size2, some_hash, root2, p.clone()),
        ("wrong root2", size1, size2, root1, some_hash, p.clone()),
        ("swapped roots", size1, size2, root2, root1, p.clone()),
        ("empty proof", size1, size2, root1, root2, Vec::new()),
        (
            "trailing garbage",
            size1,
            size2,
            root1,
            root2,
            with_back(proof, garbage),
        ),
        (
            "trailing root1",
            size1,
            size2,
            root1,
            root2,
            with_back(proof, root1),
        ),
        (
            "trailing root2",
            size1,
            size2,
            root1,
            root2,
            with_back(proof, root2),
        ),
        (
            "preceding garbage",
            size1,
            size2,
            root1,
            root2,
            with_front(garbage, proof),
        ),
        (
            "preceding root1",
            size1,
            size2,
            root1,
            root2,
            with_front(root1, proof),
        ),
        (
            "preceding root2",
            size1,
            size2,
            root1,
            root2,
            with_front(root2, proof),
        ),
        (
            "preceding proof[0]",
            size1,
            size2,
            root1,
            root2,
            with_front(proof[0], proof),
        ),
        (
            "truncated proof",
            size1,
            size2,
            root1,
            root2,
            proof[..proof.len() - 1].to_vec(),
        ),
    ];
    for i in 0..proof.len() {
        probes.push((
            "modified proof bit 4",
            size1,
            size2,
            root1,
            root2,
            flip(proof, i, 0, 16),
        ));
    }
    probes
}

#[test]
fn published_consistency_proofs() {
    let tree: ReferenceTree = load("reference_tree.json");
    let v: ProofVectors = load("proofs.json");
    let some_hash = d(&v.some_hash);
    let full = MemTree::from_leaves(tree.leaves());
    for vector in &v.consistency {
        let (size1, size2) = (vector.size1, vector.size2);
        let want = ds(&vector.proof);
        let mut src = Strict::new(&full, size2);
        let proof = consistency_proof(size1, size2, &mut src).unwrap();
        assert_eq!(proof, want, "consistency_proof({size1}, {size2})");
        let mut tiles = Tiles {
            tree: &full,
            limit: size2,
            calls: 0,
        };
        assert_eq!(consistency_proof(size1, size2, &mut tiles).unwrap(), want);

        let (root1, root2) = (tree.root(size1), tree.root(size2));
        verify_consistency(size1, size2, &root1, &root2, &want).unwrap();
        if want.is_empty() {
            continue;
        }
        for (desc, s1, s2, r1, r2, p) in
            consistency_probes(size1, size2, root1, root2, &want, some_hash)
        {
            assert!(
                verify_consistency(s1, s2, &r1, &r2, &p).is_err(),
                "probe '{desc}' of ({size1}, {size2}) verified"
            );
        }
    }
}

/// Proof node layouts from transparency-dev/merkle's proof_test.go.
#[test]
fn published_proof_shapes() {
    let v: ProofShapes = load("proof_shapes.json");
    let expected = |tree: &MemTree, nodes: &[(u8, u64)], rehash: Option<(usize, usize)>| {
        let mut t = tree;
        let hashes: Vec<Digest> = nodes
            .iter()
            .map(|&(l, i)| t.node(l, i).expect("published node is complete"))
            .collect();
        let Some((begin, end)) = rehash else {
            return hashes;
        };
        let mut out = hashes[..begin].to_vec();
        let mut h = hashes[begin];
        for n in &hashes[begin + 1..end] {
            h = node_hash(n, &h);
        }
        out.push(h);
        out.extend_from_slice(&hashes[end..]);
        out
    };
    for case in &v.inclusion {
        let tree = MemTree::from_leaves(synthetic_leaves(case.size));
        let mut src = Strict::new(&tree, case.size);
        let got = inclusion_proof(case.index, case.size, &mut src);
        if case.error {
            assert!(
                matches!(got, Err(ProofError::IndexBeyondSize { .. })),
                "inclusion {} {}",
                case.index,
                case.size
            );
            continue;
        }
        let want = expected(&tree, &case.nodes, case.rehash);
        assert_eq!(got.unwrap(), want, "inclusion {} {}", case.index, case.size);
    }
    for case in &v.consistency {
        let tree = MemTree::from_leaves(synthetic_leaves(case.size2.max(case.size1)));
        let mut src = Strict::new(&tree, case.size2);
        let got = consistency_proof(case.size1, case.size2, &mut src);
        if case.error {
            assert!(
                matches!(got, Err(ProofError::BadRange { .. })),
                "consistency {} {}",
                case.size1,
                case.size2
            );
            continue;
        }
        let want = expected(&tree, &case.nodes, case.rehash);
        assert_eq!(
            got.unwrap(),
            want,
            "consistency {} {}",
            case.size1,
            case.size2
        );
    }
}

/// The accumulated "Subtree Test Vectors" (draft-ietf-plants-merkle-tree-certs)
/// as reproduced by transparency-dev/merkle testonly/vectors_test.go: every
/// subtree root and every inclusion proof in every subtree of a 130-leaf
/// tree, folded into one SHA-256 each.
#[test]
fn published_subtree_vectors() {
    let v: SubtreeVectors = load("subtree_vectors.json");
    let n = v.max_size;
    let leaves: Vec<Digest> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
    let full = MemTree::from_leaves(leaves.iter().copied());
    let valid = |start: u64, end: u64| {
        start == 0 || start.is_multiple_of((end - start).next_power_of_two())
    };

    let mut roots = Sha256::new();
    let mut proofs = Sha256::new();
    let mut subtrees = 0;
    for end in 1..=n {
        for start in 0..end {
            if !valid(start, end) {
                let mut src = Strict::new(&full, end);
                assert_eq!(
                    range_root(start, end, &mut src),
                    Err(ProofError::InvalidSubtree { start, end })
                );
                continue;
            }
            subtrees += 1;
            let sub = MemTree::from_leaves(leaves[start as usize..end as usize].iter().copied());
            let mut src = Strict::new(&full, end);
            let r = range_root(start, end, &mut src).unwrap();
            assert_eq!(r, sub.root());
            roots.update(format!("[{start}, {end}) {}\n", hex::encode(r)));
            for index in start..end {
                let mut src = Strict::new(&sub, end - start);
                let proof = inclusion_proof(index - start, end - start, &mut src).unwrap();
                let mut line = format!("{index} [{start}, {end})");
                for h in &proof {
                    line.push(' ');
                    line.push_str(&hex::encode(h));
                }
                line.push('\n');
                proofs.update(line);
            }
        }
    }
    assert!(subtrees > n);
    assert_eq!(hex::encode(roots.finalize()), v.subtree_hash_digest);
    assert_eq!(
        hex::encode(proofs.finalize()),
        v.subtree_inclusion_proof_digest
    );
}

/// transparency-dev/merkle's static consistency probes (cmd/proofgen
/// `staticConsistencyProbes`), with its placeholder roots ("don't care 1/2")
/// replaced by two distinct hashes.
#[test]
fn published_static_consistency_probes() {
    let v: ProofVectors = load("proofs.json");
    let empty = d(&v.empty_tree_hash);
    let r1 = leaf_hash(b"don't care 1");
    let r2 = leaf_hash(b"don't care 2");
    let none: Vec<Digest> = Vec::new();
    let one = vec![empty];
    type Case<'a> = (
        u64,
        u64,
        Digest,
        Digest,
        &'a Vec<Digest>,
        Option<VerifyError>,
    );
    let cases: Vec<Case> = vec![
        (
            0,
            0,
            r1,
            r2,
            &none,
            Some(VerifyError::EmptyOldTree { new: 0 }),
        ),
        (1, 1, r1, r2, &none, Some(VerifyError::RootMismatch)),
        (
            0,
            0,
            r1,
            r1,
            &none,
            Some(VerifyError::EmptyOldTree { new: 0 }),
        ),
        (
            0,
            1,
            r1,
            r2,
            &none,
            Some(VerifyError::EmptyOldTree { new: 1 }),
        ),
        (1, 1, r2, r2, &none, None),
        (
            1,
            0,
            r1,
            r2,
            &none,
            Some(VerifyError::BadRange { old: 1, new: 0 }),
        ),
        (
            2,
            1,
            r1,
            r2,
            &none,
            Some(VerifyError::BadRange { old: 2, new: 1 }),
        ),
        (
            1,
            2,
            r1,
            r2,
            &none,
            Some(VerifyError::WrongProofLength {
                expected: 1,
                found: 0,
            }),
        ),
        (
            0,
            0,
            empty,
            r2,
            &none,
            Some(VerifyError::EmptyOldTree { new: 0 }),
        ),
        (1, 1, empty, r2, &none, Some(VerifyError::RootMismatch)),
        (
            0,
            0,
            empty,
            empty,
            &one,
            Some(VerifyError::EmptyOldTree { new: 0 }),
        ),
        (
            1,
            1,
            empty,
            empty,
            &one,
            Some(VerifyError::WrongProofLength {
                expected: 0,
                found: 1,
            }),
        ),
        (
            0,
            1,
            empty,
            r2,
            &none,
            Some(VerifyError::EmptyOldTree { new: 1 }),
        ),
        (
            0,
            1,
            empty,
            empty,
            &one,
            Some(VerifyError::EmptyOldTree { new: 1 }),
        ),
    ];
    for (s1, s2, a, b, proof, want) in cases {
        let got = verify_consistency(s1, s2, &a, &b, proof);
        assert_eq!(got, want.map_or(Ok(()), Err), "({s1}, {s2})");
    }
}

/// transparency-dev/merkle's static and single-entry inclusion probes
/// (cmd/proofgen `staticInclusionProbes`, `singleEntryInclusionProbes`); the
/// empty byte strings used there as hashes become all-zero hashes here.
#[test]
fn published_static_inclusion_probes() {
    let v: ProofVectors = load("proofs.json");
    let some = d(&v.some_hash);
    let empty = d(&v.empty_tree_hash);
    let zero = [0u8; 32];
    for (index, size) in [(0, 0), (0, 1), (1, 0), (2, 1)] {
        for (root, leaf) in [(zero, some), (empty, zero), (empty, some)] {
            let got = verify_inclusion(&leaf, index, size, &[], &root);
            let want = if index < size {
                VerifyError::RootMismatch
            } else {
                VerifyError::IndexBeyondSize { index, size }
            };
            assert_eq!(got, Err(want), "({index}, {size})");
        }
    }
    // Single entry: the root of a one-leaf tree is its leaf hash. (The
    // source's fourth case, empty root and empty leaf, fails there only on
    // the hash length, which a `Digest` cannot get wrong.)
    let hash = leaf_hash(b"data");
    assert_eq!(verify_inclusion(&hash, 0, 1, &[], &hash), Ok(()));
    assert_eq!(
        verify_inclusion(&zero, 0, 1, &[], &hash),
        Err(VerifyError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&hash, 0, 1, &[], &zero),
        Err(VerifyError::RootMismatch)
    );
}

// ---------------------------------------------------------------------------
// Part 2: properties against the RFC's recursive definitions
// ---------------------------------------------------------------------------

fn arb_tree() -> impl Strategy<Value = (u64, u64, u64)> {
    (1u64..=3000).prop_flat_map(|size| (Just(size), 0..size, 1..=size))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn proofs_match_rfc_and_verify((size, index, old) in arb_tree(), extra in 0u64..40) {
        let leaves = synthetic_leaves(size + extra);
        let tree = MemTree::from_leaves(leaves.iter().copied());
        let d = &leaves[..size as usize];

        let want_root = ref_mth(d);
        let mut src = Strict::new(&tree, size);
        prop_assert_eq!(root(size, &mut src).unwrap(), want_root);
        prop_assert!(src.calls <= call_bound(size));

        let mut src = Strict::new(&tree, size);
        let proof = inclusion_proof(index, size, &mut src).unwrap();
        prop_assert!(src.calls <= call_bound(size), "{} calls", src.calls);
        prop_assert_eq!(&proof, &ref_path(index as usize, d));
        prop_assert_eq!(verify_inclusion(&d[index as usize], index, size, &proof, &want_root), Ok(()));

        let mut tiles = Tiles { tree: &tree, limit: size, calls: 0 };
        prop_assert_eq!(&inclusion_proof(index, size, &mut tiles).unwrap(), &proof);
        prop_assert!(tiles.calls <= call_bound(size));

        let old_root = ref_mth(&d[..old as usize]);
        let mut src = Strict::new(&tree, size);
        let cproof = consistency_proof(old, size, &mut src).unwrap();
        prop_assert!(src.calls <= call_bound(size) + 1, "{} calls", src.calls);
        prop_assert_eq!(&cproof, &ref_consistency(old as usize, d));
        prop_assert_eq!(verify_consistency(old, size, &old_root, &want_root, &cproof), Ok(()));

        let mut tiles = Tiles { tree: &tree, limit: size, calls: 0 };
        prop_assert_eq!(&consistency_proof(old, size, &mut tiles).unwrap(), &cproof);
        let mut tiles = Tiles { tree: &tree, limit: size, calls: 0 };
        prop_assert_eq!(root(size, &mut tiles).unwrap(), want_root);
    }

    #[test]
    fn frontier_tracks_tree(size in 0u64..=3000, cut in 0u64..=3000) {
        let leaves = synthetic_leaves(size);
        let tree = MemTree::from_leaves(leaves.iter().copied());
        let mut frontier = Frontier::new();
        let mut reported = 0u64;
        for (i, leaf) in leaves.iter().enumerate() {
            if i as u64 == cut.min(size) {
                // Restart from the serialized form half-way.
                frontier = Frontier::from_bytes(&frontier.to_bytes()).unwrap();
            }
            let mut last_level = None;
            frontier.push(*leaf, |level, index, hash| {
                let mut t = &tree;
                assert_eq!(t.node(level, index).unwrap(), *hash, "({level}, {index})");
                assert_eq!(level, last_level.map_or(0, |l: u8| l + 1));
                last_level = Some(level);
                reported += 1;
            });
            let n = i as u64 + 1;
            let mut src = Strict::new(&tree, n);
            prop_assert_eq!(frontier.root(), root(n, &mut src).unwrap());
        }
        // Every complete node was reported exactly once.
        let complete: u64 = (0..64).map(|l| size >> l).sum();
        prop_assert_eq!(reported, complete);
        prop_assert_eq!(frontier.size(), size);
        prop_assert_eq!(frontier.root(), ref_mth(&leaves));
        prop_assert_eq!(frontier.hashes().len() as u32, size.count_ones());
        for level in 0..64u8 {
            match frontier.at_level(level) {
                Some((index, hash)) => {
                    prop_assert!((size >> level) & 1 == 1);
                    let mut t = &tree;
                    prop_assert_eq!(t.node(level, index).unwrap(), *hash);
                    prop_assert_eq!(frontier.get(level, index), Some(hash));
                    prop_assert_eq!(frontier.get(level, index + 1), None);
                }
                None => prop_assert!((size >> level) & 1 == 0),
            }
        }
        let bytes = frontier.to_bytes();
        prop_assert_eq!(bytes.len(), 8 + 32 * size.count_ones() as usize);
        prop_assert_eq!(&bytes[..8], &size.to_be_bytes()[..]);
        let back = Frontier::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &frontier);
        // Wrong lengths are rejected.
        for len in [0, 7, bytes.len() - 1, bytes.len() + 1, bytes.len() + 32] {
            let mut b = bytes.clone();
            b.resize(len, 0);
            let err = Frontier::from_bytes(&b).unwrap_err();
            if len < 8 {
                prop_assert_eq!(err, FrontierError::TooShort { found: len });
            } else {
                prop_assert!(matches!(err, FrontierError::WrongLength { .. }), "{:?}", err);
            }
        }
    }

    #[test]
    fn subtree_root_matches_rfc(size in 0usize..600) {
        let leaves = synthetic_leaves(size as u64);
        prop_assert_eq!(subtree_root(&leaves), ref_mth(&leaves));
    }
}

// ---------------------------------------------------------------------------
// Part 3: rejection
// ---------------------------------------------------------------------------

#[test]
fn generation_rejects_bad_arguments() {
    let tree = MemTree::from_leaves(synthetic_leaves(10));
    let mut t = &tree;
    assert_eq!(
        inclusion_proof(10, 10, &mut t),
        Err(ProofError::IndexBeyondSize {
            index: 10,
            size: 10
        })
    );
    assert_eq!(
        inclusion_proof(0, 0, &mut t),
        Err(ProofError::IndexBeyondSize { index: 0, size: 0 })
    );
    assert_eq!(
        consistency_proof(5, 4, &mut t),
        Err(ProofError::BadRange { old: 5, new: 4 })
    );
    assert_eq!(
        consistency_proof(0, 4, &mut t),
        Err(ProofError::BadRange { old: 0, new: 4 })
    );
    assert_eq!(
        consistency_proof(0, 0, &mut t),
        Err(ProofError::BadRange { old: 0, new: 0 })
    );
    assert_eq!(consistency_proof(4, 4, &mut t), Ok(Vec::new()));
    assert_eq!(
        range_root(3, 3, &mut t),
        Err(ProofError::InvalidSubtree { start: 3, end: 3 })
    );
    assert_eq!(
        range_root(2, 5, &mut t),
        Err(ProofError::InvalidSubtree { start: 2, end: 5 })
    );
    // A source error comes back as ProofError::Source.
    let small = MemTree::from_leaves(synthetic_leaves(3));
    let mut s = &small;
    assert_eq!(
        inclusion_proof(0, 8, &mut s),
        Err(ProofError::Source(MissingNode { level: 1, index: 1 }))
    );
    assert_eq!(root(8, &mut s), Err(MissingNode { level: 3, index: 0 }));
    let err: Box<dyn std::error::Error> = Box::new(inclusion_proof(0, 8, &mut s).unwrap_err());
    assert!(err.source().is_some());
    assert!(!err.to_string().is_empty());
}

#[test]
fn verification_rejects_index_and_range_errors() {
    let leaves = synthetic_leaves(20);
    let tree = MemTree::from_leaves(leaves.iter().copied());
    let r = tree.root();
    for (index, size) in [(20, 20), (21, 20), (0, 0), (u64::MAX, 20), (5, 3)] {
        let e = verify_inclusion(&leaves[0], index, size, &[], &r).unwrap_err();
        assert_eq!(e, VerifyError::IndexBeyondSize { index, size });
        assert!(e.is_malformed() && !e.is_mismatch());
    }
    let e = verify_consistency(21, 20, &r, &r, &[]).unwrap_err();
    assert_eq!(e, VerifyError::BadRange { old: 21, new: 20 });
    assert!(e.is_malformed());
    assert_eq!(
        verify_consistency(0, 20, &empty_root(), &r, &[]),
        Err(VerifyError::EmptyOldTree { new: 20 })
    );
}

#[test]
fn verification_rejects_wrong_lengths() {
    let leaves = synthetic_leaves(70);
    let tree = MemTree::from_leaves(leaves.iter().copied());
    for size in 1..=70u64 {
        let mut t = &tree;
        let r = root(size, &mut t).unwrap();
        for index in 0..size {
            let proof = inclusion_proof(index, size, &mut t).unwrap();
            let leaf = &leaves[index as usize];
            let n = proof.len();
            let longer = with_back(&proof, r);
            let e = verify_inclusion(leaf, index, size, &longer, &r).unwrap_err();
            assert_eq!(
                e,
                VerifyError::WrongProofLength {
                    expected: n,
                    found: n + 1
                }
            );
            if n > 0 {
                let shorter = &proof[..n - 1];
                let e = verify_inclusion(leaf, index, size, shorter, &r).unwrap_err();
                assert_eq!(
                    e,
                    VerifyError::WrongProofLength {
                        expected: n,
                        found: n - 1
                    }
                );
                let e = verify_inclusion(leaf, index, size, &proof[1..], &r).unwrap_err();
                assert!(e.is_malformed());
            }
        }
        for old in 1..=size {
            let old_root = root(old, &mut t).unwrap();
            let proof = consistency_proof(old, size, &mut t).unwrap();
            let n = proof.len();
            let longer = with_front(old_root, &proof);
            let e = verify_consistency(old, size, &old_root, &r, &longer).unwrap_err();
            assert_eq!(
                e,
                VerifyError::WrongProofLength {
                    expected: n,
                    found: n + 1
                }
            );
            if n > 0 {
                let e = verify_consistency(old, size, &old_root, &r, &proof[..n - 1]).unwrap_err();
                assert_eq!(
                    e,
                    VerifyError::WrongProofLength {
                        expected: n,
                        found: n - 1
                    }
                );
            }
        }
    }
}

#[test]
fn verification_rejects_every_flipped_byte() {
    let leaves = synthetic_leaves(40);
    let tree = MemTree::from_leaves(leaves.iter().copied());
    let mut t = &tree;
    for size in 1..=40u64 {
        let r = root(size, &mut t).unwrap();
        for index in 0..size {
            let leaf = leaves[index as usize];
            let proof = inclusion_proof(index, size, &mut t).unwrap();
            verify_inclusion(&leaf, index, size, &proof, &r).unwrap();
            for i in 0..proof.len() {
                for byte in 0..32 {
                    let bad = flip(&proof, i, byte, 0x01);
                    let e = verify_inclusion(&leaf, index, size, &bad, &r).unwrap_err();
                    assert_eq!(e, VerifyError::RootMismatch);
                    assert!(e.is_mismatch() && !e.is_malformed());
                }
            }
            for byte in 0..32 {
                let mut bad_leaf = leaf;
                bad_leaf[byte] ^= 0x80;
                let mut bad_root = r;
                bad_root[byte] ^= 0x80;
                let e1 = verify_inclusion(&bad_leaf, index, size, &proof, &r);
                let e2 = verify_inclusion(&leaf, index, size, &proof, &bad_root);
                assert_eq!(e1, Err(VerifyError::RootMismatch));
                assert_eq!(e2, Err(VerifyError::RootMismatch));
            }
        }
        for old in 1..=size {
            let old_root = root(old, &mut t).unwrap();
            let proof = consistency_proof(old, size, &mut t).unwrap();
            verify_consistency(old, size, &old_root, &r, &proof).unwrap();
            for i in 0..proof.len() {
                for byte in 0..32 {
                    let bad = flip(&proof, i, byte, 0x01);
                    let e = verify_consistency(old, size, &old_root, &r, &bad).unwrap_err();
                    assert!(e.is_mismatch(), "({old}, {size}) [{i}][{byte}]: {e}");
                }
            }
            for byte in 0..32 {
                let mut bad_old = old_root;
                bad_old[byte] ^= 0x80;
                let mut bad_new = r;
                bad_new[byte] ^= 0x80;
                let e1 = verify_consistency(old, size, &bad_old, &r, &proof).unwrap_err();
                let e2 = verify_consistency(old, size, &old_root, &bad_new, &proof).unwrap_err();
                assert!(e1.is_mismatch(), "({old}, {size}) old root byte {byte}");
                assert_eq!(e2, VerifyError::RootMismatch);
            }
        }
    }
}

#[test]
fn verification_rejects_wrong_index_or_size() {
    // A valid proof presented for any other index or tree size of the same
    // tree never verifies.
    let leaves = synthetic_leaves(33);
    let tree = MemTree::from_leaves(leaves.iter().copied());
    let mut t = &tree;
    let roots: Vec<Digest> = (0..=33).map(|s| root(s, &mut t).unwrap()).collect();
    for size in 1..=33u64 {
        for index in 0..size {
            let proof = inclusion_proof(index, size, &mut t).unwrap();
            let leaf = leaves[index as usize];
            for other_size in 1..=33u64 {
                for other_index in 0..other_size {
                    if (other_index, other_size) == (index, size) {
                        continue;
                    }
                    let r = &roots[other_size as usize];
                    assert!(
                        verify_inclusion(&leaf, other_index, other_size, &proof, r).is_err(),
                        "proof for ({index}, {size}) accepted as ({other_index}, {other_size})"
                    );
                }
            }
        }
    }
    for new in 2..=33u64 {
        for old in 1..new {
            let proof = consistency_proof(old, new, &mut t).unwrap();
            for other_old in 1..=new {
                if other_old == old {
                    continue;
                }
                let (r1, r2) = (&roots[old as usize], &roots[new as usize]);
                assert!(
                    verify_consistency(other_old, new, r1, r2, &proof).is_err(),
                    "proof ({old}, {new}) accepted for old size {other_old}"
                );
            }
        }
    }
}

#[test]
fn frontier_rejects_bad_bytes() {
    assert_eq!(
        Frontier::from_bytes(&[]),
        Err(FrontierError::TooShort { found: 0 })
    );
    assert_eq!(
        Frontier::from_bytes(&[0; 7]),
        Err(FrontierError::TooShort { found: 7 })
    );
    assert_eq!(Frontier::from_bytes(&[0; 8]), Ok(Frontier::new()));
    assert_eq!(
        Frontier::from_bytes(&[0; 40]),
        Err(FrontierError::WrongLength {
            size: 0,
            expected: 8,
            found: 40
        })
    );
    let mut b = 3u64.to_be_bytes().to_vec();
    b.extend_from_slice(&[7; 32]);
    assert_eq!(
        Frontier::from_bytes(&b),
        Err(FrontierError::WrongLength {
            size: 3,
            expected: 72,
            found: 40
        })
    );
    let mut b = u64::MAX.to_be_bytes().to_vec();
    b.extend_from_slice(&[7; 32 * 64]);
    let f = Frontier::from_bytes(&b).unwrap();
    assert_eq!(f.size(), u64::MAX);
    assert_eq!(f.hashes().len(), 64);
    assert_eq!(f.at_level(63), Some((0, &[7; 32])));
    assert_eq!(f.at_level(0), Some((u64::MAX - 1, &[7; 32])));
    assert!(!FrontierError::TooShort { found: 1 }.to_string().is_empty());
}

#[test]
fn large_sizes_do_not_overflow() {
    // A tree whose leaves are all the same: its complete nodes depend only on
    // the level, so a source can answer for sizes near 2^64.
    struct Uniform(Vec<Digest>);
    impl NodeSource for Uniform {
        type Error = std::convert::Infallible;
        fn node(&mut self, level: u8, _index: u64) -> Result<Digest, Self::Error> {
            Ok(self.0[usize::from(level)])
        }
    }
    let mut levels = vec![leaf_hash(b"same")];
    for l in 0..63 {
        let h = levels[l];
        levels.push(node_hash(&h, &h));
    }
    let mut src = Uniform(levels);
    // Cross-check the uniform source on a small size against MemTree.
    let small = MemTree::from_leaves(std::iter::repeat_n(src.0[0], 77));
    assert_eq!(root(77, &mut src).unwrap(), small.root());
    let mut s = &small;
    assert_eq!(
        inclusion_proof(40, 77, &mut src).unwrap(),
        inclusion_proof(40, 77, &mut s).unwrap()
    );
    assert_eq!(
        consistency_proof(13, 77, &mut src).unwrap(),
        consistency_proof(13, 77, &mut s).unwrap()
    );
    let mut other = Uniform(src.0.iter().map(|h| node_hash(h, h)).collect());
    for size in [u64::MAX, u64::MAX - 1, 1 << 63, (1 << 63) + 1] {
        let r = root(size, &mut src).unwrap();
        assert_ne!(r, root(size, &mut other).unwrap());
        for index in [0, size / 2, size - 1] {
            let proof = inclusion_proof(index, size, &mut src).unwrap();
            assert!(proof.len() <= 64);
            let leaf = src.0[0];
            assert_eq!(verify_inclusion(&leaf, index, size, &proof, &r), Ok(()));
            let wrong = root(size - 1, &mut src).unwrap();
            assert!(verify_inclusion(&leaf, index, size, &proof, &wrong).is_err());
        }
        for old in [1, 3, size / 2, size - 1] {
            let old_root = root(old, &mut src).unwrap();
            let proof = consistency_proof(old, size, &mut src).unwrap();
            assert_eq!(verify_consistency(old, size, &old_root, &r, &proof), Ok(()));
        }
        assert_eq!(
            inclusion_proof(size, size, &mut src),
            Err(ProofError::IndexBeyondSize { index: size, size })
        );
    }
    let e = verify_inclusion(&src.0[0], u64::MAX, u64::MAX, &[], &src.0[0]);
    assert_eq!(
        e,
        Err(VerifyError::IndexBeyondSize {
            index: u64::MAX,
            size: u64::MAX
        })
    );
}

#[test]
#[should_panic(expected = "Merkle tree is full")]
fn frontier_push_panics_when_full() {
    let mut b = u64::MAX.to_be_bytes().to_vec();
    b.extend_from_slice(&[7; 32 * 64]);
    let mut f = Frontier::from_bytes(&b).unwrap();
    f.push([1; 32], |_, _, _| {});
}
