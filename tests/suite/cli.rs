//! The command line end to end: the worked example, the commands' output and exit
//! codes, and bad input, which must leave the ledger exactly as it was.

use crate::common;

use common::bin;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn demarche(dir: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(dir.join("ledger"));
    c
}

fn head(dir: &Path) -> String {
    let out = demarche(dir).arg("head").assert().success();
    String::from_utf8(out.get_output().stdout.clone())
        .expect("utf8")
        .trim()
        .to_string()
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    demarche(dir.path()).arg("demo").assert().success();
    dir
}

const GOOD: &str = r#"{"type":"statement","said_on":"2021-02-01","party":"FRA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["TUR"],"location":"LBY"},"quote":"France calls for the withdrawal","source":{"publisher":"AFP"}}"#;

#[test]
fn demo_records_the_worked_example_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = demarche(dir.path())
        .args(["demo", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["appended"], 10);
    assert_eq!(v["verify"]["intact"], true);
    let events = v["events"].as_array().expect("events");
    let find = |party: &str, stance: &str, predicate: &str| {
        events
            .iter()
            .filter(|e| {
                e["party"] == party
                    && e["stance"] == stance
                    && e["proposition"]["predicate"] == predicate
            })
            .count()
    };
    assert_eq!(find("USA", "calls-for", "withdrawal"), 1);
    assert_eq!(find("RUS", "denies", "presence"), 1);
    assert_eq!(find("RUS", "acknowledges", "presence"), 1);
    assert_eq!(find("UNSC", "calls-for", "withdrawal"), 1);
    assert_eq!(
        find("UNSC", "demands", "withdrawal"),
        1,
        "the formal demand sits beside the appeals"
    );
    let usa = events
        .iter()
        .find(|e| e["party"] == "USA" && e["proposition"]["predicate"] == "withdrawal")
        .expect("USA");
    assert_eq!(
        usa["proposition"]["subjects"],
        serde_json::json!(["TUR", "RUS"])
    );
    assert_eq!(usa["speaker"]["name"], "Richard Mills");
    let hedged = events
        .iter()
        .find(|e| e["stance"] == "acknowledges")
        .expect("hedged");
    assert_eq!(hedged["hedge"], "which we cannot totally exclude");
    assert_eq!(hedged["proposition"]["qualifier"], "mercenaries");
}

#[test]
fn demo_twice_adds_nothing_and_the_text_shows_the_statements() {
    let dir = demo_dir();
    let before = head(dir.path());
    demarche(dir.path())
        .arg("demo")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "0 example events appended, 10 already recorded",
        ))
        .stdout(predicate::str::contains("intact: 10 events verified"))
        .stdout(predicate::str::contains("withdrawal of TUR, RUS from LBY"));
    assert_eq!(head(dir.path()), before);
}

#[test]
fn demo_with_a_pinned_clock_gives_the_same_head_every_time() {
    let a = demo_dir();
    let b = demo_dir();
    assert_eq!(head(a.path()), head(b.path()));
    assert!(head(a.path()).starts_with("10:"));
}

