//! Tampering with the store through sled itself, as an insider with file access
//! could: every way to break the record is caught by `verify`, which names the
//! first bad seq.

use crate::common;

use common::*;
use demarche::chain::Problem;
use demarche::codec::{self, HEADER_LEN};
use demarche::event::Hash;
use demarche::ledger::{Ledger, VerifyReport};
use demarche::store::MemStore;
use proptest::prelude::*;
use std::path::Path;

const SINGLES: u64 = 12;
const BATCH: u64 = 200;
const TOTAL: u64 = SINGLES * 2 + BATCH;

fn fresh() -> (tempfile::TempDir, demarche::event::Head) {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = build(dir.path(), SINGLES, BATCH);
    assert_eq!(head.size, TOTAL);
    (dir, head)
}

fn verify(dir: &Path, expect: Option<(u64, Hash)>) -> VerifyReport {
    open(dir).verify(expect).expect("verify runs")
}

fn problem(dir: &Path) -> Problem {
    let r = verify(dir, None);
    let checked = r.checked;
    r.problem
        .unwrap_or_else(|| panic!("tampering went unnoticed ({checked} events checked)"))
}

fn edit_record(dir: &Path, seq: u64, f: impl FnOnce(&mut [u8])) {
    with_tree(dir, |t| {
        let (key, mut bytes, ranges) = find_block(t, seq);
        let (_, r) = ranges.into_iter().find(|(s, _)| *s == seq).expect("record");
        f(&mut bytes[r]);
        t.insert(key, seal(&bytes)).expect("insert");
    });
}

/// Cuts the record `seq` out of the block that holds it.
fn cut_record(dir: &Path, seq: u64) {
    with_tree(dir, |t| {
        let (key, bytes, ranges) = find_block(t, seq);
        let (_, r) = ranges
            .iter()
            .find(|(s, _)| *s == seq)
            .expect("record")
            .clone();
        let mut cut = bytes[..r.start].to_vec();
        cut.extend_from_slice(&bytes[r.end..]);
        t.insert(key, seal(&cut)).expect("insert");
    });
}

#[test]
fn an_untouched_ledger_verifies() {
    let (dir, head) = fresh();
    let r = verify(dir.path(), Some((head.size, head.hash)));
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.checked, TOTAL);
    assert_eq!(r.computed, head.hash);
}

#[test]
fn one_changed_byte_in_a_single_event_block_names_that_seq() {
    let (dir, _) = fresh();
    edit_record(dir.path(), 5, |r| r[HEADER_LEN + 30] ^= 1);
    let p = problem(dir.path());
    assert_eq!(p.seq(), 5, "{p}");
    assert!(matches!(p, Problem::HashMismatch { .. }), "{p}");
}

#[test]
fn one_changed_byte_inside_a_batch_block_names_that_seq() {
    let (dir, _) = fresh();
    let seq = SINGLES + 77;
    edit_record(dir.path(), seq, |r| {
        let n = r.len();
        r[n - 3] = r[n - 3].wrapping_add(1);
    });
    let p = problem(dir.path());
    assert_eq!(p.seq(), seq, "{p}");
}

#[test]
fn a_changed_last_event_is_caught_by_the_stored_head() {
    let (dir, _) = fresh();
    edit_record(dir.path(), TOTAL, |r| r[HEADER_LEN + 12] ^= 0x20);
    let p = problem(dir.path());
    assert_eq!(p.seq(), TOTAL);
    assert!(
        matches!(&p, Problem::HashMismatch { recorded_in, .. } if recorded_in == "the stored head"),
        "{p}"
    );
}

#[test]
fn a_changed_recorded_at_names_that_seq() {
    let (dir, _) = fresh();
    edit_record(dir.path(), 40, |r| r[12] = r[12].wrapping_add(1));
    assert_eq!(problem(dir.path()).seq(), 40);
}

#[test]
fn a_deleted_event_block_is_caught() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        t.remove(block_key(7)).expect("remove").expect("was there")
    });
    let p = problem(dir.path());
    assert_eq!(p.seq(), 7, "{p}");
    assert!(
        matches!(
            p,
            Problem::OutOfPlace {
                expected: 7,
                found: 8
            }
        ),
        "{p}"
    );
}

#[test]
fn an_event_cut_out_of_a_batch_block_is_caught() {
    let (dir, _) = fresh();
    let seq = SINGLES + 50;
    cut_record(dir.path(), seq);
    assert_eq!(problem(dir.path()).seq(), seq);
}

#[test]
fn two_swapped_event_blocks_are_caught() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        let a = t.get(block_key(3)).expect("get").expect("3");
        let b = t.get(block_key(9)).expect("get").expect("9");
        t.insert(block_key(3), b).expect("insert");
        t.insert(block_key(9), a).expect("insert");
    });
    let p = problem(dir.path());
    assert_eq!(p.seq(), 3, "{p}");
}

#[test]
fn two_swapped_events_inside_a_block_are_caught() {
    let (dir, _) = fresh();
    let seq = SINGLES + 20;
    let first = with_tree(dir.path(), |t| {
        let (key, bytes, ranges) = find_block(t, seq);
        let i = ranges.iter().position(|(s, _)| *s == seq).expect("record");
        let i = i.min(ranges.len() - 2);
        let (a, b) = (ranges[i].1.clone(), ranges[i + 1].1.clone());
        let mut out = bytes[..a.start].to_vec();
        out.extend_from_slice(&bytes[b.clone()]);
        out.extend_from_slice(&bytes[a.clone()]);
        out.extend_from_slice(&bytes[b.end..]);
        t.insert(key, seal(&out)).expect("insert");
        ranges[i].0
    });
    assert_eq!(problem(dir.path()).seq(), first);
}

#[test]
fn a_dropped_tail_is_caught_by_the_stored_head() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        for s in TOTAL - 2..=TOTAL {
            t.remove(block_key(s)).expect("remove").expect("was there");
        }
    });
    let p = problem(dir.path());
    assert!(
        matches!(p, Problem::Truncated { seq, head_size: TOTAL } if seq == TOTAL - 2),
        "{p}"
    );
}

