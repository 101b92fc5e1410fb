//! A minimal SMTP session on top of the protocol core, standing in for smtpd in the
//! golden tests and the fuzz targets.
//!
//! It follows the order of Postfix's `smtpd_proto()` that the crate documentation gives,
//! and answers the steps that belong to smtpd itself the way Postfix 3.7 does with the
//! golden configuration (`record.py`'s BASE_MAIN_CF): every restriction permits, the
//! rewriting service accepts any address that is UTF-8 with a sensible domain, cleanup
//! queues every message as QUEUEID, no TLS, no SASL, no XCLIENT/XFORWARD clients, ETRN is
//! refused by the flush service. It keeps the log lines the core asked for, so that tests
//! can look at them too.

use smtp_proto::{
    AuthState, BareLf, BdatCommand, BdatEvent, BdatReader, Command, CommandReader, Content,
    DataEvent, DataReader, Discard, EhloMask, Features, Helo, Input, LogContext, MailOptions,
    Notice, Pipelining, RcptOptions, Reject, Reply, Token, Transaction, Verb, Vrfy,
};

/// The settings a golden case may change (`NAME.cf`), with the golden defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub myhostname: String,
    pub smtputf8_enable: bool,
    pub discard: EhloMask,
    pub message_size_limit: u64,
    pub line_length_limit: usize,
    pub disable_vrfy_command: bool,
    pub bare_lf: BareLf,
    pub bare_lf_excluded: bool,
    pub bare_lf_code: u16,
    pub forbid_unauth_pipelining: bool,
    pub helo_required: bool,
    pub strict_rfc821_envelopes: bool,
    pub strict_smtputf8: bool,
    pub recipient_limit: usize,
    pub recipient_overshoot_limit: usize,
    pub hard_error_limit: usize,
    pub junk_command_limit: usize,
    pub soft_bounce: bool,
    pub verp_allowed: bool,
    pub xforward_allowed: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            myhostname: "golden.example".into(),
            smtputf8_enable: true,
            discard: EhloMask::NONE,
            message_size_limit: 10240000,
            line_length_limit: 2048,
            disable_vrfy_command: false,
            bare_lf: BareLf::Allow,
            bare_lf_excluded: false,
            bare_lf_code: 550,
            forbid_unauth_pipelining: false,
            helo_required: false,
            strict_rfc821_envelopes: false,
            strict_smtputf8: false,
            recipient_limit: 1000,
            recipient_overshoot_limit: 1000,
            hard_error_limit: 20,
            junk_command_limit: 100,
            soft_bounce: false,
            verp_allowed: false,
            xforward_allowed: false,
        }
    }
}

impl Config {
    /// The defaults changed by `name = value` lines.
    pub fn from_cf(text: &str) -> Config {
        let mut config = Config::default();
        let yes = |v: &str| v == "yes";
        for line in text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (name, value) = line.split_once('=').expect("name = value");
            let (name, value) = (name.trim(), value.trim());
            let number = || value.parse::<usize>().expect("a number");
            match name {
                "smtputf8_enable" => config.smtputf8_enable = yes(value),
                "smtpd_discard_ehlo_keywords" => config.discard = EhloMask::parse(value),
                "message_size_limit" => config.message_size_limit = number() as u64,
                "disable_vrfy_command" => config.disable_vrfy_command = yes(value),
                "smtpd_forbid_bare_newline" => {
                    config.bare_lf = BareLf::from_param(value).expect("bare LF setting")
                }
                // The golden client is 127.0.0.1, in $mynetworks.
                "smtpd_forbid_bare_newline_exclusions" => {
                    config.bare_lf_excluded = value == "$mynetworks"
                }
                "smtpd_forbid_unauth_pipelining" => config.forbid_unauth_pipelining = yes(value),
                "smtpd_helo_required" => config.helo_required = yes(value),
                "strict_rfc821_envelopes" => config.strict_rfc821_envelopes = yes(value),
                "strict_smtputf8" => config.strict_smtputf8 = yes(value),
                "smtpd_recipient_limit" => config.recipient_limit = number(),
                "smtpd_recipient_overshoot_limit" => config.recipient_overshoot_limit = number(),
                "smtpd_hard_error_limit" => config.hard_error_limit = number(),
                "smtpd_junk_command_limit" => config.junk_command_limit = number(),
                "soft_bounce" => config.soft_bounce = yes(value),
                // The golden client, 127.0.0.1, is in these networks.
                "smtpd_authorized_verp_clients" => config.verp_allowed = value == "127.0.0.0/8",
                "smtpd_authorized_xforward_hosts" => {
                    config.xforward_allowed = value == "127.0.0.0/8"
                }
                other => panic!("the golden session does not know {other}"),
            }
        }
        config
    }
}

