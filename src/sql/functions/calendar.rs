//! Calendar functions: `age` (PostgreSQL's field-wise difference with month/day borrowing),
//! `AT TIME ZONE` (zone names, abbreviations and POSIX offsets as PostgreSQL reads them),
//! `make_date` / `make_time` / `make_timestamp(tz)` / `make_interval`, `justify_*`,
//! `date_bin` and `isfinite`.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::Connection;
use rusqlite::functions::Context;

use super::{DET, Shared, float_arg, int_arg, lock, text_arg, udf_err};
use crate::error::{PgError, PgResult, code};
use crate::sql::datetime::{self as dt, Interval, Zone};
use crate::sql::types::{PgType, Scalar};

const USECS_PER_DAY: i64 = 86_400_000_000;

fn bad_ts(s: &str) -> PgError {
    PgError::new(
        code::INVALID_DATETIME_FORMAT,
        format!("invalid input syntax for type timestamp: \"{s}\""),
    )
}

fn range_err(what: &str) -> PgError {
    PgError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("{what} out of range"),
    )
}

/// A stored date/timestamp/timestamptz as (local wall time, comparable instant).
fn read(stored: &str, ty: Scalar, zone: &Zone) -> PgResult<(NaiveDateTime, NaiveDateTime)> {
    match ty {
        Scalar::Date => {
            let d = dt::stored_date(stored).ok_or_else(|| bad_ts(stored))?;
            let local = d.and_time(NaiveTime::MIN);
            Ok((local, zone.local_to_utc(&local)))
        }
        Scalar::Timestamptz => {
            let utc = dt::stored_timestamp(stored).ok_or_else(|| bad_ts(stored))?;
            let local = utc + Duration::seconds(zone.offset_at_utc(&utc).local_minus_utc() as i64);
            Ok((local, utc))
        }
        _ => {
            let t = dt::stored_timestamp(stored).ok_or_else(|| bad_ts(stored))?;
            Ok((t, t))
        }
    }
}

fn days_in_month(year: i32, month: u32) -> i64 {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(year, month, 1),
        NaiveDate::from_ymd_opt(ny, nm, 1),
    ) {
        (Some(a), Some(b)) => (b - a).num_days(),
        _ => 30,
    }
}

/// PostgreSQL's `timestamp_age`: a symbolic difference of the fields of two local times.
pub fn age(t1: &NaiveDateTime, t2: &NaiveDateTime, neg: bool) -> PgResult<Interval> {
    let f = |t: &NaiveDateTime| {
        [
            t.year() as i64,
            t.month() as i64,
            t.day() as i64,
            t.hour() as i64,
            t.minute() as i64,
            t.second() as i64,
            (t.nanosecond() / 1000) as i64,
        ]
    };
    let (a, b) = (f(t1), f(t2));
    let mut d: [i64; 7] = std::array::from_fn(|i| a[i] - b[i]);
    let [year, mon, mday, hour, min, sec, fsec] = &mut d;
    if neg {
        for v in [
            &mut *year, &mut *mon, &mut *mday, &mut *hour, &mut *min, &mut *sec, &mut *fsec,
        ] {
            *v = -*v;
        }
    }
    while *fsec < 0 {
        *fsec += 1_000_000;
        *sec -= 1;
    }
    while *sec < 0 {
        *sec += 60;
        *min -= 1;
    }
    while *min < 0 {
        *min += 60;
        *hour -= 1;
    }
    while *hour < 0 {
        *hour += 24;
        *mday -= 1;
    }
    while *mday < 0 {
        let (y, m) = if neg {
            (t1.year(), t1.month())
        } else {
            (t2.year(), t2.month())
        };
        *mday += days_in_month(y, m);
        *mon -= 1;
    }
    while *mon < 0 {
        *mon += 12;
        *year -= 1;
    }
    if neg {
        for v in [
            &mut *year, &mut *mon, &mut *mday, &mut *hour, &mut *min, &mut *sec, &mut *fsec,
        ] {
            *v = -*v;
        }
    }
    let months = *year * 12 + *mon;
    let micros = ((*hour * 60 + *min) * 60 + *sec) * 1_000_000 + *fsec;
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| range_err("interval"))?,
        days: i32::try_from(*mday).map_err(|_| range_err("interval"))?,
        micros,
    })
}

