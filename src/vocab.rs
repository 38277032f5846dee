//! The controlled vocabulary (stances, predicates, their CAMEO and PLOVER codes)
//! and the actor registry (canonical ids and aliases). Both start from data files
//! in `schema/` embedded in the binary; actors grow with `actor` and `alias` events.

use crate::event::{ActorDef, AliasDef, RoleDef};
use rustc_hash::FxHashMap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{LazyLock, OnceLock};

mod starter;

/// The vocabulary file, as embedded.
pub const VOCABULARY_JSON: &str = include_str!("../schema/vocabulary.json");
/// The starter actors file, as embedded.
pub const ACTORS_JSON: &str = include_str!("../schema/actors.json");

/// What a stance is about: positions of one modality never replace positions
/// of another (a demand stands beside a claim that it has not been met).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// What should happen: demands, calls for, supports, rejects.
    Normative,
    /// What is the case: asserts, denies, acknowledges, accuses.
    Epistemic,
    /// A judgement of what happened: condemns, welcomes, expresses concern, regrets.
    Evaluative,
    /// What the party itself will or will not do: announces, agrees, offers,
    /// refuses, threatens.
    Commissive,
    /// An act done by saying it: recognises, votes, abstains, vetoes.
    Formal,
}

impl Modality {
    /// Every modality, in the order positions sort them.
    pub const ALL: [Modality; 5] = [
        Modality::Normative,
        Modality::Epistemic,
        Modality::Evaluative,
        Modality::Commissive,
        Modality::Formal,
    ];

    /// Its name, as the vocabulary and positions JSON write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Normative => "normative",
            Modality::Epistemic => "epistemic",
            Modality::Evaluative => "evaluative",
            Modality::Commissive => "commissive",
            Modality::Formal => "formal",
        }
    }

    /// Its place in [`Modality::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// One stance of the vocabulary.
#[derive(Debug, Clone, Deserialize)]
pub struct StanceDef {
    /// Id used in events.
    pub id: String,
    /// Human label.
    pub label: String,
    /// `demand`, `appeal`, `denial`, ...
    pub kind: String,
    /// What the stance is about; it decides which positions it replaces.
    pub modality: Modality,
    /// Other words for it ("urges" for `calls-for`): never recorded, but an
    /// unknown stance that is one of them is answered with the stance.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// What it means, with an example.
    pub description: String,
}

/// What a predicate needs of a statement's proposition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requirement {
    /// At least one subject (whose forces withdraw, whose presence).
    Subjects,
    /// A location (withdrawn from where, present where).
    Location,
    /// A document (the resolution voted on), event format 2.
    Document,
}

/// One predicate of the vocabulary.
#[derive(Debug, Clone, Deserialize)]
pub struct PredicateDef {
    /// Id used in events.
    pub id: String,
    /// Human label.
    pub label: String,
    /// What a statement on it must name; a statement that lacks it is refused.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    /// The word before its subjects when it is written out: "of" (withdrawal
    /// of RUS), "by" (occupation by RUS).
    #[serde(default = "default_subject_word")]
    pub subject_word: String,
    /// The word before its location: "in" (presence in LBY), "from"
    /// (withdrawal from GEO), "on" (sanctions on IRN).
    #[serde(default = "default_location_word")]
    pub location_word: String,
    /// What it means.
    pub description: String,
}

fn default_subject_word() -> String {
    "of".to_string()
}

fn default_location_word() -> String {
    "in".to_string()
}

/// A controlled qualifier: what exactly a proposition is about (which forces
/// are present, who is expelled), with the predicates it applies to and the
/// other names it is known by.
#[derive(Debug, Clone, Deserialize)]
pub struct QualifierDef {
    /// Id used in events.
    pub id: String,
    /// Human label.
    pub label: String,
    /// The predicates it narrows.
    pub predicates: Vec<String>,
    /// Other names that resolve to it.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The nearest CAMEO (and PLOVER) code of a (stance, predicate) pair.
#[derive(Debug, Clone, Deserialize)]
pub struct Mapping {
    /// Stance id.
    pub stance: String,
    /// Predicate id, or `*` for any.
    pub predicate: String,
    /// CAMEO 1.1b3 event code.
    pub cameo: String,
    /// PLOVER event type, where one fits.
    pub plover: Option<String>,
    /// PLOVER mode.
    pub mode: Option<String>,
    /// PLOVER context.
    pub context: Option<String>,
}

/// The whole vocabulary.
#[derive(Debug, Clone, Deserialize)]
pub struct Vocabulary {
    /// Version of the stance and predicate lists.
    pub version: u32,
    /// Stances.
    pub stances: Vec<StanceDef>,
    /// Predicates.
    pub predicates: Vec<PredicateDef>,
    /// The qualifiers a proposition may carry.
    #[serde(default)]
    pub qualifiers: Vec<QualifierDef>,
    /// Version of the mapping table.
    pub mapping_version: u32,
    /// Mapping entries, specific pairs before `*` fallbacks.
    pub mapping: Vec<Mapping>,
    /// Labels of the CAMEO codes used.
    pub cameo_labels: BTreeMap<String, String>,
    /// Stances, predicates and mapping entries by name, made on first use.
    #[serde(skip)]
    lookup: OnceLock<Lookup>,
}

/// Where each stance, predicate and stance's mapping entries sit in a [`Vocabulary`].
#[derive(Debug, Clone, Default)]
struct Lookup {
    stances: FxHashMap<String, usize>,
    predicates: FxHashMap<String, usize>,
    /// By stance: the entry of each predicate, and the `*` fallback.
    mapping: FxHashMap<String, (FxHashMap<String, usize>, Option<usize>)>,
}

static VOCAB: LazyLock<Vocabulary> = LazyLock::new(|| {
    serde_json::from_str(VOCABULARY_JSON).expect("schema/vocabulary.json is valid (tested)")
});

impl Vocabulary {
    /// The embedded vocabulary.
    pub fn builtin() -> &'static Vocabulary {
        &VOCAB
    }

    fn lookup(&self) -> &Lookup {
        self.lookup.get_or_init(|| {
            let mut l = Lookup::default();
            for (i, s) in self.stances.iter().enumerate() {
                l.stances.entry(s.id.clone()).or_insert(i);
            }
            for (i, p) in self.predicates.iter().enumerate() {
                l.predicates.entry(p.id.clone()).or_insert(i);
            }
            for (i, m) in self.mapping.iter().enumerate() {
                let (pairs, fallback) = l.mapping.entry(m.stance.clone()).or_default();
                match m.predicate.as_str() {
                    "*" => {
                        fallback.get_or_insert(i);
                    }
                    p => {
                        pairs.entry(p.to_string()).or_insert(i);
                    }
                }
            }
            l
        })
    }

