//! Import, export, `verify --export` and `rebuild`, end to end through the
//! command line: the round trip is exact, every way of breaking an export is
//! caught (by demarche and by the Python checker in tools/), re-imports add
//! nothing, and bad input changes nothing.

use crate::common;

use common::bin;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger")
        .arg(ledger)
        .env("DEMARCHE_NOW", "2026-11-29T12:00:00Z");
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("utf8")
}

/// What `import --json FILE` printed, once it succeeded.
fn import_json(ledger: &Path, file: &Path) -> Value {
    let out = demarche(ledger)
        .args(["import", "--json"])
        .arg(file)
        .assert()
        .success();
    serde_json::from_str(stdout(&out).trim()).expect("JSON")
}

/// Imports `file`, which is refused (exit 2) with `message`: nothing of it
/// is appended.
fn import_refused(ledger: &Path, file: &Path, message: &str) {
    let before = head(ledger);
    demarche(ledger)
        .arg("import")
        .arg(file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(message));
    assert_eq!(head(ledger), before, "nothing appended");
}

/// `verify --export FILE`, run from `ledger`, with `more` arguments.
fn verify_export(ledger: &Path, file: &Path, more: &[&str]) -> assert_cmd::assert::Assert {
    demarche(ledger)
        .args(["verify", "--export"])
        .arg(file)
        .args(more)
        .assert()
}

/// `rebuild --from FILE` into `target`, with `more` arguments.
fn rebuild(target: &Path, file: &Path, more: &[&str]) -> assert_cmd::assert::Assert {
    demarche(target)
        .args(["rebuild", "--from"])
        .arg(file)
        .args(more)
        .assert()
}

fn head(ledger: &Path) -> String {
    stdout(&demarche(ledger).arg("head").assert().success())
        .trim()
        .to_string()
}

/// Events beyond the worked example: every event type, a said_on with a time
/// and an offset, and a quote long enough to span several BLAKE3 chunks.
fn extra_events() -> String {
    let long_quote = "We call on all parties to respect the arms embargo. ".repeat(60);
    [
        serde_json::json!({"type":"actor","id":"SADAT","name":"SADAT International Defense Consultancy","kind":"company","aliases":["SADAT Inc"]}),
        serde_json::json!({"type":"alias","actor":"SADAT","alias":"SADAT A.S."}),
        serde_json::json!({"type":"statement","said_on":"2021-02-03T14:05:09+02:00","party":"France","speaker":{"name":"A Spokesperson"},"stance":"calls-for","hedge":"if possible","proposition":{"predicate":"arms-embargo","subjects":[],"location":"LBY","qualifier":"naval"},"quote":long_quote,"source":{"url":"https://example.org/fr","publisher":"Example Wire","published_on":"2021-02-03"}}),
        serde_json::json!({"type":"statement","said_on":"2021-02-04T09:00Z","party":"USA","stance":"accuses","proposition":{"predicate":"presence","subjects":["SADAT A.S."],"location":"LBY"},"quote":"SADAT contractors remain in Libya","source":{"publisher":"Example Wire"}}),
        serde_json::json!({"type":"correction","of":3,"statement":{"said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"},"quote":"we call on Turkey and Russia to immediately initiate the withdrawal of their forces","source":{"publisher":"news report of 29 January 2021"}},"reason":"both subjects"}),
        serde_json::json!({"type":"retraction","of":5,"reason":"misattributed"}),
    ]
    .iter()
    .map(|v| v.to_string() + "\n")
    .collect()
}

/// A ledger with the worked example and [`extra_events`].
fn rich_ledger(dir: &Path) -> PathBuf {
    let ledger = dir.join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    let extra = dir.join("extra.jsonl");
    std::fs::write(&extra, extra_events()).expect("write");
    demarche(&ledger)
        .arg("import")
        .arg(&extra)
        .assert()
        .success();
    ledger
}

fn export(ledger: &Path, to: &Path) -> String {
    demarche(ledger)
        .args(["export", "-o"])
        .arg(to)
        .assert()
        .success();
    std::fs::read_to_string(to).expect("export")
}

#[test]
fn export_carries_the_chain_and_rebuild_reproduces_it_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let original_head = head(&ledger);
    let file = dir.path().join("export.jsonl");
    let text = export(&ledger, &file);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 16);
    // Written straight from the stored bytes, the export says exactly what the
    // decoded events say (`log --json`).
    let log = stdout(&demarche(&ledger).args(["log", "--json"]).assert().success());
    // (`log --json` adds each statement's status, which the chain alone does not say.)
    let without_status: Vec<Value> = log
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON");
            let o = v.as_object_mut().expect("object");
            o.remove("status");
            o.remove("corrected_by");
            o.remove("retracted_by");
            v
        })
        .collect();
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(without_status, exported);
    // Seq 3 stands as corrected by seq 15, seq 5 was retracted.
    let status: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(status[2]["status"], "corrected");
    assert_eq!(status[2]["corrected_by"], 15);
    assert_eq!(status[4]["status"], "retracted");
    let retraction = &lines
        .iter()
        .find(|l| l["type"] == "retraction" && l["of"] == 5)
        .expect("the retraction of seq 5")["seq"];
    assert_eq!(&status[4]["retracted_by"], retraction);
    assert_eq!(status[4]["corrected_by"], Value::Null);
    assert_eq!(status[2]["retracted_by"], Value::Null);
    assert_eq!(status[14]["status"], "standing");
    let text_log = stdout(&demarche(&ledger).arg("log").assert().success());
    assert!(text_log.contains("[as corrected by seq 15]"), "{text_log}");
    assert!(
        text_log.contains(&format!("[retracted by seq {retraction}]")),
        "{text_log}"
    );
    let shown = stdout(&demarche(&ledger).args(["show", "5"]).assert().success());
    assert!(
        shown.contains(&format!("retracted by seq {retraction}: misattributed")),
        "{shown}"
    );
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["seq"], (i + 1) as u64);
        for f in ["recorded_at", "prev", "hash", "digest"] {
            assert!(l[f].is_string(), "line {} lacks {f}", i + 1);
        }
        if i > 0 {
            assert_eq!(l["prev"], lines[i - 1]["hash"]);
        }
    }
    verify_export(&ledger, &file, &[])
        .success()
        .stdout(predicate::str::contains(format!("head {original_head}")));

    let rebuilt = dir.path().join("rebuilt");
    rebuild(&rebuilt, &file, &[])
        .success()
        .stdout(predicate::str::contains(&original_head));
    assert_eq!(head(&rebuilt), original_head);
    demarche(&rebuilt).arg("verify").assert().success();
    let again = export(&rebuilt, &dir.path().join("again.jsonl"));
    assert_eq!(
        again, text,
        "the rebuilt ledger exports byte for byte the same"
    );
    // The positions follow too.
    let positions =
        |l: &Path| stdout(&demarche(l).args(["positions", "--json"]).assert().success());
    assert_eq!(positions(&rebuilt), positions(&ledger));
}

