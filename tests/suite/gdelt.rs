//! GDELT 2.0 export import: the exact statements made from rows written for
//! these tests (`tests/data/gdelt/`), the skip reasons and counts, the errors on
//! malformed files, the mapping table file, and (when it is present) the real
//! 300-row sample in `/work/shared/data`.

use demarche::event::{Event, Proposition, SaidOn, Source, Statement};
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

fn event_at(rows: &[Row], line: usize) -> &Event {
    let row = &rows[line - 1];
    assert_eq!(row.line, line);
    row.result
        .as_ref()
        .unwrap_or_else(|s| panic!("line {line} skipped: {s}"))
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
        event_at(&rows, 1),
        &statement(
            ("2021-01-28", "USA", "calls-for", "ceasefire"),
            "TUR",
            Some("LBY"),
            "GDELT event 961204311, CAMEO 0256 (appeal for de-escalation of military engagement); machine-coded, no quotation",
            "us-urges-turkey-de-escalate-libya",
        )
    );
    assert_eq!(
        event_at(&rows, 2),
        &statement(
            ("2021-01-28", "UN", "demands", "ceasefire"),
            "RUS",
            Some("LBY"),
            "GDELT event 961204312, CAMEO 1056 (demand de-escalation of military engagement); machine-coded, no quotation",
            "un-demands-russia-de-escalate",
        )
    );
    // The location is where the action was reported: Geneva, for talks on Libya.
    assert_eq!(
        event_at(&rows, 8),
        &statement(
            ("2021-01-28", "UN", "calls-for", "negotiations"),
            "LBY",
            Some("CHE"),
            "GDELT event 961204318, CAMEO 026 (appeal to others to meet or negotiate); machine-coded, no quotation",
            "un-calls-libyan-talks-geneva",
        )
    );
    assert_eq!(
        event_at(&rows, 11),
        &statement(
            ("2021-01-26", "SYR", "accuses", "intervention"),
            "TUR",
            Some("SYR"),
            "GDELT event 961204321, CAMEO 1123 (accuse of aggression); machine-coded, no quotation",
            "damascus-accuses-ankara-aggression",
        )
    );
    // No action location: no location.
    assert_eq!(
        event_at(&rows, 15),
        &statement(
            ("2021-01-28", "GBR", "calls-for", "ceasefire"),
            "IRN",
            None,
            "GDELT event 961204325, CAMEO 0256 (appeal for de-escalation of military engagement); machine-coded, no quotation",
            "london-urges-tehran-restraint",
        )
    );
    // A whole code (IGOEUREEC) before the country; FIPS AJ is Azerbaijan.
    assert_eq!(
        event_at(&rows, 27),
        &statement(
            ("2021-01-27", "EU", "calls-for", "ceasefire"),
            "ARM",
            Some("AZE"),
            "GDELT event 961204337, CAMEO 0256 (appeal for de-escalation of military engagement); machine-coded, no quotation",
            "eu-urges-armenia-restraint",
        )
    );
    // said_on is SQLDATE, a month before DATEADDED here.
    assert_eq!(
        event_at(&rows, 28),
        &statement(
            ("2020-12-29", "UN", "demands", "ceasefire"),
            "ETH",
            Some("ETH"),
            "GDELT event 961204338, CAMEO 1056 (demand de-escalation of military engagement); machine-coded, no quotation",
            "un-demands-ethiopia-de-escalate",
        )
    );
    let summary = |line: usize| {
        let s = event_at(&rows, line).statement().expect("a statement");
        (
            s.party.as_str(),
            s.stance.as_str(),
            s.proposition.predicate.as_str(),
            s.proposition.subjects.join(","),
            s.proposition.location.as_deref(),
        )
    };
    assert_eq!(
        summary(9),
        ("RUS", "rejects", "negotiations", "UKR".into(), Some("UKR"))
    );
    assert_eq!(
        summary(10),
        ("EGY", "demands", "negotiations", "SYR".into(), Some("EGY"))
    );
    assert_eq!(
        summary(12),
        ("ISR", "rejects", "ceasefire", "PSE".into(), Some("PSE"))
    );
    assert_eq!(
        summary(13),
        (
            "SDN",
            "calls-for",
            "humanitarian-access",
            "UN".into(),
            Some("SDN")
        )
    );
    assert_eq!(
        summary(14),
        ("SOM", "demands", "intervention", "AU".into(), Some("SOM"))
    );
    assert_eq!(
        summary(29),
        ("DEU", "calls-for", "ceasefire", "RUS".into(), Some("DEU"))
    );
    assert_eq!(
        summary(30),
        ("GBR", "demands", "ceasefire", "IRN".into(), None)
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
        (3, Skip::NoPredicate(code("016"))),
        (4, Skip::NoPredicate(code("020"))),
        (5, Skip::NoPredicate(code("111"))),
        (6, Skip::NoPredicate(code("112"))),
        (7, Skip::NoPredicate(code("120"))),
        (16, Skip::NoActor1),
        (17, Skip::NoActor2),
        (18, Skip::UnmappedCode(code("042"))),
        (19, Skip::UnmappedCode(code("0214"))),
        (20, Skip::UnmappedCode(code("190"))),
        (21, Skip::NonStateActor(code("RUSOPP"))),
        (22, Skip::NonStateActor(code("USAMED"))),
        (23, Skip::UnknownActor(code("AFR"))),
        (24, Skip::UnknownActor(code("CVL"))),
        (25, Skip::SameActor(code("USA"))),
        (26, Skip::NoPredicate(code("036"))),
    ]
    .into_iter()
    .collect();
    assert_eq!(skips, expected);

    let mut tally = Skipped::default();
    for s in skips.values() {
        tally.add(s);
    }
    assert_eq!(tally.total(), 16);
    assert_eq!(rows.len() - tally.total(), 14, "statements");
    assert_eq!(
        tally.by_kind().into_iter().collect::<Vec<_>>(),
        vec![
            (SkipKind::UnmappedCode, 3),
            (SkipKind::NoPredicate, 6),
            (SkipKind::NoActor1, 1),
            (SkipKind::NoActor2, 1),
            (SkipKind::UnknownActor, 2),
            (SkipKind::NonStateActor, 2),
            (SkipKind::SameActor, 1),
        ]
    );
    assert_eq!(tally.count(&Skip::NoPredicate(code("111"))), 1);
    assert_eq!(
        tally.to_string(),
        "6 CAMEO code with no predicate\n3 unmapped CAMEO code\n2 unknown actor code\n2 non-state role\n1 no Actor1\n1 no Actor2\n1 same actor on both sides"
    );
    assert_eq!(
        skips[&21].to_string(),
        "actor code RUSOPP is a role that does not speak for its state"
    );
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
    assert_eq!(events.len(), 14);
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
    assert!(codes.len() >= 20);
    let mut seen = HashSet::new();
    let mut mapped = 0;
    for e in codes {
        let code = e["code"].as_str().expect("code");
        assert!(
            (2..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()),
            "{code}"
        );
        assert!(seen.insert(code), "{code} twice");
        let stance = e["stance"].as_str().expect("stance");
        assert!(vocab.stance(stance).is_some(), "{code}: {stance}");
        assert!(!e["label"].as_str().expect("label").is_empty(), "{code}");
        assert!(!e["reason"].as_str().expect("reason").is_empty(), "{code}");
        let predicate = match &e["predicate"] {
            serde_json::Value::Null => "*",
            p => {
                let p = p.as_str().expect("predicate");
                assert!(vocab.predicate(p).is_some(), "{code}: {p}");
                mapped += 1;
                p
            }
        };
        // The vocabulary's own code for the pair is in the same CAMEO root class
        // (01 statement, 02 appeal, 10 demand, 11 disapprove, 12 reject).
        let back = vocab.mapping(stance, predicate).expect("a vocabulary code");
        assert_eq!(back.cameo[..2], code[..2], "{code}: {stance} {predicate}");
    }
    assert!(mapped >= 10, "{mapped} mapped codes");
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
    assert_eq!(events.len(), 3);
    assert_eq!(
        tally.by_kind().into_iter().collect::<Vec<_>>(),
        vec![
            (SkipKind::UnmappedCode, 202),
            (SkipKind::NoPredicate, 93),
            (SkipKind::UnknownActor, 1),
            (SkipKind::SameActor, 1),
        ]
    );
    // Most rows have no Actor1, and most codes are actions, not statements.
    assert_eq!(tally.count(&Skip::UnmappedCode("042".into())), 29);
    // The one appeal for de-escalation is the Afghan government's to Afghanistan.
    let r232 = &rows[231];
    assert_eq!(r232.line, 232);
    assert_eq!(r232.result, Err(Skip::SameActor("AFG".into())));
    // The World Bank is coded under the UN (IGOUNODEVWBK): not the UN.
    assert_eq!(
        rows[280].result,
        Err(Skip::UnknownActor("IGOUNODEVWBK".into()))
    );
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
