#!/bin/sh
# One-shot `minio-init` job (MinIO image, its bundled `mc`), idempotent:
#   * the bucket $S3_BUCKET;
#   * a policy `pipelines-<bucket>` allowing only list/get/put/delete in that bucket;
#   * the pipelines' user $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY with that policy.
# The root credentials are used here only, and no credential is ever printed.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_BUCKET:?}"
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
endpoint="${MINIO_ENDPOINT:-http://minio:9000}"
policy="pipelines-${S3_BUCKET}"
policy_file="$(mktemp)"
export MC_CONFIG_DIR="$(mktemp -d)"

mc alias set stack "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc ready stack

mc mb --ignore-existing "stack/${S3_BUCKET}"

cat >"$policy_file" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
     "Resource": ["arn:aws:s3:::${S3_BUCKET}"]},
    {"Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
     "Resource": ["arn:aws:s3:::${S3_BUCKET}/*"]}
  ]
}
JSON

mc admin policy create stack "$policy" "$policy_file" >/dev/null
# `user add` on an existing user just resets its secret to the one in .env.
mc admin user add stack "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >/dev/null
if ! out="$(mc admin policy attach stack "$policy" --user "$AWS_ACCESS_KEY_ID" 2>&1)"; then
  case "$out" in
    *already*) ;;  # attached by an earlier run
    *) echo "$out" | sed "s/${AWS_SECRET_ACCESS_KEY}/***/g" >&2; exit 1 ;;
  esac
fi
rm -rf "$policy_file" "$MC_CONFIG_DIR"
echo "minio-init: bucket ${S3_BUCKET} ready; pipelines user has policy ${policy}"
