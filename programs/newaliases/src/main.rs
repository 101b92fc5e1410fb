//! newaliases - rebuild the alias databases.
//!
//! Postfix counterpart: the `-bi` mode of `sendmail/sendmail.c`, which newaliases is a
//! link to. It runs `$command_directory/postalias -- $alias_database` (or the table given
//! with `-oA`), with one `-v` per `-v`; an empty alias_database does nothing. `-C` names
//! the configuration directory (or its main.cf). The other sendmail options are accepted
//! and ignored, as in this mode Postfix ignores them. When ironpost has its sendmail,
//! newaliases becomes that program's alias mode.

use std::path::Path;

/// sendmail's option letters (Postfix's GETOPT_LIST), so scripts that pass any of them work.
const OPTIONS: &str = "A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_else(|| "newaliases".into());
    log::init(Box::new(log::Stderr::new(&program)));
    let (opts, operands) = util::getopt::parse(&program, OPTIONS, &args[1..]).unwrap_or_else(|e| {
        eprintln!("{e}");
        log::msg_fatal!("usage: {program} [-C config_dir] [-oAalias_database] [-v]")
    });
    let mut verbose = 0;
    let mut tables: Option<String> = None;
    for opt in opts {
        match (opt.letter, opt.value.as_deref()) {
            ('C', Some(path)) => {
                // A main.cf path names its directory.
                let dir = match Path::new(path).file_name() {
                    Some(name) if name == "main.cf" => Path::new(path)
                        .parent()
                        .map_or_else(|| ".".into(), |p| p.display().to_string()),
                    _ => path.to_string(),
                };
                // As sendmail does: the programs it runs read the same configuration.
                sys::setenv("MAIL_CONFIG", std::ffi::OsStr::new(&dir));
            }
            ('v', _) => {
                verbose += 1;
                log::raise_verbose(1);
            }
            ('o', Some(value)) if value.starts_with('A') => {
                if value.len() == 1 {
                    log::msg_fatal!("-oA requires pathname");
                }
                tables = Some(value[1..].to_string());
            }
            _ => {}
        }
    }
    if !operands.is_empty() {
        log::msg_fatal!("alias initialization mode requires no recipient");
    }
    let dir = params::config::config_directory(None);
    let config = params::Config::load(&dir).unwrap_or_else(|e| global::fatal_config(e));
    let text = |param| {
        config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let tables = tables.unwrap_or_else(|| text(&params::decl::address::ALIAS_DATABASE));
    let tables: Vec<&str> = util::tokens::split(&tables, util::tokens::COMMA_SPACE).collect();
    if tables.is_empty() {
        std::process::exit(0);
    }
    let mut args: Vec<String> = std::iter::repeat_n("-v".to_string(), verbose).collect();
    args.push("--".into());
    args.extend(tables.iter().map(|t| t.to_string()));
    global::mail_run::mail_run_replace(
        &text(&params::decl::install::COMMAND_DIRECTORY),
        "postalias",
        &args,
    )
}
