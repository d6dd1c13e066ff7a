//! The issuer's module tree, checked on its source: the contexts (`web`, `cli`, `ops`, `gates`,
//! `shop`, `trust`, `store`) depend on each other in one direction only, domain code never
//! reaches up into the web layer or the application state, no import cycle runs between the
//! contexts and the top-level modules, and none runs between the modules inside a context
//! either; nothing outside `store` runs SQL (its table modules hold every query) or names the
//! database drivers.
//!
//! A "unit" is a directory under `issuer/src/` (a context) or a top-level file; a dependency is
//! any `crate::<unit>` path outside comments (a text scan). Inside a context, a module is one of
//! its files (`mod` for its `mod.rs`, where the items it defines itself live); a dependency is a
//! `super::<module>`, `crate::<context>::<module>` path or an item that `mod.rs` re-exports from
//! a module (`pub use x::item` makes `crate::<context>::item` a use of `x`).

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

/// A dependency graph: node -> (node it imports -> what shows it: files or paths).
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// An import cycle of `g`, as its path from a node back to the same node, if there is one
/// (depth-first search, nodes and edges in name order; a back edge is a cycle).
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(u: &str, g: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if done.contains(u) {
            return None;
        }
        if let Some(i) = path.iter().position(|p| p == u) {
            let mut cycle = path[i..].to_vec();
            cycle.push(u.to_owned());
            return Some(cycle);
        }
        path.push(u.to_owned());
        for to in g.get(u).into_iter().flat_map(|d| d.keys()) {
            if let Some(cycle) = visit(to, g, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(u.to_owned());
        None
    }
    let nodes: BTreeSet<&String> = g.keys().chain(g.values().flat_map(|d| d.keys())).collect();
    let mut done = BTreeSet::new();
    nodes.into_iter().find_map(|u| visit(u, g, &mut Vec::new(), &mut done))
}

#[test]
fn the_contexts_and_top_level_modules_form_no_import_cycle() {
    if let Some(cycle) = find_cycle(&graph()) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
}

/// The contexts whose modules are checked for import cycles among themselves: all of them.
const ACYCLIC_INSIDE: &[&str] = &["web", "cli", "ops", "shop", "gates", "trust", "store"];

/// The paths of the use tree at the start of `s` (`a::{b, c::d as e}` names `a::b` and
/// `a::c::d`), each as its segments; a path that is not a `use` stops at its last `::`-joined
/// name (`a::f(x)` names `a::f`).
fn use_tree(s: &str) -> Vec<Vec<String>> {
    fn skip_ws(s: &str, i: usize) -> usize {
        i + s[i..].len() - s[i..].trim_start().len()
    }
    fn tree(s: &str, i: usize) -> (Vec<Vec<String>>, usize) {
        let i = skip_ws(s, i);
        if s[i..].starts_with('{') {
            let (mut out, mut i) = (Vec::new(), i + 1);
            loop {
                i = skip_ws(s, i);
                while s[i..].starts_with(',') {
                    i = skip_ws(s, i + 1);
                }
                if i >= s.len() || s[i..].starts_with('}') {
                    return (out, i + 1);
                }
                let (paths, end) = tree(s, i);
                if end == i {
                    return (out, end); // not a use tree after all
                }
                out.extend(paths);
                i = end;
            }
        }
        let name = ident(&s[i..]);
        if name.is_empty() {
            return (vec![Vec::new()], i);
        }
        let mut end = i + name.len();
        let j = skip_ws(s, end);
        if s[j..].starts_with("::") {
            let (rest, end) = tree(s, j + 2);
            return (
                rest.into_iter()
                    .map(|r| std::iter::once(name.clone()).chain(r).collect())
                    .collect(),
                end,
            );
        }
        // `x as y`: the path is `x`.
        if let Some(alias) = s[j..].strip_prefix("as").filter(|r| r.starts_with(char::is_whitespace)) {
            let k = skip_ws(alias, 0);
            end = s.len() - alias.len() + k + ident(&alias[k..]).len();
        }
        (vec![vec![name]], end)
    }
    tree(s, 0).0
}

/// Every path that starts with `prefix` in `code` (a `use` tree after it counts as its paths),
/// without `prefix`. `prefix` must not follow a name or a `::` (`og_crate::`, `a::super::`).
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        out.extend(use_tree(&code[i + prefix.len()..]));
    }
    out
}

