//! The commands that show rather than list: `graph`, `timeline`, `status`,
//! `completions`, `man`, and the help of every command.

use crate::common;

use common::bin;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

fn demarche(ledger: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(ledger);
    c
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("utf8")
}

fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    demarche(&ledger).arg("demo").assert().success();
    (dir, ledger)
}

fn head(ledger: &Path) -> String {
    stdout(&demarche(ledger).arg("head").assert().success())
        .trim()
        .to_string()
}

#[test]
fn graph_draws_one_edge_per_position_and_names_the_ledger_state() {
    let (dir, ledger) = demo();
    let file = dir.path().join("g.svg");
    demarche(&ledger)
        .args(["graph", "--as-of", "2021-01-29", "-o"])
        .arg(&file)
        .assert()
        .success();
    let svg = std::fs::read_to_string(&file).expect("svg");
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let positions = stdout(
        &demarche(&ledger)
            .args(["positions", "--as-of", "2021-01-29", "--json"])
            .assert()
            .success(),
    );
    let positions: Vec<Value> = positions
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let class_of = |n: &roxmltree::Node| n.attribute("class").unwrap_or("").to_string();
    let edges: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| class_of(n).starts_with("edge "))
        .collect();
    assert_eq!(edges.len(), positions.len());
    // Iraq is asked to leave Kuwait by a demand; Russia denies presence.
    assert!(edges
        .iter()
        .any(|e| class_of(e).contains("demand") && e.attribute("data-from") == Some("UNSC")));
    assert!(edges
        .iter()
        .any(|e| class_of(e).contains("denial") && e.attribute("data-from") == Some("RUS")));
    let ids: Vec<&str> = doc
        .descendants()
        .filter(|n| class_of(n).starts_with("node "))
        .filter_map(|n| n.attribute("data-id"))
        .collect();
    for id in ["USA", "RUS", "TUR", "UN", "UNSC", "IRQ"] {
        assert!(ids.contains(&id), "node {id}");
    }
    let text: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    assert!(text.contains(&head(&ledger)), "the caption names the head");
    assert!(text.contains("2021-01-29"));
    // DOT and JSON carry the same edges.
    let dot = stdout(
        &demarche(&ledger)
            .args(["graph", "--as-of", "2021-01-29", "--format", "dot"])
            .assert()
            .success(),
    );
    assert_eq!(dot.matches(" -> ").count(), positions.len());
    let json: Value = serde_json::from_str(&stdout(
        &demarche(&ledger)
            .args(["graph", "--as-of", "2021-01-29", "--format", "json"])
            .assert()
            .success(),
    ))
    .expect("JSON");
    assert_eq!(
        json["edges"].as_array().expect("edges").len(),
        positions.len()
    );
}

