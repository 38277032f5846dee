//! Turning GDELT 2.0 event exports into statements.
//!
//! A GDELT export is tab-separated, 61 columns a row, no header. Each row is one
//! machine-coded event: Actor1 did CAMEO action `EventCode` to Actor2. A row
//! becomes a [`Statement`] when all of this holds:
//!
//! - its `EventCode` has a (stance, predicate) in `schema/gdelt-cameo.json`
//!   ([`CameoTable`]), the one place that says which code maps to what. It lists
//!   every code under the roots of things said (01, 02, 03, 05, 10, 11, 12, 13,
//!   16); a code that names a relation between two actors but no proposition the
//!   vocabulary can name maps to the predicate `unspecified`. The few codes left
//!   out (011 decline comment, ...) and the roots left out (04 consult, the deeds
//!   of 06-09, 14-15, 17-20) are listed there with their reasons;
//! - Actor1 is a *party* in the diplomatic sense ([`ActorCodes::party`]): a state
//!   (a country code, alone or with government roles in [`STATE_ROLES`]:
//!   `USAGOV`, `ARMJUD`) or an intergovernmental organisation (`IGO...`), known
//!   to the registry. A business, civilians, the press, the opposition or a
//!   region (`AFR`) is not a party;
//! - `SOURCEURL` fits a statement's URL.
//!
//! Otherwise the row is *skipped* with a [`Skip`] reason, counted by [`Skipped`]
//! and, per CAMEO root, by [`Summary`]. A row that breaks the format (column
//! count, dates, ids, numbers, UTF-8, length) is an *error* naming the line, so
//! that an import can refuse the whole file.
//!
//! Actor2 is the one subject when it is a party too and not Actor1; otherwise the
//! statement has no subject (the quote keeps both actor codes). The statement gets
//! `said_on` from `SQLDATE`, `location` from the action's country
//! (`ActionGeo_CountryCode`, a FIPS 10-4 code, through `schema/gdelt-fips.json`;
//! none when unknown), its source from `SOURCEURL`, publisher [`PUBLISHER`] and
//! the date of `DATEADDED`, and its provenance ([`Coded`]: coder `gdelt`, event id,
//! CAMEO code, `NumMentions`, `NumSources`, `GoldsteinScale` in tenths, `AvgTone`
//! in thousandths). GDELT has no quotation, so the quote says what the coder saw:
//! `GDELT event 869476592, CAMEO 0256 (appeal for de-escalation of military
//! engagement): USAGOV toward RUS; machine-coded, no quotation`.
//!
//! Caveat: for a verbal event GDELT's action location is often where the words
//! were spoken (Moscow for a statement by Russia), not the place they are about.

use crate::dates;
use crate::event::{
    round_fixed, Coded, Event, Proposition, QuoteKind, SaidOn, Source, Statement, CODER_GDELT,
};
use crate::input::InputError;
use crate::json::MAX_URL;
use crate::lines::{read_line_bounded, LineError};
use crate::vocab::{Actors, Vocabulary};
use rustc_hash::{FxHashMap, FxHashSet};
use scan::Tabs;
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
/// CAMEO role codes that speak for the country they follow: government,
/// military, legislature, judiciary and intelligence. `USAGOV` maps to the actor
/// whose cameo is `USA`; `USAOPP` (the opposition) and `USAMED` (the press) do not.
pub const STATE_ROLES: &[&str] = &["GOV", "MIL", "LEG", "JUD", "SPY"];
/// GDELT's region codes, which stand where a country code would (`AFR`): a
/// region is not a party. In order, to be searched by halves.
pub const REGIONS: &[&str] = &[
    "AFR", "ASA", "BLK", "CAS", "CAU", "CFR", "CRB", "EAF", "EEU", "EIN", "EUR", "LAM", "MDT",
    "MEA", "NAF", "NMR", "PGS", "SAF", "SAM", "SAS", "SCN", "SEA", "WAF", "WEU", "WST",
];

