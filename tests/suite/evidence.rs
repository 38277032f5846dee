//! Keys, checkpoints, inclusion proofs, `verify --against` and evidence
//! bundles, through the command line: what verifies, and every way of breaking
//! it, each with its exit code (1 integrity, 2 bad input).

use crate::common;

use base64::Engine as _;
use common::bin;
use demarche::merkle;
use demarche::note;
use predicates::prelude::*;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(ledger);
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("utf8")
}

fn b64(s: &str) -> [u8; 32] {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
        .try_into()
        .expect("32 bytes")
}

const MORE: &str = r#"{"type":"statement","said_on":"2021-02-01","party":"FRA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"France calls for the withdrawal","source":{"publisher":"AFP"}}"#;

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ledger: PathBuf,
    key: PathBuf,
    vkey: PathBuf,
}

/// The worked example, a key pair, and a checkpoint of it signed and saved.
fn setup() -> (Setup, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let ledger = root.join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    demarche(&ledger)
        .args([
            "key",
            "generate",
            "--name",
            "newsroom.example/ledger",
            "--out",
        ])
        .arg(root.join("k"))
        .assert()
        .success();
    let s = Setup {
        _dir: dir,
        ledger,
        key: root.join("k.key"),
        vkey: root.join("k.vkey"),
        root,
    };
    let cp = s.root.join("saved.checkpoint");
    let out = demarche(&s.ledger)
        .args(["checkpoint", "--sign"])
        .arg(&s.key)
        .assert()
        .success();
    std::fs::write(&cp, stdout(&out)).expect("write");
    (s, cp)
}

#[test]
fn keys_are_c2sp_keys_and_the_private_one_is_private() {
    let (s, _) = setup();
    let vkey = std::fs::read_to_string(&s.vkey).expect("vkey");
    let skey = std::fs::read_to_string(&s.key).expect("key");
    let v = note::parse_verifier(vkey.trim()).expect("a C2SP verifier key");
    let k = note::parse_signer(skey.trim()).expect("a C2SP signer key");
    assert_eq!(k.verifier(), v);
    assert_eq!(v.name(), "newsroom.example/ledger");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&s.key)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwritten without --force; a bad name is bad input.
    demarche(&s.ledger)
        .args(["key", "generate", "--name", "other", "--out"])
        .arg(s.root.join("k"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read_to_string(&s.key).expect("key"), skey);
    demarche(&s.ledger)
        .args(["key", "generate", "--name", "has space", "--out"])
        .arg(s.root.join("x"))
        .assert()
        .code(2);
    // A --force that cannot finish leaves the old pair whole: here the
    // verifier key's name is taken by a directory.
    let vkey = std::fs::read_to_string(&s.vkey).expect("vkey");
    std::fs::remove_file(&s.vkey).expect("remove");
    std::fs::create_dir(&s.vkey).expect("dir");
    demarche(&s.ledger)
        .args(["key", "generate", "--force", "--name", "other", "--out"])
        .arg(s.root.join("k"))
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&s.key).expect("key"), skey);
    drop(vkey);
    let leftovers = std::fs::read_dir(&s.root)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn a_signed_checkpoint_opens_with_the_key_and_states_the_tree() {
    let (s, cp) = setup();
    let text = std::fs::read_to_string(&cp).expect("checkpoint");
    let v =
        note::parse_verifier(std::fs::read_to_string(&s.vkey).expect("vkey").trim()).expect("vkey");
    let opened = note::open(&text, &[v]).expect("signed by the key");
    let c = note::Checkpoint::parse(&opened.text).expect("a C2SP checkpoint");
    assert!(c.origin.starts_with("demarche/"));
    assert_eq!(c.size, 10);
    let head = stdout(&demarche(&s.ledger).arg("head").assert().success());
    assert_eq!(c.extensions, vec![format!("chain {}", head.trim())]);
    // The root is the RFC 6962 root of the chain hashes, computed here from the log.
    let log = stdout(
        &demarche(&s.ledger)
            .args(["log", "--json"])
            .assert()
            .success(),
    );
    let leaves: Vec<[u8; 32]> = log
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON");
            let h =
                demarche::event::Hash::from_hex(v["hash"].as_str().expect("hash")).expect("hex");
            merkle::leaf_hash(&h.0)
        })
        .collect();
    assert_eq!(c.root, merkle::subtree_root(&leaves));
}

