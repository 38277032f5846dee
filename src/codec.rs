//! The stored format: the only module that configures bincode and the
//! only one that knows the byte layout of a record. `schema/FORMAT.md` documents
//! every byte; `tests/golden.rs` pins them.
//!
//! A stored *record* is a fixed 56-byte header followed by the event *payload*:
//!
//! ```text
//! offset size field
//!      0    1 record format version (1)
//!      1    1 hash algorithm id (1 = BLAKE3)
//!      2    1 payload encoding (1 = event format 1, 2 = event format 2,
//!             3 = event format 3; all bincode 2 legacy config)
//!      3    1 flags (bit 0: redacted; no other bit may be set)
//!      4    8 seq, u64 little-endian
//!     12    8 recorded_at, i64 little-endian, microseconds since 1970-01-01 UTC
//!     20   32 previous event's chain hash
//!     52    4 payload length, u32 little-endian
//!     56    n payload (or, when redacted, the 32-byte payload digest)
//! ```
//!
//! The payload is the event in bincode's `legacy()` configuration: fixed-width
//! little-endian integers, u64 lengths, u32 enum tags in declaration order, a
//! one-byte tag for options. That configuration has exactly one encoding per
//! value; decoding is bounded by [`MAX_PAYLOAD`] and rejects trailing bytes.
//!
//! Event format 2 appends three variants to the event enum (a statement and a
//! correction with the fields of format 2, and a role) and is used exactly when
//! an event needs one of them ([`Event::needs_format_2`]); every other event is
//! stored in format 1 as before, so each event has one stored form and records
//! of earlier releases keep their bytes and hashes. The header's encoding byte
//! names the format, and must agree with the variant.
//!
//! Event format 3 appends two more variants: a statement and a correction that
//! carry, beside the fields of format 2, the provenance of a machine coder
//! ([`Coded`]). It is used exactly when a statement has that provenance, so
//! hand-recorded statements keep the format they had.

use crate::dates::{date_from_days, days_from_date};
use crate::event::{
    ActorDef, AliasDef, Coded, CodedRef, Correction, Event, EventRef, Hash, Proposition, QuoteKind,
    Retraction, RoleDef, SaidOn, Seq, Source, SourceRef, Speaker, Statement, StatementRef,
    TimeOfDay,
};
use bincode::{BorrowDecode, Encode};

/// Current record format version.
pub const FORMAT_VERSION: u8 = 1;
/// Hash algorithm id of BLAKE3.
pub const HASH_BLAKE3: u8 = 1;
/// Payload encoding id of event format 1 in bincode's legacy configuration.
pub const ENCODING_EVENT_V1: u8 = 1;
/// Payload encoding id of event format 2: format 1's variants and three more.
pub const ENCODING_EVENT_V2: u8 = 2;
/// Payload encoding id of event format 3: format 2's variants and two more, for
/// statements made by a machine coder.
pub const ENCODING_EVENT_V3: u8 = 3;
/// Flag bit: the payload was withheld and only its digest is stored.
pub const FLAG_REDACTED: u8 = 1;
/// Length of the fixed record header.
pub const HEADER_LEN: usize = 56;
/// Largest payload a record may carry, in bytes.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// What can be wrong with stored bytes, before any hash is checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Fewer bytes than the record needs.
    #[error("record truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the record needs.
        needed: usize,
        /// Bytes there are.
        available: usize,
    },
    /// A version or algorithm this build does not know.
    #[error("unknown {what} {value}")]
    Unknown {
        /// Which header field.
        what: &'static str,
        /// Its value.
        value: u8,
    },
    /// A payload longer than [`MAX_PAYLOAD`].
    #[error("payload of {0} bytes exceeds the limit of {MAX_PAYLOAD}")]
    TooLarge(usize),
    /// The payload does not decode as an event.
    #[error("payload does not decode: {0}")]
    Payload(String),
}

/// The fixed part of a stored record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Record format version.
    pub version: u8,
    /// Hash algorithm id.
    pub hash_alg: u8,
    /// Payload encoding id.
    pub encoding: u8,
    /// Flag bits.
    pub flags: u8,
    /// Position in the chain.
    pub seq: Seq,
    /// Transaction time, microseconds since 1970-01-01 UTC.
    pub recorded_at: i64,
    /// Previous event's chain hash.
    pub prev: Hash,
    /// Length of the original payload.
    pub payload_len: u32,
}

impl RecordHeader {
    /// A version-1 header for a payload of `payload_len` bytes.
    pub fn v1(seq: Seq, recorded_at: i64, prev: Hash, payload_len: u32) -> Self {
        RecordHeader {
            version: FORMAT_VERSION,
            hash_alg: HASH_BLAKE3,
            encoding: ENCODING_EVENT_V1,
            flags: 0,
            seq,
            recorded_at,
            prev,
            payload_len,
        }
    }

    /// A header for `payload`, with the encoding its variant needs.
    pub fn for_payload(seq: Seq, recorded_at: i64, prev: Hash, payload: &[u8]) -> Self {
        RecordHeader {
            encoding: encoding_of(payload),
            ..RecordHeader::v1(seq, recorded_at, prev, payload.len() as u32)
        }
    }

    /// Whether the payload was withheld.
    pub fn is_redacted(&self) -> bool {
        self.flags & FLAG_REDACTED != 0
    }
}

/// A record as it lies in a block: header and the exact stored body bytes.
#[derive(Clone, Copy, Debug)]
pub struct RawRecord<'a> {
    /// The header.
    pub header: RecordHeader,
    /// The payload bytes, or for a redacted record the 32-byte digest.
    pub body: &'a [u8],
}