#[test]
fn pictures_refuse_to_overwrite_and_say_when_nothing_matches() {
    let (dir, ledger) = demo();
    let file = dir.path().join("g.svg");
    std::fs::write(&file, "keep").expect("write");
    demarche(&ledger)
        .args(["graph", "-o"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "keep");
    demarche(&ledger)
        .args(["timeline", "-o"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("directory"));
    let empty = stdout(
        &demarche(&ledger)
            .args(["graph", "--party", "CHN"])
            .assert()
            .success(),
    );
    roxmltree::Document::parse(&empty).expect("XML");
    assert!(empty.contains("no positions match"));
    let empty = stdout(
        &demarche(&ledger)
            .args(["timeline", "--party", "CHN"])
            .assert()
            .success(),
    );
    roxmltree::Document::parse(&empty).expect("XML");
    assert!(empty.contains("no statements"));
}

/// A joint statement is a statement of each of its parties: `timeline
/// --party` finds it under any of them, as `log --party` does, and both
/// pictures carry its deadline and condition.
#[test]
fn a_joint_statement_is_drawn_for_each_of_its_parties() {
    let (_dir, ledger) = demo();
    demarche(&ledger)
        .args([
            "append",
            "--said-on",
            "2021-01-30",
            "--party",
            "FRA",
            "--joint-with",
            "DEU",
            "--stance",
            "demands",
            "--predicate",
            "withdrawal",
            "--subject",
            "TUR",
            "--location",
            "LBY",
            "--deadline",
            "2021-02-15",
            "--condition",
            "once the monitors deploy",
            "--quote",
            "q",
            "--publisher",
            "AFP",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("appended seq 11"));
    let svg = stdout(
        &demarche(&ledger)
            .args(["timeline", "--party", "Germany"])
            .assert()
            .success(),
    );
    let doc = roxmltree::Document::parse(&svg).expect("XML");
    let mark = doc
        .descendants()
        .find(|n| n.attribute("class").is_some_and(|c| c.starts_with("mark ")))
        .expect("the joint statement's mark");
    assert_eq!(mark.attribute("data-seq"), Some("11"));
    let title = mark
        .children()
        .find(|c| c.has_tag_name("title"))
        .and_then(|t| t.text())
        .expect("title");
    assert!(title.contains("jointly with Germany (DEU)"), "{title}");
    assert!(title.contains("by 2021-02-15") && title.contains("once the monitors deploy"));
    let graph = stdout(
        &demarche(&ledger)
            .args(["graph", "--party", "DEU", "--format", "dot"])
            .assert()
            .success(),
    );
    assert!(
        graph.contains("by 2021-02-15") && graph.contains("jointly with France (FRA)"),
        "{graph}"
    );
}

#[test]
fn timeline_marks_each_statement_of_the_party() {
    let (_dir, ledger) = demo();
    let svg = stdout(
        &demarche(&ledger)
            .args(["timeline", "--party", "Russia"])
            .assert()
            .success(),
    );
    let doc = roxmltree::Document::parse(&svg).expect("XML");
    let marks: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("mark ")))
        .filter_map(|n| n.attribute("data-seq"))
        .collect();
    let log = stdout(
        &demarche(&ledger)
            .args(["log", "--party", "RUS", "--json"])
            .assert()
            .success(),
    );
    let seqs: Vec<String> = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON")["seq"].to_string())
        .collect();
    assert_eq!(marks.len(), seqs.len());
    for s in &seqs {
        assert!(marks.contains(&s.as_str()), "mark for seq {s}");
    }
}

#[test]
fn status_says_where_what_and_whether_it_verifies() {
    let (_dir, ledger) = demo();
    let v: Value = serde_json::from_str(&stdout(
        &demarche(&ledger)
            .args(["status", "--verify", "--json"])
            .assert()
            .success(),
    ))
    .expect("JSON");
    assert_eq!(v["events"], 10);
    assert_eq!(v["ledger"], ledger.display().to_string());
    assert!(v["engine"] == "sled" || v["engine"] == "redb");
    assert_eq!(v["verify"]["intact"], true);
    assert_eq!(v["tree"]["size"], 10);
    assert!(v["bytes"].as_u64().expect("bytes") > 0);
    // Damage shows, with exit 1.
    common::with_tree(&ledger, |t| {
        let (k, mut b, ranges) = common::find_block(t, 4);
        let (_, r) = ranges.into_iter().find(|(s, _)| *s == 4).expect("record");
        b[r.end - 1] ^= 1;
        t.insert(k, common::seal(&b)).expect("insert");
    });
    demarche(&ledger)
        .args(["status", "--verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("TAMPERED at seq 4"));
}

/// `status` says whether a positions query could save a snapshot: not
/// where nothing can be written beside the ledger (here its `cache` a file,
/// as a read-only file system makes every path), nor without a cache key.
#[test]
fn status_says_when_no_snapshot_can_be_saved() {
    let (_dir, ledger) = demo();
    let key = "07".repeat(32);
    let status = |key: &str| {
        let text = stdout(
            &demarche(&ledger)
                .env("DEMARCHE_CACHE_KEY", key)
                .arg("status")
                .assert()
                .success(),
        );
        let json: Value = serde_json::from_str(&stdout(
            &demarche(&ledger)
                .env("DEMARCHE_CACHE_KEY", key)
                .args(["status", "--json"])
                .assert()
                .success(),
        ))
        .expect("JSON");
        let line = text
            .lines()
            .find(|l| l.starts_with("snapshot"))
            .expect("a snapshot line")
            .to_string();
        (json["snapshot_can_be_saved"].clone(), line)
    };
    let (can, line) = status(&key);
    assert_eq!(can, true);
    assert!(line.contains("a positions query saves one"), "{line}");
    let (can, line) = status("");
    assert_eq!(can, false, "no cache key");
    assert!(line.contains("none can be saved"), "{line}");
    let cache = ledger.join("cache");
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::write(&cache, b"not a directory").expect("a file");
    let (can, line) = status(&key);
    assert_eq!(can, false, "cache not writable");
    assert!(
        line.contains("none can be saved")
            && line.contains("every positions query reads the chain"),
        "{line}"
    );
}

#[test]
fn completions_man_page_and_help_with_examples() {
    for shell in ["bash", "zsh", "fish"] {
        let out = stdout(&bin().args(["completions", shell]).assert().success());
        assert!(
            out.contains("demarche") && out.contains("verify"),
            "{shell}"
        );
    }
    let man = stdout(&bin().arg("man").assert().success());
    assert!(man.contains(".TH demarche"));
    assert!(man.contains("SUBCOMMANDS") || man.contains("verify"));
    let help = stdout(&bin().arg("--help").assert().success());
    let commands: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Command names start at column 3; wrapped descriptions further in.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|c| c != "help")
        .collect();
    assert!(commands.len() > 20, "{commands:?}");
    for c in commands {
        let h = stdout(&bin().args([c.as_str(), "--help"]).assert().success());
        let sub = h.contains("Commands:");
        assert!(
            h.contains("Example") || sub,
            "`demarche {c} --help` has no example"
        );
    }
}

/// The pictures take the selections the positions take: `graph --view`,
/// and `timeline --location`, `--predicate`, `--stance` and `--as-of`.
#[test]
fn pictures_take_the_selections_positions_take() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let out = |args: &[&str]| {
        let mut c = common::at(&ledger, args);
        String::from_utf8(c.assert().success().get_output().stdout.clone()).expect("utf-8")
    };
    out(&["demo"]);
    let graph: serde_json::Value =
        serde_json::from_str(&out(&["graph", "--view", "presence", "--format", "json"]))
            .expect("JSON");
    let edges = graph["edges"].as_array().expect("edges");
    assert!(!edges.is_empty());
    let text = graph.to_string();
    assert!(
        !text.contains("calls-for"),
        "the presence view holds no appeal: {text}"
    );
    let all: serde_json::Value =
        serde_json::from_str(&out(&["graph", "--format", "json"])).expect("JSON");
    assert!(all["edges"].as_array().expect("edges").len() > edges.len());
    // The positions' JSON honours --view as their table does.
    let presence = out(&["positions", "--view", "presence", "--json"]);
    assert!(
        presence
            .lines()
            .all(|l| l.contains(r#""predicate":"presence""#)),
        "{presence}"
    );
    // Timeline selections: a denial about Libya, then nothing after 1990 for Kuwait.
    let libya = out(&[
        "timeline",
        "--location",
        "Libya",
        "--predicate",
        "presence",
        "--stance",
        "denies",
    ]);
    let kuwait = out(&["timeline", "--location", "Kuwait", "--as-of", "1990-12"]);
    assert_ne!(libya, kuwait);
    assert!(libya.contains("denies"), "the denial is drawn");
    for svg in [&libya, &kuwait] {
        roxmltree::Document::parse(svg).expect("the SVG parses");
    }
    let mut c = crate::common::bin();
    c.arg("--ledger")
        .arg(&ledger)
        .args(["timeline", "--predicate", "withdrawl"]);
    c.assert().code(2);
}

/// The width and height an SVG declares.
fn svg_size(svg: &str) -> (i64, i64) {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    let root = doc.root_element();
    let num = |a: &str| -> i64 {
        root.attribute(a)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{a} of the svg"))
    };
    (num("width"), num("height"))
}

/// The edges (positions' arrows) an SVG graph draws.
fn edges_of(svg: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).expect("the SVG is XML");
    doc.descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.starts_with("edge ")))
        .count()
}

