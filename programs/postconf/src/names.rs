//! The parameter names one postconf run knows, and where their values come from.
//!
//! Postfix counterparts: `postconf_builtin.c` (built-in names), `postconf_service.c`
//! (service-dependent names such as `relay_destination_concurrency_limit`),
//! `postconf_user.c` (user-defined names: a `name=value` that some `$name` refers to),
//! `postconf_dbms.c` (`ldap:name` configurations written as `name_server_host` and so on),
//! and `postconf_lookup.c` (value lookup with master.cf `-o` scopes).
//!
//! Everything that is not in this table when main.cf and master.cf have been read is an
//! "unused parameter".

use crate::mode::{self, CLASS_BUILTIN, CLASS_SERVICE, CLASS_USER, Mode};
use params::main_cf::MainCf;
use params::master_cf::{Entry, MasterCf};
use params::table::{self, Known};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use util::mac_expand::{self, Flags};

/// Where the configuration files are.
pub struct Env {
    /// The configuration directory.
    pub config_dir: PathBuf,
    /// Whether the directory was chosen with `-c` or MAIL_CONFIG; then `config_directory`
    /// counts as set, as in Postfix.
    pub explicit_dir: bool,
}

impl Env {
    /// The directory from `-c`, else MAIL_CONFIG, else the built-in default.
    pub fn locate(option: Option<PathBuf>) -> Env {
        let explicit_dir = option.is_some() || std::env::var_os(params::env::CONF_ENV).is_some();
        Env {
            config_dir: params::config::config_directory(option.as_deref()),
            explicit_dir,
        }
    }

    /// The path of main.cf.
    pub fn main_path(&self) -> PathBuf {
        self.config_dir.join("main.cf")
    }

    /// The path of master.cf.
    pub fn master_path(&self) -> PathBuf {
        self.config_dir.join("master.cf")
    }
}

/// Where a known name comes from.
#[derive(Debug, Clone)]
pub enum Default {
    /// A parameter in the built-in table.
    Builtin(Known),
    /// A service-dependent parameter; its default is `$` and the global parameter's name.
    Service(String),
    /// A user-defined parameter: it has no default.
    User,
}

/// One known name.
#[derive(Debug, Clone)]
pub struct Node {
    /// Built-in, service-dependent or user-defined (the `-C` classes).
    pub class: u32,
    /// An old name that only counts when it is set.
    pub legacy: bool,
    /// Where its default comes from.
    pub default: Default,
}

/// A master.cf service, seen as a scope for `-o name=value` settings.
pub struct Scope {
    /// The master.cf entry.
    pub entry: Entry,
    /// Its `-o` settings, if it has any.
    pub params: Option<BTreeMap<String, String>>,
    /// Names made valid in this scope by `$name` references.
    pub valid: BTreeSet<String>,
}

impl Scope {
    /// Parameters the service fixes for itself.
    fn read_only(&self, name: &str) -> Option<String> {
        let process = self.entry.process_name();
        match name {
            "process_name" => Some(process.to_string()),
            "service_name" => Some(if process != self.entry.service() {
                self.entry.service().to_string()
            } else {
                process.to_string()
            }),
            _ => None,
        }
    }
}

/// Everything one run of postconf knows.
pub struct Run {
    /// The files.
    pub env: Env,
    /// main.cf settings (the last one of a name wins), `-o` overrides, and
    /// `config_directory` when it was chosen explicitly.
    pub dict: BTreeMap<String, String>,
    /// Every known name.
    pub table: BTreeMap<String, Node>,
    /// master.cf services.
    pub services: Vec<Scope>,
    /// For computed defaults (myhostname...).
    config: params::Config,
    /// Names listed in smtpd_restriction_classes in main.cf.
    restriction_classes: BTreeSet<String>,
    /// Database client configuration files already checked.
    checked_dbms: BTreeSet<String>,
}

/// Service programs that get per-service scheduling parameters, and the parameters.
const DELIVERY_PROGRAMS: [&str; 5] = ["local", "error", "virtual", "smtp", "lmtp"];

