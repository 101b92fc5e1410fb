//! The client side of SCRAM (RFC 5802, RFC 7677): SCRAM-SHA-1, -256, -384 and -512
//! without channel binding.
//!
//! Postfix counterpart: none in Postfix itself; Debian's Postfix gets SCRAM from Cyrus
//! SASL's `plugins/scram.c` through `xsasl/xsasl_cyrus_client.c`. The wire format
//! follows that client as Postfix drives it (t-78 compares the two on the wire): no
//! authorization identity and no channel binding (GS2 header `n,,`); the client
//! nonce is 32 base64 characters; a server-first message with
//! a mandatory extension, a nonce that does not extend ours, or more than 65536
//! iterations is refused; and the server's signature in the server-final message is
//! checked before the client answers it. The failure texts are Cyrus's, since
//! Postfix logs them.

use ring::{digest, hmac, pbkdf2};
use std::num::NonZeroU32;

/// The hash a SCRAM mechanism names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn hmac(self) -> hmac::Algorithm {
        match self {
            Hash::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
            Hash::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            Hash::Sha1 => pbkdf2::PBKDF2_HMAC_SHA1,
            Hash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            Hash::Sha384 => pbkdf2::PBKDF2_HMAC_SHA384,
            Hash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    /// The mechanism's name, as Cyrus puts it in its error texts.
    pub fn mech(self) -> &'static str {
        match self {
            Hash::Sha1 => "SCRAM-SHA-1",
            Hash::Sha256 => "SCRAM-SHA-256",
            Hash::Sha384 => "SCRAM-SHA-384",
            Hash::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn mac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hmac::sign(&hmac::Key::new(self.hmac(), key), data)
            .as_ref()
            .to_vec()
    }
}

/// Cyrus's limit on the server's iteration count (`MAX_ITERATION_COUNTER`): more is
/// refused rather than computed, so a server cannot make the client spin.
const MAX_ITERATIONS: u32 = 0x10000;

/// The GS2 header: no channel binding, no authorization identity.
const GS2_HEADER: &str = "n,,";

/// Cyrus's client nonce length (`NONCE_SIZE`).
const NONCE_LEN: usize = 32;

/// Why a step failed: Cyrus's `sasl_seterror()` text (Postfix logs it as a warning)
/// and the status's `sasl_errstring()` text (Postfix's deferral reason).
#[derive(Debug, PartialEq, Eq)]
pub struct StepError {
    pub detail: String,
    pub status: &'static str,
    /// Cyrus logged the detail at its "error" level (Postfix's "problem"), not as
    /// an authentication failure.
    pub problem: bool,
}

impl StepError {
    /// What Cyrus's library says when a finished mechanism is asked for more.
    pub fn after_done() -> StepError {
        StepError {
            detail: "attempting client step after doneflag".into(),
            status: "generic failure",
            problem: true,
        }
    }

    /// The warning Postfix's xsasl_cyrus_log() writes for it.
    pub fn warning(&self) -> String {
        let kind = if self.problem { "problem" } else { "failure" };
        format!("SASL authentication {kind}: {}", self.detail)
    }
}

/// `SASL_BADPROT`'s text.
pub const BAD_PROTOCOL: &str = "bad protocol / cancel";
/// `SASL_BADAUTH`'s text.
pub const BAD_AUTH: &str = "authentication failure";

fn bad_protocol(detail: String) -> StepError {
    StepError {
        detail,
        status: BAD_PROTOCOL,
        problem: false,
    }
}

/// A SCRAM exchange in progress.
pub struct Client {
    hash: Hash,
    password: Vec<u8>,
    nonce: String,
    /// client-first-message-bare, then the whole AuthMessage once known.
    auth_message: String,
    salted: Vec<u8>,
    state: u8,
}

