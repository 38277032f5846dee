//! Property tests: the codec round-trips every event, and the parsers of untrusted
//! input (stored bytes, JSON lines) never panic, whatever they are given.

use demarche::codec;
use demarche::event::{
    Event, Proposition, QuoteKind, SaidOn, Source, Speaker, Statement, TimeOfDay,
};
use demarche::json::{self, parse_event};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9«»é][a-zA-Z0-9 ,.'«»é-]{0,39}"
}

fn date() -> impl Strategy<Value = jiff::civil::Date> {
    (1i16..=9999, 1i8..=12, 1i8..=28)
        .prop_map(|(y, m, d)| jiff::civil::Date::new(y, m, d).expect("valid"))
}

/// The fields of event format 2, each present or not.
type More = (
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<jiff::civil::Date>,
    Option<String>,
    usize,
    Option<String>,
    Vec<Source>,
);

fn more() -> impl Strategy<Value = More> {
    (
        prop::collection::vec("[A-Z]{3}", 0..3),
        prop::option::of("[A-Z]{3,6}"),
        prop::option::of(text()),
        prop::option::of(date()),
        prop::option::of(text()),
        0usize..3,
        prop::option::of("[a-z]{2,3}(-[A-Z][a-z]{3})?"),
        prop::collection::vec(
            (prop::option::of(text()), text(), prop::option::of(date())).prop_map(
                |(url, publisher, published_on)| Source {
                    url,
                    publisher: Some(publisher),
                    published_on,
                },
            ),
            0..3,
        ),
    )
}

/// A statement of either event format: half of them use fields of format 2.
fn statement() -> impl Strategy<Value = Statement> {
    (statement_v1(), prop::option::weighted(0.5, more())).prop_map(|(mut s, more)| {
        if let Some((joint, actor, condition, deadline, document, kind, language, sources)) = more {
            s.joint_with = joint;
            if let Some(sp) = &mut s.speaker {
                sp.actor = actor;
            }
            s.condition = condition;
            s.deadline = deadline;
            s.proposition.document = document;
            s.quote_kind = QuoteKind::ALL[kind];
            s.language = language;
            s.more_sources = sources;
        }
        s
    })
}