/// `(suffix, global parameter)` pairs for delivery agents.
const SERVICE_PARAMS: [(&str, &str); 16] = [
    ("_recipient_limit", "default_recipient_limit"),
    ("_extra_recipient_limit", "default_extra_recipient_limit"),
    ("_recipient_refill_limit", "default_recipient_refill_limit"),
    ("_recipient_refill_delay", "default_recipient_refill_delay"),
    ("_delivery_slot_cost", "default_delivery_slot_cost"),
    ("_delivery_slot_loan", "default_delivery_slot_loan"),
    ("_delivery_slot_discount", "default_delivery_slot_discount"),
    ("_minimum_delivery_slots", "default_minimum_delivery_slots"),
    (
        "_initial_destination_concurrency",
        "initial_destination_concurrency",
    ),
    (
        "_destination_concurrency_limit",
        "default_destination_concurrency_limit",
    ),
    (
        "_destination_recipient_limit",
        "default_destination_recipient_limit",
    ),
    (
        "_destination_concurrency_positive_feedback",
        "default_destination_concurrency_positive_feedback",
    ),
    (
        "_destination_concurrency_negative_feedback",
        "default_destination_concurrency_negative_feedback",
    ),
    (
        "_destination_concurrency_failed_cohort_limit",
        "default_destination_concurrency_failed_cohort_limit",
    ),
    ("_destination_rate_delay", "default_destination_rate_delay"),
    ("_transport_rate_delay", "default_transport_rate_delay"),
];

/// The parameter that pipe and spawn services add.
const TIME_LIMIT: (&str, &str) = ("_time_limit", "command_time_limit");

/// Database clients whose settings may live in main.cf as `<name>_<suffix>`.
const DBMS_SUFFIXES: [(&str, &[&str]); 5] = [
    (
        "ldap",
        &[
            "bind",
            "bind_dn",
            "bind_pw",
            "cache",
            "cache_expiry",
            "cache_size",
            "chase_referrals",
            "debuglevel",
            "dereference",
            "domain",
            "expansion_limit",
            "leaf_result_attribute",
            "query_filter",
            "recursion_limit",
            "result_attribute",
            "result_filter",
            "result_format",
            "sasl_authz_id",
            "sasl_mechs",
            "sasl_minssf",
            "sasl_realm",
            "scope",
            "search_base",
            "server_host",
            "server_port",
            "size_limit",
            "special_result_attribute",
            "start_tls",
            "terminal_result_attribute",
            "timeout",
            "tls_ca_cert_dir",
            "tls_ca_cert_file",
            "tls_cert",
            "tls_cipher_suite",
            "tls_key",
            "tls_random_file",
            "tls_require_cert",
            "version",
        ],
    ),
    (
        "memcache",
        &[
            "backup",
            "data_size_limit",
            "domain",
            "flags",
            "key_format",
            "line_size_limit",
            "max_try",
            "memcache",
            "retry_pause",
            "timeout",
            "ttl",
        ],
    ),
    (
        "mysql",
        &[
            "additional_conditions",
            "charset",
            "dbname",
            "domain",
            "expansion_limit",
            "hosts",
            "idle_interval",
            "option_file",
            "option_group",
            "password",
            "query",
            "require_result_set",
            "result_format",
            "retry_interval",
            "select_field",
            "table",
            "tls_cert_file",
            "tls_ciphers",
            "tls_key_file",
            "tls_verify_cert",
            "user",
            "where_field",
        ],
    ),
    (
        "pgsql",
        &[
            "additional_conditions",
            "dbname",
            "domain",
            "encoding",
            "expansion_limit",
            "hosts",
            "idle_interval",
            "password",
            "query",
            "result_format",
            "retry_interval",
            "select_field",
            "select_function",
            "table",
            "user",
            "where_field",
        ],
    ),
    (
        "sqlite",
        &[
            "additional_conditions",
            "dbpath",
            "domain",
            "expansion_limit",
            "query",
            "result_format",
            "select_field",
            "table",
            "where_field",
        ],
    ),
];

/// Table types whose `{ }` contents are not scanned for nested tables.
const REGEX_TYPES: [&str; 2] = ["regexp", "pcre"];

