//! `sipws listen`: register, then print every SIP message that comes and
//! goes as a ladder (or JSON lines), answering what arrives:
//!
//! - an incoming INVITE is answered `180 Ringing`, then `200 OK` with the
//!   SDP answer to its offer with `--answer` (`sipws_core::sdp::answer`:
//!   browser-shaped for a browser's offer, plain RTP otherwise; `488` when
//!   nothing in the offer is acceptable; the ACK is awaited by the user
//!   agent and shown), or the `--reject CODE` status; with neither, `486 Busy Here`
//!   (a listener is a probe, not a phone: it takes calls only when asked);
//! - MESSAGE, INFO, NOTIFY and OPTIONS are answered `200 OK` by the user
//!   agent; a MESSAGE's body is printed under its ladder line;
//! - BYE and CANCEL end the call they belong to, as usual.
//!
//! `--route RULE` (repeatable, text grammar of `docs/router-rules.md`)
//! prints only the messages, both directions, that a rule matches; what is
//! answered does not change (the filter is a router of its own, without
//! dialogs: `dialog` terms match nothing). Runs until Ctrl-C, `--count N` inbound
//! requests shown (ACK and BYE count), or `--duration DUR`; then
//! un-REGISTERs and exits 0. Exit 3 when the link gives up (after its
//! reconnect attempts), 1 when the registration fails, 2 for bad settings.
//! On a terminal a live status line shows the link state and counters.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;
use sipws::ua::{Call, TimedUaEvent, UaStreamEvent, UserAgent};
use sipws_core::ua::{CallId, UaEvent};

use super::connect::parse_duration;
use super::ladder::party_of;
use super::media;
use super::sip::{block_on, ctrl_c_armed, Common, Session, EXIT_USAGE};

/// Arguments of `sipws listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    common: Common,
    /// Answer incoming calls: 180 Ringing, then 200 OK with the SDP answer
    /// to the caller's offer (488 when nothing in it is acceptable).
    #[arg(long, conflicts_with = "reject")]
    answer: bool,
    /// Reject incoming calls (after 180 Ringing) with this final status
    /// (300..=699); default 486 unless `--answer`.
    #[arg(long, value_name = "CODE", value_parser = clap::value_parser!(u16).range(300..=699))]
    reject: Option<u16>,
    /// Print only the messages this router rule matches (repeatable; a
    /// message is shown when any rule matches), e.g. `MESSAGE`, `4xx`,
    /// `cseq=INVITE`, `from~alice`.
    #[arg(long = "route", value_name = "RULE")]
    routes: Vec<String>,
    /// Stop after this many inbound requests were shown (retransmissions,
    /// same Call-ID and CSeq, are shown but not counted).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop after this long, e.g. `30s`, `5m`.
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    duration: Option<Duration>,
    /// Requested registration lifetime in seconds.
    #[arg(long, default_value_t = 600, value_name = "S")]
    expires: u64,
}

impl Args {
    /// The final status for an incoming call.
    fn final_status(&self) -> u16 {
        match (self.answer, self.reject) {
            (true, _) => 200,
            (false, Some(code)) => code,
            (false, None) => 486,
        }
    }
}

/// What the listener keeps while it runs.
struct Listener<'a> {
    args: &'a Args,
    ua: UserAgent,
    calls: HashMap<CallId, Call>,
    /// Inbound requests shown so far.
    requests: u64,
}

