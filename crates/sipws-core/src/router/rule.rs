//! A routing rule: a structural part (frame kind, method, status, CSeq
//! method, Call-ID, dialog) checked on the classification of a frame, and
//! optional refinements (a header value, the body) checked only when the
//! structural part matched.
//!
//! Rules are built in code with the builder methods below, or parsed from
//! text with [`Rule::parse`] (grammar in [`super::text`]). A rule's
//! [`Display`](core::fmt::Display) form is that text, in canonical order.

use core::fmt;

use regex::bytes::{Regex, RegexBuilder};

use super::classify::FrameKind;
use crate::message::HeaderName;

/// Largest compiled size of one rule regex (bytes of the compiled program);
/// a bigger pattern is refused when the rule is built.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Whether a matching rule takes the frame or only observes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// The first matching consuming rule (in priority order) takes the frame.
    #[default]
    Consume,
    /// A tap observes every frame it matches that no higher-priority
    /// consuming rule took, and never stops the search.
    Tap,
}

/// A response status constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusMatch {
    /// One status code, e.g. `401`.
    Code(u16),
    /// A status class by its first digit, 1..=6: `4` is `4xx`.
    Class(u8),
}

impl StatusMatch {
    /// Whether `status` satisfies this constraint.
    #[must_use]
    pub fn matches(self, status: u16) -> bool {
        match self {
            StatusMatch::Code(c) => c == status,
            StatusMatch::Class(d) => status / 100 == u16::from(d),
        }
    }
}

impl fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusMatch::Code(c) => write!(f, "{c}"),
            StatusMatch::Class(d) => write!(f, "{d}xx"),
        }
    }
}

/// A dialog (RFC 3261 §12): Call-ID plus the local and remote tags, as seen
/// by this user agent. The layer above registers the dialogs it holds with
/// [`super::Router::register_dialog`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogId {
    /// The dialog's Call-ID.
    pub call_id: String,
    /// Our tag: the From tag of our requests, the To tag of requests we receive.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// A dialog id from its three parts.
    #[must_use]
    pub fn new(call_id: &str, local_tag: &str, remote_tag: &str) -> Self {
        DialogId {
            call_id: call_id.to_owned(),
            local_tag: local_tag.to_owned(),
            remote_tag: remote_tag.to_owned(),
        }
    }

    /// Whether an inbound frame with these From/To tags belongs to this
    /// dialog (Call-ID already compared). Requests we receive carry the
    /// peer's tag in From; responses to our requests carry it in To.
    #[must_use]
    pub fn tags_match(&self, is_request: bool, from_tag: &str, to_tag: &str) -> bool {
        let (local, remote) = if is_request {
            (to_tag, from_tag)
        } else {
            (from_tag, to_tag)
        };
        local == self.local_tag && remote == self.remote_tag
    }
}

/// A dialog constraint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DialogMatch {
    /// The frame belongs to any dialog registered with the router.
    Registered,
    /// The frame belongs to this dialog.
    Is(DialogId),
}

/// A compiled regular expression used by a refinement. Matching runs on
/// bytes with Unicode classes off: `.` matches any byte, `\w`/`\d`/`\s` and
/// `(?i)` are ASCII, a non-ASCII literal matches its UTF-8 bytes.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: Box<str>,
    regex: Regex,
}

