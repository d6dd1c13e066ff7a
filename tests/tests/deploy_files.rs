//! The deployment files pass the validators available without a Docker engine
//! (`deploy/check.sh`: nginx -t, systemd-analyze verify, structure checks).

use std::path::Path;
use std::process::Command;

#[test]
fn the_deploy_files_pass_nginx_systemd_and_structure_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for tool in ["nginx", "systemd-analyze", "openssl"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .status()
            .unwrap()
            .success();
        assert!(
            found,
            "{tool} is missing: run .ci/run, which installs it (Debian packages nginx, systemd, openssl)"
        );
    }
    let out = Command::new("bash").arg(root.join("deploy/check.sh")).output().unwrap();
    assert!(
        out.status.success(),
        "deploy/check.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("deploy files OK"));
}
