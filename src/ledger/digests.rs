//! The digest index: derived data that finds the seq of an event by its
//! payload digest, so that `append` can refuse, and `import` skip, a statement
//! the ledger already holds without reading the whole chain.
//!
//! Entries are spread over at most 4,096 buckets (`digest-index/XXX`, by the
//! first 12 bits of the digest), each a list of (the digest's first 8 bytes,
//! seq): about 4 KB a bucket at a million events, so values stay small, and a
//! rebuilt index is a few thousand writes (sled replays every write since its
//! last snapshot of itself when it opens: tens of thousands of small values
//! made every open of a large sled ledger take a second). A header (`digest-index`) names the seq the buckets cover and the
//! chain hash there; it is believed only when the chain holds that hash at that
//! seq, and the records after it are read from the chain.
//!
//! Nothing found here is believed on its own: a hit is only a candidate, which
//! counts once the event at its seq is read and its digest compared. What an
//! entry dropped from a bucket lets through is a duplicate appended (no more
//! than anyone who can write the store could append directly), so the index
//! carries no MAC; `verify` compares every bucket with the chain and reports
//! `digest-index-mismatch`. An index that is missing or not bound to the chain
//! (ledgers written before it existed) is rebuilt from the chain by the next
//! append.

use super::actors::REWRITE_AFTER;
use super::{Ledger, Result};
use crate::chain::{self, Problem};
use crate::codec;
use crate::event::{Hash, Head, Seq};
use crate::multiset::BlockSum;

/// Meta key of the index's header: covered seq (u64 LE), then the chain hash there.
pub(super) const DIGESTS_META: &str = "digest-index";
/// Prefix of the bucket keys: `digest-index/` and three lower-case hex digits.
pub(super) const BUCKET_PREFIX: &str = "digest-index/";
/// One entry: the digest's first 8 bytes, then the seq (u64 LE).
const ENTRY: usize = 16;
/// How many buckets there can be: one for each value of 12 bits.
const BUCKETS: usize = 1 << 12;

/// The bucket of a digest: its first 12 bits.
fn bucket_of(d: &Hash) -> u16 {
    u16::from_be_bytes([d.0[0], d.0[1]]) >> 4
}

fn bucket_key(b: u16) -> String {
    format!("{BUCKET_PREFIX}{b:03x}")
}

/// A digest's bytes 8 to 16: with the first 8, which an entry of the bucket
/// holds, what tells a batch's own events apart.
fn second(d: &Hash) -> u64 {
    u64::from_le_bytes(d.0[8..16].try_into().expect("8 bytes"))
}

fn fragment(d: &Hash) -> [u8; 8] {
    d.0[..8].try_into().expect("8 bytes")
}

/// Bits of the fresh digests' filter for each: with three bits set for
/// each, a digest not held passes about once in 200 times.
const FILTER_BITS_EACH: usize = 16;

/// The three bits of the filter (a power of two of bits) for `s`, bytes 8 to
/// 16 of a digest (uniform already, and apart from the bucket's bits).
fn filter_bits(filter: &[u64], s: u64) -> [usize; 3] {
    let mask = (filter.len() * 64).saturating_sub(1);
    let step = s.rotate_left(32) | 1;
    [0u64, 1, 2].map(|k| (s.wrapping_add(step.wrapping_mul(k)) as usize) & mask)
}

fn set_bits(filter: &mut [u64], s: u64) {
    for bit in filter_bits(filter, s) {
        filter[bit / 64] |= 1 << (bit % 64);
    }
}

/// Whether `s` may be in the filter (an empty filter holds nothing).
fn has_bits(filter: &[u64], s: u64) -> bool {
    !filter.is_empty()
        && filter_bits(filter, s)
            .iter()
            .all(|&bit| filter[bit / 64] & (1 << (bit % 64)) != 0)
}

/// The index as a batch sees it: the stored buckets it has read, with the
/// records the stored index does not cover and the batch's own added.
#[derive(Debug, Default)]
pub(super) struct DigestIndex {
    /// Whether the stored buckets are believed (the header is bound to the chain).
    bound: bool,
    /// The seq the stored buckets cover (when bound).
    covered: Seq,
    /// By bucket number (12 bits: 4,096 of them): the bucket once read,
    /// whether this batch added to it, and the length of its entries for
    /// events in the chain (this batch's own come after them).
    buckets: Vec<Option<(Vec<u8>, bool, usize)>>,
    /// Bytes 8 to 16 of the digests of the events not yet in the chain (this
    /// batch's), in seq order from `chain_size + 1`: 8 bytes an event. An
    /// entry's first 8 bytes and these compare 128 bits, ample to tell events
    /// apart (a chance collision needs about 2^64).
    fresh: Vec<u64>,
    /// A Bloom filter of `fresh`: a digest it does not hold is not among this
    /// batch's events, whose entries are then not scanned (an import of new
    /// events would otherwise scan every bucket's growing tail for each).
    fresh_filter: Vec<u64>,
    /// The seqs after this are not yet in the chain.
    chain_size: Seq,
    /// The block last read to check a candidate (its key and records): a
    /// run of events already held finds its candidates in one block after
    /// another.
    block: Option<(Seq, Vec<u8>)>,
    /// Whether a stored bucket was damaged and made again from the chain.
    repaired: bool,
}