/// What the session is reading.
enum Mode {
    Commands,
    Data(DataReader),
    Bdat {
        cmd: BdatCommand,
    },
    Discard {
        discard: Discard,
        reject: Reject,
        last: bool,
    },
    Closed,
}

/// One SMTP session.
pub struct Session {
    config: Config,
    bare_lf: BareLf,
    input: Input,
    reader: CommandReader,
    mode: Mode,
    txn: Transaction,
    bdat: Option<BdatReader>,
    pipelining: Pipelining,
    helo_seen: bool,
    esmtp: bool,
    error_count: usize,
    junk_cmds: usize,
    /// What the server sent.
    pub output: Vec<u8>,
    /// The log lines the core asked for.
    pub log: Vec<String>,
}

impl Session {
    /// A session that has sent its greeting.
    pub fn new(config: Config) -> Session {
        let bare_lf = config.bare_lf.for_client(config.bare_lf_excluded, false);
        let mut session = Session {
            bare_lf,
            input: Input::new(),
            reader: CommandReader::new(),
            mode: Mode::Commands,
            txn: Transaction::new(),
            bdat: None,
            pipelining: Pipelining::new(),
            helo_seen: false,
            esmtp: false,
            error_count: 0,
            junk_cmds: 0,
            output: Vec::new(),
            log: Vec::new(),
            config,
        };
        let banner = Reply::new(format!("220 {} ESMTP", session.config.myhostname));
        session.send(&banner);
        session
    }

    /// Runs a whole client input, write by write, then the client's EOF.
    pub fn run(config: Config, segments: &[Vec<u8>]) -> Session {
        let mut session = Session::new(config);
        for segment in segments {
            session.input.push(segment);
            session.step();
        }
        session.input.close();
        session.step();
        session
    }

    fn send(&mut self, reply: &Reply) {
        let reply = if self.config.soft_bounce {
            reply.clone().soft_bounce()
        } else {
            reply.clone()
        };
        reply.write_to(&mut self.output);
    }

    fn note(&mut self, notice: Option<Notice>) {
        if let Some(notice) = notice {
            // The queue file is opened at the first accepted recipient
            // (smtpd_delay_open_until_valid_rcpt).
            let queue_id = (self.txn.rcpt_count > 0).then_some("QUEUEID");
            let ctx = LogContext {
                namaddr: "localhost[127.0.0.1]",
                queue_id,
                utf8: self.config.smtputf8_enable,
            };
            let prefix = match notice.severity() {
                smtp_proto::Severity::Warning => "warning: ",
                smtp_proto::Severity::Info => "",
            };
            self.log.push(format!("{prefix}{}", notice.text(&ctx)));
        }
    }

    /// Logs and sends a refusal; returns whether it counts as an error.
    fn refuse(&mut self, reject: Reject) -> bool {
        self.note(reject.notice.clone());
        self.send(&reject.reply);
        reject.counts_as_error
    }

