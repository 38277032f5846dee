//! Derived data is a cache: a forged or damaged snapshot is never believed,
//! large derived data stays out of the store, what is signed comes from the
//! chain, and a read that meets a hole in the chain says so instead of
//! answering from what is left. Through the engines themselves, on both.

use crate::common::{bin, open, with_tree};
use demarche::event::{Entry, Event};
use demarche::ledger::Ledger;
use demarche::projection::snapshot::Snapshot;
use demarche::projection::{Position, Query};
use std::path::Path;

const KEY: [u8; 32] = [7; 32];
const INSIDER: [u8; 32] = [9; 32];

fn usa_withdrawal() -> Query {
    Query {
        as_of: Some(jiff::civil::date(2021, 1, 29)),
        filter: demarche::projection::Filter {
            party: Some("USA".into()),
            predicate: Some("withdrawal".into()),
            ..Default::default()
        },
        ..Query::default()
    }
}

fn stances(ps: &[Position]) -> Vec<String> {
    ps.iter()
        .map(|p| format!("{} {} {:?}", p.key.party, p.stance, p.key.subject))
        .collect()
}

/// The cache entry `name` sealed as the ledger seals it, under `key`.
fn sealed(key: &[u8; 32], name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut h = blake3::Hasher::new_keyed(key);
    h.update(&(name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update(bytes);
    let mut out = h.finalize().as_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

/// Writes, as an insider with write access to the ledger's files would, a
/// snapshot in which the US *denies* what it called for, sealed under `key`.
fn forge_snapshot(dir: &Path, l: &Ledger, key: &[u8; 32]) {
    forge_snapshot_as(dir, l, key, |e| {
        if let Some(Event::Statement(s)) = &mut e.event {
            if s.party == "USA" && s.stance == "calls-for" {
                s.stance = "denies".into();
            }
        }
    });
}

/// Writes a snapshot of the chain with each entry first passed through
/// `change`, sealed under `key`.
fn forge_snapshot_as(dir: &Path, l: &Ledger, key: &[u8; 32], change: impl Fn(&mut Entry)) {
    let mut snap = Snapshot::new();
    let mut last = None;
    for r in l.iter(1, u64::MAX).expect("iter") {
        let r = r.expect("record");
        let mut e = Entry::from(r.clone());
        change(&mut e);
        snap.extend(&e);
        last = Some(r.hash);
    }
    snap.set_hash(last.expect("events"));
    let stored = snap.store();
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).expect("cache dir");
    for (i, c) in stored.chunks.iter().enumerate() {
        std::fs::write(cache.join(format!("positions.{:020}.{i:08}", snap.seq)), c).expect("chunk");
    }
    // Where the store counts its blocks, the snapshot is bound to that count.
    if let Some(n) = l.store().blocks_through(snap.seq).expect("count") {
        let mut binding = snap.seq.to_le_bytes().to_vec();
        binding.extend_from_slice(&snap.hash.0);
        binding.extend_from_slice(&n.to_le_bytes());
        std::fs::write(
            cache.join("positions-blocks"),
            sealed(key, "positions-blocks", &binding),
        )
        .expect("binding");
    }
    std::fs::write(
        cache.join("positions"),
        sealed(key, "positions", &stored.head),
    )
    .expect("head");
}

fn example_ledger(dir: &Path) -> Ledger {
    let mut l = open(dir);
    demarche::example::record(&mut l).expect("example");
    l
}

#[test]
fn a_forged_snapshot_is_not_believed_without_the_cache_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let l = example_ledger(dir.path());
    let truth = l.positions_replay(&usa_withdrawal()).expect("replay");
    assert!(stances(&truth)[0].contains("calls-for"), "{truth:?}");
    forge_snapshot(dir.path(), &l, &INSIDER);
    drop(l);
    // Under its own key the forgery is believed: this is the attack.
    let mut l = open(dir.path());
    l.set_cache_key(INSIDER);
    let lied = l.positions(&usa_withdrawal()).expect("positions");
    assert!(stances(&lied)[0].contains("denies"), "{lied:?}");
    // What is signed never comes from the snapshot, believed or not.
    let (key, _) = demarche::note::generate_key("example.org/ledger").expect("key");
    let bundle = demarche::evidence::build(&l, &usa_withdrawal(), &key).expect("bundle");
    let stated = bundle["positions"].to_string();
    assert!(
        stated.contains("calls-for") && !stated.contains("denies"),
        "{stated}"
    );
    drop(l);
    // The ledger's user has another key: the forgery is ignored, and the
    // answer is the chain's.
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    assert_eq!(l.snapshot_seq().expect("seq"), None);
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), truth);
    drop(l);
    // Without a key, nothing in the cache is believed either.
    let l = open(dir.path());
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), truth);
}

