//! postdrop: Postfix's sendmail submits through ironpost's postdrop (installed set-gid
//! postdrop in the instance's command_directory) and the mail is delivered, with
//! pickup's `uid=0 from=<root>` line; the maildrop file it writes is the one Postfix's
//! postdrop writes for the same submission, apart from the arrival time; input that is
//! not a valid submission is refused with Postfix's words, exit status and log lines, and
//! leaves nothing in the maildrop queue; a user that runs it set-gid cannot pick another
//! configuration directory.

use e2e::{Instance, program, wait_until};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const POSTFIX_POSTDROP: &str = "/usr/sbin/postdrop";

/// Puts our postdrop, set-gid postdrop as installed, into `@DIR@/sbin`, with Postfix's
/// other commands beside it, and makes that the instance's command_directory. Returns
/// its path, or None (the test is skipped) when it was not built.
fn install_postdrop(mx: &Instance) -> Option<PathBuf> {
    if !program("postdrop").exists() {
        eprintln!("skipped: needs the ironpost build of postdrop (cargo build -p postdrop)");
        return None;
    }
    let sbin = mx.dir.join("sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    let postdrop = sbin.join("postdrop");
    std::fs::copy(program("postdrop"), &postdrop).unwrap();
    let chown = Command::new("chown")
        .arg("root:postdrop")
        .arg(&postdrop)
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::set_permissions(&postdrop, std::fs::Permissions::from_mode(0o2755)).unwrap();
    for name in ["postqueue", "postsuper", "postlog", "sendmail"] {
        let _ = std::os::unix::fs::symlink(Path::new("/usr/sbin").join(name), sbin.join(name));
    }
    mx.add_main_cf("command_directory = @DIR@/sbin\n");
    Some(postdrop)
}

/// One queue file record.
fn record(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    let mut len = data.len();
    loop {
        let mut b = (len & 0x7f) as u8;
        len >>= 7;
        if len != 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(data);
    out
}

fn records(list: &[(u8, &str)]) -> Vec<u8> {
    list.iter()
        .flat_map(|(kind, data)| record(*kind, data.as_bytes()))
        .collect()
}

/// The records of a queue file.
fn parse(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        let (mut len, mut shift, mut at) = (0usize, 0, 0);
        loop {
            let b = rest[at];
            at += 1;
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        out.push((kind, rest[at..at + len].to_vec()));
        bytes = &rest[at + len..];
    }
    out
}

/// Runs a postdrop directly with `input` on its standard input.
fn postdrop(mx: &Instance, path: &Path, input: &[u8]) -> Output {
    // postdrop may stop reading early: a broken pipe is part of the test.
    mx.run_with_input(path, &["-r"], input)
}

/// The attribute lists on a postdrop's standard output, with the queue id masked.
fn replies(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout).replace('\0', "|");
    match text.split_once("queue_id|") {
        Some((head, tail)) => {
            let rest = tail.split_once('|').map_or("", |(_, r)| r);
            format!("{head}queue_id|QUEUEID|{rest}")
        }
        None => text,
    }
}

fn maildrop(mx: &Instance) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(mx.dir.join("queue/maildrop"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
}

/// The log lines of postdrop processes, with their pids masked.
fn postdrop_log(mx: &Instance) -> Vec<String> {
    mx.log()
        .lines()
        .filter_map(|l| l.split_once("/postdrop["))
        .map(|(_, rest)| rest.split_once("]: ").map_or(rest, |(_, r)| r).to_string())
        .collect()
}

#[test]
fn sendmail_through_our_postdrop_is_delivered() {
    let Some(mut mx) = Instance::new("t-17-deliver") else {
        return;
    };
    let Some(_) = install_postdrop(&mx) else {
        return;
    };
    mx.start();
    let out = mx.sendmail(
        &["-f", "root", "user@vmail.e2e.test"],
        "From: root\nSubject: t17 delivered\n\nbody t17-delivered\n",
    );
    assert!(
        out.status.success(),
        "sendmail: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        mx.log()
    );
    if !wait_until(30, || {
        mx.mailbox().iter().any(|m| m.contains("t17-delivered"))
    }) {
        mx.keep_for_inspection();
        panic!("not delivered; log:\n{}", mx.log());
    }
    let message = mx
        .mailbox()
        .into_iter()
        .find(|m| m.contains("t17-delivered"))
        .unwrap();
    assert!(
        message.contains("Received: by mail.e2e.test (Postfix, from userid 0)"),
        "{message}"
    );
    let log = mx.log();
    assert!(
        log.lines()
            .any(|l| l.contains("/pickup[") && l.contains(": uid=0 from=<root>")),
        "no pickup line in:\n{log}"
    );
    // Nothing went wrong, so postdrop said nothing.
    assert!(postdrop_log(&mx).is_empty(), "{log}");
    assert!(mx.leftovers_in_maildrop().is_empty());
    mx.postfix(&["stop"]);
}

#[test]
fn maildrop_file_is_postfix_s_and_bad_input_is_refused() {
    let Some(mut mx) = Instance::new("t-17-compare") else {
        return;
    };
    let Some(ours) = install_postdrop(&mx) else {
        return;
    };
    // No pickup: files stay in the maildrop queue for a look (and both postdrops warn
    // that public/pickup is missing).
    mx.replace_master_cf_line(|l| l.starts_with("pickup "), "#no pickup");
    mx.start();
    let submit = |marker: &str| {
        let out = mx.sendmail(
            &["-f", "root", "-F", "Charlie Root", "user@vmail.e2e.test"],
            &format!(
                "From: root\nSubject: t17\n\n leading space\nlong line {}\n",
                "x".repeat(3000)
            )
            .replace("t17", marker),
        );
        assert!(
            out.status.success(),
            "sendmail: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    submit("t17-same");
    let ours_file = maildrop(&mx);
    assert_eq!(ours_file.len(), 1, "{ours_file:?}");
    // Postfix's postdrop, through a command directory of its own.
    let theirs_dir = mx.dir.join("sbin-postfix");
    std::fs::create_dir_all(&theirs_dir).unwrap();
    std::os::unix::fs::symlink(POSTFIX_POSTDROP, theirs_dir.join("postdrop")).unwrap();
    // Replaced, not appended: Postfix warns about a parameter set twice.
    let main_cf = std::fs::read_to_string(mx.etc().join("main.cf")).unwrap();
    mx.write(
        "etc/main.cf",
        &main_cf.replace("/sbin\n", "/sbin-postfix\n"),
    );
    submit("t17-same");
    let both = maildrop(&mx);
    assert_eq!(both.len(), 2, "{both:?}");
    let theirs_file = both.iter().find(|f| **f != ours_file[0]).unwrap().clone();
    let ours_file = ours_file[0].clone();

    // The same records, but for the arrival time (seconds and microseconds).
    let ours_records = parse(&std::fs::read(&ours_file).unwrap());
    let theirs_records = parse(&std::fs::read(&theirs_file).unwrap());
    assert_eq!(ours_records[0].0, b'T');
    let time = String::from_utf8(ours_records[0].1.clone()).unwrap();
    let (sec, usec) = time.split_once(' ').unwrap();
    assert!(
        sec.parse::<u64>().is_ok() && usec.parse::<u32>().unwrap() < 1_000_000,
        "{time}"
    );
    assert_eq!(ours_records[1..], theirs_records[1..]);
    assert!(
        ours_records
            .iter()
            .any(|(k, d)| *k == b'F' && d == b"Charlie Root")
    );
    // Complete, readable by pickup, group postdrop (set-gid), owned by the submitter.
    let (o, t) = (
        std::fs::metadata(&ours_file).unwrap(),
        std::fs::metadata(&theirs_file).unwrap(),
    );
    assert_eq!(o.mode() & 0o7777, 0o744);
    assert_eq!(
        (o.mode() & 0o7777, o.uid(), o.gid()),
        (t.mode() & 0o7777, t.uid(), t.gid())
    );
    // The name is a queue id: microseconds and inode number in hexadecimal.
    let name = ours_file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.ends_with(&format!("{:X}", o.ino())) && name.len() > 5,
        "{name} (inode {})",
        o.ino()
    );
    for file in maildrop(&mx) {
        std::fs::remove_file(file).unwrap();
    }

    // Bad submissions, to both postdrops: the same refusal, and no file.
    let late_recipient = records(&[
        (b'S', "root"),
        (b'R', "user@vmail.e2e.test"),
        (b'M', ""),
        (b'N', "Subject: late"),
        (b'R', "late@vmail.e2e.test"),
    ]);
    let mut garbage = b"garbage".to_vec();
    garbage.extend_from_slice(&[0xff; 5]);
    let too_long = records(&[(b'S', "root"), (b'R', &"x".repeat(5000))]);
    let attributes_but_no_recipient = records(&[
        (b'S', "root"),
        (b'A', "client_address=10.0.0.1"),
        (b'A', "junk"),
        (b'M', ""),
        (b'N', "body"),
        (b'X', ""),
        (b'E', ""),
    ]);
    let canceled = records(&[(b'S', "root"), (b'R', "user@vmail.e2e.test"), (b'M', "")]);
    let cases: [(&str, &[u8], Option<i32>, &str); 5] = [
        (
            "late recipient",
            &late_recipient,
            Some(1),
            "postdrop: fatal: uid=0: unexpected record type: 82\n",
        ),
        (
            "garbage",
            &garbage,
            Some(1),
            "postdrop: warning: stdin: unexpected EOF in data, record type 103 length 97\n\
             postdrop: fatal: uid=0: malformed input\n",
        ),
        (
            "too long",
            &too_long,
            Some(1),
            "postdrop: warning: stdin: illegal length 5000, record type 82\n\
             postdrop: fatal: uid=0: malformed input\n",
        ),
        (
            "no recipient",
            &attributes_but_no_recipient,
            Some(1),
            "postdrop: warning: uid=0: ignoring attribute record: client_address=10.0.0.1\n\
             postdrop: warning: uid=0: ignoring malformed record: missing '=' after attribute name: junk\n",
        ),
        ("canceled", &canceled, Some(0), ""),
    ];
    for (what, input, status, stderr) in cases {
        let got = postdrop(&mx, &ours, input);
        assert_eq!(got.status.code(), status, "{what}");
        assert_eq!(String::from_utf8_lossy(&got.stderr), stderr, "{what}");
        assert!(maildrop(&mx).is_empty(), "{what}: {:?}", maildrop(&mx));
        let expected = postdrop(&mx, Path::new(POSTFIX_POSTDROP), input);
        assert_eq!(got.status.code(), expected.status.code(), "{what}");
        assert_eq!(got.stderr, expected.stderr, "{what}");
        assert_eq!(replies(&got.stdout), replies(&expected.stdout), "{what}");
        // Postfix's postdrop leaves the refused file of "no recipient" behind (never
        // complete, so never picked up); ours does not.
        for file in maildrop(&mx) {
            std::fs::remove_file(file).unwrap();
        }
    }
    // A message bigger than message_size_limit: the file size limit stops the write.
    mx.add_main_cf("message_size_limit = 2000\n");
    let line = "x".repeat(1500);
    let big = records(&[
        (b'S', "root"),
        (b'R', "user@vmail.e2e.test"),
        (b'M', ""),
        (b'N', &line),
        (b'N', &line),
        (b'X', ""),
        (b'E', ""),
    ]);
    let got = postdrop(&mx, &ours, &big);
    assert_eq!(got.status.code(), Some(4));
    assert_eq!(
        String::from_utf8_lossy(&got.stderr),
        "postdrop: warning: uid=0: File too large\n"
    );
    assert!(maildrop(&mx).is_empty(), "{:?}", maildrop(&mx));
    let expected = postdrop(&mx, Path::new(POSTFIX_POSTDROP), &big);
    assert_eq!(got.stderr, expected.stderr);
    assert_eq!(replies(&got.stdout), replies(&expected.stdout));
    assert!(replies(&got.stdout).ends_with("status|4|reason|||"));

    // Both logged the same lines through postlogd, under postfix/postdrop: each line
    // once from ours and once from Postfix's.
    let mut wanted: Vec<String> = cases
        .iter()
        .flat_map(|(_, _, _, stderr)| stderr.lines())
        .map(|l| l.trim_start_matches("postdrop: ").to_string())
        .collect();
    wanted.push("warning: unable to look up public/pickup: No such file or directory".into());
    wanted.push("warning: uid=0: File too large".into());
    let logged = |line: &str| postdrop_log(&mx).iter().filter(|l| *l == line).count();
    for line in &wanted {
        let times = 2 * wanted.iter().filter(|w| *w == line).count();
        if !wait_until(10, || logged(line) >= times) || logged(line) != times {
            mx.keep_for_inspection();
            panic!("{line:?} not logged {times} times:\n{}", mx.log());
        }
    }
    assert!(
        mx.log().contains("postfix/postdrop["),
        "postdrop's log tag:\n{}",
        mx.log()
    );
    mx.postfix(&["stop"]);
}

#[test]
fn a_user_cannot_choose_the_configuration() {
    let Some(mx) = Instance::new("t-17-user") else {
        return;
    };
    let Some(ours) = install_postdrop(&mx) else {
        return;
    };
    // Set-gid for a user that is not root: MAIL_CONFIG names a directory that the
    // default main.cf does not list (or that default main.cf does not exist).
    let out = Command::new("setpriv")
        .args(["--reuid", "nobody", "--regid", "nogroup", "--clear-groups"])
        .arg(&ours)
        .arg("-r")
        .env("MAIL_CONFIG", mx.etc())
        .stdin(Stdio::null())
        .output()
        .expect("setpriv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let refused = stderr.contains(&format!(
        "postdrop: error: unauthorized configuration directory name: {}\n",
        mx.etc().display()
    )) || (stderr.starts_with("postdrop: fatal: open file /")
        && stderr.contains("/main.cf: "));
    assert!(refused, "{stderr}");
    assert!(out.stdout.is_empty());
}
