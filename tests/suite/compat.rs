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
            assert_eq!(n, t, "{engine}");
        }
        // It takes events of version 2's vocabulary, and still verifies.
        let threat = serde_json::json!({
            "type": "statement", "said_on": "2021-01-29", "party": "USA", "stance": "threatens",
            "proposition": {"predicate": "sanctions", "subjects": ["RUS"]},
            "quote": "q", "source": {"publisher": "p"}
        });
        run(dir.path(), &["append", "--json", &threat.to_string()]);
        run(dir.path(), &["verify"]);
        assert!(run(dir.path(), &["head"]).starts_with("14:"));
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
