//! GDELT 2.0 export import: the exact statements made from rows written for
//! these tests (`tests/data/gdelt/`), the skip reasons and counts, the errors on
//! malformed files, the mapping table file, and (when it is present) the real
//! 300-row sample in `/work/shared/data`.

use demarche::event::{Coded, Event, Proposition, SaidOn, Source, Statement};
use demarche::gdelt::{self, ActorCodes, Row, Skip, SkipKind, Skipped};
use demarche::json;
use demarche::ledger::Ledger;
use demarche::lines::LineError;
use demarche::vocab::Vocabulary;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gdelt")
        .join(name)
}

fn read_bytes(bytes: &[u8]) -> Vec<Result<Row, LineError>> {
    gdelt::read_rows(bytes, ActorCodes::starter()).collect()
}

fn read(name: &str) -> Vec<Result<Row, LineError>> {
    read_bytes(&std::fs::read(data(name)).expect("test data"))
}

/// All rows of a file that must read without error.
fn rows(name: &str) -> Vec<Row> {
    read(name)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {}", describe(&e))))
        .collect()
}

fn describe(e: &LineError) -> String {
    match e {
        LineError::Input { line, error } => format!("line {line}: {error}"),
        LineError::Io { line, error } => format!("line {line}: read failed: {error}"),
    }
}

/// The rows read before the error, and the error as `line N: message`.
fn failure(items: Vec<Result<Row, LineError>>) -> (usize, String) {
    let last = items.last().expect("at least one item");
    let Err(e) = last else {
        panic!("no error in {items:?}");
    };
    let good = items.len() - 1;
    assert!(items[..good].iter().all(Result::is_ok), "{items:?}");
    (good, describe(e))
}

fn date(s: &str) -> jiff::civil::Date {
    demarche::dates::parse_date(s).expect("date")
}

fn statement(
    (said_on, party, stance, predicate): (&str, &str, &str, &str),
    subject: &str,
    location: Option<&str>,
    quote: &str,
    url: &str,
) -> Event {
    Event::Statement(Statement {
        said_on: SaidOn {
            date: date(said_on),
            time: None,
        },
        party: party.into(),
        joint_with: Vec::new(),
        speaker: None,
        stance: stance.into(),
        hedge: None,
        condition: None,
        deadline: None,
        proposition: Proposition {
            predicate: predicate.into(),
            subjects: vec![subject.into()],
            location: location.map(str::to_string),
            qualifier: None,
            document: None,
        },
        quote: quote.into(),
        quote_kind: demarche::event::QuoteKind::Verbatim,
        language: None,
        more_sources: Vec::new(),
        coded: None,
        source: Source {
            url: Some(format!("https://www.example.org/news/2021/01/{url}")),
            publisher: Some("GDELT 2.0".into()),
            published_on: Some(date("2021-01-28")),
        },
    })
}

/// The statement of a row, its provenance checked against the row (coder
/// `gdelt`, the row's event id) and then left out, so that the rest compares.
fn event_at(rows: &[Row], line: usize) -> Event {
    let row = &rows[line - 1];
    assert_eq!(row.line, line);
    let mut event = row
        .result
        .clone()
        .unwrap_or_else(|s| panic!("line {line} skipped: {s}"));
    let Event::Statement(s) = &mut event else {
        panic!("line {line}: not a statement")
    };
    let coded = s.coded.take().expect("a machine-coded statement");
    assert_eq!(
        (coded.coder.as_str(), coded.event_id),
        ("gdelt", row.event_id)
    );
    event
}

