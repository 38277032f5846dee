//! `publish`: the ledger written as a tlog-tiles tree in a directory, from
//! scratch or from where the directory's own signed checkpoint left off.
//!
//! What is signed comes from the chain: every record published is re-hashed
//! from its stored bytes and linked to the one before, and the root is the
//! one those chain hashes make. Publishing again starts from the directory's
//! checkpoint, believed only under this key's signature; its partial tiles
//! must fold to that checkpoint's root, and the ledger's record at its size
//! must have the chain hash it states, so a directory tampered with, or one
//! another ledger published, is refused rather than extended.
//!
//! Full tiles and bundles are never rewritten: one that is already there must
//! hold the same bytes. Partial ones are added beside the earlier widths, and
//! the checkpoint is written last, whole, and renamed into place, after
//! everything it covers is on disk. Partial tiles a full tile now replaces
//! are removed after that.

use super::{entries_path, push_record, tile_bytes, tile_hashes, tile_path, Tiles, WIDTH};
use crate::chain::{self, Problem, Verifier};
use crate::codec::RawRecord;
use crate::event::{Hash, Seq};
use crate::evidence;
use crate::ledger::{Ledger, LedgerError};
use crate::note::{self, Checkpoint, NoteError, SignerKey};
use crate::tree;
use std::path::{Path, PathBuf};

/// Why a publish stopped. Nothing is half-published: the checkpoint is only
/// replaced once everything it covers is written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The ledger has no events.
    #[error("the ledger holds no events: there is nothing to publish")]
    Empty,
    /// Reading or writing the directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The chain does not verify: nothing is signed over it.
    #[error("the chain does not verify: {0}")]
    Chain(Problem),
    /// What the directory holds is not a tree this ledger and key published,
    /// or it is damaged.
    #[error("{path}: {detail}")]
    Published {
        /// The file, relative to the directory.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A record too long for an entry of a bundle.
    #[error("record {seq} is {len} bytes; an entry of a tile bundle holds at most 65,535")]
    EntryTooLarge {
        /// The record.
        seq: Seq,
        /// Its stored length.
        len: usize,
    },
    /// Signing failed.
    #[error("cannot sign the checkpoint: {0}")]
    Sign(NoteError),
}

/// What a publish did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Records in the published tree now.
    pub size: u64,
    /// Records it held before (0 for a new directory).
    pub previous: u64,
    /// Files written (tiles, bundles, the checkpoint).
    pub written: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Full tiles and bundles found already there, with the same bytes.
    pub kept: u64,
    /// Partial tiles and bundles removed because full ones replace them.
    pub removed: u64,
    /// The signed checkpoint, as written to `checkpoint`.
    pub checkpoint: String,
}

/// The checkpoint this directory holds, believed under the key.
struct Previous {
    size: u64,
    root: [u8; 32],
    chain: Hash,
}

