//! `follow`: reading a published tree with no store, checking every byte.
//!
//! A follower keeps what a witness keeps: the last checkpoint it saw, with
//! the partial tiles of that tree (which fold to its root, so the state
//! checks itself). On each call it fetches the checkpoint, checks its
//! signature, then fetches every entry bundle past what it saw: each entry's
//! chain hash is re-derived from its bytes and linked to the one before, its
//! leaf added to the tree, and the tree grown from the old state must reach
//! the new checkpoint's root. That is the consistency of the two checkpoints,
//! and the inclusion of every new entry, in one walk. The hash tiles the tree
//! publishes are compared with the ones the entries make, so a tile changed
//! on the server is named too.

use super::{
    entries_path, read_entry, split_bundle, tile_bytes, tile_path, tile_width, Tiles, CHECKPOINT,
    MAX_BUNDLE, WIDTH,
};
use crate::chain::{Problem, Verifier};
use crate::codec::RawRecord;
use crate::event::Hash;
use crate::ledger::{Ledger, LedgerError};
use crate::merkle::Digest;
use crate::note::{self, Checkpoint, VerifierKey};
use crate::tree;
use std::path::PathBuf;

/// Where a published tree is read from: a directory, or a web server (the
/// command line's). `Ok(None)` when the file is not there.
pub trait Source: Sync {
    /// Reads one file of the tree, at most `limit` bytes. Called from several
    /// threads at once: a reader fetches a few bundles ahead.
    ///
    /// # Errors
    /// The file could not be read (a message for the reader).
    fn fetch(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, String>;
}

/// A published tree in a local directory.
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn fetch(&self, path: &str, limit: usize) -> Result<Option<Vec<u8>>, String> {
        let full = self.0.join(path);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", full.display())),
        };
        if !meta.is_file() {
            return Err(format!("{} is not a file", full.display()));
        }
        if meta.len() > limit as u64 {
            return Err(format!(
                "{} is {} bytes, more than the {limit} it can be",
                full.display(),
                meta.len()
            ));
        }
        std::fs::read(&full)
            .map(Some)
            .map_err(|e| format!("{}: {e}", full.display()))
    }
}

/// A checkpoint whose signature verified, with its `chain SIZE:HASH` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The signed note, whole.
    pub note: String,
    /// Its checkpoint.
    pub checkpoint: Checkpoint,
    /// The chain hash of its last record, from its `chain` line.
    pub chain: Hash,
}

/// Opens a signed checkpoint of a published tree: the signature by `key`,
/// the checkpoint's text, and its `chain` line, whose size must be the
/// tree's.
///
/// # Errors
/// A message naming what is wrong.
pub fn open_checkpoint(bytes: &[u8], key: &VerifierKey) -> Result<Opened, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the checkpoint is not UTF-8 text")?;
    note::open(text, std::slice::from_ref(key)).map_err(|e| {
        if e.is_verification_failure() {
            format!("the checkpoint is not signed by {}: {e}", key.name())
        } else {
            format!("the checkpoint is not a signed note: {e}")
        }
    })?;
    let body = crate::evidence::note_text(text).ok_or("the checkpoint has no text")?;
    let checkpoint =
        Checkpoint::parse(body).map_err(|e| format!("the checkpoint does not parse: {e}"))?;
    let chain = checkpoint
        .extensions
        .iter()
        .find_map(|e| e.strip_prefix("chain "))
        .ok_or("the checkpoint has no `chain SIZE:HASH` line: it is not a demarche ledger's")?;
    let (size, hash) = chain
        .split_once(':')
        .and_then(|(s, h)| Some((s.parse::<u64>().ok()?, Hash::from_hex(h)?)))
        .ok_or_else(|| format!("the checkpoint's line `chain {chain}` is not SIZE:HASH"))?;
    if size != checkpoint.size {
        return Err(format!(
            "the checkpoint's tree has {} records, its chain line {size}",
            checkpoint.size
        ));
    }
    Ok(Opened {
        note: text.to_string(),
        checkpoint,
        chain: hash,
    })
}