impl DigestIndex {
    fn bucket(&mut self, ledger: &Ledger, b: u16) -> Result<&mut (Vec<u8>, bool, usize)> {
        if self.buckets.is_empty() {
            self.buckets.resize(BUCKETS, None);
        }
        if self.buckets[usize::from(b)].is_none() {
            let held = match self.bound {
                true => ledger.store.meta(&bucket_key(b))?.unwrap_or_default(),
                false => Vec::new(),
            };
            let entry_seq = |e: &[u8]| u64::from_le_bytes(e[8..].try_into().expect("8 bytes"));
            let covered = self.covered;
            // A bucket whose length is no whole number of entries is damage
            // (which `verify` reports): it is made again from the chain, and
            // the next commit writes it whole. So is an entry naming a seq
            // past those the header covers, which no commit writes: this
            // batch's own seqs are told apart by 8 bytes besides an entry's
            // own 8, which only entries the batch made may claim.
            let (bytes, changed) = if held.len() % ENTRY != 0 {
                self.repaired = true;
                (ledger.chain_bucket(b, covered)?, true)
            } else if held.chunks_exact(ENTRY).any(|e| entry_seq(e) > covered) {
                self.repaired = true;
                let kept = held
                    .chunks_exact(ENTRY)
                    .filter(|e| entry_seq(e) <= covered)
                    .flatten()
                    .copied()
                    .collect();
                (kept, true)
            } else {
                (held, false)
            };
            let len = bytes.len();
            self.buckets[usize::from(b)] = Some((bytes, changed, len));
        }
        Ok(self.buckets[usize::from(b)].as_mut().expect("read above"))
    }

    /// Adds an entry for the event `seq` with payload digest `d`.
    fn add(&mut self, ledger: &Ledger, d: &Hash, seq: Seq) -> Result<()> {
        let b = bucket_of(d);
        let in_chain = seq <= self.chain_size;
        let (bucket, changed, chained) = self.bucket(ledger, b)?;
        bucket.extend_from_slice(&fragment(d));
        bucket.extend_from_slice(&seq.to_le_bytes());
        *changed = true;
        if in_chain {
            *chained = bucket.len();
        }
        Ok(())
    }

    /// Records an event of the batch being appended.
    pub(super) fn add_fresh(&mut self, ledger: &Ledger, d: &Hash, seq: Seq) -> Result<()> {
        debug_assert_eq!(seq, self.chain_size + 1 + self.fresh.len() as u64);
        self.fresh.push(second(d));
        if self.fresh.len() * FILTER_BITS_EACH > self.fresh_filter.len() * 64 {
            // Made again twice as large, from every fresh digest.
            let bits = (self.fresh.len() * 2 * FILTER_BITS_EACH).next_power_of_two();
            self.fresh_filter = vec![0; bits.max(1 << 16) / 64];
            for &s in &self.fresh {
                set_bits(&mut self.fresh_filter, s);
            }
        } else {
            set_bits(&mut self.fresh_filter, second(d));
        }
        self.add(ledger, d, seq)
    }

    /// The seq of an event whose payload digest is `d`, checked against the
    /// chain (or this batch): the first one held, if any.
    pub(super) fn find(&mut self, ledger: &Ledger, d: &Hash) -> Result<Option<Seq>> {
        let frag = u64::from_le_bytes(fragment(d));
        let b = bucket_of(d);
        let fresh = has_bits(&self.fresh_filter, second(d));
        let mut from = 0;
        loop {
            // The next entry of the bucket with the digest's first 8 bytes,
            // among those of this batch's events only if the filter may
            // hold it.
            let (bucket, _, chained) = &*self.bucket(ledger, b)?;
            let end = if fresh { bucket.len() } else { *chained };
            let Some((at, seq)) = bucket[from..end]
                .chunks_exact(ENTRY)
                .position(|e| u64::from_le_bytes(e[..8].try_into().expect("8 bytes")) == frag)
                .map(|i| {
                    let at = from + i * ENTRY;
                    let seq =
                        u64::from_le_bytes(bucket[at + 8..at + ENTRY].try_into().expect("8 bytes"));
                    (at, seq)
                })
            else {
                return Ok(None);
            };
            from = at + ENTRY;
            let same = match seq.checked_sub(self.chain_size + 1) {
                Some(i) => self.fresh.get(i as usize) == Some(&second(d)),
                None if seq >= 1 => self.held(ledger, seq)? == Some(*d),
                None => false,
            };
            if same {
                return Ok(Some(seq));
            }
        }
    }

