//! The text form of a routing rule, for the CLI, configuration files and
//! the browser API.
//!
//! ```text
//! rule    = *WS [ "tap:" *WS ] term *( 1*WS term ) *WS
//! term    = kind / METHOD / status / "dialog" / key op value
//! kind    = "any" / "ping" / "pong" / "request" / "response" / "malformed"
//! METHOD  = token starting with an upper-case letter      ; INVITE, NOTIFY, X-FOO
//! status  = 3DIGIT / ("1".."6") "xx"                       ; 401, 4xx (implies response)
//! key     = "status" / "cseq" / "call-id" / "dialog" / "body" / header-name
//! op      = "=" / "==" / "~"
//! value   = 1*(any character but WS and '"') / quoted
//! quoted  = DQUOTE *( any character but '"' and '\' / "\" any ) DQUOTE
//! WS      = SP / HTAB
//! ```
//!
//! Structural terms (checked on the classification, no regex):
//! - `ping`, `pong`, `request`, `response`, `malformed`, `any`: the frame kind;
//! - `INVITE` (any method token): a request with that method (case-sensitive);
//! - `200`, `4xx`, `status=200`, `status=4xx`: a response with that status or class;
//! - `cseq=REGISTER`: the CSeq method; `call-id=abc@host`: the Call-ID;
//! - `dialog`: the frame belongs to a dialog registered with the router;
//!   `dialog=CALL-ID/LOCAL-TAG/REMOTE-TAG`: to that dialog.
//!
//! Refinements (checked only when the structural terms matched):
//! - `NAME=VALUE`: a comma-separated element of header `NAME`, without its
//!   `;` parameters, equals `VALUE` ignoring ASCII case (`event=dialog`
//!   matches `Event: dialog;id=7`);
//! - `NAME==VALUE`: the whole header value equals `VALUE` exactly;
//! - `NAME~REGEX`: the regex matches somewhere in the header value;
//! - `body~REGEX`: the regex matches somewhere in the body.
//!
//! Header names ignore case and accept compact forms (`c` is
//! `Content-Type`); a header refinement holds when any instance of the header
//! passes. `cseq` and `call-id` with `==` or `~` test the header text itself.
//! Regexes run on bytes with ASCII classes (`(?i)` for case-insensitive).
//! A rule starting with `tap:` observes frames without consuming them.
//!
//! Examples: `NOTIFY event=dialog`, `response 4xx cseq=REGISTER`,
//! `INFO content-type~dtmf`, `request MESSAGE body~hello`, `ping`,
//! `tap: any`, `MESSAGE body~"hello world"`.
//!
//! Errors carry the byte offset of the offending term and a message saying
//! what was expected.

use core::fmt;

use super::classify::FrameKind;
use super::rule::{
    known_method_ignoring_case, DialogId, DialogMatch, HeaderKey, MethodName, Mode, Pattern, Rule,
    StatusMatch, ValueTest,
};
use crate::message::HeaderName;

/// What kind of mistake a rule text has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleErrorKind {
    /// The text has no term.
    Empty,
    /// A bare word that is no kind, method, status or keyword.
    UnknownWord,
    /// Two terms that cannot hold together (`request 4xx`, `ping cseq=X`).
    Conflict,
    /// A term that may appear once appears twice.
    Duplicate,
    /// A status that is neither three digits 100..=699 nor a class `1xx`..`6xx`.
    Status,
    /// A method that is not a SIP token.
    Method,
    /// A header name that is not a SIP token.
    HeaderName,
    /// `name=` with nothing after it.
    MissingValue,
    /// An operator the key does not take (`body=x`, `status~x`).
    Operator,
    /// A quoted value without its closing quote, or text right after it.
    Quote,
    /// A regex that does not compile.
    Regex,
    /// A `dialog=` value that is not `CALL-ID/LOCAL-TAG/REMOTE-TAG`.
    Dialog,
    /// `tap:` anywhere but at the start.
    TapPosition,
}

