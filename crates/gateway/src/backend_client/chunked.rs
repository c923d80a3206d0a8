//! `Transfer-Encoding: chunked` (RFC 9112 §7.1): an incremental decoder for backend
//! response bodies, fed whatever the socket delivered, and the framing of request bodies
//! of unknown length.
//!
//! The decoder is strict where laxness would let a backend desynchronise the connection
//! (size lines are hex digits, optional extensions, CRLF; data is followed by CRLF) and
//! bounds everything it has to buffer (size digits, extensions, trailers). Trailers are
//! read and dropped, as API Gateway does.

use bytes::{Buf, Bytes, BytesMut};

/// Longest chunk extension accepted, in bytes.
const MAX_EXTENSION: usize = 4096;
/// Most trailer bytes accepted.
const MAX_TRAILERS: usize = 16 * 1024;

/// What a decoding step produced.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decoded {
    /// Body bytes (a slice of the read buffer, no copy).
    Data(Bytes),
    /// The buffer is exhausted mid-message: read more and call again.
    NeedMore,
    /// The last chunk and the trailers are consumed: the message is complete.
    Done,
}

/// Why a chunked body is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    /// A chunk-size line is not hex digits, extensions and CRLF.
    #[error("invalid chunk size line")]
    SizeLine,
    /// A chunk size does not fit in 64 bits.
    #[error("chunk size overflows")]
    SizeOverflow,
    /// A chunk's data is not followed by CRLF.
    #[error("chunk data not followed by CRLF")]
    DataEnd,
    /// A chunk extension exceeds the limit.
    #[error("chunk extension too long")]
    ExtensionTooLong,
    /// The trailer section is malformed or exceeds the limit.
    #[error("invalid or oversized trailers")]
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the size's hex digits (`digits` so far).
    Size { value: u64, digits: u8 },
    /// After the size, in `;ext` (or whitespace before it), `len` bytes so far.
    Extension { value: u64, len: usize },
    /// After the size line's CR.
    SizeLf { value: u64 },
    /// `remaining` bytes of chunk data to go.
    Data { remaining: u64 },
    /// Expecting the CR after a chunk's data.
    DataCr,
    /// Expecting the LF after a chunk's data.
    DataLf,
    /// At the start of a trailer line (or the final empty line).
    TrailerStart { seen: usize },
    /// Inside a trailer field line.
    TrailerLine { seen: usize },
    /// After a trailer line's CR.
    TrailerLf { seen: usize },
    /// After the final empty line's CR.
    EndLf,
    /// The message is complete.
    Done,
}

/// An incremental chunked-body decoder.
#[derive(Debug, Clone)]
pub(super) struct ChunkedDecoder {
    state: State,
}

impl ChunkedDecoder {
    pub(super) fn new() -> Self {
        ChunkedDecoder {
            state: State::Size {
                value: 0,
                digits: 0,
            },
        }
    }

    /// Whether the terminating chunk and trailers have been read.
    #[cfg(test)]
    pub(super) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes the framing before the next chunk's data (its size line, extensions
    /// included) and no data: `true` once that line is complete, `false` when `buf` ran
    /// out first.
    pub(super) fn read_size_line(&mut self, buf: &mut BytesMut) -> Result<bool, ChunkedError> {
        loop {
            if !matches!(
                self.state,
                State::Size { .. } | State::Extension { .. } | State::SizeLf { .. }
            ) {
                return Ok(true);
            }
            let Some(&byte) = buf.first() else {
                return Ok(false);
            };
            buf.advance(1);
            self.state = step(self.state, byte)?;
        }
    }

    /// Consumes framing from `buf` until it can return data, needs more input, or ends.
    pub(super) fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ChunkedError> {
        loop {
            if let State::Data { remaining } = self.state {
                if buf.is_empty() {
                    return Ok(Decoded::NeedMore);
                }
                let take = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
                let rest = remaining - take as u64;
                self.state = if rest == 0 {
                    State::DataCr
                } else {
                    State::Data { remaining: rest }
                };
                return Ok(Decoded::Data(buf.split_to(take).freeze()));
            }
            if self.state == State::Done {
                return Ok(Decoded::Done);
            }
            let Some(&byte) = buf.first() else {
                return Ok(Decoded::NeedMore);
            };
            buf.advance(1);
            self.state = step(self.state, byte)?;
        }
    }
}

