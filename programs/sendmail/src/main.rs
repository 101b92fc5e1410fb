//! sendmail - the Sendmail-compatible command line: submit mail, list the queue, rebuild
//! aliases, and ask for delivery reports.
//!
//! Postfix counterpart: `sendmail/sendmail.c`. Called as `sendmail` (or with `-bm`) it
//! submits one message through postdrop (see [`enqueue`]); `-bv` submits a what-if probe
//! and `-v` a message whose delivery is recorded, and both print `Mail Delivery Status
//! Report will be mailed to <sender>.` (DEBUG_README, "Debugging from inside"). As
//! `mailq` or with `-bp` it becomes `postqueue -p`; as `newaliases` or with `-bi`/`-I`,
//! `postalias` on alias_database; `-q` is `postqueue -f`, `-qR`/`-qI` flush one site or
//! message, `-bs` runs `smtpd -S` on standard input and output, `-bd` starts the mail
//! system. Errors are reported on standard error and to the mail log; the exit status
//! is then 75 (EX_TEMPFAIL), as with Postfix's sendmail.

mod enqueue;

use global::dsn_mask;
use params::Config;
use params::decl::address::ALIAS_DATABASE;
use params::decl::install::{
    COMMAND_DIRECTORY, DAEMON_DIRECTORY, EXPORT_ENVIRONMENT, QUEUE_DIRECTORY,
};
use params::decl::sendmail::{
    DEFAULT_VERP_DELIMITERS, SENDMAIL_FIX_LINE_ENDINGS, VERP_DELIMITER_FILTER,
};
use params::decl::smtpd::{HEADER_SIZE_LIMIT, LINE_LENGTH_LIMIT};
use params::decl::submission::AUTHORIZED_SUBMIT_USERS;

/// EX_TEMPFAIL (sysexits.h): how sendmail exits after any fatal error. Postfix's
/// sendmail names other statuses at its call sites, but its msg_cleanup() handler exits
/// with this one first, and that is what scripts see.
const EX_TEMPFAIL: i32 = 75;

/// What sendmail was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Enqueue,
    Mailq,
    FlushQueue,
    NewAliases,
    Daemon,
    User,
    Ignore,
}

/// Everything `enqueue` needs.
pub(crate) struct Request {
    pub(crate) sender: String,
    pub(crate) uid: u32,
    pub(crate) full_name: Option<String>,
    pub(crate) recipients: Vec<String>,
    pub(crate) extract_recipients: bool,
    pub(crate) dot_ends_input: bool,
    pub(crate) trace_flags: u32,
    pub(crate) rewrite_context: String,
    pub(crate) encoding: Option<String>,
    pub(crate) verp_delims: Option<String>,
    pub(crate) dsn_envid: Option<String>,
    pub(crate) dsn_ret: u32,
    pub(crate) dsn_notify: u32,
    pub(crate) command_directory: String,
    pub(crate) export_environment: Vec<(String, String)>,
    pub(crate) fix_line_endings: String,
    pub(crate) line_limit: usize,
    pub(crate) header_size_limit: usize,
}