/// Appends one record (header and payload) to `out`.
pub fn write_record(header: &RecordHeader, payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[
        header.version,
        header.hash_alg,
        header.encoding,
        header.flags,
    ]);
    out.extend_from_slice(&header.seq.to_le_bytes());
    out.extend_from_slice(&header.recorded_at.to_le_bytes());
    out.extend_from_slice(&header.prev.0);
    out.extend_from_slice(&header.payload_len.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Reads the record at the start of `bytes`; returns it and its stored length.
///
/// # Errors
/// [`FormatError`] when the bytes are too short or carry an unknown version,
/// algorithm, encoding or flag.
pub fn read_record(bytes: &[u8]) -> Result<(RawRecord<'_>, usize), FormatError> {
    if bytes.len() < HEADER_LEN {
        return Err(FormatError::Truncated {
            needed: HEADER_LEN,
            available: bytes.len(),
        });
    }
    let known = |what, value: u8, ok: u8| {
        if value == ok {
            Ok(())
        } else {
            Err(FormatError::Unknown { what, value })
        }
    };
    known("record format version", bytes[0], FORMAT_VERSION)?;
    known("hash algorithm", bytes[1], HASH_BLAKE3)?;
    if !matches!(
        bytes[2],
        ENCODING_EVENT_V1 | ENCODING_EVENT_V2 | ENCODING_EVENT_V3
    ) {
        return Err(FormatError::Unknown {
            what: "payload encoding",
            value: bytes[2],
        });
    }
    if bytes[3] & !FLAG_REDACTED != 0 {
        return Err(FormatError::Unknown {
            what: "flag bits",
            value: bytes[3],
        });
    }
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let header = RecordHeader {
        version: bytes[0],
        hash_alg: bytes[1],
        encoding: bytes[2],
        flags: bytes[3],
        seq: u64_at(4),
        recorded_at: i64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")),
        prev: Hash(bytes[20..52].try_into().expect("32 bytes")),
        payload_len: u32::from_le_bytes(bytes[52..56].try_into().expect("4 bytes")),
    };
    let payload_len = header.payload_len as usize;
    if payload_len > MAX_PAYLOAD {
        return Err(FormatError::TooLarge(payload_len));
    }
    let body_len = if header.is_redacted() {
        32
    } else {
        payload_len
    };
    let total = HEADER_LEN + body_len;
    if bytes.len() < total {
        return Err(FormatError::Truncated {
            needed: total,
            available: bytes.len(),
        });
    }
    let body = &bytes[HEADER_LEN..total];
    if !header.is_redacted() && body.len() >= 4 && encoding_of(body) != header.encoding {
        return Err(FormatError::Payload(format!(
            "an event of format {} under payload encoding {}",
            encoding_of(body),
            header.encoding
        )));
    }
    Ok((RawRecord { header, body }, total))
}

/// The payload encoding an event's variant tag belongs to: 3 for the variants
/// of event format 3, 2 for those of event format 2, else 1.
pub fn encoding_of(payload: &[u8]) -> u8 {
    match tag(payload) {
        Some(TAG_STATEMENT_V2..=TAG_ROLE) => ENCODING_EVENT_V2,
        Some(TAG_STATEMENT_CODED..=TAG_CORRECTION_CODED) => ENCODING_EVENT_V3,
        _ => ENCODING_EVENT_V1,
    }
}

const TAG_STATEMENT_V2: u32 = 5;
const TAG_ROLE: u32 = 7;
const TAG_STATEMENT_CODED: u32 = 8;
const TAG_CORRECTION_CODED: u32 = 9;

fn tag(payload: &[u8]) -> Option<u32> {
    payload
        .get(..4)
        .map(|t| u32::from_le_bytes(t.try_into().expect("4 bytes")))
}

/// Iterates over the records of a block (records laid end to end).
pub fn records(block: &[u8]) -> Records<'_> {
    Records { rest: block }
}

