//! The two storage engines side by side: the same chain, bit for bit, in
//! either; a ledger moved from one to the other keeps its head; each ledger is
//! only ever opened as its own engine; and with redb, commands that read do
//! not wait for a writer in another process.

use crate::common;

use common::bin;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(ledger);
    c
}

/// A new ledger of `engine` at `path`, holding the example's events.
fn demo_ledger(path: &Path, engine: &str) {
    demarche(path)
        .args(["init", "--engine", engine])
        .assert()
        .success();
    demarche(path).arg("demo").assert().success();
}

/// [`demo_ledger`], then a `head`: the ledger as the first command after its
/// writes leaves it (sled's open after them blanks its log past the tip).
fn settled_demo_ledger(path: &Path, engine: &str) {
    demo_ledger(path, engine);
    demarche(path).arg("head").assert().success();
}

fn head_json(ledger: &Path) -> Value {
    let out = demarche(ledger).args(["head", "--json"]).assert().success();
    serde_json::from_str(String::from_utf8_lossy(&out.get_output().stdout).trim()).expect("JSON")
}

#[test]
fn both_engines_hold_the_same_chain_and_a_ledger_moves_between_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, r) = (dir.path().join("sled"), dir.path().join("redb"));
    for (path, engine) in [(&s, "sled"), (&r, "redb")] {
        demarche(path)
            .args(["init", "--engine", engine])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("empty {engine} ledger")));
        demarche(path).arg("demo").assert().success();
        assert_eq!(head_json(path)["engine"], engine);
    }
    // Same events, same clock: the same hashes in either engine.
    assert_eq!(head_json(&s)["hash"], head_json(&r)["hash"]);
    let export = |path: &Path, name: &str| {
        let file = dir.path().join(name);
        demarche(path)
            .args(["export", "-o"])
            .arg(&file)
            .assert()
            .success();
        std::fs::read(file).expect("export")
    };
    assert_eq!(export(&s, "s.jsonl"), export(&r, "r.jsonl"));
    // sled → redb → sled, every hash checked on the way.
    let moved = dir.path().join("moved");
    demarche(&moved)
        .args(["rebuild", "--engine", "redb", "--from"])
        .arg(dir.path().join("s.jsonl"))
        .assert()
        .success();
    assert_eq!(head_json(&moved)["engine"], "redb");
    assert_eq!(head_json(&moved)["hash"], head_json(&s)["hash"]);
    demarche(&moved).arg("verify").assert().success();
    let back = dir.path().join("back");
    demarche(&back)
        .args(["rebuild", "--engine", "sled", "--from"])
        .arg(dir.path().join("r.jsonl"))
        .assert()
        .success();
    assert_eq!(head_json(&back)["engine"], "sled");
    assert_eq!(export(&back, "b.jsonl"), export(&s, "s2.jsonl"));
    // A ledger is created once.
    demarche(&r)
        .args(["init", "--engine", "sled"])
        .assert()
        .code(2);
}

#[test]
fn a_ledger_is_never_opened_as_the_other_engine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, r) = (dir.path().join("sled"), dir.path().join("redb"));
    demarche(&s)
        .args(["init", "--engine", "sled"])
        .assert()
        .success();
    demarche(&r)
        .args(["init", "--engine", "redb"])
        .assert()
        .success();
    // Each with the other's files beside its own: refused, nothing changed.
    std::fs::write(s.join("ledger.redb"), b"").expect("write");
    std::fs::write(r.join("conf"), b"").expect("write");
    std::fs::write(r.join("db"), b"").expect("write");
    for path in [&s, &r] {
        for args in [vec!["verify"], vec!["demo"]] {
            demarche(path)
                .args(&args)
                .assert()
                .code(2)
                .stderr(predicate::str::contains("not a demarche ledger"));
        }
    }
    // A redb database of something else is not adopted either.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("dir");
    {
        let db = redb::Database::create(other.join("ledger.redb")).expect("redb");
        let txn = db.begin_write().expect("write");
        {
            let def: redb::TableDefinition<&str, &str> = redb::TableDefinition::new("mine");
            txn.open_table(def)
                .expect("table")
                .insert("k", "v")
                .expect("insert");
        }
        txn.commit().expect("commit");
    }
    demarche(&other)
        .arg("demo")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a demarche ledger"));
}

