//! The poller on a fake clock: exact poll times for `Retry-After`, its floor and cap, the
//! default, `Location` fallback, the resource's own state, max wait, cancellation, failures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use common::{ARM, Reply, T0, reply, secs, setup, setup_with};
use landfall_azure::clock::SleepFuture;
use landfall_azure::{
    ArmRequest, CancelToken, Clock, Error, ErrorCode, FakeClock, Method, Monitor, PollOptions,
    PollStep, Sleep, Timer,
};
use serde_json::json;
use url::Url;

const API: &str = "2024-03-01";
const DEPLOYMENT: &str =
    "/subscriptions/s1/resourcegroups/rg/providers/Microsoft.Resources/deployments/d1";

fn status_url() -> String {
    format!("{ARM}{DEPLOYMENT}/operationStatuses/08584?api-version={API}")
}

fn created(headers: &[(&str, &str)]) -> Reply {
    reply(
        201,
        headers,
        json!({"id": DEPLOYMENT, "properties": {"provisioningState": "Accepted"}}),
    )
}

fn status(s: &str, headers: &[(&str, &str)]) -> Reply {
    reply(200, headers, json!({ "status": s }))
}

fn deployment(state: &str) -> Reply {
    reply(
        200,
        &[],
        json!({"id": DEPLOYMENT, "name": "d1", "properties": {"provisioningState": state,
            "outputs": {"url": {"type": "String", "value": "https://x"}}}}),
    )
}

#[tokio::test]
async fn async_operation_polls_follow_retry_after_then_the_default() {
    let su = status_url();
    let (client, fake, _) = setup(vec![
        created(&[("Azure-AsyncOperation", &su), ("Retry-After", "3")]),
        status("Accepted", &[("Retry-After", "7")]),
        status("Running", &[]),
        status("Succeeded", &[]),
        deployment("Succeeded"),
    ]);
    let poller = client
        .begin_put(DEPLOYMENT, API, &json!({"properties": {}}))
        .await
        .unwrap();
    assert_eq!(
        poller.monitor(),
        Some(&Monitor::AsyncOperation(Url::parse(&su).unwrap()))
    );
    let result = poller.await.unwrap();
    assert_eq!(result["properties"]["provisioningState"], "Succeeded");
    assert_eq!(result["properties"]["outputs"]["url"]["value"], "https://x");
    // PUT at 0; polls after Retry-After 3 s, then 7 s, then the 5 s default; the final GET of
    // the resource follows the Succeeded poll at once.
    assert_eq!(fake.times(), secs(&[0, 3, 10, 15, 15]));
    let calls = fake.calls();
    assert_eq!(calls[0], format!("PUT {DEPLOYMENT}"));
    assert!(
        calls[1..4]
            .iter()
            .all(|c| c.contains("/operationStatuses/"))
    );
    assert_eq!(calls[4], format!("GET {DEPLOYMENT}"));
    assert!(
        fake.seen()[4].url.ends_with("api-version=2024-03-01"),
        "the final GET keeps the api-version"
    );
}

#[tokio::test]
async fn retry_after_is_held_between_a_floor_and_a_cap() {
    let su = status_url();
    let (client, fake, _) = setup(vec![
        created(&[("Azure-AsyncOperation", &su), ("Retry-After", "0")]),
        status("Running", &[("Retry-After", "600")]),
        status(
            "Running",
            &[("Retry-After", "Mon, 02 Mar 2026 09:01:43 GMT")],
        ),
        status("Running", &[("Retry-After", "0.2")]),
        status("succeeded", &[]),
        deployment("Succeeded"),
    ]);
    client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    // 0 -> floor 1 s; 600 -> cap 60 s (at 61); an HTTP date 42 s later (at 103); 0.2 -> 1 s.
    assert_eq!(fake.times(), secs(&[0, 1, 61, 103, 104, 104]));
}

