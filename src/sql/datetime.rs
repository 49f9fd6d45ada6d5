//! Dates, times, timestamps, intervals and time zones: PostgreSQL's text input forms, its ISO
//! output, and the canonical sortable text bedrock-pg stores (UTC for timestamptz).

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};

use crate::error::{PgError, PgResult, code};

/// A session time zone: an IANA zone or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Named(chrono_tz::Tz),
    Fixed(FixedOffset),
}

impl Zone {
    pub const UTC: Zone = Zone::Named(chrono_tz::Tz::UTC);

    /// Parse a `TimeZone` setting: IANA names (any case), `UTC`/`GMT`/`Z`, or `±HH[:MM]`.
    pub fn parse(s: &str) -> Option<Zone> {
        let t = s.trim();
        let unq = t.trim_matches('\'');
        if unq.eq_ignore_ascii_case("utc") || unq.eq_ignore_ascii_case("z") || unq == "GMT" {
            return Some(Zone::UTC);
        }
        if let Ok(tz) = chrono_tz::Tz::from_str_insensitive(unq) {
            return Some(Zone::Named(tz));
        }
        parse_offset(unq).map(Zone::Fixed)
    }

    /// Offset from UTC at the given UTC instant.
    pub fn offset_at_utc(&self, utc: &NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Fixed(o) => *o,
            Zone::Named(tz) => tz.offset_from_utc_datetime(utc).fix(),
        }
    }

    /// Interpret a local wall-clock time in this zone (earliest choice on a DST fold,
    /// shifted forward across a gap, as PostgreSQL does).
    pub fn local_to_utc(&self, local: &NaiveDateTime) -> NaiveDateTime {
        match self {
            Zone::Fixed(o) => *local - Duration::seconds(o.local_minus_utc() as i64),
            Zone::Named(tz) => match tz.from_local_datetime(local) {
                chrono::LocalResult::Single(d) => d.naive_utc(),
                chrono::LocalResult::Ambiguous(a, _) => a.naive_utc(),
                chrono::LocalResult::None => {
                    let shifted = *local + Duration::hours(1);
                    match tz.from_local_datetime(&shifted) {
                        chrono::LocalResult::Single(d) | chrono::LocalResult::Ambiguous(d, _) => {
                            d.naive_utc()
                        }
                        chrono::LocalResult::None => *local,
                    }
                }
            },
        }
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(o) => format_offset(o.local_minus_utc()),
        }
    }
}

/// `±HH`, `±HHMM`, `±HH:MM`, `±HH:MM:SS`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = if rest.contains(':') {
        rest.split(':').collect()
    } else if rest.len() == 4 {
        vec![&rest[..2], &rest[2..]]
    } else {
        vec![rest]
    };
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
        return None;
    }
    let mut secs = 0i32;
    for (i, p) in parts.iter().enumerate() {
        let v: i32 = p.parse().ok()?;
        secs += v * [3600, 60, 1][i];
    }
    if secs > 15 * 3600 + 59 * 60 {
        return None;
    }
    FixedOffset::east_opt(sign * secs)
}

/// `+01`, `+05:30`, `-03:00:15` as PostgreSQL prints offsets.
pub fn format_offset(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m, s) = (a / 3600, (a / 60) % 60, a % 60);
    if s != 0 {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    } else if m != 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}")
    }
}

fn bad(ty: &str, s: &str) -> PgError {
    PgError::new(
        code::INVALID_DATETIME_FORMAT,
        format!("invalid input syntax for type {ty}: \"{s}\""),
    )
}

fn out_of_range(ty: &str, s: &str) -> PgError {
    PgError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("date/time field value out of range: \"{s}\""),
    )
    .with_hint(format!("the value is not a valid {ty}"))
}

/// PostgreSQL's epoch for binary date/time values: 2000-01-01.
pub fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// Pieces of a date/time literal.
struct Parsed {
    date: Option<NaiveDate>,
    time: Option<NaiveTime>,
    offset: Option<FixedOffset>,
    zone: Option<Zone>,
}

fn parse_time_part(s: &str) -> Option<NaiveTime> {
    let mut it = s.splitn(3, ':');
    let h: u32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let (sec, nanos) = match it.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            if whole.is_empty() || whole.len() > 2 || !whole.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let w: u32 = whole.parse().ok()?;
            // Round to microseconds, as PostgreSQL does.
            let mut digits: String = frac.chars().take(7).collect();
            while digits.len() < 7 {
                digits.push('0');
            }
            let tenth_micros: u64 = digits.parse().ok()?;
            let micros = (tenth_micros + 5) / 10;
            (w, micros as u32 * 1000)
        }
    };
    if h == 24 && m == 0 && sec == 0 && nanos == 0 {
        return NaiveTime::from_hms_opt(23, 59, 59).map(|t| t + Duration::seconds(1));
    }
    if nanos >= 1_000_000_000 {
        return NaiveTime::from_hms_opt(h, m, sec).map(|t| t + Duration::seconds(1));
    }
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