#[test]
fn with_redb_readers_run_while_another_process_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger");
    demo_ledger(&path, "redb");
    let before = head_json(&path);
    // This process holds the ledger for writing, with a batch staged and not
    // yet committed.
    let writer = demarche::ledger::Ledger::open(
        &path,
        &demarche::store::OpenOptions {
            create: true,
            ..Default::default()
        },
    )
    .expect("writer");
    writer
        .store()
        .stage(&[(11, &common::seal(b"not yet"))])
        .expect("stage");
    for args in [
        vec!["verify"],
        vec!["log"],
        vec!["positions", "--as-of", "2021-01-29"],
        vec!["head"],
        vec!["export"],
    ] {
        demarche(&path)
            .args(["--wait", "0"])
            .args(&args)
            .assert()
            .success();
    }
    // Another writer waits, then gives up with exit 3.
    demarche(&path)
        .args([
            "--wait",
            "0.2",
            "append",
            "--retract",
            "1",
            "--reason",
            "test",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("in use by another process"));
    drop(writer);
    assert_eq!(
        head_json(&path),
        before,
        "the uncommitted batch left nothing"
    );
    demarche(&path).arg("verify").assert().success();
}

#[test]
fn with_sled_a_reader_waits_for_the_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger");
    demarche(&path)
        .args(["init", "--engine", "sled"])
        .assert()
        .success();
    let writer = common::open(&path);
    demarche(&path)
        .args(["--wait", "0.2", "head"])
        .assert()
        .code(3);
    drop(writer);
    demarche(&path).arg("head").assert().success();
}

#[test]
fn with_redb_a_reader_never_holds_off_a_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger");
    demo_ledger(&path, "redb");
    // A reader (as `verify`, `export` or `log` open it) stays open...
    let reader = demarche::ledger::Ledger::open(
        &path,
        &demarche::store::OpenOptions {
            read_only: true,
            ..Default::default()
        },
    )
    .expect("reader");
    // ...and an append goes through beside it, at once.
    demarche(&path)
        .args([
            "--wait",
            "0",
            "append",
            "--retract",
            "1",
            "--reason",
            "test",
        ])
        .assert()
        .success();
    // The reader still sees the ledger as it was when it opened.
    assert_eq!(reader.head().expect("head").size, 10);
    drop(reader);
    assert_eq!(head_json(&path)["size"], 11);
}

#[test]
fn with_redb_proofs_work_beside_a_writer_on_a_ledger_without_a_stored_tree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger");
    demarche(&path)
        .args(["init", "--engine", "redb"])
        .assert()
        .success();
    common::build(&path, 2, 400);
    // The tree deleted, as in a ledger written before it existed.
    common::with_tree(&path, |t| {
        for k in t.prefix_keys(b"m") {
            if k.starts_with(b"mmerkle") || k.starts_with(b"mtile/") {
                t.remove(&k).expect("remove");
            }
        }
    });
    // A writer holds the ledger, so `prove` reads read-only and cannot save the
    // tree it rebuilds: it proves from the tree in memory.
    let writer = common::open(&path);
    let out = demarche(&path)
        .args(["--wait", "0", "prove", "300", "--json"])
        .assert()
        .success();
    drop(writer);
    let p: Value = serde_json::from_str(String::from_utf8_lossy(&out.get_output().stdout).trim())
        .expect("JSON");
    assert_eq!(p["tree_size"], 404);
    assert!(p["proof"].as_array().expect("proof").len() >= 8);
}

#[test]
fn a_redb_ledger_whose_creation_was_cut_short_is_created_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A kill while the database was being made leaves its file under a name of
    // its own: it is neither opened as the ledger nor taken for a stranger.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(&cut).expect("dir");
    std::fs::write(cut.join("ledger.redb.4242.new"), b"half a database").expect("write");
    demo_ledger(&cut, "redb");
    demarche(&cut).arg("verify").assert().success();
    assert_eq!(head_json(&cut)["engine"], "redb");
    // Nor does it keep a sled ledger from being made there.
    let cut_sled = dir.path().join("cut-sled");
    std::fs::create_dir_all(&cut_sled).expect("dir");
    std::fs::write(cut_sled.join("ledger.redb.4242-17.new"), b"half").expect("write");
    demo_ledger(&cut_sled, "sled");
    // A database made but never marked, with nothing in it, is that new ledger.
    let unmarked = dir.path().join("unmarked");
    std::fs::create_dir_all(&unmarked).expect("dir");
    drop(redb::Database::create(unmarked.join("ledger.redb")).expect("redb database"));
    demarche(&unmarked).arg("demo").assert().success();
    demarche(&unmarked).arg("verify").assert().success();
    // One with something else in it is still someone else's database.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).expect("dir");
    {
        let db = redb::Database::create(other.join("ledger.redb")).expect("redb database");
        let tx = db.begin_write().expect("write");
        {
            let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("ledger");
            let mut t = tx.open_table(def).expect("table");
            t.insert(&b"k"[..], &b"v"[..]).expect("insert");
        }
        tx.commit().expect("commit");
    }
    demarche(&other)
        .arg("demo")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("without the ledger marker"));
}

