//! Sign-in flows end to end against landfall-sim's Entra ID over HTTPS with its CA: the browser
//! flow with this test acting as the browser, device code through `authorization_pending` and
//! `slow_down`, refresh after expiry and tenant switching, a service principal's secret, and
//! a search for secrets in every `Debug` and error text. The credentials' clocks are the
//! simulator's manual clock, so expiry and device polling take no real time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::credentials::{Secret, TokenCredential};
use landfall_azure::CancelToken;
use landfall_azure::auth::device::DeviceCodePrompt;
use landfall_azure::auth::{
    BrowserOpener, CliSessionCredential, CliTool, ClientCertificateCredential,
    DeviceCodeCredential, InteractiveBrowserCredential, RefreshTokenCredential, SignInError,
    client_secret_credential,
};
use landfall_sim::Scenario;
use landfall_sim::entra::store::DeviceState;
use url::Url;

#[path = "support/sim_env.rs"]
mod sim_env;

use sim_env::Env;

/// What the test browser saw.
#[derive(Default)]
struct BrowserLog {
    /// The code in the redirect (to search for later).
    code: Option<String>,
    /// The loopback's status and page.
    page: Option<(u16, String)>,
}

/// A browser: GETs the authorize URL from the simulator, follows its 302 to the loopback
/// (after `tamper` rewrites it) and records what the loopback answered.
struct TestBrowser {
    https: reqwest::Client,
    tamper: fn(Url) -> Url,
    log: Arc<Mutex<BrowserLog>>,
    /// Does nothing at all (the user walked away).
    idle: bool,
}

impl TestBrowser {
    fn new(env: &Env) -> Self {
        TestBrowser {
            https: env.http.clone(),
            tamper: |u| u,
            log: Arc::default(),
            idle: false,
        }
    }
}

impl BrowserOpener for TestBrowser {
    fn open(&self, url: &Url) -> Result<(), SignInError> {
        if self.idle {
            return Ok(());
        }
        let (https, tamper, log, url) = (
            self.https.clone(),
            self.tamper,
            self.log.clone(),
            url.clone(),
        );
        tokio::spawn(async move {
            // Like Chrome's speculative preconnect: a connection that never sends a request
            // must not hold up the redirect.
            let redirect = url
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .map(|(_, v)| Url::parse(&v).unwrap())
                .unwrap();
            let _idle = tokio::net::TcpStream::connect(("127.0.0.1", redirect.port().unwrap()))
                .await
                .unwrap();
            let r = https.get(url).send().await.unwrap();
            assert_eq!(r.status(), 302);
            let location = Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
            let code = location
                .query_pairs()
                .find(|(k, _)| k == "code")
                .map(|(_, v)| v.into_owned());
            let target = tamper(location);
            let plain = reqwest::Client::builder().build().unwrap();
            let page = plain.get(target).send().await.unwrap();
            let status = page.status().as_u16();
            let body = page.text().await.unwrap();
            let mut log = log.lock().unwrap();
            log.code = code;
            log.page = Some((status, body));
        });
        Ok(())
    }
}

fn with_state(url: Url, state: &str) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" { state.into() } else { v };
            (k.into_owned(), v.into_owned())
        })
        .collect();
    let mut out = url.clone();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