fn parse_date_part(s: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 3 || parts[0].len() < 4 {
        return None;
    }
    let y: i32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let d: u32 = parts[2].parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// A month name (full or abbreviated, as PostgreSQL accepts them) to 1..=12.
fn month_of(word: &str) -> Option<u32> {
    if word.len() < 3 {
        return None;
    }
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .zip(full)
        .position(|(abbr, full)| {
            word == *abbr || word == full || (word == "sept" && *abbr == "sep")
        })
        .map(|i| i as u32 + 1)
}

fn is_day_name(word: &str) -> bool {
    let full = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    DAYS.contains(&word)
        || full.contains(&word)
        || ["tues", "wednes", "thur", "thurs"].contains(&word)
}

/// A two-digit year as PostgreSQL reads it (70..99 → 19xx, 00..69 → 20xx).
fn full_year(digits: &str, y: i32) -> i32 {
    if digits.len() == 2 {
        if y < 70 { 2000 + y } else { 1900 + y }
    } else {
        y
    }
}

/// Pieces of a date being assembled from fields.
#[derive(Default)]
struct DateFields {
    year: Option<(i32, usize)>,
    month: Option<u32>,
    day: Option<u32>,
    /// Bare numbers not yet placed (next to a month name).
    loose: Vec<(String, i64)>,
}

/// Split PostgreSQL date/time input (ISO, `Month D, YYYY`, `D Mon YYYY`, `MM/DD/YYYY`,
/// `YYYYMMDD`, `HH:MM[:SS[.f]] [AM|PM]`, `T` separators, offsets and zone names) into pieces.
fn parse_parts(input: &str, ty: &str) -> PgResult<Parsed> {
    let mut out = Parsed {
        date: None,
        time: None,
        offset: None,
        zone: None,
    };
    let bad_input = || bad(ty, input);
    let range = || out_of_range(ty, input);
    // ISO 8601 `dateTtime`: a T between digits separates the fields.
    let mut norm = String::with_capacity(input.len());
    let chars: Vec<char> = input.trim().chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let between_digits = i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if ((*c == 'T' || *c == 't') && between_digits) || *c == ',' {
            norm.push(' ');
        } else {
            norm.push(*c);
        }
    }
    // A time token may carry its offset: `13:45:10+02`, `19:05:00-08:00`, `10:00Z`.
    let mut tokens: Vec<String> = Vec::new();
    for tok in norm.split_whitespace() {
        if tok.contains(':') && !tok.starts_with(['+', '-']) {
            if let Some(i) = tok
                .char_indices()
                .skip(1)
                .find(|(_, c)| *c == '+' || *c == '-')
                .map(|(i, _)| i)
            {
                tokens.push(tok[..i].to_string());
                tokens.push(tok[i..].to_string());
                continue;
            }
            if let Some(t) = tok.strip_suffix(['z', 'Z']) {
                tokens.push(t.to_string());
                tokens.push("z".to_string());
                continue;
            }
        }
        tokens.push(tok.to_string());
    }
    if tokens.is_empty() {
        return Err(bad_input());
    }
    let mut d = DateFields::default();
    let mut have_date_token = false;
    let mut pm: Option<bool> = None;
    let mut bc = false;
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i].as_str();
        let lower = tok.to_ascii_lowercase();
        i += 1;
        // Time of day.
        if tok.contains(':') && tok.as_bytes()[0].is_ascii_digit() {
            if out.time.is_some() {
                return Err(bad_input());
            }
            out.time = Some(parse_time_part(tok).ok_or_else(range)?);
            continue;
        }
        // A numeric offset after a date or time.
        if tok.starts_with(['+', '-']) && tok.len() > 1 && (out.time.is_some() || have_date_token) {
            out.offset = Some(parse_offset(tok).ok_or_else(bad_input)?);
            continue;
        }
        // Dates with separators: 2024-02-29, 02/29/2024, 2024.02.29, 05-Jan-2023.
        if let Some(sep) = ['-', '/', '.'].into_iter().find(|c| tok.contains(*c))
            && (tok.as_bytes()[0].is_ascii_digit()
                || tok
                    .split(sep)
                    .next()
                    .is_some_and(|p| month_of(&p.to_ascii_lowercase()).is_some()))
        {
            let parts: Vec<&str> = tok.split(sep).collect();
            if parts.len() != 3 || have_date_token {
                return Err(bad_input());
            }
            have_date_token = true;
            let month_at = parts
                .iter()
                .position(|p| month_of(&p.to_ascii_lowercase()).is_some());
            let num = |p: &str| -> PgResult<i64> {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 9 {
                    return Err(bad_input());
                }
                p.parse::<i64>().map_err(|_| bad_input())
            };
            match month_at {
                Some(m) => {
                    d.month = month_of(&parts[m].to_ascii_lowercase());
                    let others: Vec<&str> = parts
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != m)
                        .map(|(_, p)| *p)
                        .collect();
                    let (yi, di) = if others[0].len() >= 3 { (0, 1) } else { (1, 0) };
                    let y = num(others[yi])?;
                    d.year = Some((full_year(others[yi], y as i32), others[yi].len()));
                    d.day = Some(num(others[di])? as u32);
                }
                None => {
                    let v: Vec<i64> = parts.iter().map(|p| num(p)).collect::<PgResult<_>>()?;
                    if parts[0].len() >= 3 {
                        // Y-M-D
                        d.year = Some((v[0] as i32, parts[0].len()));
                        d.month = Some(v[1] as u32);
                        d.day = Some(v[2] as u32);
                    } else {
                        // M-D-Y (DateStyle MDY)
                        d.month = Some(v[0] as u32);
                        d.day = Some(v[1] as u32);
                        d.year = Some((full_year(parts[2], v[2] as i32), parts[2].len()));
                    }
                }
            }
            continue;
        }
        // Pure digits: YYYYMMDD, or a day/year next to a month name.
        if tok.bytes().all(|b| b.is_ascii_digit()) {
            if tok.len() == 8 && !have_date_token && d.month.is_none() {
                have_date_token = true;
                d.year = Some((tok[..4].parse().map_err(|_| bad_input())?, 4));
                d.month = Some(tok[4..6].parse().map_err(|_| bad_input())?);
                d.day = Some(tok[6..].parse().map_err(|_| bad_input())?);
                continue;
            }
            let v: i64 = tok.parse().map_err(|_| bad_input())?;
            d.loose.push((tok.to_string(), v));
            continue;
        }
        if let Some(m) = month_of(&lower) {
            if d.month.is_some() {
                return Err(bad_input());
            }
            d.month = Some(m);
            continue;
        }
        match lower.as_str() {
            "am" | "a.m." => pm = Some(false),
            "pm" | "p.m." => pm = Some(true),
            "bc" => bc = true,
            "ad" => {}
            "z" | "zulu" | "utc" | "gmt" | "ut" => out.offset = FixedOffset::east_opt(0),
            w if is_day_name(w) => {}
            _ => {
                if out.time.is_none() && !have_date_token && d.month.is_none() {
                    return Err(bad_input());
                }
                match Zone::parse(tok) {
                    Some(z) => out.zone = Some(z),
                    None => {
                        return Err(PgError::new(
                            code::INVALID_PARAMETER_VALUE,
                            format!("time zone \"{tok}\" not recognized"),
                        ));
                    }
                }
            }
        }
    }
    // Place loose numbers: with a month name, the 3+ digit (or > 31) one is the year.
    if !d.loose.is_empty() {
        if d.month.is_none() || have_date_token || d.loose.len() > 2 {
            return Err(bad_input());
        }
        for (digits, v) in std::mem::take(&mut d.loose) {
            let yearish = digits.len() >= 3 || v > 31;
            if yearish && d.year.is_none() {
                d.year = Some((v as i32, digits.len()));
            } else if d.day.is_none() {
                d.day = Some(v as u32);
            } else if d.year.is_none() {
                d.year = Some((full_year(&digits, v as i32), digits.len()));
            } else {
                return Err(bad_input());
            }
        }
    }
    match (d.year, d.month, d.day) {
        (Some((y, _)), Some(m), Some(day)) => {
            let y = if bc { 1 - y } else { y };
            out.date = Some(NaiveDate::from_ymd_opt(y, m, day).ok_or_else(range)?);
        }
        (None, None, None) => {}
        _ => return Err(bad_input()),
    }
    if let Some(p) = pm {
        let t = out.time.ok_or_else(bad_input)?;
        let h = t.hour();
        if h == 0 || h > 12 {
            return Err(range());
        }
        let h24 = match (p, h) {
            (false, 12) => 0,
            (false, h) => h,
            (true, 12) => 12,
            (true, h) => h + 12,
        };
        out.time = t.with_hour(h24);
    }
    Ok(out)
}

