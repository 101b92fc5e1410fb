//! The triage rule base: failure signatures as data.
//!
//! Postfix counterpart: none; the messages matched are Postfix 3.7's (msg_warn, msg_fatal
//! and the delivery status texts of src/global, src/master, src/smtpd, src/smtp, src/qmgr,
//! src/cleanup, src/util/dict_*.c) which ironpost's daemons write byte for byte. Each rule
//! names its failure in one line, says what to do in the Howto's style (the exact command
//! or configuration edit), and lists the rules whose lines it explains, so that
//! consequences are shown under their cause instead of beside it. Lines starting with
//! `posttriage check:` come from checks of the configuration, queue and file system,
//! which see what the log cannot; they go through the same rules.
//!
//! The first rule of the table whose pattern matches a line wins, so specific
//! signatures come before the generic ones at the end.

/// How much a failure weighs when choosing the root cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// The mail system or a service cannot run.
    Stops = 1,
    /// Mail is refused, deferred or bounced because of this system's setup.
    Fails = 2,
    /// A consequence, or trouble on the other side (a remote site, a client).
    Follows = 3,
}

/// One failure signature.
#[derive(Debug)]
pub struct Rule {
    /// A short stable name (used in JSON and docs/TRIAGE.md).
    pub id: &'static str,
    /// The family (configuration, permissions, chroot, tables, ...).
    pub category: &'static str,
    /// Its weight.
    pub rank: Rank,
    /// Patterns of the message text (see [`crate::pattern`]); any one matches.
    pub patterns: &'static [&'static str],
    /// The cause in one line; `{capture}`s filled in.
    pub cause: &'static str,
    /// What to do; `{capture}`s filled in.
    pub remedy: &'static str,
    /// The ids of rules whose lines are knock-on errors of this one.
    pub explains: &'static [&'static str],
    /// A line this rule matches, as Postfix 3.7 logs it (`program[pid]: text`); the unit
    /// tests check that it names this rule as the root cause.
    pub example: &'static str,
}

/// The rules every delivery failure and daemon exit are grouped under.
const DAEMON_TROUBLE: [&str; 6] = [
    "daemon-exit",
    "crash-report",
    "throttled",
    "talking-to-service",
    "deferred-other",
    "transport-unavailable",
];

