//! postconf - show, explain and edit the ironpost configuration.
//!
//! Postfix counterpart: `postconf/postconf.c`. The command line, the output and the messages
//! are Postfix 3.7's, so that scripts and habits carry over: `postconf -n` for a problem
//! report, `postconf -d` for defaults, `postconf -x` to see what `$name` becomes, `postconf -M`
//! and `-F`/`-P` for master.cf, `-e`, `-X` and `-#` to edit main.cf, and `-Me`, `-MX`, `-M#`,
//! `-Fe`, `-Pe`, `-PX` to edit master.cf. Unknown parameters in main.cf and master.cf are
//! reported as `unused parameter`, which is how Postfix users catch typos.
//!
//! Diagnostics go to the standard error stream as `postconf: warning: ...` and
//! `postconf: fatal: ...`; a fatal error exits with status 1.

mod edit;
mod master;
mod mode;
mod names;
mod print;
mod show;
mod unused;

use mode::Mode;
use std::path::PathBuf;

/// The getopt specification, Postfix 3.7's.
const OPTIONS: &str = "aAbc:C:deEfFhHlmMno:pPtT:vxX#";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("postconf")
        .to_string();
    log::init(Box::new(log::Stderr::new(&program)));
    sys::umask(0o022);

    let (opts, operands) = match util::getopt::parse(&program, OPTIONS, &args[1..]) {
        Ok(parsed) => parsed,
        Err(text) => {
            eprintln!("{text}");
            usage(&program);
        }
    };
    let mut mode = Mode::default();
    let mut overrides = Vec::new();
    let mut config_dir: Option<PathBuf> = None;
    for opt in opts {
        let bit = match opt.letter {
            'a' => mode::SASL_SERVER,
            'A' => mode::SASL_CLIENT,
            'b' => mode::EXPAND_TEMPLATES,
            'c' => {
                config_dir = opt.value.map(PathBuf::from);
                continue;
            }
            'C' => {
                mode.set_class(opt.value.as_deref().unwrap_or(""));
                continue;
            }
            'd' => mode::DEFAULTS,
            'e' => mode::EDIT,
            'f' => mode::FOLD,
            'F' => mode::MASTER_FIELDS,
            'h' => mode::HIDE_NAME,
            'H' => mode::HIDE_VALUE,
            'l' => mode::LOCKS,
            'm' => mode::MAPS,
            'M' => mode::MASTER_ENTRIES,
            'n' => mode::NON_DEFAULT,
            'o' => {
                overrides.extend(opt.value);
                mode::OVERRIDE
            }
            'p' => mode::MAIN_PARAMS,
            'P' if mode.has(mode::MASTER_PARAMS) => mode::MASTER_MERGED,
            'P' => mode::MASTER_PARAMS,
            't' => mode::DUMP_TEMPLATES,
            'T' => mode::TLS,
            'v' => {
                log::raise_verbose(1);
                continue;
            }
            'x' => mode::EVAL,
            'X' => mode::EXCLUDE,
            '#' => mode::COMMENT_OUT,
            _ => usage(&program),
        };
        mode.set(bit);
    }
    mode.complete(&operands);
    let env = names::Env::locate(config_dir);

    if mode.has(mode::EXPAND_TEMPLATES) || mode.has(mode::DUMP_TEMPLATES) {
        bounce_templates(&mode, &env, &operands);
    }
    if mode.has(mode::TLS) {
        log::msg_fatal!("-T needs the TLS library, which ironpost does not have yet");
    }
    if mode.has(mode::MAPS) {
        show::map_types();
    } else if mode.has(mode::LOCKS) {
        show::lock_types();
    } else if mode.has(mode::SASL_SERVER) || mode.has(mode::SASL_CLIENT) {
        // ironpost has no SASL plug-ins yet, so the list is empty.
    } else if mode.edits() {
        if operands.is_empty() {
            log::msg_fatal!("missing service argument");
        }
        if mode.any_master() {
            edit::master(&mode, &env, &operands);
        } else {
            edit::main(&mode, &env, &operands);
        }
    } else if mode.any_master() {
        let run = names::Run::load(&mode, env, &overrides, true);
        if mode.has(mode::MASTER_FIELDS) {
            master::show_fields(&mode, &run, &operands);
        } else if mode.has(mode::MASTER_PARAMS) {
            master::show_params(&mode, &run, &operands);
        } else {
            master::show_entries(&mode, &run, &operands);
        }
        unused::flag_master(&run);
    } else {
        let run = names::Run::load(&mode, env, &overrides, false);
        show::parameters(&mode, &run, &operands);
        if !mode.has(mode::DEFAULTS) {
            unused::flag_main(&run);
            unused::flag_master(&run);
        }
    }
}

/// `-b` and `-t`: the bounce daemon prints its templates, expanded or as they are, from
/// `bounce_template_file` or the one file named; postconf becomes that daemon, as
/// Postfix's does (`mail_run_replace`).
fn bounce_templates(mode: &Mode, env: &names::Env, operands: &[String]) -> ! {
    if mode.has(mode::EXPAND_TEMPLATES) && mode.has(mode::DUMP_TEMPLATES) {
        log::msg_fatal!("specify one of -b and -t");
    }
    if operands.len() > 1 {
        log::msg_fatal!("options -b and -t require at most one template file");
    }
    let request = if mode.has(mode::EXPAND_TEMPLATES) {
        "-SVnexpand_templates"
    } else {
        "-SVndump_templates"
    };
    let mut args = vec![request.to_string()];
    if let Some(file) = operands.first() {
        args.extend(["-o".to_string(), format!("bounce_template_file={file}")]);
    }
    args.extend(["-o".to_string(), "queue_directory=.".to_string()]);
    // The daemon reads the same configuration directory.
    sys::setenv(params::env::CONF_ENV, env.config_dir.as_os_str());
    let config = params::Config::load(&env.config_dir).unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let daemon_dir = config
        .str(&params::decl::install::DAEMON_DIRECTORY)
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    global::mail_run::mail_run_replace(&daemon_dir, "bounce", &args)
}

fn usage(program: &str) -> ! {
    log::msg_fatal!(
        "usage: {program} [-a (server SASL types)] [-A (client SASL types)] [-b (bounce templates)] [-c config_dir] [-c param_class] [-d (parameter defaults)] [-e (edit configuration)] [-f (fold lines)] [-F (master.cf fields)] [-h (no names)] [-H (no values)] [-l (lock types)] [-m (map types)] [-M (master.cf)] [-n (non-default parameters)] [-o name=value (override parameter value)] [-p (main.cf, default)] [-P (master.cf parameters)] [-t (bounce templates)] [-T compile-version|run-version|public-key-algorithms] [-v (verbose)] [-x (expand parameter values)] [-X (exclude)] [-# (comment-out)] [name...]"
    )
}
