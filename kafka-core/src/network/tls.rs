//! TLS for broker connections (`security.protocol=SSL` / `SASL_SSL`), on rustls
//! with the *ring* provider: no OpenSSL.
//!
//! The Java client's settings, with its defaults:
//!
//! - trust: `ssl.truststore.location` + `ssl.truststore.type` (`PKCS12`, or `JKS`
//!   which Java reads PKCS12 files as too, or `PEM`) + `ssl.truststore.password`;
//!   or `ssl.truststore.certificates` (inline PEM, KIP-651); with neither, the
//!   Mozilla root set (`webpki-roots`), as the JVM trusts its own `cacerts`;
//! - client certificate (mTLS): `ssl.keystore.location` + `.type` + `.password` and
//!   `ssl.key.password`, or inline `ssl.keystore.certificate.chain` +
//!   `ssl.keystore.key` (PEM, PKCS#8);
//! - `ssl.endpoint.identification.algorithm`: `https` (default) checks the broker's
//!   host name against its certificate; empty turns only that check off (the
//!   chain is still verified);
//! - `ssl.enabled.protocols`: `TLSv1.2,TLSv1.3` (rustls has no older versions).
//!
//! Stores are read when the configuration is built, so a missing file or a wrong
//! password is a [`ConfigError`] naming the key. Handshake failures are
//! [`NetworkError::Tls`] naming the broker and a typed [`TlsFailure`].

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::net::TcpStream;

use super::{DisconnectReason, NetworkError};
use crate::config::keys;
use crate::config::security::SecuritySettings;
use crate::config::{ConfigError, Password};

/// How a store file is encoded (`ssl.truststore.type`, `ssl.keystore.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreType {
    /// PKCS#12 (`PKCS12`; Java's default `JKS` reads PKCS12 files too).
    Pkcs12,
    /// PEM text: certificates, and for a key store a PKCS#8 private key.
    Pem,
}

/// A TLS protocol version (`ssl.enabled.protocols`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    /// `TLSv1.2`.
    Tls12,
    /// `TLSv1.3`.
    Tls13,
}

/// Where the trusted certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustSource {
    /// No trust store configured: the Mozilla root certificates.
    WebPkiRoots,
    /// `ssl.truststore.location`.
    File {
        /// The file.
        path: PathBuf,
        /// Its encoding.
        store_type: StoreType,
        /// `ssl.truststore.password` (PKCS12).
        password: Option<Password>,
    },
    /// `ssl.truststore.certificates`: PEM certificates inline.
    Inline(Password),
}

/// Where the client's key and certificate chain come from (mTLS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `ssl.keystore.location`.
    File {
        /// The file.
        path: PathBuf,
        /// Its encoding.
        store_type: StoreType,
        /// `ssl.keystore.password`.
        password: Option<Password>,
        /// `ssl.key.password`.
        key_password: Option<Password>,
    },
    /// `ssl.keystore.certificate.chain` and `ssl.keystore.key`, PEM inline.
    Inline {
        /// The certificate chain, leaf first.
        chain: Password,
        /// The private key (PKCS#8, or PKCS#1/SEC1).
        key: Password,
    },
}

/// The TLS settings of a producer, as the Java keys give them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// Trusted certificates.
    pub trust: TrustSource,
    /// The client certificate, for brokers that require one.
    pub key: Option<KeySource>,
    /// `ssl.endpoint.identification.algorithm=https`: check the host name.
    pub verify_host_name: bool,
    /// `ssl.enabled.protocols`.
    pub protocols: Vec<TlsVersion>,
}

impl Default for TlsSettings {
    /// Mozilla roots, no client certificate, host names checked, TLS 1.2 and 1.3.
    fn default() -> Self {
        TlsSettings {
            trust: TrustSource::WebPkiRoots,
            key: None,
            verify_host_name: true,
            protocols: vec![TlsVersion::Tls12, TlsVersion::Tls13],
        }
    }
}

fn store_type(settings: &SecuritySettings, key: &str) -> Result<StoreType, ConfigError> {
    match settings.get(key).map(str::to_ascii_uppercase).as_deref() {
        None | Some("JKS" | "PKCS12") => Ok(StoreType::Pkcs12),
        Some("PEM") => Ok(StoreType::Pem),
        Some(_) => Err(ConfigError::invalid(
            key,
            settings.get(key).unwrap_or_default(),
            "PKCS12, PEM or JKS (read as PKCS12; convert a JKS file with \
             keytool -importkeystore -deststoretype PKCS12)",
        )),
    }
}