    /// Works through the input until more is needed or the session is over.
    fn step(&mut self) {
        loop {
            let progressed = match std::mem::replace(&mut self.mode, Mode::Closed) {
                Mode::Closed => return,
                Mode::Commands => self.command(),
                Mode::Data(reader) => self.data(reader),
                Mode::Bdat { cmd } => self.bdat_chunk(cmd),
                Mode::Discard {
                    discard,
                    reject,
                    last,
                } => self.discard(discard, reject, last),
            };
            if !progressed {
                if self.input.is_closed() {
                    self.mode = Mode::Closed;
                }
                return;
            }
        }
    }

    /// One command; false when more input is needed (the mode is restored).
    fn command(&mut self) -> bool {
        if self.error_count >= self.config.hard_error_limit {
            let reply = Reply::new(format!(
                "421 4.7.0 {} Error: too many errors",
                self.config.myhostname
            ));
            self.send(&reply);
            return true;
        }
        let limit = self.config.line_length_limit;
        let Some(line) = self.reader.read(&mut self.input, limit, self.bare_lf) else {
            self.mode = Mode::Commands;
            return false;
        };
        let (text, too_long, bare_lf) = (line.text.to_vec(), line.too_long(limit), line.bare_lf);
        self.note(too_long);
        if bare_lf && self.bare_lf.rejects() {
            self.send(&smtp_proto::bare_lf_reply(
                self.config.bare_lf_code,
                &self.config.myhostname,
            ));
            return true;
        }
        self.mode = Mode::Commands;
        let cmd = match Command::parse(&text, self.config.smtputf8_enable) {
            Ok(cmd) => cmd,
            Err(reply) => {
                self.send(&reply);
                self.error_count += 1;
                return true;
            }
        };
        let Some(verb) = cmd.verb else {
            if cmd.looks_like_header() || forbidden(cmd.name()) {
                self.note(Some(Command::non_smtp_notice(&text)));
                self.send(&Command::non_smtp_reply());
                self.mode = Mode::Closed;
            } else {
                self.send(&Command::unknown_reply());
                self.error_count += 1;
            }
            return true;
        };
        let notice = self
            .pipelining
            .check(verb, self.esmtp, self.input.pending());
        let early = notice.is_some();
        self.note(notice);
        if early && self.config.forbid_unauth_pipelining {
            self.send(&smtp_proto::sync_reply());
            self.mode = Mode::Closed;
            return true;
        }
        let ok = self.run_command(verb, &cmd, &text);
        if !ok {
            self.error_count += 1;
        }
        if verb.counts_as_junk() {
            let before = self.junk_cmds;
            self.junk_cmds += 1;
            if before > self.config.junk_command_limit {
                self.error_count += 1;
            }
        }
        if verb == Verb::Quit {
            self.mode = Mode::Closed;
        }
        true
    }

    /// Sends `reply` for an accepted step, or the refusal; the command's success.
    fn answer(&mut self, result: Result<Reply, Reject>) -> bool {
        match result {
            Ok(reply) => {
                let hangup = reply.ends_session();
                self.send(&reply);
                if hangup {
                    self.mode = Mode::Closed;
                }
                true
            }
            Err(reject) => {
                if reject.reply.ends_session() {
                    self.mode = Mode::Closed;
                }
                !self.refuse(reject)
            }
        }
    }

