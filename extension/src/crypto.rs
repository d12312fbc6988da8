//! Encryption of stored credentials: AES-256-GCM under a key derived from the passphrase
//! setting with Argon2id and a random salt per credential.
//!
//! Stored form: base64 of `salt (16) || nonce (12) || ciphertext+tag`.

use std::cell::RefCell;
use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;

#[derive(Debug, PartialEq, Eq)]
pub enum DecryptError {
    /// Not something this module wrote.
    Malformed,
    /// Authentication failed: another passphrase, or the value was altered.
    WrongKey,
}

thread_local! {
    // Argon2id is slow on purpose; derive each (passphrase, salt) key once per backend.
    static KEYS: RefCell<HashMap<(String, [u8; SALT_LEN]), [u8; 32]>> = RefCell::new(HashMap::new());
}

fn derive_key(passphrase: &str, salt: &[u8; SALT_LEN]) -> [u8; 32] {
    KEYS.with(|keys| {
        *keys.borrow_mut().entry((passphrase.to_string(), *salt)).or_insert_with(|| {
            let mut key = [0u8; 32];
            // OWASP's recommended Argon2id parameters: 19 MiB, 2 passes, 1 lane.
            let params = argon2::Params::new(19 * 1024, 2, 1, Some(32)).expect("constant parameters are valid");
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                .hash_password_into(passphrase.as_bytes(), salt, &mut key)
                .expect("salt and output lengths are valid");
            key
        })
    })
}

pub fn encrypt(passphrase: &str, plaintext: &str) -> String {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let cipher = Aes256Gcm::new(&derive_key(passphrase, &salt).into());
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes()).expect("AES-GCM encryption cannot fail");
    let mut out = Vec::with_capacity(SALT_LEN + NONCE_LEN + sealed.len());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    B64.encode(out)
}

pub fn decrypt(passphrase: &str, stored: &str) -> Result<String, DecryptError> {
    let raw = B64.decode(stored).map_err(|_| DecryptError::Malformed)?;
    if raw.len() < SALT_LEN + NONCE_LEN + 16 {
        return Err(DecryptError::Malformed);
    }
    let (salt, rest) = raw.split_at(SALT_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let salt: [u8; SALT_LEN] = salt.try_into().expect("split at SALT_LEN");
    let cipher = Aes256Gcm::new(&derive_key(passphrase, &salt).into());
    let plain = cipher.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| DecryptError::WrongKey)?;
    String::from_utf8(plain).map_err(|_| DecryptError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let sealed = encrypt("correct horse", "a2V5");
        assert!(!sealed.contains("a2V5"));
        assert_ne!(sealed, encrypt("correct horse", "a2V5"), "salt and nonce are random");
        assert_eq!(decrypt("correct horse", &sealed).unwrap(), "a2V5");
        assert_eq!(decrypt("battery staple", &sealed), Err(DecryptError::WrongKey));
        assert_eq!(decrypt("correct horse", "not base64!"), Err(DecryptError::Malformed));
        let mut tampered = B64.decode(&sealed).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(decrypt("correct horse", &B64.encode(tampered)), Err(DecryptError::WrongKey));
    }
}