#[test]
fn inclusion_proofs_check_against_the_checkpoint_without_the_ledger() {
    let (s, cp) = setup();
    demarche(&s.ledger)
        .args(["import", "-"])
        .write_stdin(format!("{MORE}\n"))
        .assert()
        .success();
    let c = note::Checkpoint::parse(
        demarche::evidence::note_text(&std::fs::read_to_string(&cp).expect("cp")).expect("text"),
    )
    .expect("checkpoint");
    for seq in 1..=10u64 {
        let out = demarche(&s.ledger)
            .args(["prove", &seq.to_string(), "--json", "--checkpoint"])
            .arg(&cp)
            .arg("--key")
            .arg(&s.vkey)
            .assert()
            .success();
        let p: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
        assert_eq!(p["tree_size"], 10);
        let chain =
            demarche::event::Hash::from_hex(p["chain_hash"].as_str().expect("hash")).expect("hex");
        let proof: Vec<[u8; 32]> = p["proof"]
            .as_array()
            .expect("proof")
            .iter()
            .map(|h| b64(h.as_str().expect("str")))
            .collect();
        merkle::verify_inclusion(
            &merkle::leaf_hash(&chain.0),
            seq - 1,
            c.size,
            &proof,
            &c.root,
        )
        .unwrap_or_else(|e| panic!("seq {seq}: {e}"));
    }
    // Today's tree has 11 records; seq 11 is not in the checkpoint's.
    demarche(&s.ledger).args(["prove", "11"]).assert().success();
    demarche(&s.ledger)
        .args(["prove", "11", "--checkpoint"])
        .arg(&cp)
        .assert()
        .code(2);
    demarche(&s.ledger).args(["prove", "12"]).assert().code(2);
    demarche(&s.ledger).args(["prove", "0"]).assert().code(2);
}

/// Replaces the ledger by one whose history from seq 6 on was rewritten and
/// re-hashed: a chain that is consistent in itself.
fn rewrite_history(s: &Setup) {
    let export = s.root.join("export.jsonl");
    demarche(&s.ledger)
        .args(["export", "-o"])
        .arg(&export)
        .assert()
        .success();
    let first: String = std::fs::read_to_string(&export)
        .expect("export")
        .lines()
        .take(5)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&export, first).expect("write");
    let forged = s.root.join("forged");
    demarche(&forged)
        .args(["rebuild", "--from"])
        .arg(&export)
        .assert()
        .success();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/libya-2021-01-29.jsonl");
    let rewritten: String = std::fs::read_to_string(example)
        .expect("example")
        .lines()
        .skip(5)
        .map(|l| l.replace("denies", "acknowledges") + "\n")
        .collect();
    demarche(&forged)
        .args(["import", "-"])
        .write_stdin(rewritten + MORE + "\n")
        .assert()
        .success();
    std::fs::remove_dir_all(&s.ledger).expect("remove");
    std::fs::rename(&forged, &s.ledger).expect("rename");
}