    fn run_command(&mut self, verb: Verb, cmd: &Command, line: &[u8]) -> bool {
        let args = &cmd.args[..];
        let result = match verb {
            Verb::Helo | Verb::Ehlo => self.helo(verb, args),
            Verb::Mail => self.mail(args),
            Verb::Rcpt => self.rcpt(args),
            Verb::Data => self.data_command(args),
            Verb::Bdat => return self.bdat_command(args, line),
            Verb::Rset => smtp_proto::rset_check(args).map(|()| {
                self.txn.reset();
                smtp_proto::ok_reply()
            }),
            Verb::Noop => Ok(smtp_proto::ok_reply()),
            Verb::Vrfy => self.vrfy(args),
            Verb::Etrn => self.etrn(args),
            Verb::Quit => Ok(smtp_proto::quit_reply()),
            Verb::Starttls => smtp_proto::starttls_check(args, false, false)
                .map(|()| smtp_proto::starttls_reply()),
            Verb::Auth => {
                let state = AuthState {
                    helo_required: self.config.helo_required,
                    helo_seen: self.helo_seen,
                    enabled: false,
                    in_mail: self.txn.in_mail(),
                    needs_tls: false,
                    authenticated: false,
                };
                smtp_proto::auth_check(args, &state)
                    .map(|_| Reply::new("235 2.7.0 Authentication successful"))
            }
            Verb::Xclient => smtp_proto::xattr_check(verb, args, self.txn.in_mail(), false)
                .map(|()| Reply::new("250 2.0.0 Ok")),
            Verb::Xforward => self.xforward(args),
        };
        self.answer(result)
    }

    fn helo(&mut self, verb: Verb, args: &[Token]) -> Result<Reply, Reject> {
        let _helo = Helo::parse(verb, args, self.config.smtputf8_enable)?;
        self.txn.reset();
        self.helo_seen = true;
        if verb == Verb::Helo {
            return Ok(smtp_proto::helo_reply(&self.config.myhostname));
        }
        self.esmtp = true;
        self.note(smtp_proto::discard_notice(self.config.discard));
        let features = Features {
            myhostname: &self.config.myhostname,
            message_size_limit: self.config.message_size_limit,
            vrfy: !self.config.disable_vrfy_command,
            smtputf8: self.config.smtputf8_enable,
            xverp: self.config.verp_allowed,
            xforward: self.config.xforward_allowed,
            ..Features::default()
        };
        Ok(smtp_proto::ehlo_reply(&features, self.config.discard))
    }

    fn mail(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let opts = MailOptions {
            helo_required: self.config.helo_required,
            smtputf8_enable: self.config.smtputf8_enable,
            discard: self.config.discard,
            strict_rfc821_envelopes: self.config.strict_rfc821_envelopes,
            verp_allowed: self.config.verp_allowed,
            verp_delims: "+=",
            verp_filter: "-=+",
            message_size_limit: self.config.message_size_limit,
        };
        self.txn.mail_start(self.helo_seen, args, &opts)?;
        let sender = self.txn.mail_sender(args, &opts)?;
        resolves(&sender, self.txn.smtputf8, Verb::Mail, &args[2])?;
        let extras = self.txn.mail_params(&sender, args, &opts)?;
        let notice = smtp_proto::smtputf8_check(
            &sender,
            self.txn.smtputf8,
            self.config.strict_smtputf8,
            false,
            "sender",
        )?;
        self.note(notice);
        Ok(self.txn.mail_accept(sender, extras))
    }

    fn rcpt(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let opts = RcptOptions {
            discard: self.config.discard,
            strict_rfc821_envelopes: self.config.strict_rfc821_envelopes,
            recipient_limit: self.config.recipient_limit,
            recipient_overshoot_limit: self.config.recipient_overshoot_limit,
        };
        self.txn.rcpt_start(args)?;
        let recipient = self.txn.rcpt_recipient(args, &opts)?;
        resolves(&recipient, self.txn.smtputf8, Verb::Rcpt, &args[2])?;
        let _params = self.txn.rcpt_params(args, &opts)?;
        let notice = smtp_proto::smtputf8_check(
            &recipient,
            self.txn.smtputf8,
            self.config.strict_smtputf8,
            false,
            "recipient",
        )?;
        self.note(notice);
        Ok(self.txn.rcpt_accept(recipient))
    }

