//! A statement line read straight from its bytes, for the lines most imports
//! are made of: one pass, no visitor, each string borrowed from the line.
//!
//! It takes only a strict part of JSON: an object of the statement's own
//! fields, strings without escapes or control characters, the few nested
//! objects and arrays of strings a statement has, each field at most once. On
//! anything else (an escape, `null`, a number, another event type, an unknown
//! or repeated field, a `sources` list, a `coded` provenance, anything after
//! the object) it gives up, and the line goes to the typed parser, which
//! decides, and names the field of any error. What it does take, it reads as
//! the typed parser does: the two meet in the same [`InStatement`] (its
//! strings borrowed from the line here), checked by the same code.

use super::{InProposition, InSource, InSpeaker, InStatement};

/// The statement on `line`, when the line is of the part of JSON read here.
pub(super) fn statement(line: &str) -> Option<InStatement<&str>> {
    statement_with(line, |_, _| None)
}

/// The envelope of an export line (`export.rs`): its fields as they stand on
/// the line, the strings unchecked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Envelope<'a> {
    /// `seq`, a whole number of 1 or more.
    pub seq: u64,
    /// `recorded_at`.
    pub recorded_at: &'a str,
    /// `prev`.
    pub prev: &'a str,
    /// `hash`.
    pub hash: &'a str,
    /// `digest`.
    pub digest: &'a str,
}

/// The envelope and the statement of an export line, when the line is of the
/// part of JSON read here and its envelope has the fields of a statement's
/// (`seq`, `recorded_at`, `prev`, `hash`, `digest`, each once, and nothing
/// else: a redacted record's `payload_len` is left to the typed parser).
pub(super) fn export_statement(line: &str) -> Option<(Envelope<'_>, InStatement<&str>)> {
    let (mut seq, mut recorded_at, mut prev, mut hash, mut digest) = (None, None, None, None, None);
    let statement = statement_with(line, |s, key| match key {
        "seq" => s.once(&mut seq, Scan::count),
        "recorded_at" => s.once(&mut recorded_at, Scan::str),
        "prev" => s.once(&mut prev, Scan::str),
        "hash" => s.once(&mut hash, Scan::str),
        "digest" => s.once(&mut digest, Scan::str),
        _ => None,
    })?;
    let envelope = Envelope {
        seq: seq?,
        recorded_at: recorded_at?,
        prev: prev?,
        hash: hash?,
        digest: digest?,
    };
    Some((envelope, statement))
}

/// [`statement`], the members it does not know handed to `other`.
fn statement_with<'a>(
    line: &'a str,
    mut other: impl FnMut(&mut Scan<'a>, &'a str) -> Option<()>,
) -> Option<InStatement<&'a str>> {
    let mut s = Scan { line, at: 0 };
    let mut kind_seen = false;
    let mut said_on = None;
    let mut party = None;
    let mut joint_with = None;
    let mut speaker = None;
    let mut stance = None;
    let mut hedge = None;
    let mut condition = None;
    let mut deadline = None;
    let mut proposition = None;
    let mut quote = None;
    let mut quote_kind = None;
    let mut language = None;
    let mut source = None;
    s.object(|s, key| match key {
        "type" => {
            if kind_seen || s.str()? != "statement" {
                return None;
            }
            kind_seen = true;
            Some(())
        }
        "said_on" => s.once(&mut said_on, Scan::str),
        "party" => s.once(&mut party, Scan::str),
        "joint_with" => s.once(&mut joint_with, Scan::strings),
        "speaker" => s.once(&mut speaker, Scan::speaker),
        "stance" => s.once(&mut stance, Scan::str),
        "hedge" => s.once(&mut hedge, Scan::str),
        "condition" => s.once(&mut condition, Scan::str),
        "deadline" => s.once(&mut deadline, Scan::str),
        "proposition" => s.once(&mut proposition, Scan::proposition),
        "quote" => s.once(&mut quote, Scan::str),
        "quote_kind" => s.once(&mut quote_kind, Scan::str),
        "language" => s.once(&mut language, Scan::str),
        "source" => s.once(&mut source, Scan::source),
        _ => other(s, key),
    })?;
    s.end()?;
    if !kind_seen {
        return None;
    }
    Some(InStatement {
        kind: None,
        said_on: said_on?,
        party: party?,
        joint_with: joint_with.unwrap_or_default(),
        speaker,
        stance: stance?,
        hedge,
        condition,
        deadline,
        proposition: proposition?,
        quote: quote?,
        quote_kind,
        language,
        source,
        sources: None,
        coded: None,
    })
}

