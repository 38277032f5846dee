//! Verification: every stored record re-hashed from its bytes, every link,
//! the stored head (and a head saved earlier), and the derived data the
//! chain makes (the Merkle tree) checked against the chain.

use super::read::Span;
use super::{Ledger, LedgerError, Result};
use crate::chain::{self, Problem, Verifier};
use crate::codec::{self, FormatError, RecordHeader};
use crate::event::{Hash, Head, Seq};
use crate::multiset::{BlockSum, KeyedSum};
use crate::store::StoreError;
use crate::{merkle, tree};
use std::collections::BTreeMap;

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
    /// The seq of the positions snapshot compared with the chain, when a query
    /// would have used one (one sealed under this user's cache key and bound
    /// to this chain) and the chain is intact up to the comparison.
    pub snapshot_checked: Option<Seq>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

impl Ledger {
    /// Re-hashes every stored event and checks every link, the stored head and,
    /// when given, a head saved earlier (`SIZE`, `HASH`): a ledger that does not
    /// pass through it was truncated or rewritten. Also checks the derived
    /// data against the chain: rebuilds the Merkle tree and compares it with
    /// the stored one (and reports its root), compares the actor and digest
    /// indexes, and compares the positions snapshot a query would start from
    /// with what the chain makes up to its seq.
    ///
    /// # Errors
    /// Only store failures; integrity problems are in the report.
    pub fn verify(&self, expect: Option<(u64, Hash)>) -> Result<VerifyReport> {
        self.verify_with(expect, true, true)
    }

    /// [`verify`](Self::verify) of what signatures and proofs rest on: the
    /// chain, the Merkle tree and the indexes appends rely on, but not the
    /// positions snapshot, which nothing signed, exported or proved reads.
    ///
    /// # Errors
    /// Only store failures; integrity problems are in the report.
    pub fn verify_for_signing(&self, expect: Option<(u64, Hash)>) -> Result<VerifyReport> {
        self.verify_with(expect, true, false)
    }

    /// [`verify`](Self::verify) of the chain alone: the Merkle tree (derived
    /// data, from which proofs are made) is neither rebuilt nor compared, which
    /// saves about a third of the time. `tree_root` is then `None`.
    ///
    /// # Errors
    /// Only store failures; integrity problems are in the report.
    pub fn verify_chain(&self, expect: Option<(u64, Hash)>) -> Result<VerifyReport> {
        self.verify_with(expect, false, false)
    }

