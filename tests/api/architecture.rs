//! The house stays clear: no import cycle between source files or folders, the layers point down
//! only (config → domain → db → errors → auth → state → routes → startup → cli → main).
//! Read from the source text: `crate::…` and `super::…` paths, and a `mod.rs`'s uses of
//! its own child modules. Also: no source file over 300 lines, and `examples/notes` on the
//! public API only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `keys` is at the bottom: the key file knows nothing of the rest (config names its algorithm).
const LAYERS: [&str; 14] = [
    "keys", "metrics", "config", "logging", "domain", "db", "errors", "mail", "auth", "state", "routes",
    "startup", "cli", "main",
];

/// Module path (`auth::guard`) → the files it imports, as module paths.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src").with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let parts = match parts.last().map(String::as_str) {
        Some("mod") => &parts[..parts.len() - 1],
        _ => &parts[..],
    };
    parts.join("::")
}

/// `a::b::c` → the longest prefix that is a module with a file of its own.
fn resolve(path: &[&str], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| modules.contains(m))
}

/// Every path written after `prefix` (`crate::`, `super::`, `child::`), with one level of
/// `{a, b::c}` groups expanded.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let boundary =
            at == 0 || !rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        let tail = &rest[at + prefix.len()..];
        rest = tail;
        if !boundary {
            continue;
        }
        let head: String =
            tail.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        let base: Vec<String> =
            head.trim_end_matches(':').split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let after = &tail[head.len()..];
        if after.starts_with('{') && head.ends_with("::") || head.is_empty() && after.starts_with('{') {
            let group = &after[1..after.find('}').unwrap_or(after.len())];
            for item in group.split(',') {
                let item = item.trim();
                let mut full = base.clone();
                if item != "self" && !item.is_empty() {
                    full.extend(item.split("::").map(|s| s.trim().to_owned()));
                }
                found.push(full);
            }
        } else {
            found.push(base);
        }
    }
    found
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    // Test-only files (compiled under cfg(test) inside another module) are left out.
    files.retain(|f| !f.to_string_lossy().ends_with("tests.rs"));
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph = Graph::new();
    for file in &files {
        let me = module_of(&src, file);
        let text = std::fs::read_to_string(file).expect("read");
        let code: String = text
            .lines()
            .map(|l| l.trim())
            .filter(|l| !l.starts_with("//"))
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .collect::<Vec<_>>()
            .join("\n");
        let own: Vec<&str> =
            me.split("::").filter(|s| !s.is_empty() && *s != "lib" && *s != "main").collect();
        let is_dir_module = file.ends_with("mod.rs");
        let mut targets = BTreeSet::new();
        for prefix in ["crate::", "portcullis::"] {
            for path in paths_after(&code, prefix) {
                let parts: Vec<&str> = path.iter().map(String::as_str).collect();
                targets.extend(resolve(&parts, &modules));
            }
        }
        for path in paths_after(&code, "super::") {
            let up: Vec<&str> = own[..own.len().saturating_sub(1)].to_vec();
            let parts: Vec<&str> = up.iter().copied().chain(path.iter().map(String::as_str)).collect();
            targets.extend(resolve(&parts, &modules));
        }
        for child in modules.iter().filter_map(|m| m.strip_prefix(&format!("{}::", own.join("::")))) {
            if !child.contains("::") && (is_dir_module || own.is_empty()) {
                for path in paths_after(&code, &format!("{child}::")) {
                    let parts: Vec<&str> =
                        own.iter().copied().chain([child]).chain(path.iter().map(String::as_str)).collect();
                    targets.extend(resolve(&parts, &modules));
                }
            }
        }
        targets.remove(&me);
        graph.insert(me, targets);
    }
    graph
}

