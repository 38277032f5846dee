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
