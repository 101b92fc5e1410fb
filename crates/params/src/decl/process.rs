//! Processes: limits, reuse, timeouts and throttling (the master and the skeletons).
//!
//! Postfix counterpart: global/mail_params.h (process limits), master/master_vars.c.

crate::params! {
    /// Default maximum number of processes the master may run at once for one service. A master.cf
    /// entry can override it in its maxproc column. Specify a positive integer; the default is 100.
    "default_process_limit" DEFAULT_PROCESS_LIMIT: Int = "100", min 1;
    /// Number of client connections or requests a short-lived daemon process serves before it exits
    /// on its own. Specify a positive integer; the default is 100. Long-running processes such as
    /// the queue manager ignore it.
    "max_use" MAX_USE: Int = "100", min 1;
    /// How long a daemon process waits without work before it exits on its own. Specify a positive
    /// time with optional unit suffix s, m, h, d or w (default unit seconds); the default is 100s.
    /// Long-running processes such as the queue manager ignore it.
    "max_idle" MAX_IDLE: Time(b's') = "100s", min 1;
    /// How long the master waits before starting new processes for a service whose processes seem
    /// to fail right after start. Specify a positive time with optional unit suffix s, m, h, d or w
    /// (default unit seconds); the default is 60s.
    "service_throttle_time" SERVICE_THROTTLE_TIME: Time(b's') = "60s", min 1;
    /// Watchdog limit on how long a daemon process may spend on one request before it is killed.
    /// Specify a positive time with optional unit suffix s, m, h, d or w (default unit seconds);
    /// the default is 18000s.
    "daemon_timeout" DAEMON_TIMEOUT: Time(b's') = "18000s", min 1;
    /// Time limit for sending or receiving data over an internal communication channel between
    /// processes, meant to break deadlocks; when exceeded the process stops with a fatal error.
    /// Specify a positive time with optional unit suffix (default unit seconds); the default is
    /// 3600s.
    "ipc_timeout" IPC_TIMEOUT: Time(b's') = "3600s", min 1;
    /// How long a client keeps an unused internal connection, for example to the address rewriting
    /// service, before closing it, so that idle servers can exit. Specify a positive time with
    /// optional unit suffix s, m, h, d or w (default unit seconds); the default is 5s.
    "ipc_idle" IPC_IDLE: Time(b's') = "5s", min 1;
    /// How long a client keeps an active internal connection, for example to the address rewriting
    /// service, before closing it, so that servers can reach their use limit and exit. Specify a
    /// positive time with optional unit suffix (default unit seconds); the default is 1000s. Added
    /// in Postfix 2.1.
    "ipc_ttl" IPC_TTL: Time(b's') = "1000s", min 1;
    /// How long postkick waits for its request to be taken up by the receiving daemon before giving
    /// up. Specify a positive time with optional unit suffix s, m, h, d or w (default unit
    /// seconds); the default is 100s. Added in Postfix 2.1.
    "application_event_drain_time" APPLICATION_EVENT_DRAIN_TIME: Time(b's') = "100s", min 1;
    /// How many times a process tries fork() to create a child before giving up. Specify a positive
    /// integer; the default is 5.
    "fork_attempts" FORK_ATTEMPTS: Int = "5", min 1;
    /// Pause between failed fork() attempts. Specify a positive time with optional unit suffix s,
    /// m, h, d or w (default unit seconds); the default is 1s.
    "fork_delay" FORK_DELAY: Time(b's') = "1s", min 1;
    /// Overload indicator that the master sets on the command line of a service whose processes are
    /// all busy: yes under stress, empty otherwise. It is not meant to be set in main.cf; other
    /// settings test it, for example to shorten smtpd_timeout under load. Added in Postfix 2.5.
    "stress" STRESS: Str = "";
    /// Master listener ports to leave disabled, by service type (inet, unix, fifo, pass) or by
    /// name/type such as smtp/inet. Give a list separated by commas or whitespace; the first match
    /// wins and '!pattern' excludes. Files, tables and wildcards are not supported; empty enables
    /// everything. Added in Postfix 2.6.
    "master_service_disable" MASTER_SERVICE_DISABLE: Str = "";
}
