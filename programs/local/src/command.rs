//! Delivery to a |command listed in an alias, :include: or .forward file, or named by
//! mailbox_command.
//!
//! Postfix counterpart: `local/command.c` (`deliver_command`). The command runs with the
//! rights of whoever listed it (default_privs for root-owned aliases), with
//! command_time_limit, in command_execution_directory (or nowhere in particular), with
//! the environment Postfix gives it: HOME, LOGNAME, USER, SENDER, RECIPIENT, LOCAL,
//! SHELL, DOMAIN, EXTENSION, ORIGINAL_RECIPIENT, ENVID and the client and SASL
//! attributes, each value passed through command_expansion_filter.

use crate::Local;
use crate::settings::deliver_hdr;
use crate::state::{State, UserAttr};
use global::mail_copy::{self, CopyArgs};
use global::pipe_command::{self, Args, Program, Status, Why};

/// Runs `command` with the message (`deliver_command`).
pub fn deliver_command(
    local: &mut Local,
    mut state: State,
    mut usr_attr: UserAttr,
    command: &str,
) -> i32 {
    state.level += 1;
    state.log("deliver_command");
    if local.dup_filter.been_here(&format!(
        "command {}:{} {command}",
        state.msg_attr.user, usr_attr.uid
    )) {
        return 0;
    }
    if global::deliver_request::trace_only(local.request.flags) {
        state.simple("2.0.0", format!("delivers to command: {command}"));
        return local.sent(&state);
    }
    let settings = local.settings;
    if usr_attr.uid == 0 {
        usr_attr.uid = settings.default_ids.0;
    }
    if usr_attr.gid == 0 {
        usr_attr.gid = settings.default_ids.1;
    }
    if usr_attr.uid == 0 {
        log::msg_panic!("privileged default user id");
    }
    if usr_attr.gid == 0 {
        log::msg_panic!("privileged default group id");
    }
    let mut copy_flags = mail_copy::MAIL_COPY_FROM
        | mail_copy::MAIL_COPY_RETURN_PATH
        | mail_copy::MAIL_COPY_ORIG_RCPT;
    if settings.deliver_hdr_mask & deliver_hdr::CMD != 0 {
        copy_flags |= mail_copy::MAIL_COPY_DELIVERED;
    }
    let env = environment(local, &state, &usr_attr);
    let status = match crate::expand::local_expand(
        &settings.exec_directory,
        &state,
        &usr_attr,
        Some(&settings.exec_exp_filter),
        &settings.rcpt_delim,
    ) {
        Err(_) => {
            log::msg_warn!(
                "bad parameter value syntax for command_execution_directory: {}",
                settings.exec_directory
            );
            Status::Defer(Why::new(
                "4.3.5",
                "",
                "mail system configuration error".into(),
            ))
        }
        Ok(exec_dir) => {
            let a = &state.msg_attr;
            let copy = CopyArgs {
                sender: &a.sender,
                orig_rcpt: &a.rcpt.orig_addr,
                delivered: a.delivered.as_deref().unwrap_or(&a.rcpt.address),
                flags: copy_flags,
                eol: "\n",
                enable_orcpt: settings.enable_orcpt,
                owner: settings.owner,
            };
            let cwd = (!exec_dir.text.is_empty()).then(|| std::path::PathBuf::from(&exec_dir.text));
            let args = Args {
                program: Program::Line(command),
                uid: usr_attr.uid,
                gid: usr_attr.gid,
                time_limit: settings.command_time_limit,
                env,
                export: Some(settings.export.clone()),
                shell: Some(settings.command_shell.as_str()).filter(|s| !s.is_empty()),
                cwd: cwd.as_deref(),
                chroot: None,
            };
            let request = local.request;
            let offset = request.data_offset as u64;
            let copy = pipe_command::from_queue(&copy, request.file(), &request.path, offset);
            pipe_command::pipe_command(&args, copy)
        }
    };
    match status {
        Status::Ok(_) => {
            state.simple("2.0.0", format!("delivered to command: {command}"));
            local.sent(&state)
        }
        Status::Defer(why) | Status::Bounce(why) => {
            state.msg_attr.why = global::dsn_print::Dsn::from(&why);
            local.bounce_workaround(state)
        }
        Status::Corrupt => -1,
    }
}

/// The command's environment, each value filtered.
fn environment(local: &Local, state: &State, usr_attr: &UserAttr) -> Vec<(String, String)> {
    let a = &state.msg_attr;
    let r = local.request;
    let mut env: Vec<(&str, String)> = Vec::new();
    if let Some(home) = &usr_attr.home {
        env.push(("HOME", home.clone()));
    }
    env.push(("LOGNAME", a.user.clone()));
    env.push(("USER", a.user.clone()));
    env.push(("SENDER", a.sender.clone()));
    env.push(("RECIPIENT", a.rcpt.address.clone()));
    env.push(("LOCAL", a.local.clone()));
    if let Some(shell) = &usr_attr.shell {
        env.push(("SHELL", shell.clone()));
    }
    if let Some(domain) = &a.domain {
        env.push(("DOMAIN", domain.clone()));
    }
    if let Some(extension) = &a.extension {
        env.push(("EXTENSION", extension.clone()));
    }
    if !a.rcpt.orig_addr.is_empty() {
        env.push(("ORIGINAL_RECIPIENT", a.rcpt.orig_addr.clone()));
    }
    let optional = [
        ("ENVID", &r.dsn_envid),
        ("CLIENT_HOSTNAME", &r.client_name),
        ("CLIENT_ADDRESS", &r.client_addr),
        ("CLIENT_HELO", &r.client_helo),
        ("CLIENT_PROTOCOL", &r.client_proto),
        ("SASL_METHOD", &r.sasl_method),
        ("SASL_SENDER", &r.sasl_sender),
        ("SASL_USERNAME", &r.sasl_username),
    ];
    for (name, value) in optional {
        if !value.is_empty() {
            env.push((name, value.clone()));
        }
    }
    let filter = &local.settings.cmd_exp_filter;
    env.into_iter()
        .map(|(name, value)| {
            let value = value
                .chars()
                .map(|c| if filter.contains(c) { c } else { '_' })
                .collect();
            (name.to_string(), value)
        })
        .collect()
}