#[test]
fn verify_against_catches_a_history_rewritten_and_rehashed() {
    let (s, cp) = setup();
    demarche(&s.ledger)
        .args(["import", "-"])
        .write_stdin(format!("{MORE}\n"))
        .assert()
        .success();
    let against = |args: &[&str]| {
        let mut c = demarche(&s.ledger);
        c.args(["verify", "--against"]).arg(&cp).args(args);
        c.assert()
    };
    against(&["--key", s.vkey.to_str().expect("path")])
        .success()
        .stdout(predicate::str::contains(
            "extends the checkpoint of 10 records",
        ))
        .stdout(predicate::str::contains("signature was not checked").not());
    // Without --key it says that no signature was checked.
    against(&[])
        .success()
        .stdout(predicate::str::contains("signature was not checked"));
    let unsigned: Value =
        serde_json::from_str(stdout(&against(&["--json"]).success()).trim()).expect("JSON");
    assert_eq!(unsigned["signature_checked"], false);
    rewrite_history(&s);
    // The chain alone is consistent: plain verify cannot tell...
    demarche(&s.ledger).arg("verify").assert().success();
    // ...the checkpoint can.
    let out = against(&["--json"]).code(1);
    let v: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
    assert_eq!(v["extends"], false);
    assert!(v["problem"]
        .as_str()
        .expect("problem")
        .contains("rewritten"));
    demarche(&s.ledger)
        .args(["prove", "3", "--checkpoint"])
        .arg(&cp)
        .assert()
        .code(1);
}

#[test]
fn verify_against_refuses_bad_checkpoints_with_the_right_code() {
    let (s, cp) = setup();
    let text = std::fs::read_to_string(&cp).expect("cp");
    let write = |name: &str, t: &str| {
        let p = s.root.join(name);
        std::fs::write(&p, t).expect("write");
        p
    };
    let run = |file: &Path, key: Option<&Path>| {
        let mut c = demarche(&s.ledger);
        c.args(["verify", "--against"]).arg(file);
        if let Some(k) = key {
            c.arg("--key").arg(k);
        }
        c.assert()
    };
    // Another key: the signature does not verify (1).
    demarche(&s.ledger)
        .args(["key", "generate", "--name", "someone.else", "--out"])
        .arg(s.root.join("other"))
        .assert()
        .success();
    run(&cp, Some(&s.root.join("other.vkey"))).code(1);
    // The size edited under the signature (1), or without one, more records
    // than the ledger holds: cut off (1).
    let bigger = text.replacen("\n10\n", "\n12\n", 1);
    run(&write("bigger", &bigger), Some(&s.vkey)).code(1);
    run(&write("bigger", &bigger), None)
        .code(1)
        .stdout(predicate::str::contains("cut off"));
    // The empty tree: every ledger extends it (0), unless its root is not the
    // empty tree's (1).
    let origin = text.lines().next().expect("origin");
    let empty = demarche::ledger::b64(&merkle::empty_root());
    run(
        &write("empty-tree", &format!("{origin}\n0\n{empty}\n")),
        None,
    )
    .success();
    let other_root = demarche::ledger::b64(&[1u8; 32]);
    run(
        &write("empty-tree", &format!("{origin}\n0\n{other_root}\n")),
        None,
    )
    .code(1);
    // Another ledger's checkpoint (1).
    let other = text.replacen("demarche/", "demarche/0", 1);
    run(&write("other", &other), None)
        .code(1)
        .stderr(predicate::str::contains("not of this ledger"));
    // Not a checkpoint, not a key (2).
    run(&write("junk", "hello\n"), None).code(2);
    run(&write("empty", ""), None).code(2);
    run(&cp, Some(&s.key)).code(2);
    run(&s.root.join("missing"), None).code(2);
}

fn bundle(s: &Setup, args: &[&str]) -> (PathBuf, String) {
    let path = s.root.join("b.evidence");
    let _ = std::fs::remove_file(&path);
    demarche(&s.ledger)
        .arg("evidence")
        .args(args)
        .arg("--sign")
        .arg(&s.key)
        .arg("-o")
        .arg(&path)
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).expect("bundle");
    (path, text)
}

fn check(s: &Setup, path: &Path) -> assert_cmd::assert::Assert {
    demarche(&s.ledger)
        .arg("check-evidence")
        .arg(path)
        .arg("--key")
        .arg(&s.vkey)
        .assert()
}

