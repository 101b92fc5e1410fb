//! The TLS policy of one server: the security level and what goes with it (names to
//! match, protocols, cipher grade, SNI), from main.cf and smtp_tls_policy_maps.
//!
//! Postfix counterpart: `smtp/smtp_tls_policy.c` (`policy_create()`,
//! `tls_policy_lookup()`, `tls_policy_lookup_one()`, `set_cipher_grade()`,
//! `dane_init()`, `global_tls_level()`). The table is searched by the next hop as the
//! request names it (`[host]:port`, `domain`), then, for a domain, by each parent
//! domain with a leading dot. A policy is a level followed by attributes; an error in
//! it makes the level invalid, and mail to that destination is deferred with `client
//! TLS configuration problem` without a connection. The results, errors too, are kept
//! for the life of the process, so each warning is logged once per process as in
//! Postfix.
//!
//! The dane and dane-only levels need DNSSEC-validated TLSA records ([`crate::dane`]),
//! so smtp_dns_support_level = dnssec (without it dane falls back to may with
//! Postfix's `dnssec lookups disabled` warning, and dane-only is invalid). With it, as
//! in Postfix's `dane_init()`: a server under an MX RRset that was not validated is
//! not a DANE destination unless smtp_tls_dane_insecure_mx_policy says dane (the
//! default when the global level is dane: its TLSA records then authenticate it, but
//! the session is only `Trusted`, "half-dane") or encrypt (then mandatory
//! unauthenticated TLS); a host without validated TLSA records is not either; one
//! whose records are all of usages DANE for SMTP ignores (PKIX-TA, PKIX-EE) gets
//! mandatory but unauthenticated TLS; one with usable records gets mandatory TLS
//! authenticated by them, SNI set to the host's name. Where the destination does not
//! qualify, dane becomes may (encrypt when the records were unusable) and dane-only
//! is invalid with the reason (`no TLSA records found`, `non DNSSEC destination`,
//! `TLSA records unusable`) as the deferral text. The fingerprint level takes its
//! fingerprints from `match=` (separated by `|`) or from
//! smtp_tls_fingerprint_cert_match.
//!
//! The obsolete smtp_tls_per_site table (`smtp_tls_list_init()`, `tls_site_lookup()`)
//! still works when smtp_tls_policy_maps is empty (else it is ignored, with Postfix's
//! warning): its NONE, MAY, MUST_NOPEERMATCH and MUST are looked up by the next hop
//! and, when it differs, by the server's name, and the stronger of the two applies,
//! except that NONE beats MAY and a MAY alone yields to a stronger global level. MUST
//! is level verify (smtp_tls_verify_cert_match), MUST_NOPEERMATCH level encrypt.

use crate::settings::TlsLevel;
use global::dsn_print::Dsn;
use params::decl::smtp::{
    LMTP_ENFORCE_TLS, LMTP_TLS_CAFILE, LMTP_TLS_LOGLEVEL, LMTP_TLS_SECURITY_LEVEL, LMTP_USE_TLS,
    SMTP_ENFORCE_TLS, SMTP_TLS_CAFILE, SMTP_TLS_LOGLEVEL, SMTP_TLS_SECURITY_LEVEL, SMTP_USE_TLS,
};
use params::decl::smtp_tls::*;
use params::{ConfigError, Param};
use std::cell::RefCell;
use std::collections::HashMap;

/// The level names Postfix knows (`tls_level_lookup()`), before per-destination
/// resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// none.
    None,
    /// may.
    May,
    /// encrypt.
    Encrypt,
    /// fingerprint.
    Fingerprint,
    /// dane.
    Dane,
    /// dane-only.
    DaneOnly,
    /// verify.
    Verify,
    /// secure.
    Secure,
}

impl Named {
    /// `tls_level_lookup()`; None for an unknown name.
    pub fn parse(name: &str) -> Option<Named> {
        Some(match name {
            "none" => Named::None,
            "may" => Named::May,
            "encrypt" => Named::Encrypt,
            "fingerprint" => Named::Fingerprint,
            "dane" => Named::Dane,
            "dane-only" => Named::DaneOnly,
            "verify" => Named::Verify,
            "secure" => Named::Secure,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Named::None => "none",
            Named::May => "may",
            Named::Encrypt => "encrypt",
            Named::Fingerprint => "fingerprint",
            Named::Dane => "dane",
            Named::DaneOnly => "dane-only",
            Named::Verify => "verify",
            Named::Secure => "secure",
        }
    }

    /// TLS is off below may (`*site_level < TLS_LEV_MAY`).
    fn enables_tls(self) -> bool {
        self != Named::None
    }
}

/// What the client does with one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The level.
    pub level: TlsLevel,
    /// The names the certificate must match (verify, secure).
    pub matches: Vec<String>,
    /// The protocol list.
    pub protocols: String,
    /// The cipher grade.
    pub grade: String,
    /// The cipher names and aliases left out (`set_cipher_grade()`).
    pub exclusions: String,
    /// smtp_tls_servername or the policy's servername=: empty, a name, `hostname` or
    /// `nexthop`.
    pub servername: String,
    /// At the DANE levels: the records OpenSSL would take, the base domain and the
    /// names to match.
    pub dane: Option<tls::Dane>,
    /// At the DANE levels: the records it would not take (warned about per connection).
    pub dane_unusable: Vec<tls::Tlsa>,
    /// Level dane for a server under an MX RRset that was not validated (Postfix's
    /// `TLS_LEV_HALF_DANE`): the records must match, the session is only `Trusted`.
    pub half_dane: bool,
}

impl Policy {
    /// The policy of a session that uses no TLS.
    pub fn plaintext() -> Policy {
        Policy {
            level: TlsLevel::None,
            matches: Vec::new(),
            protocols: String::new(),
            grade: String::new(),
            exclusions: String::new(),
            servername: String::new(),
            dane: None,
            dane_unusable: Vec::new(),
            half_dane: false,
        }
    }
}

