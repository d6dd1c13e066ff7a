//! The `gate-agent` binary, built inside the system-test package (same steps as its `main`).
use clap::Parser;

fn main() -> std::process::ExitCode {
    og_gate::decode::quiet_rqrr_panics();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("OG_GATE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    og_gate::cli::run(og_gate::cli::Cli::parse())
}
