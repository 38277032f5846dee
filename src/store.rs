//! Where blocks of records live. The only module that imports sled or redb.
//!
//! The interface is narrow on purpose: stage blocks, commit a head durably, read
//! the head, read blocks in order, read one named key. A block is an opaque byte
//! string stored under the seq of its first record; the head is the commit point:
//! blocks past it are staged (an unfinished batch) and invisible to readers.
//! Derived indexes live under `meta` keys that are written only together with a head.

mod redb_engine;

pub use redb_engine::RedbStore;

use crate::codec;
use crate::event::{Head, Seq};
use crate::hex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of the store. Integrity problems are not errors: see `chain::Problem`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the ledger and did not let go in time.
    #[error("ledger {path} is in use by another process (waited {waited_ms} ms)")]
    Locked {
        /// The ledger directory.
        path: PathBuf,
        /// How long we waited.
        waited_ms: u128,
    },
    /// There is no ledger at the path and the caller did not ask to create one.
    #[error("no ledger at {0}")]
    Missing(PathBuf),
    /// The path holds something that is not a demarche ledger.
    #[error("{path} is not a demarche ledger: {why}")]
    NotALedger {
        /// The path.
        path: PathBuf,
        /// Why not.
        why: String,
    },
    /// A ledger (it has a head) whose marker was removed or changed.
    #[error("{path} holds a ledger whose marker is damaged: {why}")]
    MarkerDamaged {
        /// The path.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A key among the blocks that no block has.
    #[error("unexpected key {0} among the blocks")]
    StrayKey(String),
    /// The stored head does not decode.
    #[error("stored head is malformed: {0}")]
    BadHead(codec::FormatError),
    /// The engine failed.
    #[error("{context}: {source}")]
    Engine {
        /// What was being done.
        context: String,
        /// The engine's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The file system failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the failure is a full file system (ENOSPC), whichever layer
    /// reported it.
    pub fn disk_full(&self) -> bool {
        fn io_full(e: &std::io::Error) -> bool {
            e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
        }
        let mut next: Option<&(dyn std::error::Error + 'static)> = match self {
            StoreError::Io { source, .. } => Some(source),
            StoreError::Engine { source, .. } => Some(source.as_ref()),
            _ => None,
        };
        while let Some(e) = next {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io_full(io) {
                    return true;
                }
            }
            if let Some(sled::Error::Io(io)) = e.downcast_ref::<sled::Error>() {
                if io_full(io) {
                    return true;
                }
            }
            if let Some(redb::StorageError::Io(io)) = e.downcast_ref::<redb::StorageError>() {
                if io_full(io) {
                    return true;
                }
            }
            if let Some(redb::CommitError::Storage(redb::StorageError::Io(io))) =
                e.downcast_ref::<redb::CommitError>()
            {
                if io_full(io) {
                    return true;
                }
            }
            next = e.source();
        }
        false
    }
}

type Result<T> = std::result::Result<T, StoreError>;

/// A block as read from a store: its key and its bytes.
pub type Block = (Seq, Vec<u8>);

/// The interface every engine implements.
pub trait Store: Send + Sync {
    /// The committed head, or [`Head::EMPTY`].
    ///
    /// # Errors
    /// Engine or decoding failures.
    fn head(&self) -> Result<Head>;

    /// Stages blocks past the head: written, and part of the ledger only once
    /// a commit moves the head over them (sled may not have made them durable
    /// yet; redb has). The first call of a batch also records that a batch is in progress
    /// ([`Store::staging`]), so that its blocks can later be told from blocks
    /// that should not be there.
    ///
    /// # Errors
    /// Engine failures.
    fn stage(&self, blocks: &[(Seq, &[u8])]) -> Result<()>;

    /// Writes `blocks` and the derived `meta` entries, then those `more` makes
    /// (taken one at a time, so that a caller need not hold them all: redb
    /// writes each as it comes), together with `head` in one atomic step, and
    /// returns only once all of it, and everything staged before (`staged`),
    /// is durable.
    ///
    /// # Errors
    /// Engine or file-system failures, or the first error `more` gives; then
    /// nothing is acknowledged.
    fn commit(
        &self,
        head: &Head,
        blocks: &[(Seq, &[u8])],
        meta: &[(&str, &[u8])],
        more: &mut dyn Iterator<Item = Result<(String, Vec<u8>)>>,
        staged: bool,
    ) -> Result<()>;

