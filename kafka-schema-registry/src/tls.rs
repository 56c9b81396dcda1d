//! `schema.registry.ssl.*` as ureq's TLS configuration (rustls).

use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};

use crate::config::TlsMaterial;
use crate::error::RegistryError;

const TRUSTSTORE: &str = "schema.registry.ssl.truststore.location";
const KEYSTORE: &str = "schema.registry.ssl.keystore.location";

fn read_pem(
    key: &'static str,
    path: &str,
) -> Result<(Vec<Certificate<'static>>, Option<PrivateKey<'static>>), RegistryError> {
    let bytes = std::fs::read(path).map_err(|e| RegistryError::Tls {
        key,
        reason: format!("cannot read `{path}`: {e}"),
    })?;
    let mut certs = Vec::new();
    let mut private_key = None;
    for item in ureq::tls::parse_pem(&bytes) {
        match item.map_err(|e| RegistryError::Tls {
            key,
            reason: format!("`{path}` is not a readable PEM file: {e}"),
        })? {
            PemItem::Certificate(c) => certs.push(c),
            PemItem::PrivateKey(k) => private_key = Some(k),
            _ => {}
        }
    }
    Ok((certs, private_key))
}

/// The TLS configuration for `material` (Mozilla roots when no truststore).
pub(crate) fn tls_config(material: &TlsMaterial) -> Result<TlsConfig, RegistryError> {
    let mut builder = TlsConfig::builder();
    if let Some(path) = &material.truststore {
        let (certs, _) = read_pem(TRUSTSTORE, path)?;
        if certs.is_empty() {
            return Err(RegistryError::Tls {
                key: TRUSTSTORE,
                reason: format!("`{path}` holds no certificate"),
            });
        }
        builder = builder.root_certs(RootCerts::Specific(Arc::new(certs)));
        // Java's empty endpoint.identification.algorithm: trust the configured
        // CA without checking the name; rustls cannot split the two checks.
        builder = builder.disable_verification(material.skip_host_name_check);
    }
    if let Some(path) = &material.keystore {
        let (certs, key) = read_pem(KEYSTORE, path)?;
        let Some(key) = key else {
            return Err(RegistryError::Tls {
                key: KEYSTORE,
                reason: format!("`{path}` holds no private key"),
            });
        };
        if certs.is_empty() {
            return Err(RegistryError::Tls {
                key: KEYSTORE,
                reason: format!("`{path}` holds no certificate"),
            });
        }
        builder = builder.client_cert(Some(ClientCert::new_with_certs(&certs, key)));
    }
    Ok(builder.build())
}
