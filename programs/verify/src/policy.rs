//! What the verify service answers and records: the decisions of a query and an update,
//! apart from the protocol that carries them.
//!
//! Postfix counterpart: `verify_query_service` and `verify_update_service` in
//! `verify/verify.c`. A query answers from the cache unless the entry is missing,
//! malformed or expired (and no probe is in flight), in which case the answer is "probe
//! in progress"; it asks for a probe when the entry needs refreshing and no probe went
//! out in the last [`PROBE_TTL`] seconds, and marks the entry as probed. An update
//! stores a probe's result, except that a failure never replaces an unexpired success.

use crate::cache::{Entry, PROBE_TTL, Store, Times, Walk};
use global::deliver_request::{DEL_RCPT_STAT_DEFER, DEL_RCPT_STAT_OK};
use global::verify_clnt::{DEL_RCPT_STAT_TODO, VRFY_STAT_BAD, VRFY_STAT_OK, stat2name};

/// The cache with the rules that read and write it.
pub struct Policy {
    pub store: Store,
    /// The table's name as warnings and the cleanup line give it.
    pub map_name: String,
    pub times: Times,
    /// address_verify_negative_cache.
    pub neg_cache: bool,
    /// The cleanup run in progress, which hears of every write.
    pub walk: Option<Walk>,
}

/// The status at the front of a stored entry, without parsing the rest (Postfix's
/// `STATUS_FROM_RAW_ENTRY`, an atoi()).
fn raw_status(raw: &str) -> i32 {
    let digits: String = raw
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap_or(0)
}

impl Policy {
    /// The answer to a query for `addr` at `now`, and whether to send a probe.
    pub fn query(&mut self, addr: &str, now: i64) -> (Entry, bool) {
        let looked_up = self.store.get(addr);
        let lookup_error = looked_up.is_err();
        let raw = looked_up.unwrap_or_else(|_| {
            log::msg_warn!(
                "{}: cache lookup for '{addr}' failed due to error",
                self.map_name
            );
            None
        });
        let entry = if lookup_error {
            Entry {
                status: DEL_RCPT_STAT_DEFER,
                probed: 0,
                updated: 0,
                text: "Address verification status unavailable".into(),
            }
        } else {
            match raw.as_deref().and_then(Entry::parse) {
                Some(e) if !(now - e.probed > PROBE_TTL && self.times.expired(&e, now)) => e,
                _ => {
                    // Without negative caching an unusable entry goes at once.
                    if raw.is_some() && !self.neg_cache {
                        self.delete(addr);
                    }
                    Entry {
                        status: DEL_RCPT_STAT_TODO,
                        probed: 0,
                        updated: 0,
                        text: "Address verification in progress".into(),
                    }
                }
            }
        };
        if log::verbose() > 0 {
            log::msg_info!(
                "GOT {addr} status={} probed={} updated={} text={}",
                entry.status,
                entry.probed,
                entry.updated,
                entry.text
            );
        }
        let probe = !lookup_error
            && now - entry.probed > PROBE_TTL
            && self.times.refresh_needed(&entry, now);
        if probe {
            if log::verbose() > 0 {
                log::msg_info!(
                    "PROBE {addr} status={} probed={now} updated={}",
                    entry.status,
                    entry.updated
                );
            }
            // Without negative caching, only an existing result is marked as probed.
            if entry.updated != 0 || self.neg_cache {
                let probed = Entry {
                    probed: now,
                    ..entry.clone()
                };
                self.put(addr, &probed);
            }
        }
        (entry, probe)
    }

    /// Records a probe's result for `addr`: the `VRFY_STAT_*` to answer.
    pub fn update(&mut self, addr: &str, addr_status: i32, text: &str, now: i64) -> i32 {
        if stat2name(addr_status).is_none() {
            log::msg_warn!("bad recipient status {addr_status} for recipient {addr}");
            return VRFY_STAT_BAD;
        }
        // A failed probe never replaces a success that has not expired: the address is
        // probed again at the next query, and stays good while some probes succeed.
        let keeps_success = || {
            self.store
                .get(addr)
                .ok()
                .flatten()
                .is_some_and(|raw| raw_status(&raw) == DEL_RCPT_STAT_OK)
        };
        if addr_status == DEL_RCPT_STAT_OK || !keeps_success() {
            let entry = Entry {
                status: addr_status,
                probed: 0,
                updated: now,
                text: text.to_string(),
            };
            self.put(addr, &entry);
        }
        VRFY_STAT_OK
    }

    fn put(&mut self, addr: &str, entry: &Entry) {
        if log::verbose() > 0 {
            log::msg_info!(
                "PUT {addr} status={} probed={} updated={} text={}",
                entry.status,
                entry.probed,
                entry.updated,
                entry.text
            );
        }
        if self.store.put(addr, &entry.format()).is_err() {
            log::msg_warn!("{}: could not update entry for {addr}", self.map_name);
        }
        if let Some(walk) = &mut self.walk {
            walk.written(addr);
        }
    }

