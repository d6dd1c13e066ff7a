//! The issuer's layers, checked on its source: routes parse, call one domain function and
//! render; they never hold SQL, and nothing outside `store` names the database driver.

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

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
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