/// 0-based column indexes and names of the columns read.
mod col {
    pub const ID: (usize, &str) = (0, "GLOBALEVENTID");
    pub const SQLDATE: (usize, &str) = (1, "SQLDATE");
    pub const ACTOR1_CODE: (usize, &str) = (5, "Actor1Code");
    pub const ACTOR1_COUNTRY: (usize, &str) = (7, "Actor1CountryCode");
    pub const ACTOR2_CODE: (usize, &str) = (15, "Actor2Code");
    pub const ACTOR2_COUNTRY: (usize, &str) = (17, "Actor2CountryCode");
    pub const EVENT_CODE: (usize, &str) = (26, "EventCode");
    pub const GOLDSTEIN: (usize, &str) = (30, "GoldsteinScale");
    pub const MENTIONS: (usize, &str) = (31, "NumMentions");
    pub const SOURCES: (usize, &str) = (32, "NumSources");
    pub const TONE: (usize, &str) = (34, "AvgTone");
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
    /// Vocabulary id of the stance; `None` for a code left out.
    pub stance: Option<String>,
    /// Vocabulary id of the predicate; `None` for a code left out.
    pub predicate: Option<String>,
    /// Why this mapping (or why the code is left out).
    pub reason: String,
    /// The PLOVER event of the code (PLOVER 2021 table), for reading.
    #[serde(default)]
    pub plover: Option<String>,
    /// The PLOVER mode.
    #[serde(default)]
    pub mode: Option<String>,
    /// The PLOVER context.
    #[serde(default)]
    pub context: Option<String>,
}

impl CodeMapping {
    /// The (stance, predicate) of a mapped code; `None` for a code left out.
    pub fn pair(&self) -> Option<(&str, &str)> {
        Some((self.stance.as_deref()?, self.predicate.as_deref()?))
    }
}

/// A CAMEO root whose codes are all left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootLeftOut {
    /// The two-digit root.
    pub root: String,
    /// Its CAMEO label.
    pub label: String,
    /// Why its codes make no statement.
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
    /// The roots of things said, whose codes are all listed in `codes`.
    pub roots: Vec<String>,
    /// The roots left out, with their reasons.
    pub roots_left_out: Vec<RootLeftOut>,
    /// The entries.
    pub codes: Vec<CodeMapping>,
    /// Code → index in `codes`.
    #[serde(skip)]
    index: HashMap<String, usize>,
    /// The same for every code of 2 to 4 digits, by [`dense_slot`]: a row's
    /// code is found without hashing. [`NONE`] where there is no entry.
    #[serde(skip)]
    dense: Vec<u32>,
    /// Whether each two-digit root (by its number) is listed in `roots`.
    #[serde(skip)]
    listed: Vec<bool>,
}

/// No entry, in [`CameoTable`]'s dense index.
const NONE: u32 = u32::MAX;

