// Hand-written messages, one comment per field, shared by the codec tests. Lengths are
// written out by hand too, so a wrong length here fails loudly rather than being fixed up.
import { hex, MARKER } from './hex.js';

/** An OPEN as BIRD 2 sends it: AS 65001, hold 240, id 10.0.0.1. */
export const OPEN_BIRD = hex(`
  ${MARKER}
  0035 01              # length 53, OPEN
  04                   # version 4
  fde9                 # my AS 65001
  00f0                 # hold time 240
  0a000001             # BGP identifier 10.0.0.1
  18                   # optional parameters length 24
  02 16                # parameter type 2 (capabilities), 22 bytes
    01 04 0001 00 01   # multiprotocol IPv4 unicast
    02 00              # route refresh
    06 00              # extended message
    41 04 0000fde9     # 4-octet AS 65001
    46 00              # enhanced route refresh
    40 02 0078         # graceful restart: no flags, restart time 120, no families
`);

/** An OPEN with every capability kind we parse, from a 4-octet AS speaker. */
export const OPEN_FULL = hex(`
  ${MARKER}
  006a 01              # length 106, OPEN
  04                   # version 4
  5ba0                 # my AS: AS_TRANS (23456)
  005a                 # hold time 90
  c0000201             # BGP identifier 192.0.2.1
  4d                   # optional parameters length 77
  02 4b                # capabilities, 75 bytes
    01 04 0001 00 01   # multiprotocol IPv4 unicast
    01 04 0002 00 01   # multiprotocol IPv6 unicast
    02 00              # route refresh
    80 00              # route refresh, pre-standard code 128
    40 0a c12c         # graceful restart: R and N bits, restart time 300
       0001 01 80      #   IPv4 unicast, forwarding state preserved
       0002 01 00      #   IPv6 unicast, not preserved
    41 04 fa56ea01     # 4-octet AS 4200000001
    45 08 0001 01 03   # ADD-PATH: IPv4 unicast send+receive
          0002 01 01   #           IPv6 unicast receive
    49 15 06 6e6f64652d31                  # FQDN: hostname "node-1"
          0d 636c75737465722e6c6f63616c    #       domain "cluster.local"
    05 06 0001 0001 0002                   # extended next hop (not parsed): kept raw
`);

/** RFC 9072: the same capability sent in the extended optional parameters format. */
export const OPEN_EXTENDED_PARAMS = hex(`
  ${MARKER}
  0029 01              # length 41, OPEN
  04 fde9 00b4         # version 4, my AS 65001, hold time 180
  0a000002             # BGP identifier 10.0.0.2
  ff                   # non-extended optional parameters length 255
  ff                   # non-extended parameter type 255: extended format follows
  0009                 # extended optional parameters length 9
  02 0006              # capabilities, 2-octet length 6
    41 04 0000fde9     # 4-octet AS 65001
`);

/** An UPDATE as a 4-octet-AS eBGP peer sends it for two IPv4 prefixes. */
export const UPDATE_V4 = hex(`
  ${MARKER}
  0034 02              # length 52, UPDATE
  0000                 # withdrawn routes length 0
  0014                 # total path attribute length 20
  40 01 01 00          # ORIGIN (well-known), IGP
  40 02 06 02 01 0000fde9   # AS_PATH: AS_SEQUENCE of 1: 65001
  40 03 04 0a000001    # NEXT_HOP 10.0.0.1
  1a 0af40100          # NLRI 10.244.1.0/26
  18 0af402            # NLRI 10.244.2.0/24
`);

/** IPv6 in MP_REACH_NLRI with a global and a link-local next hop, plus optional attributes. */
export const UPDATE_V6 = hex(`
  ${MARKER}
  007f 02              # length 127, UPDATE
  0000                 # withdrawn routes length 0
  0068                 # total path attribute length 104
  80 0e 33             # MP_REACH_NLRI (optional), 51 bytes
    0002 01            #   AFI IPv6, SAFI unicast
    20                 #   next hop length 32
    fd000000000000000000000000000001   # global fd00::1
    fe800000000000000000000000000001   # link-local fe80::1
    00                 #   reserved
    40 fd00001000000000                # fd00:10::/64
    20 20010db8                        # 2001:db8::/32
  40 01 01 00          # ORIGIN IGP
  40 02 0a 02 02 0000fde9 0000fdea     # AS_PATH: AS_SEQUENCE 65001 65002
  80 04 04 00000064    # MULTI_EXIT_DISC 100
  c0 08 08 fde90064 ffffff01           # COMMUNITIES 65001:100, NO_EXPORT
  c0 20 0c 0000fde9 00000001 00000002  # LARGE_COMMUNITY 65001:1:2
`);