impl TlsSettings {
    /// Reads the `ssl.*` settings (nothing is loaded yet).
    pub(crate) fn from_settings(settings: &SecuritySettings) -> Result<Self, ConfigError> {
        let trust_type = store_type(settings, keys::SSL_TRUSTSTORE_TYPE)?;
        let trust = match (
            settings.get(keys::SSL_TRUSTSTORE_LOCATION),
            settings.secret(keys::SSL_TRUSTSTORE_CERTIFICATES),
        ) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::conflict(
                    keys::SSL_TRUSTSTORE_CERTIFICATES,
                    "",
                    "set either ssl.truststore.location or ssl.truststore.certificates, not both",
                ));
            }
            (Some(path), None) => TrustSource::File {
                path: PathBuf::from(path),
                store_type: trust_type,
                password: settings.secret(keys::SSL_TRUSTSTORE_PASSWORD),
            },
            (None, Some(pem)) => {
                if settings.get(keys::SSL_TRUSTSTORE_TYPE).is_some() && trust_type != StoreType::Pem
                {
                    return Err(ConfigError::conflict(
                        keys::SSL_TRUSTSTORE_TYPE,
                        settings.get(keys::SSL_TRUSTSTORE_TYPE).unwrap_or_default(),
                        "ssl.truststore.certificates holds PEM certificates: set \
                         ssl.truststore.type=PEM or leave it unset",
                    ));
                }
                TrustSource::Inline(pem)
            }
            (None, None) => TrustSource::WebPkiRoots,
        };
        let key_type = store_type(settings, keys::SSL_KEYSTORE_TYPE)?;
        let key_password = settings.secret(keys::SSL_KEY_PASSWORD);
        let key = match (
            settings.get(keys::SSL_KEYSTORE_LOCATION),
            settings.secret(keys::SSL_KEYSTORE_CERTIFICATE_CHAIN),
            settings.secret(keys::SSL_KEYSTORE_KEY),
        ) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ConfigError::conflict(
                    keys::SSL_KEYSTORE_LOCATION,
                    "",
                    "set either ssl.keystore.location or ssl.keystore.certificate.chain and \
                     ssl.keystore.key, not both",
                ));
            }
            (Some(path), None, None) => Some(KeySource::File {
                path: PathBuf::from(path),
                store_type: key_type,
                password: settings.secret(keys::SSL_KEYSTORE_PASSWORD),
                key_password,
            }),
            (None, Some(chain), Some(key)) => {
                if key_password.is_some() {
                    return Err(ConfigError::unsupported(
                        keys::SSL_KEY_PASSWORD,
                        "encrypted PEM private keys are not supported; give ssl.keystore.key \
                         unencrypted (openssl pkcs8 -topk8 -nocrypt) or use a PKCS12 key store",
                    ));
                }
                Some(KeySource::Inline { chain, key })
            }
            (None, Some(_), None) => {
                return Err(ConfigError::Missing {
                    key: keys::SSL_KEYSTORE_KEY.to_owned(),
                    hint: "ssl.keystore.certificate.chain is set: give its private key too"
                        .to_owned(),
                });
            }
            (None, None, Some(_)) => {
                return Err(ConfigError::Missing {
                    key: keys::SSL_KEYSTORE_CERTIFICATE_CHAIN.to_owned(),
                    hint: "ssl.keystore.key is set: give its certificate chain too".to_owned(),
                });
            }
            (None, None, None) => None,
        };
        let verify_host_name = match settings
            .raw(keys::SSL_ENDPOINT_IDENTIFICATION_ALGORITHM)
            .map(str::trim)
        {
            None => true,
            Some("") => false,
            Some(algorithm) if algorithm.eq_ignore_ascii_case("https") => true,
            Some(other) => {
                return Err(ConfigError::invalid(
                    keys::SSL_ENDPOINT_IDENTIFICATION_ALGORITHM,
                    other,
                    "https (check the broker's host name) or empty (do not)",
                ));
            }
        };
        let protocols = match settings.get(keys::SSL_ENABLED_PROTOCOLS) {
            None => vec![TlsVersion::Tls12, TlsVersion::Tls13],
            Some(list) => parse_protocols(list)?,
        };
        if let Some(protocol) = settings.get(keys::SSL_PROTOCOL)
            && !["TLS", "TLSV1.2", "TLSV1.3"].contains(&protocol.to_ascii_uppercase().as_str())
        {
            return Err(ConfigError::invalid(
                keys::SSL_PROTOCOL,
                protocol,
                "TLSv1.3, TLSv1.2 or TLS (the versions used are ssl.enabled.protocols)",
            ));
        }
        Ok(TlsSettings {
            trust,
            key,
            verify_host_name,
            protocols,
        })
    }
}

