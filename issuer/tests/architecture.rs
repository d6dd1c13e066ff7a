//! The issuer's module tree, checked on its source: the contexts (`web`, `cli`, `ops`, `gates`,
//! `shop`, `trust`, `store`) depend on each other in one direction only, domain code never
//! reaches up into the web layer or the application state, and no import cycle runs between
//! the contexts and the top-level modules; routes and CLI commands hold no SQL, and nothing
//! outside `store` names the database drivers.
//!
//! A "unit" is a directory under `issuer/src/` (a context) or a top-level file; a dependency is
//! any `crate::<unit>` path outside comments (a text scan).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Who may import whom. Units not listed as keys are checked only by the cycle test.
const ALLOWED: &[(&str, &[&str])] = &[
    ("web", &["ops", "gates", "shop", "trust", "store"]),
    ("cli", &["ops", "gates", "shop", "trust", "store"]),
    ("ops", &["gates", "shop", "trust", "store"]),
    ("shop", &["trust", "store"]),
    ("gates", &["trust", "store"]),
    ("trust", &["store"]),
    ("store", &[]),
];

/// The domain contexts: they hold the rules and never see HTTP or the whole application state.
const DOMAIN: &[&str] = &["ops", "gates", "shop", "trust", "store"];

/// Top-level modules that assemble the running issuer; no domain context imports them.
const ROOT: &[&str] = &["state", "startup", "background", "seed", "web", "cli", "main"];

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
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The unit a file belongs to: its directory under `src/`, or its own name at the top.
fn unit_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
    first.trim_end_matches(".rs").to_owned()
}

/// The units of the crate: top-level files and directories.
fn units() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
        .map(|p| unit_of(&p))
        .collect()
}

/// The text of a file without its comments (`//...` to the end of the line, then `/* ... */`).
fn code(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(|l| l.find("//").map_or(l, |i| &l[..i])).collect();
    let text = lines.join("\n");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    out.push_str(rest);
    out
}

/// Every `crate::<name>` in `code`, and `state` wherever `AppState` is named.
fn references(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `og_crate::`
        }
        let rest = &code[i + 7..];
        match rest.strip_prefix('{') {
            Some(group) => out.extend(group_names(group)),
            None => {
                out.insert(ident(rest));
            }
        }
    }
    if code.contains("AppState") {
        out.insert("state".to_owned());
    }
    out
}

/// The identifier `s` starts with.
fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first name of every path at the top level of a `use crate::{...}` group (`group` is the
/// text after its `{`).
fn group_names(group: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut at_start) = (0usize, true);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => at_start = true,
            c if c.is_whitespace() => {}
            _ if at_start && depth == 0 => {
                out.push(ident(&group[i..]));
                at_start = false;
            }
            _ => {}
        }
    }
    out
}

/// unit -> (unit it imports -> the files that do).
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let units = units();
    let mut g: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in rust_files(&src()) {
        let from = unit_of(&f);
        let text = std::fs::read_to_string(&f).unwrap();
        for name in references(&code(&text)) {
            // `crate::now`, `crate::tr!`, `crate::params!`: items of lib.rs itself.
            let to = if units.contains(&name) { name } else { "lib".to_owned() };
            if to != from {
                let rel = f.strip_prefix(src()).unwrap().display().to_string();
                g.entry(from.clone()).or_default().entry(to).or_default().insert(rel);
            }
        }
    }
    g
}

#[test]
fn the_scan_sees_every_context_and_the_imports_between_them() {
    let g = graph();
    for (unit, _) in ALLOWED {
        assert!(src().join(unit).is_dir(), "src/{unit}/ is a context directory");
    }
    // A sample the scan must find, so that a broken scan cannot pass the tests below.
    assert!(g["web"].contains_key("shop"), "web imports the shop");
    assert!(g["ops"].contains_key("trust"), "ops imports the trust authority");
    assert!(references(&code("use crate::web::layout; // crate::state")).contains("web"));
    let grouped = references(&code(
        "use crate::{\n    error::AppError,\n    web::{csrf, layout},\n};",
    ));
    assert!(grouped.contains("web") && grouped.contains("error") && !grouped.contains("csrf"));
    assert!(!references(&code("// use crate::web::layout;")).contains("web"));
    assert!(!references(&code("/* crate::web */ fn f() {}")).contains("web"));
    assert!(references(&code("/// `keys/*.pem`\nuse crate::web::layout;")).contains("web"));
}

#[test]
fn domain_contexts_never_import_the_web_layer() {
    let g = graph();
    for ctx in DOMAIN {
        if let Some(files) = g.get(*ctx).and_then(|d| d.get("web")) {
            panic!("{ctx} imports crate::web in {files:?}: move what it needs below the web layer");
        }
    }
}

#[test]
fn domain_contexts_take_what_they_need_not_the_app_state() {
    let g = graph();
    for ctx in DOMAIN {
        for root in ROOT {
            if let Some(files) = g.get(*ctx).and_then(|d| d.get(*root)) {
                panic!(
                    "{ctx} imports crate::{root} in {files:?}: pass it the connection, settings or \
                     service it needs instead"
                );
            }
        }
    }
}

#[test]
fn each_context_imports_only_the_contexts_below_it() {
    let g = graph();
    let contexts: BTreeSet<&str> = ALLOWED.iter().map(|(c, _)| *c).collect();
    for (ctx, allowed) in ALLOWED {
        for (to, files) in g.get(*ctx).into_iter().flatten() {
            if contexts.contains(to.as_str()) {
                assert!(
                    allowed.contains(&to.as_str()),
                    "{ctx} imports crate::{to} in {files:?}; {ctx} may import only {allowed:?}"
                );
            }
        }
    }
}

#[test]
fn the_contexts_and_top_level_modules_form_no_import_cycle() {
    let g = graph();
    // Depth-first search; a back edge is a cycle.
    fn visit(
        u: &str,
        g: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(u) {
            return;
        }
        if let Some(i) = path.iter().position(|p| p == u) {
            panic!("import cycle: {} -> {u}", path[i..].join(" -> "));
        }
        path.push(u.to_owned());
        for to in g.get(u).into_iter().flat_map(|d| d.keys()) {
            visit(to, g, path, done);
        }
        path.pop();
        done.insert(u.to_owned());
    }
    let mut done = BTreeSet::new();
    for u in units() {
        visit(&u, &g, &mut Vec::new(), &mut done);
    }
}

#[test]
fn no_route_module_or_cli_command_runs_sql_itself() {
    let mut files = rust_files(&src().join("web"));
    files.push(src().join("cli/admin.rs"));
    let calls = [
        ".execute(",
        ".query_row(",
        ".query_all(",
        ".prepare_cached(",
        ".prepare(",
        ".execute_batch(",
    ];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for call in calls {
            assert!(
                !text.contains(call),
                "{} calls {call}: put the query in a domain module and call that",
                f.display()
            );
        }
    }
}

#[test]
fn only_the_store_names_the_database_drivers() {
    for f in rust_files(&src()) {
        if f.starts_with(src().join("store")) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        // Unit tests may open a SQLite file directly to set a scene.
        let text = text.split("#[cfg(test)]").next().unwrap();
        for driver in ["rusqlite::", "postgres::", "r2d2"] {
            assert!(
                !text.contains(driver),
                "{} names {driver}: go through crate::store",
                f.display()
            );
        }
    }
}
