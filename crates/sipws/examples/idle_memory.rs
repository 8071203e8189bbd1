//! Idle-link memory: opens N idle sipws links to a loopback testbed (run
//! in a child process, so only client memory is measured) and reports the
//! resident memory per link (VmRSS from /proc/self/status, Linux), next to
//! N default-config tokio-tungstenite clients in the same run, over `ws://`
//! and over `wss://` (the testbed's test certificate).
//!
//! ```text
//! cargo run --release -p sipws --example idle_memory -- 300
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use sipws::transport::{Inbound, Transport, TransportConfig};
use sipws::{DriverConfig, Event, LinkEvents, LinkHandle};
use sipws_core::link::{Link, LinkEvent, XorShift64};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        return rt.block_on(serve());
    }
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(300);

    let mut child = Command::new(std::env::current_exe()?)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().ok_or("no child stdout")?);
    let (mut url, mut secure_url) = (String::new(), String::new());
    lines.read_line(&mut url)?;
    lines.read_line(&mut secure_url)?;
    let (url, secure_url) = (url.trim().to_owned(), secure_url.trim().to_owned());

    let result = rt.block_on(measure(&url, &secure_url, n));
    // Closing the child's stdin stops it.
    drop(child.stdin.take());
    let _ = child.wait();
    let rows = result?;

    println!("idle links: {n} per kind, loopback {url} and {secure_url}");
    println!("| client | links | RSS added (KiB) | per link (KiB) |");
    println!("|---|---:|---:|---:|");
    for (name, kib) in rows {
        println!("| {name} | {n} | {kib} | {:.1} |", kib as f64 / n as f64);
    }
    Ok(())
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let testbed = sipws_testbed::Testbed::start(Default::default()).await?;
    let secure = sipws_testbed::Testbed::start(sipws_testbed::TestbedConfig {
        tls: Some(sipws_testbed::TlsFiles {
            cert: test_data("server.pem"),
            key: test_data("server.key"),
        }),
        ..Default::default()
    })
    .await?;
    println!("{}", testbed.url());
    println!("{}", secure.url());
    std::io::stdout().flush()?;
    // Serve until the parent closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
    })
    .await?;
    Ok(())
}

fn test_data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sipws-testbed/tests/data")
        .join(name)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

async fn measure(
    url: &str,
    secure_url: &str,
    n: usize,
) -> Result<Vec<(&'static str, u64)>, Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    let mut config = TransportConfig::default();
    config.tls.ca_file = Some(test_data("ca.pem"));
    let transport = Transport::new(config)?;
    let tls = transport.config().tls.client_config()?;
    // Warm-up: one link of each kind, so one-time costs (TLS roots, runtime
    // internals) are not charged to the measured links.
    let mut keep = (
        open_sipws(url, &transport, 1).await?,
        open_default(url, 1, None).await?,
    );
    keep.0.extend(open_sipws(secure_url, &transport, 1).await?);
    keep.1
        .extend(open_default(secure_url, 1, Some(tls.clone())).await?);
    settle().await;

    let mut measured = Vec::new();
    let before = rss_kib();
    keep.0.extend(open_sipws(url, &transport, n).await?);
    settle().await;
    rows.push((
        "ws: sipws link (driver task + link + 4 KiB read buffer)",
        rss_kib().saturating_sub(before),
    ));

    let before = rss_kib();
    measured.extend(open_transport(url, &transport, n).await?);
    settle().await;
    rows.push((
        "ws: sipws transport alone (no link), same buffers",
        rss_kib().saturating_sub(before),
    ));

    let before = rss_kib();
    measured.extend(open_default(url, n, None).await?);
    settle().await;
    rows.push((
        "ws: tokio-tungstenite, default WebSocketConfig",
        rss_kib().saturating_sub(before),
    ));

    let before = rss_kib();
    keep.0.extend(open_sipws(secure_url, &transport, n).await?);
    settle().await;
    rows.push(("wss: sipws link", rss_kib().saturating_sub(before)));

    let before = rss_kib();
    measured.extend(open_default(secure_url, n, Some(tls)).await?);
    settle().await;
    rows.push((
        "wss: tokio-tungstenite, default WebSocketConfig",
        rss_kib().saturating_sub(before),
    ));

    drop((keep, measured));
    Ok(rows)
}

/// Opens `n` sipws links (default keepalive) and waits until all are open.
async fn open_sipws(
    url: &str,
    transport: &Transport,
    n: usize,
) -> Result<Vec<(LinkHandle, LinkEvents)>, Box<dyn std::error::Error>> {
    let mut links = Vec::with_capacity(n);
    for i in 0..n {
        let config = DriverConfig::new([url]);
        let link = Link::new(config.link, XorShift64::new(i as u64 + 1))?;
        let (handle, mut events) = sipws::spawn_with(link, transport.clone());
        loop {
            match events.next().await.map(|e| e.event) {
                Some(Event::Link(LinkEvent::Connected { .. })) => break,
                Some(Event::Link(LinkEvent::ConnectFailed { reason, .. })) => {
                    return Err(format!("link {i}: {reason}").into())
                }
                Some(_) => {}
                None => return Err("link task stopped".into()),
            }
        }
        links.push((handle, events));
    }
    Ok(links)
}

/// Opens `n` bare sipws transport connections, each with a reading task.
async fn open_transport(
    url: &str,
    transport: &Transport,
    n: usize,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Box<dyn std::error::Error>> {
    let mut tasks = Vec::with_capacity(n);
    let protocols = vec!["sip".to_owned()];
    for _ in 0..n {
        let mut conn = transport.connect(url, &protocols).await?;
        tasks.push(tokio::spawn(async move {
            while !matches!(conn.recv().await, Inbound::Closed(_)) {}
        }));
    }
    Ok(tasks)
}

/// Opens `n` default-config tokio-tungstenite clients, each with a task
/// reading it (as any client must, to see pongs and closes); `tls` for
/// `wss://`.
async fn open_default(
    url: &str,
    n: usize,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
) -> Result<Vec<tokio::task::JoinHandle<()>>, Box<dyn std::error::Error>> {
    let mut tasks = Vec::with_capacity(n);
    let addr = url
        .trim_start_matches("ws://")
        .trim_start_matches("wss://")
        .to_owned();
    for _ in 0..n {
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
        let tcp = tokio::net::TcpStream::connect(&addr).await?;
        let connector = tls.clone().map(tokio_tungstenite::Connector::Rustls);
        let (mut ws, _) =
            tokio_tungstenite::client_async_tls_with_config(request, tcp, None, connector).await?;
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(_)) = ws.next().await {}
        }));
    }
    Ok(tasks)
}
