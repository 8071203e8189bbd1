//! Who the user agent is and how it registers: address of record, display
//! name, digest credentials, registrar, RFC 5626 instance id, expiry and
//! refresh policy.

use core::fmt;
use core::time::Duration;

use crate::auth::{Credentials, DigestOptions};
use crate::message::Uri;
use crate::txn::TxnConfig;

/// The identity and registration policy of a [`super::UserAgent`].
#[derive(Clone, PartialEq, Eq)]
pub struct UaConfig {
    /// The address of record, e.g. `sip:alice@example.test` (From of every
    /// request, To of REGISTER).
    pub aor: String,
    /// Display name for From (none when `None`).
    pub display_name: Option<String>,
    /// Digest credentials (auth user name and password); `None` answers
    /// no challenge.
    pub credentials: Option<Credentials>,
    /// Digest policy (refuse MD5, require qop, …).
    pub digest: DigestOptions,
    /// The registrar's URI (Request-URI of REGISTER), e.g.
    /// `sip:example.test`; also the target of the OPTIONS liveness probe.
    pub registrar: String,
    /// RFC 5626 instance id: a UUID (`xxxxxxxx-xxxx-…`), sent as
    /// `+sip.instance="<urn:uuid:…>"` with `reg-id=1`. Keep it stable per
    /// device so a reconnect replaces the binding instead of adding one.
    pub instance_id: String,
    /// Requested registration lifetime (`Expires`), default 600 s.
    pub expires: Duration,
    /// Refresh the registration this long before it expires (default
    /// 30 s); for lifetimes shorter than twice the margin, at half-life.
    pub refresh_margin: Duration,
    /// Up to this fraction (per mille) of the refresh delay is taken off
    /// at random, so many agents do not refresh in lockstep (default 50 =
    /// up to 5 % earlier; 0 = exact).
    pub refresh_jitter_permille: u32,
    /// Transaction settings (T1, T2, T4). The user agent retransmits its
    /// own 2xx, so `retransmit_2xx` is always turned off.
    pub txn: TxnConfig,
    /// `User-Agent` header value (none when `None`).
    pub user_agent: Option<String>,
}

impl fmt::Debug for UaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UaConfig")
            .field("aor", &self.aor)
            .field("display_name", &self.display_name)
            .field("credentials", &self.credentials)
            .field("registrar", &self.registrar)
            .field("instance_id", &self.instance_id)
            .field("expires", &self.expires)
            .field("refresh_margin", &self.refresh_margin)
            .field("refresh_jitter_permille", &self.refresh_jitter_permille)
            .finish_non_exhaustive()
    }
}

/// Why a [`UaConfig`] cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaConfigError {
    /// `aor` is not a SIP/SIPS URI with a user part.
    Aor(String),
    /// `registrar` is not a SIP/SIPS URI.
    Registrar(String),
    /// `instance_id` is not a UUID (8-4-4-4-12 hex digits).
    InstanceId(String),
    /// `expires` is zero or above 2³²−1 s.
    Expires,
    /// A display name with a `"` or a control character.
    DisplayName,
}

impl fmt::Display for UaConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UaConfigError::Aor(a) => {
                write!(f, "address of record {a:?} is not a SIP URI with a user")
            }
            UaConfigError::Registrar(r) => write!(f, "registrar {r:?} is not a SIP URI"),
            UaConfigError::InstanceId(i) => write!(f, "instance id {i:?} is not a UUID"),
            UaConfigError::Expires => f.write_str("expires must be 1 s to 2^32-1 s"),
            UaConfigError::DisplayName => {
                f.write_str("display name with a quote or control character")
            }
        }
    }
}

impl std::error::Error for UaConfigError {}

impl UaConfig {
    /// A configuration with the defaults: `aor`, `registrar`, and the
    /// instance id; no credentials, no display name, 600 s registrations.
    #[must_use]
    pub fn new(
        aor: impl Into<String>,
        registrar: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> UaConfig {
        UaConfig {
            aor: aor.into(),
            display_name: None,
            credentials: None,
            digest: DigestOptions::default(),
            registrar: registrar.into(),
            instance_id: instance_id.into(),
            expires: Duration::from_secs(600),
            refresh_margin: Duration::from_secs(30),
            refresh_jitter_permille: 50,
            txn: TxnConfig::default(),
            user_agent: Some(concat!("sipws/", env!("CARGO_PKG_VERSION")).to_owned()),
        }
    }

    /// Set the digest credentials (auth user name and password).
    #[must_use]
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> UaConfig {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    /// Set the display name.
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> UaConfig {
        self.display_name = Some(name.into());
        self
    }

    /// Check every field.
    pub fn validate(&self) -> Result<(), UaConfigError> {
        match Uri::parse(&self.aor) {
            Ok(u) if u.user.is_some() => {}
            _ => return Err(UaConfigError::Aor(self.aor.clone())),
        }
        if Uri::parse(&self.registrar).is_err() {
            return Err(UaConfigError::Registrar(self.registrar.clone()));
        }
        if !is_uuid(&self.instance_id) {
            return Err(UaConfigError::InstanceId(self.instance_id.clone()));
        }
        let secs = self.expires.as_secs();
        if secs == 0 || secs > u64::from(u32::MAX) {
            return Err(UaConfigError::Expires);
        }
        if let Some(d) = &self.display_name {
            if d.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
                return Err(UaConfigError::DisplayName);
            }
        }
        Ok(())
    }

    /// `"Display" <aor>` or `<aor>` (without tag).
    pub(crate) fn local_identity(&self) -> String {
        match &self.display_name {
            Some(d) => format!("\"{d}\" <{}>", self.aor),
            None => format!("<{}>", self.aor),
        }
    }

    /// The requested lifetime in whole seconds.
    pub(crate) fn expires_secs(&self) -> u32 {
        u32::try_from(self.expires.as_secs()).unwrap_or(u32::MAX)
    }
}

/// 8-4-4-4-12 hex digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A version-4 UUID drawn from `rng` (for drivers that have no stored
/// instance id yet; store it and reuse it across runs).
pub fn random_instance_id(rng: &mut impl crate::link::RandomSource) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x4000;
    let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::XorShift64;

    #[test]
    fn validates_fields() {
        let ok = UaConfig::new(
            "sip:alice@example.test",
            "sip:example.test",
            "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        );
        assert_eq!(ok.validate(), Ok(()));
        let mut bad = ok.clone();
        bad.aor = "sip:example.test".into();
        assert!(matches!(bad.validate(), Err(UaConfigError::Aor(_))));
        let mut bad = ok.clone();
        bad.instance_id = "nope".into();
        assert!(matches!(bad.validate(), Err(UaConfigError::InstanceId(_))));
        let mut bad = ok.clone();
        bad.expires = Duration::ZERO;
        assert_eq!(bad.validate(), Err(UaConfigError::Expires));
        let bad = ok.clone().with_display_name("A \"B\"");
        assert_eq!(bad.validate(), Err(UaConfigError::DisplayName));
        assert_eq!(
            ok.with_display_name("Alice").local_identity(),
            "\"Alice\" <sip:alice@example.test>"
        );
    }

    #[test]
    fn random_instance_ids_are_v4_uuids() {
        let mut rng = XorShift64::new(3);
        let id = random_instance_id(&mut rng);
        assert!(is_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
