//! Throttling and retries through the whole client on a fake clock: 429 waits, backoff for
//! transient failures of idempotent calls only, dropped connections, pacing under the
//! rate-limit headers, and what every request carries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{ARM, Reply, TOKEN, exact_throttle, reply, secs, setup, setup_with};
use landfall_azure::{ArmRequest, Error, ErrorCode, Method, PollOptions, ThrottleOptions};
use serde_json::json;

const SUBS: &str = "/subscriptions";
const API: &str = "2022-12-01";

fn ok() -> Reply {
    reply(200, &[], json!({"value": []}))
}

fn throttled(retry_after: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = retry_after
        .map(|r| ("Retry-After", r))
        .into_iter()
        .collect();
    reply(
        429,
        &headers,
        json!({"error": {"code": "TooManyRequests", "message": "The request is being throttled."}}),
    )
}

fn unavailable(status: u16) -> Reply {
    reply(
        status,
        &[],
        json!({"error": {"code": "ServiceUnavailable", "message": "try later"}}),
    )
}

#[tokio::test]
async fn throttled_requests_wait_retry_after_then_succeed() {
    let (client, fake, clock) = setup(vec![throttled(Some("3")), throttled(Some("5")), ok()]);
    client.get(SUBS, API).await.unwrap();
    assert_eq!(fake.times(), secs(&[0, 3, 8]));
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(3), Duration::from_secs(5)]
    );
}

