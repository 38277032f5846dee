//! The ledger as a C2SP tlog-tiles tree (c2sp.org/tlog-tiles): static,
//! immutable files that any web server serves to any number of readers.
//!
//! - `checkpoint`: the signed checkpoint ([`crate::evidence::checkpoint`]'s
//!   text, signed as a C2SP signed note);
//! - `tile/<L>/<N>[.p/<W>]`: hash tiles. Tile `N` of level `L` holds the
//!   hashes of the tree's nodes at level `8·L`, numbers `256·N` to
//!   `256·N + 255` (a partial tile, `.p/W`, the first `W` of them). Level 0
//!   holds the leaf hashes, `SHA-256(0x00 ‖ chain hash)`;
//! - `tile/entries/<N>[.p/<W>]`: entry bundles, each entry a big-endian
//!   `u16` length and a record's exact stored bytes (56-byte header and
//!   payload, as `schema/FORMAT.md` gives them). The reader re-derives the
//!   record's chain hash from those bytes, and its leaf hash from that.
//!
//! A generic tlog-tiles client reads the checkpoint and the hash tiles as
//! they are. Its entries differ from the specification's default in one
//! respect, which the format documents: the leaf is the hash of the record's
//! chain hash, not of the entry's bytes, so that a proof of a record proves
//! its place in the chain as well as its content.
//!
//! [`publish`] writes the tree from a ledger; [`follow`] reads one back,
//! needing no store, and checks every byte against the signed checkpoint.

pub mod follow;
pub mod publish;

use crate::chain;
use crate::codec::{self, FormatError, RawRecord};
use crate::event::Hash;
use crate::merkle::{self, Digest, Frontier};

/// Hashes per full tile, entries per full bundle.
pub const WIDTH: u64 = 256;

/// The largest entry a bundle can hold: its length is a `u16`.
pub const MAX_ENTRY: usize = u16::MAX as usize;

/// The largest bundle a reader accepts: 256 entries of the largest size.
pub const MAX_BUNDLE: usize = WIDTH as usize * (2 + MAX_ENTRY);

/// The path of the checkpoint in the tree.
pub const CHECKPOINT: &str = "checkpoint";

/// `<N>` of a tile path: three-digit groups, all but the last starting with
/// `x` (index 1234067 is `x001/x234/067`).
pub fn index_path(n: u64) -> String {
    let digits = n.to_string();
    let pad = (3 - digits.len() % 3) % 3;
    let digits = format!("{}{digits}", "0".repeat(pad));
    let groups: Vec<&str> = (0..digits.len() / 3)
        .map(|i| &digits[3 * i..3 * i + 3])
        .collect();
    let (last, rest) = groups.split_last().expect("at least one group");
    let mut out = String::new();
    for g in rest {
        out.push('x');
        out.push_str(g);
        out.push('/');
    }
    out.push_str(last);
    out
}

fn with_width(mut path: String, width: u64) -> String {
    if width < WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// The path of hash tile `n` of `level`, `width` hashes wide (256: full).
pub fn tile_path(level: u8, n: u64, width: u64) -> String {
    with_width(format!("tile/{level}/{}", index_path(n)), width)
}

/// The path of entry bundle `n`, `width` entries long (256: full).
pub fn entries_path(n: u64, width: u64) -> String {
    with_width(format!("tile/entries/{}", index_path(n)), width)
}

/// What a path in the tree names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The checkpoint.
    Checkpoint,
    /// A hash tile: level, index, width (256 for a full tile).
    Tile(u8, u64, u64),
    /// An entry bundle: index, width (256 for a full bundle).
    Entries(u64, u64),
}

/// Reads a path of the tree strictly, as the specification writes it (no
/// leading zeroes in levels or widths, three-digit groups, no other files):
/// what a server matches requests against. `None` for anything else.
pub fn parse_path(path: &str) -> Option<Resource> {
    if path == CHECKPOINT {
        return Some(Resource::Checkpoint);
    }
    let rest = path.strip_prefix("tile/")?;
    let (level, rest) = rest.split_once('/')?;
    let (index, width) = match rest.split_once(".p/") {
        Some((i, w)) => {
            let w = decimal(w)?;
            if !(1..WIDTH).contains(&w) {
                return None;
            }
            (i, w)
        }
        None => (rest, WIDTH),
    };
    let n = parse_index(index)?;
    if level == "entries" {
        return Some(Resource::Entries(n, width));
    }
    let level = decimal(level)?;
    if level > 63 {
        return None;
    }
    Some(Resource::Tile(level as u8, n, width))
}

fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn parse_index(s: &str) -> Option<u64> {
    let groups: Vec<&str> = s.split('/').collect();
    let (last, rest) = groups.split_last()?;
    let mut n: u64 = 0;
    for (i, g) in rest.iter().enumerate() {
        let g = g.strip_prefix('x')?;
        // No leading group of zeroes: one index, one path.
        if i == 0 && g == "000" {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(group(g)?)?;
    }
    n.checked_mul(1000)?.checked_add(group(last)?)
}

fn group(g: &str) -> Option<u64> {
    (g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
        .then(|| g.parse().ok())
        .flatten()
}

/// The width of tile `n` of `level` in the tree of `size` leaves (the same
/// for entry bundles, at level 0): 256 when full, 1 to 255 when partial, 0
/// when the tree has no such tile.
pub fn tile_width(size: u64, level: u8, n: u64) -> u64 {
    let count = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
    let full = count / WIDTH;
    if n < full {
        WIDTH
    } else if n == full {
        count % WIDTH
    } else {
        0
    }
}

/// Reads an entry back: the record and its chain hash, re-derived from the
/// bytes.
///
/// # Errors
/// Bytes that are not exactly one record.
pub fn read_entry(bytes: &[u8]) -> Result<(RawRecord<'_>, Hash), FormatError> {
    let (rec, used) = codec::read_record(bytes)?;
    if used != bytes.len() {
        return Err(FormatError::Payload(format!(
            "{} bytes after the record",
            bytes.len() - used
        )));
    }
    let hash = chain::record_hash(&rec);
    Ok((rec, hash))
}

/// Adds a record's entry (its stored bytes) to a bundle being written,
/// without copying it anywhere first.
///
/// # Errors
/// The record's length, when it is longer than [`MAX_ENTRY`].
pub fn push_record(bundle: &mut Vec<u8>, rec: &RawRecord<'_>) -> Result<(), usize> {
    let len = codec::HEADER_LEN + rec.body.len();
    let len16 = u16::try_from(len).map_err(|_| len)?;
    bundle.extend_from_slice(&len16.to_be_bytes());
    codec::write_record(&rec.header, rec.body, bundle);
    Ok(())
}

/// Adds one entry to a bundle being written.
///
/// # Errors
/// The entry's length, when it is longer than [`MAX_ENTRY`].
pub fn push_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), usize> {
    let len = u16::try_from(entry.len()).map_err(|_| entry.len())?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Splits a bundle into its entries.
///
/// # Errors
/// A length that runs past the end (with the entry's place), or an empty
/// entry.
pub fn split_bundle(bundle: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return Err(format!("entry {}: a length cut short", out.len()));
        };
        let len = usize::from(u16::from_be_bytes(*len));
        if len == 0 {
            return Err(format!("entry {}: empty", out.len()));
        }
        if tail.len() < len {
            return Err(format!(
                "entry {}: {len} bytes announced, {} left",
                out.len(),
                tail.len()
            ));
        }
        out.push(&tail[..len]);
        rest = &tail[len..];
    }
    Ok(out)
}

/// The tree's hash tiles as leaves are added: the tile still filling at each
/// level (its hashes), and the full tiles handed out as they complete.
#[derive(Debug, Clone, Default)]
pub struct Tiles {
    size: u64,
    /// The partial tile of each level, level 0 first.
    levels: Vec<Vec<Digest>>,
}

impl Tiles {
    /// The tiles of the empty tree.
    pub fn new() -> Self {
        Tiles::default()
    }