fn parse_protocols(list: &str) -> Result<Vec<TlsVersion>, ConfigError> {
    let mut protocols = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let version = match name.to_ascii_uppercase().as_str() {
            "TLSV1.2" => TlsVersion::Tls12,
            "TLSV1.3" => TlsVersion::Tls13,
            "TLSV1" | "TLSV1.1" | "SSLV3" => {
                tracing::warn!(
                    protocol = name,
                    "ignoring {name} in ssl.enabled.protocols: only TLSv1.2 and TLSv1.3 are supported"
                );
                continue;
            }
            _ => {
                return Err(ConfigError::invalid(
                    keys::SSL_ENABLED_PROTOCOLS,
                    list,
                    "a comma-separated list of TLSv1.2, TLSv1.3",
                ));
            }
        };
        if !protocols.contains(&version) {
            protocols.push(version);
        }
    }
    if protocols.is_empty() {
        return Err(ConfigError::invalid(
            keys::SSL_ENABLED_PROTOCOLS,
            list,
            "at least one of TLSv1.2, TLSv1.3",
        ));
    }
    Ok(protocols)
}

/// A loaded TLS client configuration: opens TLS sessions to brokers.
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// Loads the trust and key material `settings` name.
    pub fn new(settings: &TlsSettings) -> Result<Self, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(load_trust(&settings.trust)?);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|error| {
                ConfigError::invalid(
                    keys::SSL_TRUSTSTORE_LOCATION,
                    "",
                    format!("usable trusted certificates ({error})"),
                )
            })?;
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = settings
            .protocols
            .iter()
            .map(|v| match v {
                TlsVersion::Tls12 => &rustls::version::TLS12,
                TlsVersion::Tls13 => &rustls::version::TLS13,
            })
            .collect();
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|error| {
                ConfigError::invalid(keys::SSL_ENABLED_PROTOCOLS, "", error.to_string())
            })?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(BrokerVerifier {
                inner: verifier,
                verify_host_name: settings.verify_host_name,
            }));
        let config = match &settings.key {
            None => builder.with_no_client_auth(),
            Some(source) => {
                let (chain, key) = load_key(source)?;
                builder.with_client_auth_cert(chain, key).map_err(|error| {
                    ConfigError::invalid(
                        keys::SSL_KEYSTORE_LOCATION,
                        "",
                        format!("a private key matching its certificate ({error})"),
                    )
                })?
            }
        };
        Ok(TlsConnector {
            config: Arc::new(config),
        })
    }

    /// Runs the TLS handshake with the broker at `address` (`host:port`) over
    /// `tcp`: the host part is the name sent (SNI) and checked.
    pub async fn connect(
        &self,
        address: &str,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, NetworkError> {
        let host = host_of(address);
        let name = ServerName::try_from(host.to_owned()).map_err(|_| NetworkError::Tls {
            address: address.to_owned(),
            reason: TlsFailure::InvalidHostName {
                host: host.to_owned(),
            },
        })?;
        tokio_rustls::TlsConnector::from(Arc::clone(&self.config))
            .connect(name, tcp)
            .await
            .map_err(|error| NetworkError::Tls {
                address: address.to_owned(),
                reason: TlsFailure::from_io(host, error),
            })
    }
}

