//! Checking a snapshot against the chain, as `verify` does: both sides are
//! reduced to a [`KeyedSum`], an order-free sum of keyed hashes, one per fact
//! and one per statement, correction or retraction kept whole. The chain's
//! side is made from the stored records (blocks hashed on several threads,
//! their sums added), the snapshot's from its chunks and head. The key is
//! drawn afresh for every check, so no one who writes a snapshot can aim at
//! the sum it will be checked by.

use super::{bad, facts_of, facts_of_fold_view, kept_whole, FactRef, Snapshot, FACT_LEN};
use crate::codec::{self, FormatError};
use crate::dates;
use crate::event::{EventRef, Seq};
use crate::multiset::KeyedSum;

impl KeyedSum {
    /// Adds one fact.
    pub(crate) fn add_fact(&mut self, f: &FactRef<'_>) {
        let b = self.writing();
        b.push(b'F');
        for s in [f.party, f.predicate] {
            put_str(b, Some(s));
        }
        for s in [f.subject, f.location, f.qualifier] {
            put_str(b, s);
        }
        b.extend_from_slice(&f.seq.to_le_bytes());
        b.extend_from_slice(&f.days.to_le_bytes());
        b.extend_from_slice(&f.secs.to_le_bytes());
        b.extend_from_slice(&f.off.to_le_bytes());
        put_str(b, Some(f.stance));
        put_str(b, f.hedge);
        self.written(f.seq);
    }

    /// Adds one event kept whole: its seq, recording time and payload as a
    /// fold reads it (`codec::decode_event_for_fold`, encoded again).
    fn add_whole(&mut self, seq: Seq, recorded_at: i64, payload: &[u8]) {
        let b = self.writing();
        b.push(b'W');
        b.extend_from_slice(&seq.to_le_bytes());
        b.extend_from_slice(&recorded_at.to_le_bytes());
        b.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        b.extend_from_slice(payload);
        self.written(seq);
    }

    /// Adds what a snapshot keeps of one stored record (not redacted): its
    /// facts, or the record whole, or nothing.
    ///
    /// # Errors
    /// A payload that does not decode.
    pub fn add_record(
        &mut self,
        seq: Seq,
        recorded_at: i64,
        payload: &[u8],
    ) -> Result<(), FormatError> {
        if codec::is_amendment(payload) {
            return self.add_whole_event(seq, recorded_at, payload);
        }
        let viewed = codec::with_fold_view(payload, |v| {
            v.map(|v| match v.whole() {
                true => false,
                false => {
                    facts_of_fold_view(seq, &v, |f| self.add_fact(&f));
                    true
                }
            })
        });
        match viewed {
            Some(true) => return Ok(()),
            Some(false) => return self.add_whole_event(seq, recorded_at, payload),
            None => {}
        }
        let wire = codec::decode_wire(payload)?;
        if let EventRef::Statement(s) = codec::event_ref(&wire)? {
            if kept_whole(&s) {
                return self.add_whole_event(seq, recorded_at, payload);
            }
            facts_of(seq, &s, |f| self.add_fact(&f));
        }
        Ok(())
    }

    fn add_whole_event(
        &mut self,
        seq: Seq,
        recorded_at: i64,
        payload: &[u8],
    ) -> Result<(), FormatError> {
        let event = codec::decode_event_for_fold(payload)?;
        self.add_whole(seq, recorded_at, &codec::encode_event(&event)?);
        Ok(())
    }
}

/// A string field, or its absence, with its length first: one byte up to
/// [`SHORT`] (most facts then fit four AES blocks), [`ABSENT`] for none,
/// [`LONG`] and a u32 otherwise.
#[inline]
fn put_str(b: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) if s.len() <= usize::from(SHORT) => {
            b.push(s.len() as u8);
            b.extend_from_slice(s.as_bytes());
        }
        Some(s) => {
            b.push(LONG);
            b.extend_from_slice(&(s.len() as u32).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
        }
        None => b.push(ABSENT),
    }
}

