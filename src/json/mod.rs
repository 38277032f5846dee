//! The JSON line format of events: parsing one line into an [`Event`] with
//! errors that name the field, within the limits below; [`view`] writes events
//! (with their place in the chain) and positions back out.
//! `schema/event.schema.json` describes the same shape.

mod plain;
mod scan;
pub mod view;

pub use plain::{PlainLine, PlainLines};
pub(crate) use scan::Envelope;

use crate::dates::{parse_date, parse_said_on};
use crate::event::{
    parse_fixed, ActorDef, AliasDef, Coded, Correction, Event, Proposition, QuoteKind, Retraction,
    RoleDef, SaidOn, Source, Speaker, Statement,
};
use crate::input::InputError;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Longest quote accepted, in UTF-8 bytes.
pub const MAX_QUOTE: usize = 8192;
/// Longest URL accepted, in bytes.
pub const MAX_URL: usize = 2048;
/// Longest reason accepted, in bytes.
pub const MAX_REASON: usize = 2048;
/// Longest name, role, hedge, publisher or alias accepted, in bytes.
pub const MAX_TEXT: usize = 256;
/// Longest actor reference accepted, in bytes.
pub const MAX_REF: usize = 128;
/// Most subjects in one proposition.
pub const MAX_SUBJECTS: usize = 32;
/// Most aliases in one actor event.
pub const MAX_ALIASES: usize = 64;
/// Most sources of one statement.
pub const MAX_SOURCES: usize = 16;
/// Longest condition accepted, in bytes.
pub const MAX_CONDITION: usize = 2048;
/// Longest JSON line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

enum InEvent {
    Statement(InStatement),
    Correction(InCorrection),
    Retraction(InRetraction),
    Actor(InActor),
    Alias(InAlias),
    Role(InRole),
}

/// A statement as a line gives it: its strings owned (`String`, from the
/// typed parser) or borrowed from the line (`&str`, read straight by `scan`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InStatement<S = String> {
    /// Inside a correction, a statement copied whole from a line may keep its
    /// `"type": "statement"`.
    #[serde(rename = "type")]
    kind: Option<S>,
    said_on: S,
    party: S,
    #[serde(default = "Vec::new")]
    joint_with: Vec<S>,
    speaker: Option<InSpeaker<S>>,
    stance: S,
    hedge: Option<S>,
    condition: Option<S>,
    deadline: Option<S>,
    proposition: InProposition<S>,
    quote: S,
    quote_kind: Option<S>,
    language: Option<S>,
    source: Option<InSource<S>>,
    sources: Option<Vec<InSource<S>>>,
    coded: Option<InCoded>,
}

impl InStatement<&str> {
    /// The statement with its strings copied out of the line.
    fn owned(&self) -> InStatement {
        let own = |x: &&str| x.to_string();
        let own_all = |v: &[&str]| v.iter().map(own).collect();
        let source = |x: &InSource<&str>| InSource {
            url: x.url.as_ref().map(own),
            publisher: x.publisher.as_ref().map(own),
            published_on: x.published_on.as_ref().map(own),
        };
        let pr = &self.proposition;
        InStatement {
            kind: self.kind.as_ref().map(own),
            said_on: own(&self.said_on),
            party: own(&self.party),
            joint_with: own_all(&self.joint_with),
            speaker: self.speaker.as_ref().map(|sp| InSpeaker {
                name: sp.name.as_ref().map(own),
                role: sp.role.as_ref().map(own),
                actor: sp.actor.as_ref().map(own),
            }),
            stance: own(&self.stance),
            hedge: self.hedge.as_ref().map(own),
            condition: self.condition.as_ref().map(own),
            deadline: self.deadline.as_ref().map(own),
            proposition: InProposition {
                predicate: own(&pr.predicate),
                subjects: own_all(&pr.subjects),
                location: pr.location.as_ref().map(own),
                qualifier: pr.qualifier.as_ref().map(own),
                document: pr.document.as_ref().map(own),
            },
            quote: own(&self.quote),
            quote_kind: self.quote_kind.as_ref().map(own),
            language: self.language.as_ref().map(own),
            source: self.source.as_ref().map(source),
            sources: self
                .sources
                .as_ref()
                .map(|v| v.iter().map(source).collect()),
            coded: None,
        }
    }
}

