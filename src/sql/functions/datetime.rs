//! Clock and calendar functions: `now()` and friends from the replicated statement context,
//! timestamp/interval arithmetic, `date_trunc` and `extract` over canonical stored text.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};

use super::{DET, Shared, VOLATILE, lock, text_arg, udf_err};
use crate::error::{PgError, PgResult, code};
use crate::sql::datetime::{self as dt, Interval, Zone};
use crate::sql::types::{PgType, Scalar};

fn zone_of(ctx: &Shared) -> Zone {
    lock(ctx).zone
}

fn bad_ts(s: &str) -> PgError {
    PgError::new(
        code::INVALID_DATETIME_FORMAT,
        format!("invalid timestamp value: \"{s}\""),
    )
}

/// Read a stored date/timestamp/timestamptz as local wall-clock time (timestamptz in `zone`).
fn local_of(s: &str, ty: Scalar, zone: &Zone) -> PgResult<NaiveDateTime> {
    match ty {
        Scalar::Date => dt::stored_date(s)
            .map(|d| d.and_time(NaiveTime::MIN))
            .ok_or_else(|| bad_ts(s)),
        Scalar::Timestamptz => {
            let utc = dt::stored_timestamp(s).ok_or_else(|| bad_ts(s))?;
            Ok(utc + Duration::seconds(zone.offset_at_utc(&utc).local_minus_utc() as i64))
        }
        _ => dt::stored_timestamp(s).ok_or_else(|| bad_ts(s)),
    }
}

/// Store a local wall-clock time back as `ty`.
fn store_local(t: &NaiveDateTime, ty: Scalar, zone: &Zone) -> String {
    match ty {
        Scalar::Timestamptz => dt::format_timestamptz_utc(&zone.local_to_utc(t)),
        Scalar::Date => dt::format_date(&t.date()),
        _ => dt::format_timestamp(t),
    }
}

fn ty_arg(f: &Context<'_>, i: usize) -> rusqlite::Result<Scalar> {
    let oid: i64 = f.get(i)?;
    PgType::from_oid(oid as u32)
        .map(|t| t.scalar)
        .ok_or_else(|| udf_err(PgError::internal("unknown type oid")))
}

fn interval_arg(f: &Context<'_>, i: usize) -> rusqlite::Result<Option<Interval>> {
    match text_arg(f, i) {
        None => Ok(None),
        Some(s) => dt::parse_interval(&s).map(Some).map_err(udf_err),
    }
}

/// ts ± interval for timestamp / timestamptz / date (date + interval gives timestamp).
fn ts_add(f: &Context<'_>, ctx: &Shared, sign: i32) -> rusqlite::Result<Option<String>> {
    let (Some(s), Some(iv)) = (text_arg(f, 0), interval_arg(f, 1)?) else {
        return Ok(None);
    };
    if s == "infinity" || s == "-infinity" {
        return Ok(Some(s));
    }
    let ty = ty_arg(f, 2)?;
    let zone = zone_of(ctx);
    let local = local_of(&s, ty, &zone).map_err(udf_err)?;
    let iv = if sign < 0 { iv.neg() } else { iv };
    let r = dt::add_interval(&local, &iv).ok_or_else(|| {
        udf_err(PgError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "timestamp out of range",
        ))
    })?;
    let out_ty = if ty == Scalar::Date {
        Scalar::Timestamp
    } else {
        ty
    };
    Ok(Some(store_local(&r, out_ty, &zone)))
}

fn epoch_utc(s: &str, ty: Scalar) -> PgResult<NaiveDateTime> {
    match ty {
        Scalar::Date => dt::stored_date(s)
            .map(|d| d.and_time(NaiveTime::MIN))
            .ok_or_else(|| bad_ts(s)),
        _ => dt::stored_timestamp(s).ok_or_else(|| bad_ts(s)),
    }
}

