//! `-v` in master.cf (DEBUG_README "Verbose logging for specific SMTP connections" and
//! "More verbose logging"): each -v raises one service's verbosity after `postfix reload`;
//! other services keep theirs.

use e2e::Instance;

fn set_postlogd_args(mx: &Instance, args: &str) {
    let new = format!("postlog   unix-dgram n  -       n       -       1       postlogd{args}");
    mx.replace_master_cf_line(|l| l.starts_with("postlog "), &new);
}

fn lines_of(log: &str, tag: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(tag))
        .map(String::from)
        .collect()
}

#[test]
fn each_v_raises_one_service() {
    let Some(mut mx) = Instance::new("t-03") else {
        return;
    };
    mx.start();
    mx.send_local("t03-quiet");
    mx.wait_log("relay=virtual", 20);
    assert!(
        !mx.log().contains("master_notify"),
        "postlogd is not verbose yet"
    );

    set_postlogd_args(&mx, " -v");
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 5);
    mx.send_local("t03-v");
    mx.wait_log("postfix/postlogd", 10);
    mx.wait_log("master_notify: status 1", 10);
    let log = mx.log();
    assert!(!log.contains("dict_eval:"), "one -v is not two");
    // smtpd (Postfix's) was not touched: no verbose SMTP transcript.
    assert!(!log.contains("< localhost[127.0.0.1]: MAIL FROM"), "{log}");

    set_postlogd_args(&mx, " -v -v");
    mx.postfix(&["reload"]);
    mx.send_local("t03-vv");
    mx.wait_log("dict_eval:", 10);
    let verbose = lines_of(&mx.log(), "dict_eval:");
    assert!(
        verbose.iter().all(|l| l.contains("postfix/postlogd[")),
        "{verbose:?}"
    );
}
