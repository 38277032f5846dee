//! Events, records and positions written as JSON: what `append --json`,
//! `log --json`, `show --json`, `positions --json` and exports print. Each is
//! serialised field by field, in the documented order, without building a map
//! first (an export writes millions of them), from borrowed fields
//! (`event::EventRef`) that come from an owned event or straight from stored bytes.

use crate::dates::{format_recorded_at, format_said_on};
use crate::event::{
    fixed, CodedRef, Event, EventRef, Hash, QuoteKind, Recorded, Seq, SourceRef, StatementRef,
};
use crate::projection::{stance_kind, Position, PositionRef};
use crate::vocab::Vocabulary;
use rustc_hash::FxBuildHasher;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Serialises an optional entry only when it is there.
fn opt_entry<M: SerializeMap, T: Serialize + ?Sized>(
    m: &mut M,
    key: &str,
    v: Option<&T>,
) -> Result<(), M::Error> {
    match v {
        Some(v) => m.serialize_entry(key, v),
        None => Ok(()),
    }
}

/// A statement's entries: the one place that lays out a statement's JSON.
fn statement_entries<M: SerializeMap, S: Serialize>(
    s: &StatementRef<'_, S>,
    m: &mut M,
    with_type: bool,
) -> Result<(), M::Error> {
    if with_type {
        m.serialize_entry("type", "statement")?;
    }
    m.serialize_entry("said_on", &format_said_on(&s.said_on))?;
    m.serialize_entry("party", s.party)?;
    if !s.joint_with.is_empty() {
        m.serialize_entry("joint_with", s.joint_with)?;
    }
    if let Some((name, role, actor)) = s.speaker {
        m.serialize_entry("speaker", &SpeakerJson(name, role, actor))?;
    }
    m.serialize_entry("stance", s.stance)?;
    opt_entry(m, "hedge", s.hedge)?;
    opt_entry(m, "condition", s.condition)?;
    opt_entry(m, "deadline", s.deadline.map(|d| d.to_string()).as_ref())?;
    m.serialize_entry("proposition", &PropositionJson(s))?;
    m.serialize_entry("quote", s.quote)?;
    if s.quote_kind != QuoteKind::Verbatim {
        m.serialize_entry("quote_kind", s.quote_kind.as_str())?;
    }
    opt_entry(m, "language", s.language)?;
    if s.more_sources.is_empty() {
        m.serialize_entry("source", &SourceJson(&s.source))?;
    } else {
        let all: Vec<SourceJson<'_>> = std::iter::once(&s.source)
            .chain(&s.more_sources)
            .map(SourceJson)
            .collect();
        m.serialize_entry("sources", &all)?;
    }
    opt_entry(m, "coded", s.coded.as_ref().map(CodedJson).as_ref())
}

/// A machine-coded statement's provenance; the Goldstein scale and the tone as
/// decimal numbers, written from their fixed-point integers.
struct CodedJson<'a>(&'a CodedRef<'a>);

/// A fixed-point integer as a JSON number with its decimals (`-3.413`).
fn decimal(value: i32, places: u32) -> Value {
    fixed(value, places)
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

impl Serialize for CodedJson<'_> {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let c = self.0;
        let mut m = ser.serialize_map(Some(7))?;
        m.serialize_entry("coder", c.coder)?;
        m.serialize_entry("event_id", &c.event_id)?;
        m.serialize_entry("cameo", c.cameo)?;
        m.serialize_entry("mentions", &c.mentions)?;
        m.serialize_entry("sources", &c.sources)?;
        m.serialize_entry("goldstein", &decimal(c.goldstein_tenths, 1))?;
        m.serialize_entry("tone", &decimal(c.tone_thousandths, 3))?;
        m.end()
    }
}

/// A statement inside a correction: its fields without `type`.
struct StatementJson<'v, 'a, S>(&'v StatementRef<'a, S>);

impl<S: Serialize> Serialize for StatementJson<'_, '_, S> {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let mut m = ser.serialize_map(None)?;
        statement_entries(self.0, &mut m, false)?;
        m.end()
    }
}

struct SpeakerJson<'a>(&'a str, Option<&'a str>, Option<&'a str>);