#[test]
fn evidence_checks_offline_and_each_tampering_fails() {
    let (s, _) = setup();
    // A correction and a retraction, so that the bundle carries amendments.
    demarche(&s.ledger)
        .args(["import", "-"])
        .write_stdin(
            r#"{"type":"correction","of":3,"statement":{"said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"},"quote":"we call on Turkey and Russia","source":{"publisher":"news report"}},"reason":"both subjects"}
"#,
        )
        .assert()
        .success();
    let (path, text) = bundle(&s, &["--as-of", "2021-01-29", "--predicate", "withdrawal"]);
    let out = check(&s, &path).success();
    assert!(stdout(&out).starts_with("valid: "));
    let v: Value = serde_json::from_str(&text).expect("JSON");
    let seqs: Vec<u64> = v["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    assert!(
        seqs.contains(&11),
        "the correction travels with what it corrects"
    );
    // Moved to another machine, without the ledger: still valid.
    std::fs::remove_dir_all(&s.ledger).expect("remove");
    check(&s, &path).success();

    let tamper = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut b = v.clone();
        edit(&mut b);
        let p = s.root.join("tampered.evidence");
        std::fs::write(&p, serde_json::to_string_pretty(&b).expect("JSON")).expect("write");
        let out = check(&s, &p);
        let o = out.get_output();
        assert_eq!(
            o.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(stdout(&out).starts_with("INVALID"), "{name}");
    };
    tamper("a position's stance", &|b| {
        b["positions"][0]["stance"] = "demands".into()
    });
    tamper("a position dropped", &|b| {
        b["positions"].as_array_mut().expect("list").remove(0);
    });
    tamper("a position's statements", &|b| {
        b["positions"][0]["statements"]
            .as_array_mut()
            .expect("list")
            .push(2.into())
    });
    tamper("a quote", &|b| {
        let q = b["records"][0]["quote"]
            .as_str()
            .expect("quote")
            .replace('a', "o");
        b["records"][0]["quote"] = q.into();
    });
    tamper("a record's hash", &|b| {
        b["records"][1]["hash"] = "ab".repeat(32).into()
    });
    tamper("a record dropped", &|b| {
        b["records"].as_array_mut().expect("list").remove(0);
    });
    tamper("a proof hash", &|b| {
        b["records"][0]["proof"][0] = demarche::ledger::b64(&[7u8; 32]).into()
    });
    tamper("a proof cut short", &|b| {
        b["records"][0]["proof"].as_array_mut().expect("list").pop();
    });
    tamper("the checkpoint's size", &|b| {
        let c = b["checkpoint"]
            .as_str()
            .expect("cp")
            .replacen("\n11\n", "\n12\n", 1);
        b["checkpoint"] = c.into();
    });
    tamper("the query's date", &|b| {
        b["query"]["as_of"] = "2021-01-27".into()
    });
    tamper("the correction dropped", &|b| {
        let r = b["records"].as_array_mut().expect("list");
        r.retain(|x| x["seq"] != 11);
    });
    // Another key: invalid (1). Not a bundle, not a key: malformed (2).
    demarche(&s.root.join("none"))
        .args(["key", "generate", "--name", "someone.else", "--out"])
        .arg(s.root.join("other"))
        .assert()
        .success();
    demarche(&s.root.join("none"))
        .arg("check-evidence")
        .arg(&path)
        .arg("--key")
        .arg(s.root.join("other.vkey"))
        .assert()
        .code(1);
    let junk = s.root.join("junk");
    std::fs::write(&junk, "{\"format\": \"something else\"}").expect("write");
    check(&s, &junk).code(2);
    std::fs::write(&junk, &text[..text.len() / 2]).expect("write");
    check(&s, &junk).code(2);
    demarche(&s.root.join("none"))
        .arg("check-evidence")
        .arg(&path)
        .arg("--key")
        .arg(&s.key)
        .assert()
        .code(2);
}

