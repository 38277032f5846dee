//! The ledger's own tests: batches, staging, and snapshots saved and loaded.

use super::*;
use crate::codec::{self, RecordHeader};
use crate::event::Event;
use crate::input::InputError;
use crate::json::parse_event;

fn statement(i: u64) -> Event {
    parse_event(&format!(
        r#"{{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"}},"quote":"statement {i} with enough words to look like a quote from a real report","source":{{"publisher":"AFP"}}}}"#
    ))
    .expect("parses")
}

/// A new ledger of `engine` at `dir/l`, and its path.
fn on_disk(dir: &tempfile::TempDir, engine: crate::store::Engine) -> (std::path::PathBuf, Ledger) {
    let path = dir.path().join("l");
    let opts = OpenOptions {
        create: true,
        engine,
        ..OpenOptions::default()
    };
    let l = Ledger::open(&path, &opts).expect("open");
    (path, l)
}

#[test]
fn blocks_past_the_head_are_ignored_then_discarded() {
    let mut l = Ledger::in_memory();
    l.append_batch((0..30).map(|i| Ok(statement(i))))
        .expect("batch");
    let head = l.head().expect("head");
    // An interrupted batch: a block staged past the head, never committed.
    let mut block = Vec::new();
    let payload = codec::encode_event(&statement(99)).expect("encode");
    let h = RecordHeader::v1(31, 0, head.hash, payload.len() as u32);
    codec::write_record(&h, &payload, &mut block);
    l.store
        .stage(&[(31, &codec::seal_block(&block))])
        .expect("stage");
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!((r.checked, r.staged), (30, 1));
    assert_eq!(l.iter(1, u64::MAX).expect("iter").count(), 30);
    assert!(matches!(l.get(31), Err(LedgerError::NoSuchSeq { .. })));
    let rec = l.append(statement(100)).expect("append");
    assert_eq!(rec.seq, 31);
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact());
    assert_eq!((r.checked, r.staged), (31, 0));
}

#[test]
fn a_failing_long_batch_leaves_nothing_behind() {
    let mut l = Ledger::in_memory();
    l.append(statement(0)).expect("append");
    let before = l.head().expect("head");
    let n = 20_000u64;
    let events = (0..n).map(|i| {
        if i == n - 1 {
            Err(InputError::new("party", "bad"))
        } else {
            Ok(statement(i))
        }
    });
    let err = l.append_batch(events).expect_err("the last event is bad");
    assert!(matches!(err, LedgerError::Rejected { index: Some(i), .. } if i == n as usize - 1));
    assert_eq!(l.head().expect("head"), before);
    let r = l.verify(None).expect("verify");
    assert_eq!((r.checked, r.staged), (1, 0), "staged blocks were removed");
}

/// The store of a ledger in memory, for its tests' flags.
fn mem(l: &Ledger) -> &MemStore {
    l.store
        .as_any()
        .downcast_ref::<MemStore>()
        .expect("a store in memory")
}

/// A batch stopped by a full disk reports the full disk, not the failed
/// discard of its staged blocks after it (redb refuses every write once one
/// has failed); the next batch discards them.
#[test]
fn a_full_disk_is_what_a_failed_batch_reports() {
    use std::sync::atomic::Ordering;
    let mut l = Ledger::in_memory();
    l.append(statement(0)).expect("append");
    let before = l.head().expect("head");
    mem(&l).full.store(true, Ordering::Relaxed);
    let err = l
        .append_batch((1..20_000).map(|i| Ok(statement(i))))
        .expect_err("the disk is full");
    match &err {
        LedgerError::Store(e) => assert!(e.disk_full(), "{e}"),
        other => panic!("{other}"),
    }
    mem(&l).full.store(false, Ordering::Relaxed);
    assert_eq!(l.head().expect("head"), before);
    assert_eq!(l.append(statement(1)).expect("append").seq, 2);
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!((r.checked, r.staged), (2, 0));
}

#[test]
fn corrections_and_retractions_may_point_into_their_own_batch() {
    let mut l = Ledger::in_memory();
    let retract = |of: u64| {
        parse_event(&format!(
            r#"{{"type":"retraction","of":{of},"reason":"wrong"}}"#
        ))
        .expect("parses")
    };
    let summary = l
        .append_batch([Ok(statement(1)), Ok(retract(1))])
        .expect("retraction of a statement of the same batch");
    assert_eq!(summary.head.size, 2);
    let err = l
        .append_batch([Ok(statement(2)), Ok(retract(2))])
        .expect_err("retracting a retraction");
    assert!(err.to_string().contains("seq 2 is a retraction"), "{err}");
    assert_eq!(l.head().expect("head").size, 2);
}

#[test]
fn recorded_at_never_goes_back() {
    let mut l = Ledger::in_memory();
    l.set_clock(|| 1_795_953_600_000_000);
    let a = l.append(statement(1)).expect("append");
    l.set_clock(|| 1_795_953_500_000_000);
    let b = l.append(statement(2)).expect("append");
    assert_eq!(a.recorded_at, 1_795_953_600_000_000);
    assert_eq!(
        b.recorded_at, 1_795_953_600_000_000,
        "a clock that went back does not reorder transaction time"
    );
}

#[test]
fn a_saved_snapshot_loads_back() {
    let mut l = Ledger::in_memory();
    let line = r#"{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"},"quote":"q","source":{"publisher":"p"}}"#;
    l.append_batch((0..50).map(|_| crate::json::parse_event(line)))
        .expect("batch");
    let snap = l.snapshot_now().expect("snapshot");
    let head = l.head().expect("head");
    let loaded = l
        .load_snapshot(&head)
        .expect("load")
        .expect("a valid snapshot");
    assert_eq!((loaded.seq, loaded.hash), (snap.seq, snap.hash));
}

/// A snapshot built by a ledger with a directory writes its facts out as
/// runs beside the store (a few at a time in the crate's tests), and stores
/// what a ledger in memory, which holds them all, stores of the same
/// records: byte for byte, bound to the chain, checked by `verify`, giving
/// the positions a replay gives; no file of the runs is left.
#[test]
fn a_snapshot_built_in_runs_beside_the_store_is_the_one_built_in_memory() {
    let events: Vec<Event> = (0..300u64)
        .map(|i| {
            let party = ["USA", "RUS", "TUR", "FRA", "EGY"][(i % 5) as usize];
            let subject = ["RUS", "TUR", "USA", "FRA"][(i / 5 % 4) as usize];
            let stance = ["calls-for", "rejects"][(i / 7 % 2) as usize];
            parse_event(&format!(
                r#"{{"type":"statement","said_on":"2021-01-{:02}","party":"{party}","stance":"{stance}","proposition":{{"predicate":"withdrawal","subjects":["{subject}"],"location":"LBY"}},"quote":"statement {i}","source":{{"publisher":"AFP"}}}}"#,
                1 + i % 28
            ))
            .expect("parses")
        })
        .collect();
    let record = |l: &mut Ledger| {
        l.set_clock(|| 1_795_953_600_000_000);
        l.append_batch(events.iter().cloned().map(Ok))
            .expect("batch");
        let snap = l.snapshot_now().expect("snapshot");
        (snap.runs_written(), snap.store())
    };
    let (none, held) = record(&mut Ledger::in_memory());
    assert_eq!(none, 0, "a ledger in memory writes no runs");
    for engine in [crate::store::Engine::Sled, crate::store::Engine::Redb] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, mut l) = on_disk(&dir, engine);
        l.set_cache_key([7; CACHE_KEY_LEN]);
        let (runs, stored) = record(&mut l);
        assert!(runs > 10, "{engine:?}: {runs} runs");
        assert!(
            (&stored.head, &stored.chunks) == (&held.head, &held.chunks),
            "{engine:?}"
        );
        let head = l.head().expect("head");
        assert!(
            l.load_snapshot(&head).expect("load").is_some(),
            "{engine:?}"
        );
        let report = l.verify(None).expect("verify");
        assert!(report.problem.is_none(), "{engine:?}: {:?}", report.problem);
        let all = crate::projection::Query::default();
        assert_eq!(
            l.positions(&all).expect("positions"),
            l.positions_replay(&all).expect("replay"),
            "{engine:?}"
        );
        let left: Vec<_> = std::fs::read_dir(path.join(crate::store::CACHE_DIR))
            .expect("the cache")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{engine:?}: {left:?}");
    }
}