    fn delete(&mut self, addr: &str) {
        if self.store.delete(addr).is_err() {
            log::msg_warn!("{}: could not delete entry for {addr}", self.map_name);
        }
        if let Some(walk) = &mut self.walk {
            walk.deleted(addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use global::deliver_request::DEL_RCPT_STAT_BOUNCE;

    const DAY: i64 = 86400;

    fn policy(neg_cache: bool) -> Policy {
        Policy {
            store: Store::open("").unwrap(),
            map_name: "internal:verify".into(),
            times: Times {
                pos_expire: 31 * DAY,
                pos_refresh: 7 * DAY,
                neg_expire: 3 * DAY,
                neg_refresh: 3 * 3600,
            },
            neg_cache,
            walk: None,
        }
    }

    #[test]
    fn an_unknown_address_is_probed_once_per_probe_ttl() {
        let mut p = policy(true);
        let t = 1_000_000;
        let (answer, probe) = p.query("u@x", t);
        assert_eq!(answer.status, DEL_RCPT_STAT_TODO);
        assert_eq!(answer.text, "Address verification in progress");
        assert!(probe);
        // The probe is recorded: a query soon after does not send another.
        assert_eq!(
            p.store.get("u@x").unwrap().as_deref(),
            Some("3:1000000:0:Address verification in progress")
        );
        let (answer, probe) = p.query("u@x", t + 10);
        assert_eq!((answer.status, probe), (DEL_RCPT_STAT_TODO, false));
        // A lost probe is replaced after PROBE_TTL.
        let (_, probe) = p.query("u@x", t + PROBE_TTL + 1);
        assert!(probe);
    }

    #[test]
    fn results_are_given_until_they_expire_and_refreshed_before() {
        let mut p = policy(true);
        let t = 1_000_000;
        assert_eq!(p.update("u@x", DEL_RCPT_STAT_OK, "250 Ok", t), VRFY_STAT_OK);
        let (answer, probe) = p.query("u@x", t + DAY);
        assert_eq!(
            (answer.status, answer.text.as_str(), probe),
            (0, "250 Ok", false)
        );
        // Past the refresh time: the cached answer, and a probe.
        let (answer, probe) = p.query("u@x", t + 8 * DAY);
        assert_eq!((answer.status, probe), (DEL_RCPT_STAT_OK, true));
        // Past the expiry time (and PROBE_TTL after that probe): unknown again.
        let (answer, probe) = p.query("u@x", t + 32 * DAY);
        assert_eq!((answer.status, probe), (DEL_RCPT_STAT_TODO, true));
    }

    #[test]
    fn a_failure_never_replaces_an_unexpired_success() {
        let mut p = policy(true);
        let t = 1_000_000;
        p.update("u@x", DEL_RCPT_STAT_OK, "250 Ok", t);
        p.update("u@x", DEL_RCPT_STAT_BOUNCE, "550 no", t + 5);
        assert_eq!(p.query("u@x", t + 6).0.status, DEL_RCPT_STAT_OK);
        // A success replaces a failure.
        p.update("v@x", DEL_RCPT_STAT_DEFER, "451 later", t);
        assert_eq!(p.query("v@x", t + 1).0.text, "451 later");
        p.update("v@x", DEL_RCPT_STAT_OK, "250 Ok", t + 2);
        assert_eq!(p.query("v@x", t + 3).0.status, DEL_RCPT_STAT_OK);
        // An unknown status is refused.
        assert_eq!(p.update("w@x", 7, "?", t), VRFY_STAT_BAD);
        assert_eq!(p.update("w@x", DEL_RCPT_STAT_TODO, "?", t), VRFY_STAT_BAD);
    }

    #[test]
    fn without_negative_caching_expired_entries_go_and_unknown_ones_stay_out() {
        let mut p = policy(false);
        let t = 1_000_000;
        let (_, probe) = p.query("u@x", t);
        assert!(probe);
        assert_eq!(p.store.get("u@x").unwrap(), None);
        p.store
            .put("old@x", &format!("2:0:{}:gone", t - 4 * DAY))
            .unwrap();
        let (answer, probe) = p.query("old@x", t);
        assert_eq!((answer.status, probe), (DEL_RCPT_STAT_TODO, true));
        assert_eq!(p.store.get("old@x").unwrap(), None);
        p.store.put("bad@x", "nonsense").unwrap();
        assert_eq!(p.query("bad@x", t).0.status, DEL_RCPT_STAT_TODO);
        assert_eq!(p.store.get("bad@x").unwrap(), None);
    }
}