/// A machine-coded statement's provenance (event format 3).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InCoded {
    coder: String,
    event_id: u64,
    cameo: String,
    mentions: u32,
    sources: u32,
    goldstein: serde_json::Number,
    tone: serde_json::Number,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InSpeaker<S = String> {
    name: Option<S>,
    role: Option<S>,
    actor: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InRole {
    actor: String,
    party: String,
    role: String,
    from: String,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InProposition<S = String> {
    predicate: S,
    #[serde(default = "Vec::new")]
    subjects: Vec<S>,
    location: Option<S>,
    qualifier: Option<S>,
    document: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InSource<S = String> {
    url: Option<S>,
    publisher: Option<S>,
    published_on: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InCorrection {
    of: u64,
    statement: InStatement,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InRetraction {
    of: u64,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InActor {
    id: String,
    name: String,
    kind: String,
    #[serde(default)]
    aliases: Vec<String>,
    parent: Option<String>,
    cameo: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InAlias {
    actor: String,
    alias: String,
}

/// Checks a text field: not blank, at most `max` bytes, no control character.
fn check_text(field: impl std::fmt::Display, v: &str, max: usize) -> Result<(), InputError> {
    if v.trim().is_empty() {
        return Err(InputError::new(field.to_string(), "must not be empty"));
    }
    if v.len() > max {
        return Err(InputError::new(
            field.to_string(),
            format!("is {} bytes long; the limit is {max}", v.len()),
        ));
    }
    if has_control(v) {
        return Err(InputError::new(
            field.to_string(),
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn check_opt_text<S: AsRef<str>>(
    field: impl std::fmt::Display,
    v: Option<&S>,
    max: usize,
) -> Result<(), InputError> {
    v.map_or(Ok(()), |v| check_text(field, v.as_ref(), max))
}

fn text(field: impl std::fmt::Display, v: String, max: usize) -> Result<String, InputError> {
    check_text(field, &v, max)?;
    Ok(v)
}

fn opt_text(
    field: impl std::fmt::Display,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, InputError> {
    check_opt_text(field, v.as_ref(), max)?;
    Ok(v)
}

/// Whether `s` holds a control character other than newline and tab: C0
/// (below U+0020), DEL, or C1 (U+0080 to U+009F, encoded 0xC2 0x80..=0x9F).
/// Byte by byte, since this runs on every text field of every imported line.
fn has_control(s: &str) -> bool {
    let b = s.as_bytes();
    // Most text has none of the bytes that can start one: a check the
    // compiler runs many bytes at a time settles it.
    if !b.iter().fold(false, |seen, &c| {
        seen | (c < 0x20 || c == 0x7f || c == 0xc2)
    }) {
        return false;
    }
    b.iter().enumerate().any(|(i, &c)| {
        (c < 0x20 && c != b'\n' && c != b'\t')
            || c == 0x7f
            || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)))
    })
}

/// A field's path in an error message: prefix, name and index.
struct FieldPath<'a>(&'a str, &'static str, Option<usize>);

impl From<FieldPath<'_>> for String {
    fn from(f: FieldPath<'_>) -> String {
        f.to_string()
    }
}

impl std::fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.0, self.1)?;
        match self.2 {
            Some(i) => write!(f, "[{i}]"),
            None => Ok(()),
        }
    }
}

/// A field of an object at a path: `sources[1].url`.
struct SubField<'a>(FieldPath<'a>, &'static str);

impl std::fmt::Display for SubField<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

impl From<SubField<'_>> for String {
    fn from(f: SubField<'_>) -> String {
        f.to_string()
    }
}

/// What checking a statement's fields makes of them besides its strings: its
/// dates and its quote kind.
struct Parts {
    said_on: SaidOn,
    deadline: Option<jiff::civil::Date>,
    quote_kind: QuoteKind,
    /// The date of the first source (`source`, or the first of `sources`),
    /// and of each further one, in order.
    published_on: Option<jiff::civil::Date>,
    more_published_on: Vec<Option<jiff::civil::Date>>,
}

/// Checks a statement as a line gives it, its strings owned or borrowed alike,
/// but for its provenance (`coded`), which only the typed parser reads: the
/// first error, as the fields are checked in order, names its field.
fn check_statement<S: AsRef<str>>(p: &str, s: &InStatement<S>) -> Result<Parts, InputError> {
    // Field paths are only spelled out when an error names them.
    let f = |name: &'static str| FieldPath(p, name, None);
    if let Some(k) = s.kind.as_ref().map(S::as_ref).filter(|k| *k != "statement") {
        return Err(InputError::new(
            f("type"),
            format!("a correction's statement is a statement, not \"{k}\""),
        ));
    }
    let said_on =
        parse_said_on(s.said_on.as_ref()).map_err(|m| InputError::new(f("said_on"), m))?;
    if let Some(sp) = &s.speaker {
        if sp.name.is_none() && sp.actor.is_none() {
            return Err(InputError::new(f("speaker"), "needs a name or an actor"));
        }
        // A speaker given only as an actor takes the actor's name when checked.
        check_opt_text(f("speaker.name"), sp.name.as_ref(), MAX_TEXT)?;
        check_opt_text(f("speaker.role"), sp.role.as_ref(), MAX_TEXT)?;
        check_opt_text(f("speaker.actor"), sp.actor.as_ref(), MAX_REF)?;
    }
    check_refs(p, "proposition.subjects", &s.proposition.subjects)?;
    check_refs(p, "joint_with", &s.joint_with)?;
    if let Some(q) = s.proposition.qualifier.as_ref().map(S::as_ref) {
        let ok = (1..=64).contains(&q.len())
            && q.as_bytes()[0].is_ascii_lowercase()
            && q.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        if !ok {
            return Err(InputError::new(
                f("proposition.qualifier"),
                format!("\"{q}\" must be lower-case letters, digits and '-' (like military-personnel), at most 64"),
            ));
        }
    }
    let (published_on, more_published_on) = match (&s.source, &s.sources) {
        (Some(one), None) => (check_source(p, "source", None, one)?, Vec::new()),
        (None, Some(many)) => {
            if many.is_empty() {
                return Err(InputError::new(f("sources"), "needs at least one source"));
            }
            if many.len() > MAX_SOURCES {
                return Err(InputError::new(
                    f("sources"),
                    format!("has {} entries; the limit is {MAX_SOURCES}", many.len()),
                ));
            }
            let mut all = many
                .iter()
                .enumerate()
                .map(|(i, x)| check_source(p, "sources", Some(i), x))
                .collect::<Result<Vec<_>, _>>()?;
            (all.remove(0), all)
        }
        (Some(_), Some(_)) => {
            return Err(InputError::new(
                f("sources"),
                "give either source or sources, not both",
            ))
        }
        (None, None) => return Err(InputError::new(f("source"), "missing field `source`")),
    };
    let quote_kind = match s.quote_kind.as_ref().map(S::as_ref) {
        None => QuoteKind::Verbatim,
        Some(k) => QuoteKind::parse(k).ok_or_else(|| {
            InputError::new(
                f("quote_kind"),
                format!("unknown quote kind \"{k}\"; expected verbatim, translation or paraphrase"),
            )
        })?,
    };
    if let Some(l) = s.language.as_ref().map(S::as_ref) {
        if !is_language_tag(l) {
            return Err(InputError::new(
                f("language"),
                format!("\"{l}\" is not a language tag; expected BCP 47, like ru, fr or zh-Hant"),
            ));
        }
    }
    let deadline = s
        .deadline
        .as_ref()
        .map(|d| parse_date(d.as_ref()))
        .transpose()
        .map_err(|m| InputError::new(f("deadline"), m))?;
    check_text(f("party"), s.party.as_ref(), MAX_REF)?;
    check_text(f("stance"), s.stance.as_ref(), MAX_REF)?;
    check_opt_text(f("hedge"), s.hedge.as_ref(), MAX_TEXT)?;
    check_opt_text(f("condition"), s.condition.as_ref(), MAX_CONDITION)?;
    let pr = &s.proposition;
    check_text(f("proposition.predicate"), pr.predicate.as_ref(), MAX_REF)?;
    check_opt_text(f("proposition.location"), pr.location.as_ref(), MAX_REF)?;
    check_opt_text(f("proposition.document"), pr.document.as_ref(), MAX_TEXT)?;
    check_text(f("quote"), s.quote.as_ref(), MAX_QUOTE)?;
    Ok(Parts {
        said_on,
        deadline,
        quote_kind,
        published_on,
        more_published_on,
    })
}

fn statement(p: &str, s: InStatement) -> Result<Statement, InputError> {
    let parts = check_statement(p, &s)?;
    let coded = s.coded.map(|c| coded(p, c)).transpose()?;
    let mut published_on = std::iter::once(parts.published_on).chain(parts.more_published_on);
    let mut source = |x: InSource| Source {
        url: x.url,
        publisher: x.publisher,
        published_on: published_on.next().flatten(),
    };
    let (first, more_sources) = match (s.source, s.sources) {
        (Some(one), _) => (source(one), Vec::new()),
        (None, many) => {
            let mut all = many.unwrap_or_default().into_iter().map(&mut source);
            let first = all.next().expect("checked: at least one source");
            (first, all.collect())
        }
    };
    Ok(Statement {
        said_on: parts.said_on,
        party: s.party,
        joint_with: s.joint_with,
        speaker: s.speaker.map(|sp| Speaker {
            name: sp.name.unwrap_or_default(),
            role: sp.role,
            actor: sp.actor,
        }),
        stance: s.stance,
        hedge: s.hedge,
        condition: s.condition,
        deadline: parts.deadline,
        proposition: Proposition {
            predicate: s.proposition.predicate,
            subjects: s.proposition.subjects,
            location: s.proposition.location,
            qualifier: s.proposition.qualifier,
            document: s.proposition.document,
        },
        quote: s.quote,
        quote_kind: parts.quote_kind,
        language: s.language,
        source: first,
        more_sources,
        coded,
    })
}

/// Checks a statement's provenance: a coder id, a CAMEO code, and the Goldstein
/// scale (-10 to 10, one decimal) and tone (-100 to 100, three decimals) as
/// decimals that fixed-point integers hold exactly.
fn coded(p: &str, c: InCoded) -> Result<Box<Coded>, InputError> {
    let f = |name: &'static str| FieldPath(p, name, None);
    let ok_coder = (1..=32).contains(&c.coder.len())
        && c.coder
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_coder {
        return Err(InputError::new(
            f("coded.coder"),
            format!(
                "\"{}\" must be lower-case letters, digits and '-' (like gdelt), at most 32",
                c.coder
            ),
        ));
    }
    if !((2..=4).contains(&c.cameo.len()) && c.cameo.bytes().all(|b| b.is_ascii_digit())) {
        return Err(InputError::new(
            f("coded.cameo"),
            format!("\"{}\" is not a CAMEO event code (2 to 4 digits)", c.cameo),
        ));
    }
    let decimal = |name: &'static str, n: &serde_json::Number, places: u32, limit: i32| {
        parse_fixed(&n.to_string(), places)
            .filter(|v| v.abs() <= limit)
            .ok_or_else(|| {
                InputError::new(
                    f(name),
                    format!(
                        "{n} must be a decimal from {} to {} with at most {places} decimals",
                        -limit / 10i32.pow(places),
                        limit / 10i32.pow(places)
                    ),
                )
            })
    };
    Ok(Box::new(Coded {
        goldstein_tenths: decimal("coded.goldstein", &c.goldstein, 1, 100)?,
        tone_thousandths: decimal("coded.tone", &c.tone, 3, 100_000)?,
        coder: c.coder,
        event_id: c.event_id,
        cameo: c.cameo,
        mentions: c.mentions,
        sources: c.sources,
    }))
}

/// A list of actor references, at most [`MAX_SUBJECTS`].
fn check_refs<S: AsRef<str>>(p: &str, name: &'static str, v: &[S]) -> Result<(), InputError> {
    if v.len() > MAX_SUBJECTS {
        return Err(InputError::new(
            FieldPath(p, name, None),
            format!("has {} entries; the limit is {MAX_SUBJECTS}", v.len()),
        ));
    }
    v.iter()
        .enumerate()
        .try_for_each(|(i, x)| check_text(FieldPath(p, name, Some(i)), x.as_ref(), MAX_REF))
}

/// One source: a url or a publisher at least. Gives its date.
fn check_source<S: AsRef<str>>(
    p: &str,
    name: &'static str,
    i: Option<usize>,
    s: &InSource<S>,
) -> Result<Option<jiff::civil::Date>, InputError> {
    let at = |field: &'static str| SubField(FieldPath(p, name, i), field);
    let published_on = s
        .published_on
        .as_ref()
        .map(|d| parse_date(d.as_ref()))
        .transpose()
        .map_err(|m| InputError::new(at("published_on"), m))?;
    check_opt_text(at("url"), s.url.as_ref(), MAX_URL)?;
    check_opt_text(at("publisher"), s.publisher.as_ref(), MAX_TEXT)?;
    if s.url.is_none() && s.publisher.is_none() {
        return Err(InputError::new(
            FieldPath(p, name, i),
            "needs a url or a publisher",
        ));
    }
    Ok(published_on)
}

/// Whether `s` is shaped as a BCP 47 language tag: a primary language of 2 or
/// 3 letters, then subtags of 1 to 8 letters or digits.
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|c| c.is_ascii_alphabetic())
        && parts.all(|x| (1..=8).contains(&x.len()) && x.bytes().all(|c| c.is_ascii_alphanumeric()))
}

/// Parses one JSON line into an event. Checks shape, types, dates and limits;
/// names (actors, stances, predicates) are checked by the ledger against its registry.
///
/// # Errors
/// [`InputError`] naming the field.
pub fn parse_event(line: &str) -> Result<Event, InputError> {
    if line.len() > MAX_LINE {
        return Err(InputError::new(
            "",
            format!("line is {} bytes long; the limit is {MAX_LINE}", line.len()),
        ));
    }
    // Most lines are statements of the plainest JSON: read straight.
    if let Some(s) = scan::statement(line) {
        return parse_event_from(InEvent::Statement(s.owned()));
    }
    parse_event_typed(line)
}

/// An export line (`export.rs`) of a statement in the plainest JSON, read
/// straight (`scan.rs`): its envelope, unchecked, and the statement as
/// [`parse_event`] reads it from a line of its own, checked when asked for.
/// `None` for any other line (or one longer than an event's line may be),
/// which the caller reads as a JSON value.
pub(crate) fn export_statement(
    line: &str,
) -> Option<(
    Envelope<'_>,
    impl FnOnce() -> Result<Event, InputError> + '_,
)> {
    if line.len() > MAX_LINE {
        return None;
    }
    let (envelope, s) = scan::export_statement(line)?;
    Some((envelope, move || {
        parse_event_from(InEvent::Statement(s.owned()))
    }))
}

/// [`parse_event`] through the typed parser (or, to name the field of an
/// error, a JSON value), for any line.
fn parse_event_typed(line: &str) -> Result<Event, InputError> {
    let parsed = match fast_parse(line) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => slow_parse(line)?,
        Err(fast_error) => {
            // The slow path names the field of most errors; what it accepts but the
            // typed parser refused (a duplicate field) is still an error.
            slow_parse(line)?;
            return Err(InputError::new("", fast_error.to_string()));
        }
    };
    parse_event_from(parsed)
}