#[test]
fn append_with_flags_resolves_aliases_and_prints_the_seq() {
    let dir = demo_dir();
    demarche(dir.path())
        .args([
            "append",
            "--said-on",
            "2021-02-01",
            "--party",
            "U.N.",
            "--stance",
            "calls-for",
            "--predicate",
            "withdrawal",
        ])
        .args([
            "--subject",
            "Russian Federation",
            "--location",
            "Libya",
            "--quote",
            "leave now",
            "--publisher",
            "AFP",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("appended seq 11 hash "));
    let out = demarche(dir.path())
        .args(["show", "11", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["party"], "UN");
    assert_eq!(v["proposition"]["subjects"], serde_json::json!(["RUS"]));
    assert_eq!(v["proposition"]["location"], "LBY");
    assert_eq!(v["seq"], 11);
}

#[test]
fn append_json_prints_the_recorded_event_and_head_moves() {
    let dir = demo_dir();
    let out = demarche(dir.path())
        .args(["append", "--json", GOOD])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["seq"], 11);
    assert_eq!(
        head(dir.path()),
        format!("11:{}", v["hash"].as_str().expect("hash"))
    );
}

#[test]
fn log_filters_and_json_lines() {
    let dir = demo_dir();
    let out = demarche(dir.path())
        .args(["log", "--party", "Russia", "--json"])
        .assert()
        .success();
    let lines = json_lines(&out.get_output().stdout);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["party"] == "RUS"));
    let out = demarche(dir.path())
        .args(["log", "--stance", "demands", "--json"])
        .assert()
        .success();
    assert_eq!(json_lines(&out.get_output().stdout).len(), 1);
    let out = demarche(dir.path())
        .args(["log", "--to", "2000-01-01", "--json"])
        .assert()
        .success();
    assert_eq!(json_lines(&out.get_output().stdout)[0]["party"], "UNSC");
    let out = demarche(dir.path())
        .args(["log", "--limit", "2", "--since", "4", "--json"])
        .assert()
        .success();
    let seqs: Vec<u64> = json_lines(&out.get_output().stdout)
        .iter()
        .map(|l| l["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![4, 5]);
    demarche(dir.path())
        .args(["log", "--party", "Rusia"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RUS"));
}

#[test]
fn show_prints_the_event_in_full_with_its_cameo_code() {
    let dir = demo_dir();
    demarche(dir.path())
        .args(["show", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Richard Mills, acting US ambassador to the UN",
        ))
        .stdout(predicate::str::contains("CAMEO 0256"));
    demarche(dir.path())
        .args(["show", "10"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CAMEO 1056"));
    demarche(dir.path())
        .args(["show", "99"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds 10 events"));
}

#[test]
fn verify_and_head_agree_and_expect_head_checks_the_token() {
    let dir = demo_dir();
    let h = head(dir.path());
    demarche(dir.path())
        .args(["verify", "--expect-head", &h])
        .assert()
        .success()
        .stdout(predicate::str::contains(&h));
    let out = demarche(dir.path())
        .args(["verify", "--json"])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["checked"], 10);
    assert_eq!(
        format!(
            "{}:{}",
            v["head"]["size"],
            v["head"]["hash"].as_str().expect("hash")
        ),
        h
    );
    let wrong = format!("10:{}", "ab".repeat(32));
    demarche(dir.path())
        .args(["verify", "--expect-head", &wrong])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("first bad seq 10"));
    demarche(dir.path())
        .args(["verify", "--expect-head", "ten:abc"])
        .assert()
        .code(2);
}

#[test]
fn retraction_and_correction_point_only_at_what_can_be_pointed_at() {
    let dir = demo_dir();
    demarche(dir.path())
        .args(["append", "--retract", "5", "--reason", "misattributed"])
        .assert()
        .success();
    let before = head(dir.path());
    demarche(dir.path())
        .args(["append", "--retract", "11", "--reason", "again"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("retraction"));
    demarche(dir.path())
        .args(["append", "--retract", "12", "--reason", "self"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("itself"));
    demarche(dir.path())
        .args(["append", "--retract", "40", "--reason", "future"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"));
    let correction = r#"{"type":"correction","of":11,"statement":{"said_on":"2021-01-28","party":"RUS","stance":"denies","proposition":{"predicate":"presence"},"quote":"q","source":{"publisher":"AFP"}}}"#;
    demarche(dir.path())
        .args(["append", "--json", correction])
        .assert()
        .code(2);
    assert_eq!(head(dir.path()), before);
}

/// Each bad input: exit 2, an error naming the field, and the head unchanged.
#[test]
fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let dir = demo_dir();
    let before = head(dir.path());
    let good: Value = serde_json::from_str(GOOD).expect("json");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    let long_quote = "x".repeat(demarche::json::MAX_QUOTE + 1);
    let cases: Vec<(String, &str)> = vec![
        (
            r#"{"type":"statement","said_on":"2021-02-01""#.into(),
            "EOF",
        ),
        ("not json at all".into(), "expected"),
        (
            with(&|v| v["colour"] = "red".into()),
            "unknown field `colour`",
        ),
        (
            with(&|v| v["proposition"]["wherever"] = 1.into()),
            "wherever",
        ),
        (
            with(&|v| {
                v.as_object_mut().expect("o").remove("party");
            }),
            "missing field `party`",
        ),
        (
            with(&|v| v["party"] = "".into()),
            "field `party`: must not be empty",
        ),
        (with(&|v| v["party"] = "   ".into()), "field `party`"),
        (
            with(&|v| v["said_on"] = "2021-02-30".into()),
            "field `said_on`: \"2021-02-30\" is not a real date",
        ),
        (
            with(&|v| v["said_on"] = "yesterday".into()),
            "field `said_on`",
        ),
        (
            with(&|v| v["quote"] = long_quote.clone().into()),
            "field `quote`: is 8193 bytes long; the limit is 8192",
        ),
        (
            with(&|v| v["stance"] = "calls_for".into()),
            "close matches: calls-for",
        ),
        (
            with(&|v| v["proposition"]["predicate"] = "withdrawl".into()),
            "close matches: withdrawal",
        ),
        (
            with(&|v| v["party"] = "FRNCE".into()),
            "field `party`: unknown actor \"FRNCE\"",
        ),
        (
            with(&|v| v["proposition"]["subjects"] = serde_json::json!(["TUR", "Turkey"])),
            "named twice",
        ),
        (
            with(&|v| v["source"] = serde_json::json!({})),
            "field `source`: needs a url or a publisher",
        ),
        (
            with(&|v| v["type"] = "rumour".into()),
            "unknown event type \"rumour\"",
        ),
        (
            with(&|v| v["proposition"]["subjects"] = 5.into()),
            "proposition.subjects",
        ),
    ];
    for (line, expected) in cases {
        demarche(dir.path())
            .args(["append", "--json", &line])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains(expected)
                    .and(predicate::str::contains("nothing was appended")),
            );
        assert_eq!(head(dir.path()), before, "head moved after {line}");
    }
}

#[test]
fn import_is_all_or_nothing_and_names_the_line() {
    let dir = demo_dir();
    let before = head(dir.path());
    let file = dir.path().join("in.jsonl");
    let bad_line = GOOD.replace("2021-02-01", "2021-02-30");
    std::fs::write(&file, format!("{GOOD}\n\n{GOOD}\n{bad_line}\n{GOOD}\n")).expect("write");
    demarche(dir.path())
        .arg("import")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 4: field `said_on`"))
        .stderr(predicate::str::contains("nothing was appended"));
    assert_eq!(head(dir.path()), before);
    // Non-UTF-8 bytes.
    let mut bytes = format!("{GOOD}\n").into_bytes();
    bytes.extend_from_slice(b"{\"type\":\"statement\",\"party\":\"\xff\xfe\"}\n");
    std::fs::write(&file, bytes).expect("write");
    demarche(dir.path())
        .arg("import")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2: not valid UTF-8"));
    assert_eq!(head(dir.path()), before);
    // A line longer than the limit.
    std::fs::write(
        &file,
        format!("{GOOD}\n{}\n", "x".repeat(demarche::json::MAX_LINE + 10)),
    )
    .expect("write");
    demarche(dir.path())
        .arg("import")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2: line is"));
    assert_eq!(head(dir.path()), before);
    // A good file from stdin, with the same event twice: recorded once.
    demarche(dir.path())
        .args(["import", "-"])
        .write_stdin(format!("{GOOD}\n{GOOD}\n"))
        .assert()
        .success()
        .stdout(predicate::str::starts_with("imported 1 event in "))
        .stdout(predicate::str::contains("head 11:"))
        .stdout(predicate::str::contains("skipped 1 event already recorded"))
        .stdout(predicate::str::contains("(line 2)"));
}

#[test]
fn actors_are_added_as_events_and_resolve_afterwards() {
    let dir = demo_dir();
    demarche(dir.path())
        .args([
            "actor",
            "add",
            "--id",
            "RUS-MFA",
            "--name",
            "Russian Foreign Ministry",
            "--kind",
            "body",
            "--parent",
            "Russia",
            "--alias",
            "MID",
        ])
        .assert()
        .success();
    demarche(dir.path())
        .args(["actor", "show", "mid"])
        .assert()
        .success()
        .stdout(predicate::str::contains("RUS-MFA"))
        .stdout(predicate::str::contains("seq 11"));
    demarche(dir.path())
        .args(["actor", "alias", "RUS-MFA", "Russian MFA"])
        .assert()
        .success();
    let line = GOOD.replace("\"FRA\"", "\"Russian MFA\"");
    let out = demarche(dir.path())
        .args(["append", "--json", &line])
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    assert_eq!(v["party"], "RUS-MFA");
    // A name already taken, an id already taken.
    demarche(dir.path())
        .args(["actor", "alias", "FRA", "MID"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already resolves to RUS-MFA"));
    demarche(dir.path())
        .args([
            "actor", "add", "--id", "FRA", "--name", "x", "--kind", "state",
        ])
        .assert()
        .code(2);
    demarche(dir.path())
        .args([
            "actor", "add", "--id", "bad id", "--name", "x", "--kind", "state",
        ])
        .assert()
        .code(2);
    demarche(dir.path()).args(["verify"]).assert().success();
}

#[test]
fn a_missing_ledger_is_a_usage_error_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    for cmd in [vec!["log"], vec!["verify"], vec!["head"], vec!["show", "1"]] {
        demarche(dir.path())
            .args(&cmd)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("no ledger at"))
            .stderr(predicate::str::contains("hint:"));
    }
    assert!(
        !dir.path().join("ledger").exists(),
        "read commands must not create a ledger"
    );
}

#[test]
fn the_ledger_location_comes_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = bin();
    c.env("DEMARCHE_LEDGER", dir.path().join("env-ledger"))
        .arg("demo")
        .assert()
        .success();
    assert!(demarche::store::engine_at(&dir.path().join("env-ledger")).is_some());
    // With no flag and no variable, the user's data directory.
    let home = tempfile::tempdir().expect("home");
    bin()
        .env("HOME", home.path())
        .env_remove("XDG_DATA_HOME")
        .arg("demo")
        .assert()
        .success();
    assert!(
        demarche::store::engine_at(&home.path().join(".local/share/demarche/ledger")).is_some()
    );
}

#[test]
fn a_ledger_held_by_another_process_fails_clearly_with_exit_3() {
    let dir = demo_dir();
    let path = dir.path().join("ledger");
    let held = common::open(&path);
    demarche(dir.path())
        .args(["--wait", "0.3", "append", "--json", GOOD])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("in use by another process"))
        .stderr(predicate::str::contains(path.display().to_string()));
    drop(held);
    demarche(dir.path())
        .args(["append", "--json", GOOD])
        .assert()
        .success();
}

#[test]
fn an_empty_directory_becomes_a_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("ledger")).expect("mkdir");
    demarche(dir.path())
        .args(["append", "--json", GOOD])
        .assert()
        .success();
}

#[test]
fn a_directory_that_is_not_a_ledger_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("ledger")).expect("mkdir");
    std::fs::write(dir.path().join("ledger/notes.txt"), "mine").expect("write");
    demarche(dir.path())
        .args(["append", "--json", GOOD])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a demarche ledger"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ledger/notes.txt")).expect("read"),
        "mine"
    );
}