/// Postfix's sendmail option letters.
const OPTIONS: &str = "A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "sendmail".into());
    sys::umask(0o022);
    log::init(Box::new(log::Stderr::new(&program)));
    log::set_fatal_cleanup(|| std::process::exit(EX_TEMPFAIL));
    if std::env::var_os(params::env::CONF_ENV_VERB).is_some() {
        log::set_verbose(1);
    }
    let debug_me = std::env::var_os(params::env::CONF_ENV_DEBUG).is_some();
    if sys::geteuid() == 0 && sys::getuid() != 0 {
        log::msg_warn!("the Postfix sendmail command has set-uid root file permissions");
        log::msg_warn!("or the command is run from a set-uid root process");
        log::msg_warn!(
            "the Postfix sendmail command must be installed without set-uid root file permissions"
        );
    }

    // Spellings getopt cannot take: a bare -q, and the old -V forms of VERP.
    let mut mode = match program.as_str() {
        "mailq" => Mode::Mailq,
        "newaliases" => Mode::NewAliases,
        "smtpd" => Mode::Daemon,
        _ => Mode::Enqueue,
    };
    let mut verp_default = false;
    let mut words = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let word = &args[i];
        if !word.starts_with('-') || word == "-" || word == "--" {
            words.extend_from_slice(&args[i..]);
            break;
        }
        if word == "-q" {
            if mode == Mode::Daemon {
                log::msg_warn!("ignoring -q option in daemon mode");
            } else {
                mode = Mode::FlushQueue;
            }
        } else if word == "-V" && args.get(i + 1).is_some_and(|next| next.len() == 2) {
            log::msg_warn!("option -V is deprecated with Postfix 2.3; specify -XV instead");
            words.push(format!("-XV{}", args[i + 1]));
            i += 1;
        } else if word.starts_with("-V") && word.len() == 4 {
            log::msg_warn!(
                "option {word} is deprecated with Postfix 2.3; specify -X{} instead",
                &word[1..]
            );
            words.push(format!("-X{}", &word[1..]));
        } else if word == "-XV" {
            verp_default = true;
        } else {
            words.push(word.clone());
        }
        i += 1;
    }
    let (opts, operands) = util::getopt::parse(&program, OPTIONS, &words).unwrap_or_else(|e| {
        eprintln!("{e}");
        log::msg_fatal!("usage: {program} [options]")
    });

    let mut sender: Option<String> = None;
    let mut full_name: Option<String> = None;
    let mut extract = false;
    let mut dot_ends_input = true;
    let mut trace_flags = 0u32;
    let mut rewrite_context = "local".to_string();
    let mut encoding = None;
    let mut verp_delims: Option<String> = None;
    let mut dsn_envid = None;
    let mut dsn_ret = 0;
    let mut dsn_notify = 0;
    let mut site_to_flush = None;
    let mut id_to_flush = None;
    let mut queue_time = false;
    let mut alias_tables: Option<String> = None;
    let mut verbose = 0;
    for opt in &opts {
        let value = opt.value.clone().unwrap_or_default();
        match opt.letter {
            'C' => {
                let path = std::path::Path::new(&value);
                let dir = if path.file_name().is_some_and(|n| n == "main.cf") {
                    path.parent()
                        .map_or_else(|| ".".to_string(), |p| p.display().to_string())
                } else {
                    value.clone()
                };
                sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(&dir));
            }
            'n' => log::msg_fatal!("-n option not supported"),
            'B' => {
                encoding = Some(match value.as_str() {
                    "8BITMIME" => "8bitmime".to_string(),
                    "7BIT" => "7bit".to_string(),
                    _ => log::msg_fatal!("-B option needs 8BITMIME or 7BIT"),
                })
            }
            'F' => full_name = Some(value),
            'G' => rewrite_context = "remote".into(),
            'I' => mode = Mode::NewAliases,
            'N' => {
                dsn_notify = dsn_mask::dsn_notify_mask(&value).unwrap_or_else(|_| {
                    log::msg_warn!("bad -N option value -- ignored");
                    0
                })
            }
            'R' => {
                dsn_ret = dsn_mask::dsn_ret_code(&value).unwrap_or_else(|| {
                    log::msg_warn!("bad -R option value -- ignored");
                    0
                })
            }
            'V' => {
                if value.len() > 100 {
                    log::msg_warn!("too long -V option value -- ignored");
                } else if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                    log::msg_warn!("bad syntax in -V option value -- ignored");
                } else {
                    dsn_envid = Some(value);
                }
            }
            'X' => match value.chars().next() {
                Some('V') => verp_delims = Some(value[1..].to_string()),
                other => log::msg_fatal!(
                    "unsupported: -X{}",
                    other.map(String::from).unwrap_or_default()
                ),
            },
            'b' => match value.chars().next() {
                Some('d' | 'l') => {
                    if mode == Mode::FlushQueue {
                        log::msg_warn!("ignoring -q option in daemon mode");
                    }
                    mode = Mode::Daemon;
                }
                Some('h' | 'H') => mode = Mode::Ignore,
                Some('i') => mode = Mode::NewAliases,
                Some('m') => mode = Mode::Enqueue,
                Some('p') => mode = Mode::Mailq,
                Some('s') => mode = Mode::User,
                Some('v') => trace_flags |= enqueue::USR_VRFY,
                other => log::msg_fatal!(
                    "unsupported: -b{}",
                    other.map(String::from).unwrap_or_default()
                ),
            },
            'f' | 'r' => sender = Some(value),
            'i' => dot_ends_input = false,
            'o' => match value.chars().next() {
                Some('A') => {
                    if value.len() == 1 {
                        log::msg_fatal!("-oA requires pathname");
                    }
                    alias_tables = Some(value[1..].to_string());
                }
                Some('i') => dot_ends_input = false,
                _ => {
                    if log::verbose() > 0 {
                        log::msg_info!("-o{value} option ignored");
                    }
                }
            },
            'q' => match value.chars().next() {
                Some(c) if c.is_ascii_digit() => queue_time = true,
                Some('R') => {
                    if value.len() == 1 {
                        log::msg_fatal!("specify: -qRsitename");
                    }
                    site_to_flush = Some(value[1..].to_string());
                }
                Some('I') => {
                    if value.len() == 1 {
                        log::msg_fatal!("specify: -qIqueueid");
                    }
                    id_to_flush = Some(value[1..].to_string());
                }
                other => log::msg_fatal!(
                    "-q{} is not implemented",
                    other.map(String::from).unwrap_or_default()
                ),
            },
            't' => extract = true,
            'v' => {
                verbose += 1;
                log::raise_verbose(1);
            }
            other => {
                if log::verbose() > 0 {
                    log::msg_info!("-{other} option ignored");
                }
            }
        }
    }

    let config_dir = params::config::config_directory(None);
    let config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    let tag = global::mail_task::mail_task(&config, "sendmail");
    if let Err(e) =
        global::maillog_client::init(&config, &tag, global::maillog_client::Fallback::WriteFile)
    {
        global::fatal_config(e);
    }
    global::clean_env::clean_env(&config).unwrap_or_else(|e| global::fatal_config(e));
    let text = |param| {
        config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let queue_directory = text(&QUEUE_DIRECTORY);
    if let Err(e) = std::env::set_current_dir(&queue_directory) {
        log::msg_fatal!("chdir {queue_directory}: {}", sys::os_error(&e));
    }
    sys::signals::ignore(sys::signals::SIGPIPE);
    if debug_me {
        global::debug_process::run(&config);
    }
    if verp_default {
        verp_delims = Some(text(&DEFAULT_VERP_DELIMITERS));
    }
    if let Some(delims) = &verp_delims {
        let filter = text(&VERP_DELIMITER_FILTER);
        if delims.chars().count() != 2 || !delims.chars().all(|c| filter.contains(c)) {
            log::msg_fatal!("-V requires two characters from {filter}");
        }
    }

    if extract && mode != Mode::Enqueue {
        log::msg_fatal!("-t can be used only in delivery mode");
    }
    if site_to_flush.is_some() && mode != Mode::Enqueue {
        log::msg_fatal!("-qR can be used only in delivery mode");
    }
    if id_to_flush.is_some() && mode != Mode::Enqueue {
        log::msg_fatal!("-qI can be used only in delivery mode");
    }
    if trace_flags & enqueue::USR_VRFY != 0 {
        if extract {
            log::msg_fatal!("-t option cannot be used with -bv");
        }
        if dsn_notify != 0 {
            log::msg_fatal!("-N option cannot be used with -bv");
        }
        if dsn_ret != 0 {
            log::msg_fatal!("-R option cannot be used with -bv");
        }
        if verbose == 1 {
            log::msg_fatal!("-v option cannot be used with -bv");
        }
    }
    // One -v in delivery mode asks for a delivery report, not for verbose logging.
    if verbose == 1 && mode == Mode::Enqueue {
        verbose = 0;
        log::set_verbose(0);
        trace_flags |= enqueue::RECORD;
    }
    if queue_time && mode != Mode::Daemon {
        std::process::exit(0);
    }
    let vflags = || -> Vec<String> { std::iter::repeat_n("-v".to_string(), verbose).collect() };
    let command_directory = text(&COMMAND_DIRECTORY);
    let no_recipients = |what: &str| {
        if !operands.is_empty() {
            log::msg_fatal!("{what} requires no recipient");
        }
    };
    match mode {
        Mode::Enqueue => {
            if let Some(site) = site_to_flush {
                no_recipients("flush site");
                let mut argv = vec!["-s".to_string(), site];
                argv.extend(vflags());
                global::mail_run::mail_run_replace(&command_directory, "postqueue", &argv);
            }
            if let Some(id) = id_to_flush {
                no_recipients("flush queue_id");
                let mut argv = vec!["-i".to_string(), id];
                argv.extend(vflags());
                global::mail_run::mail_run_replace(&command_directory, "postqueue", &argv);
            }
            let uid = sys::getuid();
            check_submit_acl(&config, uid);
            let login = sys::user::by_uid(uid);
            let sender = match sender {
                Some(text) => envelope_sender(&text),
                None => match &login {
                    Some(account) => account.name.clone(),
                    None => log::msg_fatal!("no login name found for user ID {uid}"),
                },
            };
            let full_name = full_name
                .or_else(|| std::env::var("NAME").ok())
                .or_else(|| login.as_ref().map(|a| gecos_name(&a.gecos, &a.name)));
            let export_environment = text(&EXPORT_ENVIRONMENT)
                .split([' ', '\t', ',', '\n'])
                .filter(|n| !n.is_empty())
                .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
                .collect();
            let int = |param| {
                config
                    .int(param)
                    .unwrap_or_else(|e| global::fatal_config(e))
            };
            enqueue::enqueue(&Request {
                sender,
                uid,
                full_name,
                recipients: operands,
                extract_recipients: extract,
                dot_ends_input,
                trace_flags,
                rewrite_context,
                encoding,
                verp_delims,
                dsn_envid,
                dsn_ret,
                dsn_notify,
                command_directory,
                export_environment,
                fix_line_endings: text(&SENDMAIL_FIX_LINE_ENDINGS),
                line_limit: int(&LINE_LENGTH_LIMIT) as usize,
                header_size_limit: int(&HEADER_SIZE_LIMIT) as usize,
            });
            std::process::exit(0);
        }
        Mode::Mailq => {
            no_recipients("display queue mode");
            let mut argv = vec!["-p".to_string()];
            argv.extend(vflags());
            global::mail_run::mail_run_replace(&command_directory, "postqueue", &argv);
        }
        Mode::FlushQueue => {
            no_recipients("flush queue mode");
            let mut argv = vec!["-f".to_string()];
            argv.extend(vflags());
            global::mail_run::mail_run_replace(&command_directory, "postqueue", &argv);
        }
        Mode::Daemon => {
            no_recipients("daemon mode");
            let mut argv = vflags();
            argv.push("start".into());
            let status = std::process::Command::new(format!("{command_directory}/postfix"))
                .args(&argv)
                .status();
            std::process::exit(i32::from(!status.is_ok_and(|s| s.success())));
        }
        Mode::NewAliases => {
            no_recipients("alias initialization mode");
            let tables = alias_tables.unwrap_or_else(|| text(&ALIAS_DATABASE));
            let tables: Vec<String> = util::tokens::split(&tables, util::tokens::COMMA_SPACE)
                .map(String::from)
                .collect();
            if tables.is_empty() {
                std::process::exit(0);
            }
            let mut argv = vflags();
            argv.push("--".into());
            argv.extend(tables);
            global::mail_run::mail_run_replace(&command_directory, "postalias", &argv);
        }
        Mode::User => {
            no_recipients("stand-alone mode");
            check_submit_acl(&config, sys::getuid());
            let mut argv = vec!["-S".to_string()];
            argv.extend(vflags());
            global::mail_run::mail_run_replace(&text(&DAEMON_DIRECTORY), "smtpd", &argv);
        }
        Mode::Ignore => std::process::exit(0),
    }
}

