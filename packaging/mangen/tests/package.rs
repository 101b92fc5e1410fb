//! scripts/package: the Debian package holds the programs where scripts/install puts them,
//! the units and the man pages, with the control fields of an MTA that installs beside
//! nothing else; every man page renders without a warning from man. The package is built
//! in a temporary directory and never installed (it would replace the system's Postfix).

use params::install::{COMMAND_DIRECTORY, CONFIG_DIRECTORY, DAEMON_DIRECTORY, MAIL_VERSION};
use std::path::{Path, PathBuf};
use std::process::Command;

fn output(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_package_has_the_files_fields_and_pages() {
    for program in ["dpkg-deb", "man", "ldd"] {
        if !have(program) {
            testkit::skip(format!("{program} is not installed"));
            return;
        }
    }
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::env::temp_dir().join(format!("ironpost-package-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let built = Command::new(top.join("scripts/package"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let deb = PathBuf::from(String::from_utf8_lossy(&built.stdout).trim());
    assert!(deb.starts_with(&out) && deb.exists(), "{}", deb.display());
    let deb = deb.to_str().unwrap();

    let info = output("dpkg-deb", &["-I", deb]);
    for field in [
        "Package: ironpost\n".to_string(),
        format!("Version: {MAIL_VERSION}\n"),
        "Provides: mail-transport-agent\n".into(),
        "Conflicts: postfix, mail-transport-agent\n".into(),
        "Replaces: mail-transport-agent\n".into(),
        "Section: mail\n".into(),
    ] {
        assert!(
            info.contains(&format!(" {field}")),
            "no {field:?} in\n{info}"
        );
    }
    let depends = info.lines().find(|l| l.starts_with(" Depends: ")).unwrap();
    assert!(
        depends.contains("libc6") && depends.contains("adduser") && depends.contains("netbase"),
        "{depends}"
    );
    for script in ["postinst", "prerm", "conffiles"] {
        assert!(
            info.contains(&format!(" {script} ")),
            "no {script} in\n{info}"
        );
    }

    let contents = output("dpkg-deb", &["-c", deb]);
    let files: Vec<(&str, &str)> = contents
        .lines()
        .filter_map(|l| {
            let mode = l.split_whitespace().next()?;
            let path = l.split(" ./").nth(1)?.split(" -> ").next()?;
            Some((mode, path))
        })
        .collect();
    let has = |path: &str| files.iter().any(|(_, p)| p.trim_end_matches('/') == path);
    let expected = [
        format!("{COMMAND_DIRECTORY}/postfix"),
        format!("{COMMAND_DIRECTORY}/postconf"),
        format!("{COMMAND_DIRECTORY}/sendmail"),
        format!("{COMMAND_DIRECTORY}/postdrop"),
        format!("{COMMAND_DIRECTORY}/postreport"),
        format!("{DAEMON_DIRECTORY}/master"),
        format!("{DAEMON_DIRECTORY}/smtpd"),
        format!("{DAEMON_DIRECTORY}/qmgr"),
        format!("{CONFIG_DIRECTORY}/main.cf"),
        format!("{CONFIG_DIRECTORY}/master.cf"),
        "lib/systemd/system/ironpost.service".into(),
        "lib/systemd/system/ironpost@.service".into(),
        "usr/share/man/man5/postconf.5.gz".into(),
        "usr/share/man/man7/ironpost.7.gz".into(),
        "usr/share/man/man1/postconf.1.gz".into(),
        "usr/share/man/man8/smtpd.8.gz".into(),
        "usr/share/doc/ironpost/copyright".into(),
    ];
    for path in expected {
        let path = path.trim_start_matches('/');
        assert!(has(path), "no {path} in\n{contents}");
    }
    // No set-gid file in the archive: postinst sets it, with the group it makes.
    assert!(
        files.iter().all(|(mode, _)| !mode.contains('s')),
        "{contents}"
    );
    // The conffiles are the configuration files.
    let control = out.join("control");
    output("dpkg-deb", &["-e", deb, control.to_str().unwrap()]);
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert_eq!(
        conffiles,
        format!("{CONFIG_DIRECTORY}/main.cf\n{CONFIG_DIRECTORY}/master.cf\n")
    );
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(
        postinst.contains(&format!("chmod 2755 \"{COMMAND_DIRECTORY}/$helper\"")),
        "{postinst}"
    );

    // The unit runs this package's postfix command.
    let tree = out.join("tree");
    output("dpkg-deb", &["-x", deb, tree.to_str().unwrap()]);
    let unit = std::fs::read_to_string(tree.join("lib/systemd/system/ironpost.service")).unwrap();
    assert!(
        unit.contains(&format!("ExecStart={COMMAND_DIRECTORY}/postfix start\n")),
        "{unit}"
    );
    // The packaged main.cf names the aliases postinst makes, as Debian's postfix does.
    let main_cf = std::fs::read_to_string(
        tree.join(CONFIG_DIRECTORY.trim_start_matches('/'))
            .join("main.cf"),
    )
    .unwrap();
    assert!(
        main_cf.contains("\nalias_maps = hash:/etc/aliases\n")
            && main_cf.contains("\nalias_database = hash:/etc/aliases\n"),
        "{main_cf}"
    );
    // Every @NAME@ placeholder was filled in.
    let pieces: Vec<&str> = unit.split('@').collect();
    let placeholder = pieces[1..pieces.len() - 1]
        .iter()
        .find(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
    assert_eq!(placeholder, None, "{unit}");

    // Every man page renders, without a warning.
    let mut pages = 0;
    for section in ["man1", "man5", "man7", "man8"] {
        let dir = tree.join("usr/share/man").join(section);
        for page in std::fs::read_dir(&dir).unwrap().flatten() {
            let rendered = Command::new("man")
                .args(["--warnings", "-l"])
                .arg(page.path())
                .env("MANWIDTH", "80")
                .env("MAN_KEEP_FORMATTING", "")
                .output()
                .unwrap();
            let warnings = String::from_utf8_lossy(&rendered.stderr);
            assert!(warnings.is_empty(), "{}: {warnings}", page.path().display());
            assert!(rendered.status.success() && !rendered.stdout.is_empty());
            pages += 1;
        }
    }
    assert!(pages > 20, "{pages} pages");
    let postconf5 = Command::new("man")
        .args(["-l"])
        .arg(tree.join("usr/share/man/man5/postconf.5.gz"))
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let postconf5 = String::from_utf8_lossy(&postconf5.stdout);
    assert!(
        postconf5.contains("myhostname (default: see \"postconf -d\" output)"),
        "myhostname"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