/// A ledger of 3,000 generated statements.
fn generated(dir: &Path) -> std::path::PathBuf {
    let ledger = dir.join("ledger");
    let corpus = dir.join("corpus.jsonl");
    crate::common::generate(&corpus, 3000);
    demarche(&ledger)
        .env("DEMARCHE_NOW", "2026-11-29T12:00:00Z")
        .arg("import")
        .arg(&corpus)
        .assert()
        .success();
    ledger
}

#[test]
fn a_graph_of_thousands_of_statements_joins_the_least_actors_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = generated(dir.path());
    let draw = |extra: &[&str]| {
        let out = demarche(&ledger)
            .args(["graph", "--location", "SYR"])
            .args(extra)
            .assert()
            .success();
        (
            stdout(&out),
            String::from_utf8_lossy(&out.get_output().stderr).into_owned(),
        )
    };
    let (whole, note) = draw(&["--max-nodes", "0"]);
    assert_eq!(note, "");
    let (folded, note) = draw(&[]);
    let (w0, h0) = svg_size(&whole);
    let (w1, h1) = svg_size(&folded);
    assert!(h1 < h0 / 2, "{w1}x{h1} drawn, {w0}x{h0} whole");
    assert!(h1 < 2500, "{w1}x{h1}");
    assert!(edges_of(&folded) <= 90, "{} rows", edges_of(&folded));
    assert!(note.contains("more than --max-nodes 30: the "), "{note}");
    assert!(note.contains("hint: narrow the selection"), "{note}");
    // In JSON: at most 30 actors, the joined ones as one node each side, and
    // every position counted once.
    let (json, _) = draw(&["--format", "json"]);
    let g: Value = serde_json::from_str(&json).expect("JSON");
    let nodes = g["nodes"].as_array().expect("nodes");
    assert!(nodes.len() <= 30, "{} nodes", nodes.len());
    let labels: Vec<&str> = nodes.iter().filter_map(|n| n["label"].as_str()).collect();
    assert!(
        labels.iter().any(|l| l.ends_with("other parties)")),
        "{labels:?}"
    );
    let (json, _) = draw(&["--format", "json", "--max-nodes", "0"]);
    let whole: Value = serde_json::from_str(&json).expect("JSON");
    let count = |g: &Value| -> u64 {
        g["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["positions"].as_u64().expect("positions"))
            .sum()
    };
    assert_eq!(count(&g), count(&whole));
    assert!(whole["nodes"].as_array().expect("nodes").len() > 30);
}

