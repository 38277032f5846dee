//! Dates and times as demarche reads and writes them: calendar dates
//! (`YYYY-MM-DD`, and GDELT's `YYYYMMDD` and `YYYYMMDDHHMMSS`), `said_on` with
//! its optional time of day and offset, transaction times (`recorded_at`,
//! microseconds since 1970-01-01 UTC) in RFC 3339, and day numbers (days since
//! 1970-01-01), which the stored format and the pictures count in.
//!
//! Every date demarche parses goes through one check here: digits in place, a
//! year other than 0000, and a day that exists.

use crate::event::{SaidOn, TimeOfDay};
use jiff::civil::Date;

/// Parses a calendar date `YYYY-MM-DD` strictly (no other form, real dates only).
///
/// # Errors
/// A message saying what is wrong.
#[inline]
pub fn parse_date(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(format!("\"{s}\" is not a date of the form YYYY-MM-DD"));
    }
    civil(s, digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
}

/// Parses a calendar date in ISO 8601's basic form, `YYYYMMDD` (as GDELT's
/// `SQLDATE`), strictly.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_basic_date(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(format!("\"{s}\" is not a date of the form YYYYMMDD"));
    }
    civil(s, digits(&b[0..4]), digits(&b[4..6]), digits(&b[6..8]))
}

/// Parses a date and time in ISO 8601's basic form, `YYYYMMDDHHMMSS` (as
/// GDELT's `DATEADDED`, in UTC), strictly, and keeps its date.
///
/// # Errors
/// A message saying what is wrong.
pub fn parse_basic_date_time(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "\"{s}\" is not a date-time of the form YYYYMMDDHHMMSS"
        ));
    }
    let unreal = || format!("\"{s}\" is not a real date-time (YYYYMMDDHHMMSS)");
    let date = parse_basic_date(&s[..8]).map_err(|_| unreal())?;
    let n = |r: std::ops::Range<usize>| digits(&b[r]) as u32;
    seconds_of_day(n(8..10), n(10..12), n(12..14)).ok_or_else(unreal)?;
    Ok(date)
}

/// The number at most four ASCII digits (checked by the caller) write.
#[inline]
fn digits(b: &[u8]) -> i16 {
    b.iter().fold(0, |n, d| n * 10 + i16::from(d - b'0'))
}

/// The date of year, month and day numbers read from `s`: the one check every
/// parsed date goes through.
#[inline]
fn civil(s: &str, y: i16, m: i16, d: i16) -> Result<Date, String> {
    if y == 0 {
        return Err(format!("\"{s}\": year 0000 is not a date"));
    }
    // Two digits always fit an i8.
    Date::new(y, m as i8, d as i8).map_err(|_| format!("\"{s}\" is not a real date"))
}

/// Seconds since midnight of a clock reading, if it is one (no leap seconds).
#[inline]
fn seconds_of_day(hours: u32, minutes: u32, seconds: u32) -> Option<u32> {
    (hours <= 23 && minutes <= 59 && seconds <= 59).then(|| hours * 3600 + minutes * 60 + seconds)
}

/// Parses `said_on`: a date, or a date and time `YYYY-MM-DDTHH:MM[:SS]` with an
/// optional `Z` or `+HH:MM` offset.
///
/// # Errors
/// A message saying what is wrong.
#[inline]
pub fn parse_said_on(s: &str) -> Result<SaidOn, String> {
    let Some((d, t)) = s.split_once('T') else {
        return Ok(SaidOn {
            date: parse_date(s)?,
            time: None,
        });
    };
    let date = parse_date(d)?;
    let bad = || format!("\"{s}\" is not a date-time of the form YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]");
    let (clock, offset) = if let Some(c) = t.strip_suffix('Z') {
        (c, Some(0i16))
    } else if let Some(i) = t.find(['+', '-']) {
        let (c, o) = t.split_at(i);
        let ob = o.as_bytes();
        if ob.len() != 6
            || ob[3] != b':'
            || !o[1..3]
                .bytes()
                .chain(o[4..6].bytes())
                .all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let (h, m): (i16, i16) = (
            o[1..3].parse().map_err(|_| bad())?,
            o[4..6].parse().map_err(|_| bad())?,
        );
        if h > 23 || m > 59 {
            return Err(bad());
        }
        let v = h * 60 + m;
        (c, Some(if ob[0] == b'-' { -v } else { v }))
    } else {
        (t, None)
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(bad());
    }
    let v: Vec<u32> = parts.iter().map(|p| p.parse().expect("digits")).collect();
    let seconds = seconds_of_day(v[0], v[1], v.get(2).copied().unwrap_or(0)).ok_or_else(bad)?;
    Ok(SaidOn {
        date,
        time: Some(TimeOfDay {
            seconds,
            offset_minutes: offset,
        }),
    })
}

/// Writes `said_on` back in the form [`parse_said_on`] reads.
#[inline]
pub fn format_said_on(s: &SaidOn) -> String {
    let mut out = s.date.to_string();
    if let Some(t) = s.time {
        out.push_str(&format!(
            "T{:02}:{:02}:{:02}",
            t.seconds / 3600,
            t.seconds / 60 % 60,
            t.seconds % 60
        ));
        match t.offset_minutes {
            Some(0) => out.push('Z'),
            Some(m) => out.push_str(&format!(
                "{}{:02}:{:02}",
                if m < 0 { '-' } else { '+' },
                m.unsigned_abs() / 60,
                m.unsigned_abs() % 60
            )),
            None => {}
        }
    }
    out
}

