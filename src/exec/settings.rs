//! Session settings (GUCs): defaults, validation, SET / SET LOCAL / RESET, and which ones are
//! reported to the client with ParameterStatus, as PostgreSQL 16 does.

use std::collections::BTreeMap;

use crate::error::{PgError, PgResult, code};
use crate::sql::datetime::Zone;
use crate::sql::values::OutputStyle;

/// Settings PostgreSQL reports with ParameterStatus (GUC_REPORT), in its order.
pub const REPORTED: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "scram_iterations",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

/// Known settings: (canonical name, default, read-only).
const KNOWN: &[(&str, &str, bool)] = &[
    ("application_name", "", false),
    ("client_encoding", "UTF8", false),
    ("DateStyle", "ISO, MDY", false),
    ("default_transaction_read_only", "off", false),
    ("default_transaction_isolation", "read committed", false),
    ("in_hot_standby", "off", true),
    ("integer_datetimes", "on", true),
    ("IntervalStyle", "postgres", false),
    ("is_superuser", "on", true),
    ("scram_iterations", "4096", false),
    ("server_encoding", "UTF8", true),
    ("server_version", crate::PG_VERSION, true),
    ("server_version_num", "160006", true),
    ("session_authorization", "postgres", true),
    ("standard_conforming_strings", "on", false),
    ("TimeZone", "UTC", false),
    ("search_path", "\"$user\", public", false),
    ("statement_timeout", "0", false),
    ("lock_timeout", "0", false),
    ("idle_in_transaction_session_timeout", "0", false),
    ("extra_float_digits", "1", false),
    ("client_min_messages", "notice", false),
    ("transaction_isolation", "read committed", false),
    ("transaction_read_only", "off", false),
    ("max_identifier_length", "63", true),
    ("bytea_output", "hex", false),
    ("jit", "off", false),
    ("synchronous_commit", "on", false),
    ("work_mem", "4MB", false),
    ("maintenance_work_mem", "64MB", false),
    ("row_security", "on", false),
    ("xmloption", "content", false),
    ("lc_messages", "C", false),
    ("lc_monetary", "C", false),
    ("lc_numeric", "C", false),
    ("lc_time", "C", false),
    ("lc_collate", "C", true),
    ("lc_ctype", "C", true),
    ("max_connections", "1000", true),
    ("max_index_keys", "32", true),
    ("block_size", "8192", true),
    ("default_text_search_config", "pg_catalog.english", false),
    ("geqo", "on", false),
    ("enable_seqscan", "on", false),
    ("timezone_abbreviations", "Default", false),
    ("datestyle", "ISO, MDY", false),
    ("bedrock.consistency", "QUORUM", false),
    ("bedrock.commit_count", "0", false),
    ("bedrock.wait_timeout", "10s", false),
];

/// Canonical spelling of a setting name (case-insensitive, aliases resolved).
pub fn canonical(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    let n = match n.as_str() {
        "timezone" | "time zone" | "time_zone" => "TimeZone",
        "datestyle" => "DateStyle",
        "intervalstyle" => "IntervalStyle",
        "names" => "client_encoding",
        "transaction isolation level" => "transaction_isolation",
        "session authorization" => "session_authorization",
        _ => {
            return KNOWN
                .iter()
                .find(|k| k.0.eq_ignore_ascii_case(&n))
                .map(|k| k.0);
        }
    };
    Some(n)
}

fn default_of(name: &str) -> Option<(&'static str, bool)> {
    KNOWN.iter().find(|k| k.0 == name).map(|k| (k.1, k.2))
}

/// A session's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    values: BTreeMap<String, String>,
    /// Session-level values to restore when the transaction that ran SET LOCAL ends.
    local_saved: BTreeMap<String, String>,
    /// Custom (dotted) settings defined by SET.
    custom: BTreeMap<String, String>,
    /// Values at the start of the transaction that changed a setting: a rollback restores them.
    txn_snapshot: Option<(BTreeMap<String, String>, BTreeMap<String, String>)>,
}

fn bad_value(name: &str, value: &str) -> PgError {
    PgError::new(
        code::INVALID_PARAMETER_VALUE,
        format!("invalid value for parameter \"{name}\": \"{value}\""),
    )
}

/// Parse a duration setting (`statement_timeout`, `bedrock.wait_timeout`) in milliseconds.
pub fn parse_duration_ms(v: &str, default_unit_ms: u64) -> Option<u64> {
    let t = v.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "" => n * default_unit_ms as f64,
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "min" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        "d" => n * 86_400_000.0,
        _ => return None,
    };
    if ms < 0.0 || !ms.is_finite() {
        return None;
    }
    Some(ms.round() as u64)
}

/// A millisecond setting as PostgreSQL shows it: the largest unit that divides it exactly.
fn format_ms(ms: u64) -> String {
    if ms == 0 {
        return "0".into();
    }
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("min", 60_000),
        ("s", 1000),
    ] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

