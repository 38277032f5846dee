//! Episodes from the public record, recorded through the command line as an
//! analyst would, each with the positions the analyst expects before and after
//! its dates. Quotes are as the cited reports give them; where a report words
//! a statement in its own terms, the quote is marked `paraphrase`.

use crate::common;

use common::bin;
use predicates::prelude::*;
use serde_json::{json, Value};
use std::path::Path;

fn demarche(dir: &Path) -> assert_cmd::Command {
    let mut c = bin();
    c.arg("--ledger").arg(dir.join("ledger"));
    c
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// Appends one event given as JSON, and returns it as recorded.
fn append(dir: &Path, event: &Value) -> Value {
    let out = demarche(dir)
        .args(["append", "--json", &event.to_string()])
        .assert()
        .success();
    let recorded = lines(&out.get_output().stdout);
    assert_eq!(recorded.len(), 1);
    recorded[0].clone()
}

/// `positions --json` with `args`.
fn positions(dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = demarche(dir)
        .arg("positions")
        .args(args)
        .arg("--json")
        .assert()
        .success();
    lines(&out.get_output().stdout)
}

/// The one position of `party` on `predicate` in `modality`.
fn held<'a>(ps: &'a [Value], party: &str, predicate: &str, modality: &str) -> &'a Value {
    let found: Vec<&Value> = ps
        .iter()
        .filter(|p| p["party"] == party && p["predicate"] == predicate && p["modality"] == modality)
        .collect();
    assert_eq!(found.len(), 1, "{party} {predicate} {modality}: {ps:#?}");
    found[0]
}

fn head(dir: &Path) -> String {
    stdout(&demarche(dir).arg("head").assert().success())
}

