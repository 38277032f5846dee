//! Domain types: events, statements, actors, hashes and dates. No I/O and no
//! knowledge of how anything is stored (that is `codec`'s job).

use std::fmt;

/// Position of an event in the chain. The first event has seq 1.
pub type Seq = u64;

/// A 32-byte BLAKE3 hash, shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The previous-hash value of the first event.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Lowercase hex, 64 digits.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Hash> {
        crate::hex::decode_array(s).map(Hash)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 64];
        f.write_str(crate::hex::encode_into(&self.0, &mut digits))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// The state of a ledger at one moment: how many events it holds and the hash
/// of the last one. Saving a head and checking it later detects a dropped tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Number of events (the seq of the last event).
    pub size: u64,
    /// Chain hash of the last event, [`Hash::ZERO`] for an empty ledger.
    pub hash: Hash,
    /// Transaction time of the last event, microseconds since 1970-01-01 UTC.
    pub recorded_at: i64,
}

impl Head {
    /// The head of a ledger that holds nothing.
    pub const EMPTY: Head = Head {
        size: 0,
        hash: Hash::ZERO,
        recorded_at: i64::MIN,
    };

    /// `SIZE:HASH`, the form `verify --expect-head` takes.
    pub fn token(&self) -> String {
        format!("{}:{}", self.size, self.hash)
    }
}

/// The date (and optionally time) a statement was made: its valid time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SaidOn {
    /// Calendar date where the statement was made.
    pub date: jiff::civil::Date,
    /// Time of day, if known.
    pub time: Option<TimeOfDay>,
}

/// A local time of day with an optional UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay {
    /// Seconds since local midnight, 0..86400.
    pub seconds: u32,
    /// Offset from UTC in minutes, if stated.
    pub offset_minutes: Option<i16>,
}

/// A person speaking for a party.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Speaker {
    /// The person's name as reported.
    pub name: String,
    /// The role in which they spoke ("acting US ambassador to the UN").
    pub role: Option<String>,
    /// The person as an actor of the registry (kind `person`), whose dated
    /// roles the registry keeps (event format 2).
    pub actor: Option<String>,
}

/// What a stance is taken on: a predicate about some actors and a place.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proposition {
    /// Vocabulary id of the predicate (`withdrawal`, `presence`, ...).
    pub predicate: String,
    /// Actor ids the predicate is about (whose forces, who intervenes). May be empty.
    pub subjects: Vec<String>,
    /// Actor id of the place, usually a state.
    pub location: Option<String>,
    /// Narrows the predicate: `military-personnel`, `mercenaries`, ...
    pub qualifier: Option<String>,
    /// The document the proposition is about (`S/RES/2728(2024)`): a
    /// resolution, treaty or communiqué (event format 2).
    pub document: Option<String>,
}

/// Where a statement was reported.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// Address of the report.
    pub url: Option<String>,
    /// Who published it.
    pub publisher: Option<String>,
    /// When it was published.
    pub published_on: Option<jiff::civil::Date>,
}

/// How a statement's quote renders what was said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuoteKind {
    /// The words as spoken or written.
    #[default]
    Verbatim,
    /// The words translated from the language they were said in.
    Translation,
    /// The reporter's rendering of what was said.
    Paraphrase,
}

impl QuoteKind {
    /// Every kind, in the order of their stored numbers.
    pub const ALL: [QuoteKind; 3] = [
        QuoteKind::Verbatim,
        QuoteKind::Translation,
        QuoteKind::Paraphrase,
    ];

