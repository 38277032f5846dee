//! GDELT rows read, mapped and refused, field by field.

use super::*;

#[test]
fn the_cameo_table_is_valid_and_its_check_can_fail() {
    let t = CameoTable::builtin();
    assert_eq!(t.check(Vocabulary::builtin()), Ok(()));
    assert_eq!(t.cameo_version, "1.1b3");
    let entry = |code: &str, stance: &str, predicate: &str| {
        format!(
            r#"{{"version":1,"cameo_version":"1.1b3","note":"n","roots":["02"],
            "roots_left_out":[{{"root":"04","label":"Consult","reason":"r"}}],"codes":[
            {{"code":"{code}","label":"l","stance":"{stance}","predicate":"{predicate}","reason":"r"}},
            {{"code":"0256","label":"l","stance":"calls-for","predicate":"ceasefire","reason":"r"}},
            {{"code":"021","label":"l","stance":null,"predicate":null,"reason":"r"}}]}}"#
        )
    };
    let check = |text: String| {
        CameoTable::parse(&text)
            .expect("parses")
            .check(Vocabulary::builtin())
    };
    assert_eq!(check(entry("026", "calls-for", "negotiations")), Ok(()));
    for (code, stance, predicate, problem) in [
        ("0256", "calls-for", "ceasefire", "listed twice"),
        ("1", "calls-for", "ceasefire", "not a CAMEO event code"),
        ("02561", "calls-for", "ceasefire", "not a CAMEO event code"),
        ("02a", "calls-for", "ceasefire", "not a CAMEO event code"),
        ("026", "calls_for", "ceasefire", "unknown stance"),
        ("026", "calls-for", "cease-fire", "unknown predicate"),
        ("042", "calls-for", "ceasefire", "under no listed root"),
    ] {
        let err = check(entry(code, stance, predicate)).unwrap_err();
        assert!(err.contains(problem), "{code} {stance} {predicate}: {err}");
    }
    let half = entry("026", "calls-for", "negotiations").replace(
        r#""code":"021","label":"l","stance":null"#,
        r#""code":"021","label":"l","stance":"calls-for""#,
    );
    let err = check(half).unwrap_err();
    assert!(err.contains("both a stance and a predicate"), "{err}");
}

#[test]
fn the_appeal_and_demand_for_de_escalation_are_ceasefire() {
    let t = CameoTable::builtin();
    let pair = |code: &str| t.get(code).map(|m| m.pair());
    assert_eq!(pair("0256"), Some(Some(("calls-for", "ceasefire"))));
    assert_eq!(pair("1056"), Some(Some(("demands", "ceasefire"))));
    assert_eq!(pair("106"), Some(Some(("demands", "negotiations"))));
    assert_eq!(pair("016"), Some(Some(("denies", "unspecified"))));
    assert_eq!(pair("111"), Some(Some(("condemns", "unspecified"))));
    assert_eq!(pair("054"), Some(Some(("recognises", "recognition"))));
    assert_eq!(pair("1312"), Some(Some(("threatens", "sanctions"))));
    assert_eq!(pair("166"), Some(Some(("announces", "expulsion"))));
    // Left out, with a reason; and a root left out as a whole.
    assert_eq!(pair("011"), Some(None));
    assert_eq!(pair("042"), None);
    assert!(t.root_left_out("04").is_some_and(|r| !r.reason.is_empty()));
    assert!(t.root_left_out("11").is_none());
    // The vocabulary's own codes under the roots of things said all have an
    // entry with the same label.
    for (code, label) in &Vocabulary::builtin().cameo_labels {
        if t.is_listed_root(&code[..2]) {
            assert_eq!(t.get(code).map(|m| m.label.as_str()), Some(label.as_str()));
        }
    }
}

