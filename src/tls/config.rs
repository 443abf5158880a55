//! [`TlsConfig`]: whom a TLS connection trusts and who the client is.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use futures_rustls::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::danger::AcceptAnyCertificate;
use crate::{Error, Result, TlsReason};

/// The certificate authorities trusted besides those added to a [`TlsConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Roots {
    /// The operating system's store (rustls-native-certs: on Linux the
    /// `ca-certificates` bundle, `SSL_CERT_FILE` / `SSL_CERT_DIR` when set).
    #[default]
    Platform,
    /// Mozilla's root set, compiled in (webpki-roots): the same everywhere,
    /// updated with the crate rather than the system.
    Bundled,
    /// None: only the certificate authorities added with
    /// [`TlsConfig::add_ca_pem`] and friends (the usual case for a private CA).
    None,
}

/// TLS settings of a connection: trusted roots, extra CAs, a client
/// certificate for mutual TLS, the server name to verify, or a whole
/// `rustls::ClientConfig` of your own.
///
/// Cheap to clone: clones share the settings, and the rustls configuration
/// built from them once (the platform store is read once, not per socket).
///
/// ```
/// # fn demo(ca_pem: &[u8]) -> memclient::Result<()> {
/// use memclient::tls::{Roots, TlsConfig};
///
/// let tls = TlsConfig::new()
///     .roots(Roots::None)
///     .add_ca_pem(ca_pem)?
///     // The certificate names the cluster, not each node's IP address.
///     .server_name("memcached.internal")?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct TlsConfig {
    settings: Arc<Settings>,
}

#[derive(Clone, Default)]
struct Settings {
    roots: Roots,
    extra_roots: Vec<CertificateDer<'static>>,
    identity: Option<Identity>,
    server_name: Option<ServerName<'static>>,
    danger_accept_invalid_certs: bool,
    custom: Option<Arc<ClientConfig>>,
    built: Built,
}

#[derive(Clone)]
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

/// The rustls configuration built from the settings, once. Cloning the
/// settings (to change them) starts without it.
#[derive(Default)]
struct Built(OnceLock<std::result::Result<Arc<ClientConfig>, String>>);

impl Clone for Built {
    fn clone(&self) -> Self {
        Built::default()
    }
}

impl TlsConfig {
    /// Verified TLS trusting the platform's store, without a client certificate.
    pub fn new() -> Self {
        Self::default()
    }

    /// A caller-supplied rustls configuration, used as it is (its roots,
    /// verifier, client certificate, ALPN...). Only
    /// [`server_name`](Self::server_name) still applies.
    pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
        TlsConfig::new().edit(|s| s.custom = Some(config))
    }

    /// Which roots to trust besides the added CAs (the platform's by default).
    pub fn roots(self, roots: Roots) -> Self {
        self.edit(|s| s.roots = roots)
    }

    /// Also trusts the CA certificates in `pem` (one or more `CERTIFICATE` blocks).
    pub fn add_ca_pem(self, pem: impl AsRef<[u8]>) -> Result<Self> {
        let certs = certificates(CertificateDer::pem_slice_iter(pem.as_ref()), "CA PEM")?;
        Ok(self.edit(|s| s.extra_roots.extend(certs)))
    }

    /// Also trusts the CA certificates in the PEM file at `path`.
    pub fn add_ca_pem_file(self, path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let iter = CertificateDer::pem_file_iter(path).map_err(|e| pem_error(path, e))?;
        let certs = certificates(iter, &path.display().to_string())?;
        Ok(self.edit(|s| s.extra_roots.extend(certs)))
    }

    /// Also trusts one CA certificate in DER form.
    pub fn add_ca_der(self, certificate: CertificateDer<'static>) -> Self {
        self.edit(|s| s.extra_roots.push(certificate))
    }

    /// Presents this client certificate (chain, leaf first) and its private key
    /// (PKCS#8, PKCS#1 or SEC1), both PEM, for mutual TLS.
    pub fn client_cert_pem(
        self,
        chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Result<Self> {
        let chain = certificates(
            CertificateDer::pem_slice_iter(chain_pem.as_ref()),
            "client certificate PEM",
        )?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_ref())
            .map_err(|e| illegal(format!("client key PEM: {e}")))?;
        Ok(self.identity(chain, key))
    }

    /// [`client_cert_pem`](Self::client_cert_pem) from two files.
    pub fn client_cert_pem_files(
        self,
        chain_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Result<Self> {
        let (chain_path, key_path) = (chain_path.as_ref(), key_path.as_ref());
        let iter =
            CertificateDer::pem_file_iter(chain_path).map_err(|e| pem_error(chain_path, e))?;
        let chain = certificates(iter, &chain_path.display().to_string())?;
        let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| pem_error(key_path, e))?;
        Ok(self.identity(chain, key))
    }

    fn identity(self, chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Self {
        let key = Arc::new(key);
        self.edit(|s| s.identity = Some(Identity { chain, key }))
    }

    /// The name to send (SNI) and to verify the certificate against, instead
    /// of the host of the address: for a server addressed by IP whose
    /// certificate names a host, or cluster nodes sharing one certificate.
    /// Fails on a string that is neither a DNS name nor an IP address.
    pub fn server_name(self, name: &str) -> Result<Self> {
        let name = ServerName::try_from(name.to_string())
            .map_err(|_| illegal(format!("TLS server name {name:?} is not a DNS name or IP")))?;
        Ok(self.edit(|s| s.server_name = Some(name)))
    }

    /// **Dangerous**: accepts any certificate, so anyone on the network path
    /// can impersonate the server and read every value. For a test server
    /// with a throwaway certificate only; never in production.
    pub fn danger_accept_invalid_certs(self, accept: bool) -> Self {
        self.edit(|s| s.danger_accept_invalid_certs = accept)
    }

    /// The rustls configuration these settings make, built on first use and
    /// kept. Fails when there is nothing to trust or a certificate is unusable.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>> {
        self.build()
            .map_err(|why| illegal(format!("TLS settings: {why}")))
    }

    /// The name to verify for a server at `host`.
    pub(crate) fn name_for(
        &self,
        host: &str,
    ) -> std::result::Result<ServerName<'static>, TlsReason> {
        if let Some(name) = &self.settings.server_name {
            return Ok(name.clone());
        }
        ServerName::try_from(host.to_string()).map_err(|_| {
            TlsReason::Config(format!(
                "host {host:?} is not a DNS name or IP address; set a server name"
            ))
        })
    }

    /// True when a client certificate is configured (or may be, in a
    /// caller-supplied configuration).
    pub(crate) fn has_client_certificate(&self) -> bool {
        let s = &self.settings;
        s.identity.is_some()
            || s.custom
                .as_ref()
                .is_some_and(|c| c.client_auth_cert_resolver.has_certs())
    }

    pub(crate) fn build(&self) -> std::result::Result<Arc<ClientConfig>, String> {
        self.settings
            .built
            .0
            .get_or_init(|| self.settings.make().map(Arc::new))
            .clone()
    }

    fn edit(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        let settings = Arc::make_mut(&mut self.settings);
        change(settings);
        settings.built = Built::default();
        self
    }
}

