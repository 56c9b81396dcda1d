//! `schema.registry.ssl.*` as ureq's TLS configuration (rustls), in the forms
//! the Java client's `ssl.*` keys take: PKCS12 (and `JKS`, read as PKCS12) or
//! PEM store files with their passwords, or inline PEM.
//!
//! PKCS12 files are read with `p12-keystore`, as kafka-core reads its
//! `ssl.*` stores; this crate depends on no other crate of the workspace, so
//! the few lines of store reading are its own (kafka-core's loader is private
//! and speaks kafka-core's `ConfigError`).

use std::sync::Arc;

use base64::Engine as _;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::config::{Secret, StoreType, TlsMaterial};
use crate::error::RegistryError;

const TRUSTSTORE: &str = "schema.registry.ssl.truststore.location";
const TRUSTSTORE_CERTIFICATES: &str = "schema.registry.ssl.truststore.certificates";
const KEYSTORE: &str = "schema.registry.ssl.keystore.location";
const KEYSTORE_CHAIN: &str = "schema.registry.ssl.keystore.certificate.chain";
const KEYSTORE_KEY: &str = "schema.registry.ssl.keystore.key";
const KEY_PASSWORD: &str = "schema.registry.ssl.key.password";
const ENDPOINT_IDENTIFICATION: &str = "schema.registry.ssl.endpoint.identification.algorithm";

fn tls_error(key: &'static str, reason: impl Into<String>) -> RegistryError {
    RegistryError::Tls {
        key,
        reason: reason.into(),
    }
}

fn read_file(key: &'static str, path: &str) -> Result<Vec<u8>, RegistryError> {
    std::fs::read(path).map_err(|e| tls_error(key, format!("cannot read `{path}`: {e}")))
}

/// The certificates and private key of PEM text; `shown` names it in errors
/// (a path, or the key of inline PEM: its text is never quoted).
fn read_pem(
    key: &'static str,
    shown: &str,
    bytes: &[u8],
) -> Result<(Vec<Certificate<'static>>, Option<PrivateKey<'static>>), RegistryError> {
    let mut certs = Vec::new();
    let mut private_key = None;
    for item in ureq::tls::parse_pem(bytes) {
        match item.map_err(|e| tls_error(key, format!("{shown} is not readable PEM text: {e}")))? {
            PemItem::Certificate(c) => certs.push(c),
            PemItem::PrivateKey(k) => private_key = Some(k),
            _ => {}
        }
    }
    if certs.is_empty() {
        return Err(tls_error(
            key,
            format!("{shown} holds no -----BEGIN CERTIFICATE----- block"),
        ));
    }
    Ok((certs, private_key))
}

fn pem_private_key(
    key: &'static str,
    shown: &str,
    pem: &[u8],
    private_key: Option<PrivateKey<'static>>,
) -> Result<PrivateKey<'static>, RegistryError> {
    private_key.ok_or_else(|| {
        let why = if String::from_utf8_lossy(pem).contains("ENCRYPTED PRIVATE KEY") {
            "an encrypted private key, which is not supported: decrypt it with openssl \
             pkcs8 -topk8 -nocrypt or use a PKCS12 key store"
        } else {
            "no private key (-----BEGIN PRIVATE KEY-----)"
        };
        tls_error(key, format!("{shown} holds {why}"))
    })
}

/// Opens a PKCS12 store (`JKS` files get the keytool command converting them;
/// PEM text the type setting to give).
fn pkcs12(
    key: &'static str,
    path: &str,
    data: &[u8],
    password: Option<&Secret>,
    policy: p12_keystore::Pkcs12ImportPolicy,
) -> Result<p12_keystore::KeyStore, RegistryError> {
    if data.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) {
        return Err(tls_error(
            key,
            format!(
                "`{path}` is a JKS key store; convert it with keytool -importkeystore \
                 -srckeystore {path} -destkeystore store.p12 -deststoretype PKCS12"
            ),
        ));
    }
    if String::from_utf8_lossy(&data[..data.len().min(4096)]).contains("-----BEGIN ") {
        let type_key = key.replace(".location", ".type");
        return Err(tls_error(
            key,
            format!("`{path}` is PEM text, not a PKCS12 store: set {type_key}=PEM"),
        ));
    }
    let password = password.map_or("", Secret::expose);
    p12_keystore::KeyStore::from_pkcs12(data, password, policy).map_err(|error| {
        let why = match error {
            p12_keystore::error::Error::MacError(_) => "wrong password or damaged file".to_owned(),
            other => other.to_string(),
        };
        tls_error(
            key,
            format!("`{path}` is not a PKCS12 store readable with the configured password ({why})"),
        )
    })
}