/// Runs `demarche` with `args`, expects exit 2 and the head unchanged, and
/// returns what it wrote on stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let before = head(dir);
    let out = demarche(dir).args(args).assert().code(2);
    assert_eq!(head(dir), before, "{args:?} changed the ledger");
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// ECOWAS's ultimatum to Niger's junta (extraordinary summit, Abuja, 30 July
/// 2023): restore constitutional order within one week, or "such measures may
/// include the use of force". Mali and Burkina Faso answered jointly the next
/// day that an intervention would be a declaration of war on them. The
/// deadline (6 August) passed without force; on 10 August ECOWAS kept force
/// "as a last resort", with no new deadline. A passed deadline does not end a
/// position: the threat stands, deadline and all, until it is restated.
#[test]
fn an_ultimatum_keeps_its_deadline_and_condition_until_restated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2023-07-30", "party": "ECOWAS", "stance": "threatens",
            "proposition": {"predicate": "use-of-force", "subjects": ["ECOWAS"], "location": "NER"},
            "condition": "if the Authority's demands are not met within one week",
            "deadline": "2023-08-06",
            "quote": "Such measures may include the use of force",
            "sources": [
                {"url": "https://www.bnnbloomberg.ca/ecowas-may-resort-to-force-to-reinstate-niger-s-bazoum-1.1952654",
                 "publisher": "Bloomberg", "published_on": "2023-07-30"},
                {"url": "https://www.bbc.com/pidgin/articles/c8055ld2439o",
                 "publisher": "BBC News Pidgin", "published_on": "2023-07-30"}
            ]
        }),
    );
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2023-07-30", "party": "ECOWAS", "stance": "demands",
            "proposition": {"predicate": "constitutional-order", "location": "NER", "qualifier": "president"},
            "deadline": "2023-08-06",
            "quote": "demanded the immediate release and reinstatement of President Bazoum",
            "quote_kind": "paraphrase",
            "source": {"url": "https://newsghana.com.gh/ecowas-takes-decisive-action-in-response-to-nigers-political-crisis/",
                       "publisher": "News Ghana", "published_on": "2023-07-31"}
        }),
    );
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2023-07-31", "party": "MLI", "joint_with": ["Burkina Faso"],
            "stance": "warns",
            "proposition": {"predicate": "intervention", "subjects": ["ECOWAS"], "location": "NER"},
            "quote": "Toute intervention militaire contre le Niger s’assimilerait à une déclaration de guerre contre le Burkina Faso et le Mali",
            "language": "fr",
            "sources": [
                {"url": "https://neemamedia.com/menaces-de-la-cedeao-contre-le-niger-le-mali-et-le-burkina-affirment-leur-soutien-a-niamey-et-menacent/",
                 "publisher": "Neema Media"},
                {"url": "https://www.bnnbloomberg.ca/mali-burkina-faso-warn-against-military-intervention-in-niger-1.1953150",
                 "publisher": "Bloomberg", "published_on": "2023-07-31"}
            ]
        }),
    );
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2023-08-10", "party": "ECOWAS",
            "speaker": {"name": "Bola Tinubu", "role": "President of Nigeria, chair of the ECOWAS Authority"},
            "stance": "threatens",
            "proposition": {"predicate": "use-of-force", "subjects": ["ECOWAS"], "location": "NER"},
            "condition": "as a last resort",
            "quote": "No option is taken off the table, including the use of force as a last resort",
            "source": {"url": "https://nehandaradio.com/2023/08/10/ecowas-leaders-say-all-options-open-in-niger-including-use-of-force/",
                       "publisher": "Nehanda Radio", "published_on": "2023-08-10"}
        }),
    );

    // Before the summit ECOWAS had said nothing on Niger.
    assert_eq!(
        positions(d, &["--party", "ECOWAS", "--as-of", "2023-07-29"]),
        Vec::<Value>::new()
    );
    // During the week: a threat (what ECOWAS itself may do) and a demand (what
    // the junta should do), both by 6 August, side by side.
    for as_of in ["2023-08-05", "2023-08-07"] {
        let ps = positions(d, &["--party", "ECOWAS", "--as-of", as_of]);
        assert_eq!(ps.len(), 2, "{as_of}: {ps:#?}");
        let threat = held(&ps, "ECOWAS", "use-of-force", "commissive");
        assert_eq!(threat["stance"], "threatens");
        assert_eq!(threat["stance_kind"], "threat");
        assert_eq!(threat["location"], "NER");
        assert_eq!(threat["seq"], 1);
        assert_eq!(threat["deadline"], "2023-08-06", "{as_of}");
        assert_eq!(
            threat["condition"],
            "if the Authority's demands are not met within one week"
        );
        assert_eq!(threat["cameo"], "138");
        let demand = held(&ps, "ECOWAS", "constitutional-order", "normative");
        assert_eq!(demand["stance"], "demands");
        assert_eq!(demand["qualifier"], "president");
        assert_eq!(demand["deadline"], "2023-08-06");
        assert_eq!(demand["condition"], Value::Null);
    }
    // The deadline is written out in the JSON and in the table.
    let raw = stdout(
        &demarche(d)
            .args([
                "positions",
                "--party",
                "ECOWAS",
                "--as-of",
                "2023-08-05",
                "--json",
            ])
            .assert()
            .success(),
    );
    assert!(raw.contains(r#""deadline":"2023-08-06""#), "{raw}");
    demarche(d)
        .args(["positions", "--party", "ECOWAS", "--as-of", "2023-08-05"])
        .assert()
        .success()
        .stdout(predicate::str::contains("by 2023-08-06"))
        .stdout(predicate::str::contains(
            "(if the Authority's demands are not met within one week)",
        ));
    // Restated on 10 August: the same threat, now without a deadline and as a
    // last resort; the demand is untouched.
    let ps = positions(d, &["--party", "ECOWAS", "--as-of", "2023-08-11"]);
    let threat = held(&ps, "ECOWAS", "use-of-force", "commissive");
    assert_eq!(threat["stance"], "threatens");
    assert_eq!(threat["seq"], 4);
    assert_eq!(threat["statements"], json!([1, 4]));
    assert_eq!(threat["deadline"], Value::Null);
    assert_eq!(threat["condition"], "as a last resort");
    assert_eq!(
        held(&ps, "ECOWAS", "constitutional-order", "normative")["deadline"],
        "2023-08-06"
    );
    // What changed between the two dates is the terms, not the stance: the
    // change shows the deadline that was dropped.
    let out = demarche(d)
        .args([
            "diff",
            "--from",
            "2023-08-05",
            "--to",
            "2023-08-11",
            "--party",
            "ECOWAS",
            "--json",
        ])
        .assert()
        .success();
    let changes = lines(&out.get_output().stdout);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["change"], "changed");
    assert_eq!(changes[0]["from"]["deadline"], "2023-08-06");
    assert_eq!(changes[0]["position"]["deadline"], Value::Null);
    demarche(d)
        .args([
            "diff",
            "--from",
            "2023-08-05",
            "--to",
            "2023-08-11",
            "--party",
            "ECOWAS",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("by 2023-08-06"))
        .stdout(predicate::str::contains("(as a last resort)"));
    // Mali and Burkina Faso warned jointly: each holds the warning, with the other.
    let ps = positions(d, &["--predicate", "intervention", "--as-of", "2023-08-01"]);
    let mali = held(&ps, "MLI", "intervention", "normative");
    assert_eq!(mali["stance"], "warns");
    assert_eq!(mali["subject"], "ECOWAS");
    assert_eq!(mali["joint_with"], json!(["BFA"]));
    assert_eq!(
        held(&ps, "BFA", "intervention", "normative")["joint_with"],
        json!(["MLI"])
    );
    demarche(d)
        .args(["show", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("deadline     2023-08-06"))
        .stdout(predicate::str::contains(
            "condition    if the Authority's demands are not met within one week",
        ));
}

/// Burkina Faso, Mali and Niger announced together, on 28 January 2024, their
/// immediate withdrawal from ECOWAS: one communiqué of three heads of state,
/// read on their national televisions. ECOWAS answered the same day that it
/// remained committed to a negotiated solution. The communiqué is one event
/// whose position every one of the three holds.
#[test]
fn a_joint_communique_is_one_event_held_by_each_of_its_parties() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let recorded = append(
        d,
        &json!({
            "type": "statement", "said_on": "2024-01-28", "party": "BFA", "joint_with": ["Mali", "Niger"],
            "stance": "announces",
            "proposition": {"predicate": "withdrawal", "subjects": ["BFA", "MLI", "NER"], "location": "ECOWAS"},
            "quote": "decide in complete sovereignty on the immediate withdrawal of Burkina Faso, Mali and Niger from the Economic Community of West African States",
            "quote_kind": "translation", "language": "fr",
            "sources": [
                {"url": "https://www.ghanaweb.com/GhanaHomePage/NewsArchive/Terror-fight-economic-sanctions-Why-Burkina-Faso-Mali-and-Niger-have-quit-ECOWAS-1913645",
                 "publisher": "GhanaWeb (GNA)", "published_on": "2024-01-29"},
                {"url": "https://thecanadian.news/burkina-faso-mali-and-niger-withdraw-from-ecowas/",
                 "publisher": "The Canadian News"}
            ]
        }),
    );
    // Aliases are resolved: the other parties are stored by their ids.
    assert_eq!(recorded["joint_with"], json!(["MLI", "NER"]));
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2024-01-28", "party": "ECOWAS", "stance": "offers",
            "proposition": {"predicate": "negotiations", "subjects": ["BFA", "MLI", "NER"]},
            "quote": "the Authority remains committed to finding a negotiated solution to the political impasse",
            "sources": [
                {"url": "https://afro.news/2024/01/28/west-africa-ecowas-communique-on-burkina-faso-mali-niger/",
                 "publisher": "Afro News", "published_on": "2024-01-28"},
                {"url": "https://www.ghanaweb.com/GhanaHomePage/NewsArchive/ECOWAS-responds-to-Burkina-Faso-Mali-Niger-s-decision-to-quit-regional-bloc-1913678",
                 "publisher": "GhanaWeb", "published_on": "2024-01-29"}
            ]
        }),
    );

    assert_eq!(
        positions(d, &["--party", "BFA", "--as-of", "2024-01-27"]),
        Vec::<Value>::new()
    );
    // Each party holds a position per subject: three withdrawals each.
    for (party, others) in [
        ("BFA", json!(["MLI", "NER"])),
        ("Mali", json!(["BFA", "NER"])),
        ("NER", json!(["BFA", "MLI"])),
    ] {
        let ps = positions(d, &["--party", party]);
        let subjects: Vec<&str> = ps
            .iter()
            .map(|p| p["subject"].as_str().expect("subject"))
            .collect();
        assert_eq!(subjects, ["BFA", "MLI", "NER"], "{party}");
        for p in &ps {
            assert_eq!(p["stance"], "announces");
            assert_eq!(p["modality"], "commissive");
            assert_eq!(p["predicate"], "withdrawal");
            assert_eq!(p["location"], "ECOWAS");
            assert_eq!(p["statements"], json!([1]));
            assert_eq!(p["joint_with"], others, "{party}");
        }
    }
    assert_eq!(positions(d, &["--predicate", "withdrawal"]).len(), 9);
    let offer = positions(d, &["--party", "ECOWAS"]);
    assert_eq!(offer.len(), 3);
    assert!(offer.iter().all(|p| p["stance"] == "offers"
        && p["modality"] == "commissive"
        && p["joint_with"] == json!([])));
    demarche(d)
        .args(["positions", "--party", "NER"])
        .assert()
        .success()
        .stdout(predicate::str::contains("jointly with BFA, MLI"));

    // The log lists the communiqué once, with all its parties.
    let out = stdout(
        &demarche(d)
            .args(["log", "--party", "NER"])
            .assert()
            .success(),
    );
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert!(rows[0].contains("BFA+MLI+NER"), "{out}");
    assert!(
        rows[0].contains("withdrawal of BFA, MLI, NER from ECOWAS"),
        "{out}"
    );
    let out = demarche(d)
        .args(["log", "--party", "Niger", "--json"])
        .assert()
        .success();
    let events = lines(&out.get_output().stdout);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[0]["party"], "BFA");
    assert_eq!(events[0]["joint_with"], json!(["MLI", "NER"]));
    // So does Mali's history; ECOWAS's answer is about Mali, not by it.
    let out = stdout(
        &demarche(d)
            .args(["history", "--party", "MLI"])
            .assert()
            .success(),
    );
    let heads: Vec<&str> = out.lines().filter(|l| l.starts_with("2024-")).collect();
    assert_eq!(heads.len(), 1, "{out}");
    assert!(heads[0].contains("seq 1"), "{out}");
    assert!(heads[0].contains("BFA+MLI+NER announces"), "{out}");
    assert!(out.contains("[translation from fr]"), "{out}");
    let out = demarche(d)
        .args(["history", "--party", "MLI", "--json"])
        .assert()
        .success();
    let events = lines(&out.get_output().stdout);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["status"], "standing");
    assert_eq!(events[0]["sources"].as_array().map(Vec::len), Some(2));
    demarche(d)
        .args(["show", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("party        BFA (Burkina Faso)"))
        .stdout(predicate::str::contains(
            "jointly with MLI (Mali), NER (Niger)",
        ));
}