#[test]
fn help_teaches_with_examples_and_exit_codes() {
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("DEMARCHE_LEDGER"));
    for cmd in [
        "demo",
        "append",
        "import",
        "log",
        "show",
        "verify",
        "head",
        "positions",
        "history",
        "diff",
        "vocab",
    ] {
        bin()
            .args([cmd, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
    bin().arg("frobnicate").assert().code(2);
}

/// The commands listed by `--help` with their summaries.
fn listed_commands(help: &str) -> Vec<(String, String)> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .map(|l| {
            let l = l.trim();
            let (name, about) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_string(), about.trim().to_string())
        })
        .collect()
}

/// Every command's help opens with the summary the command list gives it,
/// has its own flags and usage, and teaches the same in `help CMD`; its
/// subcommands' too. (A command's arguments are built only when it is run,
/// so these are what a missing or misplaced definition would break.)
#[test]
fn every_command_s_help_is_its_own() {
    let text = |args: &[&str]| {
        let out = bin().args(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).expect("utf8")
    };
    let top = listed_commands(&text(&["--help"]));
    assert!(top.len() > 25, "{top:?}");
    let mut nested = 0;
    for (name, about) in &top {
        if name == "help" {
            continue;
        }
        let help = text(&[name, "--help"]);
        let first = help.lines().next().unwrap_or_default();
        // The list cuts a long summary to fit; the help has it whole.
        let summary = about.trim_end_matches('.');
        assert!(
            first.starts_with(&summary[..summary.len().min(40)]),
            "{name}: help opens with {first:?}, the list says {about:?}"
        );
        assert!(
            help.contains(&format!("Usage: demarche {name}")),
            "{name}: {help}"
        );
        assert!(help.contains("--ledger <PATH>"), "{name}: {help}");
        assert_eq!(text(&["help", name]), help, "help {name}");
        for (sub, sub_about) in listed_commands(&help) {
            if sub == "help" {
                continue;
            }
            nested += 1;
            let help = text(&[name, &sub, "--help"]);
            let first = help.lines().next().unwrap_or_default();
            let summary = sub_about.trim_end_matches('.');
            assert!(
                first.starts_with(&summary[..summary.len().min(40)]),
                "{name} {sub}: help opens with {first:?}, the list says {sub_about:?}"
            );
            assert_eq!(text(&["help", name, &sub]), help, "help {name} {sub}");
        }
    }
    assert!(nested >= 10, "{nested} subcommands of commands");
    // A command's options, not only its usage, are in its help.
    assert!(text(&["import", "--help"]).contains("--add-actors"));
    assert!(text(&["verify", "-h"]).contains("--chain-only"));
    assert!(text(&["actor", "add", "--help"]).contains("--kind"));
}

/// Completions and the manual page describe every command whole: their
/// options, and the subcommands of `help` down to `help actor add`.
#[test]
fn completions_and_the_manual_describe_every_command() {
    let text = |args: &[&str]| {
        let out = bin().args(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).expect("utf8")
    };
    let bash = text(&["completions", "bash"]);
    for needle in [
        "demarche__subcmd__help__subcmd__actor__subcmd__add",
        "demarche__subcmd__help__subcmd__witness__subcmd__cosign",
        "demarche__subcmd__help__subcmd__key__subcmd__generate",
        "--add-actors",
        "--chain-only",
        "--as-of",
    ] {
        assert!(bash.contains(needle), "bash completions lack {needle}");
    }
    let fish = text(&["completions", "fish"]);
    assert!(
        fish.contains("Key pairs for signing checkpoints and evidence"),
        "{fish}"
    );
    let man = text(&["man"]);
    for needle in [r"demarche\-import", r"demarche\-actor", "Exit codes"] {
        assert!(man.contains(needle), "man lacks {needle}");
    }
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = demo_dir();
    let ledger = dir.path().join("ledger");
    {
        // Enough events that the output overflows the pipe after `head` has gone.
        let mut l = common::open(&ledger);
        l.append_batch((0..3000).map(|i| Ok(common::statement(i))))
            .expect("batch");
    }
    // A listing, and an export (written from two threads).
    for command in ["log --json", "export"] {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "'{}' --ledger '{}' {command} | head -1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\" >&2",
                env!("CARGO_BIN_EXE_demarche"),
                ledger.display()
            ))
            .output()
            .expect("bash");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("status=0"), "{command}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{command}: {stderr}"
        );
    }
}

