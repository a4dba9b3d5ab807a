#!/bin/bash
# The cron approach vpnham's collectors replace (docs/collectors.md §Drop-in for the cron script),
# rebuilt for bench/collectors.ts: run the daemons' CLIs, parse their text with grep/awk, write
# node_exporter's textfile atomically. `loop` is the blog's style (a grep/awk per tunnel and per
# neighbour); `onepass` is the best a shell script can do (one awk per command output).
#   cron-textfile.sh loop|onepass  with SWANCTL, VTYSH (commands), CONNS (file: "conn peer" lines), OUT
set -u
mode=$1
tmp="$OUT.$$"
sas=$("$SWANCTL" --list-sas)
bgp=$("$VTYSH" -c 'show ip bgp summary')

if [ "$mode" = loop ]; then
  : > "$tmp"
  while read -r conn peer; do
    block=$(printf '%s\n' "$sas" | awk -v c="$conn:" '$1 == c {f=1; print; next} /^[^ ]/ {f=0} f')
    if printf '%s\n' "$block" | grep -q ' INSTALLED,'; then status=1; else status=0; fi
    in=$(printf '%s\n' "$block" | grep '^ *in ' | awk '{print $3}')
    out=$(printf '%s\n' "$block" | grep '^ *out ' | awk '{print $3}')
    child=$(printf '%s\n' "$block" | grep ' INSTALLED,' | awk '{print $1}' | tr -d :)
    echo "node_ipsec_peer_status{peer=\"$peer\",name=\"${child:-net}\"} $status" >> "$tmp"
    echo "node_ipsec_peer_bytes_in{peer=\"$peer\",name=\"${child:-net}\"} ${in:-0}" >> "$tmp"
    echo "node_ipsec_peer_bytes_out{peer=\"$peer\",name=\"${child:-net}\"} ${out:-0}" >> "$tmp"
  done < "$CONNS"
  for nb in $(printf '%s\n' "$bgp" | awk '/^Neighbor/ {f=1; next} f && NF >= 10 {print $1}'); do
    line=$(printf '%s\n' "$bgp" | grep "^$nb ")
    state=$(echo "$line" | awk '{print $10}')
    pout=$(echo "$line" | awk '{print $11}')
    if echo "$state" | grep -qE '^[0-9]+$'; then status=1; pin=$state; else status=0; pin=0; fi
    echo "node_bgp_neighbor_status{neighbor=\"$nb\"} $status" >> "$tmp"
    echo "node_bgp_neighbor_prefixes_in{neighbor=\"$nb\"} $pin" >> "$tmp"
    echo "node_bgp_neighbor_prefixes_out{neighbor=\"$nb\"} $pout" >> "$tmp"
  done
else
  {
    printf '%s\n' "$sas" | awk -v conns="$CONNS" '
      BEGIN { while ((getline line < conns) > 0) { split(line, f, " "); peer[f[1]] = f[2]; order[++n] = f[1] } }
      /^[^ ]/ { c = $1; sub(/:$/, "", c) }
      / INSTALLED,/ { up[c] = 1; child[c] = $1; sub(/:$/, "", child[c]) }
      /^ *in / { bin[c] = $3 }
      /^ *out / { bout[c] = $3 }
      END { for (i = 1; i <= n; i++) { c = order[i]; ch = (c in child) ? child[c] : "net"; l = "{peer=\"" peer[c] "\",name=\"" ch "\"}"
        print "node_ipsec_peer_status" l " " (up[c] + 0); print "node_ipsec_peer_bytes_in" l " " (bin[c] + 0); print "node_ipsec_peer_bytes_out" l " " (bout[c] + 0) } }'
    printf '%s\n' "$bgp" | awk '/^Neighbor/ {f=1; next} f && NF >= 10 {
      up = ($10 ~ /^[0-9]+$/); l = "{neighbor=\"" $1 "\"}"
      print "node_bgp_neighbor_status" l " " up; print "node_bgp_neighbor_prefixes_in" l " " (up ? $10 : 0); print "node_bgp_neighbor_prefixes_out" l " " $11 }'
  } > "$tmp"
fi
mv "$tmp" "$OUT"
