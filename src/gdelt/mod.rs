//! Turning GDELT 2.0 event exports into statements.
//!
//! A GDELT export is tab-separated, 61 columns a row, no header. Each row is one
//! machine-coded event: Actor1 did CAMEO action `EventCode` to Actor2. A row
//! becomes a [`Statement`] when all of this holds:
//!
//! - its `EventCode` has a (stance, predicate) in `schema/gdelt-cameo.json`
//!   ([`CameoTable`]). Codes that name a stance but no object ("criticize or
//!   denounce": criticise *what*?) are listed there with no predicate and skipped:
//!   a statement needs a predicate, and inventing one would record a claim nobody
//!   made;
//! - Actor1 (the party) and Actor2 (the one subject) both map to an actor through
//!   its `cameo` code ([`ActorCodes`]): the whole code first (`IGOUNO`), then the
//!   country (`USAGOV` → `USA`), but only when the rest of the code is a state
//!   role in [`STATE_ROLES`]: the opposition (`RUSOPP`) or the press (`USAMED`)
//!   does not speak for its state;
//! - the two are different actors.
//!
//! Otherwise the row is *skipped* with a [`Skip`] reason, counted by [`Skipped`].
//! A row that breaks the format (column count, dates, ids, UTF-8, length) is an
//! *error* naming the line, so that an import can refuse the whole file.
//!
//! The statement gets `said_on` from `SQLDATE`, `location` from the action's
//! country (`ActionGeo_CountryCode`, a FIPS 10-4 code, through
//! `schema/gdelt-fips.json`; none when unknown), and its source from `SOURCEURL`,
//! publisher [`PUBLISHER`] and the date of `DATEADDED`. GDELT has no quotation,
//! so the quote records the provenance instead, and is hashed with the event:
//! `GDELT event 869476592, CAMEO 0256 (appeal for de-escalation of military
//! engagement); machine-coded, no quotation`.
//!
//! Caveat: for a verbal event GDELT's action location is often where the words
//! were spoken (Moscow for a statement by Russia), not the place they are about.

use crate::dates;
use crate::event::{Event, Proposition, QuoteKind, SaidOn, Source, Statement};
use crate::input::InputError;
use crate::json::MAX_URL;
use crate::lines::{read_line_bounded, LineError};
use crate::vocab::{Actors, Vocabulary};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::LazyLock;

/// The CAMEO mapping table, as embedded.
pub const CAMEO_JSON: &str = include_str!("../../schema/gdelt-cameo.json");
/// The FIPS 10-4 country table, as embedded.
pub const FIPS_JSON: &str = include_str!("../../schema/gdelt-fips.json");
/// Columns in a GDELT 2.0 event row.
pub const COLUMNS: usize = 61;
/// Longest row accepted, in bytes, without its newline. GDELT rows are well
/// under 2 KiB; the limit keeps memory bounded whatever the input.
pub const MAX_LINE: usize = 64 * 1024;
/// The publisher of every imported statement's source.
pub const PUBLISHER: &str = "GDELT 2.0";
/// CAMEO role codes that speak for the country they follow: government and
/// military. `USAGOV` maps to the actor whose cameo is `USA`; `USAOPP` does not.
pub const STATE_ROLES: &[&str] = &["GOV", "MIL"];

/// 0-based column indexes and names of the columns read.
mod col {
    pub const ID: (usize, &str) = (0, "GLOBALEVENTID");
    pub const SQLDATE: (usize, &str) = (1, "SQLDATE");
    pub const ACTOR1_CODE: (usize, &str) = (5, "Actor1Code");
    pub const ACTOR1_COUNTRY: (usize, &str) = (7, "Actor1CountryCode");
    pub const ACTOR2_CODE: (usize, &str) = (15, "Actor2Code");
    pub const ACTOR2_COUNTRY: (usize, &str) = (17, "Actor2CountryCode");
    pub const EVENT_CODE: (usize, &str) = (26, "EventCode");
    pub const ACTION_COUNTRY: (usize, &str) = (53, "ActionGeo_CountryCode");
    pub const DATEADDED: (usize, &str) = (59, "DATEADDED");
    pub const SOURCEURL: (usize, &str) = (60, "SOURCEURL");
}