/// A query that would bring the snapshot up to the head builds none where
/// nothing can be written beside the store (here `cache` is a file, as a
/// read-only file system makes every path): it answers from the chain, as
/// it answers where a snapshot is built.
#[test]
fn no_snapshot_is_built_where_none_can_be_saved() {
    let builds = || super::snapshots::BUILDS.with(std::cell::Cell::get);
    let all = crate::projection::Query::default();
    for writable in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, mut l) = on_disk(&dir, crate::store::Engine::Redb);
        l.set_cache_key([7; CACHE_KEY_LEN]);
        l.append_batch((0..SNAPSHOT_EVERY).map(|i| Ok(statement(i))))
            .expect("batch");
        if !writable {
            let cache = path.join(crate::store::CACHE_DIR);
            let _ = std::fs::remove_dir_all(&cache);
            std::fs::write(&cache, b"not a directory").expect("a file");
        }
        let before = builds();
        let positions = l.positions(&all).expect("positions");
        assert_eq!(positions, l.positions_replay(&all).expect("replay"));
        assert_eq!(
            builds() - before,
            usize::from(writable),
            "writable: {writable}"
        );
        assert_eq!(l.snapshot_seq().expect("seq").is_some(), writable);
    }
}

/// A withdrawal without a place, as a release before per-predicate
/// requirements could record it.
fn placeless_withdrawal() -> Event {
    parse_event(
        r#"{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"]},"quote":"q","source":{"publisher":"p"}}"#,
    )
    .expect("parses")
}

#[test]
fn a_predicate_refuses_a_statement_without_what_it_requires() {
    let mut l = Ledger::in_memory();
    let err = l.append(placeless_withdrawal()).expect_err("no location");
    assert!(
        err.to_string()
            .contains("field `proposition.location`: withdrawal needs location"),
        "{err}"
    );
    let presence = parse_event(
        r#"{"type":"statement","said_on":"2021-01-28","party":"RUS","stance":"denies","proposition":{"predicate":"presence","location":"LBY"},"quote":"q","source":{"publisher":"p"}}"#,
    )
    .expect("parses");
    let err = l.append(presence).expect_err("no subject");
    assert!(err.to_string().contains("`proposition.subjects`"), "{err}");
    assert_eq!(l.head().expect("head").size, 0);
}

#[test]
fn a_record_restored_from_an_export_keeps_what_its_release_accepted() {
    // The record as the earlier release sealed it.
    let event = placeless_withdrawal();
    let payload = codec::encode_event(&event).expect("encode");
    let header = RecordHeader::v1(1, 1_000, crate::event::Hash::ZERO, payload.len() as u32);
    let hash = crate::chain::link_hash(&header, &crate::chain::payload_digest(&payload));
    let original = Original {
        seq: 1,
        recorded_at: 1_000,
        prev: crate::event::Hash::ZERO,
        hash,
    };
    let mut l = Ledger::in_memory();
    let summary = l
        .import_batch(
            [Ok(Incoming {
                event: Box::new(event),
                original: Some(original),
            })],
            BatchOptions::default(),
        )
        .expect("a rebuild restores it");
    assert_eq!(summary.head.hash, hash);
    assert!(l.verify(None).expect("verify").is_intact());
}

fn with_qualifier(predicate: &str, qualifier: &str) -> Event {
    parse_event(&format!(
        r#"{{"type":"statement","said_on":"2008-08-20","party":"RUS","stance":"announces","proposition":{{"predicate":"{predicate}","subjects":["RUS"],"location":"GEO","qualifier":"{qualifier}"}},"quote":"q","source":{{"publisher":"p"}}}}"#
    ))
    .expect("parses")
}

#[test]
fn qualifiers_are_controlled_and_their_aliases_make_one_position() {
    let mut l = Ledger::in_memory();
    // Two names of one thing are one qualifier, so one position.
    let a = l
        .append(with_qualifier("withdrawal", "peacekeeping-forces"))
        .expect("an alias");
    // Once the alias is resolved the two are the same statement, which a
    // plain append refuses as a duplicate.
    let dup = l
        .append(with_qualifier("withdrawal", "peacekeepers"))
        .expect_err("the same statement");
    assert!(
        matches!(dup, LedgerError::Duplicate { seq: 1, .. }),
        "{dup}"
    );
    let b = l
        .append_duplicate(with_qualifier("withdrawal", "peacekeepers"))
        .expect("the id");
    for r in [&a, &b] {
        let s = r
            .event
            .as_ref()
            .and_then(Event::statement)
            .expect("statement");
        assert_eq!(s.proposition.qualifier.as_deref(), Some("peacekeepers"));
    }
    let ps = l
        .positions(&crate::projection::Query::default())
        .expect("positions");
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].statements, vec![1, 2]);
    // An unknown one is refused with the close matches.
    let err = l
        .append(with_qualifier("withdrawal", "peacekeeper-forces"))
        .expect_err("unknown");
    let text = err.to_string();
    assert!(text.contains("field `proposition.qualifier`"), "{text}");
    assert!(
        text.contains("close matches: peacekeeping-forces"),
        "{text}"
    );
    // A qualifier of another predicate is not one of this one's.
    let err = l
        .append(with_qualifier("withdrawal", "ambassador"))
        .expect_err("not a qualifier of withdrawal");
    assert!(err.to_string().contains("for withdrawal"), "{err}");
    assert_eq!(l.head().expect("head").size, 2);
}

/// The digest index's meta entries under `prefix`, by key.
fn metas(l: &Ledger, prefix: &str) -> Vec<(String, Vec<u8>)> {
    (0u16..4096)
        .filter_map(|b| {
            let k = format!("{prefix}{b:03x}");
            l.store.meta(&k).expect("meta").map(|v| (k, v))
        })
        .collect()
}

/// The key under `prefix` of the bucket of `d`, as the stored index numbers
/// its buckets.
fn key_of(l: &Ledger, prefix: &str, d: &crate::event::Hash) -> String {
    let cover = l
        .digest_index_cover(&l.head().expect("head"))
        .expect("cover")
        .expect("bound");
    format!("{prefix}{:03x}", digests::bucket_of(d, cover.bits))
}

fn import(l: &mut Ledger, statements: impl IntoIterator<Item = u64>) -> BatchSummary {
    l.import_batch(
        statements.into_iter().map(|i| {
            Ok(Incoming {
                event: Box::new(statement(i)),
                original: None,
            })
        }),
        BatchOptions {
            skip_known: true,
            ..BatchOptions::default()
        },
    )
    .expect("import")
}

/// The digest index as stored: its buckets, recent buckets and headers.
fn stored_index(l: &Ledger) -> Vec<(String, Vec<u8>)> {
    let mut index = metas(l, digests::BUCKET_PREFIX);
    index.extend(metas(l, digests::RECENT_PREFIX));
    for header in [digests::DIGESTS_META, digests::RECENT_META] {
        if let Some(v) = l.store.meta(header).expect("meta") {
            index.push((header.to_string(), v));
        }
    }
    index
}