fn parse_event_from(parsed: InEvent) -> Result<Event, InputError> {
    Ok(match parsed {
        InEvent::Statement(s) => Event::Statement(statement("", s)?),
        InEvent::Correction(c) => {
            if c.of == 0 {
                return Err(InputError::new("of", "must be a seq, 1 or more"));
            }
            Event::Correction(Correction {
                of: c.of,
                statement: statement("statement.", c.statement)?,
                reason: opt_text("reason", c.reason, MAX_REASON)?,
            })
        }
        InEvent::Retraction(r) => {
            if r.of == 0 {
                return Err(InputError::new("of", "must be a seq, 1 or more"));
            }
            Event::Retraction(Retraction {
                of: r.of,
                reason: text("reason", r.reason, MAX_REASON)?,
            })
        }
        InEvent::Actor(a) => {
            if a.aliases.len() > MAX_ALIASES {
                return Err(InputError::new(
                    "aliases",
                    format!(
                        "has {} entries; the limit is {MAX_ALIASES}",
                        a.aliases.len()
                    ),
                ));
            }
            Event::Actor(ActorDef {
                id: text("id", a.id, 32)?,
                name: text("name", a.name, MAX_TEXT)?,
                kind: text("kind", a.kind, 32)?,
                aliases: a
                    .aliases
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| text(format!("aliases[{i}]"), x, MAX_TEXT))
                    .collect::<Result<_, _>>()?,
                parent: opt_text("parent", a.parent, MAX_REF)?,
                cameo: opt_text("cameo", a.cameo, 15)?,
            })
        }
        InEvent::Alias(a) => Event::Alias(AliasDef {
            actor: text("actor", a.actor, MAX_REF)?,
            alias: text("alias", a.alias, MAX_TEXT)?,
        }),
        InEvent::Role(r) => {
            let from = parse_date(&r.from).map_err(|m| InputError::new("from", m))?;
            let until = r
                .until
                .map(|d| parse_date(&d))
                .transpose()
                .map_err(|m| InputError::new("until", m))?;
            if until.is_some_and(|u| u < from) {
                return Err(InputError::new("until", "is before from"));
            }
            Event::Role(RoleDef {
                actor: text("actor", r.actor, MAX_REF)?,
                of: text("party", r.party, MAX_REF)?,
                role: text("role", r.role, MAX_TEXT)?,
                from,
                until,
            })
        }
    })
}

