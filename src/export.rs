//! Exports: JSON Lines that carry every record's place in the chain, so that
//! anyone can check the chain from the export alone, and CSV for spreadsheets.
//!
//! An export line is an event's JSON (as `append --json` takes it) inside an
//! envelope: `seq`, `recorded_at` (RFC 3339, to the microsecond) first, then the
//! event's fields, then `prev`, `hash` and `digest` (hex). The digest is that of
//! the event's canonical payload (`schema/FORMAT.md` section 3), so a checker
//! re-encodes the fields, hashes them, and follows the links: a field edited, a
//! line dropped, moved or inserted, or a hash rewritten shows up as the first
//! seq that does not check. This module has no I/O of its own.

use crate::chain;
use crate::codec::{self, RecordHeader};
use crate::dates;
use crate::event::{Event, Hash, Head, Recorded, Seq};
use crate::input::InputError;
use crate::json;
use crate::json::view::{EnvelopeJson, RecordedJson};
use crate::ledger::{Ledger, LedgerError};
use crate::projection::{stance_kind, Amendments};
use crate::vocab::Vocabulary;
use serde_json::{Map, Value};

/// Longest export line read: an event line's limit plus room for the envelope.
pub const MAX_EXPORT_LINE: usize = json::MAX_LINE + 4096;

/// One record as an export line: the event's JSON in its envelope. A redacted
/// record has `"type": "redacted"` and carries its `payload_len`, which the
/// chain hash covers and which cannot be recomputed without the payload.
pub fn export_line(r: &Recorded) -> RecordedJson<'_> {
    RecordedJson {
        record: r,
        payload_len: true,
    }
}

/// Appends the export line of a stored record, with its newline, to `out`,
/// straight from its bytes (what [`write_export_line`] writes for the record
/// decoded).
///
/// # Errors
/// A payload that does not decode.
pub fn write_raw_export_line(
    rec: &crate::codec::RawRecord<'_>,
    out: &mut Vec<u8>,
) -> Result<(), crate::codec::FormatError> {
    let digest = chain::body_digest(rec);
    let hash = chain::link_hash(&rec.header, &digest);
    let wire;
    let event = if rec.header.is_redacted() {
        None
    } else {
        wire = codec::decode_wire(rec.body)?;
        Some(codec::event_ref(&wire)?)
    };
    let h = &rec.header;
    let line = EnvelopeJson {
        seq: h.seq,
        recorded_at: h.recorded_at,
        event,
        payload_len: Some(h.payload_len),
        encoding: h.encoding,
        prev: &h.prev,
        hash: &hash,
        digest: &digest,
    };
    serde_json::to_writer(&mut *out, &line).expect("JSON to memory");
    out.push(b'\n');
    Ok(())
}

/// Why writing an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Writing the output failed (a closed pipe among others).
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// Writes every record of `ledger` to `out` as export lines, straight from
/// the stored bytes (blocks are formatted on two threads and written in
/// order), and returns how many. `progress` is told the lines written so far.
///
/// # Errors
/// [`WriteError::Ledger`] for a store failure or a record that does not
/// decode (nothing after it is written); [`WriteError::Output`] when `out`
/// fails.
pub fn write_jsonl(
    ledger: &Ledger,
    out: &mut dyn std::io::Write,
    mut progress: impl FnMut(u64),
) -> Result<u64, WriteError> {
    let mut n = 0u64;
    let mut write_error = None;
    ledger.map_blocks(
        |key, records| {
            let mut buf = Vec::with_capacity(records.len() * 3 / 2);
            let mut count = 0u64;
            for rec in codec::records(records) {
                let rec = rec.map_err(|error| LedgerError::Corrupt { seq: key, error })?;
                write_raw_export_line(&rec, &mut buf).map_err(|error| LedgerError::Corrupt {
                    seq: rec.header.seq,
                    error,
                })?;
                count += 1;
            }
            Ok((buf, count))
        },
        |(buf, count)| {
            if let Err(e) = out.write_all(&buf) {
                write_error = Some(e);
                return Ok(false);
            }
            n += count;
            progress(n);
            Ok(true)
        },
    )?;
    match write_error {
        Some(e) => Err(e.into()),
        None => Ok(n),
    }
}

