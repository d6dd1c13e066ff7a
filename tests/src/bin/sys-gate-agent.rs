//! The `gate-agent` binary, built inside the system-test package (same entry point).
fn main() -> std::process::ExitCode {
    og_gate::cli::main()
}