/// The slot of a code of 2 to 4 ASCII digits (`"02"`, `"025"` and `"0250"`
/// apart): below 100 for two digits, then 1,000 slots of three and 10,000
/// of four.
#[inline]
fn dense_slot(code: &str) -> Option<usize> {
    if !is_event_code(code) {
        return None;
    }
    let n = code
        .bytes()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    Some(match code.len() {
        2 => n,
        3 => 100 + n,
        _ => 1_100 + n,
    })
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
        let mut t: CameoTable = serde_json::from_str(text)?;
        t.index = t
            .codes
            .iter()
            .enumerate()
            .map(|(i, m)| (m.code.clone(), i))
            .collect();
        t.dense = vec![NONE; 11_100];
        for (i, m) in t.codes.iter().enumerate() {
            if let (Some(slot), Ok(i)) = (dense_slot(&m.code), u32::try_from(i)) {
                t.dense[slot] = i;
            }
        }
        t.listed = vec![false; 100];
        for r in &t.roots {
            if let Some(slot) = dense_slot(r).filter(|_| r.len() == 2) {
                t.listed[slot] = true;
            }
        }
        Ok(t)
    }

    /// Checks that every code is 2 to 4 digits, listed once, under a listed root,
    /// with both a stance and a predicate or neither, and that every stance and
    /// predicate exists in `vocab`; and that no root is both listed and left out.
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
            if !self.roots.iter().any(|r| m.code.starts_with(r.as_str())) {
                return Err(format!("code {} is under no listed root", m.code));
            }
            if m.stance.is_some() != m.predicate.is_some() {
                return Err(format!(
                    "code {} needs both a stance and a predicate, or neither",
                    m.code
                ));
            }
            if let Some(st) = &m.stance {
                vocab
                    .check_stance(st)
                    .map_err(|u| format!("code {}: unknown stance {u}", m.code))?;
            }
            if let Some(p) = &m.predicate {
                vocab
                    .check_predicate(p)
                    .map_err(|u| format!("code {}: unknown predicate {u}", m.code))?;
            }
            if m.label.trim().is_empty() || m.reason.trim().is_empty() {
                return Err(format!("code {} needs a label and a reason", m.code));
            }
        }
        for r in &self.roots_left_out {
            if self.roots.contains(&r.root) || r.reason.trim().is_empty() {
                return Err(format!(
                    "root {} is left out without a reason, or also listed",
                    r.root
                ));
            }
        }
        Ok(())
    }

    /// The entry of a code, if listed.
    pub fn get(&self, code: &str) -> Option<&CodeMapping> {
        match dense_slot(code) {
            Some(slot) => match self.dense[slot] {
                NONE => None,
                i => Some(&self.codes[i as usize]),
            },
            None => self.index.get(code).map(|&i| &self.codes[i]),
        }
    }

    /// The entry of a root left out, if it is one.
    pub fn root_left_out(&self, root: &str) -> Option<&RootLeftOut> {
        self.roots_left_out.iter().find(|r| r.root == root)
    }

    /// Whether a root is one of the roots of things said.
    pub fn is_listed_root(&self, root: &str) -> bool {
        match dense_slot(root).filter(|_| root.len() == 2) {
            Some(slot) => self.listed[slot],
            None => self.roots.iter().any(|r| r == root),
        }
    }
}

/// Whether a string is 2 to 4 ASCII digits.
fn is_event_code(s: &str) -> bool {
    (2..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// The GDELT event id of a statement an earlier release made from a GDELT row,
/// before statements kept their provenance: publisher [`PUBLISHER`] and a quote
/// that starts `GDELT event 869476592, `. `None` for any other statement.
pub fn legacy_event_id(s: &Statement) -> Option<u64> {
    if s.coded.is_some() || s.source.publisher.as_deref() != Some(PUBLISHER) {
        return None;
    }
    let rest = s.quote.strip_prefix("GDELT event ")?;
    let (id, _) = rest.split_once(", CAMEO ")?;
    id.parse().ok()
}

/// The CAMEO 1.1b3 label of a root (`"11"` is "Disapprove").
pub fn root_label(root: &str) -> &'static str {
    const LABELS: [&str; 20] = [
        "Make public statement",
        "Appeal",
        "Express intent to cooperate",
        "Consult",
        "Engage in diplomatic cooperation",
        "Engage in material cooperation",
        "Provide aid",
        "Yield",
        "Investigate",
        "Demand",
        "Disapprove",
        "Reject",
        "Threaten",
        "Protest",
        "Exhibit force posture",
        "Reduce relations",
        "Coerce",
        "Assault",
        "Fight",
        "Use unconventional mass violence",
    ];
    root.parse::<usize>()
        .ok()
        .and_then(|r| r.checked_sub(1))
        .and_then(|i| LABELS.get(i))
        .copied()
        .unwrap_or("")
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
    /// The event code is under a root left out (the root).
    RootLeftOut(String),
    /// The event code is left out of the CAMEO table (the code).
    NoPredicate(String),
    /// The event code is not in the CAMEO table although its root is listed.
    UnmappedCode(String),
    /// `Actor1Code` is empty.
    NoActor1,
    /// Actor1 is not a state or an organisation of states: a business, civilians,
    /// the press, the opposition, a role that does not speak for its state.
    NonStateActor(String),
    /// Actor1 is a region (`AFR`), not a party.
    RegionActor(String),
    /// Actor1 is a state or an organisation of states the registry does not know.
    UnknownActor(String),
    /// The actor code is the cameo code of more than one actor.
    AmbiguousActor(String),
    /// `SOURCEURL` is longer than a statement's URL may be (its length).
    UrlTooLong(usize),
}

/// The kind of a [`Skip`], without its data: what a summary counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// [`Skip::RootLeftOut`].
    RootLeftOut,
    /// [`Skip::NoPredicate`].
    NoPredicate,
    /// [`Skip::UnmappedCode`].
    UnmappedCode,
    /// [`Skip::NoActor1`].
    NoActor1,
    /// [`Skip::NonStateActor`].
    NonStateActor,
    /// [`Skip::RegionActor`].
    RegionActor,
    /// [`Skip::UnknownActor`].
    UnknownActor,
    /// [`Skip::AmbiguousActor`].
    AmbiguousActor,
    /// [`Skip::UrlTooLong`].
    UrlTooLong,
}