    /// Whether a batch is in progress (or was interrupted): blocks past the head
    /// are then its own, never acknowledged.
    ///
    /// # Errors
    /// Engine failures.
    fn staging(&self) -> Result<bool>;

    /// Removes staged blocks whose key is greater than `after` (left by an
    /// interrupted batch) and the in-progress mark. Returns how many were removed.
    ///
    /// # Errors
    /// Engine failures.
    fn discard_staged(&self, after: Seq) -> Result<usize>;

    /// Blocks whose key is at least `from`, in key order, including staged ones.
    fn blocks_from(&self, from: Seq) -> Box<dyn Iterator<Item = Result<Block>> + Send + '_>;

    /// The block that would hold `seq`: the one with the greatest key `<= seq`.
    ///
    /// # Errors
    /// Engine failures.
    fn block_holding(&self, seq: Seq) -> Result<Option<Block>>;

    /// How many blocks the store holds with keys up to `seq`, when the engine
    /// can tell without reading them (redb keeps its table's length: the count
    /// is that length less the keys that are not blocks, which are read, and
    /// the blocks past `seq`); `None` when it cannot (sled would have to read
    /// every block).
    ///
    /// # Errors
    /// Engine failures.
    fn blocks_through(&self, seq: Seq) -> Result<Option<u64>> {
        let _ = seq;
        Ok(None)
    }

    /// Bytes that change whenever the store is written, read without reading
    /// any entry: what lets a count from [`Store::blocks_through`] be kept
    /// while they stay the same (redb: its table's length, and its file's
    /// size, modification time and inode). `None` when the engine has none.
    ///
    /// # Errors
    /// Engine failures.
    fn change_mark(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Whether [`Store::commit`] holds everything its `more` makes in memory
    /// until it writes them (sled applies its batch whole), so that a caller
    /// with much to write had better write it ahead, as derived values that
    /// nothing believes until the commit binds them.
    fn commit_holds_more(&self) -> bool {
        false
    }

    /// Whether [`Store::block_holding`] may be called from two threads at
    /// once at little cost. sled's reads side by side held twice the memory
    /// and saved little (`history` of one party at 10M events: 57.7 →
    /// 142.6 MiB, 268 → 283 ms; BENCHMARKS.md), so it reads on one.
    fn point_reads_side_by_side(&self) -> bool {
        true
    }

    /// A derived value written by [`Store::commit`].
    ///
    /// # Errors
    /// Engine failures.
    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Writes derived values (a snapshot of a projection) outside any commit:
    /// they are checked against the chain when read, never trusted. Not fsynced.
    ///
    /// # Errors
    /// Engine failures.
    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<()>;

    /// Removes the derived values whose names start with `prefix` (values an
    /// earlier release kept in the store). A read-only store leaves them.
    ///
    /// # Errors
    /// Engine failures.
    fn forget_meta(&self, prefix: &str) -> Result<()>;

    /// The ledger's directory, where files of derived data live beside the
    /// store (`cache/`); `None` for a store in memory.
    fn dir(&self) -> Option<&Path> {
        None
    }

    /// Bytes the store occupies on disk (0 for memory).
    fn disk_bytes(&self) -> u64;

    /// The engine.
    fn engine(&self) -> Engine;

    /// The engine as `Any`, so tests can reach a concrete store.
    fn as_any(&self) -> &dyn std::any::Any;
}

// ----------------------------------------------------------------------------
// sled

const HEAD_KEY: &[u8] = b"h";
/// sled's page cache (its default is 1 GiB) for a command that only reads: a
/// scan reads each node once, and holds less and takes less time in 4 MiB
/// than in 32 (1M events: `verify` 33 against 63 MiB, 752 against 776 ms).
/// The cache evicts as it fills since `vendor/sled` processes each shard's
/// accesses 4 at a time (sled 0.34.7: 64, which a scan never reached).
const CACHE_BYTES_READ: u64 = 4 << 20;
/// sled's page cache for a command that writes: an import reads the digest
/// index's buckets and the nodes it inserts into again and again (10k
/// statements into a 1M ledger: 0.26-0.29 s in 4 MiB, 0.17-0.19 s in 32).
const CACHE_BYTES_WRITE: u64 = 32 << 20;
const BLOCK_PREFIX: u8 = b'b';
/// Staged blocks removed in one sled batch when a batch is discarded.
const DISCARD_SLICE: usize = 1024;
const META_PREFIX: u8 = b'm';
const MARKER_KEY: &[u8] = b"demarche";
const STAGING_KEY: &[u8] = b"mstaging";
const MARKER: &[u8] = b"demarche ledger, store layout 1, engine sled";

fn block_key(seq: Seq) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = BLOCK_PREFIX;
    k[1..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn meta_key(name: &str) -> Vec<u8> {
    let mut k = vec![META_PREFIX];
    k.extend_from_slice(name.as_bytes());
    k
}

fn key_seq(k: &[u8]) -> Option<Seq> {
    if k.len() == 9 && k[0] == BLOCK_PREFIX {
        Some(u64::from_be_bytes(k[1..].try_into().ok()?))
    } else {
        None
    }
}

fn engine<E: std::error::Error + Send + Sync + 'static>(
    context: &str,
) -> impl FnOnce(E) -> StoreError + '_ {
    move |e| StoreError::Engine {
        context: context.to_string(),
        source: Box::new(e),
    }
}

