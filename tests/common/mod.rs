//! Helpers shared by the integration tests.
#![allow(dead_code)]

use demarche::event::{Event, Head};
use demarche::json;
use demarche::ledger::Ledger;
use demarche::store::OpenOptions;
use std::path::Path;

/// A realistic statement whose content depends on `i`.
pub fn statement(i: u64) -> Event {
    let parties = ["USA", "RUS", "TUR", "FRA", "GBR", "UN", "UNSC", "EU"];
    let stances = ["calls-for", "demands", "denies", "asserts", "acknowledges"];
    let party = parties[(i % parties.len() as u64) as usize];
    let stance = stances[(i / 3 % stances.len() as u64) as usize];
    let line = serde_json::json!({
        "type": "statement",
        "said_on": format!("20{:02}-{:02}-{:02}", 10 + i % 14, 1 + i % 12, 1 + i % 28),
        "party": party,
        "speaker": {"name": format!("Speaker {i}"), "role": "spokesperson"},
        "stance": stance,
        "proposition": {"predicate": "withdrawal", "subjects": ["RUS", "TUR"], "location": "LBY"},
        "quote": format!("Statement number {i}: we call on all foreign forces to leave the country without delay, as agreed."),
        "source": {"url": format!("https://example.org/report/{i}"), "publisher": "Example Wire", "published_on": "2021-01-29"}
    });
    json::parse_event(&line.to_string()).expect("test statement parses")
}

pub fn open(dir: &Path) -> Ledger {
    let mut l = Ledger::open(
        dir,
        &OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )
    .expect("open ledger");
    l.set_clock(|| 1_795_953_600_000_000);
    l
}

/// The events of seqs 1 to `to` as entries, read in order: what a fold of
/// every event in order (`projection::positions`) is given.
pub fn entries(l: &Ledger, to: u64) -> Vec<demarche::event::Entry> {
    l.iter(1, to)
        .expect("iter")
        .map(|r| r.expect("event").into())
        .collect()
}

/// A ledger of `singles` one-event appends, then one batch of `batch` events, then
/// `singles` more one-event appends: blocks of one record and blocks of many.
pub fn build(dir: &Path, singles: u64, batch: u64) -> Head {
    let mut l = open(dir);
    let mut i = 0;
    for _ in 0..singles {
        i += 1;
        l.append(statement(i)).expect("append");
    }
    let events: Vec<_> = (0..batch).map(|k| Ok(statement(i + 1 + k))).collect();
    i += batch;
    l.append_batch(events).expect("batch");
    for _ in 0..singles {
        i += 1;
        l.append(statement(i)).expect("append");
    }
    l.head().expect("head")
}

/// A ledger's key-value store opened directly (sled or redb, whichever holds
/// the ledger), as an insider with file access could: the keys and values of
/// `schema/FORMAT.md` section 5, with sled's method names.
pub enum Raw {
    /// sled's `ledger` tree.
    Sled(sled::Tree),
    /// redb's `ledger` table.
    Redb(redb::Database),
}

const TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("ledger");

