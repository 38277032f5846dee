//! The digest index: derived data that finds the seq of an event by its
//! payload digest, so that `append` can refuse, and `import` skip, a statement
//! the ledger already holds without reading the whole chain.
//!
//! Entries are spread over 512 to 4,096 buckets (`digest-index/XXX`, by the
//! first 9 to 12 bits of the digest), each a list of (the digest's first 8
//! bytes, seq): up to about 4 KB a bucket at a million events (20 KB at 5
//! million), so values stay small, and a rebuilt index is a few thousand
//! writes at most (sled replays every write since its last snapshot of itself
//! when it opens: tens of thousands of small values made every open of a large
//! sled ledger take a second). How many is chosen by the ledger's size each
//! time the buckets are written whole, the fewest for which a bucket holds
//! about 256 entries or fewer, and 4,096 past 524,288 events: a smaller ledger
//! written as 4,096 small values cost its import's commit more than the
//! entries did. A header (`digest-index`) names the seq the buckets cover, the
//! chain hash there, and the bits of the buckets' numbers unless they are 12
//! (then bucket 0 is always stored); it is believed only when the chain holds
//! that hash at that seq, and the records after it are read from the chain.
//!
//! Nothing found here is believed on its own: a hit is only a candidate, which
//! counts once the event at its seq is read and its digest compared. What an
//! entry dropped from a bucket lets through is a duplicate appended (no more
//! than anyone who can write the store could append directly), so the index
//! carries no MAC; `verify` compares every bucket with the chain and reports
//! `digest-index-mismatch`. An index that is missing or not bound to the chain
//! (ledgers written before it existed) is rebuilt from the chain by the next
//! append.
//!
//! A batch's entries go to a second set of buckets, the recent ones
//! (`digest-index-recent/XXX`, with a header `digest-index-recent` naming the
//! seq the buckets cover, the seq the recent ones cover, and the chain hash
//! there), until they hold an eighth as many records as the buckets (at least
//! 65,536): a commit then merges them into the buckets. The buckets grow with
//! the ledger: when every batch wrote those it added to whole, a small import
//! into a large ledger wrote the whole index (10,000 statements into a ledger
//! of 5 million: 72 MB written, 0.54 s of the import's 0.86 s). The recent
//! buckets stay small, and the buckets are written again once every eighth of
//! the ledger. A batch holds a large stored bucket as a filter, and reads it
//! again when the filter may hold the digest it looks for, so that its memory
//! does not grow with the ledger either. Ledgers written before the
//! recent buckets existed have none, and mean what they meant; a release that
//! knows nothing of them reads the records past the buckets from the chain,
//! and once it writes the buckets again the recent header no longer matches
//! them and is not believed.

use super::actors::REWRITE_AFTER;
use super::runs::{self, Runs, RUN_ENTRY};
use super::{Ledger, LedgerError, Result};
use crate::chain::{self, Problem};
use crate::codec;
use crate::event::{Hash, Head, Seq};
use crate::multiset::BlockSum;

/// Meta key of the index's header: covered seq (u64 LE), then the chain hash
/// there, then the bits of the buckets' numbers when they are not 12.
pub(super) const DIGESTS_META: &str = "digest-index";
/// Prefix of the bucket keys: `digest-index/` and three lower-case hex digits.
pub(super) const BUCKET_PREFIX: &str = "digest-index/";
/// Meta key of the recent buckets' header: the seq the buckets cover (u64
/// LE; the recent ones hold the entries after it), the seq the recent ones
/// cover (u64 LE), then the chain hash there.
pub(super) const RECENT_META: &str = "digest-index-recent";
/// Prefix of the recent bucket keys: `digest-index-recent/` and three
/// lower-case hex digits.
pub(super) const RECENT_PREFIX: &str = "digest-index-recent/";

/// Bytes of buckets written at a time outside a commit: ahead of one, to a
/// store that would hold them all until it writes them
/// ([`Store::commit_holds_more`]), and when an index is made again apart
/// from a batch. (Few in the crate's tests, so that theirs are written in
/// several.)
///
/// [`Store::commit_holds_more`]: crate::store::Store::commit_holds_more
#[cfg(not(test))]
const WRITE_AHEAD: usize = 1 << 20;
#[cfg(test)]
const WRITE_AHEAD: usize = 256;

/// Records past the buckets' own that the recent buckets may hold before a
/// commit merges them into the buckets: an eighth of those the buckets
/// cover, at least [`RECENT_MIN`]. The recent buckets a batch adds to are
/// written whole, so they stay small; merging writes every bucket, so it
/// comes after many records.
fn recent_max(covered: Seq) -> u64 {
    (covered / 8).max(RECENT_MIN)
}

/// The fewest records the recent buckets may hold before they are merged.
#[cfg(not(test))]
const RECENT_MIN: u64 = 1 << 16;
#[cfg(test)]
const RECENT_MIN: u64 = 100;

/// What the stored index covers, when it is bound to the chain: the seq its
/// buckets cover, and the seq the recent buckets cover after it (when their
/// header is bound too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cover {
    pub(super) base: Seq,
    pub(super) recent: Option<Seq>,
    /// The bits of the buckets' numbers (recent ones too).
    pub(super) bits: u8,
}

impl Cover {
    /// The last seq the stored index covers.
    pub(super) fn upto(&self) -> Seq {
        self.recent.unwrap_or(self.base)
    }
}

/// What a commit writes of the index.
#[derive(Debug, Default)]
pub(super) struct Stored {
    /// The buckets are to be removed before (an index made again from the
    /// chain).
    pub(super) forget_buckets: bool,
    /// The recent buckets are to be removed before (none bound: what is there
    /// is left from before the buckets were last written).
    pub(super) forget_recent_before: bool,
    /// The recent buckets are to be removed after (merged into the buckets,
    /// and no longer bound by their header).
    pub(super) forget_recent_after: bool,
    /// The buckets past those of this many bits are to be removed after
    /// (fewer of them written than were stored: never read, only left).
    pub(super) forget_buckets_past: Option<u8>,
    /// Meta entries to write.
    pub(super) meta: Vec<(String, Vec<u8>)>,
    /// The buckets to write, made one at a time by
    /// [`DigestIndex::next_stored`] as the commit takes them.
    pub(super) writing: Option<Writing>,
}