impl Run {
    /// Reads the configuration and builds the name table, printing Postfix's warnings.
    /// `master_required`: a missing master.cf is fatal (master.cf modes) or a warning.
    pub fn load(mode: &Mode, env: Env, overrides: &[String], master_required: bool) -> Run {
        let defaults_only = mode.has(mode::DEFAULTS);
        let mut main = MainCf::default();
        let mut master = MasterCf::default();
        if master_required {
            master = read_master(&env, true);
        }
        let mut dict = BTreeMap::new();
        if env.explicit_dir {
            dict.insert(
                "config_directory".to_string(),
                env.config_dir.to_string_lossy().into_owned(),
            );
        }
        if !defaults_only || master_required {
            main = MainCf::read(&env.main_path()).unwrap_or_else(|e| log::msg_fatal!("{e}"));
            for warning in &main.warnings {
                log::msg_warn!("{warning}");
            }
            for entry in &main.entries {
                if let Some(old) = dict.get(&entry.name).filter(|old| **old != entry.value) {
                    log::msg_warn!(
                        "{}, line {}: overriding earlier entry: {}={}",
                        env.main_path().display(),
                        entry.line,
                        entry.name,
                        old
                    );
                }
                dict.insert(entry.name.clone(), entry.value.clone());
            }
            for setting in overrides {
                match util::name_value::split(setting) {
                    Ok((name, value)) => {
                        dict.insert(name.to_string(), value.to_string());
                    }
                    Err(why) => log::msg_fatal!("invalid parameter override: {setting}: {why}"),
                }
            }
        }
        if !master_required {
            master = read_master(&env, false);
        }
        let mut config = params::Config::new(&env.config_dir, main);
        config.process_name = "postconf".to_string();
        for (name, value) in &dict {
            config.set_override(name, value);
        }
        let services = master
            .entries
            .into_iter()
            .map(|entry| Scope {
                entry,
                params: None,
                valid: BTreeSet::new(),
            })
            .collect();
        let mut run = Run {
            env,
            dict,
            table: BTreeMap::new(),
            services,
            config,
            restriction_classes: BTreeSet::new(),
            checked_dbms: BTreeSet::new(),
        };
        run.register_builtin();
        run.register_services();
        if !defaults_only || master_required {
            run.register_user();
        }
        run
    }

    fn register_builtin(&mut self) {
        for (name, known) in table::all() {
            let legacy = table::LEGACY.contains(name);
            self.table.insert(
                name.to_string(),
                Node {
                    class: if legacy { 0 } else { CLASS_BUILTIN },
                    legacy,
                    default: Default::Builtin(*known),
                },
            );
        }
        for name in table::LEGACY {
            self.table.entry(name.to_string()).or_insert(Node {
                class: 0,
                legacy: true,
                default: Default::User,
            });
        }
    }

    fn register_services(&mut self) {
        let mut add = Vec::new();
        for scope in &self.services {
            let command = scope.entry.argv.first().map_or("", String::as_str);
            let params: Vec<(&str, &str)> = match command {
                "pipe" => std::iter::once(TIME_LIMIT).chain(SERVICE_PARAMS).collect(),
                "spawn" => vec![TIME_LIMIT],
                c if DELIVERY_PROGRAMS.contains(&c) => SERVICE_PARAMS.to_vec(),
                _ => continue,
            };
            for (suffix, global) in params {
                add.push((format!("{}{suffix}", scope.entry.service()), global));
            }
        }
        for (name, global) in add {
            match self.table.get_mut(&name) {
                Some(node) => node.class = CLASS_SERVICE,
                None => {
                    self.table.insert(
                        name,
                        Node {
                            class: CLASS_SERVICE,
                            legacy: false,
                            default: Default::Service(format!("${global}")),
                        },
                    );
                }
            }
        }
    }

    /// Finds user-defined names: those with a `name=value` that a `$name` refers to.
    fn register_user(&mut self) {
        for scope in &mut self.services {
            let mut settings = BTreeMap::new();
            for (name, value) in scope.entry.overrides() {
                settings.insert(name.to_string(), value.to_string());
            }
            // Postfix keeps only settings that split as name=value.
            if !settings.is_empty() {
                scope.params = Some(settings);
            }
        }
        for index in 0..self.services.len() {
            if self.services[index].params.is_some() {
                self.scan_namespace(Some(index));
            }
        }
        self.scan_defaults();
        self.scan_namespace(None);
    }

