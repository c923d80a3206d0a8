//! Secrets at rest — API key values, access-key secrets, the generated session signing
//! key: AES-256-GCM encryption under the master key; and the SHA-256 lookup hash of API
//! key values that is indexed in Postgres and streamed to data-plane nodes.
//!
//! Why these: AES-GCM (RustCrypto `aes-gcm`, audited, constant-time, hardware-accelerated)
//! is an AEAD, so a tampered or swapped ciphertext fails to decrypt instead of yielding a
//! wrong key; a fresh random 96-bit nonce per value is stored in front of the ciphertext.
//! The lookup hash is an unkeyed SHA-256 (`sha2`): nodes must compute it from the
//! `x-api-key` header without holding any secret, and key values are long random strings
//! (≥ 30 generated, ≥ 20 imported characters), so the hash does not make them guessable.
//!
//! Keys handed to others are derived, never the master key itself: the stage cache's
//! per-stage data keys ([`KeyVault::stage_cache_key`]) are HKDF-SHA256 (RFC 5869, `hkdf`)
//! outputs, from which the master key cannot be recovered.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use hkdf::Hkdf;
use rand::Rng;
use sha2::{Digest, Sha256};

/// The development master key, used (with a loud warning) when none is configured.
pub const DEV_MASTER_KEY: &str = "apigw-local-development-master-key-change-me";

const NONCE_LEN: usize = 12;

/// HKDF's salt for every key derived from the master key (RFC 5869's extract step).
const DERIVATION_SALT: &[u8] = b"apigw key derivation v1";

/// The `info` prefix of the stage cache's data keys.
const STAGE_CACHE_INFO: &[u8] = b"apigw stage cache data key v1";

/// Why a stored value could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Shorter than a nonce: not something we wrote.
    #[error("stored ciphertext is truncated")]
    Truncated,
    /// Authentication failed: wrong master key or tampered data.
    #[error("stored ciphertext does not decrypt under the configured master key")]
    Decrypt,
    /// The plaintext is not UTF-8 (never written by us).
    #[error("stored key value is not UTF-8")]
    NotUtf8,
}

/// Encrypts and decrypts key values with the master key.
#[derive(Clone)]
pub struct KeyVault {
    cipher: Aes256Gcm,
    /// HKDF's pseudorandom key extracted from the master key: derived keys come from it.
    derive: Hkdf<Sha256>,
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyVault(..)")
    }
}

impl KeyVault {
    /// A vault from the configured master key: 32 bytes as 64 hex digits or base64 are
    /// used as they are; any other text is a passphrase stretched with SHA-256.
    pub fn from_master_key(master: &str) -> Self {
        let master = master.trim();
        let raw: [u8; 32] = hex::decode(master)
            .ok()
            .or_else(|| {
                base64::engine::general_purpose::STANDARD
                    .decode(master)
                    .ok()
            })
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .unwrap_or_else(|| Sha256::digest(master.as_bytes()).into());
        KeyVault {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw)),
            derive: Hkdf::<Sha256>::new(Some(DERIVATION_SALT), &raw),
        }
    }

    /// The stage cache's data key of a stage (AES-256): HKDF-SHA256 of the master key with
    /// the API id, the stage name, the stage's random `incarnation` (a stage deleted and
    /// created again gets a new one) and its cache epoch (FlushStageCache) as `info`, each
    /// length-prefixed. Nodes get this, never the master key; a new master key, a
    /// recreated stage or a flush gives a new key, and entries sealed under the old one
    /// no longer open.
    pub fn stage_cache_key(
        &self,
        api_id: &str,
        stage_name: &str,
        incarnation: &[u8],
        cache_epoch: i64,
    ) -> [u8; 32] {
        let mut info = Vec::with_capacity(STAGE_CACHE_INFO.len() + 64 + incarnation.len());
        info.extend_from_slice(STAGE_CACHE_INFO);
        for part in [
            api_id.as_bytes(),
            stage_name.as_bytes(),
            incarnation,
            &cache_epoch.to_le_bytes(),
        ] {
            info.extend_from_slice(&(part.len() as u32).to_le_bytes());
            info.extend_from_slice(part);
        }
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32): expand cannot fail.
        let _ = self.derive.expand(&info, &mut key);
        key
    }

    /// `nonce || ciphertext` of `value`.
    pub fn encrypt(&self, value: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = self
            .cipher
            .encrypt(&nonce, value.as_bytes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// The value encrypted by [`KeyVault::encrypt`].
    pub fn decrypt(&self, stored: &[u8]) -> Result<String, VaultError> {
        if stored.len() < NONCE_LEN {
            return Err(VaultError::Truncated);
        }
        let (nonce, ct) = stored.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| VaultError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| VaultError::NotUtf8)
    }
}