/// Commands that read leave the store's file as it is, byte for byte and
/// unmodified on the disk, in either engine, once a command after the last
/// write has settled it (sled's first open after a write blanks its log past
/// the tip, and its free segments): a backup or a sync sees nothing change.
/// sled's open wrote the blank tail of its active segment again at every open.
#[test]
fn reading_leaves_the_store_file_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (engine, file) in [("sled", "db"), ("redb", "ledger.redb")] {
        let ledger = dir.path().join(engine);
        settled_demo_ledger(&ledger, engine);
        let file = ledger.join(file);
        let state = || {
            let meta = std::fs::metadata(&file).expect("store file");
            let modified = meta.modified().expect("mtime");
            (modified, std::fs::read(&file).expect("store bytes"))
        };
        let before = state();
        for args in [&["head"][..], &["verify"], &["log"], &["head"], &["verify"]] {
            demarche(&ledger).args(args).assert().success();
        }
        let after = state();
        assert!(before.0 == after.0, "{engine}: the store file was written");
        assert!(before.1 == after.1, "{engine}: the store file changed");
    }
}

/// A writer's handle on the redb database at `path`, as the ledger opens
/// one; it fails (naming `after`) if the open had to repair the file.
fn redb_writer(path: &Path, after: &str) -> redb::Database {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let repaired = Arc::new(AtomicBool::new(false));
    let flag = repaired.clone();
    let db = redb::Database::builder()
        .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
        .set_repair_callback(move |_| flag.store(true, Ordering::SeqCst))
        .create(path)
        .expect("a writer opens the file");
    assert!(
        !repaired.load(Ordering::SeqCst),
        "after {after}: the file was left to repair"
    );
    db
}

/// That the redb database at `path` was closed clean, with its allocator
/// state recorded: a read-only handle opens it, and a writer without a repair.
fn assert_redb_closed_clean(path: &Path, after: &str) {
    if let Err(e) = redb::Database::builder()
        .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
        .open_read_only(path)
    {
        panic!("after {after}: a read-only open was refused: {e}");
    }
    drop(redb_writer(path, after));
}

/// Every command that writes a redb ledger leaves its file as a clean close
/// leaves it, with redb's allocator state recorded: a read-only handle opens
/// it (one left to recover refuses to), and a writer opens it without a
/// repair (which, left to do, would read the whole file). The commits record
/// the allocator state, and the close then makes no commit of its own
/// (`vendor/redb`); a write that ends without a commit of its own, refused,
/// still closes with one.
#[test]
fn every_redb_write_leaves_the_file_closed_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let file = ledger.join("ledger.redb");
    let clean = |after: &str| assert_redb_closed_clean(&file, after);
    demarche(&ledger)
        .args(["init", "--engine", "redb"])
        .assert()
        .success();
    clean("init");
    demarche(&ledger).arg("demo").assert().success();
    clean("demo");
    let line = r#"{"type":"statement","said_on":"2021-02-01","party":"FRA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":"All foreign forces must leave.","source":{"url":"https://example.org/a","publisher":"Example"}}"#;
    demarche(&ledger)
        .args(["append", "--json", line])
        .assert()
        .success();
    clean("an append");
    demarche(&ledger)
        .args(["append", "--json", line])
        .assert()
        .failure();
    clean("an append refused as held already");
    import_generated(&ledger, 3000);
    clean("an import");
    let refused = ledger.with_extension("refused.jsonl");
    let mut lines = std::fs::read_to_string(ledger.with_extension("corpus.jsonl")).expect("corpus");
    lines.push_str("{not json\n");
    std::fs::write(&refused, lines).expect("write");
    demarche(&ledger)
        .arg("import")
        .arg(&refused)
        .assert()
        .failure();
    clean("an import refused at its last line");
    demarche(&ledger)
        .args(["positions", "--party", "USA"])
        .assert()
        .success();
    clean("a query that saves a snapshot");
    demarche(&ledger).arg("verify").assert().success();
}

