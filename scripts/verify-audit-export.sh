#!/bin/sh
# Checks an export of slawatch's hash chains (`slawatch audit export` or
# GET /api/v1/audit/export) with standard tools only: sed, sha256sum, cut.
# docs/audit.md explains the format and the procedure step by step.
#   scripts/verify-audit-export.sh export.jsonl [HEAD]
# HEAD (optional): a hash kept from an earlier export (its last line); it
# must still be in this one, or the chain was rewritten since.
# Exit 0 and "N records, chain intact", or 1 naming the first bad line.
set -eu
export LC_ALL=C                 # bytes, whatever the records hold
file=${1:?usage: $0 export.jsonl [HEAD]}
anchor=${2:-}
zeros=0000000000000000000000000000000000000000000000000000000000000000

# "seq prev hash record" per line; a line of any other shape is left whole
# and fails the seq check below
sed 's/^{"seq":\([0-9][0-9]*\),"prev":"\([0-9a-f]\{64\}\)","hash":"\([0-9a-f]\{64\}\)","record":\(.*\)}$/\1 \2 \3 \4/' "$file" |
{
    prev=$zeros
    n=0
    found=
    while read -r seq p h rec; do
        case $seq in ''|*[!0-9]*) echo "line $((n + 1)): not an export line"; exit 1 ;; esac
        [ "$seq" = 1 ] && prev=$zeros          # the next chain starts
        if [ "$p" != "$prev" ]; then
            echo "seq $seq: does not follow the record before it (deleted or reordered)"
            exit 1
        fi
        digest=$(printf '%s' "$rec" | sha256sum | cut -c1-64)
        calc=$(printf '%s%s' "$p" "$digest" | sha256sum | cut -c1-64)
        if [ "$calc" != "$h" ]; then
            echo "seq $seq: the record does not give its hash (altered): $rec"
            exit 1
        fi
        [ "$h" = "$anchor" ] && found=1
        prev=$h
        n=$((n + 1))
    done
    if [ -n "$anchor" ] && [ -z "$found" ]; then
        echo "the earlier head $anchor is not in this export: the chain was rewritten"
        exit 1
    fi
    echo "$n records, chain intact"
}
