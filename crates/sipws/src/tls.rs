//! TLS settings for `wss://` links (rustls).
//!
//! Certificates are always verified against the bundled web PKI roots plus
//! any CA file the application adds. Verification can only be turned off by
//! the explicitly named [`TlsConfig::danger_accept_invalid_certs`] setting,
//! meant for test servers with self-signed certificates.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How a `wss://` link checks the server's certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsConfig {
    /// Extra trusted CA certificates (a PEM file), added to the web PKI roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate without verification. Only for test
    /// servers; a link with this set is open to interception.
    pub danger_accept_invalid_certs: bool,
}

/// A TLS setting the driver could not use (local misuse, reported before
/// any connection is attempted).
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The CA file could not be read or holds no PEM certificate.
    CaFile {
        /// The file named in [`TlsConfig::ca_file`].
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    Rustls(rustls::Error),
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsConfigError::CaFile { path, reason } => {
                write!(f, "CA file {}: {reason}", path.display())
            }
            TlsConfigError::Rustls(e) => write!(f, "TLS configuration: {e}"),
        }
    }
}

impl std::error::Error for TlsConfigError {}

impl TlsConfig {
    /// Builds the rustls client configuration (ring crypto provider). Build
    /// it once and share it between links: the root store is the largest
    /// part of a TLS client's memory.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsConfigError::Rustls)?;
        let config = if self.danger_accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            if let Some(path) = &self.ca_file {
                add_ca_file(&mut roots, path)?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        Ok(Arc::new(config))
    }
}

fn add_ca_file(roots: &mut RootCertStore, path: &PathBuf) -> Result<(), TlsConfigError> {
    let err = |reason: String| TlsConfigError::CaFile {
        path: path.clone(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in the file".into()));
    }
    for cert in certs {
        roots.add(cert).map_err(|e| err(e.to_string()))?;
    }
    Ok(())
}

/// The verifier behind `danger_accept_invalid_certs`: checks signatures so
/// the handshake stays well-formed, trusts any certificate.
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