    /// A stance by id.
    pub fn stance(&self, id: &str) -> Option<&StanceDef> {
        self.lookup().stances.get(id).map(|i| &self.stances[*i])
    }

    /// The modality of a stance; a stance the vocabulary does not know (none
    /// gets into the ledger) counts as normative.
    pub fn modality(&self, stance: &str) -> Modality {
        self.stance(stance)
            .map_or(Modality::Normative, |s| s.modality)
    }

    /// The id of the qualifier `name` (an id or an alias) for `predicate`.
    ///
    /// # Errors
    /// [`Unknown`], with the close matches among the qualifiers of `predicate`.
    pub fn resolve_qualifier(&self, predicate: &str, name: &str) -> Result<&str, Unknown> {
        let fits = |q: &&QualifierDef| q.predicates.iter().any(|p| p == predicate);
        self.qualifiers
            .iter()
            .filter(fits)
            .find(|q| q.id == name || q.aliases.iter().any(|a| a == name))
            .map(|q| q.id.as_str())
            .ok_or_else(|| Unknown {
                name: name.to_string(),
                suggestions: close_matches(
                    name,
                    self.qualifiers
                        .iter()
                        .filter(fits)
                        .flat_map(|q| std::iter::once(&q.id).chain(&q.aliases))
                        .map(String::as_str),
                ),
            })
    }

    /// A predicate by id.
    pub fn predicate(&self, id: &str) -> Option<&PredicateDef> {
        self.lookup()
            .predicates
            .get(id)
            .map(|i| &self.predicates[*i])
    }

    /// Checks a stance id.
    ///
    /// # Errors
    /// [`Unknown`] with the closest stance ids, found among the ids and their
    /// synonyms: "urges" gives `calls-for ("urges")`.
    pub fn check_stance(&self, id: &str) -> Result<(), Unknown> {
        if self.stance(id).is_some() {
            return Ok(());
        }
        let words = self.stances.iter().flat_map(|x| {
            std::iter::once(x.id.as_str()).chain(x.synonyms.iter().map(String::as_str))
        });
        let mut suggestions: Vec<String> = Vec::new();
        for word in close_matches_all(id, words) {
            let Some(stance) = self
                .stances
                .iter()
                .find(|x| x.id == word || x.synonyms.contains(&word))
            else {
                continue;
            };
            let shown = if stance.id == word {
                stance.id.clone()
            } else {
                format!("{} (\"{word}\")", stance.id)
            };
            if !suggestions
                .iter()
                .any(|s| s.split(' ').next() == Some(stance.id.as_str()))
            {
                suggestions.push(shown);
            }
        }
        suggestions.truncate(5);
        Err(Unknown {
            name: id.to_string(),
            suggestions,
        })
    }

    /// The words a proposition of `predicate` is written out with: before its
    /// subjects and before its location ("withdrawal of RUS from GEO").
    pub fn words(&self, predicate: &str) -> (&str, &str) {
        self.predicate(predicate)
            .map_or(("of", "in"), |p| (&p.subject_word, &p.location_word))
    }

    /// Checks a predicate id, and gives its definition.
    ///
    /// # Errors
    /// [`Unknown`] with the closest predicate ids.
    pub fn check_predicate(&self, id: &str) -> Result<&PredicateDef, Unknown> {
        match self.predicate(id) {
            Some(p) => Ok(p),
            None => Err(Unknown {
                name: id.to_string(),
                suggestions: close_matches(id, self.predicates.iter().map(|x| x.id.as_str())),
            }),
        }
    }

    /// The nearest CAMEO mapping of a pair.
    pub fn mapping(&self, stance: &str, predicate: &str) -> Option<&Mapping> {
        let (pairs, fallback) = self.lookup().mapping.get(stance)?;
        pairs
            .get(predicate)
            .or(fallback.as_ref())
            .map(|i| &self.mapping[*i])
    }
}

/// An unknown name, with the known names closest to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// What was asked for.
    pub name: String,
    /// Close matches, best first.
    pub suggestions: Vec<String>,
}

impl std::fmt::Display for Unknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.name)?;
        if !self.suggestions.is_empty() {
            write!(f, "; close matches: {}", self.suggestions.join(", "))?;
        }
        Ok(())
    }
}

/// Edit distance between two short strings (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// Up to five candidates close to `name`: within a third of its length in edits,
/// or sharing its start, or (for a short name) the same letters in another
/// order, as acronyms in another language are (OTAN, NATO), or the same verb
/// with its `y` and `ies` endings swapped (deny, denies).
pub fn close_matches<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut all = close_matches_all(name, candidates);
    all.truncate(5);
    all
}

/// Every candidate close to `name`, best first (see [`close_matches`]).
fn close_matches_all<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let lname = name.to_lowercase();
    let limit = (lname.chars().count() / 3).max(1);
    let letters = |s: &str| {
        let mut v: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
        v.sort_unstable();
        v
    };
    let short = (2..=6).contains(&lname.chars().count());
    let lletters = letters(&lname);
    let mut scored: Vec<(usize, String)> = candidates
        .filter_map(|c| {
            let lc = c.to_lowercase();
            let d = distance(&lname, &lc);
            let prefix = lname.len() >= 2 && (lc.starts_with(&lname) || lname.starts_with(&lc));
            let anagram =
                short && lc.chars().count() == lname.chars().count() && letters(&lc) == lletters;
            let ies = |a: &str, b: &str| {
                a.strip_suffix("ies")
                    .is_some_and(|stem| !stem.is_empty() && b.strip_suffix('y') == Some(stem))
            };
            let inflected = ies(&lc, &lname) || ies(&lname, &lc);
            (d <= limit || prefix || anagram || inflected).then(|| (d, c.to_string()))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().map(|(_, c)| c).collect()
}

/// Whether a string is a well-formed actor id: `^[A-Z][A-Z0-9-]{1,31}$`.
pub fn is_actor_id(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=32).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-')
}

/// The form names are compared in: upper case, dots dropped, runs of spaces,
/// hyphens and underscores made one space. "U.N." and "un" both become "UN".
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut gap = false;
    for ch in name.trim().chars() {
        match ch {
            '.' => {}
            c if c.is_whitespace() || c == '-' || c == '_' => gap = true,
            c => {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                // An ASCII character (nearly every one) without Unicode's
                // case tables.
                if c.is_ascii() {
                    out.push(c.to_ascii_uppercase());
                } else {
                    out.extend(c.to_uppercase());
                }
            }
        }
    }
    out
}