impl Serialize for SpeakerJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("name", self.0)?;
        opt_entry(&mut m, "role", self.1)?;
        opt_entry(&mut m, "actor", self.2)?;
        m.end()
    }
}

struct PropositionJson<'v, 'a, S>(&'v StatementRef<'a, S>);

impl<S: Serialize> Serialize for PropositionJson<'_, '_, S> {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let p = self.0;
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("predicate", p.predicate)?;
        m.serialize_entry("subjects", p.subjects)?;
        opt_entry(&mut m, "location", p.location)?;
        opt_entry(&mut m, "qualifier", p.qualifier)?;
        opt_entry(&mut m, "document", p.document)?;
        m.end()
    }
}

struct SourceJson<'v>(&'v SourceRef<'v>);

impl Serialize for SourceJson<'_> {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let s = self.0;
        let mut m = ser.serialize_map(None)?;
        opt_entry(&mut m, "url", s.url)?;
        opt_entry(&mut m, "publisher", s.publisher)?;
        opt_entry(
            &mut m,
            "published_on",
            s.published_on.map(|d| d.to_string()).as_ref(),
        )?;
        m.end()
    }
}

/// An event's entries, `type` first: the one place that lays out an event's JSON.
fn event_entries<M: SerializeMap, S: Serialize>(
    e: &EventRef<'_, S>,
    m: &mut M,
) -> Result<(), M::Error> {
    match e {
        EventRef::Statement(s) => statement_entries(s, m, true),
        EventRef::Correction {
            of,
            statement,
            reason,
        } => {
            m.serialize_entry("type", "correction")?;
            m.serialize_entry("of", of)?;
            m.serialize_entry("statement", &StatementJson(statement))?;
            opt_entry(m, "reason", *reason)
        }
        EventRef::Retraction { of, reason } => {
            m.serialize_entry("type", "retraction")?;
            m.serialize_entry("of", of)?;
            m.serialize_entry("reason", reason)
        }
        EventRef::Actor {
            id,
            name,
            kind,
            aliases,
            parent,
            cameo,
        } => {
            m.serialize_entry("type", "actor")?;
            m.serialize_entry("id", id)?;
            m.serialize_entry("name", name)?;
            m.serialize_entry("kind", kind)?;
            m.serialize_entry("aliases", aliases)?;
            opt_entry(m, "parent", *parent)?;
            opt_entry(m, "cameo", *cameo)
        }
        EventRef::Alias { actor, alias } => {
            m.serialize_entry("type", "alias")?;
            m.serialize_entry("actor", actor)?;
            m.serialize_entry("alias", alias)
        }
        EventRef::Role {
            actor,
            of,
            role,
            from,
            until,
        } => {
            m.serialize_entry("type", "role")?;
            m.serialize_entry("actor", actor)?;
            m.serialize_entry("party", of)?;
            m.serialize_entry("role", role)?;
            m.serialize_entry("from", &from.to_string())?;
            opt_entry(m, "until", until.map(|d| d.to_string()).as_ref())
        }
    }
}

/// An event in the line format (what `append --json` takes), serialisable.
pub struct EventJson<'a>(pub &'a Event);

impl Serialize for EventJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(None)?;
        event_entries(&EventRef::from(self.0), &mut m)?;
        m.end()
    }
}

/// A hash as 64 lower-case hex digits, without allocating.
struct HexJson<'a>(&'a Hash);

impl Serialize for HexJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut digits = [0u8; 64];
        ser.serialize_str(crate::hex::encode_into(&self.0 .0, &mut digits))
    }
}

/// A record's event in its envelope, from borrowed parts: `seq`,
/// `recorded_at`, the event's own fields, then `prev`, `hash` and `digest`
/// (hex). The one place that lays out a record's JSON: [`RecordedJson`]
/// writes a decoded record through it, and an export writes a stored record
/// straight from its bytes, its event never built as owned strings.
pub(crate) struct EnvelopeJson<'a, S> {
    pub(crate) seq: Seq,
    pub(crate) recorded_at: i64,
    /// The event's fields; `None` when its payload was redacted, which is
    /// written as `"type": "redacted"` and no fields of its own.
    pub(crate) event: Option<EventRef<'a, S>>,
    /// The withheld payload's length, written for a redacted record when given.
    pub(crate) payload_len: Option<u32>,
    /// The payload's encoding, written for a redacted record (with its length)
    /// when it is not 1: the chain hash covers it.
    pub(crate) encoding: u8,
    pub(crate) prev: &'a Hash,
    pub(crate) hash: &'a Hash,
    pub(crate) digest: &'a Hash,
}

