//! Bytes per message of the three wire codecs (SIP text, compact header
//! names, JSON) on the call flows of DESIGN.md §1, using the corpus in
//! `crates/sipws-core/tests/data`. Prints a Markdown table.
//!
//! ```text
//! cargo run -p sipws-core --example codec_sizes
//! ```

use std::path::PathBuf;

use sipws_core::codec::Codec;
use sipws_core::message::{HeaderName, Limits, Message, OwnedMessage, ResponseBuilder};

/// (§1 step, who sends it, corpus file).
const FLOW: &[(&str, &str, &str)] = &[
    ("1", "client", "register.sip"),
    ("1", "server", "register_401.sip"),
    ("2", "client", "register_auth.sip"),
    ("2", "server", "register_200.sip"),
    ("3", "client", "invite_webrtc.sip"),
    ("3", "server", "invite_100.sip"),
    ("3", "server", "invite_180.sip"),
    ("3", "server", "invite_200.sip"),
    ("4", "client", "ack.sip"),
    ("5", "server", "notify_dialog.sip"),
    ("6", "client", "notify_200.sip"),
    ("7", "client", "info.sip"),
    ("7", "server", "info_200.sip"),
    ("8", "server", "incoming_invite.sip"),
];

/// Messages outside the §1 table that every client also sends or gets.
const OTHERS: &[(&str, &str, &str)] = &[
    ("-", "client", "message.sip"),
    ("-", "server", "message_200.sip"),
    ("-", "client", "options.sip"),
    ("-", "server", "options_200.sip"),
    ("-", "client", "bye.sip"),
    ("-", "server", "bye_200.sip"),
    ("-", "client", "compact.sip"),
];

#[derive(Default)]
struct Totals {
    messages: usize,
    text: usize,
    compact: usize,
    json: usize,
    json_compact: usize,
}

/// Sizes in text, compact, JSON, and JSON of the compact-named message.
fn sizes(msg: &OwnedMessage) -> Result<[usize; 4], Box<dyn std::error::Error>> {
    let limits = Limits::default();
    // Give every message its Content-Length header (a no-op for the corpus
    // files), so all four encodings carry the same headers.
    let mut msg = msg.clone();
    msg.push_header(HeaderName::ContentLength, "")?;
    let msg = &msg;
    let mut out = [0; 4];
    let mut compact_frame = Vec::new();
    for (slot, codec) in out.iter_mut().zip(Codec::ALL) {
        let mut frame = Vec::new();
        codec.encode(msg, &mut frame)?;
        // Each encoding must decode back to the same headers and body.
        let back = codec.decode(&frame, &limits)?;
        assert_eq!(back.body(), msg.body());
        let values = |m: &OwnedMessage| -> Vec<(HeaderName, String)> {
            m.headers()
                .iter()
                .filter(|h| h.name() != HeaderName::ContentLength)
                .map(|h| (h.name(), h.value().to_owned()))
                .collect()
        };
        assert_eq!(values(&back), values(msg));
        if codec == Codec::Compact {
            compact_frame = frame.clone();
        }
        *slot = frame.len();
    }
    let mut json_compact = Vec::new();
    Codec::Json.encode_parsed(&Message::parse(&compact_frame, &limits)?, &mut json_compact)?;
    out[3] = json_compact.len();
    Ok(out)
}

fn pct(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "-".into();
    }
    let p = (part as f64 / whole as f64 - 1.0) * 100.0;
    format!("{p:+.1} %")
}

fn row(
    t: &mut Totals,
    step: &str,
    who: &str,
    what: &str,
    msg: &OwnedMessage,
) -> Result<(), Box<dyn std::error::Error>> {
    let [text, compact, json, json_compact] = sizes(msg)?;
    println!(
        "| {step} | {who} | {what} | {text} | {compact} ({}) | {json} ({}) | {json_compact} ({}) |",
        pct(compact, text),
        pct(json, text),
        pct(json_compact, text)
    );
    t.messages += 1;
    t.text += text;
    t.compact += compact;
    t.json += json;
    t.json_compact += json_compact;
    Ok(())
}

fn total_row(label: &str, t: &Totals) {
    println!(
        "| | | **{label}** ({} messages) | **{}** | **{}** ({}) | **{}** ({}) | **{}** ({}) |",
        t.messages,
        t.text,
        t.compact,
        pct(t.compact, t.text),
        t.json,
        pct(t.json, t.text),
        t.json_compact,
        pct(t.json_compact, t.text)
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let limits = Limits::default();
    let load = |file: &str| -> Result<OwnedMessage, Box<dyn std::error::Error>> {
        let bytes = std::fs::read(dir.join(file))?;
        let parsed = Message::parse(&bytes, &limits)?;
        Ok(OwnedMessage::try_from(&parsed)?)
    };
    println!(
        "| §1 step | sender | message | text B | compact B (vs text) | JSON B (vs text) \
         | JSON, compact names B (vs text) |"
    );
    println!("|---|---|---|---:|---:|---:|---:|");
    let mut flow = Totals::default();
    for (step, who, file) in FLOW {
        row(&mut flow, step, who, &format!("`{file}`"), &load(file)?)?;
    }
    // Step 8, the client's answers to the incoming INVITE, are not in the
    // corpus: build them with sipws's own builder, as the client would.
    let incoming = load("incoming_invite.sip")?;
    let answer_sdp = load("invite_200.sip")?.body().to_vec();
    let trying = ResponseBuilder::reply_to_owned(&incoming, 100).build()?;
    row(
        &mut flow,
        "8",
        "client",
        "100 Trying (built by sipws)",
        &trying,
    )?;
    let ok = ResponseBuilder::reply_to_owned(&incoming, 200)
        .to_tag("k3v9s0q2x7")
        .header(
            HeaderName::Contact,
            "<sip:1001@df7jal23ls0d.invalid;transport=ws>",
        )
        .header(HeaderName::ContentType, "application/sdp")
        .body(answer_sdp)
        .build()?;
    row(
        &mut flow,
        "8",
        "client",
        "200 OK with SDP answer (built by sipws)",
        &ok,
    )?;
    total_row("§1 call flows", &flow);
    let mut others = Totals::default();
    for (step, who, file) in OTHERS {
        row(&mut others, step, who, &format!("`{file}`"), &load(file)?)?;
    }
    total_row("other messages", &others);
    let all = Totals {
        messages: flow.messages + others.messages,
        text: flow.text + others.text,
        compact: flow.compact + others.compact,
        json: flow.json + others.json,
        json_compact: flow.json_compact + others.json_compact,
    };
    total_row("all", &all);
    Ok(())
}
