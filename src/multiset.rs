//! Order-free digests of multisets, for comparing two collections that are
//! walked in different orders (the chain in seq order; a snapshot by key, an
//! index by bucket) without holding either: each item is hashed under a key
//! drawn afresh for each comparison (AES-128-CMAC, a pseudorandom function;
//! AES-128 alone for items of exactly 16 bytes) and the hashes are added, in
//! two 64-bit lanes. Whoever wrote one side cannot aim at the sum it will be
//! compared by, since the key does not exist until then; two sums of
//! different multisets agree with negligible probability (under 2^-80 for
//! the millions of items of a large ledger, the bound of AES as a
//! pseudorandom function over that many blocks).

use crate::event::Seq;
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Block};

/// The sum of a multiset's keyed item hashes, and its count. Each item is
/// hashed with AES-128-CMAC (RFC 4493, a pseudorandom function of byte
/// strings of any length) under a key derived from the one drawn for this
/// sum; items are hashed eight at a time, the chains of their blocks
/// interleaved, so that the processor's AES instructions work on eight
/// independent blocks at once.
#[derive(Clone)]
pub struct KeyedSum {
    key: [u8; 32],
    mac: Cmac,
    lanes: [u64; 2],
    count: u64,
    /// With [`KeyedSum::itemised`]: each item's seq and first lane, to find
    /// where two sums part.
    items: Option<Vec<(Seq, u64)>>,
    /// Items waiting to be hashed: their bytes back to back, and each one's
    /// seq and end.
    pending: Vec<u8>,
    ends: Vec<(Seq, usize)>,
}

impl std::fmt::Debug for KeyedSum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedSum")
            .field("lanes", &self.lanes)
            .field("count", &self.count)
            .field("pending", &self.ends.len())
            .finish_non_exhaustive()
    }
}

