//! The environment summary of an exec: count, bytes and a keyed hash.
//!
//! Environment values are not stored by default, but whether two execs got
//! the same environment matters (a wrapper that rebuilds the environment
//! for every child, a changed `PATH`). An unkeyed hash of the block would
//! let anyone who knows the rest of a job's environment (standard CI or
//! cluster variables) test guesses for one short secret offline. So the
//! stored `env_hash` is keyed:
//!
//! - [`EnvSummary`] digests the block as it is read (SipHash-1-3, 128 bits,
//!   fixed key: only an identity for equal blocks, kept in memory, never
//!   written);
//! - [`EnvKey::hash`] turns that digest into the stored 16 hex digits with
//!   SipHash-1-3 under a random 128-bit key made for each recording
//!   ([`EnvKey::for_recording`]).
//!
//! The key itself is never written: the header stores only its id
//! ([`EnvHashInfo`], `header.env_hash`), so equal environments within one
//! trace still compare equal, two traces with the same key id can be
//! compared, and nothing can be brute-forced from a trace that travels.
//! Tests that compare hashes across recordings fix the key with
//! `SPAWNSCOPE_ENV_KEY` (32 hex digits; for tests only) or an explicit key.
//! Traces written before format 1.1 have no `env_hash` header field; their
//! hashes are unkeyed FNV-1a and compare only within the trace too.
//!
//! ```
//! use spawnscope_format::{EnvKey, EnvSummary};
//! let a = EnvSummary::of([&b"PATH=/bin"[..], b"HOME=/root"]);
//! let b = EnvSummary::of([&b"PATH=/bin"[..], b"HOME=/root"]);
//! let key = EnvKey::random();
//! assert_eq!(key.hash(&a), key.hash(&b));
//! assert_ne!(key.hash(&a), EnvKey::random().hash(&a));
//! assert_eq!(key.hash(&a).len(), 16);
//! ```

use std::hash::Hasher;

use serde::{Deserialize, Serialize};
use siphasher::sip128::{Hasher128, SipHasher13};

/// Environment variable that fixes the env-hash key of recordings and
/// imports (32 hex digits). For tests that compare hashes across traces;
/// never set it for traces you share.
pub const ENV_KEY_VAR: &str = "SPAWNSCOPE_ENV_KEY";

/// The scheme name written in [`EnvHashInfo::scheme`].
pub const ENV_HASH_SCHEME: &str = "siphash13-keyed";

/// Count, bytes and digest of an environment block, computed the same way
/// by the tracer and the strace importer.
#[derive(Debug, Clone, Copy)]
pub struct EnvSummary {
    pub count: u64,
    /// Sum of `len(KEY=VALUE) + 1` (the NUL) over all strings.
    pub bytes: u64,
    digest: SipHasher13,
}

impl PartialEq for EnvSummary {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count && self.bytes == other.bytes && self.digest() == other.digest()
    }
}

impl Eq for EnvSummary {}

impl Default for EnvSummary {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvSummary {
    pub fn new() -> Self {
        EnvSummary { count: 0, bytes: 0, digest: SipHasher13::new_with_keys(0, 0) }
    }

    /// Adds one `KEY=VALUE` string (without its NUL).
    pub fn add(&mut self, var: &[u8]) {
        self.count += 1;
        self.bytes += var.len() as u64 + 1;
        self.digest.write(var);
        self.digest.write(&[0]);
    }

    /// Summary of a list of strings.
    pub fn of<'a>(vars: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut s = Self::new();
        for v in vars {
            s.add(v);
        }
        s
    }

    /// The hash under a fixed all-zero key: anyone can recompute it, so
    /// it is NOT what a trace stores (use [`EnvKey::hash`]). Left for code
    /// that has no key yet.
    pub fn hash_hex(&self) -> String {
        EnvKey::from_bytes([0; 16]).hash(self)
    }

    fn digest(&self) -> [u8; 16] {
        self.digest.finish128().as_bytes()
    }
}

/// A per-recording key for the environment hash. Its bytes never leave the
/// process: traces store only [`EnvKey::id`].
#[derive(Clone, PartialEq, Eq)]
pub struct EnvKey([u8; 16]);

impl std::fmt::Debug for EnvKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EnvKey(id {})", self.id())
    }
}