/// Each way of breaking an export, as (name, edit of the lines, expected first bad seq).
type Damage = (&'static str, fn(&mut Vec<String>), u64);

fn damages() -> Vec<Damage> {
    fn set(lines: &mut [String], i: usize, f: &str, v: Value) {
        let mut o: Value = serde_json::from_str(&lines[i]).expect("JSON");
        o[f] = v;
        lines[i] = o.to_string();
    }
    vec![
        (
            "a quote edited",
            |l| {
                l[3] = l[3].replace("Turkey", "Tukrey");
            },
            4,
        ),
        (
            "a party edited",
            |l| {
                set(l, 6, "party", "FRA".into());
            },
            7,
        ),
        (
            "a line dropped",
            |l| {
                l.remove(8);
            },
            10,
        ),
        (
            "two lines swapped",
            |l| {
                l.swap(4, 5);
            },
            6,
        ),
        (
            "a line inserted twice",
            |l| {
                let d = l[2].clone();
                l.insert(3, d);
            },
            3,
        ),
        (
            "recorded_at moved",
            |l| {
                set(l, 11, "recorded_at", "2026-11-29T12:00:01Z".into());
            },
            12,
        ),
        (
            "a hash rewritten",
            |l| {
                set(l, 13, "hash", "ab".repeat(32).into());
            },
            14,
        ),
        (
            "prev rewritten",
            |l| {
                set(l, 14, "prev", "00".repeat(32).into());
            },
            15,
        ),
    ]
}

#[test]
fn verify_export_and_rebuild_name_the_first_bad_seq_of_each_damage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let text = export(&ledger, &dir.path().join("export.jsonl"));
    for (name, damage, seq) in damages() {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        damage(&mut lines);
        let file = dir.path().join("damaged.jsonl");
        std::fs::write(&file, lines.join("\n") + "\n").expect("write");
        let out = demarche(&ledger)
            .args(["verify", "--json", "--export"])
            .arg(&file)
            .assert()
            .code(1);
        let report: Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
        assert_eq!(report["intact"], false, "{name}");
        assert_eq!(report["first_bad_seq"], seq, "{name}: {report}");
        let target = dir.path().join("never");
        rebuild(&target, &file, &[])
            .code(1)
            .stderr(predicate::str::contains(format!("broken at seq {seq}")));
        assert!(
            !target.exists(),
            "{name}: a refused rebuild leaves no ledger"
        );
    }
}

#[test]
fn a_cut_tail_and_a_rewritten_tail_are_caught_against_a_saved_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let saved = head(&ledger);
    let text = export(&ledger, &dir.path().join("export.jsonl"));
    let cut: String = text.lines().take(12).map(|l| format!("{l}\n")).collect();
    let file = dir.path().join("cut.jsonl");
    std::fs::write(&file, &cut).expect("write");
    // Alone, a shorter export is a consistent one...
    verify_export(&ledger, &file, &[]).success();
    // ...but not one that reaches the head saved earlier.
    verify_export(&ledger, &file, &["--expect-head", &saved])
        .code(1)
        .stdout(predicate::str::contains("first bad seq 13"));

    // A tail rewritten and re-hashed from seq 13: rebuild a ledger from the
    // first 12 lines and append different events to it.
    let forged = dir.path().join("forged");
    rebuild(&forged, &file, &[]).success();
    let other = dir.path().join("other.jsonl");
    std::fs::write(
        &other,
        extra_events().replace("SADAT contractors", "Some contractors"),
    )
    .expect("write");
    demarche(&forged)
        .arg("import")
        .arg(&other)
        .assert()
        .success();
    let forged_export = dir.path().join("forged.jsonl");
    export(&forged, &forged_export);
    verify_export(&ledger, &forged_export, &[]).success();
    verify_export(&ledger, &forged_export, &["--expect-head", &saved]).code(1);
}

fn python() -> Option<&'static str> {
    let ok = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("note: python3 not found; the Python checker was not run");
    }
    ok.then_some("python3")
}

fn run_checker(file: &Path, expect: Option<&str>) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/verify_export.py");
    let mut c = std::process::Command::new(python().expect("python3"));
    c.arg(script).arg(file);
    if let Some(h) = expect {
        c.args(["--expect-head", h]);
    }
    let out = c.output().expect("run python3");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_python_checker_agrees_with_demarche() {
    if python().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let saved = head(&ledger);
    let file = dir.path().join("export.jsonl");
    let text = export(&ledger, &file);
    let (code, out) = run_checker(&file, Some(&saved));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), format!("intact: 16 events, head {saved}"));
    for (name, damage, seq) in damages() {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        damage(&mut lines);
        let bad = dir.path().join("damaged.jsonl");
        std::fs::write(&bad, lines.join("\n") + "\n").expect("write");
        let (code, out) = run_checker(&bad, None);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(
            out.starts_with(&format!("TAMPERED: seq {seq} ")),
            "{name}: {out}"
        );
    }
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, text.lines().take(9).collect::<Vec<_>>().join("\n")).expect("write");
    assert_eq!(run_checker(&cut, Some(&saved)).0, 1);
}

#[test]
fn importing_the_same_file_twice_adds_nothing_the_second_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let file = dir.path().join("in.jsonl");
    let events = extra_events();
    // The third line twice, and a blank line: the duplicate is named by its line.
    let third = events.lines().nth(2).expect("line");
    std::fs::write(&file, format!("{events}\n{third}\n")).expect("write");
    demarche(&ledger).arg("demo").assert().success();
    let before = head(&ledger);
    let v = import_json(&ledger, &file);
    assert_eq!(v["appended"], 6);
    assert_eq!(v["skipped"], 1);
    assert_eq!(v["skipped_lines"], serde_json::json!([8]));
    let after = head(&ledger);
    assert_ne!(after, before);
    let v = import_json(&ledger, &file);
    assert_eq!(v["appended"], 0);
    assert_eq!(v["skipped"], 7);
    assert_eq!(head(&ledger), after);
    // The worked example's file, written with names rather than ids, is known too.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/libya-2021-01-29.jsonl");
    demarche(&ledger)
        .arg("import")
        .arg(&example)
        .assert()
        .success()
        .stdout(predicate::str::contains("imported 0 events"))
        .stdout(predicate::str::contains(
            "skipped 10 events already recorded",
        ));
    assert_eq!(head(&ledger), after);
}

/// A statement line of its own: `n` makes its quote, so no two are the same.
fn numbered_statement(n: usize, party: &str) -> String {
    serde_json::json!({"type":"statement","said_on":"2021-02-01","party":party,"stance":"demands","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":format!("statement {n}"),"source":{"publisher":"Example Wire"}}).to_string()
}