/// A batch whose digest entries are written out of memory in runs stores the
/// index one that held them all would, and finds, skips and refuses the same
/// statements: into a new ledger (the buckets regrouped), into the recent
/// buckets, merged into buckets of another number, with statements repeated
/// within a batch (one in a run, the other held, or both in runs) and held
/// by the ledger; in memory, and on disk in either engine (the runs in a
/// file, which nothing leaves behind).
#[test]
fn a_batch_written_out_in_runs_stores_and_finds_what_one_held_in_memory_would() {
    let batches: Vec<Vec<u64>> = vec![
        (0..300).chain(0..20).chain(150..160).chain([299]).collect(),
        (300..350).chain(310..315).collect(),
        (290..360).collect(),
        (360..800).chain([5, 799, 400, 360]).collect(),
    ];
    let record = |size: usize, l: &mut Ledger| {
        runs::RUN_SIZE.with(|c| c.set(size));
        l.set_clock(|| 1_795_953_600_000_000);
        let mut seen = Vec::new();
        for batch in &batches {
            let s = import(l, batch.iter().copied());
            seen.push((s.appended, s.skipped, s.skipped_at, stored_index(l)));
        }
        // What an append of a held statement names.
        for i in [0, 299, 320, 700] {
            match l.append(statement(i)) {
                Err(LedgerError::Duplicate { seq, .. }) => seen.push((seq, 0, vec![], vec![])),
                other => panic!("{other:?}"),
            }
        }
        assert!(l.verify(None).expect("verify").is_intact());
        runs::RUN_SIZE.with(|c| c.set(runs::RUN));
        seen
    };
    let held = record(usize::MAX, &mut Ledger::in_memory());
    assert_eq!(held[0].0, 300, "the batch's repeats are skipped");
    assert_eq!(held[0].2, (300..331).collect::<Vec<usize>>());
    for size in [1, 7, 40] {
        assert!(
            record(size, &mut Ledger::in_memory()) == held,
            "runs of {size} stored or found otherwise"
        );
    }
    for engine in [crate::store::Engine::Sled, crate::store::Engine::Redb] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, mut l) = on_disk(&dir, engine);
        assert!(record(7, &mut l) == held, "{engine:?}");
        let cache = path.join(crate::store::CACHE_DIR);
        let left: Vec<_> = std::fs::read_dir(&cache)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
}

/// An index bound to nothing in a large ledger is made again from the chain
/// apart from the batch, through runs, and stored before it: the batch
/// skips and appends what it would with an index made within it, the index
/// is bound after, `verify` finds it whole, and held statements are refused.
#[test]
fn an_index_made_again_apart_from_the_batch_finds_what_one_made_within_it_would() {
    let record = |apart: u64, l: &mut Ledger| {
        runs::RUN_SIZE.with(|c| c.set(7));
        digests::REBUILT_APART_FROM.with(|c| c.set(apart));
        let mut seen = Vec::new();
        assert_eq!(import(l, 0..600).appended, 600);
        // The header spoiled: bound to nothing.
        l.store
            .put_meta(&[(digests::DIGESTS_META, &b"spoiled"[..])])
            .expect("put");
        let head = l.head().expect("head");
        assert!(l.digest_index_cover(&head).expect("cover").is_none());
        // A batch refused: the index made apart from it is stored all the
        // same; one made within it is not.
        let refused = l.append_batch([Ok(statement(900)), Err(InputError::new("party", "bad"))]);
        assert!(refused.is_err());
        let apart_stored = l.digest_index_cover(&head).expect("cover").is_some();
        assert_eq!(apart_stored, apart != Seq::MAX);
        let s = import(l, 550..700);
        seen.push((s.appended, s.skipped, s.skipped_at));
        let head = l.head().expect("head");
        let cover = l.digest_index_cover(&head).expect("cover").expect("bound");
        seen.push((cover.upto(), u64::from(cover.bits), vec![]));
        for i in [0, 599, 650] {
            match l.append(statement(i)) {
                Err(LedgerError::Duplicate { seq, .. }) => seen.push((seq, 0, vec![])),
                other => panic!("{other:?}"),
            }
        }
        let r = l.verify(None).expect("verify");
        assert!(r.is_intact(), "{:?}", r.problem);
        runs::RUN_SIZE.with(|c| c.set(runs::RUN));
        digests::REBUILT_APART_FROM.with(|c| c.set(Seq::MAX));
        seen
    };
    let within = record(Seq::MAX, &mut Ledger::in_memory());
    assert_eq!(within[0].0, 100, "{within:?}");
    assert_eq!(record(100, &mut Ledger::in_memory()), within);
    for engine in [crate::store::Engine::Sled, crate::store::Engine::Redb] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (_, mut l) = on_disk(&dir, engine);
        assert_eq!(record(100, &mut l), within, "{engine:?}");
    }
}

/// An index made again apart from a batch that fails halfway is bound to
/// nothing, though its header bound nothing only for want of bucket 0, which
/// the first slice writes: the next batch makes it again.
#[test]
fn an_index_made_again_halfway_is_bound_to_nothing() {
    use std::sync::atomic::Ordering;
    let mut l = Ledger::in_memory();
    assert_eq!(import(&mut l, 0..600).appended, 600);
    let head = l.head().expect("head");
    assert_eq!(
        l.digest_index_cover(&head).expect("cover").map(|c| c.bits),
        Some(10)
    );
    l.store
        .forget_meta(&format!("{}000", digests::BUCKET_PREFIX))
        .expect("forget");
    assert_eq!(l.digest_index_cover(&head).expect("cover"), None);
    digests::REBUILT_APART_FROM.with(|c| c.set(100));
    // The headers emptied, one slice, then a failure.
    mem(&l).puts_before_failing.store(3, Ordering::Relaxed);
    let err = l.append(statement(1000)).expect_err("the rebuild fails");
    assert!(err.to_string().contains("as asked"), "{err}");
    assert_eq!(l.digest_index_cover(&head).expect("cover"), None);
    let again = import(&mut l, 0..650);
    assert_eq!((again.appended, again.skipped), (50, 600));
    assert!(l.verify(None).expect("verify").is_intact());
    digests::REBUILT_APART_FROM.with(|c| c.set(Seq::MAX));
}