/// With TLS 1.3 the broker checks the client certificate after the client's
/// handshake has finished, so its refusal (an alert) arrives on the first read:
/// report that as the TLS failure it is, not as a lost connection.
pub(crate) fn refused_after_handshake(address: &str, error: NetworkError) -> NetworkError {
    if let NetworkError::Disconnected {
        reason: DisconnectReason::Io(io),
        ..
    } = &error
        && let Some(rustls::Error::AlertReceived(alert)) = io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return NetworkError::Tls {
            address: address.to_owned(),
            reason: TlsFailure::RefusedByBroker {
                host: host_of(address).to_owned(),
                alert: format!("{alert:?}"),
            },
        };
    }
    error
}

/// The host of `host:port` (brackets of an IPv6 address removed).
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn read_file(key: &str, path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|error| {
        ConfigError::invalid(
            key,
            &path.display().to_string(),
            format!("a readable file ({error})"),
        )
    })
}

/// PEM as Java's `PemParser` reads it: the blocks may have their base64
/// on one line with their armour, or split by any whitespace (a value
/// joined from `.properties` continuation lines, or flattened into one
/// environment variable). Rewritten into standard 64-column blocks; text
/// without complete blocks is left as it is (and refused by the parser).
fn normalize_pem(pem: &[u8]) -> Vec<u8> {
    const BEGIN: &str = "-----BEGIN ";
    let Ok(text) = std::str::from_utf8(pem) else {
        return pem.to_vec();
    };
    let mut out = String::with_capacity(text.len() + text.len() / 64 + 64);
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let Some(label_end) = after_begin.find("-----") else {
            break;
        };
        let label = &after_begin[..label_end];
        let body_and_rest = &after_begin[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_marker) else {
            break;
        };
        let body: String = body_and_rest[..body_end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        out.push_str(BEGIN);
        out.push_str(label);
        out.push_str("-----\n");
        for line in body.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str(&end_marker);
        out.push('\n');
        rest = &body_and_rest[body_end + end_marker.len()..];
    }
    if out.is_empty() {
        return pem.to_vec();
    }
    // A block left incomplete goes on its own lines, without an end, for
    // the parser to refuse: a chain is not cut short silently.
    if let Some(start) = rest.find(BEGIN) {
        let incomplete = &rest[start..];
        match incomplete[BEGIN.len()..].find("-----") {
            Some(label_end) => {
                let armour_end = BEGIN.len() + label_end + 5;
                out.push_str(&incomplete[..armour_end]);
                out.push('\n');
                out.push_str(incomplete[armour_end..].trim());
                out.push('\n');
            }
            None => out.push_str(incomplete),
        }
    }
    out.into_bytes()
}

fn pem_certificates(
    key: &str,
    shown: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = normalize_pem(pem);
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ConfigError::invalid(key, shown, format!("PEM certificates ({error})")))?;
    if certs.is_empty() {
        return Err(ConfigError::invalid(
            key,
            shown,
            "PEM text with at least one -----BEGIN CERTIFICATE----- block",
        ));
    }
    Ok(certs)
}

fn pkcs12(
    key: &str,
    path: &Path,
    data: &[u8],
    password: Option<&Password>,
    policy: p12_keystore::Pkcs12ImportPolicy,
) -> Result<p12_keystore::KeyStore, ConfigError> {
    if data.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        return Err(ConfigError::unsupported(
            key,
            format!(
                "{} is a JKS key store; convert it with keytool -importkeystore \
                 -srckeystore {0} -destkeystore store.p12 -deststoretype PKCS12",
                path.display()
            ),
        ));
    }
    let password = password.map_or("", Password::expose);
    p12_keystore::KeyStore::from_pkcs12(data, password, policy).map_err(|error| {
        let why = match error {
            p12_keystore::error::Error::MacError(_) => "wrong password or damaged file".to_owned(),
            other => other.to_string(),
        };
        ConfigError::invalid(
            key,
            &path.display().to_string(),
            format!("a PKCS12 store readable with the configured password ({why})"),
        )
    })
}