#[test]
fn a_dropped_tail_with_a_rewritten_head_is_caught_only_by_a_saved_head() {
    let (dir, saved) = fresh();
    let kept = TOTAL - 3;
    let kept_hash = open(dir.path()).get(kept).expect("get").hash;
    with_tree(dir.path(), |t| {
        for s in kept + 1..=TOTAL {
            t.remove(block_key(s)).expect("remove");
        }
        let head = demarche::event::Head {
            size: kept,
            hash: kept_hash,
            recorded_at: 1_795_953_600_000_000,
        };
        t.insert(b"h", &codec::encode_head(&head)[..])
            .expect("head");
    });
    assert!(
        verify(dir.path(), None).is_intact(),
        "a consistent shorter chain passes a plain check"
    );
    let p = verify(dir.path(), Some((saved.size, saved.hash)))
        .problem
        .expect("caught against the saved head");
    assert_eq!(p.seq(), kept + 1, "{p}");
    bin()
        .args(["--ledger"])
        .arg(dir.path())
        .args(["verify", "--expect-head", &saved.token()])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(format!(
            "first bad seq {}",
            kept + 1
        )));
}

#[test]
fn a_rewritten_and_rehashed_history_is_caught_by_a_saved_head() {
    let (dir, saved) = fresh();
    let from = 100;
    // Read every event, change the quote of `from`, and write a fresh chain with
    // consistent hashes from there on, as someone rewriting history would.
    let mut events = Vec::new();
    {
        let l = open(dir.path());
        for r in l.iter(1, TOTAL).expect("iter") {
            events.push(r.expect("event"));
        }
    }
    let forged = tempfile::tempdir().expect("tempdir");
    {
        let mut l = open(forged.path());
        let evs = events.iter().map(|r| {
            let mut e = r.event.clone().expect("not redacted");
            if r.seq == from {
                if let demarche::event::Event::Statement(s) = &mut e {
                    s.quote = "a quote nobody said".into();
                }
            }
            Ok(e)
        });
        l.append_batch(evs).expect("forge");
    }
    std::fs::remove_dir_all(dir.path()).expect("remove");
    copy_dir(forged.path(), dir.path());
    assert!(
        verify(dir.path(), None).is_intact(),
        "a rewritten chain is self-consistent"
    );
    let r = verify(dir.path(), Some((saved.size, saved.hash)));
    let p = r.problem.expect("the saved head catches the rewrite");
    assert!(matches!(p, Problem::ExpectedHead { .. }), "{p}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dst = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).expect("copy");
        }
    }
}

#[test]
fn a_block_cut_short_is_reported_as_malformed() {
    let (dir, _) = fresh();
    let seq = SINGLES + 10;
    with_tree(dir.path(), |t| {
        let (key, _, _) = find_block(t, seq);
        let stored = t.get(&key).expect("get").expect("block");
        t.insert(key, &stored[..stored.len() - 10]).expect("insert");
    });
    assert!(matches!(problem(dir.path()), Problem::Malformed { .. }));
}

#[test]
fn a_changed_previous_hash_breaks_the_link_into_that_event() {
    let (dir, _) = fresh();
    edit_record(dir.path(), 150, |r| r[25] ^= 0xff);
    let p = problem(dir.path());
    // The chain is broken between 149 and 150; the stored bytes of 149 no longer
    // hash to what 150 records.
    assert!(matches!(p, Problem::HashMismatch { seq: 149, .. }), "{p}");
}

#[test]
fn a_corrupt_head_fails_the_cli_with_exit_1() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        t.insert(b"h", &b"garbage"[..]).expect("insert")
    });
    bin()
        .arg("--ledger")
        .arg(dir.path())
        .arg("verify")
        .assert()
        .code(1);
}

#[test]
fn the_cli_names_the_first_bad_seq_and_exits_1() {
    let (dir, _) = fresh();
    edit_record(dir.path(), 5, |r| r[HEADER_LEN + 30] ^= 1);
    let out = bin()
        .arg("--ledger")
        .arg(dir.path())
        .args(["verify", "--json"])
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["intact"], false);
    assert_eq!(v["first_bad_seq"], 5);
    assert_eq!(v["problem"]["kind"], "hash-mismatch");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any single changed byte anywhere in the stored blocks fails verification.
    #[test]
    fn any_flipped_byte_fails_verify(pick in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let store = MemStore::default();
        let mut l = Ledger::with_store(Box::new(store));
        l.set_clock(|| 1_795_953_600_000_000);
        for i in 0..3 {
            l.append(statement(i)).expect("append");
        }
        l.append_batch((3..40).map(|i| Ok(statement(i)))).expect("batch");
        l.append(statement(40)).expect("append");
        prop_assert!(l.verify(None).expect("verify").is_intact());
        // Flip one byte of the records (inside their compressed blocks).
        let store: &MemStore = memory(l.store());
        let total: usize = store.blocks_mut(|blocks| {
            blocks.values().map(|b| codec::open_block(b).expect("opens").len()).sum()
        });
        let target = pick.index(total);
        store.blocks_mut(|blocks| {
            let mut at = target;
            for b in blocks.values_mut() {
                let mut records = codec::open_block(b).expect("opens").into_owned();
                if at < records.len() {
                    records[at] ^= mask;
                    *b = codec::seal_block(&records);
                    return;
                }
                at -= records.len();
            }
        });
        let r = l.verify(None).expect("verify");
        prop_assert!(!r.is_intact(), "flipping byte {} went unnoticed", target);
    }
}

fn memory(s: &dyn demarche::store::Store) -> &MemStore {
    s.as_any()
        .downcast_ref::<MemStore>()
        .expect("a memory store")
}

