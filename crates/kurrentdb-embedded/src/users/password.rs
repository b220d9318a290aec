//! Password hashes: PBKDF2-HMAC-SHA256 (ring), a random 16-byte salt per
//! hash, compared in constant time.
//!
//! KurrentDB hashes with PBKDF2-HMAC-SHA1, 1,000 iterations and a 20-byte
//! result (`Rfc2898PasswordHashAlgorithm`), stored base64 in the user's event
//! as `hash` and `salt`. This server keeps the fields and their encoding but
//! uses SHA-256 and [`ITERATIONS`]: nothing outside the server reads them, and
//! a thousand rounds of SHA-1 is weak today.

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};

/// PBKDF2 rounds. Each hash or verification costs this many HMACs (a few
/// milliseconds optimised); the service runs them off the async workers.
pub(crate) const ITERATIONS: u32 = 20_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

fn rounds() -> NonZeroU32 {
    NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN)
}

/// A salted hash of a password: `(hash, salt)`, both base64.
pub(crate) fn hash(password: &str) -> (String, String) {
    let mut salt = [0u8; SALT_LEN];
    // The system's random source failing is not something to go on without:
    // fall back to a per-process-unique salt rather than none.
    if SystemRandom::new().fill(&mut salt).is_err() {
        salt.copy_from_slice(&uuid::Uuid::new_v4().into_bytes());
    }
    let mut out = [0u8; HASH_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds(),
        &salt,
        password.as_bytes(),
        &mut out,
    );
    (STANDARD.encode(out), STANDARD.encode(salt))
}

/// Whether `password` matches a stored `(hash, salt)`. A malformed stored
/// value matches nothing.
pub(crate) fn verify(password: &str, hash: &str, salt: &str) -> bool {
    let (Ok(hash), Ok(salt)) = (STANDARD.decode(hash), STANDARD.decode(salt)) else {
        return false;
    };
    pbkdf2::verify(
        pbkdf2::PBKDF2_HMAC_SHA256,
        rounds(),
        &salt,
        password.as_bytes(),
        &hash,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let (h, s) = hash("changeit");
        assert!(verify("changeit", &h, &s));
        assert!(!verify("changeiT", &h, &s));
        assert!(!verify("changeit", "not base64!", &s));
        let (h2, s2) = hash("changeit");
        assert_ne!((h.clone(), s.clone()), (h2, s2), "salted");
        assert!(!h.contains("changeit"));
    }
}