    fn verify_with(
        &self,
        expect: Option<(u64, Hash)>,
        with_tree: bool,
        with_snapshot: bool,
    ) -> Result<VerifyReport> {
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
        let mut tiles: BTreeMap<(u8, u64), Vec<u8>> = BTreeMap::new();
        let mut refs: Vec<(Seq, Hash, Option<Seq>)> = Vec::new();
        let span = Span {
            from: 1,
            to: head.size,
            past_head: true,
            parallel: true,
        };
        // Derived data compared by order-free sums (`multiset`), each side
        // summed where it is read, under a key drawn for this run: the digest
        // index (when one is bound to this chain), and the positions snapshot
        // a query would believe.
        let snapshot = match with_snapshot && self.cache.usable() {
            true => self.load_snapshot(&head)?,
            false => None,
        };
        let key = match with_tree {
            true => draw_key()?,
            false => [0; 32],
        };
        let cover = match with_tree {
            true => self.digest_index_cover(&head)?,
            false => None,
        };
        let sums = Sums {
            head: head.size,
            block: BlockSum::new(key),
            facts: KeyedSum::new(key),
            digests_upto: cover.map(|c| c.upto()),
            facts_upto: snapshot.as_ref().map(|s| s.seq),
        };
        let mut chain_digests = sums.digests_upto.map(|_| sums.block.clone());
        let mut chain_facts = sums.facts_upto.map(|_| Ok(sums.facts.clone()));
        // Blocks are opened and their records hashed on two threads; this one
        // links them and grows the tree; the stored sides of the sums are
        // made meanwhile on another.
        let (walked, held) = std::thread::scope(|scope| {
            let held = scope.spawn(|| -> Result<Held> {
                let digests = match cover {
                    Some(cover) => Some(self.stored_digest_sum(key, cover)?),
                    None => None,
                };
                let facts = snapshot.as_ref().map(|snap| {
                    snap.fact_sum(sums.facts.clone(), &mut |i| {
                        self.snapshot_chunk(snap.seq, i)
                    })
                });
                Ok(Held { digests, facts })
            });
            let mut each = |o: Opened| -> Result<bool> {
                for (key, part) in o.blocks {
                    let part = match part {
                        Ok(part) => part,
                        Err(error) if key <= head.size => {
                            problem = Some(Problem::Malformed {
                                seq: v.checked() + 1,
                                error,
                            });
                            return Ok(false);
                        }
                        Err(_) => continue,
                    };
                    if key > head.size {
                        if !staging {
                            problem = Some(Problem::BeyondHead {
                                seq: key,
                                head_size: head.size,
                            });
                            return Ok(false);
                        }
                        // As many as a read of the records meets, the
                        // one that does not parse among them.
                        staged += (part.heads.len() + usize::from(part.malformed.is_some())) as u64;
                        continue;
                    }
                    let heads = &o.heads[part.heads.clone()];
                    let whole = part.malformed.is_none();
                    if let Err(p) = v.feed_read_block(key, part.empty, heads, part.malformed) {
                        problem = Some(p);
                        return Ok(false);
                    }
                    refs.extend_from_slice(&o.refs[part.refs]);
                    // (A block with a record that does not parse fails above.)
                    let leaves = o.leaves.get(part.heads).filter(|_| whole);
                    for leaf in leaves.unwrap_or_default() {
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
                // Every block of the group is in the chain (or staged, and
                // left out of the group's sums): its sums are the chain's.
                if let (Some(sum), Some(group)) = (&mut chain_digests, o.digests) {
                    sum.merge(group);
                }
                match (&mut chain_facts, o.facts) {
                    (Some(Ok(sum)), Some(Ok(group))) => sum.merge(group),
                    (Some(Ok(_)), Some(Err(e))) => chain_facts = Some(Err(e)),
                    _ => {}
                }
                Ok(true)
            };
            let walked = self.walk_groups(
                span,
                |blocks| Ok(open_hashed(blocks, with_tree, &sums)),
                &mut each,
            );
            let held = held
                .join()
                .expect("summing the stored sides does not panic");
            (walked, held)
        });
        match walked {
            Ok(()) => {}
            Err(LedgerError::Store(StoreError::StrayKey(key))) => {
                problem.get_or_insert(Problem::StrayData {
                    what: format!("key {key} among the blocks"),
                });
            }
            Err(e) => return Err(e),
        }
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
            problem = self.check_stored_tree(&head, &computed, &tiles)?;
        }
        if problem.is_none() && with_tree {
            problem = self.check_actor_index(&head, &refs)?;
        }
        let held = held?;
        if let (None, Some(cover), Some(chain), Some(stored)) =
            (&problem, cover, chain_digests, held.digests)
        {
            problem = match stored.map(BlockSum::total) {
                Err(p) => Some(p),
                Ok(stored) if stored == chain.total() => None,
                Ok(_) => Some(self.digest_index_difference(cover)?),
            };
        }
        let mut snapshot_checked = None;
        if let (None, Some(snap), Some(chain_facts), Some(held)) =
            (&problem, &snapshot, chain_facts, held.facts)
        {
            problem = self.check_snapshot(snap, chain_facts, held)?;
            snapshot_checked = Some(snap.seq);
        }
        Ok(VerifyReport {
            checked: v.checked(),
            head,
            computed: v.last_hash(),
            redacted: v.redacted.clone(),
            staged,
            problem,
            tree_root,
            snapshot_checked,
        })
    }

    /// Compares the stored tree (derived data, but proofs are made from it)
    /// with the one the chain makes.
    fn check_stored_tree(
        &self,
        head: &Head,
        computed: &merkle::Digest,
        tiles: &BTreeMap<(u8, u64), Vec<u8>>,
    ) -> Result<Option<Problem>> {
        let stored = self
            .store
            .meta(tree::FRONTIER_META)?
            .and_then(|b| merkle::Frontier::from_bytes(&b).ok());
        let Some(stored) = stored.filter(|f| f.size() == head.size) else {
            return Ok(None);
        };
        if stored.root() != *computed {
            return Ok(Some(Problem::TreeMismatch {
                size: head.size,
                stored: b64(&stored.root()),
                computed: b64(computed),
            }));
        }
        for ((tl, index), expected) in tiles {
            let held = self.store.meta(&tree::tile_key(*tl, *index))?;
            if held.as_deref() != Some(expected.as_slice()) {
                return Ok(Some(Problem::TreeMismatch {
                    size: head.size,
                    stored: format!("a tile ({tl}/{index}) that differs"),
                    computed: b64(computed),
                }));
            }
        }
        Ok(None)
    }
}

/// A Merkle hash as the checkpoints write it: standard base64.
pub fn b64(d: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(d)
}

/// What the walk sums for the derived data compared by order-free sums.
struct Sums {
    /// The head's seq: blocks keyed past it are staged, not the chain's,
    /// and left out of the sums whatever their records say.
    head: Seq,
    /// The seq a bound digest index covers.
    digests_upto: Option<Seq>,
    /// An empty sum of the digest index's entries, under this run's key.
    block: BlockSum,
    /// An empty sum of a snapshot's facts, under this run's key.
    facts: KeyedSum,
    /// The seq of the positions snapshot a query would believe.
    facts_upto: Option<Seq>,
}

/// The stored sides of the sums, made beside the walk.
struct Held {
    /// The digest index's entries, or the first damage found reading them.
    digests: Option<std::result::Result<BlockSum, Problem>>,
    /// The snapshot's facts and kept events (an error: a chunk that cannot
    /// be read, so no query uses it).
    facts: Option<std::result::Result<KeyedSum, FormatError>>,
}

/// A key for this run's sums, from the system's randomness.
fn draw_key() -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| {
        LedgerError::Store(StoreError::Io {
            context: "cannot draw a key to compare derived data with".into(),
            source: std::io::Error::other(e.to_string()),
        })
    })?;
    Ok(key)
}

