//! The configuration a program runs with: main.cf, `-o` overrides and defaults, with
//! `$name` expansion and typed access.
//!
//! Postfix counterparts: `global/mail_conf.c`, `mail_conf_{str,int,long,bool,time}.c` and
//! `util/dict.c` (`dict_eval`). Values are looked up in this order: a `-o name=value`
//! override, main.cf, the declared default. Expansion is recursive, as in Postfix's
//! daemons. Errors carry Postfix's exact texts, so an administrator's search finds them.

use crate::def::{Default, Kind, Param};
use crate::main_cf::MainCf;
use crate::table::{self, Known};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use util::mac_expand::{self, Flags};

/// A configuration problem, in the words Postfix uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Warnings Postfix logs before the fatal message (the details of a `$name` error).
    pub warnings: Vec<String>,
    /// The fatal message.
    pub message: String,
}

impl ConfigError {
    fn new(message: String) -> Self {
        ConfigError {
            warnings: Vec::new(),
            message,
        }
    }

    fn expansion(error: mac_expand::Error) -> Self {
        let message = error
            .fatal
            .unwrap_or_else(|| "dictionary mail_dict: macro processing error".to_string());
        ConfigError {
            warnings: error.warnings,
            message,
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The directory whose main.cf a program reads: `-c`, else `MAIL_CONFIG`, else the default.
pub fn config_directory(option: Option<&Path>) -> PathBuf {
    if let Some(dir) = option {
        return dir.to_path_buf();
    }
    match std::env::var_os(crate::env::CONF_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(crate::install::CONFIG_DIRECTORY),
    }
}

/// A program's configuration.
pub struct Config {
    /// The directory main.cf was read from.
    pub config_directory: PathBuf,
    /// main.cf as read.
    pub main: MainCf,
    /// `-o name=value` overrides, later ones winning.
    overrides: HashMap<String, String>,
    /// The program's name, reported as `process_name`.
    pub process_name: String,
    /// Computed defaults, worked out once.
    computed: RefCell<HashMap<&'static str, String>>,
}

impl Config {
    /// Reads `$config_directory/main.cf`.
    pub fn load(config_directory: &Path) -> Result<Config, ConfigError> {
        let main = MainCf::read(&config_directory.join("main.cf"))
            .map_err(|e| ConfigError::new(e.to_string()))?;
        Ok(Config::new(config_directory, main))
    }

    /// A configuration from an already parsed main.cf.
    pub fn new(config_directory: &Path, main: MainCf) -> Config {
        Config {
            config_directory: config_directory.to_path_buf(),
            main,
            overrides: HashMap::new(),
            process_name: String::new(),
            computed: RefCell::new(HashMap::new()),
        }
    }

    /// Applies `-o name=value`.
    pub fn set_override(&mut self, name: &str, value: &str) {
        self.overrides.insert(name.to_string(), value.to_string());
        self.computed.borrow_mut().clear();
    }

    /// The value set by an override or in main.cf, unexpanded.
    pub fn explicit(&self, name: &str) -> Option<&str> {
        self.overrides
            .get(name)
            .map(String::as_str)
            .or_else(|| self.main.get(name))
    }

    /// The unexpanded value in force: explicit setting, else default; None if unknown.
    pub fn raw(&self, name: &str) -> Option<Cow<'_, str>> {
        if name == "config_directory" && self.explicit(name).is_none() {
            return Some(self.config_directory.to_string_lossy());
        }
        if let Some(value) = self.explicit(name) {
            return Some(Cow::Borrowed(value));
        }
        match table::find(name)? {
            Known::Declared(param) => Some(self.default_value(param)),
            Known::PostfixOnly(default) => Some(Cow::Borrowed(default)),
        }
    }

    /// A parameter's default: its text, or the computed value.
    pub fn default_value(&self, param: &'static Param) -> Cow<'_, str> {
        match param.default {
            Default::Text(text) => Cow::Borrowed(text),
            Default::Computed(compute) => {
                if let Some(value) = self.computed.borrow().get(param.name) {
                    return Cow::Owned(value.clone());
                }
                let value = compute(self);
                self.computed.borrow_mut().insert(param.name, value.clone());
                Cow::Owned(value)
            }
        }
    }

    /// Expands `$name` references in `text`, recursively.
    pub fn expand(&self, text: &str) -> Result<String, ConfigError> {
        self.expand_with(text, |_| None)
    }

    /// Like [`Config::expand`], with `shadow` answering first for the names it knows (used
    /// while computing a default that must not see itself).
    pub fn expand_with(
        &self,
        text: &str,
        shadow: impl Fn(&str) -> Option<Option<String>>,
    ) -> Result<String, ConfigError> {
        let flags = Flags {
            recurse: true,
            scan: false,
            start_level: 0,
        };
        let expanded = mac_expand::expand(text, flags, |name, _| {
            shadow(name).unwrap_or_else(|| self.raw(name).map(Cow::into_owned))
        })
        .map(|e| e.text)
        .map_err(ConfigError::expansion)?;
        // What Postfix's dict_eval() shows with -v -v.
        if log::verbose() > 1 {
            if expanded != text {
                log::msg_info!("dict_eval: expand {text} -> {expanded}");
            } else {
                log::msg_info!("dict_eval: const  {text}");
            }
        }
        Ok(expanded)
    }

    /// The expanded value of a string parameter.
    pub fn str(&self, param: &'static Param) -> Result<String, ConfigError> {
        match param.kind {
            Kind::Raw => Ok(self.raw(param.name).unwrap_or_default().into_owned()),
            _ => self.expand(&self.raw(param.name).unwrap_or_default()),
        }
    }

    /// A list parameter, split at whitespace and commas after expansion.
    pub fn list(&self, param: &'static Param) -> Result<Vec<String>, ConfigError> {
        let value = self.str(param)?;
        Ok(util::tokens::split(&value, util::tokens::COMMA_SPACE)
            .map(str::to_string)
            .collect())
    }

    /// A `yes`/`no` parameter.
    pub fn bool(&self, param: &'static Param) -> Result<bool, ConfigError> {
        let value = self.str(param)?;
        util::conv::bool(&value).ok_or_else(|| {
            ConfigError::new(format!(
                "bad boolean configuration: {} = {value}",
                param.name
            ))
        })
    }

    /// A numeric parameter, checked against its bounds.
    pub fn int(&self, param: &'static Param) -> Result<i64, ConfigError> {
        let value = self.str(param)?;
        let limit = match param.kind {
            Kind::Long => i64::MAX,
            _ => i64::from(i32::MAX),
        };
        let number = util::conv::int(&value)
            .filter(|n| n.abs() <= limit)
            .ok_or_else(|| {
                ConfigError::new(format!(
                    "bad numerical configuration: {} = {value}",
                    param.name
                ))
            })?;
        if let Some(min) = param.min.filter(|&min| number < min) {
            return Err(ConfigError::new(format!(
                "invalid {} parameter value {number} < {min}",
                param.name
            )));
        }
        if let Some(max) = param.max.filter(|&max| number > max) {
            return Err(ConfigError::new(format!(
                "invalid {} parameter value {number} > {max}",
                param.name
            )));
        }
        Ok(number)
    }

    /// A time parameter in seconds, checked against its bounds.
    pub fn time(&self, param: &'static Param) -> Result<i64, ConfigError> {
        let unit = match param.kind {
            Kind::Time(unit) => unit,
            _ => b's',
        };
        let value = self.str(param)?;
        let seconds = util::conv::time(&value, unit).ok_or_else(|| {
            ConfigError::new(format!(
                "parameter {}: bad time value or unit: {value}",
                param.name
            ))
        })?;
        let seconds = i64::from(seconds);
        if let Some(min) = param.min.filter(|&min| seconds < min) {
            return Err(ConfigError::new(format!(
                "invalid {}: {seconds} (min {min})",
                param.name
            )));
        }
        if let Some(max) = param.max.filter(|&max| seconds > max) {
            return Err(ConfigError::new(format!(
                "invalid {}: {seconds} (max {max})",
                param.name
            )));
        }
        Ok(seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decl;

    fn config(text: &str) -> Config {
        let main = MainCf::parse(Path::new("/x/main.cf"), text).unwrap();
        Config::new(Path::new("/x"), main)
    }

    #[test]
    fn precedence_and_expansion() {
        let mut cf = config("myhostname = mail.example.com\nmyorigin = $mydomain\n");
        assert_eq!(cf.str(&decl::identity::MYORIGIN).unwrap(), "example.com");
        assert_eq!(cf.str(&decl::identity::MYDOMAIN).unwrap(), "example.com");
        cf.set_override("myorigin", "other.example");
        assert_eq!(cf.str(&decl::identity::MYORIGIN).unwrap(), "other.example");
        assert_eq!(cf.raw("config_directory").unwrap(), "/x");
    }

    #[test]
    fn typed_errors_use_postfix_words() {
        let cf = config("smtpd_timeout = 5x\ndebug_peer_level = many\nsoft_bounce = maybe\n");
        assert_eq!(
            cf.time(&decl::smtpd::SMTPD_TIMEOUT).unwrap_err().message,
            "parameter smtpd_timeout: bad time value or unit: 5x"
        );
        assert_eq!(
            cf.int(&decl::debug::DEBUG_PEER_LEVEL).unwrap_err().message,
            "bad numerical configuration: debug_peer_level = many"
        );
        assert_eq!(
            cf.bool(&decl::queue::SOFT_BOUNCE).unwrap_err().message,
            "bad boolean configuration: soft_bounce = maybe"
        );
    }

    #[test]
    fn defaults_with_conditionals() {
        let cf = config("");
        assert_eq!(cf.time(&decl::smtpd::SMTPD_TIMEOUT).unwrap(), 300);
        let cf = config("stress = yes\n");
        assert_eq!(cf.time(&decl::smtpd::SMTPD_TIMEOUT).unwrap(), 10);
    }

    #[test]
    fn recursion_is_an_error() {
        let cf = config("a = $b\nb = $a\nmyorigin = $a\n");
        let err = cf.str(&decl::identity::MYORIGIN).unwrap_err();
        assert_eq!(err.message, "dictionary mail_dict: macro processing error");
        assert_eq!(err.warnings, ["unreasonable macro call nesting: \"b\""]);
    }
}