impl Pattern {
    /// Compile `source`. The error text is the regex engine's.
    pub fn new(source: &str) -> Result<Pattern, String> {
        RegexBuilder::new(source)
            .unicode(false)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map(|regex| Pattern {
                source: source.into(),
                regex,
            })
            .map_err(|e| match e {
                regex::Error::Syntax(s) => s,
                regex::Error::CompiledTooBig(n) => {
                    format!("pattern compiles to more than {n} bytes")
                }
                other => other.to_string(),
            })
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches anywhere in `haystack`.
    #[must_use]
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.regex.is_match(haystack)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Pattern {}

/// Which header a refinement reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HeaderKey {
    /// A header sipws knows (compact forms included).
    Known(HeaderName),
    /// An extension header, compared by name ignoring ASCII case.
    Other(Box<str>),
}

impl HeaderKey {
    /// The key for a header name as written (`Event`, `o`, `X-Foo`).
    #[must_use]
    pub fn from_name(name: &str) -> HeaderKey {
        match HeaderName::from_bytes(name.as_bytes()) {
            HeaderName::Other => HeaderKey::Other(name.into()),
            known => HeaderKey::Known(known),
        }
    }
}

impl fmt::Display for HeaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderKey::Known(n) => f.write_str(&n.as_str().unwrap_or("").to_ascii_lowercase()),
            HeaderKey::Other(s) => f.write_str(s),
        }
    }
}

/// How a header value is tested.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueTest {
    /// `name=value`: one comma-separated element of the value, without its
    /// `;` parameters and surrounding whitespace, equals `value` ignoring
    /// ASCII case (`event=dialog` matches `Event: dialog;id=7`).
    Token(Box<str>),
    /// `name==value`: the whole value equals `value` byte for byte.
    Exact(Box<str>),
    /// `name~pattern`: the pattern matches somewhere in the value.
    Regex(Pattern),
}

/// A refinement on a header: satisfied when any instance of the header
/// passes the test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderMatch {
    /// Which header.
    pub key: HeaderKey,
    /// The test on its value.
    pub test: ValueTest,
}

impl HeaderMatch {
    /// Whether `value` (one header instance) passes the test. Counts a
    /// regex evaluation in `regex_runs` when the test is a regex.
    pub(crate) fn value_matches(&self, value: &str, regex_runs: &mut u64) -> bool {
        match &self.test {
            ValueTest::Token(t) => token_list_contains(value, t),
            ValueTest::Exact(e) => value == &**e,
            ValueTest::Regex(p) => {
                *regex_runs += 1;
                p.is_match(value.as_bytes())
            }
        }
    }
}

/// Whether the comma-separated list `value` has an element whose main part
/// (before `;`, trimmed) equals `token` ignoring ASCII case. Commas inside
/// double quotes or angle brackets do not split.
fn token_list_contains(value: &str, token: &str) -> bool {
    let element_is = |element: &str| {
        element
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(token)
    };
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = false;
    for (i, b) in value.bytes().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => {
                if element_is(value.get(start..i).unwrap_or("")) {
                    return true;
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    element_is(value.get(start..).unwrap_or(""))
}

/// Well-known SIP methods, interned to a small number at rule build time so
/// that the hot path compares integers. Methods are case-sensitive
/// (RFC 3261 §7.1).
const KNOWN_METHODS: [&str; 14] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "REGISTER",
    "OPTIONS",
    "INFO",
    "NOTIFY",
    "SUBSCRIBE",
    "MESSAGE",
    "UPDATE",
    "PRACK",
    "REFER",
    "PUBLISH",
];

/// The interned id of a method: 1.. for the well-known ones, 0 for others.
pub(crate) fn method_id(method: &str) -> u8 {
    match method {
        "INVITE" => 1,
        "ACK" => 2,
        "BYE" => 3,
        "CANCEL" => 4,
        "REGISTER" => 5,
        "OPTIONS" => 6,
        "INFO" => 7,
        "NOTIFY" => 8,
        "SUBSCRIBE" => 9,
        "MESSAGE" => 10,
        "UPDATE" => 11,
        "PRACK" => 12,
        "REFER" => 13,
        "PUBLISH" => 14,
        _ => 0,
    }
}

/// Whether `s` is a well-known method written in another case (`invite`).
pub(crate) fn known_method_ignoring_case(s: &str) -> Option<&'static str> {
    KNOWN_METHODS
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(s))
}

/// A method name with its interned id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct MethodName {
    id: u8,
    name: Box<str>,
}

impl MethodName {
    pub(crate) fn new(name: &str) -> Self {
        MethodName {
            id: method_id(name),
            name: name.into(),
        }
    }