/// An actor the registry knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The definition (with every alias added since).
    pub def: ActorDef,
    /// The seq of the event that defined it; `None` for starter actors.
    pub defined_at: Option<u64>,
    /// A person's roles, in the order recorded (a later event for the same
    /// party, role and start replaced the earlier one).
    pub roles: Vec<RoleDef>,
    /// The seq of the retraction that retired the actor, if one did: its
    /// names no longer resolve (and may be given to another actor), its id
    /// is not taken again and names no actor in a new event, and statements
    /// recorded before keep it.
    pub retired: Option<u64>,
}

impl Actor {
    /// The roles the actor held on `day`.
    pub fn roles_on(&self, day: jiff::civil::Date) -> impl Iterator<Item = &RoleDef> {
        self.roles
            .iter()
            .filter(move |r| r.from <= day && r.until.is_none_or(|u| day <= u))
    }
}

/// An actor of `schema/actors.json`, read by the tests that check the table
/// the starter set is made from.
#[cfg(test)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StarterActor {
    id: String,
    name: String,
    kind: String,
    #[serde(default)]
    aliases: Vec<String>,
    parent: Option<String>,
    cameo: Option<String>,
}

#[cfg(test)]
#[derive(Deserialize)]
struct StarterFile {
    #[allow(dead_code)]
    version: u32,
    actors: Vec<StarterActor>,
}

/// Kinds an actor may have: `region` for a territory that is not a state
/// (South Ossetia, Crimea, Kosovo before its recognition), `authority` for
/// whoever governs in fact without being the recognised government (a junta,
/// a de facto administration).
pub const ACTOR_KINDS: &[&str] = &[
    "state",
    "organisation",
    "body",
    "person",
    "group",
    "company",
    "region",
    "authority",
    "other",
];

/// Canonical actors and the names that resolve to them.
///
/// The starter set is not copied in: its actors and names are read from the
/// generated table ([`starter::ACTORS`], sorted by id, with its sorted
/// names [`starter::KEYS`]) beneath what events add here. An actor an event
/// changes (an alias, a role, its retirement) is taken up into `by_id` whole
/// and stands for the table's from then on; a name of the table that no
/// longer resolves is held in `by_name` as resolving to none. Making the set
/// (2,500 strings and two tables, 200 KiB of fresh memory) was a tenth of an
/// `append` (BENCHMARKS.md, "A process's own start").
#[derive(Debug, Clone, Default)]
pub struct Actors {
    /// Whether the starter set stands beneath ([`Actors::starter`]; an
    /// `Actors::default()` has none).
    starter: bool,
    /// Hashed: every name of every statement is looked up here. Read in the
    /// order of ids through [`in_order`](Self::in_order). The actors events
    /// defined, and the starter actors they changed.
    by_id: FxHashMap<String, Actor>,
    /// Normalised names and the actor each resolves to, before the starter
    /// table's: `None` for one of its names that resolves to none.
    by_name: FxHashMap<String, Option<String>>,
    /// The actor, alias and role events the registry was built from, by seq.
    events: BTreeMap<u64, RefEvent>,
    /// Retired events: the seq of each, and the seq of the retraction.
    retired: BTreeMap<u64, u64>,
}

/// An actor, alias or role event, as the registry keeps it.
#[derive(Debug, Clone)]
enum RefEvent {
    Actor(String),
    Alias(AliasDef),
    Role(RoleDef),
}

/// What a retraction retired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retired {
    /// An actor (its id).
    Actor(String),
    /// An alias of an actor.
    Alias(AliasDef),
    /// A person's role.
    Role(RoleDef),
}

/// Why an actor or alias cannot be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    /// The id is taken.
    #[error("actor {0} already exists")]
    Exists(String),
    /// The name could be mistaken for a name of another actor.
    #[error("name \"{name}\" can be mistaken for \"{like}\", which resolves to {actor}")]
    Confusable {
        /// The name.
        name: String,
        /// The existing name it looks like.
        like: String,
        /// The actor that name resolves to.
        actor: String,
    },
    /// The name already resolves to another actor.
    #[error("name \"{name}\" already resolves to {actor}")]
    NameTaken {
        /// The name.
        name: String,
        /// The actor it resolves to.
        actor: String,
    },
    /// No such actor.
    #[error("unknown actor {0}")]
    Unknown(Unknown),
    /// Malformed id or kind.
    #[error("{0}")]
    Invalid(String),
}

/// One starter actor, as `vocab/starter.rs` lists them.
struct StarterEntry {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    aliases: &'static [&'static str],
    parent: Option<&'static str>,
    cameo: Option<&'static str>,
}

/// The starter actor at `place` in [`starter::ACTORS`], made the first time
/// a process reads it: a command reads a few of them, most only their ids.
fn starter_actor(place: usize) -> &'static Actor {
    static MADE: [OnceLock<Actor>; starter::COUNT] = [const { OnceLock::new() }; starter::COUNT];
    MADE[place].get_or_init(|| {
        let a = &starter::ACTORS[place];
        Actor {
            def: ActorDef {
                id: a.id.to_string(),
                name: a.name.to_string(),
                kind: a.kind.to_string(),
                aliases: a.aliases.iter().map(|n| (*n).to_string()).collect(),
                parent: a.parent.map(str::to_string),
                cameo: a.cameo.map(str::to_string),
            },
            defined_at: None,
            roles: Vec::new(),
            retired: None,
        }
    })
}

/// The place in [`starter::ACTORS`] of the entry of `key` in a table sorted
/// by key.
fn starter_place(table: &[(&str, u16)], key: &str) -> Option<usize> {
    table
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|i| usize::from(table[i].1))
}