/// Iterator returned by [`records`].
pub struct Records<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RawRecord<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read_record(self.rest) {
            Ok((rec, len)) => {
                self.rest = &self.rest[len..];
                Some(Ok(rec))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The bytes the chain hash covers besides the payload digest (87 bytes with it):
/// version, algorithm, encoding, seq, recorded_at, prev, payload length. The flag
/// byte is left out so that a redaction does not change the hash.
pub fn link_input(header: &RecordHeader, digest: &Hash) -> [u8; 87] {
    let mut b = [0u8; 87];
    b[0] = header.version;
    b[1] = header.hash_alg;
    b[2] = header.encoding;
    b[3..11].copy_from_slice(&header.seq.to_le_bytes());
    b[11..19].copy_from_slice(&header.recorded_at.to_le_bytes());
    b[19..51].copy_from_slice(&header.prev.0);
    b[51..55].copy_from_slice(&header.payload_len.to_le_bytes());
    b[55..87].copy_from_slice(&digest.0);
    b
}

// ---------------------------------------------------------------------------
// Payload: the event in bincode's legacy configuration. These wire types are the
// format; the domain types in `event` convert to and from them. Enum variants and
// struct fields are only ever appended, never reordered or removed.

fn config() -> impl bincode::config::Config {
    bincode::config::legacy().with_limit::<MAX_PAYLOAD>()
}

#[derive(Encode, BorrowDecode)]
pub(crate) enum WireEvent<'a> {
    Statement(WireStatement<'a>),
    Correction(WireCorrection<'a>),
    Retraction(WireRetraction<'a>),
    Actor(WireActor<'a>),
    Alias(WireAlias<'a>),
    // Event format 2.
    StatementV2(WireStatement<'a>, WireMore<'a>),
    CorrectionV2(WireCorrection<'a>, WireMore<'a>),
    Role(WireRole<'a>),
    // Event format 3.
    StatementCoded(WireStatement<'a>, WireMore<'a>, WireCoded<'a>),
    CorrectionCoded(WireCorrection<'a>, WireMore<'a>, WireCoded<'a>),
}

/// The provenance of a machine-coded statement (event format 3).
#[derive(Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct WireCoded<'a> {
    coder: &'a str,
    event_id: u64,
    cameo: &'a str,
    mentions: u32,
    sources: u32,
    goldstein_tenths: i32,
    tone_thousandths: i32,
}

fn to_wire_coded(c: &Coded) -> WireCoded<'_> {
    WireCoded {
        coder: &c.coder,
        event_id: c.event_id,
        cameo: &c.cameo,
        mentions: c.mentions,
        sources: c.sources,
        goldstein_tenths: c.goldstein_tenths,
        tone_thousandths: c.tone_thousandths,
    }
}

/// A statement of format 3 names its coder.
fn check_coded(c: &WireCoded<'_>) -> Result<(), FormatError> {
    match c.coder.is_empty() {
        true => Err(FormatError::Payload(
            "a machine-coded statement without its coder".into(),
        )),
        false => Ok(()),
    }
}

fn from_wire_coded(c: &WireCoded<'_>) -> Box<Coded> {
    Box::new(Coded {
        coder: c.coder.to_string(),
        event_id: c.event_id,
        cameo: c.cameo.to_string(),
        mentions: c.mentions,
        sources: c.sources,
        goldstein_tenths: c.goldstein_tenths,
        tone_thousandths: c.tone_thousandths,
    })
}

fn coded_ref<'a>(c: &'a WireCoded<'a>) -> CodedRef<'a> {
    CodedRef {
        coder: c.coder,
        event_id: c.event_id,
        cameo: c.cameo,
        mentions: c.mentions,
        sources: c.sources,
        goldstein_tenths: c.goldstein_tenths,
        tone_thousandths: c.tone_thousandths,
    }
}

/// A statement of event format 3: format 2's fields, which may all be empty
/// here, and the provenance.
fn from_wire_statement_coded(
    w: WireStatement<'_>,
    more: WireMore<'_>,
    coded: &WireCoded<'_>,
) -> Result<Statement, FormatError> {
    check_coded(coded)?;
    check_speaker(&w, &more)?;
    let mut s = from_wire_statement(w)?;
    fill_more(&mut s, more)?;
    s.coded = Some(from_wire_coded(coded));
    Ok(s)
}

/// The fields of a statement that event format 2 adds.
#[derive(Encode, BorrowDecode, Default, PartialEq, Eq)]
pub(crate) struct WireMore<'a> {
    joint_with: Vec<&'a str>,
    speaker_actor: Option<&'a str>,
    condition: Option<&'a str>,
    deadline: Option<i32>,
    document: Option<&'a str>,
    /// 0 verbatim, 1 translation, 2 paraphrase.
    quote_kind: u8,
    language: Option<&'a str>,
    more_sources: Vec<WireSource<'a>>,
}

#[derive(Encode, BorrowDecode, PartialEq, Eq)]
pub(crate) struct WireSource<'a> {
    url: Option<&'a str>,
    publisher: Option<&'a str>,
    published_on: Option<i32>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireRole<'a> {
    actor: &'a str,
    of: &'a str,
    role: &'a str,
    from: i32,
    until: Option<i32>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireTime {
    seconds: u32,
    offset_minutes: Option<i16>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireSpeaker<'a> {
    name: &'a str,
    role: Option<&'a str>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireStatement<'a> {
    said_on: i32,
    said_at: Option<WireTime>,
    party: &'a str,
    speaker: Option<WireSpeaker<'a>>,
    stance: &'a str,
    hedge: Option<&'a str>,
    predicate: &'a str,
    subjects: Vec<&'a str>,
    location: Option<&'a str>,
    qualifier: Option<&'a str>,
    quote: &'a str,
    source_url: Option<&'a str>,
    source_publisher: Option<&'a str>,
    source_published_on: Option<i32>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireCorrection<'a> {
    of: u64,
    statement: WireStatement<'a>,
    reason: Option<&'a str>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireRetraction<'a> {
    of: u64,
    reason: &'a str,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireActor<'a> {
    id: &'a str,
    name: &'a str,
    kind: &'a str,
    aliases: Vec<&'a str>,
    parent: Option<&'a str>,
    cameo: Option<&'a str>,
}

#[derive(Encode, BorrowDecode)]
pub(crate) struct WireAlias<'a> {
    actor: &'a str,
    alias: &'a str,
}

fn to_wire_more<'a, S: AsRef<str>>(s: &StatementRef<'a, S>) -> WireMore<'a> {
    WireMore {
        joint_with: s.joint_with.iter().map(S::as_ref).collect(),
        speaker_actor: s.speaker.and_then(|(_, _, actor)| actor),
        condition: s.condition,
        deadline: s.deadline.map(days_from_date),
        document: s.document,
        quote_kind: s.quote_kind as u8,
        language: s.language,
        more_sources: s
            .more_sources
            .iter()
            .map(|x| WireSource {
                url: x.url,
                publisher: x.publisher,
                published_on: x.published_on.map(days_from_date),
            })
            .collect(),
    }
}

fn to_wire_statement<'a, S: AsRef<str>>(s: &StatementRef<'a, S>) -> WireStatement<'a> {
    WireStatement {
        said_on: days_from_date(s.said_on.date),
        said_at: s.said_on.time.map(|t| WireTime {
            seconds: t.seconds,
            offset_minutes: t.offset_minutes,
        }),
        party: s.party,
        speaker: s.speaker.map(|(name, role, _)| WireSpeaker { name, role }),
        stance: s.stance,
        hedge: s.hedge,
        predicate: s.predicate,
        subjects: s.subjects.iter().map(S::as_ref).collect(),
        location: s.location,
        qualifier: s.qualifier,
        quote: s.quote,
        source_url: s.source.url,
        source_publisher: s.source.publisher,
        source_published_on: s.source.published_on.map(days_from_date),
    }
}

fn date_field(days: i32, field: &str) -> Result<jiff::civil::Date, FormatError> {
    date_from_days(days).ok_or_else(|| FormatError::Payload(format!("{field} out of range")))
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

fn quote_kind(n: u8) -> Result<QuoteKind, FormatError> {
    QuoteKind::ALL
        .get(n as usize)
        .copied()
        .ok_or_else(|| FormatError::Payload(format!("unknown quote kind {n}")))
}

fn from_wire_source(w: &WireSource<'_>) -> Result<Source, FormatError> {
    Ok(Source {
        url: owned(w.url),
        publisher: owned(w.publisher),
        published_on: w
            .published_on
            .map(|d| date_field(d, "sources.published_on"))
            .transpose()?,
    })
}

/// A statement of event format 2 must need it: the format-1 form of the same
/// statement would be a second stored form of one event.
fn check_more(more: &WireMore<'_>) -> Result<(), FormatError> {
    if *more == WireMore::default() {
        return Err(FormatError::Payload(
            "an event of format 2 that format 1 holds".into(),
        ));
    }
    quote_kind(more.quote_kind).map(|_| ())
}

fn check_speaker(w: &WireStatement<'_>, more: &WireMore<'_>) -> Result<(), FormatError> {
    match w.speaker.is_none() && more.speaker_actor.is_some() {
        true => Err(FormatError::Payload(
            "a speaker's actor without a speaker".into(),
        )),
        false => Ok(()),
    }
}

fn from_wire_statement_v2(
    w: WireStatement<'_>,
    more: WireMore<'_>,
) -> Result<Statement, FormatError> {
    check_more(&more)?;
    check_speaker(&w, &more)?;
    let mut s = from_wire_statement(w)?;
    fill_more(&mut s, more)?;
    Ok(s)
}

/// Sets a format-1 statement's fields of format 2 from `more`.
fn fill_more(s: &mut Statement, more: WireMore<'_>) -> Result<(), FormatError> {
    s.joint_with = more.joint_with.into_iter().map(str::to_string).collect();
    if let Some(p) = &mut s.speaker {
        p.actor = owned(more.speaker_actor);
    }
    s.condition = owned(more.condition);
    s.deadline = more
        .deadline
        .map(|d| date_field(d, "deadline"))
        .transpose()?;
    s.proposition.document = owned(more.document);
    s.quote_kind = quote_kind(more.quote_kind)?;
    s.language = owned(more.language);
    s.more_sources = more
        .more_sources
        .iter()
        .map(from_wire_source)
        .collect::<Result<_, _>>()?;
    Ok(())
}

fn time_of_day(t: &WireTime) -> Result<TimeOfDay, FormatError> {
    match t.seconds < 86_400 {
        true => Ok(TimeOfDay {
            seconds: t.seconds,
            offset_minutes: t.offset_minutes,
        }),
        false => Err(FormatError::Payload("said_at out of range".into())),
    }
}

fn from_wire_statement(w: WireStatement<'_>) -> Result<Statement, FormatError> {
    let time = w.said_at.as_ref().map(time_of_day).transpose()?;
    Ok(Statement {
        said_on: SaidOn {
            date: date_field(w.said_on, "said_on")?,
            time,
        },
        party: w.party.to_string(),
        joint_with: Vec::new(),
        speaker: w.speaker.map(|p| Speaker {
            name: p.name.to_string(),
            role: owned(p.role),
            actor: None,
        }),
        stance: w.stance.to_string(),
        hedge: owned(w.hedge),
        condition: None,
        deadline: None,
        proposition: Proposition {
            predicate: w.predicate.to_string(),
            subjects: w.subjects.into_iter().map(str::to_string).collect(),
            location: owned(w.location),
            qualifier: owned(w.qualifier),
            document: None,
        },
        quote: w.quote.to_string(),
        quote_kind: QuoteKind::Verbatim,
        language: None,
        more_sources: Vec::new(),
        coded: None,
        source: Source {
            url: owned(w.source_url),
            publisher: owned(w.source_publisher),
            published_on: w
                .source_published_on
                .map(|d| date_field(d, "source.published_on"))
                .transpose()?,
        },
    })
}

/// Encodes an event as its payload (of event format 2 when it needs it).
///
/// # Errors
/// [`FormatError::TooLarge`] when the payload would exceed [`MAX_PAYLOAD`].
pub fn encode_event(event: &Event) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(512);
    encode_event_into(event, &mut out)?;
    Ok(out)
}

/// Appends an event's payload to `out`; returns its length.
///
/// # Errors
/// [`FormatError::TooLarge`] when the payload would exceed [`MAX_PAYLOAD`];
/// `out` is then left as it was.
pub fn encode_event_into(event: &Event, out: &mut Vec<u8>) -> Result<usize, FormatError> {
    let aliases: Vec<&str>;
    let wire = match event {
        Event::Statement(s) => return encode_statement_into(&s.into(), out),
        Event::Correction(c) => {
            let statement: StatementRef<'_, String> = (&c.statement).into();
            let correction = WireCorrection {
                of: c.of,
                statement: to_wire_statement(&statement),
                reason: c.reason.as_deref(),
            };
            match (&c.statement.coded, statement.needs_format_2()) {
                (Some(coded), _) => WireEvent::CorrectionCoded(
                    correction,
                    to_wire_more(&statement),
                    to_wire_coded(coded),
                ),
                (None, true) => WireEvent::CorrectionV2(correction, to_wire_more(&statement)),
                (None, false) => WireEvent::Correction(correction),
            }
        }
        Event::Role(r) => WireEvent::Role(WireRole {
            actor: &r.actor,
            of: &r.of,
            role: &r.role,
            from: days_from_date(r.from),
            until: r.until.map(days_from_date),
        }),
        Event::Retraction(r) => WireEvent::Retraction(WireRetraction {
            of: r.of,
            reason: &r.reason,
        }),
        Event::Actor(a) => {
            aliases = a.aliases.iter().map(String::as_str).collect();
            WireEvent::Actor(WireActor {
                id: &a.id,
                name: &a.name,
                kind: &a.kind,
                aliases,
                parent: a.parent.as_deref(),
                cameo: a.cameo.as_deref(),
            })
        }
        Event::Alias(a) => WireEvent::Alias(WireAlias {
            actor: &a.actor,
            alias: &a.alias,
        }),
    };
    encode_wire_into(&wire, out)
}

/// Appends a statement's payload to `out`, from its fields however they are
/// held (an owned [`Statement`], or a line's strings, borrowed); returns its
/// length. A statement is encoded here, and only here.
///
/// # Errors
/// As [`encode_event_into`].
pub(crate) fn encode_statement_into<S: AsRef<str>>(
    s: &StatementRef<'_, S>,
    out: &mut Vec<u8>,
) -> Result<usize, FormatError> {
    let wire = match (&s.coded, s.needs_format_2()) {
        (Some(coded), _) => WireEvent::StatementCoded(
            to_wire_statement(s),
            to_wire_more(s),
            WireCoded {
                coder: coded.coder,
                event_id: coded.event_id,
                cameo: coded.cameo,
                mentions: coded.mentions,
                sources: coded.sources,
                goldstein_tenths: coded.goldstein_tenths,
                tone_thousandths: coded.tone_thousandths,
            },
        ),
        (None, true) => WireEvent::StatementV2(to_wire_statement(s), to_wire_more(s)),
        (None, false) => WireEvent::Statement(to_wire_statement(s)),
    };
    encode_wire_into(&wire, out)
}

/// Appends `wire`'s bytes to `out`; on any error `out` is left as it was.
fn encode_wire_into(wire: &WireEvent<'_>, out: &mut Vec<u8>) -> Result<usize, FormatError> {
    let start = out.len();
    if let Err(e) = bincode::encode_into_std_write(wire, out, bincode::config::legacy()) {
        out.truncate(start);
        return Err(FormatError::Payload(e.to_string()));
    }
    let len = out.len() - start;
    if len > MAX_PAYLOAD {
        out.truncate(start);
        return Err(FormatError::TooLarge(len));
    }
    Ok(len)
}

/// Whether a payload is a correction or a retraction, read from its variant tag
/// alone (without decoding the rest).
pub fn is_amendment(payload: &[u8]) -> bool {
    matches!(tag(payload), Some(1 | 2 | 6 | 9))
}

/// Whether a payload is a retraction, read from its variant tag alone.
pub fn is_retraction(payload: &[u8]) -> bool {
    tag(payload) == Some(2)
}

/// Whether a payload is an actor, alias or role event: the registry's, read
/// from its variant tag alone.
pub fn is_reference(payload: &[u8]) -> bool {
    matches!(tag(payload), Some(3 | 4 | 7))
}

/// The wire form of exactly one event: bounded, with no trailing bytes.
/// Whether a payload is a statement of event format 1 or 2 (variant 0 or 5).
pub fn is_plain_statement(payload: &[u8]) -> bool {
    matches!(tag(payload), Some(0 | TAG_STATEMENT_V2))
}

/// The coder and event id of a machine-coded statement's payload (variant 8),
/// read without building the event; `None` for any other payload.
pub fn coded_event_id(payload: &[u8]) -> Option<(&str, u64)> {
    if tag(payload) != Some(TAG_STATEMENT_CODED) {
        return None;
    }
    match decode_wire(payload).ok()? {
        WireEvent::StatementCoded(_, _, c) => Some((c.coder, c.event_id)),
        _ => None,
    }
}

pub(crate) fn decode_wire(bytes: &[u8]) -> Result<WireEvent<'_>, FormatError> {
    if bytes.len() > MAX_PAYLOAD {
        return Err(FormatError::TooLarge(bytes.len()));
    }
    let (wire, used): (WireEvent<'_>, usize) = bincode::borrow_decode_from_slice(bytes, config())
        .map_err(|e| FormatError::Payload(e.to_string()))?;
    if used != bytes.len() {
        return Err(FormatError::Payload(format!(
            "{} trailing bytes after the event",
            bytes.len() - used
        )));
    }
    Ok(wire)
}

fn from_wire(wire: WireEvent<'_>) -> Result<Event, FormatError> {
    Ok(match wire {
        WireEvent::Statement(s) => Event::Statement(from_wire_statement(s)?),
        WireEvent::StatementV2(s, more) => Event::Statement(from_wire_statement_v2(s, more)?),
        WireEvent::StatementCoded(s, more, coded) => {
            Event::Statement(from_wire_statement_coded(s, more, &coded)?)
        }
        WireEvent::CorrectionCoded(c, more, coded) => Event::Correction(Correction {
            of: c.of,
            statement: from_wire_statement_coded(c.statement, more, &coded)?,
            reason: owned(c.reason),
        }),
        WireEvent::CorrectionV2(c, more) => Event::Correction(Correction {
            of: c.of,
            statement: from_wire_statement_v2(c.statement, more)?,
            reason: owned(c.reason),
        }),
        WireEvent::Role(r) => Event::Role(RoleDef {
            actor: r.actor.to_string(),
            of: r.of.to_string(),
            role: r.role.to_string(),
            from: date_field(r.from, "from")?,
            until: r.until.map(|d| date_field(d, "until")).transpose()?,
        }),
        WireEvent::Correction(c) => Event::Correction(Correction {
            of: c.of,
            statement: from_wire_statement(c.statement)?,
            reason: owned(c.reason),
        }),
        WireEvent::Retraction(r) => Event::Retraction(Retraction {
            of: r.of,
            reason: r.reason.to_string(),
        }),
        WireEvent::Actor(a) => Event::Actor(ActorDef {
            id: a.id.to_string(),
            name: a.name.to_string(),
            kind: a.kind.to_string(),
            aliases: a.aliases.into_iter().map(str::to_string).collect(),
            parent: owned(a.parent),
            cameo: owned(a.cameo),
        }),
        WireEvent::Alias(a) => Event::Alias(AliasDef {
            actor: a.actor.to_string(),
            alias: a.alias.to_string(),
        }),
    })
}

fn source_ref<'a>(w: &WireSource<'a>) -> Result<SourceRef<'a>, FormatError> {
    Ok(SourceRef {
        url: w.url,
        publisher: w.publisher,
        published_on: w
            .published_on
            .map(|d| date_field(d, "sources.published_on"))
            .transpose()?,
    })
}

/// Subjects (and joint parties) a [`FoldView`] holds; a statement with more
/// is left to the decoder.
pub(crate) const VIEW_SUBJECTS: usize = 6;

/// What a fold, and a snapshot's facts, take from a statement of event
/// format 1 or 2, read straight from its bytes by [`fold_view`].
pub(crate) struct FoldView<'a> {
    /// Days since 1970-01-01.
    pub(crate) said_on: i32,
    /// Seconds into the day and minutes from UTC, when known.
    pub(crate) said_at: Option<(u32, Option<i16>)>,
    pub(crate) party: &'a str,
    pub(crate) stance: &'a str,
    pub(crate) hedge: Option<&'a str>,
    pub(crate) predicate: &'a str,
    subjects: [&'a str; VIEW_SUBJECTS],
    subject_count: usize,
    pub(crate) location: Option<&'a str>,
    pub(crate) qualifier: Option<&'a str>,
    joint_with: [&'a str; VIEW_SUBJECTS],
    joint_count: usize,
    condition: Option<&'a str>,
    /// Days since 1970-01-01.
    deadline: Option<i32>,
    document: Option<&'a str>,
}

impl<'a> FoldView<'a> {
    pub(crate) fn subjects(&self) -> &[&'a str] {
        &self.subjects[..self.subject_count]
    }

    /// Whether it carries what a fact cannot hold: joint parties, a document,
    /// a condition or a deadline.
    pub(crate) fn whole(&self) -> bool {
        self.joint_count > 0
            || self.document.is_some()
            || self.condition.is_some()
            || self.deadline.is_some()
    }

    /// The fields a selection tests.
    pub(crate) fn fields(&self) -> crate::event::StatementFields<'_> {
        crate::event::StatementFields {
            said_on: date_from_days(self.said_on).expect("a date checked in range"),
            party: self.party,
            joint_with: &self.joint_with[..self.joint_count],
            stance: self.stance,
            predicate: self.predicate,
            subjects: self.subjects(),
            location: self.location,
        }
    }

    /// The statement as a fold reads it: every field a fold reads as
    /// [`event_ref`] gives it; quote, speaker, language and sources left out.
    pub(crate) fn for_fold(&self) -> StatementRef<'_, &'a str> {
        let date = |days| date_from_days(days).expect("a date checked in range");
        StatementRef {
            said_on: SaidOn {
                date: date(self.said_on),
                time: self.said_at.map(|(seconds, offset_minutes)| TimeOfDay {
                    seconds,
                    offset_minutes,
                }),
            },
            party: self.party,
            joint_with: &self.joint_with[..self.joint_count],
            speaker: None,
            stance: self.stance,
            hedge: self.hedge,
            condition: self.condition,
            deadline: self.deadline.map(date),
            predicate: self.predicate,
            subjects: self.subjects(),
            location: self.location,
            qualifier: self.qualifier,
            document: self.document,
            quote: "",
            quote_kind: QuoteKind::ALL[0],
            language: None,
            source: SourceRef {
                url: None,
                publisher: None,
                published_on: None,
            },
            more_sources: Vec::new(),
            coded: None,
        }
    }
}

/// Reads a statement of event format 1 or 2 as [`decode_wire`] and
/// [`event_ref`] read it, checking everything they check (every string's
/// UTF-8, every tag, the decoding limit, the dates, the time of day, format
/// 2's own rules, no trailing bytes), without building either. `None` for
/// anything else (another kind of event, a machine-coded statement, more
/// than [`VIEW_SUBJECTS`] subjects) and for anything they would refuse: the
/// caller then reads it with them, and meets their answer.
///
/// The view's strings are copies in a buffer kept on the thread, each
/// followed by a NUL, so that one check of the buffer's UTF-8 checks them
/// all (a string of valid UTF-8 cannot end or begin inside a character that
/// crosses an ASCII byte): one call instead of a score of them, which were
/// a tenth of a replay's samples.
pub(crate) fn with_fold_view<R>(bytes: &[u8], f: impl FnOnce(Option<FoldView<'_>>) -> R) -> R {
    thread_local! {
        static STRINGS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    STRINGS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(fold_view(bytes, &mut buf)),
        // A view read while another is held: a buffer of its own.
        Err(_) => f(fold_view(bytes, &mut Vec::new())),
    })
}

/// [`with_fold_view`]'s view, its strings copied into `strings`.
fn fold_view<'a>(bytes: &[u8], strings: &'a mut Vec<u8>) -> Option<FoldView<'a>> {
    if bytes.len() > MAX_PAYLOAD {
        return None;
    }
    strings.clear();
    let mut r = ViewReader {
        b: bytes,
        at: 0,
        claimed: 0,
        strings,
    };
    let format2 = match r.u32()? {
        0 => false,
        5 => true,
        _ => return None,
    };
    let said_on = r.i32()?;
    let said_at = r.option(|r| Some((r.u32()?, r.option(ViewReader::i16)?)))?;
    let party = r.str()?;
    let speaker = r.option(|r| {
        r.str()?;
        r.option(ViewReader::str)
    })?;
    let stance = r.str()?;
    let hedge = r.option(ViewReader::str)?;
    let predicate = r.str()?;
    let subject_count = r.vec_start::<&str>()?;
    if subject_count > VIEW_SUBJECTS {
        return None;
    }
    let mut subjects = [NO_SPAN; VIEW_SUBJECTS];
    for s in &mut subjects[..subject_count] {
        r.unclaim::<&str>();
        *s = r.str()?;
    }
    let location = r.option(ViewReader::str)?;
    let qualifier = r.option(ViewReader::str)?;
    r.str()?; // quote
    r.option(ViewReader::str)?; // source url
    r.option(ViewReader::str)?; // source publisher
    let mut dates_ok = r
        .option(ViewReader::i32)?
        .is_none_or(crate::dates::in_range);
    let mut joint_with = [NO_SPAN; VIEW_SUBJECTS];
    let (mut joint_count, mut condition, mut deadline, mut document) = (0, None, None, None);
    if format2 {
        let joint = r.vec_start::<&str>()?;
        if joint > VIEW_SUBJECTS {
            return None;
        }
        for s in &mut joint_with[..joint] {
            r.unclaim::<&str>();
            *s = r.str()?;
        }
        let speaker_actor = r.option(ViewReader::str)?;
        condition = r.option(ViewReader::str)?;
        deadline = r.option(ViewReader::i32)?;
        document = r.option(ViewReader::str)?;
        let quote_kind = r.u8()?;
        let language = r.option(ViewReader::str)?;
        let sources = r.vec_start::<WireSource<'_>>()?;
        for _ in 0..sources {
            r.unclaim::<WireSource<'_>>();
            r.option(ViewReader::str)?;
            r.option(ViewReader::str)?;
            dates_ok &= r
                .option(ViewReader::i32)?
                .is_none_or(crate::dates::in_range);
        }
        let empty = joint == 0
            && speaker_actor.is_none()
            && condition.is_none()
            && deadline.is_none()
            && document.is_none()
            && quote_kind == 0
            && language.is_none()
            && sources == 0;
        if empty
            || usize::from(quote_kind) >= QuoteKind::ALL.len()
            || (speaker.is_none() && speaker_actor.is_some())
        {
            return None;
        }
        dates_ok &= deadline.is_none_or(crate::dates::in_range);
        joint_count = joint;
    }
    let time_ok = said_at.is_none_or(|(seconds, _)| seconds < 86_400);
    if r.at != bytes.len() || !dates_ok || !time_ok || !crate::dates::in_range(said_on) {
        return None;
    }
    // Every string read, checked at once.
    let all = std::str::from_utf8(r.strings).ok()?;
    let s = |(start, end): Span| all.get(start..end);
    let opt = |span: Option<Span>| span.map(s).map_or(Some(None), |s| s.map(Some));
    let mut subject_strs = [""; VIEW_SUBJECTS];
    for (to, from) in subject_strs.iter_mut().zip(&subjects[..subject_count]) {
        *to = s(*from)?;
    }
    let mut joint_strs = [""; VIEW_SUBJECTS];
    for (to, from) in joint_strs.iter_mut().zip(&joint_with[..joint_count]) {
        *to = s(*from)?;
    }
    Some(FoldView {
        said_on,
        said_at,
        party: s(party)?,
        stance: s(stance)?,
        hedge: opt(hedge)?,
        predicate: s(predicate)?,
        subjects: subject_strs,
        subject_count,
        location: opt(location)?,
        qualifier: opt(qualifier)?,
        joint_with: joint_strs,
        joint_count,
        condition: opt(condition)?,
        deadline,
        document: opt(document)?,
    })
}