#[test]
fn a_sled_database_of_something_else_is_never_adopted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger");
    {
        let db = sled::open(&path).expect("sled");
        db.open_tree("mine")
            .expect("tree")
            .insert("k", "v")
            .expect("insert");
        db.flush().expect("flush");
    }
    for args in [vec!["verify"], vec!["append", "--json", GOOD]] {
        demarche(dir.path())
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a demarche ledger"));
    }
    let db = sled::open(&path).expect("sled");
    assert!(
        !db.tree_names().iter().any(|n| n.as_ref() == b"ledger"),
        "no ledger tree was added"
    );
}

#[test]
fn flags_that_contradict_each_other_are_refused() {
    let dir = demo_dir();
    let before = head(dir.path());
    demarche(dir.path())
        .args(["append", "--json", GOOD, "--party", "USA"])
        .assert()
        .code(2);
    demarche(dir.path())
        .args([
            "append",
            "--retract",
            "3",
            "--party",
            "USA",
            "--reason",
            "r",
        ])
        .assert()
        .code(2);
    demarche(dir.path())
        .args(["append", "--retract", "3"])
        .assert()
        .code(2);
    demarche(dir.path())
        .args([
            "append",
            "--said-on",
            "2021-02-30",
            "--party",
            "USA",
            "--stance",
            "denies",
            "--predicate",
            "presence",
            "--quote",
            "q",
            "--publisher",
            "p",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("said_on"));
    demarche(dir.path())
        .args(["--wait", "-1", "append", "--json", GOOD])
        .assert()
        .code(2);
    assert_eq!(head(dir.path()), before);
}

#[test]
fn an_expected_empty_head_must_have_the_zero_hash() {
    let dir = demo_dir();
    demarche(dir.path())
        .args(["verify", "--expect-head", &format!("0:{}", "0".repeat(64))])
        .assert()
        .success();
    demarche(dir.path())
        .args(["verify", "--expect-head", &format!("0:{}", "1".repeat(64))])
        .assert()
        .code(1);
}

#[test]
fn bad_input_to_a_new_ledger_leaves_no_ledger_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unknown = GOOD.replace("\"FRA\"", "\"NOWHERE\"");
    demarche(dir.path())
        .args(["append", "--json", &unknown])
        .assert()
        .code(2);
    assert!(
        !dir.path().join("ledger").exists(),
        "append created a ledger"
    );
    let file = dir.path().join("in.jsonl");
    std::fs::write(&file, format!("{GOOD}\n{unknown}\n")).expect("write");
    demarche(dir.path())
        .arg("import")
        .arg(&file)
        .assert()
        .code(2);
    assert!(
        !dir.path().join("ledger").exists(),
        "import created a ledger"
    );
    demarche(dir.path())
        .args(["actor", "alias", "NOWHERE", "x"])
        .assert()
        .code(2);
    assert!(
        !dir.path().join("ledger").exists(),
        "actor alias created a ledger"
    );
    // An existing ledger is never removed, even an empty one.
    demarche(dir.path())
        .args(["append", "--json", GOOD])
        .assert()
        .success();
    demarche(dir.path())
        .args(["append", "--json", &unknown])
        .assert()
        .code(2);
    assert!(demarche::store::engine_at(&dir.path().join("ledger")).is_some());
}

#[test]
fn vocab_lists_every_pair_with_its_cameo_code() {
    let out = bin().args(["vocab", "--json"]).assert().success();
    let rows = json_lines(&out.get_output().stdout);
    let v = demarche::vocab::Vocabulary::builtin();
    assert_eq!(rows.len(), v.stances.len() * v.predicates.len());
    let code = |stance: &str, predicate: &str| {
        rows.iter()
            .find(|r| r["stance"] == stance && r["predicate"] == predicate)
            .map(|r| r["cameo"].clone())
    };
    assert_eq!(code("calls-for", "withdrawal"), Some("0256".into()));
    assert_eq!(code("demands", "withdrawal"), Some("1056".into()));
    assert_eq!(code("denies", "presence"), Some("016".into()));
    bin()
        .arg("vocab")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Appeal for de-escalation of military engagement",
        ))
        .stdout(predicate::str::contains("(also: urges, appeals"));
}

/// `vocab` lists every qualifier, with its other names and the predicates
/// it narrows, as `--qualifier` says it does.
#[test]
fn vocab_lists_the_qualifiers_and_what_they_narrow() {
    let out = bin().arg("vocab").assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).expect("utf-8");
    let (_, qualifiers) = text
        .split_once("\nQualifiers")
        .expect("a section of qualifiers");
    let v = demarche::vocab::Vocabulary::builtin();
    assert!(!v.qualifiers.is_empty());
    for q in &v.qualifiers {
        let at = qualifiers
            .find(&format!("\n  {} ", q.id))
            .unwrap_or_else(|| panic!("{} is listed", q.id));
        let mut lines = qualifiers[at + 1..].lines();
        let first = lines.next().expect("its line");
        assert!(first.contains(&q.label), "{first}");
        for a in &q.aliases {
            assert!(first.contains(a.as_str()), "{first} names {a}");
        }
        let then = lines.next().expect("the predicates' line");
        assert_eq!(
            then.trim().strip_prefix("for "),
            Some(q.predicates.join(", ").as_str()),
            "{}",
            q.id
        );
    }
}