/// Appends `said_on` as [`format_said_on`] writes it, without making a
/// string for the usual dates (years 1 to 9999, two-digit hours).
pub fn push_said_on(out: &mut Vec<u8>, s: &SaidOn) {
    let d = s.date;
    // Two digits of a number under 100.
    fn two(out: &mut Vec<u8>, n: u32) {
        out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
    }
    // A time of day and an offset that take two digits an hour, as
    // format_said_on writes them.
    let short = |t: &TimeOfDay| {
        t.seconds < 86_400 && t.offset_minutes.is_none_or(|m| m.unsigned_abs() < 6_000)
    };
    if !(1..=9999).contains(&d.year()) || !s.time.as_ref().is_none_or(short) {
        out.extend_from_slice(format_said_on(s).as_bytes());
        return;
    }
    let [y, m, day] = [d.year() as u32, d.month() as u32, d.day() as u32];
    two(out, y / 100);
    two(out, y % 100);
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, day);
    if let Some(t) = s.time {
        out.push(b'T');
        two(out, t.seconds / 3600);
        out.push(b':');
        two(out, t.seconds / 60 % 60);
        out.push(b':');
        two(out, t.seconds % 60);
        match t.offset_minutes {
            Some(0) => out.push(b'Z'),
            Some(m) => {
                out.push(if m < 0 { b'-' } else { b'+' });
                two(out, u32::from(m.unsigned_abs()) / 60);
                out.push(b':');
                two(out, u32::from(m.unsigned_abs()) % 60);
            }
            None => {}
        }
    }
}

/// Formats a transaction time (microseconds since 1970-01-01 UTC) as RFC 3339.
pub fn format_recorded_at(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| format!("@{micros}us"))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
#[inline]
pub fn days_from_date(d: Date) -> i32 {
    let (y, m, day) = (
        i32::from(d.year()),
        i32::from(d.month()),
        i32::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whether [`date_from_days`] gives a date for `days`: whether it falls
/// within jiff's range of dates.
#[inline]
pub fn in_range(days: i32) -> bool {
    // -9999-01-01 and 9999-12-31.
    (-4_371_587..=2_932_896).contains(&days)
}

/// The civil date `days` after 1970-01-01, if it is within jiff's range.
#[inline]
pub fn date_from_days(days: i32) -> Option<Date> {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_range_says_where_days_make_a_date() {
        for days in [
            -4_371_588,
            -4_371_587,
            -1,
            0,
            18_655,
            2_932_896,
            2_932_897,
            i32::MIN,
            i32::MAX,
        ] {
            assert_eq!(in_range(days), date_from_days(days).is_some(), "{days}");
        }
    }

    #[test]
    fn a_said_on_appended_reads_as_the_one_formatted() {
        let dates = [
            jiff::civil::date(1, 1, 1),
            jiff::civil::date(999, 12, 31),
            jiff::civil::date(2021, 1, 28),
            jiff::civil::date(9999, 12, 31),
            jiff::civil::date(-44, 3, 15),
            jiff::civil::date(0, 6, 1),
        ];
        let times = [
            None,
            Some((0, None)),
            Some((50_700, Some(0))),
            Some((86_399, Some(330))),
            Some((3_600, Some(-180))),
            Some((86_400, None)),
            Some((7_200, Some(6_000))),
            Some((7_200, Some(-5_999))),
        ];
        for date in dates {
            for t in times {
                let s = SaidOn {
                    date,
                    time: t.map(|(seconds, offset_minutes)| TimeOfDay {
                        seconds,
                        offset_minutes,
                    }),
                };
                let mut out = b"x".to_vec();
                push_said_on(&mut out, &s);
                assert_eq!(out[1..], *format_said_on(&s).as_bytes(), "{s:?}");
            }
        }
    }

    #[test]
    fn said_on_round_trips_in_every_form() {
        for s in [
            "2021-01-28",
            "2021-01-28T14:05:00",
            "2021-01-28T14:05:00Z",
            "2021-01-28T23:59:59+05:30",
            "2021-01-28T00:00:00-03:00",
        ] {
            assert_eq!(format_said_on(&parse_said_on(s).unwrap()), s);
        }
        assert_eq!(
            format_said_on(&parse_said_on("2021-01-28T14:05").unwrap()),
            "2021-01-28T14:05:00"
        );
    }

    #[test]
    fn impossible_dates_are_refused() {
        for s in [
            "2021-02-30",
            "2021-13-01",
            "2021-1-28",
            "28/01/2021",
            "0000-01-01",
            "2021-01-28T24:00",
            "2021-01-28T10:00+1:00",
            "",
        ] {
            assert!(parse_said_on(s).is_err(), "{s}");
        }
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2023-02-29").is_err());
    }

    #[test]
    fn basic_dates_are_strict() {
        let d = |y, m, day| Date::new(y, m, day).expect("date");
        assert_eq!(parse_basic_date("20210128"), Ok(d(2021, 1, 28)));
        assert_eq!(parse_basic_date("20240229"), Ok(d(2024, 2, 29)));
        for bad in [
            "2021012",
            "2021-01-28",
            "202101288",
            "20210230",
            "20211301",
            "00000101",
        ] {
            assert!(parse_basic_date(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_basic_date_time("20210129143000"), Ok(d(2021, 1, 29)));
        for bad in [
            "202101291430",
            "20210129243000",
            "20210129146000",
            "20210229143000",
        ] {
            assert!(parse_basic_date_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_numbers_round_trip_across_eras() {
        for days in (-800_000..800_000).step_by(997) {
            let d = date_from_days(days).expect("in range");
            assert_eq!(days_from_date(d), days, "{d}");
        }
        let d = jiff::civil::date(2021, 1, 28);
        assert_eq!(days_from_date(d), 18_655);
        assert_eq!(days_from_date(jiff::civil::date(1970, 1, 1)), 0);
    }
}