impl<S: Serialize> Serialize for EnvelopeJson<'_, S> {
    fn serialize<Z: Serializer>(&self, ser: Z) -> Result<Z::Ok, Z::Error> {
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("seq", &self.seq)?;
        m.serialize_entry("recorded_at", &format_recorded_at(self.recorded_at))?;
        match &self.event {
            Some(e) => event_entries(e, &mut m)?,
            None => {
                m.serialize_entry("type", "redacted")?;
                opt_entry(&mut m, "payload_len", self.payload_len.as_ref())?;
                if self.payload_len.is_some() && self.encoding != 1 {
                    m.serialize_entry("payload_encoding", &self.encoding)?;
                }
            }
        }
        m.serialize_entry("prev", &HexJson(self.prev))?;
        m.serialize_entry("hash", &HexJson(self.hash))?;
        m.serialize_entry("digest", &HexJson(self.digest))?;
        m.end()
    }
}

/// A recorded event: `seq`, `recorded_at`, the event's own fields, then
/// `prev`, `hash` and `digest` (hex). A redacted event has `"type":
/// "redacted"` and no fields of its own; with `payload_len`, it also carries
/// the length of its withheld payload.
pub struct RecordedJson<'a> {
    /// The record.
    pub record: &'a Recorded,
    /// Whether a redacted record carries `payload_len`.
    pub payload_len: bool,
}

impl Serialize for RecordedJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let r = self.record;
        EnvelopeJson {
            seq: r.seq,
            recorded_at: r.recorded_at,
            event: r.event.as_ref().map(EventRef::from),
            payload_len: self.payload_len.then_some(r.payload_len),
            encoding: r.encoding,
            prev: &r.prev,
            hash: &r.hash,
            digest: &r.digest,
        }
        .serialize(ser)
    }
}

/// A position as one JSON object: the documented shape of `positions --json`
/// (party, stance, stance_kind, modality, hedge, predicate, subject,
/// location, qualifier, document, said_on, seq, statements, cameo, condition,
/// deadline, joint_with).
pub struct PositionJson<'a>(pub &'a Position);

impl Serialize for PositionJson<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = ser.serialize_map(None)?;
        m.serialize_entry("party", &p.key.party)?;
        m.serialize_entry("stance", &p.stance)?;
        m.serialize_entry("stance_kind", stance_kind(&p.stance))?;
        m.serialize_entry("modality", p.key.modality.as_str())?;
        m.serialize_entry("hedge", &p.hedge)?;
        m.serialize_entry("predicate", &p.key.predicate)?;
        m.serialize_entry("subject", &p.key.subject)?;
        m.serialize_entry("location", &p.key.location)?;
        m.serialize_entry("qualifier", &p.key.qualifier)?;
        m.serialize_entry("document", &p.key.document)?;
        m.serialize_entry("said_on", &format_said_on(&p.said_on))?;
        m.serialize_entry("seq", &p.seq)?;
        m.serialize_entry("statements", &p.statements)?;
        m.serialize_entry(
            "cameo",
            &Vocabulary::builtin()
                .mapping(&p.stance, &p.key.predicate)
                .map(|m| m.cameo.as_str()),
        )?;
        m.serialize_entry("condition", &p.terms.condition)?;
        m.serialize_entry("deadline", &p.terms.deadline.map(|d| d.to_string()))?;
        m.serialize_entry("joint_with", &p.terms.joint_with)?;
        m.end()
    }
}

/// Writes a position as one JSON object, the bytes [`PositionJson`] gives,
/// straight into `out`: for printing many (every position of a large ledger).
pub fn write_position_json(p: &PositionRef<'_>, out: &mut Vec<u8>) {
    let cameo = Vocabulary::builtin().mapping(p.stance, p.predicate);
    write_position_with(
        p,
        stance_kind(p.stance),
        cameo.map(|m| m.cameo.as_str()),
        out,
    );
}