#[test]
fn every_code_of_the_roots_of_things_said_is_listed() {
    let t = CameoTable::builtin();
    assert_eq!(
        t.roots,
        ["01", "02", "03", "05", "10", "11", "12", "13", "16"]
    );
    // The CAMEO 1.1b3 codes of two roots, as the codebook lists them.
    let appeals = "020 021 0211 0212 0213 0214 022 023 0231 0232 0233 0234 024 0241 0242 \
                   0243 0244 025 0251 0252 0253 0254 0255 0256 026 027 028";
    let reductions = "160 161 162 1621 1622 1623 163 164 165 166 1661 1662 1663";
    for code in appeals
        .split_whitespace()
        .chain(reductions.split_whitespace())
    {
        let m = t.get(code).unwrap_or_else(|| panic!("{code} is listed"));
        assert!(m.pair().is_some(), "{code} makes a statement");
    }
    let left_out: Vec<&str> = t
        .codes
        .iter()
        .filter(|m| m.pair().is_none())
        .map(|m| m.code.as_str())
        .collect();
    assert_eq!(left_out, ["011", "014", "017"]);
    // Every root is either listed or left out.
    for root in (1..=20).map(|r| format!("{r:02}")) {
        assert!(
            t.is_listed_root(&root) != t.root_left_out(&root).is_some(),
            "{root}"
        );
    }
}

#[test]
fn the_fips_table_names_starter_states_once() {
    let actors = Actors::starter();
    let t = FipsTable::builtin();
    let mut seen = HashSet::new();
    for c in &t.countries {
        assert!(
            c.fips.len() == 2 && c.fips.bytes().all(|b| b.is_ascii_uppercase()),
            "{}",
            c.fips
        );
        assert!(seen.insert(c.fips.as_str()), "{} twice", c.fips);
        let a = actors.get(&c.actor).expect("a starter actor");
        assert_eq!(a.def.kind, "state", "{}", c.actor);
        assert_eq!(a.def.name, c.name, "{}", c.fips);
    }
    // Every starter state has a code.
    for a in actors.iter().filter(|a| a.def.kind == "state") {
        assert!(
            t.countries.iter().any(|c| c.actor == a.def.id),
            "{}",
            a.def.id
        );
    }
    // FIPS, not ISO: GM is Germany, AU Austria, AS Australia.
    assert_eq!(t.get("GM"), Some("DEU"));
    assert_eq!(t.get("AU"), Some("AUT"));
    assert_eq!(t.get("AS"), Some("AUS"));
    assert_eq!(t.get("LY"), Some("LBY"));
    assert_eq!(t.get("OS"), None);
}

#[test]
fn a_party_is_a_state_with_its_government_roles_or_an_organisation_of_states() {
    let a = ActorCodes::starter();
    for (code, id) in [
        ("IGOUNO", "UN"),
        ("IGOEUREEC", "EU"),
        ("USA", "USA"),
        ("USAGOV", "USA"),
        ("ARMJUD", "ARM"),
        ("ARMLEG", "ARM"),
        ("GBRSPY", "GBR"),
        ("RUSMILGOV", "RUS"),
        ("TMPGOV", "TLS"),
    ] {
        assert_eq!(a.party(code), Ok(id), "{code}");
    }
    for (code, skip) in [
        ("RUSOPP", Skip::NonStateActor("RUSOPP".into())),
        ("USAMED", Skip::NonStateActor("USAMED".into())),
        ("NORBUS", Skip::NonStateActor("NORBUS".into())),
        ("USAGO", Skip::NonStateActor("USAGO".into())),
        ("CVL", Skip::NonStateActor("CVL".into())),
        ("GOV", Skip::NonStateActor("GOV".into())),
        ("XYZGOV", Skip::NonStateActor("XYZGOV".into())),
        ("AFR", Skip::RegionActor("AFR".into())),
        ("EURGOV", Skip::RegionActor("EURGOV".into())),
        ("IGOXYZ", Skip::UnknownActor("IGOXYZ".into())),
        // An organisation the registry lacks is not the one it belongs to.
        ("IGOUNODEVWBK", Skip::UnknownActor("IGOUNODEVWBK".into())),
        ("", Skip::NoActor1),
    ] {
        assert_eq!(a.party(code), Err(skip), "{code}");
    }
    assert_eq!(a.known_prefix("IGOUNODEVWBK"), Some("UN"));
    assert_eq!(a.known_prefix("IGOUNO"), None);
    // A state the registry lacks is a party still, reported by its code.
    let bare = ActorCodes::new(&Actors::default());
    assert_eq!(bare.party("ALBGOV"), Err(Skip::UnknownActor("ALB".into())));
}