/// A joint statement with a deadline and a condition, recorded through the
/// command line: every party's position in the bundle states them, the bundle
/// checks, and a deadline changed in it (in a position or in the record) fails,
/// whether or not the change is signed again.
#[test]
fn a_joint_statement_with_a_deadline_and_a_condition_checks_and_its_terms_are_bound() {
    let (s, _) = setup();
    let condition = "once the UN monitors have deployed";
    demarche(&s.ledger)
        .args([
            "append",
            "--said-on",
            "2021-02-01",
            "--party",
            "FRA",
            "--joint-with",
            "DEU",
            "--joint-with",
            "United Kingdom",
            "--stance",
            "demands",
            "--predicate",
            "withdrawal",
            "--subject",
            "TUR",
            "--location",
            "LBY",
            "--deadline",
            "2021-04-23",
            "--condition",
            condition,
            "--quote",
            "we demand that Turkey withdraw its forces",
            "--publisher",
            "AFP",
        ])
        .assert()
        .success();
    let (path, text) = bundle(&s, &["--predicate", "withdrawal", "--subject", "TUR"]);
    check(&s, &path)
        .success()
        .stdout(predicate::str::starts_with("valid: "));
    let v: Value = serde_json::from_str(&text).expect("JSON");

    // Each party of the joint statement holds the position, naming the others.
    let positions = v["positions"].as_array().expect("positions");
    for (party, others) in [
        ("FRA", ["DEU", "GBR"]),
        ("DEU", ["FRA", "GBR"]),
        ("GBR", ["FRA", "DEU"]),
    ] {
        let p = positions
            .iter()
            .find(|p| p["party"] == party)
            .unwrap_or_else(|| panic!("no position of {party}: {positions:?}"));
        assert_eq!(p["deadline"], "2021-04-23", "{party}");
        assert_eq!(p["condition"], condition, "{party}");
        assert_eq!(p["joint_with"], serde_json::json!(others), "{party}");
        assert_eq!(p["statements"], serde_json::json!([11]), "{party}");
    }
    let records = v["records"].as_array().expect("records");
    let at = records
        .iter()
        .position(|r| r["seq"] == 11)
        .expect("the joint statement travels with its positions");
    assert_eq!(records[at]["joint_with"], serde_json::json!(["DEU", "GBR"]));
    assert_eq!(records[at]["deadline"], "2021-04-23");
    assert_eq!(records[at]["condition"], condition);
    let fra = positions
        .iter()
        .position(|p| p["party"] == "FRA")
        .expect("FRA");

    // Edited after signing: the signature no longer covers the content.
    let tamper = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut b = v.clone();
        edit(&mut b);
        let p = s.root.join("tampered.evidence");
        std::fs::write(&p, serde_json::to_string_pretty(&b).expect("JSON")).expect("write");
        let out = check(&s, &p).code(1);
        assert!(stdout(&out).starts_with("INVALID"), "{name}");
    };
    tamper("a position's deadline", &|b| {
        b["positions"][fra]["deadline"] = "2021-05-23".into()
    });
    tamper("the record's deadline", &|b| {
        b["records"][at]["deadline"] = "2021-05-23".into()
    });

    // Edited and signed again by the key's holder: the proofs and the
    // positions still give the lie away.
    let signer =
        note::parse_signer(std::fs::read_to_string(&s.key).expect("key").trim()).expect("key");
    let verifier =
        note::parse_verifier(std::fs::read_to_string(&s.vkey).expect("vkey").trim()).expect("vkey");
    let cp = note::Checkpoint::parse(
        demarche::evidence::note_text(v["checkpoint"].as_str().expect("cp")).expect("text"),
    )
    .expect("checkpoint");
    let lie = |name: &str, expected: &str, edit: &dyn Fn(&mut Value)| {
        let mut b = v.clone();
        edit(&mut b);
        let signed = demarche::evidence::seal(b, cp.clone(), &signer).expect("seal");
        match demarche::evidence::check(&signed.to_string(), &verifier) {
            Err(demarche::evidence::EvidenceError::Invalid(why)) => {
                assert!(why.contains(expected), "{name}: {why}")
            }
            other => panic!("{name}: {other:?}"),
        }
    };
    lie("a position's deadline", "do not follow", &|b| {
        b["positions"][fra]["deadline"] = "2021-05-23".into()
    });
    lie("a position's deadline dropped", "do not follow", &|b| {
        b["positions"][fra]["deadline"] = Value::Null
    });
    lie("a position's condition", "do not follow", &|b| {
        b["positions"][fra]["condition"] = "unconditionally".into()
    });
    lie("a joint party dropped", "do not follow", &|b| {
        b["positions"][fra]["joint_with"] = serde_json::json!(["DEU"])
    });
    lie("the record's deadline", "edited", &|b| {
        b["records"][at]["deadline"] = "2021-05-23".into()
    });
    // The same bundle signed again holds: the lies fail for their content.
    let same = demarche::evidence::seal(v.clone(), cp.clone(), &signer).expect("seal");
    assert!(demarche::evidence::check(&same.to_string(), &verifier).is_ok());
}

