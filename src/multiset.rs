//! Order-free digests of multisets, for comparing two collections that are
//! walked in different orders (the chain in seq order; a snapshot by key, an
//! index by bucket) without holding either: each item is hashed under a key
//! drawn afresh for each comparison (BLAKE3 in keyed mode) and the hashes are
//! added, in four 64-bit lanes. Whoever wrote one side cannot aim at the sum
//! it will be compared by, since the key does not exist until then; two sums
//! of different multisets agree with negligible probability.

use crate::event::Seq;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Block};

/// The sum of a multiset's keyed item hashes, and its count.
#[derive(Clone, Debug)]
pub struct KeyedSum {
    key: [u8; 32],
    lanes: [u64; 4],
    count: u64,
    /// With [`KeyedSum::itemised`]: each item's seq and first lane, to find
    /// where two sums part.
    items: Option<Vec<(Seq, u64)>>,
    /// The item being hashed.
    pub(crate) buf: Vec<u8>,
}

impl PartialEq for KeyedSum {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.lanes == other.lanes && self.count == other.count
    }
}

impl KeyedSum {
    /// An empty sum under `key`.
    pub fn new(key: [u8; 32]) -> KeyedSum {
        KeyedSum {
            key,
            lanes: [0; 4],
            count: 0,
            items: None,
            buf: Vec::with_capacity(256),
        }
    }

    /// An empty sum that also keeps each item's seq (for finding where two
    /// sums part).
    pub fn itemised(key: [u8; 32]) -> KeyedSum {
        KeyedSum {
            items: Some(Vec::new()),
            ..KeyedSum::new(key)
        }
    }

    /// The key it is made under.
    pub fn key(&self) -> [u8; 32] {
        self.key
    }

    /// Adds another sum under the same key.
    pub fn merge(&mut self, other: &KeyedSum) {
        debug_assert_eq!(self.key, other.key);
        for (a, b) in self.lanes.iter_mut().zip(other.lanes) {
            *a = a.wrapping_add(b);
        }
        self.count += other.count;
        if let (Some(mine), Some(theirs)) = (&mut self.items, &other.items) {
            mine.extend_from_slice(theirs);
        }
    }

    /// Adds one item, of record `seq`, whose bytes are `bytes`.
    pub fn add(&mut self, seq: Seq, bytes: &[u8]) {
        let out = blake3::keyed_hash(&self.key, bytes);
        self.add_hash(seq, out.as_bytes());
    }

    /// Adds the item in `self.buf`, of record `seq`.
    pub(crate) fn add_buf(&mut self, seq: Seq) {
        let out = blake3::keyed_hash(&self.key, &self.buf);
        self.add_hash(seq, out.as_bytes());
    }

    fn add_hash(&mut self, seq: Seq, bytes: &[u8; 32]) {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            let x = u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            *lane = lane.wrapping_add(x);
        }
        self.count += 1;
        if let Some(items) = &mut self.items {
            items.push((
                seq,
                u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
            ));
        }
    }

    /// The first seq at which two itemised sums part, if they do.
    pub fn first_difference(&mut self, other: &mut KeyedSum) -> Option<Seq> {
        let (Some(a), Some(b)) = (&mut self.items, &mut other.items) else {
            return None;
        };
        a.sort_unstable();
        b.sort_unstable();
        let at = a.iter().zip(b.iter()).position(|(x, y)| x != y);
        match at {
            Some(i) => Some(a[i].0.min(b[i].0)),
            None if a.len() != b.len() => {
                let n = a.len().min(b.len());
                a.get(n).or(b.get(n)).map(|x| x.0)
            }
            None => None,
        }
    }
}

/// The sum of a multiset of 16-byte items, each enciphered with AES-128 under
/// a key drawn for this sum (a pseudorandom permutation of the items, as good
/// as a keyed hash for up to billions of them), in two 64-bit lanes, and its
/// count. For many small fixed-size items (the digest index's entries) it
/// does what a [`KeyedSum`] does at a small part of the cost: the processor's
/// AES instructions encipher eight items at once where BLAKE3 compresses one
/// 64-byte block each.
#[derive(Clone)]
pub struct BlockSum {
    cipher: Aes128,
    lanes: [u64; 2],
    count: u64,
    /// Items waiting to be enciphered, eight at a time.
    pending: Vec<Block>,
}

impl std::fmt::Debug for BlockSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockSum")
            .field("lanes", &self.lanes)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

/// Items enciphered in one call.
const BATCH: usize = 64;