    /// Resumes the tree of `size` leaves from its partial tiles, level 0
    /// first (a level with no partial tile gives an empty one), and returns
    /// it; the caller compares [`Tiles::root`] with a trusted root.
    ///
    /// # Errors
    /// A partial tile of the wrong width, naming its level.
    pub fn resume(size: u64, partials: Vec<Vec<Digest>>) -> Result<Self, u8> {
        let needed = (0..8u32)
            .take_while(|l| size.checked_shr(8 * l).unwrap_or(0) > 0)
            .count();
        let mut levels = partials;
        if levels.len() > needed {
            if let Some(l) = levels[needed..].iter().position(|t| !t.is_empty()) {
                return Err((needed + l) as u8);
            }
            levels.truncate(needed);
        }
        levels.resize_with(needed, Vec::new);
        for (l, tile) in levels.iter().enumerate() {
            if tile.len() as u64 != (size >> (8 * l)) % WIDTH {
                return Err(l as u8);
            }
        }
        Ok(Tiles { size, levels })
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf hash; `full(level, index, hashes)` is called for each tile
    /// this leaf fills, bottom up.
    pub fn push(&mut self, leaf: Digest, mut full: impl FnMut(u8, u64, &[Digest])) {
        let mut hash = leaf;
        let mut level = 0usize;
        self.size += 1;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::with_capacity(WIDTH as usize));
            }
            let tile = &mut self.levels[level];
            tile.push(hash);
            if tile.len() as u64 != WIDTH {
                break;
            }
            let count = self.size >> (8 * level);
            full(level as u8, count / WIDTH - 1, tile);
            hash = merkle::subtree_root(tile);
            tile.clear();
            level += 1;
        }
    }

    /// The partial tiles, level 0 first: `(level, index, hashes)`, only those
    /// that hold a hash.
    pub fn partials(&self) -> impl Iterator<Item = (u8, u64, &[Digest])> {
        self.levels
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.is_empty())
            .map(|(l, t)| {
                let count = self.size >> (8 * l);
                (l as u8, count / WIDTH, t.as_slice())
            })
    }

    /// The partial tile of each level, level 0 first, as [`Tiles::resume`]
    /// takes them.
    pub fn levels(&self) -> &[Vec<Digest>] {
        &self.levels
    }

    /// The tree's right edge, folded from the partial tiles: for each level
    /// `8t + r` whose bit is set in the size, the root of the `2^r` last
    /// hashes of the partial tile of level `t` before the lower ones.
    pub fn frontier(&self) -> Frontier {
        let mut hashes = Vec::new();
        for bit in (0..64u32).rev() {
            if (self.size >> bit) & 1 == 0 {
                continue;
            }
            let (t, r) = ((bit / 8) as usize, bit % 8);
            let count = self.size >> (8 * t);
            let first_in_tile = count - count % WIDTH;
            let start = (((count >> r) - 1) << r) - first_in_tile;
            let tile = &self.levels[t];
            hashes.push(merkle::subtree_root(
                &tile[start as usize..(start + (1 << r)) as usize],
            ));
        }
        Frontier::from_parts(self.size, hashes).expect("one hash per set bit")
    }

    /// The root of the tree.
    pub fn root(&self) -> Digest {
        self.frontier().root()
    }
}

/// Hashes laid end to end, as a tile holds them.
pub fn tile_bytes(hashes: &[Digest]) -> Vec<u8> {
    hashes.concat()
}

/// A tile's bytes as hashes.
///
/// # Errors
/// A length that is not a whole number of hashes.
pub fn tile_hashes(bytes: &[u8]) -> Result<Vec<Digest>, usize> {
    if !bytes.len().is_multiple_of(32) {
        return Err(bytes.len());
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32 bytes"))
        .collect())
}

/// The tree of a ledger as far as this process has verified its chain: what a
/// signer may sign. Grown by [`Verified::extend`], which re-hashes and links
/// only the records past it, so a long-running signer verifies each record
/// once and never signs anything it has not verified.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    first: Option<Hash>,
    chain: Hash,
    recorded_at: i64,
    tiles: Tiles,
}

impl Verified {
    /// Nothing verified yet.
    pub fn new() -> Self {
        Verified::default()
    }

    /// Records verified.
    pub fn size(&self) -> u64 {
        self.tiles.size()
    }

    /// The chain hash of the last record verified.
    pub fn chain(&self) -> Hash {
        self.chain
    }

    /// The head the records verified end at.
    pub fn head(&self) -> crate::event::Head {
        crate::event::Head {
            size: self.size(),
            hash: self.chain,
            recorded_at: self.recorded_at,
        }
    }

    /// The root of the tree of the records verified.
    pub fn root(&self) -> Digest {
        self.tiles.root()
    }

