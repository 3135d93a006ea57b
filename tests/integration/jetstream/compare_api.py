#!/usr/bin/env python3
"""compare_api.py - send the same raw JetStream requests to nats-server -js and
to modnats -js and print, request by request, whether the replies are the
same bytes (times, leader names normalised).  A development tool, not a
test (random consumer names differ, and a request nats-server leaves
unanswered shifts the rest):

    python3 tests/integration/jetstream/compare_api.py tests/integration/jetstream/streams.json \
        [--modnats build/bin/modnats] [--nats-server /usr/sbin/nats-server]

Each request file is a JSON list of [subject, headers or null, body].
"""
import argparse
import socket,time,subprocess,sys,os,re,tempfile,json
def port():
    s=socket.socket();s.bind(("127.0.0.1",0));p=s.getsockname()[1];s.close();return p
def run(binary, reqs):
    p=port(); d=tempfile.mkdtemp()
    pr=subprocess.Popen([binary,"-a","127.0.0.1","-p",str(p),"-js","-sd",d],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    for _ in range(100):
        try: s=socket.create_connection(("127.0.0.1",p)); break
        except: time.sleep(0.05)
    f=s.makefile('rb')
    f.readline()
    s.sendall(b'CONNECT {"headers":true,"verbose":false,"protocol":1}\r\nSUB r 1\r\nPING\r\n'); f.readline()
    out=[]
    for subj,hdr,body in reqs:
        body=body.encode()
        if hdr:
            h=("NATS/1.0\r\n"+"".join(f"{k}: {v}\r\n" for k,v in hdr)+"\r\n").encode()
            s.sendall(b"HPUB %s r %d %d\r\n%s%s\r\n"%(subj.encode(),len(h),len(h)+len(body),h,body))
        else:
            s.sendall(b"PUB %s r %d\r\n%s\r\n"%(subj.encode(),len(body),body))
        s.settimeout(2)
        try:
            line=f.readline().decode()
            parts=line.split()
            if parts[0]=="HMSG":
                n=int(parts[-1]); data=f.read(n+2)[:-2].decode(errors='replace')
            else:
                n=int(parts[-1]); data=f.read(n+2)[:-2].decode(errors='replace')
        except Exception as e:
            data="TIMEOUT"
        out.append(data)
    pr.terminate(); pr.wait()
    return out
ap=argparse.ArgumentParser()
ap.add_argument("requests")
ap.add_argument("--modnats", default="build/bin/modnats")
ap.add_argument("--nats-server", default="/usr/sbin/nats-server")
args=ap.parse_args()
reqs=json.load(open(args.requests))
a=run(args.nats_server,reqs); b=run(args.modnats,reqs)
def norm(x):
    x=re.sub(r'"\d{4}-\d\d-\d\dT[^"]*"','"T"',x)
    x=re.sub(r'Nats-Time-Stamp: [^\r]*','Nats-Time-Stamp: T',x)
    x=re.sub(r'"leader":"[^"]*"','"leader":"L"',x)
    return x
for (r,x,y) in zip(reqs,a,b):
    x,y=norm(x),norm(y)
    if x==y: print("SAME ",r[0], x[:150])
    else: print("DIFF ",r[0]); print("  ns:",x); print("  mn:",y)