/// A rule text that does not parse: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleParseError {
    /// What kind of mistake.
    pub kind: RuleErrorKind,
    /// Byte offset in the rule text where the offending term (or value) starts.
    pub offset: usize,
    /// A sentence saying what is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for RuleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule text, column {}: {}", self.offset + 1, self.message)
    }
}

impl std::error::Error for RuleParseError {}

fn err(kind: RuleErrorKind, offset: usize, message: String) -> RuleParseError {
    RuleParseError {
        kind,
        offset,
        message,
    }
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// RFC 3261 `token` characters, without `~` (the regex operator here).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\''
                )
        })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    EqEq,
    Tilde,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::EqEq => "==",
            Op::Tilde => "~",
        }
    }
}

struct Cursor<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Cursor<'t> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// Read up to whitespace, `=`, `~`, `"` or the end.
    fn word(&mut self) -> &'t str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if is_ws(b) || b == b'=' || b == b'~' || b == b'"' {
                break;
            }
            self.pos += 1;
        }
        self.text.get(start..self.pos).unwrap_or("")
    }

    /// Read a value: quoted, or up to whitespace.
    fn value(&mut self, key: &str, op: Op) -> Result<(String, usize), RuleParseError> {
        let start = self.pos;
        if self.peek() == Some(b'"') {
            self.pos += 1;
            let mut out = String::new();
            let rest = self.text.get(self.pos..).unwrap_or("");
            let mut chars = rest.char_indices();
            loop {
                match chars.next() {
                    None => {
                        return Err(err(
                            RuleErrorKind::Quote,
                            start,
                            "quoted value has no closing `\"`".into(),
                        ))
                    }
                    Some((_, '\\')) => match chars.next() {
                        Some((_, c)) => out.push(c),
                        None => {
                            return Err(err(
                                RuleErrorKind::Quote,
                                start,
                                "quoted value has no closing `\"`".into(),
                            ))
                        }
                    },
                    Some((i, '"')) => {
                        self.pos += i + 1;
                        break;
                    }
                    Some((_, c)) => out.push(c),
                }
            }
            if let Some(b) = self.peek() {
                if !is_ws(b) {
                    return Err(err(
                        RuleErrorKind::Quote,
                        self.pos,
                        "expected a space after the closing `\"`".into(),
                    ));
                }
            }
            return Ok((out, start));
        }
        while let Some(b) = self.peek() {
            if is_ws(b) {
                break;
            }
            if b == b'"' {
                return Err(err(
                    RuleErrorKind::Quote,
                    self.pos,
                    "a `\"` may only start a value; quote the whole value".into(),
                ));
            }
            self.pos += 1;
        }
        let v = self.text.get(start..self.pos).unwrap_or("");
        if v.is_empty() {
            return Err(err(
                RuleErrorKind::MissingValue,
                start,
                format!("`{key}{}` needs a value", op.as_str()),
            ));
        }
        Ok((v.to_owned(), start))
    }
}

/// Where a term that needs a SIP message was first seen, to report it when
/// the rule's kind turns out to be a keepalive or malformed frame.
struct Seen {
    kind: Option<(FrameKind, usize, String)>,
    needs_message: Option<(usize, String)>,
    method: Option<usize>,
    status: Option<usize>,
    cseq: Option<usize>,
    call_id: Option<usize>,
    dialog: Option<usize>,
    body: Option<usize>,
}

fn set_kind(
    seen: &mut Seen,
    rule: &mut Rule,
    kind: FrameKind,
    word: &str,
    at: usize,
) -> Result<(), RuleParseError> {
    if let Some((k, prev_at, prev_word)) = &seen.kind {
        if *k != kind {
            return Err(err(
                RuleErrorKind::Conflict,
                at,
                format!(
                    "`{word}` conflicts with `{prev_word}` at column {}: a rule matches one kind of frame",
                    prev_at + 1
                ),
            ));
        }
        return Ok(());
    }
    seen.kind = Some((kind, at, word.to_owned()));
    rule.kind = Some(kind);
    Ok(())
}