    /// The checkpoint of the records verified: the ledger's origin, size,
    /// root and `chain` line. `None` before any record.
    pub fn checkpoint(&self) -> Option<crate::note::Checkpoint> {
        let first = self.first?;
        Some(crate::note::Checkpoint {
            origin: crate::evidence::origin(&first),
            size: self.size(),
            root: self.root(),
            extensions: vec![format!("chain {}:{}", self.size(), self.chain)],
        })
    }

    /// Verifies the ledger's records past the ones already verified, up to
    /// its head, and returns the tree grown by them: each record re-hashed
    /// from its stored bytes, linked to the one before (the first of them to
    /// the last verified), and the last one matched with the stored head.
    ///
    /// # Errors
    /// [`VerifyError::Chain`] for a chain that does not verify (or no longer
    /// extends what was verified); store failures.
    pub fn extend(&self, ledger: &crate::ledger::Ledger) -> Result<Verified, VerifyError> {
        let head = ledger.head()?;
        let mut next = self.clone();
        if head.size <= self.size() {
            return Ok(next);
        }
        let mut verifier = if self.size() == 0 {
            crate::chain::Verifier::new()
        } else {
            crate::chain::Verifier::resume(self.size() + 1, self.chain, self.recorded_at)
        }
        .against_stored(head);
        let mut problem = None;
        ledger.for_each_record(self.size() + 1, |rec| {
            let hash = chain::record_hash(rec);
            if let Err(p) = verifier.feed_hashed(rec, hash) {
                problem = Some(p);
                return Ok(false);
            }
            if rec.header.seq == 1 {
                next.first = Some(hash);
            }
            next.tiles.push(crate::tree::leaf(&hash), |_, _, _| {});
            next.chain = hash;
            next.recorded_at = rec.header.recorded_at;
            Ok(rec.header.seq < head.size)
        })?;
        if let Some(p) = problem {
            return Err(VerifyError::Chain(p));
        }
        verifier.finish(&head).map_err(VerifyError::Chain)?;
        Ok(next)
    }
}

/// Why [`Verified::extend`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The store failed.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// The chain does not verify.
    #[error("the chain does not verify at seq {seq}: {0}", seq = .0.seq())]
    Chain(crate::chain::Problem),
}

/// A hash tile of the ledger's tree as it is now, for a server: `None` when
/// the tree has no tile of that width there (a partial tile narrower than
/// the tree's is served: its hashes never change).
///
/// # Errors
/// Store failures; a damaged tree.
pub fn live_tile(
    ledger: &crate::ledger::Ledger,
    level: u8,
    n: u64,
    width: u64,
) -> Result<Option<Vec<u8>>, crate::ledger::LedgerError> {
    let (size, _) = ledger.tree_head()?;
    if width == 0 || width > tile_width(size, level, n) || level >= 8 {
        return Ok(None);
    }
    let first = n * WIDTH;
    let nodes = ledger.tree_nodes(8 * level, first, width)?;
    Ok(Some(tile_bytes(&nodes)))
}

/// An entry bundle of the ledger as it is now, for a server: `None` when the
/// ledger has no bundle of that width there.
///
/// # Errors
/// Store failures; a record too long for an entry.
pub fn live_bundle(
    ledger: &crate::ledger::Ledger,
    n: u64,
    width: u64,
) -> Result<Option<Vec<u8>>, crate::ledger::LedgerError> {
    let size = ledger.head()?.size;
    if width == 0 || width > tile_width(size, 0, n) {
        return Ok(None);
    }
    let first = n * WIDTH + 1;
    let last = first + width - 1;
    let mut bundle = Vec::with_capacity(width as usize * 512);
    let mut too_large = None;
    ledger.for_each_record(first, |rec| {
        if rec.header.seq > last {
            return Ok(false);
        }
        if let Err(len) = push_record(&mut bundle, rec) {
            too_large = Some((rec.header.seq, len));
            return Ok(false);
        }
        Ok(rec.header.seq < last)
    })?;
    if let Some((seq, len)) = too_large {
        return Err(crate::ledger::LedgerError::Corrupt {
            seq,
            error: FormatError::TooLarge(len),
        });
    }
    Ok(Some(bundle))
}

#[cfg(test)]
mod tests;