fn special(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => Some("infinity"),
        "-infinity" => Some("-infinity"),
        _ => None,
    }
}

/// Canonical text of a timestamp without time zone.
pub fn format_timestamp(t: &NaiveDateTime) -> String {
    let (year, bc) = if t.year() <= 0 {
        (1 - t.year(), " BC")
    } else {
        (t.year(), "")
    };
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        year,
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    push_micros(&mut s, t.nanosecond() / 1000);
    s.push_str(bc);
    s
}

fn push_micros(s: &mut String, micros: u32) {
    if micros > 0 {
        let mut f = format!(".{micros:06}");
        while f.ends_with('0') {
            f.pop();
        }
        s.push_str(&f);
    }
}

pub fn format_time(t: &NaiveTime) -> String {
    let mut s = format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second());
    push_micros(&mut s, t.nanosecond() / 1000);
    s
}

pub fn format_date(d: &NaiveDate) -> String {
    if d.year() <= 0 {
        format!("{:04}-{:02}-{:02} BC", 1 - d.year(), d.month(), d.day())
    } else {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

/// Input for `date`.
pub fn parse_date(s: &str) -> PgResult<String> {
    if let Some(sp) = special(s) {
        return Ok(sp.to_string());
    }
    match s.trim().to_ascii_lowercase().as_str() {
        "epoch" => return Ok("1970-01-01".into()),
        "today" | "now" => return Ok(format_date(&Utc::now().date_naive())),
        _ => {}
    }
    let p = parse_parts(s, "date")?;
    let d = p.date.ok_or_else(|| bad("date", s))?;
    Ok(format_date(&d))
}

/// Input for `time`.
pub fn parse_time(s: &str) -> PgResult<String> {
    let p = parse_parts(s, "time without time zone")?;
    let t = p.time.ok_or_else(|| bad("time without time zone", s))?;
    Ok(format_time(&t))
}

/// Input for `timestamp` (a zone, if present, is ignored as in PostgreSQL).
pub fn parse_timestamp(s: &str) -> PgResult<String> {
    if let Some(sp) = special(s) {
        return Ok(sp.to_string());
    }
    if s.trim().eq_ignore_ascii_case("epoch") {
        return Ok("1970-01-01 00:00:00".into());
    }
    let p = parse_parts(s, "timestamp")?;
    let d = p.date.ok_or_else(|| bad("timestamp", s))?;
    let t = p.time.unwrap_or(NaiveTime::MIN);
    Ok(format_timestamp(&d.and_time(t)))
}

/// Parse a timestamptz literal to a UTC instant (local times are read in `zone`).
pub fn parse_timestamptz_utc(s: &str, zone: &Zone) -> PgResult<Option<NaiveDateTime>> {
    if special(s).is_some() {
        return Ok(None);
    }
    if s.trim().eq_ignore_ascii_case("epoch") {
        return Ok(Some(DateTime::<Utc>::UNIX_EPOCH.naive_utc()));
    }
    let p = parse_parts(s, "timestamp with time zone")?;
    let d = p.date.ok_or_else(|| bad("timestamp with time zone", s))?;
    let local = d.and_time(p.time.unwrap_or(NaiveTime::MIN));
    Ok(Some(match (p.offset, p.zone) {
        (Some(o), _) => local - Duration::seconds(o.local_minus_utc() as i64),
        (None, Some(z)) => z.local_to_utc(&local),
        (None, None) => zone.local_to_utc(&local),
    }))
}

/// Input for `timestamptz`: canonical `YYYY-MM-DD HH:MM:SS[.f]+00` in UTC.
pub fn parse_timestamptz(s: &str, zone: &Zone) -> PgResult<String> {
    match parse_timestamptz_utc(s, zone)? {
        None => Ok(special(s).unwrap_or("infinity").to_string()),
        Some(utc) => Ok(format_timestamptz_utc(&utc)),
    }
}

pub fn format_timestamptz_utc(utc: &NaiveDateTime) -> String {
    format!("{}+00", format_timestamp(utc))
}

/// Read a stored canonical timestamp (with or without the `+00` suffix).
pub fn stored_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.strip_suffix("+00").unwrap_or(s);
    let (d, t) = s.split_once(' ')?;
    Some(parse_date_part(d)?.and_time(parse_time_part(t)?))
}

pub fn stored_date(s: &str) -> Option<NaiveDate> {
    parse_date_part(s)
}

pub fn stored_time(s: &str) -> Option<NaiveTime> {
    parse_time_part(s)
}

/// Output a stored timestamptz in the session zone, ISO style.
pub fn timestamptz_out(stored: &str, zone: &Zone) -> String {
    let Some(utc) = stored_timestamp(stored) else {
        return stored.to_string();
    };
    let off = zone.offset_at_utc(&utc);
    let local = utc + Duration::seconds(off.local_minus_utc() as i64);
    format!(
        "{}{}",
        format_timestamp(&local),
        format_offset(off.local_minus_utc())
    )
}

/// Microseconds since 2000-01-01 (binary timestamp form).
pub fn micros_since_pg_epoch(t: &NaiveDateTime) -> i64 {
    (*t - pg_epoch()).num_microseconds().unwrap_or(i64::MAX)
}

pub fn from_micros_since_pg_epoch(m: i64) -> Option<NaiveDateTime> {
    pg_epoch().checked_add_signed(Duration::microseconds(m))
}

/// An interval: PostgreSQL keeps months, days and microseconds apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;

impl Interval {
    /// PostgreSQL's `postgres` IntervalStyle: `1 year 2 mons 3 days 04:05:06.5`.
    pub fn format_postgres(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        // PostgreSQL prefixes a positive field with '+' when the field before it was negative.
        let mut is_before = false;
        for (n, unit) in [
            (self.months as i64 / 12, "year"),
            (self.months as i64 % 12, "mon"),
            (self.days as i64, "day"),
        ] {
            if n == 0 {
                continue;
            }
            let plus = if is_before && n > 0 { "+" } else { "" };
            let s = if n == 1 { "" } else { "s" };
            parts.push(format!("{plus}{n} {unit}{s}"));
            is_before = n < 0;
        }
        if self.micros != 0 || parts.is_empty() {
            let neg = self.micros < 0;
            let a = self.micros.unsigned_abs();
            let secs = a / 1_000_000;
            let sign = if neg {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            };
            let mut t = format!(
                "{sign}{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            );
            push_micros(&mut t, (a % 1_000_000) as u32);
            parts.push(t);
        }
        parts.join(" ")
    }

    /// ISO 8601 `P1Y2M3DT4H5M6S` (IntervalStyle `iso_8601`).
    pub fn format_iso(&self) -> String {
        if self.months == 0 && self.days == 0 && self.micros == 0 {
            return "PT0S".into();
        }
        let mut s = String::from("P");
        let (y, m) = (self.months / 12, self.months % 12);
        if y != 0 {
            s.push_str(&format!("{y}Y"));
        }
        if m != 0 {
            s.push_str(&format!("{m}M"));
        }
        if self.days != 0 {
            s.push_str(&format!("{}D", self.days));
        }
        if self.micros != 0 {
            s.push('T');
            let neg = self.micros < 0;
            let a = self.micros.unsigned_abs();
            let secs = a / 1_000_000;
            let (h, mi, se, us) = (secs / 3600, (secs / 60) % 60, secs % 60, a % 1_000_000);
            let sign = if neg { "-" } else { "" };
            if h != 0 {
                s.push_str(&format!("{sign}{h}H"));
            }
            if mi != 0 {
                s.push_str(&format!("{sign}{mi}M"));
            }
            if se != 0 || us != 0 {
                let mut v = format!("{sign}{se}");
                push_micros(&mut v, us as u32);
                s.push_str(&v);
                s.push('S');
            }
        }
        s
    }

    /// Total length in microseconds, treating a month as 30 days (PostgreSQL's comparison rule).
    pub fn cmp_key(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * USECS_PER_DAY as i128 + self.micros as i128
    }

    pub fn neg(&self) -> Interval {
        Interval {
            months: self.months.saturating_neg(),
            days: self.days.saturating_neg(),
            micros: self.micros.saturating_neg(),
        }
    }

    pub fn add(&self, o: &Interval) -> Interval {
        Interval {
            months: self.months.saturating_add(o.months),
            days: self.days.saturating_add(o.days),
            micros: self.micros.saturating_add(o.micros),
        }
    }

    pub fn mul(&self, f: f64) -> Interval {
        // Spill fractional months into days and fractional days into time, as PostgreSQL does.
        let months_f = self.months as f64 * f;
        let months = months_f.trunc();
        let days_f = self.days as f64 * f + (months_f - months) * 30.0;
        let days = days_f.trunc();
        let micros = (self.micros as f64 * f + (days_f - days) * USECS_PER_DAY as f64).round();
        Interval {
            months: months as i32,
            days: days as i32,
            micros: micros as i64,
        }
    }

    pub fn from_micros(micros: i64) -> Interval {
        Interval {
            months: 0,
            days: 0,
            micros,
        }
    }

    /// `justify_hours`-free conversion used by `extract(epoch from interval)`.
    pub fn epoch_seconds(&self) -> f64 {
        let years = self.months / 12;
        let months = self.months % 12;
        years as f64 * 365.25 * 86400.0
            + months as f64 * 30.0 * 86400.0
            + self.days as f64 * 86400.0
            + self.micros as f64 / 1e6
    }
}

fn interval_bad(s: &str) -> PgError {
    PgError::new(
        code::INVALID_DATETIME_FORMAT,
        format!("invalid input syntax for type interval: \"{s}\""),
    )
}

/// Parse PostgreSQL interval input: `1 day 02:00:00`, `3 hours`, `-1 year 2 mons`, `@ 1 hour ago`,
/// `1:30`, `P1Y2M3DT4H5M6S`.
pub fn parse_interval(input: &str) -> PgResult<Interval> {
    let s = input.trim();
    if s.is_empty() {
        return Err(interval_bad(input));
    }
    if let Some(iso) = s.strip_prefix('P').or_else(|| s.strip_prefix('p')) {
        return parse_iso_interval(iso).ok_or_else(|| interval_bad(input));
    }
    let mut iv = Interval::default();
    let lower = s.to_ascii_lowercase();
    let mut tokens: Vec<&str> = lower.split_whitespace().collect();
    if tokens.first() == Some(&"@") {
        tokens.remove(0);
    }
    let ago = tokens.last() == Some(&"ago");
    if ago {
        tokens.pop();
    }
    let mut i = 0;
    let mut any = false;
    while i < tokens.len() {
        let tok = tokens[i];
        if tok.contains(':') {
            let (neg, body) = match tok.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, tok.strip_prefix('+').unwrap_or(tok)),
            };
            let parts: Vec<&str> = body.split(':').collect();
            if parts.len() < 2 || parts.len() > 3 {
                return Err(interval_bad(input));
            }
            let h: i64 = parts[0].parse().map_err(|_| interval_bad(input))?;
            let m: i64 = parts[1].parse().map_err(|_| interval_bad(input))?;
            let sec: f64 = match parts.get(2) {
                Some(p) => p.parse().map_err(|_| interval_bad(input))?,
                None => 0.0,
            };
            let us = h
                .checked_mul(3600 * USECS_PER_SEC)
                .and_then(|v| v.checked_add(m.checked_mul(60 * USECS_PER_SEC)?))
                .and_then(|v| {
                    let f = (sec * 1e6).round();
                    if f.is_finite() && f.abs() < i64::MAX as f64 {
                        v.checked_add(f as i64)
                    } else {
                        None
                    }
                })
                .ok_or_else(|| interval_bad(input))?;
            let us = if neg { -us } else { us };
            iv.micros = iv
                .micros
                .checked_add(us)
                .ok_or_else(|| interval_bad(input))?;
            any = true;
            i += 1;
            continue;
        }
        // A number, optionally glued to its unit ("3days"), else followed by a unit.
        let split = tok
            .char_indices()
            .find(|(idx, c)| c.is_ascii_alphabetic() && *idx > 0)
            .map(|(idx, _)| idx);
        let (num_s, unit_s): (&str, String) = match split {
            Some(idx) => (&tok[..idx], tok[idx..].to_string()),
            None => {
                let unit = tokens.get(i + 1).map(|u| u.to_string());
                match unit {
                    Some(u) if u.chars().all(|c| c.is_ascii_alphabetic()) => {
                        i += 1;
                        (tok, u)
                    }
                    // A bare number means seconds.
                    _ => (tok, "second".to_string()),
                }
            }
        };
        let n: f64 = num_s.parse().map_err(|_| interval_bad(input))?;
        let unit = unit_s.trim_end_matches(',');
        add_unit(&mut iv, n, unit).ok_or_else(|| interval_bad(input))?;
        any = true;
        i += 1;
    }
    if !any {
        return Err(interval_bad(input));
    }
    Ok(if ago { iv.neg() } else { iv })
}

