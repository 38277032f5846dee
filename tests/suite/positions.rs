//! Positions of the worked example, and the positions, history and diff commands.

use crate::common;

use common::bin;
use demarche::ledger::Ledger;
use demarche::projection::{KnownAt, Position, Query};
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn example() -> Ledger {
    let mut l = Ledger::in_memory();
    demarche::example::record(&mut l).expect("record the example");
    l
}

fn as_of(l: &Ledger, y: i16, m: i8, d: i8) -> Vec<Position> {
    l.positions(&Query {
        as_of: Some(jiff::civil::date(y, m, d)),
        ..Query::default()
    })
    .expect("positions")
}

fn find<'a>(ps: &'a [Position], party: &str, predicate: &str, subject: &str) -> Vec<&'a Position> {
    ps.iter()
        .filter(|p| {
            p.key.party == party
                && p.key.predicate == predicate
                && p.key.subject.as_deref() == Some(subject)
        })
        .collect()
}

#[test]
fn the_worked_example_as_of_29_january_2021() {
    let l = example();
    let ps = as_of(&l, 2021, 1, 29);
    // The US calls for the withdrawal of Russia and of Turkey from Libya: a call.
    for subject in ["RUS", "TUR"] {
        let p = find(&ps, "USA", "withdrawal", subject);
        assert_eq!(p.len(), 1, "USA on {subject}");
        assert_eq!(p[0].stance, "calls-for");
        assert_eq!(p[0].key.location.as_deref(), Some("LBY"));
        assert_eq!(demarche::projection::stance_kind(&p[0].stance), "appeal");
    }
    // The UN (its Secretary-General) and the Security Council call for the withdrawal of all foreign forces.
    for party in ["UN", "UNSC"] {
        let p = find(&ps, party, "withdrawal", "FOREIGN-FORCES");
        assert_eq!(p.len(), 1, "{party}");
        assert_eq!(p[0].stance, "calls-for");
    }
    // Russia denies military personnel in Libya, and does not exclude mercenaries (hedged).
    let russia = find(&ps, "RUS", "presence", "RUS");
    assert_eq!(russia.len(), 2);
    let denial = russia
        .iter()
        .find(|p| p.key.qualifier.as_deref() == Some("military-personnel"))
        .expect("denial");
    assert_eq!(denial.stance, "denies");
    assert_eq!(denial.hedge, None);
    let hedged = russia
        .iter()
        .find(|p| p.key.qualifier.as_deref() == Some("mercenaries"))
        .expect("hedged");
    assert_eq!(hedged.stance, "acknowledges");
    assert!(hedged
        .hedge
        .as_deref()
        .is_some_and(|h| h.contains("cannot totally exclude")));
    // The UN asserts that foreign forces are present.
    let un = find(&ps, "UN", "presence", "FOREIGN-FORCES");
    assert_eq!(un.len(), 1);
    assert_eq!(un[0].stance, "asserts");
    // The formal demand of resolution 660 stands beside the calls, marked as a demand.
    let demand = find(&ps, "UNSC", "withdrawal", "IRQ");
    assert_eq!(demand.len(), 1);
    assert_eq!(demand[0].stance, "demands");
    assert_eq!(
        demarche::projection::stance_kind(&demand[0].stance),
        "demand"
    );
}

#[test]
fn the_worked_example_as_of_27_january_2021_holds_none_of_it() {
    let l = example();
    let ps = as_of(&l, 2021, 1, 27);
    assert!(
        ps.iter().all(|p| p.key.location.as_deref() != Some("LBY")),
        "{ps:?}"
    );
    assert_eq!(ps.len(), 1, "only resolution 660 of 1990");
}

#[test]
fn known_at_shows_what_the_ledger_held_then() {
    let l = example();
    let q = |k| Query {
        known_at: Some(k),
        ..Query::default()
    };
    assert_eq!(
        l.positions(&q(KnownAt::Seq(0))).expect("positions").len(),
        0
    );
    let three = l.positions(&q(KnownAt::Seq(3))).expect("positions");
    assert!(three.iter().all(|p| p.seq <= 3));
    assert_eq!(find(&three, "USA", "withdrawal", "RUS").len(), 1);
    assert!(find(&three, "RUS", "presence", "RUS").is_empty());
}

fn demarche(dir: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(dir.join("ledger"));
    c
}

