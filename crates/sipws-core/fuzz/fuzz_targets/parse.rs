//! Fuzz `Message::parse` + `validate` + every typed accessor: nothing may
//! panic, and a parsed message's parts must lie inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipws_core::message::{unescape, Contact, Limits, Message};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = Message::parse(data, &Limits::default()) else {
        return;
    };
    assert!(m.as_bytes().len() + m.trailing().len() == data.len());
    assert!(m.body().len() <= m.as_bytes().len());
    let _ = m.validate();
    let _ = (
        m.call_id(),
        m.cseq(),
        m.max_forwards(),
        m.expires(),
        m.min_expires(),
    );
    let _ = (m.content_type(), m.event(), m.authentication_info());
    for v in m.vias().flatten() {
        let _ = (
            v.branch(),
            v.received(),
            v.rport(),
            v.maddr(),
            v.params.iter().count(),
        );
    }
    for na in [m.from(), m.to()].into_iter().flatten() {
        let _ = (
            na.tag(),
            na.sip_uri()
                .map(|u| (u.transport(), u.header_pairs().count())),
        );
    }
    for c in m.contacts().flatten() {
        if let Contact::Address(a) = c {
            let _ = (a.expires(), a.q(), a.instance(), a.reg_id());
            if let Some(u) = a.sip_uri() {
                let _ = unescape(u.user.unwrap_or(""));
            }
        }
    }
    for r in m
        .routes()
        .chain(m.record_routes())
        .chain(m.paths())
        .flatten()
    {
        let _ = r.sip_uri();
    }
    for a in m
        .www_authenticate()
        .chain(m.proxy_authenticate())
        .chain(m.authorization())
    {
        let _ = (a.get("nonce"), a.iter().count());
    }
    let _ = m.allow().count() + m.supported().count() + m.require().count();
});