    /// The name in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteKind::Verbatim => "verbatim",
            QuoteKind::Translation => "translation",
            QuoteKind::Paraphrase => "paraphrase",
        }
    }

    /// The kind of a name, if it is one.
    pub fn parse(name: &str) -> Option<QuoteKind> {
        QuoteKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One party, or several speaking jointly, taking one stance on one proposition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Statement {
    /// Valid time: when it was said.
    pub said_on: SaidOn,
    /// Canonical actor id of the party the statement is attributed to.
    pub party: String,
    /// The other parties of a joint statement (a communiqué of several
    /// states), each holding the same position as `party` (event format 2).
    pub joint_with: Vec<String>,
    /// The person who spoke for the party, if known.
    pub speaker: Option<Speaker>,
    /// Vocabulary id of the stance (`calls-for`, `demands`, `denies`, ...).
    pub stance: String,
    /// The hedging words of a hedged statement ("cannot totally exclude").
    pub hedge: Option<String>,
    /// What the stance depends on ("after EU monitors deploy"), event format 2.
    pub condition: Option<String>,
    /// The date by which it is to happen (an ultimatum's), event format 2.
    pub deadline: Option<jiff::civil::Date>,
    /// What the stance is taken on.
    pub proposition: Proposition,
    /// The words as reported, verbatim where the source quotes them.
    pub quote: String,
    /// How the quote renders what was said (event format 2 for all but verbatim).
    pub quote_kind: QuoteKind,
    /// The language the words were said in, as a BCP 47 tag (`ru`, `fr`),
    /// event format 2.
    pub language: Option<String>,
    /// Where it was reported (the first source).
    pub source: Source,
    /// Further reports of the same statement (event format 2).
    pub more_sources: Vec<Source>,
    /// Where a machine coder made the statement from event data, its provenance
    /// (event format 3); `None` for a hand-recorded statement. Boxed, so that a
    /// hand-recorded statement does not grow.
    pub coded: Option<Box<Coded>>,
}

/// The provenance of a machine-coded statement: which coder made it from which
/// event, and how widely the event was reported. Stored with the statement and
/// hashed with it (event format 3). No floats: GDELT's GoldsteinScale and
/// AvgTone are kept as fixed-point integers and shown as decimals.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coded {
    /// The coder (`gdelt`): lower-case letters, digits and '-'.
    pub coder: String,
    /// The coder's id of the event (GDELT's `GLOBALEVENTID`).
    pub event_id: u64,
    /// The CAMEO event code the coder gave the event (`0256`).
    pub cameo: String,
    /// How many times the event was mentioned (`NumMentions`).
    pub mentions: u32,
    /// How many sources reported it (`NumSources`).
    pub sources: u32,
    /// The Goldstein scale of the event's code, in tenths (`-10.0` is `-100`).
    pub goldstein_tenths: i32,
    /// The average tone of the documents that mention it, in thousandths
    /// (`-3.413` is `-3413`).
    pub tone_thousandths: i32,
}

/// The coder of statements made from GDELT event data.
pub const CODER_GDELT: &str = "gdelt";

/// Formats a fixed-point integer with `places` decimals: `fixed(-34, 1)` is `-3.4`.
pub fn fixed(value: i32, places: u32) -> String {
    let scale = 10i64.pow(places);
    let v = i64::from(value);
    let sign = if v < 0 { "-" } else { "" };
    let (int, frac) = (v.abs() / scale, v.abs() % scale);
    format!("{sign}{int}.{frac:0width$}", width = places as usize)
}

/// Parses a decimal with at most `places` decimals into a fixed-point integer:
/// `parse_fixed("-3.4", 1)` is `Some(-34)`. `None` when it is not such a decimal
/// or does not fit.
pub fn parse_fixed(text: &str, places: u32) -> Option<i32> {
    let frac = text.split_once('.').map_or("", |(_, f)| f);
    (frac.len() <= places as usize)
        .then(|| round_fixed(text, places))
        .flatten()
}

/// A decimal written with an exponent (`-8.83e-05`) without it
/// (`-0.0000883`); `None` when the exponent is out of reach.
fn shift_point(mantissa: &str, exp: i32) -> Option<String> {
    if exp.abs() > 40 {
        return None;
    }
    let (sign, m) = mantissa
        .strip_prefix('-')
        .map_or(("", mantissa), |r| ("-", r));
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i32 + exp;
    let (int, frac) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{digits}", "0".repeat((-point) as usize)),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{digits}{}", "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    Some(format!("{sign}{int}.{frac}"))
}