#[tokio::test]
async fn custom_floor_and_cap_apply() {
    let su = status_url();
    let poll = PollOptions {
        default_delay: Duration::from_secs(2),
        min_delay: Duration::from_secs(4),
        max_delay: Duration::from_secs(10),
        ..PollOptions::default()
    };
    let (client, fake, _) = setup_with(
        vec![
            created(&[("Azure-AsyncOperation", &su)]),
            status("Running", &[("Retry-After", "30")]),
            status("Succeeded", &[]),
            deployment("Succeeded"),
        ],
        common::exact_throttle(),
        poll,
    );
    client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .await
        .unwrap();
    // The 2 s default is below the 4 s floor; 30 s is above the 10 s cap.
    assert_eq!(fake.times(), secs(&[0, 4, 14, 14]));
}

#[tokio::test]
async fn location_is_polled_when_there_is_no_async_operation_header() {
    let loc = format!("{ARM}/subscriptions/s1/operationresults/abc?api-version={API}");
    let (client, fake, _) = setup(vec![
        reply(
            202,
            &[("Location", &loc), ("Retry-After", "2")],
            json!(null),
        ),
        reply(
            202,
            &[("Location", &loc), ("Retry-After", "4")],
            json!(null),
        ),
        reply(
            200,
            &[],
            json!({"status": "Succeeded", "properties": {"changes": [{"changeType": "Create"}]}}),
        ),
    ]);
    let url = client.url(&format!("{DEPLOYMENT}/whatIf"), API).unwrap();
    let poller = client
        .begin(ArmRequest::new(Method::Post, url).json(json!({"properties": {}})))
        .await
        .unwrap();
    assert!(matches!(poller.monitor(), Some(Monitor::Location(_))));
    let result = poller.wait().await.unwrap();
    assert_eq!(result["properties"]["changes"][0]["changeType"], "Create");
    assert_eq!(fake.times(), secs(&[0, 2, 6]));
    assert_eq!(
        fake.calls()[1],
        "GET /subscriptions/s1/operationresults/abc"
    );
}

#[tokio::test]
async fn async_operation_wins_over_location_and_post_reads_the_location_at_the_end() {
    let su = status_url();
    let loc = format!("{ARM}/subscriptions/s1/operationresults/xyz?api-version={API}");
    let (client, fake, _) = setup(vec![
        reply(
            202,
            &[("Location", &loc), ("Azure-AsyncOperation", &su)],
            json!(null),
        ),
        status("InProgress", &[]),
        status("Succeeded", &[]),
        reply(200, &[], json!({"result": 42})),
    ]);
    let url = client.url(&format!("{DEPLOYMENT}/validate"), API).unwrap();
    let result = client
        .begin(ArmRequest::new(Method::Post, url))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(result, json!({"result": 42}));
    let calls = fake.calls();
    assert!(calls[1].contains("operationStatuses") && calls[2].contains("operationStatuses"));
    assert_eq!(calls[3], "GET /subscriptions/s1/operationresults/xyz");
}

#[tokio::test]
async fn delete_with_location_ends_on_204() {
    let loc = format!("{ARM}/subscriptions/s1/operationresults/del?api-version=2021-04-01");
    let (client, fake, _) = setup(vec![
        reply(
            202,
            &[("Location", &loc), ("Retry-After", "15")],
            json!(null),
        ),
        reply(
            202,
            &[("Location", &loc), ("Retry-After", "15")],
            json!(null),
        ),
        reply(204, &[], json!(null)),
    ]);
    let result = client
        .begin_delete("/subscriptions/s1/resourcegroups/rg", "2021-04-01")
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(result, json!(null));
    assert_eq!(fake.times(), secs(&[0, 15, 30]));
}

#[tokio::test]
async fn put_201_without_poll_headers_polls_the_resource_itself() {
    let (client, fake, _) = setup(vec![
        reply(
            201,
            &[],
            json!({"properties": {"provisioningState": "Creating"}}),
        ),
        reply(
            200,
            &[],
            json!({"properties": {"provisioningState": "Updating"}}),
        ),
        reply(
            200,
            &[],
            json!({"properties": {"provisioningState": "Succeeded"}, "name": "vault"}),
        ),
    ]);
    let path = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v";
    let poller = client
        .begin_put(path, "2023-02-01", &json!({}))
        .await
        .unwrap();
    assert!(matches!(poller.monitor(), Some(Monitor::Resource(_))));
    assert_eq!(poller.await.unwrap()["name"], "vault");
    assert_eq!(fake.times(), secs(&[0, 5, 10]));
    assert!(fake.calls().iter().all(|c| c.ends_with("/vaults/v")));
}