impl Skip {
    /// The kind of reason.
    pub fn kind(&self) -> SkipKind {
        match self {
            Skip::RootLeftOut(_) => SkipKind::RootLeftOut,
            Skip::NoPredicate(_) => SkipKind::NoPredicate,
            Skip::UnmappedCode(_) => SkipKind::UnmappedCode,
            Skip::NoActor1 => SkipKind::NoActor1,
            Skip::NonStateActor(_) => SkipKind::NonStateActor,
            Skip::RegionActor(_) => SkipKind::RegionActor,
            Skip::UnknownActor(_) => SkipKind::UnknownActor,
            Skip::AmbiguousActor(_) => SkipKind::AmbiguousActor,
            Skip::UrlTooLong(_) => SkipKind::UrlTooLong,
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = CameoTable::builtin();
        match self {
            Skip::RootLeftOut(r) => match table.root_left_out(r) {
                Some(x) => write!(f, "CAMEO root {r} ({}) is left out: {}", x.label, x.reason),
                None => write!(f, "CAMEO root {r} is left out"),
            },
            Skip::NoPredicate(c) => match table.get(c) {
                Some(m) => write!(f, "CAMEO code {c} ({}) is left out: {}", m.label, m.reason),
                None => write!(f, "CAMEO code {c} is left out"),
            },
            Skip::UnmappedCode(c) => write!(f, "CAMEO code {c} is not in the table"),
            Skip::NoActor1 => f.write_str("no Actor1"),
            Skip::NonStateActor(c) => {
                write!(f, "Actor1 {c} is not a state or an organisation of states")
            }
            Skip::RegionActor(c) => write!(f, "Actor1 {c} is a region, not a party"),
            Skip::UnknownActor(c) => write!(f, "actor code {c} matches no actor"),
            Skip::AmbiguousActor(c) => write!(f, "actor code {c} is the code of several actors"),
            Skip::UrlTooLong(n) => {
                write!(f, "SOURCEURL is {n} bytes long; the limit is {MAX_URL}")
            }
        }
    }
}

impl SkipKind {
    /// A short name for JSON keys: `root_left_out`.
    pub fn key(self) -> &'static str {
        match self {
            SkipKind::RootLeftOut => "root_left_out",
            SkipKind::NoPredicate => "code_left_out",
            SkipKind::UnmappedCode => "unmapped_code",
            SkipKind::NoActor1 => "no_actor1",
            SkipKind::NonStateActor => "not_a_party",
            SkipKind::RegionActor => "region",
            SkipKind::UnknownActor => "unknown_actor",
            SkipKind::AmbiguousActor => "ambiguous_actor",
            SkipKind::UrlTooLong => "url_too_long",
        }
    }
}

impl fmt::Display for SkipKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipKind::RootLeftOut => "CAMEO root left out",
            SkipKind::NoPredicate => "CAMEO code with no predicate",
            SkipKind::UnmappedCode => "unmapped CAMEO code",
            SkipKind::NoActor1 => "no Actor1",
            SkipKind::NonStateActor => "non-state role",
            SkipKind::RegionActor => "Actor1 a region",
            SkipKind::UnknownActor => "unknown actor code",
            SkipKind::AmbiguousActor => "ambiguous actor code",
            SkipKind::UrlTooLong => "source URL too long",
        })
    }
}