fn load_trust(source: &TrustSource) -> Result<RootCertStore, ConfigError> {
    let key = keys::SSL_TRUSTSTORE_LOCATION;
    let certs = match source {
        TrustSource::WebPkiRoots => {
            return Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            });
        }
        TrustSource::Inline(pem) => pem_certificates(
            keys::SSL_TRUSTSTORE_CERTIFICATES,
            keys::HIDDEN,
            pem.expose().as_bytes(),
        )?,
        TrustSource::File {
            path,
            store_type: StoreType::Pem,
            ..
        } => pem_certificates(key, &path.display().to_string(), &read_file(key, path)?)?,
        TrustSource::File {
            path,
            store_type: StoreType::Pkcs12,
            password,
        } => {
            let data = read_file(key, path)?;
            let store = pkcs12(
                key,
                path,
                &data,
                password.as_ref(),
                p12_keystore::Pkcs12ImportPolicy::Raw,
            )?;
            let certs: Vec<CertificateDer<'static>> = store
                .entries()
                .filter_map(|(_, entry)| match entry {
                    p12_keystore::KeyStoreEntry::Certificate(cert) => {
                        Some(CertificateDer::from(cert.as_der().to_vec()))
                    }
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(ConfigError::invalid(
                    key,
                    &path.display().to_string(),
                    "a trust store holding at least one certificate",
                ));
            }
            certs
        }
    };
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|error| {
            ConfigError::invalid(key, "", format!("valid CA certificates ({error})"))
        })?;
    }
    Ok(roots)
}

type ClientIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn load_key(source: &KeySource) -> Result<ClientIdentity, ConfigError> {
    let key = keys::SSL_KEYSTORE_LOCATION;
    match source {
        KeySource::Inline { chain, key } => {
            let certs = pem_certificates(
                keys::SSL_KEYSTORE_CERTIFICATE_CHAIN,
                keys::HIDDEN,
                chain.expose().as_bytes(),
            )?;
            let private = pem_private_key(keys::SSL_KEYSTORE_KEY, key.expose().as_bytes())?;
            Ok((certs, private))
        }
        KeySource::File {
            path,
            store_type: StoreType::Pem,
            key_password,
            ..
        } => {
            if key_password.is_some() {
                return Err(ConfigError::unsupported(
                    keys::SSL_KEY_PASSWORD,
                    "encrypted PEM private keys are not supported; store the key unencrypted \
                     (openssl pkcs8 -topk8 -nocrypt) or use a PKCS12 key store",
                ));
            }
            let data = read_file(key, path)?;
            let certs = pem_certificates(key, &path.display().to_string(), &data)?;
            let private = pem_private_key(key, &data)?;
            Ok((certs, private))
        }
        KeySource::File {
            path,
            store_type: StoreType::Pkcs12,
            password,
            key_password,
        } => {
            let data = read_file(key, path)?;
            let policy = p12_keystore::Pkcs12ImportPolicy::Strict;
            // Java opens the store with ssl.keystore.password and the key with
            // ssl.key.password; PKCS12 files almost always use one password for both.
            let store = match pkcs12(key, path, &data, password.as_ref(), policy) {
                Ok(store) => store,
                Err(first) => match key_password {
                    Some(kp) if Some(kp) != password.as_ref() => {
                        pkcs12(key, path, &data, Some(kp), policy).map_err(|_| first)?
                    }
                    _ => return Err(first),
                },
            };
            let Some((_, chain)) = store.private_key_chain() else {
                return Err(ConfigError::invalid(
                    key,
                    &path.display().to_string(),
                    "a key store holding a private key with its certificate chain",
                ));
            };
            let certs = chain
                .certs()
                .iter()
                .map(|c| CertificateDer::from(c.as_der().to_vec()))
                .collect();
            let private =
                PrivateKeyDer::try_from(chain.key().as_der().to_vec()).map_err(|error| {
                    ConfigError::invalid(
                        key,
                        &path.display().to_string(),
                        format!("a usable private key ({error})"),
                    )
                })?;
            Ok((certs, private))
        }
    }
}

fn pem_private_key(key: &str, pem: &[u8]) -> Result<PrivateKeyDer<'static>, ConfigError> {
    let pem = normalize_pem(pem);
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| {
        let why = if String::from_utf8_lossy(&pem).contains("ENCRYPTED PRIVATE KEY") {
            "encrypted PEM private keys are not supported; decrypt it with openssl pkcs8 \
             -topk8 -nocrypt or use a PKCS12 key store"
                .to_owned()
        } else {
            error.to_string()
        };
        ConfigError::invalid(key, keys::HIDDEN, format!("a PEM private key ({why})"))
    })
}

