//! Parsing a message and reading every typed header does zero heap
//! allocations, measured with a counting global allocator
//! (`allocation-counter`, which counts per thread).

use std::hint::black_box;

use sipws_core::message::{classify, unescape_into, Contact, Limits, Message, Uri};

/// Read everything sipws can read from `buf`; returns a checksum so nothing
/// is optimised away.
fn read_all(buf: &[u8]) -> usize {
    let limits = Limits::default();
    let m = Message::parse(buf, &limits).expect("corpus message parses");
    m.validate().expect("corpus message validates");
    let mut n = m.headers().len() + m.body().len();
    let s = classify(buf, &limits).expect("classify");
    n += s.content_length.unwrap_or(0);
    n += m.call_id().map_or(0, str::len);
    n += m.cseq().map_or(0, |c| c.seq as usize + c.method.len());
    n += usize::from(m.max_forwards().unwrap_or(0));
    n += m.expires().unwrap_or(0) as usize + m.min_expires().unwrap_or(0) as usize;
    for v in m.vias() {
        let v = v.expect("via");
        n += v.host.len() + v.transport.len() + usize::from(v.port.unwrap_or(0));
        n += v.branch().map_or(0, str::len) + v.received().map_or(0, str::len);
        n += v.rport().flatten().map_or(0, usize::from);
        n += v.params.iter().count();
    }
    for na in [m.from(), m.to()].into_iter().flatten() {
        n += na.display_name.map_or(0, str::len) + na.tag().map_or(0, str::len);
        let u = na.sip_uri().expect("sip uri");
        n += u.user.map_or(0, str::len) + u.host.len();
    }
    for c in m.contacts() {
        if let Contact::Address(a) = c.expect("contact") {
            n += a.expires().unwrap_or(0) as usize + a.reg_id().unwrap_or(0) as usize;
            n += a.instance().map_or(0, str::len) + a.q().map_or(0, str::len);
            let u = a.sip_uri().expect("contact uri");
            n += u.transport().map_or(0, str::len) + u.params.iter().count();
            let mut scratch = [0u8; 64];
            n += unescape_into(u.user.unwrap_or(""), &mut scratch).unwrap_or(0);
        }
    }
    for r in m.routes().chain(m.record_routes()).chain(m.paths()) {
        let u: Uri<'_> = r.expect("route").sip_uri().expect("route uri");
        n += usize::from(u.lr()) + u.host.len();
    }
    if let Some(ct) = m.content_type() {
        n += ct.media_type.len() + ct.subtype.len() + ct.param("charset").map_or(0, str::len);
    }
    if let Some(e) = m.event() {
        n += e.package.len() + e.id().map_or(0, str::len);
    }
    for a in m
        .www_authenticate()
        .chain(m.proxy_authenticate())
        .chain(m.authorization())
        .chain(m.proxy_authorization())
    {
        n += a.scheme.len() + a.iter().count();
        n += a.get("realm").map_or(0, str::len) + a.get("nonce").map_or(0, str::len);
    }
    n += m.allow().count() + m.supported().count() + m.require().count();
    n += m.unsupported().count() + m.proxy_require().count() + m.allow_events().count();
    n
}

#[test]
fn parsing_and_reading_every_typed_header_never_allocates() {
    // Load the corpus first (that allocates, outside the measurement).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut frames: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    frames.sort();
    assert!(frames.len() >= 21);

    // The counter works: a String allocates.
    let sanity = allocation_counter::measure(|| {
        black_box(String::from(black_box("allocates")));
    });
    assert!(sanity.count_total >= 1);

    for frame in &frames {
        let mut sum = 0;
        let info = allocation_counter::measure(|| {
            sum = black_box(read_all(black_box(frame)));
        });
        assert!(sum > 0);
        assert_eq!(
            info.count_total,
            0,
            "{} allocation(s) while reading {}",
            info.count_total,
            String::from_utf8_lossy(&frame[..frame.iter().position(|&c| c == b'\r').unwrap_or(0)])
        );
    }
}