/// Rounds a decimal to `places` decimals, half away from zero, without floats:
/// `round_fixed("-3.41296", 3)` is `Some(-3413)`. `None` when it is not a plain
/// decimal (digits, an optional sign and point) or does not fit.
pub fn round_fixed(text: &str, places: u32) -> Option<i32> {
    // One pass over the bytes: the integer digits, then a point and the
    // fraction's digits; anything else (an exponent) takes the long way.
    let b = text.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let int = digits.iter().take_while(|d| d.is_ascii_digit()).count();
    let frac = match digits.get(int) {
        None => &[][..],
        Some(b'.') => &digits[int + 1..],
        Some(_) => return round_fixed_exp(text, places),
    };
    if !frac.iter().all(u8::is_ascii_digit) {
        return round_fixed_exp(text, places);
    }
    if int == 0 || int > 9 {
        return None;
    }
    let digit = |i: usize| frac.get(i).map_or(0, |b| i64::from(b - b'0'));
    let mut v: i64 = digits[..int]
        .iter()
        .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
    for i in 0..places as usize {
        v = v * 10 + digit(i);
    }
    if digit(places as usize) >= 5 {
        v += 1;
    }
    i32::try_from(if neg { -v } else { v }).ok()
}

/// [`round_fixed`] of a decimal with an exponent (`-8.83e-05`); `None` for
/// anything else that is not a plain decimal (a mantissa beyond ASCII is
/// none, and is not cut inside a character).
fn round_fixed_exp(text: &str, places: u32) -> Option<i32> {
    let (mantissa, exp) = text.split_once(['e', 'E'])?;
    if !mantissa.is_ascii() {
        return None;
    }
    round_fixed(&shift_point(mantissa, exp.parse().ok()?)?, places)
}

impl Statement {
    /// The parties holding the statement's position: `party`, then `joint_with`.
    pub fn parties(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.party).chain(&self.joint_with)
    }

    /// Every source: `source`, then `more_sources`.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        std::iter::once(&self.source).chain(&self.more_sources)
    }

    /// Whether the statement uses a field only event format 2 can hold.
    pub fn needs_format_2(&self) -> bool {
        StatementRef::from(self).needs_format_2()
    }

    /// Whether the statement needs event format 3: it carries the provenance
    /// of a machine coder.
    pub fn needs_format_3(&self) -> bool {
        self.coded.is_some()
    }

    /// Whether a person recorded the statement (it has no machine provenance).
    pub fn is_hand_recorded(&self) -> bool {
        self.coded.is_none()
    }
}

/// A later fix of a wrongly recorded statement: replaces event `of`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Correction {
    /// The event corrected.
    pub of: Seq,
    /// The statement as it should have been recorded.
    pub statement: Statement,
    /// Why.
    pub reason: Option<String>,
}

/// A later withdrawal of a wrongly recorded event: removes event `of`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Retraction {
    /// The event retracted.
    pub of: Seq,
    /// Why.
    pub reason: String,
}

/// A new actor, with the names it may be written under.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActorDef {
    /// Canonical id: upper-case letters, digits and `-`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `state`, `organisation`, `body`, `person`, `group`, `company` or `other`.
    pub kind: String,
    /// Other names that resolve to this actor.
    pub aliases: Vec<String>,
    /// The actor this one belongs to (the UN for its Security Council).
    pub parent: Option<String>,
    /// CAMEO actor code, where one exists.
    pub cameo: Option<String>,
}

