//! The shape of the code, checked: the top-level modules depend on each other without
//! cycles (a stage never reaches back into an earlier one or into the pipeline that wires
//! them), read from the `crate::` paths in the source.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Top-level module → the top-level modules its code names as `crate::<name>`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "main" || module == "lib" {
            continue; // the binary and the crate root name everything by design
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            // `crate::` inside a longer name (e.g. `weblog_crate::`) is not a path.
            if text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                deps.insert(name);
            }
        }
    }
    graph
}

fn cycle_from(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut cycle = path[at..].to_vec();
        cycle.push(node.to_string());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for dep in graph.get(node).into_iter().flatten() {
        if let Some(c) = cycle_from(graph, dep, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = module_graph();
    assert!(graph.len() > 10, "modules found: {graph:?}");
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, node, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn stages_depend_only_forward_and_never_on_the_pipeline() {
    let graph = module_graph();
    // The stages in pipeline order: each may use the ones before it, never one after.
    let stages = ["source", "parse", "load", "transform", "export"];
    for (i, stage) in stages.iter().enumerate() {
        let deps = &graph[*stage];
        assert!(!deps.contains("pipeline"), "{stage} uses the pipeline");
        for later in &stages[i + 1..] {
            // transform hands its tables to export: the one forward call, by design.
            if (*stage, *later) == ("transform", "export") {
                continue;
            }
            assert!(
                !deps.contains(*later),
                "{stage} depends on the later stage {later}"
            );
        }
    }
    assert!(
        graph
            .iter()
            .all(|(m, deps)| !deps.contains("pipeline") || ["watch", "cli"].contains(&m.as_str())),
        "only the commands that run passes may use the pipeline: {graph:?}"
    );
}