/// Writes positions as [`write_position_json`] does, asking the vocabulary
/// only once about each (stance, predicate) met: for printing many.
#[derive(Debug, Default)]
pub struct PositionWriter<'a> {
    /// The stance kind and CAMEO code of each (stance, predicate) met.
    known: HashMap<(&'a str, &'a str), (&'static str, Option<&'static str>), FxBuildHasher>,
}

impl<'a> PositionWriter<'a> {
    /// Writes one position as one JSON object into `out`.
    pub fn write(&mut self, p: &PositionRef<'a>, out: &mut Vec<u8>) {
        let (kind, cameo) = *self
            .known
            .entry((p.stance, p.predicate))
            .or_insert_with(|| {
                let cameo = Vocabulary::builtin().mapping(p.stance, p.predicate);
                (stance_kind(p.stance), cameo.map(|m| m.cameo.as_str()))
            });
        write_position_with(p, kind, cameo, out);
    }
}

/// [`write_position_json`] given the position's stance kind and CAMEO code.
fn write_position_with(p: &PositionRef<'_>, kind: &str, cameo: Option<&str>, out: &mut Vec<u8>) {
    fn text(out: &mut Vec<u8>, s: &str) {
        // Without stopping at the first: short strings, one pass LLVM can widen.
        let escapes = s
            .bytes()
            .fold(false, |e, b| e | matches!(b, b'"' | b'\\' | 0..0x20));
        if escapes {
            serde_json::to_writer(&mut *out, s).expect("a string serialises");
        } else {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
        }
    }
    fn opt(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => text(out, s),
            None => out.extend_from_slice(b"null"),
        }
    }
    fn num(out: &mut Vec<u8>, n: u64) {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    let k = p;
    out.extend_from_slice(b"{\"party\":");
    text(out, k.party);
    out.extend_from_slice(b",\"stance\":");
    text(out, p.stance);
    out.extend_from_slice(b",\"stance_kind\":");
    text(out, kind);
    out.extend_from_slice(b",\"modality\":");
    text(out, k.modality.as_str());
    out.extend_from_slice(b",\"hedge\":");
    opt(out, p.hedge);
    out.extend_from_slice(b",\"predicate\":");
    text(out, k.predicate);
    out.extend_from_slice(b",\"subject\":");
    opt(out, k.subject);
    out.extend_from_slice(b",\"location\":");
    opt(out, k.location);
    out.extend_from_slice(b",\"qualifier\":");
    opt(out, k.qualifier);
    out.extend_from_slice(b",\"document\":");
    opt(out, k.document);
    out.extend_from_slice(b",\"said_on\":");
    out.push(b'"');
    crate::dates::push_said_on(out, &p.said_on);
    out.push(b'"');
    out.extend_from_slice(b",\"seq\":");
    num(out, p.seq);
    out.extend_from_slice(b",\"statements\":[");
    for (i, s) in p.statements.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        num(out, *s);
    }
    out.extend_from_slice(b"],\"cameo\":");
    opt(out, cameo);
    out.extend_from_slice(b",\"condition\":");
    opt(out, p.terms.condition.as_deref());
    out.extend_from_slice(b",\"deadline\":");
    opt(out, p.terms.deadline.map(|d| d.to_string()).as_deref());
    out.extend_from_slice(b",\"joint_with\":[");
    for (i, j) in p.terms.joint_with.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(out, j);
    }
    out.extend_from_slice(b"]}");
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!("events serialise as objects"),
    }
}

/// An event as a JSON object in the line format (what `append --json` takes).
pub fn event_json(e: &Event) -> Map<String, Value> {
    object(serde_json::to_value(EventJson(e)).expect("events serialise"))
}

/// A recorded event as one JSON object: `seq`, `recorded_at`, the event's own
/// fields, then `prev`, `hash` and `digest` (hex). A redacted event has
/// `"type": "redacted"` and no fields of its own.
pub fn recorded_json(r: &Recorded) -> Value {
    serde_json::to_value(RecordedJson {
        record: r,
        payload_len: false,
    })
    .expect("events serialise")
}