/// The three forgeries of a snapshot: the US said to deny what it called
/// for; every call turned into a demand; the Security Council's call (seq 8)
/// retracted by a retraction slipped in at seq 10. Each is sealed under the
/// user's own cache key (a key that leaked, or was shared), so queries believe
/// it; `verify` compares it with the chain, names the seq and what each side
/// holds, and exits 1. `--chain-only` does not look at it.
#[test]
fn verify_compares_the_snapshot_with_the_chain_and_names_what_differs() {
    type Change = fn(&mut Entry);
    let forgeries: [(Change, &str, &str); 3] = [
        (
            |e| {
                if let Some(Event::Statement(s)) = &mut e.event {
                    if s.party == "USA" && s.stance == "calls-for" {
                        s.stance = "denies".into();
                    }
                }
            },
            "for seq 3, USA denies withdrawal of RUS in LBY on 2021-01-28",
            "the chain makes USA calls-for withdrawal of RUS in LBY on 2021-01-28",
        ),
        (
            |e| {
                if let Some(Event::Statement(s)) = &mut e.event {
                    if s.stance == "calls-for" {
                        s.stance = "demands".into();
                    }
                }
            },
            "for seq 1, UN demands withdrawal of FOREIGN-FORCES in LBY",
            "the chain makes UN calls-for withdrawal",
        ),
        (
            |e| {
                if e.seq == 10 {
                    e.event = Some(Event::Retraction(demarche::event::Retraction {
                        of: 8,
                        reason: "withdrawn".into(),
                    }));
                }
            },
            "for seq 10, a retraction",
            "the chain makes UNSC demands withdrawal of IRQ in KWT on 1990-08-02",
        ),
    ];
    for (change, says, makes) in forgeries {
        let dir = tempfile::tempdir().expect("tempdir");
        let l = example_ledger(dir.path());
        let honest = l.verify(None).expect("verify");
        assert!(honest.is_intact());
        assert_eq!(honest.snapshot_checked, None, "no snapshot yet");
        forge_snapshot_as(dir.path(), &l, &KEY, change);
        drop(l);
        let mut l = open(dir.path());
        l.set_cache_key(KEY);
        assert_eq!(
            l.snapshot_seq().expect("seq"),
            Some(10),
            "queries believe it"
        );
        let r = l.verify(None).expect("verify");
        let p = r.problem.expect("the forgery is found");
        assert_eq!(p.kind(), "snapshot-mismatch", "{p}");
        let text = p.to_string();
        assert!(text.contains(says) && text.contains(makes), "{text}");
        assert!(l.verify_chain(None).expect("verify").is_intact());
        drop(l);
        // The command: exit 1 under the key the snapshot is sealed with, and
        // nothing to compare (exit 0) under another, since no query uses it.
        let ledger = dir.path();
        let keys = tempfile::tempdir().expect("tempdir");
        let key_file = keys.path().join("cache.key");
        let other_key = keys.path().join("other.key");
        std::fs::write(&key_file, "07".repeat(32)).expect("key");
        std::fs::write(&other_key, "09".repeat(32)).expect("key");
        let out = bin()
            .env("DEMARCHE_CACHE_KEY", &key_file)
            .arg("--ledger")
            .arg(ledger)
            .args(["verify", "--json"])
            .assert()
            .code(1);
        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
        assert_eq!(v["problem"]["kind"], "snapshot-mismatch", "{v}");
        assert_eq!(v["snapshot_checked"], 10, "{v}");
        let hint = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            hint.contains("Remove the ledger's `cache` directory"),
            "{hint}"
        );
        bin()
            .env("DEMARCHE_CACHE_KEY", &key_file)
            .arg("--ledger")
            .arg(ledger)
            .args(["verify", "--chain-only"])
            .assert()
            .success();
        let out = bin()
            .env("DEMARCHE_CACHE_KEY", &other_key)
            .arg("--ledger")
            .arg(ledger)
            .args(["verify", "--json"])
            .assert()
            .success();
        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).expect("JSON");
        assert_eq!(v["snapshot_checked"], serde_json::Value::Null, "{v}");
        // The key itself in the variable (64 hex digits naming no file) is
        // used as the key, and no file named after it is made.
        let cwd = tempfile::tempdir().expect("tempdir");
        bin()
            .current_dir(cwd.path())
            .env("DEMARCHE_CACHE_KEY", "07".repeat(32))
            .arg("--ledger")
            .arg(ledger)
            .arg("verify")
            .assert()
            .code(1);
        assert_eq!(
            std::fs::read_dir(cwd.path()).expect("dir").count(),
            0,
            "no key file made"
        );
        // What the hint says mends it: the cache removed, nothing is lost.
        std::fs::remove_dir_all(ledger.join("cache")).expect("remove the cache");
        bin()
            .env("DEMARCHE_CACHE_KEY", &key_file)
            .arg("--ledger")
            .arg(ledger)
            .arg("verify")
            .assert()
            .success();
    }
}