#[test]
fn a_code_two_actors_share_maps_to_neither() {
    let mut actors = Actors::starter();
    actors
        .add(
            crate::event::ActorDef {
                id: "UNSC-X".into(),
                name: "Security Council, coded as CAMEO does".into(),
                kind: "body".into(),
                aliases: vec![],
                parent: Some("UN".into()),
                cameo: Some("IGOUNO".into()),
            },
            Some(1),
        )
        .expect("adds");
    let a = ActorCodes::new(&actors);
    assert_eq!(
        a.party("IGOUNO"),
        Err(Skip::AmbiguousActor("IGOUNO".into()))
    );
    assert_eq!(a.party("USAGOV"), Ok("USA"));
}

#[test]
fn locations_need_a_known_country() {
    let a = ActorCodes::starter();
    assert_eq!(a.location("LY"), Some("LBY"));
    assert_eq!(a.location(""), None);
    assert_eq!(a.location("VI"), None);
    let empty = ActorCodes::new(&Actors::default());
    assert_eq!(empty.location("LY"), None);
}

#[test]
fn skips_are_tallied_by_reason_and_kind() {
    let mut s = Skipped::default();
    for skip in [
        Skip::NoActor1,
        Skip::UnmappedCode("042".into()),
        Skip::NoActor1,
        Skip::UnmappedCode("043".into()),
        Skip::UnmappedCode("042".into()),
        Skip::NoActor1,
    ] {
        s.add(&skip);
    }
    assert_eq!(s.total(), 6);
    assert_eq!(s.count(&Skip::UnmappedCode("042".into())), 2);
    assert_eq!(s.count(&Skip::NoActor1), 3);
    assert_eq!(
        s.by_kind().into_iter().collect::<Vec<_>>(),
        vec![(SkipKind::UnmappedCode, 3), (SkipKind::NoActor1, 3)]
    );
    assert_eq!(s.to_string(), "3 unmapped CAMEO code\n3 no Actor1");
    assert_eq!(
        Skip::NoPredicate("011".into()).to_string(),
        "CAMEO code 011 (Decline comment) is left out: declining to comment takes no stance"
    );
    assert!(Skip::RootLeftOut("04".into())
        .to_string()
        .starts_with("CAMEO root 04 (Consult) is left out: "));
}

#[test]
fn the_counting_reader_tells_a_final_newline() {
    for (input, ended) in [
        ("a\tb\n", true),
        ("a\tb\r\n", true),
        ("a\tb", false),
        ("a\tb\r", false),
    ] {
        let mut r = Counting {
            inner: input.as_bytes(),
            consumed: 0,
        };
        let mut buf = Vec::new();
        let read = read_line_bounded(&mut r, &mut buf, 100).expect("reads");
        assert_eq!(read, Some(Ok(())));
        assert_eq!(r.consumed > buf.len() as u64, ended, "{input:?}");
    }
}