/// A group of stored blocks opened by [`open_hashed`]: what each holds, in
/// vectors of the whole group (a few allocations a group, not a few a
/// block, each freed on another thread than the one that made it).
struct Opened {
    /// Each block's key, and its part of the vectors below, or why it does
    /// not open.
    blocks: Vec<(Seq, std::result::Result<Part, FormatError>)>,
    /// The header and chain hash of each record, block after block, in each
    /// up to one that does not parse.
    heads: Vec<(RecordHeader, Hash)>,
    /// The Merkle leaf hashes of those records, when made (`with_tree`).
    leaves: Vec<merkle::Digest>,
    /// The seq and payload digest of the actor, alias and role events and of
    /// the retractions, with the seq each retracts (to check the actor index
    /// by).
    refs: Vec<(Seq, Hash, Option<Seq>)>,
    /// The digest index's entries the records make, up to the seq the index
    /// covers.
    digests: Option<BlockSum>,
    /// What a positions snapshot keeps of the records up to the snapshot's
    /// seq, or the first of them that does not decode.
    facts: Option<std::result::Result<KeyedSum, (Seq, FormatError)>>,
}

/// One block's part of an [`Opened`] group.
struct Part {
    /// Whether it held no bytes of records.
    empty: bool,
    /// Its records' heads (and leaves) in the group's.
    heads: std::ops::Range<usize>,
    /// Its refs in the group's.
    refs: std::ops::Range<usize>,
    /// Why a record did not parse, if one did not (the verifier reports it
    /// after the records before it).
    malformed: Option<FormatError>,
}