/// A role a person holds for a party over a span of days: who was foreign
/// minister of which state, from when (event format 2). A later role event for
/// the same person, party, role and start replaces this one (to set its end).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleDef {
    /// Canonical id of the person (an actor of kind `person`).
    pub actor: String,
    /// Canonical id of the party the role is held for.
    pub of: String,
    /// The role ("foreign minister").
    pub role: String,
    /// The first day in the role.
    pub from: jiff::civil::Date,
    /// The last day in the role, once it has ended.
    pub until: Option<jiff::civil::Date>,
}

/// One more name for an existing actor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AliasDef {
    /// Canonical id of the actor.
    pub actor: String,
    /// The new name.
    pub alias: String,
}

/// One immutable record of the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A statement.
    Statement(Statement),
    /// A correction of an earlier statement.
    Correction(Correction),
    /// A retraction of an earlier event.
    Retraction(Retraction),
    /// A new actor.
    Actor(ActorDef),
    /// A new alias of an actor.
    Alias(AliasDef),
    /// A person's role for a party over a span of days.
    Role(RoleDef),
}

impl Event {
    /// The `type` of the event in its JSON line.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Statement(_) => "statement",
            Event::Correction(_) => "correction",
            Event::Retraction(_) => "retraction",
            Event::Actor(_) => "actor",
            Event::Alias(_) => "alias",
            Event::Role(_) => "role",
        }
    }

    /// Whether the event needs event format 2: a role, or a statement using a
    /// field of format 2. Every other event is stored in format 1, so that an
    /// event has exactly one stored form.
    pub fn needs_format_2(&self) -> bool {
        match self {
            Event::Role(_) => true,
            e => e.statement().is_some_and(Statement::needs_format_2),
        }
    }

    /// The event format the event is stored in: 3 for a statement (or a
    /// correction's statement) with a machine coder's provenance, 2 for one
    /// that needs format 2 ([`Event::needs_format_2`]), else 1.
    pub fn format(&self) -> u8 {
        match self.statement() {
            Some(s) if s.needs_format_3() => 3,
            _ if self.needs_format_2() => 2,
            _ => 1,
        }
    }

    /// The statement an event carries, if any (a correction carries one too).
    pub fn statement(&self) -> Option<&Statement> {
        match self {
            Event::Statement(s) => Some(s),
            Event::Correction(c) => Some(&c.statement),
            _ => None,
        }
    }
}

/// An event as stored: its place in the chain and its hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Position in the chain.
    pub seq: Seq,
    /// Transaction time, microseconds since 1970-01-01 UTC.
    pub recorded_at: i64,
    /// Hash of the previous event.
    pub prev: Hash,
    /// This event's chain hash.
    pub hash: Hash,
    /// Digest of the stored payload bytes: the event's content identity.
    pub digest: Hash,
    /// The event, or `None` when its payload was redacted.
    pub event: Option<Event>,
    /// Length of the payload in bytes (covered by the chain hash).
    pub payload_len: u32,
    /// The payload's encoding: the event format, 1 or 2 (covered by the chain
    /// hash, and all a redacted record says of its event's format).
    pub encoding: u8,
}

/// An event with its place in the chain, read without its hashes: what a fold
/// of positions needs, and all it gets from a replay that skips hashing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain.
    pub seq: Seq,
    /// Transaction time, microseconds since 1970-01-01 UTC.
    pub recorded_at: i64,
    /// The event, or `None` when its payload was redacted.
    pub event: Option<Event>,
}

impl From<Recorded> for Entry {
    fn from(r: Recorded) -> Entry {
        Entry {
            seq: r.seq,
            recorded_at: r.recorded_at,
            event: r.event,
        }
    }
}

/// The fields of a statement a selection tests, read in place from its
/// stored bytes before anything is decoded (see
/// [`Ledger::each_kept_by_statement`](crate::ledger::Ledger::each_kept_by_statement)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatementFields<'a> {
    /// When it was said.
    pub said_on: jiff::civil::Date,
    /// Its party.
    pub party: &'a str,
    /// The parties it was made jointly with.
    pub joint_with: &'a [&'a str],
    /// Its stance.
    pub stance: &'a str,
    /// Its proposition's predicate.
    pub predicate: &'a str,
    /// Its proposition's subjects.
    pub subjects: &'a [&'a str],
    /// Its proposition's location.
    pub location: Option<&'a str>,
}

