//! Snapshots of the projection's inputs: every (statement, subject) fact and every
//! correction and retraction up to a seq, in a compact table. A query replays the
//! snapshot and then only the events after it. A snapshot is derived data: it
//! names the seq and chain hash it was taken at, and is ignored unless the chain
//! still has that hash there.
//!
//! Layout (little-endian): version `1` (u8), seq (u64), hash (32 bytes), then
//! counted lists: strings (u32 count; each u32 length + UTF-8), keys (u32 count;
//! each party, predicate, subject+1, location+1, qualifier+1 as u32 string
//! indexes, 0 for none), facts (u32 count; each seq u64, key u32, date i32,
//! seconds u32 (u32::MAX: no time), offset i16 (i16::MIN: none), stance u32,
//! hedge+1 u32), amendments (u32 count; each seq u64, recorded_at i64, payload
//! length u32, payload).

use super::{Fold, PositionKey};
use crate::codec::{self, FormatError};
use crate::event::{Event, Hash, Recorded, SaidOn, Seq, TimeOfDay};
use std::collections::HashMap;

const VERSION: u8 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Fact {
    seq: Seq,
    key: u32,
    said_on: SaidOn,
    stance: u32,
    hedge: Option<u32>,
}

/// The inputs of the positions projection up to one seq.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The last seq it covers.
    pub seq: Seq,
    /// The chain hash at that seq.
    pub hash: Hash,
    strings: Vec<String>,
    string_ids: HashMap<String, u32>,
    keys: Vec<PositionKey>,
    key_ids: HashMap<PositionKey, u32>,
    facts: Vec<Fact>,
    amendments: Vec<Recorded>,
}