    /// The payload digest of the chain's event `seq`, read from the block
    /// that holds it (as [`Ledger::get`] finds it; its records are kept, so
    /// the next candidate in the same block is not decompressed again);
    /// `None` when that block has no such record.
    fn held(&mut self, ledger: &Ledger, seq: Seq) -> Result<Option<Hash>> {
        let Some((key, stored)) = ledger.store.block_holding(seq)? else {
            return Ok(None);
        };
        let records = match self.block.take() {
            Some((k, records)) if k == key => records,
            _ => super::read::open(key, stored)?,
        };
        let found = codec::records(&records)
            .map_while(std::result::Result::ok)
            .find(|rec| rec.header.seq == seq)
            .map(|rec| chain::body_digest(&rec));
        self.block = Some((key, records));
        Ok(found)
    }

    /// What a commit that makes `head` writes: the changed buckets and the
    /// header bound to `head`. `forget_first`: the stored buckets are to be
    /// removed before (an index rebuilt from the chain).
    /// The buckets are handed over, not copied.
    pub(super) fn stored(&mut self, head: &Head) -> (bool, Vec<(String, Vec<u8>)>) {
        // A bound index is written again only once REWRITE_AFTER records have
        // come since the seq it covers: until then the next batch completes it
        // from those few records, and an append writes no bucket.
        if self.bound && !self.repaired && head.size.saturating_sub(self.covered) < REWRITE_AFTER {
            return (false, Vec::new());
        }
        let mut out: Vec<(String, Vec<u8>)> = (0u16..)
            .zip(std::mem::take(&mut self.buckets))
            .filter_map(|(b, slot)| match slot {
                Some((bucket, true, _)) => Some((bucket_key(b), bucket)),
                _ => None,
            })
            .collect();
        let mut header = Vec::with_capacity(40);
        header.extend_from_slice(&head.size.to_le_bytes());
        header.extend_from_slice(&head.hash.0);
        out.push((DIGESTS_META.to_string(), header));
        (!self.bound, out)
    }
}

/// An entry as `verify` sums it: the digest's first 8 bytes, then the seq
/// (the bucket follows from the digest).
pub(super) fn entry_item(d: &Hash, seq: Seq) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    e[..8].copy_from_slice(&fragment(d));
    e[8..].copy_from_slice(&seq.to_le_bytes());
    e
}

/// The digest index's buckets as the chain makes them, up to the seq the
/// stored index covers: made only to name where a stored index differs.
struct ChainBuckets {
    covered: Seq,
    /// Indexed by bucket number (12 bits: 4,096 of them).
    buckets: Vec<Vec<u8>>,
}

impl ChainBuckets {
    /// Adds the record `seq` whose payload digest is `d`.
    fn add(&mut self, seq: Seq, d: &Hash) {
        if seq <= self.covered {
            let b = &mut self.buckets[usize::from(bucket_of(d))];
            b.extend_from_slice(&fragment(d));
            b.extend_from_slice(&seq.to_le_bytes());
        }
    }
}

impl Ledger {
    /// The digest index as it stands for a chain whose head is `head`: the
    /// stored one when it is bound to this chain, completed from the records
    /// after the seq it covers; otherwise one made from the whole chain.
    pub(super) fn digest_index(&self, head: &Head) -> Result<DigestIndex> {
        let covered = self.digest_index_covered(head)?;
        let mut index = DigestIndex {
            bound: covered.is_some(),
            covered: covered.unwrap_or(0),
            chain_size: head.size,
            ..DigestIndex::default()
        };
        let from = covered.unwrap_or(0) + 1;
        if from <= head.size {
            let mut tail: Vec<(Seq, Hash)> = Vec::new();
            self.scan(from, head.size, |rec| {
                tail.push((rec.header.seq, chain::body_digest(rec)));
                Ok(true)
            })?;
            for (seq, d) in tail {
                index.add(self, &d, seq)?;
            }
        }
        Ok(index)
    }

    /// Bucket `b` as the chain makes it, up to `covered`.
    fn chain_bucket(&self, b: u16, covered: Seq) -> Result<Vec<u8>> {
        let mut bucket = Vec::new();
        self.scan(1, covered, |rec| {
            let d = chain::body_digest(rec);
            if bucket_of(&d) == b {
                bucket.extend_from_slice(&entry_item(&d, rec.header.seq));
            }
            Ok(true)
        })?;
        Ok(bucket)
    }