/// Opens a group of stored blocks (in key order): for each, its records'
/// chain hashes and, `with_tree`, their Merkle leaf hashes and what the other
/// derived data is checked by (the sums of `sums`), or why it does not open.
/// The records of the whole group are hashed together, side by side
/// ([`chain::record_hashes`]).
fn open_hashed(blocks: Vec<(Seq, Vec<u8>)>, with_tree: bool, sums: &Sums) -> Opened {
    thread_local! {
        /// The records of the last blocks opened on this thread: the memory
        /// is reused from group to group, never handed to another thread.
        static RECORDS: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    RECORDS.with_borrow_mut(|bufs| {
        if bufs.len() < blocks.len() {
            bufs.resize_with(blocks.len(), Vec::new);
        }
        let opened: Vec<_> = blocks
            .iter()
            .zip(bufs.iter_mut())
            .map(|((key, stored), buf)| (*key, codec::open_block_into(stored, buf)))
            .collect();
        hash_records(opened, with_tree, sums)
    })
}

/// The chain hashes of the records of each of `blocks` (by key, opened or
/// not), and what `with_tree` the rest of `verify` checks them by (see
/// [`open_hashed`]).
fn hash_records(
    blocks: Vec<(Seq, std::result::Result<&[u8], FormatError>)>,
    with_tree: bool,
    sums: &Sums,
) -> Opened {
    // Every record that parses, block after block, up to one that does not
    // in each block.
    let mut recs = Vec::with_capacity(blocks.len() * 32);
    let mut parts = Vec::with_capacity(blocks.len());
    for (key, records) in blocks {
        let records = match records {
            Ok(records) => records,
            Err(e) => {
                parts.push((key, Err(e)));
                continue;
            }
        };
        let start = recs.len();
        let mut malformed = None;
        for r in codec::records(records) {
            match r {
                Ok(r) => recs.push(r),
                Err(e) => {
                    malformed = Some(e);
                    break;
                }
            }
        }
        parts.push((
            key,
            Ok(Part {
                empty: records.is_empty(),
                heads: start..recs.len(),
                refs: 0..0,
                malformed,
            }),
        ));
    }
    let (mut bodies, mut hashes) = (Vec::new(), Vec::new());
    chain::record_hashes(&recs, &mut bodies, &mut hashes);
    let mut refs = Vec::new();
    let mut digests = sums.digests_upto.map(|_| sums.block.clone());
    let mut facts = sums.facts_upto.map(|_| Ok(sums.facts.clone()));
    for (key, part) in &mut parts {
        let Ok(part) = part else { continue };
        if *key > sums.head {
            continue;
        }
        let start = refs.len();
        for (r, body) in recs[part.heads.clone()]
            .iter()
            .zip(&bodies[part.heads.clone()])
        {
            let seq = r.header.seq;
            if let (Some(sum), Some(upto)) = (&mut digests, sums.digests_upto) {
                if seq <= upto {
                    sum.add(super::digests::entry_item(body, seq));
                }
            }
            if r.header.is_redacted() {
                continue;
            }
            if with_tree {
                if codec::is_reference(r.body) {
                    refs.push((seq, *body, None));
                } else if codec::is_retraction(r.body) {
                    // Which event it retracts: the actor index holds those
                    // that retire an actor, alias or role event.
                    if let Ok(crate::event::Event::Retraction(x)) = codec::decode_event(r.body) {
                        refs.push((seq, *body, Some(x.of)));
                    }
                }
            }
            if let (Some(Ok(s)), Some(upto)) = (&mut facts, sums.facts_upto) {
                if seq <= upto {
                    if let Err(e) = s.add_record(seq, r.header.recorded_at, r.body) {
                        facts = Some(Err((seq, e)));
                    }
                }
            }
        }
        part.refs = start..refs.len();
    }
    Opened {
        leaves: match with_tree {
            true => hashes.iter().map(tree::leaf).collect(),
            false => Vec::new(),
        },
        heads: recs
            .iter()
            .zip(&hashes)
            .map(|(r, h)| (r.header, *h))
            .collect(),
        blocks: parts,
        refs,
        digests,
        facts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::write_record;

    /// Five records chained from `prev` (seqs `first..first + 5`), laid end
    /// to end; and the chain hash of the last.
    fn block(first: Seq, prev: Hash) -> (Vec<u8>, Hash) {
        let mut out = Vec::new();
        let mut prev = prev;
        for seq in first..first + 5 {
            let payload = format!("payload of {seq}").into_bytes();
            let header = RecordHeader::v1(seq, seq as i64, prev, payload.len() as u32);
            let start = out.len();
            write_record(&header, &payload, &mut out);
            let (rec, _) = codec::read_record(&out[start..]).expect("record");
            prev = chain::record_hash(&rec);
        }
        (out, prev)
    }

    /// The records of a block past the head (staged, not yet the chain's)
    /// are left out of the sums `verify` compares the derived data by,
    /// whatever seqs they claim: a staged record forged with a seq the
    /// digest index covers would otherwise vouch for an entry the chain
    /// does not make.
    #[test]
    fn a_staged_block_adds_nothing_to_the_sums() {
        let (first, _) = block(1, Hash::ZERO);
        let sums = Sums {
            head: 5,
            digests_upto: Some(5),
            block: BlockSum::new([7; 32]),
            facts: KeyedSum::new([7; 32]),
            facts_upto: None,
        };
        let total = |blocks| {
            let o = hash_records(blocks, true, &sums);
            o.digests.expect("summed").total()
        };
        let chain = total(vec![(1, Ok(&first[..]))]);
        assert_eq!(chain.1, 5, "the chain's five records are summed");
        // The same records again, in a block keyed past the head.
        let staged = total(vec![(1, Ok(&first[..])), (6, Ok(&first[..]))]);
        assert_eq!(staged, chain);
    }

    /// What `verify` makes of a block read on another thread (the headers
    /// and chain hashes of its records, and what stopped the read) says what
    /// a read of the block's bytes in place says, for a block whole and
    /// damaged in each way: a byte changed anywhere, cut short anywhere, a
    /// seq out of place, a block under another key, an empty block; and
    /// hashed among other blocks, it and they are what each is alone.
    #[test]
    fn a_block_read_elsewhere_verifies_as_one_read_in_place() {
        let (first, prev) = block(1, Hash::ZERO);
        let (second, _) = block(6, prev);
        let sums = Sums {
            head: 10,
            digests_upto: None,
            block: BlockSum::new([0; 32]),
            facts: KeyedSum::new([0; 32]),
            facts_upto: None,
        };
        let check = |records: &[u8], key: Seq| {
            let mut in_place = Verifier::new();
            let mut elsewhere = Verifier::new();
            let a = in_place
                .feed_block(1, &first, None)
                .and_then(|()| in_place.feed_block(key, records, None));
            // What is made of a block, read from its group's vectors.
            let seen = |o: &Opened, i: usize| {
                let (_, part) = &o.blocks[i];
                let part = part.as_ref().expect("opened");
                let leaves = &o.leaves[part.heads.clone()];
                let heads = &o.heads[part.heads.clone()];
                format!("{:?}", (part.empty, heads, &part.malformed, leaves))
            };
            let one = |records: &[u8]| hash_records(vec![(6, Ok(records))], true, &sums);
            let group = hash_records(
                vec![(1, Ok(&first[..])), (6, Ok(records)), (11, Ok(&second[..]))],
                true,
                &sums,
            );
            assert_eq!(seen(&group, 1), seen(&one(records), 0), "key {key}");
            assert_eq!(seen(&group, 2), seen(&one(&second), 0));
            assert_eq!(seen(&group, 0), seen(&one(&first), 0));
            let o = one(records);
            let (_, part) = &o.blocks[0];
            let part = part.as_ref().expect("opened");
            let b = elsewhere.feed_block(1, &first, None).and_then(|()| {
                elsewhere.feed_read_block(
                    key,
                    part.empty,
                    &o.heads[part.heads.clone()],
                    part.malformed.clone(),
                )
            });
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "key {key}");
            assert_eq!(in_place.checked(), elsewhere.checked());
        };
        check(&second, 6);
        check(&second, 7);
        check(&[], 6);
        for i in 0..second.len() {
            let mut changed = second.clone();
            changed[i] ^= 0x40;
            check(&changed, 6);
            check(&second[..i], 6);
        }
    }
}