/// `schema/actors.json`'s actors, parents before the bodies that belong to
/// them, each with its id, name and aliases normalised, once each: the rows
/// of [`starter::ACTORS`], which has them sorted by id.
#[cfg(test)]
fn starter_rows() -> Vec<(StarterActor, Vec<String>)> {
    let file: StarterFile = serde_json::from_str(ACTORS_JSON).expect("schema/actors.json");
    let (roots, children): (Vec<_>, Vec<_>) =
        file.actors.into_iter().partition(|a| a.parent.is_none());
    roots
        .into_iter()
        .chain(children)
        .map(|a| {
            let mut keys: Vec<String> = Vec::new();
            for n in std::iter::once(&a.id)
                .chain(std::iter::once(&a.name))
                .chain(&a.aliases)
            {
                let key = normalise(n);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            (a, keys)
        })
        .collect()
}

/// The starter set made from `schema/actors.json` by [`Actors::add`], which
/// checks every id, kind, parent and name.
#[cfg(test)]
fn starter_added() -> Actors {
    let mut actors = Actors::default();
    for (a, _) in starter_rows() {
        let def = ActorDef {
            id: a.id,
            name: a.name,
            kind: a.kind,
            aliases: a.aliases,
            parent: a.parent,
            cameo: a.cameo,
        };
        actors
            .add(def, None)
            .expect("schema/actors.json has no conflicts");
    }
    actors
}

/// The text of `src/vocab/starter.rs`, made from `schema/actors.json`.
#[cfg(test)]
fn render_starter_table() -> String {
    let mut rows = starter_rows();
    rows.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
        format!("&[{}]", items.join(", "))
    };
    let opt = |v: &Option<String>| match v {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_string(),
    };
    let mut out = String::from(STARTER_HEADER);
    out.push_str("#[rustfmt::skip]\npub(super) static ACTORS: &[Entry] = &[\n");
    for (a, _) in &rows {
        out.push_str(&format!(
            "    Entry {{ id: {:?}, name: {:?}, kind: {:?}, aliases: {}, parent: {}, cameo: {} }},\n",
            a.id,
            a.name,
            a.kind,
            list(&a.aliases),
            opt(&a.parent),
            opt(&a.cameo),
        ));
    }
    out.push_str("];\n\n");
    out.push_str(&format!(
        "/// How many actors there are (the length of `ACTORS`).\npub(super) const COUNT: usize = {};\n\n",
        rows.len()
    ));
    let index = |title: &str, name: &str, mut entries: Vec<(String, usize)>| {
        entries.sort();
        let mut t = format!(
            "/// {title}\n#[rustfmt::skip]\npub(super) static {name}: &[(&str, u16)] = &[\n"
        );
        for (k, place) in entries {
            t.push_str(&format!("    ({k:?}, {place}),\n"));
        }
        t.push_str("];\n");
        t
    };
    let keys = rows
        .iter()
        .enumerate()
        .flat_map(|(i, (_, keys))| keys.iter().map(move |k| (k.clone(), i)))
        .collect();
    out.push_str(&index(
        "Every name of `keys`, sorted (as `str`s compare), each with its actor's place in `ACTORS`.",
        "KEYS",
        keys,
    ));
    out
}

#[cfg(test)]
const STARTER_HEADER: &str =
    "//! The starter actors of `schema/actors.json`, sorted by id (as `str`s
//! compare), with the names each resolves by already normalised.
//!
//! Generated from the file, and checked against it, by the test
//! `vocab::tests::the_starter_table_is_made_from_actors_json`. After a change to
//! the file, make it again with
//! `DEMARCHE_BLESS=1 cargo test --lib the_starter_table_is_made_from_actors_json`.

use super::StarterEntry as Entry;

";

impl Actors {
    /// The starter set embedded from `schema/actors.json`, read from its
    /// table as it is needed.
    pub fn starter() -> Actors {
        Actors {
            starter: true,
            ..Actors::default()
        }
    }

    /// The place in [`starter::ACTORS`] of the starter actor `id`. Hashed:
    /// every actor a statement names is looked up here, three or so a
    /// statement, and a binary search of the table (eight string compares)
    /// was 5% of an import's CPU. The map is made the first time a process
    /// looks, from the table (240 entries, a few microseconds).
    fn starter_place_of_id(&self, id: &str) -> Option<usize> {
        static PLACES: OnceLock<FxHashMap<&'static str, u16>> = OnceLock::new();
        if !self.starter {
            return None;
        }
        let places = PLACES.get_or_init(|| {
            starter::ACTORS
                .iter()
                .zip(0u16..)
                .map(|(a, place)| (a.id, place))
                .collect()
        });
        places.get(id).map(|&place| usize::from(place))
    }

    /// Number of actors.
    pub fn len(&self) -> usize {
        let starter = if self.starter { starter::COUNT } else { 0 };
        let added = self
            .by_id
            .keys()
            .filter(|id| self.starter_place_of_id(id).is_none())
            .count();
        starter + added
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        !self.starter && self.by_id.is_empty()
    }

    /// All actors by id.
    pub fn iter(&self) -> impl Iterator<Item = &Actor> {
        self.in_order().into_iter()
    }

    /// All actors, sorted by id.
    fn in_order(&self) -> Vec<&Actor> {
        let mut all: Vec<&Actor> = self.by_id.values().collect();
        if self.starter {
            all.extend(
                (0..starter::COUNT)
                    .filter(|&i| !self.by_id.contains_key(starter::ACTORS[i].id))
                    .map(|i| -> &Actor { starter_actor(i) }),
            );
        }
        all.sort_unstable_by(|a, b| a.def.id.cmp(&b.def.id));
        all
    }

    /// An actor by canonical id.
    pub fn get(&self, id: &str) -> Option<&Actor> {
        match self.by_id.get(id) {
            Some(a) => Some(a),
            None => self.starter_place_of_id(id).map(starter_actor),
        }
    }

    /// An actor by canonical id, to change: a starter actor is taken up
    /// into the registry first.
    fn get_mut(&mut self, id: &str) -> Option<&mut Actor> {
        if !self.by_id.contains_key(id) {
            let place = self.starter_place_of_id(id)?;
            self.by_id
                .insert(id.to_string(), starter_actor(place).clone());
        }
        self.by_id.get_mut(id)
    }

    /// The id of the actor a normalised name resolves to.
    fn owner(&self, key: &str) -> Option<&str> {
        match self.by_name.get(key) {
            Some(owner) => owner.as_deref(),
            None if self.starter => {
                starter_place(starter::KEYS, key).map(|place| starter::ACTORS[place].id)
            }
            None => None,
        }
    }

    /// Makes a normalised name resolve to no actor.
    fn unname(&mut self, key: &str) {
        if self.starter && starter_place(starter::KEYS, key).is_some() {
            self.by_name.insert(key.to_string(), None);
        } else {
            self.by_name.remove(key);
        }
    }

    /// The canonical id a name (id, name or alias, in any case) stands for.
    /// A retired actor is found by its id alone (statements recorded before
    /// keep it), and [`Actor::retired`] says so; its names no longer resolve.
    ///
    /// # Errors
    /// [`Unknown`] with close matches.
    pub fn resolve(&self, name: &str) -> Result<&str, Unknown> {
        self.find(name).map(|a| a.def.id.as_str())
    }