#[test]
fn a_long_import_names_its_lines_across_the_batches_it_is_read_in() {
    // Lines are parsed ahead of the ledger, in batches: the numbers given for
    // skipped and rejected lines are still the file's.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let mut text = String::new();
    for n in 1..=1500 {
        text.push_str(&numbered_statement(n, "USA"));
        text.push('\n');
        if n % 100 == 0 {
            text.push('\n'); // a blank line now and then: not an event
        }
    }
    // Line 1216 repeats the statement of line 700 (the 7 blank lines before it).
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1215] = lines[699].clone();
    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, lines.join("\n") + "\n").expect("write");
    let v = import_json(&ledger, &good);
    assert_eq!(v["appended"], 1499);
    assert_eq!(v["skipped"], 1);
    assert_eq!(v["skipped_lines"], serde_json::json!([1216]));
    let after = head(&ledger);
    // An unknown party on line 1310, after a thousand good lines: nothing of
    // the file is appended, and the line is named.
    let mut bad_lines = lines.clone();
    bad_lines[1309] = numbered_statement(5000, "NOWHERE");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, bad_lines.join("\n") + "\n").expect("write");
    import_refused(&ledger, &bad, "line 1310: field `party`: unknown actor");
    assert_eq!(head(&ledger), after);
}

#[test]
fn statements_after_an_actor_line_may_name_it_and_a_repeat_leaves_the_seqs_in_order() {
    // Statements are checked ahead of their turn, a run at a time: an actor
    // defined between them is known to those after it, and not before.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    let before: u64 = head(&ledger)
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("head seq");
    let mut lines: Vec<String> = (1..=20).map(|n| numbered_statement(n, "USA")).collect();
    lines[4] = lines[2].clone(); // a repeat inside a run of statements
    lines.push(
        serde_json::json!({"type":"actor","id":"WAGNER-X","name":"Wagner X","kind":"group","aliases":["Wagner Ex"]})
            .to_string(),
    );
    lines.push(numbered_statement(21, "WAGNER-X"));
    lines.push(numbered_statement(22, "Wagner Ex"));
    lines.extend((23..=40).map(|n| numbered_statement(n, "RUS")));
    let file = dir.path().join("run.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    let v = import_json(&ledger, &file);
    assert_eq!(v["appended"], 40);
    assert_eq!(v["skipped_lines"], serde_json::json!([5]));
    // Each statement holds the seq its place gives it, the repeat left out.
    let log = stdout(
        &demarche(&ledger)
            .args(["log", "--json", "--since"])
            .arg((before + 1).to_string())
            .assert()
            .success(),
    );
    let quotes: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .map(|e| {
            format!(
                "{} {}",
                e["seq"],
                e["quote"].as_str().or(e["id"].as_str()).unwrap_or("")
            )
        })
        .collect();
    assert_eq!(quotes.len(), 40, "{quotes:?}");
    assert_eq!(quotes[4], format!("{} statement 6", before + 5));
    assert_eq!(quotes[19], format!("{} WAGNER-X", before + 20));
    assert_eq!(quotes[21], format!("{} statement 22", before + 22));
    // In a ledger that does not hold it, a statement naming the actor
    // before its line is refused, at its line.
    let fresh = dir.path().join("fresh");
    demarche(&fresh).arg("demo").assert().success();
    let mut early = lines.clone();
    early.swap(10, 21);
    std::fs::write(&file, early.join("\n") + "\n").expect("write");
    import_refused(&fresh, &file, "line 11: field `party`: unknown actor");
}

#[test]
fn an_import_stores_names_as_the_check_gives_them_and_refuses_a_retired_one_at_its_line() {
    // Most statements are stored as their lines give them; these are not:
    // an alias for a party, a qualifier's alias, a speaker named as an
    // actor, an alias defined halfway through, an actor retired in the file.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    demarche(&ledger).arg("init").assert().success();
    let statement = |n: usize, party: &str, extra: Value| {
        let mut v = serde_json::json!({"type":"statement","said_on":"2021-02-01","party":party,"stance":"demands","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":format!("statement {n}"),"source":{"publisher":"Example Wire"}});
        if let (Value::Object(v), Value::Object(extra)) = (&mut v, extra) {
            v.extend(extra);
        }
        v.to_string()
    };
    let mut lines = vec![
        serde_json::json!({"type":"actor","id":"XAA","name":"Alphaland","kind":"state","aliases":["Alfa"]}).to_string(),
        serde_json::json!({"type":"actor","id":"PRS","name":"Pat Person","kind":"person"}).to_string(),
    ];
    lines.extend((3..=10).map(|n| statement(n, "USA", serde_json::json!({}))));
    lines.push(statement(
        11,
        "Alfa",
        serde_json::json!({"speaker":{"actor":"PRS"}}),
    ));
    lines.push(statement(12, "XAA", serde_json::json!({"proposition":{"predicate":"presence","subjects":["RUS"],"location":"LBY","qualifier":"troops"}})));
    lines.push(
        serde_json::json!({"type":"alias","actor":"XAA","alias":"Alpha Republic"}).to_string(),
    );
    lines.push(statement(14, "Alpha Republic", serde_json::json!({})));
    lines.extend((15..=20).map(|n| statement(n, "XAA", serde_json::json!({}))));
    let file = dir.path().join("names.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    assert_eq!(import_json(&ledger, &file)["appended"], 20);
    let log: Vec<Value> = stdout(&demarche(&ledger).args(["log", "--json"]).assert().success())
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(log.len(), 20);
    assert_eq!(log[2]["party"], "USA");
    assert_eq!(log[10]["party"], "XAA", "{}", log[10]);
    assert_eq!(log[10]["speaker"]["actor"], "PRS");
    assert_eq!(log[10]["speaker"]["name"], "Pat Person");
    assert_eq!(log[11]["proposition"]["qualifier"], "military-personnel");
    assert_eq!(log[13]["party"], "XAA", "{}", log[13]);
    assert_eq!(log[19]["party"], "XAA");
    // The same file again: every line held, those whose names changed too.
    let again = import_json(&ledger, &file);
    assert_eq!(
        (again["appended"].clone(), again["skipped"].clone()),
        (0.into(), 20.into())
    );
    // XAA retired, then named: refused at its line, nothing appended.
    let retire = dir.path().join("retire.jsonl");
    let mut lines = vec![statement(21, "USA", serde_json::json!({}))];
    lines.push(serde_json::json!({"type":"retraction","of":1,"reason":"not a state"}).to_string());
    lines.extend((23..=30).map(|n| statement(n, "USA", serde_json::json!({}))));
    lines.push(statement(31, "XAA", serde_json::json!({})));
    std::fs::write(&retire, lines.join("\n") + "\n").expect("write");
    import_refused(
        &ledger,
        &retire,
        "line 11: field `party`: XAA was retired by seq 22",
    );
}

#[test]
fn a_rejected_line_from_an_open_pipe_is_reported_without_waiting_for_the_rest() {
    // Whoever feeds the import has not closed its end: the rejection comes
    // as soon as the line is read, not when the input ends.
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    let before = head(&ledger);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("demarche"))
        .arg("--ledger")
        .arg(&ledger)
        .args(["import", "-"])
        .env_remove("DEMARCHE_LEDGER")
        .env("DEMARCHE_NOW", "2026-11-29T12:00:00Z")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = child.stdin.take().expect("stdin");
    for n in 1..=3 {
        writeln!(input, "{}", numbered_statement(n, "USA")).expect("write");
    }
    writeln!(input, "{}", numbered_statement(4, "NOWHERE")).expect("write");
    input.flush().expect("flush");
    let waited = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if waited.elapsed() > std::time::Duration::from_secs(60) {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(input);
    let Some(status) = status else {
        child.kill().ok();
        panic!("the import waited for the end of its input to report line 4");
    };
    assert_eq!(status.code(), Some(2));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(
        err.contains("line 4: field `party`: unknown actor"),
        "{err}"
    );
    assert_eq!(head(&ledger), before);
}

#[test]
fn csv_has_a_row_per_standing_statement_and_subject_with_cameo_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let out = demarche(&ledger)
        .args(["export", "--format", "csv"])
        .assert()
        .success();
    let text = stdout(&out);
    let rows = parse_csv(&text);
    assert_eq!(rows[0][0], "seq");
    let col = |name: &str| rows[0].iter().position(|c| c == name).expect("column");
    let (seq, subject, cameo, corrected_by, quote) = (
        col("seq"),
        col("subject"),
        col("cameo"),
        col("corrected_by"),
        col("quote"),
    );
    let of = |s: &str| -> Vec<&Vec<String>> { rows[1..].iter().filter(|r| r[seq] == s).collect() };
    // Seq 3 was corrected (seq 15) to name both Russia and Turkey: two rows.
    let three = of("3");
    assert_eq!(three.len(), 2);
    assert_eq!(three[0][corrected_by], "15");
    assert_eq!(three[0][cameo], "0256");
    let subjects: Vec<&str> = three.iter().map(|r| r[subject].as_str()).collect();
    assert_eq!(subjects, ["RUS", "TUR"]);
    // Seq 5 was retracted: no row. Corrections, retractions, actors: no rows.
    for gone in ["5", "11", "12", "15", "16"] {
        assert!(of(gone).is_empty(), "seq {gone} has no row");
    }
    // A statement without subjects has one row; quotes with commas survive.
    let thirteen = of("13");
    assert_eq!(thirteen.len(), 1);
    assert_eq!(thirteen[0][subject], "");
    assert!(thirteen[0][quote].starts_with("We call on all parties"));
    assert_eq!(of("14")[0][subject], "SADAT");
    for r in &rows {
        assert_eq!(r.len(), rows[0].len());
    }
}

/// A small RFC 4180 reader, enough to check what the export writes.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn bad_exports_are_refused_naming_the_line_and_nothing_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let text = export(&ledger, &dir.path().join("export.jsonl"));
    let mut cut = text.clone();
    cut.truncate(text.len() - 40);
    let wrong_shape = text.replacen("\"seq\":2,", "\"seq\":\"two\",", 1);
    let no_hash = text
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON");
            if v["seq"] == 4 {
                v.as_object_mut().expect("object").remove("hash");
            }
            v.to_string() + "\n"
        })
        .collect::<String>();
    let mut non_utf8 = text.clone().into_bytes();
    let at = text.find("Turkey").expect("Turkey");
    non_utf8[at] = 0xff;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated last line", cut.into_bytes(), "line 16"),
        (
            "valid JSON, wrong shape",
            wrong_shape.into_bytes(),
            "line 2",
        ),
        (
            "no hash",
            no_hash.into_bytes(),
            "line 4: field `hash`: missing",
        ),
        ("non-UTF-8", non_utf8, "line 3"),
    ];
    for (name, bytes, message) in cases {
        let file = dir.path().join("bad.jsonl");
        std::fs::write(&file, bytes).expect("write");
        verify_export(&ledger, &file, &[])
            .code(2)
            .stderr(predicate::str::contains(message));
        let target = dir.path().join("never");
        rebuild(&target, &file, &[])
            .code(2)
            .stderr(predicate::str::contains(message));
        assert!(!target.exists(), "{name}: nothing created");
    }
    // Rebuild never writes into an existing ledger.
    let file = dir.path().join("export.jsonl");
    let before = head(&ledger);
    rebuild(&ledger, &file, &[])
        .code(2)
        .stderr(predicate::str::contains("already exists"))
        .stderr(predicate::str::contains("a path that does not exist yet"));
    assert_eq!(head(&ledger), before);
    // Nor into one without events, such as a rebuild stopped part way
    // leaves, whose hint says what to do.
    let stopped = dir.path().join("stopped");
    demarche(&stopped).arg("init").assert().success();
    rebuild(&stopped, &file, &[])
        .code(2)
        .stderr(predicate::str::contains("already exists"))
        .stderr(predicate::str::contains(
            "it holds no events, as a rebuild stopped part way leaves it",
        ));
    assert_eq!(head(&stopped), "0:".to_string() + &"0".repeat(64));
}