    fn vrfy(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let vrfy = Vrfy::parse(
            args,
            self.config.disable_vrfy_command,
            self.config.smtputf8_enable,
            self.config.discard,
        )?;
        let addr = vrfy.address()?;
        resolves(&addr, vrfy.smtputf8, Verb::Vrfy, &vrfy.arg)?;
        if let Err(reject) = smtp_proto::smtputf8_check(
            &addr,
            vrfy.smtputf8,
            self.config.strict_smtputf8,
            false,
            "recipient",
        ) {
            self.txn.reset();
            return Err(reject);
        }
        Ok(vrfy.reply())
    }

    /// XFORWARD with Postfix's checks on each attribute's value.
    fn xforward(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let allowed = self.config.xforward_allowed;
        smtp_proto::xattr_check(Verb::Xforward, args, self.txn.in_mail(), allowed)?;
        for attr in smtp_proto::attributes(args, self.config.smtputf8_enable) {
            let attr = attr?;
            let name = String::from_utf8_lossy(&attr.name).to_ascii_uppercase();
            let value = attr.value.as_str();
            let unavailable = value.eq_ignore_ascii_case("[UNAVAILABLE]");
            let valid = match name.as_str() {
                "NAME" => unavailable || util::valid_hostname::valid_hostname(value),
                "ADDR" => unavailable || util::valid_hostname::valid_hostaddr(value),
                "PORT" => {
                    unavailable || (smtp_proto::text::alldig(value.as_bytes()) && value.len() <= 5)
                }
                "PROTO" => unavailable || value.len() <= 64,
                "HELO" | "IDENT" => true,
                "SOURCE" => ["LOCAL", "REMOTE", "[UNAVAILABLE]"]
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(value)),
                _ => return Err(smtp_proto::bad_name(Verb::Xforward, &attr.name)),
            };
            if !valid {
                return Err(smtp_proto::bad_value(&name, value));
            }
        }
        Ok(Reply::new("250 2.0.0 Ok"))
    }

    fn etrn(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        smtp_proto::etrn_helo_check(self.config.helo_required, self.helo_seen)?;
        let domain = smtp_proto::etrn_domain(self.txn.in_mail(), args)?;
        // fast_flush_domains is empty: the flush service refuses every domain.
        Err(Reject::plain(Reply::new(format!(
            "459 <{domain}>: service unavailable"
        ))))
    }

    fn data_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        self.txn.data_start(args)?;
        let reader = DataReader::new(
            self.config.line_length_limit,
            self.config.message_size_limit,
            self.bare_lf,
        );
        self.mode = Mode::Data(reader);
        Ok(smtp_proto::data_go_ahead())
    }

    /// Reads DATA content; false when more input is needed.
    fn data(&mut self, mut reader: DataReader) -> bool {
        loop {
            match reader.read(&mut self.input) {
                None => {
                    self.mode = Mode::Data(reader);
                    return false;
                }
                Some(DataEvent::TooBig) => self.note(Some(Notice::QueueFileTooBig)),
                Some(DataEvent::End) => break,
                Some(_) => {}
            }
        }
        let content = *reader.content();
        let ok = self.end_of_message(&content, smtp_proto::data_queued("QUEUEID"));
        if !ok {
            self.error_count += 1;
        }
        self.mode = Mode::Commands;
        true
    }

    /// Answers the end of a message; true when it was queued.
    fn end_of_message(&mut self, content: &Content, queued: Reply) -> bool {
        let ok = match content.error() {
            None => {
                self.error_count = 0;
                self.junk_cmds = 0;
                self.send(&queued);
                true
            }
            Some(error) => {
                self.send(&error.reply(self.config.bare_lf_code, &self.config.myhostname));
                false
            }
        };
        self.txn.reset();
        self.bdat = None;
        ok
    }

    fn bdat_command(&mut self, args: &[Token], line: &[u8]) -> bool {
        let cmd = match BdatCommand::parse(args, line, self.config.discard) {
            Ok(cmd) => cmd,
            Err(reject) => {
                self.mode = Mode::Closed;
                return !self.refuse(reject);
            }
        };
        let checked = self.txn.bdat_check(&cmd).and_then(|first| {
            let size = if first {
                0
            } else {
                self.bdat.as_ref().map_or(0, |r| r.content().size())
            };
            self.txn
                .bdat_size_check(&cmd, size, self.config.message_size_limit)
                .map(|()| first)
        });
        match checked {
            Err(reject) => {
                self.mode = Mode::Discard {
                    discard: Discard::new(&cmd),
                    reject,
                    last: cmd.last,
                };
            }
            Ok(first) => {
                if first {
                    self.bdat = Some(BdatReader::new(
                        self.config.line_length_limit,
                        self.config.message_size_limit,
                        self.bare_lf,
                    ));
                }
                self.txn.bdat_accept();
                if let Some(reader) = self.bdat.as_mut() {
                    reader.start_chunk(&cmd);
                }
                self.mode = Mode::Bdat { cmd };
            }
        }
        // The reply comes when the chunk has been read.
        true
    }

    /// Discards a refused chunk, then answers; false when more input is needed.
    fn discard(&mut self, mut discard: Discard, reject: Reject, last: bool) -> bool {
        if !discard.read(&mut self.input) {
            self.mode = Mode::Discard {
                discard,
                reject,
                last,
            };
            return false;
        }
        self.mode = Mode::Commands;
        if self.refuse(reject) {
            self.error_count += 1;
        }
        self.txn.bdat_discarded(last);
        if last {
            self.bdat = None;
        }
        true
    }

    /// Reads a BDAT chunk, then answers; false when more input is needed.
    fn bdat_chunk(&mut self, cmd: BdatCommand) -> bool {
        let Some(mut reader) = self.bdat.take() else {
            self.mode = Mode::Commands;
            return true;
        };
        loop {
            match reader.read(&mut self.input) {
                None => {
                    self.bdat = Some(reader);
                    self.mode = Mode::Bdat { cmd };
                    return false;
                }
                Some(BdatEvent::TooBig) => self.note(Some(Notice::QueueFileTooBig)),
                Some(BdatEvent::ChunkEnd) => break,
                Some(BdatEvent::Line { .. }) => {}
            }
        }
        self.mode = Mode::Commands;
        let content = *reader.content();
        if cmd.last {
            if !self.end_of_message(&content, smtp_proto::bdat_queued(&content, "QUEUEID")) {
                self.error_count += 1;
            }
        } else if !content.is_ok() {
            self.end_of_message(&content, Reply::new(""));
            self.txn.bdat_failed();
            self.error_count += 1;
        } else {
            self.send(&smtp_proto::bdat_chunk_ok(&cmd));
            self.bdat = Some(reader);
        }
        true
    }
}

