//! Cipher grades and exclusions (smtp_tls_ciphers, smtp_tls_mandatory_ciphers,
//! smtp_tls_exclude_ciphers, smtp_tls_mandatory_exclude_ciphers, the policy table's
//! `ciphers=` and `exclude=`, and tls_{high,medium,low,export,null}_cipherlist) applied to
//! rustls's cipher suites.
//!
//! Postfix counterpart: `tls_set_ciphers()` and `tls_cipher_grade()` in `tls/tls_misc.c`,
//! which build an OpenSSL cipher string (the grade's list, then `:!word` for each
//! exclusion) and hand it to `SSL_set_cipher_list()`. OpenSSL's rules for that string
//! (`ssl_create_cipher_list()`: words joined by `+` select the ciphers with all those
//! properties; no prefix adds them at the end, `+` moves them to the end, `-` removes
//! them for now, `!` for good; `@STRENGTH` sorts by key size) are applied here to the
//! suites rustls has, in OpenSSL's own starting order.
//!
//! What collapses: rustls has only ECDHE suites with AES-GCM or ChaCha20-Poly1305, every
//! one of OpenSSL's grade HIGH. The grades high, medium, low and export therefore select
//! the same six TLS 1.2 suites (OpenSSL's lists hold more, weaker ones rustls lacks), and
//! null, which asks for unencrypted suites, selects none. As in OpenSSL, the cipher
//! string does not touch TLS 1.3: its three suites are always offered, in OpenSSL's
//! default order. Words for what rustls lacks (DHE, CBC, RC4, CAMELLIA, ...) select
//! nothing, so excluding them changes nothing, as excluding them changes nothing
//! that rustls could have negotiated.

use rustls::SupportedCipherSuite;
use rustls::crypto::ring::cipher_suite as cs;

/// The grade lists, tls_high_cipherlist and its siblings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherLists {
    /// tls_high_cipherlist.
    pub high: String,
    /// tls_medium_cipherlist.
    pub medium: String,
    /// tls_low_cipherlist.
    pub low: String,
    /// tls_export_cipherlist.
    pub export: String,
    /// tls_null_cipherlist.
    pub null: String,
}

impl Default for CipherLists {
    /// Postfix 3.7's defaults.
    fn default() -> CipherLists {
        CipherLists {
            high: "aNULL:-aNULL:HIGH:@STRENGTH".into(),
            medium: "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH".into(),
            low: "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH".into(),
            export: "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH".into(),
            null: "eNULL:!aNULL".into(),
        }
    }
}

/// Why a grade and its exclusions cannot be used: Postfix's warning after `host[addr]:
/// ` (`tls_set_ciphers()`); the TLS session is then not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherError(pub String);