#[test]
fn export_refuses_to_overwrite_and_leaves_no_partial_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let file = dir.path().join("out.jsonl");
    std::fs::write(&file, "keep me").expect("write");
    demarche(&ledger)
        .args(["export", "-o"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep me");
    demarche(&ledger)
        .args(["export", "-o"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
    demarche(&ledger)
        .args(["export", "--force", "-o"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&file)
            .expect("read")
            .lines()
            .count(),
        16
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}

fn gdelt_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gdelt")
        .join(name)
}

#[test]
fn gdelt_rows_become_statements_and_the_rest_are_counted_by_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let import = |l: &Path| {
        let out = demarche(l)
            .args(["import", "--json", "--format", "gdelt"])
            .arg(gdelt_data("events.tsv"))
            .assert()
            .success();
        serde_json::from_str::<Value>(stdout(&out).trim()).expect("JSON")
    };
    let v = import(&ledger);
    assert_eq!(v["appended"], 25);
    assert_eq!(v["rows_skipped"]["total"], 5);
    let reasons = &v["rows_skipped"]["by_reason"];
    assert_eq!(reasons["CAMEO root left out"], 2);
    assert_eq!(reasons["no Actor1"], 1);
    assert_eq!(reasons["non-state role"], 1);
    assert_eq!(reasons["Actor1 a region"], 1);
    assert_eq!(v["gdelt"]["rows"], 30);
    assert_eq!(v["gdelt"]["eligible"], 25);
    assert_eq!(v["gdelt"]["statements"], 25);
    assert_eq!(v["gdelt"]["by_root"]["02"]["statements"], 11);
    assert_eq!(v["gdelt"]["by_root"]["04"]["skipped"]["root_left_out"], 1);
    // The first row, as recorded: the party, the code's stance and predicate,
    // and the GDELT event id, code and URL kept as provenance.
    let first = stdout(
        &demarche(&ledger)
            .args(["show", "1", "--json"])
            .assert()
            .success(),
    );
    let e: Value = serde_json::from_str(first.trim()).expect("JSON");
    assert_eq!(e["party"], "USA");
    assert_eq!(e["stance"], "calls-for");
    assert_eq!(e["proposition"]["predicate"], "ceasefire");
    assert_eq!(e["proposition"]["subjects"], serde_json::json!(["TUR"]));
    assert_eq!(e["proposition"]["location"], "LBY");
    assert!(e["quote"]
        .as_str()
        .expect("quote")
        .starts_with("GDELT event "));
    assert!(e["quote"].as_str().expect("quote").contains("CAMEO 0256"));
    assert_eq!(e["source"]["publisher"], "GDELT 2.0");
    assert_eq!(e["coded"]["coder"], "gdelt");
    assert_eq!(e["coded"]["event_id"], 961_204_311u64);
    assert_eq!(e["coded"]["cameo"], "0256");
    assert!(e["source"]["url"]
        .as_str()
        .expect("url")
        .contains("example.org"));
    // Importing the export again adds nothing.
    let before = head(&ledger);
    let again = import(&ledger);
    assert_eq!(again["appended"], 0);
    assert_eq!(again["skipped"], 25);
    assert_eq!(again["gdelt"]["duplicates"], 25);
    assert_eq!(head(&ledger), before);
}

#[test]
fn malformed_gdelt_files_are_refused_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "columns-57.tsv",
            "line 3: expected 61 tab-separated columns, found 57",
        ),
        (
            "columns-62.tsv",
            "line 2: expected 61 tab-separated columns, found 62",
        ),
        ("not-utf8.tsv", "line 2"),
        ("truncated.tsv", "truncated"),
        ("bad-date.tsv", "line 2"),
    ];
    for (file, message) in cases {
        let ledger = dir.path().join("ledger");
        demarche(&ledger)
            .args(["import", "--format", "gdelt"])
            .arg(gdelt_data(file))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
        assert!(
            !ledger.exists(),
            "{file}: a refused import leaves no ledger"
        );
    }
}