/// Writes the ledger into `dir` as a tlog-tiles tree signed with `key`, or
/// brings a tree published there earlier up to the ledger's head.
///
/// # Errors
/// See [`PublishError`].
pub fn publish(ledger: &Ledger, dir: &Path, key: &SignerKey) -> Result<Published, PublishError> {
    let head = ledger.head()?;
    if head.size == 0 {
        return Err(PublishError::Empty);
    }
    let origin = evidence::origin(&ledger.get(1)?.hash);
    let previous = read_previous(dir, key, &origin)?;
    let old = previous.as_ref().map_or(0, |p| p.size);
    if old > head.size {
        return Err(published(
            super::CHECKPOINT,
            format!(
                "states {old} records, and the ledger holds {}: it was published from another ledger, or from this one before it was cut short",
                head.size
            ),
        ));
    }
    let mut out = Out::new(dir);
    let tiles = match &previous {
        None => Tiles::new(),
        Some(p) => resume(&out, p)?,
    };
    if old == head.size {
        let at = ledger.get(old)?.hash;
        if Some(at) != previous.as_ref().map(|p| p.chain) {
            return Err(not_this_ledger(old));
        }
        let checkpoint =
            std::fs::read_to_string(dir.join(super::CHECKPOINT)).map_err(|e| PublishError::Io {
                path: dir.join(super::CHECKPOINT),
                source: e,
            })?;
        return Ok(Published {
            size: old,
            previous: old,
            written: 0,
            bytes: 0,
            kept: 0,
            removed: 0,
            checkpoint,
        });
    }
    let mut walk = Walk {
        head,
        old,
        previous_chain: previous.as_ref().map(|p| p.chain),
        tiles,
        verifier: None,
        bundle: Vec::with_capacity(1 << 17),
        in_bundle: 0,
        failed: None,
    };
    // The bundle still filling starts before `old`; a tree of a whole number
    // of bundles reads record `old` alone, to link to it.
    let from = if old == 0 {
        1
    } else {
        (old - old % WIDTH + 1).min(old)
    };
    ledger.for_each_record(from, |rec| Ok(walk.record(rec, &mut out)))?;
    if let Some(e) = walk.failed.take() {
        return Err(e);
    }
    let verifier = walk.verifier.take().expect("the walk read a record");
    verifier.finish(&head).map_err(PublishError::Chain)?;
    let size = walk.tiles.size();
    for (level, n, hashes) in walk.tiles.partials() {
        out.write(
            &tile_path(level, n, hashes.len() as u64),
            &tile_bytes(hashes),
        )?;
    }
    if walk.in_bundle > 0 {
        out.write(&entries_path(size / WIDTH, walk.in_bundle), &walk.bundle)?;
    }
    out.sync()?;
    let cp = Checkpoint {
        origin,
        size,
        root: walk.tiles.root(),
        extensions: vec![format!("chain {size}:{}", verifier.last_hash())],
    };
    let signed = note::sign(&cp.to_text(), key).map_err(PublishError::Sign)?;
    out.replace(super::CHECKPOINT, signed.as_bytes())?;
    let removed = out.remove_replaced_partials(old, size);
    Ok(Published {
        size,
        previous: old,
        written: out.written,
        bytes: out.bytes,
        kept: out.kept,
        removed,
        checkpoint: signed,
    })
}

fn published(path: &str, detail: impl Into<String>) -> PublishError {
    PublishError::Published {
        path: path.to_string(),
        detail: detail.into(),
    }
}

fn not_this_ledger(seq: Seq) -> PublishError {
    published(
        super::CHECKPOINT,
        format!(
            "the ledger's record {seq} is not the one published there (its chain hash differs): the directory holds another ledger's tree"
        ),
    )
}

/// The directory's checkpoint, if it has one: signed by this key, of this
/// ledger's origin, with its `chain` line.
fn read_previous(
    dir: &Path,
    key: &SignerKey,
    origin: &str,
) -> Result<Option<Previous>, PublishError> {
    let path = dir.join(super::CHECKPOINT);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PublishError::Io { path, source: e }),
    };
    let cp = super::follow::open_checkpoint(&bytes, &key.verifier()).map_err(|e| {
        published(
            super::CHECKPOINT,
            format!("{e}: publish into the directory this key published, or into a new one"),
        )
    })?;
    if cp.checkpoint.origin != origin {
        return Err(published(
            super::CHECKPOINT,
            format!(
                "is the checkpoint of log {}, not of this ledger ({origin})",
                cp.checkpoint.origin
            ),
        ));
    }
    Ok(Some(Previous {
        size: cp.checkpoint.size,
        root: cp.checkpoint.root,
        chain: cp.chain,
    }))
}

