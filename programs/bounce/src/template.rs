//! The notice templates: Postfix's four built-in ones (failure, delay, success, verify),
//! bounce_template_file overrides, `$name` expansion of the text, and the dumps behind
//! `postconf -b` and `postconf -t`.
//!
//! Postfix counterparts: `bounce/bounce_templates.c` (the defaults, the file parser, the
//! dumps) and `bounce/bounce_template.c` (a template's pseudo-headers Charset:, From:,
//! Subject:, Postmaster-Subject:, the checks that make Postfix fall back to the built-in
//! template, and the `$parameter_days`/`_hours`... time conversions). As in Postfix a
//! loaded template is checked only when a notice first needs it, so its warnings come
//! with the first notice that uses it.

use crate::settings::Settings;
use params::Config;
use std::borrow::Cow;

/// Which notice a template is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Non-delivery (permanent failure).
    Failure,
    /// Delayed mail.
    Delay,
    /// DSN SUCCESS notices.
    Success,
    /// `sendmail -bv` and `sendmail -v` reports.
    Verify,
}

impl Class {
    /// The name in template files and dumps.
    pub fn name(self) -> &'static str {
        match self {
            Class::Failure => "failure",
            Class::Delay => "delay",
            Class::Success => "success",
            Class::Verify => "verify",
        }
    }
}

/// The text every built-in template starts with.
const HOST_LINE: &str = "This is the mail system at host $myhostname.";
/// The signature every built-in template ends with.
const SIGNATURE: &str = "                   The mail system";

const FAILURE_TEXT: &[&str] = &[
    HOST_LINE,
    "",
    "I'm sorry to have to inform you that your message could not",
    "be delivered to one or more recipients. It's attached below.",
    "",
    "For further assistance, please send mail to postmaster.",
    "",
    "If you do so, please include this problem report. You can",
    "delete your own text from the attached returned message.",
    "",
    SIGNATURE,
];

const DELAY_TEXT: &[&str] = &[
    HOST_LINE,
    "",
    "####################################################################",
    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
    "####################################################################",
    "",
    "Your message could not be delivered for more than $delay_warning_time_hours hour(s).",
    "It will be retried until it is $maximal_queue_lifetime_days day(s) old.",
    "",
    "For further assistance, please send mail to postmaster.",
    "",
    "If you do so, please include this problem report. You can",
    "delete your own text from the attached returned message.",
    "",
    SIGNATURE,
];

const SUCCESS_TEXT: &[&str] = &[
    HOST_LINE,
    "",
    "Your message was successfully delivered to the destination(s)",
    "listed below. If the message was delivered to mailbox you will",
    "receive no further notifications. Otherwise you may still receive",
    "notifications of mail delivery errors from other systems.",
    "",
    SIGNATURE,
];

const VERIFY_TEXT: &[&str] = &[
    HOST_LINE,
    "",
    "Enclosed is the mail delivery report that you requested.",
    "",
    SIGNATURE,
];

/// One template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Which notice it is for.
    pub class: Class,
    /// Where it came from: "[built-in]" or the template file.
    origin: String,
    /// The text part's character set.
    pub charset: String,
    /// 7bit, or 8bit for a text with non-ASCII characters.
    pub encoding: &'static str,
    /// From: with header_from_format = standard.
    std_from: String,
    /// From: with header_from_format = obsolete.
    obs_from: String,
    /// Subject:.
    subject: String,
    /// Subject: of the postmaster copy; only failure and delay notices have one.
    postmaster_subject: Option<String>,
    /// The text, one line each, unexpanded.
    text: Vec<String>,
    /// A template file's text not yet checked (Postfix checks on first use).
    pending: Option<String>,
}

impl Template {
    /// The built-in template of `class`.
    pub fn builtin(class: Class) -> Template {
        let (subject, postmaster_subject, text) = match class {
            Class::Failure => (
                "Undelivered Mail Returned to Sender",
                Some("Postmaster Copy: Undelivered Mail"),
                FAILURE_TEXT,
            ),
            Class::Delay => (
                "Delayed Mail (still being retried)",
                Some("Postmaster Warning: Delayed Mail"),
                DELAY_TEXT,
            ),
            Class::Success => ("Successful Mail Delivery Report", None, SUCCESS_TEXT),
            Class::Verify => ("Mail Delivery Status Report", None, VERIFY_TEXT),
        };
        Template {
            class,
            origin: "[built-in]".to_string(),
            charset: "us-ascii".to_string(),
            encoding: "7bit",
            std_from: "Mail Delivery System <MAILER-DAEMON>".to_string(),
            obs_from: "MAILER-DAEMON (Mail Delivery System)".to_string(),
            subject: subject.to_string(),
            postmaster_subject: postmaster_subject.map(str::to_string),
            text: text.iter().map(|l| l.to_string()).collect(),
            pending: None,
        }
    }