fn once(slot: &mut Option<usize>, at: usize, what: &str) -> Result<(), RuleParseError> {
    if let Some(prev) = *slot {
        return Err(err(
            RuleErrorKind::Duplicate,
            at,
            format!(
                "{what} given twice (first at column {}); a rule takes one",
                prev + 1
            ),
        ));
    }
    *slot = Some(at);
    Ok(())
}

fn parse_status(v: &str, at: usize) -> Result<StatusMatch, RuleParseError> {
    let b = v.as_bytes();
    if b.len() == 3 {
        if let [d @ b'1'..=b'6', b'x' | b'X', b'x' | b'X'] = b {
            return Ok(StatusMatch::Class(d - b'0'));
        }
        if b.iter().all(u8::is_ascii_digit) {
            let code = v.parse::<u16>().unwrap_or(0);
            if (100..=699).contains(&code) {
                return Ok(StatusMatch::Code(code));
            }
        }
    }
    Err(err(
        RuleErrorKind::Status,
        at,
        format!("`{v}` is not a status: write a code 100..699 (e.g. 401) or a class 1xx..6xx"),
    ))
}

fn parse_method(v: &str, at: usize, what: &str) -> Result<MethodName, RuleParseError> {
    if !is_token(v) {
        return Err(err(
            RuleErrorKind::Method,
            at,
            format!("`{v}` is not a SIP method token ({what})"),
        ));
    }
    Ok(MethodName::new(v))
}

fn pattern(v: &str, at: usize) -> Result<Pattern, RuleParseError> {
    Pattern::new(v).map_err(|e| {
        err(
            RuleErrorKind::Regex,
            at,
            format!("regex `{v}` does not compile: {e}"),
        )
    })
}

fn note_needs_message(seen: &mut Seen, at: usize, term: &str) {
    if seen.needs_message.is_none() {
        seen.needs_message = Some((at, term.to_owned()));
    }
}

/// Parse a rule from its text form (grammar in the module doc).
pub fn parse(text: &str) -> Result<Rule, RuleParseError> {
    let mut c = Cursor { text, pos: 0 };
    let mut rule = Rule::any();
    let mut seen = Seen {
        kind: None,
        needs_message: None,
        method: None,
        status: None,
        cseq: None,
        call_id: None,
        dialog: None,
        body: None,
    };
    c.skip_ws();
    if text.get(c.pos..).is_some_and(|r| r.starts_with("tap:")) {
        rule.mode = Mode::Tap;
        c.pos += 4;
    }
    let mut terms = 0usize;
    loop {
        c.skip_ws();
        let at = c.pos;
        if c.peek().is_none() {
            break;
        }
        terms += 1;
        let word = c.word();
        let op = match c.peek() {
            Some(b'=') if text.as_bytes().get(c.pos + 1) == Some(&b'=') => {
                c.pos += 2;
                Some(Op::EqEq)
            }
            Some(b'=') => {
                c.pos += 1;
                Some(Op::Eq)
            }
            Some(b'~') => {
                c.pos += 1;
                Some(Op::Tilde)
            }
            Some(b'"') => {
                return Err(err(
                    RuleErrorKind::Quote,
                    c.pos,
                    "a `\"` may only start a value after `=`, `==` or `~`".into(),
                ))
            }
            _ => None,
        };
        if word.is_empty() {
            return Err(err(
                RuleErrorKind::HeaderName,
                at,
                "expected a word or a header name before the operator".into(),
            ));
        }
        let Some(op) = op else {
            bare_word(&mut seen, &mut rule, word, at)?;
            continue;
        };
        let (value, vat) = c.value(word, op)?;
        keyed(&mut seen, &mut rule, word, op, &value, at, vat)?;
    }
    if terms == 0 {
        return Err(err(
            RuleErrorKind::Empty,
            c.pos,
            "empty rule: write at least one term, e.g. `any`, `ping` or `INVITE`".into(),
        ));
    }
    if let (Some((k, _, kword)), Some((at, term))) = (&seen.kind, &seen.needs_message) {
        if !matches!(k, FrameKind::Request | FrameKind::Response) {
            return Err(err(
                RuleErrorKind::Conflict,
                *at,
                format!("`{term}` needs a SIP message, but `{kword}` frames have no headers"),
            ));
        }
    }
    Ok(rule)
}