impl KeyedSum {
    /// An empty sum under `key`.
    pub fn new(key: [u8; 32]) -> KeyedSum {
        let derived = blake3::derive_key("demarche 2026 keyed sum key", &key);
        KeyedSum {
            key,
            mac: Cmac::new(derived[..16].try_into().expect("16 bytes")),
            lanes: [0; 2],
            count: 0,
            items: None,
            pending: Vec::new(),
            ends: Vec::new(),
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
    pub fn merge(&mut self, mut other: KeyedSum) {
        debug_assert_eq!(self.key, other.key);
        other.flush();
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
        self.pending.extend_from_slice(bytes);
        self.queued(seq);
    }

    /// Where to write the bytes of an item, which [`written`](Self::written)
    /// then adds.
    pub(crate) fn writing(&mut self) -> &mut Vec<u8> {
        // Bytes of an item left unfinished are not part of this one.
        self.pending.truncate(self.ends.last().map_or(0, |e| e.1));
        &mut self.pending
    }

    /// Adds the item written since the last one, of record `seq`.
    pub(crate) fn written(&mut self, seq: Seq) {
        self.queued(seq);
    }

    fn queued(&mut self, seq: Seq) {
        self.ends.push((seq, self.pending.len()));
        if self.ends.len() == LANES {
            self.flush();
        }
    }

    /// Hashes the items waiting and adds them.
    fn flush(&mut self) {
        let mut items: [&[u8]; LANES] = [&[]; LANES];
        let mut start = 0;
        for (i, (_, end)) in self.ends.iter().enumerate() {
            items[i] = &self.pending[start..*end];
            start = *end;
        }
        let n = self.ends.len();
        let tags = self.mac.tags(&items[..n]);
        for ((seq, _), tag) in self.ends.iter().zip(&tags[..n]) {
            let (lo, hi) = tag.split_at(8);
            let lo = le64(lo);
            self.lanes[0] = self.lanes[0].wrapping_add(lo);
            self.lanes[1] = self.lanes[1].wrapping_add(le64(hi));
            self.count += 1;
            if let Some(items) = &mut self.items {
                items.push((*seq, lo));
            }
        }
        self.pending.clear();
        self.ends.clear();
    }

    /// The sum and count of every item added, under this sum's key.
    pub fn total(mut self) -> ([u8; 32], [u64; 2], u64) {
        self.flush();
        (self.key, self.lanes, self.count)
    }

    /// The first seq at which two itemised sums part, if they do.
    pub fn first_difference(&mut self, other: &mut KeyedSum) -> Option<Seq> {
        self.flush();
        other.flush();
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

/// Items hashed at once: as many blocks as AES-NI enciphers at once.
const LANES: usize = 8;

/// AES-128-CMAC (RFC 4493) under one key, of up to [`LANES`] messages at once.
#[derive(Clone)]
struct Cmac {
    cipher: Aes128,
    /// The subkeys: for a last block that is whole, and for one padded.
    k1: [u8; 16],
    k2: [u8; 16],
}

impl Cmac {
    fn new(key: [u8; 16]) -> Cmac {
        let cipher = Aes128::new(&key.into());
        let mut l = Block::default();
        cipher.encrypt_block(&mut l);
        let k1 = double(l.into());
        Cmac {
            cipher,
            k1,
            k2: double(k1),
        }
    }

    /// The tags of `messages` (at most [`LANES`]): the blocks of each are
    /// chained as CMAC chains them, the i-th blocks of all enciphered together.
    fn tags(&self, messages: &[&[u8]]) -> [[u8; 16]; LANES] {
        debug_assert!(messages.len() <= LANES);
        let word = |b: &[u8]| u128::from_ne_bytes(b.try_into().expect("16 bytes"));
        let (k1, k2) = (word(&self.k1), word(&self.k2));
        // Each message's number of blocks and its last block, padded and
        // masked with its subkey.
        let mut blocks = [0usize; LANES];
        let mut last = [0u128; LANES];
        for (i, m) in messages.iter().enumerate() {
            let n = m.len().div_ceil(16).max(1);
            let tail = &m[(n - 1) * 16..];
            let mut b = [0u8; 16];
            b[..tail.len()].copy_from_slice(tail);
            last[i] = match tail.len() {
                16 => word(&b) ^ k1,
                len => {
                    b[len] = 0x80;
                    word(&b) ^ k2
                }
            };
            blocks[i] = n;
        }
        let rounds = blocks.iter().copied().max().unwrap_or(0);
        let mut x = [0u128; LANES];
        let mut batch = [Block::default(); LANES];
        let mut who = [0usize; LANES];
        for r in 0..rounds {
            let mut n = 0;
            for (i, m) in messages.iter().enumerate() {
                let input = match blocks[i] {
                    b if r + 1 < b => word(&m[r * 16..r * 16 + 16]),
                    b if r + 1 == b => last[i],
                    _ => continue,
                };
                batch[n] = (x[i] ^ input).to_ne_bytes().into();
                who[n] = i;
                n += 1;
            }
            self.cipher.encrypt_blocks(&mut batch[..n]);
            for (b, i) in batch[..n].iter().zip(&who[..n]) {
                x[*i] = word(b);
            }
        }
        x.map(u128::to_ne_bytes)
    }
}

/// A block doubled in GF(2^128), as CMAC makes its subkeys.
fn double(b: [u8; 16]) -> [u8; 16] {
    let x = u128::from_be_bytes(b);
    let d = (x << 1) ^ if x >> 127 == 1 { 0x87 } else { 0 };
    d.to_be_bytes()
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
        if self.pending.is_empty() {
            self.pending.reserve(BATCH);
        }
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
    use super::{BlockSum, Cmac, KeyedSum, LANES};

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
        assert_eq!(forward.first_difference(&mut backward), None);
        assert_eq!(forward.clone().total(), backward.total());
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
        half.merge(other);
        assert_eq!(half.total(), forward.clone().total());
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
            assert_eq!(s.first_difference(&mut forward.clone()), Some(at));
            assert_ne!(s.total(), forward.clone().total());
        }
        // Another key, another sum.
        let mut k2 = KeyedSum::new([4; 32]);
        for (seq, b) in items {
            k2.add(seq, b);
        }
        assert_ne!(k2.total().1, forward.total().1);
    }

    /// The examples of RFC 4493: the subkeys and the tags of messages of 0,
    /// 16, 40 and 64 bytes, each alone and all in one batch.
    #[test]
    fn cmac_gives_the_tags_of_rfc_4493() {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
        let mac = Cmac::new(key.clone().try_into().unwrap());
        assert_eq!(mac.k1.to_vec(), hex("fbeed618357133667c85e08f7236a8de"));
        assert_eq!(mac.k2.to_vec(), hex("f7ddac306ae266ccf90bc11ee46d513b"));
        let m = hex(concat!(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
            "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"
        ));
        let cases = [
            (0, "bb1d6929e95937287fa37d129b756746"),
            (16, "070a16b46b4d4144f79bdd9dd04a287c"),
            (40, "dfa66747de9ae63030ca32611497c827"),
            (64, "51f0bebf7e3b9d92fc49741779363cfe"),
        ];
        for (n, tag) in cases {
            assert_eq!(mac.tags(&[&m[..n]])[0].to_vec(), hex(tag), "{n} bytes");
        }
        let all: Vec<&[u8]> = cases.iter().map(|(n, _)| &m[..*n]).collect();
        let tags = mac.tags(&all);
        for (i, (n, tag)) in cases.iter().enumerate() {
            assert_eq!(tags[i].to_vec(), hex(tag), "{n} bytes in a batch");
        }
    }

    /// Messages of every length from 0 to 70 bytes, hashed in batches of
    /// mixed lengths, get the tags they get alone.
    #[test]
    fn a_batch_of_mixed_lengths_gets_the_tags_each_gets_alone() {
        let mac = Cmac::new([7; 16]);
        let bytes: Vec<u8> = (0..70u8).map(|i| i.wrapping_mul(37)).collect();
        let messages: Vec<&[u8]> = (0..=70).map(|n| &bytes[..n]).collect();
        for batch in messages.chunks(LANES) {
            let tags = mac.tags(batch);
            for (m, tag) in batch.iter().zip(tags) {
                assert_eq!(mac.tags(&[m])[0], tag, "{} bytes", m.len());
            }
        }
        let distinct: std::collections::HashSet<[u8; 16]> =
            messages.iter().map(|m| mac.tags(&[m])[0]).collect();
        assert_eq!(distinct.len(), messages.len());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