/// Where a string read by a [`ViewReader`] lies in its `strings`.
type Span = (usize, usize);
const NO_SPAN: Span = (0, 0);

/// Reads the fixed-width little-endian encoding of [`config`], claiming
/// what bincode claims against [`MAX_PAYLOAD`].
struct ViewReader<'a, 's> {
    b: &'a [u8],
    at: usize,
    claimed: usize,
    /// The strings read, each followed by a NUL, for one check of their UTF-8.
    strings: &'s mut Vec<u8>,
}

impl ViewReader<'_, '_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let out = self.b.get(self.at..self.at + N)?.try_into().ok()?;
        self.at += N;
        Some(out)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }

    fn i16(&mut self) -> Option<i16> {
        self.take().map(i16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn i32(&mut self) -> Option<i32> {
        self.take().map(i32::from_le_bytes)
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(u64::from_le_bytes(self.take()?)).ok()
    }

    fn claim(&mut self, n: usize) -> Option<()> {
        self.claimed = self.claimed.checked_add(n)?;
        (self.claimed <= MAX_PAYLOAD).then_some(())
    }

    /// A string: copied to `strings`, its UTF-8 checked with the others'.
    fn str(&mut self) -> Option<Span> {
        let n = self.len()?;
        self.claim(n)?;
        let end = self.at.checked_add(n)?;
        let start = self.strings.len();
        self.strings.extend_from_slice(self.b.get(self.at..end)?);
        self.strings.push(0);
        self.at = end;
        Some((start, start + n))
    }

    fn option<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.u8()? {
            0 => Some(None),
            1 => f(self).map(Some),
            _ => None,
        }
    }

    /// The length of a sequence of `T`, claimed as bincode claims it.
    fn vec_start<T>(&mut self) -> Option<usize> {
        let n = self.len()?;
        self.claim(n.checked_mul(std::mem::size_of::<T>())?)?;
        Some(n)
    }

    /// Gives back the claim of one element of a sequence, as bincode does
    /// before reading it.
    fn unclaim<T>(&mut self) {
        self.claimed -= std::mem::size_of::<T>();
    }
}

