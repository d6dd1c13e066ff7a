//! Finds the buyers' languages: every `locales/<language>/main.ftl` is compiled into the binary
//! (`$OUT_DIR/locales.rs`), so adding a language is adding a file, and nothing else.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut found: Vec<(String, String)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let file = entry.path().join("main.ftl");
            println!("cargo:rerun-if-changed={}", entry.path().display());
            if file.is_file() {
                println!("cargo:rerun-if-changed={}", file.display());
                let code = entry.file_name().to_string_lossy().into_owned();
                found.push((code, file.display().to_string()));
            }
        }
    }
    found.sort();
    let mut out = String::from("/// `(language, main.ftl text)` for every directory of `issuer/locales/`.\n");
    out.push_str("pub(crate) const LOCALE_FILES: &[(&str, &str)] = &[\n");
    for (code, path) in &found {
        let _ = writeln!(out, "    ({code:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("locales.rs");
    std::fs::write(target, out).expect("write locales.rs");
}
