//! Snapshots of the projection's inputs: every (statement, subject) fact and every
//! correction and retraction up to a seq, in a compact table. A query replays the
//! snapshot and then only the events after it. A snapshot is derived data: it
//! names the seq and chain hash it was taken at, and the ledger ignores it unless
//! the chain still has that hash there (and its checksum holds).
//!
//! Layout (little-endian): version `1` (u8), seq (u64), hash (32 bytes), then
//! counted lists: strings (u32 count; each u32 length + UTF-8); keys (u32 count;
//! each party, predicate, subject+1, location+1, qualifier+1 as u32 string
//! indexes, 0 for none); facts (u32 count; each [`FACT_LEN`] bytes: seq u64, key
//! u32, date i32 (days since 1970-01-01), seconds u32 (u32::MAX: no time), offset
//! i16 (i16::MIN: none), stance u32 (string index), hedge+1 u32); amendments (u32
//! count; each seq u64, recorded_at i64, payload length u32, payload).

use super::{Fold, PositionKey};
use crate::codec::{self, FormatError};
use crate::event::{Event, Hash, Recorded, SaidOn, Seq, TimeOfDay};
use std::collections::HashMap;

const VERSION: u8 = 1;
/// Bytes of one fact.
pub const FACT_LEN: usize = 30;

/// The inputs of the positions projection up to one seq.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The last seq it covers.
    pub seq: Seq,
    /// The chain hash at that seq.
    pub hash: Hash,
    strings: Vec<String>,
    keys: Vec<[u32; 5]>,
    facts: Vec<u8>,
    amendments: Vec<Recorded>,
    string_ids: Option<HashMap<String, u32>>,
    key_ids: Option<HashMap<[u32; 5], u32>>,
}

impl Snapshot {
    /// A snapshot of an empty ledger.
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// Number of (statement, subject) facts.
    pub fn facts(&self) -> usize {
        self.facts.len() / FACT_LEN
    }

    fn string(&mut self, s: &str) -> u32 {
        let strings = &self.strings;
        let ids = self.string_ids.get_or_insert_with(|| {
            strings
                .iter()
                .enumerate()
                .map(|(i, s)| (s.clone(), i as u32))
                .collect()
        });
        if let Some(i) = ids.get(s) {
            return *i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.to_string());
        ids.insert(s.to_string(), i);
        i
    }

    fn opt(&mut self, s: Option<&str>) -> u32 {
        s.map_or(0, |s| self.string(s) + 1)
    }

    fn key(&mut self, k: [u32; 5]) -> u32 {
        let keys = &self.keys;
        let ids = self.key_ids.get_or_insert_with(|| {
            keys.iter()
                .enumerate()
                .map(|(i, k)| (*k, i as u32))
                .collect()
        });
        if let Some(i) = ids.get(&k) {
            return *i;
        }
        let i = self.keys.len() as u32;
        self.keys.push(k);
        ids.insert(k, i);
        i
    }

