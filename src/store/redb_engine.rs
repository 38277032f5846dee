//! The redb engine: one redb 4 file, `ledger.redb`, in the ledger directory,
//! with one table `ledger` holding exactly the keys and values of the sled
//! layout (section 5 of `schema/FORMAT.md`): the chain's bytes are the same
//! whichever engine holds them.
//!
//! One process writes at a time (redb's single-writer mode); any number of
//! read-only processes may open the ledger meanwhile. A command that only
//! reads opens it read-only: such a handle reads one snapshot, taken when it
//! opens, for all its reads, so that a command sees the ledger as it was when
//! it started, even while a writer commits. A query whose derived data is
//! worth keeping (`OpenOptions::prefer_writer`) takes the writer's place
//! instead when no one holds it, so that what it builds is saved.
//!
//! A batch stages its full blocks as sled does: each group durably, in a
//! transaction of its own, past the head and under the in-progress mark
//! (`STAGING_KEY`); the commit adds the last block and the head. The data so
//! reaches the disk while the batch runs, rather than all in the commit's
//! `fsync` (at 100k events that was a sixth of an import). A crash before the
//! commit leaves the staged blocks past the head, ignored by every read and
//! removed by the next write (`discard_staged`).

use super::{
    block_key, key_seq, meta_key, Block, OpenOptions, Result, Store, StoreError, BLOCK_PREFIX,
    HEAD_KEY, MARKER_KEY, STAGING_KEY,
};
use crate::codec;
use crate::event::{Head, Seq};
use crate::hex;
use redb::{
    ConcurrencyMode, Database, DatabaseError, Durability, ReadOnlyDatabase, ReadTransaction,
    ReadableDatabase, ReadableTable, TableDefinition,
};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The file of a redb ledger, inside its directory.
pub const FILE: &str = "ledger.redb";
const TABLE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("ledger");
const MARKER: &[u8] = b"demarche ledger, store layout 1, engine redb";
/// redb's page cache. Scans (verify, export, a full replay) read each page
/// once and gain nothing from it: every page read went into the cache until
/// it was full, each a fresh allocation whose first touch costs a page
/// fault, so a larger cache made them slower and larger (64 MiB at 1M
/// events: verify 109 MB, export 82 MB, replay 248 MB; 16 MiB: 59, 31 and
/// 138 MB; 1 MiB: 20, 17 and 113 MB, and verify and replay 9% and 16%
/// faster than at 16 MiB). Random reads (an as-of query, `show`, the digest
/// index's buckets in an import) read few pages each and were as fast.
const CACHE_BYTES: usize = 1 << 20;
/// Blocks read per step of a scan.
const SCAN_CHUNK: usize = 64;

fn err<E: std::error::Error + Send + Sync + 'static>(
    context: &str,
) -> impl FnOnce(E) -> StoreError + '_ {
    move |e| StoreError::Engine {
        context: context.to_string(),
        source: Box::new(e),
    }
}

enum Handle {
    /// The writing handle, and its read transaction of its latest commit,
    /// begun at its first read after a commit and ended by its next write:
    /// each transaction begun takes and releases file locks (four `fcntl`s),
    /// and an `append` reads 30 times. Declared first, so dropped first.
    Writer {
        latest: Mutex<Option<ReadTransaction>>,
        db: Database,
    },
    /// A read-only handle and the snapshot it reads (dropped first).
    Reader {
        snapshot: ReadTransaction,
        _db: ReadOnlyDatabase,
    },
}

/// A ledger in a redb 4 database.
pub struct RedbStore {
    path: PathBuf,
    handle: Handle,
}

fn builder() -> redb::Builder {
    let mut b = Database::builder();
    b.set_concurrency_mode(ConcurrencyMode::SingleWriter)
        .set_cache_size(CACHE_BYTES);
    b
}