/// A name the ledger or the vocabulary does not know, in an event or in a
/// query's flag, is answered with the command that lists the names it does.
#[test]
fn an_unknown_name_points_to_where_the_known_ones_are_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    run(&["demo"]).assert().success();
    let statement = |party: &str, predicate: &str, qualifier: &str| {
        serde_json::json!({
            "type": "statement", "said_on": "2023-08-02", "party": party,
            "stance": "warns",
            "proposition": {"predicate": predicate, "subjects": ["FRA"], "location": "NER", "qualifier": qualifier},
            "quote": "...", "source": {"publisher": "TASS"}
        })
        .to_string()
    };
    let actors = "`demarche actor list` shows the actors this ledger knows, and `demarche actor add` defines a new one";
    let words = "`demarche vocab` lists the stances, predicates and qualifiers";
    for (line, hint) in [
        (statement("Rusia", "expulsion", "envoy"), actors),
        (statement("RUS", "restraint", "envoy"), words),
        (statement("RUS", "expulsion", "consul"), words),
    ] {
        run(&["append", "--json", &line])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "hint: nothing was appended; {hint}"
            )));
        let file = dir.path().join("one.jsonl");
        std::fs::write(&file, format!("{line}\n")).expect("write");
        run(&["import"])
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "the import is all or nothing; {hint}"
            )));
    }
    // A known name takes no such hint.
    run(&["append", "--json", &statement("RUS", "expulsion", "envoy")])
        .assert()
        .success();
    for (flags, hint) in [
        (["--party", "Rusia"], actors),
        (["--location", "Nigr"], actors),
        (["--stance", "threat"], words),
        (["--predicate", "restraint"], words),
    ] {
        run(&["positions"])
            .args(flags)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("hint: {hint}")));
    }
    run(&["actor", "show", "Rusia"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("hint: {actors}")));
}

/// `-o` writes regular files only: a device or a symbolic link (even a
/// dangling one) is refused, with or without `--force`, and left as it was;
/// `-o -` is standard output.
#[test]
fn output_files_are_regular_files_and_dash_is_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    run(&["demo"]).assert().success();
    for force in [false, true] {
        let mut args = vec!["export", "-o", "/dev/null"];
        if force {
            args.push("--force");
        }
        run(&args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("not a regular file"));
    }
    assert!(std::path::Path::new("/dev/null").exists());
    #[cfg(unix)]
    {
        let link = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).expect("symlink");
        let l = link.to_str().expect("utf-8");
        run(&["export", "-o", l, "--force"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("symbolic link"));
        let still = std::fs::symlink_metadata(&link).expect("the link is still there");
        assert!(still.file_type().is_symlink());
        assert!(!dir.path().join("nowhere").exists());
    }
    let to_stdout = run(&["export", "-o", "-"]).assert().success();
    let text = String::from_utf8(to_stdout.get_output().stdout.clone()).expect("utf-8");
    assert_eq!(text.lines().count(), 10, "the export went to stdout");
    assert!(!dir.path().join("-").exists());
    assert!(!std::path::Path::new("-").exists());
}