    /// Takes a template file's text for this class, to be checked on first use.
    fn load(&mut self, origin: &str, text: &str) {
        *self = Template::builtin(self.class);
        self.origin = origin.to_string();
        self.pending = Some(text.to_string());
    }

    /// Checks and takes a loaded text (`bounce_template_parse_buffer`); an unusable one
    /// leaves the built-in template, with Postfix's warnings.
    fn parse_pending(&mut self) {
        let Some(text) = self.pending.take() else {
            return;
        };
        let mut parsed = self.clone();
        match parsed.parse(&text) {
            Ok(()) => *self = parsed,
            Err(()) => *self = Template::builtin(self.class),
        }
    }

    fn parse(&mut self, text: &str) -> Result<(), ()> {
        let class = self.class.name();
        let origin = self.origin.clone();
        let mut lines = text.split('\n').peekable();
        while let Some(&line) = lines.peek() {
            let name_len = rfc822::mime::header_opts::is_header(line.as_bytes());
            if name_len == 0 {
                break;
            }
            lines.next();
            let label = &line[..name_len];
            let value =
                line[name_len..].trim_start_matches(|c: char| c == ':' || c.is_ascii_whitespace());
            if value.is_empty() {
                log::msg_warn!(
                    "{origin}: empty \"{label}\" header value in {class} template -- ignoring this template"
                );
                return Err(());
            }
            if !value.is_ascii() {
                log::msg_warn!(
                    "{origin}: non-ASCII \"{label}\" header value in {class} template -- ignoring this template"
                );
                return Err(());
            }
            match label.to_ascii_lowercase().as_str() {
                "charset" => self.charset = value.to_string(),
                "from" => {
                    self.std_from = value.to_string();
                    self.obs_from = value.to_string();
                }
                "subject" => self.subject = value.to_string(),
                "postmaster-subject" => {
                    if self.postmaster_subject.is_none() {
                        log::msg_warn!(
                            "{origin}: inapplicable \"{label}\" header label in {class} template -- ignoring this template"
                        );
                        return Err(());
                    }
                    self.postmaster_subject = Some(value.to_string());
                }
                _ => {
                    log::msg_warn!(
                        "{origin}: unknown \"{label}\" header label in {class} template -- ignoring this template"
                    );
                    return Err(());
                }
            }
        }
        while lines.peek().is_some_and(|l| l.trim().is_empty()) {
            lines.next();
        }
        let body: Vec<String> = lines.map(str::to_string).collect();
        if body.is_empty() {
            log::msg_warn!(
                "{origin}: missing message text in {class} template -- ignoring this template"
            );
            return Err(());
        }
        if body.iter().any(|l| !l.is_ascii()) {
            if self.charset.eq_ignore_ascii_case("us-ascii") {
                log::msg_warn!("{origin}: 8-bit message text in {class} template");
                log::msg_warn!("please specify a charset value other than us-ascii");
                log::msg_warn!("-- ignoring this template for now");
                return Err(());
            }
            self.encoding = "8bit";
        }
        self.text = body;
        Ok(())
    }

    /// The From:, Subject: and To: headers of a notice to `rcpt`
    /// (`bounce_template_headers`).
    pub fn headers(&mut self, std_from: bool, rcpt: &str, postmaster_copy: bool) -> [String; 3] {
        self.parse_pending();
        let from = if std_from {
            &self.std_from
        } else {
            &self.obs_from
        };
        let subject = match (&self.postmaster_subject, postmaster_copy) {
            (Some(subject), true) => subject,
            _ => &self.subject,
        };
        [
            format!("From: {from}"),
            format!("Subject: {subject}"),
            format!("To: {rcpt}"),
        ]
    }

    /// The charset after any template file was checked.
    pub fn charset(&mut self) -> &str {
        self.parse_pending();
        &self.charset
    }