/// Appends one export line, with its newline, to `out`.
pub fn write_export_line(r: &Recorded, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, &export_line(r)).expect("JSON to memory");
    out.push(b'\n');
}

/// One export line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    /// The record's seq.
    pub seq: Seq,
    /// Its transaction time, microseconds since 1970 UTC.
    pub recorded_at: i64,
    /// The previous record's hash.
    pub prev: Hash,
    /// Its chain hash.
    pub hash: Hash,
    /// Its payload digest.
    pub digest: Hash,
    /// The event; `None` when redacted.
    pub event: Option<Event>,
    /// The payload length a redacted record declares.
    pub payload_len: Option<u32>,
    /// The payload encoding a redacted record declares (1 when it says none).
    pub payload_encoding: u8,
}

fn hash_field(m: &mut Map<String, Value>, field: &str) -> Result<Hash, InputError> {
    match m.remove(field) {
        Some(Value::String(s)) => Hash::from_hex(&s)
            .ok_or_else(|| InputError::new(field, "expected 64 lower-case hex digits")),
        Some(_) => Err(InputError::new(field, "expected a string of 64 hex digits")),
        None => Err(InputError::new(field, "missing")),
    }
}

/// Parses one export line.
///
/// # Errors
/// [`InputError`] naming the field: a missing or malformed envelope field, or
/// an event that does not parse as `append --json` would parse it.
pub fn parse_export_line(line: &str) -> Result<ExportRecord, InputError> {
    if line.len() > MAX_EXPORT_LINE {
        return Err(InputError::new(
            "",
            format!(
                "line is {} bytes long; the limit is {MAX_EXPORT_LINE}",
                line.len()
            ),
        ));
    }
    // Most lines are statements of the plainest JSON, as `export` writes
    // them: read straight. Any other line, or one whose envelope does not
    // check, is read as a JSON value below, which names what is wrong.
    if let Some((envelope, event)) = json::export_statement(line) {
        if let Some(mut record) = plain_envelope(&envelope) {
            record.event = Some(event()?);
            return Ok(record);
        }
    }
    parse_export_value(line)
}

/// [`parse_export_line`] through a JSON value, for any line.
fn parse_export_value(line: &str) -> Result<ExportRecord, InputError> {
    let mut m: Map<String, Value> = match serde_json::from_str(line) {
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err(InputError::new("", "expected a JSON object")),
        Err(e) => return Err(InputError::new("", format!("not JSON: {e}"))),
    };
    let seq = match m.remove("seq") {
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|&s| s > 0)
            .ok_or_else(|| InputError::new("seq", "expected a whole number, 1 or more"))?,
        Some(_) => return Err(InputError::new("seq", "expected a whole number")),
        None => return Err(InputError::new("seq", "missing")),
    };
    let recorded_at = match m.remove("recorded_at") {
        Some(Value::String(s)) => s
            .parse::<jiff::Timestamp>()
            .map_err(|e| {
                InputError::new(
                    "recorded_at",
                    format!("expected an RFC 3339 time such as 2021-01-29T14:03:07.123456Z: {e}"),
                )
            })?
            .as_microsecond(),
        Some(_) => return Err(InputError::new("recorded_at", "expected a string")),
        None => return Err(InputError::new("recorded_at", "missing")),
    };
    let prev = hash_field(&mut m, "prev")?;
    let hash = hash_field(&mut m, "hash")?;
    let digest = hash_field(&mut m, "digest")?;
    let payload_len = match m.remove("payload_len") {
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| InputError::new("payload_len", "expected a byte count"))?,
        ),
        Some(_) => return Err(InputError::new("payload_len", "expected a byte count")),
        None => None,
    };
    let payload_encoding = match m.remove("payload_encoding") {
        None => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .filter(|n| {
                    matches!(
                        *n,
                        codec::ENCODING_EVENT_V1
                            | codec::ENCODING_EVENT_V2
                            | codec::ENCODING_EVENT_V3
                    )
                })
                .ok_or_else(|| InputError::new("payload_encoding", "expected 1, 2 or 3"))?,
        ),
        Some(_) => return Err(InputError::new("payload_encoding", "expected 1, 2 or 3")),
    };
    let event = if m.get("type").and_then(Value::as_str) == Some("redacted") {
        if m.len() > 1 {
            return Err(InputError::new(
                "type",
                "a redacted record carries no event fields",
            ));
        }
        if payload_len.is_none() {
            return Err(InputError::new("payload_len", "missing (redacted record)"));
        }
        None
    } else {
        if payload_len.is_some() {
            return Err(InputError::new(
                "payload_len",
                "only a redacted record carries it",
            ));
        }
        if payload_encoding.is_some() {
            return Err(InputError::new(
                "payload_encoding",
                "only a redacted record carries it",
            ));
        }
        Some(json::parse_event(&Value::Object(m).to_string())?)
    };
    Ok(ExportRecord {
        seq,
        recorded_at,
        prev,
        hash,
        digest,
        event,
        payload_len,
        payload_encoding: payload_encoding.unwrap_or(codec::ENCODING_EVENT_V1),
    })
}

