//! Registration (RFC 3261 §10, RFC 5626 §4.2, RFC 7118 §5): one binding
//! for this instance, `Contact: <sip:RANDOM@RANDOM.invalid;transport=ws>;
//! +sip.instance="<urn:uuid:…>";reg-id=1`, refreshed before it expires (with
//! jitter), sent again after every reconnect (a new WebSocket is a new
//! flow), removed with `Expires: 0` on shutdown. At most one REGISTER is in
//! flight: a request made meanwhile waits and the latest one wins.

use core::time::Duration;

use super::config::UaConfig;
use super::request::{Local, NewRequest, ALLOW};
use crate::link::RandomSource;
use crate::message::{BuildError, Contact, HeaderName, Message, OwnedMessage};
use crate::time::Instant;
use crate::txn::TxnId;

/// Where the registration stands (see [`super::UserAgent::registration`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistrationState {
    /// No binding (never registered, unregistered, or failed).
    Unregistered,
    /// A REGISTER is in flight (or waits for the link) to create or
    /// refresh the binding.
    Registering,
    /// The registrar holds the binding until `expires_at`; a refresh is
    /// due at `refresh_at`.
    Registered {
        /// When the binding lapses unless refreshed.
        expires_at: Instant,
        /// When the refresh REGISTER goes out.
        refresh_at: Instant,
    },
    /// A REGISTER with `Expires: 0` is in flight.
    Unregistering,
}

/// What the application (or the UA itself) wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    Register,
    Unregister,
}

/// The registration's record.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) call_id: String,
    pub(crate) from_tag: String,
    pub(crate) cseq: u32,
    /// The desired state, `None` before the first register()/unregister().
    pub(crate) want: Option<Want>,
    /// The REGISTER in flight and whether it removes the binding.
    pub(crate) in_flight: Option<(TxnId, Want)>,
    /// A REGISTER should go out as soon as none is in flight.
    pub(crate) pending: bool,
    /// The binding as the registrar last confirmed it.
    pub(crate) bound: Option<(Instant, Instant)>,
    /// The lifetime asked for (raised by a 423's Min-Expires).
    pub(crate) expires: u32,
    /// Close the link once the un-REGISTER is done.
    pub(crate) close_after: bool,
}

impl Registration {
    pub(crate) fn new(rng: &mut impl RandomSource, local: &Local, config: &UaConfig) -> Self {
        Registration {
            call_id: format!("{}@{}", super::request::token(rng, 20), local.host),
            from_tag: super::request::token(rng, 10),
            cseq: 0,
            want: None,
            in_flight: None,
            pending: false,
            bound: None,
            expires: config.expires_secs(),
            close_after: false,
        }
    }

    pub(crate) fn state(&self) -> RegistrationState {
        match (self.in_flight, self.pending, self.want, self.bound) {
            (Some((_, Want::Unregister)), _, _, _) => RegistrationState::Unregistering,
            (Some((_, Want::Register)), _, _, _) => RegistrationState::Registering,
            (None, true, Some(Want::Register), _) => RegistrationState::Registering,
            (None, true, Some(Want::Unregister), _) => RegistrationState::Unregistering,
            (None, _, _, Some((expires_at, refresh_at))) => RegistrationState::Registered {
                expires_at,
                refresh_at,
            },
            _ => RegistrationState::Unregistered,
        }
    }

    /// The refresh deadline, if a binding is held and nothing is in flight.
    pub(crate) fn timeout(&self) -> Option<Instant> {
        match (self.in_flight, self.want) {
            (None, Some(Want::Register)) => self.bound.map(|(_, refresh)| refresh),
            _ => None,
        }
    }