/// A first `append` or `import` that is refused leaves a new ledger's file
/// as `init` left it, byte for byte: the Merkle tree of no events is not
/// stored ahead of the first commit, which stores the tree it grows (it was a
/// durable write of its own, two `fdatasync`s on redb, before every first
/// write). The ledger then takes its first events, and proves them.
#[test]
fn a_refused_first_write_leaves_a_new_redb_ledger_as_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let file = ledger.join("ledger.redb");
    demarche(&ledger)
        .args(["init", "--engine", "redb"])
        .assert()
        .success();
    let made = std::fs::read(&file).expect("read");
    let unknown = r#"{"type":"statement","said_on":"2021-02-01","party":"NOBODY","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":"All foreign forces must leave.","source":{"url":"https://example.org/a","publisher":"Example"}}"#;
    demarche(&ledger)
        .args(["append", "--json", unknown])
        .assert()
        .code(2);
    assert!(
        std::fs::read(&file).expect("read") == made,
        "a refused append wrote"
    );
    let refused = dir.path().join("refused.jsonl");
    std::fs::write(&refused, format!("{unknown}\n")).expect("write");
    demarche(&ledger)
        .arg("import")
        .arg(&refused)
        .assert()
        .code(2);
    assert!(
        std::fs::read(&file).expect("read") == made,
        "a refused import wrote"
    );
    let good = unknown.replace("NOBODY", "FRA");
    demarche(&ledger)
        .args(["append", "--json", &good])
        .assert()
        .success();
    assert_redb_closed_clean(&file, "the first append");
    demarche(&ledger).args(["prove", "1"]).assert().success();
    demarche(&ledger).arg("verify").assert().success();
}

/// The redb the ledger is built with (`vendor/redb`) closes a database
/// without a commit of its own only after a commit that recorded its
/// allocator state, or when nothing was written since it was loaded as
/// recorded: after a commit that did not (an integrity check's among them),
/// or after a write that did not commit, the close records it, and a writer
/// opens the file without a repair whatever the last commit was.
#[test]
fn redb_closes_clean_after_any_last_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let def: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("t");
    // Each case: whether each commit records the allocator state (None: a
    // write transaction dropped without committing).
    let cases: [&[Option<bool>]; 6] = [
        &[Some(true)],
        &[Some(false)],
        &[Some(true), Some(false)],
        &[Some(false), Some(true)],
        &[Some(true), None],
        &[Some(true), Some(true), Some(false)],
    ];
    for (n, case) in cases.iter().enumerate() {
        let path = dir.path().join(format!("{n}.redb"));
        for round in 0..2u64 {
            let db = redb_writer(&path, &format!("{case:?}"));
            for (i, record) in case.iter().enumerate() {
                let mut tx = db.begin_write().expect("write");
                tx.set_quick_repair(record.unwrap_or(false));
                {
                    let mut t = tx.open_table(def).expect("table");
                    for k in 0..50u64 {
                        t.insert(round * 1000 + i as u64 * 100 + k, k)
                            .expect("insert");
                    }
                }
                match record {
                    Some(_) => tx.commit().expect("commit"),
                    None => drop(tx),
                }
            }
            drop(db);
            assert_redb_closed_clean(&path, &format!("{case:?}"));
        }
        // A writer that writes nothing leaves the file as it found it: the
        // state it loaded is the one the file records.
        let before = std::fs::read(&path).expect("read the file");
        drop(redb_writer(&path, &format!("{case:?}")));
        assert!(
            std::fs::read(&path).expect("read the file") == before,
            "{case:?}: a writer that wrote nothing changed the file"
        );
        // An integrity check after a commit that recorded the allocator
        // state finds the file as recorded, and the close after it leaves
        // the file clean.
        let mut db = redb_writer(&path, &format!("{case:?}"));
        let mut tx = db.begin_write().expect("write");
        tx.set_quick_repair(true);
        tx.open_table(def)
            .expect("table")
            .remove(0u64)
            .expect("remove");
        tx.commit().expect("commit");
        assert!(
            db.check_integrity().expect("an integrity check"),
            "{case:?}: the integrity check repaired the file"
        );
        drop(db);
        assert_redb_closed_clean(&path, &format!("{case:?}, checked"));
        let db = redb_writer(&path, &format!("{case:?}"));
        let tx = redb::ReadableDatabase::begin_read(&db).expect("read");
        let t = tx.open_table(def).expect("table");
        let held = redb::ReadableTableMetadata::len(&t).expect("len");
        // Less the row removed before the integrity check.
        let committed = case.iter().filter(|r| r.is_some()).count() as u64 * 50 * 2 - 1;
        assert_eq!(held, committed, "{case:?}");
    }
}