/// How to open a sled ledger.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Create the ledger if it does not exist.
    pub create: bool,
    /// How long to wait for another process to release the ledger.
    pub lock_timeout: Duration,
    /// The engine of a ledger this call creates (an existing ledger keeps its own).
    pub engine: Engine,
    /// Only read. With redb, a reader then never waits for a writer, and reads
    /// one snapshot taken when it opens; sled has no such mode, and only gives
    /// such a process a smaller cache.
    pub read_only: bool,
    /// With `read_only`, open for writing after all when no one else holds the
    /// ledger, so that derived data the command builds (a positions snapshot)
    /// is saved; redb only. Such a command then holds off writers while it runs.
    pub prefer_writer: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            create: false,
            lock_timeout: Duration::from_secs(10),
            engine: Engine::from_env(),
            read_only: false,
            prefer_writer: false,
        }
    }
}

/// The storage engines a ledger can be kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// sled 0.34.7: the default.
    #[default]
    Sled,
    /// redb 4: fast to open, fsyncs its commits, lets readers run beside a writer.
    Redb,
    /// In memory, for tests.
    Memory,
}

impl Engine {
    /// The engine for new ledgers named by `$DEMARCHE_ENGINE` (`sled` or
    /// `redb`), else sled. This is how the test suite runs on both engines.
    pub fn from_env() -> Engine {
        match std::env::var("DEMARCHE_ENGINE").as_deref() {
            Ok("redb") => Engine::Redb,
            _ => Engine::Sled,
        }
    }

    /// `sled`, `redb` or `memory`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sled => "sled",
            Engine::Redb => "redb",
            Engine::Memory => "memory",
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Engine, String> {
        match s {
            "sled" => Ok(Engine::Sled),
            "redb" => Ok(Engine::Redb),
            other => Err(format!("unknown engine \"{other}\"; expected sled or redb")),
        }
    }
}

/// The engine of the ledger at `path`, if there is one: a sled ledger is a
/// directory with sled's `conf` and `db`, a redb ledger one with `ledger.redb`.
pub fn engine_at(path: &Path) -> Option<Engine> {
    if path.join(redb_engine::FILE).is_file() {
        Some(Engine::Redb)
    } else if path.join("conf").exists() && path.join("db").exists() {
        Some(Engine::Sled)
    } else {
        None
    }
}

/// Opens the ledger at `path` in whichever engine holds it, or creates one in
/// `opts.engine`. A ledger of one engine is never opened as the other.
///
/// # Errors
/// As [`SledStore::open`] and [`RedbStore::open`].
pub fn open(path: &Path, opts: &OpenOptions) -> Result<Box<dyn Store>> {
    match engine_at(path).unwrap_or(opts.engine) {
        Engine::Redb => Ok(Box::new(RedbStore::open(path, opts)?)),
        Engine::Sled | Engine::Memory => Ok(Box::new(SledStore::open(path, opts)?)),
    }
}

/// A ledger in a sled 0.34 database: one tree, keys `b`+seq (big-endian) for
/// blocks, `h` for the head, `m`+name for derived values, and a marker key.
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    tree: sled::Tree,
}

