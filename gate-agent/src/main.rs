//! `gate-agent`: thin entry point; everything lives in the `og_gate` library.

fn main() -> std::process::ExitCode {
    og_gate::cli::main()
}
