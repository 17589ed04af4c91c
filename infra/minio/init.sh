#!/bin/sh
# One-shot `minio-init` job (MinIO image, its bundled `mc`), idempotent:
#   * the bucket $S3_BUCKET;
#   * three users, each with one policy from policies/ (${S3_BUCKET} filled in):
#       uploader      UPLOADER_ACCESS_KEY_ID       put into incoming/orders/ only
#       pipelines     AWS_ACCESS_KEY_ID            incoming/, staging/, quarantine/, lake/
#       compute-logs  COMPUTE_LOGS_ACCESS_KEY_ID   compute-logs/ only
#     No policy has an admin:* action, so no user can create users or service accounts.
# The root credentials are used here only, and no credential is ever printed.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_BUCKET:?}"
: "${UPLOADER_ACCESS_KEY_ID:?}" "${UPLOADER_SECRET_ACCESS_KEY:?}"
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}"
: "${COMPUTE_LOGS_ACCESS_KEY_ID:?}" "${COMPUTE_LOGS_SECRET_ACCESS_KEY:?}"
endpoint="${MINIO_ENDPOINT:-http://minio:9000}"
here="$(dirname "$0")"
work="$(mktemp -d)"
export HOME="$work"   # mc keeps its aliases under ~/.mc; the root filesystem is read-only
trap 'rm -rf "$work"' EXIT

mc alias set stack "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc ready stack
mc mb --ignore-existing "stack/${S3_BUCKET}"

# identity NAME ACCESS_KEY SECRET: policy NAME-<bucket> from policies/NAME.json, user, attachment.
identity() {
  name=$1 key=$2 secret=$3
  policy="${name}-${S3_BUCKET}"
  sed "s/\${S3_BUCKET}/${S3_BUCKET}/g" "$here/policies/${name}.json" >"$work/${name}.json"
  mc admin policy create stack "$policy" "$work/${name}.json" >/dev/null
  # `user add` on an existing user just resets its secret to the one in .env.
  mc admin user add stack "$key" "$secret" >/dev/null
  if ! out="$(mc admin policy attach stack "$policy" --user "$key" 2>&1)"; then
    case "$out" in
      *already*) ;;  # attached by an earlier run
      *) echo "minio-init: attaching $policy to the $name user failed: $out" | sed "s/${secret}/***/g" >&2; exit 1 ;;
    esac
  fi
  echo "minio-init: user for $name has policy $policy"
}

identity uploader "$UPLOADER_ACCESS_KEY_ID" "$UPLOADER_SECRET_ACCESS_KEY"
identity pipelines "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
identity compute-logs "$COMPUTE_LOGS_ACCESS_KEY_ID" "$COMPUTE_LOGS_SECRET_ACCESS_KEY"
echo "minio-init: bucket ${S3_BUCKET} ready"