/// Three Security Council votes on Gaza in 2024: the Algerian draft
/// S/2024/173 (20 February: 13 for, the United States against, the United
/// Kingdom abstaining), the United States draft S/2024/239 (22 March: 11 for,
/// Russia, China and Algeria against, Guyana abstaining) and resolution 2728
/// (25 March: 14 for, the United States abstaining). A vote is a formal act on
/// one document: a party's vote on one text never replaces its vote on another.
#[test]
fn votes_are_held_per_document_and_a_veto_stands_beside_a_later_abstention() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    const D1: &str = "S/2024/173";
    const D2: &str = "S/2024/239";
    const D3: &str = "S/RES/2728(2024)";
    let un = |date: &str, page: &str| {
        json!({"url": format!("https://press.un.org/en/2024/{page}.doc.htm"),
               "publisher": "UN Meetings Coverage and Press Releases", "published_on": date})
    };
    let vote = |date: &str, party: &str, stance: &str, doc: &str, quote: &str, kind: &str| {
        let page = match doc {
            D1 => "sc15595",
            D2 => "sc15637",
            _ => "sc15641",
        };
        json!({
            "type": "statement", "said_on": date, "party": party, "stance": stance,
            "proposition": {"predicate": "resolution", "document": doc, "location": "PSE"},
            "quote": quote, "quote_kind": kind, "source": un(date, page)
        })
    };
    let paraphrase = "paraphrase";
    let mut file = vec![
        {
            let mut v = vote("2024-02-20", "DZA", "votes-for", D1, "silence is not a viable option", "verbatim");
            v["speaker"] = json!({"name": "Amar Bendjama", "role": "permanent representative of Algeria to the UN"});
            v
        },
        vote("2024-02-20", "USA", "vetoes", D1,
            "warned that the text tabled by Algeria will negatively impact ongoing efforts to negotiate a hostage deal between Israel and Hamas",
            paraphrase),
        vote("2024-02-20", "GBR", "abstains", D1, "the United Kingdom abstained", paraphrase),
        vote("2024-02-20", "RUS", "votes-for", D1, "the Russian Federation voted in favour", paraphrase),
        vote("2024-02-20", "CHN", "votes-for", D1, "China voted in favour", paraphrase),
        vote("2024-03-22", "USA", "votes-for", D2,
            "It would be a historic mistake for this Council not to adopt this text", "verbatim"),
        vote("2024-03-22", "CHN", "vetoes", D2, "China voted against", paraphrase),
        vote("2024-03-22", "DZA", "votes-against", D2, "Algeria voted against", paraphrase),
        vote("2024-03-22", "GUY", "abstains", D2, "Guyana was the only country to abstain", paraphrase),
        vote("2024-03-25", "USA", "abstains", D3,
            "abstained, saying it fully supports the critical objectives of the draft", paraphrase),
        vote("2024-03-25", "RUS", "votes-for", D3, "the Russian Federation voted in favour", paraphrase),
        vote("2024-03-25", "CHN", "votes-for", D3, "China voted in favour", paraphrase),
        vote("2024-03-25", "DZA", "votes-for", D3, "Algeria voted in favour", paraphrase),
        vote("2024-03-25", "GBR", "votes-for", D3, "the United Kingdom voted in favour", paraphrase),
        vote("2024-03-25", "GUY", "votes-for", D3, "Guyana voted in favour", paraphrase),
    ];
    // Russia's veto of the US draft, in its ambassador's words as translated.
    let mut russia = vote(
        "2024-03-22",
        "RUS",
        "vetoes",
        D2,
        "you will cover yourselves in disgrace",
        "translation",
    );
    russia["language"] = json!("ru");
    russia["speaker"] =
        json!({"name": "Vassily Nebenzia", "role": "permanent representative of Russia to the UN"});
    russia["sources"] = json!([
        un("2024-03-22", "sc15637"),
        {"url": "https://www.aljazeera.com/news/2024/3/22/un-security-council-does-not-pass-us-resolution-calling-for-gaza-ceasefire",
         "publisher": "Al Jazeera", "published_on": "2024-03-22"}
    ]);
    russia.as_object_mut().expect("object").remove("source");
    file.insert(6, russia);
    let path = d.join("votes.jsonl");
    let text: Vec<String> = file.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n") + "\n").expect("write");
    demarche(d).arg("import").arg(&path).assert().success();

    let votes = |args: &[&str]| -> Vec<(String, String, String)> {
        let mut args = args.to_vec();
        args.extend(["--predicate", "resolution"]);
        let mut v: Vec<(String, String, String)> = positions(d, &args)
            .iter()
            .map(|p| {
                assert_eq!(p["modality"], "formal");
                assert_eq!(p["stance_kind"], "vote");
                let s = |k: &str| p[k].as_str().expect(k).to_string();
                (s("party"), s("document"), s("stance"))
            })
            .collect();
        v.sort();
        v
    };
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(votes(&["--as-of", "2024-02-19"]), []);
    assert_eq!(
        votes(&["--as-of", "2024-02-21"]),
        [
            t("CHN", D1, "votes-for"),
            t("DZA", D1, "votes-for"),
            t("GBR", D1, "abstains"),
            t("RUS", D1, "votes-for"),
            t("USA", D1, "vetoes"),
        ]
    );
    // After the third vote the United States holds three votes, one per text:
    // its abstention on 2728 does not undo its veto of the Algerian draft.
    assert_eq!(
        votes(&["--party", "USA"]),
        [
            t("USA", D1, "vetoes"),
            t("USA", D2, "votes-for"),
            t("USA", D3, "abstains"),
        ]
    );
    assert_eq!(
        votes(&["--party", "RUS", "--as-of", "2024-03-25"]),
        [
            t("RUS", D1, "votes-for"),
            t("RUS", D2, "vetoes"),
            t("RUS", D3, "votes-for"),
        ]
    );
    assert_eq!(
        votes(&["--party", "DZA", "--as-of", "2024-03-24"]),
        [t("DZA", D1, "votes-for"), t("DZA", D2, "votes-against")]
    );
    assert_eq!(
        votes(&["--stance", "vetoes"]),
        [
            t("CHN", D2, "vetoes"),
            t("RUS", D2, "vetoes"),
            t("USA", D1, "vetoes"),
        ]
    );
    assert_eq!(
        votes(&["--stance", "abstains"]),
        [
            t("GBR", D1, "abstains"),
            t("GUY", D2, "abstains"),
            t("USA", D3, "abstains"),
        ]
    );
    let us = positions(d, &["--party", "USA", "--predicate", "resolution"]);
    let veto = us.iter().find(|p| p["document"] == D1).expect("veto");
    assert_eq!(veto["cameo"], "129");
    assert_eq!(veto["location"], "PSE");
    demarche(d)
        .args(["positions", "--party", "USA"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "resolution S/RES/2728(2024) in PSE",
        ))
        .stdout(predicate::str::contains("resolution S/2024/173 in PSE"));

    // A resolution names its document, as JSON or as flags.
    let mut bare = vote(
        "2024-03-25",
        "FRA",
        "votes-for",
        D3,
        "France voted in favour",
        paraphrase,
    );
    bare["proposition"]
        .as_object_mut()
        .expect("proposition")
        .remove("document");
    let err = refused(d, &["append", "--json", &bare.to_string()]);
    assert!(err.contains("proposition.document"), "{err}");
    assert!(err.contains("resolution needs document"), "{err}");
    let err = refused(
        d,
        &[
            "append",
            "--said-on",
            "2024-03-25",
            "--party",
            "FRA",
            "--stance",
            "votes-for",
            "--predicate",
            "resolution",
            "--location",
            "PSE",
            "--quote",
            "France voted in favour",
            "--quote-kind",
            "paraphrase",
            "--publisher",
            "UN Meetings Coverage and Press Releases",
        ],
    );
    assert!(err.contains("proposition.document"), "{err}");
}