impl Settings {
    pub fn new(user: &str) -> Settings {
        let mut values = BTreeMap::new();
        for (k, v, _) in KNOWN {
            values.insert(k.to_string(), v.to_string());
        }
        values.insert("session_authorization".into(), user.to_string());
        Settings {
            values,
            local_saved: BTreeMap::new(),
            custom: BTreeMap::new(),
            txn_snapshot: None,
        }
    }

    /// A setting by its canonical name, without allocating (the hot path of every statement).
    pub fn value(&self, canonical: &str) -> Option<&str> {
        self.values.get(canonical).map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<String> {
        match canonical(name) {
            Some(
                c @ ("statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout"),
            ) => self
                .values
                .get(c)
                .map(|v| format_ms(v.parse().unwrap_or(0))),
            Some(c) => self.values.get(c).cloned(),
            None => self.custom.get(&name.to_ascii_lowercase()).cloned(),
        }
    }

    /// Validate and normalise a value. Returns the canonical name and value.
    pub fn validate(name: &str, value: &str) -> PgResult<(String, String)> {
        let Some(c) = canonical(name) else {
            if name.contains('.') {
                return Ok((name.to_ascii_lowercase(), value.to_string()));
            }
            return Err(PgError::new(
                code::UNDEFINED_OBJECT,
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        };
        if let Some((_, true)) = default_of(c) {
            return Err(PgError::new(
                code::CANT_CHANGE_RUNTIME_PARAM,
                format!("parameter \"{c}\" cannot be changed"),
            ));
        }
        let v = value.trim();
        let norm = match c {
            "client_encoding" => {
                let e = v
                    .trim_matches('\'')
                    .to_ascii_uppercase()
                    .replace(['-', '_'], "");
                if e == "UTF8" || e == "UNICODE" {
                    "UTF8".to_string()
                } else {
                    return Err(PgError::unsupported(format!(
                        "client_encoding {v} (only UTF8 is supported)"
                    )));
                }
            }
            "DateStyle" | "datestyle" => {
                let up = v.to_ascii_uppercase();
                let order = if up.contains("DMY") || up.contains("EURO") {
                    "DMY"
                } else if up.contains("YMD") {
                    "YMD"
                } else {
                    "MDY"
                };
                if up.contains("SQL") || up.contains("GERMAN") || up.contains("POSTGRES") {
                    return Err(PgError::unsupported(format!(
                        "DateStyle {v} (only ISO output is supported)"
                    )));
                }
                format!("ISO, {order}")
            }
            "IntervalStyle" => match v.to_ascii_lowercase().as_str() {
                "postgres" => "postgres".into(),
                "iso_8601" => "iso_8601".into(),
                other => return Err(PgError::unsupported(format!("IntervalStyle {other}"))),
            },
            "TimeZone" => {
                let z = Zone::parse(v).ok_or_else(|| bad_value("TimeZone", v))?;
                match v.to_ascii_lowercase().as_str() {
                    "utc" => "UTC".into(),
                    _ => match z {
                        Zone::Named(t) => t.name().to_string(),
                        Zone::Fixed(_) => v.to_string(),
                    },
                }
            }
            "standard_conforming_strings" => match v.to_ascii_lowercase().as_str() {
                "on" | "true" | "1" => "on".into(),
                _ => return Err(PgError::unsupported("standard_conforming_strings = off")),
            },
            "statement_timeout" | "lock_timeout" | "idle_in_transaction_session_timeout" => {
                parse_duration_ms(v, 1)
                    .ok_or_else(|| bad_value(c, v))?
                    .to_string()
            }
            "bedrock.wait_timeout" => {
                let ms = parse_duration_ms(v, 1000).ok_or_else(|| bad_value(c, v))?;
                format!("{ms}ms")
            }
            "bedrock.consistency" => {
                let up = v.to_ascii_uppercase();
                match up.as_str() {
                    "QUORUM" | "ONE" | "ASYNC" => up,
                    _ => {
                        return Err(
                            bad_value(c, v).with_hint("Available values: QUORUM, ONE, ASYNC.")
                        );
                    }
                }
            }
            "bedrock.commit_count" => {
                let n: u64 = v.parse().map_err(|_| bad_value(c, v))?;
                n.to_string()
            }
            "default_transaction_read_only"
            | "transaction_read_only"
            | "jit"
            | "geqo"
            | "enable_seqscan"
            | "row_security" => match crate::sql::values::parse_bool(v) {
                Ok(true) => "on".into(),
                Ok(false) => "off".into(),
                Err(_) => {
                    return Err(PgError::new(
                        code::INVALID_PARAMETER_VALUE,
                        format!("parameter \"{c}\" requires a Boolean value"),
                    ));
                }
            },
            "transaction_isolation" | "default_transaction_isolation" => {
                let l = v.to_ascii_lowercase().replace('_', " ");
                match l.as_str() {
                    "read uncommitted" | "read committed" | "repeatable read" | "serializable" => l,
                    _ => return Err(bad_value(c, v)),
                }
            }
            "bytea_output" => match v.to_ascii_lowercase().as_str() {
                "hex" => "hex".into(),
                "escape" => "escape".into(),
                _ => return Err(bad_value(c, v)),
            },
            "extra_float_digits" => {
                let n: i32 = v.parse().map_err(|_| bad_value(c, v))?;
                if !(-15..=3).contains(&n) {
                    return Err(bad_value(c, v));
                }
                n.to_string()
            }
            _ => v.to_string(),
        };
        Ok((c.to_string(), norm))
    }

    /// SET [LOCAL] name = value. Returns the canonical name if the value changed.
    pub fn set(&mut self, name: &str, value: &str, local: bool) -> PgResult<Option<String>> {
        let (c, v) = Settings::validate(name, value)?;
        if canonical(&c).is_none() {
            self.custom.insert(c.clone(), v);
            return Ok(None);
        }
        let old = self.values.get(&c).cloned().unwrap_or_default();
        if local && !self.local_saved.contains_key(&c) {
            self.local_saved.insert(c.clone(), old.clone());
        } else if !local {
            self.local_saved.remove(&c);
        }
        self.values.insert(c.clone(), v.clone());
        Ok(if old != v { Some(c) } else { None })
    }

    /// Set a value the server owns (e.g. `bedrock.commit_count` after a write).
    pub fn set_internal(&mut self, name: &str, value: String) {
        self.values.insert(name.to_string(), value);
    }

    /// RESET name (or ALL). Returns names whose value changed.
    pub fn reset(&mut self, name: Option<&str>) -> PgResult<Vec<String>> {
        let names: Vec<String> = match name {
            Some(n) => match canonical(n) {
                Some(c) => vec![c.to_string()],
                None if n.contains('.') => {
                    self.custom.remove(&n.to_ascii_lowercase());
                    return Ok(vec![]);
                }
                None => {
                    return Err(PgError::new(
                        code::UNDEFINED_OBJECT,
                        format!("unrecognized configuration parameter \"{n}\""),
                    ));
                }
            },
            None => KNOWN
                .iter()
                .filter(|k| !k.2)
                .map(|k| k.0.to_string())
                .collect(),
        };
        let mut changed = Vec::new();
        for n in names {
            let Some((def, ro)) = default_of(&n) else {
                continue;
            };
            if ro {
                continue;
            }
            if n == "bedrock.commit_count" && name.is_none() {
                continue;
            }
            if self.values.get(&n).map(String::as_str) != Some(def) {
                self.values.insert(n.clone(), def.to_string());
                changed.push(n);
            }
        }
        Ok(changed)
    }

    /// A setting is about to change inside a transaction block: remember how things stood.
    pub fn track_transaction(&mut self) {
        if self.txn_snapshot.is_none() {
            self.txn_snapshot = Some((self.values.clone(), self.custom.clone()));
        }
    }

    /// End of transaction: a rollback undoes every SET made in it; a commit undoes SET LOCAL.
    /// Returns names whose value changed.
    pub fn end_transaction(&mut self, committed: bool) -> Vec<String> {
        if let Some((values, custom)) = self.txn_snapshot.take()
            && !committed
        {
            let changed: Vec<String> = self
                .values
                .iter()
                .filter(|(k, v)| values.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .collect();
            // The commit fence is the server's, not a setting a rollback can take back.
            let fence = self.values.get("bedrock.commit_count").cloned();
            self.values = values;
            if let Some(f) = fence {
                self.values.insert("bedrock.commit_count".into(), f);
            }
            self.custom = custom;
            self.local_saved.clear();
            return changed
                .into_iter()
                .filter(|c| c != "bedrock.commit_count")
                .collect();
        }
        let saved = std::mem::take(&mut self.local_saved);
        let mut changed = Vec::new();
        for (k, v) in saved {
            if self.values.get(&k) != Some(&v) {
                changed.push(k.clone());
            }
            self.values.insert(k, v);
        }
        changed
    }

    pub fn is_reported(name: &str) -> bool {
        REPORTED.contains(&name)
    }

    pub fn zone(&self) -> Zone {
        self.values
            .get("TimeZone")
            .and_then(|z| Zone::parse(z))
            .unwrap_or(Zone::UTC)
    }

    pub fn style(&self) -> OutputStyle {
        OutputStyle {
            zone: self.zone(),
            interval_iso: self
                .values
                .get("IntervalStyle")
                .is_some_and(|v| v == "iso_8601"),
            bytea_escape: self
                .values
                .get("bytea_output")
                .is_some_and(|v| v == "escape"),
        }
    }

    /// statement_timeout in milliseconds (0 = none).
    pub fn statement_timeout_ms(&self) -> u64 {
        self.values
            .get("statement_timeout")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// All settings, for `SHOW ALL` and `current_setting`.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.extend(self.custom.iter().map(|(k, v)| (k.clone(), v.clone())));
        v
    }
}