/// Verifies the broker's chain with webpki; without host name checking
/// (`ssl.endpoint.identification.algorithm` empty) a name mismatch alone is
/// accepted. With it, a certificate that lists no DNS name is matched by its
/// subject's CN, as Java's `HostnameChecker` does (webpki reads only the
/// subjectAltName): brokers with such certificates work with Java clients.
#[derive(Debug)]
struct BrokerVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verify_host_name: bool,
}

impl ServerCertVerifier for BrokerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            // webpki checks the name only once the chain is trusted, so a
            // name error means the chain was verified.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.verify_host_name || common_name_names(end_entity, server_name) => {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Java's `HostnameChecker` for a DNS host: a certificate with any DNS
/// subjectAltName is judged by those alone (webpki did, and refused it);
/// one without is matched by its subject's most specific CN, exactly or by a
/// wildcard in the leftmost label. IP addresses are matched by their
/// subjectAltName alone, as in Java.
fn common_name_names(end_entity: &CertificateDer<'_>, server_name: &ServerName<'_>) -> bool {
    let ServerName::DnsName(host) = server_name else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(end_entity.as_ref()) else {
        return false;
    };
    let has_dns_names = match cert.subject_alternative_name() {
        Ok(None) => false,
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .any(|name| matches!(name, x509_parser::extensions::GeneralName::DNSName(_))),
        // A malformed or repeated extension: no fallback.
        Err(_) => true,
    };
    if has_dns_names {
        return false;
    }
    cert.subject()
        .iter_common_name()
        .last()
        .and_then(|cn| cn.as_str().ok())
        .is_some_and(|cn| dns_name_matches(host.as_ref(), cn))
}

/// Whether `host` is the DNS name `pattern` names: equal ignoring ASCII case
/// and a final dot, or `*.rest` with one label before `rest` (which has at
/// least two labels, so `*.com` names nothing).
fn dns_name_matches(host: &str, pattern: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    match pattern.strip_prefix("*.") {
        Some(rest) => {
            rest.contains('.')
                && !rest.contains('*')
                && host
                    .split_once('.')
                    .is_some_and(|(label, tail)| !label.is_empty() && tail.eq_ignore_ascii_case(rest))
        }
        None => !pattern.contains('*') && host.eq_ignore_ascii_case(pattern),
    }
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The broker's certificate is not signed by a trusted CA.
    #[error(
        "the certificate of {host} is not signed by a trusted CA (unknown issuer); set \
         ssl.truststore.location (or ssl.truststore.certificates) to the CA that signed it"
    )]
    UnknownIssuer {
        /// The host connected to.
        host: String,
    },
    /// The certificate is valid but not for the host name connected to.
    #[error(
        "the certificate of {host} is not valid for the name {host} (host name mismatch); \
         connect with a name the certificate lists, or set \
         ssl.endpoint.identification.algorithm= (empty) to skip the check"
    )]
    HostNameMismatch {
        /// The host connected to.
        host: String,
    },
    /// The certificate (or one in its chain) has expired.
    #[error("the certificate of {host} has expired; the broker needs a renewed certificate")]
    Expired {
        /// The host connected to.
        host: String,
    },
    /// The certificate (or one in its chain) is not valid yet.
    #[error("the certificate of {host} is not valid yet (check the clocks)")]
    NotValidYet {
        /// The host connected to.
        host: String,
    },
    /// Another problem with the broker's certificate.
    #[error("the certificate of {host} was rejected: {reason}")]
    BadCertificate {
        /// The host connected to.
        host: String,
        /// What was wrong.
        reason: String,
    },
    /// The broker ended the handshake with an alert, for example because it requires
    /// a client certificate (`ssl.client.auth=required`) and got none or distrusts it.
    #[error(
        "{host} refused the TLS handshake ({alert}); if it requires client certificates, \
         set ssl.keystore.location (or ssl.keystore.certificate.chain and ssl.keystore.key)"
    )]
    RefusedByBroker {
        /// The host connected to.
        host: String,
        /// The TLS alert received.
        alert: String,
    },
    /// The host part of the address is not a DNS name or IP address.
    #[error("{host} is not a valid DNS name or IP address for TLS")]
    InvalidHostName {
        /// The host given.
        host: String,
    },
    /// The handshake broke off: the peer closed the connection, or does not speak TLS
    /// (a PLAINTEXT listener).
    #[error(
        "the TLS handshake with {host} failed: {source}; is this a TLS listener (security.protocol)?"
    )]
    Handshake {
        /// The host connected to.
        host: String,
        /// The error.
        #[source]
        source: Arc<io::Error>,
    },
}