#[test]
fn rows_give_these_exact_statements() {
    let rows = rows("events.tsv");
    assert_eq!(rows.len(), 30);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.line, i + 1);
        assert_eq!(r.event_id, 961_204_311 + i as u64);
    }
    assert_eq!(
        &event_at(&rows, 1),
        &statement(
            ("2021-01-28", "USA", "calls-for", "ceasefire"),
            "TUR",
            Some("LBY"),
            "GDELT event 961204311, CAMEO 0256 (appeal for de-escalation of military engagement): USAGOV toward TURGOV; machine-coded, no quotation",
            "us-urges-turkey-de-escalate-libya",
        )
    );
    assert_eq!(
        &event_at(&rows, 2),
        &statement(
            ("2021-01-28", "UN", "demands", "ceasefire"),
            "RUS",
            Some("LBY"),
            "GDELT event 961204312, CAMEO 1056 (demand de-escalation of military engagement): IGOUNO toward RUSMIL; machine-coded, no quotation",
            "un-demands-russia-de-escalate",
        )
    );
    // The location is where the action was reported: Geneva, for talks on Libya.
    assert_eq!(
        &event_at(&rows, 8),
        &statement(
            ("2021-01-28", "UN", "calls-for", "negotiations"),
            "LBY",
            Some("CHE"),
            "GDELT event 961204318, CAMEO 026 (appeal to others to meet or negotiate): IGOUNO toward LBYGOV; machine-coded, no quotation",
            "un-calls-libyan-talks-geneva",
        )
    );
    assert_eq!(
        &event_at(&rows, 11),
        &statement(
            ("2021-01-26", "SYR", "accuses", "intervention"),
            "TUR",
            Some("SYR"),
            "GDELT event 961204321, CAMEO 1123 (accuse of aggression): SYRGOV toward TURMIL; machine-coded, no quotation",
            "damascus-accuses-ankara-aggression",
        )
    );
    // No action location: no location.
    assert_eq!(
        &event_at(&rows, 15),
        &statement(
            ("2021-01-28", "GBR", "calls-for", "ceasefire"),
            "IRN",
            None,
            "GDELT event 961204325, CAMEO 0256 (appeal for de-escalation of military engagement): GBRGOV toward IRNMIL; machine-coded, no quotation",
            "london-urges-tehran-restraint",
        )
    );
    // A whole code (IGOEUREEC) before the country; FIPS AJ is Azerbaijan.
    assert_eq!(
        &event_at(&rows, 27),
        &statement(
            ("2021-01-27", "EU", "calls-for", "ceasefire"),
            "ARM",
            Some("AZE"),
            "GDELT event 961204337, CAMEO 0256 (appeal for de-escalation of military engagement): IGOEUREEC toward ARM; machine-coded, no quotation",
            "eu-urges-armenia-restraint",
        )
    );
    // said_on is SQLDATE, a month before DATEADDED here.
    assert_eq!(
        &event_at(&rows, 28),
        &statement(
            ("2020-12-29", "UN", "demands", "ceasefire"),
            "ETH",
            Some("ETH"),
            "GDELT event 961204338, CAMEO 1056 (demand de-escalation of military engagement): IGOUNO toward ETHMIL; machine-coded, no quotation",
            "un-demands-ethiopia-de-escalate",
        )
    );
    let summary = |line: usize| {
        let e = event_at(&rows, line);
        let s = e.statement().expect("a statement");
        (
            s.party.clone(),
            s.stance.clone(),
            s.proposition.predicate.clone(),
            s.proposition.subjects.join(","),
            s.proposition.location.clone(),
        )
    };
    assert_eq!(
        summary(9),
        t(("RUS", "rejects", "negotiations", "UKR", Some("UKR")))
    );
    assert_eq!(
        summary(10),
        t(("EGY", "demands", "negotiations", "SYR", Some("EGY")))
    );
    assert_eq!(
        summary(12),
        t(("ISR", "rejects", "ceasefire", "PSE", Some("PSE")))
    );
    assert_eq!(
        summary(13),
        t(("SDN", "calls-for", "humanitarian-access", "UN", Some("SDN")))
    );
    assert_eq!(
        summary(14),
        t(("SOM", "demands", "intervention", "AU", Some("SOM")))
    );
    assert_eq!(
        summary(29),
        t(("DEU", "calls-for", "ceasefire", "RUS", Some("DEU")))
    );
    assert_eq!(summary(30), t(("GBR", "demands", "ceasefire", "IRN", None)));
    // Codes that name no proposition the vocabulary has: the generic predicate.
    assert_eq!(
        summary(3),
        t(("RUS", "denies", "unspecified", "USA", Some("RUS")))
    );
    assert_eq!(
        summary(5),
        t(("TUR", "condemns", "unspecified", "ARE", Some("LBY")))
    );
    assert_eq!(
        summary(26),
        t(("RUS", "agrees", "negotiations", "TUR", Some("RUS")))
    );
    // No Actor2, an Actor2 that is not a party (the press, civilians), or the party itself
    // on both sides: a statement with no subject.
    assert_eq!(
        summary(17),
        t(("UN", "demands", "ceasefire", "", Some("LBY")))
    );
    assert_eq!(
        summary(22),
        t(("UN", "calls-for", "ceasefire", "", Some("USA")))
    );
    assert_eq!(
        summary(25),
        t(("USA", "calls-for", "ceasefire", "", Some("USA")))
    );
}

type Summary5 = (String, String, String, String, Option<String>);

fn t((a, b, c, d, e): (&str, &str, &str, &str, Option<&str>)) -> Summary5 {
    (
        a.into(),
        b.into(),
        c.into(),
        d.into(),
        e.map(str::to_string),
    )
}

