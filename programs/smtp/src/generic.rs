//! smtp_generic_maps (lmtp_generic_maps): addresses rewritten on their way out, in the
//! envelope (MAIL FROM, RCPT TO) and in the message's own sender and recipient headers.
//!
//! Postfix counterparts: `smtp/smtp_map11.c`, `smtp_rewrite_generic_internal()` in
//! `smtp/smtp_misc.c`, and the address part of `smtp_header_rewrite()` in
//! `smtp/smtp_proto.c`. Unlike cleanup's canonical maps the lookup is made once (no
//! recursion), a value with several addresses uses the first with a warning, and a table
//! that cannot be read is fatal. The lookup and the canonicalization of the result are
//! `global::mail_addr_map`, shared with cleanup. A rewritten header is written back with
//! its addresses joined into lines of about 70 characters (`global::fold_header`), each
//! continuation line starting with a tab.

use global::addr_context::AddrContext;
use global::mail_addr_find::Form;
use global::mail_addr_map::AddrMap;
use global::maps::Maps;
use global::rewrite_clnt::RewriteClient;
use params::decl::smtp::{LMTP_GENERIC_MAPS, SMTP_GENERIC_MAPS};
use params::{Config, ConfigError};
use rfc822::mime::header_opts::{HeaderFlags, HeaderInfo};
use rfc822::quote::{QuoteFlags, quote_822_local};
use rfc822::tok822::{self, StrFlags};
use std::cell::RefCell;
use util::eight_bit;

/// The generic tables and what a lookup needs.
pub struct Generic {
    maps: Maps,
    context: AddrContext,
    /// `propagate_unmatched_extensions` has generic.
    propagate: bool,
    /// The rewriting service, for the results (the one process handles one request at a
    /// time).
    rewriter: RefCell<RewriteClient>,
}

impl Generic {
    /// The tables main.cf names for this mode; None when there are none.
    pub fn from_config(config: &Config, lmtp: bool) -> Result<Option<Generic>, ConfigError> {
        let param = if lmtp {
            &LMTP_GENERIC_MAPS
        } else {
            &SMTP_GENERIC_MAPS
        };
        let value = config.str(param)?;
        if value.trim().is_empty() {
            return Ok(None);
        }
        let error = |message: String| ConfigError {
            warnings: Vec::new(),
            message,
        };
        let flags = dict::Flags {
            utf8: config.bool(&params::decl::identity::SMTPUTF8_ENABLE)?,
            ..dict::Flags::default()
        };
        let maps = Maps::new(param.name, &value, flags).map_err(|e| error(e.to_string()))?;
        let ext_param = &params::decl::address::PROPAGATE_UNMATCHED_EXTENSIONS;
        let mask = global::ext_prop::ext_prop_mask(ext_param.name, &config.str(ext_param)?)
            .map_err(error)?;
        Ok(Some(Generic {
            maps,
            context: AddrContext::from_config(config)?,
            propagate: mask & global::ext_prop::GENERIC != 0,
            rewriter: RefCell::new(RewriteClient::new(
                global::rewrite_clnt::Settings::from_config(config)?,
            )),
        }))
    }

    /// Maps `addr` (internal form) in place; whether the table had it
    /// (`smtp_map11_internal`).
    pub fn map11_internal(&self, addr: &mut String) -> bool {
        let mut rewriter = self.rewriter.borrow_mut();
        let mut lookup = AddrMap {
            maps: &self.maps,
            context: &self.context,
            rewriter: &mut *rewriter,
        };
        match lookup.map(addr, self.propagate, Form::Internal, Form::Internal) {
            Ok(Some(new)) => {
                if new.len() > 1 {
                    log::msg_warn!("multi-valued {} result for {addr}", self.maps.title());
                }
                let first = new.into_iter().next().unwrap_or_default();
                if log::verbose() > 0 {
                    log::msg_info!("smtp_map11_internal: {addr} -> {first}");
                }
                *addr = first;
                true
            }
            Ok(None) => {
                if log::verbose() > 0 {
                    log::msg_info!("smtp_map11_internal: {addr} not found");
                }
                false
            }
            Err(_) => log::msg_fatal!("{} map lookup problem for {addr}", self.maps.title()),
        }
    }

    /// An envelope address (internal form) as it goes out; the null sender stays null
    /// (`smtp_rewrite_generic_internal`).
    pub fn envelope(&self, addr: &str) -> String {
        let mut out = addr.to_string();
        if !out.is_empty() {
            self.map11_internal(&mut out);
        }
        out
    }

    /// A sender or recipient header of the message's own headers (`header`, continuation
    /// lines joined with `\n`) with its addresses mapped: None when no address was in
    /// the tables, else the header folded for output, continuation lines starting with
    /// white space.
    pub fn header(&self, info: &HeaderInfo, header: &[u8]) -> Option<Vec<u8>> {
        if !info.flags.contains(HeaderFlags::SENDER) && !info.flags.contains(HeaderFlags::RECIP) {
            return None;
        }
        let name_len = info.name.len();
        let value = eight_bit::to_text(header.get(name_len + 1..).unwrap_or_default());
        let mut tree = tok822::parse(&value);
        let mut did_rewrite = false;
        for addr in tok822::addresses_mut(&mut tree) {
            // smtp_map11_tree(): the internal form through the table, then scanned again.
            let mut internal = addr.internalize();
            did_rewrite |= self.map11_internal(&mut internal);
            addr.replace_external(&quote_822_local(&internal, QuoteFlags::DEFAULT));
        }
        if !did_rewrite {
            return None;
        }
        let mut out = header[..name_len.min(header.len())].to_vec();
        out.extend_from_slice(b": ");
        out.extend_from_slice(&eight_bit::to_bytes(&tok822::externalize(
            &tree,
            StrFlags::HEAD,
        )));
        global::fold_header::fold_header(&mut out);
        // Lines that the rewriting started get a tab (as cleanup_out_header() does).
        let mut folded = Vec::with_capacity(out.len() + 8);
        for (n, line) in out.split(|&b| b == b'\n').enumerate() {
            if n > 0 {
                folded.push(b'\n');
                if !matches!(line.first(), Some(b' ' | b'\t')) {
                    folded.push(b'\t');
                }
            }
            folded.extend_from_slice(line);
        }
        Some(folded)
    }
}