/// A redb writer marks the file in use (its recovery flag) at open without a
/// sync of its own: the flag becomes durable with its first commit's first
/// sync (`vendor/redb`). Until then, what a power loss can leave on the disk
/// is the header as the last close left it, clean, beside any pages the
/// writer had written out: those must be pages free in the state the file
/// records, or past its end. Each such state opens, checks whole (the state
/// it records against one rebuilt from its trees), and holds what was
/// committed and nothing else.
#[test]
fn a_redb_writer_lost_before_its_first_commit_leaves_what_was_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let def: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("t");
    let open = |path: &Path| {
        redb::Database::builder()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .set_cache_size(64 << 10)
            .create(path)
            .expect("a writer opens the file")
    };
    let row = [7u8; 200];
    let kept: Vec<u64> = (0..6_000u64).filter(|k| k % 3 == 0).collect();
    // Written while the writer was lost: within the free pages, or beyond.
    for (case, lost) in [("within", 1_500u64), ("beyond", 12_000)] {
        let path = dir.path().join(format!("{case}.redb"));
        let db = open(&path);
        for remove in [false, true] {
            let mut tx = db.begin_write().expect("write");
            tx.set_quick_repair(true);
            {
                let mut t = tx.open_table(def).expect("table");
                for k in 0..6_000u64 {
                    if !remove {
                        t.insert(k, &row[..]).expect("insert");
                    } else if k % 3 != 0 {
                        t.remove(k).expect("remove");
                    }
                }
            }
            tx.commit().expect("commit");
        }
        drop(db);
        let committed = std::fs::read(&path).expect("read");
        // A writer opens and writes more than its cache holds, so that pages
        // reach the file, which is read as it stands before the close.
        let db = open(&path);
        let tx = db.begin_write().expect("write");
        {
            let mut t = tx.open_table(def).expect("table");
            for k in 0..lost {
                t.insert(100_000 + k, &row[..]).expect("insert");
            }
            t.remove(0u64).expect("remove");
        }
        let written = std::fs::read(&path).expect("read");
        drop(tx);
        drop(db);
        let header = 512;
        assert!(
            written[..header] != committed[..header],
            "{case}: the open marks the header"
        );
        let common = committed.len().min(written.len());
        assert!(
            written[header..common] != committed[header..common],
            "{case}: the writer wrote pages out before its commit"
        );
        assert_eq!(
            written.len() == committed.len(),
            case == "within",
            "{case}: the file's length"
        );
        // What a power loss can leave: the header of either time, beside the
        // pages written out.
        let mut unmarked = written.clone();
        unmarked[..header].copy_from_slice(&committed[..header]);
        for (header, bytes) in [("unmarked", unmarked), ("marked", written)] {
            std::fs::write(&path, &bytes).expect("write the state");
            let mut db = open(&path);
            assert!(
                db.check_integrity().expect("an integrity check"),
                "{case}, {header}: the file was not whole"
            );
            let tx = redb::ReadableDatabase::begin_read(&db).expect("read");
            let t = tx.open_table(def).expect("table");
            let keys: Vec<u64> = redb::ReadableTable::iter(&t)
                .expect("iter")
                .map(|kv| kv.expect("row").0.value())
                .collect();
            assert_eq!(keys, kept, "{case}, {header}");
        }
    }
}