#[test]
fn goldstein_and_tone_round_to_fixed_point_without_floats() {
    use crate::event::{fixed, round_fixed};
    for (text, places, want) in [
        ("-3.21428571428571", 3, Some(-3214)),
        ("3.0", 1, Some(30)),
        ("-10", 1, Some(-100)),
        ("0.0005", 3, Some(1)),
        ("-0.0005", 3, Some(-1)),
        ("-8.8326288e-05", 3, Some(0)),
        ("1.25E1", 1, Some(125)),
        ("2.5e-1", 1, Some(3)),
        ("", 1, None),
        ("1.2.3", 1, None),
        ("nan", 3, None),
        ("1e99", 3, None),
        ("3.", 1, Some(30)),
        ("-0", 1, Some(0)),
        ("123456789.25", 1, Some(1_234_567_893)),
        ("1234567890", 1, None),
        ("999999999", 3, None),
        (".5", 1, None),
        ("-", 1, None),
        ("--1", 1, None),
        ("+1", 1, None),
        ("1.-2", 1, None),
        ("1 ", 1, None),
        ("1x5", 1, None),
        ("1xe5", 1, None),
        ("1.5e", 1, None),
        ("1.5e+1", 1, Some(150)),
        ("-1.55E0", 1, Some(-16)),
        ("\u{e9}", 1, None),
        ("\u{e9}\u{e9}E-1", 3, None),
        ("1\u{e9}e1", 1, None),
    ] {
        assert_eq!(round_fixed(text, places), want, "{text}");
    }
    assert_eq!(fixed(-3214, 3), "-3.214");
    assert_eq!(fixed(-5, 1), "-0.5");
    assert_eq!(fixed(30, 1), "3.0");
}

#[test]
fn the_region_codes_are_in_order() {
    assert!(REGIONS.windows(2).all(|w| w[0] < w[1]));
    for r in REGIONS {
        assert_eq!(
            ActorCodes::starter().party(r),
            Err(Skip::RegionActor(r.to_string()))
        );
    }
}

#[test]
fn codes_are_found_by_digits_and_by_name_alike() {
    let t = CameoTable::builtin();
    for m in &t.codes {
        assert_eq!(t.get(&m.code), Some(m), "{}", m.code);
    }
    for code in [
        "", "0", "042", "0420", "99", "9999", "02a", "00256", "+25", "25 ",
    ] {
        assert_eq!(t.get(code), None, "{code:?}");
    }
    for root in t.roots.iter().map(String::as_str) {
        assert!(t.is_listed_root(root), "{root}");
    }
    for root in ["04", "4", "004", "", "0x", "20"] {
        assert!(!t.is_listed_root(root), "{root:?}");
    }
    // An unchecked table answers for codes that are not digits too.
    let odd = CameoTable::parse(
        r#"{"version":1,"cameo_version":"1.1b3","note":"n","roots":["02","x"],"roots_left_out":[],"codes":[
        {"code":"02a","label":"l","stance":null,"predicate":null,"reason":"r"},
        {"code":"025","label":"first","stance":null,"predicate":null,"reason":"r"},
        {"code":"025","label":"second","stance":null,"predicate":null,"reason":"r"}]}"#,
    )
    .expect("parses");
    assert_eq!(odd.get("02a").map(|m| m.code.as_str()), Some("02a"));
    assert_eq!(odd.get("025").map(|m| m.label.as_str()), Some("second"));
    assert!(odd.is_listed_root("x") && odd.is_listed_root("02"));
}

const EVENTS: &str = include_str!("../../tests/data/gdelt/events.tsv");

/// What the reader must say of one line standing alone (line 1): a row, a
/// blank line (`None`), or the message of its error.
fn reference(line: &str) -> Option<Result<Row, String>> {
    if line.bytes().all(|b| b == b' ') {
        return None;
    }
    let cols: Vec<&str> = line.split('\t').collect();
    Some(
        Fields::parse(&cols)
            .map(|f| {
                let actors = ActorCodes::starter();
                let b = f.event_code.as_bytes();
                let root = [b[0], b[1]];
                let result = event_from_row(&f, &actors);
                Row {
                    line: 1,
                    event_id: f.event_id,
                    root,
                    eligible: is_eligible(root, &f, &result, &actors),
                    result,
                }
            })
            .map_err(|e| format!("line 1: {e}")),
    )
}