impl Snapshot {
    /// A snapshot of an empty ledger.
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// Number of (statement, subject) facts.
    pub fn facts(&self) -> usize {
        self.facts.len()
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(i) = self.string_ids.get(s) {
            return *i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.string_ids.insert(s.to_string(), i);
        i
    }

    /// Adds the next event of the chain (events must come in seq order).
    pub fn extend(&mut self, r: &Recorded) {
        self.seq = r.seq;
        self.hash = r.hash;
        match &r.event {
            Some(Event::Statement(s)) => {
                let stance = self.string(&s.stance);
                let hedge = s.hedge.as_deref().map(|h| self.string(h));
                let subjects: Vec<Option<&String>> = if s.proposition.subjects.is_empty() {
                    vec![None]
                } else {
                    s.proposition.subjects.iter().map(Some).collect()
                };
                for subject in subjects {
                    let key = super::key_of_statement(s, subject);
                    let id = match self.key_ids.get(&key) {
                        Some(i) => *i,
                        None => {
                            let i = self.keys.len() as u32;
                            self.keys.push(key.clone());
                            self.key_ids.insert(key, i);
                            i
                        }
                    };
                    self.facts.push(Fact {
                        seq: r.seq,
                        key: id,
                        said_on: s.said_on,
                        stance,
                        hedge,
                    });
                }
            }
            Some(Event::Correction(_) | Event::Retraction(_)) => self.amendments.push(r.clone()),
            _ => {}
        }
    }

    /// Its corrections and retractions, for [`super::Amendments::collect`].
    pub fn amendments(&self) -> &[Recorded] {
        &self.amendments
    }

    /// Replays the facts into a fold whose amendments include this snapshot's.
    pub fn replay(&self, fold: &mut Fold<'_>) {
        for f in &self.facts {
            fold.add_fact(
                f.seq,
                &self.keys[f.key as usize],
                f.said_on,
                &self.strings[f.stance as usize],
                f.hedge.map(|h| self.strings[h as usize].as_str()),
            );
        }
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut ids = self.string_ids.clone();
        let mut strings = self.strings.clone();
        let mut id = |s: &str| -> u32 {
            if let Some(i) = ids.get(s) {
                return *i;
            }
            let i = strings.len() as u32;
            strings.push(s.to_string());
            ids.insert(s.to_string(), i);
            i
        };
        let key_words: Vec<[u32; 5]> = self
            .keys
            .iter()
            .map(|k| {
                [
                    id(&k.party),
                    id(&k.predicate),
                    k.subject.as_deref().map_or(0, |s| id(s) + 1),
                    k.location.as_deref().map_or(0, |s| id(s) + 1),
                    k.qualifier.as_deref().map_or(0, |s| id(s) + 1),
                ]
            })
            .collect();
        // The string table holds the stances and hedges of facts and every string of
        // the keys.
        let mut b = Vec::with_capacity(64 + self.facts.len() * 30);
        b.push(VERSION);
        b.extend_from_slice(&self.seq.to_le_bytes());
        b.extend_from_slice(&self.hash.0);
        b.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        for s in &strings {
            b.extend_from_slice(&(s.len() as u32).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        }
        b.extend_from_slice(&(key_words.len() as u32).to_le_bytes());
        for w in &key_words {
            for x in w {
                b.extend_from_slice(&x.to_le_bytes());
            }
        }
        b.extend_from_slice(&(self.facts.len() as u32).to_le_bytes());
        for f in &self.facts {
            b.extend_from_slice(&f.seq.to_le_bytes());
            b.extend_from_slice(&f.key.to_le_bytes());
            b.extend_from_slice(&codec::days_from_date(f.said_on.date).to_le_bytes());
            let (secs, off) = match f.said_on.time {
                Some(t) => (t.seconds, t.offset_minutes.unwrap_or(i16::MIN)),
                None => (u32::MAX, i16::MIN),
            };
            b.extend_from_slice(&secs.to_le_bytes());
            b.extend_from_slice(&off.to_le_bytes());
            b.extend_from_slice(&f.stance.to_le_bytes());
            b.extend_from_slice(&f.hedge.map_or(0, |h| h + 1).to_le_bytes());
        }
        b.extend_from_slice(&(self.amendments.len() as u32).to_le_bytes());
        for r in &self.amendments {
            let payload = codec::encode_event(r.event.as_ref().expect("amendments are decoded"))
                .expect("it was stored");
            b.extend_from_slice(&r.seq.to_le_bytes());
            b.extend_from_slice(&r.recorded_at.to_le_bytes());
            b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            b.extend_from_slice(&payload);
        }
        b
    }

    /// Reads what [`Snapshot::encode`] wrote.
    ///
    /// # Errors
    /// [`FormatError`] for bytes that are not a snapshot of this version.
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, FormatError> {
        let mut r = Reader { b: bytes, at: 0 };
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(FormatError::Unknown {
                what: "snapshot version",
                value: version,
            });
        }
        let mut snap = Snapshot {
            seq: r.u64()?,
            ..Snapshot::default()
        };
        snap.hash = Hash(r.take(32)?.try_into().expect("32 bytes"));
        let n = r.u32()? as usize;
        for _ in 0..n {
            let len = r.u32()? as usize;
            let s = std::str::from_utf8(r.take(len)?)
                .map_err(|_| bad("string"))?
                .to_string();
            snap.string_ids.insert(s.clone(), snap.strings.len() as u32);
            snap.strings.push(s);
        }
        let string = |i: u32, strings: &[String]| -> Result<String, FormatError> {
            strings
                .get(i as usize)
                .cloned()
                .ok_or_else(|| bad("string index"))
        };
        let opt = |i: u32, strings: &[String]| -> Result<Option<String>, FormatError> {
            if i == 0 {
                Ok(None)
            } else {
                string(i - 1, strings).map(Some)
            }
        };
        let n = r.u32()? as usize;
        for _ in 0..n {
            let w = [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?];
            let key = PositionKey {
                party: string(w[0], &snap.strings)?,
                predicate: string(w[1], &snap.strings)?,
                subject: opt(w[2], &snap.strings)?,
                location: opt(w[3], &snap.strings)?,
                qualifier: opt(w[4], &snap.strings)?,
            };
            snap.key_ids.insert(key.clone(), snap.keys.len() as u32);
            snap.keys.push(key);
        }
        let n = r.u32()? as usize;
        snap.facts.reserve(n.min(bytes.len() / 26));
        for _ in 0..n {
            let seq = r.u64()?;
            let key = r.u32()?;
            let date = codec::date_from_days(r.i32()?).ok_or_else(|| bad("date"))?;
            let secs = r.u32()?;
            let off = i16::from_le_bytes(r.take(2)?.try_into().expect("2 bytes"));
            let stance = r.u32()?;
            let hedge = r.u32()?;
            if key as usize >= snap.keys.len()
                || stance as usize >= snap.strings.len()
                || hedge as usize > snap.strings.len()
            {
                return Err(bad("fact index"));
            }
            let time = (secs != u32::MAX).then_some(TimeOfDay {
                seconds: secs,
                offset_minutes: (off != i16::MIN).then_some(off),
            });
            snap.facts.push(Fact {
                seq,
                key,
                said_on: SaidOn { date, time },
                stance,
                hedge: hedge.checked_sub(1),
            });
        }
        let n = r.u32()? as usize;
        for _ in 0..n {
            let seq = r.u64()?;
            let recorded_at = i64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
            let len = r.u32()? as usize;
            let event = codec::decode_event(r.take(len)?)?;
            snap.amendments.push(Recorded {
                seq,
                recorded_at,
                prev: Hash::ZERO,
                hash: Hash::ZERO,
                digest: Hash::ZERO,
                event: Some(event),
            });
        }
        if r.at != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(snap)
    }
}

fn bad(what: &str) -> FormatError {
    FormatError::Payload(format!("snapshot: bad {what}"))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.b.len() - self.at < n {
            return Err(FormatError::Truncated {
                needed: self.at + n,
                available: self.b.len(),
            });
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn i32(&mut self) -> Result<i32, FormatError> {
        Ok(i32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}