/// Re-seals record `seq` after `edit`, with a hash that matches its new bytes,
/// and appends a forged next record linking to it, in the same block: the chain
/// is self-consistent past the head, which must not pass.
#[test]
fn a_forged_record_past_the_head_is_caught() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        let (key, mut bytes, ranges) = find_block(t, TOTAL);
        let (_, r) = ranges
            .iter()
            .find(|(s, _)| *s == TOTAL)
            .expect("record")
            .clone();
        let (rec, _) = codec::read_record(&bytes[r.clone()]).expect("record");
        let hash = demarche::chain::record_hash(&rec);
        let payload = codec::encode_event(&statement(9999)).expect("encode");
        let header = codec::RecordHeader::v1(
            TOTAL + 1,
            rec.header.recorded_at,
            hash,
            payload.len() as u32,
        );
        codec::write_record(&header, &payload, &mut bytes);
        t.insert(key, seal(&bytes)).expect("insert");
    });
    let p = problem(dir.path());
    assert!(
        matches!(p, Problem::BeyondHead { seq, .. } if seq == TOTAL + 1),
        "{p}"
    );
}

/// Withholds the payload of record `seq` as a redaction would: the flag set
/// and the payload's digest in its place, so the chain still links.
fn withhold(t: &Raw, seq: u64) {
    let (key, bytes, ranges) = find_block(t, seq);
    let mut out = Vec::new();
    for (s, r) in ranges {
        let rec = &bytes[r];
        if s == seq {
            let (raw, _) = codec::read_record(rec).expect("record");
            let digest = demarche::chain::body_digest(&raw);
            let mut redacted = rec[..HEADER_LEN].to_vec();
            redacted[3] = codec::FLAG_REDACTED;
            redacted.extend_from_slice(&digest.0);
            out.extend_from_slice(&redacted);
        } else {
            out.extend_from_slice(rec);
        }
    }
    t.insert(key, seal(&out)).expect("insert");
}

#[test]
fn a_payload_withheld_without_a_recorded_redaction_is_caught() {
    let (dir, _) = fresh();
    let seq = SINGLES + 30;
    with_tree(dir.path(), |t| withhold(t, seq));
    let p = problem(dir.path());
    assert!(
        matches!(p, Problem::UnrecordedRedaction { seq: s } if s == seq),
        "{p}"
    );
}

#[test]
fn a_deleted_head_is_caught_and_the_next_append_deletes_nothing() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        t.remove(b"h").expect("remove").expect("was there")
    });
    let p = problem(dir.path());
    assert!(matches!(p, Problem::BeyondHead { .. }), "{p}");
    bin()
        .arg("--ledger")
        .arg(dir.path())
        .args(["append", "--retract", "1", "--reason", "x"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("tampered"));
    let blocks = with_tree(dir.path(), |t| t.prefix_keys(b"b").len());
    assert!(blocks > 0, "no block was removed");
    assert_eq!(
        with_tree(dir.path(), |t| find_block(t, TOTAL).2.last().map(|r| r.0)),
        Some(TOTAL)
    );
}

/// Sets the stored head back to the event at `seq`, its hash and time.
fn roll_head_back(dir: &Path, seq: u64) {
    let back = open(dir).get(seq).expect("get");
    with_tree(dir, |t| {
        let head = demarche::event::Head {
            size: seq,
            hash: back.hash,
            recorded_at: back.recorded_at,
        };
        t.insert(b"h", &codec::encode_head(&head)[..])
            .expect("head");
    });
}

#[test]
fn a_rolled_back_head_is_caught() {
    let (dir, _) = fresh();
    roll_head_back(dir.path(), SINGLES);
    assert!(matches!(problem(dir.path()), Problem::BeyondHead { .. }));
}

#[test]
fn a_stray_key_among_the_blocks_is_reported_not_a_panic() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| t.insert(b"bz", &b"x"[..]).expect("insert"));
    let p = problem(dir.path());
    assert!(matches!(p, Problem::StrayData { .. }), "{p}");
    bin()
        .arg("--ledger")
        .arg(dir.path())
        .arg("verify")
        .assert()
        .code(1);
    bin()
        .arg("--ledger")
        .arg(dir.path())
        .arg("log")
        .assert()
        .code(1);
}

#[test]
fn an_empty_block_is_caught() {
    let (dir, _) = fresh();
    let seq = SINGLES + 40;
    with_tree(dir.path(), |t| {
        t.insert(block_key(seq), seal(&[])).expect("insert")
    });
    let p = problem(dir.path());
    assert!(
        matches!(
            p,
            Problem::EmptyBlock { .. } | Problem::OutOfPlace { .. } | Problem::KeyMismatch { .. }
        ),
        "{p}"
    );
}

#[test]
fn a_head_time_moved_forward_is_caught() {
    let (dir, head) = fresh();
    with_tree(dir.path(), |t| {
        let h = demarche::event::Head {
            recorded_at: head.recorded_at + 1_000_000_000,
            ..head
        };
        t.insert(b"h", &codec::encode_head(&h)[..]).expect("head");
    });
    assert!(matches!(problem(dir.path()), Problem::HeadTime { .. }));
}

type IndexEntries = Vec<(u64, Vec<u8>)>;

/// The stored actor index, split: the seq it covers and the hash there (40
/// bytes), its MAC, and its entries.
fn actor_index(t: &Raw) -> (Vec<u8>, Vec<u8>, IndexEntries) {
    let bytes = t.get(b"mactor-index").expect("get").expect("index");
    let entries = codec::decode_index(&bytes[72..]).expect("index");
    (
        bytes[..40].to_vec(),
        bytes[40..72].to_vec(),
        entries.into_iter().map(|(s, p, _)| (s, p)).collect(),
    )
}

/// The index stored as the ledger stores it, sealed under `key`.
fn seal_actor_index(bound: &[u8], entries: &[(u64, Vec<u8>)], key: &[u8; 32]) -> Vec<u8> {
    let list = codec::encode_index(entries);
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&("actor-index".len() as u64).to_le_bytes());
    h.update(b"actor-index");
    h.update(bound);
    h.update(&list);
    [bound, &h.finalize().as_bytes()[..], &list].concat()
}