/// A cycle through `start`, if there is one, as the list of modules on it.
fn cycle_from(graph: &Graph, start: &str) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in graph.get(node).into_iter().flatten() {
            if next == start {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if visit(graph, next, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_owned()];
    visit(graph, start, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

fn layer(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    LAYERS.iter().position(|l| *l == top)
}

#[test]
fn no_source_file_imports_its_way_back_to_itself() {
    let graph = graph();
    assert!(graph.len() > 30, "the source tree was not found: {graph:?}");
    for module in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, module) {
            panic!("import cycle: {} -> {module}", cycle.join(" -> "));
        }
    }
}

#[test]
fn layers_import_only_from_below() {
    for (from, targets) in graph() {
        for to in targets {
            if let (Some(a), Some(b)) = (layer(&from), layer(&to)) {
                assert!(a >= b, "{from} (layer {}) imports {to} (layer {}) from above", LAYERS[a], LAYERS[b]);
            }
        }
    }
}

/// The folder a module's file lives in (`auth::web::guard` → `auth::web`); a file at the top
/// of `src/` is a room of its own. `None` for a folder's `mod.rs`: it only declares and
/// re-exports its rooms.
fn folder_of(module: &str, is_mod_rs: &BTreeSet<String>) -> Option<String> {
    if is_mod_rs.contains(module) {
        return None;
    }
    match module.rsplit_once("::") {
        Some((folder, _)) => Some(folder.to_owned()),
        None => Some(module.to_owned()),
    }
}

/// The folder graph: an arrow from one folder to another when a file of the first imports a
/// file of the second.
fn folder_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let is_mod_rs: BTreeSet<String> =
        files.iter().filter(|f| f.ends_with("mod.rs")).map(|f| module_of(&src, f)).collect();
    let mut folders = Graph::new();
    for (from, targets) in graph() {
        let Some(a) = folder_of(&from, &is_mod_rs) else { continue };
        for to in targets {
            // Importing a folder's `mod.rs` (its re-exports) is importing the folder.
            let b = folder_of(&to, &is_mod_rs).unwrap_or_else(|| to.clone());
            if a != b {
                folders.entry(a.clone()).or_default().insert(b);
            }
        }
    }
    folders
}

#[test]
fn no_folder_imports_its_way_back_to_itself() {
    let graph = folder_graph();
    assert!(graph.contains_key("routes::pages") && graph.contains_key("auth::web"), "{graph:?}");
    for folder in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, folder) {
            panic!("import cycle between folders: {} -> {folder}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_reader_finds_the_imports_it_is_meant_to_find() {
    let graph = graph();
    assert!(graph["auth::web::guard"].contains("auth::session::refresh"), "{:?}", graph["auth::web::guard"]);
    assert!(graph["startup::portcullis"].contains("routes"), "{:?}", graph["startup::portcullis"]);
    assert!(graph["routes"].contains("routes::api"), "{:?}", graph["routes"]);
}

/// Issue 23: a file a newcomer opens fits on a few screens.
#[test]
fn no_source_file_is_over_300_lines() {
    let mut files = Vec::new();
    source_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    for file in files {
        let lines = std::fs::read_to_string(&file).expect("read").lines().count();
        assert!(lines <= 300, "{} has {lines} lines", file.display());
    }
}

/// The modules `lib.rs` keeps out of the public API (`#[doc(hidden)] pub mod …`): there for
/// Portcullis's own tests and benches, never for a host app.
fn hidden_modules() -> BTreeSet<String> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("lib.rs");
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    lines
        .windows(2)
        .filter(|w| w[0] == "#[doc(hidden)]")
        .filter_map(|w| w[1].strip_prefix("pub mod ")?.strip_suffix(';').map(str::to_owned))
        .collect()
}

/// SPEC §12: `examples/notes` is built on the public API only — no path into a hidden module,
/// whether written out (`portcullis::db::…`) or in a group (`use portcullis::{db, …}`).
#[test]
fn the_example_uses_only_the_public_api() {
    let hidden = hidden_modules();
    assert!(hidden.contains("auth") && hidden.contains("db") && !hidden.contains("database"), "{hidden:?}");
    let mut files = Vec::new();
    for dir in ["examples/notes/src", "examples/notes/tests"] {
        source_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    }
    assert!(files.len() >= 5, "the example was not found: {files:?}");
    for file in files {
        let code = std::fs::read_to_string(&file).expect("read");
        for path in paths_after(&code, "portcullis::") {
            let first = path.first().map(String::as_str).unwrap_or_default();
            assert!(!hidden.contains(first), "{} reaches portcullis::{}", file.display(), path.join("::"));
        }
    }
}
