//! Ledgers written by an earlier release (`tests/fixtures/v1`, one per engine)
//! keep opening, verifying and meaning what they meant: the same head, the
//! same exported bytes, the same positions (with the modality version 2 adds),
//! and they take new events.

use crate::common::bin;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v1")
}

/// A copy of the fixture of `engine`: opening a store may write to it.
fn copy_of(engine: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let to = dir.path().join("ledger");
    std::fs::create_dir_all(&to).expect("dir");
    for f in std::fs::read_dir(fixtures().join(engine)).expect("fixture") {
        let f = f.expect("entry");
        std::fs::copy(f.path(), to.join(f.file_name())).expect("copy");
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = bin()
        .arg("--ledger")
        .arg(dir.join("ledger"))
        .args(args)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).expect("UTF-8")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).expect("fixture file")
}

#[test]
fn a_ledger_of_the_first_release_opens_verifies_and_means_the_same() {
    let vocab = demarche::vocab::Vocabulary::builtin();
    let head = read("head.txt");
    for engine in ["sled", "redb"] {
        let dir = copy_of(engine);
        assert_eq!(run(dir.path(), &["head"]), head, "{engine}");
        run(dir.path(), &["verify", "--expect-head", head.trim()]);
        assert_eq!(
            run(dir.path(), &["export"]),
            read("export.jsonl"),
            "{engine}"
        );
        let now_text = run(dir.path(), &["positions", "--json"]);
        // The corrected statement (seq 3 now demands) and the retracted one
        // (seq 10, Iraq in Kuwait) count as they did.
        assert!(now_text.contains(r#""stance":"demands""#), "{engine}");
        assert!(!now_text.contains("KWT"), "{engine}");
        let now: Vec<Value> = now_text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        let then: Vec<Value> = read("positions.jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        assert_eq!(now.len(), then.len(), "{engine}");
        for (mut n, t) in now.into_iter().zip(then) {
            let modality = n
                .as_object_mut()
                .expect("object")
                .remove("modality")
                .expect("a modality");
            let stance = t["stance"].as_str().expect("stance");
            assert_eq!(modality, vocab.modality(stance).as_str(), "{engine}: {t}");
            // Fields of event format 2, which no record of the first release has.
            let o = n.as_object_mut().expect("object");
            for field in ["document", "condition", "deadline"] {
                assert_eq!(o.remove(field), Some(Value::Null), "{engine}: {field}");
            }
            assert_eq!(o.remove("joint_with"), Some(serde_json::json!([])));
            assert_eq!(n, t, "{engine}");
        }
        // It takes events of version 2's vocabulary, and still verifies.
        let threat = serde_json::json!({
            "type": "statement", "said_on": "2021-01-29", "party": "USA", "stance": "threatens",
            "proposition": {"predicate": "sanctions", "subjects": ["RUS"]},
            "quote": "q", "source": {"publisher": "p"}
        });
        run(dir.path(), &["append", "--json", &threat.to_string()]);
        // And events of format 2 beside the records of format 1.
        let joint = serde_json::json!({
            "type": "statement", "said_on": "2021-01-29", "party": "FRA", "joint_with": ["DEU"],
            "stance": "calls-for", "deadline": "2021-02-28",
            "proposition": {"predicate": "withdrawal", "subjects": ["TUR"], "location": "LBY"},
            "quote": "q", "quote_kind": "translation", "language": "fr",
            "sources": [{"publisher": "p"}, {"publisher": "r"}]
        });
        run(dir.path(), &["append", "--json", &joint.to_string()]);
        run(dir.path(), &["verify"]);
        assert!(run(dir.path(), &["head"]).starts_with("15:"));
        let deu = run(dir.path(), &["positions", "--json", "--party", "DEU"]);
        assert!(deu.contains(r#""joint_with":["FRA"]"#), "{engine}: {deu}");
        // The export of the whole, both formats, rebuilds to the same head.
        let export = dir.path().join("all.jsonl");
        run(
            dir.path(),
            &["export", "-o", export.to_str().expect("utf-8")],
        );
        let rebuilt = tempfile::tempdir().expect("tempdir");
        let head_now = run(dir.path(), &["head"]);
        bin()
            .arg("--ledger")
            .arg(rebuilt.path().join("ledger"))
            .args(["rebuild", "--engine", engine, "--from"])
            .arg(&export)
            .assert()
            .success();
        assert_eq!(run(rebuilt.path(), &["head"]), head_now, "{engine}");
    }
}

/// A ledger of the first release has no digest index: importing its own
/// events again (actors, corrections and the retraction among them) skips
/// every one, found through an index made from its chain, and a new
/// statement beside them is appended.
#[test]
fn a_ledger_of_the_first_release_skips_its_own_events_imported_again() {
    // The export's lines as events: the record's own fields left out.
    let events: Vec<String> = read("export.jsonl")
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON");
            let m = v.as_object_mut().expect("object");
            for k in ["seq", "recorded_at", "prev", "hash", "digest"] {
                m.remove(k);
            }
            v.to_string()
        })
        .collect();
    let new = r#"{"type":"statement","said_on":"2021-02-05","party":"RUS","stance":"denies","proposition":{"predicate":"presence","subjects":["RUS"],"qualifier":"military-personnel","location":"LBY"},"quote":"There are no Russian servicemen in Libya.","source":{"publisher":"TASS","published_on":"2021-02-05"}}"#;
    let head = read("head.txt");
    for engine in ["sled", "redb"] {
        let dir = copy_of(engine);
        let file = dir.path().join("again.jsonl");
        std::fs::write(&file, events.join("\n") + "\n").expect("write");
        let file = file.to_str().expect("utf-8");
        let summary: Value =
            serde_json::from_str(&run(dir.path(), &["import", file, "--json"])).expect("JSON");
        assert_eq!(summary["appended"], 0, "{engine}: {summary}");
        assert_eq!(summary["skipped"], 13, "{engine}: {summary}");
        assert_eq!(run(dir.path(), &["head"]), head, "{engine}");
        let both = dir.path().join("more.jsonl");
        std::fs::write(&both, format!("{}\n{new}\n", events.join("\n"))).expect("write");
        let summary: Value = serde_json::from_str(&run(
            dir.path(),
            &["import", both.to_str().expect("utf-8"), "--json"],
        ))
        .expect("JSON");
        assert_eq!(
            (summary["appended"].as_u64(), summary["skipped"].as_u64()),
            (Some(1), Some(13)),
            "{engine}: {summary}"
        );
        assert!(run(dir.path(), &["head"]).starts_with("14:"), "{engine}");
        run(dir.path(), &["verify"]);
        let rus = run(dir.path(), &["positions", "--json", "--party", "RUS"]);
        assert!(rus.contains(r#""statements":[5,14]"#), "{engine}: {rus}");
    }
}

/// `log --json` of every event is formatted on two threads; with a limit it
/// reads in order on one. Both give the same lines, statuses included (the
/// fixture's correction and retraction), over many blocks.
#[test]
fn every_event_as_json_reads_the_same_on_two_threads_as_in_order() {
    for engine in ["sled", "redb"] {
        let dir = copy_of(engine);
        let lines: String = (0..600)
            .map(|i| {
                format!(
                    r#"{{"type":"statement","said_on":"2021-03-{:02}","party":"RUS","stance":"denies","proposition":{{"predicate":"presence","subjects":["RUS"],"location":"LBY"}},"quote":"Denial number {i}: there are no \"Russian\" forces there.","source":{{"publisher":"TASS"}}}}"#,
                    1 + i % 28
                ) + "\n"
            })
            .collect();
        let file = dir.path().join("more.jsonl");
        std::fs::write(&file, lines).expect("write");
        run(dir.path(), &["import", file.to_str().expect("utf-8")]);
        let all = run(dir.path(), &["log", "--json"]);
        let in_order = run(dir.path(), &["log", "--json", "--limit", "100000"]);
        assert_eq!(all, in_order, "{engine}");
        assert_eq!(all.lines().count(), 613, "{engine}");
        let status = |seq: usize| -> Value {
            let v: Value =
                serde_json::from_str(all.lines().nth(seq - 1).expect("line")).expect("JSON");
            serde_json::json!([v["status"], v["corrected_by"], v["retracted_by"]])
        };
        assert_eq!(
            status(3),
            serde_json::json!(["corrected", 11, null]),
            "{engine}"
        );
        assert_eq!(
            status(10),
            serde_json::json!(["retracted", null, 12]),
            "{engine}"
        );
        assert_eq!(
            status(613),
            serde_json::json!(["standing", null, null]),
            "{engine}"
        );
    }
}

/// A positions snapshot of a ledger of the first release (a correction and a
/// retraction of format 1 among its records) matches its chain.
#[test]
fn a_snapshot_of_a_ledger_of_the_first_release_matches_its_chain() {
    for engine in ["sled", "redb"] {
        let dir = copy_of(engine);
        let mut l = demarche::ledger::Ledger::open(
            &dir.path().join("ledger"),
            &demarche::store::OpenOptions::default(),
        )
        .expect("open");
        l.set_cache_key([5; 32]);
        let snap = l.snapshot_now().expect("snapshot");
        let r = l.verify(None).expect("verify");
        assert!(r.is_intact(), "{engine}: {:?}", r.problem);
        assert_eq!(r.snapshot_checked, Some(snap.seq), "{engine}");
    }
}

/// A bundle of the first release (format 1) was derived with one position per
/// proposition: it still checks by that rule, and a change to it still fails.
#[test]
fn an_evidence_bundle_of_the_first_release_still_checks() {
    let check = |bundle: &Path| {
        bin()
            .arg("check-evidence")
            .arg("--key")
            .arg(fixtures().join("evidence-1.vkey"))
            .arg(bundle)
            .assert()
    };
    check(&fixtures().join("evidence-1.json")).success();
    // The same bundle with the denial's position turned back into a call:
    // its signed content no longer holds.
    let dir = tempfile::tempdir().expect("tempdir");
    let edited = dir.path().join("edited.json");
    let text =
        read("evidence-1.json").replacen(r#""stance": "denies""#, r#""stance": "calls-for""#, 1);
    assert_ne!(text, read("evidence-1.json"));
    std::fs::write(&edited, text).expect("write");
    check(&edited).code(1);
}
