"""Results in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, Ceph RGW, ...); links are presigned.

``url`` results point straight at the bucket: a presigned GET (SigV4) that expires after the result
lifetime, so results outlive the API node that made them and no node serves result bytes.
SigV4 links live at most 7 days, so ``result_ttl_s`` must not exceed 604800.

Expired objects: the sweep lists the bucket under the prefix and deletes objects older than the
result lifetime (``s3_sweep``). On a bucket with many results prefer a lifecycle rule (expire objects
under the prefix after 1 day or more) and turn the sweep off.

Needs ``pip install restyle[s3]``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

from restyle.storages import BaseStorage, LinkSigner

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as exc:  # pragma: no cover - depends on the environment
    msg = "storage 's3' needs `pip install restyle[s3]`"
    raise ImportError(msg) from exc

log = logging.getLogger("restyle.storages.s3")
MAX_PRESIGN_S = 7 * 24 * 3600
_MISSING = {"NoSuchKey", "404", "NotFound"}


class Storage(BaseStorage):
    name = "s3"
    serves_locally = False  # links go to the bucket, not to restyle's /results route

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "results/",
        endpoint_url: str | None = None,
        presign_endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: Literal["auto", "path", "virtual"] = "auto",
        create_bucket: bool = False,
        sweep_enabled: bool = True,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.sweep_enabled = sweep_enabled
        config = Config(
            s3={"addressing_style": addressing_style},
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        common: dict[str, Any] = {
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "config": config,
        }
        self.client: Any = boto3.client("s3", endpoint_url=endpoint_url, **common)
        presign_at = presign_endpoint_url or endpoint_url
        self.presigner: Any = (
            self.client
            if presign_at == endpoint_url
            else boto3.client("s3", endpoint_url=presign_at, **common)
        )
        if create_bucket:
            self._ensure_bucket(region)

    @classmethod
    def from_settings(cls, settings: Any, signer: LinkSigner | None = None) -> Storage:
        if settings.result_ttl_s > MAX_PRESIGN_S:
            msg = (
                f"storage s3: result_ttl_s is {settings.result_ttl_s}; presigned links live at most "
                f"{MAX_PRESIGN_S} s (7 days)"
            )
            raise ValueError(msg)
        return cls(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            presign_endpoint_url=settings.s3_presign_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            addressing_style=settings.s3_addressing_style,
            create_bucket=settings.s3_create_bucket,
            sweep_enabled=settings.s3_sweep,
        )

    def _ensure_bucket(self, region: str) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
            log.info("created bucket %s", self.bucket)
        except ClientError as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
            CacheControl="private, max-age=3600",
        )

    def get(self, key: str) -> bytes | None:
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise
        body: bytes = obj["Body"].read()
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def url_for(self, key: str, *, ttl_s: int, base_url: str) -> str:
        """A presigned GET link (``base_url`` is not used: the bucket serves it)."""
        if not 1 <= ttl_s <= MAX_PRESIGN_S:
            msg = f"presigned links live 1..{MAX_PRESIGN_S} s, asked for {ttl_s}"
            raise ValueError(msg)
        url: str = self.presigner.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=ttl_s
        )
        return url

    def sweep(self, *, older_than_s: int) -> int:
        if not self.sweep_enabled:
            return 0
        cutoff = time.time() - older_than_s
        removed = 0
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            old = [
                {"Key": o["Key"]} for o in page.get("Contents", []) if o["LastModified"].timestamp() < cutoff
            ]
            for i in range(0, len(old), 1000):
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": old[i : i + 1000], "Quiet": True}
                )
                removed += len(old[i : i + 1000])
        return removed

    def ready(self) -> None:
        """Raise if the bucket cannot be reached (readiness probe)."""
        self.client.head_bucket(Bucket=self.bucket)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