/** Two IPv4 withdrawals and nothing else. */
export const UPDATE_WITHDRAW_V4 = hex(`
  ${MARKER}
  001e 02              # length 30, UPDATE
  0007                 # withdrawn routes length 7
  1a 0af40100          # 10.244.1.0/26
  08 0a                # 10.0.0.0/8
  0000                 # total path attribute length 0
`);

/** An IPv6 withdrawal in MP_UNREACH_NLRI. */
export const UPDATE_WITHDRAW_V6 = hex(`
  ${MARKER}
  0026 02              # length 38, UPDATE
  0000                 # withdrawn routes length 0
  000f                 # total path attribute length 15
  80 0f 0c             # MP_UNREACH_NLRI, 12 bytes
    0002 01            #   AFI IPv6, SAFI unicast
    40 fd00001000000000                # fd00:10::/64
`);

/** ADD-PATH negotiated for IPv4 (RFC 7911): every prefix has a 4-byte path identifier. */
export const UPDATE_ADD_PATH = hex(`
  ${MARKER}
  0034 02              # length 52, UPDATE
  0007                 # withdrawn routes length 7
  00000003 10 0a02     # path 3: 10.2.0.0/16
  000e                 # total path attribute length 14
  40 01 01 00          # ORIGIN IGP
  40 02 00             # AS_PATH empty (iBGP)
  40 03 04 0a000001    # NEXT_HOP 10.0.0.1
  00000007 18 0a0100   # path 7: 10.1.0.0/24
`);

/** From a 2-octet peer: AS_TRANS in AS_PATH and AGGREGATOR, the real values in AS4_*. */
export const UPDATE_AS4 = hex(`
  ${MARKER}
  0056 02              # length 86, UPDATE
  0000                 # withdrawn routes length 0
  003b                 # total path attribute length 59
  40 01 01 00          # ORIGIN IGP
  40 02 08 02 03 fde9 5ba0 fdeb        # AS_PATH (2-octet): 65001 23456 65003
  40 03 04 0a000001    # NEXT_HOP 10.0.0.1
  c0 07 06 5ba0 0a000009               # AGGREGATOR (2-octet): AS_TRANS, 10.0.0.9
  c0 11 0e 02 03 0000fde9 fa56ea01 0000fdeb   # AS4_PATH: 65001 4200000001 65003
  c0 12 08 fa56ea01 0a000009           # AS4_AGGREGATOR: 4200000001, 10.0.0.9
  18 0a0900            # NLRI 10.9.0.0/24
`);

/** End-of-RIB for IPv4 unicast: the minimum UPDATE. */
export const EOR_V4 = hex(`${MARKER} 0017 02  0000  0000`);

/** End-of-RIB for IPv6 unicast: only an empty MP_UNREACH_NLRI. */
export const EOR_V6 = hex(`
  ${MARKER}
  001d 02              # length 29, UPDATE
  0000 0006            # no withdrawals, 6 bytes of attributes
  80 0f 03 0002 01     # MP_UNREACH_NLRI: IPv6 unicast, nothing withdrawn
`);

/** Cease / Administrative Shutdown with an RFC 8203 shutdown communication. */
export const NOTIFICATION_SHUTDOWN = hex(`
  ${MARKER}
  0021 03              # length 33, NOTIFICATION
  06 02                # Cease, Administrative Shutdown
  0b 6d61696e74656e616e6365            # 11 bytes: "maintenance"
`);

export const KEEPALIVE_BYTES = hex(`${MARKER} 0013 04`);

/** RFC 7313 Beginning of Route Refresh for IPv6 unicast. */
export const ROUTE_REFRESH_BORR = hex(`
  ${MARKER}
  0017 05              # length 23, ROUTE-REFRESH
  0002 01 01           # AFI IPv6, subtype 1 (BoRR), SAFI unicast
`);

/** Every vector above, for the framing and fuzz tests. */
export const ALL_VECTORS: Record<string, Uint8Array> = {
  OPEN_BIRD, OPEN_FULL, OPEN_EXTENDED_PARAMS, UPDATE_V4, UPDATE_V6, UPDATE_WITHDRAW_V4, UPDATE_WITHDRAW_V6,
  UPDATE_ADD_PATH, UPDATE_AS4, EOR_V4, EOR_V6, NOTIFICATION_SHUTDOWN, KEEPALIVE_BYTES, ROUTE_REFRESH_BORR,
};