impl std::fmt::Display for CipherError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `tls_set_ciphers()`: the OpenSSL cipher string for `grade` (high, medium, low, export
/// or null, any case) less each word of `exclusions` (separated by commas, colons or
/// white space).
pub fn cipher_list(
    lists: &CipherLists,
    grade: &str,
    exclusions: &str,
) -> Result<String, CipherError> {
    let mut out = match grade.to_ascii_lowercase().as_str() {
        "high" => lists.high.clone(),
        "medium" => lists.medium.clone(),
        "low" => lists.low.clone(),
        "export" => lists.export.clone(),
        "null" => lists.null.clone(),
        _ => return Err(CipherError(format!("invalid cipher grade: \"{grade}\""))),
    };
    for word in exclusions
        .split([',', ' ', '\t', '\r', '\n', ':'])
        .filter(|w| !w.is_empty())
    {
        if word.starts_with(['!', '+', '-', '@']) {
            return Err(CipherError(format!(
                "invalid unary '!+-@' in cipher exclusion: {word}"
            )));
        }
        out.push_str(":!");
        out.push_str(word);
    }
    Ok(out)
}

// The properties OpenSSL's aliases test (a subset of its SSL_k*, SSL_a*, SSL_enc and
// strength masks: the ones some rustls suite has, or that name a whole class).
const K_ECDHE: u32 = 1 << 0;
const A_RSA: u32 = 1 << 1;
const A_ECDSA: u32 = 1 << 2;
const AES128GCM: u32 = 1 << 3;
const AES256GCM: u32 = 1 << 4;
const CHACHA20: u32 = 1 << 5;
const HIGH: u32 = 1 << 6;
const FIPS: u32 = 1 << 7;
const TLS12: u32 = 1 << 8;
/// A property no rustls suite has (eNULL, aNULL, kRSA, DHE, MEDIUM, ...; SHA256,
/// SHA384 and AEAD name MACs, and OpenSSL's AEAD suites have none of them).
const NONE: u32 = 1 << 31;

/// A TLS 1.2 suite of rustls with its OpenSSL name, properties and strength bits, in
/// the order OpenSSL's list starts from (`ssl_create_cipher_list()`: ECDHE first,
/// AES-GCM then ChaCha20 then the rest, sorted by strength, ECDSA before RSA).
const TLS12_SUITES: [(&str, u32, u32); 6] = [
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        K_ECDHE | A_ECDSA | AES256GCM | HIGH | FIPS | TLS12,
        256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        K_ECDHE | A_RSA | AES256GCM | HIGH | FIPS | TLS12,
        256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        K_ECDHE | A_ECDSA | CHACHA20 | HIGH | TLS12,
        256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        K_ECDHE | A_RSA | CHACHA20 | HIGH | TLS12,
        256,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        K_ECDHE | A_ECDSA | AES128GCM | HIGH | FIPS | TLS12,
        128,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        K_ECDHE | A_RSA | AES128GCM | HIGH | FIPS | TLS12,
        128,
    ),
];

/// What an OpenSSL alias selects among [`TLS12_SUITES`]: Some(mask of properties, any
/// one of which selects a suite), or None for a word OpenSSL does not know (the rule
/// is then skipped, as OpenSSL skips it). Names are case-sensitive, as in OpenSSL.
fn alias(word: &str) -> Option<u32> {
    let all = K_ECDHE;
    Some(match word {
        "ALL" | "DEFAULT" => all,
        "HIGH" => HIGH,
        "FIPS" => FIPS,
        "kECDHE" | "kEECDH" | "ECDHE" | "EECDH" | "ECDH" => K_ECDHE,
        "aRSA" => A_RSA,
        "aECDSA" | "ECDSA" => A_ECDSA,
        "AES" => AES128GCM | AES256GCM,
        "AESGCM" => AES128GCM | AES256GCM,
        "AES128" => AES128GCM,
        "AES256" => AES256GCM,
        "CHACHA20" => CHACHA20,
        "TLSv1.2" => TLS12,
        // Classes rustls has none of.
        "COMPLEMENTOFALL"
        | "COMPLEMENTOFDEFAULT"
        | "eNULL"
        | "NULL"
        | "aNULL"
        | "MEDIUM"
        | "LOW"
        | "EXPORT"
        | "EXP"
        | "RSA"
        | "kRSA"
        | "DH"
        | "kDHE"
        | "kEDH"
        | "DHE"
        | "EDH"
        | "ADH"
        | "AECDH"
        | "aDSS"
        | "DSS"
        | "PSK"
        | "kPSK"
        | "aPSK"
        | "kECDHEPSK"
        | "kDHEPSK"
        | "kRSAPSK"
        | "ECDHEPSK"
        | "DHEPSK"
        | "RSAPSK"
        | "SRP"
        | "kSRP"
        | "aSRP"
        | "kGOST"
        | "aGOST"
        | "GOST89MAC"
        | "RC4"
        | "RC2"
        | "DES"
        | "3DES"
        | "IDEA"
        | "SEED"
        | "CAMELLIA"
        | "CAMELLIA128"
        | "CAMELLIA256"
        | "ARIA"
        | "ARIAGCM"
        | "ARIA128"
        | "ARIA256"
        | "AESCCM"
        | "AESCCM8"
        | "MD5"
        | "SHA1"
        | "SHA"
        | "SHA256"
        | "SHA384"
        | "AEAD"
        | "SSLv3"
        | "TLSv1.0"
        | "TLSv1"
        | "SUITEB128"
        | "SUITEB192"
        | "SUITEB128ONLY"
        | "SUITEB128C2" => NONE,
        _ => return None,
    })
}