/// The ceasefire between Israel and Hezbollah (announced 26 November 2024):
/// Israel's cabinet approved it, Israel to withdraw its remaining forces from
/// southern Lebanon over 60 days as the Lebanese army deploys. On 23 January
/// 2025 Hezbollah said any delay would be an unacceptable violation; on 24
/// January Israel's prime minister's office said the withdrawal was contingent
/// on the Lebanese army's deployment and would continue past the 60 days. The
/// commitment stands throughout; its condition and its deadline change.
#[test]
fn a_conditional_commitment_carries_its_condition_and_changes_with_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let first = "as the Lebanese army and state security forces deploy and take control of their own territory";
    let second = "contingent on the Lebanese army deploying in southern Lebanon and fully and effectively enforcing the agreement, while Hezbollah withdraws beyond the Litani";
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2024-11-26", "party": "ISR", "stance": "agrees",
            "proposition": {"predicate": "withdrawal", "subjects": ["ISR"], "location": "LBN"},
            "condition": first, "deadline": "2025-01-26",
            "quote": "the security cabinet approved the ceasefire with Hezbollah by 10 votes to 1; over the next 60 days Israel will gradually withdraw its remaining forces",
            "quote_kind": "paraphrase",
            "sources": [
                {"url": "https://hurriyetdailynews.com/us-to-push-for-ceasefire-deal-in-gaza-alongside-turkiye-egypt-qatar-203022",
                 "publisher": "Hürriyet Daily News"},
                {"url": "https://www.thewrap.com/president-biden-israel-lebanon-hezbollah-ceasefire-hamas/",
                 "publisher": "TheWrap", "published_on": "2024-11-26"}
            ]
        }),
    );
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2025-01-23", "party": "Hezbollah", "stance": "demands",
            "proposition": {"predicate": "withdrawal", "subjects": ["ISR"], "location": "LBN"},
            "deadline": "2025-01-26",
            "quote": "any delay in Israel's withdrawal would be an unacceptable violation of the agreement",
            "quote_kind": "paraphrase",
            "source": {"url": "https://unn.ua/en/news/israel-says-it-will-leave-troops-in-southern-lebanon-after-deadline",
                       "publisher": "UNN", "published_on": "2025-01-24"}
        }),
    );
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2025-01-24", "party": "ISR", "stance": "agrees",
            "proposition": {"predicate": "withdrawal", "subjects": ["ISR"], "location": "LBN"},
            "condition": second,
            "quote": "Since the ceasefire agreement has not yet been fully enforced by the Lebanese state, the gradual withdrawal process will continue, in full coordination with the United States",
            "sources": [
                {"url": "https://english.aawsat.com/arab-world/5104782-israeli-forces-stay-south-lebanon-beyond-withdrawal-deadline",
                 "publisher": "Asharq Al-Awsat"},
                {"url": "https://tass.com/world/1903863", "publisher": "TASS", "published_on": "2025-01-24"}
            ]
        }),
    );

    let israel = |as_of: &str| -> Value {
        let ps = positions(d, &["--party", "ISR", "--as-of", as_of]);
        assert_eq!(ps.len(), 1, "{as_of}: {ps:#?}");
        held(&ps, "ISR", "withdrawal", "commissive").clone()
    };
    assert_eq!(
        positions(d, &["--party", "ISR", "--as-of", "2024-11-25"]),
        Vec::<Value>::new()
    );
    for as_of in ["2024-11-30", "2025-01-23"] {
        let p = israel(as_of);
        assert_eq!(p["stance"], "agrees");
        assert_eq!(p["stance_kind"], "commitment");
        assert_eq!(p["condition"], first, "{as_of}");
        assert_eq!(p["deadline"], "2025-01-26", "{as_of}");
        assert_eq!(p["statements"], json!([1]));
    }
    let p = israel("2025-01-25");
    assert_eq!(p["stance"], "agrees");
    assert_eq!(p["condition"], second);
    assert_eq!(p["deadline"], Value::Null);
    assert_eq!(p["seq"], 3);
    assert_eq!(p["statements"], json!([1, 3]));
    // Hezbollah's demand stands beside the commitment, with its own deadline.
    let ps = positions(d, &["--subject", "ISR", "--as-of", "2025-01-25"]);
    let demand = held(&ps, "HEZBOLLAH", "withdrawal", "normative");
    assert_eq!(demand["stance"], "demands");
    assert_eq!(demand["deadline"], "2025-01-26");
    assert_eq!(demand["condition"], Value::Null);
    demarche(d)
        .args(["positions", "--view", "withdrawal"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"\n  HEZBOLLAH +demands").expect("regex"))
        .stdout(predicate::str::contains("Who says it will withdraw"))
        .stdout(predicate::str::contains(format!("({second})")));
    // The history keeps both conditions, each with its statement.
    let out = stdout(
        &demarche(d)
            .args(["history", "--party", "ISR"])
            .assert()
            .success(),
    );
    assert!(
        out.contains(&format!(
            "ISR agrees withdrawal of ISR from LBN by 2025-01-26 ({first})"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("ISR agrees withdrawal of ISR from LBN ({second})")),
        "{out}"
    );
    let out = demarche(d)
        .args([
            "history",
            "--predicate",
            "withdrawal",
            "--location",
            "LBN",
            "--json",
        ])
        .assert()
        .success();
    let events = lines(&out.get_output().stdout);
    let terms: Vec<(&Value, &Value, &Value)> = events
        .iter()
        .map(|e| (&e["party"], &e["condition"], &e["deadline"]))
        .collect();
    assert_eq!(
        terms,
        [
            (&json!("ISR"), &json!(first), &json!("2025-01-26")),
            (&json!("HEZBOLLAH"), &Value::Null, &json!("2025-01-26")),
            (&json!("ISR"), &json!(second), &Value::Null),
        ]
    );
    // Between the 23rd and the 25th Israel's stance did not change; its terms did.
    let out = demarche(d)
        .args([
            "diff",
            "--from",
            "2025-01-23",
            "--to",
            "2025-01-25",
            "--party",
            "ISR",
            "--json",
        ])
        .assert()
        .success();
    let changes = lines(&out.get_output().stdout);
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["change"], "changed");
    assert_eq!(changes[0]["from"]["stance"], "agrees");
    assert_eq!(changes[0]["from"]["condition"], first);
    assert_eq!(changes[0]["position"]["condition"], second);
    let out = stdout(
        &demarche(d)
            .args([
                "diff",
                "--from",
                "2025-01-23",
                "--to",
                "2025-01-25",
                "--party",
                "ISR",
            ])
            .assert()
            .success(),
    );
    assert!(
        out.contains(&format!("by 2025-01-26  ({first}) -> agrees")),
        "{out}"
    );
    assert!(out.contains(&format!("({second})")), "{out}");
}

