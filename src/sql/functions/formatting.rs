//! PostgreSQL's template formatting (`formatting.c`): `to_char` for timestamps, dates, intervals
//! and numbers, `to_timestamp(text, fmt)`, `to_date` and `to_number`. The template parser, the
//! keyword tables and the number processor follow PostgreSQL's so that padding, `FM`, `TH`,
//! signs and overflow (`###`) come out the same. Names are English (the C locale, so `TM` only
//! drops padding), `SP` is accepted and ignored as in PostgreSQL, and the `B`/`C` number
//! patterns print nothing.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::{DET, Shared, float_arg, lock, text_arg, udf_err};
use crate::error::{PgError, PgResult, code};
use crate::sql::datetime::{self as dt, Interval, Zone};
use crate::sql::types::{PgType, Scalar};

// ---------------------------------------------------------------- template parsing

/// Template keywords, named as PostgreSQL spells them (lower-case variants are its lower-case
/// spellings).
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum K {
    // date/time
    ADdot,
    AMdot,
    AD,
    AM,
    BCdot,
    BC,
    CC,
    DAY,
    DDD,
    DD,
    DY,
    Day,
    Dy,
    D,
    FF(u32),
    FX,
    HH24,
    HH12,
    HH,
    IDDD,
    ID,
    IW,
    IYYY,
    IYY,
    IY,
    I,
    J,
    MI,
    MM,
    MONTH,
    MON,
    MS,
    Month,
    Mon,
    OF,
    PMdot,
    PM,
    Q,
    RM,
    SSSS,
    SS,
    TZH,
    TZM,
    TZ,
    US,
    WW,
    W,
    YComma,
    YYYY,
    YYY,
    YY,
    Y,
    adot,
    amdot,
    ad,
    am,
    bcdot,
    bc,
    day,
    dy,
    month,
    mon,
    pmdot,
    pm,
    rm,
    tz,
    // numbers
    NComma,
    NDec,
    N0,
    N9,
    NB,
    NC,
    ND,
    NE,
    NFM,
    NG,
    NL,
    NMI,
    NPL,
    NPR,
    NRN,
    Nrn,
    NSG,
    NSP,
    NS,
    NTH,
    Nth,
    NV,
}

const DCH_KEYWORDS: &[(&str, K)] = &[
    ("A.D.", K::ADdot),
    ("A.M.", K::AMdot),
    ("AD", K::AD),
    ("AM", K::AM),
    ("B.C.", K::BCdot),
    ("BC", K::BC),
    ("CC", K::CC),
    ("DAY", K::DAY),
    ("DDD", K::DDD),
    ("DD", K::DD),
    ("DY", K::DY),
    ("Day", K::Day),
    ("Dy", K::Dy),
    ("D", K::D),
    ("FF1", K::FF(1)),
    ("FF2", K::FF(2)),
    ("FF3", K::FF(3)),
    ("FF4", K::FF(4)),
    ("FF5", K::FF(5)),
    ("FF6", K::FF(6)),
    ("FX", K::FX),
    ("HH24", K::HH24),
    ("HH12", K::HH12),
    ("HH", K::HH),
    ("IDDD", K::IDDD),
    ("ID", K::ID),
    ("IW", K::IW),
    ("IYYY", K::IYYY),
    ("IYY", K::IYY),
    ("IY", K::IY),
    ("I", K::I),
    ("J", K::J),
    ("MI", K::MI),
    ("MM", K::MM),
    ("MONTH", K::MONTH),
    ("MON", K::MON),
    ("MS", K::MS),
    ("Month", K::Month),
    ("Mon", K::Mon),
    ("OF", K::OF),
    ("P.M.", K::PMdot),
    ("PM", K::PM),
    ("Q", K::Q),
    ("RM", K::RM),
    ("SSSSS", K::SSSS),
    ("SSSS", K::SSSS),
    ("SS", K::SS),
    ("TZH", K::TZH),
    ("TZM", K::TZM),
    ("TZ", K::TZ),
    ("US", K::US),
    ("WW", K::WW),
    ("W", K::W),
    ("Y,YYY", K::YComma),
    ("YYYY", K::YYYY),
    ("YYY", K::YYY),
    ("YY", K::YY),
    ("Y", K::Y),
    ("a.d.", K::adot),
    ("a.m.", K::amdot),
    ("ad", K::ad),
    ("am", K::am),
    ("b.c.", K::bcdot),
    ("bc", K::bc),
    ("cc", K::CC),
    ("day", K::day),
    ("ddd", K::DDD),
    ("dd", K::DD),
    ("dy", K::dy),
    ("d", K::D),
    ("ff1", K::FF(1)),
    ("ff2", K::FF(2)),
    ("ff3", K::FF(3)),
    ("ff4", K::FF(4)),
    ("ff5", K::FF(5)),
    ("ff6", K::FF(6)),
    ("fx", K::FX),
    ("hh24", K::HH24),
    ("hh12", K::HH12),
    ("hh", K::HH),
    ("iddd", K::IDDD),
    ("id", K::ID),
    ("iw", K::IW),
    ("iyyy", K::IYYY),
    ("iyy", K::IYY),
    ("iy", K::IY),
    ("i", K::I),
    ("j", K::J),
    ("mi", K::MI),
    ("mm", K::MM),
    ("month", K::month),
    ("mon", K::mon),
    ("ms", K::MS),
    ("of", K::OF),
    ("p.m.", K::pmdot),
    ("pm", K::pm),
    ("q", K::Q),
    ("rm", K::rm),
    ("sssss", K::SSSS),
    ("ssss", K::SSSS),
    ("ss", K::SS),
    ("tzh", K::TZH),
    ("tzm", K::TZM),
    ("tz", K::tz),
    ("us", K::US),
    ("ww", K::WW),
    ("w", K::W),
    ("y,yyy", K::YComma),
    ("yyyy", K::YYYY),
    ("yyy", K::YYY),
    ("yy", K::YY),
    ("y", K::Y),
];

const NUM_KEYWORDS: &[(&str, K)] = &[
    (",", K::NComma),
    (".", K::NDec),
    ("0", K::N0),
    ("9", K::N9),
    ("B", K::NB),
    ("C", K::NC),
    ("D", K::ND),
    ("EEEE", K::NE),
    ("FM", K::NFM),
    ("G", K::NG),
    ("L", K::NL),
    ("MI", K::NMI),
    ("PL", K::NPL),
    ("PR", K::NPR),
    ("RN", K::NRN),
    ("SG", K::NSG),
    ("SP", K::NSP),
    ("S", K::NS),
    ("TH", K::NTH),
    ("V", K::NV),
    ("b", K::NB),
    ("c", K::NC),
    ("d", K::ND),
    ("eeee", K::NE),
    ("fm", K::NFM),
    ("g", K::NG),
    ("l", K::NL),
    ("mi", K::NMI),
    ("pl", K::NPL),
    ("pr", K::NPR),
    ("rn", K::Nrn),
    ("sg", K::NSG),
    ("sp", K::NSP),
    ("s", K::NS),
    ("th", K::Nth),
    ("v", K::NV),
];

/// Suffix flags of one date/time keyword.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Suffix {
    fm: bool,
    tm: bool,
    th: bool,
    th_upper: bool,
    sp: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Action(K, Suffix),
    Char(char),
    Space(char),
    Separator(char),
}

fn is_separator(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_alphanumeric() && !c.is_ascii_whitespace() && c != '\0'
}

fn keyword_at(s: &[char], i: usize, table: &[(&'static str, K)]) -> Option<(K, usize)> {
    for (name, k) in table {
        let n = name.chars().count();
        if i + n <= s.len() && s[i..i + n].iter().copied().eq(name.chars()) {
            return Some((*k, n));
        }
    }
    None
}

fn parse_template(fmt: &str, numeric: bool) -> Vec<Node> {
    let s: Vec<char> = fmt.chars().collect();
    let table = if numeric { NUM_KEYWORDS } else { DCH_KEYWORDS };
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let mut suffix = Suffix::default();
        if !numeric && i + 1 < s.len() {
            let two: String = s[i..i + 2].iter().collect();
            match two.as_str() {
                "FM" | "fm" => {
                    suffix.fm = true;
                    i += 2;
                }
                "TM" | "tm" => {
                    suffix.tm = true;
                    i += 2;
                }
                _ => {}
            }
        }
        if i >= s.len() {
            break;
        }
        if let Some((k, n)) = keyword_at(&s, i, table) {
            i += n;
            if !numeric && i + 1 < s.len() {
                let two: String = s[i..i + 2].iter().collect();
                match two.as_str() {
                    "TH" => {
                        suffix.th = true;
                        suffix.th_upper = true;
                        i += 2;
                    }
                    "th" => {
                        suffix.th = true;
                        i += 2;
                    }
                    "SP" | "sp" => {
                        suffix.sp = true;
                        i += 2;
                    }
                    _ => {}
                }
            }
            out.push(Node::Action(k, suffix));
            continue;
        }
        let c = s[i];
        if c == '"' {
            i += 1;
            while i < s.len() {
                if s[i] == '"' {
                    i += 1;
                    break;
                }
                if s[i] == '\\' && i + 1 < s.len() {
                    i += 1;
                }
                out.push(Node::Char(s[i]));
                i += 1;
            }
            continue;
        }
        let c = if c == '\\' && s.get(i + 1) == Some(&'"') {
            i += 1;
            '"'
        } else {
            c
        };
        i += 1;
        out.push(if !numeric && is_separator(c) {
            Node::Separator(c)
        } else if c.is_whitespace() {
            Node::Space(c)
        } else {
            Node::Char(c)
        });
    }
    out
}

// ---------------------------------------------------------------- date/time to_char

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const RM_UPPER: [&str; 12] = [
    "XII", "XI", "X", "IX", "VIII", "VII", "VI", "V", "IV", "III", "II", "I",
];

/// PostgreSQL's `struct pg_tm` plus fraction and zone, for to_char.
#[derive(Debug, Clone, Default)]
struct Tm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    fsec: i64,
    wday: i64,
    yday: i64,
    gmtoff: i64,
    tzn: Option<String>,
    interval: bool,
    /// ISO year/week/day-of-year, computed for dates.
    iso: Option<(i64, i64, i64)>,
    julian: i64,
}

