#!/usr/bin/env python3
"""Writes the seed corpus of the raida_sim_request target (corpus/raida_sim_request/seed-*):
one well-formed request per command, for the coins the target's simulator holds, and the
protocol sheet's type-1 detect request.

Run from anywhere: python3 fuzz/make-raida-sim-seeds.py. Uses only the standard library.
"""
import hashlib
import pathlib
import struct
import zlib

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "raida_sim_request"
CHALLENGE = bytes([0x11] * 12) + struct.pack(">I", zlib.crc32(bytes([0x11] * 12)))


def seed_an(dn, sn):
    text = "%04x%02x%04x%02x" % (0x4567, dn & 0xFFFFFFFF if dn < 0 else dn, sn // 1024, sn % 1024)
    return hashlib.md5(text.encode()).digest()


def c5(dn, sn):
    return struct.pack(">bI", dn, sn)


def c21(dn, sn, an):
    return c5(dn, sn) + an


def request(group, command, payload, nonce=bytes(8)):
    body = CHALLENGE + payload + b"\x3e\x3e"
    header = bytes([1, 0, 0, 0, group, command]) + struct.pack(">H", 6) + bytes(8)
    header += bytes(6) + struct.pack(">H", len(body)) + nonce
    return header + body


def main():
    an5, an6, an1 = seed_an(1, 5), seed_an(1, 6), seed_an(0, 1)
    pan = bytes(range(16))
    seeds = {
        "echo": request(0, 0, b""),
        "detect": request(1, 10, c21(1, 5, an5) + c21(1, 6, bytes(16))),
        "pown": request(1, 20, c21(1, 5, an5) + pan),
        "ticket": request(2, 40, c21(1, 5, an5) + c21(1, 6, an6)),
        "find": request(2, 60, c21(1, 5, an5) + pan + c21(1, 6, pan) + an6),
        "fix": request(2, 80, c5(1, 5) + pan + b"".join(struct.pack(">I", t) for t in range(25))),
        "make-change": request(9, 90, c21(1, 6, an6) + struct.pack(">I", 40000) + pan * 10),
        "change-sns": request(9, 91, bytes.fromhex("a1b2c3d40101")),
        "break": request(
            9, 92, bytes.fromhex("a1b2c3d4") + c21(0, 1, an1)
            + b"".join(c21(-1, 16000000 + i, pan) for i in range(10))),
        "join": request(
            9, 93, bytes.fromhex("a1b2c3d4") + c21(1, 16000000, pan)
            + b"".join(c21(0, 1 + i, an1) for i in range(10))),
        "detect-type1": bytes.fromhex(
            "01000000010a00060000000000000000010100000007003c0001020304050607"
            "40f11ee678c5f2a9bff92f2c588f293e8e18a6e8dc554ee6ecac2ee524178c7b"
            "9105561efb0522d753142fc8f23748b9301040a36d72b3a3d29b3e3e"),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (OUT / f"seed-{name}").write_bytes(data)


if __name__ == "__main__":
    main()
