//! A byte cursor over template source with the character classes Velocity
//! 1.7 uses, and the mapping from byte offsets to line:column.

/// Position-tracking cursor over (part of) the template source.
pub(crate) struct Cursor<'s> {
    pub(crate) src: &'s str,
    pub(crate) pos: usize,
    /// Offset of `src` inside the whole template (for interpolated strings).
    pub(crate) base: usize,
}

impl<'s> Cursor<'s> {
    pub(crate) fn new(src: &'s str, base: usize) -> Self {
        Cursor { src, pos: 0, base }
    }

    pub(crate) fn bytes(&self) -> &'s [u8] {
        self.src.as_bytes()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.bytes().get(self.pos + n).copied()
    }

    pub(crate) fn starts_with(&self, s: &str) -> bool {
        self.src.as_bytes()[self.pos.min(self.src.len())..].starts_with(s.as_bytes())
    }

    /// Absolute offset of the cursor in the whole template.
    pub(crate) fn abs(&self) -> usize {
        self.base + self.pos
    }

    /// Skips spaces and tabs.
    pub(crate) fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Skips all whitespace including newlines (inside directives).
    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// After a directive: eats `[ \t]*` plus one newline, only if the newline is there.
    pub(crate) fn eat_line_end(&mut self) {
        let b = self.bytes();
        let mut p = self.pos;
        while matches!(b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        match b.get(p) {
            Some(b'\n') => self.pos = p + 1,
            Some(b'\r') => {
                self.pos = if b.get(p + 1) == Some(&b'\n') {
                    p + 2
                } else {
                    p + 1
                };
            }
            _ => {}
        }
    }

    /// Reads an identifier (Velocity allows `-` and `_` after the first letter).
    pub(crate) fn ident(&mut self) -> Option<&'s str> {
        let b = self.bytes();
        let start = self.pos;
        if !matches!(b.get(start), Some(c) if c.is_ascii_alphabetic() || *c == b'_') {
            return None;
        }
        let mut p = start + 1;
        while matches!(b.get(p), Some(c) if is_ident_char(*c)) {
            p += 1;
        }
        self.pos = p;
        Some(&self.src[start..p])
    }

    /// Reads a directive or macro name (letters, digits, `_`).
    pub(crate) fn word(&mut self) -> Option<&'s str> {
        let b = self.bytes();
        let start = self.pos;
        if !matches!(b.get(start), Some(c) if c.is_ascii_alphabetic() || *c == b'_') {
            return None;
        }
        let mut p = start + 1;
        while matches!(b.get(p), Some(c) if c.is_ascii_alphanumeric() || *c == b'_') {
            p += 1;
        }
        self.pos = p;
        Some(&self.src[start..p])
    }
}

/// Characters allowed after the first in a Velocity identifier.
pub(crate) fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Line-start table for turning offsets into 1-based line:column.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(src: &str) -> Self {
        let mut starts = vec![0];
        let b = src.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    /// 1-based (line, column) of a byte offset; columns count characters.
    pub(crate) fn position(&self, src: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(src.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let col = src
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }
}