/// `saslname` (RFC 5802, section 5.1): `=` and `,` escaped.
fn saslname(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

impl Client {
    /// The exchange and its client-first message, with a nonce of Cyrus's length
    /// made of `random` bytes.
    pub fn start(hash: Hash, user: &str, password: &str, random: &[u8]) -> (Client, String) {
        let mut nonce = global::msg_stats::base64_encode(random);
        nonce.truncate(NONCE_LEN);
        let bare = format!("n={},r={nonce}", saslname(user));
        let first = format!("{GS2_HEADER}{bare}");
        let client = Client {
            hash,
            password: password.as_bytes().to_vec(),
            nonce,
            auth_message: bare,
            salted: Vec::new(),
            state: 1,
        };
        (client, first)
    }

    /// The random bytes `start` wants: enough for NONCE_LEN base64 characters.
    pub const RANDOM_LEN: usize = NONCE_LEN / 4 * 3;

    /// The answer to the server's next message: the client-final message with its
    /// proof, then (after checking the server's signature) an empty answer.
    pub fn step(&mut self, input: &[u8]) -> Result<Vec<u8>, StepError> {
        let mech = self.hash.mech();
        if input.len() > 2048 {
            return Err(bad_protocol(format!(
                "{mech} input longer than (2048) bytes"
            )));
        }
        self.state += 1;
        match self.state {
            2 => self.client_final(input),
            3 => self.verify(input).map(|()| Vec::new()),
            _ => Err(StepError::after_done()),
        }
    }

    fn client_final(&mut self, input: &[u8]) -> Result<Vec<u8>, StepError> {
        let mech = self.hash.mech();
        if input.is_empty() {
            return Err(bad_protocol(format!("{mech} input expected")));
        }
        if input.len() < 3 || input[1] != b'=' {
            return Err(bad_protocol(format!("Invalid {mech} input")));
        }
        if input[0] == b'm' {
            return Err(bad_protocol(format!(
                "Unsupported mandatory extension to {mech}"
            )));
        }
        if input[0] != b'r' {
            return Err(bad_protocol(format!("Nonce (r=) expected in {mech} input")));
        }
        if input.contains(&0) {
            return Err(bad_protocol(format!("NULs found in {mech} input")));
        }
        let server_first = String::from_utf8_lossy(input).into_owned();
        let mut fields = server_first[2..].splitn(3, ',');
        let nonce = fields.next().unwrap_or_default();
        let salt = fields
            .next()
            .and_then(|f| f.strip_prefix("s="))
            .ok_or_else(|| {
                bad_protocol(format!("Salt expected after the nonce in {mech} input"))
            })?;
        let count = fields
            .next()
            .and_then(|f| f.strip_prefix("i="))
            .ok_or_else(|| {
                bad_protocol(format!(
                    "iteration-count expected after the salt in {mech} input"
                ))
            })?;
        let count = count.split(',').next().unwrap_or_default();
        let count: u32 = count
            .parse()
            .map_err(|_| bad_protocol(format!("Invalid iteration-count in {mech} input")))?;
        if count > MAX_ITERATIONS {
            return Err(bad_protocol(
                "iteration-count is too big, refusing to compute".into(),
            ));
        }
        if nonce.len() <= NONCE_LEN || !nonce.starts_with(&self.nonce) {
            return Err(bad_protocol(
                "The nonce received from the server doesn't start from the nonce sent by the client"
                    .into(),
            ));
        }
        if salt.is_empty() {
            return Err(bad_protocol("The salt can't be empty".into()));
        }
        if !salt.len().is_multiple_of(4) {
            return Err(bad_protocol("Invalid base64 encoding of the salt".into()));
        }
        let salt = global::msg_stats::base64_decode(salt.as_bytes()).ok_or_else(|| {
            bad_protocol(format!(
                "Invalid base64 encoding of the salt in {mech} input"
            ))
        })?;
        // Cyrus's Hi() with a zero count yields the first PBKDF2 round only, as one
        // iteration does.
        let rounds = NonZeroU32::new(count.max(1)).unwrap_or(NonZeroU32::MIN);
        let mut salted = vec![0; self.hash.digest().output_len()];
        pbkdf2::derive(
            self.hash.pbkdf2(),
            rounds,
            &salt,
            &self.password,
            &mut salted,
        );
        let without_proof = format!(
            "c={},r={nonce}",
            global::msg_stats::base64_encode(GS2_HEADER.as_bytes())
        );
        self.auth_message = format!("{},{server_first},{without_proof}", self.auth_message);
        let client_key = self.hash.mac(&salted, b"Client Key");
        let stored_key = digest::digest(self.hash.digest(), &client_key);
        let signature = self
            .hash
            .mac(stored_key.as_ref(), self.auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(k, s)| k ^ s)
            .collect();
        self.salted = salted;
        Ok(format!(
            "{without_proof},p={}",
            global::msg_stats::base64_encode(&proof)
        )
        .into_bytes())
    }

    /// The server-final message: the server proves it knows the password too.
    fn verify(&self, input: &[u8]) -> Result<(), StepError> {
        let mech = self.hash.mech();
        if input.len() < 3 {
            return Err(bad_protocol(format!("Invalid {mech} input expected")));
        }
        let Some(value) = input.strip_prefix(b"v=") else {
            return Err(bad_protocol(format!(
                "ServerSignature expected in {mech} input"
            )));
        };
        let value = value.split(|&b| b == b',').next().unwrap_or_default();
        let proof = global::msg_stats::base64_decode(value).ok_or_else(|| {
            bad_protocol(format!(
                "Invalid base64 encoding of the server proof in {mech} input"
            ))
        })?;
        let server_key = self.hash.mac(&self.salted, b"Server Key");
        let expected = self.hash.mac(&server_key, self.auth_message.as_bytes());
        if proof.len() != expected.len() {
            return Err(bad_protocol(format!(
                "Invalid server proof (truncated) in {mech} input"
            )));
        }
        if proof != expected {
            return Err(StepError {
                detail: "ServerSignature mismatch".into(),
                status: BAD_AUTH,
                problem: false,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs RFC 5802/7677's example exchange, with the example's client nonce
    /// spliced in, checking our messages against the RFC's.
    fn rfc_example(hash: Hash, nonce: &str, server_first: &str, final_: &str, server_final: &str) {
        let (mut client, _) = Client::start(hash, "user", "pencil", &[0; 24]);
        client.nonce = nonce.to_string();
        client.auth_message = format!("n=user,r={nonce}");
        assert_eq!(
            String::from_utf8(client.step(server_first.as_bytes()).unwrap()).unwrap(),
            final_
        );
        assert_eq!(client.step(server_final.as_bytes()), Ok(Vec::new()));
        assert!(client.step(b"v=again").is_err());
    }

    #[test]
    fn rfc5802_sha1() {
        rfc_example(
            Hash::Sha1,
            "fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        );
    }

    #[test]
    fn rfc7677_sha256() {
        rfc_example(
            Hash::Sha256,
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        );
    }

    #[test]
    fn client_first_and_refusals() {
        let (mut client, first) = Client::start(Hash::Sha256, "u,=x", "pw", &[0xfb; 24]);
        assert_eq!(first, format!("n,,n=u=2C=3Dx,r={}", "+/v7".repeat(8)));
        let short = format!("r={},s=QSXC,i=4096", client.nonce);
        assert_eq!(
            client.step(short.as_bytes()).unwrap_err().detail,
            "The nonce received from the server doesn't start from the nonce sent by the client"
        );
        let (mut client, _) = Client::start(Hash::Sha1, "u", "pw", &[1; 24]);
        let many = format!("r={}x,s=QSXC,i=65537", client.nonce);
        assert_eq!(
            client.step(many.as_bytes()).unwrap_err().detail,
            "iteration-count is too big, refusing to compute"
        );
        let (mut client, _) = Client::start(Hash::Sha1, "u", "pw", &[1; 24]);
        assert_eq!(
            client.step(b"m=ext,r=x").unwrap_err().detail,
            "Unsupported mandatory extension to SCRAM-SHA-1"
        );
        // A server that does not know the password cannot forge its signature.
        let (mut client, _) = Client::start(Hash::Sha1, "u", "pw", &[1; 24]);
        let ok = format!("r={}x,s=QSXC,i=4096", client.nonce);
        client.step(ok.as_bytes()).unwrap();
        let err = client.step(b"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=").unwrap_err();
        assert_eq!(
            (err.detail.as_str(), err.status),
            ("ServerSignature mismatch", BAD_AUTH)
        );
    }
}
