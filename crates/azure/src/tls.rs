//! The HTTPS client: reqwest over rustls with the *ring* provider (no aws-lc build), the
//! platform's trusted roots, plus an extra CA for private clouds and the simulator.

use std::path::Path;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::error::Error;

/// How long to wait for a connection; azure_core's reqwest client uses the same.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait for data on an open connection; azure_core's reqwest client uses the same.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// An extra certificate authority to trust (PEM), for private clouds and the simulator.
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedCa {
    certificates: Vec<CertificateDer<'static>>,
    exclusive: bool,
    origin: String,
}

impl TrustedCa {
    /// Reads one or more certificates from PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        Self::parse(pem, "the CA certificate text")
    }

    /// Reads one or more certificates from a PEM file.
    pub fn from_pem_file(path: &Path) -> Result<Self, Error> {
        let pem = std::fs::read_to_string(path).map_err(|source| Error::File {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&pem, &format!("'{}'", path.display()))
    }

    fn parse(pem: &str, origin: &str) -> Result<Self, Error> {
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Config {
                message: format!("{origin} is not valid PEM: {e}"),
            })?;
        if certificates.is_empty() {
            return Err(Error::Config {
                message: format!("{origin} holds no certificate"),
            });
        }
        Ok(TrustedCa {
            certificates,
            exclusive: false,
            origin: origin.to_owned(),
        })
    }

    /// Trusts only these certificates, not the platform's roots (the simulator; tests).
    pub fn exclusive(mut self) -> Self {
        self.exclusive = true;
        self
    }

    /// How many certificates were read.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// Whether no certificate was read (never true for a constructed value).
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

impl std::fmt::Debug for TrustedCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedCa")
            .field("origin", &self.origin)
            .field("certificates", &self.certificates.len())
            .field("exclusive", &self.exclusive)
            .finish()
    }
}

/// Installs rustls' *ring* provider as the process default unless one is installed already.
/// reqwest is built with `rustls-no-provider`, so without this it has no cryptography.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread that installed one is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// An HTTPS client trusting the platform's roots plus `ca` (or only `ca` when exclusive).
/// Redirects are not followed: ARM does not use them, and azure_core's client does the same.
pub fn http_client(ca: Option<&TrustedCa>) -> Result<reqwest::Client, Error> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true);
    if let Some(ca) = ca {
        let certs = ca
            .certificates
            .iter()
            .map(|c| reqwest::Certificate::from_der(c.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Config {
                message: format!("{} cannot be used: {e}", ca.origin),
            })?;
        builder = if ca.exclusive {
            builder.tls_certs_only(certs)
        } else {
            builder.tls_certs_merge(certs)
        };
    }
    builder.build().map_err(|e| Error::Config {
        message: format!("cannot build the HTTPS client: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_a_certificate_is_refused() {
        let e = TrustedCa::from_pem("hello").unwrap_err();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        let e = TrustedCa::from_pem_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(matches!(e, Error::File { .. }));
    }
}