    /// The actor a name (id, name or alias, in any case) stands for, as
    /// [`resolve`](Self::resolve) finds it.
    ///
    /// # Errors
    /// [`Unknown`] with close matches.
    pub fn find(&self, name: &str) -> Result<&Actor, Unknown> {
        if let Some(a) = self.get(name) {
            return Ok(a);
        }
        if let Some(a) = self.owner(&normalise(name)).and_then(|id| self.get(id)) {
            return Ok(a);
        }
        // Retired actors are suggested no more.
        let in_order = self.in_order();
        let live = || in_order.iter().filter(|a| a.retired.is_none());
        let names = live()
            .map(|a| a.def.id.as_str())
            .chain(live().map(|a| a.def.name.as_str()))
            .chain(live().flat_map(|a| a.def.aliases.iter().map(String::as_str)));
        // One suggestion per actor, by its best match, shown as `ID (name)`, or
        // `ID (alias A)` when an alias was the match.
        let mut seen: Vec<&str> = Vec::new();
        let mut suggestions = Vec::new();
        for s in close_matches_all(name, names) {
            let Some(id) = self.owner(&normalise(&s)) else {
                continue;
            };
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            let Some(actor) = self.get(id) else {
                continue;
            };
            let d = &actor.def;
            suggestions.push(if d.aliases.contains(&s) {
                format!("{id} (alias {s})")
            } else if d.name == id {
                id.to_string()
            } else {
                format!("{id} ({})", d.name)
            });
            if suggestions.len() == 5 {
                break;
            }
        }
        Err(Unknown {
            name: name.to_string(),
            suggestions,
        })
    }

    fn check_name(&self, name: &str, owner: &str) -> Result<String, ActorError> {
        let n = normalise(name);
        if n.is_empty() {
            return Err(ActorError::Invalid(
                "an actor name or alias may not be empty".into(),
            ));
        }
        match self.owner(&n) {
            Some(other) if other != owner => Err(ActorError::NameTaken {
                name: name.to_string(),
                actor: other.to_string(),
            }),
            _ => Ok(n),
        }
    }

    /// Adds an actor.
    ///
    /// # Errors
    /// A taken id or name, an unknown parent, a malformed id or kind.
    pub fn add(&mut self, def: ActorDef, seq: Option<u64>) -> Result<(), ActorError> {
        if !is_actor_id(&def.id) {
            return Err(ActorError::Invalid(format!(
                "actor id \"{}\" must be 2 to 32 upper-case letters, digits or '-', starting with a letter",
                def.id
            )));
        }
        if !ACTOR_KINDS.contains(&def.kind.as_str()) {
            return Err(ActorError::Invalid(format!(
                "actor kind \"{}\" is not one of {}",
                def.kind,
                ACTOR_KINDS.join(", ")
            )));
        }
        if self.get(&def.id).is_some() {
            return Err(ActorError::Exists(def.id));
        }
        if let Some(p) = &def.parent {
            if self.get(p).is_none() {
                return Err(ActorError::Unknown(self.resolve(p).err().unwrap_or(
                    Unknown {
                        name: p.clone(),
                        suggestions: vec![],
                    },
                )));
            }
        }
        let mut names = Vec::new();
        for n in std::iter::once(&def.id)
            .chain(std::iter::once(&def.name))
            .chain(&def.aliases)
        {
            let key = self.check_name(n, &def.id)?;
            if !names.contains(&key) {
                names.push(key);
            }
        }
        for n in names {
            self.by_name.insert(n, Some(def.id.clone()));
        }
        if let Some(seq) = seq {
            self.events.insert(seq, RefEvent::Actor(def.id.clone()));
        }
        self.by_id.insert(
            def.id.clone(),
            Actor {
                def,
                defined_at: seq,
                roles: Vec::new(),
                retired: None,
            },
        );
        Ok(())
    }

    /// Whether `seq` is an actor, alias or role event the registry holds.
    pub fn holds_event(&self, seq: u64) -> bool {
        self.events.contains_key(&seq)
    }

    /// The seq of the retraction that retired the actor, alias or role event
    /// at `seq`, if one did.
    pub fn retired_by(&self, seq: u64) -> Option<u64> {
        self.retired.get(&seq).copied()
    }

    /// The alias and role events of an actor, by seq, with the seq of the
    /// retraction of each that was retired.
    pub fn events_of(&self, id: &str) -> Vec<(u64, Retired, Option<u64>)> {
        self.events
            .iter()
            .filter_map(|(seq, e)| {
                let r = match e {
                    RefEvent::Alias(a) if a.actor == id => Retired::Alias(a.clone()),
                    RefEvent::Role(r) if r.actor == id => Retired::Role(r.clone()),
                    _ => return None,
                };
                Some((*seq, r, self.retired_by(*seq)))
            })
            .collect()
    }

    /// Retires the actor, alias or role event at `of`, by the retraction at
    /// `by`. An actor's names stop resolving (its id stays its own, and
    /// statements recorded before keep it); an alias stops resolving and may
    /// be given to another actor; a role no longer counts (the person's roles
    /// are made again from their other role events).
    ///
    /// # Errors
    /// `of` is no actor, alias or role event of the registry, or was retired.
    pub fn retire(&mut self, of: u64, by: u64) -> Result<Retired, ActorError> {
        let Some(event) = self.events.get(&of).cloned() else {
            return Err(ActorError::Invalid(format!(
                "seq {of} is no actor, alias or role event"
            )));
        };
        if let Some(r) = self.retired_by(of) {
            return Err(ActorError::Invalid(format!(
                "seq {of} was retired by seq {r}"
            )));
        }
        self.retired.insert(of, by);
        Ok(match event {
            RefEvent::Actor(id) => {
                // An actor an event defined: every name of it is held here
                // (a starter actor has no event, and is never retired).
                debug_assert!(self.starter_place_of_id(&id).is_none());
                let names: Vec<String> = self
                    .by_name
                    .iter()
                    .filter(|(_, owner)| owner.as_deref() == Some(id.as_str()))
                    .map(|(key, _)| key.clone())
                    .collect();
                for key in names {
                    self.unname(&key);
                }
                if let Some(a) = self.get_mut(&id) {
                    a.retired = Some(by);
                }
                Retired::Actor(id)
            }
            RefEvent::Alias(alias) => {
                let key = normalise(&alias.alias);
                if let Some(a) = self.get_mut(&alias.actor) {
                    let own = [&a.def.id, &a.def.name].iter().any(|n| normalise(n) == key);
                    a.def.aliases.retain(|x| normalise(x) != key);
                    if !own && self.owner(&key) == Some(alias.actor.as_str()) {
                        self.unname(&key);
                    }
                }
                Retired::Alias(alias)
            }
            RefEvent::Role(role) => {
                let standing: Vec<RoleDef> = self
                    .events
                    .iter()
                    .filter(|(seq, _)| !self.retired.contains_key(seq))
                    .filter_map(|(_, e)| match e {
                        RefEvent::Role(r) if r.actor == role.actor => Some(r.clone()),
                        _ => None,
                    })
                    .collect();
                if let Some(a) = self.get_mut(&role.actor) {
                    a.roles.clear();
                    for r in standing {
                        match a
                            .roles
                            .iter_mut()
                            .find(|x| x.of == r.of && x.role == r.role && x.from == r.from)
                        {
                            Some(x) => *x = r,
                            None => a.roles.push(r),
                        }
                    }
                }
                Retired::Role(role)
            }
        })
    }

