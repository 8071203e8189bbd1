//! The subcommands of `sipws`, one module each.

pub(crate) mod connect;
pub(crate) mod demo;
pub(crate) mod parse;
pub(crate) mod serve;
pub(crate) mod sip;
