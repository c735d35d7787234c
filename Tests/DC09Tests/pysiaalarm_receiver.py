"""Runs pysiaalarm 3.2.2 (github.com/eavanvalkenburg/pysiaalarm, the DC-09 receiver behind Home Assistant's SIA
integration) for DC09Tests: a TCP and a UDP receiver on free ports of 127.0.0.1.

Prints "tcp <port>" and "udp <port>", then a JSON line per event it took, with the fields pysiaalarm read: account,
type, sequence, code (SIA, or Contact ID mapped to SIA), ri, message (what follows a SIA code: its number),
Contact ID's qualifier, type and partition, encrypted, its answer. Runs until killed.

  pysiaalarm_receiver.py ACCOUNT[:KEY] ...
"""
import json
import sys
import threading
import time

from pysiaalarm import CommunicationsProtocol, SIAAccount, SIAClient

lock = threading.Lock()


def on_event(event):
    with lock:
        print(json.dumps({
            "account": event.account, "type": event.message_type.value if event.message_type else None,
            "sequence": event.sequence, "code": event.code, "ri": event.ri, "message": event.message,
            "qualifier": event.event_qualifier, "event_type": event.event_type, "partition": event.partition,
            "encrypted": event.encrypted, "response": event.response.value if event.response else None,
        }), flush=True)


accounts = []
for argument in sys.argv[1:]:
    account, _, key = argument.partition(":")
    accounts.append(SIAAccount(account, key or None))

clients = []
for name, protocol in (("tcp", CommunicationsProtocol.TCP), ("udp", CommunicationsProtocol.UDP)):
    client = SIAClient("127.0.0.1", 0, accounts, on_event, protocol=protocol)
    client.start()
    clients.append(client)
    print(name, client.sia_server.server_address[1], flush=True)

while True:
    time.sleep(1)