/// `history`, `log` and `timeline` with a selection read, where a positions
/// snapshot is believed, only the blocks of the records it says may match,
/// then every record past it: their answers are those of a read of every
/// record, and a damaged block that holds none of them is not read (`verify`
/// finds it).
#[test]
fn history_log_and_timeline_read_only_the_blocks_a_snapshot_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let key = [5u8; 32];
    let say = |party: &str, more: &str, day: u32| {
        demarche::json::parse_event(&format!(
            r#"{{"type":"statement","said_on":"2023-08-{:02}","party":"{party}"{more},"stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["FRA"],"location":"NER"}},"quote":"q {day}","source":{{"publisher":"p"}}}}"#,
            1 + day % 28
        ))
    };
    {
        let mut l = common::open(&ledger);
        l.set_cache_key(key);
        // Blocks of statements by the United States alone.
        l.append_batch((0..300).map(|i| say("USA", "", i)))
            .expect("batch");
        // Niger's, one joint with Mali, one corrected, one retracted, among
        // others.
        l.append_batch((0..40).map(|i| match i % 10 {
            0 => say("NER", "", i),
            5 => say("NER", r#","joint_with":["MLI"]"#, i),
            _ => say("USA", "", i + 300),
        }))
        .expect("batch");
        let ner = |l: &Ledger| {
            l.iter(1, u64::MAX)
                .expect("iter")
                .map(|r| r.expect("read"))
                .filter(|r| matches!(&r.event, Some(demarche::event::Event::Statement(s)) if s.party == "NER"))
                .map(|r| r.seq)
                .collect::<Vec<_>>()
        };
        let seqs = ner(&l);
        assert_eq!(seqs.len(), 8);
        let fix = format!(
            r#"{{"type":"correction","of":{},"reason":"r","statement":{{"said_on":"2023-08-20","party":"NER","stance":"demands","proposition":{{"predicate":"withdrawal","subjects":["FRA"],"location":"NER"}},"quote":"q","source":{{"publisher":"p"}}}}}}"#,
            seqs[0]
        );
        let gone = format!(r#"{{"type":"retraction","of":{},"reason":"r"}}"#, seqs[1]);
        l.append_batch([fix, gone].iter().map(|e| demarche::json::parse_event(e)))
            .expect("amend");
        l.snapshot_now().expect("snapshot");
        // Past the snapshot: read whole.
        l.append_batch([say("NER", "", 99), say("USA", "", 999)])
            .expect("tail");
    }
    let hex = demarche::hex::encode(&key);
    let run = |key: &str, args: &[&str]| {
        let out = bin()
            .env("DEMARCHE_CACHE_KEY", key)
            .arg("--ledger")
            .arg(&ledger)
            .args(args)
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8(out.stdout).expect("utf-8"),
        )
    };
    let asked: [&[&str]; 5] = [
        &["history", "--party", "NER"],
        &["history", "--party", "Niger", "--json"],
        &["log", "--party", "NER", "--json"],
        &["log", "--party", "MLI"],
        &["timeline", "--party", "NER", "--output", "-"],
    ];
    let answers: Vec<_> = asked.iter().map(|a| run(&hex, a)).collect();
    for (args, with) in asked.iter().zip(&answers) {
        // No cache key: no snapshot is believed, and every record is read.
        assert_eq!(with, &run("", args), "{args:?}");
        assert_eq!(with.0, Some(0), "{args:?}");
    }
    let history = &answers[0].1;
    let rows = history.lines().filter(|l| l.starts_with("2023-")).count();
    assert_eq!(rows, 9, "{history}");
    assert!(history.contains("[as corrected by seq"), "{history}");
    assert!(history.contains("[retracted by seq"), "{history}");
    assert!(history.contains("NER+MLI"), "{history}");
    // A block of the United States' statements alone, below the snapshot,
    // damaged: not read by a selection of Niger's, which answers as before;
    // a read of every record meets it, and so does `verify`.
    common::with_tree(&ledger, |t| {
        let (k, v, _) = common::find_block(t, 5);
        assert!(t.block_at_or_before(5).is_some());
        let mut bad = common::seal(&v);
        bad[0] = 0xEE;
        t.insert(&k, &bad).expect("write");
    });
    for (args, with) in asked.iter().zip(&answers) {
        assert_eq!(&run(&hex, args), with, "{args:?}");
        assert_eq!(run("", args).0, Some(1), "{args:?}");
    }
    assert_eq!(run(&hex, &["verify"]).0, Some(1));
}

fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    demarche(dir.path()).arg("demo").assert().success();
    dir
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn the_cli_views_show_calls_and_demands_side_by_side() {
    let dir = demo();
    demarche(dir.path())
        .args(["positions", "--as-of", "2021-01-29", "--view", "withdrawal"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "RUS (Russia), asked to leave LBY (Libya):",
        ))
        .stdout(predicate::str::contains("DEMAND"))
        .stdout(predicate::str::contains("call"));
    demarche(dir.path())
        .args(["positions", "--as-of", "2021-01-29", "--view", "presence"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "acknowledges (hedged: which we cannot totally exclude) presence of RUS [mercenaries]",
        ));
    let out = demarche(dir.path())
        .args([
            "positions",
            "--as-of",
            "2021-01-29",
            "--party",
            "Russian Federation",
            "--json",
        ])
        .assert()
        .success();
    let ps = lines(&out.get_output().stdout);
    assert_eq!(ps.len(), 3);
    assert!(ps.iter().all(|p| p["party"] == "RUS"));
    let out = demarche(dir.path())
        .args(["positions", "--stance", "demands", "--json"])
        .assert()
        .success();
    let ps = lines(&out.get_output().stdout);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0]["cameo"], "1056");
    assert_eq!(ps[0]["stance_kind"], "demand");
}