fn militia(dir: &Path, key: [u8; 32]) {
    let mut l = open(dir);
    l.set_cache_key(key);
    for line in [
        r#"{"type":"actor","id":"XMIL","name":"Some militia","kind":"group"}"#,
        r#"{"type":"alias","actor":"XMIL","alias":"the militia"}"#,
    ] {
        l.append(demarche::json::parse_event(line).expect("parses"))
            .expect("append");
    }
}

#[test]
fn an_actor_index_with_an_entry_dropped_is_not_believed() {
    const KEY: [u8; 32] = [5; 32];
    let dir = tempfile::tempdir().expect("tempdir");
    militia(dir.path(), KEY);
    // An insider drops the alias entry, and cannot seal the index again.
    with_tree(dir.path(), |t| {
        let (bound, mac, mut entries) = actor_index(t);
        assert_eq!(entries.len(), 2);
        entries.pop();
        let list = codec::encode_index(&entries);
        t.insert(b"mactor-index", [&bound[..], &mac, &list].concat())
            .expect("insert");
    });
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    // The alias the index left out is still known, from the chain: a
    // contradicting alias is refused, and nothing is appended.
    let err = l
        .append(
            demarche::json::parse_event(r#"{"type":"alias","actor":"UN","alias":"the militia"}"#)
                .expect("parses"),
        )
        .expect_err("contradicts seq 2");
    assert!(
        err.to_string().contains("already resolves to XMIL"),
        "{err}"
    );
    assert_eq!(l.head().expect("head").size, 2);
    assert!(l.verify(None).expect("verify").is_intact());
}

/// An alias record whose payload was withheld (the redaction flag set, the
/// digest kept, so the chain still links), with the actor index gone: the
/// names are rebuilt from the chain, which cannot say what the record
/// defined. Commands that load the actors stop at it (exit 1) instead of
/// accepting a contradicting alias.
#[test]
fn a_withheld_alias_record_stops_the_actor_rebuild() {
    const KEY: [u8; 32] = [5; 32];
    let dir = tempfile::tempdir().expect("tempdir");
    militia(dir.path(), KEY);
    with_tree(dir.path(), |t| {
        withhold(t, 2);
        t.remove(b"mactor-index").expect("remove");
    });
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    let err = l
        .append(
            demarche::json::parse_event(r#"{"type":"alias","actor":"UN","alias":"the militia"}"#)
                .expect("parses"),
        )
        .expect_err("the alias of seq 2 cannot be known");
    assert!(err.to_string().contains("seq 2"), "{err}");
    assert_eq!(l.head().expect("head").size, 2);
    drop(l);
    bin()
        .arg("--ledger")
        .arg(dir.path())
        .args(["actor", "show", "XMIL"])
        .env("DEMARCHE_CACHE_KEY", "")
        .assert()
        .code(1);
    let p = open(dir.path())
        .verify(None)
        .expect("verify")
        .problem
        .expect("damage");
    assert!(matches!(p, Problem::UnrecordedRedaction { seq: 2 }), "{p}");
}

#[test]
fn verify_names_an_actor_index_that_does_not_match_the_chain() {
    const KEY: [u8; 32] = [6; 32];
    let dir = tempfile::tempdir().expect("tempdir");
    militia(dir.path(), KEY);
    // Sealed again under the key (as only its holder could): verify still
    // compares it with the chain.
    with_tree(dir.path(), |t| {
        let (bound, _, mut entries) = actor_index(t);
        let forged = demarche::event::Event::Alias(demarche::event::AliasDef {
            actor: "USA".into(),
            alias: "Moscow".into(),
        });
        entries[1].1 = codec::encode_event(&forged).expect("encode");
        t.insert(b"mactor-index", seal_actor_index(&bound, &entries, &KEY))
            .expect("insert");
    });
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    let r = l.verify(None).expect("verify");
    assert!(
        matches!(r.problem, Some(Problem::ActorIndexMismatch { seq: 2, .. })),
        "{:?}",
        r.problem
    );
    // Commands that load the actors stop instead of believing it.
    let err = l.actors().expect_err("the entry is not the event at seq 2");
    assert!(
        err.to_string().contains("actor index does not match"),
        "{err}"
    );
    // `verify --chain-only` leaves derived data alone.
    assert!(l.verify_chain(None).expect("verify").is_intact());
}

#[test]
fn an_interrupted_batch_is_ignored_then_discarded() {
    use demarche::store::OpenOptions;
    let (dir, head) = fresh();
    {
        let store = demarche::store::open(dir.path(), &OpenOptions::default()).expect("open");
        let payload = codec::encode_event(&statement(5000)).expect("encode");
        let mut records = Vec::new();
        codec::write_record(
            &codec::RecordHeader::v1(TOTAL + 1, head.recorded_at, head.hash, payload.len() as u32),
            &payload,
            &mut records,
        );
        store.stage(&[(TOTAL + 1, &seal(&records))]).expect("stage");
        // The process dies here: no commit.
    }
    let r = verify(dir.path(), None);
    assert!(r.is_intact(), "{:?}", r.problem);
    // Both engines keep the staged block past the head, outside the ledger.
    assert_eq!((r.checked, r.staged), (TOTAL, 1));
    let mut l = open(dir.path());
    assert_eq!(l.append(statement(5001)).expect("append").seq, TOTAL + 1);
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact());
    assert_eq!((r.checked, r.staged), (TOTAL + 1, 0));
    assert_eq!(l.get(TOTAL + 1).expect("get").event, Some(statement(5001)));
}

/// The remains of a long interrupted batch, more blocks than one removal
/// takes at a time, are all discarded, and the in-progress mark with them.
#[test]
fn a_long_interrupted_batch_is_discarded_whole() {
    use demarche::store::OpenOptions;
    let (dir, head) = fresh();
    {
        let store = demarche::store::open(dir.path(), &OpenOptions::default()).expect("open");
        let blocks: Vec<(u64, Vec<u8>)> = (1..=2_500u64)
            .map(|i| (TOTAL + i, seal(format!("staged {i}").as_bytes())))
            .collect();
        for slice in blocks.chunks(500) {
            let refs: Vec<(u64, &[u8])> = slice.iter().map(|(s, b)| (*s, &b[..])).collect();
            store.stage(&refs).expect("stage");
        }
    }
    let store = demarche::store::open(dir.path(), &OpenOptions::default()).expect("open");
    // Both engines keep them until discarded.
    assert!(store.staging().expect("staging"));
    assert_eq!(store.discard_staged(head.size).expect("discard"), 2_500);
    assert!(!store.staging().expect("staging"));
    let past = store
        .blocks_from(TOTAL + 1)
        .filter(|b| b.as_ref().map_or(true, |(k, _)| *k > TOTAL))
        .count();
    assert_eq!(past, 0);
    assert_eq!(store.head().expect("head"), head);
    drop(store);
    assert!(verify(dir.path(), None).is_intact());
}

#[test]
fn a_deleted_actor_index_is_rebuilt_from_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = |c: &mut assert_cmd::Command| {
        c.arg("--ledger").arg(dir.path());
    };
    let mut c = bin();
    ledger(&mut c);
    c.args([
        "actor",
        "add",
        "--id",
        "XMIL",
        "--name",
        "Some militia",
        "--kind",
        "group",
        "--alias",
        "the militia",
    ])
    .assert()
    .success();
    let mut c = bin();
    ledger(&mut c);
    c.args(["append", "--retract", "2", "--reason", "x"])
        .assert()
        .code(2); // seq 2 does not exist
    with_tree(dir.path(), |t| {
        t.remove(b"mactor-index")
            .expect("remove")
            .expect("was there")
    });
    let mut c = bin();
    ledger(&mut c);
    c.args(["actor", "show", "the militia"])
        .assert()
        .success()
        .stdout(predicates::str::contains("XMIL"));
    // Defining it again is still refused: the rebuilt index knows it.
    let mut c = bin();
    ledger(&mut c);
    c.args([
        "actor", "add", "--id", "XMIL", "--name", "again", "--kind", "group",
    ])
    .assert()
    .code(2);
    assert!(
        with_tree(dir.path(), |t| t
            .contains_key(b"mactor-index")
            .expect("read")),
        "the index was written back"
    );
}