/// Resolve a zone for `AT TIME ZONE`: a zone name or abbreviation, or a POSIX-style offset
/// (`+05` and `UTC+5` mean five hours west, as in PostgreSQL).
pub fn zone_for_at(name: &str) -> PgResult<Zone> {
    let t = name.trim();
    if let Ok(tz) = chrono_tz::Tz::from_str_insensitive(t) {
        return Ok(Zone::Named(tz));
    }
    let lower = t.to_ascii_lowercase();
    if lower == "utc" || lower == "z" || lower == "gmt" || lower == "zulu" {
        return Ok(Zone::UTC);
    }
    // POSIX: [name]±hh[:mm[:ss]], positive = west of Greenwich.
    let letters: String = t.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let rest = &t[letters.len()..];
    if (letters.is_empty() || letters.len() >= 3) && !rest.is_empty() {
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            b'0'..=b'9' if !letters.is_empty() => (1, rest),
            _ => (0, ""),
        };
        if sign != 0 {
            let parts: Vec<&str> = digits.split(':').collect();
            let nums: Option<Vec<i32>> = parts
                .iter()
                .map(|p| {
                    if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                        None
                    } else {
                        p.parse().ok()
                    }
                })
                .collect();
            if let Some(n) = nums.filter(|n| !n.is_empty() && n.len() <= 3) {
                let secs = n[0] * 3600 + n.get(1).unwrap_or(&0) * 60 + n.get(2).unwrap_or(&0);
                if n[0] <= 24
                    && let Some(o) = chrono::FixedOffset::east_opt(-sign * secs)
                {
                    return Ok(Zone::Fixed(o));
                }
            }
        }
    }
    Err(PgError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("time zone \"{t}\" not recognized"),
    ))
}

/// `ts AT TIME ZONE zone` for a stored value of type `ty`.
pub fn at_time_zone(stored: &str, zone_name: &str, ty: Scalar, session: &Zone) -> PgResult<String> {
    if stored == "infinity" || stored == "-infinity" {
        return Ok(stored.to_string());
    }
    let z = zone_for_at(zone_name)?;
    match ty {
        Scalar::Timestamp => {
            let t = dt::stored_timestamp(stored).ok_or_else(|| bad_ts(stored))?;
            Ok(dt::format_timestamptz_utc(&z.local_to_utc(&t)))
        }
        _ => {
            let (_, utc) = read(stored, ty, session)?;
            let local = utc + Duration::seconds(z.offset_at_utc(&utc).local_minus_utc() as i64);
            Ok(dt::format_timestamp(&local))
        }
    }
}

fn date_range(y: i64, m: i64, d: i64) -> PgError {
    PgError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("date field value out of range: {y}-{m:02}-{d:02}"),
    )
}

/// `make_date(year, month, day)`: negative years are BC; there is no year zero.
pub fn make_date(y: i64, m: i64, d: i64) -> PgResult<NaiveDate> {
    if y == 0 {
        return Err(date_range(y, m, d));
    }
    let astro = if y < 0 { y + 1 } else { y };
    let ok = |v: i64, lo: i64, hi: i64| v >= lo && v <= hi;
    if !ok(m, 1, 12) || !ok(d, 1, 31) || !ok(astro, -4713, 5_874_897) {
        return Err(date_range(y, m, d));
    }
    NaiveDate::from_ymd_opt(astro as i32, m as u32, d as u32).ok_or_else(|| date_range(y, m, d))
}

fn c_g(v: f64) -> String {
    // C's "%02g" for the seconds in PostgreSQL's message.
    let s = crate::sql::values::format_float(v, false);
    if s.len() < 2 { format!("0{s}") } else { s }
}

/// `make_time(h, m, s)` as microseconds since midnight.
pub fn make_time_us(h: i64, m: i64, s: f64) -> PgResult<i64> {
    if !(0..=24).contains(&h)
        || !(0..=59).contains(&m)
        || !(0.0..=60.0).contains(&s)
        || (h == 24 && (m > 0 || s > 0.0))
    {
        return Err(PgError::new(
            code::DATETIME_FIELD_OVERFLOW,
            format!("time field value out of range: {h}:{m:02}:{}", c_g(s)),
        ));
    }
    Ok((h * 3600 + m * 60) * 1_000_000 + (s * 1e6).round_ties_even() as i64)
}

pub fn make_timestamp(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: f64) -> PgResult<NaiveDateTime> {
    let date = make_date(y, mo, d)?;
    let us = make_time_us(h, mi, s)?;
    date.and_time(NaiveTime::MIN)
        .checked_add_signed(Duration::microseconds(us))
        .ok_or_else(|| range_err("timestamp"))
}