/// One entry of the CAMEO table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeMapping {
    /// CAMEO event code: 2 to 4 digits.
    pub code: String,
    /// Its CAMEO 1.1b3 label.
    pub label: String,
    /// Vocabulary id of the stance.
    pub stance: String,
    /// Vocabulary id of the predicate; `None` when the code does not determine one.
    pub predicate: Option<String>,
    /// Why this mapping (or why none).
    pub reason: String,
}

/// The CAMEO code → (stance, predicate) table of `schema/gdelt-cameo.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameoTable {
    /// Version of the table.
    pub version: u32,
    /// The CAMEO version the codes and labels follow.
    pub cameo_version: String,
    /// What the table is.
    pub note: String,
    /// The entries.
    pub codes: Vec<CodeMapping>,
}

static CAMEO: LazyLock<CameoTable> = LazyLock::new(|| {
    let t = CameoTable::parse(CAMEO_JSON).expect("schema/gdelt-cameo.json parses (tested)");
    t.check(Vocabulary::builtin())
        .expect("schema/gdelt-cameo.json agrees with the vocabulary (tested)");
    t
});

impl CameoTable {
    /// The embedded table, parsed and checked once.
    pub fn builtin() -> &'static CameoTable {
        &CAMEO
    }

    /// Parses a table.
    ///
    /// # Errors
    /// The JSON error, when the text is not a table.
    pub fn parse(text: &str) -> Result<CameoTable, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Checks that every code is 2 to 4 digits and listed once, and that every
    /// stance and predicate exists in `vocab`.
    ///
    /// # Errors
    /// A message naming the first bad entry.
    pub fn check(&self, vocab: &Vocabulary) -> Result<(), String> {
        let mut seen = HashSet::new();
        for m in &self.codes {
            if !is_event_code(&m.code) {
                return Err(format!(
                    "code \"{}\" is not a CAMEO event code (2 to 4 digits)",
                    m.code
                ));
            }
            if !seen.insert(m.code.as_str()) {
                return Err(format!("code {} is listed twice", m.code));
            }
            vocab
                .check_stance(&m.stance)
                .map_err(|u| format!("code {}: unknown stance {u}", m.code))?;
            if let Some(p) = &m.predicate {
                vocab
                    .check_predicate(p)
                    .map_err(|u| format!("code {}: unknown predicate {u}", m.code))?;
            }
            if m.label.trim().is_empty() || m.reason.trim().is_empty() {
                return Err(format!("code {} needs a label and a reason", m.code));
            }
        }
        Ok(())
    }

    /// The entry of a code, if listed.
    pub fn get(&self, code: &str) -> Option<&CodeMapping> {
        self.codes.iter().find(|m| m.code == code)
    }
}

/// Whether a string is 2 to 4 ASCII digits.
fn is_event_code(s: &str) -> bool {
    (2..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// One entry of the FIPS table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FipsEntry {
    /// FIPS 10-4 country code, two upper-case letters.
    pub fips: String,
    /// The actor id of the country.
    pub actor: String,
    /// The actor's name, for reading the file.
    pub name: String,
}

/// The FIPS 10-4 → actor id table of `schema/gdelt-fips.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FipsTable {
    /// Version of the table.
    pub version: u32,
    /// What the table is.
    pub note: String,
    /// The entries.
    pub countries: Vec<FipsEntry>,
}

static FIPS: LazyLock<FipsTable> = LazyLock::new(|| {
    serde_json::from_str(FIPS_JSON).expect("schema/gdelt-fips.json parses (tested)")
});

impl FipsTable {
    /// The embedded table, parsed once.
    pub fn builtin() -> &'static FipsTable {
        &FIPS
    }

    /// The actor id of a FIPS code, if listed.
    pub fn get(&self, fips: &str) -> Option<&str> {
        self.countries
            .iter()
            .find(|c| c.fips == fips)
            .map(|c| c.actor.as_str())
    }
}

