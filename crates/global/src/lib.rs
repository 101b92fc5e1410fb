//! Mail-aware building blocks that need the configuration.
//!
//! Postfix counterpart: `src/global`. Programs call these after reading main.cf; library
//! code returns `Result` and leaves `fatal` to program mains and the server skeletons.

pub mod addr_context;
pub mod bounce;
pub mod chat_notify;
pub mod clean_env;
pub mod cleanup_clnt;
pub mod cleanup_user;
pub mod clnt_stream;
pub mod debug_process;
pub mod defer;
pub mod deliver_completed;
pub mod deliver_flock;
pub mod deliver_request;
pub mod delivered_hdr;
pub mod dot_lockfile;
pub mod dsn_filter;
pub mod dsn_mask;
pub mod dsn_print;
pub mod dsn_util;
pub mod ext_prop;
pub mod file_limit;
pub mod flush_clnt;
pub mod fold_header;
pub mod header_body_checks;
pub mod info_log_addr_form;
pub mod input_transp;
pub mod log_adhoc;
pub mod mail_addr_find;
pub mod mail_addr_map;
pub mod mail_command_client;
pub mod mail_conf_checkdir;
pub mod mail_connect;
pub mod mail_copy;
pub mod mail_date;
pub mod mail_dict;
pub mod mail_proto;
pub mod mail_queue;
pub mod mail_run;
pub mod mail_task;
pub mod mail_trigger;
pub mod maildir;
pub mod maillog_client;
pub mod maps;
pub mod match_list;
pub mod mbox_conf;
pub mod mbox_open;
pub mod mkmap;
pub mod msg_stats;
pub mod nexthop_status;
pub mod pipe_command;
pub mod queue_read;
pub mod rcpt_print;
pub mod record;
pub mod resolve_clnt;
pub mod resolve_local;
pub mod rewrite_clnt;
pub mod safe_open;
pub mod sasl_mech_filter;
pub mod scache_clnt;
pub mod sent;
pub mod table_watch;
pub mod trace;
pub mod transcript;
pub mod user_acl;
pub mod verify;
pub mod verify_clnt;
pub mod verify_sender_addr;
pub mod whatif;

/// A fresh empty directory for one test: `ironpost-<what>-<pid>` in the temporary directory.
#[cfg(test)]
pub(crate) fn scratch_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ironpost-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Logs a configuration error as Postfix does (its warnings, then fatal) and exits.
pub fn fatal_config(error: params::ConfigError) -> ! {
    for warning in &error.warnings {
        log::msg_warn!("{warning}");
    }
    log::msg_fatal!("{}", error.message)
}