/// A little-endian u32.
fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().expect("4 bytes"))
}

/// A snapshot's strings as [`put_str`] writes them, each written once.
struct Written {
    bytes: Vec<u8>,
    /// Where each string starts in `bytes`, and where the last ends.
    at: Vec<usize>,
}

impl Written {
    fn of(strings: &[String]) -> Written {
        let mut bytes = Vec::with_capacity(strings.iter().map(|s| s.len() + 5).sum());
        let mut at = Vec::with_capacity(strings.len() + 1);
        for s in strings {
            at.push(bytes.len());
            put_str(&mut bytes, Some(s));
        }
        at.push(bytes.len());
        Written { bytes, at }
    }

    /// String `i` (an index checked against the strings when read).
    fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        &self.bytes[self.at[i]..self.at[i + 1]]
    }

    /// String `i - 1`, or none for 0.
    fn opt(&self, i: u32) -> &[u8] {
        match i.checked_sub(1) {
            Some(i) => self.get(i),
            None => &[ABSENT],
        }
    }
}

/// The longest string whose length takes one byte.
const SHORT: u8 = 252;
/// The length byte of an absent string.
const ABSENT: u8 = 253;
/// The length byte of a string whose length follows as a u32.
const LONG: u8 = 255;

/// How a fact reads in a report: `USA calls-for withdrawal of RUS in LBY on 2021-01-29`.
pub(crate) fn describe(f: &FactRef<'_>) -> String {
    let mut s = format!("{} {} {}", f.party, f.stance, f.predicate);
    if let Some(x) = f.subject {
        s += &format!(" of {x}");
    }
    if let Some(x) = f.location {
        s += &format!(" in {x}");
    }
    if let Some(x) = f.qualifier {
        s += &format!(" ({x})");
    }
    match dates::date_from_days(f.days) {
        Some(d) => s += &format!(" on {d}"),
        None => s += &format!(" on day {}", f.days),
    }
    if f.secs != u32::MAX {
        let (h, m, sec) = (f.secs / 3600, f.secs / 60 % 60, f.secs % 60);
        s += &format!(" at {h:02}:{m:02}:{sec:02}");
        if f.off != i16::MIN {
            s += &format!(" ({:+} min)", f.off);
        }
    }
    if let Some(x) = f.hedge {
        s += &format!(", hedged {x}");
    }
    s
}

/// What a snapshot keeps of the record at `seq`, as [`describe`] reads it
/// (a record kept whole as `a correction`, `a retraction` or `a statement
/// kept whole`); empty for a record it keeps nothing of.
///
/// # Errors
/// A payload that does not decode.
pub fn describe_record(seq: Seq, payload: &[u8]) -> Result<Vec<String>, FormatError> {
    if codec::is_amendment(payload) {
        return Ok(vec![whole_name(payload)]);
    }
    let wire = codec::decode_wire(payload)?;
    let mut out = Vec::new();
    if let EventRef::Statement(s) = codec::event_ref(&wire)? {
        if kept_whole(&s) {
            return Ok(vec![whole_name(payload)]);
        }
        facts_of(seq, &s, |f| out.push(describe(&f)));
    }
    Ok(out)
}

/// How a record kept whole reads in a report: `a retraction of seq 8`, `a
/// correction of seq 3 (USA demands withdrawal)`, `a statement kept whole (FRA
/// calls-for withdrawal, recorded at ...)`.
fn whole_name(payload: &[u8]) -> String {
    let short = |s: &crate::event::Statement| {
        format!("{} {} {}", s.party, s.stance, s.proposition.predicate)
    };
    match codec::decode_event_for_fold(payload) {
        Ok(crate::event::Event::Retraction(r)) => format!("a retraction of seq {}", r.of),
        Ok(crate::event::Event::Correction(c)) => {
            format!("a correction of seq {} ({})", c.of, short(&c.statement))
        }
        Ok(crate::event::Event::Statement(s)) => {
            format!("a statement kept whole ({})", short(&s))
        }
        _ => "a record that does not decode".to_string(),
    }
}

