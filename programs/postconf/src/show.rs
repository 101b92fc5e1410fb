//! Showing main.cf parameters: `postconf`, `postconf name...`, `-n`, `-d`, `-x`, `-h`, `-H`.
//!
//! Postfix counterparts: `postconf_main.c` (`pcf_show_parameters`) and `postconf_other.c`
//! (`-m`, `-l`).

use crate::mode::{self, Mode};
use crate::names::Run;
use std::io::Write;

/// Prints the requested parameters, or all of them in name order.
pub fn parameters(mode: &Mode, run: &Run, names: &[String]) {
    let mut out = std::io::stdout().lock();
    if names.is_empty() {
        for (name, node) in &run.table {
            if mode.class & node.class != 0 {
                print_parameter(&mut out, mode, run, name);
            }
        }
        return;
    }
    for name in names {
        if run.table.contains_key(name.as_str()) {
            print_parameter(&mut out, mode, run, name);
        } else {
            let _ = out.flush();
            log::msg_warn!("{name}: unknown parameter");
        }
    }
}

fn print_parameter(out: &mut impl Write, mode: &Mode, run: &Run, name: &str) {
    let Some(mut value) = run.lookup(mode, name, None) else {
        return;
    };
    if mode.has(mode::EVAL) && !params::table::is_raw(name) && !mode.has(mode::HIDE_VALUE) {
        let _ = out.flush();
        value = run.expand(mode, &value, None);
    }
    let _ = out.write_all(crate::print::name_value(mode, name, &value).as_bytes());
}

/// `postconf -m`: the lookup table types this build supports.
pub fn map_types() {
    for kind in dict::TYPES {
        println!("{kind}");
    }
}

/// `postconf -l`: the mailbox locking methods this system supports.
pub fn lock_types() {
    println!("flock");
    println!("fcntl");
    println!("dotlock");
}
