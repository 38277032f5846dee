//! A synthetic corpus of statement events, shared by `demarche-gen` and
//! `demarche-bench` (each includes this file with `#[path]`).
//!
//! Lines follow `schema/event.schema.json` and look like the real ones in
//! `data/`: real actor ids from `schema/actors.json`, the vocabulary's stances
//! and predicates, 1-3 distinct subjects, a date in 2000-01-01..=2024-12-31,
//! usually a speaker, a quote of 60-300 characters and a source with URL,
//! publisher and publication date. About 430 bytes a line on average.
//!
//! Deterministic for a seed: the generator is a SplitMix64, no RNG crate.

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift (bias negligible here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &'a [&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

const STANCES: &[&str] = &[
    "demands",
    "calls-for",
    "denies",
    "asserts",
    "acknowledges",
    "supports",
    "rejects",
    "condemns",
    "accuses",
    "welcomes",
    "warns",
];

const PREDICATES: &[&str] = &[
    "withdrawal",
    "presence",
    "intervention",
    "cease-intervention",
    "ceasefire",
    "arms-embargo",
    "sanctions",
    "negotiations",
    "sovereignty",
    "elections",
    "humanitarian-access",
];

/// The actors most statements are about: drawn most of the time; the rest of
/// the time any actor of `schema/actors.json` is.
const PROMINENT: &[&str] = &[
    "USA",
    "RUS",
    "TUR",
    "ARE",
    "LBY",
    "FRA",
    "GBR",
    "CHN",
    "EGY",
    "SYR",
    "UKR",
    "ISR",
    "IRN",
    "DEU",
    "ITA",
    "QAT",
    "SAU",
    "IRQ",
    "SDN",
    "YEM",
    "UN",
    "UNSC",
    "EU",
    "AU",
    "NATO",
    "FOREIGN-FORCES",
    "WAGNER",
    "LNA",
    "GNA",
];

/// Places (statements usually concern a state).
const PLACES: &[&str] = &[
    "LBY", "SYR", "UKR", "IRQ", "YEM", "SDN", "MLI", "AFG", "ISR", "PSE", "LBN", "SOM", "ETH",
    "NER", "CAF", "MOZ", "VEN", "GEO", "ARM", "AZE",
];

const FIRST: &[&str] = &[
    "Antonio",
    "Richard",
    "Sergey",
    "Maria",
    "Mevlut",
    "Anwar",
    "Jean-Yves",
    "Dominic",
    "Wang",
    "Sameh",
    "Faisal",
    "Josep",
    "Linda",
    "Vassily",
    "Annalena",
    "Luigi",
    "Hakan",
    "Ahmed",
    "Stephanie",
    "Jan",
    "Olena",
    "Dmytro",
    "Ali",
    "Hossein",
    "Mohammed",
    "Catherine",
    "Kamala",
    "Emmanuel",
    "Volker",
    "Ursula",
    "Moussa",
    "Nikolai",
    "Yair",
    "Abdullah",
    "Rosemary",
];

const LAST: &[&str] = &[
    "Guterres",
    "Mills",
    "Lavrov",
    "Zakharova",
    "Cavusoglu",
    "Gargash",
    "Le Drian",
    "Raab",
    "Yi",
    "Shoukry",
    "Mekdad",
    "Borrell",
    "Thomas-Greenfield",
    "Nebenzia",
    "Baerbock",
    "Di Maio",
    "Fidan",
    "Aboul Gheit",
    "Williams",
    "Kubis",
    "Kuleba",
    "Amir-Abdollahian",
    "Al Thani",
    "Colonna",
    "Faki Mahamat",
    "DiCarlo",
    "Stoltenberg",
    "Lapid",
];

const ROLES: &[&str] = &[
    "foreign minister",
    "spokesperson of the foreign ministry",
    "ambassador to the United Nations",
    "deputy permanent representative to the UN",
    "president",
    "prime minister",
    "defence minister",
    "special envoy",
    "Secretary-General",
    "head of the delegation",
    "chair of the commission",
    "national security adviser",
    "deputy foreign minister",
];

const HEDGES: &[&str] = &[
    "cannot totally exclude",
    "reportedly",
    "is said to",
    "according to officials",
    "in principle",
];

const QUALIFIERS: &[&str] = &[
    "military-personnel",
    "mercenaries",
    "heavy-weapons",
    "naval-forces",
    "air-defence",
    "advisers",
];

/// Publisher and its web domain.
const PUBLISHERS: &[(&str, &str)] = &[
    ("Reuters", "reuters.com"),
    ("AFP", "afp.com"),
    ("AP", "apnews.com"),
    ("Al Jazeera", "aljazeera.com"),
    ("BBC", "bbc.com"),
    ("TASS", "tass.com"),
    ("Anadolu", "aa.com.tr"),
    ("Xinhua", "xinhuanet.com"),
    ("UN News", "news.un.org"),
    ("The Guardian", "theguardian.com"),
    ("Le Monde", "lemonde.fr"),
    ("DW", "dw.com"),
    ("Libya Observer", "libyaobserver.ly"),
    ("Ahram Online", "ahram.org.eg"),
];

const WORDS: &[&str] = &[
    "the",
    "the",
    "the",
    "of",
    "of",
    "and",
    "and",
    "to",
    "to",
    "in",
    "in",
    "that",
    "we",
    "all",
    "our",
    "their",
    "must",
    "will",
    "is",
    "are",
    "not",
    "forces",
    "foreign",
    "troops",
    "mercenaries",
    "withdrawal",
    "ceasefire",
    "agreement",
    "immediately",
    "call",
    "on",
    "parties",
    "government",
    "sovereignty",
    "territory",
    "country",
    "people",
    "security",
    "council",
    "resolution",
    "sanctions",
    "embargo",
    "arms",
    "elections",
    "political",
    "process",
    "dialogue",
    "negotiations",
    "humanitarian",
    "access",
    "civilians",
    "support",
    "international",
    "community",
    "respect",
    "commitments",
    "violation",
    "military",
    "presence",
    "region",
    "stability",
    "peace",
    "talks",
    "continue",
    "reject",
    "any",
    "attempt",
    "interference",
    "affairs",
    "internal",
    "legitimate",
    "authorities",
    "urge",
    "restraint",
    "escalation",
    "without",
    "delay",
    "from",
    "with",
    "by",
    "this",
    "these",
    "there",
    "no",
    "solution",
    "unity",
    "national",
    "deployment",
    "operations",
    "border",
    "aid",
    "convoys",
    "monitoring",
    "mission",
    "observers",
    "accountability",
    "crimes",
    "investigation",
    "statement",
    "today",
    "week",
    "as",
    "soon",
    "possible",
    "fully",
    "clear",
];

/// 2000-01-01 and 2024-12-31, in days since 1970-01-01.
const FIRST_DAY: i64 = 10_957;
const LAST_DAY: i64 = 20_088;

fn push_date(out: &mut String, day: i64) {
    use std::fmt::Write;
    let date = i32::try_from(day)
        .ok()
        .and_then(demarche::dates::date_from_days)
        .expect("corpus days are within 2000..=2024");
    let _ = write!(out, "{date}");
}

/// Appends `s` as a JSON string.
fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An endless, deterministic stream of statement JSON lines.
pub struct Corpus {
    rng: SplitMix64,
    actors: Vec<String>,
    lines: u64,
    bytes: u64,
}

impl Corpus {
    /// A corpus for `seed`: the same seed gives the same lines.
    ///
    /// # Panics
    /// If the built-in actor list no longer parses or lacks a prominent id.
    pub fn new(seed: u64) -> Corpus {
        let doc: serde_json::Value =
            serde_json::from_str(demarche::vocab::ACTORS_JSON).expect("actors.json parses");
        let actors: Vec<String> = doc["actors"]
            .as_array()
            .expect("actors.json has an actors array")
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect();
        for id in PROMINENT.iter().chain(PLACES) {
            assert!(
                actors.iter().any(|a| a == id),
                "{id} is not in schema/actors.json"
            );
        }
        // Mix the seed so that nearby seeds give unrelated streams.
        let mut rng = SplitMix64(seed ^ 0x6A09_E667_F3BC_C908);
        rng.next_u64();
        Corpus {
            rng,
            actors,
            lines: 0,
            bytes: 0,
        }
    }

    /// Average length of the lines produced so far, in bytes (without newline).
    pub fn average_len(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            self.bytes as f64 / self.lines as f64
        }
    }

    fn actor(&mut self) -> &str {
        if self.rng.chance(85) {
            self.rng.pick(PROMINENT)
        } else {
            &self.actors[self.rng.below(self.actors.len())]
        }
    }

    /// The next line (no trailing newline).
    pub fn line(&mut self) -> String {
        let mut s = String::with_capacity(640);
        s.push_str(r#"{"type":"statement","said_on":""#);
        let day = FIRST_DAY + self.rng.below((LAST_DAY - FIRST_DAY + 1) as usize) as i64;
        push_date(&mut s, day);
        if self.rng.chance(15) {
            use std::fmt::Write;
            let _ = write!(
                s,
                "T{:02}:{:02}",
                self.rng.below(24),
                self.rng.below(12) * 5
            );
            match self.rng.below(3) {
                0 => s.push('Z'),
                1 => {
                    let _ = write!(s, "+{:02}:00", self.rng.range(1, 4));
                }
                _ => {}
            }
        }
        s.push_str(r#"","party":"#);
        let party = self.actor().to_string();
        push_str(&mut s, &party);
        if self.rng.chance(72) {
            s.push_str(r#","speaker":{"name":"#);
            let name = format!("{} {}", self.rng.pick(FIRST), self.rng.pick(LAST));
            push_str(&mut s, &name);
            if self.rng.chance(85) {
                s.push_str(r#","role":"#);
                push_str(&mut s, self.rng.pick(ROLES));
            }
            s.push('}');
        }
        s.push_str(r#","stance":"#);
        push_str(&mut s, self.rng.pick(STANCES));
        if self.rng.chance(5) {
            s.push_str(r#","hedge":"#);
            push_str(&mut s, self.rng.pick(HEDGES));
        }
        s.push_str(r#","proposition":{"predicate":"#);
        let predicate = self.rng.pick(PREDICATES);
        // Withdrawal and presence need a place (schema/vocabulary.json).
        let needs_place = matches!(predicate, "withdrawal" | "presence");
        push_str(&mut s, predicate);
        s.push_str(r#","subjects":["#);
        let n = match self.rng.below(10) {
            0..=5 => 1,
            6..=8 => 2,
            _ => 3,
        };
        let mut subjects: Vec<String> = Vec::with_capacity(n);
        while subjects.len() < n {
            let a = self.actor().to_string();
            if !subjects.contains(&a) {
                subjects.push(a);
            }
        }
        for (i, a) in subjects.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            push_str(&mut s, a);
        }
        s.push(']');
        if self.rng.chance(85) || needs_place {
            s.push_str(r#","location":"#);
            push_str(&mut s, self.rng.pick(PLACES));
        }
        // Qualifiers narrow the forces of a withdrawal or a presence.
        if self.rng.chance(10) && needs_place {
            s.push_str(r#","qualifier":"#);
            push_str(&mut s, self.rng.pick(QUALIFIERS));
        }
        s.push_str(r#"},"quote":"#);
        let quote = self.quote();
        push_str(&mut s, &quote);
        let (publisher, domain) = PUBLISHERS[self.rng.below(PUBLISHERS.len())];
        let published = day + self.rng.below(4) as i64;
        let mut slug = String::new();
        for i in 0..self.rng.range(1, 3) {
            if i > 0 {
                slug.push('-');
            }
            slug.push_str(self.rng.pick(WORDS));
        }
        let url = format!("https://{domain}/{slug}-{}", self.rng.range(10_000, 99_999));
        s.push_str(r#","source":{"url":"#);
        push_str(&mut s, &url);
        s.push_str(r#","publisher":"#);
        push_str(&mut s, publisher);
        s.push_str(r#","published_on":""#);
        push_date(&mut s, published);
        s.push_str(r#""}}"#);
        self.lines += 1;
        self.bytes += s.len() as u64;
        s
    }

    /// A sentence of 60-300 characters, skewed short like most reported quotes.
    fn quote(&mut self) -> String {
        // The least of five uniform draws: mean about 100 characters.
        let target = (0..4).fold(self.rng.range(60, 300), |t, _| {
            t.min(self.rng.range(60, 300))
        });
        let mut q = String::with_capacity(target + 16);
        while q.len() < target {
            let w = self.rng.pick(WORDS);
            if q.is_empty() {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    q.extend(f.to_uppercase());
                    q.push_str(c.as_str());
                }
            } else {
                q.push(if self.rng.chance(6) { ',' } else { ' ' });
                if q.ends_with(',') {
                    q.push(' ');
                }
                q.push_str(w);
            }
        }
        while q.len() > 299 {
            let cut = q.rfind(' ').unwrap_or(299);
            q.truncate(cut);
        }
        let trimmed = q.trim_end_matches([' ', ',']).len();
        q.truncate(trimmed);
        q.push('.');
        q
    }
}

impl Iterator for Corpus {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        Some(self.line())
    }
}