/// The modules of context `ctx` and the items its `mod.rs` re-exports (item -> module).
fn context_modules(ctx: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let dir = src().join(ctx);
    let modules: BTreeSet<String> = rust_files(&dir)
        .iter()
        .filter(|f| f.parent() == Some(dir.as_path()))
        .map(|f| f.file_stem().unwrap().to_str().unwrap().to_owned())
        .collect();
    let mod_rs = code(&std::fs::read_to_string(dir.join("mod.rs")).unwrap());
    (modules.clone(), reexports(&mod_rs, &modules))
}

/// The items `mod_rs` re-exports from one of `modules` (`pub use x::item`, `pub use
/// x::{a, b}`): item -> module.
fn reexports(mod_rs: &str, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for path in paths_after(mod_rs, "pub use ") {
        let path: Vec<&String> = path.iter().skip_while(|s| *s == "self").collect();
        if let (Some(first), Some(last)) = (path.first(), path.last())
            && path.len() > 1
            && modules.contains(*first)
        {
            out.insert((*last).clone(), (*first).clone());
        }
    }
    out
}

/// The modules of the context that `code` (the text of its module `from`, comments removed)
/// imports, each with the paths that show it. `modules` are the context's modules,
/// `reexported` what its `mod.rs` re-exports; an item of the context that is neither a module
/// nor re-exported is defined in `mod.rs` itself (module `mod`).
fn module_imports(
    ctx: &str,
    from: &str,
    code: &str,
    modules: &BTreeSet<String>,
    reexported: &BTreeMap<String, String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |how: &str, path: &[String]| {
        let Some(first) = path.first() else { return };
        let to = if modules.contains(first) && first != "mod" {
            first.clone()
        } else if let Some(m) = reexported.get(first) {
            m.clone()
        } else if first == "self" || first == "super" {
            return;
        } else {
            "mod".to_owned()
        };
        if to != from {
            out.entry(to).or_default().insert(format!("{how}{}", path.join("::")));
        }
    };
    // A unit test module inside the file: its `super::` is the file's own module.
    let test_mod = code.match_indices("#[cfg(test)]").map(|(i, _)| i).find(|&i| {
        let rest = code[i + 12..].trim_start();
        ["mod ", "pub mod ", "pub(crate) mod "]
            .iter()
            .any(|m| rest.starts_with(m))
    });
    let (top, nested) = code.split_at(test_mod.unwrap_or(code.len()));
    let mut names_context = false;
    for (part, depth) in [(top, 0), (nested, 1)] {
        for path in paths_after(part, "crate::") {
            if path.first().is_some_and(|c| c == ctx) {
                // `use crate::<ctx>;` (or `{self}`): its paths are then spelt `<ctx>::x::...`.
                names_context |= path.len() == 1 || path[1] == "self";
                add(&format!("crate::{ctx}::"), &path[1..]);
            }
        }
        if from == "mod" {
            continue;
        }
        for path in paths_after(part, "super::") {
            let ups = path.iter().take_while(|s| *s == "super").count();
            if ups == depth {
                add(&"super::".repeat(depth + 1), &path[ups..]);
            }
        }
    }
    if names_context {
        for path in paths_after(code, &format!("{ctx}::")) {
            add(&format!("{ctx}::"), &path);
        }
    }
    if from == "mod" {
        // `mod.rs` names its modules directly (`x::f()`, `self::x::f()`), re-exports aside.
        let uses: String = code
            .lines()
            .filter(|l| !l.trim_start().starts_with("pub use ") && !l.trim_start().starts_with("pub mod "))
            .collect::<Vec<_>>()
            .join("\n");
        for m in modules {
            for path in paths_after(&uses, &format!("{m}::")) {
                add("", &[&[m.clone()][..], &path[..]].concat());
            }
        }
    }
    out
}