fn tm_of_datetime(t: &NaiveDateTime, gmtoff: i64, tzn: Option<String>) -> Tm {
    let d = t.date();
    let iw = d.iso_week();
    let iso_year_start = NaiveDate::from_isoywd_opt(iw.year(), 1, chrono::Weekday::Mon);
    let iso_yday = iso_year_start.map(|s| (d - s).num_days() + 1).unwrap_or(0);
    Tm {
        year: d.year() as i64,
        mon: d.month() as i64,
        mday: d.day() as i64,
        hour: t.hour() as i64,
        min: t.minute() as i64,
        sec: t.second() as i64,
        fsec: (t.nanosecond() / 1000) as i64,
        wday: d.weekday().num_days_from_sunday() as i64,
        yday: d.ordinal() as i64,
        gmtoff,
        tzn,
        interval: false,
        iso: Some((iw.year() as i64, iw.week() as i64, iso_yday)),
        julian: d.num_days_from_ce() as i64 + 1_721_425,
    }
}

fn tm_of_interval(iv: &Interval) -> Tm {
    let us = iv.micros;
    let hour = us / 3_600_000_000;
    let rem = us % 3_600_000_000;
    let year = (iv.months / 12) as i64;
    let mon = (iv.months % 12) as i64;
    Tm {
        year,
        mon,
        mday: iv.days as i64,
        hour,
        min: rem / 60_000_000,
        sec: (rem % 60_000_000) / 1_000_000,
        fsec: rem % 1_000_000,
        yday: (year * 12 + mon) * 30 + iv.days as i64,
        interval: true,
        ..Tm::default()
    }
}

fn invalid_for_interval() -> PgError {
    PgError::new(
        code::INVALID_DATETIME_FORMAT,
        "invalid format specification for an interval value",
    )
    .with_hint("Intervals are not tied to specific calendar dates.")
}

/// Ordinal suffix of the number ending `s`.
fn ordinal(s: &str, upper: bool) -> &'static str {
    let digits: Vec<char> = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let last = digits.last().copied().unwrap_or('0');
    let tens = digits.len() >= 2 && digits[digits.len() - 2] == '1';
    let r = if tens {
        "th"
    } else {
        match last {
            '1' => "st",
            '2' => "nd",
            '3' => "rd",
            _ => "th",
        }
    };
    if upper {
        match r {
            "st" => "ST",
            "nd" => "ND",
            "rd" => "RD",
            _ => "TH",
        }
    } else {
        r
    }
}

fn pad_num(v: i64, width: usize, fm: bool) -> String {
    if fm {
        return v.to_string();
    }
    // C's "%0*d": the sign counts towards the width.
    if v < 0 {
        format!("-{:0w$}", -v, w = width.saturating_sub(1))
    } else {
        format!("{v:0width$}")
    }
}

fn pad_text(s: &str, fm: bool, width: usize) -> String {
    if fm {
        s.to_string()
    } else {
        format!("{s:<width$}")
    }
}

fn adjust_year(y: i64, interval: bool) -> i64 {
    if interval || y > 0 { y } else { -(y - 1) }
}

fn dch_to_char(nodes: &[Node], tm: &Tm) -> PgResult<String> {
    let mut out = String::new();
    for n in nodes {
        let (k, sfx) = match n {
            Node::Action(k, s) => (*k, *s),
            Node::Char(c) | Node::Space(c) | Node::Separator(c) => {
                out.push(*c);
                continue;
            }
        };
        let fm = sfx.fm;
        let iv = tm.interval;
        let need_date = |ok: bool| -> PgResult<()> {
            if iv && !ok {
                Err(invalid_for_interval())
            } else {
                Ok(())
            }
        };
        let pm = tm.hour % 24 >= 12;
        let w2 = |v: i64| if v >= 0 { 2 } else { 3 };
        let s: String = match k {
            K::AMdot | K::PMdot => (if pm { "P.M." } else { "A.M." }).into(),
            K::AM | K::PM => (if pm { "PM" } else { "AM" }).into(),
            K::amdot | K::pmdot => (if pm { "p.m." } else { "a.m." }).into(),
            K::am | K::pm => (if pm { "pm" } else { "am" }).into(),
            K::HH | K::HH12 => {
                let h = if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 };
                pad_num(h, w2(tm.hour), fm)
            }
            K::HH24 => pad_num(tm.hour, w2(tm.hour), fm),
            K::MI => pad_num(tm.min, w2(tm.min), fm),
            K::SS => pad_num(tm.sec, w2(tm.sec), fm),
            K::FF(n) => {
                let v = tm.fsec / 10i64.pow(6 - n);
                format!("{:0w$}", v, w = n as usize)
            }
            K::MS => format!("{:03}", tm.fsec / 1000),
            K::US => format!("{:06}", tm.fsec),
            K::SSSS => (tm.hour * 3600 + tm.min * 60 + tm.sec).to_string(),
            K::tz | K::TZ => {
                need_date(false)?;
                let z = tm.tzn.clone().unwrap_or_default();
                if k == K::tz { z.to_lowercase() } else { z }
            }
            K::TZH => {
                need_date(false)?;
                format!(
                    "{}{:02}",
                    if tm.gmtoff >= 0 { '+' } else { '-' },
                    tm.gmtoff.abs() / 3600
                )
            }
            K::TZM => {
                need_date(false)?;
                format!("{:02}", (tm.gmtoff.abs() % 3600) / 60)
            }
            K::OF => {
                need_date(false)?;
                let mut s = format!(
                    "{}{}",
                    if tm.gmtoff >= 0 { '+' } else { '-' },
                    pad_num(tm.gmtoff.abs() / 3600, 2, fm)
                );
                if tm.gmtoff.abs() % 3600 != 0 {
                    s.push_str(&format!(":{:02}", (tm.gmtoff.abs() % 3600) / 60));
                }
                s
            }
            K::ADdot | K::BCdot => {
                need_date(false)?;
                (if tm.year <= 0 { "B.C." } else { "A.D." }).into()
            }
            K::AD | K::BC => {
                need_date(false)?;
                (if tm.year <= 0 { "BC" } else { "AD" }).into()
            }
            K::adot | K::bcdot => {
                need_date(false)?;
                (if tm.year <= 0 { "b.c." } else { "a.d." }).into()
            }
            K::ad | K::bc => {
                need_date(false)?;
                (if tm.year <= 0 { "bc" } else { "ad" }).into()
            }
            K::MONTH | K::Month | K::month | K::MON | K::Mon | K::mon => {
                need_date(false)?;
                if tm.mon < 1 || tm.mon > 12 {
                    String::new()
                } else {
                    let full = MONTHS[(tm.mon - 1) as usize];
                    let name = if matches!(k, K::MON | K::Mon | K::mon) {
                        &full[..3]
                    } else {
                        full
                    };
                    let name = match k {
                        K::MONTH | K::MON => name.to_uppercase(),
                        K::month | K::mon => name.to_lowercase(),
                        _ => name.to_string(),
                    };
                    if matches!(k, K::MON | K::Mon | K::mon) {
                        name
                    } else {
                        pad_text(&name, fm || sfx.tm, 9)
                    }
                }
            }
            K::MM => pad_num(tm.mon, w2(tm.mon), fm),
            K::DAY | K::Day | K::day | K::DY | K::Dy | K::dy => {
                need_date(false)?;
                let full = DAYS[tm.wday.rem_euclid(7) as usize];
                let short = matches!(k, K::DY | K::Dy | K::dy);
                let name = if short { &full[..3] } else { full };
                let name = match k {
                    K::DAY | K::DY => name.to_uppercase(),
                    K::day | K::dy => name.to_lowercase(),
                    _ => name.to_string(),
                };
                if short {
                    name
                } else {
                    pad_text(&name, fm || sfx.tm, 9)
                }
            }
            K::DDD => pad_num(tm.yday, 3, fm),
            K::IDDD => {
                need_date(false)?;
                pad_num(tm.iso.map(|x| x.2).unwrap_or(0), 3, fm)
            }
            K::DD => pad_num(tm.mday, 2, fm),
            K::D => {
                need_date(false)?;
                (tm.wday + 1).to_string()
            }
            K::ID => {
                need_date(false)?;
                (if tm.wday == 0 { 7 } else { tm.wday }).to_string()
            }
            K::WW => pad_num((tm.yday - 1) / 7 + 1, 2, fm),
            K::IW => {
                need_date(false)?;
                pad_num(tm.iso.map(|x| x.1).unwrap_or(0), 2, fm)
            }
            K::Q => {
                if tm.mon == 0 {
                    String::new()
                } else {
                    ((tm.mon - 1) / 3 + 1).to_string()
                }
            }
            K::CC => {
                let i = if iv {
                    tm.year / 100
                } else if tm.year > 0 {
                    (tm.year - 1) / 100 + 1
                } else {
                    tm.year / 100 - 1
                };
                if (-99..=99).contains(&i) {
                    pad_num(i, if i >= 0 { 2 } else { 3 }, fm)
                } else {
                    i.to_string()
                }
            }
            K::YComma => {
                let y = adjust_year(tm.year, iv);
                let i = y / 1000;
                format!("{},{:03}", i, y - i * 1000)
            }
            K::YYYY | K::IYYY | K::YYY | K::IYY | K::YY | K::IY | K::Y | K::I => {
                let iso = matches!(k, K::IYYY | K::IYY | K::IY | K::I);
                if iso {
                    need_date(false)?;
                }
                let base = if iso {
                    tm.iso.map(|x| x.0).unwrap_or(tm.year)
                } else {
                    tm.year
                };
                let y = adjust_year(base, iv);
                let (width, modulo) = match k {
                    K::YYYY | K::IYYY => (4, 0),
                    K::YYY | K::IYY => (3, 1000),
                    K::YY | K::IY => (2, 100),
                    _ => (1, 10),
                };
                let v = if modulo == 0 { y } else { y % modulo };
                if width == 1 {
                    v.to_string()
                } else {
                    pad_num(v, if y >= 0 { width } else { width + 1 }, fm)
                }
            }
            K::RM | K::rm => {
                if tm.mon == 0 && tm.year == 0 {
                    String::new()
                } else {
                    let idx = if tm.mon == 0 {
                        if tm.year >= 0 { 0 } else { 11 }
                    } else if tm.mon < 0 {
                        (-(tm.mon + 1)) as usize
                    } else {
                        (12 - tm.mon) as usize
                    };
                    let r = RM_UPPER[idx.min(11)];
                    let r = if k == K::rm {
                        r.to_lowercase()
                    } else {
                        r.to_string()
                    };
                    pad_text(&r, fm, 4)
                }
            }
            K::W => ((tm.mday - 1) / 7 + 1).to_string(),
            K::J => {
                need_date(false)?;
                tm.julian.to_string()
            }
            K::FX => String::new(),
            _ => String::new(),
        };
        out.push_str(&s);
        let numeric_kw = !matches!(
            k,
            K::AMdot
                | K::PMdot
                | K::AM
                | K::PM
                | K::amdot
                | K::pmdot
                | K::am
                | K::pm
                | K::tz
                | K::TZ
                | K::TZH
                | K::TZM
                | K::OF
                | K::ADdot
                | K::BCdot
                | K::AD
                | K::BC
                | K::adot
                | K::bcdot
                | K::ad
                | K::bc
                | K::MONTH
                | K::Month
                | K::month
                | K::MON
                | K::Mon
                | K::mon
                | K::DAY
                | K::Day
                | K::day
                | K::DY
                | K::Dy
                | K::dy
                | K::RM
                | K::rm
                | K::FX
        );
        if sfx.th && numeric_kw && !s.is_empty() {
            out.push_str(ordinal(&s, sfx.th_upper));
        }
    }
    Ok(out)
}