#[tokio::test]
async fn browser_sign_in_driven_by_a_test_browser_gets_tokens_arm_accepts() {
    let env = Env::start(Scenario::default()).await;
    let browser = TestBrowser::new(&env);
    let log = browser.log.clone();
    let credential = InteractiveBrowserCredential::new(env.entra())
        .opener(Arc::new(browser))
        .timeout(Duration::from_secs(20));
    let session = credential.sign_in(&[&env.scope()]).await.unwrap();

    let id = &env.sim.sim.options.identity;
    let account = session.account().unwrap();
    assert_eq!(account.upn.as_deref(), Some(id.user_upn.as_str()));
    assert_eq!(account.oid.as_deref(), Some(id.user_object_id.as_str()));
    assert_eq!(account.tid.as_deref(), Some(id.tenant_id.as_str()));
    assert!(session.refresh_token().is_some());
    assert!(session.expires_on() > env.timer().now());
    let (status, page) = log.lock().unwrap().page.clone().unwrap();
    assert_eq!(status, 200);
    assert!(page.contains("You are signed in"), "{page}");

    // Through the TokenCredential path (a second browser round) and on to ARM.
    let credential = Arc::new(credential);
    let subs = env.list_subscriptions(credential.clone()).await;
    assert_eq!(
        subs["value"][0]["subscriptionId"].as_str(),
        Some(id.subscription_id.as_str())
    );
    assert!(credential.signed_in().await.is_some());
}

#[tokio::test]
async fn browser_response_with_another_state_is_refused() {
    let env = Env::start(Scenario::default()).await;
    let mut browser = TestBrowser::new(&env);
    browser.tamper = |u| with_state(u, "forged");
    let log = browser.log.clone();
    let credential = InteractiveBrowserCredential::new(env.entra())
        .opener(Arc::new(browser))
        .timeout(Duration::from_secs(20));
    let err = credential.sign_in(&[&env.scope()]).await.unwrap_err();
    assert!(matches!(err, SignInError::StateMismatch), "{err:?}");
    // Give the browser task a moment to record the page it got.
    for _ in 0..100 {
        if log.lock().unwrap().page.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, _) = log.lock().unwrap().page.clone().unwrap();
    assert_eq!(status, 400);
}