/// The suites a `+`-joined word selects (all its parts must hold), as a bit set over
/// [`TLS12_SUITES`]; None when OpenSSL would skip the rule.
fn selects(word: &str) -> Option<u8> {
    if let Some(i) = TLS12_SUITES.iter().position(|s| s.0 == word) {
        return Some(1 << i);
    }
    let mut set = (1u8 << TLS12_SUITES.len()) - 1;
    for part in word.split('+') {
        let mask = alias(part)?;
        for (i, suite) in TLS12_SUITES.iter().enumerate() {
            if suite.1 & mask == 0 {
                set &= !(1 << i);
            }
        }
    }
    Some(set)
}

/// `cipher_list()` as `tls_set_ciphers()` ends: OpenSSL refuses a list that selects no
/// TLS 1.2 cipher (its check ignores the TLS 1.3 suites), and so does this, with
/// Postfix's words for it.
pub fn usable_cipher_list(
    lists: &CipherLists,
    grade: &str,
    exclusions: &str,
) -> Result<String, CipherError> {
    let list = cipher_list(lists, grade, exclusions)?;
    if tls12_names(&list).is_empty() {
        return Err(CipherError(format!(
            "error setting cipher grade: \"{grade}\""
        )));
    }
    Ok(list)
}

/// What the client and the server log of a session's cipher list before the handshake:
/// the warning that ends the session when the list is unusable, else, when `verbose`
/// (the TLS log level is 2 or more), `TLS cipher list "..."`. Both are said about
/// `peer`.
pub fn log_cipher_list<'a>(
    list: &'a Result<String, CipherError>,
    peer: &str,
    verbose: bool,
    log: &mut dyn FnMut(log::Severity, &str),
) -> Result<&'a str, CipherError> {
    match list {
        Ok(list) => {
            if verbose {
                log(
                    log::Severity::Info,
                    &format!("{peer}: TLS cipher list \"{list}\""),
                );
            }
            Ok(list)
        }
        Err(e) => {
            log(log::Severity::Warning, &format!("{peer}: {e}"));
            Err(e.clone())
        }
    }
}

/// The TLS 1.2 suites an OpenSSL cipher string selects, by OpenSSL name, in its order.
pub fn tls12_names(list: &str) -> Vec<&'static str> {
    // (index into TLS12_SUITES, active); killed suites leave the list.
    let mut order: Vec<(usize, bool)> = (0..TLS12_SUITES.len()).map(|i| (i, false)).collect();
    let hit = |set: u8, i: usize| set & (1 << i) != 0;
    for token in list
        .split([':', ',', ' ', ';', '\t'])
        .filter(|t| !t.is_empty())
    {
        if token == "@STRENGTH" {
            // Active suites by strength, strongest first, others as they were.
            let mut active: Vec<(usize, bool)> = order.iter().copied().filter(|e| e.1).collect();
            active.sort_by_key(|e| std::cmp::Reverse(TLS12_SUITES[e.0].2));
            let mut sorted = active.into_iter();
            for entry in order.iter_mut().filter(|e| e.1) {
                *entry = sorted.next().unwrap_or(*entry);
            }
            continue;
        }
        if token.starts_with('@') {
            // @SECLEVEL=n bounds key sizes, not the suites rustls has.
            continue;
        }
        let (op, word) = match token.as_bytes()[0] {
            b @ (b'!' | b'-' | b'+') => (b, &token[1..]),
            _ => (b' ', token),
        };
        let Some(set) = selects(word) else { continue };
        match op {
            b'!' => order.retain(|e| !hit(set, e.0)),
            b'-' => {
                // Back to the head, their order kept, to be added again later.
                let (removed, kept): (Vec<_>, Vec<_>) =
                    order.into_iter().partition(|e| e.1 && hit(set, e.0));
                order = removed.into_iter().map(|e| (e.0, false)).collect();
                order.extend(kept);
            }
            b'+' => {
                let (moved, kept): (Vec<_>, Vec<_>) =
                    order.into_iter().partition(|e| e.1 && hit(set, e.0));
                order = kept;
                order.extend(moved);
            }
            _ => {
                let (added, kept): (Vec<_>, Vec<_>) =
                    order.into_iter().partition(|e| !e.1 && hit(set, e.0));
                order = kept;
                order.extend(added.into_iter().map(|e| (e.0, true)));
            }
        }
    }
    order
        .into_iter()
        .filter(|e| e.1)
        .map(|e| TLS12_SUITES[e.0].0)
        .collect()
}