/// One framing byte.
fn step(state: State, byte: u8) -> Result<State, ChunkedError> {
    Ok(match state {
        State::Size { value, digits } => match byte {
            b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                if digits == 16 {
                    return Err(ChunkedError::SizeOverflow);
                }
                let digit = u64::from(hex(byte));
                State::Size {
                    value: value.checked_mul(16).ok_or(ChunkedError::SizeOverflow)? + digit,
                    digits: digits + 1,
                }
            }
            _ if digits == 0 => return Err(ChunkedError::SizeLine),
            b'\r' => State::SizeLf { value },
            b';' | b' ' | b'\t' => State::Extension { value, len: 1 },
            _ => return Err(ChunkedError::SizeLine),
        },
        State::Extension { value, len } => match byte {
            b'\r' => State::SizeLf { value },
            b'\n' => return Err(ChunkedError::SizeLine),
            _ if len >= MAX_EXTENSION => return Err(ChunkedError::ExtensionTooLong),
            _ => State::Extension {
                value,
                len: len + 1,
            },
        },
        State::SizeLf { value } => match byte {
            b'\n' if value == 0 => State::TrailerStart { seen: 0 },
            b'\n' => State::Data { remaining: value },
            _ => return Err(ChunkedError::SizeLine),
        },
        // `decode` consumes data and stops at `Done` itself; never stepped byte by byte.
        State::Data { .. } | State::Done => return Err(ChunkedError::SizeLine),
        State::DataCr => match byte {
            b'\r' => State::DataLf,
            _ => return Err(ChunkedError::DataEnd),
        },
        State::DataLf => match byte {
            b'\n' => State::Size {
                value: 0,
                digits: 0,
            },
            _ => return Err(ChunkedError::DataEnd),
        },
        State::TrailerStart { seen } => match byte {
            b'\r' => State::EndLf,
            b'\n' => return Err(ChunkedError::Trailers),
            _ => State::TrailerLine { seen: seen + 1 },
        },
        State::TrailerLine { seen } => match byte {
            _ if seen >= MAX_TRAILERS => return Err(ChunkedError::Trailers),
            b'\r' => State::TrailerLf { seen: seen + 1 },
            b'\n' => return Err(ChunkedError::Trailers),
            _ => State::TrailerLine { seen: seen + 1 },
        },
        State::TrailerLf { seen } => match byte {
            b'\n' => State::TrailerStart { seen: seen + 1 },
            _ => return Err(ChunkedError::Trailers),
        },
        State::EndLf => match byte {
            b'\n' => State::Done,
            _ => return Err(ChunkedError::Trailers),
        },
    })
}

fn hex(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => byte - b'0',
        b'a'..=b'f' => byte - b'a' + 10,
        _ => byte - b'A' + 10,
    }
}

/// The size line that starts a chunk of `len` bytes (`len` > 0).
pub(super) fn chunk_header(len: usize, out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let start = out.len();
    let mut rest = len;
    loop {
        out.push(DIGITS[rest % 16]);
        rest /= 16;
        if rest == 0 {
            break;
        }
    }
    out[start..].reverse();
    out.extend_from_slice(b"\r\n");
}

