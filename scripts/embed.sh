#!/bin/sh
# embed.sh NAME FILE > out.c: a C file defining NAME (FILE's bytes and a
# final NUL) and NAME_len, so defaults ship inside the binary.
set -eu
name=$1
file=$2
echo "/* generated from $file by scripts/embed.sh: do not edit */"
echo "#include <stddef.h>"
echo "const char ${name}[] = {"
od -An -v -tx1 "$file" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
echo "0x00 };"
echo "const size_t ${name}_len = sizeof(${name}) - 1;"
