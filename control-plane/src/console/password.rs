//! Password hashing with argon2id (the `argon2` crate's defaults: m=19 MiB, t=2, p=1,
//! OWASP's recommended minimum), the password rules and the username rule.
//!
//! Hashing is CPU-bound for tens of milliseconds, so callers run it on the blocking pool.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;

use super::error::{ConsoleError, ConsoleResult};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (argon2 cost does not depend on it, but bodies are bounded).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Rejects passwords that are too short or too long, with a message saying which.
pub fn check_password_rules(password: &str) -> ConsoleResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ConsoleError::bad_request(format!(
            "Password must be at least {MIN_PASSWORD_LEN} characters long"
        )));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(ConsoleError::bad_request(format!(
            "Password must be at most {MAX_PASSWORD_LEN} characters long"
        )));
    }
    Ok(())
}

/// Usernames: 1–64 of `a-zA-Z0-9._@-`, so they are safe in logs, URLs and cookies.
pub fn check_username(name: &str) -> ConsoleResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ConsoleError::bad_request(
            "Username must be 1 to 64 characters of a-z, A-Z, 0-9, '.', '_', '@' or '-'",
        ))
    }
}

/// An argon2id PHC string (`$argon2id$v=19$...`) of `password` with a fresh random salt.
pub fn hash(password: &str) -> ConsoleResult<String> {
    let salt_bytes: [u8; 16] = rand::thread_rng().gen();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ConsoleError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ConsoleError::Internal(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC string `phc`; a malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the username is unknown so that an
/// unknown user costs the same time as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash(&random_password()).unwrap_or_default())
}

/// A random 24-character password for the generated first admin.
pub fn random_password() -> String {
    rand::thread_rng()
        .sample_iter(rand::distributions::Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

/// Runs [`hash`] on the blocking pool.
pub async fn hash_blocking(password: String) -> ConsoleResult<String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| ConsoleError::Internal(format!("hash task: {e}")))?
}

/// Runs [`verify`] on the blocking pool.
pub async fn verify_blocking(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, &phc))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a phc string"));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn password_rules() {
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules("twelve chars").is_ok());
        assert!(check_password_rules(&"x".repeat(300)).is_err());
        assert_eq!(random_password().len(), 24);
    }
}

#[cfg(test)]
mod username_tests {
    #[test]
    fn usernames() {
        assert!(super::check_username("alice.b@example-1_x").is_ok());
        assert!(super::check_username("").is_err());
        assert!(super::check_username("a b").is_err());
        assert!(super::check_username(&"a".repeat(65)).is_err());
    }
}
