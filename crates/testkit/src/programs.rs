//! The workspace's programs, built from the current sources for the test that runs them.
//!
//! Cargo builds, for a test, only the programs of the test's own package
//! (`CARGO_BIN_EXE_<name>`); a test that runs another package's program (the end-to-end
//! tests run them all) would otherwise run whatever an earlier build left in the target
//! directory. [`program`] builds every program of the workspace once per test process,
//! with the test's own profile and target directory, and refuses to run a program whose
//! build failed. The build goes on past a program that does not compile
//! (`--keep-going`), so a test is stopped only by the programs it runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The directory holding the built programs: `target/[TRIPLE/]PROFILE`, whose `deps/`
/// holds this test executable.
pub fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// The workspace's program `name`, built from the current sources.
pub fn program(name: &str) -> PathBuf {
    static BUILT: OnceLock<Failed> = OnceLock::new();
    let failed = BUILT.get_or_init(build_programs);
    if let Some(messages) = &failed.messages
        && (failed.packages.iter().any(|p| p == name) || failed.all)
    {
        panic!("this test runs {name}, and building it failed:\n{messages}");
    }
    let path = build_dir().join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// What did not build: the packages cargo names in `could not compile`, and its messages
/// (None when everything built).
struct Failed {
    packages: Vec<String>,
    /// A library or a manifest failed: no program can be trusted.
    all: bool,
    messages: Option<String>,
}

/// `cargo build --workspace --bins --keep-going` into [`build_dir`].
fn build_programs() -> Failed {
    let profile_dir = build_dir();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        // The dev profile's directory is "debug"; other profiles are named as theirs.
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("no profile in {}", profile_dir.display()),
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--workspace",
        "--bins",
        "--keep-going",
        "--profile",
        profile,
    ]);
    let mut target_dir = profile_dir.parent().expect("target directory");
    // Cargo marks its target directory with CACHEDIR.TAG; without one there, the profile
    // directory sits under a --target triple's.
    if !target_dir.join("CACHEDIR.TAG").exists() {
        command
            .arg("--target")
            .arg(target_dir.file_name().expect("triple"));
        target_dir = target_dir.parent().expect("target directory");
    }
    // This crate is crates/testkit in the workspace.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let out = command
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(Stdio::null())
        .output()
        .expect("cargo to run");
    if out.status.success() {
        return Failed {
            packages: Vec::new(),
            all: false,
            messages: None,
        };
    }
    let messages = String::from_utf8_lossy(&out.stderr).into_owned();
    // "error: could not compile `smtpd` (bin "smtpd") due to ..."; a library that
    // failed, or none named (a broken manifest, say), fails every program.
    let packages: Vec<String> = messages
        .lines()
        .filter_map(|l| l.strip_prefix("error: could not compile `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let programs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programs");
    let all = packages.is_empty() || packages.iter().any(|p| !programs.join(p).is_dir());
    Failed {
        packages,
        all,
        messages: Some(messages),
    }
}