impl Policy {
    /// The SNI name: smtp_tls_servername's `hostname` is the server's name, `nexthop`
    /// the next-hop domain (`tls_client_start()`).
    pub fn sni<'a>(&'a self, host: &'a str, nexthop: &'a str) -> &'a str {
        match self.servername.as_str() {
            "hostname" => host,
            "nexthop" => nexthop,
            name => name,
        }
    }

    /// What the handshake is to check, at `level` (the policy's, unless a retry
    /// lowered it). At the DANE levels the records that cannot be used are warned about
    /// (`tls_dane_enable()`), and with none usable dane becomes encrypt.
    pub fn props<'a>(
        &'a self,
        level: TlsLevel,
        peer: &'a str,
        host: &'a str,
        nexthop: &'a str,
        servername: &'a str,
    ) -> tls::StartProps<'a> {
        let mut level = match level {
            TlsLevel::Secure => tls::ClientLevel::Secure,
            TlsLevel::Verify => tls::ClientLevel::Verify,
            TlsLevel::DaneOnly => tls::ClientLevel::DaneOnly,
            TlsLevel::Dane if self.half_dane => tls::ClientLevel::HalfDane,
            TlsLevel::Dane => tls::ClientLevel::Dane,
            TlsLevel::Encrypt => tls::ClientLevel::Encrypt,
            TlsLevel::Fingerprint => tls::ClientLevel::Fingerprint,
            _ => tls::ClientLevel::May,
        };
        if let Some(dane) = &self.dane
            && matches!(
                level,
                tls::ClientLevel::HalfDane | tls::ClientLevel::Dane | tls::ClientLevel::DaneOnly
            )
        {
            for tlsa in &self.dane_unusable {
                log::msg_warn!("{}", tlsa.unusable_warning(peer));
            }
            if dane.tlsa.is_empty() {
                if level != tls::ClientLevel::DaneOnly {
                    log::msg_warn!(
                        "{peer}: all TLSA records unusable, fallback to unauthenticated TLS"
                    );
                    level = tls::ClientLevel::Encrypt;
                } else {
                    // Nothing can match: the certificate is not verified.
                    log::msg_warn!("{peer}: all TLSA records unusable");
                }
            }
        }
        tls::StartProps {
            level,
            peer,
            host,
            nexthop,
            matches: &self.matches,
            protocols: &self.protocols,
            cipher_grade: &self.grade,
            cipher_exclusions: &self.exclusions,
            servername,
            dane: self.dane.as_ref(),
            log_untrusted: self.dane.is_some(),
        }
    }
}

/// The main.cf side of the policies.
pub struct Config {
    /// The default level (`global_tls_level()`).
    pub global: Named,
    maps: Option<global::maps::Maps>,
    /// smtp_tls_per_site, when smtp_tls_policy_maps is empty.
    per_site: Option<global::maps::Maps>,
    /// smtp_tls_note_starttls_offer.
    note_offer: bool,
    verify_match: String,
    secure_match: String,
    fingerprints: String,
    protocols: String,
    mandatory_protocols: String,
    ciphers: String,
    mandatory_ciphers: String,
    exclude_ciphers: String,
    mandatory_exclude_ciphers: String,
    servername: String,
    servername_param: &'static str,
    dnssec: bool,
    /// smtp_tls_dane_insecure_mx_policy (may, encrypt or dane; none for LMTP).
    insecure_mx: Named,
    /// smtp_tls_loglevel 2 and up: the TLSA records found are logged.
    tls_verbose: bool,
    /// smtp_tls_force_insecure_host_tlsa_lookup.
    force_tlsa: bool,
    /// smtp_tls_wrappermode: TLS before the greeting.
    wrappermode: bool,
    /// The name of smtp_tls_wrappermode or its LMTP twin, and of the level parameter,
    /// for the warnings.
    wrapper_params: (&'static str, &'static str),
    /// helpful_warnings, for the port 465 note.
    helpful_warnings: bool,
    /// The TLSA answers of the process.
    tlsa_cache: crate::dane::Cache,
    /// The resolver for TLSA records, made at the first one (after the chroot).
    resolver: RefCell<Option<dns::Resolver>>,
    /// The policies found so far, by destination, server and port.
    cache: RefCell<HashMap<String, Result<Policy, Invalid>>>,
}

fn config_error(message: String) -> ConfigError {
    ConfigError {
        warnings: Vec::new(),
        message,
    }
}

/// An invalid policy (Postfix's `TLS_LEV_INVALID`); the reason was logged, or is the
/// deferral text with its status (a dane-only destination that is not a DANE one, a
/// smtp_tls_per_site lookup error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(Option<(&'static str, String)>);

impl Invalid {
    /// The deferral of mail for the destination: `client TLS configuration problem`,
    /// or the DANE reason.
    pub fn dsn(self) -> Dsn {
        match self.0 {
            Some((status, reason)) => Dsn::simple(status, &reason),
            None => Dsn::simple("4.7.5", "client TLS configuration problem"),
        }
    }

    fn with_reason(reason: String) -> Invalid {
        Invalid(Some(("4.7.5", reason)))
    }
}

