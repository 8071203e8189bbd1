//! `sipws`: the command-line tool of the sipws SIP-over-WebSocket stack.
//!
//! One module per subcommand under `cmd/`; this file only parses the
//! command line and maps each command's outcome to the process exit code.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// SIP over WebSocket (RFC 7118) from the command line.
#[derive(Debug, Parser)]
#[command(name = "sipws", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Play the whole SIP-over-WebSocket story on loopback: testbed, two
    /// user agents, registration, calls, NOTIFY, INFO, keepalive, reconnect.
    Demo(cmd::demo::Args),
    /// Parse one SIP message and print its JSON form (or a summary).
    Parse(cmd::parse::Args),
    /// Open a link to a server and keep it alive, printing each link event
    /// (pings, pongs, deaths, reconnects) with its time since start.
    Connect(Box<cmd::connect::Args>),
    /// Run the embedded testbed on loopback (registrar with digest, relay,
    /// scripted peer, faults); prints its URL first, then one line per
    /// event, until Ctrl-C; faults switch at run time by commands on
    /// standard input.
    #[command(after_help = cmd::serve::COMMANDS_HELP)]
    Serve(Box<cmd::serve::Args>),
    /// Register with digest (and un-REGISTER; `--stay` keeps it).
    Register(Box<cmd::sip::RegisterArgs>),
    /// Place a call (registering first when a password is given), then hang up.
    Call(Box<cmd::sip::CallArgs>),
    /// Send one request (MESSAGE, INFO, NOTIFY, …) out of dialog.
    Send(Box<cmd::sip::SendArgs>),
    /// Send OPTIONS to the server (or `--target`).
    Options(Box<cmd::sip::OptionsArgs>),
    /// Register and print every SIP message as a ladder, answering calls
    /// (`--answer`, `--reject CODE`) and requests, until Ctrl-C.
    Listen(Box<cmd::listen::Args>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(args) => cmd::demo::run(&args),
        Command::Parse(args) => cmd::parse::run(&args),
        Command::Connect(args) => cmd::connect::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Register(args) => cmd::sip::register(&args),
        Command::Call(args) => cmd::sip::call(&args),
        Command::Send(args) => cmd::sip::send(&args),
        Command::Options(args) => cmd::sip::options(&args),
        Command::Listen(args) => cmd::listen::run(&args),
    }
}
