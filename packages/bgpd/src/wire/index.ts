// The codec's public surface: pure functions over bytes, no I/O.

export {
  ErrorCode, HeaderSubcode, OpenSubcode, UpdateSubcode, CeaseSubcode, RouteRefreshSubcode, CODE_NAMES, SUBCODE_NAMES,
  WireError, notificationName, stronger, type ErrorAction,
} from './errors.js';
export { Reader } from './reader.js';
export { Writer } from './writer.js';
export { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MAX_EXTENDED_LENGTH, MessageType, MESSAGE_TYPE_NAMES, checkHeader, type MessageTypeCode } from './header.js';
export { Framer, type Frame } from './framer.js';
export { type CodecContext, type DecodeContext, type EncodeContext, type PerFamily, maxUpdateLength } from './context.js';
export { AS_TRANS } from './asn.js';
export { formatAddress, parseAddress, formatIPv4, formatIPv6, parseIPv4, parseIPv6, idToString, idFromString } from './address.js';
export {
  AFI, SAFI, CapabilityCode, CAPABILITY_NAMES, decodeCapability, encodeCapability,
  type Capability, type Family, type AddPathFamily, type GracefulRestartFamily,
} from './capabilities.js';
export { BGP_VERSION, OptionalParameter, decodeOpen, encodeOpen, type OpenMessage, type OpenFields } from './open.js';
export { KEEPALIVE, encodeKeepalive, decodeKeepalive, type KeepaliveMessage } from './keepalive.js';
export { decodeNotification, encodeNotification, shutdownData, MAX_SHUTDOWN_TEXT, type NotificationMessage } from './notification.js';
export { decodeRouteRefresh, encodeRouteRefresh, RouteRefreshSubtype, type RouteRefreshMessage } from './route-refresh.js';
export { PATH_ID_LENGTH, invalidNetwork, prefixFamily, prefixSize, readPrefix, readPrefixes, writePrefix, type Prefix } from './nlri.js';
export {
  AttrType, Flag, SegmentType, ATTRIBUTE_RULES, attributeName, asPathLength, mergeAs4Path, decodeAttributeList, encodeAttributes,
  type Aggregator, type AsPathSegment, type AttributeRule, type DecodedAttributes, type MpReach, type MpUnreach,
  type OriginValue, type PathAttributes, type UnknownAttribute,
} from './attributes.js';
export { decodeUpdate, encodeUpdate, encodeEndOfRib, endOfRibFamily, type DecodedUpdate, type UpdateMessage } from './update.js';
export { validateUpdate, type UpdateVerdict, type ValidateOptions } from './validate.js';
export { buildUpdates, type Announcement, type BuildContext } from './update-builder.js';
export { decodeMessage, encodeMessage, type BgpMessage, type DecodedMessage, type MessageName } from './messages.js';