/// Every field any event type may have: one typed pass over the line, with no
/// intermediate JSON value. `None` from [`fast_parse`] sends the line to
/// [`slow_parse`], which names the field of any error.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnyLine {
    #[serde(rename = "type")]
    event_type: String,
    said_on: Option<String>,
    party: Option<String>,
    joint_with: Option<Vec<String>>,
    speaker: Option<InSpeaker>,
    stance: Option<String>,
    hedge: Option<String>,
    condition: Option<String>,
    deadline: Option<String>,
    proposition: Option<InProposition>,
    quote: Option<String>,
    quote_kind: Option<String>,
    language: Option<String>,
    source: Option<InSource>,
    sources: Option<Vec<InSource>>,
    coded: Option<InCoded>,
    role: Option<String>,
    from: Option<String>,
    until: Option<String>,
    of: Option<u64>,
    statement: Option<InStatement>,
    reason: Option<String>,
    id: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    aliases: Option<Vec<String>>,
    parent: Option<String>,
    cameo: Option<String>,
    actor: Option<String>,
    alias: Option<String>,
}

fn fast_parse(line: &str) -> Result<Option<InEvent>, serde_json::Error> {
    // Made once: a finder costs more to build than to run on one line.
    static NULL: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"null"));
    if NULL.find(line.as_bytes()).is_some() {
        // `null` would read as an absent field here, which would let a field of
        // another event type through: the field-naming parser decides.
        return Ok(None);
    }
    let a: AnyLine = serde_json::from_str(line)?;
    if a.role.is_some() || a.from.is_some() || a.until.is_some() || a.event_type == "role" {
        return Ok(None); // roles are rare: the field-naming parser takes them
    }
    let statement_fields = a.said_on.is_some()
        || a.party.is_some()
        || a.joint_with.is_some()
        || a.speaker.is_some()
        || a.stance.is_some()
        || a.hedge.is_some()
        || a.condition.is_some()
        || a.deadline.is_some()
        || a.proposition.is_some()
        || a.quote.is_some()
        || a.quote_kind.is_some()
        || a.language.is_some()
        || a.source.is_some()
        || a.sources.is_some()
        || a.coded.is_some();
    let actor_fields = a.id.is_some()
        || a.name.is_some()
        || a.kind.is_some()
        || a.aliases.is_some()
        || a.parent.is_some()
        || a.cameo.is_some();
    let alias_fields = a.actor.is_some() || a.alias.is_some();
    Ok(match a.event_type.as_str() {
        "statement"
            if !actor_fields
                && !alias_fields
                && a.of.is_none()
                && a.statement.is_none()
                && a.reason.is_none() =>
        {
            match (a.said_on, a.party, a.stance, a.proposition, a.quote) {
                (Some(said_on), Some(party), Some(stance), Some(proposition), Some(quote)) => {
                    Some(InEvent::Statement(InStatement {
                        kind: None,
                        said_on,
                        party,
                        joint_with: a.joint_with.unwrap_or_default(),
                        speaker: a.speaker,
                        stance,
                        hedge: a.hedge,
                        condition: a.condition,
                        deadline: a.deadline,
                        proposition,
                        quote,
                        quote_kind: a.quote_kind,
                        language: a.language,
                        source: a.source,
                        sources: a.sources,
                        coded: a.coded,
                    }))
                }
                _ => None,
            }
        }
        "correction" if !statement_fields && !actor_fields && !alias_fields => {
            match (a.of, a.statement) {
                (Some(of), Some(statement)) => Some(InEvent::Correction(InCorrection {
                    of,
                    statement,
                    reason: a.reason,
                })),
                _ => None,
            }
        }
        "retraction"
            if !statement_fields && !actor_fields && !alias_fields && a.statement.is_none() =>
        {
            match (a.of, a.reason) {
                (Some(of), Some(reason)) => Some(InEvent::Retraction(InRetraction { of, reason })),
                _ => None,
            }
        }
        "actor"
            if !statement_fields
                && !alias_fields
                && a.of.is_none()
                && a.statement.is_none()
                && a.reason.is_none() =>
        {
            match (a.id, a.name, a.kind) {
                (Some(id), Some(name), Some(kind)) => Some(InEvent::Actor(InActor {
                    id,
                    name,
                    kind,
                    aliases: a.aliases.unwrap_or_default(),
                    parent: a.parent,
                    cameo: a.cameo,
                })),
                _ => None,
            }
        }
        "alias"
            if !statement_fields
                && !actor_fields
                && a.of.is_none()
                && a.statement.is_none()
                && a.reason.is_none() =>
        {
            match (a.actor, a.alias) {
                (Some(actor), Some(alias)) => Some(InEvent::Alias(InAlias { actor, alias })),
                _ => None,
            }
        }
        _ => None,
    })
}

