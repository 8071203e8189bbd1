//! Register with digest and place one call, then hang up and leave.
//!
//! ```sh
//! cargo run -p sipws --example register_and_call -- \
//!     ws://127.0.0.1:15080 alice sipws-secret sip:bob@sipws.test [domain]
//! ```
//!
//! Arguments fall back to `SIPWS_URL`, `SIPWS_USER`, `SIPWS_PASSWORD`,
//! `SIPWS_TARGET`, `SIPWS_DOMAIN` (default `sipws.test`).

use std::time::Duration;

use sipws::ua::{CallEvent, UserAgent, UserAgentConfig};

const OFFER: &[u8] = b"v=0\r\no=sipws 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";

fn arg(n: usize, var: &str, default: Option<&str>) -> Result<String, String> {
    std::env::args()
        .nth(n)
        .or_else(|| std::env::var(var).ok())
        .or_else(|| default.map(str::to_owned))
        .ok_or_else(|| format!("missing argument {n} (or {var})"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = arg(1, "SIPWS_URL", Some("ws://127.0.0.1:15080"))?;
    let user = arg(2, "SIPWS_USER", Some("alice"))?;
    let password = arg(3, "SIPWS_PASSWORD", None)?;
    let domain = arg(5, "SIPWS_DOMAIN", Some("sipws.test"))?;
    let target = arg(4, "SIPWS_TARGET", None).unwrap_or(format!("sip:bob@{domain}"));

    let config =
        UserAgentConfig::new(url, format!("sip:{user}@{domain}")).with_credentials(user, password);
    let (ua, _events) = UserAgent::spawn(config)?;
    let limit = Duration::from_secs(30);

    let reg = tokio::time::timeout(limit, ua.register()).await??;
    println!("registered for {:?}: {:?}", reg.expires, reg.bindings);

    let mut call = ua.call(&target, OFFER).await?;
    let answered = tokio::time::timeout(limit, async {
        while let Some(e) = call.next_event().await {
            match e {
                CallEvent::Progress { status, reason, .. } => println!("{status} {reason}"),
                CallEvent::Answered { sdp } => return Ok(sdp),
                CallEvent::Ended(why) => return Err(format!("call ended: {why}")),
                _ => {}
            }
        }
        Err("user agent stopped".to_owned())
    })
    .await?;
    match answered {
        Ok(sdp) => {
            println!("answered, {} bytes of SDP", sdp.len());
            let r = call.send_dtmf('1').await?;
            println!("INFO: {} {}", r.status, r.reason);
            println!("hung up: {}", call.hangup().await?);
        }
        Err(e) => println!("{e}"),
    }
    tokio::time::timeout(limit, ua.shutdown()).await??;
    println!("unregistered and closed");
    Ok(())
}