/// The record of an envelope read straight, its event still to come; `None`
/// when a field does not check.
fn plain_envelope(e: &json::Envelope<'_>) -> Option<ExportRecord> {
    let recorded_at = e.recorded_at.parse::<jiff::Timestamp>().ok()?;
    Some(ExportRecord {
        seq: e.seq,
        recorded_at: recorded_at.as_microsecond(),
        prev: Hash::from_hex(e.prev)?,
        hash: Hash::from_hex(e.hash)?,
        digest: Hash::from_hex(e.digest)?,
        event: None,
        payload_len: None,
        payload_encoding: codec::ENCODING_EVENT_V1,
    })
}

/// An export record's place in the chain, and whether it hashes as it says
/// ([`ExportRecord::check_hashes`]): what [`ExportChecker`] follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The record's seq.
    pub seq: Seq,
    /// Its transaction time, microseconds since 1970 UTC.
    pub recorded_at: i64,
    /// The previous record's hash, as the line says.
    pub prev: Hash,
    /// Its chain hash, as the line says.
    pub hash: Hash,
    /// Whether its fields hash to the digest and the record to the hash the
    /// line carries; what is wrong, in words, when not.
    pub hashes: Result<(), String>,
}

impl ExportRecord {
    /// Its place in the chain, its hashes checked (re-encoding the event into
    /// `payload`).
    pub fn linked(&self, payload: &mut Vec<u8>) -> Linked {
        Linked {
            seq: self.seq,
            recorded_at: self.recorded_at,
            prev: self.prev,
            hash: self.hash,
            hashes: self.check_hashes(payload),
        }
    }

    /// Re-encodes the event as its payload (left in `payload`) and checks that
    /// it hashes to the record's digest, and the record to its chain hash.
    ///
    /// # Errors
    /// What does not hash as the record says, in words.
    pub fn check_hashes(&self, payload: &mut Vec<u8>) -> Result<(), String> {
        payload.clear();
        let (digest, len) = match (&self.event, self.payload_len) {
            (Some(event), _) => {
                codec::encode_event_into(event, payload)
                    .map_err(|e| format!("the event does not encode: {e}"))?;
                let digest = chain::payload_digest(payload);
                if digest != self.digest {
                    return Err(format!(
                        "the event's fields hash to digest {}, not to the {} the line carries: the fields were edited",
                        digest.to_hex(),
                        self.digest.to_hex()
                    ));
                }
                (digest, payload.len() as u32)
            }
            (None, Some(len)) => (self.digest, len),
            (None, None) => return Err("a redacted record without payload_len".into()),
        };
        let header = RecordHeader {
            encoding: match &self.event {
                Some(_) => codec::encoding_of(payload),
                None => self.payload_encoding,
            },
            ..RecordHeader::v1(self.seq, self.recorded_at, self.prev, len)
        };
        let hash = chain::link_hash(&header, &digest);
        if hash != self.hash {
            return Err(format!(
                "the record hashes to {}, not to the {} the line carries",
                hash.to_hex(),
                self.hash.to_hex()
            ));
        }
        Ok(())
    }
}