impl RedbStore {
    /// Opens (or with `opts.create`, creates) the redb ledger at `path`; read
    /// only with `opts.read_only`, which then never waits for a writer.
    ///
    /// # Errors
    /// [`StoreError::Missing`], [`StoreError::Locked`] (another writer),
    /// [`StoreError::NotALedger`], or an engine failure.
    pub fn open(path: &Path, opts: &OpenOptions) -> Result<RedbStore> {
        let file = path.join(FILE);
        let exists = file.exists();
        if !exists && !opts.create {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        if let Some(name) = foreign_entry(path) {
            return Err(StoreError::NotALedger {
                path: path.to_path_buf(),
                why: format!("it holds {name}, which no redb ledger does"),
            });
        }
        // A query that makes derived data worth keeping (a positions snapshot)
        // takes the writer's place when no one holds it (opening is instant);
        // otherwise, or when the file cannot be written at all, a reader reads
        // a snapshot beside whoever writes.
        if exists && opts.read_only && opts.prefer_writer {
            if let Ok(db) = builder().create(&file) {
                let store = RedbStore {
                    path: path.to_path_buf(),
                    handle: Handle::writer(db),
                };
                store.check_marker()?;
                return Ok(store);
            }
        }
        if exists && opts.read_only {
            match builder().open_read_only(&file) {
                Ok(db) => {
                    let snapshot = db.begin_read().map_err(err("cannot read the ledger"))?;
                    let store = RedbStore {
                        path: path.to_path_buf(),
                        handle: Handle::Reader { snapshot, _db: db },
                    };
                    store.check_marker()?;
                    return Ok(store);
                }
                // A file left by a crash needs a writer to recover it first.
                Err(DatabaseError::RepairAborted) => {}
                Err(e) => return Err(open_error(path, e)),
            }
        }
        if !exists {
            std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
                context: format!("cannot create {}", path.display()),
                source,
            })?;
            create_whole(path, &file)?;
        }
        let start = Instant::now();
        let mut pause = Duration::from_millis(2);
        let db = loop {
            match builder().create(&file) {
                Ok(db) => break db,
                Err(DatabaseError::DatabaseAlreadyOpen) => {
                    if start.elapsed() >= opts.lock_timeout {
                        return Err(StoreError::Locked {
                            path: path.to_path_buf(),
                            waited_ms: start.elapsed().as_millis(),
                        });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(open_error(path, e)),
            }
        };
        let store = RedbStore {
            path: path.to_path_buf(),
            handle: Handle::writer(db),
        };
        // A crash while a ledger was being created can leave a database
        // without its marker and with nothing else: it is that new ledger.
        let marked = store.get(MARKER_KEY)?.is_some();
        let made_here = !exists || (!marked && store.has_no_table()?);
        // One made whole above holds its marker already, its name synced
        // (written again, the marker took a durable commit of every new
        // ledger); one made in place, or left unmarked by a crash, does not.
        if made_here && !marked {
            store.write(|t| {
                t.insert(MARKER_KEY, MARKER)?;
                Ok(())
            })?;
            super::sync_dir(path)?;
        } else {
            store.check_marker()?;
        }
        // The ledger directory's own name, in its parent.
        if made_here {
            match path.parent() {
                Some(p) if p.as_os_str().is_empty() => super::sync_dir(Path::new("."))?,
                Some(p) => super::sync_dir(p)?,
                None => {}
            }
        }
        Ok(store)
    }

    /// Whether the database holds no table at all (what a crash between its
    /// creation and its first commit leaves).
    fn has_no_table(&self) -> Result<bool> {
        let Handle::Writer { db, .. } = &self.handle else {
            return Ok(false);
        };
        let tx = db.begin_read().map_err(err("cannot read the ledger"))?;
        let mut tables = tx.list_tables().map_err(err("cannot read the ledger"))?;
        Ok(tables.next().is_none())
    }

    fn check_marker(&self) -> Result<()> {
        let marker = self.get(MARKER_KEY)?;
        let why = match marker.as_deref() {
            Some(m) if m == MARKER => return Ok(()),
            Some(m) => format!("unknown marker {:?}", String::from_utf8_lossy(m)),
            None => "a redb database without the ledger marker".into(),
        };
        // A head means a ledger was here: damage, not another program's data.
        if self.get(HEAD_KEY)?.is_some() {
            return Err(StoreError::MarkerDamaged {
                path: self.path.clone(),
                why,
            });
        }
        Err(StoreError::NotALedger {
            path: self.path.clone(),
            why,
        })
    }

    /// A read-only view of the table: the pinned snapshot of a reader, or the
    /// latest commit for the writer (the only process that changes it).
    fn table(&self) -> Result<Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>> {
        let opened = match &self.handle {
            Handle::Reader { snapshot, .. } => snapshot.open_table(TABLE),
            Handle::Writer { latest, db } => {
                let mut latest = lock(latest);
                let txn = match latest.take() {
                    Some(txn) => txn,
                    None => db.begin_read().map_err(err("cannot read the ledger"))?,
                };
                let opened = txn.open_table(TABLE);
                *latest = Some(txn);
                opened
            }
        };
        match opened {
            Ok(t) => Ok(Some(t)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(err("cannot read the ledger")(e)),
        }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(t) = self.table()? else {
            return Ok(None);
        };
        Ok(t.get(key)
            .map_err(err("cannot read the ledger"))?
            .map(|v| v.value().to_vec()))
    }

    /// A durable write transaction. `record` has its commit record redb's
    /// allocator state too (a few pages), as the close would: the close then
    /// has nothing to record, and makes no commit of its own (two `fsync`s
    /// and the pages of an `append`; `vendor/redb`). A staged group's commit
    /// records none, since the batch's commit follows. Returned with the
    /// writer's read transaction, which the commit ends again.
    fn begin(
        &self,
        record: bool,
    ) -> Result<(redb::WriteTransaction, &Mutex<Option<ReadTransaction>>)> {
        let Handle::Writer { latest, db } = &self.handle else {
            return Err(StoreError::Engine {
                context: "cannot write".into(),
                source: "the ledger was opened read-only".into(),
            });
        };
        // Ended first, so that the commit frees what it replaces at once.
        drop(lock(latest).take());
        let mut txn = db.begin_write().map_err(err("cannot write events"))?;
        txn.set_durability(Durability::Immediate)
            .map_err(err("cannot write events"))?;
        txn.set_quick_repair(record);
        Ok((txn, latest))
    }

    /// Runs `f` in a write transaction of its own and commits it durably,
    /// with redb's allocator state.
    fn write(&self, f: impl FnOnce(&mut Table<'_>) -> StorageResult) -> Result<()> {
        self.write_recording(true, f)
    }

    /// [`write`](Self::write), recording the allocator state or not.
    fn write_recording(
        &self,
        record: bool,
        f: impl FnOnce(&mut Table<'_>) -> StorageResult,
    ) -> Result<()> {
        let (txn, latest) = self.begin(record)?;
        {
            let mut t = txn.open_table(TABLE).map_err(err("cannot write events"))?;
            f(&mut t).map_err(err("cannot write events"))?;
        }
        let committed = txn.commit().map_err(err("cannot commit"));
        // A read begun while the transaction was open saw the commit before.
        drop(lock(latest).take());
        committed
    }
}

impl Handle {
    fn writer(db: Database) -> Handle {
        Handle::Writer {
            latest: Mutex::new(None),
            db,
        }
    }
}

/// The writer's read transaction, if one is begun (see [`Handle::Writer`]).
fn lock(latest: &Mutex<Option<ReadTransaction>>) -> MutexGuard<'_, Option<ReadTransaction>> {
    // A panic while it was held left an `Option`, whole either way.
    latest.lock().unwrap_or_else(PoisonError::into_inner)
}

type Table<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;
type StorageResult = std::result::Result<(), redb::StorageError>;

fn open_error(path: &Path, e: DatabaseError) -> StoreError {
    StoreError::Engine {
        context: format!("cannot open ledger {}", path.display()),
        source: Box::new(e),
    }
}

/// The first entry of `path` that a redb ledger does not have.
fn foreign_entry(path: &Path) -> Option<String> {
    if path.exists() && !path.is_dir() {
        return Some("a file in place of the directory".into());
    }
    let dir = std::fs::read_dir(path).ok()?;
    dir.flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| {
            n != FILE && n != super::CACHE_DIR && !super::is_copy_record(n) && !is_new_file(n)
        })
}

/// A name for a database being created, beside [`FILE`]: the process id and
/// a random number, so that no two creators share one.
fn new_file_name() -> String {
    let mut nonce = [0u8; 8];
    // Without randomness the time is unique enough beside the process id.
    if getrandom::fill(&mut nonce).is_err() {
        nonce = jiff::Timestamp::now().as_nanosecond().to_le_bytes()[..8]
            .try_into()
            .expect("8 bytes");
    }
    format!(
        "{FILE}.{}-{}.new",
        std::process::id(),
        u64::from_le_bytes(nonce)
    )
}

/// Whether `name` is that of a database being created (or whose creation was
/// cut short: such a file is never opened as the ledger).
pub(crate) fn is_new_file(name: &str) -> bool {
    name.strip_prefix(FILE)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(|rest| rest.strip_suffix(".new"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit() || b == b'-'))
}

/// Creates the ledger's database whole or not at all: made and marked under a
/// name of its own, then linked into place only if no other process got there
/// first (a kill at any instant leaves either no ledger, or a complete empty
/// one, and never a file that is not a database). On a filesystem without
/// hard links the database is made in place, as a crash test cannot reach.
fn create_whole(dir: &Path, file: &Path) -> Result<()> {
    let new = dir.join(new_file_name());
    let io = |context: String| move |source| StoreError::Io { context, source };
    // A name no other process can hold: refused if it exists.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&new)
        .map_err(io(format!("cannot create {}", new.display())))?;
    let made = (|| -> Result<()> {
        let db = builder().create(&new).map_err(|e| open_error(dir, e))?;
        let mut tx = db.begin_write().map_err(err("cannot create the ledger"))?;
        // Recording the allocator state, so that the close makes no commit
        // of its own (two `fdatasync`s of every new ledger; `vendor/redb`).
        tx.set_quick_repair(true);
        {
            let mut t = tx
                .open_table(TABLE)
                .map_err(err("cannot create the ledger"))?;
            t.insert(MARKER_KEY, MARKER)
                .map_err(err("cannot write the ledger marker"))?;
        }
        tx.commit().map_err(err("cannot create the ledger"))
    })();
    let linked = made.and_then(|()| {
        std::fs::hard_link(&new, file).or_else(|e| match e.kind() {
            // Another process created it meanwhile: that one is the ledger.
            std::io::ErrorKind::AlreadyExists => Ok(()),
            // No hard links here: the writer below creates it in place.
            std::io::ErrorKind::Unsupported | std::io::ErrorKind::PermissionDenied => Ok(()),
            _ => Err(io(format!("cannot create {}", file.display()))(e)),
        })
    });
    // Only the name of our own making is removed; the ledger, if linked,
    // lives on under its own name.
    let _ = std::fs::remove_file(&new);
    linked?;
    super::sync_dir(dir)
}

/// Blocks from a key on, read a chunk at a time from one snapshot.
struct Blocks {
    table: Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>,
    next: Option<Seq>,
    buffered: std::vec::IntoIter<Result<Block>>,
}

impl Iterator for Blocks {
    type Item = Result<Block>;

    fn next(&mut self) -> Option<Result<Block>> {
        loop {
            if let Some(b) = self.buffered.next() {
                return Some(b);
            }
            let from = self.next?;
            let table = self.table.as_ref()?;
            let mut chunk = Vec::with_capacity(SCAN_CHUNK);
            let range = match table.range(&block_key(from)[..]..=&block_key(Seq::MAX)[..]) {
                Ok(r) => r,
                Err(e) => {
                    self.next = None;
                    return Some(Err(err("cannot read events")(e)));
                }
            };
            self.next = None;
            for kv in range.take(SCAN_CHUNK) {
                match kv {
                    Ok((k, v)) => match key_seq(k.value()) {
                        Some(seq) => {
                            chunk.push(Ok((seq, v.value().to_vec())));
                            self.next = seq.checked_add(1);
                        }
                        None => {
                            chunk.push(Err(StoreError::StrayKey(hex::encode(k.value()))));
                            self.next = None;
                            break;
                        }
                    },
                    Err(e) => {
                        chunk.push(Err(err("cannot read events")(e)));
                        self.next = None;
                        break;
                    }
                }
            }
            if chunk.len() < SCAN_CHUNK && chunk.last().is_some_and(Result::is_ok) {
                self.next = None;
            }
            if chunk.is_empty() {
                return None;
            }
            self.buffered = chunk.into_iter();
        }
    }
}

impl Store for RedbStore {
    fn head(&self) -> Result<Head> {
        match self.get(HEAD_KEY)? {
            Some(v) => codec::decode_head(&v).map_err(StoreError::BadHead),
            None => Ok(Head::EMPTY),
        }
    }

    fn stage(&self, blocks: &[(Seq, &[u8])]) -> Result<()> {
        // Durable, past the head: part of the ledger only once the commit
        // moves the head over them.
        self.write_recording(false, |t| {
            for (seq, bytes) in blocks {
                t.insert(&block_key(*seq)[..], *bytes)?;
            }
            t.insert(STAGING_KEY, &b"1"[..])?;
            Ok(())
        })
    }

    fn staging(&self) -> Result<bool> {
        Ok(self.get(STAGING_KEY)?.is_some())
    }

    fn commit(
        &self,
        head: &Head,
        blocks: &[(Seq, &[u8])],
        meta: &[(&str, &[u8])],
        more: &mut dyn Iterator<Item = Result<(String, Vec<u8>)>>,
        _staged: bool,
    ) -> Result<()> {
        // An error of `more`'s, kept aside: the transaction is abandoned.
        let mut failed = None;
        let written = self.write(|t| {
            for (seq, bytes) in blocks {
                t.insert(&block_key(*seq)[..], *bytes)?;
            }
            for (name, value) in meta {
                t.insert(&meta_key(name)[..], *value)?;
            }
            for entry in more {
                match entry {
                    Ok((name, value)) => {
                        t.insert(&meta_key(&name)[..], &value[..])?;
                    }
                    Err(e) => {
                        failed = Some(e);
                        return Err(redb::StorageError::Io(std::io::Error::other(
                            "abandoned: derived data could not be made",
                        )));
                    }
                }
            }
            t.insert(HEAD_KEY, &codec::encode_head(head)[..])?;
            t.remove(STAGING_KEY)?;
            Ok(())
        });
        match failed {
            Some(e) => Err(e),
            None => written,
        }
    }

    fn discard_staged(&self, after: Seq) -> Result<usize> {
        let mut n = 0;
        self.write(|t| {
            let start = block_key(after.saturating_add(1));
            let keys: Vec<Vec<u8>> = t
                .range(&start[..]..=&block_key(Seq::MAX)[..])?
                .map(|kv| kv.map(|(k, _)| k.value().to_vec()))
                .collect::<std::result::Result<_, _>>()?;
            for k in &keys {
                t.remove(&k[..])?;
            }
            n = keys.len();
            t.remove(STAGING_KEY)?;
            Ok(())
        })?;
        Ok(n)
    }

    fn blocks_from(&self, from: Seq) -> Box<dyn Iterator<Item = Result<Block>> + Send + '_> {
        let start = match self.block_holding(from) {
            Ok(Some((k, _))) => k,
            Ok(None) => from,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        match self.table() {
            Ok(table) => Box::new(Blocks {
                table,
                next: Some(start),
                buffered: Vec::new().into_iter(),
            }),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn block_holding(&self, seq: Seq) -> Result<Option<Block>> {
        let Some(t) = self.table()? else {
            return Ok(None);
        };
        let found = t
            .range(&block_key(0)[..]..=&block_key(seq)[..])
            .map_err(err("cannot read events"))?
            .next_back()
            .transpose()
            .map_err(err("cannot read events"))?;
        match found {
            None => Ok(None),
            Some((k, v)) => Ok(Some((
                key_seq(k.value()).ok_or_else(|| StoreError::StrayKey(hex::encode(k.value())))?,
                v.value().to_vec(),
            ))),
        }
    }

    fn blocks_through(&self, seq: Seq) -> Result<Option<u64>> {
        use redb::ReadableTableMetadata;
        let Some(t) = self.table()? else {
            return Ok(Some(0));
        };
        // The table's length is kept in its header: no block is read. What is
        // counted is what is not a block up to `seq`: a handful of keys
        // before and after the blocks, and the blocks past `seq`.
        let mut others = 0u64;
        let below = &block_key(0)[..1];
        for kv in t
            .range::<&[u8]>(..below)
            .map_err(err("cannot read the ledger"))?
        {
            kv.map_err(err("cannot read the ledger"))?;
            others += 1;
        }
        let past = [BLOCK_PREFIX + 1];
        for kv in t
            .range::<&[u8]>(&past[..]..)
            .map_err(err("cannot read the ledger"))?
        {
            kv.map_err(err("cannot read the ledger"))?;
            others += 1;
        }
        if let Some(next) = seq.checked_add(1) {
            for kv in t
                .range(&block_key(next)[..]..=&block_key(Seq::MAX)[..])
                .map_err(err("cannot read the ledger"))?
            {
                kv.map_err(err("cannot read the ledger"))?;
                others += 1;
            }
        }
        let len = t.len().map_err(err("cannot read the ledger"))?;
        Ok(Some(len.saturating_sub(others)))
    }

    fn change_mark(&self) -> Result<Option<Vec<u8>>> {
        use redb::ReadableTableMetadata;
        // The file first: a commit after it shows in the length, or in the
        // next look at the file.
        let Ok(file) = std::fs::metadata(self.path.join(FILE)) else {
            return Ok(None);
        };
        let Some(modified) = file
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        else {
            return Ok(None);
        };
        let len = match self.table()? {
            Some(t) => t.len().map_err(err("cannot read the ledger"))?,
            None => 0,
        };
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&file);
        #[cfg(not(unix))]
        let inode = 0u64;
        let mut mark = Vec::with_capacity(40);
        mark.extend_from_slice(&len.to_le_bytes());
        mark.extend_from_slice(&file.len().to_le_bytes());
        mark.extend_from_slice(&modified.as_nanos().to_le_bytes());
        mark.extend_from_slice(&inode.to_le_bytes());
        Ok(Some(mark))
    }

    fn put_meta(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        if matches!(self.handle, Handle::Reader { .. }) {
            // Derived data only: a reader leaves it for the next writer to save.
            return Ok(());
        }
        self.write(|t| {
            for (name, value) in entries {
                t.insert(&meta_key(name)[..], *value)?;
            }
            Ok(())
        })
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.get(&meta_key(key))
    }

    fn forget_meta(&self, prefix: &str) -> Result<()> {
        if matches!(self.handle, Handle::Reader { .. }) {
            return Ok(());
        }
        let from = meta_key(prefix);
        let Some(t) = self.table()? else {
            return Ok(());
        };
        let mut names: Vec<Vec<u8>> = Vec::new();
        for entry in t
            .range(&from[..]..)
            .map_err(err("cannot read derived data"))?
        {
            let (k, _) = entry.map_err(err("cannot read derived data"))?;
            if !k.value().starts_with(&from) {
                break;
            }
            names.push(k.value().to_vec());
        }
        drop(t);
        if names.is_empty() {
            return Ok(());
        }
        self.write(|t| {
            for k in &names {
                t.remove(&k[..])?;
            }
            Ok(())
        })
    }

    fn dir(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn disk_bytes(&self) -> u64 {
        super::dir_size(&self.path)
    }

    fn engine(&self) -> super::Engine {
        super::Engine::Redb
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer keeps one read transaction between its writes; a read made
    /// while a write was open (an import's checking thread reads so) must not
    /// outlive that write's commit.
    #[test]
    fn the_writer_reads_each_commit_once_it_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let opts = OpenOptions {
            create: true,
            engine: super::super::Engine::Redb,
            ..OpenOptions::default()
        };
        let store = RedbStore::open(&dir.path().join("ledger"), &opts).unwrap();
        let key = meta_key("probe");
        let value = |store: &RedbStore| store.get(&key).unwrap();
        assert_eq!(value(&store), None);
        store
            .write(|t| {
                t.insert(&key[..], &b"1"[..])?;
                Ok(())
            })
            .unwrap();
        assert_eq!(value(&store).as_deref(), Some(&b"1"[..]));
        store
            .write(|t| {
                t.insert(&key[..], &b"2"[..])?;
                assert_eq!(value(&store).as_deref(), Some(&b"1"[..]));
                Ok(())
            })
            .unwrap();
        assert_eq!(value(&store).as_deref(), Some(&b"2"[..]));
        // A write that fails leaves the last commit readable as it was.
        let failed = store.write(|t| {
            t.insert(&key[..], &b"3"[..])?;
            assert_eq!(value(&store).as_deref(), Some(&b"2"[..]));
            Err(redb::StorageError::Corrupted("refused".into()))
        });
        assert!(failed.is_err());
        assert_eq!(value(&store).as_deref(), Some(&b"2"[..]));
    }
}