/// Why a well-formed row gives no statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// The event code is not in the CAMEO table.
    UnmappedCode(String),
    /// The event code has a stance but no predicate.
    NoPredicate(String),
    /// `Actor1Code` is empty.
    NoActor1,
    /// `Actor2Code` is empty.
    NoActor2,
    /// The actor code (Actor1 or Actor2) matches no actor.
    UnknownActor(String),
    /// The actor code is a country with a role that does not speak for it.
    NonStateActor(String),
    /// The actor code is the cameo code of more than one actor.
    AmbiguousActor(String),
    /// Actor1 and Actor2 are the same actor (the id).
    SameActor(String),
    /// `SOURCEURL` is longer than a statement's URL may be (its length).
    UrlTooLong(usize),
}

/// The kind of a [`Skip`], without its data: what a summary counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// [`Skip::UnmappedCode`].
    UnmappedCode,
    /// [`Skip::NoPredicate`].
    NoPredicate,
    /// [`Skip::NoActor1`].
    NoActor1,
    /// [`Skip::NoActor2`].
    NoActor2,
    /// [`Skip::UnknownActor`].
    UnknownActor,
    /// [`Skip::NonStateActor`].
    NonStateActor,
    /// [`Skip::AmbiguousActor`].
    AmbiguousActor,
    /// [`Skip::SameActor`].
    SameActor,
    /// [`Skip::UrlTooLong`].
    UrlTooLong,
}

impl Skip {
    /// The kind of reason.
    pub fn kind(&self) -> SkipKind {
        match self {
            Skip::UnmappedCode(_) => SkipKind::UnmappedCode,
            Skip::NoPredicate(_) => SkipKind::NoPredicate,
            Skip::NoActor1 => SkipKind::NoActor1,
            Skip::NoActor2 => SkipKind::NoActor2,
            Skip::UnknownActor(_) => SkipKind::UnknownActor,
            Skip::NonStateActor(_) => SkipKind::NonStateActor,
            Skip::AmbiguousActor(_) => SkipKind::AmbiguousActor,
            Skip::SameActor(_) => SkipKind::SameActor,
            Skip::UrlTooLong(_) => SkipKind::UrlTooLong,
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::UnmappedCode(c) => write!(f, "CAMEO code {c} is not mapped"),
            Skip::NoPredicate(c) => {
                let label = CameoTable::builtin()
                    .get(c)
                    .map_or("", |m| m.label.as_str());
                write!(f, "CAMEO code {c} ({label}) names no predicate")
            }
            Skip::NoActor1 => f.write_str("no Actor1"),
            Skip::NoActor2 => f.write_str("no Actor2"),
            Skip::UnknownActor(c) => write!(f, "actor code {c} matches no actor"),
            Skip::NonStateActor(c) => {
                write!(
                    f,
                    "actor code {c} is a role that does not speak for its state"
                )
            }
            Skip::AmbiguousActor(c) => write!(f, "actor code {c} is the code of several actors"),
            Skip::SameActor(id) => write!(f, "Actor1 and Actor2 are both {id}"),
            Skip::UrlTooLong(n) => {
                write!(f, "SOURCEURL is {n} bytes long; the limit is {MAX_URL}")
            }
        }
    }
}

impl fmt::Display for SkipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipKind::UnmappedCode => "unmapped CAMEO code",
            SkipKind::NoPredicate => "CAMEO code with no predicate",
            SkipKind::NoActor1 => "no Actor1",
            SkipKind::NoActor2 => "no Actor2",
            SkipKind::UnknownActor => "unknown actor code",
            SkipKind::NonStateActor => "non-state role",
            SkipKind::AmbiguousActor => "ambiguous actor code",
            SkipKind::SameActor => "same actor on both sides",
            SkipKind::UrlTooLong => "source URL too long",
        })
    }
}

/// A tally of skipped rows by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    counts: BTreeMap<Skip, usize>,
}

impl Skipped {
    /// Counts one skipped row.
    pub fn add(&mut self, skip: &Skip) {
        match self.counts.get_mut(skip) {
            Some(n) => *n += 1,
            None => {
                self.counts.insert(skip.clone(), 1);
            }
        }
    }