    /// The seq the stored index covers, when its header is bound to this
    /// chain (0 for an index of an empty ledger).
    pub(super) fn digest_index_covered(&self, head: &Head) -> Result<Option<Seq>> {
        let Some(bytes) = self.store.meta(DIGESTS_META)? else {
            return Ok(None);
        };
        if bytes.len() != 40 {
            return Ok(None);
        }
        let covered = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let hash = Hash(bytes[8..].try_into().expect("32 bytes"));
        let holds = match covered {
            0 => hash == Hash([0; 32]),
            c if c > head.size => false,
            c => self.get(c).map(|r| r.hash).ok() == Some(hash),
        };
        Ok(holds.then_some(covered))
    }

    /// The stored buckets' entries summed under `key` as [`entry_item`]
    /// makes them, each checked to lie in its digest's bucket; or the first
    /// bucket that is not whole entries, or holds another bucket's.
    pub(super) fn stored_digest_sum(
        &self,
        key: [u8; 32],
    ) -> Result<std::result::Result<BlockSum, Problem>> {
        let mut sum = BlockSum::new(key);
        for b in 0..(1u16 << 12) {
            let held = self.store.meta(&bucket_key(b))?.unwrap_or_default();
            let bad = |detail: String| Problem::DigestIndexMismatch { seq: 0, detail };
            if held.len() % ENTRY != 0 {
                return Ok(Err(bad(format!("bucket {b:03x} is not whole entries"))));
            }
            for e in held.chunks_exact(ENTRY) {
                let seq = u64::from_le_bytes(e[8..].try_into().expect("8 bytes"));
                if u16::from_be_bytes([e[0], e[1]]) >> 4 != b {
                    return Ok(Err(bad(format!(
                        "bucket {b:03x} holds an entry of another bucket (seq {seq})"
                    ))));
                }
                sum.add(e.try_into().expect("16 bytes"));
            }
        }
        Ok(Ok(sum))
    }

    /// Names where the stored index differs from the chain, once their sums
    /// have: every bucket the chain makes up to `covered`, read again from
    /// the chain, compared with the stored one.
    pub(super) fn digest_index_difference(&self, covered: Seq) -> Result<Problem> {
        let mut chain = ChainBuckets {
            covered,
            buckets: vec![Vec::new(); BUCKETS],
        };
        self.scan(1, covered, |rec| {
            chain.add(rec.header.seq, &chain::body_digest(rec));
            Ok(true)
        })?;
        for (b, expected) in chain.buckets.into_iter().enumerate() {
            let b = b as u16;
            let held = self.store.meta(&bucket_key(b))?.unwrap_or_default();
            if held == expected {
                continue;
            }
            let seqs = |v: &[u8]| -> Vec<Seq> {
                v.chunks_exact(ENTRY)
                    .map(|e| u64::from_le_bytes(e[8..].try_into().expect("8 bytes")))
                    .collect()
            };
            let (h, e) = (seqs(&held), seqs(&expected));
            let missing = e.iter().find(|s| !h.contains(s)).copied();
            let detail = match missing {
                Some(seq) => format!("bucket {b:03x} leaves out seq {seq}"),
                None => format!("bucket {b:03x} holds entries the chain does not make"),
            };
            return Ok(Problem::DigestIndexMismatch {
                seq: missing
                    .or_else(|| h.iter().find(|s| !e.contains(s)).copied())
                    .unwrap_or(0),
                detail,
            });
        }
        Ok(Problem::DigestIndexMismatch {
            seq: 0,
            detail: "its entries are not the ones the chain makes".into(),
        })
    }
}

#[cfg(test)]
mod filter_tests {
    use super::{has_bits, set_bits};

    #[test]
    fn the_fresh_filter_holds_every_digest_put_in_and_few_others() {
        let mut seed: u64 = 11;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let held: Vec<u64> = (0..50_000).map(|_| next()).collect();
        // 16 bits each, as the index keeps it.
        let mut filter = vec![0u64; (held.len() * 16).next_power_of_two() / 64];
        assert!(!has_bits(&filter, held[0]), "an empty filter holds nothing");
        for &s in &held {
            set_bits(&mut filter, s);
        }
        assert!(held.iter().all(|&s| has_bits(&filter, s)));
        let passed = (0..100_000).filter(|_| has_bits(&filter, next())).count();
        assert!(passed < 1_000, "{passed} of 100,000 others passed");
        assert!(!has_bits(&[], held[0]));
    }
}