/// After a commit that recorded the allocator state, a redb close writes the
/// header that marks the file closed clean without syncing it (`vendor/redb`).
/// A power loss can leave the header as the commit left it, marked in use:
/// a writer then opens it without a repair, and finds it whole and the commit
/// in it; a read-only open waits for that writer (demarche opens as the
/// writer when it finds the file so).
#[test]
fn a_redb_close_lost_to_a_power_loss_leaves_the_last_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("db.redb");
    let def: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("t");
    for round in 0..3u64 {
        let db = redb_writer(&path, "the last close");
        let mut tx = db.begin_write().expect("write");
        tx.set_quick_repair(true);
        {
            let mut t = tx.open_table(def).expect("table");
            for k in 0..500u64 {
                t.insert(round * 1000 + k, k).expect("insert");
            }
        }
        tx.commit().expect("commit");
        let committed = std::fs::read(&path).expect("read");
        drop(db);
        let closed = std::fs::read(&path).expect("read");
        let header = 512;
        assert!(
            closed[header..] == committed[header..],
            "round {round}: the close wrote more than the header"
        );
        assert!(
            closed[..header] != committed[..header],
            "round {round}: the close marks the file closed"
        );
        // The close's header lost.
        std::fs::write(&path, &committed).expect("write the state");
        assert!(
            matches!(
                redb::Database::builder()
                    .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
                    .open_read_only(&path),
                Err(redb::DatabaseError::RepairAborted)
            ),
            "round {round}: a read-only open of a file marked in use"
        );
        let mut db = redb_writer(&path, "a lost close");
        assert!(
            db.check_integrity().expect("an integrity check"),
            "round {round}: the file was not whole"
        );
        let tx = redb::ReadableDatabase::begin_read(&db).expect("read");
        let t = tx.open_table(def).expect("table");
        let held = redb::ReadableTableMetadata::len(&t).expect("len");
        assert_eq!(held, (round + 1) * 500, "round {round}");
        drop((t, tx, db));
        assert_redb_closed_clean(&path, "a writer after a lost close");
    }
    // A ledger whose file a power loss left marked in use: commands that
    // only read open it all the same.
    let ledger = dir.path().join("ledger");
    let file = ledger.join("ledger.redb");
    demo_ledger(&ledger, "redb");
    let head = head_json(&ledger);
    let db = redb_writer(&file, "demo");
    let marked = std::fs::read(&file).expect("read");
    drop(db);
    std::fs::write(&file, &marked).expect("write the state");
    assert_eq!(head_json(&ledger), head);
    demarche(&ledger).arg("verify").assert().success();
    assert_redb_closed_clean(&file, "a read of a file marked in use");
}

/// A sled snapshot left half written (by a crash, or a disk that filled
/// while sled wrote it at open) is no snapshot: the ledger opens, verifies and
/// takes appends, and the next snapshot written removes it. sled 0.34.7 took
/// it for the newest and refused every later open ("Read corrupted data").
#[test]
fn a_sled_snapshot_left_half_written_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("l");
    settled_demo_ledger(&ledger, "sled");
    // Named past every real one, as a half-written snapshot of a later
    // point of the log is; one empty, as a full disk leaves it.
    let half = ledger.join("snap.FFFFFFFFFFFFFFFF.generating");
    std::fs::write(&half, b"").expect("half-written snapshot");
    let before = head_json(&ledger);
    demarche(&ledger).arg("verify").assert().success();
    let line = r#"{"type":"statement","said_on":"2021-01-29","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"},"quote":"All foreign forces must leave Libya.","source":{"url":"https://example.org/a","publisher":"Example","published_on":"2021-01-29"}}"#;
    demarche(&ledger)
        .args(["append", "--json", line])
        .assert()
        .success();
    let size = |v: &Value| v["size"].as_u64().expect("head size");
    assert_eq!(size(&head_json(&ledger)), size(&before) + 1);
    // The next snapshot written (at the first open after the log's tip has
    // left the snapshot's segment) removes it.
    import_generated(&ledger, 3000);
    demarche(&ledger).arg("head").assert().success();
    assert!(!half.exists(), "the half-written snapshot was left");
    demarche(&ledger).arg("verify").assert().success();
}

/// Imports `count` generated statements into `ledger`.
fn import_generated(ledger: &Path, count: u32) {
    let corpus = ledger.with_extension("corpus.jsonl");
    crate::common::generate(&corpus, count);
    demarche(ledger)
        .arg("import")
        .arg(&corpus)
        .assert()
        .success();
}

/// The names of a sled ledger's snapshot files.
fn snapshots(ledger: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(ledger)
        .expect("ledger directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap."))
        .collect();
    names.sort();
    names
}

