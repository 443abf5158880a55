//! Typing the values of `stats` replies the way pymemcache does.

use std::collections::HashMap;

use bytes::Bytes;

/// One value of a `stats` reply.
#[derive(Debug, Clone, PartialEq)]
pub enum StatValue {
    /// A counter or gauge: `curr_items 3`.
    Int(i64),
    /// A fraction: `rusage_user 0.012`, `growth_factor 1.25`.
    Float(f64),
    /// A setting that is on or off: `evictions on`, `cas_enabled yes`.
    Bool(bool),
    /// Anything else: `version 1.6.18`, `inter NULL`, `ITEM` details.
    Str(String),
}

impl StatValue {
    /// The integer, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            StatValue::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as a float, for integers and floats alike.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            StatValue::Int(n) => Some(*n as f64),
            StatValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The boolean, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            StatValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text, if the value is not a number or a boolean.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            StatValue::Str(text) => Some(text),
            _ => None,
        }
    }
}

/// Stats that memcached prints as 0/1 but that mean on/off.
const BOOLEAN_NUMBERS: &[&str] = &[
    "hash_is_expanding",
    "slab_reassign_running",
    "accepting_conns",
];

/// Stats whose value is text even when it looks like a number.
const ALWAYS_TEXT: &[&str] = &["version", "libevent", "inter", "stat_key_prefix"];

/// Parses the lines of a `stats` reply (`STAT name value`, `ITEM key [...]`)
/// into a map from name to typed value. Lines of another shape are skipped.
pub(crate) fn parse_stats(lines: &[Bytes]) -> HashMap<String, StatValue> {
    let mut stats = HashMap::with_capacity(lines.len());
    for line in lines {
        let line = String::from_utf8_lossy(line);
        let mut parts = line.splitn(3, ' ');
        let (Some(_tag), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        let value = parts.next().unwrap_or("");
        stats.insert(name.to_string(), type_value(name, value));
    }
    stats
}

fn type_value(name: &str, value: &str) -> StatValue {
    if ALWAYS_TEXT.contains(&name) {
        return StatValue::Str(value.to_string());
    }
    if BOOLEAN_NUMBERS.contains(&name) {
        match value {
            "0" => return StatValue::Bool(false),
            "1" => return StatValue::Bool(true),
            _ => {}
        }
    }
    match value {
        "yes" | "on" | "true" => return StatValue::Bool(true),
        "no" | "off" | "false" => return StatValue::Bool(false),
        _ => {}
    }
    if let Ok(int) = value.parse::<i64>() {
        return StatValue::Int(int);
    }
    if value.contains('.') {
        if let Ok(float) = value.parse::<f64>() {
            return StatValue::Float(float);
        }
    }
    StatValue::Str(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&'static str]) -> Vec<Bytes> {
        text.iter()
            .map(|line| Bytes::from_static(line.as_bytes()))
            .collect()
    }

    #[test]
    fn types_values_like_pymemcache() {
        let stats = parse_stats(&lines(&[
            "STAT pid 4242",
            "STAT rusage_user 0.012345",
            "STAT version 1.6.18",
            "STAT growth_factor 1.25",
            "STAT evictions on",
            "STAT cas_enabled yes",
            "STAT detail_enabled no",
            "STAT hash_is_expanding 0",
            "STAT inter NULL",
            "STAT 23:addr tcp:0.0.0.0:11211",
            "ITEM some_key [5 b; 0 s]",
        ]));
        assert_eq!(stats["pid"], StatValue::Int(4242));
        assert_eq!(stats["rusage_user"], StatValue::Float(0.012345));
        assert_eq!(stats["version"], StatValue::Str("1.6.18".into()));
        assert_eq!(stats["growth_factor"], StatValue::Float(1.25));
        assert_eq!(stats["evictions"], StatValue::Bool(true));
        assert_eq!(stats["cas_enabled"], StatValue::Bool(true));
        assert_eq!(stats["detail_enabled"], StatValue::Bool(false));
        assert_eq!(stats["hash_is_expanding"], StatValue::Bool(false));
        assert_eq!(stats["inter"], StatValue::Str("NULL".into()));
        assert_eq!(stats["23:addr"], StatValue::Str("tcp:0.0.0.0:11211".into()));
        assert_eq!(stats["some_key"], StatValue::Str("[5 b; 0 s]".into()));
    }
}
