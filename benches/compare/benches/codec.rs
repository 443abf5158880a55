//! Micro-benchmarks of memclient's sans-IO codec, in ns per operation:
//! encoding a `get`, encoding a 100-byte `set`, and decoding a 100-key
//! `VALUE ... END` reply. No socket is involved: this is the client's own CPU
//! cost per request, the part of a round trip the codec can change.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use memclient::proto::{encode_request, ResponseDecoder};
use memclient::{Request, Response, Retrieve, RetrieveCommand, Store, StoreCommand};

/// 100 bytes, as in the compare binary.
fn small_value() -> Bytes {
    (0..100).map(|i| b'a' + (i % 26) as u8).collect()
}

fn keys(count: usize) -> Vec<Bytes> {
    (0..count)
        .map(|i| Bytes::from(format!("bench:many:{i}")))
        .collect()
}

fn encode(c: &mut Criterion) {
    let get = Request::Retrieve(Retrieve {
        command: RetrieveCommand::Get,
        keys: keys(1),
    });
    let set = Request::Store(Store {
        command: StoreCommand::Set,
        key: Bytes::from_static(b"bench:key:1"),
        flags: 0,
        exptime: 0,
        value: small_value(),
        noreply: false,
    });
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    // The buffer is reused, as the connection's driver reuses its write buffer.
    let mut out = BytesMut::with_capacity(4096);
    group.bench_function("get", |b| {
        b.iter(|| {
            out.clear();
            encode_request(std::hint::black_box(&get), &mut out);
            std::hint::black_box(out.len())
        })
    });
    group.bench_function("set 100 B", |b| {
        b.iter(|| {
            out.clear();
            encode_request(std::hint::black_box(&set), &mut out);
            std::hint::black_box(out.len())
        })
    });
    group.finish();
}

fn decode(c: &mut Criterion) {
    let keys = keys(100);
    let value = small_value();
    let request = Request::Retrieve(Retrieve {
        command: RetrieveCommand::Get,
        keys: keys.clone(),
    });
    let mut reply = Vec::new();
    for key in &keys {
        reply.extend_from_slice(b"VALUE ");
        reply.extend_from_slice(key);
        reply.extend_from_slice(format!(" 0 {}\r\n", value.len()).as_bytes());
        reply.extend_from_slice(&value);
        reply.extend_from_slice(b"\r\n");
    }
    reply.extend_from_slice(b"END\r\n");

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_many reply, 100 keys of 100 B", |b| {
        b.iter_batched_ref(
            // Filling the read buffer is the socket's work, not the decoder's.
            || (ResponseDecoder::new(), BytesMut::from(&reply[..])),
            |(decoder, buf)| {
                let response = decoder.decode(&request, buf);
                match response {
                    Ok(Some(Ok(Response::Values(values)))) => {
                        assert_eq!(values.len(), 100);
                        std::hint::black_box(values)
                    }
                    other => panic!("unexpected decode result: {other:?}"),
                }
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(codec, encode, decode);
criterion_main!(codec);