fn bare_word(
    seen: &mut Seen,
    rule: &mut Rule,
    word: &str,
    at: usize,
) -> Result<(), RuleParseError> {
    let kind = match word {
        "any" => return Ok(()),
        "ping" => Some(FrameKind::Ping),
        "pong" => Some(FrameKind::Pong),
        "request" => Some(FrameKind::Request),
        "response" => Some(FrameKind::Response),
        "malformed" => Some(FrameKind::Malformed),
        _ => None,
    };
    if let Some(k) = kind {
        return set_kind(seen, rule, k, word, at);
    }
    if word == "dialog" {
        once(&mut seen.dialog, at, "`dialog`")?;
        note_needs_message(seen, at, word);
        rule.dialog = Some(DialogMatch::Registered);
        return Ok(());
    }
    if word.starts_with("tap:") || word == "tap" {
        return Err(err(
            RuleErrorKind::TapPosition,
            at,
            "`tap:` must start the rule (e.g. `tap: NOTIFY`)".into(),
        ));
    }
    let first = word.as_bytes().first().copied().unwrap_or(0);
    if first.is_ascii_digit() {
        let s = parse_status(word, at)?;
        set_kind(seen, rule, FrameKind::Response, word, at)?;
        once(&mut seen.status, at, "a status")?;
        rule.status = Some(s);
        return Ok(());
    }
    if first.is_ascii_uppercase() {
        let m = parse_method(word, at, "a method is a token such as INVITE")?;
        set_kind(seen, rule, FrameKind::Request, word, at)?;
        once(&mut seen.method, at, "a method")?;
        rule.method = Some(m);
        return Ok(());
    }
    if let Some(m) = known_method_ignoring_case(word) {
        return Err(err(
            RuleErrorKind::UnknownWord,
            at,
            format!("unknown word `{word}`: SIP methods are case-sensitive, write `{m}`"),
        ));
    }
    Err(err(
        RuleErrorKind::UnknownWord,
        at,
        format!(
            "unknown word `{word}`: expected any, ping, pong, request, response, malformed, \
             dialog, a METHOD, a status (200, 4xx) or NAME=VALUE / NAME~REGEX"
        ),
    ))
}