/// Buckets written ahead of a commit that never came (sled is given them
/// ahead, their headers unbound first) are not believed: the ledger is as
/// it was, `verify` finds it intact, its held statements are still found
/// and refused, and the next batch writes the index again.
#[test]
fn buckets_written_ahead_of_a_failed_commit_are_not_believed() {
    use std::sync::atomic::Ordering;
    let mut l = Ledger::in_memory();
    assert_eq!(import(&mut l, 0..300).appended, 300);
    assert_eq!(import(&mut l, 300..340).appended, 40);
    let before = l.head().expect("head");
    let cover = l.digest_index_cover(&before).expect("cover");
    assert_eq!(cover.map(|c| (c.base, c.recent)), Some((300, Some(340))));
    let index = stored_index(&l);
    // Into the recent buckets, then merged into the buckets (of the same
    // number: buckets parted among more are not written ahead).
    for batch in [340..380, 340..500] {
        mem(&l).ahead_then_fail.store(true, Ordering::Relaxed);
        let err = l
            .import_batch(
                batch.clone().map(|i| {
                    Ok(Incoming {
                        event: Box::new(statement(i)),
                        original: None,
                    })
                }),
                BatchOptions::default(),
            )
            .expect_err("the commit fails");
        assert!(err.to_string().contains("as asked"), "{err}");
        mem(&l).ahead_then_fail.store(false, Ordering::Relaxed);
        // The recent buckets, written ahead, bound to nothing; then the
        // buckets, bound to nothing either.
        let cover = l.digest_index_cover(&before).expect("cover");
        match batch.end {
            380 => assert_eq!(cover.map(|c| (c.base, c.recent)), Some((300, None))),
            _ => assert_eq!(cover, None),
        }
    }
    assert_eq!(l.head().expect("head"), before);
    assert_ne!(stored_index(&l), index, "buckets were written ahead");
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    for (i, seq) in [(0, 1), (299, 300), (330, 331)] {
        match l.append(statement(i)) {
            Err(LedgerError::Duplicate { seq: s, .. }) => assert_eq!(s, seq),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(import(&mut l, 250..400).appended, 60);
    let head = l.head().expect("head");
    assert!(l.digest_index_cover(&head).expect("cover").is_some());
    assert!(l.verify(None).expect("verify").is_intact());
}

/// A batch's digest entries go to the recent buckets, which leave the
/// buckets as they were, until they hold more records than an eighth of the
/// ledger (at least 100 in tests): a commit then merges them into the
/// buckets. Held statements are found wherever their entries are, and
/// `verify` compares both with the chain.
#[test]
fn a_batch_writes_the_recent_buckets_until_they_are_merged() {
    use crate::chain::Problem;
    let mut l = Ledger::in_memory();
    assert_eq!(import(&mut l, 0..300).appended, 300);
    let buckets = metas(&l, digests::BUCKET_PREFIX);
    assert!(!buckets.is_empty());
    assert!(metas(&l, digests::RECENT_PREFIX).is_empty());

    // 50 more: the recent buckets, the buckets untouched.
    assert_eq!(import(&mut l, 300..350).appended, 50);
    assert_eq!(metas(&l, digests::BUCKET_PREFIX), buckets);
    let recent = metas(&l, digests::RECENT_PREFIX);
    let entries: usize = recent.iter().map(|(_, v)| v.len() / 16).sum();
    assert_eq!(entries, 50, "the batch's entries, and only them");
    let cover = l
        .digest_index_cover(&l.head().expect("head"))
        .expect("cover")
        .expect("bound");
    assert_eq!((cover.base, cover.recent), (300, Some(350)));
    // Held wherever their entries are: skipped by an import, refused by
    // an append.
    let again = import(&mut l, 290..360);
    assert_eq!((again.appended, again.skipped), (10, 60));
    for (i, seq) in [(5, 6), (320, 321), (355, 356)] {
        match l.append(statement(i)) {
            Err(LedgerError::Duplicate { seq: s, .. }) => assert_eq!(s, seq),
            other => panic!("{other:?}"),
        }
    }
    assert!(l.verify(None).expect("verify").is_intact());

    // An entry dropped from a recent bucket: verify names its seq, and the
    // duplicate it no longer finds goes in.
    let held = l.get(321).expect("seq 321").digest;
    let key = key_of(&l, digests::RECENT_PREFIX, &held);
    let bucket = l.store.meta(&key).expect("meta").expect("bucket");
    let kept: Vec<u8> = bucket
        .chunks_exact(16)
        .filter(|e| e[..8] != held.0[..8])
        .flatten()
        .copied()
        .collect();
    l.store.put_meta(&[(&key, &kept)]).expect("put");
    match l.verify(None).expect("verify").problem {
        Some(Problem::DigestIndexMismatch { seq, .. }) => assert_eq!(seq, 321),
        other => panic!("{other:?}"),
    }
    l.store.put_meta(&[(&key, &bucket)]).expect("put");
    assert!(l.verify(None).expect("verify").is_intact());

    // An entry moved to the other kind of bucket adds up the same, but a
    // batch would drop it as damage: verify names it.
    let base_key = key.replace(digests::RECENT_PREFIX, digests::BUCKET_PREFIX);
    let base = l.store.meta(&base_key).expect("meta").unwrap_or_default();
    let moved: Vec<u8> = bucket
        .chunks_exact(16)
        .filter(|e| e[..8] == held.0[..8])
        .flatten()
        .copied()
        .collect();
    l.store
        .put_meta(&[(&key, &kept), (&base_key, &[base.clone(), moved].concat())])
        .expect("put");
    match l.verify(None).expect("verify").problem {
        Some(Problem::DigestIndexMismatch { seq, detail }) => {
            assert_eq!(seq, 321, "{detail}");
            assert!(detail.contains("outside the seqs 1..=300"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    l.store
        .put_meta(&[(&key, &bucket), (&base_key, &base)])
        .expect("put");
    assert!(l.verify(None).expect("verify").is_intact());

    // Past 100 records since the buckets' own: merged into them.
    assert_eq!(import(&mut l, 400..460).appended, 60);
    let cover = l
        .digest_index_cover(&l.head().expect("head"))
        .expect("cover")
        .expect("bound");
    assert_eq!((cover.base, cover.recent), (420, None));
    assert!(metas(&l, digests::RECENT_PREFIX).is_empty());
    let entries: usize = metas(&l, digests::BUCKET_PREFIX)
        .iter()
        .map(|(_, v)| v.len() / 16)
        .sum();
    assert_eq!(entries, 420);
    assert!(matches!(
        l.append(statement(320)),
        Err(LedgerError::Duplicate { seq: 321, .. })
    ));
    assert!(l.verify(None).expect("verify").is_intact());
}

/// Recent buckets their header does not bind (the header spoiled, or the
/// buckets written again by a release that knows nothing of them) are not
/// believed: the records past the buckets are read from the chain, and the
/// next recent buckets written leave none of the old ones behind.
#[test]
fn recent_buckets_no_header_binds_are_not_believed() {
    let mut l = Ledger::in_memory();
    import(&mut l, 0..300);
    import(&mut l, 300..350);
    // A stray entry for statement 1000's digest, naming seq 340, in a recent
    // bucket, and the recent header spoiled.
    let scratch = {
        let mut s = Ledger::in_memory();
        s.append(statement(1000)).expect("append").digest
    };
    let key = key_of(&l, digests::RECENT_PREFIX, &scratch);
    let mut bucket = l.store.meta(&key).expect("meta").unwrap_or_default();
    bucket.extend_from_slice(&scratch.0[..8]);
    bucket.extend_from_slice(&340u64.to_le_bytes());
    l.store.put_meta(&[(&key, &bucket)]).expect("put");
    let header = l
        .store
        .meta(digests::RECENT_META)
        .expect("meta")
        .expect("header");
    // (A prefix of every recent key: the header is spoiled, not removed.)
    l.store
        .put_meta(&[(digests::RECENT_META, &[][..])])
        .expect("put");
    let head = l.head().expect("head");
    let cover = l.digest_index_cover(&head).expect("cover").expect("bound");
    assert_eq!((cover.base, cover.recent), (300, None));
    assert!(l.verify(None).expect("verify").is_intact());
    // Held statements past the buckets are still found, from the chain.
    assert!(matches!(
        l.append(statement(320)),
        Err(LedgerError::Duplicate { seq: 321, .. })
    ));
    // What the recent buckets cover with `h` as their header.
    let recent_with = |l: &Ledger, h: &[u8]| {
        l.store.put_meta(&[(digests::RECENT_META, h)]).expect("put");
        l.digest_index_cover(&head)
            .expect("cover")
            .map(|c| c.recent)
    };
    // A header naming another chain's hash binds nothing either.
    let mut forged = header.clone();
    forged[16] ^= 1;
    assert_eq!(recent_with(&l, &forged), Some(None));
    // Nor does one that follows other buckets than these (a release that
    // knows nothing of the recent buckets wrote the buckets again).
    let mut other = header.clone();
    other[..8].copy_from_slice(&299u64.to_le_bytes());
    assert_eq!(recent_with(&l, &other), Some(None));
    assert_eq!(
        recent_with(&l, &header),
        Some(Some(350)),
        "the header as written binds them"
    );
    recent_with(&l, &forged);
    // The next recent buckets: the stray entry is gone with the old ones.
    assert_eq!(import(&mut l, 350..390).appended, 40);
    let cover = l
        .digest_index_cover(&l.head().expect("head"))
        .expect("cover")
        .expect("bound");
    assert_eq!((cover.base, cover.recent), (300, Some(390)));
    let entries: usize = metas(&l, digests::RECENT_PREFIX)
        .iter()
        .map(|(_, v)| v.len() / 16)
        .sum();
    assert_eq!(entries, 90);
    assert!(l.verify(None).expect("verify").is_intact());
    let fresh = l.append(statement(1000)).expect("not held");
    assert_eq!(fresh.seq, 391);
}

/// The stored buckets of `l`, numbered by `bits` bits: each entry in its
/// digest's bucket, each bucket in seq order, none past the buckets of that
/// number, and between them the entries the chain makes up to the seq they
/// cover.
fn check_buckets(l: &Ledger, bits: u8) {
    let cover = l
        .digest_index_cover(&l.head().expect("head"))
        .expect("cover")
        .expect("bound");
    assert_eq!(cover.bits, bits);
    let header = l.store.meta(digests::DIGESTS_META).expect("meta");
    assert_eq!(
        header.expect("header").len(),
        if bits == 12 { 40 } else { 41 },
        "12 bits go unnamed, as before"
    );
    if bits < 12 {
        let first = format!("{}000", digests::BUCKET_PREFIX);
        assert!(l.store.meta(&first).expect("meta").is_some(), "{first}");
    }
    let mut held = Vec::new();
    for (key, bucket) in metas(l, digests::BUCKET_PREFIX) {
        let b = u16::from_str_radix(&key[digests::BUCKET_PREFIX.len()..], 16).expect("hex");
        assert!(b < 1 << bits, "{key} is past the buckets of {bits} bits");
        let seqs: Vec<u64> = bucket
            .chunks_exact(16)
            .map(|e| {
                assert_eq!(digests::number_of(e, bits), b, "an entry of {key}");
                held.push(e.to_vec());
                u64::from_le_bytes(e[8..].try_into().expect("8 bytes"))
            })
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{key}: {seqs:?}");
    }
    let mut made: Vec<Vec<u8>> = (1..=cover.base)
        .map(|seq| digests::entry_item(&l.get(seq).expect("get").digest, seq).to_vec())
        .collect();
    held.sort();
    made.sort();
    assert_eq!(held.len(), made.len());
    assert!(held == made, "the stored entries are the chain's");
}

/// The buckets are written again, regrouped, when the ledger's size calls
/// for more of them (in tests, one a record from 256 up to 4,096): what is
/// held is found wherever it went, and `verify` finds them whole.
#[test]
fn the_buckets_grow_in_number_with_the_ledger() {
    let mut l = Ledger::in_memory();
    assert_eq!(import(&mut l, 0..300).appended, 300);
    check_buckets(&l, 9);
    // 400 more: past the recent buckets' 100, merged, into 1,024 buckets.
    assert_eq!(import(&mut l, 300..700).appended, 400);
    check_buckets(&l, 10);
    assert!(metas(&l, digests::RECENT_PREFIX).is_empty());
    // Then 4,096, under a header that names none.
    assert_eq!(import(&mut l, 700..2_100).appended, 1_400);
    check_buckets(&l, 12);
    for (i, seq) in [(5, 6), (650, 651), (2_000, 2_001)] {
        match l.append(statement(i)) {
            Err(LedgerError::Duplicate { seq: s, .. }) => assert_eq!(s, seq),
            other => panic!("{other:?}"),
        }
    }
    let again = import(&mut l, 0..2_100);
    assert_eq!((again.appended, again.skipped), (0, 2_100));
    assert!(l.verify(None).expect("verify").is_intact());
}

/// An index of 4,096 buckets under a header of 40 bytes (as every release
/// before the number was named wrote it, whatever the ledger's size) is
/// believed as it is; its recent buckets are numbered as its buckets; the
/// commit that merges them writes as many buckets as the ledger calls for,
/// over the old ones, and removes those past them.
#[test]
fn an_index_of_4096_buckets_unnamed_is_read_then_regrouped() {
    let mut l = Ledger::in_memory();
    import(&mut l, 0..300);
    let head = l.head().expect("head");
    l.store.forget_meta(digests::BUCKET_PREFIX).expect("forget");
    let mut old: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for seq in 1..=head.size {
        let d = l.get(seq).expect("get").digest;
        old.entry(format!(
            "{}{:03x}",
            digests::BUCKET_PREFIX,
            digests::bucket_of(&d, 12)
        ))
        .or_default()
        .extend_from_slice(&digests::entry_item(&d, seq));
    }
    let header = [&head.size.to_le_bytes()[..], &head.hash.0].concat();
    let mut entries: Vec<(&str, &[u8])> = vec![(digests::DIGESTS_META, &header)];
    entries.extend(old.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
    l.store.put_meta(&entries).expect("put");
    check_buckets(&l, 12);
    assert!(l.verify(None).expect("verify").is_intact());
    assert!(matches!(
        l.append(statement(5)),
        Err(LedgerError::Duplicate { seq: 6, .. })
    ));

    // A batch's entries go to recent buckets of the same number.
    import(&mut l, 300..350);
    let cover = l
        .digest_index_cover(&l.head().expect("head"))
        .expect("cover")
        .expect("bound");
    assert_eq!((cover.base, cover.recent, cover.bits), (300, Some(350), 12));
    for (key, bucket) in metas(&l, digests::RECENT_PREFIX) {
        let b = u16::from_str_radix(&key[digests::RECENT_PREFIX.len()..], 16).expect("hex");
        assert!(bucket
            .chunks_exact(16)
            .all(|e| digests::number_of(e, 12) == b));
    }
    assert!(l.verify(None).expect("verify").is_intact());

    // Five appends, too few for the index to be written: their entries
    // wait, read from the chain by the next batch. And one old bucket cut
    // short by a byte: damage, made again from the chain.
    for i in 350..355 {
        l.append(statement(i)).expect("append");
    }
    let cut = l.get(7).expect("seq 7").digest;
    let key = format!(
        "{}{:03x}",
        digests::BUCKET_PREFIX,
        digests::bucket_of(&cut, 12)
    );
    let mut bucket = l.store.meta(&key).expect("meta").expect("bucket");
    bucket.pop();
    l.store.put_meta(&[(&key, &bucket)]).expect("put");
    assert!(!l.verify(None).expect("verify").is_intact());

    // Merged: 1,024 buckets, with the waiting entries and the mended
    // bucket's, and the keys past them gone.
    import(&mut l, 355..600);
    check_buckets(&l, 10);
    assert!(metas(&l, digests::RECENT_PREFIX).is_empty());
    for (i, seq) in [(5, 6), (6, 7), (320, 321), (352, 353), (500, 501)] {
        match l.append(statement(i)) {
            Err(LedgerError::Duplicate { seq: s, .. }) => assert_eq!(s, seq),
            other => panic!("{other:?}"),
        }
    }
    assert!(l.verify(None).expect("verify").is_intact());
    // A key past the buckets (one a lost removal would leave), holding an
    // entry the chain does not make: `verify` reads only the buckets the
    // header numbers.
    let stray = format!("{}fff", digests::BUCKET_PREFIX);
    let entry = digests::entry_item(&l.get(4).expect("seq 4").digest, 9);
    l.store.put_meta(&[(&stray, &entry)]).expect("put");
    assert!(l.verify(None).expect("verify").is_intact());
}

/// A stored bucket read again for a digest that its filter may hold is held
/// from then on (within a bound): a batch of statements the ledger holds,
/// several to a bucket, reads each bucket at most twice, not once for each
/// statement.
#[test]
fn a_batch_of_held_statements_reads_each_stored_bucket_at_most_twice() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let reads = std::sync::Arc::new(AtomicUsize::new(0));
    let mut l = Ledger::with_store(Box::new(crate::store::MemStore::counting_reads(
        reads.clone(),
    )));
    import(&mut l, 0..2_000);
    // Written again as 256 buckets, about 8 statements each.
    let head = l.head().expect("head");
    l.store.forget_meta(digests::BUCKET_PREFIX).expect("forget");
    let mut buckets = vec![Vec::new(); 256];
    for seq in 1..=head.size {
        let d = l.get(seq).expect("get").digest;
        buckets[usize::from(digests::bucket_of(&d, 8))]
            .extend_from_slice(&digests::entry_item(&d, seq));
    }
    let keys: Vec<String> = (0..256)
        .map(|b| format!("{}{b:03x}", digests::BUCKET_PREFIX))
        .collect();
    let header = [&head.size.to_le_bytes()[..], &head.hash.0, &[8]].concat();
    let mut entries: Vec<(&str, &[u8])> = vec![(digests::DIGESTS_META, &header)];
    entries.extend(
        keys.iter()
            .map(String::as_str)
            .zip(buckets.iter().map(Vec::as_slice)),
    );
    l.store.put_meta(&entries).expect("put");
    check_buckets(&l, 8);
    reads.store(0, Ordering::Relaxed);
    let again = import(&mut l, 0..2_000);
    assert_eq!((again.appended, again.skipped), (0, 2_000));
    let n = reads.load(Ordering::Relaxed);
    assert!(n <= 2 * 256 + 16, "{n} derived values read");
}

/// A header that names the bits binds only while bucket 0 is stored, which
/// every commit that writes one stores, empty if need be: a release that
/// knows only headers of 40 bytes removes every bucket of such an index
/// before it writes its own, and were its commit lost, the header left
/// would otherwise vouch for buckets that are gone.
#[test]
fn a_header_naming_the_bits_binds_only_beside_bucket_0() {
    let mut l = Ledger::in_memory();
    // One event, whose digest is not in bucket 0: bucket 0 stored empty
    // (256 buckets in tests, for a ledger this small).
    let first = l.append(statement(0)).expect("append");
    assert_ne!(digests::bucket_of(&first.digest, 8), 0);
    check_buckets(&l, 8);
    let zero = format!("{}000", digests::BUCKET_PREFIX);
    assert_eq!(l.store.meta(&zero).expect("meta"), Some(Vec::new()));
    import(&mut l, 1..300);
    check_buckets(&l, 9);
    // Every bucket gone, the header left: not believed, and made again.
    l.store.forget_meta(digests::BUCKET_PREFIX).expect("forget");
    let head = l.head().expect("head");
    assert_eq!(l.digest_index_cover(&head).expect("cover"), None);
    assert!(matches!(
        l.append(statement(5)),
        Err(LedgerError::Duplicate { seq: 6, .. })
    ));
    let again = import(&mut l, 0..310);
    assert_eq!((again.appended, again.skipped), (10, 300));
    check_buckets(&l, 9);
    assert!(l.verify(None).expect("verify").is_intact());
}

/// A header naming a number of buckets no release writes, or of another
/// length, binds nothing: the index is made again from the chain.
#[test]
fn a_header_naming_buckets_no_release_writes_binds_nothing() {
    let mut l = Ledger::in_memory();
    import(&mut l, 0..300);
    let head = l.head().expect("head");
    let good = l
        .store
        .meta(digests::DIGESTS_META)
        .expect("meta")
        .expect("header");
    assert_eq!(good[40], 9);
    for bits in [0u8, 7, 13, 16, 200] {
        let mut bad = good.clone();
        bad[40] = bits;
        l.store
            .put_meta(&[(digests::DIGESTS_META, &bad)])
            .expect("put");
        assert_eq!(l.digest_index_cover(&head).expect("cover"), None, "{bits}");
    }
    let longer = [&good[..], &[9]].concat();
    l.store
        .put_meta(&[(digests::DIGESTS_META, &longer)])
        .expect("put");
    assert_eq!(l.digest_index_cover(&head).expect("cover"), None);
    // Made again by the next batch, and held statements still refused.
    assert!(matches!(
        l.append(statement(5)),
        Err(LedgerError::Duplicate { seq: 6, .. })
    ));
    assert_eq!(import(&mut l, 300..301).appended, 1);
    check_buckets(&l, 9);
    assert!(l.verify(None).expect("verify").is_intact());
}

#[test]
fn an_actor_of_a_refused_batch_is_unknown_after_it() {
    let mut l = Ledger::in_memory();
    l.append(statement(0)).expect("append");
    let actor = || {
        parse_event(r#"{"type":"actor","id":"XMIL","name":"Some militia","kind":"group"}"#)
            .expect("parses")
    };
    let by_xmil = || {
        parse_event(
            r#"{"type":"statement","said_on":"2021-01-29","party":"Some militia","stance":"denies","proposition":{"predicate":"presence","subjects":["XMIL"],"location":"LBY"},"quote":"we are not there","source":{"publisher":"AFP"}}"#,
        )
        .expect("parses")
    };
    // The militia is defined and named within the batch, which then fails.
    let batch = vec![
        Ok(actor()),
        Ok(by_xmil()),
        Err(InputError::new("party", "bad")),
    ];
    assert!(matches!(
        l.append_batch(batch),
        Err(LedgerError::Rejected { index: Some(2), .. })
    ));
    assert!(l.actors().expect("actors").find("Some militia").is_err());
    assert!(matches!(
        l.append(by_xmil()),
        Err(LedgerError::Rejected { .. })
    ));
    // Defined for good, it is known to the next batch of the same ledger.
    l.append(actor()).expect("the id is free");
    let rec = l.append(by_xmil()).expect("the militia is known");
    assert_eq!(rec.seq, 3);
    assert_eq!(
        l.actors().expect("actors").resolve("Some militia"),
        Ok("XMIL")
    );
}

/// A plain statement checked on its line's strings is refused where the
/// check refuses its event, with the same error, and otherwise stored as the
/// check leaves the event (the line's places, and the names the check
/// rewrites in an owned statement): statements made to meet or miss each
/// condition of the check (actors by id, alias, retired or unknown, joint
/// parties and subjects named twice, the predicate's requirements, qualifiers
/// by id or alias, a day yet to come, text that turns around, a speaker named
/// as an actor, a person or not), each read straight, checked on its line,
/// and checked as an event.
#[test]
fn a_plain_statement_checked_on_its_line_is_the_event_the_check_makes() {
    use crate::json::{PlainLine, PlainLines};
    use serde_json::{json, Value};
    let mut l = Ledger::in_memory();
    let actor = |v: Value| Ok(parse_event(&v.to_string()).expect("parses"));
    l.append_batch([
        actor(
            json!({"type":"actor","id":"XAA","name":"Alphaland","kind":"state","aliases":["Alfa"]}),
        ),
        actor(json!({"type":"actor","id":"OLD","name":"Oldland","kind":"state"})),
        actor(json!({"type":"actor","id":"PRS","name":"Pat Person","kind":"person"})),
        actor(json!({"type":"retraction","of":2,"reason":"added by mistake"})),
        actor(json!({"type":"actor","id":"GONE","name":"Gone Person","kind":"person"})),
        actor(json!({"type":"retraction","of":5,"reason":"added by mistake"})),
    ])
    .expect("actors");
    let head = l.head().expect("head");
    let actors = l.actors().expect("actors").clone();
    let now = 1_767_225_600_000_000; // 2026-01-01
    let mut seed: u64 = 11;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % n
    };
    let (mut as_is, mut changed, mut not, mut straight) = (0, 0, 0, 0);
    for round in 0..6000 {
        // A third of the statements are made of values the check leaves as
        // they are; in the others, each field is spoilt one time in four.
        let spoilt = next(3) != 0;
        let mut pick = |good: &[Value], bad: &[Value]| -> Value {
            match spoilt && next(4) == 0 {
                true => bad[next(bad.len())].clone(),
                false => good[next(good.len())].clone(),
            }
        };
        let lists = (
            [
                json!(["RUS"]),
                json!(["RUS", "TUR"]),
                json!(["XAA", "RUS"]),
                json!(["Alfa"]),
                json!(["RUS", "TUR", "DEU", "ITA", "GBR", "CHN", "EGY", "QAT", "Alfa", "SDN"]),
            ],
            [
                json!(["RUS", "TUR", "DEU", "ITA", "GBR", "CHN", "EGY", "QAT", "ARE", "TUR"]),
                json!([]),
                json!(["RUS", "RUS"]),
                json!(["XAA", "Alfa"]),
                json!(["OLD"]),
                json!(["XAA", "NOPE"]),
                json!(["USA"]),
            ],
        );
        let nothing = Value::Null;
        let mut v = json!({
            "type": "statement",
            "said_on": pick(
                &[json!("2021-01-28"), json!("2025-12-31"), json!("2026-01-01T13:00+14:00")],
                &[json!("2026-01-01T15:00+14:00"), json!("2999-01-01")],
            ),
            "party": pick(
                &[json!("USA"), json!("XAA"), json!("FRA"), json!("Alfa"), json!("usa")],
                &[json!("OLD"), json!("NOPE")],
            ),
            "stance": pick(&[json!("demands"), json!("calls-for")], &[json!("insists"), json!("nope")]),
            "proposition": {
                "predicate": pick(
                    &[json!("withdrawal"), json!("presence"), json!("ceasefire")],
                    &[json!("resolution"), json!("nope")],
                ),
                "subjects": pick(&lists.0, &lists.1),
                "location": pick(&[json!("LBY"), json!("Alfa")], &[nothing.clone(), json!("OLD"), json!("NOPE")]),
                "qualifier": pick(
                    &[nothing.clone(), nothing.clone(), json!("military-personnel"), json!("troops")],
                    &[json!("naval"), json!("nope")],
                ),
                "document": pick(&[nothing.clone(), json!("S/RES/1(2024)")], &[json!("S/RES/\u{2067}1")]),
            },
            "quote": format!("statement {round}"),
            "source": {
                "url": "https://example.org/a",
                "publisher": pick(&[json!("AFP")], &[json!("A\u{202e}FP")]),
                "published_on": pick(&[nothing.clone(), json!("2021-01-29")], std::slice::from_ref(&nothing)),
            },
            "joint_with": pick(&[nothing.clone(), nothing.clone(), json!(["RUS"]), json!(["Alfa"])], &lists.1),
            "speaker": pick(
                &[
                    nothing.clone(),
                    json!({"name": "A Spokesperson"}),
                    json!({"name": "A Minister", "role": "minister"}),
                    json!({"actor": "PRS"}),
                    json!({"name": "Pat", "role": "minister", "actor": "Pat Person"}),
                ],
                &[
                    json!({"name": "A\u{2066}B"}),
                    json!({"name": "Pat", "role": "r\u{202e}", "actor": "PRS"}),
                    json!({"actor": "XAA"}),
                    json!({"actor": "GONE"}),
                ],
            ),
            "hedge": pick(&[nothing.clone(), json!("may")], &[json!("may\u{2069}")]),
        });
        // Fields of event format 2, stored otherwise.
        match next(8) {
            0 => v["quote_kind"] = json!("paraphrase"),
            1 => v["language"] = json!("fr"),
            2 => v["deadline"] = json!("2030-01-01"),
            3 => v["condition"] = json!("if asked"),
            _ => {}
        }
        // A field left null is left out.
        let drop_nulls = |o: &mut Value| {
            if let Value::Object(m) = o {
                m.retain(|_, x| !x.is_null());
            }
        };
        drop_nulls(&mut v["proposition"]);
        drop_nulls(&mut v["source"]);
        drop_nulls(&mut v);
        let line = v.to_string();
        let mut lines = PlainLines::new(line.clone());
        let k = match lines.read(0..line.len()) {
            Some(Ok(k)) => k,
            Some(Err(e)) => panic!("{line}: {e}"),
            None => continue,
        };
        straight += 1;
        let plain = PlainLine::new(std::rc::Rc::new(lines), k);
        let taken = plain.with_statement(|s| {
            Ledger::check_statement(s, "", &actors, false, now, |s| {
                let mut payload = Vec::new();
                codec::encode_statement_into(s, &mut payload).map(|_| payload)
            })
        });
        let mut event = parse_event(&line).expect("valid");
        let before = event.clone();
        let checked = l.check(
            &mut event,
            &mut actors.clone(),
            head.size + 1,
            (head.size, &Default::default()),
            false,
            now,
        );
        assert_eq!(taken.is_ok(), checked.is_ok(), "{line}: {checked:?}");
        if let (Err(on_line), Err(as_event)) = (&taken, &checked) {
            assert_eq!(on_line, as_event, "{line}");
        }
        if let Ok(payload) = taken {
            let payload = payload.expect("encodes");
            assert_eq!(
                payload,
                codec::encode_event(&event).expect("encodes"),
                "{line}"
            );
            as_is += 1;
            changed += usize::from(event != before);
        } else {
            not += 1;
        }
    }
    assert!(
        straight > 5_000 && as_is > 1_500 && changed > 1_200 && as_is - changed > 100 && not > 3_500,
        "{straight} read straight, {as_is} checked on their lines ({changed} of them changed), {not} refused"
    );
}

/// A selection read through the positions snapshot's candidates keeps what
/// a read of every record keeps, with the snapshot cut into many chunks of a
/// few parties each, so that the chunks of parties not asked for go unread:
/// a statement corrected to the party asked for, by a correction in the
/// snapshot or past it, is read whatever party it was recorded with. For
/// every party (and none), as `history` selects (a corrected statement as it
/// stands) and as `timeline` does (statements as recorded, and every
/// correction and retraction).
#[test]
fn a_selection_through_a_snapshot_of_many_chunks_keeps_what_a_full_read_keeps() {
    // (On this test's thread alone.)
    crate::projection::snapshot::CHUNK_MAX.with(|c| c.set(3));
    const PARTIES: [&str; 9] = [
        "ARE", "DEU", "EGY", "FRA", "GBR", "ITA", "RUS", "TUR", "USA",
    ];
    const STANCES: [&str; 4] = ["calls-for", "demands", "denies", "announces"];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut pick = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let say = |pick: &mut dyn FnMut(usize) -> usize| {
        let party = PARTIES[pick(PARTIES.len())];
        let joint = match pick(9) {
            0 => format!(r#","joint_with":["{}"]"#, PARTIES[pick(PARTIES.len())]),
            _ => String::new(),
        };
        let joint = if joint.contains(&format!("\"{party}\"")) {
            String::new()
        } else {
            joint
        };
        format!(
            r#"{{"said_on":"2023-{:02}-{:02}","party":"{party}"{joint},"stance":"{}","proposition":{{"predicate":"withdrawal","subjects":["{}"],"location":"NER"}},"quote":"q","source":{{"publisher":"p"}}}}"#,
            1 + pick(12),
            1 + pick(28),
            STANCES[pick(STANCES.len())],
            PARTIES[pick(PARTIES.len())],
        )
    };
    let mut l = Ledger::in_memory();
    let statements: Vec<String> = (0..300).map(|_| say(&mut pick)).collect();
    l.append_batch(
        statements
            .iter()
            .map(|s| parse_event(&s.replacen('{', r#"{"type":"statement","#, 1))),
    )
    .expect("batch");
    let amend = |l: &mut Ledger, pick: &mut dyn FnMut(usize) -> usize, n: usize| {
        let size = l.head().expect("head").size;
        let events: Vec<_> = (0..n)
            .map(|i| {
                let of = 1 + pick(300) as u64;
                let line = match i % 4 {
                    3 => format!(r#"{{"type":"retraction","of":{of},"reason":"r"}}"#),
                    _ => format!(
                        r#"{{"type":"correction","of":{of},"reason":"r","statement":{}}}"#,
                        say(pick)
                    ),
                };
                parse_event(&line)
            })
            .collect();
        for e in events {
            // An amendment of a retracted statement is refused.
            let _ = l.append_batch([e]);
        }
        assert!(l.head().expect("head").size > size);
    };
    amend(&mut l, &mut pick, 40);
    let snap = l.snapshot_now().expect("snapshot");
    l.append_batch(
        (0..20).map(|_| parse_event(&say(&mut pick).replacen('{', r#"{"type":"statement","#, 1))),
    )
    .expect("tail");
    amend(&mut l, &mut pick, 20);
    assert!(snap.seq < l.head().expect("head").size);
    let am = l.amendments_now().expect("amendments");
    assert!(!am.corrected.is_empty() && !am.retracted.is_empty());
    let read = |party: Option<&str>, history: bool, how: u8| {
        let ps = party.map(|p| vec![p.to_string()]);
        let of =
            |mut xs: Box<dyn Iterator<Item = &str> + '_>| party.is_none_or(|p| xs.any(|x| x == p));
        let might_keep = |seq: Seq, f: &crate::event::StatementFields<'_>| {
            (history && am.corrected.contains_key(&seq)) || of(Box::new(f.parties()))
        };
        let keep = |seq: Seq, _: i64, e: Option<&Event>| match e {
            Some(Event::Statement(s)) => {
                let s = match history {
                    true => am.corrected.get(&seq).map_or(s, |(_, c)| c),
                    false => s,
                };
                of(Box::new(s.parties().map(String::as_str)))
            }
            Some(Event::Correction(_) | Event::Retraction(_)) => !history,
            _ => false,
        };
        let mut got = Vec::new();
        let sink = |r: crate::event::Recorded| {
            got.push(r.seq);
            Ok(true)
        };
        match how {
            0 => l.each_kept_by_statement(1, might_keep, keep, sink),
            1 => l.each_kept_by_selection(1, ps.as_deref(), might_keep, keep, sink),
            _ => {
                let c = l
                    .statement_candidates(1, ps.as_deref(), might_keep)
                    .expect("candidates")
                    .expect("a snapshot");
                l.each_kept_among(&c, 1, might_keep, keep, sink)
            }
        }
        .expect("read");
        got
    };
    let mut corrected_in = 0;
    let pieces = [512, 1, 2, 7].into_iter().cycle();
    for (party, piece) in PARTIES.iter().map(Some).chain([None]).zip(pieces) {
        // Candidates read in pieces of one, two, seven, side by side.
        super::read::PIECE_MAX.with(|c| c.set(piece));
        for history in [true, false] {
            let want = read(party.copied(), history, 0);
            assert_eq!(
                read(party.copied(), history, 1),
                want,
                "{party:?} {history}"
            );
            assert_eq!(
                read(party.copied(), history, 2),
                want,
                "{party:?} {history}"
            );
            // Kept as corrected to this party, recorded as another's.
            corrected_in += want
                .iter()
                .filter(|s| {
                    let recorded = l.get(**s).expect("get");
                    let Some(Event::Statement(r)) = recorded.event else {
                        return false;
                    };
                    history && party.is_some_and(|p| !r.parties().any(|x| x == p))
                })
                .count();
        }
    }
    // A selection of every statement: too many to read one by one, found
    // out before every chunk is read.
    let every = |_: Seq, _: &crate::event::StatementFields<'_>| true;
    let all = l
        .statement_candidates(1, None, every)
        .expect("read")
        .expect("a snapshot");
    let first = l
        .candidates(1, None, every, true)
        .expect("read")
        .expect("a snapshot");
    assert!(!all.few() && !first.few());
    assert!(
        first.seqs.len() < all.seqs.len() / 2,
        "{} of {}",
        first.seqs.len(),
        all.seqs.len()
    );
    assert!(
        corrected_in > 0,
        "no statement corrected to another party was asked for"
    );
}

/// A damaged record among the candidates stops the read where a read of
/// every record stops, after handing on what the records before it in its
/// block kept: a damaged payload, which only the record's own reader
/// decodes, and a damaged record header, past which no record of the block
/// can be read, in one piece of candidates or at any place in pieces of
/// one to five read side by side.
#[test]
fn a_damaged_candidate_stops_the_read_after_what_its_block_kept_before_it() {
    // (damaged seq, whether its header: else its payload)
    for (damaged, header) in [(3, false), (4, true)] {
        let mut l = Ledger::in_memory();
        l.append_batch((0..30).map(|i| Ok(statement(i))))
            .expect("batch");
        l.snapshot_now().expect("snapshot");
        mem(&l).blocks_mut(|blocks| {
            let (_, stored) = blocks.range_mut(..=damaged).next_back().expect("a block");
            let mut raw = codec::open_block(stored).expect("opens").into_owned();
            let mut at = 0;
            loop {
                let (rec, len) = codec::read_record(&raw[at..]).expect("record");
                if rec.header.seq == damaged {
                    // Its format version, or its payload's first byte: no
                    // format either has.
                    let byte = match header {
                        true => at,
                        false => at + len - rec.body.len(),
                    };
                    raw[byte] = 0xEE;
                    break;
                }
                at += len;
            }
            *stored = codec::seal_block(&raw);
        });
        let keep = |_: Seq, _: i64, e: Option<&Event>| matches!(e, Some(Event::Statement(_)));
        let all = |_: Seq, _: &crate::event::StatementFields<'_>| true;
        let read = |among: bool| {
            let mut got = Vec::new();
            let sink = |r: crate::event::Recorded| {
                got.push(r.seq);
                Ok(true)
            };
            let done = match among {
                false => l.each_kept_by_statement(1, all, keep, sink),
                true => {
                    let c = l
                        .statement_candidates(1, None, all)
                        .expect("candidates")
                        .expect("a snapshot");
                    l.each_kept_among(&c, 1, all, keep, sink)
                }
            };
            (got, done.map_err(|e| e.to_string()))
        };
        let (got, done) = read(false);
        assert_eq!(got, (1..damaged).collect::<Vec<_>>());
        assert!(done.is_err(), "{done:?}");
        for piece in [512, 1, 2, 3, 4, 5] {
            super::read::PIECE_MAX.with(|c| c.set(piece));
            assert_eq!(
                read(true),
                (got.clone(), done.clone()),
                "seq {damaged}, pieces of {piece}"
            );
        }
    }
}

/// A selection few enough to read one by one is found so, also when its
/// statements have several subjects each (one fact, so one find, per
/// subject).
#[test]
fn candidates_of_several_subjects_are_counted_once() {
    let say = |party: &str, i: u64| {
        parse_event(&format!(
            r#"{{"type":"statement","said_on":"2021-01-28","party":"{party}","stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["RUS","TUR","ARE"],"location":"LBY"}},"quote":"q {i}","source":{{"publisher":"AFP"}}}}"#
        ))
    };
    let mut l = Ledger::in_memory();
    // 40 of the United States' among 1,000: one in 25, three facts each.
    l.append_batch((0..1000).map(|i| say(if i % 25 == 0 { "USA" } else { "FRA" }, i)))
        .expect("batch");
    l.snapshot_now().expect("snapshot");
    let usa = |_: Seq, f: &crate::event::StatementFields<'_>| f.party == "USA";
    let parties = ["USA".to_string()];
    let all = l
        .statement_candidates(1, Some(&parties), usa)
        .expect("read")
        .expect("a snapshot");
    assert_eq!(all.seqs.len(), 40);
    let found = l
        .candidates(1, Some(&parties), usa, true)
        .expect("read")
        .expect("a snapshot");
    assert!(found.few(), "{found:?}");
    assert_eq!(found, all);
}