/// The import graph of the modules inside context `ctx`: module -> (module it imports -> the
/// paths that show it).
fn module_graph(ctx: &str) -> Graph {
    let (modules, reexported) = context_modules(ctx);
    let dir = src().join(ctx);
    modules
        .iter()
        .map(|m| {
            let text = code(&std::fs::read_to_string(dir.join(format!("{m}.rs"))).unwrap());
            (m.clone(), module_imports(ctx, m, &text, &modules, &reexported))
        })
        .collect()
}

#[test]
fn the_scan_of_a_context_resolves_super_crate_paths_and_reexports_to_modules() {
    let modules: BTreeSet<String> = ["mod", "orders", "payment", "refunds", "metrics"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let reexported = reexports(
        &code("pub mod metrics;\npub use metrics::{Meter, Gauge as G};"),
        &modules,
    );
    assert_eq!(reexported.get("Meter").map(String::as_str), Some("metrics"));
    let to = |from: &str, text: &str| -> BTreeSet<String> {
        module_imports("shop", from, &code(text), &modules, &reexported)
            .into_keys()
            .collect()
    };
    let set = |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };
    assert_eq!(to("orders", "use super::payment::{self as pay, X};"), set(&["payment"]));
    assert_eq!(
        to("orders", "let r = crate::shop::refunds::record(tx)?;"),
        set(&["refunds"])
    );
    assert_eq!(
        to("orders", "use crate::{error::E, shop::{Services, refunds}};"),
        set(&["mod", "refunds"])
    );
    assert_eq!(to("orders", "fn f(m: &crate::shop::Meter) {}"), set(&["metrics"]));
    assert_eq!(
        to("orders", "use crate::shop;\nfn f() { shop::payment::g() }"),
        set(&["payment"])
    );
    assert_eq!(
        to(
            "orders",
            "use crate::shop::payment::{self as shop};\nfn f() { shop::g() }"
        ),
        set(&["payment"])
    );
    assert_eq!(
        to("orders", "// crate::shop::payment::x\nuse og_crate::shop::refunds;"),
        set(&[])
    );
    assert_eq!(
        to(
            "orders",
            "use super::refunds;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::payment;\n}"
        ),
        set(&["payment", "refunds"])
    );
    assert_eq!(
        to(
            "mod",
            "pub mod orders;\npub use metrics::Meter;\nfn f() { orders::g() }"
        ),
        set(&["orders"])
    );
    // The real shop, so that a broken scan cannot pass the test below.
    let shop = module_graph("shop");
    assert!(
        shop["actions"].contains_key("orders"),
        "shop::actions imports shop::orders"
    );
    assert!(
        shop["orders"].contains_key("lifecycle"),
        "shop::orders imports shop::lifecycle"
    );
    assert!(shop["auth"].contains_key("mod"), "shop::auth imports shop's Services");
}

#[test]
fn the_modules_inside_each_context_form_no_import_cycle() {
    let mut found = Vec::new();
    for ctx in ACYCLIC_INSIDE {
        let g = module_graph(ctx);
        if let Some(cycle) = find_cycle(&g) {
            let steps: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("  {} -> {}: {:?}", w[0], w[1], g[&w[0]][&w[1]]))
                .collect();
            found.push(format!(
                "import cycle inside {ctx}: {}\n{}",
                cycle.join(" -> "),
                steps.join("\n")
            ));
        }
    }
    assert!(
        found.is_empty(),
        "{}\nmove the item to the module that owns its rule, or split the module whose halves sit on \
         different layers (ARCHITECTURE.md: the shop's layers in the code map, the invariant on import cycles)",
        found.join("\n")
    );
}

/// The calls of `store::sql` that run a statement: a file without any runs no SQL itself.
const SQL_CALLS: &[&str] = &[
    ".execute(",
    ".query_row(",
    ".query_all(",
    ".prepare_cached(",
    ".prepare(",
    ".execute_batch(",
];

#[test]
fn nothing_outside_the_store_runs_sql_itself() {
    // Routes, CLI commands, the rules of every context, start-up and the demo seed call the
    // table modules of `store`, which hold every query. Unit tests may set a scene in SQL.
    for f in rust_files(&src()) {
        if f.starts_with(src().join("store")) {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap();
        for call in SQL_CALLS {
            assert!(
                !text.contains(call),
                "{} calls {call}: put the query in a table module of crate::store and call that",
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