/// Where an export stops checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportProblem {
    /// The first seq that does not check.
    pub seq: Seq,
    /// Its 1-based line in the export.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Follows the chain through an export, one record at a time: each record must
/// come next in seq, link to the one before, and hash to what it carries.
#[derive(Debug, Clone)]
pub struct ExportChecker {
    head: Head,
    problem: Option<ExportProblem>,
    payload: Vec<u8>,
    expect: Option<(u64, Hash)>,
    last_line: usize,
}

impl Default for ExportChecker {
    fn default() -> Self {
        Self::new()
    }
}

impl ExportChecker {
    /// A checker at the start of a chain.
    pub fn new() -> Self {
        ExportChecker {
            head: Head {
                size: 0,
                hash: Hash::ZERO,
                recorded_at: i64::MIN,
            },
            problem: None,
            payload: Vec::new(),
            expect: None,
            last_line: 0,
        }
    }

    /// Also requires the chain to pass through a head saved earlier: record
    /// `size` must hash to `hash`. A chain that was cut short, or rewritten and
    /// re-hashed, does not.
    pub fn expecting(mut self, size: u64, hash: Hash) -> Self {
        self.expect = Some((size, hash));
        self
    }

    /// Ends the check: an export that stopped before the expected head is a
    /// problem.
    pub fn finish(&mut self) {
        let (None, Some((size, hash))) = (&self.problem, self.expect) else {
            return;
        };
        let message = if self.head.size < size {
            format!(
                "the export ends at seq {}, before the expected head at seq {size}: records were cut off",
                self.head.size
            )
        } else if size == 0 && hash != Hash::ZERO {
            // No record has seq 0: a head of no events is met by the empty
            // ledger's hash alone, which every chain starts from.
            format!(
                "the export differs from the expected head 0:{}: a ledger of no events has the hash {}",
                hash.to_hex(),
                Hash::ZERO.to_hex()
            )
        } else {
            return;
        };
        self.problem = Some(ExportProblem {
            seq: self.head.size + 1,
            line: self.last_line + 1,
            message,
        });
    }

    /// Checks the next record, read from 1-based `line`. Returns `false` once a
    /// problem was found (the first one is kept).
    pub fn feed(&mut self, line: usize, rec: &ExportRecord) -> bool {
        if self.problem.is_some() {
            return false;
        }
        let linked = rec.linked(&mut self.payload);
        self.feed_linked(line, &linked)
    }

    /// [`feed`](Self::feed) for a record whose hashes were checked already
    /// (on another thread, say).
    pub fn feed_linked(&mut self, line: usize, rec: &Linked) -> bool {
        if self.problem.is_some() {
            return false;
        }
        let fail = |message: String| ExportProblem {
            seq: rec.seq,
            line,
            message,
        };
        let expected = self.head.size + 1;
        let problem = if rec.seq != expected {
            Some(fail(format!(
                "seq {} where seq {expected} should come next: a record was dropped, moved or inserted",
                rec.seq
            )))
        } else if rec.prev != self.head.hash {
            Some(fail(format!(
                "prev is {}, but the record before hashes to {}",
                rec.prev.to_hex(),
                self.head.hash.to_hex()
            )))
        } else if rec.recorded_at < self.head.recorded_at {
            Some(fail("recorded_at is earlier than the record before".into()))
        } else {
            rec.hashes.clone().err().map(fail)
        }
        .or_else(|| match self.expect {
            Some((size, hash)) if size == rec.seq && hash != rec.hash => Some(fail(format!(
                "seq {size} hashes to {}, not to the expected head's {}: the chain was rewritten",
                rec.hash.to_hex(),
                hash.to_hex()
            ))),
            _ => None,
        });
        self.last_line = line;
        match problem {
            Some(p) => {
                self.problem = Some(p);
                false
            }
            None => {
                self.head = Head {
                    size: rec.seq,
                    hash: rec.hash,
                    recorded_at: rec.recorded_at,
                };
                true
            }
        }
    }

