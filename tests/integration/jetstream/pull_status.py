#!/usr/bin/env python3
"""pull_status.py SERVER - what a pull request with max_bytes and
idle_heartbeat gets back (409 Message Size Exceeds MaxBytes, 100 Idle
Heartbeat, 408 Request Timeout with Nats-Pending-*): run it with
/usr/sbin/nats-server and with build/bin/modnats and compare.  A
development tool, like compare_api.py."""
import socket,time,subprocess,tempfile,sys
def port():
    s=socket.socket();s.bind(("127.0.0.1",0));p=s.getsockname()[1];s.close();return p
binary=sys.argv[1]
p=port(); d=tempfile.mkdtemp()
pr=subprocess.Popen([binary,"-a","127.0.0.1","-p",str(p),"-js","-sd",d],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
for _ in range(100):
    try: s=socket.create_connection(("127.0.0.1",p)); break
    except: time.sleep(0.05)
s.recv(4096)
def send(x): s.sendall(x)
send(b'CONNECT {"headers":true,"verbose":false,"protocol":1,"no_responders":true}\r\nSUB r 1\r\nSUB in 2\r\n')
def req(subj, body, reply=b"r"):
    send(b"PUB %s %s %d\r\n%s\r\n"%(subj,reply,len(body),body))
req(b"$JS.API.STREAM.CREATE.S",b'{"name":"S","subjects":["a"]}')
req(b"$JS.API.CONSUMER.CREATE.S.C",b'{"stream_name":"S","config":{"durable_name":"C","name":"C","ack_policy":"explicit"}}')
time.sleep(0.3)
send(b"PUB a 5\r\nhello\r\nPUB a 5\r\nworld\r\n")
time.sleep(0.1)
req(b"$JS.API.CONSUMER.MSG.NEXT.S.C",b'{"batch":5,"expires":1000000000,"idle_heartbeat":300000000,"max_bytes":60}', b"in")
t0=time.time(); out=b''
s.settimeout(0.2)
while time.time()-t0<1.5:
    try: out+=s.recv(65536)
    except socket.timeout: pass
print(out.decode(errors='replace'))
pr.terminate()