/// What a follower keeps between calls: where the tree it checked ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The log's origin.
    pub origin: String,
    /// Records in the tree.
    pub size: u64,
    /// The tree's root.
    pub root: Digest,
    /// The chain hash of its last record.
    pub chain: Hash,
    /// The recording time of its last record (microseconds).
    pub recorded_at: i64,
    /// The partial tiles of the tree, level 0 first.
    pub tiles: Vec<Vec<Digest>>,
    /// The signed checkpoint of that tree, when the state comes from one (a
    /// copy made by `clone` is its own state: its ledger).
    pub note: Option<String>,
}

/// The first line of a state file.
pub const STATE_FORMAT: &str = "demarche-follow 1";

impl State {
    fn from_checkpoint(seen: Opened, recorded_at: i64, tiles: Vec<Vec<Digest>>) -> State {
        State {
            origin: seen.checkpoint.origin,
            size: seen.checkpoint.size,
            root: seen.checkpoint.root,
            chain: seen.chain,
            recorded_at,
            tiles,
            note: Some(seen.note),
        }
    }

    /// The state of a ledger that is a copy of a published tree: its head,
    /// and its tree's partial tiles, which must fold to the root the
    /// published tree will be checked against.
    ///
    /// # Errors
    /// An empty ledger; store failures; a damaged tree.
    pub fn of_ledger(ledger: &Ledger) -> Result<State, LedgerError> {
        let head = ledger.head()?;
        let origin = crate::evidence::origin(&ledger.get(1)?.hash);
        let mut partials = Vec::new();
        for level in 0..8u8 {
            let count = head.size.checked_shr(8 * u32::from(level)).unwrap_or(0);
            if count == 0 {
                break;
            }
            let width = count % WIDTH;
            partials.push(if width == 0 {
                Vec::new()
            } else {
                ledger.tree_nodes(8 * level, count - width, width)?
            });
        }
        let tiles = Tiles::resume(head.size, partials).expect("widths from the size");
        Ok(State {
            origin,
            size: head.size,
            root: tiles.root(),
            chain: head.hash,
            recorded_at: head.recorded_at,
            tiles: tiles.levels().to_vec(),
            note: None,
        })
    }

