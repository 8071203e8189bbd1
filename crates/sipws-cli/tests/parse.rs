//! `sipws parse` run as a real process on the corpus, on stdin, on a
//! malformed message and on unreadable input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sipws_core::codec::json;
use sipws_core::message::Limits;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sipws-core/tests/data")
}

fn sipws(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipws"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipws");
    if let Some(bytes) = stdin {
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(bytes)
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait for sipws")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("UTF-8 output")
}

#[test]
fn every_corpus_message_prints_json_that_decodes_back_to_the_same_bytes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "sip"))
        .collect();
    files.sort();
    assert!(files.len() >= 21);
    for path in files {
        let out = sipws(&["parse", path.to_str().unwrap()], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
        let decoded = json::decode(&out.stdout, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: output is not the JSON form: {e}", path.display()));
        let original = std::fs::read(&path).unwrap();
        assert_eq!(
            text(&decoded.to_bytes()),
            text(&original),
            "{}",
            path.display()
        );
    }
}

#[test]
fn summary_of_a_request_and_a_response() {
    let invite = corpus_dir().join("invite_webrtc.sip");
    let out = sipws(&["parse", "--summary", invite.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "kind: request\nmethod: INVITE\nrequest-uri: sip:1002@example.com\n\
         call-id: 8u0t3b7i2h5e9r1o6w4q\ncseq: 7391 INVITE\n"
    );

    let ok = corpus_dir().join("register_401.sip");
    let out = sipws(&["parse", "--summary", ok.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "kind: response\nstatus: 401 Unauthorized\n\
         call-id: 2s6jf0m9kq1vb8h3u7p4xc\ncseq: 1 REGISTER\n"
    );
}

#[test]
fn reads_stdin_with_dash_and_without_argument() {
    let bytes = std::fs::read(corpus_dir().join("compact.sip")).unwrap();
    let expected = "kind: request\nmethod: MESSAGE\nrequest-uri: sip:1002@example.com\n\
                    call-id: 7h6g5f4e3d2c1b0a9z8y\ncseq: 3 MESSAGE\n";
    for args in [
        &["parse", "--summary", "-"][..],
        &["parse", "--summary"][..],
    ] {
        let out = sipws(args, Some(&bytes));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert_eq!(text(&out.stdout), expected, "{args:?}");
    }
    let out = sipws(&["parse", "--compact", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.contains(r#"["i","7h6g5f4e3d2c1b0a9z8y"]"#),
        "{stdout}"
    );
}

#[test]
fn malformed_message_shows_offset_line_and_caret() {
    // A space inside a header name, on the third line.
    let bad = b"OPTIONS sip:example.com SIP/2.0\r\n\
                Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n\
                Call ID: abc\r\n\
                CSeq: 1 OPTIONS\r\n\r\n";
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("sipws-cli-malformed.sip");
    std::fs::write(&path, bad).unwrap();
    let out = sipws(&["parse", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    // After `Call` and the space the parser wants `:`, and finds `I`.
    let offset = bad.windows(4).position(|w| w == b" ID:").unwrap() + 1;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "error: malformed header name", "{err}");
    assert_eq!(
        lines[1],
        format!("  --> {}: byte {offset}, line 3, column 6", path.display()),
        "{err}"
    );
    assert_eq!(lines[3], "3 | Call ID: abc", "{err}");
    assert_eq!(lines[4], "  |      ^", "{err}");

    // The same through stdin, and a Content-Length the body does not have.
    let short = b"MESSAGE sip:a@example.com SIP/2.0\r\nContent-Length: 10\r\n\r\nhi";
    let out = sipws(&["parse"], Some(short));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: Content-Length larger than the body\n"),
        "{err}"
    );
    assert!(err.contains("<stdin>: byte 51, line 2, column 17"), "{err}");
    assert!(
        err.contains("2 | Content-Length: 10\n  |                 ^\n"),
        "{err}"
    );
}

#[test]
fn strict_by_default_lenient_on_request() {
    // Well-formed structure, but the CSeq method is not the request's.
    let bad = b"OPTIONS sip:example.com SIP/2.0\r\n\
                Call-ID: a1\r\n\
                CSeq: 1 INVITE\r\n\r\n";
    let out = sipws(&["parse", "--summary"], Some(bad));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: CSeq method differs from the request method\n"),
        "{err}"
    );
    assert!(err.contains("3 | CSeq: 1 INVITE\n  |         ^\n"), "{err}");
    let out = sipws(&["parse", "--summary", "--lenient"], Some(bad));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "kind: request\nmethod: OPTIONS\nrequest-uri: sip:example.com\n\
         call-id: a1\ncseq: 1 INVITE\n"
    );
}

#[test]
fn unreadable_input_exits_2() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-message.sip");
    let out = sipws(&["parse", missing.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("sipws parse: cannot read {}: ", missing.display())),
        "{err}"
    );
    let out = sipws(&["parse", corpus_dir().to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn rfc4475_valid_messages_pass_and_invalid_ones_point_at_their_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/rfc4475");
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.json")) else {
        eprintln!("notice: {} not found; skipped", dir.display());
        return;
    };
    let entries: serde_json::Value = serde_json::from_str(&manifest).expect("manifest is JSON");
    let mut checked = 0;
    for e in entries.as_array().expect("manifest is an array") {
        let name = e["file"].as_str().expect("file name");
        let valid = e["syntactically_valid"].as_bool().expect("verdict");
        let path = dir.join(name);
        let out = sipws(&["parse", "--summary", path.to_str().unwrap()], None);
        let err = text(&out.stderr);
        if valid {
            assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}: {err}");
            let lines: Vec<&str> = err.lines().collect();
            assert!(lines[0].starts_with("error: "), "{name}: {err}");
            assert!(lines[1].contains(": byte "), "{name}: {err}");
            // The offending line, then the caret line under it.
            let (gutter, _) = lines[3].split_once(" | ").expect("source line");
            assert!(gutter.trim().parse::<usize>().is_ok(), "{name}: {err}");
            assert!(lines[4].trim_end().ends_with('^'), "{name}: {err}");
        }
        checked += 1;
    }
    assert_eq!(checked, 49);
}
