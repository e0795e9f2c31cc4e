#!/usr/bin/env python3
"""Writes the synthetic seed corpus under attest/testdata/fuzz/ (no real evidence is copied).

Run from the repository root: python3 attest/fuzz/make_seeds.py
Seeds are structurally valid skeletons (zero-filled reports, quotes with the type 6 -> 5
certification layout and a throwaway self-signed certificate), DER extension values and JSON.
"""
import os
import struct
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "fuzz")


def write(kind, name, data):
    d = os.path.join(ROOT, kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def snp_report(version, key_info=0, policy=0x30000, fam=0x19, mod=0x01):
    r = bytearray(0x4A0)
    struct.pack_into("<IIQ", r, 0, version, 1, policy)
    struct.pack_into("<I", r, 0x34, 1)
    struct.pack_into("<Q", r, 0x38, 0x0800000000000003)
    struct.pack_into("<I", r, 0x48, key_info)
    struct.pack_into("<Q", r, 0x180, 0x0800000000000003)
    if version >= 3:
        r[0x188:0x18B] = bytes([fam, mod, 1])
    r[0x2A0:0x2A0 + 48] = bytes(range(1, 49))
    r[0x2E8:0x2E8 + 48] = bytes(range(2, 50))
    return bytes(r)


def throwaway_cert_pem():
    with tempfile.TemporaryDirectory() as d:
        key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-subj", "/CN=igvmkit fuzz seed", "-days", "1"],
                       check=True, capture_output=True)
        return open(crt, "rb").read()


def der(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    if n < 0x100:
        return bytes([tag, 0x81, n]) + body
    return bytes([tag, 0x82, n >> 8, n & 0xFF]) + body


def oid(text):
    arcs = [int(a) for a in text.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(enc))
    return der(0x06, bytes(out))


def tdx_quote(version, pem):
    hdr = struct.pack("<HHIHH", version, 2, 0x81, 0, 0) + bytes.fromhex(
        "939a7233f79c4ca9940a0db3957f0607") + bytes(20)
    if version == 5:
        body = struct.pack("<HI", 3, 648) + bytes(648)
    else:
        body = bytes(584)
    auth = bytes(32)
    cert = bytes(384) + bytes(64) + struct.pack("<H", len(auth)) + auth + struct.pack(
        "<HI", 5, len(pem)) + pem
    sd = bytes(64) + bytes(range(64)) + struct.pack("<HI", 6, len(cert)) + cert
    return hdr + body + struct.pack("<I", len(sd)) + sd


def json_str(text):
    import json
    return json.dumps(text)


def hcl_report(claims, hash_type=1, version=1, pad_to=2600):
    """An Azure HCL wrapper (attest-format.md §1) whose REPORT_DATA binds `claims`."""
    import hashlib
    digest = {1: hashlib.sha256, 2: hashlib.sha384, 3: hashlib.sha512}[hash_type](claims).digest()
    report = bytearray(snp_report(2))
    report[0x50:0x50 + len(digest)] = digest
    data = struct.pack("<IIIII", 20 + len(claims), 1, 2, hash_type, len(claims)) + claims
    header = b"HCLA" + struct.pack("<IIII", version, 0x4C0 + len(data), 2, 0) + bytes(12)
    out = header + bytes(report) + data
    return out + bytes(max(0, pad_to - len(out)))


def event_log(events, algs=((0x000C, 48),), fill=b"\xff" * 64):
    """A TCG2 crypto-agile log: the Spec ID event, then (mr_index, type, data) events whose
    digests are SHA-384 of their data (other banks zero)."""
    import hashlib
    spec = b"Spec ID Event03\x00" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(algs))
    spec += b"".join(struct.pack("<HH", a, n) for a, n in algs) + b"\x00"
    out = struct.pack("<II", 1, 3) + bytes(20) + struct.pack("<I", len(spec)) + spec
    for mr, typ, data in events:
        digests = b"".join(struct.pack("<H", a) + (hashlib.sha384(data).digest() if a == 0x000C else bytes(n))
                           for a, n in algs)
        out += struct.pack("<III", mr, typ, len(algs)) + digests + struct.pack("<I", len(data)) + data
    return out + fill


def ccel_table(laml, cc_type=2):
    t = bytearray(b"CCEL" + struct.pack("<IBB", 56, 1, 0) + b"OEMID " + b"TABLEID " +
                  struct.pack("<III", 1, 0, 1) + struct.pack("<BBHQQ", cc_type, 0, 0, laml, 0x1000))
    t[9] = (-sum(t)) & 0xFF
    return bytes(t)


