//! The keepalive and reconnect of a sipws link, live, against the embedded
//! testbed on loopback — nothing to install. Timers are the design note's
//! divided by ten (ping after 1 s of quiet, then 0.5 s, then every 0.25 s;
//! dead 0.25 s after the fourth unanswered ping).
//!
//! ```text
//! cargo run -p sipws --example keepalive
//! ```
//!
//! The testbed answers two pings, then stops answering; the link probes
//! faster, declares the connection dead, closes it and reconnects.

use std::time::Duration;

use sipws::{DriverConfig, Event};
use sipws_core::link::LinkEvent;
use sipws_testbed::Testbed;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let testbed = Testbed::start(Default::default()).await?;
    let mut config = DriverConfig::new([testbed.url()]);
    let k = &mut config.link.keepalive;
    k.idle = Duration::from_millis(1_000);
    k.first_retry = Duration::from_millis(500);
    k.retry = Duration::from_millis(250);
    config.link.reconnect.delays = vec![Duration::from_millis(100)];
    let (link, mut events) = sipws::spawn(config)?;

    let mut pongs = 0;
    let run = async {
        while let Some(e) = events.next().await {
            let t = e.elapsed;
            match &e.event {
                Event::Link(l) => println!("{:>3}.{:03}s  {l}", t.as_secs(), t.subsec_millis()),
                Event::Transport(err) => println!(
                    "{:>3}.{:03}s  transport: {err}",
                    t.as_secs(),
                    t.subsec_millis()
                ),
                other => println!("{other:?}"),
            }
            match e.event {
                Event::Link(LinkEvent::PongReceived { .. }) => {
                    pongs += 1;
                    if pongs == 2 {
                        println!("         (testbed: stop answering pings)");
                        testbed.handle().set_drop_pongs(true);
                    }
                }
                Event::Link(LinkEvent::ConnectionDead { .. }) => {
                    println!("         (testbed: answer pings again)");
                    testbed.handle().set_drop_pongs(false);
                }
                Event::Link(LinkEvent::Reconnected { .. }) => return Ok(()),
                Event::Link(LinkEvent::Failed { reason }) => return Err(reason.to_string()),
                _ => {}
            }
        }
        Err("link task stopped".to_owned())
    };
    tokio::time::timeout(Duration::from_secs(30), run).await??;
    link.close().await?;
    Ok(())
}