    /// Compare with a frame's method, given its interned id.
    #[inline]
    pub(crate) fn matches(&self, id: u8, name: &str) -> bool {
        if self.id != 0 {
            self.id == id
        } else {
            id == 0 && *self.name == *name
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.name
    }

    /// The interned id (0 for a method outside the well-known set).
    pub(crate) fn id(&self) -> u8 {
        self.id
    }
}

/// The structural facts of one frame the rules compare against, computed
/// once per routed frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Facts<'a> {
    pub(crate) kind: FrameKind,
    pub(crate) method_id: u8,
    pub(crate) method: &'a str,
    pub(crate) status: u16,
    pub(crate) cseq_method: Option<&'a str>,
    pub(crate) call_id: Option<&'a str>,
}

/// A routing rule. See the module doc and [`super::text`] for the text form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub(crate) mode: Mode,
    pub(crate) kind: Option<FrameKind>,
    pub(crate) method: Option<MethodName>,
    pub(crate) status: Option<StatusMatch>,
    pub(crate) cseq: Option<MethodName>,
    pub(crate) call_id: Option<Box<str>>,
    pub(crate) dialog: Option<DialogMatch>,
    pub(crate) headers: Vec<HeaderMatch>,
    pub(crate) body: Option<Pattern>,
}

impl Rule {
    fn of_kind(kind: Option<FrameKind>) -> Rule {
        Rule {
            mode: Mode::Consume,
            kind,
            method: None,
            status: None,
            cseq: None,
            call_id: None,
            dialog: None,
            headers: Vec::new(),
            body: None,
        }
    }

    /// A rule matching every frame (refine it with the builders below).
    #[must_use]
    pub fn any() -> Rule {
        Rule::of_kind(None)
    }

    /// A rule matching keepalive pings (`"\r\n\r\n"`).
    #[must_use]
    pub fn ping() -> Rule {
        Rule::of_kind(Some(FrameKind::Ping))
    }

    /// A rule matching keepalive pongs (frames made only of CRLFs, other
    /// than the ping).
    #[must_use]
    pub fn pong() -> Rule {
        Rule::of_kind(Some(FrameKind::Pong))
    }

    /// A rule matching frames that are neither keepalives nor SIP messages.
    #[must_use]
    pub fn malformed() -> Rule {
        Rule::of_kind(Some(FrameKind::Malformed))
    }

    /// A rule matching SIP requests.
    #[must_use]
    pub fn request() -> Rule {
        Rule::of_kind(Some(FrameKind::Request))
    }

    /// A rule matching SIP responses.
    #[must_use]
    pub fn response() -> Rule {
        Rule::of_kind(Some(FrameKind::Response))
    }

    /// Parse the text form (see [`super::text`]).
    pub fn parse(text: &str) -> Result<Rule, super::text::RuleParseError> {
        super::text::parse(text)
    }

    /// Requests with this method (case-sensitive); makes the rule a request rule.
    #[must_use]
    pub fn method(mut self, method: &str) -> Rule {
        self.kind = Some(FrameKind::Request);
        self.method = Some(MethodName::new(method));
        self
    }

    /// Responses whose status satisfies `status`; makes the rule a response rule.
    #[must_use]
    pub fn status(mut self, status: StatusMatch) -> Rule {
        self.kind = Some(FrameKind::Response);
        self.status = Some(status);
        self
    }

    /// Messages whose CSeq method is `method` (case-sensitive).
    #[must_use]
    pub fn cseq(mut self, method: &str) -> Rule {
        self.cseq = Some(MethodName::new(method));
        self
    }

    /// Messages with this Call-ID (byte-exact).
    #[must_use]
    pub fn call_id(mut self, call_id: &str) -> Rule {
        self.call_id = Some(call_id.into());
        self
    }

    /// Messages belonging to a dialog.
    #[must_use]
    pub fn dialog(mut self, dialog: DialogMatch) -> Rule {
        self.dialog = Some(dialog);
        self
    }

