//! The entries of an alias, a .forward file or an :include: file: each is an address,
//! a /file/name (or ~/file), a |command or an :include:/path.
//!
//! Postfix counterparts: `local/token.c` (`deliver_token`, `deliver_token_string`,
//! `deliver_token_stream`, `deliver_token_home`) and `local/include.c`
//! (`deliver_include`).

use crate::Local;
use crate::state::{State, UserAttr, exp_type, getpwuid};
use global::ext_prop;
use std::io::{BufRead, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// The longest line read from a .forward or :include: file (line_length_limit).
const LINE_LIMIT: usize = 2048;

/// Delivers one entry (`deliver_token`).
fn deliver_token(
    local: &mut Local,
    state: State,
    usr_attr: UserAttr,
    addr: &rfc822::tok822::Addr,
) -> i32 {
    let text = addr.internalize();
    if log::verbose() > 0 {
        log::msg_info!("deliver_token: {text}");
    }
    if text.starts_with('/') {
        crate::file::deliver_file(local, state, usr_attr, &text)
    } else if text.starts_with('~') {
        deliver_token_home(local, state, usr_attr, &text)
    } else if let Some(command) = text.strip_prefix('|') {
        if local.settings.cmd_deliver_mask & state.msg_attr.exp_type == 0 {
            let mut state = state;
            state.simple("5.7.1", "mail to command is restricted".into());
            local.bounce_append(&state)
        } else {
            crate::command::deliver_command(local, state, usr_attr, command)
        }
    } else if text.len() >= 9 && text[..9].eq_ignore_ascii_case(":include:") {
        deliver_include(local, state, usr_attr, &text[9..])
    } else {
        crate::resolve::deliver_resolve_tree(local, state, usr_attr, addr.clone())
    }
}

/// `~/file`: a file in the home directory of the user whose rights apply.
fn deliver_token_home(local: &mut Local, mut state: State, usr_attr: UserAttr, addr: &str) -> i32 {
    if addr.as_bytes().get(1) != Some(&b'/') {
        log::msg_warn!("bad home directory syntax for: {addr}");
        state.simple("5.3.5", "mail system configuration error".into());
        return local.bounce_append(&state);
    }
    let Some(home) = usr_attr.home.clone() else {
        log::msg_warn!("unknown home directory for: {addr}");
        state.simple("5.3.5", "mail system configuration error".into());
        return local.bounce_append(&state);
    };
    let path = if home == "/" {
        addr[1..].to_string()
    } else {
        format!("{home}{}", &addr[1..])
    };
    crate::file::deliver_file(local, state, usr_attr, &path)
}

/// Delivers each address in `string` (`deliver_token_string`); `addr_count` counts them.
pub fn deliver_token_string(
    local: &mut Local,
    state: State,
    usr_attr: UserAttr,
    string: &str,
    mut addr_count: Option<&mut usize>,
) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!("deliver_token_string: {string}");
    }
    let tree = rfc822::tok822::parse(string);
    let mut status = 0;
    for addr in rfc822::tok822::addresses(&tree) {
        if let Some(count) = addr_count.as_deref_mut() {
            *count += 1;
        }
        status |= deliver_token(local, state.clone(), usr_attr.clone(), addr);
    }
    status
}

/// Delivers each line of a .forward or :include: file, `#` lines skipped, stopping at the
/// first failure (`deliver_token_stream`).
pub fn deliver_token_stream(
    local: &mut Local,
    mut state: State,
    usr_attr: UserAttr,
    input: impl Read,
    path: &str,
    mut addr_count: Option<&mut usize>,
) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!("deliver_token_stream: {path}");
    }
    let mut reader = std::io::BufReader::new(input);
    let mut status = 0;
    loop {
        let mut line = Vec::new();
        match (&mut reader)
            .take(LINE_LIMIT as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                state.simple(
                    "4.3.0",
                    format!("error reading forwarding file: {}", sys::os_error(&e)),
                );
                return local.defer_append(&state);
            }
        }
        let text = util::eight_bit::to_text(&line);
        let text = text.trim_end_matches('\n');
        if text.starts_with('#') {
            continue;
        }
        status = deliver_token_string(
            local,
            state.clone(),
            usr_attr.clone(),
            text,
            addr_count.as_deref_mut(),
        );
        if status != 0 {
            break;
        }
    }
    status
}