impl Listener<'_> {
    /// Prints one event and acts on it and on every event printed before
    /// it but not acted on yet (while registering); the link's reason if
    /// it gave up.
    async fn handle(&mut self, s: &mut Session, e: &TimedUaEvent) -> Option<String> {
        let (failed, _) = s.show(e);
        self.act_on_held(s).await;
        failed
    }

    /// Acts on the events the session printed and held.
    async fn act_on_held(&mut self, s: &mut Session) {
        for (e, inbound_request) in s.take_held() {
            if inbound_request {
                self.requests += 1;
            }
            self.act(s, &e).await;
        }
    }

    /// Answers what an event asks for (calls) and reports call states.
    async fn act(&mut self, s: &mut Session, e: &TimedUaEvent) {
        let UaStreamEvent::Ua(ev) = &e.event else {
            return;
        };
        match ev {
            UaEvent::IncomingCall {
                call, from, sdp, ..
            } => self.incoming(s, *call, from, sdp).await,
            UaEvent::CallConfirmed { .. } => {
                s.out
                    .event("call_confirmed", "call confirmed (ACK received)", json!({}));
            }
            UaEvent::CallEnded { call, reason } => {
                self.calls.remove(call);
                let reason = reason.to_string();
                s.out.event(
                    "call_ended",
                    &format!("call ended: {reason}"),
                    json!({ "reason": reason }),
                );
            }
            _ => {}
        }
    }

    /// Rings, then answers or rejects an incoming call.
    async fn incoming(&mut self, s: &mut Session, id: CallId, from: &str, offer: &[u8]) {
        let mut status = self.args.final_status();
        let mut sdp = None;
        let action = if status == 200 {
            match media::answer(offer) {
                Ok(answer) => {
                    sdp = Some(answer);
                    "answering 200".to_owned()
                }
                Err(e) => {
                    status = 488;
                    format!("rejecting 488 ({e})")
                }
            }
        } else {
            format!("rejecting {status}")
        };
        let from = party_of(from);
        s.out.event(
            "incoming_call",
            &format!("incoming call from {from}: {action}"),
            json!({ "from": from, "status": status }),
        );
        let call = match self.ua.incoming_call(id).await {
            Ok(Some(call)) => call,
            _ => return,
        };
        let answered = match call.answer(180, None).await {
            Ok(()) => call.answer(status, sdp.as_deref()).await,
            Err(e) => Err(e),
        };
        if let Err(e) = answered {
            s.out.event(
                "error",
                &format!("cannot answer the call: {e}"),
                json!({ "detail": e.to_string() }),
            );
        }
        if status == 200 {
            self.calls.insert(id, call);
        }
    }

    fn done(&self) -> bool {
        self.args.count.is_some_and(|n| self.requests >= n)
    }
}

/// Runs `sipws listen`.
pub(crate) fn run(args: &Args) -> ExitCode {
    block_on("listen", async {
        let c = &args.common;
        let mut out = c.output("listen");
        if let Err(why) = out.set_filter(&args.routes) {
            return out.result(EXIT_USAGE, "usage", &why, json!({}));
        }
        let mut config = c.config(c.password(true));
        config.ua.expires = Duration::from_secs(args.expires);
        let mut ctrl_c = ctrl_c_armed().await;
        let (ua, mut s) = match Session::start(out, config, c.timeout()) {
            Ok(s) => s,
            Err(code) => return code,
        };
        // What arrives while registering is printed by then and acted on
        // once the listener runs (an INVITE right after the 200).
        s.hold();
        let reg = match s.guarded(ua.register()).await {
            Ok(r) => r,
            Err(code) => return code,
        };
        s.out.event(
            "registered",
            &format!(
                "listening as sip:{}@{} (registered expires={}s); Ctrl-C to stop",
                c.user(),
                c.domain(),
                reg.expires.as_secs()
            ),
            json!({ "expires": reg.expires.as_secs(), "bindings": reg.bindings }),
        );
        s.out.enable_live();
        let mut l = Listener {
            args,
            ua: ua.clone(),
            calls: HashMap::new(),
            requests: 0,
        };
        l.act_on_held(&mut s).await;
        let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
        let stopped = if l.done() {
            "count"
        } else {
            loop {
                let e = tokio::select! {
                    _ = &mut ctrl_c => break "interrupted",
                    () = sleep_until(deadline) => break "duration",
                    e = s.events.next() => e,
                };
                let Some(e) = e else {
                    return s.connection_failed("user agent stopped");
                };
                if let Some(why) = l.handle(&mut s, &e).await {
                    return s.connection_failed(&why);
                }
                if l.done() {
                    // Act on what already arrived (the answer to the last
                    // request goes out first).
                    tokio::task::yield_now().await;
                    while let Some(e) = s.events.try_next() {
                        if let Some(why) = l.handle(&mut s, &e).await {
                            return s.connection_failed(&why);
                        }
                    }
                    break "count";
                }
            }
        };
        let requests = l.requests;
        drop(l);
        if let Err(code) = s.guarded(ua.unregister()).await {
            return code;
        }
        s.out.event("unregistered", "unregistered", json!({}));
        s.finish(&ua, c.timeout()).await;
        s.out.result(
            0,
            "ok",
            &format!("stopped ({stopped}) after {requests} inbound requests"),
            json!({ "requests": requests, "stopped": stopped }),
        )
    })
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