/// An alias or id that can be mistaken for a name of another actor (the same
/// Unicode TR39 skeleton) is refused, naming that actor; the actor's own
/// look-alike is accepted, since it resolves to the actor it looks like.
#[test]
fn confusable_aliases_are_refused_naming_the_actor_they_look_like() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    run(&["demo"]).assert().success();
    let head = || {
        run(&["head"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let before = head();
    // A Cyrillic S (U+0405), fullwidth letters, a Cyrillic C in CHN.
    for alias in ["RU\u{405}", "\u{FF32}\u{FF35}\u{FF33}", "\u{0421}HN"] {
        let out = run(&["actor", "alias", "UN", alias]).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{alias}: {err}");
        assert!(err.contains("can be mistaken for"), "{alias}: {err}");
    }
    let out = run(&["actor", "alias", "UN", "RU\u{405}"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("resolves to RUS"));
    assert_eq!(head(), before, "nothing was appended");
    // A new actor whose id looks like another's name (0 for O).
    let out = run(&[
        "actor", "add", "--id", "NAT0", "--name", "Not NATO", "--kind", "group",
    ])
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("NATO"), "{err}");
    assert_eq!(head(), before, "nothing was appended");
    // The actor's own look-alike, and a plain new alias, are taken.
    run(&["actor", "alias", "RUS", "\u{FF32}\u{FF35}\u{FF33}"])
        .assert()
        .success();
    run(&["actor", "alias", "UN", "United Nations Organization"])
        .assert()
        .success();
}

/// A name, alias or role cannot carry a line break, a tab or a character that
/// reorders text, which would let it print a fake row; a quote may run over
/// lines, and `log` still prints one row for it.
#[test]
fn text_that_would_spoof_a_printed_row_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    run(&["demo"]).assert().success();
    let head = || {
        String::from_utf8(
            run(&["head"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .expect("utf-8")
    };
    let before = head();
    for args in [
        &[
            "actor",
            "alias",
            "UN",
            "UN\n    99  2021-01-28  USA    denies",
        ][..],
        &["actor", "alias", "UN", "U\tN"][..],
        &["actor", "alias", "UN", "\u{202E}SUR"][..],
        &[
            "actor",
            "add",
            "--id",
            "XFAKE",
            "--name",
            "Fake\nrow",
            "--kind",
            "group",
        ][..],
        &[
            "append",
            "--said-on",
            "2021-01-28",
            "--party",
            "USA",
            "--stance",
            "denies",
            "--predicate",
            "sanctions",
            "--quote",
            "q",
            "--publisher",
            "AFP\n    12  fake",
        ][..],
    ] {
        run(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("one line of plain text"));
    }
    assert_eq!(head(), before, "nothing was appended");
    run(&[
        "append",
        "--said-on",
        "2021-01-28",
        "--party",
        "USA",
        "--stance",
        "denies",
        "--predicate",
        "sanctions",
        "--quote",
        "first line\nsecond line",
        "--publisher",
        "AFP",
    ])
    .assert()
    .success();
    let log = run(&["log", "--party", "USA", "--stance", "denies"])
        .assert()
        .success();
    let text = String::from_utf8(log.get_output().stdout.clone()).expect("utf-8");
    assert_eq!(text.lines().count(), 2, "a header and one row: {text}");
    assert!(text.contains("first line second line"), "{text}");
}

/// Output that cannot be written (a full device) ends with exit 3 and a
/// message, not a panic.
#[cfg(target_os = "linux")]
#[test]
fn a_full_device_ends_with_exit_3_not_a_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("demarche"))
        .args(["completions", "bash"])
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
}

/// `append --correct SEQ` changes only what its flags give: the rest of the
/// statement stays as it stands (with earlier corrections). A correction
/// given as JSON may carry the copied statement's `"type": "statement"`.
#[test]
fn a_correction_patches_the_statement_as_it_stands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    run(&["demo"]).assert().success();
    run(&[
        "append",
        "--said-on",
        "2021-02-01",
        "--party",
        "U.N.",
        "--stance",
        "calls-for",
        "--predicate",
        "withdrawal",
        "--subject",
        "Russia",
        "--subject",
        "Turkey",
        "--location",
        "Libya",
        "--quote",
        "all foreign forces must leave",
        "--publisher",
        "AFP",
    ])
    .assert()
    .success();
    // Only the date was wrong.
    run(&[
        "append",
        "--correct",
        "11",
        "--said-on",
        "2021-02-02",
        "--reason",
        "the date",
    ])
    .assert()
    .success()
    .stderr(predicates::str::contains("changed said_on"));
    // Then the stance, on top of the corrected date.
    run(&[
        "append",
        "--correct",
        "11",
        "--stance",
        "demands",
        "--reason",
        "a demand",
    ])
    .assert()
    .success();
    let show = run(&["show", "13", "--json"]).assert().success();
    let v: Value = serde_json::from_slice(&show.get_output().stdout).expect("JSON");
    let s = &v["statement"];
    assert_eq!(s["said_on"], "2021-02-02");
    assert_eq!(s["stance"], "demands");
    assert_eq!(
        s["proposition"]["subjects"],
        serde_json::json!(["RUS", "TUR"])
    );
    assert_eq!(s["proposition"]["location"], "LBY");
    assert_eq!(s["quote"], "all foreign forces must leave");
    assert_eq!(s["source"]["publisher"], "AFP");
    // The copied line's "type" inside a correction is accepted.
    let mut copied = s.clone();
    copied["type"] = "statement".into();
    copied["quote"] = "all foreign forces must leave Libya".into();
    let line =
        serde_json::json!({"type": "correction", "of": 11, "statement": copied, "reason": "quote"});
    run(&["append", "--json", &line.to_string()])
        .assert()
        .success();
    // Each record says whether it still stands.
    let status = |seq: &str| -> Value {
        let out = run(&["show", seq, "--json"]).assert().success();
        serde_json::from_slice(&out.get_output().stdout).expect("JSON")
    };
    for (seq, want, by) in [
        ("11", "corrected", Value::from(14)),
        ("12", "corrected", Value::from(14)),
        ("14", "standing", Value::Null),
    ] {
        let v = status(seq);
        assert_eq!(
            (v["status"].clone(), v["corrected_by"].clone()),
            (want.into(), by),
            "seq {seq}"
        );
    }
    run(&["show", "11"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "corrected: as it stands now, see seq 14",
        ));
    copied["type"] = "retraction".into();
    let line = serde_json::json!({"type": "correction", "of": 11, "statement": copied});
    run(&["append", "--json", &line.to_string()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("statement.type"));
}

/// `log` selects by predicate, subject, place and text in the quote; `show`
/// takes HEAD or a prefix of a chain hash; importing an export points to
/// `rebuild`.
#[test]
fn log_selects_by_proposition_and_text_and_show_names_events_by_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    let text = |args: &[&str]| {
        String::from_utf8(run(args).assert().success().get_output().stdout.clone()).expect("utf-8")
    };
    run(&["demo"]).assert().success();
    let seqs = |out: &str| -> Vec<String> {
        out.lines()
            .skip(1)
            .map(|l| l.split_whitespace().next().expect("seq").to_string())
            .collect()
    };
    assert_eq!(
        seqs(&text(&[
            "log",
            "--predicate",
            "presence",
            "--location",
            "Libya"
        ]))
        .len(),
        3
    );
    let turkey = seqs(&text(&["log", "--subject", "Turkey"]));
    assert!(turkey.contains(&"3".to_string()), "{turkey:?}");
    assert!(!turkey.contains(&"5".to_string()), "{turkey:?}");
    assert_eq!(seqs(&text(&["log", "--search", "MERCENARIES"])).len(), 5);
    // `--grep` is `--search`, and takes the date flags beside it.
    assert_eq!(
        seqs(&text(&[
            "log",
            "--from",
            "2021-01",
            "--grep",
            "mercenaries"
        ]))
        .len(),
        5
    );
    assert!(seqs(&text(&["log", "--from", "2022", "--grep", "mercenaries"])).is_empty());
    assert_eq!(
        seqs(&text(&["log", "--search", "cease-fire is HOLDING"])),
        ["2"]
    );
    run(&["log", "--predicate", "withdrawl"]).assert().code(2);
    // HEAD and hash prefixes.
    let head = text(&["head"]);
    let (size, hash) = head.trim().split_once(':').expect("SIZE:HASH");
    let by_head: Value = serde_json::from_str(&text(&["show", "HEAD", "--json"])).expect("JSON");
    assert_eq!(by_head["seq"].to_string(), size);
    let by_hash: Value =
        serde_json::from_str(&text(&["show", &hash[..8], "--json"])).expect("JSON");
    assert_eq!(by_hash["hash"], hash);
    run(&["show", "abc"]).assert().code(2);
    run(&["show", "000000ff"]).assert().code(2);
    // An export is rebuilt, not imported.
    let export = dir.path().join("all.jsonl");
    run(&["export", "-o", export.to_str().expect("utf-8")])
        .assert()
        .success();
    run(&["import", export.to_str().expect("utf-8")])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("rebuild --from"));
}

/// Dates in flags may be a month or a year (its first day in `--from`, its
/// last in `--to` and `--as-of`) or carry a time (taken as its day).
#[test]
fn date_flags_take_months_years_and_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let out = |args: &[&str]| {
        let mut c = common::at(&ledger, args);
        String::from_utf8(c.assert().success().get_output().stdout.clone()).expect("utf-8")
    };
    out(&["demo"]);
    let day = out(&["positions", "--as-of", "2021-01-31", "--json"]);
    assert_eq!(out(&["positions", "--as-of", "2021-01", "--json"]), day);
    assert_eq!(
        out(&["positions", "--as-of", "2021", "--json"]),
        out(&["positions", "--as-of", "2021-12-31", "--json"])
    );
    assert_eq!(
        out(&["positions", "--as-of", "2021-01-28T12:00Z", "--json"]),
        out(&["positions", "--as-of", "2021-01-28", "--json"])
    );
    let january = out(&[
        "history", "--party", "USA", "--from", "2021-01", "--to", "2021-01",
    ]);
    assert!(january.contains("2021-01-28"), "{january}");
    let ninety = out(&["log", "--from", "1990", "--to", "1990"]);
    assert_eq!(ninety.lines().count(), 2, "{ninety}");
    for bad in ["2021-13", "21-01", "2021-01-32", "January"] {
        let mut c = bin();
        c.arg("--ledger")
            .arg(&ledger)
            .args(["positions", "--as-of", bad]);
        c.assert()
            .code(2)
            .stderr(predicates::str::contains("YYYY-MM"));
    }
}