/// The rewriting service's verdict as smtpd's `smtpd_check_addr()` uses it, for the
/// golden configuration: the address (carried bytes included) must be UTF-8, an address
/// literal must be valid, and a non-ASCII domain needs SMTPUTF8.
fn resolves(addr: &str, smtputf8: bool, verb: Verb, arg: &Token) -> Result<(), Reject> {
    let domain = addr.rsplit_once('@').map_or("", |(_, d)| d);
    let literal_ok =
        !domain.starts_with('[') || util::valid_hostname::valid_mailhost_literal(domain);
    let ok = addr.is_empty()
        || (util::eight_bit::is_utf8(addr) && literal_ok && (smtputf8 || domain.is_ascii()));
    if ok {
        Ok(())
    } else {
        Err(smtp_proto::unresolvable_address(verb, arg))
    }
}

/// `smtpd_forbidden_commands`' default: CONNECT GET POST and anything not starting with a
/// letter (`regexp:{{/^[^A-Z]/ Bogus}}`, case-insensitive).
fn forbidden(name: &[u8]) -> bool {
    ["CONNECT", "GET", "POST"]
        .iter()
        .any(|f| name.eq_ignore_ascii_case(f.as_bytes()))
        || !name.first().is_some_and(u8::is_ascii_alphabetic)
}
