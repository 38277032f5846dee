//! Recording and fixing, end to end: a duplicate refused, events named by
//! `HEAD~N`, `log --since` a date, actor, alias and role events retired, and
//! `amend` through an editor.

use crate::common;

use common::bin;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Ledger {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Ledger {
    fn new() -> Ledger {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger");
        Ledger { _dir: dir, path }
    }

    fn demo() -> Ledger {
        let l = Ledger::new();
        l.run(&["demo"]).assert().success();
        l
    }

    fn dir(&self) -> &Path {
        self._dir.path()
    }

    fn run(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = bin();
        c.arg("--ledger").arg(&self.path).args(args);
        c
    }

    fn out(&self, args: &[&str]) -> String {
        String::from_utf8(
            self.run(args)
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.out(args)).expect("JSON")
    }

    /// Each line of the command's output as JSON.
    fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        self.out(args)
            .lines()
            .map(|x| serde_json::from_str(x).expect("JSON"))
            .collect()
    }

    fn head(&self) -> String {
        self.out(&["head"]).trim().to_string()
    }

    fn verify_clean(&self) {
        self.run(&["verify"]).assert().success();
    }
}

const GOOD: &str = r#"{"type":"statement","said_on":"2021-02-01","party":"FRA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"France calls for the withdrawal","source":{"publisher":"AFP"}}"#;

/// A statement the ledger already holds is refused, naming the seq that holds
/// it, and the head does not move; `--allow-duplicate` records it.
#[test]
fn a_duplicate_append_exits_2_naming_the_seq_and_leaves_the_head() {
    let l = Ledger::demo();
    l.run(&["append", "--json", GOOD]).assert().success();
    let seq = l.json(&["show", "HEAD", "--json"])["seq"].clone();
    let head = l.head();
    l.run(&["append", "--json", GOOD])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "already holds this event, as seq {seq}"
        )))
        .stderr(predicate::str::contains("--allow-duplicate"));
    assert_eq!(l.head(), head);
    // The same statement given by flags, with an alias for the party: the
    // same content once names are resolved.
    l.run(&[
        "append",
        "--said-on",
        "2021-02-01",
        "--party",
        "France",
        "--stance",
        "calls-for",
        "--predicate",
        "withdrawal",
        "--subject",
        "TUR",
        "--location",
        "LBY",
        "--quote",
        "France calls for the withdrawal",
        "--publisher",
        "AFP",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains(format!("as seq {seq}")));
    assert_eq!(l.head(), head);
    l.run(&["append", "--json", GOOD, "--allow-duplicate"])
        .assert()
        .success();
    assert_ne!(l.head(), head);
    // With two copies held, a third names one of them.
    l.run(&["append", "--json", GOOD]).assert().code(2);
    l.verify_clean();
}