/// The buckets a commit writes, one after another: the recent ones, of the
/// buckets' number, or the buckets whole, of `to` bits.
#[derive(Debug)]
pub(super) struct Writing {
    /// The recent buckets (only those with entries of this batch's, or of
    /// the chain's records past them), or the buckets whole.
    recent: bool,
    /// The bits of the numbers of the buckets written.
    to: u8,
    /// Whether every stored bucket is read (whole buckets whose number
    /// changes, or the recent ones to merge into them).
    read_all: bool,
    /// Whether every bucket is written (their number changes).
    regroup: bool,
    /// Whether a bucket written may be read after it as a bucket of the
    /// index's number: when stored buckets are parted among more of them
    /// (bucket 2 of 512 into 4 and 5 of 1,024, once 2 and 3 of 1,024 are
    /// written over it). Then none is to be written before the commit.
    rereads_written: bool,
    /// The number of the next bucket to write.
    next: u32,
    /// The runs being read.
    reader: Option<runs::Reader>,
}

impl Writing {
    /// Whether the buckets may be written ahead of the commit, each as it is
    /// made: not when a stored bucket is read after one written over it.
    fn may_write_ahead(&self) -> bool {
        !self.rereads_written
    }

    /// The headers that bind what this writes: a store that writes it ahead
    /// of the commit unbinds them first (the commit binds them again), so
    /// that buckets written ahead of a commit that never came are not
    /// believed.
    fn headers(&self) -> &'static [&'static str] {
        match self.recent {
            true => &[RECENT_META],
            false => &[DIGESTS_META, RECENT_META],
        }
    }
}
/// One entry: the digest's first 8 bytes, then the seq (u64 LE).
const ENTRY: usize = 16;

/// The most bits a bucket's number has (4,096 buckets): those of a header
/// of 40 bytes, which names none, and of every index written whole past
/// 524,288 events.
pub(super) const MAX_BITS: u8 = 12;
/// The fewest bits a bucket's number has (512 buckets).
#[cfg(not(test))]
const MIN_BITS: u8 = 9;
#[cfg(test)]
const MIN_BITS: u8 = 8;
/// The entries a bucket holds, about, at most, when the buckets are written
/// whole with fewer than 4,096 of them: about 4 KB. (One in tests, so that
/// their small ledgers reach buckets of another number.)
#[cfg(not(test))]
const PER_BUCKET: u64 = 256;
#[cfg(test)]
const PER_BUCKET: u64 = 1;

/// The bits of the buckets' numbers that the buckets of `size` records are
/// written whole with: the fewest (at least [`MIN_BITS`], at most
/// [`MAX_BITS`]) for which they hold about [`PER_BUCKET`] entries each or
/// fewer. A commit that writes every bucket writes one key for each: 4,096
/// small values for an import of 100,000 statements into a new ledger took
/// sled 25-38 ms to write, a tenth of the import, where 512 do for it.
fn bits_for(size: Seq) -> u8 {
    let mut bits = MIN_BITS;
    while bits < MAX_BITS && size > PER_BUCKET << bits {
        bits += 1;
    }
    bits
}

/// The bucket of a digest: its first `bits` bits.
pub(super) fn bucket_of(d: &Hash, bits: u8) -> u16 {
    number_of(&d.0, bits)
}

/// The number of the bucket of a digest that starts with `first` (or of an
/// entry, which does), of `bits` bits.
pub(super) fn number_of(first: &[u8], bits: u8) -> u16 {
    u16::from_be_bytes([first[0], first[1]]) >> (16 - bits)
}

fn bucket_key(b: u16) -> String {
    format!("{BUCKET_PREFIX}{b:03x}")
}

/// The buckets' header, binding buckets of `bits` bits to `head`: its seq
/// and hash, then the bits unless they are 12.
fn header(head: &Head, bits: u8) -> Vec<u8> {
    let mut header = Vec::with_capacity(41);
    header.extend_from_slice(&head.size.to_le_bytes());
    header.extend_from_slice(&head.hash.0);
    if bits != MAX_BITS {
        header.push(bits);
    }
    header
}

/// The recent buckets' header: they hold the entries after `base`, up to
/// `head`, whose hash it names.
fn recent_header(base: Seq, head: &Head) -> Vec<u8> {
    let mut header = Vec::with_capacity(48);
    header.extend_from_slice(&base.to_le_bytes());
    header.extend_from_slice(&head.size.to_le_bytes());
    header.extend_from_slice(&head.hash.0);
    header
}