#[tokio::test]
async fn a_throttled_post_is_retried_because_it_was_not_processed() {
    let (client, fake, _) = setup(vec![throttled(Some("2")), ok()]);
    client
        .post(
            "/subscriptions/s1/providers/Microsoft.Compute/register",
            API,
            None,
        )
        .await
        .unwrap();
    assert_eq!(fake.times(), secs(&[0, 2]));
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_exponentially() {
    let (client, fake, _) = setup(vec![
        throttled(None),
        throttled(None),
        throttled(None),
        ok(),
    ]);
    client.get(SUBS, API).await.unwrap();
    assert_eq!(fake.times(), secs(&[0, 1, 3, 7]));
}

#[tokio::test]
async fn a_wait_longer_than_accepted_is_returned_not_waited() {
    let (client, fake, clock) = setup(vec![throttled(Some("900"))]);
    let err = client.get(SUBS, API).await.unwrap_err();
    assert!(
        matches!(&err, Error::Throttled { retry_after: Some(d), .. } if *d == Duration::from_secs(900)),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::Throttled);
    let report = err.report();
    assert_eq!(report.retry_after_seconds, Some(900));
    assert!(
        report
            .remediation
            .unwrap()
            .message
            .contains("Wait 900 seconds")
    );
    assert_eq!(fake.seen().len(), 1);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn throttle_retries_are_bounded() {
    let throttle = ThrottleOptions {
        max_throttle_retries: 2,
        ..exact_throttle()
    };
    let (client, fake, _) = setup_with(
        vec![
            throttled(Some("1")),
            throttled(Some("1")),
            throttled(Some("1")),
        ],
        throttle,
        PollOptions::default(),
    );
    let err = client.get(SUBS, API).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Throttled);
    assert_eq!(fake.times(), secs(&[0, 1, 2]));
}

#[tokio::test]
async fn transient_5xx_on_a_get_is_retried_with_exponential_backoff() {
    let (client, fake, _) = setup(vec![
        unavailable(503),
        unavailable(500),
        unavailable(502),
        unavailable(504),
        ok(),
    ]);
    client.get(SUBS, API).await.unwrap();
    assert_eq!(fake.times(), secs(&[0, 1, 3, 7, 15]));
}

#[tokio::test]
async fn a_5xx_retry_waits_at_least_the_retry_after_it_was_given() {
    let (client, fake, _) = setup(vec![reply(503, &[("Retry-After", "6")], json!(null)), ok()]);
    client.get(SUBS, API).await.unwrap();
    assert_eq!(fake.times(), secs(&[0, 6]));
}

#[tokio::test]
async fn retries_give_up_after_the_limit_with_the_last_error() {
    let (client, fake, _) = setup(vec![
        unavailable(503),
        unavailable(503),
        unavailable(503),
        unavailable(503),
        unavailable(503),
    ]);
    let err = client.get(SUBS, API).await.unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
    assert_eq!(fake.times(), secs(&[0, 1, 3, 7, 15]));
}

#[tokio::test]
async fn transient_5xx_on_a_post_is_not_retried() {
    let (client, fake, _) = setup(vec![unavailable(503)]);
    let err = client
        .post(
            "/subscriptions/s1/resourcegroups/rg/providers/Microsoft.Resources/deployments/d/validate",
            "2024-03-01",
            Some(&json!({})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_post_marked_idempotent_is_retried() {
    let (client, fake, _) = setup(vec![unavailable(500), Reply::Drop, ok()]);
    let url = client
        .url(
            "/subscriptions/s1/providers/Microsoft.Storage/checkNameAvailability",
            API,
        )
        .unwrap();
    client
        .send(
            ArmRequest::new(Method::Post, url)
                .json(json!({"name": "x"}))
                .idempotent(),
        )
        .await
        .unwrap();
    assert_eq!(fake.times(), secs(&[0, 1, 3]));
    assert_eq!(
        fake.seen()[2].header("content-type"),
        Some("application/json")
    );
}

#[tokio::test]
async fn dropped_connections_are_retried_for_put_but_not_for_post() {
    let (client, fake, _) = setup(vec![Reply::Drop, Reply::Drop, ok()]);
    client
        .put(
            "/subscriptions/s1/resourcegroups/rg",
            "2021-04-01",
            &json!({"location": "eastus"}),
        )
        .await
        .unwrap();
    assert_eq!(fake.times(), secs(&[0, 1, 3]));
    let body = &fake.seen()[2];
    assert_eq!(body.method, "PUT");

    let (client, fake, _) = setup(vec![Reply::Drop]);
    let err = client
        .post(
            "/subscriptions/s1/resourcegroups/rg/exportTemplate",
            "2021-04-01",
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::Network);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let (client, fake, _) = setup(vec![reply(
        404,
        &[
            ("x-ms-request-id", "r-1"),
            ("x-ms-correlation-request-id", "corr-1234"),
        ],
        json!({"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'rg' could not be found."}}),
    )]);
    let err = client
        .get("/subscriptions/s1/resourcegroups/rg", "2021-04-01")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert_eq!(fake.seen().len(), 1);
    let Error::Http {
        request_id,
        correlation_id,
        detail,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(request_id.as_deref(), Some("r-1"));
    assert_eq!(correlation_id.as_deref(), Some("corr-1234"));
    assert_eq!(detail.as_ref().unwrap().code, "ResourceGroupNotFound");
}

#[tokio::test]
async fn low_remaining_reads_spread_the_next_requests_over_the_window() {
    let low = |n: &str| {
        reply(
            200,
            &[("x-ms-ratelimit-remaining-subscription-reads", n)],
            json!({"value": []}),
        )
    };
    let (client, fake, _) = setup(vec![low("4"), low("1"), low("300"), ok(), ok()]);
    for _ in 0..4 {
        client.get(SUBS, API).await.unwrap();
    }
    // 4 left: the next read waits 10 s / 5 = 2 s; 1 left: 10 s / 2 = 5 s; 300 left: no wait.
    assert_eq!(fake.times(), secs(&[0, 2, 7, 7]));
    // Writes draw from another bucket and are not slowed by low reads.
    let (client, fake, _) = setup(vec![low("0"), ok()]);
    client.get(SUBS, API).await.unwrap();
    client
        .put(
            "/subscriptions/s1/resourcegroups/rg",
            "2021-04-01",
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(fake.times(), secs(&[0, 0]));
}

#[tokio::test]
async fn every_request_carries_api_version_correlation_id_and_the_bearer_token() {
    let (client, fake, _) = setup(vec![ok(), ok()]);
    client.get(SUBS, API).await.unwrap();
    client
        .get(
            &format!("{ARM}/subscriptions?api-version=2016-06-01&$skiptoken=x"),
            API,
        )
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(
        seen[0].url,
        format!("{ARM}/subscriptions?api-version={API}")
    );
    assert!(
        seen[1].url.contains("api-version=2016-06-01") && !seen[1].url.contains(API),
        "an api-version in the URL (a nextLink) is kept: {}",
        seen[1].url
    );
    for s in &seen {
        assert_eq!(s.header("x-ms-correlation-request-id"), Some("corr-1234"));
        assert_eq!(
            s.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(s.header("x-ms-client-request-id").is_some());
        assert!(
            s.header("user-agent")
                .is_some_and(|u| u.contains("landfall-azure"))
        );
    }
}