/// A snapshot the ledger made itself, of every kind of record a snapshot
/// keeps (facts, corrections, retractions, statements kept whole), matches
/// the chain, and `verify` says it compared it.
#[test]
fn verify_finds_an_honest_snapshot_equal_to_the_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = example_ledger(dir.path());
    l.set_cache_key(KEY);
    let joint = demarche::json::parse_event(
        r#"{"type":"statement","said_on":"2021-01-29","party":"FRA","joint_with":["DEU"],"stance":"calls-for","deadline":"2021-02-28","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"q","sources":[{"publisher":"p"}]}"#,
    );
    let fix = demarche::json::parse_event(
        r#"{"type":"correction","of":3,"reason":"r","statement":{"said_on":"2021-01-28","party":"USA","stance":"demands","proposition":{"predicate":"withdrawal","subjects":["TUR","RUS"],"location":"LBY"},"quote":"q","source":{"publisher":"p"}}}"#,
    );
    let gone = demarche::json::parse_event(r#"{"type":"retraction","of":10,"reason":"r"}"#);
    let coded = demarche::json::parse_event(
        r#"{"type":"statement","said_on":"2021-01-30","party":"TUR","stance":"rejects","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"q","source":{"publisher":"p"},"coded":{"coder":"gdelt","event_id":961204311,"cameo":"0256","mentions":6,"sources":1,"goldstein":3.0,"tone":-3.214}}"#,
    );
    l.append_batch([joint, fix, gone, coded]).expect("append");
    let snap = l.snapshot_now().expect("snapshot");
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.snapshot_checked, Some(snap.seq));
    // Past the snapshot, the chain goes on; the snapshot is compared up to its seq.
    l.append_batch([demarche::json::parse_event(
        r#"{"type":"statement","said_on":"2021-02-01","party":"GBR","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":"q","source":{"publisher":"p"}}"#,
    )])
    .expect("append");
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.snapshot_checked, Some(snap.seq));
}

#[test]
fn a_snapshot_lives_in_files_beside_the_store_and_old_ones_leave_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = example_ledger(dir.path());
    l.set_cache_key(KEY);
    // A snapshot an earlier release kept in the store.
    l.store()
        .put_meta(&[("snapshot", b"old"), ("snapshot/00000000", b"old chunk")])
        .expect("put");
    let snap = l.snapshot_now().expect("snapshot");
    assert_eq!(l.snapshot_seq().expect("seq"), Some(snap.seq));
    assert_eq!(l.store().meta("snapshot").expect("meta"), None);
    assert_eq!(l.store().meta("snapshot/00000000").expect("meta"), None);
    let files: Vec<String> = std::fs::read_dir(dir.path().join("cache"))
        .expect("cache dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.contains(&"positions".to_string()), "{files:?}");
    assert!(
        files.iter().any(|f| f.starts_with("positions.")),
        "{files:?}"
    );
    let want = l.positions_replay(&usa_withdrawal()).expect("replay");
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), want);
    // A damaged chunk, a deleted one, or the head replaced by a directory:
    // the snapshot is passed over, never fatal.
    let chunk = files
        .iter()
        .find(|f| f.starts_with("positions."))
        .expect("chunk");
    let chunk = dir.path().join("cache").join(chunk);
    let mut bytes = std::fs::read(&chunk).expect("chunk");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&chunk, &bytes).expect("write");
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), want);
    std::fs::remove_file(&chunk).expect("rm");
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), want);
    let head = dir.path().join("cache").join("positions");
    std::fs::remove_file(&head).expect("rm");
    std::fs::create_dir(&head).expect("dir");
    assert_eq!(l.snapshot_seq().expect("seq"), None);
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), want);
    // The ledger still opens and verifies with its cache in this state.
    drop(l);
    let l = open(dir.path());
    assert!(l.verify(None).expect("verify").is_intact());
}