    /// The actors that belong to `id`: whose parent, or its parent, and so
    /// on, is `id` (a ministry of a state, a region of it), sorted.
    pub fn members(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .in_order()
            .into_iter()
            .filter(|a| {
                let mut at = a.def.parent.as_deref();
                let mut hops = 0;
                while let Some(p) = at {
                    if p == id {
                        return true;
                    }
                    hops += 1;
                    if hops > 32 {
                        return false;
                    }
                    at = self.get(p).and_then(|x| x.def.parent.as_deref());
                }
                false
            })
            .map(|a| a.def.id.clone())
            .collect();
        out.sort();
        out
    }

    /// Adds a role to a person, or, for the same party, role and start,
    /// replaces the one recorded before (to set when it ended).
    ///
    /// # Errors
    /// An unknown person or party, or an actor that is not a person.
    pub fn add_role(&mut self, role: &RoleDef) -> Result<(), ActorError> {
        self.add_role_at(role, None)
    }

    /// [`add_role`](Self::add_role), recording the seq of its event.
    ///
    /// # Errors
    /// As [`add_role`](Self::add_role).
    pub fn add_role_at(&mut self, role: &RoleDef, seq: Option<u64>) -> Result<(), ActorError> {
        let unknown = |actors: &Actors, name: &str| {
            ActorError::Unknown(actors.resolve(name).err().unwrap_or(Unknown {
                name: name.to_string(),
                suggestions: vec![],
            }))
        };
        if self.get(&role.of).is_none() {
            return Err(unknown(self, &role.of));
        }
        let Some(a) = self.get(&role.actor) else {
            return Err(unknown(self, &role.actor));
        };
        if a.def.kind != "person" {
            return Err(ActorError::Invalid(format!(
                "{} is a {}; only a person holds a role",
                role.actor, a.def.kind
            )));
        }
        let a = self.get_mut(&role.actor).expect("checked above");
        match a
            .roles
            .iter_mut()
            .find(|r| r.of == role.of && r.role == role.role && r.from == role.from)
        {
            Some(r) => *r = role.clone(),
            None => a.roles.push(role.clone()),
        }
        if let Some(seq) = seq {
            self.events.insert(seq, RefEvent::Role(role.clone()));
        }
        Ok(())
    }

    /// An id, name or alias of an actor other than `owner` that `name` could
    /// be mistaken for (the same Unicode TR39 skeleton, compared without case:
    /// "RUЅ" with a Cyrillic S, or a fullwidth "ＲＵＳ", for RUS), as the name
    /// and its actor. A name that is the same once normalised is not reported
    /// here: adding it fails with [`ActorError::NameTaken`]. Reads every name
    /// in the registry.
    pub fn confusable_with(&self, name: &str, owner: &str) -> Option<(String, String)> {
        let skeleton = |s: &str| -> String {
            unicode_security::skeleton(&s.to_lowercase())
                .flat_map(char::to_lowercase)
                .collect()
        };
        let mine = skeleton(name);
        let norm = normalise(name);
        for a in self.in_order() {
            if a.def.id == owner {
                continue;
            }
            let names = std::iter::once(&a.def.id)
                .chain(std::iter::once(&a.def.name))
                .chain(&a.def.aliases);
            for n in names {
                if normalise(n) != norm && skeleton(n) == mine {
                    return Some((n.clone(), a.def.id.clone()));
                }
            }
        }
        None
    }

    /// Adds an alias to an existing actor.
    ///
    /// # Errors
    /// An unknown actor or a name that resolves to another actor.
    pub fn add_alias(&mut self, alias: &AliasDef) -> Result<(), ActorError> {
        self.add_alias_at(alias, None)
    }