/// The rule base.
pub static RULES: &[Rule] = &[
    // --- configuration typos ---
    Rule {
        id: "bad-boolean",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["fatal: bad boolean configuration: {name} = {value}"],
        cause: "{name} = {value} is not a boolean, so every program that reads it stops",
        remedy: "postconf -e '{name} = no' (or yes); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/smtpd[101]: fatal: bad boolean configuration: smtpd_use_tls = maybe",
    },
    Rule {
        id: "bad-number",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["fatal: bad numerical configuration: {name} = {value}"],
        cause: "{name} = {value} is not a number, so every program that reads it stops",
        remedy: "postconf -e '{name} = <number>' (postconf -d {name} shows the default); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/smtpd[101]: fatal: bad numerical configuration: smtpd_recipient_limit = many",
    },
    Rule {
        id: "bad-time",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["fatal: invalid {name} parameter value {value}"],
        cause: "{name} has an out-of-range value ({value})",
        remedy: "postconf -e '{name} = <value in range>' (postconf -d {name} shows the default); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/qmgr[101]: fatal: invalid qmgr_message_active_limit parameter value 0 < 1",
    },
    Rule {
        id: "size-limits",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["fatal: configuration error: {small} is smaller than {large}"],
        cause: "{small} is smaller than {large}, so the daemons that check both refuse to run",
        remedy: "postconf -e '{small} = <at least {large}>' (or 0 for no limit); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/local[101]: fatal: configuration error: mailbox_size_limit is smaller than message_size_limit",
    },
    Rule {
        id: "unknown-restriction",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["warning: unknown smtpd restriction: \"{name}\""],
        cause: "an smtpd restriction list names \"{name}\", which is not a restriction (a typo?), so smtpd answers 451 4.3.5 Server configuration error",
        remedy: "postconf -n | grep '{name}', fix the spelling in main.cf (postconf -e ...); postfix reload",
        explains: &["server-config-error", "daemon-exit"],
        example: "postfix/smtpd[101]: warning: unknown smtpd restriction: \"permit_mynetwork\"",
    },
    Rule {
        id: "unused-parameter",
        category: "configuration",
        rank: Rank::Fails,
        patterns: &["unused parameter: {name}={value}"],
        cause: "{name} is set but no program uses it: a misspelt parameter name, so its setting has no effect",
        remedy: "fix the name in main.cf/master.cf (postconf -n shows the line), or postconf -X {name}; postfix reload",
        explains: &[],
        example: "postfix/postconf[101]: warning: /etc/postfix/main.cf: unused parameter: smtpd_recipient_restriction=permit",
    },
    Rule {
        id: "not-implemented",
        category: "configuration",
        rank: Rank::Fails,
        // A check only: ironpost takes Postfix 3.7's whole parameter namespace without a
        // warning, so that a stock main.cf stays quiet, and logs nothing about these.
        patterns: &[
            "posttriage check: {place}: {name} = {value}: set but not implemented by ironpost: it has no effect",
        ],
        cause: "{name} = {value} ({place}) is set but not implemented by ironpost: it has no effect",
        remedy: "remove it, or keep it only for a Postfix fallback (postconf -X {name}, or drop the -o from master.cf); postfix reload",
        explains: &[],
        example: "posttriage[0]: posttriage check: main.cf:40: smtp_pix_workarounds = disable_esmtp: set but not implemented by ironpost: it has no effect",
    },
    Rule {
        id: "overriding-entry",
        category: "configuration",
        rank: Rank::Follows,
        patterns: &["{file}, line {line}: overriding earlier entry: {name}={value}"],
        cause: "{name} is set twice in {file}; the later setting (line {line}) wins",
        remedy: "remove one of the {name} lines from {file} (postconf -n shows the effective one); postfix reload",
        explains: &[],
        example: "postfix/postconf[101]: warning: /etc/postfix/main.cf, line 40: overriding earlier entry: mynetworks=127.0.0.0/8",
    },
    Rule {
        id: "master-cf-field",
        category: "configuration",
        rank: Rank::Stops,
        // postconf's words, on the terminal only; posttriage's check of master.cf names
        // the file and line too. Before master-cf-syntax, whose check pattern is wider.
        patterns: &[
            "fatal: invalid {field} field \"{value}\" in \"{entry}\"",
            "posttriage check: file {file}: line {line}: invalid {field} field \"{value}\" in \"{entry}\"",
        ],
        cause: "the master.cf entry \"{entry}\" has an invalid {field} field \"{value}\", so the mail system cannot start or reload",
        remedy: "fix that entry in master.cf (postconf -M shows what parses); postfix start (or postfix reload)",
        explains: &["postconf-fails"],
        example: "postfix/postfix-script[101]: fatal: invalid type field \"unux\" in \"proxymap unux - - n - - proxymap\"",
    },
    Rule {
        id: "master-cf-syntax",
        category: "configuration",
        rank: Rank::Stops,
        // The master's words; postconf's (a bad field count), which only posttriage's
        // check of master.cf brings to light.
        patterns: &[
            "fatal: {file}master.cf: line {line}: {problem}",
            "posttriage check: file {file}master.cf: line {line}: {problem}",
        ],
        cause: "master.cf line {line} is malformed ({problem}), so the master cannot start or reload",
        remedy: "fix line {line} of {file}master.cf (postconf -M shows what parses); postfix reload",
        explains: &[],
        example: "postfix/master[101]: fatal: /etc/postfix/master.cf: line 12: bad transport type: unux",
    },
    Rule {
        id: "postconf-fails",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["fatal: cannot execute {path}postconf!"],
        cause: "postfix start/reload stopped because postconf fails: main.cf or master.cf has an error (postconf printed it on the terminal, not in the log)",
        remedy: "postconf -n >/dev/null; postconf -M >/dev/null (each names the bad line); fix it; postfix start (or postfix reload)",
        explains: &[],
        example: "postfix/postfix-script[101]: fatal: cannot execute /usr/sbin/postconf!",
    },
    Rule {
        id: "no-local-interface",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &[
            "fatal: parameter {name}: no local interface found for {addr}",
            "posttriage check: parameter {name}: no local interface found for {addr}",
        ],
        cause: "{name} names {addr}, which is not an address of this host",
        remedy: "postconf -e '{name} = <an address shown by ip addr>' (or all); postfix stop; postfix start",
        explains: &DAEMON_TROUBLE,
        example: "postfix/master[101]: fatal: parameter inet_interfaces: no local interface found for 192.0.2.1",
    },
    Rule {
        id: "port-in-use",
        category: "configuration",
        rank: Rank::Stops,
        patterns: &["fatal: bind {addr} port {port}: Address already in use"],
        cause: "port {port} on {addr} is taken by another program (another MTA?), so the master cannot listen",
        remedy: "ss -ltnp 'sport = :{port}' to find it; stop it (or change the master.cf service address); postfix start",
        explains: &[],
        example: "postfix/master[101]: fatal: bind 127.0.0.1 port 25: Address already in use",
    },
    Rule {
        id: "already-running",
        category: "configuration",
        rank: Rank::Follows,
        patterns: &[
            "fatal: open lock file {file}: unable to set exclusive lock{rest}",
            "fatal: the Postfix mail system is already running",
        ],
        cause: "a master is already running for this configuration; the second start was refused",
        remedy: "postfix status; to apply a change use postfix reload instead of start",
        explains: &[],
        example: "postfix/master[101]: fatal: open lock file pid/master.pid: unable to set exclusive lock: Resource temporarily unavailable",
    },
    Rule {
        id: "unknown-service",
        category: "chroot",
        rank: Rank::Stops,
        patterns: &[
            "fatal: unknown service: {service}/{protocol}",
            "fatal: {host}:{service}: Servname not supported for ai_socktype",
        ],
        cause: "the port name {service} is not a service in /etc/services as the daemon sees it: a misspelt port in master.cf or a nexthop, or a chrooted daemon without the jail's etc/services",
        remedy: "getent services {service}; fix the port name (master.cf service, relayhost or transport nexthop), or for a chrooted daemon postfix prepare-chroot; postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/smtp[101]: fatal: unknown service: smtp/tcp",
    },
    Rule {
        id: "chroot-files-missing",
        category: "chroot",
        rank: Rank::Stops,
        patterns: &[
            "posttriage check: service {service} runs chrooted in {jail} but {files} is missing there",
        ],
        cause: "service {service} runs chrooted but {files} is missing in {jail}: its lookups of names, services or time fail",
        remedy: "postfix prepare-chroot (or set the chroot column of {service} to n in master.cf); postfix reload",
        explains: &[
            "dns-temporary",
            "unknown-service",
            "daemon-exit",
            "deferred-other",
        ],
        example: "posttriage[0]: posttriage check: service smtp/unix runs chrooted in /var/spool/postfix but etc/resolv.conf is missing there",
    },
    Rule {
        id: "chroot-failed",
        category: "chroot",
        rank: Rank::Stops,
        patterns: &["fatal: chroot({dir}): {error}"],
        cause: "a daemon cannot chroot to {dir} ({error})",
        remedy: "check queue_directory (postconf queue_directory) and that the master runs as root with CAP_SYS_CHROOT (a container needs it: docker run --cap-add SYS_CHROOT), or set the service's chroot column to n (postconf -F '<service>/<type>/chroot = n'); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/smtpd[101]: fatal: chroot(/var/spool/postfix): Operation not permitted",
    },
    // --- permissions and ownership ---
    Rule {
        id: "queue-ownership",
        category: "permissions",
        rank: Rank::Stops,
        patterns: &["posttriage check: not owned by {owner}: {path}"],
        cause: "{path} is not owned by {owner}: daemons running as {owner} cannot read or replace it",
        remedy: "postfix set-permissions (or chown {owner} {path}); postqueue -f",
        explains: &["permission-denied", "daemon-exit", "deferred-other"],
        example: "posttriage[0]: posttriage check: not owned by postfix: /var/spool/postfix/deferred/A/ABCDEF123",
    },
    Rule {
        id: "maildrop-permission",
        category: "permissions",
        rank: Rank::Stops,
        patterns: &["mail_queue_enter: create file maildrop/{file}: Permission denied"],
        cause: "postdrop cannot write the maildrop queue: it lacks its set-gid postdrop bit or maildrop has the wrong group",
        remedy: "postfix set-permissions (postdrop 2755 root:postdrop, maildrop 1730 postfix:postdrop)",
        explains: &[],
        example: "postfix/postdrop[101]: warning: mail_queue_enter: create file maildrop/12345.678: Permission denied",
    },
    Rule {
        id: "permission-denied",
        category: "permissions",
        rank: Rank::Stops,
        patterns: &[
            "fatal: open {path}: Permission denied",
            "warning: open {path}: Permission denied",
            "fatal: {what} {path}: Permission denied",
        ],
        cause: "{path} cannot be opened: Permission denied",
        remedy: "ls -l {path}; give it to the account that needs it (postfix set-permissions for Postfix's own files); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/smtpd[101]: fatal: open /etc/postfix/sasl_passwd.db: Permission denied",
    },
    Rule {
        id: "not-running",
        category: "permissions",
        rank: Rank::Stops,
        patterns: &[
            "warning: unable to look up public/pickup: {error}",
            "posttriage check: the mail system is not running and {count} message files wait in {dir}",
        ],
        cause: "the mail system is not running (public/pickup missing): submitted mail waits in maildrop",
        remedy: "postfix start",
        explains: &[],
        example: "postfix/postdrop[101]: warning: unable to look up public/pickup: No such file or directory",
    },
    // --- tables ---
    Rule {
        id: "stale-table",
        category: "tables",
        rank: Rank::Fails,
        patterns: &["database {db} is older than source file {source}"],
        cause: "{db} is older than {source}: the last edits of {source} are not in effect",
        remedy: "postmap {source} (newaliases for alias tables); postfix reload",
        explains: &[],
        example: "postfix/trivial-rewrite[101]: warning: database /etc/postfix/transport.db is older than source file /etc/postfix/transport",
    },
    Rule {
        id: "aliases-missing",
        category: "tables",
        rank: Rank::Stops,
        patterns: &["{type}:{dir}aliases is unavailable"],
        cause: "the alias database ({type}:{dir}aliases) is missing or unreadable, so local delivery defers",
        remedy: "newaliases; postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/local[101]: warning: hash:/etc/aliases is unavailable. open database /etc/aliases.db: No such file or directory",
    },
    Rule {
        id: "missing-table",
        category: "tables",
        rank: Rank::Stops,
        patterns: &[
            "open database {db}: No such file or directory",
            "{type}:{table} is unavailable. open database {db}: No such file or directory",
        ],
        cause: "the table {db} does not exist: it was never built with postmap",
        remedy: "postmap <its source> (for {db}: the file without the suffix; newaliases for aliases); postfix reload",
        explains: &[
            "table-unavailable",
            "table-lookup-error",
            "server-config-error",
            "daemon-exit",
            "throttled",
            "deferred-other",
        ],
        example: "postfix/trivial-rewrite[101]: error: open database /etc/postfix/transport.db: No such file or directory",
    },
    Rule {
        id: "unsupported-table-type",
        category: "tables",
        rank: Rank::Stops,
        patterns: &["unsupported dictionary type: {type}"],
        cause: "the table type {type} is not available (not built in, or its plug-in package is not installed)",
        remedy: "install the map plug-in (Debian: apt install postfix-{type}) or use a type postconf -m lists; postfix reload",
        explains: &[
            "table-unavailable",
            "table-lookup-error",
            "server-config-error",
            "daemon-exit",
            "throttled",
            "deferred-other",
        ],
        example: "postfix/cleanup[101]: error: unsupported dictionary type: pcre",
    },
    Rule {
        id: "proxy-unapproved",
        category: "tables",
        rank: Rank::Stops,
        patterns: &[
            "warning: request for unapproved table: \"{table}\"",
            "service is not configured for table \"{table}\"",
        ],
        cause: "the table {table} is used through proxy: but proxy_read_maps does not list it, so proxymap refuses it and the daemon that asked stops",
        remedy: "postconf -e 'proxy_read_maps = $proxy_read_maps proxy:{table}'; postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/proxymap[101]: warning: request for unapproved table: \"hash:/etc/postfix/transport\"",
    },
    Rule {
        id: "table-syntax",
        category: "tables",
        rank: Rank::Fails,
        patterns: &["{file}, line {line}: expected format: key whitespace value"],
        cause: "line {line} of {file} is not `key value`: that entry is ignored",
        remedy: "fix line {line} of {file}; postmap {file} (for indexed tables); postfix reload",
        explains: &[],
        example: "postfix/trivial-rewrite[101]: warning: /etc/postfix/transport, line 3: expected format: key whitespace value",
    },
    Rule {
        id: "table-unavailable",
        category: "tables",
        rank: Rank::Fails,
        patterns: &["warning: {type}:{table} is unavailable. {why}"],
        cause: "the table {type}:{table} cannot be used ({why}), so lookups in it fail and mail waits",
        remedy: "fix {table} (postmap -q test {type}:{table} shows the error); postfix reload; postqueue -f",
        explains: &[
            "table-lookup-error",
            "server-config-error",
            "deferred-other",
        ],
        example: "postfix/cleanup[101]: warning: ldap:/etc/postfix/ldap.cf is unavailable. open /etc/postfix/ldap.cf: No such file or directory",
    },
    Rule {
        id: "table-lookup-error",
        category: "tables",
        rank: Rank::Follows,
        patterns: &["warning: {type}:{table} lookup error for \"{key}\""],
        cause: "looking up \"{key}\" in {type}:{table} failed, so mail that needs it is deferred",
        remedy: "postmap -q '{key}' {type}:{table} to see the error; fix the table or its server; postqueue -f",
        explains: &["deferred-other", "server-config-error"],
        example: "postfix/trivial-rewrite[101]: warning: hash:/etc/postfix/transport lookup error for \"example.com\"",
    },
    // --- transports ---
    Rule {
        id: "transport-not-in-master-cf",
        category: "transports",
        rank: Rank::Stops,
        patterns: &["posttriage check: transport {transport} in {map} is not a master.cf service"],
        cause: "{map} routes mail to transport {transport}, which master.cf does not define: that mail waits for ever",
        remedy: "add a \"{transport} unix - - n - - smtp\" (or the right command) line to master.cf, or fix {map} and postmap it; postfix reload; postqueue -f",
        explains: &["transport-connect", "transport-unavailable"],
        example: "posttriage[0]: posttriage check: transport relaay in hash:/etc/postfix/transport is not a master.cf service",
    },
    Rule {
        id: "transport-connect",
        category: "transports",
        rank: Rank::Stops,
        patterns: &["warning: connect to transport {class}/{transport}: {error}"],
        cause: "qmgr cannot reach the delivery transport {transport} ({error}): it is not in master.cf, or it keeps crashing",
        remedy: "postconf -M {transport}/unix; add or fix that master.cf entry (or the transport table naming it); postfix reload; postqueue -f",
        explains: &["transport-unavailable", "deferred-other"],
        example: "postfix/qmgr[101]: warning: connect to transport private/relaay: No such file or directory",
    },
    Rule {
        id: "transport-unavailable",
        category: "transports",
        rank: Rank::Follows,
        patterns: &["status=deferred (mail transport unavailable)"],
        cause: "delivery deferred: the transport is unavailable",
        remedy: "see the transport warnings above; then postqueue -f",
        explains: &[],
        example: "postfix/qmgr[101]: 3F2A1C0: to=<u@example.com>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.3.0, status=deferred (mail transport unavailable)",
    },
    // --- DNS and relays ---
    Rule {
        id: "loops-back",
        category: "loops",
        rank: Rank::Fails,
        patterns: &["mail for {domain} loops back to myself"],
        cause: "mail for {domain} is sent to this host, which is not configured to receive it",
        remedy: "postconf -e 'mydestination = $myhostname, localhost, {domain}' (or list it in virtual_mailbox_domains/relay_domains, or fix its MX or relayhost); postfix reload; postqueue -f",
        explains: &[],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=local, delay=0.1, delays=0.1/0/0/0, dsn=5.4.6, status=bounced (mail for example.com loops back to myself)",
    },
    Rule {
        id: "forwarding-loop",
        category: "loops",
        rank: Rank::Fails,
        patterns: &["status=bounced (mail forwarding loop for {address})"],
        cause: "mail for {address} was forwarded back to itself (a Delivered-To loop in aliases or .forward)",
        remedy: "postmap -q {address} on the alias/virtual tables and check ~/.forward; remove the cycle; newaliases",
        explains: &[],
        example: "postfix/local[101]: 3F2A1C0: to=<u@example.com>, relay=local, delay=0.1, delays=0.1/0/0/0, dsn=5.4.6, status=bounced (mail forwarding loop for u@example.com)",
    },
    Rule {
        id: "hopcount",
        category: "loops",
        rank: Rank::Fails,
        patterns: &["message rejected: hopcount exceeded"],
        cause: "a message passed hopcount_limit Received: headers: mail is looping between hosts",
        remedy: "find the loop in the Received: headers (postcat -q of a copy); fix relayhost/transport or the MX of the domain",
        explains: &[],
        example: "postfix/cleanup[101]: 3F2A1C0: message rejected: hopcount exceeded",
    },
    Rule {
        id: "dns-temporary",
        category: "dns",
        rank: Rank::Fails,
        patterns: &[
            "Host or domain name not found. Name service error for name={name} type={type}: Host not found, try again",
        ],
        cause: "DNS lookups of {name} fail temporarily: the resolver (or the chroot's etc/resolv.conf) is not working",
        remedy: "dig {type} {name}; fix /etc/resolv.conf (then postfix prepare-chroot for chrooted daemons); postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=example.com type=MX: Host not found, try again)",
    },
    Rule {
        id: "dns-no-domain",
        category: "dns",
        rank: Rank::Follows,
        patterns: &[
            "Host or domain name not found. Name service error for name={name} type={type}: Host not found)",
        ],
        cause: "the domain {name} does not exist in DNS: mail to it bounces",
        remedy: "check the address's spelling (dig {type} {name}); nothing to change here if it is the sender's mistake",
        explains: &[],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@exmaple.com>, relay=none, delay=0.1, delays=0.1/0/0/0, dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name=exmaple.com type=A: Host not found)",
    },
    Rule {
        id: "relay-refused",
        category: "relay",
        rank: Rank::Fails,
        patterns: &["connect to {host}[{addr}]:{port}: Connection refused"],
        cause: "the next hop {host}[{addr}]:{port} refuses connections: it is down or not listening there",
        remedy: "check relayhost/transport_maps (postconf relayhost; postmap -q on transport_maps); nc -v {addr} {port}; once it listens: postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/smtp[101]: connect to 127.0.0.1[127.0.0.1]:2525: Connection refused",
    },
    Rule {
        id: "relay-timeout",
        category: "relay",
        rank: Rank::Fails,
        patterns: &["connect to {host}[{addr}]:{port}: Connection timed out"],
        cause: "connections to {host}[{addr}]:{port} time out: a firewall or the provider blocks outgoing port {port}",
        remedy: "nc -v -w 10 {addr} {port}; if blocked, relay through the provider: postconf -e 'relayhost = [smtp.provider]:587'; postfix reload; postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/smtp[101]: connect to mx.example.com[192.0.2.1]:25: Connection timed out",
    },
    Rule {
        id: "relay-access-denied",
        category: "relay",
        rank: Rank::Fails,
        patterns: &["reject: RCPT from {client}: {code} <{rcpt}>: Relay access denied"],
        cause: "{client} may not relay to {rcpt}: it is not in mynetworks and did not authenticate",
        remedy: "if {client} is yours: postconf -e 'mynetworks = ... <its network>'; postfix reload (or have it use SASL on port 587)",
        explains: &[],
        example: "postfix/smtpd[101]: NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 <u@example.com>: Relay access denied; from=<a@b.example> to=<u@example.com> proto=ESMTP helo=<x>",
    },
    Rule {
        id: "remote-refused",
        category: "relay",
        rank: Rank::Follows,
        patterns: &["status=bounced (host {host} said: {reply})"],
        cause: "{host} refused the mail: {reply}",
        remedy: "read the remote reply; if it blames this host (blocklist, SPF, rDNS), fix that (postconf myhostname, smtp_helo_name); otherwise tell the sender",
        explains: &[],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.7.1 blocked (in reply to RCPT TO command))",
    },
    Rule {
        id: "remote-deferred",
        category: "relay",
        rank: Rank::Follows,
        patterns: &["status=deferred (host {host} said: {reply})"],
        cause: "{host} deferred the mail: {reply}",
        remedy: "read the remote reply; retries happen by themselves; if it blames this host (greylisting, rate limits, blocklists) fix that, then postqueue -f",
        explains: &[],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.7.1, status=deferred (host mx.example.com[192.0.2.1] said: 450 4.7.1 greylisted (in reply to RCPT TO command))",
    },
    Rule {
        id: "lost-connection",
        category: "relay",
        rank: Rank::Follows,
        patterns: &["lost connection with {host} while {stage})"],
        cause: "{host} dropped the connection while {stage}",
        remedy: "retry happens by itself; if it persists, check MTU/firewall on the path or the remote site (postqueue -f after a fix)",
        explains: &[],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.4.2, status=deferred (lost connection with mx.example.com[192.0.2.1] while sending end of data -- message may be sent more than once)",
    },
    // --- TLS ---
    Rule {
        id: "tlsmgr-missing",
        category: "tls",
        rank: Rank::Fails,
        patterns: &[
            "warning: connect to private/tlsmgr: {error}",
            "warning: problem talking to server private/tlsmgr: {error}",
            "warning: no entropy for TLS key generation: disabling TLS support",
        ],
        cause: "the TLS daemons cannot reach tlsmgr (master.cf has no tlsmgr service): Postfix's turn TLS off, ironpost's keep it without session resumption",
        remedy: "add \"tlsmgr unix - - n 1000? 1 tlsmgr\" to master.cf (postconf -M tlsmgr/unix shows it is missing); postfix reload",
        explains: &[
            "tls-no-certs",
            "tls-library",
            "starttls-first",
            "tls-required",
        ],
        example: "postfix/smtpd[101]: warning: connect to private/tlsmgr: No such file or directory",
    },
    Rule {
        id: "tls-cert-unreadable",
        category: "tls",
        rank: Rank::Fails,
        patterns: &[
            "warning: cannot get {kind} certificate from file \"{file}\": disabling TLS support",
            "warning: cannot get {kind} private key from file \"{file}\": disabling TLS support",
        ],
        cause: "the TLS {kind} certificate or key {file} cannot be loaded, so STARTTLS is off",
        remedy: "openssl x509 -noout -in {file} (and check smtpd_tls_cert_file/smtpd_tls_key_file and their permissions); postfix reload",
        explains: &[
            "tls-no-certs",
            "tls-required",
            "starttls-first",
            "tls-library",
        ],
        example: "postfix/smtpd[101]: warning: cannot get RSA certificate from file \"/etc/ssl/certs/mail.pem\": disabling TLS support",
    },
    Rule {
        id: "tls-chain-unreadable",
        category: "tls",
        rank: Rank::Fails,
        // A chain file (smtpd_tls_chain_files, or smtpd_tls_cert_file and
        // smtpd_tls_key_file naming one file) is read by tls_certkey.c's PEM loader: its
        // warnings, then one that names the file list and turns TLS off. The warnings
        // about the same file join that one's finding.
        patterns: &[
            "warning: error loading private keys and certificates from: {file}: disabling TLS support",
            "warning: error opening chain file: {file}: {error}",
            "warning: No private key found in {file}",
            "warning: No PEM data in {file}",
        ],
        cause: "the TLS key and certificate chain file {file} cannot be loaded, so STARTTLS is off",
        remedy: "postconf smtpd_tls_chain_files smtpd_tls_cert_file smtpd_tls_key_file (smtp_tls_* when the SMTP client logs it); make {file} readable, each private key followed by its certificate chain (openssl pkey -noout -in {file}; openssl x509 -noout -in {file}); postfix reload",
        explains: &[
            "tls-no-certs",
            "tls-required",
            "starttls-first",
            "tls-library",
        ],
        example: "postfix/smtpd[101]: warning: error loading private keys and certificates from: /etc/ssl/private/mail.pem: disabling TLS support",
    },
    Rule {
        id: "tls-no-certs",
        category: "tls",
        rank: Rank::Fails,
        patterns: &["No server certs available. TLS {rest}"],
        cause: "smtpd has no usable certificate and key, so it offers no STARTTLS",
        remedy: "postconf smtpd_tls_chain_files smtpd_tls_cert_file smtpd_tls_key_file; point them at a readable certificate and key (openssl x509 -noout -in <file>); postfix reload",
        explains: &["tls-library", "starttls-first"],
        example: "postfix/smtpd[101]: warning: No server certs available. TLS won't be enabled",
    },
    Rule {
        id: "tls-required",
        category: "tls",
        rank: Rank::Fails,
        patterns: &["TLS is required, but {why}"],
        cause: "TLS is required for the next hop, but {why}",
        remedy: "lower the level for that destination (smtp_tls_policy_maps: <domain> may) or fix the remote's TLS; postmap the policy table; postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1, delays=0/0/0.5/0, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.example.com[192.0.2.1])",
    },
    Rule {
        id: "starttls-first",
        category: "tls",
        rank: Rank::Follows,
        // smtpd logs this reply only in a transcript: debug_peer_list's (as Postfix 3.7).
        patterns: &["530 5.7.0 Must issue a STARTTLS command first"],
        cause: "clients that do not use STARTTLS are refused (smtpd_tls_security_level = encrypt)",
        remedy: "postconf -e 'smtpd_tls_security_level = may' for port 25 (keep encrypt on submission in master.cf); postfix reload",
        explains: &[],
        example: "postfix/smtpd[101]: > localhost[127.0.0.1]: 530 5.7.0 Must issue a STARTTLS command first",
    },
    Rule {
        id: "tls-library",
        category: "tls",
        rank: Rank::Follows,
        patterns: &["warning: TLS library problem: {detail}"],
        cause: "a TLS handshake failed: {detail}",
        remedy: "posttls-finger (or openssl s_client -starttls smtp) against the peer; check protocols and ciphers (smtpd_tls_protocols, smtp_tls_protocols)",
        explains: &[],
        example: "postfix/smtpd[101]: warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:../ssl/statem/statem_srvr.c:1657:",
    },
    // --- SASL ---
    Rule {
        id: "sasl-socket",
        category: "sasl",
        rank: Rank::Fails,
        patterns: &[
            "warning: SASL: Connect to Dovecot auth socket '{socket}' failed: {error}",
            "warning: SASL: Connect to {socket} failed: {error}",
        ],
        cause: "smtpd cannot reach the SASL server at {socket} ({error}): AUTH is unavailable",
        remedy: "start the SASL server (Dovecot: a unix_listener in its service auth section) so {socket} exists under queue_directory, or fix smtpd_sasl_path; postfix reload",
        explains: &[
            "sasl-no-mechanisms",
            "sasl-failed",
            "daemon-exit",
            "throttled",
        ],
        example: "postfix/smtpd[101]: warning: SASL: Connect to Dovecot auth socket 'private/auth' failed: No such file or directory",
    },
    Rule {
        id: "sasl-no-mechanisms",
        category: "sasl",
        rank: Rank::Fails,
        patterns: &["no SASL authentication mechanisms"],
        cause: "the SASL server offers no mechanism that smtpd_sasl_security_options allows (noplaintext leaves out PLAIN and LOGIN), so smtpd stops at every connection",
        remedy: "postconf -e 'smtpd_sasl_security_options = noanonymous' (check -o overrides with postconf -M; smtpd_tls_auth_only = yes keeps passwords off plaintext sessions), or enable more mechanisms in the SASL server (Dovecot: auth_mechanisms); postfix reload",
        explains: &["daemon-exit"],
        example: "postfix/smtpd[101]: fatal: no SASL authentication mechanisms",
    },
    Rule {
        id: "sasl-client-failed",
        category: "sasl",
        rank: Rank::Fails,
        patterns: &["SASL authentication failed; {detail}"],
        cause: "this host's SMTP client failed to log in to the relay: {detail}",
        remedy: "check the entry in smtp_sasl_password_maps (postmap -q '[relay]:port' on it), postmap it; postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=smtp.example.com[192.0.2.1]:587, delay=1, delays=0/0/0.5/0, dsn=4.7.8, status=deferred (SASL authentication failed; server smtp.example.com[192.0.2.1] said: 535 5.7.8 Error: authentication failed)",
    },
    Rule {
        id: "sasl-failed",
        category: "sasl",
        rank: Rank::Follows,
        patterns: &["warning: {client}: SASL {mechanism} authentication failed: {detail}"],
        cause: "a client failed SASL {mechanism} authentication ({detail}): a wrong password, or password guessing",
        remedy: "nothing if it is guessing (consider fail2ban); otherwise check the user's credentials in the SASL server",
        explains: &[],
        example: "postfix/smtpd[101]: warning: unknown[192.0.2.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
    },
    // --- size and resource limits ---
    Rule {
        id: "message-too-large",
        category: "limits",
        rank: Rank::Follows,
        patterns: &[
            "552 5.3.4 Message size exceeds fixed limit",
            "message size {size} exceeds size limit {limit} of server {host}",
        ],
        cause: "a message larger than the size limit was refused",
        remedy: "if legitimate mail is that large: postconf -e 'message_size_limit = <bytes>' (and mailbox_size_limit at least as large); postfix reload",
        explains: &[],
        example: "postfix/smtpd[101]: NOQUEUE: reject: MAIL from localhost[127.0.0.1]: 552 5.3.4 Message size exceeds fixed limit; proto=ESMTP helo=<x>",
    },
    Rule {
        id: "insufficient-storage",
        category: "disk",
        rank: Rank::Stops,
        patterns: &[
            "not enough free space in mail queue: {bytes} bytes < {rest}",
            "452 4.3.1 Insufficient system storage",
        ],
        cause: "the queue file system has less free space than 1.5 x message_size_limit, so smtpd refuses mail (452 4.3.1)",
        remedy: "free space under queue_directory (df -h $(postconf -h queue_directory)), or lower message_size_limit: postconf -e 'message_size_limit = <bytes>'; postfix reload",
        explains: &["message-too-large"],
        example: "postfix/smtpd[101]: warning: not enough free space in mail queue: 1048576 bytes < 1.5*message_size_limit",
    },
    Rule {
        id: "disk-full",
        category: "disk",
        rank: Rank::Stops,
        patterns: &["No space left on device"],
        cause: "a file system is full (No space left on device): queue files or mailboxes cannot be written",
        remedy: "df -h; free space (postsuper -d for junk in the queue); postqueue -f",
        explains: &["insufficient-storage", "daemon-exit", "deferred-other"],
        example: "postfix/cleanup[101]: warning: 3F2A1C0: write queue file: No space left on device",
    },
    Rule {
        id: "free-space",
        category: "disk",
        rank: Rank::Stops,
        patterns: &[
            "posttriage check: free space {free} bytes in {dir} is less than 1.5 x message_size_limit {limit}",
        ],
        cause: "{dir} has {free} bytes free, less than 1.5 x message_size_limit ({limit}): smtpd refuses every message with 452 4.3.1",
        remedy: "free space in {dir}, or postconf -e 'message_size_limit = <bytes>'; postfix reload",
        explains: &["insufficient-storage"],
        example: "posttriage[0]: posttriage check: free space 1000 bytes in /var/spool/postfix is less than 1.5 x message_size_limit 10240000",
    },
    Rule {
        id: "mailbox-permission",
        category: "permissions",
        rank: Rank::Fails,
        patterns: &[
            "maildir delivery failed: {what}: Permission denied",
            "cannot update mailbox {mailbox} for user {user}. {what}: Permission denied",
        ],
        cause: "the delivery agent cannot write the mailbox ({what}: Permission denied), so mail for it waits",
        remedy: "ls -ld the mailbox and its directory; chown them to the recipient's uid (virtual_uid_maps for virtual; mail_spool_directory mode 1777 for local); postqueue -f",
        explains: &["deferred-other"],
        example: "postfix/virtual[101]: 3F2A1C0: to=<u@example.com>, relay=virtual, delay=0.1, delays=0/0/0/0.1, dsn=4.2.0, status=deferred (maildir delivery failed: create maildir file /var/mail/vhosts/example.com/u/tmp/1.P2.host: Permission denied)",
    },
    Rule {
        id: "mailbox-full",
        category: "limits",
        rank: Rank::Follows,
        patterns: &[
            "cannot update mailbox {mailbox} for user {user}. error writing message: File too large",
        ],
        cause: "{user}'s mailbox {mailbox} reached mailbox_size_limit",
        remedy: "have {user} clean up the mailbox, or postconf -e 'mailbox_size_limit = <bytes>'; postfix reload",
        explains: &[],
        example: "postfix/local[101]: 3F2A1C0: to=<u@example.com>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=5.2.2, status=bounced (cannot update mailbox /var/mail/u for user u. error writing message: File too large)",
    },
    Rule {
        id: "process-limit",
        category: "limits",
        rank: Rank::Fails,
        patterns: &[
            "warning: service \"{service}\" ({address}) has reached its process limit \"{limit}\": {rest}",
        ],
        cause: "service {service} ({address}) runs all its {limit} processes: new clients wait",
        remedy: "raise the maxproc column of {service} in master.cf (or default_process_limit); postfix reload",
        explains: &["process-limit-advice"],
        example: "postfix/master[101]: warning: service \"smtp\" (25) has reached its process limit \"100\": new clients may experience noticeable delays",
    },
    Rule {
        id: "process-limit-advice",
        category: "limits",
        rank: Rank::Follows,
        patterns: &[
            "warning: to avoid this condition, increase the process count in master.cf{rest}",
            "warning: see https://www.postfix.org/STRESS_README.html for {rest}",
        ],
        cause: "the master's advice after a process limit warning",
        remedy: "see STRESS_README: raise maxproc in master.cf, or shorten the time per client; postfix reload",
        explains: &[],
        example: "postfix/master[101]: warning: to avoid this condition, increase the process count in master.cf or reduce the service time per client",
    },
    Rule {
        id: "command-time-limit",
        category: "limits",
        rank: Rank::Fails,
        patterns: &[
            "Command time limit exceeded: \"{command}\"",
            "warning: pipe_command_read: read time limit exceeded",
            "warning: pipe_command_write: write time limit exceeded",
            "warning: pipe_command_wait_or_kill: child wait time limit exceeded",
        ],
        cause: "a command that {process} delivers to ran past its time limit and was stopped",
        remedy: "fix the command (it must read all its input and exit), or raise the limit: postconf -e 'command_time_limit = 3600s' (pipe: <transport>_time_limit); postfix reload",
        explains: &["deferred-other"],
        example: "postfix/local[101]: warning: pipe_command_read: read time limit exceeded",
    },
    Rule {
        id: "rate-limit",
        category: "limits",
        rank: Rank::Follows,
        patterns: &["rate limit exceeded: {count} from {client} for service {service}"],
        cause: "{client} exceeded an anvil rate limit of service {service}",
        remedy: "if {client} is legitimate: add it to smtpd_client_event_limit_exceptions (or raise the smtpd_client_*_rate_limit); postfix reload",
        explains: &[],
        example: "postfix/smtpd[101]: warning: Connection rate limit exceeded: 61 from unknown[192.0.2.9] for service smtp",
    },
    // --- crashes and throttling ---
    Rule {
        id: "killed-by-signal",
        category: "crashes",
        rank: Rank::Stops,
        patterns: &["warning: process {path} pid {pid} killed by signal {signal}"],
        cause: "{path} (pid {pid}) crashed with signal {signal}",
        remedy: "read the lines that process logged before it (posttriage names the crash report of an ironpost daemon); without a report, add -D to the service in master.cf with debugger_command set to get a backtrace; postfix reload",
        explains: &[
            "crash-report",
            "throttled",
            "talking-to-service",
            "deferred-other",
        ],
        example: "postfix/master[101]: warning: process /usr/lib/postfix/sbin/smtpd pid 4242 killed by signal 11",
    },
    Rule {
        id: "panic",
        category: "crashes",
        rank: Rank::Stops,
        patterns: &["panic: {detail}"],
        cause: "{process} hit an internal error: {detail}",
        remedy: "report it with postreport; until fixed, restart with postfix reload",
        // A panic ends in abort(): the master sees the process killed by signal 6.
        explains: &[
            "killed-by-signal",
            "crash-report",
            "daemon-exit",
            "throttled",
            "talking-to-service",
            "deferred-other",
            "transport-unavailable",
        ],
        example: "postfix/qmgr[101]: panic: myfree: corrupt or unallocated memory block",
    },
    Rule {
        id: "corrupt-queue-file",
        category: "queue",
        rank: Rank::Fails,
        patterns: &["saving corrupt file \"{file}\""],
        cause: "a damaged queue file was moved to corrupt/{file}",
        remedy: "postcat -q {file} shows what is left; postsuper -d {file} corrupt removes it",
        explains: &[],
        example: "postfix/qmgr[101]: warning: saving corrupt file \"3F2A1C0\" from queue \"active\" to queue \"corrupt\"",
    },
    Rule {
        id: "fatal",
        category: "crashes",
        rank: Rank::Stops,
        patterns: &["fatal: {detail}"],
        cause: "{process} stopped: {detail}",
        remedy: "fix what the line names (postconf -n, postconf -M, ls -l of the file); postfix reload",
        explains: &DAEMON_TROUBLE,
        example: "postfix/smtpd[101]: fatal: no usable unicode locale",
    },
    Rule {
        id: "server-config-error",
        category: "configuration",
        rank: Rank::Follows,
        patterns: &["451 4.3.5 Server configuration error"],
        cause: "smtpd answered 451 4.3.5 Server configuration error: a restriction or table it needs is broken",
        remedy: "see the warning logged before it by the same smtpd; fix that; postfix reload",
        explains: &[],
        example: "postfix/smtpd[101]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 451 4.3.5 Server configuration error; from=<a@b.example> to=<u@example.com> proto=ESMTP helo=<x>",
    },
    Rule {
        id: "throttled",
        category: "crashes",
        rank: Rank::Follows,
        patterns: &["warning: {path}: bad command startup -- throttling"],
        cause: "{path} exits at start, so the master throttles the service",
        remedy: "find why it exits (its fatal line above); postfix reload once fixed",
        explains: &[],
        example: "postfix/master[101]: warning: /usr/lib/postfix/sbin/smtpd: bad command startup -- throttling",
    },
    Rule {
        id: "crash-report",
        category: "crashes",
        rank: Rank::Follows,
        patterns: &["warning: crash report for process {path} pid {pid}: {file}"],
        cause: "{path} (pid {pid}) crashed and left a crash report",
        remedy: "read {file} (why and where it crashed, what it was doing); send it with a problem report (postreport)",
        explains: &[],
        example: "postfix/master[101]: warning: crash report for process /usr/libexec/ironpost/smtpd pid 4242: /var/lib/ironpost/crash/smtp.4242.20261206T105916Z",
    },
    Rule {
        id: "daemon-exit",
        category: "crashes",
        rank: Rank::Follows,
        patterns: &["warning: process {path} pid {pid} exit status {status}"],
        cause: "{path} (pid {pid}) exited with status {status}",
        remedy: "read the fatal line of that process just before; fix it; postfix reload",
        explains: &[],
        example: "postfix/master[101]: warning: process /usr/lib/postfix/sbin/smtpd pid 4242 exit status 1",
    },
    Rule {
        id: "talking-to-service",
        category: "crashes",
        rank: Rank::Follows,
        patterns: &["warning: problem talking to service {service}: {error}"],
        cause: "the {service} service did not answer ({error}): it crashed, is throttled, or master.cf runs a program there that does not speak its protocol",
        remedy: "look for that service's fatal or signal line; postconf -M {service}/unix shows the program master.cf runs for it; fix; postfix reload",
        explains: &[],
        example: "postfix/cleanup[101]: warning: problem talking to service rewrite: Connection reset by peer",
    },
    Rule {
        id: "deferred-other",
        category: "delivery",
        rank: Rank::Follows,
        patterns: &["status=deferred ({reason})"],
        cause: "mail was deferred: {reason}",
        remedy: "fix the reason; postqueue -f retries at once",
        explains: &[],
        example: "postfix/smtp[101]: 3F2A1C0: to=<u@example.com>, relay=none, delay=0.1, delays=0/0/0.1/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to x[192.0.2.1]:25: Connection reset)",
    },
    Rule {
        id: "warning",
        category: "other",
        rank: Rank::Follows,
        patterns: &["warning: {detail}", "error: {detail}"],
        cause: "{process}: {detail}",
        remedy: "no rule knows this warning: read it and the lines before it (DEBUG_README: the first warning is the one that matters)",
        explains: &[],
        example: "postfix/smtpd[101]: warning: something new went wrong",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// `posttriage --list-rules`: each rule id with its category and the cause it names,
/// one line per rule (`{name}`s are the text taken from the log line).
pub fn list() -> String {
    let width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    RULES
        .iter()
        .map(|r| format!("{:<width$}  {}: {}\n", r.id, r.category, r.cause))
        .collect()
}

/// The rule list as Markdown: docs/TRIAGE.md is this text (a test keeps them equal).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Triage rules\n\n\
         Generated by `posttriage -R` from crates/triage/src/rules.rs; a unit test keeps this\n\
         file equal to it. `posttriage` reads main.cf and master.cf, checks the queue and the\n\
         file system, then the log since the last start (or a window), matches each line\n\
         against these rules (the first matching rule wins), picks the root cause (the\n\
         heaviest rank first, then the earliest line), prints its remedy, and groups the\n\
         knock-on errors it explains under it. `{name}` stands for text taken from the line.\n\
         Patterns starting with `posttriage check:` are checks outside the log. A crash\n\
         (a `crashes` rule about a process) whose daemon left a crash report\n\
         (docs/CRASH_REPORTS.md) comes before all else: its cause and remedy name the\n\
         report, and its key lines (reason, service, work, ironpost's innermost frames)\n\
         are quoted under them, marked `>`.\n\n\
         Ranks: 1 the mail system or a service cannot run; 2 mail fails because of this\n\
         system's setup; 3 a consequence, or trouble on the other side.\n",
    );
    let mut category = "";
    for r in RULES {
        if r.category != category {
            category = r.category;
            out.push_str(&format!("\n## {category}\n"));
        }
        out.push_str(&format!("\n### {}\n\n", r.id));
        for p in r.patterns {
            out.push_str(&format!("- pattern: `{p}`\n"));
        }
        out.push_str(&format!("- rank: {}\n", r.rank as u8));
        out.push_str(&format!("- cause: {}\n", r.cause));
        out.push_str(&format!("- remedy: `{}`\n", r.remedy));
        if !r.explains.is_empty() {
            out.push_str(&format!("- explains: {}\n", r.explains.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_unique_and_explains_known() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(
                RULES[..i].iter().all(|o| o.id != r.id),
                "duplicate id {}",
                r.id
            );
            for e in r.explains {
                assert!(rule(e).is_some(), "{}: unknown explained rule {e}", r.id);
            }
        }
        // The failure signatures, without the two catch-alls.
        assert!(RULES.len() - 2 >= 40, "{} rules", RULES.len());
    }

    /// Rules no end-to-end test injects, and why. A rule leaves this list when a test
    /// proves it; the test below fails when a rule is in neither place.
    const NOT_INJECTED: [(&str, &str); 0] = [];

    /// The end-to-end tests of posttriage, as text.
    fn e2e_sources() -> String {
        let e2e = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
        [
            "t-41-triage/test.rs",
            "t-53-triage-more/test.rs",
            "t-57-triage-faults/test.rs",
        ]
        .iter()
        .map(|f| std::fs::read_to_string(e2e.join(f)).expect("the triage e2e tests"))
        .collect()
    }

    #[test]
    fn every_rule_is_proven_by_an_injected_fault() {
        let sources = e2e_sources();
        let mut wrong = Vec::new();
        let mut root_causes = 0;
        for r in RULES {
            // expect(mx, since, "rule", ...) names a root cause; "[rule]" a knock-on error
            // checked in a report.
            let as_root = sources.contains(&format!("\"{}\"", r.id));
            let proven = as_root || sources.contains(&format!("[{}]", r.id));
            root_causes += as_root as usize;
            let listed = NOT_INJECTED.iter().any(|(id, _)| *id == r.id);
            match (proven, listed) {
                (true, true) => {
                    wrong.push(format!("{} is tested: remove it from NOT_INJECTED", r.id))
                }
                (false, false) => wrong.push(format!("{} has no end-to-end test", r.id)),
                _ => {}
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
        assert!(
            root_causes >= 40,
            "{root_causes} rules proven as root causes"
        );
    }

    #[test]
    fn list_has_a_line_per_rule() {
        let list = list();
        assert_eq!(list.lines().count(), RULES.len());
        for (line, r) in list.lines().zip(RULES) {
            assert!(line.starts_with(&format!("{} ", r.id)), "{line}");
        }
    }

    #[test]
    fn docs_triage_md_is_generated_from_the_table() {
        let docs = include_str!("../../../docs/TRIAGE.md");
        assert!(
            docs == markdown(),
            "docs/TRIAGE.md is stale: run posttriage -R > docs/TRIAGE.md"
        );
    }
}