/// A tally of skipped rows by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Counted by hash, one look-up a row; put in order when read.
    counts: FxHashMap<Skip, usize>,
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
        let mut all: Vec<(&Skip, usize)> = self.counts.iter().map(|(s, n)| (s, *n)).collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
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
    by_cameo: FxHashMap<String, Option<String>>,
    /// FIPS code → actor id, for the ids the registry knows.
    by_fips: FxHashMap<String, String>,
    /// The country codes of states: those of the FIPS table and the registry's
    /// states.
    states: FxHashSet<String>,
}

impl ActorCodes {
    /// The codes of `actors`: each actor's `cameo` code, and the FIPS codes of
    /// the countries among them.
    pub fn new(actors: &Actors) -> ActorCodes {
        let mut by_cameo: FxHashMap<String, Option<String>> = FxHashMap::default();
        let mut states: FxHashSet<String> = FipsTable::builtin()
            .countries
            .iter()
            .map(|c| c.actor.clone())
            .collect();
        for a in actors.iter() {
            if let Some(c) = &a.def.cameo {
                by_cameo
                    .entry(c.clone())
                    .and_modify(|v| *v = None)
                    .or_insert_with(|| Some(a.def.id.clone()));
                if a.def.kind == "state" && c.len() == 3 {
                    states.insert(c.clone());
                }
            }
        }
        let by_fips = FipsTable::builtin()
            .countries
            .iter()
            .filter(|c| actors.get(&c.actor).is_some())
            .map(|c| (c.fips.clone(), c.actor.clone()))
            .collect();
        ActorCodes {
            by_cameo,
            by_fips,
            states,
        }
    }

    /// The codes of the starter actors.
    pub fn starter() -> ActorCodes {
        ActorCodes::new(&Actors::starter())
    }

    fn lookup(&self, code: &str) -> Result<Option<&str>, Skip> {
        match self.by_cameo.get(code) {
            Some(Some(id)) => Ok(Some(id.as_str())),
            Some(None) => Err(Skip::AmbiguousActor(code.to_string())),
            None => Ok(None),
        }
    }

    /// The actor id of a GDELT actor code when it names a party in the diplomatic
    /// sense: a state, alone or with government roles ([`STATE_ROLES`]: `USAGOV`
    /// is the actor whose cameo code is `USA`, unless an actor has `USAGOV`
    /// itself), or an intergovernmental organisation by its whole code (`IGOUNO`;
    /// `IGOUNODEVWBK`, the World Bank, is not the UN).
    ///
    /// # Errors
    /// The [`Skip`] reason: not a party (a business, civilians, the press, the
    /// opposition: [`Skip::NonStateActor`]; a region: [`Skip::RegionActor`]), or a
    /// party the registry does not know ([`Skip::UnknownActor`], with the code an
    /// actor would need) or several actors share ([`Skip::AmbiguousActor`]).
    pub fn party(&self, code: &str) -> Result<&str, Skip> {
        if code.is_empty() {
            return Err(Skip::NoActor1);
        }
        if code.starts_with("IGO") {
            return match self.lookup(code)? {
                Some(id) => Ok(id),
                None => Err(Skip::UnknownActor(code.to_string())),
            };
        }
        let head = code.get(..3).unwrap_or(code);
        if self.states.contains(head) {
            let rest = &code[head.len()..];
            let state_roles = rest.len().is_multiple_of(3)
                && rest
                    .as_bytes()
                    .chunks(3)
                    .all(|r| STATE_ROLES.iter().any(|s| s.as_bytes() == r));
            if !state_roles {
                return Err(Skip::NonStateActor(code.to_string()));
            }
            if let Some(id) = self.lookup(code)? {
                return Ok(id);
            }
            return match self.lookup(head)? {
                Some(id) => Ok(id),
                None => Err(Skip::UnknownActor(head.to_string())),
            };
        }
        if REGIONS.binary_search(&head).is_ok() {
            return Err(Skip::RegionActor(code.to_string()));
        }
        Err(Skip::NonStateActor(code.to_string()))
    }

