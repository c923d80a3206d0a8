//! Error types: parse errors carry a position so deploy-time validation can
//! point the API author at the exact spot; render errors say what limit or
//! call failed so the data plane can log it and answer 500.

use thiserror::Error;

/// A template that could not be parsed. Raised at save/deploy time, never at
/// request time; `Display` is `line:column: message` (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line of the offending character.
    pub line: usize,
    /// 1-based column (in characters) of the offending character.
    pub column: usize,
    /// What was wrong, in words.
    pub message: String,
}

/// Why a render failed. Rendering never panics and never hangs: every bound
/// that is exceeded surfaces here.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    /// A `#foreach` ran more iterations than allowed (API Gateway: 1,000).
    #[error("{line}:{column}: #foreach exceeded {limit} iterations")]
    ForeachLimit {
        /// Line of the `#foreach`.
        line: usize,
        /// Column of the `#foreach`.
        column: usize,
        /// The limit in force.
        limit: usize,
    },
    /// All loops together ran more iterations than allowed.
    #[error("total loop iterations exceeded {0}")]
    TotalIterations(usize),
    /// The output (or a string built while rendering) grew past the bound.
    #[error("output exceeded {0} bytes")]
    OutputTooLarge(usize),
    /// A list, map or range grew past the bound.
    #[error("collection exceeded {0} elements")]
    CollectionTooLarge(usize),
    /// Macros called macros too deeply.
    #[error("{line}:{column}: macro call depth exceeded {limit}")]
    MacroDepth {
        /// Line of the call.
        line: usize,
        /// Column of the call.
        column: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A method threw, in Java terms (index out of range, bad regex, ...).
    #[error("{line}:{column}: invocation of method '{method}' failed: {message}")]
    Method {
        /// Line of the reference.
        line: usize,
        /// Column of the reference.
        column: usize,
        /// Method name.
        method: String,
        /// What went wrong.
        message: String,
    },
}

impl RenderError {
    /// Position of the error in the template, when it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            RenderError::ForeachLimit { line, column, .. }
            | RenderError::MacroDepth { line, column, .. }
            | RenderError::Method { line, column, .. } => Some((*line, *column)),
            _ => None,
        }
    }
}