fn read_one(bytes: &[u8], capacity: usize) -> Vec<Result<Row, String>> {
    let reader = io::BufReader::with_capacity(capacity, bytes);
    read_rows(reader, ActorCodes::starter())
        .map(|r| {
            r.map_err(|e| match e {
                LineError::Input { line, error } => format!("line {line}: {error}"),
                LineError::Io { line, error } => format!("line {line}: {error}"),
            })
        })
        .collect()
}

#[test]
fn the_reader_says_of_each_line_what_its_columns_say() {
    let first = EVENTS.lines().next().expect("a row");
    let cols: Vec<&str> = first.split('\t').collect();
    let mut lines: Vec<String> = EVENTS.lines().map(str::to_string).collect();
    lines.extend(["".into(), "   ".into(), "\t".into(), " \t ".into()]);
    // Each column emptied, doubled, given a tab more or lost.
    for i in 0..COLUMNS {
        let mut c: Vec<String> = cols.iter().map(|s| s.to_string()).collect();
        c[i] = String::new();
        lines.push(c.join("\t"));
        c[i] = format!("{0}{0}", cols[i]);
        lines.push(c.join("\t"));
        c[i] = format!("{}\t", cols[i]);
        lines.push(c.join("\t"));
        c.remove(i);
        lines.push(c.join("\t"));
    }
    for line in &lines {
        let want: Vec<Result<Row, String>> = reference(line).into_iter().collect();
        for capacity in [8, 100, 1 << 16] {
            for ending in ["\n", "\r\n"] {
                let got = read_one(format!("{line}{ending}").as_bytes(), capacity);
                assert_eq!(got, want, "{line:?} {capacity} {ending:?}");
            }
        }
    }
}

#[test]
fn a_file_reads_alike_whatever_its_buffer() {
    let whole = read_one(EVENTS.as_bytes(), 1 << 16);
    assert_eq!(whole.len(), EVENTS.lines().count());
    for capacity in [1, 7, 64, 333, 1000, 4096] {
        assert_eq!(read_one(EVENTS.as_bytes(), capacity), whole, "{capacity}");
    }
}

#[test]
fn a_bad_byte_in_a_column_never_read_still_refuses_the_row() {
    let first = EVENTS.lines().next().expect("a row");
    let mut bytes = first.as_bytes().to_vec();
    // Actor1Name (column 7, 1-based) is not read: a corrupt file is refused
    // all the same, at the byte at fault.
    let at = first.match_indices('\t').nth(5).expect("6 tabs").0 + 1;
    bytes.insert(at, 0xff);
    bytes.push(b'\n');
    assert_eq!(
        read_one(&bytes, 1 << 16),
        vec![Err(format!("line 1: not valid UTF-8 (byte {})", at + 1))]
    );
}

#[test]
fn a_line_over_the_limit_is_refused_inside_the_buffer_and_across_it() {
    let first = EVENTS.lines().next().expect("a row");
    let long = format!("{first}{}\n{first}\n", "x".repeat(MAX_LINE));
    let len = first.len() + MAX_LINE;
    for capacity in [1 << 16, 1 << 18] {
        assert_eq!(
            read_one(long.as_bytes(), capacity),
            vec![Err(format!(
                "line 1: line is {len} bytes long; the limit is {MAX_LINE}"
            ))],
            "{capacity}"
        );
    }
    // A line of exactly the limit is read (and found to have too many bytes in
    // its last column, which is the URL: too long for a statement).
    let url_len = MAX_LINE - first.len() + first.rsplit('\t').next().expect("url").len();
    let exact = format!("{first}{}\n", "x".repeat(MAX_LINE - first.len()));
    for capacity in [1 << 16, 1 << 18] {
        let rows = read_one(exact.as_bytes(), capacity);
        assert_eq!(rows.len(), 1);
        let row = rows[0].as_ref().expect("a row");
        assert_eq!(row.result, Err(Skip::UrlTooLong(url_len)), "{capacity}");
    }
}