fn statement_v1() -> impl Strategy<Value = Statement> {
    (
        (1i16..=9999, 1i8..=12, 1i8..=28),
        prop::option::of((0u32..86_400, prop::option::of(-720i16..=840))),
        "[A-Z]{3}",
        prop::option::of((text(), prop::option::of(text()))),
        "[a-z-]{3,12}",
        prop::option::of(text()),
        (
            "[a-z-]{3,12}",
            prop::collection::vec("[A-Z]{3}", 0..4),
            prop::option::of("[A-Z]{3}"),
            prop::option::of("[a-z][a-z0-9-]{0,20}"),
        ),
        text(),
        (
            prop::option::of(text()),
            text(),
            prop::option::of((1i16..=9999, 1i8..=12, 1i8..=28)),
        ),
        prop::option::of((
            "[a-z][a-z0-9-]{0,7}",
            any::<u64>(),
            "[0-9]{2,4}",
            (any::<u32>(), any::<u32>()),
            (-100i32..=100, -100_000i32..=100_000),
        )),
    )
        .prop_map(
            |(
                d,
                t,
                party,
                speaker,
                stance,
                hedge,
                (predicate, subjects, location, qualifier),
                quote,
                (url, publisher, published),
                coded,
            )| {
                let date =
                    |(y, m, d): (i16, i8, i8)| jiff::civil::Date::new(y, m, d).expect("valid");
                Statement {
                    said_on: SaidOn {
                        date: date(d),
                        time: t.map(|(seconds, offset_minutes)| TimeOfDay {
                            seconds,
                            offset_minutes,
                        }),
                    },
                    party,
                    joint_with: Vec::new(),
                    speaker: speaker.map(|(name, role)| Speaker {
                        name,
                        role,
                        actor: None,
                    }),
                    stance,
                    hedge,
                    condition: None,
                    deadline: None,
                    proposition: Proposition {
                        predicate,
                        subjects,
                        location,
                        qualifier,
                        document: None,
                    },
                    quote,
                    quote_kind: QuoteKind::Verbatim,
                    language: None,
                    source: Source {
                        url,
                        publisher: Some(publisher),
                        published_on: published.map(date),
                    },
                    more_sources: Vec::new(),
                    coded: coded.map(
                        |(coder, event_id, cameo, (mentions, sources), (goldstein, tone))| {
                            Box::new(demarche::event::Coded {
                                coder,
                                event_id,
                                cameo,
                                mentions,
                                sources,
                                goldstein_tenths: goldstein,
                                tone_thousandths: tone,
                            })
                        },
                    ),
                }
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        statement().prop_map(Event::Statement),
        (1u64..1_000_000, statement(), prop::option::of(text())).prop_map(
            |(of, statement, reason)| {
                Event::Correction(demarche::event::Correction {
                    of,
                    statement,
                    reason,
                })
            }
        ),
        (1u64..1_000_000, text())
            .prop_map(|(of, reason)| Event::Retraction(demarche::event::Retraction { of, reason })),
        (
            "[A-Z][A-Z0-9-]{1,10}",
            text(),
            prop::collection::vec(text(), 0..4),
            prop::option::of("[A-Z]{3}")
        )
            .prop_map(|(id, name, aliases, parent)| {
                Event::Actor(demarche::event::ActorDef {
                    id,
                    name,
                    kind: "group".into(),
                    aliases,
                    parent,
                    cameo: None,
                })
            }),
        ("[A-Z]{3}", text())
            .prop_map(|(actor, alias)| Event::Alias(demarche::event::AliasDef { actor, alias })),
        (
            "[A-Z]{3,8}",
            "[A-Z]{3}",
            text(),
            date(),
            prop::option::of(date())
        )
            .prop_map(|(actor, of, role, from, until)| {
                Event::Role(demarche::event::RoleDef {
                    actor,
                    of,
                    role,
                    from,
                    until: until.filter(|u| *u >= from),
                })
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_of_encode_is_the_event(e in event()) {
        let bytes = codec::encode_event(&e).expect("encodes");
        prop_assert_eq!(codec::decode_event(&bytes).expect("decodes"), e.clone());
        // One stored form per event: format 3 exactly when a statement has a
        // coder's provenance, else format 2 exactly when the event needs it.
        prop_assert_eq!(codec::encoding_of(&bytes), e.format());
        // And through the JSON line format.
        let line = serde_json::Value::Object(json::view::event_json(&e)).to_string();
        prop_assert_eq!(parse_event(&line).expect("its own JSON parses"), e);
    }

    #[test]
    fn stored_byte_readers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = codec::read_record(&bytes);
        let _ = codec::decode_event(&bytes);
        let _ = codec::open_block(&bytes);
        let _ = codec::decode_head(&bytes);
        let _ = codec::decode_index(&bytes);
        for r in codec::records(&bytes) {
            let _ = r;
        }
    }

    #[test]
    fn a_damaged_record_is_refused_or_read_but_never_panics(e in event(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let payload = codec::encode_event(&e).expect("encodes");
        let mut rec = Vec::new();
        codec::write_record(&codec::RecordHeader::for_payload(1, 0, demarche::event::Hash::ZERO, &payload), &payload, &mut rec);
        let i = at.index(rec.len());
        rec[i] = byte;
        if let Ok((r, _)) = codec::read_record(&rec) {
            let _ = codec::decode_event(r.body);
        }
        let mut block = codec::seal_block(&rec);
        let j = at.index(block.len());
        block[j] ^= 0x5a;
        let _ = codec::open_block(&block);
    }

    #[test]
    fn json_lines_never_panic(line in "\\PC{0,300}") {
        let _ = parse_event(&line);
    }

    #[test]
    fn damaged_json_lines_never_panic(cut in 0usize..400, insert in "\\PC{0,4}") {
        let good = demarche::example::JSONL.lines().nth(2).expect("line 3");
        let cut = cut.min(good.len());
        let cut = (0..=cut).rev().find(|i| good.is_char_boundary(*i)).unwrap_or(0);
        let damaged = format!("{}{}{}", &good[..cut], insert, &good[cut..]);
        let _ = parse_event(&damaged);
    }
}