    /// Rows skipped in all.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// Rows skipped for exactly this reason.
    pub fn count(&self, skip: &Skip) -> usize {
        self.counts.get(skip).copied().unwrap_or(0)
    }

    /// Every reason with its count, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Skip, usize)> {
        self.counts.iter().map(|(s, n)| (s, *n))
    }

    /// Counts by kind of reason.
    pub fn by_kind(&self) -> BTreeMap<SkipKind, usize> {
        let mut out = BTreeMap::new();
        for (s, n) in &self.counts {
            *out.entry(s.kind()).or_insert(0) += n;
        }
        out
    }
}

/// One line per kind of reason, most frequent first: `174 no Actor1`.
impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<(SkipKind, usize)> = self.by_kind().into_iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (i, (kind, n)) in kinds.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{n} {kind}")?;
        }
        Ok(())
    }
}

/// Maps GDELT actor codes and FIPS country codes to actor ids of one registry.
#[derive(Debug, Clone)]
pub struct ActorCodes {
    /// Cameo code → actor id; `None` when several actors share the code.
    by_cameo: HashMap<String, Option<String>>,
    /// FIPS code → actor id, for the ids the registry knows.
    by_fips: HashMap<String, String>,
}

impl ActorCodes {
    /// The codes of `actors`: each actor's `cameo` code, and the FIPS codes of
    /// the countries among them.
    pub fn new(actors: &Actors) -> ActorCodes {
        let mut by_cameo: HashMap<String, Option<String>> = HashMap::new();
        for a in actors.iter() {
            if let Some(c) = &a.def.cameo {
                by_cameo
                    .entry(c.clone())
                    .and_modify(|v| *v = None)
                    .or_insert_with(|| Some(a.def.id.clone()));
            }
        }
        let by_fips = FipsTable::builtin()
            .countries
            .iter()
            .filter(|c| actors.get(&c.actor).is_some())
            .map(|c| (c.fips.clone(), c.actor.clone()))
            .collect();
        ActorCodes { by_cameo, by_fips }
    }

    /// The codes of the starter actors.
    pub fn starter() -> ActorCodes {
        ActorCodes::new(&Actors::starter())
    }

    /// The actor id of a GDELT actor code (`IGOUNO`, `USAGOV`), given the row's
    /// country code for that actor (`USA`).
    ///
    /// # Errors
    /// The [`Skip`] reason: no code, no such actor, a non-state role, or a code
    /// several actors share.
    pub fn resolve(&self, code: &str, country: &str) -> Result<&str, Skip> {
        let lookup = |c: &str| match self.by_cameo.get(c) {
            Some(Some(id)) => Ok(Some(id.as_str())),
            Some(None) => Err(Skip::AmbiguousActor(c.to_string())),
            None => Ok(None),
        };
        if let Some(id) = lookup(code)? {
            return Ok(id);
        }
        let unknown = || Skip::UnknownActor(code.to_string());
        let Some(rest) = code.strip_prefix(country).filter(|_| !country.is_empty()) else {
            return Err(unknown());
        };
        let Some(id) = lookup(country)? else {
            return Err(unknown());
        };
        let state_roles = rest.len() % 3 == 0
            && rest
                .as_bytes()
                .chunks(3)
                .all(|r| STATE_ROLES.iter().any(|s| s.as_bytes() == r));
        if state_roles {
            Ok(id)
        } else {
            Err(Skip::NonStateActor(code.to_string()))
        }
    }

    /// The actor id of a FIPS 10-4 country code, if the country is known.
    pub fn location(&self, fips: &str) -> Option<&str> {
        self.by_fips.get(fips).map(String::as_str)
    }
}