impl EnvKey {
    /// A fresh random key from the operating system.
    pub fn random() -> EnvKey {
        let mut k = [0u8; 16];
        if getrandom::fill(&mut k).is_err() {
            // No OS randomness (should not happen): fall back to std's
            // randomly seeded hasher keys plus time and pid, still unknown
            // to whoever reads the trace.
            use std::hash::BuildHasher;
            for (i, chunk) in k.chunks_mut(8).enumerate() {
                let h = std::collections::hash_map::RandomState::new().hash_one((
                    i,
                    std::process::id(),
                    std::time::SystemTime::now(),
                ));
                chunk.copy_from_slice(&h.to_le_bytes());
            }
        }
        EnvKey(k)
    }

    /// A key from its bytes (tests).
    pub fn from_bytes(bytes: [u8; 16]) -> EnvKey {
        EnvKey(bytes)
    }

    /// A key from 32 hex digits.
    pub fn from_hex(s: &str) -> Option<EnvKey> {
        let s = s.trim();
        if s.len() != 32 || !s.is_ascii() {
            return None;
        }
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(EnvKey(k))
    }

    /// The key of a new recording or import: `explicit` if given, else the
    /// one in [`ENV_KEY_VAR`] (tests), else a random one. An unusable
    /// `SPAWNSCOPE_ENV_KEY` is an error, so a test never silently compares
    /// hashes made with two random keys.
    pub fn for_recording(explicit: Option<&EnvKey>) -> Result<EnvKey, EnvKeyError> {
        if let Some(k) = explicit {
            return Ok(k.clone());
        }
        match std::env::var(ENV_KEY_VAR) {
            Ok(v) if !v.is_empty() => EnvKey::from_hex(&v).ok_or(EnvKeyError { value: v.chars().take(64).collect() }),
            _ => Ok(EnvKey::random()),
        }
    }

    /// The stored `env_hash` of an environment: 16 lowercase hex digits.
    pub fn hash(&self, env: &EnvSummary) -> String {
        let mut h = SipHasher13::new_with_key(&self.0);
        h.write(&env.digest());
        format!("{:016x}", h.finish())
    }

    /// A public identifier of the key (16 hex digits): traces with the same
    /// id have comparable hashes. It reveals nothing about the key.
    pub fn id(&self) -> String {
        let mut h = SipHasher13::new_with_key(&self.0);
        h.write(b"spawnscope env-hash key id");
        format!("{:016x}", h.finish())
    }

    /// What the header says about this key.
    pub fn info(&self) -> EnvHashInfo {
        EnvHashInfo { scheme: ENV_HASH_SCHEME.to_string(), key_id: self.id() }
    }
}

/// `SPAWNSCOPE_ENV_KEY` is set but is not 32 hex digits.
#[derive(Debug, thiserror::Error)]
#[error("{ENV_KEY_VAR}={value:?} is not a key of 32 hex digits (it is meant for tests; unset it)")]
pub struct EnvKeyError {
    value: String,
}

/// How `env_hash` values of a trace were made (`header.env_hash`, format
/// 1.1). Absent in older traces: their hashes are unkeyed FNV-1a.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvHashInfo {
    /// [`ENV_HASH_SCHEME`]: SipHash-1-3 under a per-trace key of the
    /// SipHash-1-3-128 digest of the block (`KEY=VALUE\0` each, in order).
    pub scheme: String,
    /// [`EnvKey::id`] of the key; the key itself is never stored.
    pub key_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_boundaries_matter() {
        let k = EnvKey::from_bytes([7; 16]);
        let ab = EnvSummary::of([&b"A=1"[..], b"B=2"]);
        let ba = EnvSummary::of([&b"B=2"[..], b"A=1"]);
        let joined = EnvSummary::of([&b"A=1\0B=2"[..]]);
        assert_ne!(k.hash(&ab), k.hash(&ba));
        // Strings are NUL-terminated in the block, as the kernel passes
        // them: a string cannot contain a NUL, so equal digests here are
        // equal blocks; count and bytes still tell these apart.
        assert_eq!(k.hash(&ab), k.hash(&joined));
        assert_ne!(ab, joined);
    }

    #[test]
    fn hex_keys() {
        let k = EnvKey::from_hex("000102030405060708090a0b0c0d0e0f").unwrap();
        assert_eq!(k, EnvKey::from_bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]));
        assert!(EnvKey::from_hex("00").is_none());
        assert!(EnvKey::from_hex("zz0102030405060708090a0b0c0d0e0f").is_none());
        assert_ne!(k.id(), EnvKey::from_bytes([1; 16]).id());
        assert!(!format!("{k:?}").contains("0001020304"));
    }
}