#[test]
fn pictures_name_actors_by_id_or_whole_on_request() {
    let (dir, ledger) = demo();
    let long = "Organisation for the Prohibition of Chemical Weapons Technical Secretariat Fact-Finding Mission";
    demarche(&ledger)
        .args([
            "actor", "add", "--id", "OPCW-FFM", "--kind", "body", "--name", long,
        ])
        .assert()
        .success();
    let line = r#"{"type":"statement","said_on":"2021-01-29","party":"OPCW-FFM","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY"},"quote":"q","source":{"publisher":"AFP"}}"#;
    demarche(&ledger)
        .env("DEMARCHE_NOW", "2026-11-29T12:00:00Z")
        .args(["append", "--json", line])
        .assert()
        .success();
    let picture = |args: &[&str]| stdout(&demarche(&ledger).args(args).assert().success());
    for cmd in [&["graph"][..], &["timeline"][..]] {
        // By default the name is cut (with an ellipsis), whole in the tooltip.
        let svg = picture(cmd);
        assert!(svg.contains("Organisation for the"), "{svg}");
        assert!(svg.contains('…'));
        let visible = |svg: &str| -> Vec<String> {
            let doc = roxmltree::Document::parse(svg).expect("XML");
            doc.descendants()
                .filter(|n| n.has_tag_name("text"))
                .map(|n| n.text().unwrap_or("").to_string())
                .collect()
        };
        assert!(!visible(&svg).iter().any(|t| t == long));
        let full = picture(&[cmd, &["--labels", "full"][..]].concat());
        assert!(
            visible(&full).iter().any(|t| t == long),
            "{cmd:?} --labels full"
        );
        assert!(svg_size(&full).0 > svg_size(&svg).0);
        let ids = picture(&[cmd, &["--labels", "id"][..]].concat());
        assert!(
            visible(&ids).iter().any(|t| t == "OPCW-FFM"),
            "{cmd:?} --labels id"
        );
        assert!(!visible(&ids).iter().any(|t| t.starts_with("Organisation")));
    }
    drop(dir);
}