#[test]
fn a_correction_and_a_retraction_move_positions_and_known_at_goes_back() {
    let dir = demo();
    // Correct the US call (seq 3) into a demand, then retract Russia's denial (seq 5).
    let correction = r#"{"type":"correction","of":3,"statement":{"said_on":"2021-01-28","party":"USA","stance":"demands","proposition":{"predicate":"withdrawal","subjects":["TUR","RUS"],"location":"LBY"},"quote":"q","source":{"publisher":"p"}},"reason":"test"}"#;
    demarche(dir.path())
        .args(["append", "--json", correction])
        .assert()
        .success();
    demarche(dir.path())
        .args(["append", "--retract", "5", "--reason", "test"])
        .assert()
        .success();
    let out = demarche(dir.path())
        .args([
            "positions",
            "--json",
            "--party",
            "USA",
            "--predicate",
            "withdrawal",
        ])
        .assert()
        .success();
    assert!(lines(&out.get_output().stdout)
        .iter()
        .all(|p| p["stance"] == "demands"));
    let out = demarche(dir.path())
        .args([
            "positions",
            "--json",
            "--party",
            "RUS",
            "--predicate",
            "presence",
        ])
        .assert()
        .success();
    assert_eq!(
        lines(&out.get_output().stdout).len(),
        1,
        "the denial is retracted"
    );
    let out = demarche(dir.path())
        .args([
            "positions",
            "--json",
            "--party",
            "RUS",
            "--predicate",
            "presence",
            "--known-at",
            "10",
        ])
        .assert()
        .success();
    assert_eq!(
        lines(&out.get_output().stdout).len(),
        2,
        "as known before the retraction"
    );
    demarche(dir.path())
        .args(["history", "--party", "RUS"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[retracted by seq "))
        .stdout(predicate::str::contains(
            "We don't have any military personnel",
        ));
    demarche(dir.path())
        .args(["history", "--party", "USA"])
        .assert()
        .success()
        .stdout(predicate::str::contains("[as corrected by seq 11]"));
}

#[test]
fn diff_between_two_dates() {
    let dir = demo();
    let out = demarche(dir.path())
        .args([
            "diff",
            "--from",
            "2021-01-27",
            "--to",
            "2021-01-29",
            "--json",
        ])
        .assert()
        .success();
    let changes = lines(&out.get_output().stdout);
    assert!(changes.iter().all(|c| c["change"] == "appeared"));
    // One per (statement, subject) of 28-29 January: 1+1+2+3+1+1+1+1+1.
    assert_eq!(changes.len(), 12, "{changes:?}");
    demarche(dir.path())
        .args(["diff", "--from", "2021-01-27", "--to", "2021-01-29"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "+ USA   calls for withdrawal of RUS from LBY",
        ));
    let out = demarche(dir.path())
        .args([
            "diff",
            "--from",
            "2021-01-29",
            "--to",
            "2021-02-01",
            "--json",
        ])
        .assert()
        .success();
    assert!(lines(&out.get_output().stdout).is_empty());
}

#[test]
fn bad_queries_exit_2() {
    let dir = demo();
    demarche(dir.path())
        .args(["positions", "--as-of", "2021-02-30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as-of"));
    demarche(dir.path())
        .args(["positions", "--known-at", "11"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("beyond the head"));
    demarche(dir.path())
        .args(["positions", "--known-at", "yesterday"])
        .assert()
        .code(2);
    demarche(dir.path())
        .args(["positions", "--party", "Rusia"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RUS"));
    demarche(dir.path())
        .args(["positions", "--predicate", "withdrawl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("withdrawal"));
    demarche(dir.path())
        .args(["diff", "--from", "2021-02-01", "--to", "2021-01-01"])
        .assert()
        .code(2);
    demarche(dir.path()).args(["history"]).assert().code(2);
}

mod snapshots {
    use demarche::event::Event;
    use demarche::json::parse_event;
    use demarche::ledger::Ledger;
    use demarche::projection::{Filter, KnownAt, Query};
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Say {
            party: usize,
            subject: usize,
            stance: usize,
            day: i32,
        },
        Correct {
            target: usize,
            stance: usize,
            day: i32,
        },
        Retract {
            target: usize,
        },
    }

    const PARTIES: [&str; 3] = ["USA", "RUS", "FRA"];
    const SUBJECTS: [&str; 3] = ["TUR", "RUS", "ARE"];
    /// Stances of every modality: normative, epistemic, evaluative,
    /// commissive and formal.
    const STANCES: [&str; 9] = [
        "calls-for",
        "demands",
        "denies",
        "rejects",
        "acknowledges",
        "condemns",
        "announces",
        "refuses",
        "recognises",
    ];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..3usize, 0..3usize, 0..STANCES.len(), 0..60i32).prop_map(|(party, subject, stance, day)| Op::Say { party, subject, stance, day }),
            2 => (any::<usize>(), 0..STANCES.len(), 0..60i32).prop_map(|(target, stance, day)| Op::Correct { target, stance, day }),
            1 => any::<usize>().prop_map(|target| Op::Retract { target }),
        ]
    }

    fn date(day: i32) -> String {
        let d = jiff::civil::date(2021, 1, 1) + jiff::Span::new().days(i64::from(day));
        d.to_string()
    }

    fn statement(party: &str, subject: &str, stance: &str, day: i32) -> String {
        format!(
            r#"{{"said_on":"{}","party":"{party}","stance":"{stance}","proposition":{{"predicate":"withdrawal","subjects":["{subject}"],"location":"LBY"}},"quote":"q","source":{{"publisher":"p"}}}}"#,
            date(day)
        )
    }

    /// Applies the ops that make sense (corrections and retractions point at an
    /// earlier statement or correction) and returns how many were appended.
    fn apply(l: &mut Ledger, ops: &[Op], amendable: &mut Vec<u64>) {
        for op in ops {
            let line = match op {
                Op::Say {
                    party,
                    subject,
                    stance,
                    day,
                } => {
                    let s = statement(PARTIES[*party], SUBJECTS[*subject], STANCES[*stance], *day);
                    s.replacen('{', r#"{"type":"statement","#, 1)
                }
                Op::Correct {
                    target,
                    stance,
                    day,
                } => {
                    if amendable.is_empty() {
                        continue;
                    }
                    let of = amendable[target % amendable.len()];
                    format!(
                        r#"{{"type":"correction","of":{of},"statement":{}}}"#,
                        statement("USA", "TUR", STANCES[*stance], *day)
                    )
                }
                Op::Retract { target } => {
                    if amendable.is_empty() {
                        continue;
                    }
                    let of = amendable[target % amendable.len()];
                    format!(r#"{{"type":"retraction","of":{of},"reason":"r"}}"#)
                }
            };
            let e = parse_event(&line).expect("generated line parses");
            let amend = matches!(e, Event::Statement(_) | Event::Correction(_));
            let r = match l.append_duplicate(e) {
                Ok(r) => r,
                // An amendment of a retracted statement is refused: it makes no sense.
                Err(e) if e.to_string().contains("was retracted") => continue,
                Err(e) => panic!("append: {e}"),
            };
            if amend {
                amendable.push(r.seq);
            }
        }
    }

    fn at_head(i: &prop::sample::Index) -> bool {
        i.index(2) == 0
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(160))]

        /// For random statements of every modality on one proposition, each
        /// position is the latest statement of its own modality (by said date,
        /// then seq): a statement never replaces a position of another modality,
        /// and every modality a party spoke in keeps a position.
        #[test]
        fn a_statement_replaces_only_positions_of_its_own_modality(
            says in prop::collection::vec((0..3usize, 0..STANCES.len(), 0..60i32), 1..40),
            as_of in prop::option::of(0..70i32),
        ) {
            let vocab = demarche::vocab::Vocabulary::builtin();
            let mut l = Ledger::in_memory();
            let ops: Vec<Op> = says
                .iter()
                .map(|&(party, stance, day)| Op::Say { party, subject: 0, stance, day })
                .collect();
            apply(&mut l, &ops, &mut Vec::new());
            let as_of = as_of.map(|d| jiff::civil::date(2021, 1, 1) + jiff::Span::new().days(i64::from(d)));
            let q = Query { as_of, ..Query::default() };
            let got = l.positions_replay(&q).expect("replay");
            // The latest (day, seq) of each (party, modality), said by the as-of date.
            let mut want = std::collections::BTreeMap::new();
            for (i, &(party, stance, day)) in says.iter().enumerate() {
                let said = jiff::civil::date(2021, 1, 1) + jiff::Span::new().days(i64::from(day));
                if as_of.is_some_and(|d| said > d) {
                    continue;
                }
                let modality = vocab.modality(STANCES[stance]);
                let at = (day, i as u64 + 1);
                let e = want.entry((PARTIES[party], modality)).or_insert((at, STANCES[stance]));
                if at >= e.0 {
                    *e = (at, STANCES[stance]);
                }
            }
            prop_assert_eq!(got.len(), want.len(), "{:?}", got);
            for p in &got {
                prop_assert_eq!(vocab.modality(&p.stance), p.key.modality);
                let (at, stance) = want[&(p.key.party.as_str(), p.key.modality)];
                prop_assert_eq!((p.seq, p.stance.as_str()), (at.1, stance), "{:?}", p);
            }
            prop_assert_eq!(l.positions(&q).expect("positions"), got);
        }

        /// A full replay reads the chain once: each statement is folded as
        /// recorded, and the corrections and retractions met on the way are
        /// applied at the end. For random ledgers (corrections of corrections,
        /// retractions of statements and of corrections), dates, filters and
        /// points of knowledge, it finds what a fold that knew every amendment
        /// first finds.
        #[test]
        fn a_replay_in_one_pass_equals_a_fold_that_knew_the_amendments_first(
            ops in prop::collection::vec(op(), 1..60),
            queries in prop::collection::vec((prop::option::of(0..70i32), any::<prop::sample::Index>(), any::<bool>(), prop::option::of(0..3usize)), 1..6),
        ) {
            let mut l = Ledger::in_memory();
            apply(&mut l, &ops, &mut Vec::new());
            let size = l.head().expect("head").size;
            let entries = crate::common::entries(&l, size);
            for (as_of, k, use_known, party) in &queries {
                let q = Query {
                    as_of: as_of.map(|d| jiff::civil::date(2021, 1, 1) + jiff::Span::new().days(i64::from(d))),
                    known_at: use_known.then(|| KnownAt::Seq(k.index(size as usize + 1) as u64)),
                    filter: Filter { party: party.map(|p| PARTIES[p].to_string()), ..Filter::default() },
                };
                let want = demarche::projection::positions(&entries, &q);
                prop_assert_eq!(l.positions_replay(&q).expect("replay"), want, "{:?}", q);
            }
        }

        /// For random ledgers and random dates, the answer from a snapshot and the
        /// events after it equals a full replay from seq 1 — also when the snapshot
        /// was damaged, or taken of another chain.
        #[test]
        fn snapshot_and_tail_equal_a_full_replay(
            before in prop::collection::vec(op(), 1..40),
            after in prop::collection::vec(op(), 0..40),
            queries in prop::collection::vec((prop::option::of(0..70i32), any::<prop::sample::Index>(), any::<bool>(), prop::option::of(0..3usize)), 1..6),
            damage in any::<prop::sample::Index>(),
        ) {
            let mut l = Ledger::in_memory();
            let mut amendable = Vec::new();
            let first = Op::Say { party: 0, subject: 0, stance: 0, day: 30 };
            apply(&mut l, &[first], &mut amendable);
            apply(&mut l, &before, &mut amendable);
            let snap = l.snapshot_now().expect("snapshot");
            apply(&mut l, &after, &mut amendable);
            let size = l.head().expect("head").size;
            let check = |l: &Ledger| -> Result<(), TestCaseError> {
                for (as_of, k, use_known, party) in &queries {
                    let q = Query {
                        as_of: as_of.map(|d| jiff::civil::date(2021, 1, 1) + jiff::Span::new().days(i64::from(d))),
                        known_at: use_known.then(|| KnownAt::Seq(k.index(size as usize + 1) as u64)),
                        filter: Filter { party: party.map(|p| PARTIES[p].to_string()), ..Filter::default() },
                    };
                    prop_assert_eq!(l.positions(&q).expect("positions"), l.positions_replay(&q).expect("replay"), "{:?}", q);
                }
                Ok(())
            };
            check(&l)?;
            prop_assert!(snap.seq > 0);
            // verify compares the snapshot with the chain, and finds them equal.
            let r = l.verify(None).expect("verify");
            prop_assert!(r.is_intact(), "{:?}", r.problem);
            prop_assert_eq!(r.snapshot_checked, Some(snap.seq));
            // A damaged snapshot is ignored, never trusted.
            let names = l.cache_names();
            let chunk = names.iter().find(|n| n.starts_with("positions.")).expect("a chunk");
            let key = if at_head(&damage) { "positions" } else { chunk.as_str() };
            let mut bytes = l.cache_entry_raw(key).expect("entry");
            let at = damage.index(bytes.len());
            bytes[at] ^= 0x41;
            l.set_cache_entry_raw(key, &bytes).expect("write");
            check(&l)?;
            // Nor is it damage to the ledger: no query would use it.
            let r = l.verify(None).expect("verify");
            prop_assert!(r.is_intact(), "{:?}", r.problem);
        }
    }

    /// Events a selection must pass over, or find only as a statement kept
    /// whole: joint statements (kept whole beside the snapshot's facts),
    /// statements without subjects, and actor events.
    fn others(l: &mut Ledger, extra: &[(usize, usize, i32)]) {
        for &(kind, party, day) in extra {
            let (p, q) = (PARTIES[party], PARTIES[(party + 1) % PARTIES.len()]);
            let line = match kind {
                0 => format!(
                    r#"{{"type":"statement","said_on":"{}","party":"{p}","joint_with":["{q}"],"stance":"calls-for","proposition":{{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"}},"quote":"q","sources":[{{"publisher":"p"}}]}}"#,
                    date(day)
                ),
                1 => format!(
                    r#"{{"type":"statement","said_on":"{}","party":"{p}","stance":"asserts","proposition":{{"predicate":"ceasefire","location":"LBY"}},"quote":"q","source":{{"publisher":"p"}}}}"#,
                    date(day)
                ),
                _ => format!(
                    r#"{{"type":"actor","id":"X-{}-{day}","name":"Body {} {day}","kind":"body","parent":"{p}"}}"#,
                    l.head().expect("head").size,
                    l.head().expect("head").size
                ),
            };
            l.append_duplicate(parse_event(&line).expect("parses"))
                .expect("append");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(120))]

        /// For random ledgers with a positions snapshot part of the way, a
        /// selection read through the snapshot's candidates (only their
        /// blocks, then every record after the snapshot) keeps what a read
        /// of every record keeps, in the same order: statements held as
        /// facts and kept whole, corrections and retractions, records past
        /// the snapshot; also from a later seq, and when the snapshot is
        /// damaged.
        #[test]
        fn a_selection_read_through_the_snapshot_keeps_what_a_full_read_keeps(
            before in prop::collection::vec(op(), 1..40),
            after in prop::collection::vec(op(), 0..15),
            extra in prop::collection::vec((0..3usize, 0..3usize, 0..60i32), 0..8),
            batch in prop::collection::vec((0..3usize, 0..STANCES.len(), 0..60i32), 0..80),
            party in prop::option::of(0..3usize),
            stance in prop::option::of(0..STANCES.len()),
            since_day in prop::option::of(0..60i32),
            from in any::<prop::sample::Index>(),
            damage in any::<prop::sample::Index>(),
        ) {
            let mut l = Ledger::in_memory();
            let mut amendable = Vec::new();
            apply(&mut l, &before, &mut amendable);
            // A batch: blocks of many records, some kept and some not.
            let batch = batch.iter().map(|&(party, stance, day)| {
                let s = statement(PARTIES[party], SUBJECTS[party], STANCES[stance], day);
                parse_event(&s.replacen('{', r#"{"type":"statement","#, 1))
            });
            l.append_batch(batch).expect("batch");
            others(&mut l, &extra);
            let snap = l.snapshot_now().expect("snapshot");
            apply(&mut l, &after, &mut amendable);
            others(&mut l, &extra[..extra.len() / 2]);
            let size = l.head().expect("head").size;
            let from = from.index(size as usize) as u64 + 1;
            let parties: Option<Vec<String>> = party.map(|p| vec![PARTIES[p].to_string()]);
            let since = since_day.map(|d| jiff::civil::date(2021, 1, 1) + jiff::Span::new().days(i64::from(d)));
            let might_keep = |_: u64, f: &demarche::event::StatementFields<'_>| {
                parties.as_ref().is_none_or(|ps| f.parties().any(|x| ps.iter().any(|p| p == x)))
                    && stance.is_none_or(|s| f.stance == STANCES[s])
                    && since.is_none_or(|d| f.said_on >= d)
            };
            // As `timeline` keeps: the statements selected, and every
            // correction and retraction.
            let keep = |seq: u64, _: i64, e: Option<&Event>| match e {
                Some(Event::Statement(s)) => {
                    let fields_kept = parties.as_ref().is_none_or(|ps| s.parties().any(|x| ps.contains(x)))
                        && stance.is_none_or(|st| s.stance == STANCES[st])
                        && since.is_none_or(|d| s.said_on.date >= d);
                    fields_kept && seq % 7 != 3
                }
                Some(Event::Correction(_) | Event::Retraction(_)) => seq % 5 != 2,
                _ => false,
            };
            let read = |l: &Ledger, how: u8| -> Vec<(u64, demarche::event::Hash)> {
                let mut got = Vec::new();
                let sink = |r: demarche::event::Recorded| {
                    got.push((r.seq, r.hash));
                    Ok(true)
                };
                let ps = parties.as_deref();
                match how {
                    0 => l.each_kept_by_statement(from, might_keep, keep, sink),
                    1 => l.each_kept_by_selection(from, ps, might_keep, keep, sink),
                    _ => {
                        let c = l
                            .statement_candidates(from, ps, might_keep)
                            .expect("candidates")
                            .expect("a snapshot believed");
                        l.each_kept_among(&c, from, might_keep, keep, sink)
                    }
                }
                .expect("read");
                got
            };
            let want = read(&l, 0);
            prop_assert_eq!(&read(&l, 1), &want);
            prop_assert_eq!(&read(&l, 2), &want);
            // The candidates are the snapshot's: its seq, and nothing past it.
            let c = l.statement_candidates(from, parties.as_deref(), might_keep).expect("candidates").expect("some");
            prop_assert_eq!(c.upto, snap.seq);
            prop_assert!(c.seqs.iter().all(|s| *s >= from && *s <= snap.seq));
            // A damaged snapshot head gives no candidates; a damaged chunk
            // gives none when it is read (one of a party not asked for is
            // not). Either way the selection keeps what it kept.
            let names = l.cache_names();
            let chunk = names.iter().find(|n| n.starts_with("positions.")).cloned();
            let key = if at_head(&damage) || chunk.is_none() { "positions".to_string() } else { chunk.expect("a chunk") };
            let mut bytes = l.cache_entry_raw(&key).expect("entry");
            let at = damage.index(bytes.len());
            bytes[at] ^= 0x41;
            l.set_cache_entry_raw(&key, &bytes).expect("write");
            if key == "positions" || (parties.is_none() && from <= snap.seq) {
                prop_assert_eq!(l.statement_candidates(from, parties.as_deref(), might_keep).expect("candidates"), None);
            }
            prop_assert_eq!(&read(&l, 1), &want);
        }
    }
}

#[test]
fn a_snapshot_of_another_chain_is_ignored() {
    let say = |party: &str, stance: &str| {
        demarche::json::parse_event(&format!(
            r#"{{"type":"statement","said_on":"2021-01-28","party":"{party}","stance":"{stance}","proposition":{{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"}},"quote":"q","source":{{"publisher":"p"}}}}"#
        ))
        .expect("parses")
    };
    // Both under one cache key: only the chain tells A's snapshot from B's.
    let mut a = Ledger::in_memory();
    a.set_cache_key([3; 32]);
    a.append(say("USA", "demands")).expect("append");
    a.snapshot_now().expect("snapshot");
    let mut b = Ledger::in_memory();
    b.set_cache_key([3; 32]);
    b.append(say("USA", "rejects")).expect("append");
    for name in a.cache_names() {
        // (copy A's snapshot into B, as if B's files had been swapped)
        let bytes = a.cache_entry_raw(&name).expect("entry");
        b.set_cache_entry_raw(&name, &bytes).expect("write");
    }
    assert_eq!(b.snapshot_seq().expect("seq"), None);
    let q = Query::default();
    let ps = b.positions(&q).expect("positions");
    assert_eq!(ps, b.positions_replay(&q).expect("replay"));
    assert_eq!(ps[0].stance, "rejects", "A's snapshot was not used for B");
}

/// Enough facts for several snapshot chunks, with one key whose facts fill more
/// than a chunk, and filters whose first key starts inside a chunk.
#[test]
fn snapshots_spanning_many_chunks_equal_a_full_replay() {
    let mut l = Ledger::in_memory();
    let line = |i: u64| {
        let (party, subject) = match i % 7 {
            0..=3 => ("USA", "RUS"), // one key with most of the facts
            4 => ("FRA", ["TUR", "ARE", "SYR"][(i / 7 % 3) as usize]),
            5 => ("GBR", "TUR"),
            _ => (["DEU", "ITA", "ESP", "NLD"][(i / 7 % 4) as usize], "RUS"),
        };
        let stance = ["calls-for", "demands", "rejects"][(i / 11 % 3) as usize];
        demarche::json::parse_event(&format!(
            r#"{{"type":"statement","said_on":"20{:02}-{:02}-{:02}","party":"{party}","stance":"{stance}","proposition":{{"predicate":"withdrawal","subjects":["{subject}"],"location":"LBY"}},"quote":"q {i}","source":{{"publisher":"p"}}}}"#,
            10 + i % 10,
            1 + i % 12,
            1 + i % 28
        ))
    };
    l.append_batch((0..6000).map(line)).expect("batch");
    let snap = l.snapshot_now().expect("snapshot");
    l.append_batch((6000..6100).map(line)).expect("tail");
    let r = l.verify(None).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.snapshot_checked, Some(snap.seq));
    for party in [
        None,
        Some("USA"),
        Some("FRA"),
        Some("GBR"),
        Some("DEU"),
        Some("NLD"),
    ] {
        for as_of in [None, Some(jiff::civil::date(2014, 6, 30))] {
            let q = Query {
                as_of,
                filter: demarche::projection::Filter {
                    party: party.map(str::to_string),
                    ..Default::default()
                },
                ..Query::default()
            };
            assert_eq!(
                l.positions(&q).expect("snapshot"),
                l.positions_replay(&q).expect("replay"),
                "{q:?}"
            );
        }
    }
}

/// A demand and a claim that it has not been met stand side by side: the US
/// demanded that Russia withdraw from Georgia (16 August 2008) and, a week
/// later, denied that it had (22 August). The second is what is the case, not
/// a change of line; Russia's own announcement stands beside both.
#[test]
fn a_demand_stands_beside_a_claim_that_it_is_unmet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let said = |date: &str, party: &str, stance: &str| {
        serde_json::json!({
            "type": "statement", "said_on": date, "party": party, "stance": stance,
            "proposition": {"predicate": "withdrawal", "subjects": ["RUS"], "location": "GEO"},
            "quote": "q", "source": {"publisher": "p"}
        })
        .to_string()
    };
    for line in [
        said("2008-08-16", "USA", "demands"),
        said("2008-08-17", "RUS", "announces"),
        said("2008-08-22", "USA", "denies"),
    ] {
        demarche(dir.path())
            .args(["append", "--json", &line])
            .assert()
            .success();
    }
    let out = demarche(dir.path())
        .args(["positions", "--party", "USA", "--json"])
        .assert()
        .success();
    let ps = lines(&out.get_output().stdout);
    let held: Vec<(&str, &str)> = ps
        .iter()
        .map(|p| {
            (
                p["stance"].as_str().expect("stance"),
                p["modality"].as_str().expect("modality"),
            )
        })
        .collect();
    assert_eq!(held, [("demands", "normative"), ("denies", "epistemic")]);
    // The withdrawal view still lists the US as demanding, and Russia's
    // announcement as a commitment of its own.
    demarche(dir.path())
        .args(["positions", "--view", "withdrawal"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"\n  USA +demands").expect("regex"))
        .stdout(predicate::str::contains("Who says it will withdraw"))
        .stdout(predicate::str::is_match(r"\n  RUS +announces").expect("regex"));
    // Between the two dates the US's demand did not change: a denial appeared.
    let out = demarche(dir.path())
        .args([
            "diff",
            "--from",
            "2008-08-20",
            "--to",
            "2008-08-23",
            "--party",
            "USA",
            "--json",
        ])
        .assert()
        .success();
    let changes = lines(&out.get_output().stdout);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["change"], "appeared");
    assert_eq!(changes[0]["position"]["stance"], "denies");
}

/// Kosovo's declaration of independence (17 February 2008): Serbia rejects
/// it the same day; the next day the United States and the United Kingdom
/// recognise Kosovo and Russia condemns the declaration. A recognition is a
/// formal act, the condemnation a judgement and the rejection a stance on
/// what should be: three modalities, side by side, each from its own date.
#[test]
fn a_recognition_and_its_condemnation_stand_apart_and_in_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let said = |date: &str, party: &str, stance: &str, quote: &str| {
        serde_json::json!({
            "type": "statement", "said_on": date, "party": party, "stance": stance,
            "proposition": {"predicate": "independence", "subjects": ["XKX"], "location": "XKX"},
            "quote": quote, "source": {"publisher": "news reports of February 2008"}
        })
        .to_string()
    };
    for line in [
        said("2008-02-17", "SRB", "rejects", "Serbia will never recognise the independence of Kosovo"),
        said("2008-02-18", "USA", "recognises", "the United States has today formally recognized Kosovo as a sovereign and independent state"),
        said("2008-02-18", "GBR", "recognises", "the United Kingdom recognises Kosovo as an independent state"),
        said("2008-02-18", "RUS", "condemns", "Russia condemns the unilateral declaration of independence"),
    ] {
        demarche(dir.path())
            .args(["append", "--json", &line])
            .assert()
            .success();
    }
    let held = |as_of: &str| -> Vec<(String, String, String)> {
        let out = demarche(dir.path())
            .args([
                "positions",
                "--predicate",
                "independence",
                "--as-of",
                as_of,
                "--json",
            ])
            .assert()
            .success();
        lines(&out.get_output().stdout)
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().expect("string").to_string();
                (s("party"), s("stance"), s("modality"))
            })
            .collect()
    };
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(held("2008-02-17"), [s("SRB", "rejects", "normative")]);
    assert_eq!(
        held("2008-02-19"),
        [
            s("GBR", "recognises", "formal"),
            s("RUS", "condemns", "evaluative"),
            s("SRB", "rejects", "normative"),
            s("USA", "recognises", "formal"),
        ]
    );
    // A territory that is not (yet) a state, and whoever governs it in fact,
    // are actors of their own kinds.
    demarche(dir.path())
        .args([
            "actor",
            "add",
            "--id",
            "XTR",
            "--name",
            "Transnistria",
            "--kind",
            "region",
        ])
        .assert()
        .success();
    demarche(dir.path())
        .args(["actor", "list", "--kind", "region"])
        .assert()
        .success()
        .stdout(predicate::str::contains("XTR"));
    demarche(dir.path())
        .args([
            "actor",
            "add",
            "--id",
            "XTR-ADM",
            "--name",
            "Transnistrian administration",
            "--kind",
            "authority",
            "--parent",
            "XTR",
        ])
        .assert()
        .success();
}
