//! The syntax tree a template is parsed into once, at deploy time. Variable
//! names are resolved to slot numbers here so that rendering looks variables
//! up by index, without hashing or allocating.

/// Index of a variable slot (see `Template::names`).
pub(crate) type VarId = u32;

/// Byte offset into the template source; turned into line:column on error.
pub(crate) type Offset = u32;

/// A node of template text.
#[derive(Debug)]
pub(crate) enum Node {
    /// Literal text, emitted as is.
    Text(Box<str>),
    /// `$a.b(...)`: rendered as its value, or as its source text when null.
    Ref(Box<Reference>),
    /// `\$a`, `\\$a`, ...: Velocity's escaping of references.
    EscapedRef {
        slashes: usize,
        reference: Box<Reference>,
    },
    /// `#set($target = value)`.
    Set { target: Box<Reference>, value: Expr },
    /// `#if` / `#elseif` branches, then the optional `#else`.
    If {
        branches: Vec<(Expr, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    /// `#foreach($var in iter) body #end`.
    Foreach {
        var: VarId,
        iter: Expr,
        body: Vec<Node>,
        at: Offset,
    },
    /// `#break`: leaves the innermost `#foreach`.
    Break,
    /// `#stop`: ends the render, keeping the output so far.
    Stop,
    /// `#define($var) body #end`: `$var` renders the body when referenced.
    Define { var: VarId, body: Vec<Node> },
    /// `#name(args)`: a call of a macro defined earlier in the template.
    MacroCall {
        index: usize,
        args: Vec<Expr>,
        at: Offset,
    },
}

/// A macro defined with `#macro(name $p1 $p2) body #end`.
#[derive(Debug)]
pub(crate) struct Macro {
    pub(crate) params: Vec<VarId>,
    pub(crate) body: Vec<Node>,
}

/// A reference: a root variable followed by properties, calls and indexes.
#[derive(Debug)]
pub(crate) struct Reference {
    pub(crate) root: VarId,
    pub(crate) parts: Vec<Part>,
    /// `$!a`: renders as nothing when null.
    pub(crate) quiet: bool,
    /// The reference's source text, rendered verbatim when it is null.
    pub(crate) raw: Box<str>,
    pub(crate) at: Offset,
}

/// One step of a reference chain.
#[derive(Debug)]
pub(crate) enum Part {
    /// `.name`: a property (`getName()`, `get("name")`, map key).
    Prop(Box<str>),
    /// `.name(args)`: a method call.
    Method(Box<str>, Vec<Expr>),
    /// `[expr]`: list index or map key.
    Index(Expr),
}

/// Binary operators, by precedence group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// An expression inside a directive or a method argument.
#[derive(Debug)]
pub(crate) enum Expr {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A single-quoted string, or a double-quoted one with nothing to interpolate.
    Str(Box<str>),
    /// A double-quoted string with references or directives inside.
    Interp(Vec<Node>),
    Ref(Box<Reference>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Range(Box<Expr>, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}