fn trusted_certificates(
    material: &TlsMaterial,
) -> Result<Option<Vec<Certificate<'static>>>, RegistryError> {
    if let Some(pem) = &material.truststore_certificates {
        let (certs, _) = read_pem(
            TRUSTSTORE_CERTIFICATES,
            TRUSTSTORE_CERTIFICATES,
            pem.expose().as_bytes(),
        )?;
        return Ok(Some(certs));
    }
    let Some(path) = &material.truststore else {
        return Ok(None);
    };
    let data = read_file(TRUSTSTORE, path)?;
    let certs = match material.truststore_type {
        StoreType::Pem => read_pem(TRUSTSTORE, &format!("`{path}`"), &data)?.0,
        StoreType::Pkcs12 => {
            let store = pkcs12(
                TRUSTSTORE,
                path,
                &data,
                material.truststore_password.as_ref(),
                p12_keystore::Pkcs12ImportPolicy::Raw,
            )?;
            let certs: Vec<Certificate<'static>> = store
                .entries()
                .filter_map(|(_, entry)| match entry {
                    p12_keystore::KeyStoreEntry::Certificate(cert) => {
                        Some(Certificate::from_der(cert.as_der()).to_owned())
                    }
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(tls_error(
                    TRUSTSTORE,
                    format!("`{path}` holds no trusted certificate"),
                ));
            }
            certs
        }
    };
    Ok(Some(certs))
}

fn client_cert(material: &TlsMaterial) -> Result<Option<ClientCert>, RegistryError> {
    if let (Some(chain), Some(key)) = (&material.keystore_certificate_chain, &material.keystore_key)
    {
        let (certs, _) = read_pem(KEYSTORE_CHAIN, KEYSTORE_CHAIN, chain.expose().as_bytes())?;
        let pem = key.expose().as_bytes();
        let private =
            ureq::tls::parse_pem(pem)
                .filter_map(Result::ok)
                .find_map(|item| match item {
                    PemItem::PrivateKey(k) => Some(k),
                    _ => None,
                });
        let private = pem_private_key(KEYSTORE_KEY, KEYSTORE_KEY, pem, private)?;
        return Ok(Some(ClientCert::new_with_certs(&certs, private)));
    }
    let Some(path) = &material.keystore else {
        return Ok(None);
    };
    let data = read_file(KEYSTORE, path)?;
    match material.keystore_type {
        StoreType::Pem => {
            if material.key_password.is_some() {
                return Err(tls_error(
                    KEY_PASSWORD,
                    "encrypted PEM private keys are not supported; store the key unencrypted \
                     (openssl pkcs8 -topk8 -nocrypt) or use a PKCS12 key store",
                ));
            }
            let shown = format!("`{path}`");
            let (certs, private) = read_pem(KEYSTORE, &shown, &data)?;
            let private = pem_private_key(KEYSTORE, &shown, &data, private)?;
            Ok(Some(ClientCert::new_with_certs(&certs, private)))
        }
        StoreType::Pkcs12 => {
            let policy = p12_keystore::Pkcs12ImportPolicy::Strict;
            let store_password = material.keystore_password.as_ref();
            // Java opens the store with the store password and the key with
            // ssl.key.password; PKCS12 files almost always use one for both.
            let store = match pkcs12(KEYSTORE, path, &data, store_password, policy) {
                Ok(store) => store,
                Err(first) => match &material.key_password {
                    Some(kp) if Some(kp) != store_password => {
                        pkcs12(KEYSTORE, path, &data, Some(kp), policy).map_err(|_| first)?
                    }
                    _ => return Err(first),
                },
            };
            let Some((_, chain)) = store.private_key_chain() else {
                return Err(tls_error(
                    KEYSTORE,
                    format!("`{path}` holds no private key with its certificate chain"),
                ));
            };
            let certs: Vec<Certificate<'static>> = chain
                .certs()
                .iter()
                .map(|c| Certificate::from_der(c.as_der()).to_owned())
                .collect();
            // ureq takes a key's kind from PEM (it does not name KeyKind):
            // PKCS12 holds PKCS#8 keys, so give it as such.
            let pem = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                base64::engine::general_purpose::STANDARD.encode(chain.key().as_der())
            );
            let private = PrivateKey::from_pem(pem.as_bytes()).map_err(|e| {
                tls_error(
                    KEYSTORE,
                    format!("`{path}` holds an unusable private key: {e}"),
                )
            })?;
            Ok(Some(ClientCert::new_with_certs(&certs, private)))
        }
    }
}

