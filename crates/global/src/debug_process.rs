//! `-D`: run `debugger_command` at start-up (daemons through the skeleton, the master, sendmail).
//!
//! Postfix counterpart: `global/debug_process.c`. The command is `$name`-expanded
//! (`$process_name`, `$process_id`, `$daemon_directory`, `$config_directory`... and any other
//! parameter), logged as `running: <command>`, and run through `/bin/sh`; the daemon waits
//! for it and then carries on. This happens before the chroot and the privilege drop, so
//! that a debugger can attach as root. DEBUG_README's recipes end the command with
//! `& sleep 5` to give the debugger time to attach.

use params::Config;
use params::decl::debug::DEBUGGER_COMMAND;

/// Runs debugger_command, or dies if there is none.
pub fn run(config: &Config) {
    let command = config
        .str(&DEBUGGER_COMMAND)
        .unwrap_or_else(|e| crate::fatal_config(e));
    if command.is_empty() {
        log::msg_fatal!("no debugger_command variable set up");
    }
    log::msg_info!("running: {command}");
    if let Err(e) = sys::process::system(&command) {
        log::msg_warn!("debugger_command: /bin/sh: {e}");
    }
}