pub fn justify_days(mut iv: Interval) -> Interval {
    let whole = iv.days / 30;
    iv.days -= whole * 30;
    iv.months = iv.months.saturating_add(whole);
    if iv.months > 0 && iv.days < 0 {
        iv.days += 30;
        iv.months -= 1;
    } else if iv.months < 0 && iv.days > 0 {
        iv.days -= 30;
        iv.months += 1;
    }
    iv
}

pub fn justify_hours(mut iv: Interval) -> Interval {
    let whole = iv.micros / USECS_PER_DAY;
    iv.micros -= whole * USECS_PER_DAY;
    iv.days = iv.days.saturating_add(whole as i32);
    if iv.days > 0 && iv.micros < 0 {
        iv.micros += USECS_PER_DAY;
        iv.days -= 1;
    } else if iv.days < 0 && iv.micros > 0 {
        iv.micros -= USECS_PER_DAY;
        iv.days += 1;
    }
    iv
}

pub fn justify_interval(mut iv: Interval) -> Interval {
    let whole = iv.micros / USECS_PER_DAY;
    iv.micros -= whole * USECS_PER_DAY;
    iv.days = iv.days.saturating_add(whole as i32);
    let wm = iv.days / 30;
    iv.days -= wm * 30;
    iv.months = iv.months.saturating_add(wm);
    if iv.months > 0 && (iv.days < 0 || (iv.days == 0 && iv.micros < 0)) {
        iv.days += 30;
        iv.months -= 1;
    } else if iv.months < 0 && (iv.days > 0 || (iv.days == 0 && iv.micros > 0)) {
        iv.days -= 30;
        iv.months += 1;
    }
    if iv.days > 0 && iv.micros < 0 {
        iv.micros += USECS_PER_DAY;
        iv.days -= 1;
    } else if iv.days < 0 && iv.micros > 0 {
        iv.micros -= USECS_PER_DAY;
        iv.days += 1;
    }
    iv
}

/// `date_bin(stride, source, origin)` on local/naive times.
pub fn date_bin(
    stride: &Interval,
    t: &NaiveDateTime,
    origin: &NaiveDateTime,
) -> PgResult<NaiveDateTime> {
    if stride.months != 0 {
        return Err(PgError::new(
            code::FEATURE_NOT_SUPPORTED,
            "timestamps cannot be binned into intervals containing months or years",
        ));
    }
    let s = stride.days as i64 * USECS_PER_DAY + stride.micros;
    if s <= 0 {
        return Err(PgError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "stride must be greater than zero",
        ));
    }
    let diff = (*t - *origin)
        .num_microseconds()
        .ok_or_else(|| range_err("interval"))?;
    let mut delta = diff - diff % s;
    if origin > t && s > 1 {
        delta -= s;
    }
    origin
        .checked_add_signed(Duration::microseconds(delta))
        .ok_or_else(|| range_err("timestamp"))
}

fn ty_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Scalar> {
    let oid: i64 = c.get(i)?;
    PgType::from_oid(oid as u32)
        .map(|t| t.scalar)
        .ok_or_else(|| udf_err(PgError::internal("unknown type oid")))
}

fn interval_arg(c: &Context<'_>, i: usize) -> rusqlite::Result<Option<Interval>> {
    match text_arg(c, i) {
        None => Ok(None),
        Some(s) => dt::parse_interval(&s).map(Some).map_err(udf_err),
    }
}