/// Truncate local time to a field (`date_trunc`).
fn trunc(t: &NaiveDateTime, field: &str) -> PgResult<NaiveDateTime> {
    let d = t.date();
    let ymd = |y: i32, m: u32, day: u32| -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, day)
            .unwrap_or(d)
            .and_time(NaiveTime::MIN)
    };
    Ok(match field {
        "microseconds" | "microsecond" => *t,
        "milliseconds" | "millisecond" => t
            .with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
            .unwrap_or(*t),
        "second" | "seconds" => t.with_nanosecond(0).unwrap_or(*t),
        "minute" | "minutes" => d.and_hms_opt(t.hour(), t.minute(), 0).unwrap_or(*t),
        "hour" | "hours" => d.and_hms_opt(t.hour(), 0, 0).unwrap_or(*t),
        "day" | "days" => d.and_time(NaiveTime::MIN),
        "week" | "weeks" => {
            (d - Duration::days(d.weekday().num_days_from_monday() as i64)).and_time(NaiveTime::MIN)
        }
        "month" | "months" => ymd(d.year(), d.month(), 1),
        "quarter" => ymd(d.year(), (d.month0() / 3) * 3 + 1, 1),
        "year" | "years" => ymd(d.year(), 1, 1),
        "decade" => ymd(d.year().div_euclid(10) * 10, 1, 1),
        "century" => ymd(((d.year() - 1).div_euclid(100)) * 100 + 1, 1, 1),
        "millennium" => ymd(((d.year() - 1).div_euclid(1000)) * 1000 + 1, 1, 1),
        other => {
            return Err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                format!("unit \"{other}\" not recognized for type timestamp without time zone"),
            ));
        }
    })
}

fn fmt_scaled(v: i64, scale: u32) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let p = 10i64.pow(scale);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        a / p as u64,
        a % p as u64,
        width = scale as usize
    )
}

/// `extract(field from value)` as numeric text (PostgreSQL 14+ returns numeric).
fn extract(field: &str, s: &str, ty: Scalar, zone: &Zone) -> PgResult<String> {
    if ty == Scalar::Interval {
        let iv = dt::parse_interval(s)?;
        let secs_us = iv.micros % 60_000_000;
        return Ok(match field {
            "epoch" => {
                let total_us = (iv.months as i64 / 12) * 36525 * 864_000_000
                    + (iv.months as i64 % 12) * 30 * 86_400_000_000
                    + iv.days as i64 * 86_400_000_000
                    + iv.micros;
                fmt_scaled(total_us, 6)
            }
            "year" | "years" => (iv.months / 12).to_string(),
            "month" | "months" => (iv.months % 12).to_string(),
            "day" | "days" => iv.days.to_string(),
            "hour" | "hours" => (iv.micros / 3_600_000_000).to_string(),
            "minute" | "minutes" => ((iv.micros / 60_000_000) % 60).to_string(),
            "second" | "seconds" => fmt_scaled(secs_us, 6),
            "millisecond" | "milliseconds" => fmt_scaled(secs_us, 3),
            "microsecond" | "microseconds" => secs_us.to_string(),
            other => {
                return Err(PgError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("unit \"{other}\" not supported for type interval"),
                ));
            }
        });
    }
    if ty == Scalar::Time {
        let t = dt::stored_time(s).ok_or_else(|| bad_ts(s))?;
        let us =
            (t.num_seconds_from_midnight() as i64) * 1_000_000 + (t.nanosecond() / 1000) as i64;
        return Ok(match field {
            "hour" => t.hour().to_string(),
            "minute" => t.minute().to_string(),
            "second" => fmt_scaled(us % 60_000_000, 6),
            "millisecond" | "milliseconds" => fmt_scaled(us % 60_000_000, 3),
            "microsecond" | "microseconds" => (us % 60_000_000).to_string(),
            "epoch" => fmt_scaled(us, 6),
            other => {
                return Err(PgError::new(
                    code::INVALID_PARAMETER_VALUE,
                    format!("unit \"{other}\" not supported for type time without time zone"),
                ));
            }
        });
    }
    let t = local_of(s, ty, zone)?;
    let d = t.date();
    let frac_scale = if ty == Scalar::Date { 0 } else { 6 };
    let us_in_min = (t.second() as i64) * 1_000_000 + (t.nanosecond() / 1000) as i64;
    Ok(match field {
        "year" | "years" => d.year().to_string(),
        "month" | "months" => d.month().to_string(),
        "day" | "days" => d.day().to_string(),
        "hour" | "hours" => t.hour().to_string(),
        "minute" | "minutes" => t.minute().to_string(),
        "second" | "seconds" => fmt_scaled(
            us_in_min,
            frac_scale.max(if ty == Scalar::Date { 0 } else { 6 }),
        ),
        "millisecond" | "milliseconds" => fmt_scaled(us_in_min, 3),
        "microsecond" | "microseconds" => us_in_min.to_string(),
        "dow" => d.weekday().num_days_from_sunday().to_string(),
        "isodow" => d.weekday().number_from_monday().to_string(),
        "doy" => d.ordinal().to_string(),
        "week" => d.iso_week().week().to_string(),
        "isoyear" => d.iso_week().year().to_string(),
        "quarter" => (d.month0() / 3 + 1).to_string(),
        "decade" => d.year().div_euclid(10).to_string(),
        "century" => ((d.year() - 1).div_euclid(100) + 1).to_string(),
        "millennium" => ((d.year() - 1).div_euclid(1000) + 1).to_string(),
        "epoch" => {
            let utc = epoch_utc(s, ty)?;
            let us = utc.and_utc().timestamp_micros();
            fmt_scaled(
                if ty == Scalar::Date {
                    us / 1_000_000
                } else {
                    us
                },
                frac_scale,
            )
        }
        "timezone" if ty == Scalar::Timestamptz => {
            let utc = dt::stored_timestamp(s).ok_or_else(|| bad_ts(s))?;
            zone.offset_at_utc(&utc).local_minus_utc().to_string()
        }
        other => {
            return Err(PgError::new(
                code::INVALID_PARAMETER_VALUE,
                format!(
                    "unit \"{other}\" not recognized for type {}",
                    PgType::scalar(ty).format(-1)
                ),
            ));
        }
    })
}