#[test]
fn a_forged_merkle_frontier_is_caught_by_verify() {
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| {
        let mut f = t
            .get(b"mmerkle")
            .expect("read")
            .expect("a frontier")
            .to_vec();
        let last = f.len() - 1;
        f[last] ^= 1;
        t.insert(b"mmerkle", f).expect("insert");
    });
    assert!(matches!(problem(dir.path()), Problem::TreeMismatch { .. }));
    // The chain itself is intact, which a chain-only check reports.
    let r = open(dir.path()).verify_chain(None).expect("verify");
    assert!(r.is_intact() && r.tree_root.is_none());
    common::bin()
        .arg("--ledger")
        .arg(dir.path())
        .args(["verify", "--chain-only"])
        .assert()
        .success();
    common::bin()
        .arg("--ledger")
        .arg(dir.path())
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Merkle tree does not match"));
}

#[test]
fn a_damaged_merkle_tile_gives_no_proof_that_verifies() {
    // More than 256 records, so that a tile of level-8 nodes exists.
    let dir = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), 2, 300);
    let tiles: Vec<Vec<u8>> = with_tree(dir.path(), |t| t.prefix_keys(b"mtile/"));
    assert!(!tiles.is_empty());
    with_tree(dir.path(), |t| {
        let mut v = t.get(&tiles[0]).expect("read").expect("tile").to_vec();
        v[0] ^= 1;
        t.insert(&tiles[0], v).expect("insert");
    });
    // The chain is untouched; the stored tree below the frontier is not:
    // verify finds it, and a proof made from it does not check against the
    // chain's own root.
    let l = common::open(dir.path());
    let report = l.verify(None).expect("verify");
    assert!(matches!(report.problem, Some(Problem::TreeMismatch { .. })));
    let root = report.tree_root.expect("the chain itself is intact");
    let size = report.head.size;
    // Record 300's proof holds the damaged node (8, 0) as a sibling.
    let seq = 300;
    let hash = l.get(seq).expect("get").hash;
    let proof = l.inclusion_proof(seq, size).expect("a proof");
    assert!(demarche::merkle::verify_inclusion(
        &demarche::tree::leaf(&hash),
        seq - 1,
        size,
        &proof,
        &root
    )
    .is_err());
    drop(l);
    // The command line checks every proof before it shows it.
    common::bin()
        .arg("--ledger")
        .arg(dir.path())
        .args(["prove", "300"])
        .assert()
        .code(1);
}

/// A ledger whose marker was removed or changed is damage (exit 1), not
/// another program's data (exit 2); a stray key is named without a seq.
#[test]
fn a_damaged_marker_or_a_stray_key_is_an_integrity_failure() {
    for edit in ["remove", "change"] {
        let (dir, _) = fresh();
        with_tree(dir.path(), |t| match edit {
            "remove" => {
                t.remove(b"demarche").expect("remove");
            }
            _ => {
                t.insert(b"demarche", &b"something else"[..])
                    .expect("insert");
            }
        });
        bin()
            .arg("--ledger")
            .arg(dir.path())
            .arg("verify")
            .assert()
            .code(1)
            .stderr(predicates::str::contains("marker is damaged"));
    }
    let (dir, _) = fresh();
    with_tree(dir.path(), |t| t.insert(b"bz", &b"x"[..]).expect("insert"));
    let out = bin()
        .arg("--ledger")
        .arg(dir.path())
        .arg("verify")
        .assert()
        .code(1);
    let text = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
    assert!(!text.contains("seq 0"), "{text}");
    assert!(text.contains("what no ledger does"), "{text}");
}