impl BlockSum {
    /// An empty sum under the AES key derived from `key` (drawn afresh for
    /// each comparison; a [`KeyedSum`] under the same `key` is independent).
    pub fn new(key: [u8; 32]) -> BlockSum {
        let derived = blake3::derive_key("demarche 2026 block sum key", &key);
        let aes_key: [u8; 16] = derived[..16].try_into().expect("16 bytes");
        BlockSum {
            cipher: Aes128::new(&aes_key.into()),
            lanes: [0; 2],
            count: 0,
            pending: Vec::with_capacity(BATCH),
        }
    }

    /// Adds one item.
    pub fn add(&mut self, item: [u8; 16]) {
        self.pending.push(item.into());
        if self.pending.len() == BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.cipher.encrypt_blocks(&mut self.pending);
        for b in self.pending.drain(..) {
            let (lo, hi) = b.split_at(8);
            self.lanes[0] = self.lanes[0].wrapping_add(le64(lo));
            self.lanes[1] = self.lanes[1].wrapping_add(le64(hi));
            self.count += 1;
        }
    }

    /// Adds another sum under the same key.
    pub fn merge(&mut self, mut other: BlockSum) {
        other.flush();
        self.flush();
        for (a, b) in self.lanes.iter_mut().zip(other.lanes) {
            *a = a.wrapping_add(b);
        }
        self.count += other.count;
    }

    /// The sum and count of every item added.
    pub fn total(mut self) -> ([u64; 2], u64) {
        self.flush();
        (self.lanes, self.count)
    }
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::{BlockSum, KeyedSum};

    #[test]
    fn a_block_sum_counts_every_item_in_any_order_under_its_key() {
        let items: Vec<[u8; 16]> = (0u8..200).map(|i| [i; 16]).collect();
        let key = [5; 32];
        let sum = |items: &mut dyn Iterator<Item = [u8; 16]>, key| {
            let mut s = BlockSum::new(key);
            items.for_each(|i| s.add(i));
            s.total()
        };
        let forward = sum(&mut items.iter().copied(), key);
        assert_eq!(forward.1, 200);
        assert_eq!(sum(&mut items.iter().rev().copied(), key), forward);
        // Summed in two parts (one of them past a batch), then merged.
        let (mut a, mut b) = (BlockSum::new(key), BlockSum::new(key));
        for (i, x) in items.iter().enumerate() {
            if i < 130 {
                a.add(*x)
            } else {
                b.add(*x)
            }
        }
        a.merge(b);
        assert_eq!(a.total(), forward);
        // One item changed, dropped or doubled; another key.
        let mut changed = items.clone();
        changed[7][3] ^= 1;
        assert_ne!(sum(&mut changed.into_iter(), key), forward);
        assert_ne!(sum(&mut items.iter().skip(1).copied(), key), forward);
        let doubled = items.iter().chain(&items[..1]).copied();
        assert_ne!(sum(&mut doubled.into_iter(), key).0, forward.0);
        assert_ne!(sum(&mut items.iter().copied(), [6; 32]), forward);
    }

    #[test]
    fn the_order_does_not_count_and_every_item_does() {
        let items: [(u64, &[u8]); 4] = [(1, b"a"), (2, b"b"), (2, b"c"), (9, b"d")];
        let key = [3; 32];
        let mut forward = KeyedSum::itemised(key);
        for (seq, b) in items {
            forward.add(seq, b);
        }
        let mut backward = KeyedSum::itemised(key);
        for (seq, b) in items.iter().rev() {
            backward.add(*seq, b);
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.first_difference(&mut backward), None);
        // Halves summed apart, then merged.
        let mut half = KeyedSum::new(key);
        let mut other = KeyedSum::new(key);
        for (i, (seq, b)) in items.iter().enumerate() {
            if i % 2 == 0 {
                half.add(*seq, b)
            } else {
                other.add(*seq, b)
            }
        }
        half.merge(&other);
        assert_eq!(half, forward);
        // One item changed, dropped, doubled: each found, at its seq.
        for (changed, at) in [
            (vec![(1, &b"a"[..]), (2, b"b"), (2, b"x"), (9, b"d")], 2),
            (vec![(1, &b"a"[..]), (2, b"b"), (2, b"c")], 9),
            (
                vec![(1, &b"a"[..]), (1, b"a"), (2, b"b"), (2, b"c"), (9, b"d")],
                1,
            ),
        ] {
            let mut s = KeyedSum::itemised(key);
            for (seq, b) in changed {
                s.add(seq, b);
            }
            assert_ne!(s, forward);
            assert_eq!(s.first_difference(&mut forward.clone()), Some(at));
        }
        // Another key, another sum.
        let mut k2 = KeyedSum::new([4; 32]);
        for (seq, b) in items {
            k2.add(seq, b);
        }
        assert_ne!(k2, forward);
    }
}
