"""The Python peer of tests/interop_python.rs: reads keys with pymemcache 4.0.

Usage: pymemcache_peer.py HOST PORT < requests

Each request line is "SERDE KEY" where SERDE names the pymemcache serde to
read with: "pickle" (PickleSerde(pickle.HIGHEST_PROTOCOL)), "zlib"
(CompressedSerde(), zlib) or "lz4" (CompressedSerde with lz4.block). Each answer
line is a JSON object {"key": KEY, "python": VALUE} in the convention of
python-values.jsonl: top-level integers as decimal strings, bytes as
{"bytes_b64": ...}, tuples and sets as lists; or {"key": KEY, "error": TEXT}.
"""

import base64
import json
import pickle
import sys

from pymemcache.client.base import Client
from pymemcache.serde import CompressedSerde, PickleSerde


def serde(name):
    if name == "pickle":
        return PickleSerde(pickle.HIGHEST_PROTOCOL)
    if name == "zlib":
        return CompressedSerde()
    if name == "lz4":
        import lz4.block

        return CompressedSerde(compress=lz4.block.compress, decompress=lz4.block.decompress)
    raise ValueError(name)


def convert(value, top):
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return str(value) if top or abs(value) >= 2**63 else value
    if isinstance(value, (bytes, bytearray)):
        return {"bytes_b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return [convert(item, False) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((convert(item, False) for item in value), key=repr)
    if isinstance(value, dict):
        return {str(k): convert(v, False) for k, v in value.items()}
    raise TypeError(f"not plain data: {type(value)!r}")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    clients = {}
    for line in sys.stdin:
        name, key = line.rstrip("\n").split(" ", 1)
        if name not in clients:
            clients[name] = Client((host, port), serde=serde(name))
        try:
            value = clients[name].get(key)
            answer = {"key": key, "python": convert(value, True), "type": type(value).__name__}
        except Exception as err:  # reported to the Rust test, which fails on it
            answer = {"key": key, "error": f"{type(err).__name__}: {err}"}
        print(json.dumps(answer, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