/// A recorded event as one JSON line, with its newline, appended to `line`:
/// [`RecordedJson`] (no `payload_len`), then, when a `status` is given
/// (`standing`, `corrected` or `retracted`, and the seq that did it), the
/// fields `status`, `corrected_by` and `retracted_by`, as `log --json`
/// writes them.
pub fn write_recorded_line(r: &Recorded, status: Option<(&str, Option<u64>)>, line: &mut Vec<u8>) {
    let json = RecordedJson {
        record: r,
        payload_len: false,
    };
    serde_json::to_writer(&mut *line, &json).expect("JSON to memory");
    if let Some((st, by)) = status {
        // The fields go before the object's closing brace.
        debug_assert_eq!(line.last(), Some(&b'}'));
        line.pop();
        line.extend_from_slice(b",\"status\":");
        serde_json::to_writer(&mut *line, st).expect("JSON to memory");
        for (field, what) in [("corrected_by", "corrected"), ("retracted_by", "retracted")] {
            line.extend_from_slice(b",\"");
            line.extend_from_slice(field.as_bytes());
            line.extend_from_slice(b"\":");
            match by.filter(|_| st == what) {
                Some(seq) => line.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes()),
                None => line.extend_from_slice(b"null"),
            }
        }
        line.push(b'}');
    }
    line.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{SaidOn, TimeOfDay};
    use crate::projection::{PositionKey, Terms};
    use crate::vocab::Modality;

    fn position(
        text: &str,
        date: jiff::civil::Date,
        time: Option<TimeOfDay>,
        terms: Terms,
    ) -> Position {
        Position {
            key: PositionKey {
                party: "USA".into(),
                predicate: "withdrawal".into(),
                subject: Some(text.into()),
                location: None,
                qualifier: Some("mercenaries".into()),
                document: Some(format!("S/RES/{text}")),
                modality: Modality::Commissive,
            },
            stance: "calls-for".into(),
            hedge: Some(text.into()),
            said_on: SaidOn { date, time },
            seq: 12_345_678_901,
            statements: vec![1, 20, 12_345_678_901],
            terms,
        }
    }

    #[test]
    fn a_position_written_directly_is_the_json_its_serialisation_gives() {
        let times = [
            None,
            Some(TimeOfDay {
                seconds: 3_723,
                offset_minutes: Some(-330),
            }),
            Some(TimeOfDay {
                seconds: 0,
                offset_minutes: None,
            }),
            Some(TimeOfDay {
                seconds: 86_399,
                offset_minutes: Some(0),
            }),
            Some(TimeOfDay {
                seconds: 45_296,
                offset_minutes: Some(5_999),
            }),
            Some(TimeOfDay {
                seconds: 86_400 * 3,
                offset_minutes: Some(-6_000),
            }),
        ];
        let texts = [
            "RUS",
            "say \"no\"",
            "tab\there\\back",
            "\u{1}\u{1f}é\u{2028}",
            "",
        ];
        let dates = [
            jiff::civil::date(2021, 1, 28),
            jiff::civil::date(987, 12, 5),
            jiff::civil::date(9999, 12, 31),
            jiff::civil::date(-44, 3, 15),
            jiff::civil::date(0, 1, 1),
        ];
        for (time, date) in times.into_iter().flat_map(|t| dates.map(|d| (t, d))) {
            for text in texts {
                for terms in [
                    Terms::default(),
                    Terms {
                        condition: Some(format!("if {text}")),
                        deadline: Some(jiff::civil::date(2030, 12, 31)),
                        joint_with: vec!["FRA".into(), text.into()],
                    },
                ] {
                    let p = position(text, date, time, terms);
                    let mut direct = Vec::new();
                    write_position_json(&p.view(), &mut direct);
                    let mut written = Vec::new();
                    PositionWriter::default().write(&p.view(), &mut written);
                    assert_eq!(written, direct);
                    let serialised = serde_json::to_vec(&PositionJson(&p)).expect("serialises");
                    assert_eq!(
                        String::from_utf8(direct).expect("utf-8"),
                        String::from_utf8(serialised).expect("utf-8")
                    );
                }
            }
        }
        let mut p = position("RUS", dates[0], None, Terms::default());
        (p.hedge, p.key.subject, p.key.qualifier, p.key.document) = (None, None, None, None);
        p.stance = "no-such-stance".into();
        let mut direct = Vec::new();
        write_position_json(&p.view(), &mut direct);
        assert_eq!(
            direct,
            serde_json::to_vec(&PositionJson(&p)).expect("serialises")
        );
    }
}