    /// The state as a small text file: the format line, the recording time
    /// of the last record, one line per level of hex hashes (its partial
    /// tile; `tile` alone when none), a blank line, and the signed checkpoint.
    ///
    /// # Panics
    /// For a state without a checkpoint (a copy's, kept by its ledger).
    pub fn to_text(&self) -> String {
        let note = self
            .note
            .as_ref()
            .expect("a state file holds its checkpoint");
        let mut out = format!("{STATE_FORMAT}\nrecorded_at {}\n", self.recorded_at);
        for level in &self.tiles {
            out.push_str("tile");
            for h in level {
                out.push(' ');
                out.push_str(&crate::hex::encode(h));
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str(note);
        out
    }

    /// Reads a state file back, checking the checkpoint's signature and that
    /// the partial tiles make its root.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(text: &str, key: &VerifierKey) -> Result<State, String> {
        let (head, note) = text
            .split_once("\n\n")
            .ok_or("no blank line before the checkpoint")?;
        let mut lines = head.lines();
        if lines.next() != Some(STATE_FORMAT) {
            return Err(format!("the first line is not `{STATE_FORMAT}`"));
        }
        let recorded_at = lines
            .next()
            .and_then(|l| l.strip_prefix("recorded_at "))
            .and_then(|t| t.parse().ok())
            .ok_or("no `recorded_at MICROS` line")?;
        let mut tiles = Vec::new();
        for line in lines {
            let hashes = line
                .strip_prefix("tile")
                .ok_or_else(|| format!("`{line}` is not a tile line"))?;
            let level: Option<Vec<Digest>> = hashes
                .split_whitespace()
                .map(crate::hex::decode_array::<32>)
                .collect();
            tiles.push(level.ok_or("a tile line holds something other than hashes")?);
        }
        let seen = open_checkpoint(note.as_bytes(), key)?;
        let folded = Tiles::resume(seen.checkpoint.size, tiles)
            .map_err(|l| format!("the tile of level {l} does not fit the checkpoint's size"))?;
        if folded.root() != seen.checkpoint.root {
            return Err("its tiles do not make the checkpoint's root".into());
        }
        Ok(State::from_checkpoint(
            seen,
            recorded_at,
            folded.levels().to_vec(),
        ))
    }
}

/// What one call of [`follow`] found.
#[derive(Debug, Clone)]
pub struct Followed {
    /// The state to keep for the next call.
    pub state: State,
    /// Records in the tree at the last checkpoint seen before (0 the first time).
    pub previous: u64,
}

/// Why following stopped. Nothing new is believed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// A file could not be fetched.
    #[error("cannot fetch {path}: {error}")]
    Fetch {
        /// The file.
        path: String,
        /// Why.
        error: String,
    },
    /// A file the tree needs is not there.
    #[error("{path} is missing: the published tree is incomplete")]
    Missing {
        /// The file.
        path: String,
    },
    /// The checkpoint is not one to believe.
    #[error("{0}")]
    Checkpoint(String),
    /// The checkpoint is of another log.
    #[error("checkpoint: it is of log {found}, and the one followed is {seen}")]
    OtherLog {
        /// The origin followed.
        seen: String,
        /// The origin published.
        found: String,
    },
    /// The tree is smaller than one seen before: history was cut.
    #[error("checkpoint: the tree has {now} records, and one of {seen} was seen before: the log was rolled back")]
    Rollback {
        /// Size seen before.
        seen: u64,
        /// Size now.
        now: u64,
    },
    /// Two checkpoints of the same size with different roots: a fork.
    #[error("checkpoint: the tree of {size} records has another root than the one seen before: the log forked")]
    Fork {
        /// The size.
        size: u64,
    },
    /// The new checkpoint does not extend the one seen before, or the
    /// entries do not make its root.
    #[error("{path}: {detail}")]
    Entries {
        /// The bundle (or checkpoint) at fault.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// A hash tile is not the tree's.
    #[error("{path}: the hash tile is not the one the entries make (changed on the server?)")]
    Tile {
        /// The tile.
        path: String,
    },
    /// The chain does not link.
    #[error("{path}: {problem}")]
    Chain {
        /// The bundle.
        path: String,
        /// What the verifier found.
        problem: Problem,
    },
    /// What the caller does with the entries failed.
    #[error("{0}")]
    Sink(String),
    /// The copy being brought up to date failed or refused a record.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What a follower does with each new record: the record and the bytes it
/// came as; an error stops the walk.
pub type OnEntry<'a> = dyn FnMut(&RawRecord<'_>, &[u8]) -> Result<(), String> + 'a;

/// Follows the tree published at `src` under `key` from `state` (`None`: from
/// the start), calling `on_entry` with each new record in order and the bytes
/// it came as; returns the state to keep. Nothing is returned, and `on_entry`
/// should not commit anything, unless the whole walk checks out.
///
/// # Errors
/// See [`FollowError`].
pub fn follow(
    src: &dyn Source,
    key: &VerifierKey,
    state: Option<&State>,
    on_entry: &mut OnEntry<'_>,
) -> Result<Followed, FollowError> {
    let bytes = fetch(src, CHECKPOINT, note::MAX_NOTE_SIZE)?;
    let now = open_checkpoint(&bytes, key).map_err(FollowError::Checkpoint)?;
    let size = now.checkpoint.size;
    let previous = state.map_or(0, |s| s.size);
    if let Some(s) = state {
        if s.origin != now.checkpoint.origin {
            return Err(FollowError::OtherLog {
                seen: s.origin.clone(),
                found: now.checkpoint.origin,
            });
        }
        if size < previous {
            return Err(FollowError::Rollback {
                seen: previous,
                now: size,
            });
        }
        if size == previous {
            if now.checkpoint.root != s.root || now.chain != s.chain {
                return Err(FollowError::Fork { size });
            }
            return Ok(Followed {
                state: State::from_checkpoint(now, s.recorded_at, s.tiles.clone()),
                previous,
            });
        }
    }
    if size == 0 {
        return Err(FollowError::Checkpoint(
            "the checkpoint states an empty tree: there is nothing to follow".into(),
        ));
    }
    let mut tiles = match state {
        Some(s) => Tiles::resume(previous, s.tiles.clone())
            .map_err(|l| FollowError::Sink(format!("the state's tile of level {l} is damaged")))?,
        None => Tiles::new(),
    };
    let mut verifier = match state {
        Some(s) => Verifier::resume(previous + 1, s.chain, s.recorded_at),
        None => Verifier::new(),
    };
    let mut recorded_at = state.map_or(i64::MIN, |s| s.recorded_at);
    // Hash tiles are checked once the entries are known to make the root:
    // until then a difference could be the bundle's fault.
    let mut made: Vec<(String, Vec<u8>)> = Vec::new();
    let mut first_bad_bundle: Option<String> = None;
    let mut first_bad_tile: Option<String> = None;
    let bundles: Vec<u64> = (previous / WIDTH..=(size - 1) / WIDTH).collect();
    for chunk in bundles.chunks(AHEAD) {
        // Each bundle with its level-0 tile, a few at a time: over a network
        // the round trips, not the hashing, set the pace.
        let fetched = fetch_all(src, chunk, size);
        for (&n, got) in chunk.iter().zip(fetched) {
            let (bundle, tile) = got?;
            let width = tile_width(size, 0, n);
            let path = entries_path(n, width);
            let entries = split_bundle(&bundle).map_err(|detail| FollowError::Entries {
                path: path.clone(),
                detail,
            })?;
            if entries.len() as u64 != width {
                return Err(FollowError::Entries {
                    path,
                    detail: format!("holds {} entries, not {width}", entries.len()),
                });
            }
            let skip = if n == previous / WIDTH {
                previous % WIDTH
            } else {
                0
            };
            let mut leaves = Vec::with_capacity(width as usize);
            for (i, bytes) in entries.iter().enumerate() {
                let at = n * WIDTH + i as u64 + 1;
                let (rec, hash) = read_entry(bytes).map_err(|e| FollowError::Entries {
                    path: path.clone(),
                    detail: format!("entry {i} (seq {at}): {e}"),
                })?;
                let leaf = tree::leaf(&hash);
                leaves.push(leaf);
                if (i as u64) < skip {
                    // Seen before: it must be the leaf the state holds.
                    if tiles.levels().first().and_then(|t| t.get(i)) != Some(&leaf) {
                        return Err(FollowError::Entries {
                            path,
                            detail: format!(
                                "entry {i} (seq {at}) is not the record seen there before"
                            ),
                        });
                    }
                    continue;
                }
                verifier
                    .feed_hashed(&rec, hash)
                    .map_err(|problem| FollowError::Chain {
                        path: path.clone(),
                        problem,
                    })?;
                recorded_at = rec.header.recorded_at;
                tiles.push(leaf, |level, index, hashes| {
                    // Level 0 is compared below, bundle by bundle.
                    if level > 0 {
                        made.push((tile_path(level, index, WIDTH), tile_bytes(hashes)));
                    }
                });
                on_entry(&rec, bytes).map_err(|detail| FollowError::Entries {
                    path: path.clone(),
                    detail,
                })?;
            }
            // The level-0 tile published beside this bundle: if they differ,
            // one of them is wrong, and the root says which.
            if tile != tile_bytes(&leaves) {
                first_bad_bundle.get_or_insert(path);
                first_bad_tile.get_or_insert(tile_path(0, n, width));
            }
        }
    }
    if tiles.root() != now.checkpoint.root {
        return Err(FollowError::Entries {
            path: first_bad_bundle
                .clone()
                .unwrap_or_else(|| CHECKPOINT.into()),
            detail: if previous > 0 {
                format!("the entries do not make the signed checkpoint's root from the tree of {previous} records seen before: the bundle was changed, or the log does not extend what was seen")
            } else {
                "the entries do not make the signed checkpoint's root: the bundle was changed"
                    .into()
            },
        });
    }
    if verifier.last_hash() != now.chain {
        return Err(FollowError::Entries {
            path: first_bad_bundle.unwrap_or_else(|| CHECKPOINT.into()),
            detail: format!(
                "its chain line names hash {}, and the entries end at {}",
                now.chain,
                verifier.last_hash()
            ),
        });
    }
    // The entries are the log's: now every hash tile can be checked.
    if let Some(path) = first_bad_tile {
        return Err(FollowError::Tile { path });
    }
    for (level, n, hashes) in tiles.partials().filter(|(level, _, _)| *level > 0) {
        made.push((tile_path(level, n, hashes.len() as u64), tile_bytes(hashes)));
    }
    for (path, expected) in made {
        let got = fetch(src, &path, 32 * WIDTH as usize)?;
        if got != expected {
            return Err(FollowError::Tile { path });
        }
    }
    Ok(Followed {
        state: State::from_checkpoint(now, recorded_at, tiles.levels().to_vec()),
        previous,
    })
}

/// Bundles fetched at once, each with its level-0 tile.
const AHEAD: usize = 16;

/// A bundle's bytes and its level-0 tile's.
type Fetched = (Vec<u8>, Vec<u8>);

/// Fetches the bundles `ns` of the tree of `size` records and their level-0
/// tiles, each on a thread of its own, in order.
fn fetch_all(src: &dyn Source, ns: &[u64], size: u64) -> Vec<Result<Fetched, FollowError>> {
    let one = |n: u64| {
        let width = tile_width(size, 0, n);
        let bundle = fetch(src, &entries_path(n, width), MAX_BUNDLE)?;
        let tile = fetch(src, &tile_path(0, n, width), 32 * WIDTH as usize)?;
        Ok((bundle, tile))
    };
    if ns.len() == 1 {
        return vec![one(ns[0])];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = ns.iter().map(|&n| scope.spawn(move || one(n))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a fetch does not panic"))
            .collect()
    })
}

fn fetch(src: &dyn Source, path: &str, limit: usize) -> Result<Vec<u8>, FollowError> {
    match src.fetch(path, limit) {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(FollowError::Missing { path: path.into() }),
        Err(error) => Err(FollowError::Fetch {
            path: path.into(),
            error,
        }),
    }
}

/// [`follow`], handing each new record to `on_line` as the line `log --json`
/// and exports write, once the whole walk has checked out. The lines are held
/// until then: in memory up to 64 MiB, beyond in a file of the system's
/// temporary directory, removed afterwards.
///
/// # Errors
/// See [`FollowError`]; `on_line`'s own failures, and the temporary file's,
/// as [`FollowError::Sink`].
pub fn follow_lines(
    src: &dyn Source,
    key: &VerifierKey,
    state: Option<&State>,
    on_line: &mut dyn FnMut(&[u8]) -> Result<(), String>,
) -> Result<Followed, FollowError> {
    follow_lines_holding(src, key, state, on_line, 64 << 20)
}

/// [`follow_lines`], holding at most `hold` bytes in memory.
pub(super) fn follow_lines_holding(
    src: &dyn Source,
    key: &VerifierKey,
    state: Option<&State>,
    on_line: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    hold: usize,
) -> Result<Followed, FollowError> {
    let mut held: Vec<u8> = Vec::new();
    let mut spill: Option<Spill> = None;
    let followed = follow(src, key, state, &mut |rec, _| {
        crate::export::write_raw_export_line(rec, &mut held).map_err(|e| e.to_string())?;
        if held.len() > hold {
            if spill.is_none() {
                spill = Some(Spill::new().map_err(|e| format!("a temporary file: {e}"))?);
            }
            let s = spill.as_mut().expect("made above");
            std::io::Write::write_all(&mut s.file, &held)
                .map_err(|e| format!("{}: {e}", s.path.display()))?;
            held.clear();
        }
        Ok(())
    })?;
    let sink = FollowError::Sink;
    if let Some(mut s) = spill {
        use std::io::{BufRead, Seek};
        std::io::Write::flush(&mut s.file)
            .map_err(|e| sink(format!("{}: {e}", s.path.display())))?;
        let file = s.file.get_mut();
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| sink(format!("{}: {e}", s.path.display())))?;
        let mut reader = std::io::BufReader::new(&*file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| sink(format!("{}: {e}", s.path.display())))?;
            if n == 0 {
                break;
            }
            on_line(&line).map_err(sink)?;
        }
    }
    for line in held.split_inclusive(|b| *b == b'\n') {
        on_line(line).map_err(sink)?;
    }
    Ok(followed)
}

