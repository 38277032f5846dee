//! Order-free digests of multisets, for comparing two collections that are
//! walked in different orders (the chain in seq order; a snapshot by key, an
//! index by bucket) without holding either: each item is hashed under a key
//! drawn afresh for each comparison (BLAKE3 in keyed mode) and the hashes are
//! added, in four 64-bit lanes. Whoever wrote one side cannot aim at the sum
//! it will be compared by, since the key does not exist until then; two sums
//! of different multisets agree with negligible probability.

use crate::event::Seq;

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

#[cfg(test)]
mod tests {
    use super::KeyedSum;

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