    /// The actor whose cameo code is the longest proper prefix of `code` in whole
    /// three-letter parts: `UN` for `IGOUNODEVWBK`. What an organisation the
    /// registry lacks belongs to.
    pub fn known_prefix(&self, code: &str) -> Option<&str> {
        let mut end = code.len().saturating_sub(1) / 3 * 3;
        while end >= 3 {
            if let Some(Some(id)) = self.by_cameo.get(&code[..end]) {
                return Some(id);
            }
            end -= 3;
        }
        None
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
    /// `GoldsteinScale`, in tenths.
    pub goldstein_tenths: i32,
    /// `NumMentions`.
    pub mentions: u32,
    /// `NumSources`.
    pub sources: u32,
    /// `AvgTone`, in thousandths (rounded half away from zero).
    pub tone_thousandths: i32,
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
        Fields::read(|i| cols[i])
    }

    /// [`Fields::parse`] of a row of [`COLUMNS`] columns, `column(i)` the
    /// `i`th: only the columns read are asked for.
    #[inline]
    fn read(column: impl Fn(usize) -> &'a str) -> Result<Fields<'a>, InputError> {
        let get = |(i, _): (usize, &str)| column(i);
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
        let goldstein = get(col::GOLDSTEIN);
        let goldstein_tenths = round_fixed(goldstein, 1)
            .filter(|v| v.abs() <= 100)
            .ok_or_else(|| {
                InputError::new(
                    col::GOLDSTEIN.1,
                    format!("\"{goldstein}\" is not a Goldstein scale value (-10 to 10)"),
                )
            })?;
        let tone = get(col::TONE);
        let tone_thousandths = round_fixed(tone, 3)
            .filter(|v| v.abs() <= 100_000)
            .ok_or_else(|| {
                InputError::new(
                    col::TONE.1,
                    format!("\"{tone}\" is not a tone (a decimal from -100 to 100)"),
                )
            })?;
        let count = |(i, name): (usize, &'static str)| {
            let v = column(i);
            v.parse::<u32>()
                .ok()
                .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| InputError::new(name, format!("\"{v}\" is not a count")))
        };
        let mentions = count(col::MENTIONS)?;
        let sources = count(col::SOURCES)?;
        let url = get(col::SOURCEURL);
        // Control characters: C0 and DEL in ASCII, C1 beyond it.
        if url.bytes().any(|b| b < 0x20 || b == 0x7f)
            || (!url.is_ascii() && url.chars().any(char::is_control))
        {
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
            goldstein_tenths,
            mentions,
            sources,
            tone_thousandths,
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
/// Reasons are tried in this order: the event code, Actor1, the URL.
///
/// # Errors
/// The [`Skip`] reason.
pub fn event_from_row(fields: &Fields<'_>, actors: &ActorCodes) -> Result<Event, Skip> {
    let code = fields.event_code;
    let table = CameoTable::builtin();
    let (stance, predicate, label) = match table.get(code) {
        Some(m) => match m.pair() {
            Some((st, pr)) => (st, pr, m.label.as_str()),
            None => return Err(Skip::NoPredicate(code.to_string())),
        },
        None => {
            let root = code.get(..2).unwrap_or(code);
            return Err(match table.is_listed_root(root) {
                true => Skip::UnmappedCode(code.to_string()),
                false => Skip::RootLeftOut(root.to_string()),
            });
        }
    };
    let party = actors.party(fields.actor1)?;
    let subject = actors
        .party(fields.actor2)
        .ok()
        .filter(|s| *s != party)
        .map(str::to_string);
    if fields.url.len() > MAX_URL {
        return Err(Skip::UrlTooLong(fields.url.len()));
    }
    let mut label = label.to_string();
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    let toward = match fields.actor2 {
        "" => String::new(),
        a2 => format!(" toward {a2}"),
    };
    Ok(Event::Statement(Statement {
        said_on: SaidOn {
            date: fields.said_on,
            time: None,
        },
        party: party.to_string(),
        joint_with: Vec::new(),
        speaker: None,
        stance: stance.to_string(),
        hedge: None,
        condition: None,
        deadline: None,
        proposition: Proposition {
            predicate: predicate.to_string(),
            subjects: subject.into_iter().collect(),
            location: actors.location(fields.action_country).map(str::to_string),
            qualifier: None,
            document: None,
        },
        quote: format!(
            "GDELT event {}, CAMEO {code} ({label}): {}{toward}; machine-coded, no quotation",
            fields.event_id, fields.actor1
        ),
        source: Source {
            url: (!fields.url.is_empty()).then(|| fields.url.to_string()),
            publisher: Some(PUBLISHER.to_string()),
            published_on: Some(fields.date_added),
        },
        quote_kind: QuoteKind::Verbatim,
        language: None,
        more_sources: Vec::new(),
        coded: Some(Box::new(Coded {
            coder: CODER_GDELT.to_string(),
            event_id: fields.event_id,
            cameo: code.to_string(),
            mentions: fields.mentions,
            sources: fields.sources,
            goldstein_tenths: fields.goldstein_tenths,
            tone_thousandths: fields.tone_thousandths,
        })),
    }))
}

/// One well-formed row: where it is, which GDELT event, its CAMEO root, and
/// its statement or the reason it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number.
    pub line: usize,
    /// `GLOBALEVENTID`.
    pub event_id: u64,
    /// The first two digits of `EventCode`.
    pub root: [u8; 2],
    /// Whether the row is *eligible*: under a root of things said, with an
    /// Actor1 that is a party (a state or an organisation of states), whether or
    /// not the registry knows it and whether or not its code is left out.
    pub eligible: bool,
    /// The statement, or why the row is skipped.
    pub result: Result<Event, Skip>,
}

impl Row {
    /// The CAMEO root as text (`"11"`).
    pub fn root(&self) -> &str {
        std::str::from_utf8(&self.root).unwrap_or("??")
    }
}

/// Whether a row is eligible (see [`Row::eligible`]), given its result.
fn is_eligible(
    root: [u8; 2],
    fields: &Fields<'_>,
    result: &Result<Event, Skip>,
    actors: &ActorCodes,
) -> bool {
    match result {
        Ok(_) => true,
        Err(Skip::UnknownActor(_) | Skip::AmbiguousActor(_) | Skip::UrlTooLong(_)) => true,
        Err(Skip::NoPredicate(_) | Skip::UnmappedCode(_)) => {
            let root = std::str::from_utf8(&root).unwrap_or("");
            CameoTable::builtin().is_listed_root(root)
                && matches!(
                    actors.party(fields.actor1),
                    Ok(_) | Err(Skip::UnknownActor(_) | Skip::AmbiguousActor(_))
                )
        }
        Err(_) => false,
    }
}

/// What an import of GDELT rows did, per CAMEO root: rows read, eligible rows,
/// statements made, and the reasons the rest made none; with the event ids
/// skipped as already seen and the party codes the registry lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Per root (`"01"`): its counts.
    pub roots: BTreeMap<String, RootCounts>,
    /// Rows skipped because their event id was already in the ledger or
    /// earlier in the input.
    pub duplicates: usize,
    /// Party codes (Actor1, or an Actor2 that would be a subject) that match no
    /// actor, with their counts.
    pub unknown_actors: BTreeMap<String, usize>,
    /// Every reason a row was skipped, with its count.
    pub skipped: Skipped,
}

/// The counts of one CAMEO root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootCounts {
    /// Rows read.
    pub rows: usize,
    /// Rows eligible ([`Row::eligible`]).
    pub eligible: usize,
    /// Statements made.
    pub statements: usize,
    /// Rows skipped, by kind of reason.
    pub skipped: BTreeMap<SkipKind, usize>,
}