impl SledStore {
    /// Opens (or with `create`, creates) the ledger at `path`, waiting up to the
    /// lock timeout when another process holds it.
    ///
    /// # Errors
    /// [`StoreError::Missing`], [`StoreError::Locked`], [`StoreError::NotALedger`],
    /// or an engine failure.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<SledStore> {
        let exists = path.join("conf").exists() && path.join("db").exists();
        if !exists && !opts.create {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        if let Some(name) = foreign_entry(path) {
            return Err(StoreError::NotALedger {
                path: path.to_path_buf(),
                why: format!("it holds {name}, which no ledger does"),
            });
        }
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        let db = loop {
            match sled::Config::new()
                .path(path)
                .mode(sled::Mode::HighThroughput)
                .cache_capacity(match opts.read_only {
                    true => CACHE_BYTES_READ,
                    false => CACHE_BYTES_WRITE,
                })
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") => {
                    if start.elapsed() >= opts.lock_timeout {
                        return Err(StoreError::Locked {
                            path: path.to_path_buf(),
                            waited_ms: start.elapsed().as_millis(),
                        });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(engine(&format!("cannot open ledger {}", path.display()))(e)),
            }
        };
        // A sled database that is not a ledger is never adopted: it has other
        // trees, or data in its default tree, or (when not creating) no ledger tree.
        let others: Vec<String> = db
            .tree_names()
            .into_iter()
            .map(|n| String::from_utf8_lossy(&n).into_owned())
            .filter(|n| n != "__sled__default" && n != "ledger")
            .collect();
        let has_ledger = db.tree_names().iter().any(|n| n.as_ref() == b"ledger");
        if !others.is_empty() || !db.is_empty() || (!has_ledger && !opts.create) {
            return Err(StoreError::NotALedger {
                path: path.to_path_buf(),
                why: "it is a sled database of something else".into(),
            });
        }
        let tree = db
            .open_tree("ledger")
            .map_err(engine("cannot open the ledger tree"))?;
        match tree
            .get(MARKER_KEY)
            .map_err(engine("cannot read the ledger marker"))?
        {
            Some(m) if m.as_ref() == MARKER => {}
            None if tree.is_empty() => {
                tree.insert(MARKER_KEY, MARKER)
                    .map_err(engine("cannot write the ledger marker"))?;
            }
            found => {
                let why = match found {
                    Some(m) => format!("unknown marker {:?}", String::from_utf8_lossy(&m)),
                    None => "no marker".into(),
                };
                // A head means a ledger was here: damage, not another program's data.
                let has_head = tree
                    .contains_key(HEAD_KEY)
                    .map_err(engine("cannot read the ledger"))?;
                return Err(match has_head {
                    true => StoreError::MarkerDamaged {
                        path: path.to_path_buf(),
                        why,
                    },
                    false => StoreError::NotALedger {
                        path: path.to_path_buf(),
                        why,
                    },
                });
            }
        }
        let store = SledStore {
            path: path.to_path_buf(),
            db,
            tree,
        };
        if !exists {
            store.sync()?;
            sync_dir(path)?;
            // A relative path of one component ("ledger") has the empty parent.
            match path.parent() {
                Some(p) if p.as_os_str().is_empty() => sync_dir(Path::new("."))?,
                Some(p) => sync_dir(p)?,
                None => {}
            }
        }
        Ok(store)
    }

    /// The ledger directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes everything written so far durable: sled's own flush writes its
    /// buffers with `sync_file_range`, which neither reaches the disk cache nor
    /// covers file metadata, so the data file is fsynced after it
    /// (`flush_and_sync`, added to the vendored sled, which skips an `fsync`
    /// that an earlier one covered), and any blob file too.
    fn sync(&self) -> Result<()> {
        self.db
            .flush_and_sync()
            .map_err(engine("cannot flush the ledger"))?;
        // Blocks are kept small enough that sled never moves them to blob files;
        // should one appear all the same, it and its directory entry are made durable.
        let blobs = self.path.join("blobs");
        let mut any = false;
        if let Ok(dir) = std::fs::read_dir(&blobs) {
            for entry in dir.flatten() {
                any = true;
                if let Ok(f) = std::fs::File::open(entry.path()) {
                    f.sync_all().map_err(|source| StoreError::Io {
                        context: format!("cannot fsync {}", entry.path().display()),
                        source,
                    })?;
                }
            }
        }
        if any {
            sync_dir(&blobs)?;
        }
        Ok(())
    }
}