/// Files damaged under the engine (a truncated sled `db`, a zeroed page of
/// `ledger.redb`): every command ends with exit 1 or 3 and a message, never
/// a panic's backtrace.
#[test]
fn damaged_engine_files_end_commands_with_an_exit_code_not_a_panic() {
    let (dir, _) = fresh();
    let engine = demarche::store::engine_at(dir.path()).expect("a ledger");
    match engine {
        demarche::store::Engine::Redb => {
            let file = dir.path().join("ledger.redb");
            let mut bytes = std::fs::read(&file).expect("read");
            let page = 4096;
            let at = (bytes.len() / 2) / page * page;
            bytes[at..at + page].fill(0);
            std::fs::write(&file, bytes).expect("write");
        }
        _ => {
            let file = dir.path().join("db");
            let len = std::fs::metadata(&file).expect("db").len();
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&file)
                .expect("open");
            f.set_len(len / 2).expect("truncate");
        }
    }
    for args in [
        &["verify"][..],
        &["positions", "--replay"][..],
        &["log"][..],
        &["export"][..],
    ] {
        let out = bin()
            .arg("--ledger")
            .arg(dir.path())
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("run");
        let code = out.status.code();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(code, Some(0 | 1 | 3)),
            "{args:?}: exit {code:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("stack backtrace"), "{args:?}: {stderr}");
    }
}

/// An append links to what the head's block holds: with the block before it
/// gone, or the head's own record changed, the append stops with exit 1,
/// naming the seq, and adds nothing.
/// A way to damage a ledger, and what it is called.
type Damage = (&'static str, fn(&Path));

#[test]
fn an_append_onto_a_damaged_tail_is_refused() {
    let cases: [Damage; 2] = [
        ("the block before the head's deleted", |dir| {
            with_tree(dir, |t| {
                t.remove(block_key(TOTAL - 1))
                    .expect("remove")
                    .expect("was there");
            });
        }),
        ("the head's record changed", |dir| {
            edit_record(dir, TOTAL, |r| r[HEADER_LEN] ^= 0x20);
        }),
    ];
    for (what, damage) in cases {
        let (dir, head) = fresh();
        damage(dir.path());
        let err = open(dir.path())
            .append(statement(TOTAL + 1))
            .expect_err(what);
        let text = err.to_string();
        assert!(
            text.contains(&format!("seq {}", TOTAL - 1)) || text.contains(&format!("seq {TOTAL}")),
            "{what}: {text}"
        );
        assert_eq!(open(dir.path()).head().expect("head"), head, "{what}");
        let out = bin()
            .arg("--ledger")
            .arg(dir.path())
            .args(["append", "--json"])
            .arg(
                serde_json::Value::Object(demarche::json::view::event_json(&statement(TOTAL + 2)))
                    .to_string(),
            )
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains("seq "), "{what}: {stderr}");
        assert_eq!(open(dir.path()).head().expect("head"), head, "{what}");
    }
}

/// What a read in seq order sees of a ledger: the seqs `keep` accepts, and
/// the error it stopped at.
fn read_in_order(
    l: &Ledger,
    keep: impl Fn(&demarche::event::Recorded) -> bool,
) -> (Vec<u64>, Option<String>) {
    let mut seqs = Vec::new();
    for r in l.iter(1, u64::MAX).expect("iter") {
        match r {
            Ok(r) if keep(&r) => seqs.push(r.seq),
            Ok(_) => {}
            Err(e) => return (seqs, Some(e.to_string())),
        }
    }
    (seqs, None)
}

/// The same through [`Ledger::each_kept`].
fn read_kept(
    l: &Ledger,
    keep: impl Fn(&demarche::event::Recorded) -> bool + Sync,
) -> (Vec<u64>, Option<String>) {
    let mut seqs = Vec::new();
    let res = l.each_kept(1, keep, |r| {
        seqs.push(r.seq);
        Ok(true)
    });
    (seqs, res.err().map(|e| e.to_string()))
}

/// The same through [`Ledger::each_kept_by_event`], which hashes only the
/// events it keeps: their seqs, and their hashes, which must be those a read
/// in order computes.
fn read_kept_by_event(l: &Ledger, keep: impl Fn(u64) -> bool + Sync) -> (Vec<u64>, Option<String>) {
    let mut seqs = Vec::new();
    let res = l.each_kept_by_event(
        1,
        |seq, _, _| keep(seq),
        |r| {
            let held = l.get(r.seq).expect("get");
            assert_eq!(
                (r.hash, r.digest, r.prev),
                (held.hash, held.digest, held.prev)
            );
            seqs.push(r.seq);
            Ok(true)
        },
    );
    (seqs, res.err().map(|e| e.to_string()))
}

/// The same through [`Ledger::each_kept_by_statement`], with a first test
/// `might` of each statement read in place (by seq here), and `keep` after.
fn read_kept_by_statement(
    l: &Ledger,
    might: impl Fn(u64) -> bool + Sync,
    keep: impl Fn(u64) -> bool + Sync,
) -> (Vec<u64>, Option<String>) {
    let mut seqs = Vec::new();
    let res = l.each_kept_by_statement(
        1,
        |seq, _| might(seq),
        |seq, _, _| keep(seq),
        |r| {
            let held = l.get(r.seq).expect("get");
            assert_eq!((r.hash, &r.event), (held.hash, &held.event));
            seqs.push(r.seq);
            Ok(true)
        },
    );
    (seqs, res.err().map(|e| e.to_string()))
}

/// Damage done to the block stored under a key: what a read meets there.
type BlockDamage = fn(&Raw, &[u8]);

