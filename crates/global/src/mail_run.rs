//! Running another Postfix program in place of this one.
//!
//! Postfix counterpart: `global/mail_run.c` (`mail_run_replace`): sendmail becomes
//! `postqueue -p` for mailq, `postalias` for newaliases, and so on, in the same process.

use std::os::unix::process::CommandExt;
use std::path::Path;

/// Replaces this process with `dir/program args...` (argv[0] is `program`); on failure
/// a fatal error in Postfix's words.
pub fn mail_run_replace(dir: &str, program: &str, args: &[String]) -> ! {
    let path = Path::new(dir).join(program);
    let error = std::process::Command::new(&path)
        .arg0(program)
        .args(args)
        .exec();
    log::msg_fatal!("execv {}: {}", path.display(), sys::os_error(&error))
}
