//! The tracker: turns what Azure says about a stage's deployment (its operations, nested
//! deployments flattened) into resource events.
//!
//! Pure: the run loop fetches, the tracker diffs. Each observation is the full list of
//! operations; the tracker remembers what it has reported per resource and emits only
//! changes, so an operation seen twice is reported once and a resource whose operation failed
//! is reported the moment the failed operation is seen, not when the stage ends.

use std::collections::HashMap;

use landfall_azure::arm::{DeploymentOperation, NestedOperation};
use landfall_azure::{ArmErrorDetail, ErrorReport};
use time::OffsetDateTime;

use crate::deploy::durations::Durations;
use crate::deploy::remediation::operation_report;
use crate::events::DeploymentEvent;

/// What the tracker last reported for a resource.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Running {
        started: OffsetDateTime,
        state: String,
    },
    Succeeded,
    Failed,
}

/// Diffs a stage's operations into events.
#[derive(Debug)]
pub struct Tracker {
    stage: String,
    seen: HashMap<String, Seen>,
}

/// A resource operation read from Azure's answer.
struct ResourceOp<'a> {
    id: String,
    kind: String,
    name: String,
    state: &'a str,
    started: Option<OffsetDateTime>,
    ended: Option<OffsetDateTime>,
    op: &'a DeploymentOperation,
}

impl Tracker {
    /// A tracker for `stage`.
    pub fn new(stage: &str) -> Self {
        Tracker {
            stage: stage.to_owned(),
            seen: HashMap::new(),
        }
    }

    /// Remembers what an earlier watcher of the same run already reported (from the
    /// journal), so a resumed run does not report a resource's start or end twice.
    pub fn seed(&mut self, reported: &[DeploymentEvent]) {
        for event in reported {
            match event {
                DeploymentEvent::ResourceStarted {
                    stage,
                    resource_id,
                    at,
                    ..
                } if *stage == self.stage => {
                    self.seen
                        .entry(resource_id.to_ascii_lowercase())
                        .or_insert(Seen::Running {
                            started: *at,
                            state: String::new(),
                        });
                }
                DeploymentEvent::ResourceSucceeded {
                    stage, resource_id, ..
                } if *stage == self.stage => {
                    self.seen
                        .insert(resource_id.to_ascii_lowercase(), Seen::Succeeded);
                }
                DeploymentEvent::ResourceFailed {
                    stage, resource_id, ..
                } if *stage == self.stage => {
                    self.seen
                        .insert(resource_id.to_ascii_lowercase(), Seen::Failed);
                }
                _ => {}
            }
        }
    }

    /// Resources reported so far that have not finished.
    pub fn running(&self) -> usize {
        self.seen
            .values()
            .filter(|s| matches!(s, Seen::Running { .. }))
            .count()
    }

    /// True once a resource of this stage was reported failed.
    pub fn any_failed(&self) -> bool {
        self.seen.values().any(|s| *s == Seen::Failed)
    }