fn statement_ref<'a>(
    w: &'a WireStatement<'a>,
    more: Option<&'a WireMore<'a>>,
    coded: Option<&'a WireCoded<'a>>,
) -> Result<StatementRef<'a, &'a str>, FormatError> {
    let none = &[][..];
    if let Some(coded) = coded {
        check_coded(coded)?;
    }
    if let Some(more) = more {
        if coded.is_none() {
            check_more(more)?;
        }
        check_speaker(w, more)?;
    }
    Ok(StatementRef {
        said_on: SaidOn {
            date: date_field(w.said_on, "said_on")?,
            time: w.said_at.as_ref().map(time_of_day).transpose()?,
        },
        party: w.party,
        joint_with: more.map_or(none, |m| &m.joint_with),
        speaker: w
            .speaker
            .as_ref()
            .map(|p| (p.name, p.role, more.and_then(|m| m.speaker_actor))),
        stance: w.stance,
        hedge: w.hedge,
        condition: more.and_then(|m| m.condition),
        deadline: more
            .and_then(|m| m.deadline)
            .map(|d| date_field(d, "deadline"))
            .transpose()?,
        predicate: w.predicate,
        subjects: &w.subjects,
        location: w.location,
        qualifier: w.qualifier,
        document: more.and_then(|m| m.document),
        quote: w.quote,
        quote_kind: quote_kind(more.map_or(0, |m| m.quote_kind))?,
        language: more.and_then(|m| m.language),
        source: SourceRef {
            url: w.source_url,
            publisher: w.source_publisher,
            published_on: w
                .source_published_on
                .map(|d| date_field(d, "source.published_on"))
                .transpose()?,
        },
        more_sources: more
            .map(|m| m.more_sources.iter().map(source_ref).collect())
            .transpose()?
            .unwrap_or_default(),
        coded: coded.map(coded_ref),
    })
}