impl Snapshot {
    /// The [`KeyedSum`] of what this snapshot holds: every fact of every
    /// chunk, and every event it keeps whole. Reads every chunk.
    ///
    /// # Errors
    /// A chunk that is missing or damaged (the snapshot is then not used).
    pub fn fact_sum(
        &self,
        mut sum: KeyedSum,
        read: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
    ) -> Result<KeyedSum, FormatError> {
        // Each fact's item as `KeyedSum::add_fact` writes it, made from its
        // strings written once each and its key's part written once per key.
        let strings = Written::of(&self.strings);
        let mut key_part = Vec::with_capacity(256);
        for i in 0..self.chunks.len() {
            let stored = read(i).ok_or_else(|| bad("missing chunk"))?;
            let raw = self.open_chunk(i, &stored)?;
            for k in self.keys_of(i, &raw)? {
                key_part.clear();
                key_part.push(b'F');
                key_part.extend_from_slice(strings.get(k.key[0]));
                key_part.extend_from_slice(strings.get(k.key[1]));
                for x in &k.key[2..] {
                    key_part.extend_from_slice(strings.opt(*x));
                }
                for x in k.facts.chunks_exact(FACT_LEN) {
                    let item = sum.writing();
                    item.extend_from_slice(&key_part);
                    // seq, days, seconds and offset: stored as the item holds them.
                    item.extend_from_slice(&x[..18]);
                    item.extend_from_slice(strings.get(le32(&x[18..22])));
                    item.extend_from_slice(strings.opt(le32(&x[22..26])));
                    sum.written(u64::from_le_bytes(x[..8].try_into().expect("8 bytes")));
                }
            }
        }
        for e in &self.amendments {
            let event = e.event.as_ref().ok_or_else(|| bad("amendment"))?;
            sum.add_whole(e.seq, e.recorded_at, &codec::encode_event(event)?);
        }
        Ok(sum)
    }

    /// What this snapshot holds of the record at `seq`, as
    /// [`describe_record`] reads it.
    ///
    /// # Errors
    /// A chunk that is missing or damaged.
    pub fn describe_seq(
        &self,
        seq: Seq,
        read: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
    ) -> Result<Vec<String>, FormatError> {
        let mut out = Vec::new();
        self.each_fact(read, &mut |f| {
            if f.seq == seq {
                out.push(describe(f));
            }
        })?;
        for e in self.amendments.iter().filter(|e| e.seq == seq) {
            let payload = codec::encode_event(e.event.as_ref().ok_or_else(|| bad("amendment"))?)?;
            out.push(whole_name(&payload));
        }
        Ok(out)
    }

    /// Calls `f` with every fact of every stored chunk.
    fn each_fact(
        &self,
        read: &mut dyn FnMut(usize) -> Option<Vec<u8>>,
        f: &mut dyn FnMut(&FactRef<'_>),
    ) -> Result<(), FormatError> {
        for i in 0..self.chunks.len() {
            let stored = read(i).ok_or_else(|| bad("missing chunk"))?;
            let raw = self.open_chunk(i, &stored)?;
            for k in self.keys_of(i, &raw)? {
                for x in k.facts.chunks_exact(FACT_LEN) {
                    f(&FactRef {
                        party: self.str_of(k.key[0]),
                        predicate: self.str_of(k.key[1]),
                        subject: self.opt_str(k.key[2]),
                        location: self.opt_str(k.key[3]),
                        qualifier: self.opt_str(k.key[4]),
                        seq: u64::from_le_bytes(x[0..8].try_into().expect("8 bytes")),
                        days: i32::from_le_bytes(x[8..12].try_into().expect("4 bytes")),
                        secs: le32(&x[12..16]),
                        off: i16::from_le_bytes(x[16..18].try_into().expect("2 bytes")),
                        stance: self.str_of(le32(&x[18..22])),
                        hedge: self.opt_str(le32(&x[22..26])),
                    });
                }
            }
        }
        Ok(())
    }
}