#[tokio::test]
async fn a_synchronous_answer_needs_no_poll() {
    let (client, fake, _) = setup(vec![reply(
        200,
        &[],
        json!({"name": "rg", "properties": {"provisioningState": "Succeeded"}}),
    )]);
    let poller = client
        .begin_put(
            "/subscriptions/s1/resourcegroups/rg",
            "2021-04-01",
            &json!({}),
        )
        .await
        .unwrap();
    assert!(poller.is_done());
    assert_eq!(poller.wait().await.unwrap()["name"], "rg");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn unknown_statuses_keep_polling_and_terminal_ones_ignore_case() {
    let su = status_url();
    let (client, fake, _) = setup(vec![
        created(&[("Azure-AsyncOperation", &su)]),
        status("Accepted", &[]),
        status("Provisioning", &[]),
        status("SomethingNew", &[]),
        status("SUCCEEDED", &[]),
        deployment("Succeeded"),
    ]);
    let mut poller = client.begin_put(DEPLOYMENT, API, &json!({})).await.unwrap();
    let mut seen = Vec::new();
    while let PollStep::InProgress(s) = poller.poll().await.unwrap() {
        seen.push(s);
    }
    assert_eq!(seen, ["Accepted", "Provisioning", "SomethingNew"]);
    assert_eq!(poller.status(), "SUCCEEDED");
    assert_eq!(poller.polls(), 4);
    assert_eq!(fake.times(), secs(&[0, 5, 10, 15, 20, 20]));
    // Done stays done without another request.
    assert!(matches!(poller.poll().await.unwrap(), PollStep::Done(_)));
    assert_eq!(fake.seen().len(), 6);
}

#[tokio::test]
async fn max_wait_ends_with_a_timeout_exactly_at_the_deadline() {
    let su = status_url();
    let poll = PollOptions {
        max_wait: Duration::from_secs(12),
        ..PollOptions::default()
    };
    let (client, fake, clock) = setup_with(
        vec![
            created(&[("Azure-AsyncOperation", &su)]),
            status("Running", &[]),
            status("Running", &[]),
            status("Running", &[]),
        ],
        common::exact_throttle(),
        poll,
    );
    let err = client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap_err();
    // Polls at 5 and 10, a last one at the 12 s deadline, then it gives up.
    assert_eq!(fake.times(), secs(&[0, 5, 10, 12]));
    assert!(
        matches!(&err, Error::Timeout { waited, last_status, .. }
            if *waited == Duration::from_secs(12) && last_status == "Running"),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert_eq!(clock.now() - T0, time::Duration::seconds(12));
}

#[tokio::test]
async fn a_failed_operation_carries_its_error_tree() {
    let su = status_url();
    let (client, _, _) = setup(vec![
        created(&[("Azure-AsyncOperation", &su)]),
        reply(
            200,
            &[],
            json!({"status": "Failed", "error": {"code": "DeploymentFailed",
                "message": "At least one resource deployment operation failed.",
                "details": [{"code": "InvalidParameter", "target": "sku", "message": "bad sku"}]}}),
        ),
    ]);
    let err = client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DeploymentFailed);
    let d = err.detail().unwrap();
    assert_eq!(d.details[0].code, "InvalidParameter");
    assert_eq!(d.summary(), "InvalidParameter: bad sku");
    assert!(err.to_string().contains("ended Failed"), "{err}");
}

#[tokio::test]
async fn an_operation_canceled_in_azure_reports_canceled() {
    let su = status_url();
    let (client, _, _) = setup(vec![
        created(&[("Azure-AsyncOperation", &su)]),
        status("Canceled", &[]),
    ]);
    let err = client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::OperationFailed { status, .. } if status == "Canceled"));
    assert_eq!(err.code(), ErrorCode::Canceled);
}

