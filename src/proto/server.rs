//! Server side: bytes to [`Request`](crate::Request), [`Response`](crate::Response) to bytes.
//!
//! Used by the mock server (`memclient-mock`) to speak memcached to any client.