/// The tiles of the published tree, from its partial tiles, which must fold
/// to the checkpoint's root.
fn resume(out: &Out, p: &Previous) -> Result<Tiles, PublishError> {
    let mut partials = Vec::new();
    for level in 0..8u8 {
        let count = p.size.checked_shr(8 * u32::from(level)).unwrap_or(0);
        if count == 0 {
            break;
        }
        let width = count % WIDTH;
        if width == 0 {
            partials.push(Vec::new());
            continue;
        }
        let rel = tile_path(level, count / WIDTH, width);
        let bytes = out.read(&rel)?.ok_or_else(|| {
            published(
                &rel,
                "is missing, and the checkpoint's tree needs it: publish into a new directory",
            )
        })?;
        let hashes = tile_hashes(&bytes)
            .ok()
            .filter(|h| h.len() as u64 == width)
            .ok_or_else(|| {
                published(
                    &rel,
                    format!("is {} bytes, not {}", bytes.len(), 32 * width),
                )
            })?;
        partials.push(hashes);
    }
    let tiles = Tiles::resume(p.size, partials).map_err(|level| {
        published(
            &format!("tile/{level}"),
            "the partial tiles do not fit the checkpoint's size",
        )
    })?;
    if tiles.root() != p.root {
        return Err(published(
            super::CHECKPOINT,
            "the published partial tiles do not make its root: the directory was changed after it was published",
        ));
    }
    Ok(tiles)
}

/// The walk over the records from the start of the bundle still filling.
struct Walk {
    head: crate::event::Head,
    old: u64,
    previous_chain: Option<Hash>,
    tiles: Tiles,
    verifier: Option<Verifier>,
    bundle: Vec<u8>,
    in_bundle: u64,
    failed: Option<PublishError>,
}

impl Walk {
    /// Takes one record; `false` stops the walk (with `failed` set).
    fn record(&mut self, rec: &RawRecord<'_>, out: &mut Out) -> bool {
        match self.take(rec, out) {
            Ok(()) => true,
            Err(e) => {
                self.failed = Some(e);
                false
            }
        }
    }

    fn take(&mut self, rec: &RawRecord<'_>, out: &mut Out) -> Result<(), PublishError> {
        let seq = rec.header.seq;
        let hash = chain::record_hash(rec);
        match &mut self.verifier {
            Some(v) => v.feed_hashed(rec, hash).map_err(PublishError::Chain)?,
            None if seq == 1 => {
                let mut v = Verifier::new().against_stored(self.head);
                v.feed_hashed(rec, hash).map_err(PublishError::Chain)?;
                self.verifier = Some(v);
            }
            // The first record read is believed by its hash, which the
            // published tree (or the checkpoint) states: the walk links on
            // from it.
            None => {
                self.verifier = Some(
                    Verifier::resume(seq + 1, hash, rec.header.recorded_at)
                        .against_stored(self.head),
                );
            }
        }
        if seq == self.old && Some(hash) != self.previous_chain {
            return Err(not_this_ledger(seq));
        }
        let bundle_start = self.old - self.old % WIDTH;
        if seq <= self.old && seq <= bundle_start {
            return Ok(());
        }
        let leaf = tree::leaf(&hash);
        if seq <= self.old {
            let i = (seq - bundle_start - 1) as usize;
            if self.tiles.levels()[0].get(i) != Some(&leaf) {
                return Err(not_this_ledger(seq));
            }
        } else {
            let mut full = Vec::new();
            self.tiles.push(leaf, |level, n, hashes| {
                full.push((tile_path(level, n, WIDTH), tile_bytes(hashes)));
            });
            for (rel, bytes) in full {
                out.write_immutable(&rel, &bytes)?;
            }
        }
        push_record(&mut self.bundle, rec)
            .map_err(|len| PublishError::EntryTooLarge { seq, len })?;
        self.in_bundle += 1;
        if self.in_bundle == WIDTH {
            out.write_immutable(&entries_path(seq / WIDTH - 1, WIDTH), &self.bundle)?;
            self.bundle.clear();
            self.in_bundle = 0;
        }
        Ok(())
    }
}

/// The files of one publish: written under temporary names and renamed, then
/// made durable together before the checkpoint.
struct Out {
    dir: PathBuf,
    to_sync: Vec<PathBuf>,
    dirs: std::collections::BTreeSet<PathBuf>,
    written: u64,
    bytes: u64,
    kept: u64,
}

impl Out {
    fn new(dir: &Path) -> Out {
        Out {
            dir: dir.to_path_buf(),
            to_sync: Vec::new(),
            dirs: Default::default(),
            written: 0,
            bytes: 0,
            kept: 0,
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
        move |source| PublishError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, PublishError> {
        let path = self.dir.join(rel);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io(&path)(e)),
        }
    }

