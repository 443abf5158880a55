//! Certificates made at test time (rcgen): a CA, a server certificate for
//! `localhost` and 127.0.0.1 signed by it, a client certificate signed by it,
//! and a second CA that signed nothing the servers present.

use std::path::PathBuf;
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The test PKI, as PEM text and as files for memcached.
pub struct Pki {
    /// The CA that signed the server and client certificates.
    pub ca_pem: String,
    /// A CA that signed neither: trusting only it must fail.
    pub other_ca_pem: String,
    /// The server's certificate and key, as PEM text (for the mock server).
    pub server_cert_pem: String,
    pub server_key_pem: String,
    /// The same, as files (for memcached's `ssl_chain_cert` and `ssl_key`).
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The CA as a file (for memcached's `ssl_ca_cert` and `add_ca_pem_file`).
    pub ca_file: PathBuf,
    /// A client certificate signed by the CA, and its key.
    pub client_cert_pem: String,
    pub client_key_pem: String,
}

struct Authority {
    cert: Certificate,
    key: KeyPair,
}

fn authority(name: &str) -> Authority {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).expect("CA certificate");
    Authority { cert, key }
}

fn leaf(ca: &Authority, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (String, String) {
    let key = KeyPair::generate().expect("leaf key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, "memclient test");
    params.extended_key_usages = vec![purpose];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params
        .signed_by(&key, &ca.cert, &ca.key)
        .expect("leaf certificate");
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    /// The PKI of this test process, made on first use.
    pub fn shared() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::make)
    }

    fn make() -> Pki {
        let ca = authority("memclient test CA");
        let other = authority("memclient other CA");
        let (server_cert_pem, server_key_pem) = leaf(
            &ca,
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert_pem, client_key_pem) =
            leaf(&ca, &["client.test"], ExtendedKeyUsagePurpose::ClientAuth);
        let dir = super::temp_dir();
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("write a test certificate");
            path
        };
        Pki {
            ca_file: write("ca.pem", &ca.cert.pem()),
            server_cert: write("server.pem", &server_cert_pem),
            server_key: write("server.key", &server_key_pem),
            ca_pem: ca.cert.pem(),
            other_ca_pem: other.cert.pem(),
            server_cert_pem,
            server_key_pem,
            client_cert_pem,
            client_key_pem,
        }
    }
}