    /// The encoding after any template file was checked.
    pub fn encoding(&mut self) -> &'static str {
        self.parse_pending();
        self.encoding
    }

    /// The text with `$name` expanded (`bounce_template_expand`); a bad or undefined
    /// name is fatal, as in Postfix.
    pub fn expand(&mut self, settings: &Settings, config: &Config) -> Vec<String> {
        self.parse_pending();
        let class = self.class.name();
        let mut out = Vec::with_capacity(self.text.len());
        for line in &self.text {
            let flags = util::mac_expand::Flags {
                recurse: false,
                scan: false,
                start_level: 0,
            };
            let expanded = util::mac_expand::expand(line, flags, |name, _| {
                self.lookup(settings, config, name)
                    .map(|v| util::printable::printable(&v, settings.smtputf8_enable).into_owned())
            });
            match expanded {
                Ok(e) if e.undefined => log::msg_fatal!(
                    "{}: undefined $name in {class} template: {line}",
                    self.origin
                ),
                Ok(e) => out.push(e.text),
                Err(_) => log::msg_fatal!(
                    "{}: bad $name syntax in {class} template: {line}",
                    self.origin
                ),
            }
        }
        out
    }

    /// The value of `$key` in a template (`bounce_template_lookup`).
    fn lookup(&self, settings: &Settings, config: &Config, key: &str) -> Option<String> {
        let class = self.class.name();
        let times = [
            ("delay_warning_time", settings.delay_warn_time),
            ("maximal_queue_lifetime", settings.max_queue_time),
        ];
        for (param, value) in times {
            let Some(suffix) = key.strip_prefix(param).and_then(|s| s.strip_prefix('_')) else {
                continue;
            };
            let divisor = match suffix {
                "seconds" => 1,
                "minutes" => 60,
                "hours" => 3600,
                "days" => 86400,
                "weeks" => 7 * 86400,
                _ => log::msg_fatal!(
                    "{}: unrecognized suffix \"{suffix}\" in parameter \"{key}\"",
                    self.origin
                ),
            };
            let result = value / divisor;
            if result > 999 && divisor < 86400 {
                log::msg_warn!(
                    "{}: excessive result \"{result}\" in {class} template conversion of parameter \"{key}\"",
                    self.origin
                );
                log::msg_warn!(
                    "please increase time unit \"{suffix}\" of \"{key}\" in {class} template"
                );
                log::msg_warn!("for instructions see the bounce(5) manual");
            } else if result == 0 && value != 0 && divisor > 1 {
                log::msg_warn!(
                    "{}: zero result in {class} template conversion of parameter \"{key}\"",
                    self.origin
                );
                log::msg_warn!(
                    "please reduce time unit \"{suffix}\" of \"{key}\" in {class} template"
                );
                log::msg_warn!("for instructions see the bounce(5) manual");
            }
            return Some(result.to_string());
        }
        // With SMTPUTF8 on, the host and domain names are shown in Unicode.
        let name = match key {
            "myhostname" => Some(&settings.myhostname),
            "mydomain" => Some(&settings.mydomain),
            _ => None,
        };
        if let Some(value) = name.filter(|_| settings.smtputf8_enable) {
            let origin = &self.origin;
            if !value.is_ascii() {
                log::msg_warn!(
                    "{origin}: conversion \"{key}\" failed: non-ASCII input value: \"{value}\""
                );
                return Some(value.clone());
            }
            return Some(crate::idna::domain_to_utf8(value).unwrap_or_else(|| {
                log::msg_warn!("{origin}: conversion \"{key}\" failed: input value: \"{value}\"");
                value.clone()
            }));
        }
        let raw = config.raw(key)?;
        config.expand(&raw).ok()
    }

    /// The template as `postconf -t` shows it (`bounce_template_dump`).
    pub fn dump(&mut self, std_from: bool) -> String {
        self.parse_pending();
        let mut out = format!("Charset: {}\n", self.charset);
        out.push_str(&format!(
            "From: {}\n",
            if std_from {
                &self.std_from
            } else {
                &self.obs_from
            }
        ));
        out.push_str(&format!("Subject: {}\n", self.subject));
        if let Some(subject) = &self.postmaster_subject {
            out.push_str(&format!("Postmaster-Subject: {subject}\n"));
        }
        out.push('\n');
        for line in &self.text {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// The bytes of Postfix's reused line buffer while a template file is read: each line
/// overwrites it from the start and is NUL-terminated, the end of the file leaves only a
/// NUL at the start. Postfix names a missing end marker through a pointer into this
/// buffer, so the warning shows the tail of the last line read; ironpost's warning says
/// the same.
#[derive(Default)]
struct LineBuffer(Vec<u8>);

impl LineBuffer {
    fn put(&mut self, line: &[u8]) {
        if self.0.len() < line.len() + 1 {
            self.0.resize(line.len() + 1, 0);
        }
        self.0[..line.len()].copy_from_slice(line);
        self.0[line.len()] = 0;
    }

    fn text_at(&self, at: usize) -> String {
        let tail = self.0.get(at..).unwrap_or_default();
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        String::from_utf8_lossy(&tail[..end]).into_owned()
    }
}

/// The four templates (`BOUNCE_TEMPLATES`).
#[derive(Debug, Clone)]
pub struct Templates {
    /// Non-delivery notices.
    pub failure: Template,
    /// Delay notices.
    pub delay: Template,
    /// DSN SUCCESS notices.
    pub success: Template,
    /// Delivery reports.
    pub verify: Template,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            failure: Template::builtin(Class::Failure),
            delay: Template::builtin(Class::Delay),
            success: Template::builtin(Class::Success),
            verify: Template::builtin(Class::Verify),
        }
    }
}

