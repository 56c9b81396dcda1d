//! Parsing and range-checking single values the way Java's `ConfigDef` does:
//! values are trimmed; integers are decimal with an optional sign; booleans are
//! `true`/`false` in any case.

use std::time::Duration;

use super::ConfigError;

/// Java's `INT` range.
pub(crate) const INT_MAX: i64 = i32::MAX as i64;
/// Java's `LONG` range.
pub(crate) const LONG_MAX: i64 = i64::MAX;

/// Parses a decimal integer and checks it against `[min, max]`.
pub(crate) fn integer(key: &str, raw: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    let parsed: i64 = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError::invalid(key, raw, range_text(min, max)))?;
    in_range(key, parsed, min, max)
}

/// Checks `value` against `[min, max]`.
pub(crate) fn in_range(key: &str, value: i64, min: i64, max: i64) -> Result<i64, ConfigError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            key,
            &value.to_string(),
            range_text(min, max),
        ))
    }
}

/// `an integer in [min, max]`.
pub(crate) fn range_text(min: i64, max: i64) -> String {
    format!("an integer in [{min}, {max}]")
}

/// Parses `true` / `false` (any case).
pub(crate) fn boolean(key: &str, raw: &str) -> Result<bool, ConfigError> {
    let trimmed = raw.trim();
    if trimmed.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if trimmed.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::invalid(key, raw, "true or false"))
    }
}

/// A non-negative millisecond count given as a `Duration`, checked against `[min, max]`.
pub(crate) fn duration_ms(
    key: &str,
    value: Duration,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match i64::try_from(value.as_millis()) {
        Ok(ms) => in_range(key, ms, min, max),
        Err(_) => Err(ConfigError::invalid(
            key,
            &format!("{value:?}"),
            format!("a duration of [{min}, {max}] milliseconds"),
        )),
    }
}

/// A byte count or other size given as `usize`, checked against `[min, max]`.
pub(crate) fn size(key: &str, value: usize, min: i64, max: i64) -> Result<i64, ConfigError> {
    match i64::try_from(value) {
        Ok(v) => in_range(key, v, min, max),
        Err(_) => Err(ConfigError::invalid(
            key,
            &value.to_string(),
            range_text(min, max),
        )),
    }
}

/// Milliseconds already validated non-negative, as a `Duration`.
pub(crate) fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A count already validated non-negative, as `usize` (saturating on 32-bit targets,
/// where `ProducerConfig` construction rejects larger values first).
pub(crate) fn count(value: i64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// One of a fixed set of spellings (case-sensitive, as Java's `ValidString`).
pub(crate) fn one_of<'a, T: Copy>(
    key: &str,
    raw: &str,
    choices: &'a [(&'a str, T)],
) -> Result<T, ConfigError> {
    pick(key, raw, choices, |name, trimmed| name == trimmed)
}

/// [`one_of`] ignoring ASCII case (Java's `CaseInsensitiveValidString`).
pub(crate) fn one_of_ignoring_case<'a, T: Copy>(
    key: &str,
    raw: &str,
    choices: &'a [(&'a str, T)],
) -> Result<T, ConfigError> {
    pick(key, raw, choices, str::eq_ignore_ascii_case)
}

fn pick<'a, T: Copy>(
    key: &str,
    raw: &str,
    choices: &'a [(&'a str, T)],
    matches: impl Fn(&str, &str) -> bool,
) -> Result<T, ConfigError> {
    let trimmed = raw.trim();
    choices
        .iter()
        .find(|(name, _)| matches(name, trimmed))
        .map(|(_, value)| *value)
        .ok_or_else(|| ConfigError::invalid(key, raw, one_of_text(choices.iter().map(|c| c.0))))
}

/// `one of a, b, c`.
pub(crate) fn one_of_text<'a>(names: impl Iterator<Item = &'a str>) -> String {
    format!("one of {}", names.collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_like_java() {
        assert_eq!(integer("k", " 5 ", 0, INT_MAX), Ok(5));
        assert_eq!(integer("k", "+5", 0, INT_MAX), Ok(5));
        assert_eq!(integer("k", "-1", -1, INT_MAX), Ok(-1));
        for bad in ["0x10", "1_000", "1e3", "", "five", "2147483648"] {
            let err = integer("k", bad, 0, INT_MAX).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid value '{bad}' for 'k': expected an integer in [0, 2147483647]")
            );
        }
        assert_eq!(
            integer("k", "-1", 0, INT_MAX).unwrap_err().to_string(),
            "invalid value '-1' for 'k': expected an integer in [0, 2147483647]"
        );
    }

    #[test]
    fn booleans_ignore_case() {
        assert_eq!(boolean("k", "TRUE"), Ok(true));
        assert_eq!(boolean("k", " False "), Ok(false));
        assert_eq!(
            boolean("k", "yes").unwrap_err().to_string(),
            "invalid value 'yes' for 'k': expected true or false"
        );
    }

    #[test]
    fn durations_and_sizes_are_range_checked() {
        assert_eq!(
            duration_ms("k", Duration::from_micros(1500), 0, LONG_MAX),
            Ok(1)
        );
        assert!(duration_ms("k", Duration::MAX, 0, LONG_MAX).is_err());
        assert!(duration_ms("k", Duration::from_millis(4999), 5000, LONG_MAX).is_err());
        assert_eq!(size("k", 7, 0, INT_MAX), Ok(7));
        assert!(size("k", usize::MAX, 0, INT_MAX).is_err());
    }
}