impl Settings {
    fn make(&self) -> std::result::Result<ClientConfig, String> {
        if let Some(custom) = &self.custom {
            return Ok(ClientConfig::clone(custom));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = if self.danger_accept_invalid_certs {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate { provider }))
        } else {
            builder.with_root_certificates(self.root_store()?)
        };
        match &self.identity {
            None => Ok(builder.with_no_client_auth()),
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(|e| format!("client certificate: {e}")),
        }
    }

    fn root_store(&self) -> std::result::Result<RootCertStore, String> {
        let mut store = RootCertStore::empty();
        match self.roots {
            Roots::Platform => {
                // Unreadable entries of the store are skipped, as browsers do;
                // an empty result is reported below.
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = store.add(cert);
                }
            }
            Roots::Bundled => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Roots::None => {}
        }
        for cert in &self.extra_roots {
            store
                .add(cert.clone())
                .map_err(|e| format!("CA certificate: {e}"))?;
        }
        if store.is_empty() {
            return Err(match self.roots {
                Roots::Platform => "no trusted CA: the platform store is empty (install \
                    ca-certificates, use Roots::Bundled, or add a CA)"
                    .into(),
                _ => "no trusted CA: add one, or use Roots::Platform or Roots::Bundled".into(),
            });
        }
        Ok(store)
    }
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.settings;
        f.debug_struct("TlsConfig")
            .field("roots", &s.roots)
            .field("extra_roots", &s.extra_roots.len())
            .field("client_certificate", &s.identity.is_some())
            .field("server_name", &s.server_name)
            .field(
                "danger_accept_invalid_certs",
                &s.danger_accept_invalid_certs,
            )
            .field("custom", &s.custom.is_some())
            .finish()
    }
}

impl PartialEq for TlsConfig {
    /// The same settings object (a clone of it); settings built separately
    /// are different even when they say the same.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.settings, &other.settings)
    }
}

impl Eq for TlsConfig {}

fn certificates<E: std::fmt::Display>(
    iter: impl Iterator<Item = std::result::Result<CertificateDer<'static>, E>>,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>> {
    let certs = iter
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| illegal(format!("{what}: {e}")))?;
    if certs.is_empty() {
        return Err(illegal(format!("{what}: no CERTIFICATE block")));
    }
    Ok(certs)
}

fn pem_error(path: &Path, error: impl std::fmt::Display) -> Error {
    illegal(format!("{}: {error}", path.display()))
}

fn illegal(message: String) -> Error {
    Error::IllegalInput(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_and_names_are_rejected_before_any_connection() {
        let err = TlsConfig::new().add_ca_pem(b"not a pem").unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
        let err = TlsConfig::new()
            .add_ca_pem_file("/nonexistent/ca.pem")
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        let err = TlsConfig::new().server_name("bad name!").unwrap_err();
        assert!(matches!(err, Error::IllegalInput(_)), "{err}");
        let err = TlsConfig::new().client_cert_pem(b"", b"").unwrap_err();
        assert!(matches!(err, Error::IllegalInput(_)), "{err}");
    }

    #[test]
    fn no_roots_at_all_is_a_settings_error() {
        let err = TlsConfig::new()
            .roots(Roots::None)
            .client_config()
            .unwrap_err();
        assert!(err.to_string().contains("no trusted CA"), "{err}");
        assert!(TlsConfig::new()
            .roots(Roots::Bundled)
            .client_config()
            .is_ok());
        assert!(TlsConfig::new()
            .roots(Roots::None)
            .danger_accept_invalid_certs(true)
            .client_config()
            .is_ok());
    }

    #[test]
    fn clones_share_one_build_and_edits_start_afresh() {
        let tls = TlsConfig::new().roots(Roots::Bundled);
        let clone = tls.clone();
        assert_eq!(tls, clone);
        assert!(Arc::ptr_eq(
            &tls.client_config().unwrap(),
            &clone.client_config().unwrap()
        ));
        let edited = clone.danger_accept_invalid_certs(true);
        assert_ne!(tls, edited);
    }
}