/// sled writes its snapshot at open once the log has left the last one's
/// segment, not at every open after a write: an `append` or a read after one
/// leaves the snapshot as it was and reads the few records past it (what each
/// `append` saved: the snapshot's write, `fsync`, rename and removal). A
/// long log is not read again and again: the open after it writes one.
#[test]
fn sled_writes_its_snapshot_once_the_log_leaves_its_segment_not_at_every_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("l");
    settled_demo_ledger(&ledger, "sled");
    let first = snapshots(&ledger);
    assert_eq!(first.len(), 1, "{first:?}");
    let size = |v: &Value| v["size"].as_u64().expect("head size");
    for i in 0..5 {
        let line = format!(
            r#"{{"type":"statement","said_on":"2021-02-0{}","party":"USA","stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"}},"quote":"All foreign forces must leave Libya ({i}).","source":{{"url":"https://example.org/{i}","publisher":"Example","published_on":"2021-02-01"}}}}"#,
            i + 1
        );
        demarche(&ledger)
            .args(["append", "--json", &line])
            .assert()
            .success();
        assert_eq!(size(&head_json(&ledger)), 11 + i);
    }
    demarche(&ledger)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("15 events verified"));
    assert_eq!(
        snapshots(&ledger),
        first,
        "a snapshot written within its segment"
    );
    import_generated(&ledger, 3000);
    demarche(&ledger).arg("head").assert().success();
    let later = snapshots(&ledger);
    assert_eq!(later.len(), 1, "{later:?}");
    assert!(
        later[0] > first[0],
        "no snapshot once the log left its segment: {later:?}"
    );
    demarche(&ledger)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("3015 events verified"));
}

/// The LSN of a sled ledger's one snapshot, from its file name.
fn snapshot_lsn(ledger: &Path) -> u64 {
    let names = snapshots(ledger);
    assert_eq!(names.len(), 1, "{names:?}");
    u64::from_str_radix(names[0].trim_start_matches("snap."), 16).expect("snapshot LSN")
}

/// However little the log has grown past sled's snapshot, the first open after
/// its tip has left the snapshot's segment writes a new one: otherwise that
/// open could free a segment that the next open reads as the start of the
/// log's tail, and that open would blank the log past it. Here the snapshot
/// is brought to the last 128 KiB of a segment, then batches of 20 statements
/// are appended, each by a process of its own (an open, a batch, a close),
/// until a new snapshot is written: it is in a later segment, and less than
/// 256 KiB of log past the old one (in one of up to four tries, below).
#[test]
fn sled_writes_its_snapshot_once_the_tip_leaves_the_snapshots_segment() {
    use demarche::ledger::Ledger;
    use demarche::store::{Engine, OpenOptions};
    const SEGMENT: u64 = 512 * 1024; // sled's segment (checked in its `conf` below)
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("l");
    let open = || {
        Ledger::open(
            &path,
            &OpenOptions {
                create: true,
                engine: Engine::Sled,
                ..OpenOptions::default()
            },
        )
        .expect("open the ledger")
    };
    let mut next = 0u64;
    let mut append = |n: u64| {
        let mut ledger = open();
        let batch: Vec<_> = (next..next + n).map(|i| Ok(common::statement(i))).collect();
        ledger.append_batch(batch).expect("append");
        next += n;
    };
    append(1000);
    drop(open());
    let first = snapshot_lsn(&path);
    // (`conf` ends in a checksum, not text.)
    let conf =
        String::from_utf8_lossy(&std::fs::read(path.join("conf")).expect("conf")).into_owned();
    assert!(
        conf.contains(&format!("segment_size: {SEGMENT}\n")),
        "{conf}"
    );
    // Each round crosses a segment boundary (so the next open writes a
    // snapshot) and aims at 64 KiB before the end of the segment after it,
    // with the log's bytes a statement of the first batch, less what the
    // round before wrote past its aim: a batch's commit also writes the
    // digest index's recent buckets, which grow with the ledger, and sled
    // adds log of its own (its cleaning of segments, buffers sealed by its
    // flusher), more or less as the machine is busy. Near the end, the
    // crossing below comes with well under 256 KiB of log past the snapshot
    // (a byte count's rule would then write none), leaving room for that.
    const NEAR: u64 = 128 * 1024;
    let (mut at, per_statement) = (first, first / 1000);
    let mut past_aim = 0u64;
    let mut seen = vec![at];
    // Under load, one batch can carry the tip far past the boundary (sled's
    // own log comes with it): a crossing with 256 KiB or more of log past
    // the snapshot tells the two rules apart no better than it did before,
    // and the snapshot is brought near a segment's end again, up to four
    // times. A rule by byte count would never come in under 256 KiB.
    let mut crossings = Vec::new();
    loop {
        for _ in 0..40 {
            if at % SEGMENT > SEGMENT - NEAR {
                break;
            }
            let target = (at / SEGMENT + 2) * SEGMENT - NEAR / 2;
            // Never short of the next segment: each round crosses one.
            let aim = target
                .saturating_sub(past_aim)
                .max((at / SEGMENT + 1) * SEGMENT + NEAR);
            let n = (aim - at) / per_statement;
            append(n);
            drop(open());
            let now = snapshot_lsn(&path);
            assert!(
                now / SEGMENT > at / SEGMENT,
                "a crossing wrote no snapshot: {seen:?}"
            );
            past_aim = now.saturating_sub(at + n * per_statement);
            at = now;
            seen.push(at);
        }
        assert!(
            at % SEGMENT > SEGMENT - NEAR,
            "the snapshot never came near a segment's end: {seen:?}"
        );
        let mut batches = 0;
        let moved = loop {
            append(20);
            batches += 1;
            drop(open());
            let now = snapshot_lsn(&path);
            if now != at {
                break now;
            }
            assert!(batches < 40, "no snapshot after {batches} batches");
        };
        assert!(moved / SEGMENT > at / SEGMENT, "{at} → {moved}");
        crossings.push((at, moved));
        if moved - at < 256 * 1024 {
            break;
        }
        assert!(
            crossings.len() < 4,
            "every crossing came with a long log: {crossings:?}"
        );
        past_aim = 0;
        at = moved;
        seen.push(at);
    }
    let ledger = open();
    let report = ledger.verify(None).expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(ledger.head().expect("head").size, next);
}