    /// Adds the next event of the chain (events must come in seq order).
    pub fn extend(&mut self, r: &Recorded) {
        self.seq = r.seq;
        self.hash = r.hash;
        match &r.event {
            Some(Event::Statement(s)) => {
                let p = &s.proposition;
                let stance = self.string(&s.stance);
                let hedge = self.opt(s.hedge.as_deref());
                let party = self.string(&s.party);
                let predicate = self.string(&p.predicate);
                let location = self.opt(p.location.as_deref());
                let qualifier = self.opt(p.qualifier.as_deref());
                let subjects: Vec<u32> = if p.subjects.is_empty() {
                    vec![0]
                } else {
                    p.subjects.iter().map(|x| self.string(x) + 1).collect()
                };
                let (secs, off) = match s.said_on.time {
                    Some(t) => (t.seconds, t.offset_minutes.unwrap_or(i16::MIN)),
                    None => (u32::MAX, i16::MIN),
                };
                for subject in subjects {
                    let key = self.key([party, predicate, subject, location, qualifier]);
                    let f = &mut self.facts;
                    f.extend_from_slice(&r.seq.to_le_bytes());
                    f.extend_from_slice(&key.to_le_bytes());
                    f.extend_from_slice(&codec::days_from_date(s.said_on.date).to_le_bytes());
                    f.extend_from_slice(&secs.to_le_bytes());
                    f.extend_from_slice(&off.to_le_bytes());
                    f.extend_from_slice(&stance.to_le_bytes());
                    f.extend_from_slice(&hedge.to_le_bytes());
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

    fn opt_str(&self, i: u32) -> Option<&str> {
        i.checked_sub(1).map(|i| self.strings[i as usize].as_str())
    }

    /// Replays the facts into a fold whose amendments include this snapshot's.
    /// Each key is checked against the query's filter once.
    pub fn replay(&self, fold: &mut Fold<'_>) {
        const UNSEEN: usize = usize::MAX;
        const SKIP: usize = usize::MAX - 1;
        let mut slot_of = vec![UNSEEN; self.keys.len()];
        let (mut last_seq, mut keep) = (0, false);
        for f in self.facts.chunks_exact(FACT_LEN) {
            let seq = u64::from_le_bytes(f[0..8].try_into().expect("8 bytes"));
            if seq != last_seq {
                last_seq = seq;
                keep = fold.as_recorded(seq);
            }
            if !keep {
                continue;
            }
            let key = u32::from_le_bytes(f[8..12].try_into().expect("4 bytes")) as usize;
            if slot_of[key] == UNSEEN {
                let k = self.keys[key];
                let s = |i: u32| self.strings[i as usize].as_str();
                slot_of[key] =
                    if fold.keeps(s(k[0]), s(k[1]), self.opt_str(k[2]), self.opt_str(k[3])) {
                        fold.slot(PositionKey {
                            party: s(k[0]).to_string(),
                            predicate: s(k[1]).to_string(),
                            subject: self.opt_str(k[2]).map(str::to_string),
                            location: self.opt_str(k[3]).map(str::to_string),
                            qualifier: self.opt_str(k[4]).map(str::to_string),
                        })
                    } else {
                        SKIP
                    };
            }
            if slot_of[key] == SKIP {
                continue;
            }
            let days = i32::from_le_bytes(f[12..16].try_into().expect("4 bytes"));
            let Some(date) = codec::date_from_days(days) else {
                continue;
            };
            let secs = u32::from_le_bytes(f[16..20].try_into().expect("4 bytes"));
            let off = i16::from_le_bytes(f[20..22].try_into().expect("2 bytes"));
            let stance = u32::from_le_bytes(f[22..26].try_into().expect("4 bytes"));
            let hedge = u32::from_le_bytes(f[26..30].try_into().expect("4 bytes"));
            let time = (secs != u32::MAX).then_some(TimeOfDay {
                seconds: secs,
                offset_minutes: (off != i16::MIN).then_some(off),
            });
            fold.put(
                slot_of[key],
                seq,
                SaidOn { date, time },
                &self.strings[stance as usize],
                self.opt_str(hedge),
            );
        }
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.facts.len() + self.keys.len() * 20);
        b.push(VERSION);
        b.extend_from_slice(&self.seq.to_le_bytes());
        b.extend_from_slice(&self.hash.0);
        b.extend_from_slice(&(self.strings.len() as u32).to_le_bytes());
        for s in &self.strings {
            b.extend_from_slice(&(s.len() as u32).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        }
        b.extend_from_slice(&(self.keys.len() as u32).to_le_bytes());
        for k in &self.keys {
            for x in k {
                b.extend_from_slice(&x.to_le_bytes());
            }
        }
        b.extend_from_slice(&((self.facts.len() / FACT_LEN) as u32).to_le_bytes());
        b.extend_from_slice(&self.facts);
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

    /// Reads what [`Snapshot::encode`] wrote, checking every index.
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
            let s = std::str::from_utf8(r.take(len)?).map_err(|_| bad("string"))?;
            snap.strings.push(s.to_string());
        }
        let strings = snap.strings.len() as u32;
        let n = r.u32()? as usize;
        for _ in 0..n {
            let k = [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?];
            if k[0] >= strings || k[1] >= strings || k[2..].iter().any(|x| *x > strings) {
                return Err(bad("key"));
            }
            snap.keys.push(k);
        }
        let n = r.u32()? as usize;
        let facts = r.take(n.checked_mul(FACT_LEN).ok_or_else(|| bad("fact count"))?)?;
        for f in facts.chunks_exact(FACT_LEN) {
            let key = u32::from_le_bytes(f[8..12].try_into().expect("4 bytes"));
            let stance = u32::from_le_bytes(f[22..26].try_into().expect("4 bytes"));
            let hedge = u32::from_le_bytes(f[26..30].try_into().expect("4 bytes"));
            if key as usize >= snap.keys.len() || stance >= strings || hedge > strings {
                return Err(bad("fact"));
            }
        }
        snap.facts = facts.to_vec();
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
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}