    /// [`add_alias`](Self::add_alias), recording the seq of its event.
    ///
    /// # Errors
    /// As [`add_alias`](Self::add_alias).
    pub fn add_alias_at(&mut self, alias: &AliasDef, seq: Option<u64>) -> Result<(), ActorError> {
        if self.get(&alias.actor).is_none() {
            return Err(ActorError::Unknown(
                self.resolve(&alias.actor).err().unwrap_or(Unknown {
                    name: alias.actor.clone(),
                    suggestions: vec![],
                }),
            ));
        }
        let key = self.check_name(&alias.alias, &alias.actor)?;
        self.by_name.insert(key, Some(alias.actor.clone()));
        let a = self.get_mut(&alias.actor).expect("checked above");
        if !a.def.aliases.contains(&alias.alias) {
            a.def.aliases.push(alias.alias.clone());
        }
        if let Some(seq) = seq {
            self.events.insert(seq, RefEvent::Alias(alias.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A registry's answers, all of them that a user sees: every actor as it
    /// stands, in order, and what each name of `names` resolves to.
    fn answers(a: &Actors, names: &[String]) -> (usize, Vec<Actor>, Vec<Result<String, Unknown>>) {
        let actors = a.iter().cloned().collect();
        let resolved = names
            .iter()
            .map(|n| a.resolve(n).map(str::to_string))
            .collect();
        (a.len(), actors, resolved)
    }

    /// What a registry answers step by step: its size, which actor each of
    /// `names` resolves to (as `check_name` finds it, for no owner and for
    /// each of `owners`), each of `ids` as it stands, and each event it
    /// holds and what retired it.
    fn step_answers(
        a: &Actors,
        names: &[&str],
        ids: &[&str],
        owners: &[&str],
        seqs: u64,
    ) -> String {
        let mut out = format!("{} {}\n", a.len(), a.is_empty());
        for n in names {
            out.push_str(&format!("{n}: {:?}", a.check_name(n, "")));
            for o in owners {
                out.push_str(&format!(" {:?}", a.check_name(n, o)));
            }
            out.push('\n');
        }
        for id in ids {
            out.push_str(&format!("{:?}\n", a.get(id)));
        }
        for seq in 0..=seqs {
            out.push_str(&format!(
                "{seq} {} {:?}\n",
                a.holds_event(seq),
                a.retired_by(seq)
            ));
        }
        out
    }

    /// The starter set read from its table answers as the set made by adding
    /// each actor of `schema/actors.json`, after any events: actors, aliases
    /// and roles added (some to starter actors, some with names of the
    /// starter set), any of them retired (mostly the latest), and the
    /// registry copied. Compared after every event, and at the end for every
    /// name of the set and for names that could be mistaken for them.
    #[test]
    fn the_starter_table_answers_as_the_actors_added_one_by_one() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
        let ids = ["FRA", "UN", "EU", "UNO", "ZZA", "ZZB", "P-ONE"];
        let words = [
            "France",
            "U.N.",
            "Zed",
            "French Republic",
            "french-republic",
            "UNO",
            "Person One",
            "ZZA",
        ];
        let mut names: Vec<String> = ids.iter().chain(&words).map(|n| n.to_string()).collect();
        names.extend(starter::KEYS.iter().map(|(k, _)| k.to_string()));
        names.extend(["Frаnce", "ＦＲＡ", "Frence", "Libia"].map(String::from));
        let small: Vec<&str> = ids.iter().chain(&words).copied().collect();
        // (kind of event, an id, another id, a word, a seq to retire)
        let op = (0u8..5, 0..ids.len(), 0..ids.len(), 0..words.len(), 0u64..40);
        let config = Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
        runner
            .run(&proptest::collection::vec(op, 1..60), |ops| {
                let (mut table, mut added) = (Actors::starter(), starter_added());
                // The seqs of the events taken: a retraction retires one of
                // the last three (or, one time in four, any seq).
                let mut taken: Vec<u64> = Vec::new();
                let mut last = 0;
                for (seq, (kind, i, j, w, of)) in (1u64..).zip(ops) {
                    last = seq;
                    let of = match taken.len() {
                        n if n > 0 && of % 4 != 0 => taken[n - 1 - of as usize % n.min(3)],
                        _ => of,
                    };
                    let (id, other, word) = (ids[i].to_string(), ids[j].to_string(), words[w]);
                    if kind == 4 {
                        table = table.clone();
                        added = added.clone();
                        continue;
                    }
                    let [a, b] = [&mut table, &mut added].map(|r| match kind {
                        0 => {
                            let person = id.starts_with("P-");
                            let def = ActorDef {
                                id: id.clone(),
                                name: word.to_string(),
                                kind: if person { "person" } else { "body" }.into(),
                                aliases: vec![words[(w + j) % words.len()].to_string()],
                                parent: (!person && i != j).then(|| other.clone()),
                                cameo: None,
                            };
                            format!("{:?}", r.add(def, Some(seq)))
                        }
                        1 => {
                            let alias = AliasDef {
                                actor: id.clone(),
                                alias: word.to_string(),
                            };
                            format!("{:?}", r.add_alias_at(&alias, Some(seq)))
                        }
                        2 => {
                            let role = RoleDef {
                                actor: id.clone(),
                                of: other.clone(),
                                role: "envoy".into(),
                                from: jiff::civil::date(2020, 1, 1),
                                until: None,
                            };
                            format!("{:?}", r.add_role_at(&role, Some(seq)))
                        }
                        _ => format!("{:?}", r.retire(of, seq)),
                    });
                    if kind < 3 && a == "Ok(())" {
                        taken.push(seq);
                    }
                    prop_assert_eq!(a, b);
                    let owners = [ids[i], ids[j]];
                    prop_assert_eq!(
                        step_answers(&table, &small, &ids, &owners, seq),
                        step_answers(&added, &small, &ids, &owners, seq)
                    );
                }
                prop_assert!(answers(&table, &names) == answers(&added, &names));
                prop_assert_eq!(
                    step_answers(&table, &[], &[], &[], last),
                    step_answers(&added, &[], &[], &[], last)
                );
                for id in ids {
                    prop_assert_eq!(table.members(id), added.members(id));
                    prop_assert_eq!(table.events_of(id), added.events_of(id));
                }
                for n in &names[names.len() - 4..] {
                    prop_assert_eq!(
                        table.confusable_with(n, "ZZB"),
                        added.confusable_with(n, "ZZB")
                    );
                }
                Ok(())
            })
            .unwrap();
    }

    /// A name of the starter set given by an event and retired resolves to
    /// none, and stays so when an actor given it later is retired in turn.
    #[test]
    fn retired_names_of_the_starter_set_stay_retired() {
        let mut a = Actors::starter();
        let alias = |actor: &str, alias: &str| AliasDef {
            actor: actor.into(),
            alias: alias.into(),
        };
        // An alias the table gives FRA, given again by an event and retired.
        a.add_alias_at(&alias("FRA", "French Republic"), Some(1))
            .expect("FRA's own name");
        a.retire(1, 2).expect("retire the alias");
        assert!(a.resolve("French Republic").is_err());
        assert_eq!(a.resolve("France"), Ok("FRA"));
        // Taken by a new actor, which is retired.
        let def = ActorDef {
            id: "ZZA".into(),
            name: "Zed".into(),
            kind: "body".into(),
            aliases: vec!["French Republic".into()],
            parent: None,
            cameo: None,
        };
        a.add(def, Some(3)).expect("a free name");
        assert_eq!(a.resolve("french-republic"), Ok("ZZA"));
        a.retire(3, 4).expect("retire the actor");
        assert!(a.resolve("French Republic").is_err());
        assert_eq!(a.resolve("ZZA"), Ok("ZZA"), "found by its id");
        // An alias of UN, retired, given to EU, retired.
        a.add_alias_at(&alias("UN", "UNO"), Some(5))
            .expect("UN's own");
        a.retire(5, 6).expect("retire");
        assert!(a.resolve("uno").is_err());
        a.add_alias_at(&alias("EU", "UNO"), Some(7))
            .expect("a free name");
        assert_eq!(a.resolve("UNO"), Ok("EU"));
        a.retire(7, 8).expect("retire");
        assert!(a.resolve("UNO").is_err());
        assert_eq!(a.resolve("United Nations"), Ok("UN"));
        assert!(a
            .get("UN")
            .is_some_and(|u| !u.def.aliases.iter().any(|x| x == "UNO")));
    }

    #[test]
    fn the_starter_table_is_made_from_actors_json() {
        let text = render_starter_table();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/vocab/starter.rs");
        if std::env::var_os("DEMARCHE_BLESS").is_some() {
            // The file compiled into this test is the one before: it is
            // compared at the next run.
            std::fs::write(path, &text).expect("write src/vocab/starter.rs");
            return;
        }
        assert!(
            include_str!("vocab/starter.rs") == text,
            "src/vocab/starter.rs is not what schema/actors.json makes: make it again with \
             DEMARCHE_BLESS=1 cargo test --lib the_starter_table_is_made_from_actors_json"
        );
        let (table, added) = (Actors::starter(), starter_added());
        let names: Vec<String> = added.by_name.keys().cloned().collect();
        assert!(answers(&table, &names) == answers(&added, &names));
        assert_eq!(added.by_name.len(), starter::KEYS.len());
        assert_eq!(starter::COUNT, starter::ACTORS.len());
        // Each name of the table is one the actors added resolve by, to the
        // same actor; the ids and names are sorted, once each.
        for (key, place) in starter::KEYS {
            let id = starter::ACTORS[usize::from(*place)].id;
            assert_eq!(
                added.by_name.get(*key),
                Some(&Some(id.to_string())),
                "{key}"
            );
        }
        assert!(starter::ACTORS.windows(2).all(|w| w[0].id < w[1].id));
        assert!(starter::KEYS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table.by_id.is_empty() && table.by_name.is_empty());
        assert!(table.events.is_empty() && table.retired.is_empty());
    }

    #[test]
    fn embedded_files_load_and_agree() {
        let v = Vocabulary::builtin();
        for m in &v.mapping {
            assert!(v.stance(&m.stance).is_some(), "{}", m.stance);
            assert!(
                m.predicate == "*" || v.predicate(&m.predicate).is_some(),
                "{}",
                m.predicate
            );
            assert!(
                v.cameo_labels.contains_key(&m.cameo),
                "label of {}",
                m.cameo
            );
        }
        for s in &v.stances {
            assert!(
                v.mapping(&s.id, "withdrawal").is_some(),
                "{} has a mapping",
                s.id
            );
        }
        assert!(Actors::starter().len() > 190);
        // A synonym names one stance, and no stance's id.
        let mut words: Vec<&str> = v.stances.iter().map(|s| s.id.as_str()).collect();
        for s in &v.stances {
            for w in &s.synonyms {
                assert!(!words.contains(&w.as_str()), "{w} names one stance");
                words.push(w);
            }
        }
    }

    #[test]
    fn suggestions_come_through_synonyms_aliases_and_once_per_actor() {
        let v = Vocabulary::builtin();
        let err = v.check_stance("urges").expect_err("not a stance");
        assert_eq!(err.suggestions[0], "calls-for (\"urges\")");
        // The verb's other form, three edits away.
        let err = v.check_stance("deny").expect_err("not a stance");
        assert_eq!(err.suggestions, ["denies"]);
        let actors = Actors::starter();
        let err = actors.resolve("Turky").expect_err("a typo");
        let tur = err
            .suggestions
            .iter()
            .filter(|s| s.starts_with("TUR"))
            .count();
        assert_eq!(tur, 1, "{:?}", err.suggestions);
        let err = actors.resolve("OTAN").expect_err("not a name");
        assert!(
            err.suggestions.iter().any(|s| s.starts_with("NATO")),
            "{:?}",
            err.suggestions
        );
        let err = actors.resolve("Atlantic Aliance").expect_err("a typo");
        assert_eq!(err.suggestions[0], "NATO (alias Atlantic Alliance)");
    }

    #[test]
    fn the_field_codes_appeals_and_demands_apart() {
        let v = Vocabulary::builtin();
        assert_eq!(
            v.mapping("calls-for", "withdrawal")
                .map(|m| m.cameo.as_str()),
            Some("0256")
        );
        assert_eq!(
            v.mapping("demands", "withdrawal").map(|m| m.cameo.as_str()),
            Some("1056")
        );
        assert_eq!(
            v.mapping("denies", "presence").map(|m| m.cameo.as_str()),
            Some("016")
        );
    }

    #[test]
    fn aliases_resolve_to_one_actor() {
        let a = Actors::starter();
        for name in ["UN", "U.N.", "United Nations", "united nations"] {
            assert_eq!(a.resolve(name), Ok("UN"), "{name}");
        }
        assert_eq!(a.resolve("Russian Federation"), Ok("RUS"));
        let err = a.resolve("RUSS").unwrap_err();
        assert!(
            err.suggestions.iter().any(|s| s.starts_with("RUS")),
            "{err}"
        );
    }

    #[test]
    fn a_name_cannot_belong_to_two_actors() {
        let mut a = Actors::starter();
        let def = ActorDef {
            id: "XUN".into(),
            name: "U.N".into(),
            kind: "group".into(),
            aliases: vec![],
            parent: None,
            cameo: None,
        };
        assert!(matches!(
            a.add(def, Some(1)),
            Err(ActorError::NameTaken { .. })
        ));
        assert!(a.get("XUN").is_none());
    }

    #[test]
    fn normalise_folds_dots_case_and_gaps() {
        assert_eq!(normalise(" U.N. "), "UN");
        assert_eq!(normalise("united   nations"), "UNITED NATIONS");
        assert_eq!(normalise("Arab_League"), "ARAB LEAGUE");
    }

    /// What [`normalise`] says, written another way: the name in Unicode's
    /// upper case, dots dropped, and the words between runs of spaces,
    /// hyphens and underscores joined by one space.
    fn normalise_unicode(name: &str) -> String {
        name.to_uppercase()
            .replace('.', "")
            .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn normalise_folds_ascii_as_unicode_does() {
        // Every ASCII character, alone and between letters, and names from the
        // starter set: the ASCII shortcut gives what the Unicode folding gives.
        let mut names: Vec<String> = (0u8..128)
            .flat_map(|b| {
                let c = b as char;
                [format!("{c}"), format!("a{c}b"), format!(" x{c}{c}y. ")]
            })
            .collect();
        names.extend(
            ["-x", "_x", ".-x", " - x", "x-", "x .", "a.-_ \tb"]
                .iter()
                .map(|n| n.to_string()),
        );
        names.extend(Actors::starter().iter().flat_map(|a| {
            std::iter::once(a.def.name.clone()).chain(a.def.aliases.iter().cloned())
        }));
        for n in &names {
            assert_eq!(normalise(n), normalise_unicode(n), "{n:?}");
        }
        assert_eq!(normalise("côte d'ivoire"), "CÔTE D'IVOIRE");
    }
}
