//! The subcommands of `sipws`, one module each.

pub(crate) mod connect;
pub(crate) mod demo;
pub(crate) mod ladder;
pub(crate) mod listen;
pub(crate) mod media;
pub(crate) mod parse;
pub(crate) mod serve;
pub(crate) mod sip;