/// Russia's withdrawal from Kherson, announced on television on 9 November
/// 2022 by the defence minister, Sergei Shoigu ("Proceed with the withdrawal
/// of troops", in the translation two reports give), and Ukraine's answer the
/// same day by Mykhailo Podolyak: no sign that Russia was leaving without a
/// fight. Both are translations, each reported by two sources.
#[test]
fn a_translated_quote_keeps_its_language_and_every_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    demarche(d)
        .args([
            "append",
            "--said-on", "2022-11-09",
            "--party", "Russia",
            "--speaker", "Sergei Shoigu",
            "--speaker-role", "defence minister",
            "--stance", "announces",
            "--predicate", "withdrawal",
            "--subject", "RUS",
            "--location", "UKR",
            "--qualifier", "troops",
            "--quote", "Proceed with the withdrawal of troops",
            "--quote-kind", "translation",
            "--language", "ru",
            "--url", "https://www.novinite.com/view_news.php?id=217474",
            "--publisher", "Novinite",
            "--published-on", "2022-11-09",
            "--url", "https://www.thenews.com.pk/print/1008378-russia-orders-military-to-withdraw-from-kherson-city",
            "--publisher", "The News International",
            "--published-on", "2022-11-10",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("appended seq 1 "));
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2022-11-09", "party": "UKR",
            "speaker": {"name": "Mykhailo Podolyak", "role": "adviser to the head of the Office of the President"},
            "stance": "denies",
            "proposition": {"predicate": "withdrawal", "subjects": ["RUS"], "location": "UKR"},
            "quote": "Actions speak louder than words. Ukraine sees no signs that Russia is leaving Kherson without a fight.",
            "quote_kind": "translation", "language": "uk",
            "sources": [
                {"url": "https://babel.ua/en/news/86827-office-of-the-president-part-of-the-russian-military-remains-in-kherson-reserves-are-being-drawn-up-to-the-city",
                 "publisher": "Babel", "published_on": "2022-11-09"},
                {"url": "https://www.thetimes.co.uk/article/russia-setting-us-up-kherson-battle-ukraine-kyiv-mc78v78zn",
                 "publisher": "The Times", "published_on": "2022-11-10"}
            ]
        }),
    );

    let out = demarche(d).args(["show", "1", "--json"]).assert().success();
    let shown = lines(&out.get_output().stdout);
    let e = &shown[0];
    assert_eq!(e["party"], "RUS");
    assert_eq!(e["quote_kind"], "translation");
    assert_eq!(e["language"], "ru");
    assert_eq!(e["proposition"]["qualifier"], "military-personnel");
    assert!(e.get("source").is_none(), "{e}");
    let sources = e["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0]["publisher"], "Novinite");
    assert_eq!(sources[0]["published_on"], "2022-11-09");
    assert_eq!(
        sources[0]["url"],
        "https://www.novinite.com/view_news.php?id=217474"
    );
    assert_eq!(sources[1]["publisher"], "The News International");
    assert_eq!(sources[1]["published_on"], "2022-11-10");
    let text = stdout(&demarche(d).args(["show", "1"]).assert().success());
    let source_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("source")).collect();
    assert_eq!(
        source_lines,
        [
            "source       Novinite, 2022-11-09, https://www.novinite.com/view_news.php?id=217474",
            "source       The News International, 2022-11-10, https://www.thenews.com.pk/print/1008378-russia-orders-military-to-withdraw-from-kherson-city",
        ],
        "{text}"
    );
    assert!(
        text.contains("quote is     translation (said in ru)"),
        "{text}"
    );
    assert!(
        text.contains("speaker      Sergei Shoigu, defence minister"),
        "{text}"
    );
    // The history tells each quote's language, with every source.
    let out = stdout(
        &demarche(d)
            .args(["history", "--predicate", "withdrawal", "--location", "UKR"])
            .assert()
            .success(),
    );
    assert!(
        out.contains("\"Proceed with the withdrawal of troops\" [translation from ru]"),
        "{out}"
    );
    assert!(out.contains("[translation from uk]"), "{out}");
    assert!(out.contains("Babel") && out.contains("The Times"), "{out}");
    // Russia's commitment and Ukraine's denial stand apart.
    let ps = positions(d, &["--predicate", "withdrawal", "--as-of", "2022-11-09"]);
    assert_eq!(ps.len(), 2, "{ps:#?}");
    let russia = held(&ps, "RUS", "withdrawal", "commissive");
    assert_eq!(russia["stance"], "announces");
    assert_eq!(russia["qualifier"], "military-personnel");
    let ukraine = held(&ps, "UKR", "withdrawal", "epistemic");
    assert_eq!(ukraine["stance"], "denies");
    assert_eq!(ukraine["subject"], "RUS");
    assert_eq!(
        positions(d, &["--predicate", "withdrawal", "--as-of", "2022-11-08"]),
        Vec::<Value>::new()
    );
}

