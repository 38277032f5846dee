//! Reading flag values: dates, a point in the ledger's own time, actor names,
//! stances and predicates, and the query of `positions`, `graph` and
//! `evidence`. A bad value is a usage failure that names its flag.

use super::args::{QueryArgs, Selection};
use super::failure::{Failure, Result};
use demarche::dates;
use demarche::ledger::Ledger;
use demarche::projection::{Filter, Includes, KnownAt, Query};
use demarche::vocab::{Actors, Vocabulary};

/// A date flag (`--from 2021-01-29`).
pub(super) fn parse_date_flag(v: Option<&str>, flag: &str) -> Result<Option<jiff::civil::Date>> {
    let Some(v) = v else { return Ok(None) };
    // A month or a year stands for its first day in `--from`, its last elsewhere
    // (`--to`, `--as-of`); a time of day is taken as its day.
    let first = flag == "from";
    let whole = |y: i16, m: Option<i8>| -> Option<jiff::civil::Date> {
        let (m0, m1) = m.map_or((1, 12), |m| (m, m));
        let start = jiff::civil::Date::new(y, if first { m0 } else { m1 }, 1).ok()?;
        Some(match first {
            true => start,
            false => start.last_of_month(),
        })
    };
    let parsed = match dates::parse_date(v) {
        Ok(d) => Some(d),
        Err(_) => {
            let b = v.as_bytes();
            let digits = |r: std::ops::Range<usize>| -> Option<i16> {
                v.get(r.clone())
                    .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))?
                    .parse()
                    .ok()
            };
            match b.len() {
                4 => digits(0..4).and_then(|y| whole(y, None)),
                7 if b[4] == b'-' => match (digits(0..4), digits(5..7)) {
                    (Some(y), Some(m)) if (1..=12).contains(&m) => whole(y, Some(m as i8)),
                    _ => None,
                },
                n if n > 10 && b[10] == b'T' => dates::parse_said_on(v).ok().map(|s| s.date),
                _ => None,
            }
        }
    };
    match parsed {
        Some(d) => Ok(Some(d)),
        None => Err(Failure::usage(format!(
            "--{flag}: \"{v}\" is not a date: give YYYY-MM-DD, YYYY-MM, YYYY or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]"
        ))),
    }
}

/// `--known-at`: a seq no further than the head, or an RFC 3339 time.
pub(super) fn parse_known_at(v: Option<&str>, ledger: &Ledger) -> Result<Option<KnownAt>> {
    let Some(v) = v else { return Ok(None) };
    let head = ledger.head()?;
    if head_relative(v).is_some() {
        return event_named(ledger, v)
            .map(|seq| Some(KnownAt::Seq(seq)))
            .map_err(|f| f.hint("for example --known-at HEAD~10, --known-at 8 or --known-at 2026-03-01T00:00:00Z"));
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let seq: u64 = v
            .parse()
            .map_err(|_| Failure::usage(format!("--known-at: \"{v}\" is too large")))?;
        if seq > head.size {
            return Err(Failure::usage(format!(
                "--known-at: seq {seq} is beyond the head; the ledger holds {} events",
                head.size
            )));
        }
        return Ok(Some(KnownAt::Seq(seq)));
    }
    let t: jiff::Timestamp = v.parse().map_err(|_| {
        Failure::usage(format!(
            "--known-at: \"{v}\" is neither a seq nor an RFC 3339 time"
        ))
        .hint("for example --known-at 8 or --known-at 2026-03-01T00:00:00Z")
    })?;
    Ok(Some(KnownAt::Time(t.as_microsecond())))
}

/// An actor flag (`--party Russia`), resolved to the actor's id.
pub(super) fn resolve_flag(actors: &Actors, v: Option<&str>, flag: &str) -> Result<Option<String>> {
    v.map(|name| {
        actors
            .resolve(name)
            .map(str::to_string)
            .map_err(|u| Failure::unknown_name(format!("--{flag}: unknown actor {u}")))
    })
    .transpose()
}

/// Which positions `--party`, `--stance`, `--predicate`, `--subject` and
/// `--location` select.
pub(super) fn filter_from(ledger: &Ledger, s: &Selection) -> Result<Filter> {
    check_stance(s.stance.as_deref())?;
    check_predicate(s.predicate.as_deref())?;
    let actors = ledger.actors()?;
    let party = resolve_flag(actors, s.party.as_deref(), "party")?;
    let subject = resolve_flag(actors, s.subject.as_deref(), "subject")?;
    let location = resolve_flag(actors, s.location.as_deref(), "location")?;
    let members = |id: &Option<String>| match (id, s.members.no_members) {
        (Some(i), false) => actors.members(i),
        _ => Vec::new(),
    };
    Ok(Filter {
        includes: Includes {
            party: members(&party),
            subject: members(&subject),
            location: members(&location),
        },
        party,
        stance: s.stance.clone(),
        predicate: s.predicate.clone(),
        subject,
        location,
        coded_by: s.coder.coded_by.clone(),
        min_mentions: s.coder.min_mentions,
    })
}

/// An actor given in a flag and the actors that belong to it (see
/// `Actors::members`): who `--party USA` or `--location GEO` stands for.
/// With `alone` (`--no-members`), the actor alone.
pub(super) fn family(
    actors: &demarche::vocab::Actors,
    id: Option<String>,
    alone: bool,
) -> Option<Vec<String>> {
    id.map(|id| {
        let mut all = match alone {
            true => Vec::new(),
            false => actors.members(&id),
        };
        all.insert(0, id);
        all
    })
}

/// `--stance`, when given, names a stance of the vocabulary.
pub(super) fn check_stance(v: Option<&str>) -> Result<()> {
    match v {
        Some(x) => Vocabulary::builtin()
            .check_stance(x)
            .map_err(|u| Failure::unknown_name(format!("--stance: unknown stance {u}"))),
        None => Ok(()),
    }
}