fn invalid() -> Invalid {
    Invalid(None)
}
impl Config {
    /// Reads the policy parameters; a global level Postfix does not know is fatal, as
    /// in Postfix.
    pub fn from_config(config: &params::Config, lmtp: bool) -> Result<Config, ConfigError> {
        let pick = |smtp: &'static Param, lmtp_twin: &'static Param| {
            if lmtp { lmtp_twin } else { smtp }
        };
        let str = |s, l| config.str(pick(s, l));
        let bool = |s, l| config.bool(pick(s, l));
        let level = str(&SMTP_TLS_SECURITY_LEVEL, &LMTP_TLS_SECURITY_LEVEL)?;
        let global = match level.trim() {
            "" if bool(&SMTP_ENFORCE_TLS, &LMTP_ENFORCE_TLS)? => {
                if bool(&SMTP_TLS_ENFORCE_PEERNAME, &LMTP_TLS_ENFORCE_PEERNAME)? {
                    Named::Verify
                } else {
                    Named::Encrypt
                }
            }
            "" if bool(&SMTP_USE_TLS, &LMTP_USE_TLS)? => Named::May,
            "" => Named::None,
            name => Named::parse(name)
                .ok_or_else(|| config_error(format!("invalid tls security level: \"{name}\"")))?,
        };
        let maps_param = pick(&SMTP_TLS_POLICY_MAPS, &LMTP_TLS_POLICY_MAPS);
        let maps_text = config.str(maps_param)?;
        let maps = if maps_text.trim().is_empty() {
            None
        } else {
            Some(
                global::maps::Maps::new(maps_param.name, &maps_text, dict::Flags::default())
                    .map_err(|e| config_error(e.to_string()))?,
            )
        };
        // The obsolete table is read only without the new one (`smtp_tls_list_init()`).
        let per_site_param = pick(&SMTP_TLS_PER_SITE, &LMTP_TLS_PER_SITE);
        let per_site_text = config.str(per_site_param)?;
        let per_site = if per_site_text.trim().is_empty() {
            None
        } else if maps.is_some() {
            log::msg_warn!(
                "{} ignored when {} is not empty.",
                per_site_param.name,
                maps_param.name
            );
            None
        } else {
            Some(
                global::maps::Maps::new(
                    per_site_param.name,
                    &per_site_text,
                    dict::Flags::default(),
                )
                .map_err(|e| config_error(e.to_string()))?,
            )
        };
        let dns_level = str(&SMTP_DNS_SUPPORT_LEVEL, &LMTP_DNS_SUPPORT_LEVEL)?;
        // The DNS library's probe (dns_sec_probe()), asked when dnssec lookups see no
        // validated reply.
        dns::dnssec::set_probe(&config.str(&DNSSEC_PROBE)?);
        let insecure_mx = if lmtp {
            Named::None
        } else {
            let value = config.str(&SMTP_TLS_DANE_INSECURE_MX_POLICY)?;
            match Named::parse(value.trim()) {
                Some(level @ (Named::May | Named::Encrypt | Named::Dane)) => level,
                _ => {
                    return Err(config_error(format!(
                        "invalid {}: \"{value}\"",
                        SMTP_TLS_DANE_INSECURE_MX_POLICY.name
                    )));
                }
            }
        };
        // DANE needs DNS lookups of hosts, not only the C library's.
        let host_lookup = str(
            &params::decl::smtp::SMTP_HOST_LOOKUP,
            &params::decl::smtp::LMTP_HOST_LOOKUP,
        )?;
        let lookup_dns = host_lookup
            .split([',', ' ', '\t'])
            .any(|w| w.eq_ignore_ascii_case("dns"))
            || host_lookup.trim().is_empty();
        Ok(Config {
            global,
            maps,
            per_site,
            note_offer: bool(&SMTP_TLS_NOTE_STARTTLS_OFFER, &LMTP_TLS_NOTE_STARTTLS_OFFER)?,
            verify_match: str(&SMTP_TLS_VERIFY_CERT_MATCH, &LMTP_TLS_VERIFY_CERT_MATCH)?,
            secure_match: str(&SMTP_TLS_SECURE_CERT_MATCH, &LMTP_TLS_SECURE_CERT_MATCH)?,
            fingerprints: str(
                &SMTP_TLS_FINGERPRINT_CERT_MATCH,
                &LMTP_TLS_FINGERPRINT_CERT_MATCH,
            )?,
            protocols: str(&SMTP_TLS_PROTOCOLS, &LMTP_TLS_PROTOCOLS)?,
            mandatory_protocols: str(&SMTP_TLS_MANDATORY_PROTOCOLS, &LMTP_TLS_MANDATORY_PROTOCOLS)?,
            ciphers: str(&SMTP_TLS_CIPHERS, &LMTP_TLS_CIPHERS)?,
            mandatory_ciphers: str(&SMTP_TLS_MANDATORY_CIPHERS, &LMTP_TLS_MANDATORY_CIPHERS)?,
            exclude_ciphers: str(&SMTP_TLS_EXCLUDE_CIPHERS, &LMTP_TLS_EXCLUDE_CIPHERS)?,
            mandatory_exclude_ciphers: str(
                &SMTP_TLS_MANDATORY_EXCLUDE_CIPHERS,
                &LMTP_TLS_MANDATORY_EXCLUDE_CIPHERS,
            )?,
            servername: str(&SMTP_TLS_SERVERNAME, &LMTP_TLS_SERVERNAME)?,
            servername_param: pick(&SMTP_TLS_SERVERNAME, &LMTP_TLS_SERVERNAME).name,
            dnssec: lookup_dns && dns_level.trim().eq_ignore_ascii_case("dnssec"),
            insecure_mx,
            tls_verbose: config.int(pick(&SMTP_TLS_LOGLEVEL, &LMTP_TLS_LOGLEVEL))? >= 2,
            force_tlsa: bool(
                &SMTP_TLS_FORCE_INSECURE_HOST_TLSA_LOOKUP,
                &LMTP_TLS_FORCE_INSECURE_HOST_TLSA_LOOKUP,
            )?,
            wrappermode: bool(&SMTP_TLS_WRAPPERMODE, &LMTP_TLS_WRAPPERMODE)?,
            wrapper_params: (
                pick(&SMTP_TLS_WRAPPERMODE, &LMTP_TLS_WRAPPERMODE).name,
                pick(&SMTP_TLS_SECURITY_LEVEL, &LMTP_TLS_SECURITY_LEVEL).name,
            ),
            helpful_warnings: config.bool(&params::decl::debug::HELPFUL_WARNINGS)?,
            tlsa_cache: crate::dane::Cache::default(),
            resolver: RefCell::new(None),
            cache: RefCell::new(HashMap::new()),
        })
    }

    /// Whether the process needs a TLS engine: some level may use TLS (Postfix starts
    /// it for a global level above none or any policy table).
    pub fn wants_engine(&self) -> bool {
        self.global.enables_tls() || self.maps.is_some() || self.per_site.is_some()
    }

    /// The note of a STARTTLS offer left unused (smtp_tls_note_starttls_offer), for a
    /// server `host` that offered STARTTLS in its EHLO reply to a session at `level`
    /// (`smtp_helo()`).
    pub fn note_starttls_offer(&self, level: TlsLevel, host: &str) {
        if self.note_offer && level <= TlsLevel::None {
            log::msg_info!("Host offered STARTTLS: [{host}]");
        }
    }