#[test]
fn an_empty_selection_makes_a_bundle_that_says_so() {
    let (s, _) = setup();
    let (path, text) = bundle(&s, &["--party", "CHN"]);
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["positions"], serde_json::json!([]));
    check(&s, &path)
        .success()
        .stdout(predicate::str::contains("valid: 0 positions"));
    // Never overwritten without --force.
    demarche(&s.ledger)
        .args(["evidence", "--sign"])
        .arg(&s.key)
        .arg("-o")
        .arg(&path)
        .assert()
        .code(2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any one character of a bundle changed (outside the layout's whitespace)
    /// is caught, and the checker never panics on what it is given.
    #[test]
    fn any_changed_character_fails_the_check(at in any::<prop::sample::Index>(), c in 0x21u8..0x7f) {
        let (text, key) = fixture();
        let positions: Vec<usize> = text
            .char_indices()
            .filter(|(_, ch)| !ch.is_whitespace() && ch.is_ascii())
            .map(|(i, _)| i)
            .collect();
        let i = positions[at.index(positions.len())];
        prop_assume!(text.as_bytes()[i] != c);
        let mut bytes = text.clone().into_bytes();
        bytes[i] = c;
        let changed = String::from_utf8(bytes).expect("ASCII change");
        prop_assert!(
            demarche::evidence::check(&changed, &key).is_err(),
            "changed byte {} to {:?}: {}",
            i,
            c as char,
            &changed[i.saturating_sub(40)..(i + 40).min(changed.len())]
        );
    }

    #[test]
    fn the_checker_never_panics_on_arbitrary_input(s in ".{0,400}") {
        let (_, key) = fixture();
        let _ = demarche::evidence::check(&s, &key);
        let _ = demarche::evidence::check(&format!("{{\"format\":\"demarche-evidence 1\",{s}"), &key);
    }
}

/// A signer who signs whatever it is given: each re-signed lie is caught by
/// the check of proofs or of the positions, not by the signature.
#[test]
fn a_signed_bundle_whose_content_does_not_hold_is_invalid() {
    let (text, v, k) = fixture_with_signer();
    let good: Value = serde_json::from_str(&text).expect("JSON");
    let cp_text = demarche::evidence::note_text(good["checkpoint"].as_str().expect("cp"))
        .expect("text")
        .to_string();
    let cp = note::Checkpoint::parse(&cp_text).expect("checkpoint");
    let lie = |name: &str, expected: &str, edit: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        edit(&mut b);
        let signed = demarche::evidence::seal(b, cp.clone(), &k).expect("seal");
        match demarche::evidence::check(&signed.to_string(), &v) {
            Err(demarche::evidence::EvidenceError::Invalid(why)) => {
                assert!(why.contains(expected), "{name}: {why}")
            }
            other => panic!("{name}: {other:?}"),
        }
    };
    lie("a position's stance", "do not follow", &|b| {
        b["positions"][0]["stance"] = "demands".into()
    });
    lie("a position invented", "do not follow", &|b| {
        let p = b["positions"][0].clone();
        let mut p2 = p.clone();
        p2["subject"] = "CHN".into();
        b["positions"].as_array_mut().expect("list").insert(0, p2);
    });
    lie("a record's quote", "edited", &|b| {
        b["records"][0]["quote"] = "something else".into()
    });
    lie("a record's proof", "inclusion proof", &|b| {
        b["records"][0]["proof"][0] = demarche::ledger::b64(&[7u8; 32]).into()
    });
    lie("a statement dropped", "do not follow", &|b| {
        b["records"].as_array_mut().expect("list").remove(0);
    });
    // The untouched bundle, re-sealed, is valid: the lies fail for their content.
    let same = demarche::evidence::seal(good.clone(), cp.clone(), &k).expect("seal");
    assert!(demarche::evidence::check(&same.to_string(), &v).is_ok());
}