/// Removes the block that holds seq 5.
fn delete_block_of_5(dir: &Path) {
    with_tree(dir, |t| {
        let (key, _, _) = crate::common::find_block(t, 5);
        t.remove(&key).expect("remove");
    });
}

#[test]
fn reads_that_meet_a_missing_block_fail_instead_of_skipping_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(example_ledger(dir.path()));
    delete_block_of_5(dir.path());
    let l = open(dir.path());
    let replay = l.positions_replay(&Query::default());
    assert!(replay.is_err(), "a replay over a hole: {replay:?}");
    let mut out = Vec::new();
    assert!(demarche::export::write_jsonl(&l, &mut out, |_| {}).is_err());
    let read: Result<Vec<_>, _> = l.iter(1, u64::MAX).expect("iter").collect();
    assert!(read.is_err(), "iter over a hole");
    drop(l);
    // Through the command line: exit 1 (integrity), nothing claimed written.
    let ledger = dir.path();
    for args in [
        &["log"][..],
        &["positions", "--replay"][..],
        &["export"][..],
        &["history", "--party", "USA"][..],
    ] {
        bin()
            .arg("--ledger")
            .arg(ledger)
            .args(args)
            .assert()
            .code(1);
    }
    let out = dir.path().join("backup.jsonl");
    bin()
        .arg("--ledger")
        .arg(ledger)
        .args(["export", "-o"])
        .arg(&out)
        .assert()
        .code(1);
    assert!(!out.exists(), "no partial export is left behind");
}

#[test]
fn a_snapshot_taken_before_a_block_was_deleted_does_not_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Blocks of one record at seqs 1-8, a batch, then 8 more singles.
    crate::common::build(dir.path(), 8, 20);
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    let snap = l.snapshot_now().expect("snapshot");
    assert_eq!(snap.seq, 36);
    assert_eq!(l.snapshot_seq().expect("seq"), Some(36));
    drop(l);
    delete_block_of_5(dir.path());
    let keys = tempfile::tempdir().expect("keys");
    let keyfile = keys.path().join("cache.key");
    std::fs::write(&keyfile, format!("{}\n", demarche::hex::encode(&KEY))).expect("key");
    if demarche::store::Engine::from_env() != demarche::store::Engine::Sled {
        let out = bin()
            .env("DEMARCHE_CACHE_KEY", &keyfile)
            .arg("--ledger")
            .arg(dir.path())
            .args(["positions", "--party", "EU"])
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(out.stdout.is_empty());
        assert!(err.contains("seq 5"), "{err}");
    }
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    let answer = l.positions(&Query::default()).map(|ps| ps.len());
    if demarche::store::Engine::from_env() == demarche::store::Engine::Sled {
        // sled cannot count its blocks without reading them all: the
        // snapshot still answers, as the chain was when it was taken.
        assert!(answer.is_ok(), "{answer:?}");
    } else {
        assert!(answer.is_err(), "answered over a hole: {answer:?}");
        assert_eq!(l.snapshot_seq().expect("seq"), None);
    }
    // A full replay sees the hole on every engine.
    assert!(l.positions_replay(&Query::default()).is_err());
}