/// The first entry of `path` that sled would not have made (a ledger being
/// created by another process has some of sled's files and nothing else).
fn foreign_entry(path: &Path) -> Option<String> {
    if path.exists() && !path.is_dir() {
        return Some("a file in place of the directory".into());
    }
    let dir = std::fs::read_dir(path).ok()?;
    dir.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| {
            !matches!(n.as_str(), "conf" | "db" | "blobs" | CACHE_DIR)
                && !is_copy_record(n)
                && !n.starts_with("snap.")
                && !redb_engine::is_new_file(n)
        })
}

/// The directory of derived data beside a store (see `ledger::cache`).
pub const CACHE_DIR: &str = "cache";

/// The file in which a copy of a published ledger (`clone`) names its source
/// and key, beside the store of either engine.
pub const COPY_RECORD: &str = "clone.json";

/// The copy's record, or the temporary file it is written through.
fn is_copy_record(name: &str) -> bool {
    name == COPY_RECORD || (name.starts_with(&format!(".{COPY_RECORD}.")) && name.ends_with(".tmp"))
}

fn sync_dir(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|source| StoreError::Io {
            context: format!("cannot fsync directory {}", path.display()),
            source,
        })
}

impl Store for SledStore {
    fn head(&self) -> Result<Head> {
        match self
            .tree
            .get(HEAD_KEY)
            .map_err(engine("cannot read the head"))?
        {
            Some(v) => codec::decode_head(&v).map_err(StoreError::BadHead),
            None => Ok(Head::EMPTY),
        }
    }

    fn stage(&self, blocks: &[(Seq, &[u8])]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (seq, bytes) in blocks {
            batch.insert(&block_key(*seq), *bytes);
        }
        batch.insert(STAGING_KEY, &b"1"[..]);
        self.tree
            .apply_batch(batch)
            .map_err(engine("cannot write events"))
    }

    fn staging(&self) -> Result<bool> {
        self.tree
            .contains_key(STAGING_KEY)
            .map_err(engine("cannot read the ledger"))
    }

    fn commit(
        &self,
        head: &Head,
        blocks: &[(Seq, &[u8])],
        meta: &[(&str, &[u8])],
        more: &mut dyn Iterator<Item = Result<(String, Vec<u8>)>>,
        staged: bool,
    ) -> Result<()> {
        if staged {
            // Staged blocks must be durable before the head that makes them visible.
            self.sync()?;
        }
        let mut batch = sled::Batch::default();
        for (seq, bytes) in blocks {
            batch.insert(&block_key(*seq), *bytes);
        }
        for (name, value) in meta {
            batch.insert(meta_key(name), *value);
        }
        for entry in more {
            let (name, value) = entry?;
            batch.insert(meta_key(&name), value);
        }
        batch.insert(HEAD_KEY, &codec::encode_head(head)[..]);
        batch.remove(STAGING_KEY);
        self.tree
            .apply_batch(batch)
            .map_err(engine("cannot write events"))?;
        self.sync()
    }

    fn discard_staged(&self, after: Seq) -> Result<usize> {
        // Removed a slice at a time, from the end: one batch of every staged
        // block made sled hold the whole batch in memory (1.5 GB for a refused
        // import of 1M events). `mstaging` goes last, so a discard that is
        // interrupted is taken up again by the next writer.
        let mut n = 0;
        let start = block_key(after.saturating_add(1));
        loop {
            let mut batch = sled::Batch::default();
            let mut slice = 0;
            for k in self
                .tree
                .range(start..=block_key(Seq::MAX))
                .keys()
                .rev()
                .take(DISCARD_SLICE)
            {
                batch.remove(k.map_err(engine("cannot read events"))?);
                slice += 1;
            }
            if slice == 0 {
                break;
            }
            self.tree
                .apply_batch(batch)
                .map_err(engine("cannot discard staged events"))?;
            n += slice;
        }
        self.tree
            .remove(STAGING_KEY)
            .map_err(engine("cannot discard staged events"))?;
        Ok(n)
    }

    fn blocks_from(&self, from: Seq) -> Box<dyn Iterator<Item = Result<Block>> + Send + '_> {
        let start = match self.block_holding(from) {
            Ok(Some((k, _))) => k,
            Ok(None) => from,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        Box::new(
            self.tree
                .range(block_key(start)..=block_key(Seq::MAX))
                .map(|kv| {
                    let (k, v) = kv.map_err(engine("cannot read events"))?;
                    let seq = key_seq(&k).ok_or_else(|| StoreError::StrayKey(hex::encode(&k)))?;
                    Ok((seq, v.to_vec()))
                }),
        )
    }