/// A temporary file of held lines, removed when dropped.
struct Spill {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

impl Spill {
    fn new() -> std::io::Result<Spill> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "demarche-follow-{}-{nanos}.jsonl",
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Spill {
            path,
            file: std::io::BufWriter::with_capacity(1 << 20, file),
        })
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Brings a copy of a published tree up to date: follows from the copy's own
/// state ([`State::of_ledger`]; from the start when it is empty) and records
/// each new record with its original seq, time and hashes, all in one batch
/// that is committed only once the whole walk has checked out. Returns what
/// was followed and how many records were recorded.
///
/// # Errors
/// See [`FollowError`]; a copy whose first record is not the log's is
/// [`FollowError::OtherLog`].
pub fn follow_into(
    ledger: &mut Ledger,
    src: &dyn Source,
    key: &VerifierKey,
) -> Result<(Followed, u64), FollowError> {
    use crate::ledger::{Abort, BatchOptions, Incoming, Original};
    let state = if ledger.head()?.size == 0 {
        None
    } else {
        Some(State::of_ledger(ledger)?)
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Incoming, Abort>>(4096);
    let stopped = "the copy stopped taking records";
    std::thread::scope(|scope| {
        let state = state.as_ref();
        let walker = scope.spawn(move || {
            let tx2 = tx.clone();
            let result = follow(src, key, state, &mut |rec, _| {
                if rec.header.is_redacted() {
                    return Err(format!(
                        "record {} is redacted in the published tree: a copy needs every payload",
                        rec.header.seq
                    ));
                }
                let event = crate::codec::decode_event(rec.body)
                    .map_err(|e| format!("record {}: {e}", rec.header.seq))?;
                let original = Original {
                    seq: rec.header.seq,
                    recorded_at: rec.header.recorded_at,
                    prev: rec.header.prev,
                    hash: crate::chain::record_hash(rec),
                };
                tx2.send(Ok(Incoming {
                    event: Box::new(event),
                    original: Some(original),
                }))
                .map_err(|_| stopped.to_string())
            });
            if let Err(e) = &result {
                // The batch ends in an error: nothing of it is committed.
                let _ = tx.send(Err(Abort::Unreadable(std::io::Error::other(e.to_string()))));
            }
            result
        });
        let imported = ledger.import_batch(rx, BatchOptions::default());
        let followed = walker.join().expect("the walk does not panic");
        match (followed, imported) {
            (Err(FollowError::Entries { detail, .. }), Err(e)) if detail == stopped => {
                Err(FollowError::Ledger(e))
            }
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(FollowError::Ledger(e)),
            (Ok(f), Ok(summary)) => Ok((f, summary.appended)),
        }
    })
}