#[tokio::test]
async fn browser_sign_in_times_out_when_nobody_comes_back() {
    let env = Env::start(Scenario::default()).await;
    let mut browser = TestBrowser::new(&env);
    browser.idle = true;
    let credential = InteractiveBrowserCredential::new(env.entra())
        .opener(Arc::new(browser))
        .timeout(Duration::from_millis(200));
    let err = credential.sign_in(&[&env.scope()]).await.unwrap_err();
    assert!(matches!(err, SignInError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn browser_sign_in_stops_when_cancelled() {
    let env = Env::start(Scenario::default()).await;
    let mut browser = TestBrowser::new(&env);
    browser.idle = true;
    let cancel = CancelToken::new();
    let credential = InteractiveBrowserCredential::new(env.entra())
        .opener(Arc::new(browser))
        .cancel_token(cancel.clone());
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let err = credential.sign_in(&[&env.scope()]).await.unwrap_err();
    assert!(matches!(err, SignInError::Canceled), "{err:?}");
    canceller.await.unwrap();
}

/// A device credential whose prompt lands in the returned slot.
fn device_credential(env: &Env) -> (DeviceCodeCredential, Arc<Mutex<Option<DeviceCodePrompt>>>) {
    let shown: Arc<Mutex<Option<DeviceCodePrompt>>> = Arc::default();
    let slot = shown.clone();
    let credential = DeviceCodeCredential::new(
        env.entra(),
        Arc::new(move |p: &DeviceCodePrompt| *slot.lock().unwrap() = Some(p.clone())),
    );
    (credential, shown)
}

#[tokio::test]
async fn device_code_polls_through_pending_and_slow_down_to_tokens() {
    let env = Env::start(Scenario::default()).await;
    let (credential, shown) = device_credential(&env);
    let sim = env.sim.sim.clone();
    let prompt = shown.clone();
    env.on_sleep(Box::new(move |index, asked| match index {
        // The second wait is cut short, as a client polling too fast: `slow_down`.
        1 => Duration::from_secs(1),
        // Then the user enters the code.
        2 => {
            let code = prompt.lock().unwrap().clone().unwrap().user_code;
            let mut store = sim.tokens.store();
            let key = store.device_by_user_code(&code).unwrap();
            store.devices.get_mut(&key).unwrap().state = DeviceState::Approved;
            asked
        }
        _ => asked,
    }));
    let session = credential.sign_in(&[&env.scope()]).await.unwrap();
    // 5 s interval, then 5 s + 5 s after `slow_down` (RFC 8628).
    assert_eq!(
        env.sleeps(),
        [5, 5, 10].map(Duration::from_secs).to_vec(),
        "pending, slow_down, success"
    );
    let prompt = shown.lock().unwrap().clone().unwrap();
    assert!(prompt.message.contains(&prompt.user_code), "{prompt:?}");
    assert!(prompt.verification_uri.ends_with("/devicelogin"));
    assert!(session.refresh_token().is_some());
    assert_eq!(
        session.account().unwrap().upn.as_deref(),
        Some(env.sim.sim.options.identity.user_upn.as_str())
    );
    let subs = env
        .list_subscriptions(Arc::new(
            RefreshTokenCredential::from_session(env.entra(), &session).unwrap(),
        ))
        .await;
    assert!(subs["value"].as_array().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn expired_device_code_is_a_clear_error() {
    let env = Env::start(Scenario::default()).await;
    let (credential, _) = device_credential(&env);
    let err = credential.sign_in(&[&env.scope()]).await.unwrap_err();
    assert!(matches!(err, SignInError::DeviceCodeExpired), "{err:?}");
    assert!(err.to_string().contains("expired"), "{err}");
    // Polled every 5 s for the code's 15 minutes, never faster.
    assert!(env.sleeps().iter().all(|s| *s == Duration::from_secs(5)));
    assert_eq!(env.sleeps().len(), 180);
}

#[tokio::test]
async fn declined_device_code_is_a_clear_error() {
    let env = Env::start(Scenario::default()).await;
    let (credential, shown) = device_credential(&env);
    let sim = env.sim.sim.clone();
    env.on_sleep(Box::new(move |index, asked| {
        if index == 1 {
            let code = shown.lock().unwrap().clone().unwrap().user_code;
            let mut store = sim.tokens.store();
            let key = store.device_by_user_code(&code).unwrap();
            store.devices.get_mut(&key).unwrap().state = DeviceState::Declined;
        }
        asked
    }));
    let err = credential.sign_in(&[&env.scope()]).await.unwrap_err();
    assert!(matches!(err, SignInError::Declined { .. }), "{err:?}");
    assert!(err.to_string().contains("AADSTS65004"), "{err}");
}

#[tokio::test]
async fn access_token_is_cached_then_refreshed_after_it_expires() {
    let env = Env::start(Scenario {
        token_lifetime_seconds: Some(600),
        ..Scenario::default()
    })
    .await;
    let (credential, shown) = device_credential(&env);
    let approve = env.sim.sim.clone();
    env.on_sleep(Box::new(move |_, asked| {
        if let Some(p) = shown.lock().unwrap().clone() {
            let mut store = approve.tokens.store();
            if let Some(key) = store.device_by_user_code(&p.user_code)
                && let Some(flow) = store.devices.get_mut(&key)
                && flow.state == DeviceState::Pending
            {
                flow.state = DeviceState::Approved;
            }
        }
        asked
    }));
    let scope = env.scope();
    let first = credential.get_token(&[&scope], None).await.unwrap();
    let again = credential.get_token(&[&scope], None).await.unwrap();
    assert_eq!(
        first.token.secret(),
        again.token.secret(),
        "served from the cache"
    );
    let served = env.token_requests();

    // Past the access token's lifetime: the next call refreshes, and ARM takes the new token.
    env.time.clock.advance(time::Duration::seconds(700));
    let refreshed = credential.get_token(&[&scope], None).await.unwrap();
    assert_ne!(first.token.secret(), refreshed.token.secret());
    assert_eq!(env.token_requests(), served + 1);
    let subs = env.list_subscriptions(Arc::new(credential)).await;
    assert!(subs["value"].as_array().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn a_refresh_token_gets_tokens_for_the_guest_tenant() {
    let env = Env::start(Scenario::default()).await;
    let browser = TestBrowser::new(&env);
    let credential = InteractiveBrowserCredential::new(env.entra()).opener(Arc::new(browser));
    let session = credential.sign_in(&[&env.scope()]).await.unwrap();
    let refresh = RefreshTokenCredential::from_session(env.entra(), &session).unwrap();
    let guest = env.sim.sim.options.identity.guest_tenant_id.clone();
    let token = refresh
        .token_for_tenant(&guest, &[&env.scope()])
        .await
        .unwrap();
    assert_ne!(token.token.secret(), session.access_token().secret());
}

#[tokio::test]
async fn client_secret_credential_gets_tokens_arm_accepts() {
    let env = Env::start(Scenario::default()).await;
    let id = env.sim.sim.options.identity.clone();
    let credential = client_secret_credential(
        &env.cloud,
        &id.tenant_id,
        &id.client_id,
        Secret::new(id.client_secret.clone()),
        env.http.clone(),
    )
    .unwrap();
    let subs = env.list_subscriptions(credential).await;
    assert!(subs["value"].as_array().is_some_and(|v| !v.is_empty()));
}

/// The service principal's certificate and key (PEM) from `GET /_sim/client-certificate`.
async fn client_certificate(env: &Env) -> (String, String) {
    let body: serde_json::Value = env
        .http
        .get(format!("{}/_sim/client-certificate", env.sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        body["certificatePem"].as_str().unwrap().to_owned(),
        body["privateKeyPem"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn client_certificate_credential_gets_tokens_arm_accepts() {
    let env = Env::start(Scenario::default()).await;
    let id = env.sim.sim.options.identity.clone();
    let (certificate, key) = client_certificate(&env).await;
    let credential = Arc::new(
        ClientCertificateCredential::new(env.entra(), &id.client_id, &certificate, &key).unwrap(),
    );
    let first = credential.get_token(&[&env.scope()], None).await.unwrap();
    let again = credential.get_token(&[&env.scope()], None).await.unwrap();
    assert_eq!(
        first.token.secret(),
        again.token.secret(),
        "served from the cache"
    );
    let subs = env.list_subscriptions(credential).await;
    assert!(subs["value"].as_array().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn a_certificate_the_app_does_not_have_is_refused_with_its_aadsts_code() {
    let env = Env::start(Scenario::default()).await;
    let id = env.sim.sim.options.identity.clone();
    let (_, key) = client_certificate(&env).await;
    // The simulator's CA certificate: parseable, but not registered on the app.
    let credential =
        ClientCertificateCredential::new(env.entra(), &id.client_id, &env.sim.ca_pem, &key)
            .unwrap();
    let err = credential.token(&[&env.scope()]).await.unwrap_err();
    assert!(err.to_string().contains("AADSTS700027"), "{err}");
    assert!(ClientCertificateCredential::new(env.entra(), &id.client_id, "x", "y").is_err());
}

#[tokio::test]
async fn wrong_client_secret_names_the_aadsts_code_without_the_secret() {
    let env = Env::start(Scenario::default()).await;
    let id = env.sim.sim.options.identity.clone();
    let wrong = "wrong-secret-value-0123456789";
    let credential = client_secret_credential(
        &env.cloud,
        &id.tenant_id,
        &id.client_id,
        Secret::new(wrong),
        env.http.clone(),
    )
    .unwrap();
    let err = credential
        .get_token(&[&env.scope()], None)
        .await
        .unwrap_err();
    let (display, debug) = (err.to_string(), format!("{err:?}"));
    assert!(display.contains("AADSTS7000215"), "{display}");
    for text in [&display, &debug, &format!("{credential:?}")] {
        assert!(!text.contains(wrong), "secret leaked: {text}");
        assert!(!text.contains(&id.client_secret), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn a_missing_azure_cli_is_a_clear_error() {
    if std::process::Command::new("az")
        .arg("--version")
        .output()
        .is_ok()
    {
        // `az` is installed here: nothing to show about its absence.
        return;
    }
    let credential = CliSessionCredential::new(CliTool::AzureCli, None).unwrap();
    let err = credential
        .token(&["https://management.core.windows.net/.default"])
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, SignInError::CliSession { .. }), "{err:?}");
    assert!(text.contains("run `az login`"), "{text}");
    assert!(text.contains("az not found on PATH"), "{text}");
}

#[tokio::test]
async fn no_token_code_or_secret_appears_in_debug_or_errors() {
    let env = Env::start(Scenario::default()).await;
    let id = env.sim.sim.options.identity.clone();
    let browser = TestBrowser::new(&env);
    let log = browser.log.clone();
    let browser_credential =
        InteractiveBrowserCredential::new(env.entra()).opener(Arc::new(browser));
    let scope = env.scope();
    let token = browser_credential.get_token(&[&scope], None).await.unwrap();
    let refresh = browser_credential.signed_in().await.unwrap();
    let code = log.lock().unwrap().code.clone().unwrap();
    let session = refresh
        .refresh(env.tenant().as_str(), &[&scope])
        .await
        .unwrap();

    let secret_credential = client_secret_credential(
        &env.cloud,
        &id.tenant_id,
        &id.client_id,
        Secret::new(id.client_secret.clone()),
        env.http.clone(),
    )
    .unwrap();
    let app_token = secret_credential.get_token(&[&scope], None).await.unwrap();
    let wrong = client_secret_credential(
        &env.cloud,
        &id.tenant_id,
        &id.client_id,
        Secret::new("another-wrong-secret-42"),
        env.http.clone(),
    )
    .unwrap();
    let wrong_error = wrong.get_token(&[&scope], None).await.unwrap_err();
    // A refresh token that is not one: Entra's error, not the token.
    let bogus = RefreshTokenCredential::new(env.entra(), Secret::new("bogus-refresh-token-xyz"));
    let bogus_error = bogus.get_token(&[&scope], None).await.unwrap_err();

    let (device, _) = device_credential(&env);
    let device_error = device.sign_in(&[&scope]).await.unwrap_err();
    let (certificate, key) = client_certificate(&env).await;
    let certificate_credential =
        ClientCertificateCredential::new(env.entra(), &id.client_id, &certificate, &key).unwrap();
    let certificate_token = certificate_credential.token(&[&scope]).await.unwrap();

    let secrets = [
        token.token.secret().to_owned(),
        refresh.refresh_token().secret().to_owned(),
        session.access_token().secret().to_owned(),
        session.refresh_token().unwrap().secret().to_owned(),
        app_token.token.secret().to_owned(),
        code,
        id.client_secret.clone(),
        "another-wrong-secret-42".to_owned(),
        "bogus-refresh-token-xyz".to_owned(),
        certificate_token.token.secret().to_owned(),
        // The key's base64 body (any line of it).
        key.lines().nth(1).unwrap().to_owned(),
    ];
    let texts = [
        format!("{browser_credential:?}"),
        format!("{refresh:?}"),
        format!("{session:?}"),
        format!("{:?}", env.entra()),
        format!("{secret_credential:?}"),
        format!("{wrong:?}"),
        format!("{bogus:?}"),
        format!("{device:?}"),
        format!("{certificate_credential:?}"),
        format!("{token:?}"),
        format!("{wrong_error:?}"),
        wrong_error.to_string(),
        format!("{bogus_error:?}"),
        bogus_error.to_string(),
        format!("{device_error:?}"),
        device_error.to_string(),
        format!("{:?}", SignInError::StateMismatch),
    ];
    for text in &texts {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into: {text}"
            );
        }
    }
    assert!(bogus_error.to_string().contains("AADSTS"), "{bogus_error}");
}