    /// Add a header refinement (all refinements must hold).
    #[must_use]
    pub fn header(mut self, key: HeaderKey, test: ValueTest) -> Rule {
        self.headers.push(HeaderMatch { key, test });
        self
    }

    /// Add a body refinement: the pattern must match somewhere in the body.
    #[must_use]
    pub fn body(mut self, pattern: Pattern) -> Rule {
        self.body = Some(pattern);
        self
    }

    /// Make the rule a tap: it observes without consuming.
    #[must_use]
    pub fn tap(mut self) -> Rule {
        self.mode = Mode::Tap;
        self
    }

    /// Whether the rule consumes or taps.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The frame kind the rule requires, `None` for any.
    #[must_use]
    pub fn kind(&self) -> Option<FrameKind> {
        self.kind
    }

    /// Whether the rule has refinements or a dialog constraint, which need
    /// the full parse of a frame (done lazily, at most once per frame).
    #[must_use]
    pub fn needs_full_parse(&self) -> bool {
        self.dialog.is_some() || !self.headers.is_empty() || self.body.is_some()
    }

    /// Whether the rule has a regex refinement.
    #[must_use]
    pub fn has_regex(&self) -> bool {
        self.body.is_some()
            || self
                .headers
                .iter()
                .any(|h| matches!(h.test, ValueTest::Regex(_)))
    }

    /// The structural part (no regex, no full parse): kind, method, status,
    /// CSeq method, Call-ID, and the Call-ID half of a specific dialog.
    #[inline]
    pub(crate) fn matches_structure(&self, f: &Facts<'_>) -> bool {
        if let Some(k) = self.kind {
            if k != f.kind {
                return false;
            }
        }
        let message = matches!(f.kind, FrameKind::Request | FrameKind::Response);
        if !message
            && (self.method.is_some()
                || self.status.is_some()
                || self.cseq.is_some()
                || self.call_id.is_some()
                || self.needs_full_parse())
        {
            return false;
        }
        if let Some(m) = &self.method {
            if f.kind != FrameKind::Request || !m.matches(f.method_id, f.method) {
                return false;
            }
        }
        if let Some(s) = self.status {
            if f.kind != FrameKind::Response || !s.matches(f.status) {
                return false;
            }
        }
        if let Some(c) = &self.cseq {
            match f.cseq_method {
                Some(m) if c.as_str() == m => {}
                _ => return false,
            }
        }
        if let Some(cid) = &self.call_id {
            if f.call_id != Some(&**cid) {
                return false;
            }
        }
        if let Some(DialogMatch::Is(d)) = &self.dialog {
            if f.call_id != Some(d.call_id.as_str()) {
                return false;
            }
        }
        true
    }
}