/// The columns of one well-formed row that a statement is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    /// `GLOBALEVENTID`.
    pub event_id: u64,
    /// `SQLDATE`: when the event took place.
    pub said_on: jiff::civil::Date,
    /// `Actor1Code`, possibly empty.
    pub actor1: &'a str,
    /// `Actor1CountryCode`, possibly empty.
    pub actor1_country: &'a str,
    /// `Actor2Code`, possibly empty.
    pub actor2: &'a str,
    /// `Actor2CountryCode`, possibly empty.
    pub actor2_country: &'a str,
    /// `EventCode`: 2 to 4 digits.
    pub event_code: &'a str,
    /// `ActionGeo_CountryCode`: FIPS 10-4, possibly empty.
    pub action_country: &'a str,
    /// `DATEADDED`, the date part.
    pub date_added: jiff::civil::Date,
    /// `SOURCEURL`, possibly empty.
    pub url: &'a str,
}

impl<'a> Fields<'a> {
    /// Reads the columns of one row, already split on tabs.
    ///
    /// # Errors
    /// An [`InputError`] naming the column: a wrong number of columns, an event
    /// id that is not a positive integer, a bad `SQLDATE` (YYYYMMDD) or
    /// `DATEADDED` (YYYYMMDDHHMMSS), an event code that is not 2 to 4 digits, or
    /// control characters in `SOURCEURL`.
    pub fn parse(cols: &[&'a str]) -> Result<Fields<'a>, InputError> {
        if cols.len() != COLUMNS {
            return Err(InputError::new("", columns_message(cols.len())));
        }
        let get = |(i, _): (usize, &str)| cols[i];
        let id = get(col::ID);
        let event_id = id
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && id.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                InputError::new(
                    col::ID.1,
                    format!("\"{id}\" is not an event id (a positive integer)"),
                )
            })?;
        let said_on = dates::parse_basic_date(get(col::SQLDATE))
            .map_err(|m| InputError::new(col::SQLDATE.1, m))?;
        let date_added = dates::parse_basic_date_time(get(col::DATEADDED))
            .map_err(|m| InputError::new(col::DATEADDED.1, m))?;
        let event_code = get(col::EVENT_CODE);
        if !is_event_code(event_code) {
            return Err(InputError::new(
                col::EVENT_CODE.1,
                format!("\"{event_code}\" is not a CAMEO event code (2 to 4 digits)"),
            ));
        }
        let url = get(col::SOURCEURL);
        if url.chars().any(char::is_control) {
            return Err(InputError::new(
                col::SOURCEURL.1,
                "must not contain control characters",
            ));
        }
        Ok(Fields {
            event_id,
            said_on,
            actor1: get(col::ACTOR1_CODE),
            actor1_country: get(col::ACTOR1_COUNTRY),
            actor2: get(col::ACTOR2_CODE),
            actor2_country: get(col::ACTOR2_COUNTRY),
            event_code,
            action_country: get(col::ACTION_COUNTRY),
            date_added,
            url,
        })
    }
}

fn columns_message(found: usize) -> String {
    format!("expected {COLUMNS} tab-separated columns, found {found}")
}

/// The statement a well-formed row stands for, or why it stands for none.
/// Reasons are tried in this order: the event code, Actor1, Actor2, the two
/// being one actor, the URL.
///
/// # Errors
/// The [`Skip`] reason.
pub fn event_from_row(fields: &Fields<'_>, actors: &ActorCodes) -> Result<Event, Skip> {
    let code = fields.event_code;
    let mapping = CameoTable::builtin()
        .get(code)
        .ok_or_else(|| Skip::UnmappedCode(code.to_string()))?;
    let predicate = mapping
        .predicate
        .as_ref()
        .ok_or_else(|| Skip::NoPredicate(code.to_string()))?;
    if fields.actor1.is_empty() {
        return Err(Skip::NoActor1);
    }
    let party = actors.resolve(fields.actor1, fields.actor1_country)?;
    if fields.actor2.is_empty() {
        return Err(Skip::NoActor2);
    }
    let subject = actors.resolve(fields.actor2, fields.actor2_country)?;
    if party == subject {
        return Err(Skip::SameActor(party.to_string()));
    }
    if fields.url.len() > MAX_URL {
        return Err(Skip::UrlTooLong(fields.url.len()));
    }
    let mut label = mapping.label.clone();
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    Ok(Event::Statement(Statement {
        said_on: SaidOn {
            date: fields.said_on,
            time: None,
        },
        party: party.to_string(),
        joint_with: Vec::new(),
        speaker: None,
        stance: mapping.stance.clone(),
        hedge: None,
        condition: None,
        deadline: None,
        proposition: Proposition {
            predicate: predicate.clone(),
            subjects: vec![subject.to_string()],
            location: actors.location(fields.action_country).map(str::to_string),
            qualifier: None,
            document: None,
        },
        quote: format!(
            "GDELT event {}, CAMEO {code} ({label}); machine-coded, no quotation",
            fields.event_id
        ),
        source: Source {
            url: (!fields.url.is_empty()).then(|| fields.url.to_string()),
            publisher: Some(PUBLISHER.to_string()),
            published_on: Some(fields.date_added),
        },
        quote_kind: QuoteKind::Verbatim,
        language: None,
        more_sources: Vec::new(),
        coded: None,
    }))
}