    /// Records that checked so far, and the hash of the last one.
    pub fn head(&self) -> Head {
        self.head
    }

    /// The first problem, if any.
    pub fn problem(&self) -> Option<&ExportProblem> {
        self.problem.as_ref()
    }
}

/// Columns of the CSV export. Columns are only ever appended: scripts find them
/// by name or by place.
pub const CSV_COLUMNS: [&str; 35] = [
    "seq",
    "said_on",
    "party",
    "stance",
    "stance_kind",
    "hedge",
    "predicate",
    "subject",
    "location",
    "qualifier",
    "cameo",
    "cameo_label",
    "plover",
    "corrected_by",
    "speaker",
    "quote",
    "source_url",
    "recorded_at",
    "hash",
    "joint_with",
    "condition",
    "deadline",
    "document",
    "quote_kind",
    "language",
    "publisher",
    "published_on",
    "speaker_role",
    "status",
    "said_at",
    "coded_by",
    "coded_event_id",
    "mentions",
    "goldstein",
    "tone",
];

/// Whether a field is a plain decimal number (`-3.4`), which a spreadsheet
/// reads as a number, never as a formula.
fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && (int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
}

/// Writes a CSV field: a field that a spreadsheet would read as a formula (one
/// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not
/// a plain decimal number such as a negative tone) is written
/// with a leading `'`, so that a quote, which is untrusted text, is shown and
/// never run; then the field is quoted when it needs it (RFC 4180).
fn csv_field(s: &str, out: &mut String) {
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_decimal(s) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// The CSV header line, with its line ending.
pub fn csv_header() -> String {
    let mut s = CSV_COLUMNS.join(",");
    s.push_str("\r\n");
    s
}

/// CSV rows for one recorded event: one per (statement, subject) pair of a
/// statement that stands, as the positions see it: a retracted statement has
/// no rows, and a corrected one is shown as corrected, under its own seq, with
/// the correction's seq in `corrected_by`. Corrections, retractions and actor
/// events themselves have no rows. A statement with no subjects has one row with
/// an empty `subject`. A joint statement's other parties are in `joint_with`,
/// separated by spaces. `said_on` is the date alone (`YYYY-MM-DD`), so that the
/// column reads as dates; a time of day, with its offset when one was given,
/// is in `said_at` (`HH:MM:SS`, `HH:MM:SSZ`, `HH:MM:SS+02:00`). `status` is
/// `standing` or `corrected`.
pub fn csv_rows(r: &Recorded, amendments: &Amendments, out: &mut String) {
    let Some(Event::Statement(original)) = &r.event else {
        return;
    };
    if amendments.retracted.contains(&r.seq) {
        return;
    }
    let (corrected_by, s) = match amendments.corrected.get(&r.seq) {
        Some((by, s)) => (Some(*by), s),
        None => (None, original),
    };
    let vocab = Vocabulary::builtin();
    let mapping = vocab.mapping(&s.stance, &s.proposition.predicate);
    let cameo = mapping.map(|m| m.cameo.as_str()).unwrap_or("");
    let cameo_label = vocab
        .cameo_labels
        .get(cameo)
        .map(String::as_str)
        .unwrap_or("");
    let plover = mapping.and_then(|m| m.plover.as_deref()).unwrap_or("");
    let none: [String; 1] = [String::new()];
    let subjects: &[String] = if s.proposition.subjects.is_empty() {
        &none
    } else {
        &s.proposition.subjects
    };
    let said_on = s.said_on.date.to_string();
    let said_at = dates::format_said_on(&s.said_on)
        .split_once('T')
        .map(|(_, t)| t.to_string())
        .unwrap_or_default();
    let status = if corrected_by.is_some() {
        "corrected"
    } else {
        "standing"
    };
    let recorded_at = dates::format_recorded_at(r.recorded_at);
    let hash = r.hash.to_hex();
    let seq = r.seq.to_string();
    let corrected_by = corrected_by.map(|c| c.to_string()).unwrap_or_default();
    let speaker = s.speaker.as_ref().map(|p| p.name.as_str()).unwrap_or("");
    let joint_with = s.joint_with.join(" ");
    let deadline = s.deadline.map(|d| d.to_string()).unwrap_or_default();
    let published_on = s
        .source
        .published_on
        .map(|d| d.to_string())
        .unwrap_or_default();
    let speaker_role = s
        .speaker
        .as_ref()
        .and_then(|p| p.role.as_deref())
        .unwrap_or("");
    let coded = s.coded.as_deref();
    let coded_by = coded.map_or("human", |c| c.coder.as_str());
    let coded_event_id = coded.map(|c| c.event_id.to_string()).unwrap_or_default();
    let mentions = coded.map(|c| c.mentions.to_string()).unwrap_or_default();
    let goldstein = coded
        .map(|c| crate::event::fixed(c.goldstein_tenths, 1))
        .unwrap_or_default();
    let tone = coded
        .map(|c| crate::event::fixed(c.tone_thousandths, 3))
        .unwrap_or_default();
    for subject in subjects {
        let fields: [&str; CSV_COLUMNS.len()] = [
            &seq,
            &said_on,
            &s.party,
            &s.stance,
            stance_kind(&s.stance),
            s.hedge.as_deref().unwrap_or(""),
            &s.proposition.predicate,
            subject,
            s.proposition.location.as_deref().unwrap_or(""),
            s.proposition.qualifier.as_deref().unwrap_or(""),
            cameo,
            cameo_label,
            plover,
            &corrected_by,
            speaker,
            &s.quote,
            s.source.url.as_deref().unwrap_or(""),
            &recorded_at,
            &hash,
            &joint_with,
            s.condition.as_deref().unwrap_or(""),
            &deadline,
            s.proposition.document.as_deref().unwrap_or(""),
            s.quote_kind.as_str(),
            s.language.as_deref().unwrap_or(""),
            s.source.publisher.as_deref().unwrap_or(""),
            &published_on,
            speaker_role,
            status,
            &said_at,
            coded_by,
            &coded_event_id,
            &mentions,
            &goldstein,
            &tone,
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(f, out);
        }
        out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_export_line, parse_export_value, write_jsonl};
    use crate::ledger::{BatchOptions, Incoming, Ledger};
    use crate::{example, json};

    /// Export lines of the worked example and of statements with every
    /// optional field, a correction and a retraction among them.
    fn export_lines() -> Vec<String> {
        let mut ledger = Ledger::in_memory();
        example::record(&mut ledger).expect("the example records");
        let more = [
            r#"{"type":"statement","said_on":"2021-02-03T10:00Z","party":"TUR","joint_with":["RUS"],"speaker":{"name":"Ça «quoi»","role":"r"},"stance":"rejects","hedge":"h","condition":"if c","deadline":"2021-03-01","proposition":{"predicate":"presence","subjects":["LBY"],"location":"LBY","qualifier":"mercenaries","document":"d"},"quote":"é — ü","quote_kind":"paraphrase","language":"fr","source":{"url":"https://e.example/x","publisher":"AFP","published_on":"2021-02-04"}}"#,
            r#"{"type":"statement","said_on":"2021-02-05","party":"RUS","stance":"denies","proposition":{"predicate":"ceasefire","subjects":[]},"quote":"a \"quoted\" word","source":{"publisher":"TASS"}}"#,
            r#"{"type":"correction","of":2,"statement":{"type":"statement","said_on":"2021-01-28","party":"UN","stance":"asserts","proposition":{"predicate":"ceasefire","subjects":[],"location":"LBY"},"quote":"The cease-fire holds","source":{"publisher":"p"}},"reason":"misquoted"}"#,
            r#"{"type":"retraction","of":3,"reason":"wrong party"}"#,
        ];
        let items = more.iter().map(|l| {
            Ok::<_, crate::ledger::Abort>(Incoming {
                event: Box::new(json::parse_event(l).expect("the test's lines parse")),
                original: None,
            })
        });
        ledger
            .import_batch(items, BatchOptions::default())
            .expect("the test's lines append");
        let mut out = Vec::new();
        write_jsonl(&ledger, &mut out, |_| {}).expect("the export is written");
        String::from_utf8(out)
            .expect("exports are UTF-8")
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn export_lines_read_straight_are_read_as_through_a_json_value() {
        let lines = export_lines();
        assert_eq!(lines.len(), 14);
        // The lines `export` writes of plain statements are read straight.
        let straight = lines
            .iter()
            .filter(|l| json::export_statement(l).is_some())
            .count();
        assert_eq!(straight, 11, "the example's ten and one with every field");
        for line in &lines {
            let record = parse_export_line(line).expect("an export line parses");
            assert_eq!(Ok(&record), parse_export_value(line).as_ref(), "{line}");
        }
        // Every line spoiled one byte at a time reads the same either way,
        // the error included, whether the fast reading takes it or not.
        let (mut taken, mut taken_and_refused) = (0, 0);
        // The first, the one with every field, one with an escape, a correction.
        for line in [&lines[0], &lines[10], &lines[11], &lines[12]] {
            for at in 0..line.len() {
                for with in ["", "\"", "\\", "0", "1", "-", ".", ",", " ", "x", "}"] {
                    if !line.is_char_boundary(at) || !line.is_char_boundary(at + 1) {
                        continue;
                    }
                    let spoiled = format!("{}{with}{}", &line[..at], &line[at + 1..]);
                    let read = parse_export_line(&spoiled);
                    assert_eq!(read, parse_export_value(&spoiled), "{spoiled}");
                    if json::export_statement(&spoiled).is_some() {
                        taken += 1;
                        taken_and_refused += usize::from(read.is_err());
                    }
                }
            }
        }
        assert!(taken > 5_000, "{taken}");
        assert!(taken_and_refused > 500, "{taken_and_refused}");
    }

    #[test]
    fn an_envelope_read_straight_refuses_what_a_json_value_refuses() {
        let line = &export_lines()[0];
        let seq = r#"{"seq":1,"#;
        assert!(line.starts_with(seq), "{line}");
        let body = &line[seq.len()..];
        for (envelope, field) in [
            (r#"{"seq":0,"#, "seq"),
            (r#"{"seq":01,"#, ""),
            (r#"{"seq":1.0,"#, "seq"),
            (r#"{"seq":1e0,"#, "seq"),
            (r#"{"seq":-1,"#, "seq"),
            (r#"{"seq":18446744073709551616,"#, "seq"),
            (r#"{"seq":"1","#, "seq"),
            (r#"{"#, "seq"),
            (r#"{"seq":1,"payload_len":3,"#, "payload_len"),
        ] {
            let spoiled = format!("{envelope}{body}");
            let error = parse_export_line(&spoiled).expect_err(&spoiled);
            assert_eq!(error.field, field, "{spoiled}: {error}");
            assert_eq!(Err(error), parse_export_value(&spoiled));
        }
        // A field given twice is left to the JSON value, which takes the last.
        let twice = format!(r#"{{"seq":2,"seq":1,{body}"#);
        assert!(json::export_statement(&twice).is_none());
        assert_eq!(parse_export_line(&twice), parse_export_line(line));
        // The largest seq is read straight.
        let largest = format!(r#"{{"seq":18446744073709551615,{body}"#);
        assert_eq!(
            parse_export_line(&largest).map(|r| r.seq),
            Ok(u64::MAX),
            "{largest}"
        );
        assert!(json::export_statement(&largest).is_some());
        for (from, to, field) in [
            ("\"prev\":\"0", "\"prev\":\"O", "prev"),
            ("\"hash\":\"", "\"hash\":\"A", "hash"),
            ("\"recorded_at\":\"2", "\"recorded_at\":\"x", "recorded_at"),
            ("\"digest\":", "\"digest\":1,\"x\":", "digest"),
        ] {
            let spoiled = line.replacen(from, to, 1);
            assert_ne!(&spoiled, line, "{from}");
            let error = parse_export_line(&spoiled).expect_err(&spoiled);
            assert_eq!(error.field, field, "{spoiled}: {error}");
            assert_eq!(Err(error), parse_export_value(&spoiled));
        }
    }
}