fn keyed(
    seen: &mut Seen,
    rule: &mut Rule,
    key: &str,
    op: Op,
    value: &str,
    at: usize,
    vat: usize,
) -> Result<(), RuleParseError> {
    let lower = key.to_ascii_lowercase();
    let bad_op = |expected: &str| {
        Err(err(
            RuleErrorKind::Operator,
            at,
            format!("`{key}` does not take `{}`: write {expected}", op.as_str()),
        ))
    };
    match (lower.as_str(), op) {
        ("status", Op::Eq) => {
            let s = parse_status(value, vat)?;
            set_kind(seen, rule, FrameKind::Response, key, at)?;
            once(&mut seen.status, at, "a status")?;
            rule.status = Some(s);
            return Ok(());
        }
        ("status", _) => return bad_op("status=401 or status=4xx"),
        ("body", Op::Tilde) => {
            once(&mut seen.body, at, "`body~`")?;
            note_needs_message(seen, at, "body~");
            rule.body = Some(pattern(value, vat)?);
            return Ok(());
        }
        ("body", _) => return bad_op("body~REGEX"),
        ("dialog", Op::Eq) => {
            once(&mut seen.dialog, at, "`dialog`")?;
            note_needs_message(seen, at, "dialog=");
            let mut parts = value.rsplitn(3, '/');
            let (remote, local, call_id) = (parts.next(), parts.next(), parts.next());
            match (call_id, local, remote) {
                (Some(c), Some(l), Some(r)) if !c.is_empty() && is_token(l) && is_token(r) => {
                    rule.dialog = Some(DialogMatch::Is(DialogId::new(c, l, r)));
                    return Ok(());
                }
                _ => {
                    return Err(err(
                        RuleErrorKind::Dialog,
                        vat,
                        format!("`{value}` is not CALL-ID/LOCAL-TAG/REMOTE-TAG"),
                    ))
                }
            }
        }
        ("dialog", _) => return bad_op("dialog or dialog=CALL-ID/LOCAL-TAG/REMOTE-TAG"),
        _ => {}
    }
    match (HeaderKey::from_name(key), op) {
        (HeaderKey::Known(HeaderName::CSeq), Op::Eq) => {
            once(&mut seen.cseq, at, "`cseq=`")?;
            note_needs_message(seen, at, "cseq=");
            rule.cseq = Some(parse_method(value, vat, "cseq= takes the CSeq method")?);
            return Ok(());
        }
        (HeaderKey::Known(HeaderName::CallId), Op::Eq) => {
            once(&mut seen.call_id, at, "`call-id=`")?;
            note_needs_message(seen, at, "call-id=");
            rule.call_id = Some(value.into());
            return Ok(());
        }
        _ => {}
    }
    if !is_token(key) {
        return Err(err(
            RuleErrorKind::HeaderName,
            at,
            format!("`{key}` is not a header name (a SIP token)"),
        ));
    }
    note_needs_message(seen, at, key);
    let test = match op {
        Op::Eq => ValueTest::Token(value.into()),
        Op::EqEq => ValueTest::Exact(value.into()),
        Op::Tilde => ValueTest::Regex(pattern(value, vat)?),
    };
    rule.headers.push(super::rule::HeaderMatch {
        key: HeaderKey::from_name(key),
        test,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(text: &str) -> RuleParseError {
        parse(text).expect_err(text)
    }

    #[test]
    fn examples_from_the_issue() {
        let r = parse("NOTIFY event=dialog").unwrap();
        assert_eq!(
            r,
            Rule::request().method("NOTIFY").header(
                HeaderKey::Known(HeaderName::Event),
                ValueTest::Token("dialog".into())
            )
        );
        let r = parse("response 4xx cseq=REGISTER").unwrap();
        assert_eq!(
            r,
            Rule::response()
                .status(StatusMatch::Class(4))
                .cseq("REGISTER")
        );
        let r = parse("INFO content-type~dtmf").unwrap();
        assert_eq!(
            r,
            Rule::request().method("INFO").header(
                HeaderKey::Known(HeaderName::ContentType),
                ValueTest::Regex(Pattern::new("dtmf").unwrap())
            )
        );
        let r = parse("request MESSAGE body~hello").unwrap();
        assert_eq!(
            r,
            Rule::request()
                .method("MESSAGE")
                .body(Pattern::new("hello").unwrap())
        );
        assert_eq!(parse("ping").unwrap(), Rule::ping());
        assert_eq!(parse("pong").unwrap(), Rule::pong());
        assert_eq!(parse("malformed").unwrap(), Rule::malformed());
        assert_eq!(parse("tap: any").unwrap(), Rule::any().tap());
        assert_eq!(
            parse("tap:NOTIFY").unwrap(),
            Rule::request().method("NOTIFY").tap()
        );
    }

    #[test]
    fn statuses_codes_and_classes() {
        assert_eq!(
            parse("401").unwrap(),
            Rule::response().status(StatusMatch::Code(401))
        );
        assert_eq!(
            parse("status=2xx cseq=INVITE").unwrap(),
            Rule::response()
                .status(StatusMatch::Class(2))
                .cseq("INVITE")
        );
        assert_eq!(
            parse("response").unwrap(),
            Rule::response(),
            "bare kind word"
        );
    }

    #[test]
    fn quoted_values_escapes_and_operators() {
        let r = parse(r#"MESSAGE body~"hello \"big\" world""#).unwrap();
        assert_eq!(r.body.as_ref().unwrap().as_str(), r#"hello "big" world"#);
        let r = parse("x-foo==Bar  call-id=abc@h  cseq~^1").unwrap();
        assert_eq!(r.call_id.as_deref(), Some("abc@h"));
        assert_eq!(
            r.headers,
            vec![
                super::super::rule::HeaderMatch {
                    key: HeaderKey::Other("x-foo".into()),
                    test: ValueTest::Exact("Bar".into())
                },
                super::super::rule::HeaderMatch {
                    key: HeaderKey::Known(HeaderName::CSeq),
                    test: ValueTest::Regex(Pattern::new("^1").unwrap())
                }
            ]
        );
        let r = parse("dialog=a/b@c/lt/rt").unwrap();
        assert_eq!(
            r.dialog,
            Some(DialogMatch::Is(DialogId::new("a/b@c", "lt", "rt")))
        );
        assert_eq!(
            parse("dialog").unwrap().dialog,
            Some(DialogMatch::Registered)
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "NOTIFY event=dialog",
            "4xx cseq=REGISTER",
            "INFO content-type~dtmf",
            "MESSAGE body~\"hello world\"",
            "ping",
            "pong",
            "malformed",
            "any",
            "tap:any",
            "tap:200 cseq=INFO",
            "request",
            "response",
            "cseq=INVITE",
            "BYE dialog",
            "BYE dialog=abc/l/r",
            "x-foo==\"a \\\\ b\"",
            "call-id=\"has space\"",
            "event=\"=\"",
            "subject==\"~x\"",
        ] {
            let r = parse(text).unwrap();
            let shown = r.to_string();
            assert_eq!(shown, text, "canonical form");
            assert_eq!(parse(&shown).unwrap(), r, "{text}");
        }
        // Non-canonical input prints canonically.
        assert_eq!(parse("  response   4xx ").unwrap().to_string(), "4xx");
        assert_eq!(parse("request INVITE").unwrap().to_string(), "INVITE");
    }

    #[test]
    fn errors_say_what_and_where() {
        let x = e("");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Empty, 0));
        assert_eq!(
            x.to_string(),
            "rule text, column 1: empty rule: write at least one term, e.g. `any`, `ping` or `INVITE`"
        );
        let x = e("tap:   ");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Empty, 7));

        let x = e("NOTIFY invite");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::UnknownWord, 7));
        assert_eq!(
            x.message,
            "unknown word `invite`: SIP methods are case-sensitive, write `INVITE`"
        );
        let x = e("request frob");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::UnknownWord, 8));
        assert!(x
            .message
            .starts_with("unknown word `frob`: expected any, ping"));

        let x = e("request 4xx");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Conflict, 8));
        assert_eq!(
            x.message,
            "`4xx` conflicts with `request` at column 1: a rule matches one kind of frame"
        );
        let x = e("INVITE 200");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Conflict, 7));

        let x = e("cseq=INVITE ping");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Conflict, 0));
        assert_eq!(
            x.message,
            "`cseq=` needs a SIP message, but `ping` frames have no headers"
        );
        let x = e("pong event=x");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Conflict, 5));

        let x = e("INVITE BYE");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Duplicate, 7));
        assert_eq!(
            x.message,
            "a method given twice (first at column 1); a rule takes one"
        );
        let x = e("4xx status=401");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Duplicate, 4));

        let x = e("response 7xx");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Status, 9));
        assert_eq!(
            x.message,
            "`7xx` is not a status: write a code 100..699 (e.g. 401) or a class 1xx..6xx"
        );
        let x = e("status=20");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Status, 7));
        let x = e("099");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Status, 0));

        let x = e("NOTIFY event=");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::MissingValue, 13));
        assert_eq!(x.message, "`event=` needs a value");

        let x = e("MESSAGE body=hello");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Operator, 8));
        assert_eq!(x.message, "`body` does not take `=`: write body~REGEX");
        let x = e("status~4");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Operator, 0));

        let x = e("MESSAGE body~\"hello");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Quote, 13));
        assert_eq!(x.message, "quoted value has no closing `\"`");
        let x = e("x=\"a\"b");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Quote, 5));
        let x = e("x=a\"b\"");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Quote, 3));
        let x = e("\"INVITE\"");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Quote, 0));

        let x = e("INFO content-type~(dtmf");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Regex, 18));
        assert!(
            x.message.starts_with("regex `(dtmf` does not compile: "),
            "{}",
            x.message
        );

        let x = e("dialog=abc");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Dialog, 7));
        let x = e("dialog dialog=a/b/c");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Duplicate, 7));

        let x = e("NOTIFY tap: any");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::TapPosition, 7));
        assert_eq!(
            x.to_string(),
            "rule text, column 8: `tap:` must start the rule (e.g. `tap: NOTIFY`)"
        );

        let x = e("=x");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::HeaderName, 0));
        let x = e("x@y=1");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::HeaderName, 0));
        assert_eq!(x.message, "`x@y` is not a header name (a SIP token)");
        let x = e("IN@VITE");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::Method, 0));
        let x = e("cseq=in vite");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::UnknownWord, 8));
    }

    #[test]
    fn offsets_count_bytes_of_non_ascii_text() {
        let x = e("x=\u{e9}\u{e9} frob");
        assert_eq!((x.kind, x.offset), (RuleErrorKind::UnknownWord, 7));
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn head() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                Just("request".to_owned()),
                Just("response".to_owned()),
                "[A-Z][A-Z0-9-]{0,8}",
                (1u8..=6).prop_map(|d| format!("{d}xx")),
                (100u16..=699).prop_map(|c| c.to_string()),
            ]
        }

        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-zA-Z0-9/+.;=-]{1,12}",
                "[ -~]{0,12}".prop_map(|v| {
                    let mut q = String::from("\"");
                    for c in v.chars() {
                        if c == '"' || c == '\\' {
                            q.push('\\');
                        }
                        q.push(c);
                    }
                    q.push('"');
                    q
                }),
            ]
        }

        fn refinement() -> impl Strategy<Value = String> {
            (
                prop_oneof![
                    Just("event"),
                    Just("content-type"),
                    Just("x-tenant"),
                    Just("o"),
                    Just("subject")
                ],
                prop_oneof![Just("="), Just("=="), Just("~")],
                value(),
            )
                .prop_filter_map("regex must compile", |(k, op, v)| {
                    let text = format!("{k}{op}{v}");
                    parse(&format!("request {text}")).ok().map(|_| text)
                })
        }

        proptest! {
            #[test]
            fn generated_rules_round_trip(
                tap in any::<bool>(),
                head in head(),
                cseq in proptest::option::of("[A-Z]{1,8}"),
                call_id in proptest::option::of("[a-z0-9@.]{1,10}"),
                dialog in any::<bool>(),
                refinements in proptest::collection::vec(refinement(), 0..3),
                body in proptest::option::of("[a-z]{1,6}"),
            ) {
                let mut terms = vec![head];
                terms.extend(cseq.map(|c| format!("cseq={c}")));
                terms.extend(call_id.map(|c| format!("call-id={c}")));
                if dialog {
                    terms.push("dialog".into());
                }
                terms.extend(refinements);
                terms.extend(body.map(|b| format!("body~{b}")));
                let text = format!(
                    "{}{}",
                    if tap { "tap: " } else { "" },
                    terms.join("  ")
                );
                match parse(&text) {
                    Ok(rule) => {
                        let shown = rule.to_string();
                        let back = parse(&shown);
                        prop_assert_eq!(back, Ok(rule), "{} -> {}", text, shown);
                    }
                    Err(e) => prop_assert!(text.trim_start_matches("tap: ").trim().is_empty(), "{}: {}", text, e),
                }
            }
        }
    }
}