    /// The engine, started from main.cf's CA and log settings; None (with Postfix's
    /// warnings logged) when it cannot start.
    pub fn engine(
        config: &params::Config,
        lmtp: bool,
    ) -> Result<Option<tls::ClientTls>, ConfigError> {
        let pick = |smtp: &'static Param, lmtp_twin: &'static Param| {
            if lmtp { lmtp_twin } else { smtp }
        };
        let digest_param = pick(&SMTP_TLS_FINGERPRINT_DIGEST, &LMTP_TLS_FINGERPRINT_DIGEST);
        let digest_name = config.str(digest_param)?;
        let Some(fingerprint_digest) = tls::Digest::by_name(&digest_name) else {
            log::msg_warn!("Digest algorithm \"{digest_name}\" not found");
            log::msg_warn!("{}: disabling TLS support", digest_param.name);
            return Ok(None);
        };
        let settings = tls::ClientSettings {
            ca_file: config.str(pick(&SMTP_TLS_CAFILE, &LMTP_TLS_CAFILE))?,
            ca_path: config.str(pick(&SMTP_TLS_CAPATH, &LMTP_TLS_CAPATH))?,
            loglevel: config.int(pick(&SMTP_TLS_LOGLEVEL, &LMTP_TLS_LOGLEVEL))? as i32,
            fingerprint_digest,
            cipher_lists: tls::ciphers::CipherLists {
                high: config.str(&params::decl::tls::TLS_HIGH_CIPHERLIST)?,
                medium: config.str(&params::decl::tls::TLS_MEDIUM_CIPHERLIST)?,
                low: config.str(&params::decl::tls::TLS_LOW_CIPHERLIST)?,
                export: config.str(&params::decl::tls::TLS_EXPORT_CIPHERLIST)?,
                null: config.str(&params::decl::tls::TLS_NULL_CIPHERLIST)?,
            },
            certs: tls::CertKeyFiles {
                chain_files: config
                    .str(pick(&SMTP_TLS_CHAIN_FILES, &LMTP_TLS_CHAIN_FILES))?
                    .split([',', ' ', '\t', '\r', '\n'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect(),
                cert_file: config.str(pick(&SMTP_TLS_CERT_FILE, &LMTP_TLS_CERT_FILE))?,
                key_file: config.str(pick(&SMTP_TLS_KEY_FILE, &LMTP_TLS_KEY_FILE))?,
                eccert_file: config.str(pick(&SMTP_TLS_ECCERT_FILE, &LMTP_TLS_ECCERT_FILE))?,
                eckey_file: config.str(pick(&SMTP_TLS_ECKEY_FILE, &LMTP_TLS_ECKEY_FILE))?,
            },
            dcert_file: config.str(pick(&SMTP_TLS_DCERT_FILE, &LMTP_TLS_DCERT_FILE))?,
            dkey_file: config.str(pick(&SMTP_TLS_DKEY_FILE, &LMTP_TLS_DKEY_FILE))?,
        };
        Ok(tls::ClientTls::new(&settings, &mut |severity, text| {
            log::write(severity, text)
        }))
    }

    /// Whether smtp_tls_wrappermode is on: TLS starts at once, before the greeting.
    pub fn wrappermode(&self) -> bool {
        self.wrappermode
    }

    /// In wrapper mode a server whose policy asks for less than encrypt is skipped
    /// with Postfix's warning (`smtp_connect_inet()`): false for such a policy.
    pub fn wrapper_allows(&self, policy: &Policy) -> bool {
        if !self.wrappermode || policy.level >= TlsLevel::Encrypt {
            return true;
        }
        let (wrapper, level) = self.wrapper_params;
        log::msg_warn!("{wrapper} requires \"{level} = encrypt\" (or stronger)");
        false
    }

    /// The note Postfix logs for a next hop on port 465 without wrapper mode (with
    /// helpful_warnings).
    pub fn note_port_465(&self, port: u16) {
        if self.helpful_warnings && !self.wrappermode && port == 465 {
            let (wrapper, level) = self.wrapper_params;
            log::msg_info!(
                "SMTPS wrappermode (TCP port 465) requires setting \"{wrapper} = yes\", and \"{level} = encrypt\" (or stronger)"
            );
        }
    }

    /// Whether smtp_dns_support_level is dnssec (with DNS host lookups): every lookup
    /// then asks for DNSSEC validation.
    pub fn dnssec(&self) -> bool {
        self.dnssec
    }

    /// Whether the addresses of MX hosts are looked up with DNSSEC even under an MX
    /// RRset that was not validated (smtp_tls_dane_insecure_mx_policy above may).
    pub fn insecure_mx_dnssec(&self) -> bool {
        matches!(self.insecure_mx, Named::Encrypt | Named::Dane)
    }

    /// The policy for server `host` of next hop `dest` (as the request names it) on
    /// `port` (None for a UNIX-domain socket), once per process
    /// (`smtp_tls_policy_cache_query()`); Err when invalid.
    pub fn query(&self, dest: &str, host: &str, port: Option<u16>) -> Result<Policy, Invalid> {
        self.query_server(dest, host, port, &Server::default())
    }

    /// [`Config::query`] for a server found in DNS: `server` says whether its MX and
    /// address records were validated, for the DANE levels.
    pub fn query_server(
        &self,
        dest: &str,
        host: &str,
        port: Option<u16>,
        server: &Server<'_>,
    ) -> Result<Policy, Invalid> {
        let key = format!("{dest}:{host}:{}", port.unwrap_or(0));
        if let Some(found) = self.cache.borrow().get(&key) {
            return found.clone();
        }
        let policy = self.create(dest, host, port, server);
        self.cache.borrow_mut().insert(key, policy.clone());
        policy
    }

    /// `policy_create()`.
    fn create(
        &self,
        dest: &str,
        host: &str,
        port: Option<u16>,
        server: &Server<'_>,
    ) -> Result<Policy, Invalid> {
        let mut found = Found::default();
        let mut level = self.global;
        if let Some(maps) = &self.maps {
            found = self.lookup(maps, dest)?;
            if let Some(site) = found.level {
                level = site;
            }
        } else if let Some(per_site) = &self.per_site {
            level = self.site_level(per_site, dest, host)?;
        }
        let mut dane = None;
        let mut half_dane = false;
        let level = match level {
            Named::Dane | Named::DaneOnly => {
                let (level, found) = self.dane_init(level, dest, port, server)?;
                if let Some((found, half)) = found {
                    dane = Some(found);
                    half_dane = half;
                }
                level
            }
            other => other,
        };
        if log::verbose() > 0 && level != self.global {
            log::msg_info!("effective TLS level: {}", level.name());
        }
        let resolved = match level {
            Named::None => return Ok(Policy::plaintext()),
            Named::May => TlsLevel::May,
            Named::Encrypt => TlsLevel::Encrypt,
            Named::Fingerprint => TlsLevel::Fingerprint,
            Named::Verify => TlsLevel::Verify,
            Named::Secure => TlsLevel::Secure,
            Named::Dane => TlsLevel::Dane,
            Named::DaneOnly => TlsLevel::DaneOnly,
        };
        let servername = match found.servername {
            // Per RFC 7672 the SNI name is the TLSA base domain.
            _ if dane.is_some() => dane
                .as_ref()
                .map(|d: &tls::Dane| d.base_domain.clone())
                .unwrap_or_default(),
            Some(name) => name,
            None if self.servername.is_empty()
                || util::valid_hostname::valid_hostname(&self.servername) =>
            {
                self.servername.clone()
            }
            None => {
                log::msg_warn!(
                    "\"{} = {}\" specifies an invalid hostname",
                    self.servername_param,
                    self.servername
                );
                return Err(invalid());
            }
        };
        let may = resolved == TlsLevel::May;
        let matches = match resolved {
            TlsLevel::Verify | TlsLevel::Secure => found.matches.unwrap_or_else(|| {
                let list = if resolved == TlsLevel::Verify {
                    &self.verify_match
                } else {
                    &self.secure_match
                };
                list.split([',', ' ', '\t', '\r', '\n', ':'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
            TlsLevel::Fingerprint => {
                let list = found.matches.unwrap_or_else(|| {
                    self.fingerprints
                        .split([',', ' ', '\t', '\r', '\n'])
                        .filter(|w| !w.is_empty())
                        .map(str::to_string)
                        .collect()
                });
                if list.is_empty() {
                    log::msg_warn!(
                        "nexthop domain {dest}: configured at fingerprint security level, but with no fingerprints to match."
                    );
                    return Err(invalid());
                }
                list
            }
            _ => Vec::new(),
        };
        let exclusions = self.exclusions(resolved, found.exclude);
        Ok(Policy {
            level: resolved,
            exclusions,
            matches,
            protocols: found.protocols.unwrap_or_else(|| {
                if may {
                    self.protocols.clone()
                } else {
                    self.mandatory_protocols.clone()
                }
            }),
            grade: found.grade.unwrap_or_else(|| {
                if may {
                    self.ciphers.clone()
                } else {
                    self.mandatory_ciphers.clone()
                }
            }),
            servername,
            dane_unusable: dane
                .as_ref()
                .map(|d: &tls::Dane| d.split_usable().1)
                .unwrap_or_default(),
            dane: dane.map(|d| d.split_usable().0),
            half_dane,
        })
    }

    /// `set_cipher_grade()`'s exclusions: the policy's exclude= or else
    /// smtp_tls_exclude_ciphers and, where TLS is required,
    /// smtp_tls_mandatory_exclude_ciphers; then eNULL at level encrypt and aNULL where
    /// the certificate is checked.
    fn exclusions(&self, level: TlsLevel, exclude: Option<String>) -> String {
        let (mandatory, also) = match level {
            TlsLevel::Invalid | TlsLevel::None | TlsLevel::May => ("", ""),
            TlsLevel::Encrypt => (self.mandatory_exclude_ciphers.as_str(), "eNULL"),
            _ => (self.mandatory_exclude_ciphers.as_str(), "aNULL"),
        };
        let mut out = exclude.unwrap_or_else(|| {
            [self.exclude_ciphers.as_str(), mandatory]
                .into_iter()
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        });
        if !also.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(also);
        }
        out
    }

    /// The level smtp_tls_per_site gives the next hop `dest` and its server `host`
    /// (`policy_create()` with `tls_site_lookup()`).
    fn site_level(
        &self,
        per_site: &global::maps::Maps,
        dest: &str,
        host: &str,
    ) -> Result<Named, Invalid> {
        let mut site = site_lookup(per_site, None, dest, "next-hop destination")?;
        if !dest.eq_ignore_ascii_case(host) {
            site = site_lookup(per_site, site, host, "server hostname")?;
        }
        // A MAY (a wildcard, as the old TLS patch meant it) yields to a stronger
        // global level; every other entry is specific and wins over the global one.
        Ok(match site {
            Some(Named::May) if rank(self.global) > rank(Named::May) => self.global,
            Some(level) => level,
            None => self.global,
        })
    }

    /// `tls_policy_lookup()`: the next hop, then (for a domain) its parent domains.
    fn lookup(&self, maps: &global::maps::Maps, dest: &str) -> Result<Found, Invalid> {
        if !util::valid_hostname::valid_hostname(dest) {
            return self.lookup_one(maps, dest);
        }
        let mut name = dest;
        loop {
            let found = self.lookup_one(maps, name)?;
            if found.level.is_some() {
                return Ok(found);
            }
            match name[1..].find('.') {
                Some(at) => name = &name[at + 1..],
                None => return Ok(found),
            }
        }
    }

    /// `tls_policy_lookup_one()`: one key's policy, with Postfix's warnings.
    fn lookup_one(&self, maps: &global::maps::Maps, name: &str) -> Result<Found, Invalid> {
        let whence = format!("{}, next-hop destination \"{name}\"", maps.title());
        let policy = match maps.find(name, false) {
            Ok(Some(policy)) => policy,
            Ok(None) => return Ok(Found::default()),
            Err(_) => {
                log::msg_warn!("{whence}: policy table lookup error");
                return Err(invalid());
            }
        };
        let mut tokens = policy
            .split([',', ' ', '\t', '\r', '\n'])
            .filter(|t| !t.is_empty());
        let Some(first) = tokens.next() else {
            log::msg_warn!("{whence}: invalid empty policy");
            return Err(invalid());
        };
        let Some(level) = Named::parse(first) else {
            log::msg_warn!("{whence}: invalid security level \"{first}\"");
            return Err(invalid());
        };
        let mut found = Found {
            level: Some(level),
            ..Found::default()
        };
        if !level.enables_tls() {
            for token in tokens {
                log::msg_warn!("{whence}: ignoring attribute \"{token}\" with TLS disabled");
            }
            return Ok(found);
        }
        for token in tokens {
            let Some((name, value)) = split_nameval(token) else {
                let why = if token.starts_with('=') {
                    "missing attribute name"
                } else {
                    "missing '=' after attribute name"
                };
                log::msg_warn!("{whence}: malformed attribute/value pair \"{token}\": {why}");
                return Err(invalid());
            };
            let once = |slot: &Option<_>| {
                if slot.is_some() {
                    log::msg_warn!("{whence}: attribute \"{name}\" is specified multiple times");
                    return Err(invalid());
                }
                Ok(())
            };
            let nonempty = || {
                if value.is_empty() {
                    log::msg_warn!("{whence}: attribute \"{name}\" has empty value");
                    return Err(invalid());
                }
                Ok(())
            };
            match name.to_ascii_lowercase().as_str() {
                "ciphers" => {
                    nonempty()?;
                    once(&found.grade)?;
                    found.grade = Some(value.to_string());
                }
                "protocols" => {
                    once(&found.protocols)?;
                    found.protocols = Some(value.to_string());
                }
                "servername" => {
                    once(&found.servername)?;
                    if !util::valid_hostname::valid_hostname(value) {
                        log::msg_warn!(
                            "{whence}: \"{name}={value}\" specifies an invalid hostname"
                        );
                        return Err(invalid());
                    }
                    found.servername = Some(value.to_string());
                }
                "match" => {
                    nonempty()?;
                    let separator = match level {
                        Named::Verify | Named::Secure => ':',
                        Named::Fingerprint => '|',
                        _ => '\0',
                    };
                    if separator == '\0' {
                        log::msg_warn!(
                            "{whence}: attribute \"{name}\" invalid at security level \"{}\"",
                            level.name()
                        );
                        return Err(invalid());
                    }
                    found
                        .matches
                        .get_or_insert_with(Vec::new)
                        .extend(value.split(separator).map(str::to_string));
                }
                "exclude" => {
                    once(&found.exclude)?;
                    found.exclude = Some(value.to_string());
                }
                "connection_reuse" => {
                    if !value.eq_ignore_ascii_case("yes") && !value.eq_ignore_ascii_case("no") {
                        log::msg_warn!("{whence}: attribute \"{name}\" has bad value: \"{value}\"");
                        return Err(invalid());
                    }
                }
                _ => {
                    log::msg_warn!("{whence}: invalid attribute name: \"{name}\"");
                    return Err(invalid());
                }
            }
        }
        Ok(found)
    }

    /// `dane_init()`: the level dane and dane-only come to for this server, with the
    /// records when DANE applies (and whether it is half-dane); Err (invalid, the
    /// reason logged or to be the deferral text) where Postfix marks the policy invalid.
    fn dane_init(
        &self,
        level: Named,
        dest: &str,
        port: Option<u16>,
        server: &Server<'_>,
    ) -> Result<(Named, Option<(tls::Dane, bool)>), Invalid> {
        let Some(port) = port else {
            log::msg_warn!(
                "{dest}: the \"dane\" security level is invalid for delivery via unix-domain sockets"
            );
            return Err(invalid());
        };
        let name = level.name();
        if !self.dnssec {
            let why = format!("{dest}: {name} configured with dnssec lookups disabled");
            return dane_incompat(level, Incompat::Config, why).map(|l| (l, None));
        }
        let insecure_mx = server.mx.is_some_and(|mx| !mx.dnssec_valid);
        if insecure_mx
            && (level == Named::DaneOnly || matches!(self.insecure_mx, Named::None | Named::May))
        {
            let why = "non DNSSEC destination".to_string();
            return dane_incompat(level, Incompat::Dest, why).map(|l| (l, None));
        }
        let Some(host_rr) = server.rr else {
            let why = "no TLSA records found".to_string();
            return dane_incompat(level, Incompat::Dest, why).map(|l| (l, None));
        };
        let mut resolver = self.resolver.borrow_mut();
        let resolver = resolver.get_or_insert_with(dns::Resolver::system);
        let (base_domain, tlsa) = match crate::dane::resolve(
            &self.tlsa_cache,
            resolver,
            port,
            host_rr,
            self.force_tlsa,
            self.tls_verbose,
        ) {
            crate::dane::Found::Error => {
                return Err(Invalid::with_reason(format!(
                    "TLSA lookup error for {}:{port}",
                    server.host
                )));
            }
            crate::dane::Found::None => {
                let why = "no TLSA records found".to_string();
                return dane_incompat(level, Incompat::Dest, why).map(|l| (l, None));
            }
            crate::dane::Found::Unusable => {
                let why = "TLSA records unusable".to_string();
                return dane_incompat(level, Incompat::CantAuth, why).map(|l| (l, None));
            }
            crate::dane::Found::Records(base, tlsa) => (base, tlsa),
        };
        let mut half_dane = false;
        if insecure_mx {
            if self.insecure_mx == Named::Encrypt {
                let why = "Verification not possible, MX RRset is insecure".to_string();
                return dane_incompat(level, Incompat::CantAuth, why).map(|l| (l, None));
            }
            half_dane = true;
        }
        // With DANE trust anchors the names to match are the base domain and the MX
        // record's names (owner after CNAMEs, then the name asked).
        let mut names = vec![base_domain.clone()];
        if let Some(mx) = server.mx {
            let qname = mx.qname.trim_end_matches('.');
            let rname = mx.rname.trim_end_matches('.');
            if !rname.eq_ignore_ascii_case(qname) {
                names.push(rname.to_string());
            }
            names.push(qname.to_string());
        }
        Ok((
            level,
            Some((
                tls::Dane {
                    base_domain,
                    tlsa,
                    names,
                },
                half_dane,
            )),
        ))
    }
}

/// The order of Postfix's `TLS_LEV_*` numbers, which the per-site precedence compares.
fn rank(level: Named) -> i32 {
    match level {
        Named::None => 0,
        Named::May => 1,
        Named::Encrypt => 2,
        Named::Fingerprint => 3,
        Named::Dane => 5,
        Named::DaneOnly => 6,
        Named::Verify => 7,
        Named::Secure => 8,
    }
}

/// `tls_site_lookup()`: `site` (None: nothing found yet) combined with the entry for
/// `name`. NONE beats MAY and nothing; MAY beats only nothing; MUST_NOPEERMATCH and
/// MUST raise the level to encrypt and verify. Another value makes the policy invalid,
/// a lookup error defers the mail.
fn site_lookup(
    per_site: &global::maps::Maps,
    site: Option<Named>,
    name: &str,
    class: &str,
) -> Result<Option<Named>, Invalid> {
    let at_least = |floor: Named| match site {
        Some(level) if rank(level) >= rank(floor) => Some(level),
        _ => Some(floor),
    };
    let value = match per_site.find(name, false) {
        Ok(Some(value)) => value,
        Ok(None) => return Ok(site),
        Err(_) => {
            log::msg_warn!(
                "{}: {class} \"{name}\": per-site table lookup error",
                per_site.title()
            );
            return Err(Invalid(Some(("4.3.0", "Temporary lookup error".into()))));
        }
    };
    Ok(match value.to_ascii_uppercase().as_str() {
        "NONE" if site.is_none_or(|l| rank(l) <= rank(Named::May)) => Some(Named::None),
        "NONE" => site,
        "MAY" => site.or(Some(Named::May)),
        "MUST_NOPEERMATCH" => at_least(Named::Encrypt),
        "MUST" => at_least(Named::Verify),
        _ => {
            log::msg_warn!(
                "{}: unknown TLS policy '{value}' for {class} {name}",
                per_site.title()
            );
            return Err(invalid());
        }
    })
}

/// Whose fault it is that DANE does not apply (Postfix's `NONDANE_CONFIG`,
/// `NONDANE_DEST`, `DANE_CANTAUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Incompat {
    /// The administrator's: warned about.
    Config,
    /// The destination's, which is not a DANE one.
    Dest,
    /// The destination's, whose records cannot authenticate it.
    CantAuth,
}

/// `dane_incompat()`: dane becomes may (encrypt for unusable records), logging `why` as
/// a warning for a configuration problem and at verbose level otherwise; dane-only is
/// invalid, `why` its deferral reason (or, for a configuration problem, a warning and
/// the usual `client TLS configuration problem`).
fn dane_incompat(level: Named, kind: Incompat, why: String) -> Result<Named, Invalid> {
    if level == Named::Dane {
        if kind == Incompat::Config {
            log::msg_warn!("{why}");
        } else if log::verbose() > 0 {
            log::msg_info!("{why}");
        }
        return Ok(if kind == Incompat::CantAuth {
            Named::Encrypt
        } else {
            Named::May
        });
    }
    if kind == Incompat::Config {
        log::msg_warn!("{why}");
        return Err(invalid());
    }
    Err(Invalid::with_reason(why))
}

/// What DNS said about one server, for the DANE levels (Postfix's `SMTP_ITERATOR`'s
/// `mx` and `rr`).
#[derive(Debug, Default)]
pub struct Server<'a> {
    /// The server's name.
    pub host: &'a str,
    /// The best MX record of the next hop, when it has MX records.
    pub mx: Option<&'a dns::Rr>,
    /// The server's address record.
    pub rr: Option<&'a dns::Rr>,
}

/// What a policy table entry set.
#[derive(Debug, Default)]
struct Found {
    level: Option<Named>,
    matches: Option<Vec<String>>,
    protocols: Option<String>,
    grade: Option<String>,
    servername: Option<String>,
    exclude: Option<String>,
}

/// `split_nameval()`: `name=value`, the name not empty.
fn split_nameval(token: &str) -> Option<(&str, &str)> {
    let (name, value) = token.split_once('=')?;
    (!name.is_empty()).then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(policies: &str) -> (Config, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "smtp-tls-policy-{}-{}",
            std::process::id(),
            policies.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let table = dir.join("policy");
        std::fs::write(&table, policies).unwrap();
        let maps = global::maps::Maps::new(
            "smtp_tls_policy_maps",
            &format!("texthash:{}", table.display()),
            dict::Flags::default(),
        )
        .unwrap();
        let config = Config {
            global: Named::May,
            maps: Some(maps),
            per_site: None,
            note_offer: false,
            verify_match: "hostname".into(),
            secure_match: "nexthop, dot-nexthop".into(),
            fingerprints: String::new(),
            protocols: ">=TLSv1".into(),
            mandatory_protocols: ">=TLSv1.2".into(),
            ciphers: "medium".into(),
            mandatory_ciphers: "high".into(),
            exclude_ciphers: "RC4".into(),
            mandatory_exclude_ciphers: "AES256".into(),
            servername: String::new(),
            servername_param: "smtp_tls_servername",
            dnssec: false,
            insecure_mx: Named::May,
            tls_verbose: false,
            force_tlsa: false,
            wrappermode: false,
            wrapper_params: ("smtp_tls_wrappermode", "smtp_tls_security_level"),
            helpful_warnings: true,
            tlsa_cache: crate::dane::Cache::default(),
            resolver: RefCell::new(None),
            cache: RefCell::new(HashMap::new()),
        };
        (config, dir)
    }

    #[test]
    fn parent_domains_and_attributes() {
        let (config, dir) = config(
            ".example.com secure match=nexthop:.example.net protocols=>=TLSv1.3\n\
             [10.0.0.1]:25 none\n\
             bad.example verify match=a bogus=1\n\
             enc.example encrypt match=x\n\
             fpt.example fingerprint match=AA:BB|cc:dd\n\
             nofpt.example fingerprint\n",
        );
        let sub = config
            .query("mx.example.com", "mx.example.com", Some(25))
            .unwrap();
        assert_eq!(sub.level, TlsLevel::Secure);
        assert_eq!(sub.matches, ["nexthop", ".example.net"]);
        assert_eq!(sub.protocols, ">=TLSv1.3");
        assert_eq!(sub.grade, "high");
        assert_eq!(sub.exclusions, "RC4 AES256 aNULL");
        // The domain itself is not a parent of itself with a leading dot.
        let top = config
            .query("example.com", "example.com", Some(25))
            .unwrap();
        assert_eq!(top.level, TlsLevel::May);
        assert_eq!(top.protocols, ">=TLSv1");
        assert_eq!(top.exclusions, "RC4");
        let none = config.query("[10.0.0.1]:25", "10.0.0.1", Some(25)).unwrap();
        assert_eq!(none.level, TlsLevel::None);
        assert!(
            config
                .query("bad.example", "bad.example", Some(25))
                .is_err()
        );
        assert!(
            config
                .query("enc.example", "enc.example", Some(25))
                .is_err()
        );
        let fpt = config
            .query("fpt.example", "fpt.example", Some(25))
            .unwrap();
        assert_eq!(fpt.level, TlsLevel::Fingerprint);
        assert_eq!(fpt.matches, ["AA:BB", "cc:dd"]);
        assert!(
            config
                .query("nofpt.example", "nofpt.example", Some(25))
                .is_err()
        );
        let none = Server::default();
        let dane = config.dane_init(Named::Dane, "d.example", Some(25), &none);
        assert_eq!(dane, Ok((Named::May, None)));
        let dane_only = config.dane_init(Named::DaneOnly, "d.example", Some(25), &none);
        assert_eq!(
            dane_only.unwrap_err().dsn().reason,
            "client TLS configuration problem"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// smtp_tls_per_site: the next hop's entry and the server's, their precedence,
    /// and the global level over a MAY.
    #[test]
    fn per_site_levels() {
        // Its own directory: the table's text makes the name.
        let (mut config, dir) = config("# per site\n");
        let table = dir.join("per_site");
        std::fs::write(
            &table,
            "[10.0.0.1]:25 MUST\n\
             a.example may\n\
             mx.a.example NONE\n\
             b.example MUST_NOPEERMATCH\n\
             mx.b.example must\n\
             c.example MAY\n\
             d.example NONE\n\
             e.example SOMETIMES\n",
        )
        .unwrap();
        config.maps = None;
        config.per_site = Some(
            global::maps::Maps::new(
                "smtp_tls_per_site",
                &format!("texthash:{}", table.display()),
                dict::Flags::default(),
            )
            .unwrap(),
        );
        let level = |config: &Config, dest: &str, host: &str| {
            config.query(dest, host, Some(25)).map(|p| p.level)
        };
        // MUST is verify, with the verify names.
        let must = config.query("[10.0.0.1]:25", "10.0.0.1", Some(25)).unwrap();
        assert_eq!(must.level, TlsLevel::Verify);
        assert_eq!(must.matches, ["hostname"]);
        // NONE for the server beats MAY for the next hop; MUST beats MUST_NOPEERMATCH.
        for (dest, host, want) in [
            ("a.example", "mx.a.example", TlsLevel::None),
            ("a.example", "mx2.a.example", TlsLevel::May),
            ("b.example", "mx.b.example", TlsLevel::Verify),
            ("b.example", "B.example", TlsLevel::Encrypt),
            ("x.example", "mx.b.example", TlsLevel::Verify),
            // Nothing found: the global level.
            ("x.example", "x.example", TlsLevel::May),
        ] {
            assert_eq!(level(&config, dest, host), Ok(want), "{dest} {host}");
        }
        let reason = config
            .query("e.example", "e.example", Some(25))
            .unwrap_err()
            .dsn()
            .reason;
        assert_eq!(reason, "client TLS configuration problem");
        // A MAY yields to a stronger global level, a NONE does not.
        config.global = Named::Encrypt;
        config.cache.borrow_mut().clear();
        assert_eq!(
            level(&config, "c.example", "c.example"),
            Ok(TlsLevel::Encrypt)
        );
        assert_eq!(level(&config, "d.example", "d.example"), Ok(TlsLevel::None));
        assert_eq!(
            level(&config, "x.example", "x.example"),
            Ok(TlsLevel::Encrypt)
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// `dane_init()` with DNSSEC lookups: what an MX RRset or a host that was not
    /// validated makes of dane and dane-only (no TLSA lookup is needed for those).
    #[test]
    fn dane_without_validated_records() {
        let (mut config, dir) = config("");
        config.dnssec = true;
        let rr = |data, valid| dns::Rr {
            qname: "mx.d.example".into(),
            rname: "mx.d.example".into(),
            ttl: 60,
            pref: 10,
            dnssec_valid: valid,
            data,
        };
        let mx = rr(dns::RrData::Mx("mx.d.example".into()), false);
        let addr = rr(dns::RrData::A("127.0.0.1".parse().unwrap()), false);
        let insecure_mx = Server {
            host: "mx.d.example",
            mx: Some(&mx),
            rr: Some(&addr),
        };
        let reason =
            |r: Result<(Named, Option<(tls::Dane, bool)>), Invalid>| r.unwrap_err().dsn().reason;
        assert_eq!(
            config.dane_init(Named::Dane, "d.example", Some(25), &insecure_mx),
            Ok((Named::May, None))
        );
        assert_eq!(
            reason(config.dane_init(Named::DaneOnly, "d.example", Some(25), &insecure_mx)),
            "non DNSSEC destination"
        );
        let insecure_host = Server {
            host: "mx.d.example",
            mx: None,
            rr: Some(&addr),
        };
        assert_eq!(
            reason(config.dane_init(Named::DaneOnly, "d.example", Some(25), &insecure_host)),
            "no TLSA records found"
        );
        assert!(
            config
                .dane_init(Named::Dane, "d.example", None, &insecure_host)
                .is_err()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
