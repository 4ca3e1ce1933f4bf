//! The server itself: HTTPS with the simulator's CA, the request log, ARM's common rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use landfall_sim::SimOptions;

#[tokio::test]
async fn serves_https_trusting_only_its_ca_and_logs_requests() {
    let sim = common::start(SimOptions::default()).await;
    let client = common::client(&sim);
    let r = client
        .get(format!(
            "{}/subscriptions?api-version=2022-12-01",
            sim.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "no token: ARM refuses");
    assert!(r.headers().get("www-authenticate").is_some());
    assert!(r.headers().get("x-ms-request-id").is_some());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AuthenticationFailed");

    let r = client
        .get(format!("{}/subscriptions", sim.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MissingApiVersionParameter");

    let log: serde_json::Value = client
        .get(format!("{}/_sim/requests", sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log[0]["method"], "GET");
    assert_eq!(log[0]["path"], "/subscriptions");
    assert_eq!(log[0]["status"], 401);
    assert_eq!(log[1]["status"], 400);

    // A client that does not trust the CA cannot connect at all.
    let untrusting = reqwest::Client::builder()
        .use_preconfigured_tls(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        )
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{}/_sim/requests", sim.base_url))
            .send()
            .await
            .is_err()
    );
    sim.stop().await;
}