/// The zone abbreviation PostgreSQL prints for `TZ`.
fn zone_abbrev(zone: &Zone, utc: &NaiveDateTime) -> String {
    use chrono::TimeZone;
    use chrono_tz::OffsetName;
    match zone {
        Zone::Named(tz) => {
            let off = tz.offset_from_utc_datetime(utc);
            off.abbreviation()
                .map(String::from)
                .unwrap_or_else(|| dt::format_offset(zone.offset_at_utc(utc).local_minus_utc()))
        }
        Zone::Fixed(o) => dt::format_offset(o.local_minus_utc()),
    }
}

/// `to_char(datetime or interval, fmt)` for a stored value of type `ty`.
pub fn datetime_to_char(
    stored: &str,
    ty: Scalar,
    fmt: &str,
    zone: &Zone,
) -> PgResult<Option<String>> {
    if fmt.is_empty() {
        return Ok(None);
    }
    let nodes = parse_template(fmt, false);
    let bad = || {
        PgError::new(
            code::INVALID_DATETIME_FORMAT,
            format!("invalid input syntax for type timestamp: \"{stored}\""),
        )
    };
    let tm = match ty {
        Scalar::Interval => tm_of_interval(&dt::parse_interval(stored)?),
        _ if stored == "infinity" || stored == "-infinity" => return Ok(None),
        Scalar::Timestamptz => {
            let utc = dt::stored_timestamp(stored).ok_or_else(bad)?;
            let off = zone.offset_at_utc(&utc).local_minus_utc() as i64;
            let local = utc + Duration::seconds(off);
            tm_of_datetime(&local, off, Some(zone_abbrev(zone, &utc)))
        }
        Scalar::Date => {
            let d = dt::stored_date(stored).ok_or_else(bad)?;
            // date goes through timestamptz, as PostgreSQL resolves to_char(date, text).
            let local = d.and_time(NaiveTime::MIN);
            let utc = zone.local_to_utc(&local);
            let off = zone.offset_at_utc(&utc).local_minus_utc() as i64;
            tm_of_datetime(&local, off, Some(zone_abbrev(zone, &utc)))
        }
        Scalar::Time => {
            let t = dt::stored_time(stored).ok_or_else(bad)?;
            let iv = Interval {
                months: 0,
                days: 0,
                micros: (t.num_seconds_from_midnight() as i64) * 1_000_000
                    + (t.nanosecond() / 1000) as i64,
            };
            tm_of_interval(&iv)
        }
        _ => {
            let t = dt::stored_timestamp(stored).ok_or_else(bad)?;
            tm_of_datetime(&t, 0, None)
        }
    };
    dch_to_char(&nodes, &tm).map(Some)
}

// ---------------------------------------------------------------- number to_char / to_number

#[derive(Debug, Clone, Copy, PartialEq)]
enum LSign {
    None,
    Pre,
    Post,
}

/// PostgreSQL's NUMDesc.
#[derive(Debug, Clone)]
struct NumDesc {
    pre: i64,
    post: i64,
    lsign: LSign,
    pre_lsign_num: i64,
    multi: i64,
    zero_start: i64,
    zero_end: i64,
    decimal: bool,
    zero: bool,
    fillmode: bool,
    lsign_flag: bool,
    bracket: bool,
    minus: bool,
    plus: bool,
    roman: bool,
    multi_flag: bool,
    eeee: bool,
    blank: bool,
}

fn syntax(msg: &str) -> PgError {
    PgError::new(code::SYNTAX_ERROR, msg.to_string())
}