    /// Scans the defaults of parameters left at their default, so that an old name used in a
    /// default (`${old_name:$new_default}`) counts as used.
    fn scan_defaults(&mut self) {
        let names: Vec<String> = self
            .table
            .iter()
            .filter(|(name, node)| {
                !node.legacy && !table::is_raw(name) && !self.dict.contains_key(*name)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in names {
            let value = self.default_value(&name).unwrap_or_default();
            self.scan_value(&value, None, false);
        }
    }

    fn scan_namespace(&mut self, scope: Option<usize>) {
        let settings: Vec<(String, String)> = match scope {
            Some(i) => self.services[i]
                .params
                .iter()
                .flatten()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
            None => self
                .dict
                .iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .collect(),
        };
        let classes = settings
            .iter()
            .find(|(n, _)| n == "smtpd_restriction_classes")
            .map(|(_, v)| self.expand_quiet(v, scope));
        if let Some(classes) = classes {
            for name in util::tokens::split(&classes, util::tokens::COMMA_SPACE) {
                if scope.is_none() {
                    self.restriction_classes.insert(name.to_string());
                }
                self.flag_user(name, scope, false);
            }
        }
        for (name, value) in settings {
            if let Some(i) = scope
                && self.restriction_classes.contains(&name)
            {
                self.services[i].valid.insert(name.clone());
            }
            let mut scan_dbms = false;
            if let Some(node) = self.table.get_mut(&name) {
                if table::READ_ONLY.contains(&name.as_str()) {
                    let file = if scope.is_some() {
                        "master.cf"
                    } else {
                        "main.cf"
                    };
                    log::msg_warn!(
                        "{}/{file}: read-only parameter assignment: {name}={value}",
                        self.env.config_dir.display()
                    );
                    match scope {
                        Some(i) => {
                            if let Some(p) = self.services[i].params.as_mut() {
                                p.remove(&name);
                            }
                        }
                        None => {
                            self.dict.remove(&name);
                        }
                    }
                    continue;
                }
                if node.legacy {
                    node.class = CLASS_USER;
                }
                if table::is_raw(&name) {
                    continue;
                }
                scan_dbms = node.class & (CLASS_BUILTIN | CLASS_SERVICE) != 0;
            }
            self.scan_value(&value, scope, false);
            if scan_dbms {
                let expanded = self.expand_quiet(&value, scope);
                self.register_dbms(&expanded, scope, true);
            }
        }
    }

    /// Flags every `$name` in `value` (all branches) as referenced.
    fn scan_value(&mut self, value: &str, scope: Option<usize>, dbms: bool) {
        match mac_expand::scan(value) {
            Ok(names) => {
                for name in names {
                    self.flag_user(&name, scope, dbms);
                }
            }
            Err(error) => {
                for warning in error.warnings {
                    log::msg_warn!("{warning}");
                }
            }
        }
    }

    /// A `$name` (or a restriction class, or a database setting) refers to `name`: if it has
    /// a `name=value`, the name becomes valid where that setting is.
    fn flag_user(&mut self, name: &str, scope: Option<usize>, dbms: bool) {
        let mut supplied = false;
        let local = scope.filter(|&i| {
            self.services[i]
                .params
                .as_ref()
                .is_some_and(|p| p.contains_key(name))
        });
        if let Some(i) = local {
            supplied = true;
            self.services[i].valid.insert(name.to_string());
        } else if self.dict.contains_key(name) {
            supplied = true;
            self.table.entry(name.to_string()).or_insert(Node {
                class: CLASS_USER,
                legacy: false,
                default: Default::User,
            });
        }
        if scope.is_none() {
            for service in &mut self.services {
                if service
                    .params
                    .as_ref()
                    .is_some_and(|p| p.contains_key(name))
                {
                    supplied = true;
                    service.valid.insert(name.to_string());
                }
            }
        }
        if !supplied && !dbms && !self.table.contains_key(name) {
            let file = if scope.is_some() {
                "master.cf"
            } else {
                "main.cf"
            };
            log::msg_warn!(
                "{}/{file}: undefined parameter: {name}",
                self.env.config_dir.display()
            );
        }
    }

    /// Finds `type:name` database references and flags `name_<suffix>` settings.
    fn register_dbms(&mut self, value: &str, scope: Option<usize>, recurse: bool) {
        let words = util::tokens::split_braced(value, util::tokens::COMMA_SPACE)
            .unwrap_or_else(|_| value.split([',', ' ', '\t']).collect());
        for word in words {
            if word.starts_with('{') {
                if recurse {
                    let inner = word.trim_start_matches('{').trim_end_matches('}');
                    self.register_dbms(inner, scope, recurse);
                }
                continue;
            }
            let mut rest = word;
            let (mut db_type, mut prefix) = match rest.split_once(':') {
                Some(split) => split,
                None => continue,
            };
            while db_type == "proxy" || db_type == "debug" {
                rest = prefix;
                match rest.split_once(':') {
                    Some((t, p)) => (db_type, prefix) = (t, p),
                    None => break,
                }
            }
            if prefix.starts_with('/') {
                if let Some((_, suffixes)) = DBMS_SUFFIXES.iter().find(|(t, _)| *t == db_type) {
                    self.check_dbms_client(db_type, prefix, suffixes);
                }
                continue;
            }
            if prefix.starts_with('.') || db_type == rest {
                continue;
            }
            if prefix.starts_with('{') {
                let inner = prefix.trim_start_matches('{').trim_end_matches('}');
                let again = recurse && !REGEX_TYPES.contains(&db_type);
                self.register_dbms(inner, scope, again);
                continue;
            }
            if let Some((_, suffixes)) = DBMS_SUFFIXES.iter().find(|(t, _)| *t == db_type) {
                for suffix in *suffixes {
                    self.flag_user(&format!("{prefix}_{suffix}"), scope, true);
                }
            }
        }
    }

    /// Reads a database client configuration file once and reports names that client does
    /// not know (Postfix's `pcf_check_dbms_client`).
    fn check_dbms_client(&mut self, db_type: &str, path: &str, suffixes: &[&str]) {
        let spec = format!("{db_type}:{path}");
        if !self.checked_dbms.insert(spec.clone()) {
            return;
        }
        let text = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return,
            Err(e) if e.raw_os_error() == Some(21) => {
                log::msg_warn!("open \"{db_type}\" configuration \"{path}\": not a regular file");
                return;
            }
            Err(e) => {
                log::msg_warn!(
                    "open \"{db_type}\" configuration \"{path}\": {}",
                    sys::os_error(&e)
                );
                return;
            }
        };
        match MainCf::parse(std::path::Path::new(path), &text) {
            Ok(cf) => {
                let mut settings = BTreeMap::new();
                for entry in cf.entries {
                    settings.insert(entry.name, entry.value);
                }
                for (name, value) in settings {
                    if !suffixes.contains(&name.as_str()) {
                        log::msg_warn!("{spec}: unused parameter: {name}={value}");
                    }
                }
            }
            Err(e) => log::msg_fatal!("{e}"),
        }
    }

    /// The default value of a known name, as `postconf -d` prints it.
    pub fn default_value(&self, name: &str) -> Option<String> {
        let node = self.table.get(name)?;
        Some(match &node.default {
            Default::Builtin(Known::Declared(param)) => match name {
                "process_name" => "postconf".to_string(),
                _ => self.config.default_value(param).into_owned(),
            },
            Default::Builtin(Known::PostfixOnly(text)) => text.to_string(),
            Default::Service(text) => text.clone(),
            Default::User => String::new(),
        })
    }

    /// The value of `name` as postconf shows it (Postfix's `pcf_lookup_parameter_value`):
    /// a master.cf scope's own setting, then main.cf, then (unless only non-defaults are
    /// wanted) the default.
    pub fn lookup(&self, mode: &Mode, name: &str, scope: Option<&Scope>) -> Option<String> {
        if !mode.has(mode::DEFAULTS) {
            let explicit = scope
                .and_then(|s| {
                    s.read_only(name)
                        .or_else(|| s.params.as_ref().and_then(|p| p.get(name).cloned()))
                })
                .or_else(|| self.dict.get(name).cloned());
            if explicit.is_some() || mode.has(mode::NON_DEFAULT) {
                return explicit;
            }
        }
        self.default_value(name)
    }

    /// Expands `$name` in a value the way `postconf -x` does; errors are fatal.
    pub fn expand(&self, mode: &Mode, value: &str, scope: Option<&Scope>) -> String {
        let mut lookup_mode = *mode;
        lookup_mode.clear(mode::NON_DEFAULT);
        // postconf evaluates a parameter as `$name`, one level above its value.
        let flags = Flags {
            recurse: true,
            scan: false,
            start_level: 1,
        };
        let result = mac_expand::expand_except(
            value,
            flags,
            |name, _| self.lookup(&lookup_mode, name, scope),
            table::is_raw,
        );
        match result {
            Ok(expansion) => expansion.text,
            Err(error) => {
                for warning in &error.warnings {
                    log::msg_warn!("{warning}");
                }
                match error.fatal {
                    Some(fatal) => log::msg_fatal!("{fatal}"),
                    None => log::msg_fatal!("macro processing error"),
                }
            }
        }
    }

    /// Expansion used while building the table: errors only give an empty value.
    fn expand_quiet(&self, value: &str, scope: Option<usize>) -> String {
        let flags = Flags {
            recurse: true,
            scan: false,
            start_level: 0,
        };
        let scope = scope.map(|i| &self.services[i]);
        let mode = Mode::default();
        mac_expand::expand_except(
            value,
            flags,
            |name, _| self.lookup(&mode, name, scope),
            table::is_raw,
        )
        .map(|e| e.text)
        .unwrap_or_default()
    }
}

/// Reads master.cf; a missing file is fatal or a warning.
fn read_master(env: &Env, required: bool) -> MasterCf {
    let path = env.master_path();
    match std::fs::metadata(&path) {
        Err(error) if !required => {
            log::msg_warn!("open {}: {}", path.display(), sys::os_error(&error));
            return MasterCf::default();
        }
        _ => {}
    }
    let master = MasterCf::read(&path).unwrap_or_else(|e| log::msg_fatal!("{e}"));
    for warning in &master.warnings {
        log::msg_warn!("{warning}");
    }
    master
}
