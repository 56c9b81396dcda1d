//! Small typed values of producer settings.

use std::fmt;
use std::str::FromStr;

use super::{ConfigError, keys, value};

/// `acks`: how many replicas must have the records before the broker answers.
///
/// ```
/// use kafka_core::config::Acks;
/// assert_eq!("all".parse::<Acks>().unwrap(), Acks::All);
/// assert_eq!("-1".parse::<Acks>().unwrap().as_i16(), -1);
/// assert_eq!(Acks::Leader.to_string(), "1");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Acks {
    /// `acks=0`: no answer awaited; at most once, offsets unknown.
    None,
    /// `acks=1`: the leader wrote it; lost if the leader dies before replicating.
    Leader,
    /// `acks=all` (`-1`): every in-sync replica wrote it. The Kafka 4.x default.
    #[default]
    All,
}

impl Acks {
    /// The value sent in a Produce request: 0, 1 or -1.
    pub const fn as_i16(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }

    const CHOICES: [(&'static str, Acks); 4] = [
        ("all", Acks::All),
        ("-1", Acks::All),
        ("0", Acks::None),
        ("1", Acks::Leader),
    ];
}

impl fmt::Display for Acks {
    /// `all`, `0` or `1`, as written in a properties file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        })
    }
}

impl FromStr for Acks {
    type Err = ConfigError;

    /// Accepts Java's spellings: `all`, `-1`, `0`, `1` (case-sensitive, as Java).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        value::one_of(keys::ACKS, s, &Acks::CHOICES)
    }
}

/// `client.dns.lookup`: how bootstrap host names are resolved.
///
/// Both of Java's values are accepted. Only `use_all_dns_ips` has its own
/// behaviour here: `resolve_canonical_bootstrap_servers_only` exists for Kerberos,
/// which needs SASL, and is treated as `use_all_dns_ips` (with a warning).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClientDnsLookup {
    /// Try each address a host name resolves to, in order. The default.
    #[default]
    UseAllDnsIps,
    /// Java: resolve bootstrap names to canonical names first (for Kerberos).
    ResolveCanonicalBootstrapServersOnly,
}

impl ClientDnsLookup {
    const CHOICES: [(&'static str, ClientDnsLookup); 2] = [
        ("use_all_dns_ips", ClientDnsLookup::UseAllDnsIps),
        (
            "resolve_canonical_bootstrap_servers_only",
            ClientDnsLookup::ResolveCanonicalBootstrapServersOnly,
        ),
    ];

    /// The Java name.
    pub const fn name(self) -> &'static str {
        match self {
            ClientDnsLookup::UseAllDnsIps => "use_all_dns_ips",
            ClientDnsLookup::ResolveCanonicalBootstrapServersOnly => {
                "resolve_canonical_bootstrap_servers_only"
            }
        }
    }
}

impl FromStr for ClientDnsLookup {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        value::one_of(keys::CLIENT_DNS_LOOKUP, s, &ClientDnsLookup::CHOICES)
    }
}

/// `metadata.recovery.strategy` (KIP-899): what the producer does when it
/// can reach none of the brokers its metadata names (all of them replaced or
/// moved, say).
///
/// Java's values, case-insensitive as in Java. With `rebootstrap` the
/// producer then connects to the `bootstrap.servers` again and takes the
/// cluster from there, as it also does when a broker answers
/// `REBOOTSTRAP_REQUIRED` (KIP-1102), or has had no metadata for
/// [`ProducerConfig::metadata_recovery_rebootstrap_trigger`]; with `none` it
/// keeps retrying the brokers it knows.
///
/// [`ProducerConfig::metadata_recovery_rebootstrap_trigger`]:
///     super::ProducerConfig::metadata_recovery_rebootstrap_trigger
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MetadataRecoveryStrategy {
    /// Back to the bootstrap addresses. The default since Kafka 4.0.
    #[default]
    Rebootstrap,
    /// Only the brokers of the last metadata, as Java clients before 4.0.
    None,
}

impl MetadataRecoveryStrategy {
    const CHOICES: [(&'static str, MetadataRecoveryStrategy); 2] = [
        ("none", MetadataRecoveryStrategy::None),
        ("rebootstrap", MetadataRecoveryStrategy::Rebootstrap),
    ];

    /// The Java name.
    pub const fn name(self) -> &'static str {
        match self {
            MetadataRecoveryStrategy::Rebootstrap => "rebootstrap",
            MetadataRecoveryStrategy::None => "none",
        }
    }
}

impl FromStr for MetadataRecoveryStrategy {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        value::one_of_ignoring_case(keys::METADATA_RECOVERY_STRATEGY, s, &Self::CHOICES)
    }
}

/// `metrics.recording.level`: which of the client's sensors record.
///
/// Every producer metric of the Java client is recorded at `INFO`, the
/// default, so all three levels record all of them here as there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RecordingLevel {
    /// `INFO`, the default.
    #[default]
    Info,
    /// `DEBUG`.
    Debug,
    /// `TRACE`.
    Trace,
}

