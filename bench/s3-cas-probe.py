"""Probes whether an S3 server's conditional writes are atomic: N threads each perform K
compare-and-swap increments of one object (GET, then PUT with If-Match on the ETag, retried
on 412). An atomic server ends at N*K. Starts moto's server on a free port.

usage: .tools/venv/bin/python bench/s3-cas-probe.py N K
Measured on the 2-core machine: 30x5 -> 150/150 on an idle machine; three runs of 40x10 at
once, with other load -> 400, 398, 394 of 400: moto loses updates under load.
"""
import sys, threading, boto3, botocore, subprocess, time, socket
s=socket.socket(); s.bind(("127.0.0.1",0)); port=s.getsockname()[1]; s.close()
p=subprocess.Popen([__import__("os").path.join(__import__("os").path.dirname(__import__("sys").executable), "moto_server"),"-H","127.0.0.1","-p",str(port)],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
time.sleep(3)
ep=f"http://127.0.0.1:{port}"
mk=lambda: boto3.client("s3",endpoint_url=ep,aws_access_key_id="t",aws_secret_access_key="t",region_name="us-east-1")
c=mk(); c.create_bucket(Bucket="casbucket"); c.put_object(Bucket="casbucket",Key="k",Body=b"0")
N=int(sys.argv[1]); K=int(sys.argv[2])
def worker():
    cl=mk(); done=0
    while done<K:
        o=cl.get_object(Bucket="casbucket",Key="k"); v=int(o["Body"].read()); e=o["ETag"]
        try:
            cl.put_object(Bucket="casbucket",Key="k",Body=str(v+1).encode(),IfMatch=e); done+=1
        except botocore.exceptions.ClientError as ex:
            pass
ts=[threading.Thread(target=worker) for _ in range(N)]
[t.start() for t in ts]; [t.join() for t in ts]
print("expected",N*K,"got",c.get_object(Bucket="casbucket",Key="k")["Body"].read())
p.kill()