/// A refused actor names the field at fault.
#[test]
fn a_refused_actor_names_the_field_at_fault() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    for (args, field) in [
        (
            &["--id", "XA", "--name", "A", "--kind", "regionx"][..],
            "field `kind`",
        ),
        (
            &["--id", "XA", "--name", "Russia", "--kind", "region"][..],
            "field `name`",
        ),
        (
            &[
                "--id",
                "XB",
                "--name",
                "B",
                "--kind",
                "region",
                "--alias",
                "Republic of Armenia",
            ][..],
            "field `aliases`",
        ),
        (
            &["--id", "RUS", "--name", "A", "--kind", "region"][..],
            "field `id`",
        ),
        (
            &[
                "--id", "XA", "--name", "A", "--kind", "region", "--parent", "Narnia",
            ][..],
            "field `parent`",
        ),
    ] {
        let mut c = bin();
        c.arg("--ledger")
            .arg(&ledger)
            .args(["actor", "add"])
            .args(args);
        c.assert()
            .code(2)
            .stderr(predicates::str::contains(field))
            .stderr(predicates::str::contains("append --help").not());
    }
}

/// A retracted statement can be neither retracted again nor corrected (either
/// would be silently void); a retracted correction leaves its statement.
#[test]
fn a_retracted_statement_takes_no_further_amendment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let run = |args: &[&str]| common::at(&ledger, args);
    run(&["demo"]).assert().success();
    // Seq 2 corrected (11), the correction retracted (12): seq 2 stands as
    // first recorded, and can be corrected again.
    run(&[
        "append",
        "--correct",
        "2",
        "--quote",
        "The ceasefire is holding",
        "--reason",
        "spelling",
    ])
    .assert()
    .success();
    run(&[
        "append",
        "--retract",
        "11",
        "--reason",
        "the report spells it so",
    ])
    .assert()
    .success();
    run(&[
        "append",
        "--correct",
        "2",
        "--quote",
        "The cease-fire is holding.",
        "--reason",
        "stop",
    ])
    .assert()
    .success();
    // Seq 4 retracted (14): nothing more.
    run(&["append", "--retract", "4", "--reason", "misattributed"])
        .assert()
        .success();
    let head = || {
        String::from_utf8(
            run(&["head"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .expect("utf-8")
    };
    let before = head();
    run(&["append", "--retract", "4", "--reason", "again"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("seq 4 was retracted"));
    run(&[
        "append",
        "--correct",
        "4",
        "--stance",
        "demands",
        "--reason",
        "x",
    ])
    .assert()
    .code(2)
    .stderr(predicates::str::contains("seq 4 was retracted"));
    // In one batch too: a statement retracted earlier in the same import.
    let batch = "{\"type\":\"retraction\",\"of\":5,\"reason\":\"a\"}\n{\"type\":\"retraction\",\"of\":5,\"reason\":\"b\"}\n";
    run(&["import", "-"])
        .write_stdin(batch)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("seq 5 was retracted"));
    assert_eq!(head(), before);
    // A statement corrected, then retracted: its correction says so too.
    run(&["append", "--correct", "5", "--said-on", "2021-01-29"])
        .assert()
        .success();
    run(&["append", "--retract", "5", "--reason", "misquoted"])
        .assert()
        .success();
    let show = |seq: &str| -> serde_json::Value {
        serde_json::from_slice(
            &run(&["show", seq, "--json"])
                .assert()
                .success()
                .get_output()
                .stdout,
        )
        .expect("JSON")
    };
    let (correction, retraction) = (show("HEAD~1"), show("HEAD"));
    for v in [show("5"), correction] {
        assert_eq!(v["status"], "retracted", "{v}");
        assert_eq!(v["retracted_by"], retraction["seq"], "{v}");
    }
}

/// An actor in a selection stands for itself and the actors that belong to
/// it: `--party UN` finds the Security Council's statements, `--location GEO`
/// those about a region of Georgia; the rows keep their own actor.
#[test]
fn a_selected_actor_stands_for_those_that_belong_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let out = |args: &[&str]| {
        let mut c = common::at(&ledger, args);
        String::from_utf8(c.assert().success().get_output().stdout.clone()).expect("utf-8")
    };
    out(&["demo"]);
    out(&[
        "actor",
        "add",
        "--id",
        "XSO",
        "--name",
        "South Ossetia",
        "--kind",
        "region",
        "--parent",
        "GEO",
    ]);
    out(&[
        "append",
        "--said-on",
        "2008-08-26",
        "--party",
        "RUS",
        "--stance",
        "recognises",
        "--predicate",
        "independence",
        "--subject",
        "XSO",
        "--location",
        "XSO",
        "--quote",
        "q",
        "--publisher",
        "p",
    ]);
    // UNSC belongs to the UN.
    let un = out(&["positions", "--party", "UN", "--json"]);
    assert!(un.contains(r#""party":"UNSC""#), "{un}");
    assert!(un.contains(r#""party":"UN""#), "{un}");
    let unsc = out(&["positions", "--party", "UNSC", "--json"]);
    assert!(!unsc.contains(r#""party":"UN""#), "{unsc}");
    assert!(out(&["log", "--party", "UN"])
        .lines()
        .any(|l| l.contains("UNSC")));
    assert!(out(&["history", "--party", "UN"]).contains("UNSC"));
    // A region of Georgia is in Georgia.
    let geo = out(&["positions", "--location", "Georgia", "--json"]);
    assert!(geo.contains(r#""location":"XSO""#), "{geo}");
    assert!(out(&["log", "--location", "GEO"]).contains("XSO"));
    // And a bundle made with such a selection still checks.
    let keys = tempfile::tempdir().expect("keys");
    let prefix = keys.path().join("k");
    let mut c = bin();
    c.args(["key", "generate", "--name", "example.org/l", "--out"])
        .arg(&prefix);
    c.assert().success();
    let bundle = keys.path().join("b.json");
    let mut c = bin();
    c.arg("--ledger")
        .arg(&ledger)
        .args(["evidence", "--party", "UN", "--sign"])
        .arg(keys.path().join("k.key"))
        .arg("-o")
        .arg(&bundle);
    c.assert().success();
    let text = std::fs::read_to_string(&bundle).expect("bundle");
    assert!(
        text.contains("\"UNSC\""),
        "the bundle holds the council's positions"
    );
    let mut c = bin();
    c.args(["check-evidence", "--key"])
        .arg(keys.path().join("k.vkey"))
        .arg(&bundle);
    c.assert().success();
}

/// The character column where `needle` starts in `line`.
fn column(line: &str, needle: &str) -> usize {
    let at = line
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} in {line:?}"));
    line[..at].chars().count()
}

#[test]
fn tables_stay_aligned_with_long_ids_and_times_of_day() {
    let dir = demo_dir();
    demarche(dir.path())
        .args([
            "actor",
            "add",
            "--id",
            "USA-DOD",
            "--name",
            "Department of Defense",
            "--kind",
            "body",
            "--parent",
            "USA",
        ])
        .assert()
        .success();
    let timed = r#"{"type":"statement","said_on":"2021-01-29T14:05:09+02:00","party":"USA-DOD","stance":"denies","proposition":{"predicate":"presence","subjects":["USA"],"location":"LBY"},"quote":"no US troops are in Libya","source":{"publisher":"AFP"}}"#;
    demarche(dir.path())
        .args(["append", "--json", timed])
        .assert()
        .success();
    let text = |args: &[&str]| {
        let out = demarche(dir.path()).args(args).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).expect("utf8")
    };
    // log: every statement's columns start where the header's do.
    let log = text(&["log", "--type", "statement"]);
    let lines: Vec<&str> = log.lines().collect();
    let header = lines[0];
    for name in ["party", "stance", "proposition", "quote"] {
        let at = column(header, name);
        for line in &lines[1..] {
            let cell: String = line.chars().skip(at).take(1).collect();
            let before: String = line.chars().take(at).collect();
            assert!(
                before.ends_with("  ") && cell != " ",
                "column {name} at {at} in {line:?}"
            );
        }
    }
    assert!(log.contains("2021-01-29T14:05:09+02:00  USA-DOD"), "{log}");
    // positions: the same, with the longer party.
    let positions = text(&["positions"]);
    let lines: Vec<&str> = positions.lines().collect();
    let since = column(lines[0], "since");
    for line in &lines[1..] {
        let date: String = line.chars().skip(since).take(4).collect();
        assert!(date.starts_with("20") || date.starts_with("19"), "{line:?}");
    }
    assert!(positions.contains("USA-DOD  denies"), "{positions}");
    // history: dates with and without a time line up.
    let history = text(&["history", "--location", "LBY"]);
    let seqs: Vec<usize> = history
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| column(l, "seq "))
        .collect();
    assert!(
        seqs.len() > 5 && seqs.iter().all(|&c| c == seqs[0]),
        "{history}"
    );
}

#[test]
fn propositions_read_as_a_reader_says_them() {
    let dir = demo_dir();
    let positions = demarche(dir.path()).arg("positions").assert().success();
    let text = String::from_utf8_lossy(&positions.get_output().stdout).into_owned();
    assert!(
        text.contains("withdrawal of FOREIGN-FORCES from LBY"),
        "{text}"
    );
    assert!(
        !text.contains("withdrawal of FOREIGN-FORCES in LBY"),
        "{text}"
    );
    assert!(
        text.contains("presence of RUS [mercenaries] in LBY"),
        "{text}"
    );
    let log = demarche(dir.path()).arg("log").assert().success();
    let text = String::from_utf8_lossy(&log.get_output().stdout).into_owned();
    assert!(text.contains("withdrawal of TUR, RUS from LBY"), "{text}");
}

#[test]
fn an_empty_result_says_what_was_asked_on_stderr() {
    let dir = demo_dir();
    for (args, says) in [
        (
            &["positions", "--party", "FRA"][..],
            "no positions match (--party FRA)",
        ),
        (
            &["positions", "--view", "presence", "--party", "USA"][..],
            "no positions match (--view presence, --party USA)",
        ),
        (
            &["log", "--party", "FRA", "--from", "2021"][..],
            "no events match (--party FRA, --from 2021)",
        ),
        (
            &["history", "--location", "GEO"][..],
            "no statements match (--location GEO)",
        ),
        (
            &[
                "diff",
                "--from",
                "2021-01-01",
                "--to",
                "2021-01-02",
                "--party",
                "USA",
            ][..],
            "no position changed between 2021-01-01 and 2021-01-02 (--party USA)",
        ),
    ] {
        demarche(dir.path())
            .args(args)
            .assert()
            .success()
            .stdout("")
            .stderr(predicate::str::contains(says));
        // JSON: nothing at all, an empty list of lines.
        demarche(dir.path())
            .args(args)
            .arg("--json")
            .assert()
            .success()
            .stdout("");
    }
}

#[test]
fn suggestions_come_through_synonyms_aliases_and_once_per_actor() {
    let dir = demo_dir();
    let before = head(dir.path());
    demarche(dir.path())
        .args([
            "append",
            "--said-on",
            "2021-02-01",
            "--party",
            "USA",
            "--stance",
            "urges",
            "--predicate",
            "ceasefire",
            "--location",
            "LBY",
            "--quote",
            "we urge",
            "--publisher",
            "AFP",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "close matches: calls-for (\"urges\")",
        ));
    assert_eq!(head(dir.path()), before);
    let out = demarche(dir.path())
        .args(["positions", "--party", "Turky"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("TUR (Turkey)"), "{err}");
    assert_eq!(err.matches("TUR").count(), 1, "{err}");
    demarche(dir.path())
        .args(["positions", "--party", "OTAN"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "NATO (North Atlantic Treaty Organization)",
        ));
    demarche(dir.path())
        .args(["positions", "--party", "Atlantic Aliance"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("NATO (alias Atlantic Alliance)"));
}

#[test]
fn append_reads_its_json_line_from_stdin() {
    let dir = demo_dir();
    let before = head(dir.path());
    // One event, also when it spans several lines (as `jq .` prints it).
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(GOOD).expect("JSON"))
        .expect("JSON");
    assert!(pretty.lines().count() > 3);
    let out = demarche(dir.path())
        .args(["append", "--json", "-"])
        .write_stdin(format!("{pretty}\n"))
        .assert()
        .success();
    let v: Value =
        serde_json::from_slice(&out.get_output().stdout).expect("the recorded event as JSON");
    assert_eq!(v["seq"], 11);
    assert_eq!(v["party"], "FRA");
    assert_ne!(head(dir.path()), before);
    // Two events, or none: refused, nothing appended.
    let after = head(dir.path());
    demarche(dir.path())
        .args(["append", "--json", "-"])
        .write_stdin(format!("{GOOD}\n{GOOD}\n"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds 2 events"))
        .stderr(predicate::str::contains("demarche import -"));
    demarche(dir.path())
        .args(["append", "--json", "-"])
        .write_stdin("\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds no event"));
    assert_eq!(head(dir.path()), after);
}
