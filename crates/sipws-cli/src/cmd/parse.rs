//! `sipws parse [FILE|-]`: read one SIP message (one WebSocket frame's
//! worth), print its JSON form (docs/json-codec.md) or, with `--summary`,
//! its kind, method or status, Call-ID and CSeq.
//!
//! The message is checked strictly ([`Message::parse_strict`]: structure,
//! then every known header with its typed parser, singletons, CSeq method);
//! `--lenient` checks the structure only ([`Message::parse`]), which is what
//! the JSON form needs.
//!
//! Exit codes: 0 parsed, 1 malformed message (the error, its byte offset,
//! the offending line and a caret under the offending byte go to stderr),
//! 2 the input could not be read.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use sipws_core::codec::json::{self, Layout};
use sipws_core::message::{Limits, Message, ParseError, ParseErrorKind, StartLine};

/// Arguments of `sipws parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The file holding one SIP message; `-` or nothing reads stdin.
    #[arg(value_name = "FILE|-")]
    input: Option<PathBuf>,
    /// Print kind, method/status, Call-ID and CSeq instead of the JSON form.
    #[arg(long)]
    summary: bool,
    /// Print the JSON form on one line (the wire layout) instead of indented.
    #[arg(long, conflicts_with = "summary")]
    compact: bool,
    /// Check the structure only (start line, header lines, framing), not
    /// the values of the known headers.
    #[arg(long)]
    lenient: bool,
}

/// Exit code for a malformed message.
const EXIT_MALFORMED: u8 = 1;
/// Exit code for input that could not be read (or output not written).
const EXIT_IO: u8 = 2;

