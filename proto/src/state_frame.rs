//! The framing of a node's saved state: the data-plane state file and the copy the control
//! planes publish to Redis for brand-new nodes share it, so one reader checks both.
//!
//! Layout (integers little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `APIGWDPS` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 4 | flags: bit 0 private keys encrypted ([`FLAG_KEYS_ENCRYPTED`]), bit 1 private keys left out ([`FLAG_KEYS_LEFT_OUT`]) |
//! | 8 | payload length |
//! | 32 | SHA-256 of the payload |
//! | n | payload: the protobuf `ConfigUpdate` (`full = true`) |
//!
//! Anything with another magic, another version, a length that does not match or a
//! checksum that does not match is refused whole ([`FrameError`]).

use sha2::{Digest, Sha256};

/// The format written and read.
pub const FORMAT_VERSION: u32 = 1;
/// Flag: the private keys in the payload are sealed.
pub const FLAG_KEYS_ENCRYPTED: u32 = 1;
/// Flag: the private keys were left out of the payload.
pub const FLAG_KEYS_LEFT_OUT: u32 = 2;

const MAGIC: &[u8; 8] = b"APIGWDPS";
/// The header's length.
pub const HEADER_LEN: usize = 8 + 4 + 4 + 8 + 32;

/// Why framed bytes were refused.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Shorter than its header or than the length it announces.
    #[error("truncated: {len} bytes, {expected} expected")]
    Truncated {
        /// The size found.
        len: usize,
        /// What the header (or the header alone) needs.
        expected: usize,
    },
    /// Not a saved state.
    #[error("not a data-plane state (bad magic)")]
    Magic,
    /// Written in another format.
    #[error("format version {found}, this node reads version {supported} only")]
    Version {
        /// The version found.
        found: u32,
        /// [`FORMAT_VERSION`].
        supported: u32,
    },
    /// Longer than the length it announces.
    #[error("{extra} trailing bytes after the payload")]
    Trailing {
        /// How many.
        extra: usize,
    },
    /// The payload is not what was written.
    #[error("checksum mismatch (corrupted)")]
    Checksum,
}

/// Header + payload.
pub fn frame(payload: &[u8], flags: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// The flags and the checked payload of framed `bytes`.
pub fn unframe(bytes: &[u8]) -> Result<(u32, &[u8]), FrameError> {
    if bytes.len() < HEADER_LEN {
        return Err(FrameError::Truncated {
            len: bytes.len(),
            expected: HEADER_LEN,
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(FrameError::Magic);
    }
    let word = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&bytes[at..at + 4]);
        u32::from_le_bytes(b)
    };
    let version = word(8);
    if version != FORMAT_VERSION {
        return Err(FrameError::Version {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let flags = word(12);
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[16..24]);
    let len = u64::from_le_bytes(len);
    let available = (bytes.len() - HEADER_LEN) as u64;
    if len > available {
        return Err(FrameError::Truncated {
            len: bytes.len(),
            expected: HEADER_LEN.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)),
        });
    }
    if len < available {
        return Err(FrameError::Trailing {
            extra: (available - len) as usize,
        });
    }
    let payload = &bytes[HEADER_LEN..];
    if Sha256::digest(payload).as_slice() != &bytes[24..56] {
        return Err(FrameError::Checksum);
    }
    Ok((flags, payload))
}
