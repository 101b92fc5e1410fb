//! postcat - prints queue files in human-readable form.
//!
//! Postfix counterpart: `postcat/postcat.c` (3.7). `postcat [-bdehoqrv] [-c config_dir]
//! [-s offset] [files...]` prints the envelope records (`-e`), the message header (`-h`)
//! and body (`-b`) of each file, all three when none is asked for; with `-q` the operands
//! are queue IDs looked up in the maildrop, incoming, active, deferred, hold and saved
//! queues; without operands standard input is read. `-o` prints each record's offset, `-d`
//! its type as a number, `-r` shows records after the END record and pointer records
//! unfollowed, `-s` starts at an offset, `-v` shows padding and pointer records and the
//! type of text records. The output is Postfix's byte for byte: the tools that read it
//! (and people's scripts) expect `*** ENVELOPE RECORDS file ***` and friends.

mod print;

use params::Config;
use params::decl::install::QUEUE_DIRECTORY;
use print::Flags;
use std::os::fd::AsFd;

/// The queues `-q` searches, in Postfix's order.
const QUEUES: [&str; 6] = [
    global::mail_queue::MAILDROP,
    global::mail_queue::INCOMING,
    global::mail_queue::ACTIVE,
    global::mail_queue::DEFERRED,
    global::mail_queue::HOLD,
    global::mail_queue::SAVED,
];

fn usage(myname: &str) -> ! {
    log::msg_fatal!(
        "usage: {myname} [-b (body text)] [-c config_dir] [-d (decimal record type)] [-e (envelope records)] [-h (header text)] [-q (access queue)] [-v] [file(s)...]"
    )
}

fn main() {
    let argv0 = std::env::args().next().unwrap_or_else(|| "postcat".into());
    log::init(Box::new(log::Stderr::new(&argv0)));
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, operands) = match util::getopt::parse(&argv0, "bc:dehoqrs:v", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&argv0)
        }
    };
    let mut flags = Flags::default();
    let mut search_queue = false;
    for opt in opts {
        match (opt.letter, opt.value) {
            ('b', _) => flags.body = true,
            ('c', Some(dir)) => sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(&dir)),
            ('d', _) => flags.decimal = true,
            ('e', _) => flags.env = true,
            ('h', _) => flags.header = true,
            ('o', _) => flags.offsets = true,
            ('q', _) => search_queue = true,
            ('r', _) => flags.raw = true,
            ('s', Some(offset)) => {
                flags.start = match offset.parse::<u64>() {
                    Ok(n) if offset.bytes().all(|b| b.is_ascii_digit()) => n,
                    _ => log::msg_fatal!("bad offset: {offset}"),
                }
            }
            ('v', _) => log::raise_verbose(1),
            _ => usage(&argv0),
        }
    }
    if !(flags.env || flags.header || flags.body) {
        flags.env = true;
        flags.header = true;
        flags.body = true;
    }
    let config_dir = params::config::config_directory(None);
    let config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    if let Err(e) = global::mail_conf_checkdir::update_env(&config) {
        global::fatal_config(e);
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if operands.is_empty() {
        // A duplicate of descriptor 0 as a file, so that it can be seeked when it is one.
        let stdin = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .unwrap_or_else(|e| log::msg_fatal!("stdin: {}", sys::os_error(&e)));
        print::postcat(&mut out, stdin, "stdin", &flags);
    } else if search_queue {
        let queue_dir = config
            .str(&QUEUE_DIRECTORY)
            .unwrap_or_else(|e| global::fatal_config(e));
        if let Err(e) = std::env::set_current_dir(&queue_dir) {
            log::msg_fatal!("chdir {queue_dir}: {}", sys::os_error(&e));
        }
        let layout = global::mail_queue::Layout::from_config(&config)
            .unwrap_or_else(|e| global::fatal_config(e));
        for id in &operands {
            if !global::mail_queue::id_ok(id) {
                log::msg_fatal!("bad mail queue ID: {id}");
            }
            // Twice over the queues: the file may move from one to the next while we look.
            let mut found = None;
            let mut last_error = None;
            'tries: for _ in 0..2 {
                for queue in QUEUES {
                    let path = layout.path(queue, id);
                    match std::fs::File::open(&path) {
                        Ok(file) => {
                            found = Some((file, path));
                            break 'tries;
                        }
                        Err(e) => last_error = Some(e),
                    }
                }
            }
            let Some((file, path)) = found else {
                let e = last_error.unwrap_or_else(|| std::io::Error::from_raw_os_error(2));
                log::msg_fatal!("open queue file {id}: {}", sys::os_error(&e));
            };
            print::postcat(&mut out, file, &path, &flags);
        }
    } else {
        for name in &operands {
            let file = std::fs::File::open(name)
                .unwrap_or_else(|e| log::msg_fatal!("open {name}: {}", sys::os_error(&e)));
            print::postcat(&mut out, file, name, &flags);
        }
    }
}