/// A place in a line.
struct Scan<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    /// The next byte that is not JSON whitespace, not taken.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.line.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.at) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    /// Takes `c`, after any whitespace.
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.at += 1)
    }

    /// Whitespace only, to the end.
    fn end(&mut self) -> Option<()> {
        self.peek().is_none().then_some(())
    }

    /// A string with no escape and no control character, borrowed.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let bytes = self.line.as_bytes();
        let start = self.at;
        let mut end = start;
        // Eight bytes at a time to the first quote, backslash or control
        // character; byte by byte near the end of the line.
        loop {
            let c = match bytes.get(end..end + 8) {
                Some(word) => {
                    let stop = stops(u64::from_le_bytes(word.try_into().expect("8 bytes")));
                    if stop == 0 {
                        end += 8;
                        continue;
                    }
                    end += (stop.trailing_zeros() / 8) as usize;
                    bytes[end]
                }
                None => match *bytes.get(end)? {
                    c @ (b'"' | b'\\' | 0..=0x1f) => c,
                    _ => {
                        end += 1;
                        continue;
                    }
                },
            };
            if c != b'"' {
                return None;
            }
            break;
        }
        // Both ends are ASCII quotes: the slice is on character boundaries.
        let s = &self.line[start..end];
        self.at = end + 1;
        Some(s)
    }

    /// A whole number of 1 or more, as JSON writes it (no sign, no leading
    /// zero, no fraction or exponent: what follows it must end the member),
    /// that fits in 64 bits.
    fn count(&mut self) -> Option<u64> {
        let bytes = self.line.as_bytes();
        self.peek()?;
        let start = self.at;
        let mut n: u64 = 0;
        while let Some(&c @ b'0'..=b'9') = bytes.get(self.at) {
            if n == 0 && self.at > start {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.at += 1;
        }
        (n > 0).then_some(n)
    }

    /// `[]` or an array of strings.
    fn strings(&mut self) -> Option<Vec<&'a str>> {
        self.eat(b'[')?;
        let mut all = Vec::new();
        if self.peek()? == b']' {
            self.at += 1;
            return Some(all);
        }
        loop {
            all.push(self.str()?);
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(all);
                }
                _ => return None,
            }
        }
    }

    /// An object, each member handed to `member` with its key, after the colon.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Reads a field's value into `slot`, refusing a field given twice.
    fn once<T>(&mut self, slot: &mut Option<T>, read: fn(&mut Self) -> Option<T>) -> Option<()> {
        if slot.is_some() {
            return None;
        }
        *slot = Some(read(self)?);
        Some(())
    }

    fn speaker(&mut self) -> Option<InSpeaker<&'a str>> {
        let (mut name, mut role, mut actor) = (None, None, None);
        self.object(|s, key| match key {
            "name" => s.once(&mut name, Scan::str),
            "role" => s.once(&mut role, Scan::str),
            "actor" => s.once(&mut actor, Scan::str),
            _ => None,
        })?;
        Some(InSpeaker { name, role, actor })
    }

    fn proposition(&mut self) -> Option<InProposition<&'a str>> {
        let (mut predicate, mut subjects, mut location, mut qualifier, mut document) =
            (None, None, None, None, None);
        self.object(|s, key| match key {
            "predicate" => s.once(&mut predicate, Scan::str),
            "subjects" => s.once(&mut subjects, Scan::strings),
            "location" => s.once(&mut location, Scan::str),
            "qualifier" => s.once(&mut qualifier, Scan::str),
            "document" => s.once(&mut document, Scan::str),
            _ => None,
        })?;
        Some(InProposition {
            predicate: predicate?,
            subjects: subjects.unwrap_or_default(),
            location,
            qualifier,
            document,
        })
    }

    fn source(&mut self) -> Option<InSource<&'a str>> {
        let (mut url, mut publisher, mut published_on) = (None, None, None);
        self.object(|s, key| match key {
            "url" => s.once(&mut url, Scan::str),
            "publisher" => s.once(&mut publisher, Scan::str),
            "published_on" => s.once(&mut published_on, Scan::str),
            _ => None,
        })?;
        Some(InSource {
            url,
            publisher,
            published_on,
        })
    }
}

/// The bytes of `word` (little-endian) that are a quote, a backslash or below
/// 0x20, as their high bits; the lowest one set is exact (the usual test for
/// a zero byte, on the word and on its bytes xor'ed: a borrow only runs up).
fn stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let below = word.wrapping_sub(ONES * 0x20) & !word;
    (zero(quote) | zero(backslash) | below) & HIGH
}

#[cfg(test)]
mod tests {
    use super::super::{parse_event, parse_event_typed};
    use super::{statement, stops};