/// A decoded payload's fields, borrowed from its bytes, for writing it out
/// without building an owned event.
pub(crate) fn event_ref<'a>(w: &'a WireEvent<'a>) -> Result<EventRef<'a, &'a str>, FormatError> {
    Ok(match w {
        WireEvent::Statement(s) => EventRef::Statement(statement_ref(s, None, None)?),
        WireEvent::StatementV2(s, more) => EventRef::Statement(statement_ref(s, Some(more), None)?),
        WireEvent::StatementCoded(s, more, coded) => {
            EventRef::Statement(statement_ref(s, Some(more), Some(coded))?)
        }
        WireEvent::Correction(c) => EventRef::Correction {
            of: c.of,
            statement: statement_ref(&c.statement, None, None)?,
            reason: c.reason,
        },
        WireEvent::CorrectionV2(c, more) => EventRef::Correction {
            of: c.of,
            statement: statement_ref(&c.statement, Some(more), None)?,
            reason: c.reason,
        },
        WireEvent::CorrectionCoded(c, more, coded) => EventRef::Correction {
            of: c.of,
            statement: statement_ref(&c.statement, Some(more), Some(coded))?,
            reason: c.reason,
        },
        WireEvent::Role(r) => EventRef::Role {
            actor: r.actor,
            of: r.of,
            role: r.role,
            from: date_field(r.from, "from")?,
            until: r.until.map(|d| date_field(d, "until")).transpose()?,
        },
        WireEvent::Retraction(r) => EventRef::Retraction {
            of: r.of,
            reason: r.reason,
        },
        WireEvent::Actor(a) => EventRef::Actor {
            id: a.id,
            name: a.name,
            kind: a.kind,
            aliases: &a.aliases,
            parent: a.parent,
            cameo: a.cameo,
        },
        WireEvent::Alias(a) => EventRef::Alias {
            actor: a.actor,
            alias: a.alias,
        },
    })
}

