"""Drives dc09-spt 0.0.4 (github.com/jvanovost/dc09_spt, a DC-09 dialler by Jacq. van Ovost) for DC09Tests.

  dc09_spt_driver.py frames    one JSON line per frame: {"name", "frame" (hex), "key"?}
  dc09_spt_driver.py answers   reads JSON lines {"sequence", "key"?, "account", "answer" (hex)}; writes for each
                               {"kind": ACK/NAK/DUH, "offset": seconds or null} or {"error": "..."}, as dc09-spt's
                               dc09answer checks an answer (length, CRC, sequence, decryption, receiver's time)

dc09-spt was written for pycrypto, which passes str keys and text to AES; pycryptodome (its maintained
replacement, same `Crypto` package) wants bytes, so AES is wrapped to encode str as Latin-1. Nothing else of
dc09-spt is changed.
"""
import json
import logging
import sys

from Crypto.Cipher import AES as _AES

from dc09_spt.msg import dc03_msg, dc05_msg, dc09_msg


def _bytes(value):
    return value.encode("latin-1") if isinstance(value, str) else value


class _AESForStr:
    MODE_CBC = _AES.MODE_CBC

    @staticmethod
    def new(key, mode, iv):
        cipher = _AES.new(_bytes(key), mode, _bytes(iv))

        class Cipher:
            def encrypt(self, data):
                return cipher.encrypt(_bytes(data))

            def decrypt(self, data):
                return cipher.decrypt(_bytes(data))

        return Cipher()


# The module, not the class of the same name that dc09_spt.msg exports.
sys.modules["dc09_spt.msg.dc09_msg"].AES = _AESForStr
logging.disable(logging.WARNING)  # dc03event warns when a code ignores the zone it was given

KEY_128 = "0123456789ABCDEF"
KEY_256 = "0123456789ABCDEF0123456789abcdef"


def frames():
    plain_sia = dc09_msg("1234", receiver=0x12AB, line=3)
    sia = dc03_msg.dc03event("1234", {"area": "1", "zone": "5", "code": "BA"})
    yield "plain SIA-DCS with receiver and location", plain_sia.dc09block(1, "SIA-DCS", sia + "[X19.94][Y50.06]"), None
    plain_cid = dc09_msg("5678", line=1)
    yield "plain ADM-CID without receiver", plain_cid.dc09block(2, "ADM-CID", dc05_msg.dc05event("5678", {"code": "130", "q": "1", "area": "1", "zone": "15"})), None
    yield "plain NULL", dc09_msg("1234", receiver=0x12AB, line=3).dc09block(3), None
    aes128 = dc09_msg("9ABC", key=KEY_128, receiver=1, line=2)
    yield "AES-128 SIA-DCS", aes128.dc09block(4, "SIA-DCS", dc03_msg.dc03event("9ABC", {"area": "2", "zone": "7", "code": "FA"})), KEY_128
    aes256 = dc09_msg("DEF0", key=KEY_256, line=4)
    yield "AES-256 ADM-CID", aes256.dc09block(5, "ADM-CID", dc05_msg.dc05event("DEF0", {"code": "110", "q": "1", "area": "1", "zone": "3"})), KEY_256
    yield "AES-128 NULL", dc09_msg("9ABC", key=KEY_128, receiver=1, line=2).dc09block(6), KEY_128
    late = dc09_msg("9ABC", key=KEY_128, receiver=1, line=2, offset=-300)
    yield "AES-128 SIA-DCS, clock 5 minutes behind", late.dc09block(7, "SIA-DCS", dc03_msg.dc03event("9ABC", {"zone": "7", "code": "BA"})), KEY_128


def main():
    if sys.argv[1] == "frames":
        for name, frame, key in frames():
            print(json.dumps({"name": name, "frame": frame.encode("latin-1").hex(), "key": key}))
        return
    for line in sys.stdin:
        request = json.loads(line)
        message = dc09_msg(request["account"], key=request.get("key"))
        try:
            kind, offset = message.dc09answer(request["sequence"], bytes.fromhex(request["answer"]).decode("latin-1"))
            print(json.dumps({"kind": kind, "offset": offset}))
        except Exception as error:  # dc09answer raises plain Exceptions for every fault it finds
            print(json.dumps({"error": str(error)}))


main()