/// The suites to offer for an OpenSSL cipher string: TLS 1.3's three in OpenSSL's
/// default order (the string does not apply to them), then the TLS 1.2 suites it
/// selects.
pub fn suites(list: &str) -> Vec<SupportedCipherSuite> {
    let mut out = vec![
        cs::TLS13_AES_256_GCM_SHA384,
        cs::TLS13_CHACHA20_POLY1305_SHA256,
        cs::TLS13_AES_128_GCM_SHA256,
    ];
    for name in tls12_names(list) {
        out.push(match name {
            "ECDHE-ECDSA-AES256-GCM-SHA384" => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-RSA-AES256-GCM-SHA384" => cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            "ECDHE-ECDSA-CHACHA20-POLY1305" => cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-RSA-CHACHA20-POLY1305" => cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "ECDHE-ECDSA-AES128-GCM-SHA256" => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            _ => cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_and_exclusions() {
        let lists = CipherLists::default();
        assert_eq!(
            cipher_list(&lists, "Medium", "aNULL, AES256").unwrap(),
            "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!aNULL:!AES256"
        );
        assert_eq!(
            cipher_list(&lists, "strong", "").unwrap_err().0,
            "invalid cipher grade: \"strong\""
        );
        assert_eq!(
            cipher_list(&lists, "high", "!RC4").unwrap_err().0,
            "invalid unary '!+-@' in cipher exclusion: !RC4"
        );
        let all = tls12_names(&lists.medium);
        assert_eq!(all.len(), 6);
        assert!(tls12_names(&lists.null).is_empty());
        let no256 = tls12_names(&cipher_list(&lists, "high", "AES256").unwrap());
        assert!(no256.iter().all(|n| !n.contains("AES256")) && no256.len() == 4);
        // TLS 1.3 stays whatever the string says.
        assert_eq!(suites("eNULL").len(), 3);
        assert_eq!(suites(&lists.high).len(), 9);
    }

    /// OpenSSL's `openssl ciphers` is the reference: for each string, the suites rustls
    /// has, in the order OpenSSL lists them.
    #[test]
    fn equal_openssl() {
        let strings = [
            "aNULL:-aNULL:HIGH:@STRENGTH",
            "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH",
            "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!aNULL:!AES256",
            "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!CHACHA20:!aRSA",
            "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!kECDHE",
            "HIGH:+AES256:@STRENGTH",
            "HIGH:+AES256",
            "HIGH:-AESGCM:CHACHA20:AES128",
            "kECDHE+aRSA:kECDHE+CHACHA20",
            "ECDHE-RSA-AES128-GCM-SHA256:HIGH",
            "ALL:!FIPS",
            "DEFAULT:!AES128:+ECDSA",
            "HIGH:!AEAD:!SHA256:!SHA384",
            "HIGH:!FIPS",
            "HIGH:-ALL:AES128",
            "AES:+aRSA",
            "ECDHE+ECDSA:ECDH",
            "HIGH:!TLSv1.2",
            "HIGH:NOSUCHALIAS:!AES",
        ];
        for list in strings {
            let Ok(out) = std::process::Command::new("openssl")
                .args(["ciphers", "-s", "-tls1_2", list])
                .output()
            else {
                testkit::skip("no openssl command");
                return;
            };
            let text = String::from_utf8_lossy(&out.stdout);
            let want: Vec<&str> = text
                .trim()
                .split(':')
                .filter(|n| TLS12_SUITES.iter().any(|s| s.0 == *n))
                .collect();
            assert_eq!(tls12_names(list), want, "{list}");
        }
    }
}