impl StatementFields<'_> {
    /// Its party, then those it was made jointly with.
    pub fn parties(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.party).chain(self.joint_with.iter().copied())
    }
}

// ---------------------------------------------------------------------------
// Borrowed events: an event's fields as references, taken from an owned
// [`Event`], straight from a stored payload (`codec::event_ref`), or from a
// line of input (`json::PlainLine`), so that an event can be written out, or
// encoded, without first being built as owned strings.

/// A statement's fields, borrowed. `S` is `String` when they are borrowed from
/// a [`Statement`], `&str` when borrowed from stored bytes or a line of input.
pub(crate) struct StatementRef<'a, S> {
    pub(crate) said_on: SaidOn,
    pub(crate) party: &'a str,
    pub(crate) joint_with: &'a [S],
    /// The speaker's name, role and actor.
    pub(crate) speaker: Option<(&'a str, Option<&'a str>, Option<&'a str>)>,
    pub(crate) stance: &'a str,
    pub(crate) hedge: Option<&'a str>,
    pub(crate) condition: Option<&'a str>,
    pub(crate) deadline: Option<jiff::civil::Date>,
    pub(crate) predicate: &'a str,
    pub(crate) subjects: &'a [S],
    pub(crate) location: Option<&'a str>,
    pub(crate) qualifier: Option<&'a str>,
    pub(crate) document: Option<&'a str>,
    pub(crate) quote: &'a str,
    pub(crate) quote_kind: QuoteKind,
    pub(crate) language: Option<&'a str>,
    pub(crate) source: SourceRef<'a>,
    /// Further sources (empty, and unallocated, for most statements).
    pub(crate) more_sources: Vec<SourceRef<'a>>,
    /// The provenance of a machine-coded statement.
    pub(crate) coded: Option<CodedRef<'a>>,
}

/// A short list of names for a [`StatementRef`] (a statement's subjects or
/// joint parties), held in place up to 8, as nearly every statement's are,
/// and in a vector past them.
pub(crate) enum Names<'a> {
    Few([&'a str; 8], usize),
    Many(Vec<&'a str>),
}

impl<'a> Names<'a> {
    pub(crate) fn new() -> Self {
        Names::Few([""; 8], 0)
    }

    pub(crate) fn push(&mut self, name: &'a str) {
        match self {
            Names::Few(few, n) if *n < few.len() => {
                few[*n] = name;
                *n += 1;
            }
            Names::Few(few, n) => {
                let mut many = few[..*n].to_vec();
                many.push(name);
                *self = Names::Many(many);
            }
            Names::Many(many) => many.push(name),
        }
    }

    pub(crate) fn as_slice(&self) -> &[&'a str] {
        match self {
            Names::Few(few, n) => &few[..*n],
            Names::Many(many) => many,
        }
    }
}

/// A machine-coded statement's provenance, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct CodedRef<'a> {
    pub(crate) coder: &'a str,
    pub(crate) event_id: u64,
    pub(crate) cameo: &'a str,
    pub(crate) mentions: u32,
    pub(crate) sources: u32,
    pub(crate) goldstein_tenths: i32,
    pub(crate) tone_thousandths: i32,
}

impl<'a> From<&'a Coded> for CodedRef<'a> {
    fn from(c: &'a Coded) -> Self {
        CodedRef {
            coder: &c.coder,
            event_id: c.event_id,
            cameo: &c.cameo,
            mentions: c.mentions,
            sources: c.sources,
            goldstein_tenths: c.goldstein_tenths,
            tone_thousandths: c.tone_thousandths,
        }
    }
}