fn add_unit(iv: &mut Interval, n: f64, unit: &str) -> Option<()> {
    // Checked arithmetic throughout: out-of-range input is an error, never an overflow.
    fn add_i32(a: &mut i32, v: f64) -> Option<()> {
        if !v.is_finite() || v.abs() > i32::MAX as f64 {
            return None;
        }
        *a = a.checked_add(v as i32)?;
        Some(())
    }
    fn add_i64(a: &mut i64, v: f64) -> Option<()> {
        if !v.is_finite() || v.abs() >= i64::MAX as f64 {
            return None;
        }
        *a = a.checked_add(v as i64)?;
        Some(())
    }
    let month_units = |m: f64, iv: &mut Interval| -> Option<()> {
        let whole = m.trunc();
        add_i32(&mut iv.months, whole)?;
        let days = (m - whole) * 30.0;
        add_i32(&mut iv.days, days.trunc())?;
        add_i64(
            &mut iv.micros,
            ((days - days.trunc()) * USECS_PER_DAY as f64).round(),
        )
    };
    let day_units = |d: f64, iv: &mut Interval| -> Option<()> {
        let whole = d.trunc();
        add_i32(&mut iv.days, whole)?;
        add_i64(&mut iv.micros, ((d - whole) * USECS_PER_DAY as f64).round())
    };
    match unit {
        "microsecond" | "microseconds" | "us" | "usec" | "usecs" => {
            add_i64(&mut iv.micros, n.round())
        }
        "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => {
            add_i64(&mut iv.micros, (n * 1000.0).round())
        }
        "second" | "seconds" | "s" | "sec" | "secs" => add_i64(&mut iv.micros, (n * 1e6).round()),
        "minute" | "minutes" | "m" | "min" | "mins" => add_i64(&mut iv.micros, (n * 60e6).round()),
        "hour" | "hours" | "h" | "hr" | "hrs" => add_i64(&mut iv.micros, (n * 3600e6).round()),
        "day" | "days" | "d" => day_units(n, iv),
        "week" | "weeks" | "w" => day_units(n * 7.0, iv),
        "month" | "months" | "mon" | "mons" => month_units(n, iv),
        "year" | "years" | "y" | "yr" | "yrs" => month_units(n * 12.0, iv),
        "decade" | "decades" => month_units(n * 120.0, iv),
        "century" | "centuries" => month_units(n * 1200.0, iv),
        "millennium" | "millennia" | "millenniums" => month_units(n * 12000.0, iv),
        _ => None,
    }
}