#[test]
fn an_actor_named_with_its_parent_by_name_is_known_on_reimport() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let file = dir.path().join("actors.jsonl");
    std::fs::write(
        &file,
        r#"{"type":"actor","id":"TUR-MFA","name":"Turkish Foreign Ministry","kind":"body","aliases":[],"parent":"Turkey"}
"#,
    )
    .expect("write");
    let import = || import_json(&ledger, &file);
    assert_eq!(import()["appended"], 1);
    let again = import();
    assert_eq!(again["appended"], 0);
    assert_eq!(again["skipped"], 1);
}

/// An export named by a path that is a pipe (`--from <(demarche export)`,
/// here /dev/stdin fed through one) is refused before anything is made: it
/// reads as empty the second time rebuild reads it.
#[test]
fn rebuild_from_a_pipe_is_refused_and_makes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = dir.path().join("from");
    demarche(&from).arg("demo").assert().success();
    let export = demarche(&from).arg("export").assert().success();
    let lines = export.get_output().stdout.clone();
    let ledger = dir.path().join("rebuilt");
    demarche(&ledger)
        .args(["rebuild", "--from", "/dev/stdin"])
        .write_stdin(lines)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a regular file"));
    assert!(!ledger.exists(), "a ledger was made");
}

/// With the head it must reach, an export may come through a pipe: one that
/// reaches it rebuilds the ledger, one cut short or rewritten is refused with
/// exit 1 and leaves nothing.
#[test]
fn rebuild_from_a_pipe_checks_the_head_it_must_reach() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = rich_ledger(dir.path());
    let saved = head(&from);
    let lines = String::from_utf8(
        demarche(&from)
            .arg("export")
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .expect("UTF-8");
    let moved = dir.path().join("moved");
    demarche(&moved)
        .args(["rebuild", "--from", "-", "--expect-head", &saved])
        .write_stdin(lines.clone())
        .assert()
        .success();
    assert_eq!(head(&moved), saved);
    // Cut short, as by an export that failed part way.
    let cut: String = lines.lines().take(12).map(|l| format!("{l}\n")).collect();
    let target = dir.path().join("never");
    demarche(&target)
        .args(["rebuild", "--from", "-", "--expect-head", &saved])
        .write_stdin(cut.clone())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "standard input: the export's chain is broken at seq 13",
        ))
        .stderr(predicate::str::contains("records were cut off"));
    assert!(!target.exists(), "a cut export left a ledger");
    // A file that does not pass through the head: rewritten.
    let file = dir.path().join("cut.jsonl");
    std::fs::write(&file, &cut).expect("write");
    let (size, _) = saved.split_once(':').expect("SIZE:HASH");
    let twelfth = serde_json::from_str::<Value>(cut.lines().nth(11).expect("12 lines"))
        .expect("JSON")["hash"]
        .as_str()
        .expect("a hash")
        .to_string();
    rebuild(
        &target,
        &file,
        &["--expect-head", &format!("12:{}", "0".repeat(64))],
    )
    .code(1)
    .stderr(predicate::str::contains("the chain was rewritten"));
    assert!(!target.exists(), "a rewritten export left a ledger");
    // Passing through an older head is what an export made later does.
    rebuild(&target, &file, &["--expect-head", &format!("12:{twelfth}")]).success();
    assert_eq!(head(&target), format!("12:{twelfth}"));
    assert_ne!(size, "12");
    demarche(&dir.path().join("other"))
        .args(["rebuild", "--from", "-", "--expect-head", "12"])
        .write_stdin(cut)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a head of the form SIZE:HASH"));
    // A head of no events with another hash than the empty ledger's is met
    // by no export (no record has seq 0): refused, as `verify --expect-head`
    // refuses it of a ledger, where it once checked nothing.
    let nothing = format!("0:{}", "ab".repeat(32));
    let other = dir.path().join("other");
    demarche(&other)
        .args(["rebuild", "--from", "-", "--expect-head", &nothing])
        .write_stdin(lines.clone())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "differs from the expected head 0:abab",
        ));
    assert!(!other.exists(), "a refused rebuild left a ledger");
    verify_export(&from, &file, &["--expect-head", &nothing])
        .code(1)
        .stdout(predicate::str::contains("first bad seq 13"));
    verify_export(
        &from,
        &file,
        &["--expect-head", &format!("0:{}", "0".repeat(64))],
    )
    .success();
}