def main():
    akpub = (b'{"keys":[{"kid":"HCLAkPub","key_ops":["sign"],"kty":"RSA","e":"AQAB","n":"'
             + b"A" * 342 + b'"}],"vm-configuration":{"secure-boot":true},"user-data":"00"}')
    write("hcl_report", "sha256", hcl_report(akpub))
    write("hcl_report", "sha384_v2", hcl_report(akpub, hash_type=2, version=2))
    write("hcl_report", "sha512_unpadded", hcl_report(akpub, hash_type=3, pad_to=0))
    write("hcl_report", "not_json", hcl_report(b"\x00\xff{"))
    write("hcl_report", "duplicate_keys", hcl_report(b'{"keys":[],"keys":[]}'))
    write("hcl_report", "truncated", hcl_report(akpub)[:0x4D0])

    write("snp_report", "v2_vcek", snp_report(2))
    write("snp_report", "v3_milan", snp_report(3))
    write("snp_report", "v5_turin_vlek", snp_report(5, key_info=4, fam=0x1A, mod=0x02))
    write("snp_report", "hex_v3", snp_report(3, mod=0x11).hex().encode())
    write("snp_report", "hcl", hcl_report(b'{"keys":[]}'))
    write("snp_report", "short", b"\x02\x00\x00\x00")

    pem = throwaway_cert_pem()
    write("tdx_quote", "v4", tdx_quote(4, pem))
    write("tdx_quote", "v5", tdx_quote(5, pem + b"\x00\x00"))
    write("tdx_quote", "v4_truncated", tdx_quote(4, pem)[:700])

    var = (bytes(range(16)) + struct.pack("<QQ", 4, 1) + "Boot".encode("utf-16-le") + b"\x01")
    grub = [(4, 0xD, b"grub_cmd: linux /vmlinuz console=ttyS0\x00"), (4, 0xD, b"/vmlinuz\x00"),
            (4, 0xD, b"kernel_cmdline: /vmlinuz console=ttyS0\x00"),
            (4, 0xD, b"grub_cmd: initrd /initrd.img\x00"), (4, 0xD, b"/initrd.img\x00")]
    tagged = struct.pack("<II", 0x8F3B22EC, 13) + b"Linux initrd\x00"
    firmware = [(1, 0x80000001, var), (1, 0x4, bytes(4)), (2, 0x80000007, b"Calling EFI Application"),
                (3, 0x6, tagged), (2, 0x80000003, bytes(24) + struct.pack("<Q", 4) + b"\x7f\xff\x04\x00")]
    write("event_log", "grub", b"\x00" + event_log(firmware + grub))
    write("event_log", "two_banks", b"\x00" + event_log(firmware, algs=((0x0004, 20), (0x000C, 48))))
    log = event_log(firmware + grub, fill=b"\xff" * 256)
    write("event_log", "ccel_table", b"\x01" + ccel_table(len(log) - 100) + log)
    write("event_log", "truncated", b"\x00" + event_log(firmware)[:300])

    sgx = "1.2.840.113741.1.13.1"
    tcb = der(0x30, b"".join(der(0x30, oid(f"{sgx}.2.{i}") + der(0x02, bytes([i]))) for i in range(1, 18))
              + der(0x30, oid(f"{sgx}.2.18") + der(0x04, bytes(16))))
    ext = der(0x30, der(0x30, oid(f"{sgx}.1") + der(0x04, bytes(16)))
              + der(0x30, oid(f"{sgx}.2") + tcb)
              + der(0x30, oid(f"{sgx}.3") + der(0x04, bytes(2)))
              + der(0x30, oid(f"{sgx}.4") + der(0x04, bytes.fromhex("00906e000000")))
              + der(0x30, oid(f"{sgx}.5") + der(0x0A, b"\x00")))
    write("cert_extension", "pck_sgx_extension", b"\x00" + ext)
    amd = b"".join([bytes([0, 3]) + der(0x02, b"\x00"), bytes([1, 7]) + der(0x16, b"Milan"),
                    bytes([2, 3]) + der(0x02, b"\x03"), bytes([3, 4]) + der(0x02, b"\x00\xdb"),
                    bytes([5, 64]) + bytes(range(64)), bytes([6, 9]) + der(0x16, b"CN=x.test")])
    write("cert_extension", "amd_extensions", b"\x01" + amd)
    cert_der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=pem, check=True,
                              capture_output=True).stdout
    write("cert_extension", "certificate", b"\x02" + cert_der)
    write("cert_extension", "json", b"\x03" + b'{"tcbInfo":{"id":"TDX","a":[1,{"b":"\\"}"}]},"signature":"00"}')
    write("cert_extension", "pem", b"\x04" + pem)
    inner = '{"id":"TDX","version":3,"issueDate":"2023-06-18T08:42:58Z","nextUpdate":"2023-12-18T08:42:58Z","fmspc":"00906e000000","tcbLevels":[{"tcb":{"sgxtcbcomponents":[{"svn":1}],"pcesvn":1},"tcbStatus":"UpToDate"}]}'
    write("cert_extension", "pcs_tcb_info", b"\x05" + ('{"tcbInfo":%s,"signature":"%s"}' % (inner, "00" * 64)).encode())
    bundle = ('{"tcb_info":%s,"tcb_info_signature":"%s","tcb_info_issuer_chain":%s,'
              '"qe_identity":"{\\"id\\":\\"TD_QE\\",\\"isvprodid\\":2,\\"tcbLevels\\":[{\\"tcb\\":{\\"isvsvn\\":1}}]}",'
              '"pck_crl":"3000","root_ca_crl":"00"}') % (json_str(inner), "11" * 64, json_str(pem.decode()))
    write("cert_extension", "dcap_bundle", b"\x05" + bundle.encode())


if __name__ == "__main__":
    main()