impl Templates {
    /// The built-in templates, overridden by those in `path` (bounce_template_file) when
    /// it is set; its syntax errors are fatal, as in Postfix.
    pub fn from_file(path: &str) -> Templates {
        let mut templates = Templates::default();
        if path.is_empty() {
            return templates;
        }
        let text = std::fs::read(path)
            .unwrap_or_else(|e| log::msg_fatal!("open {path}: {}", sys::os_error(&e)));
        templates.load(path, &String::from_utf8_lossy(&text));
        templates
    }

    fn get(&mut self, class: Class) -> &mut Template {
        match class {
            Class::Failure => &mut self.failure,
            Class::Delay => &mut self.delay,
            Class::Success => &mut self.success,
            Class::Verify => &mut self.verify,
        }
    }

    /// Parses a template file (`bounce_templates_load`): `name_template = <<EOF` ... `EOF`
    /// blocks (or one-line values), comments and blank lines.
    fn load(&mut self, origin: &str, text: &str) {
        let mut lines = text.lines();
        let mut lineno = 1;
        while let Some(line) = lines.next() {
            lineno += 1;
            let trimmed = line.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (name, value) = util::name_value::split(line).unwrap_or_else(|err| {
                log::msg_fatal!("{origin}, line {lineno}: {err}: \"{line}\"")
            });
            let mut value: Cow<str> = Cow::Borrowed(value);
            if let Some(marker) = value.strip_prefix("<<") {
                let marker = marker.trim_start();
                // Where the marker is in its line: Postfix's warning about a missing end
                // marker prints its line buffer from there, which by then holds the last
                // line read (see LineBuffer).
                let marker_at = marker.as_ptr() as usize - line.as_ptr() as usize;
                let marker = marker.to_string();
                if marker.is_empty() {
                    log::msg_fatal!("{origin}, line {lineno}: missing end marker after <<");
                }
                if !marker.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                    log::msg_fatal!("{origin}, line {lineno}: malformed end marker after <<");
                }
                let mut buffer = LineBuffer::default();
                let mut block = Vec::new();
                let mut ended = false;
                for line in lines.by_ref() {
                    lineno += 1;
                    buffer.put(line.as_bytes());
                    if line == marker {
                        ended = true;
                        break;
                    }
                    block.push(line);
                }
                if !ended {
                    buffer.put(b"");
                    log::msg_warn!(
                        "{origin}, line {lineno}: missing \"{}\" end marker",
                        buffer.text_at(marker_at)
                    );
                }
                value = Cow::Owned(block.join("\n"));
            }
            let class = [Class::Failure, Class::Delay, Class::Success, Class::Verify]
                .into_iter()
                .find(|c| name.strip_prefix(c.name()) == Some("_template"));
            match class {
                Some(class) => self.get(class).load(origin, &value),
                None => log::msg_warn!(
                    "{origin}, line {lineno}: unknown template name: {name} -- ignoring this template"
                ),
            }
        }
    }

    /// All four templates as `postconf -t` prints them (`bounce_templates_dump`).
    pub fn dump(&mut self, std_from: bool) -> String {
        let mut parts = Vec::new();
        for class in [Class::Failure, Class::Delay, Class::Success, Class::Verify] {
            let body = self.get(class).dump(std_from);
            parts.push(format!("{}_template = <<EOF\n{body}EOF\n", class.name()));
        }
        parts.join("\n")
    }

    /// All four texts expanded, as `postconf -b` prints them (`bounce_templates_expand`).
    pub fn expand(&mut self, settings: &Settings, config: &Config) -> String {
        let mut parts = Vec::new();
        for class in [Class::Failure, Class::Delay, Class::Success, Class::Verify] {
            let body: String = self
                .get(class)
                .expand(settings, config)
                .iter()
                .map(|l| format!("{l}\n"))
                .collect();
            parts.push(format!(
                "expanded_{}_text = <<EOF\n{body}EOF\n",
                class.name()
            ));
        }
        parts.join("\n")
    }
}
