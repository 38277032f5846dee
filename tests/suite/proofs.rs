//! The Merkle tree the ledger keeps: it equals an RFC 6962 tree built from the
//! chain hashes by a reference implementation, whatever mix of single appends
//! and batches built the ledger; its proofs verify; it survives reopening and
//! is rebuilt when missing.

use crate::common;

use demarche::ledger::Ledger;
use demarche::merkle::{self, MemTree};
use demarche::store::MemStore;

fn chain_hashes(l: &Ledger) -> Vec<[u8; 32]> {
    l.iter(1, u64::MAX)
        .expect("iter")
        .map(|r| r.expect("record").hash.0)
        .collect()
}

fn reference(l: &Ledger) -> MemTree {
    MemTree::from_leaves(chain_hashes(l).iter().map(|h| merkle::leaf_hash(h)))
}

/// A ledger past the first tile of level 8 (65,536 leaves), built from
/// single appends and batches of awkward sizes.
fn big_ledger() -> Ledger {
    let mut l = Ledger::in_memory();
    l.set_clock(|| 1_795_953_600_000_000);
    let mut i = 0;
    for batch in [1u64, 1, 255, 2, 300, 65_000, 1, 700] {
        let events: Vec<_> = (0..batch)
            .map(|_| {
                i += 1;
                Ok(common::statement(i))
            })
            .collect();
        l.append_batch(events).expect("batch");
    }
    l
}

#[test]
fn the_stored_tree_is_the_reference_tree_and_its_proofs_verify() {
    let l = big_ledger();
    let reference = reference(&l);
    let size = reference.size();
    assert_eq!(size, 66_260);
    let (n, root) = l.tree_head().expect("tree head");
    assert_eq!((n, root), (size, reference.root()));
    for old in [
        1u64,
        2,
        255,
        256,
        257,
        511,
        65_535,
        65_536,
        65_537,
        size - 1,
    ] {
        let mut r = MemTree::from_leaves(reference.leaves()[..old as usize].iter().copied());
        let expected = merkle::root(old, &mut r).expect("root");
        assert_eq!(l.tree_root(old).expect("root"), expected, "root at {old}");
        let proof = l.consistency_proof(old, size).expect("consistency");
        merkle::verify_consistency(old, size, &expected, &root, &proof)
            .unwrap_or_else(|e| panic!("consistency {old} -> {size}: {e}"));
    }
    for seq in [1u64, 2, 256, 257, 1000, 65_536, 65_537, size] {
        for at in [seq, size] {
            let proof = l.inclusion_proof(seq, at).expect("inclusion");
            let root = l.tree_root(at).expect("root");
            let leaf = reference.leaves()[seq as usize - 1];
            merkle::verify_inclusion(&leaf, seq - 1, at, &proof, &root)
                .unwrap_or_else(|e| panic!("inclusion of {seq} in {at}: {e}"));
        }
    }
    assert!(l.inclusion_proof(size + 1, size).is_err());
    assert!(l.inclusion_proof(0, size).is_err());
    assert!(l.consistency_proof(0, size).is_err());
    assert!(l.consistency_proof(10, size + 1).is_err());
}

#[test]
fn the_tree_survives_reopening_and_is_rebuilt_when_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), 20, 600);
    let (size, root) = {
        let l = common::open(dir.path());
        let r = reference(&l);
        let head = l.tree_head().expect("tree head");
        assert_eq!(head, (r.size(), r.root()));
        head
    };
    // Reopened, appended to: the tree grows from its stored frontier.
    {
        let mut l = common::open(dir.path());
        l.append(common::statement(9999)).expect("append");
        let r = reference(&l);
        assert_eq!(l.tree_head().expect("tree head"), (size + 1, r.root()));
        let proof = l.consistency_proof(size, size + 1).expect("proof");
        merkle::verify_consistency(size, size + 1, &root, &r.root(), &proof).expect("consistent");
    }
    // The frontier and tiles deleted (a ledger from before the tree): rebuilt.
    common::with_tree(dir.path(), |t| {
        let keys: Vec<_> = t
            .prefix_keys(b"m")
            .into_iter()
            .filter(|k| k.starts_with(b"mmerkle") || k.starts_with(b"mtile/"))
            .collect();
        assert!(!keys.is_empty());
        for k in keys {
            t.remove(k).expect("remove");
        }
    });
    let l = common::open(dir.path());
    let r = reference(&l);
    assert_eq!(l.tree_head().expect("tree head"), (size + 1, r.root()));
}

#[test]
fn a_failed_batch_leaves_the_tree_as_it_was() {
    let mut l = Ledger::with_store(Box::new(MemStore::default()));
    l.append_batch((1..=10).map(|i| Ok(common::statement(i))))
        .expect("batch");
    let before = l.tree_head().expect("tree head");
    let bad = demarche::json::parse_event(
        r#"{"type":"statement","said_on":"2021-01-01","party":"NOWHERE","stance":"denies","proposition":{"predicate":"presence","subjects":[]},"quote":"q","source":{"publisher":"p"}}"#,
    )
    .expect("parses");
    let items = (11..=400)
        .map(|i| Ok(common::statement(i)))
        .chain(std::iter::once(Ok(bad)));
    assert!(l.append_batch(items).is_err());
    assert_eq!(l.tree_head().expect("tree head"), before);
    l.append(common::statement(11)).expect("append");
    assert_eq!(l.tree_head().expect("tree head").1, reference(&l).root());
}

#[test]
fn batches_of_a_few_blocks_and_refused_ones_keep_the_tree() {
    // Batches that fill fewer full blocks than are handed on at once: their
    // blocks are sealed once the batch ends, and the tree grows by them in
    // order. A batch of each size refused at its last event leaves it as it was.
    let mut l = Ledger::in_memory();
    l.set_clock(|| 1_795_953_600_000_000);
    l.append(common::statement(0)).expect("append");
    let mut i = 0;
    let mut next = |n: u64| -> Vec<Result<_, demarche::input::InputError>> {
        (0..n)
            .map(|_| {
                i += 1;
                Ok(common::statement(i))
            })
            .collect()
    };
    for n in [20u64, 60, 120] {
        l.append_batch(next(n)).expect("batch");
        let r = reference(&l);
        assert_eq!(
            l.tree_head().expect("tree head"),
            (r.size(), r.root()),
            "{n}"
        );
        let mut refused = next(n);
        *refused.last_mut().expect("events") =
            Err(demarche::input::InputError::new("party", "bad"));
        assert!(l.append_batch(refused).is_err());
        assert_eq!(
            l.tree_head().expect("tree head"),
            (r.size(), r.root()),
            "{n}"
        );
    }
    assert_eq!(l.head().expect("head").size, 201);
    let report = l.verify(None).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problem);
}
