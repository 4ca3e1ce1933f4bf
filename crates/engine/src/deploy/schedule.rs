//! Expected durations of stages and of the whole run, and the ETA while it runs.
//!
//! A stage is expected to take its critical path: the longest chain of resources through
//! their `dependsOn` in the offline plan, each at its expected duration. The run is expected to
//! take the longest chain of stages through the stage graph. While running, a stage's
//! remaining time is its expected duration minus its elapsed time (never below a floor, so
//! the ETA does not claim "done" while Azure is still working).

use std::collections::HashMap;

use crate::deploy::durations::Durations;

/// Seconds left for a running stage that is already past its expected duration.
const OVERRUN_FLOOR_SECS: f64 = 5.0;

/// A resource for the critical path: its ID, type and the IDs it waits for.
#[derive(Clone, Debug)]
pub struct Node {
    /// Resource ID.
    pub id: String,
    /// Resource type.
    pub resource_type: String,
    /// IDs it depends on.
    pub depends_on: Vec<String>,
}

/// The longest chain of `nodes` through their dependencies, each at its type's expected
/// duration, in seconds.
pub fn critical_path(nodes: &[Node], durations: &Durations) -> f64 {
    critical_path_by(nodes, |n| durations.expected(&n.resource_type))
}

/// The longest chain of `nodes` through their dependencies, each taking `duration(node)`.
pub fn critical_path_by(nodes: &[Node], duration: impl Fn(&Node) -> f64) -> f64 {
    let index: HashMap<String, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.to_ascii_lowercase(), i))
        .collect();
    let mut finish: Vec<Option<f64>> = vec![None; nodes.len()];
    // Iterative longest path; the plan is acyclic (the planner rejects cycles), and a guard on
    // depth keeps a malformed input from looping.
    fn visit(
        i: usize,
        nodes: &[Node],
        index: &HashMap<String, usize>,
        duration: &dyn Fn(&Node) -> f64,
        finish: &mut Vec<Option<f64>>,
        depth: usize,
    ) -> f64 {
        if let Some(f) = finish[i] {
            return f;
        }
        if depth > nodes.len() {
            return 0.0;
        }
        let start = nodes[i]
            .depends_on
            .iter()
            .filter_map(|d| index.get(&d.to_ascii_lowercase()))
            .map(|&j| visit(j, nodes, index, duration, finish, depth + 1))
            .fold(0.0, f64::max);
        let f = start + duration(&nodes[i]);
        finish[i] = Some(f);
        f
    }
    (0..nodes.len())
        .map(|i| visit(i, nodes, &index, &duration, &mut finish, 0))
        .fold(0.0, f64::max)
}

/// Where a stage stands, for the ETA.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StageProgress {
    /// Not started: its whole expected duration is ahead.
    Pending,
    /// Running for this many seconds.
    Running(f64),
    /// Finished (or carried over from an earlier run).
    Done,
}

/// Seconds until the last stage is expected to finish: the longest chain of remaining stage
/// times through the stage graph.
pub fn eta_secs(
    stages: &[(String, Vec<String>, f64, StageProgress)], // name, deps, expected, progress
) -> f64 {
    let index: HashMap<&str, usize> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.0.as_str(), i))
        .collect();
    let mut finish: Vec<Option<f64>> = vec![None; stages.len()];
    fn visit(
        i: usize,
        stages: &[(String, Vec<String>, f64, StageProgress)],
        index: &HashMap<&str, usize>,
        finish: &mut Vec<Option<f64>>,
        depth: usize,
    ) -> f64 {
        if let Some(f) = finish[i] {
            return f;
        }
        if depth > stages.len() {
            return 0.0;
        }
        let (_, deps, expected, progress) = &stages[i];
        let own = match progress {
            StageProgress::Pending => *expected,
            StageProgress::Running(elapsed) => (expected - elapsed).max(OVERRUN_FLOOR_SECS),
            StageProgress::Done => 0.0,
        };
        let start = deps
            .iter()
            .filter_map(|d| index.get(d.as_str()))
            .map(|&j| visit(j, stages, index, finish, depth + 1))
            .fold(0.0, f64::max);
        let f = start + own;
        finish[i] = Some(f);
        f
    }
    (0..stages.len())
        .map(|i| visit(i, stages, &index, &mut finish, 0))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(id: &str, t: &str, deps: &[&str]) -> Node {
        Node {
            id: id.into(),
            resource_type: t.into(),
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn critical_path_follows_the_longest_chain() {
        let d = Durations::defaults();
        let nodes = [
            n("vnet", "Microsoft.Network/virtualNetworks", &[]),
            n(
                "aks",
                "Microsoft.ContainerService/managedClusters",
                &["VNET"],
            ),
            n("kv", "Microsoft.KeyVault/vaults", &[]),
            n(
                "role",
                "Microsoft.Authorization/roleAssignments",
                &["aks", "missing"],
            ),
        ];
        assert_eq!(critical_path(&nodes, &d), 10.0 + 600.0 + 5.0);
        assert_eq!(critical_path(&[], &d), 0.0);
    }

    #[test]
    fn eta_counts_remaining_time_along_the_stage_graph() {
        let s = |name: &str, deps: &[&str], e: f64, p| {
            (
                name.to_owned(),
                deps.iter().map(|d| (*d).to_owned()).collect(),
                e,
                p,
            )
        };
        let stages = vec![
            s("network", &[], 10.0, StageProgress::Done),
            s("secrets", &[], 30.0, StageProgress::Running(20.0)),
            s(
                "data",
                &["network", "secrets"],
                500.0,
                StageProgress::Pending,
            ),
            s(
                "compute",
                &["network"],
                650.0,
                StageProgress::Running(700.0),
            ),
        ];
        // data: 10 left of secrets + 500; compute: overran, floor 5.
        assert_eq!(eta_secs(&stages), 510.0);
    }
}