/// `--predicate`, when given, names a predicate of the vocabulary.
pub(super) fn check_predicate(v: Option<&str>) -> Result<()> {
    match v {
        Some(x) => Vocabulary::builtin()
            .check_predicate(x)
            .map(|_| ())
            .map_err(|u| Failure::unknown_name(format!("--predicate: unknown predicate {u}"))),
        None => Ok(()),
    }
}

/// The query `evidence` asks of a ledger (see [`query_on`]).
pub(super) fn query_from(ledger: &mut Ledger, q: &QueryArgs) -> Result<Query> {
    query_on(ledger, q)
}

/// The query `positions`, `graph` and `evidence` ask of a ledger, which is
/// only read (a server's, shared by its requests).
pub(super) fn query_on(ledger: &Ledger, q: &QueryArgs) -> Result<Query> {
    Ok(Query {
        as_of: parse_date_flag(q.as_of.as_deref(), "as-of")?,
        known_at: parse_known_at(q.known_at.as_deref(), ledger)?,
        filter: filter_from(ledger, &q.selection)?,
    })
}

/// The seq of the event `which` names: a seq, `HEAD` (the last event),
/// `HEAD~N` (N events before it), or a prefix of at least 6 hex digits of its
/// chain hash (which must name one event).
pub(super) fn event_named(ledger: &Ledger, which: &str) -> Result<u64> {
    if let Ok(seq) = which.parse::<u64>() {
        return Ok(seq);
    }
    if let Some(back) = head_relative(which) {
        let back = back.map_err(|_| {
            Failure::usage(format!(
                "\"{which}\": after HEAD~ comes a number of events back"
            ))
            .hint("for example HEAD~1, the event before the last")
        })?;
        let size = ledger.head()?.size;
        if size == 0 {
            return Err(Failure::usage("the ledger is empty: there is no HEAD"));
        }
        if back >= size {
            return Err(Failure::usage(format!(
                "{which} lies before the first event: the ledger holds {size} events (HEAD~{} is seq 1)",
                size - 1
            )));
        }
        return Ok(size - back);
    }
    let prefix = which.to_ascii_lowercase();
    if prefix.len() < 6 || prefix.len() > 64 || !prefix.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(Failure::usage(format!(
            "\"{which}\" is neither a seq, HEAD, HEAD~N, nor 6 to 64 hex digits of a chain hash"
        )));
    }
    let mut found: Vec<u64> = Vec::new();
    let keep = |r: &demarche::event::Recorded| r.hash.to_hex().starts_with(&prefix);
    ledger.each_kept(1, keep, |r| {
        found.push(r.seq);
        Ok(true)
    })?;
    match found[..] {
        [seq] => Ok(seq),
        [] => Err(Failure::usage(format!(
            "no event's chain hash starts with {prefix}"
        ))),
        _ => Err(Failure::usage(format!(
            "{} events' chain hashes start with {prefix} (seqs {:?})",
            found.len(),
            found
        ))
        .hint("give more digits")),
    }
}

/// `HEAD` (0 back), `HEAD~` (1) or `HEAD~N` (N), in any case; `None` for
/// anything else, `Some(Err)` for `HEAD~` and no number.
fn head_relative(which: &str) -> Option<std::result::Result<u64, ()>> {
    let rest = which.get(..4).filter(|h| h.eq_ignore_ascii_case("head"))?;
    let rest = &which[rest.len()..];
    if rest.is_empty() {
        return Some(Ok(0));
    }
    let n = rest.strip_prefix('~')?;
    if n.is_empty() {
        return Some(Ok(1));
    }
    Some(n.parse::<u64>().map_err(|_| ()))
}

/// Where `log --since` starts: at a seq, or at the first event recorded at
/// or after a time (microseconds since 1970 UTC).
#[derive(Clone, Copy, Debug)]
pub(super) enum Since {
    Seq(u64),
    RecordedFrom(i64),
}

/// `--since`: a seq (digits alone, as before: `--since 2023` is seq 2023),
/// `HEAD`, `HEAD~N` or a hash prefix; otherwise a date
/// (`YYYY-MM`, `YYYY-MM-DD`) or time (`2026-11-29T12:00Z`, UTC when no offset
/// is given): the events recorded on or after it.
pub(super) fn since_flag(ledger: &Ledger, v: Option<&str>) -> Result<Since> {
    let Some(v) = v else { return Ok(Since::Seq(1)) };
    let hex = (6..=64).contains(&v.len()) && v.bytes().all(|c| c.is_ascii_hexdigit());
    if hex || head_relative(v).is_some() || v.bytes().all(|c| c.is_ascii_digit()) {
        return event_named(ledger, v).map(Since::Seq);
    }
    let bad = || {
        Failure::usage(format!(
            "--since: \"{v}\" is neither a seq nor a date"
        ))
        .hint("for example --since 120, --since HEAD~10, --since 2026-11 or --since 2026-11-29T08:00Z")
    };
    let micros = if v.contains('T') {
        match v.parse::<jiff::Timestamp>() {
            Ok(t) => t.as_microsecond(),
            Err(_) => {
                let s = dates::parse_said_on(v).map_err(|_| bad())?;
                let secs = i64::from(dates::days_from_date(s.date)) * 86_400
                    + s.time.map_or(0, |t| i64::from(t.seconds));
                secs * 1_000_000
            }
        }
    } else {
        let d = parse_date_flag(Some(v), "from")
            .map_err(|_| bad())?
            .ok_or_else(bad)?;
        i64::from(dates::days_from_date(d)) * 86_400 * 1_000_000
    };
    Ok(Since::RecordedFrom(micros))
}