#[test]
fn the_block_count_is_kept_while_the_store_is_unchanged_and_taken_again_after_a_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    crate::common::build(dir.path(), 8, 20);
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    let snap = l.snapshot_now().expect("snapshot");
    let counted = dir.path().join("cache").join("positions-blocks-counted");
    if demarche::store::Engine::from_env() == demarche::store::Engine::Sled {
        // sled counts no blocks: nothing to keep.
        assert!(!counted.exists());
        return;
    }
    let kept = std::fs::read(&counted).expect("the count is kept with the store's mark");
    let truth = l.positions_replay(&Query::default()).expect("replay");
    assert_eq!(l.positions(&Query::default()).expect("positions"), truth);
    assert_eq!(
        std::fs::read(&counted).expect("counted"),
        kept,
        "not counted again"
    );
    // A write: the mark changes, the blocks are counted again, still the
    // snapshot's, and the count is kept with the new mark.
    l.append(crate::common::statement(1_000)).expect("append");
    let truth = l.positions_replay(&Query::default()).expect("replay");
    assert_eq!(l.positions(&Query::default()).expect("positions"), truth);
    assert_eq!(l.snapshot_seq().expect("seq"), Some(snap.seq));
    let again = std::fs::read(&counted).expect("counted");
    assert_ne!(again, kept);
    assert_eq!(again[32..32 + 48], kept[32..32 + 48], "the same binding");
}

#[test]
fn a_signed_checkpoint_and_evidence_refuse_a_ledger_that_does_not_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(example_ledger(dir.path()));
    let keys = tempfile::tempdir().expect("keys");
    let prefix = keys.path().join("k");
    bin()
        .args(["key", "generate", "--name", "example.org/ledger", "--out"])
        .arg(&prefix)
        .assert()
        .success();
    let key = keys.path().join("k.key");
    bin()
        .arg("--ledger")
        .arg(dir.path())
        .args(["checkpoint", "--sign"])
        .arg(&key)
        .assert()
        .success();
    // An edited record: its block still opens, its hash no longer links.
    with_tree(dir.path(), |t| {
        let (key, mut records, _) = crate::common::find_block(t, 3);
        let at = records
            .windows(9)
            .position(|w| w == b"calls-for")
            .expect("a stance");
        records[at..at + 9].copy_from_slice(b"demands!!");
        t.insert(&key, crate::common::seal(&records))
            .expect("insert");
    });
    let bundle = keys.path().join("bundle.json");
    let bundle = bundle.to_str().expect("utf-8");
    for args in [
        &["checkpoint", "--sign"][..],
        &["evidence", "--as-of", "2021-01-29", "-o", bundle, "--sign"][..],
    ] {
        bin()
            .arg("--ledger")
            .arg(dir.path())
            .args(args)
            .arg(&key)
            .assert()
            .code(1);
    }
    assert!(
        !Path::new(bundle).exists(),
        "nothing signed over a broken chain"
    );
}

/// A `cache/` that is a symbolic link to a directory elsewhere is neither
/// written to nor read from: the cache would otherwise write and remove files
/// wherever the link points.
#[cfg(unix)]
#[test]
fn a_cache_directory_that_is_a_link_is_not_followed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    std::fs::write(elsewhere.path().join("positions.keep"), b"the user's file").expect("write");
    let mut l = example_ledger(dir.path());
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("cache")).expect("symlink");
    l.set_cache_key(KEY);
    assert!(
        l.snapshot_now().is_err(),
        "nothing is written through the link"
    );
    let want = l.positions_replay(&usa_withdrawal()).expect("replay");
    assert_eq!(l.positions(&usa_withdrawal()).expect("positions"), want);
    let left: Vec<String> = std::fs::read_dir(elsewhere.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        ["positions.keep"],
        "the directory the link points to is untouched"
    );
}