    /// The next REGISTER (CSeq incremented) for the current wish.
    pub(crate) fn build(
        &mut self,
        config: &UaConfig,
        local: &Local,
        via: String,
        want: Want,
    ) -> Result<OwnedMessage, BuildError> {
        self.cseq = self.cseq.wrapping_add(1).max(1);
        let expires = match want {
            Want::Register => self.expires,
            Want::Unregister => 0,
        };
        let contact = format!(
            "<{}>;+sip.instance=\"<urn:uuid:{}>\";reg-id=1{}",
            local.contact_uri(),
            config.instance_id,
            if expires == 0 { ";expires=0" } else { "" }
        );
        let extra = [
            (HeaderName::Expires, expires.to_string()),
            (HeaderName::Allow, ALLOW.to_owned()),
            (HeaderName::Supported, "path, outbound".to_owned()),
        ];
        let to = format!("<{}>", config.aor);
        NewRequest {
            method: "REGISTER",
            uri: &config.registrar,
            from: &config.local_identity(),
            from_tag: &self.from_tag,
            to: &to,
            call_id: &self.call_id,
            cseq: self.cseq,
            via,
            contact: Some(&contact),
            user_agent: config.user_agent.as_deref(),
            extra: &extra,
            content_type: None,
            body: &[],
        }
        .build()
    }
}

/// What a 2xx to a REGISTER says about our binding: its lifetime (the
/// `expires` param of our Contact, else `Expires`, else what we asked) and
/// every binding the registrar listed.
pub(crate) fn granted(msg: &Message<'_>, local: &Local, asked: u32) -> (u32, Vec<String>) {
    let mut ours = None;
    let mut bindings = Vec::new();
    for c in msg.contacts() {
        let Ok(Contact::Address(a)) = c else { continue };
        let mine = a
            .sip_uri()
            .is_some_and(|u| u.host.eq_ignore_ascii_case(&local.host));
        if mine && ours.is_none() {
            ours = a.expires();
        }
        bindings.push(a.uri.to_owned());
    }
    let expires = ours.or_else(|| msg.expires()).unwrap_or(asked);
    (expires, bindings)
}

/// When to refresh a binding granted for `expires` seconds: `margin`
/// before it lapses (at half-life when that is shorter), minus up to
/// `jitter_permille` ‰ of that delay at random.
pub(crate) fn refresh_delay(
    expires: u32,
    margin: Duration,
    jitter_permille: u32,
    rng: &mut impl RandomSource,
) -> Duration {
    let life = Duration::from_secs(u64::from(expires));
    let delay = if life >= margin.saturating_mul(2) {
        life.saturating_sub(margin)
    } else {
        life / 2
    };
    let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    let span = ms.saturating_mul(u64::from(jitter_permille.min(1000))) / 1000;
    let jitter = if span == 0 {
        0
    } else {
        rng.next_u64() % (span + 1)
    };
    Duration::from_millis(ms - jitter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{Sequence, XorShift64};
    use crate::message::Limits;

    #[test]
    fn refresh_delay_margin_half_life_and_jitter() {
        let mut rng = Sequence::new(vec![u64::MAX]);
        let m = Duration::from_secs(30);
        assert_eq!(refresh_delay(600, m, 0, &mut rng), Duration::from_secs(570));
        assert_eq!(refresh_delay(40, m, 0, &mut rng), Duration::from_secs(20));
        // Up to 5 %: span 28 500 ms, u64::MAX % 28 501.
        let d = refresh_delay(600, m, 50, &mut rng);
        assert_eq!(d, Duration::from_millis(570_000 - u64::MAX % 28_501));
        let mut rng = XorShift64::new(9);
        for _ in 0..100 {
            let d = refresh_delay(600, m, 50, &mut rng);
            assert!(d <= Duration::from_secs(570) && d >= Duration::from_millis(541_500));
        }
    }

    #[test]
    fn granted_reads_our_contact_then_expires() {
        let local = Local {
            user: "u1".into(),
            host: "abc.invalid".into(),
            transport: "WS",
        };
        let ok = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bK1\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n\
Contact: <sip:x@other.invalid;transport=ws>;expires=50, <sip:u1@abc.invalid;transport=ws>;expires=300;received=\"sip:127.0.0.1:37468;transport=ws\"\r\n\
Expires: 600\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(ok, &Limits::default()).unwrap();
        let (e, b) = granted(&m, &local, 900);
        assert_eq!(e, 300);
        assert_eq!(
            b,
            [
                "sip:x@other.invalid;transport=ws",
                "sip:u1@abc.invalid;transport=ws"
            ]
        );
        let none = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bK1\r\n\
From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n";
        let m = Message::parse(none, &Limits::default()).unwrap();
        assert_eq!(granted(&m, &local, 900), (900, vec![]));
    }
}
