//! Spring Boot's `DataSize` and `Duration` notations: `32MB`, `16KB`, `5ms`, `2m`.

use std::time::Duration;

/// What [`parse_size`] accepts, for error messages.
pub(crate) const SIZE_EXPECTED: &str = "a size in bytes: a whole number (bytes) or one with a unit B, KB, MB, GB or TB (1KB = 1024 bytes), e.g. 16KB or 32MB";

/// What [`parse_duration`] accepts, for error messages.
pub(crate) const DURATION_EXPECTED: &str = "a duration: a whole number of milliseconds or one with a unit ns, us, ms, s, m, h or d (e.g. 5ms, 30s, 2m), or ISO-8601 like PT30S";

/// What [`parse_bool`] accepts, for error messages.
pub(crate) const BOOL_EXPECTED: &str =
    "true or false (also on/off, yes/no, 1/0, as Spring converts booleans)";

/// Parses a boolean as Spring's `StringToBooleanConverter` does: `true`, `on`,
/// `yes`, `1` and `false`, `off`, `no`, `0`, case-insensitive.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Parses a byte size like Spring's `DataSize`: a plain number is bytes; the units
/// are binary (`1KB` = 1024 bytes) and case-insensitive; white space anywhere
/// is ignored and a `+` sign allowed, as `DataSize.parse` does (`16 KB`).
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (number, unit) = split_number(compact.strip_prefix('+').unwrap_or(&compact))?;
    let multiplier: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(multiplier)
}

/// Parses a duration like Spring's `Duration` binding: a plain number is
/// milliseconds (Spring's default unit); units `ns`, `us`, `ms`, `s`, `m`, `h`,
/// `d` (case-insensitive); or ISO-8601 `PnDTnHnMn.nS`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix(['P', 'p']) {
        return parse_iso8601(rest);
    }
    let (number, unit) = split_number(text)?;
    let nanos_per_unit: u64 = match unit.to_ascii_lowercase().as_str() {
        "ns" => 1,
        "us" => 1_000,
        "" | "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        "d" => 86_400 * 1_000_000_000,
        _ => return None,
    };
    let nanos = u128::from(number) * u128::from(nanos_per_unit);
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    // The remainder is below 1e9, so it fits a u32.
    let sub = u32::try_from(nanos % 1_000_000_000).ok()?;
    Some(Duration::new(secs, sub))
}

/// `16KB` as `(16, "KB")`: leading digits and the rest.
fn split_number(text: &str) -> Option<(u64, &str)> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    Some((number.parse().ok()?, unit))
}

/// The part after `P` of an ISO-8601 duration: `nD`, then optionally `T` with
/// `nH`, `nM` and `n[.n]S` (Java's `Duration.parse` form, without signs).
fn parse_iso8601(rest: &str) -> Option<Duration> {
    let upper = rest.to_ascii_uppercase();
    let (date, time) = match upper.split_once('T') {
        Some((date, time)) => {
            if time.is_empty() {
                return None;
            }
            (date, time)
        }
        None => (upper.as_str(), ""),
    };
    let mut total = Duration::ZERO;
    if !date.is_empty() {
        let days: u64 = date.strip_suffix('D')?.parse().ok()?;
        total = total.checked_add(Duration::from_secs(days.checked_mul(86_400)?))?;
    }
    let mut remaining = time;
    for (unit, secs_per_unit) in [('H', 3_600_u64), ('M', 60)] {
        if let Some(at) = remaining.find(unit) {
            let count: u64 = remaining[..at].parse().ok()?;
            total = total.checked_add(Duration::from_secs(count.checked_mul(secs_per_unit)?))?;
            remaining = &remaining[at + 1..];
        }
    }
    if !remaining.is_empty() {
        let seconds = remaining.strip_suffix('S')?;
        let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
        if whole.is_empty() || fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: u64 = whole.parse().ok()?;
        let nanos: u32 = if fraction.is_empty() {
            0
        } else {
            format!("{fraction:0<9}").parse().ok()?
        };
        total = total.checked_add(Duration::new(whole, nanos))?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_spring_data_size() {
        assert_eq!(parse_size("1048576"), Some(1_048_576));
        assert_eq!(parse_size("16KB"), Some(16_384));
        assert_eq!(parse_size("32MB"), Some(33_554_432));
        assert_eq!(parse_size("32mb"), Some(33_554_432));
        assert_eq!(parse_size("1GB"), Some(1 << 30));
        assert_eq!(parse_size("10B"), Some(10));
        assert_eq!(
            parse_size("16 KB"),
            Some(16_384),
            "DataSize drops white space"
        );
        assert_eq!(parse_size(" +16KB "), Some(16_384));
        assert_eq!(parse_size("+-16KB"), None);
        assert_eq!(parse_size("32XB"), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("MB"), None);
        assert_eq!(parse_size("99999999999TB"), None, "overflow is an error");
    }

    #[test]
    fn durations_follow_spring_duration() {
        assert_eq!(parse_duration("5"), Some(Duration::from_millis(5)));
        assert_eq!(parse_duration("5ms"), Some(Duration::from_millis(5)));
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("500us"), Some(Duration::from_micros(500)));
        assert_eq!(parse_duration("PT30S"), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_duration("PT1M0.5S"),
            Some(Duration::from_millis(60_500))
        );
        assert_eq!(parse_duration("P1DT1H"), Some(Duration::from_secs(90_000)));
        assert_eq!(parse_duration("5 parsecs"), None);
        assert_eq!(parse_duration("fast"), None);
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("-5ms"), None);
    }
}