/// Delivers to the addresses in an :include: file (`deliver_include`): the file must be
/// an absolute path to a regular file that is not world-writable; with default rights
/// its owner's rights apply.
fn deliver_include(local: &mut Local, mut state: State, mut usr_attr: UserAttr, path: &str) -> i32 {
    state.level += 1;
    state.log("deliver_include");
    let config_error = |local: &mut Local, mut state: State, warning: String| {
        log::msg_warn!("{warning}");
        state.simple("5.3.5", "mail system configuration error".into());
        local.bounce_append(&state)
    };
    if state.level > 100 {
        log::msg_warn!(":include: nesting limit exceeded for {path}");
        state.simple("5.4.6", ":include: nesting limit exceeded".into());
        return local.bounce_append(&state);
    }
    if local
        .dup_filter
        .been_here(&format!("include {} {path}", usr_attr.uid))
    {
        return 0;
    }
    state.msg_attr.exp_from = Some(state.msg_attr.local.clone());
    if !path.starts_with('/') {
        return config_error(
            local,
            state,
            format!(":include:{path} uses a relative path"),
        );
    }
    let (uid, gid) = (usr_attr.uid, usr_attr.gid);
    let meta = match as_user(uid, gid, || std::fs::metadata(path)) {
        Ok(meta) => meta,
        Err(e) => {
            let warning = format!(
                "unable to lookup :include: file {path}: {}",
                sys::os_error(&e)
            );
            return config_error(local, state, warning);
        }
    };
    if !meta.is_file() {
        return config_error(
            local,
            state,
            format!(":include: file {path} is not a regular file"),
        );
    }
    if meta.permissions().mode() & 0o002 != 0 {
        return config_error(
            local,
            state,
            format!(":include: file {path} is world writable"),
        );
    }
    state.msg_attr.exp_type = exp_type::INCL;
    // With default rights, the file owner's rights apply to what the file lists.
    if usr_attr.uid == 0 {
        match getpwuid(meta.uid()) {
            Ok(Some(pw)) => {
                if pw.uid != 0 {
                    usr_attr = UserAttr::of(&pw);
                }
            }
            failed => {
                match failed {
                    Err(e) => log::msg_warn!(
                        "cannot find username for uid {}: {}",
                        meta.uid(),
                        sys::os_error(&e)
                    ),
                    _ => log::msg_warn!("cannot find username for uid {}", meta.uid()),
                }
                log::msg_warn!("{path}: cannot find :include: file owner username");
                state.simple("4.3.5", "mail system configuration error".into());
                return local.defer_append(&state);
            }
        }
    }
    if state.msg_attr.owner.is_none() {
        state.msg_attr.owner = Some(state.msg_attr.rcpt.address.clone());
    }
    let (uid, gid) = (usr_attr.uid, usr_attr.gid);
    match as_user(uid, gid, || std::fs::File::open(path)) {
        Err(e) => {
            let warning = format!("cannot open include file {path}: {}", sys::os_error(&e));
            config_error(local, state, warning)
        }
        Ok(file) => {
            if local.settings.ext_prop_mask & ext_prop::INCLUDE == 0 {
                state.msg_attr.unmatched = None;
            }
            deliver_token_stream(local, state, usr_attr, file, path, None)
        }
    }
}

/// Runs `f` with the effective ids of `uid`/`gid` (root's when both are 0: default
/// rights), as Postfix's `stat_as` and `open_as` do.
pub fn as_user<T>(
    uid: u32,
    gid: u32,
    f: impl FnOnce() -> std::io::Result<T>,
) -> std::io::Result<T> {
    let saved = (sys::geteuid(), sys::getegid());
    if sys::getuid() != 0 {
        return f();
    }
    if let Err(e) = sys::user::set_eugid(uid, gid) {
        log::msg_fatal!("{e}");
    }
    let result = f();
    if let Err(e) = sys::user::set_eugid(saved.0, saved.1) {
        log::msg_fatal!("{e}");
    }
    result
}
