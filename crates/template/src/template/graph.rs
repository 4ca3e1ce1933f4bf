//! Dependency order: resources in waves (Kahn's algorithm by levels), and the cycle when there
//! is one.

use super::PlannedResource;

/// Groups resource indexes into waves: every resource comes after all it depends on, as early
/// as possible. `deps[i]` lists the indexes resource `i` depends on. On a cycle, returns the
/// cycle as indexes, first index repeated at the end.
pub fn waves(
    resources: &[PlannedResource],
    deps: &[Vec<usize>],
) -> Result<Vec<Vec<usize>>, Vec<usize>> {
    let n = resources.len();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate().take(n) {
        for &d in ds {
            if d < n && d != i {
                indegree[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut current: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut placed = 0;
    let mut out = Vec::new();
    while !current.is_empty() {
        placed += current.len();
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dependents[i] {
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        out.push(std::mem::take(&mut current));
        current = next;
    }
    if placed < n {
        return Err(find_cycle(n, deps, &indegree));
    }
    Ok(out)
}

/// Finds one cycle among the resources Kahn's algorithm could not place.
fn find_cycle(n: usize, deps: &[Vec<usize>], indegree: &[usize]) -> Vec<usize> {
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    for start in (0..n).filter(|&i| indegree[i] > 0) {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path = vec![start];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let ds = deps.get(node).map_or(&[][..], Vec::as_slice);
            if *next < ds.len() {
                let d = ds[*next];
                *next += 1;
                if d >= n || d == node {
                    continue;
                }
                match state[d] {
                    1 => {
                        let from = path.iter().position(|&p| p == d).unwrap_or(0);
                        let mut cycle: Vec<usize> = path[from..].to_vec();
                        cycle.push(d);
                        return cycle;
                    }
                    0 => {
                        state[d] = 1;
                        stack.push((d, 0));
                        path.push(d);
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
                path.pop();
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Object, Value};

    fn res(n: usize) -> Vec<PlannedResource> {
        (0..n)
            .map(|i| PlannedResource {
                id: format!("r{i}"),
                resource_type: "A.B/c".into(),
                name: format!("r{i}"),
                api_version: "2020-01-01".into(),
                location: None,
                depends_on: vec![],
                properties: Value::Null,
                extra: Object::new(),
                symbolic_name: None,
                copy: None,
                deployment: None,
            })
            .collect()
    }

    #[test]
    fn independent_resources_share_a_wave() {
        let w = waves(&res(3), &[vec![], vec![0], vec![0]]).unwrap();
        assert_eq!(w, vec![vec![0], vec![1, 2]]);
    }

    #[test]
    fn a_cycle_is_named_in_order() {
        let cycle = waves(&res(3), &[vec![2], vec![0], vec![1]]).unwrap_err();
        assert_eq!(cycle.len(), 4);
        assert_eq!(cycle.first(), cycle.last());
    }
}