/// One well-formed row: where it is, which GDELT event, and its statement or
/// the reason it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number.
    pub line: usize,
    /// `GLOBALEVENTID`.
    pub event_id: u64,
    /// The statement, or why the row is skipped.
    pub result: Result<Event, Skip>,
}

/// A reader that counts the bytes consumed, so that a line read can be told
/// to have ended in a newline or at the end of the input.
struct Counting<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

const TRUNCATED: &str = "; the last line has no final newline, so the file looks truncated";

/// Reads a GDELT 2.0 event export lazily, one row at a time, with at most
/// [`MAX_LINE`] bytes a line in memory. Each well-formed row gives a [`Row`];
/// empty lines are passed over. After the first error no more items follow.
///
/// # Errors
/// Each item is a [`LineError`] when the line cannot be read
/// ([`LineError::Io`]) or is malformed ([`LineError::Input`], naming the
/// column where one is at fault): longer than [`MAX_LINE`], not UTF-8, not
/// [`COLUMNS`] columns, or a bad field (see [`Fields::parse`]). A last line
/// without its newline that is cut short says the file looks truncated.
pub fn read_rows(
    reader: impl BufRead,
    actors: ActorCodes,
) -> impl Iterator<Item = Result<Row, LineError>> {
    let mut reader = Counting {
        inner: reader,
        consumed: 0,
    };
    let mut buf = Vec::new();
    let mut line = 0usize;
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        let before = reader.consumed;
        let read = read_line_bounded(&mut reader, &mut buf, MAX_LINE);
        line += 1;
        let input = |error: InputError| LineError::Input { line, error };
        let item = match read {
            Ok(None) => return None,
            Err(error) => Err(LineError::Io { line, error }),
            Ok(Some(Err(len))) => Err(input(InputError::new(
                "",
                format!("line is {len} bytes long; the limit is {MAX_LINE}"),
            ))),
            Ok(Some(Ok(()))) => {
                // Without its newline, a line consumed exactly its own bytes.
                let ended = reader.consumed - before > buf.len() as u64;
                let note = if ended { "" } else { TRUNCATED };
                match std::str::from_utf8(&buf) {
                    Err(e) => {
                        let cut = e.error_len().is_none();
                        Err(input(InputError::new(
                            "",
                            format!(
                                "not valid UTF-8 (byte {}){}",
                                e.valid_up_to() + 1,
                                if cut { note } else { "" }
                            ),
                        )))
                    }
                    Ok(text) if text.bytes().all(|b| b == b' ') => continue,
                    Ok(text) => {
                        let mut cols = [""; COLUMNS];
                        let mut found = 0usize;
                        for c in text.split('\t') {
                            if let Some(slot) = cols.get_mut(found) {
                                *slot = c;
                            }
                            found += 1;
                        }
                        if found == COLUMNS {
                            Fields::parse(&cols).map_err(input).map(|f| Row {
                                line,
                                event_id: f.event_id,
                                result: event_from_row(&f, &actors),
                            })
                        } else {
                            Err(input(InputError::new(
                                "",
                                format!("{}{note}", columns_message(found)),
                            )))
                        }
                    }
                }
            }
        };
        done = item.is_err();
        return Some(item);
    })
}

#[cfg(test)]
mod tests;
