//! The cache itself: destination-to-endpoint bindings and endpoint-to-session bindings,
//! each with its own expiry time, and the statistics scache logs.
//!
//! Postfix counterpart: `global/scache_multi.c` and the counters of `scache/scache.c`. A
//! destination may name several endpoints and an endpoint may hold several sessions;
//! lookups take the oldest first. A session found is removed (its descriptor now belongs
//! to the client); a destination binding stays until it expires, so it can find the next
//! session saved under its endpoint.

use std::collections::HashMap;
use std::os::fd::OwnedFd;

/// Seconds since the epoch, the clock of every expiry time here.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// One destination-to-endpoint binding.
struct Dest {
    endp_label: String,
    dest_prop: String,
    expires: i64,
}

/// One cached session.
struct Session {
    fd: OwnedFd,
    endp_prop: String,
    expires: i64,
}

/// Every binding, oldest first under each name.
#[derive(Default)]
pub struct Cache {
    dests: HashMap<String, Vec<Dest>>,
    endps: HashMap<String, Vec<Session>>,
}

impl Cache {
    /// Keeps `fd` under `endp_label` until `expires`.
    pub fn save_endp(&mut self, expires: i64, endp_label: &str, endp_prop: &str, fd: OwnedFd) {
        if log::verbose() > 0 {
            log::msg_info!(
                "scache_multi_save_endp: endp_label={endp_label} -> endp_prop={endp_prop} fd={}",
                std::os::fd::AsRawFd::as_raw_fd(&fd)
            );
        }
        self.endps
            .entry(endp_label.to_string())
            .or_default()
            .push(Session {
                fd,
                endp_prop: endp_prop.to_string(),
                expires,
            });
    }

    /// Takes the oldest session of `endp_label`: its properties and descriptor.
    pub fn find_endp(&mut self, endp_label: &str) -> Option<(String, OwnedFd)> {
        let sessions = self.endps.get_mut(endp_label)?;
        let session = sessions.remove(0);
        if sessions.is_empty() {
            self.endps.remove(endp_label);
        }
        Some((session.endp_prop, session.fd))
    }

    /// Binds `dest_label` to `endp_label` until `expires`; the same binding with the same
    /// properties only gets the new expiry time.
    pub fn save_dest(&mut self, expires: i64, dest_label: &str, dest_prop: &str, endp_label: &str) {
        let bindings = self.dests.entry(dest_label.to_string()).or_default();
        match bindings
            .iter_mut()
            .find(|d| d.endp_label == endp_label && d.dest_prop == dest_prop)
        {
            Some(existing) => existing.expires = expires,
            None => bindings.push(Dest {
                endp_label: endp_label.to_string(),
                dest_prop: dest_prop.to_string(),
                expires,
            }),
        }
    }

    /// The first session of any endpoint `dest_label` is bound to: the destination's and
    /// the endpoint's properties and the descriptor.
    pub fn find_dest(&mut self, dest_label: &str) -> Option<(String, String, OwnedFd)> {
        let bindings = self.dests.get(dest_label)?;
        let found = bindings
            .iter()
            .find(|d| self.endps.contains_key(&d.endp_label))
            .map(|d| (d.endp_label.clone(), d.dest_prop.clone()))?;
        let (endp_prop, fd) = self.find_endp(&found.0)?;
        Some((found.1, endp_prop, fd))
    }

    /// Drops what expired at or before `now`, closing expired sessions.
    pub fn expire(&mut self, now: i64) {
        self.endps.retain(|_, sessions| {
            sessions.retain(|s| s.expires > now);
            !sessions.is_empty()
        });
        self.dests.retain(|_, bindings| {
            bindings.retain(|d| d.expires > now);
            !bindings.is_empty()
        });
    }

    /// Destinations, endpoints and sessions held now (Postfix's `scache_size`).
    pub fn size(&self) -> (usize, usize, usize) {
        (
            self.dests.len(),
            self.endps.len(),
            self.endps.values().map(Vec::len).sum(),
        )
    }
}

/// Hits, misses and peak sizes since the start of the interval.
pub struct Stats {
    pub dest_hits: u32,
    pub dest_miss: u32,
    pub endp_hits: u32,
    pub endp_miss: u32,
    dest_count: usize,
    endp_count: usize,
    sess_count: usize,
    /// When the interval started.
    pub start: i64,
}

impl Stats {
    /// An interval starting at `start`.
    pub fn new(start: i64) -> Stats {
        Stats {
            dest_hits: 0,
            dest_miss: 0,
            endp_hits: 0,
            endp_miss: 0,
            dest_count: 0,
            endp_count: 0,
            sess_count: 0,
            start,
        }
    }

    /// Notes the cache's size after a save.
    pub fn sizes(&mut self, cache: &Cache) {
        let (dests, endps, sessions) = cache.size();
        self.dest_count = self.dest_count.max(dests);
        self.endp_count = self.endp_count.max(endps);
        self.sess_count = self.sess_count.max(sessions);
    }