impl TlsFailure {
    fn from_io(host: &str, error: io::Error) -> TlsFailure {
        let host = host.to_owned();
        let Some(tls) = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        else {
            return TlsFailure::Handshake {
                host,
                source: Arc::new(error),
            };
        };
        match tls {
            rustls::Error::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer { host },
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    TlsFailure::HostNameMismatch { host }
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsFailure::Expired { host }
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsFailure::NotValidYet { host }
                }
                other => TlsFailure::BadCertificate {
                    host,
                    reason: format!("{other:?}"),
                },
            },
            rustls::Error::AlertReceived(alert) => TlsFailure::RefusedByBroker {
                host,
                alert: format!("{alert:?}"),
            },
            _ => TlsFailure::Handshake {
                host,
                source: Arc::new(error),
            },
        }
    }

    /// Whether another attempt may succeed: only when the handshake broke off;
    /// certificate problems stay until the configuration or the broker changes.
    pub fn is_retriable(&self) -> bool {
        matches!(self, TlsFailure::Handshake { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).expect("a test certificate")
    }

    fn dns(name: &str) -> ServerName<'static> {
        ServerName::try_from(name.to_owned()).expect("a DNS name")
    }

    #[test]
    fn a_certificate_without_dns_names_is_matched_by_its_common_name_as_in_java() {
        // Self-signed test certificates (openssl req -x509): only their names
        // are read here; the chain is webpki's.
        let cn_only = der(include_str!("testdata/cn-only.pem"));
        assert!(common_name_names(&cn_only, &dns("broker.example.com")));
        assert!(common_name_names(&cn_only, &dns("BROKER.example.com.")));
        assert!(!common_name_names(&cn_only, &dns("other.example.com")));
        assert!(!common_name_names(
            &cn_only,
            &ServerName::IpAddress("10.0.0.1".parse::<std::net::IpAddr>().unwrap().into())
        ));
        // Any DNS subjectAltName decides alone (and webpki already refused).
        let with_san = der(include_str!("testdata/cn-and-san.pem"));
        assert!(!common_name_names(&with_san, &dns("broker.example.com")));
        // An IP subjectAltName does not stop the fallback; CN *.example.com.
        let ip_san = der(include_str!("testdata/cn-ip-san.pem"));
        assert!(common_name_names(&ip_san, &dns("a.example.com")));
        assert!(!common_name_names(&ip_san, &dns("a.b.example.com")));
        assert!(!common_name_names(&der(include_str!("testdata/cn-only.pem")), &dns("example.com")));
    }

    #[test]
    fn wildcards_name_one_leftmost_label() {
        assert!(dns_name_matches("a.example.com", "*.example.com"));
        assert!(!dns_name_matches("example.com", "*.example.com"));
        assert!(!dns_name_matches("a.b.example.com", "*.example.com"));
        assert!(!dns_name_matches("a.com", "*.com"), "too broad");
        assert!(!dns_name_matches("a.example.com", "a*.example.com"));
        assert!(!dns_name_matches("a.example.com", "*.*.com"));
        assert!(dns_name_matches("Kafka-1.Example.COM", "kafka-1.example.com"));
    }

    fn settings(pairs: &[(&str, &str)]) -> SecuritySettings {
        SecuritySettings::from_pairs(pairs)
    }

    #[test]
    fn java_defaults() {
        let tls = TlsSettings::from_settings(&settings(&[])).unwrap();
        assert_eq!(tls, TlsSettings::default());
        assert!(TlsConnector::new(&tls).is_ok());
    }

    #[test]
    fn endpoint_identification_and_protocols() {
        let tls = TlsSettings::from_settings(&settings(&[
            (keys::SSL_ENDPOINT_IDENTIFICATION_ALGORITHM, ""),
            (keys::SSL_ENABLED_PROTOCOLS, "TLSv1.3"),
        ]))
        .unwrap();
        assert!(!tls.verify_host_name);
        assert_eq!(tls.protocols, vec![TlsVersion::Tls13]);
        let err =
            TlsSettings::from_settings(&settings(&[(keys::SSL_ENABLED_PROTOCOLS, "TLSv1.1")]))
                .unwrap_err();
        assert_eq!(err.key(), keys::SSL_ENABLED_PROTOCOLS);
        let err = TlsSettings::from_settings(&settings(&[(
            keys::SSL_ENDPOINT_IDENTIFICATION_ALGORITHM,
            "ldaps",
        )]))
        .unwrap_err();
        assert_eq!(err.key(), keys::SSL_ENDPOINT_IDENTIFICATION_ALGORITHM);
    }

    #[test]
    fn missing_store_and_bad_inline_pem_are_config_errors_without_secrets() {
        let tls = TlsSettings::from_settings(&settings(&[
            (keys::SSL_TRUSTSTORE_LOCATION, "/nonexistent/truststore.p12"),
            (keys::SSL_TRUSTSTORE_PASSWORD, "hunter2"),
        ]))
        .unwrap();
        let err = TlsConnector::new(&tls).unwrap_err();
        assert_eq!(err.key(), keys::SSL_TRUSTSTORE_LOCATION);
        assert!(
            err.to_string().contains("/nonexistent/truststore.p12"),
            "{err}"
        );
        assert!(!err.to_string().contains("hunter2"));

        let tls = TlsSettings::from_settings(&settings(&[(
            keys::SSL_TRUSTSTORE_CERTIFICATES,
            "not a certificate hunter2",
        )]))
        .unwrap();
        let err = TlsConnector::new(&tls).unwrap_err();
        assert_eq!(err.key(), keys::SSL_TRUSTSTORE_CERTIFICATES);
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn conflicting_sources_are_rejected() {
        let err = TlsSettings::from_settings(&settings(&[
            (keys::SSL_TRUSTSTORE_LOCATION, "/a"),
            (keys::SSL_TRUSTSTORE_CERTIFICATES, "x"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err =
            TlsSettings::from_settings(&settings(&[(keys::SSL_KEYSTORE_KEY, "x")])).unwrap_err();
        assert_eq!(err.key(), keys::SSL_KEYSTORE_CERTIFICATE_CHAIN);
    }

    #[test]
    fn failures_are_classified() {
        let wrap = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let f = TlsFailure::from_io(
            "b1",
            wrap(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        );
        assert!(matches!(f, TlsFailure::UnknownIssuer { .. }));
        assert!(f.to_string().contains("b1") && f.to_string().contains("unknown issuer"));
        let f = TlsFailure::from_io(
            "b1",
            wrap(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName,
            )),
        );
        assert!(matches!(f, TlsFailure::HostNameMismatch { .. }));
        let f = TlsFailure::from_io(
            "b1",
            wrap(rustls::Error::InvalidCertificate(CertificateError::Expired)),
        );
        assert!(matches!(f, TlsFailure::Expired { .. }));
        assert!(!f.is_retriable());
        let f = TlsFailure::from_io("b1", io::Error::from(io::ErrorKind::UnexpectedEof));
        assert!(f.is_retriable());
        assert_eq!(host_of("[::1]:9093"), "::1");
        assert_eq!(host_of("localhost:9093"), "localhost");
    }

    #[test]
    fn pem_on_one_line_reads_as_java_reads_it() {
        use base64::Engine;
        let der: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let body = base64::engine::general_purpose::STANDARD.encode(&der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let standard = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        );
        let flattened = standard.split_whitespace().collect::<Vec<_>>().join(" ");
        let two = format!("{flattened} {flattened}");
        for text in [&standard, &flattened, &two] {
            let certs = pem_certificates("k", "v", text.as_bytes()).unwrap();
            assert!(
                certs.iter().all(|c| c.as_ref() == der.as_slice()),
                "{text:?}"
            );
        }
        assert_eq!(pem_certificates("k", "v", two.as_bytes()).unwrap().len(), 2);
        // No complete block: left alone, and refused; nor is a chain whose
        // second block is cut short read as its first alone.
        assert!(pem_certificates("k", "v", b"-----BEGIN CERTIFICATE----- abc").is_err());
        let cut = format!("{flattened} -----BEGIN CERTIFICATE----- abc");
        assert!(pem_certificates("k", "v", cut.as_bytes()).is_err());
    }
}