/// A ledger written before the digest index existed (the fixtures) gets one
/// from its chain on its first append, and still verifies.
#[test]
fn an_old_ledger_refuses_a_duplicate_of_what_it_held_before_the_index() {
    let engine = std::env::var("DEMARCHE_ENGINE").unwrap_or_else(|_| "sled".into());
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1")
        .join(&engine);
    let l = Ledger::new();
    copy_dir(&fixture, &l.path);
    // The fixture's first statement, as export writes it, appended again.
    let first = l.out(&["log", "--type", "statement", "--json", "--limit", "1"]);
    let v: Value = serde_json::from_str(first.trim()).expect("JSON");
    let mut line = v.clone();
    let m = line.as_object_mut().expect("object");
    for k in [
        "seq",
        "recorded_at",
        "prev",
        "hash",
        "digest",
        "status",
        "corrected_by",
        "retracted_by",
    ] {
        m.remove(k);
    }
    let head = l.head();
    l.run(&["append", "--json", &line.to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("as seq {}", v["seq"])));
    assert_eq!(l.head(), head);
    l.run(&["append", "--json", GOOD]).assert().success();
    l.run(&["append", "--json", GOOD]).assert().code(2);
    l.verify_clean();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

/// `HEAD~N` names the event N before the last, wherever an event is named.
#[test]
fn show_head_tilde_and_corrections_and_retractions_by_name() {
    let l = Ledger::demo();
    let size: u64 = l
        .head()
        .split(':')
        .next()
        .expect("size")
        .parse()
        .expect("n");
    assert_eq!(l.json(&["show", "HEAD~1", "--json"])["seq"], size - 1);
    assert_eq!(l.json(&["show", "head~0", "--json"])["seq"], size);
    assert_eq!(l.json(&["show", "HEAD~", "--json"])["seq"], size - 1);
    let text = l.out(&["show", "HEAD~1"]);
    assert!(
        text.starts_with(&format!("seq          {}", size - 1)),
        "{text}"
    );
    l.run(&["show", &format!("HEAD~{size}")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("before the first event"));
    l.run(&["show", "HEAD~x"]).assert().code(2);
    // --correct and --retract take the same names.
    l.run(&["append", "--json", GOOD]).assert().success();
    l.run(&[
        "append",
        "--correct",
        "HEAD",
        "--said-on",
        "2021-02-02",
        "--reason",
        "wrong day",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains(format!(
        "correcting seq {}",
        size + 1
    )));
    let c = l.json(&["show", "HEAD", "--json"]);
    assert_eq!(c["type"], "correction");
    assert_eq!(c["of"], size + 1);
    let hash = c["hash"].as_str().expect("hash").to_string();
    l.run(&["append", "--retract", &hash[..10], "--reason", "not said"])
        .assert()
        .success();
    let r = l.json(&["show", "HEAD", "--json"]);
    assert_eq!(r["type"], "retraction");
    assert_eq!(r["of"], size + 2);
    l.verify_clean();
}

/// `show N` reads the chain from the statement N is or corrects, not from
/// the start: what it says of each event's standing is what `log`, which
/// reads all of it, says, with amendments of other statements before and
/// after, a correction of a correction, a retracted correction and a
/// corrected statement retracted after. `--correct` of a statement
/// corrected twice starts from the newest correction.
#[test]
fn show_says_of_every_event_what_log_says() {
    let l = Ledger::new();
    let said = |i: u64| {
        let line = GOOD.replace(
            "France calls for the withdrawal",
            &format!("France, statement {i}"),
        );
        l.run(&["append", "--json", &line]).assert().success();
    };
    let correct = |of: &str, flags: &[&str]| {
        let mut args = vec!["append", "--correct", of, "--reason", "wrong"];
        args.extend_from_slice(flags);
        l.run(&args).assert().success();
    };
    let retract = |of: &str| {
        l.run(&["append", "--retract", of, "--reason", "not said"])
            .assert()
            .success();
    };
    for i in 1..=6 {
        said(i);
    }
    correct("2", &["--said-on", "2021-02-02"]); // 7
    retract("4"); // 8
    correct("7", &["--stance", "demands"]); // 9: a correction of a correction
    said(10); // 10
    correct("10", &["--said-on", "2021-02-03"]); // 11
    retract("11"); // 12: 10 stands as recorded
    correct("5", &["--said-on", "2021-02-04"]); // 13
    retract("5"); // 14: 13 goes with it
    correct("1", &["--said-on", "2021-02-05"]); // 15
    correct("2", &["--location", "SYR"]); // 16: from 9, as 2 stands
    let log = l.json_lines(&["log", "--json"]);
    assert_eq!(log.len(), 16);
    let standing = |v: &Value| {
        (
            v["status"].clone(),
            v["corrected_by"].clone(),
            v["retracted_by"].clone(),
        )
    };
    for (n, logged) in (1u64..).zip(&log) {
        let shown = l.json(&["show", &n.to_string(), "--json"]);
        assert_eq!(shown["seq"], n);
        assert_eq!(standing(&shown), standing(logged), "seq {n}");
    }
    let of = |n: usize| standing(&log[n - 1]);
    let v = |s: &str, c: Value, r: Value| (Value::from(s), c, r);
    assert_eq!(of(2), v("corrected", 16.into(), Value::Null));
    assert_eq!(of(7), v("corrected", 16.into(), Value::Null));
    assert_eq!(of(9), v("corrected", 16.into(), Value::Null));
    assert_eq!(of(16), v("standing", Value::Null, Value::Null));
    assert_eq!(of(4), v("retracted", Value::Null, 8.into()));
    assert_eq!(of(10), v("standing", Value::Null, Value::Null));
    assert_eq!(of(11).0, "retracted");
    assert_eq!(of(5).0, "retracted");
    assert_eq!(of(13).0, "retracted");
    assert_eq!(of(1), v("corrected", 15.into(), Value::Null));
    assert_eq!(of(3), v("standing", Value::Null, Value::Null));
    // 16 corrected 2 as it stood after 9: its date (7) and stance (9) kept.
    let last = &log[15]["statement"];
    assert_eq!(last["said_on"], "2021-02-02");
    assert_eq!(last["stance"], "demands");
    assert_eq!(last["proposition"]["location"], "SYR");
    let text = l.out(&["show", "13"]);
    assert!(text.contains("retracted by seq 14: not said"), "{text}");
    l.verify_clean();
}

/// `history` selects each statement as it stands: a statement whose
/// correction gave it another party, date, stance or place is found by what
/// the correction says, not by what it first said (its stored bytes, which
/// `history` tests before decoding anything); a retracted one by what it
/// said; a joint statement by any of its parties. The same on both sides of
/// a positions snapshot. `log` selects each event as recorded: a statement
/// by what it first said, a correction by what it says.
#[test]
fn history_selects_each_statement_as_it_stands_and_log_as_recorded() {
    let l = Ledger::new();
    let said = |i: u64, party: &str| {
        let line = GOOD
            .replace("France calls for the withdrawal", &format!("statement {i}"))
            .replace("\"FRA\"", &format!("\"{party}\""));
        l.run(&["append", "--json", &line]).assert().success();
    };
    let correct = |of: &str, flags: &[&str]| {
        let mut args = vec!["append", "--correct", of, "--reason", "wrong"];
        args.extend_from_slice(flags);
        l.run(&args).assert().success();
    };
    said(1, "FRA");
    said(2, "FRA");
    said(3, "GBR");
    said(4, "FRA");
    correct("1", &["--party", "GBR"]); // 5
    correct("2", &["--said-on", "2020-06-01"]); // 6
    correct("4", &["--location", "SYR", "--stance", "demands"]); // 7
    l.run(&["append", "--retract", "3", "--reason", "not said"])
        .assert()
        .success(); // 8
    let joint = GOOD
        .replace("France calls for the withdrawal", "statement 9")
        .replace(
            "\"party\":\"FRA\"",
            "\"party\":\"FRA\",\"joint_with\":[\"DEU\"]",
        );
    l.run(&["append", "--json", &joint]).assert().success(); // 9
                                                             // The seqs a command shows, selected by `args`.
    let seqs_of = |command: &str, args: &[&str]| -> Vec<u64> {
        let mut all = vec![command, "--json"];
        all.extend_from_slice(args);
        l.json_lines(&all)
            .iter()
            .map(|v| v["seq"].as_u64().expect("a seq"))
            .collect()
    };
    let seqs = |args: &[&str]| seqs_of("history", args);
    let check = || {
        assert_eq!(
            seqs(&["--party", "GBR"]),
            [1, 3],
            "1 as corrected, 3 retracted"
        );
        assert_eq!(seqs(&["--party", "FRA"]), [2, 4, 9]);
        assert_eq!(seqs(&["--party", "DEU"]), [9], "a joint party");
        assert_eq!(seqs(&["--party", "FRA", "--to", "2020-12-31"]), [2]);
        assert_eq!(seqs(&["--party", "FRA", "--from", "2021-01-01"]), [4, 9]);
        assert_eq!(seqs(&["--location", "SYR"]), [4]);
        assert_eq!(seqs(&["--location", "LBY", "--party", "FRA"]), [2, 9]);
        assert_eq!(
            seqs(&["--predicate", "withdrawal", "--subject", "TUR"]).len(),
            5
        );
    };
    check();
    let logged = |args: &[&str]| seqs_of("log", args);
    assert_eq!(logged(&["--party", "GBR"]), [3, 5]);
    assert_eq!(logged(&["--party", "FRA"]), [1, 2, 4, 6, 7, 9]);
    assert_eq!(logged(&["--type", "correction", "--party", "GBR"]), [5]);
    assert_eq!(
        logged(&["--type", "statement", "--location", "SYR"]),
        Vec::<u64>::new()
    );
    assert_eq!(logged(&["--location", "SYR"]), [7]);
    assert_eq!(logged(&["--type", "retraction"]), [8]);
    // Positions queried: a snapshot; then one more statement past it.
    l.run(&["positions"]).assert().success();
    said(10, "GBR");
    check_with(&seqs, &["--party", "GBR"], &[1, 3, 10]);
    check_with(&seqs, &["--party", "FRA", "--to", "2020-12-31"], &[2]);
    l.verify_clean();
}

fn check_with(seqs: &dyn Fn(&[&str]) -> Vec<u64>, args: &[&str], want: &[u64]) {
    assert_eq!(seqs(args), want, "{args:?}");
}

/// Corrections and retractions are checked against what the chain recorded
/// after the statement each bears on: a correction of a correction finds its
/// statement through the chain, and an amendment later in a batch that
/// bears on an earlier statement than the one before it is checked against
/// the chain from there.
#[test]
fn amendments_are_checked_against_what_bears_on_their_statement() {
    let l = Ledger::new();
    for i in 1..=8 {
        let line = GOOD.replace(
            "France calls for the withdrawal",
            &format!("France, statement {i}"),
        );
        l.run(&["append", "--json", &line]).assert().success();
    }
    let ok = |args: &[&str]| {
        l.run(args).assert().success();
    };
    ok(&["append", "--retract", "2", "--reason", "a"]); // 9
    ok(&["append", "--correct", "3", "--said-on", "2021-02-02"]); // 10
    ok(&["append", "--retract", "3", "--reason", "b"]); // 11
    ok(&["append", "--correct", "6", "--said-on", "2021-02-03"]); // 12
    for i in 13..=14 {
        let line = GOOD.replace(
            "France calls for the withdrawal",
            &format!("France, statement {i}"),
        );
        l.run(&["append", "--json", &line]).assert().success();
    }
    let head = l.head();
    l.run(&["append", "--correct", "10", "--stance", "demands"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "seq 10 corrects seq 3, which was retracted",
        ));
    l.run(&["append", "--retract", "10", "--reason", "c"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "seq 10 corrects seq 3, which was retracted",
        ));
    let correction = |of: u64, quote: &str| {
        let statement = GOOD
            .replace(r#""type":"statement","#, "")
            .replace("France calls for the withdrawal", quote);
        format!(r#"{{"type":"correction","of":{of},"statement":{statement}}}"#)
    };
    let retraction = |of: u64| format!(r#"{{"type":"retraction","of":{of},"reason":"r"}}"#);
    let import = |lines: &[String]| {
        l.run(&["import", "-"])
            .write_stdin(lines.join("\n") + "\n")
            .assert()
    };
    // The first amendment reads the chain from 13 on, past the retraction
    // of 2 (9); the second, of 2, from 2.
    import(&[retraction(13), correction(2, "x")])
        .code(2)
        .stderr(predicate::str::contains("seq 2 was retracted"));
    import(&[correction(14, "x"), retraction(3)])
        .code(2)
        .stderr(predicate::str::contains("seq 3 was retracted"));
    // The batch's own retraction of 6, then a correction of 12, which corrects 6.
    import(&[correction(12, "x"), retraction(6), correction(12, "y")])
        .code(2)
        .stderr(predicate::str::contains(
            "seq 12 corrects seq 6, which was retracted",
        ));
    assert_eq!(l.head(), head);
    import(&[
        retraction(7),
        correction(12, "x"),
        correction(1, "y"),
        retraction(8),
    ])
    .success();
    let log = l.json_lines(&["log", "--json"]);
    assert_eq!(log.len(), 18);
    assert_eq!(log[6]["status"], "retracted");
    assert_eq!(log[5]["corrected_by"], 16);
    assert_eq!(log[0]["corrected_by"], 17);
    l.verify_clean();
}

/// `log --since` takes a seq as before, `HEAD~N`, and a date or time: the
/// events recorded on or after it.
#[test]
fn log_since_takes_a_seq_a_head_offset_or_a_date() {
    let l = Ledger::new();
    let at = |now: &str, line: &str| {
        l.run(&["append", "--json", line])
            .env("DEMARCHE_NOW", now)
            .assert()
            .success();
    };
    let line = |quote: &str| GOOD.replace("France calls for the withdrawal", quote);
    at("2026-10-01T09:00:00Z", &line("one"));
    at("2026-11-02T09:00:00Z", &line("two"));
    at("2026-11-20T18:00:00Z", &line("three"));
    let seqs = |args: &[&str]| -> Vec<u64> {
        l.out(args)
            .lines()
            .map(|x| {
                serde_json::from_str::<Value>(x).expect("JSON")["seq"]
                    .as_u64()
                    .expect("seq")
            })
            .collect()
    };
    assert_eq!(seqs(&["log", "--json", "--since", "2"]), [2, 3]);
    assert_eq!(seqs(&["log", "--json", "--since", "HEAD~1"]), [2, 3]);
    assert_eq!(seqs(&["log", "--json", "--since", "2026-11"]), [2, 3]);
    assert_eq!(seqs(&["log", "--json", "--since", "2026-11-03"]), [3]);
    assert_eq!(
        seqs(&["log", "--json", "--since", "2026-11-20T17:00Z"]),
        [3]
    );
    assert_eq!(
        seqs(&["log", "--json", "--since", "2026-11-20T20:00+03:00"]),
        [3]
    );
    assert_eq!(
        seqs(&["log", "--json", "--since", "2026-11-21"]),
        Vec::<u64>::new()
    );
    l.run(&["log", "--since", "last-week"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--since"));
    let _ = l.dir();
}

/// The digest index is derived data: an entry dropped from it lets a
/// duplicate through (no more than a writer of the store could append), and
/// `verify` names it; an entry that points at another event is not believed.
#[test]
fn the_digest_index_is_checked_against_the_chain() {
    use demarche::chain::Problem;
    use demarche::ledger::LedgerError;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = common::open(dir.path());
    // Enough records that the stored index covers seq 3 (it is written again
    // every 32 records).
    for i in 1..=40 {
        l.append(common::statement(i)).expect("append");
    }
    let held = l.get(3).expect("seq 3").digest;
    let err = l.append(common::statement(3)).expect_err("a duplicate");
    assert!(
        matches!(err, LedgerError::Duplicate { seq: 3, .. }),
        "{err}"
    );
    drop(l);
    // The bucket that holds seq 3's entry: a batch's entries go to the
    // recent buckets until they are merged into the buckets.
    let bucket = common::with_tree(dir.path(), |t| {
        let b = t.digest_bucket(&held.0);
        [
            format!("mdigest-index/{b:03x}"),
            format!("mdigest-index-recent/{b:03x}"),
        ]
        .into_iter()
        .find(|k| {
            t.get(k)
                .expect("read")
                .is_some_and(|v| v.chunks_exact(16).any(|e| e[..8] == held.0[..8]))
        })
        .expect("a bucket holds seq 3")
    });
    // Seq 3's entry pointed at seq 4: not believed, since seq 4 is another event.
    common::with_tree(dir.path(), |t| {
        let mut v = t.get(&bucket).expect("read").expect("bucket of seq 3");
        let at = v
            .chunks_exact(16)
            .position(|e| e[..8] == held.0[..8])
            .expect("entry of seq 3");
        v[at * 16 + 8..at * 16 + 16].copy_from_slice(&4u64.to_le_bytes());
        t.insert(&bucket, &v).expect("write");
    });
    let l = common::open(dir.path());
    let r = l.verify(None).expect("verify");
    assert!(
        matches!(r.problem, Some(Problem::DigestIndexMismatch { .. })),
        "{:?}",
        r.problem
    );
    drop(l);
    // Seq 3's entry dropped: the duplicate goes in, and verify says why.
    common::with_tree(dir.path(), |t| {
        t.remove(&bucket).expect("remove");
    });
    let l = common::open(dir.path());
    let r = l.verify(None).expect("verify");
    assert!(
        matches!(r.problem, Some(Problem::DigestIndexMismatch { seq: 3, .. })),
        "{:?}",
        r.problem
    );
    drop(l);
    // Without its header the index is made again from the chain.
    common::with_tree(dir.path(), |t| {
        t.remove("mdigest-index").expect("remove");
    });
    let mut l = common::open(dir.path());
    assert!(l.verify(None).expect("verify").is_intact());
    let err = l.append(common::statement(3)).expect_err("a duplicate");
    assert!(
        matches!(err, LedgerError::Duplicate { seq: 3, .. }),
        "{err}"
    );
    assert!(l.verify(None).expect("verify").is_intact());
    l.append_duplicate(common::statement(3)).expect("allowed");
    assert!(l.verify(None).expect("verify").is_intact());
}

/// An import skips what the ledger holds by way of the digest index, but an
/// entry is only a candidate: one forged to name a held event for a new
/// statement does not make the import leave the statement out, and an index
/// without its header is made again from the chain, so what is held is still
/// skipped.
#[test]
fn an_import_skips_only_what_the_chain_confirms_it_holds() {
    use demarche::ledger::{BatchOptions, Incoming};
    let import = |l: &mut demarche::ledger::Ledger, events: Vec<demarche::event::Event>| {
        l.import_batch(
            events.into_iter().map(|event| {
                Ok(Incoming {
                    event: Box::new(event),
                    original: None,
                })
            }),
            BatchOptions {
                skip_known: true,
                ..BatchOptions::default()
            },
        )
        .expect("import")
    };
    // The digest statement 41 will have, from a ledger of its own.
    let scratch = tempfile::tempdir().expect("tempdir");
    let new = {
        let mut s = common::open(scratch.path());
        s.append(common::statement(41)).expect("append").digest
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = common::open(dir.path());
    let first = import(&mut l, (1..=40).map(common::statement).collect());
    assert_eq!((first.appended, first.skipped), (40, 0));
    // Statement 41 repeated within the batch, and 5 and 40 already held.
    let again = import(
        &mut l,
        [5, 41, 40, 41].into_iter().map(common::statement).collect(),
    );
    assert_eq!((again.appended, again.skipped), (1, 3));
    assert_eq!(again.skipped_at, vec![0, 2, 3]);
    assert_eq!(l.get(41).expect("seq 41").digest, new);
    drop(l);
    // An entry for statement 42's digest, forged to name seq 4.
    let newer = {
        let mut s = common::open(scratch.path());
        s.append(common::statement(42)).expect("append").digest
    };
    common::with_tree(dir.path(), |t| {
        let bucket = format!("mdigest-index/{:03x}", t.digest_bucket(&newer.0));
        let mut v = t.get(&bucket).expect("read").unwrap_or_default();
        v.extend_from_slice(&newer.0[..8]);
        v.extend_from_slice(&4u64.to_le_bytes());
        t.insert(&bucket, &v).expect("write");
    });
    let mut l = common::open(dir.path());
    let forged = import(&mut l, vec![common::statement(42)]);
    assert_eq!((forged.appended, forged.skipped), (1, 0));
    assert_eq!(l.get(42).expect("seq 42").digest, newer);
    drop(l);
    // Without its header, the index is made again from the chain.
    common::with_tree(dir.path(), |t| {
        t.remove("mdigest-index").expect("remove");
    });
    let mut l = common::open(dir.path());
    let held = import(
        &mut l,
        [1, 41, 42].into_iter().map(common::statement).collect(),
    );
    assert_eq!((held.appended, held.skipped), (0, 3));
    assert_eq!(l.head().expect("head").size, 42);
    assert!(l.verify(None).expect("verify").is_intact());
}

/// What an import skips does not depend on the order of its lines (the
/// candidates are read from block after block, back and forth), nor on a
/// damaged bucket, which is made again from the chain and written whole;
/// an entry forged to name a seq of the batch itself is dropped.
#[test]
fn an_import_finds_what_is_held_in_any_order_and_past_a_damaged_bucket() {
    use demarche::ledger::{BatchOptions, BatchSummary, Incoming};
    let import = |l: &mut demarche::ledger::Ledger, which: &[u64]| -> BatchSummary {
        l.import_batch(
            which.iter().map(|&i| {
                Ok(Incoming {
                    event: Box::new(common::statement(i)),
                    original: None,
                })
            }),
            BatchOptions {
                skip_known: true,
                ..BatchOptions::default()
            },
        )
        .expect("import")
    };
    let bucket_of = |t: &common::Raw, d: &demarche::event::Hash| {
        format!("mdigest-index/{:03x}", t.digest_bucket(&d.0))
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = common::open(dir.path());
    let all: Vec<u64> = (1..=300).collect();
    assert_eq!(import(&mut l, &all).appended, 300);
    // Backwards, then every seventh from the middle out and around.
    let back: Vec<u64> = all.iter().rev().copied().collect();
    let s = import(&mut l, &back);
    assert_eq!((s.appended, s.skipped), (0, 300));
    let jumps: Vec<u64> = (0..300).map(|k| 1 + (150 + k * 7) % 300).collect();
    let s = import(&mut l, &jumps);
    assert_eq!((s.appended, s.skipped), (0, 300));
    let held = l.get(120).expect("seq 120").digest;
    drop(l);
    // The bucket of seq 120 cut short by a byte: made again from the chain.
    common::with_tree(dir.path(), |t| {
        let key = bucket_of(t, &held);
        let mut v = t.get(&key).expect("read").expect("bucket of seq 120");
        v.pop();
        t.insert(&key, &v).expect("write");
    });
    let mut l = common::open(dir.path());
    assert!(!l.verify(None).expect("verify").is_intact());
    let s = import(&mut l, &[120, 301]);
    assert_eq!((s.appended, s.skipped), (1, 1));
    assert_eq!(s.skipped_at, vec![0]);
    // Written whole by the commit.
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    // Statement 303's digest, and an entry forged for it naming seq 302,
    // which the next batch's first event (statement 302) will hold.
    let scratch = tempfile::tempdir().expect("tempdir");
    let later = {
        let mut s = common::open(scratch.path());
        s.append(common::statement(303)).expect("append").digest
    };
    drop(l);
    common::with_tree(dir.path(), |t| {
        let key = bucket_of(t, &later);
        let mut v = t.get(&key).expect("read").unwrap_or_default();
        v.extend_from_slice(&later.0[..8]);
        v.extend_from_slice(&302u64.to_le_bytes());
        t.insert(&key, &v).expect("write");
    });
    let mut l = common::open(dir.path());
    let r = l.verify(None).expect("verify");
    assert!(
        matches!(
            r.problem,
            Some(demarche::chain::Problem::DigestIndexMismatch { .. })
        ),
        "{:?}",
        r.problem
    );
    let s = import(&mut l, &[302, 303]);
    assert_eq!((s.appended, s.skipped), (2, 0));
    assert_eq!(l.get(303).expect("seq 303").digest, later);
    // An entry past the seqs the index covers is dropped, and its bucket
    // written again.
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
}

/// A wrong alias is retired and given to the right actor; a wrong actor is
/// retired and can no longer be named, while what was recorded before keeps
/// its id; a role is retired by a retraction of its event.
#[test]
fn a_wrong_alias_actor_or_role_is_retired_by_a_later_event() {
    let l = Ledger::demo();
    // "Ankara" given to Russia by mistake.
    l.run(&["actor", "alias", "RUS", "Ankara"])
        .assert()
        .success();
    let alias_seq = l.json(&["show", "HEAD", "--json"])["seq"].clone();
    l.run(&["actor", "alias", "TUR", "Ankara"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already resolves to RUS"));
    l.run(&[
        "actor",
        "alias",
        "RUS",
        "Ankara",
        "--remove",
        "--reason",
        "wrong actor",
    ])
    .assert()
    .success();
    let r = l.json(&["show", "HEAD", "--json"]);
    assert_eq!(r["type"], "retraction");
    assert_eq!(r["of"], alias_seq);
    l.run(&["actor", "show", "Ankara"]).assert().code(2);
    l.run(&["actor", "alias", "TUR", "Ankara"])
        .assert()
        .success();
    assert_eq!(l.json(&["actor", "show", "Ankara", "--json"])["id"], "TUR");
    let rus = l.json(&["actor", "show", "RUS", "--json"]);
    assert!(
        !rus["aliases"]
            .as_array()
            .expect("aliases")
            .contains(&"Ankara".into()),
        "{rus}"
    );
    assert_eq!(rus["retired_aliases"][0]["alias"], "Ankara");
    l.run(&[
        "actor", "alias", "RUS", "Ankara", "--remove", "--reason", "again",
    ])
    .assert()
    .code(2);
    // The same alias event retracted twice: refused.
    l.run(&[
        "append",
        "--retract",
        &alias_seq.to_string(),
        "--reason",
        "twice",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("was retired by seq"));

    // An actor added by mistake, named in a statement, then retired.
    l.run(&[
        "actor",
        "add",
        "--id",
        "XMIL",
        "--name",
        "Some Militia",
        "--kind",
        "group",
        "--alias",
        "The Militia",
    ])
    .assert()
    .success();
    l.run(&[
        "actor",
        "add",
        "--id",
        "XMIL-WING",
        "--name",
        "Militia Wing",
        "--kind",
        "group",
        "--parent",
        "XMIL",
    ])
    .assert()
    .success();
    let said = GOOD.replace("\"subjects\":[\"TUR\"]", "\"subjects\":[\"The Militia\"]");
    l.run(&["append", "--json", &said]).assert().success();
    let statement = l.json(&["show", "HEAD", "--json"]);
    assert_eq!(statement["proposition"]["subjects"][0], "XMIL");
    l.run(&[
        "actor",
        "retire",
        "The Militia",
        "--reason",
        "no such group",
    ])
    .assert()
    .success();
    let retired_by = l.json(&["show", "HEAD", "--json"])["seq"].clone();
    let again = GOOD.replace("\"subjects\":[\"TUR\"]", "\"subjects\":[\"XMIL\"]");
    l.run(&["append", "--json", &again])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "XMIL was retired by seq {retired_by}"
        )));
    l.run(&["append", "--json", &said])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown actor"));
    // Its name is free again; its id is not.
    l.run(&[
        "actor",
        "add",
        "--id",
        "XMIL2",
        "--name",
        "Some Militia",
        "--kind",
        "group",
    ])
    .assert()
    .success();
    l.run(&[
        "actor", "add", "--id", "XMIL", "--name", "Another", "--kind", "group",
    ])
    .assert()
    .code(2);
    // What was recorded keeps its id and its meaning.
    let seq = statement["seq"].to_string();
    assert_eq!(
        l.json(&["show", &seq, "--json"])["proposition"]["subjects"][0],
        "XMIL"
    );
    let found = l.out(&["log", "--subject", "XMIL", "--json"]);
    assert_eq!(found.lines().count(), 1, "{found}");
    let shown = l.json(&["actor", "show", "XMIL", "--json"]);
    assert_eq!(shown["retired_by"], retired_by);
    assert!(l
        .out(&["actor", "list"])
        .contains(&format!("[retired by seq {retired_by}]")));
    assert_eq!(
        l.json(&["actor", "show", "XMIL-WING", "--json"])["parent"],
        "XMIL"
    );
    l.run(&["actor", "retire", "UN", "--reason", "no"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("starter set"));

    // A role recorded wrongly, retired by a retraction of its event.
    l.run(&[
        "actor",
        "add",
        "--id",
        "LAVROV",
        "--name",
        "Sergey Lavrov",
        "--kind",
        "person",
    ])
    .assert()
    .success();
    l.run(&[
        "actor",
        "role",
        "LAVROV",
        "--of",
        "TUR",
        "--role",
        "foreign minister",
        "--from",
        "2004-03-09",
    ])
    .assert()
    .success();
    l.run(&["append", "--retract", "HEAD", "--reason", "wrong state"])
        .assert()
        .success();
    let lavrov = l.json(&["actor", "show", "LAVROV", "--json"]);
    assert!(lavrov.get("roles").is_none(), "{lavrov}");
    l.verify_clean();
}

/// `show` of a retired alias event says so, in text and JSON.
#[test]
fn show_says_an_alias_event_was_retired() {
    let l = Ledger::demo();
    l.run(&["actor", "alias", "RUS", "Ankara"])
        .assert()
        .success();
    assert_eq!(l.json(&["show", "HEAD", "--json"])["status"], "standing");
    l.run(&["append", "--retract", "HEAD", "--reason", "wrong actor"])
        .assert()
        .success();
    let v = l.json(&["show", "HEAD~1", "--json"]);
    let by = l.json(&["show", "HEAD", "--json"])["seq"].clone();
    assert_eq!(v["status"], "retired");
    assert_eq!(v["retired_by"], by);
    assert!(l
        .out(&["show", "HEAD~1"])
        .contains(&format!("retired by seq {by}")));
}

/// `amend` opens the statement as it stands in the editor and records only
/// what changed; an untouched file records nothing; a broken edit is kept.
#[test]
fn amend_records_what_the_editor_changed() {
    let l = Ledger::demo();
    l.run(&["append", "--json", GOOD]).assert().success();
    let seq = l.json(&["show", "HEAD", "--json"])["seq"].clone();
    let tmp = l.dir().join("tmp");
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let amend = |editor: &str, args: &[&str]| {
        let mut c = l.run(&["amend"]);
        c.args(args)
            .env("TMPDIR", &tmp)
            .env_remove("VISUAL")
            .env("EDITOR", editor);
        c
    };
    // Nothing changed: nothing recorded.
    let head = l.head();
    amend("true", &["HEAD"])
        .assert()
        .success()
        .stderr(predicate::str::contains("nothing recorded"));
    assert_eq!(l.head(), head);
    // The day changed, and only the day.
    amend(
        "sed -i s/2021-02-01/2021-02-02/",
        &["HEAD", "--reason", "wrong day"],
    )
    .assert()
    .success()
    .stderr(predicate::str::contains(format!(
        "correcting seq {seq}: changed said_on; every other field as it stands"
    )));
    let c = l.json(&["show", "HEAD", "--json"]);
    assert_eq!(c["type"], "correction");
    assert_eq!(c["of"], seq);
    assert_eq!(c["reason"], "wrong day");
    assert_eq!(c["statement"]["said_on"], "2021-02-02");
    assert_eq!(c["statement"]["proposition"]["subjects"][0], "TUR");
    assert_eq!(c["statement"]["proposition"]["location"], "LBY");
    // It opens as corrected: a second edit starts from 2021-02-02.
    amend("sed -i s/2021-02-02/2021-02-03/", &[&seq.to_string()])
        .assert()
        .success();
    assert_eq!(
        l.json(&["show", "HEAD", "--json"])["statement"]["said_on"],
        "2021-02-03"
    );
    assert!(std::fs::read_dir(&tmp).expect("tmp").next().is_none());
    // A broken edit: nothing recorded, the file kept and named.
    let head = l.head();
    let out = amend("sed -i s/calls-for./calls-for/", &["HEAD~1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"))
        .stderr(predicate::str::contains("--file"));
    assert_eq!(l.head(), head);
    let kept: PathBuf = std::fs::read_dir(&tmp)
        .expect("tmp")
        .next()
        .expect("the edit is kept")
        .expect("entry")
        .path();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains(kept.to_str().expect("utf-8")), "{stderr}");
    // Fixed, and taken back with --file.
    let fixed = std::fs::read_to_string(&kept)
        .expect("read")
        .replace("\"calls-for,", "\"demands\",");
    std::fs::write(&kept, fixed).expect("write");
    amend(
        "false",
        &["HEAD~1", "--file", kept.to_str().expect("utf-8")],
    )
    .assert()
    .success()
    .stderr(predicate::str::contains("changed stance"));
    assert_eq!(
        l.json(&["show", "HEAD", "--json"])["statement"]["stance"],
        "demands"
    );
    // A field the check refuses names it, and keeps the edit.
    amend("sed -i s/demands/urgesx/", &["HEAD"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("stance"))
        .stderr(predicate::str::contains("your edit is kept"));
    l.verify_clean();
}

/// `evidence --view` holds only the view's positions and the records they
/// rest on, names the view in the bundle, and still checks.
#[test]
fn evidence_of_a_view_holds_only_its_positions() {
    let l = Ledger::demo();
    let k = l.dir().join("k");
    l.run(&[
        "key",
        "generate",
        "--name",
        "newsroom.example/ledger",
        "--out",
    ])
    .arg(&k)
    .assert()
    .success();
    let key = l.dir().join("k.key");
    let vkey = l.dir().join("k.vkey");
    let bundle = |view: Option<&str>, name: &str| -> (PathBuf, Value) {
        let path = l.dir().join(name);
        let mut c = l.run(&["evidence", "--as-of", "2021-01-29", "--sign"]);
        c.arg(&key).arg("-o").arg(&path);
        if let Some(v) = view {
            c.args(["--view", v]);
        }
        c.assert().success();
        let v = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        (path, v)
    };
    let (_, all) = bundle(None, "all.evidence");
    assert!(all["query"].get("view").is_none());
    for view in ["withdrawal", "presence"] {
        let (path, b) = bundle(Some(view), &format!("{view}.evidence"));
        assert_eq!(b["query"]["view"], view);
        let ps = b["positions"].as_array().expect("positions");
        assert!(!ps.is_empty());
        assert!(ps.len() < all["positions"].as_array().expect("all").len());
        assert!(ps.iter().all(|p| p["predicate"] == view), "{ps:?}");
        assert!(
            b["records"].as_array().expect("records").len()
                < all["records"].as_array().expect("records").len()
        );
        let shown = l.out(&[
            "positions",
            "--as-of",
            "2021-01-29",
            "--view",
            view,
            "--json",
        ]);
        assert_eq!(shown.lines().count(), ps.len());
        l.run(&["check-evidence"])
            .arg(&path)
            .arg("--key")
            .arg(&vkey)
            .assert()
            .success();
    }
}

/// `--no-members` takes an actor alone, on every command that selects;
/// `--with-members` is the default said out loud.
#[test]
fn no_members_takes_the_actor_alone_everywhere() {
    let l = Ledger::demo();
    let parties = |args: &[&str], field: &str| -> Vec<String> {
        l.out(args)
            .lines()
            .map(|x| {
                serde_json::from_str::<Value>(x).expect("JSON")[field]
                    .as_str()
                    .expect("party")
                    .to_string()
            })
            .collect()
    };
    for (cmd, field) in [
        (&["positions", "--json"][..], "party"),
        (&["log", "--type", "statement", "--json"][..], "party"),
        (&["history", "--json"][..], "party"),
    ] {
        let mut with: Vec<&str> = cmd.to_vec();
        with.extend(["--party", "UN"]);
        let all = parties(&with, field);
        assert!(all.iter().any(|p| p == "UNSC"), "{cmd:?}: {all:?}");
        let mut explicit = with.clone();
        explicit.push("--with-members");
        assert_eq!(parties(&explicit, field), all, "{cmd:?}");
        let mut alone = with.clone();
        alone.push("--no-members");
        let un = parties(&alone, field);
        assert!(
            !un.is_empty() && un.iter().all(|p| p == "UN"),
            "{cmd:?}: {un:?}"
        );
        alone.push("--with-members");
        l.run(&alone).assert().code(2);
    }
    let diff = |extra: &[&str]| {
        let mut a = vec![
            "diff",
            "--from",
            "2021-01-01",
            "--to",
            "2021-01-29",
            "--party",
            "UN",
            "--json",
        ];
        a.extend(extra);
        l.out(&a)
    };
    assert!(diff(&[]).contains("UNSC"));
    assert!(!diff(&["--no-members"]).contains("UNSC"));
    let graph = |extra: &[&str]| {
        let mut a = vec!["graph", "--party", "UN", "--format", "json"];
        a.extend(extra);
        l.out(&a)
    };
    assert!(graph(&[]).contains("UNSC"));
    assert!(!graph(&["--no-members"]).contains("UNSC"));
    let timeline = |extra: &[&str]| {
        let mut a = vec!["timeline", "--party", "UN"];
        a.extend(extra);
        l.out(&a)
    };
    assert!(timeline(&[]).contains("UNSC"));
    assert!(!timeline(&["--no-members"]).contains("UNSC"));
    // A bundle records the members it counted, and checks.
    let k = l.dir().join("k");
    l.run(&["key", "generate", "--name", "n.example/l", "--out"])
        .arg(&k)
        .assert()
        .success();
    for (extra, members) in [(None, true), (Some("--no-members"), false)] {
        let path = l.dir().join("un.evidence");
        let mut c = l.run(&["evidence", "--party", "UN", "--force", "--sign"]);
        c.arg(l.dir().join("k.key")).arg("-o").arg(&path);
        c.args(extra);
        c.assert().success();
        let b: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        let inc = b["query"]["filter"]["includes"]["party"]
            .as_array()
            .expect("list");
        assert_eq!(inc.contains(&"UNSC".into()), members, "{inc:?}");
        assert_eq!(
            b["positions"]
                .as_array()
                .expect("positions")
                .iter()
                .any(|p| p["party"] == "UNSC"),
            members
        );
        l.run(&["check-evidence"])
            .arg(&path)
            .arg("--key")
            .arg(l.dir().join("k.vkey"))
            .assert()
            .success();
    }
}

/// `--known-at` takes `HEAD~N` as it takes a seq.
#[test]
fn known_at_takes_head_offsets() {
    let l = Ledger::demo();
    let size: u64 = l
        .head()
        .split(':')
        .next()
        .expect("size")
        .parse()
        .expect("n");
    assert_eq!(
        l.out(&["positions", "--known-at", "HEAD~3", "--json"]),
        l.out(&["positions", "--known-at", &(size - 3).to_string(), "--json"])
    );
    assert_ne!(
        l.out(&["positions", "--known-at", "HEAD~3", "--json"]),
        l.out(&["positions", "--known-at", "HEAD", "--json"])
    );
    l.run(&["positions", "--known-at", "HEAD~99"])
        .assert()
        .code(2);
}

/// A digest index as every release before the buckets' number was named
/// wrote it (4,096 buckets by the first 12 bits, under a header of 40
/// bytes), whatever the ledger's size, is believed as it is on either
/// engine: `verify` compares it by 12 bits, a held statement is refused by
/// it, and the records after it go to recent buckets numbered as it is.
#[test]
fn a_digest_index_of_4096_buckets_under_a_header_of_40_bytes_is_read_as_it_is() {
    use demarche::chain::Problem;
    use demarche::ledger::LedgerError;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = common::open(dir.path());
    for i in 1..=40 {
        l.append(common::statement(i)).expect("append");
    }
    let digests: Vec<_> = (1..=40u64)
        .map(|seq| (seq, l.get(seq).expect("get").digest))
        .collect();
    drop(l);
    // The index written again as 4,096 buckets covering all 40 records.
    common::with_tree(dir.path(), |t| {
        assert_eq!(t.digest_bits(), 9, "a small ledger's buckets: 512");
        let header = t.get("mdigest-index").expect("read").expect("header");
        for k in t.prefix_keys(b"mdigest-index") {
            t.remove(&k).expect("remove");
        }
        let mut old = std::collections::BTreeMap::<u16, Vec<u8>>::new();
        for (seq, d) in &digests {
            let b = old
                .entry(u16::from_be_bytes([d.0[0], d.0[1]]) >> 4)
                .or_default();
            b.extend_from_slice(&d.0[..8]);
            b.extend_from_slice(&seq.to_le_bytes());
        }
        for (b, v) in &old {
            t.insert(format!("mdigest-index/{b:03x}"), v.as_slice())
                .expect("write");
        }
        let head = t.get("h").expect("read").expect("head");
        let mut forty = 40u64.to_le_bytes().to_vec();
        forty.extend_from_slice(&head[9..41]);
        assert_eq!(header.len(), 41);
        t.insert("mdigest-index", forty.as_slice()).expect("write");
        assert_eq!(t.digest_bits(), 12);
    });
    let mut l = common::open(dir.path());
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    let err = l.append(common::statement(3)).expect_err("a duplicate");
    assert!(
        matches!(err, LedgerError::Duplicate { seq: 3, .. }),
        "{err}"
    );
    // 40 more: written to recent buckets numbered by 12 bits (up to seq 72,
    // 32 records past the buckets' own).
    for i in 41..=80 {
        l.append(common::statement(i)).expect("append");
    }
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    let later = l.get(60).expect("seq 60").digest;
    drop(l);
    let recent = common::with_tree(dir.path(), |t| {
        assert_eq!(t.digest_bits(), 12);
        let keys = t.prefix_keys(b"mdigest-index-recent/");
        assert!(!keys.is_empty());
        for k in &keys {
            let b = u16::from_str_radix(std::str::from_utf8(&k[21..]).expect("utf-8"), 16)
                .expect("hex");
            let v = t.get(k).expect("read").expect("bucket");
            assert!(v
                .chunks_exact(16)
                .all(|e| u16::from_be_bytes([e[0], e[1]]) >> 4 == b));
        }
        format!(
            "mdigest-index-recent/{:03x}",
            u16::from_be_bytes([later.0[0], later.0[1]]) >> 4
        )
    });
    // Seq 60's entry dropped from its recent bucket: named by its 12 bits.
    common::with_tree(dir.path(), |t| {
        let v = t.get(&recent).expect("read").expect("seq 60's bucket");
        let kept: Vec<u8> = v
            .chunks_exact(16)
            .filter(|e| e[..8] != later.0[..8])
            .flatten()
            .copied()
            .collect();
        assert_eq!(kept.len() + 16, v.len());
        t.insert(&recent, kept.as_slice()).expect("write");
    });
    let l = common::open(dir.path());
    match l.verify(None).expect("verify").problem {
        Some(Problem::DigestIndexMismatch { seq, detail }) => {
            assert_eq!(seq, 60, "{detail}");
            assert!(
                detail.contains(&format!("bucket {}", &recent[21..])),
                "{detail}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Entries the chain does not make, even in a bucket it leaves empty, or an
/// entry filed under another bucket than its digest's: `verify` names them.
#[test]
fn digest_index_entries_the_chain_does_not_make_are_named() {
    use demarche::chain::Problem;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut l = common::open(dir.path());
    for i in 1..=40 {
        l.append(common::statement(i)).expect("append");
    }
    let held = l.get(3).expect("seq 3").digest;
    drop(l);
    let (own, empty, bits) = common::with_tree(dir.path(), |t| {
        let bits = t.digest_bits();
        let empty = (0u16..1 << bits)
            .find(|b| {
                t.get(format!("mdigest-index/{b:03x}"))
                    .expect("read")
                    .is_none()
            })
            .expect("an empty bucket");
        (t.digest_bucket(&held.0), empty, bits)
    });
    for (bucket, entry_bucket) in [(empty, empty), (empty, own)] {
        let dir2 = tempfile::tempdir().expect("tempdir");
        for f in std::fs::read_dir(dir.path()).expect("dir") {
            let f = f.expect("entry");
            if f.file_type().expect("type").is_file() {
                std::fs::copy(f.path(), dir2.path().join(f.file_name())).expect("copy");
            }
        }
        let mut entry = [0u8; 16];
        let hi = entry_bucket << (16 - bits);
        entry[..2].copy_from_slice(&hi.to_be_bytes());
        entry[8..].copy_from_slice(&7u64.to_le_bytes());
        common::with_tree(dir2.path(), |t| {
            t.insert(format!("mdigest-index/{bucket:03x}"), entry)
                .expect("write");
        });
        let r = common::open(dir2.path()).verify(None).expect("verify");
        match r.problem {
            Some(Problem::DigestIndexMismatch { detail, .. }) => {
                assert!(detail.contains(&format!("bucket {bucket:03x}")), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }
}