/// The last chunk and the end of an (empty) trailer section.
pub(super) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes.
    fn decode_in_steps(input: &[u8], step: usize) -> Result<(Vec<u8>, bool, usize), ChunkedError> {
        let mut decoder = ChunkedDecoder::new();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut fed = 0;
        loop {
            match decoder.decode(&mut buf)? {
                Decoded::Data(data) => body.extend_from_slice(&data),
                Decoded::Done => return Ok((body, true, buf.len() + input.len() - fed)),
                Decoded::NeedMore => {
                    if fed == input.len() {
                        return Ok((body, false, 0));
                    }
                    let end = (fed + step).min(input.len());
                    buf.extend_from_slice(&input[fed..end]);
                    fed = end;
                }
            }
        }
    }

    #[test]
    fn decodes_chunks_whatever_the_read_boundaries() {
        let input = b"3\r\nhel\r\n2;ext=1\r\nlo\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
        for step in 1..=input.len() {
            let (body, done, left) = decode_in_steps(input, step).unwrap();
            assert_eq!(body, b"hello0123456789", "step {step}");
            assert!(done && left == 0, "step {step}");
        }
    }

    #[test]
    fn stops_at_the_end_of_the_message() {
        let mut buf = BytesMut::from(&b"1\r\na\r\n0\r\n\r\nHTTP/1.1 200 OK"[..]);
        let mut decoder = ChunkedDecoder::new();
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Decoded::Data(Bytes::from("a"))
        );
        assert_eq!(decoder.decode(&mut buf).unwrap(), Decoded::Done);
        assert!(decoder.is_done());
        assert_eq!(&buf[..], b"HTTP/1.1 200 OK");
    }

    #[test]
    fn rejects_malformed_framing() {
        for (input, error) in [
            (&b"x\r\n"[..], ChunkedError::SizeLine),
            (b"\r\n", ChunkedError::SizeLine),
            (b";ext\r\n", ChunkedError::SizeLine),
            (b"3\nabc", ChunkedError::SizeLine),
            (b"3\r\nabcX", ChunkedError::DataEnd),
            (b"3\r\nabc\rX", ChunkedError::DataEnd),
            (b"11111111111111111\r\n", ChunkedError::SizeOverflow),
            (b"0\r\nbad\n", ChunkedError::Trailers),
            (b"0\r\n\rX", ChunkedError::Trailers),
        ] {
            assert_eq!(decode_in_steps(input, 1).unwrap_err(), error, "{input:?}");
            assert_eq!(
                decode_in_steps(input, input.len()).unwrap_err(),
                error,
                "{input:?}"
            );
        }
        let long_ext = [&b"1;"[..], &[b'e'; MAX_EXTENSION + 1], b"\r\n"].concat();
        assert_eq!(
            decode_in_steps(&long_ext, 64).unwrap_err(),
            ChunkedError::ExtensionTooLong
        );
        let long_trailer = [&b"0\r\nX: "[..], &[b't'; MAX_TRAILERS + 1], b"\r\n\r\n"].concat();
        assert_eq!(
            decode_in_steps(&long_trailer, 64).unwrap_err(),
            ChunkedError::Trailers
        );
    }

    #[test]
    fn the_largest_chunk_size_is_accepted() {
        let mut buf = BytesMut::from(&b"FFFFFFFFFFFFFFFF\r\nab"[..]);
        let mut decoder = ChunkedDecoder::new();
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Decoded::Data(Bytes::from("ab"))
        );
        assert_eq!(decoder.decode(&mut buf).unwrap(), Decoded::NeedMore);
    }

    #[test]
    fn the_size_line_is_read_alone() {
        let mut decoder = ChunkedDecoder::new();
        let mut buf = BytesMut::from(&b"5;x"[..]);
        assert!(!decoder.read_size_line(&mut buf).unwrap());
        buf.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        assert!(decoder.read_size_line(&mut buf).unwrap());
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Decoded::Data(Bytes::from("hello"))
        );
        let mut bad = BytesMut::from(&b"ffffffffffffffffff\r\n"[..]);
        assert_eq!(
            ChunkedDecoder::new().read_size_line(&mut bad).unwrap_err(),
            ChunkedError::SizeOverflow
        );
    }

    #[test]
    fn an_incomplete_message_is_not_done() {
        let (body, done, _) = decode_in_steps(b"5\r\nhel", 2).unwrap();
        assert_eq!((body.as_slice(), done), (&b"hel"[..], false));
    }

    #[test]
    fn encodes_chunk_headers_in_hex() {
        for (len, text) in [(1, &b"1\r\n"[..]), (255, b"FF\r\n"), (4096, b"1000\r\n")] {
            let mut out = b"x".to_vec();
            chunk_header(len, &mut out);
            assert_eq!(&out[1..], text);
        }
    }
}
