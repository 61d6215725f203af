#!/usr/bin/env bash
# files_s3_roundtrip.sh: the S3 half of files_roundtrip.sh: Chinook and the type-matrix
# table, from PostgreSQL and from MariaDB, in every format, written to s3:// through the
# SigV4-checking test proxy and read back (from copies fetched straight from s3rver) by the
# independent readers, value by value. The checks are files_roundtrip.sh's own; only the
# target differs (FILES_TARGET_BASE, under a prefix of this run's own). Every format and
# both sources once (FILES_LOADS), not their whole product: files_roundtrip.sh covers that
# on the local store, and the store does not depend on the format or the source.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../lib/s3.sh"
FILES_TARGET_BASE=$(s3_url roundtrip)
FILES_LOADS="pg:csv:gzip my:jsonl:zstd pg:parquet:snappy"
export FILES_TARGET_BASE FILES_LOADS
note "target base s3://$SLUICE_TEST_S3_BUCKET/$S3_RUN/roundtrip"
exec bash "$(dirname "${BASH_SOURCE[0]}")/files_roundtrip.sh"
