//! GDELT rows read, mapped and refused, field by field.

use super::*;

#[test]
fn the_cameo_table_is_valid_and_its_check_can_fail() {
    let t = CameoTable::builtin();
    assert_eq!(t.check(Vocabulary::builtin()), Ok(()));
    assert_eq!(t.cameo_version, "1.1b3");
    let entry = |code: &str, stance: &str, predicate: &str| {
        format!(
            r#"{{"version":1,"cameo_version":"1.1b3","note":"n","codes":[
            {{"code":"{code}","label":"l","stance":"{stance}","predicate":"{predicate}","reason":"r"}},
            {{"code":"0256","label":"l","stance":"calls-for","predicate":null,"reason":"r"}}]}}"#
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
    ] {
        let err = check(entry(code, stance, predicate)).unwrap_err();
        assert!(err.contains(problem), "{code} {stance} {predicate}: {err}");
    }
}

#[test]
fn the_appeal_and_demand_for_de_escalation_are_ceasefire() {
    let t = CameoTable::builtin();
    let pair = |code: &str| {
        t.get(code)
            .map(|m| (m.stance.as_str(), m.predicate.as_deref()))
    };
    assert_eq!(pair("0256"), Some(("calls-for", Some("ceasefire"))));
    assert_eq!(pair("1056"), Some(("demands", Some("ceasefire"))));
    assert_eq!(pair("016"), Some(("denies", None)));
    assert_eq!(pair("111"), Some(("condemns", None)));
    assert_eq!(pair("042"), None);
    // The vocabulary's own codes all have an entry with the same label.
    for (code, label) in &Vocabulary::builtin().cameo_labels {
        assert_eq!(t.get(code).map(|m| m.label.as_str()), Some(label.as_str()));
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
fn actor_codes_try_the_whole_code_then_the_state() {
    let a = ActorCodes::starter();
    assert_eq!(a.resolve("IGOUNO", ""), Ok("UN"));
    assert_eq!(a.resolve("IGOEUREEC", "EUR"), Ok("EU"));
    assert_eq!(a.resolve("USA", "USA"), Ok("USA"));
    assert_eq!(a.resolve("USAGOV", "USA"), Ok("USA"));
    assert_eq!(a.resolve("RUSMILGOV", "RUS"), Ok("RUS"));
    assert_eq!(a.resolve("TMPGOV", "TMP"), Ok("TLS"));
    assert_eq!(
        a.resolve("RUSOPP", "RUS"),
        Err(Skip::NonStateActor("RUSOPP".into()))
    );
    assert_eq!(
        a.resolve("USAGO", "USA"),
        Err(Skip::NonStateActor("USAGO".into()))
    );
    // The country column must prefix the code.
    assert_eq!(a.resolve("GOV", ""), Err(Skip::UnknownActor("GOV".into())));
    assert_eq!(
        a.resolve("USAGOV", "RUS"),
        Err(Skip::UnknownActor("USAGOV".into()))
    );
    assert_eq!(
        a.resolve("XYZGOV", "XYZ"),
        Err(Skip::UnknownActor("XYZGOV".into()))
    );
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
        a.resolve("IGOUNO", ""),
        Err(Skip::AmbiguousActor("IGOUNO".into()))
    );
    assert_eq!(a.resolve("USAGOV", "USA"), Ok("USA"));
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
    assert_eq!(s.count(&Skip::NoActor2), 0);
    assert_eq!(
        s.by_kind().into_iter().collect::<Vec<_>>(),
        vec![(SkipKind::UnmappedCode, 3), (SkipKind::NoActor1, 3)]
    );
    assert_eq!(s.to_string(), "3 unmapped CAMEO code\n3 no Actor1");
    assert_eq!(
        Skip::NoPredicate("111".into()).to_string(),
        "CAMEO code 111 (Criticize or denounce) names no predicate"
    );
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