    fn block_holding(&self, seq: Seq) -> Result<Option<Block>> {
        let found = self
            .tree
            .range(block_key(0)..=block_key(seq))
            .next_back()
            .transpose()
            .map_err(engine("cannot read events"))?;
        match found {
            None => Ok(None),
            Some((k, v)) => Ok(Some((
                key_seq(&k).ok_or_else(|| StoreError::StrayKey(hex::encode(&k)))?,
                v.to_vec(),
            ))),
        }
    }

    fn commit_holds_more(&self) -> bool {
        true
    }

    fn point_reads_side_by_side(&self) -> bool {
        false
    }

    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for (name, value) in entries {
            batch.insert(meta_key(name), *value);
        }
        self.tree
            .apply_batch(batch)
            .map_err(engine("cannot write derived data"))?;
        // Written out so that the next process finds it (a crash may lose it: it
        // is derived, and checked when read).
        self.db
            .flush()
            .map(|_| ())
            .map_err(engine("cannot write derived data"))
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tree
            .get(meta_key(key))
            .map_err(engine("cannot read ledger metadata"))?
            .map(|v| v.to_vec()))
    }

    fn forget_meta(&self, prefix: &str) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut any = false;
        for k in self.tree.scan_prefix(meta_key(prefix)).keys() {
            batch.remove(k.map_err(engine("cannot read derived data"))?);
            any = true;
        }
        if any {
            self.tree
                .apply_batch(batch)
                .map_err(engine("cannot remove derived data"))?;
        }
        Ok(())
    }

    fn dir(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn disk_bytes(&self) -> u64 {
        dir_size(&self.path)
    }

    fn engine(&self) -> Engine {
        Engine::Sled
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn dir_size(path: &Path) -> u64 {
    let Ok(dir) = std::fs::read_dir(path) else {
        return 0;
    };
    dir.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

// ----------------------------------------------------------------------------
// memory

/// A store in memory, for tests of the ledger logic without a disk.
#[derive(Default)]
pub struct MemStore {
    inner: Mutex<MemInner>,
    /// Counts the derived values read, when set: for tests of what a batch
    /// reads.
    #[cfg(test)]
    meta_reads: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    /// When set, the store has derived values written ahead of a commit
    /// (as sled does), then fails the commit: for tests of what a commit
    /// that never came leaves.
    #[cfg(test)]
    pub(crate) ahead_then_fail: std::sync::atomic::AtomicBool,
    /// When not 0, the derived values written outside a commit that many
    /// times from now fail to be written, the last time.
    #[cfg(test)]
    pub(crate) puts_before_failing: std::sync::atomic::AtomicUsize,
    /// When set, staging fails as a full disk does, and so does every
    /// discard after it (as redb refuses every write once one has failed).
    #[cfg(test)]
    pub(crate) full: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct MemInner {
    head: Option<Head>,
    staging: bool,
    blocks: BTreeMap<Seq, Vec<u8>>,
    meta: BTreeMap<String, Vec<u8>>,
}

impl MemStore {
    /// An empty store that counts the derived values read into `reads`.
    #[cfg(test)]
    pub(crate) fn counting_reads(reads: std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Self {
        MemStore {
            meta_reads: Some(reads),
            ..MemStore::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Overwrites one derived value, to simulate damage in tests.
    pub fn put_meta_for_test(&self, key: &str, value: &[u8]) {
        self.lock().meta.insert(key.to_string(), value.to_vec());
    }

    /// Direct access to the stored blocks, to simulate tampering in tests.
    pub fn blocks_mut<R>(&self, f: impl FnOnce(&mut BTreeMap<Seq, Vec<u8>>) -> R) -> R {
        f(&mut self.lock().blocks)
    }
}

impl Store for MemStore {
    fn head(&self) -> Result<Head> {
        Ok(self.lock().head.unwrap_or(Head::EMPTY))
    }

    fn stage(&self, blocks: &[(Seq, &[u8])]) -> Result<()> {
        #[cfg(test)]
        if self.full.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError::Io {
                context: "cannot write events".into(),
                source: std::io::Error::from_raw_os_error(28),
            });
        }
        let mut g = self.lock();
        for (seq, b) in blocks {
            g.blocks.insert(*seq, b.to_vec());
        }
        g.staging = true;
        Ok(())
    }

    fn staging(&self) -> Result<bool> {
        Ok(self.lock().staging)
    }

    fn commit(
        &self,
        head: &Head,
        blocks: &[(Seq, &[u8])],
        meta: &[(&str, &[u8])],
        more: &mut dyn Iterator<Item = Result<(String, Vec<u8>)>>,
        _staged: bool,
    ) -> Result<()> {
        let more: Vec<(String, Vec<u8>)> = more.collect::<Result<_>>()?;
        #[cfg(test)]
        if self.commit_holds_more() {
            return Err(StoreError::Io {
                context: "cannot commit".into(),
                source: std::io::Error::other("the commit failed, as asked"),
            });
        }
        let mut g = self.lock();
        for (seq, b) in blocks {
            g.blocks.insert(*seq, b.to_vec());
        }
        for (k, v) in meta {
            g.meta.insert((*k).to_string(), v.to_vec());
        }
        g.meta.extend(more);
        g.head = Some(*head);
        g.staging = false;
        Ok(())
    }

    fn discard_staged(&self, after: Seq) -> Result<usize> {
        #[cfg(test)]
        if self.full.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError::Io {
                context: "cannot discard staged events".into(),
                source: std::io::Error::other("a previous write failed"),
            });
        }
        let mut g = self.lock();
        let gone = g.blocks.split_off(&(after + 1));
        g.staging = false;
        Ok(gone.len())
    }

    fn blocks_from(&self, from: Seq) -> Box<dyn Iterator<Item = Result<Block>> + Send + '_> {
        let g = self.lock();
        let start = g
            .blocks
            .range(..=from)
            .next_back()
            .map_or(from, |(k, _)| *k);
        let v: Vec<_> = g
            .blocks
            .range(start..)
            .map(|(k, v)| Ok((*k, v.clone())))
            .collect();
        Box::new(v.into_iter())
    }

    fn block_holding(&self, seq: Seq) -> Result<Option<Block>> {
        Ok(self
            .lock()
            .blocks
            .range(..=seq)
            .next_back()
            .map(|(k, v)| (*k, v.clone())))
    }

    fn blocks_through(&self, seq: Seq) -> Result<Option<u64>> {
        Ok(Some(self.lock().blocks.range(..=seq).count() as u64))
    }

    #[cfg(test)]
    fn commit_holds_more(&self) -> bool {
        self.ahead_then_fail
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let left = self.puts_before_failing.load(Ordering::Relaxed);
            if left > 0 {
                self.puts_before_failing.store(left - 1, Ordering::Relaxed);
                if left == 1 {
                    return Err(StoreError::Io {
                        context: "cannot write derived data".into(),
                        source: std::io::Error::other("the write failed, as asked"),
                    });
                }
            }
        }
        let mut g = self.lock();
        for (k, v) in entries {
            g.meta.insert((*k).to_string(), v.to_vec());
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        #[cfg(test)]
        if let Some(reads) = &self.meta_reads {
            reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(self.lock().meta.get(key).cloned())
    }

    fn forget_meta(&self, prefix: &str) -> Result<()> {
        self.lock().meta.retain(|k, _| !k.starts_with(prefix));
        Ok(())
    }

    fn disk_bytes(&self) -> u64 {
        0
    }

    fn engine(&self) -> Engine {
        Engine::Memory
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod disk_full_tests {
    use super::StoreError;

    #[test]
    fn a_full_disk_is_recognised_through_each_layer() {
        let full = || std::io::Error::from_raw_os_error(28);
        let io = StoreError::Io {
            context: "cannot write".into(),
            source: full(),
        };
        let sled = StoreError::Engine {
            context: "cannot open".into(),
            source: Box::new(sled::Error::Io(full())),
        };
        let redb = StoreError::Engine {
            context: "cannot commit".into(),
            source: Box::new(redb::StorageError::Io(full())),
        };
        let commit = StoreError::Engine {
            context: "cannot commit".into(),
            source: Box::new(redb::CommitError::Storage(redb::StorageError::Io(full()))),
        };
        assert!(commit.disk_full());
        let other = StoreError::Engine {
            context: "cannot open".into(),
            source: Box::new(sled::Error::Io(std::io::Error::from_raw_os_error(5))),
        };
        assert!(io.disk_full() && sled.disk_full() && redb.disk_full());
        assert!(!other.disk_full());
        assert!(!StoreError::StrayKey("x".into()).disk_full());
    }
}