#[test]
fn each_statement_keeps_its_provenance() {
    let rows = rows("events.tsv");
    let Ok(Event::Statement(s)) = &rows[0].result else {
        panic!("line 1 is a statement")
    };
    // GoldsteinScale 3.0 in tenths, AvgTone -3.21428571428571 in thousandths.
    assert_eq!(
        s.coded.as_deref(),
        Some(&Coded {
            coder: "gdelt".into(),
            event_id: 961_204_311,
            cameo: "0256".into(),
            mentions: 6,
            sources: 1,
            goldstein_tenths: 30,
            tone_thousandths: -3214,
        })
    );
    let line =
        serde_json::Value::Object(json::view::event_json(&rows[0].result.clone().expect("ok")))
            .to_string();
    assert!(
        line.contains(r#""coded":{"coder":"gdelt","event_id":961204311,"cameo":"0256","mentions":6,"sources":1,"goldstein":3.0,"tone":-3.214}"#),
        "{line}"
    );
}

#[test]
fn skipped_rows_have_these_reasons_and_counts() {
    let rows = rows("events.tsv");
    let skips: BTreeMap<usize, Skip> = rows
        .iter()
        .filter_map(|r| r.result.clone().err().map(|s| (r.line, s)))
        .collect();
    let code = |c: &str| c.to_string();
    let expected: BTreeMap<usize, Skip> = [
        (16, Skip::NoActor1),
        (18, Skip::RootLeftOut(code("04"))),
        (20, Skip::RootLeftOut(code("19"))),
        (21, Skip::NonStateActor(code("RUSOPP"))),
        (23, Skip::RegionActor(code("AFR"))),
    ]
    .into_iter()
    .collect();
    assert_eq!(skips, expected);

    let mut tally = Skipped::default();
    for s in skips.values() {
        tally.add(s);
    }
    assert_eq!(tally.total(), 5);
    assert_eq!(rows.len() - tally.total(), 25, "statements");
    assert_eq!(
        tally.by_kind().into_iter().collect::<Vec<_>>(),
        vec![
            (SkipKind::RootLeftOut, 2),
            (SkipKind::NoActor1, 1),
            (SkipKind::NonStateActor, 1),
            (SkipKind::RegionActor, 1),
        ]
    );
    assert_eq!(tally.count(&Skip::RootLeftOut(code("19"))), 1);
    assert_eq!(
        tally.to_string(),
        "2 CAMEO root left out\n1 no Actor1\n1 non-state role\n1 Actor1 a region"
    );
    assert_eq!(
        skips[&21].to_string(),
        "Actor1 RUSOPP is not a state or an organisation of states"
    );
    // Eligible: a party under a root of things said, statement or not.
    let eligible: Vec<usize> = rows.iter().filter(|r| r.eligible).map(|r| r.line).collect();
    assert_eq!(eligible.len(), 25);
    assert!(!eligible.contains(&18) && !eligible.contains(&21));
}

/// Every statement made is one the JSON line format and the ledger accept.
fn assert_valid(events: Vec<Event>) {
    for e in &events {
        let line = serde_json::Value::Object(json::view::event_json(e)).to_string();
        assert_eq!(&json::parse_event(&line).expect("parses back"), e, "{line}");
    }
    let n = events.len() as u64;
    let mut ledger = Ledger::in_memory();
    ledger
        .append_batch(events.into_iter().map(Ok))
        .expect("the ledger accepts every statement");
    assert_eq!(ledger.head().expect("head").size, n);
    assert!(ledger.verify(None).expect("verify").is_intact());
}

#[test]
fn every_statement_is_valid_for_the_ledger() {
    let events: Vec<Event> = rows("events.tsv")
        .into_iter()
        .filter_map(|r| r.result.ok())
        .collect();
    assert_eq!(events.len(), 25);
    assert_valid(events);
}

#[test]
fn malformed_files_fail_on_the_line_at_fault() {
    for (file, good, message) in [
        (
            "columns-57.tsv",
            2,
            "line 3: expected 61 tab-separated columns, found 57",
        ),
        (
            "columns-62.tsv",
            1,
            "line 2: expected 61 tab-separated columns, found 62",
        ),
        ("not-utf8.tsv", 1, "line 2: not valid UTF-8 (byte 155)"),
        (
            "truncated.tsv",
            2,
            "line 3: expected 61 tab-separated columns, found 40; the last line has no final newline, so the file looks truncated",
        ),
        (
            "bad-date.tsv",
            1,
            "line 2: field `SQLDATE`: \"20210230\" is not a real date",
        ),
    ] {
        assert_eq!(failure(read(file)), (good, message.to_string()), "{file}");
    }
}

/// The first two rows of `events.tsv`, each with its newline.
fn two_rows() -> (String, String) {
    let text = std::fs::read_to_string(data("events.tsv")).expect("test data");
    let mut lines = text.split_inclusive('\n');
    (
        lines.next().expect("row 1").to_string(),
        lines.next().expect("row 2").to_string(),
    )
}

#[test]
fn line_endings_blank_lines_and_a_last_row_without_newline() {
    let (a, b) = two_rows();
    // CRLF, blank lines (counted, passed over), a complete last row with no newline.
    let text = format!("{}\r\n\n  \n{}", a.trim_end(), b.trim_end_matches('\n'));
    let rows: Vec<Row> = read_bytes(text.as_bytes())
        .into_iter()
        .map(|r| r.expect("reads"))
        .collect();
    assert_eq!(
        rows.iter()
            .map(|r| (r.line, r.event_id))
            .collect::<Vec<_>>(),
        vec![(1, 961_204_311), (4, 961_204_312)]
    );
    assert!(rows.iter().all(|r| r.result.is_ok()));
    let empty = read_bytes(b"");
    assert!(empty.is_empty());
}

#[test]
fn a_cut_multibyte_character_on_the_last_line_reads_as_truncation() {
    let (a, b) = two_rows();
    let mut bytes = a.into_bytes();
    let b = b.replace("Tripoli", "Tr\u{ed}poli");
    let cut = b.find('\u{ed}').expect("accent") + 1;
    bytes.extend_from_slice(&b.as_bytes()[..cut]);
    assert_eq!(
        failure(read_bytes(&bytes)),
        (
            1,
            format!(
                "line 2: not valid UTF-8 (byte {cut}); the last line has no final newline, so the file looks truncated"
            )
        )
    );
}

#[test]
fn an_over_long_line_is_refused_without_being_held() {
    let (a, _) = two_rows();
    let mut text = a;
    text.push_str(&"x".repeat(gdelt::MAX_LINE + 1));
    text.push('\n');
    assert_eq!(
        failure(read_bytes(text.as_bytes())),
        (
            1,
            format!(
                "line 2: line is {} bytes long; the limit is 65536",
                gdelt::MAX_LINE + 1
            )
        )
    );
}

#[test]
fn bad_fields_are_named() {
    let (a, _) = two_rows();
    let cols: Vec<&str> = a.trim_end().split('\t').collect();
    for (col, value, message) in [
        (
            0,
            "96120431x",
            "field `GLOBALEVENTID`: \"96120431x\" is not an event id (a positive integer)",
        ),
        (
            0,
            "+961204311",
            "field `GLOBALEVENTID`: \"+961204311\" is not an event id (a positive integer)",
        ),
        (
            1,
            "2021-01-28",
            "field `SQLDATE`: \"2021-01-28\" is not a date of the form YYYYMMDD",
        ),
        (
            26, "25", "", // a 2-digit code is well formed
        ),
        (
            26,
            "02567",
            "field `EventCode`: \"02567\" is not a CAMEO event code (2 to 4 digits)",
        ),
        (
            59,
            "20210128",
            "field `DATEADDED`: \"20210128\" is not a date-time of the form YYYYMMDDHHMMSS",
        ),
        (
            59,
            "20210128246000",
            "field `DATEADDED`: \"20210128246000\" is not a real date-time (YYYYMMDDHHMMSS)",
        ),
        (
            60,
            "https://example.org/\u{7}",
            "field `SOURCEURL`: must not contain control characters",
        ),
    ] {
        let mut row = cols.clone();
        row[col] = value;
        let got = gdelt::Fields::parse(&row)
            .map(|_| ())
            .map_err(|e| e.to_string());
        if message.is_empty() {
            assert_eq!(got, Ok(()), "{value}");
        } else {
            assert_eq!(got, Err(message.to_string()), "{value}");
        }
    }
    let short = gdelt::Fields::parse(&cols[..60])
        .map(|_| ())
        .map_err(|e| e.to_string());
    assert_eq!(
        short,
        Err("expected 61 tab-separated columns, found 60".to_string())
    );
}

#[test]
fn an_over_long_url_is_skipped_and_an_empty_one_left_out() {
    let (a, _) = two_rows();
    let mut cols: Vec<String> = a.trim_end().split('\t').map(str::to_string).collect();
    let actors = ActorCodes::starter();
    let long = format!("https://example.org/{}", "a".repeat(json::MAX_URL));
    cols[60] = long.clone();
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let fields = gdelt::Fields::parse(&refs).expect("well formed");
    assert_eq!(
        gdelt::event_from_row(&fields, &actors),
        Err(Skip::UrlTooLong(long.len()))
    );
    cols[60] = String::new();
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let fields = gdelt::Fields::parse(&refs).expect("well formed");
    let event = gdelt::event_from_row(&fields, &actors).expect("a statement");
    let source = &event.statement().expect("statement").source;
    assert_eq!(source.url, None);
    assert_eq!(source.publisher.as_deref(), Some("GDELT 2.0"));
    assert_valid(vec![event]);
}

/// The table file on its own, read as plain JSON.
#[test]
fn the_mapping_file_uses_the_vocabulary_and_lists_each_code_once() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/gdelt-cameo.json"),
    )
    .expect("schema/gdelt-cameo.json");
    let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let vocab = Vocabulary::builtin();
    let codes = file["codes"].as_array().expect("codes");
    assert!(codes.len() >= 150);
    let roots: Vec<&str> = file["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .map(|r| r.as_str().expect("root"))
        .collect();
    let mut seen = HashSet::new();
    let mut mapped = 0;
    for e in codes {
        let code = e["code"].as_str().expect("code");
        assert!(
            (3..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(seen.insert(code), "{code} twice");
        assert!(roots.contains(&&code[..2]), "{code} under a listed root");
        assert!(!e["label"].as_str().expect("label").is_empty(), "{code}");
        assert!(!e["reason"].as_str().expect("reason").is_empty(), "{code}");
        match (&e["stance"], &e["predicate"]) {
            (serde_json::Value::Null, serde_json::Value::Null) => {}
            (st, p) => {
                let (st, p) = (st.as_str().expect("stance"), p.as_str().expect("predicate"));
                assert!(vocab.stance(st).is_some(), "{code}: {st}");
                assert!(vocab.predicate(p).is_some(), "{code}: {p}");
                mapped += 1;
            }
        }
    }
    assert!(mapped >= 150, "{mapped} mapped codes");
    for r in file["roots_left_out"].as_array().expect("roots_left_out") {
        let root = r["root"].as_str().expect("root");
        assert!(!roots.contains(&root), "{root}");
        assert!(!r["reason"].as_str().expect("reason").is_empty(), "{root}");
    }
}

#[test]
fn the_real_sample_maps_or_counts_every_row() {
    let path = Path::new("/work/shared/data/gdelt-sample.export.CSV");
    let Ok(bytes) = std::fs::read(path) else {
        println!(
            "note: {} is absent; the real-sample check did not run",
            path.display()
        );
        return;
    };
    let rows: Vec<Row> = read_bytes(&bytes)
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{}", describe(&e))))
        .collect();
    assert_eq!(rows.len(), 300);
    let mut tally = Skipped::default();
    let mut events = Vec::new();
    for r in &rows {
        match &r.result {
            Ok(e) => events.push(e.clone()),
            Err(s) => tally.add(s),
        }
    }
    println!("{} statements; skipped:\n{tally}", events.len());
    assert_eq!(events.len() + tally.total(), 300);
    // 33 rows are eligible (a state or an organisation of states under a root
    // of things said); every one becomes a statement.
    let eligible = rows.iter().filter(|r| r.eligible).count();
    assert_eq!(eligible, 33);
    assert_eq!(events.len(), 33);
    assert_eq!(
        tally.by_kind().into_iter().collect::<Vec<_>>(),
        vec![
            (SkipKind::RootLeftOut, 168),
            (SkipKind::NoPredicate, 3),
            (SkipKind::NoActor1, 61),
            (SkipKind::NonStateActor, 20),
            (SkipKind::RegionActor, 15),
        ]
    );
    assert_eq!(tally.count(&Skip::RootLeftOut("04".into())), 85);
    // The one appeal for de-escalation is the Afghan government's to Afghanistan:
    // a statement with no subject.
    let r232 = event_at(&rows, 232);
    let s = r232.statement().expect("statement");
    assert_eq!(
        (
            s.party.as_str(),
            s.stance.as_str(),
            s.proposition.predicate.as_str()
        ),
        ("AFG", "calls-for", "ceasefire")
    );
    assert!(s.proposition.subjects.is_empty());
    // Albania's appeals to Italy to negotiate become statements.
    for line in [265, 266, 267] {
        let s = event_at(&rows, line)
            .statement()
            .expect("statement")
            .clone();

        assert_eq!(
            (
                s.party.as_str(),
                s.stance.as_str(),
                s.proposition.predicate.as_str()
            ),
            ("ALB", "calls-for", "negotiations")
        );
        assert_eq!(s.proposition.subjects, vec!["ITA".to_string()]);
    }
    assert!(!events.is_empty());
    assert_valid(events);
}

// ---------------------------------------------------------------------------
// Rows of this file's own making, one family of CAMEO roots at a time, and the
// command line: several files, duplicates, the fold, the coder filters.

/// Row 1 of `events.tsv` with some columns replaced: (index, value).
fn row_with(changes: &[(usize, &str)]) -> String {
    let (a, _) = two_rows();
    let mut cols: Vec<String> = a.trim_end().split('\t').map(str::to_string).collect();
    for (i, v) in changes {
        cols[*i] = v.to_string();
    }
    cols.join("\t") + "\n"
}

/// A row: event id, Actor1 and its country, Actor2 and its country, code.
fn made_row(id: u64, a1: (&str, &str), a2: (&str, &str), code: &str) -> String {
    let id = id.to_string();
    let root = &code[..2];
    row_with(&[
        (0, &id),
        (5, a1.0),
        (7, a1.1),
        (15, a2.0),
        (17, a2.1),
        (26, code),
        (27, &code[..3.min(code.len())]),
        (28, root),
    ])
}

/// (party, stance, predicate, subjects joined).
type Expected = (&'static str, &'static str, &'static str, &'static str);

#[test]
fn each_root_family_of_things_said_gives_its_statements() {
    // (code, Actor1, Actor2) → (party, stance, predicate, subject)
    let cases: [(&str, &str, &str, Expected); 14] = [
        (
            "010",
            "FRAGOV",
            "DEU",
            ("FRA", "asserts", "unspecified", "DEU"),
        ),
        (
            "016",
            "RUSGOV",
            "UKRGOV",
            ("RUS", "denies", "unspecified", "UKR"),
        ),
        (
            "0253",
            "IGOUNO",
            "IRNGOV",
            ("UN", "calls-for", "release", "IRN"),
        ),
        (
            "028",
            "QATGOV",
            "SDN",
            ("QAT", "calls-for", "mediation", "SDN"),
        ),
        (
            "039",
            "NORGOV",
            "COL",
            ("NOR", "offers", "mediation", "COL"),
        ),
        (
            "0312",
            "RUSMIL",
            "IRNMIL",
            ("RUS", "announces", "military-cooperation", "IRN"),
        ),
        (
            "051",
            "CHNGOV",
            "PAK",
            ("CHN", "supports", "unspecified", "PAK"),
        ),
        (
            "054",
            "USA",
            "ISR",
            ("USA", "recognises", "recognition", "ISR"),
        ),
        (
            "1053",
            "USAGOV",
            "VENGOV",
            ("USA", "demands", "release", "VEN"),
        ),
        (
            "1122",
            "GBRLEG",
            "MMRMIL",
            ("GBR", "accuses", "unspecified", "MMR"),
        ),
        (
            "1212",
            "INDGOV",
            "USA",
            ("IND", "rejects", "military-cooperation", "USA"),
        ),
        (
            "1312",
            "IGOEUREEC",
            "RUS",
            ("EU", "threatens", "sanctions", "RUS"),
        ),
        (
            "163",
            "USAGOV",
            "CUB",
            ("USA", "announces", "sanctions", "CUB"),
        ),
        (
            "166",
            "LTUGOV",
            "RUSGOV",
            ("LTU", "announces", "expulsion", "RUS"),
        ),
    ];
    let text: String = cases
        .iter()
        .enumerate()
        .map(|(i, (code, a1, a2, _))| {
            made_row(
                700 + i as u64,
                (a1, &a1[..3.min(a1.len())]),
                (a2, &a2[..3]),
                code,
            )
        })
        .collect();
    let rows: Vec<Row> = read_bytes(text.as_bytes())
        .into_iter()
        .map(|r| r.expect("reads"))
        .collect();
    for ((code, _, _, want), row) in cases.iter().zip(&rows) {
        let e = row
            .result
            .as_ref()
            .unwrap_or_else(|s| panic!("{code}: skipped: {s}"));
        let s = e.statement().expect("statement");
        assert_eq!(
            (
                s.party.as_str(),
                s.stance.as_str(),
                s.proposition.predicate.as_str(),
                s.proposition.subjects.join(",").as_str()
            ),
            *want,
            "{code}"
        );
        assert_eq!(s.coded.as_deref().map(|c| c.cameo.as_str()), Some(*code));
        assert!(row.eligible, "{code}");
    }
    assert_valid(rows.into_iter().filter_map(|r| r.result.ok()).collect());
}

#[test]
fn rows_that_stay_out_each_have_their_reason() {
    let cases: [(&str, &str, &str, Skip, bool); 8] = [
        (
            "040",
            "USAGOV",
            "RUSGOV",
            Skip::RootLeftOut("04".into()),
            false,
        ),
        (
            "145",
            "USAGOV",
            "RUSGOV",
            Skip::RootLeftOut("14".into()),
            false,
        ),
        (
            "011",
            "USAGOV",
            "RUSGOV",
            Skip::NoPredicate("011".into()),
            true,
        ),
        (
            "111",
            "USABUS",
            "RUSGOV",
            Skip::NonStateActor("USABUS".into()),
            false,
        ),
        (
            "111",
            "USAMED",
            "RUSGOV",
            Skip::NonStateActor("USAMED".into()),
            false,
        ),
        (
            "111",
            "AFR",
            "RUSGOV",
            Skip::RegionActor("AFR".into()),
            false,
        ),
        ("111", "", "RUSGOV", Skip::NoActor1, false),
        // An organisation the registry lacks: eligible, reported by its code.
        (
            "111",
            "IGOUNODEVWBK",
            "RUSGOV",
            Skip::UnknownActor("IGOUNODEVWBK".into()),
            true,
        ),
    ];
    let text: String = cases
        .iter()
        .enumerate()
        .map(|(i, (code, a1, a2, _, _))| {
            made_row(
                800 + i as u64,
                (a1, a1.get(..3).unwrap_or("")),
                (a2, &a2[..3]),
                code,
            )
        })
        .collect();
    let rows: Vec<Row> = read_bytes(text.as_bytes())
        .into_iter()
        .map(|r| r.expect("reads"))
        .collect();
    for ((code, a1, _, skip, eligible), row) in cases.iter().zip(&rows) {
        assert_eq!(row.result.as_ref().err(), Some(skip), "{code} {a1}");
        assert_eq!(row.eligible, *eligible, "{code} {a1}");
    }
}

fn cli(ledger: &Path) -> assert_cmd::Command {
    let mut c = crate::common::bin();
    c.arg("--ledger").arg(ledger);
    c
}

fn out_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).expect("utf8")
}