#[test]
fn odd_arguments_are_bad_usage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    demarche(&ledger)
        .args(["rebuild", "--from", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a file"));
    demarche(&ledger)
        .args(["--wait", "1e300", "demo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--wait"));
    assert!(!ledger.exists());
}

/// An export of thousands of records is checked on threads, a piece of it
/// at a time: what is wrong far into it is found at its line, the first of two
/// in any order, as one thread reading line after line finds it.
#[test]
fn a_long_export_checked_on_threads_names_its_first_bad_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("corpus.jsonl");
    common::generate(&corpus, 3000);
    let ledger = dir.path().join("ledger");
    demarche(&ledger)
        .arg("import")
        .arg(&corpus)
        .assert()
        .success();
    let text = export(&ledger, &dir.path().join("export.jsonl"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3000);
    // Pieces of 256 KiB: the export is read in several.
    assert!(text.len() > 6 << 18, "{}", text.len());
    let file = dir.path().join("spoiled.jsonl");
    let check = |spoil: &dyn Fn(&mut Vec<Vec<u8>>)| {
        let mut l: Vec<Vec<u8>> = lines.iter().map(|l| l.as_bytes().to_vec()).collect();
        spoil(&mut l);
        std::fs::write(&file, l.join(&b"\n"[..])).expect("write");
        let out = demarche(&ledger)
            .args(["verify", "--json", "--export"])
            .arg(&file)
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out.status.code(), stdout, stderr)
    };
    let edit = |l: &mut Vec<Vec<u8>>, i: usize| {
        let at = l[i]
            .windows(9)
            .position(|w| w == b"\"quote\":\"")
            .expect("a quote")
            + 9;
        l[i][at] = if l[i][at] == b'X' { b'Y' } else { b'X' };
    };
    let report = |r: &(Option<i32>, String, String)| -> Value {
        serde_json::from_str(r.1.trim()).unwrap_or_else(|_| panic!("{r:?}"))
    };
    // Intact, blank lines and all.
    let r = check(&|l| l.insert(1000, b"   ".to_vec()));
    assert_eq!(r.0, Some(0), "{r:?}");
    assert_eq!(report(&r)["checked"], 3000);
    // A record dropped, one edited, behind blank lines.
    let r = check(&|l| {
        l.remove(2499);
    });
    assert_eq!(
        (
            report(&r)["first_bad_seq"].clone(),
            report(&r)["line"].clone()
        ),
        (2501.into(), 2500.into())
    );
    let r = check(&|l| {
        l.insert(10, Vec::new());
        edit(l, 2222);
    });
    assert_eq!(r.0, Some(1), "{r:?}");
    assert_eq!(
        (
            report(&r)["first_bad_seq"].clone(),
            report(&r)["line"].clone()
        ),
        (2222.into(), 2223.into())
    );
    // Lines that are not an export's, far into it.
    let r = check(&|l| l[1799] = b"\xff\xfe".to_vec());
    assert_eq!(r.0, Some(2), "{r:?}");
    assert!(r.2.contains("line 1800: not UTF-8"), "{r:?}");
    let r = check(&|l| l[2899] = vec![b'x'; 70_000]);
    assert_eq!(r.0, Some(2), "{r:?}");
    assert!(r.2.contains("line 2900: line is 70000 bytes long"), "{r:?}");
    // Two things wrong: the first is named, whichever thread met it.
    let r = check(&|l| {
        edit(l, 1199);
        l[2599] = b"{".to_vec();
    });
    assert_eq!(r.0, Some(1), "{r:?}");
    assert_eq!(report(&r)["line"], 1200);
    let r = check(&|l| {
        l[1199] = b"{".to_vec();
        edit(l, 2599);
    });
    assert_eq!(r.0, Some(2), "{r:?}");
    assert!(r.2.contains("line 1200: not JSON"), "{r:?}");
}

/// Makes the digest and hash of `lines[from..]` again from their fields and
/// the line before, as someone rewriting the chain from there would.
fn rehash(lines: &mut [String], from: usize) {
    use demarche::{chain, codec, event::Hash, export::parse_export_line};
    let mut prev = match from {
        0 => Hash::ZERO,
        _ => parse_export_line(&lines[from - 1]).expect("a line").hash,
    };
    for l in &mut lines[from..] {
        let mut v: Value = serde_json::from_str(l).expect("JSON");
        v["prev"] = prev.to_hex().into();
        let rec = parse_export_line(&v.to_string()).expect("a line");
        let mut payload = Vec::new();
        codec::encode_event_into(rec.event.as_ref().expect("an event"), &mut payload)
            .expect("encodes");
        let digest = chain::payload_digest(&payload);
        let header = codec::RecordHeader {
            encoding: codec::encoding_of(&payload),
            ..codec::RecordHeader::v1(rec.seq, rec.recorded_at, prev, payload.len() as u32)
        };
        prev = chain::link_hash(&header, &digest);
        v["digest"] = digest.to_hex().into();
        v["hash"] = prev.to_hex().into();
        *l = v.to_string();
    }
}

