//! Gateway responses (SPEC 5.8): the single place where an error the gateway itself
//! produces becomes an HTTP response. [`ErrorScope`] is what routing captured for that
//! (the stage, the method, the parts of the request that customisations read);
//! [`render`] picks the customisation and renders it. Customisations are compiled by
//! [`crate::compile::gateway_responses`]; the error type is [`crate::error`].

mod render;
mod scope;

pub use render::{render, render_http_api};
pub use scope::ErrorScope;