fn fixture() -> (String, note::VerifierKey) {
    let (t, v, _) = fixture_with_signer();
    (t, v)
}

/// A bundle of the worked example, made once, in process, with its key pair.
fn fixture_with_signer() -> (String, note::VerifierKey, note::SignerKey) {
    use std::sync::OnceLock;
    static F: OnceLock<(String, note::VerifierKey, note::SignerKey)> = OnceLock::new();
    F.get_or_init(|| {
        let mut l = demarche::ledger::Ledger::in_memory();
        l.set_clock(|| 1_795_953_600_000_000);
        demarche::example::record(&mut l).expect("example");
        let (k, v) = note::generate_key("test.example").expect("key");
        let query = demarche::projection::Query {
            as_of: Some(jiff::civil::date(2021, 1, 29)),
            ..Default::default()
        };
        let b = demarche::evidence::build(&l, &query, &k).expect("bundle");
        let text = serde_json::to_string_pretty(&b).expect("JSON");
        assert!(demarche::evidence::check(&text, &v).is_ok());
        (text, v, k)
    })
    .clone()
}

#[test]
fn a_bundle_checked_with_another_key_names_its_signer_and_the_key_given() {
    let (s, _) = setup();
    let (path, _) = bundle(&s, &["--party", "USA"]);
    bin()
        .args(["key", "generate", "--name", "someone.else", "--out"])
        .arg(s.root.join("other"))
        .assert()
        .success();
    let other = std::fs::read_to_string(s.root.join("other.vkey")).expect("vkey");
    let other_id = other.trim().split('+').nth(1).expect("key id");
    let signer = std::fs::read_to_string(&s.vkey).expect("vkey");
    let signer_id = signer.trim().split('+').nth(1).expect("key id");
    // Offline: no --ledger, and $DEMARCHE_LEDGER names nothing that exists.
    let out = bin()
        .env("DEMARCHE_LEDGER", s.root.join("nowhere"))
        .arg("check-evidence")
        .arg(&path)
        .arg("--key")
        .arg(s.root.join("other.vkey"))
        .assert()
        .code(1);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("signed by newsroom.example/ledger+{signer_id}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("the key given is someone.else+{other_id}")),
        "{text}"
    );
    assert!(!s.root.join("nowhere").exists());
    // A flag left out: the usage names what is needed, and not --ledger,
    // which the variable sets and the command does not use.
    bin()
        .env("DEMARCHE_LEDGER", s.root.join("nowhere"))
        .arg("check-evidence")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--key <PREFIX.vkey>"))
        .stderr(predicate::str::contains("--ledger").not());
}