#[tokio::test]
async fn a_202_with_nowhere_to_poll_is_a_protocol_error() {
    let (client, _, _) = setup(vec![reply(202, &[], json!(null))]);
    let err = client
        .begin_delete("/subscriptions/s1/resourcegroups/rg", "2021-04-01")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn a_cancel_between_polls_stops_before_the_next_request() {
    let su = status_url();
    let (client, fake, _) = setup(vec![
        created(&[("Azure-AsyncOperation", &su)]),
        status("Running", &[]),
        status("Running", &[]),
    ]);
    let token = CancelToken::new();
    let mut poller = client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .with_cancel(token.clone());
    assert_eq!(
        poller.poll().await.unwrap(),
        PollStep::InProgress("Running".into())
    );
    token.cancel();
    let err = poller.poll().await.unwrap_err();
    assert!(matches!(err, Error::Canceled { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::Canceled);
    assert_eq!(fake.seen().len(), 2, "no request after the cancel");
    assert_eq!(fake.left(), 1);
}

/// A sleep that never ends: the only way out is cancellation or dropping the future.
struct Forever(Arc<FakeClock>);

impl Clock for Forever {
    fn now(&self) -> time::OffsetDateTime {
        self.0.now()
    }
}

impl Sleep for Forever {
    fn sleep(&self, _: Duration) -> SleepFuture {
        Box::pin(std::future::pending())
    }
}

fn forever_client(script: Vec<Reply>) -> (landfall_azure::ArmClient, Arc<common::Fake>) {
    let clock = Arc::new(FakeClock::new(T0));
    let fake = common::Fake::new(clock.clone(), script);
    let forever = Arc::new(Forever(clock));
    let timer = Timer::new(forever.clone(), forever);
    let client = common::client_on(
        fake.clone(),
        timer,
        common::exact_throttle(),
        PollOptions::default(),
    );
    (client, fake)
}

#[tokio::test]
async fn a_cancel_during_a_sleep_returns_at_once() {
    let su = status_url();
    let (client, fake) = forever_client(vec![created(&[("Azure-AsyncOperation", &su)])]);
    let token = CancelToken::new();
    let poller = client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .with_cancel(token.clone());
    let task = tokio::spawn(poller.wait());
    tokio::task::yield_now().await;
    token.cancel();
    let err = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the cancel ends the wait")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Canceled { .. }), "{err:?}");
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn dropping_the_future_stops_polling() {
    let su = status_url();
    let (client, fake) = forever_client(vec![created(&[("Azure-AsyncOperation", &su)])]);
    let poller = client.begin_put(DEPLOYMENT, API, &json!({})).await.unwrap();
    let mut wait: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(poller.wait());
    // Drive it once (it parks in the sleep), then drop it.
    let polled = futures_poll_once(&mut wait).await;
    assert!(polled.is_none());
    drop(wait);
    tokio::task::yield_now().await;
    assert_eq!(fake.seen().len(), 1, "nothing runs after the drop");
}

/// Polls a future once; `Some` if it finished.
async fn futures_poll_once<T>(f: &mut Pin<Box<dyn Future<Output = T> + Send>>) -> Option<T> {
    std::future::poll_fn(|cx| match f.as_mut().poll(cx) {
        std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

#[tokio::test]
async fn a_429_while_polling_waits_retry_after_then_resumes() {
    let su = status_url();
    let (client, fake, clock) = setup(vec![
        created(&[("Azure-AsyncOperation", &su)]),
        reply(
            429,
            &[("Retry-After", "4")],
            json!({"error": {"code": "TooManyRequests", "message": "throttled"}}),
        ),
        status("Succeeded", &[]),
        deployment("Succeeded"),
    ]);
    client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(fake.times(), secs(&[0, 5, 9, 9]));
    assert_eq!(
        clock.sleeps(),
        [Duration::from_secs(5), Duration::from_secs(4)]
    );
}

#[tokio::test]
async fn a_poll_url_on_another_host_gets_no_token() {
    let (client, fake, _) = setup(vec![created(&[(
        "Azure-AsyncOperation",
        "https://evil.example/operationStatuses/1?api-version=1",
    )])]);
    let err = client
        .begin_put(DEPLOYMENT, API, &json!({}))
        .await
        .unwrap()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message } if message.contains("refusing")),
        "{err:?}"
    );
    assert_eq!(fake.seen().len(), 1, "only the PUT went out");
}