fn num_desc(nodes: &[Node]) -> PgResult<NumDesc> {
    let mut n = NumDesc {
        pre: 0,
        post: 0,
        lsign: LSign::None,
        pre_lsign_num: 0,
        multi: 0,
        zero_start: 0,
        zero_end: 0,
        decimal: false,
        zero: false,
        fillmode: false,
        lsign_flag: false,
        bracket: false,
        minus: false,
        plus: false,
        roman: false,
        multi_flag: false,
        eeee: false,
        blank: false,
    };
    for node in nodes {
        let Node::Action(k, _) = node else {
            continue;
        };
        if n.eeee && *k != K::NE {
            return Err(syntax("\"EEEE\" must be the last pattern used"));
        }
        match k {
            K::N9 => {
                if n.bracket {
                    return Err(syntax("\"9\" must be ahead of \"PR\""));
                }
                if n.multi_flag {
                    n.multi += 1;
                } else if n.decimal {
                    n.post += 1;
                } else {
                    n.pre += 1;
                }
            }
            K::N0 => {
                if n.bracket {
                    return Err(syntax("\"0\" must be ahead of \"PR\""));
                }
                if !n.zero && !n.decimal {
                    n.zero = true;
                    n.zero_start = n.pre + 1;
                }
                if !n.decimal {
                    n.pre += 1;
                } else {
                    n.post += 1;
                }
                n.zero_end = n.pre + n.post;
            }
            K::NB if n.pre == 0 && n.post == 0 && !n.zero => n.blank = true,
            K::ND | K::NDec => {
                if n.decimal {
                    return Err(syntax("multiple decimal points"));
                }
                if n.multi_flag {
                    return Err(syntax("cannot use \"V\" and decimal point together"));
                }
                n.decimal = true;
            }
            K::NFM => n.fillmode = true,
            K::NS => {
                if n.lsign_flag {
                    return Err(syntax("cannot use \"S\" twice"));
                }
                if n.plus || n.minus || n.bracket {
                    return Err(syntax(
                        "cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together",
                    ));
                }
                if !n.decimal {
                    n.lsign = LSign::Pre;
                    n.pre_lsign_num = n.pre;
                    n.lsign_flag = true;
                } else if n.lsign == LSign::None {
                    n.lsign = LSign::Post;
                    n.lsign_flag = true;
                }
            }
            K::NMI => {
                if n.lsign_flag {
                    return Err(syntax("cannot use \"S\" and \"MI\" together"));
                }
                n.minus = true;
            }
            K::NPL => {
                if n.lsign_flag {
                    return Err(syntax("cannot use \"S\" and \"PL\" together"));
                }
                n.plus = true;
            }
            K::NSG => {
                if n.lsign_flag {
                    return Err(syntax("cannot use \"S\" and \"SG\" together"));
                }
                n.minus = true;
                n.plus = true;
            }
            K::NPR => {
                if n.lsign_flag || n.plus || n.minus {
                    return Err(syntax(
                        "cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together",
                    ));
                }
                n.bracket = true;
            }
            K::NRN | K::Nrn => n.roman = true,
            K::NV => {
                if n.decimal {
                    return Err(syntax("cannot use \"V\" and decimal point together"));
                }
                n.multi_flag = true;
            }
            K::NE => {
                if n.eeee {
                    return Err(syntax("cannot use \"EEEE\" twice"));
                }
                if n.blank
                    || n.fillmode
                    || n.lsign_flag
                    || n.bracket
                    || n.minus
                    || n.plus
                    || n.roman
                    || n.multi_flag
                {
                    return Err(syntax("\"EEEE\" is incompatible with other formats").with_detail(
                        "\"EEEE\" may only be used together with digit and decimal point patterns.",
                    ));
                }
                n.eeee = true;
            }
            _ => {}
        }
    }
    Ok(n)
}

