//! Shared by the simulator's integration tests: start a simulator, get an HTTPS client that
//! trusts its CA, get tokens.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use landfall_sim::{Sim, SimHandle, SimOptions};

/// Starts a simulator with throttling and faults off unless the options say otherwise.
pub async fn start(mut options: SimOptions) -> SimHandle {
    if options.scenario.failing_resources.is_empty() && options.scenario.transient_error_rate == 0.0
    {
        options.scenario.no_throttling = true;
    }
    Sim::start(options).await.expect("the simulator starts")
}

/// An HTTPS client trusting only the simulator's CA.
pub fn client(handle: &SimHandle) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile_certs(&handle.ca_pem) {
        roots.add(cert).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .build()
        .unwrap()
}

fn rustls_pemfile_certs(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.unwrap())
        .collect()
}