/// The TLS configuration for `material` (Mozilla roots when no truststore).
pub(crate) fn tls_config(material: &TlsMaterial) -> Result<TlsConfig, RegistryError> {
    if material.skip_host_name_check {
        // Java skips only the host name check; the HTTP client here can
        // only turn certificate verification off altogether, which would
        // trust any server (a man in the middle included). Refused rather
        // than weakened without a word.
        return Err(tls_error(
            ENDPOINT_IDENTIFICATION,
            "an empty value (no host name check) is not supported for the schema registry: \
             this client could only honour it by not verifying the server's certificate at \
             all. Reach the registry by a name its certificate holds (or add the name or \
             address to the certificate), and leave this setting at https",
        ));
    }
    let mut builder = TlsConfig::builder();
    if let Some(certs) = trusted_certificates(material)? {
        builder = builder.root_certs(RootCerts::Specific(Arc::new(certs)));
    }
    if let Some(cert) = client_cert(material)? {
        builder = builder.client_cert(Some(cert));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RegistryConfig;

    fn material(pairs: &[(&str, &str)]) -> TlsMaterial {
        let mut all = vec![("schema.registry.url", "https://registry:8081")];
        all.extend_from_slice(pairs);
        RegistryConfig::from_properties(all).unwrap().tls
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        tls_config(&material(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn skipping_the_host_name_check_is_refused_rather_than_all_verification_dropped() {
        let e = error(&[(ENDPOINT_IDENTIFICATION, "")]);
        assert!(e.starts_with(ENDPOINT_IDENTIFICATION), "{e}");
        assert!(e.contains("not verifying the server's certificate"), "{e}");
        assert!(tls_config(&material(&[(ENDPOINT_IDENTIFICATION, "https")])).is_ok());
    }

    #[test]
    fn missing_store_names_the_key_and_path() {
        let e = error(&[(TRUSTSTORE, "/nonexistent/ca.p12")]);
        assert!(e.starts_with(TRUSTSTORE), "{e}");
        assert!(e.contains("/nonexistent/ca.p12"), "{e}");
    }

    #[test]
    fn a_pem_file_read_as_the_default_pkcs12_says_which_type_to_set() {
        let dir = std::env::temp_dir().join(format!("sr-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ca.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = error(&[(TRUSTSTORE, path.to_str().unwrap())]);
        assert!(e.contains("schema.registry.ssl.truststore.type=PEM"), "{e}");
        let jks = dir.join("ca.jks");
        std::fs::write(&jks, [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2]).unwrap();
        let e = error(&[(TRUSTSTORE, jks.to_str().unwrap())]);
        assert!(e.contains("keytool -importkeystore"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn inline_pem_errors_never_quote_the_text() {
        let e = error(&[(TRUSTSTORE_CERTIFICATES, "not-a-certificate-s3cr3t")]);
        assert!(e.contains(TRUSTSTORE_CERTIFICATES), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");
        let e = error(&[
            (
                KEYSTORE_CHAIN,
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ),
            (KEYSTORE_KEY, "s3cr3t"),
        ]);
        assert!(!e.contains("s3cr3t"), "{e}");
    }
}
