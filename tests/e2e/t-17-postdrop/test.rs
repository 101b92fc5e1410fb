//! postdrop: Postfix's sendmail submits through ironpost's postdrop (installed set-gid
//! postdrop in the instance's command_directory) and the mail is delivered, with
//! pickup's `uid=0 from=<root>` line; the maildrop file it writes is the one Postfix's
//! postdrop writes for the same submission, apart from the arrival time; input that is
//! not a valid submission is refused with Postfix's words, exit status and log lines, and
//! leaves nothing in the maildrop queue; a user that runs it set-gid cannot pick another
//! configuration directory unless the default main.cf lists it in
//! alternate_config_directories, and then submits through it.

use e2e::{Instance, wait_until};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const POSTFIX_POSTDROP: &str = "/usr/sbin/postdrop";

fn records(list: &[(u8, &str)]) -> Vec<u8> {
    list.iter()
        .flat_map(|(kind, data)| e2e::record(*kind, data.as_bytes()))
        .collect()
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
    mx.install_commands();
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
    let ours = mx.install_commands();
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
    // Postfix's postdrop, from Postfix's command directory.
    mx.set_main_cf("command_directory", "/usr/sbin");
    submit("t17-same");
    let both = maildrop(&mx);
    assert_eq!(both.len(), 2, "{both:?}");
    let theirs_file = both.iter().find(|f| **f != ours_file[0]).unwrap().clone();
    let ours_file = ours_file[0].clone();

    // The same records, but for the arrival time (seconds and microseconds).
    let ours_records = e2e::records_of(&std::fs::read(&ours_file).unwrap());
    let theirs_records = e2e::records_of(&std::fs::read(&theirs_file).unwrap());
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

/// Runs `postdrop -r` as user nobody, so that its set-gid bit makes it distrust
/// MAIL_CONFIG (which names the instance), with `input` on its standard input. It runs in
/// a mount namespace of its own in which the default main.cf, `default_dir/main.cf`, is
/// `default_main_cf` (an overlay on the parent directory: the real one is not touched).
fn postdrop_as_nobody(
    mx: &Instance,
    postdrop: &Path,
    default_dir: &Path,
    default_main_cf: &str,
    input: &[u8],
) -> Output {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let overlay = mx.dir.join(format!("default-config-{run}"));
    let (parent, name) = (
        default_dir.parent().unwrap(),
        default_dir.file_name().unwrap(),
    );
    std::fs::create_dir_all(overlay.join("upper").join(name)).unwrap();
    std::fs::create_dir_all(overlay.join("work")).unwrap();
    std::fs::write(
        overlay.join("upper").join(name).join("main.cf"),
        default_main_cf,
    )
    .unwrap();
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        parent.display(),
        overlay.join("upper").display(),
        overlay.join("work").display()
    );
    let script = r#"mount -t overlay overlay -o "$1" "$2" && shift 2 && exec "$@""#;
    // Private propagation: the overlay is never seen outside the namespace.
    let args = [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "sh",
        &options,
        parent.to_str().unwrap(),
        "setpriv",
        "--reuid",
        "nobody",
        "--regid",
        "nogroup",
        "--clear-groups",
        postdrop.to_str().unwrap(),
        "-r",
    ];
    mx.run_with_input("unshare", &args, input)
}

#[test]
fn a_user_cannot_choose_the_configuration() {
    let Some(mut mx) = Instance::new("t-17-user") else {
        return;
    };
    let ours = mx.install_commands();
    mx.start();
    let out = mx.command("postconf", &["-dh", "config_directory"]);
    let our_default = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let postdrops = [
        ("ours", ours.as_path(), our_default.as_path()),
        (
            "postfix",
            Path::new(POSTFIX_POSTDROP),
            Path::new("/etc/postfix"),
        ),
    ];
    let etc = mx.etc().display().to_string();
    // The default main.cf does not list the instance's directory: refused, with the
    // same words from both (but for the default directory's name).
    for (which, postdrop, default_dir) in postdrops {
        let out = postdrop_as_nobody(&mx, postdrop, default_dir, "", b"");
        assert_eq!(out.status.code(), Some(1), "{which}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "postdrop: error: unauthorized configuration directory name: {etc}\n\
                 postdrop: fatal: specify \"alternate_config_directories = {etc}\" or \
                 \"multi_instance_directories = {etc}\" in {}/main.cf\n",
                default_dir.display()
            ),
            "{which}"
        );
        assert!(out.stdout.is_empty());
        assert!(mx.leftovers_in_maildrop().is_empty());
    }
    // Listed: the submission is accepted, and picked up and delivered.
    let listed = format!("alternate_config_directories = /elsewhere,\n  {etc}\n");
    for (which, postdrop, default_dir) in postdrops {
        let marker = format!("t17-alternate-{which}");
        let input = records(&[
            (b'S', "nobody"),
            (b'R', "user@vmail.e2e.test"),
            (b'M', ""),
            (b'N', &format!("Subject: {marker}")),
            (b'N', ""),
            (b'N', "body"),
            (b'X', ""),
            (b'E', ""),
        ]);
        let out = postdrop_as_nobody(&mx, postdrop, default_dir, &listed, &input);
        assert_eq!(out.status.code(), Some(0), "{which}: {out:?}");
        assert!(out.stderr.is_empty(), "{which}: {out:?}");
        if !wait_until(30, || mx.mailbox().iter().any(|m| m.contains(&marker))) {
            mx.keep_for_inspection();
            panic!("{marker} not delivered; log:\n{}", mx.log());
        }
    }
    // Picked up as nobody's.
    let log = mx.log();
    let picked: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("/pickup[") && l.ends_with(" from=<nobody>"))
        .collect();
    assert_eq!(picked.len(), 2, "{log}");
    assert!(picked.iter().all(|l| !l.contains(": uid=0 ")), "{log}");
    mx.postfix(&["stop"]);
}