/// Sergey Lavrov, Russia's foreign minister since 9 March 2004, as a speaker:
/// in Madrid on 5 March 2014 on the armed men in Crimea (recorded with his
/// name only, as the report gives it), in Antalya on 10 March 2022, and on
/// Channel One on 25 April 2022 on the risk of nuclear war (both recorded with
/// him as an actor). Sergei Shoigu speaks for Russia too, but is not Lavrov.
#[test]
fn a_speaker_is_found_by_person_in_any_statement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    demarche(d)
        .args([
            "actor",
            "add",
            "--id",
            "LAVROV",
            "--name",
            "Sergey Lavrov",
            "--kind",
            "person",
            "--alias",
            "Lavrov",
            "--alias",
            "Sergei Lavrov",
        ])
        .assert()
        .success();
    demarche(d)
        .args([
            "actor",
            "role",
            "LAVROV",
            "--of",
            "RUS",
            "--role",
            "foreign minister",
            "--from",
            "2004-03-09",
        ])
        .assert()
        .success();
    demarche(d)
        .args(["log", "--type", "role"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "role LAVROV: foreign minister, for RUS, from 2004-03-09",
        ));
    // seq 3: by name only.
    append(
        d,
        &json!({
            "type": "statement", "said_on": "2014-03-05", "party": "RUS",
            "speaker": {"name": "Sergei Lavrov", "role": "foreign minister"},
            "stance": "denies",
            "proposition": {"predicate": "presence", "subjects": ["RUS"], "location": "UKR", "qualifier": "military-personnel"},
            "quote": "If you mean the self-defence units created by the inhabitants of Crimea, we give them no orders, they take no orders from us",
            "quote_kind": "translation", "language": "ru",
            "sources": [
                {"url": "http://uk.reuters.com/article/ukraine-crisis-lavrov-spain-idUKL6N0M21I920140305",
                 "publisher": "Reuters", "published_on": "2014-03-05"},
                {"url": "https://www.jpost.com/International/Russia-says-cannot-order-Crimean-self-defense-units-back-to-base-344343",
                 "publisher": "The Jerusalem Post"}
            ]
        }),
    );
    // seq 4: as an actor, named by an alias; the name comes from the registry.
    let recorded = append(
        d,
        &json!({
            "type": "statement", "said_on": "2022-03-10", "party": "RUS",
            "speaker": {"actor": "Lavrov"},
            "stance": "denies",
            "proposition": {"predicate": "use-of-force", "subjects": ["RUS"], "location": "UKR"},
            "quote": "Россия не планирует нападать на другие страны, и на Украину Россия также не нападала",
            "language": "ru",
            "sources": [
                {"url": "https://newinform.com/22018458-Lavrov_Rossiya_ne_napadala_na_Ukrainu_i_ne_planiruet_napadat_na_drugie_strani",
                 "publisher": "Newinform"},
                {"url": "https://www.euronews.com/2022/03/10/ukraine-war-russia-did-not-attack-ukraine-says-lavrov-after-meeting-kuleba",
                 "publisher": "Euronews", "published_on": "2022-03-10"}
            ]
        }),
    );
    assert_eq!(
        recorded["speaker"],
        json!({"name": "Sergey Lavrov", "actor": "LAVROV"})
    );
    // seq 5: as an actor, from flags.
    demarche(d)
        .args([
            "append",
            "--said-on",
            "2022-04-25",
            "--party",
            "RUS",
            "--speaker-actor",
            "LAVROV",
            "--stance",
            "warns",
            "--predicate",
            "use-of-force",
            "--qualifier",
            "nuclear-weapons",
            "--quote",
            "The risk is grave, it is real, it can not be underestimated.",
            "--quote-kind",
            "translation",
            "--language",
            "ru",
            "--url",
            "https://www.pravda.com.ua/eng/news/2022/04/25/7342078/",
            "--publisher",
            "Ukrainska Pravda",
            "--published-on",
            "2022-04-25",
        ])
        .assert()
        .success();
    // seq 6: another speaker for the same party.
    demarche(d)
        .args([
            "append",
            "--said-on",
            "2022-11-09",
            "--party",
            "RUS",
            "--speaker",
            "Sergei Shoigu",
            "--speaker-role",
            "defence minister",
            "--stance",
            "announces",
            "--predicate",
            "withdrawal",
            "--subject",
            "RUS",
            "--location",
            "UKR",
            "--quote",
            "Proceed with the withdrawal of troops",
            "--quote-kind",
            "translation",
            "--language",
            "ru",
            "--url",
            "https://www.novinite.com/view_news.php?id=217474",
            "--publisher",
            "Novinite",
            "--published-on",
            "2022-11-09",
        ])
        .assert()
        .success();

    for who in ["LAVROV", "Lavrov", "Sergei Lavrov"] {
        let out = demarche(d)
            .args(["log", "--speaker", who, "--json"])
            .assert()
            .success();
        let seqs: Vec<u64> = lines(&out.get_output().stdout)
            .iter()
            .map(|e| e["seq"].as_u64().expect("seq"))
            .collect();
        assert_eq!(seqs, [3, 4, 5], "log --speaker {who}");
    }
    let out = demarche(d)
        .args(["history", "--speaker", "Lavrov", "--json"])
        .assert()
        .success();
    let found: Vec<(u64, String)> = lines(&out.get_output().stdout)
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().expect("seq"),
                e["said_on"].as_str().expect("said_on").to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (3, "2014-03-05".to_string()),
            (4, "2022-03-10".to_string()),
            (5, "2022-04-25".to_string()),
        ]
    );
    let out = stdout(
        &demarche(d)
            .args(["history", "--speaker", "Lavrov"])
            .assert()
            .success(),
    );
    assert!(out.contains("Sergei Lavrov, foreign minister"), "{out}");
    assert!(!out.contains("Shoigu"), "{out}");
    // A speaker recorded as an actor is shown with the role they held that day.
    demarche(d)
        .args(["show", "5"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "speaker      Sergey Lavrov  [LAVROV] (foreign minister, for RUS)",
        ));
    // What a state said is found by --party, not --speaker.
    for command in ["log", "history"] {
        let err = refused(d, &[command, "--speaker", "RUS"]);
        assert!(err.contains("RUS is a state, not a person"), "{err}");
        assert!(err.contains("--party RUS"), "{err}");
    }
    let out = demarche(d)
        .args(["log", "--party", "RUS", "--json"])
        .assert()
        .success();
    assert_eq!(lines(&out.get_output().stdout).len(), 4);
}