/// An export whose chain holds an event the new ledger refuses (a party it
/// does not know, the chain rewritten after it) is refused at that event's
/// line, exit 2; with its chain broken further on too, the break is what is
/// reported, exit 1, as `verify --export` reports it.
#[test]
fn rebuild_reports_a_broken_chain_before_an_event_it_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let text = export(&ledger, &dir.path().join("export.jsonl"));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines.len() > 12, "{}", lines.len());
    let at = lines
        .iter()
        .position(|l| l.contains(r#""party":"USA""#))
        .expect("a statement by USA");
    lines[at] = lines[at].replacen(r#""party":"USA""#, r#""party":"ZZZ""#, 1);
    rehash(&mut lines, at);
    let file = dir.path().join("rewritten.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    verify_export(&ledger, &file, &[]).success();
    let target = dir.path().join("never");
    rebuild(&target, &file, &[])
        .code(2)
        .stderr(predicate::str::contains(format!("line {}: ", at + 1)))
        .stderr(predicate::str::contains("ZZZ"));
    assert!(!target.exists(), "a refused rebuild left a ledger");
    // A later line edited too: the chain breaks there.
    let last = lines
        .iter()
        .rposition(|l| l.contains(r#""quote":""#))
        .expect("a quote");
    assert!(last > at, "{last} {at}");
    lines[last] = lines[last].replacen(r#""quote":""#, r#""quote":"X"#, 1);
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    let seq = last + 1;
    verify_export(&ledger, &file, &[])
        .code(1)
        .stdout(predicate::str::contains(format!("first bad seq {seq}")));
    rebuild(&target, &file, &[])
        .code(1)
        .stderr(predicate::str::contains(format!("broken at seq {seq}")));
    assert!(!target.exists(), "a refused rebuild left a ledger");
}

/// What a rebuild cannot make a ledger of is refused before any ledger is left
/// behind: an export without events, and one with a redacted record (whose
/// chain checks, but whose payload is gone).
#[test]
fn rebuild_refuses_an_export_without_events_or_with_a_redacted_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let text = export(&ledger, &dir.path().join("export.jsonl"));
    let target = dir.path().join("never");
    let file = dir.path().join("odd.jsonl");
    for content in ["", "\n \n\n"] {
        std::fs::write(&file, content).expect("write");
        rebuild(&target, &file, &[])
            .code(2)
            .stderr(predicate::str::contains("holds no events"));
        assert!(!target.exists(), "{content:?}: a ledger was left");
    }
    // The third record redacted, as an export carries one: its payload's
    // length and encoding, which its chain hash covers, in place of the event.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rec = demarche::export::parse_export_line(&lines[2]).expect("an export line");
    let payload =
        demarche::codec::encode_event(rec.event.as_ref().expect("an event")).expect("encodes");
    let mut redacted = serde_json::json!({
        "seq": rec.seq,
        "recorded_at": serde_json::from_str::<Value>(&lines[2]).expect("JSON")["recorded_at"],
        "type": "redacted",
        "payload_len": payload.len(),
        "prev": rec.prev.to_hex(),
        "hash": rec.hash.to_hex(),
        "digest": rec.digest.to_hex(),
    });
    let encoding = demarche::codec::encoding_of(&payload);
    if encoding != 1 {
        redacted["payload_encoding"] = encoding.into();
    }
    lines[2] = redacted.to_string();
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    verify_export(&ledger, &file, &[]).success();
    rebuild(&target, &file, &[])
        .code(2)
        .stderr(predicate::str::contains(
            "line 3: seq 3 is redacted in the export; a rebuild needs every payload",
        ));
    assert!(!target.exists(), "a ledger was left");
}

/// Events of format 2 (joint parties, a deadline and condition, a translated
/// quote with two sources, a speaker who is an actor, a document, a role and a
/// correction of format 2), for the checks of exports beside records of format 1.
fn format_2_events() -> String {
    [
        serde_json::json!({"type":"actor","id":"TOURAY","name":"Omar Alieu Touray","kind":"person","aliases":["Touray"]}),
        serde_json::json!({"type":"role","actor":"Touray","party":"ECOWAS","role":"President of the ECOWAS Commission","from":"2022-07-15"}),
        serde_json::json!({"type":"statement","said_on":"2023-07-30","party":"ECOWAS","joint_with":["NGA"],"speaker":{"actor":"Touray"},"stance":"threatens","condition":"if constitutional order is not restored","deadline":"2023-08-06","proposition":{"predicate":"use-of-force","subjects":["ECOWAS"],"location":"NER"},"quote":"such measures may include the use of force","quote_kind":"translation","language":"fr","sources":[{"publisher":"Example Wire","published_on":"2023-07-30"},{"url":"https://example.org/b"}]}),
        serde_json::json!({"type":"statement","said_on":"2024-03-25","party":"USA","stance":"abstains","proposition":{"predicate":"resolution","document":"S/RES/2728(2024)"},"quote":"we abstained","source":{"publisher":"Example Wire"}}),
        serde_json::json!({"type":"correction","of":14,"statement":{"said_on":"2024-03-25","party":"USA","stance":"abstains","proposition":{"predicate":"resolution","document":"S/RES/2728(2024)"},"quote":"the United States abstained","quote_kind":"paraphrase","source":{"publisher":"Example Wire"}},"reason":"the report's words"}),
    ]
    .iter()
    .map(|v| v.to_string() + "\n")
    .collect()
}

#[test]
fn an_export_with_events_of_format_2_checks_in_python_and_rebuilds_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    let extra = dir.path().join("v2.jsonl");
    std::fs::write(&extra, format_2_events()).expect("write");
    demarche(&ledger)
        .arg("import")
        .arg(&extra)
        .assert()
        .success();
    let saved = head(&ledger);
    assert!(saved.starts_with("15:"), "{saved}");
    let file = dir.path().join("export.jsonl");
    let text = export(&ledger, &file);
    // The name of a speaker given only as an actor comes from the registry.
    assert!(text.contains(r#""speaker":{"name":"Omar Alieu Touray","actor":"TOURAY"}"#));
    let rebuilt = dir.path().join("rebuilt");
    rebuild(&rebuilt, &file, &[]).success();
    assert_eq!(head(&rebuilt), saved);
    // The CSV carries the fields of format 2, in columns after those of format 1.
    let csv = stdout(
        &demarche(&ledger)
            .args(["export", "--format", "csv"])
            .assert()
            .success(),
    );
    let rows = parse_csv(&csv);
    let col = |name: &str| rows[0].iter().position(|c| c == name).expect(name);
    assert!(col("joint_with") > col("hash"), "new columns come last");
    let row = |seq: &str| rows[1..].iter().find(|r| r[0] == seq).expect(seq);
    let threat = row("13");
    assert_eq!(threat[col("party")], "ECOWAS");
    assert_eq!(threat[col("joint_with")], "NGA");
    assert_eq!(threat[col("deadline")], "2023-08-06");
    assert_eq!(
        threat[col("condition")],
        "if constitutional order is not restored"
    );
    assert_eq!(threat[col("quote_kind")], "translation");
    assert_eq!(threat[col("language")], "fr");
    let vote = row("14");
    assert_eq!(vote[col("document")], "S/RES/2728(2024)");
    assert_eq!(vote[col("corrected_by")], "15");
    assert_eq!(vote[col("quote_kind")], "paraphrase");
    if python().is_none() {
        return;
    }
    let (code, out) = run_checker(&file, Some(&saved));
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), format!("intact: 15 events, head {saved}"));
    for (from, to, seq) in [
        (
            r#""deadline":"2023-08-06""#,
            r#""deadline":"2023-08-13""#,
            13,
        ),
        (r#""joint_with":["NGA"],"#, "", 13),
        (r#""quote_kind":"paraphrase","#, "", 15),
        (r#""from":"2022-07-15""#, r#""from":"2022-07-16""#, 12),
    ] {
        let bad = dir.path().join("damaged.jsonl");
        assert!(text.contains(from), "{from}");
        std::fs::write(&bad, text.replacen(from, to, 1)).expect("write");
        let (code, out) = run_checker(&bad, None);
        assert_eq!(code, 1, "{from}: {out}");
        assert!(
            out.starts_with(&format!("TAMPERED: seq {seq} ")),
            "{from}: {out}"
        );
        demarche(&dir.path().join(format!("r{seq}")))
            .args(["rebuild", "--from"])
            .arg(&bad)
            .assert()
            .code(1);
    }
}

/// The CSV as Python's csv module reads it, every row a dict by column name;
/// the script fails when a `said_on` cell is not a date.
fn python_csv_rows(file: &Path) -> Vec<serde_json::Map<String, Value>> {
    let script = "import csv, datetime, json, sys\n\
        with open(sys.argv[1], newline='', encoding='utf-8') as f:\n    rows = list(csv.DictReader(f))\n\
        for r in rows:\n    datetime.date.fromisoformat(r['said_on'])\n\
        print(json.dumps(rows))\n";
    let out = std::process::Command::new(python().expect("python3"))
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

#[test]
fn csv_reads_in_python_with_dates_times_sources_and_no_formulas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = rich_ledger(dir.path());
    let formula = serde_json::json!({"type":"statement","said_on":"2021-02-05","party":"RUS",
        "speaker":{"name":"@spokesman","role":"spokesperson of the mission"},
        "stance":"denies","proposition":{"predicate":"presence","subjects":["RUS"],"location":"LBY"},
        "quote":"=HYPERLINK(\"https://example.org\",\"click\")","hedge":"-1+1",
        "source":{"url":"https://example.org/ru","publisher":"+Wire","published_on":"2021-02-06"}});
    demarche(&ledger)
        .args(["append", "--json", &formula.to_string()])
        .assert()
        .success();
    let file = dir.path().join("statements.csv");
    demarche(&ledger)
        .args(["export", "--format", "csv", "-o"])
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(&file).expect("csv");
    // The columns of before keep their names and places; the new ones come after.
    let header: Vec<&str> = text.lines().next().expect("header").split(',').collect();
    assert_eq!(header[..4], ["seq", "said_on", "party", "stance"]);
    assert_eq!(header[19], "joint_with");
    assert_eq!(
        header[25..30],
        [
            "publisher",
            "published_on",
            "speaker_role",
            "status",
            "said_at"
        ]
    );
    assert_eq!(
        header[30..],
        [
            "coded_by",
            "coded_event_id",
            "mentions",
            "goldstein",
            "tone"
        ]
    );
    if python().is_none() {
        return;
    }
    let rows = python_csv_rows(&file);
    let row = |seq: &str| {
        rows.iter()
            .find(|r| r["seq"] == seq)
            .unwrap_or_else(|| panic!("row of seq {seq}"))
    };
    for r in &rows {
        assert_eq!(r["said_on"].as_str().expect("text").len(), 10, "{r:?}");
    }
    // A time of day, with its offset, is kept beside the date.
    let timed = row("13");
    assert_eq!(timed["said_on"], "2021-02-03");
    assert_eq!(timed["said_at"], "14:05:09+02:00");
    assert_eq!(timed["publisher"], "Example Wire");
    assert_eq!(timed["published_on"], "2021-02-03");
    assert_eq!(row("14")["said_at"], "09:00:00Z");
    assert_eq!(row("1")["said_at"], "");
    // Seq 3 stands as corrected by seq 15; the others stand.
    assert_eq!(row("3")["status"], "corrected");
    assert_eq!(row("3")["corrected_by"], "15");
    assert_eq!(row("13")["status"], "standing");
    // Cells a spreadsheet would run as formulas are written as text.
    let f = row("17");
    assert_eq!(f["quote"], "'=HYPERLINK(\"https://example.org\",\"click\")");
    assert_eq!(f["hedge"], "'-1+1");
    assert_eq!(f["speaker"], "'@spokesman");
    assert_eq!(f["publisher"], "'+Wire");
    assert_eq!(f["speaker_role"], "spokesperson of the mission");
    assert_eq!(f["published_on"], "2021-02-06");
}

/// The CSV of a ledger long enough to be read on two threads holds, in seq
/// order, the rows each event makes, under the header: what a read in order
/// makes of the same events.
#[test]
fn a_long_csv_export_has_the_rows_of_a_read_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::build(dir.path(), 4, 3000);
    let expected = {
        let l = common::open(dir.path());
        let am = l.amendments(None).expect("amendments");
        let mut s = demarche::export::csv_header();
        for r in l.iter(1, u64::MAX).expect("iter") {
            demarche::export::csv_rows(&r.expect("event"), &am, &mut s);
        }
        s
    };
    let out = demarche(dir.path())
        .args(["export", "--format", "csv"])
        .assert()
        .success();
    let got = stdout(&out);
    assert_eq!(got.lines().count(), expected.lines().count());
    assert!(got == expected, "the CSV differs from a read in order");
}

#[test]
fn importing_held_alias_and_role_events_again_leaves_the_actors_as_they_were() {
    // An alias or role event the ledger holds, naming its actor by an alias,
    // is left out before its check: checked first, it was added to the
    // actors at the seq of the next event, and a retraction of that event,
    // later in the file, went into the actor index, which every command that
    // read it refused from then on, `verify` as tampering.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let first = dir.path().join("first.jsonl");
    let person = r#"{"type":"actor","id":"TOURAY","name":"Omar Alieu Touray","kind":"person","aliases":["Touray"]}"#;
    // The person and the party both named by an alias.
    let role = r#"{"type":"role","actor":"Touray","party":"CEDEAO","role":"President of the ECOWAS Commission","from":"2022-07-15"}"#;
    let alias = r#"{"type":"alias","actor":"Touray","alias":"O. A. Touray"}"#;
    std::fs::write(&first, format!("{person}\n{role}\n{alias}\n")).expect("write");
    demarche(&ledger)
        .arg("import")
        .arg(&first)
        .assert()
        .success();
    let again = dir.path().join("again.jsonl");
    let statement = r#"{"type":"statement","said_on":"2023-07-30","party":"ECOWAS","stance":"threatens","proposition":{"predicate":"use-of-force","subjects":["ECOWAS"],"location":"NER"},"quote":"such measures may include the use of force","source":{"publisher":"Example Wire"}}"#;
    let retraction = r#"{"type":"retraction","of":4,"reason":"misattributed"}"#;
    std::fs::write(
        &again,
        format!("{role}\n{alias}\n{statement}\n{retraction}\n"),
    )
    .expect("write");
    demarche(&ledger)
        .args(["import", "--json"])
        .arg(&again)
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""skipped":2"#));
    assert!(head(&ledger).starts_with("5:"));
    demarche(&ledger).arg("log").assert().success();
    demarche(&ledger)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("intact"));
    let shown = stdout(
        &demarche(&ledger)
            .args(["actor", "show", "Touray"])
            .assert()
            .success(),
    );
    assert!(shown.contains("O. A. Touray"), "{shown}");
    assert!(shown.contains("for ECOWAS"), "{shown}");
}

#[test]
fn a_file_that_retracts_an_alias_imports_twice_adding_nothing() {
    // A held retraction was checked before it was found held, and its check
    // refused to retire the alias a second time: the whole import with it.
    // Repeated within the input, it was refused the same way.
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let file = dir.path().join("militia.jsonl");
    let retraction = r#"{"type":"retraction","of":2,"reason":"a wrong name"}"#;
    std::fs::write(
        &file,
        format!(
            "{}\n{}\n{retraction}\n{retraction}\n",
            r#"{"type":"actor","id":"XMIL","name":"Some militia","kind":"group"}"#,
            r#"{"type":"alias","actor":"XMIL","alias":"The militia"}"#,
        ),
    )
    .expect("write");
    demarche(&ledger)
        .arg("import")
        .arg(&file)
        .assert()
        .success();
    let saved = head(&ledger);
    assert!(saved.starts_with("3:"), "{saved}");
    demarche(&ledger)
        .args(["import", "--json"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::contains(r#""skipped":4"#));
    assert_eq!(head(&ledger), saved);
    demarche(&ledger)
        .args(["actor", "show", "The militia"])
        .assert()
        .code(2);
    demarche(&ledger)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("intact"));
}