fn slow_parse(line: &str) -> Result<InEvent, InputError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| InputError::new("", format!("not valid JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(InputError::new("", "an event must be a JSON object"));
    };
    let kind = match map.remove("type") {
        Some(Value::String(t)) => t,
        Some(_) => return Err(InputError::new("type", "must be a string")),
        None => return Err(InputError::new("", "missing field `type`")),
    };
    fn body<T: serde::de::DeserializeOwned>(map: Map<String, Value>) -> Result<T, InputError> {
        serde_path_to_error::deserialize(Value::Object(map)).map_err(|e| {
            let path = e.path().to_string();
            InputError::new(
                if path == "." { String::new() } else { path },
                e.into_inner().to_string(),
            )
        })
    }
    Ok(match kind.as_str() {
        "statement" => InEvent::Statement(body(map)?),
        "correction" => InEvent::Correction(body(map)?),
        "retraction" => InEvent::Retraction(body(map)?),
        "actor" => InEvent::Actor(body(map)?),
        "alias" => InEvent::Alias(body(map)?),
        "role" => InEvent::Role(body(map)?),
        other => {
            return Err(InputError::new(
                "type",
                format!("unknown event type \"{other}\"; expected statement, correction, retraction, actor, alias or role"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_as_char_is_control_finds_them() {
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            let expected = c.is_control() && c != '\n' && c != '\t';
            assert_eq!(has_control(&text), expected, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn the_typed_and_the_field_naming_parsers_agree() {
        let lines = [
            r#"{"type":"statement","said_on":"2021-01-28","party":"USA","speaker":{"name":"M","role":"r"},"stance":"calls-for","hedge":"h","proposition":{"predicate":"withdrawal","subjects":["RUS"],"location":"LBY","qualifier":"forces"},"quote":"q","source":{"url":"u","publisher":"p","published_on":"2021-01-29"}}"#,
            r#"{"source":{"publisher":"p"},"quote":"q","proposition":{"predicate":"presence"},"stance":"denies","party":"RUS","said_on":"2021-01-28T10:00Z","type":"statement"}"#,
            r#"{"type":"correction","of":3,"statement":{"said_on":"2021-01-28","party":"RUS","stance":"denies","proposition":{"predicate":"presence"},"quote":"q","source":{"publisher":"p"}},"reason":"r"}"#,
            r#"{"type":"retraction","of":3,"reason":"r"}"#,
            r#"{"type":"actor","id":"X-Y","name":"n","kind":"group","aliases":["a"],"parent":"RUS","cameo":"RUS"}"#,
            r#"{"type":"alias","actor":"UN","alias":"ONU"}"#,
        ];
        for line in lines {
            let fast = fast_parse(line).expect("typed parse").expect("complete");
            let slow = slow_parse(line).expect("value parse");
            assert_eq!(
                format!("{:?}", finish(fast)),
                format!("{:?}", finish(slow)),
                "{line}"
            );
        }
        // Fields of another event type go to the slow path, which names them.
        let mixed = r#"{"type":"retraction","of":3,"reason":"r","party":"USA"}"#;
        assert!(fast_parse(mixed).expect("parses").is_none());
        assert!(parse_event(mixed)
            .unwrap_err()
            .message
            .contains("unknown field `party`"));
        // A field of another event type is refused even when it is null.
        let null = r#"{"type":"retraction","of":3,"reason":"r","party":null}"#;
        assert!(parse_event(null)
            .unwrap_err()
            .message
            .contains("unknown field `party`"));
        // A duplicate field is an error, although a JSON value would keep the last.
        let dup = r#"{"type":"retraction","of":3,"of":4,"reason":"r"}"#;
        assert!(parse_event(dup)
            .unwrap_err()
            .message
            .contains("duplicate field `of`"));
    }

    fn finish(e: InEvent) -> Result<Event, InputError> {
        parse_event_from(e)
    }
}