/// What the ledger refuses, each time with exit 2, the field named, and
/// nothing appended.
#[test]
fn bad_statements_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let good = json!({
        "type": "statement", "said_on": "2022-11-09", "party": "RUS", "stance": "announces",
        "proposition": {"predicate": "withdrawal", "subjects": ["RUS"], "location": "UKR", "qualifier": "military-personnel"},
        "quote": "Proceed with the withdrawal of troops", "quote_kind": "translation", "language": "ru",
        "source": {"url": "https://www.novinite.com/view_news.php?id=217474", "publisher": "Novinite", "published_on": "2022-11-09"}
    });
    append(d, &good);
    demarche(d)
        .args([
            "actor",
            "add",
            "--id",
            "SHOIGU",
            "--name",
            "Sergei Shoigu",
            "--kind",
            "person",
        ])
        .assert()
        .success();
    let with = |change: &dyn Fn(&mut Value)| -> String {
        let mut v = good.clone();
        change(&mut v);
        v.to_string()
    };
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "withdrawal without subjects",
            with(&|v| v["proposition"] = json!({"predicate": "withdrawal", "location": "UKR"})),
            &["proposition.subjects", "withdrawal needs subjects"],
        ),
        (
            "withdrawal without location",
            with(&|v| v["proposition"] = json!({"predicate": "withdrawal", "subjects": ["RUS"]})),
            &["proposition.location", "withdrawal needs location"],
        ),
        (
            "presence without subjects",
            with(&|v| {
                v["stance"] = json!("denies");
                v["proposition"] = json!({"predicate": "presence", "location": "UKR"});
            }),
            &["proposition.subjects", "presence needs subjects"],
        ),
        (
            "presence without location",
            with(&|v| {
                v["stance"] = json!("denies");
                v["proposition"] = json!({"predicate": "presence", "subjects": ["RUS"]});
            }),
            &["proposition.location", "presence needs location"],
        ),
        (
            "resolution without document",
            with(&|v| {
                v["stance"] = json!("vetoes");
                v["proposition"] = json!({"predicate": "resolution", "location": "PSE"});
            }),
            &["proposition.document", "resolution needs document"],
        ),
        (
            "unknown qualifier",
            with(&|v| v["proposition"]["qualifier"] = json!("trops")),
            &[
                "proposition.qualifier",
                "unknown qualifier for withdrawal: \"trops\"; close matches: troops",
            ],
        ),
        (
            "said on a day still to come",
            with(&|v| v["said_on"] = json!("2099-01-01")),
            &["said_on", "2099-01-01 is later than the day it is recorded"],
        ),
        (
            "joint with the party itself",
            with(&|v| v["joint_with"] = json!(["RUS"])),
            &["joint_with[0]", "RUS is the party itself"],
        ),
        (
            "joint with the party under another name",
            with(&|v| v["joint_with"] = json!(["Russia"])),
            &["joint_with[0]", "RUS is the party itself"],
        ),
        (
            "joint with a party named twice",
            with(&|v| v["joint_with"] = json!(["BLR", "Belarus"])),
            &["joint_with[1]", "BLR is named twice"],
        ),
        (
            "unknown quote kind",
            with(&|v| v["quote_kind"] = json!("summary")),
            &["quote_kind", "\"summary\""],
        ),
        (
            "a language that is not a tag",
            with(&|v| v["language"] = json!("Russian")),
            &["language", "\"Russian\" is not a language tag"],
        ),
        (
            "source and sources",
            with(&|v| v["sources"] = json!([{"publisher": "TASS"}])),
            &["sources", "either source or sources"],
        ),
        (
            "no sources",
            with(&|v| {
                v.as_object_mut().expect("object").remove("source");
                v["sources"] = json!([]);
            }),
            &["sources", "at least one source"],
        ),
        (
            "a speaker who is not a person",
            with(&|v| v["speaker"] = json!({"name": "Ministry of Defence", "actor": "RUS"})),
            &["speaker.actor", "RUS is a state; a speaker is a person"],
        ),
    ];
    for (what, line, needles) in &cases {
        let err = refused(d, &["append", "--json", line]);
        for needle in *needles {
            assert!(err.contains(needle), "{what}: {needle:?} not in {err}");
        }
    }
    // The same checks hold for flags.
    let flags = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "append",
            "--party",
            "RUS",
            "--stance",
            "announces",
            "--predicate",
            "withdrawal",
            "--subject",
            "RUS",
            "--location",
            "UKR",
            "--quote",
            "q",
            "--publisher",
            "Novinite",
        ]
        .map(String::from)
        .to_vec();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    for (extra, needle) in [
        (&["--said-on", "2099-01-01"][..], "said_on"),
        (
            &["--said-on", "2022-11-09", "--joint-with", "Russia"][..],
            "joint_with[0]",
        ),
        (
            &["--said-on", "2022-11-09", "--qualifier", "trops"][..],
            "close matches: troops",
        ),
        (
            &["--said-on", "2022-11-09", "--quote-kind", "summary"][..],
            "summary",
        ),
        (
            &["--said-on", "2022-11-09", "--language", "Russian"][..],
            "language",
        ),
        (
            &["--said-on", "2022-11-09", "--speaker-actor", "RUS"][..],
            "speaker.actor",
        ),
    ] {
        let args = flags(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused(d, &args);
        assert!(err.contains(needle), "{extra:?}: {needle:?} not in {err}");
    }
    // A person may speak; a deadline may lie ahead (the ultimatum's, not the
    // statement's); the ledger still holds the one statement and the actor.
    demarche(d)
        .args(
            flags(&[
                "--said-on",
                "2022-11-09",
                "--speaker-actor",
                "SHOIGU",
                "--deadline",
                "2099-01-01",
            ])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        )
        .assert()
        .success();
    assert!(head(d).starts_with("3:"), "{}", head(d));
    demarche(d).arg("verify").assert().success();
}