    #[test]
    fn a_word_stops_at_its_first_quote_backslash_or_control_byte() {
        let naive = |w: u64| {
            w.to_le_bytes()
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        };
        let first = |w: u64| match stops(w) {
            0 => None,
            s => Some((s.trailing_zeros() / 8) as usize),
        };
        let mut seed: u64 = 1;
        for _ in 0..200_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Bytes near the ones that matter, and any bytes.
            let near = [
                0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
            ];
            let mut bytes = seed.to_le_bytes();
            for (i, b) in bytes.iter_mut().enumerate() {
                if (seed >> (i + 40)) & 1 == 1 {
                    *b = near[(*b as usize) % near.len()];
                }
            }
            let w = u64::from_le_bytes(bytes);
            assert_eq!(first(w), naive(w), "{bytes:02x?}");
        }
    }

    const PLAIN: [&str; 4] = [
        r#"{"type":"statement","said_on":"2021-01-28","party":"USA","speaker":{"name":"M","role":"r"},"stance":"calls-for","hedge":"h","proposition":{"predicate":"withdrawal","subjects":["RUS","TUR"],"location":"LBY","qualifier":"forces"},"quote":"Russia and Turkey: withdraw é null","source":{"url":"u","publisher":"p","published_on":"2021-01-29"}}"#,
        r#" { "source" : { "publisher" : "p" } , "quote" : "q" , "proposition" : { "predicate" : "presence" , "subjects" : [ ] } , "stance" : "denies" , "party" : "RUS" , "said_on" : "2021-01-28T10:00Z" , "type" : "statement" }	"#,
        "{\"type\":\"statement\",\"said_on\":\"2021-02-03\",\"party\":\"TUR\",\"joint_with\":[\"RUS\"],\"stance\":\"rejects\",\"condition\":\"if c\",\"deadline\":\"2021-03-01\",\"proposition\":{\"predicate\":\"presence\",\"document\":\"d\"},\"quote\":\"ça — «quoi»\",\"quote_kind\":\"paraphrase\",\"language\":\"fr\",\"source\":{\"publisher\":\"AFP\"},\"speaker\":{\"actor\":\"RUS\"}}",
        "{\"type\":\"statement\",\"said_on\":\"2021-02-03\",\"party\":\"TUR\",\"stance\":\"rejects\",\"proposition\":{\"predicate\":\"presence\"},\"quote\":\"\x7f\u{85} and a long quote of more than eight bytes to read a word at a time\",\"source\":{}}",
    ];

    #[test]
    fn plain_statements_are_read_straight_as_the_typed_parser_reads_them() {
        for line in PLAIN {
            assert!(statement(line).is_some(), "read straight: {line}");
            assert_eq!(parse_event(line), parse_event_typed(line), "{line}");
        }
        // The third is valid; the fourth is refused for its control characters.
        assert!(parse_event(PLAIN[2]).is_ok());
        assert!(parse_event(PLAIN[3]).is_err());
    }

    #[test]
    fn what_is_not_read_straight_goes_to_the_typed_parser() {
        let base = PLAIN[1];
        for line in [
            // An escape, null, a number, an unknown or repeated field, another
            // type, sources, trailing bytes, a missing field, a control byte.
            base.replace("\"q\"", "\"a \\\"q\\\"\""),
            base.replace("\"p\"", "null"),
            base.replace("\"p\"", "1"),
            base.replace("\"quote\"", "\"quotes\""),
            base.replace(
                "\"stance\" : \"denies\"",
                "\"stance\" : \"denies\", \"stance\" : \"denies\"",
            ),
            base.replace("\"statement\"", "\"retraction\""),
            base.replace(
                "\"source\" : { \"publisher\" : \"p\" }",
                "\"sources\" : [{\"publisher\":\"p\"}]",
            ),
            format!("{base}x"),
            base.replace("\"party\" : \"RUS\" ,", ""),
            base.replace("\"q\"", "\"q\u{1}\""),
        ] {
            assert!(statement(&line).is_none(), "not read straight: {line}");
        }
    }

    /// Lines made by editing the plain ones at random, with the bytes that
    /// matter to JSON: wherever one is read straight, it is read as the
    /// typed parser reads it, to the same event or the same error.
    #[test]
    fn edited_lines_read_straight_agree_with_the_typed_parser() {
        const BITS: [&str; 24] = [
            "\"",
            "\\",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\t",
            "\n",
            "null",
            "1",
            "\"x\"",
            "\u{1}",
            "\u{7f}",
            "é",
            "\"type\"",
            "\"party\"",
            "\"quote\":\"q\",",
            "\"speaker\":{},",
            "\"hedge\":\"\",",
            "[\"RUS\"]",
            "\u{2028}",
        ];
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let (mut straight, mut valid) = (0, 0);
        for round in 0..40_000 {
            let mut line = PLAIN[round % PLAIN.len()].to_string();
            for _ in 0..1 + next(3) {
                let mut at = next(line.len() + 1);
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                match next(3) {
                    0 => line.insert_str(at, BITS[next(BITS.len())]),
                    1 => {
                        let mut to = (at + 1 + next(12)).min(line.len());
                        while !line.is_char_boundary(to) {
                            to += 1;
                        }
                        line.replace_range(at..to, "");
                    }
                    _ => {
                        let mut to = (at + 1 + next(4)).min(line.len());
                        while !line.is_char_boundary(to) {
                            to += 1;
                        }
                        line.replace_range(at..to, BITS[next(BITS.len())]);
                    }
                }
            }
            if statement(&line).is_some() {
                straight += 1;
                let got = parse_event(&line);
                valid += usize::from(got.is_ok());
                assert_eq!(got, parse_event_typed(&line), "{line}");
            }
        }
        // The edits leave many lines to read straight, some of them valid.
        assert!(
            straight > 1_500 && valid > 300,
            "{straight} read straight, {valid} valid"
        );
    }
}