/// Encrypts the secrets that rows written before migration 0005 hold in plaintext
/// (access-key secrets, the generated session signing key), in one transaction; a no-op
/// once everything is sealed.
pub async fn seal_stored_secrets(db: &sqlx::PgPool, vault: &KeyVault) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let keys = crate::store::console_secrets::seal_column(
        &mut tx,
        vault,
        "access_keys",
        "access_key_id",
        "secret",
    )
    .await?;
    let secrets = crate::store::console_secrets::seal_column(
        &mut tx,
        vault,
        "console_secrets",
        "name",
        "value",
    )
    .await?;
    tx.commit().await?;
    if keys + secrets > 0 {
        tracing::info!(
            access_keys = keys,
            console_secrets = secrets,
            "encrypted secrets stored in plaintext by an earlier version"
        );
    }
    Ok(())
}

/// The lookup hash of a key value (what nodes receive and compute per request).
pub fn lookup_hash(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

/// A new key value: 40 random alphanumerics (~238 bits), as AWS generates 40-character keys.
pub fn generate_value() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper_detection() {
        let vault = KeyVault::from_master_key("passphrase");
        let value = generate_value();
        assert!(value.len() >= 30);
        let stored = vault.encrypt(&value);
        assert_ne!(
            &stored[NONCE_LEN..],
            value.as_bytes(),
            "not stored in clear"
        );
        assert_eq!(vault.decrypt(&stored).unwrap(), value);
        let again = vault.encrypt(&value);
        assert_ne!(stored, again, "fresh nonce per encryption");
        let mut tampered = stored.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(vault.decrypt(&tampered), Err(VaultError::Decrypt)));
        let other = KeyVault::from_master_key("another");
        assert!(matches!(other.decrypt(&stored), Err(VaultError::Decrypt)));
        assert!(matches!(vault.decrypt(&[1, 2]), Err(VaultError::Truncated)));
    }

    #[test]
    fn master_key_forms() {
        let hex_key = "00".repeat(32);
        let a = KeyVault::from_master_key(&hex_key);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
        let b = KeyVault::from_master_key(&b64);
        assert_eq!(b.decrypt(&a.encrypt("x")).unwrap(), "x");
    }

    #[test]
    fn stage_cache_keys_are_derived_per_stage_incarnation_and_epoch() {
        let vault = KeyVault::from_master_key("passphrase");
        let key = vault.stage_cache_key("api", "prod", b"one", 0);
        assert_eq!(key, vault.stage_cache_key("api", "prod", b"one", 0));
        for other in [
            vault.stage_cache_key("api", "beta", b"one", 0),
            vault.stage_cache_key("apx", "prod", b"one", 0),
            vault.stage_cache_key("api", "prod", b"two", 0),
            vault.stage_cache_key("api", "prod", b"one", 1),
            // Length prefixes: moving a byte between parts changes the key.
            vault.stage_cache_key("apip", "rod", b"one", 0),
            KeyVault::from_master_key("another").stage_cache_key("api", "prod", b"one", 0),
        ] {
            assert_ne!(key, other);
        }
        let master: [u8; 32] = Sha256::digest(b"passphrase").into();
        assert_ne!(key, master, "never the master key itself");
    }

    #[test]
    fn lookup_hash_is_sha256() {
        assert_eq!(
            hex::encode(lookup_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