fn import_json(ledger: &Path, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let a = cli(ledger)
        .args(["import", "--format", "gdelt", "--json"])
        .args(args)
        .assert()
        .success();
    serde_json::from_str(out_of(&a).trim()).expect("JSON")
}

#[test]
fn a_file_whose_last_row_is_truncated_appends_nothing_even_after_good_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    cli(&ledger).arg("init").assert().success();
    let before = out_of(&cli(&ledger).arg("head").assert().success());
    let a = cli(&ledger)
        .args(["import", "--format", "gdelt"])
        .arg(data("events.tsv"))
        .arg(data("truncated.tsv"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("truncated.tsv: line 3:"), "{err}");
    assert!(err.contains("looks truncated"), "{err}");
    assert!(err.contains("all 2 files is all or nothing"), "{err}");
    assert_eq!(out_of(&cli(&ledger).arg("head").assert().success()), before);
}

#[test]
fn many_files_a_directory_and_stdin_with_duplicates_skipped_by_event_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).expect("mkdir");
    let text = std::fs::read_to_string(data("events.tsv")).expect("data");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // Two exports in a directory, overlapping by rows 10-15, and a file that
    // is not an export beside them (left alone).
    std::fs::write(exports.join("a.export.CSV"), lines[..15].concat()).expect("write");
    std::fs::write(exports.join("b.export.CSV"), lines[9..].concat()).expect("write");
    std::fs::write(exports.join("notes.txt"), "not GDELT\n").expect("write");
    let v = import_json(&ledger, &[exports.as_os_str()]);
    assert_eq!(v["appended"], 25);
    assert_eq!(v["gdelt"]["rows"], 36);
    assert_eq!(v["gdelt"]["duplicates"], 6);
    assert_eq!(v["gdelt"]["statements"], 25);
    // The same rows again on standard input: every event id is in the ledger.
    let a = cli(&ledger)
        .args(["import", "--format", "gdelt", "--json", "-"])
        .write_stdin(text.clone())
        .assert()
        .success();
    let again: serde_json::Value = serde_json::from_str(out_of(&a).trim()).expect("JSON");
    assert_eq!(again["appended"], 0);
    assert_eq!(again["gdelt"]["duplicates"], 25);
    // A directory with no export is refused.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    cli(&ledger)
        .args(["import", "--format", "gdelt"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("holds no GDELT event export"));
    // Several JSON Lines files are refused with a way forward.
    cli(&ledger)
        .arg("import")
        .arg(data("events.tsv"))
        .arg(data("events.tsv"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("one file at a time"));
}

#[test]
fn add_actors_records_the_unknown_party_codes_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    let file = dir.path().join("wb.export.CSV");
    let rows = made_row(901, ("IGOUNODEVWBK", ""), ("ARGGOV", "ARG"), "111")
        + &made_row(902, ("IGOUNODEVWBK", ""), ("", ""), "0233");
    std::fs::write(&file, rows).expect("write");
    let v = import_json(&ledger, &[file.as_os_str()]);
    assert_eq!(v["appended"], 0);
    assert_eq!(v["gdelt"]["eligible"], 2);
    assert_eq!(v["gdelt"]["unknown_actors"]["IGOUNODEVWBK"], 2);
    let v = import_json(
        &ledger,
        &[file.as_os_str(), std::ffi::OsStr::new("--add-actors")],
    );
    assert_eq!(
        v["gdelt"]["actors_added"],
        serde_json::json!(["IGOUNODEVWBK"])
    );
    assert_eq!(v["appended"], 3);
    assert_eq!(v["gdelt"]["statements"], 2);
    let first: serde_json::Value = serde_json::from_str(
        out_of(
            &cli(&ledger)
                .args(["show", "1", "--json"])
                .assert()
                .success(),
        )
        .trim(),
    )
    .expect("JSON");
    assert_eq!(first["type"], "actor");
    assert_eq!(first["parent"], "UN");
    assert_eq!(first["cameo"], "IGOUNODEVWBK");
}