pub(super) fn register(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    // pg_age(a, b, type_oid)
    let cx = ctx.clone();
    conn.create_scalar_function("pg_age", 3, DET, move |c| {
        let (Some(a), Some(b)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let ty = ty_arg(c, 2)?;
        let zone = lock(&cx).zone;
        let (la, ia) = read(&a, ty, &zone).map_err(udf_err)?;
        let (lb, ib) = read(&b, ty, &zone).map_err(udf_err)?;
        age(&la, &lb, ia < ib)
            .map(|iv| Some(iv.format_postgres()))
            .map_err(udf_err)
    })?;
    // pg_at_time_zone(value, zone, type_oid)
    let cx = ctx.clone();
    conn.create_scalar_function("pg_at_time_zone", 3, DET, move |c| {
        let (Some(v), Some(z)) = (text_arg(c, 0), text_arg(c, 1)) else {
            return Ok(None);
        };
        let ty = ty_arg(c, 2)?;
        let zone = lock(&cx).zone;
        at_time_zone(&v, &z, ty, &zone).map(Some).map_err(udf_err)
    })?;
    conn.create_scalar_function("pg_make_date", 3, DET, |c| {
        match (int_arg(c, 0)?, int_arg(c, 1)?, int_arg(c, 2)?) {
            (Some(y), Some(m), Some(d)) => make_date(y, m, d)
                .map(|d| Some(dt::format_date(&d)))
                .map_err(udf_err),
            _ => Ok(None),
        }
    })?;
    conn.create_scalar_function("pg_make_time", 3, DET, |c| {
        match (int_arg(c, 0)?, int_arg(c, 1)?, float_arg(c, 2)?) {
            (Some(h), Some(m), Some(s)) => {
                let us = make_time_us(h, m, s).map_err(udf_err)?;
                if us == USECS_PER_DAY {
                    return Ok(Some("24:00:00".to_string()));
                }
                let t = NaiveTime::MIN + Duration::microseconds(us);
                Ok(Some(dt::format_time(&t)))
            }
            _ => Ok(None),
        }
    })?;
    // pg_make_timestamp(y, mo, d, h, mi, s) -> timestamp
    conn.create_scalar_function("pg_make_timestamp", 6, DET, |c| {
        let ints: Vec<Option<i64>> = (0..5)
            .map(|i| int_arg(c, i))
            .collect::<rusqlite::Result<_>>()?;
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi)) =
            (ints[0], ints[1], ints[2], ints[3], ints[4])
        else {
            return Ok(None);
        };
        let Some(s) = float_arg(c, 5)? else {
            return Ok(None);
        };
        make_timestamp(y, mo, d, h, mi, s)
            .map(|t| Some(dt::format_timestamp(&t)))
            .map_err(udf_err)
    })?;
    // pg_make_timestamptz(y, mo, d, h, mi, s [, zone])
    for n in [6, 7] {
        let cx = ctx.clone();
        conn.create_scalar_function("pg_make_timestamptz", n, DET, move |c| {
            let ints: Vec<Option<i64>> = (0..5)
                .map(|i| int_arg(c, i))
                .collect::<rusqlite::Result<_>>()?;
            let (Some(y), Some(mo), Some(d), Some(h), Some(mi)) =
                (ints[0], ints[1], ints[2], ints[3], ints[4])
            else {
                return Ok(None);
            };
            let Some(s) = float_arg(c, 5)? else {
                return Ok(None);
            };
            let zone = if n == 7 {
                match text_arg(c, 6) {
                    Some(z) => zone_for_at(&z).map_err(udf_err)?,
                    None => return Ok(None),
                }
            } else {
                lock(&cx).zone
            };
            let t = make_timestamp(y, mo, d, h, mi, s).map_err(udf_err)?;
            Ok(Some(dt::format_timestamptz_utc(&zone.local_to_utc(&t))))
        })?;
    }
    // pg_make_interval(years, months, weeks, days, hours, mins, secs)
    conn.create_scalar_function("pg_make_interval", 7, DET, |c| {
        let mut ints = [0i64; 6];
        for (i, slot) in ints.iter_mut().enumerate() {
            match int_arg(c, i)? {
                Some(v) => *slot = v,
                None => return Ok(None),
            }
        }
        let Some(secs) = float_arg(c, 6)? else {
            return Ok(None);
        };
        let [y, mo, w, d, h, mi] = ints;
        let months = y.checked_mul(12).and_then(|v| v.checked_add(mo));
        let days = w.checked_mul(7).and_then(|v| v.checked_add(d));
        let us = h
            .checked_mul(3_600_000_000)
            .and_then(|v| v.checked_add(mi.checked_mul(60_000_000)?))
            .and_then(|v| {
                let s = (secs * 1e6).round_ties_even();
                if s.is_finite() && s.abs() < 9.2e18 {
                    v.checked_add(s as i64)
                } else {
                    None
                }
            });
        match (
            months.and_then(|m| i32::try_from(m).ok()),
            days.and_then(|d| i32::try_from(d).ok()),
            us,
        ) {
            (Some(months), Some(days), Some(micros)) => Ok(Some(
                Interval {
                    months,
                    days,
                    micros,
                }
                .format_postgres(),
            )),
            _ => Err(udf_err(range_err("interval"))),
        }
    })?;
    for (name, f) in [
        ("pg_justify_days", justify_days as fn(Interval) -> Interval),
        ("pg_justify_hours", justify_hours),
        ("pg_justify_interval", justify_interval),
    ] {
        conn.create_scalar_function(name, 1, DET, move |c| {
            Ok(interval_arg(c, 0)?.map(|iv| f(iv).format_postgres()))
        })?;
    }
    // pg_date_bin(stride, source, origin, type_oid)
    let cx = ctx.clone();
    conn.create_scalar_function("pg_date_bin", 4, DET, move |c| {
        let (Some(stride), Some(src), Some(org)) =
            (interval_arg(c, 0)?, text_arg(c, 1), text_arg(c, 2))
        else {
            return Ok(None);
        };
        let ty = ty_arg(c, 3)?;
        let zone = lock(&cx).zone;
        let (_, s) = read(&src, ty, &zone).map_err(udf_err)?;
        let (_, o) = read(&org, ty, &zone).map_err(udf_err)?;
        let r = date_bin(&stride, &s, &o).map_err(udf_err)?;
        Ok(Some(if ty == Scalar::Timestamptz {
            dt::format_timestamptz_utc(&r)
        } else {
            dt::format_timestamp(&r)
        }))
    })?;
    conn.create_scalar_function("pg_isfinite", 1, DET, |c| {
        Ok(text_arg(c, 0).map(|s| !(s.ends_with("infinity"))))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        dt::stored_timestamp(s).unwrap()
    }

    fn a(x: &str, y: &str) -> String {
        let (p, q) = (t(x), t(y));
        age(&p, &q, p < q).unwrap().format_postgres()
    }

    #[test]
    fn ages() {
        assert_eq!(
            a("2024-03-31 00:00:00", "2024-02-29 00:00:00"),
            "1 mon 2 days"
        );
        assert_eq!(
            a("2024-01-31 00:00:00", "2024-03-01 00:00:00"),
            "-1 mons -1 days"
        );
        assert_eq!(
            a("2001-04-10 00:00:00", "1957-06-13 00:00:00"),
            "43 years 9 mons 27 days"
        );
        assert_eq!(
            a("2024-03-01 10:00:00", "2024-01-31 12:30:15.5"),
            "1 mon 21:29:44.5"
        );
    }

    #[test]
    fn zones_and_makers() {
        let s = "2024-03-05 12:00:00+00";
        assert_eq!(
            at_time_zone(s, "America/New_York", Scalar::Timestamptz, &Zone::UTC).unwrap(),
            "2024-03-05 07:00:00"
        );
        assert_eq!(
            at_time_zone(s, "UTC+5", Scalar::Timestamptz, &Zone::UTC).unwrap(),
            "2024-03-05 07:00:00"
        );
        assert_eq!(
            at_time_zone("2024-03-05 12:00:00", "+05", Scalar::Timestamp, &Zone::UTC).unwrap(),
            "2024-03-05 17:00:00+00"
        );
        assert!(zone_for_at("Nowhere/Bad").is_err());
        assert!(zone_for_at("+99").is_err());
        assert_eq!(
            dt::format_date(&make_date(-44, 3, 15).unwrap()),
            "0044-03-15 BC"
        );
        assert!(make_date(0, 1, 1).is_err());
        assert!(make_date(2024, 2, 30).is_err());
        assert!(make_date(i64::MAX, 1, 1).is_err());
        assert!(make_time_us(25, 0, 0.0).is_err());
        assert_eq!(make_time_us(24, 0, 0.0).unwrap(), USECS_PER_DAY);
    }

    #[test]
    fn justify() {
        let iv = |s: &str| dt::parse_interval(s).unwrap();
        assert_eq!(
            justify_days(iv("35 days")).format_postgres(),
            "1 mon 5 days"
        );
        assert_eq!(
            justify_days(iv("-35 days")).format_postgres(),
            "-1 mons -5 days"
        );
        assert_eq!(
            justify_hours(iv("27 hours")).format_postgres(),
            "1 day 03:00:00"
        );
        assert_eq!(
            justify_interval(iv("1 mon -1 hour")).format_postgres(),
            "29 days 23:00:00"
        );
        let r = date_bin(
            &iv("15 minutes"),
            &t("2024-03-05 14:07:09"),
            &t("2000-01-01 00:00:00"),
        )
        .unwrap();
        assert_eq!(dt::format_timestamp(&r), "2024-03-05 14:00:00");
    }
}
