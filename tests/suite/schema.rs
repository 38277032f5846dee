//! The data files in `schema/` and `data/` agree with each other and with the code.

use demarche::json::parse_event;
use demarche::vocab::{Actors, Vocabulary};
use serde_json::Value;

fn schema() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/event.schema.json"
    ))
    .expect("schema");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn ids(v: &Value) -> std::collections::BTreeSet<String> {
    v["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

#[test]
fn the_schema_lists_exactly_the_vocabulary() {
    let s = schema();
    let vocab = Vocabulary::builtin();
    let stances: std::collections::BTreeSet<String> =
        vocab.stances.iter().map(|x| x.id.clone()).collect();
    assert_eq!(ids(&s["$defs"]["stance"]), stances);
    let predicates: std::collections::BTreeSet<String> =
        vocab.predicates.iter().map(|x| x.id.clone()).collect();
    assert_eq!(
        ids(&s["$defs"]["proposition"]["properties"]["predicate"]),
        predicates
    );
}

#[test]
fn every_qualifier_narrows_known_predicates_and_every_name_means_one_thing() {
    let vocab = Vocabulary::builtin();
    assert!(vocab.qualifiers.len() >= 10);
    let mut ids = std::collections::BTreeSet::new();
    for q in &vocab.qualifiers {
        assert!(ids.insert(q.id.as_str()), "{} twice", q.id);
        assert!(!q.predicates.is_empty(), "{}", q.id);
        for p in &q.predicates {
            assert!(vocab.predicate(p).is_some(), "{}: {p}", q.id);
        }
    }
    // Within a predicate, a name (id or alias) resolves to one qualifier, and
    // every name has the form the line format takes.
    for p in &vocab.predicates {
        let mut names = std::collections::BTreeMap::new();
        for q in vocab
            .qualifiers
            .iter()
            .filter(|q| q.predicates.contains(&p.id))
        {
            for name in std::iter::once(&q.id).chain(&q.aliases) {
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "{name}"
                );
                let before = names.insert(name.clone(), q.id.as_str());
                assert!(before.is_none(), "{}: {name} names two qualifiers", p.id);
                assert_eq!(vocab.resolve_qualifier(&p.id, name), Ok(q.id.as_str()));
            }
        }
    }
}

#[test]
fn the_schema_examples_are_events_the_parser_accepts() {
    let s = schema();
    let examples = s["examples"].as_array().expect("examples");
    assert!(examples.len() >= 3);
    for e in examples {
        parse_event(&e.to_string()).unwrap_or_else(|err| panic!("{e}: {err}"));
    }
}

#[test]
fn the_worked_example_uses_canonical_ids_only() {
    let actors = Actors::starter();
    for (n, line) in demarche::example::JSONL.lines().enumerate() {
        let e = parse_event(line).unwrap_or_else(|err| panic!("line {}: {err}", n + 1));
        let s = e.statement().expect("statements only");
        for name in std::iter::once(&s.party)
            .chain(&s.proposition.subjects)
            .chain(&s.proposition.location)
        {
            assert_eq!(
                actors.resolve(name),
                Ok(name.as_str()),
                "line {}: {name} is not a canonical id",
                n + 1
            );
        }
    }
}

/// The event and export schemas, compiled by a JSON Schema (2020-12) validator.
struct Validators {
    schemas: boon::Schemas,
    event: boon::SchemaIndex,
    export: boon::SchemaIndex,
}

fn validators() -> Validators {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/");
    let mut compiler = boon::Compiler::new();
    for name in ["event.schema.json", "export.schema.json"] {
        let text = std::fs::read_to_string(format!("{dir}{name}")).expect("schema");
        compiler
            .add_resource(
                &format!("https://demarche.invalid/schema/{name}"),
                serde_json::from_str(&text).expect("schema is JSON"),
            )
            .expect("resource");
    }
    let mut schemas = boon::Schemas::new();
    let event = compiler
        .compile(
            "https://demarche.invalid/schema/event.schema.json",
            &mut schemas,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    let export = compiler
        .compile(
            "https://demarche.invalid/schema/export.schema.json",
            &mut schemas,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
    Validators {
        schemas,
        event,
        export,
    }
}

fn worked_example_export() -> Vec<Value> {
    let mut ledger = demarche::ledger::Ledger::in_memory();
    ledger.set_clock(|| 1_795_953_600_123_456);
    demarche::example::record(&mut ledger).expect("record");
    let extra = [
        r#"{"type":"actor","id":"SADAT","name":"SADAT International Defense Consultancy","kind":"company","aliases":["SADAT Inc"],"parent":"TUR","cameo":"TURBUS"}"#,
        r#"{"type":"alias","actor":"SADAT","alias":"SADAT A.S."}"#,
        r#"{"type":"statement","said_on":"2021-02-03T14:05:09+02:00","party":"FRA","speaker":{"name":"A Spokesperson","role":"spokesperson"},"stance":"calls-for","hedge":"if possible","proposition":{"predicate":"arms-embargo","subjects":[],"location":"LBY","qualifier":"naval"},"quote":"respect the embargo","source":{"url":"https://example.org/fr","publisher":"Example Wire","published_on":"2021-02-03"}}"#,
        r#"{"type":"correction","of":3,"statement":{"said_on":"2021-01-28","party":"USA","stance":"calls-for","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY"},"quote":"we call on Turkey and Russia","source":{"publisher":"news report"}},"reason":"both subjects"}"#,
        r#"{"type":"retraction","of":5,"reason":"misattributed"}"#,
    ];
    ledger
        .append_batch(extra.iter().map(|l| parse_event(l)))
        .expect("extra events");
    ledger
        .iter(1, u64::MAX)
        .expect("iter")
        .map(|r| {
            serde_json::to_value(demarche::export::export_line(&r.expect("record"))).expect("JSON")
        })
        .collect()
}

#[test]
fn a_json_schema_validator_accepts_the_examples_and_the_worked_example() {
    let v = validators();
    let s = schema();
    let lines = demarche::example::JSONL
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"));
    for e in s["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .cloned()
        .chain(lines)
    {
        if let Err(err) = v.schemas.validate(&e, v.event) {
            panic!("{e}: {err:#}");
        }
    }
    let export = worked_example_export();
    assert_eq!(export.len(), 15);
    for line in &export {
        if let Err(err) = v.schemas.validate(line, v.export) {
            panic!("{line}: {err:#}");
        }
        // An export line is not an event line, and its event part is one.
        assert!(v.schemas.validate(line, v.event).is_err());
        let mut event = line.clone();
        for f in ["seq", "recorded_at", "prev", "hash", "digest"] {
            event.as_object_mut().expect("object").remove(f);
        }
        if let Err(err) = v.schemas.validate(&event, v.event) {
            panic!("{event}: {err:#}");
        }
    }
}

/// A named change to a JSON line.
type Edit = (&'static str, fn(&mut Value));

#[test]
fn the_schemas_refuse_what_demarche_refuses() {
    let v = validators();
    let good: Value =
        serde_json::from_str(demarche::example::JSONL.lines().next().expect("line")).expect("JSON");
    let edits: Vec<Edit> = vec![
        ("an unknown field", |e| e["mood"] = "grim".into()),
        ("a correction's field on a statement", |e| {
            e["of"] = 3.into()
        }),
        ("an unknown stance", |e| e["stance"] = "insists".into()),
        ("no quote", |e| {
            e.as_object_mut().expect("object").remove("quote");
        }),
        ("an unknown nested field", |e| {
            e["proposition"]["colour"] = "red".into()
        }),
        ("a bad date", |e| e["said_on"] = "29/01/2021".into()),
        ("an empty party", |e| e["party"] = "".into()),
        // Fields of event format 2.
        ("an unknown quote kind", |e| e["quote_kind"] = "gist".into()),
        ("a language that is no tag", |e| {
            e["language"] = "Russian language".into()
        }),
        ("both source and sources", |e| {
            e["sources"] = serde_json::json!([{"publisher": "AFP"}])
        }),
        ("an empty list of sources", |e| {
            let o = e.as_object_mut().expect("object");
            o.remove("source");
            o.insert("sources".into(), serde_json::json!([]));
        }),
        ("a joint party named twice", |e| {
            e["joint_with"] = serde_json::json!(["FRA", "FRA"])
        }),
        ("a deadline that is no date", |e| {
            e["deadline"] = "next week".into()
        }),
        ("a speaker with neither name nor actor", |e| {
            e["speaker"] = serde_json::json!({"role": "spokesperson"})
        }),
    ];
    for (name, edit) in edits {
        let mut e = good.clone();
        edit(&mut e);
        assert!(
            v.schemas.validate(&e, v.event).is_err(),
            "schema accepts {name}"
        );
        let refused = match parse_event(&e.to_string()) {
            Err(_) => true,
            Ok(event) => demarche::ledger::Ledger::in_memory().append(event).is_err(),
        };
        assert!(refused, "demarche accepts {name}");
    }
    let line = worked_example_export().remove(0);
    let export_edits: Vec<Edit> = vec![
        ("no hash", |e| {
            e.as_object_mut().expect("object").remove("hash");
        }),
        ("a short hash", |e| e["hash"] = "abc".into()),
        ("seq 0", |e| e["seq"] = 0.into()),
        ("an unknown field", |e| e["note"] = "x".into()),
        ("a time with an offset", |e| {
            e["recorded_at"] = "2021-01-29T12:00:00+01:00".into()
        }),
    ];
    for (name, edit) in export_edits {
        let mut e = line.clone();
        edit(&mut e);
        assert!(
            v.schemas.validate(&e, v.export).is_err(),
            "schema accepts {name}"
        );
        assert!(
            demarche::export::parse_export_line(&e.to_string()).is_err() || name.contains("offset"),
            "parser accepts {name}"
        );
    }
}
