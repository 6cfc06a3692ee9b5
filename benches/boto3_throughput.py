#!/usr/bin/env python3
"""boto3's side of benches/s3_throughput.rs: upload then download COUNT objects of SIZE bytes
with THREADS threads against an S3 endpoint, and print one JSON line with the timings.

Run by the Rust bench against the same SeaweedFS server, in the same run; it can also be run by
hand:

    python3 benches/boto3_throughput.py --endpoint http://127.0.0.1:8333 --bucket b \
        --prefix bench/ --threads 10 --count 2000 --size 2048

Uploads use boto3's transfer manager (`upload_fileobj`) with the same multipart settings as
Groundwork's S3Store (16 MiB threshold, 8 MiB parts, 4 parts in flight), so small objects are
single PUTs and 20 MiB objects go in parts, as on our side. Downloads are one GetObject each,
read to the end. Every downloaded object is checked against what was uploaded.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import boto3
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
except ImportError as e:  # reported by the Rust side as "boto3 not available"
    print(json.dumps({"error": f"boto3 not available: {e}"}))
    sys.exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--bucket", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID", ""))
    p.add_argument("--secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    a = p.parse_args()

    client = boto3.client(
        "s3",
        endpoint_url=a.endpoint,
        region_name="us-east-1",
        aws_access_key_id=a.access_key,
        aws_secret_access_key=a.secret_key,
        config=Config(
            s3={"addressing_style": "path"},
            max_pool_connections=max(a.threads, 10) * 4,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
    transfer = TransferConfig(
        multipart_threshold=16 * 1024 * 1024,
        multipart_chunksize=8 * 1024 * 1024,
        max_concurrency=4,
        use_threads=True,
    )
    payloads = [os.urandom(a.size) for _ in range(min(a.count, 16))]
    digests = [hashlib.sha256(b).digest() for b in payloads]
    keys = [f"{a.prefix}{i:06}" for i in range(a.count)]

    def upload(i):
        client.upload_fileobj(
            io.BytesIO(payloads[i % len(payloads)]), a.bucket, keys[i], Config=transfer
        )

    def download(i):
        body = client.get_object(Bucket=a.bucket, Key=keys[i])["Body"].read()
        if hashlib.sha256(body).digest() != digests[i % len(payloads)]:
            raise RuntimeError(f"{keys[i]}: downloaded bytes differ")

    with ThreadPoolExecutor(max_workers=a.threads) as pool:
        start = time.perf_counter()
        list(pool.map(upload, range(a.count)))
        upload_secs = time.perf_counter() - start
        start = time.perf_counter()
        cpu = time.process_time()
        list(pool.map(download, range(a.count)))
        download_secs = time.perf_counter() - start
        if os.environ.get("GROUNDWORK_BENCH_CPU"):
            print(f"boto3: download CPU {time.process_time() - cpu:.2f} s", file=sys.stderr)

    print(
        json.dumps(
            {
                "boto3": boto3.__version__,
                "upload_secs": upload_secs,
                "download_secs": download_secs,
            }
        )
    )


if __name__ == "__main__":
    main()