/// A block deleted, a block that does not open, and the blocks from one to
/// the head deleted (the chain ends short of its head).
const BLOCK_DAMAGE: [(&str, BlockDamage); 3] = [
    ("a block deleted", |t, key| {
        t.remove(key).expect("remove").expect("was there");
    }),
    ("a block that does not open", |t, key| {
        t.insert(key, b"not a block").expect("insert");
    }),
    ("the blocks from one to the head deleted", |t, key| {
        for k in t.prefix_keys(b"b").iter().filter(|k| k.as_slice() >= key) {
            t.remove(k).expect("remove").expect("was there");
        }
    }),
];

/// A long filtered read (decoded on two threads) hands on what a read in
/// order would, in the same order, and stops where that read stops: after
/// the events before a deleted block or a block that does not open, with
/// the same error; also when only the events kept are hashed.
#[test]
fn a_long_filtered_read_sees_what_a_read_in_order_sees_and_stops_where_it_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = build(dir.path(), 3, 6000);
    let keep = |r: &demarche::event::Recorded| r.seq % 7 == 3;
    {
        let l = open(dir.path());
        let (kept, err) = read_kept(&l, keep);
        assert_eq!(err, None);
        assert_eq!(
            kept,
            (1..=head.size).filter(|s| s % 7 == 3).collect::<Vec<_>>()
        );
        assert_eq!((kept.clone(), None), read_in_order(&l, keep));
        assert_eq!((kept.clone(), None), read_kept_by_event(&l, |s| s % 7 == 3));
        let third = |s: u64| s % 7 == 3;
        assert_eq!(
            (kept.clone(), None),
            read_kept_by_statement(&l, third, third)
        );
        // What the first test passes goes on to the second.
        let (passed, _) = read_kept_by_statement(&l, |s| s % 2 == 0, |s| s % 3 == 0);
        let sixth: Vec<u64> = (1..=head.size).filter(|s| s % 6 == 0).collect();
        assert_eq!(passed, sixth);
        // The sink stops the read.
        let mut n = 0;
        l.each_kept(1, keep, |_| {
            n += 1;
            Ok(n < 10)
        })
        .expect("read");
        assert_eq!(n, 10);
    }
    for (what, damage) in BLOCK_DAMAGE {
        let copy = tempfile::tempdir().expect("tempdir");
        build(copy.path(), 3, 6000);
        with_tree(copy.path(), |t| damage(t, &find_block(t, 3000).0));
        let l = open(copy.path());
        let (kept, err) = read_kept(&l, keep);
        let (expected, expected_err) = read_in_order(&l, keep);
        assert!(expected_err.is_some(), "{what}: the damage is met");
        assert_eq!(err, expected_err, "{what}");
        assert_eq!(kept, expected, "{what}");
        let by_event = read_kept_by_event(&l, |s| s % 7 == 3);
        assert_eq!(by_event, (expected.clone(), expected_err.clone()), "{what}");
        let third = |s: u64| s % 7 == 3;
        let by_statement = read_kept_by_statement(&l, third, third);
        assert_eq!(by_statement, (expected, expected_err), "{what}");
        assert!(
            kept.len() > 300 && *kept.last().expect("some") < 3000,
            "{what}: {} kept",
            kept.len()
        );
    }
}

