//! Rebuilds when a language file is added, changed or removed: `i18n`'s `static_loader!` builds
//! every file of `locales/` into the binary.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
