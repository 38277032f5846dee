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
                event,
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