fn int_to_roman(v: i64) -> String {
    if !(1..=3999).contains(&v) {
        return "#".repeat(15);
    }
    const R: [(i64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut v = v;
    let mut out = String::new();
    for (n, s) in R {
        while v >= n {
            out.push_str(s);
            v -= n;
        }
    }
    out
}

/// C's `%+.*e` / `%.*e` exponent form: at least two exponent digits.
fn c_exp(v: f64, prec: usize) -> String {
    let s = format!("{v:.prec$e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i64 = exp.parse().unwrap_or(0);
    format!("{mant}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// A number to format: its digits (no sign) and sign, prepared per PostgreSQL's
/// `*_to_char` for each input type.
enum NumIn {
    Int(i64),
    Float(f64, bool),
    Numeric(bigdecimal::BigDecimal),
    Special(String),
}

/// PostgreSQL's overflow picture: `#` for every digit position, `.` for the point.
fn overflow_str(pre: i64, post: i64) -> String {
    let mut chars: Vec<char> = vec!['#'; (pre + post + 1) as usize];
    if (pre as usize) < chars.len() {
        chars[pre as usize] = '.';
    }
    chars.into_iter().collect()
}

/// Prepare (numstr, sign, out_pre_spaces) as PostgreSQL's to_char variants do.
fn prepare_number(v: NumIn, desc: &mut NumDesc) -> (String, char, i64) {
    if desc.roman {
        let iv = match &v {
            NumIn::Int(i) => *i,
            NumIn::Float(f, _) => {
                let r = f.round_ties_even();
                if r.is_finite() && r.abs() < 2147483648.0 {
                    r as i64
                } else {
                    i32::MAX as i64
                }
            }
            NumIn::Numeric(d) => d
                .with_scale_round(0, bigdecimal::RoundingMode::HalfUp)
                .to_string()
                .parse::<i64>()
                .unwrap_or(i32::MAX as i64),
            NumIn::Special(_) => i32::MAX as i64,
        };
        return (int_to_roman(iv), '+', 0);
    }
    if desc.eeee {
        let s = match &v {
            NumIn::Int(i) => c_exp(*i as f64, desc.post as usize),
            NumIn::Float(f, _) if !f.is_finite() => {
                let mut s = "#".repeat((desc.pre + desc.post + 6) as usize);
                s.replace_range(0..1, " ");
                let p = (desc.pre + 1) as usize;
                if p < s.len() {
                    s.replace_range(p..p + 1, ".");
                }
                return (s, '+', 0);
            }
            NumIn::Float(f, _) => c_exp(*f, desc.post as usize),
            NumIn::Numeric(d) => {
                let f: f64 = d.to_string().parse().unwrap_or(0.0);
                c_exp(f, desc.post as usize)
            }
            NumIn::Special(_) => {
                let mut s = "#".repeat((desc.pre + desc.post + 6) as usize);
                s.replace_range(0..1, " ");
                return (s, '+', 0);
            }
        };
        let s = if s.starts_with('-') {
            s
        } else {
            format!(" {s}")
        };
        return (s, '+', 0);
    }
    let mult = desc.multi;
    let orgnum: String = match v {
        NumIn::Int(i) => {
            let i = if desc.multi_flag {
                desc.pre += mult;
                i.saturating_mul(10i64.saturating_pow(mult as u32))
            } else {
                i
            };
            let s = i.to_string();
            let (neg, digits) = match s.strip_prefix('-') {
                Some(d) => (true, d.to_string()),
                None => (false, s),
            };
            let mut num = digits.clone();
            if desc.post > 0 {
                num.push('.');
                num.push_str(&"0".repeat(desc.post as usize));
            }
            return finish_number(num, digits.len() as i64, if neg { '-' } else { '+' }, desc);
        }
        NumIn::Float(f, float4) => {
            let f = if desc.multi_flag {
                desc.pre += mult;
                f * 10f64.powi(mult as i32)
            } else {
                f
            };
            if !f.is_finite() {
                let s = crate::sql::values::format_float(f, float4);
                let (neg, d) = match s.strip_prefix('-') {
                    Some(d) => (true, d.to_string()),
                    None => (false, s),
                };
                let len = d.len() as i64;
                return finish_number(d, len, if neg { '-' } else { '+' }, desc);
            }
            let dig = if float4 { 6 } else { 15 };
            let int_len = format!("{:.0}", f.abs()).len() as i64;
            if int_len >= dig {
                desc.post = 0;
            } else if int_len + desc.post > dig {
                desc.post = dig - int_len;
            }
            format!("{:.*}", desc.post as usize, f)
        }
        NumIn::Numeric(d) => {
            let d = if desc.multi_flag {
                desc.pre += mult;
                d * bigdecimal::BigDecimal::from(10i64.saturating_pow(mult as u32))
            } else {
                d
            };
            crate::sql::numeric::canonical(
                &d.with_scale_round(desc.post, bigdecimal::RoundingMode::HalfUp),
            )
        }
        NumIn::Special(s) => s,
    };
    let (sign, numstr) = match orgnum.strip_prefix('-') {
        Some(d) => ('-', d.to_string()),
        None => ('+', orgnum),
    };
    let pre_len = numstr.find('.').unwrap_or(numstr.len()) as i64;
    finish_number(numstr, pre_len, sign, desc)
}

fn finish_number(numstr: String, pre_len: i64, sign: char, desc: &NumDesc) -> (String, char, i64) {
    if pre_len < desc.pre {
        (numstr, sign, desc.pre - pre_len)
    } else if pre_len > desc.pre {
        (overflow_str(desc.pre, desc.post), sign, 0)
    } else {
        (numstr, sign, 0)
    }
}

/// PostgreSQL's NUM_processor in to_char direction.
fn num_to_char(
    nodes: &[Node],
    mut num: NumDesc,
    number: String,
    out_pre_spaces: i64,
    sign: char,
) -> String {
    let mut out = String::new();
    if num.zero_start > 0 {
        num.zero_start -= 1;
    }
    if num.eeee {
        return number;
    }
    let number: Vec<char> = number.chars().collect();
    let mut sign = sign;
    if num.roman {
        let fill = num.fillmode;
        num = NumDesc {
            fillmode: fill,
            roman: true,
            ..num_desc(&[]).unwrap_or_else(|_| num.clone())
        };
        sign = '\0';
    }
    let mut sign_wrote;
    if num.plus || num.minus {
        sign_wrote = !num.plus || num.minus;
    } else {
        if sign != '-' && num.fillmode {
            num.bracket = false;
        }
        sign_wrote = sign == '+' && num.fillmode && !num.lsign_flag;
        if num.lsign == LSign::Pre && num.pre == num.pre_lsign_num {
            num.lsign = LSign::Post;
        }
    }
    let mut num_count = num.post + num.pre - 1;
    let mut last_relevant: Option<usize> = None;
    if num.fillmode && num.decimal {
        if let Some(p) = number.iter().position(|c| *c == '.') {
            let mut r = p;
            for (i, c) in number.iter().enumerate().skip(p + 1) {
                if *c != '0' {
                    r = i;
                }
            }
            last_relevant = Some(r);
        }
        if let Some(lr) = last_relevant
            && num.zero_end > out_pre_spaces
        {
            let last_zero = ((number.len() as i64 - 1).min(num.zero_end - out_pre_spaces)) as usize;
            if lr < last_zero {
                last_relevant = Some(last_zero);
            }
        }
    }
    if !sign_wrote && out_pre_spaces == 0 {
        num_count += 1;
    }
    let mut num_in = false;
    let mut num_curr: i64 = 0;
    let mut np: usize = 0; // index into number
    let at = |i: usize| -> char { number.get(i).copied().unwrap_or('\0') };
    for node in nodes {
        let (k, _) = match node {
            Node::Action(k, s) => (*k, s),
            Node::Char(c) | Node::Space(c) | Node::Separator(c) => {
                out.push(*c);
                continue;
            }
        };
        match k {
            K::N9 | K::N0 | K::NDec | K::ND => {
                if num.roman {
                    continue;
                }
                num_in = false;
                let predec_space = !num.zero && np == 0 && at(0) == '0' && num.post != 0;
                if !sign_wrote
                    && (num_curr >= out_pre_spaces || (num.zero && num.zero_start == num_curr))
                    && (!predec_space || last_relevant.is_some_and(|l| at(l) == '.'))
                {
                    if num.lsign_flag {
                        if num.lsign == LSign::Pre {
                            out.push(if sign == '-' { '-' } else { '+' });
                            sign_wrote = true;
                        }
                    } else if num.bracket {
                        out.push(if sign == '+' { ' ' } else { '<' });
                        sign_wrote = true;
                    } else if sign == '+' {
                        if !num.fillmode {
                            out.push(' ');
                        }
                        sign_wrote = true;
                    } else if sign == '-' {
                        out.push('-');
                        sign_wrote = true;
                    }
                }
                if num_curr < out_pre_spaces && (num.zero_start > num_curr || !num.zero) {
                    if !num.fillmode {
                        out.push(' ');
                    }
                } else if num.zero && num_curr < out_pre_spaces && num.zero_start <= num_curr {
                    out.push('0');
                    num_in = true;
                } else {
                    if at(np) == '.' {
                        if last_relevant.is_none_or(|l| at(l) != '.')
                            || (num.fillmode && last_relevant.is_some_and(|l| at(l) == '.'))
                        {
                            out.push('.');
                        }
                    } else if last_relevant.is_some_and(|l| np > l) && k != K::N0 {
                    } else if !num.zero && np == 0 && at(0) == '0' && num.post != 0 {
                        if !num.fillmode {
                            out.push(' ');
                        } else if last_relevant.is_some_and(|l| at(l) == '.') {
                            out.push('0');
                        }
                    } else if at(np) != '\0' {
                        out.push(at(np));
                        num_in = true;
                    }
                    if at(np) != '\0' {
                        np += 1;
                    }
                }
                let mut end = num_count
                    + if out_pre_spaces > 0 { 1 } else { 0 }
                    + if num.decimal { 1 } else { 0 };
                if last_relevant.is_some_and(|l| l == np) {
                    end = num_curr;
                }
                if num_curr + 1 == end {
                    if sign_wrote && num.bracket {
                        out.push(if sign == '+' { ' ' } else { '>' });
                    } else if num.lsign_flag && num.lsign == LSign::Post {
                        out.push(if sign == '-' { '-' } else { '+' });
                    }
                }
                num_curr += 1;
            }
            K::NComma | K::NG => {
                if !num_in {
                    if num.fillmode {
                        continue;
                    }
                    out.push(' ');
                } else {
                    out.push(',');
                }
            }
            K::NL => out.push(' '),
            K::NRN | K::Nrn => {
                let s: String = number.iter().collect();
                let s = if k == K::Nrn { s.to_lowercase() } else { s };
                if num.fillmode {
                    out.push_str(&s);
                } else {
                    out.push_str(&format!("{s:>15}"));
                }
            }
            K::NTH | K::Nth => {
                if num.roman || at(0) == '#' || sign == '-' || num.decimal {
                    continue;
                }
                let s: String = number.iter().collect();
                out.push_str(ordinal(&s, k == K::NTH));
            }
            K::NMI => {
                if sign == '-' {
                    out.push('-');
                } else if num.fillmode {
                    continue;
                } else {
                    out.push(' ');
                }
            }
            K::NPL => {
                if sign == '+' {
                    out.push('+');
                } else if num.fillmode {
                    continue;
                } else {
                    out.push(' ');
                }
            }
            K::NSG => out.push(sign),
            _ => {}
        }
    }
    out
}

/// `to_char(number, fmt)`.
fn number_to_char(v: NumIn, fmt: &str) -> PgResult<Option<String>> {
    if fmt.is_empty() {
        return Ok(Some(String::new()));
    }
    let nodes = parse_template(fmt, true);
    let mut desc = num_desc(&nodes)?;
    let (numstr, sign, pre_spaces) = prepare_number(v, &mut desc);
    Ok(Some(num_to_char(&nodes, desc, numstr, pre_spaces, sign)))
}

/// `to_number(text, fmt)`: PostgreSQL's NUM_processor in input direction.
pub fn to_number(input: &str, fmt: &str) -> PgResult<Option<String>> {
    if fmt.is_empty() {
        return Ok(None);
    }
    let nodes = parse_template(fmt, true);
    let mut num = num_desc(&nodes)?;
    if num.zero_start > 0 {
        num.zero_start -= 1;
    }
    if num.eeee {
        return Err(PgError::new(
            code::FEATURE_NOT_SUPPORTED,
            "\"EEEE\" not supported for input",
        ));
    }
    if num.roman {
        return Err(PgError::new(
            code::FEATURE_NOT_SUPPORTED,
            "\"RN\" not supported for input",
        ));
    }
    let inp: Vec<char> = input.chars().collect();
    let len = inp.len();
    let mut ip = 0usize;
    let mut number: Vec<char> = vec![' '];
    let (mut read_pre, mut read_post, mut read_dec) = (0i64, 0i64, false);
    let eat = |ip: &mut usize, n: usize| {
        for _ in 0..n {
            if *ip >= len || "0123456789.,+-".contains(inp[*ip]) {
                break;
            }
            *ip += 1;
        }
    };
    for node in &nodes {
        if ip >= len {
            break;
        }
        let k = match node {
            Node::Action(k, _) => *k,
            _ => {
                ip += 1;
                continue;
            }
        };
        match k {
            K::N9 | K::N0 | K::NDec | K::ND => {
                if ip < len && inp[ip] == ' ' {
                    ip += 1;
                }
                if ip >= len {
                    break;
                }
                if number[0] == ' ' && matches!(k, K::N0 | K::N9) && read_pre + read_post == 0 {
                    if num.lsign_flag && num.lsign == LSign::Pre {
                        if inp[ip] == '-' {
                            ip += 1;
                            number[0] = '-';
                        } else if inp[ip] == '+' {
                            ip += 1;
                            number[0] = '+';
                        }
                    } else if inp[ip] == '-' || (num.bracket && inp[ip] == '<') {
                        number[0] = '-';
                        ip += 1;
                    } else if inp[ip] == '+' {
                        number[0] = '+';
                        ip += 1;
                    }
                }
                if ip >= len {
                    break;
                }
                let mut isread = false;
                let mut full = false;
                if inp[ip].is_ascii_digit() {
                    full = read_dec && read_post == num.post;
                    if !full {
                        number.push(inp[ip]);
                        if read_dec {
                            read_post += 1;
                        } else {
                            read_pre += 1;
                        }
                        isread = true;
                    }
                } else if num.decimal && !read_dec && inp[ip] == '.' {
                    number.push('.');
                    read_dec = true;
                    isread = true;
                }
                if !full && number[0] == ' ' && read_pre + read_post > 0 {
                    if num.lsign_flag && isread && ip + 1 < len && !inp[ip + 1].is_ascii_digit() {
                        let next = inp[ip + 1];
                        if next == '-' {
                            ip += 1;
                            number[0] = '-';
                        } else if next == '+' {
                            ip += 1;
                            number[0] = '+';
                        }
                    } else if !isread
                        && !num.lsign_flag
                        && (num.plus || num.minus)
                        && (inp[ip] == '-' || inp[ip] == '+')
                    {
                        number[0] = inp[ip];
                    }
                }
            }
            K::NComma | K::NG => {
                if num.fillmode || inp[ip] != ',' {
                    continue;
                }
            }
            K::NL => {
                eat(&mut ip, 1);
                continue;
            }
            K::NTH | K::Nth => {
                eat(&mut ip, 2);
                continue;
            }
            K::NMI => {
                if inp[ip] == '-' {
                    number[0] = '-';
                } else {
                    eat(&mut ip, 1);
                    continue;
                }
            }
            K::NPL => {
                if inp[ip] == '+' {
                    number[0] = '+';
                } else {
                    eat(&mut ip, 1);
                    continue;
                }
            }
            K::NSG => {
                if inp[ip] == '-' || inp[ip] == '+' {
                    number[0] = inp[ip];
                } else {
                    eat(&mut ip, 1);
                    continue;
                }
            }
            _ => continue,
        }
        ip += 1;
    }
    if number.last() == Some(&'.') {
        number.pop();
    }
    let s: String = number.iter().collect();
    let t = s.trim_start_matches(' ');
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || t == "-" || t == "." {
        return Err(PgError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type numeric: \"{s}\""),
        ));
    }
    let d = crate::sql::numeric::to_decimal(t).ok_or_else(|| {
        PgError::new(
            code::INVALID_TEXT_REPRESENTATION,
            format!("invalid input syntax for type numeric: \"{s}\""),
        )
    })?;
    let d = d.with_scale_round(read_post, bigdecimal::RoundingMode::HalfUp);
    let d = if num.multi_flag {
        d / bigdecimal::BigDecimal::from(10i64.saturating_pow(num.multi as u32))
    } else {
        d
    };
    Ok(Some(crate::sql::numeric::canonical(&d)))
}

// ---------------------------------------------------------------- to_timestamp / to_date

fn bad_value(val: &str, field: &str, detail: &str) -> PgError {
    PgError::new(
        code::INVALID_DATETIME_FORMAT,
        format!("invalid value \"{val}\" for \"{field}\""),
    )
    .with_detail(detail.to_string())
}

fn keyword_name(k: K) -> &'static str {
    DCH_KEYWORDS
        .iter()
        .find(|(_, x)| *x == k)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

/// Fields collected by to_timestamp, as PostgreSQL's TmFromChar.
#[derive(Default, Debug)]
struct FromChar {
    year: Option<i64>,
    yy_digits: usize,
    bc: bool,
    mon: Option<i64>,
    mday: Option<i64>,
    yday: Option<i64>,
    hour: Option<i64>,
    clock12: bool,
    pm: Option<bool>,
    min: i64,
    sec: i64,
    us: i64,
    ssss: Option<i64>,
    tzh: Option<i64>,
    tzm: i64,
    julian: Option<i64>,
    cc: Option<i64>,
}

fn is_digit_kw(k: K) -> bool {
    !matches!(
        k,
        K::ADdot
            | K::AMdot
            | K::AD
            | K::AM
            | K::BCdot
            | K::BC
            | K::DAY
            | K::DY
            | K::Day
            | K::Dy
            | K::FX
            | K::MONTH
            | K::MON
            | K::Month
            | K::Mon
            | K::OF
            | K::PMdot
            | K::PM
            | K::RM
            | K::TZH
            | K::TZ
            | K::adot
            | K::amdot
            | K::ad
            | K::am
            | K::bcdot
            | K::bc
            | K::day
            | K::dy
            | K::month
            | K::mon
            | K::pmdot
            | K::pm
            | K::rm
            | K::tz
    )
}

fn field_len(k: K) -> usize {
    match k {
        K::YYYY | K::IYYY | K::J => 4,
        K::YYY | K::IYY | K::DDD | K::IDDD | K::MS => 3,
        K::US => 6,
        K::FF(n) => n as usize,
        K::SSSS => 5,
        K::YComma => 5,
        K::Y | K::I | K::D | K::ID | K::Q | K::W => 1,
        _ => 2,
    }
}

fn from_char(input: &str, fmt: &str) -> PgResult<FromChar> {
    let nodes = parse_template(fmt, false);
    let s: Vec<char> = input.chars().collect();
    let mut i = 0usize;
    let mut fc = FromChar::default();
    let mut fx = false;
    for (ni, node) in nodes.iter().enumerate() {
        match node {
            Node::Action(K::FX, _) => {
                fx = true;
                continue;
            }
            Node::Space(_) => {
                while i < s.len() && s[i].is_whitespace() {
                    i += 1;
                }
                continue;
            }
            Node::Separator(_) | Node::Char(_) => {
                if fx {
                    i += 1;
                    continue;
                }
                // A separator in the template matches any separator or space in the input;
                // other characters skip one input character.
                while i < s.len() && s[i].is_whitespace() {
                    i += 1;
                }
                if i < s.len() && (is_separator(s[i]) || matches!(node, Node::Char(_))) {
                    i += 1;
                }
                continue;
            }
            Node::Action(k, sfx) => {
                let k = *k;
                if !fx {
                    while i < s.len() && s[i].is_whitespace() {
                        i += 1;
                    }
                }
                let name = keyword_name(k);
                if is_digit_kw(k) {
                    let next_sep = match nodes.get(ni + 1) {
                        None => true,
                        Some(Node::Action(nk, _)) => !is_digit_kw(*nk),
                        Some(Node::Char(c)) => !c.is_ascii_digit(),
                        _ => true,
                    } || sfx.th;
                    let len = field_len(k);
                    let start = i;
                    let mut neg = false;
                    if i < s.len() && (s[i] == '-' || s[i] == '+') && matches!(k, K::YYYY | K::J) {
                        neg = s[i] == '-';
                        i += 1;
                    }
                    let digits_start = i;
                    let limit = if sfx.fm || next_sep { usize::MAX } else { len };
                    if k == K::YComma {
                        while i < s.len() && (s[i].is_ascii_digit() || s[i] == ',') {
                            i += 1;
                        }
                    } else {
                        while i < s.len() && s[i].is_ascii_digit() && i - digits_start < limit {
                            i += 1;
                        }
                    }
                    let text: String = s[digits_start..i].iter().filter(|c| **c != ',').collect();
                    if text.is_empty() {
                        let shown: String = s[start..].iter().take(len.max(1)).collect();
                        if start >= s.len() {
                            return Err(PgError::new(
                                code::INVALID_DATETIME_FORMAT,
                                format!("source string too short for \"{name}\" formatting field"),
                            )
                            .with_detail(format!(
                                "Field requires {len} characters, but only 0 remain."
                            ))
                            .with_hint(
                                "If your source string is not fixed-width, try using the \"FM\" modifier.",
                            ));
                        }
                        return Err(bad_value(&shown, name, "Value must be an integer."));
                    }
                    let ndig = text.len();
                    let mut v: i64 = text.parse().map_err(|_| {
                        PgError::new(
                            code::DATETIME_FIELD_OVERFLOW,
                            format!("value for \"{name}\" in source string is out of range"),
                        )
                    })?;
                    if neg {
                        v = -v;
                    }
                    if sfx.th {
                        // skip the ordinal suffix
                        let mut n = 0;
                        while n < 2 && i < s.len() && s[i].is_ascii_alphabetic() {
                            i += 1;
                            n += 1;
                        }
                    }
                    match k {
                        K::YYYY | K::YComma => {
                            fc.year = Some(v);
                            fc.yy_digits = 4;
                        }
                        K::YYY | K::YY | K::Y => {
                            fc.year = Some(v);
                            fc.yy_digits = ndig;
                        }
                        K::MM => fc.mon = Some(v),
                        K::DD => fc.mday = Some(v),
                        K::DDD => fc.yday = Some(v),
                        K::HH | K::HH12 => {
                            fc.hour = Some(v);
                            fc.clock12 = true;
                        }
                        K::HH24 => fc.hour = Some(v),
                        K::MI => fc.min = v,
                        K::SS => fc.sec = v,
                        K::MS => fc.us = v * 10i64.pow(3u32.saturating_sub(ndig as u32)) * 1000,
                        K::US => fc.us = v * 10i64.pow(6u32.saturating_sub(ndig as u32)),
                        K::FF(_) => fc.us = v * 10i64.pow(6u32.saturating_sub(ndig as u32)),
                        K::SSSS => fc.ssss = Some(v),
                        K::TZM => fc.tzm = v,
                        K::J => fc.julian = Some(v),
                        K::CC => fc.cc = Some(v),
                        K::D
                        | K::ID
                        | K::W
                        | K::WW
                        | K::Q
                        | K::IW
                        | K::IYYY
                        | K::IYY
                        | K::IY
                        | K::I
                        | K::IDDD => {}
                        _ => {}
                    }
                    continue;
                }
                // text fields
                let rest: String = s[i..].iter().collect();
                let lower = rest.to_lowercase();
                match k {
                    K::MONTH | K::Month | K::month | K::MON | K::Mon | K::mon => {
                        let full = matches!(k, K::MONTH | K::Month | K::month);
                        let mut found = None;
                        for (mi, m) in MONTHS.iter().enumerate() {
                            let cand = if full {
                                m.to_string()
                            } else {
                                m[..3].to_string()
                            };
                            if lower.starts_with(&cand.to_lowercase()) {
                                found = Some((mi as i64 + 1, cand.chars().count()));
                                break;
                            }
                        }
                        let Some((m, n)) = found else {
                            let shown: String =
                                rest.chars().take_while(|c| c.is_alphabetic()).collect();
                            return Err(bad_value(
                                &shown,
                                name,
                                "The given value did not match any of the allowed values for this field.",
                            ));
                        };
                        fc.mon = Some(m);
                        i += n;
                    }
                    K::DAY | K::Day | K::day | K::DY | K::Dy | K::dy => {
                        let full = matches!(k, K::DAY | K::Day | K::day);
                        let mut n = 0;
                        for d in DAYS {
                            let cand = if full {
                                d.to_string()
                            } else {
                                d[..3].to_string()
                            };
                            if lower.starts_with(&cand.to_lowercase()) {
                                n = cand.chars().count();
                                break;
                            }
                        }
                        if n == 0 {
                            let shown: String =
                                rest.chars().take_while(|c| c.is_alphabetic()).collect();
                            return Err(bad_value(
                                &shown,
                                name,
                                "The given value did not match any of the allowed values for this field.",
                            ));
                        }
                        i += n;
                    }
                    K::AM | K::PM | K::am | K::pm | K::AMdot | K::PMdot | K::amdot | K::pmdot => {
                        let dotted = matches!(k, K::AMdot | K::PMdot | K::amdot | K::pmdot);
                        let (a, p) = if dotted {
                            ("a.m.", "p.m.")
                        } else {
                            ("am", "pm")
                        };
                        if lower.starts_with(a) {
                            fc.pm = Some(false);
                        } else if lower.starts_with(p) {
                            fc.pm = Some(true);
                        } else {
                            let shown: String = rest.chars().take(a.len()).collect();
                            return Err(bad_value(
                                &shown,
                                name,
                                "The given value did not match any of the allowed values for this field.",
                            ));
                        }
                        i += a.len();
                    }
                    K::AD | K::BC | K::ad | K::bc | K::ADdot | K::BCdot | K::adot | K::bcdot => {
                        let dotted = matches!(k, K::ADdot | K::BCdot | K::adot | K::bcdot);
                        let (a, b) = if dotted {
                            ("a.d.", "b.c.")
                        } else {
                            ("ad", "bc")
                        };
                        if lower.starts_with(a) {
                            fc.bc = false;
                        } else if lower.starts_with(b) {
                            fc.bc = true;
                        } else {
                            let shown: String = rest.chars().take(a.len()).collect();
                            return Err(bad_value(
                                &shown,
                                name,
                                "The given value did not match any of the allowed values for this field.",
                            ));
                        }
                        i += a.len();
                    }
                    K::TZH => {
                        let mut neg = false;
                        if i < s.len() && (s[i] == '-' || s[i] == '+') {
                            neg = s[i] == '-';
                            i += 1;
                        }
                        let st = i;
                        while i < s.len() && s[i].is_ascii_digit() && i - st < 2 {
                            i += 1;
                        }
                        let t: String = s[st..i].iter().collect();
                        let v: i64 = t
                            .parse()
                            .map_err(|_| bad_value(&t, name, "Value must be an integer."))?;
                        fc.tzh = Some(if neg { -v } else { v });
                    }
                    K::TZ | K::tz | K::OF => {
                        return Err(PgError::new(
                            code::FEATURE_NOT_SUPPORTED,
                            format!("formatting field \"{name}\" is only supported in to_char"),
                        ));
                    }
                    K::RM | K::rm => {
                        let mut found = None;
                        for (idx, r) in RM_UPPER.iter().enumerate() {
                            if lower.starts_with(&r.to_lowercase()) {
                                // prefer the longest numeral
                                if found.is_none_or(|(_, n): (i64, usize)| r.len() > n) {
                                    found = Some((12 - idx as i64, r.len()));
                                }
                            }
                        }
                        let Some((m, n)) = found else {
                            return Err(bad_value(
                                &rest,
                                name,
                                "The given value did not match any of the allowed values for this field.",
                            ));
                        };
                        fc.mon = Some(m);
                        i += n;
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(fc)
}

fn out_of_range(input: &str) -> PgError {
    PgError::new(
        code::DATETIME_FIELD_OVERFLOW,
        format!("date/time field value out of range: \"{input}\""),
    )
}

/// Turn collected fields into a local date-time (and an explicit UTC offset, if given).
fn build(fc: &FromChar, input: &str) -> PgResult<(NaiveDateTime, Option<i64>)> {
    // Without a year field PostgreSQL's year stays 0, which is 1 BC.
    let mut year = fc.year.unwrap_or(0);
    if fc.year.is_some() && fc.yy_digits < 4 && fc.yy_digits > 0 {
        // PostgreSQL's adjust_partial_year_to_2020
        year = match fc.yy_digits {
            1 => year + 2000,
            2 => {
                if year < 70 {
                    year + 2000
                } else {
                    year + 1900
                }
            }
            _ => {
                if year < 100 {
                    year + 2000
                } else {
                    year + 1000
                }
            }
        };
    }
    if fc.year.is_none()
        && let Some(cc) = fc.cc
    {
        year = (cc - 1) * 100 + 1;
    }
    if fc.bc {
        year = -(year - 1);
    }
    let date = if let Some(j) = fc.julian {
        NaiveDate::from_num_days_from_ce_opt((j - 1_721_425) as i32)
            .ok_or_else(|| out_of_range(input))?
    } else if let (Some(yd), None) = (fc.yday, fc.mon) {
        NaiveDate::from_yo_opt(year as i32, yd as u32).ok_or_else(|| out_of_range(input))?
    } else {
        let m = fc.mon.unwrap_or(1);
        let d = fc.mday.unwrap_or(1);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(out_of_range(input));
        }
        NaiveDate::from_ymd_opt(year as i32, m as u32, d as u32)
            .ok_or_else(|| out_of_range(input))?
    };
    let mut hour = fc.hour.unwrap_or(0);
    if fc.clock12 {
        if !(1..=12).contains(&hour) {
            return Err(PgError::new(
                code::INVALID_DATETIME_FORMAT,
                format!("hour \"{hour}\" is invalid for the 12-hour clock"),
            )
            .with_hint("Use the 24-hour clock, or give an hour between 1 and 12."));
        }
        if fc.pm == Some(true) && hour < 12 {
            hour += 12;
        } else if fc.pm == Some(false) && hour == 12 {
            hour = 0;
        }
    } else if fc.pm == Some(true) && hour < 12 {
        hour += 12;
    }
    let (mut h, mut mi, mut se) = (hour, fc.min, fc.sec);
    if let Some(ss) = fc.ssss {
        h = ss / 3600;
        mi = (ss / 60) % 60;
        se = ss % 60;
    }
    if !(0..=24).contains(&h) || !(0..60).contains(&mi) || !(0..=60).contains(&se) {
        return Err(out_of_range(input));
    }
    if h == 24 && (mi > 0 || se > 0 || fc.us > 0) {
        return Err(out_of_range(input));
    }
    let t = date.and_time(NaiveTime::MIN)
        + Duration::hours(h)
        + Duration::minutes(mi)
        + Duration::seconds(se)
        + Duration::microseconds(fc.us);
    let off = fc.tzh.map(|th| {
        let m = if th < 0 { -fc.tzm } else { fc.tzm };
        th * 3600 + m * 60
    });
    Ok((t, off))
}

pub fn to_timestamp(input: &str, fmt: &str, zone: &Zone) -> PgResult<String> {
    let fc = from_char(input, fmt)?;
    let (local, off) = build(&fc, input)?;
    let utc = match off {
        Some(o) => local - Duration::seconds(o),
        None => zone.local_to_utc(&local),
    };
    Ok(dt::format_timestamptz_utc(&utc))
}

pub fn to_date(input: &str, fmt: &str) -> PgResult<String> {
    let fc = from_char(input, fmt)?;
    let (local, _) = build(&fc, input)?;
    Ok(dt::format_date(&local.date()))
}

/// `to_timestamp(double precision)`: seconds since the Unix epoch.
pub fn to_timestamp_epoch(secs: f64) -> PgResult<String> {
    if secs.is_nan() {
        return Err(PgError::new(
            code::DATETIME_FIELD_OVERFLOW,
            "timestamp cannot be NaN",
        ));
    }
    if secs.is_infinite() {
        return Ok(if secs > 0.0 { "infinity" } else { "-infinity" }.into());
    }
    let range = || {
        PgError::new(
            code::DATETIME_FIELD_OVERFLOW,
            format!(
                "timestamp out of range: \"{}\"",
                crate::sql::values::format_float(secs, false)
            ),
        )
    };
    // PostgreSQL's valid range: 4714-11-24 BC .. 294276 AD.
    if !(-210_866_803_200.0..9_224_318_016_000.0).contains(&secs) {
        return Err(range());
    }
    let us = (secs * 1e6).round_ties_even() as i64;
    let t = chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.naive_utc())
        .ok_or_else(range)?;
    Ok(dt::format_timestamptz_utc(&t))
}

pub(super) fn register(conn: &Connection, ctx: Shared) -> rusqlite::Result<()> {
    // pg_to_char(value, fmt, type_oid)
    let c = ctx.clone();
    conn.create_scalar_function("pg_to_char", 3, DET, move |f| {
        let (Some(fmt), v) = (text_arg(f, 1), f.get_raw(0)) else {
            return Ok(None);
        };
        if matches!(v, ValueRef::Null) {
            return Ok(None);
        }
        let oid: i64 = f.get(2)?;
        let ty = PgType::from_oid(oid as u32)
            .ok_or_else(|| udf_err(PgError::internal("to_char: unknown type")))?;
        let r = match ty.scalar {
            s if s.is_integer() => {
                let i = super::int_arg(f, 0)?.unwrap_or(0);
                number_to_char(NumIn::Int(i), &fmt)
            }
            Scalar::Float4 | Scalar::Float8 => {
                let x = float_arg(f, 0)?.unwrap_or(0.0);
                number_to_char(NumIn::Float(x, ty.scalar == Scalar::Float4), &fmt)
            }
            Scalar::Numeric => {
                let t = text_arg(f, 0).unwrap_or_default();
                match crate::sql::numeric::to_decimal(&t) {
                    Some(d) => number_to_char(NumIn::Numeric(d), &fmt),
                    None => number_to_char(NumIn::Special(t), &fmt),
                }
            }
            Scalar::Timestamp
            | Scalar::Timestamptz
            | Scalar::Date
            | Scalar::Interval
            | Scalar::Time => {
                let s = text_arg(f, 0).unwrap_or_default();
                let zone = lock(&c).zone;
                datetime_to_char(&s, ty.scalar, &fmt, &zone)
            }
            _ => Err(PgError::new(
                code::UNDEFINED_FUNCTION,
                format!("function to_char({}, text) does not exist", ty.format(-1)),
            )),
        };
        r.map_err(udf_err)
    })?;
    let c = ctx.clone();
    conn.create_scalar_function("pg_to_timestamp", 2, DET, move |f| {
        let (Some(s), Some(fmt)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        let zone = lock(&c).zone;
        to_timestamp(&s, &fmt, &zone).map(Some).map_err(udf_err)
    })?;
    conn.create_scalar_function("pg_to_date", 2, DET, |f| {
        let (Some(s), Some(fmt)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        to_date(&s, &fmt).map(Some).map_err(udf_err)
    })?;
    conn.create_scalar_function("pg_to_timestamp_epoch", 1, DET, |f| {
        match float_arg(f, 0)? {
            None => Ok(None),
            Some(x) => to_timestamp_epoch(x).map(Some).map_err(udf_err),
        }
    })?;
    conn.create_scalar_function("pg_to_number", 2, DET, |f| {
        let (Some(s), Some(fmt)) = (text_arg(f, 0), text_arg(f, 1)) else {
            return Ok(None);
        };
        to_number(&s, &fmt).map_err(udf_err)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str, fmt: &str) -> String {
        datetime_to_char(s, Scalar::Timestamp, fmt, &Zone::UTC)
            .unwrap()
            .unwrap()
    }

    fn num(v: NumIn, fmt: &str) -> String {
        number_to_char(v, fmt).unwrap().unwrap()
    }

    fn dec(s: &str) -> NumIn {
        NumIn::Numeric(crate::sql::numeric::to_decimal(s).unwrap())
    }

    #[test]
    fn timestamps() {
        let t = "2024-03-05 14:07:09.123456";
        assert_eq!(ts(t, "YYYY-MM-DD HH24:MI:SS"), "2024-03-05 14:07:09");
        assert_eq!(ts(t, "Month DD, YYYY"), "March     05, 2024");
        assert_eq!(ts(t, "FMMonth DD, YYYY"), "March 05, 2024");
        assert_eq!(ts(t, "Day Dy DAY dy"), "Tuesday   Tue TUESDAY   tue");
        assert_eq!(ts(t, "HH12:MI AM am A.M. p.m."), "02:07 PM pm P.M. p.m.");
        assert_eq!(ts(t, "MS US FF1 FF3 SSSS"), "123 123456 1 123 50829");
        assert_eq!(
            ts(t, "DDD D ID W WW IW IYYY CC J Q RM rm"),
            "065 3 2 1 10 10 2024 21 2460375 1 III  iii "
        );
        assert_eq!(ts(t, "DDth DDTH FMDDth"), "05th 05TH 5th");
        assert_eq!(ts(t, "Y,YYY YYY YY Y"), "2,024 024 24 4");
        assert_eq!(ts(t, "\"quoted YYYY\" YYYY \\\"x"), "quoted YYYY 2024 \"x");
        assert_eq!(ts(t, "TZ OF TZH TZM"), " +00 +00 00");
        assert_eq!(ts(t, "Mm dD"), "Mm 33");
        assert_eq!(ts(t, "I IY IYY IDDD"), "4 24 024 065");
        assert_eq!(
            ts("0044-03-15 10:00:00", "YYYY BC AD B.C."),
            "0044 AD AD A.D."
        );
        assert_eq!(ts(t, "TMMonth"), "March");
    }

    #[test]
    fn intervals() {
        let f = |s: &str, fmt: &str| datetime_to_char(s, Scalar::Interval, fmt, &Zone::UTC);
        assert_eq!(
            f("1 year 2 mons 3 days 04:05:06", "YYYY MM DD HH24 MI SS")
                .unwrap()
                .unwrap(),
            "0001 02 03 04 05 06"
        );
        assert_eq!(f("25:00:00", "HH HH12 HH24").unwrap().unwrap(), "01 01 25");
        assert!(f("1 day", "Day").is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(num(NumIn::Int(5), "999"), "   5");
        assert_eq!(num(NumIn::Int(-5), "999"), "  -5");
        assert_eq!(num(NumIn::Int(5), "FM999"), "5");
        assert_eq!(num(dec("1234.5"), "9,999.99"), " 1,234.50");
        assert_eq!(num(NumIn::Int(12345), "999"), " ###");
        assert_eq!(num(dec("0.5"), "9.99"), "  .50");
        assert_eq!(num(dec("0.5"), "0.99"), " 0.50");
        assert_eq!(num(dec("-0.5"), "FM9.99"), "-.5");
        assert_eq!(num(NumIn::Int(1), "FM9.99"), "1.");
        assert_eq!(num(NumIn::Int(1), "FM9.00"), "1.00");
        assert_eq!(num(NumIn::Int(123), "00000"), " 00123");
        assert_eq!(num(NumIn::Int(-123), "00000"), "-00123");
        assert_eq!(num(NumIn::Int(123), "S999"), "+123");
        assert_eq!(num(NumIn::Int(123), "999S"), "123+");
        assert_eq!(num(NumIn::Int(-123), "999MI"), "123-");
        assert_eq!(num(NumIn::Int(-123), "999PR"), "<123>");
        assert_eq!(num(NumIn::Int(123), "PL999"), "+ 123");
        assert_eq!(
            num(NumIn::Float(0.1, false), "0.999999999999999999"),
            " 0.10000000000000"
        );
        assert_eq!(num(NumIn::Int(21), "99th"), " 21st");
        assert_eq!(num(NumIn::Int(123), "RN"), "         CXXIII");
        assert_eq!(num(dec("123.45"), "999V99"), " 12345");
        assert_eq!(num(NumIn::Int(12), "x99y"), "x 12y");
        assert_eq!(num(dec("2.5"), "9"), " 3");
        assert_eq!(num(NumIn::Float(2.5, false), "9"), " 2");
        assert_eq!(num(dec("0.05"), "FM.99"), ".##");
        assert_eq!(num(NumIn::Int(12345678), "99,99,99,99"), " 12,34,56,78");
        assert_eq!(num(NumIn::Int(5), "9 9 9"), "     5");
    }

    #[test]
    fn parsing() {
        let z = Zone::UTC;
        assert_eq!(
            to_timestamp("2024-03-05 14:07:09", "YYYY-MM-DD HH24:MI:SS", &z).unwrap(),
            "2024-03-05 14:07:09+00"
        );
        assert_eq!(
            to_timestamp("05 Mar 2024 2:07 pm", "DD Mon YYYY HH12:MI AM", &z).unwrap(),
            "2024-03-05 14:07:00+00"
        );
        assert_eq!(to_date("20240305", "YYYYMMDD").unwrap(), "2024-03-05");
        assert_eq!(to_date("2024-3-5", "YYYY-MM-DD").unwrap(), "2024-03-05");
        assert_eq!(to_date("70-03-05", "YY-MM-DD").unwrap(), "1970-03-05");
        assert_eq!(
            to_date("March 5, 2024", "Month DD, YYYY").unwrap(),
            "2024-03-05"
        );
        assert!(to_date("2024-13-01", "YYYY-MM-DD").is_err());
        assert!(to_date("2024-02-30", "YYYY-MM-DD").is_err());
        assert!(to_date("abc", "YYYY").is_err());
        assert_eq!(
            to_number("12,454.8-", "99G999D9S").unwrap().unwrap(),
            "-12454.8"
        );
        assert_eq!(to_number("12345", "999").unwrap().unwrap(), "123");
        assert_eq!(to_number("-12.5", "99.99").unwrap().unwrap(), "-12.5");
        assert_eq!(to_number("  42", "9999").unwrap().unwrap(), "42");
        assert!(to_number("abc", "999").is_err());
        for garbage in [
            "", "\"", "\\", "FM", "9.9.9", "EEEE9", "PR9", "S9S", "ééé", "Y,Y",
        ] {
            let _ = number_to_char(NumIn::Int(1), garbage);
            let _ = to_number("1", garbage);
            let _ = to_timestamp("2024", garbage, &z);
            let _ = datetime_to_char("2024-01-01 00:00:00", Scalar::Timestamp, garbage, &z);
        }
    }
}