#[test]
fn a_hand_recorded_statement_wins_over_gdelt_and_coded_by_keeps_them_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    // Recorded first, on the date of row 1 (USA calls for a ceasefire by TUR).
    cli(&ledger)
        .args(["append", "--json"])
        .arg(r#"{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"demands","proposition":{"predicate":"ceasefire","subjects":["TUR"],"location":"LBY"},"quote":"we demand that Turkey cease fire","source":{"publisher":"Example Wire"}}"#)
        .assert()
        .success();
    import_json(&ledger, &[data("events.tsv").as_os_str()]);
    let positions = |extra: &[&str]| -> Vec<(String, Vec<u64>)> {
        let a = cli(&ledger)
            .args([
                "positions",
                "--party",
                "USA",
                "--predicate",
                "ceasefire",
                "--subject",
                "TUR",
                "--json",
            ])
            .args(extra)
            .assert()
            .success();
        out_of(&a)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
                let seqs = v["statements"]
                    .as_array()
                    .expect("statements")
                    .iter()
                    .map(|s| s.as_u64().or_else(|| s["seq"].as_u64()).expect("seq"))
                    .collect();
                (v["stance"].as_str().expect("stance").to_string(), seqs)
            })
            .collect()
    };
    // The GDELT statement (seq 2) is later in the chain, of the same date: the
    // hand-recorded demand stands.
    assert_eq!(positions(&[]), vec![("demands".to_string(), vec![1])]);
    assert_eq!(positions(&["--replay"]), positions(&[]));
    assert_eq!(
        positions(&["--coded-by", "human"]),
        vec![("demands".to_string(), vec![1])]
    );
    assert_eq!(
        positions(&["--coded-by", "gdelt"]),
        vec![("calls-for".to_string(), vec![2])]
    );
    assert_eq!(
        positions(&["--coded-by", "gdelt", "--min-mentions", "7"]),
        vec![]
    );
    // log: the hand-recorded statement alone, or the 25 GDELT ones.
    let log = |extra: &[&str]| {
        out_of(
            &cli(&ledger)
                .args(["log", "--json"])
                .args(extra)
                .assert()
                .success(),
        )
        .lines()
        .count()
    };
    assert_eq!(log(&["--coded-by", "human"]), 1);
    assert_eq!(log(&["--coded-by", "gdelt"]), 25);
    assert_eq!(log(&["--coded-by", "gdelt", "--min-mentions", "7"]), 0);
    cli(&ledger)
        .args(["log", "--coded-by", "robots"])
        .assert()
        .code(2);
}