impl Raw {
    fn write<R>(
        db: &redb::Database,
        f: impl FnOnce(&mut redb::Table<'_, &'static [u8], &'static [u8]>) -> R,
    ) -> R {
        let txn = db.begin_write().expect("write");
        let r = {
            let mut t = txn.open_table(TABLE).expect("table");
            f(&mut t)
        };
        txn.commit().expect("commit");
        r
    }

    pub fn get(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, String> {
        match self {
            Raw::Sled(t) => Ok(t
                .get(k.as_ref())
                .map_err(|e| e.to_string())?
                .map(|v| v.to_vec())),
            Raw::Redb(db) => {
                use redb::ReadableDatabase;
                let txn = db.begin_read().map_err(|e| e.to_string())?;
                let t = txn.open_table(TABLE).map_err(|e| e.to_string())?;
                let v = t.get(k.as_ref()).map_err(|e| e.to_string())?;
                Ok(v.map(|v| v.value().to_vec()))
            }
        }
    }

    pub fn insert(
        &self,
        k: impl AsRef<[u8]>,
        v: impl AsRef<[u8]>,
    ) -> Result<Option<Vec<u8>>, String> {
        match self {
            Raw::Sled(t) => Ok(t
                .insert(k.as_ref(), v.as_ref())
                .map_err(|e| e.to_string())?
                .map(|v| v.to_vec())),
            Raw::Redb(db) => Raw::write(db, |t| {
                let old = t
                    .insert(k.as_ref(), v.as_ref())
                    .map_err(|e| e.to_string())?;
                Ok(old.map(|o| o.value().to_vec()))
            }),
        }
    }

    pub fn remove(&self, k: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, String> {
        match self {
            Raw::Sled(t) => Ok(t
                .remove(k.as_ref())
                .map_err(|e| e.to_string())?
                .map(|v| v.to_vec())),
            Raw::Redb(db) => Raw::write(db, |t| {
                let old = t.remove(k.as_ref()).map_err(|e| e.to_string())?;
                Ok(old.map(|o| o.value().to_vec()))
            }),
        }
    }

    pub fn contains_key(&self, k: impl AsRef<[u8]>) -> Result<bool, String> {
        Ok(self.get(k)?.is_some())
    }

    /// Every key that starts with `prefix`, in order.
    pub fn prefix_keys(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        match self {
            Raw::Sled(t) => t
                .scan_prefix(prefix)
                .keys()
                .map(|k| k.expect("key").to_vec())
                .collect(),
            Raw::Redb(db) => {
                use redb::{ReadableDatabase, ReadableTable};
                let txn = db.begin_read().expect("read");
                let t = txn.open_table(TABLE).expect("table");
                t.iter()
                    .expect("iter")
                    .map(|kv| kv.expect("entry").0.value().to_vec())
                    .filter(|k| k.starts_with(prefix))
                    .collect()
            }
        }
    }

    /// The number of the digest index's bucket that holds the entries of
    /// digests starting with `first`, as its header numbers the buckets (40
    /// bytes: 12 bits; 41: the last byte names them).
    pub fn digest_bucket(&self, first: &[u8]) -> u16 {
        u16::from_be_bytes([first[0], first[1]]) >> (16 - self.digest_bits())
    }

    /// The bits of the numbers of the digest index's buckets.
    pub fn digest_bits(&self) -> u8 {
        let header = self
            .get("mdigest-index")
            .expect("read")
            .expect("a digest index");
        match header.len() {
            40 => 12,
            41 => header[40],
            n => panic!("a header of {n} bytes"),
        }
    }

    /// The block with the greatest key at or before `seq`'s.
    pub fn block_at_or_before(&self, seq: u64) -> Option<(Vec<u8>, Vec<u8>)> {
        let (lo, hi) = (block_key(0), block_key(seq));
        match self {
            Raw::Sled(t) => t
                .range(lo..=hi)
                .next_back()
                .map(|kv| kv.expect("read"))
                .map(|(k, v)| (k.to_vec(), v.to_vec())),
            Raw::Redb(db) => {
                use redb::ReadableDatabase;
                let txn = db.begin_read().expect("read");
                let t = txn.open_table(TABLE).expect("table");
                let last = t
                    .range(&lo[..]..=&hi[..])
                    .expect("range")
                    .next_back()
                    .map(|kv| kv.expect("read"));
                last.map(|(k, v)| (k.value().to_vec(), v.value().to_vec()))
            }
        }
    }
}

/// Opens the ledger's store directly, as an insider with file access could.
pub fn with_tree<R>(dir: &Path, f: impl FnOnce(&Raw) -> R) -> R {
    // The engine's lock may be held for a moment after the ledger that used it
    // was dropped (sled's background flusher): retry, as the ledger itself does.
    let mut tries = 0;
    match demarche::store::engine_at(dir) {
        Some(demarche::store::Engine::Redb) => {
            let db = loop {
                match redb::Database::builder()
                    .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
                    .create(dir.join("ledger.redb"))
                {
                    Ok(db) => break db,
                    Err(redb::DatabaseError::DatabaseAlreadyOpen) if tries < 500 => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(e) => panic!("open redb directly: {e}"),
                }
            };
            f(&Raw::Redb(db))
        }
        _ => {
            let db = loop {
                match sled::open(dir) {
                    Ok(db) => break db,
                    Err(e) if tries < 500 && e.to_string().contains("could not acquire lock") => {
                        tries += 1;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(e) => panic!("open sled directly: {e}"),
                }
            };
            let tree = db.open_tree("ledger").expect("tree");
            let r = f(&Raw::Sled(tree));
            db.flush().expect("flush");
            r
        }
    }
}

pub fn block_key(seq: u64) -> Vec<u8> {
    let mut k = vec![b'b'];
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A block as the tests see it: key, bytes, and the byte range of each record.
pub type FoundBlock = (Vec<u8>, Vec<u8>, Vec<(u64, std::ops::Range<usize>)>);

/// The key of the block holding `seq`, its records (decompressed), and the byte
/// range of each record. Write records back with [`seal`].
pub fn find_block(tree: &Raw, seq: u64) -> FoundBlock {
    let (k, v) = tree.block_at_or_before(seq).expect("a block");
    let bytes = demarche::codec::open_block(&v)
        .expect("block opens")
        .into_owned();
    let mut ranges = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (rec, len) = demarche::codec::read_record(&bytes[at..]).expect("record");
        ranges.push((rec.header.seq, at..at + len));
        at += len;
    }
    (k.to_vec(), bytes, ranges)
}

pub fn bin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("demarche").expect("binary");
    c.env_remove("DEMARCHE_LEDGER")
        .env("DEMARCHE_NOW", "2026-11-29T12:00:00Z")
        .env("NO_COLOR", "1");
    c
}

/// The command run on the ledger at `ledger` with `args`.
pub fn at(ledger: &Path, args: &[&str]) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(ledger).args(args);
    c
}

/// The stored form of a block of records, as the ledger writes it.
pub fn seal(records: &[u8]) -> Vec<u8> {
    demarche::codec::seal_block(records)
}

/// Writes `count` statements made by `demarche-gen` (seed 7) to `path`, as a
/// JSON Lines file for `import`.
pub fn generate(path: &Path, count: u32) {
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_demarche-gen"))
        .args(["--count", &count.to_string(), "--seed", "7", "--out"])
        .arg(path)
        .status()
        .expect("run demarche-gen");
    assert!(made.success(), "demarche-gen failed");
}