impl Summary {
    /// Counts one row.
    pub fn add(&mut self, row: &Row) {
        let eligible = row.eligible;
        let c = match self.roots.get_mut(row.root()) {
            Some(c) => c,
            None => self.roots.entry(row.root().to_string()).or_default(),
        };
        c.rows += 1;
        c.eligible += usize::from(eligible);
        match &row.result {
            Ok(_) => c.statements += 1,
            Err(skip) => {
                *c.skipped.entry(skip.kind()).or_insert(0) += 1;
                if let Skip::UnknownActor(code) = skip {
                    *self.unknown_actors.entry(code.clone()).or_insert(0) += 1;
                }
                self.skipped.add(skip);
            }
        }
    }

    /// Counts a row whose event id was already seen (in the ledger or earlier in
    /// the input): it is neither a statement nor a skip of its root.
    pub fn add_duplicate(&mut self) {
        self.duplicates += 1;
    }

    /// The totals over all roots.
    pub fn total(&self) -> RootCounts {
        let mut t = RootCounts::default();
        for c in self.roots.values() {
            t.rows += c.rows;
            t.eligible += c.eligible;
            t.statements += c.statements;
            for (k, n) in &c.skipped {
                *t.skipped.entry(*k).or_insert(0) += n;
            }
        }
        t
    }
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

/// The row of one line (without its newline), whose tabs `tabs` holds;
/// `None` for a blank line. `note` is added to a message that a cut line
/// would explain: [`TRUNCATED`] for a last line without its newline.
fn row_of(
    bytes: &[u8],
    tabs: &Tabs,
    line: usize,
    note: &str,
    actors: &ActorCodes,
) -> Option<Result<Row, LineError>> {
    let input = |error: InputError| LineError::Input { line, error };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let cut = e.error_len().is_none();
            return Some(Err(input(InputError::new(
                "",
                format!(
                    "not valid UTF-8 (byte {}){}",
                    e.valid_up_to() + 1,
                    if cut { note } else { "" }
                ),
            ))));
        }
    };
    if tabs.count() == 0 && text.bytes().all(|b| b == b' ') {
        return None;
    }
    let found = tabs.count() + 1;
    if found != COLUMNS {
        return Some(Err(input(InputError::new(
            "",
            format!("{}{note}", columns_message(found)),
        ))));
    }
    Some(
        Fields::read(|i| tabs.column(text, i))
            .map_err(input)
            .map(|f| {
                let b = f.event_code.as_bytes();
                let root = [b[0], b[1]];
                let result = event_from_row(&f, actors);
                Row {
                    line,
                    event_id: f.event_id,
                    root,
                    eligible: is_eligible(root, &f, &result, actors),
                    result,
                }
            }),
    )
}