#[test]
fn statements_earlier_releases_made_from_gdelt_rows_count_as_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    // Row 1 as a release before event format 3 recorded it: no provenance.
    cli(&ledger)
        .args(["append", "--json"])
        .arg(r#"{"type":"statement","said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"ceasefire","subjects":["TUR"],"location":"LBY"},"quote":"GDELT event 961204311, CAMEO 0256 (appeal for de-escalation of military engagement); machine-coded, no quotation","source":{"url":"https://www.example.org/news/2021/01/us-urges-turkey-de-escalate-libya","publisher":"GDELT 2.0","published_on":"2021-01-28"}}"#)
        .assert()
        .success();
    let v = import_json(&ledger, &[data("events.tsv").as_os_str()]);
    assert_eq!(v["gdelt"]["duplicates"], 1);
    assert_eq!(v["appended"], 24);
}

#[test]
fn a_negative_tone_stays_a_number_in_the_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    import_json(&ledger, &[data("events.tsv").as_os_str()]);
    let a = cli(&ledger)
        .args(["export", "--format", "csv"])
        .assert()
        .success();
    let text = out_of(&a);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let tone = header.iter().position(|c| *c == "tone").expect("tone");
    let event = header
        .iter()
        .position(|c| *c == "coded_event_id")
        .expect("id");
    // Fields as RFC 4180 writes them (quotes may hold commas); no field here spans lines.
    let fields = |l: &str| -> Vec<String> {
        let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = l.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => out.push(std::mem::take(&mut cur)),
                (c, _) => cur.push(c),
            }
        }
        out.push(cur);
        out
    };
    let row = lines
        .map(fields)
        .find(|r| r.get(event).map(String::as_str) == Some("961204311"))
        .expect("the row of event 961204311");
    // A spreadsheet reads a plain negative number as a number: no guard.
    assert_eq!(row[tone], "-3.214");
    // `show` counts as a reader says it.
    let shown = out_of(&cli(&ledger).args(["show", "1"]).assert().success());
    assert!(
        shown.contains("gdelt (event 961204311, CAMEO 0256; 6 mentions in 1 source; Goldstein 3.0, tone -3.214)"),
        "{shown}"
    );
}