    /// A full tile or bundle: written once; one already there must be the
    /// same.
    fn write_immutable(&mut self, rel: &str, bytes: &[u8]) -> Result<(), PublishError> {
        match self.read(rel)? {
            Some(there) if there == bytes => {
                self.kept += 1;
                Ok(())
            }
            Some(_) => Err(published(
                rel,
                "is already there with other bytes: the directory holds another tree; publish into a new one",
            )),
            None => self.put(rel, bytes, false),
        }
    }

    /// A partial tile or bundle: the bytes of a width never change either.
    fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), PublishError> {
        self.write_immutable(rel, bytes)
    }

    /// The checkpoint: replaced whole, durably.
    fn replace(&mut self, rel: &str, bytes: &[u8]) -> Result<(), PublishError> {
        self.put(rel, bytes, true)
    }

    fn put(&mut self, rel: &str, bytes: &[u8], durable_now: bool) -> Result<(), PublishError> {
        let path = self.dir.join(rel);
        let parent = path
            .parent()
            .expect("a file in the directory")
            .to_path_buf();
        std::fs::create_dir_all(&parent).map_err(Self::io(&parent))?;
        let name = path.file_name().expect("a file name").to_string_lossy();
        let tmp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut f, bytes)?;
            if durable_now {
                f.sync_all()?;
            }
            drop(f);
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(Self::io(&path)(e));
        }
        if durable_now {
            sync_dir(&parent)?;
        } else {
            self.to_sync.push(path);
            self.dirs.insert(parent);
        }
        self.written += 1;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Makes every file written so far durable, and the directories that name
    /// them, a few at a time.
    fn sync(&mut self) -> Result<(), PublishError> {
        let files = std::mem::take(&mut self.to_sync);
        let dirs: Vec<PathBuf> = std::mem::take(&mut self.dirs).into_iter().collect();
        for list in [files, dirs] {
            let chunk = list.len().div_ceil(4).max(1);
            std::thread::scope(|s| {
                let handles: Vec<_> = list
                    .chunks(chunk)
                    .map(|part| {
                        s.spawn(move || {
                            for p in part {
                                std::fs::File::open(p)
                                    .and_then(|f| f.sync_all())
                                    .map_err(Self::io(p))?;
                            }
                            Ok::<(), PublishError>(())
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .try_for_each(|h| h.join().expect("a sync thread does not panic"))
            })?;
        }
        Ok(())
    }

    /// Removes partial tiles and bundles that full ones have replaced between
    /// the sizes `old` and `new`, and the widths of the tile still filling
    /// that neither checkpoint names. Readers that fetched an older
    /// checkpoint fall back to the full tile. Failures are left alone: a
    /// partial tile too many harms no one.
    fn remove_replaced_partials(&self, old: u64, new: u64) -> u64 {
        let mut removed = 0;
        for level in 0..8u8 {
            let shift = 8 * u32::from(level);
            let (was, now) = (old >> shift, new >> shift);
            if now == 0 {
                break;
            }
            let keep = |n: u64, w: u64| {
                n == now / WIDTH && (w == now % WIDTH || (n == was / WIDTH && w == was % WIDTH))
            };
            for n in was / WIDTH..=now / WIDTH {
                let mut bases = vec![tile_path(level, n, WIDTH)];
                if level == 0 {
                    bases.push(entries_path(n, WIDTH));
                }
                for base in bases {
                    let pdir = self.dir.join(format!("{base}.p"));
                    let Ok(list) = std::fs::read_dir(&pdir) else {
                        continue;
                    };
                    for f in list.flatten() {
                        let name = f.file_name();
                        let w = name.to_str().and_then(|s| s.parse::<u64>().ok());
                        if w.is_some_and(|w| !keep(n, w)) && std::fs::remove_file(f.path()).is_ok()
                        {
                            removed += 1;
                        }
                    }
                    let _ = std::fs::remove_dir(&pdir);
                }
            }
        }
        removed
    }
}

fn sync_dir(dir: &Path) -> Result<(), PublishError> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(Out::io(dir))
}
