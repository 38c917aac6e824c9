#!/usr/bin/env bash
# Seeds the cargo-fuzz corpora: the UDP payloads of every captured packet in testdata/ for the
# wire-format targets, the example and test configs for `config`, control-socket request lines
# for `ctl_request`, the example packets of RFC 2865 §7 for the `radius_*` targets, and
# operation lists for `endpoint`. Existing corpus files are kept. Used by fuzz-smoke.sh and
# fuzz-long.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=fuzz/corpus/seeds
rm -rf "$seeds"
mkdir -p "$seeds"
n=0
for pcap in testdata/*/*.pcap; do
    [ -e "$pcap" ] || continue
    while read -r hex; do
        [ -n "$hex" ] || continue
        n=$((n + 1))
        printf '%s' "$hex" | xxd -r -p >"$seeds/$(basename "$pcap" .pcap)-$n"
    done < <(tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null)
done
echo "fuzz: $n seed inputs from testdata"

# The PPP frames inside the L2TPv2 data messages of the pppd captures (the L2TP header cut off:
# flags, the length if L, tunnel and session ids, Ns and Nr if S, the offset if O), for the
# ppp_* targets; ppp_link gets them as one role octet and (length, frame) pairs.
ppp_seeds=fuzz/corpus/ppp-seeds
link_seeds=fuzz/corpus/ppp-link-seeds
rm -rf "$ppp_seeds" "$link_seeds"
mkdir -p "$ppp_seeds" "$link_seeds"
m=0
for pcap in testdata/pppd/*.pcap; do
    [ -e "$pcap" ] || continue
    stream=""
    while read -r hex; do
        flags=$((16#${hex:0:4}))
        [ $((flags & 0x8000)) = 0 ] || continue
        skip=6
        [ $((flags & 0x4000)) = 0 ] || skip=$((skip + 2))
        [ $((flags & 0x0800)) = 0 ] || skip=$((skip + 4))
        if [ $((flags & 0x0200)) != 0 ]; then
            skip=$((skip + 2 + 16#${hex:$((skip * 2)):4}))
        fi
        frame=${hex:$((skip * 2))}
        m=$((m + 1))
        printf '%s' "$frame" | xxd -r -p >"$ppp_seeds/$(basename "$pcap" .pcap)-$m"
        len=$((${#frame} / 2))
        if [ "$len" -lt 256 ]; then stream="$stream$(printf '%02x' "$len")$frame"; fi
    done < <(tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null)
    for role in 00 01 02 13 32; do
        printf '%s%s' "$role" "$stream" | xxd -r -p >"$link_seeds/$(basename "$pcap" .pcap)-$role"
    done
done
echo "fuzz: $m PPP frames from testdata/pppd"

conf_seeds=fuzz/corpus/conf-seeds
ctl_seeds=fuzz/corpus/ctl-seeds
rm -rf "$conf_seeds" "$ctl_seeds"
mkdir -p "$conf_seeds" "$ctl_seeds"
for f in examples/*.conf l2tp-config/tests/fixtures/*.conf; do
    [ -e "$f" ] && cp "$f" "$conf_seeds/$(basename "$(dirname "$f")")-$(basename "$f")"
done
i=0
for line in '{"version":1,"request":"ShowSystem"}' \
    '{"version":1,"request":{"ShowTunnel":{"tunnel":"t1"}}}' \
    '{"version":1,"request":{"ShowSessions":{"tunnel":7}}}' \
    '{"version":1,"request":"Reload"}' '{"version":1,"request":"Watch"}'; do
    i=$((i + 1))
    printf '%s\n' "$line" >"$ctl_seeds/line-$i"
done

radius_seeds=fuzz/corpus/radius-seeds
rm -rf "$radius_seeds"
mkdir -p "$radius_seeds"
i=0
# RFC 2865 §7.1 and §7.2: Access-Requests (PAP, CHAP) and their Access-Accepts.
while read -r hex; do
    i=$((i + 1))
    printf '%s' "$hex" | xxd -r -p >"$radius_seeds/rfc2865-$i"
done <<'HEX'
010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d93d413ce3196e43f782a0aee0406c0a80110050600000003
0200002686fe220e7624ba2a1005f6bf9b55e0b20606000000010f06000000000e06c0a80103
010100472aee86f08d0d55969ca5978e0d3367a20108666c6f707379031316e97557c316185895f293ff63440772750406c0a80110050600000014060600000002070600000001
0201003815efbc7dab26cfa3dc34d9c03c8601a40606000000020706000000010806fffffffe0a06000000020d06000000010c06000005dc
HEX

# The endpoint target reads operations, not datagrams (fuzz/fuzz_targets/endpoint.rs): a seed
# octet, then e.g. 0a (open a tunnel: from, to, profile), 10 (deliver what is in flight),
# 0b (open a session: node, tunnel, profile), 09 (time passes), 0c/0d (close a session or a
# tunnel). One life cycle per tunnel profile (L2TPv2, L2TPv3 over UDP and IP, the fallback
# probe, secrets, hidden AVPs, idle timeout, a window of one), a simultaneous open and
# decisions left waiting.
endpoint_seeds=fuzz/corpus/endpoint-seeds
rm -rf "$endpoint_seeds"
mkdir -p "$endpoint_seeds"
i=0
for profile in 00 01 02 03 04 05 06 07 0c 0e 13 2d 41 86; do
    i=$((i + 1))
    printf '%02x0a0000%s100b000000100914100c00000000100d000000100920' "$i" "$profile" |
        xxd -r -p >"$endpoint_seeds/cycle-$profile"
done
while read -r name hex; do
    printf '%s' "$hex" | xxd -r -p >"$endpoint_seeds/$name"
done <<'HEX'
simultaneous 070a0000010a010001101010100b0000000b010021101010091810
sessions 080a0000050b000000101010100b0000a51010100c0000000210101010
deferred 090e0004100a000001100e0100101010090e0f0001101010
HEX

for target in $(cd fuzz && cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$target"
    case "$target" in
        config) from=$conf_seeds ;;
        ctl_request) from=$ctl_seeds ;;
        radius_*) from=$radius_seeds ;;
        ppp_frame | ppp_auth) from=$ppp_seeds ;;
        ppp_link) from=$link_seeds ;;
        endpoint) from=$endpoint_seeds ;;
        *) from=$seeds ;;
    esac
    cp -n "$from"/* "fuzz/corpus/$target/" 2>/dev/null || true
done