impl RecordingLevel {
    const CHOICES: [(&'static str, RecordingLevel); 3] = [
        ("INFO", RecordingLevel::Info),
        ("DEBUG", RecordingLevel::Debug),
        ("TRACE", RecordingLevel::Trace),
    ];

    /// The Java name.
    pub const fn name(self) -> &'static str {
        match self {
            RecordingLevel::Info => "INFO",
            RecordingLevel::Debug => "DEBUG",
            RecordingLevel::Trace => "TRACE",
        }
    }
}

impl FromStr for RecordingLevel {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        value::one_of(keys::METRICS_RECORDING_LEVEL, s, &RecordingLevel::CHOICES)
    }
}

/// The codec named by `compression.type` (the levels are separate keys).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Codec {
    #[default]
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Codec {
    pub(crate) const CHOICES: [(&'static str, Codec); 5] = [
        ("none", Codec::None),
        ("gzip", Codec::Gzip),
        ("snappy", Codec::Snappy),
        ("lz4", Codec::Lz4),
        ("zstd", Codec::Zstd),
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// A compression level key's Java validator and default.
pub(crate) struct LevelRule {
    pub(crate) key: &'static str,
    pub(crate) min: i64,
    pub(crate) max: i64,
    /// A value outside `[min, max]` that is also accepted (gzip's -1).
    pub(crate) extra: Option<i64>,
    pub(crate) default: i32,
}

pub(crate) const GZIP_LEVEL: LevelRule = LevelRule {
    key: keys::COMPRESSION_GZIP_LEVEL,
    min: 1,
    max: 9,
    extra: Some(-1),
    default: -1,
};
pub(crate) const LZ4_LEVEL: LevelRule = LevelRule {
    key: keys::COMPRESSION_LZ4_LEVEL,
    min: 1,
    max: 17,
    extra: None,
    default: 9,
};
pub(crate) const ZSTD_LEVEL: LevelRule = LevelRule {
    key: keys::COMPRESSION_ZSTD_LEVEL,
    min: -131_072,
    max: 22,
    extra: None,
    default: 3,
};

impl LevelRule {
    pub(crate) fn check(&self, level: i64) -> Result<i32, ConfigError> {
        if (self.min..=self.max).contains(&level) || self.extra == Some(level) {
            // In range of i32 by construction of the rules.
            Ok(i32::try_from(level).unwrap_or(self.default))
        } else {
            Err(ConfigError::invalid(
                self.key,
                &level.to_string(),
                self.allowed(),
            ))
        }
    }

    pub(crate) fn parse(&self, raw: &str) -> Result<i32, ConfigError> {
        let level: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ConfigError::invalid(self.key, raw, self.allowed()))?;
        self.check(level)
    }

    fn allowed(&self) -> String {
        match self.extra {
            Some(extra) => format!("{} or {extra}", value::range_text(self.min, self.max)),
            None => value::range_text(self.min, self.max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_accept_java_spellings_only() {
        assert_eq!("all".parse(), Ok(Acks::All));
        assert_eq!(" -1 ".parse(), Ok(Acks::All));
        assert_eq!("0".parse(), Ok(Acks::None));
        assert_eq!("1".parse(), Ok(Acks::Leader));
        // Java's validator is case-sensitive: `ALL` is rejected there too.
        for bad in ["ALL", "2", "fast", ""] {
            let err = bad.parse::<Acks>().unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("invalid value '{bad}' for 'acks': expected one of all, -1, 0, 1")
            );
        }
        assert_eq!(
            [Acks::None, Acks::Leader, Acks::All].map(Acks::as_i16),
            [0, 1, -1]
        );
    }

    #[test]
    fn compression_levels_use_javas_ranges() {
        assert_eq!(GZIP_LEVEL.parse("-1"), Ok(-1));
        assert_eq!(GZIP_LEVEL.parse("9"), Ok(9));
        assert_eq!(
            GZIP_LEVEL.parse("0").unwrap_err().to_string(),
            "invalid value '0' for 'compression.gzip.level': expected an integer in [1, 9] or -1"
        );
        assert_eq!(LZ4_LEVEL.parse("17"), Ok(17));
        assert!(LZ4_LEVEL.parse("18").is_err());
        assert!(LZ4_LEVEL.parse("0").is_err());
        assert_eq!(ZSTD_LEVEL.parse("-131072"), Ok(-131_072));
        assert!(ZSTD_LEVEL.parse("-131073").is_err());
        assert!(ZSTD_LEVEL.parse("23").is_err());
    }

    #[test]
    fn dns_lookup_names_round_trip() {
        for (name, lookup) in ClientDnsLookup::CHOICES {
            assert_eq!(name.parse(), Ok(lookup));
            assert_eq!(lookup.name(), name);
        }
        assert!("use_all".parse::<ClientDnsLookup>().is_err());
    }
}