/// A full replay reads a long chain in stretches folded side by side: it
/// finds what a fold of every event in order finds (corrections and
/// retractions too), stops where the query's knowledge stops, and on a
/// deleted block or a block that does not open fails with the error a read
/// in order meets there.
#[test]
fn a_long_replay_folds_what_a_read_in_order_folds_and_fails_where_it_fails() {
    use demarche::projection::{self, KnownAt, Query};
    let dir = tempfile::tempdir().expect("tempdir");
    build(dir.path(), 3, 6000);
    {
        let mut l = open(dir.path());
        let amend = |line: &str| demarche::json::parse_event(line).expect("parses");
        l.append(amend(
            r#"{"type":"correction","of":10,"statement":{"said_on":"2025-01-01","party":"FRA","stance":"demands","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"q","source":{"publisher":"p"}}}"#,
        ))
        .expect("correct");
        l.append(amend(r#"{"type":"retraction","of":5000,"reason":"r"}"#))
            .expect("retract");
        let size = l.head().expect("head").size;
        let entries = entries(&l, size);
        for known_at in [None, Some(KnownAt::Seq(3001)), Some(KnownAt::Seq(size - 1))] {
            let q = Query {
                known_at,
                ..Query::default()
            };
            let want = projection::positions(&entries, &q);
            assert_eq!(l.positions_replay(&q).expect("replay"), want, "{q:?}");
        }
        // The correction moved seq 10 to a date no other statement has.
        let all = l.positions_replay(&Query::default()).expect("replay");
        assert!(all
            .iter()
            .any(|p| p.seq == 10 && p.said_on.date == jiff::civil::date(2025, 1, 1)));
        assert!(all.iter().all(|p| !p.statements.contains(&5000)));
    }
    for (what, damage) in BLOCK_DAMAGE {
        let copy = tempfile::tempdir().expect("tempdir");
        build(copy.path(), 3, 6000);
        with_tree(copy.path(), |t| damage(t, &find_block(t, 3000).0));
        let l = open(copy.path());
        let (_, expected) = read_in_order(&l, |_| true);
        assert!(expected.is_some(), "{what}: the damage is met");
        let err = l.positions_replay(&Query::default()).expect_err(what);
        assert_eq!(Some(err.to_string()), expected, "{what}");
    }
}

/// A short replay (a group of blocks at a time, on this thread) folds the
/// blocks read before a store failure before it meets the failure, as a
/// read in order does: a query whose knowledge ends before a stray key
/// answers; with a block that does not open before the stray key, that
/// block is named, not the key.
#[test]
fn a_short_replay_meets_damage_where_a_read_in_order_meets_it() {
    use demarche::projection::{self, KnownAt, Query};
    let (dir, _) = fresh();
    let mut stray = block_key(6);
    stray.push(0);
    with_tree(dir.path(), |t| {
        t.insert(&stray, &b"x"[..]).expect("insert");
    });
    {
        let l = open(dir.path());
        let q = Query {
            known_at: Some(KnownAt::Seq(3)),
            ..Query::default()
        };
        let entries = entries(&l, 3);
        let known = l.positions_replay(&q).expect("known before the stray key");
        assert!(!known.is_empty());
        assert_eq!(known, projection::positions(&entries, &q));
        let (_, expected) = read_in_order(&l, |_| true);
        assert!(expected.is_some(), "the stray key is met");
        let err = l.positions_replay(&Query::default()).expect_err("damage");
        assert_eq!(Some(err.to_string()), expected);
    }
    with_tree(dir.path(), |t| {
        t.insert(&find_block(t, 3).0, b"not a block")
            .expect("insert");
    });
    let l = open(dir.path());
    let (_, expected) = read_in_order(&l, |_| true);
    assert!(
        expected.as_deref().is_some_and(|e| e.contains("seq 3")),
        "{expected:?}"
    );
    let err = l.positions_replay(&Query::default()).expect_err("damage");
    assert_eq!(Some(err.to_string()), expected);
}

/// A correction of a statement whose payload is withheld is not folded by a
/// replay, as a fold that reads the events in order does not fold it: the
/// statement was never met.
#[test]
fn a_correction_of_a_withheld_statement_is_not_folded() {
    use demarche::projection::{self, Query};
    let (dir, _) = fresh();
    let seq = SINGLES + 30;
    {
        let mut l = open(dir.path());
        let line = format!(
            r#"{{"type":"correction","of":{seq},"statement":{{"said_on":"2025-01-01","party":"FRA","stance":"demands","proposition":{{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"}},"quote":"q","source":{{"publisher":"p"}}}}}}"#
        );
        l.append(demarche::json::parse_event(&line).expect("parses"))
            .expect("correct");
        let all = l.positions_replay(&Query::default()).expect("replay");
        assert!(all.iter().any(|p| p.statements.contains(&seq)));
    }
    with_tree(dir.path(), |t| withhold(t, seq));
    let l = open(dir.path());
    let size = l.head().expect("head").size;
    let entries = entries(&l, size);
    let q = Query::default();
    let replayed = l.positions_replay(&q).expect("replay");
    assert!(replayed.iter().all(|p| !p.statements.contains(&seq)));
    assert_eq!(replayed, projection::positions(&entries, &q));
}

/// A long raw read (blocks opened on two threads, a group at a time) meets
/// a gap before a block that does not open further on in the same group,
/// and names the gap, as a read in order does.
#[test]
fn a_long_raw_read_names_a_gap_before_a_later_block_that_does_not_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    build(dir.path(), 3, 6000);
    with_tree(dir.path(), |t| {
        let (gone, _, ranges) = find_block(t, 3000);
        let after = ranges.last().expect("records").0 + 1;
        let (next, _, ranges) = find_block(t, after);
        let bad = find_block(t, ranges.last().expect("records").0 + 1).0;
        assert!(gone < next && next < bad);
        t.remove(&gone).expect("remove").expect("was there");
        t.insert(&bad, b"not a block").expect("insert");
    });
    let l = open(dir.path());
    let (_, expected) = read_in_order(&l, |_| true);
    assert!(
        expected.as_deref().is_some_and(|e| e.contains("missing")),
        "{expected:?}"
    );
    let err = l
        .for_each_record(1, |_| Ok(true))
        .expect_err("the gap is met");
    assert_eq!(Some(err.to_string()), expected);
}

/// `log --json` of every event is made on two threads; with a limit it reads
/// in order on one. On a damaged chain both print the same lines, then the
/// same error with the same exit code (or both end well, where `log` reads
/// nothing amiss: a head rolled back to the middle of a block).
#[test]
fn log_as_json_reads_a_damaged_ledger_as_a_read_in_order_does() {
    let built = tempfile::tempdir().expect("tempdir");
    let head = build(built.path(), 4, 3000);
    let seq = 4 + 1500;
    type Damage = Box<dyn Fn(&Path)>;
    let damages: Vec<(&str, Damage)> = vec![
        (
            "a changed byte",
            Box::new(move |d| edit_record(d, seq, |b| b[HEADER_LEN + 40] ^= 0x20)),
        ),
        ("a record cut out", Box::new(move |d| cut_record(d, seq))),
        (
            "a block removed",
            Box::new(move |d| {
                with_tree(d, |t| {
                    let (key, _, _) = find_block(t, seq);
                    t.remove(key).expect("remove");
                })
            }),
        ),
        (
            "an empty block",
            Box::new(move |d| {
                with_tree(d, |t| {
                    // Inside the block that holds seq, not at its start.
                    assert_ne!(find_block(t, seq).0, block_key(seq));
                    t.insert(block_key(seq), seal(&[])).expect("insert");
                })
            }),
        ),
        (
            "a head rolled back",
            Box::new(move |d| roll_head_back(d, seq)),
        ),
    ];
    let log = |dir: &Path, args: &[&str]| {
        let out = bin()
            .arg("--ledger")
            .arg(dir)
            .args(args)
            .output()
            .expect("run");
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (what, damage) in damages {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(built.path(), dir.path());
        damage(dir.path());
        let all = log(dir.path(), &["log", "--json"]);
        let in_order = log(dir.path(), &["log", "--json", "--limit", "1000000"]);
        assert_eq!(all.0, in_order.0, "{what}: {} / {}", all.2, in_order.2);
        assert_eq!(all.2, in_order.2, "{what}");
        assert!(all.1 == in_order.1, "{what}: the lines differ");
        let lines = all.1.iter().filter(|b| **b == b'\n').count() as u64;
        if what.starts_with("a record") || what.starts_with("a block") {
            // A gap stops the read (here before any line: the statuses are
            // read from the whole chain first).
            assert_ne!(all.0, Some(0), "{what}");
            assert!(lines < head.size, "{what}: {lines} lines");
        }
    }
}
