//! rustls errors, read as the reasons a user acts on.

use std::io;

use futures_rustls::rustls;
use rustls::{AlertDescription, CertificateError};

use crate::TlsReason;

/// The reason behind an I/O error of a TLS session, if rustls caused it.
/// `expected` is the name the certificate was checked against;
/// `client_certificate` whether one was configured.
pub(super) fn classify(
    error: &io::Error,
    expected: &str,
    client_certificate: bool,
) -> Option<TlsReason> {
    let tls = error.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(why) => certificate(why, expected),
        // Not a TLS record: the server answered in plain text
        // (memcached without -Z replies `ERROR` to a ClientHello).
        rustls::Error::InvalidMessage(_) => TlsReason::NotTls,
        rustls::Error::AlertReceived(alert) => match alert {
            AlertDescription::CertificateRequired => TlsReason::ClientCertificateRequired,
            // TLS 1.2 servers answer a missing certificate with a generic failure.
            AlertDescription::HandshakeFailure if !client_certificate => {
                TlsReason::ClientCertificateRequired
            }
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::AccessDenied
                if client_certificate =>
            {
                TlsReason::ClientCertificateRejected(format!("{alert:?}"))
            }
            other => TlsReason::Other(format!("the server sent the alert {other:?}")),
        },
        other => TlsReason::Other(other.to_string()),
    })
}

fn certificate(why: &CertificateError, expected: &str) -> TlsReason {
    match why {
        CertificateError::UnknownIssuer => TlsReason::UnknownIssuer,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            TlsReason::NameMismatch {
                expected: expected.to_string(),
            }
        }
        other => TlsReason::InvalidCertificate(format!("{other:?}")),
    }
}