/// Decodes a payload of either event format. Refuses trailing bytes and anything over the limit.
///
/// # Errors
/// [`FormatError::Payload`] when the bytes are not exactly one event.
pub fn decode_event(bytes: &[u8]) -> Result<Event, FormatError> {
    from_wire(decode_wire(bytes)?)
}

/// Decodes a payload for a fold of positions: a statement comes back without
/// its quote, speaker and source (empty), which folds never read; other events
/// come back whole. Checks exactly what [`decode_event`] checks.
///
/// # Errors
/// [`FormatError::Payload`] when the bytes are not exactly one event.
pub fn decode_event_for_fold(bytes: &[u8]) -> Result<Event, FormatError> {
    match decode_wire(bytes)? {
        WireEvent::Statement(mut w) => {
            blank_for_fold(&mut w);
            Ok(Event::Statement(from_wire_statement(w)?))
        }
        WireEvent::StatementV2(w, more) => {
            check_more(&more)?;
            Ok(Event::Statement(statement_v2_for_fold(w, more)?))
        }
        WireEvent::StatementCoded(w, more, coded) => {
            check_coded(&coded)?;
            let mut s = statement_v2_for_fold(w, more)?;
            s.coded = Some(from_wire_coded(&coded));
            Ok(Event::Statement(s))
        }
        wire => from_wire(wire),
    }
}

/// Leaves out of a statement what folds never read: quote, speaker, source.
fn blank_for_fold(w: &mut WireStatement<'_>) {
    w.quote = "";
    w.speaker = None;
    w.source_url = None;
    w.source_publisher = None;
    w.source_published_on = None;
}

/// A statement with the fields of event format 2, for a fold: checked as
/// [`decode_event`] checks it, then built without what folds never read.
fn statement_v2_for_fold(
    mut w: WireStatement<'_>,
    mut more: WireMore<'_>,
) -> Result<Statement, FormatError> {
    check_speaker(&w, &more)?;
    for s in &more.more_sources {
        source_ref(s)?;
    }
    blank_for_fold(&mut w);
    more.speaker_actor = None;
    more.language = None;
    more.more_sources = Vec::new();
    let mut s = from_wire_statement(w)?;
    fill_more(&mut s, more)?;
    Ok(s)
}

// ---------------------------------------------------------------------------
// Blocks: records laid end to end, stored plain or LZ4-compressed. Compression
// is a storage matter only: hashes cover the records, never the stored block.

/// Block encoding: the records follow as they are.
pub const BLOCK_PLAIN: u8 = 1;
/// Block encoding: u32 LE length of the records, then an LZ4 block of them.
pub const BLOCK_LZ4: u8 = 2;
/// Largest size of the records of one block, in bytes.
pub const MAX_BLOCK: usize = 1 << 20;

/// The stored form of a block of records: LZ4 when that saves space.
pub fn seal_block(records: &[u8]) -> Vec<u8> {
    if records.len() >= 256 {
        let packed = lz4_flex::block::compress(records);
        if packed.len() + 5 < records.len() {
            let mut out = Vec::with_capacity(packed.len() + 5);
            out.push(BLOCK_LZ4);
            out.extend_from_slice(&(records.len() as u32).to_le_bytes());
            out.extend_from_slice(&packed);
            return out;
        }
    }
    let mut out = Vec::with_capacity(records.len() + 1);
    out.push(BLOCK_PLAIN);
    out.extend_from_slice(records);
    out
}

/// A stored block's records as they are stored: plain, or LZ4 with the
/// size they decompress to.
enum Stored<'a> {
    Plain(&'a [u8]),
    Lz4 { size: usize, packed: &'a [u8] },
}

/// What a stored block holds, checked as far as it can be before any
/// decompressing.
fn stored_form(stored: &[u8]) -> Result<Stored<'_>, FormatError> {
    match stored.first() {
        Some(&BLOCK_PLAIN) => Ok(Stored::Plain(&stored[1..])),
        Some(&BLOCK_LZ4) => {
            if stored.len() < 5 {
                return Err(FormatError::Truncated {
                    needed: 5,
                    available: stored.len(),
                });
            }
            let size = u32::from_le_bytes(stored[1..5].try_into().expect("4 bytes")) as usize;
            if size > MAX_BLOCK {
                return Err(FormatError::TooLarge(size));
            }
            Ok(Stored::Lz4 {
                size,
                packed: &stored[5..],
            })
        }
        Some(&other) => Err(FormatError::Unknown {
            what: "block encoding",
            value: other,
        }),
        None => Err(FormatError::Truncated {
            needed: 1,
            available: 0,
        }),
    }
}