    /// Diffs one observation of the stage's operations (from
    /// `list_deployment_operations_nested`) into events, in the order they happened.
    pub fn observe(
        &mut self,
        operations: &[NestedOperation],
        durations: &Durations,
        now: OffsetDateTime,
    ) -> Vec<DeploymentEvent> {
        let mut events = Vec::new();
        let mut ops: Vec<ResourceOp<'_>> = operations
            .iter()
            .filter_map(|n| resource_op(&n.operation))
            .collect();
        // Operations of one resource can repeat (a retried PUT, a Read after Create): the
        // latest one counts.
        ops.sort_by_key(|o| o.started.or(o.ended));
        let mut latest: HashMap<String, usize> = HashMap::new();
        for (i, o) in ops.iter().enumerate() {
            latest.insert(o.id.to_ascii_lowercase(), i);
        }
        for (i, o) in ops.iter().enumerate() {
            let key = o.id.to_ascii_lowercase();
            if latest.get(&key) != Some(&i) {
                continue;
            }
            let previous = self.seen.get(&key).cloned();
            let state = o.state;
            let terminal_ok = state.eq_ignore_ascii_case("Succeeded");
            let terminal_failed =
                state.eq_ignore_ascii_case("Failed") || state.eq_ignore_ascii_case("Canceled");
            let started = match &previous {
                Some(Seen::Running { started, .. }) => *started,
                _ => o.started.unwrap_or(now),
            };
            if previous.is_none() {
                events.push(DeploymentEvent::ResourceStarted {
                    stage: self.stage.clone(),
                    resource_id: o.id.clone(),
                    resource_type: o.kind.clone(),
                    resource_name: o.name.clone(),
                    expected_secs: durations.expected(&o.kind),
                    at: started,
                });
            }
            match previous {
                Some(Seen::Succeeded) | Some(Seen::Failed) => continue,
                _ => {}
            }
            let at = o.ended.unwrap_or(now);
            if terminal_ok {
                events.push(DeploymentEvent::ResourceSucceeded {
                    stage: self.stage.clone(),
                    resource_id: o.id.clone(),
                    elapsed_secs: secs_between(started, at),
                    at,
                });
                self.seen.insert(key, Seen::Succeeded);
            } else if terminal_failed {
                let error = failure_report(o.op, state);
                events.push(DeploymentEvent::ResourceFailed {
                    stage: self.stage.clone(),
                    resource_id: o.id.clone(),
                    resource_type: o.kind.clone(),
                    error,
                    at,
                });
                self.seen.insert(key, Seen::Failed);
            } else {
                let changed = match &previous {
                    Some(Seen::Running { state: s, .. }) => !s.eq_ignore_ascii_case(state),
                    _ => false,
                };
                if changed {
                    events.push(DeploymentEvent::ResourceProgress {
                        stage: self.stage.clone(),
                        resource_id: o.id.clone(),
                        provisioning_state: state.to_owned(),
                        at: now,
                    });
                }
                self.seen.insert(
                    key,
                    Seen::Running {
                        started,
                        state: state.to_owned(),
                    },
                );
            }
        }
        events
    }
}

/// The report for a failed operation: Azure's tree from its status message, with the
/// engine's remediation for the common codes.
fn failure_report(op: &DeploymentOperation, state: &str) -> ErrorReport {
    let detail = op.error().unwrap_or_else(|| ArmErrorDetail {
        code: if state.eq_ignore_ascii_case("Canceled") {
            "Canceled".into()
        } else {
            "ResourceDeploymentFailure".into()
        },
        message: format!(
            "The resource operation ended {state}{}.",
            op.properties
                .status_code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        ),
        ..ArmErrorDetail::default()
    });
    let target = op
        .properties
        .target_resource
        .as_ref()
        .and_then(|t| t.id.clone())
        .unwrap_or_default();
    operation_report(&target, state, detail)
}

/// The resource an operation works on; `None` for operations without one (output
/// evaluation) and for nested deployments themselves (their operations are listed too).
fn resource_op(op: &DeploymentOperation) -> Option<ResourceOp<'_>> {
    if op.nested_deployment().is_some() {
        return None;
    }
    let target = op.properties.target_resource.as_ref()?;
    let id = target.id.clone()?;
    let kind = target.resource_type.clone().unwrap_or_default();
    let name = target
        .resource_name
        .clone()
        .unwrap_or_else(|| id.rsplit('/').next().unwrap_or_default().to_owned());
    let timestamp = op.properties.timestamp.as_deref().and_then(|t| {
        OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    });
    let duration = op.properties.duration.as_deref().and_then(iso8601_secs);
    let state = op.properties.provisioning_state.as_str();
    let terminal = ["Succeeded", "Failed", "Canceled"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(state));
    // Azure's timestamp is the operation's last change; with its duration that gives the
    // start. A running operation's duration grows, so the same arithmetic holds.
    let started = match (timestamp, duration) {
        (Some(t), Some(d)) => Some(t - time::Duration::seconds_f64(d)),
        _ => None,
    };
    let ended = if terminal { timestamp } else { None };
    Some(ResourceOp {
        id,
        kind,
        name,
        state,
        started,
        ended,
        op,
    })
}