fn parse_iso_interval(s: &str) -> Option<Interval> {
    let mut iv = Interval::default();
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut num = String::new();
    for c in date.chars() {
        if c.is_ascii_digit() || c == '.' || c == '-' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        let unit = match c.to_ascii_uppercase() {
            'Y' => "year",
            'M' => "month",
            'W' => "week",
            'D' => "day",
            _ => return None,
        };
        add_unit(&mut iv, n, unit)?;
    }
    if !num.is_empty() {
        return None;
    }
    if let Some(t) = time {
        for c in t.chars() {
            if c.is_ascii_digit() || c == '.' || c == '-' {
                num.push(c);
                continue;
            }
            let n: f64 = num.parse().ok()?;
            num.clear();
            let unit = match c.to_ascii_uppercase() {
                'H' => "hour",
                'M' => "minute",
                'S' => "second",
                _ => return None,
            };
            add_unit(&mut iv, n, unit)?;
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(iv)
}

/// Add an interval to a timestamp (months first, then days, then time — PostgreSQL's order).
pub fn add_interval(t: &NaiveDateTime, iv: &Interval) -> Option<NaiveDateTime> {
    let mut r = *t;
    if iv.months != 0 {
        let total = r.year() as i64 * 12 + r.month0() as i64 + iv.months as i64;
        let (y, m0) = (total.div_euclid(12) as i32, total.rem_euclid(12) as u32);
        let mut day = r.day();
        let date = loop {
            if let Some(d) = NaiveDate::from_ymd_opt(y, m0 + 1, day) {
                break d;
            }
            day -= 1;
            if day == 0 {
                return None;
            }
        };
        r = date.and_time(r.time());
    }
    r = r.checked_add_signed(Duration::days(iv.days as i64))?;
    r.checked_add_signed(Duration::microseconds(iv.micros))
}

/// `a - b` for timestamps: days and time, as PostgreSQL's `timestamp_mi` (justified hours).
pub fn timestamp_diff(a: &NaiveDateTime, b: &NaiveDateTime) -> Interval {
    let us = (*a - *b).num_microseconds().unwrap_or(0);
    let days = us / USECS_PER_DAY;
    Interval {
        months: 0,
        days: days as i32,
        micros: us - days * USECS_PER_DAY,
    }
}

/// Parse a stored interval (our canonical text is the `postgres` output style).
pub fn stored_interval(s: &str) -> Option<Interval> {
    parse_interval(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_timestamp("2024-01-02 03:04:05.5").unwrap(),
            "2024-01-02 03:04:05.5"
        );
        assert_eq!(
            parse_timestamp("2024-01-02T03:04:05").unwrap(),
            "2024-01-02 03:04:05"
        );
        assert_eq!(
            parse_timestamp("2024-01-02").unwrap(),
            "2024-01-02 00:00:00"
        );
        assert!(parse_timestamp("nope").is_err());
        let utc = Zone::UTC;
        assert_eq!(
            parse_timestamptz("2024-01-02 03:04:05+02", &utc).unwrap(),
            "2024-01-02 01:04:05+00"
        );
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(
            parse_timestamptz("2024-07-01 12:00:00", &paris).unwrap(),
            "2024-07-01 10:00:00+00"
        );
        assert_eq!(
            timestamptz_out("2024-07-01 10:00:00+00", &paris),
            "2024-07-01 12:00:00+02"
        );
        assert_eq!(
            timestamptz_out("2024-07-01 10:00:00+00", &utc),
            "2024-07-01 10:00:00+00"
        );
    }

    #[test]
    fn intervals() {
        let iv = parse_interval("1 day 02:00:00").unwrap();
        assert_eq!(
            iv,
            Interval {
                months: 0,
                days: 1,
                micros: 2 * 3600 * 1_000_000
            }
        );
        assert_eq!(iv.format_postgres(), "1 day 02:00:00");
        assert_eq!(
            parse_interval("1 year 2 mons").unwrap().format_postgres(),
            "1 year 2 mons"
        );
        assert_eq!(
            parse_interval("3 hours").unwrap().format_postgres(),
            "03:00:00"
        );
        assert_eq!(
            parse_interval("-1 day").unwrap().format_postgres(),
            "-1 days"
        );
        assert_eq!(
            parse_interval("1.5 days").unwrap().format_postgres(),
            "1 day 12:00:00"
        );
        assert_eq!(
            parse_interval("P1Y2M3DT4H5M6S").unwrap().format_postgres(),
            "1 year 2 mons 3 days 04:05:06"
        );
        assert_eq!(parse_interval("0").unwrap().format_postgres(), "00:00:00");
        assert!(parse_interval("banana").is_err());
        assert_eq!(
            parse_interval("-3 months 4 days -1 hour")
                .unwrap()
                .format_postgres(),
            "-3 mons +4 days -01:00:00"
        );
        assert_eq!(
            parse_interval("-1 day 2 hours").unwrap().format_postgres(),
            "-1 days +02:00:00"
        );
    }

    #[test]
    fn input_forms() {
        for (input, want) in [
            ("January 5, 2023", "2023-01-05"),
            ("5 Jan 2023", "2023-01-05"),
            ("Thursday, January 5, 2023", "2023-01-05"),
            ("01/05/2023", "2023-01-05"),
            ("2023/01/05", "2023-01-05"),
            ("20230105", "2023-01-05"),
            ("05-Jan-2023", "2023-01-05"),
            ("2023-01-05 19:05:00-08", "2023-01-05"),
        ] {
            assert_eq!(parse_date(input).unwrap(), want, "{input}");
        }
        assert_eq!(parse_time("7:05 PM").unwrap(), "19:05:00");
        assert_eq!(parse_time("12:30 am").unwrap(), "00:30:00");
        assert_eq!(parse_time("13:45:10.5").unwrap(), "13:45:10.5");
        assert!(
            parse_timestamp("Jan 5 2023 7:05pm").is_err(),
            "pm glued to the time is not accepted"
        );
        assert_eq!(
            parse_timestamp("January 5, 2023 7:05 PM").unwrap(),
            "2023-01-05 19:05:00"
        );
        assert_eq!(
            parse_timestamptz("2023-01-05T19:05:00Z", &Zone::UTC).unwrap(),
            "2023-01-05 19:05:00+00"
        );
        assert_eq!(
            parse_timestamptz("2023-01-05 19:05:00 America/New_York", &Zone::UTC).unwrap(),
            "2023-01-06 00:05:00+00"
        );
        assert_eq!(
            parse_date("2024-02-30").unwrap_err().code,
            code::DATETIME_FIELD_OVERFLOW
        );
        assert_eq!(
            parse_date("garbage").unwrap_err().code,
            code::INVALID_DATETIME_FORMAT
        );
        assert_eq!(
            parse_time("25:00").unwrap_err().code,
            code::DATETIME_FIELD_OVERFLOW
        );
    }
}
