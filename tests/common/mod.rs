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
    l.set_clock(|| 1_611_921_600_000_000);
    l
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

/// Opens the ledger's sled database directly, as an insider with file access could.
pub fn with_tree<R>(dir: &Path, f: impl FnOnce(&sled::Tree) -> R) -> R {
    // sled's background flusher may hold the file lock for a moment after the
    // ledger that used it was dropped: retry, as the ledger itself does.
    let mut tries = 0;
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
    let r = f(&tree);
    db.flush().expect("flush");
    r
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
pub fn find_block(tree: &sled::Tree, seq: u64) -> FoundBlock {
    let (k, v) = tree
        .range(block_key(0)..=block_key(seq))
        .next_back()
        .expect("a block")
        .expect("read");
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
        .env("DEMARCHE_NOW", "2021-01-29T12:00:00Z")
        .env("NO_COLOR", "1");
    c
}

/// The stored form of a block of records, as the ledger writes it.
pub fn seal(records: &[u8]) -> Vec<u8> {
    demarche::codec::seal_block(records)
}