fn recent_key(b: u16) -> String {
    format!("{RECENT_PREFIX}{b:03x}")
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

/// A bucket as a batch holds it once read.
#[derive(Debug, Clone, Default)]
struct Bucket {
    /// The stored bucket's entries, when held: those of a small bucket, or
    /// of one made again from the chain. A larger one is read again from the
    /// store when its filter may hold a digest looked for, and then held
    /// (up to [`REREAD_HELD`] of them): all held, the buckets a batch reads
    /// made its memory grow with the ledger (72 MB for 10,000 statements
    /// into a ledger of 5 million).
    base: Option<Vec<u8>>,
    /// A Bloom filter of the stored bucket's entries, when they are not held.
    base_filter: Vec<u64>,
    /// The entries past the stored bucket's: the recent bucket's, those of
    /// the records after them, then this batch's own.
    rest: Vec<u8>,
    /// Whether this batch added to it (or made it again).
    changed: bool,
    /// The length of `rest`'s entries of events in the chain.
    chained: usize,
}

/// Whether a batch holds a stored bucket of `entries` entries whole (up to
/// 64); a larger one it keeps as a filter, with bits of its own for each
/// entry. (None in the crate's tests, whose ledgers are small: every stored
/// bucket is then read again.)
#[cfg(not(test))]
fn held_whole(entries: usize) -> bool {
    entries <= 64
}
#[cfg(test)]
fn held_whole(_entries: usize) -> bool {
    false
}
const BASE_FILTER_BITS_EACH: usize = 8;

/// The most bytes of stored buckets a batch holds whole once a digest
/// looked for sent it to read them again (a bucket is about 4 KB): past
/// them, a bucket is read again each time. Read again for each statement
/// the ledger already holds, 100,000 statements imported again into the
/// 100k ledger that held them took a third longer than with every bucket
/// held; held without a bound, a batch's memory would grow with the ledger.
/// (8 MB is every bucket of a ledger of 524,288 events.)
const REREAD_HELD: usize = 8 << 20;

/// A filter of the entries of a stored bucket.
fn base_filter(entries: &[u8]) -> Vec<u64> {
    let bits = (entries.len() / ENTRY * BASE_FILTER_BITS_EACH).next_power_of_two();
    let mut filter = vec![0; bits.div_ceil(64)];
    for e in entries.chunks_exact(ENTRY) {
        let frag = u64::from_le_bytes(e[..8].try_into().expect("8 bytes"));
        set_bits(&mut filter, base_filter_key(frag));
    }
    filter
}

/// What of a digest's first 8 bytes (as a number) a bucket's filter takes:
/// the bits past the bucket's own, which all its entries share.
fn base_filter_key(frag: u64) -> u64 {
    frag.rotate_right(16)
}

/// Adds to `found` the seqs of `entries` whose digests begin with `frag`.
fn scan(entries: &[u8], frag: u64, found: &mut Vec<Seq>) {
    found.extend(
        entries
            .chunks_exact(ENTRY)
            .filter(|e| u64::from_le_bytes(e[..8].try_into().expect("8 bytes")) == frag)
            .map(entry_seq),
    );
}

/// The seq of an entry.
pub(super) fn entry_seq(e: &[u8]) -> Seq {
    u64::from_le_bytes(e[8..ENTRY].try_into().expect("8 bytes"))
}

/// The index as a batch sees it: the stored buckets it has read, with the
/// records the stored index does not cover and the batch's own added.
#[derive(Debug, Default)]
pub(super) struct DigestIndex {
    /// Whether the stored buckets are believed (the header is bound to the chain).
    bound: bool,
    /// The seq the stored buckets cover (when bound).
    covered: Seq,
    /// The seq the recent buckets cover, when their header is bound too.
    recent: Option<Seq>,
    /// The bits of the numbers of the buckets held here: the stored ones'
    /// when bound, else [`MAX_BITS`] (a commit that writes them fewer
    /// regroups them).
    bits: u8,
    /// By bucket number (`bits` bits: up to 4,096 of them): the bucket once read.
    /// Boxed, so that the table is 32 KiB: an `append` reads one bucket,
    /// and a table of the buckets themselves (360 KiB, each slot written)
    /// cost it 90 page faults of fresh memory and 0.8 ms.
    buckets: Vec<Option<Box<Bucket>>>,
    /// Bytes 8 to 16 of the digests of the events not yet in the chain (this
    /// batch's) whose entries are held, in seq order from `fresh_base + 1`:
    /// 8 bytes an event. An
    /// entry's first 8 bytes and these compare 128 bits, ample to tell events
    /// apart (a chance collision needs about 2^64).
    fresh: Vec<u64>,
    /// The seq after which `fresh` starts: the chain's size, and the events
    /// of this batch's whose entries were written out as runs.
    fresh_base: Seq,
    /// A Bloom filter of the batch's digests (those of `fresh` and of the
    /// runs): a digest it does not hold is not among this batch's events,
    /// whose entries are then not scanned (an import of new events would
    /// otherwise scan every bucket's growing tail for each).
    fresh_filter: Vec<u64>,
    /// The entries of this batch's events written out of memory, every
    /// [`runs::RUN`] of them: from the buckets' `rest` past `chained`, with their
    /// seconds from `fresh` (see [`runs`]).
    runs: Option<Runs>,
    /// The seqs after this are not yet in the chain.
    chain_size: Seq,
    /// The block last read to check a candidate (its key and records): a
    /// run of events already held finds its candidates in one block after
    /// another.
    block: Option<(Seq, Vec<u8>)>,
    /// Whether a stored bucket was damaged and made again from the chain.
    repaired: bool,
    /// Whether a commit is merging the recent buckets into the buckets: the
    /// buckets it reads then are held whole, since it writes them whole.
    merging: bool,
    /// The bytes of the stored buckets held whole once read again (at most
    /// [`REREAD_HELD`]).
    reread: usize,
    /// The entries of the records past those the stored index covers (at
    /// most [`LAZY_TAIL`] of them), by bucket, added to a bucket only when it
    /// is read: an `append` reads one bucket, and a commit writes the recent
    /// buckets only every [`REWRITE_AFTER`] records, so reading every tail
    /// record's bucket in each process was most of what the index cost it.
    /// A damaged bucket is mended when it is read, as before, so one that
    /// only waits is mended by the commit that writes the index.
    pending: Vec<(u16, [u8; 8], Seq)>,
}

/// The most records past the stored index whose entries wait in
/// `DigestIndex::pending`; a longer tail (a ledger whose index is older, or
/// not bound) goes into its buckets as it is read.
const LAZY_TAIL: u64 = 4 * REWRITE_AFTER;

impl DigestIndex {
    fn bucket(&mut self, ledger: &Ledger, b: u16) -> Result<&mut Bucket> {
        if self.buckets.is_empty() {
            // Zeroed memory (`None` is all zeroes): fresh pages stay untouched
            // until a bucket is read into them.
            self.buckets = vec![None; 1 << self.bits];
        }
        if self.buckets[usize::from(b)].is_none() {
            let held = match self.bound {
                true => ledger.store.meta(&bucket_key(b))?.unwrap_or_default(),
                false => Vec::new(),
            };
            let covered = self.covered;
            // A bucket whose length is no whole number of entries is damage
            // (which `verify` reports): it is made again from the chain, and
            // the next commit writes it whole. So is an entry naming a seq
            // past those the header covers, which no commit writes: this
            // batch's own seqs are told apart by 8 bytes besides an entry's
            // own 8, which only entries the batch made may claim.
            let (base, mut changed) = if held.len() % ENTRY != 0 {
                self.repaired = true;
                (ledger.chain_bucket(b, self.bits, 1, covered)?, true)
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
            let mut bucket = Bucket::default();
            if changed || self.merging || held_whole(base.len() / ENTRY) {
                bucket.base = Some(base);
            } else {
                bucket.base_filter = base_filter(&base);
            }
            // The recent bucket holds the entries after those: damage there
            // (an entry outside them, or not whole entries) is mended the same
            // way.
            if let Some(recent) = self.recent {
                let held = ledger.store.meta(&recent_key(b))?.unwrap_or_default();
                let whole = held.len() % ENTRY == 0
                    && held
                        .chunks_exact(ENTRY)
                        .all(|e| (covered + 1..=recent).contains(&entry_seq(e)));
                if whole {
                    bucket.rest = held;
                } else {
                    self.repaired = true;
                    bucket.rest = ledger.chain_bucket(b, self.bits, covered + 1, recent)?;
                    changed = true;
                }
            }
            // The records past the stored index, in order, as `add` would
            // have added them when the index was made; each is added once.
            let held = bucket.rest.len();
            self.pending.retain(|(of, frag, seq)| {
                let mine = *of == b;
                if mine {
                    bucket.rest.extend_from_slice(frag);
                    bucket.rest.extend_from_slice(&seq.to_le_bytes());
                }
                !mine
            });
            changed |= bucket.rest.len() != held;
            bucket.chained = bucket.rest.len();
            bucket.changed = changed;
            self.buckets[usize::from(b)] = Some(Box::new(bucket));
        }
        Ok(self.buckets[usize::from(b)].as_mut().expect("read above"))
    }

    /// Adds an entry for the event `seq` with payload digest `d`.
    fn add(&mut self, ledger: &Ledger, d: &Hash, seq: Seq) -> Result<()> {
        let b = bucket_of(d, self.bits);
        let in_chain = seq <= self.chain_size;
        let bucket = self.bucket(ledger, b)?;
        bucket.rest.extend_from_slice(&fragment(d));
        bucket.rest.extend_from_slice(&seq.to_le_bytes());
        bucket.changed = true;
        if in_chain {
            bucket.chained = bucket.rest.len();
        }
        Ok(())
    }

    /// Records an event of the batch being appended.
    pub(super) fn add_fresh(&mut self, ledger: &Ledger, d: &Hash, seq: Seq) -> Result<()> {
        debug_assert_eq!(seq, self.fresh_base + 1 + self.fresh.len() as u64);
        self.fresh.push(second(d));
        let all = (seq - self.chain_size) as usize;
        if all * FILTER_BITS_EACH > self.fresh_filter.len() * 64 {
            // Made again twice as large, from every digest of the batch.
            let bits = (all * 2 * FILTER_BITS_EACH).next_power_of_two();
            self.fresh_filter = vec![0; bits.max(1 << 16) / 64];
            let filter = &mut self.fresh_filter;
            if let Some(runs) = &self.runs {
                runs.each_second(|s| set_bits(filter, s))
                    .map_err(runs_error)?;
            }
            for &s in &self.fresh {
                set_bits(filter, s);
            }
        } else {
            set_bits(&mut self.fresh_filter, second(d));
        }
        self.add(ledger, d, seq)?;
        if self.fresh.len() >= runs::run_size() {
            self.write_run(ledger)?;
        }
        Ok(())
    }

    /// Writes the entries of the batch's events held in memory out as a run.
    fn write_run(&mut self, ledger: &Ledger) -> Result<()> {
        let mut entries = Vec::with_capacity(self.fresh.len() * RUN_ENTRY);
        for bucket in self.buckets.iter_mut().flatten() {
            for e in bucket.rest[bucket.chained..].chunks_exact(ENTRY) {
                let i = entry_seq(e) - self.fresh_base - 1;
                entries.extend_from_slice(e);
                entries.extend_from_slice(&self.fresh[i as usize].to_le_bytes());
            }
            bucket.rest.truncate(bucket.chained);
        }
        debug_assert_eq!(entries.len(), self.fresh.len() * RUN_ENTRY);
        let runs = match &mut self.runs {
            Some(runs) => runs,
            None => self.runs.insert(Runs::new(ledger.store.dir())),
        };
        runs.push(&entries).map_err(runs_error)?;
        self.fresh_base += self.fresh.len() as u64;
        self.fresh.clear();
        Ok(())
    }

    /// The seq of an event whose payload digest is `d`, checked against the
    /// chain (or this batch): the first one held, if any.
    pub(super) fn find(&mut self, ledger: &Ledger, d: &Hash) -> Result<Option<Seq>> {
        let frag = u64::from_le_bytes(fragment(d));
        let b = bucket_of(d, self.bits);
        // The entries with the digest's first 8 bytes, in the bucket's order:
        // the stored bucket's (read again if not held, when its filter may
        // hold the digest), those past them, and those of this batch's events
        // only if the batch's filter may hold it.
        let fresh = has_bits(&self.fresh_filter, second(d));
        let room = REREAD_HELD.saturating_sub(self.reread);
        let bucket = self.bucket(ledger, b)?;
        let mut candidates = Vec::new();
        let mut kept = 0;
        match &bucket.base {
            Some(base) => scan(base, frag, &mut candidates),
            None if has_bits(&bucket.base_filter, base_filter_key(frag)) => {
                let base = ledger.store.meta(&bucket_key(b))?.unwrap_or_default();
                scan(&base, frag, &mut candidates);
                // Held from now on, while the buckets held so are few: a
                // batch of statements the ledger holds finds each in its
                // bucket, and would read the bucket again for each.
                if base.len() <= room {
                    kept = base.len();
                    bucket.base = Some(base);
                    bucket.base_filter = Vec::new();
                }
            }
            None => {}
        }
        scan(&bucket.rest[..bucket.chained], frag, &mut candidates);
        // The batch's own, after the chain's: those written out as runs, then
        // those held.
        let mut mine = Vec::new();
        if fresh {
            scan(&bucket.rest[bucket.chained..], frag, &mut mine);
        }
        self.reread += kept;
        for seq in candidates {
            if seq >= 1 && self.held(ledger, seq)? == Some(*d) {
                return Ok(Some(seq));
            }
        }
        if let (true, Some(runs)) = (fresh, &self.runs) {
            if let Some(seq) = runs.find(&d.0[..8], second(d)).map_err(runs_error)? {
                return Ok(Some(seq));
            }
        }
        for seq in mine {
            let i = seq - self.fresh_base - 1;
            if self.fresh.get(i as usize) == Some(&second(d)) {
                return Ok(Some(seq));
            }
        }
        Ok(None)
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

    /// What a commit that makes `head` writes of the index: nothing when
    /// few records came since the seq it covers (the next batch completes it
    /// from them); else the recent buckets this batch added to and their
    /// header, while they hold few enough records; else every bucket with
    /// entries past the stored ones, merged, and the buckets' header. The
    /// buckets themselves are made as the commit takes them
    /// ([`next_stored`](Self::next_stored)), each from what is held of it,
    /// the stored bucket and the runs, and let go once made.
    pub(super) fn stored(&mut self, ledger: &Ledger, head: &Head) -> Result<Stored> {
        let upto = self.recent.unwrap_or(self.covered);
        if self.bound && !self.repaired && head.size.saturating_sub(upto) < REWRITE_AFTER {
            return Ok(Stored::default());
        }
        // Written: every bucket with entries waiting is read, and mended if
        // damaged, first.
        let waiting: Vec<u16> = self.pending.iter().map(|p| p.0).collect();
        for b in waiting {
            self.bucket(ledger, b)?;
        }
        let reader = self.runs.as_ref().map(Runs::reader);
        let believed = self.bound && !self.repaired;
        if believed && head.size - self.covered <= recent_max(self.covered) {
            return Ok(Stored {
                // Recent buckets not bound are left from before the buckets
                // were last written: none of them is to be believed.
                forget_recent_before: self.recent.is_none(),
                meta: vec![(RECENT_META.to_string(), recent_header(self.covered, head))],
                writing: Some(Writing {
                    recent: true,
                    to: self.bits,
                    read_all: false,
                    regroup: false,
                    rereads_written: false,
                    next: 0,
                    reader,
                }),
                ..Stored::default()
            });
        }
        // Merged: every bucket with recent entries is written whole; every
        // bucket, when the size of the ledger calls for another number of
        // them (then regrouped).
        self.merging = true;
        let bits = bits_for(head.size);
        let regroup = bits != self.bits;
        Ok(Stored {
            forget_buckets: !self.bound,
            forget_recent_after: self.recent.is_some(),
            forget_buckets_past: (self.bound && bits < self.bits).then_some(bits),
            meta: vec![
                (DIGESTS_META.to_string(), header(head, bits)),
                // The recent header, in the same commit, covers nothing: the
                // recent buckets, removed after it, are never believed in the
                // meantime.
                (RECENT_META.to_string(), recent_header(head.size, head)),
            ],
            writing: Some(Writing {
                recent: false,
                to: bits,
                // (Not bound, a bucket not held has no entries: none is read
                // from the store.)
                read_all: self.bound && (regroup || self.recent.is_some()),
                regroup,
                rereads_written: self.bound && bits > self.bits,
                next: 0,
                reader,
            }),
            ..Stored::default()
        })
    }

    /// The next bucket `w` writes, with its key; `None` once all are made.
    /// A bucket's entries come from the buckets held (or read) of the
    /// index's number: the stored entries (for whole buckets), those past
    /// them of the chain's records, then the batch's, from the runs and
    /// from memory, in seq order. Each held bucket is let go once the last
    /// bucket made from it is.
    pub(super) fn next_stored(
        &mut self,
        ledger: &Ledger,
        w: &mut Writing,
    ) -> Result<Option<(String, Vec<u8>)>> {
        let from = self.bits;
        let to = w.to;
        while w.next < 1 << to {
            let t = w.next as u16;
            w.next += 1;
            // The buckets of `from` bits it is made from: one, parted among
            // several when there are to be more of them, or several made one.
            let (lo, hi, last) = match to.checked_sub(from) {
                Some(more) => {
                    let b = t >> more;
                    (b, b + 1, (t + 1).is_multiple_of(1 << more))
                }
                None => (t << (from - to), (t + 1) << (from - to), true),
            };
            let mut write = w.regroup;
            let mut whole = Vec::new();
            let mut own = Vec::new();
            for b in lo..hi {
                if w.read_all {
                    self.bucket(ledger, b)?;
                }
                let slot = match self.buckets.get_mut(usize::from(b)) {
                    Some(slot) => slot,
                    None => continue,
                };
                let taken = match last {
                    true => slot.take(),
                    false => slot.clone(),
                };
                let Some(bucket) = taken else { continue };
                write |= bucket.changed || (w.read_all && !bucket.rest.is_empty());
                let mut part = match (w.recent, bucket.base) {
                    (true, _) => Vec::new(),
                    (false, Some(base)) => base,
                    // A stored bucket not held is read again; not bound,
                    // what is stored is not the index's.
                    (false, None) if self.bound => {
                        ledger.store.meta(&bucket_key(b))?.unwrap_or_default()
                    }
                    (false, None) => Vec::new(),
                };
                part.extend_from_slice(&bucket.rest[..bucket.chained]);
                let mut mine = bucket.rest;
                mine.drain(..bucket.chained);
                if to > from {
                    // Only this bucket's share of the one parted.
                    part.retain_entries(|e| number_of(e, to) == t);
                    mine.retain_entries(|e| number_of(e, to) == t);
                }
                whole.append(&mut part);
                own.append(&mut mine);
            }
            if let (Some(runs), Some(reader)) = (&self.runs, &mut w.reader) {
                let shift = MAX_BITS - to;
                let (a, b) = (usize::from(t) << shift, (usize::from(t) + 1) << shift);
                let before = whole.len();
                reader.take(runs, a, b, &mut whole).map_err(runs_error)?;
                write |= whole.len() != before;
            }
            whole.append(&mut own);
            // Under a header that names the bits, bucket 0 is always stored,
            // empty if need be: without it the header binds nothing (see
            // `digest_index_cover`). Bound, it is stored already, or written
            // with every other bucket when they are regrouped.
            let first = !w.recent && !self.bound && t == 0 && to != MAX_BITS;
            if !write && !first {
                continue;
            }
            // Bound, a bucket left empty is written empty, over whatever a
            // key of its name held (one of the old number, or one left past
            // them); those past the new number are removed after the commit.
            if !self.bound && whole.is_empty() && !first {
                continue;
            }
            // Several buckets made one, or a run's several numbers: each part
            // was in seq order, the whole is put back in it.
            if hi - lo > 1 || (self.runs.is_some() && to < MAX_BITS) {
                whole = in_seq_order(&whole);
            }
            let key = match w.recent {
                true => recent_key(t),
                false => bucket_key(t),
            };
            return Ok(Some((key, whole)));
        }
        Ok(None)
    }
}

/// The entries of a bucket (its bytes) in seq order (a stable sort: quick on
/// runs already in order).
fn in_seq_order(whole: &[u8]) -> Vec<u8> {
    let mut entries: Vec<[u8; ENTRY]> = whole
        .chunks_exact(ENTRY)
        .map(|e| e.try_into().expect("an entry"))
        .collect();
    entries.sort_by_key(|e| entry_seq(e));
    entries.concat()
}

/// Buckets written outside a commit, [`WRITE_AHEAD`] bytes of them at a
/// time, the headers that bind them written empty before the first.
struct Slices<'l> {
    ledger: &'l Ledger,
    /// The headers still to be written empty.
    headers: &'static [&'static str],
    held: Vec<(String, Vec<u8>)>,
    bytes: usize,
}

impl<'l> Slices<'l> {
    fn new(ledger: &'l Ledger, headers: &'static [&'static str]) -> Self {
        Slices {
            ledger,
            headers,
            held: Vec::new(),
            bytes: 0,
        }
    }

    /// Writes the headers empty, if not yet.
    fn unbind(&mut self) -> Result<()> {
        if !self.headers.is_empty() {
            let none: Vec<(&str, &[u8])> = self.headers.iter().map(|h| (*h, &[][..])).collect();
            self.ledger.store.put_meta(&none)?;
            self.headers = &[];
        }
        Ok(())
    }

    /// Holds `value`, and writes what is held once it comes to a slice.
    fn push(&mut self, key: String, value: Vec<u8>) -> Result<()> {
        self.bytes += value.len();
        self.held.push((key, value));
        if self.bytes >= WRITE_AHEAD {
            self.write()?;
        }
        Ok(())
    }

    /// Writes what is held.
    fn write(&mut self) -> Result<()> {
        self.unbind()?;
        self.ledger.store.put_meta(&as_refs(&self.held))?;
        self.held.clear();
        self.bytes = 0;
        Ok(())
    }
}

impl DigestIndex {
    /// To a store that would hold a commit's buckets all until it writes them
    /// ([`Store::commit_holds_more`]: sled), `w`'s buckets, written ahead of
    /// the commit a slice at a time, once they come to more than a slice:
    /// their headers written empty first, and bound again by the commit.
    /// What is left, less than a slice, is for the commit. Buckets parted
    /// among more of them are left for the commit too (see
    /// `Writing::rereads_written`).
    ///
    /// [`Store::commit_holds_more`]: crate::store::Store::commit_holds_more
    pub(super) fn write_ahead(
        &mut self,
        ledger: &Ledger,
        w: Option<&mut Writing>,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let Some(w) = w.filter(|w| ledger.store.commit_holds_more() && w.may_write_ahead()) else {
            return Ok(Vec::new());
        };
        let mut slices = Slices::new(ledger, w.headers());
        while let Some((key, bucket)) = self.next_stored(ledger, w)? {
            slices.push(key, bucket)?;
        }
        Ok(slices.held)
    }
}

/// Keeps the entries of a bucket (its bytes) that pass `keep`, in order.
trait RetainEntries {
    fn retain_entries(&mut self, keep: impl Fn(&[u8]) -> bool);
}

impl RetainEntries for Vec<u8> {
    fn retain_entries(&mut self, keep: impl Fn(&[u8]) -> bool) {
        let mut at = 0;
        for i in 0..self.len() / ENTRY {
            let from = i * ENTRY;
            if keep(&self[from..from + ENTRY]) {
                self.copy_within(from..from + ENTRY, at);
                at += ENTRY;
            }
        }
        self.truncate(at);
    }
}

/// Entries as the store takes them.
fn as_refs(entries: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect()
}

/// The size of a ledger from which an index bound to nothing is made again
/// apart from the batch, and stored, before it
/// ([`Ledger::rebuild_digest_index`]); a smaller one's is made in the batch,
/// and written by its commit. (Never in the crate's tests, but where one
/// sets it for its thread.)
#[cfg(not(test))]
fn rebuilt_apart_from() -> Seq {
    runs::RUN as Seq
}
#[cfg(test)]
fn rebuilt_apart_from() -> Seq {
    REBUILT_APART_FROM.with(std::cell::Cell::get)
}
#[cfg(test)]
thread_local! {
    /// [`rebuilt_apart_from`] on this thread.
    pub(super) static REBUILT_APART_FROM: std::cell::Cell<Seq> = const { std::cell::Cell::new(Seq::MAX) };
}

/// A failure to write or read the runs, as the store's.
fn runs_error(source: std::io::Error) -> LedgerError {
    LedgerError::Store(crate::store::StoreError::Io {
        context: "cannot keep the batch's digest entries beside the ledger".into(),
        source,
    })
}

/// Removes the buckets numbered past those of `bits` bits (at least 8: the
/// first hex digit of their keys tells them).
pub(super) fn forget_buckets_past(ledger: &Ledger, bits: u8) -> Result<()> {
    debug_assert!(bits >= 8);
    for first in (1u16 << bits) >> 8..16 {
        ledger
            .store
            .forget_meta(&format!("{BUCKET_PREFIX}{first:x}"))?;
    }
    Ok(())
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
    /// The bits of the buckets' numbers.
    bits: u8,
    /// Indexed by bucket number.
    buckets: Vec<Vec<u8>>,
}

impl ChainBuckets {
    /// Adds the record `seq` whose payload digest is `d`.
    fn add(&mut self, seq: Seq, d: &Hash) {
        if seq <= self.covered {
            let b = &mut self.buckets[usize::from(bucket_of(d, self.bits))];
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
        let mut cover = self.digest_index_cover(head)?;
        if cover.is_none() && head.size >= rebuilt_apart_from() {
            self.rebuild_digest_index(head)?;
            cover = self.digest_index_cover(head)?;
        }
        let mut index = DigestIndex {
            bound: cover.is_some(),
            covered: cover.map_or(0, |c| c.base),
            recent: cover.and_then(|c| c.recent),
            bits: cover.map_or(MAX_BITS, |c| c.bits),
            chain_size: head.size,
            fresh_base: head.size,
            ..DigestIndex::default()
        };
        let from = cover.map_or(0, |c| c.upto()) + 1;
        if from <= head.size {
            let mut tail: Vec<(Seq, Hash)> = Vec::new();
            self.scan(from, head.size, |rec| {
                tail.push((rec.header.seq, chain::body_digest(rec)));
                Ok(true)
            })?;
            let lazy = index.bound && head.size - from < LAZY_TAIL;
            for (seq, d) in tail {
                match lazy {
                    true => index
                        .pending
                        .push((bucket_of(&d, index.bits), fragment(&d), seq)),
                    false => index.add(self, &d, seq)?,
                }
            }
        }
        Ok(index)
    }

    /// Makes the index again from the chain whose head is `head`, and stores
    /// it bound to that head, before a batch: the records' entries written
    /// out in runs as they are read, then the buckets from the runs, a slice
    /// at a time, and the headers last (a failure before them leaves an
    /// index bound to nothing, made again by the next batch). Its memory is
    /// a run and a slice, where an index made in the batch holds every
    /// entry (56 bytes a record while it is made).
    fn rebuild_digest_index(&self, head: &Head) -> Result<()> {
        let bits = bits_for(head.size);
        let mut runs = Runs::new(self.store.dir());
        let run = runs::run_size().min(runs::RUN) * RUN_ENTRY;
        let mut entries = Vec::with_capacity(run);
        let mut failed = None;
        self.scan(1, head.size, |rec| {
            let d = chain::body_digest(rec);
            entries.extend_from_slice(&entry_item(&d, rec.header.seq));
            entries.extend_from_slice(&second(&d).to_le_bytes());
            if entries.len() >= run {
                if let Err(e) = runs.push(&entries) {
                    failed = Some(e);
                    return Ok(false);
                }
                entries.clear();
            }
            Ok(true)
        })?;
        if let Some(e) = failed {
            return Err(runs_error(e));
        }
        runs.push(&entries).map_err(runs_error)?;
        drop(entries);
        // What is stored is no index's. Its headers are written empty
        // first: one that binds nothing only for want of bucket 0 would bind
        // again once the first slice wrote it, over buckets half written.
        let mut slices = Slices::new(self, &[DIGESTS_META, RECENT_META]);
        slices.unbind()?;
        self.store.forget_meta(BUCKET_PREFIX)?;
        self.store.forget_meta(RECENT_PREFIX)?;
        let mut reader = runs.reader();
        let shift = MAX_BITS - bits;
        for t in 0u16..1 << bits {
            let mut whole = Vec::new();
            let (a, b) = (usize::from(t) << shift, (usize::from(t) + 1) << shift);
            reader.take(&runs, a, b, &mut whole).map_err(runs_error)?;
            if shift > 0 {
                // A run's several numbers, each in seq order.
                whole = in_seq_order(&whole);
            }
            // Bucket 0 is always stored (see `digest_index_cover`).
            if whole.is_empty() && t != 0 {
                continue;
            }
            slices.push(bucket_key(t), whole)?;
        }
        // The headers last: once they are written, the index is bound.
        slices.push(DIGESTS_META.to_string(), header(head, bits))?;
        slices.push(RECENT_META.to_string(), recent_header(head.size, head))?;
        slices.write()
    }

    /// Bucket `b` (of `bits` bits) as the records `from..=to` make it.
    fn chain_bucket(&self, b: u16, bits: u8, from: Seq, to: Seq) -> Result<Vec<u8>> {
        let mut bucket = Vec::new();
        self.scan(from, to, |rec| {
            let d = chain::body_digest(rec);
            if bucket_of(&d, bits) == b {
                bucket.extend_from_slice(&entry_item(&d, rec.header.seq));
            }
            Ok(true)
        })?;
        Ok(bucket)
    }

    /// What the stored index covers, when its header is bound to this chain
    /// (a base of 0 for an index of an empty ledger).
    pub(super) fn digest_index_cover(&self, head: &Head) -> Result<Option<Cover>> {
        let Some(bytes) = self.store.meta(DIGESTS_META)? else {
            return Ok(None);
        };
        // 40 bytes: 4,096 buckets, as every release before the number was
        // named wrote them; 41: the last byte names the bits.
        let bits = match bytes.len() {
            40 => MAX_BITS,
            41 => bytes[40],
            _ => return Ok(None),
        };
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Ok(None);
        }
        let covered = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let hash = Hash(bytes[8..40].try_into().expect("32 bytes"));
        if !self.chain_holds(head, covered, &hash) {
            return Ok(None);
        }
        // A header that names the bits binds only while bucket 0 is stored
        // (every commit that writes such a header writes it, empty if need
        // be). A release that knows only headers of 40 bytes takes it for no
        // index: it removes every bucket, then writes them again with its
        // header in a commit of its own; were that commit lost, this header
        // would name buckets that are gone, and every statement they held
        // would go in again unseen.
        if bytes.len() == 41 && self.store.meta(&bucket_key(0))?.is_none() {
            return Ok(None);
        }
        // The recent buckets count when they come right after these, and
        // their header is bound too.
        let recent = self.store.meta(RECENT_META)?.and_then(|r| {
            let r: [u8; 48] = r.try_into().ok()?;
            let base = u64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
            let upto = u64::from_le_bytes(r[8..16].try_into().expect("8 bytes"));
            let hash = Hash(r[16..].try_into().expect("32 bytes"));
            (base == covered && upto > covered).then_some((upto, hash))
        });
        let recent = match recent {
            Some((upto, hash)) if self.chain_holds(head, upto, &hash) => Some(upto),
            _ => None,
        };
        Ok(Some(Cover {
            base: covered,
            recent,
            bits,
        }))
    }

    /// Whether the chain whose head is `head` holds `hash` at `seq` (the
    /// zero hash at 0).
    fn chain_holds(&self, head: &Head, seq: Seq, hash: &Hash) -> bool {
        match seq {
            0 => *hash == Hash([0; 32]),
            c if c > head.size => false,
            c => self.hash_at(c, head.size).ok() == Some(*hash),
        }
    }

    /// Bucket `b` as stored: its entries, then its recent entries when the
    /// recent buckets are bound (a bucket not whole entries stays so).
    fn stored_bucket(&self, b: u16, cover: Cover) -> Result<Vec<u8>> {
        let mut held = self.store.meta(&bucket_key(b))?.unwrap_or_default();
        if cover.recent.is_some() {
            if held.len() % ENTRY != 0 {
                return Ok(held);
            }
            held.extend(self.store.meta(&recent_key(b))?.unwrap_or_default());
        }
        Ok(held)
    }

    /// The stored buckets' entries summed under `key` as [`entry_item`]
    /// makes them, each checked to lie in its digest's bucket; or the first
    /// bucket that is not whole entries, or holds another bucket's.
    pub(super) fn stored_digest_sum(
        &self,
        key: [u8; 32],
        cover: Cover,
    ) -> Result<std::result::Result<BlockSum, Problem>> {
        let mut sum = BlockSum::new(key);
        for b in 0..(1u16 << cover.bits) {
            // Each kind of bucket holds only the seqs it covers: an entry in
            // the other would add up the same, and the batch that loads it
            // would drop it.
            let mut kinds = vec![("bucket", bucket_key(b), 1..=cover.base)];
            if let Some(recent) = cover.recent {
                kinds.push(("recent bucket", recent_key(b), cover.base + 1..=recent));
            }
            for (kind, key, seqs) in kinds {
                let held = self.store.meta(&key)?.unwrap_or_default();
                let bad = |seq: Seq, detail: String| Problem::DigestIndexMismatch { seq, detail };
                if held.len() % ENTRY != 0 {
                    return Ok(Err(bad(0, format!("{kind} {b:03x} is not whole entries"))));
                }
                for e in held.chunks_exact(ENTRY) {
                    let seq = entry_seq(e);
                    if number_of(e, cover.bits) != b {
                        return Ok(Err(bad(
                            0,
                            format!("{kind} {b:03x} holds an entry of another bucket (seq {seq})"),
                        )));
                    }
                    if !seqs.contains(&seq) {
                        return Ok(Err(bad(
                            seq,
                            format!(
                                "{kind} {b:03x} holds seq {seq}, outside the seqs {}..={} it covers",
                                seqs.start(),
                                seqs.end()
                            ),
                        )));
                    }
                    sum.add(e.try_into().expect("16 bytes"));
                }
            }
        }
        Ok(Ok(sum))
    }

    /// Names where the stored index differs from the chain, once their sums
    /// have: every bucket the chain makes up to `covered`, read again from
    /// the chain, compared with the stored one.
    pub(super) fn digest_index_difference(&self, cover: Cover) -> Result<Problem> {
        let mut chain = ChainBuckets {
            covered: cover.upto(),
            bits: cover.bits,
            buckets: vec![Vec::new(); 1 << cover.bits],
        };
        self.scan(1, cover.upto(), |rec| {
            chain.add(rec.header.seq, &chain::body_digest(rec));
            Ok(true)
        })?;
        for (b, expected) in chain.buckets.into_iter().enumerate() {
            let b = b as u16;
            let held = self.stored_bucket(b, cover)?;
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
    use super::{base_filter, base_filter_key, has_bits, set_bits, ENTRY};

    /// Numbers spread evenly (xorshift), the same from one run to the next.
    fn numbers(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// A stored bucket's filter holds every entry's digest, whatever the
    /// bucket's size (a word of bits or many), and passes few others.
    #[test]
    fn a_stored_buckets_filter_holds_each_of_its_entries() {
        let mut next = numbers(5);
        for n in [1usize, 7, 65, 244, 1_220, 20_000] {
            // Entries of one bucket: their digests share the first 12 bits.
            let frags: Vec<u64> = (0..n).map(|_| next() & !0xf0ff | 0x3012).collect();
            let mut entries = Vec::new();
            for (i, f) in frags.iter().enumerate() {
                entries.extend_from_slice(&f.to_le_bytes());
                entries.extend_from_slice(&(i as u64 + 1).to_le_bytes());
            }
            assert_eq!(entries.len(), n * ENTRY);
            let filter = base_filter(&entries);
            assert!(filter.len().is_power_of_two());
            for f in &frags {
                assert!(has_bits(&filter, base_filter_key(*f)), "{n} entries");
            }
            let passed = (0..10_000)
                .filter(|_| has_bits(&filter, base_filter_key(next() & !0xf0ff | 0x3012)))
                .count();
            assert!(
                passed < 1_000,
                "{passed} of 10,000 others passed ({n} entries)"
            );
        }
    }

    #[test]
    fn the_fresh_filter_holds_every_digest_put_in_and_few_others() {
        let mut next = numbers(11);
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