/// Refuses users that authorized_submit_users does not list.
fn check_submit_acl(config: &Config, uid: u32) {
    let acl = config
        .str(&AUTHORIZED_SUBMIT_USERS)
        .unwrap_or_else(|e| global::fatal_config(e));
    if let Some(name) =
        global::user_acl::check_user_acl_byuid(AUTHORIZED_SUBMIT_USERS.name, &acl, uid)
    {
        log::msg_fatal!("User {name}({uid}) is not allowed to submit mail");
    }
}

/// The -f address in internal form: the first address in the text, as Postfix takes it.
fn envelope_sender(text: &str) -> String {
    let tree = rfc822::tok822::parse(text);
    let addresses = rfc822::tok822::addresses(&tree);
    if addresses.len() > 1 {
        log::msg_warn!("-f option specified malformed sender: {text}");
    }
    addresses
        .first()
        .map(|a| a.internalize())
        .unwrap_or_default()
}

/// The full name from a password file comment: up to the first `,` `;` or `%`, each `&`
/// replaced by the login name with its first letter capitalized (Postfix's fullname()).
fn gecos_name(gecos: &str, login: &str) -> String {
    let mut out = String::new();
    for c in gecos.chars() {
        match c {
            ',' | ';' | '%' => break,
            '&' => {
                let mut chars = login.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(chars.as_str());
                }
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gecos_names() {
        assert_eq!(gecos_name("Root User,,,", "root"), "Root User");
        assert_eq!(gecos_name("& Smith;x", "wietse"), "Wietse Smith");
        assert_eq!(gecos_name("", "x"), "");
    }

    #[test]
    fn senders() {
        assert_eq!(envelope_sender("Joe <joe@example.com>"), "joe@example.com");
        assert_eq!(envelope_sender("<>"), "");
        assert_eq!(envelope_sender("a@b"), "a@b");
    }
}