pub(super) fn register(conn: &rusqlite::Connection, ctx: Shared) -> rusqlite::Result<()> {
    let c = ctx.clone();
    conn.create_scalar_function("pg_now", 0, VOLATILE, move |_| {
        Ok(dt::format_timestamptz_utc(&lock(&c).txn_time))
    })?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_statement_timestamp", 0, VOLATILE, move |_| {
        Ok(dt::format_timestamptz_utc(&lock(&c).stmt_time))
    })?;
    // Local date / time / timestamp "now" in the session zone.
    for (name, part) in [
        ("pg_current_date", 0),
        ("pg_localtimestamp", 1),
        ("pg_localtime", 2),
    ] {
        let c = ctx.clone();
        conn.create_scalar_function(name, 0, VOLATILE, move |_| {
            let g = lock(&c);
            let utc = g.txn_time;
            let local =
                utc + Duration::seconds(g.zone.offset_at_utc(&utc).local_minus_utc() as i64);
            Ok(match part {
                0 => dt::format_date(&local.date()),
                1 => dt::format_timestamp(&local),
                _ => dt::format_time(&local.time()),
            })
        })?;
    }
    let c = ctx.clone();
    conn.create_scalar_function("pg_ts_add", 3, DET, move |f| ts_add(f, &c, 1))?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_ts_sub", 3, DET, move |f| ts_add(f, &c, -1))?;
    // pg_ts_diff(a, b, type_oid): timestamp - timestamp = interval.
    conn.create_scalar_function("pg_ts_diff", 3, DET, |f| {
        let (Some(a), Some(b)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let ty = ty_arg(f, 2)?;
        let x = epoch_utc(&a, ty).map_err(udf_err)?;
        let y = epoch_utc(&b, ty).map_err(udf_err)?;
        Ok(Some(dt::timestamp_diff(&x, &y).format_postgres()))
    })?;
    // Date arithmetic: date ± integer days, date - date.
    conn.create_scalar_function("pg_date_add_days", 2, DET, |f| {
        let Some(a) = text_arg(f, 0) else {
            return Ok(None);
        };
        let Ok(n) = f.get::<i64>(1) else {
            return Ok(None);
        };
        let d = dt::stored_date(&a).ok_or_else(|| udf_err(bad_ts(&a)))?;
        let r = d.checked_add_signed(Duration::days(n)).ok_or_else(|| {
            udf_err(PgError::new(
                code::DATETIME_FIELD_OVERFLOW,
                "date out of range",
            ))
        })?;
        Ok(Some(dt::format_date(&r)))
    })?;
    conn.create_scalar_function("pg_date_diff", 2, DET, |f| {
        let (Some(a), Some(b)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let x = dt::stored_date(&a).ok_or_else(|| udf_err(bad_ts(&a)))?;
        let y = dt::stored_date(&b).ok_or_else(|| udf_err(bad_ts(&b)))?;
        Ok(Some((x - y).num_days()))
    })?;
    // Interval arithmetic and ordering.
    conn.create_scalar_function("pg_interval_add", 2, DET, |f| {
        let (Some(a), Some(b)) = (interval_arg(f, 0)?, interval_arg(f, 1)?) else {
            return Ok(None);
        };
        Ok(Some(a.add(&b).format_postgres()))
    })?;
    conn.create_scalar_function("pg_interval_sub", 2, DET, |f| {
        let (Some(a), Some(b)) = (interval_arg(f, 0)?, interval_arg(f, 1)?) else {
            return Ok(None);
        };
        Ok(Some(a.add(&b.neg()).format_postgres()))
    })?;
    conn.create_scalar_function("pg_interval_mul", 2, DET, |f| {
        let Some(a) = interval_arg(f, 0)? else {
            return Ok(None);
        };
        let Some(x) = super::as_f64(f.get_raw(1)) else {
            return Ok(None);
        };
        Ok(Some(a.mul(x).format_postgres()))
    })?;
    conn.create_scalar_function("pg_interval_neg", 1, DET, |f| {
        Ok(interval_arg(f, 0)?.map(|a| a.neg().format_postgres()))
    })?;
    conn.create_scalar_function("pg_interval_cmp", 2, DET, |f| {
        let (Some(a), Some(b)) = (interval_arg(f, 0)?, interval_arg(f, 1)?) else {
            return Ok(None);
        };
        Ok(Some(a.cmp_key().cmp(&b.cmp_key()) as i64))
    })?;
    conn.create_collation("pg_interval", |a: &str, b: &str| {
        match (dt::parse_interval(a), dt::parse_interval(b)) {
            (Ok(x), Ok(y)) => x.cmp_key().cmp(&y.cmp_key()),
            _ => a.cmp(b),
        }
    })?;
    // date_trunc(field, value, type_oid)
    let c = ctx.clone();
    conn.create_scalar_function("pg_date_trunc", 3, DET, move |f| {
        let (Some(field), Some(s)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let ty = ty_arg(f, 2)?;
        if ty == Scalar::Interval {
            return Err(udf_err(PgError::unsupported("date_trunc on interval")));
        }
        let zone = zone_of(&c);
        let local = local_of(&s, ty, &zone).map_err(udf_err)?;
        let r = trunc(&local, &field.to_ascii_lowercase()).map_err(udf_err)?;
        let out_ty = if ty == Scalar::Date {
            Scalar::Timestamptz
        } else {
            ty
        };
        Ok(Some(store_local(&r, out_ty, &zone)))
    })?;
    // date_trunc(field, timestamptz, zone): truncate the local time in `zone`.
    conn.create_scalar_function("pg_date_trunc_zone", 3, DET, |f| {
        let (Some(field), Some(s), Some(z)) = (text_arg(f, 0), text_arg(f, 1), text_arg(f, 2))
        else {
            return Ok(None);
        };
        if s.ends_with("infinity") {
            return Ok(Some(s));
        }
        let zone = super::calendar::zone_for_at(&z).map_err(udf_err)?;
        let local = local_of(&s, Scalar::Timestamptz, &zone).map_err(udf_err)?;
        let r = trunc(&local, &field.to_ascii_lowercase()).map_err(udf_err)?;
        Ok(Some(store_local(&r, Scalar::Timestamptz, &zone)))
    })?;
    // extract(field from value) / date_part
    let c = ctx;
    conn.create_scalar_function("pg_extract", 3, DET, move |f| {
        let (Some(field), Some(s)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let ty = ty_arg(f, 2)?;
        let zone = zone_of(&c);
        extract(&field.to_ascii_lowercase(), &s, ty, &zone)
            .map(Some)
            .map_err(udf_err)
    })?;
    let _ = Value::Null;
    let _: Option<ValueRef> = None;
    Ok(())
}