/// A source's fields, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct SourceRef<'a> {
    pub(crate) url: Option<&'a str>,
    pub(crate) publisher: Option<&'a str>,
    pub(crate) published_on: Option<jiff::civil::Date>,
}

impl<'a> From<&'a Source> for SourceRef<'a> {
    fn from(s: &'a Source) -> Self {
        SourceRef {
            url: s.url.as_deref(),
            publisher: s.publisher.as_deref(),
            published_on: s.published_on,
        }
    }
}

/// An event's fields, borrowed (see [`StatementRef`] for `S`).
pub(crate) enum EventRef<'a, S> {
    Statement(StatementRef<'a, S>),
    Correction {
        of: Seq,
        statement: StatementRef<'a, S>,
        reason: Option<&'a str>,
    },
    Retraction {
        of: Seq,
        reason: &'a str,
    },
    Actor {
        id: &'a str,
        name: &'a str,
        kind: &'a str,
        aliases: &'a [S],
        parent: Option<&'a str>,
        cameo: Option<&'a str>,
    },
    Alias {
        actor: &'a str,
        alias: &'a str,
    },
    Role {
        actor: &'a str,
        of: &'a str,
        role: &'a str,
        from: jiff::civil::Date,
        until: Option<jiff::civil::Date>,
    },
}

impl<S: AsRef<str>> StatementRef<'_, S> {
    /// As [`Statement::needs_format_2`].
    pub(crate) fn needs_format_2(&self) -> bool {
        !self.joint_with.is_empty()
            || self.condition.is_some()
            || self.deadline.is_some()
            || self.quote_kind != QuoteKind::Verbatim
            || self.language.is_some()
            || !self.more_sources.is_empty()
            || self.document.is_some()
            || self.speaker.is_some_and(|(_, _, actor)| actor.is_some())
    }
}

impl<'a> From<&'a Statement> for StatementRef<'a, String> {
    fn from(s: &'a Statement) -> Self {
        StatementRef {
            said_on: s.said_on,
            party: &s.party,
            joint_with: &s.joint_with,
            speaker: s
                .speaker
                .as_ref()
                .map(|p| (p.name.as_str(), p.role.as_deref(), p.actor.as_deref())),
            stance: &s.stance,
            hedge: s.hedge.as_deref(),
            condition: s.condition.as_deref(),
            deadline: s.deadline,
            predicate: &s.proposition.predicate,
            subjects: &s.proposition.subjects,
            location: s.proposition.location.as_deref(),
            qualifier: s.proposition.qualifier.as_deref(),
            document: s.proposition.document.as_deref(),
            quote: &s.quote,
            quote_kind: s.quote_kind,
            language: s.language.as_deref(),
            source: (&s.source).into(),
            more_sources: s.more_sources.iter().map(SourceRef::from).collect(),
            coded: s.coded.as_deref().map(CodedRef::from),
        }
    }
}

impl<'a> From<&'a Event> for EventRef<'a, String> {
    fn from(e: &'a Event) -> Self {
        match e {
            Event::Statement(s) => EventRef::Statement(s.into()),
            Event::Correction(c) => EventRef::Correction {
                of: c.of,
                statement: (&c.statement).into(),
                reason: c.reason.as_deref(),
            },
            Event::Retraction(r) => EventRef::Retraction {
                of: r.of,
                reason: &r.reason,
            },
            Event::Actor(a) => EventRef::Actor {
                id: &a.id,
                name: &a.name,
                kind: &a.kind,
                aliases: &a.aliases,
                parent: a.parent.as_deref(),
                cameo: a.cameo.as_deref(),
            },
            Event::Alias(a) => EventRef::Alias {
                actor: &a.actor,
                alias: &a.alias,
            },
            Event::Role(r) => EventRef::Role {
                actor: &r.actor,
                of: &r.of,
                role: &r.role,
                from: r.from,
                until: r.until,
            },
        }
    }
}