/// An actor index sealed for another ledger (same cache key) is not believed,
/// and so is not reported by `verify` as damage of this one.
#[test]
fn an_actor_index_of_another_ledger_is_neither_believed_nor_reported() {
    let a = tempfile::tempdir().expect("a");
    let b = tempfile::tempdir().expect("b");
    for (dir, alias) in [(a.path(), "the militia"), (b.path(), "la milice")] {
        let mut l = open(dir);
        l.set_cache_key(KEY);
        for line in [
            r#"{"type":"actor","id":"XMIL","name":"Some militia","kind":"group"}"#.to_string(),
            format!(r#"{{"type":"alias","actor":"XMIL","alias":"{alias}"}}"#),
        ] {
            l.append(demarche::json::parse_event(&line).expect("parses"))
                .expect("append");
        }
    }
    let index = with_tree(a.path(), |t| {
        t.get(b"mactor-index").expect("get").expect("index")
    });
    with_tree(b.path(), |t| {
        t.insert(b"mactor-index", index).expect("insert")
    });
    let mut l = open(b.path());
    l.set_cache_key(KEY);
    assert!(l.verify(None).expect("verify").is_intact());
    let actors = l.actors().expect("actors");
    assert_eq!(actors.resolve("la milice").expect("b's alias"), "XMIL");
    assert!(
        actors.resolve("the militia").is_err(),
        "a's alias is not b's"
    );
}

/// The standing `log`, `history` and `show` show comes from the corrections and
/// retractions up to the positions snapshot, read from the snapshot, and the
/// rest, read from the chain past it: the same as a read of the whole chain,
/// with amendments on both sides of the snapshot. A snapshot sealed under
/// another key is not believed, and the export (what leaves the ledger)
/// reads the chain whatever the cache holds.
#[test]
fn standings_shown_from_the_snapshot_are_the_chains() {
    use demarche::event::{Correction, Retraction};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    let correct = |l: &mut Ledger, of: u64, i: u64| {
        let Event::Statement(statement) = crate::common::statement(i) else {
            unreachable!("a statement")
        };
        l.append(Event::Correction(Correction {
            of,
            statement,
            reason: None,
        }))
        .expect("correction");
    };
    let retract = |l: &mut Ledger, of: u64| {
        l.append(Event::Retraction(Retraction {
            of,
            reason: "not said".into(),
        }))
        .expect("retraction");
    };
    for i in 1..=10 {
        l.append(crate::common::statement(i)).expect("statement");
    }
    correct(&mut l, 2, 102); // 11
    retract(&mut l, 3); // 12
    correct(&mut l, 11, 111); // 13
    l.snapshot_now().expect("snapshot");
    correct(&mut l, 13, 113); // 14: of 2, across the snapshot
    retract(&mut l, 5); // 15
    correct(&mut l, 6, 106); // 16
    retract(&mut l, 16); // 17: 6 stands as recorded
    let chain = l.amendments(None).expect("chain");
    assert_eq!(l.snapshot_seq().expect("seq"), Some(13));
    let shown = l.amendments_now().expect("now");
    assert_eq!(shown, chain);
    assert_eq!(chain.corrected[&2].0, 14);
    assert_eq!(chain.retracted_by[&5], 15);
    assert!(!chain.corrected.contains_key(&6));
    // A snapshot that leaves out the retraction of 3, under another key.
    forge_snapshot_as(dir.path(), &l, &INSIDER, |e| {
        if e.seq == 12 {
            e.event = None;
        }
    });
    drop(l);
    let mut l = open(dir.path());
    l.set_cache_key(KEY);
    assert_eq!(l.amendments_now().expect("now"), chain);
    drop(l);
    // Under its own key it is believed for what is shown (as positions
    // believe it), never for what is exported.
    let mut l = open(dir.path());
    l.set_cache_key(INSIDER);
    assert!(!l.amendments_now().expect("now").retracted.contains(&3));
    drop(l);
    let status = |key: &[u8; 32], seq: &str| -> serde_json::Value {
        let out = bin()
            .env("DEMARCHE_CACHE_KEY", hex::encode(key))
            .arg("--ledger")
            .arg(dir.path())
            .args(["show", seq, "--json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice::<serde_json::Value>(&out).expect("JSON")["status"].clone()
    };
    // `show` reads the same: the snapshot when believed, else the chain.
    assert_eq!(status(&INSIDER, "3"), "standing");
    assert_eq!(status(&KEY, "3"), "retracted");
    assert_eq!(status(&INSIDER, "2"), "corrected");
    assert_eq!(status(&KEY, "13"), "corrected");
    let out = bin()
        .env("DEMARCHE_CACHE_KEY", hex::encode(INSIDER))
        .arg("--ledger")
        .arg(dir.path())
        .args(["export", "--format", "csv"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let csv = String::from_utf8(out).expect("utf-8");
    // A retracted statement has no rows; one that stands has one a subject.
    assert!(csv.lines().any(|x| x.starts_with("4,")), "{csv}");
    assert!(!csv.lines().any(|x| x.starts_with("3,")), "{csv}");
}