/// This process's resident memory, in bytes (Linux).
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb << 10
}

/// sled counted a node it writes as a blob (one past a quarter of a segment:
/// a few values of more than about 12 KB) at the size of the blob's pointer,
/// so its cache never let such nodes go: the digest index's buckets, about 20
/// KB each past a few million events, stayed in memory as a large import's
/// commit wrote them, 79 MB of a 5M import's. Derived values of that size,
/// 160 MB of them written in 1 MB slices as that commit writes them, now leave
/// the process no larger than sled's cache (32 MiB) and some. Measured in a
/// process of its own (this test binary run again for the test below), since
/// tests that run as threads of one process share its memory.
#[test]
fn a_sled_ledger_lets_go_of_the_large_values_it_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args(["--ignored", "--exact", "--nocapture", "--test-threads=1"])
        .arg("engines::sled_writes_large_values_in_a_process_of_its_own")
        .env("DEMARCHE_SLED_VALUES_DIR", dir.path())
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let grown: u64 = stdout
        .lines()
        .find_map(|l| l.split_once("grown by "))
        .and_then(|(_, n)| n.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no figure in {stdout}"));
    assert!(
        grown < 80 << 20,
        "grew by {} MiB for 160 MB written",
        grown >> 20
    );
}

/// The work of the test above, in the process it starts.
#[test]
#[ignore = "run by a_sled_ledger_lets_go_of_the_large_values_it_writes, in a process of its own"]
fn sled_writes_large_values_in_a_process_of_its_own() {
    let dir = std::env::var_os("DEMARCHE_SLED_VALUES_DIR").expect("run by the test above");
    let ledger = demarche::ledger::Ledger::open(
        &Path::new(&dir).join("ledger"),
        &demarche::store::OpenOptions {
            create: true,
            engine: demarche::store::Engine::Sled,
            ..Default::default()
        },
    )
    .expect("opens");
    let store = ledger.store();
    let before = resident();
    for slice in 0..160u32 {
        let values: Vec<(String, Vec<u8>)> = (0..50u32)
            .map(|i| {
                let n = slice * 50 + i;
                let value = (0..20_000u32)
                    .map(|j| (j.wrapping_mul(n + 7) >> 3) as u8)
                    .collect();
                (format!("test-bucket.{n:06}"), value)
            })
            .collect();
        let refs: Vec<(&str, &[u8])> = values.iter().map(|(k, v)| (k.as_str(), &v[..])).collect();
        store.put_meta(&refs).expect("written");
    }
    let grown = resident().saturating_sub(before);
    // Read back, each is what was written.
    let value = store
        .meta("test-bucket.004321")
        .expect("reads")
        .expect("held");
    assert_eq!(value.len(), 20_000);
    assert_eq!(value[1000], (1000u32.wrapping_mul(4321 + 7) >> 3) as u8);
    println!("grown by {grown}");
}