/// Reads a GDELT 2.0 event export lazily, one row at a time, with at most
/// [`MAX_LINE`] bytes a line in memory. Each well-formed row gives a [`Row`];
/// empty lines are passed over. After the first error no more items follow.
///
/// A line that lies whole in the reader's buffer is read where it lies, in one
/// pass that finds its tabs and its end; only a line across the buffer's end
/// is copied. Every row is checked whole (see [`Fields::parse`]), but only
/// the columns read are looked at past their tabs.
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
    let mut tabs = Tabs::new();
    let mut line = 0usize;
    let mut done = false;
    std::iter::from_fn(move || loop {
        if done {
            return None;
        }
        line += 1;
        // A whole line in the buffer: read in place.
        let whole = match reader.fill_buf() {
            Err(error) => Err(error),
            Ok(chunk) => Ok(match tabs.scan(chunk) {
                Some(end) if end <= MAX_LINE => {
                    let text = chunk[..end].strip_suffix(b"\r").unwrap_or(&chunk[..end]);
                    Some((row_of(text, &tabs, line, "", &actors), end + 1))
                }
                _ => None,
            }),
        };
        let item = match whole {
            Err(error) => Err(LineError::Io { line, error }),
            Ok(Some((row, used))) => {
                reader.consume(used);
                match row {
                    Some(item) => item,
                    None => continue,
                }
            }
            Ok(None) => {
                // Across the buffer's end, too long, or the last line.
                let before = reader.consumed;
                match read_line_bounded(&mut reader, &mut buf, MAX_LINE) {
                    Ok(None) => return None,
                    Err(error) => Err(LineError::Io { line, error }),
                    Ok(Some(Err(len))) => Err(LineError::Input {
                        line,
                        error: InputError::new(
                            "",
                            format!("line is {len} bytes long; the limit is {MAX_LINE}"),
                        ),
                    }),
                    Ok(Some(Ok(()))) => {
                        // Without its newline, a line consumed exactly its own bytes.
                        let ended = reader.consumed - before > buf.len() as u64;
                        let note = if ended { "" } else { TRUNCATED };
                        tabs.scan(&buf);
                        match row_of(&buf, &tabs, line, note, &actors) {
                            Some(item) => item,
                            None => continue,
                        }
                    }
                }
            }
        };
        done = item.is_err();
        return Some(item);
    })
}

mod scan;
#[cfg(test)]
mod tests;