    /// The statistics lines Postfix logs for the interval, with the counts reset; none
    /// when nothing happened.
    pub fn take_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        let sizes = self.dest_count + self.endp_count + self.sess_count > 0;
        if self.dest_hits + self.dest_miss + self.endp_hits + self.endp_miss > 0 || sizes {
            // ctime()'s "Mmm dd hh:mm:ss" (its characters 4 to 19).
            let stamp = global::queue_read::asctime(self.start);
            lines.push(format!("statistics: start interval {}", &stamp[4..19]));
        }
        let rate = |hits: u32, miss: u32| hits * 100 / (hits + miss);
        if self.dest_hits + self.dest_miss > 0 {
            lines.push(format!(
                "statistics: domain lookup hits={} miss={} success={}%",
                self.dest_hits,
                self.dest_miss,
                rate(self.dest_hits, self.dest_miss)
            ));
            (self.dest_hits, self.dest_miss) = (0, 0);
        }
        if self.endp_hits + self.endp_miss > 0 {
            lines.push(format!(
                "statistics: address lookup hits={} miss={} success={}%",
                self.endp_hits,
                self.endp_miss,
                rate(self.endp_hits, self.endp_miss)
            ));
            (self.endp_hits, self.endp_miss) = (0, 0);
        }
        if sizes {
            lines.push(format!(
                "statistics: max simultaneous domains={} addresses={} connection={}",
                self.dest_count, self.endp_count, self.sess_count
            ));
            (self.dest_count, self.endp_count, self.sess_count) = (0, 0, 0);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn session() -> (OwnedFd, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (OwnedFd::from(a), b)
    }

    #[test]
    fn the_oldest_session_goes_first_and_is_taken() {
        let mut cache = Cache::default();
        let (one, _p1) = session();
        let (two, _p2) = session();
        let (raw1, raw2) = (one.as_raw_fd(), two.as_raw_fd());
        cache.save_endp(100, "smtp:1.2.3.4:25", "first", one);
        cache.save_endp(100, "smtp:1.2.3.4:25", "second", two);
        assert_eq!(cache.size(), (0, 1, 2));
        let (prop, fd) = cache.find_endp("smtp:1.2.3.4:25").unwrap();
        assert_eq!((prop.as_str(), fd.as_raw_fd()), ("first", raw1));
        let (prop, fd) = cache.find_endp("smtp:1.2.3.4:25").unwrap();
        assert_eq!((prop.as_str(), fd.as_raw_fd()), ("second", raw2));
        assert!(cache.find_endp("smtp:1.2.3.4:25").is_none());
        assert_eq!(cache.size(), (0, 0, 0));
    }

    #[test]
    fn a_destination_finds_sessions_through_its_endpoints_and_stays() {
        let mut cache = Cache::default();
        cache.save_dest(100, "smtp:example.com:25", "dprop", "smtp:1.2.3.4:25");
        cache.save_dest(100, "smtp:example.com:25", "dprop", "smtp:5.6.7.8:25");
        // The same binding again only refreshes it.
        cache.save_dest(200, "smtp:example.com:25", "dprop", "smtp:1.2.3.4:25");
        assert!(cache.find_dest("smtp:example.com:25").is_none());
        let (s, _peer) = session();
        cache.save_endp(100, "smtp:5.6.7.8:25", "eprop", s);
        let (d, e, _fd) = cache.find_dest("smtp:example.com:25").unwrap();
        assert_eq!((d.as_str(), e.as_str()), ("dprop", "eprop"));
        assert_eq!(cache.size(), (1, 0, 0));
        // The refreshed binding outlives the other.
        cache.expire(150);
        assert_eq!(cache.dests["smtp:example.com:25"].len(), 1);
        cache.expire(200);
        assert_eq!(cache.size(), (0, 0, 0));
    }

    #[test]
    fn an_expired_session_is_closed() {
        let mut cache = Cache::default();
        let (s, mut peer) = session();
        cache.save_endp(10, "e", "p", s);
        cache.expire(9);
        assert_eq!(cache.size(), (0, 1, 1));
        cache.expire(10);
        assert_eq!(cache.size(), (0, 0, 0));
        let mut buf = [0u8; 1];
        assert_eq!(std::io::Read::read(&mut peer, &mut buf).unwrap(), 0);
    }

    #[test]
    fn statistics_lines_as_postfix_words_them() {
        let mut cache = Cache::default();
        let mut stats = Stats::new(0);
        assert!(stats.take_lines().is_empty());
        cache.save_dest(100, "d", "p", "e");
        let (s, _peer) = session();
        cache.save_endp(100, "e", "p", s);
        stats.sizes(&cache);
        stats.dest_hits = 1;
        stats.dest_miss = 2;
        stats.endp_miss = 1;
        let lines = stats.take_lines();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("statistics: start interval "));
        assert_eq!(lines[0].len(), "statistics: start interval ".len() + 15);
        assert_eq!(
            lines[1..],
            [
                "statistics: domain lookup hits=1 miss=2 success=33%",
                "statistics: address lookup hits=0 miss=1 success=0%",
                "statistics: max simultaneous domains=1 addresses=1 connection=1",
            ]
        );
        assert!(stats.take_lines().is_empty());
    }
}