/// Quote a value for the text form when it would not read back as one word.
pub(crate) fn write_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    let plain = !v.is_empty()
        && !v.starts_with(['=', '~'])
        && !v
            .bytes()
            .any(|b| b == b' ' || b == b'\t' || b == b'"' || b == b'\\' || b < 0x20);
    if plain {
        return f.write_str(v);
    }
    f.write_str("\"")?;
    for c in v.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words = 0usize;
        let mut sep = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            words += 1;
            if words > 1 {
                f.write_str(" ")
            } else {
                Ok(())
            }
        };
        if self.mode == Mode::Tap {
            f.write_str("tap:")?;
        }
        match (self.kind, &self.method, self.status) {
            (_, Some(m), _) => {
                sep(f)?;
                f.write_str(m.as_str())?;
            }
            (_, None, Some(s)) => {
                sep(f)?;
                write!(f, "{s}")?;
            }
            (Some(k), None, None) => {
                sep(f)?;
                f.write_str(k.as_str())?;
            }
            (None, None, None) => {}
        }
        if let Some(c) = &self.cseq {
            sep(f)?;
            write!(f, "cseq={}", c.as_str())?;
        }
        if let Some(c) = &self.call_id {
            sep(f)?;
            f.write_str("call-id=")?;
            write_value(f, c)?;
        }
        match &self.dialog {
            Some(DialogMatch::Registered) => {
                sep(f)?;
                f.write_str("dialog")?;
            }
            Some(DialogMatch::Is(d)) => {
                sep(f)?;
                f.write_str("dialog=")?;
                write_value(
                    f,
                    &format!("{}/{}/{}", d.call_id, d.local_tag, d.remote_tag),
                )?;
            }
            None => {}
        }
        for h in &self.headers {
            sep(f)?;
            write!(f, "{}", h.key)?;
            match &h.test {
                ValueTest::Token(v) => {
                    f.write_str("=")?;
                    write_value(f, v)?;
                }
                ValueTest::Exact(v) => {
                    f.write_str("==")?;
                    write_value(f, v)?;
                }
                ValueTest::Regex(p) => {
                    f.write_str("~")?;
                    write_value(f, p.as_str())?;
                }
            }
        }
        if let Some(p) = &self.body {
            sep(f)?;
            f.write_str("body~")?;
            write_value(f, p.as_str())?;
        }
        if words == 0 {
            f.write_str("any")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: FrameKind) -> Facts<'static> {
        Facts {
            kind,
            method_id: 0,
            method: "",
            status: 0,
            cseq_method: None,
            call_id: None,
        }
    }

    fn request(method: &'static str, cseq: &'static str, call_id: &'static str) -> Facts<'static> {
        Facts {
            kind: FrameKind::Request,
            method_id: method_id(method),
            method,
            status: 0,
            cseq_method: Some(cseq),
            call_id: Some(call_id),
        }
    }

    fn response(status: u16, cseq: &'static str) -> Facts<'static> {
        Facts {
            kind: FrameKind::Response,
            method_id: 0,
            method: "",
            status,
            cseq_method: Some(cseq),
            call_id: Some("c1"),
        }
    }

    #[test]
    fn kind_matcher() {
        assert!(Rule::ping().matches_structure(&facts(FrameKind::Ping)));
        assert!(!Rule::ping().matches_structure(&facts(FrameKind::Pong)));
        assert!(Rule::pong().matches_structure(&facts(FrameKind::Pong)));
        assert!(Rule::malformed().matches_structure(&facts(FrameKind::Malformed)));
        assert!(!Rule::malformed().matches_structure(&facts(FrameKind::Request)));
        assert!(Rule::any().matches_structure(&facts(FrameKind::Malformed)));
        assert!(Rule::request().matches_structure(&request("INFO", "INFO", "c")));
        assert!(!Rule::response().matches_structure(&request("INFO", "INFO", "c")));
    }

    #[test]
    fn method_matcher_is_case_sensitive_and_handles_extensions() {
        let r = Rule::request().method("NOTIFY");
        assert!(r.matches_structure(&request("NOTIFY", "NOTIFY", "c")));
        assert!(!r.matches_structure(&request("INFO", "INFO", "c")));
        assert!(!r.matches_structure(&request("notify", "notify", "c")));
        let x = Rule::request().method("FOO");
        assert!(x.matches_structure(&request("FOO", "FOO", "c")));
        assert!(!x.matches_structure(&request("BAR", "BAR", "c")));
        assert!(!x.matches_structure(&request("INVITE", "INVITE", "c")));
        // A method rule never matches a response, whatever its CSeq.
        assert!(!r.matches_structure(&response(200, "NOTIFY")));
    }

    #[test]
    fn status_matcher_code_and_class() {
        let code = Rule::response().status(StatusMatch::Code(401));
        assert!(code.matches_structure(&response(401, "REGISTER")));
        assert!(!code.matches_structure(&response(407, "REGISTER")));
        let class = Rule::response().status(StatusMatch::Class(4));
        assert!(class.matches_structure(&response(401, "REGISTER")));
        assert!(class.matches_structure(&response(499, "REGISTER")));
        assert!(!class.matches_structure(&response(500, "REGISTER")));
        assert!(!class.matches_structure(&response(399, "REGISTER")));
        assert!(!class.matches_structure(&request("INVITE", "INVITE", "c")));
    }

    #[test]
    fn cseq_and_call_id_matchers() {
        let r = Rule::response().cseq("REGISTER");
        assert!(r.matches_structure(&response(200, "REGISTER")));
        assert!(!r.matches_structure(&response(200, "INVITE")));
        let mut no_cseq = response(200, "REGISTER");
        no_cseq.cseq_method = None;
        assert!(!r.matches_structure(&no_cseq));
        let c = Rule::any().call_id("abc@host");
        assert!(c.matches_structure(&request("BYE", "BYE", "abc@host")));
        assert!(!c.matches_structure(&request("BYE", "BYE", "abc@hos")));
        assert!(!c.matches_structure(&facts(FrameKind::Ping)));
    }

    #[test]
    fn dialog_call_id_is_structural_and_tags_are_directional() {
        let d = DialogId::new("cid", "mine", "theirs");
        let r = Rule::any().dialog(DialogMatch::Is(d.clone()));
        assert!(!r.matches_structure(&request("BYE", "BYE", "other")));
        assert!(r.matches_structure(&request("BYE", "BYE", "cid")));
        // Inbound request: From is the peer, To is us.
        assert!(d.tags_match(true, "theirs", "mine"));
        assert!(!d.tags_match(true, "mine", "theirs"));
        // Inbound response to our request: From is us, To is the peer.
        assert!(d.tags_match(false, "mine", "theirs"));
        assert!(!d.tags_match(false, "theirs", "mine"));
    }

    #[test]
    fn token_test_splits_lists_and_drops_params() {
        assert!(token_list_contains("dialog;id=7", "dialog"));
        assert!(token_list_contains("Dialog", "dialog"));
        assert!(token_list_contains(" presence , dialog ;x", "dialog"));
        assert!(!token_list_contains("dialogs", "dialog"));
        assert!(!token_list_contains("\"a, dialog\"", "dialog"));
        assert!(!token_list_contains("<sip:a,dialog>", "dialog"));
        assert!(token_list_contains(
            "application/dtmf-relay",
            "application/dtmf-relay"
        ));
        assert!(!token_list_contains("", "x"));
    }

    #[test]
    fn value_tests_count_only_regex_runs() {
        let mut runs = 0;
        let tok = HeaderMatch {
            key: HeaderKey::from_name("Event"),
            test: ValueTest::Token("dialog".into()),
        };
        assert!(tok.value_matches("dialog;id=1", &mut runs));
        let exact = HeaderMatch {
            key: HeaderKey::from_name("Event"),
            test: ValueTest::Exact("dialog".into()),
        };
        assert!(!exact.value_matches("dialog;id=1", &mut runs));
        assert!(exact.value_matches("dialog", &mut runs));
        assert_eq!(runs, 0);
        let re = HeaderMatch {
            key: HeaderKey::from_name("c"),
            test: ValueTest::Regex(Pattern::new("(?i)dtmf").unwrap()),
        };
        assert_eq!(re.key, HeaderKey::Known(HeaderName::ContentType));
        assert!(re.value_matches("application/DTMF-relay", &mut runs));
        assert!(!re.value_matches("application/sdp", &mut runs));
        assert_eq!(runs, 2);
    }

    #[test]
    fn patterns_are_bytewise() {
        let p = Pattern::new(r"h.llo").unwrap();
        assert!(p.is_match(b"h\xffllo"));
        let u = Pattern::new("caf\u{e9}").unwrap();
        assert!(u.is_match("un café".as_bytes()));
        assert!(Pattern::new("(").is_err());
    }

    #[test]
    fn method_interning() {
        for m in KNOWN_METHODS {
            assert_ne!(method_id(m), 0);
            assert_eq!(known_method_ignoring_case(&m.to_ascii_lowercase()), Some(m));
        }
        assert_eq!(method_id("invite"), 0);
        assert!(MethodName::new("X").matches(0, "X"));
        assert!(!MethodName::new("X").matches(1, "INVITE"));
    }
}