/// Runs `sipws parse`.
pub(crate) fn run(args: &Args) -> ExitCode {
    let limits = Limits::default();
    let (name, buf) = match read_input(args.input.as_deref(), limits.max_message_bytes) {
        Ok(read) => read,
        Err(msg) => {
            eprintln!("sipws parse: {msg}");
            return ExitCode::from(EXIT_IO);
        }
    };
    let parsed = if args.lenient {
        Message::parse(&buf, &limits)
    } else {
        Message::parse_strict(&buf, &limits)
    };
    let msg = match parsed {
        Ok(msg) => msg,
        Err(err) => {
            eprint!("{}", render_error(&name, &buf, err));
            return ExitCode::from(EXIT_MALFORMED);
        }
    };
    let trailing = msg.trailing().len();
    if trailing > 0 {
        eprintln!(
            "sipws parse: note: {trailing} byte(s) after the message (past Content-Length) ignored"
        );
    }
    let mut out = Vec::with_capacity(buf.len() * 2);
    if args.summary {
        write_summary(&msg, &mut out);
    } else {
        let layout = if args.compact {
            Layout::Compact
        } else {
            Layout::Pretty
        };
        if let Err(e) = json::write_parsed(&msg, &mut out, layout) {
            eprintln!("sipws parse: cannot encode as JSON: {e}");
            return ExitCode::from(EXIT_MALFORMED);
        }
        out.push(b'\n');
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&out).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`sipws parse x | head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sipws parse: cannot write to stdout: {e}");
            ExitCode::from(EXIT_IO)
        }
    }
}

/// Reads the whole input (at most `max + 1` bytes, so an oversized message
/// is reported by the parser's own limit check without reading it all).
/// Returns the name to show in messages and the bytes.
fn read_input(path: Option<&std::path::Path>, max: usize) -> Result<(String, Vec<u8>), String> {
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut buf = Vec::new();
    match path {
        None => read_capped(std::io::stdin().lock(), cap, &mut buf)
            .map(|()| ("<stdin>".to_owned(), buf))
            .map_err(|e| format!("cannot read stdin: {e}")),
        Some(p) if p.as_os_str() == "-" => read_capped(std::io::stdin().lock(), cap, &mut buf)
            .map(|()| ("<stdin>".to_owned(), buf))
            .map_err(|e| format!("cannot read stdin: {e}")),
        Some(p) => std::fs::File::open(p)
            .and_then(|f| read_capped(f, cap, &mut buf))
            .map(|()| (p.display().to_string(), buf))
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}

fn read_capped(reader: impl Read, cap: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
    reader.take(cap).read_to_end(buf).map(|_| ())
}

/// `--summary`: one `key: value` line each.
fn write_summary(msg: &Message<'_>, out: &mut Vec<u8>) {
    let mut line = |k: &str, v: &str| {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.push(b'\n');
    };
    match msg.start_line() {
        StartLine::Request { method, uri, .. } => {
            line("kind", "request");
            line("method", method);
            line("request-uri", uri);
        }
        StartLine::Response { status, reason, .. } => {
            line("kind", "response");
            line("status", &format!("{status} {reason}"));
        }
    }
    line("call-id", msg.call_id().unwrap_or("(none)"));
    match msg.cseq() {
        Some(c) => line("cseq", &format!("{} {}", c.seq, c.method)),
        None => line("cseq", "(none)"),
    }
}

/// The error report: what, where (byte offset, line, column), the line
/// itself and a caret under the offending byte.
fn render_error(name: &str, buf: &[u8], err: ParseError) -> String {
    let offset = err.offset.min(buf.len());
    let line_start = buf[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line_end = buf[line_start..]
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .map_or(buf.len(), |p| line_start + p);
    // The offending byte may be the line's own CR or LF: the caret then
    // sits just past the visible text.
    let line_no = 1 + buf[..line_start].iter().filter(|&&b| b == b'\n').count();
    let text = String::from_utf8_lossy(&buf[line_start..line_end]);
    let prefix = String::from_utf8_lossy(&buf[line_start..offset.min(line_end)]);
    let column = 1 + prefix.chars().count();
    // Keep tabs in the padding so the caret lines up under tabbed text.
    let pad: String = prefix
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let gutter = line_no.to_string();
    let blank = " ".repeat(gutter.len());
    let mut s = format!(
        "error: {}\n{blank} --> {name}: byte {}, line {line_no}, column {column}\n{blank} |\n{gutter} | {text}\n{blank} | {pad}^\n",
        err.kind, err.offset
    );
    if let Some(hint) = hint(err.kind, buf) {
        s.push_str(&format!("{blank} = hint: {hint}\n"));
    }
    s
}

/// A hint for mistakes people make with hand-written or captured messages.
fn hint(kind: ParseErrorKind, buf: &[u8]) -> Option<&'static str> {
    match kind {
        ParseErrorKind::NewLine | ParseErrorKind::Incomplete
            if buf.contains(&b'\n') && !buf.windows(2).any(|w| w == b"\r\n") =>
        {
            Some("SIP lines end with CR LF; this input uses bare LF (convert it, e.g. with `unix2dos`)")
        }
        ParseErrorKind::BodyLength => {
            Some("Content-Length counts the body's bytes; the body here is shorter")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_offending_byte() {
        let buf = b"INVITE sip:a@b SIP/2.0\r\nVia : x\r\nBad Header: y\r\n\r\n";
        let err = ParseError::new(ParseErrorKind::HeaderName, 36);
        let r = render_error("m.sip", buf, err);
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[0], "error: malformed header name");
        assert_eq!(lines[1], "  --> m.sip: byte 36, line 3, column 4");
        assert_eq!(lines[3], "3 | Bad Header: y");
        assert_eq!(lines[4], "  |    ^");
    }

    #[test]
    fn offset_at_end_of_input_is_shown_past_the_last_line() {
        let buf = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x";
        let err = ParseError::new(ParseErrorKind::Incomplete, buf.len());
        let r = render_error("-", buf, err);
        assert!(r.contains("2 | Via: x\n  |       ^\n"), "{r}");
    }

    #[test]
    fn bare_lf_gets_a_hint() {
        let buf = b"OPTIONS sip:a@b SIP/2.0\nVia: x\n\n";
        let err = ParseError::new(ParseErrorKind::NewLine, 23);
        let r = render_error("-", buf, err);
        assert!(r.contains("hint: SIP lines end with CR LF"), "{r}");
        assert!(
            r.contains("1 | OPTIONS sip:a@b SIP/2.0\n  |                        ^"),
            "{r}"
        );
    }
}