/// Decompresses `packed` into `out`, which it must fill exactly.
fn decompress_exactly(packed: &[u8], out: &mut [u8]) -> Result<(), FormatError> {
    let n = lz4_flex::block::decompress_into(packed, out)
        .map_err(|e| FormatError::Payload(format!("block does not decompress: {e}")))?;
    if n != out.len() {
        return Err(FormatError::Payload(
            "block decompresses to the wrong size".into(),
        ));
    }
    Ok(())
}

/// The records of a stored block.
///
/// # Errors
/// [`FormatError`] for an unknown encoding, a size over [`MAX_BLOCK`], or LZ4
/// data that does not decompress to exactly the stated size.
pub fn open_block(stored: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, FormatError> {
    match stored_form(stored)? {
        Stored::Plain(records) => Ok(std::borrow::Cow::Borrowed(records)),
        Stored::Lz4 { size, packed } => {
            let mut records = vec![0; size];
            decompress_exactly(packed, &mut records)?;
            Ok(std::borrow::Cow::Owned(records))
        }
    }
}

/// [`open_block`] with the records decompressed into `buf`, kept from block
/// to block so that its memory is reused (it only grows): the records,
/// borrowed from `stored` when the block is stored plain.
///
/// # Errors
/// As [`open_block`].
pub fn open_block_into<'a>(
    stored: &'a [u8],
    buf: &'a mut Vec<u8>,
) -> Result<&'a [u8], FormatError> {
    match stored_form(stored)? {
        Stored::Plain(records) => Ok(records),
        Stored::Lz4 { size, packed } => {
            if buf.len() < size {
                buf.resize(size, 0);
            }
            decompress_exactly(packed, &mut buf[..size])?;
            Ok(&buf[..size])
        }
    }
}

/// [`open_block`] of a block read into its own buffer: the records, in that
/// same buffer when the block is stored uncompressed.
///
/// # Errors
/// As [`open_block`].
pub fn open_block_owned(mut stored: Vec<u8>) -> Result<Vec<u8>, FormatError> {
    if stored.first() == Some(&BLOCK_PLAIN) {
        stored.remove(0);
        return Ok(stored);
    }
    open_block(&stored).map(std::borrow::Cow::into_owned)
}

/// Encodes the stored head value: size, hash and recorded_at of the last event.
pub fn encode_head(head: &crate::event::Head) -> [u8; 49] {
    let mut b = [0u8; 49];
    b[0] = FORMAT_VERSION;
    b[1..9].copy_from_slice(&head.size.to_le_bytes());
    b[9..41].copy_from_slice(&head.hash.0);
    b[41..49].copy_from_slice(&head.recorded_at.to_le_bytes());
    b
}

/// Decodes a stored head value.
///
/// # Errors
/// [`FormatError`] when the value is not 49 bytes of a known version.
pub fn decode_head(b: &[u8]) -> Result<crate::event::Head, FormatError> {
    if b.len() != 49 {
        return Err(FormatError::Truncated {
            needed: 49,
            available: b.len(),
        });
    }
    if b[0] != FORMAT_VERSION {
        return Err(FormatError::Unknown {
            what: "head version",
            value: b[0],
        });
    }
    Ok(crate::event::Head {
        size: u64::from_le_bytes(b[1..9].try_into().expect("8 bytes")),
        hash: Hash(b[9..41].try_into().expect("32 bytes")),
        recorded_at: i64::from_le_bytes(b[41..49].try_into().expect("8 bytes")),
    })
}

/// Encodes the derived actor index: for each actor or alias event, its seq
/// (u64 LE), payload length (u32 LE) and payload.
pub fn encode_index(entries: &[(Seq, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (seq, payload) in entries {
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
    }
    out
}

/// Decodes what [`encode_index`] wrote.
///
/// # Errors
/// [`FormatError`] when the bytes are cut short or an event does not decode.
pub fn decode_index(mut b: &[u8]) -> Result<Vec<(Seq, Vec<u8>, Event)>, FormatError> {
    let mut out = Vec::new();
    while !b.is_empty() {
        if b.len() < 12 {
            return Err(FormatError::Truncated {
                needed: 12,
                available: b.len(),
            });
        }
        let seq = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let len = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")) as usize;
        if b.len() < 12 + len {
            return Err(FormatError::Truncated {
                needed: 12 + len,
                available: b.len(),
            });
        }
        let payload = b[12..12 + len].to_vec();
        let event = decode_event(&payload)?;
        out.push((seq, payload, event));
        b = &b[12 + len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block opened into a buffer kept from block to block reads as
    /// [`open_block`] reads it, whatever the buffer held before: plain and
    /// compressed blocks, a larger block before a smaller one, and each kind
    /// of damage with the same error.
    #[test]
    fn a_block_opened_into_a_kept_buffer_reads_as_one_opened_alone() {
        let text = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|i| b"demarche ledger "[i % 16] ^ (i / 97) as u8)
                .collect()
        };
        let big = seal_block(&text(40_000));
        let small = seal_block(&text(3_000));
        let plain = seal_block(b"short");
        assert_eq!(big[0], BLOCK_LZ4);
        assert_eq!(small[0], BLOCK_LZ4);
        assert_eq!(plain[0], BLOCK_PLAIN);
        let mut wrong_size = small.clone();
        wrong_size[1..5].copy_from_slice(&2_999u32.to_le_bytes());
        let mut too_short = small.clone();
        too_short[1..5].copy_from_slice(&3_001u32.to_le_bytes());
        let mut too_large = small.clone();
        too_large[1..5].copy_from_slice(&(MAX_BLOCK as u32 + 1).to_le_bytes());
        let mut cut = small.clone();
        cut.truncate(small.len() - 7);
        let mut unknown = plain.clone();
        unknown[0] = 9;
        let mut buf = Vec::new();
        for stored in [
            &big[..],
            &small,
            &plain,
            &big,
            &wrong_size,
            &too_short,
            &too_large,
            &cut,
            &unknown,
            &small[..3],
            &[],
            &small,
        ] {
            let alone = open_block(stored).map(|r| r.into_owned());
            let kept = open_block_into(stored, &mut buf).map(<[u8]>::to_vec);
            assert_eq!(kept, alone);
        }
        assert_eq!(open_block_into(&small, &mut buf), Ok(&text(3_000)[..]));
    }

    #[test]
    fn unknown_flag_bits_are_refused() {
        let mut out = Vec::new();
        write_record(&RecordHeader::v1(1, 0, Hash::ZERO, 0), &[], &mut out);
        out[3] = 2;
        assert!(matches!(
            read_record(&out),
            Err(FormatError::Unknown {
                what: "flag bits",
                ..
            })
        ));
    }
}