/// Seconds in an ISO 8601 duration as ARM writes them (`PT1M2.5S`, `PT0.123S`, `P1DT2H`).
pub fn iso8601_secs(s: &str) -> Option<f64> {
    let rest = s.strip_prefix('P')?;
    let (days, time_part) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total = 0.0;
    let mut number = String::new();
    for c in days.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
        } else {
            let n: f64 = number.parse().ok()?;
            number.clear();
            total += match c {
                'D' => n * 86_400.0,
                'W' => n * 7.0 * 86_400.0,
                _ => return None,
            };
        }
    }
    for c in time_part.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
        } else {
            let n: f64 = number.parse().ok()?;
            number.clear();
            total += match c {
                'H' => n * 3600.0,
                'M' => n * 60.0,
                'S' => n,
                _ => return None,
            };
        }
    }
    number.is_empty().then_some(total)
}

/// Seconds from `a` to `b`, never negative.
pub fn secs_between(a: OffsetDateTime, b: OffsetDateTime) -> f64 {
    ((b - a).as_seconds_f64()).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use landfall_azure::arm::TargetResource;
    use landfall_azure::arm::deployments::DeploymentOperationProperties;
    use serde_json::json;

    fn t(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    fn op(
        id: &str,
        kind: &str,
        state: &str,
        ts: &str,
        dur: &str,
        msg: serde_json::Value,
    ) -> NestedOperation {
        NestedOperation {
            path: vec!["stage".into()],
            operation: DeploymentOperation {
                id: format!("{id}/op"),
                operation_id: "op".into(),
                properties: DeploymentOperationProperties {
                    provisioning_operation: Some("Create".into()),
                    provisioning_state: state.into(),
                    timestamp: Some(ts.into()),
                    duration: Some(dur.into()),
                    status_message: msg,
                    target_resource: Some(TargetResource {
                        id: Some(id.into()),
                        resource_type: Some(kind.into()),
                        resource_name: id.rsplit('/').next().map(str::to_owned),
                    }),
                    ..Default::default()
                },
            },
        }
    }

    const VNET: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v";
    const KV: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/k";

    #[test]
    fn durations_parse_as_arm_writes_them() {
        assert_eq!(iso8601_secs("PT1M2.5S"), Some(62.5));
        assert_eq!(iso8601_secs("PT0.1234567S"), Some(0.1234567));
        assert_eq!(iso8601_secs("P1DT2H"), Some(93_600.0));
        assert_eq!(iso8601_secs("PT"), Some(0.0));
        assert_eq!(iso8601_secs("1M"), None);
        assert_eq!(iso8601_secs("PT5X"), None);
        assert_eq!(iso8601_secs("PT5"), None);
    }

    #[test]
    fn running_then_succeeded_reports_start_once_and_end_once() {
        let d = Durations::defaults();
        let mut tr = Tracker::new("network");
        let now = t("2026-01-01T00:00:10Z");
        let first = tr.observe(
            &[op(
                VNET,
                "Microsoft.Network/virtualNetworks",
                "Running",
                "2026-01-01T00:00:09Z",
                "PT4S",
                json!(null),
            )],
            &d,
            now,
        );
        assert_eq!(first.len(), 1);
        match &first[0] {
            DeploymentEvent::ResourceStarted {
                resource_id, at, ..
            } => {
                assert_eq!(resource_id, VNET);
                assert_eq!(*at, t("2026-01-01T00:00:05Z"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let again = tr.observe(
            &[op(
                VNET,
                "Microsoft.Network/virtualNetworks",
                "Running",
                "2026-01-01T00:00:11Z",
                "PT6S",
                json!(null),
            )],
            &d,
            t("2026-01-01T00:00:12Z"),
        );
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(tr.running(), 1);
        let done = tr.observe(
            &[op(
                VNET,
                "Microsoft.Network/virtualNetworks",
                "Succeeded",
                "2026-01-01T00:00:15Z",
                "PT10S",
                json!(null),
            )],
            &d,
            t("2026-01-01T00:00:16Z"),
        );
        assert_eq!(done.len(), 1);
        match &done[0] {
            DeploymentEvent::ResourceSucceeded {
                elapsed_secs, at, ..
            } => {
                assert_eq!(*elapsed_secs, 10.0);
                assert_eq!(*at, t("2026-01-01T00:00:15Z"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            tr.observe(
                &[op(
                    VNET,
                    "Microsoft.Network/virtualNetworks",
                    "Succeeded",
                    "2026-01-01T00:00:15Z",
                    "PT10S",
                    json!(null)
                )],
                &d,
                t("2026-01-01T00:00:20Z"),
            )
            .is_empty()
        );
        assert_eq!(tr.running(), 0);
    }

    #[test]
    fn failed_operation_is_reported_at_once_with_its_error_tree() {
        let d = Durations::defaults();
        let mut tr = Tracker::new("secrets");
        let msg = json!({"error": {"code": "VaultAlreadyExists", "message": "The vault name 'k' is already in use."}});
        let events = tr.observe(
            &[
                op(
                    KV,
                    "Microsoft.KeyVault/vaults",
                    "Failed",
                    "2026-01-01T00:00:03Z",
                    "PT2S",
                    msg,
                ),
                op(
                    VNET,
                    "Microsoft.Network/virtualNetworks",
                    "Running",
                    "2026-01-01T00:00:03Z",
                    "PT1S",
                    json!(null),
                ),
            ],
            &d,
            t("2026-01-01T00:00:04Z"),
        );
        let names: Vec<_> = events.iter().map(DeploymentEvent::name).collect();
        assert_eq!(
            names,
            ["resourceStarted", "resourceFailed", "resourceStarted"]
        );
        match &events[1] {
            DeploymentEvent::ResourceFailed {
                error,
                resource_type,
                ..
            } => {
                assert_eq!(resource_type, "Microsoft.KeyVault/vaults");
                assert_eq!(error.details.as_ref().unwrap().code, "VaultAlreadyExists");
                assert!(error.remediation.is_some(), "{error:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(tr.any_failed());
    }

    #[test]
    fn a_resource_first_seen_finished_gets_both_events() {
        let d = Durations::defaults();
        let mut tr = Tracker::new("monitoring");
        let events = tr.observe(
            &[op(
                VNET,
                "Microsoft.Network/virtualNetworks",
                "Succeeded",
                "2026-01-01T00:00:30Z",
                "PT20S",
                json!(null),
            )],
            &d,
            t("2026-01-01T00:00:31Z"),
        );
        let names: Vec<_> = events.iter().map(DeploymentEvent::name).collect();
        assert_eq!(names, ["resourceStarted", "resourceSucceeded"]);
    }

    #[test]
    fn a_changed_provisioning_state_is_progress() {
        let d = Durations::defaults();
        let mut tr = Tracker::new("compute");
        tr.observe(
            &[op(
                VNET,
                "Microsoft.Network/virtualNetworks",
                "Accepted",
                "2026-01-01T00:00:01Z",
                "PT1S",
                json!(null),
            )],
            &d,
            t("2026-01-01T00:00:02Z"),
        );
        let events = tr.observe(
            &[op(
                VNET,
                "Microsoft.Network/virtualNetworks",
                "Running",
                "2026-01-01T00:00:03Z",
                "PT3S",
                json!(null),
            )],
            &d,
            t("2026-01-01T00:00:04Z"),
        );
        assert!(
            matches!(&events[..], [DeploymentEvent::ResourceProgress { provisioning_state, .. }] if provisioning_state == "Running")
        );
    }
}