#[test]
fn a_bad_row_after_many_statements_is_named_by_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = dir.path().join("ledger");
    cli(&ledger).arg("init").assert().success();
    let before = out_of(&cli(&ledger).arg("head").assert().success());
    let text = std::fs::read_to_string(data("events.tsv")).expect("data");
    let rows: Vec<&str> = text.lines().collect();
    // Over a thousand rows, each its own event, then one with a bad date.
    let mut file = String::new();
    for i in 0..1200 {
        let row = rows[i % rows.len()];
        let (_, rest) = row.split_once('\t').expect("columns");
        file.push_str(&format!("{}\t{rest}\n", 100_000 + i));
    }
    let (_, rest) = rows[0].split_once('\t').expect("columns");
    let bad = rest.replacen("20210128\t", "20210230\t", 1);
    file.push_str(&format!("99\t{bad}\n"));
    file.push_str(&format!("98\t{rest}\n"));
    let path = dir.path().join("many.export.CSV");
    std::fs::write(&path, file).expect("write");
    let a = cli(&ledger)
        .args(["import", "--format", "gdelt"])
        .arg(data("events.tsv"))
        .arg(&path)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(
        err.contains(
            "many.export.CSV: line 1201: field `SQLDATE`: \"20210230\" is not a real date"
        ),
        "{err}"
    );
    assert_eq!(out_of(&cli(&ledger).arg("head").assert().success()), before);
}
