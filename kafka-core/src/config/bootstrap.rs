//! `bootstrap.servers`: parsing and checking the `host:port` list.
//!
//! As Java's client (4.1): entries are separated by commas with optional
//! whitespace, empty entries are skipped, an optional `scheme://` prefix is
//! dropped, IPv6 literals may be bracketed, and the host may contain letters,
//! digits, `-`, `.`, `_`, `%` and (IPv6) `:`. Unlike Java, port 0 is rejected
//! (no broker listens there) and duplicate entries are removed. Entries are
//! kept as `host:port`, with IPv6 hosts bracketed (`[::1]:9092`), a form
//! `tokio::net::lookup_host` accepts.

use super::{ConfigError, keys};

const ENTRY_FORM: &str = "host:port with a port in [1, 65535]";

/// Parses a comma-separated list of `host:port` entries.
pub(crate) fn parse_list(raw: &str) -> Result<Vec<String>, ConfigError> {
    let mut servers: Vec<String> = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let server = parse_entry(entry)?;
        if !servers.contains(&server) {
            servers.push(server);
        }
    }
    if servers.is_empty() {
        return Err(ConfigError::invalid(
            keys::BOOTSTRAP_SERVERS,
            raw,
            "at least one host:port, e.g. localhost:9092",
        ));
    }
    Ok(servers)
}

/// Parses one `host:port` entry into its canonical form.
fn parse_entry(entry: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::invalid(keys::BOOTSTRAP_SERVERS, entry, ENTRY_FORM);
    let address = strip_scheme(entry);
    let (host, port) = if let Some(bracketed) = address.strip_prefix('[') {
        let (host, rest) = bracketed.split_once(']').ok_or_else(invalid)?;
        (host, rest.strip_prefix(':').ok_or_else(invalid)?)
    } else {
        address.rsplit_once(':').ok_or_else(invalid)?
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '%' | ':'));
    let port_ok = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
    if !host_ok || !port_ok {
        return Err(invalid());
    }
    let port = match port.parse::<u16>() {
        Ok(port) if port > 0 => port,
        _ => return Err(invalid()),
    };
    Ok(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

/// Drops a `scheme://` prefix such as `PLAINTEXT://`.
fn strip_scheme(entry: &str) -> &str {
    match entry.split_once("://") {
        Some((scheme, rest))
            if scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '%')) =>
        {
            rest
        }
        _ => entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_javas_client_accepts() {
        assert_eq!(
            parse_list(" a:1 , b.example.com:9092 ,,").unwrap(),
            ["a:1", "b.example.com:9092"]
        );
        assert_eq!(
            parse_list("PLAINTEXT://localhost:9092").unwrap(),
            ["localhost:9092"]
        );
        assert_eq!(parse_list("[::1]:9092").unwrap(), ["[::1]:9092"]);
        assert_eq!(parse_list("::1:9092").unwrap(), ["[::1]:9092"]);
        assert_eq!(parse_list("my_host:65535").unwrap(), ["my_host:65535"]);
        assert_eq!(parse_list("a:1,a:1,b:2").unwrap(), ["a:1", "b:2"]);
    }

    #[test]
    fn rejects_entries_without_a_valid_port() {
        for (raw, entry) in [
            ("localhost", "localhost"),
            ("localhost:", "localhost:"),
            (":9092", ":9092"),
            ("a:1,localhost:-1", "localhost:-1"),
            ("localhost:99999", "localhost:99999"),
            ("localhost:0", "localhost:0"),
            ("localhost:1 localhost:2", "localhost:1 localhost:2"),
            ("local/host:9092", "local/host:9092"),
            ("[::1:9092", "[::1:9092"),
            ("[::1]9092", "[::1]9092"),
        ] {
            let err = parse_list(raw).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "invalid value '{entry}' for 'bootstrap.servers': expected host:port with a port in [1, 65535]"
                ),
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_an_empty_list() {
        for raw in ["", " ", ",,"] {
            let err = parse_list(raw).unwrap_err();
            assert_eq!(err.key(), "bootstrap.servers");
            assert!(err.to_string().contains("at least one host:port"), "{err}");
        }
    }
}
